//! Memory accounting with a counting global allocator: the unbounded queue
//! frees its segments as it goes (its footprint follows what it holds, not
//! what has passed through it), and every queue gives back everything it
//! allocated when dropped, items' own allocations included.
//!
//! These checks compare byte counts, never times. They share the
//! allocator's counters with everything else in the process, so this file
//! holds a single test that runs them one after the other.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicU64, Ordering};
use std::sync::Arc;

use ringq::spsc;
use ringq::{BoundedQueue, UnboundedQueue};
use ringq_tests::{
    check_delivery, consume, produce, scaled, AfterClosed, Crew, Mode, Rng, Tx, WAKE_LIMIT,
};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only
// counts the bytes on the side.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now =
                LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed) + layout.size() as isize;
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract for `dealloc` is passed on as is.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc_zeroed` is passed on as is.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            let now =
                LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed) + layout.size() as isize;
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc` is passed on as is.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            let delta = new_size as isize - layout.size() as isize;
            let now = LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// Runs `f` and asserts the live byte count is back where it started.
fn no_leak(what: &str, f: impl FnOnce()) {
    let before = live();
    f();
    let after = live();
    assert_eq!(
        after,
        before,
        "{what}: {} bytes still allocated afterwards",
        after - before
    );
}

/// A heap-owning item, so items' own allocations are accounted for too.
type Boxed = Box<u64>;

fn queues_free_everything_on_drop() {
    for cap in [1usize, 3, 64, 1000] {
        for fill in [0, 1, cap / 2, cap] {
            no_leak(
                &format!("BoundedQueue({cap}) dropped with {fill} items"),
                || {
                    let q = BoundedQueue::<Boxed>::new(cap).unwrap();
                    // Wrap the ring once first.
                    for i in 0..cap as u64 + 1 {
                        q.try_push(Box::new(i)).unwrap();
                        drop(q.try_pop().unwrap());
                    }
                    for i in 0..fill as u64 {
                        q.try_push(Box::new(i)).unwrap();
                    }
                    drop(q);
                },
            );
            no_leak(&format!("spsc({cap}) dropped with {fill} items"), || {
                let (p, c) = spsc::channel::<Boxed>(cap).unwrap();
                for i in 0..cap as u64 + 1 {
                    p.try_push(Box::new(i)).unwrap();
                    drop(c.try_pop().unwrap());
                }
                for i in 0..fill as u64 {
                    p.try_push(Box::new(i)).unwrap();
                }
                drop(c);
                drop(p);
            });
        }
    }
    for (pushed, popped) in [
        (0u64, 0u64),
        (1, 0),
        (31, 0),
        (31, 31),
        (32, 0),
        (64, 33),
        (1000, 500),
        (1000, 1000),
    ] {
        no_leak(
            &format!("UnboundedQueue: {pushed} pushed, {popped} popped, dropped"),
            || {
                let q = UnboundedQueue::<Boxed>::new();
                for i in 0..pushed {
                    q.try_push(Box::new(i)).unwrap();
                }
                for _ in 0..popped {
                    drop(q.try_pop().unwrap());
                }
                drop(q);
            },
        );
    }
}

/// Many items through an unbounded queue that never holds more than a few:
/// the memory it uses must not grow with the number of items passed through.
fn unbounded_footprint_follows_contents() {
    let total = scaled(2_000_000);
    for held in [0u64, 5, 40, 100] {
        no_leak(&format!("UnboundedQueue holding {held}"), || {
            let q = UnboundedQueue::<u64>::new();
            for i in 0..held {
                q.try_push(i).unwrap();
            }
            let base = live();
            PEAK.store(base, Ordering::Relaxed);
            let mut buf = Vec::with_capacity(64);
            for i in 0..total {
                if i % 3 == 0 {
                    q.try_push_slice(&[i, i, i]).unwrap();
                    buf.clear();
                    assert_eq!(q.try_pop_many(&mut buf, 3), Ok(3));
                } else {
                    q.try_push(i).unwrap();
                    q.try_pop().unwrap();
                }
            }
            let grew = PEAK.load(Ordering::Relaxed) - base;
            // A few segments' worth at most; a leak per segment passed
            // through would be megabytes here.
            assert!(
                grew < 64 * 1024,
                "UnboundedQueue holding {held}: grew by {grew} bytes over {total} items"
            );
            drop(q);
        });
    }
}

/// Several producers and consumers move many items through an unbounded
/// queue, which is then dropped.
fn threaded_workload(n: u32) {
    let q = Arc::new(UnboundedQueue::<u64>::new());
    let popped = Arc::new(AtomicU64::new(0));
    let mut prod = Crew::new();
    for p in 0..2u32 {
        let q = Arc::clone(&q);
        prod.spawn(format!("producer {p}"), move || {
            let mut rng = Rng::new(u64::from(p));
            produce(&q, p, n, Mode::Mixed, &mut rng, AfterClosed::Panic)
        });
    }
    let mut cons = Crew::new();
    for c in 0..2u64 {
        let q = Arc::clone(&q);
        let popped = Arc::clone(&popped);
        cons.spawn(format!("consumer {c}"), move || {
            let mut rng = Rng::new(c + 100);
            consume(&q, Mode::Mixed, &mut rng, &popped, None)
        });
    }
    let sent = prod.join(WAKE_LIMIT * 4, "unbounded memory");
    Tx::close(&q);
    let streams = cons.join(WAKE_LIMIT * 4, "unbounded memory");
    check_delivery(&sent, &streams, "unbounded memory");
}

/// The same with threads: once the queue is dropped, everything it ever
/// allocated is back, however many segments passed through it.
fn unbounded_threads_leave_nothing_behind() {
    // A first small run lets the runtime make its one-time allocations.
    threaded_workload(1000);
    let before = live();
    threaded_workload(scaled(200_000) as u32);
    let diff = live() - before;
    // Threads may leave a few bytes of runtime bookkeeping behind; a
    // segment leaked per 31 items would be megabytes.
    assert!(
        diff.abs() < 16 * 1024,
        "{diff} bytes still allocated after the queue was dropped"
    );
}

/// Waits until no other thread has allocated for a while. The test
/// harness's main thread keeps allocating for a moment after it starts the
/// test's thread, and those bytes would be charged to the first check.
fn settle() {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut last = live();
    while std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let now = live();
        if now == last {
            return;
        }
        last = now;
    }
}

#[test]
fn memory() {
    settle();
    queues_free_everything_on_drop();
    unbounded_footprint_follows_contents();
    unbounded_threads_leave_nothing_behind();
}
