//! The OAuth endpoints (`docs/mock-idp.md`): RFC 7591 registration, RFC 6749 §4.1 authorization with
//! RFC 7636 S256 and RFC 8252 §7.3 loopback ports, the token endpoint (code and refresh grants;
//! the code is removed before anything is checked, so a failed attempt burns it; rotation with
//! reuse detection as OAuth 2.1 §4.3.1 asks for public clients), and RFC 8414 metadata.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use url::Url;
use wiremock::{Request, ResponseTemplate};

use crate::limits;
use crate::state::{
    json_response, oauth_error, AccessGrant, Client, CodeGrant, IssMode, RefreshGrant, Reply, State,
};

/// When something issued now for `ttl_secs` expires. The settings bound TTLs
/// (`crate::limits::TTL_SECS`); a longer one set through the Rust API is cut to that bound
/// rather than overflow.
fn expiry(ttl_secs: u64) -> Instant {
    let ttl = Duration::from_secs(ttl_secs.min(crate::limits::TTL_SECS.max));
    let now = Instant::now();
    now.checked_add(ttl).unwrap_or(now)
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

/// The issuer of the authorization server under `/oauth/` (RFC 8414 §2): what RFC 9207 `iss`
/// carries.
fn issuer(req: &Request) -> String {
    format!("{}/oauth", origin(req))
}

/// RFC 8414: `/.well-known/oauth-authorization-server` for the issuer `{origin}`, and the
/// path-inserted `/.well-known/oauth-authorization-server/oauth` for the issuer `{origin}/oauth`
/// (the one the authorization responses' `iss` names). Hidden when the settings say so.
pub(crate) fn metadata(st: &State, req: &Request, path: &str) -> Option<Reply> {
    let origin = origin(req);
    let issuer = match path.trim_end_matches('/') {
        "/.well-known/oauth-authorization-server" => origin.clone(),
        "/.well-known/oauth-authorization-server/oauth" => self::issuer(req),
        _ => return None,
    };
    if !st.settings.metadata {
        return None;
    }
    let mut document = json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{origin}/oauth/authorize/"),
            "token_endpoint": format!("{origin}/oauth/token/"),
            "revocation_endpoint": format!("{origin}/oauth/revoke/"),
            "authorization_response_iss_parameter_supported": true,
            "registration_endpoint": format!("{origin}/oauth/mcp/register/"),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "response_modes_supported": ["query"],
    });
    let fields = document.as_object_mut().expect("the metadata is an object");
    for (key, value) in &st.settings.metadata_overrides {
        match value {
            Value::Null => fields.remove(key),
            value => fields.insert(key.clone(), value.clone()),
        };
    }
    Some(json_response(200, document))
}

/// RFC 7591 §3: validate the metadata, answer 201 with what was registered (§3.2.1).
pub(crate) fn register(st: &mut State, req: &Request) -> Reply {
    match Registration::of(req) {
        Ok(registration) => registration.record(st),
        Err(refusal) => oauth_error(400, refusal.error, &refusal.description),
    }
}

/// An OAuth error code and its description, before they are answered: in a 400 (registration)
/// or a redirect (authorization).
struct Refusal {
    error: &'static str,
    description: String,
}

impl Refusal {
    fn new(error: &'static str, description: impl Into<String>) -> Refusal {
        Refusal {
            error,
            description: description.into(),
        }
    }
}

/// The client metadata a registration request gave (RFC 7591 §2), checked; the defaults
/// filled in.
struct Registration {
    redirect_uris: Vec<String>,
    grant_types: Vec<String>,
    response_types: Vec<String>,
    scope: String,
    client_name: Option<String>,
}

impl Registration {
    /// The request's metadata, or the §3.2.2 error that refuses it.
    fn of(req: &Request) -> Result<Registration, Refusal> {
        limits::REGISTRATION_BYTES
            .check_size(req.body.len())
            .map_err(invalid_metadata)?;
        let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&req.body) else {
            return Err(invalid_metadata("the body is not a JSON object"));
        };
        let redirect_uris = redirect_uris(&body)?;
        let grant_types = only(
            &body,
            "grant_types",
            &["authorization_code", "refresh_token"],
        )?;
        let response_types = only(&body, "response_types", &["code"])?;
        match body.get("token_endpoint_auth_method") {
            None => {}
            Some(Value::String(m)) if m == "none" => {}
            Some(_) => {
                return Err(invalid_metadata(
                    "token_endpoint_auth_method must be none (public clients only)",
                ))
            }
        }
        let scope = match body.get("scope") {
            None => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(invalid_metadata("scope must be a string")),
        };
        let client_name = match body.get("client_name") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(invalid_metadata("client_name must be a string")),
        };
        limits::SCOPE_BYTES
            .check_size(scope.len())
            .and_then(|()| {
                limits::CLIENT_NAME_BYTES.check_size(client_name.as_ref().map_or(0, String::len))
            })
            .map_err(invalid_metadata)?;
        Ok(Registration {
            redirect_uris,
            grant_types,
            response_types,
            scope,
            client_name,
        })
    }

    /// Keeps the client under a new id and answers 201 with its metadata (§3.2.1).
    fn record(self, st: &mut State) -> Reply {
        // A client id is public, not a secret: it is not remembered for leak scans.
        let client_id = State::random("mpc_");
        st.clients.insert(
            client_id.clone(),
            Client {
                redirect_uris: self.redirect_uris.clone(),
                scope: self.scope.clone(),
            },
        );
        let mut registered = json!({
            "client_id": client_id,
            "client_id_issued_at": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
            "redirect_uris": self.redirect_uris,
            "grant_types": self.grant_types,
            "response_types": self.response_types,
            "token_endpoint_auth_method": "none",
            "scope": self.scope,
        });
        if let Some(name) = self.client_name {
            registered["client_name"] = json!(name);
        }
        json_response(201, registered)
    }
}

/// An `invalid_client_metadata` refusal (§3.2.2).
fn invalid_metadata(description: impl Into<String>) -> Refusal {
    Refusal::new("invalid_client_metadata", description)
}

/// The array of strings under `key`, `None` when absent; `Err` when it is something else.
fn strings(body: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, ()> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or(()))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(()),
    }
}

/// `redirect_uris`: required, within the limits, each absolute and without a fragment.
fn redirect_uris(body: &Map<String, Value>) -> Result<Vec<String>, Refusal> {
    let invalid = |description: &str| Refusal::new("invalid_redirect_uri", description);
    let redirect_uris = match strings(body, "redirect_uris") {
        Ok(Some(r)) if !r.is_empty() => r,
        _ => return Err(invalid("redirect_uris must be a non-empty array of URLs")),
    };
    limits::REDIRECT_URIS
        .check_size(redirect_uris.len())
        .and_then(|()| {
            redirect_uris
                .iter()
                .try_for_each(|u| limits::REDIRECT_URI_BYTES.check_size(u.len()))
        })
        .map_err(|e| invalid(&e))?;
    let absolute = |u: &str| {
        Url::parse(u).is_ok_and(|u| !u.cannot_be_a_base() && u.fragment().is_none() && u.has_host())
    };
    if !redirect_uris.iter().all(|u| absolute(u)) {
        return Err(invalid(
            "redirect_uris must be absolute URLs without a fragment",
        ));
    }
    Ok(redirect_uris)
}

/// An array under `key` that may only hold `allowed` values; `allowed[0]` alone when absent.
fn only(body: &Map<String, Value>, key: &str, allowed: &[&str]) -> Result<Vec<String>, Refusal> {
    let Ok(values) = strings(body, key) else {
        return Err(invalid_metadata(format!(
            "{key} must be an array of strings"
        )));
    };
    let values = values.unwrap_or_else(|| vec![allowed[0].into()]);
    if values.iter().any(|v| !allowed.contains(&v.as_str())) {
        return Err(invalid_metadata(format!(
            "{key} may only hold {}",
            allowed.join(" and ")
        )));
    }
    Ok(values)
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
pub(crate) fn authorize(st: &mut State, req: &Request) -> Reply {
    st.prune();
    let Ok(q) = params(req.url.query_pairs()) else {
        return error_page("a parameter is repeated");
    };
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let Some(client) = st.clients.touch(get("client_id")) else {
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
    let redirect = Redirect {
        uri: redirect_uri,
        state: q.get("state").cloned(),
        iss: match st.settings.iss {
            IssMode::Send => Some(issuer(req)),
            IssMode::Wrong => Some("https://attacker.example/oauth".into()),
            IssMode::Omit => None,
        },
    };
    if let Err(refusal) = check_request(get, &scope) {
        return redirect.error(refusal);
    }
    if st.settings.deny {
        return redirect.error(Refusal::new("access_denied", "The user denied the request"));
    }
    let code = st.issue_secret("mpcode_");
    let grant = CodeGrant {
        client_id: get("client_id").to_string(),
        redirect_uri: redirect.uri.clone(),
        challenge: get("code_challenge").to_string(),
        scope,
        expires: expiry(st.settings.code_ttl_secs),
    };
    st.codes.insert(code.clone(), grant);
    redirect.with(&[("code", &code)])
}

/// An authorization request's own checks, once its client and redirect URI are trusted:
/// `response_type=code`, an S256 PKCE challenge and a scope within its limit. `Err` is the
/// error to redirect with.
fn check_request<'a>(get: impl Fn(&str) -> &'a str, scope: &str) -> Result<(), Refusal> {
    if get("response_type") != "code" {
        return Err(Refusal::new(
            "unsupported_response_type",
            "only response_type=code is supported",
        ));
    }
    if get("code_challenge_method") != "S256" {
        return Err(Refusal::new(
            "invalid_request",
            "PKCE with code_challenge_method=S256 is required",
        ));
    }
    // RFC 7636 §4.2: BASE64URL(SHA256(...)) is 43 characters of the base64url alphabet.
    let challenge = get("code_challenge");
    let well_formed = challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(Refusal::new(
            "invalid_request",
            "code_challenge is not a base64url SHA-256",
        ));
    }
    limits::SCOPE_BYTES
        .check_size(scope.len())
        .map_err(|e| Refusal::new("invalid_scope", e))
}

/// Where an authorization answer goes once the redirect URI is trusted (§4.1.2).
struct Redirect {
    uri: String,
    /// The request's `state`, returned as it came.
    state: Option<String>,
    /// The RFC 9207 `iss` the settings call for.
    iss: Option<String>,
}

impl Redirect {
    /// A 302 to the redirect URI with `params`, then `state` and `iss` (RFC 9207 §2: on
    /// success and error responses alike).
    fn with(&self, params: &[(&str, &str)]) -> Reply {
        let mut url = Url::parse(&self.uri).expect("registered URIs are absolute");
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in params {
                pairs.append_pair(k, v);
            }
            if let Some(s) = &self.state {
                pairs.append_pair("state", s);
            }
            if let Some(iss) = &self.iss {
                pairs.append_pair("iss", iss);
            }
        }
        Reply(
            302,
            ResponseTemplate::new(302).insert_header("Location", url.as_str()),
        )
    }

    /// An error response (§4.1.2.1).
    fn error(&self, refusal: Refusal) -> Reply {
        self.with(&[
            ("error", refusal.error),
            ("error_description", &refusal.description),
        ])
    }
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

/// A form body's parameters; a repeated one is an `invalid_request` (RFC 6749 §3.2: "Request
/// and response parameters MUST NOT be included more than once").
fn form(req: &Request) -> Result<HashMap<String, String>, String> {
    params(url::form_urlencoded::parse(&req.body))
}

/// Parameters by name, from a query or a form body; `Err` names a repeated one.
fn params(pairs: url::form_urlencoded::Parse<'_>) -> Result<HashMap<String, String>, String> {
    let mut params = HashMap::new();
    for (k, v) in pairs.into_owned() {
        if params.contains_key(&k) {
            return Err(format!("the parameter `{k}` is repeated"));
        }
        params.insert(k, v);
    }
    Ok(params)
}

/// RFC 6749 §4.1.3 / §6 with RFC 7636 §4.6; errors per §5.2. Every answer carries
/// `Cache-Control: no-store` and `Pragma: no-cache` (§5.1).
pub(crate) fn token(st: &mut State, req: &Request) -> Reply {
    let Reply(status, resp) = token_answer(st, req);
    Reply(status, resp.insert_header("Pragma", "no-cache"))
}

fn token_answer(st: &mut State, req: &Request) -> Reply {
    let form = match form(req) {
        Ok(form) => form,
        Err(repeated) => return oauth_error(400, "invalid_request", &repeated),
    };
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if let Some(v) = form.get("code_verifier").filter(|v| !v.is_empty()) {
        st.remember_secret(v.clone());
    }
    match get("grant_type") {
        "authorization_code" => {
            // Burn the code first: a failed attempt spends it too.
            let grant = st.codes.remove(get("code"));
            if st.clients.touch(get("client_id")).is_none() {
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
            if st.clients.touch(get("client_id")).is_none() {
                return oauth_error(401, "invalid_client", "unknown client_id");
            }
            if let Some(&(family, _)) = st.used_refresh.peek(&presented) {
                // Reuse of a rotated-out token: someone else may hold the family; revoke it.
                st.access.retain(|a| a.family != family);
                st.refresh.retain(|r| r.family != family);
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
            st.used_refresh
                .insert(presented, (grant.family, grant.client_id.clone()));
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
    let ttl = st.settings.access_token_ttl_secs;
    st.access.insert(
        access.clone(),
        AccessGrant {
            family,
            client_id: client_id.to_string(),
            expires: expiry(ttl),
        },
    );
    let mut answer = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": scope,
    });
    if st.settings.refresh_tokens {
        let refresh = st.issue_secret("mprt_");
        st.refresh.insert(
            refresh.clone(),
            RefreshGrant {
                family,
                client_id: client_id.to_string(),
                scope: scope.to_string(),
            },
        );
        answer["refresh_token"] = json!(refresh);
    }
    json_response(200, answer)
}

/// The `grant_type` of a token request, for the journal (the form holds secrets: only this).
pub(crate) fn grant_type(req: &Request) -> Option<String> {
    url::form_urlencoded::parse(&req.body)
        .find(|(k, _)| k == "grant_type")
        .map(|(_, v)| v.into_owned())
        .filter(|v| ["authorization_code", "refresh_token"].contains(&v.as_str()))
}

/// RFC 7009: revoking a refresh token ends its whole family (its access tokens too); revoking
/// an access token ends that token. Unknown tokens answer 200 as well (§2.2). A token issued
/// to another client is refused and left alone (§2.1: the server checks the token was issued
/// to the client asking).
pub(crate) fn revoke(st: &mut State, req: &Request) -> Reply {
    let form = match form(req) {
        Ok(form) => form,
        Err(repeated) => return oauth_error(400, "invalid_request", &repeated),
    };
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if st.clients.touch(get("client_id")).is_none() {
        return oauth_error(401, "invalid_client", "unknown client_id");
    }
    let token = get("token");
    if token.is_empty() {
        return oauth_error(400, "invalid_request", "token is required");
    }
    // The token's family when it is a refresh token (live or rotated out), and its client.
    let owner = st
        .refresh
        .peek(token)
        .map(|r| (Some(r.family), r.client_id.clone()))
        .or_else(|| {
            st.used_refresh
                .peek(token)
                .map(|(family, client)| (Some(*family), client.clone()))
        })
        .or_else(|| st.access.peek(token).map(|a| (None, a.client_id.clone())));
    match owner {
        Some((_, owner)) if owner != get("client_id") => {
            return oauth_error(
                400,
                "unauthorized_client",
                "the token was issued to another client",
            )
        }
        Some((Some(family), _)) => {
            st.access.retain(|a| a.family != family);
            st.refresh.retain(|r| r.family != family);
        }
        Some((None, _)) => {
            st.access.remove(token);
        }
        None => {}
    }
    Reply(200, ResponseTemplate::new(200))
}
