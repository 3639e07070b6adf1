//! The mock's shared state (behind one `Arc<Mutex<…>>`): registered clients, codes and token
//! families, the scenario's `/me` body, pending faults, the bounded journal and the issued
//! secrets; plus the reply helpers every handler uses. Everything a login adds is bounded
//! (`crate::limits`): a contract server serves a whole test session.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use wiremock::ResponseTemplate;

use crate::faults::{Endpoint, Fault};
use crate::limits::{self, JOURNAL_TEXT_MAX, LIVE_CAPACITY, SECRETS_CAPACITY};
use crate::scenario::{self, Applied, Scenario};
use crate::table::Table;

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

/// The settings' names, as the admin API takes them.
pub(crate) const SETTINGS_FIELDS: [&str; 8] = [
    "deny",
    "code_ttl_secs",
    "access_token_ttl_secs",
    "journal_capacity",
    "iss",
    "metadata",
    "metadata_overrides",
    "refresh_tokens",
];

impl Settings {
    /// Every number within its bound (`crate::limits`), else why not.
    pub fn check(&self) -> Result<(), String> {
        limits::TTL_SECS
            .named("code_ttl_secs")
            .check(self.code_ttl_secs)?;
        limits::TTL_SECS
            .named("access_token_ttl_secs")
            .check(self.access_token_ttl_secs)?;
        limits::JOURNAL_CAPACITY.check(u64::try_from(self.journal_capacity).unwrap_or(u64::MAX))?;
        Ok(())
    }
}

/// What authorization responses carry as `iss` (RFC 9207).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IssMode {
    Send,
    Omit,
    Wrong,
}

impl IssMode {
    pub(crate) fn parse(name: &str) -> Option<IssMode> {
        match name {
            "send" => Some(IssMode::Send),
            "omit" => Some(IssMode::Omit),
            "wrong" => Some(IssMode::Wrong),
            _ => None,
        }
    }
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
    /// The client it was issued to: only that client may revoke it (RFC 7009 §2.1).
    pub(crate) client_id: String,
    pub(crate) expires: Instant,
}

pub(crate) struct RefreshGrant {
    pub(crate) family: u64,
    pub(crate) client_id: String,
    pub(crate) scope: String,
}

pub(crate) struct State {
    pub(crate) clients: Table<Client>,
    pub(crate) codes: Table<CodeGrant>,
    pub(crate) access: Table<AccessGrant>,
    pub(crate) refresh: Table<RefreshGrant>,
    /// Rotated-out refresh tokens, their family and client: presenting one again revokes the
    /// family.
    pub(crate) used_refresh: Table<(u64, String)>,
    pub(crate) families: u64,
    pub(crate) scenario: String,
    /// The `/me` answer, wrapped and serialized once per scenario: a request copies
    /// these bytes into wiremock's response (its templates own a `Vec<u8>`) and builds nothing.
    /// Shared with the reset point, which may hold the same body.
    pub(crate) me: Arc<Vec<u8>>,
    pub(crate) faults: HashMap<Endpoint, Fault>,
    pub(crate) journal: VecDeque<JournalEntry>,
    pub(crate) seq: u64,
    /// Entries the journal dropped for its capacity since the start (or the last reset).
    pub(crate) journal_dropped: u64,
    /// Requests answered, and their body bytes, since wiremock last forgot the ones it keeps
    /// (see `crate::idp`).
    pub(crate) since_remount: (u64, usize),
    /// How many times wiremock was made to forget them since the server started (kept by a
    /// reset).
    pub(crate) remounts: u64,
    pub(crate) settings: Settings,
    pub(crate) secrets: VecDeque<String>,
    /// What a reset goes back to.
    start: Start,
}

/// The scenario, faults and settings a reset restores: a fresh server's, or those `serve`
/// started with (`State::set_reset_point`).
#[derive(Clone)]
struct Start {
    scenario: String,
    me: Arc<Vec<u8>>,
    faults: HashMap<Endpoint, Fault>,
    settings: Settings,
}

impl State {
    pub(crate) fn new() -> Self {
        let me = Arc::new(Scenario::Single.applied().me);
        State {
            clients: Table::new(LIVE_CAPACITY),
            codes: Table::new(LIVE_CAPACITY),
            access: Table::new(LIVE_CAPACITY),
            refresh: Table::new(LIVE_CAPACITY),
            used_refresh: Table::new(LIVE_CAPACITY),
            families: 0,
            scenario: "single".into(),
            me: me.clone(),
            faults: HashMap::new(),
            journal: VecDeque::new(),
            seq: 0,
            journal_dropped: 0,
            since_remount: (0, 0),
            remounts: 0,
            settings: Settings::default(),
            secrets: VecDeque::new(),
            start: Start {
                scenario: "single".into(),
                me,
                faults: HashMap::new(),
                settings: Settings::default(),
            },
        }
    }

    /// Makes the scenario, faults and settings as they are now what a reset goes back to.
    pub(crate) fn set_reset_point(&mut self) {
        self.start = Start {
            scenario: self.scenario.clone(),
            me: self.me.clone(),
            faults: self.faults.clone(),
            settings: self.settings.clone(),
        };
    }

    /// Back to the reset point (a fresh server, or the one `serve` started): its scenario,
    /// faults and settings, with no client, code, token, secret or journal entry; the memory
    /// the old state held goes back to the system.
    pub(crate) fn reset(&mut self) {
        let start = self.start.clone();
        let remounts = self.remounts;
        *self = State::new();
        self.remounts = remounts;
        self.scenario = start.scenario.clone();
        self.me = start.me.clone();
        self.faults = start.faults.clone();
        self.settings = start.settings.clone();
        self.start = start;
        give_back_free_memory();
    }

    /// New settings (already checked); a smaller journal drops its oldest entries now.
    pub(crate) fn set_settings(&mut self, settings: Settings) {
        self.settings = settings;
        self.trim_journal(0);
    }

    /// How many of each per-login thing the server holds, and the most it holds.
    pub(crate) fn live(&self) -> Value {
        json!({
            "capacity": LIVE_CAPACITY,
            "clients": self.clients.len(),
            "codes": self.codes.len(),
            "access_tokens": self.access.len(),
            "refresh_tokens": self.refresh.len(),
            "rotated_refresh_tokens": self.used_refresh.len(),
            "secrets": self.secrets.len(),
            "secrets_capacity": SECRETS_CAPACITY,
            "wiremock_requests": self.since_remount.0,
            "wiremock_body_bytes": self.since_remount.1,
            "wiremock_remounts": self.remounts,
        })
    }

    /// A `/me` body as the admin API receives it, wrapped or bare, as bytes: checked and cut
    /// out without building a value tree (a 59 MiB body of tiny values was a 5.4 GB tree), and
    /// served as sent, whitespace included, inside `{"status":"ok","results":…}`.
    pub(crate) fn set_me_json(&mut self, body: &[u8]) -> Result<(), String> {
        const NOT_AN_OBJECT: &str = "the body must be a JSON object (a /me body, wrapped or bare)";
        let bare = {
            let top: std::collections::BTreeMap<String, &serde_json::value::RawValue> =
                serde_json::from_slice(body).map_err(|_| NOT_AN_OBJECT.to_string())?;
            match top.get("results").map(|r| r.get()) {
                Some(results) if results.starts_with('{') => results.as_bytes().to_vec(),
                _ => body.trim_ascii().to_vec(),
            }
        };
        let mut me = Vec::with_capacity(bare.len() + 32);
        me.extend_from_slice(br#"{"status":"ok","results":"#);
        me.extend_from_slice(&bare);
        me.push(b'}');
        drop(bare);
        self.me = Arc::new(me);
        self.scenario = "custom".into();
        give_back_free_memory();
        Ok(())
    }

    pub(crate) fn set_me(&mut self, body: Value) {
        self.me = Arc::new(serialized(scenario::unwrap(body)));
        self.scenario = "custom".into();
    }

    /// A named scenario: its `/me` body, and its fault or denial for the presets.
    pub(crate) fn apply(&mut self, s: Applied) {
        self.me = Arc::new(s.me);
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

    /// Empties the journal and frees its memory (`clear` would keep the allocation).
    pub(crate) fn clear_journal(&mut self) {
        self.journal = VecDeque::new();
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
        self.trim_journal(1);
        self.journal.push_back(JournalEntry {
            seq: self.seq,
            method: clipped(method),
            path: clipped(path),
            status,
            grant,
        });
    }

    /// Drops the oldest entries until `room` more fit within the capacity.
    fn trim_journal(&mut self, room: usize) {
        let capacity = self.settings.journal_capacity.max(1);
        while self.journal.len() + room > capacity && self.journal.pop_front().is_some() {
            self.journal_dropped += 1;
        }
    }

    /// Counts an answered request with a body of `body_bytes`; true once wiremock holds
    /// [`REMOUNT_EVERY`] requests or [`REMOUNT_BYTES`] of bodies since it last forgot them.
    pub(crate) fn count_for_remount(&mut self, body_bytes: usize) -> bool {
        self.since_remount.0 += 1;
        self.since_remount.1 = self.since_remount.1.saturating_add(body_bytes);
        if self.since_remount.0 < REMOUNT_EVERY && self.since_remount.1 < REMOUNT_BYTES {
            return false;
        }
        self.since_remount = (0, 0);
        true
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
        self.codes.retain(|c| c.expires > now);
        self.access.retain(|a| a.expires > now);
    }
}

/// How many requests wiremock answers before it is made to forget them: each mounted mock
/// keeps a copy of every request it matched (headers and body, a few KiB), whatever the
/// server's recording setting, so a long session would grow by that much per request.
pub(crate) const REMOUNT_EVERY: u64 = 1_000;
/// Body bytes wiremock holds at most before it is made to forget them (a `PUT /__admin/me`
/// may be 64 MiB).
pub(crate) const REMOUNT_BYTES: usize = 1 << 20;

/// A journaled method or path, cut to [`JOURNAL_TEXT_MAX`] bytes (a client chooses its length).
fn clipped(text: &str) -> String {
    if text.len() <= JOURNAL_TEXT_MAX {
        return text.to_string();
    }
    let mut end = JOURNAL_TEXT_MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// A bare `/me` body as the live API serves it: `{"status":"ok","results":…}`, serialized.
fn serialized(bare: Value) -> Vec<u8> {
    let bytes = serde_json::to_vec(&scenario::wrap(bare)).expect("a JSON value serializes");
    // The value tree of a large body is hundreds of MB of small allocations, freed by now.
    give_back_free_memory();
    bytes
}

/// glibc keeps freed heap memory mapped unless asked to give it back: after a large body's
/// value tree or a reset, resident memory would stay at its peak.
pub(crate) fn give_back_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // The project's one `unsafe`: no crate wraps glibc's malloc_trim.
    // SAFETY: malloc_trim only releases free heap memory; it touches no live allocation.
    #[allow(unsafe_code)]
    unsafe {
        libc::malloc_trim(0);
    }
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
