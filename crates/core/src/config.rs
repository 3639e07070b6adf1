//! `config.toml` (`docs/files.md`), edited with toml_edit so every other table, key and comment of the
//! user's file survives: `[accounts.<name>]` with `type`, `region`, `default_project`, and the
//! new account made active as the seed's `use()` does (`[active] account`, `workspace` dropped).

use std::path::Path;

use toml_edit::{value, DocumentMut, Item, Table};

use crate::account_name::AccountName;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::region::Region;
use crate::store;

pub struct Config {
    doc: DocumentMut,
}

/// One `[accounts.<name>]` block.
#[derive(Debug, Clone)]
pub struct ConfigAccount {
    pub name: String,
    pub kind: Option<String>,
    pub region: Option<String>,
    pub default_project: Option<String>,
}

impl Config {
    /// Reads `path`; a missing file is an empty config, an unparsable one `CONFIG_CORRUPT`.
    pub fn load(path: &Path) -> Result<Config> {
        let corrupt = |reason: String| Error::ConfigCorrupt {
            path: path.to_path_buf(),
            reason,
        };
        let read = match store::read_no_follow(path, 16 * 1024 * 1024) {
            Err(Error::Io { source, .. }) => return Err(corrupt(source.to_string())),
            other => other?,
        };
        let Some(read) = read else {
            return Ok(Config {
                doc: DocumentMut::new(),
            });
        };
        let text = String::from_utf8(read.bytes).map_err(|_| corrupt("not UTF-8".into()))?;
        let doc: DocumentMut = text
            .parse()
            .map_err(|e: toml_edit::TomlError| corrupt(e.message().trim().replace('\n', "; ")))?;
        for key in ["accounts", "active"] {
            if let Some(item) = doc.get(key) {
                if !item.is_table_like() {
                    return Err(corrupt(format!("`{key}` is not a table")));
                }
            }
        }
        Ok(Config { doc })
    }

    pub fn has_account(&self, name: &str) -> bool {
        self.doc.get("accounts").and_then(|a| a.get(name)).is_some()
    }

    /// `[active] account`, when set.
    pub fn active_account(&self) -> Option<String> {
        self.doc
            .get("active")
            .and_then(|a| a.get("account"))
            .and_then(|a| a.as_str())
            .filter(|a| !a.is_empty())
            .map(str::to_string)
    }

    /// Every `[accounts.<name>]`: name, `type`, `region` and `default_project` as written.
    pub fn accounts(&self) -> Vec<ConfigAccount> {
        let Some(table) = self.doc.get("accounts").and_then(|a| a.as_table_like()) else {
            return Vec::new();
        };
        let text = |item: &Item, k: &str| item.get(k).and_then(|v| v.as_str()).map(str::to_string);
        table
            .iter()
            .map(|(name, item)| ConfigAccount {
                name: name.to_string(),
                kind: text(item, "type"),
                region: text(item, "region"),
                default_project: text(item, "default_project"),
            })
            .collect()
    }

    /// Removes `[accounts.<name>]`; an `[active]` on it moves to the first remaining account,
    /// or goes (with its workspace) when none remains.
    pub fn remove_account(&mut self, name: &str) {
        if let Some(accounts) = self
            .doc
            .get_mut("accounts")
            .and_then(|a| a.as_table_like_mut())
        {
            accounts.remove(name);
        }
        if self.active_account().as_deref() != Some(name) {
            return;
        }
        // Never a block whose name is not an account name (one no login wrote).
        let next = self
            .accounts()
            .into_iter()
            .map(|a| a.name)
            .find(|n| AccountName::parse(n).is_ok());
        if let Some(active) = self
            .doc
            .get_mut("active")
            .and_then(|a| a.as_table_like_mut())
        {
            active.remove("workspace");
            match next {
                Some(n) => {
                    active.insert("account", value(n));
                }
                None => {
                    active.remove("account");
                }
            }
        }
        // No account left to be active: no empty `[active]` table either.
        if self
            .doc
            .get("active")
            .and_then(|a| a.as_table_like())
            .is_some_and(|a| a.is_empty())
        {
            self.doc.remove("active");
        }
    }

    /// The `region` of `[accounts.<name>]`, when it is one of us, eu, in.
    pub fn account_region(&self, name: &str) -> Option<Region> {
        let region = self
            .doc
            .get("accounts")?
            .get(name)?
            .get("region")?
            .as_str()?;
        Region::exact(region)
    }

    /// Adds `[accounts.<name>]` and makes it the active account: `[active] account = <name>`
    /// and `[active].workspace` removed (`docs/files.md#published-accounts` step 5).
    pub fn add_active_account(
        &mut self,
        name: &str,
        region: Region,
        default_project: Option<&str>,
    ) {
        let accounts = self
            .doc
            .entry("accounts")
            .or_insert_with(|| {
                let mut t = Table::new();
                t.set_implicit(true);
                Item::Table(t)
            })
            .as_table_like_mut()
            .expect("checked at load");
        let mut account = Table::new();
        account.insert("type", value("oauth_browser"));
        account.insert("region", value(region.as_str()));
        if let Some(p) = default_project {
            account.insert("default_project", value(p));
        }
        accounts.insert(name, Item::Table(account));
        let active = self
            .doc
            .entry("active")
            .or_insert_with(|| Item::Table(Table::new()))
            .as_table_like_mut()
            .expect("checked at load");
        active.insert("account", value(name));
        active.remove("workspace");
    }

    /// Writes the file atomically at 0600, creating its directory at 0700.
    pub fn save(&self, interrupt: &Interrupt, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            store::ensure_user_dir(dir)?;
        }
        store::write_atomic(interrupt, path, self.doc.to_string().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_users_file_and_activates_the_new_account() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        std::fs::write(
            &p,
            "# my settings\ntheme = \"dark\" # keep me\n\n[other]\nx = 1\n\n[active]\naccount = \"old\"\nworkspace = \"7\"\n",
        )
        .unwrap();
        let mut c = Config::load(&p).unwrap();
        c.add_active_account("acme", Region::Eu, Some("42"));
        c.save(&Interrupt::default(), &p).unwrap();
        let mut c = Config::load(&p).unwrap();
        assert!(c.has_account("acme"));
        c.add_active_account("acme-2", Region::Us, None);
        c.save(&Interrupt::default(), &p).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.starts_with("# my settings\ntheme = \"dark\" # keep me\n"),
            "{text}"
        );
        assert!(text.contains("[other]\nx = 1"), "{text}");
        let v: toml_edit::DocumentMut = text.parse().unwrap();
        assert_eq!(
            v["accounts"]["acme"]["type"].as_str(),
            Some("oauth_browser")
        );
        assert_eq!(v["accounts"]["acme"]["region"].as_str(), Some("eu"));
        assert_eq!(
            v["accounts"]["acme"]["default_project"].as_str(),
            Some("42")
        );
        assert!(v["accounts"]["acme-2"].get("default_project").is_none());
        assert_eq!(v["active"]["account"].as_str(), Some("acme-2"));
        assert!(v["active"].get("workspace").is_none(), "{text}");
    }

    #[test]
    fn an_unparsable_file_is_an_error_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        std::fs::write(&p, "[[[ not toml").unwrap();
        assert_eq!(Config::load(&p).err().unwrap().code(), "CONFIG_ERROR");
        std::fs::write(&p, "accounts = 3").unwrap();
        assert_eq!(Config::load(&p).err().unwrap().code(), "CONFIG_ERROR");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "accounts = 3");
    }
}
