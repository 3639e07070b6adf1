//! The publish step (`docs/publish.md`): tokens into a placeholder first, then `/me`, the pick, the name,
//! and the rename into `S/accounts/<name>/` with `me.json` and the config block; a failure after
//! the rename rolls it back so the placeholder stays resumable.

use std::fs;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::account_name::AccountName;
use crate::autopick::{self, PickedProject, ProjectPick, Requested};
use crate::clock;
use crate::config::Config;
use crate::context::Context;
use crate::digits;
use crate::endpoints::Endpoints;
use crate::error::{ConfigProblem, Error, IoContext, Result};
use crate::interrupt::{Interrupt, Phase};
use crate::me::{self, Me, MeBody, MeJson};
use crate::meta::MetaFields;
use crate::naming;
use crate::notice::Notice;
use crate::oauth::Tokens;
use crate::region::Region;
use crate::store::{self, Paths};

pub const PLACEHOLDER_PREFIX: &str = ".tmp-";

/// `meta.json` of a placeholder: the seed's keys (`docs/files.md#placeholders`), then the kit's.
#[derive(Debug, Clone, Serialize)]
pub struct Meta {
    pub schema_version: u64,
    pub region: Region,
    /// Unix seconds.
    pub created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
}

/// A placeholder with saved tokens, ready to be published.
#[derive(Debug)]
pub struct Placeholder {
    pub dir: PathBuf,
    pub meta: Meta,
    /// `meta.json` was there: the region is known for sure (`docs/seed.md#where-the-kit-differs`).
    pub region_known: bool,
    /// A directory already renamed to this account name whose `config.toml` block was never
    /// written (a publish killed half-way): resume completes it under its own name.
    pub published_as: Option<String>,
    /// Held while this process works on the directory: a killed process's placeholder is told
    /// from a running one's by whether its lock can be taken.
    _lock: store::DirLock,
}

/// The envelope's `account`.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub name: AccountName,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub region: Region,
    /// Kit extra: where the account lives.
    pub path: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub email: String,
}

/// `{command, label}`, as the seed's `next` entries.
#[derive(Debug, Clone, Serialize)]
pub struct NextStep {
    pub command: String,
    pub label: &'static str,
}

/// What finish and resume print on success (`docs/envelopes.md#the-envelope`).
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub account: Account,
    pub user: Option<User>,
    pub project: Option<PickedProject>,
    pub project_pick: ProjectPick,
    pub next: [NextStep; 2],
    /// Kit extra: what the person should know although the login worked (the envelope lists
    /// them, worded, after the rest).
    #[serde(skip)]
    pub warnings: Vec<Warning>,
}

/// A warning of a login that worked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The server issued no refresh token: the access token, valid until `expires_at`, is all
    /// the account has, and nothing renews it (`docs/oauth.md#the-token-exchange-and-refresh`).
    NoRefreshToken { expires_at: std::time::SystemTime },
}

impl Warning {
    /// The code scripts match on.
    pub fn code(&self) -> &'static str {
        match self {
            Warning::NoRefreshToken { .. } => "NO_REFRESH_TOKEN",
        }
    }
}

fn no_refresh_token(tokens: &Tokens) -> Option<Warning> {
    tokens
        .refresh_token
        .is_none()
        .then_some(Warning::NoRefreshToken {
            expires_at: tokens.expires_at,
        })
}

/// The seed's `_PROJECT_NEXT`, verbatim: the account is used by mixpanel-headless's `mp`.
fn project_next() -> [NextStep; 2] {
    [
        NextStep {
            command: "mp project list".into(),
            label: "See all accessible projects",
        },
        NextStep {
            command: "mp project use <id>".into(),
            label: "Switch to a different project",
        },
    ]
}

/// What the caller of the publish may add to the placeholder's meta.
#[derive(Debug, Default, Clone)]
pub struct PublishOptions {
    pub name: Option<String>,
    pub project: Option<String>,
    pub env_project: Option<String>,
    /// Replaces the base URL saved in `meta.json`.
    pub base_url: Option<String>,
}

/// Step 1, before the code is spent: a new `S/accounts/.tmp-<8 hex>/` (0700) holding
/// `meta.json` (what identifies the login). If this fails, nothing was exchanged (`docs/seed.md#where-the-kit-differs`).
pub fn prepare_placeholder(ctx: &Context, meta: Meta) -> Result<Placeholder> {
    let interrupt = ctx.interrupt;
    let root = ctx.paths.accounts();
    store::ensure_private_dir(&root)?;
    let dir = root.join(format!("{PLACEHOLDER_PREFIX}{}", store::random_hex(4)));
    let created = {
        let _durable = interrupt.durable();
        let created = store::create_private_dir(&dir).and_then(|()| store::lock_dir(&dir));
        if created.is_ok() {
            interrupt.set_phase(Phase::Prepared(dir.clone()));
        }
        created
    };
    let lock = created?;
    if let Err(e) = store::write_json(interrupt, &dir.join("meta.json"), &meta) {
        let _ = fs::remove_dir_all(&dir);
        return Err(e);
    }
    Ok(Placeholder {
        dir,
        meta,
        region_known: true,
        published_as: None,
        _lock: lock,
    })
}

impl Placeholder {
    /// Step 1, once the code is exchanged: `tokens.json` (0600). From here the placeholder is
    /// what `mp-login-resume` publishes.
    pub fn save_tokens(&self, interrupt: &Interrupt, tokens: &Tokens) -> Result<()> {
        let _durable = interrupt.durable();
        tokens.save(interrupt, &self.dir.join("tokens.json"))?;
        interrupt.saved(&self.dir);
        Ok(())
    }

    /// Removes a placeholder that never got tokens (the exchange failed).
    pub fn discard(self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Opens what resume publishes: a `.tmp-` placeholder below `S/accounts/` holding `tokens.json`
/// (the seed's rule), or an account directory there that `config.toml` does not list (a publish
/// killed after its rename). Paths are resolved (`..`, symlinks) before the check; an absent
/// `meta.json` means region `us` (`docs/envelopes.md#error-codes` resume guards).
pub fn open_placeholder(ctx: &Context, path: &Path) -> Result<Placeholder> {
    let (paths, interrupt) = (&ctx.paths, ctx.interrupt);
    let root = resolve(&paths.accounts());
    let dir = resolve(path);
    if !dir.starts_with(&root) || dir == root {
        return Err(Error::PlaceholderOutsideRoot {
            path: path.to_path_buf(),
            root,
        });
    }
    // Inside the root, the directory itself may not be a link (its parents may: `~/.mp` in a
    // dotfiles checkout); rebuilt from its components, a trailing `/` does not make the check
    // follow it.
    store::refuse_symlink(&path.components().collect::<PathBuf>())?;
    let missing = |reason| Error::PlaceholderMissing {
        path: dir.clone(),
        reason,
    };
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !dir.exists() {
        return Err(missing("it does not exist"));
    }
    if dir.parent() != Some(root.as_path()) || !dir.is_dir() {
        return Err(missing(
            "it is not a directory right below the accounts directory",
        ));
    }
    let published_as = if name.starts_with(PLACEHOLDER_PREFIX) {
        None
    } else if AccountName::parse(&name).is_err() {
        return Err(missing(
            "it is neither a placeholder nor an account directory",
        ));
    } else if Config::load(&paths.config)?.has_account(&name) {
        return Err(missing("it is a published account (config.toml lists it)"));
    } else {
        Some(name)
    };
    let lock =
        store::try_lock_dir(&dir)?.ok_or_else(|| Error::PlaceholderBusy { path: dir.clone() })?;
    if !adopt_tokens(interrupt, &dir)? {
        return Err(missing("it holds no tokens.json"));
    }
    let meta_path = dir.join("meta.json");
    let (meta, region_known) = match store::read_no_follow(&meta_path, 64 * 1024)? {
        None => (
            Meta {
                schema_version: 1,
                region: Region::Us,
                created_at: clock::unix_now(),
                base_url: None,
                client_id: None,
                account_name: None,
                project_id: None,
            },
            false,
        ),
        Some(read) => (read_meta(&meta_path, &read.bytes)?, true),
    };
    interrupt.saved(&dir);
    Ok(Placeholder {
        dir,
        meta,
        region_known,
        published_as,
        _lock: lock,
    })
}

/// Whether `dir` holds `tokens.json`, after adopting what a killed write left: a complete
/// `.tokens.json.tmp-*` that follows `tokens.json` (or stands for a missing one) replaces it
/// ([`crate::account::adopt_tokens_temp`]); every other temp file of an atomic write is removed
/// (its target is still whole).
fn adopt_tokens(interrupt: &Interrupt, dir: &Path) -> Result<bool> {
    crate::account::adopt_tokens_temp(interrupt, dir)?;
    let temps: Vec<PathBuf> = fs::read_dir(dir)
        .at("cannot read directory", dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && store::is_temp_file(p))
        .collect();
    for temp in temps {
        store::remove_if_exists(&temp)?;
    }
    Ok(dir.join("tokens.json").is_file())
}

/// Whether `dir` or anything in it changed within the longest inflight lifetime: a login of
/// another program (the seed's `mp login --finish` takes no lock) may still be filling it.
fn recently_touched(dir: &Path) -> bool {
    let horizon = *crate::inflight::TTL_RANGE.end();
    let young = |p: &Path| {
        fs::symlink_metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| clock::now().duration_since(t).ok())
            .is_none_or(|age| age.as_secs() < horizon)
    };
    young(dir)
        || fs::read_dir(dir)
            .map(|rd| rd.flatten().any(|e| young(&e.path())))
            .unwrap_or(true)
}

/// `tokens.json`, or a complete temp file of it, without changing anything.
pub(crate) fn holds_tokens(dir: &Path) -> bool {
    dir.join("tokens.json").is_file()
        || crate::account::tokens_temps(dir)
            .is_ok_and(|temps| temps.iter().any(|t| crate::account::is_complete_tokens(t)))
}

/// What a new login finds below `S/accounts/`: placeholders with tokens, and account
/// directories that `config.toml` does not list, each publishable by `mp-login-resume <dir>`.
/// A placeholder nobody holds, untouched for longer than any login can take, and that never got
/// tokens (its login was killed before the exchange answered) is removed, as is what a killed
/// `mp-logout` left (`.removed-*`); anything a running login holds, or that changed recently
/// (a lockless program may be filling it), is left as it is.
pub fn sweep_and_list_recoverable(ctx: &Context) -> Vec<PathBuf> {
    let (paths, interrupt) = (&ctx.paths, ctx.interrupt);
    let Ok(entries) = fs::read_dir(paths.accounts()) else {
        return Vec::new();
    };
    let config = Config::load(&paths.config).ok();
    let mut found = Vec::new();
    for dir in entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
    {
        let name = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if name.starts_with(crate::account::logout::REMOVED_PREFIX) {
            if let Ok(Some(_lock)) = store::try_lock_dir(&dir) {
                let _durable = interrupt.durable();
                let _ = fs::remove_dir_all(&dir);
            }
            continue;
        }
        let placeholder = name.starts_with(PLACEHOLDER_PREFIX);
        let unlisted = placeholder || config.as_ref().is_some_and(|c| !c.has_account(&name));
        if !unlisted {
            continue;
        }
        let Ok(Some(_lock)) = store::try_lock_dir(&dir) else {
            continue;
        };
        if recently_touched(&dir) {
            if holds_tokens(&dir) {
                found.push(dir);
            }
            continue;
        }
        match adopt_tokens(interrupt, &dir) {
            Ok(true) => found.push(dir),
            Ok(false) if placeholder => {
                let _durable = interrupt.durable();
                let _ = fs::remove_dir_all(&dir);
            }
            _ => {}
        }
    }
    found.sort();
    found
}

/// `meta.json` as the seed reads it: not a JSON object → `OAUTH_PLACEHOLDER_META_CORRUPT`; a
/// `region` other than us, eu or in → `CONFIG_ERROR`; every other key is optional.
fn read_meta(path: &Path, bytes: &[u8]) -> Result<Meta> {
    let fields = MetaFields::parse(path, bytes)?;
    let region = fields.region.ok_or_else(|| Error::Config {
        message: format!(
            "Placeholder {} has an invalid region in meta.json.",
            path.parent().unwrap_or(path).display()
        ),
        problem: ConfigProblem::PlaceholderRegion {
            meta: path.to_path_buf(),
        },
    })?;
    Ok(Meta {
        schema_version: 1,
        region,
        created_at: fields.created_at.unwrap_or(0),
        base_url: fields.base_url,
        client_id: fields.client_id,
        account_name: fields.account_name,
        project_id: fields.project_id,
    })
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

/// A placeholder's `me.json` while it is fresh (`docs/files.md#placeholders`: within 600 s of `cached_at`,
/// or without a numeric `cached_at`); `None` when absent, stale or unreadable.
fn fresh_me(path: &Path) -> Option<MeBody> {
    let body = me::read_file(path).ok()?;
    let now = clock::unix_now_f64();
    match body.cached_at() {
        Some(at) if now - at > me::PLACEHOLDER_CACHE_TTL.as_secs_f64() => None,
        _ => Some(body),
    }
}

/// `GET /me`, the body kept in the placeholder's `me.json` as it arrives. The account's
/// `me.json` is made from that copy, so failing to keep it fails the step here, before any
/// rename, naming the placeholder's file; the tokens stay and resume retries. (The seed, which
/// holds the body in memory, only warns.)
fn fetch_and_keep(
    ctx: &Context,
    endpoints: &Endpoints,
    tokens: &Tokens,
    path: &Path,
) -> Result<MeBody> {
    let mut keep = MeJson::create(ctx.interrupt, path)?;
    let body = me::fetch(ctx, endpoints, &tokens.access_token, Some(&mut keep))?;
    keep.commit()?;
    Ok(body)
}

/// Step 4 of [`publish`]: the account's name. One asked for (`--name`, the one a publish
/// stopped half-way gave the directory, the login's in `meta.json`) must be free; without one,
/// a free one is made from `/me`. Runs under the accounts' lock, on the config read under it.
fn choose_name(
    placeholder: &Placeholder,
    options: &PublishOptions,
    config: &Config,
    paths: &Paths,
    me: &Me,
) -> Result<AccountName> {
    let meta = &placeholder.meta;
    let own = placeholder.published_as.as_deref();
    let name = options
        .name
        .clone()
        .or_else(|| own.map(str::to_string))
        .or_else(|| meta.account_name.clone());
    match name {
        Some(name) => {
            if config.has_account(&name) {
                return Err(Error::AccountExists { name });
            }
            let name = checked_name(&name)?;
            let dir = paths.account(&name);
            if dir.exists() && own != Some(name.as_str()) {
                return Err(Error::Config {
                    message: format!("Final account directory {} already exists.", dir.display()),
                    problem: ConfigProblem::DirectoryExists {
                        name: name.into_string(),
                    },
                });
            }
            Ok(name)
        }
        // A directory not in the config is skipped too (`docs/seed.md#where-the-kit-differs`; the seed fails on it).
        // The fallback `org-<key>` carries the server's organization key: checked like a flag.
        None => {
            let name = naming::unique(&naming::base_name(me), |n| {
                config.has_account(n)
                    || AccountName::parse(n).is_ok_and(|n| paths.account(&n).exists())
            });
            checked_name(&name)
        }
    }
}

/// Step 5 of [`publish`]: the placeholder renamed to the account's directory, then its
/// `me.json` and its config block; on failure the rename is rolled back, so the placeholder
/// stays resumable. The account's directory.
fn move_into_place(
    ctx: &Context,
    placeholder: &Placeholder,
    config: Config,
    name: &AccountName,
    project_id: Option<&str>,
) -> Result<PathBuf> {
    let (progress, interrupt) = (ctx.progress, ctx.interrupt);
    let target = ctx.paths.account(name);
    let durable = interrupt.durable();
    fs::rename(&placeholder.dir, &target).at("cannot publish the account to", &target)?;
    let region = placeholder.meta.region;
    if let Err(e) = finish_publish(ctx, &target, config, name.as_str(), region, project_id) {
        // Roll the rename back; if even that fails, the directory is a half-published
        // account, which resume completes under its own name: say so rather than drop it.
        if let Err(rollback) = fs::rename(&target, &placeholder.dir) {
            progress.notice(&Notice::RollbackFailed {
                target: &target,
                placeholder: &placeholder.dir,
                error: &rollback,
            });
        }
        return Err(e);
    }
    interrupt.set_phase(Phase::Published);
    drop(durable);
    Ok(target)
}

/// Steps 2–5 of `docs/publish.md#steps`, in the seed's order (`docs/files.md#published-accounts`).
pub fn publish(
    ctx: &Context,
    placeholder: &Placeholder,
    options: &PublishOptions,
) -> Result<Published> {
    let (paths, interrupt) = (&ctx.paths, ctx.interrupt);
    let meta = &placeholder.meta;
    let base_url = options.base_url.as_deref().or(meta.base_url.as_deref());
    let endpoints = Endpoints::new(meta.region, base_url)?;
    let tokens_path = placeholder.dir.join("tokens.json");
    let tokens = Tokens::load(&tokens_path)?.ok_or_else(|| Error::PlaceholderMissing {
        path: placeholder.dir.clone(),
        reason: "it holds no tokens.json",
    })?;

    // Step 2: /me, unless a fresh copy is in the placeholder; a fetched body is kept there
    // for a later resume. Either is read as a stream.
    let me_path = placeholder.dir.join("me.json");
    let body = match fresh_me(&me_path) {
        Some(body) => body,
        None => fetch_and_keep(ctx, &endpoints, &tokens, &me_path)?,
    };

    // Step 3: the project, then the seed's region check of an explicit one.
    let requested = options
        .project
        .clone()
        .or_else(|| meta.project_id.clone())
        .map(Requested::Explicit)
        .or_else(|| options.env_project.clone().map(Requested::Env));
    let pick = match autopick::pick(&body.me, meta.region, requested.as_ref()) {
        Err(e @ Error::NeedsRegionSwitch { .. }) => {
            // A placeholder for the wrong region can never be resumed; one whose region is
            // only assumed (no meta.json) is kept (`docs/seed.md#where-the-kit-differs`).
            if placeholder.region_known {
                let _durable = interrupt.durable();
                let _ = fs::remove_dir_all(&placeholder.dir);
                interrupt.set_phase(Phase::CodeSpent);
            }
            return Err(e);
        }
        other => other?,
    };
    autopick::check_region(&body.me, &pick, meta.region)?;

    // Step 4: the name. From here to the config write, other publishers wait: the free name
    // and the config's read–modify–write are decided under one lock.
    let accounts = paths.accounts();
    let _lock = store::lock_dir(&accounts)?;
    store::remove_stale_temps(&paths.config)?;
    let config = Config::load(&paths.config)?;
    let name = choose_name(placeholder, options, &config, paths, &body.me)?;

    // mixpanel-headless refuses the whole config.toml when one `default_project` is not
    // `^\d+$`; the seed fails its publish here, the kit keeps the tokens for a `--project`.
    if let Some(project) = pick
        .project
        .as_ref()
        .filter(|p| !digits::is_project_id(&p.id))
    {
        return Err(Error::Config {
            message: format!(
                "Invalid account fields for '{name}': default_project '{}' should match pattern '^\\d+$'.",
                crate::text::shown(&project.id)
            ),
            problem: ConfigProblem::ProjectIdNotDigits,
        });
    }

    // Step 5: rename, me.json, config; roll the rename back on failure. The view of /me is
    // dropped first: me.json is rewritten from the placeholder's copy, read anew.
    let user = body.me.user_email.clone().map(|email| User { email });
    drop(body);
    let project_id = pick.project.as_ref().map(|p| p.id.as_str());
    let target = move_into_place(ctx, placeholder, config, &name, project_id)?;
    Ok(Published {
        account: Account {
            name,
            kind: "oauth_browser",
            region: meta.region,
            path: target,
        },
        user,
        project: pick.project,
        project_pick: pick.project_pick,
        next: project_next(),
        warnings: no_refresh_token(&tokens).into_iter().collect(),
    })
}

/// Whether `dir` is an account directory `config.toml` lists.
pub fn is_listed(paths: &Paths, dir: &Path) -> bool {
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    dir.parent() == Some(paths.accounts().as_path())
        && Config::load(&paths.config).is_ok_and(|c| c.has_account(&name))
}

/// The success of a publish whose process stopped before it recorded its outcome
/// ([`crate::claim`]): rebuilt from what that publish left in `dir` (its `config.toml` block,
/// `meta.json` and `me.json`), the pick made again from the same `/me`.
pub fn describe(paths: &Paths, dir: &Path) -> Result<Published> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let config = Config::load(&paths.config)?;
    let listed = config.accounts().into_iter().find(|a| a.name == name);
    let listed = listed.filter(|_| dir.parent() == Some(paths.accounts().as_path()));
    let (Some(listed), Ok(account_name)) = (listed, AccountName::parse(&name)) else {
        return Err(Error::PlaceholderMissing {
            path: dir.to_path_buf(),
            reason: "it is not a published account (config.toml does not list it)",
        });
    };
    let meta_path = dir.join("meta.json");
    let meta = match store::read_no_follow(&meta_path, 64 * 1024)? {
        Some(read) => MetaFields::parse(&meta_path, &read.bytes)?,
        None => MetaFields::default(),
    };
    let region = config
        .account_region(&name)
        .or(meta.region)
        .unwrap_or(Region::Us);
    let body = me::read_file(&dir.join("me.json"))?;
    let pick_for = |project: Option<String>| {
        autopick::pick(&body.me, region, project.map(Requested::Explicit).as_ref())
    };
    let mut pick = pick_for(meta.project_id.clone())?;
    let published_project = listed.default_project;
    if pick.project.as_ref().map(|p| &p.id) != published_project.as_ref() {
        // It was published with a project of the environment's, or a flag's.
        pick = pick_for(published_project)?;
    }
    Ok(Published {
        account: Account {
            name: account_name,
            kind: "oauth_browser",
            region,
            path: dir.to_path_buf(),
        },
        user: body.me.user_email.clone().map(|email| User { email }),
        project: pick.project,
        project_pick: pick.project_pick,
        next: project_next(),
        warnings: Tokens::load(&dir.join("tokens.json"))?
            .as_ref()
            .and_then(no_refresh_token)
            .into_iter()
            .collect(),
    })
}

/// The seed's check of the final name, before any path is built from it (`docs/publish.md#the-account-name`).
fn checked_name(name: &str) -> Result<AccountName> {
    AccountName::parse(name).map_err(|_| Error::Config {
        message: format!(
            "Invalid account name '{}': must match `^[a-zA-Z0-9_-]{{1,64}}$`.",
            crate::text::shown(name)
        ),
        problem: ConfigProblem::InvalidName,
    })
}

fn finish_publish(
    ctx: &Context,
    target: &Path,
    mut config: Config,
    name: &str,
    region: Region,
    project_id: Option<&str>,
) -> Result<()> {
    // The account's me.json: the placeholder's, with a new `cached_at` (`docs/files.md#published-accounts`).
    me::rewrite(ctx.interrupt, &target.join("me.json"))?;
    config.add_active_account(name, region, project_id);
    config.save(ctx.interrupt, &ctx.paths.config)?;
    store::sync_dir(target.parent().unwrap_or(target))
}
