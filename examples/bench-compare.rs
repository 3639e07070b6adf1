//! `cargo make bench-compare`: the kit's cost on busy accounts, side by side with
//! other ways of reading the same bytes, in one run on bodies generated here.
//!
//! - `mp-autopick` on a ~67 MB `/me` (50,000 projects, 10,000 workspaces with member lists)
//!   and a ~500 MB one, against `jq` (when installed) and a floor: the same file read whole
//!   and skipped with serde `IgnoredAny` (`me-floor`). Medians of wall time, peak RSS (from
//!   `wait4`'s `ru_maxrss`), ratios.
//! - `mock-idp serve --scenario large --large-projects 50000`: time to ready, resident memory,
//!   one `/me` download.
//! - `mp-login-finish` and `mp-login-resume` against that mock: peak RSS.
//! - The whole start → approve → finish pipe on the small scenario: median wall time.
//!
//! Needs release binaries in `target/release` (the task builds them). `RUNS=N` sets the runs
//! per measurement (default 5; 3 on the 500 MB body).
#![allow(clippy::print_stdout)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use mock_idp::process::Served;
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// One run of a process: wall time and peak resident memory.
#[derive(Clone, Copy)]
struct Sample {
    wall: Duration,
    rss_kib: u64,
}

/// Runs `cmd` to its end (output dropped) and measures it; a failure is an error.
fn measure(cmd: &mut Command) -> Res<Sample> {
    let started = Instant::now();
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
    let (status, rss_kib) = reap(child)?;
    let wall = started.elapsed();
    if status != 0 {
        return Err(format!("{cmd:?} exited {status}").into());
    }
    Ok(Sample { wall, rss_kib })
}

/// Waits for `child` with `wait4`, which reports its peak RSS (KiB on Linux).
// This benchmark's one `unsafe`: wait4's rusage is the only per-child peak RSS, and neither
// rustix nor nix wraps wait4.
#[allow(unsafe_code)]
fn reap(child: Child) -> Res<(i32, u64)> {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: zeroed is a valid rusage; wait4 fills it for a child of this process.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::wait4(pid, &mut status, 0, &mut usage) } != pid {
        return Err(std::io::Error::last_os_error().into());
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok((code, usage.ru_maxrss as u64))
}

fn median(mut v: Vec<Sample>) -> Sample {
    v.sort_by_key(|s| s.wall);
    let wall = v[v.len() / 2].wall;
    let rss_kib = v.iter().map(|s| s.rss_kib).max().unwrap_or(0);
    Sample { wall, rss_kib }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn runs(default: usize) -> usize {
    std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn bin(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/release")
        .join(name)
}

/// Members per list in the benchmark's bodies.
const MEMBERS: usize = 23;

/// Writes a `large` body of 50,000 projects with `workspaces` workspaces, with `mock-idp body`
/// (in another process: `ru_maxrss` counts the parent's memory at the spawn, so this process
/// stays small).
fn body(path: &Path, workspaces: usize) -> Res<u64> {
    let status = Command::new(bin("mock-idp"))
        .args(["body", "--scenario", "large", "--large-projects", "50000"])
        .args(["--workspaces", &workspaces.to_string()])
        .args(["--members", &MEMBERS.to_string()])
        .stdout(File::create(path)?)
        .status()?;
    if !status.success() {
        return Err("mock-idp body failed".into());
    }
    Ok(std::fs::metadata(path)?.len())
}

/// The targets the issue sets, printed as met or missed (never a failure: a busy machine
/// makes times noisy, and the figures are what this prints).
fn target(what: &str, met: bool) {
    println!("  target {}: {what}", if met { "met   " } else { "MISSED" });
}

/// `mp-autopick`, `jq` and the floor on one generated body (removed afterwards), `n` runs each.
fn autopick_side_by_side(
    dir: &Path,
    workspaces: usize,
    n: usize,
) -> Res<(Sample, Sample, Option<Sample>)> {
    let file = dir.join(format!("me-{workspaces}.json"));
    let size = body(&file, workspaces)?;
    let path = file.as_path();
    let time = |cmd: &mut dyn FnMut() -> Command| -> Res<Sample> {
        let mut samples = Vec::new();
        for _ in 0..n {
            samples.push(measure(&mut cmd())?);
        }
        Ok(median(samples))
    };
    let kit = time(&mut || {
        let mut c = Command::new(bin("mp-autopick"));
        c.arg("--me").arg(path);
        c
    })?;
    let floor = time(&mut || {
        let mut c = Command::new(bin("examples/me-floor"));
        c.arg(path);
        c
    })?;
    let typed = time(&mut || {
        let mut c = Command::new(bin("examples/me-serde"));
        c.arg(path);
        c
    })?;
    let jq = if Command::new("jq").arg("--version").output().is_ok() {
        Some(time(&mut || {
            let mut c = Command::new("jq");
            c.arg(".results.projects|length").arg(path);
            c
        })?)
    } else {
        None
    };
    std::fs::remove_file(&file)?;
    println!(
        "\n/me of 50,000 projects, {workspaces} workspaces x 2 x {MEMBERS} members: {:.1} MB, median of {n} runs (peak RSS: the largest of the runs)",
        size as f64 / 1e6
    );
    println!(
        "  {:<34} {:>9} {:>11} {:>9}",
        "", "wall", "peak RSS", "vs floor"
    );
    let row = |name: &str, s: Sample| {
        println!(
            "  {name:<34} {:>7.3} s {:>7.1} MiB {:>8.2}x",
            s.wall.as_secs_f64(),
            mib(s.rss_kib),
            s.wall.as_secs_f64() / floor.wall.as_secs_f64()
        )
    };
    row("mp-autopick (streaming)", kit);
    row("floor: read + serde IgnoredAny", floor);
    row("serde_json::from_reader, typed", typed);
    println!(
        "  the kit's reader against serde's typed from_reader: {:.2}x the time, {:.2}x the memory",
        kit.wall.as_secs_f64() / typed.wall.as_secs_f64(),
        kit.rss_kib as f64 / typed.rss_kib as f64
    );
    match jq {
        Some(jq) => {
            row("jq '.results.projects|length'", jq);
            println!(
                "  mp-autopick is {:.1}x faster than jq, in {:.1}x less memory",
                jq.wall.as_secs_f64() / kit.wall.as_secs_f64(),
                jq.rss_kib as f64 / kit.rss_kib as f64
            );
        }
        None => println!("  jq: not installed"),
    }
    Ok((kit, floor, jq))
}

/// `mock-idp serve ARGS…` and the time until its ready line.
fn serve(args: &[&str]) -> Res<(Served, Duration)> {
    let started = Instant::now();
    let served = Served::spawn(&bin("mock-idp"), args)?;
    Ok((served, started.elapsed()))
}

/// A process's (VmRSS, VmHWM) in KiB.
fn rss(process: &Served) -> Res<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", process.child.id()))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}

/// The kit's binaries with a storage of their own, against `mock`.
fn kit(cmd: &str, home: &Path, mock: &Served) -> Command {
    let mut c = Command::new(bin(cmd));
    c.env("MP_STORAGE_DIR", home.join(".mp"))
        .env("MP_CONFIG_PATH", home.join(".mp/config.toml"))
        .env("MP_BASE_URL", &mock.base_url)
        .env_remove("MP_ACCOUNT")
        .env_remove("MP_PROJECT_ID");
    c
}

/// `mp-login-start`, then the scripted approval: the redirect URL.
fn start_and_approve(home: &Path, mock: &Served) -> Res<String> {
    let out = kit("mp-login-start", home, mock)
        .stderr(Stdio::null())
        .output()?;
    let envelope: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let url = envelope["authorize_url"].as_str().ok_or("start failed")?;
    Ok(mock_idp::client::approve(url)?)
}

fn main() -> Res<()> {
    let dir = tempfile::tempdir()?;
    println!(
        "cargo make bench-compare: release binaries, this machine ({} cores)",
        std::thread::available_parallelism()?.get()
    );
    autopick(dir.path())?;
    let (mock, me_len) = large_mock()?;
    finish_and_resume(dir.path(), &mock, me_len)?;
    drop(mock);
    small_pipe(dir.path())
}

/// `mp-autopick` beside `jq` and the floor, on ~67 MB and ~500 MB.
fn autopick(dir: &Path) -> Res<()> {
    let (kit67, floor67, jq67) = autopick_side_by_side(dir, 10_000, runs(5))?;
    let (kit500, _, _) = autopick_side_by_side(dir, 84_000, runs(3))?;
    println!();
    if let Some(jq) = jq67 {
        target(
            "mp-autopick >= 10x faster than jq on ~67 MB",
            jq.wall.as_secs_f64() >= 10.0 * kit67.wall.as_secs_f64(),
        );
    }
    target(
        "mp-autopick within 1.3x of the floor on ~67 MB",
        kit67.wall.as_secs_f64() <= 1.3 * floor67.wall.as_secs_f64(),
    );
    target(
        "mp-autopick peak < 16 MiB on ~67 MB and ~500 MB",
        kit67.rss_kib.max(kit500.rss_kib) < 16 * 1024,
    );
    Ok(())
}

/// The mock with `large` at 50,000 projects: ready time, memory, one `/me` download. The
/// mock stays up for `finish_and_resume`; with it, its `/me` size.
fn large_mock() -> Res<(Served, u64)> {
    let (mock, ready) = serve(&["--scenario", "large", "--large-projects", "50000"])?;
    std::thread::sleep(Duration::from_millis(300));
    let (idle, _) = rss(&mock)?;
    let (_, tokens) = mock_idp::client::Client::new(&mock.base_url).login();
    let token = tokens["access_token"].as_str().ok_or("no access token")?;
    let http = reqwest::blocking::Client::new();
    let t = Instant::now();
    let mut answer = http
        .get(format!("{}/api/app/me", mock.base_url))
        .bearer_auth(token)
        .send()?;
    if !answer.status().is_success() {
        return Err(format!("/me answered {}", answer.status()).into());
    }
    // Counted, not kept: see `body`.
    let me_len = std::io::copy(&mut answer, &mut std::io::sink())?;
    let download = t.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    let (after, peak) = rss(&mock)?;
    println!(
        "\nmock-idp serve --scenario large --large-projects 50000: /me {:.1} MB\n  ready in {:.2} s; resident {:.0} MiB idle ({:.2}x the body), {:.0} MiB after one /me (peak {:.0} MiB); /me downloaded in {:.3} s",
        me_len as f64 / 1e6,
        ready.as_secs_f64(),
        mib(idle),
        idle as f64 * 1024.0 / me_len as f64,
        mib(after),
        mib(peak),
        download.as_secs_f64()
    );
    target("mock ready in < 2 s", ready < Duration::from_secs(2));
    target(
        "mock resident < 2x the /me body",
        (after.max(idle) as f64 * 1024.0) < 2.0 * me_len as f64,
    );
    target(
        "/me downloaded in < 0.3 s",
        download < Duration::from_millis(300),
    );
    Ok((mock, me_len))
}

/// `mp-login-finish`, and `mp-login-resume` fetching `/me` again, against the large mock
/// (its `/me` is `me_len` bytes): peak RSS.
fn finish_and_resume(dir: &Path, mock: &Served, me_len: u64) -> Res<()> {
    let home = dir.join("home-large");
    let redirect = start_and_approve(&home, mock)?;
    let finish = measure(kit("mp-login-finish", &home, mock).arg(&redirect))?;
    // A second login whose name is taken fails after /me, keeping the placeholder; without
    // its me.json, resume fetches /me again.
    let redirect = start_and_approve(&home, mock)?;
    let out = kit("mp-login-finish", &home, mock)
        .arg(&redirect)
        .args(["--name", "org-0"])
        .stderr(Stdio::null())
        .output()?;
    let envelope: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let placeholder = envelope["error"]["details"]["placeholder_dir"]
        .as_str()
        .ok_or("no placeholder")?
        .to_string();
    std::fs::remove_file(Path::new(&placeholder).join("me.json"))?;
    let resume =
        measure(kit("mp-login-resume", &home, mock).args([&placeholder, "--name", "large-again"]))?;
    println!(
        "\nmp-login-finish on the {:.0} MB /me: {:.2} s, peak {:.1} MiB\nmp-login-resume fetching it again: {:.2} s, peak {:.1} MiB",
        me_len as f64 / 1e6,
        finish.wall.as_secs_f64(),
        mib(finish.rss_kib),
        resume.wall.as_secs_f64(),
        mib(resume.rss_kib)
    );
    target(
        "finish and resume peak < 32 MiB",
        finish.rss_kib.max(resume.rss_kib) < 32 * 1024,
    );
    Ok(())
}

/// The small pipe: start -> approve -> finish on `single`, each a fresh storage.
fn small_pipe(dir: &Path) -> Res<()> {
    let (mock, _) = serve(&["--scenario", "single"])?;
    let mut pipes = Vec::new();
    for i in 0..runs(5) * 4 {
        let home = dir.join(format!("home-{i}"));
        let t = Instant::now();
        let redirect = start_and_approve(&home, &mock)?;
        measure(kit("mp-login-finish", &home, &mock).arg(&redirect))?;
        pipes.push(Sample {
            wall: t.elapsed(),
            rss_kib: 0,
        });
    }
    let pipe = median(pipes.clone());
    println!(
        "\nstart -> approve -> finish on `single`: median {:.1} ms of {} runs",
        pipe.wall.as_secs_f64() * 1000.0,
        pipes.len()
    );
    target(
        "the small pipe < 50 ms",
        pipe.wall < Duration::from_millis(50),
    );
    Ok(())
}
