//! A small side-by-side benchmark harness for ringq and its peers.
//!
//! Criterion runs one benchmark to completion before it starts the next, so
//! a burst of load on the machine lands on whichever queue happens to be
//! running. Here every workload runs in rounds: round `r` runs every
//! implementation once, starting at a different one each round, and the
//! table reports each implementation's median over the rounds. Noise then
//! spreads over all of them instead of picking one.
//!
//! - [`peers`]: one adapter per queue behind a small trait.
//! - [`workloads`]: the workloads, written once over that trait.
//! - [`report`]: the tables, the targets and the JSON.
//!
//! `benches/queues.rs` puts them together; `cargo bench -p ringq-benches`
//! runs it. See README.md for the knobs.

pub mod peers;
pub mod report;
pub mod workloads;

use std::io::{IsTerminal, Write};
use std::time::Duration;

/// Run-wide settings, read from `RINGQ_BENCH_*` environment variables and
/// the command line.
#[derive(Clone, Debug)]
pub struct Config {
    /// Timed rounds per workload (after one untimed warm-up round).
    pub rounds: usize,
    /// Items each throughput measurement moves.
    pub items: u64,
    /// Capacity of the queues in the throughput, batch and ping-pong
    /// workloads.
    pub capacity: usize,
    /// Capacity of the queues in the blocking hand-off workload.
    pub blocking_capacity: usize,
    /// Items per batch in the batch workload.
    pub batch: usize,
    /// Workload ids to run; empty runs them all.
    pub only: Vec<String>,
    /// Where to write the JSON; `None` writes none.
    pub json: Option<std::path::PathBuf>,
}

impl Config {
    /// Reads the settings: `RINGQ_BENCH_ROUNDS` (11), `RINGQ_BENCH_ITEMS`
    /// (4000000), `RINGQ_BENCH_CAPACITY` (1024),
    /// `RINGQ_BENCH_BLOCKING_CAPACITY` (16), `RINGQ_BENCH_BATCH` (64),
    /// `RINGQ_BENCH_JSON` (`results/rust.json` in this crate; empty for none)
    /// and `RINGQ_BENCH_ONLY` (comma-separated workload ids). Bare
    /// command-line arguments also select workloads; flags such as the
    /// `--bench` that cargo passes are ignored.
    ///
    /// # Panics
    ///
    /// Panics on a value that does not parse or is zero.
    pub fn from_env() -> Self {
        let mut only: Vec<String> = std::env::args()
            .skip(1)
            .filter(|a| !a.starts_with('-'))
            .collect();
        if let Ok(ids) = std::env::var("RINGQ_BENCH_ONLY") {
            only.extend(
                ids.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from),
            );
        }
        let json = match std::env::var_os("RINGQ_BENCH_JSON") {
            Some(p) if p.is_empty() => None,
            Some(p) => Some(p.into()),
            None => Some(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("results")
                    .join("rust.json"),
            ),
        };
        Self {
            rounds: env_num("RINGQ_BENCH_ROUNDS", 11),
            items: env_num("RINGQ_BENCH_ITEMS", 4_000_000),
            capacity: env_num("RINGQ_BENCH_CAPACITY", 1024),
            blocking_capacity: env_num("RINGQ_BENCH_BLOCKING_CAPACITY", 16),
            batch: env_num("RINGQ_BENCH_BATCH", 64),
            only,
            json,
        }
    }

    /// Whether the workload `id` was selected.
    pub fn wants(&self, id: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == id)
    }
}

fn env_num<T: std::str::FromStr + Default + PartialEq>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(s) => match s.trim().replace('_', "").parse::<T>() {
            Ok(v) if v != T::default() => v,
            _ => panic!("{name}={s:?}: expected a positive whole number"),
        },
        Err(_) => default,
    }
}

/// The one-minute load average, where the system reports one (Linux).
pub fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Hardware threads available to this process (0 if unknown).
pub fn threads_available() -> usize {
    std::thread::available_parallelism().map_or(0, |n| n.get())
}

/// One implementation in a workload: a name and a closure that runs one
/// measurement and returns its wall time.
pub struct Case {
    /// The row's name.
    pub name: String,
    /// Whether this row is ringq (every other row is a peer).
    pub ringq: bool,
    run: Box<dyn FnMut() -> Duration>,
}

impl Case {
    /// A row named `name`, measured by `run`.
    pub fn new(
        name: impl Into<String>,
        ringq: bool,
        run: impl FnMut() -> Duration + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            ringq,
            run: Box::new(run),
        }
    }
}

/// A workload: the same job run by several implementations.
pub struct Workload {
    /// Short id used to select it and as its JSON key.
    pub id: &'static str,
    /// The table's heading.
    pub title: String,
    /// What one unit of work is ("item", "round trip").
    pub unit: &'static str,
    /// Units of work in one measurement.
    pub units: u64,
    /// The implementations.
    pub cases: Vec<Case>,
}

/// One implementation's results in a workload.
#[derive(Clone, Debug)]
pub struct Row {
    /// The row's name.
    pub name: String,
    /// Whether this row is ringq.
    pub ringq: bool,
    /// Nanoseconds per unit, one per timed round, in round order.
    pub samples: Vec<f64>,
    /// The median of `samples`.
    pub median: f64,
}

/// A workload's results.
#[derive(Clone, Debug)]
pub struct Measured {
    /// See [`Workload::id`].
    pub id: &'static str,
    /// See [`Workload::title`].
    pub title: String,
    /// See [`Workload::unit`].
    pub unit: &'static str,
    /// See [`Workload::units`].
    pub units: u64,
    /// One row per implementation, in the workload's order.
    pub rows: Vec<Row>,
}

impl Measured {
    /// The row named `name`.
    pub fn row(&self, name: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.name == name)
    }

    /// The lowest median among the peers (the rows that are not ringq).
    pub fn best_peer(&self) -> Option<&Row> {
        self.rows
            .iter()
            .filter(|r| !r.ringq)
            .min_by(|a, b| a.median.total_cmp(&b.median))
    }
}

/// Runs `w`: one untimed warm-up round, then `rounds` timed rounds, each
/// running every case once and starting one case further along than the
/// round before. Progress goes to stderr when it is a terminal.
pub fn measure(mut w: Workload, rounds: usize) -> Measured {
    let n = w.cases.len();
    let mut samples = vec![Vec::with_capacity(rounds); n];
    let progress = std::io::stderr().is_terminal();
    for round in 0..=rounds {
        if progress {
            let what = if round == 0 {
                "warm-up".to_string()
            } else {
                format!("round {round}/{rounds}")
            };
            eprint!("\r{}: {what}   ", w.id);
            let _ = std::io::stderr().flush();
        }
        for k in 0..n {
            let i = (k + round) % n;
            let elapsed = (w.cases[i].run)();
            if round > 0 {
                samples[i].push(elapsed.as_nanos() as f64 / w.units as f64);
            }
        }
    }
    if progress {
        eprint!("\r{:40}\r", "");
    }
    let rows = w
        .cases
        .into_iter()
        .zip(samples)
        .map(|(c, s)| Row {
            median: median(&s),
            name: c.name,
            ringq: c.ringq,
            samples: s,
        })
        .collect();
    Measured {
        id: w.id,
        title: w.title,
        unit: w.unit,
        units: w.units,
        rows,
    }
}

/// The median of `xs` (the mean of the middle two for an even count).
///
/// # Panics
///
/// Panics when `xs` is empty.
pub fn median(xs: &[f64]) -> f64 {
    assert!(!xs.is_empty(), "median of nothing");
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}
