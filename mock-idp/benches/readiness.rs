//! Readiness: from `mock-idp serve` process start to its `{"base_url":…}` line, against the
//! baseline of starting and reaping `/bin/true` in the same run (the cost of a process at all).
//! Run: `cargo bench -p mock-idp --bench readiness` (RUNS=N to change the 40 runs).
#![allow(clippy::print_stdout)]

#[path = "support/stats.rs"]
mod stats;

use std::path::Path;
use std::process::Command;

use mock_idp::process::Served;
use std::time::Instant;

fn main() {
    let runs = stats::runs(40);
    let bin = env!("CARGO_BIN_EXE_mock-idp");
    let mut ready = Vec::with_capacity(runs);
    let mut baseline = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let status = Command::new("/bin/true").status().unwrap();
        assert!(status.success());
        baseline.push(t.elapsed());

        let t = Instant::now();
        let served = Served::spawn(Path::new(bin), &["--port", "0"]).unwrap();
        ready.push(t.elapsed());
        assert!(
            served.base_url.starts_with("http://127.0.0.1:"),
            "{}",
            served.base_url
        );
        // Ready means accepting: one request must be answered.
        let url = format!("{}/__admin", served.base_url);
        assert!(reqwest::blocking::get(url).unwrap().status().is_success());
    }
    ready.sort();
    baseline.sort();
    let (r50, b50) = (
        stats::percentile(&ready, 0.5),
        stats::percentile(&baseline, 0.5),
    );
    println!("readiness over {runs} runs (process start → ready line):");
    println!(
        "  mock-idp serve  median {:.2} ms  p90 {:.2} ms  min {:.2} ms  max {:.2} ms",
        stats::ms(r50),
        stats::ms(stats::percentile(&ready, 0.9)),
        stats::ms(ready[0]),
        stats::ms(ready[runs - 1])
    );
    println!(
        "  /bin/true       median {:.2} ms  p90 {:.2} ms (baseline: spawn and reap a process)",
        stats::ms(b50),
        stats::ms(stats::percentile(&baseline, 0.9))
    );
    println!(
        "  ratio           {:.1}x the baseline median",
        r50.as_secs_f64() / b50.as_secs_f64()
    );
}
