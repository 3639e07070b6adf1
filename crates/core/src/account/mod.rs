//! A published account's life after the login: `mp-token` ([`token`]), `mp-login-status`
//! ([`status`]) and `mp-logout` ([`logout`]).
//!
//! Every command that writes or removes an account holds the account directory's own `flock`,
//! taken with [`store::lock_current_dir`] (the directory still at the path once the lock is
//! held): token refresh, logout, and the publish and resume that created it (their placeholder's
//! lock moves with the rename). Logout takes the accounts root's lock after the account's, as the
//! publish does, so the two orders never cross.

pub mod logout;
pub mod status;
pub mod token;

use std::fs;
use std::path::{Path, PathBuf};

use crate::account_name::AccountName;
use crate::config::Config;
use crate::context::Context;
use crate::endpoints::Endpoints;
use crate::error::{Error, IoContext, Result};
use crate::interrupt::Interrupt;
use crate::meta::MetaFields;
use crate::oauth::{self, ClientCache, Tokens};
use crate::region::Region;
use crate::store;
use crate::text::shown;

/// The account a command is about: `--account` / `MP_ACCOUNT`, else `[active]`; its name
/// checked and its directory built by [`store::Paths::account`].
pub(crate) fn selected(
    ctx: &Context,
    config: &Config,
    account: Option<String>,
) -> Result<(String, PathBuf)> {
    let name = account
        .or_else(|| config.active_account())
        .ok_or_else(|| not_logged_in("no account is named and none is active".into()))?;
    let dir = account_dir(ctx, &name)?;
    Ok((name, dir))
}

/// `S/accounts/<name>` for a command that opens the account: the name checked
/// ([`store::Paths::account`]) and the directory not a symlink (`SYMLINK_REFUSED`): the kit
/// never reads tokens through, or removes, what a link points at.
pub(crate) fn account_dir(ctx: &Context, name: &str) -> Result<PathBuf> {
    let dir = ctx.paths.account(&account_name(name)?);
    store::refuse_symlink(&dir)?;
    Ok(dir)
}

/// The name of an existing account (`--account`, `config.toml`), checked before any path is
/// built from it.
pub(crate) fn account_name(name: &str) -> Result<AccountName> {
    AccountName::parse(name).map_err(|invalid| Error::AccountNameInvalid {
        invalid,
        new: false,
    })
}

/// `NOT_LOGGED_IN` without the account list.
pub(crate) fn not_logged_in(reason: String) -> Error {
    Error::NotLoggedIn {
        reason,
        accounts: None,
    }
}

/// `NOT_LOGGED_IN` for a name `config.toml` does not list, naming the ones it does.
pub(crate) fn no_such_account(config: &Config, name: &str) -> Error {
    not_logged_in(unknown_account(config, name))
}

fn unknown_account(config: &Config, name: &str) -> String {
    let known: Vec<String> = config
        .accounts()
        .into_iter()
        .map(|a| format!("`{}`", shown(&a.name)))
        .collect();
    format!(
        "there is no account `{}` (config.toml lists {})",
        shown(name),
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    )
}

/// Where an account's tokens come from: the region of its config block (else `meta.json`,
/// else us) and the base URL of `meta.json`.
fn endpoints(config: &Config, name: &str, meta: &MetaFields) -> Result<Endpoints> {
    let region = config
        .account_region(name)
        .or(meta.region)
        .unwrap_or(Region::Us);
    Endpoints::new(region, meta.base_url.as_deref())
}

/// [`endpoints`] and the client the tokens belong to: the client id of `meta.json`, else of
/// `S/oauth/client_<region>.json` (what mixpanel-headless refreshes with).
fn client(ctx: &Context, config: &Config, name: &str, dir: &Path) -> Result<(Endpoints, String)> {
    let meta = account_meta(dir);
    let endpoints = endpoints(config, name, &meta)?;
    let client_id = match meta.client_id {
        Some(id) => id,
        None => cached_client_id(ctx, &endpoints)?,
    };
    Ok((endpoints, client_id))
}

/// Whether the account's tokens can be refreshed, and with what: its refresh token, and the
/// client it was issued to at the account's server. The one rule of "refreshable": `mp-token`
/// refreshes with what it returns, `mp-login-status` reports whether it returns.
pub(crate) fn refresh_client(
    ctx: &Context,
    config: &Config,
    name: &str,
    dir: &Path,
    tokens: &Tokens,
) -> Result<(Endpoints, String)> {
    if tokens.refresh_token.is_none() {
        return Err(Error::NoRefreshToken {
            name: name.to_string(),
            expires_at: crate::clock::rfc3339(tokens.expires_at),
            expired: tokens.expires_at <= crate::clock::now(),
        });
    }
    client(ctx, config, name, dir)
}

/// What refreshing needs from the account's `meta.json` (the kit's keys; the seed's and
/// mixpanel-headless's accounts have only the region, or no file): an unreadable one is empty.
fn account_meta(dir: &Path) -> MetaFields {
    let path = dir.join("meta.json");
    match store::read_no_follow(&path, 64 * 1024) {
        Ok(Some(read)) => MetaFields::parse(&path, &read.bytes).unwrap_or_default(),
        _ => MetaFields::default(),
    }
}

/// The client mixpanel-headless refreshes with: `S/oauth/client_<region>.json`.
fn cached_client_id(ctx: &Context, endpoints: &Endpoints) -> Result<String> {
    let path = oauth::client_cache_path(&ctx.paths.storage, endpoints);
    let read = store::read_no_follow(&path, 64 * 1024)?.ok_or_else(|| {
        not_logged_in(format!(
            "no client id: neither meta.json nor `{}`",
            path.display()
        ))
    })?;
    let cache: ClientCache =
        serde_json::from_slice(&read.bytes).map_err(|e| Error::ClientCacheCorrupt {
            path: path.clone(),
            reason: crate::error::json_error_without_values(&e),
        })?;
    Ok(cache.client_id)
}

/// The temp files atomic writes of `tokens.json` left in `dir` (`.tokens.json.tmp-*`).
pub(crate) fn tokens_temps(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    Ok(fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".tokens.json.tmp-"))
        })
        .collect())
}

/// A tokens file that reads whole (a killed write leaves a partial one).
pub(crate) fn is_complete_tokens(path: &Path) -> bool {
    matches!(Tokens::load(path), Ok(Some(_)))
}

/// Whether `next` is the pair a refresh of `current` got: it names `current`'s refresh token
/// as the one it was refreshed with, and it is not an older answer of a server that does not
/// rotate (the same refresh token, an earlier expiry).
fn follows(next: &Tokens, current: &Tokens) -> bool {
    let Some(presented) = &current.refresh_token else {
        return false;
    };
    let same_refresh = next
        .refresh_token
        .as_ref()
        .is_some_and(|r| r.secret() == presented.secret());
    next.refreshed_from.as_deref() == Some(oauth::fingerprint(presented).as_str())
        && (!same_refresh || next.expires_at > current.expires_at)
}

/// Adopts what a killed atomic write of `tokens.json` left in `dir` (the caller holds the
/// directory's lock, so no write of it is in progress): a complete `.tokens.json.tmp-*` whose
/// pair was refreshed from the one in `tokens.json` (or any complete one, when there is no
/// `tokens.json`) replaces it (its rename never ran: it holds
/// the pair the server rotated to, and presenting the old refresh token again would end the
/// whole family). Which pair is newer is read from the files, never from their times: a clock
/// step makes a stale temp look newer. Every other temp file of `tokens.json` is removed.
pub(crate) fn adopt_tokens_temp(interrupt: &Interrupt, dir: &Path) -> Result<()> {
    let tokens = dir.join("tokens.json");
    let temps = tokens_temps(dir).at("cannot read directory", dir)?;
    // No `tokens.json` at all (a placeholder whose first write was killed): any complete
    // temp is the pair.
    let current = match fs::symlink_metadata(&tokens).is_ok() {
        true => Some(Tokens::load(&tokens).ok().flatten()),
        false => None,
    };
    let successor = temps.iter().position(|temp| {
        let next = Tokens::load(temp).ok().flatten();
        match (&current, next) {
            (None, next) => next.is_some(),
            (Some(Some(current)), Some(next)) => follows(&next, current),
            (Some(None), _) | (Some(Some(_)), None) => false,
        }
    });
    for (i, temp) in temps.iter().enumerate() {
        if Some(i) == successor {
            let _durable = interrupt.durable();
            fs::rename(temp, &tokens).at("cannot adopt", temp)?;
            store::sync_dir(dir)?;
        } else {
            store::remove_if_exists(temp)?;
        }
    }
    Ok(())
}
