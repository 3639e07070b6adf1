//! `mp-token`: the access token of an account on stdout and nothing else, refreshed
//! once when it expires (also with ten processes at once), refused when the grant is revoked.

use std::fs;

use crate::common::{self, mode, read_json, Env};

/// Runs `mp-token args`: the token printed (stdout may hold only that secret; stderr none).
fn token(env: &Env, args: &[&str]) -> String {
    let out = env.command("mp-token").args(args).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    env.assert_no_secret(&String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}");
    let token = stdout.strip_suffix('\n').expect("one line").to_string();
    assert!(!token.contains('\n') && env.idp.issued_secrets().contains(&token));
    token
}

fn saved_access_token(env: &Env, account: &str) -> String {
    read_json(&env.accounts().join(account).join("tokens.json"))["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Logs in with a token good for 5 s (inside the refresh margin); later tokens last an hour.
fn login_with_an_expiring_token(env: &Env) {
    env.idp.update_settings(|s| s.access_token_ttl_secs = 5);
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    env.idp.update_settings(|s| s.access_token_ttl_secs = 3600);
}

#[test]
fn a_fresh_token_is_printed_as_it_is() {
    let env = Env::new();
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    assert_eq!(token(&env, &[]), saved_access_token(&env, "acme-analytics"));
    assert_eq!(env.refresh_requests(), 0);
    // By name; an unknown name is not logged in.
    assert_eq!(
        token(&env, &["--account", "acme-analytics"]),
        saved_access_token(&env, "acme-analytics")
    );
    env.set_env("MP_ACCOUNT", "nobody");
    let run = env.run("mp-token", &[], None);
    assert_eq!(run.stdout["error"]["code"], "NOT_LOGGED_IN");
}

#[test]
fn an_expiring_token_is_refreshed_once_and_the_new_one_works() {
    let env = Env::new();
    login_with_an_expiring_token(&env);
    let old = saved_access_token(&env, "acme-analytics");
    let new = token(&env, &[]);
    assert_ne!(new, old);
    assert_eq!(env.refresh_requests(), 1);
    assert_eq!(saved_access_token(&env, "acme-analytics"), new);
    let tokens = env.accounts().join("acme-analytics/tokens.json");
    assert_eq!(mode(&tokens), 0o600);
    assert_eq!(env.me_status(&new), 200);
    // Good for an hour now: printed again without a refresh.
    assert_eq!(token(&env, &[]), new);
    assert_eq!(env.refresh_requests(), 1);
}

#[test]
fn ten_processes_on_an_expiring_token_make_one_refresh() {
    let env = Env::new();
    login_with_an_expiring_token(&env);
    let children: Vec<_> = (0..10)
        .map(|_| {
            env.std_command("mp-token")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let printed: std::collections::BTreeSet<String> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success());
            String::from_utf8(out.stdout).unwrap()
        })
        .collect();
    assert_eq!(printed.len(), 1, "one token for all: {}", printed.len());
    assert_eq!(env.refresh_requests(), 1, "exactly one refresh request");
}

#[test]
fn a_revoked_grant_and_no_login_are_refused() {
    let env = Env::new();
    let run = env.run("mp-token", &[], None);
    snapshot!("error_token_not_logged_in", env.redact(&run));
    assert_eq!(run.exit_code, 2);

    assert_eq!(env.login(&[], &[]).exit_code, 0);
    let tokens = read_json(&env.accounts().join("acme-analytics/tokens.json"));
    let meta = read_json(&env.accounts().join("acme-analytics/meta.json"));
    let revoked = mock_idp::client::http()
        .post(format!("{}/oauth/revoke/", env.idp.base_url()))
        .form(&[
            ("token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", meta["client_id"].as_str().unwrap()),
        ])
        .send()
        .unwrap();
    assert_eq!(revoked.status().as_u16(), 200);
    let before = fs::read(env.accounts().join("acme-analytics/tokens.json")).unwrap();
    let run = env.run("mp-token", &["--force-refresh"], None);
    snapshot!("error_token_refresh_revoked", env.redact(&run));
    assert_eq!(run.exit_code, 2);
    let after = fs::read(env.accounts().join("acme-analytics/tokens.json")).unwrap();
    assert_eq!(before, after, "tokens.json untouched");
}

/// `mp-login-status`: the accounts without a network call, exit 2 when the selected
/// one cannot produce a token, and `--check` calls /me with a fresh token.
#[test]
fn status_lists_the_accounts_and_judges_the_selected_one() {
    let env = Env::new();
    let run = env.run("mp-login-status", &[], None);
    assert_eq!(run.failure(), (2, "NOT_LOGGED_IN"));
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    assert_eq!(env.login(&[], &["--name", "second"]).exit_code, 0);
    let calls = env.idp.journal().len();
    let run = env.run("mp-login-status", &[], None);
    snapshot!("status_ok", env.redact(&run));
    assert_eq!(run.exit_code, 0);
    assert_eq!(env.idp.journal().len(), calls, "no network call");
    assert_eq!(run.stdout["selected"], "second");
    let accounts = run.stdout["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    assert_eq!(accounts[1]["active"], true);
    assert_eq!(accounts[0]["refreshable"], true);
    // --check: /me answers the token.
    let run = env.run("mp-login-status", &["--check"], None);
    assert_eq!(
        (run.exit_code, &run.stdout["checked"]),
        (0, &serde_json::json!(true))
    );
    // An account without tokens cannot produce one; the failure still lists the accounts.
    fs::remove_file(env.accounts().join("second/tokens.json")).unwrap();
    let run = env.run("mp-login-status", &[], None);
    assert_eq!(run.exit_code, 2);
    let listed = &run.stdout["error"]["details"]["accounts"];
    assert_eq!(listed[1]["expires_at"], serde_json::Value::Null, "{listed}");
    let run = env.run("mp-login-status", &["--account", "acme-analytics"], None);
    assert_eq!(run.exit_code, 0);
}

/// `mp-logout`: RFC 7009 revocation where the server offers it, then the account's
/// directory and config block go, `[active]` moves, comments stay.
#[test]
fn logout_revokes_and_removes_the_account() {
    let env = Env::new();
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    assert_eq!(env.login(&[], &["--name", "second"]).exit_code, 0);
    let config = fs::read_to_string(&env.config).unwrap();
    fs::write(
        &env.config,
        format!("# mine\n{config}[ui]\ntheme = \"dark\"\n"),
    )
    .unwrap();
    let access = saved_access_token(&env, "second");
    let run = env.run("mp-logout", &[], None);
    snapshot!("logout_ok", env.redact(&run));
    assert_eq!(run.exit_code, 0);
    assert_eq!(run.stdout["logged_out"][0]["name"], "second");
    assert_eq!(run.stdout["logged_out"][0]["revoked"], true);
    assert_eq!(env.me_status(&access), 401, "the server revoked it");
    assert!(!env.accounts().join("second").exists());
    let config = fs::read_to_string(&env.config).unwrap();
    assert!(!config.contains("[accounts.second]"), "{config}");
    assert!(
        config.starts_with("# mine\n") && config.contains("theme = \"dark\""),
        "{config}"
    );
    assert!(
        config.contains("[active]\naccount = \"acme-analytics\""),
        "{config}"
    );

    // Without a revocation endpoint the files still go, and the envelope says why.
    env.idp.update_settings(|s| s.metadata = false);
    let run = env.run("mp-logout", &["--all"], None);
    common::assert_logged_out_unrevoked(&run, "revocation_endpoint");
    assert!(!env.accounts().join("acme-analytics").exists());
    let run = env.run("mp-login-status", &[], None);
    assert_eq!(run.exit_code, 2);
}

/// Regression: with a server that issues no refresh token, finish said nothing about it,
/// `mp-token --force-refresh` said "Not logged in" while the access token still answered
/// `/me`, and `mp-logout` left that token live (`revoked: false`). Finish warns, the token's
/// error says what is true, and logout revokes the access token (RFC 7009 allows it).
#[test]
fn a_server_without_refresh_tokens_is_said_and_its_access_token_revoked() {
    let env = Env::new();
    env.idp.update_settings(|s| s.refresh_tokens = false);
    let run = env.login(&[], &[]);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_eq!(
        run.stdout["warnings"][0]["code"], "NO_REFRESH_TOKEN",
        "{run:?}"
    );
    assert!(run
        .stderr
        .contains("warning: the server issued no refresh token"));
    let access = saved_access_token(&env, "acme-analytics");
    assert!(
        read_json(&env.accounts().join("acme-analytics/tokens.json"))
            .get("refresh_token")
            .is_none()
    );

    // A forced refresh cannot happen, and the error says until when the token works.
    let run = env.run("mp-token", &["--force-refresh"], None);
    assert_eq!(run.failure(), (2, "NOT_LOGGED_IN"), "{run:?}");
    let message = run.stdout["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("no refresh token") && message.contains("valid until"),
        "{message}"
    );
    assert!(!message.starts_with("Not logged in"), "{message}");
    assert_eq!(run.stdout["error"]["details"]["expired"], false);
    assert_eq!(env.refresh_requests(), 0);
    assert_eq!(
        token(&env, &[]),
        access,
        "without --force-refresh it is printed"
    );
    let status = env.run("mp-login-status", &[], None);
    assert_eq!(status.stdout["accounts"][0]["refreshable"], false);

    // Logout revokes what there is: the access token.
    assert_eq!(env.me_status(&access), 200);
    let run = env.run("mp-logout", &[], None);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_eq!(run.stdout["logged_out"][0]["revoked"], true);
    assert_eq!(run.stdout["logged_out"][0]["revoked_token"], "access_token");
    assert_eq!(env.me_status(&access), 401, "the server revoked it");
}
