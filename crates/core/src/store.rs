//! Files on disk (`docs/files.md`): directories 0700 and files 0600 from the moment they exist, atomic
//! replace (temp file in the same directory, fsync, rename, fsync the directory), no symlink
//! followed when writing or when reading a secret.
//!
//! Every write is a durable step ([`crate::interrupt`]): an interrupt waits for it to end, so no
//! half-written temp file is left behind.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rand::RngCore;

use crate::account_name::AccountName;
use crate::error::{Error, IoContext, Result};
use crate::interrupt::Interrupt;

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// Bytes as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the kit keeps things (`docs/files.md`).
#[derive(Debug, Clone)]
pub struct Paths {
    /// `S`: `$MP_STORAGE_DIR`, else `$MP_OAUTH_STORAGE_DIR`, else `~/.mp`.
    pub storage: PathBuf,
    /// `C`: `$MP_CONFIG_PATH`, else `~/.mp/config.toml`.
    pub config: PathBuf,
}

impl Paths {
    pub fn accounts(&self) -> PathBuf {
        self.storage.join("accounts")
    }

    /// `S/accounts/<name>`: the one way a path is built from an account name, which
    /// [`AccountName`] has checked, so nothing outside `S/accounts/` is reached.
    pub fn account(&self, name: &AccountName) -> PathBuf {
        self.accounts().join(name)
    }
}

/// Fails with `SymlinkRefused` when `path` exists and is a symbolic link.
pub fn refuse_symlink(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(Error::SymlinkRefused {
            path: path.to_path_buf(),
        }),
        _ => Ok(()),
    }
}

/// Creates `dir` (and missing parents) at mode 0700; an existing `dir` must not be a symlink.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    refuse_symlink(dir)?;
    ensure_user_dir(dir)
}

/// The directory that holds `config.toml` is the user's, like the storage root itself: it may be
/// a symlink (a dotfiles checkout, say). It is created at 0700 when missing. The kit's own
/// directories below the root (`oauth`, `accounts`, placeholders) go through
/// [`ensure_private_dir`], which refuses a symlink.
pub fn ensure_user_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .at("cannot create directory", dir)
}

/// Creates a new directory at mode 0700; fails if it exists.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    DirBuilder::new()
        .mode(0o700)
        .create(dir)
        .at("cannot create directory", dir)
}

/// A temp file of [`write_atomic`] (`.<name>.tmp-<hex>`), which a killed write can leave.
pub fn is_temp_file(path: &Path) -> bool {
    path.file_name()
        .map(|n| n.to_string_lossy())
        .is_some_and(|n| n.starts_with('.') && n.contains(".tmp-"))
}

/// Removes the temp files a killed [`write_atomic`] of `path` left. Only for a caller holding
/// the lock every writer of `path` takes: then no other write of it is in progress.
pub fn remove_stale_temps(path: &Path) -> Result<()> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Ok(());
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!(".{}.tmp-", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(&prefix) {
            remove_if_exists(&e.path())?;
        }
    }
    Ok(())
}

/// Atomically replaces `path` with `bytes` at mode 0600 (the parent must exist), as one
/// durable step of `interrupt`: a stop waits for it.
pub fn write_atomic(interrupt: &Interrupt, path: &Path, bytes: &[u8]) -> Result<()> {
    let _durable = interrupt.durable();
    replace_file(path, bytes)
}

/// [`write_atomic`] outside any durable step, for what runs while an interrupt is being
/// reported (the outcome record of `crate::claim`).
pub fn replace_file(path: &Path, bytes: &[u8]) -> Result<()> {
    refuse_symlink(path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", random_hex(4)));
    let result = write_then_rename(&tmp, path, dir, bytes);
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn write_then_rename(tmp: &Path, path: &Path, dir: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(tmp)
        .at("cannot create", tmp)?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .at("cannot write", tmp)?;
    drop(f);
    fs::rename(tmp, path).at("cannot replace", path)?;
    sync_dir(dir)
}

/// fsync a directory so a rename in it is durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .at("cannot sync directory", dir)
}

/// An exclusive advisory lock (`flock`) on a directory, held until dropped.
///
/// The kit serialises its read–modify–write of shared files (`config.toml` and the choice of a
/// free account name, the client cache) by locking the directory itself rather than a sibling
/// lock file: mixpanel-headless reads these directories and expects no extra files in them.
#[derive(Debug)]
pub struct DirLock {
    held: File,
}

/// Waits for the exclusive lock on `dir` (which must exist).
pub fn lock_dir(dir: &Path) -> Result<DirLock> {
    flock_dir(dir, Wait::Yes).map(|l| l.expect("a blocking lock is taken"))
}

/// The lock of an account directory that is still the one at `dir` once the lock is held:
/// a directory removed or replaced (logout, a new login of the same name) while this process
/// waited is not the account any more, so the lock is taken again on what is there now.
/// `None` when nothing is at `dir`.
pub fn lock_current_dir(dir: &Path) -> Result<Option<DirLock>> {
    loop {
        let lock = match flock_dir(dir, Wait::Yes) {
            Ok(lock) => lock.expect("a blocking lock is taken"),
            Err(Error::Io { source, .. }) if source.kind() == ErrorKind::NotFound => {
                return Ok(None)
            }
            Err(e) => return Err(e),
        };
        match lock.is_at(dir) {
            Some(true) => return Ok(Some(lock)),
            Some(false) => continue,
            None => return Ok(None),
        }
    }
}

impl DirLock {
    /// Whether the locked directory is (still) the one at `path`: `None` when nothing is there.
    pub fn is_at(&self, path: &Path) -> Option<bool> {
        use std::os::unix::fs::MetadataExt;
        let there = fs::symlink_metadata(path).ok()?;
        let held = self.held.metadata().ok()?;
        Some(there.dev() == held.dev() && there.ino() == held.ino())
    }
}

/// The exclusive lock on `dir` if nobody holds it; `None` when a live process does (the kernel
/// drops the lock of a killed one).
pub fn try_lock_dir(dir: &Path) -> Result<Option<DirLock>> {
    flock_dir(dir, Wait::No)
}

fn flock_dir(dir: &Path, how: Wait) -> Result<Option<DirLock>> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .open(dir)
        // O_NOFOLLOW on a symlink fails as "not a directory": say what it is.
        .map_err(|e| {
            refuse_symlink(dir)
                .err()
                .unwrap_or_else(|| Error::io("cannot open directory", dir, e))
        })?;
    let locked = flock(&f, how).at("cannot lock directory", dir)?;
    Ok(locked.then_some(DirLock { held: f }))
}

/// Whether taking a lock waits for the process that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    Yes,
    No,
}

/// An exclusive `flock(2)` on an open file, retried when a signal interrupts the wait; `false`
/// when `Wait::No` found the lock held by another process.
pub fn flock(file: &File, wait: Wait) -> std::io::Result<bool> {
    use rustix::fs::FlockOperation;
    use rustix::io::Errno;
    let operation = match wait {
        Wait::Yes => FlockOperation::LockExclusive,
        Wait::No => FlockOperation::NonBlockingLockExclusive,
    };
    loop {
        match rustix::fs::flock(file, operation) {
            Ok(()) => return Ok(true),
            Err(Errno::INTR) => continue,
            Err(Errno::WOULDBLOCK) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
    }
}

/// What a secret file held, with its permission bits.
pub struct ReadFile {
    pub bytes: Vec<u8>,
    pub mode: u32,
}

/// Reads a file without following a symlink; `None` when it does not exist.
/// At most `limit` bytes are read; a longer file is an error.
pub fn read_no_follow(path: &Path, limit: u64) -> Result<Option<ReadFile>> {
    match open_regular(path, libc::O_NOFOLLOW, limit) {
        Ok(read) => Ok(Some(read)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(no_follow_error(path, e)),
    }
}

/// A failed read without following a symlink: a symlink is refused as such.
fn no_follow_error(path: &Path, e: std::io::Error) -> Error {
    match e.raw_os_error() {
        Some(libc::ELOOP) => Error::SymlinkRefused {
            path: path.to_path_buf(),
        },
        _ => Error::io("cannot read", path, e),
    }
}

/// Reads a file the user named (`--redirect-file`, `--me`, `--from-envelope`): a symlink is
/// followed, anything but a regular file (a FIFO, a device) is refused without blocking, and at
/// most `limit` bytes are read.
pub fn read_user_file(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    open_regular(path, 0, limit).map(|r| r.bytes)
}

/// Opens a file to read it as a stream, with the rules of [`read_no_follow`] (a missing file is
/// an error here).
pub fn open_no_follow(path: &Path) -> Result<File> {
    open_checked(path, libc::O_NOFOLLOW)
        .map(|(file, _)| file)
        .map_err(|e| no_follow_error(path, e))
}

/// Opens a file the user named to read it as a stream, with the rules of [`read_user_file`].
pub fn open_user_file(path: &Path) -> std::io::Result<File> {
    open_checked(path, 0).map(|(file, _)| file)
}

fn open_checked(path: &Path, flags: libc::c_int) -> std::io::Result<(File, std::fs::Metadata)> {
    // O_NONBLOCK: a FIFO in a file's place opens at once (and is refused below) instead of
    // waiting forever for a writer.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(flags | libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok((file, meta))
}

fn open_regular(path: &Path, flags: libc::c_int, limit: u64) -> std::io::Result<ReadFile> {
    let (file, meta) = open_checked(path, flags)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            ErrorKind::InvalidData,
            format!("larger than {limit} bytes"),
        ));
    }
    Ok(ReadFile {
        bytes,
        mode: meta.permissions().mode() & 0o777,
    })
}

/// Removes a file; a missing file is fine.
pub fn remove_if_exists(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("cannot remove", path, e)),
    }
}

/// Serializes `value` as pretty JSON with a trailing newline and writes it atomically at 0600.
pub fn write_json<T: serde::Serialize>(
    interrupt: &Interrupt,
    path: &Path,
    value: &T,
) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("kit types serialize");
    bytes.push(b'\n');
    write_atomic(interrupt, path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn writes_are_0600_and_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&Interrupt::default(), &p, b"one").unwrap();
        write_atomic(&Interrupt::default(), &p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp file is left behind");
    }

    #[test]
    fn dirs_are_0700() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("x/y");
        ensure_private_dir(&d).unwrap();
        assert_eq!(
            fs::metadata(&d).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }

    #[test]
    fn symlinks_are_refused_for_writing_and_reading() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        fs::write(&target, b"keep").unwrap();
        let link = dir.path().join("link");
        symlink(&target, &link).unwrap();
        assert_eq!(
            write_atomic(&Interrupt::default(), &link, b"x")
                .unwrap_err()
                .code(),
            "SYMLINK_REFUSED"
        );
        assert_eq!(
            read_no_follow(&link, 100).err().unwrap().code(),
            "SYMLINK_REFUSED"
        );
        assert_eq!(fs::read(&target).unwrap(), b"keep");
        assert!(read_no_follow(&dir.path().join("none"), 10)
            .unwrap()
            .is_none());
    }

    #[test]
    fn reads_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big");
        fs::write(&p, vec![b'a'; 11]).unwrap();
        assert!(read_no_follow(&p, 10).is_err());
        assert_eq!(read_no_follow(&p, 11).unwrap().unwrap().bytes.len(), 11);
    }
}
