//! The error catalog of SPEC §6: one variant per outcome, each with the seed's code string and
//! exit code (SPEC §5, CONTRACT §3–§4).
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
//! failure, which exits 1.)
//!
//! Messages and details never carry a token, code or verifier: the variants hold only public
//! values (paths, ids, statuses, server error strings).

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Value};

use crate::region::Region;
use crate::text::shown;

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
}

impl Serialize for Exit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_u8(self.code())
    }
}

/// How `GET /me` failed; each maps to the seed's `original_code` (CONTRACT §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeFailure {
    /// The server answered with this status (after retries).
    Status(u16),
    /// No answer: connect, read, TLS, proxy.
    Network,
    /// An answer the kit cannot use (SPEC §13).
    Invalid,
}

/// A project of `NEEDS_REGION_SWITCH`'s `cross_region_projects`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrossRegionProject {
    pub id: String,
    pub name: Option<String>,
    /// `"(no domain)"` when the project has none.
    pub domain: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Flag errors, mutually exclusive inputs, an account name that cannot be used.
    #[error("{message}")]
    InvalidArgs {
        message: String,
        hint: Option<String>,
    },
    /// `mp-login-finish` found no inflight file.
    #[error("No inflight session at {}. Run `mp-login-start` first.", path.display())]
    InflightMissing { path: PathBuf },
    /// The inflight session is past `expires_at`; the file is kept (CONTRACT §3).
    #[error("Inflight session at {} expired at {expired}.", path.display())]
    InflightExpired {
        path: PathBuf,
        expires_at: i64,
        expired: String,
    },
    /// The inflight file cannot be read, is not an object, misses keys or has wrong types; kept.
    #[error("Inflight session at {} is unusable: {reason}", path.display())]
    InflightCorrupt {
        path: PathBuf,
        reason: String,
        missing: Vec<&'static str>,
    },
    /// The inflight file can be read by others: it was copied (a CI artifact, a download) or
    /// its mode changed. Kept; `chmod 600` makes it usable again.
    #[error(
        "Inflight session at {} is unusable: its mode is {mode:04o}; it holds a secret and must be 0600",
        path.display()
    )]
    InflightMode { path: PathBuf, mode: u32 },
    /// The inflight file was written by a newer version.
    #[error(
        "Inflight session at {} has schema_version={found}, newer than this kit supports (1).",
        path.display()
    )]
    InflightSchemaTooNew { path: PathBuf, found: i64 },
    /// The inflight's `region` is not us, eu or in (checked after the state, as the seed does).
    #[error("Inflight session at {} has an unknown region `{}`.", path.display(), shown(region))]
    InflightRegionInvalid { path: PathBuf, region: String },
    /// The pasted text has no usable `code` + `state`.
    #[error("{message}")]
    PasteError { message: String, hint: String },
    /// The redirect's `state` is not the one start made.
    #[error("State mismatch — the pasted text does not belong to this login session.")]
    StateMismatch,
    /// RFC 9207: the redirect's `iss` is not the issuer this login started with (or is missing
    /// although the server promised it): a mix-up attack or a redirect of another server.
    #[error("{}", issuer_message(expected, got.as_deref()))]
    IssuerMismatch {
        expected: String,
        got: Option<String>,
    },
    /// The redirect carries `error=` (the user or the IdP refused).
    #[error(
        "OAuth provider returned an error: {}{}",
        shown(error),
        description.as_deref().map(|d| format!(" — {}", shown(d))).unwrap_or_default()
    )]
    AuthDenied {
        error: String,
        description: Option<String>,
    },
    /// None of the redirect ports can be bound on 127.0.0.1.
    #[error("No free callback port among {first}-{last} on 127.0.0.1.")]
    PortError { first: u16, last: u16 },
    /// Dynamic client registration failed.
    #[error("Client registration failed: {message}")]
    RegistrationError {
        status: Option<u16>,
        message: String,
    },
    /// The code exchange failed (status, network, or an answer without the needed fields).
    #[error("Token exchange failed: {message}")]
    TokenError {
        status: Option<u16>,
        oauth_error: Option<String>,
        message: String,
    },
    /// No account to give a token for: none named, none active, or it holds no tokens.
    #[error("Not logged in: {reason}.")]
    NotLoggedIn {
        reason: String,
        /// `mp-login-status`'s list of the accounts, for its failure envelope.
        accounts: Option<Value>,
    },
    /// An account name from a flag or `config.toml` that is not `^[a-zA-Z0-9_-]{1,64}$`: no
    /// path is built from it.
    #[error(
        "`{}` is not a valid account name: use 1 to 64 letters, digits, `_` or `-`.",
        shown(name)
    )]
    AccountNameInvalid { name: String },
    /// The account was removed, replaced or rewritten by another program while its token was
    /// being refreshed: the new pair was not written.
    #[error(
        "Account `{}` changed while its token was being refreshed: {what}; nothing was written.",
        shown(name)
    )]
    AccountChanged { name: String, what: &'static str },
    /// A refresh that failed for another reason than a refused grant (network, 5xx, a bad
    /// answer); the account is as it was.
    #[error("Token refresh failed: {message}")]
    RefreshFailed {
        status: Option<u16>,
        oauth_error: Option<String>,
        message: String,
    },
    /// RFC 7009 revocation could not be done: no answer, or not 200.
    #[error("The token could not be revoked: {reason}")]
    RevocationFailed { status: Option<u16>, reason: String },
    /// `mp-logout` kept these accounts (name, why) because their token could not be revoked;
    /// `logged_out` lists what it did end.
    #[error(
        "{}.",
        kept.iter()
            .map(|(n, why)| format!("Kept `{}`: its token could not be revoked ({why})", shown(n)))
            .collect::<Vec<_>>()
            .join("; ")
    )]
    LogoutIncomplete {
        kept: Vec<(String, String)>,
        logged_out: Value,
    },
    /// `mp-login-status --check`: the account is fine, the server did not answer the check.
    #[error(
        "Account `{}` is logged in, but the server did not answer the check: {cause}",
        shown(name)
    )]
    ServerUnavailable { name: String, cause: Box<Error> },
    /// The person said no when asked to confirm.
    #[error("Cancelled: {what}.")]
    Cancelled { what: &'static str },
    /// The refresh token was refused (`invalid_grant`): revoked, rotated out or expired.
    #[error("The refresh token was refused: {message}")]
    RefreshRevoked { message: String },
    /// A placeholder's `tokens.json` cannot be read or lacks `access_token` / `expires_at`.
    #[error("tokens.json at {} is unusable: {reason}", path.display())]
    TokensCorrupt { path: PathBuf, reason: String },
    /// `GET /me` failed.
    #[error("{message}")]
    MeFetch { failure: MeFailure, message: String },
    /// `--project` names a project `/me` does not show.
    #[error(
        "Project '{project_id}' not found. Available projects: {}",
        quoted_list(available)
    )]
    ProjectNotFound {
        project_id: String,
        available: Vec<String>,
    },
    /// The seed's `ConfigError`: `MP_PROJECT_ID` not visible, a region mismatch, an unusable
    /// account name, a taken account directory, an unknown placeholder region.
    #[error("{message}")]
    Config { message: String, hint: String },
    /// No project in the login's region.
    #[error(
        "No projects in region {region} accessible to this account ({breakdown}).{}",
        suggested_region.map(region_suggestion).unwrap_or_default()
    )]
    NeedsRegionSwitch {
        region: Region,
        breakdown: String,
        projects: Vec<CrossRegionProject>,
        suggested_region: Option<Region>,
    },
    /// `--name` is an account that `config.toml` already has.
    #[error("Account '{name}' already exists.")]
    AccountExists { name: String },
    /// The publish tail failed after the tokens were saved in a placeholder.
    #[error(
        "Token exchange succeeded but publish failed: {}: {cause}\n\nRecover with: {}\n{}",
        cause.code(),
        resume_command(placeholder_dir),
        "(Re-running `mp-login-finish` won't work — the OAuth code has already been consumed.)"
    )]
    PublishFailed {
        placeholder_dir: PathBuf,
        cause: Box<Error>,
    },
    /// The resume path is not below `S/accounts/`.
    #[error("The placeholder must live under {}; got {}.", root.display(), path.display())]
    PlaceholderOutsideRoot { path: PathBuf, root: PathBuf },
    /// The resume path holds nothing to publish: not a directory right below `S/accounts/`, no
    /// `tokens.json`, or an account `config.toml` already lists.
    #[error("{} has no tokens to publish: {reason}.", path.display())]
    PlaceholderMissing { path: PathBuf, reason: &'static str },
    /// Another running `mp-login-finish` or `mp-login-resume` holds the placeholder.
    #[error("{} is in use by another running login.", path.display())]
    PlaceholderBusy { path: PathBuf },
    /// The placeholder's `meta.json` exists but cannot be parsed.
    #[error("Placeholder meta at {} could not be read: {reason}", path.display())]
    PlaceholderMetaCorrupt { path: PathBuf, reason: String },
    /// Connect/read timeout, DNS, TLS, proxy (callers name the step it belongs to).
    #[error("network error talking to {url}: {message}")]
    NetworkError { url: String, message: String },
    /// An answer larger than its cap (`MP_MAX_RESPONSE_BYTES`).
    #[error("the answer of {url} is larger than {limit} bytes")]
    ResponseTooLarge { url: String, limit: u64 },
    /// SIGINT. `placeholder_dir` names tokens already saved, which resume can publish;
    /// `code_spent` says the code was (or may have been) exchanged without saved tokens.
    #[error(
        "Interrupted{}.",
        match (placeholder_dir, code_spent) {
            (Some(_), _) => " after the tokens were saved",
            (None, true) => " while the code was being exchanged",
            (None, false) => "",
        }
    )]
    Interrupted {
        placeholder_dir: Option<PathBuf>,
        code_spent: bool,
    },
    /// `config.toml` exists but is not TOML of the expected shape; it is kept as it is.
    #[error("The config file {} is unusable: {reason}", path.display())]
    ConfigCorrupt { path: PathBuf, reason: String },
    /// A cached OAuth client file exists but cannot be parsed; it is kept as it is.
    #[error("The client cache {} is unusable: {reason}", path.display())]
    ClientCacheCorrupt { path: PathBuf, reason: String },
    /// A file the kit reads or writes is a symbolic link.
    #[error("Refusing to use {}: it is a symbolic link", path.display())]
    SymlinkRefused { path: PathBuf },
    /// A bug: the kit panicked. Reported as an envelope rather than a Rust panic message.
    #[error("internal error: {message}")]
    Internal { message: String },
    /// Unexpected I/O, with the `std::io::Error` kept as its source.
    #[error("{action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// RFC 9207's refusal, for a missing and for another server's `iss`.
fn issuer_message(expected: &str, got: Option<&str>) -> String {
    match got {
        None => format!(
            "The redirect carries no `iss`, although the authorization server of this login \
             ({expected}) sends one (RFC 9207)."
        ),
        Some(got) => format!(
            "The redirect's issuer is `{}`, not {expected}, the authorization server of \
             this login (RFC 9207).",
            shown(got)
        ),
    }
}

/// The sentence naming the region to log in to instead.
fn region_suggestion(r: Region) -> String {
    format!("\n\nRun `mp-login-start --region {r}` to create a separate account for that region.")
}

fn quoted_list(ids: &[String]) -> String {
    ids.iter()
        .map(|i| format!("'{}'", shown(i)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The one spelling of the command that publishes a placeholder.
pub fn resume_command(dir: &Path) -> String {
    format!("mp-login-resume {}", shell_quote(&dir.to_string_lossy()))
}

/// Single-quotes `s` for a POSIX shell when it holds anything but safe characters.
pub fn shell_quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@,%".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

impl Error {
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub fn invalid_args(message: impl Into<String>) -> Self {
        Error::InvalidArgs {
            message: message.into(),
            hint: None,
        }
    }

    /// Unusable input with a hint of its own.
    pub fn invalid_input(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::InvalidArgs {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// The envelope's `error.code`: the seed's string wherever the seed names one.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidArgs { .. } | Error::AccountNameInvalid { .. } => "INVALID_ARGUMENT",
            Error::AccountChanged { .. } => "ACCOUNT_CHANGED",
            Error::RefreshFailed { .. } => "OAUTH_TOKEN_ERROR",
            Error::RevocationFailed { .. } | Error::LogoutIncomplete { .. } => {
                "OAUTH_REVOCATION_FAILED"
            }
            Error::ServerUnavailable { .. } => "SERVER_UNAVAILABLE",
            Error::Cancelled { .. } => "CANCELLED",
            Error::InflightMissing { .. } => "OAUTH_INFLIGHT_MISSING",
            Error::InflightExpired { .. } => "OAUTH_INFLIGHT_EXPIRED",
            Error::InflightCorrupt { .. } | Error::InflightMode { .. } => "OAUTH_INFLIGHT_CORRUPT",
            Error::InflightSchemaTooNew { .. } => "OAUTH_INFLIGHT_SCHEMA_TOO_NEW",
            Error::InflightRegionInvalid { .. } => "OAUTH_CONFIG_ERROR",
            Error::PasteError { .. } => "OAUTH_PASTE_ERROR",
            Error::StateMismatch => "OAUTH_STATE_MISMATCH",
            Error::IssuerMismatch { .. } => "OAUTH_ISSUER_MISMATCH",
            Error::AuthDenied { .. } => "OAUTH_AUTH_DENIED",
            Error::PortError { .. } => "OAUTH_PORT_ERROR",
            Error::RegistrationError { .. } => "OAUTH_REGISTRATION_ERROR",
            Error::TokenError { .. } | Error::TokensCorrupt { .. } => "OAUTH_TOKEN_ERROR",
            Error::NotLoggedIn { .. } => "NOT_LOGGED_IN",
            Error::RefreshRevoked { .. } => "OAUTH_REFRESH_REVOKED",
            Error::MeFetch { failure, .. } => match failure {
                MeFailure::Status(401) => "AUTH_FAILED",
                MeFailure::Status(429) => "RATE_LIMITED",
                MeFailure::Status(500..=599) => "SERVER_ERROR",
                MeFailure::Status(400..=499) => "QUERY_FAILED",
                MeFailure::Status(_) | MeFailure::Network => "HTTP_ERROR",
                MeFailure::Invalid => "ME_INVALID",
            },
            Error::ProjectNotFound { .. } => "PROJECT_NOT_FOUND",
            Error::Config { .. } | Error::ConfigCorrupt { .. } => "CONFIG_ERROR",
            Error::NeedsRegionSwitch { .. } => "NEEDS_REGION_SWITCH",
            Error::AccountExists { .. } => "ACCOUNT_EXISTS",
            Error::PublishFailed { .. } => "LOGIN_FINISH_PUBLISH_FAILED",
            Error::PlaceholderOutsideRoot { .. } => "OAUTH_PLACEHOLDER_OUTSIDE_ROOT",
            Error::PlaceholderMissing { .. } => "OAUTH_PLACEHOLDER_MISSING",
            Error::PlaceholderBusy { .. } => "OAUTH_PLACEHOLDER_BUSY",
            Error::PlaceholderMetaCorrupt { .. } => "OAUTH_PLACEHOLDER_META_CORRUPT",
            Error::NetworkError { .. } => "HTTP_ERROR",
            Error::ResponseTooLarge { .. } => "RESPONSE_TOO_LARGE",
            Error::Interrupted { .. } => "INTERRUPTED",
            Error::ClientCacheCorrupt { .. } => "OAUTH_CLIENT_CACHE_CORRUPT",
            Error::SymlinkRefused { .. } => "SYMLINK_REFUSED",
            Error::Io { .. } | Error::Internal { .. } => "GENERAL_ERROR",
        }
    }

    /// The process exit code: the seed's for the same outcome (SPEC §5).
    pub fn exit_code(&self) -> Exit {
        match self {
            Error::InvalidArgs { .. } | Error::AccountNameInvalid { .. } => Exit::InvalidArgs,
            Error::InflightMissing { .. }
            | Error::InflightExpired { .. }
            | Error::InflightCorrupt { .. }
            | Error::InflightMode { .. }
            | Error::InflightSchemaTooNew { .. }
            | Error::InflightRegionInvalid { .. }
            | Error::PasteError { .. }
            | Error::StateMismatch
            | Error::IssuerMismatch { .. }
            | Error::AuthDenied { .. }
            | Error::PortError { .. }
            | Error::RegistrationError { .. }
            | Error::TokenError { .. }
            | Error::TokensCorrupt { .. }
            | Error::NotLoggedIn { .. }
            | Error::RefreshRevoked { .. }
            | Error::RefreshFailed { .. }
            | Error::RevocationFailed { .. }
            | Error::LogoutIncomplete { .. }
            | Error::PlaceholderMetaCorrupt { .. }
            | Error::ClientCacheCorrupt { .. } => Exit::Auth,
            Error::ProjectNotFound { .. } => Exit::NotFound,
            Error::NeedsRegionSwitch { .. } => Exit::NeedsSelection,
            Error::Interrupted { .. } => Exit::Interrupted,
            Error::MeFetch { .. }
            | Error::AccountChanged { .. }
            | Error::ServerUnavailable { .. }
            | Error::Cancelled { .. }
            | Error::Config { .. }
            | Error::AccountExists { .. }
            | Error::PublishFailed { .. }
            | Error::PlaceholderOutsideRoot { .. }
            | Error::PlaceholderMissing { .. }
            | Error::PlaceholderBusy { .. }
            | Error::NetworkError { .. }
            | Error::ResponseTooLarge { .. }
            | Error::ConfigCorrupt { .. }
            | Error::SymlinkRefused { .. }
            | Error::Io { .. }
            | Error::Internal { .. } => Exit::General,
        }
    }

    /// The seed's `actionable`: the message or hint names the command to run next.
    pub fn actionable(&self) -> bool {
        let names_command = |s: &str| s.contains("`mp-") || s.contains("`mp ");
        names_command(&self.to_string()) || self.hint().is_some_and(|h| names_command(&h))
    }

    /// What the user should do next, for the envelope's `hint` and the stderr line.
    pub fn hint(&self) -> Option<String> {
        let start_again = "run `mp-login-start` again, then open the new URL";
        Some(match self {
            Error::InvalidArgs { hint: Some(h), .. } | Error::PasteError { hint: h, .. } => {
                h.clone()
            }
            Error::InvalidArgs { hint: None, .. } => "see `--help` for the accepted flags".into(),
            Error::InflightMissing { .. } => "run `mp-login-start` first".into(),
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
                crate::error::shell_quote(&path.to_string_lossy())
            ),
            Error::StateMismatch => hints::STATE_MISMATCH.into(),
            Error::IssuerMismatch { .. } => hints::ISSUER_MISMATCH.into(),
            Error::AuthDenied { .. } => {
                format!("approve the request in the browser this time: {start_again}")
            }
            Error::PortError { .. } => hints::PORT.into(),
            Error::RegistrationError {
                status: Some(429), ..
            } => hints::REGISTRATION_RATE_LIMITED.into(),
            Error::RegistrationError { .. } => hints::REGISTRATION.into(),
            Error::TokenError {
                oauth_error: Some(e),
                ..
            } if e == "invalid_grant" => {
                format!("authorization codes are one-time and short-lived: {start_again}")
            }
            Error::TokenError {
                status: Some(429 | 500..=599) | None,
                ..
            } => hints::TOKEN_RETRY.into(),
            Error::TokenError { .. } => start_again.to_string(),
            Error::TokensCorrupt { .. } => hints::TOKENS_CORRUPT.into(),
            Error::AccountNameInvalid { .. } => hints::ACCOUNT_NAME.into(),
            Error::AccountChanged { .. } => hints::ACCOUNT_CHANGED.into(),
            Error::RefreshFailed {
                status: Some(400..=499),
                ..
            } => hints::REFRESH_REFUSED.into(),
            Error::RefreshFailed { .. } => hints::REFRESH_RETRY.into(),
            Error::RevocationFailed { .. } | Error::LogoutIncomplete { .. } => {
                hints::REVOCATION.into()
            }
            Error::ServerUnavailable { .. } => hints::SERVER_UNAVAILABLE.into(),
            Error::Cancelled { .. } => hints::CANCELLED.into(),
            Error::NotLoggedIn { .. } | Error::RefreshRevoked { .. } => hints::LOG_IN.into(),
            Error::MeFetch {
                failure: MeFailure::Status(401),
                ..
            } => hints::ME_REFUSED.into(),
            Error::MeFetch { .. } => hints::ME_RETRY.into(),
            Error::ProjectNotFound { .. } => hints::PROJECT_NOT_FOUND.into(),
            Error::Config { hint, .. } => hint.clone(),
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
            Error::NetworkError { .. } => hints::NETWORK.into(),
            Error::ResponseTooLarge { .. } => hints::TOO_LARGE.into(),
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
            Error::Interrupted { .. } => "nothing was changed: run the same command again".into(),
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
        })
    }

    /// The envelope's `error.details`: the seed's keys where it has the outcome, typed public
    /// facts only.
    pub fn details(&self) -> Value {
        match self {
            Error::InflightMissing { path }
            | Error::SymlinkRefused { path }
            | Error::PlaceholderBusy { path } => {
                json!({ "path": path })
            }
            Error::PlaceholderMissing { path, reason } => json!({ "path": path, "reason": reason }),
            Error::InflightCorrupt {
                path,
                reason,
                missing,
            } if !missing.is_empty() => {
                json!({ "path": path, "missing": missing, "reason": reason })
            }
            Error::InflightCorrupt { path, reason, .. }
            | Error::PlaceholderMetaCorrupt { path, reason }
            | Error::TokensCorrupt { path, reason }
            | Error::ConfigCorrupt { path, reason }
            | Error::ClientCacheCorrupt { path, reason } => {
                json!({ "path": path, "reason": reason })
            }
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
            Error::NotLoggedIn {
                accounts: Some(accounts),
                ..
            } => json!({ "accounts": accounts }),
            Error::IssuerMismatch { expected, got } => {
                json!({ "expected_issuer": expected, "iss": got })
            }
            Error::AuthDenied { error, description } => {
                json!({ "error": error, "error_description": description })
            }
            Error::PortError { first, last } => json!({ "ports": [first, last] }),
            Error::RegistrationError { status, .. } => json!({ "status_code": status }),
            Error::TokenError {
                status,
                oauth_error,
                ..
            } => json!({ "status_code": status, "error": oauth_error }),
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
            Error::AccountExists { name }
            | Error::AccountNameInvalid { name }
            | Error::AccountChanged { name, .. } => json!({ "name": name }),
            Error::RefreshFailed {
                status,
                oauth_error,
                ..
            } => json!({ "status_code": status, "error": oauth_error }),
            Error::RevocationFailed { status, .. } => json!({ "status_code": status }),
            Error::LogoutIncomplete { kept, logged_out } => json!({
                "kept": kept
                    .iter()
                    .map(|(name, reason)| json!({ "name": name, "reason": reason }))
                    .collect::<Vec<_>>(),
                "logged_out": logged_out,
            }),
            Error::ServerUnavailable { name, cause } => json!({
                "account": name,
                "original_code": cause.code(),
                "original_details": cause.details(),
            }),
            Error::PublishFailed {
                placeholder_dir,
                cause,
            } => json!({
                "placeholder_dir": placeholder_dir,
                "original_code": cause.code(),
                "original_message": cause.to_string(),
                "original_details": cause.details(),
            }),
            Error::PlaceholderOutsideRoot { path, root } => {
                json!({ "path": path, "accounts_root": root })
            }
            Error::NetworkError { url, .. } => json!({ "url": url }),
            Error::ResponseTooLarge { url, limit } => json!({ "url": url, "limit": limit }),
            Error::Io { action, path, .. } => json!({ "action": action, "path": path }),
            Error::InvalidArgs { .. }
            | Error::PasteError { .. }
            | Error::StateMismatch
            | Error::Config { .. }
            | Error::NotLoggedIn { accounts: None, .. }
            | Error::RefreshRevoked { .. }
            | Error::Cancelled { .. }
            | Error::Internal { .. }
            | Error::Interrupted {
                placeholder_dir: None,
                ..
            } => json!({}),
            Error::Interrupted {
                placeholder_dir: Some(dir),
                ..
            } => json!({ "placeholder_dir": dir, "resume_command": resume_command(dir) }),
        }
    }

    /// The placeholder a failed publish left, for the envelope's `resume_hint` and `next`.
    pub fn placeholder_to_resume(&self) -> Option<&Path> {
        match self {
            Error::PublishFailed {
                placeholder_dir, ..
            } => Some(placeholder_dir),
            _ => None,
        }
    }
}

/// serde_json's message with any quoted value cut out: a wrong-typed field of a secret file
/// must not echo what it held.
pub fn json_error_without_values(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let mut out = String::with_capacity(msg.len());
    let mut in_quotes = false;
    for c in msg.chars() {
        if c == '"' {
            if !in_quotes {
                out.push_str("\"…\"");
            }
            in_quotes = !in_quotes;
        } else if !in_quotes {
            out.push(c);
        }
    }
    out
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Names what an I/O call was doing and on which path (coreutils' `map_err_context`):
/// `fs::rename(a, b).at("cannot replace", b)?`.
pub trait IoContext<T> {
    fn at(self, action: &'static str, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, action: &'static str, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| Error::io(action, path, source))
    }
}

/// The fixed hints, out of [`Error::hint`]'s match so that it stays formattable.
mod hints {
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
        "the account is as it was: run the same command again once the server answers ",
        "(`mp-login-status` shows the account)"
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
    pub const IO: &str = "check the permissions and free space of the storage directory";
    pub const INTERNAL: &str =
        "this is a bug in mp-login: please report it with the command you ran";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_keeps_the_io_error_as_the_source() {
        let e = std::fs::read("/nonexistent/mp-login")
            .at("cannot read", "/nonexistent/mp-login")
            .unwrap_err();
        assert_eq!(e.code(), "GENERAL_ERROR");
        assert!(
            e.to_string()
                .starts_with("cannot read `/nonexistent/mp-login`: "),
            "{e}"
        );
        let source = std::error::Error::source(&e).expect("a source");
        let io = source
            .downcast_ref::<std::io::Error>()
            .expect("the io::Error itself");
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        assert_eq!(e.details()["action"], "cannot read");
    }
}
