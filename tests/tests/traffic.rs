//! Many items through each queue from several threads, in every mode
//! (non-blocking with back-off, blocking, timeouts, batches, mixed), checking
//! exactly-once delivery and per-producer order (per consumer, for the
//! multi-consumer queues). The queue is closed only after every producer has
//! finished, so any refused push is a failure here.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use ringq::spsc;
use ringq::{BoundedQueue, UnboundedQueue};
use ringq_tests::{
    check_delivery, consume, produce, scaled, seed, traffic_limit, AfterClosed, Crew, Half, Mode,
    Rng, Rx, Tx,
};

/// Runs `producers` × `per_producer` items through a shared queue to
/// `consumers` consumers, all in `mode`, then checks delivery.
fn mpmc<Q: Tx + Rx + Clone>(
    q: Q,
    producers: u32,
    consumers: usize,
    per_producer: u32,
    mode: Mode,
    name: &str,
) {
    let seed = seed();
    let ctx = format!(
        "{name} ({mode:?}, {producers}P/{consumers}C, {per_producer} items each, seed {seed})"
    );
    let popped = Arc::new(AtomicU64::new(0));
    let mut prod = Crew::new();
    for p in 0..producers {
        let q = q.clone();
        prod.spawn(format!("producer {p}"), move || {
            let mut rng = Rng::new(seed ^ u64::from(p) << 40);
            produce(&q, p, per_producer, mode, &mut rng, AfterClosed::Panic)
        });
    }
    let mut cons = Crew::new();
    for c in 0..consumers {
        let q = q.clone();
        let popped = Arc::clone(&popped);
        cons.spawn(format!("consumer {c}"), move || {
            let mut rng = Rng::new(seed ^ (c as u64 + 100) << 40);
            consume(&q, mode, &mut rng, &popped, None)
        });
    }
    let sent = prod.join(traffic_limit(), &ctx);
    // Everything is pushed: closing now lets the consumers drain and stop.
    assert!(Tx::close(&q), "{ctx}: someone else closed the queue");
    let streams = cons.join(traffic_limit(), &ctx);
    check_delivery(&sent, &streams, &ctx);
}

fn bounded(cap: usize, mode: Mode) {
    // Fewer items through the tiny queues, which hand over one item at a time.
    let per_producer = match cap {
        1 => 60_000,
        3 => 120_000,
        _ => 300_000,
    };
    let q = Arc::new(BoundedQueue::new(cap).unwrap());
    let per_producer = scaled(per_producer) as u32;
    mpmc(q, 3, 2, per_producer, mode, &format!("BoundedQueue({cap})"));
}

fn unbounded(mode: Mode) {
    let q = Arc::new(UnboundedQueue::new());
    mpmc(q, 3, 2, scaled(300_000) as u32, mode, "UnboundedQueue");
}

fn spsc(cap: usize, mode: Mode) {
    let n = scaled(match cap {
        1 => 150_000,
        3 => 300_000,
        _ => 1_000_000,
    }) as u32;
    let seed = seed();
    let ctx = format!("spsc({cap}) ({mode:?}, {n} items, seed {seed})");
    let (p, c) = spsc::channel(cap).unwrap();
    let popped = Arc::new(AtomicU64::new(0));
    let mut prod = Crew::new();
    prod.spawn("producer", move || {
        let p = Half(p);
        let mut rng = Rng::new(seed);
        let sent = produce(&p, 0, n, mode, &mut rng, AfterClosed::Panic);
        // Close explicitly half of the time; dropping the producer closes too.
        if seed % 2 == 0 {
            assert!(Tx::close(&p));
        }
        sent
    });
    let mut cons = Crew::new();
    cons.spawn("consumer", move || {
        let c = Half(c);
        let mut rng = Rng::new(seed ^ 1 << 40);
        consume(&c, mode, &mut rng, &popped, None)
    });
    let sent = prod.join(traffic_limit(), &ctx);
    let streams = cons.join(traffic_limit(), &ctx);
    check_delivery(&sent, &streams, &ctx);
}

ringq_tests::per_mode! {
    spsc_cap_1 => |m| spsc(1, m);
    spsc_cap_3 => |m| spsc(3, m);
    spsc_cap_64 => |m| spsc(64, m);
    spsc_cap_1000 => |m| spsc(1000, m);
    bounded_cap_1 => |m| bounded(1, m);
    bounded_cap_3 => |m| bounded(3, m);
    bounded_cap_64 => |m| bounded(64, m);
    bounded_cap_1000 => |m| bounded(1000, m);
    unbounded => unbounded;
}

/// Producers and consumers in different modes on one queue.
#[test]
fn bounded_mixed_roles() {
    let seed = seed();
    for cap in [1usize, 3, 64] {
        let q = Arc::new(BoundedQueue::new(cap).unwrap());
        let ctx = format!("BoundedQueue({cap}) mixed roles, seed {seed}");
        let n = scaled(50_000) as u32;
        let popped = Arc::new(AtomicU64::new(0));
        let mut prod = Crew::new();
        for (p, mode) in [Mode::Try, Mode::Blocking, Mode::Timeout, Mode::Batch]
            .into_iter()
            .enumerate()
        {
            let q = Arc::clone(&q);
            prod.spawn(format!("producer {p} ({mode:?})"), move || {
                let mut rng = Rng::new(seed ^ (p as u64) << 40);
                produce(&q, p as u32, n, mode, &mut rng, AfterClosed::Panic)
            });
        }
        let mut cons = Crew::new();
        for (c, mode) in [Mode::Batch, Mode::Blocking, Mode::Try]
            .into_iter()
            .enumerate()
        {
            let q = Arc::clone(&q);
            let popped = Arc::clone(&popped);
            cons.spawn(format!("consumer {c} ({mode:?})"), move || {
                let mut rng = Rng::new(seed ^ (c as u64 + 100) << 40);
                consume(&q, mode, &mut rng, &popped, None)
            });
        }
        let sent = prod.join(traffic_limit(), &ctx);
        Tx::close(&q);
        let streams = cons.join(traffic_limit(), &ctx);
        check_delivery(&sent, &streams, &ctx);
    }
}
