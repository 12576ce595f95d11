//! Readiness descriptors: a file descriptor that turns readable when a
//! message may be waiting (or room may be free, or every task is done), so
//! that `poll`, `epoll`, `select` and event loops can wait on a queue
//! together with sockets, pipes and timers.
//!
//! A queue's waiters sleep on futex words in the segment, which no
//! descriptor can wait for. So a [`Watch`] owns an `eventfd` and one thread
//! that sleeps on the futex as a blocked call would, and makes the eventfd
//! readable when it wakes. It stays readable until the caller, having
//! found nothing to take (or no room), calls [`Watch::rearm`]; the thread
//! then checks again and goes back to sleep.
//!
//! ```text
//! watch thread                         caller (an event loop)
//! wait for the event (futex)           poll(fd) ... readable
//! write(eventfd, 1)                    try_pop: a message, or Empty
//! wake one other waiter                on Empty: rearm():
//! wait for a rearm (private futex)         read(eventfd) (drain)
//!                                          rearmed += 1, wake the thread
//! ```
//!
//! The drain comes before the thread is told to check again, so a message
//! that arrives at any point is never missed: either the thread's check
//! sees it and writes again, or it arrived before the drain, and the check
//! that follows the drain sees it. Readiness is a hint, as for sockets: a
//! message another process took first leaves the descriptor readable until
//! someone finds the queue empty and rearms.
//!
//! The thread sleeps in the kernel; it costs no CPU while nothing happens
//! beyond the checks every blocked call makes (see `wait.rs`: a sleep lasts
//! at most 100 ms, so that a process killed after a wake-up picked it does
//! not strand a message). It is counted as a sleeper while it waits for the
//! event, so producers pay one wake call per burst for it, as for a blocked
//! `pop`; once the descriptor is readable it waits on a private word, and
//! pushes cost what they cost with nobody waiting.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::liveness;
use super::segment::Side;
use super::ShmQueue;
use crate::futex::{Futex, Wake};

/// What a [`Watch`] waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// A message may be waiting to be popped (or the queue was closed and
    /// a pop will say so).
    Message,
    /// A slot may be free for a push (or the queue was closed).
    Room,
    /// No task may be unfinished ([`ShmQueue::join_deadline`] would return).
    TasksDone,
}

impl Event {
    pub(crate) fn side(self) -> Side {
        match self {
            Event::Message => Side::Pop,
            Event::Room => Side::Push,
            Event::TasksDone => Side::Join,
        }
    }
}

/// A readiness descriptor for one [`Event`] of a queue: an `eventfd` for
/// `poll`, `epoll`, `select` and event loops.
///
/// A thread of the watch sleeps on the queue's futex, as a blocked call
/// would, and makes the descriptor readable when it wakes. It stays
/// readable until the caller, having found nothing to take (or no room),
/// calls [`rearm`](Self::rearm); the thread then checks again, so nothing
/// that arrives in between is missed. Readiness is a hint, as for a socket:
/// another process may take the message first. While it waits for the
/// event the thread counts as a sleeper, so producers pay one wake call per
/// burst for it, as for a blocked pop; a woken watch passes a wake-up on to
/// any other sleeper, so it never steals one from a blocked call.
///
/// Dropping it stops and joins its thread (promptly: the thread is woken).
/// A `Watch` copied into a child by `fork` has no thread there: dropping
/// the copy only closes the child's descriptor, and the child should make
/// a watch of its own.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use ringq::shm::{Event, ShmError, ShmOptions, ShmQueue};
///
/// let q = Arc::new(ShmQueue::create_anonymous(&ShmOptions::new(8, 64)).unwrap());
/// let watch = q.watch(Event::Message).unwrap();
/// let readable = |w: &ringq::shm::Watch| {
///     let mut p = libc::pollfd { fd: w.raw_fd(), events: libc::POLLIN, revents: 0 };
///     // SAFETY: one valid pollfd.
///     unsafe { libc::poll(&mut p, 1, 5000) == 1 }
/// };
///
/// q.push(b"hello").unwrap();
/// assert!(readable(&watch)); // made readable by the watch's thread
/// assert_eq!(q.try_pop_with(|m| m.to_vec()), Ok(b"hello".to_vec()));
/// assert_eq!(q.try_pop_with(|m| m.len()), Err(ShmError::Empty));
/// watch.rearm(); // found nothing: wait again
/// q.push(b"again").unwrap();
/// assert!(readable(&watch));
/// ```
pub struct Watch {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    /// The fork generation the thread runs in.
    generation: u64,
}

/// What the caller and the watch's thread share.
struct Shared {
    queue: Arc<ShmQueue>,
    event: Event,
    eventfd: OwnedFd,
    /// Bumped by every rearm; the thread sleeps on it while the descriptor
    /// is readable.
    rearms: Futex,
    stop: AtomicBool,
}

impl ShmQueue {
    /// Starts a [`Watch`]: a descriptor that turns readable when `event`
    /// may have happened. It is readable at once if the event has.
    ///
    /// # Errors
    ///
    /// What `eventfd` or starting a thread failed with.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use ringq::shm::{Event, ShmOptions, ShmQueue};
    ///
    /// let q = Arc::new(ShmQueue::create_anonymous(&ShmOptions::new(8, 64)).unwrap());
    /// let room = q.watch(Event::Room).unwrap();
    /// assert!(room.raw_fd() >= 0);
    /// ```
    pub fn watch(self: &Arc<Self>, event: Event) -> io::Result<Watch> {
        // SAFETY: eventfd takes no pointers; a negative result is an error.
        let raw = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a descriptor we just opened and own alone.
        let eventfd = unsafe { OwnedFd::from_raw_fd(raw) };
        let shared = Arc::new(Shared {
            queue: Arc::clone(self),
            event,
            eventfd,
            rearms: Futex::new(0),
            stop: AtomicBool::new(false),
        });
        let theirs = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("ringq-watch".into())
            .spawn(move || watch_thread(theirs))?;
        Ok(Watch {
            shared,
            thread: Some(thread),
            generation: liveness::fork_generation(),
        })
    }
}

impl Watch {
    /// The event this watch waits for.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use ringq::shm::{Event, ShmOptions, ShmQueue};
    /// # let q = Arc::new(ShmQueue::create_anonymous(&ShmOptions::new(8, 64)).unwrap());
    /// assert_eq!(q.watch(Event::TasksDone).unwrap().event(), Event::TasksDone);
    /// ```
    pub fn event(&self) -> Event {
        self.shared.event
    }

    /// The descriptor, for `poll` and `epoll` (readable: the event may
    /// have happened). Read nothing from it: [`rearm`](Self::rearm) does.
    pub fn raw_fd(&self) -> libc::c_int {
        self.shared.eventfd.as_raw_fd()
    }

    /// Whether this is a copy that `fork` made in a child, with no thread
    /// behind it: such a copy never turns readable on its own, and the
    /// child should make a watch of its own.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use ringq::shm::{Event, ShmOptions, ShmQueue};
    /// # let q = Arc::new(ShmQueue::create_anonymous(&ShmOptions::new(8, 64)).unwrap());
    /// assert!(!q.watch(Event::Message).unwrap().is_forked_copy());
    /// ```
    pub fn is_forked_copy(&self) -> bool {
        self.generation != liveness::fork_generation()
    }

    /// Says that the caller found the event had not happened (a pop found
    /// the queue empty, say): the descriptor stops being readable until the
    /// event may have happened again. Rearming while the event has
    /// happened is harmless: the descriptor turns readable again at once.
    ///
    /// Calls from a process this watch was copied into by `fork` do
    /// nothing: the descriptor is shared with the parent, whose readiness
    /// they must not take.
    pub fn rearm(&self) {
        if self.is_forked_copy() {
            return;
        }
        self.shared.drain();
        // Release: the drain above comes before the thread's next check.
        self.shared.rearms.fetch_add(1, Ordering::Release);
        self.shared.rearms.wake(Wake::One);
    }

    /// Makes the descriptor readable now, whatever the queue holds: wakes
    /// whoever waits on it, to see that the caller closed its handle, say.
    pub fn signal(&self) {
        if !self.is_forked_copy() {
            self.shared.signal();
        }
    }
}

impl AsFd for Watch {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.shared.eventfd.as_fd()
    }
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("event", &self.shared.event)
            .field("fd", &self.raw_fd())
            .finish()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        if self.is_forked_copy() {
            // A copy made by fork: the thread, and the reference to
            // `shared` it holds, stayed in the parent. Joining a thread of
            // another process is undefined, so the handle is forgotten.
            std::mem::forget(thread);
            // SAFETY: the thread's `Arc` was counted in `shared` when the
            // parent was copied, and no thread of this process holds it:
            // the thread ends only after `stop`, which only the parent's
            // drop sets (and `watch_thread` leaks its reference on a
            // panic instead of dropping it). Giving up that count is what
            // the thread would have done on exit.
            unsafe { Arc::decrement_strong_count(Arc::as_ptr(&self.shared)) };
            return;
        }
        // Release: pairs with the Acquire loads of the thread's checks.
        self.shared.stop.store(true, Ordering::Release);
        self.shared.rearms.fetch_add(1, Ordering::Release);
        self.shared.rearms.wake(Wake::All);
        // The thread may be asleep on the segment's futex: wake the side's
        // sleepers, which re-check and sleep again if it is not for them.
        self.shared.queue.wake_waiters(self.shared.event, true);
        let _ = thread.join();
    }
}

impl Shared {
    fn signal(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from `one`, alive for the call. A full
        // counter (EAGAIN) is readable already.
        unsafe {
            libc::write(
                self.eventfd.as_raw_fd(),
                (&one as *const u64).cast(),
                std::mem::size_of::<u64>(),
            )
        };
    }

    fn drain(&self) {
        let mut count: u64 = 0;
        // SAFETY: reads at most 8 bytes into `count`, alive for the call.
        // The descriptor is non-blocking: EAGAIN means already drained.
        unsafe {
            libc::read(
                self.eventfd.as_raw_fd(),
                (&mut count as *mut u64).cast(),
                std::mem::size_of::<u64>(),
            )
        };
    }

    fn stopped(&self) -> bool {
        // Acquire: pairs with the Release store in `Watch::drop`.
        self.stop.load(Ordering::Acquire)
    }
}

fn watch_thread(shared: Arc<Shared>) {
    let run = std::panic::AssertUnwindSafe(|| watch_loop(&shared));
    if std::panic::catch_unwind(run).is_err() {
        // Wake whoever waits, so that their next call reports the damage,
        // and keep our count: a forked copy's drop gives it up (see there).
        shared.signal();
        std::mem::forget(shared);
    }
}

fn watch_loop(shared: &Shared) {
    // Acquire: pairs with the Release increment of `rearm`.
    let mut seen = shared.rearms.load(Ordering::Acquire);
    loop {
        shared.queue.wait_for_event(shared.event, &shared.stop);
        if shared.stopped() {
            return;
        }
        shared.signal();
        // This thread may have taken a wake-up meant for a blocked call:
        // pass one on, so that call does not sleep out its slice.
        shared.queue.wake_waiters(shared.event, false);
        loop {
            if shared.stopped() {
                return;
            }
            // Acquire: as above.
            let now = shared.rearms.load(Ordering::Acquire);
            if now != seen {
                seen = now;
                break;
            }
            shared.rearms.wait(seen, None);
        }
    }
}
