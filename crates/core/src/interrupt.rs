//! SIGINT with one writer of the outcome, as a value the binary owns ([`Interrupt`]).
//!
//! The core never handles a signal: it records how far the login got ([`Interrupt::set_phase`])
//! and marks its durable steps (every atomic write, the publish's rename → `me.json` →
//! `config.toml`) with [`Interrupt::durable`]. The binary, when asked to stop, calls
//! [`Interrupt::stop`]: it waits for the durable step in progress to end, removes what a stop
//! must not leave, and hands back the state the login is in (nothing spent, the code spent
//! without saved tokens, or the placeholder to resume) as an [`Error::Interrupted`], with every
//! durable step held off until the returned [`Stopping`] is dropped; the binary reports it and
//! ends the process. A login that already published is reported as the success it is: `stop`
//! returns `None`.

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};

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
    /// Tokens are saved in this directory: a resume publishes them.
    Saved(PathBuf),
    /// The account is published, or the command's outcome is decided and being printed: the
    /// run ends as it is, a late stop changes nothing.
    Published,
}

struct State {
    depth: u32,
    requested: bool,
    phase: Phase,
    /// Files being written outside a durable step, removed by a stop.
    temps: Vec<PathBuf>,
}

/// One command's interrupt state: its phase, its durable steps in progress and whether a stop
/// was asked. The binary creates one per run and lends it to the core through
/// [`crate::context::Context`].
pub struct Interrupt {
    state: Mutex<State>,
    /// Signalled when the last durable step ends.
    idle: Condvar,
}

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt {
            state: Mutex::new(State {
                depth: 0,
                requested: false,
                phase: Phase::Idle,
                temps: Vec::new(),
            }),
            idle: Condvar::new(),
        }
    }
}

/// A stop in progress: the login's state as an [`Error::Interrupted`]. While it lives no
/// durable step starts, so nothing changes under the report the binary prints before it ends
/// the process. Dropped without that, the run goes on as if no stop was asked.
pub struct Stopping<'a> {
    held: MutexGuard<'a, State>,
    idle: &'a Condvar,
    pub error: Error,
}

impl Drop for Stopping<'_> {
    fn drop(&mut self) {
        self.held.requested = false;
        self.idle.notify_all();
    }
}

/// A durable step: a stop waits for its end (see the module docs).
#[must_use = "the step is durable only while the guard lives"]
pub struct Durable<'a>(&'a Interrupt);

/// A temporary file written over a long time (`me.json` while `/me` arrives), outside any
/// durable step: a stop removes it.
#[must_use = "the file is removed on a stop only while the guard lives"]
pub struct TempFile<'a> {
    interrupt: &'a Interrupt,
    path: PathBuf,
}

impl Interrupt {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records how far the login got.
    pub fn set_phase(&self, phase: Phase) {
        self.state().phase = phase;
    }

    /// `Phase::Saved(dir)` as a convenience for the publish steps.
    pub fn saved(&self, dir: &Path) {
        self.set_phase(Phase::Saved(dir.to_path_buf()));
    }

    /// The command returned: its outcome is what is printed, not an interrupt's (a stop asked
    /// while the token or the envelope is being written must not add a second output).
    pub fn decided(&self) {
        self.set_phase(Phase::Published);
    }

    /// Enters a durable step. Once a stop is asked, no step starts outside another one: the
    /// caller waits, and the process ends with the stop's report.
    pub fn durable(&self) -> Durable<'_> {
        let mut s = self.state();
        while s.requested && s.depth == 0 {
            s = self.idle.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        s.depth += 1;
        Durable(self)
    }

    /// Registers a temporary file a stop removes; register it before creating it.
    pub fn temp_file(&self, path: &Path) -> TempFile<'_> {
        self.state().temps.push(path.to_path_buf());
        TempFile {
            interrupt: self,
            path: path.to_path_buf(),
        }
    }

    /// Asks for a stop (the binary's SIGINT). Waits for the durable step in progress to end,
    /// removes the temporary files and a placeholder that holds no tokens, and returns the
    /// login's state to report, or `None` when the outcome is already decided (then the
    /// command's own outcome is printed).
    pub fn stop(&self) -> Option<Stopping<'_>> {
        let mut s = self.state();
        s.requested = true;
        while s.depth > 0 {
            s = self.idle.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        if s.phase == Phase::Published {
            // Declined: the run goes on to its own outcome, with its files, and its later
            // steps (the next account of a `--all` logout) must not wait for a stop that will
            // not come.
            s.requested = false;
            self.idle.notify_all();
            return None;
        }
        for temp in &s.temps {
            let _ = std::fs::remove_file(temp);
        }
        let placeholder_dir = match &s.phase {
            Phase::Published => None,
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
        Some(Stopping {
            held: s,
            idle: &self.idle,
            error,
        })
    }
}

impl Drop for Durable<'_> {
    /// The last durable step of a run that was asked to stop does not return until the stop
    /// is reported (the process then ends) or declined: nothing of the run goes on past it (a
    /// code must not be sent after an interrupt arrived).
    fn drop(&mut self) {
        let mut s = self.0.state();
        s.depth -= 1;
        if s.depth == 0 {
            self.0.idle.notify_all();
            while s.requested {
                s = self.0.idle.wait(s).unwrap_or_else(|p| p.into_inner());
            }
        }
    }
}

impl Drop for TempFile<'_> {
    fn drop(&mut self) {
        let mut s = self.interrupt.state();
        if let Some(i) = s.temps.iter().position(|p| *p == self.path) {
            s.temps.swap_remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn a_stop_waits_for_the_durable_step_and_holds_off_the_next() {
        let interrupt = Arc::new(Interrupt::default());
        let dir = tempfile::tempdir().unwrap();
        let placeholder = dir.path().join("placeholder");
        std::fs::create_dir(&placeholder).unwrap();
        interrupt.set_phase(Phase::Prepared(placeholder.clone()));
        let step = interrupt.durable();
        let reported = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopper = {
            let (interrupt, reported) = (Arc::clone(&interrupt), Arc::clone(&reported));
            std::thread::spawn(move || {
                let stopping = interrupt.stop().expect("not decided");
                // The binary prints here; the run must not go on meanwhile.
                std::thread::sleep(Duration::from_millis(100));
                reported.store(true, std::sync::atomic::Ordering::SeqCst);
                format!("{:?}", stopping.error)
            })
        };
        std::thread::sleep(Duration::from_millis(100));
        assert!(placeholder.exists(), "the step in progress ends first");
        drop(step);
        assert!(
            reported.load(std::sync::atomic::Ordering::SeqCst),
            "the end of the last durable step waits for the stop's report"
        );
        let error = stopper.join().unwrap();
        assert!(error.contains("Interrupted"), "{error}");
        assert!(
            !placeholder.exists(),
            "a placeholder without tokens is removed"
        );
        // The stop was dropped without ending the process: the run goes on.
        drop(interrupt.durable());
    }

    #[test]
    fn a_decided_outcome_is_not_interrupted_and_two_runs_do_not_share_state() {
        let (one, two) = (Interrupt::default(), Interrupt::default());
        one.decided();
        assert!(one.stop().is_none());
        // The declined stop holds nothing off: a later durable step starts at once.
        drop(one.durable());
        let stopping = two.stop().expect("the other run is not decided");
        assert!(matches!(
            stopping.error,
            Error::Interrupted {
                code_spent: false,
                ..
            }
        ));
    }
}
