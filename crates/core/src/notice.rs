//! What a running command tells a person on the way, as data: the core hands a [`Notice`] to
//! [`crate::http::Progress::notice`], and the binary words it (`src/sentences.rs`).

use std::path::Path;
use std::time::Duration;

use crate::error::Error;

/// Why a call is tried again.
#[derive(Debug)]
pub enum RetryCause<'a> {
    /// The connection dropped in the middle of the call.
    Dropped(&'a Error),
    /// The server answered this status (429 or 5xx).
    Status(u16),
}

#[derive(Debug)]
pub enum Notice<'a> {
    /// A directory of the kit's that others can write to (mode `mode`): whoever can write there
    /// can replace what the kit reads.
    SharedDir { dir: &'a Path, mode: u32 },
    /// The listener is bound and waits for the browser until `until` (RFC 3339); `pastes`:
    /// a pasted URL on stdin is read too (stdin is not the terminal of a background process).
    Waiting {
        redirect_uri: &'a str,
        until: String,
        pastes: bool,
    },
    /// A paste that is not this login's answer; the listener waits on.
    PasteRefused(&'a Error),
    /// A call to the callback that is not this login's answer; the listener waits on.
    CallbackRefused(&'a Error),
    /// The pasted URL's origin is not the redirect's, although its `state` is this login's.
    OtherOrigin { pasted: &'a str, expected: &'a str },
    /// Another finish of this login cannot be kept out: the claim's directory is unusable.
    Unguarded(&'a Error),
    /// A finish of this login that stopped before it reported had published it as `dir`.
    PublishedByStoppedFinish { dir: &'a Path },
    /// A finish of this login that stopped had saved its tokens in `dir`: they are published.
    PublishingSavedTokens { dir: &'a Path },
    /// A failed publish could not move `target` back to `placeholder`: the account directory
    /// is half published, and a resume of `target` completes it.
    RollbackFailed {
        target: &'a Path,
        placeholder: &'a Path,
        error: &'a std::io::Error,
    },
    /// The call `label` is tried again after `wait`; `attempt` of `attempts` comes next.
    Retrying {
        label: &'a str,
        cause: RetryCause<'a>,
        wait: Duration,
        attempt: u32,
        attempts: u32,
    },
    /// The server answered `status` and asks to wait `wait`, longer than the kit's `max`: the
    /// call is not tried again.
    WaitTooLong {
        label: &'a str,
        status: u16,
        wait: Duration,
        max: Duration,
    },
}
