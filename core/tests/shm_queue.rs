//! Functional tests of the shared-memory queue: naming, permissions,
//! descriptors, every operation and error, blocking across threads and
//! processes, the participant table and forks.
#![cfg(all(target_os = "linux", not(loom)))]

mod shm_support;

use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use ringq::shm::{OpenError, ShmError, ShmOptions, ShmQueue, LAYOUT_VERSION};
use shm_support::{eventually, fork, Name};

const LONG: Duration = Duration::from_secs(30);

fn opts(capacity: usize, max: usize) -> ShmOptions {
    ShmOptions::new(capacity, max)
}

fn pop_vec(q: &ShmQueue) -> Result<Vec<u8>, ShmError> {
    q.try_pop_with(|m| m.to_vec())
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn a_named_queue_is_shared_by_name_until_unlinked() {
    let name = Name::new("named");
    let a = ShmQueue::create(&name.0, &opts(4, 32)).unwrap();
    let b = ShmQueue::open(&format!("/{}", name.0)).unwrap();
    assert_eq!(b.name(), Some(name.0.as_str()));
    a.push(b"from a").unwrap();
    b.push(b"from b").unwrap();
    assert_eq!(pop_vec(&b).unwrap(), b"from a");
    assert_eq!(pop_vec(&a).unwrap(), b"from b");
    assert_eq!((a.capacity(), a.max_message_size()), (4, 32));
    assert_eq!((b.capacity(), b.max_message_size()), (4, 32));

    ShmQueue::unlink(&name.0).unwrap();
    match ShmQueue::open(&name.0) {
        Err(OpenError::Io(e)) => assert_eq!(e.kind(), ErrorKind::NotFound),
        other => panic!("{other:?}"),
    }
    // Open handles keep working after the name is gone.
    a.push(b"still").unwrap();
    assert_eq!(pop_vec(&b).unwrap(), b"still");
    assert!(matches!(ShmQueue::unlink(&name.0), Err(OpenError::Io(_))));
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn a_taken_name_is_refused_on_both_creation_paths() {
    for tmpfile in [true, false] {
        let name = Name::new("taken");
        let first = ShmQueue::create_with(&name.0, &opts(2, 8), tmpfile).unwrap();
        match ShmQueue::create_with(&name.0, &opts(2, 8), tmpfile) {
            Err(OpenError::Io(e)) => assert_eq!(e.kind(), ErrorKind::AlreadyExists),
            other => panic!("{other:?}"),
        }
        // The first one is untouched by the failed attempt.
        first.push(b"ok").unwrap();
        assert_eq!(ShmQueue::open(&name.0).unwrap().len(), 1);
    }
    // The fallback path leaves no temporary file behind.
    let prefix = format!(".ringq-{}-", std::process::id());
    let leftovers: Vec<_> = std::fs::read_dir("/dev/shm")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn segments_are_private_to_their_user_by_default() {
    let name = Name::new("mode");
    let _q = ShmQueue::create(&name.0, &opts(2, 8)).unwrap();
    let mode = std::fs::metadata(name.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let shared = Name::new("mode-group");
    let _q = ShmQueue::create(&shared.0, &opts(2, 8).mode(0o640)).unwrap();
    let mode = std::fs::metadata(shared.path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640);
}

#[test]
fn names_and_options_are_checked() {
    for bad in ["", "/", ".x", "..", "a/b", "a b", "ä", &"n".repeat(201)] {
        assert!(
            matches!(ShmQueue::open(bad), Err(OpenError::InvalidName(_))),
            "{bad:?}"
        );
        assert!(matches!(
            ShmQueue::create(bad, &opts(1, 1)),
            Err(OpenError::InvalidName(_))
        ));
        assert!(matches!(
            ShmQueue::unlink(bad),
            Err(OpenError::InvalidName(_))
        ));
    }
    for bad in [
        opts(0, 8),
        opts(8, 0),
        opts(1 << 25, 8),
        opts(8, (1 << 30) + 1),
        opts(8, 8).max_participants(0),
        opts(8, 8).max_participants(1024),
        opts(1 << 24, 1 << 30),
    ] {
        assert!(
            matches!(
                ShmQueue::create_anonymous(&bad),
                Err(OpenError::InvalidOptions(_))
            ),
            "{bad:?}"
        );
    }
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn an_anonymous_queue_travels_by_descriptor_and_cannot_be_resized() {
    let q = ShmQueue::create_anonymous(&opts(4, 16)).unwrap();
    assert_eq!(q.name(), None);
    let other = ShmQueue::from_fd(q.fd().try_clone_to_owned().unwrap()).unwrap();
    q.push(b"via fd").unwrap();
    assert_eq!(pop_vec(&other).unwrap(), b"via fd");
    // Sealed: neither side can shrink (or grow) the segment under the other.
    // SAFETY: ftruncate on a descriptor we own; it is expected to fail.
    let r = unsafe { libc::ftruncate(q.fd().as_raw_fd(), 4096) };
    assert_eq!(r, -1);
    assert_eq!(
        std::io::Error::last_os_error().raw_os_error(),
        Some(libc::EPERM)
    );
    other.push(b"intact").unwrap();
    assert_eq!(pop_vec(&q).unwrap(), b"intact");
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn messages_of_every_length_round_trip_through_a_wrapping_ring() {
    let q = ShmQueue::create_anonymous(&opts(3, 70)).unwrap();
    let mut out = Vec::new();
    for len in 0..=70usize {
        let msg: Vec<u8> = (0..len).map(|i| (i * 31 + len) as u8).collect();
        q.try_push(&msg).unwrap();
        assert_eq!(q.len(), 1);
        assert_eq!(q.try_pop(&mut out), Ok(len));
        assert_eq!(out, msg);
    }
    assert_eq!(
        q.try_push(&[0; 71]),
        Err(ShmError::TooLarge { len: 71, max: 70 })
    );
    assert_eq!(
        q.try_push_parts(&[&[0; 40], &[0; 31]]),
        Err(ShmError::TooLarge { len: 71, max: 70 })
    );
    assert!(q.is_empty());
    q.try_push_parts(&[b"ab", b"", b"cd"]).unwrap();
    assert_eq!(pop_vec(&q).unwrap(), b"abcd");
    assert_eq!(q.try_pop(&mut out), Err(ShmError::Empty));
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn batches_take_what_fits_in_order() {
    let q = ShmQueue::create_anonymous(&opts(5, 8)).unwrap();
    assert_eq!(q.try_push_many::<&[u8]>(&[]), Ok(0));
    assert_eq!(q.try_push_many(&[b"1", b"2", b"3"]), Ok(3));
    assert_eq!(q.try_push_many(&[b"4", b"5", b"6", b"7"]), Ok(2));
    assert_eq!(q.try_push_many(&[b"8"]), Ok(0));
    assert_eq!(
        q.try_push_many(&[&b"ok"[..], &[0; 9][..]]),
        Err(ShmError::TooLarge { len: 9, max: 8 })
    );
    let mut got = Vec::new();
    assert_eq!(q.try_pop_many_with(0, |_| unreachable!()), Ok(0));
    assert_eq!(q.try_pop_many_with(2, |m| got.push(m.to_vec())), Ok(2));
    let mut rest = Vec::new();
    assert_eq!(q.try_pop_many(&mut rest, 10), Ok(3));
    got.extend(rest);
    assert_eq!(got, [b"1", b"2", b"3", b"4", b"5"]);
    assert_eq!(q.try_pop_many_with(4, |_| ()), Ok(0));

    // The blocking forms return as soon as one batch went through.
    assert_eq!(q.push_many_deadline(&[b"a", b"b"], None), Ok(2));
    let mut n = 0;
    assert_eq!(q.pop_many_with_deadline(8, None, |_| n += 1), Ok(2));
    assert_eq!(n, 2);
    let soon = Some(Instant::now() + Duration::from_millis(5));
    assert_eq!(
        q.pop_many_with_deadline(8, soon, |_| ()),
        Err(ShmError::TimedOut)
    );
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn close_drains_then_reports_closed_and_wakes_every_waiter() {
    let q = Arc::new(ShmQueue::create_anonymous(&opts(1, 8)).unwrap());
    q.push(b"last").unwrap();
    // One pusher blocked on the full queue, one popper blocked behind it
    // (after the drain below).
    let pusher = {
        let q = q.clone();
        thread::spawn(move || q.push(b"never"))
    };
    assert!(eventually(LONG, || q.waiting_pushers() == 1));
    assert!(q.close());
    assert!(!q.close());
    assert!(q.is_closed());
    assert_eq!(pusher.join().unwrap(), Err(ShmError::Closed));
    assert_eq!(q.try_push(b"x"), Err(ShmError::Closed));
    assert_eq!(q.try_push_many(&[b"x"]), Err(ShmError::Closed));
    assert_eq!(pop_vec(&q).unwrap(), b"last");
    assert_eq!(pop_vec(&q), Err(ShmError::Closed));
    let mut out = Vec::new();
    assert_eq!(q.pop(&mut out), Err(ShmError::Closed));
    assert_eq!(q.try_pop_many(&mut Vec::new(), 4), Err(ShmError::Closed));

    let q = Arc::new(ShmQueue::create_anonymous(&opts(1, 8)).unwrap());
    let popper = {
        let q = q.clone();
        thread::spawn(move || q.pop(&mut Vec::new()))
    };
    assert!(eventually(LONG, || q.waiting_poppers() == 1));
    q.close();
    assert_eq!(popper.join().unwrap(), Err(ShmError::Closed));
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn deadlines_that_pass_time_out() {
    let q = ShmQueue::create_anonymous(&opts(1, 8)).unwrap();
    let mut out = Vec::new();
    let past = Some(Instant::now());
    assert_eq!(q.pop_deadline(&mut out, past), Err(ShmError::TimedOut));
    assert_eq!(
        q.pop_timeout(&mut out, Duration::from_millis(3)),
        Err(ShmError::TimedOut)
    );
    q.push(b"x").unwrap();
    assert_eq!(q.push_deadline(b"y", past), Err(ShmError::TimedOut));
    assert_eq!(
        q.push_timeout(b"y", Duration::from_millis(3)),
        Err(ShmError::TimedOut)
    );
    assert_eq!(q.push_many_deadline(&[b"y"], past), Err(ShmError::TimedOut));
    // A deadline too far away to represent waits without one.
    assert_eq!(q.pop_timeout(&mut out, Duration::MAX), Ok(1));
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn threads_of_one_process_share_a_handle() {
    const N: u32 = 20_000;
    let q = Arc::new(ShmQueue::create_anonymous(&opts(4, 16)).unwrap());
    let producers: Vec<_> = (0..2u32)
        .map(|p| {
            let q = q.clone();
            thread::spawn(move || {
                for s in 0..N {
                    q.push(&shm_support::message(p, s, 12)).unwrap();
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let q = q.clone();
            thread::spawn(move || {
                let mut seen = Vec::new();
                let mut buf = Vec::new();
                while q.pop(&mut buf).is_ok() {
                    seen.push(shm_support::decode(&buf));
                }
                seen
            })
        })
        .collect();
    producers.into_iter().for_each(|p| p.join().unwrap());
    q.close();
    let mut all = Vec::new();
    for c in consumers {
        let seen = c.join().unwrap();
        for p in 0..2 {
            let mine: Vec<u32> = seen.iter().filter(|m| m.0 == p).map(|m| m.1).collect();
            assert!(
                mine.windows(2).all(|w| w[0] < w[1]),
                "producer {p} out of order"
            );
        }
        all.extend(seen);
    }
    all.sort_unstable();
    let expected: Vec<_> = (0..2).flat_map(|p| (0..N).map(move |s| (p, s))).collect();
    assert_eq!(all, expected);
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn waiting_for_a_message_takes_nothing() {
    let q = Arc::new(ShmQueue::create_anonymous(&opts(2, 8)).unwrap());
    let soon = Some(Instant::now() + Duration::from_millis(3));
    assert_eq!(q.wait_for_message_deadline(soon), Err(ShmError::TimedOut));
    let waiter = {
        let q = q.clone();
        thread::spawn(move || q.wait_for_message_deadline(None))
    };
    assert!(eventually(LONG, || q.waiting_poppers() == 1));
    q.push(b"here").unwrap();
    assert_eq!(waiter.join().unwrap(), Ok(()));
    // The message is still there for whoever pops first.
    assert_eq!(q.len(), 1);
    assert_eq!(pop_vec(&q).unwrap(), b"here");
    q.close();
    assert_eq!(q.wait_for_message_deadline(None), Err(ShmError::Closed));
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn waiting_for_room_puts_nothing() {
    let q = Arc::new(ShmQueue::create_anonymous(&opts(1, 8)).unwrap());
    assert_eq!(q.wait_for_room_deadline(None), Ok(()));
    assert_eq!(q.len(), 0);
    q.push(b"full").unwrap();
    let soon = Some(Instant::now() + Duration::from_millis(3));
    assert_eq!(q.wait_for_room_deadline(soon), Err(ShmError::TimedOut));
    let waiter = {
        let q = q.clone();
        thread::spawn(move || q.wait_for_room_deadline(None))
    };
    assert!(eventually(LONG, || q.waiting_pushers() == 1));
    assert_eq!(pop_vec(&q).unwrap(), b"full");
    assert_eq!(waiter.join().unwrap(), Ok(()));
    // The room is still there for whoever pushes first.
    assert_eq!(q.len(), 0);
    q.close();
    assert_eq!(q.wait_for_room_deadline(None), Err(ShmError::Closed));
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn a_closure_that_panics_gives_its_slot_back() {
    let q = ShmQueue::create_anonymous(&opts(2, 8)).unwrap();
    q.try_push_many(&[b"1", b"2"]).unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        q.try_pop_with(|m| {
            let mut small = [0u8; 0];
            m.copy_to(&mut small); // panics: the message does not fit
        })
    }));
    assert!(r.is_err());
    // The slot was released: the ring is not wedged and has room again.
    assert_eq!(pop_vec(&q).unwrap(), b"2");
    q.try_push_many(&[b"3", b"4"]).unwrap();
    assert_eq!(q.len(), 2);
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn tasks_are_counted_across_handles() {
    let q = Arc::new(ShmQueue::create_anonymous(&opts(8, 8)).unwrap());
    let worker_side = ShmQueue::from_fd(q.fd().try_clone_to_owned().unwrap()).unwrap();
    assert_eq!(q.task_done(), Err(ShmError::TaskDoneTooOften));
    q.join_deadline(None).unwrap();
    q.add_tasks(3).unwrap();
    for i in 0..3u8 {
        q.push(&[i]).unwrap();
    }
    let joiner = {
        let q = q.clone();
        thread::spawn(move || q.join_deadline(None))
    };
    assert!(eventually(LONG, || q.unfinished_tasks() == 3));
    let mut buf = Vec::new();
    while worker_side.try_pop(&mut buf).is_ok() {
        worker_side.task_done().unwrap();
    }
    assert_eq!(joiner.join().unwrap(), Ok(()));
    assert_eq!(q.unfinished_tasks(), 0);
    assert_eq!(worker_side.task_done(), Err(ShmError::TaskDoneTooOften));
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn processes_meet_by_name_and_a_blocked_consumer_wakes() {
    let name = Name::new("procs");
    let q = ShmQueue::create(&name.0, &opts(4, 64)).unwrap();
    let child_name = name.0.clone();
    let child = fork(move || {
        let q = ShmQueue::open(&child_name).unwrap();
        let mut buf = Vec::new();
        match q.pop(&mut buf) {
            Ok(_) if buf == b"wake up" => {}
            _ => return 1,
        }
        match q.push(b"awake") {
            Ok(()) => 0,
            Err(_) => 2,
        }
    });
    // The child sleeps in its pop before anything is pushed.
    assert!(eventually(LONG, || q.waiting_poppers() == 1));
    q.push(b"wake up").unwrap();
    let mut buf = Vec::new();
    loop {
        // Only our own message could come back before the child's reply.
        q.pop(&mut buf).unwrap();
        if buf == b"awake" {
            break;
        }
        q.push(&buf).unwrap();
    }
    assert_eq!(child.wait(), 0);
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn a_forked_child_gets_its_own_participant_entry() {
    let q = ShmQueue::create_anonymous(&opts(8, 16).max_participants(3)).unwrap();
    q.push(b"before fork").unwrap();
    // The child uses the inherited handle, then exits without dropping it,
    // as multiprocessing children do (os._exit).
    let child = fork(|| match q.try_push(b"from child") {
        Ok(()) => 0,
        Err(_) => 1,
    });
    assert_eq!(child.wait(), 0);
    assert_eq!(pop_vec(&q).unwrap(), b"before fork");
    assert_eq!(pop_vec(&q).unwrap(), b"from child");
    // The child's entry is left behind by its death; the parent's is its own.
    assert_eq!(q.recover_dead(), 1);
    assert_eq!(q.recover_dead(), 0);
    q.push(b"parent goes on").unwrap();
    assert_eq!(pop_vec(&q).unwrap(), b"parent goes on");
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn a_full_participant_table_frees_the_entries_of_dead_processes() {
    let name = Name::new("table");
    let q = ShmQueue::create(&name.0, &opts(4, 8).max_participants(2)).unwrap();
    let second = ShmQueue::open(&name.0).unwrap();
    assert!(matches!(
        ShmQueue::open(&name.0),
        Err(OpenError::TooManyParticipants)
    ));
    drop(second);
    let child_name = name.0.clone();
    // A process that opens the queue and dies holding its entry.
    let child = fork(move || match ShmQueue::open(&child_name) {
        Ok(q) => {
            std::mem::forget(q);
            0
        }
        Err(_) => 1,
    });
    assert_eq!(child.wait(), 0);
    // The table is full again, but its other holder is dead: open recovers.
    let third = ShmQueue::open(&name.0).unwrap();
    third.push(b"room").unwrap();
    assert_eq!(pop_vec(&q).unwrap(), b"room");
}

/// Writes `bytes` at `offset` of a segment file.
fn poke(path: &str, offset: u64, bytes: &[u8]) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(bytes, offset).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn files_that_are_not_good_segments_are_refused_with_a_reason() {
    let name = Name::new("bad");
    drop(ShmQueue::create(&name.0, &opts(4, 100)).unwrap());
    let len = std::fs::metadata(name.path()).unwrap().len();
    let pristine = std::fs::read(name.path()).unwrap();
    let reset = || std::fs::write(name.path(), &pristine).unwrap();
    assert!(ShmQueue::open(&name.0).is_ok());

    poke(&name.path(), 0, b"NOTRINGQ");
    assert!(matches!(ShmQueue::open(&name.0), Err(OpenError::NotRingq)));
    reset();

    poke(&name.path(), 8, &(LAYOUT_VERSION + 1).to_ne_bytes());
    assert!(matches!(
        ShmQueue::open(&name.0),
        Err(OpenError::Version { found, supported }) if found == LAYOUT_VERSION + 1 && supported == LAYOUT_VERSION
    ));
    reset();

    poke(&name.path(), 16, &u32::MAX.to_ne_bytes()); // capacity
    assert!(matches!(
        ShmQueue::open(&name.0),
        Err(OpenError::BadHeader(_))
    ));
    reset();

    poke(&name.path(), 20, &1000u32.to_ne_bytes()); // max message size
    assert!(matches!(
        ShmQueue::open(&name.0),
        Err(OpenError::BadHeader(_))
    ));
    reset();

    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(name.path())
        .unwrap();
    f.set_len(len - 4096).unwrap();
    assert!(matches!(
        ShmQueue::open(&name.0),
        Err(OpenError::Truncated { len: l, expected }) if l == len - 4096 && expected == len
    ));
    f.set_len(100).unwrap();
    assert!(matches!(
        ShmQueue::open(&name.0),
        Err(OpenError::Truncated { .. })
    ));
    f.set_len(0).unwrap();
    assert!(matches!(ShmQueue::open(&name.0), Err(OpenError::NotRingq)));
    f.set_len(len + 4096).unwrap();
    assert!(matches!(ShmQueue::open(&name.0), Err(OpenError::NotRingq)));
    reset();
    f.set_len(len + 4096).unwrap();
    assert!(matches!(
        ShmQueue::open(&name.0),
        Err(OpenError::BadHeader(_))
    ));
    reset();
    assert!(ShmQueue::open(&name.0).is_ok());
}
