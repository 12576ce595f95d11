//! [`Trust`]: whose segment files a process agrees to open by name.
//!
//! `/dev/shm` is a directory every local user can create files in. Whoever
//! creates `/dev/shm/<name>` first decides what a process that opens
//! `<name>` reads, and a peer that can write the file can put anything in
//! the messages (for a Python `ProcessQueue`, which unpickles them, that is
//! code execution in the reader). So opening by name checks the file it
//! opened, on the open descriptor (`fstat`, never the path a second time):
//! a regular file, owned by a trusted user, writable by no one untrusted.
//!
//! By default the only trusted user is this process's effective uid, and
//! neither the group nor other users may write the file: what a queue
//! created with the default mode `0o600` gives. A queue meant to be shared
//! more widely is opened with a [`Trust`] that says so.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;

use super::error::OpenError;

/// Which owners and modes of a segment file [`ShmQueue::open_trusting`]
/// accepts. The default, [`Trust::new`], accepts only files owned by this
/// process's effective uid that neither group nor others can write.
///
/// # Examples
///
/// ```
/// use ringq::shm::{ShmOptions, ShmQueue, Trust};
///
/// // A queue a group shares: created group-writable, opened by members
/// // that trust that group.
/// let name = format!("ringq-doc-trust-{}", std::process::id());
/// // SAFETY: getegid has no preconditions.
/// let gid = unsafe { libc::getegid() };
/// let q = ShmQueue::create(&name, &ShmOptions::new(4, 16).mode(0o660)).unwrap();
///
/// // The default refuses a file its group can write...
/// assert!(ShmQueue::open(&name).is_err());
/// // ...unless the opener trusts that group.
/// let member = ShmQueue::open_trusting(&name, &Trust::new().group_writable(gid)).unwrap();
/// q.push(b"hi").unwrap();
/// assert_eq!(member.len(), 1);
/// ShmQueue::unlink(&name).unwrap();
/// ```
///
/// [`ShmQueue::open_trusting`]: super::ShmQueue::open_trusting
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trust {
    owners: Vec<u32>,
    writable_groups: Vec<u32>,
    anyone: bool,
}

impl Trust {
    /// Files owned by this process's effective uid, writable by it alone.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(ringq::shm::Trust::new(), ringq::shm::Trust::default());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Also accepts files owned by `uid` (a service account that creates
    /// the queue, say). Their mode is checked all the same.
    ///
    /// # Examples
    ///
    /// ```
    /// let trust = ringq::shm::Trust::new().owner(0); // root's queues too
    /// # let _ = trust;
    /// ```
    pub fn owner(mut self, uid: u32) -> Self {
        self.owners.push(uid);
        self
    }

    /// Also accepts files whose group is `gid` and that the group may write:
    /// every member of `gid` is trusted with the messages.
    ///
    /// # Examples
    ///
    /// ```
    /// let trust = ringq::shm::Trust::new().group_writable(1000);
    /// # let _ = trust;
    /// ```
    pub fn group_writable(mut self, gid: u32) -> Self {
        self.writable_groups.push(gid);
        self
    }

    /// Accepts any owner and mode: every local user who could create the
    /// name first, or write the file, is trusted with this process. Only
    /// for names in a directory no one else can create files in, or
    /// messages that are never trusted (never unpickled, say).
    ///
    /// # Examples
    ///
    /// ```
    /// let trust = ringq::shm::Trust::anyone();
    /// # let _ = trust;
    /// ```
    pub fn anyone() -> Self {
        Self {
            anyone: true,
            ..Self::default()
        }
    }

    /// Checks the owner and mode of a file opened as a segment.
    ///
    /// # Errors
    ///
    /// [`OpenError::Untrusted`], naming the rule broken.
    pub(crate) fn check(&self, meta: &Metadata) -> Result<(), OpenError> {
        self.check_owner_and_mode(meta.uid(), meta.gid(), meta.mode() & 0o7777)
    }

    fn check_owner_and_mode(&self, owner: u32, group: u32, mode: u32) -> Result<(), OpenError> {
        if self.anyone {
            return Ok(());
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        let refuse = |why| {
            Err(OpenError::Untrusted {
                owner,
                group,
                mode,
                why,
            })
        };
        if owner != me && !self.owners.contains(&owner) {
            return refuse("the file belongs to another user");
        }
        if mode & 0o002 != 0 {
            return refuse("every user can write the file");
        }
        if mode & 0o020 != 0 && !self.writable_groups.contains(&group) {
            return refuse("the file's group can write it");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> u32 {
        // SAFETY: no preconditions.
        unsafe { libc::geteuid() }
    }

    #[test]
    fn the_default_trusts_only_files_of_this_user_that_only_it_can_write() {
        let t = Trust::new();
        let other = me().wrapping_add(1);
        assert!(t.check_owner_and_mode(me(), 5, 0o600).is_ok());
        assert!(t.check_owner_and_mode(me(), 5, 0o644).is_ok());
        assert!(t.check_owner_and_mode(me(), 5, 0o660).is_err());
        assert!(t.check_owner_and_mode(me(), 5, 0o606).is_err());
        assert!(t.check_owner_and_mode(other, 5, 0o600).is_err());
    }

    #[test]
    fn wider_trust_is_opt_in_rule_by_rule() {
        let other = me().wrapping_add(1);
        let t = Trust::new().owner(other).group_writable(5);
        assert!(t.check_owner_and_mode(other, 5, 0o660).is_ok());
        assert!(t.check_owner_and_mode(other, 6, 0o660).is_err());
        assert!(t.check_owner_and_mode(other, 5, 0o666).is_err());
        assert!(Trust::anyone()
            .check_owner_and_mode(other, 6, 0o666)
            .is_ok());
        match Trust::new().check_owner_and_mode(other, 6, 0o666) {
            Err(OpenError::Untrusted {
                owner, mode, why, ..
            }) => {
                assert_eq!((owner, mode), (other, 0o666));
                assert_eq!(why, "the file belongs to another user");
            }
            r => panic!("{r:?}"),
        }
    }
}
