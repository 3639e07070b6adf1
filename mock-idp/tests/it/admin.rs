//! The admin surface under `/__admin/`, over HTTP: what scripts and other languages use.

use mock_idp::MockIdp;
use reqwest::blocking::Client;
use serde_json::{json, Value};

fn call(idp: &MockIdp, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!("{}{path}", idp.base_url());
    let http = Client::new();
    let req = match method {
        "GET" => http.get(url),
        "POST" => http.post(url),
        "PUT" => http.put(url),
        "DELETE" => http.delete(url),
        _ => unreachable!(),
    };
    let req = match body {
        Some(b) => req.json(&b),
        None => req,
    };
    let resp = req.send().unwrap();
    (resp.status().as_u16(), resp.json().unwrap_or(Value::Null))
}

#[test]
fn status_lists_scenarios_routes_and_state() {
    let idp = MockIdp::start();
    let (s, v) = call(&idp, "GET", "/__admin", None);
    assert_eq!(s, 200);
    assert_eq!(v["scenario"], "single");
    assert_eq!(v["scenarios"].as_array().unwrap().len(), 12);
    assert!(v["routes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == "POST /__admin/faults"));
    assert_eq!(
        v["journal"],
        json!({"capacity": 1000, "len": 0, "total": 0, "dropped": 0})
    );
}

#[test]
fn scenarios_faults_and_settings_are_validated() {
    let idp = MockIdp::start();
    let (s, v) = call(
        &idp,
        "POST",
        "/__admin/scenario",
        Some(json!({"name": "me-500"})),
    );
    assert_eq!(s, 200);
    assert_eq!(v["faults"]["me"]["status"], 500);
    assert_eq!(
        call(
            &idp,
            "POST",
            "/__admin/scenario",
            Some(json!({"name": "nope"}))
        )
        .0,
        400
    );
    assert_eq!(
        call(&idp, "POST", "/__admin/scenario", Some(json!({}))).0,
        400
    );
    // An unknown endpoint, a fault that does nothing, a status that is none, zero times.
    for bad in [
        json!({"endpoint": "userinfo", "status": 500}),
        json!({"endpoint": "me"}),
        json!({"endpoint": "me", "status": 999}),
        json!({"endpoint": "me", "status": 500, "times": 0}),
    ] {
        let (s, _) = call(&idp, "POST", "/__admin/faults", Some(bad.clone()));
        assert_eq!(s, 400, "{bad}");
    }
    let (s, v) = call(
        &idp,
        "POST",
        "/__admin/faults",
        Some(json!({"endpoint": "token", "delay_ms": 10, "times": 2})),
    );
    assert_eq!(s, 201);
    assert_eq!(v["faults"]["token"]["delay_ms"], 10);
    let (_, v) = call(&idp, "DELETE", "/__admin/faults/me", None);
    assert!(v["faults"].get("me").is_none() && v["faults"].get("token").is_some());
    let (_, v) = call(&idp, "DELETE", "/__admin/faults", None);
    assert_eq!(v["faults"], json!({}));
    let (s, v) = call(
        &idp,
        "POST",
        "/__admin/settings",
        Some(json!({"deny": true, "code_ttl_secs": 5})),
    );
    assert_eq!(s, 200);
    assert_eq!(v["settings"]["deny"], true);
    assert!(idp.settings().deny);
    assert_eq!(
        call(
            &idp,
            "POST",
            "/__admin/settings",
            Some(json!({"colour": "red"}))
        )
        .0,
        400
    );
    assert_eq!(
        call(
            &idp,
            "POST",
            "/__admin/settings",
            Some(json!({"deny": "yes"}))
        )
        .0,
        400
    );
    assert_eq!(call(&idp, "GET", "/__admin/nothing", None).0, 404);
}

#[test]
fn a_custom_me_body_wrapped_or_bare() {
    let idp = MockIdp::start();
    let body = json!({"user_email": "x@example.com", "projects": {}});
    for sent in [
        body.clone(),
        json!({"status": "ok", "results": body.clone()}),
    ] {
        let (s, v) = call(&idp, "PUT", "/__admin/me", Some(sent));
        assert_eq!((s, v["scenario"].as_str()), (200, Some("custom")));
    }
    assert_eq!(call(&idp, "PUT", "/__admin/me", Some(json!([1, 2]))).0, 400);
}

#[test]
fn journal_since_clear_and_reset() {
    let idp = MockIdp::start();
    for _ in 0..3 {
        call(&idp, "GET", "/api/app/me", None);
    }
    let (_, v) = call(&idp, "GET", "/__admin/journal?since=1", None);
    assert_eq!(v["total"], 3);
    let seqs: Vec<u64> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [2, 3], "admin requests are not journaled");
    call(&idp, "DELETE", "/__admin/journal", None);
    assert!(idp.journal().is_empty());
    call(
        &idp,
        "POST",
        "/__admin/scenario",
        Some(json!({"name": "multi-org"})),
    );
    let (_, v) = call(&idp, "POST", "/__admin/reset", None);
    assert_eq!(v["scenario"], "single");
    assert_eq!(v["journal"]["total"], 0);
}

/// Regression: `{"access_token_ttl_secs": 18446744073709551615}` was accepted, then every token
/// and authorize request panicked (the connection dropped) until it was changed; a 200 MB admin
/// body was parsed whole. Values that cannot be served are refused, admin bodies are capped.
#[test]
fn settings_that_cannot_be_served_and_huge_bodies_are_refused() {
    let idp = MockIdp::start();
    for patch in [
        json!({"access_token_ttl_secs": u64::MAX}),
        json!({"code_ttl_secs": u64::MAX}),
        json!({"journal_capacity": u64::MAX}),
    ] {
        let (status, v) = call(&idp, "POST", "/__admin/settings", Some(patch.clone()));
        assert_eq!(status, 400, "{patch}: {v}");
        let field = patch.as_object().unwrap().keys().next().unwrap().clone();
        let message = v["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("`{field}` must be a whole number from")),
            "{v}"
        );
    }
    // The mock still serves a whole login.
    let (_, tokens) = mock_idp::client::Client::new(&idp.base_url()).login();
    assert_eq!(tokens["expires_in"], 3600, "{tokens}");
    let big = format!("{{\"deny\": false, \"pad\": \"{}\"}}", "x".repeat(1 << 20));
    let resp = mock_idp::client::http()
        .post(format!("{}/__admin/settings", idp.base_url()))
        .body(big)
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);
}

/// Regression: unknown fault fields were ignored (settings refused them), the endpoint names
/// were nowhere to read and the error for a bad one omitted `revoke`; a fault's `body` was
/// ignored, so no client could be contract-tested on a malformed answer.
#[test]
fn faults_are_strict_and_can_serve_any_body() {
    let idp = MockIdp::start();
    let (s, v) = call(
        &idp,
        "POST",
        "/__admin/faults",
        Some(json!({"endpoint": "me", "status": 500, "tiems": 2})),
    );
    assert_eq!(s, 400);
    assert!(v["message"].as_str().unwrap().contains("`tiems`"), "{v}");
    let (s, v) = call(
        &idp,
        "POST",
        "/__admin/faults",
        Some(json!({"endpoint": "mee", "status": 500})),
    );
    assert_eq!(s, 400);
    assert!(v["message"].as_str().unwrap().contains("revoke"), "{v}");
    let (_, v) = call(&idp, "GET", "/__admin", None);
    assert_eq!(
        v["fault_endpoints"],
        json!(["register", "authorize", "token", "revoke", "me"])
    );

    // A body served byte for byte, with its status and content type.
    let raw = "{\"status\":\"error\",\"results\":{}} trailing";
    let (s, _) = call(
        &idp,
        "POST",
        "/__admin/faults",
        Some(
            json!({"endpoint": "me", "status": 200, "body": raw, "content_type": "text/plain", "times": 1}),
        ),
    );
    assert_eq!(s, 201);
    let resp = Client::new()
        .get(format!("{}/api/app/me", idp.base_url()))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], "text/plain");
    assert_eq!(resp.text().unwrap(), raw);
}
