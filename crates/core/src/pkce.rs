//! PKCE (RFC 7636) with the S256 method, and the CSRF `state` (RFC 6749 §10.12).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::secret::{CodeVerifier, CsrfState};

/// 32 random bytes, base64url without padding: 43 characters (RFC 7636 §4.1).
pub fn new_verifier() -> CodeVerifier {
    CodeVerifier::new(random_urlsafe(32))
}

/// `BASE64URL(SHA256(ASCII(code_verifier)))` (RFC 7636 §4.2).
pub fn challenge(verifier: &CodeVerifier) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.secret().as_bytes()))
}

/// A fresh CSRF state value.
pub fn new_state() -> CsrfState {
    CsrfState::new(random_urlsafe(24))
}

/// `n` random bytes from the OS-seeded CSPRNG, base64url without padding.
pub fn random_urlsafe(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    #[test]
    fn rfc7636_appendix_b_vector() {
        let v = CodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(challenge(&v), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn verifiers_have_the_rfc_length_and_alphabet() {
        let v = new_verifier();
        assert_eq!(v.secret().len(), 43);
        assert!(v
            .secret()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(new_verifier().secret(), v.secret());
    }
}
