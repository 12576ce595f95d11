//! One adapter per queue, so that every workload is written once and every
//! implementation runs exactly the same code around its own push and pop.
//!
//! A [`Queue`] is a marker type that builds a queue and hands out producer and
//! consumer handles. Handles take `&mut self` so that single-producer queues
//! (ringq's SPSC channel, rtrb) fit the same shape as the shared ones.
//!
//! Every queue here carries `u64`. A consumer that finds the queue closed
//! before it has taken its share panics: in these workloads nobody closes a
//! queue early, so that is a bug, not a result.

use std::mem::MaybeUninit;
use std::sync::{mpsc, Arc, Mutex};

use concurrent_queue::ConcurrentQueue;
use crossbeam_queue::{ArrayQueue, SegQueue};

/// The sending half of a queue, as one producer thread sees it.
pub trait Producer: Send + 'static {
    /// Pushes `v` without blocking; hands it back when the queue is full.
    fn try_push(&mut self, v: u64) -> Result<(), u64>;
}

/// The receiving half of a queue, as one consumer thread sees it.
pub trait Consumer: Send + 'static {
    /// Pops one item without blocking; `None` when the queue is empty.
    fn try_pop(&mut self) -> Option<u64>;
}

/// A producer whose queue can park the thread while it is full.
pub trait BlockingProducer: Producer {
    /// Pushes `v`, blocking while the queue is full.
    fn push(&mut self, v: u64);
}

/// A consumer whose queue can park the thread while it is empty.
pub trait BlockingConsumer: Consumer {
    /// Pops one item, blocking while the queue is empty.
    fn pop(&mut self) -> u64;
}

/// A producer that can claim several slots in one step.
pub trait BatchProducer: Producer {
    /// Pushes the longest prefix of `items` that fits; returns its length
    /// (0 when the queue is full).
    fn try_push_slice(&mut self, items: &[u64]) -> usize;
}

/// A consumer that can take several items in one step.
pub trait BatchConsumer: Consumer {
    /// Fills a prefix of `buf` and returns it as initialised items (empty when
    /// the queue is empty).
    fn try_pop_into<'a>(&mut self, buf: &'a mut [MaybeUninit<u64>]) -> &'a [u64];
}

/// A queue implementation under test.
pub trait Queue: 'static {
    /// The name printed in the tables and written to the JSON.
    const NAME: &'static str;
    /// Whether this is one of ringq's queues (every other one is a peer).
    const RINGQ: bool;
    /// The producer handle.
    type Producer: Producer;
    /// The consumer handle.
    type Consumer: Consumer;

    /// Builds one queue holding `capacity` items (unbounded queues ignore it)
    /// and hands out `producers` producer and `consumers` consumer handles.
    ///
    /// # Panics
    ///
    /// Single-producer or single-consumer queues panic when asked for more
    /// than one handle of that kind.
    fn handles(
        capacity: usize,
        producers: usize,
        consumers: usize,
    ) -> (Vec<Self::Producer>, Vec<Self::Consumer>);
}

/// Turns `n` shared clones of one queue into `n` handles.
fn shared<T>(q: T, n: usize) -> Vec<Arc<T>> {
    let q = Arc::new(q);
    (0..n).map(|_| Arc::clone(&q)).collect()
}

fn single(kind: &str, producers: usize, consumers: usize) {
    assert!(
        producers == 1 && consumers == 1,
        "{kind} has one producer and one consumer"
    );
}

// ---------------------------------------------------------------- ringq SPSC

/// ringq's bounded single-producer single-consumer channel.
pub struct RingqSpsc;

impl Queue for RingqSpsc {
    const NAME: &'static str = "ringq spsc";
    const RINGQ: bool = true;
    type Producer = ringq::spsc::Producer<u64>;
    type Consumer = ringq::spsc::Consumer<u64>;

    fn handles(capacity: usize, p: usize, c: usize) -> (Vec<Self::Producer>, Vec<Self::Consumer>) {
        single(Self::NAME, p, c);
        let (tx, rx) = ringq::spsc::channel(capacity).expect("valid capacity");
        (vec![tx], vec![rx])
    }
}

impl Producer for ringq::spsc::Producer<u64> {
    #[inline]
    fn try_push(&mut self, v: u64) -> Result<(), u64> {
        ringq::spsc::Producer::try_push(self, v).map_err(ringq::TryPushError::into_inner)
    }
}

impl Consumer for ringq::spsc::Consumer<u64> {
    #[inline]
    fn try_pop(&mut self) -> Option<u64> {
        match ringq::spsc::Consumer::try_pop(self) {
            Ok(v) => Some(v),
            Err(ringq::TryPopError::Empty) => None,
            Err(ringq::TryPopError::Closed) => panic!("{} closed early", RingqSpsc::NAME),
        }
    }
}

impl BlockingProducer for ringq::spsc::Producer<u64> {
    #[inline]
    fn push(&mut self, v: u64) {
        ringq::spsc::Producer::push(self, v).expect("consumer alive");
    }
}

impl BlockingConsumer for ringq::spsc::Consumer<u64> {
    #[inline]
    fn pop(&mut self) -> u64 {
        ringq::spsc::Consumer::pop(self).expect("items left")
    }
}

impl BatchProducer for ringq::spsc::Producer<u64> {
    #[inline]
    fn try_push_slice(&mut self, items: &[u64]) -> usize {
        ringq::spsc::Producer::try_push_slice(self, items).expect("consumer alive")
    }
}

impl BatchConsumer for ringq::spsc::Consumer<u64> {
    #[inline]
    fn try_pop_into<'a>(&mut self, buf: &'a mut [MaybeUninit<u64>]) -> &'a [u64] {
        let n = ringq::spsc::Consumer::try_pop_into(self, buf).expect("items left");
        init_prefix(buf, n)
    }
}

/// Views the first `n` slots of `buf` as items.
///
/// Only called right after a ringq `try_pop_into` returned `n`, which per its
/// contract initialised `buf[..n]`.
#[inline]
fn init_prefix(buf: &[MaybeUninit<u64>], n: usize) -> &[u64] {
    let prefix = &buf[..n];
    // SAFETY: the caller passes the count that `try_pop_into` returned, and
    // that method initialises exactly `buf[..n]`; `MaybeUninit<u64>` has the
    // layout of `u64`, and the slice borrows `buf` so nothing writes to it
    // meanwhile.
    unsafe { std::slice::from_raw_parts(prefix.as_ptr().cast::<u64>(), n) }
}

// ------------------------------------------------------- ringq bounded MPMC

/// ringq's bounded multi-producer multi-consumer queue.
pub struct RingqBounded;

impl Queue for RingqBounded {
    const NAME: &'static str = "ringq BoundedQueue";
    const RINGQ: bool = true;
    type Producer = Arc<ringq::BoundedQueue<u64>>;
    type Consumer = Arc<ringq::BoundedQueue<u64>>;

    fn handles(capacity: usize, p: usize, c: usize) -> (Vec<Self::Producer>, Vec<Self::Consumer>) {
        let q = shared(
            ringq::BoundedQueue::new(capacity).expect("valid capacity"),
            p + c,
        );
        let (tx, rx) = q.split_at(p);
        (tx.to_vec(), rx.to_vec())
    }
}

impl Producer for Arc<ringq::BoundedQueue<u64>> {
    #[inline]
    fn try_push(&mut self, v: u64) -> Result<(), u64> {
        ringq::BoundedQueue::try_push(self, v).map_err(ringq::TryPushError::into_inner)
    }
}

impl Consumer for Arc<ringq::BoundedQueue<u64>> {
    #[inline]
    fn try_pop(&mut self) -> Option<u64> {
        match ringq::BoundedQueue::try_pop(self) {
            Ok(v) => Some(v),
            Err(ringq::TryPopError::Empty) => None,
            Err(ringq::TryPopError::Closed) => panic!("{} closed early", RingqBounded::NAME),
        }
    }
}

impl BlockingProducer for Arc<ringq::BoundedQueue<u64>> {
    #[inline]
    fn push(&mut self, v: u64) {
        ringq::BoundedQueue::push(self, v).expect("queue open");
    }
}

impl BlockingConsumer for Arc<ringq::BoundedQueue<u64>> {
    #[inline]
    fn pop(&mut self) -> u64 {
        ringq::BoundedQueue::pop(self).expect("queue open")
    }
}

impl BatchProducer for Arc<ringq::BoundedQueue<u64>> {
    #[inline]
    fn try_push_slice(&mut self, items: &[u64]) -> usize {
        ringq::BoundedQueue::try_push_slice(self, items).expect("queue open")
    }
}

impl BatchConsumer for Arc<ringq::BoundedQueue<u64>> {
    #[inline]
    fn try_pop_into<'a>(&mut self, buf: &'a mut [MaybeUninit<u64>]) -> &'a [u64] {
        let n = ringq::BoundedQueue::try_pop_into(self, buf).expect("queue open");
        init_prefix(buf, n)
    }
}

// ----------------------------------------------------- ringq unbounded MPMC

/// ringq's unbounded multi-producer multi-consumer queue.
pub struct RingqUnbounded;

impl Queue for RingqUnbounded {
    const NAME: &'static str = "ringq UnboundedQueue";
    const RINGQ: bool = true;
    type Producer = Arc<ringq::UnboundedQueue<u64>>;
    type Consumer = Arc<ringq::UnboundedQueue<u64>>;

    fn handles(_: usize, p: usize, c: usize) -> (Vec<Self::Producer>, Vec<Self::Consumer>) {
        let q = shared(ringq::UnboundedQueue::new(), p + c);
        let (tx, rx) = q.split_at(p);
        (tx.to_vec(), rx.to_vec())
    }
}

impl Producer for Arc<ringq::UnboundedQueue<u64>> {
    #[inline]
    fn try_push(&mut self, v: u64) -> Result<(), u64> {
        ringq::UnboundedQueue::try_push(self, v).map_err(ringq::TryPushError::into_inner)
    }
}

impl Consumer for Arc<ringq::UnboundedQueue<u64>> {
    #[inline]
    fn try_pop(&mut self) -> Option<u64> {
        match ringq::UnboundedQueue::try_pop(self) {
            Ok(v) => Some(v),
            Err(ringq::TryPopError::Empty) => None,
            Err(ringq::TryPopError::Closed) => panic!("{} closed early", RingqUnbounded::NAME),
        }
    }
}

impl BlockingProducer for Arc<ringq::UnboundedQueue<u64>> {
    #[inline]
    fn push(&mut self, v: u64) {
        ringq::UnboundedQueue::push(self, v).expect("queue open");
    }
}

impl BlockingConsumer for Arc<ringq::UnboundedQueue<u64>> {
    #[inline]
    fn pop(&mut self) -> u64 {
        ringq::UnboundedQueue::pop(self).expect("queue open")
    }
}

impl BatchProducer for Arc<ringq::UnboundedQueue<u64>> {
    #[inline]
    fn try_push_slice(&mut self, items: &[u64]) -> usize {
        ringq::UnboundedQueue::try_push_slice(self, items).expect("queue open")
    }
}

impl BatchConsumer for Arc<ringq::UnboundedQueue<u64>> {
    #[inline]
    fn try_pop_into<'a>(&mut self, buf: &'a mut [MaybeUninit<u64>]) -> &'a [u64] {
        let n = ringq::UnboundedQueue::try_pop_into(self, buf).expect("queue open");
        init_prefix(buf, n)
    }
}

// ---------------------------------------------------------------------- rtrb

/// rtrb's wait-free SPSC ring buffer, the reference SPSC peer.
pub struct Rtrb;

impl Queue for Rtrb {
    const NAME: &'static str = "rtrb";
    const RINGQ: bool = false;
    type Producer = rtrb::Producer<u64>;
    type Consumer = rtrb::Consumer<u64>;

    fn handles(capacity: usize, p: usize, c: usize) -> (Vec<Self::Producer>, Vec<Self::Consumer>) {
        single(Self::NAME, p, c);
        let (tx, rx) = rtrb::RingBuffer::new(capacity);
        (vec![tx], vec![rx])
    }
}

impl Producer for rtrb::Producer<u64> {
    #[inline]
    fn try_push(&mut self, v: u64) -> Result<(), u64> {
        self.push(v).map_err(|rtrb::PushError::Full(v)| v)
    }
}

impl Consumer for rtrb::Consumer<u64> {
    #[inline]
    fn try_pop(&mut self) -> Option<u64> {
        self.pop().ok()
    }
}

impl BatchProducer for rtrb::Producer<u64> {
    #[inline]
    fn try_push_slice(&mut self, items: &[u64]) -> usize {
        self.push_partial_slice(items).0.len()
    }
}

impl BatchConsumer for rtrb::Consumer<u64> {
    #[inline]
    fn try_pop_into<'a>(&mut self, buf: &'a mut [MaybeUninit<u64>]) -> &'a [u64] {
        self.pop_partial_slice_uninit(buf).0
    }
}

// ----------------------------------------------------------- crossbeam-queue

/// crossbeam's bounded MPMC array queue, the reference MPMC peer.
pub struct CbArrayQueue;

impl Queue for CbArrayQueue {
    const NAME: &'static str = "crossbeam ArrayQueue";
    const RINGQ: bool = false;
    type Producer = Arc<ArrayQueue<u64>>;
    type Consumer = Arc<ArrayQueue<u64>>;

    fn handles(capacity: usize, p: usize, c: usize) -> (Vec<Self::Producer>, Vec<Self::Consumer>) {
        let q = shared(ArrayQueue::new(capacity), p + c);
        let (tx, rx) = q.split_at(p);
        (tx.to_vec(), rx.to_vec())
    }
}

impl Producer for Arc<ArrayQueue<u64>> {
    #[inline]
    fn try_push(&mut self, v: u64) -> Result<(), u64> {
        self.push(v)
    }
}

impl Consumer for Arc<ArrayQueue<u64>> {
    #[inline]
    fn try_pop(&mut self) -> Option<u64> {
        self.pop()
    }
}

/// crossbeam's unbounded MPMC segment queue.
pub struct CbSegQueue;

impl Queue for CbSegQueue {
    const NAME: &'static str = "crossbeam SegQueue";
    const RINGQ: bool = false;
    type Producer = Arc<SegQueue<u64>>;
    type Consumer = Arc<SegQueue<u64>>;

    fn handles(_: usize, p: usize, c: usize) -> (Vec<Self::Producer>, Vec<Self::Consumer>) {
        let q = shared(SegQueue::new(), p + c);
        let (tx, rx) = q.split_at(p);
        (tx.to_vec(), rx.to_vec())
    }
}

impl Producer for Arc<SegQueue<u64>> {
    #[inline]
    fn try_push(&mut self, v: u64) -> Result<(), u64> {
        self.push(v);
        Ok(())
    }
}

impl Consumer for Arc<SegQueue<u64>> {
    #[inline]
    fn try_pop(&mut self) -> Option<u64> {
        self.pop()
    }
}

// --------------------------------------------------------- crossbeam-channel

/// crossbeam-channel's bounded (array) flavour.
pub struct CbChannelBounded;

impl Queue for CbChannelBounded {
    const NAME: &'static str = "crossbeam-channel bounded";
    const RINGQ: bool = false;
    type Producer = crossbeam_channel::Sender<u64>;
    type Consumer = crossbeam_channel::Receiver<u64>;

    fn handles(capacity: usize, p: usize, c: usize) -> (Vec<Self::Producer>, Vec<Self::Consumer>) {
        let (tx, rx) = crossbeam_channel::bounded(capacity);
        (vec![tx; p], vec![rx; c])
    }
}

/// crossbeam-channel's unbounded (linked-block) flavour.
pub struct CbChannelUnbounded;

impl Queue for CbChannelUnbounded {
    const NAME: &'static str = "crossbeam-channel unbounded";
    const RINGQ: bool = false;
    type Producer = crossbeam_channel::Sender<u64>;
    type Consumer = crossbeam_channel::Receiver<u64>;

    fn handles(_: usize, p: usize, c: usize) -> (Vec<Self::Producer>, Vec<Self::Consumer>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        (vec![tx; p], vec![rx; c])
    }
}

impl Producer for crossbeam_channel::Sender<u64> {
    #[inline]
    fn try_push(&mut self, v: u64) -> Result<(), u64> {
        self.try_send(v).map_err(|e| match e {
            crossbeam_channel::TrySendError::Full(v) => v,
            crossbeam_channel::TrySendError::Disconnected(_) => panic!("receiver gone"),
        })
    }
}

impl Consumer for crossbeam_channel::Receiver<u64> {
    #[inline]
    fn try_pop(&mut self) -> Option<u64> {
        match self.try_recv() {
            Ok(v) => Some(v),
            Err(crossbeam_channel::TryRecvError::Empty) => None,
            Err(crossbeam_channel::TryRecvError::Disconnected) => panic!("senders gone early"),
        }
    }
}

impl BlockingProducer for crossbeam_channel::Sender<u64> {
    #[inline]
    fn push(&mut self, v: u64) {
        self.send(v).expect("receiver alive");
    }
}

impl BlockingConsumer for crossbeam_channel::Receiver<u64> {
    #[inline]
    fn pop(&mut self) -> u64 {
        self.recv().expect("items left")
    }
}

// ---------------------------------------------------------- concurrent-queue

/// concurrent-queue's bounded queue (the one under async-channel).
pub struct CqBounded;

impl Queue for CqBounded {
    const NAME: &'static str = "concurrent-queue bounded";
    const RINGQ: bool = false;
    type Producer = Arc<ConcurrentQueue<u64>>;
    type Consumer = Arc<ConcurrentQueue<u64>>;

    fn handles(capacity: usize, p: usize, c: usize) -> (Vec<Self::Producer>, Vec<Self::Consumer>) {
        let q = shared(ConcurrentQueue::bounded(capacity), p + c);
        let (tx, rx) = q.split_at(p);
        (tx.to_vec(), rx.to_vec())
    }
}

/// concurrent-queue's unbounded queue.
pub struct CqUnbounded;

impl Queue for CqUnbounded {
    const NAME: &'static str = "concurrent-queue unbounded";
    const RINGQ: bool = false;
    type Producer = Arc<ConcurrentQueue<u64>>;
    type Consumer = Arc<ConcurrentQueue<u64>>;

    fn handles(_: usize, p: usize, c: usize) -> (Vec<Self::Producer>, Vec<Self::Consumer>) {
        let q = shared(ConcurrentQueue::unbounded(), p + c);
        let (tx, rx) = q.split_at(p);
        (tx.to_vec(), rx.to_vec())
    }
}

impl Producer for Arc<ConcurrentQueue<u64>> {
    #[inline]
    fn try_push(&mut self, v: u64) -> Result<(), u64> {
        self.push(v)
            .map_err(concurrent_queue::PushError::into_inner)
    }
}

impl Consumer for Arc<ConcurrentQueue<u64>> {
    #[inline]
    fn try_pop(&mut self) -> Option<u64> {
        self.pop().ok()
    }
}

// ----------------------------------------------------------------- std mpsc

/// The receiving end of a std channel. `Receiver` is neither `Clone` nor
/// `Sync`, so several consumers share one behind a mutex; a lone consumer
/// owns it and pays nothing for the sharing.
pub enum StdReceiver {
    /// The only consumer.
    Owned(mpsc::Receiver<u64>),
    /// One of several consumers.
    Shared(Arc<Mutex<mpsc::Receiver<u64>>>),
}

impl StdReceiver {
    fn handles(rx: mpsc::Receiver<u64>, consumers: usize) -> Vec<Self> {
        if consumers == 1 {
            vec![Self::Owned(rx)]
        } else {
            let rx = Arc::new(Mutex::new(rx));
            (0..consumers)
                .map(|_| Self::Shared(Arc::clone(&rx)))
                .collect()
        }
    }
}

impl Consumer for StdReceiver {
    #[inline]
    fn try_pop(&mut self) -> Option<u64> {
        let r = match self {
            Self::Owned(rx) => rx.try_recv(),
            Self::Shared(rx) => rx.lock().expect("no panics while held").try_recv(),
        };
        match r {
            Ok(v) => Some(v),
            Err(mpsc::TryRecvError::Empty) => None,
            Err(mpsc::TryRecvError::Disconnected) => panic!("senders gone early"),
        }
    }
}

impl BlockingConsumer for StdReceiver {
    #[inline]
    fn pop(&mut self) -> u64 {
        match self {
            Self::Owned(rx) => rx.recv(),
            // Holding the lock while parked is what sharing a Receiver means:
            // the other consumers queue on the mutex instead of the channel.
            Self::Shared(rx) => rx.lock().expect("no panics while held").recv(),
        }
        .expect("items left")
    }
}

/// std's bounded `sync_channel`: MPSC, so several consumers share the
/// receiver behind a mutex.
pub struct StdSyncChannel;

impl Queue for StdSyncChannel {
    const NAME: &'static str = "std sync_channel";
    const RINGQ: bool = false;
    type Producer = mpsc::SyncSender<u64>;
    type Consumer = StdReceiver;

    fn handles(capacity: usize, p: usize, c: usize) -> (Vec<Self::Producer>, Vec<Self::Consumer>) {
        let (tx, rx) = mpsc::sync_channel(capacity);
        (vec![tx; p], StdReceiver::handles(rx, c))
    }
}

impl Producer for mpsc::SyncSender<u64> {
    #[inline]
    fn try_push(&mut self, v: u64) -> Result<(), u64> {
        self.try_send(v).map_err(|e| match e {
            mpsc::TrySendError::Full(v) => v,
            mpsc::TrySendError::Disconnected(_) => panic!("receiver gone"),
        })
    }
}

impl BlockingProducer for mpsc::SyncSender<u64> {
    #[inline]
    fn push(&mut self, v: u64) {
        self.send(v).expect("receiver alive");
    }
}

/// std's unbounded `channel`: MPSC, consumers shared as for `sync_channel`.
pub struct StdChannel;

impl Queue for StdChannel {
    const NAME: &'static str = "std channel";
    const RINGQ: bool = false;
    type Producer = mpsc::Sender<u64>;
    type Consumer = StdReceiver;

    fn handles(_: usize, p: usize, c: usize) -> (Vec<Self::Producer>, Vec<Self::Consumer>) {
        let (tx, rx) = mpsc::channel();
        (vec![tx; p], StdReceiver::handles(rx, c))
    }
}

impl Producer for mpsc::Sender<u64> {
    #[inline]
    fn try_push(&mut self, v: u64) -> Result<(), u64> {
        // Never full: an unbounded send only fails once the receiver is gone.
        self.send(v).expect("receiver alive");
        Ok(())
    }
}
