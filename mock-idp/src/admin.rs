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
//! | `GET /__admin/journal[?since=SEQ]` | | `{"capacity", "total", "dropped", "entries": [{seq, method, path, status}]}` |
//! | `DELETE /__admin/journal` | | empty the journal |
//! | `POST /__admin/settings` | `{"deny": true, "code_ttl_secs": 60, "access_token_ttl_secs": 3600, "journal_capacity": 1000, "iss": "send"\|"omit"\|"wrong", "metadata": true, "metadata_overrides": {"issuer": "…"}, "refresh_tokens": false}` (any subset) | change settings |
//! | `GET /__admin/secrets` | | `{"issued": […]}`: codes, tokens and verifiers seen, for leak scans |
//! | `POST /__admin/reset` | | back to the start: the scenario, faults and settings the server started with (`serve`'s options); no client, code, token, secret or journal entry |
//!
//! Every field is read on its own, so a refusal (400) names the field and says what it takes: a
//! number outside its bound (`crate::limits`), a value that cannot go into a header, an unknown
//! field. A body over 64 MiB (`PUT /__admin/me`) or 64 KiB (the others) is refused with 413.

use std::sync::Mutex;

use serde_json::{json, Map, Value};
use wiremock::{Request, ResponseTemplate};

use crate::faults::{Endpoint, Fault, FAULT_FIELDS};
use crate::limits::{self, Bound};
use crate::scenario::Scenario;
use crate::state::{json_response, lock, IssMode, Reply, Settings, State, SETTINGS_FIELDS};

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

/// What an admin request asks of the server beyond its answer.
pub(crate) enum After {
    Nothing,
    /// The state was reset: let wiremock forget the requests it kept too.
    Reset,
}

pub(crate) fn respond(state: &Mutex<State>, req: &Request) -> (ResponseTemplate, After) {
    let path = req.url.path().trim_end_matches('/');
    let method = req.method.as_str();
    let cap = match path {
        "/__admin/me" => MAX_ME_BODY,
        _ => MAX_OTHER_BODY,
    };
    if req.body.len() > cap {
        let reply = json_response(
            413,
            json!({"error": "too_large", "message": format!(
                "the body is {} bytes; this route takes at most {cap} (a large /me: `mock-idp serve --scenario large`)",
                req.body.len()
            )}),
        );
        return (reply.1, After::Nothing);
    }
    let mut st = lock(state);
    let after = match (method, path) {
        ("POST", "/__admin/reset") => After::Reset,
        _ => After::Nothing,
    };
    let Reply(_, resp) = route(&mut st, method, path, req).unwrap_or_else(bad);
    (resp, after)
}

fn bad(message: String) -> Reply {
    json_response(400, json!({"error": "bad_request", "message": message}))
}

/// A JSON object body read field by field, so that every refusal names its field. `null` is
/// the same as leaving a field out.
struct Fields(Map<String, Value>);

impl Fields {
    /// The body's fields, refusing any not in `known` by name.
    fn of(req: &Request, what: &str, known: &[&str]) -> Result<Fields, String> {
        let fields = match serde_json::from_slice::<Value>(&req.body) {
            Ok(Value::Object(fields)) => fields,
            Ok(_) => return Err("the body must be a JSON object".into()),
            Err(e) => return Err(format!("the body is not JSON: {e}")),
        };
        if let Some(unknown) = fields.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(format!(
                "unknown {what} `{unknown}`; it takes {}",
                known.join(", ")
            ));
        }
        Ok(Fields(fields))
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    fn number(&self, bound: Bound) -> Result<Option<u64>, String> {
        self.get(bound.field).map(|v| bound.of_json(v)).transpose()
    }

    fn string(&self, name: &str) -> Result<Option<String>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!("`{name}` must be a string; got {other}")),
        }
    }

    fn boolean(&self, name: &str) -> Result<Option<bool>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(format!("`{name}` must be true or false; got {other}")),
        }
    }
}

/// A bounded number where the type is smaller than `u64` (the bounds keep it in range).
fn narrow<T: TryFrom<u64>>(bound: Bound, n: u64) -> Result<T, String> {
    T::try_from(n).map_err(|_| format!("`{}` is too large: {n}", bound.field))
}

fn status(st: &State) -> Value {
    let limits: Map<String, Value> = limits::ALL
        .iter()
        .map(|b| {
            (
                b.field.to_string(),
                json!({"min": b.min, "max": b.max, "meaning": b.meaning}),
            )
        })
        .collect();
    json!({
        "scenario": st.scenario,
        "scenarios": Scenario::names(),
        "faults": st.faults(),
        "settings": st.settings,
        "journal": {"capacity": st.settings.journal_capacity, "len": st.journal.len(), "total": st.journal_total(), "dropped": st.journal_dropped},
        "live": st.live(),
        "limits": limits,
        "routes": ROUTES,
        "fault_endpoints": endpoint_names(),
        "fault_fields": FAULT_FIELDS,
    })
}

fn endpoint_names() -> Vec<&'static str> {
    Endpoint::ALL.iter().map(|e| e.as_str()).collect()
}

fn endpoint(name: &str) -> Result<Endpoint, String> {
    Endpoint::parse(name).ok_or_else(|| {
        format!(
            "unknown endpoint `{name}`: use {}",
            endpoint_names().join(", ")
        )
    })
}

/// One admin request's answer; an `Err` is a refusal (400) and its message.
fn route(st: &mut State, method: &str, path: &str, req: &Request) -> Result<Reply, String> {
    let sub = path.strip_prefix("/__admin").unwrap_or("");
    Ok(match (method, sub) {
        ("GET", "") => json_response(200, status(st)),
        ("POST", "/scenario") => {
            st.apply(scenario(req)?.applied());
            json_response(200, status(st))
        }
        ("PUT", "/me") => {
            st.set_me_json(&req.body)?;
            json_response(200, status(st))
        }
        ("POST", "/faults") => {
            let (endpoint, fault) = fault(req)?;
            st.set_fault(endpoint, fault);
            json_response(201, json!({"faults": st.faults()}))
        }
        ("DELETE", "/faults") => {
            st.clear_faults(None);
            json_response(200, json!({"faults": st.faults()}))
        }
        ("DELETE", e) if e.starts_with("/faults/") => {
            let name = e.strip_prefix("/faults/").unwrap_or_default();
            st.clear_faults(Some(endpoint(name)?));
            json_response(200, json!({"faults": st.faults()}))
        }
        ("GET", "/journal") => journal(st, req)?,
        ("DELETE", "/journal") => {
            st.clear_journal();
            json_response(200, json!({"entries": []}))
        }
        ("POST", "/settings") => {
            let settings = settings(req, &st.settings)?;
            st.set_settings(settings);
            json_response(200, json!({"settings": st.settings}))
        }
        ("GET", "/secrets") => json_response(200, json!({"issued": st.secrets()})),
        ("POST", "/reset") => {
            st.reset();
            json_response(200, status(st))
        }
        _ => json_response(404, json!({"error": "not_found", "routes": ROUTES})),
    })
}

/// `POST /__admin/scenario`: the scenario the body names, `large_projects` sizing `large` only.
fn scenario(req: &Request) -> Result<Scenario, String> {
    let f = Fields::of(req, "scenario field", &["name", "large_projects"])?;
    let name = f
        .string("name")?
        .ok_or("`name` is required: a scenario name")?;
    let projects = f
        .number(limits::LARGE_PROJECTS)?
        .map(|n| narrow(limits::LARGE_PROJECTS, n))
        .transpose()?;
    let scenario = Scenario::named(&name, projects).ok_or_else(|| {
        format!(
            "unknown scenario `{name}`; known: {}",
            Scenario::names().join(", ")
        )
    })?;
    if projects.is_some() && !matches!(scenario, Scenario::Large { .. }) {
        return Err(format!(
            "`large_projects` sizes the `large` scenario only; leave it out for `{name}`"
        ));
    }
    Ok(scenario)
}

/// `POST /__admin/faults`: the endpoint the body names and the fault to inject there, checked.
fn fault(req: &Request) -> Result<(Endpoint, Fault), String> {
    let mut known = vec!["endpoint"];
    known.extend(FAULT_FIELDS);
    let f = Fields::of(req, "fault field", &known)?;
    let endpoint = endpoint(
        &f.string("endpoint")?
            .ok_or_else(|| format!("`endpoint` is required: {}", endpoint_names().join(", ")))?,
    )?;
    let fault = Fault {
        status: f
            .number(limits::FAULT_STATUS)?
            .map(|n| narrow(limits::FAULT_STATUS, n))
            .transpose()?,
        retry_after: f.number(limits::RETRY_AFTER_SECS)?,
        delay: f
            .number(limits::DELAY_MS)?
            .map(std::time::Duration::from_millis),
        drop: f.boolean("drop")?.unwrap_or(false),
        times: f
            .number(limits::FAULT_TIMES)?
            .map(|n| narrow(limits::FAULT_TIMES, n))
            .transpose()?,
        body: f.string("body")?,
        content_type: f.string("content_type")?,
    };
    fault.check()?;
    Ok((endpoint, fault))
}

/// `GET /__admin/journal[?since=SEQ]`: the entries after `since` (all without it).
fn journal(st: &State, req: &Request) -> Result<Reply, String> {
    let since = match req.url.query_pairs().find(|(k, _)| k == "since") {
        None => 0,
        Some((_, v)) => v.parse::<u64>().map_err(|_| {
            format!("`since` must be a journal seq (a whole number from 0); got {v:?}")
        })?,
    };
    let entries: Vec<_> = st.journal.iter().filter(|e| e.seq > since).collect();
    Ok(json_response(
        200,
        json!({"capacity": st.settings.journal_capacity, "total": st.journal_total(), "dropped": st.journal_dropped, "entries": entries}),
    ))
}

/// `POST /__admin/settings`: `current` with the fields the body gives changed.
fn settings(req: &Request, current: &Settings) -> Result<Settings, String> {
    let f = Fields::of(req, "setting", &SETTINGS_FIELDS)?;
    let mut s = current.clone();
    if let Some(deny) = f.boolean("deny")? {
        s.deny = deny;
    }
    for (field, ttl) in [
        ("code_ttl_secs", &mut s.code_ttl_secs),
        ("access_token_ttl_secs", &mut s.access_token_ttl_secs),
    ] {
        if let Some(n) = f.number(limits::TTL_SECS.named(field))? {
            *ttl = n;
        }
    }
    if let Some(n) = f.number(limits::JOURNAL_CAPACITY)? {
        s.journal_capacity = narrow(limits::JOURNAL_CAPACITY, n)?;
    }
    if let Some(iss) = f.string("iss")? {
        s.iss = IssMode::parse(&iss)
            .ok_or_else(|| format!("`iss` must be send, omit or wrong; got {iss:?}"))?;
    }
    if let Some(metadata) = f.boolean("metadata")? {
        s.metadata = metadata;
    }
    match f.get("metadata_overrides") {
        None => {}
        Some(Value::Object(keys)) => s.metadata_overrides = keys.clone(),
        Some(other) => {
            return Err(format!(
                "`metadata_overrides` must be an object of metadata keys (a null value \
                 removes that key; {{}} clears the overrides); got {other}"
            ))
        }
    }
    if let Some(refresh_tokens) = f.boolean("refresh_tokens")? {
        s.refresh_tokens = refresh_tokens;
    }
    Ok(s)
}
