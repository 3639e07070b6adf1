//! A streaming JSON reader for `/me`: the body passes through a 64 KiB window, so
//! memory does not grow with it. It validates what it skips as strictly as `serde_json` does
//! (grammar, control characters, escapes, UTF-8, nesting depth) and words its errors the same
//! way, with a line and column.
//!
//! Parts of the input can be *teed*: copied byte for byte to an output while they are read,
//! which is how `me.json` is written as the body goes by.

use std::io::{self, Read, Write};

/// Nesting deeper than this is refused, near where Python's `json` (the seed's parser) stops at
/// its recursion limit; `serde_json` skips a value to any depth. The skipping stack costs a byte
/// a level, so the limit keeps memory flat.
const MAX_DEPTH: usize = 1000;
const WINDOW: usize = 64 * 1024;

/// Why a read stopped.
#[derive(Debug)]
pub(crate) enum JsonError {
    /// The input could not be read.
    Io(io::Error),
    /// Not JSON: the sentence names the place, never the text.
    Syntax(String),
    /// JSON, but not of the shape asked for.
    Shape(String),
}

pub(crate) type Result<T> = std::result::Result<T, JsonError>;

/// What a value starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Object,
    Array,
    String,
    Number,
    Bool,
    Null,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Object => "map",
            Kind::Array => "sequence",
            Kind::String => "string",
            Kind::Number => "number",
            Kind::Bool => "boolean",
            Kind::Null => "null",
        }
    }
}

fn closing(kind: Kind) -> u8 {
    if kind == Kind::Object {
        b'}'
    } else {
        b']'
    }
}

/// The reader. `W` receives the teed bytes.
pub(crate) struct Reader<R, W> {
    src: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Bytes dropped from the front of `buf` so far.
    base: u64,
    /// Newlines in the dropped bytes, and the offset just after the last of them.
    line: u64,
    line_start: u64,
    depth: usize,
    /// For each object opened by [`Reader::begin_object`], whether its first key is still to
    /// come: the reader, not its caller, knows where a `,` is due.
    objects: Vec<bool>,
    tee_from: Option<usize>,
    out: Option<W>,
    out_error: Option<io::Error>,
    stack: Vec<u8>,
}

/// Where a teeing reader writes: the bytes, and the marks its walker sets between values (where
/// a part of the output begins), never while a value is being copied.
pub(crate) trait Tee: Write {
    type Mark;
    fn mark(&mut self, mark: Self::Mark);
}

/// A reader that copies nothing.
impl Tee for io::Sink {
    type Mark = std::convert::Infallible;
    fn mark(&mut self, mark: Self::Mark) {
        match mark {}
    }
}

impl<R: Read, W: Tee> Reader<R, W> {
    pub(crate) fn new(src: R, out: Option<W>) -> Self {
        Reader {
            src,
            buf: vec![0; WINDOW].into_boxed_slice(),
            pos: 0,
            end: 0,
            base: 0,
            line: 0,
            line_start: 0,
            depth: 0,
            objects: Vec::new(),
            tee_from: None,
            out,
            out_error: None,
            stack: Vec::new(),
        }
    }

    /// The output and the first error writing to it, if any.
    pub(crate) fn into_out(self) -> (Option<W>, Option<io::Error>) {
        (self.out, self.out_error)
    }

    /// Writes `bytes` to the output (not while teeing).
    pub(crate) fn emit(&mut self, bytes: &[u8]) {
        debug_assert!(self.tee_from.is_none());
        if let (Some(out), None) = (self.out.as_mut(), &self.out_error) {
            if let Err(e) = out.write_all(bytes) {
                self.out_error = Some(e);
            }
        }
    }

    /// Sets `mark` in the output, between values (see [`Tee`]).
    pub(crate) fn mark(&mut self, mark: W::Mark) {
        debug_assert!(self.tee_from.is_none(), "no mark while a value is copied");
        if let Some(out) = self.out.as_mut() {
            out.mark(mark);
        }
    }

    pub(crate) fn has_out(&self) -> bool {
        self.out.is_some()
    }

    /// Starts copying what is read next to the output.
    pub(crate) fn tee_begin(&mut self) {
        if self.out.is_some() {
            self.tee_from = Some(self.pos);
        }
    }

    /// Stops copying; everything since [`Self::tee_begin`] is in the output.
    pub(crate) fn tee_end(&mut self) {
        if let Some(from) = self.tee_from.take() {
            self.emit_range(from, self.pos);
        }
    }

    fn emit_range(&mut self, from: usize, to: usize) {
        if from < to {
            if let (Some(out), None) = (self.out.as_mut(), &self.out_error) {
                if let Err(e) = out.write_all(&self.buf[from..to]) {
                    self.out_error = Some(e);
                }
            }
        }
    }

    /// Drops `buf[..keep]` (teeing what of it is teed) and reads more after `buf[keep..end]`.
    /// `false` at the end of the input.
    #[cold]
    fn fill(&mut self, keep: usize) -> Result<bool> {
        if let Some(from) = self.tee_from {
            self.emit_range(from, keep);
            self.tee_from = Some(from.saturating_sub(keep));
        }
        let dropped = &self.buf[..keep];
        if let Some(last) = memchr::memrchr(b'\n', dropped) {
            self.line += memchr::memchr_iter(b'\n', dropped).count() as u64;
            self.line_start = self.base + last as u64 + 1;
        }
        self.buf.copy_within(keep..self.end, 0);
        self.base += keep as u64;
        self.end -= keep;
        self.pos -= keep;
        loop {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(JsonError::Io(e)),
            }
        }
    }

    /// `serde_json`'s wording: `what at line L column C`, C being the 1-based column of the
    /// byte about to be read.
    pub(crate) fn at(&self, what: &str) -> String {
        self.at_back(what, 0)
    }

    /// The same, `back` bytes to the left (serde_json's column for errors at the end of the
    /// input and for control characters).
    fn at_back(&self, what: &str, back: u64) -> String {
        let here = &self.buf[..self.pos.min(self.end)];
        let (line, start) = match memchr::memrchr(b'\n', here) {
            Some(last) => (
                self.line + memchr::memchr_iter(b'\n', here).count() as u64,
                self.base + last as u64 + 1,
            ),
            None => (self.line, self.line_start),
        };
        let column = (self.base + self.pos as u64 + 1 - start).saturating_sub(back);
        format!("{what} at line {} column {column}", line + 1)
    }

    pub(crate) fn syntax(&self, what: &str) -> JsonError {
        JsonError::Syntax(self.at(what))
    }

    /// At the end of the input, or at the byte before `pos`.
    fn syntax_back(&self, what: &str) -> JsonError {
        JsonError::Syntax(self.at_back(what, 1))
    }

    fn eof(&mut self, what: &str) -> JsonError {
        self.pos = self.end;
        self.syntax_back(&format!("EOF while parsing {what}"))
    }

    /// The next byte that is not whitespace, not consumed; `None` at the end.
    #[inline]
    pub(crate) fn peek(&mut self) -> Result<Option<u8>> {
        loop {
            while self.pos < self.end {
                let b = self.buf[self.pos];
                if !matches!(b, b' ' | b'\n' | b'\t' | b'\r') {
                    return Ok(Some(b));
                }
                self.pos += 1;
            }
            if !self.fill(self.end)? {
                return Ok(None);
            }
        }
    }

    /// The kind of the next value (not consumed).
    pub(crate) fn kind(&mut self) -> Result<Kind> {
        match self.peek()? {
            Some(b'{') => Ok(Kind::Object),
            Some(b'[') => Ok(Kind::Array),
            Some(b'"') => Ok(Kind::String),
            // `NaN`, `Infinity` and `-Infinity` too: Python's `json`, which the seed reads /me
            // with, accepts them.
            Some(b'-' | b'0'..=b'9' | b'N' | b'I') => Ok(Kind::Number),
            Some(b't' | b'f') => Ok(Kind::Bool),
            Some(b'n') => Ok(Kind::Null),
            Some(_) => Err(self.syntax("expected value")),
            None => Err(self.eof("a value")),
        }
    }

    /// Checks there is nothing but whitespace left.
    pub(crate) fn finish(&mut self) -> Result<()> {
        match self.peek()? {
            None => Ok(()),
            Some(_) => Err(self.syntax("trailing characters")),
        }
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.syntax("recursion limit exceeded"));
        }
        Ok(())
    }

    /// Consumes the `{` of an object [`Self::kind`] found.
    pub(crate) fn begin_object(&mut self) -> Result<()> {
        self.pos += 1;
        self.enter()?;
        self.objects.push(true);
        Ok(())
    }

    /// The next key of the object [`Reader::begin_object`] opened last, decoded into `key`;
    /// `false` at its `}` (consumed).
    pub(crate) fn next_key(&mut self, key: &mut Vec<u8>) -> Result<bool> {
        let b = self.peek()?;
        let first = self
            .objects
            .last_mut()
            .expect("next_key after begin_object");
        if std::mem::replace(first, false) {
            if b == Some(b'}') {
                self.pos += 1;
                self.depth -= 1;
                self.objects.pop();
                return Ok(false);
            }
        } else {
            match b {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    self.depth -= 1;
                    self.objects.pop();
                    return Ok(false);
                }
                Some(_) => return Err(self.syntax("expected `,` or `}`")),
                None => return Err(self.eof("an object")),
            }
        }
        match self.peek()? {
            Some(b'"') => self.pos += 1,
            Some(_) => return Err(self.syntax("key must be a string")),
            None => return Err(self.eof("an object")),
        }
        key.clear();
        self.string(Some(key))?;
        match self.peek()? {
            Some(b':') => {
                self.pos += 1;
                Ok(true)
            }
            Some(_) => Err(self.syntax("expected `:`")),
            None => Err(self.eof("an object")),
        }
    }

    /// Reads a string value into `out` (decoded); the caller saw [`Kind::String`].
    pub(crate) fn read_string(&mut self, out: &mut Vec<u8>) -> Result<()> {
        self.pos += 1;
        out.clear();
        self.string(Some(out))
    }

    /// Reads a number's text into `out`; the caller saw [`Kind::Number`].
    pub(crate) fn read_number(&mut self, out: &mut Vec<u8>) -> Result<()> {
        out.clear();
        self.number(Some(out))
    }

    /// Whether the next array or object (of `kind`) has no elements. Its opening byte is
    /// consumed, and when empty its closing one; otherwise [`Self::skip_rest`] skips the rest.
    pub(crate) fn open_is_empty(&mut self, kind: Kind) -> Result<bool> {
        self.pos += 1;
        self.enter()?;
        if self.peek()? == Some(closing(kind)) {
            self.pos += 1;
            self.depth -= 1;
            return Ok(true);
        }
        Ok(false)
    }

    /// Skips the rest of the non-empty container of `kind` [`Self::open_is_empty`] opened.
    pub(crate) fn skip_rest(&mut self, kind: Kind) -> Result<()> {
        self.skip_in(Some(closing(kind)))
    }

    /// Skips one whole value, validating it.
    pub(crate) fn skip_value(&mut self) -> Result<()> {
        self.skip_in(None)
    }

    /// The skipping machine: a value, or with `open` the rest of a container just opened, and
    /// everything nested in it. Iterative: depth costs no stack.
    fn skip_in(&mut self, open: Option<u8>) -> Result<()> {
        let mut stack = std::mem::take(&mut self.stack);
        stack.clear();
        stack.extend(open);
        let result = self.skip_machine(&mut stack);
        self.stack = stack;
        result
    }

    fn skip_machine(&mut self, stack: &mut Vec<u8>) -> Result<()> {
        let mut just_opened = !stack.is_empty();
        let mut value_due = stack.is_empty();
        loop {
            if just_opened {
                just_opened = false;
                let close = *stack.last().expect("a container is open");
                match self.peek()? {
                    Some(b) if b == close => {
                        self.pos += 1;
                        stack.pop();
                        self.depth -= 1;
                    }
                    Some(_) => {
                        if close == b'}' {
                            self.object_key()?;
                        }
                        value_due = true;
                    }
                    None => return Err(self.eof_in(close)),
                }
            }
            if value_due {
                value_due = false;
                if self.value_start(stack)? {
                    just_opened = true;
                    continue;
                }
            }
            // After a value: a separator or the container's end.
            let Some(&close) = stack.last() else {
                return Ok(());
            };
            match self.peek()? {
                Some(b',') => {
                    self.pos += 1;
                    if close == b'}' {
                        self.object_key()?;
                    }
                    value_due = true;
                }
                Some(b) if b == close => {
                    self.pos += 1;
                    stack.pop();
                    self.depth -= 1;
                }
                Some(_) if close == b'}' => return Err(self.syntax("expected `,` or `}`")),
                Some(_) => return Err(self.syntax("expected `,` or `]`")),
                None => return Err(self.eof_in(close)),
            }
        }
    }

    fn eof_in(&mut self, close: u8) -> JsonError {
        self.eof(if close == b'}' { "an object" } else { "a list" })
    }

    /// `"key":` inside an object being skipped.
    fn object_key(&mut self) -> Result<()> {
        match self.peek()? {
            Some(b'"') => self.pos += 1,
            Some(_) => return Err(self.syntax("key must be a string")),
            None => return Err(self.eof("an object")),
        }
        self.string(None)?;
        match self.peek()? {
            Some(b':') => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(self.syntax("expected `:`")),
            None => Err(self.eof("an object")),
        }
    }

    /// Reads a scalar whole, or opens a container (pushed on `stack`): `true` when it opened one.
    fn value_start(&mut self, stack: &mut Vec<u8>) -> Result<bool> {
        match self.kind()? {
            Kind::Object | Kind::Array => {
                let close = if self.buf[self.pos] == b'{' {
                    b'}'
                } else {
                    b']'
                };
                self.pos += 1;
                self.enter()?;
                stack.push(close);
                Ok(true)
            }
            Kind::String => {
                self.pos += 1;
                self.string(None).map(|()| false)
            }
            Kind::Number => self.number(None).map(|()| false),
            Kind::Bool | Kind::Null => self.literal().map(|()| false),
        }
    }

    /// `true`, `false` or `null`.
    fn literal(&mut self) -> Result<()> {
        let rest: &[u8] = match self.buf[self.pos] {
            b't' => b"rue",
            b'f' => b"alse",
            _ => b"ull",
        };
        self.pos += 1;
        for &want in rest {
            if self.pos == self.end && !self.fill(self.end)? {
                return Err(self.eof("a value"));
            }
            if self.buf[self.pos] != want {
                return Err(self.syntax("expected ident"));
            }
            self.pos += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
mod tokens;
