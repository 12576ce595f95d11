//! The segment's layout, version 1: a header page, the participant table,
//! then the slots, all at offsets computed from four numbers in the header.
//!
//! ```text
//! offset  size                      what
//! 0       4096                      header
//!   0       128                       identity: magic, version, sizes, offsets,
//!                                     the creator's PID and time namespaces
//!   128     8   (own 128-byte line)   tail: next position to push, closed bit
//!   256     8   (own line)            head: next position to pop
//!   384     4+4 (own line)            poppers waiting: sleepers, epoch (futex)
//!   512     4+4 (own line)            pushers waiting: sleepers, epoch (futex)
//!   640     8+4+4 (own line)          tasks: unfinished count; join sleepers, epoch
//! 4096    participants * 64, rounded up to 4096
//!                                   participant table: one 64-byte entry each
//!   0       8                         identity word (free / alive / recovering)
//!   8       4+4+4                     this participant's share of the sleepers
//!                                     (pop, push, join), for crash recovery
//! S       capacity * stride, rounded up to 4096
//!                                   slots, `stride` bytes each (a multiple of 64)
//!   0       8                         slot word
//!   8       4                         message length
//!   16      max_message               message bytes
//! ```
//!
//! Nothing in the segment is a pointer: every offset is computed by
//! [`Layout::new`] from capacity, maximum message size and participant
//! count. An opener reads the identity block with `pread` (so another
//! process cannot change it while it is checked), rebuilds the layout from
//! those numbers and compares every stored size and offset with its own, and
//! the file's length with the total. From then on it uses only its own copy
//! of the layout; the header is never read again.
// Under loom the segment is a heap model: only the sizes are used.
#![cfg_attr(loom, allow(dead_code))]

use super::error::OpenError;
use super::words::Geometry;

/// "RINGQSHM" in native byte order: the first 8 bytes of every segment.
pub(crate) const MAGIC: u64 = u64::from_ne_bytes(*b"RINGQSHM");
/// The layout this code reads and writes. Any change to the layout or to the
/// meaning of a word bumps it, and openers refuse every other version.
pub const LAYOUT_VERSION: u32 = 1;
/// The header's size: one page.
pub(crate) const HEADER_SIZE: usize = 4096;
/// Bytes of the identity block at the start of the header.
pub(crate) const IDENTITY_SIZE: usize = 128;

/// The most slots a segment may have.
pub const MAX_CAPACITY: usize = 1 << 24;
/// The largest `max_message_size` a segment may have: 1 GiB.
pub const MAX_MESSAGE_SIZE: usize = 1 << 30;
/// The most participants (attached handles) a segment may have.
pub const MAX_PARTICIPANTS: usize = super::words::MAX_OWNER as usize;
/// The largest segment: 1 TiB.
pub(crate) const MAX_TOTAL: u64 = 1 << 40;

const PAGE: usize = 4096;
const ENTRY_SIZE: usize = 64;
const SLOT_HEADER: usize = 16;
const SLOT_ALIGN: usize = 64;

// Offsets inside the header.
const OFF_MAGIC: usize = 0;
const OFF_VERSION: usize = 8;
const OFF_HEADER_SIZE: usize = 12;
const OFF_CAPACITY: usize = 16;
const OFF_MAX_MESSAGE: usize = 20;
const OFF_STRIDE: usize = 24;
const OFF_PARTICIPANTS: usize = 28;
const OFF_PARTICIPANTS_AT: usize = 32;
const OFF_SLOTS_AT: usize = 40;
const OFF_TOTAL: usize = 48;
const OFF_PID_NS_DEV: usize = 56;
const OFF_PID_NS_INO: usize = 64;
const OFF_TIME_NS_DEV: usize = 72;
const OFF_TIME_NS_INO: usize = 80;
pub(crate) const OFF_TAIL: usize = 128;
pub(crate) const OFF_HEAD: usize = 256;
pub(crate) const OFF_POP_WAITERS: usize = 384;
pub(crate) const OFF_PUSH_WAITERS: usize = 512;
pub(crate) const OFF_TASKS: usize = 640;
pub(crate) const OFF_JOIN_WAITERS: usize = 648;

// Offsets inside a participant entry and a slot.
pub(crate) const ENTRY_IDENT: usize = 0;
pub(crate) const ENTRY_POP_SLEEPERS: usize = 8;
pub(crate) const ENTRY_PUSH_SLEEPERS: usize = 12;
pub(crate) const ENTRY_JOIN_SLEEPERS: usize = 16;
pub(crate) const SLOT_WORD: usize = 0;
pub(crate) const SLOT_LEN: usize = 8;
pub(crate) const SLOT_DATA: usize = SLOT_HEADER;

/// One namespace, as its `/proc/self/ns/*` file's device and inode; all
/// zero when unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Namespace {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
}

impl Namespace {
    /// Whether `/proc` told what this namespace is.
    pub(crate) fn is_known(self) -> bool {
        self != Self::default()
    }

    /// Whether two processes share this namespace; an unknown one is not
    /// held against anyone.
    fn matches(self, other: Self) -> bool {
        !self.is_known() || !other.is_known() || self == other
    }
}

/// The namespaces a segment's liveness checks depend on. Processes in
/// another PID namespace see other PIDs; in another time namespace, other
/// start times (the kernel shifts `/proc/<pid>/stat`'s by the reader's
/// boot-time offset). Either way they could take a live process for a dead
/// one, so openers must share both with the creator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Namespaces {
    pub(crate) pid: Namespace,
    pub(crate) time: Namespace,
}

impl Namespaces {
    /// Whether a process in `self` can judge the liveness of one in `other`.
    /// Both PID namespaces must be known and the same: a PID read in an
    /// unknown one proves nothing. An unknown time namespace is a kernel
    /// without them (before Linux 5.6), where every process shares one
    /// clock.
    pub(crate) fn compatible(self, other: Self) -> bool {
        self.pid.is_known() && self.pid == other.pid && self.time.matches(other.time)
    }
}

/// Where everything is in a segment; built from the sizes, never read from
/// shared memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) geometry: Geometry,
    pub(crate) capacity: usize,
    pub(crate) max_message: usize,
    pub(crate) stride: usize,
    pub(crate) participants: usize,
    pub(crate) participants_at: usize,
    pub(crate) slots_at: usize,
    pub(crate) total: usize,
}

fn round_up(n: u64, to: u64) -> Option<u64> {
    n.checked_add(to - 1).map(|n| n / to * to)
}

impl Layout {
    /// The layout of a segment with these sizes.
    ///
    /// # Errors
    ///
    /// [`OpenError::InvalidOptions`] for a zero or too large size.
    pub(crate) fn new(
        capacity: usize,
        max_message: usize,
        participants: usize,
    ) -> Result<Self, OpenError> {
        if capacity == 0 || capacity > MAX_CAPACITY {
            return Err(OpenError::InvalidOptions(
                "capacity must be between 1 and 2^24",
            ));
        }
        if max_message == 0 || max_message > MAX_MESSAGE_SIZE {
            return Err(OpenError::InvalidOptions(
                "max_message_size must be between 1 and 2^30",
            ));
        }
        if participants == 0 || participants > MAX_PARTICIPANTS {
            return Err(OpenError::InvalidOptions(
                "max_participants must be between 1 and 1023",
            ));
        }
        let too_large = OpenError::InvalidOptions("the segment would be larger than 1 TiB");
        let stride = round_up((SLOT_HEADER + max_message) as u64, SLOT_ALIGN as u64)
            .ok_or(too_large.clone())?;
        let table =
            round_up((participants * ENTRY_SIZE) as u64, PAGE as u64).ok_or(too_large.clone())?;
        let participants_at = HEADER_SIZE as u64;
        let slots_at = participants_at + table;
        let slots = (capacity as u64)
            .checked_mul(stride)
            .and_then(|s| round_up(s, PAGE as u64))
            .ok_or(too_large.clone())?;
        let total = slots_at.checked_add(slots).ok_or(too_large.clone())?;
        if total > MAX_TOTAL || usize::try_from(total).is_err() {
            return Err(too_large);
        }
        let geometry = Geometry::new(capacity as u64).ok_or(OpenError::InvalidOptions(
            "capacity must be between 1 and 2^24",
        ))?;
        Ok(Self {
            geometry,
            capacity,
            max_message,
            stride: stride as usize,
            participants,
            participants_at: participants_at as usize,
            slots_at: slots_at as usize,
            total: total as usize,
        })
    }

    /// The identity block of a new segment of this layout. The magic comes
    /// last in the returned order of writes: see `map.rs`.
    pub(crate) fn identity(&self, ns: Namespaces) -> [u8; IDENTITY_SIZE] {
        let mut b = [0u8; IDENTITY_SIZE];
        put_u64(&mut b, OFF_MAGIC, MAGIC);
        put_u32(&mut b, OFF_VERSION, LAYOUT_VERSION);
        put_u32(&mut b, OFF_HEADER_SIZE, HEADER_SIZE as u32);
        put_u32(&mut b, OFF_CAPACITY, self.capacity as u32);
        put_u32(&mut b, OFF_MAX_MESSAGE, self.max_message as u32);
        put_u32(&mut b, OFF_STRIDE, self.stride as u32);
        put_u32(&mut b, OFF_PARTICIPANTS, self.participants as u32);
        put_u64(&mut b, OFF_PARTICIPANTS_AT, self.participants_at as u64);
        put_u64(&mut b, OFF_SLOTS_AT, self.slots_at as u64);
        put_u64(&mut b, OFF_TOTAL, self.total as u64);
        put_u64(&mut b, OFF_PID_NS_DEV, ns.pid.dev);
        put_u64(&mut b, OFF_PID_NS_INO, ns.pid.ino);
        put_u64(&mut b, OFF_TIME_NS_DEV, ns.time.dev);
        put_u64(&mut b, OFF_TIME_NS_INO, ns.time.ino);
        b
    }

    /// Checks a segment's identity block, read from a file of `file_len`
    /// bytes, and returns its layout and its creator's namespaces.
    ///
    /// # Errors
    ///
    /// [`OpenError::NotRingq`] without the magic, [`OpenError::Version`] for
    /// another layout version, [`OpenError::Truncated`] for a file shorter
    /// than its header says, [`OpenError::BadHeader`] for sizes out of range
    /// or offsets that disagree with them.
    pub(crate) fn from_identity(
        b: &[u8; IDENTITY_SIZE],
        file_len: u64,
    ) -> Result<(Self, Namespaces), OpenError> {
        if get_u64(b, OFF_MAGIC) != MAGIC {
            return Err(OpenError::NotRingq);
        }
        let version = get_u32(b, OFF_VERSION);
        if version != LAYOUT_VERSION {
            return Err(OpenError::Version {
                found: version,
                supported: LAYOUT_VERSION,
            });
        }
        if get_u32(b, OFF_HEADER_SIZE) as usize != HEADER_SIZE {
            return Err(OpenError::BadHeader("header size"));
        }
        let layout = Self::new(
            get_u32(b, OFF_CAPACITY) as usize,
            get_u32(b, OFF_MAX_MESSAGE) as usize,
            get_u32(b, OFF_PARTICIPANTS) as usize,
        )
        .map_err(|_| OpenError::BadHeader("capacity, message size or participants out of range"))?;
        if get_u32(b, OFF_STRIDE) as usize != layout.stride
            || get_u64(b, OFF_PARTICIPANTS_AT) != layout.participants_at as u64
            || get_u64(b, OFF_SLOTS_AT) != layout.slots_at as u64
            || get_u64(b, OFF_TOTAL) != layout.total as u64
        {
            return Err(OpenError::BadHeader(
                "offsets or sizes disagree with the layout",
            ));
        }
        if file_len < layout.total as u64 {
            return Err(OpenError::Truncated {
                len: file_len,
                expected: layout.total as u64,
            });
        }
        if file_len > layout.total as u64 {
            return Err(OpenError::BadHeader("the file is longer than its layout"));
        }
        let ns = Namespaces {
            pid: Namespace {
                dev: get_u64(b, OFF_PID_NS_DEV),
                ino: get_u64(b, OFF_PID_NS_INO),
            },
            time: Namespace {
                dev: get_u64(b, OFF_TIME_NS_DEV),
                ino: get_u64(b, OFF_TIME_NS_INO),
            },
        };
        Ok((layout, ns))
    }

    /// The offset of participant entry `index` (below `participants`).
    pub(crate) fn entry_at(&self, index: usize) -> usize {
        debug_assert!(index < self.participants);
        self.participants_at + index * ENTRY_SIZE
    }

    /// The offset of slot `index` (below `capacity`).
    pub(crate) fn slot_at(&self, index: usize) -> usize {
        debug_assert!(index < self.capacity);
        self.slots_at + index * self.stride
    }
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_ne_bytes());
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_ne_bytes());
}

fn get_u32(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn get_u64(b: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layout_reads_back_from_its_identity() {
        let l = Layout::new(5, 100, 3).unwrap();
        assert_eq!(l.stride, 128);
        assert_eq!(l.participants_at, 4096);
        assert_eq!(l.slots_at, 8192);
        assert_eq!(l.total, 8192 + 4096);
        let ns = Namespaces {
            pid: Namespace { dev: 7, ino: 9 },
            time: Namespace { dev: 7, ino: 11 },
        };
        let (back, back_ns) = Layout::from_identity(&l.identity(ns), l.total as u64).unwrap();
        assert_eq!((back, back_ns), (l, ns));
    }

    #[test]
    fn every_header_field_is_checked() {
        let l = Layout::new(5, 100, 3).unwrap();
        let good = l.identity(Namespaces::default());
        let len = l.total as u64;
        let with = |at: usize, v: u32| {
            let mut b = good;
            put_u32(&mut b, at, v);
            Layout::from_identity(&b, len)
        };
        assert!(matches!(with(0, 0), Err(OpenError::NotRingq)));
        assert!(matches!(
            with(OFF_VERSION, 2),
            Err(OpenError::Version { found: 2, .. })
        ));
        assert!(matches!(
            with(OFF_HEADER_SIZE, 8192),
            Err(OpenError::BadHeader(_))
        ));
        assert!(matches!(
            with(OFF_CAPACITY, 0),
            Err(OpenError::BadHeader(_))
        ));
        assert!(matches!(
            with(OFF_CAPACITY, u32::MAX),
            Err(OpenError::BadHeader(_))
        ));
        // A capacity whose slots no longer fit the stored total.
        assert!(matches!(
            with(OFF_CAPACITY, 40),
            Err(OpenError::BadHeader(_))
        ));
        assert!(matches!(
            with(OFF_MAX_MESSAGE, u32::MAX),
            Err(OpenError::BadHeader(_))
        ));
        assert!(matches!(with(OFF_STRIDE, 64), Err(OpenError::BadHeader(_))));
        assert!(matches!(
            with(OFF_PARTICIPANTS, 0),
            Err(OpenError::BadHeader(_))
        ));
        assert!(matches!(
            with(OFF_PARTICIPANTS, 5000),
            Err(OpenError::BadHeader(_))
        ));
        assert!(matches!(
            Layout::from_identity(&good, len - 1),
            Err(OpenError::Truncated { .. })
        ));
        assert!(matches!(
            Layout::from_identity(&good, len + 1),
            Err(OpenError::BadHeader(_))
        ));
    }

    #[test]
    fn pid_namespaces_must_be_known_and_match_and_time_ones_unless_unknown() {
        let a = Namespace { dev: 1, ino: 2 };
        let b = Namespace { dev: 1, ino: 3 };
        let unknown = Namespace::default();
        let ns = |pid, time| Namespaces { pid, time };
        assert!(ns(a, a).compatible(ns(a, a)));
        assert!(!ns(a, a).compatible(ns(b, a)));
        assert!(!ns(a, a).compatible(ns(a, b)));
        assert!(ns(a, unknown).compatible(ns(a, b)));
        assert!(!ns(unknown, a).compatible(ns(b, a)));
        assert!(!ns(a, a).compatible(ns(unknown, a)));
        assert!(!ns(unknown, a).compatible(ns(unknown, a)));
    }

    #[test]
    fn absurd_options_are_refused() {
        assert!(Layout::new(0, 1, 1).is_err());
        assert!(Layout::new(MAX_CAPACITY + 1, 1, 1).is_err());
        assert!(Layout::new(1, 0, 1).is_err());
        assert!(Layout::new(1, MAX_MESSAGE_SIZE + 1, 1).is_err());
        assert!(Layout::new(1, 1, 0).is_err());
        assert!(Layout::new(1, 1, MAX_PARTICIPANTS + 1).is_err());
        // 2^24 slots of 1 GiB each: far past the total limit.
        assert!(Layout::new(MAX_CAPACITY, MAX_MESSAGE_SIZE, 1).is_err());
        assert!(Layout::new(MAX_CAPACITY, 1, MAX_PARTICIPANTS).is_ok());
    }
}
