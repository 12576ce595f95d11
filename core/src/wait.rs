//! Blocking: spin briefly, then park, with no lost wake-ups.
//!
//! A [`WaitQueue`] is an event count: a count of the threads that are about
//! to sleep (`sleepers`), and a 32-bit `epoch` they sleep on with a futex.
//! Each queue owns two: one for poppers waiting for an item, one for pushers
//! waiting for room. The side that makes progress possible calls
//! [`WaitQueue::notify_one`] after its change is visible; when nobody waits
//! that costs a compiler fence and one atomic load, and no system call.
//!
//! # Why no wake-up is lost
//!
//! The waiter and the notifier form a Dekker pair around two locations: the
//! queue state (say, a slot stamp) and `sleepers`.
//!
//! ```text
//! waiter                              notifier
//! sleepers += 1                       publish item (Release)
//! heavy barrier          <- total ->  light barrier
//! e = epoch; check queue              if sleepers > 0 { epoch += 1; wake }
//! sleep while epoch == e
//! ```
//!
//! The two barriers act like two SeqCst fences, which are totally ordered.
//! If the notifier's comes first, the waiter's check sees the item. If the
//! waiter's comes first, the notifier sees `sleepers > 0` and bumps `epoch`:
//! either before the waiter reads it (then the Acquire read of the bumped
//! epoch makes the item visible to the check) or after (then the futex,
//! which compares `epoch` with `e` atomically with going to sleep, does not
//! sleep, or is woken by the wake that follows the bump).
//!
//! A wake-up can land on a waiter whose timeout strikes at the same moment.
//! It is not lost: every return from a sleep is followed by one more
//! `ready()` before the deadline is looked at, so that waiter takes what it
//! was woken for.
//!
//! The notifier's side runs on every push and pop, so it is the light half of
//! an asymmetric pair of barriers: on Linux a compiler fence, with the
//! waiter paying for a process-wide `membarrier(2)` just before it parks
//! (see `barrier.rs` for the fallbacks, and for the waits in short slices
//! that follow a membarrier the kernel refuses).
//!
//! # Async waiters
//!
//! Code layered on top (the Python binding's coroutines, say) can wait
//! without a thread: it registers with [`WaitQueue::register_async`],
//! keeps its own list of whom to wake, and is *told* rather than woken. The
//! registrations are counted in the high half of the same `sleepers` word
//! as the threads (which count in the low half), so a notifier still looks
//! at one word, with one load, and pays nothing more while nobody waits.
//! [`WaitQueue::notify_one`] and [`WaitQueue::notify_all`] return `true`
//! when async waiters are registered: the caller then wakes them its own
//! way.
//!
//! The async side follows the same Dekker protocol:
//!
//! ```text
//! async waiter                        notifier
//! register_async (count += 1)         publish item (Release)
//! heavy barrier          <- total ->  light barrier
//! check queue                         if async count > 0 { return true }
//! wait to be told (no CPU)            caller tells a registered waiter
//! ```
//!
//! If the notifier's barrier comes first, the waiter's check sees the item.
//! If the waiter's comes first, the notifier sees the count and reports it,
//! and its caller tells a waiter. Whoever told, or whatever it told about,
//! is the caller's business: the count goes down with
//! [`WaitQueue::unregister_async`], once per registration, when the caller
//! takes a waiter off its list (to tell it, or because it stopped
//! waiting). A waiter that was told and leaves without acting on it passes
//! the notification on, as a timed-out thread does. When `register_async`
//! returns `false` (a membarrier failed, see `barrier.rs`) the waiter
//! cannot trust the pair and must re-check now and then, as threads do.
//!
//! # No lock
//!
//! Nothing here takes a lock: a waiter sleeps on the futex word itself. A
//! thread that dies, or that `fork` leaves behind in the parent, cannot hold
//! anything another thread needs; at worst its stale `sleepers` count sends
//! notifiers to the (harmless) slow path.

use std::time::{Duration, Instant};

use crate::futex::Wake;
use crate::loom::{barrier, has_passed, time_left, AtomicUsize, Backoff, Futex, Ordering};

/// How long a waiter sleeps at most when it cannot trust the barrier pair
/// (a membarrier failed; see `barrier.rs`): the longest a lost wake-up can
/// then delay it.
const UNPAIRED_SLICE: Duration = Duration::from_millis(1);

/// One async waiter in the `sleepers` word: its high half counts them, so
/// that the low half, the threads, can never carry into it (a process has
/// far fewer than 2^16 threads, let alone 2^32).
const ASYNC_ONE: usize = 1 << (usize::BITS / 2);

/// The thread count's half of the `sleepers` word.
const THREADS: usize = ASYNC_ONE - 1;

/// Threads waiting for one condition of a queue, and the means to wake them.
///
/// The queues in this crate use it internally; it is public so that code
/// layered on top (a task counter's `join`, say) can block the same way.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use ringq::wait::WaitQueue;
///
/// let flag = Arc::new(AtomicBool::new(false));
/// let waiters = Arc::new(WaitQueue::new());
/// let (f, w) = (flag.clone(), waiters.clone());
/// let setter = std::thread::spawn(move || {
///     f.store(true, Ordering::Release);
///     w.notify_all();
/// });
/// let seen = waiters.wait_until(None, || flag.load(Ordering::Acquire).then_some(()));
/// assert_eq!(seen, Some(()));
/// setter.join().unwrap();
/// ```
#[derive(Debug)]
pub struct WaitQueue {
    /// Threads past the spinning phase (low half), and registered async
    /// waiters (high half, in units of [`ASYNC_ONE`]); notifiers skip the
    /// slow path when zero.
    sleepers: AtomicUsize,
    /// Bumped by every notification that found sleepers; they sleep on it.
    epoch: Futex,
}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl WaitQueue {
    /// Creates a wait queue with nobody waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let waiters = ringq::wait::WaitQueue::new();
    /// waiters.notify_one(); // nobody waits: no system call
    /// ```
    pub fn new() -> Self {
        barrier::probe();
        Self {
            sleepers: AtomicUsize::new(0),
            epoch: Futex::new(0),
        }
    }

    /// Wakes one parked thread, if there is one, and returns whether async
    /// waiters are registered (see the module docs): then the caller tells
    /// one of them.
    ///
    /// Call it after the change that may let a waiter proceed is visible.
    ///
    /// # Examples
    ///
    /// ```
    /// let waiters = ringq::wait::WaitQueue::new();
    /// assert!(!waiters.notify_one()); // nobody waits: no system call
    /// ```
    #[inline]
    pub fn notify_one(&self) -> bool {
        let word = self.sleepers_word();
        if word == 0 {
            return false;
        }
        self.notify_slow(word, false)
    }

    /// Wakes every parked thread, and returns whether async waiters are
    /// registered: then the caller tells every one of them.
    ///
    /// # Examples
    ///
    /// ```
    /// let waiters = ringq::wait::WaitQueue::new();
    /// assert!(!waiters.notify_all());
    /// ```
    #[inline]
    pub fn notify_all(&self) -> bool {
        let word = self.sleepers_word();
        if word == 0 {
            return false;
        }
        self.notify_slow(word, true)
    }

    /// Counts an async waiter (see the module docs), then issues the heavy
    /// barrier that pairs with the notifiers' light one. After it returns,
    /// the caller must check the condition it waits for once more before
    /// it waits to be told.
    ///
    /// Returns whether the barrier pair can be trusted; `false` (a
    /// membarrier failed) means the waiter must also re-check now and then,
    /// as a thread sleeps in short slices then.
    ///
    /// # Examples
    ///
    /// ```
    /// let waiters = ringq::wait::WaitQueue::new();
    /// waiters.register_async();
    /// assert_eq!(waiters.async_waiting(), 1);
    /// assert!(waiters.notify_one()); // the caller tells its waiter
    /// waiters.unregister_async();
    /// assert!(!waiters.notify_one());
    /// ```
    pub fn register_async(&self) -> bool {
        // Relaxed: the barrier below orders it before the caller's check.
        self.sleepers.fetch_add(ASYNC_ONE, Ordering::Relaxed);
        // Pairs with the light barrier in `sleepers_word`.
        barrier::heavy()
    }

    /// Uncounts an async waiter that [`register_async`](Self::register_async)
    /// counted: once per registration, when it is told or stops waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let waiters = ringq::wait::WaitQueue::new();
    /// waiters.register_async();
    /// waiters.unregister_async();
    /// assert_eq!(waiters.async_waiting(), 0);
    /// ```
    pub fn unregister_async(&self) {
        // Relaxed: a stale count only sends a notifier to its slow path.
        let before = self.sleepers.fetch_sub(ASYNC_ONE, Ordering::Relaxed);
        debug_assert!(
            before >= ASYNC_ONE,
            "unregister_async without register_async"
        );
    }

    /// How many async waiters are registered (a snapshot).
    ///
    /// # Examples
    ///
    /// ```
    /// let waiters = ringq::wait::WaitQueue::new();
    /// assert_eq!(waiters.async_waiting(), 0);
    /// ```
    pub fn async_waiting(&self) -> usize {
        // Relaxed: a snapshot that orders nothing.
        self.sleepers.load(Ordering::Relaxed) / ASYNC_ONE
    }

    /// How many threads are past spinning and registered to park (a
    /// snapshot, for diagnostics and tests).
    ///
    /// A thread counts from the moment it gives up spinning until its wait
    /// ends, so a count above zero means a notification would take the
    /// slow path and wake it.
    ///
    /// # Examples
    ///
    /// ```
    /// let waiters = ringq::wait::WaitQueue::new();
    /// assert_eq!(waiters.waiting(), 0);
    /// ```
    pub fn waiting(&self) -> usize {
        // Relaxed: a snapshot that orders nothing.
        self.sleepers.load(Ordering::Relaxed) & THREADS
    }

    /// The `sleepers` word, as a notifier must read it.
    #[inline]
    fn sleepers_word(&self) -> usize {
        // Pairs with the heavy barriers in `wait_until` and
        // `register_async`; see the module docs.
        barrier::light();
        // Relaxed: the barrier above orders this load after the caller's change.
        self.sleepers.load(Ordering::Relaxed)
    }

    /// Wakes the threads `word` counts, and says whether it counts async
    /// waiters.
    #[cold]
    fn notify_slow(&self, word: usize, all: bool) -> bool {
        if word & THREADS != 0 {
            // Release: a waiter that reads this epoch also sees the change
            // that preceded the notification (it reads `epoch` with Acquire).
            self.epoch.fetch_add(1, Ordering::Release);
            self.epoch.wake(if all { Wake::All } else { Wake::One });
        }
        word >= ASYNC_ONE
    }

    /// Blocks until `ready` returns `Some`, or until `deadline` passes.
    ///
    /// `ready` is tried first while spinning with exponential backoff, then
    /// between parks. It runs without any lock held. It must be cheap and
    /// must not block; it is the caller's non-blocking attempt (a `try_pop`,
    /// say). Returns `None` only if the deadline passed; `ready` is always
    /// tried once more after the last wake-up, so a notification that races
    /// with the deadline is not lost. A deadline that has already passed
    /// tries `ready` exactly once: no spinning, no parking.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use ringq::wait::WaitQueue;
    ///
    /// let waiters = WaitQueue::new();
    /// let deadline = Instant::now() + Duration::from_millis(5);
    /// assert_eq!(waiters.wait_until(Some(deadline), || None::<()>), None);
    /// ```
    pub fn wait_until<R>(
        &self,
        deadline: Option<Instant>,
        mut ready: impl FnMut() -> Option<R>,
    ) -> Option<R> {
        if let Some(outcome) = spin(deadline, &mut ready) {
            return outcome;
        }

        // Relaxed: the barrier below orders it before our next check.
        self.sleepers.fetch_add(1, Ordering::Relaxed);
        let _registered = Registration(&self.sleepers);
        let mut slept = false;
        loop {
            // Pairs with the light barrier in `sleepers_word`.
            let paired = barrier::heavy();
            // Acquire: pairs with the Release bump in `notify_slow`.
            let seen = self.epoch.load(Ordering::Acquire);
            // Always before the deadline check: see the module docs.
            if let Some(r) = ready() {
                return Some(r);
            }
            let mut timeout = match deadline {
                Some(d) => Some(time_left(d, slept)?),
                None => None,
            };
            if !paired {
                timeout = Some(timeout.map_or(UNPAIRED_SLICE, |t| t.min(UNPAIRED_SLICE)));
            }
            self.epoch.wait(seen, timeout);
            slept = true;
        }
    }
}

/// Tries `ready` a few times with backoff before the caller parks.
///
/// Returns `Some(Some(r))` when `ready` succeeded, `Some(None)` when the
/// deadline passed, and `None` when the caller should park.
fn spin<R>(deadline: Option<Instant>, ready: &mut impl FnMut() -> Option<R>) -> Option<Option<R>> {
    let backoff = Backoff::new();
    loop {
        if let Some(r) = ready() {
            return Some(Some(r));
        }
        if deadline.is_some_and(has_passed) {
            return Some(None);
        }
        if backoff.is_completed() {
            return None;
        }
        backoff.snooze();
    }
}

/// Keeps `sleepers` counted while a thread is in the parking loop, and
/// uncounts it however the loop ends (a panicking `ready` included).
struct Registration<'a>(&'a AtomicUsize);

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        // Relaxed: a stale count only costs a notifier one spare wake call.
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Whether a membarrier failed in this process, so that waiters now sleep
/// in short slices instead of trusting the fences (see `barrier.rs`).
/// For tests that inject that failure.
#[doc(hidden)]
pub fn fences_degraded() -> bool {
    barrier::is_degraded()
}
