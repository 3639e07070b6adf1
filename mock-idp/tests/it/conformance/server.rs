//! What the server publishes and how it is driven: metadata, /me, faults, the journal,
//! revocation, RFC 9207.

use std::time::Duration;

use mock_idp::{Endpoint, Fault, Scenario};
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthUrl, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl, RequestTokenError, TokenUrl,
};
use serde_json::{json, Value};

use super::support::*;

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
