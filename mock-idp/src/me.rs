//! `/me` behind a bearer token this mock issued.

use std::time::Instant;

use wiremock::{Request, ResponseTemplate};

use crate::state::{oauth_error, Reply, State};

/// `/me` behind a bearer token this mock issued (RFC 6750 §3.1 errors).
pub(crate) fn me(st: &mut State, req: &Request) -> Reply {
    let token = req
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        // RFC 7235 §2.1: the scheme is case-insensitive.
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map_or("", |(_, token)| token.trim_start_matches(' '));
    let valid = st
        .access
        .touch(token)
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
    Reply(
        200,
        ResponseTemplate::new(200)
            .set_body_raw(st.me.to_vec(), "application/json")
            .insert_header("Cache-Control", "no-store"),
    )
}
