//! Blocked waiters all wake on close.
//!
//! Threads block in every blocking pop (on an empty queue) or push (on a
//! full one), with no deadline or a far one. The test waits until each of
//! them is parked (past spinning and counted by `waiting_poppers` or
//! `waiting_pushers`), so that what comes next finds them asleep and not on
//! their fast path; then, after a random short pause, the queue is closed.
//! Each must return "closed" (a push handing its item back), and every
//! thread must be joinable: one that is still blocked after a generous
//! limit is reported as a hang. Variants put a few items in (or take a few
//! out) while they are parked, which wakes some of them, and wait until the
//! rest are parked again before the close.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use ringq::spsc;
use ringq::{BoundedQueue, Closed, PopTimeoutError, PushTimeoutError, UnboundedQueue};
use ringq_tests::{scaled, seed, Crew, Rng, WAKE_LIMIT};

/// How long the waiters that take a timeout wait at most: far longer than
/// any test, so returning Timeout means they never woke.
const FAR: Duration = Duration::from_secs(3600);

/// What a waiter's blocking call returned.
#[derive(Debug, PartialEq, Eq)]
enum Woke {
    /// A pop got items.
    Items(Vec<u64>),
    /// A pop reported closed and drained.
    Closed,
    /// A push was refused as closed and handed back its item(s).
    HandedBack(Vec<u64>),
    /// A push went in (possible only when the queue had room).
    Pushed,
}

/// Waits until every thread of `crew` that has not returned is parked:
/// `parked()` (a queue's count of waiting threads) equals the number still
/// running. Fails, as a hang, if that does not happen within the limit.
fn until_parked<R: Send + 'static>(crew: &Crew<R>, parked: impl Fn() -> usize, ctx: &str) {
    let deadline = Instant::now() + WAKE_LIMIT;
    loop {
        let running = crew.running();
        if parked() == running {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{ctx}: {running} waiters still running, only {} parked",
            parked()
        );
        thread::sleep(Duration::from_micros(50));
    }
}

/// Pauses before the close for a random short while, or not at all, so the
/// close lands at different points of the waiters' park.
fn jitter(rng: &mut Rng) {
    match rng.range(0, 3) {
        0 => {}
        1 => thread::yield_now(),
        2 => thread::sleep(Duration::from_micros(rng.range(1, 500) as u64)),
        _ => thread::sleep(Duration::from_millis(rng.range(1, 5) as u64)),
    }
}

fn rounds() -> u64 {
    scaled(200)
}

/// Every blocking pop of a queue or consumer, `k` for kind 0..5. A macro,
/// not a generic function: the queue types share these methods by name
/// only.
macro_rules! blocking_pop {
    ($q:expr, $k:expr) => {{
        let q = $q;
        let mut out = Vec::new();
        let r = match $k % 5 {
            0 => q.pop().map(|v| vec![v]),
            1 => q
                .pop_timeout(FAR)
                .map(|v| vec![v])
                .map_err(closed_not_timeout),
            2 => q
                .pop_deadline(Instant::now() + FAR)
                .map(|v| vec![v])
                .map_err(closed_not_timeout),
            3 => q.pop_many(&mut out, 3).map(|_| out),
            _ => q
                .pop_many_deadline(&mut out, 3, None)
                .map(|_| out)
                .map_err(closed_not_timeout),
        };
        r.map_or(Woke::Closed, Woke::Items)
    }};
}

fn blocking_pop_bounded(q: &BoundedQueue<u64>, k: usize) -> Woke {
    blocking_pop!(q, k)
}

fn blocking_pop_unbounded(q: &UnboundedQueue<u64>, k: usize) -> Woke {
    blocking_pop!(q, k)
}

fn blocking_pop_spsc(c: &spsc::Consumer<u64>, k: usize) -> Woke {
    blocking_pop!(c, k)
}

fn closed_not_timeout(e: PopTimeoutError) -> Closed {
    assert_eq!(
        e,
        PopTimeoutError::Closed,
        "a waiter with a far deadline timed out"
    );
    Closed
}

fn push_woke(r: Result<(), PushTimeoutError<u64>>) -> Woke {
    match r {
        Ok(()) => Woke::Pushed,
        Err(PushTimeoutError::Closed(v)) => Woke::HandedBack(vec![v]),
        Err(PushTimeoutError::Timeout(_)) => panic!("a waiter with a far deadline timed out"),
    }
}

/// Every blocking push of a queue or producer, `k` for kind 0..4; a macro
/// for the same reason as `blocking_pop!`.
macro_rules! blocking_push {
    ($q:expr, $k:expr, $v:expr) => {{
        let (q, v) = ($q, $v);
        match $k % 4 {
            0 => push_woke(
                q.push(v)
                    .map_err(|e| PushTimeoutError::Closed(e.into_inner())),
            ),
            1 => push_woke(q.push_timeout(v, FAR)),
            2 => push_woke(q.push_deadline(v, Instant::now() + FAR)),
            _ => match q.push_iter([v, v + 1]) {
                Ok(_) => Woke::Pushed,
                Err(e) => Woke::HandedBack(e.into_inner()),
            },
        }
    }};
}

fn blocking_push_bounded(q: &BoundedQueue<u64>, k: usize, v: u64) -> Woke {
    blocking_push!(q, k, v)
}

fn blocking_push_spsc(p: &spsc::Producer<u64>, k: usize, v: u64) -> Woke {
    blocking_push!(p, k, v)
}

/// Checks that the items popped by waiters are exactly `fed`, once each.
fn popped_exactly(outcomes: &[Woke], fed: &[u64], ctx: &str) {
    let mut got: Vec<u64> = outcomes
        .iter()
        .flat_map(|w| match w {
            Woke::Items(v) => v.clone(),
            Woke::Closed => Vec::new(),
            other => panic!("{ctx}: a popper returned {other:?}"),
        })
        .collect();
    got.sort_unstable();
    assert_eq!(
        got, fed,
        "{ctx}: the items fed in before the close, popped once each"
    );
}

#[test]
fn poppers_wake_on_close_bounded() {
    let seed = seed();
    let mut rng = Rng::new(seed);
    for round in 0..rounds() {
        let cap = [1usize, 3, 64][round as usize % 3];
        let q = Arc::new(BoundedQueue::<u64>::new(cap).unwrap());
        let waiters = rng.range(1, 6);
        let fed = rng.range(0, waiters.min(cap)) as u64;
        let ctx = format!(
            "BoundedQueue({cap}), {waiters} poppers, {fed} items fed, round {round}, seed {seed}"
        );
        let mut crew = Crew::new();
        for w in 0..waiters {
            let q = Arc::clone(&q);
            crew.spawn(format!("popper {w}"), move || blocking_pop_bounded(&q, w));
        }
        until_parked(&crew, || q.waiting_poppers(), &ctx);
        for v in 0..fed {
            q.try_push(v).unwrap();
        }
        until_parked(&crew, || q.waiting_poppers(), &ctx);
        jitter(&mut rng);
        assert!(q.close());
        let outcomes = crew.join(WAKE_LIMIT, &ctx);
        // Items may also still be in the queue if no popper took them.
        let mut rest = Vec::new();
        while let Ok(v) = q.try_pop() {
            rest.push(v);
        }
        let mut all = outcomes;
        all.push(Woke::Items(rest));
        popped_exactly(&all, &(0..fed).collect::<Vec<_>>(), &ctx);
    }
}

#[test]
fn poppers_wake_on_close_unbounded() {
    let seed = seed();
    let mut rng = Rng::new(seed);
    for round in 0..rounds() {
        let q = Arc::new(UnboundedQueue::<u64>::new());
        let waiters = rng.range(1, 6);
        let fed = rng.range(0, waiters) as u64;
        let ctx = format!(
            "UnboundedQueue, {waiters} poppers, {fed} items fed, round {round}, seed {seed}"
        );
        let mut crew = Crew::new();
        for w in 0..waiters {
            let q = Arc::clone(&q);
            crew.spawn(format!("popper {w}"), move || blocking_pop_unbounded(&q, w));
        }
        until_parked(&crew, || q.waiting_poppers(), &ctx);
        for v in 0..fed {
            q.try_push(v).unwrap();
        }
        until_parked(&crew, || q.waiting_poppers(), &ctx);
        jitter(&mut rng);
        assert!(q.close());
        let mut all = crew.join(WAKE_LIMIT, &ctx);
        let mut rest = Vec::new();
        while let Ok(v) = q.try_pop() {
            rest.push(v);
        }
        all.push(Woke::Items(rest));
        popped_exactly(&all, &(0..fed).collect::<Vec<_>>(), &ctx);
    }
}

#[test]
fn pushers_wake_on_close_bounded() {
    let seed = seed();
    let mut rng = Rng::new(seed);
    for round in 0..rounds() {
        let cap = [1usize, 3, 64][round as usize % 3];
        let q = Arc::new(BoundedQueue::<u64>::new(cap).unwrap());
        for v in 0..cap as u64 {
            q.try_push(v).unwrap();
        }
        let waiters = rng.range(1, 6);
        // Make room for a few of them before the close.
        let freed = rng.range(0, waiters.min(cap));
        let ctx = format!("BoundedQueue({cap}) full, {waiters} pushers, {freed} popped, round {round}, seed {seed}");
        let mut crew = Crew::new();
        for w in 0..waiters {
            let q = Arc::clone(&q);
            let v = 1000 + 10 * w as u64;
            crew.spawn(format!("pusher {w}"), move || {
                blocking_push_bounded(&q, w, v)
            });
        }
        until_parked(&crew, || q.waiting_pushers(), &ctx);
        let mut popped: Vec<u64> = (0..freed).map(|_| q.try_pop().unwrap()).collect();
        until_parked(&crew, || q.waiting_pushers(), &ctx);
        jitter(&mut rng);
        assert!(q.close());
        let outcomes = crew.join(WAKE_LIMIT, &ctx);
        // Everything offered is either handed back or still in the queue.
        while let Ok(v) = q.try_pop() {
            popped.push(v);
        }
        let mut offered: Vec<u64> = (0..cap as u64).collect();
        let mut accounted = popped;
        for (w, o) in outcomes.into_iter().enumerate() {
            let v = 1000 + 10 * w as u64;
            let mine: Vec<u64> = if w % 4 == 3 { vec![v, v + 1] } else { vec![v] };
            offered.extend(&mine);
            match o {
                Woke::HandedBack(back) => {
                    assert!(
                        mine.ends_with(&back),
                        "{ctx}: pusher {w} handed back {back:?} of {mine:?}"
                    );
                    accounted.extend(back);
                }
                Woke::Pushed => {}
                other => panic!("{ctx}: pusher {w} returned {other:?}"),
            }
        }
        offered.sort_unstable();
        accounted.sort_unstable();
        assert_eq!(
            accounted, offered,
            "{ctx}: every item either popped or handed back, once"
        );
    }
}

#[test]
fn spsc_waiters_wake_on_close() {
    let seed = seed();
    let mut rng = Rng::new(seed);
    for round in 0..rounds() {
        let cap = [1usize, 3, 64][round as usize % 3];
        let how = rng.range(0, 3);
        let ctx = format!("spsc({cap}), round {round}, close by {how}, seed {seed}");

        // A consumer blocked on an empty queue: the producer closes or is
        // dropped, or the consumer itself is not involved in the close.
        let (p, c) = spsc::channel::<u64>(cap).unwrap();
        let mut crew = Crew::new();
        let kind = round as usize;
        crew.spawn("consumer", move || blocking_pop_spsc(&c, kind));
        until_parked(&crew, || p.waiting_poppers(), &ctx);
        jitter(&mut rng);
        match how {
            0 => assert!(p.close()),
            _ => drop(p),
        }
        let out = crew.join(WAKE_LIMIT, &ctx);
        assert_eq!(out, [Woke::Closed], "{ctx}: blocked consumer");

        // A producer blocked on a full queue: the consumer closes or is dropped.
        let (p, c) = spsc::channel::<u64>(cap).unwrap();
        for v in 0..cap as u64 {
            p.try_push(v).unwrap();
        }
        let mut crew = Crew::new();
        crew.spawn("producer", move || blocking_push_spsc(&p, kind, 1000));
        until_parked(&crew, || c.waiting_pushers(), &ctx);
        jitter(&mut rng);
        let rest = match how {
            0 => {
                assert!(c.close());
                let mut rest = Vec::new();
                while let Ok(v) = c.try_pop() {
                    rest.push(v);
                }
                rest
            }
            _ => {
                drop(c);
                Vec::new()
            }
        };
        let out = crew.join(WAKE_LIMIT, &ctx);
        let mine: Vec<u64> = if kind % 4 == 3 {
            vec![1000, 1001]
        } else {
            vec![1000]
        };
        match &out[..] {
            [Woke::HandedBack(back)] => assert_eq!(back, &mine, "{ctx}: blocked producer"),
            other => panic!("{ctx}: blocked producer returned {other:?}"),
        }
        if how == 0 {
            assert_eq!(
                rest,
                (0..cap as u64).collect::<Vec<_>>(),
                "{ctx}: drained after close"
            );
        }
    }
}

/// Many poppers and pushers blocked on the same queue at once, half on each
/// side of a capacity-1 queue, then a close: all of them return.
#[test]
fn crowd_wakes_on_close() {
    let seed = seed();
    let mut rng = Rng::new(seed);
    for round in 0..rounds() / 4 + 1 {
        let q = Arc::new(BoundedQueue::<u64>::new(1).unwrap());
        let ctx = format!("BoundedQueue(1) crowd, round {round}, seed {seed}");
        let mut crew = Crew::new();
        for w in 0..6 {
            let q = Arc::clone(&q);
            if w % 2 == 0 {
                crew.spawn(format!("popper {w}"), move || blocking_pop_bounded(&q, w));
            } else {
                crew.spawn(format!("pusher {w}"), move || {
                    blocking_push_bounded(&q, w, 1000 + 10 * w as u64)
                });
            }
        }
        // The pushers and poppers trade what they can; the rest park.
        until_parked(&crew, || q.waiting_poppers() + q.waiting_pushers(), &ctx);
        jitter(&mut rng);
        q.close();
        let outcomes = crew.join(WAKE_LIMIT, &ctx);
        // Whatever went in came out once: to a popper or left in the queue.
        let mut went_in = Vec::new();
        let mut came_out = Vec::new();
        for (w, o) in outcomes.into_iter().enumerate() {
            let v = 1000 + 10 * w as u64;
            let mine: Vec<u64> = if w % 4 == 3 { vec![v, v + 1] } else { vec![v] };
            match o {
                Woke::Pushed => went_in.extend(mine),
                Woke::HandedBack(back) => {
                    assert!(
                        mine.ends_with(&back),
                        "{ctx}: pusher {w} handed back {back:?} of {mine:?}"
                    );
                    went_in.extend(&mine[..mine.len() - back.len()]);
                }
                Woke::Items(v) => came_out.extend(v),
                Woke::Closed => {}
            }
        }
        while let Ok(v) = q.try_pop() {
            came_out.push(v);
        }
        went_in.sort_unstable();
        came_out.sort_unstable();
        assert_eq!(
            came_out, went_in,
            "{ctx}: items pushed vs items popped or left"
        );
    }
}
