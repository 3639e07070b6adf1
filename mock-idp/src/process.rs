//! A standalone `mock-idp serve` as a child process: spawned, waited for until its ready line,
//! stopped (SIGKILL) when dropped. For Rust tests and benchmarks that need the real binary.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct Served {
    pub child: Child,
    /// The `base_url` of the ready line.
    pub base_url: String,
}

impl Served {
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
