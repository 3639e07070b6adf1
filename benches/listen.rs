//! The listener's speed: from the browser's callback request to the page that says the account
//! is published (`mp-login-finish --listen`: exchange, `/me`, pick, publish, page), against the
//! baseline of the same login finished by a paste (`mp-login-finish URL`, process start to
//! exit), both on the in-process mock in the same run.
//! Run: `cargo bench -p mp-login --bench listen` (RUNS=N to change the 20 runs).
#![allow(clippy::print_stdout)]

#[path = "../mock-idp/benches/support/stats.rs"]
mod stats;

#[path = "../tests/it/common/net.rs"]
#[allow(dead_code)]
mod net;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mock_idp::MockIdp;

fn kit(bin: &str, home: &Path, idp: &MockIdp) -> Command {
    let exe = Path::new(env!("CARGO_BIN_EXE_mp-login-finish")).with_file_name(bin);
    let mut c = Command::new(exe);
    c.env("HOME", home)
        .env("MP_STORAGE_DIR", home.join(".mp"))
        .env("MP_CONFIG_PATH", home.join(".mp/config.toml"))
        .env("MP_BASE_URL", idp.base_url())
        .env("NO_PROXY", "*")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    c
}

/// A started login on a free port: its port and the redirect the approval gives.
fn started(home: &Path, idp: &MockIdp) -> (u16, String) {
    let port = net::free_port();
    let out = kit("mp-login-start", home, idp)
        .args(["--redirect-port", &port.to_string()])
        .output()
        .unwrap();
    let envelope: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let url = envelope["authorize_url"].as_str().unwrap();
    (port, mock_idp::client::approve(url).unwrap())
}

fn main() {
    let runs = stats::runs(20);
    let idp = MockIdp::start();
    let (mut callback, mut paste) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let home = tempfile::tempdir().unwrap();
        let (port, redirect) = started(home.path(), &idp);
        let listener = kit("mp-login-finish", home.path(), &idp)
            .arg("--listen")
            .spawn()
            .unwrap();
        net::wait_for_port(port);
        let t = Instant::now();
        let page = net::http_get(&redirect).unwrap();
        callback.push(t.elapsed());
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(listener.wait_with_output().unwrap().status.success());

        let home = tempfile::tempdir().unwrap();
        let (_, redirect) = started(home.path(), &idp);
        let t = Instant::now();
        let status = kit("mp-login-finish", home.path(), &idp)
            .arg(&redirect)
            .status()
            .unwrap();
        paste.push(t.elapsed());
        assert!(status.success());
    }
    callback.sort();
    paste.sort();
    let median = |d: &[Duration]| stats::percentile(d, 0.5);
    println!("a login finished over {runs} runs each (median, p90, max):");
    for (what, times) in [
        ("callback → published page   ", &callback),
        ("paste, start → exit (baseline)", &paste),
    ] {
        let [p50, p90, max] = [0.5, 0.9, 1.0].map(|p| stats::ms(stats::percentile(times, p)));
        println!("  {what}  {p50:.1} ms  {p90:.1} ms  {max:.1} ms");
    }
    println!(
        "  ratio of the medians: {:.2}x the baseline",
        median(&callback).as_secs_f64() / median(&paste).as_secs_f64()
    );
}
