//! A standalone `mock-idp serve` as a child process: spawned, waited for until its ready line,
//! stopped (SIGKILL) when dropped. For Rust tests and benchmarks that need the real binary.
//! And the panic hook `serve` runs under.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

pub struct Served {
    pub child: Child,
    /// The `base_url` of the ready line.
    pub base_url: String,
}

impl Served {
    /// The server's resident memory in KiB (`VmRSS` of `/proc/PID/status`; Linux only): what
    /// the memory tests and benchmarks watch.
    pub fn resident_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Runs `BIN serve ARGS…` and returns once it prints `{"base_url": …}`.
    pub fn spawn(bin: &Path, args: &[&str]) -> std::io::Result<Served> {
        let mut child = Command::new(bin)
            .arg("serve")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped");
        BufReader::new(stdout).read_line(&mut line)?;
        let base_url = serde_json::from_str::<serde_json::Value>(&line)
            .ok()
            .and_then(|v| v["base_url"].as_str().map(str::to_string));
        match base_url {
            Some(base_url) => Ok(Served { child, base_url }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(std::io::Error::other(format!(
                    "no ready line from mock-idp serve: {line:?}"
                )))
            }
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Panics inside wiremock's request conversion so far (see [`install_panic_hook`]).
static WIREMOCK_PANICS: AtomicU64 = AtomicU64::new(0);

/// The panic hook of `mock-idp serve`. wiremock 0.6.5 turns each request into its own type
/// before any mock sees it (`Request::from_hyper`) and panics, in the connection's task, on a
/// request it cannot convert: a body cut short of its `Content-Length` or chunked framing, or
/// a target its URL parser refuses (`CONNECT host:80`, an absolute URL with a port over
/// 65535). The task ends and its connection closes; the server serves on. Those panics get one
/// short line each (the first ten, then every thousandth) instead of a panic message and a
/// backtrace hint. The panic of wiremock's reset counter, which `idp::remount` catches, gets
/// none. Any other panic is reported as usual. Writes to a closed stderr are ignored.
pub fn install_panic_hook() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let file = info.location().map_or("", |l| l.file());
        if !file.contains("wiremock-") {
            return report(info);
        }
        if file.ends_with("mock_set.rs") {
            return;
        }
        let n = WIREMOCK_PANICS.fetch_add(1, Ordering::Relaxed) + 1;
        if n <= 10 || n % 1000 == 0 {
            let payload = info.payload();
            let why = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("a panic");
            let _ = writeln!(
                std::io::stderr(),
                "mock-idp: dropped a connection whose request wiremock could not read ({why}; \
                 {n} so far)"
            );
        }
    }));
}
