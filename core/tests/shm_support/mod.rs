//! Helpers for the shared-memory queue tests: unique names that clean up
//! after themselves, forked children, pipes, and a shared log that child
//! processes write what they did into.
#![allow(dead_code)] // each test file uses a different part

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A segment name unique to this test process, unlinked when dropped.
pub struct Name(pub String);

impl Name {
    pub fn new(tag: &str) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        Self(format!("ringq-test-{tag}-{}-{n}", std::process::id()))
    }

    pub fn path(&self) -> String {
        format!("/dev/shm/{}", self.0)
    }
}

impl Drop for Name {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.path());
    }
}

/// A forked child process.
#[derive(Debug)]
pub struct Child {
    pub pid: libc::pid_t,
}

/// Runs `f` in a forked child, which exits with `f`'s return value (101 if
/// it panics) without running destructors or exit handlers, as a crashed or
/// `os._exit`ing process would not.
pub fn fork(f: impl FnOnce() -> i32) -> Child {
    // SAFETY: the child only runs `f` and `_exit`s. glibc's malloc is safe
    // to use in the child of a multi-threaded parent, and `f` takes no lock
    // another thread of the test harness could hold (no stdout).
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(101);
        // SAFETY: ends the child at once.
        unsafe { libc::_exit(code) };
    }
    Child { pid }
}

impl Child {
    /// Waits for the child; its exit code, or 128 + the signal that killed it.
    pub fn wait(self) -> i32 {
        let mut status = 0;
        // SAFETY: waits for our own child.
        let r = unsafe { libc::waitpid(self.pid, &mut status, 0) };
        assert_eq!(r, self.pid, "waitpid");
        if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            128 + libc::WTERMSIG(status)
        }
    }

    /// SIGKILLs the child and reaps it.
    pub fn kill(self) -> i32 {
        // SAFETY: signals our own child, which has not been reaped.
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
        self.wait()
    }
}

/// A pipe: (read end, write end).
pub fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors are fresh and owned by nothing else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Waits for one byte on `fd`, for `timeout` at most.
pub fn read_byte(fd: &OwnedFd, timeout: Duration) -> bool {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let ready = unsafe { libc::poll(&mut pfd, 1, timeout.as_millis() as libc::c_int) };
    if ready != 1 {
        return false;
    }
    let mut b = 0u8;
    // SAFETY: reads one byte into `b`.
    unsafe { libc::read(fd.as_raw_fd(), (&mut b as *mut u8).cast(), 1) == 1 }
}

/// Polls `cond` every millisecond until it holds or `limit` passes: a hang
/// detector with a generous limit, never a timing assertion.
pub fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    cond()
}

/// Memory shared with forked children: `lanes` append-only logs of `u64`s,
/// each with its own length word.
pub struct SharedLog {
    ptr: *mut AtomicU64,
    lanes: usize,
    per_lane: usize,
}

// SAFETY: the region is only accessed through atomics.
unsafe impl Send for SharedLog {}
// SAFETY: as above.
unsafe impl Sync for SharedLog {}

impl SharedLog {
    pub fn new(lanes: usize, per_lane: usize) -> Self {
        let words = lanes * (per_lane + 1);
        // SAFETY: an anonymous shared mapping, inherited by forked children.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                words * 8,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(ptr, libc::MAP_FAILED);
        Self {
            ptr: ptr.cast(),
            lanes,
            per_lane,
        }
    }

    fn word(&self, i: usize) -> &AtomicU64 {
        assert!(i < self.lanes * (self.per_lane + 1));
        // SAFETY: in bounds of the zero-initialised mapping, which lives as
        // long as `self`; AtomicU64 is valid for any bit pattern.
        unsafe { &*self.ptr.add(i) }
    }

    /// Appends `v` to `lane` (one writer per lane).
    pub fn push(&self, lane: usize, v: u64) {
        let base = lane * (self.per_lane + 1);
        let n = self.word(base).load(Ordering::Relaxed) as usize;
        assert!(n < self.per_lane, "log lane full");
        self.word(base + 1 + n).store(v, Ordering::Relaxed);
        self.word(base).store(n as u64 + 1, Ordering::Release);
    }

    /// Overwrites the single value of `lane`, as a counter.
    pub fn set(&self, lane: usize, v: u64) {
        self.word(lane * (self.per_lane + 1))
            .store(v, Ordering::Release);
    }

    pub fn get(&self, lane: usize) -> u64 {
        self.word(lane * (self.per_lane + 1))
            .load(Ordering::Acquire)
    }

    pub fn lane(&self, lane: usize) -> Vec<u64> {
        let base = lane * (self.per_lane + 1);
        let n = self.word(base).load(Ordering::Acquire) as usize;
        (0..n)
            .map(|i| self.word(base + 1 + i).load(Ordering::Relaxed))
            .collect()
    }
}

impl Drop for SharedLog {
    fn drop(&mut self) {
        // SAFETY: unmaps the region mapped in `new`.
        unsafe { libc::munmap(self.ptr.cast(), self.lanes * (self.per_lane + 1) * 8) };
    }
}

/// A message naming its producer and sequence number, padded to `len`.
pub fn message(producer: u32, seq: u32, len: usize) -> Vec<u8> {
    let mut m = Vec::with_capacity(len.max(8));
    m.extend_from_slice(&producer.to_le_bytes());
    m.extend_from_slice(&seq.to_le_bytes());
    m.resize(len.max(8), (seq as u8).wrapping_add(producer as u8));
    m
}

/// The (producer, sequence) of a message made by [`message`], after
/// checking its padding.
pub fn decode(m: &[u8]) -> (u32, u32) {
    assert!(m.len() >= 8, "message too short: {}", m.len());
    let producer = u32::from_le_bytes(m[..4].try_into().unwrap());
    let seq = u32::from_le_bytes(m[4..8].try_into().unwrap());
    let pad = (seq as u8).wrapping_add(producer as u8);
    assert!(
        m[8..].iter().all(|&b| b == pad),
        "torn message {producer}/{seq}"
    );
    (producer, seq)
}

pub fn pack(producer: u32, seq: u32) -> u64 {
    (u64::from(producer) << 32) | u64::from(seq)
}

pub fn unpack(v: u64) -> (u32, u32) {
    ((v >> 32) as u32, v as u32)
}
