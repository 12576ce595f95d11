//! Creating, opening and mapping segment files: named ones under `/dev/shm`
//! (where POSIX `shm_open` puts them on Linux) and anonymous ones made with
//! `memfd_create`.
//!
//! A named segment appears under its name only once it is complete: it is
//! created as an unnamed `O_TMPFILE` in `/dev/shm`, initialised, then given
//! its name with `linkat`, which fails if the name is taken. So an opener
//! never sees a half-written header, and two creators of one name cannot
//! both succeed. Where `O_TMPFILE` or `/proc` is missing, a uniquely named
//! temporary file and `link` do the same, at the cost of leaving that file
//! behind if the creator dies during initialisation.
//!
//! The memory of a segment is allocated when it is created
//! (`posix_fallocate`), so a full `/dev/shm` is an error then, not a
//! `SIGBUS` on some later write.
#![cfg(not(loom))]

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::OpenError;
use super::layout::{Layout, Namespace, Namespaces, IDENTITY_SIZE};
use super::trust::Trust;

/// Where named segments live.
pub(crate) const SHM_DIR: &str = "/dev/shm";
/// The longest name accepted.
pub(crate) const MAX_NAME_LEN: usize = 200;

/// Checks a segment name and returns it without its optional leading `/`.
///
/// # Errors
///
/// [`OpenError::InvalidName`] for an empty or too long name, a character
/// outside `A-Z a-z 0-9 . _ -`, or a leading dot (which also rules out `.`
/// and `..`).
pub(crate) fn validate_name(name: &str) -> Result<&str, OpenError> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    if bare.is_empty() {
        return Err(OpenError::InvalidName("empty"));
    }
    if bare.len() > MAX_NAME_LEN {
        return Err(OpenError::InvalidName("longer than 200 bytes"));
    }
    if bare.starts_with('.') {
        return Err(OpenError::InvalidName("starts with a dot"));
    }
    if !bare
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(OpenError::InvalidName(
            "only A-Z a-z 0-9 . _ - are allowed (and one leading /)",
        ));
    }
    Ok(bare)
}

fn path_of(bare: &str) -> CString {
    CString::new(format!("{SHM_DIR}/{bare}")).expect("validated names hold no NUL")
}

fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// A shared, read-write mapping of a whole segment file.
#[derive(Debug)]
pub(crate) struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory that every thread may access; the
// segment code only touches it through atomics (see `segment.rs`).
unsafe impl Send for Mapping {}
// SAFETY: as above.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps the first `len` bytes of `fd`, shared and writable.
    fn new(fd: BorrowedFd<'_>, len: usize) -> io::Result<Self> {
        // SAFETY: a fresh mapping at an address the kernel picks; it aliases
        // no Rust object. `len` is non-zero (layouts are at least 3 pages).
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| io::Error::new(io::ErrorKind::Other, "mmap gave NULL"))?;
        Ok(Self { ptr, len })
    }

    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr..ptr + len` is a mapping this value owns, and no
        // reference into it outlives `self` (every accessor borrows it).
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// A new segment file, mapped, not yet visible under a name.
pub(crate) struct NewSegment {
    pub(crate) map: Mapping,
    pub(crate) file: NewFile,
}

/// The file of a [`NewSegment`], until it is published.
pub(crate) struct NewFile {
    fd: OwnedFd,
    /// The temporary name to remove, when `O_TMPFILE` was not available.
    temp_name: TempName,
}

impl NewSegment {
    /// An unnamed file in `/dev/shm` of `len` bytes with exactly `mode`,
    /// mapped. `prefer_tmpfile` false forces the fallback (for tests).
    pub(crate) fn in_shm_dir(
        len: usize,
        mode: u32,
        prefer_tmpfile: bool,
    ) -> Result<Self, OpenError> {
        let dir = CString::new(SHM_DIR).expect("no NUL");
        let flags = libc::O_RDWR | libc::O_CLOEXEC;
        let tmpfile = if prefer_tmpfile {
            // SAFETY: a NUL-terminated path; the returned descriptor is ours.
            let fd =
                unsafe { libc::open(dir.as_ptr(), flags | libc::O_TMPFILE, mode as libc::c_uint) };
            if fd >= 0 {
                // SAFETY: `fd` was just opened and is owned by nothing else.
                Some(unsafe { OwnedFd::from_raw_fd(fd) })
            } else {
                let err = io::Error::last_os_error();
                match err.raw_os_error() {
                    Some(libc::EOPNOTSUPP | libc::EISDIR | libc::EINVAL | libc::ENOENT) => None,
                    _ => return Err(err.into()),
                }
            }
        } else {
            None
        };
        let file = match tmpfile {
            Some(fd) => NewFile {
                fd,
                temp_name: TempName(None),
            },
            None => create_temp_file(mode)?,
        };
        Self::prepare(file, len, mode)
    }

    /// An anonymous memfd segment of `len` bytes, mapped.
    pub(crate) fn memfd(len: usize) -> Result<Self, OpenError> {
        let name = CString::new("ringq-shm").expect("no NUL");
        // SAFETY: a NUL-terminated name; the returned descriptor is ours.
        let fd = unsafe {
            libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING)
        };
        let fd = cvt(fd)?;
        // SAFETY: `fd` was just created and is owned by nothing else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let file = NewFile {
            fd,
            temp_name: TempName(None),
        };
        Self::prepare(file, len, 0o600)
    }

    fn prepare(file: NewFile, len: usize, mode: u32) -> Result<Self, OpenError> {
        let fd = file.fd.as_raw_fd();
        // SAFETY: `fd` is open; fchmod sets exactly `mode`, whatever the umask.
        cvt(unsafe { libc::fchmod(fd, mode as libc::mode_t) })?;
        let off_len =
            libc::off_t::try_from(len).map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
        // SAFETY: `fd` is open. posix_fallocate returns an error number
        // rather than setting errno.
        let ret = unsafe { libc::posix_fallocate(fd, 0, off_len) };
        if ret != 0 {
            return Err(io::Error::from_raw_os_error(ret).into());
        }
        let map = Mapping::new(file.fd.as_fd(), len)?;
        Ok(Self { map, file })
    }
}

/// Writes the identity block of a new segment: everything but the magic
/// with plain writes, then the magic with a Release store, so that a
/// process that sees the magic sees the rest.
pub(crate) fn write_identity(map: &Mapping, identity: &[u8; IDENTITY_SIZE]) {
    // SAFETY: the mapping is at least one page long and not yet reachable by
    // any other thread of this process; other processes only read the block
    // after the magic, which is stored last.
    unsafe {
        std::ptr::copy_nonoverlapping(
            identity.as_ptr().add(8),
            map.as_ptr().add(8),
            IDENTITY_SIZE - 8,
        );
    }
    let magic = u64::from_ne_bytes(identity[..8].try_into().expect("8 bytes"));
    // SAFETY: offset 0 of a page-aligned mapping is aligned for `AtomicU64`
    // and inside it.
    let word = unsafe { &*map.as_ptr().cast::<AtomicU64>() };
    // Release: publishes the identity block written above.
    word.store(magic, Ordering::Release);
}

impl NewFile {
    /// Gives the segment its name. Fails with `AlreadyExists` if the name is
    /// taken; the segment then disappears with its descriptor.
    pub(crate) fn publish(&mut self, bare_name: &str) -> Result<(), OpenError> {
        let target = path_of(bare_name);
        match &self.temp_name.0 {
            None => {
                let proc_path =
                    CString::new(format!("/proc/self/fd/{}", self.fd.as_raw_fd())).expect("no NUL");
                // SAFETY: two NUL-terminated paths; linkat touches no memory
                // of ours besides them.
                let ret = unsafe {
                    libc::linkat(
                        libc::AT_FDCWD,
                        proc_path.as_ptr(),
                        libc::AT_FDCWD,
                        target.as_ptr(),
                        libc::AT_SYMLINK_FOLLOW,
                    )
                };
                cvt(ret)?;
            }
            Some(temp) => {
                // SAFETY: two NUL-terminated paths.
                let ret = unsafe { libc::link(temp.as_ptr(), target.as_ptr()) };
                cvt(ret)?;
            }
        }
        Ok(())
    }

    /// Adds the seals that keep anyone from resizing an anonymous segment,
    /// which would make every process's accesses to it fault.
    pub(crate) fn seal(&self) -> io::Result<()> {
        let seals = libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_SEAL;
        // SAFETY: `fd` is an open memfd created with MFD_ALLOW_SEALING.
        cvt(unsafe { libc::fcntl(self.fd.as_raw_fd(), libc::F_ADD_SEALS, seals) })?;
        Ok(())
    }

    /// The descriptor, once the file is published (or needs no name); drops
    /// the temporary name, if any.
    pub(crate) fn into_fd(self) -> OwnedFd {
        self.fd
    }
}

/// Removes a temporary file name when dropped.
struct TempName(Option<CString>);

impl Drop for TempName {
    fn drop(&mut self) {
        if let Some(name) = &self.0 {
            // SAFETY: a NUL-terminated path.
            unsafe { libc::unlink(name.as_ptr()) };
        }
    }
}

/// Creates `/dev/shm/.ringq-<pid>-<n>`, exclusively, for the fallback path.
fn create_temp_file(mode: u32) -> Result<NewFile, OpenError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    loop {
        // Relaxed: only uniqueness within this process matters.
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name =
            CString::new(format!("{SHM_DIR}/.ringq-{}-{n}", std::process::id())).expect("no NUL");
        let flags =
            libc::O_RDWR | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: a NUL-terminated path; the returned descriptor is ours.
        let fd = unsafe { libc::open(name.as_ptr(), flags, mode as libc::c_uint) };
        if fd >= 0 {
            // SAFETY: `fd` was just opened and is owned by nothing else.
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            return Ok(NewFile {
                fd,
                temp_name: TempName(Some(name)),
            });
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::AlreadyExists {
            return Err(err.into());
        }
    }
}

/// An existing segment, checked and mapped.
pub(crate) struct OpenedSegment {
    pub(crate) fd: OwnedFd,
    pub(crate) map: Mapping,
    pub(crate) layout: Layout,
    pub(crate) namespaces: Namespaces,
}

/// Opens the segment called `bare_name` (validated), if `trust` accepts
/// the file's owner and mode (checked on the descriptor opened, so the
/// name cannot be swapped in between).
pub(crate) fn open_named(bare_name: &str, trust: &Trust) -> Result<OpenedSegment, OpenError> {
    let path = path_of(bare_name);
    let flags = libc::O_RDWR | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: a NUL-terminated path; the returned descriptor is ours.
    let fd = cvt(unsafe { libc::open(path.as_ptr(), flags) })?;
    // SAFETY: `fd` was just opened and is owned by nothing else.
    let file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    let meta = regular_file(&file)?;
    trust.check(&meta)?;
    map_segment(file, &meta)
}

/// Checks and maps the segment open as `fd` (which it keeps). A descriptor
/// without a name (a memfd) must be sealed against resizing, since its
/// sender could otherwise shrink it under this process; a named file's
/// mode is what protects it, and whoever passed its descriptor chose it.
pub(crate) fn open_fd(fd: OwnedFd) -> Result<OpenedSegment, OpenError> {
    let file = File::from(fd);
    let meta = regular_file(&file)?;
    if meta.nlink() == 0 && !is_sealed(file.as_fd()) {
        return Err(OpenError::Unsealed);
    }
    map_segment(file, &meta)
}

fn regular_file(file: &File) -> Result<std::fs::Metadata, OpenError> {
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(OpenError::NotRingq);
    }
    Ok(meta)
}

/// Whether the file carries the seals [`NewFile::seal`] adds.
fn is_sealed(fd: BorrowedFd<'_>) -> bool {
    let needed = libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_SEAL;
    // SAFETY: F_GET_SEALS only reads the file's seals (EINVAL where the file
    // cannot have any).
    let seals = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
    seals >= 0 && seals & needed == needed
}

/// Checks the header and allocation of an opened segment file, then maps it.
fn map_segment(file: File, meta: &std::fs::Metadata) -> Result<OpenedSegment, OpenError> {
    let len = meta.len();
    if len < super::layout::HEADER_SIZE as u64 {
        return Err(if len < 8 {
            OpenError::NotRingq
        } else {
            OpenError::Truncated {
                len,
                expected: super::layout::HEADER_SIZE as u64,
            }
        });
    }
    // A private copy: another process cannot change it while it is checked.
    let mut identity = [0u8; IDENTITY_SIZE];
    file.read_exact_at(&mut identity, 0)?;
    let (layout, namespaces) = Layout::from_identity(&identity, len)?;
    // A page that is not allocated is allocated when first written through
    // the mapping, and that fails with SIGBUS when /dev/shm is full.
    // Creators allocate every page (`prepare`), so a file with fewer blocks
    // than bytes is sparse or had a hole punched in it. `st_blocks` counts
    // allocated 512-byte units, swapped-out pages included, and reading it
    // touches no page (nor did `pread`ing the header: a hole reads zeros).
    let allocated = meta.blocks().saturating_mul(512);
    if allocated < len {
        return Err(OpenError::NotAllocated { allocated, len });
    }
    let fd = OwnedFd::from(file);
    let map = Mapping::new(fd.as_fd(), layout.total)?;
    Ok(OpenedSegment {
        fd,
        map,
        layout,
        namespaces,
    })
}

/// Removes the name of a segment (validated). Processes that have it open
/// keep using it; the memory goes when the last one closes it.
pub(crate) fn unlink(bare_name: &str) -> io::Result<()> {
    let path = path_of(bare_name);
    // SAFETY: a NUL-terminated path.
    cvt(unsafe { libc::unlink(path.as_ptr()) })?;
    Ok(())
}

/// This process's PID and time namespaces; an unknown (zero) time one on
/// a kernel without time namespaces.
///
/// # Errors
///
/// [`OpenError::UnknownNamespace`] when `/proc` cannot tell the PID
/// namespace (no `/proc`, or one of another namespace's that hides it).
pub(crate) fn own_namespaces() -> Result<Namespaces, OpenError> {
    let ns = |path| {
        std::fs::metadata(path)
            .map(|m| Namespace {
                dev: m.dev(),
                ino: m.ino(),
            })
            .unwrap_or_default()
    };
    let own = Namespaces {
        pid: ns("/proc/self/ns/pid"),
        time: ns("/proc/self/ns/time"),
    };
    if !own.pid.is_known() {
        return Err(OpenError::UnknownNamespace);
    }
    Ok(own)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        assert_eq!(validate_name("/jobs").unwrap(), "jobs");
        assert_eq!(validate_name("a.b_c-D9").unwrap(), "a.b_c-D9");
        for bad in ["", "/", ".hidden", "..", "a/b", "a b", "ü", "a\0b", "//x"] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
        assert!(validate_name(&"x".repeat(200)).is_ok());
        assert!(validate_name(&"x".repeat(201)).is_err());
    }
}
