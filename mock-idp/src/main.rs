//! `mock-idp serve` and `mock-idp approve` (`docs/mock-idp.md`).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Read, Write};
use std::net::TcpListener;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mock_idp::limits::{self, Bound};
use mock_idp::{MockIdp, Scenario};
use tokio::signal::unix::{signal, SignalKind};

mod lifeline;

#[derive(Parser)]
#[command(
    name = "mock-idp",
    version,
    about = "A mock Mixpanel OAuth IdP and /me server",
    long_about = "A mock Mixpanel OAuth IdP and /me server: dynamic client registration, \
authorize, token (PKCE, one-time codes, refresh rotation with reuse detection), revocation, \
RFC 8414 metadata and /api/app/me. A running server is driven over HTTP under /__admin/ \
(GET /__admin lists the routes: scenario, custom /me, faults, journal, settings, secrets, reset).",
    after_help = "Examples:\n  \
mock-idp serve --scenario multi-org            # prints {\"base_url\": …} when ready\n  \
curl -s -d '{\"endpoint\":\"me\",\"status\":503,\"times\":2}' $BASE/__admin/faults\n  \
mp-login-start | mock-idp approve | mp-login-finish   # a whole login, no person"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve until SIGTERM or SIGINT; prints {"base_url": …} once it accepts connections
    #[command(after_help = "Examples:\n  \
mock-idp serve --port 8089 --scenario cross-region\n  \
mock-idp serve --scenario large --large-projects 50000\n  \
exec 3< <(mock-idp serve); read -r ready <&3; MP_BASE_URL=$(jq -r .base_url <<<\"$ready\")   # bash; stop it: kill $!")]
    Serve {
        /// Port to listen on (0: a free one)
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Address to listen on
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// The scenario: a /me body (single, multi-org, demos-only, unintegrated-only,
        /// cross-region, large) or a fault preset on the single body (slow-me, me-429, me-500,
        /// token-500, register-429, access-denied)
        #[arg(long, default_value = "single", value_parser = clap::builder::PossibleValuesParser::new(Scenario::names()))]
        scenario: String,
        /// Projects in the `large` scenario (at most 50000)
        #[arg(long, default_value_t = Scenario::DEFAULT_LARGE_PROJECTS, value_parser = large_projects)]
        large_projects: usize,
        /// Authorize answers error=access_denied (the user says no)
        #[arg(long)]
        deny: bool,
        /// Requests the journal keeps (older ones are dropped first; 1 to 100000)
        #[arg(long, default_value_t = mock_idp::JOURNAL_CAPACITY, value_parser = journal_capacity)]
        journal_capacity: usize,
        /// Stop when the process that started this one ends, even by SIGKILL (Linux: a
        /// parent-death signal; elsewhere the parent is polled every 200 ms)
        #[arg(long)]
        exit_with_parent: bool,
        /// Stop when stdin reaches end of file: a parent holding the write end of a pipe stops
        /// the server by closing it, or by dying (what is written to stdin is discarded)
        #[arg(long)]
        exit_on_stdin_eof: bool,
    },
    /// Write a scenario's /me answer (wrapped, as the server sends it) to stdout, as it is
    /// generated, e.g. a busy account's body for benchmarks
    #[command(after_help = "Examples:\n  \
mock-idp body --scenario multi-org | mp-autopick\n  \
mock-idp body --scenario large --large-projects 50000 --workspaces 10000 --members 30 > me.json")]
    Body {
        /// The scenario whose body to write
        #[arg(long, default_value = "single", value_parser = clap::builder::PossibleValuesParser::new(Scenario::names()))]
        scenario: String,
        /// Projects in the `large` scenario (at most 50000)
        #[arg(long, default_value_t = Scenario::DEFAULT_LARGE_PROJECTS, value_parser = large_projects)]
        large_projects: usize,
        /// Workspaces listed [default: one per project]
        #[arg(long)]
        workspaces: Option<usize>,
        /// Members in each workspace's `member_list` and `unified_member_list` [default: the
        /// scenario's]
        #[arg(long)]
        members: Option<usize>,
    },
    /// The scripted user in the browser: follow the authorize URL, print the redirect URL.
    /// Reads the URL (or `mp-login-start`'s envelope) from stdin when URL is absent or `-`.
    #[command(after_help = "Examples:\n  \
mock-idp approve \"$(mp-login-start | jq -r .authorize_url)\"\n  \
mp-login-start | mock-idp approve | mp-login-finish")]
    Approve {
        /// The authorize URL `mp-login-start` printed (else read from stdin: the URL or the
        /// start envelope)
        url: Option<String>,
    },
}

/// A number within its bound (`mock_idp::limits`), as clap takes it.
fn bounded(bound: Bound, text: &str) -> Result<usize, String> {
    let n = bound.of_arg(text)?;
    usize::try_from(n).map_err(|_| format!("{n} does not fit this machine's usize"))
}

fn large_projects(text: &str) -> Result<usize, String> {
    bounded(limits::LARGE_PROJECTS, text)
}

fn journal_capacity(text: &str) -> Result<usize, String> {
    bounded(limits::JOURNAL_CAPACITY, text)
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve {
            port,
            host,
            scenario,
            large_projects,
            deny,
            journal_capacity,
            exit_with_parent,
            exit_on_stdin_eof,
        } => match Scenario::named(&scenario, Some(large_projects)) {
            Some(scenario) => {
                if exit_with_parent {
                    if let Err(e) = lifeline::exit_with_parent() {
                        return fail(&format!("cannot follow the parent process: {e}"));
                    }
                }
                if exit_on_stdin_eof {
                    lifeline::exit_on_stdin_eof();
                }
                serve(&host, port, scenario, deny, journal_capacity)
            }
            None => fail(&format!("unknown scenario `{scenario}`")),
        },
        Command::Body {
            scenario,
            large_projects,
            workspaces,
            members,
        } => match Scenario::named(&scenario, Some(large_projects)) {
            Some(scenario) => body(scenario, workspaces, members),
            None => fail(&format!("unknown scenario `{scenario}`")),
        },
        Command::Approve { url } => approve(url),
    }
}

fn body(scenario: Scenario, workspaces: Option<usize>, members: Option<usize>) -> ExitCode {
    let mut builder = scenario.builder();
    if let Some(n) = workspaces {
        builder = builder.workspaces(n);
    }
    if let Some(n) = members {
        builder = builder.members_per_workspace(n);
    }
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match builder
        .write_wrapped(&mut out)
        .map_err(std::io::Error::from)
        .and_then(|()| out.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("cannot write the body: {e}")),
    }
}

fn fail(msg: &str) -> ExitCode {
    say(&format!("mock-idp: {msg}"));
    ExitCode::from(1)
}

/// A line on stderr, if anyone still reads it: `eprintln!` panics on a closed pipe
/// (`serve 2>&1 | head -1`), which would turn a clean stop into exit 101.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn serve(
    host: &str,
    port: u16,
    scenario: Scenario,
    deny: bool,
    journal_capacity: usize,
) -> ExitCode {
    mock_idp::process::install_panic_hook();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    let listener = match TcpListener::bind((host, port)) {
        Ok(l) => l,
        Err(e) => return fail(&format!("cannot listen on {host}:{port}: {e}")),
    };
    runtime.block_on(async {
        let idp = MockIdp::start_on_async(listener).await;
        idp.set_scenario(scenario);
        if deny {
            idp.deny_authorization(true);
        }
        idp.set_journal_capacity(journal_capacity);
        idp.set_reset_point();
        // Handlers first, then the ready line: a signal right after it must stop us cleanly.
        let (mut term, mut int) = match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(t), Ok(i)) => (t, i),
            _ => return fail("cannot install the signal handlers"),
        };
        // Nobody reading the ready line (or stderr) is no reason to stop serving.
        let ready = serde_json::json!({"base_url": idp.base_url()});
        let _ = writeln!(std::io::stdout(), "{ready}");
        say(&format!(
            "mock-idp: serving {} (scenario {}); stop with SIGTERM or Ctrl-C",
            idp.base_url(),
            scenario.name()
        ));
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        say("mock-idp: stopped");
        // Exit here, not by dropping the server: wiremock's drop waits for the server's lock,
        // which a handler holds for as long as it runs (a large scenario being built, say),
        // and there is nothing to save. The ready line went out whole (stdout is line-buffered).
        std::process::exit(0)
    })
}

fn approve(url: Option<String>) -> ExitCode {
    let text = match url.filter(|u| u != "-") {
        Some(u) => u,
        None if std::io::stdin().is_terminal() => {
            return fail("give the authorize URL as an argument or on stdin")
        }
        None => {
            let mut s = String::new();
            if let Err(e) = std::io::stdin().take(1 << 20).read_to_string(&mut s) {
                return fail(&format!("cannot read stdin: {e}"));
            }
            s
        }
    };
    let text = text.trim();
    // `mp-login-start | mock-idp approve` works without jq: take the envelope's authorize_url.
    let url = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => match v.get("authorize_url").and_then(|u| u.as_str()) {
            Some(u) => u.to_string(),
            None => {
                return fail("the JSON on stdin has no `authorize_url` (did mp-login-start fail?)")
            }
        },
        Err(_) => text.to_string(),
    };
    match mock_idp::client::approve(&url) {
        Ok(location) => {
            println!("{location}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}
