//! The library's error catalog: one variant per outcome, with its data and the seed's code
//! string (part of the seed's messages). How each is presented (exit code, hint, details) is
//! the command line's business (`src/presentation.rs`); the codes and exits are listed in
//! `docs/envelopes.md#error-codes`.
//!
//! Messages and details never carry a token, code or verifier: the variants hold only public
//! values (paths, ids, statuses, server error strings).

use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

use crate::region::Region;
use crate::text::shown;

/// How `GET /me` failed; each maps to the seed's `original_code` (`docs/envelopes.md#error-codes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeFailure {
    /// The server answered with this status (after retries).
    Status(u16),
    /// No answer: connect, read, TLS, proxy.
    Network,
    /// An answer the kit cannot use (`docs/seed.md#where-the-kit-differs`).
    Invalid,
}

/// How a call got no usable answer ([`Error::NetworkError`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NetworkFailure {
    Timeout,
    Connect,
    /// Any other failure to send the request or read the answer's head (TLS, proxy, DNS...).
    Request,
    /// The answer's body broke off.
    Read,
    /// The whole call took longer than its deadline (seconds).
    Deadline(f64),
    /// The server answered this status where an answer was needed to go on.
    Status(u16),
    /// The HTTP client could not be made (its TLS roots, say).
    Client,
}

impl std::fmt::Display for NetworkFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetworkFailure::Timeout => f.write_str("timed out"),
            NetworkFailure::Connect => f.write_str("could not connect"),
            NetworkFailure::Request => f.write_str("request failed"),
            NetworkFailure::Read => f.write_str("reading the answer failed"),
            NetworkFailure::Deadline(secs) => {
                write!(f, "no complete answer within the {secs} s deadline")
            }
            NetworkFailure::Status(status) => write!(f, "the server answered {status}"),
            NetworkFailure::Client => f.write_str("cannot build the HTTP client"),
        }
    }
}

/// Which of the seed's `ConfigError`s an [`Error::Config`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigProblem {
    /// `MP_PROJECT_ID` names a project `/me` does not show.
    EnvProjectNotVisible,
    /// The explicit project lives in another region than the login's (`other`).
    RegionMismatch { other: Region },
    /// The account name is not `^[a-zA-Z0-9_-]{1,64}$`.
    InvalidName,
    /// The account's directory exists although `config.toml` does not list the account.
    DirectoryExists { name: String },
    /// The project id is not all digits, which mixpanel-headless refuses in `config.toml`.
    ProjectIdNotDigits,
    /// A placeholder's `meta.json` names no region the kit knows.
    PlaceholderRegion { meta: PathBuf },
}

/// A project of `NEEDS_REGION_SWITCH`'s `cross_region_projects`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrossRegionProject {
    pub id: String,
    pub name: Option<String>,
    /// `"(no domain)"` when the project has none.
    pub domain: String,
}

/// Declares [`Code`] from its variants and strings, so that [`Code::ALL`] cannot miss one.
macro_rules! codes {
    ($($variant:ident = $text:literal,)*) => {
        /// Every `error.code` an envelope can carry (or a publish failure's `original_code`),
        /// each the seed's string where the seed has one. [`Error::kind`] maps each error to
        /// one; the command line maps each code to its exit code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, in the order of `docs/envelopes.md#error-codes`.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The string the envelope carries.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }
        }
    };
}

codes! {
    InvalidArgument = "INVALID_ARGUMENT",
    OauthInflightMissing = "OAUTH_INFLIGHT_MISSING",
    OauthInflightExpired = "OAUTH_INFLIGHT_EXPIRED",
    OauthInflightCorrupt = "OAUTH_INFLIGHT_CORRUPT",
    OauthInflightSchemaTooNew = "OAUTH_INFLIGHT_SCHEMA_TOO_NEW",
    OauthConfigError = "OAUTH_CONFIG_ERROR",
    OauthPasteError = "OAUTH_PASTE_ERROR",
    OauthStateMismatch = "OAUTH_STATE_MISMATCH",
    OauthIssuerMismatch = "OAUTH_ISSUER_MISMATCH",
    NotLoggedIn = "NOT_LOGGED_IN",
    OauthRevocationFailed = "OAUTH_REVOCATION_FAILED",
    AccountChanged = "ACCOUNT_CHANGED",
    ServerUnavailable = "SERVER_UNAVAILABLE",
    OauthRefreshRevoked = "OAUTH_REFRESH_REVOKED",
    Cancelled = "CANCELLED",
    OauthAuthDenied = "OAUTH_AUTH_DENIED",
    OauthPortError = "OAUTH_PORT_ERROR",
    OauthTimeout = "OAUTH_TIMEOUT",
    OauthRegistrationError = "OAUTH_REGISTRATION_ERROR",
    OauthTokenError = "OAUTH_TOKEN_ERROR",
    ProjectNotFound = "PROJECT_NOT_FOUND",
    NeedsRegionSwitch = "NEEDS_REGION_SWITCH",
    LoginFinishPublishFailed = "LOGIN_FINISH_PUBLISH_FAILED",
    AccountExists = "ACCOUNT_EXISTS",
    ConfigError = "CONFIG_ERROR",
    OauthPlaceholderMetaCorrupt = "OAUTH_PLACEHOLDER_META_CORRUPT",
    OauthPlaceholderOutsideRoot = "OAUTH_PLACEHOLDER_OUTSIDE_ROOT",
    OauthPlaceholderMissing = "OAUTH_PLACEHOLDER_MISSING",
    ResponseTooLarge = "RESPONSE_TOO_LARGE",
    OauthPlaceholderBusy = "OAUTH_PLACEHOLDER_BUSY",
    Interrupted = "INTERRUPTED",
    OauthClientCacheCorrupt = "OAUTH_CLIENT_CACHE_CORRUPT",
    SymlinkRefused = "SYMLINK_REFUSED",
    AuthFailed = "AUTH_FAILED",
    RateLimited = "RATE_LIMITED",
    ServerError = "SERVER_ERROR",
    QueryFailed = "QUERY_FAILED",
    HttpError = "HTTP_ERROR",
    MeInvalid = "ME_INVALID",
    GeneralError = "GENERAL_ERROR",
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Flag errors, mutually exclusive inputs, an account name that cannot be used.
    #[error("{message}")]
    InvalidArgs {
        message: String,
        hint: Option<String>,
    },
    /// A finish found no inflight file.
    #[error("No inflight session at {}.", path.display())]
    InflightMissing { path: PathBuf },
    /// The inflight session is past `expires_at`; the file is kept (`docs/envelopes.md#error-codes`).
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
    /// The pasted text has no usable `code` + `state`; `redirect_uri`: where this login's
    /// browser lands (empty when the text was refused before the login was read).
    #[error("{problem}")]
    PasteError {
        problem: crate::redirect::Paste,
        redirect_uri: String,
    },
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
    /// RFC 8414 §3.3: the metadata fetched for the issuer `expected` names another one; it is
    /// not that server's, and nothing in it is used.
    #[error(
        "The authorization server metadata at {url} names the issuer `{}`, not {expected}, the \
         server it was fetched from (RFC 8414 §3.3): nothing was sent to it.",
        shown(got)
    )]
    MetadataIssuerMismatch {
        url: String,
        expected: String,
        got: String,
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
    /// `--listen` cannot bind the redirect's port: another process holds it (named when this
    /// user can see it).
    #[error(
        "OAuth callback port {port} on {address} is not available{}.",
        holder.as_deref().map(|h| format!(": it is held by {}", shown(h))).unwrap_or_default()
    )]
    ListenPortTaken {
        address: String,
        port: u16,
        holder: Option<String>,
    },
    /// A resume was given a file that is not the envelope of a finish whose publish failed
    /// (`why`); a placeholder directory itself is taken as it is.
    #[error("cannot take a placeholder from `{}`: {why}", path.display())]
    NotAnEnvelope { path: PathBuf, why: String },
    /// `config.toml`'s block for the account is not an OAuth login (`kind`: its `type`): the
    /// kit leaves it to mixpanel-headless.
    #[error(
        "`{}` cannot be logged out: {}",
        shown(name),
        crate::account::logout::not_an_oauth_login(kind.as_deref())
    )]
    NotOAuthAccount { name: String, kind: Option<String> },
    /// A request to the listener's callback path addressed to another host than the redirect's
    /// (DNS rebinding, another site's page): refused, the listener waits on.
    #[error("the callback was addressed to another host name than this login's redirect URI")]
    CallbackHost,
    /// The login's redirect is not a loopback `http://` URL this machine can listen on; the
    /// login can still be finished by a paste.
    #[error("cannot listen for `{redirect_uri}`: {why}")]
    NotListenable {
        redirect_uri: String,
        why: &'static str,
    },
    /// `--listen` waited `--listen-timeout` seconds without a usable callback or paste; the
    /// inflight file is kept.
    #[error("OAuth callback timed out after {seconds} s.")]
    ListenTimeout { seconds: u64, path: PathBuf },
    /// While this process waited, another one took the login (its inflight file is gone or now
    /// holds a newer login) and left no outcome to report: it was stopped, or it is not the kit.
    /// `gone`: what became of its inflight file; `None` when this process cannot tell (the
    /// claim's directory is unusable, the `cause`).
    #[error("This login was ended or replaced by another process.")]
    LoginTaken {
        path: PathBuf,
        gone: Option<crate::claim::Gone>,
        #[source]
        cause: Option<Box<Error>>,
    },
    /// Dynamic client registration failed. `refusal`: the server answered with an error body
    /// (RFC 7591 §3.2.2), which a retry would get again.
    #[error("Client registration failed: {message}")]
    RegistrationError {
        status: Option<u16>,
        refusal: Option<crate::oauth::Refusal>,
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
    /// The account's token must be refreshed (`--force-refresh`, or it expires within
    /// `--min-ttl`) and the server issued no refresh token: the access token is all there is.
    #[error(
        "Account `{}` cannot be refreshed: the server issued no refresh token{}.",
        shown(name),
        if *expired {
            format!(", and its access token expired at {expires_at}")
        } else {
            format!("; its access token is valid until {expires_at}")
        }
    )]
    NoRefreshToken {
        name: String,
        expires_at: String,
        expired: bool,
    },
    /// An account name from a flag or `config.toml` that [`crate::account_name::AccountName`]
    /// refuses: no path is built from it. `new`: the name a login was asked to publish as
    /// (`--name`), else the name of an existing account (`--account`, `config.toml`).
    #[error("{invalid}")]
    AccountNameInvalid {
        invalid: crate::account_name::InvalidName,
        new: bool,
    },
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
    /// `mp-logout` kept these accounts (name, why): their token could not be revoked, or (with
    /// `--all`) something else about them failed; `logged_out` lists what it did end. The
    /// first kept account's error gives the code.
    #[error(
        "{}.{}",
        kept.iter()
            .map(|(n, e)| match e {
                Error::RevocationFailed { reason, .. } => {
                    format!("Kept `{}`: its token could not be revoked ({reason})", shown(n))
                }
                e => format!("Kept `{}`: {}", shown(n), e.to_string().trim_end_matches('.')),
            })
            .collect::<Vec<_>>()
            .join("; "),
        logged_out_sentence(logged_out)
    )]
    LogoutIncomplete {
        kept: Vec<(String, Error)>,
        logged_out: Value,
    },
    /// `mp-login-status --check`: the account is fine, the server did not answer the check.
    #[error(
        "Account `{}` is logged in, but the server did not answer the check",
        shown(name)
    )]
    ServerUnavailable {
        name: String,
        #[source]
        cause: Box<Error>,
    },
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
    /// The seed's `ConfigError`, with the seed's message; `problem` says which.
    #[error("{message}")]
    Config {
        message: String,
        problem: ConfigProblem,
    },
    /// No project in the login's region; `suggested_region`: the first other region that has
    /// projects.
    #[error("No projects in region {region} accessible to this account ({breakdown}).")]
    NeedsRegionSwitch {
        region: Region,
        breakdown: String,
        projects: Vec<CrossRegionProject>,
        suggested_region: Option<Region>,
    },
    /// `--name` is an account that `config.toml` already has.
    #[error("Account '{name}' already exists.")]
    AccountExists { name: String },
    /// The publish failed after the tokens were saved in a placeholder, which a resume
    /// publishes (the code is spent).
    #[error("Token exchange succeeded but publish failed ({})", cause.code())]
    PublishFailed {
        placeholder_dir: PathBuf,
        #[source]
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
    /// No usable answer: connect/read timeout, DNS, TLS, proxy, a cut-off body (callers name
    /// the step it belongs to). `failure` says which; `source`, where there is one, is what
    /// the HTTP client or the connection reported, and the message ends with its words.
    #[error("network error talking to {url}: {failure}{}", causes(source.as_deref()))]
    NetworkError {
        url: String,
        failure: NetworkFailure,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// An answer larger than its cap (`MP_MAX_RESPONSE_BYTES`).
    #[error("the answer of {url} is larger than {limit} bytes")]
    ResponseTooLarge { url: String, limit: u64 },
    /// SIGINT. `placeholder_dir` names tokens already saved, which resume can publish;
    /// `code_spent` says the code was (or may have been) exchanged without saved tokens.
    #[error(
        "Interrupted{}.",
        match (placeholder_dir, code_spent, inflight, another_finish) {
            (Some(_), ..) => " after the tokens were saved",
            (None, true, ..) => " while the code was being exchanged",
            (None, false, _, true) => " while another process was finishing this login; its outcome is not known yet",
            (None, false, Some(_), false) => " while waiting for the browser; nothing was spent",
            (None, false, None, false) => "",
        }
    )]
    Interrupted {
        placeholder_dir: Option<PathBuf>,
        code_spent: bool,
        /// The login that is still open (a listener was waiting for it), or, with
        /// `another_finish`, the login another process holds.
        inflight: Option<PathBuf>,
        /// Another process held the login (its exchange, `/me` or publish) while this one
        /// waited for its outcome.
        another_finish: bool,
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

/// `: cause: its cause: …` down the chain from `source`, for the messages that end with what
/// the layer below said.
fn causes(source: Option<&(dyn std::error::Error + Send + Sync)>) -> String {
    let mut out = String::new();
    let mut next: Option<&dyn std::error::Error> = source.map(|s| s as &dyn std::error::Error);
    while let Some(s) = next {
        out.push_str(": ");
        out.push_str(&s.to_string());
        next = s.source();
    }
    out
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

/// ` Logged out of `a`, `b`.` for the accounts a partial `mp-logout` did end (none: nothing).
fn logged_out_sentence(logged_out: &Value) -> String {
    let names: Vec<String> = logged_out
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["name"].as_str())
        .map(|n| format!("`{}`", shown(n)))
        .collect();
    match names.is_empty() {
        true => String::new(),
        false => format!(" Logged out of {}.", names.join(", ")),
    }
}

fn quoted_list(ids: &[String]) -> String {
    ids.iter()
        .map(|i| format!("'{}'", shown(i)))
        .collect::<Vec<_>>()
        .join(", ")
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
        self.kind().as_str()
    }

    /// The code as a [`Code`]; the command line's exit code is the code's
    /// (`src/presentation.rs`).
    pub fn kind(&self) -> Code {
        match self {
            Error::InvalidArgs { .. }
            | Error::AccountNameInvalid { .. }
            | Error::NotListenable { .. }
            | Error::NotAnEnvelope { .. }
            | Error::NotOAuthAccount { .. }
            | Error::CallbackHost => Code::InvalidArgument,
            Error::AccountChanged { .. } => Code::AccountChanged,
            Error::RefreshFailed { .. } => Code::OauthTokenError,
            Error::RevocationFailed { .. } => Code::OauthRevocationFailed,
            Error::LogoutIncomplete { kept, .. } => kept
                .first()
                .map_or(Code::OauthRevocationFailed, |(_, e)| e.kind()),
            Error::ServerUnavailable { .. } => Code::ServerUnavailable,
            Error::Cancelled { .. } => Code::Cancelled,
            Error::InflightMissing { .. } => Code::OauthInflightMissing,
            Error::InflightExpired { .. } => Code::OauthInflightExpired,
            Error::InflightCorrupt { .. } | Error::InflightMode { .. } => {
                Code::OauthInflightCorrupt
            }
            Error::InflightSchemaTooNew { .. } => Code::OauthInflightSchemaTooNew,
            Error::InflightRegionInvalid { .. } => Code::OauthConfigError,
            Error::PasteError { .. } => Code::OauthPasteError,
            Error::StateMismatch => Code::OauthStateMismatch,
            Error::IssuerMismatch { .. } | Error::MetadataIssuerMismatch { .. } => {
                Code::OauthIssuerMismatch
            }
            Error::AuthDenied { .. } => Code::OauthAuthDenied,
            Error::PortError { .. } | Error::ListenPortTaken { .. } => Code::OauthPortError,
            Error::ListenTimeout { .. } => Code::OauthTimeout,
            Error::LoginTaken { .. } => Code::OauthInflightMissing,
            Error::RegistrationError { .. } => Code::OauthRegistrationError,
            Error::TokenError { .. } | Error::TokensCorrupt { .. } => Code::OauthTokenError,
            Error::NotLoggedIn { .. } | Error::NoRefreshToken { .. } => Code::NotLoggedIn,
            Error::RefreshRevoked { .. } => Code::OauthRefreshRevoked,
            Error::MeFetch { failure, .. } => match failure {
                MeFailure::Status(401) => Code::AuthFailed,
                MeFailure::Status(429) => Code::RateLimited,
                MeFailure::Status(500..=599) => Code::ServerError,
                MeFailure::Status(400..=499) => Code::QueryFailed,
                MeFailure::Status(_) | MeFailure::Network => Code::HttpError,
                MeFailure::Invalid => Code::MeInvalid,
            },
            Error::ProjectNotFound { .. } => Code::ProjectNotFound,
            Error::Config { .. } | Error::ConfigCorrupt { .. } => Code::ConfigError,
            Error::NeedsRegionSwitch { .. } => Code::NeedsRegionSwitch,
            Error::AccountExists { .. } => Code::AccountExists,
            Error::PublishFailed { .. } => Code::LoginFinishPublishFailed,
            Error::PlaceholderOutsideRoot { .. } => Code::OauthPlaceholderOutsideRoot,
            Error::PlaceholderMissing { .. } => Code::OauthPlaceholderMissing,
            Error::PlaceholderBusy { .. } => Code::OauthPlaceholderBusy,
            Error::PlaceholderMetaCorrupt { .. } => Code::OauthPlaceholderMetaCorrupt,
            Error::NetworkError { .. } => Code::HttpError,
            Error::ResponseTooLarge { .. } => Code::ResponseTooLarge,
            Error::Interrupted { .. } => Code::Interrupted,
            Error::ClientCacheCorrupt { .. } => Code::OauthClientCacheCorrupt,
            Error::SymlinkRefused { .. } => Code::SymlinkRefused,
            Error::Io { .. } | Error::Internal { .. } => Code::GeneralError,
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
        assert!(matches!(
            e,
            Error::Io {
                action: "cannot read",
                ..
            }
        ));
    }
}
