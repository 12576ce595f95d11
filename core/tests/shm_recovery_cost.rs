//! Recovery costs one pass over the slots, however many participants are
//! recovered: dead processes that held claims, or entries a hostile peer
//! filled with garbage. Before, each recovered entry scanned every slot, so
//! a few dozen dead participants (or one peer's 8 KB of stores) made the
//! next open of a large queue take seconds or minutes.
//!
//! One test in its own binary, because the pass counter is process-wide.
#![cfg(all(target_os = "linux", not(loom)))]

mod shm_support;

use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::time::Duration;

use ringq::shm::{recovery_passes, PausePoint, ShmError, ShmOptions, ShmQueue};
use shm_support::{fork, pipe, read_byte, Name};

const DEAD: usize = 24;
const PARTICIPANTS: usize = 32;

/// Where the participant table starts (the header's `participants_at`).
fn participants_at(path: &str) -> u64 {
    let f = std::fs::File::open(path).unwrap();
    let mut b = [0u8; 8];
    f.read_exact_at(&mut b, 32).unwrap();
    u64::from_ne_bytes(b)
}

#[test]
#[cfg_attr(miri, ignore = "forks and maps shared memory")]
fn any_number_of_dead_or_garbage_entries_costs_one_pass() {
    // Dead processes, each killed holding a claimed, unpublished push.
    let name = Name::new("recovery-cost");
    let q = ShmQueue::create(
        &name.0,
        &ShmOptions::new(256, 16).max_participants(PARTICIPANTS),
    )
    .unwrap();
    let (rx, tx) = pipe();
    let mut victims = Vec::new();
    for i in 0..DEAD {
        let q = &q;
        let tx = tx.as_raw_fd();
        victims.push(fork(move || {
            q.push(&[i as u8; 4]).unwrap();
            q.pause_at(PausePoint::PushClaimed, tx);
            q.push(b"never").unwrap();
            1
        }));
        assert!(read_byte(&rx, Duration::from_secs(20)), "victim {i}");
    }
    for v in victims {
        v.kill();
    }
    let before = recovery_passes();
    // The first pop that meets a dead claim recovers every dead entry.
    let mut got = Vec::new();
    let mut buf = Vec::new();
    while got.len() < DEAD {
        match q.pop_timeout(&mut buf, Duration::from_secs(20)) {
            Ok(_) => got.push(buf[0]),
            Err(e) => panic!("after {} messages: {e:?}", got.len()),
        }
    }
    got.sort_unstable();
    assert_eq!(got, (0..DEAD as u8).collect::<Vec<_>>());
    assert_eq!(q.try_pop(&mut buf), Err(ShmError::Empty));
    assert_eq!(recovery_passes() - before, 1, "one pass for {DEAD} dead");
    assert_eq!(q.recover_dead(), 0);

    // A peer writes garbage into every free participant word: the next
    // open finds the table full and recovers all of them, in one pass.
    let table = participants_at(&name.path());
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(name.path())
        .unwrap();
    for entry in 1..PARTICIPANTS as u64 {
        file.write_all_at(&u64::MAX.to_ne_bytes(), table + entry * 64)
            .unwrap();
    }
    let before = recovery_passes();
    let opener = ShmQueue::open(&name.0).unwrap();
    assert_eq!(recovery_passes() - before, 1, "one pass for the garbage");
    opener.push(b"after").unwrap();
    assert_eq!(q.try_pop_with(|m| m.to_vec()), Ok(b"after".to_vec()));
}
