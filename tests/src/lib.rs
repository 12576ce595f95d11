//! Shared machinery for the multi-threaded stress tests of the `ringq` queues.
//!
//! - Items are `u64`s that encode (producer id, sequence number), see
//!   [`encode`] and [`decode`].
//! - [`Tx`] and [`Rx`] give every queue kind (both shared queues and the two
//!   SPSC halves) one interface, so one set of drivers ([`produce`],
//!   [`consume`]) exercises all of them in several [`Mode`]s.
//! - [`check_delivery`] asserts that every item that was pushed arrives
//!   exactly once, that nothing else arrives, and that each consumer sees each
//!   producer's items in increasing sequence.
//! - [`Crew`] runs named threads and fails, naming them, if they have not all
//!   finished within a generous limit: a hang detector, never a timing
//!   assertion.
//!
//! `RINGQ_STRESS_SCALE` (a positive number, default 1) multiplies the number
//! of items every test sends.

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use ringq::spsc::{Consumer, Producer};
use ringq::{
    BoundedQueue, Closed, PopTimeoutError, PushError, PushTimeoutError, TryPopError, TryPushError,
    UnboundedQueue,
};

/// The factor from `RINGQ_STRESS_SCALE`, 1.0 when unset.
///
/// # Panics
///
/// If the variable is set but is not a positive number.
pub fn scale() -> f64 {
    match std::env::var("RINGQ_STRESS_SCALE") {
        Ok(s) => {
            let f: f64 = s
                .trim()
                .parse()
                .expect("RINGQ_STRESS_SCALE must be a number");
            assert!(f > 0.0, "RINGQ_STRESS_SCALE must be positive");
            f
        }
        Err(_) => 1.0,
    }
}

/// `base` items scaled by [`scale`], at least 1.
pub fn scaled(base: u64) -> u64 {
    ((base as f64 * scale()) as u64).max(1)
}

/// The item producer `producer` sends as its `seq`-th.
pub fn encode(producer: u32, seq: u32) -> u64 {
    (u64::from(producer) << 32) | u64::from(seq)
}

/// The (producer, sequence) an item encodes.
pub fn decode(item: u64) -> (u32, u32) {
    ((item >> 32) as u32, item as u32)
}

/// A small, fast, seedable generator (xorshift64*), one per thread.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value, 0 included).
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    /// True with probability 1/`n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.next_u64() % n == 0
    }
}

/// The seed for a test: `RINGQ_STRESS_SEED` if set, else one from the clock.
/// Tests print it in their failure messages.
pub fn seed() -> u64 {
    match std::env::var("RINGQ_STRESS_SEED") {
        Ok(s) => s
            .trim()
            .parse()
            .expect("RINGQ_STRESS_SEED must be an integer"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
    }
}

/// Waits a little in a retry loop: spins at first, then yields the CPU
/// (the machines that run these tests have fewer cores than threads).
#[derive(Default)]
pub struct Backoff(u32);

impl Backoff {
    /// Waits once, a little longer than last time.
    pub fn snooze(&mut self) {
        if self.0 < 4 {
            for _ in 0..(1 << self.0) {
                std::hint::spin_loop();
            }
            self.0 += 1;
        } else {
            thread::yield_now();
        }
    }

    /// Starts over after progress.
    pub fn reset(&mut self) {
        self.0 = 0;
    }
}

/// How a producer or consumer drives the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `try_push`/`try_pop`, backing off (spin, then yield) and retrying.
    Try,
    /// `push`/`pop`.
    Blocking,
    /// `push_timeout`/`pop_timeout` and the deadline forms with short
    /// limits, retrying after each timeout.
    Timeout,
    /// Batches: `try_push_slice`, `try_push_vec`, `push_iter`,
    /// `try_pop_into`, `try_pop_many`, `pop_many`, `pop_many_deadline`.
    Batch,
    /// A random choice among all of the above at every step.
    Mixed,
}

/// Defines one test module per case, with one test per [`Mode`]:
/// `per_mode! { name => |mode| run(mode); ... }`.
#[macro_export]
macro_rules! per_mode {
    ($($name:ident => $run:expr;)*) => {
        $(
            mod $name {
                use super::*;
                #[test]
                fn try_with_backoff() {
                    ($run)($crate::Mode::Try)
                }
                #[test]
                fn blocking() {
                    ($run)($crate::Mode::Blocking)
                }
                #[test]
                fn timeouts() {
                    ($run)($crate::Mode::Timeout)
                }
                #[test]
                fn batches() {
                    ($run)($crate::Mode::Batch)
                }
                #[test]
                fn mixed() {
                    ($run)($crate::Mode::Mixed)
                }
            }
        )*
    };
}

/// All modes, for tests that run each.
pub const MODES: [Mode; 5] = [
    Mode::Try,
    Mode::Blocking,
    Mode::Timeout,
    Mode::Batch,
    Mode::Mixed,
];

/// The push side of any queue, for `u64` items.
pub trait Tx: Send + 'static {
    /// Whether `push_timeout`/`push_deadline` exist (bounded queues).
    const HAS_PUSH_TIMEOUT: bool;
    fn try_push(&self, v: u64) -> Result<(), TryPushError<u64>>;
    fn push(&self, v: u64) -> Result<(), PushError<u64>>;
    /// Only called when [`Tx::HAS_PUSH_TIMEOUT`].
    fn push_timeout(&self, v: u64, t: Duration) -> Result<(), PushTimeoutError<u64>>;
    /// Only called when [`Tx::HAS_PUSH_TIMEOUT`].
    fn push_deadline(&self, v: u64, d: Instant) -> Result<(), PushTimeoutError<u64>>;
    fn try_push_slice(&self, items: &[u64]) -> Result<usize, Closed>;
    fn try_push_vec(&self, items: &mut Vec<u64>) -> Result<usize, Closed>;
    fn push_iter(&self, items: Vec<u64>) -> Result<usize, PushError<Vec<u64>>>;
    fn close(&self) -> bool;
}

/// The pop side of any queue, for `u64` items.
pub trait Rx: Send + 'static {
    fn try_pop(&self) -> Result<u64, TryPopError>;
    fn pop(&self) -> Result<u64, Closed>;
    fn pop_timeout(&self, t: Duration) -> Result<u64, PopTimeoutError>;
    fn pop_deadline(&self, d: Instant) -> Result<u64, PopTimeoutError>;
    fn try_pop_into(&self, buf: &mut [MaybeUninit<u64>]) -> Result<usize, Closed>;
    fn try_pop_many(&self, out: &mut Vec<u64>, max: usize) -> Result<usize, Closed>;
    fn pop_many(&self, out: &mut Vec<u64>, max: usize) -> Result<usize, Closed>;
    fn pop_many_deadline(
        &self,
        out: &mut Vec<u64>,
        max: usize,
        d: Option<Instant>,
    ) -> Result<usize, PopTimeoutError>;
    fn close(&self) -> bool;
    /// `len()`, from the pop side.
    fn len(&self) -> usize;
    /// `is_empty()`, from the pop side.
    fn is_empty(&self) -> bool;
    /// `capacity()`; `None` for the unbounded queue.
    fn capacity(&self) -> Option<usize>;
}

macro_rules! tx_common {
    () => {
        fn try_push(&self, v: u64) -> Result<(), TryPushError<u64>> {
            (**self).try_push(v)
        }
        fn push(&self, v: u64) -> Result<(), PushError<u64>> {
            (**self).push(v)
        }
        fn try_push_slice(&self, items: &[u64]) -> Result<usize, Closed> {
            (**self).try_push_slice(items)
        }
        fn try_push_vec(&self, items: &mut Vec<u64>) -> Result<usize, Closed> {
            (**self).try_push_vec(items)
        }
        fn push_iter(&self, items: Vec<u64>) -> Result<usize, PushError<Vec<u64>>> {
            (**self).push_iter(items)
        }
        fn close(&self) -> bool {
            (**self).close()
        }
    };
}

macro_rules! rx_common {
    () => {
        fn try_pop(&self) -> Result<u64, TryPopError> {
            (**self).try_pop()
        }
        fn pop(&self) -> Result<u64, Closed> {
            (**self).pop()
        }
        fn pop_timeout(&self, t: Duration) -> Result<u64, PopTimeoutError> {
            (**self).pop_timeout(t)
        }
        fn pop_deadline(&self, d: Instant) -> Result<u64, PopTimeoutError> {
            (**self).pop_deadline(d)
        }
        fn try_pop_into(&self, buf: &mut [MaybeUninit<u64>]) -> Result<usize, Closed> {
            (**self).try_pop_into(buf)
        }
        fn try_pop_many(&self, out: &mut Vec<u64>, max: usize) -> Result<usize, Closed> {
            (**self).try_pop_many(out, max)
        }
        fn pop_many(&self, out: &mut Vec<u64>, max: usize) -> Result<usize, Closed> {
            (**self).pop_many(out, max)
        }
        fn pop_many_deadline(
            &self,
            out: &mut Vec<u64>,
            max: usize,
            d: Option<Instant>,
        ) -> Result<usize, PopTimeoutError> {
            (**self).pop_many_deadline(out, max, d)
        }
        fn close(&self) -> bool {
            (**self).close()
        }
        fn len(&self) -> usize {
            (**self).len()
        }
        fn is_empty(&self) -> bool {
            (**self).is_empty()
        }
    };
}

impl Tx for Arc<BoundedQueue<u64>> {
    const HAS_PUSH_TIMEOUT: bool = true;
    tx_common!();
    fn push_timeout(&self, v: u64, t: Duration) -> Result<(), PushTimeoutError<u64>> {
        (**self).push_timeout(v, t)
    }
    fn push_deadline(&self, v: u64, d: Instant) -> Result<(), PushTimeoutError<u64>> {
        (**self).push_deadline(v, d)
    }
}

impl Rx for Arc<BoundedQueue<u64>> {
    rx_common!();
    fn capacity(&self) -> Option<usize> {
        Some((**self).capacity())
    }
}

impl Tx for Arc<UnboundedQueue<u64>> {
    const HAS_PUSH_TIMEOUT: bool = false;
    tx_common!();
    fn push_timeout(&self, _v: u64, _t: Duration) -> Result<(), PushTimeoutError<u64>> {
        unreachable!("the unbounded queue has no push_timeout")
    }
    fn push_deadline(&self, _v: u64, _d: Instant) -> Result<(), PushTimeoutError<u64>> {
        unreachable!("the unbounded queue has no push_deadline")
    }
}

impl Rx for Arc<UnboundedQueue<u64>> {
    rx_common!();
    fn capacity(&self) -> Option<usize> {
        (**self).capacity()
    }
}

/// Lets the SPSC halves use the same forwarding as the `Arc`ed queues.
pub struct Half<H>(pub H);

impl<H> std::ops::Deref for Half<H> {
    type Target = H;
    fn deref(&self) -> &H {
        &self.0
    }
}

impl Tx for Half<Producer<u64>> {
    const HAS_PUSH_TIMEOUT: bool = true;
    tx_common!();
    fn push_timeout(&self, v: u64, t: Duration) -> Result<(), PushTimeoutError<u64>> {
        (**self).push_timeout(v, t)
    }
    fn push_deadline(&self, v: u64, d: Instant) -> Result<(), PushTimeoutError<u64>> {
        (**self).push_deadline(v, d)
    }
}

impl Rx for Half<Consumer<u64>> {
    rx_common!();
    fn capacity(&self) -> Option<usize> {
        Some((**self).capacity())
    }
}

/// What one producer did, from three sources that [`check_delivery`]
/// checks against each other and against what the consumers popped.
#[derive(Clone, Debug, Default)]
pub struct Sent {
    /// How many pushes the queue reported as done.
    pub ok: u32,
    /// The sequence numbers of the items the queue refused as closed, read
    /// from the items it handed back.
    pub handed_back: Vec<u32>,
    /// How many items the producer made: its sequence numbers `0..offered`,
    /// each offered to the queue once.
    pub offered: u32,
}

/// What a producer does after its first push that fails for a closed queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterClosed {
    /// A closed queue is a failure: the test never closes it under traffic.
    Panic,
    /// Offers a few more items (checking each is refused and handed back),
    /// then stops.
    ProbeAndStop,
}

/// Pushes producer `id`'s items `0..n` in `mode`, retrying full and timed
/// out pushes. Checks that every refused item comes back unchanged and that
/// a closed queue never accepts an item again.
///
/// # Panics
///
/// On any of those checks failing, and on a closed queue when `after` is
/// [`AfterClosed::Panic`].
pub fn produce<Q: Tx>(
    q: &Q,
    id: u32,
    n: u32,
    mode: Mode,
    rng: &mut Rng,
    after: AfterClosed,
) -> Sent {
    produce_from(q, id, 0, n, mode, rng, after)
}

/// [`produce`] for sequence numbers `first..n`: `Sent::ok` then counts from
/// `first` (a producer that already pushed `0..first` some other way).
///
/// # Panics
///
/// As [`produce`].
pub fn produce_from<Q: Tx>(
    q: &Q,
    id: u32,
    first: u32,
    n: u32,
    mode: Mode,
    rng: &mut Rng,
    after: AfterClosed,
) -> Sent {
    let mut sent = Sent {
        ok: first,
        handed_back: Vec::new(),
        offered: first,
    };
    let mut closed_at: Option<u32> = None;
    let mut backoff = Backoff::default();
    let mut probes = 0;
    // `next` is the first sequence number not yet offered.
    let mut next: u32 = first;
    while next < n {
        if let Some(at) = closed_at {
            if after == AfterClosed::Panic {
                panic!("producer {id}: queue closed under traffic at item {at}");
            }
            probes += 1;
            if probes > 8 {
                break;
            }
        }
        let m = if mode == Mode::Mixed {
            [Mode::Try, Mode::Blocking, Mode::Timeout, Mode::Batch][rng.range(0, 3)]
        } else {
            mode
        };
        let step = match m {
            Mode::Try => single_try(q, encode(id, next)),
            Mode::Blocking => single_blocking(q, encode(id, next)),
            Mode::Timeout => single_timeout(q, encode(id, next), rng),
            Mode::Batch | Mode::Mixed => {
                let len = rng.range(1, 48).min((n - next) as usize);
                batch(q, id, next, len as u32, rng)
            }
        };
        match step {
            Step::Pushed(k) => {
                assert!(
                    closed_at.is_none(),
                    "producer {id}: item {next} pushed after the queue refused item {} as closed",
                    closed_at.unwrap_or(0)
                );
                next += k;
                sent.ok += k;
                backoff.reset();
            }
            Step::Busy => {
                assert!(
                    closed_at.is_none(),
                    "producer {id}: a push after the close reported full or timed out, not closed"
                );
                backoff.snooze();
            }
            Step::PushedThenClosed { pushed, refused } => {
                assert!(
                    closed_at.is_none() || pushed == 0,
                    "producer {id}: item {next} pushed after the queue refused an item as closed"
                );
                sent.ok += pushed;
                for item in &refused {
                    let (from, seq) = decode(*item);
                    assert_eq!(from, id, "producer {id} was handed back another's item");
                    sent.handed_back.push(seq);
                }
                closed_at = closed_at.or(Some(next + pushed));
                // The refused items are gone from this producer for good:
                // skip past them so any later probe offers fresh items.
                next += pushed + refused.len() as u32;
            }
        }
    }
    sent.offered = next;
    // With no close, everything went in.
    if closed_at.is_none() {
        assert_eq!(sent.ok, n, "producer {id}");
    }
    sent
}

/// The outcome of one producer step.
enum Step {
    /// `k` items went in (k ≥ 1).
    Pushed(u32),
    /// Full or timed out: nothing went in, retry.
    Busy,
    /// The queue is closed: `pushed` items went in before the rest of the
    /// step's items were refused: `refused`, as the queue handed them back
    /// (or, for a slice, which the queue only borrows, as offered).
    PushedThenClosed { pushed: u32, refused: Vec<u64> },
}

fn handed_back(what: &str, offered: u64, got: u64) {
    assert_eq!(
        got, offered,
        "{what} handed back a different item than was offered"
    );
}

fn single_try<Q: Tx>(q: &Q, v: u64) -> Step {
    match q.try_push(v) {
        Ok(()) => Step::Pushed(1),
        Err(TryPushError::Full(back)) => {
            handed_back("try_push (Full)", v, back);
            Step::Busy
        }
        Err(TryPushError::Closed(back)) => {
            handed_back("try_push (Closed)", v, back);
            Step::PushedThenClosed {
                pushed: 0,
                refused: vec![back],
            }
        }
    }
}

fn single_blocking<Q: Tx>(q: &Q, v: u64) -> Step {
    match q.push(v) {
        Ok(()) => Step::Pushed(1),
        Err(PushError(back)) => {
            handed_back("push", v, back);
            Step::PushedThenClosed {
                pushed: 0,
                refused: vec![back],
            }
        }
    }
}

fn single_timeout<Q: Tx>(q: &Q, v: u64, rng: &mut Rng) -> Step {
    if !Q::HAS_PUSH_TIMEOUT {
        return single_try(q, v);
    }
    let t = Duration::from_micros(rng.range(0, 300) as u64);
    let r = if rng.one_in(2) {
        q.push_timeout(v, t)
    } else {
        q.push_deadline(v, Instant::now() + t)
    };
    match r {
        Ok(()) => Step::Pushed(1),
        Err(PushTimeoutError::Timeout(back)) => {
            handed_back("push_timeout (Timeout)", v, back);
            Step::Busy
        }
        Err(PushTimeoutError::Closed(back)) => {
            handed_back("push_timeout (Closed)", v, back);
            Step::PushedThenClosed {
                pushed: 0,
                refused: vec![back],
            }
        }
    }
}

/// One batch push of items `first..first + len` of producer `id`.
fn batch<Q: Tx>(q: &Q, id: u32, first: u32, len: u32, rng: &mut Rng) -> Step {
    let items: Vec<u64> = (first..first + len).map(|s| encode(id, s)).collect();
    match rng.range(0, 5) {
        0 | 1 => match q.try_push_slice(&items) {
            Ok(0) => Step::Busy,
            Ok(k) => {
                assert!(
                    k <= items.len(),
                    "try_push_slice reported {k} of {}",
                    items.len()
                );
                Step::Pushed(k as u32)
            }
            Err(Closed) => Step::PushedThenClosed {
                pushed: 0,
                refused: items,
            },
        },
        2 | 3 => {
            let mut v = items.clone();
            let r = q.try_push_vec(&mut v);
            let k = items.len() - v.len();
            assert_eq!(
                v,
                items[k..],
                "try_push_vec must drain exactly the pushed prefix"
            );
            match r {
                Ok(reported) => {
                    assert_eq!(reported, k, "try_push_vec's count vs items drained");
                    if k == 0 {
                        Step::Busy
                    } else {
                        Step::Pushed(k as u32)
                    }
                }
                Err(Closed) => {
                    assert_eq!(k, 0, "try_push_vec reported Closed after draining items");
                    Step::PushedThenClosed {
                        pushed: 0,
                        refused: v,
                    }
                }
            }
        }
        _ => match q.push_iter(items.clone()) {
            Ok(k) => {
                assert_eq!(
                    k,
                    items.len(),
                    "push_iter returned Ok without pushing everything"
                );
                Step::Pushed(len)
            }
            Err(PushError(rest)) => {
                assert!(
                    !rest.is_empty(),
                    "push_iter failed with nothing handed back"
                );
                let k = items.len() - rest.len();
                assert_eq!(
                    rest,
                    items[k..],
                    "push_iter must hand back exactly the unpushed suffix"
                );
                Step::PushedThenClosed {
                    pushed: k as u32,
                    refused: rest,
                }
            }
        },
    }
}

/// Pops in `mode` until the queue reports closed and drained; returns the
/// items in the order this consumer got them. Adds every item to `popped`
/// (shared by all consumers) as it goes, so closers can close mid-stream.
/// If `close_after` is `Some(k)`, this consumer closes the queue itself once
/// `popped` reaches `k`, and then goes on draining.
pub fn consume<Q: Rx>(
    q: &Q,
    mode: Mode,
    rng: &mut Rng,
    popped: &AtomicU64,
    close_after: Option<usize>,
) -> Vec<u64> {
    let mut got: Vec<u64> = Vec::new();
    let mut backoff = Backoff::default();
    let mut buf = vec![MaybeUninit::<u64>::uninit(); 64];
    let mut close_after = close_after;
    let limit = q.capacity().unwrap_or(1 << 40);
    loop {
        if close_after.is_some_and(|k| popped.load(Ordering::Relaxed) >= k as u64) {
            // It may be closed already, by someone else: fine either way.
            q.close();
            close_after = None;
        }
        let before = got.len();
        let m = if mode == Mode::Mixed {
            [Mode::Try, Mode::Blocking, Mode::Timeout, Mode::Batch][rng.range(0, 3)]
        } else {
            mode
        };
        let done = match m {
            Mode::Try => match q.try_pop() {
                Ok(v) => {
                    got.push(v);
                    false
                }
                Err(TryPopError::Empty) => false,
                Err(TryPopError::Closed) => true,
            },
            Mode::Blocking => match q.pop() {
                Ok(v) => {
                    got.push(v);
                    false
                }
                Err(Closed) => true,
            },
            Mode::Timeout => {
                let t = Duration::from_micros(rng.range(0, 300) as u64);
                let r = if rng.one_in(2) {
                    q.pop_timeout(t)
                } else {
                    q.pop_deadline(Instant::now() + t)
                };
                match r {
                    Ok(v) => {
                        got.push(v);
                        false
                    }
                    Err(PopTimeoutError::Timeout) => false,
                    Err(PopTimeoutError::Closed) => true,
                }
            }
            Mode::Batch | Mode::Mixed => {
                let max = rng.range(1, 64);
                match rng.range(0, 3) {
                    0 => match q.try_pop_into(&mut buf[..max]) {
                        Ok(k) => {
                            assert!(k <= max, "try_pop_into reported {k} for a buffer of {max}");
                            // SAFETY: try_pop_into initialised buf[..k]; u64 is Copy.
                            got.extend(buf[..k].iter().map(|s| unsafe { s.assume_init() }));
                            false
                        }
                        Err(Closed) => true,
                    },
                    1 => pop_batch(&mut got, max, |out| q.try_pop_many(out, max)).is_err(),
                    2 => {
                        let r = pop_batch(&mut got, max, |out| q.pop_many(out, max));
                        if let Ok(k) = r {
                            assert!(k >= 1, "pop_many returned with no item on an open queue");
                        }
                        r.is_err()
                    }
                    _ => {
                        let d = Instant::now() + Duration::from_micros(rng.range(0, 300) as u64);
                        match pop_batch(&mut got, max, |out| {
                            q.pop_many_deadline(out, max, Some(d)).map_err(|e| match e {
                                PopTimeoutError::Timeout => None,
                                PopTimeoutError::Closed => Some(Closed),
                            })
                        }) {
                            Ok(_) | Err(None) => false,
                            Err(Some(Closed)) => true,
                        }
                    }
                }
            }
        };
        if done {
            // Closed and drained is for good: nothing can be left or arrive.
            assert!(
                q.is_empty() && q.len() == 0,
                "closed and drained, yet len() is {}",
                q.len()
            );
            return got;
        }
        // Under traffic `len` is a snapshot, but never more than the
        // capacity, nor a wrapped-around negative count.
        let len = q.len();
        assert!(
            len <= limit,
            "len() reported {len} on a queue of capacity {:?}",
            q.capacity()
        );
        if got.len() > before {
            popped.fetch_add((got.len() - before) as u64, Ordering::Relaxed);
            backoff.reset();
        } else {
            backoff.snooze();
        }
    }
}

/// Runs a batch pop that appends to `got`, checking that it appends exactly
/// the number of items it reports and at most `max`.
fn pop_batch<E>(
    got: &mut Vec<u64>,
    max: usize,
    f: impl FnOnce(&mut Vec<u64>) -> Result<usize, E>,
) -> Result<usize, E> {
    let before = got.len();
    let r = f(got);
    let added = got.len() - before;
    match &r {
        Ok(k) => {
            assert_eq!(*k, added, "batch pop's count vs items appended");
            assert!(
                *k <= max,
                "batch pop appended {k} items, more than max {max}"
            );
        }
        Err(_) => assert_eq!(added, 0, "a failed batch pop appended items"),
    }
    r
}

/// Asserts exactly-once, in-order delivery: `sent[p]` is what producer `p`
/// did, `streams[c]` what consumer `c` popped, in order. Each producer's
/// items `0..offered` are each either popped exactly once or handed back
/// by the queue, never both and never neither; the pops add up to the
/// pushes the queue reported; nothing else was popped; and within each
/// stream each producer's items appear in increasing sequence. `context`
/// goes into every message.
///
/// # Panics
///
/// When any of that does not hold.
pub fn check_delivery(sent: &[Sent], streams: &[Vec<u64>], context: &str) {
    /// What became of an item.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum Fate {
        Unknown,
        Popped,
        HandedBack,
    }
    let mut fate: Vec<Vec<Fate>> = sent
        .iter()
        .map(|s| vec![Fate::Unknown; s.offered as usize])
        .collect();
    for (p, s) in sent.iter().enumerate() {
        for &seq in &s.handed_back {
            let f = fate[p].get_mut(seq as usize).unwrap_or_else(|| {
                panic!("{context}: producer {p} was handed back its item {seq}, never offered")
            });
            assert_eq!(
                *f,
                Fate::Unknown,
                "{context}: producer {p}'s item {seq} handed back twice"
            );
            *f = Fate::HandedBack;
        }
    }
    let mut popped = vec![0u64; sent.len()];
    for (c, stream) in streams.iter().enumerate() {
        let mut last: Vec<Option<u32>> = vec![None; sent.len()];
        for (i, &item) in stream.iter().enumerate() {
            let (p, seq) = decode(item);
            let p = p as usize;
            assert!(
                p < sent.len(),
                "{context}: consumer {c} popped {item:#x} (item {i}), from no producer"
            );
            if let Some(prev) = last[p] {
                assert!(
                    seq > prev,
                    "{context}: consumer {c} popped producer {p}'s item {seq} after its item {prev}"
                );
            }
            last[p] = Some(seq);
            let f = fate[p].get_mut(seq as usize).unwrap_or_else(|| {
                panic!("{context}: consumer {c} popped producer {p}'s item {seq}, never offered")
            });
            match *f {
                Fate::Unknown => *f = Fate::Popped,
                Fate::Popped => panic!("{context}: producer {p}'s item {seq} popped twice"),
                Fate::HandedBack => panic!(
                    "{context}: producer {p}'s item {seq} popped, and also handed back as refused"
                ),
            }
            popped[p] += 1;
        }
    }
    for (p, f) in fate.iter().enumerate() {
        if let Some(seq) = f.iter().position(|&f| f == Fate::Unknown) {
            let missing = f.iter().filter(|&&f| f == Fate::Unknown).count();
            panic!(
                "{context}: producer {p}'s item {seq} was neither popped nor handed back \
                 ({missing} of its {} items lost)",
                f.len()
            );
        }
        assert_eq!(
            popped[p],
            u64::from(sent[p].ok),
            "{context}: producer {p}: items popped vs pushes reported done"
        );
    }
}

/// Named threads that must all finish within a limit.
pub struct Crew<R> {
    handles: Vec<(String, JoinHandle<R>)>,
}

impl<R: Send + 'static> Default for Crew<R> {
    fn default() -> Self {
        Crew {
            handles: Vec::new(),
        }
    }
}

impl<R: Send + 'static> Crew<R> {
    /// An empty crew.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts `f` on a thread called `name`.
    pub fn spawn(&mut self, name: impl Into<String>, f: impl FnOnce() -> R + Send + 'static) {
        let name = name.into();
        let h = thread::Builder::new()
            .name(name.clone())
            .spawn(f)
            .expect("spawn a thread");
        self.handles.push((name, h));
    }

    /// How many of the threads have not finished yet (a snapshot).
    pub fn running(&self) -> usize {
        self.handles
            .iter()
            .filter(|(_, h)| !h.is_finished())
            .count()
    }

    /// Joins every thread, in order of spawning, and returns their results.
    ///
    /// # Panics
    ///
    /// If some thread has not finished within `limit` (naming those still
    /// running: a hang), or re-raises a thread's panic.
    pub fn join(self, limit: Duration, context: &str) -> Vec<R> {
        let deadline = Instant::now() + limit;
        while self.handles.iter().any(|(_, h)| !h.is_finished()) {
            if Instant::now() >= deadline {
                let stuck: Vec<&str> = self
                    .handles
                    .iter()
                    .filter(|(_, h)| !h.is_finished())
                    .map(|(n, _)| n.as_str())
                    .collect();
                panic!("{context}: hang: still running after {limit:?}: {stuck:?}");
            }
            thread::sleep(Duration::from_millis(2));
        }
        self.handles
            .into_iter()
            .map(|(name, h)| match h.join() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{context}: thread {name} panicked");
                    std::panic::resume_unwind(e)
                }
            })
            .collect()
    }
}

/// The hang limit for a traffic test: generous, and growing with the scale.
pub fn traffic_limit() -> Duration {
    Duration::from_secs_f64(120.0 * scale().max(1.0))
}

/// The hang limit for threads that should wake promptly (on close).
pub const WAKE_LIMIT: Duration = Duration::from_secs(60);

/// The Rust examples in the project README, compiled and run as doctests.
/// They live here, not in the core crate, because the published crate does
/// not carry the project README.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ProjectReadmeExamples;
