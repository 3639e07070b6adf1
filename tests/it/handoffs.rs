//! The hand-offs people make: a CLI that helps with a typo, a login carried from one CI job to
//! the next, an account removed only when asked.

use std::fs;

use crate::common::{self, Env};

/// Regression: a typo lost clap's "did you mean" (`--regoin` said only "unknown flag"), and an
/// extra positional was not named. The envelope keeps both; a value that may hold a code is
/// still never repeated.
#[test]
fn typos_get_a_suggestion_in_the_envelope() {
    let env = Env::new();
    let run = env.run("mp-login-start", &["--regoin", "eu"], None);
    snapshot!("error_usage_typo_suggestion", env.redact(&run));
    assert_eq!(run.exit_code, 3);
    let run = env.run("mp-autopick", &["stray"], None);
    assert_eq!(
        run.stdout["error"]["message"],
        "unexpected extra argument `stray`"
    );
    let run = env.run(
        "mp-login-finish",
        &[
            "http://localhost:19284/callback?code=c&state=s",
            "again?code=x",
        ],
        None,
    );
    assert_eq!(run.exit_code, 3);
    assert!(!run.stderr.contains("code=x"), "{}", run.stderr);
}

/// Runs `mp-logout args` on a terminal (`script` gives it a pty), answering `answer`; returns
/// what the terminal showed.
fn logout_at_a_terminal(env: &Env, args: &str, answer: &str) -> String {
    let command = format!("{} {args}", common::bin_path("mp-logout").display());
    let out = env
        .command("script")
        .args(["-qec", &command, "/dev/null"])
        .write_stdin(answer)
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    env.assert_no_secret(&shown);
    shown
}

/// Regression: `mp-logout --all` on a terminal removed every account without asking. It asks
/// there (`--yes` answers in advance) and never asks when stdin is not a terminal.
#[test]
fn logout_all_asks_only_a_person_at_a_terminal() {
    let env = Env::new();
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    assert_eq!(env.login(&[], &["--name", "second"]).exit_code, 0);
    let accounts = || {
        let mut names: Vec<String> = fs::read_dir(env.accounts())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };

    // The person says no: nothing is touched.
    let shown = logout_at_a_terminal(&env, "--all", "n\n");
    assert!(
        shown.contains("Log out of every account (`acme-analytics`, `second`)?"),
        "{shown}"
    );
    assert!(shown.contains("\"code\":\"CANCELLED\""), "{shown}");
    assert_eq!(accounts(), ["acme-analytics", "second"]);

    // Yes: both go.
    let shown = logout_at_a_terminal(&env, "--all", "y\n");
    assert!(
        shown.contains("[y/N]") && shown.contains("\"state\":\"ok\""),
        "{shown}"
    );
    assert!(accounts().is_empty());
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    assert_eq!(env.login(&[], &["--name", "second"]).exit_code, 0);

    // One account by name is not asked about.
    let shown = logout_at_a_terminal(&env, "--account second", "");
    assert!(
        !shown.contains("[y/N]") && shown.contains("\"state\":\"ok\""),
        "{shown}"
    );
    assert_eq!(accounts(), ["acme-analytics"]);

    // --yes answers in advance.
    assert_eq!(env.login(&[], &["--name", "third"]).exit_code, 0);
    let shown = logout_at_a_terminal(&env, "--all --yes", "");
    assert!(
        !shown.contains("[y/N]") && shown.contains("\"state\":\"ok\""),
        "{shown}"
    );
    assert!(accounts().is_empty());

    // Off a terminal it never asks.
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    let run = env.run("mp-logout", &["--all"], Some("n\n"));
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(!run.stderr.contains("[y/N]"));
    assert!(accounts().is_empty());
}

/// Regression: `ME_INVALID` could not be contract-tested through the mock (every `/me` body was
/// wrapped in `{"status":"ok",…}`). A fault's body is served as it is: a `/me` answer whose
/// status is not `ok` fails the publish with `ME_INVALID`, tokens kept.
#[test]
fn a_raw_me_body_from_the_mock_is_me_invalid_end_to_end() {
    let env = Env::new();
    env.idp.fault(
        mock_idp::Endpoint::Me,
        mock_idp::Fault::body(
            200,
            r#"{"status":"error","results":{}}"#,
            "application/json",
        )
        .times(1),
    );
    common::assert_publish_failed(&env.login(&[], &[]), "ME_INVALID");
    env.resume_kept(&[]);
}

/// The CI recipe of the README: job 1 starts the login and uploads its inflight file as an
/// artifact; job 2 (another HOME, another storage directory) downloads it, which leaves it
/// 0644. Regression: the mode error said to start over, when `chmod 600` was the fix.
#[test]
fn a_login_carried_from_one_ci_job_to_the_next() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    // Job 1: start, upload the inflight file; the person approves meanwhile.
    let started = env.start(&[]);
    let redirect = env.approve(started.stdout["authorize_url"].as_str().unwrap());
    let job2 = env.tmp.path().join("job2");
    let artifact = job2.join("artifact/inflight.json");
    fs::create_dir_all(artifact.parent().unwrap()).unwrap();
    fs::copy(env.inflight_path(), &artifact).unwrap();
    fs::set_permissions(&artifact, fs::Permissions::from_mode(0o644)).unwrap();

    // Job 2: its own HOME, storage and config.
    let finish = || {
        let out = env
            .command("mp-login-finish")
            .env("HOME", job2.join("home"))
            .env("MP_STORAGE_DIR", job2.join("mp"))
            .env("MP_CONFIG_PATH", job2.join("mp/config.toml"))
            .args(["--inflight", artifact.to_str().unwrap(), &redirect])
            .output()
            .unwrap();
        env.finish_run(out)
    };
    let run = finish();
    assert_eq!(run.stdout["error"]["code"], "OAUTH_INFLIGHT_CORRUPT");
    let hint = run.stdout["error"]["hint"].as_str().unwrap();
    assert!(
        hint.contains(&format!("chmod 600 {}", artifact.display())),
        "{hint}"
    );
    fs::set_permissions(&artifact, fs::Permissions::from_mode(0o600)).unwrap();
    let run = finish();
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(job2
        .join("mp/accounts/acme-analytics/tokens.json")
        .is_file());
    assert!(fs::read_to_string(job2.join("mp/config.toml"))
        .unwrap()
        .contains("[accounts.acme-analytics]"));
    assert!(
        !env.accounts().join("acme-analytics").exists(),
        "job 1 holds nothing"
    );
    assert!(!artifact.exists(), "the spent inflight is removed");
}

/// Regression: only two binaries showed an example in `--help`. Every one ends with examples
/// of its real use, and `--help` is text (exit 0), not an envelope.
#[test]
fn every_help_ends_with_examples() {
    let env = Env::new();
    for bin in [
        "mp-login",
        "mp-login-start",
        "mp-login-finish",
        "mp-login-resume",
        "mp-autopick",
        "mp-token",
        "mp-login-status",
        "mp-logout",
        "mp-login-tasks",
    ] {
        let out = env.command(bin).arg("--help").output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(out.status.success(), "{bin}");
        let examples = text
            .find("Examples:")
            .unwrap_or_else(|| panic!("{bin}: {text}"));
        assert!(
            text[examples..].contains(bin),
            "{bin}'s examples use it: {text}"
        );
    }
    let mock = common::bin_path("mp-login-start").with_file_name("mock-idp");
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["approve", "--help"],
        &["body", "--help"],
    ] {
        let out = std::process::Command::new(&mock)
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("Examples:"), "mock-idp {args:?}: {text}");
    }
    let out = std::process::Command::new(&mock)
        .arg("--help")
        .output()
        .unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().contains("/__admin"));
}
