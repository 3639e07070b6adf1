//! The three commands as functions: `start`, `finish` and `resume` (`docs/oauth.md`, `docs/publish.md`).
//!
//! ```text
//! start:   oauth::register (client cache) → pkce + state → inflight::save
//! finish:  inflight::load → check (redirect::parse, iss, state) → complete: claim::take
//!          → publish::placeholder → oauth::exchange → inflight::remove → publish::publish
//! listen:  the same check and complete, for each callback or paste (`crate::listen`)
//! resume:  publish::open_placeholder (root guard, meta) → publish::publish
//! ```

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::account_name::AccountName;
use crate::claim::Taken;
use crate::clock;
use crate::context::Context;
use crate::endpoints::Endpoints;
use crate::error::{Error, Result};
use crate::inflight::Inflight;
use crate::interrupt::Phase;
use crate::notice::Notice;
use crate::oauth;
use crate::pkce;
use crate::publish::{self, Meta, PublishOptions, Published};
use crate::redirect::{self, Paste, Redirect, MAX_PASTE};
use crate::region::Region;
use crate::secret::{AuthCode, CsrfState};
use crate::store;

pub struct StartOptions {
    pub region: Region,
    pub base_url: Option<String>,
    /// `None`: the first of 19284–19287 that can be bound on 127.0.0.1, as the seed picks it.
    pub redirect_port: Option<u16>,
    pub ttl: Duration,
    pub inflight_path: PathBuf,
    pub account_name: Option<String>,
    pub project_id: Option<String>,
}

/// The seed's start envelope keys (`docs/envelopes.md#the-envelope`), then the kit's.
#[derive(Debug, Serialize)]
pub struct Started {
    pub authorize_url: String,
    pub redirect_uri: String,
    /// Unix seconds.
    pub expires_at: i64,
    pub region: Region,
    pub inflight_path: PathBuf,
    pub replaced_previous: bool,
    /// Directories holding tokens an earlier login saved but did not publish (killed, or its
    /// publish failed), each publishable by a resume. The envelope lists them with the command.
    #[serde(skip)]
    pub recoverable: Vec<PathBuf>,
}

/// The callback ports the seed tries, in order (`docs/envelopes.md#the-envelope`).
pub const CALLBACK_PORTS: std::ops::RangeInclusive<u16> = 19284..=19287;

/// The seed's `find_available_callback_port`: the first port of [`CALLBACK_PORTS`] that can be
/// bound on 127.0.0.1 (`OAUTH_PORT_ERROR` when none can). A port is tried three times, 20 ms
/// apart: another start probing the same port at the same moment holds it only briefly.
fn free_callback_port() -> Result<u16> {
    let free = |port: u16| {
        (0..3).any(|attempt| {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(20));
            }
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
        })
    };
    CALLBACK_PORTS
        .into_iter()
        .find(|p| free(*p))
        .ok_or(Error::PortError {
            first: *CALLBACK_PORTS.start(),
            last: *CALLBACK_PORTS.end(),
        })
}

/// `--name` is checked before anything is spent (`docs/seed.md#where-the-kit-differs`).
pub(crate) fn check_name(name: Option<&str>) -> Result<()> {
    match name.map(AccountName::parse) {
        Some(Err(invalid)) => Err(Error::AccountNameInvalid { invalid, new: true }),
        _ => Ok(()),
    }
}

/// A word on stderr for each of the kit's directories others can write to: whoever can write
/// there can replace what the kit reads (the kit tightens only what it creates).
pub(crate) fn warn_shared_dirs(ctx: &Context) {
    use std::os::unix::fs::PermissionsExt;
    let storage = &ctx.paths.storage;
    for dir in [storage.clone(), storage.join("oauth"), ctx.paths.accounts()] {
        if let Ok(meta) = std::fs::metadata(&dir) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o022 != 0 {
                ctx.progress.notice(&Notice::SharedDir { dir: &dir, mode });
            }
        }
    }
}

pub fn start(ctx: &Context, opts: StartOptions) -> Result<Started> {
    check_name(opts.account_name.as_deref())?;
    warn_shared_dirs(ctx);
    crate::claim::sweep();
    let endpoints = Endpoints::new(opts.region, opts.base_url.as_deref())?;
    let port = match opts.redirect_port {
        Some(p) => p,
        None => free_callback_port()?,
    };
    let redirect_uri = format!("http://localhost:{port}/callback");
    let client_id = oauth::register_or_reuse(ctx, &endpoints, &redirect_uri)?;
    let issuer = oauth::iss_issuer(ctx, &endpoints)?;
    let verifier = pkce::new_verifier();
    let state = pkce::new_state();
    let authorize_url = oauth::authorize_url(
        &endpoints,
        &client_id,
        &redirect_uri,
        state.secret(),
        &pkce::challenge(&verifier),
    );
    let now = clock::unix_now();
    let inflight = Inflight {
        created_at: now,
        expires_at: now + opts.ttl.as_secs() as i64,
        region: opts.region.as_str().to_string(),
        base_url: endpoints.is_custom().then(|| endpoints.base_url()),
        client_id,
        redirect_uri: redirect_uri.clone(),
        state,
        pkce_verifier: verifier,
        account_name: opts.account_name,
        project_id: opts.project_id,
        issuer,
    };
    // Once the inflight file is written (a previous one replaced), the start's outcome is
    // decided: an interrupt then still prints the new login's URL instead of saying that
    // nothing was changed.
    let replaced_previous = {
        let _durable = ctx.interrupt.durable();
        let replaced = inflight.save(ctx.interrupt, &opts.inflight_path)?;
        ctx.interrupt.decided();
        replaced
    };
    Ok(Started {
        authorize_url: authorize_url.to_string(),
        redirect_uri,
        region: opts.region,
        expires_at: inflight.expires_at,
        inflight_path: opts.inflight_path,
        replaced_previous,
        recoverable: publish::sweep_and_list_recoverable(ctx),
    })
}

/// Where finish reads the pasted redirect from (`docs/oauth.md#the-pasted-redirect`).
pub enum RedirectInput {
    Arg(String),
    File(PathBuf),
    Stdin(Box<dyn Read>),
}

impl RedirectInput {
    /// The text, refusing more than 64 KiB without reading further.
    pub fn read(self) -> Result<String> {
        let refused = |problem| Error::PasteError {
            problem,
            redirect_uri: String::new(),
        };
        let bytes = match self {
            RedirectInput::Arg(s) => s.into_bytes(),
            RedirectInput::File(path) => {
                store::read_user_file(&path, MAX_PASTE as u64).map_err(|e| {
                    Error::invalid_args(format!(
                        "cannot read --redirect-file `{}`: {e}",
                        path.display()
                    ))
                })?
            }
            RedirectInput::Stdin(r) => read_bounded(r)
                .map_err(|e| Error::invalid_args(format!("cannot read stdin: {e}")))?,
        };
        if bytes.len() > MAX_PASTE {
            return Err(refused(Paste::TooLarge { line: false }));
        }
        String::from_utf8(bytes).map_err(|_| refused(Paste::NotUtf8))
    }
}

fn read_bounded(r: impl Read) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    r.take(MAX_PASTE as u64 + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// What finish does with the login once the redirect is believed: the same for a paste and a
/// listener's callback.
#[derive(Debug, Default, Clone)]
pub struct Choices {
    pub account_name: Option<String>,
    pub project_id: Option<String>,
    pub env_project: Option<String>,
    /// Used when the inflight file names no base URL (the seed's files never do).
    pub base_url: Option<String>,
}

pub struct FinishOptions {
    pub inflight_path: PathBuf,
    pub input: RedirectInput,
    pub choices: Choices,
}

/// How a finish ends when it does not fail.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one per process
pub enum Finished {
    Published(Published),
    /// Another process finished this login first (`docs/oauth.md#one-exchange-per-login`):
    /// what it printed, to be reported as it is.
    Elsewhere(crate::claim::Record),
}

/// Which denials (`error=` redirects) end a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denials {
    /// Any: a person pasted it, as the seed believes it.
    Any,
    /// Only one carrying this login's `state`: anyone can make a browser call the listener's
    /// callback, and that must not end the login.
    OwnState,
}

pub fn finish(ctx: &Context, opts: FinishOptions) -> Result<Finished> {
    check_name(opts.choices.account_name.as_deref())?;
    // Read the input first: in `mp-login-start | mock-idp approve | mp-login-finish` the
    // inflight file exists only once the redirect has arrived on stdin.
    let text = opts.input.read()?;
    warn_shared_dirs(ctx);
    let inflight = match Inflight::load(&opts.inflight_path, clock::now()) {
        Err(missing @ Error::InflightMissing { .. }) => {
            // Finished already, by another process (or an earlier run): its outcome stands.
            return finished_before(ctx, &opts.inflight_path, &text, &opts.choices)
                .unwrap_or(Err(missing));
        }
        loaded => loaded?,
    };
    let code = check(ctx, &inflight, &text, Denials::Any)?;
    complete(ctx, &opts.inflight_path, inflight, code, opts.choices)
}

/// The outcome of the process that finished the login `text` answers: waited for while that
/// process still holds the login (its `/me`, its publish), then read.
fn finished_before(
    ctx: &Context,
    inflight_path: &Path,
    text: &str,
    choices: &Choices,
) -> Option<Result<Finished>> {
    let Redirect::Code { state, .. } = redirect::parse(text, "").ok()? else {
        return None;
    };
    let state = CsrfState::new(state);
    let taken = take_claim(ctx, inflight_path, &state).ok()?;
    match spent_outcome(ctx, inflight_path, &state, taken, choices) {
        Ok(outcome) => Some(outcome),
        // Back in its place after all: this run found it missing; start over is the answer.
        Err(Taken::Ours) => {
            ctx.claim.release();
            None
        }
        Err(_) => None,
    }
}

/// How a login ends whose code another process spent: with what it recorded, with the account
/// it published before it stopped, or by publishing the tokens it saved before it stopped (this
/// process holds the claim for that). Any other `taken` is given back.
#[allow(clippy::result_large_err)] // one per login, given back at once
pub(crate) fn spent_outcome(
    ctx: &Context,
    inflight_path: &Path,
    state: &CsrfState,
    taken: Taken,
    choices: &Choices,
) -> std::result::Result<Result<Finished>, Taken> {
    match taken {
        Taken::Done(record) => Ok(Ok(Finished::Elsewhere(record))),
        Taken::Published(dir) if publish::is_listed(&ctx.paths, &dir) => {
            ctx.progress
                .notice(&Notice::PublishedByStoppedFinish { dir: &dir });
            Ok(publish::describe(&ctx.paths, &dir).map(Finished::Published))
        }
        Taken::Saved(saved) | Taken::Published(saved) => {
            // The code is spent and its tokens wait in `saved`: they are published instead of
            // the code being sent again.
            ctx.progress
                .notice(&Notice::PublishingSavedTokens { dir: &saved });
            let published = crate::inflight::remove_if_same(ctx.interrupt, inflight_path, state)
                .and_then(|()| {
                    let options = PublishOptions {
                        name: choices.account_name.clone(),
                        project: choices.project_id.clone(),
                        env_project: choices.env_project.clone(),
                        base_url: None,
                    };
                    resume(ctx, &saved, &options)
                });
            Ok(published.map(Finished::Published))
        }
        other => Err(other),
    }
}

/// Takes the login's claim ([`crate::claim::Claim::take`]); an interrupt while another process
/// holds it says that the outcome is that process's.
pub(crate) fn take_claim(ctx: &Context, inflight_path: &Path, state: &CsrfState) -> Result<Taken> {
    ctx.interrupt
        .set_phase(Phase::AwaitingOther(inflight_path.to_path_buf()));
    let taken = ctx.claim.take(inflight_path, state);
    ctx.interrupt.set_phase(Phase::Idle);
    taken
}

/// Checks a redirect against the login it claims to answer, in the seed's order: its `iss`
/// (RFC 9207), a denial, the `state` (constant time). Every error keeps the inflight, so the
/// person can paste again (`docs/oauth.md#the-pasted-redirect`).
pub fn check(ctx: &Context, inflight: &Inflight, text: &str, denials: Denials) -> Result<AuthCode> {
    let pasted = redirect::parse(text, &inflight.redirect_uri)?;
    // RFC 9207 §2.4, when start learnt that the server sends `iss`: before anything else of
    // the response is believed, success and error alike.
    if let Some(expected) = &inflight.issuer {
        if pasted.iss() != Some(expected.as_str()) {
            return Err(Error::IssuerMismatch {
                expected: expected.clone(),
                got: pasted.iss().map(str::to_string),
            });
        }
    }
    let (code, state) = match pasted {
        Redirect::Denied {
            error,
            description,
            state,
            ..
        } => {
            let own = state.is_some_and(|s| inflight.state.matches(&s));
            return Err(match denials {
                Denials::OwnState if !own => Error::StateMismatch,
                _ => Error::AuthDenied { error, description },
            });
        }
        Redirect::Code { code, state, .. } => (code, state),
    };
    if !inflight.state.matches(&state) {
        return Err(Error::StateMismatch);
    }
    // The state matches, so it is this login's redirect; another host is still worth a word.
    if let (Some(pasted), Some(expected)) = (
        redirect::origin(text),
        redirect::origin(&inflight.redirect_uri),
    ) {
        if pasted != expected {
            ctx.progress.notice(&Notice::OtherOrigin {
                pasted: &pasted,
                expected: &expected,
            });
        }
    }
    Ok(code)
}

/// Finishes the login with a checked code: takes the login's claim, then exchanges the code,
/// saves the tokens and publishes; or reports the outcome of the process that finished it.
pub fn complete(
    ctx: &Context,
    inflight_path: &Path,
    inflight: Inflight,
    code: AuthCode,
    choices: Choices,
) -> Result<Finished> {
    let taken = take_claim(ctx, inflight_path, &inflight.state)?;
    match spent_outcome(ctx, inflight_path, &inflight.state, taken, &choices) {
        Ok(outcome) => return outcome,
        Err(Taken::Unguarded(why)) => ctx.progress.notice(&Notice::Unguarded(&why)),
        Err(Taken::Gone(gone)) => {
            return Err(Error::LoginTaken {
                path: inflight_path.to_path_buf(),
                gone: Some(gone),
                cause: None,
            })
        }
        Err(_) => {}
    }
    let region = inflight.region(inflight_path)?;
    let base_url = inflight.base_url.clone().or(choices.base_url);
    let endpoints = Endpoints::new(region, base_url.as_deref())?;
    // Where the tokens will go exists before the code is spent: a storage that cannot hold
    // them fails here, with the code still good (`docs/seed.md#where-the-kit-differs`).
    let placeholder = publish::prepare_placeholder(
        ctx,
        Meta {
            schema_version: 1,
            region,
            created_at: clock::unix_now(),
            base_url: endpoints.is_custom().then(|| endpoints.base_url()),
            client_id: Some(inflight.client_id.clone()),
            account_name: choices.account_name.or(inflight.account_name),
            project_id: choices.project_id.or(inflight.project_id),
        },
    )?;
    if let Err(e) = ctx.claim.spending(ctx.interrupt, &placeholder.dir) {
        placeholder.discard();
        return Err(e);
    }
    // A failed exchange keeps the inflight (`docs/envelopes.md#error-codes`): a 5xx may be retried.
    ctx.interrupt
        .set_phase(Phase::Exchanging(placeholder.dir.clone()));
    let grant = oauth::CodeGrant {
        client_id: &inflight.client_id,
        redirect_uri: &inflight.redirect_uri,
        code,
        verifier: inflight.pkce_verifier,
    };
    let tokens = match oauth::exchange(ctx, &endpoints, grant) {
        Ok(tokens) => tokens,
        Err(e) => {
            placeholder.discard();
            return Err(e);
        }
    };
    placeholder.save_tokens(ctx.interrupt, &tokens)?;
    // The code is spent: the inflight is useless now, unless a newer start replaced it.
    crate::inflight::remove_if_same(ctx.interrupt, inflight_path, &inflight.state)?;
    let publish_options = PublishOptions {
        env_project: choices.env_project,
        ..PublishOptions::default()
    };
    publish::publish(ctx, &placeholder, &publish_options)
        .map(Finished::Published)
        .map_err(|cause| publish_failed(&placeholder.dir, cause))
}

/// A publish failure while the placeholder still holds the tokens is `LOGIN_FINISH_PUBLISH_FAILED`
/// (`docs/envelopes.md#the-envelope`), from finish and from resume alike; `NEEDS_REGION_SWITCH` stays itself.
fn publish_failed(dir: &Path, cause: Error) -> Error {
    match cause {
        e @ Error::NeedsRegionSwitch { .. } => e,
        cause if dir.join("tokens.json").is_file() => Error::PublishFailed {
            placeholder_dir: dir.to_path_buf(),
            cause: Box::new(cause),
        },
        cause => cause,
    }
}

pub fn resume(
    ctx: &Context,
    placeholder_dir: &Path,
    options: &PublishOptions,
) -> Result<Published> {
    warn_shared_dirs(ctx);
    let placeholder = publish::open_placeholder(ctx, placeholder_dir)?;
    publish::publish(ctx, &placeholder, options)
        .map_err(|cause| publish_failed(&placeholder.dir, cause))
}

/// The `details.placeholder_dir` of a failed finish's (or an interrupted run's) envelope file.
pub fn placeholder_from_envelope(path: &Path) -> Result<PathBuf> {
    let unusable = |why: String| Error::NotAnEnvelope {
        path: path.to_path_buf(),
        why,
    };
    let bytes = store::read_user_file(path, 1024 * 1024).map_err(|e| unusable(e.to_string()))?;
    let envelope: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| unusable("it is not a JSON envelope".into()))?;
    envelope["error"]["details"]["placeholder_dir"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| unusable("it names no `error.details.placeholder_dir`".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_input_is_bounded() {
        let big = "a".repeat(MAX_PASTE + 1);
        let e = RedirectInput::Stdin(Box::new(std::io::Cursor::new(big.into_bytes())))
            .read()
            .unwrap_err();
        assert_eq!(e.code(), "OAUTH_PASTE_ERROR");
        let ok = RedirectInput::Arg("x".repeat(MAX_PASTE)).read().unwrap();
        assert_eq!(ok.len(), MAX_PASTE);
    }
}
