//! `mp-token` (issue 10): the access token of an account, refreshed first when it expires within
//! `min_ttl`. Safe under concurrency: the read → refresh → write runs under a `flock` of the
//! account directory, and a waiter re-reads `tokens.json` after the lock, so N processes on an
//! expiring account make one refresh. Crash-safe: the new pair replaces `tokens.json`
//! atomically, and nothing touches the file before the new pair is in hand.

use std::time::Duration;

use crate::clock;
use crate::config::Config;
use crate::context::Context;
use crate::error::{Error, IoContext, Result};
use crate::oauth::{self, ClientCache, Tokens};
use crate::region::{Endpoints, Region};
use crate::secret::AccessToken;
use crate::store;

pub struct TokenOptions {
    /// `--account`, else `MP_ACCOUNT`; `None`: the `[active]` account.
    pub account: Option<String>,
    pub min_ttl: Duration,
    pub force_refresh: bool,
}

/// The account's access token, valid for at least `min_ttl` (unless forced, not refreshed
/// while it is).
pub fn token(ctx: &Context, opts: &TokenOptions) -> Result<AccessToken> {
    let config = Config::load(&ctx.paths.config)?;
    let name = match opts.account.clone().or_else(|| config.active_account()) {
        Some(name) => name,
        None => {
            return Err(not_logged_in(
                "no account is named and none is active".into(),
            ))
        }
    };
    let dir = ctx.paths.accounts().join(&name);
    if !dir.join("tokens.json").is_file() {
        return Err(not_logged_in(format!("account `{name}` holds no tokens")));
    }
    let _lock = store::lock_dir(&dir)?;
    // Read after the lock: another process may have just refreshed.
    let tokens = Tokens::load(&dir.join("tokens.json"))?
        .ok_or_else(|| not_logged_in(format!("account `{name}` holds no tokens")))?;
    let fresh_until = clock::now() + opts.min_ttl;
    if !opts.force_refresh && tokens.expires_at > fresh_until {
        return Ok(tokens.access_token);
    }
    let (endpoints, client_id) = account_client(ctx, &config, &name)?;
    let refresh_token = tokens.refresh_token.ok_or_else(|| {
        not_logged_in(format!(
            "account `{name}` has no refresh token and its token expires"
        ))
    })?;
    let renewed: Tokens = oauth::refresh(ctx, &endpoints, &client_id, refresh_token)?;
    renewed.save(&dir.join("tokens.json"))?;
    Ok(renewed.access_token)
}

/// Where an account's tokens come from: the region of its config block (else `meta.json`,
/// else us) and the base URL of `meta.json`.
fn account_endpoints(config: &Config, name: &str, meta: &AccountMeta) -> Result<Endpoints> {
    let region = config
        .account_region(name)
        .or(meta.region)
        .unwrap_or(Region::Us);
    Endpoints::new(region, meta.base_url.as_deref())
}

/// [`account_endpoints`] and the client the tokens belong to: the client id of `meta.json`,
/// else of `S/oauth/client_<region>.json` (what mixpanel-headless refreshes with).
fn account_client(ctx: &Context, config: &Config, name: &str) -> Result<(Endpoints, String)> {
    let meta = read_meta(&ctx.paths.accounts().join(name));
    let endpoints = account_endpoints(config, name, &meta)?;
    let client_id = match meta.client_id {
        Some(id) => id,
        None => cached_client_id(ctx, &endpoints)?,
    };
    Ok((endpoints, client_id))
}

fn not_logged_in(reason: String) -> Error {
    Error::NotLoggedIn {
        reason,
        accounts: None,
    }
}

/// What refreshing needs from the account's `meta.json` (the kit's keys; the seed's and
/// mixpanel-headless's accounts have only the region, or no file).
#[derive(Default)]
struct AccountMeta {
    region: Option<Region>,
    base_url: Option<String>,
    client_id: Option<String>,
}

fn read_meta(dir: &std::path::Path) -> AccountMeta {
    let Ok(Some(read)) = store::read_no_follow(&dir.join("meta.json"), 64 * 1024) else {
        return AccountMeta::default();
    };
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(&read.bytes) else {
        return AccountMeta::default();
    };
    let text = |k: &str| map.get(k).and_then(|v| v.as_str()).map(str::to_string);
    AccountMeta {
        region: text("region").and_then(|r| Region::ALL.into_iter().find(|x| x.as_str() == r)),
        base_url: text("base_url"),
        client_id: text("client_id"),
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

/// One account as `mp-login-status` lists it: the config block and what `tokens.json` says,
/// without any network call.
#[derive(Debug, serde::Serialize)]
pub struct AccountStatus {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub region: Option<String>,
    pub active: bool,
    pub default_project: Option<String>,
    /// ISO 8601, as `tokens.json` has it; null without tokens.
    pub expires_at: Option<String>,
    pub expired: bool,
    pub refreshable: bool,
}

impl AccountStatus {
    /// A token can be had without logging in again.
    pub fn usable(&self) -> bool {
        self.expires_at.is_some() && (!self.expired || self.refreshable)
    }
}

/// `mp-login-status`: every account of the config, and which one is selected.
#[derive(Debug, serde::Serialize)]
pub struct Status {
    pub accounts: Vec<AccountStatus>,
    /// `--account`, else `MP_ACCOUNT`, else the active account.
    pub selected: Option<String>,
    /// With `--check`: `/me` answered the selected account's (fresh) token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checked: Option<bool>,
}

/// The accounts and the selected one; `NOT_LOGGED_IN` (with the list) when the selected one
/// cannot produce a token. `check` also refreshes if needed and calls `/me`.
pub fn status(ctx: &Context, account: Option<String>, check: bool) -> Result<Status> {
    let config = Config::load(&ctx.paths.config)?;
    let active = config.active_account();
    let accounts: Vec<AccountStatus> = config
        .accounts()
        .into_iter()
        .map(|a| {
            let tokens = Tokens::load(&ctx.paths.accounts().join(&a.name).join("tokens.json"))
                .ok()
                .flatten();
            AccountStatus {
                active: active.as_deref() == Some(a.name.as_str()),
                expires_at: tokens.as_ref().map(|t| clock::rfc3339(t.expires_at)),
                expired: tokens
                    .as_ref()
                    .is_some_and(|t| t.expires_at <= clock::now()),
                refreshable: tokens.as_ref().is_some_and(|t| t.refresh_token.is_some()),
                name: a.name,
                kind: a.kind,
                region: a.region,
                default_project: a.default_project,
            }
        })
        .collect();
    let selected = account.or(active);
    let usable = selected
        .as_deref()
        .and_then(|s| accounts.iter().find(|a| a.name == s))
        .is_some_and(AccountStatus::usable);
    let mut status = Status {
        accounts,
        selected: selected.clone(),
        checked: None,
    };
    if !usable {
        return Err(Error::NotLoggedIn {
            reason: match &selected {
                Some(name) => format!("account `{name}` cannot produce a token"),
                None => "no account is named and none is active".into(),
            },
            accounts: Some(serde_json::to_value(&status.accounts).expect("statuses serialize")),
        });
    }
    if check {
        let opts = TokenOptions {
            account: selected,
            min_ttl: Duration::from_secs(60),
            force_refresh: false,
        };
        let token = self::token(ctx, &opts)?;
        let name = opts.account.as_deref().unwrap_or_default();
        let meta = read_meta(&ctx.paths.accounts().join(name));
        let endpoints = account_endpoints(&config, name, &meta)?;
        let me = crate::me::fetch(ctx, &endpoints, &token, None);
        match me {
            Ok(_) => status.checked = Some(true),
            Err(Error::MeFetch {
                failure: crate::error::MeFailure::Status(401),
                ..
            }) => {
                return Err(Error::RefreshRevoked {
                    message: "/me refused the account's token (401)".into(),
                })
            }
            Err(e) => return Err(e),
        }
    }
    Ok(status)
}

/// One account `mp-logout` ended.
#[derive(Debug, serde::Serialize)]
pub struct LoggedOut {
    pub name: String,
    /// The server revoked the refresh token (RFC 7009).
    pub revoked: bool,
    /// Why not, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `mp-logout`'s envelope body.
#[derive(Debug, serde::Serialize)]
pub struct Logout {
    pub logged_out: Vec<LoggedOut>,
}

/// Revokes each account's refresh token where the server offers a `revocation_endpoint`, then
/// removes its directory and its `config.toml` block (comments and other keys kept) and moves
/// `[active]` off it. `account`: one (else the active one); `all`: every account.
pub fn logout(ctx: &Context, account: Option<String>, all: bool) -> Result<Logout> {
    let accounts_dir = ctx.paths.accounts();
    let mut config = Config::load(&ctx.paths.config)?;
    let names: Vec<String> = if all {
        config.accounts().into_iter().map(|a| a.name).collect()
    } else {
        match account.or_else(|| config.active_account()) {
            Some(name) if config.has_account(&name) => vec![name],
            Some(name) => return Err(not_logged_in(format!("no account `{name}` in the config"))),
            None => {
                return Err(not_logged_in(
                    "no account is named and none is active".into(),
                ))
            }
        }
    };
    let mut logged_out = Vec::new();
    for name in &names {
        let revoked = revoke_account(ctx, &config, name);
        logged_out.push(LoggedOut {
            name: name.clone(),
            revoked: revoked.is_ok(),
            reason: revoked.err(),
        });
    }
    // Under the publish lock: the config's read–modify–write and the directories.
    if accounts_dir.is_dir() {
        let _lock = store::lock_dir(&accounts_dir)?;
        config = Config::load(&ctx.paths.config)?;
        let _durable = crate::interrupt::durable();
        for name in &names {
            config.remove_account(name);
            let dir = accounts_dir.join(name);
            if dir.is_dir() {
                std::fs::remove_dir_all(&dir).at("cannot remove", &dir)?;
            }
        }
        config.save(&ctx.paths.config)?;
    } else {
        for name in &names {
            config.remove_account(name);
        }
        config.save(&ctx.paths.config)?;
    }
    Ok(Logout { logged_out })
}

/// RFC 7009 for one account: `Err` is the reason it was not revoked.
fn revoke_account(ctx: &Context, config: &Config, name: &str) -> std::result::Result<(), String> {
    let dir = ctx.paths.accounts().join(name);
    let tokens = Tokens::load(&dir.join("tokens.json"))
        .map_err(|e| e.to_string())?
        .ok_or("the account holds no tokens")?;
    let refresh = tokens
        .refresh_token
        .ok_or("the account has no refresh token")?;
    let (endpoints, client_id) = account_client(ctx, config, name).map_err(|e| e.to_string())?;
    let endpoint = oauth::metadata(ctx, &endpoints)
        .and_then(|m| m.revocation_endpoint)
        .ok_or("the authorization server advertises no revocation_endpoint (RFC 8414)")?;
    oauth::revoke(ctx, &endpoint, &client_id, &refresh)
}
