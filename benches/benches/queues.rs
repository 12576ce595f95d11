//! ringq against its peers, side by side: `cargo bench -p ringq-benches`.
//!
//! Prints one table per workload and the targets, and writes the medians to
//! `benches/results/rust.json`. README.md lists the knobs.

use ringq_benches::peers::{
    CbArrayQueue, CbChannelBounded, CbChannelUnbounded, CbSegQueue, CqBounded, CqUnbounded, Queue,
    RingqBounded, RingqSpsc, RingqUnbounded, Rtrb, StdChannel, StdSyncChannel,
};
use ringq_benches::report::{self, batch_name, single_name};
use ringq_benches::{measure, workloads, Case, Config, Workload};

/// A single-item throughput row for `Q`.
fn throughput<Q: Queue>(capacity: usize, producers: usize, consumers: usize, items: u64) -> Case {
    Case::new(Q::NAME, Q::RINGQ, move || {
        workloads::throughput::<Q>(capacity, producers, consumers, items)
    })
}

fn ping_pong<Q: Queue>(capacity: usize, round_trips: u64) -> Case {
    Case::new(Q::NAME, Q::RINGQ, move || {
        workloads::ping_pong::<Q>(capacity, round_trips)
    })
}

fn blocking<Q: Queue>(capacity: usize, items: u64) -> Case
where
    Q::Producer: ringq_benches::peers::BlockingProducer,
    Q::Consumer: ringq_benches::peers::BlockingConsumer,
{
    Case::new(Q::NAME, Q::RINGQ, move || {
        workloads::blocking::<Q>(capacity, items)
    })
}

/// The single-item and the batched row for `Q`, side by side.
fn batch_pair<Q: Queue>(capacity: usize, batch: usize, items: u64) -> [Case; 2]
where
    Q::Producer: ringq_benches::peers::BatchProducer,
    Q::Consumer: ringq_benches::peers::BatchConsumer,
{
    [
        Case::new(single_name(Q::NAME), Q::RINGQ, move || {
            workloads::throughput::<Q>(capacity, 1, 1, items)
        }),
        Case::new(batch_name(Q::NAME, batch), Q::RINGQ, move || {
            workloads::batch::<Q>(capacity, batch, items)
        }),
    ]
}

fn mpmc(id: &'static str, cap: usize, threads: usize, items: u64) -> Workload {
    // Each producer and each consumer moves the same share.
    let items = items / threads as u64 * threads as u64;
    let t = |p, c| -> Vec<Case> {
        vec![
            throughput::<RingqBounded>(cap, p, c, items),
            throughput::<RingqUnbounded>(cap, p, c, items),
            throughput::<CbArrayQueue>(cap, p, c, items),
            throughput::<CbSegQueue>(cap, p, c, items),
            throughput::<CbChannelBounded>(cap, p, c, items),
            throughput::<CbChannelUnbounded>(cap, p, c, items),
            throughput::<CqBounded>(cap, p, c, items),
            throughput::<CqUnbounded>(cap, p, c, items),
            throughput::<StdSyncChannel>(cap, p, c, items),
            throughput::<StdChannel>(cap, p, c, items),
        ]
    };
    let (who, shared_rx) = if threads == 1 {
        ("1 producer + 1 consumer".to_string(), "")
    } else {
        (
            format!("{threads} producers + {threads} consumers"),
            "; std receivers shared behind a Mutex",
        )
    };
    Workload {
        id,
        title: format!(
            "MPMC throughput, {who}, capacity {cap} (unbounded queues ignore it), try ops spinning{shared_rx}"
        ),
        unit: "item",
        units: items,
        cases: t(threads, threads),
    }
}

/// Says so when other work competes for the cores: the queues' threads then
/// take turns, and the numbers say more about the scheduler than the queues.
/// (The one-minute average also counts a build that has just finished.)
fn warn_if_loaded(threads: usize) {
    if let Some(load) = ringq_benches::load_average() {
        if threads > 0 && load > threads as f64 / 2.0 {
            println!(
                "note: load average {load:.1} on {threads} threads before the run; expect noisy numbers"
            );
        }
    }
}

fn main() {
    let cfg = Config::from_env();
    let (cap, items) = (cfg.capacity, cfg.items);
    let round_trips = (items / 200).max(1);
    let blocking_items = (items / 4).max(1);

    let mut plan = vec![
        Workload {
            id: "spsc",
            title: format!(
                "SPSC throughput, 1 producer + 1 consumer, capacity {cap}, single-item try ops spinning on full/empty"
            ),
            unit: "item",
            units: items,
            cases: vec![
                throughput::<RingqSpsc>(cap, 1, 1, items),
                throughput::<Rtrb>(cap, 1, 1, items),
                throughput::<CbArrayQueue>(cap, 1, 1, items),
                throughput::<CbChannelBounded>(cap, 1, 1, items),
                throughput::<CqBounded>(cap, 1, 1, items),
                throughput::<StdSyncChannel>(cap, 1, 1, items),
            ],
        },
        mpmc("mpmc-1p1c", cap, 1, items),
        mpmc("mpmc-2p2c", cap, 2, items),
        Workload {
            id: "ping-pong",
            title: format!(
                "Ping-pong round trip, one item bouncing over two queues of capacity {cap}, spinning on empty"
            ),
            unit: "round trip",
            units: round_trips,
            cases: vec![
                ping_pong::<RingqSpsc>(cap, round_trips),
                ping_pong::<RingqBounded>(cap, round_trips),
                ping_pong::<RingqUnbounded>(cap, round_trips),
                ping_pong::<Rtrb>(cap, round_trips),
                ping_pong::<CbArrayQueue>(cap, round_trips),
                ping_pong::<CbSegQueue>(cap, round_trips),
                ping_pong::<CbChannelBounded>(cap, round_trips),
                ping_pong::<CqBounded>(cap, round_trips),
                ping_pong::<StdSyncChannel>(cap, round_trips),
            ],
        },
        Workload {
            id: "blocking",
            title: format!(
                "Blocking hand-off, 1 producer + 1 consumer, blocking push/pop, capacity {}",
                cfg.blocking_capacity
            ),
            unit: "item",
            units: blocking_items,
            cases: vec![
                blocking::<RingqSpsc>(cfg.blocking_capacity, blocking_items),
                blocking::<RingqBounded>(cfg.blocking_capacity, blocking_items),
                blocking::<CbChannelBounded>(cfg.blocking_capacity, blocking_items),
                blocking::<StdSyncChannel>(cfg.blocking_capacity, blocking_items),
            ],
        },
        Workload {
            id: "batch",
            title: format!(
                "Batch throughput, 1 producer + 1 consumer, capacity {cap}: batches of {} (try_push_slice/try_pop_into; rtrb: push_partial_slice/pop_partial_slice_uninit) vs 1 at a time",
                cfg.batch
            ),
            unit: "item",
            units: items,
            cases: [
                batch_pair::<RingqSpsc>(cap, cfg.batch, items),
                batch_pair::<RingqBounded>(cap, cfg.batch, items),
                batch_pair::<RingqUnbounded>(cap, cfg.batch, items),
                batch_pair::<Rtrb>(cap, cfg.batch, items),
            ]
            .into_iter()
            .flatten()
            .collect(),
        },
    ];
    plan.retain(|w| cfg.wants(w.id));
    if plan.is_empty() {
        eprintln!("no workload selected; ids: spsc mpmc-1p1c mpmc-2p2c ping-pong blocking batch");
        std::process::exit(2);
    }

    let threads = ringq_benches::threads_available();
    println!(
        "ringq side-by-side benchmarks: {threads} threads available, {} rounds, {items} items, capacity {cap}",
        cfg.rounds,
    );
    warn_if_loaded(threads);
    println!("Each round runs every implementation once, starting one further along each round.");
    println!(
        "'*' marks ringq; vs best peer = fastest peer's median / this median (above 1: faster)."
    );
    let start = std::time::Instant::now();
    let mut results = Vec::new();
    for w in plan {
        let m = measure(w, cfg.rounds);
        report::print_table(&m, cfg.rounds);
        results.push(m);
    }
    let targets = report::targets(&results, &cfg);
    report::print_targets(&targets);
    println!();
    println!("total time {:.1} s", start.elapsed().as_secs_f64());
    if let Some(path) = &cfg.json {
        match report::write_json(path, &report::to_json(&cfg, &results, &targets)) {
            Ok(()) => println!("medians written to {}", path.display()),
            Err(e) => eprintln!("could not write {}: {e}", path.display()),
        }
    }
}
