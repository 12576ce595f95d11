//! A membarrier that the kernel refuses at run time (it can fail with
//! ENOMEM) must never leave a waiter asleep on a fence that did not happen.
//!
//! Every test here first installs a seccomp filter that fails
//! `MEMBARRIER_CMD_PRIVATE_EXPEDITED` with ENOMEM for the whole process,
//! while letting registration succeed: the worst case, where the process
//! registers, notifiers switch to the light barrier, and then the waiters'
//! heavy barrier fails.
#![cfg(all(target_os = "linux", not(loom), not(miri)))]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use ringq::wait::{fences_degraded, WaitQueue};
use ringq::BoundedQueue;

const CMD_PRIVATE_EXPEDITED: u32 = 1 << 3;

/// Installs the filter once, for every thread of the process.
fn refuse_expedited_membarriers() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Classic BPF over `struct seccomp_data`: nr at offset 0, the low
        // half of args[0] at offset 16 (little-endian).
        const LD_W_ABS: u16 = 0x20;
        const JEQ_K: u16 = 0x15;
        const RET_K: u16 = 0x06;
        let stmt = |code, k| libc::sock_filter {
            code,
            jt: 0,
            jf: 0,
            k,
        };
        let jump = |k, jt, jf| libc::sock_filter {
            code: JEQ_K,
            jt,
            jf,
            k,
        };
        let mut program = [
            stmt(LD_W_ABS, 0),
            jump(libc::SYS_membarrier as u32, 0, 3),
            stmt(LD_W_ABS, 16),
            jump(CMD_PRIVATE_EXPEDITED, 0, 1),
            stmt(RET_K, libc::SECCOMP_RET_ERRNO | libc::ENOMEM as u32),
            stmt(RET_K, libc::SECCOMP_RET_ALLOW),
        ];
        let fprog = libc::sock_fprog {
            len: program.len() as u16,
            filter: program.as_mut_ptr(),
        };
        // SAFETY: prctl with integer arguments; seccomp reads `fprog` and
        // the program it points to, both alive for the call.
        let installed = unsafe {
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
                && libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    libc::SECCOMP_FILTER_FLAG_TSYNC,
                    &fprog as *const libc::sock_fprog,
                ) == 0
        };
        assert!(
            installed,
            "cannot install the seccomp filter that injects the failure: {}",
            std::io::Error::last_os_error()
        );
    });
}

#[test]
fn blocking_operations_work_when_membarrier_fails() {
    refuse_expedited_membarriers();
    let q = BoundedQueue::new(1).unwrap();
    std::thread::scope(|s| {
        let consumer = s.spawn(|| q.pop());
        while q.waiting_poppers() == 0 {
            std::thread::yield_now();
        }
        q.push(1).unwrap();
        assert_eq!(consumer.join().unwrap(), Ok(1));
    });
    assert!(
        fences_degraded(),
        "the consumer parked, so its membarrier must have failed"
    );

    // Blocking both ways, many times: every item arrives exactly once.
    const ITEMS: u64 = 20_000;
    let received = std::thread::scope(|s| {
        s.spawn(|| (0..ITEMS).for_each(|i| q.push(i).unwrap()));
        let received: Vec<u64> = (0..ITEMS).map(|_| q.pop().unwrap()).collect();
        received
    });
    assert_eq!(received, (0..ITEMS).collect::<Vec<_>>());
}

/// Once a fence has failed, a waiter cannot count on being notified (a
/// notifier may have used the light barrier a moment before): it must find
/// a change on its own. Here the flag is set with no notification at all.
#[test]
fn an_unpaired_waiter_rechecks_without_being_notified() {
    refuse_expedited_membarriers();
    let waiters = WaitQueue::new();
    let flag = AtomicBool::new(false);
    std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            // The deadline is only a hang guard: a waiter that trusted the
            // failed fence would sleep until it, and return None.
            let guard = Instant::now() + Duration::from_secs(60);
            waiters.wait_until(Some(guard), || flag.load(Ordering::Acquire).then_some(()))
        });
        while waiters.waiting() == 0 {
            std::thread::yield_now();
        }
        flag.store(true, Ordering::Release);
        assert_eq!(waiter.join().unwrap(), Some(()));
    });
    assert!(fences_degraded());
}
