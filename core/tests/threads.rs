//! Small multi-threaded runs of every queue, sized for Miri.
//!
//! Under Miri, which runs them with several seeds (`make test-miri`), each
//! is checked for data races, for reads that the orderings used do not
//! justify (Miri emulates weak memory), for use after free (a segment freed
//! while a popper still reads it) and for leaks. In a normal build they are
//! quick smoke tests; the stress tests of the `ringq-tests` crate go much
//! further there.

use std::sync::Arc;
use std::thread;

use ringq::spsc;
use ringq::{BoundedQueue, TryPopError, UnboundedQueue};

/// Items per producer: enough to wrap the small rings many times and to
/// cross a segment boundary of the unbounded queue (31 items).
const ITEMS: u64 = 24;

/// Producer `p`'s `i`-th item.
fn item(p: u64, i: u64) -> u64 {
    p * 1000 + i
}

/// Checks that `streams` (what each consumer got, in order) hold every
/// item of `producers` producers exactly once, each producer's in order.
fn check(streams: &[Vec<u64>], producers: u64) {
    for stream in streams {
        for p in 0..producers {
            let mine: Vec<u64> = stream.iter().copied().filter(|v| v / 1000 == p).collect();
            assert!(
                mine.windows(2).all(|w| w[0] < w[1]),
                "producer {p} out of order"
            );
        }
    }
    let mut all: Vec<u64> = streams.concat();
    all.sort_unstable();
    let want: Vec<u64> = (0..producers)
        .flat_map(|p| (0..ITEMS).map(move |i| item(p, i)))
        .collect();
    assert_eq!(all, want);
}

#[test]
fn spsc_blocking_and_batches() {
    let (tx, rx) = spsc::channel(2).unwrap();
    let producer = thread::spawn(move || {
        for i in 0..ITEMS / 2 {
            tx.push(item(0, i)).unwrap();
        }
        assert_eq!(
            tx.push_iter((ITEMS / 2..ITEMS).map(|i| item(0, i))),
            Ok(ITEMS as usize / 2)
        );
        // Dropping `tx` closes the queue.
    });
    let mut got = Vec::new();
    while got.len() < ITEMS as usize / 2 {
        got.push(rx.pop().unwrap());
    }
    while rx.pop_many(&mut got, 3).is_ok() {}
    producer.join().unwrap();
    check(&[got], 1);
}

#[test]
fn bounded_two_producers_two_consumers() {
    let q = Arc::new(BoundedQueue::new(2).unwrap());
    let producers: Vec<_> = (0..2)
        .map(|p| {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                for i in 0..ITEMS {
                    q.push(item(p, i)).unwrap();
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                let mut got = Vec::new();
                while let Ok(v) = q.pop() {
                    got.push(v);
                }
                got
            })
        })
        .collect();
    producers.into_iter().for_each(|p| p.join().unwrap());
    q.close();
    let streams: Vec<_> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
    check(&streams, 2);
}

#[test]
fn unbounded_two_producers_two_consumers() {
    let q = Arc::new(UnboundedQueue::new());
    let producers: Vec<_> = (0..2)
        .map(|p| {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                for i in 0..ITEMS {
                    q.push(item(p, i)).unwrap();
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    match q.try_pop() {
                        Ok(v) => got.push(v),
                        Err(TryPopError::Empty) => thread::yield_now(),
                        Err(TryPopError::Closed) => return got,
                    }
                }
            })
        })
        .collect();
    producers.into_iter().for_each(|p| p.join().unwrap());
    q.close();
    let streams: Vec<_> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
    check(&streams, 2);
}

/// A popper parked on an empty queue wakes when it is closed.
#[test]
fn close_wakes_a_parked_popper() {
    let q = Arc::new(BoundedQueue::<u64>::new(1).unwrap());
    let popper = {
        let q = Arc::clone(&q);
        thread::spawn(move || q.pop())
    };
    while q.waiting_poppers() == 0 {
        thread::yield_now();
    }
    q.close();
    assert!(popper.join().unwrap().is_err());
}
