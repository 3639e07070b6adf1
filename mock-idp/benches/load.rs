//! Load: 200 full flows (register, authorize, token, /me) from 16 concurrent clients against one
//! standalone `mock-idp serve`, every answer checked. Reports flows per second, the server's
//! peak memory (VmHWM) and that the journal stayed within its capacity; the baseline, in the
//! same run and from the same clients, is as many plain `GET /__admin` requests (the server's
//! cost of a request at all).
//! Run: `cargo bench -p mock-idp --bench load` (FLOWS=N, CLIENTS=N to change).
#![allow(clippy::print_stdout)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use mock_idp::process::Served;
use reqwest::blocking::Client;
use serde_json::Value;

const JOURNAL_CAPACITY: usize = 100;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One full flow; panics on any wrong answer.
fn flow(http: &Client, base: &str) {
    let oauth = mock_idp::client::Client {
        http: http.clone(),
        base: base.to_string(),
    };
    let (_, tokens) = oauth.login();
    let access = tokens["access_token"].as_str().expect("an access token");
    let me: Value = http
        .get(format!("{base}/api/app/me"))
        .bearer_auth(access)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        me["results"]["projects"].as_object().map(|p| p.len()),
        Some(1)
    );
}

/// Runs `total` jobs over `clients` threads; returns the seconds it took.
fn run(clients: usize, total: usize, job: impl Fn(&Client) + Sync) -> f64 {
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..clients {
            s.spawn(|| {
                let http = Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap();
                while next.fetch_add(1, Ordering::Relaxed) < total {
                    job(&http);
                }
            });
        }
    });
    start.elapsed().as_secs_f64()
}

fn vm_hwm_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

fn main() {
    let flows = env_usize("FLOWS", 200);
    let clients = env_usize("CLIENTS", 16);
    let capacity = JOURNAL_CAPACITY.to_string();
    let served = Served::spawn(
        std::path::Path::new(env!("CARGO_BIN_EXE_mock-idp")),
        &["--journal-capacity", &capacity],
    )
    .unwrap();
    let base = served.base_url.clone();
    let pid = served.child.id();
    let idle_kib = vm_hwm_kib(pid);

    let baseline_requests = flows * 4;
    let baseline = run(clients, baseline_requests, |http| {
        assert!(http
            .get(format!("{base}/__admin"))
            .send()
            .unwrap()
            .status()
            .is_success());
    });
    let secs = run(clients, flows, |http| flow(http, &base));
    let peak_kib = vm_hwm_kib(pid);
    let journal: Value = reqwest::blocking::get(format!("{base}/__admin/journal"))
        .unwrap()
        .json()
        .unwrap();
    let kept = journal["entries"].as_array().unwrap().len();
    let total = journal["total"].as_u64().unwrap();
    drop(served);

    assert_eq!(
        total,
        4 * flows as u64,
        "every flow request was journaled once"
    );
    assert!(
        kept <= JOURNAL_CAPACITY,
        "the journal kept {kept} > {JOURNAL_CAPACITY}"
    );
    println!("load: {flows} full flows (register, authorize, token, /me) from {clients} concurrent clients, all correct");
    println!(
        "  flows           {:.2} s  {:.0} flows/s  ({:.0} requests/s)",
        secs,
        flows as f64 / secs,
        4.0 * flows as f64 / secs
    );
    println!(
        "  baseline        {baseline_requests} GET /__admin in {:.2} s  {:.0} requests/s",
        baseline,
        baseline_requests as f64 / baseline
    );
    println!(
        "  ratio           a flow request costs {:.2}x a baseline request",
        (secs / (4 * flows) as f64) / (baseline / baseline_requests as f64)
    );
    println!(
        "  server memory   peak {:.1} MiB (VmHWM), {:.1} MiB when idle",
        peak_kib as f64 / 1024.0,
        idle_kib as f64 / 1024.0
    );
    println!(
        "  journal         {kept} entries kept of {total} requests (capacity {JOURNAL_CAPACITY})"
    );
}
