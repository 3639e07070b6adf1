//! A streaming JSON reader for `/me` (issue 11): the body passes through a 64 KiB window, so
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
    tee_from: Option<usize>,
    out: Option<W>,
    out_error: Option<io::Error>,
    stack: Vec<u8>,
}

impl<R: Read, W: Write> Reader<R, W> {
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

    /// The output, to switch where it writes.
    pub(crate) fn out_mut(&mut self) -> Option<&mut W> {
        self.out.as_mut()
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
        self.enter()
    }

    /// The next key of an object, decoded into `key`; `false` at its `}` (consumed). `first` is
    /// true right after `{`.
    pub(crate) fn next_key(&mut self, first: &mut bool, key: &mut Vec<u8>) -> Result<bool> {
        let b = self.peek()?;
        if *first {
            *first = false;
            if b == Some(b'}') {
                self.pos += 1;
                self.depth -= 1;
                return Ok(false);
            }
        } else {
            match b {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    self.depth -= 1;
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

    /// The next byte of a token, consumed; `None` at the end of the input.
    #[inline]
    fn byte(&mut self) -> Result<Option<u8>> {
        if self.pos == self.end && !self.fill(self.end)? {
            return Ok(None);
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(Some(b))
    }

    /// The next byte, not consumed (whitespace included).
    #[inline]
    fn peek_raw(&mut self) -> Result<Option<u8>> {
        if self.pos == self.end && !self.fill(self.end)? {
            return Ok(None);
        }
        Ok(Some(self.buf[self.pos]))
    }

    #[inline]
    fn byte_if(&mut self, pred: impl Fn(u8) -> bool) -> Result<Option<u8>> {
        match self.peek_raw()? {
            Some(b) if pred(b) => {
                self.pos += 1;
                Ok(Some(b))
            }
            _ => Ok(None),
        }
    }

    /// A number by JSON's grammar; its text goes to `out` when given.
    fn number(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<()> {
        let mut push = |b: u8| {
            if let Some(o) = out.as_deref_mut() {
                o.push(b);
            }
        };
        let digit = |b: u8| b.is_ascii_digit();
        let minus = self.byte_if(|b| b == b'-')?.is_some();
        if minus {
            push(b'-');
        }
        match self.peek_raw()? {
            Some(b'I') => return self.word(b"Infinity", &mut push),
            Some(b'N') if !minus => return self.word(b"NaN", &mut push),
            _ => {}
        }
        match self.byte_if(digit)? {
            Some(b'0') => {
                push(b'0');
                if self.peek_raw()?.is_some_and(digit) {
                    return Err(self.syntax("invalid number"));
                }
            }
            Some(b) => {
                push(b);
                self.digits(&mut push, false)?;
            }
            None => return Err(self.invalid_number()),
        }
        if let Some(b) = self.byte_if(|b| b == b'.')? {
            push(b);
            self.digits(&mut push, true)?;
        }
        if let Some(b) = self.byte_if(|b| b == b'e' || b == b'E')? {
            push(b);
            if let Some(b) = self.byte_if(|b| b == b'+' || b == b'-')? {
                push(b);
            }
            self.digits(&mut push, true)?;
        }
        Ok(())
    }

    /// One of Python's non-finite number words, whole.
    fn word(&mut self, word: &[u8], push: &mut impl FnMut(u8)) -> Result<()> {
        for &want in word {
            match self.byte()? {
                Some(b) if b == want => push(b),
                Some(_) => return Err(self.syntax("expected value")),
                None => return Err(self.eof("a value")),
            }
        }
        Ok(())
    }

    /// A run of digits, each to `push`; `required`: at least one.
    fn digits(&mut self, push: &mut impl FnMut(u8), required: bool) -> Result<()> {
        let mut any = false;
        while let Some(b) = self.byte_if(|b| b.is_ascii_digit())? {
            push(b);
            any = true;
        }
        if required && !any {
            return Err(self.invalid_number());
        }
        Ok(())
    }

    fn invalid_number(&self) -> JsonError {
        if self.pos == self.end {
            self.syntax_back("invalid number")
        } else {
            self.syntax("invalid number")
        }
    }

    /// The rest of a string after its opening quote; decoded into `out` when given. Runs of
    /// plain ASCII are found a word at a time; a multi-byte character is checked as UTF-8.
    fn string(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<()> {
        loop {
            let start = self.pos;
            let run = plain_ascii(&self.buf[start..self.end]);
            if let Some(o) = out.as_deref_mut() {
                o.extend_from_slice(&self.buf[start..start + run]);
            }
            self.pos = start + run;
            if self.pos == self.end {
                if !self.fill(self.end)? {
                    return Err(self.eof("a string"));
                }
                continue;
            }
            let b = self.buf[self.pos];
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(());
                }
                b'\\' => {
                    self.pos += 1;
                    self.escape(out.as_deref_mut())?;
                }
                0..=0x1f => {
                    return Err(self.syntax_back(
                        "control character (\\u0000-\\u001F) found while parsing a string",
                    ));
                }
                _ => {
                    let width = match b {
                        0xc2..=0xdf => 2,
                        0xe0..=0xef => 3,
                        0xf0..=0xf4 => 4,
                        _ => 0,
                    };
                    if width > 0 && self.end - self.pos < width {
                        // The character goes on past the window: keep its first bytes.
                        if !self.fill(self.pos)? {
                            return Err(self.eof("a string"));
                        }
                        if self.end - self.pos < width {
                            continue;
                        }
                    }
                    let char = &self.buf[self.pos..self.pos + width.min(self.end - self.pos)];
                    if width == 0 || std::str::from_utf8(char).is_err() {
                        self.pos += 1;
                        return Err(self.syntax("invalid unicode code point"));
                    }
                    if let Some(o) = out.as_deref_mut() {
                        o.extend_from_slice(char);
                    }
                    self.pos += width;
                }
            }
        }
    }

    /// An escape after its backslash.
    fn escape(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<()> {
        let Some(b) = self.byte()? else {
            return Err(self.eof("a string"));
        };
        let plain = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let unit = self.hex4()?;
                let Some(o) = out.as_deref_mut() else {
                    return Ok(());
                };
                // A lone surrogate (a name cut inside an emoji) is what Python's `json` keeps
                // as it is; a Rust string cannot hold one, so it reads as U+FFFD.
                let c = match unit {
                    0xD800..=0xDBFF => match self.low_surrogate()? {
                        Some(low) => {
                            0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00)
                        }
                        None => 0xFFFD,
                    },
                    0xDC00..=0xDFFF => 0xFFFD,
                    n => u32::from(n),
                };
                let c = char::from_u32(c).expect("a scalar value");
                o.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                return Ok(());
            }
            _ => {
                self.pos -= 1;
                return Err(self.syntax("invalid escape"));
            }
        };
        if let Some(o) = out {
            o.push(plain);
        }
        Ok(())
    }

    /// After a leading surrogate: the trailing one when `\uDC00`–`\uDFFF` follows (then
    /// consumed); otherwise nothing is consumed.
    fn low_surrogate(&mut self) -> Result<Option<u16>> {
        while self.end - self.pos < 6 {
            if !self.fill(self.pos)? {
                break;
            }
        }
        let ahead = &self.buf[self.pos..self.end];
        if ahead.len() < 6
            || &ahead[..2] != b"\\u"
            || !ahead[2..6].iter().all(u8::is_ascii_hexdigit)
        {
            return Ok(None);
        }
        let hex = std::str::from_utf8(&ahead[2..6]).expect("hex digits are ASCII");
        match u16::from_str_radix(hex, 16) {
            Ok(low @ 0xDC00..=0xDFFF) => {
                self.pos += 6;
                Ok(Some(low))
            }
            _ => Ok(None),
        }
    }

    fn hex4(&mut self) -> Result<u16> {
        let mut n = 0u16;
        for _ in 0..4 {
            let Some(b) = self.byte()? else {
                return Err(self.eof("a string"));
            };
            let d = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => return Err(self.syntax("invalid escape")),
            };
            n = n * 16 + u16::from(d);
        }
        Ok(n)
    }
}

/// How many bytes at the start of `bytes` are printable ASCII other than `"` and `\\`: eight
/// at a time, with the classic "has a zero byte / a byte less than n" word tricks (their lowest
/// flag is always exact, so the first special byte is found).
#[inline]
fn plain_ascii(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGH;
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let special = (w.wrapping_sub(ONES * 0x20) & !w & HIGH)
            | zero(w ^ (ONES * u64::from(b'"')))
            | zero(w ^ (ONES * u64::from(b'\\')))
            | (w & HIGH);
        if special != 0 {
            return i + (special.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + bytes[i..]
        .iter()
        .position(|&b| !(0x20..0x80).contains(&b) || b == b'"' || b == b'\\')
        .unwrap_or(bytes.len() - i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::de::IgnoredAny;

    /// Hands out at most `n` bytes per read, so every token meets the window's edge somewhere.
    struct Chunks<'a>(&'a [u8], usize);

    impl Read for Chunks<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(self.1);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn skip_all(bytes: &[u8], chunk: usize) -> std::result::Result<(), String> {
        let mut r: Reader<_, io::Sink> = Reader::new(Chunks(bytes, chunk), None);
        r.skip_value()
            .and_then(|()| r.finish())
            .map_err(|e| format!("{e:?}"))
    }

    /// What `serde_json` accepts when it skips a value, plus UTF-8 (which the kit checks in
    /// every string, as Python's decoder does).
    fn serde_accepts(bytes: &[u8]) -> bool {
        serde_json::from_slice::<IgnoredAny>(bytes).is_ok() && std::str::from_utf8(bytes).is_ok()
    }

    const PIECES: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b"\"k\"",
        b"\"",
        b"\\",
        b"\\u00e9",
        b"\\uZZ",
        b"\\n",
        b"1",
        b"-",
        b"0",
        b".",
        b"e",
        b"E+",
        b"true",
        b"tru",
        b"null",
        b"false",
        b" ",
        b"\n",
        "\u{e9}".as_bytes(),
        "\u{1F600}".as_bytes(),
        b"\xff",
        b"\xe2\x82",
        b"\x01",
        b"a",
    ];

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            (-1e9f64..1e9).prop_map(serde_json::Value::from),
            "[ -~é😀\\\\\"\n\t]{0,12}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(5, 40, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                prop::collection::vec(("[a-z\"é]{0,4}", inner), 0..6)
                    .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Random fragments: the reader accepts exactly what serde_json accepts, whatever the
        /// reads' sizes.
        #[test]
        fn accepts_what_serde_json_accepts(
            parts in prop::collection::vec(prop::sample::select(PIECES), 1..14),
            chunk in 1usize..6,
        ) {
            let bytes = parts.concat();
            let ours = skip_all(&bytes, chunk);
            prop_assert_eq!(ours.is_ok(), serde_accepts(&bytes), "{:?}: {:?}", String::from_utf8_lossy(&bytes), ours);
            prop_assert_eq!(ours, skip_all(&bytes, usize::MAX));
        }

        /// Valid documents, then one byte changed, dropped or added.
        #[test]
        fn a_valid_document_and_its_mutants(
            value in json_value(),
            pretty in any::<bool>(),
            at in any::<prop::sample::Index>(),
            edit in 0u8..4,
            byte in prop::sample::select(b"{}[],:\"\\0-.e \x01\xc3tfn".to_vec()),
            chunk in 1usize..6,
        ) {
            let mut bytes = if pretty {
                serde_json::to_vec_pretty(&value).unwrap()
            } else {
                serde_json::to_vec(&value).unwrap()
            };
            prop_assert!(skip_all(&bytes, chunk).is_ok());
            let i = at.index(bytes.len());
            match edit {
                0 => bytes[i] = byte,
                1 => { bytes.remove(i); }
                2 => bytes.insert(i, byte),
                _ => bytes.truncate(i),
            }
            let ours = skip_all(&bytes, chunk);
            prop_assert_eq!(ours.is_ok(), serde_accepts(&bytes), "{:?}: {:?}", String::from_utf8_lossy(&bytes), ours);
        }

        /// Teeing a value copies exactly its bytes; decoded keys and strings are serde_json's.
        #[test]
        fn tee_copies_and_strings_decode(
            entries in prop::collection::vec(("[ -~é😀\\\\\"\n]{0,10}", json_value()), 1..5),
            chunk in 1usize..6,
        ) {
            let object = serde_json::Value::Object(entries.into_iter().collect());
            let bytes = serde_json::to_vec(&object).unwrap();
            let mut teed = Vec::new();
            let mut r = Reader::new(Chunks(&bytes, chunk), Some(&mut teed));
            prop_assert_eq!(r.kind().unwrap(), Kind::Object);
            r.begin_object().unwrap();
            let (mut first, mut key) = (true, Vec::new());
            let mut keys = Vec::new();
            let mut values = Vec::new();
            while r.next_key(&mut first, &mut key).unwrap() {
                keys.push(String::from_utf8(key.clone()).unwrap());
                r.peek().unwrap();
                r.tee_begin();
                r.skip_value().unwrap();
                r.tee_end();
                values.push(std::mem::take(*r.out_mut().unwrap()));
            }
            r.finish().unwrap();
            let (want_keys, want_values): (Vec<_>, Vec<_>) = object
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::to_vec(v).unwrap()))
                .unzip();
            prop_assert_eq!(keys, want_keys);
            prop_assert_eq!(values, want_values);
        }
    }

    /// Python's `json` (the seed's reader) takes `NaN`, `Infinity` and `-Infinity` as numbers,
    /// and nothing else of their kind.
    #[test]
    fn non_finite_numbers_as_python_reads_them() {
        for ok in [
            "NaN",
            "Infinity",
            "-Infinity",
            "[NaN,-Infinity]",
            "{\"a\":Infinity}",
        ] {
            for chunk in [1, 2, 100] {
                assert!(
                    skip_all(ok.as_bytes(), chunk).is_ok(),
                    "{ok} in chunks of {chunk}"
                );
            }
        }
        for bad in [
            "-NaN",
            "nan",
            "Inf",
            "Infinityx",
            "- Infinity",
            "+Infinity",
            "NaN1",
            "infinity",
        ] {
            assert!(skip_all(bad.as_bytes(), 100).is_err(), "{bad}");
        }
        let mut r: Reader<_, io::Sink> = Reader::new(Chunks(b"-Infinity", 1), None);
        let mut text = Vec::new();
        assert_eq!(r.kind().unwrap(), Kind::Number);
        r.read_number(&mut text).unwrap();
        assert_eq!(text, b"-Infinity");
    }

    #[test]
    fn errors_say_where_in_serde_json_words() {
        let err = |text: &str| match skip_all(text.as_bytes(), 3) {
            Err(e) => e,
            Ok(()) => panic!("{text} accepted"),
        };
        // serde_json's own messages for the same texts.
        for (text, want) in [
            ("this is not json", "expected ident at line 1 column 2"),
            ("{\"a\":1,}", "key must be a string at line 1 column 8"),
            ("[1,\n 2 x", "expected `,` or `]` at line 2 column 4"),
            ("{\"a\" 1}", "expected `:` at line 1 column 6"),
            ("[1] 2", "trailing characters at line 1 column 5"),
            ("\"a\u{1}\"", "control character (\\u0000-\\u001F) found while parsing a string at line 1 column 2"),
            ("[01]", "invalid number at line 1 column 3"),
            ("{\"a\":[", "EOF while parsing a list at line 1 column 6"),
            ("[1.]", "invalid number at line 1 column 4"),
            ("\"\\x\"", "invalid escape at line 1 column 3"),
            ("{1:2}", "key must be a string at line 1 column 2"),
            ("[tx]", "expected ident at line 1 column 3"),
            ("\"ab", "EOF while parsing a string at line 1 column 3"),
            ("[1,2", "EOF while parsing a list at line 1 column 4"),
            ("{\"a\":1", "EOF while parsing an object at line 1 column 6"),
            ("-", "invalid number at line 1 column 1"),
            ("[-]", "invalid number at line 1 column 3"),
            ("", "EOF while parsing a value at line 1 column 0"),
            ("  ", "EOF while parsing a value at line 1 column 2"),
        ] {
            assert_eq!(err(text), format!("Syntax({want:?})"), "{text:?}");
        }
        let deep = "[".repeat(2000);
        assert_eq!(
            err(&deep),
            "Syntax(\"recursion limit exceeded at line 1 column 1002\")"
        );
        for depth in [999, 1000] {
            let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            assert!(skip_all(nested.as_bytes(), 7).is_ok(), "{depth}");
        }
    }
}
