//! The HTTP client of every call (`docs/publish.md#steps`): blocking reqwest over rustls, connect and read
//! timeouts, proxies from `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` / `NO_PROXY` (including
//! `socks5h://`), bounded retries on 429 and 5xx honouring `Retry-After`, and a progress
//! callback while a call is slow.

use std::io::Read;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder};

use crate::error::{Error, NetworkFailure, Result};
use crate::notice::{Notice, RetryCause};

/// Timeouts and retry bounds.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    /// Retries after the first attempt, for calls that retry.
    pub retries: u32,
    /// A `Retry-After` longer than this ends the retries at once.
    pub max_retry_wait: Duration,
    /// Replaces every call's body cap ([`Call::max_bytes`]).
    pub max_body: Option<u64>,
    /// Replaces every call's whole-request deadline ([`Call::deadline`]).
    pub deadline: Option<Duration>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            retries: 3,
            max_retry_wait: Duration::from_secs(60),
            max_body: None,
            deadline: None,
        }
    }
}

/// The kit's calls, each with its retry rule, body cap and deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `GET /me`: retried; tens of MB on busy accounts.
    Me,
    /// Dynamic client registration: retried.
    Register,
    /// The code exchange: never retried (a second try with the same code fails anyway).
    Token,
    /// The authorization server metadata (RFC 8414): optional, so never retried.
    Metadata,
    /// Token revocation (RFC 7009) at logout: best effort, never retried.
    Revoke,
}

impl Call {
    fn retried(self) -> bool {
        !matches!(self, Call::Token | Call::Metadata | Call::Revoke)
    }

    /// 256 MiB for `/me`, 1 MiB for the OAuth calls.
    pub fn max_bytes(self) -> u64 {
        match self {
            Call::Me => 256 << 20,
            Call::Register | Call::Token | Call::Metadata | Call::Revoke => 1 << 20,
        }
    }

    /// 300 s for `/me`, 60 s for the OAuth calls, from the request to the body's last byte.
    pub fn deadline(self) -> Duration {
        match self {
            Call::Me => Duration::from_secs(300),
            Call::Register | Call::Token | Call::Metadata | Call::Revoke => Duration::from_secs(60),
        }
    }
}

/// Where a slow call reports: the CLI draws a spinner on a terminal and a heartbeat line
/// otherwise. Core never prints.
pub trait Progress: Sync {
    /// Called about every 100 ms while `label` is in flight.
    fn waiting(&self, label: &str, elapsed: Duration);
    /// The call ended (clear a spinner).
    fn finished(&self, label: &str);
    /// Something a person may want to know on the way (a retry, a warning).
    fn notice(&self, notice: &Notice);
}

/// What a streamed call gave: a success read by the caller's reader, or another status with
/// its body.
#[derive(Debug)]
pub enum Streamed<T> {
    Read(T),
    Failed(Reply),
}

/// What came back: the status and the whole body (within its cap).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

pub struct Http {
    client: Client,
    config: HttpConfig,
}

impl Http {
    pub fn new(config: HttpConfig) -> Result<Self> {
        // The blocking client's `timeout` bounds the wait for the answer's head and then each
        // read of the body separately: a read timeout, not a total one. (The async builder's
        // `read_timeout` panics outside a runtime when the blocking body is read.)
        let client = Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.read_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mp-login/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::NetworkError {
                url: String::new(),
                failure: NetworkFailure::Client,
                source: Some(Box::new(e.without_url())),
            })?;
        Ok(Http { client, config })
    }

    /// Sends the request `build` makes, retrying 429 and 5xx when `call` is retried, while
    /// `progress` hears about the wait. `url` names the endpoint in errors.
    pub fn send(
        &self,
        label: &str,
        url: &str,
        call: Call,
        progress: &dyn Progress,
        build: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<Reply> {
        let read =
            |status, body: &mut dyn Read| read_all(body, url).map(|body| Reply { status, body });
        match self.send_streaming(label, url, call, progress, build, read)? {
            Streamed::Read(reply) | Streamed::Failed(reply) => Ok(reply),
        }
    }

    /// Like [`Self::send`], but a successful answer's body is handed to `read` as it arrives
    /// (with its status, within the call's cap and deadline) instead of being collected. A
    /// connection dropped in the middle is retried from the start, so `read` may be called more
    /// than once.
    pub fn send_streaming<T>(
        &self,
        label: &str,
        url: &str,
        call: Call,
        progress: &dyn Progress,
        build: impl Fn(&Client) -> RequestBuilder,
        mut read: impl FnMut(u16, &mut dyn Read) -> Result<T>,
    ) -> Result<Streamed<T>> {
        let attempts = if call.retried() {
            self.config.retries + 1
        } else {
            1
        };
        let mut attempt = 1;
        loop {
            let backoff = Duration::from_secs(1 << (attempt - 1));
            let answer = with_progress(label, progress, || self.once(url, call, &build, &mut read));
            let (reply, retry_after) = match answer {
                Ok(Answer::Read(t)) => return Ok(Streamed::Read(t)),
                Ok(Answer::Status(reply, retry_after)) => (reply, retry_after),
                // A connection dropped mid-call is retried like a 5xx; refused connections and
                // timeouts are not (they would only multiply the wait).
                Err(Failure {
                    error,
                    dropped: true,
                }) if attempt < attempts => {
                    progress.notice(&Notice::Retrying {
                        label,
                        cause: RetryCause::Dropped(&error),
                        wait: backoff,
                        attempt: attempt + 1,
                        attempts,
                    });
                    std::thread::sleep(backoff);
                    attempt += 1;
                    continue;
                }
                Err(f) => return Err(f.error),
            };
            let retryable = reply.status == 429 || (500..600).contains(&reply.status);
            if !retryable || attempt >= attempts {
                return Ok(Streamed::Failed(reply));
            }
            let wait = retry_after.unwrap_or(backoff);
            if wait > self.config.max_retry_wait {
                progress.notice(&Notice::WaitTooLong {
                    label,
                    status: reply.status,
                    wait,
                    max: self.config.max_retry_wait,
                });
                return Ok(Streamed::Failed(reply));
            }
            progress.notice(&Notice::Retrying {
                label,
                cause: RetryCause::Status(reply.status),
                wait,
                attempt: attempt + 1,
                attempts,
            });
            std::thread::sleep(wait);
            attempt += 1;
        }
    }

    fn once<T>(
        &self,
        url: &str,
        call: Call,
        build: &impl Fn(&Client) -> RequestBuilder,
        read: &mut impl FnMut(u16, &mut dyn Read) -> Result<T>,
    ) -> Result<Answer<T>, Failure> {
        let started = Instant::now();
        let resp = build(&self.client).send().map_err(|e| Failure {
            dropped: !e.is_connect() && !e.is_timeout(),
            error: network_error(url, e),
        })?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let mut body = Capped {
            inner: resp,
            url,
            started,
            deadline: self.config.deadline.unwrap_or(call.deadline()),
            limit: self.config.max_body.unwrap_or(call.max_bytes()),
            read: 0,
            failure: None,
        };
        let success = (200..300).contains(&status);
        let result = if success {
            read(status, &mut body).map(Answer::Read)
        } else {
            read_all(&mut body, url).map(|bytes| {
                Answer::Status(
                    Reply {
                        status,
                        body: bytes,
                    },
                    retry_after,
                )
            })
        };
        // The connection's own failure (cap, deadline, a dropped or stalled read) is the
        // reason, whatever the reader made of it.
        match (result, body.failure) {
            (_, Some(failure)) => Err(failure),
            (Ok(answer), None) => Ok(answer),
            (Err(error), None) => Err(Failure {
                error,
                dropped: false,
            }),
        }
    }
}

/// A whole body (within the reader's cap).
fn read_all(body: &mut dyn Read, url: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    body.read_to_end(&mut bytes)
        .map(|_| bytes)
        .map_err(|e| read_failed(url, e))
}

/// The answer's body could not be read.
pub fn read_failed(url: &str, e: std::io::Error) -> Error {
    Error::NetworkError {
        url: url.to_string(),
        failure: NetworkFailure::Read,
        source: Some(Box::new(e)),
    }
}

enum Answer<T> {
    Read(T),
    Status(Reply, Option<Duration>),
}

/// An answer's body as a reader that meets the call's cap and deadline: a server trickling
/// bytes meets the deadline and an endless one the cap; neither is retried. The failure is
/// kept for the HTTP layer, the reader only sees an I/O error.
struct Capped<'a> {
    inner: reqwest::blocking::Response,
    url: &'a str,
    started: Instant,
    deadline: Duration,
    limit: u64,
    read: u64,
    failure: Option<Failure>,
}

impl Read for Capped<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let stop = |this: &mut Self, error, dropped| {
            this.failure = Some(Failure { error, dropped });
            Err(std::io::Error::other("the answer was cut off"))
        };
        if self.failure.is_some() {
            return Err(std::io::Error::other("the answer was cut off"));
        }
        if self.started.elapsed() > self.deadline {
            let error = Error::NetworkError {
                url: self.url.to_string(),
                failure: NetworkFailure::Deadline(self.deadline.as_secs_f64()),
                source: None,
            };
            return stop(self, error, false);
        }
        let n = loop {
            match self.inner.read(buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let dropped = e.kind() != std::io::ErrorKind::TimedOut;
                    return stop(self, read_failed(self.url, e), dropped);
                }
            }
        };
        self.read += n as u64;
        if self.read > self.limit {
            let error = Error::ResponseTooLarge {
                url: self.url.to_string(),
                limit: self.limit,
            };
            return stop(self, error, false);
        }
        Ok(n)
    }
}

/// A call that got no usable answer, as the error of the step it belongs to: a network failure
/// (connect, read, deadline) becomes `step(message)` (`OAUTH_REGISTRATION_ERROR`,
/// `OAUTH_TOKEN_ERROR`, a `/me` `HTTP_ERROR`); an answer over its cap stays
/// `RESPONSE_TOO_LARGE`, and a streamed body's reader keeps its own error.
pub fn as_step<T>(result: Result<T>, step: impl FnOnce(String) -> Error) -> Result<T> {
    result.map_err(|e| match e {
        e @ Error::NetworkError { .. } => step(e.to_string()),
        e => e,
    })
}

/// `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3); a date in the past is 0.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A call that got no answer; `dropped` when the connection broke after it was made.
struct Failure {
    error: Error,
    dropped: bool,
}

fn network_error(url: &str, e: reqwest::Error) -> Error {
    let failure = if e.is_timeout() {
        NetworkFailure::Timeout
    } else if e.is_connect() {
        NetworkFailure::Connect
    } else {
        NetworkFailure::Request
    };
    let source = std::error::Error::source(&e)
        .is_some()
        .then(|| Box::new(Causes(e)) as Box<dyn std::error::Error + Send + Sync>);
    Error::NetworkError {
        url: url.to_string(),
        failure,
        source,
    }
}

/// A `reqwest::Error` seen from beneath its own words ("error sending request for url …",
/// which repeat what [`Error::NetworkError`] says): it reads as its first cause, and its source
/// is that cause's, so the chain goes on down with nothing lost.
#[derive(Debug)]
struct Causes(reqwest::Error);

impl Causes {
    fn first(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.0)
    }
}

impl std::fmt::Display for Causes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.first() {
            Some(cause) => write!(f, "{cause}"),
            None => write!(f, "{}", self.0),
        }
    }
}

impl std::error::Error for Causes {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.first().and_then(|cause| cause.source())
    }
}

/// Runs `f` while a ticker thread reports progress about every 100 ms.
fn with_progress<T>(label: &str, progress: &dyn Progress, f: impl FnOnce() -> T) -> T {
    let (stop, stopped) = mpsc::channel::<()>();
    // Dropping the sender stops the ticker even if `f` unwinds.
    let out = std::thread::scope(move |s| {
        s.spawn(move || {
            let start = Instant::now();
            while let Err(mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(Duration::from_millis(100))
            {
                progress.waiting(label, start.elapsed());
            }
        });
        let out = f();
        drop(stop);
        out
    });
    progress.finished(label);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_connection_is_typed_with_its_causes_as_a_chain() {
        // A port nobody listens on: bound, then let go.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/x");
        let client = Client::new();
        let e = network_error(&url, client.get(&url).send().unwrap_err());
        let Error::NetworkError { failure, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(*failure, NetworkFailure::Connect);
        let mut chain = Vec::new();
        let mut next = std::error::Error::source(&e);
        while let Some(cause) = next {
            chain.push(cause.to_string());
            next = cause.source();
        }
        assert!(chain.len() >= 2, "{chain:?}");
        assert!(chain.last().unwrap().contains("refused"), "{chain:?}");
        // The message says it all once: the failure, then each cause.
        let message = e.to_string();
        assert!(
            message.starts_with(&format!(
                "network error talking to {url}: could not connect: "
            )),
            "{message}"
        );
        assert!(message.ends_with(chain.last().unwrap()), "{message}");
        assert!(!message.contains("error sending request"), "{message}");
    }

    #[test]
    fn retry_after_takes_seconds_and_http_dates() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let soon = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(120));
        let wait = parse_retry_after(&soon).unwrap();
        assert!(
            wait > Duration::from_secs(100) && wait <= Duration::from_secs(120),
            "{wait:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
