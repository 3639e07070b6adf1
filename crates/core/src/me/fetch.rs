//! `GET /me` and the `me.json` files read back.

use super::*;
use std::path::Path;

use crate::context::Context;
use crate::endpoints::Endpoints;
use crate::error::{Error, MeFailure, Result};
use crate::http::{Call, Streamed};
use crate::interrupt::Interrupt;
use crate::secret::AccessToken;
use crate::store;

/// `GET /me` with the bearer token (429 and 5xx are retried), read as it arrives; with
/// `keep`, the body is written there as `me.json` (a failure to keep it is reported by
/// [`MeJson::commit`], not here). Failures carry the seed's `original_code` (`docs/envelopes.md#error-codes`):
/// `AUTH_FAILED`, `QUERY_FAILED`, `SERVER_ERROR`, `RATE_LIMITED`, `HTTP_ERROR`; a body that is
/// not a `/me` answer is `ME_INVALID` (`docs/seed.md#where-the-kit-differs`: unparsable, a `status` other than `ok`, or
/// neither `results` nor `projects`; the seed publishes such an answer as an empty account).
pub fn fetch(
    ctx: &Context,
    endpoints: &Endpoints,
    token: &AccessToken,
    mut keep: Option<&mut MeJson>,
) -> Result<MeBody> {
    let (http, progress) = (&ctx.http, ctx.progress);
    let url = endpoints.me();
    let reply = http.send_streaming(
        "fetching /me",
        url.as_str(),
        Call::Me,
        progress,
        |c| c.get(url.clone()).bearer_auth(token.secret()),
        |_, body| {
            if let Some(out) = keep.as_deref_mut() {
                out.restart();
            }
            MeBody::read(body, keep.as_deref_mut()).map_err(|e| match e {
                // The connection's own failures are told apart by the HTTP layer.
                ReadError::Io(e) => crate::http::read_failed(url.as_str(), e),
                ReadError::Invalid(message) => invalid(message),
            })
        },
    );
    let reply = crate::http::as_step(reply, |message| Error::MeFetch {
        failure: MeFailure::Network,
        message,
    })?;
    let body = match reply {
        Streamed::Read(body) => body,
        Streamed::Failed(reply) => {
            let message = match reply.status {
                401 => "HTTP 401: the server did not accept the access token".to_string(),
                s => format!("HTTP {s}"),
            };
            return Err(Error::MeFetch {
                failure: MeFailure::Status(reply.status),
                message,
            });
        }
    };
    check_fetched(body)
}

/// A fetched body must be a `/me` answer: a `status` other than `ok`, or neither `results` nor
/// `projects`, is `ME_INVALID`.
pub(super) fn check_fetched(body: MeBody) -> Result<MeBody> {
    if let Some(status) = body.status.as_deref().filter(|s| *s != "ok") {
        return Err(invalid(format!(
            "the /me answer has status `{}`, not `ok`",
            status.chars().take(40).collect::<String>()
        )));
    }
    if !body.recognizable {
        return Err(invalid(
            "the /me answer has neither `results` nor `projects`".into(),
        ));
    }
    Ok(body)
}

fn invalid(message: String) -> Error {
    Error::MeFetch {
        failure: MeFailure::Invalid,
        message,
    }
}

/// Reads a `me.json` (or any `/me` body) from a file without following a symlink.
pub fn read_file(path: &Path) -> Result<MeBody> {
    walk_file(path, None, Reading::View)
}

/// Writes the `me.json` at `path` anew from itself: member lists dropped, a new `cached_at`
/// (the account's copy at publish, `docs/files.md#published-accounts`). Organizations and projects are only copied.
pub fn rewrite(interrupt: &Interrupt, path: &Path) -> Result<()> {
    let mut out = MeJson::create(interrupt, path)?;
    walk_file(path, Some(&mut out), Reading::CopyOnly)?;
    out.commit()
}

fn walk_file(path: &Path, out: Option<&mut MeJson>, reading: Reading) -> Result<MeBody> {
    let file = store::open_no_follow(path)?;
    MeBody::walk(file, out, reading).map_err(|e| match e {
        ReadError::Io(e) => Error::io("cannot read", path, e),
        ReadError::Invalid(message) => invalid(message),
    })
}
