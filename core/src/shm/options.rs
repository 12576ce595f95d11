//! [`ShmOptions`]: the sizes and permissions of a new segment.

/// The default [`ShmOptions::max_participants`].
pub const DEFAULT_MAX_PARTICIPANTS: usize = 256;

/// The sizes and permissions of a new segment.
///
/// # Examples
///
/// ```
/// use ringq::shm::ShmOptions;
///
/// let options = ShmOptions::new(1024, 4096).max_participants(16).mode(0o640);
/// assert_eq!(options.capacity(), 1024);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShmOptions {
    pub(super) capacity: usize,
    pub(super) max_message_size: usize,
    pub(super) max_participants: usize,
    pub(super) mode: u32,
}

impl ShmOptions {
    /// A queue of `capacity` messages of at most `max_message_size` bytes
    /// each, for up to [`DEFAULT_MAX_PARTICIPANTS`] handles at a time,
    /// created with mode `0o600`.
    ///
    /// Every slot reserves `max_message_size` bytes (plus 16, rounded up to
    /// 64), so the segment takes about `capacity * max_message_size` bytes
    /// of memory, allocated at creation.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = ringq::shm::ShmOptions::new(64, 256);
    /// assert_eq!(options.max_message_size(), 256);
    /// ```
    pub fn new(capacity: usize, max_message_size: usize) -> Self {
        Self {
            capacity,
            max_message_size,
            max_participants: DEFAULT_MAX_PARTICIPANTS,
            mode: 0o600,
        }
    }

    /// How many handles (one per `open`, and one per forked child that uses
    /// an inherited handle) may be attached at once, 1 to 1023.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = ringq::shm::ShmOptions::new(64, 256).max_participants(4);
    /// assert_eq!(options.participants(), 4);
    /// ```
    pub fn max_participants(mut self, n: usize) -> Self {
        self.max_participants = n;
        self
    }

    /// The permission bits of a named segment's file, applied exactly (the
    /// umask does not narrow them). Default `0o600`: only this user.
    ///
    /// A mode that lets the group or others write the file is refused by
    /// [`ShmQueue::open`](super::ShmQueue::open) unless the opener trusts
    /// them ([`Trust`](super::Trust)): whoever can write it can forge
    /// messages.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = ringq::shm::ShmOptions::new(64, 256).mode(0o660);
    /// assert_eq!(options.file_mode(), 0o660);
    /// ```
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = mode & 0o777;
        self
    }

    /// The capacity, in messages.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(ringq::shm::ShmOptions::new(3, 8).capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The largest message, in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(ringq::shm::ShmOptions::new(3, 8).max_message_size(), 8);
    /// ```
    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// The size of the participant table.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringq::shm::{ShmOptions, DEFAULT_MAX_PARTICIPANTS};
    /// assert_eq!(ShmOptions::new(3, 8).participants(), DEFAULT_MAX_PARTICIPANTS);
    /// ```
    pub fn participants(&self) -> usize {
        self.max_participants
    }

    /// The file mode.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(ringq::shm::ShmOptions::new(3, 8).file_mode(), 0o600);
    /// ```
    pub fn file_mode(&self) -> u32 {
        self.mode
    }
}
