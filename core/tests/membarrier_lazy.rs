//! Creating a queue costs no membarrier registration: the process registers
//! (10-20 ms of synchronising with every CPU) only when a thread first
//! parks. One test in this binary, so nothing else in the process parks
//! before it looks.
#![cfg(all(target_os = "linux", not(loom), not(miri)))]

use std::time::Duration;

use ringq::{BoundedQueue, UnboundedQueue};

const CMD_QUERY: libc::c_long = 0;
const CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;

fn membarrier(cmd: libc::c_long) -> libc::c_long {
    // SAFETY: membarrier takes two integers and touches no memory of ours.
    unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0 as libc::c_long) }
}

/// Whether this process is registered for private expedited barriers: the
/// kernel refuses the barrier (EPERM) until it is.
fn registered() -> bool {
    membarrier(CMD_PRIVATE_EXPEDITED) == 0
}

#[test]
fn registration_waits_for_the_first_park() {
    let supported = membarrier(CMD_QUERY);
    assert!(
        supported >= 0 && supported & CMD_PRIVATE_EXPEDITED != 0,
        "this kernel offers no private expedited membarrier ({supported}); \
         the test cannot tell a lazy registration from none"
    );

    // Queues, their non-blocking operations, and waits that never park.
    let bounded = BoundedQueue::new(4).unwrap();
    let unbounded = UnboundedQueue::new();
    let (tx, rx) = ringq::spsc::channel(4).unwrap();
    bounded.push(1).unwrap();
    unbounded.push(2).unwrap();
    tx.push(3).unwrap();
    assert_eq!(bounded.pop(), Ok(1));
    assert_eq!(unbounded.pop(), Ok(2));
    assert_eq!(rx.pop(), Ok(3));
    assert!(bounded.pop_timeout(Duration::ZERO).is_err());
    assert!(!registered(), "registered before any thread parked");

    // A consumer that really parks registers the process.
    std::thread::scope(|s| {
        let consumer = s.spawn(|| bounded.pop());
        while bounded.waiting_poppers() == 0 {
            std::thread::yield_now();
        }
        bounded.push(4).unwrap();
        assert_eq!(consumer.join().unwrap(), Ok(4));
    });
    assert!(
        registered(),
        "a thread parked but the process is not registered"
    );
}
