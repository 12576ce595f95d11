//! The RabbitMQ bridge under faults that touch the whole broker: a memory
//! alarm that blocks every publishing connection, and the broker
//! application stopped and started mid-stream. One test, so that these
//! faults never meet another test of this binary; `make test-amqp` runs
//! this binary after the others.

mod amqp_util;

use std::time::{Duration, Instant};

use amqp_util::*;
use ringq::amqp::{Consumer, ConsumerOptions, Error, Publisher, PublisherOptions};

/// Lifts the memory alarm again, also when the test fails.
struct AlarmGuard;

impl Drop for AlarmGuard {
    fn drop(&mut self) {
        // 0.4 is RabbitMQ's default watermark.
        let _ = std::process::Command::new("rabbitmqctl")
            .args(["-q", "set_vm_memory_high_watermark", "0.4"])
            .output();
    }
}

#[test]
fn broker_wide_faults() {
    blocked_connection_holds_puts();
    survives_broker_restart();
}

/// connection.blocked: put_bytes waits (and times out) instead of piling
/// messages up; once unblocked, everything is confirmed and consumed.
fn blocked_connection_holds_puts() {
    let q = TempQueue::new("blocked");
    let c = consumer(&q.0, 256);
    let p = publisher(&q.0);
    let alarm = AlarmGuard;
    rabbitmqctl(&["set_vm_memory_high_watermark", "0"]);
    // The broker blocks a connection when it next publishes; from then on
    // the publisher holds back.
    let mut accepted = 0u64;
    let mut timed_out = false;
    for i in 0..1000u64 {
        match p.put_bytes_timeout(&i.to_le_bytes(), Duration::from_millis(500)) {
            Ok(_) => accepted += 1,
            Err(Error::Timeout) => {
                timed_out = true;
                break;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(
        timed_out,
        "{accepted} puts accepted while the broker blocked publishing"
    );
    eprintln!("blocked: {accepted} puts accepted before the publisher held back");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !p.is_blocked() {
        assert!(
            Instant::now() < deadline,
            "no connection.blocked from the broker"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(alarm);
    let deadline = Instant::now() + Duration::from_secs(10);
    while p.is_blocked() {
        assert!(
            Instant::now() < deadline,
            "no connection.unblocked from the broker"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    p.flush(Duration::from_secs(30))
        .expect("confirmed once unblocked");
    let seen = Seen::default();
    while let Ok(msg) = c.get_timeout(Duration::from_secs(2)) {
        seen.record(&msg);
        c.ack(&msg).unwrap();
    }
    seen.assert_exact(accepted, 0);
    c.join();
    wait_counts(&q.0, (0, 0));
}

/// `rabbitmqctl stop_app` then `start_app` mid-stream, with a durable queue
/// and persistent messages: both handles reconnect, every confirmed message
/// is consumed at least once.
fn survives_broker_restart() {
    let q = TempQueue::new("restart");
    let c = Consumer::connect(
        &url(),
        &q.0,
        ConsumerOptions {
            prefetch: 64,
            durable: true,
            max_backoff: Duration::from_secs(1),
            ..ConsumerOptions::default()
        },
    )
    .unwrap();
    let p = Publisher::connect(
        &url(),
        PublisherOptions {
            routing_key: q.0.clone(),
            persistent: true,
            max_backoff: Duration::from_secs(1),
            ..PublisherOptions::default()
        },
    )
    .unwrap();
    const N: u64 = 10_000;
    let seen = Seen::default();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                while let Ok(msg) = c.get_timeout(Duration::from_secs(15)) {
                    seen.record(&msg);
                    std::thread::sleep(Duration::from_micros(50));
                    c.ack(&msg).unwrap();
                }
            });
        }
        s.spawn(|| {
            while seen.distinct() < (N / 4) as usize {
                std::thread::sleep(Duration::from_millis(5));
            }
            let started = Instant::now();
            rabbitmqctl(&["stop_app"]);
            std::thread::sleep(Duration::from_secs(1));
            rabbitmqctl(&["start_app"]);
            eprintln!("restart: broker app down and up in {:?}", started.elapsed());
        });
        for i in 0..N {
            p.put_bytes(&i.to_le_bytes()).unwrap();
        }
        p.flush(Duration::from_secs(120))
            .expect("all confirmed after the restart");
    });
    c.join();
    let (cs, ps) = (c.stats(), p.stats());
    eprintln!("restart: consumer {cs:?}, publisher {ps:?}");
    assert!(cs.reconnects >= 1 && ps.reconnects >= 1);
    seen.assert_exact(N, ps.republished);
    c.close().unwrap();
    wait_counts(&q.0, (0, 0));
}
