//! The shared-memory queue against a `VecDeque` model: random operation
//! sequences, every result and the length compared after every step.
//! Small capacities, mostly not powers of two, so the ring wraps often;
//! message lengths around the maximum, so the size check is exercised from
//! both sides.
#![cfg(all(target_os = "linux", not(loom)))]

use std::collections::VecDeque;
use std::time::Instant;

use proptest::prelude::*;
use ringq::shm::{ShmError, ShmOptions, ShmQueue};

#[derive(Clone, Debug)]
enum Op {
    TryPush(usize),
    TryPushParts(usize, usize),
    TryPushMany(Vec<usize>),
    PushDeadlinePast(usize),
    TryPop,
    TryPopMany(usize),
    PopDeadlinePast,
    Close,
    AddTasks(u8),
    TaskDone,
}

fn op(max: usize) -> impl Strategy<Value = Op> {
    let len = 0..=max + 2;
    prop_oneof![
        4 => len.clone().prop_map(Op::TryPush),
        1 => (len.clone(), len.clone()).prop_map(|(a, b)| Op::TryPushParts(a, b)),
        2 => prop::collection::vec(len.clone(), 0..5).prop_map(Op::TryPushMany),
        1 => len.prop_map(Op::PushDeadlinePast),
        4 => Just(Op::TryPop),
        2 => (0usize..5).prop_map(Op::TryPopMany),
        1 => Just(Op::PopDeadlinePast),
        1 => Just(Op::Close),
        1 => (0u8..3).prop_map(Op::AddTasks),
        1 => Just(Op::TaskDone),
    ]
}

struct Model {
    items: VecDeque<Vec<u8>>,
    cap: usize,
    max: usize,
    closed: bool,
    tasks: u64,
    next: u8,
}

impl Model {
    fn message(&mut self, len: usize) -> Vec<u8> {
        self.next = self.next.wrapping_add(1);
        (0..len).map(|i| self.next.wrapping_add(i as u8)).collect()
    }

    fn push(&mut self, len: usize) -> Result<(), ShmError> {
        if len > self.max {
            return Err(ShmError::TooLarge { len, max: self.max });
        }
        if self.closed {
            return Err(ShmError::Closed);
        }
        if self.items.len() == self.cap {
            return Err(ShmError::Full);
        }
        Ok(())
    }

    fn pop(&mut self) -> Result<Vec<u8>, ShmError> {
        match self.items.pop_front() {
            Some(m) => Ok(m),
            None if self.closed => Err(ShmError::Closed),
            None => Err(ShmError::Empty),
        }
    }
}

fn run(cap: usize, max: usize, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let q = ShmQueue::create_anonymous(&ShmOptions::new(cap, max)).unwrap();
    let mut m = Model {
        items: VecDeque::new(),
        cap,
        max,
        closed: false,
        tasks: 0,
        next: 0,
    };
    let pop_vec = |q: &ShmQueue| q.try_pop_with(|msg| msg.to_vec());
    for op in ops {
        match op {
            Op::TryPush(len) => {
                let msg = m.message(len);
                let want = m.push(len);
                prop_assert_eq!(q.try_push(&msg), want);
                if want.is_ok() {
                    m.items.push_back(msg);
                }
            }
            Op::TryPushParts(a, b) => {
                let (x, y) = (m.message(a), m.message(b));
                let want = m.push(a + b);
                prop_assert_eq!(q.try_push_parts(&[&x, &y]), want);
                if want.is_ok() {
                    m.items.push_back([x, y].concat());
                }
            }
            Op::TryPushMany(lens) => {
                let msgs: Vec<Vec<u8>> = lens.iter().map(|&l| m.message(l)).collect();
                let want = if msgs.is_empty() {
                    Ok(0)
                } else if let Some(&len) = lens.iter().find(|&&l| l > max) {
                    Err(ShmError::TooLarge { len, max })
                } else if m.closed {
                    Err(ShmError::Closed)
                } else {
                    Ok(msgs.len().min(cap - m.items.len()))
                };
                prop_assert_eq!(q.try_push_many(&msgs), want);
                if let Ok(n) = want {
                    m.items.extend(msgs.into_iter().take(n));
                }
            }
            Op::PushDeadlinePast(len) => {
                let msg = m.message(len);
                let want = m.push(len).map_err(|e| match e {
                    ShmError::Full => ShmError::TimedOut,
                    e => e,
                });
                prop_assert_eq!(q.push_deadline(&msg, Some(Instant::now())), want);
                if want.is_ok() {
                    m.items.push_back(msg);
                }
            }
            Op::TryPop => prop_assert_eq!(pop_vec(&q), m.pop()),
            Op::TryPopMany(n) => {
                let mut got = Vec::new();
                let r = q.try_pop_many(&mut got, n);
                let want = if n == 0 {
                    Ok(0)
                } else if m.items.is_empty() && m.closed {
                    Err(ShmError::Closed)
                } else {
                    Ok(n.min(m.items.len()))
                };
                prop_assert_eq!(r, want);
                let expected: Vec<Vec<u8>> = m.items.drain(..want.unwrap_or(0)).collect();
                prop_assert_eq!(got, expected);
            }
            Op::PopDeadlinePast => {
                let want = m.pop().map_err(|e| match e {
                    ShmError::Empty => ShmError::TimedOut,
                    e => e,
                });
                prop_assert_eq!(
                    q.pop_with_deadline(Some(Instant::now()), |msg| msg.to_vec()),
                    want
                );
            }
            Op::Close => {
                prop_assert_eq!(q.close(), !m.closed);
                m.closed = true;
            }
            Op::AddTasks(n) => {
                q.add_tasks(n.into()).unwrap();
                m.tasks += u64::from(n);
            }
            Op::TaskDone => {
                let want = if m.tasks == 0 {
                    Err(ShmError::TaskDoneTooOften)
                } else {
                    m.tasks -= 1;
                    Ok(())
                };
                prop_assert_eq!(q.task_done(), want);
            }
        }
        prop_assert_eq!(q.len(), m.items.len());
        prop_assert_eq!(q.is_closed(), m.closed);
        prop_assert_eq!(q.unfinished_tasks(), m.tasks);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    #[cfg_attr(miri, ignore = "maps shared memory")]
    fn the_queue_behaves_like_a_bounded_deque(
        (cap, max, ops) in (1usize..6, prop::sample::select(vec![1usize, 7, 8, 9, 40]))
            .prop_flat_map(|(cap, max)| (Just(cap), Just(max), prop::collection::vec(op(max), 1..150)))
    ) {
        run(cap, max, ops)?;
    }
}
