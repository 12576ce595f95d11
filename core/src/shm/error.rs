//! Why creating or opening a segment failed ([`OpenError`]), and why an
//! operation on an open queue did not happen ([`ShmError`]).

use std::error::Error;
use std::fmt;
use std::io;

/// Why [`ShmQueue`](super::ShmQueue) could not create or open a segment.
///
/// # Examples
///
/// ```
/// use ringq::shm::{OpenError, ShmQueue};
///
/// let err = ShmQueue::open("no/slashes/in/names").unwrap_err();
/// assert!(matches!(err, OpenError::InvalidName(_)));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenError {
    /// The name is not 1 to 200 characters of `A-Z a-z 0-9 . _ -` (after an
    /// optional leading `/`), or starts with a dot.
    InvalidName(&'static str),
    /// A size in [`ShmOptions`](super::ShmOptions) is zero or too large.
    InvalidOptions(&'static str),
    /// The operating system refused: no segment of that name
    /// ([`io::ErrorKind::NotFound`]), one exists already
    /// ([`io::ErrorKind::AlreadyExists`]), no permission, no memory...
    Io(io::Error),
    /// The file does not start with a ringq segment header.
    NotRingq,
    /// The segment has a layout version this code does not read.
    Version {
        /// The version in the segment.
        found: u32,
        /// The version this code reads and writes.
        supported: u32,
    },
    /// The file is shorter than its header says.
    Truncated {
        /// The file's length.
        len: u64,
        /// The length its header implies.
        expected: u64,
    },
    /// The header holds sizes out of range, or offsets that disagree with
    /// them: a damaged or forged segment.
    BadHeader(&'static str),
    /// The segment was created in another PID or time namespace (another
    /// container), where process IDs or start times read differently, so
    /// this process could not tell whether a peer is alive.
    ForeignNamespace,
    /// Every entry of the segment's participant table belongs to a live
    /// process (see [`ShmOptions::max_participants`](super::ShmOptions::max_participants)).
    TooManyParticipants,
    /// The file's owner or mode is outside what the opener trusts (see
    /// [`Trust`](super::Trust)): another user could have created it, or can
    /// write into it. Nothing was read from it.
    Untrusted {
        /// The file's owner.
        owner: u32,
        /// The file's group.
        group: u32,
        /// The file's permission bits.
        mode: u32,
        /// Which rule it broke.
        why: &'static str,
    },
    /// Part of the segment's memory is not allocated (a sparse file, or a
    /// hole punched into it): touching those pages could kill this process
    /// with `SIGBUS` once `/dev/shm` is full, so it is not mapped.
    NotAllocated {
        /// Bytes allocated to the file.
        allocated: u64,
        /// The file's length.
        len: u64,
    },
    /// An anonymous segment's descriptor lacks the seals
    /// (`F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL`) that keep its sender
    /// from resizing it under this process.
    Unsealed,
    /// This process cannot tell which PID namespace it is in (`/proc`
    /// missing or hiding `/proc/self/ns/pid`), so it could not tell a dead
    /// peer from a live one in another namespace; it uses no segment.
    UnknownNamespace,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidName(why) => write!(f, "invalid shared-memory queue name: {why}"),
            Self::InvalidOptions(why) => write!(f, "invalid shared-memory queue options: {why}"),
            Self::Io(e) => write!(f, "shared-memory segment: {e}"),
            Self::NotRingq => f.write_str("not a ringq shared-memory segment"),
            Self::Version { found, supported } => write!(
                f,
                "ringq segment layout version {found}, this library reads version {supported}"
            ),
            Self::Truncated { len, expected } => write!(
                f,
                "ringq segment truncated: {len} bytes, its header says {expected}"
            ),
            Self::BadHeader(why) => write!(f, "damaged ringq segment header: {why}"),
            Self::ForeignNamespace => {
                f.write_str("ringq segment belongs to another PID or time namespace")
            }
            Self::TooManyParticipants => {
                f.write_str("every participant entry of the ringq segment is in use")
            }
            Self::Untrusted {
                owner,
                group,
                mode,
                why,
            } => write!(
                f,
                "refusing the shared-memory segment: {why} (owner uid {owner}, group {group}, \
                 mode {mode:03o}; this process runs as uid {}; see ringq::shm::Trust to widen \
                 what is trusted)",
                effective_uid()
            ),
            Self::NotAllocated { allocated, len } => write!(
                f,
                "refusing the shared-memory segment: only {allocated} of its {len} bytes are \
                 allocated, and touching the rest could fault"
            ),
            Self::Unsealed => f.write_str(
                "refusing the anonymous shared-memory segment: its descriptor is not sealed \
                 against resizing (F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_SEAL)",
            ),
            Self::UnknownNamespace => f.write_str(
                "cannot tell which PID namespace this process is in (/proc/self/ns/pid is \
                 unreadable), so dead peers could not be told from live ones",
            ),
        }
    }
}

fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

impl Error for OpenError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for OpenError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl Clone for OpenError {
    /// `io::Error` is not `Clone`; a clone keeps its kind and text.
    fn clone(&self) -> Self {
        match self {
            Self::InvalidName(w) => Self::InvalidName(w),
            Self::InvalidOptions(w) => Self::InvalidOptions(w),
            Self::Io(e) => Self::Io(io::Error::new(e.kind(), e.to_string())),
            Self::NotRingq => Self::NotRingq,
            Self::Version { found, supported } => Self::Version {
                found: *found,
                supported: *supported,
            },
            Self::Truncated { len, expected } => Self::Truncated {
                len: *len,
                expected: *expected,
            },
            Self::BadHeader(w) => Self::BadHeader(w),
            Self::ForeignNamespace => Self::ForeignNamespace,
            Self::TooManyParticipants => Self::TooManyParticipants,
            Self::Untrusted {
                owner,
                group,
                mode,
                why,
            } => Self::Untrusted {
                owner: *owner,
                group: *group,
                mode: *mode,
                why,
            },
            Self::NotAllocated { allocated, len } => Self::NotAllocated {
                allocated: *allocated,
                len: *len,
            },
            Self::Unsealed => Self::Unsealed,
            Self::UnknownNamespace => Self::UnknownNamespace,
        }
    }
}

/// Why an operation on a [`ShmQueue`](super::ShmQueue) did not happen.
///
/// Each method's `# Errors` section says which of these it returns.
///
/// # Examples
///
/// ```
/// use ringq::shm::{ShmError, ShmOptions, ShmQueue};
///
/// let q = ShmQueue::create_anonymous(&ShmOptions::new(1, 8)).unwrap();
/// q.try_push(b"one").unwrap();
/// assert_eq!(q.try_push(b"two"), Err(ShmError::Full));
/// assert_eq!(
///     q.try_push(b"far too long"),
///     Err(ShmError::TooLarge { len: 12, max: 8 })
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ShmError {
    /// A non-blocking push found no room.
    Full,
    /// A non-blocking pop found no message ready.
    Empty,
    /// The queue is closed: pushes are refused, and pops report this once
    /// every message pushed before the close is gone.
    Closed,
    /// A push, pop or join with a deadline gave up.
    TimedOut,
    /// The message is longer than the queue's maximum message size. Nothing
    /// was pushed.
    TooLarge {
        /// The message's length.
        len: usize,
        /// The queue's maximum message size.
        max: usize,
    },
    /// [`task_done`](super::ShmQueue::task_done) was called more times than
    /// tasks were added.
    TaskDoneTooOften,
    /// The shared memory holds something no correct participant writes (a
    /// bug, or a hostile process with write access to the segment). The
    /// call did nothing else; when the damage was in a message, that message
    /// was dropped.
    Corrupt(&'static str),
    /// A forked child needed its own participant entry (see
    /// [`ShmQueue`](super::ShmQueue)'s fork notes) and every entry belongs to
    /// a live process.
    TooManyParticipants,
    /// The handle was copied by `fork` into a process of another PID or time
    /// namespace than the segment's (or one whose `/proc` cannot tell which),
    /// where it could not tell a dead peer from a live one. Open the queue
    /// again from a process that shares the peers' namespaces.
    ForeignNamespace,
}

impl fmt::Display for ShmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full => f.write_str("queue is full"),
            Self::Empty => f.write_str("queue is empty"),
            Self::Closed => f.write_str("queue is closed"),
            Self::TimedOut => f.write_str("timed out"),
            Self::TooLarge { len, max } => write!(
                f,
                "message of {len} bytes is larger than the queue's maximum of {max}"
            ),
            Self::TaskDoneTooOften => {
                f.write_str("task_done called more times than tasks were added")
            }
            Self::Corrupt(what) => write!(f, "corrupt shared-memory queue: {what}"),
            Self::TooManyParticipants => {
                f.write_str("every participant entry of the ringq segment is in use")
            }
            Self::ForeignNamespace => f.write_str(
                "this handle was carried into another PID or time namespace than the queue's \
                 (or one whose /proc cannot tell), where peers' liveness cannot be judged",
            ),
        }
    }
}

impl Error for ShmError {}
