//! Garbage in shared memory, as a buggy or hostile process could write it:
//! mangled headers fed to the opener, and forged words written into a live
//! segment under a handle that then keeps operating on it. Every call must
//! return, with a value or an error: no crash, no hang, no message longer
//! than the maximum.
//!
//! Each case runs in a forked child with an alarm, so a crash or a hang
//! shows up as a failed case (with its inputs) instead of taking the test
//! binary down or stalling it. The offsets below are the published layout
//! (`layout.rs`), for a segment of 4 slots of 24 bytes and 4 participants.
#![cfg(all(target_os = "linux", not(loom)))]

mod shm_support;

use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use ringq::shm::{ShmError, ShmOptions, ShmQueue};
use shm_support::fork;

const CAP: usize = 4;
const MAX: usize = 24;
const PARTICIPANTS: usize = 4;
const TAIL: u64 = 128;
const HEAD: u64 = 256;
const POP_WAITERS: u64 = 384;
const PUSH_WAITERS: u64 = 512;
const TASKS: u64 = 640;
const JOIN_WAITERS: u64 = 648;
const ENTRIES: u64 = 4096;
const SLOTS: u64 = 8192;
const STRIDE: u64 = 64;

fn options() -> ShmOptions {
    ShmOptions::new(CAP, MAX).max_participants(PARTICIPANTS)
}

/// Runs `case` in a child that must exit 0 within 20 s.
fn isolated(case: impl FnOnce() -> Result<(), String>) -> Result<(), TestCaseError> {
    let child = fork(|| {
        // SAFETY: arms SIGALRM, whose default action ends the child.
        unsafe { libc::alarm(20) };
        match case() {
            Ok(()) => 0,
            Err(_) => 1,
        }
    });
    match child.wait() {
        0 => Ok(()),
        1 => Err(TestCaseError::fail("a check failed in the child")),
        101 => Err(TestCaseError::fail("the child panicked")),
        code if code == 128 + libc::SIGALRM => Err(TestCaseError::fail("a call hung")),
        code => Err(TestCaseError::fail(format!(
            "the child died: status {code}"
        ))),
    }
}

/// A word a forger might write: mostly plausible (small positions, real
/// states and owners), sometimes anything.
fn word() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => (0u64..4, 0u64..8, 0u64..24, any::<bool>())
            .prop_map(|(state, owner, seq, top)| (state << 62) | (owner << 52) | seq | (u64::from(top) << 63)),
        1 => any::<u64>(),
        1 => 0u64..64,
    ]
}

/// Where to write it.
fn target() -> impl Strategy<Value = u64> {
    prop_oneof![
        2 => Just(TAIL),
        2 => Just(HEAD),
        1 => prop::sample::select(vec![POP_WAITERS, PUSH_WAITERS, TASKS, JOIN_WAITERS]),
        2 => (0..PARTICIPANTS as u64, prop::sample::select(vec![0u64, 8, 16]))
            .prop_map(|(e, f)| ENTRIES + e * 64 + f),
        3 => (0..CAP as u64).prop_map(|s| SLOTS + s * STRIDE),
        2 => (0..CAP as u64).prop_map(|s| SLOTS + s * STRIDE + 8),
        1 => (0u64..(SLOTS + CAP as u64 * STRIDE) / 8).prop_map(|w| w * 8),
    ]
}

#[derive(Clone, Debug)]
enum Op {
    TryPush(usize),
    TryPushMany(usize),
    PushSoon,
    TryPop,
    TryPopMany(usize),
    PopSoon,
    Len,
    Close,
    RecoverDead,
    Tasks,
    OpenAnother,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..=MAX).prop_map(Op::TryPush),
        (1usize..5).prop_map(Op::TryPushMany),
        Just(Op::PushSoon),
        Just(Op::TryPop),
        (1usize..5).prop_map(Op::TryPopMany),
        Just(Op::PopSoon),
        Just(Op::Len),
        Just(Op::Close),
        Just(Op::RecoverDead),
        Just(Op::Tasks),
        Just(Op::OpenAnother),
    ]
}

fn soon() -> Option<Instant> {
    Some(Instant::now() + Duration::from_millis(2))
}

/// Runs `ops` on `q`, checking what can be checked of the results.
fn exercise(q: &ShmQueue, ops: &[Op]) -> Result<(), String> {
    let fits = |len: usize| {
        if len <= MAX {
            Ok(())
        } else {
            Err(format!("a {len}-byte message came out"))
        }
    };
    for op in ops {
        match op {
            Op::TryPush(len) => {
                let _ = q.try_push(&vec![7; *len]);
            }
            Op::TryPushMany(n) => {
                let _ = q.try_push_many(&vec![[1u8; 3]; *n]);
            }
            Op::PushSoon => {
                let _ = q.push_deadline(b"soon", soon());
            }
            Op::TryPop => {
                if let Ok(len) = q.try_pop_with(|m| m.to_vec().len()) {
                    fits(len)?;
                }
            }
            Op::TryPopMany(n) => {
                let mut out = Vec::new();
                let _ = q.try_pop_many(&mut out, *n);
                for m in out {
                    fits(m.len())?;
                }
            }
            Op::PopSoon => {
                let mut buf = Vec::new();
                if let Ok(len) = q.pop_deadline(&mut buf, soon()) {
                    fits(len)?;
                    fits(buf.len())?;
                }
            }
            Op::Len => {
                if q.len() > CAP {
                    return Err(format!("len {} past the capacity", q.len()));
                }
            }
            Op::Close => {
                q.close();
            }
            Op::RecoverDead => {
                q.recover_dead();
            }
            Op::Tasks => {
                let _ = q.add_tasks(1);
                let _ = q.task_done();
                let _ = q.join_deadline(soon());
            }
            Op::OpenAnother => {
                if let Ok(other) = ShmQueue::from_fd(q.fd().try_clone_to_owned().unwrap()) {
                    let _ = other.try_push(b"other");
                    let _ = other.try_pop_with(|m| m.len());
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Forged words in a segment in use: the handle that was using it, and
    /// new handles on it, get values or errors, never crashes or hangs.
    #[test]
    #[cfg_attr(miri, ignore = "forks and maps shared memory")]
    fn forged_words_give_errors_never_crashes(
        before in 0usize..=CAP,
        pokes in prop::collection::vec((target(), word()), 1..6),
        ops in prop::collection::vec(op(), 1..30),
    ) {
        isolated(|| {
            let q = ShmQueue::create_anonymous(&options()).map_err(|e| e.to_string())?;
            for i in 0..before {
                q.try_push(&[i as u8; 5]).map_err(|e| e.to_string())?;
            }
            let file = std::fs::File::from(q.fd().try_clone_to_owned().unwrap());
            for (at, value) in &pokes {
                file.write_all_at(&value.to_ne_bytes(), *at).map_err(|e| e.to_string())?;
            }
            exercise(&q, &ops)
        })?;
    }

    /// Mangled headers: the opener refuses them with an error, or (when the
    /// edit left a consistent header) opens a segment that then works
    /// safely.
    #[test]
    #[cfg_attr(miri, ignore = "forks and maps shared memory")]
    fn mangled_headers_are_refused_or_harmless(
        edits in prop::collection::vec((0u64..32, any::<u32>()), 0..4),
        resize in prop::option::of(0u64..40_000),
        ops in prop::collection::vec(op(), 1..10),
    ) {
        isolated(|| {
            let q = ShmQueue::create_anonymous(&options()).map_err(|e| e.to_string())?;
            let file = std::fs::File::from(q.fd().try_clone_to_owned().unwrap());
            // A named copy of the segment, so it can be resized (the memfd
            // itself is sealed).
            let len = file.metadata().unwrap().len();
            let mut bytes = vec![0u8; len as usize];
            file.read_exact_at(&mut bytes, 0).unwrap();
            for (field, value) in &edits {
                let at = (*field * 4) as usize;
                bytes[at..at + 4].copy_from_slice(&value.to_ne_bytes());
            }
            if let Some(new_len) = resize {
                bytes.resize(new_len as usize, 0);
            }
            let name = shm_support::Name::new("garbage");
            std::fs::write(name.path(), &bytes).unwrap();
            match ShmQueue::open(&name.0) {
                Ok(opened) => {
                    if edits.is_empty() && resize.map_or(true, |l| l == len) {
                        // Untouched: must behave.
                        opened.try_push(b"fine").map_err(|e| e.to_string())?;
                        if opened.try_pop_with(|m| m.to_vec()) != Ok(b"fine".to_vec()) {
                            return Err("an intact copy misbehaved".into());
                        }
                    }
                    exercise(&opened, &ops)
                }
                Err(_) if edits.is_empty() && resize.map_or(true, |l| l == len) => {
                    Err("an intact copy was refused".into())
                }
                Err(_) => Ok(()),
            }
        })?;
    }
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn a_message_with_a_forged_length_is_dropped_with_an_error() {
    let q = ShmQueue::create_anonymous(&options()).unwrap();
    q.try_push_many(&[b"one", b"two", b"six"]).unwrap();
    let file = std::fs::File::from(q.fd().try_clone_to_owned().unwrap());
    // The second slot's length word now claims far more than fits.
    file.write_all_at(&u32::MAX.to_ne_bytes(), SLOTS + STRIDE + 8)
        .unwrap();
    let mut got = Vec::new();
    assert_eq!(
        q.try_pop_many_with(3, |m| got.push(m.to_vec())),
        Err(ShmError::Corrupt("a message's length is past the maximum"))
    );
    // The damaged message is gone; the others were delivered.
    assert_eq!(got, [b"one", b"six"]);
    assert!(q.is_empty());
    q.try_push(b"next").unwrap();
    assert_eq!(q.try_pop_with(|m| m.to_vec()), Ok(b"next".to_vec()));
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn a_forged_tail_gives_an_error_not_a_hang() {
    let q = ShmQueue::create_anonymous(&options()).unwrap();
    let file = std::fs::File::from(q.fd().try_clone_to_owned().unwrap());
    // A tail position whose slot index is past the capacity.
    file.write_all_at(&7u64.to_ne_bytes(), TAIL).unwrap();
    assert!(matches!(q.try_push(b"x"), Err(ShmError::Corrupt(_))));
    // A tail far ahead of head, with slots that do not match it.
    file.write_all_at(&(1u64 << 40).to_ne_bytes(), TAIL)
        .unwrap();
    assert!(matches!(q.try_push(b"x"), Err(ShmError::Corrupt(_))));
    assert!(matches!(
        q.try_pop_with(|m| m.len()),
        Err(ShmError::Corrupt(_))
    ));
    assert_eq!(q.len(), CAP);
    // Every slot claims a position far in the future, so a popper takes
    // each one it meets for done and skips it, lap after lap, towards a
    // tail just as far away: the skips must stop.
    for slot in 0..CAP as u64 {
        let far = slot + (1 << 39); // same slot, 2^37 laps of 4 later
        file.write_all_at(&far.to_ne_bytes(), SLOTS + slot * STRIDE)
            .unwrap();
    }
    assert!(matches!(
        q.try_pop_with(|m| m.len()),
        Err(ShmError::Corrupt(_))
    ));
}
