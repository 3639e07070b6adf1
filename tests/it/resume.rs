//! `mp-login-resume`: the publish tail again, on tokens finish saved before its publish failed.

use std::fs;
use std::os::unix::fs::symlink;

use crate::common::{self, read_json, tree, Env};
use mock_idp::{Endpoint, Fault, Scenario};

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
    // While /me still fails, resume fails the same way and keeps the placeholder.
    let hint = failed.stdout["resume_hint"]["command"]
        .as_str()
        .unwrap()
        .to_string();
    let still = run_hint(&env, &hint);
    snapshot!("resume_me_still_failing", env.redact(&still));
    common::assert_publish_failed(&still, "SERVER_ERROR");
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
fn a_taken_name_is_fixed_on_resume() {
    let env = Env::new();
    assert_eq!(env.login(&[], &["--name", "work"]).exit_code, 0);
    let failed = env.login(&[], &["--name", "work"]);
    common::assert_publish_failed(&failed, "ACCOUNT_EXISTS");
    let hint = failed.stdout["resume_hint"]["command"].as_str().unwrap();
    // A bad name on resume is the seed's CONFIG_ERROR, and the tokens stay.
    let run = run_hint(&env, &format!("{hint} --name ../x"));
    common::assert_publish_failed(&run, "CONFIG_ERROR");
    assert_eq!(env.placeholders().len(), 1);
    let run = run_hint(&env, &format!("{hint} --name good-name"));
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_eq!(run.stdout["account"]["name"], "good-name");
    assert!(env.placeholders().is_empty());
}

#[test]
fn the_project_given_to_finish_survives_into_resume() {
    let env = Env::new();
    env.idp.set_scenario(Scenario::MultiOrg);
    let (failed, _) = env.failed_publish(&[], &["--project", "3103"]);
    let hint = failed.stdout["resume_hint"]["command"]
        .as_str()
        .unwrap()
        .to_string();
    let run = run_hint(&env, &hint);
    assert_eq!(run.stdout["project_pick"]["method"], "explicit");
    assert_eq!(run.stdout["project"]["id"], "3103");
}

#[test]
fn a_path_outside_the_accounts_root_is_refused() {
    let env = Env::new();
    env.failed_publish(&[], &[]);
    let outside = env.tmp.path().join("elsewhere/.tmp-00000000");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("tokens.json"), "{}").unwrap();
    let before = tree(env.tmp.path());
    let run = env.resume(&outside, &[]);
    snapshot!("error_resume_outside_root", env.redact(&run));
    assert_eq!(run.exit_code, 1);
    // `..` and symlinks are resolved before the check.
    let dotdot = env.accounts().join("../../elsewhere/.tmp-00000000");
    let run = env.resume(&dotdot, &[]);
    assert_eq!(
        run.stdout["error"]["code"],
        "OAUTH_PLACEHOLDER_OUTSIDE_ROOT"
    );
    let link = env.accounts().join(".tmp-11111111");
    symlink(&outside, &link).unwrap();
    let run = env.resume(&link, &[]);
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
    let run = env.resume(&env.accounts().join(".tmp-deadbeef"), &[]);
    snapshot!("error_resume_placeholder_missing", env.redact(&run));
    assert_eq!(run.exit_code, 1);
    // A published account is not a placeholder either.
    env.login(&[], &[]);
    let run = env.resume(&env.accounts().join("acme-analytics"), &[]);
    assert_eq!(run.stdout["error"]["code"], "OAUTH_PLACEHOLDER_MISSING");
}

#[test]
fn a_corrupt_meta_is_refused_and_kept() {
    let env = Env::new();
    let (_, placeholder) = env.failed_publish(&[], &[]);
    fs::write(placeholder.join("meta.json"), "{\"region\": 7").unwrap();
    let before = tree(&env.storage);
    let run = env.resume(&placeholder, &[]);
    snapshot!("error_resume_meta_corrupt", env.redact(&run));
    assert_eq!(run.exit_code, 2);
    assert_eq!(tree(&env.storage), before, "kept as it was");
    // A region the seed does not know is its CONFIG_ERROR; kept too.
    fs::write(placeholder.join("meta.json"), r#"{"region": "mars"}"#).unwrap();
    let before = tree(&env.storage);
    let run = env.resume(&placeholder, &[]);
    assert_eq!(run.failure(), (1, "CONFIG_ERROR"));
    assert_eq!(tree(&env.storage), before, "kept as it was");
}

#[test]
fn a_placeholder_the_seed_wrote_is_resumed() {
    let env = Env::new();
    env.idp.set_scenario(Scenario::CrossRegion);
    let (_, placeholder) = env.failed_publish(&["--region", "eu"], &[]);
    // The seed's meta.json: integer created_at, no base_url (MP_BASE_URL stands in).
    fs::write(
        placeholder.join("meta.json"),
        "{\n  \"schema_version\": 1,\n  \"region\": \"eu\",\n  \"created_at\": 1795886213\n}",
    )
    .unwrap();
    // The seed's tokens.json: +00:00 with microseconds.
    let tokens = read_json(&placeholder.join("tokens.json"));
    let seed_tokens = serde_json::json!({
        "access_token": tokens["access_token"],
        "expires_at": "2099-01-01T00:00:00.123456+00:00",
        "token_type": "Bearer",
        "scope": "",
        "refresh_token": tokens["refresh_token"],
    });
    fs::write(placeholder.join("tokens.json"), seed_tokens.to_string()).unwrap();
    let run = env.resume(&placeholder, &[]);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_eq!(run.stdout["account"]["region"], "eu");
}

/// A finish whose `--project` is not visible: it fails after /me answered.
fn project_not_found(env: &Env) -> std::path::PathBuf {
    let failed = env.login(&[], &["--project", "404"]);
    common::assert_publish_failed(&failed, "PROJECT_NOT_FOUND");
    std::path::PathBuf::from(
        failed.stdout["error"]["details"]["placeholder_dir"]
            .as_str()
            .unwrap(),
    )
}

#[test]
fn resume_reuses_a_fresh_me_json_and_refetches_a_stale_one() {
    let env = Env::new();
    let placeholder = project_not_found(&env);
    // /me answered before the pick failed: the placeholder keeps it.
    let cached = read_json(&placeholder.join("me.json"));
    assert!(cached["cached_at"].as_f64().is_some());
    assert!(cached["workspaces"].is_object());
    // Resumes with a visible project; returns how many /me calls that made.
    let resume = |placeholder: &std::path::Path| {
        let calls = env.calls("/api/app/me").len();
        let run = env.resume(placeholder, &["--project", "3001"]);
        assert_eq!(run.exit_code, 0, "{run:?}");
        env.calls("/api/app/me").len() - calls
    };
    assert_eq!(resume(&placeholder), 0, "no /me call: the copy is fresh");

    let placeholder = project_not_found(&env);
    let mut stale = read_json(&placeholder.join("me.json"));
    stale["cached_at"] = (stale["cached_at"].as_f64().unwrap() - 601.0).into();
    fs::write(placeholder.join("me.json"), stale.to_string()).unwrap();
    assert_eq!(resume(&placeholder), 1, "a stale copy is fetched again");
}

#[test]
fn a_placeholder_of_unknown_region_is_never_deleted() {
    let env = Env::new();
    env.idp.set_scenario(Scenario::CrossRegion);
    let (_, placeholder) = env.failed_publish(&["--region", "eu"], &[]);
    fs::remove_file(placeholder.join("meta.json")).unwrap();
    // Without meta.json the region is taken as us, which has no project here.
    let run = env.resume(&placeholder, &[]);
    assert_eq!(run.exit_code, 6);
    assert!(
        placeholder.join("tokens.json").exists(),
        "kept (`docs/seed.md#where-the-kit-differs`)"
    );
    // With a known region the seed's rule applies: it can never be resumed, so it goes.
    fs::write(placeholder.join("meta.json"), r#"{"region": "us"}"#).unwrap();
    let run = env.resume(&placeholder, &[]);
    assert_eq!(run.exit_code, 6);
    assert!(!placeholder.exists());
}

#[test]
fn an_absent_meta_means_region_us() {
    let env = Env::new();
    let (_, placeholder) = env.failed_publish(&[], &[]);
    fs::remove_file(placeholder.join("meta.json")).unwrap();
    // Without meta.json the base URL comes from MP_BASE_URL (set by the harness).
    let run = env.resume(&placeholder, &[]);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_eq!(run.stdout["account"]["region"], "us");
    let meta = read_json(&env.accounts().join("acme-analytics/tokens.json"));
    assert!(meta["access_token"].is_string());
}

/// `me.json` is written as `/me` arrives and the account's copy is made from it; when
/// it cannot be kept (here a directory stands in its place), the step fails naming that file,
/// before any rename, and the placeholder stays resumable.
#[test]
fn a_me_json_that_cannot_be_kept_fails_the_publish_and_keeps_the_placeholder() {
    let env = Env::new();
    let (_, placeholder) = env.failed_publish(&[], &[]);
    fs::create_dir_all(placeholder.join("me.json/in-the-way")).unwrap();
    let run = env.resume(&placeholder, &[]);
    snapshot!("resume_me_json_not_kept", env.redact(&run));
    assert_eq!(run.exit_code, 1, "{run:?}");
    assert_eq!(run.stdout["error"]["code"], "LOGIN_FINISH_PUBLISH_FAILED");
    assert!(run.stderr.contains("cannot replace"), "{}", run.stderr);
    assert!(placeholder.join("tokens.json").exists());
    assert!(!env.accounts().join("acme-analytics").exists());
    let names: Vec<String> = tree(&placeholder).into_iter().map(|(n, _, _)| n).collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
    fs::remove_dir_all(placeholder.join("me.json")).unwrap();
    let run = env.resume(&placeholder, &[]);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(env.accounts().join("acme-analytics/me.json").is_file());
}

#[test]
fn a_failure_after_the_rename_rolls_it_back() {
    let env = Env::new();
    let (_, placeholder) = env.failed_publish(&[], &[]);
    // The config path is a directory: writing it fails after the rename.
    fs::create_dir_all(&env.config).unwrap();
    let run = env.resume(&placeholder, &[]);
    assert_eq!(run.exit_code, 1, "{run:?}");
    assert!(
        placeholder.join("tokens.json").exists(),
        "renamed back: resumable again"
    );
    assert!(!env.accounts().join("acme-analytics").exists());
    fs::remove_dir(&env.config).unwrap();
    let calls = env.calls("/api/app/me").len();
    let run = env.resume(&placeholder, &[]);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_eq!(
        env.calls("/api/app/me").len(),
        calls,
        "the kept /me is reused"
    );
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
    assert_eq!(run.failure(), (3, "INVALID_ARGUMENT"));
}

/// Regression: a publish killed after its rename left `accounts/<name>/` with
/// the tokens, no `config.toml` block and no placeholder; resume refused it. It now completes
/// the publish under the directory's own name, and the next start mentions it.
#[test]
fn a_half_published_account_is_completed_by_resume() {
    let env = Env::new();
    let (_, placeholder) = env.failed_publish(&[], &[]);
    // What a kill between the rename and the config write leaves.
    let half = env.accounts().join("acme-analytics");
    fs::rename(&placeholder, &half).unwrap();
    let started = env.start(&[]);
    assert_eq!(
        started.stdout["recoverable"][0]["resume_command"],
        format!("mp-login-resume {}", half.display())
    );
    assert!(
        started.stderr.contains("publish them with"),
        "{}",
        started.stderr
    );
    let run = env.resume(&half, &[]);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_eq!(run.stdout["account"]["name"], "acme-analytics");
    assert!(fs::read_to_string(&env.config)
        .unwrap()
        .contains("[accounts.acme-analytics]"));
    // Published, it is no longer something to resume.
    let run = env.resume(&half, &[]);
    assert_eq!(run.stdout["error"]["code"], "OAUTH_PLACEHOLDER_MISSING");
    assert!(run.stdout["error"]["message"]
        .as_str()
        .unwrap()
        .contains("config.toml lists it"));
    assert!(env.start(&[]).stdout.get("recoverable").is_none());
}

/// Regression: a kill between the write of `tokens.json`'s temp file and its
/// rename left the tokens only in `.tokens.json.tmp-*`, which resume did not see.
#[test]
fn resume_adopts_a_complete_tokens_temp_file_and_drops_other_temps() {
    let env = Env::new();
    let (_, placeholder) = env.failed_publish(&[], &[]);
    fs::rename(
        placeholder.join("tokens.json"),
        placeholder.join(".tokens.json.tmp-0a1b2c3d"),
    )
    .unwrap();
    fs::write(placeholder.join(".me.json.tmp-99999999"), "{\"half").unwrap();
    let run = env.resume(&placeholder, &[]);
    assert_eq!(run.exit_code, 0, "{run:?}");
    let account = env.accounts().join("acme-analytics");
    assert!(account.join("tokens.json").is_file());
    let leftovers: Vec<_> = fs::read_dir(&account)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
