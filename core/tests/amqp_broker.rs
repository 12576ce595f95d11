//! The RabbitMQ bridge against a real broker: round trips with exact
//! accounting, ack coalescing, the prefetch bound, dead-lettering, a
//! graceful close, connection errors, and connections the broker drops
//! mid-stream.
//!
//! Run with `make test-amqp`, which starts the broker. The URL comes from
//! RINGQ_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/%2f); broker
//! state is read and faults are injected with `rabbitmqctl`.

mod amqp_util;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use amqp_util::*;
use ringq::amqp::{Consumer, ConsumerOptions, Error, FailureReason, Publisher, PublisherOptions};

#[test]
fn round_trip_exact() {
    let q = TempQueue::new("roundtrip");
    let c = consumer(&q.0, 256);
    let p = publisher(&q.0);
    const N: u64 = 2000;
    publish_range(&p, 0..N);
    assert_eq!(p.stats().confirmed, N);
    let seen = Seen::default();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                while let Ok(msg) = c.get_timeout(Duration::from_secs(2)) {
                    assert!(!msg.redelivered);
                    assert_eq!(msg.routing_key, q.0);
                    seen.record(&msg);
                    c.ack(&msg).unwrap();
                }
            });
        }
    });
    c.join();
    seen.assert_exact(N, 0);
    let stats = c.stats();
    assert_eq!((stats.delivered, stats.acked, stats.stale), (N, N, 0));
    wait_counts(&q.0, (0, 0));
    c.close().unwrap();
    p.close().unwrap();
}

#[test]
fn acks_coalesce() {
    let q = TempQueue::new("coalesce");
    let c = consumer(&q.0, 256);
    let p = publisher(&q.0);
    const N: u64 = 5000;
    publish_range(&p, 0..N);
    // One worker acking in order: a burst of acks is one frame.
    let mut n = 0;
    while let Ok(msg) = c.get_timeout(Duration::from_secs(2)) {
        c.ack(&msg).unwrap();
        n += 1;
    }
    c.join();
    assert_eq!(n, N);
    let stats = c.stats();
    assert_eq!(stats.acked, N);
    eprintln!(
        "acks_coalesce: {N} acks in {} basic.ack frames",
        stats.ack_frames
    );
    assert!(
        stats.ack_frames < N / 2,
        "{} frames for {N} acks: not coalesced",
        stats.ack_frames
    );
    wait_counts(&q.0, (0, 0));
    // An ack settles once.
    p.put_bytes(b"twice...").unwrap();
    p.flush(Duration::from_secs(10)).unwrap();
    let msg = c.get_timeout(Duration::from_secs(5)).unwrap();
    c.ack(&msg).unwrap();
    assert_eq!(c.ack(&msg), Err(Error::AlreadySettled));
    c.join();
    wait_counts(&q.0, (0, 0));
}

#[test]
fn prefetch_bounds_unsettled() {
    let q = TempQueue::new("prefetch");
    let c = consumer(&q.0, 10);
    let p = publisher(&q.0);
    publish_range(&p, 0..100);
    // Take without acking: no more than the prefetch ever arrives.
    let mut held = Vec::new();
    while let Ok(msg) = c.get_timeout(Duration::from_millis(1500)) {
        held.push(msg);
    }
    assert_eq!(held.len(), 10);
    wait_counts(&q.0, (90, 10));
    for msg in &held {
        c.ack(msg).unwrap();
    }
    held.clear();
    let mut rest = 0;
    while let Ok(msg) = c.get_timeout(Duration::from_millis(1500)) {
        c.ack(&msg).unwrap();
        rest += 1;
    }
    assert_eq!(rest, 90);
    c.join();
    wait_counts(&q.0, (0, 0));
}

#[test]
fn reject_dead_letters() {
    let q = TempQueue::new("dlx-main");
    let dlq = TempQueue::new("dlx-dead");
    let dead = consumer(&dlq.0, 50);
    let c = Consumer::connect(
        &url(),
        &q.0,
        ConsumerOptions {
            durable: false,
            dead_letter_exchange: Some(String::new()),
            dead_letter_routing_key: Some(dlq.0.clone()),
            ..ConsumerOptions::default()
        },
    )
    .unwrap();
    let p = publisher(&q.0);
    publish_range(&p, 0..20);
    let mut rejected = HashSet::new();
    for _ in 0..20 {
        let msg = c.get_timeout(Duration::from_secs(5)).unwrap();
        let seq = seq_of(&msg);
        if seq % 4 == 0 {
            c.reject(&msg, false).unwrap();
            rejected.insert(seq);
        } else {
            c.ack(&msg).unwrap();
        }
    }
    c.join();
    let mut dead_seen = HashSet::new();
    while let Ok(msg) = dead.get_timeout(Duration::from_secs(2)) {
        assert!(
            msg.headers.contains_key("x-death"),
            "dead-lettered: {msg:?}"
        );
        dead_seen.insert(seq_of(&msg));
        dead.ack(&msg).unwrap();
    }
    assert_eq!(dead_seen, rejected);
    assert_eq!(c.stats().rejected, 5);
    wait_counts(&q.0, (0, 0));
    wait_counts(&dlq.0, (0, 0));
    // Requeued: delivered again, flagged.
    p.put_bytes(&99u64.to_le_bytes()).unwrap();
    p.flush(Duration::from_secs(10)).unwrap();
    let msg = c.get_timeout(Duration::from_secs(5)).unwrap();
    c.reject(&msg, true).unwrap();
    let again = c.get_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(seq_of(&again), 99);
    assert!(again.redelivered);
    c.ack(&again).unwrap();
    c.join();
    wait_counts(&q.0, (0, 0));
}

#[test]
fn close_hands_back_untaken_and_waits_for_taken() {
    let q = TempQueue::new("close");
    let c = consumer(&q.0, 50);
    let p = publisher(&q.0);
    publish_range(&p, 0..100);
    let mut taken = Vec::new();
    for _ in 0..5 {
        taken.push(c.get_timeout(Duration::from_secs(5)).unwrap());
    }
    // Let the rest of the prefetch window arrive in the local buffer.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(queue_counts(&q.0), (50, 50));
    let taken_seqs: HashSet<u64> = taken.iter().map(seq_of).collect();
    std::thread::scope(|s| {
        let worker = s.spawn(|| {
            // The work outlasts the start of the close.
            std::thread::sleep(Duration::from_millis(700));
            for msg in &taken {
                c.ack(msg).unwrap();
            }
        });
        let started = Instant::now();
        c.close().unwrap();
        assert!(
            started.elapsed() >= Duration::from_millis(500),
            "close waited for the worker"
        );
        worker.join().unwrap();
    });
    assert_eq!(c.get().unwrap_err(), Error::Closed);
    wait_counts(&q.0, (95, 0));
    // A new consumer gets exactly the other 95.
    let c2 = consumer(&q.0, 256);
    let mut rest = HashSet::new();
    while let Ok(msg) = c2.get_timeout(Duration::from_secs(2)) {
        assert!(rest.insert(seq_of(&msg)));
        c2.ack(&msg).unwrap();
    }
    assert_eq!(rest.len(), 95);
    assert!(rest.is_disjoint(&taken_seqs));
}

#[test]
fn connection_errors_are_clear() {
    // Nothing listens on port 1.
    let e =
        Consumer::connect("amqp://127.0.0.1:1/%2f", "q", ConsumerOptions::default()).unwrap_err();
    assert!(matches!(e, Error::Unreachable(_)), "{e:?}");
    let e = Publisher::connect("amqp://127.0.0.1:1/%2f", PublisherOptions::default()).unwrap_err();
    assert!(matches!(e, Error::Unreachable(_)), "{e:?}");

    // A listener that accepts and never speaks AMQP: the timeout, not a hang.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let started = Instant::now();
    let e = Consumer::connect(
        &format!("amqp://{addr}/%2f"),
        "q",
        ConsumerOptions {
            connect_timeout: Duration::from_millis(500),
            ..ConsumerOptions::default()
        },
    )
    .unwrap_err();
    assert_eq!(e, Error::ConnectTimeout(Duration::from_millis(500)));
    assert!(started.elapsed() < Duration::from_secs(5));

    // Wrong credentials.
    let mut bad = url().replacen("guest:guest@", "guest:wrong@", 1);
    if bad == url() {
        bad = "amqp://nobody:wrong@127.0.0.1:5672/%2f".to_owned();
    }
    let e = Consumer::connect(&bad, "q", ConsumerOptions::default()).unwrap_err();
    assert!(
        matches!(e, Error::AccessRefused(_) | Error::Connection(_)),
        "{e:?}"
    );
    eprintln!("wrong credentials: {e}");

    // A missing queue, not declared.
    let q = TempQueue::new("missing");
    let e = Consumer::connect(
        &url(),
        &q.0,
        ConsumerOptions {
            declare: false,
            ..ConsumerOptions::default()
        },
    )
    .unwrap_err();
    assert_eq!(e, Error::QueueNotFound(q.0.clone()));

    // A bad URL.
    let e = Consumer::connect("http://x", "q", ConsumerOptions::default()).unwrap_err();
    assert!(matches!(e, Error::InvalidUrl(_)), "{e:?}");

    // A closed handle.
    let q = TempQueue::new("closed");
    let c = consumer(&q.0, 10);
    c.close().unwrap();
    assert_eq!(c.get().unwrap_err(), Error::Closed);
    assert_eq!(c.try_get().unwrap_err(), Error::Closed);
    let p = publisher(&q.0);
    p.close().unwrap();
    assert_eq!(p.put_bytes(b"x").unwrap_err(), Error::Closed);
}

#[test]
fn unroutable_and_reported() {
    let p = Publisher::connect(
        &url(),
        PublisherOptions {
            routing_key: "ringq-test-no-such-queue".into(),
            ..PublisherOptions::default()
        },
    )
    .unwrap();
    let a = p.put_bytes(b"a").unwrap();
    let b = p.put_bytes(b"b").unwrap();
    match p.flush(Duration::from_secs(10)) {
        Err(Error::Publish(failures)) => {
            assert_eq!(failures.iter().map(|f| f.seq).collect::<Vec<_>>(), [a, b]);
            for f in &failures {
                assert!(
                    matches!(&f.reason, FailureReason::Returned { code: 312, .. }),
                    "{f:?}"
                );
            }
            assert_eq!(failures[0].body, b"a");
        }
        other => panic!("returned messages not reported: {other:?}"),
    }
    // Reported once.
    p.flush(Duration::from_secs(10)).unwrap();
    assert_eq!(p.stats().failed, 2);
}

/// Mid-stream, the broker drops the client connections; both handles
/// reconnect, and every confirmed message is consumed at least once.
#[test]
fn survives_dropped_connections() {
    let q = TempQueue::new("reconnect");
    let c = consumer(&q.0, 64);
    let p = publisher(&q.0);
    const N: u64 = 20_000;
    let seen = Seen::default();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                while let Ok(msg) = c.get_timeout(Duration::from_secs(5)) {
                    seen.record(&msg);
                    // A little work, so that deliveries are in flight.
                    std::thread::sleep(Duration::from_micros(50));
                    c.ack(&msg).unwrap();
                }
            });
        }
        s.spawn(|| {
            while seen.distinct() < (N / 4) as usize {
                std::thread::sleep(Duration::from_millis(5));
            }
            // Both of this test's connections, and no other test's.
            assert_eq!(close_connections(&q.0), 2);
        });
        for i in 0..N {
            p.put_bytes(&i.to_le_bytes()).unwrap();
        }
        p.flush(Duration::from_secs(60))
            .expect("all confirmed after reconnect");
    });
    c.join();
    let (cs, ps) = (c.stats(), p.stats());
    eprintln!("dropped connections: consumer {cs:?}, publisher {ps:?}");
    assert!(cs.reconnects >= 1 && ps.reconnects >= 1);
    seen.assert_exact(N, ps.republished);
    c.close().unwrap();
    wait_counts(&q.0, (0, 0));
}
