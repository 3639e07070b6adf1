//! The router (`docs/mock-idp.md`): one `Respond` impl sends every request to its endpoint's handler over
//! the shared state, after any pending fault, and records it in the journal.

use std::sync::{Arc, Mutex, OnceLock, Weak};

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

/// wiremock counts its resets in a `u16` that overflows (a panic in a debug build).
const MAX_REMOUNTS: u64 = u16::MAX as u64 - 1;

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
    if lock(state).remounts >= MAX_REMOUNTS {
        return;
    }
    let (state, mounts) = (state.clone(), mounts.clone());
    runtime.spawn(async move { remount(&server, &state, &mounts).await });
}

/// Resets wiremock's mocks (freeing the requests they kept) and mounts ours again.
pub(crate) async fn remount(
    server: &Arc<MockServer>,
    state: &Arc<Mutex<State>>,
    mounts: &Arc<Mounts>,
) {
    server.reset().await;
    mount(server, state, mounts).await;
    lock(state).remounts += 1;
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
            (_, None) if method == "GET" => metadata(&st, req, &path)
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
