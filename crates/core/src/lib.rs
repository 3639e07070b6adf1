//! `mp-login-core`: the whole domain of the mp-login kit (see `docs/README.md`), with no printing
//! and no `process::exit`. The nine binaries in the root package are thin shells around these
//! entry points:
//!
//! | binary | entry points |
//! |---|---|
//! | `mp-login` | [`login::start`], then [`listen::listen`] |
//! | `mp-login-start` | [`login::start`] |
//! | `mp-login-finish` | [`login::finish`]; with `--listen`, [`listen::listen`] |
//! | `mp-login-resume` | [`login::resume`] (and [`login::placeholder_from_envelope`]) |
//! | `mp-autopick` | [`autopick::pick`] |
//! | `mp-token` | [`account::token::token`] |
//! | `mp-login-status` | [`account::status::status`] |
//! | `mp-logout` | [`account::logout::logout`] |
//! | `mp-login-tasks` | none of its own: it writes the cargo-make tasks the root package embeds, with [`store::write_atomic`] |
//!
//! `docs/commands.md` describes each binary, `docs/README.md` lists the rest of the reference.

// The kit locks files with flock(2), keeps secrets in 0600 files and reads process groups: it
// is built for Unix (Linux and macOS) only, and says so here rather than in link errors.
#[cfg(not(unix))]
compile_error!("mp-login runs on Unix only (Linux, macOS): it relies on flock(2), file modes and process groups");

pub mod account;
pub mod account_name;
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
pub mod notice;
pub mod oauth;
pub mod pkce;
pub mod publish;
pub mod redirect;
pub mod region;
pub mod secret;
pub mod store;
pub mod text;

pub use error::{Error, Result};
