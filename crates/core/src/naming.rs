//! Account names (`docs/publish.md#steps`): an explicit name is validated; otherwise the slug of the
//! first organization's name, made unique with `-2`, `-3`, …

use unicode_normalization::UnicodeNormalization;

use crate::me::Me;

const SLUG_MAX: usize = 32;

/// NFKD, ASCII-fold, lowercase, runs of non-`[a-z0-9]` → `-`, trimmed, at most 32 characters.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in text.nfkd().filter(char::is_ascii) {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c);
        } else {
            dash = true;
        }
    }
    out.truncate(SLUG_MAX);
    out.trim_end_matches('-').to_string()
}

/// The seed's `default_account_name` base (`docs/publish.md#the-account-name`): the slug of the **first** organization
/// in `/me` document order; `org-<its key>` when that slug is empty; `account` without any.
pub fn base_name(me: &Me) -> String {
    match me.organizations.first() {
        None => "account".to_string(),
        Some(o) => {
            let s = slug(o.name.as_deref().unwrap_or(""));
            if s.is_empty() {
                format!("org-{}", o.id)
            } else {
                s
            }
        }
    }
}

/// `base`, else `base-2`, `base-3`, … the first for which `taken` is false.
pub fn unique(base: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|candidate| !taken(candidate))
        .expect("some suffix is free")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account_name::AccountName;
    use crate::me::Organization;

    fn is_valid_account_name(name: &str) -> bool {
        AccountName::parse(name).is_ok()
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Acme Corp"), "acme-corp");
        assert_eq!(slug("  Ünïcödé — Straße!! "), "unicode-strae");
        assert_eq!(slug("ＡＢＣ　１２３"), "abc-123");
        assert_eq!(slug("日本"), "");
        assert_eq!(slug("a".repeat(40).as_str()).len(), 32);
        assert_eq!(slug(&format!("{}-x", "a".repeat(31))), "a".repeat(31));
    }

    #[test]
    fn base_names_come_from_the_first_organization_in_document_order() {
        let mut me = Me::default();
        assert_eq!(base_name(&me), "account");
        me.organizations = vec![
            Organization {
                id: "7".into(),
                name: Some("日本".into()),
            },
            Organization {
                id: "3".into(),
                name: Some("Zeta Labs".into()),
            },
        ];
        assert_eq!(base_name(&me), "org-7");
        me.organizations.swap(0, 1);
        assert_eq!(base_name(&me), "zeta-labs");
        assert_eq!(slug("  Café & Sons, Inc.!!  "), "cafe-sons-inc");
    }

    #[test]
    fn unique_names_and_validation() {
        assert_eq!(unique("a", |_| false), "a");
        assert_eq!(unique("a", |n| n == "a" || n == "a-2"), "a-3");
        assert!(is_valid_account_name("ok_name-1"));
        for bad in ["", "has space", "dot.name", "../x", &"x".repeat(65)] {
            assert!(!is_valid_account_name(bad), "{bad:?}");
        }
    }
}
