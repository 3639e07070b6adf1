//! Text from outside (the server's `/me`, `config.toml`, a pasted URL) on its way to a person's
//! terminal: control characters escaped, so a project named `ESC]0;…BEL` or `\r\nFAKE: ok`
//! cannot retitle the window, clear the screen or forge a line; and bounded, so a 150 MB name
//! is not printed whole. Envelopes are JSON and keep the raw value.

use std::fmt;

/// The most characters of one outside value shown to a person.
pub const SHOWN_MAX: usize = 200;

/// `text` as it may reach a terminal (see the module docs): `format!("{}", shown(name))`.
pub fn shown(text: &str) -> Shown<'_> {
    Shown(text)
}

pub struct Shown<'a>(&'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (count, c) in self.0.chars().enumerate() {
            if count == SHOWN_MAX {
                return write!(f, "… ({} bytes in all)", self.0.len());
            }
            if is_unsafe(c) {
                write!(f, "{}", c.escape_unicode())?;
            } else {
                fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

/// A message of the kit's own, which may span lines, as it may reach a terminal: every control
/// character but the line breaks escaped. The outside values inside it went through [`shown`]
/// already; this is the last guard for any that did not.
pub fn lines_shown(message: &str) -> String {
    message
        .split('\n')
        .map(|line| {
            line.chars()
                .map(|c| match is_unsafe(c) {
                    true => c.escape_unicode().to_string(),
                    false => c.to_string(),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// C0, DEL and C1 controls, and the bidirectional overrides that reorder what a line shows.
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_length_bounded() {
        let evil = "A\u{1b}]0;owned\u{7}B\u{1b}[2J\r\nFAKE: ok\u{9b}\u{202e}";
        let out = shown(evil).to_string();
        assert!(!out.chars().any(is_unsafe), "{out:?}");
        assert_eq!(
            out,
            r"A\u{1b}]0;owned\u{7}B\u{1b}[2J\u{d}\u{a}FAKE: ok\u{9b}\u{202e}"
        );
        assert_eq!(shown("Café 日本").to_string(), "Café 日本");
        let long = "x".repeat(SHOWN_MAX + 1);
        assert_eq!(
            shown(&long).to_string(),
            format!(
                "{}… ({} bytes in all)",
                "x".repeat(SHOWN_MAX),
                SHOWN_MAX + 1
            )
        );
        assert_eq!(shown(&long[..SHOWN_MAX]).to_string().len(), SHOWN_MAX);
        assert_eq!(lines_shown("a\u{1b}[2J\nb\r"), "a\\u{1b}[2J\nb\\u{d}");
    }
}
