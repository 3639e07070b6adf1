//! The one JSON object every run prints, built from typed public fields only. The seed's keys
//! come first and keep its names; the kit adds `command`, `error.exit_code` and `error.hint`
//! (`docs/envelopes.md`).

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use mp_login_core::account::{logout::Logout, status::Status};
use mp_login_core::autopick::Pick;
use mp_login_core::login::{Finished, Started};
use mp_login_core::publish::{NextStep, Published};
use mp_login_core::Error;

use crate::presentation::{Exit, Presented};
use crate::shell::resume_command;

pub const SCHEMA_VERSION: u64 = 1;

/// A command's success fields.
#[derive(Debug, Serialize)]
#[allow(clippy::large_enum_variant)] // one per process
#[serde(untagged)]
pub enum Outcome {
    Started(StartedLogin),
    Published(PublishedLogin),
    Picked(Pick),
    Status(Status),
    Logout(Logout),
    /// `mp-login-tasks`: the cargo-make files it wrote.
    Tasks(Tasks),
    /// Another process finished the login first: its envelope is printed as it was.
    Elsewhere(mp_login_core::claim::Record),
}

impl From<Finished> for Outcome {
    fn from(finished: Finished) -> Outcome {
        match finished {
            Finished::Published(p) => Outcome::Published(PublishedLogin::new(p)),
            Finished::Elsewhere(record) => Outcome::Elsewhere(record),
        }
    }
}

/// A started login as the envelope shows it: the library's fields, then the commands that
/// finish it and that publish what earlier logins left.
#[derive(Debug, Serialize)]
pub struct StartedLogin {
    #[serde(flatten)]
    pub started: Started,
    /// The command that finishes this login.
    pub finish_command: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recoverable: Vec<Recoverable>,
}

/// A directory a resume can publish, with its command.
#[derive(Debug, Serialize)]
pub struct Recoverable {
    pub path: std::path::PathBuf,
    pub resume_command: String,
}

impl StartedLogin {
    pub fn new(started: Started, finish_command: String) -> StartedLogin {
        let recoverable = started
            .recoverable
            .iter()
            .map(|path| Recoverable {
                resume_command: resume_command(path),
                path: path.clone(),
            })
            .collect();
        StartedLogin {
            started,
            finish_command,
            recoverable,
        }
    }
}

/// A published account as the envelope shows it: the library's fields, then its warnings
/// worded (left out when there is none).
#[derive(Debug, Serialize)]
pub struct PublishedLogin {
    #[serde(flatten)]
    pub published: Published,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<WarningView>,
}

/// A warning: a code for scripts and a sentence for people.
#[derive(Debug, Serialize)]
pub struct WarningView {
    pub code: &'static str,
    pub message: String,
}

impl PublishedLogin {
    pub fn new(published: Published) -> PublishedLogin {
        let warnings = published
            .warnings
            .iter()
            .map(|w| WarningView {
                code: w.code(),
                message: crate::sentences::warning(w),
            })
            .collect();
        PublishedLogin {
            published,
            warnings,
        }
    }
}

/// The cargo-make files of this version of the kit, written for a project's `extend`.
#[derive(Debug, Serialize)]
pub struct Tasks {
    pub version: &'static str,
    pub files: Vec<std::path::PathBuf>,
    /// The line for the project's `Makefile.toml`.
    pub extend: String,
}

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    schema_version: u64,
    state: &'static str,
    command: &'a str,
    #[serde(flatten)]
    body: T,
}

#[derive(Serialize)]
struct ErrorBody {
    error: ErrorFields,
    #[serde(skip_serializing_if = "Option::is_none")]
    resume_hint: Option<NextStep>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<[NextStep; 1]>,
}

#[derive(Serialize)]
struct ErrorFields {
    code: &'static str,
    message: String,
    actionable: bool,
    details: Value,
    exit_code: Exit,
    hint: Option<String>,
}

/// The success envelope, one line.
pub fn success(command: &str, outcome: &Outcome) -> String {
    serde_json::to_string(&Envelope {
        schema_version: SCHEMA_VERSION,
        state: "ok",
        command,
        body: outcome,
    })
    .expect("envelopes serialize")
}

/// The error envelope, one line. A failed publish also carries the seed's top-level
/// `resume_hint` and `next` (`docs/envelopes.md#the-envelope`), with the kit's resume command.
pub fn failure(command: &str, error: &Error) -> String {
    failure_value(command, error).to_string()
}

/// The error envelope as a value (the listener's pages are built from it).
pub fn failure_value(command: &str, error: &Error) -> Value {
    let resume = error.placeholder_to_resume().map(|dir: &Path| {
        let command = resume_command(dir);
        (
            NextStep {
                command: command.clone(),
                label: "Recover with `mp-login-resume` — re-running `mp-login-finish` won't work because the OAuth code is already consumed.",
            },
            [NextStep {
                command,
                label: "Resume with corrected args",
            }],
        )
    });
    let (resume_hint, next) = resume.unzip();
    serde_json::to_value(&Envelope {
        schema_version: SCHEMA_VERSION,
        state: "error",
        command,
        body: ErrorBody {
            error: ErrorFields {
                code: error.code(),
                message: error.message(),
                actionable: error.actionable(),
                details: error.details(),
                exit_code: error.exit_code(),
                hint: error.hint(),
            },
            resume_hint,
            next,
        },
    })
    .expect("envelopes serialize")
}
