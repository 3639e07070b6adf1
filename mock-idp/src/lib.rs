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
//! the same controls over HTTP under `/__admin/` (see `src/admin.rs` and the
//! README).

use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

mod admin;
pub mod client;
mod faults;
mod idp;
mod me;
mod oauth;
pub mod process;
pub mod scenario;
mod state;

pub use faults::{Endpoint, Fault};
use idp::{DropConnection, Idp};
pub use scenario::Scenario;
use state::State;
pub use state::{IssMode, JournalEntry, Settings, JOURNAL_CAPACITY};

/// A running mock IdP; it stops when dropped.
pub struct MockIdp {
    server: MockServer,
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
        let server = MockServer::builder()
            .listener(listener)
            .disable_request_recording()
            .start()
            .await;
        // Checked first: a pending `drop` fault closes the connection without an answer.
        server
            .register(
                Mock::given(DropConnection(state.clone()))
                    .respond_with_err(|_: &wiremock::Request| {
                        std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "injected drop")
                    })
                    .with_priority(1),
            )
            .await;
        server
            .register(
                Mock::given(any())
                    .respond_with(Idp(state.clone()))
                    .with_priority(2),
            )
            .await;
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
        self.state().apply(scenario.applied());
    }

    /// Make authorize redirect with `error=access_denied` (the user said no).
    pub fn deny_authorization(&self, deny: bool) {
        self.state().settings.deny = deny;
    }

    /// How long issued codes live (default 60 s).
    pub fn set_code_ttl(&self, ttl: Duration) {
        self.state().settings.code_ttl_secs = ttl.as_secs();
    }

    /// How long issued access tokens live (default 3600 s).
    pub fn set_access_token_ttl(&self, ttl: Duration) {
        self.state().settings.access_token_ttl_secs = ttl.as_secs();
    }

    /// How many entries the journal keeps (default [`JOURNAL_CAPACITY`]).
    pub fn set_journal_capacity(&self, capacity: usize) {
        self.state().settings.journal_capacity = capacity.max(1);
    }

    pub fn settings(&self) -> Settings {
        self.state().settings.clone()
    }

    /// Changes the settings in place (the RFC 9207 `iss` mode, the metadata, the TTLs…).
    pub fn update_settings(&self, change: impl FnOnce(&mut Settings)) {
        change(&mut self.state().settings);
    }

    /// Inject a fault on an endpoint (replaces that endpoint's previous fault).
    pub fn fault(&self, endpoint: Endpoint, fault: Fault) {
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

    /// Back to a fresh server: clients, codes, tokens, faults, journal, scenario `single`.
    pub fn reset(&self) {
        self.state().reset();
    }

    /// Every code, access token and refresh token issued and every verifier received: what
    /// must never appear in a client's output.
    pub fn issued_secrets(&self) -> Vec<String> {
        self.state().secrets()
    }
}

/// The README's Rust examples, compiled and run as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;
