//! `mp-logout`: revoke the refresh token (RFC 7009) at the server's `revocation_endpoint`, then
//! remove the account directory and its `config.toml` block (comments and other keys kept) and
//! move `[active]` off it.
//!
//! All or nothing per account: under the account's lock (see [`super`]) the token is revoked,
//! then, under the accounts root's lock, the directory is renamed out of the way
//! (`S/accounts/.removed-<hex>`, one atomic step), the config block goes, and the renamed
//! directory is deleted. A kill between two steps leaves either the whole account, an account
//! that `mp-logout` finishes removing, or a `.removed-*` directory the next `mp-login-start`
//! deletes; never a half-deleted account that something could resume or use.
//! When the server could not be asked (network, 5xx), or its metadata is not to be trusted
//! with a token (another issuer, a revocation endpoint outside the issuer's origin), the account
//! is kept unless `force`. `--all` goes on past an account it cannot log out and names each.

use std::fs;
use std::path::Path;

use crate::config::Config;
use crate::context::Context;
use crate::error::{Error, IoContext, Result};
use crate::oauth::{self, Revocable, Tokens};
use crate::store;

/// What `mp-logout` ends.
pub struct LogoutOptions<'a> {
    /// One account (else `MP_ACCOUNT`, else the active one).
    pub account: Option<String>,
    /// Every account of the config.
    pub all: bool,
    /// Remove an account even when its token could not be revoked.
    pub force: bool,
    /// Asked with the names once they are checked, before anything is touched; `false` ends
    /// the run with `CANCELLED` (the command line asks the person at a terminal).
    pub confirm: &'a dyn Fn(&[String]) -> bool,
}

/// One account `mp-logout` ended.
#[derive(Debug, serde::Serialize)]
pub struct LoggedOut {
    pub name: String,
    /// The server revoked the account's token (RFC 7009).
    pub revoked: bool,
    /// Which one: `refresh_token` (its whole grant), or `access_token` when the server issued
    /// no refresh token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_token: Option<&'static str>,
    /// Why not, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `mp-logout`'s envelope body.
#[derive(Debug, serde::Serialize)]
pub struct Logout {
    pub logged_out: Vec<LoggedOut>,
    /// With `--all`: the accounts of `config.toml` that are not OAuth logins (a service
    /// account, say), left as they are.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
}

/// An account `--all` left alone, and why.
#[derive(Debug, serde::Serialize)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

/// The account type the kit's login writes; any other block of the shared `config.toml` (a
/// service account with its secret) is not the kit's to remove.
const OAUTH_TYPE: &str = "oauth_browser";

pub(crate) fn not_an_oauth_login(kind: Option<&str>) -> String {
    format!(
        "its type is {}, not `{OAUTH_TYPE}`: it is not an OAuth login, and its block is kept",
        kind.map_or_else(
            || "missing".to_string(),
            |k| format!("`{}`", crate::text::shown(k))
        )
    )
}

/// Prefix of an account directory being removed.
pub const REMOVED_PREFIX: &str = ".removed-";

/// Logs out of the named account, or of every account with `all`. Every name is checked
/// before anything is touched. An account whose revocation failed is kept (unless `force`)
/// and the run fails with `OAUTH_REVOCATION_FAILED`, listing what was logged out meanwhile;
/// with `all`, any other failure of one account (a symlinked directory, say) is listed the
/// same way, with its own code, and the others are still logged out.
pub fn logout(ctx: &Context, opts: &LogoutOptions) -> Result<Logout> {
    let config = Config::load(&ctx.paths.config)?;
    let mut skipped = Vec::new();
    let names: Vec<String> = if opts.all {
        let (ours, others): (Vec<_>, Vec<_>) = config
            .accounts()
            .into_iter()
            .partition(|a| a.kind.as_deref() == Some(OAUTH_TYPE));
        skipped = others
            .into_iter()
            .map(|a| Skipped {
                reason: not_an_oauth_login(a.kind.as_deref()),
                name: a.name,
            })
            .collect();
        ours.into_iter().map(|a| a.name).collect()
    } else {
        let (name, _) = super::selected(ctx, &config, opts.account.clone())?;
        let Some(account) = config.accounts().into_iter().find(|a| a.name == name) else {
            return Err(super::no_such_account(&config, &name));
        };
        if account.kind.as_deref() != Some(OAUTH_TYPE) {
            return Err(Error::NotOAuthAccount {
                name,
                kind: account.kind,
            });
        }
        vec![name]
    };
    for name in &names {
        super::account_name(name)?;
    }
    if !names.is_empty() && !(opts.confirm)(&names) {
        return Err(Error::Cancelled {
            what: "nothing was logged out",
        });
    }
    let mut logged_out = Vec::new();
    let mut kept = Vec::new();
    for name in names {
        match logout_one(ctx, &name, opts.force) {
            Ok(done) => logged_out.push(done),
            Err(e @ Error::RevocationFailed { .. }) => kept.push((name, e)),
            Err(e) if opts.all => kept.push((name, e)),
            Err(e) => return Err(e),
        }
    }
    if !kept.is_empty() {
        return Err(Error::LogoutIncomplete {
            kept,
            logged_out: serde_json::to_value(&logged_out).expect("logouts serialize"),
        });
    }
    Ok(Logout {
        logged_out,
        skipped,
    })
}

fn logout_one(ctx: &Context, name: &str, force: bool) -> Result<LoggedOut> {
    let dir = super::account_dir(ctx, name)?;
    let lock = store::lock_current_dir(&dir)?;
    if lock.is_some() {
        // The token to revoke is the newest one, also when a killed refresh left it in a temp.
        super::adopt_tokens_temp(ctx.interrupt, &dir)?;
    }
    let config = Config::load(&ctx.paths.config)?;
    if lock.is_none() && !config.has_account(name) {
        return Ok(LoggedOut {
            name: name.to_string(),
            revoked: false,
            revoked_token: None,
            reason: Some("another process logged it out first".into()),
        });
    }
    // From the request to its answer: a revoked token cannot be taken back, so an interrupt
    // waits for the answer, and once the server was asked the run's own outcome stands.
    let revocation = {
        let _durable = ctx.interrupt.durable();
        let revocation = revoke(ctx, &config, name, &dir);
        if !matches!(revocation, Ok(Revocation::NotPossible(_))) {
            ctx.interrupt.decided();
        }
        revocation
    };
    let (revoked_token, reason) = match revocation {
        Ok(Revocation::Revoked(which)) => (Some(which), None),
        Ok(Revocation::NotPossible(why)) => (None, Some(why)),
        Err(Error::RevocationFailed { reason, .. }) if force => {
            (None, Some(format!("{reason} (removed anyway: --force)")))
        }
        Err(e @ Error::SymlinkRefused { .. }) if force => {
            (None, Some(format!("{e} (removed anyway: --force)")))
        }
        Err(e) => return Err(e),
    };
    remove(ctx, name, &dir)?;
    drop(lock);
    Ok(LoggedOut {
        name: name.to_string(),
        revoked: revoked_token.is_some(),
        revoked_token,
        reason,
    })
}

enum Revocation {
    /// The server revoked this token (`refresh_token` or `access_token`).
    Revoked(&'static str),
    /// Nothing the server could be asked to revoke, or no way to ask it: the reason.
    NotPossible(String),
}

/// RFC 7009 for one account. `Err` (`OAUTH_REVOCATION_FAILED`): the server was to be asked and
/// did not answer, or refused.
fn revoke(ctx: &Context, config: &Config, name: &str, dir: &Path) -> Result<Revocation> {
    let not_possible = |why: String| Ok(Revocation::NotPossible(why));
    let failed = |reason: String| Error::RevocationFailed {
        status: None,
        reason,
    };
    let tokens = match Tokens::load(&dir.join("tokens.json")) {
        Ok(Some(tokens)) => tokens,
        Ok(None) => return not_possible("the account holds no tokens".into()),
        // A `tokens.json` that cannot be read may still hold a live refresh token: the account
        // is kept (a symlink is refused as such), unless `--force`.
        Err(e @ Error::SymlinkRefused { .. }) => return Err(e),
        Err(e) => {
            return Err(failed(format!(
                "its tokens cannot be read, so they cannot be revoked: {e}"
            )))
        }
    };
    // RFC 7009 §2.1: the refresh token ends the whole grant; without one (the server issued
    // none), the access token is what there is to revoke, unless it has expired anyway.
    let token = match &tokens.refresh_token {
        Some(refresh) => Revocable::Refresh(refresh),
        None if tokens.expires_at <= crate::clock::now() => {
            return not_possible(format!(
                "the account has no refresh token and its access token expired at {}",
                crate::clock::rfc3339(tokens.expires_at)
            ))
        }
        None => Revocable::Access(&tokens.access_token),
    };
    // Without the client the token was issued to, the server cannot be asked: that is a
    // failure to revoke (the token stays live), not a reason to drop it quietly.
    let (endpoints, client_id) = super::client(ctx, config, name, dir).map_err(|e| {
        failed(format!(
            "the token cannot be revoked without its client: {e}"
        ))
    })?;
    let metadata = oauth::metadata(ctx, &endpoints).map_err(|e| match e {
        e @ Error::MetadataIssuerMismatch { .. } => failed(e.to_string()),
        e => failed(format!(
            "the authorization server metadata could not be read: {e}"
        )),
    })?;
    let Some(metadata) = metadata else {
        return not_possible(
            "the authorization server publishes no metadata (RFC 8414), so no revocation_endpoint"
                .into(),
        );
    };
    let Some(endpoint) = metadata.revocation_endpoint(&endpoints) else {
        return not_possible(
            "the authorization server advertises no revocation_endpoint (RFC 8414)".into(),
        );
    };
    let endpoint = endpoint.map_err(failed)?;
    oauth::revoke(ctx, &endpoint, &client_id, &token)?;
    Ok(Revocation::Revoked(token.hint()))
}

/// Under the accounts root's lock: the directory renamed out of the way, the config block
/// removed, then the renamed directory deleted (see the module docs).
fn remove(ctx: &Context, name: &str, dir: &Path) -> Result<()> {
    let accounts = ctx.paths.accounts();
    let _root = match accounts.is_dir() {
        true => Some(store::lock_dir(&accounts)?),
        false => None,
    };
    let _durable = ctx.interrupt.durable();
    let removed = match fs::symlink_metadata(dir) {
        Ok(_) => {
            let to = accounts.join(format!("{REMOVED_PREFIX}{}", store::random_hex(4)));
            fs::rename(dir, &to).at("cannot remove", dir)?;
            store::sync_dir(&accounts)?;
            Some(to)
        }
        Err(_) => None,
    };
    store::remove_stale_temps(&ctx.paths.config)?;
    let mut config = Config::load(&ctx.paths.config)?;
    config.remove_account(name);
    config.save(ctx.interrupt, &ctx.paths.config)?;
    // The account is gone: an interrupt from here on ends the run as it is, which names it
    // (`docs/recovery.md#interrupts`), rather than saying that nothing was changed. Decided
    // inside the durable step, so a stop that waited for it sees it.
    ctx.interrupt.decided();
    if let Some(removed) = removed {
        fs::remove_dir_all(&removed).at("cannot remove", &removed)?;
    }
    Ok(())
}
