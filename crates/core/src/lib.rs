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
