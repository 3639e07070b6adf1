//! The walk over a `/me` body: what the pick needs into [`Me`], member lists validated and
//! skipped, and the rest copied to `me.json` when asked.

use super::*;
use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use super::me_json::Mark;
use crate::clock;
use crate::json::{JsonError, Kind, Reader};

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

/// Reads `input` into a [`MeBody`], copying it to `out` when given (a write failure is kept in
/// `out`, for [`MeJson::commit`] to report).
pub(super) fn walk(
    input: impl Read,
    out: Option<&mut MeJson>,
    reading: Reading,
) -> std::result::Result<MeBody, JsonError> {
    let mut walk = Walk {
        r: Reader::new(crate::encoding::Utf8Input::new(input), out),
        key: Vec::new(),
        text: Vec::new(),
        shared: HashMap::new(),
        reading,
    };
    let result = walk.body();
    let (out, write_error) = walk.r.into_out();
    if let (Some(out), Some(e)) = (out, write_error) {
        out.failed.get_or_insert(e);
    }
    result
}

/// How a flag of a project is read: the seed reads `is_demo` by Python truthiness (false, null,
/// 0, "", [] and {} are false) and `has_integrated` as `is True` (only the literal `true`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Truth {
    Python,
    LiteralTrue,
}

struct Walk<'o, 'i, R> {
    r: Reader<R, &'o mut MeJson<'i>>,
    key: Vec<u8>,
    text: Vec<u8>,
    /// Organization ids and domains, shared between projects.
    shared: HashMap<Box<str>, Arc<str>>,
    /// Whether `organizations` and `projects` are read into the view, or only copied.
    reading: Reading,
}

const MEMBER_LISTS: [&[u8]; 2] = [b"member_list", b"unified_member_list"];

/// Where the expected-shape errors of a part of the body point.
#[derive(Clone, Copy)]
enum Within {
    Body,
    Field(&'static str),
}

impl<R: Read> Walk<'_, '_, R> {
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

    fn require(&mut self, want: Kind, within: Within, expected: &str) -> crate::json::Result<()> {
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
        self.require(Kind::Object, Within::Body, "a JSON object")?;
        self.r.begin_object()?;
        self.r.emit(b"{");
        let (mut top, mut top_written) = (Level::default(), false);
        let mut results: Option<(Level, bool)> = None;
        let mut has_results = false;
        while self.r.next_key(&mut self.key)? {
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
            self.r.mark(Mark::RestartResults);
            self.r.emit(b"{");
            let (mut level, mut written) = (Level::default(), false);
            while self.r.next_key(&mut self.key)? {
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
        let now = clock::unix_now_f64();
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
        self.r.mark(Mark::Switch(part));
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
            b"organizations" if self.reading == Reading::View => {
                self.organizations().map(|o| level.organizations = o)
            }
            b"projects" if self.reading == Reading::View => {
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
        self.require(Kind::Object, within, expected)?;
        self.r.begin_object()?;
        let mut out = Vec::new();
        while self.r.next_key(&mut self.key)? {
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
        self.require(Kind::Object, within, expected)?;
        self.r.begin_object()?;
        while self.r.next_key(&mut self.key)? {
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
                b"is_demo" => w.truth(Truth::Python).map(|t| p.is_demo = t),
                b"has_integrated" => w.truth(Truth::LiteralTrue).map(|t| p.has_integrated = t),
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

    /// Whether a value is true by `rule` (see [`Truth`]).
    fn truth(&mut self, rule: Truth) -> crate::json::Result<bool> {
        let strict = rule == Truth::LiteralTrue;
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
        self.require(Kind::Object, Within::Body, "a map of workspaces")?;
        self.r.begin_object()?;
        self.r.emit(b"{");
        let mut written = false;
        while self.r.next_key(&mut self.key)? {
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
