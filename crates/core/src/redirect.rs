//! Parsing the redirect URL the user copied from the browser's address bar (`docs/oauth.md#the-pasted-redirect`).
//!
//! Accepted, after trimming whitespace and one pair of surrounding quotes or angle brackets: a
//! full URL, a URL whose line was wrapped (internal whitespace removed), a bare query string
//! (`?code=…` or `code=…&state=…`), and `&amp;` in place of `&`. `code`, `state`, `error` and
//! `error_description` come from the query, then the fragment (RFC 6749 §4.1.2, §4.1.2.1).
//! `error` wins over everything, as in the seed (`docs/oauth.md#checks-in-order` steps 2 and 5): no state check then.
//! Messages describe what was pasted without repeating it: the text may hold a code.

use url::Url;

use crate::error::{Error, Result};
use crate::secret::AuthCode;

/// Pasted input larger than this is refused without reading further (`docs/oauth.md#the-pasted-redirect`).
pub const MAX_PASTE: usize = 64 * 1024;

#[derive(Debug)]
pub enum Redirect {
    /// The IdP redirected with a code.
    Code {
        code: AuthCode,
        state: String,
        /// RFC 9207 `iss`, when the response carries one.
        iss: Option<String>,
    },
    /// The IdP redirected with `error=` (RFC 6749 §4.1.2.1).
    Denied {
        error: String,
        description: Option<String>,
        /// The login the denial answers; a listener believes a denial only with its own state.
        state: Option<String>,
        iss: Option<String>,
    },
}

impl Redirect {
    /// The RFC 9207 `iss` of the response (success or error alike).
    pub fn iss(&self) -> Option<&str> {
        match self {
            Redirect::Code { iss, .. } | Redirect::Denied { iss, .. } => iss.as_deref(),
        }
    }
}

#[derive(Default)]
struct Params {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    iss: Option<String>,
    looks_like_authorize: bool,
}

impl Params {
    fn absorb(&mut self, query: &str) {
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match k.as_ref() {
                "code" => &mut self.code,
                "state" => &mut self.state,
                "error" => &mut self.error,
                "error_description" => &mut self.error_description,
                "iss" => &mut self.iss,
                "response_type" | "code_challenge" | "code_challenge_method" => {
                    self.looks_like_authorize = true;
                    continue;
                }
                _ => continue,
            };
            if slot.is_none() && !v.is_empty() {
                *slot = Some(v.into_owned());
            }
        }
    }
}

/// Why pasted text is not a redirect the kit can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paste {
    Empty,
    /// Neither a URL nor a query string.
    NotAUrl,
    /// The authorize URL itself, pasted by mistake instead of where the browser landed.
    AuthorizeUrl,
    CodeWithoutState,
    StateWithoutCode,
    NeitherCodeNorState,
    /// Larger than [`MAX_PASTE`]; `line`: one line the listener read on stdin.
    TooLarge {
        line: bool,
    },
    NotUtf8,
}

impl std::fmt::Display for Paste {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kib = MAX_PASTE / 1024;
        let what = match self {
            Paste::Empty => "empty",
            Paste::NotAUrl => "neither a URL nor a query string",
            Paste::AuthorizeUrl => "the authorize URL the start printed",
            Paste::CodeWithoutState => "a URL with a `code` but no `state`",
            Paste::StateWithoutCode => "a URL with a `state` but no `code`",
            Paste::NeitherCodeNorState => "a URL with neither `code` nor `state`",
            Paste::TooLarge { line: true } => {
                return write!(f, "the pasted line is larger than {kib} KiB")
            }
            Paste::TooLarge { line: false } => {
                return write!(f, "the pasted text is larger than {kib} KiB")
            }
            Paste::NotUtf8 => return f.write_str("the pasted text is not UTF-8"),
        };
        write!(
            f,
            "the pasted text is {what}, not the redirect URL with `code` and `state`"
        )
    }
}

/// Parses pasted text; `redirect_uri` goes into the error, for its hint.
pub fn parse(input: &str, redirect_uri: &str) -> Result<Redirect> {
    let invalid = |problem: Paste| Error::PasteError {
        problem,
        redirect_uri: redirect_uri.to_string(),
    };
    let text = normalize(input);
    if text.is_empty() {
        return Err(invalid(Paste::Empty));
    }
    let mut params = Params::default();
    let mut authorize_path = false;
    if let Some(url) = Url::parse(&text).ok().filter(|u| u.has_host()) {
        authorize_path = url.path().contains("/oauth/authorize");
        params.absorb(url.query().unwrap_or(""));
        params.absorb(url.fragment().unwrap_or(""));
    } else if let Some((_, rest)) = text.split_once('?') {
        let (query, fragment) = rest.split_once('#').unwrap_or((rest, ""));
        params.absorb(query);
        params.absorb(fragment);
    } else if text.contains('=') {
        let (query, fragment) = text.split_once('#').unwrap_or((&text, ""));
        params.absorb(query);
        params.absorb(fragment);
    } else {
        return Err(invalid(Paste::NotAUrl));
    }

    if let Some(error) = params.error {
        return Ok(Redirect::Denied {
            error,
            description: params.error_description,
            state: params.state,
            iss: params.iss,
        });
    }
    match (params.code, params.state) {
        (Some(code), Some(state)) => Ok(Redirect::Code {
            code: AuthCode::new(code),
            state,
            iss: params.iss,
        }),
        _ if authorize_path || params.looks_like_authorize => Err(invalid(Paste::AuthorizeUrl)),
        (Some(_), None) => Err(invalid(Paste::CodeWithoutState)),
        (None, Some(_)) => Err(invalid(Paste::StateWithoutCode)),
        (None, None) => Err(invalid(Paste::NeitherCodeNorState)),
    }
}

/// `host:port` of pasted text that is a full URL (after the same clean-up as [`parse`]).
pub fn origin(input: &str) -> Option<String> {
    let url = Url::parse(&normalize(input)).ok()?;
    Some(format!(
        "{}:{}",
        url.host_str()?,
        url.port_or_known_default()?
    ))
}

/// Trim, drop one pair of surrounding quotes or angle brackets, join wrapped lines, `&amp;` → `&`.
fn normalize(input: &str) -> String {
    let mut s = input.trim();
    for (open, close) in [('"', '"'), ('\'', '\''), ('<', '>'), ('`', '`')] {
        if s.len() >= 2 && s.starts_with(open) && s.ends_with(close) {
            s = s[open.len_utf8()..s.len() - close.len_utf8()].trim();
            break;
        }
    }
    let joined: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    joined.replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const R: &str = "http://localhost:19284/callback";

    fn code_state(input: &str) -> (String, String) {
        match parse(input, R).unwrap() {
            Redirect::Code { code, state, .. } => (code.secret().to_string(), state),
            other => panic!("expected a code, got {other:?}"),
        }
    }

    fn rejected(input: &str) -> String {
        match parse(input, R) {
            Err(e @ Error::PasteError { .. }) => e.to_string(),
            other => panic!("expected OAUTH_PASTE_ERROR for {input:?}, got {other:?}"),
        }
    }

    #[test]
    fn accepts_every_form_of_spec_9() {
        let want = ("abc".to_string(), "xyz".to_string());
        for input in [
            "http://localhost:19284/callback?code=abc&state=xyz",
            "  http://localhost:19284/callback?code=abc&state=xyz\n",
            "\"http://localhost:19284/callback?code=abc&state=xyz\"",
            "'http://localhost:19284/callback?code=abc&state=xyz'",
            "<http://localhost:19284/callback?code=abc&state=xyz>",
            "http://localhost:19284/call\nback?code=a\n  bc&state=xyz",
            "?code=abc&state=xyz",
            "code=abc&state=xyz",
            "http://localhost:19284/callback?code=abc&amp;state=xyz",
            "http://localhost:19284/callback#code=abc&state=xyz",
            "http://localhost:19284/callback?state=xyz#code=abc",
            "localhost:19284/callback?code=abc&state=xyz",
            "http://localhost:19284/callback?code=abc&state=xyz&iss=https%3A%2F%2Fmixpanel.com",
        ] {
            assert_eq!(code_state(input), want, "input {input:?}");
        }
        assert_eq!(
            code_state("http://localhost:19284/callback?code=a%2Fb&state=x%20y"),
            ("a/b".into(), "x y".into())
        );
    }

    #[test]
    fn error_redirects_are_denials() {
        match parse(
            "http://localhost:19284/callback?error=access_denied&error_description=User+said+no&state=s",
            R,
        )
        .unwrap()
        {
            Redirect::Denied {
                error, description, ..
            } => {
                assert_eq!(error, "access_denied");
                assert_eq!(description.as_deref(), Some("User said no"));
            }
            other => panic!("{other:?}"),
        }
        let with_iss = parse(
            &format!("{R}?code=c&state=s&iss=https%3A%2F%2Fmixpanel.com%2Foauth"),
            R,
        );
        assert_eq!(with_iss.unwrap().iss(), Some("https://mixpanel.com/oauth"));
    }

    #[test]
    fn rejects_what_is_not_a_redirect() {
        assert!(rejected("").contains("empty"));
        assert!(rejected("   \n ").contains("empty"));
        assert!(rejected("hello world").contains("neither a URL"));
        assert!(rejected("http://localhost:19284/callback").contains("neither `code` nor `state`"));
        assert!(rejected("http://localhost:19284/callback?code=abc").contains("no `state`"));
        assert!(rejected("?state=xyz").contains("no `code`"));
        assert!(rejected("code=&state=").contains("neither"));
    }

    #[test]
    fn the_authorize_url_pasted_by_mistake_is_named() {
        let msg = rejected(
            "https://mixpanel.com/oauth/authorize/?response_type=code&client_id=c&redirect_uri=http%3A%2F%2Flocalhost%3A19284%2Fcallback&state=s&code_challenge=x&code_challenge_method=S256",
        );
        assert!(msg.contains("authorize URL"), "{msg}");
    }

    #[test]
    fn messages_never_repeat_the_code() {
        let e = parse("http://localhost:19284/callback?code=SECRETCODE", R).unwrap_err();
        assert!(!e.to_string().contains("SECRETCODE"));
        assert!(!format!("{e:?}").contains("SECRETCODE"));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse(&s, R);
        }

        #[test]
        fn never_panics_on_url_like_input(s in "(https?://)?[a-z:/?#&=%<>\"' \n]{0,64}") {
            let _ = parse(&s, R);
        }

        #[test]
        fn any_code_and_state_round_trip(code in "[A-Za-z0-9._~-]{1,40}", state in "[A-Za-z0-9._~-]{1,40}") {
            let (c, s) = code_state(&format!("{R}?code={code}&state={state}"));
            prop_assert_eq!(c, code);
            prop_assert_eq!(s, state);
        }
    }
}
