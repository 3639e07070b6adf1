//! The cargo-make tasks as another project uses them: a throw-away consumer project whose
//! Makefile.toml has the documented `extend` line runs the login tasks against a standalone
//! `mock-idp serve`, and a task of its own uses the `mp-login-required` plugin.
//! Needs `cargo-make` (scripts/test.sh and .ci/run install it) and the mock-idp binary
//! (`cargo test --workspace` builds it).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common;
use mock_idp::process::Served;
use serde_json::{json, Value};

struct Consumer {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    home: PathBuf,
    mock: Served,
    bin_dir: PathBuf,
    /// The binaries are "installed": on `PATH`, and the tasks written by `mp-login-tasks`
    /// (no `MP_LOGIN_BIN_DIR`, no checkout of this repository).
    installed: Option<PathBuf>,
}

/// What one `cargo make` run showed.
struct Made {
    code: i32,
    stderr: String,
}

fn kit_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

impl Consumer {
    fn new() -> Consumer {
        Consumer::with_tasks(false)
    }

    /// A consumer of installed binaries: they are linked into a `bin` directory put on `PATH`,
    /// and `mp-login-tasks` writes the tasks the consumer extends.
    fn installed() -> Consumer {
        Consumer::with_tasks(true)
    }

    fn with_tasks(installed: bool) -> Consumer {
        let found = Command::new("cargo")
            .args(["make", "--version"])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(found, "these tests need cargo-make: `cargo install --locked cargo-make` (scripts/test.sh does it)");
        let bin_dir = common::bin_path("mp-login-start")
            .parent()
            .unwrap()
            .to_path_buf();
        let mock_bin = bin_dir.join("mock-idp");
        assert!(
            mock_bin.exists(),
            "build mock-idp first: `cargo build -p mock-idp` (cargo test --workspace does)"
        );
        let tmp = tempfile::Builder::new()
            .prefix("mp-login-consumer")
            .tempdir()
            .unwrap();
        let dir = tmp.path().join("consumer");
        let home = tmp.path().join("home");
        fs::create_dir_all(&dir).unwrap();
        fs::create_dir_all(&home).unwrap();
        let (extend, installed) = if installed {
            let bin = tmp.path().join("bin");
            fs::create_dir_all(&bin).unwrap();
            for e in fs::read_dir(&bin_dir).unwrap().flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with("mp-") && !name.contains('.') && e.path().is_file() {
                    std::os::unix::fs::symlink(e.path(), bin.join(&name)).unwrap();
                }
            }
            let tasks = tmp.path().join("tasks");
            let out = common::clean_command(bin.join("mp-login-tasks"))
                .arg(&tasks)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stdout)
            );
            let envelope: Value = serde_json::from_slice(&out.stdout).unwrap();
            (envelope["extend"].as_str().unwrap().to_string(), Some(bin))
        } else {
            (
                format!(
                    "extend = \"{}/cargo-make/login.toml\"",
                    kit_root().display()
                ),
                None,
            )
        };
        // The documented `extend` line, and a task of the consumer's own behind the plugin.
        let makefile = format!(
            r#"{extend}

[config]
skip_core_tasks = true

[tasks.deploy]
plugin = "mp-login-required"
script = '''
echo "deploying as $MP_ACCOUNT" > deployed.txt
printenv MP_OAUTH_TOKEN | tr -d "\n" > token.txt
mp-token --header | curl -sS -H @- "$MP_BASE_URL/api/app/me" -o /dev/null -w '%{{http_code}}' > me-status.txt
'''
"#
        );
        fs::write(dir.join("Makefile.toml"), makefile).unwrap();
        let mock = Served::spawn(&mock_bin, &[]).unwrap();
        Consumer {
            _tmp: tmp,
            dir,
            home,
            mock,
            bin_dir,
            installed,
        }
    }

    fn make(&self, task: &str, env: &[(&str, &str)]) -> Made {
        let out = self.cargo_make(task, env);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        self.assert_no_secret(&stderr);
        Made {
            code: out.status.code().unwrap_or(-1),
            stderr,
        }
    }

    /// The `mp-token` task: its stdout is the token by design; stderr must hold no secret.
    fn make_token(&self) -> (i32, String) {
        let out = self.cargo_make("mp-token", &[]);
        self.assert_no_secret(&String::from_utf8_lossy(&out.stderr));
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    fn cargo_make(&self, task: &str, env: &[(&str, &str)]) -> Output {
        let mut c = common::clean_cargo();
        c.args(["make", "--no-color", task]).current_dir(&self.dir);
        let real_home = std::env::var("HOME").unwrap();
        c.env(
            "CARGO_HOME",
            std::env::var("CARGO_HOME").unwrap_or(format!("{real_home}/.cargo")),
        )
        .env(
            "RUSTUP_HOME",
            std::env::var("RUSTUP_HOME").unwrap_or(format!("{real_home}/.rustup")),
        )
        .env("HOME", &self.home)
        .env("MP_STORAGE_DIR", self.home.join(".mp"))
        .env("MP_CONFIG_PATH", self.home.join(".mp/config.toml"))
        .env("MP_BASE_URL", &self.mock.base_url)
        .env("NO_PROXY", "*");
        match &self.installed {
            Some(bin) => {
                let path = std::env::var("PATH").unwrap_or_default();
                c.env_remove("MP_LOGIN_BIN_DIR")
                    .env("PATH", format!("{}:{path}", bin.display()));
            }
            None => {
                c.env("MP_LOGIN_BIN_DIR", &self.bin_dir);
            }
        }
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    fn assert_no_secret(&self, text: &str) {
        let secrets: Value =
            reqwest::blocking::get(format!("{}/__admin/secrets", self.mock.base_url))
                .unwrap()
                .json()
                .unwrap();
        for s in secrets["issued"].as_array().unwrap() {
            assert!(
                !text.contains(s.as_str().unwrap()),
                "a secret leaked: {text}"
            );
        }
    }

    fn out(&self) -> PathBuf {
        self.dir.join("target/mp-login")
    }

    fn step(&self, name: &str) -> (i32, Value) {
        let code = fs::read_to_string(self.out().join(format!("{name}.exit"))).unwrap();
        let envelope = fs::read_to_string(self.out().join(format!("{name}.json"))).unwrap();
        (
            code.trim().parse().unwrap(),
            serde_json::from_str(&envelope).unwrap(),
        )
    }

    /// The person in the browser, played by `mock-idp approve` on start's envelope.
    fn approve(&self) -> String {
        let out = common::clean_command(self.bin_dir.join("mock-idp"))
            .arg("approve")
            .stdin(fs::File::open(self.out().join("start.json")).unwrap())
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    fn admin(&self, method: &str, path: &str, body: Option<Value>) {
        let url = format!("{}{path}", self.mock.base_url);
        let c = reqwest::blocking::Client::new();
        let req = if method == "POST" {
            c.post(url).json(&body.unwrap())
        } else {
            c.delete(url)
        };
        assert!(req.send().unwrap().status().is_success());
    }
}

#[test]
fn a_consumer_runs_the_login_tasks_and_the_plugin() {
    the_login_tasks_and_the_plugin(Consumer::new());
}

/// Regression: a consumer who installed the binaries could not use the tasks without cloning
/// the repository (cargo-make extends local files only). `mp-login-tasks DIR` writes them.
#[test]
fn a_consumer_of_installed_binaries_runs_the_tasks_mp_login_tasks_wrote() {
    the_login_tasks_and_the_plugin(Consumer::installed());
}

fn the_login_tasks_and_the_plugin(c: Consumer) {
    // The consumer's own task, before any login: the plugin starts one and stops.
    let first = c.make("deploy", &[]);
    // cargo-make ends a failed plugin with 1 and its own line naming the check's exit code.
    assert_eq!(first.code, 1, "{}", first.stderr);
    assert!(first.stderr.contains("exit code: 2"), "{}", first.stderr);
    assert!(
        first.stderr.contains("no Mixpanel account is logged in"),
        "{}",
        first.stderr
    );
    assert!(
        first
            .stderr
            .contains("/oauth/authorize/?response_type=code"),
        "{}",
        first.stderr
    );
    assert!(
        first.stderr.contains(
            "MP_LOGIN_REDIRECT_URL='<the URL the browser landed on>' cargo make mp-login-finish"
        ),
        "{}",
        first.stderr
    );
    assert!(!c.dir.join("deployed.txt").exists(), "the task did not run");
    let (code, start) = c.step("start");
    assert_eq!((code, start["state"].as_str()), (0, Some("ok")));
    // Inside a task, start names the task that finishes the login, not the raw binary.
    assert_eq!(
        start["finish_command"],
        "MP_LOGIN_REDIRECT_URL='<the URL the browser landed on>' cargo make mp-login-finish"
    );

    // The person approves; the pipeline finishes the login with the task.
    let redirect = c.approve();
    let finish = c.make("mp-login-finish", &[("MP_LOGIN_REDIRECT_URL", &redirect)]);
    assert_eq!(finish.code, 0, "{}", finish.stderr);
    let (code, finished) = c.step("finish");
    assert_eq!(code, 0);
    assert_eq!(finished["account"]["name"], "acme-analytics");
    assert!(c
        .home
        .join(".mp/accounts/acme-analytics/tokens.json")
        .exists());

    // Logged in: the plugin runs the task with the account in MP_ACCOUNT. Under CI=true
    // cargo-make traces every script line; the whole log holds no secret (make() checks).
    let second = c.make("deploy", &[("CI", "true")]);
    // (The two sides of the pipe trace at once, so their lines may interleave.)
    assert!(
        second.stderr.contains("curl -sS -H @-") && second.stderr.contains("--header"),
        "traced: {}",
        second.stderr
    );
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(second
        .stderr
        .contains("using the Mixpanel account `acme-analytics`"));
    assert_eq!(
        fs::read_to_string(c.dir.join("deployed.txt"))
            .unwrap()
            .trim(),
        "deploying as acme-analytics"
    );
    // The token the documented way: `mp-token --header | curl -H @-`, and /me answered it.
    assert_eq!(
        fs::read_to_string(c.dir.join("me-status.txt")).unwrap(),
        "200"
    );
    // The mp-token task prints it; the plugin hands the task a fresh one in MP_OAUTH_TOKEN.
    let tokens: Value = serde_json::from_str(
        &fs::read_to_string(c.home.join(".mp/accounts/acme-analytics/tokens.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        fs::read_to_string(c.dir.join("token.txt")).unwrap(),
        tokens["access_token"].as_str().unwrap()
    );
    let (code, printed) = c.make_token();
    assert_eq!(code, 0, "{printed}");
    assert!(printed
        .lines()
        .any(|l| l == tokens["access_token"].as_str().unwrap()));

    // mp-autopick as a task, on the account's own me.json.
    let me = c.home.join(".mp/accounts/acme-analytics/me.json");
    let pick = c.make("mp-autopick", &[("MP_LOGIN_ME_FILE", me.to_str().unwrap())]);
    assert_eq!(pick.code, 0, "{}", pick.stderr);
    assert_eq!(c.step("autopick").1["project"]["id"], "3001");
    // mp-logout as a task: revoked, and the account is gone.
    assert_eq!(c.make("mp-logout", &[]).code, 0);
    assert_eq!(c.step("logout").1["logged_out"][0]["revoked"], true);
    assert!(!c.home.join(".mp/accounts/acme-analytics").exists());
}

#[test]
fn a_failing_step_stops_the_flow_and_resume_completes_it() {
    let c = Consumer::new();
    // /me answers 500 until the fault is cleared.
    c.admin(
        "POST",
        "/__admin/faults",
        Some(json!({"endpoint": "me", "status": 500, "retry_after": 0})),
    );
    assert_eq!(c.make("mp-login-start", &[]).code, 0);
    let redirect = c.approve();
    let finish = c.make("mp-login-finish", &[("MP_LOGIN_REDIRECT_URL", &redirect)]);
    assert_ne!(finish.code, 0, "the flow stops");
    assert!(
        finish
            .stderr
            .contains("step `finish` failed with exit code 1"),
        "{}",
        finish.stderr
    );
    assert!(
        finish.stderr.contains("exit code: 1"),
        "cargo-make names the binary's code: {}",
        finish.stderr
    );
    let (code, envelope) = c.step("finish");
    assert_eq!(code, 1, "the binary's own exit code is kept");
    assert_eq!(envelope["error"]["code"], "LOGIN_FINISH_PUBLISH_FAILED");
    let placeholder = envelope["error"]["details"]["placeholder_dir"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        common::placeholders_in(&c.home.join(".mp/accounts")),
        [PathBuf::from(&placeholder)]
    );

    // Resume while /me still fails: the same failure, nothing lost.
    assert_ne!(c.make("mp-login-resume", &[]).code, 0);
    let (_, still) = c.step("resume");
    assert_eq!(still["error"]["code"], "LOGIN_FINISH_PUBLISH_FAILED");
    assert_eq!(still["error"]["details"]["original_code"], "SERVER_ERROR");
    assert!(Path::new(&placeholder).exists());

    // The server recovers; the resume task takes the placeholder from finish.json.
    c.admin("DELETE", "/__admin/faults", None);
    let resume = c.make("mp-login-resume", &[]);
    assert_eq!(resume.code, 0, "{}", resume.stderr);
    let (code, resumed) = c.step("resume");
    assert_eq!(code, 0);
    assert_eq!(resumed["account"]["name"], "acme-analytics");
    assert!(common::placeholders_in(&c.home.join(".mp/accounts")).is_empty());
    assert!(c.home.join(".mp/accounts/acme-analytics/me.json").exists());
}

/// `cargo make mp-login`: a person's login as one task. `$BROWSER` is a script playing the
/// person (approve, then the browser's return to the callback), so no paste is needed.
#[test]
fn the_mp_login_task_finishes_on_the_browsers_return() {
    use std::os::unix::fs::PermissionsExt;
    let c = Consumer::new();
    let browser = c.dir.join("browser.sh");
    fs::write(
        &browser,
        format!(
            "#!/bin/sh\n(r=$('{}' approve \"$1\") && curl -sS -o /dev/null \"$r\") >/dev/null 2>&1 &\n",
            c.bin_dir.join("mock-idp").display()
        ),
    )
    .unwrap();
    fs::set_permissions(&browser, fs::Permissions::from_mode(0o755)).unwrap();
    let made = c.make(
        "mp-login",
        &[
            ("BROWSER", browser.to_str().unwrap()),
            // CI=true (as .ci/run sets it) would keep the browser closed.
            ("CI", ""),
            ("MP_LISTEN_TIMEOUT", "60"),
        ],
    );
    assert_eq!(made.code, 0, "{}", made.stderr);
    let (code, login) = c.step("login");
    assert_eq!(code, 0);
    assert_eq!(login["command"], "mp-login");
    assert_eq!(login["account"]["name"], "acme-analytics");
    assert!(made.stderr.contains("Opened it with"), "{}", made.stderr);
}

#[test]
fn a_finish_without_a_redirect_says_which_variables_to_set() {
    let c = Consumer::new();
    assert_eq!(c.make("mp-login-start", &[]).code, 0);
    let finish = c.make("mp-login-finish", &[]);
    assert_ne!(finish.code, 0);
    assert!(
        finish.stderr.contains("set MP_LOGIN_REDIRECT_URL"),
        "{}",
        finish.stderr
    );
    // stdin is /dev/null in a task: the binary reads an empty paste.
    let (code, envelope) = c.step("finish");
    assert_eq!(
        (code, envelope["error"]["code"].as_str()),
        (2, Some("OAUTH_PASTE_ERROR"))
    );
    assert!(envelope["error"]["message"]
        .as_str()
        .unwrap()
        .contains("empty"));
    assert!(
        c.dir.join("target/mp-login/start.json").exists(),
        "earlier steps' files stay for inspection"
    );
}

/// `cargo make mp-login-demo` in this repository, its files in `dir`.
fn demo(dir: &Path, scenario: &str) -> Output {
    let real_home = std::env::var("HOME").unwrap();
    common::clean_cargo()
        .args([
            "make",
            "--no-color",
            "--skip-tasks",
            "^build$",
            "mp-login-demo",
        ])
        .current_dir(kit_root())
        .env(
            "CARGO_HOME",
            std::env::var("CARGO_HOME").unwrap_or(format!("{real_home}/.cargo")),
        )
        .env("MP_LOGIN_DEMO_DIR", dir)
        .env(
            "MP_LOGIN_BIN_DIR",
            common::bin_path("mp-login-start").parent().unwrap(),
        )
        .env("MOCK_SCENARIO", scenario)
        .env("NO_PROXY", "*")
        .output()
        .unwrap()
}

/// The mock the demo started no longer accepts connections.
fn assert_mock_stopped(dir: &Path) {
    let ready: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("mock.json")).unwrap()).unwrap();
    let addr = ready["base_url"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://")
        .to_string();
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "the demo's mock at {addr} is still running"
    );
}

#[test]
fn the_demo_publishes_an_account_and_stops_its_mock_even_when_a_step_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let ok = tmp.path().join("ok");
    let out = demo(&ok, "single");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let finish: Value =
        serde_json::from_str(&fs::read_to_string(ok.join("steps/finish.json")).unwrap()).unwrap();
    assert_eq!(finish["account"]["name"], "acme-analytics");
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("\"state\":\"ok\",\"command\":\"mp-login-finish\""));
    assert_mock_stopped(&ok);
    // finish fails (no project in the login's region): the mock is stopped all the same.
    let failed = tmp.path().join("failed");
    let out = demo(&failed, "cross-region");
    assert!(!out.status.success());
    assert_eq!(
        fs::read_to_string(failed.join("steps/finish.exit"))
            .unwrap()
            .trim(),
        "6"
    );
    assert_mock_stopped(&failed);
}
