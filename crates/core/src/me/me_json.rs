//! `me.json` written as the body goes by: one temp file per level of the body (top and
//! `results`); the one that is the body is renamed into place at the end.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::interrupt::{Interrupt, TempFile};
use crate::store;

/// Which part of `me.json` is being written: the top level, or `results`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Top,
    Results,
}

struct PartFile<'a> {
    tmp: PathBuf,
    w: BufWriter<File>,
    _removed_on_stop: TempFile<'a>,
}

/// `me.json` while it is written: one temporary file per level of the body (the top level and
/// `results`, which the live API wraps the body in), each `.me.json.tmp-<hex>` beside the
/// target. [`MeJson::commit`] renames the one that is the body; dropping it removes them.
pub struct MeJson<'a> {
    interrupt: &'a Interrupt,
    path: PathBuf,
    parts: [Option<PartFile<'a>>; 2],
    /// Where writes go; at the end, the part that is the body.
    current: Part,
    pub(super) failed: Option<io::Error>,
}

impl<'a> MeJson<'a> {
    /// Starts writing `path` (stale temporary files of an earlier, killed write are removed).
    pub fn create(interrupt: &'a Interrupt, path: &Path) -> Result<MeJson<'a>> {
        store::refuse_symlink(path)?;
        store::remove_stale_temps(path)?;
        Ok(MeJson {
            interrupt,
            path: path.to_path_buf(),
            parts: [None, None],
            current: Part::Top,
            failed: None,
        })
    }

    fn slot(part: Part) -> usize {
        match part {
            Part::Top => 0,
            Part::Results => 1,
        }
    }

    /// Writes to `part` from now on.
    fn switch(&mut self, part: Part) {
        self.current = part;
    }

    /// Writes `results` from now on, from its start: a repeated `results` replaces the earlier.
    fn restart_results(&mut self) {
        self.current = Part::Results;
        if let Some(PartFile {
            tmp,
            w,
            _removed_on_stop,
        }) = self.parts[1].take()
        {
            // Drop what is buffered, then empty the file.
            let (mut file, _) = w.into_parts();
            if let Err(e) = file.set_len(0).and_then(|()| file.rewind()) {
                self.failed.get_or_insert(e);
            }
            self.parts[1] = Some(PartFile {
                tmp,
                w: BufWriter::with_capacity(1 << 16, file),
                _removed_on_stop,
            });
        }
    }

    fn writer(&mut self) -> io::Result<&mut BufWriter<File>> {
        let slot = &mut self.parts[Self::slot(self.current)];
        if slot.is_none() {
            let dir = self.path.parent().unwrap_or(Path::new("."));
            let name = self.path.file_name().unwrap_or_default().to_string_lossy();
            let tmp = dir.join(format!(".{name}.tmp-{}", store::random_hex(4)));
            // Registered and created in one durable step: an interrupt between the two would
            // remove the file before it exists and leave it behind.
            let _creating = self.interrupt.durable();
            let registered = self.interrupt.temp_file(&tmp);
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&tmp)?;
            *slot = Some(PartFile {
                tmp,
                w: BufWriter::with_capacity(1 << 16, file),
                _removed_on_stop: registered,
            });
        }
        Ok(&mut slot.as_mut().expect("just made").w)
    }

    /// Forgets what was written (the body is read again from its start).
    pub(super) fn restart(&mut self) {
        for part in self.parts.iter_mut().filter_map(Option::take) {
            let _ = fs::remove_file(&part.tmp);
        }
        self.current = Part::Top;
        self.failed = None;
    }

    /// Makes the part that is the body `me.json`: flushed, synced, renamed over `path`.
    pub fn commit(mut self) -> Result<()> {
        let at = &self.path.clone();
        if let Some(e) = self.failed.take() {
            return Err(Error::io("cannot write", at, e));
        }
        let Some(PartFile { tmp, w, .. }) = self.parts[Self::slot(self.current)].take() else {
            return Err(Error::io(
                "cannot write",
                at,
                io::Error::other("no body was written"),
            ));
        };
        let _durable = self.interrupt.durable();
        let done = w
            .into_inner()
            .map_err(io::IntoInnerError::into_error)
            .and_then(|f| f.sync_all())
            .at("cannot write", &tmp)
            .and_then(|()| fs::rename(&tmp, at).at("cannot replace", at));
        if done.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        done?;
        drop(self);
        store::sync_dir(at.parent().unwrap_or(Path::new(".")))
    }
}

/// What the walker marks in `me.json` between values.
pub enum Mark {
    /// A `results` object begins (again: a repeated key keeps the last).
    RestartResults,
    /// What follows belongs to this part.
    Switch(Part),
}

impl crate::json::Tee for &mut MeJson<'_> {
    type Mark = Mark;
    fn mark(&mut self, mark: Mark) {
        match mark {
            Mark::RestartResults => self.restart_results(),
            Mark::Switch(part) => self.switch(part),
        }
    }
}

impl Write for MeJson<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.writer()?.write(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer()?.flush()
    }
}

impl Drop for MeJson<'_> {
    fn drop(&mut self) {
        for part in self.parts.iter().flatten() {
            let _ = fs::remove_file(&part.tmp);
        }
    }
}
