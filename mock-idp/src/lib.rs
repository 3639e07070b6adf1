//! `mock-idp`: a mock Mixpanel OAuth IdP and `/me` server on wiremock (SPEC §11).
//!
//! In-process, for Rust tests:
//!
//! ```no_run
//! let idp = mock_idp::MockIdp::start();
//! idp.set_me(mock_idp::scenario::scenario("multi-org", 0).unwrap());
//! idp.fault(mock_idp::Endpoint::Me, mock_idp::Fault::status(500).retry_after(0).times(2));
//! println!("{}", idp.base_url());
//! ```
//!
//! Standalone, for scripts: `mock-idp serve` and `mock-idp approve URL` (see the binary).

use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

mod idp;
pub mod scenario;

pub use idp::{Endpoint, Fault, JournalEntry, JOURNAL_CAPACITY};
use idp::{Idp, State};

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
        server
            .register(Mock::given(any()).respond_with(Idp(state.clone())))
            .await;
        MockIdp { server, state }
    }

    /// `http://127.0.0.1:PORT`: pass it as `MP_BASE_URL` / `--base-url`.
    pub fn base_url(&self) -> String {
        self.server.uri()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Serve this (unwrapped) body from `/me`, wrapped in `{"status":"ok","results":…}`.
    pub fn set_me(&self, body: Value) {
        self.state().set_me(body);
    }

    /// Switch to a named scenario of [`scenario::SCENARIOS`]; false for an unknown name.
    pub fn set_scenario(&self, name: &str, large_projects: usize) -> bool {
        match scenario::scenario(name, large_projects) {
            Some(body) => {
                self.set_me(body);
                true
            }
            None => false,
        }
    }

    /// Make authorize redirect with `error=access_denied` (the user said no).
    pub fn deny_authorization(&self, deny: bool) {
        self.state().set_deny(deny);
    }

    /// How long issued codes live (default 60 s).
    pub fn set_code_ttl(&self, ttl: Duration) {
        self.state().set_code_ttl(ttl);
    }

    /// Inject a fault on an endpoint (replaces that endpoint's previous fault).
    pub fn fault(&self, endpoint: Endpoint, fault: Fault) {
        self.state().set_fault(endpoint, fault);
    }

    pub fn clear_faults(&self) {
        self.state().clear_faults();
    }

    /// The last [`JOURNAL_CAPACITY`] requests: method, path and status only.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.state().journal()
    }

    /// Every code, access token and refresh token issued and every verifier received: what
    /// must never appear in a client's output.
    pub fn issued_secrets(&self) -> Vec<String> {
        self.state().secrets()
    }
}
