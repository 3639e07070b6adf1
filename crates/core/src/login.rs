//! The three commands as functions: `start`, `finish` and `resume` (SPEC §1, §7, §10).
//!
//! ```text
//! start:   oauth::register (client cache) → pkce + state → inflight::save
//! finish:  inflight::load → redirect::parse → state check → oauth::exchange
//!          → publish::placeholder → inflight::remove → publish::tail
//! resume:  publish::open_placeholder (root guard, meta) → publish::tail
//! ```

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use subtle::ConstantTimeEq;

use crate::clock;
use crate::error::{Error, Result};
use crate::http::{Http, Progress};
use crate::inflight::Inflight;
use crate::naming;
use crate::oauth;
use crate::pkce;
use crate::publish::{self, Meta, Paths, Published, TailOptions};
use crate::redirect::{self, Redirect, MAX_PASTE};
use crate::region::{Endpoints, Region};
use crate::store;

/// Everything a command needs from its surroundings.
pub struct Context<'a> {
    pub paths: Paths,
    pub http: Http,
    pub progress: &'a dyn Progress,
}

pub struct StartOptions {
    pub region: Region,
    pub base_url: Option<String>,
    pub redirect_port: u16,
    pub ttl: Duration,
    pub scope: String,
    pub inflight_path: PathBuf,
    pub account_name: Option<String>,
    pub project_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Started {
    pub authorize_url: String,
    pub redirect_uri: String,
    pub region: Region,
    pub expires_at: String,
    pub inflight_path: PathBuf,
    pub replaced_previous: bool,
    pub next: String,
}

pub fn start(ctx: &Context, opts: StartOptions) -> Result<Started> {
    if let Some(name) = &opts.account_name {
        naming::validate(name)?;
    }
    let endpoints = Endpoints::new(opts.region, opts.base_url.as_deref())?;
    let redirect_uri = format!("http://localhost:{}/callback", opts.redirect_port);
    let client = oauth::register_or_reuse(
        &ctx.http,
        ctx.progress,
        &ctx.paths.storage,
        &endpoints,
        &redirect_uri,
        &opts.scope,
    )?;
    let verifier = pkce::new_verifier();
    let state = pkce::new_state();
    let authorize_url = oauth::authorize_url(
        &endpoints,
        &client.client_id,
        &redirect_uri,
        &state,
        &pkce::challenge(&verifier),
    );
    let now = clock::now();
    let inflight = Inflight {
        created_at: now,
        expires_at: now + opts.ttl,
        region: opts.region,
        base_url: endpoints.base_url(),
        client_id: client.client_id,
        redirect_uri: redirect_uri.clone(),
        state,
        code_verifier: verifier,
        account_name: opts.account_name,
        project_id: opts.project_id,
    };
    let replaced_previous = inflight.save(&opts.inflight_path)?;
    let default_inflight = crate::inflight::default_path(&ctx.paths.storage);
    let inflight_flag = if opts.inflight_path == default_inflight {
        String::new()
    } else {
        format!(
            " --inflight {}",
            shell_quote(&opts.inflight_path.to_string_lossy())
        )
    };
    Ok(Started {
        authorize_url: authorize_url.to_string(),
        redirect_uri,
        region: opts.region,
        expires_at: clock::rfc3339(inflight.expires_at),
        inflight_path: opts.inflight_path,
        replaced_previous,
        next: format!("mp-login-finish{inflight_flag} '<the URL the browser landed on>'"),
    })
}

/// Where finish reads the pasted redirect from (SPEC §10).
pub enum RedirectInput {
    Arg(String),
    File(PathBuf),
    Stdin(Box<dyn Read>),
}

impl RedirectInput {
    /// The text, refusing more than 64 KiB without reading further.
    pub fn read(self) -> Result<String> {
        let too_big = || Error::RedirectInvalid {
            message: format!("the pasted text is larger than {} KiB", MAX_PASTE / 1024),
            hint: "pass only the URL the browser landed on".into(),
        };
        let bytes = match self {
            RedirectInput::Arg(s) => s.into_bytes(),
            RedirectInput::File(path) => std::fs::File::open(&path)
                .and_then(read_bounded)
                .map_err(|e| {
                    Error::invalid_args(format!(
                        "cannot read --redirect-file `{}`: {e}",
                        path.display()
                    ))
                })?,
            RedirectInput::Stdin(r) => read_bounded(r)
                .map_err(|e| Error::invalid_args(format!("cannot read stdin: {e}")))?,
        };
        if bytes.len() > MAX_PASTE {
            return Err(too_big());
        }
        String::from_utf8(bytes).map_err(|_| Error::RedirectInvalid {
            message: "the pasted text is not UTF-8".into(),
            hint: "pass only the URL the browser landed on".into(),
        })
    }
}

fn read_bounded(r: impl Read) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    r.take(MAX_PASTE as u64 + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

pub struct FinishOptions {
    pub inflight_path: PathBuf,
    pub input: RedirectInput,
    pub account_name: Option<String>,
    pub project_id: Option<String>,
    pub env_project: Option<String>,
}

pub fn finish(ctx: &Context, opts: FinishOptions) -> Result<Published> {
    // Read the input first: in `mp-login-start | mock-idp approve | mp-login-finish` the
    // inflight file exists only once the redirect has arrived on stdin.
    let text = opts.input.read()?;
    let inflight = Inflight::load(&opts.inflight_path, clock::now())?;
    let same_state = |state: &str| bool::from(state.as_bytes().ct_eq(inflight.state.as_bytes()));
    let (code, state) = match redirect::parse(&text, &inflight.redirect_uri)? {
        // A denial of another login (its state differs) must not end this one.
        Redirect::Denied { state: Some(s), .. } if !same_state(&s) => {
            return Err(Error::StateMismatch)
        }
        Redirect::Denied {
            error, description, ..
        } => {
            store::remove_if_exists(&opts.inflight_path)?;
            return Err(Error::AccessDenied { error, description });
        }
        Redirect::Code { code, state } => (code, state),
    };
    if !same_state(&state) {
        return Err(Error::StateMismatch);
    }
    let endpoints = Endpoints::new(inflight.region, Some(&inflight.base_url))?;
    let tokens = match oauth::exchange(
        &ctx.http,
        ctx.progress,
        &endpoints,
        &inflight.client_id,
        &inflight.redirect_uri,
        code,
        inflight.code_verifier,
    ) {
        Err(e @ Error::TokenError { .. }) if is_invalid_grant(&e) => {
            store::remove_if_exists(&opts.inflight_path)?;
            return Err(e);
        }
        other => other?,
    };
    let placeholder = publish::create_placeholder(
        &ctx.paths,
        &tokens,
        Meta {
            schema_version: 1,
            region: inflight.region,
            base_url: inflight.base_url,
            client_id: inflight.client_id,
            created_at: clock::rfc3339(clock::now()),
            account_name: opts.account_name.or(inflight.account_name),
            project_id: opts.project_id.or(inflight.project_id),
        },
    )?;
    store::remove_if_exists(&opts.inflight_path)?;
    let tail_options = TailOptions {
        env_project: opts.env_project,
        ..TailOptions::default()
    };
    publish::tail(
        &ctx.http,
        ctx.progress,
        &ctx.paths,
        &placeholder,
        &tail_options,
    )
    .map_err(|cause| {
        match cause {
            // The placeholder is gone: nothing to resume.
            e @ Error::NeedsRegionSwitch { .. } => e,
            cause => Error::PublishFailed {
                resume_hint: resume_command(&placeholder.dir, &cause),
                placeholder_dir: placeholder.dir.clone(),
                cause: Box::new(cause),
            },
        }
    })
}

fn is_invalid_grant(e: &Error) -> bool {
    matches!(e, Error::TokenError { oauth_error: Some(c), .. } if c == "invalid_grant")
}

/// The exact `mp-login-resume` command for a placeholder; a name problem needs a new name.
fn resume_command(dir: &Path, cause: &Error) -> String {
    let name = match cause {
        Error::InvalidAccountName { .. } | Error::AccountExists { .. } => " --name <new-name>",
        _ => "",
    };
    format!(
        "mp-login-resume {}{name}",
        shell_quote(&dir.to_string_lossy())
    )
}

pub fn resume(ctx: &Context, placeholder_dir: &Path, options: &TailOptions) -> Result<Published> {
    let placeholder = publish::open_placeholder(&ctx.paths, placeholder_dir)?;
    publish::tail(&ctx.http, ctx.progress, &ctx.paths, &placeholder, options)
}

/// The `details.placeholder_dir` of a failed finish's (or an interrupted run's) envelope file.
pub fn placeholder_from_envelope(path: &Path) -> Result<PathBuf> {
    let unusable = |why: String| {
        Error::invalid_input(
            format!("cannot take a placeholder from `{}`: {why}", path.display()),
            "pass the envelope file of a `mp-login-finish` that failed after saving the tokens, or the placeholder directory itself",
        )
    };
    let bytes = std::fs::read(path).map_err(|e| unusable(e.to_string()))?;
    let envelope: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| unusable("it is not a JSON envelope".into()))?;
    envelope["error"]["details"]["placeholder_dir"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| unusable("it names no `error.details.placeholder_dir`".into()))
}

/// Single-quotes `s` for a POSIX shell when it holds anything but safe characters.
pub fn shell_quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@,%".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("/a/b/.tmp-1"), "/a/b/.tmp-1");
        assert_eq!(shell_quote("/a b/it's"), r"'/a b/it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn pasted_input_is_bounded() {
        let big = "a".repeat(MAX_PASTE + 1);
        let e = RedirectInput::Stdin(Box::new(std::io::Cursor::new(big.into_bytes())))
            .read()
            .unwrap_err();
        assert_eq!(e.code(), "OAUTH_REDIRECT_INVALID");
        let ok = RedirectInput::Arg("x".repeat(MAX_PASTE)).read().unwrap();
        assert_eq!(ok.len(), MAX_PASTE);
    }
}
