//! The OAuth 2.0 calls (SPEC §2): dynamic client registration (RFC 7591) with a per-region
//! client cache, the authorize URL (RFC 6749 §4.1.1 with RFC 7636 §4.3), and the code exchange
//! (RFC 6749 §4.1.3, RFC 7636 §4.5).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::json;
use url::Url;

use crate::clock;
use crate::error::{Error, HttpFailure, Result};
use crate::http::{Http, Progress, Reply};
use crate::region::{Endpoints, Region};
use crate::secret::{AccessToken, AuthCode, CodeVerifier, RefreshToken};
use crate::store;

/// The scopes the kit asks for unless `--scope` / `MP_OAUTH_SCOPE` says otherwise.
pub const DEFAULT_SCOPE: &str = "projects analysis events insights segmentation retention data:read funnels flows data_definitions dashboard_reports bookmarks";

/// The cached registration: `S/oauth/client_<region>[_<hash>].json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientCache {
    pub client_id: String,
    pub region: Region,
    pub redirect_uri: String,
    pub scope: String,
    pub created_at: String,
}

/// A registered (or reused) client.
#[derive(Debug, Clone)]
pub struct Client {
    pub client_id: String,
    pub reused: bool,
}

/// The cache path for these endpoints.
pub fn client_cache_path(storage: &Path, endpoints: &Endpoints) -> PathBuf {
    storage
        .join("oauth")
        .join(endpoints.client_cache_file_name())
}

/// Reuses the cached client while its `redirect_uri` and scope match; registers a new one
/// otherwise and caches it.
pub fn register_or_reuse(
    http: &Http,
    progress: &dyn Progress,
    storage: &Path,
    endpoints: &Endpoints,
    redirect_uri: &str,
    scope: &str,
) -> Result<Client> {
    let path = client_cache_path(storage, endpoints);
    if let Some(read) = store::read_no_follow(&path, 64 * 1024)? {
        let cached: ClientCache =
            serde_json::from_slice(&read.bytes).map_err(|e| Error::ClientCacheCorrupt {
                path: path.clone(),
                reason: crate::error::json_error_without_values(&e),
            })?;
        if cached.redirect_uri == redirect_uri && cached.scope == scope {
            return Ok(Client {
                client_id: cached.client_id,
                reused: true,
            });
        }
    }
    let url = endpoints.register();
    let body = json!({
        "client_name": "mp-login",
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": scope,
    });
    let reply = http.send(
        "registering the OAuth client",
        url.as_str(),
        true,
        progress,
        |c| c.post(url.clone()).json(&body),
    )?;
    let registration_error = |failure, message| Error::RegistrationError { failure, message };
    if !reply.is_success() {
        return Err(registration_error(
            HttpFailure::Status(reply.status),
            oauth_error(&reply).1,
        ));
    }
    #[derive(Deserialize)]
    struct Registered {
        client_id: String,
    }
    let registered: Registered = serde_json::from_slice(&reply.body).map_err(|_| {
        registration_error(
            HttpFailure::BadBody,
            "the registration answer has no `client_id`".into(),
        )
    })?;
    store::ensure_private_dir(path.parent().expect("cache path has a parent"))?;
    store::write_json(
        &path,
        &ClientCache {
            client_id: registered.client_id.clone(),
            region: endpoints.region,
            redirect_uri: redirect_uri.to_string(),
            scope: scope.to_string(),
            created_at: clock::rfc3339(clock::now()),
        },
    )?;
    Ok(Client {
        client_id: registered.client_id,
        reused: false,
    })
}

/// The authorize URL the user opens (RFC 6749 §4.1.1, RFC 7636 §4.3).
pub fn authorize_url(
    endpoints: &Endpoints,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    code_challenge: &str,
) -> Url {
    let mut url = endpoints.authorize();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("state", state)
        .append_pair("code_challenge", code_challenge)
        .append_pair("code_challenge_method", "S256");
    url
}

/// The tokens of a successful exchange.
#[derive(Debug)]
pub struct Tokens {
    pub access_token: AccessToken,
    pub refresh_token: Option<RefreshToken>,
    pub expires_at: SystemTime,
    pub token_type: String,
    pub scope: String,
}

#[derive(Serialize, Deserialize)]
struct TokensFile {
    access_token: String,
    expires_at: String,
    token_type: String,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    refresh_token: Option<String>,
}

impl Tokens {
    /// `tokens.json` (SPEC §3), written 0600.
    pub fn save(&self, path: &Path) -> Result<()> {
        store::write_json(
            path,
            &TokensFile {
                access_token: self.access_token.secret().to_string(),
                expires_at: clock::rfc3339(self.expires_at),
                token_type: self.token_type.clone(),
                scope: self.scope.clone(),
                refresh_token: self.refresh_token.as_ref().map(|t| t.secret().to_string()),
            },
        )
    }

    /// Reads `tokens.json`; `None` when it does not exist.
    pub fn load(path: &Path) -> Result<Option<Tokens>> {
        let Some(read) = store::read_no_follow(path, 1024 * 1024)? else {
            return Ok(None);
        };
        let file: TokensFile = serde_json::from_slice(&read.bytes).map_err(|e| Error::Io {
            action: "cannot parse",
            path: path.to_path_buf(),
            message: crate::error::json_error_without_values(&e),
        })?;
        Ok(Some(Tokens {
            access_token: AccessToken::new(file.access_token),
            refresh_token: file.refresh_token.map(RefreshToken::new),
            expires_at: clock::parse_rfc3339(&file.expires_at).unwrap_or_else(clock::now),
            token_type: file.token_type,
            scope: file.scope,
        }))
    }
}

/// Exchanges the code (RFC 6749 §4.1.3) with the verifier (RFC 7636 §4.5). Not retried: a
/// second attempt with the same code would fail with `invalid_grant` anyway.
pub fn exchange(
    http: &Http,
    progress: &dyn Progress,
    endpoints: &Endpoints,
    client_id: &str,
    redirect_uri: &str,
    code: AuthCode,
    verifier: CodeVerifier,
) -> Result<Tokens> {
    let url = endpoints.token();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.secret()),
        ("redirect_uri", redirect_uri),
        ("client_id", client_id),
        ("code_verifier", verifier.secret()),
    ];
    let reply = http.send("exchanging the code", url.as_str(), false, progress, |c| {
        c.post(url.clone()).form(&form)
    })?;
    drop(verifier);
    if !reply.is_success() {
        let (oauth_error, message) = oauth_error(&reply);
        return Err(Error::TokenError {
            failure: HttpFailure::Status(reply.status),
            oauth_error,
            message,
        });
    }
    #[derive(Deserialize)]
    struct TokenResponse {
        access_token: String,
        token_type: Option<String>,
        expires_in: Option<u64>,
        refresh_token: Option<String>,
        scope: Option<String>,
    }
    let t: TokenResponse = serde_json::from_slice(&reply.body).map_err(|_| Error::TokenError {
        failure: HttpFailure::BadBody,
        oauth_error: None,
        message: "the token answer has no `access_token`".into(),
    })?;
    Ok(Tokens {
        access_token: AccessToken::new(t.access_token),
        refresh_token: t
            .refresh_token
            .filter(|r| !r.is_empty())
            .map(RefreshToken::new),
        expires_at: clock::now() + Duration::from_secs(t.expires_in.unwrap_or(3600)),
        token_type: t.token_type.unwrap_or_else(|| "Bearer".into()),
        scope: t.scope.unwrap_or_default(),
    })
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    error: Option<String>,
    error_description: Option<String>,
}

/// The RFC 6749 §5.2 `error` code of a failed answer, and the sentence for people:
/// `HTTP 400: invalid_grant (the code has expired)`, or the status alone when the body is not
/// such an object. The server's own words only: the request is never echoed.
fn oauth_error(reply: &Reply) -> (Option<String>, String) {
    let body = serde_json::from_slice::<OAuthErrorBody>(&reply.body).ok();
    let mut text = format!("HTTP {}", reply.status);
    let mut code = None;
    if let Some(b) = body {
        if let Some(e) = &b.error {
            text.push_str(&format!(": {e}"));
        }
        if let Some(d) = b.error_description {
            text.push_str(&format!(" ({d})"));
        }
        code = b.error;
    }
    (code, text)
}
