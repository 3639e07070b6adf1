//! Secrets are types: access token, refresh token, authorization code, PKCE verifier and CSRF
//! state wrap their value in a private field, print `[redacted]` in `Debug`, and give it up only
//! through an explicit `secret()`. None is `Clone` or comparable with `==`. That is this
//! project's rule, stricter than oauth2-rs (whose `new_secret_type!` values are `Clone`; only
//! its PKCE verifier is not): a copy is one more place a secret can leak from, and `==` is not
//! constant-time. The state, the one secret that is compared, is compared by
//! [`CsrfState::matches`] in constant time (oauth2-rs's `CsrfToken` is the model). The verifier
//! is moved into the exchange.

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                $name(value.into())
            }

            /// The secret value itself: only for the wire and for the 0600 files.
            pub fn secret(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret_type!(
    /// An OAuth access token (RFC 6749 §1.4).
    AccessToken
);
secret_type!(
    /// An OAuth refresh token (RFC 6749 §1.5).
    RefreshToken
);
secret_type!(
    /// A one-time authorization code (RFC 6749 §4.1.2).
    AuthCode
);
secret_type!(
    /// A PKCE code verifier (RFC 7636 §4.1): never cloned, moved into the exchange.
    CodeVerifier
);

secret_type!(
    /// The CSRF `state` of an authorization request (RFC 6749 §10.12), kept in the inflight file
    /// and compared with the redirect's.
    CsrfState
);

impl CsrfState {
    /// Whether `other` is this state, compared in constant time (`subtle`).
    pub fn matches(&self, other: &str) -> bool {
        use subtle::ConstantTimeEq;
        bool::from(self.0.as_bytes().ct_eq(other.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let t = AccessToken::new("tok-123");
        assert_eq!(format!("{t:?}"), "AccessToken([redacted])");
        assert_eq!(t.secret(), "tok-123");
        let v = CodeVerifier::new("verifier-xyz");
        assert!(!format!("{v:?}").contains("verifier-xyz"));
        let s = CsrfState::new("state-abc");
        assert!(!format!("{s:?}").contains("state-abc"));
        assert!(s.matches("state-abc") && !s.matches("state-abd") && !s.matches("state-ab"));
    }
}
