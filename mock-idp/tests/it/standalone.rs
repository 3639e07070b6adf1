//! `mock-idp serve` and `mock-idp approve` as processes, and the OAuth rules the login relies on.

use std::io::Write;
use std::process::{Command, Stdio};

use mock_idp::client::{self as oauth, Pkce, CALLBACK};

use reqwest::blocking::Client;
use serde_json::{json, Value};

use crate::served::{serve, signal};

const BIN: &str = env!("CARGO_BIN_EXE_mock-idp");

fn client() -> Client {
    oauth::http()
}

fn register(base: &str) -> String {
    let (status, reg) = oauth::Client::new(base).register(CALLBACK);
    assert_eq!(status, 201, "{reg}");
    reg["client_id"].as_str().unwrap().to_string()
}

fn authorize_url(base: &str, client_id: &str, verifier: &str) -> String {
    oauth::Client::new(base).authorize_url(client_id, "st-1", &Pkce::of(verifier).challenge)
}

fn approve(arg: Option<&str>, stdin: &str) -> (i32, String) {
    let mut cmd = Command::new(BIN);
    cmd.arg("approve");
    if let Some(a) = arg {
        cmd.arg(a);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap().trim().to_string(),
    )
}

fn code_of(redirect: &str) -> String {
    oauth::code_of(redirect).unwrap()
}

/// The form that exchanges `code` at the token endpoint.
fn code_form<'a>(code: &'a str, client_id: &'a str, verifier: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CALLBACK),
        ("client_id", client_id),
        ("code_verifier", verifier),
    ]
}

fn token(base: &str, form: &[(&str, &str)]) -> (u16, Value) {
    oauth::Client::new(base).token(form)
}

#[test]
fn serve_prints_its_base_url_and_approve_follows_the_authorize_url() {
    let served = serve(&["--scenario", "multi-org"]);
    assert!(served.base_url.starts_with("http://127.0.0.1:"));
    let client_id = register(&served.base_url);
    let verifier = "v".repeat(43);
    let url = authorize_url(&served.base_url, &client_id, &verifier);
    // The URL as an argument, and mp-login-start's envelope on stdin.
    let (code, redirect) = approve(Some(&url), "");
    assert_eq!(code, 0);
    assert!(
        redirect.starts_with(&format!("{CALLBACK}?code=mpcode_")),
        "{redirect}"
    );
    // RFC 9207: the issuer follows the state.
    let iss = url::form_urlencoded::byte_serialize(format!("{}/oauth", served.base_url).as_bytes())
        .collect::<String>();
    assert!(
        redirect.ends_with(&format!("&state=st-1&iss={iss}")),
        "{redirect}"
    );
    let envelope = json!({"schema_version": 1, "authorize_url": url}).to_string();
    let (code, second) = approve(None, &envelope);
    assert_eq!(code, 0);
    assert_ne!(
        code_of(&second),
        code_of(&redirect),
        "each approval issues a fresh code"
    );

    // The code is exchanged once with the right verifier; /me needs the token.
    let c = code_of(&redirect);
    let form = code_form(&c, &client_id, &verifier);
    let (status, tokens) = token(&served.base_url, &form);
    assert_eq!(status, 200, "{tokens}");
    let me = client()
        .get(format!("{}/api/app/me", served.base_url))
        .send()
        .unwrap();
    assert_eq!(me.status().as_u16(), 401);
    let me: Value = client()
        .get(format!("{}/api/app/me", served.base_url))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(me["status"], "ok");
    assert_eq!(me["results"]["projects"].as_object().unwrap().len(), 9);
    // Used once: spent.
    let (status, err) = token(&served.base_url, &form);
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[test]
fn a_wrong_verifier_burns_the_code() {
    let served = serve(&[]);
    let client_id = register(&served.base_url);
    let verifier = "a".repeat(43);
    let (_, redirect) = approve(
        Some(&authorize_url(&served.base_url, &client_id, &verifier)),
        "",
    );
    let c = code_of(&redirect);
    let wrong = "b".repeat(43);
    let mut form = code_form(&c, &client_id, &wrong);
    let (status, err) = token(&served.base_url, &form);
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    form[4].1 = verifier.as_str();
    let (status, err) = token(&served.base_url, &form);
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant")),
        "burnt by the failed try"
    );
}

#[test]
fn authorize_refuses_unknown_clients_and_unregistered_redirects() {
    let served = serve(&[]);
    let (code, _) = approve(
        Some(&authorize_url(&served.base_url, "nobody", &"v".repeat(43))),
        "",
    );
    assert_eq!(
        code, 1,
        "an unknown client gets an error page, not a redirect"
    );
    let client_id = register(&served.base_url);
    let url = authorize_url(&served.base_url, &client_id, &"v".repeat(43));
    let other_path = url.replace("%2Fcallback", "%2Fother");
    assert_eq!(
        approve(Some(&other_path), "").0,
        1,
        "an unregistered path is refused"
    );
    // RFC 8252 §7.3: a loopback redirect URI may come back on any port.
    let (code, redirect) = approve(Some(&url.replace("19284", "19999")), "");
    assert_eq!(code, 0);
    assert!(
        redirect.starts_with("http://localhost:19999/callback?code="),
        "{redirect}"
    );
}

#[test]
fn deny_redirects_with_access_denied() {
    let served = serve(&["--deny"]);
    let client_id = register(&served.base_url);
    let (code, redirect) = approve(
        Some(&authorize_url(
            &served.base_url,
            &client_id,
            &"v".repeat(43),
        )),
        "",
    );
    assert_eq!(code, 0);
    assert!(redirect.contains("error=access_denied"), "{redirect}");
    assert!(redirect.contains("state=st-1"));
}

#[test]
fn sigterm_and_sigint_stop_the_server_cleanly() {
    for signal in ["-TERM", "-INT"] {
        let mut served = serve(&[]);
        self::signal(&served, signal);
        let status = served.child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{signal}");
    }
}

#[test]
fn an_unknown_scenario_is_refused() {
    let out = Command::new(BIN)
        .args(["serve", "--scenario", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "clap's usage error");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("'nope'") && stderr.contains("multi-org"),
        "{stderr}"
    );
    let help = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for name in mock_idp::Scenario::names() {
        assert!(help.contains(name), "--help lists {name}: {help}");
    }
}

/// Waits up to five seconds for `child` to exit; its exit code.
fn exit_within_five_seconds(child: &mut std::process::Child) -> Option<i32> {
    for _ in 0..250 {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    panic!("mock-idp serve still runs after five seconds");
}

#[test]
fn exit_on_stdin_eof_stops_the_server_when_the_parent_closes_its_pipe() {
    let mut child = Command::new(BIN)
        .args(["serve", "--exit-on-stdin-eof"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert!(line.contains("base_url"), "{line}");
    let mut stdin = child.stdin.take().unwrap();
    // What is written is discarded; only the end of file stops the server.
    stdin.write_all(b"anything\n").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(child.try_wait().unwrap().is_none(), "stopped before EOF");
    drop(stdin);
    assert_eq!(exit_within_five_seconds(&mut child), Some(0));
}

#[cfg(target_os = "linux")]
#[test]
fn exit_with_parent_stops_the_server_when_its_parent_is_killed() {
    // A shell starts the server (stdin not a pipe: only the parent-death signal can stop it),
    // prints its pid, and is killed with SIGKILL.
    let mut shell = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{BIN}' serve --exit-with-parent </dev/null >/dev/null 2>&1 & echo $!; wait"
        ))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pid = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(shell.stdout.take().unwrap()),
        &mut pid,
    )
    .unwrap();
    let proc = format!("/proc/{}/stat", pid.trim());
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(std::path::Path::new(&proc).exists(), "the server never ran");
    shell.kill().unwrap();
    shell.wait().unwrap();
    let running = || {
        std::fs::read_to_string(&proc)
            .map(|stat| {
                stat.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .starts_with(|c| c != 'Z')
            })
            .unwrap_or(false)
    };
    for _ in 0..250 {
        if !running() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("mock-idp serve --exit-with-parent outlived its killed parent");
}
