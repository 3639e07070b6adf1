//! The router (`docs/mock-idp.md`): one `Respond` impl sends every request to its endpoint's handler over
//! the shared state, after any pending fault, and records it in the journal.

use std::sync::{Arc, Mutex};

use serde_json::json;
use wiremock::{Match, Request, Respond, ResponseTemplate};

use crate::faults::{fault_error, Endpoint, Fault};
use crate::me::me;
use crate::oauth::{authorize, grant_type, metadata, register, revoke, token};
use crate::state::{json_response, lock, Reply, State};

/// Matches requests whose endpoint has a `drop` fault pending (and spends it): the mock that
/// carries it answers with an error, which closes the connection.
pub(crate) struct DropConnection(pub(crate) Arc<Mutex<State>>);

impl Match for DropConnection {
    fn matches(&self, req: &Request) -> bool {
        let method = req.method.as_str();
        let path = req.url.path();
        let Some(endpoint) = Endpoint::of(method, path) else {
            return false;
        };
        let mut st = lock(&self.0);
        if st.take_fault(endpoint, |f| f.drop).is_none() {
            return false;
        }
        st.record(method, path, 0, None);
        true
    }
}

/// The wiremock responder over the shared state.
pub(crate) struct Idp(pub(crate) Arc<Mutex<State>>);

impl Respond for Idp {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let path = req.url.path().to_string();
        if path == "/__admin" || path.starts_with("/__admin/") {
            return crate::admin::respond(&self.0, req);
        }
        let mut st = lock(&self.0);
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
        resp
    }
}
