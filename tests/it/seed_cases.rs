//! The seed's own autopick cases (its `tests/unit/test_resolve_project_autopick.py`,
//! `docs/pick.md#the-cascade`), all 19, as data: `tests/data/seed_autopick_cases.json` holds each `/me` body with the
//! outcome the seed's `_resolve_project(auto_pick=True)` gives, written by
//! `scripts/seed-autopick-cases.py` with the seed's python. Every case goes through the real
//! `mp-autopick`, which must print the same `project` and `project_pick`, or the same error.

use crate::common::Env;
use serde_json::Value;

#[test]
fn mp_autopick_agrees_with_the_seed_on_its_own_test_cases() {
    let env = Env::new();
    let cases: Vec<Value> =
        serde_json::from_str(include_str!("../data/seed_autopick_cases.json")).unwrap();
    assert_eq!(cases.len(), 19, "every row of `docs/pick.md#the-cascade`");
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let mut args = vec![];
        if let Some(p) = case["project"].as_str() {
            args = vec!["--project", p];
        }
        let run = env.run("mp-autopick", &args, Some(&case["me"].to_string()));
        let seed = &case["seed"];
        match seed.get("error") {
            None => {
                assert_eq!(run.exit_code, 0, "{name}: {run:?}");
                assert_eq!(run.stdout["project"], seed["project"], "{name}");
                assert_eq!(run.stdout["project_pick"], seed["project_pick"], "{name}");
            }
            Some(error) => {
                let kit = &run.stdout["error"];
                assert_eq!(kit["code"], error["code"], "{name}: {run:?}");
                let exit = match error["code"].as_str().unwrap() {
                    "NEEDS_REGION_SWITCH" => 6,
                    "PROJECT_NOT_FOUND" => 4,
                    other => panic!("{name}: unexpected seed error {other}"),
                };
                assert_eq!(run.exit_code, exit, "{name}");
                if error["code"] == "NEEDS_REGION_SWITCH" {
                    assert_eq!(kit["details"], error["details"], "{name}");
                    // The same sentence, naming the kit's command instead of the seed's.
                    let seeds = error["message"].as_str().unwrap();
                    assert_eq!(
                        kit["message"].as_str().unwrap(),
                        seeds.replace("mp login --start", "mp-login-start"),
                        "{name}"
                    );
                } else {
                    assert_eq!(kit["message"], error["message"], "{name}");
                    assert_eq!(
                        kit["details"]["available_projects"],
                        error["details"]["available_projects"],
                        "{name}"
                    );
                }
            }
        }
    }
}
