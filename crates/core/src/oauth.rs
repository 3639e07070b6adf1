//! The OAuth 2.0 calls (`docs/oauth.md#regions-and-endpoints`): dynamic client registration (RFC 7591) with a per-region
//! client cache, the authorize URL (RFC 6749 §4.1.1 with RFC 7636 §4.3), and the code exchange
//! (RFC 6749 §4.1.3, RFC 7636 §4.5).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::json;
use url::Url;

use crate::clock;
use crate::context::Context;
use crate::endpoints::Endpoints;
use crate::error::{Error, NetworkFailure, Result};
use crate::http::{as_step, Call, Reply};
use crate::interrupt::Interrupt;
use crate::region::Region;
use crate::secret::{AccessToken, AuthCode, CodeVerifier, RefreshToken};
use crate::store;
use crate::text::shown;

/// The seed's advisory scope string, sent in the registration body (`docs/oauth.md#the-token-exchange-and-refresh`).
pub const DEFAULT_SCOPE: &str = "projects analysis events insights segmentation retention data:read funnels flows data_definitions dashboard_reports bookmarks";

/// The cached registration: `S/oauth/client_<region>[_<hash>].json` (`docs/files.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientCache {
    pub client_id: String,
    pub region: Region,
    pub redirect_uri: String,
    pub scope: String,
    pub created_at: String,
}

/// The cache path for these endpoints.
pub fn client_cache_path(storage: &Path, endpoints: &Endpoints) -> PathBuf {
    storage
        .join("oauth")
        .join(endpoints.client_cache_file_name())
}

/// The file for a client whose redirect URI differs from the region file's: the region file is
/// what mixpanel-headless refreshes every account of the region with, so it is never replaced
/// by another client (`docs/oauth.md#regions-and-endpoints`).
fn port_cache_path(region_file: &Path, redirect_uri: &str) -> PathBuf {
    let port = Url::parse(redirect_uri)
        .ok()
        .and_then(|u| u.port_or_known_default())
        .unwrap_or(0);
    let stem = region_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    region_file.with_file_name(format!("{stem}_port{port}.json"))
}

fn read_cache(path: &Path) -> Result<Option<ClientCache>> {
    let Some(read) = store::read_no_follow(path, 64 * 1024)? else {
        return Ok(None);
    };
    serde_json::from_slice(&read.bytes)
        .map(Some)
        .map_err(|e| Error::ClientCacheCorrupt {
            path: path.to_path_buf(),
            reason: crate::error::json_error_without_values(&e),
        })
}

/// Reuses a cached client whose `redirect_uri` matches exactly (the seed's rule); registers a
/// new one otherwise (RFC 7591, the seed's body) and caches it: in the region file when there
/// is none yet, else beside it.
pub fn register_or_reuse(
    ctx: &Context,
    endpoints: &Endpoints,
    redirect_uri: &str,
) -> Result<String> {
    let (http, progress) = (&ctx.http, ctx.progress);
    let region_file = client_cache_path(&ctx.paths.storage, endpoints);
    // Parallel starts register one client, not one each: the cache is read, filled and written
    // under the lock of its directory.
    let dir = region_file.parent().expect("cache path has a parent");
    store::ensure_private_dir(dir)?;
    let _lock = store::lock_dir(dir)?;
    let mut target = region_file.clone();
    if let Some(cached) = read_cache(&region_file)? {
        if cached.redirect_uri == redirect_uri {
            return Ok(cached.client_id);
        }
        target = port_cache_path(&region_file, redirect_uri);
        if let Some(cached) = read_cache(&target)? {
            if cached.redirect_uri == redirect_uri {
                return Ok(cached.client_id);
            }
        }
    }
    let url = endpoints.register();
    let body = json!({
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": DEFAULT_SCOPE,
    });
    let registration_error = |status, message| Error::RegistrationError {
        status,
        refusal: None,
        message,
    };
    let sent = http.send(
        "registering the OAuth client",
        url.as_str(),
        Call::Register,
        progress,
        |c| c.post(url.clone()).json(&body),
    );
    let reply = as_step(sent, |message| registration_error(None, message))?;
    if !reply.is_success() {
        let refusal = refusal(&reply);
        return Err(Error::RegistrationError {
            status: Some(reply.status),
            message: refusal.text(reply.status),
            refusal: Some(refusal),
        });
    }
    #[derive(Deserialize)]
    struct Registered {
        client_id: String,
    }
    let registered: Registered = serde_json::from_slice(&reply.body).map_err(|_| {
        registration_error(
            Some(reply.status),
            "the registration answer has no `client_id`".into(),
        )
    })?;
    store::write_json(
        ctx.interrupt,
        &target,
        &ClientCache {
            client_id: registered.client_id.clone(),
            region: endpoints.region,
            redirect_uri: redirect_uri.to_string(),
            scope: DEFAULT_SCOPE.to_string(),
            created_at: clock::rfc3339(clock::now()),
        },
    )?;
    Ok(registered.client_id)
}

/// What the kit uses of the authorization server metadata (RFC 8414).
#[derive(Deserialize)]
pub struct Metadata {
    pub issuer: String,
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// Any JSON: a value that is not a string is a document that cannot be trusted with a
    /// token, not one without the endpoint.
    #[serde(default)]
    pub revocation_endpoint: Option<serde_json::Value>,
}

impl Metadata {
    /// The `revocation_endpoint`, if the document names one: `Err` (why, for people) when it is
    /// not under the issuer's origin, where no token may go.
    pub fn revocation_endpoint(
        &self,
        endpoints: &Endpoints,
    ) -> Option<std::result::Result<Url, String>> {
        match self.revocation_endpoint.as_ref()? {
            serde_json::Value::Null => None,
            serde_json::Value::String(raw) => {
                Some(endpoints.own_endpoint("revocation_endpoint", raw))
            }
            _ => Some(Err(
                "the metadata's revocation_endpoint is not a string".to_string()
            )),
        }
    }
}

/// The metadata of the issuer `{base}/oauth`: `Ok(None)` when the server has none or it is
/// unusable (a 4xx, not JSON, no `issuer`); `Err` when the server did not answer (network,
/// 5xx), which says nothing about what it offers, or when the document names another issuer
/// (RFC 8414 §3.3: it must be rejected, and nothing in it used).
pub fn metadata(ctx: &Context, endpoints: &Endpoints) -> Result<Option<Metadata>> {
    let url = endpoints.metadata();
    let reply = ctx.http.send(
        "reading the authorization server metadata",
        url.as_str(),
        Call::Metadata,
        ctx.progress,
        |c| c.get(url.clone()),
    )?;
    if reply.status >= 500 {
        return Err(Error::NetworkError {
            url: url.to_string(),
            failure: NetworkFailure::Status(reply.status),
            source: None,
        });
    }
    let Some(document) = (reply.status == 200)
        .then(|| serde_json::from_slice::<Metadata>(&reply.body).ok())
        .flatten()
    else {
        return Ok(None);
    };
    let expected = endpoints.issuer();
    if document.issuer.trim_end_matches('/') != expected {
        return Err(Error::MetadataIssuerMismatch {
            url: url.to_string(),
            expected,
            got: document.issuer,
        });
    }
    Ok(Some(document))
}

/// The issuer whose `iss` finish must see on the redirect (RFC 9207 §2.4): set only when the
/// metadata says `authorization_response_iss_parameter_supported` (no metadata, or a server
/// that does not answer, changes nothing: the seed never asks). A document that names another
/// issuer fails the start (`OAUTH_ISSUER_MISMATCH`), before the person approves anything.
pub fn iss_issuer(ctx: &Context, endpoints: &Endpoints) -> Result<Option<String>> {
    match metadata(ctx, endpoints) {
        Ok(found) => Ok(found
            .filter(|m| m.authorization_response_iss_parameter_supported)
            .map(|m| m.issuer)),
        Err(e @ Error::MetadataIssuerMismatch { .. }) => Err(e),
        Err(_) => Ok(None),
    }
}

/// A token RFC 7009 can revoke, with its `token_type_hint`.
pub enum Revocable<'a> {
    Refresh(&'a RefreshToken),
    /// What there is when the server issued no refresh token.
    Access(&'a AccessToken),
}

impl Revocable<'_> {
    fn secret(&self) -> &str {
        match self {
            Revocable::Refresh(t) => t.secret(),
            Revocable::Access(t) => t.secret(),
        }
    }

    /// The RFC 7009 §2.1 `token_type_hint`, also what the logout envelope names.
    pub fn hint(&self) -> &'static str {
        match self {
            Revocable::Refresh(_) => "refresh_token",
            Revocable::Access(_) => "access_token",
        }
    }
}

/// RFC 7009: revokes `token` at `endpoint` (one [`Metadata::revocation_endpoint`] accepted).
/// A server that does not answer, or answers anything but 2xx, is `OAUTH_REVOCATION_FAILED`
/// with the reason.
pub fn revoke(ctx: &Context, endpoint: &Url, client_id: &str, token: &Revocable) -> Result<()> {
    let form = [
        ("token", token.secret()),
        ("token_type_hint", token.hint()),
        ("client_id", client_id),
    ];
    let failed = |status, reason| Error::RevocationFailed { status, reason };
    let sent = ctx.http.send(
        "revoking the token",
        endpoint.as_str(),
        Call::Revoke,
        ctx.progress,
        |c| c.post(endpoint.clone()).form(&form),
    );
    let reply = as_step(sent, |message| failed(None, message))?;
    match reply.status {
        200..=299 => Ok(()),
        status => Err(failed(
            Some(status),
            redacted(oauth_error(&reply).1, &[token.secret()]),
        )),
    }
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
    /// Kit key: the [`fingerprint`] of the refresh token this pair was refreshed with, which
    /// tells a pair that follows `tokens.json` from a stale one whatever the clock says
    /// (`docs/files.md#tokensjson`). mixpanel-headless ignores it (and drops it when it
    /// rewrites the file).
    pub refreshed_from: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct TokensFile {
    access_token: String,
    expires_at: String,
    token_type: String,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    refreshed_from: Option<String>,
}

/// 16 hex digits of the SHA-256 of a refresh token: names it inside its own 0600 account
/// directory without holding it (it is never printed).
pub fn fingerprint(token: &RefreshToken) -> String {
    use sha2::{Digest, Sha256};
    store::hex(&Sha256::digest(token.secret().as_bytes())[..8])
}

impl Tokens {
    /// `tokens.json` (`docs/files.md`), written 0600.
    pub fn save(&self, interrupt: &Interrupt, path: &Path) -> Result<()> {
        store::write_json(
            interrupt,
            path,
            &TokensFile {
                access_token: self.access_token.secret().to_string(),
                expires_at: clock::rfc3339(self.expires_at),
                token_type: self.token_type.clone(),
                scope: self.scope.clone(),
                refresh_token: self.refresh_token.as_ref().map(|t| t.secret().to_string()),
                refreshed_from: self.refreshed_from.clone(),
            },
        )
    }

    /// Reads `tokens.json` as the seed's `read_tokens_from_placeholder` (`docs/envelopes.md#error-codes`): `None`
    /// when it does not exist; unreadable, no `access_token`, or an `expires_at` that is not
    /// ISO 8601 with an offset → `OAUTH_TOKEN_ERROR`.
    pub fn load(path: &Path) -> Result<Option<Tokens>> {
        let Some(read) = store::read_no_follow(path, 1024 * 1024)? else {
            return Ok(None);
        };
        let corrupt = |reason: String| Error::TokensCorrupt {
            path: path.to_path_buf(),
            reason,
        };
        #[derive(Deserialize)]
        struct Loose {
            access_token: Option<String>,
            expires_at: Option<String>,
            token_type: Option<String>,
            scope: Option<String>,
            refresh_token: Option<String>,
            refreshed_from: Option<String>,
        }
        let file: Loose = serde_json::from_slice(&read.bytes)
            .map_err(|e| corrupt(crate::error::json_error_without_values(&e)))?;
        let access_token = file
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| corrupt("`access_token` is missing".into()))?;
        let expires_at = file
            .expires_at
            .ok_or_else(|| corrupt("`expires_at` is missing".into()))?;
        let expires_at = clock::parse_iso8601(&expires_at)
            .ok_or_else(|| corrupt("`expires_at` is not an ISO 8601 time with an offset".into()))?;
        Ok(Some(Tokens {
            access_token: AccessToken::new(access_token),
            refresh_token: file
                .refresh_token
                .filter(|r| !r.is_empty())
                .map(RefreshToken::new),
            expires_at,
            token_type: file.token_type.unwrap_or_else(|| "Bearer".into()),
            scope: file.scope.unwrap_or_default(),
            refreshed_from: file.refreshed_from,
        }))
    }
}

/// What the code exchange sends besides the endpoint (RFC 6749 §4.1.3, RFC 7636 §4.5).
pub struct CodeGrant<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub code: AuthCode,
    /// Moved in: the verifier is spent with the exchange.
    pub verifier: CodeVerifier,
}

/// Exchanges the code (RFC 6749 §4.1.3) with the verifier (RFC 7636 §4.5). Not retried: a
/// second attempt with the same code would fail with `invalid_grant` anyway.
pub fn exchange(ctx: &Context, endpoints: &Endpoints, grant: CodeGrant) -> Result<Tokens> {
    let CodeGrant {
        client_id,
        redirect_uri,
        code,
        verifier,
    } = grant;
    let url = endpoints.token();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.secret()),
        ("redirect_uri", redirect_uri),
        ("client_id", client_id),
        ("code_verifier", verifier.secret()),
    ];
    let reply = post_token(ctx, &url, "exchanging the code", &form)?;
    // The seed accepts 200 only (`docs/oauth.md#the-token-exchange-and-refresh`).
    if reply.status != 200 {
        let (oauth_error, message) = oauth_error(&reply);
        let message = redacted(message, &[code.secret(), verifier.secret()]);
        return Err(Error::TokenError {
            status: Some(reply.status),
            oauth_error,
            message,
        });
    }
    tokens_of(&reply, None)
}

/// A form POST to the token endpoint (never retried); no answer is `OAUTH_TOKEN_ERROR`.
fn post_token(ctx: &Context, url: &url::Url, label: &str, form: &[(&str, &str)]) -> Result<Reply> {
    let sent = ctx
        .http
        .send(label, url.as_str(), Call::Token, ctx.progress, |c| {
            c.post(url.clone()).form(form)
        });
    as_step(sent, |message| Error::TokenError {
        status: None,
        oauth_error: None,
        message,
    })
}

/// A 200 token answer as tokens: `access_token`, `expires_in` (an integer, or a string of one)
/// and `token_type` are required; `scope` defaults to "" and a missing `refresh_token` keeps
/// `previous` (RFC 6749 §6: the server may not rotate it) (`docs/oauth.md#the-token-exchange-and-refresh`).
fn tokens_of(reply: &Reply, previous: Option<RefreshToken>) -> Result<Tokens> {
    #[derive(Deserialize)]
    struct TokenResponse {
        access_token: String,
        token_type: String,
        expires_in: serde_json::Value,
        refresh_token: Option<String>,
        scope: Option<String>,
    }
    let bad = |what: &str| Error::TokenError {
        status: Some(200),
        oauth_error: None,
        message: format!("the token answer {what}"),
    };
    let t: TokenResponse = serde_json::from_slice(&reply.body)
        .map_err(|_| bad("lacks `access_token`, `expires_in` or `token_type`"))?;
    // A token goes into a header and a file: empty, or holding spaces or control characters
    // (a forged header line), it is refused before anything is written.
    let usable = |t: &str| !t.is_empty() && !t.chars().any(|c| c.is_control() || c == ' ');
    let bad_refresh = t
        .refresh_token
        .as_deref()
        .is_some_and(|r| !r.is_empty() && !usable(r));
    if !usable(&t.access_token) || bad_refresh {
        return Err(bad("has an empty or malformed token"));
    }
    let expires_in = match &t.expires_in {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| bad("has an `expires_in` that is not a whole number of seconds"))?;
    Ok(Tokens {
        access_token: AccessToken::new(t.access_token),
        refresh_token: t
            .refresh_token
            .filter(|r| !r.is_empty())
            .map(RefreshToken::new)
            .or(previous),
        expires_at: clock::now()
            .checked_add(Duration::from_secs(expires_in))
            .ok_or_else(|| bad("has an `expires_in` too large to be a time"))?,
        token_type: t.token_type,
        scope: t.scope.unwrap_or_default(),
        refreshed_from: None,
    })
}

/// The refresh-token grant (RFC 6749 §6) for a public client. `invalid_grant` (revoked, rotated
/// out, expired) is `OAUTH_REFRESH_REVOKED`; any other failure `OAUTH_TOKEN_ERROR` as
/// [`Error::RefreshFailed`]; a rotated refresh token replaces the old one.
pub fn refresh(
    ctx: &Context,
    endpoints: &Endpoints,
    client_id: &str,
    refresh_token: RefreshToken,
) -> Result<Tokens> {
    let url = endpoints.token();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.secret()),
        ("client_id", client_id),
    ];
    let as_refresh = |e: Error| match e {
        Error::TokenError {
            status,
            oauth_error,
            message,
        } => Error::RefreshFailed {
            status,
            oauth_error,
            message,
        },
        e => e,
    };
    let reply = post_token(ctx, &url, "refreshing the token", &form).map_err(as_refresh)?;
    if reply.status != 200 {
        let (oauth_error, message) = oauth_error(&reply);
        let message = redacted(message, &[refresh_token.secret()]);
        return Err(match oauth_error.as_deref() {
            Some("invalid_grant") => Error::RefreshRevoked { message },
            _ => Error::RefreshFailed {
                status: Some(reply.status),
                oauth_error,
                message,
            },
        });
    }
    let refreshed_from = fingerprint(&refresh_token);
    let mut renewed = tokens_of(&reply, Some(refresh_token)).map_err(as_refresh)?;
    renewed.refreshed_from = Some(refreshed_from);
    Ok(renewed)
}

/// `text` (a server's words) with every secret this request sent replaced: a server may echo
/// the token it refuses, and its words reach the envelope and stderr.
fn redacted(text: String, secrets: &[&str]) -> String {
    secrets
        .iter()
        .filter(|s| s.len() >= 8)
        .fold(text, |t, s| t.replace(s, "[redacted]"))
}

/// The RFC 6749 §5.2 (RFC 7591 §3.2.2) error body of a refused request, as the server sent it
/// (escaped where it is shown).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Refusal {
    pub error: Option<String>,
    pub error_description: Option<String>,
}

impl Refusal {
    /// The sentence for people: `HTTP 400: invalid_grant (the code has expired)`, or the
    /// status alone when the body is not such an object, control characters escaped.
    pub fn text(&self, status: u16) -> String {
        let mut text = format!("HTTP {status}");
        if let Some(e) = &self.error {
            text.push_str(&format!(": {}", shown(e)));
        }
        if let Some(d) = &self.error_description {
            text.push_str(&format!(" ({})", shown(d)));
        }
        text
    }
}

/// A failed answer's error body; empty when it is not such an object. The server's own words
/// only: the request is never echoed.
fn refusal(reply: &Reply) -> Refusal {
    serde_json::from_slice(&reply.body).unwrap_or_default()
}

/// The RFC 6749 §5.2 `error` code of a failed answer, and [`Refusal::text`].
fn oauth_error(reply: &Reply) -> (Option<String>, String) {
    let refusal = refusal(reply);
    let text = refusal.text(reply.status);
    (refusal.error, text)
}
