//! One test per reachable row of `docs/envelopes.md#error-codes`: the envelope and stderr are snapshotted, the files
//! afterwards checked as the row says.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::common::{self, mode, read_json, tree, Env};
use mock_idp::{Endpoint, Fault, Scenario};
use serde_json::Value;

const CALLBACK: &str = "http://localhost:19284/callback";

fn tamper_inflight(env: &Env, f: impl FnOnce(&mut Value)) {
    let p = env.inflight_path();
    let mut v = read_json(&p);
    f(&mut v);
    fs::write(&p, v.to_string()).unwrap();
    assert_eq!(mode(&p), 0o600);
}

#[test]
fn invalid_args_unknown_flag() {
    let env = Env::new();
    let run = env.run("mp-login-start", &["--colour", "blue"], None);
    snapshot!("error_invalid_args_unknown_flag", env.redact(&run));
    assert_eq!(run.exit_code, 3);
    assert!(!env.storage.exists(), "nothing is written");
}

#[test]
fn invalid_args_bad_values() {
    let env = Env::new();
    let run = env.run("mp-login-start", &["--ttl", "5"], None);
    snapshot!("error_invalid_args_ttl", env.redact(&run));
    assert_eq!(run.exit_code, 3);
    let run = env.run("mp-login-start", &["--region", "mars"], None);
    assert_eq!(run.failure(), (3, "INVALID_ARGUMENT"));
    let run = env.run("mp-autopick", &["--region"], None);
    assert_eq!(run.exit_code, 3);
    assert!(!env.storage.exists());
}

#[test]
fn invalid_args_two_redirect_inputs() {
    let env = Env::new();
    env.start(&[]);
    let before = tree(&env.storage);
    let run = env.run(
        "mp-login-finish",
        &["?code=SECRETCODE&state=s", "--redirect-file", "/dev/null"],
        None,
    );
    snapshot!("error_invalid_args_two_inputs", env.redact(&run));
    assert_eq!(run.exit_code, 3);
    assert!(
        !run.stdout.to_string().contains("SECRETCODE"),
        "usage errors never echo the pasted URL"
    );
    assert_eq!(tree(&env.storage), before, "untouched");
}

#[test]
fn invalid_args_plain_base_url_is_refused() {
    let env = Env::new();
    let run = env.run(
        "mp-login-start",
        &["--base-url", "http://example.com"],
        None,
    );
    assert_eq!(run.failure(), (3, "INVALID_ARGUMENT"));
}

#[test]
fn inflight_missing() {
    let env = Env::new();
    let run = env.run(
        "mp-login-finish",
        &[&format!("{CALLBACK}?code=c&state=s")],
        None,
    );
    snapshot!("error_inflight_missing", env.redact(&run));
    assert_eq!(run.exit_code, 2);
    assert!(!env.storage.exists(), "untouched");
}

#[test]
fn inflight_expired_is_kept() {
    let env = Env::new();
    let redirect = env.start_and_approve(&[]);
    // 2026-01-01T00:00:00Z, ten minutes.
    tamper_inflight(&env, |v| {
        v["created_at"] = 1_767_225_600.into();
        v["expires_at"] = 1_767_226_200.into();
    });
    let run = env.finish(&redirect, &[]);
    snapshot!("error_inflight_expired", env.redact(&run));
    assert_eq!(run.exit_code, 2);
    assert_eq!(run.stdout["error"]["details"]["expires_at"], 1_767_226_200);
    assert!(env.inflight_path().exists(), "kept, as the seed keeps it");
}

#[test]
fn inflight_corrupt_is_kept() {
    let env = Env::new();
    let redirect = env.start_and_approve(&[]);
    fs::write(env.inflight_path(), "{not json").unwrap();
    let run = env.finish(&redirect, &[]);
    snapshot!("error_inflight_corrupt", env.redact(&run));
    assert_eq!(run.exit_code, 2);
    assert_eq!(
        fs::read_to_string(env.inflight_path()).unwrap(),
        "{not json",
        "kept"
    );
}

#[test]
fn inflight_with_wrong_types_is_corrupt() {
    let env = Env::new();
    let redirect = env.start_and_approve(&[]);
    tamper_inflight(&env, |v| v["created_at"] = "yesterday".into());
    let run = env.finish(&redirect, &[]);
    assert_eq!(run.stdout["error"]["code"], "OAUTH_INFLIGHT_CORRUPT");
    assert_eq!(run.exit_code, 2);
    tamper_inflight(&env, |v| {
        v.as_object_mut().unwrap().remove("pkce_verifier");
    });
    let run = env.finish(&redirect, &[]);
    assert_eq!(
        run.stdout["error"]["details"]["missing"],
        serde_json::json!(["pkce_verifier"])
    );
    assert!(env.inflight_path().exists());
}

#[test]
fn inflight_readable_by_others_is_corrupt() {
    let env = Env::new();
    let redirect = env.start_and_approve(&[]);
    fs::set_permissions(env.inflight_path(), fs::Permissions::from_mode(0o644)).unwrap();
    let run = env.finish(&redirect, &[]);
    snapshot!("error_inflight_wrong_mode", env.redact(&run));
    assert_eq!(run.exit_code, 2);
    assert!(env.inflight_path().exists(), "kept");
}

#[test]
fn inflight_schema_too_new_is_kept() {
    let env = Env::new();
    let redirect = env.start_and_approve(&[]);
    tamper_inflight(&env, |v| v["schema_version"] = 2.into());
    let before = fs::read(env.inflight_path()).unwrap();
    let run = env.finish(&redirect, &[]);
    snapshot!("error_inflight_schema_too_new", env.redact(&run));
    assert_eq!(run.exit_code, 2);
    assert_eq!(fs::read(env.inflight_path()).unwrap(), before, "kept");
}

#[test]
fn paste_error_names_the_authorize_url() {
    let env = Env::new();
    let started = env.start(&[]);
    let run = env.run(
        "mp-login-finish",
        &[started.stdout["authorize_url"].as_str().unwrap()],
        None,
    );
    snapshot!("error_redirect_is_authorize_url", env.redact(&run));
    assert_eq!(run.exit_code, 2);
    assert_eq!(run.stdout["error"]["code"], "OAUTH_PASTE_ERROR");
    assert!(env.inflight_path().exists(), "kept");
}

#[test]
fn paste_error_without_state_and_too_large() {
    let env = Env::new();
    env.start(&[]);
    let run = env.run(
        "mp-login-finish",
        &[&format!("{CALLBACK}?code=SECRETCODE")],
        None,
    );
    snapshot!("error_redirect_without_state", env.redact(&run));
    assert_eq!(run.exit_code, 2);
    assert!(!format!("{run:?}").contains("SECRETCODE"));
    let big = "x".repeat(64 * 1024 + 1);
    let run = env.run("mp-login-finish", &[], Some(&big));
    assert_eq!(run.stdout["error"]["code"], "OAUTH_PASTE_ERROR");
    assert!(run.stdout["error"]["message"]
        .as_str()
        .unwrap()
        .contains("64 KiB"));
    assert!(env.inflight_path().exists(), "kept");
}

#[test]
fn state_mismatch_keeps_the_inflight() {
    let env = Env::new();
    let redirect = env.start_and_approve(&[]);
    let forged = regex::Regex::new("state=[^&]+")
        .unwrap()
        .replace(&redirect, "state=forged");
    let run = env.run("mp-login-finish", &[&forged], None);
    snapshot!("error_state_mismatch", env.redact(&run));
    assert_eq!(run.exit_code, 2);
    assert!(env.inflight_path().exists(), "kept");
    // The real redirect still works afterwards: nothing was spent.
    let run = env.finish(&redirect, &[]);
    assert_eq!(run.exit_code, 0, "{run:?}");
}

#[test]
fn auth_denied_keeps_the_inflight() {
    let env = Env::new();
    env.idp.deny_authorization(true);
    let redirect = env.start_and_approve(&[]);
    let run = env.finish(&redirect, &[]);
    snapshot!("error_access_denied", env.redact(&run));
    assert_eq!(run.exit_code, 2);
    assert!(env.inflight_path().exists(), "kept, as the seed keeps it");
}

#[test]
fn a_denial_is_reported_before_the_state_and_keeps_the_login() {
    let env = Env::new();
    env.start(&[]);
    // The seed checks `error` before `state` (`docs/oauth.md#the-pasted-redirect` step 5). The mock's `iss` (RFC 9207)
    // is checked first of all; this denial comes from the same server.
    let iss = format!("{}/oauth", env.idp.base_url());
    let stale = format!(
        "{CALLBACK}?error=access_denied&state=of-an-older-login&iss={}",
        url::form_urlencoded::byte_serialize(iss.as_bytes()).collect::<String>()
    );
    let run = env.run("mp-login-finish", &[&stale], None);
    assert_eq!(run.stdout["error"]["code"], "OAUTH_AUTH_DENIED");
    assert!(env.inflight_path().exists(), "kept");
}

#[test]
fn registration_error_5xx_and_429() {
    let env = Env::new();
    env.idp
        .fault(Endpoint::Register, Fault::status(500).retry_after(0));
    let run = env.run("mp-login-start", &[], None);
    snapshot!("error_registration_500", env.redact(&run));
    assert_eq!(run.exit_code, 2);
    assert!(!env.inflight_path().exists(), "untouched");
    env.idp
        .fault(Endpoint::Register, Fault::status(429).retry_after(0));
    let run = env.run("mp-login-start", &[], None);
    snapshot!("error_registration_429", env.redact(&run));
    assert_eq!(run.exit_code, 2);
    let registrations = env.calls("/oauth/mcp/register/").len();
    assert_eq!(registrations, 8, "each start tries 1 + 3 retries");
    assert!(
        !env.storage.join("oauth").exists()
            || fs::read_dir(env.storage.join("oauth")).unwrap().count() == 0
    );
}

#[test]
fn token_error_invalid_grant_keeps_the_inflight() {
    let env = Env::new();
    // Codes expire: this one is dead before the user pastes it.
    env.idp.set_code_ttl(Duration::ZERO);
    let redirect = env.start_and_approve(&[]);
    std::thread::sleep(Duration::from_millis(20));
    let run = env.finish(&redirect, &[]);
    snapshot!("error_token_invalid_grant", env.redact(&run));
    assert_eq!(run.exit_code, 2);
    assert!(env.inflight_path().exists(), "kept, as the seed keeps it");
    assert!(env.placeholders().is_empty());
}

#[test]
fn token_error_a_code_is_one_time() {
    let env = Env::new();
    let redirect = env.start_and_approve(&[]);
    let inflight = fs::read(env.inflight_path()).unwrap();
    assert_eq!(env.finish(&redirect, &[]).exit_code, 0);
    // The same redirect pasted again, with the inflight file put back.
    fs::write(env.inflight_path(), inflight).unwrap();
    fs::set_permissions(env.inflight_path(), fs::Permissions::from_mode(0o600)).unwrap();
    let run = env.finish(&redirect, &[]);
    assert_eq!(run.stdout["error"]["code"], "OAUTH_TOKEN_ERROR");
    assert_eq!(run.stdout["error"]["details"]["error"], "invalid_grant");
    assert!(run.stdout["error"]["hint"]
        .as_str()
        .unwrap()
        .contains("one-time"));
}

#[test]
fn token_error_5xx_keeps_the_inflight() {
    let env = Env::new();
    let redirect = env.start_and_approve(&[]);
    env.idp.fault(Endpoint::Token, Fault::status(502).times(1));
    let run = env.finish(&redirect, &[]);
    snapshot!("error_token_502", env.redact(&run));
    assert_eq!(run.exit_code, 2);
    assert!(env.inflight_path().exists(), "kept");
}

#[test]
fn me_fetch_error_after_the_exchange_is_a_publish_failure() {
    let env = Env::new();
    env.idp
        .fault(Endpoint::Me, Fault::status(500).retry_after(0));
    let run = env.login(&[], &[]);
    snapshot!("error_publish_failed_me_500", env.redact(&run));
    assert_eq!(run.exit_code, 1);
    let placeholders = env.placeholders();
    assert_eq!(placeholders.len(), 1, "placeholder kept");
    assert_eq!(mode(&placeholders[0]), 0o700);
    assert_eq!(mode(&placeholders[0].join("tokens.json")), 0o600);
    assert_eq!(mode(&placeholders[0].join("meta.json")), 0o600);
    assert!(
        !env.inflight_path().exists(),
        "the code is spent: inflight removed"
    );
    let details = &run.stdout["error"]["details"];
    assert_eq!(
        details["placeholder_dir"].as_str().unwrap(),
        placeholders[0].to_str().unwrap()
    );
    assert_eq!(details["original_code"], "SERVER_ERROR");
    let resume = format!("mp-login-resume {}", placeholders[0].display());
    assert_eq!(run.stdout["resume_hint"]["command"], resume.as_str());
    assert_eq!(run.stdout["next"][0]["command"], resume.as_str());
    assert_eq!(run.stdout["error"]["actionable"], true);
}

#[test]
fn me_fetch_errors_carry_the_seeds_original_code_and_exit_1() {
    for (status, code) in [
        (429, "RATE_LIMITED"),
        (401, "AUTH_FAILED"),
        (404, "QUERY_FAILED"),
    ] {
        let env = Env::new();
        env.idp
            .fault(Endpoint::Me, Fault::status(status).retry_after(0));
        let run = env.login(&[], &[]);
        common::assert_publish_failed(&run, code);
        assert_eq!(env.placeholders().len(), 1);
        if status == 429 {
            snapshot!("error_publish_failed_me_429", env.redact(&run));
        }
    }
}

#[test]
fn project_not_found_keeps_the_placeholder() {
    let env = Env::new();
    let run = env.login(&["--project", "999"], &[]);
    snapshot!("error_project_not_found", env.redact(&run));
    common::assert_publish_failed(&run, "PROJECT_NOT_FOUND");
    assert_eq!(env.placeholders().len(), 1);
    let env = Env::new();
    env.set_env("MP_PROJECT_ID", "998");
    let run = env.login(&[], &[]);
    common::assert_publish_failed(&run, "CONFIG_ERROR");
}

#[test]
fn needs_region_switch_removes_the_placeholder() {
    let env = Env::new();
    env.idp.set_scenario(Scenario::CrossRegion);
    let run = env.login(&[], &[]);
    snapshot!("error_needs_region_switch", env.redact(&run));
    assert_eq!(run.exit_code, 6);
    let details = &run.stdout["error"]["details"];
    assert_eq!(details["auth_region"], "us");
    assert_eq!(
        details["cross_region_projects"].as_array().unwrap().len(),
        3
    );
    assert!(run.stdout.get("resume_hint").is_none());
    assert!(
        env.placeholders().is_empty(),
        "removed: it can never be resumed"
    );
    assert!(!env.inflight_path().exists());
    assert!(!env.config.exists());
}

#[test]
fn invalid_account_name_at_start_and_at_finish() {
    let env = Env::new();
    let run = env.run("mp-login-start", &["--name", "no spaces"], None);
    snapshot!("error_invalid_account_name_start", env.redact(&run));
    assert_eq!(run.exit_code, 3);
    assert!(!env.inflight_path().exists());
    // At finish too it is refused before the code is spent (`docs/seed.md#where-the-kit-differs`).
    let redirect = env.start_and_approve(&[]);
    let run = env.run("mp-login-finish", &[&redirect, "--name", "../escape"], None);
    snapshot!("error_invalid_account_name_finish", env.redact(&run));
    assert_eq!(run.exit_code, 3);
    assert!(env.placeholders().is_empty(), "nothing was exchanged");
    assert!(env.inflight_path().exists(), "inflight kept");
    let run = env.finish(&redirect, &[]);
    assert_eq!(run.exit_code, 0, "the same redirect still works: {run:?}");
}

#[test]
fn account_exists_keeps_the_placeholder() {
    let env = Env::new();
    assert_eq!(env.login(&["--name", "work"], &[]).exit_code, 0);
    let run = env.login(&["--name", "work"], &[]);
    snapshot!("error_account_exists", env.redact(&run));
    assert_eq!(run.exit_code, 1);
    assert_eq!(env.placeholders().len(), 1);
}

#[test]
fn corrupt_config_is_kept_and_the_placeholder_too() {
    let env = Env::new();
    fs::create_dir_all(&env.storage).unwrap();
    fs::write(&env.config, "[accounts\nbroken").unwrap();
    let run = env.login(&[], &[]);
    snapshot!("error_config_corrupt", env.redact(&run));
    common::assert_publish_failed(&run, "CONFIG_ERROR");
    assert_eq!(
        fs::read_to_string(&env.config).unwrap(),
        "[accounts\nbroken"
    );
    assert_eq!(env.placeholders().len(), 1);
    assert!(!env.accounts().join("acme-analytics").exists());
}

#[test]
fn registration_network_error_on_a_closed_port() {
    let env = Env::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let run = env.run("mp-login-start", &["--base-url", &base], None);
    assert_eq!(run.exit_code, 2);
    assert_eq!(run.stdout["error"]["code"], "OAUTH_REGISTRATION_ERROR");
    env.filter(&format!(":{port}/"), ":[PORT]/");
    snapshot!("error_network", env.redact(&run));
}

#[test]
fn read_timeout_is_a_registration_error() {
    let env = Env::new();
    env.idp
        .fault(Endpoint::Register, Fault::delay(Duration::from_secs(3)));
    let run = env.run("mp-login-start", &["--read-timeout", "0.5"], None);
    assert_eq!(
        run.stdout["error"]["code"], "OAUTH_REGISTRATION_ERROR",
        "{run:?}"
    );
    assert!(run.stdout["error"]["message"]
        .as_str()
        .unwrap()
        .contains("timed out"));
}

#[test]
fn sigint_ends_in_an_interrupted_envelope() {
    let env = Env::new();
    let redirect = env.start_and_approve(&[]);
    env.idp
        .fault(Endpoint::Me, Fault::delay(Duration::from_secs(20)));
    let child = env.spawn("mp-login-finish", &[&redirect]);
    // Wait until finish is waiting on /me (the tokens are saved by then).
    env.wait_for_call("/api/app/me");
    common::interrupt(&child);
    let run = env.finish_run(child.wait_with_output().unwrap());
    snapshot!("error_interrupted", env.redact(&run));
    assert_eq!(run.exit_code, 130);
    let placeholders = env.placeholders();
    assert_eq!(placeholders.len(), 1, "the saved tokens stay resumable");
    let leftovers: Vec<_> = fs::read_dir(&placeholders[0])
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "no half-written file: {leftovers:?}");
}

/// RFC 9207: the mock advertises `iss` in its metadata, so start records the issuer
/// and finish refuses a redirect whose `iss` is missing or another server's; without the
/// metadata nothing changes (the seed's behaviour).
#[test]
fn issuer_mismatch_is_refused_when_the_server_advertises_iss() {
    let env = Env::new();
    let redirect = env.start_and_approve(&[]);
    let inflight = read_json(&env.inflight_path());
    assert_eq!(
        inflight["issuer"],
        format!("{}/oauth", env.idp.base_url()).as_str()
    );
    let without = regex::Regex::new("&iss=[^&]+")
        .unwrap()
        .replace(&redirect, "")
        .into_owned();
    let run = env.run("mp-login-finish", &[&without], None);
    snapshot!("error_issuer_missing", env.redact(&run));
    assert_eq!(run.exit_code, 2);
    assert!(env.inflight_path().exists(), "kept");
    let wrong = redirect.replace("&iss=http", "&iss=https%3A%2F%2Fattacker.example%2Fx");
    let run = env.run("mp-login-finish", &[&wrong], None);
    assert_eq!(run.stdout["error"]["code"], "OAUTH_ISSUER_MISMATCH");
    assert!(env.calls("/oauth/token/").is_empty(), "no code was sent");
    // The real redirect still logs in.
    assert_eq!(env.finish(&redirect, &[]).exit_code, 0);

    // A server without the metadata: no issuer is recorded and a missing `iss` is fine.
    env.idp.update_settings(|s| {
        s.metadata = false;
        s.iss = mock_idp::IssMode::Omit;
    });
    let redirect = env.start_and_approve(&[]);
    assert!(read_json(&env.inflight_path()).get("issuer").is_none());
    assert_eq!(env.finish(&redirect, &[]).exit_code, 0);
}

/// Regression: a storage path that is not UTF-8 made `mp-login-start` panic (exit 101, no
/// envelope) after it wrote the inflight file. Such a path is refused before anything is
/// written, whether it comes from a flag or the environment.
#[test]
fn a_path_that_is_not_utf8_is_refused_before_anything_is_written() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let env = Env::new();
    let bad = env.tmp.path().join(OsStr::from_bytes(b"st\xff"));
    let runs = [
        env.command("mp-login-start")
            .arg("--storage-dir")
            .arg(&bad)
            .output()
            .unwrap(),
        env.command("mp-login-start")
            .arg("--inflight")
            .arg(bad.join("inflight.json"))
            .output()
            .unwrap(),
        env.command("mp-login-start")
            .env("MP_STORAGE_DIR", &bad)
            .output()
            .unwrap(),
    ];
    for out in runs {
        let run = env.finish_run(out);
        assert_eq!(run.failure(), (3, "INVALID_ARGUMENT"), "{run:?}");
        assert!(run.stderr.contains("UTF-8"), "{}", run.stderr);
    }
    assert!(!bad.exists(), "nothing is written");
    assert!(env.idp.journal().is_empty(), "nothing is registered");
}

/// Regression: `mp-login-tasks DIR` printed `extend = "DIR/login.toml"` unescaped, not TOML
/// when DIR holds a quote or a backslash.
#[test]
fn the_tasks_extend_line_is_toml_for_any_directory() {
    let env = Env::new();
    let dir = env.tmp.path().join(r#"tasks "quoted" \ back"#);
    let run = env.run("mp-login-tasks", &[dir.to_str().unwrap()], None);
    assert_eq!(run.exit_code, 0, "{run:?}");
    let line = run.stdout["extend"].as_str().unwrap();
    let doc: toml_edit::DocumentMut = line.parse().expect("the extend line is TOML");
    assert_eq!(
        doc["extend"].as_str(),
        Some(dir.join("login.toml").to_str().unwrap())
    );
    assert!(dir.join("login.toml").is_file());
}

/// Regression: a metadata document naming another issuer (`http://evil.example/oauth`) was
/// believed: start exited 0 and recorded it, and only after the person approved did finish
/// refuse, blaming the paste. RFC 8414 §3.3: start refuses the document itself, naming both
/// issuers, before anything is saved or shown to the person.
#[test]
fn metadata_naming_another_issuer_fails_the_start() {
    let env = Env::new();
    env.idp.update_settings(|s| {
        s.metadata_overrides
            .insert("issuer".into(), "http://evil.example/oauth".into());
    });
    let run = env.run("mp-login-start", &[], None);
    snapshot!("error_metadata_issuer_mismatch", env.redact(&run));
    assert_eq!(run.failure(), (2, "OAUTH_ISSUER_MISMATCH"));
    let details = &run.stdout["error"]["details"];
    assert_eq!(details["issuer"], "http://evil.example/oauth");
    assert_eq!(
        details["expected_issuer"],
        format!("{}/oauth", env.idp.base_url()).as_str()
    );
    assert!(!env.inflight_path().exists(), "nothing to approve");
    assert!(!run.stderr.contains("paste"), "{}", run.stderr);
}

/// Regression: a registration the server refused with 400 `invalid_client_metadata` got the
/// network hint ("check the network, the region and `--base-url`") and no `error` in its
/// details. A refusal the server will repeat has its own hint, and the server's `error` and
/// `error_description` (escaped) in `details`.
#[test]
fn registration_refused_says_the_servers_reason() {
    let env = Env::new();
    let body =
        r#"{"error":"invalid_client_metadata","error_description":"scope \u001b[31mnot allowed"}"#;
    env.idp.fault(
        Endpoint::Register,
        Fault::body(400, body, "application/json").times(1),
    );
    let run = env.run("mp-login-start", &[], None);
    snapshot!("error_registration_refused", env.redact(&run));
    assert_eq!(run.failure(), (2, "OAUTH_REGISTRATION_ERROR"));
    let details = &run.stdout["error"]["details"];
    assert_eq!(details["error"], "invalid_client_metadata");
    assert_eq!(details["error_description"], r"scope \u{1b}[31mnot allowed");
    let hint = run.stdout["error"]["hint"].as_str().unwrap();
    assert!(hint.contains("refuse the same request again"), "{hint}");
    assert!(!run.stderr.contains('\u{1b}'), "escaped on stderr too");
    assert_eq!(env.calls("/oauth/mcp/register/"), vec![400], "not retried");
}

/// Regression: a variable or flag value that is not UTF-8 said only "an argument is not valid
/// UTF-8"; the message names the variable, or the flag.
#[test]
fn an_input_that_is_not_utf8_is_named() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let env = Env::new();
    let bad = OsStr::from_bytes(b"/tmp/c\xfffg.toml");
    let by_env = env
        .command("mp-login-status")
        .env("MP_CONFIG_PATH", bad)
        .output()
        .unwrap();
    let by_flag = env
        .command("mp-login-status")
        .arg("--config")
        .arg(bad)
        .output()
        .unwrap();
    for (out, named) in [(by_env, "`MP_CONFIG_PATH`"), (by_flag, "`--config`")] {
        let run = env.finish_run(out);
        assert_eq!(run.failure(), (3, "INVALID_ARGUMENT"), "{run:?}");
        let message = run.stdout["error"]["message"].as_str().unwrap();
        assert!(message.contains(named), "{message}");
    }
}

/// Regression: an empty `TMPDIR` put the login's claim (`mp-login-<uid>/`) in the working
/// directory, so two finishes in two directories did not see each other and the code was sent
/// twice. An empty or relative `TMPDIR` counts as unset.
#[test]
fn an_empty_tmpdir_keeps_the_claim_out_of_the_working_directory() {
    let env = Env::new();
    env.set_env("TMPDIR", "");
    let run = env.login(&[], &[]);
    assert_eq!(run.exit_code, 0, "{run:?}");
    let strays: Vec<_> = fs::read_dir(env.tmp.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("mp-login-"))
        .collect();
    assert!(strays.is_empty(), "{strays:?}");
}
