//! The client side of the conformance tests: an oauth2-rs client against the mock.

use std::collections::HashMap;

use mock_idp::MockIdp;
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, TokenUrl,
};
use reqwest::blocking::Client as Http;
use serde_json::{json, Value};
use url::Url;

pub const CALLBACK: &str = "http://localhost:19284/callback";

type Exchange = Result<
    oauth2::basic::BasicTokenResponse,
    RequestTokenError<
        oauth2::HttpClientError<reqwest::Error>,
        oauth2::StandardErrorResponse<BasicErrorResponseType>,
    >,
>;

type Oauth = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

pub struct Idp {
    pub idp: MockIdp,
    pub http: Http,
}

pub fn idp() -> Idp {
    Idp {
        idp: MockIdp::start(),
        http: Http::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

impl Idp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.idp.base_url())
    }

    pub fn register_with(&self, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(self.url("/oauth/mcp/register/"))
            .json(&body)
            .send()
            .unwrap();
        (resp.status().as_u16(), resp.json().unwrap())
    }

    pub fn register(&self) -> String {
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

    pub fn client(&self, client_id: &str) -> Oauth {
        BasicClient::new(ClientId::new(client_id.to_string()))
            .set_auth_uri(AuthUrl::new(self.url("/oauth/authorize/")).unwrap())
            .set_token_uri(TokenUrl::new(self.url("/oauth/token/")).unwrap())
            .set_redirect_uri(RedirectUrl::new(CALLBACK.to_string()).unwrap())
    }

    /// Opens `url` like a browser and returns the redirect's query, or the error page's status.
    pub fn follow(&self, url: &str) -> Result<HashMap<String, String>, u16> {
        let resp = self.http.get(url).send().unwrap();
        if resp.status().as_u16() != 302 {
            return Err(resp.status().as_u16());
        }
        let location = Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
        Ok(location.query_pairs().into_owned().collect())
    }

    /// Authorize with PKCE; returns the code and the verifier.
    pub fn authorize(&self, client: &Oauth) -> (AuthorizationCode, PkceCodeVerifier) {
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
    pub fn exchange(
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

    pub fn me(&self, token: &str) -> u16 {
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
pub fn rfc_error<T: std::fmt::Debug>(
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
