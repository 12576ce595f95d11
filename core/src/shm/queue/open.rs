//! Creating and opening segments.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use super::{me, ShmQueue};
use crate::shm::error::OpenError;
use crate::shm::layout::{Layout, Namespaces};
use crate::shm::map::{self, NewFile, NewSegment};
use crate::shm::options::ShmOptions;
use crate::shm::ring::Ring;
use crate::shm::segment::Segment;
use crate::shm::trust::Trust;

impl ShmQueue {
    fn attach(
        seg: Segment,
        namespaces: Namespaces,
        fd: OwnedFd,
        name: Option<String>,
    ) -> Result<Self, OpenError> {
        let me = me::Me::attach(&seg, namespaces).map_err(|_| OpenError::TooManyParticipants)?;
        Ok(Self {
            seg,
            fd,
            name,
            me,
            fruitless_wakes: Default::default(),
            alive_cache: Default::default(),
            #[cfg(feature = "test-hooks")]
            pause: Default::default(),
        })
    }

    /// Builds a new segment: maps it, writes the initial words, then
    /// the header (magic last).
    fn build(
        options: &ShmOptions,
        new: impl FnOnce(usize) -> Result<NewSegment, OpenError>,
    ) -> Result<(Segment, Namespaces, NewFile), OpenError> {
        let layout = Layout::new(
            options.capacity,
            options.max_message_size,
            options.max_participants,
        )?;
        let namespaces = map::own_namespaces()?;
        let NewSegment { map, file } = new(layout.total)?;
        let seg = Segment::new(map, layout);
        Ring::new(&seg).initialize();
        map::write_identity(seg.mapping(), &layout.identity(namespaces));
        Ok((seg, namespaces, file))
    }

    /// Creates a queue under `name`, visible to every process of this
    /// user (with the default mode) until [`unlink`](Self::unlink)ed.
    ///
    /// The name is 1 to 200 characters of `A-Z a-z 0-9 . _ -`, after an
    /// optional leading `/`, and not starting with a dot. The segment is
    /// the file `/dev/shm/<name>`, as `shm_open("/<name>")` would make
    /// it, so C programs can also reach it. It appears fully formed: an
    /// opener never sees it half-written.
    ///
    /// # Errors
    ///
    /// [`OpenError::InvalidName`], [`OpenError::InvalidOptions`],
    /// [`OpenError::Io`] with kind `AlreadyExists` if the name is taken,
    /// or another kind if the system refused (no space in `/dev/shm`,
    /// say).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringq::shm::{ShmOptions, ShmQueue};
    ///
    /// let name = format!("ringq-doc-create-{}", std::process::id());
    /// let q = ShmQueue::create(&name, &ShmOptions::new(16, 128)).unwrap();
    /// let other = ShmQueue::open(&name).unwrap(); // another process would do this
    /// q.push(b"hi").unwrap();
    /// assert_eq!(other.try_pop_with(|m| m.to_vec()), Ok(b"hi".to_vec()));
    /// ShmQueue::unlink(&name).unwrap();
    /// ```
    pub fn create(name: &str, options: &ShmOptions) -> Result<Self, OpenError> {
        Self::create_with(name, options, true)
    }

    /// [`create`](Self::create), choosing whether to use `O_TMPFILE`
    /// (`false` tests the fallback).
    #[doc(hidden)]
    pub fn create_with(
        name: &str,
        options: &ShmOptions,
        prefer_tmpfile: bool,
    ) -> Result<Self, OpenError> {
        let bare = map::validate_name(name)?;
        let (seg, namespaces, mut file) = Self::build(options, |len| {
            NewSegment::in_shm_dir(len, options.mode, prefer_tmpfile)
        })?;
        file.publish(bare)?;
        Self::attach(seg, namespaces, file.into_fd(), Some(bare.to_owned()))
    }

    /// Creates an anonymous queue (a sealed `memfd`), reachable by
    /// processes that inherit or are sent its descriptor
    /// ([`fd`](Self::fd), [`from_fd`](Self::from_fd)), and by children
    /// forked with this handle.
    ///
    /// # Errors
    ///
    /// [`OpenError::InvalidOptions`], [`OpenError::Io`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ringq::shm::{ShmOptions, ShmQueue};
    ///
    /// let q = ShmQueue::create_anonymous(&ShmOptions::new(16, 128)).unwrap();
    /// assert_eq!(q.name(), None);
    /// ```
    pub fn create_anonymous(options: &ShmOptions) -> Result<Self, OpenError> {
        let (seg, namespaces, file) = Self::build(options, NewSegment::memfd)?;
        file.seal()?;
        Self::attach(seg, namespaces, file.into_fd(), None)
    }

    /// Opens the queue created under `name`, if the file is this user's and
    /// writable by no one else (see [`Trust`]; [`open_trusting`](Self::open_trusting)
    /// widens that).
    ///
    /// Any local user can create a file in `/dev/shm` under a name another
    /// program means to open, so the file opened is checked before anything
    /// is read from it: a regular file, owned by this process's effective
    /// uid, that neither its group nor other users can write; and fully
    /// allocated, so that no page of it can fault when `/dev/shm` fills up.
    ///
    /// # Errors
    ///
    /// [`OpenError::InvalidName`]; [`OpenError::Io`] with kind
    /// `NotFound` or `PermissionDenied`; [`OpenError::Untrusted`] for a
    /// file of another owner or a wider mode; [`OpenError::NotAllocated`]
    /// for a sparse one; [`OpenError::NotRingq`],
    /// [`OpenError::Version`], [`OpenError::Truncated`] or
    /// [`OpenError::BadHeader`] for a file that is not a segment this
    /// code can use; [`OpenError::ForeignNamespace`] or
    /// [`OpenError::UnknownNamespace`];
    /// [`OpenError::TooManyParticipants`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use ringq::shm::{OpenError, ShmQueue};
    ///
    /// match ShmQueue::open("ringq-doc-no-such-queue") {
    ///     Err(OpenError::Io(e)) => assert_eq!(e.kind(), ErrorKind::NotFound),
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn open(name: &str) -> Result<Self, OpenError> {
        Self::open_trusting(name, &Trust::new())
    }

    /// [`open`](Self::open), accepting the owners and modes `trust` names.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringq::shm::{OpenError, ShmOptions, ShmQueue, Trust};
    ///
    /// let name = format!("ringq-doc-open-trusting-{}", std::process::id());
    /// let q = ShmQueue::create(&name, &ShmOptions::new(4, 16).mode(0o666)).unwrap();
    /// assert!(matches!(ShmQueue::open(&name), Err(OpenError::Untrusted { .. })));
    /// let anyone = ShmQueue::open_trusting(&name, &Trust::anyone()).unwrap();
    /// # drop((q, anyone));
    /// ShmQueue::unlink(&name).unwrap();
    /// ```
    pub fn open_trusting(name: &str, trust: &Trust) -> Result<Self, OpenError> {
        let bare = map::validate_name(name)?;
        let opened = map::open_named(bare, trust)?;
        Self::from_opened(opened, Some(bare.to_owned()))
    }

    /// Opens the queue whose segment `fd` refers to (a descriptor from
    /// [`fd`](Self::fd), inherited or received over a Unix socket, or a
    /// named segment's file opened by other means). The handle owns
    /// `fd` from now on.
    ///
    /// Whoever passed the descriptor chose the file, so its owner and mode
    /// are not checked against a [`Trust`]. An anonymous segment (a `memfd`)
    /// must be sealed against resizing, as [`create_anonymous`](Self::create_anonymous)
    /// seals it: its sender could otherwise shrink it under this process.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open), less the name and trust checks, plus
    /// [`OpenError::Unsealed`] for a descriptor with no name and without
    /// the seals.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringq::shm::{ShmOptions, ShmQueue};
    ///
    /// let q = ShmQueue::create_anonymous(&ShmOptions::new(4, 16)).unwrap();
    /// let fd = q.fd().try_clone_to_owned().unwrap(); // what a child inherits
    /// let other = ShmQueue::from_fd(fd).unwrap();
    /// q.push(b"x").unwrap();
    /// assert_eq!(other.len(), 1);
    /// ```
    pub fn from_fd(fd: OwnedFd) -> Result<Self, OpenError> {
        let opened = map::open_fd(fd)?;
        Self::from_opened(opened, None)
    }

    fn from_opened(opened: map::OpenedSegment, name: Option<String>) -> Result<Self, OpenError> {
        if !map::own_namespaces()?.compatible(opened.namespaces) {
            return Err(OpenError::ForeignNamespace);
        }
        let seg = Segment::new(opened.map, opened.layout);
        Self::attach(seg, opened.namespaces, opened.fd, name)
    }

    /// Removes `name`, so that no new process can open the queue. Handles
    /// already open keep working; the memory is freed when the last one
    /// is gone.
    ///
    /// # Errors
    ///
    /// [`OpenError::InvalidName`], [`OpenError::Io`] (`NotFound` if no
    /// queue has that name).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringq::shm::{ShmOptions, ShmQueue};
    ///
    /// let name = format!("ringq-doc-unlink-{}", std::process::id());
    /// let q = ShmQueue::create(&name, &ShmOptions::new(4, 16)).unwrap();
    /// ShmQueue::unlink(&name).unwrap();
    /// assert!(ShmQueue::open(&name).is_err());
    /// q.push(b"still works").unwrap();
    /// ```
    pub fn unlink(name: &str) -> Result<(), OpenError> {
        let bare = map::validate_name(name)?;
        map::unlink(bare)?;
        Ok(())
    }

    /// The descriptor of the segment, to hand to another process (it is
    /// close-on-exec: duplicate it to pass it through `exec`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::fd::AsRawFd;
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(4, 16)).unwrap();
    /// assert!(q.fd().as_raw_fd() >= 0);
    /// ```
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The name the queue was created or opened with (without the
    /// leading `/`), or `None` for one reached through a descriptor.
    ///
    /// # Examples
    ///
    /// ```
    /// # let q = ringq::shm::ShmQueue::create_anonymous(&ringq::shm::ShmOptions::new(4, 16)).unwrap();
    /// assert_eq!(q.name(), None);
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}
