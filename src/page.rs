//! The pages the listener shows the browser (`mp-login-finish --listen`, `mp-login`): what
//! happened, as the envelope says it, and what to run next. Built from the envelope's public
//! fields only, so they hold no secret; every value is HTML-escaped and its control characters
//! shown escaped.

use mp_login_core::listen::{Page, View};
use mp_login_core::login::Finished;
use mp_login_core::text::{lines_shown, shown};
use mp_login_core::{Error, Result};
use serde_json::Value;

use crate::envelope;
use crate::presentation::Presented;

/// The pages of one command (its name goes into the error envelopes they are built from).
pub struct Pages {
    pub command: &'static str,
}

impl View for Pages {
    fn outcome(&self, outcome: &Result<Finished>) -> Page {
        let value = match outcome {
            Ok(Finished::Published(p)) => {
                serde_json::to_value(envelope::PublishedLogin::new(p.clone()))
                    .unwrap_or(Value::Null)
            }
            Ok(Finished::Elsewhere(record)) => record.envelope.clone(),
            Err(e) => envelope::failure_value(self.command, e),
        };
        from_envelope(&value)
    }

    fn refused(&self, error: &Error) -> Page {
        let why = match error {
            Error::StateMismatch => concat!(
                "This answer does not belong to the login that is waiting (its <code>state</code> ",
                "differs): it comes from another login, or from a page that tries to log you in ",
                "to an account of its own."
            )
            .to_string(),
            e => message(&e.message()),
        };
        Page {
            status: 400,
            html: html(
                "Not this login's answer",
                "&#10008; This is not the answer this login waits for",
                &[
                    why,
                    "The login is still waiting: open the URL the terminal printed, and approve."
                        .into(),
                ],
            ),
        }
    }

    fn not_found(&self) -> Page {
        Page {
            status: 404,
            html: html(
                "Not found",
                "Not found",
                &["This address only takes the browser's return from a Mixpanel login.".into()],
            ),
        }
    }
}

/// The page for a finish's envelope (or a success's body without the envelope's head).
fn from_envelope(v: &Value) -> Page {
    let text = |v: &Value| escape(v.as_str().unwrap_or_default());
    if let Some(error) = v.get("error") {
        let mut lines = vec![message(error["message"].as_str().unwrap_or_default())];
        if let Some(hint) = error["hint"].as_str() {
            lines.push(format!("Next: {}", message(hint)));
        }
        lines.push("You can close this tab; the terminal shows the same.".into());
        return Page {
            status: 400,
            html: html("Login failed", "&#10008; The login did not finish", &lines),
        };
    }
    let account = &v["account"];
    let who = match v["user"]["email"].as_str() {
        Some(email) => format!(" as <b>{}</b>", escape(email)),
        None => String::new(),
    };
    let project = match (v["project"]["name"].as_str(), v["project"]["id"].as_str()) {
        (Some(name), Some(id)) => format!(
            "its default project is <b>{}</b> ({})",
            escape(name),
            escape(id)
        ),
        (None, Some(id)) => format!("its default project is {}", escape(id)),
        _ => "it sees no project yet".into(),
    };
    let lines = vec![
        format!(
            "Logged in{who}: the account <code>{}</code> (region {}) is saved and active; {project}.",
            text(&account["name"]),
            text(&account["region"])
        ),
        "You can close this tab and go back to the terminal.".into(),
        format!(
            "Next: <code>mp project list</code> lists your projects; <code>mp account use {}</code> comes back to this account.",
            text(&account["name"])
        ),
    ];
    Page {
        status: 200,
        html: html(
            "Logged in to Mixpanel",
            "&#10004; Logged in to Mixpanel",
            &lines,
        ),
    }
}

/// An outside value (a name, an email) as a person reads it: controls shown as escapes,
/// bounded, HTML-escaped.
fn escape(s: &str) -> String {
    html_escape(&shown(s).to_string())
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A message or hint of the kit's own (its outside values already shown escaped), which may
/// span lines: controls escaped, HTML-escaped, `code` spans, line breaks kept.
fn message(s: &str) -> String {
    code_spans(&html_escape(&lines_shown(s))).replace('\n', "<br>\n")
}

/// `` `cmd` `` spans of an escaped hint as `<code>`.
fn code_spans(escaped: &str) -> String {
    let mut out = String::new();
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("<code>{part}</code>"));
        } else {
            out.push_str(part);
        }
    }
    out
}

fn html(title: &str, heading: &str, paragraphs: &[String]) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        concat!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
            "<title>{}</title>\n",
            "<style>body{{font-family:system-ui,sans-serif;max-width:40em;margin:3em auto;",
            "padding:0 1em;line-height:1.5}}code{{background:#f2f2f2;padding:0 .3em}}</style>\n",
            "</head>\n<body>\n<h1>{}</h1>\n{}</body>\n</html>\n"
        ),
        title, heading, body
    )
}
