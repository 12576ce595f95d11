//! Position counters that wrap around.
//!
//! The bounded MPMC and the unbounded queue count positions in a `usize`
//! that wraps after `2^usize::BITS` steps: after about four billion items on
//! a 32-bit target. (The SPSC ring counts them modulo twice its capacity, so
//! it wraps all the time.) These tests start the counters a few pushes below
//! their wrap point (with the test-only `*_near_wrap` constructors) and then
//! run each operation across it, drop included, checking every item and
//! every drop.
//! The model tests (`model_queues.rs`) run random operation sequences across
//! the wrap too.

use std::collections::HashMap;
use std::mem::MaybeUninit;
use std::sync::{Arc, Mutex};

use ringq::spsc;
use ringq::{BoundedQueue, TryPopError, UnboundedQueue};

/// Counts the drops of every item made from it.
#[derive(Clone, Default)]
struct Ledger(Arc<Mutex<HashMap<u64, u32>>>);

impl Ledger {
    fn item(&self, id: u64) -> Item {
        Item {
            id,
            text: id.to_string(),
            ledger: self.clone(),
        }
    }

    /// Every id in `ids` was dropped exactly once, and nothing else was.
    fn assert_dropped_once(&self, ids: impl IntoIterator<Item = u64>) {
        let drops = self.0.lock().unwrap();
        let mut expected = 0;
        for id in ids {
            assert_eq!(drops.get(&id).copied(), Some(1), "drops of item {id}");
            expected += 1;
        }
        assert_eq!(drops.len(), expected, "drops of items not expected");
    }
}

/// An item with a heap allocation, which a double drop would free twice.
struct Item {
    id: u64,
    text: String,
    ledger: Ledger,
}

impl Drop for Item {
    fn drop(&mut self) {
        assert_eq!(self.text, self.id.to_string(), "a corrupt item dropped");
        *self.ledger.0.lock().unwrap().entry(self.id).or_default() += 1;
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

/// Ring capacities to try: 1, small ones that do not divide
/// `2^usize::BITS`, and 1000 (all but that under Miri).
fn capacities() -> &'static [usize] {
    sizes(&[1, 3, 7, 1000], &[3])
}

/// Pushes before the wrap, in a few places relative to the ring's laps.
fn starts(cap: usize) -> Vec<usize> {
    let mut v = if cfg!(miri) {
        vec![1, cap + 1]
    } else {
        vec![1, 2, cap / 2 + 1, cap, cap + 1, 2 * cap + 3]
    };
    v.sort_unstable();
    v.dedup();
    v
}

/// How many items to leave in a ring of `cap` when it is dropped.
fn fills(cap: usize) -> Vec<usize> {
    let mut v: Vec<usize> = [0, 1, 2, cap].into_iter().filter(|&f| f <= cap).collect();
    v.dedup();
    v
}

/// SPSC with `String` items and capacity 1000: items move through the wrap,
/// then two are pushed and the queue dropped. The dropped items must be
/// exactly the two still inside. (Written when SPSC positions wrapped at
/// `2^usize::BITS`, which 1000 does not divide.)
#[test]
fn spsc_drop_after_wrap_drops_exactly_the_items_inside() {
    let (tx, rx) = spsc::channel_near_wrap::<String>(1000, sizes(500, 5)).unwrap();
    for i in 0..sizes(1500, 20) {
        tx.try_push(i.to_string()).unwrap();
        assert_eq!(rx.try_pop().unwrap(), i.to_string());
    }
    tx.try_push("last but one".into()).unwrap();
    tx.try_push("last".into()).unwrap();
    drop(tx);
    drop(rx);

    // The same, counting every drop.
    for &cap in capacities() {
        for before in starts(cap) {
            for fill in fills(cap) {
                for consumer_last in [false, true] {
                    let ledger = Ledger::default();
                    let (tx, rx) = spsc::channel_near_wrap(cap, before).unwrap();
                    let through = (before + cap) as u64;
                    for id in 0..through {
                        tx.try_push(ledger.item(id)).ok().unwrap();
                        assert_eq!(rx.try_pop().unwrap().id, id);
                    }
                    for id in through..through + fill as u64 {
                        tx.try_push(ledger.item(id)).ok().unwrap();
                    }
                    if consumer_last {
                        drop(tx);
                        drop(rx);
                    } else {
                        drop(rx);
                        drop(tx);
                    }
                    ledger.assert_dropped_once(0..through + fill as u64);
                }
            }
        }
    }
}

/// The same for the bounded MPMC queue: a drop with the live items on both
/// sides of the wrap.
#[test]
fn bounded_drop_across_wrap_drops_exactly_the_items_inside() {
    for &cap in capacities() {
        for before in starts(cap) {
            for fill in fills(cap) {
                let ledger = Ledger::default();
                let q = BoundedQueue::new_near_wrap(cap, before).unwrap();
                let through = before.saturating_sub(fill / 2) as u64;
                for id in 0..through {
                    q.try_push(ledger.item(id)).ok().unwrap();
                    assert_eq!(q.try_pop().unwrap().id, id);
                }
                for id in through..through + fill as u64 {
                    q.try_push(ledger.item(id)).ok().unwrap();
                }
                assert_eq!(q.len(), fill);
                drop(q);
                ledger.assert_dropped_once(0..through + fill as u64);
            }
        }
    }
}

/// The same for the unbounded queue, with the live items spanning the
/// segment that ends at the wrap and the ones after it.
#[test]
fn unbounded_drop_across_wrap_drops_exactly_the_items_inside() {
    for &before in sizes(&[1, 31, 62, 93][..], &[1, 31]) {
        let cases = [(0, 200), (before - 1, 2), (before, 40), (before + 5, 70)];
        for &(through, fill) in sizes(&cases[..], &cases[1..3]) {
            let ledger = Ledger::default();
            let q = UnboundedQueue::new_near_wrap(before);
            for id in 0..through as u64 {
                q.try_push(ledger.item(id)).ok().unwrap();
                assert_eq!(q.try_pop().unwrap().id, id);
            }
            let end = (through + fill) as u64;
            for id in through as u64..end {
                q.try_push(ledger.item(id)).ok().unwrap();
            }
            assert_eq!(q.len(), fill);
            drop(q);
            ledger.assert_dropped_once(0..end);
        }
    }
}

/// `len` counts the items between head and tail when the tail index has
/// wrapped and the head index has not, at every offset of both.
#[test]
fn unbounded_len_with_only_the_tail_wrapped() {
    let before = 62;
    let n_max = sizes(200, 100);
    let q = UnboundedQueue::new_near_wrap(before);
    for n in 0..n_max {
        assert_eq!(q.len(), n, "after {n} pushes, none popped");
        assert_eq!(q.is_empty(), n == 0);
        q.push(n).unwrap();
    }
    // Pop through the wrap; len follows.
    for n in 0..n_max {
        assert_eq!(q.len(), n_max - n, "after {n} pops");
        assert_eq!(q.try_pop(), Ok(n));
    }
    assert!(q.is_empty());
    assert_eq!(q.try_pop(), Err(TryPopError::Empty));
}

/// `len`, `is_empty` and `is_full` of the bounded queues stay exact while
/// the positions wrap.
#[test]
fn bounded_len_across_wrap() {
    for &cap in sizes(&[1, 3, 7, 64][..], &[1, 3]) {
        for before in starts(cap) {
            let q = BoundedQueue::new_near_wrap(cap, before).unwrap();
            let (tx, rx) = spsc::channel_near_wrap(cap, before).unwrap();
            let mut next = 0u64;
            let mut expect = std::collections::VecDeque::new();
            // Fill, half-drain, refill, drain: each step crosses the wrap
            // somewhere for one of the starting points.
            for round in 0..4 * cap + 4 {
                let push = round % 4 != 3 || expect.is_empty();
                if push && expect.len() < cap {
                    q.try_push(next).unwrap();
                    tx.try_push(next).unwrap();
                    expect.push_back(next);
                    next += 1;
                } else if let Some(v) = expect.pop_front() {
                    assert_eq!(q.try_pop(), Ok(v));
                    assert_eq!(rx.try_pop(), Ok(v));
                }
                for (len, empty, full) in [
                    (q.len(), q.is_empty(), q.is_full()),
                    (tx.len(), tx.is_empty(), tx.is_full()),
                    (rx.len(), rx.is_empty(), rx.is_full()),
                ] {
                    assert_eq!(len, expect.len(), "cap {cap}, {before} before the wrap");
                    assert_eq!(empty, expect.is_empty());
                    assert_eq!(full, expect.len() == cap);
                }
            }
        }
    }
}

/// Every batch operation across the wrap: a batch that starts before it
/// and ends after it, on each queue.
#[test]
fn batches_across_wrap() {
    for &cap in sizes(&[3, 7, 64][..], &[3]) {
        for before in starts(cap) {
            let items: Vec<u64> = (0..cap as u64).collect();
            // Push a first batch that ends `before - 1` in, leaving the wrap
            // inside the next batch.
            let lead = before.saturating_sub(1).min(cap);

            let q = BoundedQueue::new_near_wrap(cap, before).unwrap();
            let (tx, rx) = spsc::channel_near_wrap(cap, before).unwrap();
            let u = UnboundedQueue::new_near_wrap(before);
            for _ in 0..3 {
                // try_push_slice then try_pop_into.
                assert_eq!(q.try_push_slice(&items[..lead]), Ok(lead));
                assert_eq!(tx.try_push_slice(&items[..lead]), Ok(lead));
                assert_eq!(u.try_push_slice(&items[..lead]), Ok(lead));
                let mut buf = vec![MaybeUninit::uninit(); cap];
                for n in [
                    q.try_pop_into(&mut buf).unwrap(),
                    rx.try_pop_into(&mut buf).unwrap(),
                    u.try_pop_into(&mut buf[..lead]).unwrap(),
                ] {
                    assert_eq!(n, lead);
                }
                // try_push_vec across the wrap, then try_pop_many.
                let mut v = items.clone();
                assert_eq!(q.try_push_vec(&mut v), Ok(cap));
                let mut v = items.clone();
                assert_eq!(tx.try_push_vec(&mut v), Ok(cap));
                let mut v = items.clone();
                assert_eq!(u.try_push_vec(&mut v), Ok(cap));
                for got in [
                    pop_many(|out| q.try_pop_many(out, cap)),
                    pop_many(|out| rx.try_pop_many(out, cap)),
                    pop_many(|out| u.try_pop_many(out, cap)),
                ] {
                    assert_eq!(got, items);
                }
                // push_iter across the wrap, then the blocking pop_many.
                assert_eq!(q.push_iter(items.iter().copied()), Ok(cap));
                assert_eq!(tx.push_iter(items.iter().copied()), Ok(cap));
                assert_eq!(u.push_iter(items.iter().copied()), Ok(cap));
                for got in [
                    pop_many(|out| q.pop_many(out, cap)),
                    pop_many(|out| rx.pop_many(out, cap)),
                    pop_many(|out| u.pop_many(out, cap)),
                ] {
                    assert_eq!(got, items);
                }
            }
        }
    }
}

fn pop_many<E: std::fmt::Debug>(f: impl FnOnce(&mut Vec<u64>) -> Result<usize, E>) -> Vec<u64> {
    let mut out = Vec::new();
    let n = f(&mut out).unwrap();
    assert_eq!(n, out.len());
    out
}

/// Closing across the wrap: what was pushed before the close drains, then
/// the queue reports closed.
#[test]
fn close_and_drain_across_wrap() {
    for before in [1, 2, 5] {
        let q = BoundedQueue::new_near_wrap(4, before).unwrap();
        let (tx, rx) = spsc::channel_near_wrap(4, before).unwrap();
        let u = UnboundedQueue::new_near_wrap(before);
        for v in 0..4 {
            q.push(v).unwrap();
            tx.push(v).unwrap();
            u.push(v).unwrap();
        }
        q.close();
        tx.close();
        u.close();
        for v in 0..4 {
            assert_eq!(q.pop(), Ok(v));
            assert_eq!(rx.pop(), Ok(v));
            assert_eq!(u.pop(), Ok(v));
        }
        assert_eq!(q.try_pop(), Err(TryPopError::Closed));
        assert_eq!(rx.try_pop(), Err(TryPopError::Closed));
        assert_eq!(u.try_pop(), Err(TryPopError::Closed));
    }
}
