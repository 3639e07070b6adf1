//! How an error is presented at the edge: the envelope's exit code, hint, details and
//! `actionable`, the seed's exit code table. The library's [`Error`] carries what happened and
//! its data (and the seed's code string, part of its messages); this module decides how it
//! looks to a person and a script, as cargo keeps `CliError` out of its library.
//!
//! | exit | name            | used for                                                     |
//! |------|-----------------|--------------------------------------------------------------|
//! | 0    | SUCCESS         |                                                              |
//! | 1    | GENERAL_ERROR   | publish failures (any cause), config errors, resume guards   |
//! | 2    | AUTH_ERROR      | every OAuth error: inflight, paste, state, denial, exchange  |
//! | 3    | INVALID_ARGS    | bad flags and values (`INVALID_ARGUMENT`)                    |
//! | 4    | NOT_FOUND       | `--project` not visible, where not wrapped (`mp-autopick`)   |
//! | 6    | NEEDS_SELECTION | `NEEDS_REGION_SWITCH` only                                   |
//! | 130  | INTERRUPTED     | SIGINT                                                       |
//!
//! (The seed's 5, RATE_LIMIT, appears only as `original_code` `RATE_LIMITED` of a publish
//! failure, which exits 1.) See `docs/envelopes.md`.

use std::path::Path;

use mp_login_core::claim::Gone;
use mp_login_core::error::{Code, ConfigProblem, Error, MeFailure};
use mp_login_core::redirect::Paste;

use crate::shell::{quote, resume_command};
use mp_login_core::text::shown;
use serde::Serialize;
use serde_json::{json, Value};

/// The seed's `ExitCode` (the table above); serialized as its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    General = 1,
    Auth = 2,
    InvalidArgs = 3,
    NotFound = 4,
    NeedsSelection = 6,
    Interrupted = 130,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The exit of every error whose envelope carries `code`: an error's exit code is its
    /// code's, so that the tables of `docs/envelopes.md` can give one exit per code.
    pub fn of(code: Code) -> Exit {
        match code {
            Code::InvalidArgument => Exit::InvalidArgs,
            Code::OauthInflightMissing
            | Code::OauthInflightExpired
            | Code::OauthInflightCorrupt
            | Code::OauthInflightSchemaTooNew
            | Code::OauthConfigError
            | Code::OauthPasteError
            | Code::OauthStateMismatch
            | Code::OauthIssuerMismatch
            | Code::NotLoggedIn
            | Code::OauthRevocationFailed
            | Code::OauthRefreshRevoked
            | Code::OauthAuthDenied
            | Code::OauthPortError
            | Code::OauthTimeout
            | Code::OauthRegistrationError
            | Code::OauthTokenError
            | Code::OauthPlaceholderMetaCorrupt
            | Code::OauthClientCacheCorrupt => Exit::Auth,
            Code::ProjectNotFound => Exit::NotFound,
            Code::NeedsRegionSwitch => Exit::NeedsSelection,
            Code::Interrupted => Exit::Interrupted,
            // The `/me` failures (`AUTH_FAILED` … `ME_INVALID`) reach an envelope as the
            // `original_code` of a publish failure or of `SERVER_UNAVAILABLE`, which exit 1;
            // `mp-login-status --check` reports some of them on their own, with 1 too.
            Code::AccountChanged
            | Code::ServerUnavailable
            | Code::Cancelled
            | Code::LoginFinishPublishFailed
            | Code::AccountExists
            | Code::ConfigError
            | Code::OauthPlaceholderOutsideRoot
            | Code::OauthPlaceholderMissing
            | Code::OauthPlaceholderBusy
            | Code::ResponseTooLarge
            | Code::SymlinkRefused
            | Code::AuthFailed
            | Code::RateLimited
            | Code::ServerError
            | Code::QueryFailed
            | Code::HttpError
            | Code::MeInvalid
            | Code::GeneralError => Exit::General,
        }
    }

    /// The seed's name of the exit (its `ExitCode` member), as the tables above give it.
    pub fn name(self) -> &'static str {
        match self {
            Exit::General => "GENERAL_ERROR",
            Exit::Auth => "AUTH_ERROR",
            Exit::InvalidArgs => "INVALID_ARGS",
            Exit::NotFound => "NOT_FOUND",
            Exit::NeedsSelection => "NEEDS_SELECTION",
            Exit::Interrupted => "INTERRUPTED",
        }
    }
}

/// Every error code with its exit code: what the tables of `docs/envelopes.md` list (the test
/// `tables` holds them to it).
pub fn error_codes() -> impl Iterator<Item = (&'static str, Exit)> {
    Code::ALL
        .iter()
        .map(|&code| (code.as_str(), Exit::of(code)))
}

impl Serialize for Exit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_u8(self.code())
    }
}

/// The presentation of an [`Error`]: adding an error means a variant in the library (with its
/// [`Code`]) and its arms here; a new code gets its exit in [`Exit::of`].
pub trait Presented {
    /// The envelope's `message` and the stderr line: the library's message, with the kit's
    /// commands where the seed names them.
    fn message(&self) -> String;
    /// The process exit code: the seed's for the same outcome, by the error's code.
    fn exit_code(&self) -> Exit;
    /// The seed's `actionable`: the message or hint names the command to run next.
    fn actionable(&self) -> bool;
    /// What the user should do next, for the envelope's `hint` and the stderr line.
    fn hint(&self) -> Option<String>;
    /// The envelope's `error.details`: the seed's keys where it has the outcome, typed public
    /// facts only.
    fn details(&self) -> Value;
    /// The placeholder a failed publish left, for the envelope's `resume_hint` and `next`.
    fn placeholder_to_resume(&self) -> Option<&Path>;
}

impl Presented for Error {
    fn message(&self) -> String {
        match self {
            Error::InflightMissing { .. } => format!("{self} Run `mp-login-start` first."),
            Error::NeedsRegionSwitch {
                suggested_region: Some(r),
                ..
            } => format!(
                "{self}\n\nRun `mp-login-start --region {r}` to create a separate account for that region."
            ),
            Error::PublishFailed {
                placeholder_dir,
                cause,
            } => format!(
                concat!(
                    "Token exchange succeeded but publish failed: {}: {}\n\nRecover with: {}\n",
                    "(Re-running `mp-login-finish` won't work — the OAuth code has already been consumed.)"
                ),
                cause.code(),
                cause.message(),
                resume_command(placeholder_dir)
            ),
            Error::ServerUnavailable { cause, .. } => format!("{self}: {}", cause.message()),
            Error::PasteError {
                problem: Paste::AuthorizeUrl,
                ..
            } => concat!(
                "the pasted text is the authorize URL that `mp-login-start` printed, ",
                "not the redirect URL with `code` and `state`"
            )
            .into(),
            Error::LoginTaken { gone, cause, .. } => format!(
                "This login was ended or replaced by another process: {}.",
                match (gone, cause) {
                    (Some(Gone::Removed), _) => concat!(
                        "its inflight file is gone, and it left no outcome ",
                        "(it was stopped, or it was not this kit)"
                    )
                    .to_string(),
                    (Some(Gone::Replaced), _) => {
                        "its inflight file now holds a newer login (`mp-login-start` ran again)"
                            .into()
                    }
                    (None, Some(cause)) => cause.message(),
                    (None, None) => "it left no outcome".into(),
                }
            ),
            _ => self.to_string(),
        }
    }

    fn exit_code(&self) -> Exit {
        Exit::of(self.kind())
    }

    fn actionable(&self) -> bool {
        match self {
            Error::RegistrationError {
                status: Some(429), ..
            } => true,
            // A usage error's hint is free text of the command line's (a clap suggestion, a
            // pipe to set up): whether it names a command is read from it.
            Error::InvalidArgs { hint, .. } => hint
                .as_deref()
                .is_some_and(|h| h.contains("`mp-") || h.contains("`mp ")),
            // What to do is a value to fix or a wait, not a command.
            Error::CallbackHost
            | Error::PasteError {
                problem: Paste::TooLarge { .. } | Paste::NotUtf8,
                ..
            }
            | Error::AccountNameInvalid { new: true, .. }
            | Error::MetadataIssuerMismatch { .. }
            | Error::RegistrationError {
                status: Some(400..=499),
                refusal: Some(_),
                ..
            }
            | Error::Cancelled { .. }
            | Error::ProjectNotFound { .. }
            | Error::Config {
                problem:
                    ConfigProblem::InvalidName
                    | ConfigProblem::ProjectIdNotDigits
                    | ConfigProblem::PlaceholderRegion { .. },
                ..
            }
            | Error::AccountExists { .. }
            | Error::NetworkError { .. }
            | Error::ResponseTooLarge { .. }
            | Error::Interrupted {
                placeholder_dir: None,
                code_spent: false,
                inflight: None,
                another_finish: false,
            }
            | Error::ConfigCorrupt { .. }
            | Error::ClientCacheCorrupt { .. }
            | Error::SymlinkRefused { .. }
            | Error::Io { .. }
            | Error::Internal { .. } => false,
            Error::LogoutIncomplete { kept, .. } => kept.iter().any(|(_, e)| e.actionable()),
            // The message or the hint names the command to run next.
            _ => true,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match family(self) {
            Family::Usage => usage_hint(self),
            Family::Login => login_hint(self),
            Family::Account => account_hint(self),
            Family::Publish => publish_hint(self),
            Family::Interrupt => interrupt_hint(self),
            Family::System => system_hint(self),
        })
    }

    fn details(&self) -> Value {
        match family(self) {
            // A flag or argument: the message says what is wrong with it.
            Family::Usage => json!({}),
            Family::Login => login_details(self),
            Family::Account => account_details(self),
            Family::Publish => publish_details(self),
            Family::Interrupt => interrupt_details(self),
            Family::System => system_details(self),
        }
    }

    fn placeholder_to_resume(&self) -> Option<&Path> {
        match self {
            Error::PublishFailed {
                placeholder_dir, ..
            } => Some(placeholder_dir),
            _ => None,
        }
    }
}

/// The families of errors, each with its function of [`Presented::hint`] and of
/// [`Presented::details`]: where to look for an error's presentation, and what makes adding a
/// variant fail to compile until it has its family.
#[derive(Clone, Copy)]
enum Family {
    /// Flags and arguments.
    Usage,
    /// A login under way: its inflight file, the paste, the listener, the OAuth server's answers.
    Login,
    /// The account commands (`mp-token`, `mp-login-status`, `mp-logout`) and their tokens.
    Account,
    /// The publish of a login, and its resume.
    Publish,
    /// SIGINT.
    Interrupt,
    /// The network, the files the kit keeps, and the kit itself.
    System,
}

fn family(e: &Error) -> Family {
    match e {
        Error::InvalidArgs { .. }
        | Error::NotListenable { .. }
        | Error::NotAnEnvelope { .. }
        | Error::NotOAuthAccount { .. }
        | Error::CallbackHost => Family::Usage,
        Error::InflightMissing { .. }
        | Error::InflightExpired { .. }
        | Error::InflightCorrupt { .. }
        | Error::InflightMode { .. }
        | Error::InflightSchemaTooNew { .. }
        | Error::InflightRegionInvalid { .. }
        | Error::PasteError { .. }
        | Error::StateMismatch
        | Error::IssuerMismatch { .. }
        | Error::MetadataIssuerMismatch { .. }
        | Error::AuthDenied { .. }
        | Error::PortError { .. }
        | Error::ListenPortTaken { .. }
        | Error::ListenTimeout { .. }
        | Error::LoginTaken { .. }
        | Error::RegistrationError { .. }
        | Error::TokenError { .. } => Family::Login,
        Error::NotLoggedIn { .. }
        | Error::NoRefreshToken { .. }
        | Error::AccountNameInvalid { .. }
        | Error::AccountChanged { .. }
        | Error::RefreshFailed { .. }
        | Error::RevocationFailed { .. }
        | Error::LogoutIncomplete { .. }
        | Error::ServerUnavailable { .. }
        | Error::Cancelled { .. }
        | Error::RefreshRevoked { .. }
        | Error::TokensCorrupt { .. } => Family::Account,
        Error::MeFetch { .. }
        | Error::ProjectNotFound { .. }
        | Error::Config { .. }
        | Error::NeedsRegionSwitch { .. }
        | Error::AccountExists { .. }
        | Error::PublishFailed { .. }
        | Error::PlaceholderOutsideRoot { .. }
        | Error::PlaceholderMissing { .. }
        | Error::PlaceholderBusy { .. }
        | Error::PlaceholderMetaCorrupt { .. } => Family::Publish,
        Error::Interrupted { .. } => Family::Interrupt,
        Error::NetworkError { .. }
        | Error::ResponseTooLarge { .. }
        | Error::ConfigCorrupt { .. }
        | Error::ClientCacheCorrupt { .. }
        | Error::SymlinkRefused { .. }
        | Error::Io { .. }
        | Error::Internal { .. } => Family::System,
    }
}

/// The hint of a flag or argument that cannot be used.
fn usage_hint(e: &Error) -> String {
    match e {
        Error::InvalidArgs { hint: Some(h), .. } => h.clone(),
        Error::NotListenable { .. } => hints::NOT_LISTENABLE.into(),
        Error::NotAnEnvelope { .. } => hints::NOT_AN_ENVELOPE.into(),
        Error::NotOAuthAccount { .. } => {
            "remove it with mixpanel-headless's own `mp account remove`".into()
        }
        Error::CallbackHost => {
            "open the URL the terminal printed; the browser must come back to localhost".into()
        }
        Error::InvalidArgs { hint: None, .. } => "see `--help` for the accepted flags".into(),
        _ => unreachable!("`family` sends only usage errors here"),
    }
}

/// The hint of a login that cannot go on: its inflight file, the paste, the listener, the
/// OAuth server's answers.
fn login_hint(e: &Error) -> String {
    let start_again = "run `mp-login-start` again, then open the new URL";
    match e {
        Error::PasteError {
            problem,
            redirect_uri,
        } => paste_hint(*problem, redirect_uri),
        Error::InflightMissing { .. } => hints::INFLIGHT_MISSING.into(),
        Error::InflightExpired { .. } => {
            format!("logins must be finished within their TTL: {start_again}")
        }
        Error::InflightCorrupt { path, .. }
        | Error::InflightSchemaTooNew { path, .. }
        | Error::InflightRegionInvalid { path, .. } => format!(
            "inspect or delete `{}`, then run `mp-login-start` again",
            path.display()
        ),
        Error::InflightMode { path, .. } => format!(
            concat!(
                "copied files (CI artifacts, downloads) lose their mode: run `chmod 600 {}`, ",
                "then the same `mp-login-finish` again; the login is still good"
            ),
            quote(&path.to_string_lossy())
        ),
        Error::StateMismatch => hints::STATE_MISMATCH.into(),
        Error::IssuerMismatch { .. } => hints::ISSUER_MISMATCH.into(),
        Error::MetadataIssuerMismatch { .. } => hints::METADATA_ISSUER_MISMATCH.into(),
        Error::AuthDenied { .. } => {
            format!("approve the request in the browser this time: {start_again}")
        }
        Error::PortError { .. } => hints::PORT.into(),
        Error::ListenPortTaken { holder, port, .. } => format!(
            "{}, or finish without listening: paste the URL the browser lands on into `mp-login-finish '<URL>'`",
            match holder {
                Some(h) => format!("stop {} if it is not this login's", shown(h)),
                None => format!("find what listens on port {port} (`ss -ltnp 'sport = :{port}'`) and stop it"),
            }
        ),
        Error::ListenTimeout { .. } => hints::LISTEN_AGAIN.into(),
        Error::LoginTaken { .. } => hints::LOGIN_TAKEN.into(),
        Error::RegistrationError {
            status: Some(429), ..
        } => hints::REGISTRATION_RATE_LIMITED.into(),
        // A 4xx with an error body: the server will refuse the same request again.
        Error::RegistrationError {
            status: Some(400..=499),
            refusal: Some(_),
            ..
        } => hints::REGISTRATION_REFUSED.into(),
        Error::RegistrationError { .. } => hints::REGISTRATION.into(),
        Error::TokenError {
            oauth_error: Some(error),
            ..
        } if error == "invalid_grant" => {
            format!("authorization codes are one-time and short-lived: {start_again}")
        }
        Error::TokenError {
            status: Some(429 | 500..=599) | None,
            ..
        } => hints::TOKEN_RETRY.into(),
        Error::TokenError { .. } => start_again.to_string(),
        _ => unreachable!("`family` sends only login errors here"),
    }
}

/// The hint of an account command that failed, or of the account's tokens.
fn account_hint(e: &Error) -> String {
    match e {
        Error::TokensCorrupt { .. } => hints::TOKENS_CORRUPT.into(),
        Error::AccountNameInvalid { new: true, .. } => hints::NAME_FLAG.into(),
        Error::AccountNameInvalid { new: false, .. } => hints::ACCOUNT_NAME.into(),
        Error::AccountChanged { .. } => hints::ACCOUNT_CHANGED.into(),
        Error::RefreshFailed {
            status: Some(400..=499),
            ..
        } => hints::REFRESH_REFUSED.into(),
        Error::RefreshFailed { .. } => hints::REFRESH_RETRY.into(),
        Error::RevocationFailed { .. } => hints::REVOCATION.into(),
        // One hint per kind of failure, in the order the accounts came.
        Error::LogoutIncomplete { kept, .. } => {
            let mut said: Vec<String> = Vec::new();
            for hint in kept.iter().filter_map(|(_, e)| e.hint()) {
                if !said.contains(&hint) {
                    said.push(hint);
                }
            }
            said.join("; ")
        }
        Error::ServerUnavailable { .. } => hints::SERVER_UNAVAILABLE.into(),
        Error::Cancelled { .. } => hints::CANCELLED.into(),
        Error::NotLoggedIn { .. }
        | Error::RefreshRevoked { .. }
        | Error::NoRefreshToken { expired: true, .. } => hints::LOG_IN.into(),
        Error::NoRefreshToken { expired: false, .. } => hints::NO_REFRESH_TOKEN.into(),
        _ => unreachable!("`family` sends only account errors here"),
    }
}

/// The hint of a publish or resume that failed: most name the resume command that publishes
/// the saved tokens.
fn publish_hint(e: &Error) -> String {
    match e {
        Error::MeFetch {
            failure: MeFailure::Status(401),
            ..
        } => hints::ME_REFUSED.into(),
        Error::MeFetch { .. } => hints::ME_RETRY.into(),
        Error::ProjectNotFound { .. } => hints::PROJECT_NOT_FOUND.into(),
        Error::Config { problem, .. } => config_hint(problem),
        Error::NeedsRegionSwitch {
            suggested_region, ..
        } => match suggested_region {
            Some(r) => format!(
                "log in to the region that has your projects: `mp-login-start --region {r}`"
            ),
            None => hints::REGION_UNKNOWN.into(),
        },
        Error::AccountExists { .. } => hints::ACCOUNT_EXISTS.into(),
        Error::PublishFailed {
            placeholder_dir,
            cause,
        } => {
            let command = resume_command(placeholder_dir);
            match cause.as_ref() {
                Error::AccountExists { .. } | Error::Config { .. } => format!(
                    "{}; then run `{command}` (with `--name` or `--project` as needed)",
                    cause.hint().unwrap_or_default()
                ),
                Error::ProjectNotFound { .. } => format!(
                    concat!(
                        "run `{} --project <id>` with a visible id ",
                        "(`details.original_details.available_projects`)"
                    ),
                    command
                ),
                Error::MeFetch {
                    failure: MeFailure::Status(401),
                    ..
                } => format!(
                    concat!(
                        "the server refused the new access token: try `{}` once, ",
                        "else log in again with `mp-login-start`"
                    ),
                    command
                ),
                Error::MeFetch { .. } => {
                    format!("run `{command}` once the server answers again")
                }
                _ => format!("fix the cause, then run `{command}`"),
            }
        }
        Error::PlaceholderOutsideRoot { root, .. } => format!(
            "pass a placeholder directory below `{}` (the path `mp-login-finish` printed)",
            root.display()
        ),
        Error::PlaceholderMissing { .. } => hints::PLACEHOLDER_MISSING.into(),
        Error::PlaceholderBusy { path } => format!(
            "wait for the other login to end, then run `{}` if it did not publish",
            resume_command(path)
        ),
        Error::PlaceholderMetaCorrupt { path, .. } => format!(
            concat!(
                "do not delete the placeholder (it holds tokens): repair `{}` by hand, ",
                "or log in again with `mp-login-start --region <us|eu|in>`"
            ),
            path.display()
        ),
        _ => unreachable!("`family` sends only publish errors here"),
    }
}

/// The hint of an interrupt: what it left, and how to go on from there.
fn interrupt_hint(e: &Error) -> String {
    match e {
        Error::Interrupted {
            placeholder_dir: Some(dir),
            ..
        } => format!(
            "the tokens were saved before the interrupt: publish them with `{}`",
            resume_command(dir)
        ),
        Error::Interrupted {
            code_spent: true, ..
        } => hints::INTERRUPTED_SPENT.into(),
        Error::Interrupted {
            another_finish: true,
            ..
        } => hints::ANOTHER_FINISH.into(),
        Error::Interrupted {
            inflight: Some(_), ..
        } => hints::LISTEN_AGAIN.into(),
        Error::Interrupted { .. } => "nothing was changed: run the same command again".into(),
        _ => unreachable!("`family` sends only interrupts here"),
    }
}

/// The hint of a failure of the network, of a file the kit keeps, or of the kit itself.
fn system_hint(e: &Error) -> String {
    match e {
        Error::NetworkError { .. } => hints::NETWORK.into(),
        Error::ResponseTooLarge { .. } => hints::TOO_LARGE.into(),
        Error::ConfigCorrupt { path, .. } => {
            format!("fix the TOML in `{}`, then try again", path.display())
        }
        Error::ClientCacheCorrupt { path, .. } => {
            format!("delete `{}` to register a new client", path.display())
        }
        Error::SymlinkRefused { path } => format!(
            "replace the link `{}` with a regular file or directory",
            path.display()
        ),
        Error::Io { .. } => hints::IO.into(),
        Error::Internal { .. } => hints::INTERNAL.into(),
        _ => unreachable!("`family` sends only system errors here"),
    }
}

/// The details of a login's error: the inflight file's, or the OAuth server's answer.
fn login_details(e: &Error) -> Value {
    match e {
        Error::InflightMissing { path } => json!({ "path": path }),
        Error::InflightCorrupt {
            path,
            reason,
            missing,
        } if !missing.is_empty() => {
            json!({ "path": path, "missing": missing, "reason": reason })
        }
        Error::InflightCorrupt { path, reason, .. } => json!({ "path": path, "reason": reason }),
        Error::InflightExpired {
            path, expires_at, ..
        } => json!({ "path": path, "expires_at": expires_at }),
        Error::InflightMode { path, mode } => json!({
            "path": path,
            "reason": format!("its mode is {mode:04o}; it holds a secret and must be 0600"),
            "mode": format!("{mode:04o}"),
        }),
        Error::InflightSchemaTooNew { path, found } => {
            json!({ "path": path, "schema_version": found, "supported": 1 })
        }
        Error::InflightRegionInvalid { path, region } => {
            json!({ "path": path, "region": region })
        }
        Error::IssuerMismatch { expected, got } => {
            json!({ "expected_issuer": expected, "iss": got })
        }
        Error::MetadataIssuerMismatch { url, expected, got } => {
            json!({ "expected_issuer": expected, "issuer": shown(got).to_string(), "metadata_url": url })
        }
        Error::AuthDenied { error, description } => {
            json!({ "error": error, "error_description": description })
        }
        Error::PortError { first, last } => json!({ "ports": [first, last] }),
        Error::ListenPortTaken {
            address,
            port,
            holder,
        } => json!({ "address": address, "port": port, "holder": holder }),
        Error::ListenTimeout { seconds, path } => {
            json!({ "timeout_seconds": seconds, "path": path })
        }
        Error::LoginTaken { path, .. } => json!({ "path": path }),
        Error::RegistrationError {
            status,
            refusal: Some(refusal),
            ..
        } => {
            // The server's words, escaped and bounded as they are on stderr.
            let escaped = |t: &Option<String>| t.as_deref().map(|t| shown(t).to_string());
            json!({
                "status_code": status,
                "error": escaped(&refusal.error),
                "error_description": escaped(&refusal.error_description),
            })
        }
        Error::RegistrationError { status, .. } => json!({ "status_code": status }),
        Error::TokenError {
            status,
            oauth_error,
            ..
        } => json!({ "status_code": status, "error": oauth_error }),
        Error::PasteError { .. } | Error::StateMismatch => json!({}),
        _ => unreachable!("`family` sends only login errors here"),
    }
}

/// The details of an account command's error: the account, and the server's answer.
fn account_details(e: &Error) -> Value {
    match e {
        Error::TokensCorrupt { path, reason } => json!({ "path": path, "reason": reason }),
        Error::NotLoggedIn {
            accounts: Some(accounts),
            ..
        } => json!({ "accounts": accounts }),
        Error::NoRefreshToken {
            name,
            expires_at,
            expired,
        } => json!({ "name": name, "expires_at": expires_at, "expired": expired }),
        Error::AccountChanged { name, .. } => json!({ "name": name }),
        Error::AccountNameInvalid { invalid, .. } => json!({ "name": invalid.0 }),
        Error::RefreshFailed {
            status,
            oauth_error,
            ..
        } => json!({ "status_code": status, "error": oauth_error }),
        Error::RevocationFailed { status, .. } => json!({ "status_code": status }),
        Error::LogoutIncomplete { kept, logged_out } => json!({
            "kept": kept
                .iter()
                .map(|(name, e)| {
                    let reason = match e {
                        Error::RevocationFailed { reason, .. } => reason.clone(),
                        e => e.message(),
                    };
                    json!({ "name": name, "code": e.code(), "reason": reason })
                })
                .collect::<Vec<_>>(),
            "logged_out": logged_out,
        }),
        Error::ServerUnavailable { name, cause } => json!({
            "account": name,
            "original_code": cause.code(),
            "original_details": cause.details(),
        }),
        Error::NotLoggedIn { accounts: None, .. }
        | Error::RefreshRevoked { .. }
        | Error::Cancelled { .. } => json!({}),
        _ => unreachable!("`family` sends only account errors here"),
    }
}

/// The details of a publish's error: the placeholder, the pick, and a failed publish's cause.
fn publish_details(e: &Error) -> Value {
    match e {
        Error::PlaceholderBusy { path } => json!({ "path": path }),
        Error::PlaceholderMissing { path, reason } => json!({ "path": path, "reason": reason }),
        Error::PlaceholderMetaCorrupt { path, reason } => json!({ "path": path, "reason": reason }),
        Error::MeFetch { failure, .. } => match failure {
            MeFailure::Status(s) => json!({ "status_code": s }),
            MeFailure::Network | MeFailure::Invalid => json!({}),
        },
        Error::ProjectNotFound {
            project_id,
            available,
        } => json!({ "project_id": project_id, "available_projects": available }),
        Error::NeedsRegionSwitch {
            region, projects, ..
        } => json!({ "auth_region": region, "cross_region_projects": projects }),
        Error::AccountExists { name } => json!({ "name": name }),
        Error::PublishFailed {
            placeholder_dir,
            cause,
        } => json!({
            "placeholder_dir": placeholder_dir,
            "original_code": cause.code(),
            "original_message": cause.message(),
            "original_details": cause.details(),
        }),
        Error::PlaceholderOutsideRoot { path, root } => {
            json!({ "path": path, "accounts_root": root })
        }
        Error::Config { .. } => json!({}),
        _ => unreachable!("`family` sends only publish errors here"),
    }
}

/// The details of an interrupt: the login it left open, or the tokens it left to publish.
fn interrupt_details(e: &Error) -> Value {
    match e {
        Error::Interrupted {
            placeholder_dir: None,
            inflight: None,
            ..
        } => json!({}),
        Error::Interrupted {
            placeholder_dir: None,
            inflight: Some(path),
            another_finish: true,
            ..
        } => json!({ "inflight_path": path, "another_finish": true }),
        Error::Interrupted {
            placeholder_dir: None,
            inflight: Some(path),
            ..
        } => json!({ "inflight_path": path, "inflight_kept": true }),
        Error::Interrupted {
            placeholder_dir: Some(dir),
            ..
        } => json!({ "placeholder_dir": dir, "resume_command": resume_command(dir) }),
        _ => unreachable!("`family` sends only interrupts here"),
    }
}

/// The details of a failure of the network, of a file the kit keeps, or of the kit itself.
fn system_details(e: &Error) -> Value {
    match e {
        Error::SymlinkRefused { path } => json!({ "path": path }),
        Error::ConfigCorrupt { path, reason } | Error::ClientCacheCorrupt { path, reason } => {
            json!({ "path": path, "reason": reason })
        }
        Error::NetworkError { url, .. } => json!({ "url": url }),
        Error::ResponseTooLarge { url, limit } => json!({ "url": url, "limit": limit }),
        Error::Io { action, path, .. } => json!({ "action": action, "path": path }),
        Error::Internal { .. } => json!({}),
        _ => unreachable!("`family` sends only system errors here"),
    }
}

/// What to do with pasted text that is not a redirect.
fn paste_hint(problem: Paste, redirect_uri: &str) -> String {
    match problem {
        Paste::AuthorizeUrl => format!(
            concat!(
                "open that URL in a browser and approve; then paste the URL the browser lands on ",
                "(it starts with `{}`; the page itself may fail to load)"
            ),
            redirect_uri
        ),
        Paste::TooLarge { line: true } => "paste only the URL the browser landed on".into(),
        Paste::TooLarge { line: false } | Paste::NotUtf8 => {
            "pass only the URL the browser landed on".into()
        }
        Paste::Empty
        | Paste::NotAUrl
        | Paste::CodeWithoutState
        | Paste::StateWithoutCode
        | Paste::NeitherCodeNorState => format!(
            concat!(
                "after approving in the browser, copy the whole URL from the address bar ",
                "(it starts with `{}`) and pass it to `mp-login-finish`"
            ),
            redirect_uri
        ),
    }
}

/// What to do about one of the seed's `ConfigError`s.
fn config_hint(problem: &ConfigProblem) -> String {
    match problem {
        ConfigProblem::EnvProjectNotVisible => concat!(
            "unset `MP_PROJECT_ID` or set it to a visible project, ",
            "then run the `mp-login-resume` command"
        )
        .into(),
        ConfigProblem::RegionMismatch { other } => {
            format!("log in to that project's region: `mp-login-start --region {other}`")
        }
        ConfigProblem::InvalidName => hints::NAME_FLAG.into(),
        ConfigProblem::DirectoryExists { name } => {
            format!("remove it with `mp account remove {name}`, or pass another `--name`")
        }
        ConfigProblem::ProjectIdNotDigits => concat!(
            "pass a project whose id is all digits as `--project` ",
            "(mixpanel-headless refuses a `config.toml` with any other)"
        )
        .into(),
        ConfigProblem::PlaceholderRegion { meta } => format!(
            "set `region` in `{}` to us, eu or in by hand, then run the resume command again",
            meta.display()
        ),
    }
}

/// The fixed hints, out of the `…_hint` functions' matches so that they stay formattable.
mod hints {
    pub const NAME_FLAG: &str = "pass a name of letters, digits, `_` and `-` as `--name`";
    pub const NOT_LISTENABLE: &str =
        "finish by pasting the URL the browser landed on: `mp-login-finish '<URL>'`";
    pub const NOT_AN_ENVELOPE: &str = concat!(
        "pass the envelope file of a `mp-login-finish` that failed after saving the tokens, ",
        "or the placeholder directory itself"
    );
    pub const STATE_MISMATCH: &str =
        "paste the URL of the login you started last; if in doubt, run `mp-login-start` again";
    pub const ISSUER_MISMATCH: &str = concat!(
        "paste only the URL the browser landed on after approving the login that ",
        "`mp-login-start` printed; if in doubt, run `mp-login-start` again"
    );
    pub const ACCOUNT_NAME: &str = concat!(
        "pass a name `mp-login-status` lists; a `config.toml` block under another name was not ",
        "written by a login: remove it by hand"
    );
    pub const ACCOUNT_CHANGED: &str = "run `mp-token` again: it reads the account as it is now";
    pub const REFRESH_RETRY: &str = concat!(
        "run the same command again once the server answers; if the request reached it before ",
        "its answer was lost, the old refresh token is spent and the retry is refused: then ",
        "log in again with `mp-login-start`"
    );
    pub const REFRESH_REFUSED: &str = concat!(
        "the server refused to refresh the token; the account is as it was: ",
        "log in again with `mp-login-start` if it keeps refusing"
    );
    pub const REVOCATION: &str = concat!(
        "the account is kept: run `mp-logout` again once the server answers, or add `--force` ",
        "to remove it without revoking its token (it then stays valid until it expires)"
    );
    pub const CANCELLED: &str = "nothing was changed; `--yes` answers the question in advance";
    pub const SERVER_UNAVAILABLE: &str =
        "the account needs nothing: run `mp-login-status --check` again once the server answers";
    pub const LOG_IN: &str = "log in with `mp-login-start`, then `mp-login-finish`";
    pub const PORT: &str =
        "free one of the ports, or pass `--redirect-port`, then run `mp-login-start` again";
    pub const REGISTRATION_RATE_LIMITED: &str =
        "the server is rate limiting: wait a minute and run `mp-login-start` again";
    pub const REGISTRATION_REFUSED: &str = concat!(
        "the server refused to register the kit's OAuth client and will refuse the same request ",
        "again: its reason is in `details.error` and `details.error_description`; check ",
        "`--base-url` and `--redirect-port`, and report it to the server's operator if they are right"
    );
    pub const METADATA_ISSUER_MISMATCH: &str = concat!(
        "the server at the base URL serves another server's metadata: check `--base-url` and ",
        "`MP_BASE_URL` (for an account, the `base_url` of its `meta.json`); nothing was sent to it"
    );
    pub const NO_REFRESH_TOKEN: &str = concat!(
        "until then `mp-token` without `--force-refresh` (and with a `--min-ttl` below what is ",
        "left) prints it; after that, log in again with `mp-login-start`"
    );
    pub const REGISTRATION: &str =
        "check the network, the region and `--base-url`, then run `mp-login-start` again";
    pub const TOKEN_RETRY: &str = concat!(
        "run `mp-login-finish` again with the same URL; ",
        "if the code is then refused as spent, run `mp-login-start` again"
    );
    pub const TOKENS_CORRUPT: &str =
        "the saved tokens cannot be used: log in again with `mp-login-start`";
    pub const ME_REFUSED: &str =
        "the server did not accept the new access token: log in again with `mp-login-start`";
    pub const ME_RETRY: &str = "run the `mp-login-resume` command once the server answers again";
    pub const PROJECT_NOT_FOUND: &str =
        "check the project id, or drop `--project` to let the kit pick";
    pub const REGION_UNKNOWN: &str =
        "log in to the region that has your projects with `mp-login-start --region <us|eu|in>`";
    pub const ACCOUNT_EXISTS: &str = "pass another `--name`, or remove the existing account first";
    pub const PLACEHOLDER_MISSING: &str = concat!(
        "pass the `placeholder_dir` that `mp-login-finish` printed, ",
        "or log in again with `mp-login-start`"
    );
    pub const NETWORK: &str = "check the network, proxy variables and `--base-url`, then try again";
    pub const TOO_LARGE: &str = concat!(
        "check `--base-url`, or raise `MP_MAX_RESPONSE_BYTES` ",
        "if the server really answers that much"
    );
    pub const INTERRUPTED_SPENT: &str = concat!(
        "the authorization code may be spent and no tokens were saved: ",
        "run `mp-login-start` again"
    );
    pub const LISTEN_AGAIN: &str = "nothing was spent and the login is still open until it expires: run `mp-login-finish --listen` again, or paste the URL into `mp-login-finish '<URL>'`";
    pub const ANOTHER_FINISH: &str = "the other process (a listener, or a paste of the same URL) goes on by itself and prints the outcome: read it there, or run `mp-login-finish` with the same URL once it is done to have it reported here (`mp-login-status` shows a published account)";
    pub const LOGIN_TAKEN: &str = "if the other process saved tokens, `mp-login-start` lists the `mp-login-resume` command that publishes them; else run `mp-login-start` again";
    pub const INFLIGHT_MISSING: &str = "run `mp-login-start` first; if a finish of this login was stopped after saving its tokens, `mp-login-start` lists the `mp-login-resume` command that publishes them";
    pub const IO: &str = "check the permissions and free space of the storage directory";
    pub const INTERNAL: &str =
        "this is a bug in mp-login: please report it with the command you ran";
}

#[cfg(test)]
mod tests {
    use super::*;
    use mp_login_core::error::IoContext;

    fn p() -> std::path::PathBuf {
        std::path::PathBuf::from("/s/x")
    }

    fn s(t: &str) -> String {
        t.to_string()
    }

    /// One of each kind of error (and of each hint that depends on a field).
    fn samples() -> Vec<Error> {
        let mut all = first_samples();
        all.extend(second_samples());
        all.extend(field_samples());
        all
    }

    fn first_samples() -> Vec<Error> {
        vec![
            Error::invalid_args("bad"),
            Error::invalid_input("bad", "did you mean `--x`?"),
            Error::invalid_input("bad", "pipe it into `mp-autopick`"),
            Error::InflightMissing { path: p() },
            Error::InflightExpired {
                path: p(),
                expires_at: 1,
                expired: s("then"),
            },
            Error::InflightCorrupt {
                path: p(),
                reason: s("r"),
                missing: vec![],
            },
            Error::InflightMode {
                path: p(),
                mode: 0o644,
            },
            Error::InflightSchemaTooNew {
                path: p(),
                found: 2,
            },
            Error::InflightRegionInvalid {
                path: p(),
                region: s("xx"),
            },
            Error::StateMismatch,
            Error::IssuerMismatch {
                expected: s("e"),
                got: None,
            },
            Error::MetadataIssuerMismatch {
                url: s("u"),
                expected: s("e"),
                got: s("g"),
            },
            Error::AuthDenied {
                error: s("access_denied"),
                description: None,
            },
            Error::PortError { first: 1, last: 2 },
            Error::ListenPortTaken {
                address: s("a"),
                port: 1,
                holder: None,
            },
            Error::NotAnEnvelope {
                path: p(),
                why: s("w"),
            },
            Error::NotOAuthAccount {
                name: s("n"),
                kind: None,
            },
            Error::CallbackHost,
            Error::NotListenable {
                redirect_uri: s("r"),
                why: "w",
            },
            Error::ListenTimeout {
                seconds: 1,
                path: p(),
            },
            Error::LoginTaken {
                path: p(),
                gone: None,
                cause: None,
            },
            Error::NotLoggedIn {
                reason: s("r"),
                accounts: None,
            },
        ]
    }

    fn second_samples() -> Vec<Error> {
        vec![
            Error::NoRefreshToken {
                name: s("n"),
                expires_at: s("t"),
                expired: true,
            },
            Error::NoRefreshToken {
                name: s("n"),
                expires_at: s("t"),
                expired: false,
            },
            Error::AccountChanged {
                name: s("n"),
                what: "w",
            },
            Error::RevocationFailed {
                status: None,
                reason: s("r"),
            },
            Error::Cancelled { what: "w" },
            Error::RefreshRevoked { message: s("m") },
            Error::TokensCorrupt {
                path: p(),
                reason: s("r"),
            },
            Error::MeFetch {
                failure: MeFailure::Status(401),
                message: s("m"),
            },
            Error::MeFetch {
                failure: MeFailure::Network,
                message: s("m"),
            },
            Error::ProjectNotFound {
                project_id: s("1"),
                available: vec![],
            },
            Error::AccountExists { name: s("n") },
            Error::PlaceholderOutsideRoot {
                path: p(),
                root: p(),
            },
            Error::PlaceholderMissing {
                path: p(),
                reason: "r",
            },
            Error::PlaceholderBusy { path: p() },
            Error::PlaceholderMetaCorrupt {
                path: p(),
                reason: s("r"),
            },
            Error::NetworkError {
                url: s("u"),
                failure: mp_login_core::error::NetworkFailure::Timeout,
                source: None,
            },
            Error::ResponseTooLarge {
                url: s("u"),
                limit: 1,
            },
            Error::ConfigCorrupt {
                path: p(),
                reason: s("r"),
            },
            Error::ClientCacheCorrupt {
                path: p(),
                reason: s("r"),
            },
            Error::SymlinkRefused { path: p() },
            Error::Internal { message: s("m") },
            Error::io("cannot read", p(), std::io::Error::other("x")),
        ]
    }

    /// The errors whose hint depends on a field, once per value that matters.
    fn field_samples() -> Vec<Error> {
        use mp_login_core::account_name::InvalidName;
        use mp_login_core::oauth::Refusal;
        let paste = |problem| Error::PasteError {
            problem,
            redirect_uri: s("http://localhost:1/callback"),
        };
        let mut all = Vec::new();
        for new in [true, false] {
            all.push(Error::AccountNameInvalid {
                invalid: InvalidName(s("../x")),
                new,
            });
        }
        for status in [Some(429), Some(400), Some(500), None] {
            let refusal = status.map(|_| Refusal {
                error: Some(s("invalid_redirect_uri")),
                error_description: None,
            });
            all.push(Error::RegistrationError {
                status,
                refusal,
                message: s("m"),
            });
            all.push(Error::TokenError {
                status,
                oauth_error: None,
                message: s("m"),
            });
            all.push(Error::RefreshFailed {
                status,
                oauth_error: None,
                message: s("m"),
            });
        }
        all.push(Error::TokenError {
            status: Some(400),
            oauth_error: Some(s("invalid_grant")),
            message: s("m"),
        });
        for problem in [
            Paste::Empty,
            Paste::NotAUrl,
            Paste::AuthorizeUrl,
            Paste::CodeWithoutState,
            Paste::StateWithoutCode,
            Paste::NeitherCodeNorState,
            Paste::TooLarge { line: true },
            Paste::TooLarge { line: false },
            Paste::NotUtf8,
        ] {
            all.push(paste(problem));
        }
        all.extend(decision_samples());
        all
    }

    /// The errors whose words depend on a decision: which config problem, region, interrupt.
    fn decision_samples() -> Vec<Error> {
        use mp_login_core::region::Region;
        let interrupted =
            |placeholder: bool, code_spent, inflight: bool, another_finish| Error::Interrupted {
                placeholder_dir: placeholder.then(p),
                code_spent,
                inflight: inflight.then(p),
                another_finish,
            };
        let config = |problem| Error::Config {
            message: s("m"),
            problem,
        };
        let mut all = Vec::new();
        for problem in [
            ConfigProblem::EnvProjectNotVisible,
            ConfigProblem::RegionMismatch { other: Region::Eu },
            ConfigProblem::InvalidName,
            ConfigProblem::DirectoryExists { name: s("n") },
            ConfigProblem::ProjectIdNotDigits,
            ConfigProblem::PlaceholderRegion { meta: p() },
        ] {
            all.push(config(problem));
        }
        for suggested_region in [Some(Region::Eu), None] {
            all.push(Error::NeedsRegionSwitch {
                region: Region::Us,
                breakdown: s("b"),
                projects: vec![],
                suggested_region,
            });
        }
        for (placeholder, code_spent, inflight, another) in [
            (true, false, false, false),
            (false, true, false, false),
            (false, false, true, true),
            (false, false, true, false),
            (false, false, false, false),
        ] {
            all.push(interrupted(placeholder, code_spent, inflight, another));
        }
        let cause = || {
            Box::new(Error::MeFetch {
                failure: MeFailure::Status(503),
                message: s("m"),
            })
        };
        all.push(Error::PublishFailed {
            placeholder_dir: p(),
            cause: cause(),
        });
        all.push(Error::ServerUnavailable {
            name: s("n"),
            cause: cause(),
        });
        all.push(Error::LogoutIncomplete {
            kept: vec![(
                s("n"),
                Error::RevocationFailed {
                    status: None,
                    reason: s("r"),
                },
            )],
            logged_out: Value::Null,
        });
        all.push(Error::LogoutIncomplete {
            kept: vec![(s("n"), Error::SymlinkRefused { path: p() })],
            logged_out: Value::Null,
        });
        all
    }

    /// `actionable` is the seed's "the message or hint names the command to run next": the
    /// explicit list in [`Presented::actionable`] must agree with the words of every error.
    #[test]
    fn actionable_means_a_command_is_named() {
        let names_command = |s: &str| s.contains("`mp-") || s.contains("`mp ");
        for e in samples() {
            // Every kind has its arms in the families of hints and details (no `unreachable!`).
            let _ = e.details();
            let said = names_command(&e.message()) || e.hint().is_some_and(|h| names_command(&h));
            assert_eq!(
                e.actionable(),
                said,
                "{e:?}: {} / {:?}",
                e.message(),
                e.hint()
            );
        }
    }

    #[test]
    fn exits_and_details_of_the_library_errors() {
        let expired = Error::InflightExpired {
            path: "/i".into(),
            expires_at: 1,
            expired: "then".into(),
        };
        assert_eq!(expired.exit_code().code(), 2);
        let corrupt = Error::InflightCorrupt {
            path: "/i".into(),
            reason: "no".into(),
            missing: vec![],
        };
        assert_eq!(corrupt.exit_code().code(), 2);
        let io = std::fs::read("/nonexistent/mp-login")
            .at("cannot read", "/nonexistent/mp-login")
            .unwrap_err();
        assert_eq!(io.exit_code().code(), 1);
        assert_eq!(io.details()["action"], "cannot read");
        let paste = Error::PasteError {
            problem: Paste::NotAUrl,
            redirect_uri: "http://localhost:1/callback".into(),
        };
        assert!(paste
            .hint()
            .is_some_and(|h| h.contains("http://localhost:1/callback")));
    }
}
