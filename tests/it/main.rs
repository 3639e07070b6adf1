//! The integration tests of the `mp-login` package, one module per subject, in one test binary:
//! each binary links the whole crate and its dev-dependencies again, so one binary is one link
//! instead of sixteen (uv's `tests/it`). `common` is the harness they share; its `snapshot!`
//! macro reaches every module through `#[macro_use]`.
//!
//! One subject alone: `cargo test --test it login::`; the crash test (ignored, needs strace):
//! `cargo test --test it crash:: -- --ignored` (`cargo make crash-test`).

#[macro_use]
mod common;

mod autopick;
mod cargo_make;
mod concurrency;
mod consumer;
mod crash;
mod docs;
mod errors;
mod handoffs;
mod hardening;
mod lifecycle;
mod listen;
mod login;
mod resume;
mod seed_cases;
mod tables;
mod tls;
mod token;
