//! The blocking layer's edges: deadlines that have already passed, and
//! batch pushes into a queue that closes.
#![cfg(not(loom))]

use std::cell::Cell;
use std::time::{Duration, Instant};

use ringq::wait::WaitQueue;
use ringq::{BoundedQueue, PopTimeoutError, UnboundedQueue};

#[test]
fn a_passed_deadline_tries_once_and_never_parks() {
    let waiters = WaitQueue::new();
    let tries = Cell::new(0);
    let outcome = waiters.wait_until(Some(Instant::now()), || {
        tries.set(tries.get() + 1);
        None::<()>
    });
    assert_eq!(outcome, None);
    assert_eq!(tries.get(), 1, "a passed deadline must try exactly once");
    assert_eq!(waiters.waiting(), 0);

    // And the one try counts when it succeeds.
    assert_eq!(
        waiters.wait_until(Some(Instant::now()), || Some(7)),
        Some(7)
    );
}

#[test]
fn zero_timeouts_try_once() {
    let bounded = BoundedQueue::new(1).unwrap();
    assert_eq!(
        bounded.pop_timeout(Duration::ZERO),
        Err(PopTimeoutError::Timeout)
    );
    bounded.push(1).unwrap();
    assert!(bounded
        .push_timeout(2, Duration::ZERO)
        .unwrap_err()
        .is_timeout());
    assert_eq!(bounded.pop_timeout(Duration::ZERO), Ok(1));

    let unbounded = UnboundedQueue::new();
    assert_eq!(
        unbounded.pop_timeout(Duration::ZERO),
        Err(PopTimeoutError::Timeout)
    );
    unbounded.push(3).unwrap();
    assert_eq!(unbounded.pop_timeout(Duration::ZERO), Ok(3));

    let (tx, rx) = ringq::spsc::channel(1).unwrap();
    assert_eq!(
        rx.pop_timeout(Duration::ZERO),
        Err(PopTimeoutError::Timeout)
    );
    tx.push(4).unwrap();
    assert!(tx.push_timeout(5, Duration::ZERO).unwrap_err().is_timeout());
    assert_eq!(rx.pop_timeout(Duration::ZERO), Ok(4));

    let mut out = Vec::new();
    let passed = Some(Instant::now());
    assert_eq!(
        bounded.pop_many_deadline(&mut out, 4, passed),
        Err(PopTimeoutError::Timeout)
    );
}

/// An iterator that counts what was taken from it and never ends.
struct Endless<'a>(&'a Cell<u64>);

impl Iterator for Endless<'_> {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        let n = self.0.get();
        self.0.set(n + 1);
        Some(n)
    }
}

#[test]
fn push_iter_into_a_closed_queue_stops_reading_the_iterator() {
    let taken = Cell::new(0);
    let bounded = BoundedQueue::new(4).unwrap();
    bounded.close();
    let mut items = Endless(&taken);
    let handed_back = bounded.push_iter(&mut items).unwrap_err().into_inner();
    assert!(!handed_back.is_empty() && handed_back.len() <= 64);
    assert_eq!(handed_back[0], 0);
    assert_eq!(taken.get(), handed_back.len() as u64);
    // The caller keeps the rest of the iterator, unread.
    assert_eq!(items.next(), Some(handed_back.len() as u64));

    let unbounded = UnboundedQueue::new();
    unbounded.close();
    assert!(unbounded.push_iter(std::iter::repeat(1u8)).is_err());

    let (tx, rx) = ringq::spsc::channel(2).unwrap();
    drop(rx);
    assert!(tx.push_iter(std::iter::repeat(1u8)).is_err());
}

#[test]
fn push_iter_blocked_on_a_full_queue_returns_when_it_closes() {
    let q = BoundedQueue::new(2).unwrap();
    let handed_back = std::thread::scope(|s| {
        let pusher = s.spawn(|| q.push_iter(0u64..));
        // Wait until the pusher has filled the queue and parked.
        while q.waiting_pushers() == 0 {
            std::thread::yield_now();
        }
        assert_eq!(q.pop(), Ok(0));
        q.close();
        pusher.join().unwrap().unwrap_err().into_inner()
    });
    // What was pushed before the close is still there to drain (the pusher
    // may have got the freed slot in before the close), and the items
    // handed back follow on from it, in order.
    let mut drained = Vec::new();
    while let Ok(v) = q.try_pop() {
        drained.push(v);
    }
    assert!(drained == [1] || drained == [1, 2], "{drained:?}");
    let next = drained.last().unwrap() + 1;
    assert_eq!(handed_back[0], next);
    assert!(handed_back.windows(2).all(|w| w[1] == w[0] + 1));
}
