//! One code exchange per login, across processes (`docs/oauth.md#one-exchange-per-login`).
//!
//! A login can be finished by several processes at once: `mp-login-finish --listen` waiting for
//! the browser, and a person pasting the same URL into a plain `mp-login-finish` elsewhere.
//! Whoever has a redirect whose `state` matches takes the login's lock before it spends
//! anything, and keeps it until its outcome is printed. Under the lock, the inflight file still
//! holding this login means nobody spent the code: the holder goes on. Otherwise another process
//! did, and its outcome (the envelope it printed, its exit code and its sentences) was recorded
//! before it let the lock go: the later process reports that outcome instead of failing.
//!
//! The lock and the record are files of the temporary directory (`$TMPDIR/mp-login-<uid>/`,
//! 0700, this user's), named after the inflight file's absolute path: the storage directory
//! holds only what mixpanel-headless's own login writes there.
//!
//! The claim a process holds is a value, [`Claim`], that the binary creates and lends to the
//! core through [`crate::context::Context`]; the binary settles it once its outcome is printed.
//!
//! A killed holder leaves no outcome; the kernel drops its lock, and the next one either finds
//! the inflight untouched (killed before the exchange: it goes on) or gone ([`Taken::Gone`]:
//! the tokens, if any were saved, wait in a placeholder that `mp-login-start` lists).

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, IoContext, Result};
use crate::interrupt::Interrupt;
use crate::secret::CsrfState;
use crate::store;

/// What a finished login's process printed, for the processes that wanted to finish it too.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// SHA-256 of the login's `state` (hex): whose outcome this is, without the state itself.
    pub state_sha256: String,
    pub pid: u32,
    /// Unix seconds.
    pub finished_at: i64,
    pub exit_code: u8,
    /// The envelope as it was printed.
    pub envelope: Value,
    /// The sentences it printed on stderr.
    pub stderr: String,
}

/// Who finishes the login, once its lock is held.
#[derive(Debug)]
pub enum Taken {
    /// This process: the inflight file still holds the login, nothing is spent.
    Ours,
    /// This process, to publish the tokens a stopped finish of this login saved in this
    /// placeholder: the code is spent, and is never sent again.
    Saved(PathBuf),
    /// Another process finished it and printed this.
    Done(Record),
    /// This process, to report (or, when `config.toml` does not list it yet, to complete) the
    /// account in this directory, which a stopped finish of this login published.
    Published(PathBuf),
    /// Another process took it and left no outcome.
    Gone(Gone),
    /// The claim's directory or lock cannot be used (another user's, a symlink, not writable):
    /// this process goes on without the guard against a parallel finish.
    Unguarded(Error),
}

/// How a login another process took without leaving an outcome looks now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// Its inflight file is gone: that process was stopped, or it was not this kit.
    Removed,
    /// Its inflight file holds a newer login (a new start ran).
    Replaced,
}

/// The claim this process holds, until [`Claim::settle`] (or the process ends).
struct Held {
    _lock: File,
    inflight: PathBuf,
    files: Files,
    state: CsrfState,
}

/// The claim's files for one inflight path.
struct Files {
    lock: PathBuf,
    outcome: PathBuf,
    spending: PathBuf,
}

/// The login claim one run holds, if any: empty until [`Claim::take`] says this run finishes
/// the login, and emptied by [`Claim::release`] or [`Claim::settle`].
#[derive(Default)]
pub struct Claim {
    held: Mutex<Option<Held>>,
}

const MAX_RECORD: u64 = 16 * 1024 * 1024;

/// `$TMPDIR/mp-login-<uid>/login-<hash of the inflight's absolute path>.{lock,outcome,spending}`.
fn claim_files(inflight: &Path) -> Result<Files> {
    let parent = match inflight.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let absolute = std::fs::canonicalize(parent)
        .at("cannot resolve", parent)?
        .join(inflight.file_name().unwrap_or_default());
    let dir = claims_dir()?;
    let key = digest(&absolute.to_string_lossy());
    let file = |suffix: &str| dir.join(format!("login-{}.{suffix}", &key[..32]));
    Ok(Files {
        lock: file("lock"),
        outcome: file("outcome"),
        spending: file("spending"),
    })
}

/// `$TMPDIR/mp-login-<uid>/`, created 0700; it must be this user's, not a symlink.
fn claims_dir() -> Result<PathBuf> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let uid = rustix::process::geteuid().as_raw();
    // An empty or relative `TMPDIR` would put the claims in whatever the working directory
    // is, where another process of the same login would not find them.
    let tmp = Some(std::env::temp_dir())
        .filter(|t| t.is_absolute())
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    let dir = tmp.join(format!("mp-login-{uid}"));
    match std::fs::create_dir(&dir) {
        Ok(()) => std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .at("cannot restrict", &dir)?,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::io("cannot create", &dir, e)),
    }
    let meta = std::fs::symlink_metadata(&dir).at("cannot read", &dir)?;
    if meta.file_type().is_symlink() {
        return Err(Error::SymlinkRefused { path: dir });
    }
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o077 != 0 {
        return Err(Error::io(
            "refusing to use",
            &dir,
            std::io::Error::other("it must be a directory of this user's, mode 0700"),
        ));
    }
    Ok(dir)
}

/// Removes what no login needs any more from the claims' directory: outcomes older than an hour
/// (the longest login) or of an account since logged out, markers older than that (no login
/// lives longer), and locks nobody holds that are as old. A lock is removed only while this process
/// holds it, and [`Claim::take`] makes sure the lock it got is still the file at the path, so a
/// process that opened it just before cannot hold a lock nobody else sees.
pub fn sweep() {
    let Ok(dir) = claims_dir() else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if !name.starts_with("login-") {
            continue;
        }
        let old = std::fs::symlink_metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| crate::clock::now().duration_since(t).ok())
            .is_some_and(|age| age.as_secs() > RECORD_LIFE as u64);
        match path.extension().and_then(|e| e.to_str()) {
            Some("outcome") if old || record_of_removed_account(&path) => {
                let _ = std::fs::remove_file(&path);
            }
            Some("spending") if old => {
                let _ = std::fs::remove_file(&path);
            }
            Some("lock") if old => {
                if let Ok(lock) = open_lock(&path) {
                    if store::flock(&lock, store::Wait::No).unwrap_or(false) && is_at(&lock, &path)
                    {
                        let _ = std::fs::remove_file(&path);
                    }
                }
            }
            _ => {}
        }
    }
}

/// An outcome record of a success whose account has since been removed (logged out).
fn record_of_removed_account(path: &Path) -> bool {
    let Ok(Some(read)) = store::read_no_follow(path, MAX_RECORD) else {
        return false;
    };
    serde_json::from_slice::<Record>(&read.bytes).is_ok_and(|r| account_gone(&r))
}

fn account_gone(record: &Record) -> bool {
    record.envelope["account"]["path"]
        .as_str()
        .is_some_and(|p| !Path::new(p).is_dir())
}

fn open_lock(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// Whether the open `file` is still the one at `path` (not removed or replaced since).
fn is_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

/// SHA-256 as hex: what the claim's files name a login and a path by.
fn digest(text: &str) -> String {
    store::hex(&Sha256::digest(text.as_bytes()))
}

/// The outcome recorded for the login whose redirect carried `state`, if a process finished it
/// within the longest TTL of a login and, for a success, its account is still there (a logout
/// since makes it history, not an outcome to report).
fn recorded(files: &Files, state: &CsrfState) -> Option<Record> {
    let read = store::read_no_follow(&files.outcome, MAX_RECORD).ok()??;
    let record: Record = serde_json::from_slice(&read.bytes).ok()?;
    let recent = (0..=RECORD_LIFE).contains(&(crate::clock::unix_now() - record.finished_at));
    (record.state_sha256 == digest(state.secret()) && recent && !account_gone(&record))
        .then_some(record)
}

/// How long an outcome is reported: the longest TTL a login can have.
const RECORD_LIFE: i64 = *crate::inflight::TTL_RANGE.end() as i64;

impl Claim {
    fn held(&self) -> MutexGuard<'_, Option<Held>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for the login's lock and says who finishes it (see the module docs). With
    /// [`Taken::Ours`] the lock stays held by this run until [`Claim::settle`].
    pub fn take(&self, inflight: &Path, state: &CsrfState) -> Result<Taken> {
        let files = match claim_files(inflight) {
            Ok(files) => files,
            Err(e) => return Ok(Taken::Unguarded(e)),
        };
        let lock_path = &files.lock;
        let lock = loop {
            let lock = match open_lock(lock_path) {
                Ok(lock) => lock,
                Err(e) => {
                    return Ok(Taken::Unguarded(match e.raw_os_error() {
                        Some(libc::ELOOP) => Error::SymlinkRefused {
                            path: lock_path.clone(),
                        },
                        _ => Error::io("cannot open the login's lock", lock_path, e),
                    }))
                }
            };
            store::flock(&lock, store::Wait::Yes).at("cannot lock", lock_path)?;
            // The holder before removed the file once it was done with it: lock the new one.
            if is_at(&lock, lock_path) {
                break lock;
            }
        };
        let holds = crate::inflight::holds(inflight, state);
        // A login that is over needs no lock: removed while held (see [`sweep`]).
        let unlock = || {
            let _ = std::fs::remove_file(lock_path);
        };
        let record = (!holds).then(|| recorded(&files, state)).flatten();
        if let Some(record) = record {
            unlock();
            return Ok(Taken::Done(record));
        }
        let marker = marker(&files.spending, &digest(state.secret()));
        let saved = marker
            .as_ref()
            .map(|m| m.placeholder.clone())
            .filter(|dir| crate::publish::holds_tokens(dir));
        let published = match (&saved, &marker) {
            (None, Some(marker)) if !holds => published_by_marker(marker),
            _ => None,
        };
        if holds || saved.is_some() || published.is_some() {
            *self.held() = Some(Held {
                _lock: lock,
                inflight: inflight.to_path_buf(),
                files,
                state: CsrfState::new(state.secret()),
            });
            return Ok(match (saved, published) {
                (Some(dir), _) => Taken::Saved(dir),
                (None, Some(dir)) => Taken::Published(dir),
                (None, None) => Taken::Ours,
            });
        }
        unlock();
        Ok(Taken::Gone(match std::fs::symlink_metadata(inflight) {
            Err(e) if e.kind() == ErrorKind::NotFound => Gone::Removed,
            _ => Gone::Replaced,
        }))
    }

    /// Records, under the claim this run holds, the placeholder the exchange's tokens go to.
    pub fn spending(&self, interrupt: &Interrupt, placeholder: &Path) -> Result<()> {
        use std::os::unix::fs::MetadataExt;
        // The claim's lock is let go before the write: the write waits for an interrupt's report,
        // which takes the claim's lock (`settle`), so holding it here could deadlock.
        let held = self
            .held()
            .as_ref()
            .map(|held| (held.files.spending.clone(), digest(held.state.secret())));
        let Some((path, state_sha256)) = held else {
            return Ok(());
        };
        let dir = std::fs::symlink_metadata(placeholder).at("cannot read", placeholder)?;
        let marker = Spending {
            state_sha256,
            placeholder: placeholder.to_path_buf(),
            dev: dir.dev(),
            ino: dir.ino(),
        };
        store::write_json(interrupt, &path, &marker)
    }

    /// Lets go of this run's claim, recording nothing: it spent nothing and goes on waiting.
    pub fn release(&self) {
        self.held().take();
    }

    /// Called once this process's outcome is printed: when it holds a login's claim and spent the
    /// code (the inflight file no longer holds the login), the outcome is recorded for the
    /// processes waiting on the lock; then the lock is let go. A claim that spent nothing (the
    /// exchange failed and kept the inflight) records nothing: the next process tries itself.
    pub fn settle(&self, exit_code: u8, envelope: &str, stderr: &str) {
        let Some(held) = self.held().take() else {
            return;
        };
        if crate::inflight::holds(&held.inflight, &held.state) {
            return;
        }
        let record = Record {
            state_sha256: digest(held.state.secret()),
            pid: std::process::id(),
            finished_at: crate::clock::unix_now(),
            exit_code,
            envelope: serde_json::from_str(envelope).unwrap_or(Value::Null),
            stderr: stderr.to_string(),
        };
        // Best effort: without the record a waiting process says the login was taken. (No
        // durable step here: this runs inside the interrupt's report, which holds its lock.)
        let mut bytes = serde_json::to_vec_pretty(&record).unwrap_or_default();
        bytes.push(b'\n');
        if store::replace_file(&held.files.outcome, &bytes).is_ok() {
            // What the outcome now tells, the marker told no one else; the lock goes while it is
            // held (`take` locks the file at the path, whatever it opened before).
            let _ = std::fs::remove_file(&held.files.spending);
            let _ = std::fs::remove_file(&held.files.lock);
        }
    }
}

/// What a process that holds the claim is about to spend the code for: the placeholder its
/// tokens will be saved in. Written before the exchange, so that a process killed after it
/// saved the tokens but before it removed the inflight file is continued, not repeated (the
/// code is one-time).
#[derive(Serialize, Deserialize)]
struct Spending {
    state_sha256: String,
    placeholder: PathBuf,
    /// The placeholder directory's device and inode: a rename keeps them, so the account it
    /// was published as is found by them.
    #[serde(default)]
    dev: u64,
    #[serde(default)]
    ino: u64,
}

/// The marker of the login `state` names, if one was written.
fn marker(path: &Path, state_sha256: &str) -> Option<Spending> {
    let read = store::read_no_follow(path, 64 * 1024).ok()??;
    let marker: Spending = serde_json::from_slice(&read.bytes).ok()?;
    (marker.state_sha256 == state_sha256).then_some(marker)
}

/// The account directory the marker's placeholder was renamed to, when a finish of its login
/// published (or began to) and stopped before recording its outcome.
fn published_by_marker(marker: &Spending) -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    if marker.ino == 0 || marker.placeholder.exists() {
        return None;
    }
    let accounts = marker.placeholder.parent()?;
    std::fs::read_dir(accounts)
        .ok()?
        .filter_map(|e| e.ok())
        .find(|e| {
            e.metadata()
                .is_ok_and(|m| m.is_dir() && (m.dev(), m.ino()) == (marker.dev, marker.ino))
        })
        .map(|e| e.path())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn inflight(dir: &Path, state: &str) -> PathBuf {
        let p = dir.join("inflight.json");
        std::fs::write(&p, format!(r#"{{"state": "{state}"}}"#)).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p
    }

    #[test]
    fn the_first_taker_settles_and_the_next_reads_its_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let p = inflight(dir.path(), "s1");
        let state = CsrfState::new("s1");
        let claim = Claim::default();
        assert!(crate::inflight::holds(&p, &state));
        assert!(matches!(claim.take(&p, &state).unwrap(), Taken::Ours));
        // Nothing spent: no record, the next taker goes on.
        claim.settle(2, r#"{"state":"error"}"#, "");
        let files = claim_files(&p).unwrap();
        assert!(recorded(&files, &state).is_none());
        assert!(matches!(claim.take(&p, &state).unwrap(), Taken::Ours));
        let lock_mode = std::fs::metadata(&files.lock).unwrap().permissions().mode();
        assert_eq!(lock_mode & 0o777, 0o600);
        // Spent: the record names the outcome, for this state only; the lock is gone with it.
        std::fs::remove_file(&p).unwrap();
        claim.settle(0, r#"{"state":"ok"}"#, "Logged in\n");
        assert!(!files.lock.exists());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "nothing beside the inflight file"
        );
        match claim.take(&p, &state).unwrap() {
            Taken::Done(r) => {
                assert_eq!((r.exit_code, r.envelope["state"].as_str()), (0, Some("ok")));
                assert_eq!(r.stderr, "Logged in\n");
            }
            other => panic!("{other:?}"),
        }
        assert!(recorded(&files, &CsrfState::new("other")).is_none());
        // A newer login in the file: not ours, and no outcome of ours.
        let p = inflight(dir.path(), "s2");
        assert!(matches!(
            claim.take(&p, &CsrfState::new("s3")).unwrap(),
            Taken::Gone(Gone::Replaced)
        ));
    }
}
