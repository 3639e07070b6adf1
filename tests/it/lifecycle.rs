//! The account's life after the login, attacked: `mp-token`, `mp-logout`, `mp-login-status`
//! and the start sweep fed names from files, raced against each other and against a new login
//! of the same name, and met with a server that does not answer. Each test is named after what
//! broke before.

use std::fs;
use std::process::Child;
use std::time::Duration;

use crate::common::{self, read_json, Env};
use mock_idp::{Endpoint, Fault};

const ACCOUNT: &str = "acme-analytics";

fn saved_tokens(env: &Env, account: &str) -> serde_json::Value {
    read_json(&env.accounts().join(account).join("tokens.json"))
}

/// `mp-token --force-refresh` succeeds and its token answers `/me`.
fn refreshes(env: &Env) -> bool {
    let out = env
        .command("mp-token")
        .arg("--force-refresh")
        .output()
        .unwrap();
    env.assert_no_secret(&String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap();
    out.status.success() && env.me_status(token.trim()) == 200
}

/// `mp-token --force-refresh` whose refresh request the mock holds for 1.2 s, returned once
/// the request has arrived (the process holds the account's lock by then).
fn slow_refresh_in_flight(env: &Env) -> Child {
    env.idp.fault(
        Endpoint::Token,
        Fault::delay(Duration::from_millis(1200)).times(1),
    );
    let before = env.refresh_requests();
    let refresher = env.spawn("mp-token", &["--force-refresh"]);
    wait_for_refresh_request(env, before);
    refresher
}

/// Waits until the mock has received more refresh requests than `before` (it holds the answer
/// back for the fault's delay): the refreshing process holds the account's lock by then.
fn wait_for_refresh_request(env: &Env, before: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while env.refresh_requests() == before {
        assert!(
            std::time::Instant::now() < deadline,
            "no refresh request arrived"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Regression: an account name read from `config.toml` (`[accounts."../.."]`) or given as
/// `--account '../../x'` was joined to `S/accounts/` unchecked, and `mp-logout` emptied `$HOME`.
/// Every name now goes through one check before any path is built from it.
#[test]
fn logout_and_token_refuse_names_that_leave_the_accounts_directory() {
    let env = Env::new();
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    let sentinel = env.home.join("precious.txt");
    fs::write(&sentinel, "keep me").unwrap();
    let outside = env.storage.join("x");
    fs::create_dir_all(&outside).unwrap();
    let config = fs::read_to_string(&env.config).unwrap();
    fs::write(
        &env.config,
        format!("{config}\n[accounts.\"../..\"]\ntype = \"oauth_browser\"\nregion = \"us\"\n"),
    )
    .unwrap();

    // The user logs out of everything: the bad block stops the run before anything is touched.
    let before = common::tree(&env.home);
    let run = env.run("mp-logout", &["--all"], None);
    snapshot!("error_logout_invalid_account_name", env.redact(&run));
    assert_eq!(run.exit_code, 3);
    assert_eq!(common::tree(&env.home), before, "nothing touched");

    // A path given as the account, to logout, token and status.
    for bin in ["mp-logout", "mp-token", "mp-login-status"] {
        let run = env.run(bin, &["--account", "../../x"], None);
        assert_eq!(run.failure(), (3, "INVALID_ARGUMENT"), "{bin}: {run:?}");
    }
    assert!(sentinel.is_file() && outside.is_dir());
    assert!(env.accounts().join(ACCOUNT).join("tokens.json").is_file());

    // Status still lists the block, without reading anything for it.
    let run = env.run("mp-login-status", &["--account", ACCOUNT], None);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(run.stdout["accounts"][1]["problem"]
        .as_str()
        .unwrap()
        .contains("not a valid account name"));
}

/// Regression: `mp-token --account nope` said "holds no tokens"; it names the accounts there are.
#[test]
fn an_unknown_account_is_named_as_such() {
    let env = Env::new();
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    let run = env.run("mp-token", &["--account", "nope"], None);
    snapshot!("error_token_no_such_account", env.redact(&run));
    assert_eq!(run.exit_code, 2);
}

/// Regression: a refresh in flight while the account was logged out and logged in again wrote
/// the old family's tokens into the new account (`/me` 401, the next refresh revoked). Logout
/// now waits for the refresh (one lock), and a refresh whose account was replaced by a program
/// that takes no lock writes nothing.
#[test]
fn a_refresh_in_flight_never_writes_into_a_new_login_of_the_same_name() {
    let env = Env::new();
    assert_eq!(env.login(&[], &[]).exit_code, 0);

    // mp-token refreshes slowly; meanwhile mp-logout and a new login of the same name.
    let refresher = slow_refresh_in_flight(&env);
    let run = env.run("mp-logout", &[], None);
    assert_eq!(run.exit_code, 0, "{run:?}");
    let refreshed = refresher.wait_with_output().unwrap();
    assert!(
        refreshed.status.success(),
        "the refresh ended before the logout"
    );
    assert!(!env.accounts().join(ACCOUNT).exists());
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    let new_token = saved_tokens(&env, ACCOUNT)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(env.me_status(&new_token), 200);
    assert!(refreshes(&env));

    // A program without the lock replaces the account while the refresh is in flight.
    let refresher = slow_refresh_in_flight(&env);
    let account = env.accounts().join(ACCOUNT);
    let replacement = env.accounts().join("replacement");
    common::copy_dir(&account, &replacement);
    fs::remove_dir_all(&account).unwrap();
    fs::rename(&replacement, &account).unwrap();
    let written = fs::read(account.join("tokens.json")).unwrap();
    let run = env.finish_run(refresher.wait_with_output().unwrap());
    snapshot!("error_token_account_changed", env.redact(&run));
    assert_eq!(run.exit_code, 1);
    assert_eq!(fs::read(account.join("tokens.json")).unwrap(), written);
}

/// Regression: a refresh killed between writing the new pair and its rename left it only in
/// `.tokens.json.tmp-*`; the next refresh presented the rotated-out token and the server's reuse
/// detection revoked the whole family. The complete temp file is adopted under the lock.
#[test]
fn a_complete_tokens_temp_file_newer_than_tokens_json_is_adopted() {
    let env = Env::new();
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    let account = env.accounts().join(ACCOUNT);
    let old = fs::read(account.join("tokens.json")).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    assert!(refreshes(&env));
    // What the kill leaves: the old file in place, the new pair in a temp file.
    fs::rename(
        account.join("tokens.json"),
        account.join(".tokens.json.tmp-0a1b2c3d"),
    )
    .unwrap();
    fs::write(account.join("tokens.json"), &old).unwrap();
    let older = std::time::SystemTime::now() - Duration::from_secs(60);
    fs::File::options()
        .write(true)
        .open(account.join("tokens.json"))
        .unwrap()
        .set_modified(older)
        .unwrap();
    // An incomplete one beside it goes.
    fs::write(account.join(".tokens.json.tmp-99999999"), "{\"access_tok").unwrap();

    assert!(
        refreshes(&env),
        "the newer pair in the temp file was adopted"
    );
    let names: Vec<String> = fs::read_dir(&account)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".tmp-")), "{names:?}");
    // The family is alive: one more refresh works.
    assert!(refreshes(&env));
}

/// Regression: with the server unreachable, `mp-logout` said "advertises no
/// revocation_endpoint", exited 0 and deleted the tokens, leaving the refresh token live.
#[test]
fn logout_keeps_the_account_when_the_server_cannot_be_asked() {
    let env = Env::new();
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    let account = env.accounts().join(ACCOUNT);
    let meta_path = account.join("meta.json");
    let meta = fs::read_to_string(&meta_path).unwrap();

    // The server is down (nothing listens where the account's base URL points).
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    fs::write(&meta_path, meta.replace(&env.idp.base_url(), &dead_url)).unwrap();
    let before = common::tree(&env.storage);
    let run = env.run("mp-logout", &[], None);
    env.filter(&regex::escape(&dead_url), "[DEAD_URL]");
    env.filter(r"\(os error \d+\)", "(os error [N])");
    snapshot!("error_logout_server_unreachable", env.redact(&run));
    assert_eq!(run.exit_code, 2);
    assert_eq!(
        common::tree(&env.storage),
        before,
        "the account is kept whole"
    );
    fs::write(&meta_path, &meta).unwrap();

    // The revocation endpoint answers 503: kept too.
    env.idp.fault(Endpoint::Revoke, Fault::status(503).times(1));
    let run = env.run("mp-logout", &[], None);
    assert_eq!(run.failure(), (2, "OAUTH_REVOCATION_FAILED"));
    assert!(account.join("tokens.json").is_file());
    assert!(refreshes(&env));

    // Asked to, it removes the account anyway and says the token was not revoked.
    env.idp.fault(Endpoint::Revoke, Fault::status(503).times(1));
    let run = env.run("mp-logout", &["--force"], None);
    common::assert_logged_out_unrevoked(&run, "503");
    assert!(!account.exists());
    // No account left: no empty `[active]` table either.
    let config = fs::read_to_string(&env.config).unwrap();
    assert!(!config.contains("[active]"), "{config}");
}

/// Regression: `mp-login-status --check` on a `/me` 5xx exited 1 with a hint to run
/// `mp-login-resume`. The account is fine, the server is not: its own outcome.
#[test]
fn status_check_on_a_server_error_says_the_account_is_fine() {
    let env = Env::new();
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    env.idp
        .fault(Endpoint::Me, Fault::status(503).retry_after(0));
    let run = env.run("mp-login-status", &["--check", "--retries", "0"], None);
    snapshot!("error_status_check_server_unavailable", env.redact(&run));
    assert_eq!(run.exit_code, 1);
    assert!(!run.stderr.contains("resume"), "{}", run.stderr);
    env.idp.clear_faults();
    assert_eq!(env.run("mp-login-status", &["--check"], None).exit_code, 0);
}

/// Regression: a truncated `tokens.json` showed as `NOT_LOGGED_IN` without the cause.
#[test]
fn a_truncated_tokens_file_is_named_with_its_cause() {
    let env = Env::new();
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    let tokens = env.accounts().join(ACCOUNT).join("tokens.json");
    let text = fs::read(&tokens).unwrap();
    fs::write(&tokens, &text[..text.len() / 2]).unwrap();
    let run = env.run("mp-login-status", &[], None);
    assert_eq!(run.exit_code, 2);
    let message = run.stdout["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("tokens.json") && message.contains("EOF"),
        "{message}"
    );
}

/// Regression: the start sweep removed a placeholder the seed's lockless finish was filling
/// (it had no tokens yet). A placeholder that changed within the longest login lifetime is left
/// alone; an older one without tokens is removed, as is what a killed logout left.
#[test]
fn the_sweep_leaves_recent_placeholders_alone() {
    let env = Env::new();
    let accounts = env.accounts();
    fs::create_dir_all(&accounts).unwrap();
    let young = accounts.join(".tmp-0000aaaa");
    let old = accounts.join(".tmp-0000bbbb");
    let removed = accounts.join(".removed-0000cccc");
    for dir in [&young, &old, &removed] {
        fs::create_dir(dir).unwrap();
    }
    fs::write(young.join(".tokens.json.tmp-12345678"), "{\"half").unwrap();
    let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(7200);
    fs::File::open(&old)
        .unwrap()
        .set_modified(two_hours_ago)
        .unwrap();
    env.start(&[]);
    assert!(
        young.join(".tokens.json.tmp-12345678").is_file(),
        "untouched"
    );
    assert!(!old.exists(), "an old empty placeholder is swept");
    assert!(!removed.exists(), "a killed logout's leftovers are swept");
}

/// Regression: terminal escapes in `/me` (the user's email, organization and project names)
/// reached stderr raw: `ESC]0;…BEL` retitled the window, `ESC[2J` cleared it, `\r\n` forged a
/// line. Every human line escapes them; the envelope keeps the raw value, JSON-escaped.
#[test]
fn terminal_escapes_from_the_server_never_reach_stderr() {
    use mock_idp::scenario::{MeBuilder, ProjectSpec};
    let env = Env::new();
    let evil = "Evil\u{1b}]0;owned\u{7}\u{1b}[2J\r\nFAKE: ok\u{9b}";
    let me = MeBuilder::new()
        .email(&format!("ada{evil}@example.com"))
        .organization(1, evil)
        .project(ProjectSpec::new(10, 1, evil))
        .build();
    env.idp.set_me(me.clone());
    let run = env.login(&[], &["--name", "evil"]);
    assert_eq!(run.exit_code, 0, "{run:?}");
    for bad in ['\u{1b}', '\u{7}', '\r', '\u{9b}'] {
        assert!(!run.stderr.contains(bad), "{bad:?} in {:?}", run.stderr);
    }
    assert!(!run.stderr.contains("\nFAKE"), "{:?}", run.stderr);
    assert_eq!(run.stdout["project"]["name"], evil);
    let run = env.run("mp-autopick", &[], Some(&me.to_string()));
    assert!(!run.stderr.contains('\u{1b}'), "{:?}", run.stderr);

    // A 1 MB project name is shown cut, not whole.
    let long = "n".repeat(1 << 20);
    env.idp.set_me(
        MeBuilder::new()
            .organization(1, "Org")
            .project(ProjectSpec::new(10, 1, &long))
            .build(),
    );
    let run = env.login(&[], &["--name", "long"]);
    assert_eq!(run.exit_code, 0);
    assert!(
        run.stderr.len() < 4096,
        "{} bytes of stderr",
        run.stderr.len()
    );
    assert!(run.stderr.contains("bytes in all"), "{}", run.stderr);
}

/// Regression: the fallback name `org-<key>` (an organization whose name has no letter or
/// digit) took the server's key unchecked, so a key like `../../x` named a path outside
/// `S/accounts/`. It is checked as the seed checks it: the publish fails, the tokens are kept.
#[test]
fn an_organization_key_never_names_a_path() {
    use mock_idp::scenario::wrap;
    let env = Env::new();
    env.idp.set_me(wrap(serde_json::json!({
        "user_email": "ada@example.com",
        "organizations": {"../../x": {"id": "../../x", "name": "日本"}},
        "projects": {"10": {"name": "P", "organization_id": "../../x", "has_integrated": true}},
    })));
    let run = env.login(&[], &[]);
    common::assert_publish_failed(&run, "CONFIG_ERROR");
    assert!(!env.storage.join("x").exists() && !env.home.join("x").exists());
    env.resume_kept(&["--name", "nihon"]);
}

/// Every account is either fully gone (no config block, no directory) or fully usable (its token
/// answers `/me` and still refreshes); a placeholder with tokens only where a finish said its
/// publish failed.
fn assert_all_or_nothing(env: &Env, round: usize, finish: &common::Run) {
    let config = fs::read_to_string(&env.config).unwrap_or_default();
    let dirs: Vec<String> = fs::read_dir(env.accounts())
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    for name in &dirs {
        if name.starts_with(".tmp-") {
            let failed = finish.stdout["error"]["code"] == "LOGIN_FINISH_PUBLISH_FAILED";
            assert!(failed, "round {round}: placeholder {name} left: {finish:?}");
            continue;
        }
        assert!(!name.starts_with('.'), "round {round}: {name} left");
        assert!(
            config.contains(&format!("[accounts.{name}]")),
            "round {round}: `{name}` is a directory config.toml does not list"
        );
    }
    let doc: toml_edit::DocumentMut = config.parse().unwrap();
    let listed: Vec<String> = doc
        .get("accounts")
        .and_then(|a| a.as_table())
        .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
        .unwrap_or_default();
    for name in listed {
        let out = env
            .command("mp-token")
            .args(["--account", &name])
            .output()
            .unwrap();
        let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(
            out.status.success(),
            "round {round}: `{name}` listed but unusable"
        );
        assert_eq!(
            env.me_status(&token),
            200,
            "round {round}: `{name}` token refused"
        );
        let again = env
            .command("mp-token")
            .args(["--account", &name, "--force-refresh"])
            .output()
            .unwrap();
        assert!(
            again.status.success(),
            "round {round}: `{name}` family revoked"
        );
    }
}

/// The race: ten `mp-token --force-refresh`, `mp-logout`, a new login of the same name and a
/// start (its sweep) on one storage directory at once, round after round. Afterwards every
/// account is whole or gone, never in between.
#[test]
fn token_logout_login_and_sweep_raced_leave_every_account_whole_or_gone() {
    let env = Env::new();
    for round in 0..10 {
        assert_eq!(
            env.login(&[], &["--name", ACCOUNT]).exit_code,
            0,
            "round {round}"
        );
        // The new login of the same name is approved before the race; its finish races.
        let redirect = env.start_and_approve(&["--name", ACCOUNT]);
        let sweep_inflight = env.tmp.path().join("sweep-inflight.json");
        let mut children: Vec<Child> = (0..10)
            .map(|_| env.spawn("mp-token", &["--force-refresh"]))
            .collect();
        children.push(env.spawn("mp-logout", &[]));
        let finisher = env.spawn("mp-login-finish", &[&redirect]);
        children.push(env.spawn(
            "mp-login-start",
            &["--inflight", sweep_inflight.to_str().unwrap()],
        ));
        for child in children {
            let out = child.wait_with_output().unwrap();
            env.assert_no_secret(&String::from_utf8_lossy(&out.stderr));
        }
        let finish = env.finish_run(finisher.wait_with_output().unwrap());
        assert_all_or_nothing(&env, round, &finish);
        // Start the next round from nothing.
        let _ = env.run("mp-logout", &["--all", "--force"], None);
        for placeholder in env.placeholders() {
            fs::remove_dir_all(placeholder).unwrap();
        }
    }
}

/// Regression: a project id that is not all digits (`-5`) was published as `default_project`,
/// and mixpanel-headless 0.4 then refused the whole `config.toml` ("String should match pattern
/// '^\d+$'") for every account. The seed picks it too (`int("-5")` is the lowest) and fails its
/// publish; the kit fails the same way but keeps the tokens for `--project`. And `٣` (a
/// non-ASCII digit, `int("٣")` is 3) is picked as the seed picks it.
#[test]
fn a_project_id_mixpanel_headless_cannot_read_is_never_published() {
    use mock_idp::scenario::wrap;
    let env = Env::new();
    let project =
        |org: u64| serde_json::json!({"name": "P", "organization_id": org, "has_integrated": true});
    env.idp.set_me(wrap(serde_json::json!({
        "organizations": {"1": {"id": 1, "name": "Acme"}},
        "projects": {"700": project(1), "-5": project(1)},
    })));
    let run = env.login(&[], &[]);
    snapshot!("error_finish_project_id_not_digits", env.redact(&run));
    common::assert_publish_failed(&run, "CONFIG_ERROR");
    assert!(!env.config.exists() || !fs::read_to_string(&env.config).unwrap().contains("-5"));
    env.resume_kept(&["--project", "700"]);

    // `٣` is 3 to the seed's int(): lower than 700, so it is the pick, and it is published.
    let me = wrap(serde_json::json!({
        "organizations": {"1": {"id": 1, "name": "Acme"}},
        "projects": {"700": project(1), "٣": project(1)},
    }));
    let picked = env.run("mp-autopick", &[], Some(&me.to_string()));
    assert_eq!(picked.stdout["project"]["id"], "٣");
    env.idp.set_me(me);
    let run = env.login(&[], &["--name", "arabic"]);
    assert_eq!(
        (run.exit_code, &run.stdout["project"]["id"]),
        (0, &serde_json::json!("٣"))
    );
}

/// The next answer of `endpoint` is `status` with an OAuth `error` whose description holds the
/// account's refresh token, as a careless server might echo it.
fn echo_refresh_token(env: &Env, endpoint: Endpoint, status: u16, error: &str) {
    let refresh = saved_tokens(env, ACCOUNT)["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let echo = serde_json::json!({"error": error, "error_description": format!("for {refresh}")});
    env.idp.fault(
        endpoint,
        Fault::body(status, &echo.to_string(), "application/json").times(1),
    );
}

/// Found by an attack after the fixes above: a server that echoes the refused token in its
/// error text leaked it on stderr and in the envelope; a refresh answer with an empty access
/// token was saved and left the account unusable; `mp-login-tasks` wrote through a symlink.
#[test]
fn server_words_never_leak_and_bad_token_answers_change_nothing() {
    let env = Env::new();
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    let tokens = env.accounts().join(ACCOUNT).join("tokens.json");
    // The token endpoint echoes the refresh token it refuses (env.run fails on any leak).
    echo_refresh_token(&env, Endpoint::Token, 400, "invalid_grant");
    let run = env.run("mp-token", &["--force-refresh"], None);
    assert!(run.stdout["error"]["message"]
        .as_str()
        .unwrap()
        .contains("[redacted]"));
    // An empty access token in a 200: refused, tokens.json untouched, the account still works.
    let before = fs::read(&tokens).unwrap();
    env.idp.fault(
        Endpoint::Token,
        Fault::body(
            200,
            r#"{"access_token":"","token_type":"Bearer","expires_in":3600}"#,
            "application/json",
        )
        .times(1),
    );
    let run = env.run("mp-token", &["--force-refresh"], None);
    assert_eq!(run.stdout["error"]["code"], "OAUTH_TOKEN_ERROR");
    assert_eq!(fs::read(&tokens).unwrap(), before);
    assert!(refreshes(&env));
    // The revocation endpoint echoes it too, and --force removes the account anyway.
    echo_refresh_token(&env, Endpoint::Revoke, 503, "temporarily_unavailable");
    let run = env.run("mp-logout", &["--force"], None);
    common::assert_logged_out_unrevoked(&run, "[redacted]");

    // mp-login-tasks never writes through a symlink a checkout put in its directory.
    let dir = env.tmp.path().join("tasks");
    fs::create_dir_all(&dir).unwrap();
    let precious = env.tmp.path().join("precious");
    fs::write(&precious, "keep").unwrap();
    std::os::unix::fs::symlink(&precious, dir.join("login.toml")).unwrap();
    let run = env.run("mp-login-tasks", &[dir.to_str().unwrap()], None);
    assert_eq!(run.stdout["error"]["code"], "SYMLINK_REFUSED");
    assert_eq!(fs::read_to_string(&precious).unwrap(), "keep");
}

/// The revocation requests the mock received.
fn revocations(env: &Env) -> usize {
    env.calls("/oauth/revoke/").len()
}

/// Regression: `mp-logout` POSTed the refresh token to whatever `revocation_endpoint` the
/// metadata named (plain http, another host) and said `revoked: true`. Only an endpoint under
/// the issuer's origin gets a token; otherwise the account is kept, the envelope says why, and
/// `--force` removes it without sending anything.
#[test]
fn logout_never_sends_a_token_outside_the_issuers_origin() {
    let env = Env::new();
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    let account = env.accounts().join(ACCOUNT);
    // The same server under another origin (it would answer 200), and another host.
    let elsewhere = env.idp.base_url().replace("127.0.0.1", "localhost") + "/oauth/revoke/";
    for endpoint in [elsewhere.as_str(), "http://attacker.invalid/steal"] {
        env.idp.update_settings(|s| {
            s.metadata_overrides
                .insert("revocation_endpoint".into(), endpoint.into());
        });
        let run = env.run("mp-logout", &[], None);
        assert_eq!(run.failure(), (2, "OAUTH_REVOCATION_FAILED"), "{run:?}");
        let kept = &run.stdout["error"]["details"]["kept"][0];
        let reason = kept["reason"].as_str().unwrap();
        assert!(
            reason.contains(endpoint) && reason.contains("outside the origin of the issuer"),
            "{reason}"
        );
        assert!(account.join("tokens.json").is_file(), "kept");
        assert_eq!(revocations(&env), 0, "no token was sent anywhere");
    }
    let run = env.run("mp-logout", &["--force"], None);
    common::assert_logged_out_unrevoked(&run, "no token was sent there");
    assert_eq!(revocations(&env), 0);
    assert!(!account.exists());
}

/// Regression: `mp-logout` posted the refresh token to the revocation endpoint of a metadata
/// document that named another issuer. The document is refused where it is read.
#[test]
fn logout_refuses_metadata_of_another_issuer() {
    let env = Env::new();
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    env.idp.update_settings(|s| {
        s.metadata_overrides
            .insert("issuer".into(), "http://evil.example/oauth".into());
    });
    let run = env.run("mp-logout", &[], None);
    assert_eq!(run.failure(), (2, "OAUTH_REVOCATION_FAILED"), "{run:?}");
    let reason = run.stdout["error"]["details"]["kept"][0]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    let expected = format!("{}/oauth", env.idp.base_url());
    assert!(
        reason.contains("http://evil.example/oauth") && reason.contains(&expected),
        "both issuers named: {reason}"
    );
    assert_eq!(revocations(&env), 0);
    assert!(env.accounts().join(ACCOUNT).join("tokens.json").is_file());
}

/// Regression: a `.tokens.json.tmp-*` with an mtime in the future (a clock step) was taken for
/// the newer pair: its rotated-out refresh token was presented, reuse detection revoked the
/// family, and `mp-token` printed a token `/me` refused. Which pair follows which is read from
/// the files (the pair names the refresh token it was refreshed with), never from their times.
#[test]
fn a_stale_tokens_temp_with_a_future_mtime_is_not_adopted() {
    let env = Env::new();
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    let account = env.accounts().join(ACCOUNT);
    // A refresh's pair, left in a temp file by a kill; then a later refresh went through.
    assert!(refreshes(&env));
    let rotated_out = fs::read(account.join("tokens.json")).unwrap();
    assert!(refreshes(&env));
    let stale = account.join(".tokens.json.tmp-0a1b2c3d");
    fs::write(&stale, rotated_out).unwrap();
    let current = saved_tokens(&env, ACCOUNT);
    let future = std::time::SystemTime::now() + Duration::from_secs(3600);
    fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(future)
        .unwrap();

    assert!(refreshes(&env), "the family is alive");
    assert!(!stale.exists(), "the stale temp is removed");
    assert_ne!(
        saved_tokens(&env, ACCOUNT)["refresh_token"],
        current["refresh_token"]
    );
    // The pair records the one it follows, and mixpanel-headless's keys are all there.
    let saved = saved_tokens(&env, ACCOUNT);
    for key in [
        "access_token",
        "expires_at",
        "token_type",
        "scope",
        "refresh_token",
    ] {
        assert!(saved[key].is_string(), "{key}: {saved}");
    }
    assert!(saved["refreshed_from"]
        .as_str()
        .is_some_and(|f| f.len() == 16));
    env.assert_no_secret(saved["refreshed_from"].as_str().unwrap());
}

/// Regression: SIGINT while a refresh was in flight said "Interrupted", exit 130, "nothing was
/// changed", although the interrupt waited for the refreshed pair and `tokens.json` held it.
/// Once the pair is saved the run ends as the success it is: the token printed is the one on
/// disk.
#[test]
fn sigint_during_a_refresh_reports_the_saved_pair() {
    let env = Env::new();
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    let before = saved_tokens(&env, ACCOUNT);
    let refresher = slow_refresh_in_flight(&env);
    common::interrupt(&refresher);
    let out = refresher.wait_with_output().unwrap();
    let after = saved_tokens(&env, ACCOUNT);
    assert_ne!(after["refresh_token"], before["refresh_token"], "rotated");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(stdout.trim(), after["access_token"].as_str().unwrap());
    assert!(refreshes(&env));
}

/// Regression: `mp-logout --all` stopped at a symlinked account directory with a bare
/// `GENERAL_ERROR` ("Not a directory", a free-space hint): the accounts before it were gone,
/// the ones after it untouched, and the envelope named neither. It goes on past it and names
/// each; the symlinked one, in every command that opens an account, is `SYMLINK_REFUSED`.
#[test]
fn a_symlinked_account_is_refused_and_logout_all_goes_on() {
    let env = Env::new();
    for name in ["aaa", "bbb", "ccc"] {
        assert_eq!(env.login(&[], &["--name", name]).exit_code, 0);
    }
    let bbb = env.accounts().join("bbb");
    let elsewhere = env.tmp.path().join("elsewhere");
    fs::rename(&bbb, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &bbb).unwrap();
    let target = common::tree(&elsewhere);

    for (bin, args) in [
        ("mp-token", vec!["--account", "bbb"]),
        ("mp-token", vec!["--account", "bbb", "--force-refresh"]),
        ("mp-login-status", vec!["--account", "bbb"]),
        ("mp-logout", vec!["--account", "bbb"]),
    ] {
        let run = env.run(bin, &args, None);
        assert_eq!(run.failure(), (1, "SYMLINK_REFUSED"), "{bin}: {run:?}");
        assert!(
            run.stderr.contains("symbolic link"),
            "{bin}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("free space"), "{bin}: {}", run.stderr);
    }
    // Resume of a link inside the accounts root (one outside it is outside the root): it
    // published what the link pointed at.
    let (_, placeholder) = env.failed_publish(&[], &[]);
    let link = env.accounts().join(".tmp-0b0b0b0b");
    std::os::unix::fs::symlink(&placeholder, &link).unwrap();
    let run = env.resume(&link, &[]);
    assert_eq!(run.failure(), (1, "SYMLINK_REFUSED"), "{run:?}");
    assert!(placeholder.join("tokens.json").is_file(), "untouched");
    fs::remove_file(&link).unwrap();
    assert_eq!(env.resume(&placeholder, &[]).exit_code, 0);

    // Status of all accounts lists it with its problem.
    let run = env.run("mp-login-status", &["--account", "aaa"], None);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(run.stdout["accounts"][1]["problem"]
        .as_str()
        .unwrap()
        .contains("symbolic link"));

    let run = env.run("mp-logout", &["--all"], None);
    assert_eq!(run.failure(), (1, "SYMLINK_REFUSED"), "{run:?}");
    let details = &run.stdout["error"]["details"];
    assert_eq!(details["kept"][0]["name"], "bbb");
    assert_eq!(details["kept"][0]["code"], "SYMLINK_REFUSED");
    let names: Vec<&str> = details["logged_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["aaa", "ccc", "acme-analytics"]);
    assert!(
        run.stderr.contains("Kept `bbb`")
            && run
                .stderr
                .contains("Logged out of `aaa`, `ccc`, `acme-analytics`"),
        "{}",
        run.stderr
    );
    assert!(!env.accounts().join("aaa").exists() && !env.accounts().join("ccc").exists());
    assert!(bbb.is_symlink(), "the link is left");
    assert_eq!(
        common::tree(&elsewhere),
        target,
        "what it points at is untouched"
    );
    let config = fs::read_to_string(&env.config).unwrap();
    assert!(config.contains("[accounts.bbb]") && !config.contains("[accounts.aaa]"));
}

/// Regression: `mp-login-status` said `refreshable: true` (exit 0 with an expired token) for an
/// account `mp-token` could not refresh: no client id in `meta.json` nor a client cache. One
/// function decides, and both commands use it.
#[test]
fn status_and_token_agree_on_what_refreshable_means() {
    let env = Env::new();
    env.idp.update_settings(|s| s.access_token_ttl_secs = 1);
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    let account = env.accounts().join(ACCOUNT);
    let meta_path = account.join("meta.json");
    let mut meta = read_json(&meta_path);
    meta.as_object_mut().unwrap().remove("client_id");
    fs::write(&meta_path, meta.to_string()).unwrap();
    for cache in fs::read_dir(env.storage.join("oauth")).unwrap() {
        let cache = cache.unwrap().path();
        if cache
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("client_")
        {
            fs::remove_file(cache).unwrap();
        }
    }
    std::thread::sleep(Duration::from_millis(1100));

    let status = env.run("mp-login-status", &[], None);
    let token = env.run("mp-token", &[], None);
    assert_eq!(status.failure(), (2, "NOT_LOGGED_IN"), "{status:?}");
    assert_eq!(token.failure(), (2, "NOT_LOGGED_IN"), "{token:?}");
    let listed = &status.stdout["error"]["details"]["accounts"][0];
    assert_eq!(listed["refreshable"], false, "{listed}");
    assert!(listed["not_refreshable"]
        .as_str()
        .unwrap()
        .contains("no client id"));
    assert_eq!(env.refresh_requests(), 0);
}

/// Regression: an account whose `tokens.json` could not be read (a field missing, truncated,
/// a symlink) was removed unrevoked with exit 0, although a refresh token readable by anyone
/// could still be live. It is kept, and the run fails; `--force` removes it.
#[test]
fn logout_keeps_an_account_whose_tokens_cannot_be_read() {
    let env = Env::new();
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    let account = env.accounts().join(ACCOUNT);
    let tokens = account.join("tokens.json");
    let whole = fs::read_to_string(&tokens).unwrap();
    let mut broken: serde_json::Value = serde_json::from_str(&whole).unwrap();
    broken.as_object_mut().unwrap().remove("expires_at");
    fs::write(&tokens, broken.to_string()).unwrap();
    let run = env.run("mp-logout", &[], None);
    assert_eq!(run.failure(), (2, "OAUTH_REVOCATION_FAILED"), "{run:?}");
    assert!(tokens.is_file(), "kept");
    assert!(fs::read_to_string(&env.config)
        .unwrap()
        .contains("[accounts.acme-analytics]"));
    // A symlink in its place is refused as such, and kept too.
    let elsewhere = env.tmp.path().join("elsewhere.json");
    fs::write(&elsewhere, &whole).unwrap();
    fs::remove_file(&tokens).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &tokens).unwrap();
    let run = env.run("mp-logout", &[], None);
    assert_eq!(run.failure().1, "SYMLINK_REFUSED", "{run:?}");
    assert!(account.exists());
    let run = env.run("mp-logout", &["--force"], None);
    common::assert_logged_out_unrevoked(&run, "removed anyway: --force");
    assert!(!account.exists());
    assert!(elsewhere.is_file(), "the link's target is not touched");
    assert_eq!(revocations(&env), 0);
}

/// Regression: `mp-logout --all` removed every block of `config.toml`, a service account's
/// (with its secret) too, though the file is shared with mixpanel-headless. Only the kit's
/// OAuth logins are logged out; others are listed as skipped, and naming one is refused.
#[test]
fn logout_leaves_accounts_that_are_not_oauth_logins() {
    let env = Env::new();
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    let service = "\n[accounts.svc]\ntype = \"service_account\"\nusername = \"svc.user\"\nsecret = \"s3cr3t\"\nregion = \"us\"\n";
    let mut config = fs::read_to_string(&env.config).unwrap();
    config.push_str(service);
    fs::write(&env.config, &config).unwrap();
    let named = env.run("mp-logout", &["--account", "svc"], None);
    assert_eq!(named.failure(), (3, "INVALID_ARGUMENT"), "{named:?}");
    assert_eq!(fs::read_to_string(&env.config).unwrap(), config);
    let all = env.run("mp-logout", &["--all", "--yes"], None);
    assert_eq!(all.exit_code, 0, "{all:?}");
    assert_eq!(all.stdout["logged_out"][0]["name"], ACCOUNT);
    assert_eq!(all.stdout["skipped"][0]["name"], "svc");
    let left = fs::read_to_string(&env.config).unwrap();
    assert!(left.contains("secret = \"s3cr3t\""), "{left}");
    assert!(!left.contains("[accounts.acme-analytics]"), "{left}");
}

/// Regression: a `revocation_endpoint` that is not a string (`42`) was taken for a server
/// without metadata, and the account removed unrevoked. It is a document not to be trusted
/// with a token: the account is kept.
#[test]
fn logout_keeps_the_account_when_the_revocation_endpoint_is_malformed() {
    let env = Env::new();
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    env.idp.update_settings(|s| {
        s.metadata_overrides
            .insert("revocation_endpoint".into(), serde_json::json!(42));
    });
    let run = env.run("mp-logout", &[], None);
    assert_eq!(run.failure(), (2, "OAUTH_REVOCATION_FAILED"), "{run:?}");
    assert!(env.accounts().join(ACCOUNT).join("tokens.json").is_file());
}
