//! One OAuth client for everything that plays the other side of the mock: `mock-idp approve`,
//! the standalone tests, the load benchmark and the kit's test harness. register → authorize →
//! approve → exchange, over blocking reqwest that never follows a redirect (the redirect is the
//! answer).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use reqwest::blocking::Client as Http;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The redirect URI the tests and benches register.
pub const CALLBACK: &str = "http://localhost:19284/callback";

/// A PKCE pair (RFC 7636, S256).
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    /// A random 43-character verifier and its challenge.
    pub fn random() -> Pkce {
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        Pkce::of(&URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn of(verifier: &str) -> Pkce {
        Pkce {
            verifier: verifier.to_string(),
            challenge: URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
        }
    }
}

/// An HTTP client that does not follow redirects.
pub fn http() -> Http {
    Http::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a plain HTTP client builds")
}

/// The user in the browser: opens `authorize_url` and returns where the IdP redirects to.
pub fn approve_with(http: &Http, authorize_url: &str) -> Result<String, String> {
    let resp = http
        .get(authorize_url)
        .send()
        .map_err(|e| format!("cannot open the authorize URL: {}", e.without_url()))?;
    match resp.headers().get("location").and_then(|l| l.to_str().ok()) {
        Some(loc) if resp.status().is_redirection() => Ok(loc.to_string()),
        _ => Err(format!(
            "the authorize endpoint answered {} without a redirect: {}",
            resp.status(),
            resp.text()
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect::<String>()
        )),
    }
}

/// [`approve_with`] on a client of its own.
pub fn approve(authorize_url: &str) -> Result<String, String> {
    approve_with(&http(), authorize_url)
}

/// The `code` of a redirect URL.
pub fn code_of(redirect: &str) -> Option<String> {
    url::Url::parse(redirect)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
}

/// The OAuth calls against one mock.
pub struct Client {
    pub http: Http,
    pub base: String,
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client {
            http: http(),
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// RFC 7591 registration of a public client for `redirect_uri`: status and body.
    pub fn register(&self, redirect_uri: &str) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/oauth/mcp/register/", self.base))
            .json(&json!({
                "redirect_uris": [redirect_uri],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",
                "scope": "projects",
            }))
            .send()
            .expect("the mock answers");
        (resp.status().as_u16(), resp.json().unwrap_or(Value::Null))
    }

    /// The authorize URL (RFC 6749 §4.1.1 with RFC 7636 §4.3).
    pub fn authorize_url(&self, client_id: &str, state: &str, challenge: &str) -> String {
        let mut url = url::Url::parse(&format!("{}/oauth/authorize/", self.base))
            .expect("the base URL parses");
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", CALLBACK)
            .append_pair("state", state)
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256");
        url.to_string()
    }

    /// A token request (any grant): status and body.
    pub fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/oauth/token/", self.base))
            .form(form)
            .send()
            .expect("the mock answers");
        (resp.status().as_u16(), resp.json().unwrap_or(Value::Null))
    }

    /// A whole login for [`CALLBACK`]: the client id and the token answer. Panics on any
    /// wrong answer (it is for tests and benches).
    pub fn login(&self) -> (String, Value) {
        let (status, reg) = self.register(CALLBACK);
        assert_eq!(status, 201, "{reg}");
        let client_id = reg["client_id"].as_str().expect("registered").to_string();
        let pkce = Pkce::random();
        let url = self.authorize_url(&client_id, "st-1", &pkce.challenge);
        let redirect = approve_with(&self.http, &url).expect("approved");
        let code = code_of(&redirect).expect("a code");
        let (status, tokens) = self.token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("client_id", &client_id),
            ("code_verifier", &pkce.verifier),
        ]);
        assert_eq!(status, 200, "{tokens}");
        (client_id, tokens)
    }
}
