//! The authorization-code, PKCE and refresh flows, and their refusals.

use std::time::Duration;

use oauth2::basic::BasicErrorResponseType;
use oauth2::{
    CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, TokenResponse,
};
use serde_json::{json, Value};

use super::support::*;

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
