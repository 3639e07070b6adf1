//! The sentences for people that go with each envelope, on stderr: what happened and what
//! to do next. Text that came from a server or a file is escaped (`text::shown`).

use std::fmt::Write;

use mp_login_core::text::{lines_shown, shown};

use crate::envelope::{Outcome, PublishedLogin, StartedLogin, Tasks};
use crate::presentation::Presented;
use mp_login_core::account::{logout::Logout, status::Status};
use mp_login_core::autopick::Pick;
use mp_login_core::claim::Record;
use mp_login_core::notice::{Notice, RetryCause};
use mp_login_core::publish::Warning;
use mp_login_core::Error;

use crate::shell::{quote, resume_command};

/// `writeln!` into a `String`, which cannot fail.
macro_rules! say {
    ($out:expr, $($t:tt)*) => {{
        let _ = writeln!($out, $($t)*);
    }};
}

/// The sentences of a failure: the message, and the hint.
pub fn failed(e: &Error) -> String {
    let mut out = format!("error: {}\n", lines_shown(&e.message()));
    if let Some(h) = e.hint() {
        say!(out, "  hint: {}", lines_shown(&h));
    }
    out
}

/// The sentences for people that go with a success envelope, on stderr.
pub fn done(outcome: &Outcome) -> String {
    let mut out = String::new();
    match outcome {
        Outcome::Elsewhere(record) => elsewhere(&mut out, record),
        Outcome::Started(s) => started(&mut out, s),
        Outcome::Published(p) => published(&mut out, p),
        Outcome::Logout(l) => logged_out(&mut out, l),
        Outcome::Status(s) => status(&mut out, s),
        Outcome::Tasks(t) => tasks(&mut out, t),
        Outcome::Picked(p) => picked(&mut out, p),
    }
    out
}

/// Another process finished the login: its sentences, as it said them.
fn elsewhere(out: &mut String, record: &Record) {
    say!(
        out,
        "This login was finished by another process (pid {}):\n{}",
        record.pid,
        lines_shown(record.stderr.trim_end())
    );
}

/// `mp-login-start`: the URL to open, and the finish command to run with where it lands.
fn started(out: &mut String, s: &StartedLogin) {
    say!(
        out,
        "Open this URL in any browser and approve the login:\n\n  {}\n",
        s.started.authorize_url
    );
    say!(
        out,
        "The browser then lands on `{}…`; the page may fail to load, that is expected.",
        s.started.redirect_uri
    );
    say!(
        out,
        "Copy that URL from the address bar within {} minutes and run:\n\n  {}\n",
        // Rounded up: the TTL is whole minutes and a slow start must not
        // shave one off ("within 9 minutes" a second after starting).
        ((s.started.expires_at - mp_login_core::clock::unix_now()).max(0) + 59) / 60,
        s.finish_command
    );
    for r in &s.recoverable {
        say!(
            out,
            "Tokens of an earlier login were saved but not published; unless that login is still running, publish them with:\n\n  {}\n",
            r.resume_command
        );
    }
}

/// A finish or resume published the account: where, as whom, with which project.
fn published(out: &mut String, view: &PublishedLogin) {
    let p = &view.published;
    let a = &p.account;
    let project = match &p.project {
        Some(pr) => format!("default project {pr}"),
        None => "no project visible yet".to_string(),
    };
    say!(
        out,
        "Logged in{}: account `{}` in region {}, {project} ({}); saved in `{}`",
        p.user
            .as_ref()
            .map(|u| format!(" as {}", shown(&u.email)))
            .unwrap_or_default(),
        a.name,
        a.region,
        p.project_pick.method.as_str(),
        a.path.display()
    );
    // The seed's `use()`: a new login becomes the active account. The kit has no switch
    // of its own; mixpanel-headless's is the one to use.
    say!(
        out,
        "`{}` is now the active account; `mp account use <name>` switches to another",
        a.name
    );
    for w in &view.warnings {
        say!(out, "warning: {}", w.message);
    }
}

/// `mp-logout`: each account it ended and whether its token was revoked, then those it left.
fn logged_out(out: &mut String, l: &Logout) {
    for a in &l.logged_out {
        match &a.reason {
            None => say!(
                out,
                "Logged out of `{}`; the server revoked its {}",
                shown(&a.name),
                match a.revoked_token {
                    Some("access_token") => "access token (it had no refresh token)",
                    _ => "token",
                }
            ),
            Some(why) => say!(
                out,
                "Logged out of `{}` (files removed); not revoked: {}",
                shown(&a.name),
                shown(why)
            ),
        }
    }
    for a in &l.skipped {
        say!(out, "Left `{}` as it is: {}", shown(&a.name), a.reason);
    }
}

/// `mp-login-status`: a line per account, the active one starred.
fn status(out: &mut String, s: &Status) {
    for a in &s.accounts {
        say!(
            out,
            "{} {} ({}){}{}",
            if a.active { "*" } else { " " },
            shown(&a.name),
            shown(a.region.as_deref().unwrap_or("?")),
            match (&a.expires_at, a.expired, a.refreshable) {
                (None, ..) => ", no tokens".to_string(),
                (Some(at), false, _) => format!(", token until {at}"),
                (Some(_), true, true) => ", token expired (refreshable)".to_string(),
                (Some(_), true, false) => ", token expired".to_string(),
            },
            if s.checked == Some(true) && s.selected.as_deref() == Some(a.name.as_str()) {
                ", /me answered"
            } else {
                ""
            }
        );
    }
}

/// `mp-login-tasks`: where the tasks went, and the line that brings them into a Makefile.toml.
fn tasks(out: &mut String, t: &Tasks) {
    say!(
        out,
        "Wrote the cargo-make tasks of mp-login {} into `{}`; add to your Makefile.toml:\n\n  {}\n",
        t.version,
        t.files
            .first()
            .and_then(|f| f.parent())
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
        t.extend
    );
}

/// `mp-autopick`: the project it picked, and how.
fn picked(out: &mut String, p: &Pick) {
    match &p.project {
        Some(pr) => say!(
            out,
            "Picked project {pr}{} by {}",
            p.project_pick
                .primary_org_name
                .as_deref()
                .map(|n| format!(" in {}", shown(n)))
                .unwrap_or_default(),
            p.project_pick.method.as_str()
        ),
        None => say!(out, "No project to pick: the account sees none"),
    }
}

/// What `mp-login` says once the login is started: the URL, and how the browser comes back.
pub fn open_url(started: &StartedLogin) -> String {
    let mut out = String::new();
    say!(
        out,
        "Open this URL in a browser and approve the login:\n\n  {}\n",
        started.started.authorize_url
    );
    say!(
        out,
        concat!(
            "The browser then goes to `{}`. Where that port reaches this machine (the same ",
            "machine, or a forwarded port: VS Code, Codespaces, `ssh -L`), the login ends by ",
            "itself. Where it does not, the page fails to load: copy its URL from the address ",
            "bar and paste it here."
        ),
        started.started.redirect_uri
    );
    for r in &started.recoverable {
        say!(
            out,
            "\nTokens of an earlier login were saved but not published; unless that login is still running, publish them with:\n\n  {}",
            r.resume_command
        );
    }
    out
}

/// A warning of a login that worked, for the envelope's `warnings` and stderr.
pub fn warning(warning: &Warning) -> String {
    match warning {
        Warning::NoRefreshToken { expires_at } => format!(
            concat!(
                "the server issued no refresh token: the access token is valid until {} and ",
                "cannot be renewed; log in again after that"
            ),
            mp_login_core::clock::rfc3339(*expires_at)
        ),
    }
}

/// What the core notices on the way, in words (one or more lines, on stderr).
pub fn notice(notice: &Notice) -> String {
    match notice {
        Notice::SharedDir { dir, mode } => format!(
            "warning: `{}` is writable by others (mode {mode:04o}): run `chmod go-w {}`",
            dir.display(),
            quote(&dir.to_string_lossy())
        ),
        Notice::Waiting {
            redirect_uri,
            until,
            pastes,
        } => format!(
            "Waiting for the browser at {redirect_uri} until {until}{}",
            if *pastes {
                " (or paste the URL it landed on here and press Enter)"
            } else {
                "; stdin is a terminal this process runs in the background of, so pastes go to `mp-login-finish '<URL>'`"
            }
        ),
        Notice::PasteRefused(e) => format!(
            "That paste is not this login's answer: {}\n  hint: {}\nStill waiting: paste the URL again, or approve in the browser.",
            e.message(),
            e.hint().unwrap_or_default()
        ),
        Notice::CallbackRefused(e) => format!(
            "A call to the callback was refused ({}); still waiting",
            e.code()
        ),
        Notice::OtherOrigin { pasted, expected } => format!(
            "warning: the pasted URL is for `{pasted}`, but this login's browser lands on `{expected}`: check it is the URL you meant"
        ),
        Notice::Unguarded(why) => format!(
            "warning: no guard against another finish of this login at the same time: {} (set TMPDIR to a directory of your own)",
            why.message()
        ),
        Notice::PublishedByStoppedFinish { dir } => format!(
            "This login was published as `{}` by a finish that stopped before it reported",
            dir.display()
        ),
        Notice::PublishingSavedTokens { dir } => format!(
            "An earlier finish of this login saved its tokens in `{}` and stopped: publishing them",
            dir.display()
        ),
        Notice::RollbackFailed {
            target,
            placeholder,
            error,
        } => format!(
            "could not move `{}` back to `{}` ({error}): publish it with `{}`",
            target.display(),
            placeholder.display(),
            resume_command(target)
        ),
        Notice::Retrying {
            label,
            cause,
            wait,
            attempt,
            attempts,
        } => {
            let why = match cause {
                RetryCause::Dropped(e) => e.message(),
                RetryCause::Status(status) => format!("the server answered {status}"),
            };
            format!(
                "{label}: {why}; retrying in {} s (attempt {attempt} of {attempts})",
                wait.as_secs_f32()
            )
        }
        Notice::WaitTooLong {
            label,
            status,
            wait,
            max,
        } => format!(
            "{label}: the server answered {status} and asks to wait {} s, longer than the {} s this kit waits",
            wait.as_secs(),
            max.as_secs()
        ),
    }
}
