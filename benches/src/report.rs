//! Tables, targets and the JSON file, all computed from the medians of the
//! run that prints them.

use std::fmt::Write as _;
use std::path::Path;

use crate::{Config, Measured};

/// "1.23x": how many times faster `row` is than `reference` (ratio of their
/// medians in time per unit).
fn times(reference: f64, row: f64) -> f64 {
    reference / row
}

/// Prints `m` as a table: median time per unit, millions of units per
/// second, speed relative to the fastest peer, and the spread over rounds.
pub fn print_table(m: &Measured, rounds: usize) {
    let best = m.best_peer().map(|r| r.median);
    println!();
    println!(
        "{} ({} {}s per measurement, median of {rounds} rounds)",
        m.title, m.units, m.unit
    );
    let unit = if m.unit == "item" { "ns/item" } else { "ns/rt" };
    let rate = if m.unit == "item" {
        "Mitems/s"
    } else {
        "Mrt/s"
    };
    println!(
        "  {:<34} {:>10} {:>10} {:>13} {:>19}",
        "implementation", unit, rate, "vs best peer", "min..max ns"
    );
    for r in &m.rows {
        let (lo, hi) = r
            .samples
            .iter()
            .fold((f64::INFINITY, 0f64), |(lo, hi), &s| (lo.min(s), hi.max(s)));
        let vs = match best {
            Some(b) => format!("{:.2}x", times(b, r.median)),
            None => "-".into(),
        };
        println!(
            "{} {:<34} {:>10.2} {:>10.2} {:>13} {:>19}",
            if r.ringq { '*' } else { ' ' },
            r.name,
            r.median,
            1e3 / r.median,
            vs,
            format!("{lo:.2}..{hi:.2}"),
        );
    }
}

/// The row name for a queue's single-item run in the batch workload.
pub fn single_name(queue: &str) -> String {
    format!("{queue}, 1 at a time")
}

/// The row name for a queue's batched run in the batch workload.
pub fn batch_name(queue: &str, batch: usize) -> String {
    format!("{queue}, batches of {batch}")
}

/// A performance goal checked against this run's medians.
#[derive(Clone, Debug)]
pub struct Target {
    /// What is compared.
    pub goal: String,
    /// Measured speed-up: the reference row's median over the ringq row's
    /// (above 1 means ringq is faster); `None` when a row was not run.
    pub measured: Option<f64>,
    /// The same speed-up taken round by round (the median over rounds of
    /// reference / ringq within one round), which cancels load that changes
    /// slowly between rounds; shown next to the verdict, not used for it.
    pub paired: Option<f64>,
    /// The speed-up the goal asks for; `None` for a comparison shown for
    /// context only.
    pub required: Option<f64>,
}

impl Target {
    /// Whether the goal was met (`None`: not run, or context only).
    pub fn met(&self) -> Option<bool> {
        Some(self.measured? >= self.required?)
    }
}

fn find<'a>(results: &'a [Measured], id: &str) -> Option<&'a Measured> {
    results.iter().find(|m| m.id == id)
}

/// The speed-up of `ringq` over `reference` in workload `id`: from the
/// medians, and round by round.
fn speedup(
    results: &[Measured],
    id: &str,
    ringq: &str,
    reference: &str,
) -> (Option<f64>, Option<f64>) {
    let rows = find(results, id).and_then(|m| Some((m.row(ringq)?, m.row(reference)?)));
    let Some((r, p)) = rows else {
        return (None, None);
    };
    let per_round: Vec<f64> = p
        .samples
        .iter()
        .zip(&r.samples)
        .map(|(&p, &r)| times(p, r))
        .collect();
    (
        Some(times(p.median, r.median)),
        Some(crate::median(&per_round)),
    )
}

/// The goals, evaluated on `results`. Workload ids and row names are those
/// `benches/queues.rs` gives them.
pub fn targets(results: &[Measured], cfg: &Config) -> Vec<Target> {
    use crate::peers::{
        CbArrayQueue, CbChannelBounded, CbSegQueue, Queue, RingqBounded, RingqSpsc, RingqUnbounded,
        Rtrb, StdSyncChannel,
    };
    let mut out = Vec::new();
    let mut push = |goal: String, (measured, paired): (Option<f64>, Option<f64>), required| {
        out.push(Target {
            goal,
            measured,
            paired,
            required,
        });
    };
    push(
        format!("SPSC single-item: {} >= 1x {}", RingqSpsc::NAME, Rtrb::NAME),
        speedup(results, "spsc", RingqSpsc::NAME, Rtrb::NAME),
        Some(1.0),
    );
    for id in ["mpmc-1p1c", "mpmc-2p2c"] {
        push(
            format!(
                "{id}: {} >= 1.2x {}",
                RingqBounded::NAME,
                CbArrayQueue::NAME
            ),
            speedup(results, id, RingqBounded::NAME, CbArrayQueue::NAME),
            Some(1.2),
        );
        push(
            format!(
                "{id}: {} vs {} (context)",
                RingqUnbounded::NAME,
                CbArrayQueue::NAME
            ),
            speedup(results, id, RingqUnbounded::NAME, CbArrayQueue::NAME),
            None,
        );
        push(
            format!(
                "{id}: {} vs {} (context)",
                RingqUnbounded::NAME,
                CbSegQueue::NAME
            ),
            speedup(results, id, RingqUnbounded::NAME, CbSegQueue::NAME),
            None,
        );
    }
    for q in [RingqBounded::NAME, RingqSpsc::NAME] {
        push(
            format!("blocking hand-off: {q} >= 2x {}", StdSyncChannel::NAME),
            speedup(results, "blocking", q, StdSyncChannel::NAME),
            Some(2.0),
        );
        push(
            format!("blocking hand-off: {q} >= 1x {}", CbChannelBounded::NAME),
            speedup(results, "blocking", q, CbChannelBounded::NAME),
            Some(1.0),
        );
    }
    for q in [RingqSpsc::NAME, RingqBounded::NAME, RingqUnbounded::NAME] {
        push(
            format!("batch: {q} batches of {} >= 3x 1 at a time", cfg.batch),
            speedup(results, "batch", &batch_name(q, cfg.batch), &single_name(q)),
            Some(3.0),
        );
    }
    push(
        format!(
            "batch: {} batches vs {} batches (context)",
            RingqSpsc::NAME,
            Rtrb::NAME
        ),
        speedup(
            results,
            "batch",
            &batch_name(RingqSpsc::NAME, cfg.batch),
            &batch_name(Rtrb::NAME, cfg.batch),
        ),
        None,
    );
    out
}

/// Prints the goals with their verdicts.
pub fn print_targets(targets: &[Target]) {
    println!();
    println!("Targets (speed-up = reference median / ringq median; above 1 means ringq is faster;");
    println!("paired = median over rounds of the same ratio within each round)");
    let mut not_run = 0;
    for t in targets {
        let Some(speedup) = t.measured else {
            not_run += 1;
            continue;
        };
        let verdict = match t.met() {
            Some(true) => "met ",
            Some(false) => "MISS",
            None => "info",
        };
        let measured = format!("{speedup:.2}x");
        let paired = t.paired.map_or(String::new(), |p| format!("{p:.2}x"));
        let gap = match (t.measured, t.required) {
            (Some(s), Some(r)) => format!("  ({:+.0}% vs the {r}x goal)", (s / r - 1.0) * 100.0),
            _ => String::new(),
        };
        println!(
            "  [{verdict}] {:<68} {measured:>7}  paired {paired:>6}{gap}",
            t.goal
        );
    }
    if not_run > 0 {
        println!("  ({not_run} more need workloads that were not selected)");
    }
}

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.4}")
    } else {
        "null".into()
    }
}

fn json_opt(x: Option<f64>) -> String {
    x.map_or("null".into(), json_num)
}

/// Renders the run as JSON: the settings, every workload's rows (median,
/// rate, ratio to the best peer and the per-round samples, in nanoseconds
/// per unit) and the targets.
pub fn to_json(cfg: &Config, results: &[Measured], targets: &[Target]) -> String {
    let mut j = String::new();
    let _ = writeln!(j, "{{");
    let _ = writeln!(
        j,
        "  \"config\": {{\"rounds\": {}, \"items\": {}, \"capacity\": {}, \"blocking_capacity\": {}, \"batch\": {}, \"threads_available\": {}, \"load_average_at_end\": {}}},",
        cfg.rounds,
        cfg.items,
        cfg.capacity,
        cfg.blocking_capacity,
        cfg.batch,
        crate::threads_available(),
        json_opt(crate::load_average()),
    );
    let _ = writeln!(j, "  \"workloads\": [");
    for (wi, m) in results.iter().enumerate() {
        let best = m.best_peer().map(|r| r.median);
        let _ = writeln!(j, "    {{");
        let _ = writeln!(j, "      \"id\": {},", json_str(m.id));
        let _ = writeln!(j, "      \"title\": {},", json_str(&m.title));
        let _ = writeln!(j, "      \"unit\": {},", json_str(m.unit));
        let _ = writeln!(j, "      \"units\": {},", m.units);
        let _ = writeln!(j, "      \"rows\": [");
        for (ri, r) in m.rows.iter().enumerate() {
            let samples: Vec<String> = r.samples.iter().map(|&s| json_num(s)).collect();
            let _ = writeln!(
                j,
                "        {{\"name\": {}, \"ringq\": {}, \"median_ns\": {}, \"mops\": {}, \"vs_best_peer\": {}, \"samples_ns\": [{}]}}{}",
                json_str(&r.name),
                r.ringq,
                json_num(r.median),
                json_num(1e3 / r.median),
                json_opt(best.map(|b| times(b, r.median))),
                samples.join(", "),
                if ri + 1 < m.rows.len() { "," } else { "" },
            );
        }
        let _ = writeln!(j, "      ]");
        let _ = writeln!(j, "    }}{}", if wi + 1 < results.len() { "," } else { "" });
    }
    let _ = writeln!(j, "  ],");
    let _ = writeln!(j, "  \"targets\": [");
    for (ti, t) in targets.iter().enumerate() {
        let met = t.met().map_or("null".into(), |b| b.to_string());
        let _ = writeln!(
            j,
            "    {{\"goal\": {}, \"speedup\": {}, \"paired_speedup\": {}, \"required\": {}, \"met\": {}}}{}",
            json_str(&t.goal),
            json_opt(t.measured),
            json_opt(t.paired),
            json_opt(t.required),
            met,
            if ti + 1 < targets.len() { "," } else { "" },
        );
    }
    let _ = writeln!(j, "  ]");
    let _ = writeln!(j, "}}");
    j
}

/// Writes `json` to `path`, creating its directory.
///
/// # Errors
///
/// Returns the I/O error when the directory or the file cannot be written.
pub fn write_json(path: &Path, json: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, json)
}
