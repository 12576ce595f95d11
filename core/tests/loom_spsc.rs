//! Loom models of the SPSC ring: wrap-around with cached indices, batches,
//! and closing by either half.
#![cfg(loom)]

mod loom_support;

use loom::thread;
use loom_support::{Sees, SeesClosed};
use ringq::{TryPopError, TryPushError};

#[test]
fn items_arrive_in_order_across_wrap() {
    loom::model(|| {
        let (tx, rx) = ringq::spsc::channel(2).unwrap();
        let producer = thread::spawn(move || {
            for i in 0..3 {
                let mut v = i;
                while let Err(e) = tx.try_push(v) {
                    v = e.into_inner();
                    thread::yield_now();
                }
            }
        });
        let mut got = Vec::new();
        while got.len() < 3 {
            match rx.try_pop() {
                Ok(v) => got.push(v),
                Err(_) => thread::yield_now(),
            }
        }
        assert_eq!(got, [0, 1, 2]);
        producer.join().unwrap();
    });
}

#[test]
fn batches_across_wrap() {
    loom::model(|| {
        let (tx, rx) = ringq::spsc::channel(2).unwrap();
        let producer = thread::spawn(move || {
            let items = [1, 2, 3];
            let mut sent = 0;
            while sent < 3 {
                sent += tx.try_push_slice(&items[sent..]).unwrap();
                thread::yield_now();
            }
        });
        let mut got = Vec::new();
        // Drains until Closed.
        while rx.try_pop_many(&mut got, 2).is_ok() {
            thread::yield_now();
        }
        assert_eq!(got, [1, 2, 3]);
        producer.join().unwrap();
    });
}

/// The producer pushes then drops (closing); the consumer must drain every
/// item before it sees Closed.
#[test]
fn producer_close_is_exact() {
    loom::model(|| {
        let (tx, rx) = ringq::spsc::channel(2).unwrap();
        let producer = thread::spawn(move || {
            tx.try_push(1).unwrap();
            tx.try_push(2).unwrap();
        });
        let mut got = Vec::new();
        loop {
            match rx.try_pop() {
                Ok(v) => got.push(v),
                Err(TryPopError::Empty) => thread::yield_now(),
                Err(TryPopError::Closed) => break,
            }
        }
        assert_eq!(got, [1, 2]);
        producer.join().unwrap();
    });
}

/// The consumer closes while the producer pushes: a push that fails hands
/// its value back, and every push that succeeded is popped or still inside.
#[test]
fn consumer_close_loses_nothing() {
    loom::model(|| {
        let (tx, rx) = ringq::spsc::channel(2).unwrap();
        let producer = thread::spawn(move || tx.try_push(1).is_ok());
        rx.close();
        let popped = rx.try_pop().ok();
        let pushed = producer.join().unwrap();
        let left = rx.len();
        assert_eq!(usize::from(pushed), usize::from(popped.is_some()) + left);
    });
}

/// Either half's close publishes what its thread did before it: the other
/// half, once it sees the queue closed, sees the write to a cell.
#[test]
fn close_publishes_what_preceded_it() {
    for consumer_closes in [false, true] {
        loom::model(move || {
            let (tx, rx) = ringq::spsc::channel::<u32>(1).unwrap();
            if consumer_closes {
                let close = move || {
                    rx.close();
                };
                loom_support::close_publishes_what_preceded_it(close, || tx.is_closed());
            } else {
                let close = move || {
                    tx.close();
                };
                loom_support::close_publishes_what_preceded_it(close, || rx.is_closed());
            }
        });
    }
}

/// The producer's close publishes what preceded it to each pop that
/// reports Closed too.
#[test]
fn close_publishes_to_the_pops() {
    for how in Sees::POPS {
        loom::model(move || {
            let (tx, rx) = ringq::spsc::channel::<u32>(1).unwrap();
            let close = move || {
                tx.close();
            };
            loom_support::close_publishes_what_preceded_it(close, || rx.sees_closed(how));
        });
    }
}

/// The consumer's close publishes what preceded it to a push that reports
/// Closed.
#[test]
fn close_publishes_to_a_push() {
    loom::model(|| {
        let (tx, rx) = ringq::spsc::channel::<u32>(1).unwrap();
        let close = move || {
            rx.close();
        };
        loom_support::close_publishes_what_preceded_it(close, || {
            matches!(tx.try_push(1), Err(TryPushError::Closed(_)))
        });
    });
}

/// The blocking batch paths: `push_iter` parks while the ring is full and
/// `pop_many` while it is empty, each woken by the other, until the
/// producer's drop closes the queue.
#[test]
fn blocking_batches() {
    // Capacity 1 and one item more, so that push_iter fills the ring and
    // waits for room, and pop_many finds it empty and waits for an item.
    let (cap, items) = (1, 2);
    loom::model(move || {
        let (tx, rx) = ringq::spsc::channel(cap).unwrap();
        let producer =
            thread::spawn(move || assert_eq!(tx.push_iter(0..items), Ok(items as usize)));
        let mut got = Vec::new();
        while let Ok(n) = rx.pop_many(&mut got, 2) {
            assert!(n >= 1, "pop_many returned with nothing on an open queue");
        }
        producer.join().unwrap();
        assert_eq!(got, (0..items).collect::<Vec<u32>>());
    });
}
