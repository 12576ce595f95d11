//! Loom models of the bounded MPMC ring: push/pop races, batches, close.
#![cfg(loom)]

mod loom_support;

use loom::sync::Arc;
use loom::thread;
use loom_support::{Sees, SeesClosed};
use ringq::{BoundedQueue, TryPopError, TryPushError};

fn push_spinning(q: &BoundedQueue<u32>, mut v: u32) -> Result<(), u32> {
    loop {
        match q.try_push(v) {
            Ok(()) => return Ok(()),
            Err(TryPushError::Full(back)) => {
                v = back;
                thread::yield_now();
            }
            Err(TryPushError::Closed(back)) => return Err(back),
        }
    }
}

/// Two producers race for slots while the main thread pops: each item
/// arrives exactly once. (Room for both: a pusher spinning on a full ring
/// re-reads values loom may keep stale, which exceeds its branch limit;
/// wrap-around is covered by `one_producer_two_consumers`.)
#[test]
fn two_producers_one_consumer() {
    loom::model(|| {
        let q = Arc::new(BoundedQueue::new(2).unwrap());
        let producers: Vec<_> = [vec![1], vec![11]]
            .into_iter()
            .map(|items| {
                let q = q.clone();
                thread::spawn(move || {
                    items
                        .into_iter()
                        .for_each(|i| push_spinning(&q, i).unwrap())
                })
            })
            .collect();
        let mut got = Vec::new();
        while got.len() < 2 {
            match q.try_pop() {
                Ok(v) => got.push(v),
                Err(_) => thread::yield_now(),
            }
        }
        producers.into_iter().for_each(|p| p.join().unwrap());
        got.sort_unstable();
        assert_eq!(got, [1, 11]);
        assert_eq!(q.try_pop(), Err(TryPopError::Empty));
    });
}

/// Pops until the queue reports closed and drained, yielding on Empty.
fn drain(q: &BoundedQueue<u32>) -> Vec<u32> {
    let mut got = Vec::new();
    loop {
        match q.try_pop() {
            Ok(v) => got.push(v),
            Err(TryPopError::Empty) => thread::yield_now(),
            Err(TryPopError::Closed) => return got,
        }
    }
}

/// Two consumers race for items until the queue is closed and drained:
/// each item is taken exactly once, and each consumer gets its items in
/// order. Capacities 1 to 3, so the ring wraps at every slot count.
#[test]
fn one_producer_two_consumers() {
    for cap in 1..=3 {
        loom::model(move || {
            let q = Arc::new(BoundedQueue::new(cap).unwrap());
            let consumer = {
                let q = q.clone();
                thread::spawn(move || drain(&q))
            };
            for i in 0..3 {
                push_spinning(&q, i).unwrap();
            }
            q.close();
            let mine = drain(&q);
            let mut all = consumer.join().unwrap();
            assert!(all.windows(2).all(|w| w[0] < w[1]));
            assert!(mine.windows(2).all(|w| w[0] < w[1]));
            all.extend(mine);
            all.sort_unstable();
            assert_eq!(all, [0, 1, 2]);
        });
    }
}

/// A batch push and a batch pop race; nothing is lost or duplicated.
#[test]
fn batch_push_races_batch_pop() {
    for cap in 1..=3 {
        loom::model(move || {
            let q = Arc::new(BoundedQueue::new(cap).unwrap());
            let producer = {
                let q = q.clone();
                thread::spawn(move || {
                    let items = [1, 2, 3];
                    let mut sent = 0;
                    while sent < items.len() {
                        sent += q.try_push_slice(&items[sent..]).unwrap();
                        if sent < items.len() {
                            thread::yield_now();
                        }
                    }
                })
            };
            let mut got = Vec::new();
            while got.len() < 3 {
                if q.try_pop_many(&mut got, 2).unwrap() == 0 {
                    thread::yield_now();
                }
            }
            producer.join().unwrap();
            assert_eq!(got, [1, 2, 3]);
        });
    }
}

/// The blocking batch paths: `push_iter` parks while the ring is full and
/// `pop_many` while it is empty, each woken by the other, until the close.
#[test]
fn blocking_batches() {
    // Capacity 1 and one item more, so that push_iter fills the ring and
    // waits for room, and pop_many finds it empty and waits for an item.
    let (cap, items) = (1, 2);
    loom::model(move || {
        let q = Arc::new(BoundedQueue::new(cap).unwrap());
        let producer = {
            let q = q.clone();
            thread::spawn(move || {
                assert_eq!(q.push_iter(0..items), Ok(items as usize));
                q.close();
            })
        };
        let mut got = Vec::new();
        while let Ok(n) = q.pop_many(&mut got, 2) {
            assert!(n >= 1, "pop_many returned with nothing on an open queue");
        }
        producer.join().unwrap();
        assert_eq!(got, (0..items).collect::<Vec<u32>>());
    });
}

/// close() races with a push and a pop: a push either lands (and is then
/// drained) or hands its value back; a pop never reports Closed while a
/// landed item is still inside.
#[test]
fn close_races_push_and_pop() {
    for cap in 1..=3 {
        loom::model(move || {
            let q = Arc::new(BoundedQueue::new(cap).unwrap());
            q.try_push(1).unwrap();
            let pusher = {
                let q = q.clone();
                thread::spawn(move || q.try_push(2).is_ok())
            };
            let closer = {
                let q = q.clone();
                thread::spawn(move || q.close())
            };
            let first = q.try_pop();
            let pushed = pusher.join().unwrap();
            assert!(closer.join().unwrap());
            let mut got = Vec::new();
            if let Ok(v) = first {
                got.push(v);
            }
            loop {
                match q.try_pop() {
                    Ok(v) => got.push(v),
                    Err(TryPopError::Closed) => break,
                    Err(TryPopError::Empty) => {
                        panic!("closed queue reported Empty after close returned")
                    }
                }
            }
            assert_eq!(got, if pushed { vec![1, 2] } else { vec![1] });
        });
    }
}

/// A thread that learns of the close by way of `how` also sees what the
/// closing thread did before `close`: here, a write to a cell.
fn close_publishes_to(how: Sees) {
    loom::model(move || {
        let q = Arc::new(BoundedQueue::<u32>::new(1).unwrap());
        let closer = q.clone();
        loom_support::close_publishes_what_preceded_it(
            move || {
                closer.close();
            },
            || q.sees_closed(how),
        );
    });
}

/// `is_closed` promises that a thread that sees the queue closed also sees
/// what the closing thread did before `close`.
#[test]
fn close_publishes_what_preceded_it() {
    close_publishes_to(Sees::IsClosed);
}

/// So does every pop that reports Closed, each tried on its own.
#[test]
fn close_publishes_to_try_pop() {
    close_publishes_to(Sees::TryPop);
}

#[test]
fn close_publishes_to_pop() {
    close_publishes_to(Sees::Pop);
}

#[test]
fn close_publishes_to_pop_timeout() {
    close_publishes_to(Sees::PopTimeout);
}

#[test]
fn close_publishes_to_try_pop_many() {
    close_publishes_to(Sees::TryPopMany);
}

#[test]
fn close_publishes_to_pop_many() {
    close_publishes_to(Sees::PopMany);
}

/// And a push that reports Closed.
#[test]
fn close_publishes_to_try_push() {
    close_publishes_to(Sees::TryPush);
}
