//! One benchmark round on the Rust core, called directly: the baseline that
//! shows what the C ABI costs. `benches/c/bench.c` runs it once per round,
//! interleaved with its own rounds, and reads the result from stdout.
//!
//! Usage: `core_bench <spsc|mpmc> <items> <producers> <consumers> <capacity>`
//! Prints the wall-clock nanoseconds per item. The loops are those of the C
//! benchmark: non-blocking push and pop, spinning briefly then yielding when
//! the queue is full or empty, and each consumer taking an equal share.

use std::hint::spin_loop;
use std::thread;
use std::time::Instant;

use ringq_core::spsc;
use ringq_core::BoundedQueue;

/// Spins up to 64 times, then yields the CPU: the same policy as bench.c.
struct Backoff(u32);

impl Backoff {
    fn snooze(&mut self) {
        if self.0 < 64 {
            self.0 += 1;
            spin_loop();
        } else {
            thread::yield_now();
        }
    }
}

fn arg(args: &[String], i: usize) -> usize {
    args.get(i).and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        panic!("usage: core_bench <spsc|mpmc> <items> <producers> <consumers> <capacity>")
    })
}

fn spsc_round(items: usize, capacity: usize) -> (f64, usize) {
    let (tx, rx) = spsc::channel::<usize>(capacity).expect("capacity");
    let start = Instant::now();
    let producer = thread::spawn(move || {
        for v in 1..=items {
            let mut b = Backoff(0);
            let mut v = v;
            while let Err(e) = tx.try_push(v) {
                v = e.into_inner();
                b.snooze();
            }
        }
    });
    let mut sum = 0usize;
    for _ in 0..items {
        let mut b = Backoff(0);
        loop {
            match rx.try_pop() {
                Ok(v) => {
                    sum = sum.wrapping_add(v);
                    break;
                }
                Err(_) => b.snooze(),
            }
        }
    }
    producer.join().expect("producer");
    (start.elapsed().as_nanos() as f64 / items as f64, sum)
}

fn mpmc_round(items: usize, producers: usize, consumers: usize, capacity: usize) -> (f64, usize) {
    let q = BoundedQueue::<usize>::new(capacity).expect("capacity");
    let start = Instant::now();
    let sum = thread::scope(|s| {
        for p in 0..producers {
            let q = &q;
            s.spawn(move || {
                for v in (p + 1..=items).step_by(producers) {
                    let mut b = Backoff(0);
                    let mut v = v;
                    while let Err(e) = q.try_push(v) {
                        v = e.into_inner();
                        b.snooze();
                    }
                }
            });
        }
        let handles: Vec<_> = (0..consumers)
            .map(|_| {
                let q = &q;
                s.spawn(move || {
                    let mut sum = 0usize;
                    for _ in 0..items / consumers {
                        let mut b = Backoff(0);
                        loop {
                            match q.try_pop() {
                                Ok(v) => {
                                    sum = sum.wrapping_add(v);
                                    break;
                                }
                                Err(_) => b.snooze(),
                            }
                        }
                    }
                    sum
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("consumer"))
            .fold(0usize, usize::wrapping_add)
    });
    (start.elapsed().as_nanos() as f64 / items as f64, sum)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let items = arg(&args, 2);
    let (producers, consumers, capacity) = (arg(&args, 3), arg(&args, 4), arg(&args, 5));
    assert!(
        items % consumers == 0,
        "items must split evenly between consumers"
    );
    let (ns, sum) = match args.get(1).map(String::as_str) {
        Some("spsc") => spsc_round(items, capacity),
        Some("mpmc") => mpmc_round(items, producers, consumers, capacity),
        _ => panic!("first argument: spsc or mpmc"),
    };
    let expected = items.wrapping_mul(items + 1) / 2;
    assert_eq!(sum, expected, "items lost or duplicated");
    println!("{ns:.3}");
}
