//! The `/me` body (`docs/publish.md#steps`), read as a stream.
//!
//! Busy accounts' bodies are tens or hundreds of MB, mostly the workspaces' member lists. The
//! body passes once through the JSON reader's window (`crate::json`): `organizations` and
//! `projects` are read into [`Me`], the member lists are validated and skipped, and when asked,
//! `me.json` (the unwrapped body without member lists, plus `cached_at`) is written as the bytes
//! go by. What stays in memory is what the pick needs, whatever the body's size.
//!
//! Organizations and projects keep their **document order**: the seed's account name comes
//! from the first organization in `/me` order and its `cross_region_projects` list follows it
//! (`docs/envelopes.md#the-envelope`). A key that appears twice keeps its first place and its last value, as
//! Python's `json.loads` does.

use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;

use crate::json::JsonError;
use crate::region::Region;

mod fetch;
mod me_json;
#[cfg(test)]
mod tests;
mod walk;

pub use fetch::{fetch, read_file, rewrite};
pub use me_json::{MeJson, Part};

/// A placeholder's `me.json` is reused by resume while younger than this (`docs/files.md#placeholders`).
pub const PLACEHOLDER_CACHE_TTL: Duration = Duration::from_secs(600);

/// What the pick and the account need from `/me`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Me {
    pub user_email: Option<String>,
    /// In document order.
    pub organizations: Vec<Organization>,
    /// In document order.
    pub projects: Vec<Project>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    /// The key of `organizations`.
    pub id: String,
    pub name: Option<String>,
}

/// A project, compact: a busy account has tens of thousands. Organization ids and domains are
/// shared between the projects that have the same one.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    /// The key of `projects`.
    pub id: Box<str>,
    pub name: Option<Box<str>>,
    /// Canonical: an integer id (number or numeric string) as its decimal digits, like the
    /// seed's `str(int(organization_id))`.
    pub organization_id: Option<Arc<str>>,
    pub domain: Option<Arc<str>>,
    /// `is_demo` by JSON truthiness, as the seed's `bool(...)` (`docs/pick.md#the-cascade` step 4).
    pub is_demo: bool,
    /// `has_integrated` is exactly `true` (`docs/pick.md#the-cascade` step 4: `1`, `"true"`, null and absent are not).
    pub has_integrated: bool,
}

impl Project {
    /// The seed's region filter (`docs/pick.md#the-cascade` step 2): no domain, or exactly the region's.
    pub fn is_compatible_with(&self, region: Region) -> bool {
        self.domain.as_deref().is_none_or(|d| d == region.domain())
    }

    /// The seed's `_domain_to_region` of the project's domain.
    pub fn region(&self) -> Option<Region> {
        self.domain.as_deref().and_then(Region::from_domain)
    }
}

impl Me {
    pub fn organization(&self, id: &str) -> Option<&Organization> {
        self.organizations.iter().find(|o| o.id == id)
    }

    pub fn project(&self, id: &str) -> Option<&Project> {
        self.projects.iter().find(|p| &*p.id == id)
    }
}

/// Sort key of an id: what Python's `int()` reads (the seed orders ids with `int(pid)`) in
/// numeric order, before anything else in string order. See [`crate::digits::PyInt`].
pub fn id_order(id: &str) -> (u8, Option<crate::digits::PyInt>, &str) {
    match crate::digits::PyInt::parse(id) {
        Some(n) => (0, Some(n), ""),
        None => (1, None, id),
    }
}

/// What a walk over a body keeps: the view the pick needs, or nothing (a copy into `me.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reading {
    View,
    CopyOnly,
}

/// A `/me` body, read: the view the pick needs and what the checks of a fetched body need.
#[derive(Debug)]
pub struct MeBody {
    pub me: Me,
    /// The top-level `status`, when the body was wrapped (`{"status":"ok","results":…}`).
    status: Option<String>,
    /// Whether the body has `results` or `projects` at all.
    recognizable: bool,
    /// `cached_at` (Unix seconds) of a `me.json` the kit or the seed wrote.
    cached_at: Option<f64>,
}

/// Why a body could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The input failed (a file, stdin, the connection).
    Io(io::Error),
    /// Not a `/me` body: a sentence without any of the body's values.
    Invalid(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::Invalid(m) => f.write_str(m),
        }
    }
}

impl MeBody {
    /// Parses a whole `/me` body held in memory (tests, small bodies).
    pub fn parse(bytes: &[u8]) -> std::result::Result<MeBody, String> {
        MeBody::read(bytes, None).map_err(|e| e.to_string())
    }

    /// Reads a `/me` body, wrapped in `{"status":"ok","results":{…}}` or bare, from `input` in
    /// one pass; with `out`, writes `me.json` as it goes (commit it with [`MeJson::commit`]).
    pub fn read(
        input: impl Read,
        out: Option<&mut MeJson>,
    ) -> std::result::Result<MeBody, ReadError> {
        MeBody::walk(input, out, Reading::View)
    }

    /// [`MeBody::read`]; with [`Reading::CopyOnly`], `organizations` and `projects` are only
    /// copied (the returned view is empty).
    fn walk(
        input: impl Read,
        out: Option<&mut MeJson>,
        reading: Reading,
    ) -> std::result::Result<MeBody, ReadError> {
        walk::walk(input, out, reading).map_err(|e| match e {
            JsonError::Io(e) => ReadError::Io(e),
            JsonError::Syntax(m) => ReadError::Invalid(format!("the /me answer is not JSON ({m})")),
            JsonError::Shape(m) => ReadError::Invalid(m),
        })
    }

    pub fn cached_at(&self) -> Option<f64> {
        self.cached_at
    }
}
