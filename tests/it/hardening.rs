//! Hostile surroundings: a storage that cannot hold the tokens, FIFOs in place of
//! files, endless and trickling servers, symlinked roots, shared directories. Each test runs the
//! real binaries and ends in an envelope, never a hang or a lost token.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::common::{self, Env};
use mock_idp::{Endpoint, Fault};
use serde_json::Value;

/// Regression: the code used to be exchanged before the kit knew it could keep
/// the tokens, which were then thrown away. The placeholder now exists before the exchange.
#[test]
fn a_storage_that_cannot_hold_the_tokens_fails_before_the_code_is_spent() {
    let env = Env::new();
    let redirect = env.start_and_approve(&[]);
    // `S/accounts` is a symlink, then a plain file.
    let elsewhere = env.tmp.path().join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, env.accounts()).unwrap();
    let run = env.finish(&redirect, &[]);
    assert_eq!(run.stdout["error"]["code"], "SYMLINK_REFUSED", "{run:?}");
    fs::remove_file(env.accounts()).unwrap();
    fs::write(env.accounts(), "not a directory").unwrap();
    let run = env.finish(&redirect, &[]);
    assert_eq!(run.exit_code, 1, "{run:?}");
    assert!(
        env.calls("/oauth/token/").is_empty(),
        "the code was never sent"
    );
    assert!(
        env.inflight_path().exists(),
        "the login is still in progress"
    );
    assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
    // Fixed, the same redirect still logs in.
    fs::remove_file(env.accounts()).unwrap();
    let run = env.finish(&redirect, &[]);
    assert_eq!(run.exit_code, 0, "{run:?}");
}

/// A failed exchange leaves no placeholder behind (it never got tokens).
#[test]
fn a_failed_exchange_leaves_no_placeholder() {
    let env = Env::new();
    let redirect = env.start_and_approve(&[]);
    env.idp.fault(Endpoint::Token, Fault::status(503).times(1));
    let run = env.finish(&redirect, &[]);
    assert_eq!(run.stdout["error"]["code"], "OAUTH_TOKEN_ERROR");
    assert!(env.placeholders().is_empty());
}

/// Regression: a FIFO put where the kit reads a file blocked it forever.
#[test]
fn fifos_are_refused_without_blocking() {
    let env = Env::new();
    let fifo = env.tmp.path().join("fifo");
    common::mkfifo(&fifo);
    let fifo = fifo.to_str().unwrap();
    let redirect = env.start_and_approve(&[]);
    let run = env.run("mp-login-finish", &["--redirect-file", fifo], None);
    assert_eq!(run.stdout["error"]["code"], "INVALID_ARGUMENT", "{run:?}");
    assert!(run.stdout["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not a regular file"));
    let run = env.run("mp-autopick", &["--me", fifo], None);
    assert_eq!(run.stdout["error"]["code"], "INVALID_ARGUMENT", "{run:?}");
    // The inflight file itself.
    let saved = fs::read(env.inflight_path()).unwrap();
    common::mkfifo(&env.inflight_path());
    let run = env.finish(&redirect, &[]);
    assert_eq!(
        run.stdout["error"]["code"], "OAUTH_INFLIGHT_CORRUPT",
        "{run:?}"
    );
    fs::remove_file(env.inflight_path()).unwrap();
    fs::write(env.inflight_path(), saved).unwrap();
    fs::set_permissions(env.inflight_path(), fs::Permissions::from_mode(0o600)).unwrap();
    // config.toml at publish: the tokens stay resumable.
    common::mkfifo(&env.config);
    let run = env.finish(&redirect, &[]);
    assert_eq!(
        run.stdout["error"]["code"], "LOGIN_FINISH_PUBLISH_FAILED",
        "{run:?}"
    );
    assert_eq!(env.placeholders().len(), 1);
    // meta.json at resume.
    let placeholder = env.placeholders().pop().unwrap();
    fs::remove_file(&env.config).unwrap();
    common::mkfifo(&placeholder.join("meta.json"));
    let run = env.resume(&placeholder, &[]);
    assert_eq!(run.exit_code, 1, "{run:?}");
    // The client cache at start.
    let oauth = env.storage.join("oauth");
    for e in fs::read_dir(&oauth).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("client_") {
            common::mkfifo(&e.path());
        }
    }
    let run = env.run("mp-login-start", &[], None);
    assert_eq!(run.exit_code, 1, "{run:?}");
}

/// Resume of a fresh failed publish with `/me` at a raw server answering `body`, with `env`
/// extra variables: the failure envelope's `details`, after checking the tokens stayed.
fn resume_against_raw(body: common::RawBody, vars: &[(&str, &str)]) -> Value {
    let env = Env::new();
    let (_, placeholder) = env.failed_publish(&[], &[]);
    let raw = common::RawHttp::start(body);
    for (k, v) in vars {
        env.set_env(k, v);
    }
    let run = env.resume(&placeholder, &["--base-url", &raw.base_url]);
    assert_eq!(run.exit_code, 1, "{run:?}");
    assert!(placeholder.join("tokens.json").exists());
    run.stdout["error"]["details"].clone()
}

/// Regression: an endless /me grew the process without bound.
#[test]
fn an_endless_me_is_response_too_large_and_resumable() {
    let details = resume_against_raw(
        common::RawBody::Endless,
        &[("MP_MAX_RESPONSE_BYTES", "1000000")],
    );
    assert_eq!(details["original_code"], "RESPONSE_TOO_LARGE", "{details}");
    assert_eq!(details["original_details"]["limit"], 1_000_000);
}

/// Regression: a server trickling a byte at a time kept resume alive forever.
#[test]
fn a_trickling_me_meets_the_deadline() {
    let details = resume_against_raw(
        common::RawBody::Trickle {
            every: Duration::from_millis(200),
        },
        &[("MP_HTTP_DEADLINE", "1.5"), ("MP_READ_TIMEOUT", "5")],
    );
    assert_eq!(details["original_code"], "HTTP_ERROR", "{details}");
    assert!(details["original_message"]
        .as_str()
        .unwrap()
        .contains("deadline"));
}

/// `/me` is read as it arrives and `me.json` written as it goes; a connection cut in
/// the middle of the body is asked again, and the account's `me.json` is the whole second
/// answer (without member lists), with no temporary file left beside it.
#[test]
fn a_me_cut_mid_body_is_read_again_from_its_start() {
    let env = Env::new();
    let (_, placeholder) = env.failed_publish(&[], &[]);
    // Bare (not wrapped in `results`): what was written of the first answer must go.
    let mut want = mock_idp::Scenario::Large { projects: 300 }.me_body();
    let bytes = serde_json::to_vec(&want).unwrap();
    assert!(
        bytes.len() > 256 * 1024,
        "the cut falls past the first windows"
    );
    let raw = common::RawHttp::start(common::RawBody::cut_once(bytes));
    let run = env.resume(&placeholder, &["--base-url", &raw.base_url]);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(run.stderr.contains("retrying"), "{}", run.stderr);
    let account = std::path::PathBuf::from(run.stdout["account"]["path"].as_str().unwrap());
    let mut me: Value =
        serde_json::from_slice(&fs::read(account.join("me.json")).unwrap()).unwrap();
    assert!(me["cached_at"].as_f64().is_some());
    me.as_object_mut().unwrap().remove("cached_at");
    for w in want["workspaces"].as_object_mut().unwrap().values_mut() {
        let w = w.as_object_mut().unwrap();
        w.remove("member_list");
        w.remove("unified_member_list");
    }
    assert_eq!(me, want);
    let names: Vec<String> = fs::read_dir(&account)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
}

/// One rule for symlinks (the storage root and the config's directory may be
/// links; the kit's own subdirectories and files may not), an oversized config is a config
/// error, shared directories and a redirect for another host get a warning.
#[test]
fn the_smaller_hardening_rules() {
    let env = Env::new();
    // ~/.mp a symlink to a dotfiles directory: start, finish and the config write all accept it.
    let real = env.tmp.path().join("dotfiles-mp");
    fs::create_dir_all(&real).unwrap();
    std::os::unix::fs::symlink(&real, &env.storage).unwrap();
    let run = env.login(&[], &[]);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(real.join("config.toml").is_file());

    // A config.toml over 16 MiB is the seed's CONFIG_ERROR, not a general error.
    let big = format!("# {}\n", "x".repeat(16 * 1024 * 1024));
    let saved = fs::read_to_string(&env.config).unwrap();
    fs::write(&env.config, big).unwrap();
    let run = env.login(&[], &[]);
    common::assert_publish_failed(&run, "CONFIG_ERROR");
    fs::write(&env.config, saved).unwrap();

    // A storage others can write to is named on stderr.
    fs::set_permissions(env.accounts(), fs::Permissions::from_mode(0o777)).unwrap();
    let started = env.start(&[]);
    assert!(
        started.stderr.contains("writable by others (mode 0777)"),
        "{}",
        started.stderr
    );
    fs::set_permissions(env.accounts(), fs::Permissions::from_mode(0o700)).unwrap();

    // A redirect whose host is not the login's redirect host: accepted (the state matches),
    // with a warning.
    let redirect = env.start_and_approve(&[]).replace("localhost", "127.0.0.1");
    let run = env.finish(&redirect, &[]);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains("warning: the pasted URL is for `127.0.0.1:"),
        "{}",
        run.stderr
    );
}
