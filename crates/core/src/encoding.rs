//! A `/me` body in the encoding Python's `json.loads(bytes)` detects (`json.detect_encoding`):
//! the seed reads `/me` with it, so a UTF-8 BOM, and UTF-16 or UTF-32 with or without a BOM, are
//! bodies it accepts. [`Utf8Input`] hands the JSON reader UTF-8 whatever the body was in.
//! (A lone surrogate in UTF-16 becomes U+FFFD: a Rust string cannot hold one; Python's strict
//! decoder fails on it.)

use std::io::{self, Read};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Utf16 { big_endian: bool },
    Utf32 { big_endian: bool },
}

/// `json.detect_encoding` on the first (up to) four bytes; also how many of them are a BOM.
fn detect(b: &[u8]) -> (Encoding, usize) {
    use Encoding::*;
    match b {
        [0, 0, 0xFE, 0xFF, ..] => (Utf32 { big_endian: true }, 4),
        [0xFF, 0xFE, 0, 0, ..] => (Utf32 { big_endian: false }, 4),
        [0xFE, 0xFF, ..] => (Utf16 { big_endian: true }, 2),
        [0xFF, 0xFE, ..] => (Utf16 { big_endian: false }, 2),
        [0xEF, 0xBB, 0xBF, ..] => (Utf8, 3),
        [0, b1, _, _, ..] => match b1 {
            0 => (Utf32 { big_endian: true }, 0),
            _ => (Utf16 { big_endian: true }, 0),
        },
        [_, 0, b2, b3, ..] => match (b2, b3) {
            (0, 0) => (Utf32 { big_endian: false }, 0),
            _ => (Utf16 { big_endian: false }, 0),
        },
        [0, _] => (Utf16 { big_endian: true }, 0),
        [_, 0] => (Utf16 { big_endian: false }, 0),
        _ => (Utf8, 0),
    }
}

/// UTF-8 out of a body in any encoding [`detect`] knows.
pub struct Utf8Input<R> {
    src: R,
    encoding: Option<Encoding>,
    /// Bytes read but not yet decoded (the sniffed start, a unit cut by a read).
    pending: Vec<u8>,
    /// UTF-8 decoded but not yet handed out.
    ready: Vec<u8>,
    eof: bool,
}

impl<R: Read> Utf8Input<R> {
    pub fn new(src: R) -> Self {
        Utf8Input {
            src,
            encoding: None,
            pending: Vec::new(),
            ready: Vec::new(),
            eof: false,
        }
    }

    fn more(&mut self, want: usize) -> io::Result<()> {
        let mut chunk = vec![0u8; want.max(16 * 1024)];
        loop {
            match self.src.read(&mut chunk) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.pending.extend_from_slice(&chunk[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Decodes the whole units of `pending` into `ready`.
    fn decode(&mut self, encoding: Encoding) {
        let (width, big_endian) = match encoding {
            Encoding::Utf8 => {
                self.ready.append(&mut self.pending);
                return;
            }
            Encoding::Utf16 { big_endian } => (2, big_endian),
            Encoding::Utf32 { big_endian } => (4, big_endian),
        };
        let whole = self.pending.len() / width * width;
        let units = self.pending[..whole].chunks(width).map(|u| {
            let mut v = 0u32;
            for i in 0..width {
                let byte = u[if big_endian { i } else { width - 1 - i }];
                v = (v << 8) | u32::from(byte);
            }
            v
        });
        let mut buf = [0u8; 4];
        if width == 2 {
            let decoded = char::decode_utf16(units.map(|u| u as u16));
            for c in decoded {
                let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
                self.ready
                    .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        } else {
            for u in units {
                let c = char::from_u32(u).unwrap_or(char::REPLACEMENT_CHARACTER);
                self.ready
                    .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
        // A surrogate pair cut by a read boundary is decoded once both halves are here.
        let mut rest = self.pending.split_off(whole);
        if width == 2 && !self.eof && whole >= 2 {
            let last = &self.pending[whole - 2..whole];
            let unit = if big_endian {
                u16::from_be_bytes([last[0], last[1]])
            } else {
                u16::from_le_bytes([last[0], last[1]])
            };
            if (0xD800..=0xDBFF).contains(&unit) {
                // Take the replacement back out and keep the leading half for the next read.
                let cut = self.ready.len() - 3;
                self.ready.truncate(cut);
                let mut kept = last.to_vec();
                kept.append(&mut rest);
                rest = kept;
            }
        }
        self.pending = rest;
    }
}

impl<R: Read> Read for Utf8Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.ready.is_empty() {
            let encoding = match self.encoding {
                Some(e) => e,
                None => {
                    while self.pending.len() < 4 && !self.eof {
                        self.more(4)?;
                    }
                    let (e, bom) = detect(&self.pending);
                    self.pending.drain(..bom);
                    self.encoding = Some(e);
                    e
                }
            };
            if self.pending.is_empty() || encoding != Encoding::Utf8 && !self.eof {
                if self.eof {
                    return Ok(0);
                }
                self.more(buf.len())?;
            }
            self.decode(encoding);
            if self.ready.is_empty() && self.eof && self.pending.is_empty() {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.ready.len());
        buf[..n].copy_from_slice(&self.ready[..n]);
        self.ready.drain(..n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(bytes: &[u8], chunk: usize) -> String {
        struct Chunks<'a>(&'a [u8], usize);
        impl Read for Chunks<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut out = String::new();
        Utf8Input::new(Chunks(bytes, chunk))
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn every_encoding_python_detects_reads_as_the_same_text() {
        let text = r#"{"projects":{"1":{"name":"Café 🚀 ٣"}}}"#;
        let utf16 = |be: bool| -> Vec<u8> {
            text.encode_utf16()
                .flat_map(|u| if be { u.to_be_bytes() } else { u.to_le_bytes() })
                .collect()
        };
        let utf32 = |be: bool| -> Vec<u8> {
            text.chars()
                .flat_map(|c| {
                    if be {
                        (c as u32).to_be_bytes()
                    } else {
                        (c as u32).to_le_bytes()
                    }
                })
                .collect()
        };
        let mut bodies = vec![
            text.as_bytes().to_vec(),
            [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
            utf16(true),
            utf16(false),
            [b"\xFE\xFF".as_slice(), &utf16(true)].concat(),
            [b"\xFF\xFE".as_slice(), &utf16(false)].concat(),
            utf32(true),
            utf32(false),
            [b"\0\0\xFE\xFF".as_slice(), &utf32(true)].concat(),
            [b"\xFF\xFE\0\0".as_slice(), &utf32(false)].concat(),
        ];
        bodies.push(b"{}".to_vec());
        for (i, body) in bodies.iter().enumerate() {
            for chunk in [1, 3, 7, 4096] {
                let want = if body.as_slice() == b"{}" { "{}" } else { text };
                assert_eq!(through(body, chunk), want, "body {i}, chunks of {chunk}");
            }
        }
        assert_eq!(through(b"", 1), "");
        assert_eq!(through(b"7", 1), "7");
        // A lone surrogate in UTF-16 becomes U+FFFD.
        assert_eq!(through(&[b'"', 0, 0x3d, 0xd8, b'"', 0], 1), "\"\u{fffd}\"");
    }
}
