//! Faults the mock injects per endpoint (`docs/mock-idp.md`): a status (with `Retry-After`), a delay or a
//! dropped connection, for the next N requests or until cleared. A leaf module: the scenarios,
//! the state and the admin surface all name faults.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use wiremock::http::HeaderValue;

use crate::limits;

/// The endpoints faults can be set on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Endpoint {
    Register,
    Authorize,
    Token,
    Revoke,
    Me,
}

impl Endpoint {
    pub const ALL: [Endpoint; 5] = [
        Endpoint::Register,
        Endpoint::Authorize,
        Endpoint::Token,
        Endpoint::Revoke,
        Endpoint::Me,
    ];

    pub(crate) fn of(method: &str, path: &str) -> Option<Endpoint> {
        match (method, path.trim_end_matches('/')) {
            ("POST", "/oauth/mcp/register") => Some(Endpoint::Register),
            ("GET", "/oauth/authorize") => Some(Endpoint::Authorize),
            ("POST", "/oauth/token") => Some(Endpoint::Token),
            ("POST", "/oauth/revoke") => Some(Endpoint::Revoke),
            // HEAD is GET without the body (RFC 9110 §9.3.2; hyper leaves the body out).
            ("GET" | "HEAD", "/api/app/me") => Some(Endpoint::Me),
            _ => None,
        }
    }

    pub fn parse(name: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|e| e.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Register => "register",
            Endpoint::Authorize => "authorize",
            Endpoint::Token => "token",
            Endpoint::Revoke => "revoke",
            Endpoint::Me => "me",
        }
    }
}

/// A fault for the next `times` requests of an endpoint (`None`: until cleared).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Fault {
    /// Answer with this status instead of the real handler (`None`: the real answer).
    #[serde(default)]
    pub status: Option<u16>,
    /// `Retry-After` seconds on the faulty answer.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Wait this long before answering.
    #[serde(default, rename = "delay_ms", with = "millis")]
    pub delay: Option<Duration>,
    /// Close the connection without answering.
    #[serde(default)]
    pub drop: bool,
    #[serde(default)]
    pub times: Option<u32>,
    /// Answer this body, byte for byte, instead of the real handler (with `status`, else 200):
    /// a malformed or odd answer for a client's contract tests.
    #[serde(default)]
    pub body: Option<String>,
    /// The `Content-Type` of `body` [default: application/json].
    #[serde(default)]
    pub content_type: Option<String>,
}

/// The fields a fault takes (the admin API refuses any other, by name).
pub const FAULT_FIELDS: [&str; 7] = [
    "status",
    "retry_after",
    "delay_ms",
    "drop",
    "times",
    "body",
    "content_type",
];

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_u64(d.as_millis() as u64),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

impl Fault {
    /// A fault the mock can serve, else why not: it does something, its numbers are within
    /// their bounds (`crate::limits`), its `body` can be sent with its status (not with 204,
    /// 205 or 304, which have no content) and its `content_type` is a header value of visible
    /// ASCII (a CR or LF in it would break every answer of the endpoint; other bytes would be
    /// sent raw).
    pub fn check(&self) -> Result<(), String> {
        if self.status.is_none() && self.delay.is_none() && !self.drop && self.body.is_none() {
            return Err("a fault needs `status`, `delay_ms`, `drop` or `body`".into());
        }
        if let Some(status) = self.status {
            limits::FAULT_STATUS.check(status.into())?;
        }
        if let Some(secs) = self.retry_after {
            limits::RETRY_AFTER_SECS.check(secs)?;
        }
        if let Some(delay) = self.delay {
            limits::DELAY_MS.check(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX))?;
        }
        if let Some(times) = self.times {
            limits::FAULT_TIMES.check(times.into())?;
        }
        if let (Some(status @ (204 | 205 | 304)), Some(_)) = (self.status, &self.body) {
            return Err(format!(
                "`body` cannot be sent with status {status}: a {status} answer has no content \
                 (RFC 9110), so the body would be dropped; leave `body` out or use another status"
            ));
        }
        if let Some(content_type) = &self.content_type {
            let visible = content_type
                .bytes()
                .all(|b| b == b'\t' || (b' '..=b'~').contains(&b));
            if !visible || HeaderValue::from_str(content_type).is_err() {
                return Err(format!(
                    "`content_type` must be a valid header value (visible ASCII, spaces and \
                     tabs; no CR, LF or other control character); got {content_type:?}"
                ));
            }
        }
        Ok(())
    }

    /// Answer `status` instead of the real handler.
    pub fn status(status: u16) -> Self {
        Fault {
            status: Some(status),
            ..Fault::default()
        }
    }

    /// Answer `body` byte for byte with `status` and `content_type`.
    pub fn body(status: u16, body: &str, content_type: &str) -> Self {
        Fault {
            status: Some(status),
            body: Some(body.to_string()),
            content_type: Some(content_type.to_string()),
            ..Fault::default()
        }
    }

    /// Delay the real answer.
    pub fn delay(delay: Duration) -> Self {
        Fault {
            delay: Some(delay),
            ..Fault::default()
        }
    }

    /// Close the connection without an answer.
    pub fn dropped() -> Self {
        Fault {
            drop: true,
            ..Fault::default()
        }
    }

    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

/// The RFC 6749 `error` of an injected status.
pub(crate) fn fault_error(status: u16) -> &'static str {
    match status {
        429 => "rate_limited",
        500..=599 => "server_error",
        401 => "invalid_token",
        _ => "invalid_request",
    }
}
