//! Readiness descriptors (`ShmQueue::watch`): readable when the event may
//! have happened, not readable after a rearm while it has not, woken by
//! other processes, by close, and stopped promptly; a copy made by fork
//! never takes the parent's readiness.
#![cfg(all(target_os = "linux", not(loom)))]

mod shm_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ringq::shm::{Event, ShmError, ShmOptions, ShmQueue, Watch};
use shm_support::fork;

const LONG: Duration = Duration::from_secs(10);
const SHORT: Duration = Duration::from_millis(200);

fn readable(w: &Watch, within: Duration) -> bool {
    let mut p = libc::pollfd {
        fd: w.raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = within.as_millis() as libc::c_int;
    // SAFETY: one valid pollfd, alive for the call.
    unsafe { libc::poll(&mut p, 1, ms) == 1 }
}

fn queue(capacity: usize) -> Arc<ShmQueue> {
    Arc::new(ShmQueue::create_anonymous(&ShmOptions::new(capacity, 32)).unwrap())
}

#[test]
#[cfg_attr(miri, ignore = "threads and eventfd")]
fn a_message_makes_it_readable_and_a_rearm_on_empty_clears_it() {
    let q = queue(4);
    let w = q.watch(Event::Message).unwrap();
    assert!(!readable(&w, SHORT), "readable with nothing queued");
    q.push(b"one").unwrap();
    assert!(readable(&w, LONG));
    assert!(readable(&w, Duration::ZERO), "stays readable until rearmed");
    assert_eq!(q.try_pop_with(|m| m.to_vec()), Ok(b"one".to_vec()));
    assert_eq!(q.try_pop_with(|m| m.len()), Err(ShmError::Empty));
    w.rearm();
    assert!(
        !readable(&w, SHORT),
        "readable after a rearm on an empty queue"
    );
    q.push(b"two").unwrap();
    assert!(readable(&w, LONG));
}

#[test]
#[cfg_attr(miri, ignore = "threads and eventfd")]
fn a_rearm_while_a_message_waits_leaves_it_readable() {
    let q = queue(4);
    let w = q.watch(Event::Message).unwrap();
    q.push(b"one").unwrap();
    q.push(b"two").unwrap();
    assert!(readable(&w, LONG));
    q.try_pop_with(|_| ()).unwrap();
    w.rearm(); // one is still queued
    assert!(readable(&w, LONG));
}

#[test]
#[cfg_attr(miri, ignore = "forks and eventfd")]
fn another_process_wakes_it() {
    let q = queue(4);
    let w = q.watch(Event::Message).unwrap();
    let producer = fork(|| {
        std::thread::sleep(Duration::from_millis(50));
        i32::from(q.push(b"from a child").is_err())
    });
    assert!(readable(&w, LONG));
    assert_eq!(producer.wait(), 0);
    assert_eq!(q.try_pop_with(|m| m.to_vec()), Ok(b"from a child".to_vec()));
}

#[test]
#[cfg_attr(miri, ignore = "threads and eventfd")]
fn room_and_tasks_done_have_their_own_watches() {
    let q = queue(2);
    q.push(b"a").unwrap();
    q.push(b"b").unwrap();
    let room = q.watch(Event::Room).unwrap();
    assert!(!readable(&room, SHORT), "readable while full");
    q.try_pop_with(|_| ()).unwrap();
    assert!(readable(&room, LONG));

    q.add_tasks(1).unwrap();
    let done = q.watch(Event::TasksDone).unwrap();
    assert!(!readable(&done, SHORT), "readable with a task unfinished");
    q.task_done().unwrap();
    assert!(readable(&done, LONG));
}

#[test]
#[cfg_attr(miri, ignore = "threads and eventfd")]
fn close_makes_every_watch_readable() {
    let q = queue(1);
    q.push(b"full").unwrap();
    let room = q.watch(Event::Room).unwrap();
    let spare = queue(1);
    let message = spare.watch(Event::Message).unwrap();
    assert!(!readable(&room, SHORT));
    q.close();
    spare.close();
    assert!(readable(&room, LONG));
    assert!(readable(&message, LONG));
    assert_eq!(spare.try_pop_with(|_| ()), Err(ShmError::Closed));
}

#[test]
#[cfg_attr(miri, ignore = "threads and eventfd")]
fn a_woken_watch_passes_the_wake_on_to_a_blocked_pop() {
    // A push wakes one sleeper, in the order they fell asleep: the watch's
    // thread first. Without the wake passed on, the blocked pop would
    // sleep out its 100 ms slice every round.
    const ROUNDS: u8 = 20;
    let q = queue(4);
    let w = q.watch(Event::Message).unwrap();
    let start = Instant::now();
    for round in 0..ROUNDS {
        w.rearm(); // the watch's thread goes back to sleep first
        std::thread::sleep(Duration::from_millis(2));
        let popper = {
            let q = Arc::clone(&q);
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                q.pop(&mut buf).unwrap();
                buf
            })
        };
        // Let the popper fall asleep after the watch's thread.
        std::thread::sleep(Duration::from_millis(5));
        q.push(&[round]).unwrap();
        assert_eq!(popper.join().unwrap(), vec![round]);
    }
    let slept_out = Duration::from_millis(100) * u32::from(ROUNDS);
    assert!(
        start.elapsed() < slept_out / 2,
        "blocked pops slept out their slices: {:?}",
        start.elapsed()
    );
}

#[test]
#[cfg_attr(miri, ignore = "threads and eventfd")]
fn dropping_a_waiting_watch_is_prompt() {
    let q = queue(4);
    let w = q.watch(Event::Message).unwrap();
    std::thread::sleep(Duration::from_millis(20)); // asleep on the futex
    let start = Instant::now();
    drop(w);
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(Arc::strong_count(&q), 1, "the thread let go of the queue");
}

#[test]
#[cfg_attr(miri, ignore = "forks and eventfd")]
fn a_forked_copy_never_takes_the_parents_readiness() {
    let q = queue(4);
    let mut slot = Some(q.watch(Event::Message).unwrap());
    q.push(b"one").unwrap();
    assert!(readable(slot.as_ref().unwrap(), LONG));
    let child = fork(|| {
        // The copy shares the parent's descriptor: a rearm here must not
        // drain it, and dropping the copy must neither hang nor crash.
        let w = slot.take().unwrap();
        w.rearm();
        let alive = readable(&w, Duration::ZERO);
        drop(w);
        i32::from(!alive)
    });
    assert_eq!(child.wait(), 0, "the child drained the parent's readiness");
    assert!(readable(slot.as_ref().unwrap(), Duration::ZERO));
}
