//! The publish tail (SPEC §7): tokens into a placeholder first, then `/me`, the pick, the name,
//! and the rename into `S/accounts/<name>/` with `me.json` and the config block; a failure after
//! the rename rolls it back so the placeholder stays resumable.

use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::autopick::{self, ProjectPick, Requested};
use crate::clock;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::http::{Http, Progress};
use crate::me::{self, MeBody};
use crate::naming;
use crate::oauth::Tokens;
use crate::pkce::random_hex;
use crate::region::{Endpoints, Region};
use crate::store;

pub const PLACEHOLDER_PREFIX: &str = ".tmp-";

/// The placeholder holding this process's saved tokens while the tail runs, for the SIGINT
/// envelope's resume hint.
static CURRENT: Mutex<Option<PathBuf>> = Mutex::new(None);

fn set_current(dir: Option<&Path>) {
    *CURRENT.lock().unwrap_or_else(|p| p.into_inner()) = dir.map(Path::to_path_buf);
}

/// The placeholder an interrupt would leave behind, if any.
pub fn current_placeholder() -> Option<PathBuf> {
    CURRENT
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
        .filter(|d| d.join("tokens.json").is_file())
}

/// Where the kit keeps things (SPEC §3).
#[derive(Debug, Clone)]
pub struct Paths {
    /// `S`: `$MP_STORAGE_DIR`, else `~/.mp`.
    pub storage: PathBuf,
    /// `C`: `$MP_CONFIG_PATH`, else `~/.mp/config.toml`.
    pub config: PathBuf,
}

impl Paths {
    pub fn accounts(&self) -> PathBuf {
        self.storage.join("accounts")
    }
}

/// `meta.json` of a placeholder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    pub schema_version: u64,
    pub region: Region,
    pub base_url: String,
    pub client_id: String,
    pub created_at: String,
    pub account_name: Option<String>,
    pub project_id: Option<String>,
}

/// A placeholder with saved tokens, ready for the tail.
#[derive(Debug)]
pub struct Placeholder {
    pub dir: PathBuf,
    pub meta: Meta,
}

/// The account as the envelope shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub name: String,
    pub region: Region,
    pub project_id: Option<String>,
    pub project_name: Option<String>,
    pub organization_id: Option<String>,
    pub organization_name: Option<String>,
    pub user_email: Option<String>,
    pub path: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub account: Account,
    pub project_pick: ProjectPick,
}

/// What the caller of the tail may add to the placeholder's meta.
#[derive(Debug, Default, Clone)]
pub struct TailOptions {
    pub name: Option<String>,
    pub project: Option<String>,
    pub env_project: Option<String>,
    /// Replaces the base URL saved in `meta.json`.
    pub base_url: Option<String>,
}

/// Step 1: a new `S/accounts/.tmp-<8 hex>/` (0700) with `tokens.json` and `meta.json` (0600).
pub fn create_placeholder(paths: &Paths, tokens: &Tokens, meta: Meta) -> Result<Placeholder> {
    let root = paths.accounts();
    store::ensure_private_dir(&root)?;
    let dir = root.join(format!("{PLACEHOLDER_PREFIX}{}", random_hex(4)));
    store::create_private_dir(&dir)?;
    let saved = tokens
        .save(&dir.join("tokens.json"))
        .and_then(|()| store::write_json(&dir.join("meta.json"), &meta));
    if let Err(e) = saved {
        let _ = fs::remove_dir_all(&dir);
        return Err(e);
    }
    set_current(Some(&dir));
    Ok(Placeholder { dir, meta })
}

/// Opens a placeholder for resume: it must resolve (`..` and symlinks) to a `.tmp-` directory
/// below `S/accounts/` and hold `tokens.json`; an absent `meta.json` means region `us`.
pub fn open_placeholder(paths: &Paths, path: &Path) -> Result<Placeholder> {
    let root = resolve(&paths.accounts());
    let dir = resolve(path);
    if !dir.starts_with(&root) || dir == root {
        return Err(Error::PlaceholderOutsideRoot {
            path: path.to_path_buf(),
            root,
        });
    }
    let is_placeholder = dir.parent() == Some(root.as_path())
        && dir
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(PLACEHOLDER_PREFIX));
    if !is_placeholder || !dir.join("tokens.json").is_file() {
        return Err(Error::PlaceholderMissing { path: dir });
    }
    let meta_path = dir.join("meta.json");
    let meta = match store::read_no_follow(&meta_path, 64 * 1024)? {
        None => Meta {
            schema_version: 1,
            region: Region::Us,
            base_url: Region::Us.default_base_url().to_string(),
            client_id: String::new(),
            created_at: clock::rfc3339(clock::now()),
            account_name: None,
            project_id: None,
        },
        Some(read) => {
            serde_json::from_slice(&read.bytes).map_err(|e| Error::PlaceholderMetaCorrupt {
                path: meta_path.clone(),
                reason: crate::error::json_error_without_values(&e),
            })?
        }
    };
    set_current(Some(&dir));
    Ok(Placeholder { dir, meta })
}

/// Absolute, symlinks resolved where the path exists, `..` folded lexically where it does not.
fn resolve(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    if let Ok(real) = fs::canonicalize(&abs) {
        return real;
    }
    // Resolve the longest existing ancestor, then fold the rest lexically.
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => {
                out.push(other);
                if let Ok(real) = fs::canonicalize(&out) {
                    out = real;
                }
            }
        }
    }
    out
}

/// Steps 2–5 of SPEC §7.
pub fn tail(
    http: &Http,
    progress: &dyn Progress,
    paths: &Paths,
    placeholder: &Placeholder,
    options: &TailOptions,
) -> Result<Published> {
    let meta = &placeholder.meta;
    let base_url = options.base_url.as_deref().unwrap_or(&meta.base_url);
    let endpoints = Endpoints::new(meta.region, Some(base_url))?;
    let tokens_path = placeholder.dir.join("tokens.json");
    let tokens = Tokens::load(&tokens_path)?.ok_or_else(|| Error::PlaceholderMissing {
        path: placeholder.dir.clone(),
    })?;

    // Step 2: /me.
    let bytes = me::fetch(http, progress, &endpoints, &tokens.access_token)?;
    let body = me::parse_fetched(&bytes)?;

    // Step 3: the project.
    let requested = options
        .project
        .clone()
        .or_else(|| meta.project_id.clone())
        .map(Requested::Explicit)
        .or_else(|| options.env_project.clone().map(Requested::Env));
    let pick = match autopick::pick(&body.me, meta.region, requested.as_ref()) {
        Err(e @ Error::NeedsRegionSwitch { .. }) => {
            // A placeholder for the wrong region can never be resumed.
            let _ = fs::remove_dir_all(&placeholder.dir);
            return Err(e);
        }
        other => other?,
    };

    // Step 4: the name.
    let config = Config::load(&paths.config)?;
    let accounts = paths.accounts();
    let taken = |n: &str| accounts.join(n).exists() || config.has_account(n);
    let name = match options.name.clone().or_else(|| meta.account_name.clone()) {
        Some(name) => {
            naming::validate(&name)?;
            if taken(&name) {
                return Err(Error::AccountExists { name });
            }
            name
        }
        None => naming::unique(
            &naming::base_name(&body.me, pick.organization_id.as_deref()),
            taken,
        ),
    };

    // Step 5: rename, me.json, config; roll the rename back on failure.
    let target = accounts.join(&name);
    fs::rename(&placeholder.dir, &target)
        .map_err(|e| Error::io("cannot publish the account to", &target, e))?;
    if let Err(e) = finish_publish(&target, &body, config, &name, meta.region, &pick, paths) {
        let _ = store::remove_if_exists(&target.join("me.json"));
        let _ = fs::rename(&target, &placeholder.dir);
        return Err(e);
    }
    set_current(None);
    Ok(Published {
        account: Account {
            name,
            region: meta.region,
            project_id: pick.project_id.clone(),
            project_name: pick.project_name.clone(),
            organization_id: pick.organization_id.clone(),
            organization_name: pick.organization_name.clone(),
            user_email: body.me.user_email.clone(),
            path: target,
        },
        project_pick: pick,
    })
}

fn finish_publish(
    target: &Path,
    body: &MeBody,
    mut config: Config,
    name: &str,
    region: Region,
    pick: &ProjectPick,
    paths: &Paths,
) -> Result<()> {
    body.save(&target.join("me.json"))?;
    config.add_account(name, region, pick.project_id.as_deref());
    config.save(&paths.config)?;
    store::sync_dir(target.parent().unwrap_or(target))
}
