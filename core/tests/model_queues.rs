//! Sequential model tests: random operation sequences run against each queue
//! and against a `VecDeque` model (with a capacity and a closed flag), with
//! every result compared after every step.
//!
//! Values are numbered, so an item that comes back (popped, or handed back by
//! a failed push) is checked to be exactly the one the model predicts. The
//! sequences are long and the capacities small and mostly not powers of two,
//! so the rings wrap many times and the unbounded queue crosses many
//! segments. The same sequences also run with a non-`Copy` item that records
//! its drops, to check that every item is dropped exactly once.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::mem::MaybeUninit;
use std::rc::Rc;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use ringq::spsc::{self, Consumer, Producer};
use ringq::{
    BoundedQueue, CapacityError, Closed, PopTimeoutError, PushError, PushTimeoutError, TryPopError,
    TryPushError, UnboundedQueue,
};

/// One operation of a random sequence.
#[derive(Clone, Debug)]
enum Op {
    TryPush,
    /// Blocking push; run only when it cannot block (not full, or closed).
    Push,
    /// `push_timeout` with a zero or a 1 ms timeout.
    PushTimeout {
        wait: bool,
    },
    /// `push_deadline` with a deadline already in the past.
    PushDeadlinePast,
    TryPushSlice(usize),
    TryPushVec(usize),
    /// Blocking; run only when everything fits or the queue is closed.
    PushIter(usize),
    TryPop,
    /// Blocking pop; run only when it cannot block (not empty, or closed).
    Pop,
    /// `pop_timeout` with a zero or a 1 ms timeout.
    PopTimeout {
        wait: bool,
    },
    PopDeadlinePast,
    TryPopInto(usize),
    TryPopMany(usize),
    /// Blocking; run only when it cannot block.
    PopMany(usize),
    /// `pop_many_deadline` with no deadline when it cannot block, else a past one.
    PopManyDeadline(usize),
    /// Close from the producer side (`false`) or the consumer side (`true`);
    /// the shared queues ignore the side.
    Close {
        consumer_side: bool,
    },
}

fn op_strategy(batch: usize, close_weight: u32) -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => Just(Op::TryPush),
        4 => Just(Op::Push),
        2 => rare_wait().prop_map(|wait| Op::PushTimeout { wait }),
        1 => Just(Op::PushDeadlinePast),
        3 => (0..=batch).prop_map(Op::TryPushSlice),
        3 => (0..=batch).prop_map(Op::TryPushVec),
        2 => (0..=batch).prop_map(Op::PushIter),
        10 => Just(Op::TryPop),
        4 => Just(Op::Pop),
        2 => rare_wait().prop_map(|wait| Op::PopTimeout { wait }),
        1 => Just(Op::PopDeadlinePast),
        3 => (0..=batch).prop_map(Op::TryPopInto),
        3 => (0..=batch).prop_map(Op::TryPopMany),
        2 => (1..=batch.max(1)).prop_map(Op::PopMany),
        2 => (1..=batch.max(1)).prop_map(Op::PopManyDeadline),
        close_weight => any::<bool>().prop_map(|c| Op::Close { consumer_side: c }),
    ]
}

/// Real 1 ms waits are kept rare so that long sequences stay fast.
fn rare_wait() -> impl Strategy<Value = bool> {
    prop_oneof![7 => Just(false), 1 => Just(true)]
}

/// A deadline that has already passed.
fn past() -> Instant {
    let now = Instant::now();
    now.checked_sub(Duration::from_millis(5)).unwrap_or(now)
}

/// An item type the model can create from a number and identify again.
trait Item: Sized {
    /// Whether `try_push_slice` applies (it needs `Copy`).
    const COPY: bool = false;
    fn new(id: u64) -> Self;
    fn id(&self) -> u64;
    /// Runs `try_push_slice` where the item type allows it (`Copy` items).
    fn try_push_slice<Q: Queue<Self>>(_q: &Q, _ids: &[u64]) -> Option<Result<usize, Closed>> {
        None
    }
}

impl Item for u64 {
    const COPY: bool = true;
    fn new(id: u64) -> Self {
        id
    }
    fn id(&self) -> u64 {
        *self
    }
    fn try_push_slice<Q: Queue<Self>>(q: &Q, ids: &[u64]) -> Option<Result<usize, Closed>> {
        Some(q.try_push_slice(ids))
    }
}

/// A non-`Copy` item that records how often each id was dropped.
struct Tracked {
    id: u64,
    drops: Rc<RefCell<HashMap<u64, u32>>>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        *self.drops.borrow_mut().entry(self.id).or_insert(0) += 1;
    }
}

thread_local! {
    static DROPS: Rc<RefCell<HashMap<u64, u32>>> = Rc::default();
}

impl Item for Tracked {
    fn new(id: u64) -> Self {
        Tracked {
            id,
            drops: DROPS.with(Rc::clone),
        }
    }
    fn id(&self) -> u64 {
        self.id
    }
}

/// The operations every queue offers, so one runner drives all three.
trait Queue<T> {
    /// Whether the queue has `push_timeout`/`push_deadline` (bounded queues).
    const HAS_PUSH_TIMEOUT: bool;
    fn try_push(&self, v: T) -> Result<(), TryPushError<T>>;
    fn push(&self, v: T) -> Result<(), PushError<T>>;
    fn push_timeout(&self, v: T, t: Duration) -> Result<(), PushTimeoutError<T>>;
    fn push_deadline(&self, v: T, d: Instant) -> Result<(), PushTimeoutError<T>>;
    fn try_push_slice(&self, items: &[T]) -> Result<usize, Closed>
    where
        T: Copy;
    fn try_push_vec(&self, items: &mut Vec<T>) -> Result<usize, Closed>;
    fn push_iter(&self, items: Vec<T>) -> Result<usize, PushError<Vec<T>>>;
    fn try_pop(&self) -> Result<T, TryPopError>;
    fn pop(&self) -> Result<T, Closed>;
    fn pop_timeout(&self, t: Duration) -> Result<T, PopTimeoutError>;
    fn pop_deadline(&self, d: Instant) -> Result<T, PopTimeoutError>;
    fn try_pop_into(&self, buf: &mut [MaybeUninit<T>]) -> Result<usize, Closed>;
    fn try_pop_many(&self, out: &mut Vec<T>, max: usize) -> Result<usize, Closed>;
    fn pop_many(&self, out: &mut Vec<T>, max: usize) -> Result<usize, Closed>;
    fn pop_many_deadline(
        &self,
        out: &mut Vec<T>,
        max: usize,
        d: Option<Instant>,
    ) -> Result<usize, PopTimeoutError>;
    fn close(&self, consumer_side: bool) -> bool;
    /// Checks `is_closed`, `len`, `is_empty`, `is_full` and `capacity` on
    /// every handle and returns them as seen by the first one.
    fn observe(&self) -> Observed;
}

#[derive(Debug, PartialEq, Eq)]
struct Observed {
    closed: bool,
    len: usize,
    empty: bool,
    full: bool,
    capacity: Option<usize>,
}

macro_rules! forward_common {
    ($push:ident, $pop:ident) => {
        fn try_push(&self, v: T) -> Result<(), TryPushError<T>> {
            self.$push.try_push(v)
        }
        fn push(&self, v: T) -> Result<(), PushError<T>> {
            self.$push.push(v)
        }
        fn try_push_slice(&self, items: &[T]) -> Result<usize, Closed>
        where
            T: Copy,
        {
            self.$push.try_push_slice(items)
        }
        fn try_push_vec(&self, items: &mut Vec<T>) -> Result<usize, Closed> {
            self.$push.try_push_vec(items)
        }
        fn push_iter(&self, items: Vec<T>) -> Result<usize, PushError<Vec<T>>> {
            self.$push.push_iter(items)
        }
        fn try_pop(&self) -> Result<T, TryPopError> {
            self.$pop.try_pop()
        }
        fn pop(&self) -> Result<T, Closed> {
            self.$pop.pop()
        }
        fn pop_timeout(&self, t: Duration) -> Result<T, PopTimeoutError> {
            self.$pop.pop_timeout(t)
        }
        fn pop_deadline(&self, d: Instant) -> Result<T, PopTimeoutError> {
            self.$pop.pop_deadline(d)
        }
        fn try_pop_into(&self, buf: &mut [MaybeUninit<T>]) -> Result<usize, Closed> {
            self.$pop.try_pop_into(buf)
        }
        fn try_pop_many(&self, out: &mut Vec<T>, max: usize) -> Result<usize, Closed> {
            self.$pop.try_pop_many(out, max)
        }
        fn pop_many(&self, out: &mut Vec<T>, max: usize) -> Result<usize, Closed> {
            self.$pop.pop_many(out, max)
        }
        fn pop_many_deadline(
            &self,
            out: &mut Vec<T>,
            max: usize,
            d: Option<Instant>,
        ) -> Result<usize, PopTimeoutError> {
            self.$pop.pop_many_deadline(out, max, d)
        }
    };
}

/// Lets the shared queues use the same forwarding macro as the SPSC pair.
struct Shared<Q> {
    q: Q,
}

impl<T> Queue<T> for Shared<BoundedQueue<T>> {
    const HAS_PUSH_TIMEOUT: bool = true;
    forward_common!(q, q);
    fn push_timeout(&self, v: T, t: Duration) -> Result<(), PushTimeoutError<T>> {
        self.q.push_timeout(v, t)
    }
    fn push_deadline(&self, v: T, d: Instant) -> Result<(), PushTimeoutError<T>> {
        self.q.push_deadline(v, d)
    }
    fn close(&self, _consumer_side: bool) -> bool {
        self.q.close()
    }
    fn observe(&self) -> Observed {
        Observed {
            closed: self.q.is_closed(),
            len: self.q.len(),
            empty: self.q.is_empty(),
            full: self.q.is_full(),
            capacity: Some(self.q.capacity()),
        }
    }
}

impl<T> Queue<T> for Shared<UnboundedQueue<T>> {
    const HAS_PUSH_TIMEOUT: bool = false;
    forward_common!(q, q);
    fn push_timeout(&self, _v: T, _t: Duration) -> Result<(), PushTimeoutError<T>> {
        unreachable!("the unbounded queue has no push_timeout")
    }
    fn push_deadline(&self, _v: T, _d: Instant) -> Result<(), PushTimeoutError<T>> {
        unreachable!("the unbounded queue has no push_deadline")
    }
    fn close(&self, _consumer_side: bool) -> bool {
        self.q.close()
    }
    fn observe(&self) -> Observed {
        Observed {
            closed: self.q.is_closed(),
            len: self.q.len(),
            empty: self.q.is_empty(),
            full: self.q.is_full(),
            capacity: self.q.capacity(),
        }
    }
}

struct Pair<T> {
    p: Producer<T>,
    c: Consumer<T>,
}

impl<T> Queue<T> for Pair<T> {
    const HAS_PUSH_TIMEOUT: bool = true;
    forward_common!(p, c);
    fn push_timeout(&self, v: T, t: Duration) -> Result<(), PushTimeoutError<T>> {
        self.p.push_timeout(v, t)
    }
    fn push_deadline(&self, v: T, d: Instant) -> Result<(), PushTimeoutError<T>> {
        self.p.push_deadline(v, d)
    }
    fn close(&self, consumer_side: bool) -> bool {
        if consumer_side {
            self.c.close()
        } else {
            self.p.close()
        }
    }
    fn observe(&self) -> Observed {
        let from_p = Observed {
            closed: self.p.is_closed(),
            len: self.p.len(),
            empty: self.p.is_empty(),
            full: self.p.is_full(),
            capacity: Some(self.p.capacity()),
        };
        let from_c = Observed {
            closed: self.c.is_closed(),
            len: self.c.len(),
            empty: self.c.is_empty(),
            full: self.c.is_full(),
            capacity: Some(self.c.capacity()),
        };
        assert_eq!(from_p, from_c, "producer and consumer disagree");
        from_p
    }
}

/// The reference: a `VecDeque` of ids with an optional capacity and a closed flag.
struct Model {
    items: VecDeque<u64>,
    cap: Option<usize>,
    closed: bool,
    next_id: u64,
}

impl Model {
    fn new(cap: Option<usize>) -> Self {
        Model {
            items: VecDeque::new(),
            cap,
            closed: false,
            next_id: 0,
        }
    }
    fn fresh(&mut self, n: usize) -> Vec<u64> {
        let start = self.next_id;
        self.next_id += n as u64;
        (start..self.next_id).collect()
    }
    fn free(&self) -> usize {
        self.cap.map_or(usize::MAX, |c| c - self.items.len())
    }
    fn is_full(&self) -> bool {
        self.free() == 0
    }
    fn take(&mut self, n: usize) -> Vec<u64> {
        self.items.drain(..n.min(self.items.len())).collect()
    }
    fn observe(&self) -> Observed {
        Observed {
            closed: self.closed,
            len: self.items.len(),
            empty: self.items.is_empty(),
            full: self.is_full(),
            capacity: self.cap,
        }
    }
}

fn ids<T: Item>(v: &[T]) -> Vec<u64> {
    v.iter().map(Item::id).collect()
}

fn try_push_result<T: Item>(r: Result<(), TryPushError<T>>) -> Result<(), (&'static str, u64)> {
    r.map_err(|e| match e {
        TryPushError::Full(v) => ("Full", v.id()),
        TryPushError::Closed(v) => ("Closed", v.id()),
    })
}

fn push_timeout_result<T: Item>(
    r: Result<(), PushTimeoutError<T>>,
) -> Result<(), (&'static str, u64)> {
    r.map_err(|e| match e {
        PushTimeoutError::Timeout(v) => ("Timeout", v.id()),
        PushTimeoutError::Closed(v) => ("Closed", v.id()),
    })
}

/// Runs `ops` against `q` and the model, comparing after every step;
/// returns how many item ids were used (items are numbered from 0).
/// With `drain`, finally pops what is left and checks the end state;
/// without, leaves the items for the queue's drop.
fn run<T: Item, Q: Queue<T>>(q: &Q, cap: Option<usize>, ops: &[Op], drain: bool) -> u64 {
    let mut m = Model::new(cap);
    assert_eq!(q.observe(), m.observe(), "fresh queue");
    for (step, op) in ops.iter().enumerate() {
        let ctx = format!(
            "step {step}: {op:?} (model len {}, closed {})",
            m.items.len(),
            m.closed
        );
        match *op {
            Op::TryPush => {
                let id = m.fresh(1)[0];
                let want = if m.closed {
                    Err(("Closed", id))
                } else if m.is_full() {
                    Err(("Full", id))
                } else {
                    m.items.push_back(id);
                    Ok(())
                };
                assert_eq!(try_push_result(q.try_push(T::new(id))), want, "{ctx}");
            }
            Op::Push if m.closed || !m.is_full() => {
                let id = m.fresh(1)[0];
                let got = q.push(T::new(id)).map_err(|e| e.into_inner().id());
                let want = if m.closed {
                    Err(id)
                } else {
                    m.items.push_back(id);
                    Ok(())
                };
                assert_eq!(got, want, "{ctx}");
            }
            Op::PushTimeout { .. } | Op::PushDeadlinePast if Q::HAS_PUSH_TIMEOUT => {
                let id = m.fresh(1)[0];
                let got = match *op {
                    Op::PushTimeout { wait } => {
                        let t = if wait {
                            Duration::from_millis(1)
                        } else {
                            Duration::ZERO
                        };
                        q.push_timeout(T::new(id), t)
                    }
                    _ => q.push_deadline(T::new(id), past()),
                };
                let want = if m.closed {
                    Err(("Closed", id))
                } else if m.is_full() {
                    Err(("Timeout", id))
                } else {
                    m.items.push_back(id);
                    Ok(())
                };
                assert_eq!(push_timeout_result(got), want, "{ctx}");
            }
            Op::TryPushSlice(n) if T::COPY => {
                let batch = m.fresh(n);
                let Some(got) = T::try_push_slice(q, &batch) else {
                    continue;
                };
                check_push_batch(&mut m, &batch, got, &ctx);
            }
            Op::TryPushVec(n) => {
                let batch = m.fresh(n);
                let mut v: Vec<T> = batch.iter().map(|&id| T::new(id)).collect();
                let got = q.try_push_vec(&mut v);
                let pushed = check_push_batch(&mut m, &batch, got, &ctx);
                assert_eq!(ids(&v), batch[pushed..], "{ctx}: what is left in the vec");
            }
            Op::PushIter(n) if m.closed || n <= m.free() => {
                let batch = m.fresh(n);
                let got = q.push_iter(batch.iter().map(|&id| T::new(id)).collect());
                let got = got.map_err(|e| ids(&e.into_inner()));
                let want = if n == 0 {
                    // Like the other batches, an empty one is a no-op that
                    // succeeds, even on a closed queue.
                    Ok(0)
                } else if m.closed {
                    // It reads one batch of 64 from the iterator, finds the
                    // queue closed, and hands that batch back.
                    Err(batch[..n.min(64)].to_vec())
                } else {
                    m.items.extend(&batch);
                    Ok(n)
                };
                assert_eq!(got, want, "{ctx}");
            }
            Op::TryPop => {
                let want = match m.items.pop_front() {
                    Some(id) => Ok(id),
                    None if m.closed => Err(TryPopError::Closed),
                    None => Err(TryPopError::Empty),
                };
                assert_eq!(q.try_pop().map(|v| v.id()), want, "{ctx}");
            }
            Op::Pop if m.closed || !m.items.is_empty() => {
                let want = m.items.pop_front().ok_or(Closed);
                assert_eq!(q.pop().map(|v| v.id()), want, "{ctx}");
            }
            Op::PopTimeout { .. } | Op::PopDeadlinePast => {
                let got = match *op {
                    Op::PopTimeout { wait } => {
                        let t = if wait {
                            Duration::from_millis(1)
                        } else {
                            Duration::ZERO
                        };
                        q.pop_timeout(t)
                    }
                    _ => q.pop_deadline(past()),
                };
                let want = match m.items.pop_front() {
                    Some(id) => Ok(id),
                    None if m.closed => Err(PopTimeoutError::Closed),
                    None => Err(PopTimeoutError::Timeout),
                };
                assert_eq!(got.map(|v| v.id()), want, "{ctx}");
            }
            Op::TryPopInto(n) => {
                let mut buf: Vec<MaybeUninit<T>> = (0..n).map(|_| MaybeUninit::uninit()).collect();
                let got = q.try_pop_into(&mut buf);
                let popped = match got {
                    Ok(k) => {
                        assert!(k <= n, "{ctx}: reported {k} items for a buffer of {n}");
                        buf[..k]
                            .iter()
                            // SAFETY: try_pop_into initialised buf[..k], and each
                            // slot is read exactly once.
                            .map(|s| unsafe { s.assume_init_read() })
                            .collect::<Vec<T>>()
                    }
                    Err(Closed) => Vec::new(),
                };
                check_pop_batch(&mut m, n, got.map(|_| ids(&popped)), &ctx);
            }
            Op::TryPopMany(max) => {
                let sentinel = m.fresh(1)[0];
                let mut out = vec![T::new(sentinel)];
                let got = q.try_pop_many(&mut out, max);
                check_appended(&out, sentinel, &got, &ctx);
                check_pop_batch(&mut m, max, got.map(|_| ids(&out[1..])), &ctx);
            }
            Op::PopMany(max) if m.closed || !m.items.is_empty() => {
                let sentinel = m.fresh(1)[0];
                let mut out = vec![T::new(sentinel)];
                let got = q.pop_many(&mut out, max);
                check_appended(&out, sentinel, &got, &ctx);
                check_pop_batch(&mut m, max, got.map(|_| ids(&out[1..])), &ctx);
            }
            Op::PopManyDeadline(max) => {
                let sentinel = m.fresh(1)[0];
                let mut out = vec![T::new(sentinel)];
                let can_block = !m.closed && m.items.is_empty();
                let deadline = can_block.then(past);
                let got = q.pop_many_deadline(&mut out, max, deadline);
                let want = if can_block {
                    Err(PopTimeoutError::Timeout)
                } else if m.items.is_empty() {
                    Err(PopTimeoutError::Closed)
                } else {
                    Ok(m.take(max))
                };
                assert_eq!(
                    out[0].id(),
                    sentinel,
                    "{ctx}: pop_many_deadline must append"
                );
                assert_eq!(got.map(|_| ids(&out[1..])), want, "{ctx}");
            }
            Op::Close { consumer_side } => {
                let want = !m.closed;
                m.closed = true;
                assert_eq!(q.close(consumer_side), want, "{ctx}");
            }
            // A blocking operation that would block, or a push_timeout on a
            // queue without one: skipped.
            _ => {}
        }
        assert_eq!(q.observe(), m.observe(), "{ctx}: state after the step");
    }
    if !drain {
        return m.next_id;
    }
    // Drain what is left, then the queue reports Closed or Empty.
    while let Some(id) = m.items.pop_front() {
        assert_eq!(q.try_pop().map(|v| v.id()), Ok(id), "final drain");
    }
    let want = if m.closed {
        TryPopError::Closed
    } else {
        TryPopError::Empty
    };
    assert_eq!(
        q.try_pop().map(|v| v.id()).unwrap_err(),
        want,
        "after the final drain"
    );
    m.next_id
}

/// Checks the result of `try_push_slice`/`try_push_vec` against the model,
/// applies it, and returns how many items went in.
fn check_push_batch(m: &mut Model, batch: &[u64], got: Result<usize, Closed>, ctx: &str) -> usize {
    if m.closed {
        // An empty batch is a no-op that succeeds, even on a closed queue.
        let want = if batch.is_empty() { Ok(0) } else { Err(Closed) };
        assert_eq!(got, want, "{ctx}");
        return 0;
    }
    let k = batch.len().min(m.free());
    assert_eq!(got, Ok(k), "{ctx}");
    m.items.extend(&batch[..k]);
    k
}

/// Checks a non-blocking batch pop of at most `max` items against the model.
fn check_pop_batch(m: &mut Model, max: usize, got: Result<Vec<u64>, Closed>, ctx: &str) {
    if m.closed && m.items.is_empty() {
        // An empty buffer is a no-op that succeeds, even on a closed queue.
        let want = if max == 0 {
            Ok(Vec::new())
        } else {
            Err(Closed)
        };
        assert_eq!(got, want, "{ctx}");
        return;
    }
    let want = m.take(max);
    assert_eq!(got, Ok(want), "{ctx}");
}

fn check_appended<T: Item>(out: &[T], sentinel: u64, got: &Result<usize, Closed>, ctx: &str) {
    assert_eq!(
        out[0].id(),
        sentinel,
        "{ctx}: batch pops must append, not overwrite"
    );
    let reported = *got.as_ref().unwrap_or(&0);
    assert_eq!(
        out.len() - 1,
        reported,
        "{ctx}: reported count vs items appended"
    );
}

/// Runs `f`, then checks every `Tracked` created meanwhile was dropped exactly once.
fn with_drop_check(f: impl FnOnce() -> u64) {
    DROPS.with(|d| d.borrow_mut().clear());
    let created = f();
    DROPS.with(|d| {
        let d = d.borrow();
        for id in 0..created {
            assert_eq!(d.get(&id).copied().unwrap_or(0), 1, "item {id} drop count");
        }
        assert_eq!(d.len() as u64, created, "drops of items never created");
    });
}

fn config(cases: u32) -> ProptestConfig {
    // Under Miri, which runs each step a thousand times slower, two cases
    // (of shorter sequences, see `ops`) are already a long run.
    let cases = if cfg!(miri) { cases.min(2) } else { cases };
    // PROPTEST_CASES, when set, overrides the per-test default.
    let env = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok());
    ProptestConfig {
        cases: env.unwrap_or(cases),
        // Failures print the minimal sequence; no files are written.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Small capacities, most of them not powers of two, and a few larger ones.
fn capacity() -> impl Strategy<Value = usize> {
    prop_oneof![3 => 1..=5usize, 1 => 6..=70usize]
}

/// Sequences long enough to wrap a small ring many times; closing is rare
/// so that most of a sequence runs on an open queue.
fn ops(batch: usize, max_len: usize) -> impl Strategy<Value = Vec<Op>> {
    let max_len = if cfg!(miri) { max_len.min(80) } else { max_len };
    prop::collection::vec(op_strategy(batch, 1), 1..max_len)
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    #[cfg_attr(miri, ignore = "proptest's generation alone takes minutes under Miri; fixed_sequences_match_the_model runs the same model")]
    fn bounded_matches_model(cap in capacity(), ops in ops(8, 1500)) {
        let q = Shared { q: BoundedQueue::<u64>::new(cap).unwrap() };
        run(&q, Some(cap), &ops, true);
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest's generation alone takes minutes under Miri; fixed_sequences_match_the_model runs the same model")]
    fn spsc_matches_model(cap in capacity(), ops in ops(8, 1500)) {
        let (p, c) = spsc::channel::<u64>(cap).unwrap();
        run(&Pair { p, c }, Some(cap), &ops, true);
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest's generation alone takes minutes under Miri; fixed_sequences_match_the_model runs the same model")]
    fn unbounded_matches_model(ops in ops(80, 1500)) {
        let q = Shared { q: UnboundedQueue::<u64>::new() };
        run(&q, None, &ops, true);
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    #[cfg_attr(miri, ignore = "proptest's generation alone takes minutes under Miri; fixed_sequences_match_the_model runs the same model")]
    fn bounded_drops_each_item_once(cap in capacity(), ops in ops(8, 600)) {
        with_drop_check(|| {
            let q = Shared { q: BoundedQueue::<Tracked>::new(cap).unwrap() };
            run(&q, Some(cap), &ops, false)
        });
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest's generation alone takes minutes under Miri; fixed_sequences_match_the_model runs the same model")]
    fn spsc_drops_each_item_once(cap in capacity(), ops in ops(8, 600)) {
        with_drop_check(|| {
            let (p, c) = spsc::channel::<Tracked>(cap).unwrap();
            run(&Pair { p, c }, Some(cap), &ops, false)
        });
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest's generation alone takes minutes under Miri; fixed_sequences_match_the_model runs the same model")]
    fn unbounded_drops_each_item_once(ops in ops(80, 600)) {
        with_drop_check(|| {
            let q = Shared { q: UnboundedQueue::<Tracked>::new() };
            run(&q, None, &ops, false)
        });
    }
}

/// How many pushes before the position counters wrap: enough that most
/// sequences cross the wrap early, many times over for small rings.
fn before_wrap() -> impl Strategy<Value = usize> {
    0..100usize
}

/// Mostly capacities that do not divide `2^usize::BITS`, the ones for which
/// a position and a slot index part ways at the wrap.
fn wrap_capacity() -> impl Strategy<Value = usize> {
    prop_oneof![3 => prop::sample::select(vec![3usize, 5, 6, 7, 12]), 1 => 1..=70usize]
}

// The same sequences on queues whose counters start just below their wrap
// point, so every operation, and the final drop, runs across the wrap.
proptest! {
    #![proptest_config(config(128))]

    #[test]
    #[cfg_attr(miri, ignore = "proptest's generation alone takes minutes under Miri; fixed_sequences_match_the_model runs the same model")]
    fn bounded_matches_model_across_wrap(cap in wrap_capacity(), before in before_wrap(), ops in ops(8, 800)) {
        let q = Shared { q: BoundedQueue::<u64>::new_near_wrap(cap, before).unwrap() };
        run(&q, Some(cap), &ops, true);
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest's generation alone takes minutes under Miri; fixed_sequences_match_the_model runs the same model")]
    fn spsc_matches_model_across_wrap(cap in wrap_capacity(), before in before_wrap(), ops in ops(8, 800)) {
        let (p, c) = spsc::channel_near_wrap::<u64>(cap, before).unwrap();
        run(&Pair { p, c }, Some(cap), &ops, true);
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest's generation alone takes minutes under Miri; fixed_sequences_match_the_model runs the same model")]
    fn unbounded_matches_model_across_wrap(before in before_wrap(), ops in ops(80, 800)) {
        let q = Shared { q: UnboundedQueue::<u64>::new_near_wrap(before) };
        run(&q, None, &ops, true);
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest's generation alone takes minutes under Miri; fixed_sequences_match_the_model runs the same model")]
    fn bounded_drops_each_item_once_across_wrap(cap in wrap_capacity(), before in before_wrap(), ops in ops(8, 600)) {
        with_drop_check(|| {
            let q = Shared { q: BoundedQueue::<Tracked>::new_near_wrap(cap, before).unwrap() };
            run(&q, Some(cap), &ops, false)
        });
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest's generation alone takes minutes under Miri; fixed_sequences_match_the_model runs the same model")]
    fn spsc_drops_each_item_once_across_wrap(cap in wrap_capacity(), before in before_wrap(), ops in ops(8, 600)) {
        with_drop_check(|| {
            let (p, c) = spsc::channel_near_wrap::<Tracked>(cap, before).unwrap();
            run(&Pair { p, c }, Some(cap), &ops, false)
        });
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest's generation alone takes minutes under Miri; fixed_sequences_match_the_model runs the same model")]
    fn unbounded_drops_each_item_once_across_wrap(before in before_wrap(), ops in ops(80, 600)) {
        with_drop_check(|| {
            let q = Shared { q: UnboundedQueue::<Tracked>::new_near_wrap(before) };
            run(&q, None, &ops, false)
        });
    }
}

/// `normal` in a normal build, `miri` under Miri, which runs each step a
/// thousand times slower: the same checks on fewer cases.
fn sizes<T>(normal: T, miri: T) -> T {
    if cfg!(miri) {
        miri
    } else {
        normal
    }
}

/// A small, seedable generator (xorshift64*) for the fixed sequences.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// A pseudo-random sequence of `len` operations with the weights of
/// `op_strategy`, from `seed`.
fn fixed_ops(seed: u64, len: usize, batch: usize) -> Vec<Op> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let batch = batch as u64;
    (0..len)
        .map(|_| {
            let wait = rng.below(8) == 0;
            let n = rng.below(batch + 1) as usize;
            let m = 1 + rng.below(batch.max(1)) as usize;
            match rng.below(55) {
                0..=11 => Op::TryPush,
                12..=15 => Op::Push,
                16..=17 => Op::PushTimeout { wait },
                18 => Op::PushDeadlinePast,
                19..=21 => Op::TryPushSlice(n),
                22..=24 => Op::TryPushVec(n),
                25..=26 => Op::PushIter(n),
                27..=36 => Op::TryPop,
                37..=40 => Op::Pop,
                41..=42 => Op::PopTimeout { wait },
                43 => Op::PopDeadlinePast,
                44..=46 => Op::TryPopInto(n),
                47..=49 => Op::TryPopMany(n),
                50..=51 => Op::PopMany(m),
                52..=53 => Op::PopManyDeadline(m),
                _ => Op::Close {
                    consumer_side: rng.below(2) == 0,
                },
            }
        })
        .collect()
}

/// The model tests on fixed pseudo-random sequences, for every queue, item
/// kind and start (fresh, or just below the wrap). They are what runs under
/// Miri, where proptest's own work is too slow; elsewhere they add a few
/// cases to the proptests.
#[test]
fn fixed_sequences_match_the_model() {
    let (seeds, len) = sizes((16, 400), (2, 40));
    for seed in 0..seeds {
        let cap = [1, 3, 5, 6][seed as usize % 4];
        let before = seed as usize * 7 % 40;
        let ops = fixed_ops(seed, len, 8);
        let big_ops = fixed_ops(seed, len, 40);
        let q = Shared {
            q: BoundedQueue::<u64>::new(cap).unwrap(),
        };
        run(&q, Some(cap), &ops, true);
        let q = Shared {
            q: BoundedQueue::<u64>::new_near_wrap(cap, before).unwrap(),
        };
        run(&q, Some(cap), &ops, true);
        let (p, c) = spsc::channel::<u64>(cap).unwrap();
        run(&Pair { p, c }, Some(cap), &ops, true);
        let (p, c) = spsc::channel_near_wrap::<u64>(cap, before).unwrap();
        run(&Pair { p, c }, Some(cap), &ops, true);
        let q = Shared {
            q: UnboundedQueue::<u64>::new(),
        };
        run(&q, None, &big_ops, true);
        let q = Shared {
            q: UnboundedQueue::<u64>::new_near_wrap(before),
        };
        run(&q, None, &big_ops, true);
        with_drop_check(|| {
            let q = Shared {
                q: BoundedQueue::<Tracked>::new_near_wrap(cap, before).unwrap(),
            };
            run(&q, Some(cap), &ops, false)
        });
        with_drop_check(|| {
            let (p, c) = spsc::channel_near_wrap::<Tracked>(cap, before).unwrap();
            run(&Pair { p, c }, Some(cap), &ops, false)
        });
        with_drop_check(|| {
            let q = Shared {
                q: UnboundedQueue::<Tracked>::new_near_wrap(before),
            };
            run(&q, None, &big_ops, false)
        });
    }
}

/// Items still in the queue when it is dropped are dropped with it.
#[test]
fn dropping_a_queue_drops_its_items() {
    for &cap in sizes(&[1usize, 3, 5, 7, 64][..], &[1, 3]) {
        for fill in 0..=cap {
            // Rotate the ring first so the items straddle the wrap point.
            for rotate in [0, cap / 2 + 1] {
                with_drop_check(|| {
                    let q = BoundedQueue::<Tracked>::new(cap).unwrap();
                    let mut id = 0;
                    for _ in 0..rotate {
                        q.try_push(Tracked::new(id)).ok().unwrap();
                        drop(q.try_pop().unwrap());
                        id += 1;
                    }
                    for _ in 0..fill {
                        q.try_push(Tracked::new(id)).ok().unwrap();
                        id += 1;
                    }
                    drop(q);
                    id
                });
                with_drop_check(|| {
                    let (p, c) = spsc::channel::<Tracked>(cap).unwrap();
                    let mut id = 0;
                    for _ in 0..rotate {
                        p.try_push(Tracked::new(id)).ok().unwrap();
                        drop(c.try_pop().unwrap());
                        id += 1;
                    }
                    for _ in 0..fill {
                        p.try_push(Tracked::new(id)).ok().unwrap();
                        id += 1;
                    }
                    // Either half may go last.
                    if fill % 2 == 0 {
                        drop(p);
                        drop(c);
                    } else {
                        drop(c);
                        drop(p);
                    }
                    id
                });
            }
        }
    }
    // Unbounded: partly consumed, across several segments.
    let cases = [
        (0, 0),
        (1, 0),
        (31, 0),
        (32, 1),
        (200, 0),
        (200, 63),
        (500, 497),
    ];
    for &(pushed, popped) in sizes(&cases[..], &[(1, 0), (32, 1)]) {
        with_drop_check(|| {
            let q = UnboundedQueue::<Tracked>::new();
            for id in 0..pushed {
                q.try_push(Tracked::new(id)).ok().unwrap();
            }
            for id in 0..popped {
                assert_eq!(q.try_pop().unwrap().id, id);
            }
            drop(q);
            pushed
        });
    }
}

#[test]
fn zero_capacity_is_rejected() {
    assert_eq!(BoundedQueue::<u8>::new(0).err(), Some(CapacityError::Zero));
    assert_eq!(spsc::channel::<u8>(0).err(), Some(CapacityError::Zero));
}

/// Dropping one SPSC half closes the queue; the other side sees it.
#[test]
fn dropping_an_spsc_half_closes() {
    let (p, c) = spsc::channel::<u32>(3).unwrap();
    p.try_push(1).unwrap();
    p.try_push(2).unwrap();
    drop(p);
    assert!(c.is_closed());
    assert_eq!(c.try_pop(), Ok(1));
    assert_eq!(c.pop(), Ok(2));
    assert_eq!(c.try_pop(), Err(TryPopError::Closed));
    assert_eq!(c.pop(), Err(Closed));
    assert!(!c.close(), "already closed by the dropped producer");

    let (p, c) = spsc::channel::<u32>(3).unwrap();
    drop(c);
    assert!(p.is_closed());
    assert_eq!(p.try_push(7), Err(TryPushError::Closed(7)));
    assert_eq!(p.push(8).unwrap_err().into_inner(), 8);
    assert_eq!(
        p.push_timeout(9, Duration::from_millis(1)),
        Err(PushTimeoutError::Closed(9))
    );
}
