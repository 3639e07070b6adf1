//! The error catalog of SPEC §6: one variant per error code, each with its exit code (SPEC §5).
//!
//! | exit | name            | used for                                                        |
//! |------|-----------------|-----------------------------------------------------------------|
//! | 0    | SUCCESS         |                                                                 |
//! | 1    | GENERAL_ERROR   | unexpected I/O, corrupt files, server 5xx, network              |
//! | 2    | AUTH_ERROR      | inflight missing/expired, state mismatch, access denied, code rejected |
//! | 3    | INVALID_ARGS    | bad flags, unusable pasted text, bad account name, resume path outside the root |
//! | 4    | NOT_FOUND       | `--project` not visible, resume placeholder missing             |
//! | 5    | RATE_LIMIT      | 429 from any endpoint, after the bounded retries                |
//! | 6    | NEEDS_SELECTION | no region-compatible project                                    |
//! | 130  | INTERRUPTED     | SIGINT                                                          |
//!
//! Messages and details never carry a token, code or verifier: the variants hold only public
//! values (paths, ids, statuses, server error strings).

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::region::Region;

pub const EXIT_GENERAL: i32 = 1;
pub const EXIT_AUTH: i32 = 2;
pub const EXIT_INVALID_ARGS: i32 = 3;
pub const EXIT_NOT_FOUND: i32 = 4;
pub const EXIT_RATE_LIMIT: i32 = 5;
pub const EXIT_NEEDS_SELECTION: i32 = 6;
pub const EXIT_INTERRUPTED: i32 = 130;

/// How an HTTP call failed, for the errors whose exit code depends on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpFailure {
    /// The server answered with this status (after retries, where the call retries).
    Status(u16),
    /// The server answered 2xx but the body was not what the protocol says.
    BadBody,
}

impl HttpFailure {
    fn exit_code(&self, on_4xx: i32) -> i32 {
        match self {
            HttpFailure::Status(429) => EXIT_RATE_LIMIT,
            HttpFailure::Status(s) if (400..500).contains(s) => on_4xx,
            _ => EXIT_GENERAL,
        }
    }

    fn status(&self) -> Option<u16> {
        match self {
            HttpFailure::Status(s) => Some(*s),
            HttpFailure::BadBody => None,
        }
    }
}

/// A project seen in `/me` that lives in another region (for `NEEDS_REGION_SWITCH`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ForeignProject {
    pub project_id: String,
    pub project_name: Option<String>,
    pub region: Option<Region>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Flag errors, mutually exclusive inputs.
    #[error("{message}")]
    InvalidArgs {
        message: String,
        hint: Option<String>,
    },
    /// `mp-login-finish` found no inflight file.
    #[error("no login in progress: `{}` does not exist", path.display())]
    InflightMissing { path: PathBuf },
    /// The inflight session is past `expires_at`; the file has been removed.
    #[error("the login started at {created_at} expired at {expires_at}")]
    InflightExpired {
        created_at: String,
        expires_at: String,
    },
    /// The inflight file cannot be parsed, has wrong types or a wrong mode; it is kept.
    #[error("the inflight file `{}` is unusable: {reason}", path.display())]
    InflightCorrupt { path: PathBuf, reason: String },
    /// The inflight file was written by a newer kit.
    #[error("the inflight file `{}` has schema_version {found}, newer than this kit understands (1)", path.display())]
    InflightSchemaTooNew { path: PathBuf, found: u64 },
    /// The pasted text has no usable `code` + `state`.
    #[error("{message}")]
    RedirectInvalid { message: String, hint: String },
    /// The redirect's `state` is not the one start made.
    #[error("the redirect's state does not match the login in progress")]
    StateMismatch,
    /// The redirect carries `error=` (the user or the IdP refused).
    #[error("the authorization server refused the login: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    AccessDenied {
        error: String,
        description: Option<String>,
    },
    /// Dynamic client registration failed.
    #[error("client registration failed: {message}")]
    RegistrationError {
        failure: HttpFailure,
        message: String,
    },
    /// The code exchange failed.
    #[error("the code exchange failed: {message}")]
    TokenError {
        failure: HttpFailure,
        oauth_error: Option<String>,
        message: String,
    },
    /// `GET /me` failed.
    #[error("fetching /me failed: {message}")]
    MeFetchError {
        failure: HttpFailure,
        message: String,
    },
    /// `--project` / `MP_PROJECT_ID` names a project `/me` does not show.
    #[error("project {project_id} (from {source_name}) is not visible to this account")]
    ProjectNotFound {
        project_id: String,
        source_name: &'static str,
        visible: usize,
    },
    /// No project in the requested region.
    #[error("no project is usable in region {region}")]
    NeedsRegionSwitch {
        region: Region,
        projects: Vec<ForeignProject>,
        suggested_region: Option<Region>,
    },
    /// The account name is not `^[a-zA-Z0-9_-]{1,64}$`.
    #[error("`{name}` is not a valid account name: use 1 to 64 letters, digits, `_` or `-`")]
    InvalidAccountName { name: String },
    /// An account of that name is already published.
    #[error("an account named `{name}` already exists")]
    AccountExists { name: String },
    /// The publish tail failed after the tokens were saved in a placeholder.
    #[error("the tokens are saved but publishing the account failed: {cause}")]
    PublishFailed {
        placeholder_dir: PathBuf,
        resume_hint: String,
        cause: Box<Error>,
    },
    /// The resume path is not below `S/accounts/`.
    #[error("`{}` is not inside the accounts directory `{}`", path.display(), root.display())]
    PlaceholderOutsideRoot { path: PathBuf, root: PathBuf },
    /// The resume path has no `tokens.json`.
    #[error("`{}` holds no saved tokens (no `tokens.json`)", path.display())]
    PlaceholderMissing { path: PathBuf },
    /// The placeholder's `meta.json` exists but cannot be parsed.
    #[error("the placeholder's `{}` is unusable: {reason}", path.display())]
    PlaceholderMetaCorrupt { path: PathBuf, reason: String },
    /// Connect/read timeout, DNS, TLS, proxy.
    #[error("network error talking to {url}: {message}")]
    NetworkError { url: String, message: String },
    /// SIGINT. `placeholder_dir` names tokens already saved, which resume can publish.
    #[error("interrupted")]
    Interrupted { placeholder_dir: Option<PathBuf> },
    /// `config.toml` exists but is not TOML of the expected shape; it is kept as it is.
    #[error("the config file `{}` is unusable: {reason}", path.display())]
    ConfigCorrupt { path: PathBuf, reason: String },
    /// A cached OAuth client file exists but cannot be parsed; it is kept as it is.
    #[error("the client cache `{}` is unusable: {reason}", path.display())]
    ClientCacheCorrupt { path: PathBuf, reason: String },
    /// A file the kit reads or writes is a symbolic link.
    #[error("refusing to use `{}`: it is a symbolic link", path.display())]
    SymlinkRefused { path: PathBuf },
    /// A bug: the kit panicked. Reported as an envelope rather than a Rust panic message.
    #[error("internal error: {message}")]
    Internal { message: String },
    /// Unexpected I/O.
    #[error("{action} `{}`: {message}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        message: String,
    },
}

impl Error {
    pub fn io(action: &'static str, path: impl Into<PathBuf>, err: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            message: err.to_string(),
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

    /// The envelope's `error.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidArgs { .. } => "INVALID_ARGS",
            Error::InflightMissing { .. } => "OAUTH_INFLIGHT_MISSING",
            Error::InflightExpired { .. } => "OAUTH_INFLIGHT_EXPIRED",
            Error::InflightCorrupt { .. } => "OAUTH_INFLIGHT_CORRUPT",
            Error::InflightSchemaTooNew { .. } => "OAUTH_INFLIGHT_SCHEMA_TOO_NEW",
            Error::RedirectInvalid { .. } => "OAUTH_REDIRECT_INVALID",
            Error::StateMismatch => "OAUTH_STATE_MISMATCH",
            Error::AccessDenied { .. } => "OAUTH_ACCESS_DENIED",
            Error::RegistrationError { .. } => "OAUTH_REGISTRATION_ERROR",
            Error::TokenError { .. } => "OAUTH_TOKEN_ERROR",
            Error::MeFetchError { .. } => "ME_FETCH_ERROR",
            Error::ProjectNotFound { .. } => "PROJECT_NOT_FOUND",
            Error::NeedsRegionSwitch { .. } => "NEEDS_REGION_SWITCH",
            Error::InvalidAccountName { .. } => "INVALID_ACCOUNT_NAME",
            Error::AccountExists { .. } => "ACCOUNT_EXISTS",
            Error::PublishFailed { .. } => "LOGIN_FINISH_PUBLISH_FAILED",
            Error::PlaceholderOutsideRoot { .. } => "OAUTH_PLACEHOLDER_OUTSIDE_ROOT",
            Error::PlaceholderMissing { .. } => "OAUTH_PLACEHOLDER_MISSING",
            Error::PlaceholderMetaCorrupt { .. } => "OAUTH_PLACEHOLDER_META_CORRUPT",
            Error::NetworkError { .. } => "NETWORK_ERROR",
            Error::Interrupted { .. } => "INTERRUPTED",
            Error::ConfigCorrupt { .. } => "CONFIG_CORRUPT",
            Error::ClientCacheCorrupt { .. } => "OAUTH_CLIENT_CACHE_CORRUPT",
            Error::SymlinkRefused { .. } => "SYMLINK_REFUSED",
            Error::Io { .. } | Error::Internal { .. } => "GENERAL_ERROR",
        }
    }

    /// The process exit code (SPEC §5).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::InvalidArgs { .. }
            | Error::RedirectInvalid { .. }
            | Error::InvalidAccountName { .. }
            | Error::PlaceholderOutsideRoot { .. } => EXIT_INVALID_ARGS,
            Error::InflightMissing { .. }
            | Error::InflightExpired { .. }
            | Error::StateMismatch
            | Error::AccessDenied { .. } => EXIT_AUTH,
            Error::RegistrationError { failure, .. } => failure.exit_code(EXIT_GENERAL),
            Error::TokenError { failure, .. } => failure.exit_code(EXIT_AUTH),
            Error::MeFetchError { failure, .. } => match failure {
                HttpFailure::Status(401) => EXIT_AUTH,
                HttpFailure::Status(429) => EXIT_RATE_LIMIT,
                _ => EXIT_GENERAL,
            },
            Error::ProjectNotFound { .. } | Error::PlaceholderMissing { .. } => EXIT_NOT_FOUND,
            Error::NeedsRegionSwitch { .. } => EXIT_NEEDS_SELECTION,
            Error::PublishFailed { cause, .. } => cause.exit_code(),
            Error::Interrupted { .. } => EXIT_INTERRUPTED,
            Error::InflightCorrupt { .. }
            | Error::InflightSchemaTooNew { .. }
            | Error::AccountExists { .. }
            | Error::PlaceholderMetaCorrupt { .. }
            | Error::NetworkError { .. }
            | Error::ConfigCorrupt { .. }
            | Error::ClientCacheCorrupt { .. }
            | Error::SymlinkRefused { .. }
            | Error::Io { .. }
            | Error::Internal { .. } => EXIT_GENERAL,
        }
    }

    /// What the user should do next, for the envelope's `hint` and the stderr line.
    pub fn hint(&self) -> Option<String> {
        let start_again = "run `mp-login-start` again, then open the new URL";
        Some(match self {
            Error::InvalidArgs { hint: Some(h), .. } => h.clone(),
            Error::InvalidArgs { hint: None, .. } => "see `--help` for the accepted flags".into(),
            Error::InflightMissing { .. } => "run `mp-login-start` first".into(),
            Error::InflightExpired { .. } => {
                format!("logins must be finished within their TTL: {start_again}")
            }
            Error::InflightCorrupt { path, .. } | Error::InflightSchemaTooNew { path, .. } => {
                format!(
                    "inspect or delete `{}`, then run `mp-login-start` again",
                    path.display()
                )
            }
            Error::RedirectInvalid { hint, .. } => hint.clone(),
            Error::StateMismatch => {
                "paste the URL of the login you started last; if in doubt, run `mp-login-start` again".into()
            }
            Error::AccessDenied { .. } => {
                format!("approve the request in the browser this time: {start_again}")
            }
            Error::RegistrationError { failure, .. } => match failure {
                HttpFailure::Status(429) => "the server is rate limiting: wait a minute and run `mp-login-start` again".into(),
                _ => "check the region and `--base-url`, then run `mp-login-start` again".into(),
            },
            Error::TokenError { oauth_error, failure, .. } => {
                if oauth_error.as_deref() == Some("invalid_grant") {
                    format!("authorization codes are one-time and short-lived: {start_again}")
                } else if matches!(failure, HttpFailure::Status(429)) {
                    "the server is rate limiting: wait a minute, then run `mp-login-finish` again with the same URL".into()
                } else if matches!(failure, HttpFailure::Status(500..=599)) {
                    "the server failed: run `mp-login-finish` again with the same URL; if the code is then refused as spent, run `mp-login-start` again".into()
                } else {
                    start_again.to_string()
                }
            }
            Error::MeFetchError { failure: HttpFailure::Status(401), .. } => {
                "the server did not accept the new access token: log in again with `mp-login-start`".into()
            }
            Error::MeFetchError { .. } => "run the `mp-login-resume` command once the server answers again".into(),
            Error::ProjectNotFound { .. } => {
                "check the project id, or drop `--project` / `MP_PROJECT_ID` to let the kit pick".into()
            }
            Error::NeedsRegionSwitch { suggested_region, .. } => match suggested_region {
                Some(r) => format!("log in to the region that has your projects: `mp-login-start --region {r}`"),
                None => "log in to the region that has your projects with `mp-login-start --region <us|eu|in>`".into(),
            },
            Error::InvalidAccountName { .. } => {
                "choose a name of letters, digits, `_` and `-` and pass it as `--name`".into()
            }
            Error::AccountExists { .. } => "choose another `--name`, or remove the existing account first".into(),
            Error::PublishFailed { resume_hint, .. } => format!("fix the cause, then run `{resume_hint}`"),
            Error::PlaceholderOutsideRoot { root, .. } => format!(
                "pass a placeholder directory below `{}` (the path `mp-login-finish` printed)",
                root.display()
            ),
            Error::PlaceholderMissing { .. } => {
                "pass the `placeholder_dir` that `mp-login-finish` printed, or log in again".into()
            }
            Error::PlaceholderMetaCorrupt { path, .. } => {
                format!("repair or delete `{}` (without it the region is `us`)", path.display())
            }
            Error::NetworkError { .. } => {
                "check the network, proxy variables and `--base-url`, then try again".into()
            }
            Error::Interrupted { placeholder_dir: Some(dir) } => format!(
                "the tokens were saved before the interrupt: publish them with `mp-login-resume {}`",
                crate::login::shell_quote(&dir.to_string_lossy())
            ),
            Error::Interrupted { placeholder_dir: None } => {
                "nothing half-written was left behind: run the command again".into()
            }
            Error::ConfigCorrupt { path, .. } => format!("fix the TOML in `{}`, then try again", path.display()),
            Error::ClientCacheCorrupt { path, .. } => {
                format!("delete `{}` to register a new client", path.display())
            }
            Error::SymlinkRefused { path } => format!("replace the link `{}` with a regular file or directory", path.display()),
            Error::Io { .. } => "check the permissions and free space of the storage directory".into(),
            Error::Internal { .. } => "this is a bug in mp-login: please report it with the command you ran".into(),
        })
    }

    /// The envelope's `error.details`: typed public facts only.
    pub fn details(&self) -> Value {
        match self {
            Error::InflightMissing { path }
            | Error::PlaceholderMissing { path }
            | Error::SymlinkRefused { path } => json!({ "path": path }),
            Error::InflightCorrupt { path, reason }
            | Error::PlaceholderMetaCorrupt { path, reason }
            | Error::ConfigCorrupt { path, reason }
            | Error::ClientCacheCorrupt { path, reason } => {
                json!({ "path": path, "reason": reason })
            }
            Error::InflightExpired {
                created_at,
                expires_at,
            } => {
                json!({ "created_at": created_at, "expires_at": expires_at })
            }
            Error::InflightSchemaTooNew { path, found } => {
                json!({ "path": path, "schema_version": found, "supported": 1 })
            }
            Error::AccessDenied { error, description } => {
                json!({ "error": error, "error_description": description })
            }
            Error::RegistrationError { failure, .. } | Error::MeFetchError { failure, .. } => {
                json!({ "status": failure.status() })
            }
            Error::TokenError {
                failure,
                oauth_error,
                ..
            } => {
                json!({ "status": failure.status(), "error": oauth_error })
            }
            Error::ProjectNotFound {
                project_id,
                source_name,
                visible,
            } => {
                json!({ "project_id": project_id, "source": source_name, "visible_projects": visible })
            }
            Error::NeedsRegionSwitch {
                region,
                projects,
                suggested_region,
            } => json!({
                "region": region,
                "projects": projects,
                "suggested_region": suggested_region,
            }),
            Error::InvalidAccountName { name } | Error::AccountExists { name } => {
                json!({ "name": name })
            }
            Error::PublishFailed {
                placeholder_dir,
                resume_hint,
                cause,
            } => json!({
                "placeholder_dir": placeholder_dir,
                "resume_hint": resume_hint,
                "cause": {
                    "code": cause.code(),
                    "message": cause.to_string(),
                    "details": cause.details(),
                },
            }),
            Error::PlaceholderOutsideRoot { path, root } => {
                json!({ "path": path, "accounts_root": root })
            }
            Error::NetworkError { url, .. } => json!({ "url": url }),
            Error::Io { action, path, .. } => json!({ "action": action, "path": path }),
            Error::InvalidArgs { .. }
            | Error::RedirectInvalid { .. }
            | Error::StateMismatch
            | Error::Internal { .. }
            | Error::Interrupted {
                placeholder_dir: None,
            } => json!({}),
            Error::Interrupted {
                placeholder_dir: Some(dir),
            } => json!({
                "placeholder_dir": dir,
                "resume_hint": format!("mp-login-resume {}", crate::login::shell_quote(&dir.to_string_lossy())),
            }),
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
