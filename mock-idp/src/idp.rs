//! The router (`docs/mock-idp.md`): one `Respond` impl sends every request to its endpoint's handler over
//! the shared state, after any pending fault, and records it in the journal.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Context, Poll};

use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Match, Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::admin::After;
use crate::faults::{fault_error, Endpoint, Fault};
use crate::me::me;
use crate::oauth::{authorize, grant_type, metadata, register, revoke, token};
use crate::state::{json_response, lock, Reply, State};

/// Matches requests whose endpoint has a `drop` fault pending (and spends it): the mock that
/// carries it answers with an error, which closes the connection. wiremock keeps a copy of
/// each request it matches, like the responder's: they count towards the next remount too.
pub(crate) struct DropConnection {
    state: Arc<Mutex<State>>,
    mounts: Arc<Mounts>,
}

impl Match for DropConnection {
    fn matches(&self, req: &Request) -> bool {
        let method = req.method.as_str();
        let path = req.url.path();
        let Some(endpoint) = Endpoint::of(method, path) else {
            return false;
        };
        let remount = {
            let mut st = lock(&self.state);
            if st.take_fault(endpoint, |f| f.drop).is_none() {
                return false;
            }
            st.record(method, path, 0, None);
            st.count_for_remount(req.body.len())
        };
        if remount {
            remount_later(&self.state, &self.mounts);
        }
        true
    }
}

/// The way back from the mounted mocks to their server, to mount them again.
#[derive(Default)]
pub(crate) struct Mounts {
    server: OnceLock<Weak<MockServer>>,
}

/// The wiremock server the mock's routes are mounted on, serving `listener`; it records no
/// requests of its own (the journal does, bounded).
pub(crate) async fn server_on(listener: std::net::TcpListener) -> Arc<MockServer> {
    Arc::new(
        MockServer::builder()
            .listener(listener)
            .disable_request_recording()
            .start()
            .await,
    )
}

/// Mounts the mock's two wiremock mocks on `server`, and remembers `server` for remounting.
pub(crate) async fn mount(
    server: &Arc<MockServer>,
    state: &Arc<Mutex<State>>,
    mounts: &Arc<Mounts>,
) {
    let _ = mounts.server.set(Arc::downgrade(server));
    // Checked first: a pending `drop` fault closes the connection without an answer.
    server
        .register(
            Mock::given(DropConnection {
                state: state.clone(),
                mounts: mounts.clone(),
            })
            .respond_with_err(|_: &Request| {
                std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "injected drop")
            })
            .with_priority(1),
        )
        .await;
    server
        .register(
            Mock::given(any())
                .respond_with(Idp {
                    state: state.clone(),
                    mounts: mounts.clone(),
                })
                .with_priority(2),
        )
        .await;
}

/// The wiremock responder over the shared state.
pub(crate) struct Idp {
    state: Arc<Mutex<State>>,
    mounts: Arc<Mounts>,
}

/// Makes wiremock forget the requests it kept (each mounted mock keeps a copy of every
/// request it matched, whatever the server's recording setting): its mocks are reset and
/// mounted again by a task on wiremock's own runtime, once this answer is out of its hands.
/// That runtime is single-threaded and nothing holds the server's lock across an await,
/// so the reset and the new mounts happen in one poll: no request finds the server bare.
fn remount_later(state: &Arc<Mutex<State>>, mounts: &Arc<Mounts>) {
    let server = mounts.server.get().and_then(Weak::upgrade);
    let (Some(server), Ok(runtime)) = (server, tokio::runtime::Handle::try_current()) else {
        return;
    };
    let (state, mounts) = (state.clone(), mounts.clone());
    runtime.spawn(async move { remount(&server, &state, &mounts).await });
}

/// Resets wiremock's mocks (freeing the requests they kept) and mounts ours again.
///
/// wiremock 0.6 counts its resets in a `u16` (`MountedMockSet::generation`, used only to check
/// the ids of scoped mocks, which the mock never registers). Its reset empties the mock set
/// first and bumps the counter after: past 65,535 resets the bump wraps where overflow checks
/// are off (release builds) and panics where they are on, with the set already emptied and
/// wiremock's lock released as the panic unwinds. That panic is caught here, inside the same
/// poll, so the mocks are mounted again and every later reset frees memory as the first did.
pub(crate) async fn remount(
    server: &Arc<MockServer>,
    state: &Arc<Mutex<State>>,
    mounts: &Arc<Mounts>,
) {
    let _overflowed = CatchUnwind(Box::pin(server.reset())).await;
    mount(server, state, mounts).await;
    lock(state).remounts += 1;
}

/// A future whose panic while polled is returned as an `Err` (what `futures`' `catch_unwind`
/// does; that crate is not a dependency).
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(move || inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

impl Respond for Idp {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let (resp, after) = self.answer(req);
        let remount = lock(&self.state).count_for_remount(req.body.len());
        if remount || matches!(after, After::Reset) {
            remount_later(&self.state, &self.mounts);
        }
        resp
    }
}

impl Idp {
    fn answer(&self, req: &Request) -> (ResponseTemplate, After) {
        let path = req.url.path().to_string();
        if path == "/__admin" || path.starts_with("/__admin/") {
            return crate::admin::respond(&self.state, req);
        }
        let mut st = lock(&self.state);
        let method = req.method.as_str().to_string();
        let endpoint = Endpoint::of(&method, &path);
        let fault = endpoint.and_then(|e| st.take_fault(e, |f| !f.drop));
        let Reply(status, mut resp) = match (&fault, endpoint) {
            (
                Some(Fault {
                    status,
                    body: Some(body),
                    content_type,
                    retry_after,
                    ..
                }),
                _,
            ) => {
                let s = status.unwrap_or(200);
                let mut r = ResponseTemplate::new(s).set_body_raw(
                    body.clone().into_bytes(),
                    content_type.as_deref().unwrap_or("application/json"),
                );
                if let Some(secs) = retry_after {
                    r = r.insert_header("Retry-After", secs.to_string().as_str());
                }
                Reply(s, r)
            }
            (
                Some(Fault {
                    status: Some(s),
                    retry_after,
                    ..
                }),
                _,
            ) => {
                let Reply(s, mut r) = json_response(
                    *s,
                    json!({"error": fault_error(*s), "error_description": "injected fault"}),
                );
                if let Some(secs) = retry_after {
                    r = r.insert_header("Retry-After", secs.to_string().as_str());
                }
                Reply(s, r)
            }
            (_, Some(Endpoint::Register)) => register(&mut st, req),
            (_, Some(Endpoint::Authorize)) => authorize(&mut st, req),
            (_, Some(Endpoint::Token)) => token(&mut st, req),
            (_, Some(Endpoint::Revoke)) => revoke(&mut st, req),
            (_, Some(Endpoint::Me)) => me(&mut st, req),
            (_, None) if method == "GET" || method == "HEAD" => metadata(&st, req, &path)
                .unwrap_or_else(|| json_response(404, json!({"error": "not_found"}))),
            (_, None) => json_response(404, json!({"error": "not_found"})),
        };
        if let Some(delay) = fault.and_then(|f| f.delay) {
            resp = resp.set_delay(delay);
        }
        let grant = (endpoint == Some(Endpoint::Token))
            .then(|| grant_type(req))
            .flatten();
        st.record(&method, &path, status, grant);
        (resp, After::Nothing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: after 65,534 remounts the mock stopped making wiremock forget (wiremock's
    /// reset counter is a `u16` whose overflow panics with overflow checks on), so every later
    /// request stayed in memory. A remount past the counter's range still empties the mock
    /// set and mounts the mock again: the server answers, and each remount is counted.
    #[test]
    fn remounts_keep_working_past_wiremocks_u16_reset_counter() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let state = Arc::new(Mutex::new(State::new()));
        let mounts = Arc::new(Mounts::default());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let server = runtime.block_on(async {
            let server = server_on(listener).await;
            mount(&server, &state, &mounts).await;
            let past = u64::from(u16::MAX) + 70;
            for _ in 0..past {
                remount(&server, &state, &mounts).await;
            }
            assert_eq!(lock(&state).remounts, past);
            server
        });
        let url = format!("{}/.well-known/oauth-authorization-server", server.uri());
        let status = reqwest::blocking::get(url).unwrap().status();
        assert_eq!(status, 200, "the mocks are mounted after the last remount");
    }
}
