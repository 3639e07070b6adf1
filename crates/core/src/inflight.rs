//! The inflight session (SPEC §3): what `mp-login-start` leaves for `mp-login-finish`, in a 0600
//! file with a TTL. It holds the PKCE verifier, so it is read without following symlinks and
//! refused when its mode lets anyone else read it.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::clock;
use crate::error::{Error, Result};
use crate::region::Region;
use crate::secret::CodeVerifier;
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
    pub created_at: SystemTime,
    pub expires_at: SystemTime,
    pub region: Region,
    pub base_url: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub state: String,
    pub code_verifier: CodeVerifier,
    pub account_name: Option<String>,
    pub project_id: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct File {
    schema_version: u64,
    created_at: String,
    expires_at: String,
    region: Region,
    base_url: String,
    client_id: String,
    redirect_uri: String,
    state: String,
    code_verifier: String,
    account_name: Option<String>,
    project_id: Option<String>,
}

impl Inflight {
    /// Writes the session to `path` (0600, atomic), creating the parent directory at 0700.
    /// Returns whether a previous session was replaced.
    pub fn save(&self, path: &Path) -> Result<bool> {
        if let Some(dir) = path.parent() {
            store::ensure_private_dir(dir)?;
        }
        store::refuse_symlink(path)?;
        let replaced = path.exists();
        let file = File {
            schema_version: SCHEMA_VERSION,
            created_at: clock::rfc3339(self.created_at),
            expires_at: clock::rfc3339(self.expires_at),
            region: self.region,
            base_url: self.base_url.clone(),
            client_id: self.client_id.clone(),
            redirect_uri: self.redirect_uri.clone(),
            state: self.state.clone(),
            code_verifier: self.code_verifier.secret().to_string(),
            account_name: self.account_name.clone(),
            project_id: self.project_id.clone(),
        };
        store::write_json(path, &file)?;
        Ok(replaced)
    }

    /// Reads the session. Missing → `OAUTH_INFLIGHT_MISSING`; unparsable, wrong types or a mode
    /// wider than 0600 → `OAUTH_INFLIGHT_CORRUPT` (kept); newer schema →
    /// `OAUTH_INFLIGHT_SCHEMA_TOO_NEW` (kept); past `expires_at` → `OAUTH_INFLIGHT_EXPIRED`
    /// (removed).
    pub fn load(path: &Path, now: SystemTime) -> Result<Inflight> {
        let corrupt = |reason: String| Error::InflightCorrupt {
            path: path.to_path_buf(),
            reason,
        };
        let read = match store::read_no_follow(path, MAX_FILE) {
            Ok(Some(r)) => r,
            Ok(None) => {
                return Err(Error::InflightMissing {
                    path: path.to_path_buf(),
                })
            }
            Err(Error::Io { message, .. }) => return Err(corrupt(message)),
            Err(e) => return Err(e),
        };
        if read.mode & 0o077 != 0 {
            return Err(corrupt(format!(
                "its mode is {:04o}; it holds a secret and must be 0600",
                read.mode
            )));
        }
        let value: serde_json::Value = serde_json::from_slice(&read.bytes).map_err(|e| {
            corrupt(format!(
                "not JSON ({})",
                crate::error::json_error_without_values(&e)
            ))
        })?;
        match value.get("schema_version").and_then(|v| v.as_u64()) {
            Some(v) if v > SCHEMA_VERSION => {
                return Err(Error::InflightSchemaTooNew {
                    path: path.to_path_buf(),
                    found: v,
                })
            }
            Some(SCHEMA_VERSION) => {}
            _ => return Err(corrupt("`schema_version` is missing or not 1".into())),
        }
        let file: File = serde_json::from_value(value)
            .map_err(|e| corrupt(crate::error::json_error_without_values(&e)))?;
        let created_at = clock::parse_rfc3339(&file.created_at)
            .ok_or_else(|| corrupt("`created_at` is not an RFC 3339 time".into()))?;
        let expires_at = clock::parse_rfc3339(&file.expires_at)
            .ok_or_else(|| corrupt("`expires_at` is not an RFC 3339 time".into()))?;
        if now > expires_at {
            store::remove_if_exists(path)?;
            return Err(Error::InflightExpired {
                created_at: file.created_at,
                expires_at: file.expires_at,
            });
        }
        Ok(Inflight {
            created_at,
            expires_at,
            region: file.region,
            base_url: file.base_url,
            client_id: file.client_id,
            redirect_uri: file.redirect_uri,
            state: file.state,
            code_verifier: CodeVerifier::new(file.code_verifier),
            account_name: file.account_name,
            project_id: file.project_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn session(now: SystemTime) -> Inflight {
        Inflight {
            created_at: now,
            expires_at: now + DEFAULT_TTL,
            region: Region::Eu,
            base_url: "https://eu.mixpanel.com".into(),
            client_id: "cid".into(),
            redirect_uri: "http://localhost:19284/callback".into(),
            state: "st".into(),
            code_verifier: CodeVerifier::new("verifier"),
            account_name: None,
            project_id: Some("42".into()),
        }
    }

    #[test]
    fn round_trip_and_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let p = default_path(dir.path());
        let now = clock::now();
        assert!(!session(now).save(&p).unwrap());
        assert!(session(now).save(&p).unwrap(), "second save replaces");
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let back = Inflight::load(&p, now).unwrap();
        assert_eq!(back.region, Region::Eu);
        assert_eq!(back.code_verifier.secret(), "verifier");
        assert_eq!(back.project_id.as_deref(), Some("42"));
        let late = now + DEFAULT_TTL + Duration::from_secs(5);
        assert_eq!(
            Inflight::load(&p, late).unwrap_err().code(),
            "OAUTH_INFLIGHT_EXPIRED"
        );
        assert!(!p.exists(), "an expired session is removed");
        assert_eq!(
            Inflight::load(&p, now).unwrap_err().code(),
            "OAUTH_INFLIGHT_MISSING"
        );
    }

    #[test]
    fn wrong_values_are_not_echoed() {
        let Err(e) = serde_json::from_str::<File>(r#"{"schema_version":"s3cr3t"}"#) else {
            panic!("a string schema_version must not parse")
        };
        let msg = crate::error::json_error_without_values(&e);
        assert!(!msg.contains("s3cr3t"), "{msg}");
        assert!(msg.contains("invalid type"), "{msg}");
    }
}
