//! SIGINT with one writer of the outcome. The signal only asks for a stop.
//! Inside a durable step (every atomic write, the publish's rename → `me.json` → `config.toml`)
//! the stop waits for the step to end; outside one, the process stops at once and reports the
//! state the login is in: nothing spent, the code spent without saved tokens, or the placeholder
//! to resume. A login that already published is reported as the success it is.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::error::Error;

/// How far the login got, for the report of an interrupt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Nothing that cannot be redone: run the same command again.
    Idle,
    /// Waiting for the browser or a paste: nothing is spent and this login is still open.
    Listening(PathBuf),
    /// Waiting for the outcome of another process that holds this login (its inflight path):
    /// whether it spent the code, and how it ends, is that process's to say.
    AwaitingOther(PathBuf),
    /// The placeholder for the tokens exists, the code is not sent yet; a stop removes it.
    Prepared(PathBuf),
    /// The code is being exchanged; this placeholder (without tokens) is removed on a stop.
    Exchanging(PathBuf),
    /// The code was (or may have been) exchanged, and no tokens are saved.
    CodeSpent,
    /// Tokens are saved in this directory: `mp-login-resume` publishes them.
    Saved(PathBuf),
    /// The account is published, or the command's outcome is decided and being printed: the
    /// run ends as it is, a late signal changes nothing.
    Published,
}

struct State {
    depth: u32,
    requested: bool,
    phase: Phase,
    /// Files being written outside a durable step, removed by a stop.
    temps: Vec<PathBuf>,
}

static STATE: Mutex<State> = Mutex::new(State {
    depth: 0,
    requested: false,
    phase: Phase::Idle,
    temps: Vec::new(),
});

/// Reports the interrupt and ends the process (the command line prints the envelope and exits
/// 130); it never returns.
type Reporter = Box<dyn Fn(Error) + Send + Sync>;

/// Set by the command line: the library itself never ends the process.
static REPORT: OnceLock<Reporter> = OnceLock::new();

fn state() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Installs what reports the `INTERRUPTED` outcome and ends the process (the CLI's printing
/// layer). Without one, a signal is only recorded.
pub fn install(report: Reporter) {
    let _ = REPORT.set(report);
}

/// Called from the signal handler's thread.
pub fn on_signal() {
    let mut s = state();
    s.requested = true;
    if s.depth == 0 {
        stop(s);
    }
}

/// Records how far the login got.
pub fn set_phase(phase: Phase) {
    state().phase = phase;
}

/// A durable step: an interrupt waits for its end (see the module docs).
#[must_use = "the step is durable only while the guard lives"]
pub struct Durable(());

/// Enters a durable step; an interrupt being reported holds the lock, so nothing starts then.
pub fn durable() -> Durable {
    state().depth += 1;
    Durable(())
}

impl Drop for Durable {
    fn drop(&mut self) {
        let mut s = state();
        s.depth -= 1;
        if s.depth == 0 && s.requested {
            stop(s);
        }
    }
}

/// A temporary file written over a long time (`me.json` while `/me` arrives), outside any
/// durable step: a stop removes it. Register it before creating it.
#[must_use = "the file is removed on a stop only while the guard lives"]
pub struct TempFile(PathBuf);

pub fn temp_file(path: &Path) -> TempFile {
    state().temps.push(path.to_path_buf());
    TempFile(path.to_path_buf())
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let mut s = state();
        if let Some(i) = s.temps.iter().position(|p| *p == self.0) {
            s.temps.swap_remove(i);
        }
    }
}

/// Reports the interrupt for the current phase through the installed reporter, which ends the
/// process, unless the login is published. The lock stays held until the process is gone: no
/// durable step starts meanwhile.
fn stop(s: MutexGuard<'static, State>) {
    for temp in &s.temps {
        let _ = std::fs::remove_file(temp);
    }
    let placeholder_dir = match &s.phase {
        Phase::Published => return,
        Phase::Saved(dir) => Some(dir.clone()),
        Phase::Prepared(dir) | Phase::Exchanging(dir) => {
            let _ = std::fs::remove_dir_all(dir);
            None
        }
        Phase::Idle | Phase::CodeSpent | Phase::Listening(_) | Phase::AwaitingOther(_) => None,
    };
    let error = Error::Interrupted {
        placeholder_dir,
        code_spent: matches!(s.phase, Phase::Exchanging(_) | Phase::CodeSpent),
        inflight: match &s.phase {
            Phase::Listening(path) | Phase::AwaitingOther(path) => Some(path.clone()),
            _ => None,
        },
        another_finish: matches!(s.phase, Phase::AwaitingOther(_)),
    };
    if let Some(report) = REPORT.get() {
        report(error);
    }
}

/// The command returned: its outcome is what is printed, not an interrupt's (a signal that
/// lands while the token or the envelope is being written must not add a second output).
pub fn decided() {
    set_phase(Phase::Published);
}

/// `Phase::Saved(dir)` as a convenience for the publish steps.
pub fn saved(dir: &Path) {
    set_phase(Phase::Saved(dir.to_path_buf()));
}
