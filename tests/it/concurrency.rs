//! Parallel logins: ten finishes at once, named and default-named, each with its
//! own inflight file, all publish, and every account is in `config.toml`.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::common::Env;
use mock_idp::{Endpoint, Fault};

const PARALLEL: usize = 10;
const ROUNDS: usize = 20;

#[test]
fn ten_parallel_finishes_all_publish_and_all_are_in_the_config() {
    for round in 0..ROUNDS {
        let env = Env::new();
        // /me is slow, so the finishes overlap in the publish step.
        env.idp
            .fault(Endpoint::Me, Fault::delay(Duration::from_millis(300)));
        let mut redirects = Vec::new();
        for i in 0..PARALLEL {
            let inflight = env.tmp.path().join(format!("inflight-{i}.json"));
            let inflight = inflight.to_str().unwrap().to_string();
            let redirect = env.start_and_approve(&["--inflight", &inflight]);
            redirects.push((inflight, redirect));
        }
        let children: Vec<_> = redirects
            .iter()
            .enumerate()
            .map(|(i, (inflight, redirect))| {
                let mut c = env.std_command("mp-login-finish");
                c.args(["--inflight", inflight, redirect]);
                // Half named, half default-named (all the same organization: suffixes race).
                if i % 2 == 0 {
                    c.args(["--name", &format!("named-{i}")]);
                }
                c.stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut names = BTreeSet::new();
        for child in children {
            let run = env.finish_run(child.wait_with_output().unwrap());
            assert_eq!(run.exit_code, 0, "round {round}: {run:?}");
            names.insert(run.stdout["account"]["name"].as_str().unwrap().to_string());
        }
        assert_eq!(names.len(), PARALLEL, "round {round}: {names:?}");
        let config: toml_edit::DocumentMut = std::fs::read_to_string(&env.config)
            .unwrap()
            .parse()
            .unwrap();
        let listed: BTreeSet<String> = config["accounts"]
            .as_table()
            .unwrap()
            .iter()
            .map(|(k, _)| k.to_string())
            .collect();
        assert_eq!(
            listed, names,
            "round {round}: every account is in config.toml"
        );
        assert!(env.placeholders().is_empty(), "round {round}");
    }
}
