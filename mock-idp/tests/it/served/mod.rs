//! `mock-idp serve` as a process, for the test modules that drive it over HTTP: the binary, a
//! server, an admin call, a signal.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use mock_idp::process::Served;
use reqwest::blocking::Client;
use serde_json::Value;

/// The binary under test; `MOCK_IDP_BIN` points the memory tests at a release build.
pub fn bin() -> PathBuf {
    std::env::var_os("MOCK_IDP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_mock-idp")))
}

pub fn serve(args: &[&str]) -> Served {
    Served::spawn(&bin(), args).unwrap()
}

/// A client that follows no redirect; a server that takes longer than 30 s to answer has hung.
pub fn http() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// An admin call: status and JSON body.
pub fn call(served: &Served, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!("{}{path}", served.base_url);
    let req = http().request(method.parse().unwrap(), url);
    let req = match body {
        Some(b) => req.json(&b),
        None => req,
    };
    let resp = req
        .send()
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    (resp.status().as_u16(), resp.json().unwrap_or(Value::Null))
}

/// Sends `signal` (`-TERM`, `-INT`) to the server.
pub fn signal(served: &Served, signal: &str) {
    let pid = served.child.id().to_string();
    assert!(Command::new("kill")
        .args([signal, &pid])
        .status()
        .unwrap()
        .success());
}
