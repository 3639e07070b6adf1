//! The tokens: bytes of the window, numbers (with Python's `NaN` and `Infinity`), strings
//! (UTF-8 checked, escapes decoded), and the word-at-a-time scan of plain ASCII.

use std::io::Read;

use super::{JsonError, Reader, Result, Tee};

impl<R: Read, W: Tee> Reader<R, W> {
    /// The next byte of a token, consumed; `None` at the end of the input.
    #[inline]
    pub(super) fn byte(&mut self) -> Result<Option<u8>> {
        if self.pos == self.end && !self.fill(self.end)? {
            return Ok(None);
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(Some(b))
    }

    /// The next byte, not consumed (whitespace included).
    #[inline]
    pub(super) fn peek_raw(&mut self) -> Result<Option<u8>> {
        if self.pos == self.end && !self.fill(self.end)? {
            return Ok(None);
        }
        Ok(Some(self.buf[self.pos]))
    }

    #[inline]
    pub(super) fn byte_if(&mut self, pred: impl Fn(u8) -> bool) -> Result<Option<u8>> {
        match self.peek_raw()? {
            Some(b) if pred(b) => {
                self.pos += 1;
                Ok(Some(b))
            }
            _ => Ok(None),
        }
    }

    /// A number by JSON's grammar; its text goes to `out` when given.
    pub(super) fn number(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<()> {
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
    pub(super) fn word(&mut self, word: &[u8], push: &mut impl FnMut(u8)) -> Result<()> {
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
    pub(super) fn digits(&mut self, push: &mut impl FnMut(u8), required: bool) -> Result<()> {
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

    pub(super) fn invalid_number(&self) -> JsonError {
        if self.pos == self.end {
            self.syntax_back("invalid number")
        } else {
            self.syntax("invalid number")
        }
    }

    /// The rest of a string after its opening quote; decoded into `out` when given. Runs of
    /// plain ASCII are found a word at a time; a multi-byte character is checked as UTF-8.
    pub(super) fn string(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<()> {
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
    pub(super) fn escape(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<()> {
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
    pub(super) fn low_surrogate(&mut self) -> Result<Option<u16>> {
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

    pub(super) fn hex4(&mut self) -> Result<u16> {
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
