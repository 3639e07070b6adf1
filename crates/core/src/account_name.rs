//! An account's name, checked once: [`AccountName::parse`] is its only constructor, and every
//! path built from a name ([`crate::store::Paths::account`]) takes one, so a name from a flag,
//! `config.toml` or the server never reaches the file system unchecked
//! (`docs/publish.md#the-account-name`).

use std::fmt;

use serde::Serialize;

use crate::text::shown;

/// `^[a-zA-Z0-9_-]{1,64}$`: the seed's rule for an account name, and what makes it safe to join
/// to `S/accounts/` (no `..`, no `/`, no leading `.`, no control character).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AccountName(String);

/// A name [`AccountName::parse`] refuses, as it was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{}` is not a valid account name: use 1 to 64 letters, digits, `_` or `-`.", shown(.0))]
pub struct InvalidName(pub String);

impl AccountName {
    pub fn parse(name: &str) -> Result<AccountName, InvalidName> {
        let valid = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        match valid {
            true => Ok(AccountName(name.to_string())),
            false => Err(InvalidName(name.to_string())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for AccountName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for AccountName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl AsRef<std::path::Path> for AccountName {
    fn as_ref(&self) -> &std::path::Path {
        std::path::Path::new(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_seeds_names_parse() {
        for good in ["a", "ok_name-1", &"x".repeat(64)] {
            assert_eq!(AccountName::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "..",
            "../x",
            ".tmp-1",
            "a b",
            "é",
            "a\n",
            &"x".repeat(65),
        ] {
            assert_eq!(AccountName::parse(bad), Err(InvalidName(bad.to_string())));
        }
    }
}
