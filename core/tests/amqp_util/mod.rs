//! Helpers shared by the AMQP bridge's broker tests: the broker URL, temporary
//! queues, rabbitmqctl, handles named after their queue, and the accounting of
//! what was delivered.
#![allow(dead_code)] // each test binary uses its own subset

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ringq::amqp::{Consumer, ConsumerOptions, Message, Publisher, PublisherOptions};

pub fn url() -> String {
    std::env::var("RINGQ_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// A queue name no other test or run uses; deleted on drop.
pub struct TempQueue(pub String);

impl TempQueue {
    pub fn new(what: &str) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        TempQueue(format!(
            "ringq-test-{what}-{}-{nanos}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ))
    }
}

impl Drop for TempQueue {
    fn drop(&mut self) {
        // Not asserted: some tests' queues are never created.
        let _ = Command::new("rabbitmqctl")
            .args(["-q", "delete_queue", &self.0])
            .output();
    }
}

pub fn rabbitmqctl(args: &[&str]) -> String {
    let out = Command::new("rabbitmqctl")
        .arg("-q")
        .args(args)
        .output()
        .expect("rabbitmqctl runs (make test-amqp puts /usr/sbin on PATH)");
    assert!(
        out.status.success(),
        "rabbitmqctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// (ready, unacked) messages of a queue, as the broker counts them.
pub fn queue_counts(queue: &str) -> (u64, u64) {
    let out = rabbitmqctl(&[
        "list_queues",
        "--no-table-headers",
        "name",
        "messages_ready",
        "messages_unacknowledged",
    ]);
    for line in out.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() == 3 && cols[0] == queue {
            return (cols[1].parse().unwrap(), cols[2].parse().unwrap());
        }
    }
    panic!("queue {queue} not listed in {out}");
}

/// Polls until the broker's counts for `queue` are `want` (they lag a
/// little behind the frames).
pub fn wait_counts(queue: &str, want: (u64, u64)) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = queue_counts(queue);
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "queue {queue}: {got:?}, want {want:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Each handle's connection is named after its queue, so that a test can
/// close its own connections and no other test's.
pub fn publisher(queue: &str) -> Publisher {
    Publisher::connect(
        &url(),
        PublisherOptions {
            routing_key: queue.to_owned(),
            connection_name: format!("{queue} publisher"),
            ..PublisherOptions::default()
        },
    )
    .expect("publisher connects")
}

pub fn consumer(queue: &str, prefetch: u16) -> Consumer {
    Consumer::connect(
        &url(),
        queue,
        ConsumerOptions {
            prefetch,
            durable: false,
            connection_name: format!("{queue} consumer"),
            ..ConsumerOptions::default()
        },
    )
    .expect("consumer connects")
}

/// Has the broker close every connection whose name starts with `prefix`;
/// returns how many it closed.
pub fn close_connections(prefix: &str) -> usize {
    let out = rabbitmqctl(&[
        "list_connections",
        "--no-table-headers",
        "pid",
        "client_properties",
    ]);
    let mut closed = 0;
    for line in out.lines().filter(|l| l.contains(prefix)) {
        let pid = line.split_whitespace().next().unwrap();
        rabbitmqctl(&["close_connection", pid, "ringq test: fault injection"]);
        closed += 1;
    }
    closed
}

pub fn seq_of(msg: &Message) -> u64 {
    u64::from_le_bytes(msg.body[..8].try_into().unwrap())
}

pub fn publish_range(p: &Publisher, range: std::ops::Range<u64>) {
    for i in range {
        p.put_bytes(&i.to_le_bytes()).unwrap();
    }
    p.flush(Duration::from_secs(30))
        .expect("every message confirmed");
}

/// Every delivery a test saw: seq -> redelivered flags in arrival order.
#[derive(Default)]
pub struct Seen(Mutex<BTreeMap<u64, Vec<bool>>>);

impl Seen {
    pub fn record(&self, msg: &Message) {
        self.0
            .lock()
            .unwrap()
            .entry(seq_of(msg))
            .or_default()
            .push(msg.redelivered);
    }

    pub fn distinct(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// Asserts that exactly seqs 0..n arrived, each at least once, and that
    /// a seq arrived more than once without the redelivered flag at most
    /// `fresh_dups` times in all (the publisher's republished messages are
    /// new messages to the broker).
    pub fn assert_exact(&self, n: u64, fresh_dups: u64) {
        let seen = self.0.lock().unwrap();
        let keys: Vec<u64> = seen.keys().copied().collect();
        assert_eq!(keys, (0..n).collect::<Vec<_>>(), "lost or foreign messages");
        let extra_fresh: u64 = seen
            .values()
            .map(|flags| flags.iter().filter(|r| !**r).count().saturating_sub(1) as u64)
            .sum();
        assert!(
            extra_fresh <= fresh_dups,
            "{extra_fresh} duplicates without redelivered; publisher republished {fresh_dups}"
        );
    }
}
