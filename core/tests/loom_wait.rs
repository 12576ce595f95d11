//! Loom models of the park/wake protocol: a waiter that parks while another
//! thread makes progress must always wake, and close must wake everyone.
#![cfg(loom)]

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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

/// Takes one of `tokens` if any is left: the `ready` check of the models
/// where each notification hands over one token.
fn take_token(tokens: &AtomicUsize) -> Option<()> {
    let mut n = tokens.load(Ordering::Acquire);
    while n > 0 {
        match tokens.compare_exchange(n, n - 1, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Some(()),
            Err(m) => n = m,
        }
    }
    None
}

/// Two parked waiters, two notifications: both must wake.
#[test]
fn two_waiters_two_notifications() {
    loom::model(|| {
        let tokens = Arc::new(AtomicUsize::new(0));
        let waiters = Arc::new(WaitQueue::new());
        let waiter = {
            let (tokens, waiters) = (tokens.clone(), waiters.clone());
            thread::spawn(move || waiters.wait_until(None, || take_token(&tokens)))
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
        assert_eq!(waiters.wait_until(None, || take_token(&tokens)), Some(()));
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

/// close() must wake a pusher parked on a full queue and hand its value
/// back.
#[test]
fn close_wakes_blocked_pusher() {
    loom::model(|| {
        let q = Arc::new(BoundedQueue::new(1).unwrap());
        q.push(0).unwrap();
        let pusher = {
            let q = q.clone();
            thread::spawn(move || q.push(1).map_err(|e| e.into_inner()))
        };
        q.close();
        // Nothing pops, so the push can only fail.
        assert_eq!(pusher.join().unwrap(), Err(1));
        assert_eq!(q.pop(), Ok(0));
        assert_eq!(q.pop(), Err(Closed));
    });
}

/// A pop that frees room races a close: the parked pusher either gets in
/// before the close, and its item is drained, or gets its value back. Both
/// outcomes must occur among the interleavings, or the model proves less
/// than it claims.
#[test]
fn close_races_a_pusher_woken_by_a_pop() {
    static PUSHED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    static REFUSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    loom::model(|| {
        let q = Arc::new(BoundedQueue::new(1).unwrap());
        q.push(0).unwrap();
        let pusher = {
            let q = q.clone();
            thread::spawn(move || q.push(1).map_err(|e| e.into_inner()))
        };
        assert_eq!(q.pop(), Ok(0));
        q.close();
        match pusher.join().unwrap() {
            Ok(()) => {
                assert_eq!(q.pop(), Ok(1));
                PUSHED.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            Err(v) => {
                assert_eq!(v, 1);
                REFUSED.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        assert_eq!(q.pop(), Err(Closed));
    });
    assert!(PUSHED.load(std::sync::atomic::Ordering::Relaxed));
    assert!(REFUSED.load(std::sync::atomic::Ordering::Relaxed));
}

/// A timed pop races a push. Under loom a timed wait times out the first
/// time it sleeps, so every place the timeout can strike is explored: the
/// pop either takes the item or times out and leaves it in the queue, and
/// it is never counted as waiting afterwards.
#[test]
fn timed_pop_races_a_push() {
    static TOOK: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    static TIMED_OUT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    loom::model(|| {
        let q = Arc::new(BoundedQueue::new(1).unwrap());
        let producer = {
            let q = q.clone();
            thread::spawn(move || q.push(7).unwrap())
        };
        let popped = q.pop_timeout(std::time::Duration::from_secs(1));
        producer.join().unwrap();
        match popped {
            Ok(v) => {
                assert_eq!(v, 7);
                assert_eq!(q.try_pop(), Err(ringq::TryPopError::Empty));
                TOOK.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            Err(e) => {
                assert_eq!(e, ringq::PopTimeoutError::Timeout);
                assert_eq!(q.try_pop(), Ok(7));
                TIMED_OUT.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        assert_eq!(q.waiting_poppers(), 0);
    });
    assert!(TOOK.load(std::sync::atomic::Ordering::Relaxed));
    assert!(TIMED_OUT.load(std::sync::atomic::Ordering::Relaxed));
}

/// A timed push into a full queue races a pop that makes room.
#[test]
fn timed_push_races_a_pop() {
    loom::model(|| {
        let q = Arc::new(BoundedQueue::new(1).unwrap());
        q.push(0).unwrap();
        let pusher = {
            let q = q.clone();
            thread::spawn(move || q.push_timeout(1, std::time::Duration::from_secs(1)))
        };
        assert_eq!(q.pop(), Ok(0));
        match pusher.join().unwrap() {
            Ok(()) => assert_eq!(q.try_pop(), Ok(1)),
            Err(e) => {
                assert!(e.is_timeout());
                assert_eq!(e.into_inner(), 1);
                assert_eq!(q.try_pop(), Err(ringq::TryPopError::Empty));
            }
        }
        assert_eq!(q.waiting_pushers(), 0);
    });
}

/// A timed waiter and an untimed one, two items, two notify_one: a
/// wake-up that lands on the timed waiter as it times out must not strand
/// the untimed one (loom reports a deadlock if it sleeps forever).
#[test]
fn a_timed_waiter_does_not_swallow_a_wake_up() {
    loom::model(|| {
        let tokens = Arc::new(AtomicUsize::new(0));
        let waiters = Arc::new(WaitQueue::new());
        let timed = {
            let (tokens, waiters) = (tokens.clone(), waiters.clone());
            thread::spawn(move || {
                let soon = std::time::Instant::now() + std::time::Duration::from_secs(1);
                waiters.wait_until(Some(soon), || take_token(&tokens))
            })
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
        assert_eq!(waiters.wait_until(None, || take_token(&tokens)), Some(()));
        let timed_took = timed.join().unwrap().is_some();
        giver.join().unwrap();
        // Whatever the timed waiter did not take is still there.
        let left = tokens.load(Ordering::Acquire);
        assert_eq!(left, if timed_took { 0 } else { 1 });
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

/// The async side of the protocol: a waiter registers, re-checks, and
/// otherwise relies on being told. Whatever the interleaving, the notifier
/// reports a registered waiter, or the waiter's re-check sees the flag
/// (with the heavy barrier in `register_async` removed, loom finds an
/// interleaving where neither happens).
#[test]
fn async_waiter_sees_the_item_or_is_told() {
    loom::model(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let waiters = Arc::new(WaitQueue::new());
        let notifier = {
            let (flag, waiters) = (flag.clone(), waiters.clone());
            thread::spawn(move || {
                flag.store(true, Ordering::Release);
                waiters.notify_one()
            })
        };
        waiters.register_async();
        let seen = flag.load(Ordering::Acquire);
        let told = notifier.join().unwrap();
        assert!(seen || told, "the waiter would wait forever");
        waiters.unregister_async();
        assert_eq!(waiters.async_waiting(), 0);
    });
}

/// A thread parked and an async waiter registered on one wait queue:
/// `notify_all` wakes the thread and reports the async waiter, and a
/// thread that parks alone is not reported as an async one.
#[test]
fn notify_all_wakes_threads_and_reports_async_waiters() {
    loom::model(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let waiters = Arc::new(WaitQueue::new());
        let sleeper = {
            let (flag, waiters) = (flag.clone(), waiters.clone());
            thread::spawn(move || {
                waiters.wait_until(None, || flag.load(Ordering::Acquire).then_some(()))
            })
        };
        waiters.register_async();
        let seen = flag.load(Ordering::Acquire);
        assert!(!seen);
        flag.store(true, Ordering::Release);
        assert!(
            waiters.notify_all(),
            "a registered async waiter is reported"
        );
        waiters.unregister_async();
        assert_eq!(sleeper.join().unwrap(), Some(()));
        assert!(
            !waiters.notify_all(),
            "only threads were left, and they are gone"
        );
    });
}
