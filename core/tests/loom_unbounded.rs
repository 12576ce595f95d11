//! Loom models of the unbounded queue. Under loom a segment holds 2 items
//! (or 3, for the models that ask), so these models cross segment
//! boundaries: installation of the next segment, head hand-over, and
//! freeing of drained segments. A segment that is never freed fails the
//! model as a leak.
#![cfg(loom)]

mod loom_support;

use loom::sync::Arc;
use loom::thread;
use loom_support::{Sees, SeesClosed};
use ringq::{TryPopError, UnboundedQueue};

#[test]
fn segment_handover_single_producer() {
    loom::model(|| {
        let q = Arc::new(UnboundedQueue::new());
        let producer = {
            let q = q.clone();
            thread::spawn(move || (0..3).for_each(|i| q.push(i).unwrap()))
        };
        let mut got = Vec::new();
        while got.len() < 3 {
            match q.try_pop() {
                Ok(v) => got.push(v),
                Err(_) => thread::yield_now(),
            }
        }
        producer.join().unwrap();
        assert_eq!(got, [0, 1, 2]);
    });
}

/// Two producers race to fill a segment and install the next.
#[test]
fn two_producers_race_over_a_segment_boundary() {
    loom::model(|| {
        let q = Arc::new(UnboundedQueue::new());
        let producers: Vec<_> = [[1, 2], [11, 12]]
            .into_iter()
            .map(|items| {
                let q = q.clone();
                thread::spawn(move || items.into_iter().for_each(|i| q.push(i).unwrap()))
            })
            .collect();
        producers.into_iter().for_each(|p| p.join().unwrap());
        let mut got = Vec::new();
        while let Ok(v) = q.try_pop() {
            got.push(v);
        }
        let a: Vec<_> = got.iter().copied().filter(|v| *v < 10).collect();
        let b: Vec<_> = got.iter().copied().filter(|v| *v > 10).collect();
        assert_eq!((a, b), (vec![1, 2], vec![11, 12]));
    });
}

/// Two consumers drain across a boundary; the segment is freed exactly once
/// (loom reports a leak or a double free) and each item is taken once.
#[test]
fn two_consumers_free_segments_once() {
    loom::model(|| {
        let q = Arc::new(UnboundedQueue::new());
        for i in 0..3 {
            q.push(i).unwrap();
        }
        q.close();
        let consumer = {
            let q = q.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                while let Ok(v) = q.try_pop() {
                    got.push(v);
                }
                got
            })
        };
        let mut mine = Vec::new();
        loop {
            match q.try_pop() {
                Ok(v) => mine.push(v),
                Err(TryPopError::Empty) => thread::yield_now(),
                Err(TryPopError::Closed) => break,
            }
        }
        let mut all = consumer.join().unwrap();
        all.extend(mine);
        all.sort_unstable();
        assert_eq!(all, [0, 1, 2]);
    });
}

/// A batch pop claims across what a concurrent push is still writing.
#[test]
fn batch_pop_races_push() {
    loom::model(|| {
        let q = Arc::new(UnboundedQueue::new());
        let producer = {
            let q = q.clone();
            thread::spawn(move || {
                q.try_push_slice(&[1, 2, 3]).unwrap();
                q.close();
            })
        };
        let mut got = Vec::new();
        // Drains until Closed.
        while q.try_pop_many(&mut got, 3).is_ok() {
            thread::yield_now();
        }
        producer.join().unwrap();
        assert_eq!(got, [1, 2, 3]);
    });
}

/// close() races with a push: the push lands (and is drained) or fails.
#[test]
fn close_races_push() {
    loom::model(|| {
        let q = Arc::new(UnboundedQueue::new());
        q.push(1).unwrap();
        let pusher = {
            let q = q.clone();
            thread::spawn(move || q.push(2).is_ok())
        };
        q.close();
        let pushed = pusher.join().unwrap();
        let mut got = Vec::new();
        loop {
            match q.try_pop() {
                Ok(v) => got.push(v),
                Err(TryPopError::Closed) => break,
                Err(TryPopError::Empty) => thread::yield_now(),
            }
        }
        assert_eq!(got, if pushed { vec![1, 2] } else { vec![1] });
    });
}

/// A thread that learns of the close by way of `how` also sees what the
/// closing thread did before `close`: here, a write to a cell.
fn close_publishes_to(how: Sees) {
    loom::model(move || {
        let q = Arc::new(UnboundedQueue::<u32>::new());
        let closer = q.clone();
        loom_support::close_publishes_what_preceded_it(
            move || {
                closer.close();
            },
            || q.sees_closed(how),
        );
    });
}

/// A thread that sees the queue closed with `is_closed` also sees what the
/// closing thread did before `close`.
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

/// Pops until the queue reports closed and drained, yielding on Empty.
fn drain(q: &UnboundedQueue<u32>) -> Vec<u32> {
    let mut got = Vec::new();
    loop {
        match q.try_pop() {
            Ok(v) => got.push(v),
            Err(TryPopError::Empty) => thread::yield_now(),
            Err(TryPopError::Closed) => return got,
        }
    }
}

/// Two consumers share a full segment of three slots (and the empty one
/// after it): whichever reads last frees it, the job handed on from reader
/// to reader through the DESTROY bits, and it is freed exactly once.
#[test]
fn readers_free_a_three_slot_segment() {
    loom::model(|| {
        let q = Arc::new(UnboundedQueue::with_segment_slots(3));
        for i in 0..3 {
            q.push(i).unwrap();
        }
        q.close();
        let other = {
            let q = q.clone();
            thread::spawn(move || drain(&q))
        };
        let mine = drain(&q);
        let theirs = other.join().unwrap();
        assert!(mine.windows(2).all(|w| w[0] < w[1]));
        assert!(theirs.windows(2).all(|w| w[0] < w[1]));
        let mut all = [mine, theirs].concat();
        all.sort_unstable();
        assert_eq!(all, [0, 1, 2]);
    });
}

/// A consumer races a producer across the boundary of three-slot
/// segments: it takes each item once and in order, waiting for slots
/// claimed but not yet written and for the next segment to be linked, and
/// every segment is freed.
#[test]
fn consumer_races_a_producer_over_three_slot_segments() {
    loom::model(|| {
        let q = Arc::new(UnboundedQueue::with_segment_slots(3));
        let producer = {
            let q = q.clone();
            thread::spawn(move || {
                for i in 0..4 {
                    q.push(i).unwrap();
                }
                q.close();
            })
        };
        assert_eq!(drain(&q), [0, 1, 2, 3]);
        producer.join().unwrap();
    });
}

/// The blocking batch pop parks on an empty queue while a batch push fills
/// it across a segment boundary, until the close.
#[test]
fn blocking_pop_many_across_segments() {
    loom::model(|| {
        let q = Arc::new(UnboundedQueue::new());
        let producer = {
            let q = q.clone();
            thread::spawn(move || {
                assert_eq!(q.push_iter(0..3), Ok(3));
                q.close();
            })
        };
        let mut got = Vec::new();
        while let Ok(n) = q.pop_many(&mut got, 2) {
            assert!(n >= 1, "pop_many returned with nothing on an open queue");
        }
        producer.join().unwrap();
        assert_eq!(got, [0, 1, 2]);
    });
}
