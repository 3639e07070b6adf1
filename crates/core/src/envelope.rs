//! The one JSON object every run prints (SPEC §4), built from typed public fields only.

use serde::Serialize;
use serde_json::Value;

use crate::autopick::ProjectPick;
use crate::error::Error;
use crate::login::Started;
use crate::publish::Published;

pub const SCHEMA_VERSION: u64 = 1;

/// A command's success fields.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Outcome {
    Started(Started),
    Published(Published),
    Picked { project_pick: ProjectPick },
}

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    schema_version: u64,
    command: &'a str,
    state: &'static str,
    #[serde(flatten)]
    body: T,
}

#[derive(Serialize)]
struct ErrorBody {
    error: ErrorFields,
}

#[derive(Serialize)]
struct ErrorFields {
    code: &'static str,
    message: String,
    exit_code: i32,
    hint: Option<String>,
    details: Value,
}

/// The success envelope, one line.
pub fn success(command: &str, outcome: &Outcome) -> String {
    serde_json::to_string(&Envelope {
        schema_version: SCHEMA_VERSION,
        command,
        state: "ok",
        body: outcome,
    })
    .expect("envelopes serialize")
}

/// The error envelope, one line.
pub fn failure(command: &str, error: &Error) -> String {
    serde_json::to_string(&Envelope {
        schema_version: SCHEMA_VERSION,
        command,
        state: "error",
        body: ErrorBody {
            error: ErrorFields {
                code: error.code(),
                message: error.to_string(),
                exit_code: error.exit_code(),
                hint: error.hint(),
                details: error.details(),
            },
        },
    })
    .expect("envelopes serialize")
}
