//! `mock-idp`: a mock Mixpanel OAuth IdP and `/me` server on wiremock (`docs/mock-idp.md`).
//!
//! In-process, for Rust tests:
//!
//! ```no_run
//! use mock_idp::{Endpoint, Fault, MockIdp, Scenario};
//! let idp = MockIdp::start();
//! idp.set_scenario(Scenario::MultiOrg);
//! idp.fault(Endpoint::Me, Fault::status(500).retry_after(0).times(2));
//! println!("{}", idp.base_url());
//! ```
//!
//! Standalone, for scripts: `mock-idp serve` and `mock-idp approve URL` (see the binary), and
//! the same controls over HTTP under `/__admin/` (see `src/admin.rs` and `docs/mock-idp.md`).

use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use wiremock::MockServer;

mod admin;
pub mod client;
mod faults;
mod idp;
pub mod limits;
mod me;
mod oauth;
pub mod process;
pub mod scenario;
mod state;
mod table;

pub use faults::{Endpoint, Fault};
use idp::Mounts;
pub use scenario::Scenario;
use state::State;
pub use state::{IssMode, JournalEntry, Settings, JOURNAL_CAPACITY};

/// A running mock IdP; it stops when dropped.
///
/// The setters take only what the mock can serve (`limits`): a number out of bounds or a
/// fault that cannot be served panics here, at the call, with the reason (the admin API
/// answers 400 with the same message).
pub struct MockIdp {
    server: Arc<MockServer>,
    state: Arc<Mutex<State>>,
}

impl MockIdp {
    /// Starts on a random loopback port (blocking; for sync tests).
    pub fn start() -> MockIdp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        Self::start_on(listener)
    }

    /// Starts on `listener` (blocking).
    pub fn start_on(listener: TcpListener) -> MockIdp {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
            .block_on(Self::start_on_async(listener))
    }

    /// Starts on `listener` from async code.
    pub async fn start_on_async(listener: TcpListener) -> MockIdp {
        let state = Arc::new(Mutex::new(State::new()));
        let server = idp::server_on(listener).await;
        idp::mount(&server, &state, &Arc::new(Mounts::default())).await;
        MockIdp { server, state }
    }

    /// `http://127.0.0.1:PORT`: pass it as `MP_BASE_URL` / `--base-url`.
    pub fn base_url(&self) -> String {
        self.server.uri()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        state::lock(&self.state)
    }

    /// Serve this body from `/me` (given wrapped or bare; served wrapped in
    /// `{"status":"ok","results":…}` like the real API).
    pub fn set_me(&self, body: Value) {
        self.state().set_me(body);
    }

    /// Switch to a scenario (clearing faults).
    pub fn set_scenario(&self, scenario: Scenario) {
        if let Scenario::Large { projects } = scenario {
            checked(limits::LARGE_PROJECTS.check(u64::try_from(projects).unwrap_or(u64::MAX)));
        }
        let applied = scenario.applied();
        self.state().apply(applied);
    }

    /// Make authorize redirect with `error=access_denied` (the user said no).
    pub fn deny_authorization(&self, deny: bool) {
        self.state().settings.deny = deny;
    }

    /// How long issued codes live (default 60 s; at most ten years).
    pub fn set_code_ttl(&self, ttl: Duration) {
        self.update_settings(|s| s.code_ttl_secs = ttl.as_secs());
    }

    /// How long issued access tokens live (default 3600 s; at most ten years).
    pub fn set_access_token_ttl(&self, ttl: Duration) {
        self.update_settings(|s| s.access_token_ttl_secs = ttl.as_secs());
    }

    /// How many entries the journal keeps (default [`JOURNAL_CAPACITY`]; 1 to 100,000).
    pub fn set_journal_capacity(&self, capacity: usize) {
        self.update_settings(|s| s.journal_capacity = capacity);
    }

    pub fn settings(&self) -> Settings {
        self.state().settings.clone()
    }

    /// Changes the settings (the RFC 9207 `iss` mode, the metadata, the TTLs…); settings out
    /// of their bounds panic and change nothing.
    pub fn update_settings(&self, change: impl FnOnce(&mut Settings)) {
        let mut settings = self.settings();
        change(&mut settings);
        checked(settings.check());
        self.state().set_settings(settings);
    }

    /// Inject a fault on an endpoint (replaces that endpoint's previous fault); a fault the
    /// mock cannot serve ([`Fault::check`]) panics.
    pub fn fault(&self, endpoint: Endpoint, fault: Fault) {
        checked(fault.check());
        self.state().set_fault(endpoint, fault);
    }

    pub fn clear_faults(&self) {
        self.state().clear_faults(None);
    }

    /// The most recent requests (at most the journal capacity): method, path and status only.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.state().journal()
    }

    /// How many requests were journaled since the start (or the last reset).
    pub fn journal_total(&self) -> u64 {
        self.state().journal_total()
    }

    pub fn clear_journal(&self) {
        self.state().clear_journal();
    }

    /// Back to the reset point: a fresh server's scenario (`single`), faults and settings, or
    /// those of [`MockIdp::set_reset_point`]; no client, code, token, secret or journal entry.
    pub fn reset(&self) {
        self.state().reset();
    }

    /// Makes the scenario, faults and settings as they are now what [`MockIdp::reset`] (and
    /// `POST /__admin/reset`) goes back to: `mock-idp serve` calls it once its command-line
    /// options are applied.
    pub fn set_reset_point(&self) {
        self.state().set_reset_point();
    }

    /// Every code, access token and refresh token issued and every verifier received: what
    /// must never appear in a client's output.
    pub fn issued_secrets(&self) -> Vec<String> {
        self.state().secrets()
    }
}

/// Panics with the reason when a value given to the Rust API cannot be served: at the caller,
/// not in the server's thread.
#[track_caller]
fn checked<T>(result: Result<T, String>) -> T {
    match result {
        Ok(value) => value,
        Err(reason) => panic!("mock-idp: {reason}"),
    }
}

/// The Rust examples of `docs/mock-idp.md` (the mock's reference), compiled and run as
/// doctests so they cannot rot. Every other code block there names its language.
#[cfg(doctest)]
#[doc = include_str!("../../docs/mock-idp.md")]
pub struct DocsExamples;
