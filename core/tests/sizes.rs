//! Extreme item sizes: zero-sized items with any capacity, and items of
//! hundreds of kilobytes on a thread with a default-sized stack.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use ringq::spsc;
use ringq::{BoundedQueue, CapacityError, UnboundedQueue};

/// Runs `f` on a thread with `stack` bytes of stack, failing if it has not
/// finished within 60 s: a hang detector, not a timing assertion.
fn on_thread<R: Send + 'static>(stack: usize, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (done, finished) = mpsc::channel();
    let worker = thread::Builder::new()
        .stack_size(stack)
        .spawn(move || {
            let r = f();
            let _ = done.send(());
            r
        })
        .unwrap();
    match finished.recv_timeout(Duration::from_secs(60)) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Ok(r) => r,
            Err(e) => std::panic::resume_unwind(e),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("still running after 60 s"),
    }
}

/// The stack Rust gives a spawned thread unless told otherwise.
const DEFAULT_STACK: usize = 2 << 20;

/// A zero-sized item that counts its drops.
struct Unit;

static UNIT_DROPS: AtomicUsize = AtomicUsize::new(0);

impl Drop for Unit {
    fn drop(&mut self) {
        UNIT_DROPS.fetch_add(1, Relaxed);
    }
}

/// An SPSC queue of zero-sized items can have any capacity up to
/// `usize::MAX / 2` (its positions count to twice the capacity), and
/// creating it takes no time per slot.
#[test]
fn zero_sized_items_take_any_capacity() {
    on_thread(DEFAULT_STACK, || {
        let cap = usize::MAX / 2;
        let (tx, rx) = spsc::channel::<Unit>(cap).unwrap();
        assert_eq!(tx.capacity(), cap);
        for _ in 0..10 {
            tx.try_push(Unit).ok().unwrap();
        }
        assert_eq!(rx.len(), 10);
        assert!(!tx.is_full());
        drop(rx.try_pop().unwrap());
        let before = UNIT_DROPS.load(Relaxed);
        drop((tx, rx));
        assert_eq!(
            UNIT_DROPS.load(Relaxed) - before,
            9,
            "items dropped with the queue"
        );

        let (tx, rx) = spsc::channel::<()>(cap - 1).unwrap();
        assert_eq!(tx.try_push_slice(&[(); 100]), Ok(100));
        assert_eq!(rx.len(), 100);
        assert!(matches!(
            spsc::channel::<()>(cap + 1),
            Err(CapacityError::TooLarge { .. })
        ));
    });
}

/// The bounded MPMC queue stores a stamp per slot, so even zero-sized items
/// cannot have every capacity; those it cannot hold are a clear error,
/// reported at once.
#[test]
fn capacities_no_buffer_can_hold_are_errors() {
    on_thread(DEFAULT_STACK, || {
        for cap in [usize::MAX, usize::MAX / 2, 1 << (usize::BITS - 3)] {
            assert!(
                matches!(
                    BoundedQueue::<()>::new(cap),
                    Err(CapacityError::TooLarge { requested }) if requested == cap
                ),
                "capacity {cap}"
            );
        }
        assert!(matches!(
            spsc::channel::<u64>(usize::MAX),
            Err(CapacityError::TooLarge { .. })
        ));
    });
}

/// Items as large as the ones crossbeam's `SegQueue` is tested with.
const BIG: usize = 256 * 1024;

struct Big {
    id: usize,
    _payload: [u8; BIG],
}

impl Big {
    fn new(id: usize) -> Self {
        Big {
            id,
            _payload: [id as u8; BIG],
        }
    }
}

/// How many large items go through each queue: more than one segment of
/// the unbounded queue (31 items), fewer under Miri.
const BIG_ITEMS: usize = if cfg!(miri) { 3 } else { 40 };

// One plain function per queue and kind of operation, calling the queue
// directly: in an unoptimised build every closure or generic layer between
// the test and the queue would hold copies of an item on the stack too.

/// Checks that `popped` is the item `id`.
fn check(popped: Option<&Big>, id: usize) {
    assert_eq!(popped.map(|item| item.id), Some(id), "pop {id}");
}

#[inline(never)]
fn unbounded_try(q: &UnboundedQueue<Big>) {
    for id in 0..BIG_ITEMS {
        assert!(q.try_push(Big::new(id)).is_ok(), "push {id}");
    }
    for id in 0..BIG_ITEMS - 2 {
        check(q.try_pop().as_ref().ok(), id);
    }
}

#[inline(never)]
fn unbounded_blocking(q: &UnboundedQueue<Big>) {
    for id in 0..BIG_ITEMS {
        assert!(q.push(Big::new(id)).is_ok(), "push {id}");
    }
    for id in 0..BIG_ITEMS - 2 {
        check(q.pop().as_ref().ok(), id);
    }
}

#[inline(never)]
fn bounded_try(q: &BoundedQueue<Big>) {
    for id in 0..BIG_ITEMS {
        assert!(q.try_push(Big::new(id)).is_ok(), "push {id}");
    }
    for id in 0..BIG_ITEMS - 2 {
        check(q.try_pop().as_ref().ok(), id);
    }
}

#[inline(never)]
fn bounded_blocking(q: &BoundedQueue<Big>) {
    for id in 0..BIG_ITEMS {
        assert!(q.push(Big::new(id)).is_ok(), "push {id}");
    }
    for id in 0..BIG_ITEMS - 2 {
        check(q.pop().as_ref().ok(), id);
    }
}

#[inline(never)]
fn spsc_try(tx: &spsc::Producer<Big>, rx: &spsc::Consumer<Big>) {
    for id in 0..BIG_ITEMS {
        assert!(tx.try_push(Big::new(id)).is_ok(), "push {id}");
    }
    for id in 0..BIG_ITEMS - 2 {
        check(rx.try_pop().as_ref().ok(), id);
    }
}

#[inline(never)]
fn spsc_blocking(tx: &spsc::Producer<Big>, rx: &spsc::Consumer<Big>) {
    for id in 0..BIG_ITEMS {
        assert!(tx.push(Big::new(id)).is_ok(), "push {id}");
    }
    for id in 0..BIG_ITEMS - 2 {
        check(rx.pop().as_ref().ok(), id);
    }
}

/// No queue builds its buffer, or a segment, on the stack, or copies an item
/// more than a few times on the way in or out: 256 KiB items go through
/// every queue on a thread with a default-sized stack, with the push and pop
/// that do not block and with the blocking ones (which do not wait here),
/// and two are left inside each queue for its drop.
#[test]
fn large_items_on_a_default_stack() {
    on_thread(DEFAULT_STACK, || {
        unbounded_try(&UnboundedQueue::new());
        unbounded_blocking(&UnboundedQueue::new());
        bounded_try(&BoundedQueue::new(BIG_ITEMS).unwrap());
        bounded_blocking(&BoundedQueue::new(BIG_ITEMS).unwrap());
        let (tx, rx) = spsc::channel(BIG_ITEMS).unwrap();
        spsc_try(&tx, &rx);
        let (tx, rx) = spsc::channel(BIG_ITEMS).unwrap();
        spsc_blocking(&tx, &rx);
    });
}
