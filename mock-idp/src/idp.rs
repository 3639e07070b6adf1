//! The OAuth and `/me` behaviour (SPEC §11): one `Respond` impl routes every request over shared
//! state in an `Arc<Mutex<…>>`. The token handler removes the code before checking anything,
//! so a failed attempt burns it too.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use url::Url;
use wiremock::{Request, Respond, ResponseTemplate};

use crate::scenario;

/// The endpoints faults can be set on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Register,
    Authorize,
    Token,
    Me,
}

impl Endpoint {
    fn of(method: &str, path: &str) -> Option<Endpoint> {
        match (method, path.trim_end_matches('/')) {
            ("POST", "/oauth/mcp/register") => Some(Endpoint::Register),
            ("GET", "/oauth/authorize") => Some(Endpoint::Authorize),
            ("POST", "/oauth/token") => Some(Endpoint::Token),
            ("GET", "/api/app/me") => Some(Endpoint::Me),
            _ => None,
        }
    }
}

/// A fault for the next `times` requests of an endpoint (`None`: until cleared).
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// Answer with this status instead of the real handler (`None`: only delay).
    pub status: Option<u16>,
    pub retry_after: Option<u64>,
    pub delay: Option<Duration>,
    pub times: Option<u32>,
}

impl Fault {
    /// Answer `status` for the next `times` requests.
    pub fn status(status: u16) -> Self {
        Fault {
            status: Some(status),
            retry_after: None,
            delay: None,
            times: None,
        }
    }

    /// Delay the real answer.
    pub fn delay(delay: Duration) -> Self {
        Fault {
            status: None,
            retry_after: None,
            delay: Some(delay),
            times: None,
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

/// One request as the journal keeps it: no query values, headers or bodies (they hold secrets).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JournalEntry {
    pub seq: u64,
    pub method: String,
    pub path: String,
    pub status: u16,
}

pub const JOURNAL_CAPACITY: usize = 1000;

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

#[derive(Default)]
struct Tokens {
    access: HashMap<String, String>,
    refresh: HashMap<String, (String, String)>,
}

pub(crate) struct State {
    clients: HashMap<String, Client>,
    codes: HashMap<String, CodeGrant>,
    tokens: Tokens,
    me: Value,
    faults: HashMap<Endpoint, Fault>,
    journal: VecDeque<JournalEntry>,
    seq: u64,
    deny: bool,
    code_ttl: Duration,
    secrets: Vec<String>,
}

impl State {
    pub(crate) fn new() -> Self {
        State {
            clients: HashMap::new(),
            codes: HashMap::new(),
            tokens: Tokens::default(),
            me: scenario::scenario("single", 0).expect("built-in scenario"),
            faults: HashMap::new(),
            journal: VecDeque::new(),
            seq: 0,
            deny: false,
            code_ttl: Duration::from_secs(60),
            secrets: Vec::new(),
        }
    }

    pub(crate) fn set_me(&mut self, body: Value) {
        self.me = body;
    }
    pub(crate) fn set_deny(&mut self, deny: bool) {
        self.deny = deny;
    }
    pub(crate) fn set_code_ttl(&mut self, ttl: Duration) {
        self.code_ttl = ttl;
    }
    pub(crate) fn set_fault(&mut self, endpoint: Endpoint, fault: Fault) {
        self.faults.insert(endpoint, fault);
    }
    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
    }
    pub(crate) fn journal(&self) -> Vec<JournalEntry> {
        self.journal.iter().cloned().collect()
    }
    pub(crate) fn secrets(&self) -> Vec<String> {
        self.secrets.clone()
    }

    fn issue(&mut self, prefix: &str) -> String {
        let mut bytes = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut bytes);
        let value = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes));
        self.secrets.push(value.clone());
        value
    }

    fn record(&mut self, method: &str, path: &str, status: u16) {
        self.seq += 1;
        if self.journal.len() == JOURNAL_CAPACITY {
            self.journal.pop_front();
        }
        self.journal.push_back(JournalEntry {
            seq: self.seq,
            method: method.to_string(),
            path: path.to_string(),
            status,
        });
    }

    /// Takes one use of the endpoint's fault, if any.
    fn take_fault(&mut self, endpoint: Endpoint) -> Option<Fault> {
        let fault = self.faults.get_mut(&endpoint)?;
        let out = fault.clone();
        if let Some(n) = &mut fault.times {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.faults.remove(&endpoint);
            }
        }
        Some(out)
    }
}

/// The wiremock responder over the shared state.
pub(crate) struct Idp(pub(crate) Arc<Mutex<State>>);

impl Respond for Idp {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut st = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let method = req.method.as_str().to_string();
        let path = req.url.path().to_string();
        let endpoint = Endpoint::of(&method, &path);
        let fault = endpoint.and_then(|e| st.take_fault(e));
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
struct Reply(u16, ResponseTemplate);

fn json_response(status: u16, body: Value) -> Reply {
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

/// RFC 7591 §3: validate the metadata, answer 201 with what was registered.
fn register(st: &mut State, req: &Request) -> Reply {
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return oauth_error(400, "invalid_client_metadata", "the body is not JSON");
    };
    let strings = |key: &str| -> Option<Vec<String>> {
        body.get(key)?
            .as_array()?
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    let Some(redirect_uris) = strings("redirect_uris").filter(|r| !r.is_empty()) else {
        return oauth_error(400, "invalid_redirect_uri", "redirect_uris is required");
    };
    if redirect_uris
        .iter()
        .any(|u| Url::parse(u).map(|u| u.cannot_be_a_base()).unwrap_or(true))
    {
        return oauth_error(
            400,
            "invalid_redirect_uri",
            "redirect_uris must be absolute URLs",
        );
    }
    let grant_types = strings("grant_types").unwrap_or_else(|| vec!["authorization_code".into()]);
    if grant_types
        .iter()
        .any(|g| g != "authorization_code" && g != "refresh_token")
    {
        return oauth_error(400, "invalid_client_metadata", "unsupported grant_types");
    }
    let response_types = strings("response_types").unwrap_or_else(|| vec!["code".into()]);
    if response_types.iter().any(|r| r != "code") {
        return oauth_error(400, "invalid_client_metadata", "unsupported response_types");
    }
    let auth_method = body
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
        .unwrap_or("none");
    if auth_method != "none" {
        return oauth_error(
            400,
            "invalid_client_metadata",
            "only public clients (none) are supported",
        );
    }
    let scope = body
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let client_id = st.issue("mpc_");
    // A client id is public, not a secret: do not count it in the secret scan.
    st.secrets.pop();
    st.clients.insert(
        client_id.clone(),
        Client {
            redirect_uris: redirect_uris.clone(),
            scope: scope.clone(),
        },
    );
    json_response(
        201,
        json!({
            "client_id": client_id,
            "client_id_issued_at": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
            "redirect_uris": redirect_uris,
            "grant_types": grant_types,
            "response_types": response_types,
            "token_endpoint_auth_method": "none",
            "scope": scope,
        }),
    )
}

/// RFC 6749 §4.1.1 with RFC 7636 §4.3; errors per §4.1.2.1 (redirect only to a trusted URI).
fn authorize(st: &mut State, req: &Request) -> Reply {
    let q: HashMap<String, String> = req.url.query_pairs().into_owned().collect();
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let error_page = |msg: &str| {
        Reply(
            400,
            ResponseTemplate::new(400).set_body_raw(
                format!("<!doctype html><title>Login error</title><p>{msg}</p>"),
                "text/html",
            ),
        )
    };
    let Some(client) = st.clients.get(get("client_id")) else {
        return error_page("unknown client_id");
    };
    let redirect_uri = get("redirect_uri").to_string();
    if !client.redirect_uris.contains(&redirect_uri) {
        return error_page("redirect_uri is not registered for this client");
    }
    let scope = client.scope.clone();
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
        return redirect(&[("error", "unsupported_response_type")]);
    }
    let challenge = get("code_challenge").to_string();
    let well_formed = challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if get("code_challenge_method") != "S256" || !well_formed {
        return redirect(&[
            ("error", "invalid_request"),
            ("error_description", "PKCE with S256 is required"),
        ]);
    }
    if st.deny {
        return redirect(&[
            ("error", "access_denied"),
            ("error_description", "The user denied the request"),
        ]);
    }
    let code = st.issue("mpcode_");
    let grant = CodeGrant {
        client_id: get("client_id").to_string(),
        redirect_uri: redirect_uri.clone(),
        challenge,
        scope,
        expires: Instant::now() + st.code_ttl,
    };
    st.codes.insert(code.clone(), grant);
    redirect(&[("code", &code)])
}

/// RFC 6749 §4.1.3 / §6 with RFC 7636 §4.6; errors per §5.2.
fn token(st: &mut State, req: &Request) -> Reply {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect();
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if let Some(v) = form.get("code_verifier") {
        st.secrets.push(v.clone());
    }
    match get("grant_type") {
        "authorization_code" => {
            // Burn the code first: a failed attempt spends it too.
            let Some(grant) = st.codes.remove(get("code")) else {
                return oauth_error(
                    400,
                    "invalid_grant",
                    "unknown, used or expired authorization code",
                );
            };
            if grant.expires < Instant::now() {
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
            if verifier.is_empty() {
                return oauth_error(400, "invalid_request", "code_verifier is required");
            }
            if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != grant.challenge {
                return oauth_error(400, "invalid_grant", "PKCE verification failed");
            }
            issue_tokens(st, &grant.client_id, &grant.scope)
        }
        "refresh_token" => {
            let Some((client_id, scope)) = st.tokens.refresh.remove(get("refresh_token")) else {
                return oauth_error(400, "invalid_grant", "unknown or used refresh token");
            };
            if client_id != get("client_id") {
                return oauth_error(
                    400,
                    "invalid_grant",
                    "the refresh token was issued to another client",
                );
            }
            issue_tokens(st, &client_id, &scope)
        }
        "" => oauth_error(400, "invalid_request", "grant_type is required"),
        _ => oauth_error(
            400,
            "unsupported_grant_type",
            "use authorization_code or refresh_token",
        ),
    }
}

fn issue_tokens(st: &mut State, client_id: &str, scope: &str) -> Reply {
    let access = st.issue("mpat_");
    let refresh = st.issue("mprt_");
    st.tokens
        .access
        .insert(access.clone(), client_id.to_string());
    st.tokens
        .refresh
        .insert(refresh.clone(), (client_id.to_string(), scope.to_string()));
    json_response(
        200,
        json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": refresh,
            "scope": scope,
        }),
    )
}

/// `/me` behind a bearer token this mock issued.
fn me(st: &mut State, req: &Request) -> Reply {
    let token = req
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !st.tokens.access.contains_key(token) {
        return oauth_error(
            401,
            "invalid_token",
            "a bearer token issued by this server is required",
        );
    }
    json_response(200, scenario::wrap(st.me.clone()))
}
