//! Checks shared by the loom models of the different queues.
#![allow(dead_code)] // each model file uses a different part

use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;

/// Inside a loom model: a close publishes what its thread did before it.
/// One thread writes a cell and then calls `close`; this thread waits until
/// `is_closed` says so and reads the cell, which loom checks is ordered
/// after the write.
pub fn close_publishes_what_preceded_it(
    close: impl FnOnce() + Send + 'static,
    is_closed: impl Fn() -> bool,
) {
    let note = Arc::new(UnsafeCell::new(0));
    let closer = {
        let note = note.clone();
        thread::spawn(move || {
            // SAFETY: this thread reads the cell only after it has seen the
            // close, which loom checks is ordered after this write.
            note.with_mut(|p| unsafe { *p = 7 });
            close();
        })
    };
    while !is_closed() {
        thread::yield_now();
    }
    // SAFETY: as above.
    assert_eq!(note.with(|p| unsafe { *p }), 7);
    closer.join().unwrap();
}
