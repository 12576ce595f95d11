//! Crash tests: producer and consumer processes SIGKILLed in the middle of
//! pushes and pops, and the rest of the processes carrying on.
//!
//! Two kinds of kill:
//! - exactly inside the claim-to-publish (or claim-to-release) window,
//!   where the test hook parks the victim so the kill cannot miss it (on a
//!   machine with few cores a random kill rarely lands there);
//! - at random moments under traffic, with replacements started for the
//!   victims.
//!
//! Every message names its producer and sequence number. Consumers log what
//! they receive into shared memory as they go, and producers log how many
//! pushes returned `Ok`. The checks: nothing is delivered twice, each
//! consumer sees each producer's messages in order, every message a push
//! returned `Ok` for arrives, except at most the ones the killed consumers
//! had taken (one per killed single pop, the batch of a killed batch pop),
//! and nothing a killed producer had not yet pushed arrives but its one
//! message in flight.
#![cfg(all(target_os = "linux", not(loom)))]

mod shm_support;

use std::collections::{BTreeMap, BTreeSet};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use ringq::shm::{PausePoint, ShmError, ShmOptions, ShmQueue};
use shm_support::{decode, fork, message, pack, pipe, read_byte, unpack, Child, SharedLog};

const MSG: usize = 24;
const HOOK_WAIT: Duration = Duration::from_secs(30);

/// Pushes `count` messages of producer `id` from `first`, logging the
/// number pushed so far in `lane` of `pushed`.
fn produce(q: &ShmQueue, id: u32, first: u32, count: u32, pushed: &SharedLog, lane: usize) -> i32 {
    for s in first..first + count {
        if q.push(&message(id, s, MSG)).is_err() {
            return 1;
        }
        pushed.set(lane, u64::from(s + 1));
    }
    0
}

/// Pops until the queue is closed and drained, logging each message.
fn consume(q: &ShmQueue, log: &SharedLog, lane: usize) -> i32 {
    let mut buf = Vec::new();
    loop {
        match q.pop_deadline(&mut buf, Some(Instant::now() + Duration::from_millis(50))) {
            Ok(_) => {
                let (p, s) = decode(&buf);
                log.push(lane, pack(p, s));
            }
            Err(ShmError::TimedOut) => {}
            Err(ShmError::Closed) => return 0,
            Err(_) => return 1,
        }
    }
}

/// What the consumers received, checked for duplicates and per-consumer
/// order; returns producer -> set of sequence numbers.
fn collect(log: &SharedLog, lanes: usize) -> BTreeMap<u32, BTreeSet<u32>> {
    let mut got: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
    for lane in 0..lanes {
        let mut last: BTreeMap<u32, u32> = BTreeMap::new();
        for v in log.lane(lane) {
            let (p, s) = unpack(v);
            if let Some(prev) = last.insert(p, s) {
                assert!(
                    prev < s,
                    "consumer {lane} saw producer {p}'s {s} after {prev}"
                );
            }
            assert!(
                got.entry(p).or_default().insert(s),
                "{p}/{s} delivered twice"
            );
        }
    }
    got
}

/// Kills the processes parked by a pause hook inside a claim window: a
/// producer between its claim and its publish, then a consumer between
/// its claim and its release. Live producers and consumers must then
/// deliver everything else.
fn killed_inside_the_claim_window(batch_pop: usize) {
    let q = ShmQueue::create_anonymous(&ShmOptions::new(4, MSG).max_participants(16)).unwrap();
    let log = SharedLog::new(4, 10_000);
    let pushed = SharedLog::new(2, 0);
    let (rx, tx) = pipe();

    // Victim producer 100: three messages, then parked in the fourth push.
    let victim = fork(|| {
        for s in 0..3 {
            q.push(&message(100, s, MSG)).unwrap();
        }
        q.pause_at(PausePoint::PushClaimed, tx.as_raw_fd());
        q.push(&message(100, 3, MSG)).unwrap();
        1 // not reached: the hook parks it
    });
    assert!(
        read_byte(&rx, HOOK_WAIT),
        "the producer never reached its claim"
    );
    assert_eq!(victim.kill(), 128 + libc::SIGKILL);

    // Victim consumer: parked after claiming the oldest message(s).
    let victim = fork(|| {
        q.pause_at(PausePoint::PopClaimed, tx.as_raw_fd());
        let _ = q.try_pop_many_with(batch_pop, |_| ());
        1
    });
    assert!(
        read_byte(&rx, HOOK_WAIT),
        "the consumer never reached its claim"
    );
    assert_eq!(victim.kill(), 128 + libc::SIGKILL);
    // The queue now holds a dead reader's claim at its head and a dead
    // writer's at its tail. Traffic must flow past both, many times round.
    const N: u32 = 3000;
    let producers: Vec<Child> = (0..2)
        .map(|p| fork(|| produce(&q, p, 0, N, &pushed, p as usize)))
        .collect();
    let consumers: Vec<Child> = (0..2).map(|c| fork(|| consume(&q, &log, c))).collect();
    for p in producers {
        assert_eq!(p.wait(), 0);
    }
    q.close();
    for c in consumers {
        assert_eq!(c.wait(), 0);
    }

    let got = collect(&log, 2);
    for p in 0..2 {
        assert_eq!(got[&p], (0..N).collect(), "live producer {p}");
    }
    // Producer 100 published 0..3 and died claiming 3; the killed consumer
    // took the oldest `batch_pop` of them.
    let lost: BTreeSet<u32> = (0..batch_pop as u32).collect();
    let expected: BTreeSet<u32> = (0..3).filter(|s| !lost.contains(s)).collect();
    assert_eq!(got.get(&100).cloned().unwrap_or_default(), expected);
    assert_eq!(q.len(), 0);
}

#[test]
#[cfg_attr(miri, ignore = "forks and maps shared memory")]
fn a_single_pop_and_a_push_killed_inside_their_claim_windows() {
    killed_inside_the_claim_window(1);
}

#[test]
#[cfg_attr(miri, ignore = "forks and maps shared memory")]
fn a_batch_pop_and_a_push_killed_inside_their_claim_windows() {
    killed_inside_the_claim_window(2);
}

/// A consumer that waits for a message (without taking it) behind a
/// producer killed inside its claim window recovers the dead claim while it
/// waits, and sees the next message.
#[test]
#[cfg_attr(miri, ignore = "forks and maps shared memory")]
fn waiting_for_a_message_recovers_a_dead_writer() {
    let q = ShmQueue::create_anonymous(&ShmOptions::new(4, MSG).max_participants(8)).unwrap();
    let (rx, tx) = pipe();
    let victim = fork(|| {
        q.pause_at(PausePoint::PushClaimed, tx.as_raw_fd());
        q.push(&message(3, 0, MSG)).unwrap();
        1
    });
    assert!(
        read_byte(&rx, HOOK_WAIT),
        "the producer never reached its claim"
    );
    victim.kill();
    q.push(&message(4, 0, MSG)).unwrap();
    let deadline = Some(Instant::now() + HOOK_WAIT);
    assert_eq!(q.wait_for_message_deadline(deadline), Ok(()));
    assert_eq!(q.try_pop_with(|m| decode(&m.to_vec())), Ok((4, 0)));
}

/// A recoverer killed in the middle of a recovery: it had taken the dead
/// producer's entry and reclaimed nothing. Another process must find the
/// recoverer dead too, take the recovery over and finish it.
#[test]
#[cfg_attr(miri, ignore = "forks and maps shared memory")]
fn a_recoverer_killed_mid_recovery_is_taken_over() {
    let q = ShmQueue::create_anonymous(&ShmOptions::new(4, MSG).max_participants(8)).unwrap();
    let (rx, tx) = pipe();
    // A producer publishes two messages and dies claiming the third slot.
    let victim = fork(|| {
        q.push(&message(5, 0, MSG)).unwrap();
        q.push(&message(5, 1, MSG)).unwrap();
        q.pause_at(PausePoint::PushClaimed, tx.as_raw_fd());
        q.push(&message(5, 2, MSG)).unwrap();
        1
    });
    assert!(
        read_byte(&rx, HOOK_WAIT),
        "the producer never reached its claim"
    );
    victim.kill();
    // A consumer drains the two, meets the dead claim, starts recovering it
    // and is killed there.
    let recoverer = fork(|| {
        let mut buf = Vec::new();
        for _ in 0..2 {
            if q.pop(&mut buf).is_err() {
                return 2;
            }
        }
        q.pause_at(PausePoint::Recovering, tx.as_raw_fd());
        let _ = q.try_pop(&mut buf);
        1
    });
    assert!(
        read_byte(&rx, HOOK_WAIT),
        "the consumer never started a recovery"
    );
    assert_eq!(recoverer.kill(), 128 + libc::SIGKILL);
    // This process takes over: the queue carries on, many times round.
    let mut buf = Vec::new();
    assert_eq!(q.try_pop(&mut buf), Err(ShmError::Empty));
    for s in 0..20 {
        q.push(&message(9, s, MSG)).unwrap();
        // A generous limit, so that a wedged queue fails instead of hanging.
        q.pop_timeout(&mut buf, HOOK_WAIT).unwrap();
        assert_eq!(decode(&buf), (9, s));
    }
    // The takeover recovered the dead producer's entry and, in the same
    // batch, the killed recoverer's own: nothing dead is left.
    assert_eq!(q.recover_dead(), 0);
}

/// A small xorshift generator: the tests print their seed, so a failure
/// can be replayed with `RINGQ_CRASH_SEED`.
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

#[test]
#[cfg_attr(miri, ignore = "forks and maps shared memory")]
fn processes_killed_at_random_moments_under_traffic() {
    const PRODUCERS: usize = 3;
    const CONSUMERS: usize = 3;
    const KILLS: usize = 12;
    // Enough traffic that the kills land while it flows (checked below).
    const N: u32 = 50_000;
    let seed = std::env::var("RINGQ_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
            now.map_or(1, |d| d.as_nanos() as u64) ^ u64::from(std::process::id()) | 1
        });
    eprintln!("RINGQ_CRASH_SEED={seed}");
    let mut rng = Rng(seed);

    let q = ShmQueue::create_anonymous(&ShmOptions::new(8, MSG).max_participants(32)).unwrap();
    let lanes = CONSUMERS + KILLS;
    let log = SharedLog::new(lanes, (PRODUCERS + KILLS) * N as usize);
    let pushed = SharedLog::new(PRODUCERS + KILLS, 0);

    // (role, id or lane, process)
    let mut producers: Vec<(u32, Child)> = (0..PRODUCERS as u32)
        .map(|p| (p, fork(|| produce(&q, p, 0, N, &pushed, p as usize))))
        .collect();
    let mut consumers: Vec<(usize, Child)> = (0..CONSUMERS)
        .map(|c| (c, fork(|| consume(&q, &log, c))))
        .collect();
    let mut next_producer = PRODUCERS as u32;
    let mut next_lane = CONSUMERS;
    let mut killed_producers = Vec::new();
    let mut killed_consumers = 0;

    for _ in 0..KILLS {
        std::thread::sleep(Duration::from_micros(100 + rng.next(900)));
        if rng.next(2) == 0 {
            let (id, child) = producers.remove(rng.next(producers.len() as u64) as usize);
            child.kill();
            killed_producers.push(id);
            // The replacement produces under a fresh id, from 0.
            let p = next_producer;
            next_producer += 1;
            producers.push((p, fork(|| produce(&q, p, 0, N / 4, &pushed, p as usize))));
        } else {
            let (_, child) = consumers.remove(rng.next(consumers.len() as u64) as usize);
            child.kill();
            killed_consumers += 1;
            let lane = next_lane;
            next_lane += 1;
            consumers.push((lane, fork(|| consume(&q, &log, lane))));
        }
    }
    let mut full_runs = BTreeMap::new();
    for (id, child) in producers {
        assert_eq!(child.wait(), 0, "producer {id}");
        full_runs.insert(id, if (id as usize) < PRODUCERS { N } else { N / 4 });
    }
    q.close();
    for (lane, child) in consumers {
        assert_eq!(child.wait(), 0, "consumer {lane}");
    }

    let got = collect(&log, next_lane);
    let mut missing = 0;
    let mut cut_short = 0;
    for p in 0..next_producer {
        let received = got.get(&p).cloned().unwrap_or_default();
        let (must, may) = match full_runs.get(&p) {
            Some(&n) => (n, n),
            // A killed producer: every push that returned Ok, plus perhaps
            // the one it was in when killed.
            None => {
                let k = pushed.get(p as usize) as u32;
                let planned = if (p as usize) < PRODUCERS { N } else { N / 4 };
                cut_short += usize::from(k < planned);
                (k, k + 1)
            }
        };
        assert!(
            received.iter().all(|&s| s < may),
            "producer {p}: received past its last push ({must}): {:?}",
            received.range(must..).collect::<Vec<_>>()
        );
        missing += (0..must).filter(|s| !received.contains(s)).count();
    }
    eprintln!(
        "killed {} producers ({cut_short} mid-stream), {killed_consumers} consumers; \
         {missing} messages lost",
        killed_producers.len()
    );
    // The test only means something if kills hit processes at work.
    assert!(
        killed_producers.is_empty() || cut_short > 0,
        "every producer kill came too late"
    );
    assert!(
        missing <= killed_consumers,
        "{missing} messages lost, but only {killed_consumers} consumers were killed"
    );
    assert_eq!(q.len(), 0);
}
