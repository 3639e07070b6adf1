//! `mp-login-finish --listen` (`docs/oauth.md#listening-for-the-browser`): wait on the login's
//! own redirect URI for the browser's callback, while also taking a URL pasted on stdin; the
//! first one that belongs to this login finishes it, exactly as a pasted URL does
//! ([`login::check`], [`login::complete`]).
//!
//! Only loopback addresses are bound (the redirect's host: `localhost` is 127.0.0.1 and, where
//! the machine has it, ::1). Anything that is not this login's answer (another path, a wrong or
//! missing `state`, a denial without the login's `state`) gets a page saying so and the
//! listener keeps waiting: any web page can make the browser call the callback, and that must
//! not end the login. The wait ends with the login's outcome, the inflight's expiry, the
//! timeout, SIGINT (nothing spent, the inflight kept), or another process finishing the login
//! (its outcome is reported, see [`crate::claim`]).

mod holder;
mod http;

use std::collections::VecDeque;
use std::io::{BufRead, ErrorKind};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::claim::Taken;
use crate::clock;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::inflight::Inflight;
use crate::interrupt::Phase;
use crate::login::{self, Choices, Denials, Finished};
use crate::notice::Notice;
use crate::redirect::{Paste, MAX_PASTE};
use crate::secret::CsrfState;

pub use http::Request;

/// How often the wait looks whether another process finished the login.
const TICK: Duration = Duration::from_millis(200);
/// Connections read at once; a new one beyond that shuts the oldest.
const MAX_CONNECTIONS: usize = 128;

pub struct ListenOptions {
    pub inflight_path: PathBuf,
    pub choices: Choices,
    /// Stop waiting after this long (the inflight's expiry ends the wait in any case).
    pub timeout: Option<Duration>,
    /// Run once the port is bound, before the wait (the one-shot login opens the browser
    /// then, so that a fast browser finds the listener).
    pub on_listening: Option<Box<dyn FnOnce()>>,
}

/// One page for the browser.
#[derive(Clone)]
pub struct Page {
    pub status: u16,
    pub html: String,
}

/// How the listener's outcomes look to the browser and the terminal: the command line's
/// business (`src/page.rs`).
pub trait View: Sync {
    /// The page of the login's outcome.
    fn outcome(&self, outcome: &Result<Finished>) -> Page;
    /// The page for a callback that is not this login's answer; the wait goes on.
    fn refused(&self, error: &Error) -> Page;
    /// The page for any other path or method.
    fn not_found(&self) -> Page;
}

enum Event {
    Callback(TcpStream, Request),
    Paste(String),
    PasteTooLong,
}

/// What one callback or paste did.
#[allow(clippy::large_enum_variant)] // one at a time, on the stack
enum Attempt {
    /// Not this login's answer: say why and wait on.
    Refused(Error),
    /// The login's outcome.
    Ended(Result<Finished>),
}

pub fn listen(ctx: &Context, opts: ListenOptions, view: &dyn View) -> Result<Finished> {
    login::check_name(opts.choices.account_name.as_deref())?;
    login::warn_shared_dirs(ctx);
    let inflight = Inflight::load(&opts.inflight_path, clock::now())?;
    let target = Target::of(&inflight.redirect_uri)?;
    let listeners = bind(&target)?;
    if let Some(on_listening) = opts.on_listening {
        on_listening();
    }
    let (rx, pastes) = start_readers(listeners);
    let expiry = clock::from_unix(inflight.expires_at + 1);
    let until_expiry = expiry
        .duration_since(clock::now())
        .unwrap_or(Duration::ZERO);
    let wait = opts.timeout.map_or(until_expiry, |t| t.min(until_expiry));
    let deadline = Instant::now() + wait;
    ctx.progress.notice(&Notice::Waiting {
        redirect_uri: &inflight.redirect_uri,
        until: clock::rfc3339(clock::now() + wait),
        pastes,
    });
    ctx.interrupt
        .set_phase(Phase::Listening(opts.inflight_path.clone()));
    let expires_at = inflight.expires_at;
    let state = CsrfState::new(inflight.state.secret());
    let mut inflight = Some(inflight);
    let mut choices = Some(opts.choices);
    let path = opts.inflight_path.as_path();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(match opts.timeout {
                Some(t) if t < until_expiry => Error::ListenTimeout {
                    seconds: t.as_secs(),
                    path: path.to_path_buf(),
                },
                _ => expired(path, expires_at),
            });
        }
        let event = match rx.recv_timeout(left.min(TICK)) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                let open = inflight.as_ref().expect("kept until the end");
                if !crate::inflight::holds(path, &open.state) {
                    if let Some(outcome) = finished_elsewhere(
                        ctx,
                        path,
                        open,
                        choices.as_ref().expect("kept until the end"),
                    ) {
                        return outcome;
                    }
                }
                // Disconnected cannot happen while the accept threads live; wait the tick.
                continue;
            }
        };
        let Some((text, callback)) = offered_answer(ctx, event, &target, view) else {
            continue;
        };
        let open = inflight.as_ref().expect("kept until the end");
        let attempt = match login::check(ctx, open, &text, Denials::OwnState) {
            Err(e @ Error::AuthDenied { .. }) => Attempt::Ended(Err(e)),
            Err(e) => Attempt::Refused(e),
            Ok(code) => Attempt::Ended(login::complete(
                ctx,
                path,
                inflight.take().expect("taken once"),
                code,
                choices.take().expect("taken once"),
            )),
        };
        match (attempt, callback) {
            (Attempt::Refused(e), Some(stream)) => {
                ctx.progress.notice(&Notice::CallbackRefused(&e));
                answer_aside(stream, view.refused(&e));
            }
            (Attempt::Refused(e), None) => ctx.progress.notice(&Notice::PasteRefused(&e)),
            (Attempt::Ended(outcome), stream) => {
                answer_waiting(stream, rx.try_iter(), &target, &state, view, &outcome);
                return outcome;
            }
        }
    }
}

/// Starts the threads that feed the wait its events: one accepting on each listener, and one
/// reading pastes unless stdin is a terminal this process runs in the background of. The
/// events' receiving end, and whether pastes are read.
fn start_readers(listeners: Vec<TcpListener>) -> (Receiver<Event>, bool) {
    let (tx, rx) = mpsc::channel();
    let reading = Arc::new(Mutex::new(Reading::default()));
    for listener in listeners {
        let (tx, reading) = (tx.clone(), reading.clone());
        std::thread::spawn(move || accept(listener, &tx, &reading));
    }
    let pastes = !terminal_in_background();
    if pastes {
        let tx = tx.clone();
        std::thread::spawn(move || {
            // Sent to the background later (Ctrl-Z, `bg`), a read of the terminal would stop
            // the whole process; with SIGTTIN blocked in the reading thread, the read fails
            // instead (EIO), and only the pastes end.
            let ttin = nix::sys::signal::SigSet::from(nix::sys::signal::Signal::SIGTTIN);
            let _ = ttin.thread_block();
            read_pastes(&tx)
        });
    }
    drop(tx);
    (rx, pastes)
}

/// What an event offers as the login's answer: a pasted line, or a callback's request target
/// with the connection to answer. `None` for an event turned away here, the wait going on: a
/// paste too long to be one, a request that is not a callback to this login's redirect.
fn offered_answer(
    ctx: &Context,
    event: Event,
    target: &Target,
    view: &dyn View,
) -> Option<(String, Option<TcpStream>)> {
    match event {
        Event::Paste(text) => Some((text, None)),
        Event::PasteTooLong => {
            let e = Error::PasteError {
                problem: Paste::TooLarge { line: true },
                redirect_uri: String::new(),
            };
            ctx.progress.notice(&Notice::PasteRefused(&e));
            None
        }
        Event::Callback(stream, request) => {
            if let Some(page) = target.screen(&request, view) {
                answer_aside(stream, page);
                return None;
            }
            Some((request.target, Some(stream)))
        }
    }
}

/// The outcome page goes to the request that ended the wait and to the browsers that came back
/// with this login's `state` while it was being finished; anything else waiting gets the page
/// it would have got before. Only that first page is written before the outcome is returned:
/// the others are answered on threads of their own, so a connection that never reads holds up
/// neither the envelope nor the record other finishes wait for.
fn answer_waiting(
    ended_by: Option<TcpStream>,
    waiting: impl Iterator<Item = Event>,
    target: &Target,
    state: &CsrfState,
    view: &dyn View,
    outcome: &Result<Finished>,
) {
    let page = view.outcome(outcome);
    for event in waiting {
        let Event::Callback(stream, request) = event else {
            continue;
        };
        let aside = match target.screen(&request, view) {
            Some(refused) => refused,
            None if request.state().is_some_and(|s| state.matches(&s)) => page.clone(),
            None => view.refused(&Error::StateMismatch),
        };
        answer_aside(stream, aside);
    }
    if let Some(stream) = ended_by {
        http::respond(stream, page.status, &page.html);
    }
}

fn expired(path: &Path, expires_at: i64) -> Error {
    Error::InflightExpired {
        path: path.to_path_buf(),
        expires_at,
        expired: clock::rfc3339(clock::from_unix(expires_at)),
    }
}

/// The inflight seems not to hold this login any more: another process took it. Its outcome,
/// once its lock is let go; `None` when the login is in the file after all (it was being
/// rewritten, or could not be read for a moment): the wait goes on.
fn finished_elsewhere(
    ctx: &Context,
    path: &Path,
    inflight: &Inflight,
    choices: &Choices,
) -> Option<Result<Finished>> {
    let taken = login::take_claim(ctx, path, &inflight.state);
    ctx.interrupt
        .set_phase(Phase::Listening(path.to_path_buf()));
    let taken = match taken {
        Err(e) => return Some(Err(e)),
        Ok(taken) => taken,
    };
    match login::spent_outcome(ctx, path, &inflight.state, taken, choices) {
        Ok(outcome) => Some(outcome),
        Err(Taken::Ours) => {
            ctx.claim.release();
            None
        }
        Err(Taken::Gone(gone)) => Some(Err(Error::LoginTaken {
            path: path.to_path_buf(),
            gone: Some(gone),
            cause: None,
        })),
        Err(Taken::Unguarded(why)) => Some(Err(Error::LoginTaken {
            path: path.to_path_buf(),
            gone: None,
            cause: Some(Box::new(why)),
        })),
        Err(_) => None,
    }
}

/// Answers a request that does not end the wait on a thread of its own: a client that reads
/// slowly holds up nothing.
fn answer_aside(stream: TcpStream, page: Page) {
    std::thread::spawn(move || http::respond(stream, page.status, &page.html));
}

/// Where the browser will come back: the loopback addresses of the redirect's host, its port
/// and path.
struct Target {
    addresses: Vec<IpAddr>,
    port: u16,
    path: String,
    /// The `Host` values a browser sends for it: the redirect's own host and port, or a
    /// loopback address with that port.
    hosts: Vec<String>,
}

impl Target {
    fn of(redirect_uri: &str) -> Result<Target> {
        let not_here = |why: &'static str| Error::NotListenable {
            redirect_uri: redirect_uri.to_string(),
            why,
        };
        let url = url::Url::parse(redirect_uri).map_err(|_| not_here("it is not a URL"))?;
        if url.scheme() != "http" {
            return Err(not_here(
                "only an http:// loopback redirect can be listened on",
            ));
        }
        let addresses = match url.host() {
            Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ],
            Some(url::Host::Ipv4(ip)) if ip.is_loopback() => vec![IpAddr::V4(ip)],
            Some(url::Host::Ipv6(ip)) if ip.is_loopback() => vec![IpAddr::V6(ip)],
            _ => return Err(not_here("its host is not this machine's loopback")),
        };
        let port = url.port_or_known_default().unwrap_or(80);
        let names = [url.host_str().unwrap_or("localhost"), "127.0.0.1", "[::1]"];
        let mut hosts: Vec<String> = names.iter().map(|n| format!("{n}:{port}")).collect();
        if port == 80 {
            // A browser leaves the default port out of `Host`.
            hosts.extend(names.iter().map(|n| n.to_string()));
        }
        Ok(Target {
            addresses,
            port,
            path: url.path().to_string(),
            hosts,
        })
    }

    /// The page for a request that is not a callback to this redirect (`None` for one that
    /// is): a `GET` of the redirect's path, addressed to one of its hosts.
    fn screen(&self, request: &Request, view: &dyn View) -> Option<Page> {
        if request.method != "GET" || request.path() != self.path {
            return Some(view.not_found());
        }
        if !request.host_is_one_of(&self.hosts) {
            return Some(view.refused(&Error::CallbackHost));
        }
        None
    }
}

/// Binds every address of the target; one this machine does not have (no IPv6) is skipped,
/// one another process holds is `OAUTH_PORT_ERROR` naming it.
fn bind(target: &Target) -> Result<Vec<TcpListener>> {
    let mut listeners = Vec::new();
    let mut unavailable = None;
    for ip in &target.addresses {
        match bind_one(SocketAddr::new(*ip, target.port)) {
            Ok(l) => listeners.push(l),
            Err(e) if e.kind() == ErrorKind::AddrInUse => {
                return Err(Error::ListenPortTaken {
                    address: ip.to_string(),
                    port: target.port,
                    holder: holder::holder(target.port),
                })
            }
            // No such address here (IPv6 off in a container): the others serve.
            Err(e) => unavailable = Some((ip, e)),
        }
    }
    match unavailable {
        Some((ip, e)) if listeners.is_empty() => Err(Error::io(
            "cannot listen on",
            format!("{ip}:{}", target.port),
            e,
        )),
        _ => Ok(listeners),
    }
}

/// Binds `address`, trying a taken port again for 100 ms: a `mp-login-start` elsewhere probes
/// the callback ports by binding them for a moment.
fn bind_one(address: SocketAddr) -> std::io::Result<TcpListener> {
    let mut attempts = 0;
    loop {
        match TcpListener::bind(address) {
            Err(e) if e.kind() == ErrorKind::AddrInUse && attempts < 5 => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            bound => return bound,
        }
    }
}

/// The connections being read, oldest first. At [`MAX_CONNECTIONS`] the oldest is shut: a
/// browser sends its request at once, so connections that trickle (slowloris) or say nothing
/// are the ones that go, and a new one always gets read.
#[derive(Default)]
struct Reading {
    next_id: u64,
    open: VecDeque<(u64, TcpStream)>,
}

impl Reading {
    /// Makes room for one more and registers it; its id, or `None` when it cannot be watched.
    fn admit(&mut self, stream: &TcpStream) -> Option<u64> {
        let watch = stream.try_clone().ok()?;
        while self.open.len() >= MAX_CONNECTIONS {
            if let Some((_, oldest)) = self.open.pop_front() {
                // Its reader's next read ends at once, and its thread with it.
                let _ = oldest.shutdown(Shutdown::Both);
            }
        }
        self.next_id += 1;
        self.open.push_back((self.next_id, watch));
        Some(self.next_id)
    }

    fn done(&mut self, id: u64) {
        self.open.retain(|(i, _)| *i != id);
    }
}

/// Accepts connections and hands each request to the wait, reading it on a thread of its own
/// so that a slow client holds up nobody.
fn accept(listener: TcpListener, tx: &Sender<Event>, reading: &Arc<Mutex<Reading>>) {
    fn lock(reading: &Mutex<Reading>) -> std::sync::MutexGuard<'_, Reading> {
        reading.lock().unwrap_or_else(|p| p.into_inner())
    }
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else {
            continue;
        };
        let Some(id) = lock(reading).admit(&stream) else {
            continue;
        };
        let (tx, reading) = (tx.clone(), reading.clone());
        std::thread::spawn(move || {
            let request = http::read_request(&mut stream);
            lock(&reading).done(id);
            if let Some(request) = request {
                let _ = tx.send(Event::Callback(stream, request));
            }
        });
    }
}

/// Whether stdin is a terminal this process may not read: run in the background (`&`), a read
/// would stop it (SIGTTIN).
fn terminal_in_background() -> bool {
    use std::io::IsTerminal;
    let stdin = std::io::stdin();
    stdin.is_terminal()
        && rustix::termios::tcgetpgrp(&stdin).is_ok_and(|group| group != rustix::process::getpgrp())
}

/// Each line on stdin is a paste; the end of stdin ends only the pastes.
fn read_pastes(tx: &Sender<Event>) {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock();
    loop {
        let mut line = Vec::new();
        match std::io::Read::take(&mut lines, MAX_PASTE as u64 + 1).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let event = if line.len() > MAX_PASTE {
            // The rest of the line goes with it.
            let mut rest = line;
            while !rest.ends_with(b"\n") {
                rest.clear();
                let read =
                    std::io::Read::take(&mut lines, MAX_PASTE as u64).read_until(b'\n', &mut rest);
                if matches!(read, Ok(0) | Err(_)) {
                    return;
                }
            }
            Event::PasteTooLong
        } else {
            let text = String::from_utf8_lossy(&line).trim().to_string();
            if text.is_empty() {
                continue;
            }
            Event::Paste(text)
        };
        if tx.send(event).is_err() {
            return;
        }
    }
}
