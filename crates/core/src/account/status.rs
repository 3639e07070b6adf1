//! `mp-login-status`: the accounts of `config.toml` and what their `tokens.json` says, without a
//! network call; `--check` also refreshes if needed and calls `/me`.

use std::path::PathBuf;
use std::time::Duration;

use crate::clock;
use crate::config::Config;
use crate::context::Context;
use crate::error::{Error, MeFailure, Result};
use crate::oauth::Tokens;
use crate::text::shown;

/// One account as `mp-login-status` lists it.
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
    /// `mp-token` can refresh it: a refresh token, and the client it was issued to (the
    /// account module's `refresh_client`, the rule `mp-token` refreshes by).
    pub refreshable: bool,
    /// Why not, when there are tokens and they cannot be refreshed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_refreshable: Option<String>,
    /// Why there is no usable `tokens.json` when one cannot be read (a truncated file, a name
    /// that is not an account name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
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
    /// `S`, where the accounts live.
    pub storage_dir: PathBuf,
    /// `C`, which lists them: a separate path (`MP_CONFIG_PATH`), kept or cached with `S`.
    pub config_path: PathBuf,
}

/// The accounts and the selected one; `NOT_LOGGED_IN` (with the list) when the selected one
/// cannot produce a token. `check` also refreshes if needed and calls `/me`.
pub fn status(ctx: &Context, account: Option<String>, check: bool) -> Result<Status> {
    if let Some(name) = &account {
        super::account_name(name)?;
    }
    let config = Config::load(&ctx.paths.config)?;
    let active = config.active_account();
    let accounts: Vec<AccountStatus> = config
        .accounts()
        .into_iter()
        .map(|a| {
            let read = super::account_dir(ctx, &a.name).and_then(|dir| {
                let tokens = Tokens::load(&dir.join("tokens.json"))?;
                Ok((dir, tokens))
            });
            let (tokens, problem, not_refreshable) = match read {
                Ok((dir, Some(t))) => {
                    let why_not = super::refresh_client(ctx, &config, &a.name, &dir, &t)
                        .err()
                        .map(|e| e.to_string());
                    (Some(t), None, why_not)
                }
                Ok((_, None)) => (None, None, None),
                Err(e) => (None, Some(e.to_string()), None),
            };
            AccountStatus {
                active: active.as_deref() == Some(a.name.as_str()),
                expires_at: tokens.as_ref().map(|t| clock::rfc3339(t.expires_at)),
                expired: tokens
                    .as_ref()
                    .is_some_and(|t| t.expires_at <= clock::now()),
                refreshable: tokens.is_some() && not_refreshable.is_none(),
                not_refreshable,
                problem,
                name: a.name,
                kind: a.kind,
                region: a.region,
                default_project: a.default_project,
            }
        })
        .collect();
    let selected = account.or(active);
    // The account asked about is refused as such when its directory is a symlink.
    if let Some(Ok(name)) = selected.as_deref().map(super::account_name) {
        crate::store::refuse_symlink(&ctx.paths.account(&name))?;
    }
    let chosen = selected
        .as_deref()
        .and_then(|s| accounts.iter().find(|a| a.name == s));
    let mut status = Status {
        selected: selected.clone(),
        checked: None,
        storage_dir: ctx.paths.storage.clone(),
        config_path: ctx.paths.config.clone(),
        accounts: Vec::new(),
    };
    if !chosen.is_some_and(AccountStatus::usable) {
        let reason = match (&selected, chosen) {
            (None, _) => "no account is named and none is active".to_string(),
            (Some(name), None) => super::unknown_account(&config, name),
            (Some(name), Some(a)) => match a.problem.as_ref().or(a.not_refreshable.as_ref()) {
                Some(problem) => format!(
                    "account `{}` cannot produce a token: {problem}",
                    shown(name)
                ),
                None => format!("account `{}` cannot produce a token", shown(name)),
            },
        };
        return Err(Error::NotLoggedIn {
            reason,
            accounts: Some(serde_json::to_value(&accounts).expect("statuses serialize")),
        });
    }
    status.accounts = accounts;
    if check {
        let name = selected.unwrap_or_default();
        check_me(ctx, &config, &name)?;
        status.checked = Some(true);
    }
    Ok(status)
}

/// A fresh token for `name` (refreshed if needed) answered by `/me`. A server that does not
/// answer (network, 5xx, 429) is `SERVER_UNAVAILABLE`: the account is fine, the server is not.
fn check_me(ctx: &Context, config: &Config, name: &str) -> Result<()> {
    let unavailable = |cause: Error| Error::ServerUnavailable {
        name: name.to_string(),
        cause: Box::new(cause),
    };
    let opts = super::token::TokenOptions {
        account: Some(name.to_string()),
        min_ttl: Duration::from_secs(60),
        force_refresh: false,
    };
    let token = match super::token::token(ctx, &opts) {
        Ok(token) => token,
        Err(e @ (Error::NetworkError { .. } | Error::ResponseTooLarge { .. })) => {
            return Err(unavailable(e))
        }
        Err(
            e @ Error::RefreshFailed {
                status: None | Some(429 | 500..=599),
                ..
            },
        ) => return Err(unavailable(e)),
        Err(e) => return Err(e),
    };
    let dir = ctx.paths.account(&super::account_name(name)?);
    let endpoints = super::endpoints(config, name, &super::account_meta(&dir))?;
    match crate::me::fetch(ctx, &endpoints, &token, None) {
        Ok(_) => Ok(()),
        Err(Error::MeFetch {
            failure: MeFailure::Status(401),
            ..
        }) => Err(Error::RefreshRevoked {
            message: "/me refused the account's token (401)".into(),
        }),
        Err(
            e @ Error::MeFetch {
                failure: MeFailure::Network | MeFailure::Status(429 | 500..=599),
                ..
            },
        ) => Err(unavailable(e)),
        Err(e) => Err(e),
    }
}
