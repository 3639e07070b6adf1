//! The admin surface under `/__admin/` (`docs/mock-idp.md`): what a script or another language's test
//! suite uses to drive a standalone mock. JSON in, JSON out; admin requests are not journaled.
//!
//! | method and path | body | does |
//! |---|---|---|
//! | `GET /__admin` | | status: scenario, faults, settings, journal size, the routes |
//! | `POST /__admin/scenario` | `{"name": "multi-org", "large_projects": 20000}` | switch scenario (clears faults) |
//! | `PUT /__admin/me` | a `/me` body, wrapped or bare | serve this body from `/me` |
//! | `POST /__admin/faults` | `{"endpoint": "me", "status": 500, "retry_after": 1, "delay_ms": 2000, "drop": false, "times": 3, "body": "…", "content_type": "application/json"}` | inject a fault (no `times`: until cleared) on `register`, `authorize`, `token`, `revoke` or `me`; `body` is served byte for byte (with `status`, else 200); any other field is refused |
//! | `DELETE /__admin/faults[/ENDPOINT]` | | clear all faults, or one endpoint's |
//! | `GET /__admin/journal[?since=SEQ]` | | `{"capacity", "total", "entries": [{seq, method, path, status}]}` |
//! | `DELETE /__admin/journal` | | empty the journal |
//! | `POST /__admin/settings` | `{"deny": true, "code_ttl_secs": 60, "access_token_ttl_secs": 3600, "journal_capacity": 1000, "iss": "send"\|"omit"\|"wrong", "metadata": true}` (any subset) | change settings |
//! | `GET /__admin/secrets` | | `{"issued": […]}`: codes, tokens and verifiers seen, for leak scans |
//! | `POST /__admin/reset` | | back to a fresh server (clients, codes, tokens, faults, journal, scenario `single`) |
//!
//! A setting the mock cannot serve (a TTL over ten years, a journal over a million entries) is
//! refused with 400 and the reason; a body over 64 MiB (`PUT /__admin/me`) or 64 KiB (the
//! others) with 413.

use std::sync::Mutex;

use serde::Deserialize;
use serde_json::{json, Value};
use wiremock::{Request, ResponseTemplate};

use crate::faults::{Endpoint, Fault, FAULT_FIELDS};
use crate::scenario::Scenario;
use crate::state::{json_response, lock, Reply, Settings, State};

const ROUTES: [&str; 10] = [
    "GET /__admin",
    "POST /__admin/scenario",
    "PUT /__admin/me",
    "POST /__admin/faults",
    "DELETE /__admin/faults[/ENDPOINT]",
    "GET /__admin/journal[?since=SEQ]",
    "DELETE /__admin/journal",
    "POST /__admin/settings",
    "GET /__admin/secrets",
    "POST /__admin/reset",
];

/// The largest admin body parsed: a `/me` body, and anything else. (wiremock has read the
/// request by the time the mock sees it; the cap keeps a huge body from being parsed too.)
const MAX_ME_BODY: usize = 64 << 20;
const MAX_OTHER_BODY: usize = 64 << 10;

/// The longest TTL a setting may give: ten years, so every expiry stays a time the mock can
/// compute.
const MAX_TTL_SECS: u64 = 10 * 365 * 24 * 3600;
const MAX_JOURNAL_CAPACITY: usize = 1_000_000;

pub(crate) fn respond(state: &Mutex<State>, req: &Request) -> ResponseTemplate {
    let path = req.url.path().trim_end_matches('/');
    let method = req.method.as_str();
    let cap = match path {
        "/__admin/me" => MAX_ME_BODY,
        _ => MAX_OTHER_BODY,
    };
    if req.body.len() > cap {
        return json_response(
            413,
            json!({"error": "too_large", "message": format!(
                "the body is {} bytes; this route takes at most {cap} (a large /me: `mock-idp serve --scenario large`)",
                req.body.len()
            )}),
        )
        .1;
    }
    let mut st = lock(state);
    let Reply(_, resp) = route(&mut st, method, path, req);
    resp
}

fn bad(message: impl Into<String>) -> Reply {
    json_response(
        400,
        json!({"error": "bad_request", "message": message.into()}),
    )
}

fn body<T: for<'de> Deserialize<'de>>(req: &Request) -> Result<T, String> {
    serde_json::from_slice(&req.body)
        .map_err(|e| format!("the body is not what this route takes: {e}"))
}

fn status(st: &State) -> Value {
    json!({
        "scenario": st.scenario,
        "scenarios": Scenario::names(),
        "faults": st.faults(),
        "settings": st.settings,
        "journal": {"capacity": st.settings.journal_capacity, "len": st.journal().len(), "total": st.journal_total()},
        "routes": ROUTES,
        "fault_endpoints": endpoint_names(),
        "fault_fields": FAULT_FIELDS,
    })
}

fn endpoint_names() -> Vec<&'static str> {
    Endpoint::ALL.iter().map(|e| e.as_str()).collect()
}

fn route(st: &mut State, method: &str, path: &str, req: &Request) -> Reply {
    let sub = path.strip_prefix("/__admin").unwrap_or("");
    match (method, sub) {
        ("GET", "") => json_response(200, status(st)),
        ("POST", "/scenario") => {
            #[derive(Deserialize)]
            struct Switch {
                name: String,
                large_projects: Option<usize>,
            }
            let s: Switch = match body(req) {
                Ok(s) => s,
                Err(m) => return bad(m),
            };
            match Scenario::named(&s.name, s.large_projects) {
                Some(scenario) => {
                    st.apply(scenario.applied());
                    json_response(200, status(st))
                }
                None => bad(format!(
                    "unknown scenario `{}`; known: {}",
                    s.name,
                    Scenario::names().join(", ")
                )),
            }
        }
        ("PUT", "/me") => match serde_json::from_slice::<Value>(&req.body) {
            Ok(v) if v.is_object() => {
                st.set_me(v);
                json_response(200, status(st))
            }
            _ => bad("the body must be a JSON object (a /me body, wrapped or bare)"),
        },
        ("POST", "/faults") => {
            #[derive(Deserialize)]
            struct Inject {
                endpoint: String,
                #[serde(flatten)]
                fault: Fault,
            }
            // Unknown fields are refused by name, as settings are (flatten cannot deny them).
            if let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&req.body) {
                if let Some(unknown) = fields
                    .keys()
                    .find(|k| *k != "endpoint" && !FAULT_FIELDS.contains(&k.as_str()))
                {
                    return bad(format!(
                        "unknown fault field `{unknown}`; a fault takes endpoint, {}",
                        FAULT_FIELDS.join(", ")
                    ));
                }
            }
            let i: Inject = match body(req) {
                Ok(i) => i,
                Err(m) => return bad(m),
            };
            let Some(endpoint) = Endpoint::parse(&i.endpoint) else {
                return bad(format!(
                    "unknown endpoint `{}`: use {}",
                    i.endpoint,
                    endpoint_names().join(", ")
                ));
            };
            let f = &i.fault;
            if f.status.is_none() && f.delay.is_none() && !f.drop && f.body.is_none() {
                return bad("a fault needs `status`, `delay_ms`, `drop` or `body`");
            }
            if i.fault.status.is_some_and(|s| !(100..=599).contains(&s)) {
                return bad("`status` must be an HTTP status (100-599)");
            }
            if i.fault.times == Some(0) {
                return bad("`times` must be at least 1 (leave it out for until cleared)");
            }
            st.set_fault(endpoint, i.fault);
            json_response(201, json!({"faults": st.faults()}))
        }
        ("DELETE", "/faults") => {
            st.clear_faults(None);
            json_response(200, json!({"faults": st.faults()}))
        }
        ("DELETE", e) if e.starts_with("/faults/") => match Endpoint::parse(&e["/faults/".len()..])
        {
            Some(endpoint) => {
                st.clear_faults(Some(endpoint));
                json_response(200, json!({"faults": st.faults()}))
            }
            None => bad(format!(
                "unknown endpoint: use {}",
                endpoint_names().join(", ")
            )),
        },
        ("GET", "/journal") => {
            let since: u64 = req
                .url
                .query_pairs()
                .find(|(k, _)| k == "since")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            let entries: Vec<_> = st.journal().into_iter().filter(|e| e.seq > since).collect();
            json_response(
                200,
                json!({"capacity": st.settings.journal_capacity, "total": st.journal_total(), "entries": entries}),
            )
        }
        ("DELETE", "/journal") => {
            st.clear_journal();
            json_response(200, json!({"entries": []}))
        }
        ("POST", "/settings") => {
            let patch: Value = match body(req) {
                Ok(v) => v,
                Err(m) => return bad(m),
            };
            let mut merged = serde_json::to_value(&st.settings).expect("settings serialize");
            let (Some(m), Some(p)) = (merged.as_object_mut(), patch.as_object()) else {
                return bad("the body must be a JSON object");
            };
            for (k, v) in p {
                if !m.contains_key(k) {
                    return bad(format!("unknown setting `{k}`"));
                }
                m.insert(k.clone(), v.clone());
            }
            match serde_json::from_value::<Settings>(merged) {
                Ok(s)
                    if s.code_ttl_secs > MAX_TTL_SECS || s.access_token_ttl_secs > MAX_TTL_SECS =>
                {
                    bad(format!(
                        "a TTL must be at most {MAX_TTL_SECS} seconds (ten years)"
                    ))
                }
                Ok(s) if s.journal_capacity > MAX_JOURNAL_CAPACITY => bad(format!(
                    "`journal_capacity` must be at most {MAX_JOURNAL_CAPACITY}"
                )),
                Ok(s) => {
                    st.settings = s;
                    json_response(200, json!({"settings": st.settings}))
                }
                Err(e) => bad(format!("bad setting value: {e}")),
            }
        }
        ("GET", "/secrets") => json_response(200, json!({"issued": st.secrets()})),
        ("POST", "/reset") => {
            st.reset();
            json_response(200, status(st))
        }
        _ => json_response(404, json!({"error": "not_found", "routes": ROUTES})),
    }
}
