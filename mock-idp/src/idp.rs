//! The OAuth and `/me` behaviour (SPEC §11): one `Respond` impl routes every request over shared
//! state in an `Arc<Mutex<…>>`. The token handler removes the code before checking anything,
//! so a failed attempt burns it too.
//!
//! RFCs followed: 7591 (registration), 6749 §4.1 and §5.2 (code grant, errors), 7636 (PKCE
//! S256), 8252 §7.3 (any port on a loopback redirect URI), 6749 §6 with rotation and reuse
//! detection as OAuth 2.1 §4.3.1 asks for public clients, 8414 (metadata).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use url::Url;
use wiremock::{Match, Request, Respond, ResponseTemplate};

use crate::scenario::{self, Scenario};

/// The endpoints faults can be set on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Endpoint {
    Register,
    Authorize,
    Token,
    Me,
}

impl Endpoint {
    pub const ALL: [Endpoint; 4] = [
        Endpoint::Register,
        Endpoint::Authorize,
        Endpoint::Token,
        Endpoint::Me,
    ];

    fn of(method: &str, path: &str) -> Option<Endpoint> {
        match (method, path.trim_end_matches('/')) {
            ("POST", "/oauth/mcp/register") => Some(Endpoint::Register),
            ("GET", "/oauth/authorize") => Some(Endpoint::Authorize),
            ("POST", "/oauth/token") => Some(Endpoint::Token),
            ("GET", "/api/app/me") => Some(Endpoint::Me),
            _ => None,
        }
    }

    pub fn parse(name: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|e| e.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Register => "register",
            Endpoint::Authorize => "authorize",
            Endpoint::Token => "token",
            Endpoint::Me => "me",
        }
    }
}

/// A fault for the next `times` requests of an endpoint (`None`: until cleared).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Fault {
    /// Answer with this status instead of the real handler (`None`: the real answer).
    #[serde(default)]
    pub status: Option<u16>,
    /// `Retry-After` seconds on the faulty answer.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Wait this long before answering.
    #[serde(default, rename = "delay_ms", with = "millis")]
    pub delay: Option<Duration>,
    /// Close the connection without answering.
    #[serde(default)]
    pub drop: bool,
    #[serde(default)]
    pub times: Option<u32>,
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_u64(d.as_millis() as u64),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

impl Fault {
    /// Answer `status` instead of the real handler.
    pub fn status(status: u16) -> Self {
        Fault {
            status: Some(status),
            ..Fault::default()
        }
    }

    /// Delay the real answer.
    pub fn delay(delay: Duration) -> Self {
        Fault {
            delay: Some(delay),
            ..Fault::default()
        }
    }

    /// Close the connection without an answer.
    pub fn dropped() -> Self {
        Fault {
            drop: true,
            ..Fault::default()
        }
    }

    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

/// One request as the journal keeps it: no query values, headers or bodies (they hold
/// secrets). `status` 0 means the connection was dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalEntry {
    pub seq: u64,
    pub method: String,
    pub path: String,
    pub status: u16,
}

/// Entries the journal keeps by default; older ones are dropped first.
pub const JOURNAL_CAPACITY: usize = 1000;
/// Secrets remembered for leak scans; older ones are dropped first.
const SECRETS_CAPACITY: usize = 100_000;

/// What `/__admin/settings` and the Rust API can change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Authorize redirects with `error=access_denied`.
    pub deny: bool,
    pub code_ttl_secs: u64,
    pub access_token_ttl_secs: u64,
    pub journal_capacity: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            deny: false,
            code_ttl_secs: 60,
            access_token_ttl_secs: 3600,
            journal_capacity: JOURNAL_CAPACITY,
        }
    }
}

struct Client {
    redirect_uris: Vec<String>,
    scope: String,
}

struct CodeGrant {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    scope: String,
    expires: Instant,
}

struct AccessGrant {
    family: u64,
    expires: Instant,
}

struct RefreshGrant {
    family: u64,
    client_id: String,
    scope: String,
}

pub(crate) struct State {
    clients: HashMap<String, Client>,
    codes: HashMap<String, CodeGrant>,
    access: HashMap<String, AccessGrant>,
    refresh: HashMap<String, RefreshGrant>,
    /// Rotated-out refresh tokens and their family: presenting one again revokes the family.
    used_refresh: HashMap<String, u64>,
    families: u64,
    pub(crate) scenario: String,
    me: Value,
    faults: HashMap<Endpoint, Fault>,
    journal: VecDeque<JournalEntry>,
    seq: u64,
    pub(crate) settings: Settings,
    secrets: VecDeque<String>,
}

impl State {
    pub(crate) fn new() -> Self {
        State {
            clients: HashMap::new(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            used_refresh: HashMap::new(),
            families: 0,
            scenario: "single".into(),
            me: scenario::me_body("single", 0).expect("built-in scenario"),
            faults: HashMap::new(),
            journal: VecDeque::new(),
            seq: 0,
            settings: Settings::default(),
            secrets: VecDeque::new(),
        }
    }

    /// Everything back to a fresh server, keeping the journal capacity.
    pub(crate) fn reset(&mut self) {
        let capacity = self.settings.journal_capacity;
        *self = State::new();
        self.settings.journal_capacity = capacity;
    }

    pub(crate) fn set_me(&mut self, body: Value) {
        self.me = scenario::unwrap(body);
        self.scenario = "custom".into();
    }

    /// A named scenario: its `/me` body, and its fault or denial for the presets.
    pub(crate) fn apply(&mut self, s: Scenario) {
        self.me = s.me;
        self.scenario = s.name;
        self.faults.clear();
        self.settings.deny = s.deny;
        if let Some((endpoint, fault)) = s.fault {
            self.faults.insert(endpoint, fault);
        }
    }

    pub(crate) fn set_fault(&mut self, endpoint: Endpoint, fault: Fault) {
        self.faults.insert(endpoint, fault);
    }

    pub(crate) fn clear_faults(&mut self, endpoint: Option<Endpoint>) {
        match endpoint {
            Some(e) => {
                self.faults.remove(&e);
            }
            None => self.faults.clear(),
        }
    }

    pub(crate) fn faults(&self) -> Value {
        let mut out = serde_json::Map::new();
        for e in Endpoint::ALL {
            if let Some(f) = self.faults.get(&e) {
                out.insert(
                    e.as_str().into(),
                    serde_json::to_value(f).expect("faults serialize"),
                );
            }
        }
        Value::Object(out)
    }

    pub(crate) fn journal(&self) -> Vec<JournalEntry> {
        self.journal.iter().cloned().collect()
    }

    pub(crate) fn journal_total(&self) -> u64 {
        self.seq
    }

    pub(crate) fn clear_journal(&mut self) {
        self.journal.clear();
    }

    pub(crate) fn secrets(&self) -> Vec<String> {
        self.secrets.iter().cloned().collect()
    }

    fn remember_secret(&mut self, s: String) {
        if self.secrets.len() == SECRETS_CAPACITY {
            self.secrets.pop_front();
        }
        self.secrets.push_back(s);
    }

    fn random(prefix: &str) -> String {
        let mut bytes = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut bytes);
        format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    fn issue_secret(&mut self, prefix: &str) -> String {
        let value = Self::random(prefix);
        self.remember_secret(value.clone());
        value
    }

    pub(crate) fn record(&mut self, method: &str, path: &str, status: u16) {
        self.seq += 1;
        while self.journal.len() >= self.settings.journal_capacity.max(1) {
            self.journal.pop_front();
        }
        self.journal.push_back(JournalEntry {
            seq: self.seq,
            method: method.to_string(),
            path: path.to_string(),
            status,
        });
    }

    /// Takes one use of the endpoint's fault when `pred` accepts it.
    fn take_fault(&mut self, endpoint: Endpoint, pred: impl Fn(&Fault) -> bool) -> Option<Fault> {
        let fault = self.faults.get_mut(&endpoint).filter(|f| pred(f))?;
        let out = fault.clone();
        if let Some(n) = &mut fault.times {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.faults.remove(&endpoint);
            }
        }
        Some(out)
    }

    /// Drops what has expired, so a long run does not grow without bound.
    fn prune(&mut self) {
        let now = Instant::now();
        self.codes.retain(|_, c| c.expires > now);
        self.access.retain(|_, a| a.expires > now);
    }
}

/// Locks the shared state, surviving a poisoned lock.
pub(crate) fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

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
        st.record(method, path, 0);
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
            (_, Some(Endpoint::Me)) => me(&mut st, req),
            (_, None) if method == "GET" => metadata(req, &path)
                .unwrap_or_else(|| json_response(404, json!({"error": "not_found"}))),
            (_, None) => json_response(404, json!({"error": "not_found"})),
        };
        if let Some(delay) = fault.and_then(|f| f.delay) {
            resp = resp.set_delay(delay);
        }
        st.record(&method, &path, status);
        resp
    }
}

fn fault_error(status: u16) -> &'static str {
    match status {
        429 => "rate_limited",
        500..=599 => "server_error",
        401 => "invalid_token",
        _ => "invalid_request",
    }
}

/// A response with its status (wiremock's template has no getter; the journal needs it).
pub(crate) struct Reply(pub(crate) u16, pub(crate) ResponseTemplate);

pub(crate) fn json_response(status: u16, body: Value) -> Reply {
    Reply(
        status,
        ResponseTemplate::new(status)
            .set_body_json(body)
            .insert_header("Cache-Control", "no-store"),
    )
}

fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
    json_response(
        status,
        json!({"error": error, "error_description": description}),
    )
}

/// The server's own origin as the client reached it.
fn origin(req: &Request) -> String {
    let host = req
        .headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!(
                "{}:{}",
                req.url.host_str().unwrap_or("127.0.0.1"),
                req.url.port().unwrap_or(80)
            )
        });
    format!("http://{host}")
}

/// RFC 8414: `/.well-known/oauth-authorization-server` for the issuer `{origin}`, and the
/// path-inserted `/.well-known/oauth-authorization-server/oauth` for the issuer `{origin}/oauth`.
fn metadata(req: &Request, path: &str) -> Option<Reply> {
    let origin = origin(req);
    let issuer = match path.trim_end_matches('/') {
        "/.well-known/oauth-authorization-server" => origin.clone(),
        "/.well-known/oauth-authorization-server/oauth" => format!("{origin}/oauth"),
        _ => return None,
    };
    Some(json_response(
        200,
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{origin}/oauth/authorize/"),
            "token_endpoint": format!("{origin}/oauth/token/"),
            "registration_endpoint": format!("{origin}/oauth/mcp/register/"),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "response_modes_supported": ["query"],
        }),
    ))
}

/// RFC 7591 §3: validate the metadata, answer 201 with what was registered (§3.2.1).
fn register(st: &mut State, req: &Request) -> Reply {
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return oauth_error(
            400,
            "invalid_client_metadata",
            "the body is not a JSON object",
        );
    };
    if !body.is_object() {
        return oauth_error(
            400,
            "invalid_client_metadata",
            "the body is not a JSON object",
        );
    }
    let strings = |key: &str| -> Result<Option<Vec<String>>, ()> {
        match body.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map(str::to_string).ok_or(()))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(()),
        }
    };
    let redirect_uris = match strings("redirect_uris") {
        Ok(Some(r)) if !r.is_empty() => r,
        _ => {
            return oauth_error(
                400,
                "invalid_redirect_uri",
                "redirect_uris must be a non-empty array of URLs",
            )
        }
    };
    let absolute = |u: &str| {
        Url::parse(u).is_ok_and(|u| !u.cannot_be_a_base() && u.fragment().is_none() && u.has_host())
    };
    if !redirect_uris.iter().all(|u| absolute(u)) {
        return oauth_error(
            400,
            "invalid_redirect_uri",
            "redirect_uris must be absolute URLs without a fragment",
        );
    }
    let Ok(grant_types) = strings("grant_types") else {
        return oauth_error(
            400,
            "invalid_client_metadata",
            "grant_types must be an array of strings",
        );
    };
    let grant_types = grant_types.unwrap_or_else(|| vec!["authorization_code".into()]);
    if grant_types
        .iter()
        .any(|g| g != "authorization_code" && g != "refresh_token")
    {
        return oauth_error(
            400,
            "invalid_client_metadata",
            "grant_types may only hold authorization_code and refresh_token",
        );
    }
    let Ok(response_types) = strings("response_types") else {
        return oauth_error(
            400,
            "invalid_client_metadata",
            "response_types must be an array of strings",
        );
    };
    let response_types = response_types.unwrap_or_else(|| vec!["code".into()]);
    if response_types.iter().any(|r| r != "code") {
        return oauth_error(
            400,
            "invalid_client_metadata",
            "response_types may only hold code",
        );
    }
    match body.get("token_endpoint_auth_method") {
        None => {}
        Some(Value::String(m)) if m == "none" => {}
        Some(_) => {
            return oauth_error(
                400,
                "invalid_client_metadata",
                "token_endpoint_auth_method must be none (public clients only)",
            )
        }
    }
    let scope = match body.get("scope") {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return oauth_error(400, "invalid_client_metadata", "scope must be a string"),
    };
    // A client id is public, not a secret: it is not remembered for leak scans.
    let client_id = State::random("mpc_");
    st.clients.insert(
        client_id.clone(),
        Client {
            redirect_uris: redirect_uris.clone(),
            scope: scope.clone(),
        },
    );
    let mut registered = json!({
        "client_id": client_id,
        "client_id_issued_at": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        "redirect_uris": redirect_uris,
        "grant_types": grant_types,
        "response_types": response_types,
        "token_endpoint_auth_method": "none",
        "scope": scope,
    });
    if let Some(name) = body.get("client_name").and_then(Value::as_str) {
        registered["client_name"] = json!(name);
    }
    json_response(201, registered)
}

/// Exact match, except that a loopback redirect URI may use any port (RFC 8252 §7.3; `localhost`
/// is treated like the loopback IP literals, as the kit's default redirect URI uses it).
fn redirect_matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    let (Ok(a), Ok(b)) = (Url::parse(registered), Url::parse(requested)) else {
        return false;
    };
    let loopback = |u: &Url| match u.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    a.scheme() == "http"
        && loopback(&a)
        && a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.path() == b.path()
        && a.query() == b.query()
        && a.fragment().is_none()
        && b.fragment().is_none()
}

/// RFC 6749 §4.1.1 with RFC 7636 §4.3; errors per §4.1.2.1: redirect only to a trusted URI,
/// an error page otherwise.
fn authorize(st: &mut State, req: &Request) -> Reply {
    st.prune();
    let mut q: HashMap<String, String> = HashMap::new();
    for (k, v) in req.url.query_pairs() {
        if q.contains_key(k.as_ref()) {
            return error_page("a parameter is repeated");
        }
        q.insert(k.into_owned(), v.into_owned());
    }
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let Some(client) = st.clients.get(get("client_id")) else {
        return error_page("unknown client_id");
    };
    let redirect_uri = get("redirect_uri").to_string();
    if !client
        .redirect_uris
        .iter()
        .any(|r| redirect_matches(r, &redirect_uri))
    {
        return error_page("redirect_uri is not registered for this client");
    }
    let scope = q
        .get("scope")
        .cloned()
        .unwrap_or_else(|| client.scope.clone());
    let state = q.get("state").cloned();
    let redirect = |params: &[(&str, &str)]| {
        let mut url = Url::parse(&redirect_uri).expect("registered URIs are absolute");
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in params {
                pairs.append_pair(k, v);
            }
            if let Some(s) = &state {
                pairs.append_pair("state", s);
            }
        }
        Reply(
            302,
            ResponseTemplate::new(302).insert_header("Location", url.as_str()),
        )
    };
    if get("response_type") != "code" {
        return redirect(&[
            ("error", "unsupported_response_type"),
            ("error_description", "only response_type=code is supported"),
        ]);
    }
    let challenge = get("code_challenge").to_string();
    if get("code_challenge_method") != "S256" {
        return redirect(&[
            ("error", "invalid_request"),
            (
                "error_description",
                "PKCE with code_challenge_method=S256 is required",
            ),
        ]);
    }
    // RFC 7636 §4.2: BASE64URL(SHA256(...)) is 43 characters of the base64url alphabet.
    let well_formed = challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return redirect(&[
            ("error", "invalid_request"),
            (
                "error_description",
                "code_challenge is not a base64url SHA-256",
            ),
        ]);
    }
    if st.settings.deny {
        return redirect(&[
            ("error", "access_denied"),
            ("error_description", "The user denied the request"),
        ]);
    }
    let code = st.issue_secret("mpcode_");
    let grant = CodeGrant {
        client_id: get("client_id").to_string(),
        redirect_uri: redirect_uri.clone(),
        challenge,
        scope,
        expires: Instant::now() + Duration::from_secs(st.settings.code_ttl_secs),
    };
    st.codes.insert(code.clone(), grant);
    redirect(&[("code", &code)])
}

fn error_page(message: &str) -> Reply {
    Reply(
        400,
        ResponseTemplate::new(400).set_body_raw(
            format!(
                "<!doctype html><title>Login error</title><h1>Login error</h1><p>{message}</p>"
            ),
            "text/html",
        ),
    )
}

/// RFC 6749 §4.1.3 / §6 with RFC 7636 §4.6; errors per §5.2.
fn token(st: &mut State, req: &Request) -> Reply {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect();
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if let Some(v) = form.get("code_verifier").filter(|v| !v.is_empty()) {
        st.remember_secret(v.clone());
    }
    match get("grant_type") {
        "authorization_code" => {
            // Burn the code first: a failed attempt spends it too.
            let grant = st.codes.remove(get("code"));
            if !st.clients.contains_key(get("client_id")) {
                return oauth_error(401, "invalid_client", "unknown client_id");
            }
            let Some(grant) = grant else {
                return oauth_error(
                    400,
                    "invalid_grant",
                    "unknown, used or expired authorization code",
                );
            };
            if grant.expires <= Instant::now() {
                return oauth_error(400, "invalid_grant", "the authorization code has expired");
            }
            if grant.client_id != get("client_id") {
                return oauth_error(
                    400,
                    "invalid_grant",
                    "the code was issued to another client",
                );
            }
            if grant.redirect_uri != get("redirect_uri") {
                return oauth_error(
                    400,
                    "invalid_grant",
                    "redirect_uri does not match the authorization request",
                );
            }
            let verifier = get("code_verifier");
            // RFC 7636 §4.1: 43 to 128 unreserved characters.
            let well_formed = (43..=128).contains(&verifier.len())
                && verifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            if !well_formed {
                return oauth_error(
                    400,
                    "invalid_grant",
                    "code_verifier is missing or malformed",
                );
            }
            if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != grant.challenge {
                return oauth_error(400, "invalid_grant", "PKCE verification failed");
            }
            st.families += 1;
            let family = st.families;
            issue_tokens(st, family, &grant.client_id, &grant.scope)
        }
        "refresh_token" => {
            let presented = get("refresh_token").to_string();
            if !st.clients.contains_key(get("client_id")) {
                return oauth_error(401, "invalid_client", "unknown client_id");
            }
            if let Some(family) = st.used_refresh.get(&presented).copied() {
                // Reuse of a rotated-out token: someone else may hold the family; revoke it.
                st.access.retain(|_, a| a.family != family);
                st.refresh.retain(|_, r| r.family != family);
                return oauth_error(
                    400,
                    "invalid_grant",
                    "refresh token reuse detected: the grant is revoked",
                );
            }
            let Some(grant) = st.refresh.remove(&presented) else {
                return oauth_error(400, "invalid_grant", "unknown or revoked refresh token");
            };
            if grant.client_id != get("client_id") {
                st.refresh.insert(presented, grant);
                return oauth_error(
                    400,
                    "invalid_grant",
                    "the refresh token was issued to another client",
                );
            }
            st.used_refresh.insert(presented, grant.family);
            issue_tokens(st, grant.family, &grant.client_id, &grant.scope)
        }
        "" => oauth_error(400, "invalid_request", "grant_type is required"),
        _ => oauth_error(
            400,
            "unsupported_grant_type",
            "use authorization_code or refresh_token",
        ),
    }
}

fn issue_tokens(st: &mut State, family: u64, client_id: &str, scope: &str) -> Reply {
    st.prune();
    let access = st.issue_secret("mpat_");
    let refresh = st.issue_secret("mprt_");
    let ttl = st.settings.access_token_ttl_secs;
    st.access.insert(
        access.clone(),
        AccessGrant {
            family,
            expires: Instant::now() + Duration::from_secs(ttl),
        },
    );
    st.refresh.insert(
        refresh.clone(),
        RefreshGrant {
            family,
            client_id: client_id.to_string(),
            scope: scope.to_string(),
        },
    );
    json_response(
        200,
        json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": ttl,
            "refresh_token": refresh,
            "scope": scope,
        }),
    )
}

/// `/me` behind a bearer token this mock issued (RFC 6750 §3.1 errors).
fn me(st: &mut State, req: &Request) -> Reply {
    let token = req
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let valid = st
        .access
        .get(token)
        .is_some_and(|a| a.expires > Instant::now());
    if !valid {
        let Reply(s, r) = oauth_error(
            401,
            "invalid_token",
            "a live bearer token issued by this server is required",
        );
        return Reply(
            s,
            r.insert_header("WWW-Authenticate", "Bearer error=\"invalid_token\""),
        );
    }
    json_response(200, scenario::wrap(st.me.clone()))
}
