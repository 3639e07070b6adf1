//! The command line of the kit (the root package `mp-login`): the shared plumbing of its
//! binaries (`src/bin/`), args → core → envelope → exit code, and the presentation of errors.
//!
//! This is the printing layer: stdout gets exactly one envelope line, stderr gets sentences for
//! people (and the spinner or heartbeat). Usage errors become `INVALID_ARGS` envelopes with
//! exit 3, never clap's default 2.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, Parser};
use envelope::Outcome;
use mp_login_core::claim::Claim;
use mp_login_core::context::Context;
use mp_login_core::http::{Http, HttpConfig, Progress};
use mp_login_core::interrupt::Interrupt;
use mp_login_core::notice::Notice;
use mp_login_core::store::Paths;
use mp_login_core::text::{lines_shown, shown};
use mp_login_core::Error;
use presentation::Presented;

pub mod browser;
pub mod commands;
pub mod envelope;
pub mod page;
pub mod presentation;
pub mod sentences;
pub mod shell;

/// Flags every networked command shares.
#[derive(Debug, Args)]
pub struct Common {
    /// Storage root `S` [default: $MP_STORAGE_DIR, else $MP_OAUTH_STORAGE_DIR, else ~/.mp]
    #[arg(long, value_name = "DIR", value_parser = utf8_path)]
    pub storage_dir: Option<PathBuf>,
    /// Config file `C` [default: ~/.mp/config.toml]
    #[arg(long = "config", env = "MP_CONFIG_PATH", value_name = "FILE", value_parser = utf8_path)]
    pub config_path: Option<PathBuf>,
    /// Connect timeout in seconds
    #[arg(
        long,
        env = "MP_CONNECT_TIMEOUT",
        value_name = "SECS",
        default_value_t = 10.0
    )]
    pub connect_timeout: f64,
    /// Read timeout in seconds
    #[arg(
        long,
        env = "MP_READ_TIMEOUT",
        value_name = "SECS",
        default_value_t = 30.0
    )]
    pub read_timeout: f64,
    /// Retries after the first attempt on 429 and 5xx (registration and /me)
    #[arg(long, env = "MP_HTTP_RETRIES", value_name = "N", default_value_t = 3)]
    pub retries: u32,
    /// Largest answer accepted from any call [default: 256 MiB for /me, 1 MiB for the others]
    #[arg(long, env = "MP_MAX_RESPONSE_BYTES", value_name = "BYTES")]
    pub max_response_bytes: Option<u64>,
    /// Whole-request deadline in seconds [default: 300 for /me, 60 for the others]
    #[arg(long, env = "MP_HTTP_DEADLINE", value_name = "SECS")]
    pub deadline: Option<f64>,
}

/// A path flag's value: the envelope names paths as JSON strings, so a path must be UTF-8
/// (clap refuses any other as a usage error before the command runs).
pub fn utf8_path(value: &str) -> Result<PathBuf, std::convert::Infallible> {
    Ok(PathBuf::from(value))
}

impl Common {
    pub fn paths(&self) -> Result<Paths, Error> {
        let home = || {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".mp"))
                .ok_or_else(|| {
                    Error::invalid_args("HOME is not set: set MP_STORAGE_DIR and MP_CONFIG_PATH")
                })
        };
        // The seed's name, which mixpanel-headless 0.4 still honours, after the new one; an
        // empty value counts as unset (`docs/files.md`).
        let from_env = ["MP_STORAGE_DIR", "MP_OAUTH_STORAGE_DIR"]
            .into_iter()
            .find_map(|k| std::env::var_os(k).filter(|v| !v.is_empty()))
            .map(PathBuf::from);
        let storage = match self.storage_dir.clone().or(from_env) {
            Some(s) => s,
            None => home()?,
        };
        let config = match &self.config_path {
            Some(c) => c.clone(),
            None => home()?.join("config.toml"),
        };
        // Every path the envelope names is a JSON string: refused before anything is written.
        for (what, path) in [("storage directory", &storage), ("config file", &config)] {
            if path.to_str().is_none() {
                return Err(Error::invalid_input(
                    format!("the {what} `{}` is not UTF-8", path.display()),
                    "set MP_STORAGE_DIR and MP_CONFIG_PATH (or HOME) to UTF-8 paths",
                ));
            }
        }
        Ok(Paths { storage, config })
    }

    pub fn context<'a>(&self, process: &'a Process) -> Result<Context<'a>, Error> {
        let secs = |name: &str, v: f64| {
            // At most a day: a longer wait is a mistake, and would overflow a time.
            if v.is_finite() && v > 0.0 && v <= 86_400.0 {
                Ok(Duration::from_secs_f64(v))
            } else {
                Err(Error::invalid_args(format!(
                    "{name} must be a positive number of seconds, at most 86400"
                )))
            }
        };
        let http = Http::new(HttpConfig {
            connect_timeout: secs("--connect-timeout", self.connect_timeout)?,
            read_timeout: secs("--read-timeout", self.read_timeout)?,
            retries: self.retries,
            max_body: self.max_response_bytes,
            deadline: self.deadline.map(|d| secs("--deadline", d)).transpose()?,
            ..HttpConfig::default()
        })?;
        Ok(Context {
            paths: self.paths()?,
            http,
            progress: &process.progress,
            interrupt: &process.interrupt,
            claim: &process.claim,
        })
    }
}

/// What a binary owns for its one run and lends the core through [`Context`]: where progress
/// goes, the interrupt's state and the login claim it may hold. The SIGINT handler shares it.
pub struct Process {
    pub progress: StderrProgress,
    pub interrupt: Interrupt,
    pub claim: Claim,
}

/// Parses `A`, runs `body`, prints the envelope and returns the exit code. SIGINT prints an
/// `INTERRUPTED` envelope naming what the login left (see `mp_login_core::interrupt`) and exits
/// 130, after any durable step in progress has ended.
pub fn run<A: Parser>(
    command: &'static str,
    body: impl FnOnce(A, &Process) -> Result<Outcome, Error>,
) -> ExitCode {
    run_with(command, body, |outcome, claim| {
        report(command, claim, Ok(&outcome))
    })
}

/// [`run`] for `mp-token`: on success stdout is the access token alone (so `$(mp-token)` is the
/// token), or with `--header` the line `Authorization: Bearer <token>`; every failure is the
/// usual envelope.
pub fn run_token<A: Parser>(
    command: &'static str,
    body: impl FnOnce(A, &Process) -> Result<commands::PrintedToken, Error>,
) -> ExitCode {
    run_with(command, body, |printed, _| {
        let mut out = std::io::stdout().lock();
        let prefix = if printed.header {
            "Authorization: Bearer "
        } else {
            ""
        };
        let _ = writeln!(out, "{prefix}{}", printed.token.secret());
        let _ = out.flush();
        ExitCode::SUCCESS
    })
}

fn run_with<A: Parser, T>(
    command: &'static str,
    body: impl FnOnce(A, &Process) -> Result<T, Error>,
    ok: impl FnOnce(T, &Claim) -> ExitCode,
) -> ExitCode {
    let process = Arc::new(Process {
        progress: StderrProgress::from_env(),
        interrupt: Interrupt::default(),
        claim: Claim::default(),
    });
    let on_signal = Arc::clone(&process);
    let _ = ctrlc::set_handler(move || {
        // Waits for a durable step in progress to end; `None`: the outcome is decided, and
        // the main thread prints it. Otherwise nothing changes until the process is gone.
        if let Some(stopping) = on_signal.interrupt.stop() {
            report(command, &on_signal.claim, Err(&stopping.error));
            std::process::exit(i32::from(presentation::Exit::Interrupted.code()))
        }
    });
    let args = match A::try_parse() {
        Ok(a) => a,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let (message, hint) = usage_message(&e);
            let error = match hint {
                Some(hint) => Error::invalid_input(message, hint),
                None => Error::invalid_args(message),
            };
            return report(command, &process.claim, Err(&error));
        }
    };
    // A panic is a bug; it still ends in an envelope (GENERAL_ERROR), and stderr keeps where
    // it happened for the bug report.
    std::panic::set_hook(Box::new(|info| {
        if let Some(at) = info.location() {
            eprintln!("mp-login bug: panicked at {}:{}", at.file(), at.line());
        }
    }));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(args, &process)))
        .unwrap_or_else(|panic| {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(Error::Internal { message })
        });
    process.interrupt.decided();
    match result {
        Ok(value) => ok(value, &process.claim),
        Err(e) => report(command, &process.claim, Err(&e)),
    }
}

fn report(command: &str, claim: &Claim, result: Result<&Outcome, &Error>) -> ExitCode {
    let (line, code, said) = match result {
        // Another process finished this login: what it printed is this run's outcome.
        Ok(outcome @ Outcome::Elsewhere(record)) => (
            record.envelope.to_string(),
            record.exit_code,
            sentences::done(outcome),
        ),
        Ok(outcome) => (
            envelope::success(command, outcome),
            0,
            sentences::done(outcome),
        ),
        Err(e) => (
            envelope::failure(command, e),
            e.exit_code().code(),
            sentences::failed(e),
        ),
    };
    // A login this process finished: its outcome is recorded for any process waiting on it,
    // before it is printed (a kill in between leaves the record, not a printed orphan).
    claim.settle(code, &line, &said);
    eprint!("{said}");
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
    ExitCode::from(code)
}

/// A usage error as one sentence, and clap's suggestion as the hint ("did you mean"). A
/// positional value is named only when it cannot be a pasted redirect (which holds a code).
fn usage_message(e: &clap::Error) -> (String, Option<String>) {
    let ctx = |k: ContextKind| match e.get(k) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => Some(v.join(", ")),
        _ => None,
    };
    let arg = ctx(ContextKind::InvalidArg).unwrap_or_else(|| "an argument".into());
    let suggested = ctx(ContextKind::SuggestedArg)
        .or_else(|| ctx(ContextKind::SuggestedValue))
        .map(|s| {
            format!(
                "did you mean `{}`? See `--help` for the accepted flags",
                shown(&s)
            )
        });
    let message = match e.kind() {
        ErrorKind::UnknownArgument if arg.starts_with('-') => {
            let flag = arg.split('=').next().unwrap_or(&arg);
            format!("unknown flag `{}`", shown(flag))
        }
        ErrorKind::UnknownArgument if arg.contains(['=', '?', '&']) || arg.len() > 64 => {
            "unexpected extra argument (not shown: it may hold a code)".into()
        }
        ErrorKind::UnknownArgument => format!("unexpected extra argument `{}`", shown(&arg)),
        ErrorKind::InvalidValue => {
            let valid = ctx(ContextKind::ValidValue)
                .map(|v| format!(" (expected one of: {v})"))
                .unwrap_or_default();
            format!("invalid value for `{arg}`{valid}")
        }
        ErrorKind::ValueValidation => {
            let why = std::error::Error::source(e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            format!("invalid value for `{arg}`{why}")
        }
        ErrorKind::ArgumentConflict => {
            let other = ctx(ContextKind::PriorArg).unwrap_or_else(|| "another input".into());
            format!("`{arg}` cannot be used together with `{other}`")
        }
        ErrorKind::MissingRequiredArgument => format!("missing required argument `{arg}`"),
        ErrorKind::NoEquals => format!("`{arg}` needs a value"),
        ErrorKind::TooManyValues | ErrorKind::WrongNumberOfValues | ErrorKind::TooFewValues => {
            format!("wrong number of values for `{arg}`")
        }
        ErrorKind::InvalidUtf8 => format!(
            "{} is not valid UTF-8: the envelope names paths as JSON strings, so they must be UTF-8",
            not_utf8_input()
        ),
        other => format!("bad usage ({other})"),
    };
    (message, suggested)
}

/// Which input clap found not to be UTF-8 (it does not say): the flag whose value it is, the
/// argument's position, or the `MP_*` variable.
fn not_utf8_input() -> String {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a.to_str().is_none()) {
        return match i.checked_sub(1).and_then(|p| args[p].to_str()) {
            Some(flag) if flag.starts_with("--") => format!("the value of `{}`", shown(flag)),
            _ => format!("argument {}", i + 1),
        };
    }
    std::env::vars_os()
        .find(|(k, v)| k.to_str().is_some_and(|k| k.starts_with("MP_")) && v.to_str().is_none())
        .map_or_else(
            || "an argument".to_string(),
            |(k, _)| format!("`{}`", k.to_string_lossy()),
        )
}

/// Spinner on a terminal, heartbeat lines every `MP_HEARTBEAT_SECS` (default 10) otherwise.
pub struct StderrProgress {
    tty: bool,
    heartbeat: Duration,
    beats: AtomicU64,
    frame: AtomicUsize,
}

impl StderrProgress {
    fn from_env() -> Self {
        let heartbeat = std::env::var("MP_HEARTBEAT_SECS")
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(Duration::from_secs_f64)
            .unwrap_or(Duration::from_secs(10));
        StderrProgress {
            tty: std::io::stderr().is_terminal(),
            heartbeat,
            beats: AtomicU64::new(0),
            frame: AtomicUsize::new(0),
        }
    }
}

impl Progress for StderrProgress {
    fn waiting(&self, label: &str, elapsed: Duration) {
        if self.tty {
            if elapsed < Duration::from_millis(300) {
                return;
            }
            const FRAMES: [char; 4] = ['|', '/', '-', '\\'];
            let f = self.frame.fetch_add(1, Ordering::Relaxed) % FRAMES.len();
            eprint!("\r{} {label}… {}s", FRAMES[f], elapsed.as_secs());
        } else {
            let due = (elapsed.as_secs_f64() / self.heartbeat.as_secs_f64()) as u64;
            if due > self.beats.load(Ordering::Relaxed) {
                self.beats.store(due, Ordering::Relaxed);
                eprintln!("still {label} ({:.0} s so far)", elapsed.as_secs_f64());
            }
        }
    }

    fn finished(&self, _label: &str) {
        self.beats.store(0, Ordering::Relaxed);
        if self.tty && self.frame.swap(0, Ordering::Relaxed) > 0 {
            eprint!("\r\x1b[2K");
        }
    }

    fn notice(&self, notice: &Notice) {
        eprintln!("{}", lines_shown(&sentences::notice(notice)));
    }
}
