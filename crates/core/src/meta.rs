//! `meta.json`, as the kit, the seed and mixpanel-headless write it (`docs/files.md#placeholders`):
//! read leniently, every key optional.

use std::path::Path;

use crate::error::{Error, Result};
use crate::region::Region;

/// A `meta.json` as written by the kit, the seed or mixpanel-headless: every key optional (the
/// seed writes the region and the time; other tools may write nothing).
#[derive(Debug, Default)]
pub struct MetaFields {
    pub region: Option<Region>,
    pub created_at: Option<i64>,
    pub base_url: Option<String>,
    pub client_id: Option<String>,
    pub account_name: Option<String>,
    pub project_id: Option<String>,
}

impl MetaFields {
    /// The fields of `bytes` (read from `path`); not a JSON object is
    /// `OAUTH_PLACEHOLDER_META_CORRUPT`.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<MetaFields> {
        let corrupt = |reason: String| Error::PlaceholderMetaCorrupt {
            path: path.to_path_buf(),
            reason,
        };
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| corrupt(crate::error::json_error_without_values(&e)))?;
        let serde_json::Value::Object(map) = value else {
            return Err(corrupt("not a JSON object".into()));
        };
        let text = |k: &str| map.get(k).and_then(|v| v.as_str()).map(str::to_string);
        Ok(MetaFields {
            region: text("region").and_then(|r| Region::exact(&r)),
            created_at: map.get("created_at").and_then(|v| v.as_i64()),
            base_url: text("base_url"),
            client_id: text("client_id"),
            account_name: text("account_name"),
            project_id: text("project_id"),
        })
    }
}
