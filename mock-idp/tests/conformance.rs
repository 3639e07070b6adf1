//! Conformance: the mock driven by an independent OAuth client library (the `oauth2` crate)
//! through the full code + PKCE flow and each negative case, asserting the RFC error codes.

use std::collections::HashMap;
use std::time::Duration;

use mock_idp::{Endpoint, Fault, MockIdp, Scenario};
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError,
    TokenResponse, TokenUrl,
};
use reqwest::blocking::Client as Http;
use serde_json::{json, Value};
use url::Url;

const CALLBACK: &str = "http://localhost:19284/callback";

type Exchange = Result<
    oauth2::basic::BasicTokenResponse,
    RequestTokenError<
        oauth2::HttpClientError<reqwest::Error>,
        oauth2::StandardErrorResponse<BasicErrorResponseType>,
    >,
>;

type Oauth = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

struct Idp {
    idp: MockIdp,
    http: Http,
}

fn idp() -> Idp {
    Idp {
        idp: MockIdp::start(),
        http: Http::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

impl Idp {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.idp.base_url())
    }

    fn register_with(&self, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(self.url("/oauth/mcp/register/"))
            .json(&body)
            .send()
            .unwrap();
        (resp.status().as_u16(), resp.json().unwrap())
    }

    fn register(&self) -> String {
        let (status, body) = self.register_with(json!({
            "client_name": "conformance",
            "redirect_uris": [CALLBACK],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "scope": "projects",
        }));
        assert_eq!(status, 201, "{body}");
        body["client_id"].as_str().unwrap().to_string()
    }

    fn client(&self, client_id: &str) -> Oauth {
        BasicClient::new(ClientId::new(client_id.to_string()))
            .set_auth_uri(AuthUrl::new(self.url("/oauth/authorize/")).unwrap())
            .set_token_uri(TokenUrl::new(self.url("/oauth/token/")).unwrap())
            .set_redirect_uri(RedirectUrl::new(CALLBACK.to_string()).unwrap())
    }

    /// Opens `url` like a browser and returns the redirect's query, or the error page's status.
    fn follow(&self, url: &str) -> Result<HashMap<String, String>, u16> {
        let resp = self.http.get(url).send().unwrap();
        if resp.status().as_u16() != 302 {
            return Err(resp.status().as_u16());
        }
        let location = Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
        Ok(location.query_pairs().into_owned().collect())
    }

    /// Authorize with PKCE; returns the code and the verifier.
    fn authorize(&self, client: &Oauth) -> (AuthorizationCode, PkceCodeVerifier) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, csrf) = client
            .authorize_url(CsrfToken::new_random)
            .set_pkce_challenge(challenge)
            .url();
        let q = self.follow(url.as_str()).expect("authorize redirects");
        assert_eq!(q["state"], *csrf.secret(), "state comes back unchanged");
        (AuthorizationCode::new(q["code"].clone()), verifier)
    }

    /// The code exchange with the verifier (RFC 7636 §4.5).
    fn exchange(
        &self,
        client: &Oauth,
        code: AuthorizationCode,
        verifier: PkceCodeVerifier,
    ) -> Exchange {
        client
            .exchange_code(code)
            .set_pkce_verifier(verifier)
            .request(&self.http)
    }

    fn me(&self, token: &str) -> u16 {
        self.http
            .get(self.url("/api/app/me"))
            .bearer_auth(token)
            .send()
            .unwrap()
            .status()
            .as_u16()
    }
}

/// The RFC 6749 §5.2 error code of a failed token request.
fn rfc_error<T: std::fmt::Debug>(
    r: Result<
        T,
        RequestTokenError<
            impl std::error::Error,
            oauth2::StandardErrorResponse<BasicErrorResponseType>,
        >,
    >,
) -> BasicErrorResponseType {
    match r {
        Err(RequestTokenError::ServerResponse(e)) => e.error().clone(),
        other => panic!("expected an RFC 6749 §5.2 error, got {other:?}"),
    }
}

#[test]
fn the_full_code_pkce_and_refresh_flow() {
    let t = idp();
    let client = t.client(&t.register());
    let (code, verifier) = t.authorize(&client);
    let tokens = t.exchange(&client, code, verifier).unwrap();
    assert_eq!(*tokens.token_type(), oauth2::basic::BasicTokenType::Bearer);
    assert_eq!(tokens.expires_in(), Some(Duration::from_secs(3600)));
    assert_eq!(t.me(tokens.access_token().secret()), 200);
    let refresh = tokens.refresh_token().unwrap().clone();
    let rotated = client
        .exchange_refresh_token(&refresh)
        .request(&t.http)
        .unwrap();
    assert_ne!(
        rotated.refresh_token().unwrap().secret(),
        refresh.secret(),
        "refresh tokens rotate"
    );
    assert_eq!(t.me(rotated.access_token().secret()), 200);
}

#[test]
fn a_reused_refresh_token_revokes_the_whole_grant() {
    let t = idp();
    let client = t.client(&t.register());
    let (code, verifier) = t.authorize(&client);
    let first = t.exchange(&client, code, verifier).unwrap();
    let old = first.refresh_token().unwrap().clone();
    let second = client
        .exchange_refresh_token(&old)
        .request(&t.http)
        .unwrap();
    // The rotated-out token comes back: someone else may hold it.
    assert_eq!(
        rfc_error(client.exchange_refresh_token(&old).request(&t.http)),
        BasicErrorResponseType::InvalidGrant
    );
    let newest = second.refresh_token().unwrap().clone();
    assert_eq!(
        rfc_error(client.exchange_refresh_token(&newest).request(&t.http)),
        BasicErrorResponseType::InvalidGrant
    );
    assert_eq!(
        t.me(second.access_token().secret()),
        401,
        "the family's access tokens are revoked"
    );
    let unknown = RefreshToken::new("mprt_never-issued".into());
    assert_eq!(
        rfc_error(client.exchange_refresh_token(&unknown).request(&t.http)),
        BasicErrorResponseType::InvalidGrant
    );
}

#[test]
fn codes_are_one_time_even_when_the_first_use_fails() {
    let t = idp();
    let client = t.client(&t.register());
    let (code, verifier) = t.authorize(&client);
    let wrong = PkceCodeVerifier::new("w".repeat(43));
    assert_eq!(
        rfc_error(t.exchange(&client, code.clone(), wrong)),
        BasicErrorResponseType::InvalidGrant
    );
    assert_eq!(
        rfc_error(t.exchange(&client, code, verifier)),
        BasicErrorResponseType::InvalidGrant
    );
    let (code, verifier) = t.authorize(&client);
    t.exchange(&client, code.clone(), verifier).unwrap();
    let again = PkceCodeVerifier::new("x".repeat(43));
    assert_eq!(
        rfc_error(t.exchange(&client, code, again)),
        BasicErrorResponseType::InvalidGrant
    );
}

#[test]
fn a_code_is_bound_to_verifier_client_and_redirect_uri() {
    let t = idp();
    let client = t.client(&t.register());
    // Without a verifier.
    let (code, _) = t.authorize(&client);
    assert_eq!(
        rfc_error(client.exchange_code(code).request(&t.http)),
        BasicErrorResponseType::InvalidGrant
    );
    // Another client.
    let other = t.client(&t.register());
    let (code, verifier) = t.authorize(&client);
    assert_eq!(
        rfc_error(t.exchange(&other, code, verifier)),
        BasicErrorResponseType::InvalidGrant
    );
    // Another redirect URI.
    let (code, verifier) = t.authorize(&client);
    let moved = client
        .clone()
        .set_redirect_uri(RedirectUrl::new("http://localhost:19284/elsewhere".into()).unwrap());
    assert_eq!(
        rfc_error(t.exchange(&moved, code, verifier)),
        BasicErrorResponseType::InvalidGrant
    );
    // An unknown client is not a client at all.
    let stranger = t.client("mpc_unknown");
    let (code, verifier) = t.authorize(&client);
    assert_eq!(
        rfc_error(t.exchange(&stranger, code, verifier)),
        BasicErrorResponseType::InvalidClient
    );
}

#[test]
fn codes_expire() {
    let t = idp();
    t.idp.set_code_ttl(Duration::ZERO);
    let client = t.client(&t.register());
    let (code, verifier) = t.authorize(&client);
    assert_eq!(
        rfc_error(t.exchange(&client, code, verifier)),
        BasicErrorResponseType::InvalidGrant
    );
}

#[test]
fn unsupported_grant_types_and_malformed_requests() {
    let t = idp();
    let client_id = t.register();
    let post = |form: &[(&str, &str)]| -> (u16, Value) {
        let r = t
            .http
            .post(t.url("/oauth/token/"))
            .form(form)
            .send()
            .unwrap();
        (r.status().as_u16(), r.json().unwrap())
    };
    let (s, body) = post(&[("grant_type", "password"), ("client_id", &client_id)]);
    assert_eq!(
        (s, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (s, body) = post(&[("client_id", &client_id)]);
    assert_eq!((s, body["error"].as_str()), (400, Some("invalid_request")));
}

#[test]
fn authorize_errors_redirect_to_a_trusted_uri_only() {
    let t = idp();
    let client_id = t.register();
    let client = t.client(&client_id);
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (good, _) = client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge)
        .url();
    let with = |k: &str, v: Option<&str>| {
        let mut u = good.clone();
        let pairs: Vec<(String, String)> = good
            .query_pairs()
            .into_owned()
            .filter(|(n, _)| n != k)
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
        if let Some(v) = v {
            u.query_pairs_mut().append_pair(k, v);
        }
        u.to_string()
    };
    // RFC 6749 §4.1.2.1: errors go back to the client with the state…
    let q = t.follow(&with("response_type", Some("token"))).unwrap();
    assert_eq!(q["error"], "unsupported_response_type");
    assert!(q.contains_key("state"));
    assert_eq!(
        t.follow(&with("code_challenge_method", Some("plain")))
            .unwrap()["error"],
        "invalid_request"
    );
    assert_eq!(
        t.follow(&with("code_challenge", None)).unwrap()["error"],
        "invalid_request"
    );
    assert_eq!(
        t.follow(&with("code_challenge", Some("too-short")))
            .unwrap()["error"],
        "invalid_request"
    );
    t.idp.deny_authorization(true);
    assert_eq!(t.follow(good.as_str()).unwrap()["error"], "access_denied");
    // …unless the redirect URI cannot be trusted: then an error page, no redirect.
    assert_eq!(t.follow(&with("client_id", Some("mpc_unknown"))), Err(400));
    assert_eq!(
        t.follow(&with("redirect_uri", Some("https://evil.example/callback"))),
        Err(400)
    );
    assert_eq!(t.follow(&with("redirect_uri", None)), Err(400));
}

#[test]
fn registration_validates_its_body() {
    let t = idp();
    let ok = json!({
        "redirect_uris": [CALLBACK],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": "projects",
    });
    let (s, body) = t.register_with(ok.clone());
    assert_eq!(s, 201);
    for k in [
        "redirect_uris",
        "grant_types",
        "response_types",
        "token_endpoint_auth_method",
        "scope",
    ] {
        assert_eq!(body[k], ok[k], "the registered metadata echoes {k}");
    }
    assert!(body["client_id_issued_at"].as_u64().is_some());
    let bad = |patch: Value| {
        let mut b = ok.clone();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                b.as_object_mut().unwrap().remove(k);
            } else {
                b[k] = v.clone();
            }
        }
        let (s, body) = t.register_with(b);
        (s, body["error"].as_str().unwrap().to_string())
    };
    assert_eq!(
        bad(json!({"redirect_uris": null})),
        (400, "invalid_redirect_uri".into())
    );
    assert_eq!(
        bad(json!({"redirect_uris": []})),
        (400, "invalid_redirect_uri".into())
    );
    assert_eq!(
        bad(json!({"redirect_uris": ["/callback"]})),
        (400, "invalid_redirect_uri".into())
    );
    assert_eq!(
        bad(json!({"grant_types": ["client_credentials"]})),
        (400, "invalid_client_metadata".into())
    );
    assert_eq!(
        bad(json!({"response_types": ["token"]})),
        (400, "invalid_client_metadata".into())
    );
    assert_eq!(
        bad(json!({"token_endpoint_auth_method": "client_secret_basic"})),
        (400, "invalid_client_metadata".into())
    );
    let resp = t
        .http
        .post(t.url("/oauth/mcp/register/"))
        .body("not json")
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
}

#[test]
fn me_needs_a_live_bearer_token_it_issued() {
    let t = idp();
    let resp = t.http.get(t.url("/api/app/me")).send().unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert!(resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
    assert_eq!(t.me("mpat_forged"), 401);
    t.idp.set_access_token_ttl(Duration::ZERO);
    let client = t.client(&t.register());
    let (code, verifier) = t.authorize(&client);
    let tokens = t.exchange(&client, code, verifier).unwrap();
    assert_eq!(t.me(tokens.access_token().secret()), 401, "expired");
}

#[test]
fn rfc8414_metadata_at_both_well_known_paths() {
    let t = idp();
    let base = t.idp.base_url();
    for (path, issuer) in [
        ("/.well-known/oauth-authorization-server", base.clone()),
        (
            "/.well-known/oauth-authorization-server/oauth",
            format!("{base}/oauth"),
        ),
    ] {
        let meta: Value = t.http.get(t.url(path)).send().unwrap().json().unwrap();
        assert_eq!(meta["issuer"], issuer.as_str());
        assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(
            meta["token_endpoint_auth_methods_supported"],
            json!(["none"])
        );
        assert_eq!(
            meta["registration_endpoint"],
            format!("{base}/oauth/mcp/register/")
        );
        assert_eq!(meta["revocation_endpoint"], format!("{base}/oauth/revoke/"));
        assert_eq!(meta["authorization_response_iss_parameter_supported"], true);
        // The advertised endpoints are the ones that work.
        let client = BasicClient::new(ClientId::new(t.register()))
            .set_auth_uri(
                AuthUrl::new(meta["authorization_endpoint"].as_str().unwrap().into()).unwrap(),
            )
            .set_token_uri(TokenUrl::new(meta["token_endpoint"].as_str().unwrap().into()).unwrap())
            .set_redirect_uri(RedirectUrl::new(CALLBACK.into()).unwrap());
        let (code, verifier) = t.authorize(&client);
        t.exchange(&client, code, verifier).unwrap();
    }
}

#[test]
fn faults_status_retry_after_delay_drop_and_times() {
    let t = idp();
    t.idp.fault(
        Endpoint::Register,
        Fault::status(429).retry_after(7).times(2),
    );
    for _ in 0..2 {
        let r = t
            .http
            .post(t.url("/oauth/mcp/register/"))
            .json(&json!({"redirect_uris": [CALLBACK]}))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 429);
        assert_eq!(r.headers()["retry-after"], "7");
    }
    t.register();
    t.idp.fault(Endpoint::Me, Fault::dropped().times(1));
    let err = t.http.get(t.url("/api/app/me")).send().unwrap_err();
    assert!(
        !err.is_status(),
        "the connection closed without an answer: {err}"
    );
    assert_eq!(t.me("mpat_forged"), 401, "one drop only");
    t.idp
        .fault(Endpoint::Me, Fault::delay(Duration::from_millis(300)));
    let before = std::time::Instant::now();
    assert_eq!(t.me("mpat_forged"), 401);
    assert!(before.elapsed() >= Duration::from_millis(300));
    let statuses: Vec<u16> = t.idp.journal().iter().map(|j| j.status).collect();
    assert_eq!(statuses, [429, 429, 201, 0, 401, 401]);
}

#[test]
fn fault_presets_are_scenarios() {
    let t = idp();
    t.idp.set_scenario(Scenario::Token500);
    let client = t.client(&t.register());
    let (code, verifier) = t.authorize(&client);
    let r = t.exchange(&client, code, verifier);
    assert!(
        matches!(r, Err(RequestTokenError::ServerResponse(ref e)) if *e.error() == BasicErrorResponseType::Extension("server_error".into())),
        "{r:?}"
    );
    t.idp.set_scenario(Scenario::AccessDenied);
    assert_eq!(
        t.follow(
            t.client(&t.register())
                .authorize_url(CsrfToken::new_random)
                .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
                .url()
                .0
                .as_str()
        )
        .unwrap()["error"],
        "access_denied"
    );
    // Switching clears the preset.
    t.idp.set_scenario(Scenario::Single);
    assert!(!t.idp.settings().deny);
    assert!("nope".parse::<Scenario>().is_err());
    assert_eq!(
        Scenario::named("large", Some(7)),
        Some(Scenario::Large { projects: 7 })
    );
}

#[test]
fn the_journal_is_bounded() {
    let t = idp();
    t.idp.set_journal_capacity(10);
    for _ in 0..25 {
        t.me("x");
    }
    let journal = t.idp.journal();
    assert_eq!(journal.len(), 10);
    assert_eq!(
        journal.first().unwrap().seq,
        16,
        "the oldest entries went first"
    );
    assert_eq!(t.idp.journal_total(), 25);
}

/// RFC 7009: revoking a refresh token ends its family, so its access token stops working on
/// `/me`; the journal tells the two grants apart.
#[test]
fn revocation_ends_the_family_and_the_journal_names_grants() {
    let t = idp();
    let oauth = mock_idp::client::Client::new(&t.idp.base_url());
    let (client_id, tokens) = oauth.login();
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(t.me(access), 200);
    let revoke = |form: &[(&str, &str)]| {
        t.http
            .post(t.url("/oauth/revoke/"))
            .form(form)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(revoke(&[("token", refresh), ("client_id", "nobody")]), 401);
    assert_eq!(
        revoke(&[("token", refresh), ("client_id", &client_id)]),
        200
    );
    assert_eq!(
        t.me(access),
        401,
        "the family's access token is revoked too"
    );
    let (status, err) = oauth.token(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("client_id", &client_id),
    ]);
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // Unknown tokens are fine (RFC 7009 §2.2).
    assert_eq!(
        revoke(&[("token", "never-issued"), ("client_id", &client_id)]),
        200
    );
    let grants: Vec<Option<String>> = t
        .idp
        .journal()
        .into_iter()
        .filter(|j| j.path == "/oauth/token/")
        .map(|j| j.grant)
        .collect();
    assert_eq!(
        grants,
        [
            Some("authorization_code".into()),
            Some("refresh_token".into())
        ]
    );
}

/// The RFC 9207 knobs: `iss` sent, omitted or wrong; the metadata hidden.
#[test]
fn iss_and_metadata_settings() {
    let t = idp();
    let oauth = mock_idp::client::Client::new(&t.idp.base_url());
    let (status, reg) = oauth.register(mock_idp::client::CALLBACK);
    assert_eq!(status, 201);
    let client_id = reg["client_id"].as_str().unwrap();
    let pkce = mock_idp::client::Pkce::random();
    let url = oauth.authorize_url(client_id, "s", &pkce.challenge);
    let iss = |mode: mock_idp::IssMode| {
        t.idp.update_settings(|s| s.iss = mode);
        let redirect = mock_idp::client::approve(&url).unwrap();
        url::Url::parse(&redirect)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "iss")
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(
        iss(mock_idp::IssMode::Send),
        Some(format!("{}/oauth", t.idp.base_url()))
    );
    assert_eq!(iss(mock_idp::IssMode::Omit), None);
    assert_eq!(
        iss(mock_idp::IssMode::Wrong).as_deref(),
        Some("https://attacker.example/oauth")
    );
    t.idp.update_settings(|s| s.metadata = false);
    let hidden = t
        .http
        .get(t.url("/.well-known/oauth-authorization-server/oauth"))
        .send()
        .unwrap();
    assert_eq!(hidden.status().as_u16(), 404);
}
