//! The two-shot login end to end: real binaries against the in-process mock IdP.

use std::fs;

use crate::common::{self, mode, read_json, Env};
use mock_idp::Scenario;
use serde_json::json;

#[test]
fn start_then_finish_publishes_the_account() {
    let env = Env::new();
    // The user starts the login.
    let started = env.start(&[]);
    snapshot!("start_ok", env.redact(&started));
    assert_eq!(mode(&env.inflight_path()), 0o600);
    assert_eq!(mode(&env.storage.join("oauth")), 0o700);
    // They approve in a browser and paste the URL it landed on.
    let redirect = env.approve(started.stdout["authorize_url"].as_str().unwrap());
    let finished = env.finish(&redirect, &[]);
    snapshot!("finish_ok", env.redact(&finished));
    assert_eq!(finished.exit_code, 0);
    // What the seed's consumer (mixpanel-plugin auth.md) reads.
    let out = &finished.stdout;
    assert_eq!(out["account"]["type"], "oauth_browser");
    assert_eq!(out["user"]["email"], "ada@example.com");
    assert_eq!(out["project"]["id"], "3001");
    assert_eq!(out["project_pick"]["auto_picked"], true);
    assert_eq!(out["next"][0]["command"], "mp project list");

    let account = env.accounts().join("acme-analytics");
    assert_eq!(mode(&account), 0o700);
    for f in ["tokens.json", "me.json", "meta.json"] {
        assert_eq!(mode(&account.join(f)), 0o600, "{f}");
    }
    let tokens = read_json(&account.join("tokens.json"));
    let issued = env.idp.issued_secrets();
    assert!(issued.contains(&tokens["access_token"].as_str().unwrap().to_string()));
    assert!(issued.contains(&tokens["refresh_token"].as_str().unwrap().to_string()));
    assert_eq!(tokens["token_type"], "Bearer");
    let me = read_json(&account.join("me.json"));
    assert_eq!(me["user_email"], "ada@example.com");
    assert!(me["cached_at"].as_f64().is_some());
    assert!(
        me.get("status").is_none(),
        "me.json holds the unwrapped body"
    );
    for ws in me["workspaces"].as_object().unwrap().values() {
        assert!(ws.get("member_list").is_none() && ws.get("unified_member_list").is_none());
    }
    let config = fs::read_to_string(&env.config).unwrap();
    assert_eq!(mode(&env.config), 0o600);
    assert_eq!(
        config,
        "[accounts.acme-analytics]\ntype = \"oauth_browser\"\nregion = \"us\"\ndefault_project = \"3001\"\n\n[active]\naccount = \"acme-analytics\"\n"
    );
    assert!(
        !env.inflight_path().exists(),
        "the spent inflight file is removed"
    );
    assert!(env.placeholders().is_empty());
}

#[test]
fn a_second_login_for_the_same_organization_gets_a_suffix() {
    let env = Env::new();
    assert_eq!(
        env.login(&[], &[]).stdout["account"]["name"],
        "acme-analytics"
    );
    let second = env.login(&[], &[]);
    assert_eq!(second.stdout["account"]["name"], "acme-analytics-2");
    let third = env.login(&[], &[]);
    assert_eq!(third.stdout["account"]["name"], "acme-analytics-3");
    let config = fs::read_to_string(&env.config).unwrap();
    assert!(config.contains("[accounts.acme-analytics-2]"));
    assert!(
        config.contains("[active]\naccount = \"acme-analytics-3\"\n"),
        "the newest login is active, as the seed's `use()` makes it: {config}"
    );
    // The client registered by the first start is reused.
    let registrations = env.calls("/oauth/mcp/register/").len();
    assert_eq!(registrations, 1);
}

#[test]
fn name_and_project_given_to_start_are_used_by_finish() {
    let env = Env::new();
    env.idp.set_scenario(Scenario::MultiOrg);
    let run = env.login(&["--name", "work", "--project", "3002"], &[]);
    snapshot!("finish_explicit_project", env.redact(&run));
    assert_eq!(run.stdout["account"]["name"], "work");
    assert_explicit_pick(&run, "3002");
}

#[test]
fn name_and_project_given_to_finish_override_start() {
    let env = Env::new();
    env.idp.set_scenario(Scenario::MultiOrg);
    let run = env.login(
        &["--name", "from-start"],
        &["--name", "from-finish", "--project", "3103"],
    );
    assert_eq!(run.stdout["account"]["name"], "from-finish");
    assert_eq!(
        run.stdout["project"],
        json!({"id": "3103", "name": "Globex Web"})
    );
}

#[test]
fn mp_project_id_is_an_explicit_pick() {
    let env = Env::new();
    env.idp.set_scenario(Scenario::MultiOrg);
    env.set_env("MP_PROJECT_ID", "3001");
    let run = env.login(&[], &[]);
    assert_explicit_pick(&run, "3001");
}

fn assert_explicit_pick(run: &common::Run, project: &str) {
    assert_eq!(run.stdout["project_pick"]["method"], "explicit");
    assert_eq!(run.stdout["project_pick"]["auto_picked"], false);
    assert_eq!(run.stdout["project"]["id"], project);
}

#[test]
fn multi_org_names_the_account_after_the_first_organization_and_picks_numerically() {
    let env = Env::new();
    env.idp.set_scenario(Scenario::MultiOrg);
    let run = env.login(&[], &[]);
    snapshot!("finish_multi_org", env.redact(&run));
    // Globex comes first in /me; Acme (id 1001) wins the 2–2 tie on the lower id, and 990 is
    // its numerically lowest project (3001 as text).
    assert_eq!(run.stdout["account"]["name"], "globex");
    assert_eq!(run.stdout["project"]["id"], "990");
    assert_eq!(
        run.stdout["project_pick"]["primary_org_name"],
        "Acme Analytics"
    );
    let config = fs::read_to_string(&env.config).unwrap();
    assert!(
        config.contains("[active]\naccount = \"globex\""),
        "{config}"
    );
}

#[test]
fn the_seeds_storage_variable_is_honoured() {
    let env = Env::new();
    let old = env.tmp.path().join("old-name");
    let mut c = env.command("mp-login-start");
    c.env_remove("MP_STORAGE_DIR")
        .env("MP_OAUTH_STORAGE_DIR", &old);
    let run = env.finish_run(c.output().unwrap());
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(old.join("oauth/inflight.json").exists());
    // MP_STORAGE_DIR wins when both are set; an empty one counts as unset.
    let mut c = env.command("mp-login-start");
    c.env("MP_STORAGE_DIR", "")
        .env("MP_OAUTH_STORAGE_DIR", &old);
    let run = env.finish_run(c.output().unwrap());
    assert_eq!(
        run.stdout["inflight_path"],
        old.join("oauth/inflight.json").to_str().unwrap()
    );
}

#[test]
fn region_eu_logs_in_to_eu_projects() {
    let env = Env::new();
    env.idp.set_scenario(Scenario::CrossRegion);
    let run = env.login(&["--region", "eu"], &[]);
    snapshot!("finish_region_eu", env.redact(&run));
    assert_eq!(run.stdout["account"]["region"], "eu");
    let config = fs::read_to_string(&env.config).unwrap();
    assert!(config.contains("region = \"eu\""), "{config}");
    let meta = read_json(&env.accounts().join("acme-europe/meta.json"));
    assert_eq!(meta["region"], "eu");
}

#[test]
fn region_eu_authorize_url_points_at_the_eu_host() {
    let env = Env::new();
    // A cached client for the real eu IdP: start needs no network to print the URL.
    let oauth = env.storage.join("oauth");
    fs::create_dir_all(&oauth).unwrap();
    let cached = json!({
        "client_id": "cached-eu-client",
        "region": "eu",
        "redirect_uri": "http://localhost:19284/callback",
        "scope": mp_login_core::oauth::DEFAULT_SCOPE,
        "created_at": "2026-11-01T00:00:00Z",
    });
    fs::write(oauth.join("client_eu.json"), cached.to_string()).unwrap();
    let mut c = env.command("mp-login-start");
    c.env_remove("MP_BASE_URL").args(["--region", "eu"]);
    let run = env.finish_run(c.output().unwrap());
    assert_eq!(run.exit_code, 0, "{run:?}");
    let url = url::Url::parse(run.stdout["authorize_url"].as_str().unwrap()).unwrap();
    assert_eq!(url.host_str(), Some("eu.mixpanel.com"));
    assert_eq!(url.path(), "/oauth/authorize/");
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], "cached-eu-client");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["redirect_uri"], "http://localhost:19284/callback");
    assert_eq!(run.stdout["region"], "eu");
}

#[test]
fn a_hand_edited_config_keeps_comments_and_other_keys() {
    let env = Env::new();
    env.login(&[], &[]);
    // The user edits config.toml by hand between two logins.
    let edited = format!(
        "# my Mixpanel settings\n{}\n[ui]\ntheme = \"dark\" # keep this\n",
        fs::read_to_string(&env.config).unwrap()
    );
    fs::write(&env.config, &edited).unwrap();
    env.login(&[], &[]);
    let config = fs::read_to_string(&env.config).unwrap();
    assert!(
        config.starts_with("# my Mixpanel settings\n[accounts.acme-analytics]\n"),
        "{config}"
    );
    assert!(
        config.contains("[ui]\ntheme = \"dark\" # keep this\n"),
        "{config}"
    );
    assert!(config.contains("[accounts.acme-analytics-2]"), "{config}");
}

#[test]
fn finish_reads_the_redirect_from_a_file_and_from_stdin() {
    let env = Env::new();
    let redirect = env.start_and_approve(&[]);
    let file = env.tmp.path().join("redirect.txt");
    // Pasted into a file with a wrapped line and quotes around it.
    let (a, b) = redirect.split_at(30);
    fs::write(&file, format!("\"{a}\n{b}\"\n")).unwrap();
    let run = env.run(
        "mp-login-finish",
        &["--redirect-file", file.to_str().unwrap()],
        None,
    );
    assert_eq!(run.exit_code, 0, "{run:?}");
    let redirect = env.start_and_approve(&[]);
    let run = env.run("mp-login-finish", &[], Some(&format!("{redirect}\n")));
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_eq!(run.stdout["account"]["name"], "acme-analytics-2");
}

#[test]
fn an_explicit_inflight_file_chains_the_steps() {
    let env = Env::new();
    let inflight = env.tmp.path().join("step/inflight.json");
    let started = env.start(&["--inflight", inflight.to_str().unwrap()]);
    assert_eq!(mode(&inflight), 0o600);
    assert!(!env.inflight_path().exists());
    assert!(started.stdout["finish_command"]
        .as_str()
        .unwrap()
        .contains("--inflight"));
    let redirect = env.approve(started.stdout["authorize_url"].as_str().unwrap());
    let run = env.run(
        "mp-login-finish",
        &["--inflight", inflight.to_str().unwrap(), &redirect],
        None,
    );
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(!inflight.exists());
}

#[test]
fn a_second_start_replaces_the_first() {
    let env = Env::new();
    assert_eq!(env.start(&[]).stdout["replaced_previous"], false);
    assert_eq!(env.start(&[]).stdout["replaced_previous"], true);
}

#[test]
fn slow_me_shows_a_heartbeat_and_retries_5xx() {
    let env = Env::new();
    env.set_env("MP_HEARTBEAT_SECS", "0.5");
    env.idp.fault(
        mock_idp::Endpoint::Me,
        mock_idp::Fault::status(503)
            .retry_after(0)
            .times(2)
            .with_delay(std::time::Duration::from_millis(1300)),
    );
    let run = env.login(&[], &[]);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(run.stderr.contains("still fetching /me"), "{}", run.stderr);
    assert!(
        run.stderr.contains("retrying in 0 s (attempt 2 of 4)"),
        "{}",
        run.stderr
    );
    let me_calls = env.calls("/api/app/me");
    assert_eq!(me_calls, [503, 503, 200]);
}

#[test]
fn a_me_without_projects_publishes_without_default_project() {
    let env = Env::new();
    env.idp.set_me(mock_idp::scenario::MeBuilder::new().build());
    let run = env.login(&[], &[]);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_eq!(run.stdout["project_pick"]["method"], "no_projects");
    assert_eq!(run.stdout["project_pick"]["auto_picked"], true);
    assert_eq!(run.stdout["project"], serde_json::Value::Null);
    // The builder's body has no organizations: the seed's fallback name.
    assert_eq!(run.stdout["account"]["name"], "account");
    let config = fs::read_to_string(&env.config).unwrap();
    assert!(!config.contains("default_project"), "{config}");
}

#[test]
fn proxies_from_the_environment_are_honoured() {
    let env = Env::new();
    // A second mock plays the forward proxy: it answers what is sent through it.
    let proxy = mock_idp::MockIdp::start();
    env.set_env("HTTP_PROXY", &proxy.base_url());
    env.set_env("NO_PROXY", "");
    let run = env.run("mp-login-start", &[], None);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(proxy
        .journal()
        .iter()
        .any(|j| j.path == "/oauth/mcp/register/"));
    assert!(
        env.idp.journal().is_empty(),
        "nothing went around the proxy"
    );
}

#[test]
fn the_secret_scan_catches_a_leak() {
    let env = Env::new();
    assert_eq!(env.login(&[], &[]).exit_code, 0);
    let secrets = env.secrets();
    // The code, the verifier, the access and the refresh token at least.
    assert!(secrets.len() >= 4, "{}", secrets.len());
    for s in secrets {
        let leaked = format!("token: {s}");
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            env.assert_no_secret(&leaked)
        }));
        assert!(caught.is_err(), "the scan must fail on a leaked secret");
    }
}

#[test]
fn a_socks5h_proxy_carries_the_whole_login() {
    let env = Env::new();
    let socks = common::Socks5::start();
    // A host name, so socks5h has a name to resolve on the proxy's side.
    let base = env.idp.base_url().replace("127.0.0.1", "localhost");
    env.set_env("MP_BASE_URL", &base);
    env.set_env("ALL_PROXY", &socks.url);
    env.set_env("NO_PROXY", "");
    let redirect = env.start_and_approve(&[]);
    let run = env.finish(&redirect, &[]);
    assert_eq!(run.exit_code, 0, "{run:?}");
    let requested = socks.requested.lock().unwrap().clone();
    // One connection per process (start's registration; finish's token and /me share a
    // kept-alive one), each through the proxy, by name.
    assert!(requested.len() >= 2, "{requested:?}");
    assert!(requested.iter().all(|h| h == "localhost"), "{requested:?}");
}

#[test]
fn a_terminal_gets_a_spinner_instead_of_heartbeat_lines() {
    let env = Env::new();
    env.idp.fault(
        mock_idp::Endpoint::Me,
        mock_idp::Fault::delay(std::time::Duration::from_millis(1200)),
    );
    let redirect = env.start_and_approve(&[]);
    // `script` gives the command a pseudo-terminal for stdout and stderr.
    let finish = common::bin_path("mp-login-finish");
    let mut cmd = env.std_command("script");
    cmd.env("MP_HEARTBEAT_SECS", "0.2").args([
        "-qec",
        &format!("{} '{redirect}'", finish.display()),
        "/dev/null",
    ]);
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    env.assert_no_secret(&text);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("\r| fetching /me… 0s") || text.contains("fetching /me… 1s"),
        "{text:?}"
    );
    assert!(
        text.contains("\r\x1b[2K"),
        "the spinner is cleared: {text:?}"
    );
    assert!(
        !text.contains("still fetching /me"),
        "no heartbeat lines on a terminal: {text:?}"
    );
}

#[test]
fn a_dropped_me_connection_is_retried() {
    let env = Env::new();
    env.idp
        .fault(mock_idp::Endpoint::Me, mock_idp::Fault::dropped().times(1));
    let run = env.login(&[], &[]);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(
        run.stderr.contains("retrying in 1 s (attempt 2 of 4)"),
        "{}",
        run.stderr
    );
    assert_eq!(env.calls("/api/app/me"), [0, 200]);
}

#[test]
fn a_me_that_keeps_dropping_is_a_network_error_with_the_placeholder_kept() {
    let env = Env::new();
    env.set_env("MP_HTTP_RETRIES", "1");
    env.idp
        .fault(mock_idp::Endpoint::Me, mock_idp::Fault::dropped());
    let run = env.login(&[], &[]);
    snapshot!("error_publish_failed_me_dropped", env.redact(&run));
    common::assert_publish_failed(&run, "HTTP_ERROR");
    assert_eq!(env.placeholders().len(), 1);
    assert_eq!(env.calls("/api/app/me"), [0, 0]);
}

#[test]
fn a_busy_accounts_large_me_is_published_without_member_lists() {
    let env = Env::new();
    env.idp.set_scenario(Scenario::Large { projects: 5000 });
    let run = env.login(&[], &[]);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_eq!(run.stdout["project_pick"]["accessible_project_count"], 5000);
    assert_eq!(
        run.stdout["project_pick"]["method"],
        "primary_org_lowest_id"
    );
    let me = env
        .accounts()
        .join(run.stdout["account"]["name"].as_str().unwrap())
        .join("me.json");
    let text = fs::read_to_string(&me).unwrap();
    assert!(!text.contains("member_list"), "member lists are dropped");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["projects"].as_object().unwrap().len(), 5000);
    assert_eq!(v["workspaces"].as_object().unwrap().len(), 5000);
}

/// Regression: in this pipe all three processes start at once, and finish used to look for the
/// inflight file before start had written it (OAUTH_INFLIGHT_MISSING). finish now reads its
/// input first (crates/core/src/login.rs, `finish`).
#[test]
fn the_three_way_pipe_works_because_finish_reads_stdin_before_the_inflight() {
    let env = Env::new();
    let dir = common::bin_path("mp-login-start")
        .parent()
        .unwrap()
        .to_path_buf();
    assert!(
        dir.join("mock-idp").exists(),
        "cargo test builds mock-idp (default-members)"
    );
    let pipe = format!(
        "{d}/mp-login-start | {d}/mock-idp approve | {d}/mp-login-finish",
        d = dir.display()
    );
    let mut bash = env.std_command("bash");
    bash.args(["-o", "pipefail", "-c", &pipe]);
    let run = env.finish_run(bash.output().unwrap());
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_eq!(run.stdout["command"], "mp-login-finish");
    assert_eq!(run.stdout["account"]["name"], "acme-analytics");
}

/// Regression: a finish removed whatever inflight file it found at the end,
/// including the one a `mp-login-start` had written while it was exchanging the code.
#[test]
fn a_finish_keeps_a_newer_login_started_meanwhile() {
    let env = Env::new();
    let first = env.start_and_approve(&[]);
    env.idp.fault(
        mock_idp::Endpoint::Token,
        mock_idp::Fault::delay(std::time::Duration::from_millis(800)).times(1),
    );
    let finish = env.spawn("mp-login-finish", &[&first]);
    env.wait_for_call("/oauth/token/");
    // A second login starts while the first is exchanging its code.
    let second = env.start_and_approve(&[]);
    let run = env.finish_run(finish.wait_with_output().unwrap());
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(
        env.inflight_path().exists(),
        "the newer login's inflight is kept"
    );
    let run = env.run("mp-login-finish", &[&second], None);
    assert_eq!(run.exit_code, 0, "{run:?}");
}
