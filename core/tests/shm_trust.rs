//! What a process agrees to open: files another user created or can write
//! are refused by name, files whose pages are not all allocated are refused
//! before anything touches them, anonymous segments must arrive sealed, and
//! a process that cannot tell its PID namespace opens nothing.
//!
//! Some cases need root: to become another user, to mount a private tmpfs,
//! or to make a PID namespace. Without it they say so and pass.
#![cfg(all(target_os = "linux", not(loom)))]

mod shm_support;

use std::ffi::CString;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

use ringq::shm::{OpenError, ShmError, ShmOptions, ShmQueue, Trust};
use shm_support::{fork, Name};

/// A uid and gid no test file belongs to (`nobody` on most systems).
const STRANGER: u32 = 65534;

/// What a child exits with when the system refuses it new namespaces (a
/// container without CAP_SYS_ADMIN, say): the case is skipped, not failed.
const NO_NAMESPACES: i32 = 77;

fn is_root() -> bool {
    // SAFETY: no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn skip_unless_root(what: &str) -> bool {
    if is_root() {
        return false;
    }
    eprintln!("skipped: {what} needs root");
    true
}

fn opts() -> ShmOptions {
    ShmOptions::new(8, 64)
}

fn chmod(path: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn c(path: &str) -> CString {
    CString::new(path).unwrap()
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn a_queue_another_user_created_first_is_refused_by_name() {
    if skip_unless_root("becoming another user") {
        return;
    }
    let name = Name::new("squat");
    // Another local user takes the name first, with a mode that lets
    // anyone read and write it.
    let squatter_name = name.0.clone();
    let squatter = fork(move || {
        // SAFETY: this forked child has one thread; it drops root for good.
        if unsafe { libc::setgid(STRANGER) } != 0 || unsafe { libc::setuid(STRANGER) } != 0 {
            return 2;
        }
        match ShmQueue::create(&squatter_name, &opts().mode(0o666)) {
            Ok(q) => {
                q.push(b"a forged job").unwrap();
                std::mem::forget(q); // the file outlives this process
                0
            }
            Err(_) => 3,
        }
    });
    assert_eq!(squatter.wait(), 0);
    assert_eq!(
        std::fs::metadata(name.path()).unwrap().uid(),
        STRANGER,
        "the squatter's file"
    );

    // The victim opens by name and is refused, with who and what was found.
    match ShmQueue::open(&name.0) {
        Err(OpenError::Untrusted {
            owner, mode, why, ..
        }) => {
            assert_eq!((owner, mode), (STRANGER, 0o666));
            assert_eq!(why, "the file belongs to another user");
        }
        other => panic!("opened a stranger's file: {other:?}"),
    }
    let text = ShmQueue::open(&name.0).unwrap_err().to_string();
    assert!(text.contains("uid 65534") && text.contains("666"), "{text}");
    // Trusting that owner is not enough while everyone can write the file.
    assert!(matches!(
        ShmQueue::open_trusting(&name.0, &Trust::new().owner(STRANGER)),
        Err(OpenError::Untrusted { .. })
    ));
    // Trusting anyone is an explicit choice, and then it opens.
    let q = ShmQueue::open_trusting(&name.0, &Trust::anyone()).unwrap();
    assert_eq!(q.len(), 1);
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn a_file_its_group_or_everyone_can_write_needs_explicit_trust() {
    let name = Name::new("modes");
    let q = ShmQueue::create(&name.0, &opts().mode(0o660)).unwrap();
    // SAFETY: no preconditions.
    let gid = unsafe { libc::getegid() };
    assert!(matches!(
        ShmQueue::open(&name.0),
        Err(OpenError::Untrusted { why, .. }) if why == "the file's group can write it"
    ));
    assert!(matches!(
        ShmQueue::open_trusting(&name.0, &Trust::new().group_writable(gid.wrapping_add(1))),
        Err(OpenError::Untrusted { .. })
    ));
    let member = ShmQueue::open_trusting(&name.0, &Trust::new().group_writable(gid)).unwrap();
    q.push(b"for the group").unwrap();
    assert_eq!(member.len(), 1);

    chmod(&name.path(), 0o606);
    assert!(matches!(
        ShmQueue::open(&name.0),
        Err(OpenError::Untrusted { why, .. }) if why == "every user can write the file"
    ));
    // Read access for others is not write access: still this user's alone.
    chmod(&name.path(), 0o644);
    assert!(ShmQueue::open(&name.0).is_ok());
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn a_file_of_another_owner_is_refused_even_with_a_private_mode() {
    if skip_unless_root("changing a file's owner") {
        return;
    }
    let name = Name::new("owner");
    drop(ShmQueue::create(&name.0, &opts()).unwrap());
    std::os::unix::fs::chown(name.path(), Some(STRANGER), Some(STRANGER)).unwrap();
    assert!(matches!(
        ShmQueue::open(&name.0),
        Err(OpenError::Untrusted { owner, mode, .. }) if owner == STRANGER && mode == 0o600
    ));
    assert!(ShmQueue::open_trusting(&name.0, &Trust::new().owner(STRANGER)).is_ok());
}

/// In a forked child (one thread): leaves for new namespaces (`flags`, a
/// mount namespace among them), makes every mount private to it, and mounts
/// an empty tmpfs (with `options`) on `target`. `false` if the system
/// refuses.
fn tmpfs_in_own_namespace(flags: libc::c_int, target: &str, options: &str) -> bool {
    let (none, root, target, tmpfs, options) =
        (c("none"), c("/"), c(target), c("tmpfs"), c(options));
    // SAFETY: the caller is a single-threaded forked child; every pointer is
    // a NUL-terminated string that outlives the calls, and the mounts only
    // change the child's own namespace.
    unsafe {
        libc::unshare(flags) == 0
            && libc::mount(
                none.as_ptr(),
                root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) == 0
            && libc::mount(
                none.as_ptr(),
                target.as_ptr(),
                tmpfs.as_ptr(),
                0,
                options.as_ptr().cast(),
            ) == 0
    }
}

/// Punches a hole of `len` bytes at `offset` into the file open as `fd`.
fn punch_hole(fd: libc::c_int, offset: u64, len: u64) {
    // SAFETY: `fd` is an open file; the call frees its pages in that range.
    let ret = unsafe {
        libc::fallocate(
            fd,
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            offset as libc::off_t,
            len as libc::off_t,
        )
    };
    assert_eq!(ret, 0, "{}", std::io::Error::last_os_error());
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn a_segment_with_unallocated_pages_is_refused_before_it_is_touched() {
    let name = Name::new("holes");
    let _creator = ShmQueue::create(&name.0, &ShmOptions::new(64, 1024)).unwrap();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.path())
        .unwrap();
    let len = file.metadata().unwrap().len();
    punch_hole(file.as_raw_fd(), 3 * 4096, 4 * 4096);
    match ShmQueue::open(&name.0) {
        Err(OpenError::NotAllocated { allocated, len: l }) => {
            assert_eq!(l, len);
            assert_eq!(allocated, len - 4 * 4096);
        }
        other => panic!("opened a sparse segment: {other:?}"),
    }
    // The same file, reached through a descriptor, is refused too.
    let fd = OwnedFd::from(file);
    assert!(matches!(
        ShmQueue::from_fd(fd),
        Err(OpenError::NotAllocated { .. })
    ));
}

/// The attack in full: a sparse segment opened while `/dev/shm` is full.
/// A push would have to allocate a page, and there is none: before the
/// check, that was a SIGBUS. Runs in a child with a private 1 MiB tmpfs on
/// `/dev/shm`, which it fills.
#[test]
#[cfg_attr(miri, ignore = "mounts a tmpfs")]
fn a_sparse_segment_in_a_full_dev_shm_is_an_error_not_a_crash() {
    if skip_unless_root("mounting a private tmpfs") {
        return;
    }
    let child = fork(|| {
        if !tmpfs_in_own_namespace(libc::CLONE_NEWNS, "/dev/shm", "size=1m") {
            return NO_NAMESPACES;
        }
        // A forger writes a valid header over holes: a real queue, with
        // every page after the header punched out.
        let name = "forged-sparse";
        drop(ShmQueue::create(name, &ShmOptions::new(64, 1024)).unwrap());
        let path = format!("/dev/shm/{name}");
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let len = file.metadata().unwrap().len();
        punch_hole(file.as_raw_fd(), 4096, len - 4096);
        // Then fills /dev/shm.
        let mut filler = std::fs::File::create("/dev/shm/filler").unwrap();
        let page = [0xa5u8; 4096];
        while filler.write_all(&page).is_ok() {}
        match ShmQueue::open(name) {
            Err(OpenError::NotAllocated { .. }) => 0,
            Ok(q) => {
                // What the check prevents: this push faults.
                let _ = q.try_push(b"x");
                4
            }
            Err(_) => 5,
        }
    });
    match child.wait() {
        NO_NAMESPACES => eprintln!("skipped: this root may not make mount namespaces here"),
        code => assert_eq!(code, 0, "0: refused; 4: opened; 135: SIGBUS"),
    }
}

fn memfd(flags: libc::c_uint) -> OwnedFd {
    // SAFETY: a NUL-terminated name; the descriptor returned is ours.
    let fd = unsafe { libc::memfd_create(c("forged").as_ptr(), flags | libc::MFD_CLOEXEC) };
    assert!(fd >= 0);
    // SAFETY: fresh and owned by nothing else.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// A copy of a real segment's bytes in a new memfd, fully allocated.
fn copy_of_segment(q: &ShmQueue, flags: libc::c_uint) -> OwnedFd {
    use std::os::unix::fs::FileExt;
    let original = std::fs::File::from(q.fd().try_clone_to_owned().unwrap());
    let len = original.metadata().unwrap().len();
    let mut bytes = vec![0; len as usize];
    original.read_exact_at(&mut bytes, 0).unwrap();
    let copy = std::fs::File::from(memfd(flags));
    copy.write_all_at(&bytes, 0).unwrap();
    copy.into()
}

fn add_seals(fd: &OwnedFd, seals: libc::c_int) {
    // SAFETY: `fd` is an open memfd made with MFD_ALLOW_SEALING.
    let ret = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, seals) };
    assert_eq!(ret, 0);
}

#[test]
#[cfg_attr(miri, ignore = "maps shared memory")]
fn an_anonymous_segment_must_arrive_sealed_against_resizing() {
    let q = ShmQueue::create_anonymous(&opts()).unwrap();
    q.push(b"kept").unwrap();

    // Unsealable, and sealable but not sealed: the sender could truncate
    // either after this process mapped it.
    let unsealable = copy_of_segment(&q, 0);
    assert!(matches!(
        ShmQueue::from_fd(unsealable),
        Err(OpenError::Unsealed)
    ));
    let unsealed = copy_of_segment(&q, libc::MFD_ALLOW_SEALING);
    assert!(matches!(
        ShmQueue::from_fd(unsealed),
        Err(OpenError::Unsealed)
    ));
    // Sealed against shrinking only: it could still grow, and the seals
    // could still be changed.
    let half = copy_of_segment(&q, libc::MFD_ALLOW_SEALING);
    add_seals(&half, libc::F_SEAL_SHRINK);
    assert!(matches!(ShmQueue::from_fd(half), Err(OpenError::Unsealed)));
    // Sealed as create_anonymous seals: accepted.
    let sealed = copy_of_segment(&q, libc::MFD_ALLOW_SEALING);
    add_seals(
        &sealed,
        libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_SEAL,
    );
    let copy = ShmQueue::from_fd(sealed).unwrap();
    assert_eq!(copy.try_pop_with(|m| m.to_vec()), Ok(b"kept".to_vec()));
    // And the real one's own descriptor, of course.
    let other = ShmQueue::from_fd(q.fd().try_clone_to_owned().unwrap()).unwrap();
    assert_eq!(other.try_pop_with(|m| m.to_vec()), Ok(b"kept".to_vec()));
}

/// A process in a PID namespace of its own, whose `/proc` is empty,
/// cannot tell which namespace it is in: PIDs it reads about peers could
/// name other processes, so it must not judge them. It opens nothing, by
/// name or by descriptor, creates nothing, and cannot use a handle it
/// inherited.
#[test]
#[cfg_attr(miri, ignore = "makes namespaces")]
fn a_process_that_cannot_tell_its_pid_namespace_opens_nothing() {
    if skip_unless_root("making a PID namespace") {
        return;
    }
    let name = Name::new("pidns");
    let host = ShmQueue::create(&name.0, &opts()).unwrap();
    host.push(b"host job").unwrap();
    let anonymous = ShmQueue::create_anonymous(&opts()).unwrap();
    let anonymous_fd = anonymous.fd().as_raw_fd();
    let shared_name = name.0.clone();
    let inherited = &host;
    let child = fork(move || {
        // The new PID namespace applies to this child's children.
        if !tmpfs_in_own_namespace(libc::CLONE_NEWNS | libc::CLONE_NEWPID, "/proc", "") {
            return NO_NAMESPACES;
        }
        let inner = fork(move || {
            if std::process::id() != 1 {
                return 3;
            }
            let unknown =
                |r: Result<ShmQueue, OpenError>| matches!(r, Err(OpenError::UnknownNamespace));
            if !unknown(ShmQueue::open(&shared_name)) {
                return 4;
            }
            // SAFETY: duplicates a descriptor inherited through fork.
            let fd = unsafe { libc::fcntl(anonymous_fd, libc::F_DUPFD_CLOEXEC, 0) };
            // SAFETY: the duplicate is fresh and owned by nothing else.
            if fd < 0 || !unknown(ShmQueue::from_fd(unsafe { OwnedFd::from_raw_fd(fd) })) {
                return 5;
            }
            if !unknown(ShmQueue::create_anonymous(&opts())) {
                return 6;
            }
            // A handle carried in by fork is refused too.
            if inherited.try_push(b"from inside") != Err(ShmError::ForeignNamespace) {
                return 7;
            }
            0
        });
        inner.wait()
    });
    match child.wait() {
        NO_NAMESPACES => eprintln!("skipped: this root may not make PID and mount namespaces here"),
        code => assert_eq!(code, 0),
    }
    // The host's queue is as it was.
    assert_eq!(host.try_pop_with(|m| m.to_vec()), Ok(b"host job".to_vec()));
}
