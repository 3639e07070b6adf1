//! `/me` of a busy account (the mock's `large` scenario: 20,000 projects, 8 members per
//! workspace) through the kit's parse + pick, against the baseline of parsing it into a
//! `serde_json::Value` (building everything) in the same run.
//! Run: `cargo bench -p mp-login-core --bench me_parse` (PROJECTS=N, RUNS=N to change).
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use mp_login_core::autopick::pick;
use mp_login_core::me::MeBody;
use mp_login_core::region::Region;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let projects: usize = std::env::var("PROJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let body = mock_idp::scenario::wrap(mock_idp::Scenario::Large { projects }.me_body());
    let bytes = serde_json::to_vec(&body).unwrap();
    drop(body);
    let mut ours = Vec::new();
    let mut baseline = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        std::hint::black_box(&v);
        drop(v);
        baseline.push(t.elapsed());

        let t = Instant::now();
        let parsed = MeBody::parse(&bytes).unwrap();
        let p = pick(&parsed.me, Region::Us, None).unwrap();
        std::hint::black_box(&p);
        ours.push(t.elapsed());
        assert_eq!(parsed.me.projects.len(), projects);
    }
    let (o, b) = (median(ours), median(baseline));
    println!(
        "/me of {projects} projects, {:.1} MB, median of {runs} runs:",
        bytes.len() as f64 / 1e6
    );
    println!(
        "  MeBody::parse + pick           {:.1} ms",
        o.as_secs_f64() * 1000.0
    );
    println!(
        "  serde_json::Value (baseline)   {:.1} ms",
        b.as_secs_f64() * 1000.0
    );
    println!(
        "  ratio                          {:.2}x the baseline",
        o.as_secs_f64() / b.as_secs_f64()
    );
}
