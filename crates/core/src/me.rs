//! The `/me` body (SPEC §7 step 2, §8), read as a stream (issue 11).
//!
//! Busy accounts' bodies are tens or hundreds of MB, mostly the workspaces' member lists. The
//! body passes once through the JSON reader's window (`json.rs`): `organizations` and
//! `projects` are read into [`Me`], the member lists are validated and skipped, and when asked,
//! `me.json` (the unwrapped body without member lists, plus `cached_at`) is written as the bytes
//! go by. What stays in memory is what the pick needs, whatever the body's size.
//!
//! Organizations and projects keep their **document order**: the seed's account name comes
//! from the first organization in `/me` order and its `cross_region_projects` list follows it
//! (CONTRACT §2.3, §7). A key that appears twice keeps its first place and its last value, as
//! Python's `json.loads` does.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::clock;
use crate::context::Context;
use crate::endpoints::Endpoints;
use crate::error::{Error, IoContext, MeFailure, Result};
use crate::http::{Call, Streamed};
use crate::json::{JsonError, Kind, Reader};
use crate::region::Region;
use crate::secret::AccessToken;
use crate::store;

/// A placeholder's `me.json` is reused by resume while younger than this (CONTRACT §5.2).
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
    /// `is_demo` by JSON truthiness, as the seed's `bool(...)` (CONTRACT §10.3).
    pub is_demo: bool,
    /// `has_integrated` is exactly `true` (CONTRACT §10.3: `1`, `"true"`, null and absent are not).
    pub has_integrated: bool,
}

impl Project {
    /// The seed's region filter (CONTRACT §6.1 step 3): no domain, or exactly the region's.
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
        MeBody::walk(input, out, true)
    }

    /// [`MeBody::read`]; without `view`, `organizations` and `projects` are only copied (the
    /// returned view is empty).
    fn walk(
        input: impl Read,
        out: Option<&mut MeJson>,
        view: bool,
    ) -> std::result::Result<MeBody, ReadError> {
        let mut walk = Walk {
            r: Reader::new(crate::encoding::Utf8Input::new(input), out),
            key: Vec::new(),
            text: Vec::new(),
            shared: HashMap::new(),
            view,
        };
        let result = walk.body();
        let (out, write_error) = walk.r.into_out();
        if let (Some(out), Some(e)) = (out, write_error) {
            out.failed.get_or_insert(e);
        }
        result.map_err(|e| match e {
            JsonError::Io(e) => ReadError::Io(e),
            JsonError::Syntax(m) => ReadError::Invalid(format!("the /me answer is not JSON ({m})")),
            JsonError::Shape(m) => ReadError::Invalid(m),
        })
    }

    pub fn cached_at(&self) -> Option<f64> {
        self.cached_at
    }
}

/// One level of the body (the top, or `results`): what it says, as last said.
#[derive(Default)]
struct Level {
    user_email: Option<String>,
    organizations: Vec<Organization>,
    projects: Vec<Project>,
    has_projects: bool,
    status: Option<String>,
    cached_at: Option<f64>,
}

struct Walk<'o, R> {
    r: Reader<R, &'o mut MeJson>,
    key: Vec<u8>,
    text: Vec<u8>,
    /// Organization ids and domains, shared between projects.
    shared: HashMap<Box<str>, Arc<str>>,
    /// Whether `organizations` and `projects` are read into the view, or only copied.
    view: bool,
}

const MEMBER_LISTS: [&[u8]; 2] = [b"member_list", b"unified_member_list"];

/// Where the expected-shape errors of a part of the body point.
#[derive(Clone, Copy)]
enum Within {
    Body,
    Field(&'static str),
}

impl<R: Read> Walk<'_, R> {
    fn shape(&self, within: Within, what: String) -> JsonError {
        let at = self.r.at(&what);
        JsonError::Shape(match within {
            Within::Body => {
                format!("the /me answer is not a JSON object of the expected shape ({at})")
            }
            Within::Field(key) => {
                format!("the /me answer's `{key}` do not have the expected shape ({at})")
            }
        })
    }

    fn expect(&mut self, want: Kind, within: Within, expected: &str) -> crate::json::Result<()> {
        match self.r.kind()? {
            kind if kind == want => Ok(()),
            kind => Err(self.wrong(kind, within, expected)),
        }
    }

    /// A value of the wrong kind. As in serde_json, a value that is not even JSON is
    /// reported as such.
    fn wrong(&mut self, kind: Kind, within: Within, expected: &str) -> JsonError {
        if let Err(e) = self.r.skip_value() {
            return e;
        }
        self.shape(
            within,
            format!("invalid type: {}, expected {expected}", kind.name()),
        )
    }

    /// The whole body: the top level, and `results` read as the body when it is an object.
    /// Each level's fields go to their own part of `me.json`; the one that is the body is
    /// kept.
    fn body(&mut self) -> crate::json::Result<MeBody> {
        self.expect(Kind::Object, Within::Body, "a JSON object")?;
        self.r.begin_object()?;
        self.r.emit(b"{");
        let (mut top, mut top_written) = (Level::default(), false);
        let mut results: Option<(Level, bool)> = None;
        let (mut has_results, mut first) = (false, true);
        while self.r.next_key(&mut first, &mut self.key)? {
            if self.key != b"results" {
                self.field(&mut top, &mut top_written, false)?;
                continue;
            }
            has_results = true;
            results = None;
            if self.r.kind()? != Kind::Object {
                self.r.skip_value()?;
                continue;
            }
            self.r.begin_object()?;
            if let Some(out) = self.r.out_mut() {
                out.restart_results();
            }
            self.r.emit(b"{");
            let (mut level, mut written, mut first) = (Level::default(), false, true);
            while self.r.next_key(&mut first, &mut self.key)? {
                self.field(&mut level, &mut written, true)?;
            }
            self.switch(Part::Top);
            results = Some((level, written));
        }
        self.r.finish()?;
        let status = top.status.take();
        let (level, part, written) = match results {
            Some((level, written)) => (level, Part::Results, written),
            None => (top, Part::Top, top_written),
        };
        // The part written last is the one committed.
        self.switch(part);
        self.r.emit(if written { b"," } else { b"" });
        let now = clock::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        let cached = format!(
            "\"cached_at\":{}}}",
            serde_json::to_string(&now).expect("a float")
        );
        self.r.emit(cached.as_bytes());
        Ok(MeBody {
            recognizable: has_results || level.has_projects,
            status,
            cached_at: level.cached_at,
            me: Me {
                user_email: level.user_email,
                organizations: dedup(level.organizations, |o| &o.id),
                projects: dedup(level.projects, |p| p.id.as_ref()),
            },
        })
    }

    /// The string last read (the reader checked it is UTF-8).
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.text).into_owned()
    }

    fn switch(&mut self, part: Part) {
        if let Some(out) = self.r.out_mut() {
            out.switch(part);
        }
    }

    /// `"key":` in `me.json`, after a comma unless it is the level's first.
    fn entry(&mut self, written: &mut bool) {
        if !self.r.has_out() {
            return;
        }
        if std::mem::replace(written, true) {
            self.r.emit(b",");
        }
        // The key re-escaped (it was decoded), in a reused buffer.
        self.text.clear();
        serde_json::to_writer(&mut self.text, &*String::from_utf8_lossy(&self.key))
            .expect("a string serializes");
        self.r.emit(&self.text);
        self.r.emit(b":");
    }

    /// One field of a level, whose key was just read. `inner`: the level is `results`.
    fn field(
        &mut self,
        level: &mut Level,
        written: &mut bool,
        inner: bool,
    ) -> crate::json::Result<()> {
        match self.key.as_slice() {
            // Not kept: `cached_at` is written anew, a `results` inside `results` is dropped.
            b"cached_at" => {
                level.cached_at = None;
                if self.r.kind()? == Kind::Number {
                    self.r.read_number(&mut self.text)?;
                    level.cached_at = std::str::from_utf8(&self.text)
                        .ok()
                        .and_then(|t| t.parse().ok());
                } else {
                    self.r.skip_value()?;
                }
                return Ok(());
            }
            b"results" if inner => return self.r.skip_value(),
            b"workspaces" => {
                // `null` is no workspaces (and none in me.json).
                if self.r.kind()? == Kind::Null {
                    return self.r.skip_value();
                }
                self.entry(written);
                return self.workspaces();
            }
            _ => {}
        }
        self.entry(written);
        self.r.tee_begin();
        let key = std::mem::take(&mut self.key);
        let result = match key.as_slice() {
            b"organizations" if self.view => self.organizations().map(|o| level.organizations = o),
            b"projects" if self.view => {
                level.has_projects = true;
                self.projects().map(|p| level.projects = p)
            }
            b"user_email" => self.lenient_string().map(|s| level.user_email = s),
            b"status" => self.lenient_string().map(|s| level.status = s),
            _ => self.r.skip_value(),
        };
        self.key = key;
        self.r.tee_end();
        result
    }

    /// A string, or `None` for anything else (skipped).
    fn lenient_string(&mut self) -> crate::json::Result<Option<String>> {
        if self.r.kind()? != Kind::String {
            self.r.skip_value()?;
            return Ok(None);
        }
        self.r.read_string(&mut self.text)?;
        Ok(Some(self.text()))
    }

    /// A string or null; anything else is not the expected shape.
    fn optional_string(&mut self, within: Within) -> crate::json::Result<Option<String>> {
        match self.r.kind()? {
            Kind::Null => self.r.skip_value().map(|()| None),
            Kind::String => {
                self.r.read_string(&mut self.text)?;
                Ok(Some(self.text()))
            }
            kind => Err(self.wrong(kind, within, "a string")),
        }
    }

    /// A JSON object's entries; `null` is none.
    fn entries<T>(
        &mut self,
        within: Within,
        expected: &str,
        mut value: impl FnMut(&mut Self, String) -> crate::json::Result<T>,
    ) -> crate::json::Result<Vec<T>> {
        if self.r.kind()? == Kind::Null {
            self.r.skip_value()?;
            return Ok(Vec::new());
        }
        self.expect(Kind::Object, within, expected)?;
        self.r.begin_object()?;
        let (mut out, mut first) = (Vec::new(), true);
        while self.r.next_key(&mut first, &mut self.key)? {
            let id = String::from_utf8_lossy(&self.key).into_owned();
            out.push(value(self, id)?);
        }
        Ok(out)
    }

    /// The fields of one object, each handed to `field` with its key; `field` reads or skips
    /// the value.
    fn object(
        &mut self,
        within: Within,
        expected: &str,
        mut field: impl FnMut(&mut Self) -> crate::json::Result<()>,
    ) -> crate::json::Result<()> {
        self.expect(Kind::Object, within, expected)?;
        self.r.begin_object()?;
        let mut first = true;
        while self.r.next_key(&mut first, &mut self.key)? {
            field(self)?;
        }
        Ok(())
    }

    fn organizations(&mut self) -> crate::json::Result<Vec<Organization>> {
        let within = Within::Field("organizations");
        self.entries(within, "a map of organizations", |w, id| {
            let mut name = None;
            w.object(within, "an organization object", |w| {
                match w.key.as_slice() {
                    b"name" => w.optional_string(within).map(|n| name = n),
                    _ => w.r.skip_value(),
                }
            })?;
            Ok(Organization { id, name })
        })
    }

    fn projects(&mut self) -> crate::json::Result<Vec<Project>> {
        let within = Within::Field("projects");
        self.entries(within, "a map of projects", |w, id| {
            let mut p = Project {
                id: id.into_boxed_str(),
                name: None,
                organization_id: None,
                domain: None,
                is_demo: false,
                has_integrated: false,
            };
            w.object(within, "a project object", |w| match w.key.as_slice() {
                b"name" => w
                    .optional_string(within)
                    .map(|n| p.name = n.map(String::into_boxed_str)),
                b"domain" => {
                    let d = w.optional_string(within)?;
                    p.domain = d.map(|d| w.share(d));
                    Ok(())
                }
                b"organization_id" => {
                    let o = w.lenient_id()?;
                    p.organization_id = o.map(|o| w.share(o));
                    Ok(())
                }
                b"is_demo" => w.truth(false).map(|t| p.is_demo = t),
                b"has_integrated" => w.truth(true).map(|t| p.has_integrated = t),
                _ => w.r.skip_value(),
            })?;
            Ok(p)
        })
    }

    fn share(&mut self, s: String) -> Arc<str> {
        if let Some(shared) = self.shared.get(s.as_str()) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(s.as_str());
        self.shared.insert(s.into_boxed_str(), shared.clone());
        shared
    }

    /// Ids arrive as numbers or strings; an integer is written as its decimal digits.
    fn lenient_id(&mut self) -> crate::json::Result<Option<String>> {
        let within = Within::Field("projects");
        match self.r.kind()? {
            Kind::Null => self.r.skip_value().map(|()| None),
            Kind::String => {
                self.r.read_string(&mut self.text)?;
                let s = self.text();
                // A string pydantic would refuse is kept as it is (the pick never needs more).
                Ok(Some(crate::digits::lax_int(&s, true).unwrap_or(s)))
            }
            // pydantic's lax int, as the seed's model reads it: `true` is 1, `7.0` and `1e2` are
            // 7 and 100.
            Kind::Bool => {
                let one = self.r.peek()? == Some(b't');
                self.r.skip_value()?;
                Ok(Some(if one { "1" } else { "0" }.to_string()))
            }
            Kind::Number => {
                self.r.read_number(&mut self.text)?;
                let text = std::str::from_utf8(&self.text).unwrap_or_default();
                match crate::digits::lax_int(text, false) {
                    Some(n) => Ok(Some(n)),
                    None => {
                        Err(self.shape(within, "an organization_id that is not an integer".into()))
                    }
                }
            }
            kind => Err(self.wrong(kind, within, "an integer, a boolean or a string")),
        }
    }

    /// Python truthiness of any value (false, null, 0, "", [] and {} are false); `strict`:
    /// only the literal `true` is true.
    fn truth(&mut self, strict: bool) -> crate::json::Result<bool> {
        let kind = self.r.kind()?;
        let truthy = match kind {
            Kind::Bool => self.r.peek()? == Some(b't'),
            Kind::Null => false,
            Kind::Number => {
                self.r.read_number(&mut self.text)?;
                let text = std::str::from_utf8(&self.text).unwrap_or("0");
                return Ok(!strict
                    && if text.contains(['.', 'e', 'E', 'N', 'I']) {
                        text.parse::<f64>().is_ok_and(|f| f != 0.0)
                    } else {
                        text.bytes().any(|b| (b'1'..=b'9').contains(&b))
                    });
            }
            Kind::String => {
                self.r.read_string(&mut self.text)?;
                return Ok(!strict && !self.text.is_empty());
            }
            Kind::Array | Kind::Object => {
                let empty = self.r.open_is_empty(kind)?;
                if !empty {
                    self.r.skip_rest(kind)?;
                }
                return Ok(!strict && !empty);
            }
        };
        self.r.skip_value()?;
        Ok(truthy)
    }

    /// `workspaces`: each workspace to `me.json` without its member lists, which are read
    /// (validated) and dropped.
    fn workspaces(&mut self) -> crate::json::Result<()> {
        self.expect(Kind::Object, Within::Body, "a map of workspaces")?;
        self.r.begin_object()?;
        self.r.emit(b"{");
        let (mut first, mut written) = (true, false);
        while self.r.next_key(&mut first, &mut self.key)? {
            self.entry(&mut written);
            self.r.emit(b"{");
            let mut fields_written = false;
            self.object(Within::Body, "a workspace object", |w| {
                if MEMBER_LISTS.contains(&w.key.as_slice()) {
                    return w.r.skip_value();
                }
                w.entry(&mut fields_written);
                w.r.tee_begin();
                let skipped = w.r.skip_value();
                w.r.tee_end();
                skipped
            })?;
            self.r.emit(b"}");
        }
        self.r.emit(b"}");
        Ok(())
    }
}

/// A key that appears twice keeps its first place and takes its last value.
fn dedup<T>(mut items: Vec<T>, key: impl Fn(&T) -> &str) -> Vec<T> {
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    {
        let mut first: HashMap<&str, usize> = HashMap::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if let Some(&at) = first.get(key(item)) {
                repeats.push((at, i));
            } else {
                first.insert(key(item), i);
            }
        }
    }
    if repeats.is_empty() {
        return items;
    }
    let mut gone = vec![false; items.len()];
    for (at, later) in repeats {
        items.swap(at, later);
        gone[later] = true;
    }
    let mut i = 0;
    items.retain(|_| {
        i += 1;
        !gone[i - 1]
    });
    items
}

/// Which part of `me.json` is being written: the top level, or `results`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Top,
    Results,
}

struct PartFile {
    tmp: PathBuf,
    w: BufWriter<File>,
    _removed_on_stop: crate::interrupt::TempFile,
}

/// `me.json` while it is written: one temporary file per level of the body (the top level and
/// `results`, which the live API wraps the body in), each `.me.json.tmp-<hex>` beside the
/// target. [`MeJson::commit`] renames the one that is the body; dropping it removes them.
pub struct MeJson {
    path: PathBuf,
    parts: [Option<PartFile>; 2],
    /// Where writes go; at the end, the part that is the body.
    current: Part,
    failed: Option<io::Error>,
}

impl MeJson {
    /// Starts writing `path` (stale temporary files of an earlier, killed write are removed).
    pub fn create(path: &Path) -> Result<MeJson> {
        store::refuse_symlink(path)?;
        store::remove_stale_temps(path)?;
        Ok(MeJson {
            path: path.to_path_buf(),
            parts: [None, None],
            current: Part::Top,
            failed: None,
        })
    }

    fn slot(part: Part) -> usize {
        match part {
            Part::Top => 0,
            Part::Results => 1,
        }
    }

    /// Writes to `part` from now on.
    fn switch(&mut self, part: Part) {
        self.current = part;
    }

    /// Writes `results` from now on, from its start: a repeated `results` replaces the earlier.
    fn restart_results(&mut self) {
        self.current = Part::Results;
        if let Some(PartFile {
            tmp,
            w,
            _removed_on_stop,
        }) = self.parts[1].take()
        {
            // Drop what is buffered, then empty the file.
            let (mut file, _) = w.into_parts();
            if let Err(e) = file.set_len(0).and_then(|()| file.rewind()) {
                self.failed.get_or_insert(e);
            }
            self.parts[1] = Some(PartFile {
                tmp,
                w: BufWriter::with_capacity(1 << 16, file),
                _removed_on_stop,
            });
        }
    }

    fn writer(&mut self) -> io::Result<&mut BufWriter<File>> {
        let slot = &mut self.parts[Self::slot(self.current)];
        if slot.is_none() {
            let dir = self.path.parent().unwrap_or(Path::new("."));
            let name = self.path.file_name().unwrap_or_default().to_string_lossy();
            let tmp = dir.join(format!(".{name}.tmp-{}", store::random_hex(4)));
            let registered = crate::interrupt::temp_file(&tmp);
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&tmp)?;
            *slot = Some(PartFile {
                tmp,
                w: BufWriter::with_capacity(1 << 16, file),
                _removed_on_stop: registered,
            });
        }
        Ok(&mut slot.as_mut().expect("just made").w)
    }

    /// Forgets what was written (the body is read again from its start).
    fn restart(&mut self) {
        for part in self.parts.iter_mut().filter_map(Option::take) {
            let _ = fs::remove_file(&part.tmp);
        }
        self.current = Part::Top;
        self.failed = None;
    }

    /// Makes the part that is the body `me.json`: flushed, synced, renamed over `path`.
    pub fn commit(mut self) -> Result<()> {
        let at = &self.path.clone();
        if let Some(e) = self.failed.take() {
            return Err(Error::io("cannot write", at, e));
        }
        let Some(PartFile { tmp, w, .. }) = self.parts[Self::slot(self.current)].take() else {
            return Err(Error::io(
                "cannot write",
                at,
                io::Error::other("no body was written"),
            ));
        };
        let _durable = crate::interrupt::durable();
        let done = w
            .into_inner()
            .map_err(io::IntoInnerError::into_error)
            .and_then(|f| f.sync_all())
            .at("cannot write", &tmp)
            .and_then(|()| fs::rename(&tmp, at).at("cannot replace", at));
        if done.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        done?;
        drop(self);
        store::sync_dir(at.parent().unwrap_or(Path::new(".")))
    }
}

impl Write for MeJson {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.writer()?.write(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer()?.flush()
    }
}

impl Drop for MeJson {
    fn drop(&mut self) {
        for part in self.parts.iter().flatten() {
            let _ = fs::remove_file(&part.tmp);
        }
    }
}

/// `GET /me` with the bearer token (429 and 5xx are retried), read as it arrives; with
/// `keep`, the body is written there as `me.json` (a failure to keep it is reported by
/// [`MeJson::commit`], not here). Failures carry the seed's `original_code` (CONTRACT §3):
/// `AUTH_FAILED`, `QUERY_FAILED`, `SERVER_ERROR`, `RATE_LIMITED`, `HTTP_ERROR`; a body that is
/// not a `/me` answer is `ME_INVALID` (SPEC §13: unparsable, a `status` other than `ok`, or
/// neither `results` nor `projects`; the seed publishes such an answer as an empty account).
pub fn fetch(
    ctx: &Context,
    endpoints: &Endpoints,
    token: &AccessToken,
    mut keep: Option<&mut MeJson>,
) -> Result<MeBody> {
    let (http, progress) = (&ctx.http, ctx.progress);
    let url = endpoints.me();
    let reply = http.send_streaming(
        "fetching /me",
        url.as_str(),
        Call::Me,
        progress,
        |c| c.get(url.clone()).bearer_auth(token.secret()),
        |_, body| {
            if let Some(out) = keep.as_deref_mut() {
                out.restart();
            }
            MeBody::read(body, keep.as_deref_mut()).map_err(|e| match e {
                // The connection's own failures are told apart by the HTTP layer.
                ReadError::Io(e) => crate::http::read_failed(url.as_str(), e),
                ReadError::Invalid(message) => invalid(message),
            })
        },
    );
    let reply = crate::http::as_step(reply, |message| Error::MeFetch {
        failure: MeFailure::Network,
        message,
    })?;
    let body = match reply {
        Streamed::Read(body) => body,
        Streamed::Failed(reply) => {
            let message = match reply.status {
                401 => "HTTP 401: the server did not accept the access token".to_string(),
                s => format!("HTTP {s}"),
            };
            return Err(Error::MeFetch {
                failure: MeFailure::Status(reply.status),
                message,
            });
        }
    };
    check_fetched(body)
}

/// A fetched body must be a `/me` answer: a `status` other than `ok`, or neither `results` nor
/// `projects`, is `ME_INVALID`.
fn check_fetched(body: MeBody) -> Result<MeBody> {
    if let Some(status) = body.status.as_deref().filter(|s| *s != "ok") {
        return Err(invalid(format!(
            "the /me answer has status `{}`, not `ok`",
            status.chars().take(40).collect::<String>()
        )));
    }
    if !body.recognizable {
        return Err(invalid(
            "the /me answer has neither `results` nor `projects`".into(),
        ));
    }
    Ok(body)
}

fn invalid(message: String) -> Error {
    Error::MeFetch {
        failure: MeFailure::Invalid,
        message,
    }
}

/// Reads a `me.json` (or any `/me` body) from a file without following a symlink.
pub fn read_file(path: &Path) -> Result<MeBody> {
    walk_file(path, None, true)
}

/// Writes the `me.json` at `path` anew from itself: member lists dropped, a new `cached_at`
/// (the account's copy at publish, CONTRACT §5.3). Organizations and projects are only copied.
pub fn rewrite(path: &Path) -> Result<()> {
    let mut out = MeJson::create(path)?;
    walk_file(path, Some(&mut out), false)?;
    out.commit()
}

fn walk_file(path: &Path, out: Option<&mut MeJson>, view: bool) -> Result<MeBody> {
    let file = store::open_no_follow(path)?;
    MeBody::walk(file, out, view).map_err(|e| match e {
        ReadError::Io(e) => Error::io("cannot read", path, e),
        ReadError::Invalid(message) => invalid(message),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"status":"ok","results":{
        "user_email":"ada@example.com",
        "organizations":{"10":{"id":10,"name":"Acme"},"9":{"id":9,"name":"Beta","extra":[1,2]}},
        "projects":{"100":{"name":"Prod","organization_id":10,"domain":"mixpanel.com","has_integrated":true},
                    "20":{"name":"Demo","organization_id":"9","is_demo":"false","has_integrated":null}},
        "workspaces":{"5":{"id":5,"project_id":100,"member_list":[{"email":"x"}],"unified_member_list":[1]}}
    }}"#;

    fn ids<T>(v: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
        v.iter().map(|x| id(x).to_string()).collect()
    }

    #[test]
    fn parses_wrapped_and_bare_bodies_alike_in_document_order() {
        let wrapped = MeBody::parse(BODY.as_bytes()).unwrap();
        let inner = BODY.find("\"results\":").unwrap() + "\"results\":".len();
        let bare = &BODY[inner..BODY.len() - 1];
        let bare = MeBody::parse(bare.as_bytes()).unwrap();
        assert_eq!(wrapped.me, bare.me);
        let me = wrapped.me;
        assert_eq!(me.user_email.as_deref(), Some("ada@example.com"));
        assert_eq!(ids(&me.organizations, |o| &o.id), ["10", "9"]);
        assert_eq!(ids(&me.projects, |p| &p.id), ["100", "20"]);
        assert_eq!(me.projects[1].organization_id.as_deref(), Some("9"));
        // The seed's truthiness: the string "false" is a demo; null is not integrated.
        assert!(me.projects[1].is_demo && !me.projects[1].has_integrated);
        assert!(!me.projects[0].is_demo && me.projects[0].has_integrated);
        assert_eq!(me.projects[0].region(), Some(Region::Us));
    }

    #[test]
    fn flags_follow_the_seed_exactly() {
        let body = br#"{"projects":{
            "1":{"is_demo":0,"has_integrated":1},
            "2":{"is_demo":[],"has_integrated":"true"},
            "3":{"is_demo":[0],"has_integrated":true},
            "4":{"is_demo":{},"has_integrated":false},
            "5":{"is_demo":0.5},
            "6":{"is_demo":null,"organization_id":"007"}}}"#;
        let me = MeBody::parse(body).unwrap().me;
        let flags: Vec<(bool, bool)> = me
            .projects
            .iter()
            .map(|p| (p.is_demo, p.has_integrated))
            .collect();
        assert_eq!(
            flags,
            [
                (false, false),
                (false, false),
                (true, true),
                (false, false),
                (true, false),
                (false, false)
            ]
        );
        assert_eq!(me.projects[5].organization_id.as_deref(), Some("7"));
    }

    #[test]
    fn a_repeated_key_keeps_its_place_and_takes_the_last_value() {
        let body = br#"{"organizations":{"2":{"name":"A"},"1":{"name":"B"},"2":{"name":"C"}}}"#;
        let me = MeBody::parse(body).unwrap().me;
        assert_eq!(ids(&me.organizations, |o| &o.id), ["2", "1"]);
        assert_eq!(me.organizations[0].name.as_deref(), Some("C"));
    }

    /// Reads `body` a byte at a time (every token split across reads) and writes me.json.
    fn stream_to_file(body: &[u8], path: &Path) -> std::result::Result<MeBody, String> {
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(self.0.len()).min(1);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut out = MeJson::create(path).unwrap();
        let body = MeBody::read(Trickle(body), Some(&mut out)).map_err(|e| e.to_string())?;
        out.commit().unwrap();
        Ok(body)
    }

    fn json_at(path: &Path) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn me_json_drops_member_lists_and_adds_cached_at() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("me.json");
        let whole = MeBody::parse(BODY.as_bytes()).unwrap();
        let streamed = stream_to_file(BODY.as_bytes(), &p).unwrap();
        assert_eq!(whole.me, streamed.me, "a byte at a time reads the same");
        let v = json_at(&p);
        assert!(v.get("status").is_none(), "the body is unwrapped");
        assert_eq!(v["workspaces"]["5"]["project_id"], 100);
        assert!(v["workspaces"]["5"].get("member_list").is_none());
        assert!(v["workspaces"]["5"].get("unified_member_list").is_none());
        assert_eq!(v["organizations"]["9"]["extra"], serde_json::json!([1, 2]));
        assert!(v["cached_at"].as_f64().unwrap() > 1_700_000_000.0);
        let names: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(
            names,
            [
                "user_email",
                "organizations",
                "projects",
                "workspaces",
                "cached_at"
            ]
        );
        // Read back, in the same order, with its cached_at; no temporary file is left.
        let again = read_file(&p).unwrap();
        assert_eq!(ids(&again.me.organizations, |o| &o.id), ["10", "9"]);
        assert_eq!(again.me, whole.me);
        assert!(again.cached_at().unwrap() > 1_700_000_000.0);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // The publish's rewrite: the same document, keys in the same order.
        rewrite(&p).unwrap();
        let (mut before, mut after) = (v, json_at(&p));
        for doc in [&mut before, &mut after] {
            doc.as_object_mut().unwrap().remove("cached_at");
        }
        assert_eq!(after, before);
        assert!(after
            .as_object()
            .unwrap()
            .keys()
            .eq(before.as_object().unwrap().keys()));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn me_json_is_the_level_that_is_the_body() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("me.json");
        let cases: [(&str, serde_json::Value); 4] = [
            // Bare: the top level, member lists dropped, cached_at replaced.
            (
                r#"{"a":1,"cached_at":5,"workspaces":{"1":{"member_list":[],"x":true}},"projects":{}}"#,
                serde_json::json!({"a":1,"workspaces":{"1":{"x":true}},"projects":{}}),
            ),
            // A later `results` replaces an earlier one; fields around it are not the body.
            (
                r#"{"status":"ok","results":{"a":1},"b":2,"results":{"c":[3],"results":{}}}"#,
                serde_json::json!({"c":[3]}),
            ),
            // A `results` that is not an object is no wrapper; null workspaces are left out.
            (
                r#"{"results":[1,{"a":2}],"workspaces":null,"projects":{"7":{}}}"#,
                serde_json::json!({"projects":{"7":{}}}),
            ),
            (r#" { } "#, serde_json::json!({})),
        ];
        for (body, want) in cases {
            stream_to_file(body.as_bytes(), &p).unwrap();
            let mut got = json_at(&p);
            assert!(got["cached_at"].as_f64().is_some(), "{body}");
            got.as_object_mut().unwrap().remove("cached_at");
            assert_eq!(got, want, "{body}");
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "{body}");
        }
        // A body that is refused leaves the earlier me.json and no temporary file.
        let before = std::fs::read(&p).unwrap();
        let mut out = MeJson::create(&p).unwrap();
        assert!(
            MeBody::read(&br#"{"a":1,"results":{"b":2},"c":tru}"#[..], Some(&mut out)).is_err()
        );
        drop(out);
        assert_eq!(std::fs::read(&p).unwrap(), before);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn rejects_what_is_not_a_me_body() {
        assert!(MeBody::parse(b"[]").is_err());
        assert!(MeBody::parse(b"not json").is_err());
        assert!(MeBody::parse(br#"{"projects":[1]}"#).is_err());
        assert_eq!(MeBody::parse(b"{}").unwrap().me, Me::default());
        for bad in [
            &br#"{"status":"error","results":{"projects":{}}}"#[..],
            br#"{"user_email":"a@b"}"#,
            b"{}",
        ] {
            let e = check_fetched(MeBody::parse(bad).unwrap()).expect_err("refused");
            assert_eq!(e.code(), "ME_INVALID");
        }
        for good in [
            &br#"{"status":"ok","results":{}}"#[..],
            br#"{"projects":{}}"#,
        ] {
            assert!(check_fetched(MeBody::parse(good).unwrap()).is_ok());
        }
    }

    #[test]
    fn odd_but_valid_shapes() {
        // A `results` that is not an object is not a wrapper.
        let b = MeBody::parse(br#"{"results":[1,{"a":2}],"workspaces":null,"projects":{"7":{}}}"#)
            .unwrap();
        assert_eq!(b.me.projects.len(), 1);
        assert!(MeBody::parse(br#"{"workspaces":{"1":[]}}"#).is_err());
    }
}
