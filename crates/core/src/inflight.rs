//! The inflight session (`docs/files.md`): what `mp-login-start` leaves for `mp-login-finish`, in a 0600
//! file with a TTL. It holds the PKCE verifier, so it is read without following symlinks and
//! refused when its mode lets anyone else read it.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::Value;

use crate::clock;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::region::Region;
use crate::secret::{CodeVerifier, CsrfState};
use crate::store;

pub const SCHEMA_VERSION: u64 = 1;
pub const DEFAULT_TTL: Duration = Duration::from_secs(600);
pub const TTL_RANGE: std::ops::RangeInclusive<u64> = 60..=3600;
const MAX_FILE: u64 = 64 * 1024;

/// The default inflight path: `S/oauth/inflight.json`.
pub fn default_path(storage: &Path) -> PathBuf {
    storage.join("oauth").join("inflight.json")
}

#[derive(Debug)]
pub struct Inflight {
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; the session is usable through this second (the seed's `expires_at < now`).
    pub expires_at: i64,
    /// As written: checked by [`Inflight::region`] after the state, as the seed does.
    pub region: String,
    /// The kit's: the base URL start registered the client at (absent in the seed's files).
    pub base_url: Option<String>,
    pub client_id: String,
    pub redirect_uri: String,
    pub state: CsrfState,
    pub pkce_verifier: CodeVerifier,
    pub account_name: Option<String>,
    pub project_id: Option<String>,
    /// The kit's: the issuer whose RFC 9207 `iss` the redirect must carry, when the
    /// authorization server advertises it.
    pub issuer: Option<String>,
}

/// The seed's keys in the seed's order (`docs/files.md#the-inflight-file`), then the kit's.
#[derive(Serialize)]
struct File<'a> {
    schema_version: u64,
    region: &'a str,
    client_id: &'a str,
    redirect_uri: &'a str,
    pkce_verifier: &'a str,
    state: &'a str,
    created_at: i64,
    expires_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    base_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    project_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer: Option<&'a str>,
}

const REQUIRED: [&str; 8] = [
    "schema_version",
    "region",
    "client_id",
    "redirect_uri",
    "pkce_verifier",
    "state",
    "created_at",
    "expires_at",
];

/// Python's `int(value)` on what JSON can hold: integers, floats (truncated), booleans and
/// strings of an integer.
fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite())
                .map(|f| f.trunc() as i64)
        }),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::String(s) => s.trim().replace('_', "").parse().ok(),
        _ => None,
    }
}

/// Python's `str(value)` for the scalars a string field can be written as.
fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Inflight {
    /// Writes the session to `path` (0600, atomic), creating the parent directory at 0700.
    /// Returns whether a previous session was replaced.
    pub fn save(&self, interrupt: &Interrupt, path: &Path) -> Result<bool> {
        if let Some(dir) = path.parent() {
            store::ensure_private_dir(dir)?;
        }
        store::refuse_symlink(path)?;
        let replaced = path.exists();
        let file = File {
            schema_version: SCHEMA_VERSION,
            region: &self.region,
            client_id: &self.client_id,
            redirect_uri: &self.redirect_uri,
            pkce_verifier: self.pkce_verifier.secret(),
            state: self.state.secret(),
            created_at: self.created_at,
            expires_at: self.expires_at,
            base_url: self.base_url.as_deref(),
            account_name: self.account_name.as_deref(),
            project_id: self.project_id.as_deref(),
            issuer: self.issuer.as_deref(),
        };
        store::write_json(interrupt, path, &file)?;
        Ok(replaced)
    }

    /// Reads the session as the seed does (`docs/files.md#the-inflight-file`): missing → `OAUTH_INFLIGHT_MISSING`;
    /// unreadable, not an object, a required key missing or not coercible →
    /// `OAUTH_INFLIGHT_CORRUPT`; `schema_version` above 1 → `OAUTH_INFLIGHT_SCHEMA_TOO_NEW`;
    /// `expires_at < now` → `OAUTH_INFLIGHT_EXPIRED`. The file is kept in every case. The kit
    /// also refuses a file others can read (it holds the verifier).
    pub fn load(path: &Path, now: SystemTime) -> Result<Inflight> {
        let corrupt = |reason: String, missing: Vec<&'static str>| Error::InflightCorrupt {
            path: path.to_path_buf(),
            reason,
            missing,
        };
        let read = match store::read_no_follow(path, MAX_FILE) {
            Ok(Some(r)) => r,
            Ok(None) => {
                return Err(Error::InflightMissing {
                    path: path.to_path_buf(),
                })
            }
            Err(Error::Io { source, .. }) => return Err(corrupt(source.to_string(), vec![])),
            Err(e) => return Err(e),
        };
        if read.mode & 0o077 != 0 {
            return Err(Error::InflightMode {
                path: path.to_path_buf(),
                mode: read.mode,
            });
        }
        let value: Value = serde_json::from_slice(&read.bytes).map_err(|e| {
            corrupt(
                format!("not JSON ({})", crate::error::json_error_without_values(&e)),
                vec![],
            )
        })?;
        let Value::Object(map) = value else {
            return Err(corrupt("not a JSON object".into(), vec![]));
        };
        let missing: Vec<&'static str> = REQUIRED
            .into_iter()
            .filter(|k| !map.contains_key(*k))
            .collect();
        if !missing.is_empty() {
            return Err(corrupt(
                format!("missing required keys: {}", missing.join(", ")),
                missing,
            ));
        }
        let int = |k: &str| {
            as_int(&map[k]).ok_or_else(|| corrupt(format!("`{k}` is not an integer"), vec![]))
        };
        let text = |k: &str| {
            as_text(&map[k]).ok_or_else(|| corrupt(format!("`{k}` is not a string"), vec![]))
        };
        let optional = |k: &str| map.get(k).and_then(as_text).filter(|s| !s.is_empty());
        let session = Inflight {
            region: text("region")?,
            client_id: text("client_id")?,
            redirect_uri: text("redirect_uri")?,
            pkce_verifier: CodeVerifier::new(text("pkce_verifier")?),
            state: CsrfState::new(text("state")?),
            created_at: int("created_at")?,
            expires_at: int("expires_at")?,
            base_url: optional("base_url"),
            account_name: optional("account_name"),
            project_id: optional("project_id"),
            issuer: optional("issuer"),
        };
        let schema = int("schema_version")?;
        if schema > SCHEMA_VERSION as i64 {
            return Err(Error::InflightSchemaTooNew {
                path: path.to_path_buf(),
                found: schema,
            });
        }
        if session.expires_at < clock::unix_seconds(now) as i64 {
            return Err(Error::InflightExpired {
                path: path.to_path_buf(),
                expires_at: session.expires_at,
                expired: clock::rfc3339(clock::from_unix(session.expires_at)),
            });
        }
        Ok(session)
    }

    /// The login's region: one of `us`, `eu`, `in`, exactly (else `OAUTH_CONFIG_ERROR`).
    pub fn region(&self, path: &Path) -> Result<Region> {
        Region::exact(&self.region).ok_or_else(|| Error::InflightRegionInvalid {
            path: path.to_path_buf(),
            region: self.region.chars().take(16).collect(),
        })
    }
}

/// Whether the inflight file at `path` (still) holds the session with `state`.
pub fn holds(path: &Path, state: &CsrfState) -> bool {
    let Ok(Some(read)) = store::read_no_follow(path, MAX_FILE) else {
        return false;
    };
    serde_json::from_slice::<Value>(&read.bytes)
        .ok()
        .and_then(|v| {
            v.get("state")
                .and_then(Value::as_str)
                .map(|s| state.matches(s))
        })
        .unwrap_or(false)
}

/// Removes the inflight file if it is still the session with `state`: a newer `mp-login-start`
/// may have replaced it while this one was finishing (`docs/seed.md#where-the-kit-differs`).
pub fn remove_if_same(interrupt: &Interrupt, path: &Path, state: &CsrfState) -> Result<()> {
    if holds(path, state) {
        let _durable = interrupt.durable();
        store::remove_if_exists(path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn session(now: i64) -> Inflight {
        Inflight {
            created_at: now,
            expires_at: now + DEFAULT_TTL.as_secs() as i64,
            region: "eu".into(),
            base_url: Some("https://eu.mixpanel.com".into()),
            client_id: "cid".into(),
            redirect_uri: "http://localhost:19284/callback".into(),
            state: CsrfState::new("st"),
            pkce_verifier: CodeVerifier::new("verifier"),
            account_name: None,
            project_id: Some("42".into()),
            issuer: None,
        }
    }

    #[test]
    fn round_trip_and_expiry_keep_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = default_path(dir.path());
        let now = clock::now();
        let secs = clock::unix_seconds(now) as i64;
        assert!(!session(secs).save(&Interrupt::default(), &p).unwrap());
        assert!(
            session(secs).save(&Interrupt::default(), &p).unwrap(),
            "second save replaces"
        );
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let back = Inflight::load(&p, now).unwrap();
        assert_eq!(back.region(&p).unwrap(), Region::Eu);
        assert_eq!(back.pkce_verifier.secret(), "verifier");
        assert_eq!(back.project_id.as_deref(), Some("42"));
        // The expiry second itself is still valid; the one after is not, and the file stays.
        let at_expiry = now + DEFAULT_TTL;
        assert!(Inflight::load(&p, at_expiry).is_ok());
        let late = at_expiry + Duration::from_secs(1);
        let e = Inflight::load(&p, late).unwrap_err();
        assert_eq!(e.code(), "OAUTH_INFLIGHT_EXPIRED");
        assert!(
            p.exists(),
            "an expired session is kept, as the seed keeps it"
        );
    }

    #[test]
    fn reads_what_the_seed_writes_and_coerces_like_python() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("inflight.json");
        let write = |text: &str| {
            std::fs::write(&p, text).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        };
        let seed = r#"{"schema_version": 1, "region": "us", "client_id": "c", "redirect_uri": "http://localhost:19285/callback", "pkce_verifier": "v", "state": "s", "created_at": 1795886213, "expires_at": "4102444800"}"#;
        write(seed);
        let s = Inflight::load(&p, clock::now()).unwrap();
        assert_eq!((s.base_url, s.expires_at), (None, 4_102_444_800));
        write(&seed.replace(r#""schema_version": 1"#, r#""schema_version": 0"#));
        assert!(Inflight::load(&p, clock::now()).is_ok(), "0 is accepted");
        write(&seed.replace(r#""schema_version": 1"#, r#""schema_version": "2""#));
        assert_eq!(
            Inflight::load(&p, clock::now()).unwrap_err().code(),
            "OAUTH_INFLIGHT_SCHEMA_TOO_NEW"
        );
        write(&seed.replace(r#""state": "s", "#, ""));
        match Inflight::load(&p, clock::now()).unwrap_err() {
            Error::InflightCorrupt { missing, .. } => assert_eq!(missing, ["state"]),
            e => panic!("{e:?}"),
        }
        write(&seed.replace("1795886213", r#""yesterday""#));
        assert_eq!(
            Inflight::load(&p, clock::now()).unwrap_err().code(),
            "OAUTH_INFLIGHT_CORRUPT"
        );
        write("[]");
        assert_eq!(
            Inflight::load(&p, clock::now()).unwrap_err().code(),
            "OAUTH_INFLIGHT_CORRUPT"
        );
        write(&seed.replace(r#""region": "us""#, r#""region": "mars""#));
        let s = Inflight::load(&p, clock::now()).unwrap();
        assert_eq!(s.region(&p).unwrap_err().code(), "OAUTH_CONFIG_ERROR");
    }
}
