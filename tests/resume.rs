//! `mp-login-resume`: the publish tail again, on tokens finish saved before its publish failed.

mod common;

use std::fs;
use std::os::unix::fs::symlink;

use common::{read_json, tree, Env};
use mock_idp::{Endpoint, Fault};

/// Runs the exact command of a `resume_hint`.
fn run_hint(env: &Env, hint: &str) -> common::Run {
    let words: Vec<&str> = hint.split_whitespace().collect();
    assert_eq!(words[0], "mp-login-resume", "{hint}");
    env.run(words[0], &words[1..], None)
}

#[test]
fn the_resume_hint_publishes_once_me_answers_again() {
    let env = Env::new();
    // /me fails until the fault is cleared.
    env.idp
        .fault(Endpoint::Me, Fault::status(500).retry_after(0));
    let failed = env.login(&[], &[]);
    assert_eq!(
        failed.stdout["error"]["code"],
        "LOGIN_FINISH_PUBLISH_FAILED"
    );
    let placeholder = env.placeholders().pop().unwrap();
    let saved_tokens = fs::read(placeholder.join("tokens.json")).unwrap();
    // While /me still fails, resume reports the plain cause and keeps the placeholder.
    let hint = failed.stdout["error"]["details"]["resume_hint"]
        .as_str()
        .unwrap()
        .to_string();
    let still = run_hint(&env, &hint);
    snapshot!("resume_me_still_failing", env.redact(&still));
    assert_eq!(still.stdout["error"]["code"], "ME_FETCH_ERROR");
    assert!(placeholder.exists());
    // The server recovers; the user runs the hint's exact command.
    env.idp.clear_faults();
    let run = run_hint(&env, &hint);
    snapshot!("resume_ok", env.redact(&run));
    assert_eq!(run.exit_code, 0);
    let account = env.accounts().join("acme-analytics");
    assert_eq!(
        fs::read(account.join("tokens.json")).unwrap(),
        saved_tokens,
        "the tokens finish saved"
    );
    assert!(account.join("me.json").exists());
    assert!(!placeholder.exists());
    assert!(fs::read_to_string(&env.config)
        .unwrap()
        .contains("[accounts.acme-analytics]"));
}

#[test]
fn an_invalid_name_is_fixed_on_resume() {
    let env = Env::new();
    let failed = env.login(&[], &["--name", "bad name"]);
    assert_eq!(failed.exit_code, 3);
    let hint = failed.stdout["error"]["details"]["resume_hint"]
        .as_str()
        .unwrap();
    let hint = hint.replace("<new-name>", "good-name");
    let run = run_hint(&env, &hint);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_eq!(run.stdout["account"]["name"], "good-name");
    assert!(env.placeholders().is_empty());
}

#[test]
fn the_project_given_to_finish_survives_into_resume() {
    let env = Env::new();
    env.idp.set_scenario("multi-org", 0);
    let (failed, _) = env.failed_publish(&[], &["--project", "3103"]);
    let hint = failed.stdout["error"]["details"]["resume_hint"]
        .as_str()
        .unwrap()
        .to_string();
    let run = run_hint(&env, &hint);
    assert_eq!(run.stdout["project_pick"]["method"], "explicit");
    assert_eq!(run.stdout["account"]["project_id"], "3103");
}

#[test]
fn a_path_outside_the_accounts_root_is_refused() {
    let env = Env::new();
    env.failed_publish(&[], &[]);
    let outside = env.tmp.path().join("elsewhere/.tmp-00000000");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("tokens.json"), "{}").unwrap();
    let before = tree(env.tmp.path());
    let run = env.run("mp-login-resume", &[outside.to_str().unwrap()], None);
    snapshot!("error_resume_outside_root", env.redact(&run));
    assert_eq!(run.exit_code, 3);
    // `..` and symlinks are resolved before the check.
    let dotdot = env.accounts().join("../../elsewhere/.tmp-00000000");
    let run = env.run("mp-login-resume", &[dotdot.to_str().unwrap()], None);
    assert_eq!(
        run.stdout["error"]["code"],
        "OAUTH_PLACEHOLDER_OUTSIDE_ROOT"
    );
    let link = env.accounts().join(".tmp-11111111");
    symlink(&outside, &link).unwrap();
    let run = env.run("mp-login-resume", &[link.to_str().unwrap()], None);
    assert_eq!(
        run.stdout["error"]["code"],
        "OAUTH_PLACEHOLDER_OUTSIDE_ROOT"
    );
    fs::remove_file(&link).unwrap();
    assert_eq!(tree(env.tmp.path()), before, "nothing deleted or changed");
}

#[test]
fn a_missing_placeholder_is_not_found() {
    let env = Env::new();
    fs::create_dir_all(env.accounts()).unwrap();
    let run = env.run(
        "mp-login-resume",
        &[env.accounts().join(".tmp-deadbeef").to_str().unwrap()],
        None,
    );
    snapshot!("error_resume_placeholder_missing", env.redact(&run));
    assert_eq!(run.exit_code, 4);
    // A published account is not a placeholder either.
    env.login(&[], &[]);
    let run = env.run(
        "mp-login-resume",
        &[env.accounts().join("acme-analytics").to_str().unwrap()],
        None,
    );
    assert_eq!(run.stdout["error"]["code"], "OAUTH_PLACEHOLDER_MISSING");
}

#[test]
fn a_corrupt_meta_is_refused_and_kept() {
    let env = Env::new();
    let (_, placeholder) = env.failed_publish(&[], &[]);
    fs::write(placeholder.join("meta.json"), "{\"region\": 7").unwrap();
    let before = tree(&env.storage);
    let run = env.run("mp-login-resume", &[placeholder.to_str().unwrap()], None);
    snapshot!("error_resume_meta_corrupt", env.redact(&run));
    assert_eq!(run.exit_code, 1);
    assert_eq!(tree(&env.storage), before, "kept as it was");
}

#[test]
fn an_absent_meta_means_region_us() {
    let env = Env::new();
    let (_, placeholder) = env.failed_publish(&[], &[]);
    fs::remove_file(placeholder.join("meta.json")).unwrap();
    // Without meta.json the base URL comes from MP_BASE_URL (set by the harness).
    let run = env.run("mp-login-resume", &[placeholder.to_str().unwrap()], None);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_eq!(run.stdout["account"]["region"], "us");
    let meta = read_json(&env.accounts().join("acme-analytics/tokens.json"));
    assert!(meta["access_token"].is_string());
}

#[test]
fn a_failure_after_the_rename_rolls_it_back() {
    let env = Env::new();
    let (_, placeholder) = env.failed_publish(&[], &[]);
    // The config path is a directory: writing it fails after the rename.
    fs::create_dir_all(&env.config).unwrap();
    let run = env.run("mp-login-resume", &[placeholder.to_str().unwrap()], None);
    assert_eq!(run.exit_code, 1, "{run:?}");
    assert!(
        placeholder.join("tokens.json").exists(),
        "renamed back: resumable again"
    );
    assert!(!placeholder.join("me.json").exists());
    assert!(!env.accounts().join("acme-analytics").exists());
    fs::remove_dir(&env.config).unwrap();
    let run = env.run("mp-login-resume", &[placeholder.to_str().unwrap()], None);
    assert_eq!(run.exit_code, 0, "{run:?}");
}

#[test]
fn resume_takes_the_placeholder_from_finishs_envelope_file() {
    let env = Env::new();
    let (failed, placeholder) = env.failed_publish(&[], &[]);
    let envelope = env.tmp.path().join("finish.json");
    fs::write(&envelope, failed.stdout.to_string()).unwrap();
    let run = env.run(
        "mp-login-resume",
        &["--from-envelope", envelope.to_str().unwrap()],
        None,
    );
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(!placeholder.exists());
    // An envelope that names no placeholder, and no input at all, are usage errors.
    fs::write(&envelope, run.stdout.to_string()).unwrap();
    let run = env.run(
        "mp-login-resume",
        &["--from-envelope", envelope.to_str().unwrap()],
        None,
    );
    snapshot!(
        "error_resume_envelope_without_placeholder",
        env.redact(&run)
    );
    assert_eq!(run.exit_code, 3);
    let run = env.run("mp-login-resume", &[], None);
    assert_eq!(
        (run.exit_code, run.stdout["error"]["code"].as_str()),
        (3, Some("INVALID_ARGS"))
    );
}
