//! `mp-token`: the access token of an account, refreshed first when it expires within
//! `min_ttl`.
//!
//! The read → refresh → write runs under the account directory's lock (see [`super`]), and a
//! waiter re-reads `tokens.json` after the lock, so N processes on an expiring account make one
//! refresh. Before writing, the refresh checks that it still writes to the account it read: the
//! same directory (a logout and a new login of the same name replace it) and the same refresh
//! token on disk (mixpanel-headless refreshes without the lock). If not, it writes nothing.
//! A refresh killed before its rename leaves the new pair complete in a temp file, which the
//! next run adopts (the parent module's `adopt_tokens_temp`); an interrupt waits for the pair
//! to be saved, and once it is, the run ends as a success: the token printed is the one on
//! disk (`docs/recovery.md#interrupts`).

use std::path::Path;
use std::time::Duration;

use crate::clock;
use crate::config::Config;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::oauth::{self, Tokens};
use crate::secret::AccessToken;
use crate::store;
use crate::text::shown;

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
    let (name, dir) = super::selected(ctx, &config, opts.account.clone())?;
    if !config.has_account(&name) {
        return Err(super::no_such_account(&config, &name));
    }
    let no_tokens = || super::not_logged_in(format!("account `{}` holds no tokens", shown(&name)));
    let Some(lock) = store::lock_current_dir(&dir)? else {
        return Err(no_tokens());
    };
    super::adopt_tokens_temp(ctx.interrupt, &dir)?;
    // Read after the lock: another process may have just refreshed.
    let tokens_path = dir.join("tokens.json");
    let tokens = Tokens::load(&tokens_path)?.ok_or_else(no_tokens)?;
    let fresh_until = clock::now() + opts.min_ttl;
    if !opts.force_refresh && tokens.expires_at > fresh_until {
        return Ok(tokens.access_token);
    }
    let (endpoints, client_id) = super::refresh_client(ctx, &config, &name, &dir, &tokens)?;
    let refresh_token = tokens.refresh_token.ok_or_else(|| Error::Internal {
        message: "refresh_client accepted tokens without a refresh token".into(),
    })?;
    let presented = refresh_token.secret().to_string();
    // From the request to the saved pair: the server rotates the refresh token when it answers,
    // so an interrupt waits for the new pair to be on disk rather than lose it.
    let _durable = ctx.interrupt.durable();
    let renewed = oauth::refresh(ctx, &endpoints, &client_id, refresh_token);
    // Once the server was asked, the refresh token may be spent: the run's own outcome (the
    // saved pair, or an error that says so) is what is printed, not "nothing was changed".
    ctx.interrupt.decided();
    let renewed = renewed?;
    ensure_unchanged(&lock, &dir, &tokens_path, &presented, &name)?;
    renewed.save(ctx.interrupt, &tokens_path)?;
    Ok(renewed.access_token)
}

/// The account at `dir` is still the one whose refresh token was presented: same directory,
/// same refresh token in `tokens.json`. Otherwise the new pair belongs to nothing on disk.
fn ensure_unchanged(
    lock: &store::DirLock,
    dir: &Path,
    tokens_path: &Path,
    presented: &str,
    name: &str,
) -> Result<()> {
    let changed = |what: &'static str| {
        Err(Error::AccountChanged {
            name: name.to_string(),
            what,
        })
    };
    if lock.is_at(dir) != Some(true) {
        return changed("its directory was removed or replaced (a logout or a new login)");
    }
    let on_disk = Tokens::load(tokens_path).ok().flatten();
    let same = on_disk
        .as_ref()
        .and_then(|t| t.refresh_token.as_ref())
        .is_some_and(|t| t.secret() == presented);
    if !same {
        return changed("its tokens.json was replaced by another program");
    }
    Ok(())
}
