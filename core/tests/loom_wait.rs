//! Loom models of the park/wake protocol: a waiter that parks while another
//! thread makes progress must always wake, and close must wake everyone.
#![cfg(loom)]

use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::Arc;
use loom::thread;
use ringq::wait::WaitQueue;
use ringq::{BoundedQueue, Closed, UnboundedQueue};

/// The bare protocol: flag set + notify_one racing with wait_until.
#[test]
fn waiter_never_misses_a_notification() {
    loom::model(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let waiters = Arc::new(WaitQueue::new());
        let setter = {
            let (flag, waiters) = (flag.clone(), waiters.clone());
            thread::spawn(move || {
                flag.store(true, Ordering::Release);
                waiters.notify_one();
            })
        };
        let seen = waiters.wait_until(None, || flag.load(Ordering::Acquire).then_some(()));
        assert_eq!(seen, Some(()));
        setter.join().unwrap();
    });
}

/// Two parked waiters, two notifications: both must wake.
#[test]
fn two_waiters_two_notifications() {
    loom::model(|| {
        let tokens = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let waiters = Arc::new(WaitQueue::new());
        let take = |tokens: &loom::sync::atomic::AtomicUsize| {
            let mut n = tokens.load(Ordering::Acquire);
            while n > 0 {
                match tokens.compare_exchange(n, n - 1, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => return Some(()),
                    Err(m) => n = m,
                }
            }
            None
        };
        let waiter = {
            let (tokens, waiters) = (tokens.clone(), waiters.clone());
            thread::spawn(move || waiters.wait_until(None, || take(&tokens)))
        };
        let giver = {
            let (tokens, waiters) = (tokens.clone(), waiters.clone());
            thread::spawn(move || {
                for _ in 0..2 {
                    tokens.fetch_add(1, Ordering::Release);
                    waiters.notify_one();
                }
            })
        };
        assert_eq!(waiters.wait_until(None, || take(&tokens)), Some(()));
        assert_eq!(waiter.join().unwrap(), Some(()));
        giver.join().unwrap();
    });
}

/// A consumer blocked in pop on an empty bounded queue gets the item pushed
/// concurrently; a producer blocked on a full one gets room.
#[test]
fn bounded_blocking_handoff() {
    loom::model(|| {
        let q = Arc::new(BoundedQueue::new(1).unwrap());
        let producer = {
            let q = q.clone();
            thread::spawn(move || {
                q.push(1).unwrap();
                q.push(2).unwrap(); // blocks until the first is popped
            })
        };
        assert_eq!(q.pop(), Ok(1));
        assert_eq!(q.pop(), Ok(2));
        producer.join().unwrap();
    });
}

#[test]
fn spsc_blocking_handoff() {
    loom::model(|| {
        let (tx, rx) = ringq::spsc::channel(1).unwrap();
        let producer = thread::spawn(move || {
            tx.push(1).unwrap();
            tx.push(2).unwrap();
        });
        assert_eq!(rx.pop(), Ok(1));
        assert_eq!(rx.pop(), Ok(2));
        // The producer's drop closes the queue.
        assert_eq!(rx.pop(), Err(Closed));
        producer.join().unwrap();
    });
}

#[test]
fn unbounded_blocking_pop() {
    loom::model(|| {
        let q = Arc::new(UnboundedQueue::new());
        let producer = {
            let q = q.clone();
            thread::spawn(move || q.push(7).unwrap())
        };
        assert_eq!(q.pop(), Ok(7));
        producer.join().unwrap();
    });
}

/// close() must wake a popper parked on an empty queue and a pusher parked
/// on a full one.
#[test]
fn close_wakes_blocked_waiters() {
    loom::model(|| {
        let q = Arc::new(BoundedQueue::new(1).unwrap());
        q.push(0).unwrap();
        let pusher = {
            let q = q.clone();
            thread::spawn(move || q.push(1).map_err(|e| e.into_inner()))
        };
        q.close();
        // The pusher either got in before the close or had 1 handed back.
        let pushed = pusher.join().unwrap().is_ok();
        assert_eq!(q.pop(), Ok(0));
        if pushed {
            assert_eq!(q.pop(), Ok(1));
        }
        assert_eq!(q.pop(), Err(Closed));
    });
}

#[test]
fn close_wakes_blocked_popper() {
    loom::model(|| {
        let q = Arc::new(UnboundedQueue::<u8>::new());
        let popper = {
            let q = q.clone();
            thread::spawn(move || q.pop())
        };
        q.close();
        assert_eq!(popper.join().unwrap(), Err(Closed));
    });
}
