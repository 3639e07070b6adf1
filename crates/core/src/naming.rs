//! Account names (SPEC §7 step 4): an explicit name is validated; otherwise the slug of the
//! organization's name, made unique with `-2`, `-3`, …

use unicode_normalization::UnicodeNormalization;

use crate::error::{Error, Result};
use crate::me::{id_order, Me};

const SLUG_MAX: usize = 32;

/// `^[a-zA-Z0-9_-]{1,64}$`.
pub fn validate(name: &str) -> Result<()> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidAccountName {
            name: name.to_string(),
        })
    }
}

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

/// The base name for an account: the slug of the picked project's organization (else the
/// lowest-id organization); `org-<id>` when that slug is empty; `account` without organizations.
pub fn base_name(me: &Me, organization_id: Option<&str>) -> String {
    let org = organization_id
        .and_then(|id| me.organization(id))
        .or_else(|| {
            me.organizations
                .iter()
                .min_by(|a, b| id_order(&a.id).cmp(&id_order(&b.id)))
        });
    match org {
        None => "account".to_string(),
        Some(o) => {
            let s = slug(o.name.as_deref().unwrap_or(""));
            if s.is_empty() {
                slug(&format!("org-{}", o.id))
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
    use crate::me::Organization;

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
    fn base_names() {
        let mut me = Me::default();
        assert_eq!(base_name(&me, None), "account");
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
        assert_eq!(base_name(&me, Some("7")), "org-7");
        assert_eq!(base_name(&me, None), "zeta-labs");
        assert_eq!(base_name(&me, Some("404")), "zeta-labs");
    }

    #[test]
    fn unique_names_and_validation() {
        assert_eq!(unique("a", |_| false), "a");
        assert_eq!(unique("a", |n| n == "a" || n == "a-2"), "a-3");
        assert!(validate("ok_name-1").is_ok());
        for bad in ["", "has space", "dot.name", "../x", &"x".repeat(65)] {
            assert_eq!(
                validate(bad).unwrap_err().code(),
                "INVALID_ACCOUNT_NAME",
                "{bad:?}"
            );
        }
    }
}
