//! The crash test: the real `mp-login-finish` and `mp-login-resume` killed with SIGKILL
//! at every durable system call of the login (each `mkdir`, `write`, `fsync`, `rename` and
//! `unlink`, by `strace -e inject=SYSCALL:signal=KILL:when=N`), then recovered by the rule
//! `docs/recovery.md` gives:
//!
//! 1. `config.toml` lists the account: it was published before the kill;
//! 2. else `mp-login-start` lists what is recoverable: `mp-login-resume <dir>` publishes it;
//! 3. else the inflight file is still there: the same `mp-login-finish` again (the kill came
//!    before the code was sent, or after it was spent but before the tokens reached disk: then
//!    the code is refused and the login starts over; counted as `lost`).
//!
//! After each recovery exactly one account is published, its tokens are ones the mock issued,
//! and no temp file of an atomic write is left. Needs strace; run by `cargo make crash-test`.
#![allow(clippy::print_stderr)] // the figures of the run are the report

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

use crate::common::{self, read_json, Env};
use mock_idp::{Endpoint, Fault};

const SYSCALLS: [&str; 5] = ["mkdir", "write", "fsync", "rename", "unlink"];

#[derive(Default, Debug)]
struct Tally {
    kill_points: usize,
    published_before_kill: usize,
    resumed: usize,
    finished_again: usize,
    lost: usize,
    /// The kill points after which the login had to start over.
    lost_at: Vec<String>,
}

/// Runs `bin args` under strace, which sends `signal` at the `n`th `syscall`; also says whether
/// that call came.
fn signalled_at(
    env: &Env,
    signal: &str,
    syscall: &str,
    n: usize,
    bin: &str,
    args: &[&str],
) -> (std::process::Output, bool) {
    signalled_with_stdin(env, signal, syscall, n, bin, args, None)
}

/// [`signalled_at`], with stdin read from `stdin` (a paste for a listener).
fn signalled_with_stdin(
    env: &Env,
    signal: &str,
    syscall: &str,
    n: usize,
    bin: &str,
    args: &[&str],
    stdin: Option<&Path>,
) -> (std::process::Output, bool) {
    let log = env.tmp.path().join("strace.log");
    let mut c = env.std_command("strace");
    c.args(["-f", "-qq", "-o"])
        .arg(&log)
        .arg("-e")
        .arg(format!("trace={syscall}"))
        .arg("-e")
        .arg(format!("inject={syscall}:signal={signal}:when={n}"))
        .arg(common::bin_path(bin))
        .args(args)
        .stdin(match stdin {
            Some(path) => fs::File::open(path).expect("the paste").into(),
            None => std::process::Stdio::null(),
        });
    let out = output_within(c, HANG);
    // mp-token's stdout is the token by design.
    if bin != "mp-token" {
        env.assert_no_secret(&String::from_utf8_lossy(&out.stdout));
    }
    env.assert_no_secret(&String::from_utf8_lossy(&out.stderr));
    // An injected signal is logged with `si_code=SI_KERNEL`; a SIGKILL only as the death.
    let injected = fs::read_to_string(&log)
        .is_ok_and(|l| l.contains("si_code=SI_KERNEL") || l.contains("+++ killed by SIGKILL"));
    (out, injected)
}

/// Longer than any run of the matrices takes: a run still going then is stuck.
const HANG: std::time::Duration = std::time::Duration::from_secs(120);

/// `c`'s output, failing the test (and killing strace and the run it traces) when it has not
/// ended within `limit`: a stop that never comes must fail, not hang.
fn output_within(mut c: std::process::Command, limit: std::time::Duration) -> std::process::Output {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("strace runs");
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = read(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = read(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("strace runs") {
            break status;
        }
        if started.elapsed() > limit {
            // The traced run first: killed, strace would leave it running, detached.
            let _ = std::process::Command::new("pkill")
                .args(["-KILL", "-P", &child.id().to_string()])
                .status();
            let _ = child.kill();
            let _ = child.wait();
            let said = String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned();
            panic!("the run did not end within {limit:?}: {said}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    std::process::Output {
        status,
        stdout: stdout.join().expect("stdout"),
        stderr: stderr.join().expect("stderr"),
    }
}

/// Runs `bin args` killed at the `n`th `syscall`; `false` when it ran to its end first.
fn killed_at(env: &Env, syscall: &str, n: usize, bin: &str, args: &[&str]) -> bool {
    killed_with_stdin(env, syscall, n, bin, args, None)
}

fn killed_with_stdin(
    env: &Env,
    syscall: &str,
    n: usize,
    bin: &str,
    args: &[&str],
    stdin: Option<&Path>,
) -> bool {
    let (out, injected) = signalled_with_stdin(env, "KILL", syscall, n, bin, args, stdin);
    assert!(
        !injected || out.status.signal() == Some(9),
        "{:?}",
        out.status
    );
    injected
}

/// Every file below `dir` that is the temp file of an atomic write.
fn temp_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(rd) = fs::read_dir(dir) else {
        return found;
    };
    for e in rd.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            found.extend(temp_files(&p));
        } else if name.starts_with('.') && name.contains(".tmp-") {
            found.push(p.display().to_string());
        }
    }
    found
}

/// The recovery rule of `docs/recovery.md`; returns how the login ended up published.
fn recover(env: &Env, redirect: &str, tally: &mut Tally) {
    if listed(env) == 1 {
        tally.published_before_kill += 1;
    } else {
        // A start on another inflight file, so the one in progress stays as it is.
        let other = env.tmp.path().join("probe-inflight.json");
        let started = env.start(&["--inflight", other.to_str().unwrap()]);
        let recoverable = started.stdout["recoverable"].as_array().cloned();
        if let Some(found) = recoverable {
            assert_eq!(found.len(), 1, "{found:?}");
            let command = found[0]["resume_command"].as_str().unwrap();
            let words: Vec<&str> = command.split_whitespace().collect();
            let run = env.run(words[0], &words[1..], None);
            assert_eq!(run.exit_code, 0, "resume after the kill: {run:?}");
            tally.resumed += 1;
        } else {
            assert!(env.inflight_path().exists(), "nothing to recover from");
            let run = env.run("mp-login-finish", &[redirect], None);
            match run.exit_code {
                0 => tally.finished_again += 1,
                _ => {
                    // The window no kit can close: the token answer had arrived (the mock
                    // issued tokens for this code) and the kill came before any byte of them
                    // reached the disk.
                    assert_eq!(
                        run.stdout["error"]["details"]["error"], "invalid_grant",
                        "{run:?}"
                    );
                    assert_eq!(env.calls("/oauth/token/")[0], 200, "the code was spent");
                    tally.lost += 1;
                    return;
                }
            }
        }
    }
    assert_one_account(env);
}

/// How many accounts `config.toml` lists.
fn listed(env: &Env) -> usize {
    fs::read_to_string(&env.config)
        .ok()
        .and_then(|t| t.parse::<toml_edit::DocumentMut>().ok())
        .and_then(|d| {
            d.get("accounts")
                .and_then(|a| a.as_table())
                .map(|t| t.len())
        })
        .unwrap_or(0)
}

/// After a recovery: exactly one account, holding tokens the mock issued, and no temp file but
/// those of a placeholder that never got tokens.
fn assert_one_account(env: &Env) {
    assert_eq!(listed(env), 1, "exactly one account is published");
    let accounts: Vec<_> = fs::read_dir(env.accounts())
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("tokens.json").exists())
        .collect();
    assert_eq!(accounts.len(), 1, "one directory holds tokens");
    let tokens = read_json(&accounts[0].path().join("tokens.json"));
    let issued = env.idp.issued_secrets();
    assert!(issued.contains(&tokens["access_token"].as_str().unwrap().to_string()));
    // A placeholder the kill left before any tokens stays until it is older than the longest
    // login (the sweep cannot tell it from a lockless login still filling it); nothing else
    // may hold a temp file.
    let temps: Vec<String> = temp_files(&env.storage)
        .into_iter()
        .filter(|t| {
            let dir = Path::new(t).parent().unwrap();
            let placeholder = dir
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".tmp-");
            !placeholder || dir.join("tokens.json").exists()
        })
        .collect();
    assert!(temps.is_empty(), "temp files left: {temps:?}");
}

#[test]
#[ignore = "needs strace; run by `cargo make crash-test`"]
fn finish_and_resume_killed_at_every_durable_step_lose_nothing() {
    let mut finish = Tally::default();
    for syscall in SYSCALLS {
        for n in 1.. {
            let env = Env::new();
            let redirect = env.start_and_approve(&[]);
            if !killed_at(&env, syscall, n, "mp-login-finish", &[&redirect]) {
                break;
            }
            finish.kill_points += 1;
            let lost = finish.lost;
            recover(&env, &redirect, &mut finish);
            if finish.lost > lost {
                finish.lost_at.push(format!("{syscall} #{n}"));
            }
        }
    }
    let mut resume = Tally::default();
    for syscall in SYSCALLS {
        for n in 1.. {
            let env = Env::new();
            let (_, placeholder) = env.failed_publish(&[], &[]);
            let redirect = "unused: resume has no redirect";
            if !killed_at(
                &env,
                syscall,
                n,
                "mp-login-resume",
                &[placeholder.to_str().unwrap()],
            ) {
                break;
            }
            resume.kill_points += 1;
            recover(&env, redirect, &mut resume);
        }
    }
    eprintln!("crash test, finish: {finish:?}");
    eprintln!("crash test, resume: {resume:?}");
    assert!(finish.kill_points >= 30, "{finish:?}");
    // Only kills inside the exchange, between its answer and the first write of the tokens.
    assert!(finish.lost <= 3, "{finish:?}");
    assert!(resume.kill_points >= 15, "{resume:?}");
    assert_eq!(resume.lost, 0);
}

/// Whether a placeholder holds tokens: `tokens.json`, or a complete temp file of it.
fn tokens_on_disk(env: &Env) -> bool {
    env.placeholders().iter().any(|dir| {
        fs::read_dir(dir).unwrap().flatten().any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name == "tokens.json" || name.starts_with(".tokens.json.tmp-"))
                && fs::read_to_string(e.path())
                    .ok()
                    .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                    .is_some_and(|t| t["access_token"].is_string())
        })
    })
}

/// `mp-login-finish --listen`, the redirect pasted on its stdin, killed at every durable system
/// call; then the person pastes the same URL into `mp-login-finish` (one command). It publishes
/// the login, or reports the one published before the kill, and the code goes to the server
/// once, always when tokens of it were on disk: a second try is made only when the kill came in
/// the exchange's answer window, and the server refuses it.
#[test]
#[ignore = "needs strace; run by `cargo make crash-test`"]
fn a_listener_killed_at_every_durable_step_is_recovered_by_a_paste() {
    let mut tally = Tally::default();
    for syscall in SYSCALLS {
        for n in 1.. {
            let env = Env::new();
            let port = common::free_port().to_string();
            let redirect = env.start_and_approve(&["--redirect-port", &port]);
            let paste = env.tmp.path().join("paste");
            fs::write(&paste, format!("{redirect}\n")).unwrap();
            let args = ["--listen", "--listen-timeout", "20"];
            if !killed_with_stdin(&env, syscall, n, "mp-login-finish", &args, Some(&paste)) {
                break;
            }
            tally.kill_points += 1;
            let published = listed(&env) == 1;
            let saved = tokens_on_disk(&env);
            let run = env.run("mp-login-finish", &[&redirect], None);
            let exchanges = env.calls("/oauth/token/");
            match run.exit_code {
                0 if published => tally.published_before_kill += 1,
                0 => tally.finished_again += 1,
                _ => {
                    assert!(!saved, "{syscall} #{n}: tokens on disk, yet: {run:?}");
                    assert_eq!(
                        run.stdout["error"]["details"]["error"], "invalid_grant",
                        "{syscall} #{n}: {run:?}"
                    );
                    assert_eq!(exchanges, [200, 400], "{syscall} #{n}");
                    tally.lost += 1;
                    tally.lost_at.push(format!("{syscall} #{n}"));
                    continue;
                }
            }
            assert_eq!(
                exchanges.len(),
                1,
                "{syscall} #{n}: the code was sent again: {run:?}"
            );
            assert_eq!(run.stdout["account"]["name"], "acme-analytics", "{run:?}");
            assert_one_account(&env);
        }
    }
    eprintln!("crash test, finish --listen: {tally:?}");
    assert!(tally.kill_points >= 30, "{tally:?}");
    assert!(tally.lost <= 3, "{tally:?}");
}

/// A kill while `/me` is slow leaves saved tokens: the baseline the strace points build on.
#[test]
#[ignore = "run by `cargo make crash-test`"]
fn a_kill_during_me_leaves_a_resumable_placeholder() {
    let env = Env::new();
    let redirect = env.start_and_approve(&[]);
    env.idp.fault(
        Endpoint::Me,
        Fault::delay(std::time::Duration::from_secs(30)),
    );
    let mut child = env.spawn("mp-login-finish", &[&redirect]);
    env.wait_for_call("/api/app/me");
    child.kill().unwrap();
    child.wait().unwrap();
    env.idp.clear_faults();
    let mut tally = Tally::default();
    recover(&env, &redirect, &mut tally);
    assert_eq!(tally.resumed, 1, "{tally:?}");
}

/// SIGINT at every durable system call of finish: the one envelope printed
/// tells the truth. A published login reports success; an interrupted one names the placeholder
/// exactly when tokens are saved; no temp file and no placeholder without tokens is left.
#[test]
#[ignore = "needs strace; run by `cargo make crash-test`"]
fn sigint_at_every_durable_step_reports_what_is_on_disk() {
    let (mut points, mut published, mut named, mut unnamed) = (0, 0, 0, 0);
    for syscall in SYSCALLS {
        for n in 1.. {
            let env = Env::new();
            let redirect = env.start_and_approve(&[]);
            let (out, injected) =
                signalled_at(&env, "INT", syscall, n, "mp-login-finish", &[&redirect]);
            if !injected {
                break;
            }
            let run = env.finish_run(out);
            let saved: Vec<_> = env
                .placeholders()
                .into_iter()
                .filter(|p| p.join("tokens.json").is_file())
                .collect();
            let all = env.placeholders();
            assert_eq!(
                saved.len(),
                all.len(),
                "{syscall} #{n}: no placeholder without tokens: {all:?}"
            );
            let temps = temp_files(&env.storage);
            assert!(
                temps.is_empty(),
                "{syscall} #{n}: temp files left: {temps:?}"
            );
            match run.exit_code {
                0 => {
                    assert!(saved.is_empty());
                    assert!(fs::read_to_string(&env.config)
                        .unwrap()
                        .contains("[accounts."));
                    published += 1;
                }
                130 => {
                    let details = &run.stdout["error"]["details"];
                    match saved.as_slice() {
                        [dir] => {
                            assert_eq!(
                                details["placeholder_dir"],
                                dir.to_str().unwrap(),
                                "{syscall} #{n}"
                            );
                            named += 1;
                        }
                        [] => {
                            assert!(
                                details.get("placeholder_dir").is_none(),
                                "{syscall} #{n}: {run:?}"
                            );
                            // "Nothing was changed" means the code was not sent: the same
                            // finish again publishes.
                            let hint = run.stdout["error"]["hint"].as_str().unwrap_or("");
                            if hint.contains("nothing was changed") {
                                let again = env.finish(&redirect, &[]);
                                assert_eq!(again.exit_code, 0, "{syscall} #{n}: {again:?}");
                            }
                            unnamed += 1;
                        }
                        more => panic!("{syscall} #{n}: {more:?}"),
                    }
                }
                other => panic!("{syscall} #{n}: exit {other}: {run:?}"),
            }
            points += 1;
        }
    }
    eprintln!("sigint: {points} points, {published} published, {named} named the placeholder, {unnamed} before any tokens");
    assert!(named > 0 && unnamed > 0);
}

/// The system calls `mp-token` and `mp-logout` are killed at: the durable ones, and those of
/// the network call in between (the refresh's answer arrives in `recvfrom`/`read` after
/// `epoll_wait`; the temp file's name comes from `getrandom`).
const LIFECYCLE_SYSCALLS: [&str; 10] = [
    "openat",
    "flock",
    "connect",
    "sendto",
    "epoll_wait",
    "getrandom",
    "write",
    "fsync",
    "rename",
    "unlink",
];

/// At most this many kill points per system call (the network calls repeat a lot).
const MAX_POINTS: usize = 40;

/// A complete `.tokens.json.tmp-*` in `dir` whose refresh token differs from `tokens.json`'s:
/// the pair a killed refresh got and did not rename into place.
fn newer_pair_in_temp(dir: &Path) -> bool {
    let saved = read_json(&dir.join("tokens.json"))["refresh_token"].clone();
    fs::read_dir(dir).unwrap().flatten().any(|e| {
        e.file_name()
            .to_string_lossy()
            .starts_with(".tokens.json.tmp-")
            && fs::read_to_string(e.path())
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .is_some_and(|t| t["refresh_token"] != saved && t["access_token"].is_string())
    })
}

/// `mp-token --force-refresh` killed at every call, then `mp-token` (one command) recovers: its
/// token answers `/me` and the family still refreshes. A family is lost only in the window
/// between the server's answer and the new pair's first byte on disk, never while a complete
/// newer pair is in a temp file.
#[test]
#[ignore = "needs strace; run by `cargo make crash-test`"]
fn token_refresh_killed_at_every_call_loses_no_saved_pair() {
    let (mut points, mut recovered, mut lost) = (0, 0, Vec::new());
    for syscall in LIFECYCLE_SYSCALLS {
        for n in 1..=MAX_POINTS {
            let env = Env::new();
            assert_eq!(env.login(&[], &[]).exit_code, 0);
            let account = env.accounts().join("acme-analytics");
            if !killed_at(&env, syscall, n, "mp-token", &["--force-refresh"]) {
                break;
            }
            points += 1;
            let pair_on_disk = newer_pair_in_temp(&account);
            let out = env.command("mp-token").output().unwrap();
            env.assert_no_secret(&String::from_utf8_lossy(&out.stderr));
            let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
            let works = out.status.success()
                && env.me_status(&token) == 200
                && env
                    .command("mp-token")
                    .arg("--force-refresh")
                    .output()
                    .unwrap()
                    .status
                    .success();
            if works {
                recovered += 1;
            } else {
                assert!(
                    !pair_on_disk,
                    "{syscall} #{n}: a saved newer pair was not adopted"
                );
                lost.push(format!("{syscall} #{n}"));
            }
            assert!(
                !temp_files(&account)
                    .iter()
                    .any(|t| t.contains(".tokens.json.tmp-")),
                "{syscall} #{n}: temp left"
            );
        }
    }
    eprintln!("crash test, mp-token: {points} kill points, {recovered} recovered by `mp-token`, lost in the answer's window: {lost:?}");
    assert!(points >= 40, "{points}");
    assert!(lost.len() * 5 <= points, "{lost:?}");
}

/// `mp-logout` killed at every call, then `mp-logout` again (one command): the account is gone
/// whole (no directory, no config block, no leftover after the next start) and its refresh token
/// is revoked; at the kill the account was either whole, or named by config.toml only.
#[test]
#[ignore = "needs strace; run by `cargo make crash-test`"]
fn logout_killed_at_every_call_ends_all_or_nothing() {
    let mut points = 0;
    for syscall in LIFECYCLE_SYSCALLS {
        for n in 1..=MAX_POINTS {
            let env = Env::new();
            assert_eq!(env.login(&[], &[]).exit_code, 0);
            let account = env.accounts().join("acme-analytics");
            let refresh = read_json(&account.join("tokens.json"))["refresh_token"]
                .as_str()
                .unwrap()
                .to_string();
            let client_id = read_json(&account.join("meta.json"))["client_id"]
                .as_str()
                .unwrap()
                .to_string();
            if !killed_at(&env, syscall, n, "mp-logout", &[]) {
                break;
            }
            points += 1;
            let listed = fs::read_to_string(&env.config)
                .unwrap_or_default()
                .contains("[accounts.acme-analytics]");
            let whole =
                account.join("tokens.json").is_file() && account.join("meta.json").is_file();
            assert!(
                whole || !account.exists(),
                "{syscall} #{n}: half an account: {:?}",
                common::tree(&account)
            );
            assert!(
                listed || !account.exists(),
                "{syscall} #{n}: an unlisted account directory"
            );
            if listed {
                let run = env.run("mp-logout", &[], None);
                assert_eq!(run.exit_code, 0, "{syscall} #{n}: {run:?}");
            }
            env.start(&[]);
            let left: Vec<String> = fs::read_dir(env.accounts())
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            assert!(left.is_empty(), "{syscall} #{n}: {left:?}");
            assert!(!fs::read_to_string(&env.config)
                .unwrap_or_default()
                .contains("[accounts."));
            let (status, _) = mock_idp::client::Client::new(&env.idp.base_url()).token(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh),
                ("client_id", &client_id),
            ]);
            assert_eq!(status, 400, "{syscall} #{n}: the refresh token is revoked");
        }
    }
    eprintln!("crash test, mp-logout: {points} kill points, each ended by one `mp-logout`");
    assert!(points >= 40, "{points}");
}

/// SIGINT at every call of `mp-logout --all` over two accounts: the run always ends by itself
/// (once the first account is gone, the signal is declined and the run goes on: its later
/// steps must not wait for a stop that will not come), each account is whole and listed or
/// gone, and one more `mp-logout --all` ends the rest.
#[test]
#[ignore = "needs strace; run by `cargo make crash-test`"]
fn sigint_during_a_logout_of_all_ends_and_keeps_accounts_whole() {
    let (mut points, mut interrupted, mut ended) = (0, 0, 0);
    for syscall in LIFECYCLE_SYSCALLS {
        for n in 1..=MAX_POINTS {
            let env = Env::new();
            for name in ["one", "two"] {
                assert_eq!(env.login(&["--name", name], &[]).exit_code, 0);
            }
            let (out, injected) =
                signalled_at(&env, "INT", syscall, n, "mp-logout", &["--all", "--yes"]);
            if !injected {
                break;
            }
            points += 1;
            let said_nothing_changed =
                String::from_utf8_lossy(&out.stdout).contains("nothing was changed");
            match out.status.code() {
                Some(130) => interrupted += 1,
                Some(0) => ended += 1,
                None if out.status.signal() == Some(2) => {}
                other => panic!("{syscall} #{n}: {other:?}"),
            }
            let config = fs::read_to_string(&env.config).unwrap_or_default();
            for name in ["one", "two"] {
                let dir = env.accounts().join(name);
                let listed = config.contains(&format!("[accounts.{name}]"));
                assert_eq!(
                    listed,
                    dir.exists(),
                    "{syscall} #{n}: `{name}` half removed"
                );
                assert!(
                    listed || !said_nothing_changed,
                    "{syscall} #{n}: `{name}` removed under \"nothing was changed\""
                );
            }
            let rest = env.run("mp-logout", &["--all", "--yes"], None);
            assert_eq!(rest.exit_code, 0, "{syscall} #{n}: {rest:?}");
        }
    }
    eprintln!("sigint, mp-logout --all: {points} points, {ended} ran to their end, {interrupted} interrupted");
    assert!(points > 0 && ended > 0);
}

/// SIGINT at every call of `mp-token --force-refresh`: either the token is printed, or an
/// `INTERRUPTED` envelope; in both cases the account still refreshes (an interrupt waits for a
/// refresh in flight to be saved), and what was printed is what is on disk: a printed token is
/// the saved one, and "nothing was changed" means `tokens.json` holds the pair it held before.
#[test]
#[ignore = "needs strace; run by `cargo make crash-test`"]
fn sigint_during_a_refresh_never_loses_the_family() {
    let (mut points, mut printed, mut interrupted, mut early) = (0, 0, 0, 0);
    for syscall in LIFECYCLE_SYSCALLS {
        for n in 1..=MAX_POINTS {
            let env = Env::new();
            assert_eq!(env.login(&[], &[]).exit_code, 0);
            let tokens = env.accounts().join("acme-analytics/tokens.json");
            let before = read_json(&tokens);
            let (out, injected) =
                signalled_at(&env, "INT", syscall, n, "mp-token", &["--force-refresh"]);
            if !injected {
                break;
            }
            points += 1;
            let on_disk = read_json(&tokens);
            match out.status.code() {
                // Before the handler is installed (the loader's first calls) SIGINT kills.
                None if out.status.signal() == Some(2) => early += 1,
                Some(0) => {
                    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
                    assert_eq!(on_disk["access_token"], token.as_str(), "{syscall} #{n}");
                    printed += 1;
                }
                Some(130) => {
                    let run = env.finish_run(out);
                    assert_eq!(run.stdout["error"]["code"], "INTERRUPTED");
                    assert!(run.stdout["error"]["hint"]
                        .as_str()
                        .unwrap()
                        .contains("nothing was changed"));
                    assert_eq!(
                        on_disk["refresh_token"], before["refresh_token"],
                        "{syscall} #{n}: it said nothing was changed over a saved pair"
                    );
                    interrupted += 1;
                }
                other => panic!("{syscall} #{n}: {other:?}"),
            }
            let refreshed = env
                .command("mp-token")
                .arg("--force-refresh")
                .output()
                .unwrap();
            assert!(
                refreshed.status.success(),
                "{syscall} #{n}: the family is lost"
            );
        }
    }
    eprintln!("sigint, mp-token: {points} points, {printed} printed the token, {interrupted} interrupted, {early} before the handler");
    assert!(printed > 0 && interrupted > 0);
}
