//! The shared-memory queue, process to process: `cargo bench -p
//! ringq-benches --bench shm` (or `make bench-shm`, which also builds the C
//! worker so the C API runs beside the Rust one).
//!
//! Each measurement starts worker processes (this binary re-executed as a
//! worker, or `benches/c/shm_worker.c` for the C API), lets them open a
//! named queue and report ready, then starts them all at once, so process
//! start-up is not timed. Producers push messages naming themselves and a
//! sequence number; the last producer to finish closes the queue; consumers
//! pop with the blocking calls (spin briefly, then sleep) until it is closed
//! and drained. Every run checks that each message arrived exactly once
//! (count and sum) and that each producer's messages arrived in order.
//!
//! Reported per message, as the median over interleaved rounds (each round
//! runs every case once, starting one case further along): wall time, from
//! the first producer's start to the last consumer's end, and the consumers'
//! CPU time (user + system). A last measurement shows what a consumer
//! blocked on an empty queue costs while it waits.
//!
//! Knobs: `RINGQ_BENCH_ROUNDS` (5), `RINGQ_BENCH_SHM_MESSAGES` (400000
//! 64-byte messages per case; 4 KiB cases move a quarter as many),
//! `RINGQ_BENCH_SHM_BATCH` (32), `RINGQ_BENCH_SHM_CAPACITY` (1024),
//! `RINGQ_BENCH_SHM_C_WORKER` or `--c-worker PATH` (the C worker; without
//! it the C rows are skipped), `RINGQ_BENCH_SHM_JSON` (where to write the
//! medians; default `results/shm.json` in this crate, empty for none).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ringq::shm::{ShmError, ShmOptions, ShmQueue};
use ringq_benches::median;

const WORKER_FLAG: &str = "--shm-worker";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(WORKER_FLAG) {
        std::process::exit(worker::run(&args[2..]));
    }
    harness(&args);
}

/// The same protocol as `benches/c/shm_worker.c`; see its header.
mod worker {
    use super::*;

    fn now_ns() -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: writes the current time into `ts`.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    }

    pub fn cpu_ns() -> u64 {
        // SAFETY: an all-zero rusage is valid; getrusage fills it in.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `ru` is a valid rusage to write.
        unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
        let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
        (us(ru.ru_utime) + us(ru.ru_stime)) * 1000
    }

    fn fill(m: &mut [u8], producer: u32, seq: u32) {
        m[..4].copy_from_slice(&producer.to_ne_bytes());
        m[4..8].copy_from_slice(&seq.to_ne_bytes());
        m[8..].fill(seq as u8);
    }

    pub fn run(args: &[String]) -> i32 {
        let [name, role, id, count, size, batch] = args else {
            eprintln!("usage: shm --shm-worker NAME ROLE ID COUNT SIZE BATCH");
            return 2;
        };
        let (id, count): (u32, u64) = (id.parse().unwrap(), count.parse().unwrap());
        let (size, batch): (usize, usize) = (size.parse().unwrap(), batch.parse().unwrap());
        let q = ShmQueue::open(name).expect("open");
        println!("ready");
        std::io::stdout().flush().unwrap();
        std::io::copy(&mut std::io::stdin(), &mut std::io::sink()).unwrap();

        let (start, cpu) = (now_ns(), cpu_ns());
        let (mut moved, mut checksum, mut order_ok) = (0u64, 0u64, true);
        match role.as_str() {
            "producer" => {
                let mut msgs = vec![vec![0u8; size]; batch];
                let mut s = 0u64;
                while s < count {
                    let n = (count - s).min(batch as u64) as usize;
                    for (i, m) in msgs[..n].iter_mut().enumerate() {
                        fill(m, id, (s + i as u64) as u32);
                        checksum += (u64::from(id) << 32) | (s + i as u64);
                    }
                    if batch == 1 {
                        q.push(&msgs[0]).expect("push");
                    } else {
                        let mut done = 0;
                        while done < n {
                            done += q
                                .push_many_deadline(&msgs[done..n], None)
                                .expect("push_many");
                        }
                    }
                    s += n as u64;
                    moved += n as u64;
                }
                q.task_done().expect("task_done");
                if q.unfinished_tasks() == 0 {
                    q.close();
                }
            }
            "consumer" => {
                let mut last = [-1i64; 64];
                let mut buf = vec![0u8; size];
                let mut take = |m: ringq::shm::Message<'_>| {
                    m.copy_to(&mut buf);
                    let producer = u32::from_ne_bytes(buf[..4].try_into().unwrap());
                    let seq = u32::from_ne_bytes(buf[4..8].try_into().unwrap());
                    match last.get_mut(producer as usize) {
                        Some(l) if i64::from(seq) > *l => *l = i64::from(seq),
                        _ => order_ok = false,
                    }
                    checksum += (u64::from(producer) << 32) | u64::from(seq);
                    moved += 1;
                };
                loop {
                    let r = if batch == 1 {
                        q.pop_with_deadline(None, &mut take).map(|_| 1)
                    } else {
                        q.pop_many_with_deadline(batch, None, &mut take)
                    };
                    match r {
                        Ok(_) => {}
                        Err(ShmError::Closed) => break,
                        Err(e) => panic!("pop: {e}"),
                    }
                }
            }
            "idle" => {
                let mut buf = Vec::new();
                q.pop(&mut buf).expect("pop");
                moved = 1;
            }
            _ => return 2,
        }
        let (end, cpu) = (now_ns(), cpu_ns() - cpu);
        println!(
            "done {start} {end} {cpu} {moved} {checksum} {}",
            u8::from(order_ok)
        );
        0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Impl {
    Rust,
    C,
}

impl Impl {
    fn name(self) -> &'static str {
        match self {
            Impl::Rust => "Rust",
            Impl::C => "C",
        }
    }
}

#[derive(Clone, Debug)]
struct Case {
    size: usize,
    producers: usize,
    consumers: usize,
    batch: usize,
    imp: Impl,
    messages: u64,
}

impl Case {
    fn label(&self) -> String {
        format!(
            "{:>5} B  {}p/{}c  {:<9} {}",
            self.size,
            self.producers,
            self.consumers,
            if self.batch == 1 {
                "single".to_string()
            } else {
                format!("batch {}", self.batch)
            },
            self.imp.name()
        )
    }
}

/// One run's numbers, per message.
#[derive(Clone, Copy, Debug)]
struct Sample {
    wall_ns: f64,
    consumer_cpu_ns: f64,
}

struct Worker {
    child: Child,
    role: &'static str,
    out: BufReader<std::process::ChildStdout>,
}

struct Report {
    start: u64,
    end: u64,
    cpu: u64,
    moved: u64,
    checksum: u64,
    order_ok: bool,
}

fn spawn(c_worker: Option<&str>, imp: Impl, args: &[String], role: &'static str) -> Worker {
    let mut cmd = match imp {
        Impl::Rust => {
            let mut cmd = Command::new(std::env::current_exe().unwrap());
            cmd.arg(WORKER_FLAG);
            cmd
        }
        Impl::C => Command::new(c_worker.expect("C worker")),
    };
    let mut child = cmd
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn a worker");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready", "worker did not start");
    Worker { child, role, out }
}

fn finish(mut w: Worker) -> Report {
    let mut line = String::new();
    w.out.read_line(&mut line).unwrap();
    assert!(w.child.wait().unwrap().success(), "a {} failed", w.role);
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(f.len(), 6, "bad report {line:?}");
    Report {
        start: f[0],
        end: f[1],
        cpu: f[2],
        moved: f[3],
        checksum: f[4],
        order_ok: f[5] == 1,
    }
}

fn unique_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "ringq-bench-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn run_case(case: &Case, capacity: usize, c_worker: Option<&str>) -> Sample {
    let name = unique_name();
    let q = ShmQueue::create(
        &name,
        &ShmOptions::new(capacity, case.size).max_participants(16),
    )
    .expect("create");
    let per_producer = case.messages / case.producers as u64;
    q.add_tasks(case.producers as u64).unwrap();
    let args = |role: &str, id: usize| {
        [
            name.clone(),
            role.into(),
            id.to_string(),
            per_producer.to_string(),
            case.size.to_string(),
            case.batch.to_string(),
        ]
    };
    let mut workers: Vec<Worker> = (0..case.consumers)
        .map(|c| spawn(c_worker, case.imp, &args("consumer", c), "consumer"))
        .collect();
    workers.extend(
        (0..case.producers).map(|p| spawn(c_worker, case.imp, &args("producer", p), "producer")),
    );
    // Go: closing every worker's stdin starts it.
    for w in &mut workers {
        drop(w.child.stdin.take());
    }
    let reports: Vec<(&'static str, Report)> =
        workers.into_iter().map(|w| (w.role, finish(w))).collect();
    ShmQueue::unlink(&name).unwrap();

    let total = per_producer * case.producers as u64;
    let expected: u64 = (0..case.producers as u64)
        .map(|p| (0..per_producer).map(|s| (p << 32) | s).sum::<u64>())
        .sum();
    let consumers: Vec<&Report> = reports
        .iter()
        .filter(|r| r.0 == "consumer")
        .map(|r| &r.1)
        .collect();
    let producers: Vec<&Report> = reports
        .iter()
        .filter(|r| r.0 == "producer")
        .map(|r| &r.1)
        .collect();
    assert_eq!(
        consumers.iter().map(|r| r.moved).sum::<u64>(),
        total,
        "{}: lost or doubled",
        case.label()
    );
    assert_eq!(
        consumers
            .iter()
            .map(|r| r.checksum)
            .fold(0u64, u64::wrapping_add),
        expected,
        "{}: wrong messages",
        case.label()
    );
    assert!(
        consumers.iter().all(|r| r.order_ok),
        "{}: out of order",
        case.label()
    );
    assert_eq!(producers.iter().map(|r| r.moved).sum::<u64>(), total);
    let start = producers.iter().map(|r| r.start).min().unwrap();
    let end = consumers.iter().map(|r| r.end).max().unwrap();
    Sample {
        wall_ns: (end - start) as f64 / total as f64,
        consumer_cpu_ns: consumers.iter().map(|r| r.cpu).sum::<u64>() as f64 / total as f64,
    }
}

/// What a consumer blocked on an empty queue for `wait` costs in CPU time.
fn idle_cpu(imp: Impl, c_worker: Option<&str>, wait: Duration) -> u64 {
    let name = unique_name();
    let q = ShmQueue::create(&name, &ShmOptions::new(16, 64)).unwrap();
    let args = [&name, "idle", "0", "1", "64", "1"].map(String::from);
    let mut w = spawn(c_worker, imp, &args, "idle consumer");
    drop(w.child.stdin.take());
    std::thread::sleep(wait);
    q.push(&[0; 8]).unwrap();
    let r = finish(w);
    ShmQueue::unlink(&name).unwrap();
    r.cpu
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.trim()
                .replace('_', "")
                .parse()
                .unwrap_or_else(|_| panic!("{name}={v:?}"))
        })
        .unwrap_or(default)
}

fn harness(args: &[String]) {
    let rounds = env_num("RINGQ_BENCH_ROUNDS", 5) as usize;
    let messages = env_num("RINGQ_BENCH_SHM_MESSAGES", 400_000);
    let batch = env_num("RINGQ_BENCH_SHM_BATCH", 32) as usize;
    let capacity = env_num("RINGQ_BENCH_SHM_CAPACITY", 1024) as usize;
    let c_worker = args
        .iter()
        .position(|a| a == "--c-worker")
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| std::env::var("RINGQ_BENCH_SHM_C_WORKER").ok())
        .filter(|p| !p.is_empty());
    let impls: Vec<Impl> = match &c_worker {
        Some(_) => vec![Impl::Rust, Impl::C],
        None => {
            println!("shm: no C worker given (--c-worker PATH); the C rows are skipped");
            vec![Impl::Rust]
        }
    };
    let c_worker = c_worker.as_deref();

    let mut cases = Vec::new();
    for size in [64usize, 4096] {
        let messages = if size > 64 { messages / 4 } else { messages };
        for (p, c) in [(1, 1), (2, 2)] {
            for b in [1, batch] {
                for &imp in &impls {
                    cases.push(Case {
                        size,
                        producers: p,
                        consumers: c,
                        batch: b,
                        imp,
                        messages: messages / p as u64 * p as u64,
                    });
                }
            }
        }
    }
    println!(
        "ringq shm: process to process, named queue of capacity {capacity}, blocking pops; \
         {rounds} rounds (plus a warm-up), cases interleaved; {} hardware threads, load {:.2}",
        ringq_benches::threads_available(),
        ringq_benches::load_average().unwrap_or(f64::NAN)
    );
    for case in &cases {
        run_case(
            &Case {
                messages: case.messages / 10,
                ..case.clone()
            },
            capacity,
            c_worker,
        );
    }
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); cases.len()];
    for round in 0..rounds {
        for k in 0..cases.len() {
            let i = (k + round) % cases.len();
            samples[i].push(run_case(&cases[i], capacity, c_worker));
        }
    }

    println!();
    println!(
        "{:<32} {:>10} {:>17} {:>14} {:>10}",
        "case", "ns/msg", "min..max", "consumer CPU", "Mmsg/s"
    );
    let med = |s: &[Sample], f: fn(&Sample) -> f64| median(&s.iter().map(f).collect::<Vec<_>>());
    for (case, s) in cases.iter().zip(&samples) {
        let wall: Vec<f64> = s.iter().map(|x| x.wall_ns).collect();
        let (lo, hi) = wall
            .iter()
            .fold((f64::MAX, 0f64), |(l, h), &w| (l.min(w), h.max(w)));
        let m = med(s, |x| x.wall_ns);
        println!(
            "{:<32} {:>10.1} {:>8.1}..{:<8.1} {:>9.1} ns/msg {:>8.2}",
            case.label(),
            m,
            lo,
            hi,
            med(s, |x| x.consumer_cpu_ns),
            1e3 / m
        );
    }

    // Paired ratios: within each round, then the median over rounds.
    let find = |size, p, b, imp| {
        cases
            .iter()
            .position(|c| c.size == size && c.producers == p && c.batch == b && c.imp == imp)
    };
    let paired = |a: usize, b: usize| {
        median(
            &samples[a]
                .iter()
                .zip(&samples[b])
                .map(|(x, y)| x.wall_ns / y.wall_ns)
                .collect::<Vec<_>>(),
        )
    };
    println!();
    println!(
        "paired ratios (median over rounds of the per-round ratio; above 1: the second is faster)"
    );
    let mut ratios = Vec::new();
    for size in [64usize, 4096] {
        for p in [1, 2] {
            for &imp in &impls {
                if let (Some(single), Some(batched)) =
                    (find(size, p, 1, imp), find(size, p, batch, imp))
                {
                    let r = paired(single, batched);
                    println!(
                        "  {size:>5} B {p}p/{p}c {}: single / batch {batch}: {r:.2}x",
                        imp.name()
                    );
                    ratios.push((format!("{size}B {p}p{p}c {} batch speed-up", imp.name()), r));
                }
            }
            for b in [1, batch] {
                if let (Some(rust), Some(c)) =
                    (find(size, p, b, Impl::Rust), find(size, p, b, Impl::C))
                {
                    let r = paired(c, rust);
                    let mode = if b == 1 {
                        "single".into()
                    } else {
                        format!("batch {b}")
                    };
                    println!("  {size:>5} B {p}p/{p}c {mode}: C / Rust: {r:.2}x");
                    ratios.push((format!("{size}B {p}p{p}c {mode} C/Rust"), r));
                }
            }
        }
    }

    println!();
    let wait = Duration::from_millis(500);
    let mut idle = Vec::new();
    for &imp in &impls {
        let cpu = idle_cpu(imp, c_worker, wait);
        println!(
            "idle: a {} consumer blocked {} ms on an empty queue used {:.0} us of CPU",
            imp.name(),
            wait.as_millis(),
            cpu as f64 / 1e3
        );
        idle.push((imp.name(), cpu));
    }

    let json = std::env::var_os("RINGQ_BENCH_SHM_JSON").map_or_else(
        || {
            Some(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("results")
                    .join("shm.json"),
            )
        },
        |p| (!p.is_empty()).then(|| p.into()),
    );
    if let Some(path) = json {
        let rows: Vec<String> = cases
            .iter()
            .zip(&samples)
            .map(|(c, s)| {
                format!(
                    "{{\"size\":{},\"producers\":{},\"consumers\":{},\"batch\":{},\"impl\":\"{}\",\
                     \"median_ns_per_msg\":{:.2},\"median_consumer_cpu_ns_per_msg\":{:.2},\"samples_ns\":[{}]}}",
                    c.size,
                    c.producers,
                    c.consumers,
                    c.batch,
                    c.imp.name(),
                    med(s, |x| x.wall_ns),
                    med(s, |x| x.consumer_cpu_ns),
                    s.iter().map(|x| format!("{:.2}", x.wall_ns)).collect::<Vec<_>>().join(",")
                )
            })
            .collect();
        let ratios: Vec<String> = ratios
            .iter()
            .map(|(k, v)| format!("{{\"what\":\"{k}\",\"ratio\":{v:.3}}}"))
            .collect();
        let idle: Vec<String> = idle
            .iter()
            .map(|(k, v)| {
                format!(
                    "{{\"impl\":\"{k}\",\"cpu_ns\":{v},\"blocked_ms\":{}}}",
                    wait.as_millis()
                )
            })
            .collect();
        let text = format!(
            "{{\"rounds\":{rounds},\"capacity\":{capacity},\"load_average\":{:.2},\"rows\":[{}],\"ratios\":[{}],\"idle\":[{}]}}\n",
            ringq_benches::load_average().unwrap_or(-1.0),
            rows.join(","),
            ratios.join(","),
            idle.join(",")
        );
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        match std::fs::write(&path, text) {
            Ok(()) => println!("\nwrote {}", path.display()),
            Err(e) => println!("\ncould not write {}: {e}", path.display()),
        }
    }
}
