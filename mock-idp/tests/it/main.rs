//! The integration tests of the `mock-idp` package, one module per subject, in one test binary
//! (each binary links the crate, wiremock and reqwest again; uv's `tests/it`). `served` is the
//! support the modules that drive `mock-idp serve` over HTTP share.
//!
//! One subject alone: `cargo test -p mock-idp --test it limits::`.

mod admin;
mod conformance;
mod hostile;
mod limits;
mod served;
mod shell;
mod standalone;
