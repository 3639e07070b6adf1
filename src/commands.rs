//! The flags of each binary and the call into core they make.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use crate::envelope::Outcome;
use clap::{ArgGroup, Args, Parser};
use mp_login_core::autopick::{self, Requested};
use mp_login_core::context::Context;
use mp_login_core::error::Error;
use mp_login_core::http::Progress;
use mp_login_core::inflight;
use mp_login_core::listen::{self, ListenOptions};
use mp_login_core::login::{self, Choices, FinishOptions, Finished, RedirectInput, StartOptions};
use mp_login_core::me::{MeBody, ReadError};
use mp_login_core::publish::PublishOptions;
use mp_login_core::region::Region;
use mp_login_core::secret::AccessToken;
use mp_login_core::store::Paths;

use crate::Common;

/// What start saves for finish, and finish may override.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Inflight file chaining start to finish [default: S/oauth/inflight.json]
    #[arg(long, env = "MP_INFLIGHT_PATH", value_name = "FILE")]
    pub inflight: Option<PathBuf>,
    /// Account name to publish under [default: the first organization's slug]; finish's wins over start's
    #[arg(long, env = "MP_LOGIN_NAME")]
    pub name: Option<String>,
    /// Default project [default: MP_PROJECT_ID, else the auto-pick]; finish's wins over start's
    #[arg(long, env = "MP_LOGIN_PROJECT")]
    pub project: Option<String>,
}

impl LoginArgs {
    fn inflight_path(&self, paths: &Paths) -> PathBuf {
        self.inflight
            .clone()
            .unwrap_or_else(|| inflight::default_path(&paths.storage))
    }
}

/// Step one of the two-shot login: register (or reuse) an OAuth client, save the PKCE verifier
/// in a 0600 inflight file and print the authorize URL to open in any browser.
#[derive(Debug, Parser)]
#[command(
    name = "mp-login-start",
    version,
    after_help = "Examples:\n  \
mp-login-start                                  # prints the URL to open, on stderr and in the envelope\n  \
mp-login-start --region eu --name work | jq -r .authorize_url\n  \
mp-login-start | mock-idp approve | mp-login-finish   # against the mock, no person"
)]
pub struct StartArgs {
    #[command(flatten)]
    pub start: StartFlags,
    /// The finish command to show instead of `mp-login-finish …` (set by the cargo-make task)
    #[arg(long, env = "MP_LOGIN_FINISH_COMMAND", hide = true)]
    pub finish_command: Option<String>,
    #[command(flatten)]
    pub login: LoginArgs,
    #[command(flatten)]
    pub common: Common,
}

/// Where and how long a login is opened: `mp-login-start`'s and `mp-login`'s flags.
#[derive(Debug, Args)]
pub struct StartFlags {
    /// Mixpanel region: us, eu or in
    #[arg(long, env = "MP_REGION", default_value = "us")]
    pub region: Region,
    /// Replace the region's base URL (https, or http on a loopback host, e.g. a mock-idp)
    #[arg(long, env = "MP_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    /// Port of the loopback redirect URI http://localhost:PORT/callback [default: the first of
    /// 19284-19287 free on 127.0.0.1, as mixpanel-headless picks it]
    #[arg(long, value_name = "PORT")]
    pub redirect_port: Option<u16>,
    /// Seconds the login stays open (60..=3600)
    #[arg(long, default_value_t = inflight::DEFAULT_TTL.as_secs(), value_parser = clap::value_parser!(u64).range(inflight::TTL_RANGE))]
    pub ttl: u64,
}

impl StartFlags {
    fn start(
        self,
        ctx: &Context,
        login: LoginArgs,
        finish_command: Option<String>,
    ) -> Result<login::Started, Error> {
        let inflight_path = login.inflight_path(&ctx.paths);
        login::start(
            ctx,
            StartOptions {
                region: self.region,
                base_url: self.base_url,
                redirect_port: self.redirect_port,
                ttl: Duration::from_secs(self.ttl),
                inflight_path,
                account_name: login.name,
                project_id: login.project,
                finish_command,
            },
        )
    }
}

pub fn start(args: StartArgs, progress: &dyn Progress) -> Result<Outcome, Error> {
    let ctx = args.common.context(progress)?;
    let finish_command = args.finish_command.filter(|c| !c.is_empty());
    let started = args.start.start(&ctx, args.login, finish_command)?;
    Ok(Outcome::Started(started))
}

/// The one command for a person: start a login, open the browser where one can be opened,
/// print the URL in any case, then wait for the browser's callback or a pasted URL.
#[derive(Debug, Parser)]
#[command(
    name = "mp-login",
    version,
    after_help = "Examples:\n  \
mp-login                          # opens the browser; or paste the URL it lands on\n  \
mp-login --region eu --no-browser # print the URL only (ssh -L 19284:localhost:19284 …)\n\n\
Under CI=true, without a display and without $BROWSER, no browser is opened."
)]
pub struct LoginCmdArgs {
    #[command(flatten)]
    pub start: StartFlags,
    /// Only print the URL; do not open a browser
    #[arg(long, env = "MP_NO_BROWSER")]
    pub no_browser: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub login: LoginArgs,
    #[command(flatten)]
    pub common: Common,
}

pub fn login(args: LoginCmdArgs, progress: &dyn Progress) -> Result<Outcome, Error> {
    let ctx = args.common.context(progress)?;
    let inflight_path = args.login.inflight_path(&ctx.paths);
    let resume = format!(
        "mp-login-finish --listen{}",
        args.login
            .inflight
            .as_ref()
            .map(|p| format!(
                " --inflight {}",
                mp_login_core::error::shell_quote(&p.to_string_lossy())
            ))
            .unwrap_or_default()
    );
    let started = args.start.start(&ctx, args.login, Some(resume))?;
    progress.note(&crate::sentences::open_url(&started));
    // The browser is opened once the callback port is bound: a quick one finds it listening.
    let (url, no_browser) = (started.authorize_url, args.no_browser);
    let open_browser = move || {
        let opened = if no_browser {
            Err("`--no-browser`".to_string())
        } else {
            crate::browser::open(&url)
        };
        match opened {
            Ok(how) => format!("Opened it with {how}."),
            Err(why) => format!("No browser opened here ({why}): open the URL yourself."),
        }
    };
    // The name and project went into the inflight file with the start.
    let choices = Choices {
        env_project: env_project(),
        ..Choices::default()
    };
    let finished = args.wait.listen(
        &ctx,
        inflight_path,
        choices,
        "mp-login",
        Some(Box::new(open_browser)),
    )?;
    Ok(finished.into())
}

/// Step two: take the redirect URL the browser landed on (argument, `--redirect-file` or stdin),
/// exchange the code, save the tokens and publish the account.
#[derive(Debug, Parser)]
#[command(
    name = "mp-login-finish",
    version,
    after_help = "Examples:\n  \
mp-login-finish 'http://localhost:19284/callback?code=…&state=…'\n  \
mp-login-finish --redirect-file pasted.txt --project 3001\n  \
pbpaste | mp-login-finish\n  \
mp-login-finish --listen        # the browser's callback, or a paste on stdin, whichever comes first"
)]
#[command(group(ArgGroup::new("redirect").args(["redirect_url", "redirect_file", "listen"])))]
pub struct FinishArgs {
    /// The URL the browser landed on after approving (or read from stdin)
    #[arg(env = "MP_LOGIN_REDIRECT_URL", hide_env_values = true)]
    pub redirect_url: Option<String>,
    /// Read the redirect URL from this file
    #[arg(long, env = "MP_LOGIN_REDIRECT_FILE", value_name = "FILE")]
    pub redirect_file: Option<PathBuf>,
    /// Wait for the browser on the login's redirect URI (loopback only), taking a URL pasted on
    /// stdin meanwhile: the first that belongs to this login finishes it
    #[arg(long)]
    pub listen: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
    /// Base URL for an inflight file that names none (one `mp login --start` wrote)
    #[arg(long, env = "MP_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    #[command(flatten)]
    pub login: LoginArgs,
    #[command(flatten)]
    pub common: Common,
}

/// How long a listener waits.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Stop listening after SECS (1..=3600) [default: until the login expires]
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub listen_timeout: Option<u64>,
}

impl WaitArgs {
    fn listen(
        &self,
        ctx: &Context,
        inflight_path: PathBuf,
        choices: Choices,
        command: &'static str,
        on_listening: Option<Box<dyn FnOnce() -> String>>,
    ) -> Result<Finished, Error> {
        let options = ListenOptions {
            inflight_path,
            choices,
            timeout: self.listen_timeout.map(Duration::from_secs),
            on_listening,
        };
        listen::listen(ctx, options, &crate::page::Pages { command })
    }
}

pub fn finish(args: FinishArgs, progress: &dyn Progress) -> Result<Outcome, Error> {
    let ctx = args.common.context(progress)?;
    let inflight_path = args.login.inflight_path(&ctx.paths);
    let choices = Choices {
        account_name: args.login.name,
        project_id: args.login.project,
        env_project: env_project(),
        base_url: args.base_url,
    };
    if args.listen {
        let finished = args
            .wait
            .listen(&ctx, inflight_path, choices, "mp-login-finish", None)?;
        return Ok(finished.into());
    }
    if args.wait.listen_timeout.is_some() {
        return Err(Error::invalid_args(
            "`--listen-timeout` goes with `--listen`",
        ));
    }
    let input = match (args.redirect_url, args.redirect_file) {
        (Some(url), None) => RedirectInput::Arg(url),
        (None, Some(file)) => RedirectInput::File(file),
        (None, None) if !std::io::stdin().is_terminal() => {
            RedirectInput::Stdin(Box::new(std::io::stdin()))
        }
        (None, None) => return Err(Error::invalid_args(
            "no redirect URL given: pass it as an argument, with `--redirect-file`, or on stdin",
        )),
        (Some(_), Some(_)) => unreachable!("clap's group refuses both"),
    };
    let finished = login::finish(
        &ctx,
        FinishOptions {
            inflight_path,
            input,
            choices,
        },
    )?;
    Ok(finished.into())
}

/// Re-run the publish on a placeholder whose tokens were saved but whose publish failed.
#[derive(Debug, Parser)]
#[command(
    name = "mp-login-resume",
    version,
    after_help = "Examples:\n  \
mp-login-resume ~/.mp/accounts/.tmp-1a2b3c4d\n  \
mp-login-resume --from-envelope finish.json --project 3001"
)]
#[command(group(ArgGroup::new("placeholder").required(true).args(["placeholder_dir", "from_envelope"])))]
pub struct ResumeArgs {
    /// The placeholder directory `mp-login-finish` printed (`details.placeholder_dir`)
    #[arg(env = "MP_LOGIN_PLACEHOLDER")]
    pub placeholder_dir: Option<PathBuf>,
    /// Take the placeholder from the envelope file of the failed `mp-login-finish`
    #[arg(long, env = "MP_LOGIN_FROM_ENVELOPE", value_name = "FILE")]
    pub from_envelope: Option<PathBuf>,
    /// Account name (overrides the saved one)
    #[arg(long, env = "MP_LOGIN_NAME")]
    pub name: Option<String>,
    /// Default project (overrides the saved one; else MP_PROJECT_ID, else picked)
    #[arg(long, env = "MP_LOGIN_PROJECT")]
    pub project: Option<String>,
    /// Replace the base URL saved with the placeholder
    #[arg(long, env = "MP_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

pub fn resume(args: ResumeArgs, progress: &dyn Progress) -> Result<Outcome, Error> {
    let ctx = args.common.context(progress)?;
    let options = PublishOptions {
        name: args.name,
        project: args.project,
        env_project: env_project(),
        base_url: args.base_url,
    };
    let placeholder_dir = match (args.placeholder_dir, args.from_envelope) {
        (Some(dir), _) => dir,
        (None, Some(envelope)) => login::placeholder_from_envelope(&envelope)?,
        (None, None) => unreachable!("clap's group requires one"),
    };
    let published = login::resume(&ctx, &placeholder_dir, &options)?;
    Ok(Outcome::Published(published))
}

/// The auto-pick cascade as a filter: `/me` JSON in (`--me FILE` or stdin), pick envelope out.
#[derive(Debug, Parser)]
#[command(
    name = "mp-autopick",
    version,
    after_help = "Examples:\n  \
mp-autopick --region us < me.json\n  \
curl -s -H @auth.txt https://mixpanel.com/api/app/me | mp-autopick | jq .project"
)]
pub struct AutopickArgs {
    /// Read the /me body from this file instead of stdin
    #[arg(long, env = "MP_LOGIN_ME_FILE", value_name = "FILE")]
    pub me: Option<PathBuf>,
    /// Region of the login: us, eu or in
    #[arg(long, env = "MP_REGION", default_value = "us")]
    pub region: Region,
    /// An explicit project; else MP_PROJECT_ID (both report method `explicit`)
    #[arg(long, env = "MP_LOGIN_PROJECT")]
    pub project: Option<String>,
}

pub fn autopick(args: AutopickArgs, _progress: &dyn Progress) -> Result<Outcome, Error> {
    // Read as a stream: memory holds the projects, not the body, so there is no cap.
    let unreadable = |e: std::io::Error| {
        Error::invalid_args(match &args.me {
            Some(path) => format!("cannot read --me `{}`: {e}", path.display()),
            None => format!("cannot read stdin: {e}"),
        })
    };
    let read = match &args.me {
        Some(path) => {
            let file = mp_login_core::store::open_user_file(path).map_err(unreadable)?;
            MeBody::read(file, None)
        }
        None if std::io::stdin().is_terminal() => {
            return Err(Error::invalid_args(
                "no /me body given: pipe it on stdin or pass `--me FILE`",
            ))
        }
        None => MeBody::read(std::io::stdin().lock(), None),
    };
    let body = read.map_err(|e| match e {
        ReadError::Io(e) => unreadable(e),
        ReadError::Invalid(m) => Error::invalid_input(
            m,
            "pipe the JSON body of `GET /api/app/me` into `mp-autopick`, or pass `--me FILE`",
        ),
    })?;
    let requested = args
        .project
        .map(Requested::Explicit)
        .or_else(|| env_project().map(Requested::Env));
    Ok(Outcome::Picked(autopick::pick(
        &body.me,
        args.region,
        requested.as_ref(),
    )?))
}

/// `MP_PROJECT_ID`, as the seed reads it: not trimmed, empty is unset.
fn env_project() -> Option<String> {
    std::env::var("MP_PROJECT_ID")
        .ok()
        .filter(|v| !v.is_empty())
}

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

pub fn token(args: TokenArgs, progress: &dyn Progress) -> Result<PrintedToken, Error> {
    let ctx = args.common.context(progress)?;
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
    ("login.toml", include_str!("../cargo-make/login.toml")),
    ("step.sh", include_str!("../cargo-make/step.sh")),
    (
        "require-login.sh",
        include_str!("../cargo-make/require-login.sh"),
    ),
];

pub fn tasks(args: TasksArgs, _progress: &dyn Progress) -> Result<Outcome, Error> {
    use mp_login_core::error::IoContext;
    let version = env!("CARGO_PKG_VERSION");
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
        mp_login_core::store::write_atomic(&path, stamped.as_bytes())?;
        files.push(path);
    }
    let login =
        std::path::absolute(args.dir.join("login.toml")).unwrap_or(args.dir.join("login.toml"));
    Ok(Outcome::Tasks(crate::envelope::Tasks {
        version,
        extend: format!("extend = \"{}\"", login.display()),
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

pub fn status(args: StatusArgs, progress: &dyn Progress) -> Result<Outcome, Error> {
    let ctx = args.common.context(progress)?;
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

pub fn logout(args: LogoutArgs, progress: &dyn Progress) -> Result<Outcome, Error> {
    let ctx = args.common.context(progress)?;
    let account = args.account.filter(|a| !a.is_empty());
    Ok(Outcome::Logout(mp_login_core::account::logout::logout(
        &ctx,
        &mp_login_core::account::logout::LogoutOptions {
            account,
            all: args.all,
            force: args.force,
            confirm: &|names| {
                !args.all || args.yes || !std::io::stdin().is_terminal() || ask(names)
            },
        },
    )?))
}
