//! Conformance: the mock driven by an independent OAuth client library (the `oauth2` crate)
//! through the full code + PKCE flow and each negative case, asserting the RFC error codes.

mod flows;
mod server;
mod support;
