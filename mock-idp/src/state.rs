//! The mock's shared state (behind one `Arc<Mutex<…>>`): registered clients, codes and token
//! families, the scenario's `/me` body, pending faults, the bounded journal and the issued
//! secrets; plus the reply helpers every handler uses.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use wiremock::ResponseTemplate;

use crate::faults::{Endpoint, Fault};
use crate::scenario::{self, Applied, Scenario};

/// One request as the journal keeps it: no query values, headers or bodies (they hold
/// secrets). `status` 0 means the connection was dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalEntry {
    pub seq: u64,
    pub method: String,
    pub path: String,
    pub status: u16,
    /// The `grant_type` of a token request (`authorization_code`, `refresh_token`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
}

/// Entries the journal keeps by default; older ones are dropped first.
pub const JOURNAL_CAPACITY: usize = 1000;
/// Secrets remembered for leak scans; older ones are dropped first.
pub(crate) const SECRETS_CAPACITY: usize = 100_000;

/// What `/__admin/settings` and the Rust API can change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Authorize redirects with `error=access_denied`.
    pub deny: bool,
    pub code_ttl_secs: u64,
    pub access_token_ttl_secs: u64,
    pub journal_capacity: usize,
    /// The RFC 9207 `iss` of authorization responses: `send` (the issuer), `omit`, `wrong`.
    pub iss: IssMode,
    /// Serve the RFC 8414 metadata (`false`: both well-known paths answer 404).
    pub metadata: bool,
    /// Keys that replace (or, with `null`, remove) those of the RFC 8414 metadata: a document
    /// naming another issuer or a revocation endpoint on another host, for a client's tests.
    #[serde(default)]
    pub metadata_overrides: serde_json::Map<String, Value>,
    /// Issue refresh tokens (`false`: token answers carry none, as some servers do).
    #[serde(default = "yes")]
    pub refresh_tokens: bool,
}

fn yes() -> bool {
    true
}

/// What authorization responses carry as `iss` (RFC 9207).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IssMode {
    Send,
    Omit,
    Wrong,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            deny: false,
            code_ttl_secs: 60,
            access_token_ttl_secs: 3600,
            journal_capacity: JOURNAL_CAPACITY,
            iss: IssMode::Send,
            metadata: true,
            metadata_overrides: serde_json::Map::new(),
            refresh_tokens: true,
        }
    }
}

pub(crate) struct Client {
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) scope: String,
}

pub(crate) struct CodeGrant {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) challenge: String,
    pub(crate) scope: String,
    pub(crate) expires: Instant,
}

pub(crate) struct AccessGrant {
    pub(crate) family: u64,
    pub(crate) expires: Instant,
}

pub(crate) struct RefreshGrant {
    pub(crate) family: u64,
    pub(crate) client_id: String,
    pub(crate) scope: String,
}

pub(crate) struct State {
    pub(crate) clients: HashMap<String, Client>,
    pub(crate) codes: HashMap<String, CodeGrant>,
    pub(crate) access: HashMap<String, AccessGrant>,
    pub(crate) refresh: HashMap<String, RefreshGrant>,
    /// Rotated-out refresh tokens and their family: presenting one again revokes the family.
    pub(crate) used_refresh: HashMap<String, u64>,
    pub(crate) families: u64,
    pub(crate) scenario: String,
    /// The `/me` answer, wrapped and serialized once per scenario: a request copies
    /// these bytes into wiremock's response (its templates own a `Vec<u8>`) and builds nothing.
    pub(crate) me: Vec<u8>,
    pub(crate) faults: HashMap<Endpoint, Fault>,
    pub(crate) journal: VecDeque<JournalEntry>,
    pub(crate) seq: u64,
    pub(crate) settings: Settings,
    pub(crate) secrets: VecDeque<String>,
}

impl State {
    pub(crate) fn new() -> Self {
        State {
            clients: HashMap::new(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            used_refresh: HashMap::new(),
            families: 0,
            scenario: "single".into(),
            me: Scenario::Single.applied().me,
            faults: HashMap::new(),
            journal: VecDeque::new(),
            seq: 0,
            settings: Settings::default(),
            secrets: VecDeque::new(),
        }
    }

    /// Everything back to a fresh server, keeping the journal capacity.
    pub(crate) fn reset(&mut self) {
        let capacity = self.settings.journal_capacity;
        *self = State::new();
        self.settings.journal_capacity = capacity;
    }

    pub(crate) fn set_me(&mut self, body: Value) {
        self.me = serialized(scenario::unwrap(body));
        self.scenario = "custom".into();
    }

    /// A named scenario: its `/me` body, and its fault or denial for the presets.
    pub(crate) fn apply(&mut self, s: Applied) {
        self.me = s.me;
        self.scenario = s.name.into();
        self.faults.clear();
        self.settings.deny = s.deny;
        if let Some((endpoint, fault)) = s.fault {
            self.faults.insert(endpoint, fault);
        }
    }

    pub(crate) fn set_fault(&mut self, endpoint: Endpoint, fault: Fault) {
        self.faults.insert(endpoint, fault);
    }

    pub(crate) fn clear_faults(&mut self, endpoint: Option<Endpoint>) {
        match endpoint {
            Some(e) => {
                self.faults.remove(&e);
            }
            None => self.faults.clear(),
        }
    }

    pub(crate) fn faults(&self) -> Value {
        let mut out = serde_json::Map::new();
        for e in Endpoint::ALL {
            if let Some(f) = self.faults.get(&e) {
                out.insert(
                    e.as_str().into(),
                    serde_json::to_value(f).expect("faults serialize"),
                );
            }
        }
        Value::Object(out)
    }

    pub(crate) fn journal(&self) -> Vec<JournalEntry> {
        self.journal.iter().cloned().collect()
    }

    pub(crate) fn journal_total(&self) -> u64 {
        self.seq
    }

    pub(crate) fn clear_journal(&mut self) {
        self.journal.clear();
    }

    pub(crate) fn secrets(&self) -> Vec<String> {
        self.secrets.iter().cloned().collect()
    }

    pub(crate) fn remember_secret(&mut self, s: String) {
        if self.secrets.len() == SECRETS_CAPACITY {
            self.secrets.pop_front();
        }
        self.secrets.push_back(s);
    }

    pub(crate) fn random(prefix: &str) -> String {
        let mut bytes = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut bytes);
        format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    pub(crate) fn issue_secret(&mut self, prefix: &str) -> String {
        let value = Self::random(prefix);
        self.remember_secret(value.clone());
        value
    }

    pub(crate) fn record(&mut self, method: &str, path: &str, status: u16, grant: Option<String>) {
        self.seq += 1;
        while self.journal.len() >= self.settings.journal_capacity.max(1) {
            self.journal.pop_front();
        }
        self.journal.push_back(JournalEntry {
            seq: self.seq,
            method: method.to_string(),
            path: path.to_string(),
            status,
            grant,
        });
    }

    /// Takes one use of the endpoint's fault when `pred` accepts it.
    pub(crate) fn take_fault(
        &mut self,
        endpoint: Endpoint,
        pred: impl Fn(&Fault) -> bool,
    ) -> Option<Fault> {
        let fault = self.faults.get_mut(&endpoint).filter(|f| pred(f))?;
        let out = fault.clone();
        if let Some(n) = &mut fault.times {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.faults.remove(&endpoint);
            }
        }
        Some(out)
    }

    /// Drops what has expired, so a long run does not grow without bound.
    pub(crate) fn prune(&mut self) {
        let now = Instant::now();
        self.codes.retain(|_, c| c.expires > now);
        self.access.retain(|_, a| a.expires > now);
    }
}

/// A bare `/me` body as the live API serves it: `{"status":"ok","results":…}`, serialized.
fn serialized(bare: Value) -> Vec<u8> {
    let bytes = serde_json::to_vec(&scenario::wrap(bare)).expect("a JSON value serializes");
    // The value tree of a large body is hundreds of MB of small allocations, freed by now;
    // glibc keeps them mapped unless asked to give them back.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap memory; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
    bytes
}

/// Locks the shared state, surviving a poisoned lock.
pub(crate) fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// A response with its status (wiremock's template has no getter; the journal needs it).
pub(crate) struct Reply(pub(crate) u16, pub(crate) ResponseTemplate);

pub(crate) fn json_response(status: u16, body: Value) -> Reply {
    Reply(
        status,
        ResponseTemplate::new(status)
            .set_body_json(body)
            .insert_header("Cache-Control", "no-store"),
    )
}

pub(crate) fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
    json_response(
        status,
        json!({"error": error, "error_description": description}),
    )
}
