//! The flags of each binary and the call into core they make.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use crate::envelope::{Outcome, StartedLogin};
use crate::Process;
use clap::{ArgGroup, Args, Parser};
use mp_login_core::autopick::{self, Requested};
use mp_login_core::context::Context;
use mp_login_core::error::Error;
use mp_login_core::inflight;
use mp_login_core::listen::{self, ListenOptions};
use mp_login_core::login::{self, Choices, FinishOptions, Finished, RedirectInput, StartOptions};
use mp_login_core::me::{MeBody, ReadError};
use mp_login_core::publish::PublishOptions;
use mp_login_core::region::Region;
use mp_login_core::store::Paths;
use mp_login_core::text::lines_shown;

use crate::Common;

mod account;
pub use account::{
    logout, status, tasks, token, LogoutArgs, PrintedToken, StatusArgs, TasksArgs, TokenArgs,
};

/// What start saves for finish, and finish may override.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Inflight file chaining start to finish [default: S/oauth/inflight.json]
    #[arg(long, env = "MP_INFLIGHT_PATH", value_name = "FILE", value_parser = crate::utf8_path)]
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
    /// 19284-19287 free on 127.0.0.1, as mixpanel-headless picks it]. Port 0 is refused: the
    /// registered redirect URI must name the port the browser comes back to
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
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
    ) -> Result<StartedLogin, Error> {
        let inflight_path = login.inflight_path(&ctx.paths);
        let finish_command = finish_command.unwrap_or_else(|| {
            format!(
                "mp-login-finish{} '<the URL the browser landed on>'",
                crate::shell::inflight_flag(&inflight_path, &ctx.paths.storage)
            )
        });
        let started = login::start(
            ctx,
            StartOptions {
                region: self.region,
                base_url: self.base_url,
                redirect_port: self.redirect_port,
                ttl: Duration::from_secs(self.ttl),
                inflight_path,
                account_name: login.name,
                project_id: login.project,
            },
        )?;
        Ok(StartedLogin::new(started, finish_command))
    }
}

pub fn start(args: StartArgs, process: &Process) -> Result<Outcome, Error> {
    let ctx = args.common.context(process)?;
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

pub fn login(args: LoginCmdArgs, process: &Process) -> Result<Outcome, Error> {
    let ctx = args.common.context(process)?;
    let inflight_path = args.login.inflight_path(&ctx.paths);
    let resume = format!(
        "mp-login-finish --listen{}",
        crate::shell::inflight_flag(&inflight_path, &ctx.paths.storage)
    );
    let started = args.start.start(&ctx, args.login, Some(resume))?;
    eprintln!("{}", lines_shown(&crate::sentences::open_url(&started)));
    // The browser is opened once the callback port is bound: a quick one finds it listening.
    let (url, no_browser) = (started.started.authorize_url, args.no_browser);
    let open_browser = move || {
        let opened = if no_browser {
            Err("`--no-browser`".to_string())
        } else {
            crate::browser::open(&url)
        };
        eprintln!(
            "{}",
            match opened {
                Ok(how) => format!("Opened it with {how}."),
                Err(why) => format!("No browser opened here ({why}): open the URL yourself."),
            }
        );
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
    #[arg(long, env = "MP_LISTEN_TIMEOUT", value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub listen_timeout: Option<u64>,
}

impl WaitArgs {
    fn listen(
        &self,
        ctx: &Context,
        inflight_path: PathBuf,
        choices: Choices,
        command: &'static str,
        on_listening: Option<Box<dyn FnOnce()>>,
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

pub fn finish(args: FinishArgs, process: &Process) -> Result<Outcome, Error> {
    let ctx = args.common.context(process)?;
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
    // The flag alone is a mistake; the variable may be set for every step of a pipeline.
    if args.wait.listen_timeout.is_some() && std::env::var_os("MP_LISTEN_TIMEOUT").is_none() {
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
    #[arg(env = "MP_LOGIN_PLACEHOLDER", value_parser = crate::utf8_path)]
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

pub fn resume(args: ResumeArgs, process: &Process) -> Result<Outcome, Error> {
    let ctx = args.common.context(process)?;
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
    Ok(Finished::Published(published).into())
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

pub fn autopick(args: AutopickArgs, _process: &Process) -> Result<Outcome, Error> {
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
