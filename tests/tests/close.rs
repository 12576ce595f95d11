//! Closing a queue in the middle of traffic.
//!
//! Every item a producer made is either popped exactly once (consumers
//! drain until the queue reports closed and drained) or handed back by the
//! queue as refused, never both; the pops add up to the pushes the queue
//! reported; and once a push fails for a closed queue no later push by that
//! producer succeeds. Each round also proves that the close landed under
//! traffic: every producer still had items to push and was refused.
//!
//! The one documented exception: when the *consumer* of an SPSC queue closes
//! it, a push racing the close may still succeed. That item is then neither
//! popped by a consumer that already saw "closed and drained" nor lost: it
//! is dropped with the queue. The SPSC consumer-side test therefore counts
//! the drops that dropping the queue causes, and checks popped + dropped
//! with the queue == pushes reported.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use ringq::spsc;
use ringq::{
    BoundedQueue, Closed, PopTimeoutError, PushTimeoutError, TryPopError, TryPushError,
    UnboundedQueue,
};
use ringq_tests::{
    check_delivery, consume, produce, scaled, seed, traffic_limit, AfterClosed, Backoff, Crew,
    Half, Mode, Rng, Rx, Tx, MODES,
};

/// Who closes the shared queue.
#[derive(Clone, Copy, Debug)]
enum Closer {
    /// A thread of its own, once the consumers have popped `target` items.
    Bystander,
    /// Consumer 0, once the consumers have popped `target` items; it then
    /// goes on draining like the others.
    Consumer,
}

/// One round: producers push until the queue closes under them, which it
/// does once the consumers have popped `target` items.
fn mpmc_round<Q: Tx + Rx + Clone>(
    q: Q,
    target: u64,
    mode: Mode,
    closer: Closer,
    seed: u64,
    name: &str,
) {
    let (producers, consumers) = (3u32, 2usize);
    let ctx = format!("{name} ({mode:?}, closed by {closer:?} after {target} pops, seed {seed})");
    // More items than any producer can push before the close: each one is
    // still pushing when it lands, so each must see its pushes refused.
    let per_producer = u32::MAX;
    let popped = Arc::new(AtomicU64::new(0));
    let mut prod = Crew::new();
    for p in 0..producers {
        let q = q.clone();
        prod.spawn(format!("producer {p}"), move || {
            let mut rng = Rng::new(seed ^ (u64::from(p) << 40));
            produce(
                &q,
                p,
                per_producer,
                mode,
                &mut rng,
                AfterClosed::ProbeAndStop,
            )
        });
    }
    let mut cons = Crew::new();
    for c in 0..consumers {
        let q = q.clone();
        let popped = Arc::clone(&popped);
        let close_after = (c == 0 && matches!(closer, Closer::Consumer)).then_some(target as usize);
        cons.spawn(format!("consumer {c}"), move || {
            let mut rng = Rng::new(seed ^ ((c as u64 + 100) << 40));
            consume(&q, mode, &mut rng, &popped, close_after)
        });
    }
    let mut by = Crew::new();
    if matches!(closer, Closer::Bystander) {
        let q = q.clone();
        let popped = Arc::clone(&popped);
        by.spawn("closer", move || {
            let mut backoff = Backoff::default();
            while popped.load(Ordering::Relaxed) < target {
                backoff.snooze();
            }
            assert!(
                Tx::close(&q),
                "the queue was closed before the closer closed it"
            );
        });
    }
    by.join(traffic_limit(), &ctx);
    let sent = prod.join(traffic_limit(), &ctx);
    // A consumer-closer that was blocked in a pop when the count passed its
    // target may not have closed yet; the producers are done either way.
    Tx::close(&q);
    let streams = cons.join(traffic_limit(), &ctx);
    check_delivery(&sent, &streams, &ctx);
    for (p, s) in sent.iter().enumerate() {
        assert!(
            !s.handed_back.is_empty(),
            "{ctx}: producer {p} was never refused: the close did not land under traffic"
        );
    }
}

fn mpmc_close<Q: Tx + Rx + Clone>(make: impl Fn() -> Q, mode: Mode, name: &str) {
    let seed = seed();
    let rounds = 6;
    for round in 0..rounds {
        let closer = if round % 2 == 0 {
            Closer::Bystander
        } else {
            Closer::Consumer
        };
        mpmc_round(
            make(),
            scaled(12_000),
            mode,
            closer,
            seed.wrapping_add(round),
            name,
        );
    }
}

/// SPSC, closed by the producer after a random number of items: no race,
/// so delivery is exact.
fn spsc_producer_close(cap: usize, mode: Mode) {
    let seed = seed();
    for round in 0..6u64 {
        let seed = seed.wrapping_add(round);
        let n = scaled(40_000) as u32;
        let close_at = Rng::new(seed).range(0, n as usize) as u32;
        let drop_to_close = round % 3 == 2;
        let ctx = format!(
            "spsc({cap}) ({mode:?}, producer {} after {close_at} of {n}, seed {seed})",
            if drop_to_close { "dropped" } else { "closed" }
        );
        let (p, c) = spsc::channel(cap).unwrap();
        let popped = Arc::new(AtomicU64::new(0));
        let mut prod = Crew::new();
        prod.spawn("producer", move || {
            let p = Half(p);
            let mut rng = Rng::new(seed);
            let sent = produce(&p, 0, close_at, mode, &mut rng, AfterClosed::Panic);
            if drop_to_close {
                drop(p);
                return sent;
            }
            assert!(Tx::close(&p));
            // Everything after the close is refused and handed back. This
            // goes on from `sent`: it counts pushes from `close_at` on.
            let sent = ringq_tests::produce_from(
                &p,
                0,
                close_at,
                n,
                mode,
                &mut rng,
                AfterClosed::ProbeAndStop,
            );
            assert_eq!(sent.ok, close_at, "pushed after its own close");
            assert!(
                !sent.handed_back.is_empty() || close_at == n,
                "nothing refused after the close"
            );
            sent
        });
        let mut cons = Crew::new();
        cons.spawn("consumer", move || {
            let c = Half(c);
            let mut rng = Rng::new(seed ^ (1 << 40));
            consume(&c, mode, &mut rng, &popped, None)
        });
        let sent = prod.join(traffic_limit(), &ctx);
        let streams = cons.join(traffic_limit(), &ctx);
        check_delivery(&sent, &streams, &ctx);
    }
}

/// An item that records its drop in a shared ledger, one counter per item.
struct Tracked {
    seq: u32,
    ledger: Arc<Vec<AtomicU8>>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.ledger[self.seq as usize].fetch_add(1, Ordering::Relaxed);
    }
}

/// SPSC, closed by the consumer after a random number of items, while the
/// producer keeps pushing. A push racing the close may succeed (documented);
/// such items are dropped with the queue. So: every pushed item is popped or
/// dropped with the queue, exactly once; popped + left == pushed.
fn spsc_consumer_close(cap: usize, mode: Mode, drain_after_close: bool) {
    let seed = seed();
    for round in 0..6u64 {
        let seed = seed.wrapping_add(round);
        let n = scaled(20_000) as u32;
        let close_after = Rng::new(seed).range(0, n as usize / 2);
        let ctx = format!(
            "spsc({cap}) ({mode:?}, consumer closes after {close_after} items, drain after: \
             {drain_after_close}, seed {seed})"
        );
        let ledger: Arc<Vec<AtomicU8>> = Arc::new((0..n).map(|_| AtomicU8::new(0)).collect());
        let (p, c) = spsc::channel::<Tracked>(cap).unwrap();
        let mut prod = Crew::new();
        let l = Arc::clone(&ledger);
        prod.spawn("producer", move || {
            let mut rng = Rng::new(seed);
            // Pushes the queue reported done, and the item it refused.
            let mut pushed = 0u32;
            let mut refused = None;
            let mut backoff = Backoff::default();
            let mut seq = 0;
            // A refused (full) item is kept and offered again.
            let mut pending: Option<Tracked> = None;
            while seq < n {
                let item = pending.take().unwrap_or_else(|| Tracked {
                    seq,
                    ledger: Arc::clone(&l),
                });
                let m = if mode == Mode::Mixed {
                    ringq_tests::MODES[rng.range(0, 3)]
                } else {
                    mode
                };
                // Ok(None): pushed; Ok(Some(item)): full, retry; Err(item): closed.
                let r: Result<Option<Tracked>, Tracked> = match m {
                    Mode::Blocking => p.push(item).map(|()| None).map_err(|e| e.into_inner()),
                    Mode::Timeout => match p
                        .push_timeout(item, Duration::from_micros(rng.range(0, 300) as u64))
                    {
                        Ok(()) => Ok(None),
                        Err(PushTimeoutError::Timeout(back)) => Ok(Some(back)),
                        Err(PushTimeoutError::Closed(back)) => Err(back),
                    },
                    Mode::Batch | Mode::Mixed => {
                        let mut v = vec![item];
                        match p.try_push_vec(&mut v) {
                            Ok(1) => Ok(None),
                            Ok(_) => Ok(Some(v.pop().expect("left in the vec"))),
                            Err(Closed) => Err(v.pop().expect("handed back in the vec")),
                        }
                    }
                    Mode::Try => match p.try_push(item) {
                        Ok(()) => Ok(None),
                        Err(TryPushError::Full(back)) => Ok(Some(back)),
                        Err(TryPushError::Closed(back)) => Err(back),
                    },
                };
                match r {
                    Ok(None) => {
                        pushed += 1;
                        seq += 1;
                        backoff.reset();
                    }
                    Ok(Some(back)) => {
                        assert_eq!(back.seq, seq, "handed back a different item");
                        pending = Some(back);
                        backoff.snooze();
                    }
                    Err(back) => {
                        assert_eq!(back.seq, seq, "handed back a different item");
                        refused = Some(back.seq);
                        break;
                    }
                }
            }
            (pushed, refused, p)
        });
        let mut cons = Crew::new();
        cons.spawn("consumer", move || {
            let mut got: Vec<u32> = Vec::new();
            let mut backoff = Backoff::default();
            while got.len() < close_after {
                match c.try_pop() {
                    Ok(v) => got.push(v.seq),
                    Err(TryPopError::Empty) => backoff.snooze(),
                    Err(TryPopError::Closed) => panic!("closed before the consumer closed it"),
                }
            }
            assert!(c.close());
            if drain_after_close {
                loop {
                    match c.pop_timeout(Duration::from_millis(1)) {
                        Ok(v) => got.push(v.seq),
                        Err(PopTimeoutError::Closed) => break,
                        Err(PopTimeoutError::Timeout) => {
                            panic!("a closed queue timed out instead of draining")
                        }
                    }
                }
            }
            drop(c);
            got
        });
        let got = cons.join(traffic_limit(), &ctx).pop().unwrap();
        let (pushed, refused, p) = prod.join(traffic_limit(), &ctx).pop().unwrap();
        // The consumer closed after `close_after < n / 2` pops, with at most
        // `cap < n / 2` more in the ring: the producer cannot have finished,
        // so the close landed under traffic and refused it.
        let Some(refused) = refused else {
            panic!("{ctx}: the producer was never refused");
        };
        assert_eq!(
            refused, pushed,
            "{ctx}: the refused item follows the pushed ones"
        );
        for (i, &seq) in got.iter().enumerate() {
            assert_eq!(seq, i as u32, "{ctx}: popped out of order");
        }
        // Items still in the queue are dropped with its last half: count the
        // drops that dropping it causes.
        let drops = || -> usize {
            ledger
                .iter()
                .map(|d| usize::from(d.load(Ordering::Relaxed)))
                .sum()
        };
        let before = drops();
        drop(p);
        let left = drops() - before;
        assert_eq!(
            got.len() + left,
            pushed as usize,
            "{ctx}: popped + dropped with the queue != pushes reported"
        );
        // And every item made (the pushed ones and the refused one) was
        // dropped exactly once, no other.
        for seq in 0..n as usize {
            let d = ledger[seq].load(Ordering::Relaxed);
            let made = seq <= refused as usize;
            assert_eq!(d, u8::from(made), "{ctx}: item {seq} dropped {d} times");
        }
        if drain_after_close && left > 0 {
            // The documented race: a push that overlapped the consumer's close.
            eprintln!(
                "{ctx}: {left} item(s) pushed during the consumer's close, dropped with the queue"
            );
        }
    }
}

ringq_tests::per_mode! {
    bounded_cap_1 => |m| mpmc_close(|| Arc::new(BoundedQueue::new(1).unwrap()), m, "BoundedQueue(1)");
    bounded_cap_3 => |m| mpmc_close(|| Arc::new(BoundedQueue::new(3).unwrap()), m, "BoundedQueue(3)");
    bounded_cap_64 => |m| mpmc_close(|| Arc::new(BoundedQueue::new(64).unwrap()), m, "BoundedQueue(64)");
    bounded_cap_1000 => |m| mpmc_close(|| Arc::new(BoundedQueue::new(1000).unwrap()), m, "BoundedQueue(1000)");
    unbounded => |m| mpmc_close(|| Arc::new(UnboundedQueue::new()), m, "UnboundedQueue");
    spsc_producer_cap_1 => |m| spsc_producer_close(1, m);
    spsc_producer_cap_3 => |m| spsc_producer_close(3, m);
    spsc_producer_cap_64 => |m| spsc_producer_close(64, m);
    spsc_producer_cap_1000 => |m| spsc_producer_close(1000, m);
}

#[test]
fn spsc_consumer_close_each_mode() {
    for cap in [1usize, 3, 64, 1000] {
        for mode in MODES {
            spsc_consumer_close(cap, mode, false);
            spsc_consumer_close(cap, mode, true);
        }
    }
}

/// A close with no traffic at all, then pushes from many threads: every one
/// is refused and handed back, and nothing is ever popped.
#[test]
fn closed_queue_refuses_everyone() {
    let q = Arc::new(BoundedQueue::<u64>::new(3).unwrap());
    let u = Arc::new(UnboundedQueue::<u64>::new());
    assert!(Tx::close(&q));
    assert!(Tx::close(&u));
    let mut crew = Crew::new();
    for t in 0..4u32 {
        let (q, u) = (Arc::clone(&q), Arc::clone(&u));
        crew.spawn(format!("pusher {t}"), move || {
            let mut rng = Rng::new(u64::from(t));
            for mode in MODES {
                let a = produce(&q, t, 50, mode, &mut rng, AfterClosed::ProbeAndStop);
                let b = produce(&u, t, 50, mode, &mut rng, AfterClosed::ProbeAndStop);
                assert_eq!((a.ok, b.ok), (0, 0));
                assert!(!a.handed_back.is_empty() && !b.handed_back.is_empty());
            }
            thread::yield_now();
        });
    }
    crew.join(traffic_limit(), "closed_queue_refuses_everyone");
    assert_eq!(q.try_pop(), Err(TryPopError::Closed));
    assert_eq!(u.try_pop(), Err(TryPopError::Closed));
    assert!(q.is_empty() && u.is_empty());
}
