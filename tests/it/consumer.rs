//! The seed's consumer, `mixpanel-plugin/commands/auth.md` (the two-shot section), driving the
//! kit: every field it reads, read from the kit's real envelopes, for start, each pick method it
//! renders, the region switch and a publish failure (`docs/seed.md#the-seed-is-the-reference`: nothing changed but the command
//! names).

use crate::common::{self, Env};
use mock_idp::Scenario;
use serde_json::Value;

fn text<'a>(v: &'a Value, path: &str) -> &'a str {
    path.split('.')
        .fold(v, |v, k| &v[k])
        .as_str()
        .unwrap_or_else(|| panic!("auth.md reads `{path}` as a string: {v}"))
}

fn int(v: &Value, path: &str) -> i64 {
    path.split('.')
        .fold(v, |v, k| &v[k])
        .as_i64()
        .unwrap_or_else(|| panic!("auth.md reads `{path}` as an integer: {v}"))
}

/// auth.md step 3: the sentence it shows for `project_pick.method`.
fn render(finish: &Value) -> String {
    let pick = &finish["project_pick"];
    let name = text(finish, "project.name");
    match text(pick, "method") {
        "explicit" => format!("Logged in to project `{}` as requested.", text(finish, "project.id")),
        "sole_survivor" => format!("Logged in to project `{name}` (your only active project)."),
        "sole_survivor_filtered" => format!(
            "Logged in to project `{name}` — the only non-demo, integrated project among your `{}` projects in this region.",
            int(pick, "region_compatible_count")
        ),
        "primary_org_lowest_id" => format!(
            "Logged in to project `{name}` — auto-picked from `{}` (your most-active org; `{}` projects there).",
            text(pick, "primary_org_name"),
            int(pick, "primary_org_survivor_count")
        ),
        "fallback_with_unintegrated" => {
            format!("Logged in to project `{name}` — note: this project hasn't received events.")
        }
        "fallback_with_demos" => {
            format!("Logged in to project `{name}` — note: all your projects are demos.")
        }
        other => panic!("auth.md has no rendering for method {other}"),
    }
}

#[test]
fn auth_md_drives_the_kit_through_every_envelope_it_reads() {
    // Start: `authorize_url` to show, and the other keys of its expected shape.
    let env = Env::new();
    let started = env.start(&[]);
    let s = &started.stdout;
    assert_eq!(s["schema_version"], 1);
    assert_eq!(s["state"], "ok");
    assert!(text(s, "authorize_url").contains("/oauth/authorize/?"));
    assert!(text(s, "redirect_uri").starts_with("http://localhost:"));
    assert!(int(s, "expires_at") > 1_700_000_000);
    assert_eq!(text(s, "region"), "us");
    assert!(text(s, "inflight_path").ends_with("inflight.json"));

    // Finish: one login per method auth.md renders.
    let mut cases = common::auto_pick_cases();
    cases.push((
        "explicit",
        Scenario::MultiOrg.me_body(),
        vec!["--project", "3102"],
    ));
    for (method, body, finish_args) in cases {
        let env = Env::new();
        env.idp.set_me(body);
        let run = env.login(&[], &finish_args);
        assert_eq!(run.exit_code, 0, "{method}: {run:?}");
        let f = &run.stdout;
        assert_eq!(f["state"], "ok");
        assert_eq!(text(f, "account.type"), "oauth_browser");
        assert!(!text(f, "account.name").is_empty());
        assert_eq!(text(f, "account.region"), "us");
        assert_eq!(text(f, "user.email"), "ada@example.com");
        assert_eq!(text(&f["project_pick"], "method"), method);
        assert_eq!(f["project_pick"]["auto_picked"], method != "explicit");
        int(&f["project_pick"], "accessible_project_count");
        assert_eq!(text(&f["next"][0], "command"), "mp project list");
        assert_eq!(text(&f["next"][1], "command"), "mp project use <id>");
        let shown = render(f);
        assert!(shown.starts_with("Logged in to project"), "{shown}");
    }

    // Step 4: exit 6 and the cross-region list.
    let env = Env::new();
    env.idp.set_scenario(Scenario::CrossRegion);
    let run = env.login(&[], &[]);
    assert_eq!(run.exit_code, 6);
    assert_eq!(run.stdout["state"], "error");
    assert_eq!(text(&run.stdout, "error.code"), "NEEDS_REGION_SWITCH");
    assert_eq!(text(&run.stdout, "error.details.auth_region"), "us");
    let cross = run.stdout["error"]["details"]["cross_region_projects"]
        .as_array()
        .unwrap();
    assert!(cross
        .iter()
        .all(|p| p["id"].is_string() && p["domain"].is_string()));
    assert_eq!(run.stdout["error"]["actionable"], true);

    // Step 5: a failure after the exchange names the placeholder and the command to resume.
    let env = Env::new();
    let (failed, placeholder) = env.failed_publish(&[], &[]);
    let message = text(&failed.stdout, "error.message");
    assert!(message.contains(placeholder.to_str().unwrap()), "{message}");
    assert_eq!(failed.stdout["error"]["actionable"], true);
    let command = text(&failed.stdout, "resume_hint.command");
    assert_eq!(text(&failed.stdout["next"][0], "command"), command);
    // The command it shows works as it stands.
    let words: Vec<&str> = command.split_whitespace().collect();
    let run = env.run(words[0], &words[1..], None);
    assert_eq!(run.exit_code, 0, "{run:?}");
}
