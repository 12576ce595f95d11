//! [`Message`]: a popped message, read straight out of shared memory.

use std::fmt;
use std::mem::MaybeUninit;

use super::segment::Segment;
use super::words::SlotIndex;

/// A message claimed by a pop, not yet released: read it with
/// [`copy_to`](Self::copy_to) and friends.
///
/// It lives only as long as the closure given to
/// [`try_pop_with`](super::ShmQueue::try_pop_with) and its relatives; the slot is
/// released when that closure returns (or panics). There is no `&[u8]` view
/// of the bytes: they are in shared memory, where another process could
/// change them, so they are copied out with atomic loads (see the module
/// docs).
pub struct Message<'a> {
    /// Set by the pop that claimed the slot, which releases it after the
    /// closure holding this message returns.
    pub(super) seg: &'a Segment,
    pub(super) index: SlotIndex,
    /// Checked against the maximum message size.
    pub(super) len: usize,
}

impl Message<'_> {
    /// The message's length in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// q.try_push(b"hello").unwrap();
    /// assert_eq!(q.try_pop_with(|m| m.len()), Ok(5));
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the message has no bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// q.try_push(b"").unwrap();
    /// assert_eq!(q.try_pop_with(|m| m.is_empty()), Ok(true));
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies the message into the first [`len`](Self::len) bytes of `out`
    /// and returns them.
    ///
    /// # Panics
    ///
    /// If `out` is shorter than the message. The slot is released all the
    /// same (the message is then lost).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::mem::MaybeUninit;
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// q.try_push(b"abc").unwrap();
    /// let mut buf = [MaybeUninit::uninit(); 16];
    /// let got = q.try_pop_with(|m| m.copy_to_uninit(&mut buf).to_vec()).unwrap();
    /// assert_eq!(got, b"abc");
    /// ```
    #[inline]
    pub fn copy_to_uninit<'b>(&self, out: &'b mut [MaybeUninit<u8>]) -> &'b mut [u8] {
        let out = &mut out[..self.len];
        // SAFETY: this message's slot is claimed by the pop that made it and
        // is released only after the closure holding `self` returns, and
        // `len` was checked against the maximum message size.
        unsafe { self.seg.read_message(self.index, out) };
        // SAFETY: `read_message` initialised every byte of `out`, and
        // `MaybeUninit<u8>` has the layout of `u8`.
        unsafe { &mut *(out as *mut [MaybeUninit<u8>] as *mut [u8]) }
    }

    /// Copies the message into the first [`len`](Self::len) bytes of `out`.
    ///
    /// # Panics
    ///
    /// If `out` is shorter than the message, as for
    /// [`copy_to_uninit`](Self::copy_to_uninit).
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// q.try_push(b"abc").unwrap();
    /// let mut buf = [0u8; 8];
    /// let n = q.try_pop_with(|m| { m.copy_to(&mut buf); m.len() }).unwrap();
    /// assert_eq!(&buf[..n], b"abc");
    /// ```
    #[inline]
    pub fn copy_to(&self, out: &mut [u8]) {
        let out = &mut out[..self.len];
        // SAFETY: `[u8]` and `[MaybeUninit<u8>]` have the same layout, and
        // `copy_to_uninit` only writes initialised bytes through it.
        let out = unsafe { &mut *(out as *mut [u8] as *mut [MaybeUninit<u8>]) };
        self.copy_to_uninit(out);
    }

    /// The message as a new vector.
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(2, 16)).unwrap();
    /// q.try_push(b"abc").unwrap();
    /// assert_eq!(q.try_pop_with(|m| m.to_vec()), Ok(b"abc".to_vec()));
    /// ```
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.append_to(&mut v);
        v
    }

    /// Appends the message to `out`.
    #[inline]
    pub(super) fn append_to(&self, out: &mut Vec<u8>) {
        out.reserve(self.len);
        let start = out.len();
        self.copy_to_uninit(&mut out.spare_capacity_mut()[..self.len]);
        // SAFETY: `copy_to_uninit` initialised the `len` bytes after `start`.
        unsafe { out.set_len(start + self.len) };
    }
}

impl fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message").field("len", &self.len).finish()
    }
}
