//! Loom models of the shared-memory queue's in-segment protocol: claims,
//! publication and release across "processes" (handles with their own
//! participant entries and model PIDs), close, the cross-process wait/wake
//! pair, and recovery from a participant killed between its claim and its
//! publish or release.
//!
//! The segment is a heap model with the same words (see `segment.rs`); the
//! message bytes live in loom cells, so loom also reports a reader and a
//! writer that could touch one slot at the same time. A "killed" process
//! stops right after its claim and is marked dead in the model, which is
//! what the liveness check then reads.
#![cfg(loom)]

mod loom_support;

use loom::thread;
use ringq::shm::{ShmError, ShmOptions, ShmQueue};

/// Runs a model with at least 3 preemptions: the lost wake-up that a
/// missing notifier fence allows needs 3 to show up, and the whole file
/// still runs in seconds.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if !matches!(builder.preemption_bound, Some(b) if b >= 3) {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}

fn options(capacity: usize) -> ShmOptions {
    ShmOptions::new(capacity, 4).max_participants(4)
}

fn push_spinning(q: &ShmQueue, msg: &[u8]) -> Result<(), ShmError> {
    loop {
        match q.try_push(msg) {
            Err(ShmError::Full) => thread::yield_now(),
            other => return other,
        }
    }
}

fn pop_spinning(q: &ShmQueue) -> Result<Vec<u8>, ShmError> {
    loop {
        match q.try_pop_with(|m| m.to_vec()) {
            Err(ShmError::Empty) => thread::yield_now(),
            other => return other,
        }
    }
}

/// Two producer processes race for slots while a third pops: each message
/// arrives exactly once. (Room for both: a pusher spinning on a full ring
/// re-reads values loom may keep stale, which exceeds its branch limit;
/// wrap-around is covered by the capacity-1 models below.)
#[test]
fn two_producers_one_consumer() {
    model(|| {
        let q = ShmQueue::model_new(&options(2));
        let producers: Vec<_> = [b"a", b"b"]
            .into_iter()
            .map(|m| {
                let p = q.model_open();
                thread::spawn(move || {
                    push_spinning(&p, m).unwrap();
                    p
                })
            })
            .collect();
        let mut got = vec![pop_spinning(&q).unwrap(), pop_spinning(&q).unwrap()];
        let _handles: Vec<_> = producers.into_iter().map(|p| p.join().unwrap()).collect();
        got.sort();
        assert_eq!(got, [b"a", b"b"]);
        assert_eq!(q.try_pop_with(|m| m.len()), Err(ShmError::Empty));
    });
}

/// Two consumer processes race for messages: each is taken exactly once,
/// and one producer's messages come out in order.
#[test]
fn one_producer_two_consumers() {
    model(|| {
        let q = ShmQueue::model_new(&options(2));
        let c = q.model_open();
        let consumer = thread::spawn(move || c.try_pop_with(|m| m.to_vec()).ok());
        push_spinning(&q, b"1").unwrap();
        push_spinning(&q, b"2").unwrap();
        let mut mine = Vec::new();
        while let Ok(m) = q.try_pop_with(|m| m.to_vec()) {
            mine.push(m);
        }
        let theirs = consumer.join().unwrap();
        let mut all: Vec<_> = theirs.into_iter().chain(mine.iter().cloned()).collect();
        all.sort();
        assert_eq!(all, [b"1", b"2"]);
        // What the main thread popped came in push order.
        assert!(mine.windows(2).all(|w| w[0] < w[1]));
    });
}

/// A push racing a close either lands (and is drained) or fails with
/// Closed: never lost. After the drain, pops report Closed.
#[test]
fn close_races_a_push() {
    model(|| {
        let q = ShmQueue::model_new(&options(2));
        let p = q.model_open();
        let producer = thread::spawn(move || p.try_push(b"x"));
        q.close();
        let pushed = producer.join().unwrap();
        match pushed {
            Ok(()) => assert_eq!(q.try_pop_with(|m| m.to_vec()), Ok(b"x".to_vec())),
            Err(e) => assert_eq!(e, ShmError::Closed),
        }
        assert_eq!(q.try_pop_with(|m| m.len()), Err(ShmError::Closed));
    });
}

/// Another process's close publishes what preceded it to a pop that reports
/// Closed: the non-blocking pop, the blocking one and the batch pop.
#[test]
fn close_publishes_to_a_closed_pop() {
    type Pop = fn(&ShmQueue) -> Result<usize, ShmError>;
    let pops: [Pop; 3] = [
        |q| q.try_pop_with(|m| m.len()),
        |q| q.pop_with_deadline(None, |m| m.len()),
        |q| q.try_pop_many_with(2, |_| ()),
    ];
    for pop in pops {
        model(move || {
            let q = ShmQueue::model_new(&options(1));
            let closer = q.model_open();
            loom_support::close_publishes_what_preceded_it(
                move || {
                    closer.close();
                },
                || match pop(&q) {
                    Err(ShmError::Closed) => true,
                    Err(ShmError::Empty) | Ok(0) => false,
                    other => panic!("a pop of an empty queue returned {other:?}"),
                },
            );
        });
    }
}

/// A consumer blocked in a pop is woken by another process's push: the
/// SeqCst fence pair loses no wake-up.
#[test]
fn blocked_pop_wakes_on_push() {
    model(|| {
        let q = ShmQueue::model_new(&options(1));
        let p = q.model_open();
        let producer = thread::spawn(move || p.push(b"w").unwrap());
        assert_eq!(q.pop_with_deadline(None, |m| m.to_vec()), Ok(b"w".to_vec()));
        producer.join().unwrap();
    });
}

/// A consumer waiting for a message (without taking it) is woken by a push,
/// and the message is still there for its pop.
#[test]
fn a_wait_for_a_message_wakes_and_takes_nothing() {
    model(|| {
        let q = ShmQueue::model_new(&options(1));
        let p = q.model_open();
        let producer = thread::spawn(move || {
            p.push(b"m").unwrap();
            p
        });
        assert_eq!(q.wait_for_message_deadline(None), Ok(()));
        assert_eq!(q.try_pop_with(|m| m.to_vec()), Ok(b"m".to_vec()));
        let _p = producer.join().unwrap();
    });
}

/// A producer blocked on a full queue is woken by another process's pop.
#[test]
fn blocked_push_wakes_on_pop() {
    model(|| {
        let q = ShmQueue::model_new(&options(1));
        q.try_push(b"1").unwrap();
        let p = q.model_open();
        let producer = thread::spawn(move || p.push(b"2").unwrap());
        assert_eq!(q.pop_with_deadline(None, |m| m.to_vec()), Ok(b"1".to_vec()));
        assert_eq!(q.pop_with_deadline(None, |m| m.to_vec()), Ok(b"2".to_vec()));
        producer.join().unwrap();
    });
}

/// A producer process killed between its claim and its publish does not
/// wedge the queue: another producer's message still arrives, the dead
/// one's position is skipped, and nothing else is delivered.
#[test]
fn a_writer_killed_after_its_claim_is_skipped() {
    model(|| {
        let q = ShmQueue::model_new(&options(2));
        let dead = q.model_open();
        let live = q.model_open();
        let killed = thread::spawn(move || {
            assert!(dead.model_push_then_die());
            dead
        });
        // The live producer's handle stays attached until the end, so its
        // entry cannot be mistaken for a free one.
        let producer = thread::spawn(move || {
            push_spinning(&live, b"kept").unwrap();
            live
        });
        assert_eq!(pop_spinning(&q), Ok(b"kept".to_vec()));
        let _dead = killed.join().unwrap();
        let _live = producer.join().unwrap();
        q.close();
        assert_eq!(q.try_pop_with(|m| m.len()), Err(ShmError::Closed));
    });
}

/// A consumer process killed between its claim and its release loses only
/// the message it took; a producer that needs the slot reclaims it.
#[test]
fn a_reader_killed_after_its_claim_frees_its_slot() {
    model(|| {
        let q = ShmQueue::model_new(&options(1));
        q.try_push(b"1").unwrap();
        let dead = q.model_open();
        let killed = thread::spawn(move || {
            assert!(dead.model_pop_then_die());
            dead
        });
        let p = q.model_open();
        let producer = thread::spawn(move || {
            push_spinning(&p, b"2").unwrap();
            p
        });
        let _dead = killed.join().unwrap();
        let _p = producer.join().unwrap();
        assert_eq!(q.try_pop_with(|m| m.to_vec()), Ok(b"2".to_vec()));
        assert_eq!(q.try_pop_with(|m| m.len()), Err(ShmError::Empty));
    });
}

/// A consumer blocked on a slot whose writer is then killed recovers it
/// and goes on to the next message (the stall path of the wait loop).
#[test]
fn a_blocked_pop_survives_a_killed_writer() {
    model(|| {
        let q = ShmQueue::model_new(&options(2));
        let dead = q.model_open();
        assert!(dead.model_push_then_die());
        let p = q.model_open();
        let producer = thread::spawn(move || {
            p.try_push(b"next").unwrap();
            p
        });
        assert_eq!(
            q.pop_with_deadline(None, |m| m.to_vec()),
            Ok(b"next".to_vec())
        );
        let _p = producer.join().unwrap();
    });
}

/// Two consumers race to recover the same dead writer: the slot is
/// skipped once and the live message delivered once.
#[test]
fn two_recoverers_race() {
    model(|| {
        let q = ShmQueue::model_new(&options(2));
        let dead = q.model_open();
        assert!(dead.model_push_then_die());
        q.try_push(b"kept").unwrap();
        let c = q.model_open();
        let other = thread::spawn(move || c.try_pop_with(|m| m.to_vec()).ok());
        let mine = q.try_pop_with(|m| m.to_vec()).ok();
        let theirs = other.join().unwrap();
        let got: Vec<_> = mine.into_iter().chain(theirs).collect();
        assert_eq!(got, [b"kept".to_vec()]);
    });
}

/// A dead producer's batch claim spans two slots and is recorded nowhere
/// but in `tail`. A new process that finds the participant table full
/// recovers the dead entry and takes it over: recovery must first record
/// and reclaim both slots, or the newcomer would inherit the dead claim and
/// the consumer would wait on a live process for messages that never come.
#[test]
fn a_reused_entry_does_not_inherit_a_dead_claim() {
    model(|| {
        let q = ShmQueue::model_new(&options(3).max_participants(2));
        let dead = q.model_open();
        assert_eq!(dead.model_push_many_then_die(2), 2);
        let reborn = q.model_open(); // the table is full: recovers `dead`
        let producer = thread::spawn(move || {
            push_spinning(&reborn, b"new").unwrap();
            reborn
        });
        assert_eq!(pop_spinning(&q), Ok(b"new".to_vec()));
        let _reborn = producer.join().unwrap();
        let _dead = dead;
    });
}

/// `join` returns once another process has finished every task.
#[test]
fn join_waits_for_task_done() {
    model(|| {
        let q = ShmQueue::model_new(&options(1));
        q.add_tasks(1).unwrap();
        let w = q.model_open();
        let worker = thread::spawn(move || w.task_done().unwrap());
        q.join_deadline(None).unwrap();
        assert_eq!(q.unfinished_tasks(), 0);
        worker.join().unwrap();
    });
}
