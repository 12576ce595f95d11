//! Throughput through a local RabbitMQ broker: 64-byte messages published
//! with confirms (a window of 256 unconfirmed) while four worker threads
//! consume them (prefetch 256) and ack each after its (empty) work.
//!
//! The same workload runs through ringq::amqp and through lapin used
//! directly on one tokio runtime, alternating, three rounds each; the
//! table gives the median messages per second, from the first publish to
//! the last ack.
//!
//! usage: cargo bench -p ringq-benches --features amqp --bench amqp [-- N]
//! with RINGQ_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/%2f).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::StreamExt;
use lapin::options::*;
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};
use ringq::amqp::{Consumer, ConsumerOptions, Publisher, PublisherOptions};

const WINDOW: usize = 256;
const PREFETCH: u16 = 256;
const WORKERS: usize = 4;

fn url() -> String {
    std::env::var("RINGQ_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

fn queue_name(who: &str, round: usize) -> String {
    format!("ringq-bench-{who}-{}-{round}", std::process::id())
}

fn ringq_round(n: u64, round: usize) -> f64 {
    let queue = queue_name("ringq", round);
    let consumer = Consumer::connect(
        &url(),
        &queue,
        ConsumerOptions {
            prefetch: PREFETCH,
            durable: false,
            ..Default::default()
        },
    )
    .unwrap();
    let publisher = Publisher::connect(
        &url(),
        PublisherOptions {
            routing_key: queue.clone(),
            window: WINDOW,
            ..Default::default()
        },
    )
    .unwrap();
    let body = [7u8; 64];
    let done = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| {
                while done.load(Ordering::Relaxed) < n {
                    if let Ok(msg) = consumer.get_timeout(Duration::from_millis(50)) {
                        consumer.ack(&msg).unwrap();
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        for _ in 0..n {
            publisher.put_bytes(&body).unwrap();
        }
        publisher.flush(Duration::from_secs(60)).unwrap();
    });
    consumer.join();
    let elapsed = start.elapsed();
    publisher.close().unwrap();
    consumer.close().unwrap();
    delete_queue(&queue);
    n as f64 / elapsed.as_secs_f64()
}

/// lapin alone: the publisher keeps WINDOW confirms outstanding, the
/// consumer's deliveries go to WORKERS threads through a channel and each
/// worker acks through lapin.
fn lapin_round(n: u64, round: usize) -> f64 {
    let queue = queue_name("lapin", round);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let handle = rt.handle().clone();
    rt.block_on(async {
        let conn_c = Connection::connect(&url(), ConnectionProperties::default())
            .await
            .unwrap();
        let conn_p = Connection::connect(&url(), ConnectionProperties::default())
            .await
            .unwrap();
        let ch_c = conn_c.create_channel().await.unwrap();
        let ch_p = conn_p.create_channel().await.unwrap();
        ch_c.basic_qos(PREFETCH, BasicQosOptions::default())
            .await
            .unwrap();
        ch_c.queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
        ch_p.confirm_select(ConfirmSelectOptions::default())
            .await
            .unwrap();
        let mut consumer = ch_c
            .basic_consume(
                queue.as_str().into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        let (tx, rx) = std::sync::mpsc::sync_channel::<lapin::message::Delivery>(PREFETCH as usize);
        let rx = Arc::new(std::sync::Mutex::new(rx));
        let done = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                let (rx, done, handle) = (Arc::clone(&rx), Arc::clone(&done), handle.clone());
                std::thread::spawn(move || loop {
                    let Ok(d) = rx.lock().unwrap().recv() else {
                        return;
                    };
                    // The ack goes out through the runtime the connection uses.
                    handle.spawn(async move { d.ack(BasicAckOptions::default()).await.unwrap() });
                    done.fetch_add(1, Ordering::Relaxed);
                })
            })
            .collect();
        let feed = tokio::spawn(async move {
            let mut got = 0;
            while got < n {
                let d = consumer.next().await.unwrap().unwrap();
                // Never blocks: the prefetch bounds the unacked deliveries,
                // and the channel holds no more than that.
                tx.send(d).unwrap();
                got += 1;
            }
        });
        let body = [7u8; 64];
        let mut confirms = std::collections::VecDeque::new();
        for _ in 0..n {
            if confirms.len() == WINDOW {
                let c: lapin::PublisherConfirm = confirms.pop_front().unwrap();
                assert!(c.await.unwrap().is_ack());
            }
            let c = ch_p
                .basic_publish(
                    "".into(),
                    queue.as_str().into(),
                    BasicPublishOptions::default(),
                    &body,
                    BasicProperties::default(),
                )
                .await
                .unwrap();
            confirms.push_back(c);
        }
        for c in confirms {
            assert!(c.await.unwrap().is_ack());
        }
        feed.await.unwrap();
        while done.load(Ordering::Relaxed) < n {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let elapsed = start.elapsed();
        drop(rx);
        let _ = ch_c
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await;
        let _ = conn_c.close(200, "OK".into()).await;
        let _ = conn_p.close(200, "OK".into()).await;
        // The workers end when the feed's sender is gone.
        drop(workers);
        n as f64 / elapsed.as_secs_f64()
    })
}

fn delete_queue(queue: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let conn = Connection::connect(&url(), ConnectionProperties::default())
            .await
            .unwrap();
        let ch = conn.create_channel().await.unwrap();
        let _ = ch
            .queue_delete(queue.into(), QueueDeleteOptions::default())
            .await;
        let _ = conn.close(200, "OK".into()).await;
    });
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let n: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(50_000);
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 0..3 {
        ours.push(ringq_round(n, round));
        theirs.push(lapin_round(n, round));
        eprintln!(
            "round {round}: ringq::amqp {:.0} msg/s, lapin {:.0} msg/s",
            ours[round], theirs[round]
        );
    }
    println!("{n} messages of 64 B, confirms (window {WINDOW}), prefetch {PREFETCH}, {WORKERS} workers acking");
    println!("| client | msgs/s (median of 3) |");
    println!("|---|---|");
    println!("| ringq::amqp | {:.0} |", median(ours));
    println!("| lapin directly | {:.0} |", median(theirs));
}
