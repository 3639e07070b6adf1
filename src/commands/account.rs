//! The commands of a published account's life: `mp-token`, `mp-login-status`, `mp-logout`;
//! and `mp-login-tasks`, which writes the cargo-make tasks.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use crate::Process;
use clap::Parser;
use mp_login_core::error::Error;
use mp_login_core::secret::AccessToken;

use crate::envelope::Outcome;
use crate::Common;

/// Print the access token of an account (`--account`, else `MP_ACCOUNT`, else the active one),
/// refreshing it first when it expires within `--min-ttl`: `curl -H "Authorization: Bearer
/// $(mp-token)"`.
#[derive(Debug, Parser)]
#[command(
    name = "mp-token",
    version,
    after_help = "Examples:\n  \
mp-token --header | curl -sS -H @- https://mixpanel.com/api/app/me   # the token never on a command line\n  \
mp-token --account work --min-ttl 600"
)]
pub struct TokenArgs {
    /// The account [default: MP_ACCOUNT, else the active account of config.toml]
    #[arg(long, env = "MP_ACCOUNT")]
    pub account: Option<String>,
    /// Refresh when the token expires within this many seconds (at most a year)
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(0..=31_536_000))]
    pub min_ttl: u64,
    /// Refresh even when the token is still good
    #[arg(long)]
    pub force_refresh: bool,
    /// Print `Authorization: Bearer <token>`, for `mp-token --header | curl -H @- URL`: the
    /// token never appears on a command line, so a traced script (`set -x`, cargo-make under
    /// `CI=true`) cannot show it
    #[arg(long)]
    pub header: bool,
    #[command(flatten)]
    pub common: Common,
}

pub fn token(args: TokenArgs, process: &Process) -> Result<PrintedToken, Error> {
    let ctx = args.common.context(process)?;
    let token = mp_login_core::account::token::token(
        &ctx,
        &mp_login_core::account::token::TokenOptions {
            account: args.account.filter(|a| !a.is_empty()),
            min_ttl: Duration::from_secs(args.min_ttl),
            force_refresh: args.force_refresh,
        },
    )?;
    Ok(PrintedToken {
        token,
        header: args.header,
    })
}

/// What `mp-token` prints on success: the token alone, or as an HTTP header line.
pub struct PrintedToken {
    pub token: AccessToken,
    pub header: bool,
}

/// Write the cargo-make tasks of this version (login.toml and the two scripts it runs) into a
/// directory, for a project that installed the binaries: `extend = "DIR/login.toml"`.
#[derive(Debug, Parser)]
#[command(
    name = "mp-login-tasks",
    version,
    after_help = "Examples:\n  \
mp-login-tasks .cargo-make/mp-login            # then in Makefile.toml: extend = \".cargo-make/mp-login/login.toml\"\n  \
cargo install --locked --path . && mp-login-tasks ~/.local/share/mp-login"
)]
pub struct TasksArgs {
    /// The directory to write login.toml, step.sh and require-login.sh into (created if
    /// missing; files of an earlier version are replaced)
    pub dir: PathBuf,
}

/// The files, as this version of the kit ships them.
const TASK_FILES: [(&str, &str); 3] = [
    ("login.toml", include_str!("../../cargo-make/login.toml")),
    ("step.sh", include_str!("../../cargo-make/step.sh")),
    (
        "require-login.sh",
        include_str!("../../cargo-make/require-login.sh"),
    ),
];

pub fn tasks(args: TasksArgs, process: &Process) -> Result<Outcome, Error> {
    use mp_login_core::error::IoContext;
    let version = env!("CARGO_PKG_VERSION");
    let login =
        std::path::absolute(args.dir.join("login.toml")).unwrap_or(args.dir.join("login.toml"));
    // A TOML string of the path, quotes and backslashes escaped; TOML holds only UTF-8.
    let Some(login) = login.to_str() else {
        return Err(Error::invalid_args(format!(
            "`{}` is not UTF-8, and a Makefile.toml can only name UTF-8 paths: pick another directory",
            login.display()
        )));
    };
    std::fs::create_dir_all(&args.dir).at("cannot create directory", &args.dir)?;
    let mut files = Vec::new();
    for (name, text) in TASK_FILES {
        let path = args.dir.join(name);
        let stamped = match name {
            "login.toml" => format!(
                "# mp-login {version}, written by `mp-login-tasks`: run it again after upgrading the binaries.\n{text}"
            ),
            _ => text.to_string(),
        };
        // Atomically, never through a symlink or into a FIFO that a checkout put there.
        mp_login_core::store::write_atomic(&process.interrupt, &path, stamped.as_bytes())?;
        files.push(path);
    }
    Ok(Outcome::Tasks(crate::envelope::Tasks {
        version,
        extend: format!("extend = {}", toml_edit::Value::from(login)),
        files,
    }))
}

/// Asks the person at the terminal before `mp-logout --all` (on stderr; the answer on stdin).
fn ask(names: &[String]) -> bool {
    use std::io::{BufRead, Write};
    let list: Vec<String> = names
        .iter()
        .map(|n| format!("`{}`", mp_login_core::text::shown(n)))
        .collect();
    {
        // The lock is released before waiting for the answer: an interrupt reports on stderr.
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "Log out of {} ({})? Their tokens are revoked and their files removed. [y/N] ",
            if names.len() == 1 {
                "the only account"
            } else {
                "every account"
            },
            list.join(", ")
        );
        let _ = err.flush();
    }
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// List the accounts (no network call unless `--check`); exit 0 when the selected account can
/// produce a token, 2 when not logged in or revoked.
#[derive(Debug, Parser)]
#[command(
    name = "mp-login-status",
    version,
    after_help = "Examples:\n  \
mp-login-status | jq -r '.accounts[].name'\n  \
mp-login-status --check || mp-login-start"
)]
pub struct StatusArgs {
    /// The account to judge [default: MP_ACCOUNT, else the active account]
    #[arg(long, env = "MP_ACCOUNT")]
    pub account: Option<String>,
    /// Also call /me with a fresh token (refreshing it if needed)
    #[arg(long)]
    pub check: bool,
    #[command(flatten)]
    pub common: Common,
}

pub fn status(args: StatusArgs, process: &Process) -> Result<Outcome, Error> {
    let ctx = args.common.context(process)?;
    let account = args.account.filter(|a| !a.is_empty());
    Ok(Outcome::Status(mp_login_core::account::status::status(
        &ctx, account, args.check,
    )?))
}

/// Log out: revoke the refresh token (RFC 7009) where the server offers it, remove the account
/// directory and its config block, move `[active]` off it.
#[derive(Debug, Parser)]
#[command(
    name = "mp-logout",
    version,
    after_help = "Examples:\n  \
mp-logout --account work\n  \
mp-logout --all --yes                          # no question asked (it is never asked off a terminal)"
)]
pub struct LogoutArgs {
    /// The account [default: MP_ACCOUNT, else the active account]
    #[arg(long, env = "MP_ACCOUNT")]
    pub account: Option<String>,
    /// Every account of the config (wins over `--account` / `MP_ACCOUNT`)
    #[arg(long)]
    pub all: bool,
    /// Remove the account even when the server could not be asked to revoke its token (it then
    /// stays valid on the server until it expires)
    #[arg(long)]
    pub force: bool,
    /// Do not ask before logging out of every account (`--all` asks only when stdin is a
    /// terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten)]
    pub common: Common,
}

pub fn logout(args: LogoutArgs, process: &Process) -> Result<Outcome, Error> {
    let ctx = args.common.context(process)?;
    let account = args.account.filter(|a| !a.is_empty());
    let out = mp_login_core::account::logout::logout(
        &ctx,
        &mp_login_core::account::logout::LogoutOptions {
            account,
            all: args.all,
            force: args.force,
            confirm: &|names| {
                !args.all || args.yes || !std::io::stdin().is_terminal() || ask(names)
            },
        },
    );
    // A logged-out account's login outcomes are history now.
    mp_login_core::claim::sweep();
    Ok(Outcome::Logout(out?))
}
