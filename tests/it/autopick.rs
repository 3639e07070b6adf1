//! `mp-autopick`: the cascade of `docs/pick.md#the-cascade` as a stdin → stdout filter, one snapshot per method,
//! and properties: the key order of projects never changes the pick, the pick is always
//! region-compatible.

use crate::common::{self, Env};
use mock_idp::scenario::{wrap, MeBuilder};
use mock_idp::Scenario;
use mp_login_core::autopick::{pick, Requested};
use mp_login_core::me::MeBody;
use mp_login_core::region::Region;
use proptest::prelude::*;
use serde_json::Value;

fn autopick(env: &Env, body: &Value, args: &[&str]) -> common::Run {
    env.run("mp-autopick", args, Some(&body.to_string()))
}

#[test]
fn one_snapshot_per_method() {
    let env = Env::new();
    let mut cases = common::auto_pick_cases();
    cases.push((
        "explicit",
        Scenario::MultiOrg.me_body(),
        vec!["--project", "3002"],
    ));
    cases.push(("no_projects", MeBuilder::new().build(), vec![]));
    for (method, body, args) in cases {
        // Wrapped like the real API and bare: the same pick.
        let run = autopick(&env, &wrap(body.clone()), &args);
        assert_eq!(run.stdout["project_pick"]["method"], method, "{run:?}");
        assert_eq!(autopick(&env, &body, &args).stdout, run.stdout);
        snapshot!(format!("autopick_{method}"), env.redact(&run));
    }
    let mut c = env.command("mp-autopick");
    c.env("MP_PROJECT_ID", "3103")
        .write_stdin(Scenario::MultiOrg.me_body().to_string());
    let run = env.finish_run(c.output().unwrap());
    snapshot!("autopick_env", env.redact(&run));
    // MP_PROJECT_ID is an explicit pick, as in the seed.
    assert_eq!(run.stdout["project_pick"]["method"], "explicit");
    assert_eq!(run.stdout["project"]["id"], "3103");
}

#[test]
fn reads_me_from_a_file_and_honours_the_region() {
    let env = Env::new();
    let file = env.tmp.path().join("me.json");
    std::fs::write(&file, wrap(Scenario::CrossRegion.me_body()).to_string()).unwrap();
    let run = env.run(
        "mp-autopick",
        &["--me", file.to_str().unwrap(), "--region", "eu"],
        None,
    );
    assert_eq!(run.exit_code, 0);
    assert_eq!(run.stdout["project"]["id"], "3001");
    let run = env.run("mp-autopick", &["--me", file.to_str().unwrap()], None);
    snapshot!("autopick_needs_region_switch", env.redact(&run));
    assert_eq!(run.exit_code, 6);
}

#[test]
fn errors_of_the_filter() {
    let env = Env::new();
    let run = env.run("mp-autopick", &[], Some("this is not json"));
    snapshot!("autopick_not_json", env.redact(&run));
    assert_eq!(run.exit_code, 3);
    let run = autopick(&env, &Scenario::Single.me_body(), &["--project", "42"]);
    assert_eq!(run.failure(), (4, "PROJECT_NOT_FOUND"));
    let mut c = env.command("mp-autopick");
    c.env("MP_PROJECT_ID", "42")
        .write_stdin(Scenario::Single.me_body().to_string());
    let run = env.finish_run(c.output().unwrap());
    assert_eq!(run.failure(), (1, "CONFIG_ERROR"));
    let run = env.run("mp-autopick", &["--me", "/nonexistent/me.json"], None);
    assert_eq!(run.exit_code, 3);
}

/// A project as the property tests generate it: (id, org, domain index, demo, integrated).
type Gen = (u16, u8, u8, bool, Option<bool>);

const DOMAINS: [Option<&str>; 6] = [
    Some("mixpanel.com"),
    Some("eu.mixpanel.com"),
    Some("data-in.mixpanel.com"),
    Some("https://data-eu.mixpanel.com/"),
    Some("example.com"),
    None,
];

/// The `/me` JSON text with its objects' keys in the order given.
fn me_text(projects: &[Gen], orgs: &[u8], wrapped: bool) -> String {
    let projects: Vec<String> = projects
        .iter()
        .map(|(id, org, d, demo, integrated)| {
            let mut fields = vec![
                format!("\"name\":\"P{id}\""),
                format!("\"organization_id\":{org}"),
                format!("\"is_demo\":{demo}"),
            ];
            if let Some(d) = DOMAINS[*d as usize % DOMAINS.len()] {
                fields.push(format!("\"domain\":\"{d}\""));
            }
            if let Some(i) = integrated {
                fields.push(format!("\"has_integrated\":{i}"));
            }
            format!("\"{id}\":{{{}}}", fields.join(","))
        })
        .collect();
    let orgs: Vec<String> = orgs
        .iter()
        .map(|o| format!("\"{o}\":{{\"name\":\"Org {o}\"}}"))
        .collect();
    let body = format!(
        "{{\"projects\":{{{}}},\"organizations\":{{{}}}}}",
        projects.join(","),
        orgs.join(",")
    );
    if wrapped {
        format!("{{\"status\":\"ok\",\"results\":{body}}}")
    } else {
        body
    }
}

fn dedup(projects: Vec<Gen>) -> Vec<Gen> {
    let mut seen = std::collections::HashSet::new();
    projects.into_iter().filter(|p| seen.insert(p.0)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn key_order_never_changes_the_pick(
        projects in proptest::collection::vec((0u16..500, 0u8..5, 0u8..6, any::<bool>(), proptest::option::of(any::<bool>())), 0..25),
        region in prop_oneof![Just(Region::Us), Just(Region::Eu), Just(Region::In)],
        seed in any::<u64>(),
    ) {
        let projects = dedup(projects);
        let orgs: Vec<u8> = (0..5).collect();
        let mut shuffled = projects.clone();
        let mut shuffled_orgs = orgs.clone();
        // A deterministic shuffle from the seed.
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        shuffled_orgs.reverse();
        let a = me_text(&projects, &orgs, false);
        let b = me_text(&shuffled, &shuffled_orgs, true);
        let me_a = MeBody::parse(a.as_bytes()).unwrap().me;
        let me_b = MeBody::parse(b.as_bytes()).unwrap().me;
        let pick_a = pick(&me_a, region, None).map_err(|e| e.code());
        let pick_b = pick(&me_b, region, None).map_err(|e| e.code());
        prop_assert_eq!(&pick_a, &pick_b);
        let requested = projects.first().map(|p| Requested::Explicit(p.0.to_string()));
        let exp_a = pick(&me_a, region, requested.as_ref()).map_err(|e| e.code());
        let exp_b = pick(&me_b, region, requested.as_ref()).map_err(|e| e.code());
        prop_assert_eq!(exp_a, exp_b);
    }

    #[test]
    fn the_pick_is_always_region_compatible(
        projects in proptest::collection::vec((0u16..500, 0u8..5, 0u8..6, any::<bool>(), proptest::option::of(any::<bool>())), 1..25),
        region in prop_oneof![Just(Region::Us), Just(Region::Eu), Just(Region::In)],
    ) {
        let projects = dedup(projects);
        let me = MeBody::parse(me_text(&projects, &[0, 1, 2, 3, 4], false).as_bytes()).unwrap().me;
        match pick(&me, region, None) {
            Ok(p) => {
                let id = p.project.expect("projects exist, so one is picked").id;
                let chosen = me.project(&id).unwrap();
                prop_assert!(chosen.is_compatible_with(region));
                let c = p.project_pick;
                prop_assert!(c.filtered_count + c.demo_excluded + c.unintegrated_excluded == c.region_compatible_count);
                prop_assert!(c.region_compatible_count <= c.accessible_project_count);
                prop_assert!(c.auto_picked);
            }
            Err(e) => {
                prop_assert_eq!(e.code(), "NEEDS_REGION_SWITCH");
                prop_assert!(me.projects.iter().all(|p| !p.is_compatible_with(region)));
            }
        }
    }
}

/// Regression: bodies the seed's `json.loads` + `MeResponse` accept were refused: a UTF-8 BOM,
/// UTF-16 and UTF-32 (Python detects them), a lone surrogate escape in a name (an emoji cut in
/// half), an `organization_id` of `7.0` or `true` (pydantic's lax int). They are read now.
#[test]
fn bodies_the_seed_accepts_are_read() {
    let env = Env::new();
    let text = r#"{"organizations":{"7":{"id":7,"name":"Acme"}},"projects":{"90":{"name":"Launch \ud83d","organization_id":7.0,"has_integrated":true},"91":{"name":"B","organization_id":true,"has_integrated":true},"92":{"name":"C","organization_id":"7","has_integrated":true}}}"#;
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let utf32: Vec<u8> = text
        .chars()
        .flat_map(|c| (c as u32).to_be_bytes())
        .collect();
    let bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
    for body in [text.as_bytes().to_vec(), bom, utf16, utf32] {
        let out = env
            .command("mp-autopick")
            .write_stdin(body)
            .output()
            .unwrap();
        let run = env.finish_run(out);
        assert_eq!(run.exit_code, 0, "{run:?}");
        assert_eq!(run.stdout["project"]["id"], "90");
        assert_eq!(run.stdout["project"]["name"], "Launch \u{fffd}");
        assert_eq!(run.stdout["project_pick"]["primary_org_id"], "7");
        assert_eq!(run.stdout["project_pick"]["primary_org_survivor_count"], 2);
    }
}
