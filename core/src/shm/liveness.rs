//! Which process a participant is, and whether it is still alive.
//!
//! A process is named by its PID *and its start time* (field 22 of
//! `/proc/<pid>/stat`, in clock ticks since boot): a PID alone can be
//! reused by a new process once the old one is gone, but the pair names one
//! process for as long as the machine is up. A segment does not outlive a
//! reboot, so that is long enough.
//!
//! The check leans towards "alive" whenever it cannot be sure (no `/proc`,
//! a PID that exists but is hidden): mistaking a dead process for a live one
//! only delays recovery, while the opposite would hand a live process's slot
//! to another.
//!
//! A forked child is a new process with a copy of its parent's handles. A
//! `pthread_atfork` handler counts forks ([`fork_generation`]), so a handle
//! notices that it has been copied into a child and takes a participant
//! entry of the child's own before its next operation.
//!
//! Under loom, processes are simulated: each handle of a model gets a model
//! PID, and killing it sets a flag in the model segment.

/// One process: PID and start time. Both fit the participant entry's word
/// (22 and 40 bits; Linux PIDs are below 2^22).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ProcessId {
    pub(crate) pid: u32,
    pub(crate) start: u64,
}

/// Bits kept of a start time.
pub(crate) const START_BITS: u32 = 40;
/// Bits of a PID.
pub(crate) const PID_BITS: u32 = 22;

#[cfg(not(loom))]
pub(crate) use real::{current, fork_generation, is_alive, AliveCache};

#[cfg(not(loom))]
mod real {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Once;

    use super::{ProcessId, PID_BITS, START_BITS};
    use crate::shm::segment::Segment;

    /// Forks seen by this process's line of descent: a child starts with
    /// its parent's count plus one.
    static FORKS: AtomicU64 = AtomicU64::new(0);
    /// `(forks << 1) | 1` when `IDENTITY` is valid for that generation.
    static IDENTITY_GEN: AtomicU64 = AtomicU64::new(0);
    /// This process's identity, packed as in a participant entry.
    static IDENTITY: AtomicU64 = AtomicU64::new(0);

    extern "C" fn after_fork_in_child() {
        // Relaxed: the child has a single thread at this point, and every
        // thread it starts later is ordered after this by its creation.
        FORKS.fetch_add(1, Ordering::Relaxed);
    }

    /// The number of forks between the first process that used a segment
    /// and this one. A handle records it when it attaches, and re-attaches
    /// when it changes.
    #[inline]
    pub(crate) fn fork_generation() -> u64 {
        static REGISTER: Once = Once::new();
        REGISTER.call_once(|| {
            // SAFETY: registers a handler that only increments an atomic,
            // which is async-signal-safe as a fork child handler must be.
            // Failure (ENOMEM) leaves forks undetected; the queues then
            // behave as before this check existed, so it is ignored.
            unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
        });
        // Relaxed: see `after_fork_in_child`.
        FORKS.load(Ordering::Relaxed)
    }

    /// This process. Reads `/proc/self/stat` once per fork generation.
    pub(crate) fn current() -> ProcessId {
        let generation = (fork_generation() << 1) | 1;
        // Acquire: pairs with the Release store of the generation below, so
        // the identity read after it is at least as new. Threads that see a
        // stale generation recompute the same identity.
        if IDENTITY_GEN.load(Ordering::Acquire) == generation {
            // Relaxed: ordered by the Acquire above.
            return unpack(IDENTITY.load(Ordering::Relaxed));
        }
        let pid = std::process::id();
        let start = read_stat(pid).map_or(0, |s| s.start);
        let me = ProcessId { pid, start };
        // Relaxed, then Release: a thread that sees the generation sees the
        // identity stored before it.
        IDENTITY.store(pack(me), Ordering::Relaxed);
        IDENTITY_GEN.store(generation, Ordering::Release);
        me
    }

    /// The last process a handle found alive, and when. A stalled slot is
    /// usually held by a live process that was descheduled mid-write, and
    /// every attempt on it would otherwise read `/proc` again; within
    /// [`AliveCache::FRESH`] of a check, the same answer is given. A stale
    /// "alive" only delays recovery by that long.
    ///
    /// Two atomics, not a lock: a handle must stay usable in a child forked
    /// while another thread was in here. A torn pair costs at worst one
    /// more `/proc` read, or one more short delay.
    #[derive(Debug, Default)]
    pub(crate) struct AliveCache {
        /// The packed process (as in `IDENTITY`), 0 for none.
        who: AtomicU64,
        /// `CLOCK_MONOTONIC` nanoseconds of the check.
        at: AtomicU64,
    }

    impl AliveCache {
        const FRESH_NS: u64 = 1_000_000;

        /// Whether `p` is alive, from the cache when it is fresh.
        pub(crate) fn is_alive(&self, seg: &Segment, p: ProcessId) -> bool {
            let key = pack(p);
            let now = monotonic_ns();
            // Relaxed: a hint; see the type's docs.
            if self.who.load(Ordering::Relaxed) == key
                && now.saturating_sub(self.at.load(Ordering::Relaxed)) < Self::FRESH_NS
            {
                return true;
            }
            let alive = is_alive(seg, p);
            if alive {
                // Relaxed: as above.
                self.at.store(now, Ordering::Relaxed);
                self.who.store(key, Ordering::Relaxed);
            }
            alive
        }
    }

    fn monotonic_ns() -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: writes the current time into `ts`.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        (ts.tv_sec as u64).saturating_mul(1_000_000_000) + ts.tv_nsec as u64
    }

    fn pack(p: ProcessId) -> u64 {
        (u64::from(p.pid) << START_BITS) | (p.start & ((1 << START_BITS) - 1))
    }

    fn unpack(v: u64) -> ProcessId {
        ProcessId {
            pid: ((v >> START_BITS) & ((1 << PID_BITS) - 1)) as u32,
            start: v & ((1 << START_BITS) - 1),
        }
    }

    /// What `/proc/<pid>/stat` says about a process.
    #[derive(Debug, PartialEq, Eq)]
    pub(super) struct Stat {
        pub(super) state: u8,
        pub(super) start: u64,
    }

    /// Parses the two fields needed from a `stat` line. The command name
    /// (field 2) is in parentheses and may itself hold spaces and
    /// parentheses, so fields are counted from the last `)`.
    pub(super) fn parse_stat(line: &[u8]) -> Option<Stat> {
        let after = &line[line.iter().rposition(|&b| b == b')')? + 1..];
        let text = std::str::from_utf8(after).ok()?;
        let mut fields = text.split_ascii_whitespace();
        let state = *fields.next()?.as_bytes().first()?;
        // Fields 4 to 21 sit between the state (3) and the start time (22).
        let start = fields.nth(18)?.parse::<u64>().ok()?;
        Some(Stat {
            state,
            start: start & ((1 << START_BITS) - 1),
        })
    }

    fn read_stat(pid: u32) -> std::io::Result<Stat> {
        let line = std::fs::read(format!("/proc/{pid}/stat"))?;
        parse_stat(&line).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::Other, "unreadable /proc stat line")
        })
    }

    /// Whether `p` is still running (or stopped: anything but gone or a
    /// zombie). See the module docs for how doubt is resolved.
    pub(crate) fn is_alive(_seg: &Segment, p: ProcessId) -> bool {
        is_alive_now(p)
    }

    fn is_alive_now(p: ProcessId) -> bool {
        match read_stat(p.pid) {
            // A start time of 0 is unknown (the holder could not read its
            // own): then only existence can be checked.
            Ok(stat) => {
                !matches!(stat.state, b'Z' | b'X' | b'x') && (p.start == 0 || stat.start == p.start)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Hidden by `hidepid`, or gone: kill(pid, 0) tells which.
                let Ok(pid) = libc::pid_t::try_from(p.pid) else {
                    return false;
                };
                // SAFETY: signal 0 only checks that the process exists.
                let ret = unsafe { libc::kill(pid, 0) };
                ret == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
            }
            Err(_) => true,
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn stat_lines_parse_whatever_the_command_name() {
            let line = b"42 (a (weird) name) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 10 18446744073709551615";
            assert_eq!(
                parse_stat(line),
                Some(Stat {
                    state: b'S',
                    start: 123456
                })
            );
            assert_eq!(parse_stat(b"42 (x) Z 1"), None);
            assert_eq!(parse_stat(b"no parenthesis"), None);
        }

        #[test]
        #[cfg_attr(miri, ignore = "reads /proc")]
        fn this_process_is_alive_and_a_wrong_start_time_is_not() {
            let me = current();
            assert_eq!(me.pid, std::process::id());
            assert!(me.start > 0);
            assert!(is_alive_now(me));
            assert!(!is_alive_now(ProcessId {
                pid: me.pid,
                start: me.start + 1
            }));
            assert_eq!(unpack(pack(me)), me);
            // An unknown start time is not held against a live process.
            assert!(is_alive_now(ProcessId {
                pid: me.pid,
                start: 0
            }));
        }

        #[test]
        #[cfg_attr(miri, ignore = "starts a process and reads /proc")]
        fn a_reaped_child_is_dead() {
            let child = std::process::Command::new("true").spawn().unwrap();
            let pid = child.id();
            let start = read_stat(pid).map(|s| s.start).unwrap_or(0);
            let mut child = child;
            child.wait().unwrap();
            assert!(!is_alive_now(ProcessId { pid, start }));
        }
    }
}

#[cfg(loom)]
pub(crate) use model::{is_alive, AliveCache};

#[cfg(loom)]
mod model {
    use super::ProcessId;
    use crate::loom::Ordering;
    use crate::shm::segment::Segment;

    /// No cache under loom: every check reads the model's flag.
    #[derive(Debug, Default)]
    pub(crate) struct AliveCache;

    impl AliveCache {
        pub(crate) fn is_alive(&self, seg: &Segment, p: ProcessId) -> bool {
            is_alive(seg, p)
        }
    }

    /// Whether model process `p` has not been killed.
    pub(crate) fn is_alive(seg: &Segment, p: ProcessId) -> bool {
        seg.model()
            .dead
            .get(p.pid as usize)
            // Acquire: pairs with the Release in `Model::kill`, so a
            // recoverer sees everything the dead process did.
            .is_some_and(|dead| !dead.load(Ordering::Acquire))
    }
}
