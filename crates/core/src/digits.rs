//! Project and organization ids as mixpanel-headless reads them. Its pick orders ids with
//! Python's `int(pid)` (`accounts.py` `_pick_from_primary_org`), and its config refuses a
//! `default_project` that does not match `^\d+$` (pydantic, Unicode `\d`), which makes
//! mixpanel-headless 0.4 refuse the whole `config.toml`. Both read any Unicode decimal digit
//! (category Nd: `٣` is 3), not only ASCII.

use std::cmp::Reverse;

/// The code point of each Unicode 14 (Python 3.11) Nd run's zero; a run is ten consecutive
/// digits 0–9.
const ND_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50,
    0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// The value of a Unicode decimal digit (category Nd), as Python's `unicodedata.decimal`.
pub fn decimal(c: char) -> Option<u8> {
    if c.is_ascii_digit() {
        return Some(c as u8 - b'0');
    }
    let c = c as u32;
    let i = ND_ZEROS.partition_point(|&zero| zero <= c).checked_sub(1)?;
    let value = c - ND_ZEROS[i];
    (value < 10).then_some(value as u8)
}

/// pydantic's `^\d+$` on `default_project`: one or more Unicode decimal digits, nothing else.
pub fn is_project_id(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| decimal(c).is_some())
}

/// An integer as Python's `int(str)` reads it (surrounding whitespace, one sign, Unicode
/// decimal digits, single `_` between digits), kept in an order-preserving form of any size.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PyInt {
    Negative(Reverse<Magnitude>),
    NonNegative(Magnitude),
}

/// A magnitude as its ASCII digits without leading zeros; ordered by length, then digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Magnitude {
    len: usize,
    digits: Vec<u8>,
}

impl PyInt {
    /// `None` where `int()` raises `ValueError`.
    pub fn parse(text: &str) -> Option<PyInt> {
        let s = text.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c));
        let (negative, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let mut digits = Vec::with_capacity(body.len());
        let mut after_digit = false;
        for c in body.chars() {
            if c == '_' && after_digit {
                after_digit = false;
                continue;
            }
            digits.push(b'0' + decimal(c)?);
            after_digit = true;
        }
        if !after_digit {
            return None; // empty, or a trailing or doubled `_`
        }
        let first = digits
            .iter()
            .position(|&d| d != b'0')
            .unwrap_or(digits.len());
        digits.drain(..first);
        let magnitude = Magnitude {
            len: digits.len(),
            digits,
        };
        Some(match negative && magnitude.len > 0 {
            true => PyInt::Negative(Reverse(magnitude)),
            false => PyInt::NonNegative(magnitude),
        })
    }
}

/// pydantic's lax `int` (the seed's `organization_id`), as its decimal digits: from a string,
/// surrounding whitespace, a sign, ASCII digits with single `_` between them and an optional
/// fraction of zeros (`" 7.00 "`, `"7_0"`); from a JSON number, an integer of any size, or a
/// float with no fraction within 64 bits (`7.0`, `1e2`). `None` where pydantic refuses.
pub fn lax_int(text: &str, from_string: bool) -> Option<String> {
    let (negative, digits) = if from_string {
        let s = text.trim_matches(|c: char| c.is_ascii_whitespace());
        let (negative, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (whole, fraction) = s.split_once('.').unwrap_or((s, "0"));
        if fraction.is_empty() || !fraction.bytes().all(|b| b == b'0') {
            return None;
        }
        let mut digits = String::with_capacity(whole.len());
        let mut after_digit = false;
        for c in whole.chars() {
            match c {
                '_' if after_digit => after_digit = false,
                '0'..='9' => {
                    digits.push(c);
                    after_digit = true;
                }
                _ => return None,
            }
        }
        if !after_digit {
            return None;
        }
        (negative, digits)
    } else if text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        let negative = text.starts_with('-');
        (negative, text.trim_start_matches('-').to_string())
    } else {
        let f: f64 = text.parse().ok()?;
        if !(f.is_finite() && f.fract() == 0.0 && f.abs() < 2f64.powi(63)) {
            return None;
        }
        return Some((f as i64).to_string());
    };
    let digits = digits.trim_start_matches('0');
    Some(match (negative, digits.is_empty()) {
        (_, true) => "0".to_string(),
        (true, false) => format!("-{digits}"),
        (false, false) => digits.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(s: &str) -> Option<PyInt> {
        PyInt::parse(s)
    }

    #[test]
    fn reads_what_python_int_reads() {
        // Each: the text and the value `int()` gives (checked in Python 3.11).
        for (text, value) in [
            ("700", "700"),
            ("٣", "3"),
            ("٠٧", "7"),
            ("７", "7"),
            ("𝟕", "7"),
            (" 7\n", "7"),
            ("+7", "7"),
            ("-0", "0"),
            ("1_0", "10"),
            ("\u{a0}7", "7"),
            (
                "123456789012345678901234567890123456789012",
                "123456789012345678901234567890123456789012",
            ),
        ] {
            assert_eq!(int(text), int(value), "{text:?}");
            assert!(int(text).is_some(), "{text:?}");
        }
        for refused in [
            "", "abc", "1e2", "7.0", "²", "_1", "1_", "1__0", "--5", "+-5", "- 5",
        ] {
            assert_eq!(int(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn orders_numerically_at_any_size() {
        let mut ids = vec![
            "10",
            "-5",
            "٣",
            "-100",
            "99999999999999999999999999999999999999999",
            "0",
            "2",
        ];
        ids.sort_by_key(|s| int(s).unwrap());
        assert_eq!(
            ids,
            [
                "-100",
                "-5",
                "0",
                "2",
                "٣",
                "10",
                "99999999999999999999999999999999999999999"
            ]
        );
    }

    #[test]
    fn organization_ids_as_pydantic_reads_them() {
        // Each checked with the seed's MeResponse (pydantic 2.14).
        for (text, want) in [
            ("7", "7"),
            (" 7 ", "7"),
            ("+7", "7"),
            ("-7", "-7"),
            ("7_0", "70"),
            ("7.0", "7"),
            ("7.00", "7"),
            (" 7.0 ", "7"),
            ("\t7\n", "7"),
            ("007", "7"),
            ("-0", "0"),
            (
                "111111111111111111111111111111",
                "111111111111111111111111111111",
            ),
        ] {
            assert_eq!(lax_int(text, true).as_deref(), Some(want), "{text:?}");
        }
        for refused in [
            "7__0", "_7", "7.5", "7e0", "1e2", "٣", "", "abc", "0x7", "7.", ".7e1",
        ] {
            assert_eq!(lax_int(refused, true), None, "{refused:?}");
        }
        for (number, want) in [
            ("7.0", "7"),
            ("1e2", "100"),
            ("-0.0", "0"),
            ("1.0e1", "10"),
            ("-0", "0"),
        ] {
            assert_eq!(lax_int(number, false).as_deref(), Some(want), "{number}");
        }
        assert_eq!(
            lax_int("123456789012345678901234567890", false).as_deref(),
            Some("123456789012345678901234567890")
        );
        for refused in ["7.5", "1e400", "9.3e18", "NaN", "Infinity", "-Infinity"] {
            assert_eq!(lax_int(refused, false), None, "{refused}");
        }
    }

    #[test]
    fn project_ids_are_unicode_digits_only() {
        for ok in ["700", "007", "0", "٣", "٠٧", "７", "𝟕"] {
            assert!(is_project_id(ok), "{ok:?}");
        }
        for bad in [
            "-5", "+7", " 7", "7 ", "7\n", "1_0", "-0", "", "²", "\u{a0}7", "abc",
        ] {
            assert!(!is_project_id(bad), "{bad:?}");
        }
        assert_eq!(decimal('\u{1FBF9}'), Some(9));
        assert_eq!(decimal('\u{1FBFA}'), None);
        assert_eq!(decimal('/'), None);
    }
}
