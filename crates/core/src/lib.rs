//! `mp-login-core`: the whole domain of the mp-login kit (see `docs/README.md`), with no printing
//! and no `process::exit`. The binaries in the root package are thin shells around
//! [`login::start`], [`login::finish`], [`login::resume`] and [`autopick::pick`].

// The kit locks files with flock(2), keeps secrets in 0600 files and reads process groups: it
// is built for Unix (Linux and macOS) only, and says so here rather than in link errors.
#[cfg(not(unix))]
compile_error!("mp-login runs on Unix only (Linux, macOS): it relies on flock(2), file modes and process groups");

pub mod account;
pub mod autopick;
pub mod claim;
pub mod clock;
pub mod config;
pub mod context;
pub mod digits;
mod encoding;
pub mod endpoints;
pub mod error;
pub mod http;
pub mod inflight;
pub mod interrupt;
mod json;
pub mod listen;
pub mod login;
pub mod me;
pub mod meta;
pub mod naming;
pub mod oauth;
pub mod pkce;
pub mod publish;
pub mod redirect;
pub mod region;
pub mod secret;
pub mod store;
pub mod text;

pub use error::{Error, Result};
