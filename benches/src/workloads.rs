//! The workloads, each written once over the [`peers`](crate::peers) traits.
//!
//! Every function builds fresh queues, starts its threads behind a barrier,
//! times from the first thread leaving the barrier to the last one finishing
//! (each thread reads the clock itself, so a main thread that is descheduled
//! cannot shorten or stretch the measurement), and then checks that the
//! consumers saw every item exactly once (count and sum). The checks run
//! after the clock stops.

use std::mem::MaybeUninit;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_utils::Backoff;

use crate::peers::{
    BatchConsumer, BatchProducer, BlockingConsumer, BlockingProducer, Consumer, Producer, Queue,
};

/// Pushes `v`, spinning (then yielding) while the queue is full.
#[inline]
fn push_spin<P: Producer>(p: &mut P, mut v: u64) {
    let backoff = Backoff::new();
    loop {
        match p.try_push(v) {
            Ok(()) => return,
            Err(back) => {
                v = back;
                backoff.snooze();
            }
        }
    }
}

/// Pops one item, spinning (then yielding) while the queue is empty.
#[inline]
fn pop_spin<C: Consumer>(c: &mut C) -> u64 {
    let backoff = Backoff::new();
    loop {
        if let Some(v) = c.try_pop() {
            return v;
        }
        backoff.snooze();
    }
}

/// Sum of `1..=n`.
fn triangle(n: u64) -> u64 {
    n * (n + 1) / 2
}

/// The span from the earliest start to the latest end.
#[derive(Clone, Copy)]
struct Span {
    start: Instant,
    end: Instant,
}

impl Span {
    fn merge(self, other: Self) -> Self {
        Self {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// Runs `f` once the barrier opens and returns its result with the span it
/// ran for, read on this thread.
fn timed<R>(start: &Barrier, f: impl FnOnce() -> R) -> (Span, R) {
    start.wait();
    let t0 = Instant::now();
    let r = f();
    (
        Span {
            start: t0,
            end: Instant::now(),
        },
        r,
    )
}

/// Runs `producers` and `consumers` on their own threads, released together.
/// Producer `j` gets `j`; each consumer returns `(count, sum)`. Returns the
/// time from the first thread starting to the last one finishing, and the
/// consumers' totals.
fn run_threads<P, C>(
    producers: Vec<P>,
    consumers: Vec<C>,
    produce: impl Fn(P, usize) + Send + Sync + Copy + 'static,
    consume: impl Fn(C) -> (u64, u64) + Send + Sync + Copy + 'static,
) -> (Duration, u64, u64)
where
    P: Send + 'static,
    C: Send + 'static,
{
    let start = Arc::new(Barrier::new(producers.len() + consumers.len()));
    let tx: Vec<_> = producers
        .into_iter()
        .enumerate()
        .map(|(j, p)| {
            let start = Arc::clone(&start);
            thread::spawn(move || timed(&start, || produce(p, j)).0)
        })
        .collect();
    let rx: Vec<_> = consumers
        .into_iter()
        .map(|c| {
            let start = Arc::clone(&start);
            thread::spawn(move || timed(&start, || consume(c)))
        })
        .collect();
    let mut span: Option<Span> = None;
    let mut add = |s: Span| span = Some(span.map_or(s, |t| t.merge(s)));
    for h in tx {
        add(h.join().expect("producer panicked"));
    }
    let (mut count, mut sum) = (0, 0);
    for h in rx {
        let (s, (c, total)) = h.join().expect("consumer panicked");
        add(s);
        count += c;
        sum += total;
    }
    let span = span.expect("at least one thread");
    (span.end - span.start, count, sum)
}

fn check(what: &str, count: u64, sum: u64, items: u64) {
    assert_eq!(
        count, items,
        "{what}: consumers saw {count} of {items} items"
    );
    assert_eq!(sum, triangle(items), "{what}: consumers' sum is off");
}

/// Moves `items` values through one queue of `capacity` with `producers`
/// producer and `consumers` consumer threads, single-item try operations
/// spinning on full and empty. `items` must divide by both thread counts.
pub fn throughput<Q: Queue>(
    capacity: usize,
    producers: usize,
    consumers: usize,
    items: u64,
) -> Duration {
    let per_producer = items / producers as u64;
    let per_consumer = items / consumers as u64;
    assert_eq!(per_producer * producers as u64, items);
    assert_eq!(per_consumer * consumers as u64, items);
    let (tx, rx) = Q::handles(capacity, producers, consumers);
    let (elapsed, count, sum) = run_threads(
        tx,
        rx,
        move |mut p, j| {
            let first = j as u64 * per_producer + 1;
            for v in first..first + per_producer {
                push_spin(&mut p, v);
            }
        },
        move |mut c| {
            let mut sum = 0u64;
            for _ in 0..per_consumer {
                sum += pop_spin(&mut c);
            }
            (per_consumer, sum)
        },
    );
    check(Q::NAME, count, sum, items);
    elapsed
}

/// Blocking hand-off: like [`throughput`] with one producer and one
/// consumer, but with the blocking `push` and `pop`, so with a small
/// `capacity` the threads really park and wake each other.
pub fn blocking<Q: Queue>(capacity: usize, items: u64) -> Duration
where
    Q::Producer: BlockingProducer,
    Q::Consumer: BlockingConsumer,
{
    let (tx, rx) = Q::handles(capacity, 1, 1);
    let (elapsed, count, sum) = run_threads(
        tx,
        rx,
        move |mut p, _| {
            for v in 1..=items {
                p.push(v);
            }
        },
        move |mut c| {
            let mut sum = 0u64;
            for _ in 0..items {
                sum += c.pop();
            }
            (items, sum)
        },
    );
    check(Q::NAME, count, sum, items);
    elapsed
}

/// Batch throughput with one producer and one consumer: the producer offers
/// `batch` consecutive values at a time and keeps whatever did not fit for
/// the next call; the consumer takes up to `batch` at a time.
pub fn batch<Q: Queue>(capacity: usize, batch: usize, items: u64) -> Duration
where
    Q::Producer: BatchProducer,
    Q::Consumer: BatchConsumer,
{
    let (tx, rx) = Q::handles(capacity, 1, 1);
    let (elapsed, count, sum) = run_threads(
        tx,
        rx,
        move |mut p, _| {
            let mut buf = vec![0u64; batch];
            let (mut next, mut off, mut len) = (1u64, 0usize, 0usize);
            let backoff = Backoff::new();
            loop {
                if off == len {
                    if next > items {
                        return;
                    }
                    len = batch.min((items + 1 - next) as usize);
                    for (k, slot) in buf[..len].iter_mut().enumerate() {
                        *slot = next + k as u64;
                    }
                    next += len as u64;
                    off = 0;
                }
                match p.try_push_slice(&buf[off..len]) {
                    0 => backoff.snooze(),
                    n => {
                        off += n;
                        backoff.reset();
                    }
                }
            }
        },
        move |mut c| {
            let mut buf = vec![MaybeUninit::<u64>::uninit(); batch];
            let (mut count, mut sum) = (0u64, 0u64);
            let backoff = Backoff::new();
            while count < items {
                let got = c.try_pop_into(&mut buf);
                if got.is_empty() {
                    backoff.snooze();
                    continue;
                }
                backoff.reset();
                count += got.len() as u64;
                sum += got.iter().sum::<u64>();
            }
            (count, sum)
        },
    );
    check(Q::NAME, count, sum, items);
    elapsed
}

/// Ping-pong: one item bounces `round_trips` times between two threads over
/// two queues (there and back), spinning on empty. Returns the total time;
/// divide by `round_trips` for the round-trip latency.
pub fn ping_pong<Q: Queue>(capacity: usize, round_trips: u64) -> Duration {
    let (mut there_tx, mut there_rx) = Q::handles(capacity, 1, 1);
    let (mut back_tx, mut back_rx) = Q::handles(capacity, 1, 1);
    let pinger = (there_tx.pop().expect("one"), back_rx.pop().expect("one"));
    let echo = (there_rx.pop().expect("one"), back_tx.pop().expect("one"));
    let (elapsed, count, sum) = run_threads(
        vec![echo],
        vec![pinger],
        move |(mut rx, mut tx), _| {
            for _ in 0..round_trips {
                let v = pop_spin(&mut rx);
                push_spin(&mut tx, v + 1);
            }
        },
        move |(mut tx, mut rx)| {
            let mut sum = 0u64;
            for i in 0..round_trips {
                push_spin(&mut tx, i);
                sum += pop_spin(&mut rx);
            }
            (round_trips, sum)
        },
    );
    // The echo adds one to each of 0..round_trips, so the sum is 1..=round_trips.
    check(Q::NAME, count, sum, round_trips);
    elapsed
}
