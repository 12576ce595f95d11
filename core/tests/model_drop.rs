//! Drop accounting, zero-sized items, and panics coming out of user code
//! (an item's `Drop`, an iterator handed to `push_iter`).
//!
//! A panic that starts in user code may leak items, but must never drop an
//! item twice, lose track of a slot, or leave the queue unusable. These run
//! in the normal test build and are written so that Miri can run them too.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering::Relaxed};
use std::sync::{mpsc, Arc, Once};
use std::thread;
use std::time::Duration;

use ringq::spsc;
use ringq::{BoundedQueue, PushError, TryPopError, UnboundedQueue};

/// The message every deliberate panic carries, so the hook can keep quiet.
const BOOM: &str = "deliberate panic from user code";

fn quiet_deliberate_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let msg = info
                .payload()
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str));
            if msg != Some(BOOM) {
                default(info);
            }
        }));
    });
}

/// Counts the drops of every item made from it; `bomb` items panic when dropped.
#[derive(Clone)]
struct Ledger {
    drops: Arc<Vec<AtomicU32>>,
}

impl Ledger {
    fn new(n: usize) -> Self {
        Ledger {
            drops: Arc::new((0..n).map(|_| AtomicU32::new(0)).collect()),
        }
    }
    fn item(&self, id: usize) -> Probe {
        Probe {
            id,
            bomb: false,
            drops: Arc::clone(&self.drops),
        }
    }
    fn bomb(&self, id: usize) -> Probe {
        let mut probe = self.item(id);
        probe.bomb = true;
        probe
    }
    fn count(&self, id: usize) -> u32 {
        self.drops[id].load(Relaxed)
    }
    fn assert_each_dropped_once(&self) {
        for id in 0..self.drops.len() {
            assert_eq!(self.count(id), 1, "item {id} drop count");
        }
    }
    fn assert_none_dropped_twice(&self) {
        for id in 0..self.drops.len() {
            assert!(
                self.count(id) <= 1,
                "item {id} dropped {} times",
                self.count(id)
            );
        }
    }
}

struct Probe {
    id: usize,
    bomb: bool,
    drops: Arc<Vec<AtomicU32>>,
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.drops[self.id].fetch_add(1, Relaxed);
        if self.bomb {
            panic!("{}", BOOM);
        }
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

/// Runs `f` on its own thread and fails if it has not finished within 60 s:
/// a hang detector, not a timing assertion.
fn no_hang<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    let h = thread::spawn(move || {
        let r = f();
        let _ = tx.send(());
        r
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => match h.join() {
            Ok(r) => r,
            Err(e) => panic::resume_unwind(e),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("queue operation hung for 60 s"),
    }
}

// ---------------------------------------------------------------- drops

#[test]
fn every_item_dropped_exactly_once_on_queue_drop() {
    for cap in sizes(&[1usize, 2, 3, 5, 6, 31, 32, 33][..], &[1, 3, 4]) {
        let cap = *cap;
        for fill in 0..=cap {
            let ledger = Ledger::new(3 * cap + fill);
            let mut next = 0;
            let q = BoundedQueue::new(cap).unwrap();
            // Wrap the ring a few times, dropping popped items as we go.
            for _ in 0..(2 * cap + 1) {
                q.try_push(ledger.item(next)).ok().unwrap();
                next += 1;
                drop(q.try_pop().unwrap());
            }
            for _ in 0..fill {
                q.try_push(ledger.item(next)).ok().unwrap();
                next += 1;
            }
            drop(q);
            for id in next..ledger.drops.len() {
                drop(ledger.item(id));
            }
            ledger.assert_each_dropped_once();
        }
    }
}

#[test]
fn every_item_dropped_exactly_once_unbounded() {
    // Segments hold about 31 items: cover the boundaries and several segments,
    // with the head partway through a segment.
    let cases = [
        (0, 0),
        (30, 30),
        (31, 0),
        (31, 31),
        (32, 31),
        (62, 31),
        (100, 40),
        (300, 299),
    ];
    for &(pushed, popped) in sizes(&cases[..], &[(0, 0), (31, 0), (32, 31), (62, 31)]) {
        let ledger = Ledger::new(pushed);
        let q = UnboundedQueue::new();
        for id in 0..pushed {
            q.try_push(ledger.item(id)).ok().unwrap();
        }
        for id in 0..popped {
            assert_eq!(q.try_pop().unwrap().id, id);
        }
        q.close();
        drop(q);
        ledger.assert_each_dropped_once();
    }
}

#[test]
fn every_item_dropped_exactly_once_spsc() {
    for cap in sizes(&[1usize, 3, 4, 7][..], &[1, 3]) {
        let cap = *cap;
        for fill in 0..=cap {
            for producer_last in [false, true] {
                let ledger = Ledger::new(2 * cap + fill);
                let (p, c) = spsc::channel(cap).unwrap();
                let mut next = 0;
                for _ in 0..(2 * cap) {
                    p.try_push(ledger.item(next)).ok().unwrap();
                    next += 1;
                    drop(c.try_pop().unwrap());
                }
                for _ in 0..fill {
                    p.try_push(ledger.item(next)).ok().unwrap();
                    next += 1;
                }
                if producer_last {
                    drop(c);
                    // The consumer is gone: pushes hand their value back.
                    let back = p.try_push(ledger.item(0)).unwrap_err().into_inner();
                    std::mem::forget(back); // id 0 already counted once
                    drop(p);
                } else {
                    drop(p);
                    drop(c);
                }
                ledger.assert_each_dropped_once();
            }
        }
    }
}

// ------------------------------------------------------------ zero-sized

#[test]
fn zero_sized_items_bounded_and_spsc() {
    for cap in [1usize, 3, 4, 5] {
        let q = BoundedQueue::<()>::new(cap).unwrap();
        let (p, c) = spsc::channel::<()>(cap).unwrap();
        let mut len = 0usize;
        // A deterministic mix that wraps the ring many times.
        for i in 0..(sizes(50, 10) * cap) {
            let push = (i * 7 + i / 3) % 5 < 3;
            if push {
                let full = len == cap;
                assert_eq!(q.try_push(()).is_err(), full, "bounded push at {i}");
                assert_eq!(p.try_push(()).is_err(), full, "spsc push at {i}");
                if !full {
                    len += 1;
                }
            } else {
                let empty = len == 0;
                assert_eq!(q.try_pop().is_err(), empty, "bounded pop at {i}");
                assert_eq!(c.try_pop().is_err(), empty, "spsc pop at {i}");
                if !empty {
                    len -= 1;
                }
            }
            assert_eq!(q.len(), len);
            assert_eq!(c.len(), len);
            assert_eq!(q.is_full(), len == cap);
            assert_eq!(p.is_full(), len == cap);
        }
        // Batches.
        while q.try_pop().is_ok() {}
        while c.try_pop().is_ok() {}
        assert_eq!(q.try_push_slice(&vec![(); cap + 2]), Ok(cap));
        assert_eq!(p.try_push_slice(&vec![(); cap + 2]), Ok(cap));
        let mut out = Vec::new();
        assert_eq!(q.try_pop_many(&mut out, cap + 5), Ok(cap));
        assert_eq!(c.try_pop_many(&mut out, cap + 5), Ok(cap));
        assert_eq!(out.len(), 2 * cap);
        let mut v = vec![(); cap + 1];
        assert_eq!(q.try_push_vec(&mut v), Ok(cap));
        assert_eq!(v.len(), 1);
        let mut buf = [std::mem::MaybeUninit::<()>::uninit(); 8];
        assert_eq!(q.try_pop_into(&mut buf), Ok(cap.min(8)));
    }
}

#[test]
fn zero_sized_items_unbounded() {
    let q = UnboundedQueue::<()>::new();
    let n = sizes(1000, 100);
    for _ in 0..n {
        q.try_push(()).unwrap();
    }
    assert_eq!(q.len(), n);
    assert_eq!(q.try_push_slice(&[(); 100]), Ok(100));
    let mut out = Vec::new();
    assert_eq!(q.try_pop_many(&mut out, n / 2 + 50), Ok(n / 2 + 50));
    for _ in 0..n / 2 + 50 {
        q.try_pop().unwrap();
    }
    assert_eq!(q.try_pop(), Err(TryPopError::Empty));
    assert!(q.is_empty());
}

/// A zero-sized item with a `Drop` is still dropped exactly once each.
#[test]
fn zero_sized_items_with_drop() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Z;
    impl Drop for Z {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Relaxed);
        }
    }
    let q = BoundedQueue::new(5).unwrap();
    let u = UnboundedQueue::new();
    let (p, c) = spsc::channel(5).unwrap();
    for _ in 0..5 {
        q.try_push(Z).ok().unwrap();
        p.try_push(Z).ok().unwrap();
    }
    for _ in 0..100 {
        u.try_push(Z).ok().unwrap();
    }
    // One refused push each: its value comes back and is dropped here.
    drop(q.try_push(Z));
    drop(p.try_push(Z));
    assert_eq!(DROPS.load(Relaxed), 2);
    drop(q.try_pop().unwrap());
    drop(c.try_pop().unwrap());
    drop(u.try_pop().unwrap());
    assert_eq!(DROPS.load(Relaxed), 5);
    drop(q);
    drop(p);
    drop(c);
    drop(u);
    assert_eq!(DROPS.load(Relaxed), 2 + 5 + 5 + 100);
}

// --------------------------------------------------- panicking item drops

#[test]
fn panicking_drop_while_dropping_a_queue() {
    quiet_deliberate_panics();
    for cap in sizes(&[1usize, 3, 5, 64][..], &[1, 3]) {
        let cap = *cap;
        for bomb_at in 0..cap {
            let ledger = Ledger::new(cap);
            let q = BoundedQueue::new(cap).unwrap();
            for id in 0..cap {
                let item = if id == bomb_at {
                    ledger.bomb(id)
                } else {
                    ledger.item(id)
                };
                q.try_push(item).ok().unwrap();
            }
            let r = panic::catch_unwind(AssertUnwindSafe(move || drop(q)));
            assert!(r.is_err(), "the item's panic comes through");
            // Items after the panicking one may leak; none may drop twice.
            ledger.assert_none_dropped_twice();
            assert_eq!(ledger.count(bomb_at), 1);

            let ledger = Ledger::new(cap);
            let (p, c) = spsc::channel(cap).unwrap();
            for id in 0..cap {
                let item = if id == bomb_at {
                    ledger.bomb(id)
                } else {
                    ledger.item(id)
                };
                p.try_push(item).ok().unwrap();
            }
            drop(p);
            let r = panic::catch_unwind(AssertUnwindSafe(move || drop(c)));
            assert!(r.is_err());
            ledger.assert_none_dropped_twice();
        }
    }
    for n in sizes(&[1usize, 31, 32, 70][..], &[1, 32]) {
        let n = *n;
        let ledger = Ledger::new(n);
        let q = UnboundedQueue::new();
        for id in 0..n {
            let item = if id == n / 2 {
                ledger.bomb(id)
            } else {
                ledger.item(id)
            };
            q.try_push(item).ok().unwrap();
        }
        let r = panic::catch_unwind(AssertUnwindSafe(move || drop(q)));
        assert!(r.is_err());
        ledger.assert_none_dropped_twice();
    }
}

/// A popped item that panics when dropped is the caller's business: the
/// queue stays fully usable afterwards.
#[test]
fn panicking_drop_of_a_popped_item_leaves_the_queue_usable() {
    quiet_deliberate_panics();
    let ledger = Ledger::new(12);
    let q = BoundedQueue::new(3).unwrap();
    let u = UnboundedQueue::new();
    let (p, c) = spsc::channel(3).unwrap();
    q.try_push(ledger.bomb(0)).ok().unwrap();
    q.try_push(ledger.item(1)).ok().unwrap();
    u.try_push(ledger.bomb(2)).ok().unwrap();
    u.try_push(ledger.item(3)).ok().unwrap();
    p.try_push(ledger.bomb(4)).ok().unwrap();
    p.try_push(ledger.item(5)).ok().unwrap();
    assert!(panic::catch_unwind(AssertUnwindSafe(|| drop(q.try_pop()))).is_err());
    assert!(panic::catch_unwind(AssertUnwindSafe(|| drop(u.pop()))).is_err());
    assert!(panic::catch_unwind(AssertUnwindSafe(|| {
        let mut out = Vec::new();
        c.try_pop_many(&mut out, 1).unwrap();
        drop(out);
    }))
    .is_err());
    for (i, (a, b)) in [(6, 7), (8, 9), (10, 11)].into_iter().enumerate() {
        match i {
            0 => {
                q.try_push(ledger.item(a)).ok().unwrap();
                q.try_push(ledger.item(b)).ok().unwrap();
                assert_eq!(q.len(), 3);
                assert!(q.is_full());
                let ids: Vec<usize> = (0..3).map(|_| q.pop().unwrap().id).collect();
                assert_eq!(ids, [1, a, b]);
            }
            1 => {
                u.try_push(ledger.item(a)).ok().unwrap();
                u.try_push(ledger.item(b)).ok().unwrap();
                let ids: Vec<usize> = (0..3).map(|_| u.pop().unwrap().id).collect();
                assert_eq!(ids, [3, a, b]);
            }
            _ => {
                p.try_push(ledger.item(a)).ok().unwrap();
                p.try_push(ledger.item(b)).ok().unwrap();
                let ids: Vec<usize> = (0..3).map(|_| c.pop().unwrap().id).collect();
                assert_eq!(ids, [5, a, b]);
            }
        }
    }
    drop((q, u, p, c));
    ledger.assert_each_dropped_once();
}

/// A zero-sized item that records its drops, for outputs of any length.
struct Token;

static TOKEN_DROPS: AtomicUsize = AtomicUsize::new(0);

impl Drop for Token {
    fn drop(&mut self) {
        TOKEN_DROPS.fetch_add(1, Relaxed);
    }
}

/// An output vector that cannot take another item: growing it panics
/// (capacity overflow). Its length is faked; `forget_all` undoes that.
// The faked length is the point: clippy's warning about it does not apply.
#[allow(clippy::uninit_vec)]
fn full_output() -> Vec<Token> {
    let mut out = Vec::new();
    // SAFETY: a `Vec` of zero-sized items has room for `usize::MAX`, and
    // `Token` has no bytes and no invariant; `forget_all` takes them back
    // unseen.
    unsafe { out.set_len(usize::MAX - 1) };
    out
}

fn forget_all(mut out: Vec<Token>) {
    // SAFETY: shrinking only forgets the (zero-sized) items.
    unsafe { out.set_len(0) };
}

/// A batch pop whose output vector cannot grow panics before it takes
/// anything: every item stays in the queue, in order, and the queue stays
/// usable, its slots all free again once popped.
#[test]
fn batch_pop_into_a_vector_that_cannot_grow_takes_nothing() {
    no_hang(|| {
        let q = BoundedQueue::new(3).unwrap();
        let u = UnboundedQueue::new();
        let (p, c) = spsc::channel(3).unwrap();
        for _ in 0..3 {
            q.try_push(Token).ok().unwrap();
            u.try_push(Token).ok().unwrap();
            p.try_push(Token).ok().unwrap();
        }
        let before = TOKEN_DROPS.load(Relaxed);
        type BatchPop<'a> = &'a dyn Fn(&mut Vec<Token>) -> Result<usize, ringq::Closed>;
        let pops: [BatchPop; 3] = [
            &|out| q.try_pop_many(out, 3),
            &|out| u.try_pop_many(out, 3),
            &|out| c.try_pop_many(out, 3),
        ];
        for pop in pops {
            let mut out = full_output();
            let r = panic::catch_unwind(AssertUnwindSafe(|| pop(&mut out)));
            assert!(r.is_err(), "growing the vector must panic");
            forget_all(out);
        }
        assert_eq!(TOKEN_DROPS.load(Relaxed), before, "no item lost or dropped");
        assert_eq!((q.len(), u.len(), c.len()), (3, 3, 3));
        // Every slot works again: the ring can be emptied and refilled.
        for _ in 0..3 {
            drop(q.pop().unwrap());
            drop(u.pop().unwrap());
            drop(c.pop().unwrap());
        }
        for _ in 0..3 {
            q.try_push(Token).ok().unwrap();
            p.try_push(Token).ok().unwrap();
        }
        assert!(q.is_full() && p.is_full());
    });
}

// ------------------------------------------------- push_iter and user code

/// Yields items `0..n` from the ledger, panicking instead of yielding item
/// `panic_at`, and reporting a size hint of `hint` (which may lie: safe code
/// may return any size hint).
struct Source {
    ledger: Ledger,
    next: usize,
    n: usize,
    panic_at: Option<usize>,
    hint: (usize, Option<usize>),
}

impl Iterator for Source {
    type Item = Probe;
    fn next(&mut self) -> Option<Probe> {
        if Some(self.next) == self.panic_at {
            panic!("{}", BOOM);
        }
        if self.next == self.n {
            return None;
        }
        self.next += 1;
        Some(self.ledger.item(self.next - 1))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.hint
    }
}

/// What every queue kind offers for these checks.
trait Sink: Send + Sync + 'static {
    fn sink_push_iter(&self, it: Source) -> Result<usize, PushError<Vec<Probe>>>;
    fn sink_try_push(&self, v: Probe) -> bool;
    fn sink_try_pop(&self) -> Result<Probe, TryPopError>;
    fn sink_len(&self) -> usize;
}

impl Sink for BoundedQueue<Probe> {
    fn sink_push_iter(&self, it: Source) -> Result<usize, PushError<Vec<Probe>>> {
        self.push_iter(it)
    }
    fn sink_try_push(&self, v: Probe) -> bool {
        self.try_push(v).is_ok()
    }
    fn sink_try_pop(&self) -> Result<Probe, TryPopError> {
        self.try_pop()
    }
    fn sink_len(&self) -> usize {
        self.len()
    }
}

impl Sink for UnboundedQueue<Probe> {
    fn sink_push_iter(&self, it: Source) -> Result<usize, PushError<Vec<Probe>>> {
        self.push_iter(it)
    }
    fn sink_try_push(&self, v: Probe) -> bool {
        self.try_push(v).is_ok()
    }
    fn sink_try_pop(&self) -> Result<Probe, TryPopError> {
        self.try_pop()
    }
    fn sink_len(&self) -> usize {
        self.len()
    }
}

/// The SPSC halves are not `Sync`; this test drives both from one thread.
struct Halves(std::sync::Mutex<(spsc::Producer<Probe>, spsc::Consumer<Probe>)>);

impl Halves {
    /// The iterator's panic poisons the lock; the halves themselves are fine.
    fn halves(&self) -> std::sync::MutexGuard<'_, (spsc::Producer<Probe>, spsc::Consumer<Probe>)> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Sink for Halves {
    fn sink_push_iter(&self, it: Source) -> Result<usize, PushError<Vec<Probe>>> {
        self.halves().0.push_iter(it)
    }
    fn sink_try_push(&self, v: Probe) -> bool {
        self.halves().0.try_push(v).is_ok()
    }
    fn sink_try_pop(&self) -> Result<Probe, TryPopError> {
        self.halves().1.try_pop()
    }
    fn sink_len(&self) -> usize {
        self.halves().1.len()
    }
}

/// `push_iter` with an iterator that panics or lies about its length: the
/// items it got in come out in order, the others are dropped once, and the
/// queue keeps working (nothing hangs on a slot that was claimed but never
/// written).
fn check_push_iter<S: Sink>(make: impl Fn() -> S, room: usize) {
    quiet_deliberate_panics();
    let hints = [
        (0, None),
        (0, Some(0)),
        (100, Some(100)),
        (1, Some(1)),
        (usize::MAX, None),
    ];
    let hints = sizes(&hints[..], &hints[2..4]);
    for n in sizes(&[0usize, 1, 2, 5][..], &[0, 2]) {
        let n = *n;
        for panic_at in [None, Some(0), Some(1), Some(n)] {
            // Items made before the end or the panic; past `room` the push blocks.
            let made = panic_at.unwrap_or(n);
            if made > n || made > room {
                continue;
            }
            for &hint in hints {
                let case = format!("n {n}, panic at {panic_at:?}, size hint {hint:?}");
                let q = Arc::new(make());
                let ledger = Ledger::new(n + 1);
                let src = Source {
                    ledger: ledger.clone(),
                    next: 0,
                    n,
                    panic_at,
                    hint,
                };
                let q2 = Arc::clone(&q);
                let got = no_hang(move || {
                    panic::catch_unwind(AssertUnwindSafe(|| q2.sink_push_iter(src).map_err(|_| ())))
                });
                match (got, panic_at) {
                    (Ok(Ok(k)), None) => assert_eq!(k, n, "{case}"),
                    (Err(_), Some(_)) => {}
                    (Ok(Ok(_)), Some(_)) => panic!("{case}: the iterator's panic was swallowed"),
                    (Ok(Err(())), _) => {
                        panic!("{case}: push_iter reported Closed on an open queue")
                    }
                    (Err(_), None) => panic!("{case}: push_iter panicked by itself"),
                }
                // What got in comes out in order, as a prefix of what was made,
                // and the queue still takes and gives items afterwards.
                let q3 = Arc::clone(&q);
                let last = ledger.item(n);
                let popped = no_hang(move || {
                    let mut popped = Vec::new();
                    loop {
                        match q3.sink_try_pop() {
                            Ok(v) => popped.push(v.id),
                            Err(TryPopError::Empty) => break,
                            Err(TryPopError::Closed) => panic!("the queue closed by itself"),
                        }
                    }
                    assert_eq!(q3.sink_len(), 0);
                    assert!(q3.sink_try_push(last), "push after push_iter");
                    assert_eq!(
                        q3.sink_try_pop().map(|v| v.id),
                        Ok(n),
                        "pop after push_iter"
                    );
                    popped
                });
                let expect: Vec<usize> = (0..popped.len()).collect();
                assert_eq!(popped, expect, "{case}: order");
                if panic_at.is_none() {
                    assert_eq!(popped.len(), n, "{case}: every item delivered");
                }
                drop(q);
                for id in 0..made {
                    assert_eq!(ledger.count(id), 1, "{case}: item {id} drop count");
                }
                assert_eq!(ledger.count(n), 1, "{case}: the last item's drop count");
            }
        }
    }
}

#[test]
fn push_iter_with_panicking_or_lying_iterator_bounded() {
    for cap in [1usize, 3, 8] {
        check_push_iter(|| BoundedQueue::new(cap).unwrap(), cap);
    }
}

#[test]
fn push_iter_with_panicking_or_lying_iterator_unbounded() {
    check_push_iter(UnboundedQueue::new, usize::MAX);
}

#[test]
fn push_iter_with_panicking_or_lying_iterator_spsc() {
    for cap in [1usize, 3, 8] {
        check_push_iter(
            || {
                let (p, c) = spsc::channel(cap).unwrap();
                Halves(std::sync::Mutex::new((p, c)))
            },
            cap,
        );
    }
}
