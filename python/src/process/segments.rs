//! Named segments: who removes the name, and when.
//!
//! The name of a queue created by name lasts as long as the object that
//! created it, and never longer than its process (see
//! `ringq/_segments.py`, which this module reports to): the object removes
//! it when it is dropped, the package's `atexit` hook when the process
//! exits, and the package's reaper process (`ringq/_reaper.py`) when the
//! process is killed. A name is only ever removed while it still refers to
//! the segment that was created (same device and inode), so a later queue
//! of the same name is safe from an old handle and from the reaper.

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;

use pyo3::exceptions::PyFileNotFoundError;
use pyo3::prelude::*;
use ringq::shm::ShmQueue;

use super::errors;

/// Device and inode: which file a name or descriptor refers to.
type FileId = (u64, u64);

fn file_id_of_queue(queue: &ShmQueue) -> io::Result<FileId> {
    let meta = File::from(queue.fd().try_clone_to_owned()?).metadata()?;
    Ok((meta.dev(), meta.ino()))
}

fn file_id_of_name(name: &str) -> io::Result<FileId> {
    let meta = std::fs::metadata(format!("/dev/shm/{}", errors::bare(name)))?;
    Ok((meta.dev(), meta.ino()))
}

/// A segment this process created under a name, and must remove.
#[derive(Debug)]
pub(crate) struct CreatedName {
    name: String,
    pid: u32,
}

impl CreatedName {
    /// Records that this process created `queue` under `name`.
    ///
    /// # Errors
    ///
    /// If the reaper cannot be started or told; the caller then removes the
    /// name itself.
    pub(crate) fn register(py: Python<'_>, name: &str, queue: &ShmQueue) -> PyResult<Self> {
        let (dev, ino) = file_id_of_queue(queue)?;
        py.import("ringq._segments")?
            .call_method1("created", (name, dev, ino))?;
        Ok(Self {
            name: name.to_owned(),
            pid: std::process::id(),
        })
    }

    /// Removes the name if this is the process that created it (not a
    /// child that inherited the handle through `fork`) and the name still
    /// refers to `queue`'s segment. Errors are ignored: this runs when the
    /// handle is dropped, and a name someone else removed is no error.
    pub(crate) fn remove_on_drop(&self, queue: &ShmQueue) {
        if self.pid != std::process::id() {
            return;
        }
        let _ = unlink_if_same(&self.name, queue);
        // The interpreter may be shutting down, after the atexit hook
        // already forgot the name.
        Python::try_attach(|py| {
            let _ = py
                .import("ringq._segments")
                .and_then(|m| m.call_method1("removed", (self.name.as_str(),)));
        });
    }

    /// Tells the package the name is gone (after an explicit unlink).
    pub(crate) fn forget(&self, py: Python<'_>) -> PyResult<()> {
        if self.pid == std::process::id() {
            py.import("ringq._segments")?
                .call_method1("removed", (self.name.as_str(),))?;
        }
        Ok(())
    }
}

/// Removes `name` if it refers to `queue`'s segment.
///
/// # Errors
///
/// `FileNotFoundError` when the name is gone or refers to another file;
/// `OSError` when the system refuses.
pub(crate) fn unlink_if_same(name: &str, queue: &ShmQueue) -> PyResult<()> {
    let same = match (file_id_of_name(name), file_id_of_queue(queue)) {
        (Ok(a), Ok(b)) => a == b,
        (Err(e), _) if e.kind() == io::ErrorKind::NotFound => false,
        (Err(e), _) | (_, Err(e)) => return Err(e.into()),
    };
    if !same {
        return Err(PyFileNotFoundError::new_err(format!(
            "/dev/shm/{} no longer names this queue's segment",
            errors::bare(name)
        )));
    }
    ShmQueue::unlink(name).map_err(|e| errors::from_open(Some(name), e))
}
