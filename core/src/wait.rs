//! Blocking: spin briefly, then park, with no lost wake-ups.
//!
//! A [`WaitQueue`] is an event count in front of a `Mutex`/`Condvar` pair.
//! Each queue owns two: one for poppers waiting for an item, one for pushers
//! waiting for room. The side that makes progress possible calls
//! [`WaitQueue::notify_one`] after its change is visible; when nobody waits
//! that costs one fence and one atomic load, and no system call.
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
//! e = epoch; check queue              if sleepers > 0 { lock; epoch += 1; notify }
//! lock; if epoch == e { wait }
//! ```
//!
//! The two barriers act like two SeqCst fences, which are totally ordered.
//! If the notifier's comes first, the waiter's check sees the item. If the
//! waiter's comes first, the notifier sees `sleepers > 0` and bumps `epoch`
//! under the lock: either before the waiter takes the lock (it sees a new
//! epoch and checks again) or while it waits (the condvar wakes it).
//!
//! The notifier's side runs on every push and pop, so it is the light half of
//! an asymmetric pair of barriers: on Linux a compiler fence, with the
//! waiter paying for a process-wide `membarrier(2)` just before it parks.

use std::time::Instant;

use crate::barrier;
use crate::loom::{AtomicUsize, Backoff, Condvar, Mutex, MutexGuard, Ordering};

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
    /// Threads past the spinning phase; notifiers skip the lock when zero.
    sleepers: AtomicUsize,
    /// Bumped under `lock` by every notification that found sleepers.
    epoch: AtomicUsize,
    lock: Mutex<()>,
    cond: Condvar,
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
        barrier::init();
        Self {
            sleepers: AtomicUsize::new(0),
            epoch: AtomicUsize::new(0),
            lock: Mutex::new(()),
            cond: Condvar::new(),
        }
    }

    /// Wakes one parked waiter, if there is one.
    ///
    /// Call it after the change that may let a waiter proceed is visible.
    ///
    /// # Examples
    ///
    /// ```
    /// let waiters = ringq::wait::WaitQueue::new();
    /// waiters.notify_one();
    /// ```
    #[inline]
    pub fn notify_one(&self) {
        if self.has_sleepers() {
            self.notify_slow(false);
        }
    }

    /// Wakes every parked waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// let waiters = ringq::wait::WaitQueue::new();
    /// waiters.notify_all();
    /// ```
    #[inline]
    pub fn notify_all(&self) {
        if self.has_sleepers() {
            self.notify_slow(true);
        }
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
        self.sleepers.load(Ordering::Relaxed)
    }

    #[inline]
    fn has_sleepers(&self) -> bool {
        // Pairs with the heavy barrier in `wait_until`; see the module docs.
        barrier::light();
        // Relaxed: the barrier above orders this load after the caller's change.
        self.sleepers.load(Ordering::Relaxed) != 0
    }

    #[cold]
    fn notify_slow(&self, all: bool) {
        let _guard = lock(&self.lock);
        // Release: a waiter that reads this epoch also sees the change that
        // preceded the notification (it reads `epoch` with Acquire).
        self.epoch.fetch_add(1, Ordering::Release);
        if all {
            self.cond.notify_all();
        } else {
            self.cond.notify_one();
        }
    }

    /// Blocks until `ready` returns `Some`, or until `deadline` passes.
    ///
    /// `ready` is tried first while spinning with exponential backoff, then
    /// between parks. It runs without any lock held. It must be cheap and
    /// must not block; it is the caller's non-blocking attempt (a `try_pop`,
    /// say). Returns `None` only if the deadline passed; `ready` is always
    /// tried once more after the last wake-up, so a notification that races
    /// with the deadline is not lost.
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
        if let Some(r) = spin(&mut ready) {
            return Some(r);
        }

        // Relaxed: the barrier below orders it before our next check.
        self.sleepers.fetch_add(1, Ordering::Relaxed);
        let _registered = Registration(&self.sleepers);
        loop {
            // Pairs with the light barrier in `has_sleepers`.
            barrier::heavy();
            // Acquire: pairs with the Release bump in `notify_slow`.
            let seen = self.epoch.load(Ordering::Acquire);
            if let Some(r) = ready() {
                return Some(r);
            }
            let timeout = match deadline {
                Some(d) if crate::loom::TIMEOUTS_ARE_REAL => {
                    match d.checked_duration_since(Instant::now()) {
                        Some(left) if !left.is_zero() => Some(left),
                        _ => return None,
                    }
                }
                _ => None,
            };
            let guard = lock(&self.lock);
            // Relaxed: the lock orders this against every bump.
            if self.epoch.load(Ordering::Relaxed) != seen {
                continue;
            }
            wait(&self.cond, guard, timeout);
        }
    }
}

/// Tries `ready` a few times with backoff before the caller parks.
fn spin<R>(ready: &mut impl FnMut() -> Option<R>) -> Option<R> {
    let backoff = Backoff::new();
    loop {
        if let Some(r) = ready() {
            return Some(r);
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
        // Relaxed: a stale count only costs a notifier one spare lock.
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Locks, ignoring poisoning: the mutex guards no data, only the sleep.
fn lock(mutex: &Mutex<()>) -> MutexGuard<'_, ()> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn wait(cond: &Condvar, guard: MutexGuard<'_, ()>, timeout: Option<std::time::Duration>) {
    #[cfg(not(loom))]
    if let Some(timeout) = timeout {
        drop(cond.wait_timeout(guard, timeout));
        return;
    }
    let _ = timeout;
    drop(cond.wait(guard));
}
