//! The harness of the integration tests: real binaries against an in-process mock IdP, with
//! HOME, MP_STORAGE_DIR and MP_CONFIG_PATH in a temporary directory, in an environment that
//! holds nothing else of the test process's but [`PASSED_THROUGH`]. Every run is scanned for
//! the secrets the mock issued (and the verifiers start saved): a hit fails the test.

use std::cell::RefCell;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use mock_idp::MockIdp;
use regex::Regex;
use serde_json::Value;

mod net;
pub use net::{free_port, http_get, mkfifo, wait_for_port, Got, RawBody, RawHttp, Socks5};

pub struct Env {
    pub tmp: tempfile::TempDir,
    pub idp: MockIdp,
    pub home: PathBuf,
    pub storage: PathBuf,
    pub config: PathBuf,
    extra_env: RefCell<Vec<(String, String)>>,
    verifiers: RefCell<Vec<String>>,
    /// What snapshots replace, in order (uv's `context.filters()`): [`Env::filter`] adds more.
    filters: RefCell<Vec<(Regex, String)>>,
}

/// All a run takes from the test process's environment: it starts from an empty one, so no
/// variable of the developer's shell or the CI runner (`MP_*`, proxies, `BROWSER`, `DISPLAY`,
/// `CI`, `SSL_CERT_FILE`…), nor one the kit learns to read later, changes a test; a test sets
/// what it needs on the command. `PATH` finds `script`, `kill` and the `BROWSER` commands tests
/// set; `TMPDIR` keeps the kit's claims in the temporary directory the tests' own files are in
/// (a sandbox's `/tmp` may not be writable).
const PASSED_THROUGH: [&str; 2] = ["PATH", "TMPDIR"];

/// A command for `program` with an empty environment but for [`PASSED_THROUGH`].
pub fn clean_command(program: impl AsRef<OsStr>) -> Command {
    command_keeping(program, |k| PASSED_THROUGH.contains(&k))
}

/// `cargo` with an empty environment but for [`PASSED_THROUGH`] and cargo's and rustup's own
/// variables (`CARGO_*`, `RUSTUP_*`): `cargo make` runs on the toolchain of this test run.
pub fn clean_cargo() -> Command {
    command_keeping("cargo", |k| {
        PASSED_THROUGH.contains(&k) || k.starts_with("CARGO_") || k.starts_with("RUSTUP_")
    })
}

fn command_keeping(program: impl AsRef<OsStr>, keep: impl Fn(&str) -> bool) -> Command {
    let mut c = Command::new(program);
    c.env_clear()
        .envs(std::env::vars_os().filter(|(k, _)| k.to_str().is_some_and(&keep)));
    c
}

/// One run of a binary as the user sees it.
#[derive(Debug, Clone)]
pub struct Run {
    pub exit_code: i32,
    pub stdout: Value,
    pub stderr: String,
}

impl Run {
    /// The exit code and the envelope's error code ("" when it is no error).
    pub fn failure(&self) -> (i32, &str) {
        let code = self.stdout["error"]["code"].as_str().unwrap_or("");
        (self.exit_code, code)
    }
}

impl Env {
    pub fn new() -> Env {
        let tmp = tempfile::Builder::new()
            .prefix("mp-login-it")
            .tempdir()
            .unwrap();
        let home = tmp.path().join("home");
        fs::create_dir_all(&home).unwrap();
        let storage = home.join(".mp");
        let config = storage.join("config.toml");
        Env {
            tmp,
            idp: MockIdp::start(),
            home,
            storage,
            config,
            extra_env: RefCell::new(Vec::new()),
            verifiers: RefCell::new(Vec::new()),
            filters: RefCell::new(
                DEFAULT_FILTERS
                    .iter()
                    .map(|(re, with)| (Regex::new(re).unwrap(), with.to_string()))
                    .collect(),
            ),
        }
    }

    /// Set an environment variable for every later run.
    pub fn set_env(&self, k: &str, v: &str) {
        self.extra_env.borrow_mut().push((k.into(), v.into()));
    }

    pub fn command(&self, bin: &str) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.std_command(bin))
    }

    /// `bin` is one of this package's binaries, or any other program (`script`).
    pub fn std_command(&self, bin: &str) -> Command {
        let program = if bin.starts_with("mp-") {
            bin_path(bin)
        } else {
            PathBuf::from(bin)
        };
        let mut c = clean_command(program);
        c.env("HOME", &self.home)
            .env("MP_STORAGE_DIR", &self.storage)
            .env("MP_CONFIG_PATH", &self.config)
            .env("MP_BASE_URL", self.idp.base_url())
            .env("NO_PROXY", "*")
            .current_dir(self.tmp.path());
        for (k, v) in self.extra_env.borrow().iter() {
            c.env(k, v);
        }
        c
    }

    /// Runs `bin args` with `stdin` (empty when `None`), scans and parses the output.
    pub fn run(&self, bin: &str, args: &[&str], stdin: Option<&str>) -> Run {
        let mut c = self.command(bin);
        // No run of the kit may hang: a FIFO or a trickling server must end in an envelope.
        c.args(args)
            .write_stdin(stdin.unwrap_or(""))
            .timeout(std::time::Duration::from_secs(60));
        self.finish_run(c.output().unwrap())
    }

    /// Starts `bin args` with its output captured and stdin a pipe (a test may write to it; it
    /// closes when the test waits), for a test that acts while it runs; collect it with
    /// [`Env::finish_run`] over `wait_with_output`.
    pub fn spawn(&self, bin: &str, args: &[&str]) -> Child {
        self.std_command(bin)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Waits (20 s at most) until the mock has been asked for `path`.
    pub fn wait_for_call(&self, path: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !self.idp.journal().iter().any(|j| j.path == path) {
            assert!(std::time::Instant::now() < deadline, "{path} never called");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Resumes, with `args`, the placeholder a failed publish kept (the only or last one); it
    /// publishes.
    pub fn resume_kept(&self, args: &[&str]) -> Run {
        let placeholder = self.placeholders().pop().expect("tokens kept");
        let run = self.resume(&placeholder, args);
        assert_eq!(run.exit_code, 0, "{run:?}");
        run
    }

    /// `mp-login-resume PLACEHOLDER args`.
    pub fn resume(&self, placeholder: &Path, args: &[&str]) -> Run {
        let mut all = vec![placeholder.to_str().unwrap()];
        all.extend_from_slice(args);
        self.run("mp-login-resume", &all, None)
    }

    pub fn finish_run(&self, out: Output) -> Run {
        self.remember_verifier();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        self.assert_no_secret(&stdout);
        self.assert_no_secret(&stderr);
        assert_eq!(
            stdout.trim_end().lines().count(),
            1,
            "stdout must be exactly one envelope line, got {stdout:?} (stderr {stderr})"
        );
        let envelope: Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        let exit_code = out.status.code().unwrap_or(-1);
        if exit_code == 0 {
            assert_eq!(envelope["state"], "ok", "{envelope}");
        } else {
            assert_eq!(envelope["state"], "error", "{envelope}");
            assert_eq!(envelope["error"]["exit_code"], exit_code, "{envelope}");
            assert!(
                stderr.contains("error: "),
                "stderr says what went wrong: {stderr}"
            );
        }
        Run {
            exit_code,
            stdout: envelope,
            stderr,
        }
    }

    /// The verifier of the current inflight file joins the secrets scanned for.
    fn remember_verifier(&self) {
        let path = self.inflight_path();
        // Only a regular file: a test may have put a FIFO there.
        if !fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            return;
        }
        if let Ok(text) = fs::read_to_string(path) {
            if let Some(v) = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["pkce_verifier"].as_str().map(str::to_string))
            {
                self.verifiers.borrow_mut().push(v);
            }
        }
    }

    pub fn secrets(&self) -> Vec<String> {
        let mut all = self.idp.issued_secrets();
        all.extend(self.verifiers.borrow().iter().cloned());
        all
    }

    pub fn assert_no_secret(&self, text: &str) {
        for s in self.secrets() {
            assert!(
                !text.contains(&s),
                "a secret leaked into the output: {text}"
            );
        }
    }

    /// How many refresh-token grants the mock has received.
    pub fn refresh_requests(&self) -> usize {
        self.idp
            .journal()
            .iter()
            .filter(|j| j.grant.as_deref() == Some("refresh_token"))
            .count()
    }

    /// The status `/me` answers `token` with.
    pub fn me_status(&self, token: &str) -> u16 {
        mock_idp::client::http()
            .get(format!("{}/api/app/me", self.idp.base_url()))
            .bearer_auth(token)
            .send()
            .unwrap()
            .status()
            .as_u16()
    }

    pub fn start(&self, args: &[&str]) -> Run {
        let run = self.run("mp-login-start", args, None);
        assert_eq!(run.exit_code, 0, "start failed: {run:?}");
        run
    }

    /// The user in the browser: open the authorize URL, land on the redirect.
    pub fn approve(&self, authorize_url: &str) -> String {
        mock_idp::client::approve(authorize_url).expect("authorize redirects")
    }

    /// start → approve, returning the redirect URL to paste.
    pub fn start_and_approve(&self, start_args: &[&str]) -> String {
        let started = self.start(start_args);
        self.approve(started.stdout["authorize_url"].as_str().unwrap())
    }

    /// start → approve → finish.
    pub fn login(&self, start_args: &[&str], finish_args: &[&str]) -> Run {
        let redirect = self.start_and_approve(start_args);
        self.finish(&redirect, finish_args)
    }

    /// `mp-login-finish REDIRECT args`.
    pub fn finish(&self, redirect: &str, args: &[&str]) -> Run {
        let mut all = vec![redirect];
        all.extend_from_slice(args);
        self.run("mp-login-finish", &all, None)
    }

    /// The statuses the mock answered on `path`, in order.
    pub fn calls(&self, path: &str) -> Vec<u16> {
        self.idp
            .journal()
            .iter()
            .filter(|j| j.path == path)
            .map(|j| j.status)
            .collect()
    }

    /// A login whose publish failed on `/me` (the fault is cleared afterwards): the
    /// placeholder finish left, ready for resume.
    pub fn failed_publish(&self, start_args: &[&str], finish_args: &[&str]) -> (Run, PathBuf) {
        self.idp.fault(
            mock_idp::Endpoint::Me,
            mock_idp::Fault::status(500).retry_after(0),
        );
        let run = self.login(start_args, finish_args);
        self.idp.clear_faults();
        assert_eq!(
            run.stdout["error"]["code"], "LOGIN_FINISH_PUBLISH_FAILED",
            "{run:?}"
        );
        let placeholder = self
            .placeholders()
            .pop()
            .expect("finish left a placeholder");
        (run, placeholder)
    }

    pub fn inflight_path(&self) -> PathBuf {
        self.storage.join("oauth/inflight.json")
    }

    pub fn accounts(&self) -> PathBuf {
        self.storage.join("accounts")
    }

    /// The `.tmp-*` placeholders under `S/accounts/`.
    pub fn placeholders(&self) -> Vec<PathBuf> {
        placeholders_in(&self.accounts())
    }

    /// Replaces what is random in a run (paths, ports, ids, times) for snapshots.
    pub fn redact(&self, run: &Run) -> Value {
        let value = serde_json::json!({
            "exit_code": run.exit_code,
            "stdout": run.stdout,
            "stderr": run.stderr,
        });
        self.redact_value(value)
    }

    fn redact_value(&self, v: Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.redact_str(&s)),
            Value::Array(a) => Value::Array(a.into_iter().map(|x| self.redact_value(x)).collect()),
            Value::Object(o) => Value::Object(
                o.into_iter()
                    .map(|(k, x)| match x {
                        // Unix times (start's `expires_at`) change with every run.
                        Value::Number(_) if k == "expires_at" => (k, "[UNIX_TIME]".into()),
                        // A listener's port is a free one, different every run.
                        Value::Number(_) if k == "port" => (k, "[PORT]".into()),
                        x => (k, self.redact_value(x)),
                    })
                    .collect(),
            ),
            other => other,
        }
    }

    /// Adds a snapshot filter: every match of `re` becomes `with` (after the defaults).
    pub fn filter(&self, re: &str, with: &str) {
        self.filters
            .borrow_mut()
            .push((Regex::new(re).unwrap(), with.to_string()));
    }

    pub fn redact_str(&self, s: &str) -> String {
        let tmp = fs::canonicalize(self.tmp.path()).unwrap();
        let mut s = s
            .replace(&tmp.to_string_lossy().to_string(), "[TMP]")
            .replace(&self.tmp.path().to_string_lossy().to_string(), "[TMP]")
            .replace(&self.idp.base_url(), "[BASE_URL]");
        for (re, with) in self.filters.borrow().iter() {
            s = re.replace_all(&s, with.as_str()).into_owned();
        }
        s
    }
}

/// What every snapshot replaces: times, random names, client ids, the state and challenge of
/// authorize URLs, client-cache hashes, heartbeat seconds.
const DEFAULT_FILTERS: [(&str, &str); 7] = [
    (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[TIME]"),
    (r"\.tmp-[0-9a-f]{8}", ".tmp-[HEX]"),
    (r"mpc_[A-Za-z0-9_-]{32}", "[CLIENT_ID]"),
    (r"state=[A-Za-z0-9_-]+", "state=[STATE]"),
    (
        r"code_challenge=[A-Za-z0-9_-]+",
        "code_challenge=[CHALLENGE]",
    ),
    (r"client_(us|eu|in)_[0-9a-f]{12}", "client_${1}_[HASH]"),
    (
        r"still (.*) \(\d+ s so far\)\n",
        "still $1 ([N] s so far)\n",
    ),
];

/// `mp-logout` succeeded, and reports its (first) account as not revoked for a reason that
/// mentions `why`.
pub fn assert_logged_out_unrevoked(run: &Run, why: &str) {
    assert_eq!(run.exit_code, 0, "{run:?}");
    let done = &run.stdout["logged_out"][0];
    assert_eq!(done["revoked"], false, "{run:?}");
    let reason = done["reason"].as_str().unwrap_or_default();
    assert!(reason.contains(why), "{reason}");
}

/// `run` is a finish whose publish failed (exit 1) because of `original_code`.
pub fn assert_publish_failed(run: &Run, original_code: &str) {
    assert_eq!(run.exit_code, 1, "{run:?}");
    assert_eq!(run.stdout["error"]["code"], "LOGIN_FINISH_PUBLISH_FAILED");
    assert_eq!(
        run.stdout["error"]["details"]["original_code"],
        original_code
    );
}

/// Sends SIGINT to a running child, as Ctrl-C in its terminal would.
pub fn interrupt(child: &Child) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// The `.tmp-*` placeholders in an accounts directory, sorted (none when it does not exist).
pub fn placeholders_in(accounts: &Path) -> Vec<PathBuf> {
    let Ok(rd) = fs::read_dir(accounts) else {
        return vec![];
    };
    let mut v: Vec<PathBuf> = rd
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".tmp-")
        })
        .collect();
    v.sort();
    v
}

/// The binaries of this package (assert_cmd's lookup through CARGO_BIN_EXE_<name>).
pub fn bin_path(bin: &str) -> PathBuf {
    assert_cmd::cargo::cargo_bin(bin)
}

/// Snapshots live in `snapshots/` at the workspace root, one file per envelope case, named by
/// the test (never by its module: `prepend_module_to_snapshot` is off).
macro_rules! snapshot {
    (@with $assertion:expr) => {
        insta::with_settings!({
            snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            $assertion;
        })
    };
    // A text snapshot (an HTML page).
    (text: $name:expr, $value:expr) => {
        snapshot!(@with insta::assert_snapshot!($name, $value))
    };
    ($name:expr, $value:expr) => {
        snapshot!(@with insta::assert_json_snapshot!($name, $value))
    };
}

pub fn mode(p: &Path) -> u32 {
    fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
}

pub fn read_json(p: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(p).unwrap()).unwrap()
}

/// Copies the files of `from` (one level, modes kept) into a new directory `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir(to).unwrap();
    fs::set_permissions(to, fs::metadata(from).unwrap().permissions()).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// Every file below `dir` with its mode, for "untouched" checks.
pub fn tree(dir: &Path) -> Vec<(String, u32, Vec<u8>)> {
    let mut out = Vec::new();
    fn walk(d: &Path, base: &Path, out: &mut Vec<(String, u32, Vec<u8>)>) {
        let Ok(rd) = fs::read_dir(d) else { return };
        for e in rd {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                out.push((rel, mode(&p), vec![]));
                walk(&p, base, out);
            } else {
                out.push((rel, mode(&p), fs::read(&p).unwrap_or_default()));
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A `/me` body per auto-pick method of the seed (`sole_survivor` … `fallback_with_demos`), for
/// the tests that go through every method; each adds its own explicit case.
pub fn auto_pick_cases() -> Vec<(&'static str, Value, Vec<&'static str>)> {
    use mock_idp::scenario::{MeBuilder, ProjectSpec};
    use mock_idp::Scenario;
    let filtered = MeBuilder::new()
        .organization(1, "Solo")
        .project(ProjectSpec::new(10, 1, "Real"))
        .project(ProjectSpec::new(11, 1, "Demo").demo())
        .build();
    vec![
        ("sole_survivor", Scenario::Single.me_body(), vec![]),
        ("sole_survivor_filtered", filtered, vec![]),
        (
            "primary_org_lowest_id",
            Scenario::MultiOrg.me_body(),
            vec![],
        ),
        (
            "fallback_with_unintegrated",
            Scenario::UnintegratedOnly.me_body(),
            vec![],
        ),
        ("fallback_with_demos", Scenario::DemosOnly.me_body(), vec![]),
    ]
}
