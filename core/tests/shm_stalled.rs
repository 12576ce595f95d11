//! What a live peer that stops in the middle of a push or pop does to the
//! queue, and how the others notice: a stopped writer holds back every
//! consumer at its message, a stopped reader holds back producers once they
//! come round to its slot, blocking calls time out, and `claim_holders`
//! names the process. Killing it releases the queue (recovery).
#![cfg(all(target_os = "linux", not(loom)))]

mod shm_support;

use std::os::fd::AsRawFd;
use std::time::Duration;

use ringq::shm::{PausePoint, ShmError, ShmOptions, ShmQueue};
use shm_support::{fork, pipe, read_byte};

const HOOK_WAIT: Duration = Duration::from_secs(30);
const SHORT: Duration = Duration::from_millis(50);

fn stop(pid: libc::pid_t) {
    // SAFETY: signals our own child, not yet reaped.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
}

#[test]
#[cfg_attr(miri, ignore = "forks and maps shared memory")]
fn a_stopped_writer_holds_back_consumers_and_is_named() {
    let q = ShmQueue::create_anonymous(&ShmOptions::new(8, 16)).unwrap();
    let (rx, tx) = pipe();
    let writer = fork(|| {
        q.push(b"first").unwrap();
        q.pause_at(PausePoint::PushClaimed, tx.as_raw_fd());
        q.push(b"never published").unwrap();
        1
    });
    assert!(read_byte(&rx, HOOK_WAIT), "the writer never claimed");
    stop(writer.pid);
    q.push(b"after").unwrap(); // claimed after the stopped one
    assert_eq!(q.claim_holders(), vec![writer.pid as u32]);

    let mut buf = Vec::new();
    q.pop_timeout(&mut buf, HOOK_WAIT).unwrap();
    assert_eq!(buf, b"first");
    // The next message in order is the stopped writer's: consumers wait.
    assert_eq!(q.try_pop(&mut buf), Err(ShmError::Empty));
    assert_eq!(q.pop_timeout(&mut buf, SHORT), Err(ShmError::TimedOut));
    assert_eq!(q.len(), 2);

    // Once it is dead, the queue goes on without its message.
    writer.kill();
    q.pop_timeout(&mut buf, HOOK_WAIT).unwrap();
    assert_eq!(buf, b"after");
    assert!(q.claim_holders().is_empty());
}

#[test]
#[cfg_attr(miri, ignore = "forks and maps shared memory")]
fn a_stopped_reader_holds_back_producers_once_they_lap_it() {
    let q = ShmQueue::create_anonymous(&ShmOptions::new(2, 16)).unwrap();
    q.push(b"taken").unwrap();
    let (rx, tx) = pipe();
    let reader = fork(|| {
        let mut buf = Vec::new();
        q.pause_at(PausePoint::PopClaimed, tx.as_raw_fd());
        let _ = q.pop(&mut buf);
        1
    });
    assert!(read_byte(&rx, HOOK_WAIT), "the reader never claimed");
    stop(reader.pid);
    assert_eq!(q.claim_holders(), vec![reader.pid as u32]);
    // One slot is free; the next push comes round to the reader's slot.
    q.push(b"fits").unwrap();
    assert_eq!(q.try_push(b"blocked"), Err(ShmError::Full));
    assert_eq!(q.push_timeout(b"blocked", SHORT), Err(ShmError::TimedOut));

    reader.kill();
    q.push_timeout(b"room again", HOOK_WAIT).unwrap();
    assert!(q.claim_holders().is_empty());
    let mut buf = Vec::new();
    q.pop(&mut buf).unwrap();
    assert_eq!(buf, b"fits");
}
