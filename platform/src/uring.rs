//! The io_uring backend: the Linux backend with the per-entry syscalls
//! batched through one ring per worker.
//!
//! | operation | how |
//! |---|---|
//! | [`Backend::list`] | `getdents64(2)` as a plain syscall: mainline io_uring has no getdents opcode |
//! | [`Backend::stat_many`] | one `IORING_OP_STATX` per entry, the whole batch in flight, one `io_uring_enter` to submit and reap it |
//! | [`Backend::open_many`] | one `IORING_OP_OPENAT` per subdirectory, likewise |
//! | dropping a [`UringDir`] | an `IORING_OP_CLOSE` queued on the worker's ring, submitted with its next batch |
//! | single calls ([`Backend::stat_at`], [`Backend::open_at`], arguments) | the synchronous [`LinuxBackend`] |
//!
//! ```text
//!  worker thread (pinned first)          kernel
//!  ----------------------------          ------
//!  getdents64 ------------------------>  directory blocks
//!  push N statx SQEs (+ queued closes)
//!  io_uring_enter(submit N, wait N) -->  statx is always handed to io-wq
//!                                        workers: up to `wq_workers` of them
//!                                        wait on inode reads at once
//!  <------------------------------------  N CQEs, reaped in completion order
//! ```
//!
//! **When it pays.** The kernel runs every `IORING_OP_STATX` on an io-wq
//! worker thread (the path walk cannot be done without blocking), so on a warm
//! cache each stat costs a hand-off that a plain `fstatat` does not: the
//! backend is for cold caches and high-latency file systems, where it keeps
//! many inode reads in flight per scanning thread.
//!
//! **Rings.** Each worker thread gets its own ring, created lazily on its
//! first batch (after the walker pinned the thread, so the ring's memory is
//! local to its node) and kept in a thread-local, which is also what lets a
//! dropped directory queue its `close` on the ring of whichever thread drops
//! it. A ring is set up with the best flags the kernel takes, tried in order:
//! `SUBMIT_ALL | COOP_TASKRUN | SINGLE_ISSUER | DEFER_TASKRUN`, then
//! `SUBMIT_ALL | COOP_TASKRUN`, then none; each attaches to the backend's first
//! ring with `ATTACH_WQ` (since Linux 5.12 io-wq workers belong to the
//! submitting thread, so this shares the io-wq hash, not the workers) and caps
//! its io-wq workers with `IORING_REGISTER_IOWQ_MAX_WORKERS` when asked to
//! (`statx` counts as bounded work; the kernel's default bounded limit is
//! the smaller of the ring's depth and 4 per CPU).
//!
//! **Fallbacks.** [`UringBackend::new`] fails when no ring can be created
//! (kernel older than 5.1, `kernel.io_uring_disabled`, a seccomp filter
//! answering `EPERM`/`ENOSYS`); the caller decides whether that is an error.
//! Opcodes are probed once: one the kernel lacks (`STATX` and `OPENAT` came in
//! 5.6, `CLOSE` in 5.6) runs synchronously instead. A thread whose ring cannot
//! be created (fd limit, locked-memory limit) runs everything synchronously.
#![allow(unsafe_code)]

use std::cell::RefCell;
use std::ffi::CStr;
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use io_uring::{opcode, squeue, types, IoUring, Probe};
use rustix::fs::Statx;

use crate::linux::{meta_of_statx, LinuxBackend, Lister, MASK, MASK_TIMES};
use crate::{Backend, Errno, Follow, Listing, Meta, Submitted};

// The statx buffers handed to the kernel are rustix's `Statx`, a `repr(C)`
// copy of the kernel's 256-byte `struct statx`.
const _: () = assert!(std::mem::size_of::<Statx>() == 256);

/// `user_data` of a queued close: its completion carries nothing to report.
const CLOSE_TAG: u64 = u64::MAX;

/// Queued closes a thread keeps before it submits them on its own: bounds
/// the descriptors held open past their directory's end.
const CLOSE_BATCH: usize = 16;

/// A descriptor limit below which closes are not deferred at all (small
/// limits are tight enough that every descriptor counts).
const DEFER_CLOSE_MIN_FDS: u64 = 4096;

/// Ring tuning.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct UringConfig {
    /// Submission queue entries per ring: operations one `io_uring_enter`
    /// can submit (a stat batch larger than this takes several).
    pub depth: u32,
    /// Cap on the io-wq workers (bounded and unbounded pools) of each
    /// scanning thread: how many of its stats may wait on the storage at
    /// once. 0 keeps the kernel's limits (bounded, which `statx` uses: the
    /// smaller of the ring's depth and 4 per CPU).
    pub wq_workers: u32,
    /// Ask `statx` for the access and status change times too (`--time=atime`,
    /// `--time=ctime`); off by default, as a network file system may
    /// revalidate its attributes for them.
    pub times: bool,
}

impl Default for UringConfig {
    fn default() -> UringConfig {
        UringConfig {
            depth: 256,
            wq_workers: 0,
            times: false,
        }
    }
}

/// The setup flags tried in order, best first; see the module docs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Level {
    /// `SUBMIT_ALL | COOP_TASKRUN | SINGLE_ISSUER | DEFER_TASKRUN` (6.1).
    Deferred = 0,
    /// `SUBMIT_ALL | COOP_TASKRUN` (5.19).
    Cooperative = 1,
    /// No flags (5.1).
    Plain = 2,
}

impl Level {
    const ALL: [Level; 3] = [Level::Deferred, Level::Cooperative, Level::Plain];

    fn name(self) -> &'static str {
        match self {
            Level::Deferred => "SUBMIT_ALL|COOP_TASKRUN|SINGLE_ISSUER|DEFER_TASKRUN",
            Level::Cooperative => "SUBMIT_ALL|COOP_TASKRUN",
            Level::Plain => "no setup flags",
        }
    }

    fn build(self, depth: u32, attach: Option<RawFd>) -> std::io::Result<IoUring> {
        let mut builder = IoUring::builder();
        if self != Level::Plain {
            builder.setup_submit_all().setup_coop_taskrun();
        }
        if self == Level::Deferred {
            builder.setup_single_issuer().setup_defer_taskrun();
        }
        if let Some(fd) = attach {
            builder.setup_attach_wq(fd);
        }
        builder.build(depth)
    }
}

/// Which operations go through the ring (probed once per backend).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Ops {
    statx: bool,
    openat: bool,
    close: bool,
}

/// Distinguishes backends, so that a thread's ring always belongs to the
/// backend using it.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The io_uring backend. See the module docs.
pub struct UringBackend {
    config: UringConfig,
    sync: LinuxBackend,
    id: u64,
    /// The first ring: proof that io_uring works here, the probe, and the
    /// io-wq the worker rings attach to. Never used for I/O.
    _root: IoUring,
    root_fd: RawFd,
    /// The best [`Level`] that has worked, as its discriminant.
    level: AtomicU8,
    ops: Ops,
    defer_close: bool,
}

impl std::fmt::Debug for UringBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UringBackend")
            .field("config", &self.config)
            .field("setup", &self.setup_name())
            .field("ops", &self.ops)
            .finish()
    }
}

impl UringBackend {
    /// Create the backend's first ring and probe the kernel.
    ///
    /// Fails with the errno of `io_uring_setup` when no ring can be created
    /// at all: `ENOSYS` (no io_uring, or a seccomp filter), `EPERM`
    /// (`kernel.io_uring_disabled`, or a seccomp filter), `ENOMEM`, ...
    pub fn new(config: UringConfig) -> Result<UringBackend, Errno> {
        let config = UringConfig {
            depth: config.depth.clamp(1, 4096),
            ..config
        };
        let mut last = Errno::NOSYS;
        for level in Level::ALL {
            match level.build(config.depth.min(8), None) {
                Ok(root) => {
                    let mut probe = Probe::new();
                    let probed = root.submitter().register_probe(&mut probe).is_ok();
                    let has = |code: u8| probed && probe.is_supported(code);
                    let ops = Ops {
                        statx: has(opcode::Statx::CODE),
                        openat: has(opcode::OpenAt::CODE),
                        close: has(opcode::Close::CODE),
                    };
                    let limit = crate::limits::current_nofile();
                    return Ok(UringBackend {
                        config,
                        sync: LinuxBackend::default(),
                        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                        root_fd: root.as_raw_fd(),
                        _root: root,
                        level: AtomicU8::new(level as u8),
                        ops,
                        defer_close: ops.close && limit >= DEFER_CLOSE_MIN_FDS,
                    });
                }
                Err(e) => last = Errno::from_io(&e),
            }
        }
        Err(last)
    }

    /// The ring tuning in effect.
    pub fn config(&self) -> UringConfig {
        self.config
    }

    fn level(&self) -> Level {
        Level::ALL[usize::from(self.level.load(Ordering::Relaxed)).min(2)]
    }

    fn setup_name(&self) -> &'static str {
        self.level().name()
    }

    /// What the kernel gave, for `--stats`: setup flags, and the opcodes
    /// that run synchronously for want of support.
    pub fn describe(&self) -> String {
        let mut sync = Vec::new();
        for (ok, name) in [
            (self.ops.statx, "statx"),
            (self.ops.openat, "openat"),
            (self.ops.close, "close"),
        ] {
            if !ok {
                sync.push(name);
            }
        }
        format!(
            "depth {}, io-wq workers {}, {}, ATTACH_WQ{}",
            self.config.depth,
            if self.config.wq_workers == 0 {
                "kernel default".to_string()
            } else {
                format!("<= {} per thread", self.config.wq_workers)
            },
            self.setup_name(),
            if sync.is_empty() {
                String::new()
            } else {
                format!(", synchronous: {}", sync.join(" "))
            }
        )
    }

    /// A new ring for the calling thread, at the best level that works.
    fn worker_ring(&self) -> Option<(IoUring, Level)> {
        let start = usize::from(self.level.load(Ordering::Relaxed)).min(2);
        for level in &Level::ALL[start..] {
            let ring = level
                .build(self.config.depth, Some(self.root_fd))
                .or_else(|_| level.build(self.config.depth, None));
            if let Ok(ring) = ring {
                self.level.store(*level as u8, Ordering::Relaxed);
                if self.config.wq_workers > 0 {
                    // Best effort (5.15+): without it the kernel's own limit applies.
                    let mut max = [self.config.wq_workers, self.config.wq_workers];
                    let _ = ring.submitter().register_iowq_max_workers(&mut max);
                }
                return Some((ring, *level));
            }
        }
        None
    }

    /// Run `f` on this thread's ring, then take the ring's counters.
    fn submit_on_ring(&self, f: impl FnOnce(&mut Ring) -> u64) -> Submitted {
        self.with_ring(|ring| {
            let ops = f(ring);
            Submitted {
                enters: std::mem::take(&mut ring.enters),
                ops,
                closes: std::mem::take(&mut ring.closes),
            }
        })
        .unwrap_or_default()
    }

    /// Run `f` on this thread's ring, creating it first if needed. `None`
    /// when there is no usable ring (the caller then runs synchronously):
    /// creation failed, or the ring is already in use further up this
    /// thread's stack.
    fn with_ring<R>(&self, f: impl FnOnce(&mut Ring) -> R) -> Option<R> {
        RING.try_with(|cell| {
            let mut slot = cell.try_borrow_mut().ok()?;
            if slot.as_ref().map_or(true, |r| r.owner != self.id) {
                // Dropping another backend's ring first flushes its closes.
                *slot = None;
                *slot = self
                    .worker_ring()
                    .map(|ring| Ring::new(self.id, ring, self.defer_close));
            }
            let ring = slot.as_mut()?;
            if ring.broken {
                return None;
            }
            Some(f(ring))
        })
        .ok()
        .flatten()
    }
}

thread_local! {
    /// The calling thread's ring (see the module docs).
    static RING: RefCell<Option<Ring>> = const { RefCell::new(None) };
}

/// One thread's ring and the buffers its operations write into.
struct Ring {
    owner: u64,
    ring: IoUring,
    /// Queue closes on this ring (see [`UringDir`]).
    defer_close: bool,
    /// Set up with `IORING_SETUP_SUBMIT_ALL`.
    submit_all: bool,
    /// One statx buffer per entry of the batch in flight.
    statx: Vec<Statx>,
    /// Completions of one `io_uring_enter`, `(user_data, res)`, reused.
    reaped: Vec<(u64, i32)>,
    /// Operations submitted (or queued) and not yet reaped.
    inflight: usize,
    /// Closes queued and not yet submitted.
    queued_closes: usize,
    /// `io_uring_enter` calls not yet reported to a caller.
    enters: u64,
    /// Closes submitted and not yet reported to a caller.
    closes: u64,
    /// Set when the kernel refused an `io_uring_enter` outright: the ring's
    /// buffers are then leaked rather than reused, and the thread goes on
    /// synchronously.
    broken: bool,
}

impl Ring {
    fn new(owner: u64, (ring, level): (IoUring, Level), defer_close: bool) -> Ring {
        Ring {
            owner,
            ring,
            submit_all: level != Level::Plain,
            defer_close,
            statx: Vec::new(),
            reaped: Vec::new(),
            inflight: 0,
            queued_closes: 0,
            enters: 0,
            closes: 0,
            broken: false,
        }
    }

    /// Submit what is queued and wait until `want` more completions are in
    /// the completion queue. `false` when the kernel refused the call.
    fn enter(&mut self, want: usize) -> bool {
        loop {
            self.enters += 1;
            // Without SUBMIT_ALL the kernel stops at the first entry it
            // cannot issue (its error is posted as a completion), and a wait
            // for `want` would then wait on entries still in the submission
            // queue: submit until it is empty, then wait.
            let wait = if self.submit_all || self.ring.submission().is_empty() {
                want
            } else {
                0
            };
            match self.ring.submit_and_wait(wait) {
                Ok(_) if wait != want => continue,
                Ok(_) => {
                    self.queued_closes = 0;
                    return true;
                }
                // Interrupted: submit again.
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                // The completion queue must be reaped first: the caller's
                // loop reaps, then calls again.
                Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::EBUSY)) => {
                    self.queued_closes = 0;
                    return true;
                }
                Err(_) => {
                    self.broken = true;
                    return false;
                }
            }
        }
    }

    /// Run `n` operations: `prep(i)` builds the i-th, `done(i, result)`
    /// takes its completion (the raw `cqe.res`). Returns `false` if the ring
    /// broke, after which operations not reported through `done` are the
    /// caller's to run synchronously (their indices are those `done` never
    /// saw).
    fn run(
        &mut self,
        n: usize,
        mut prep: impl FnMut(&mut Self, usize) -> squeue::Entry,
        mut done: impl FnMut(&Self, usize, i32),
    ) -> bool {
        let mut next = 0;
        let mut done_count = 0;
        let cq_room = self.ring.completion().capacity();
        while done_count < n {
            while next < n && self.inflight < cq_room && !self.ring.submission().is_full() {
                let entry = prep(self, next).user_data(next as u64);
                // SAFETY: every pointer in the entry (the name, owned by the
                // caller for the whole call, and the statx buffer, owned by
                // `self` and not resized until every operation of the call is
                // reaped) outlives the operation: `run` returns only once
                // each submitted operation has completed, or after leaking
                // the ring's buffers (`broken`).
                let pushed = unsafe { self.ring.submission().push(&entry) };
                if pushed.is_err() {
                    break;
                }
                next += 1;
                self.inflight += 1;
            }
            if !self.enter(self.inflight.min(cq_room)) {
                return false;
            }
            let mut reaped = std::mem::take(&mut self.reaped);
            reaped.clear();
            let mut cq = self.ring.completion();
            cq.sync();
            reaped.extend(cq.by_ref().map(|c| (c.user_data(), c.result())));
            drop(cq);
            for &(tag, res) in &reaped {
                self.inflight -= 1;
                if tag == CLOSE_TAG {
                    continue;
                }
                done_count += 1;
                done(self, tag as usize, res);
            }
            self.reaped = reaped;
        }
        true
    }

    /// Queue `fd`'s close, to be submitted with the next batch; gives `fd`
    /// back when the ring has no room for it.
    fn queue_close(&mut self, fd: OwnedFd) -> Result<(), OwnedFd> {
        let cq_room = self.ring.completion().capacity();
        if self.broken || self.inflight >= cq_room {
            return Err(fd);
        }
        let entry = opcode::Close::new(types::Fd(fd.as_raw_fd()))
            .build()
            .user_data(CLOSE_TAG);
        // SAFETY: a close carries no pointer; the descriptor is ours, and
        // from here on only the kernel closes it (`into_raw_fd` below).
        if unsafe { self.ring.submission().push(&entry) }.is_err() {
            return Err(fd);
        }
        let _ = fd.into_raw_fd();
        self.inflight += 1;
        self.queued_closes += 1;
        self.closes += 1;
        if self.queued_closes >= CLOSE_BATCH {
            self.flush();
        }
        Ok(())
    }

    /// Submit every queued close and reap every completion.
    fn flush(&mut self) {
        while self.inflight > 0 && !self.broken {
            if !self.enter(self.inflight) {
                return;
            }
            let mut cq = self.ring.completion();
            cq.sync();
            let reaped = cq.by_ref().count();
            drop(cq);
            self.inflight -= reaped;
        }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        self.flush();
        if self.broken {
            // Operations may still be in flight into these buffers.
            std::mem::forget(std::mem::take(&mut self.statx));
        }
    }
}

/// An open directory of the [`UringBackend`]: its descriptor is closed
/// through the ring of the thread that drops it, when it has one.
#[derive(Debug)]
pub struct UringDir {
    fd: ManuallyDrop<OwnedFd>,
}

impl UringDir {
    fn new(fd: OwnedFd) -> UringDir {
        UringDir {
            fd: ManuallyDrop::new(fd),
        }
    }
}

impl Drop for UringDir {
    fn drop(&mut self) {
        // SAFETY: `self.fd` is never used again: this is `drop`.
        let fd = unsafe { ManuallyDrop::take(&mut self.fd) };
        let fd = match RING.try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut slot) => match slot.as_mut() {
                Some(ring) if ring.defer_close => ring.queue_close(fd),
                _ => Err(fd),
            },
            Err(_) => Err(fd),
        }) {
            Ok(Ok(())) => return,
            Ok(Err(fd)) => fd,
            // The thread-local is gone (thread exit): close here.
            Err(_) => return,
        };
        drop(fd);
    }
}

fn at_flags(follow: Follow) -> i32 {
    match follow {
        Follow::No => libc::AT_SYMLINK_NOFOLLOW | libc::AT_NO_AUTOMOUNT,
        Follow::Yes => libc::AT_NO_AUTOMOUNT,
    }
}

fn open_flags(follow: Follow) -> i32 {
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
    match follow {
        Follow::No => flags | libc::O_NOFOLLOW,
        Follow::Yes => flags,
    }
}

fn result_of(res: i32) -> Result<(), Errno> {
    if res < 0 {
        Err(Errno(-res))
    } else {
        Ok(())
    }
}

impl Backend for UringBackend {
    type Dir = UringDir;
    type Lister = Lister;

    const BATCHES_OPENS: bool = true;

    fn lister(&self) -> Lister {
        self.sync.lister()
    }

    fn stat_path(&self, path: &Path, follow: Follow) -> Result<Meta, Errno> {
        self.sync.stat_path(path, follow)
    }

    fn open_path(&self, path: &Path) -> Result<UringDir, Errno> {
        self.sync.open_path(path).map(UringDir::new)
    }

    fn open_at(&self, parent: &UringDir, name: &CStr, follow: Follow) -> Result<UringDir, Errno> {
        self.sync
            .open_at(&parent.fd, name, follow)
            .map(UringDir::new)
    }

    fn stat_at(&self, dir: &UringDir, name: &CStr, follow: Follow) -> Result<Meta, Errno> {
        self.sync.stat_at(&dir.fd, name, follow)
    }

    fn list(&self, dir: &UringDir, lister: &mut Lister, each: impl FnMut(&CStr)) -> Listing {
        self.sync.list(&dir.fd, lister, each)
    }

    fn symlink_hops(&self, dir: &UringDir, name: &CStr) -> Result<u32, Errno> {
        self.sync.symlink_hops(&dir.fd, name)
    }

    fn path_hops(&self, path: &Path) -> Result<u32, Errno> {
        self.sync.path_hops(path)
    }

    fn fds_per_thread(&self) -> usize {
        // The thread's ring, and the closes it may hold back.
        1 + if self.defer_close { CLOSE_BATCH } else { 0 }
    }

    fn finish_thread(&self) -> Submitted {
        let ring = RING
            .try_with(|cell| match cell.try_borrow_mut() {
                Ok(mut slot) if slot.as_ref().is_some_and(|r| r.owner == self.id) => slot.take(),
                _ => None,
            })
            .ok()
            .flatten();
        match ring {
            Some(mut ring) => {
                ring.flush();
                Submitted {
                    enters: std::mem::take(&mut ring.enters),
                    ops: 0,
                    closes: std::mem::take(&mut ring.closes),
                }
            }
            None => Submitted::default(),
        }
    }

    fn stat_many(
        &self,
        dir: &UringDir,
        names: &[&CStr],
        follow: Follow,
        mut each: impl FnMut(usize, Result<Meta, Errno>),
    ) -> Submitted {
        let mut seen = vec![false; names.len()];
        let dir_fd = dir.fd.as_raw_fd();
        let flags = at_flags(follow);
        let mut submitted = Submitted::default();
        let mask = if self.config.times { MASK_TIMES } else { MASK };
        if self.ops.statx {
            submitted = self.submit_on_ring(|ring| {
                // SAFETY: statx is plain old data: all zeroes is a valid value.
                ring.statx
                    .resize(names.len(), unsafe { std::mem::zeroed::<Statx>() });
                ring.run(
                    names.len(),
                    |ring, i| {
                        let buf: *mut Statx = &mut ring.statx[i];
                        opcode::Statx::new(
                            types::Fd(dir_fd),
                            names[i].as_ptr(),
                            buf.cast::<types::statx>(),
                        )
                        .flags(flags)
                        .mask(mask.bits())
                        .build()
                    },
                    |ring, i, res| {
                        seen[i] = true;
                        each(i, result_of(res).map(|()| meta_of_statx(&ring.statx[i])));
                    },
                );
                seen.iter().filter(|&&s| s).count() as u64
            });
        }
        for (i, name) in names.iter().enumerate() {
            if !seen[i] {
                each(i, self.sync.stat_at(&dir.fd, name, follow));
            }
        }
        submitted
    }

    fn open_many(
        &self,
        parent: &UringDir,
        names: &[&CStr],
        follow: Follow,
        mut each: impl FnMut(usize, Result<UringDir, Errno>),
    ) -> Submitted {
        let mut seen = vec![false; names.len()];
        let dir_fd = parent.fd.as_raw_fd();
        let flags = open_flags(follow);
        let mut submitted = Submitted::default();
        if self.ops.openat {
            submitted = self.submit_on_ring(|ring| {
                ring.run(
                    names.len(),
                    |_, i| {
                        opcode::OpenAt::new(types::Fd(dir_fd), names[i].as_ptr())
                            .flags(flags)
                            .build()
                    },
                    |_, i, res| {
                        seen[i] = true;
                        // SAFETY: a successful openat returned a new
                        // descriptor that nothing else owns.
                        each(
                            i,
                            result_of(res)
                                .map(|()| UringDir::new(unsafe { OwnedFd::from_raw_fd(res) })),
                        );
                    },
                );
                seen.iter().filter(|&&s| s).count() as u64
            });
        }
        for (i, name) in names.iter().enumerate() {
            if !seen[i] {
                each(i, self.open_at(parent, name, follow));
            }
        }
        submitted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    /// The tests count the process's descriptors: one at a time.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn fds() -> usize {
        std::fs::read_dir("/proc/self/fd").unwrap().count()
    }

    #[test]
    fn batches_larger_than_the_ring_match_the_linux_backend() {
        let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let tmp = tempfile::tempdir().unwrap();
        for i in 0..300 {
            std::fs::write(tmp.path().join(format!("f{i}")), vec![b'x'; i]).unwrap();
        }
        std::fs::create_dir(tmp.path().join("d")).unwrap();
        std::os::unix::fs::symlink("d", tmp.path().join("l")).unwrap();
        let ring = match UringBackend::new(UringConfig {
            depth: 4,
            wq_workers: 2,
            times: false,
        }) {
            Ok(ring) => ring,
            Err(e) => {
                eprintln!("SKIPPED: no io_uring here: {e}");
                return;
            }
        };
        let linux = LinuxBackend::default();
        let mut names: Vec<CString> = (0..300)
            .map(|i| CString::new(format!("f{i}")).unwrap())
            .collect();
        names.extend(["d", "l", "missing"].map(|n| CString::new(n).unwrap()));
        let refs: Vec<&CStr> = names.iter().map(|n| n.as_c_str()).collect();
        let dir = ring.open_path(tmp.path()).unwrap();
        let plain = linux.open_path(tmp.path()).unwrap();
        for follow in [Follow::No, Follow::Yes] {
            let mut got: Vec<Option<Result<Meta, Errno>>> = vec![None; refs.len()];
            let submitted = ring.stat_many(&dir, &refs, follow, |i, r| {
                assert!(got[i].is_none(), "entry {i} reported twice");
                got[i] = Some(r);
            });
            assert_eq!(submitted.ops, refs.len() as u64);
            // Depth 4: at least one submission per 4 operations.
            assert!(submitted.enters >= (refs.len() / 4) as u64, "{submitted:?}");
            for (i, name) in refs.iter().enumerate() {
                assert_eq!(
                    got[i],
                    Some(linux.stat_at(&plain, name, follow)),
                    "{name:?}"
                );
            }
        }
        let mut opened: Vec<Option<Result<UringDir, Errno>>> = Vec::new();
        opened.resize_with(3, || None);
        let names = [c"d", c"f1", c"l"];
        let submitted = ring.open_many(&dir, &names, Follow::No, |i, r| opened[i] = Some(r));
        assert_eq!(submitted.ops, 3);
        assert!(matches!(opened[0], Some(Ok(_))));
        for i in [1, 2] {
            let want = linux.open_at(&plain, names[i], Follow::No).map(drop);
            assert!(want.is_err());
            assert_eq!(opened[i].take().unwrap().map(drop), want, "{:?}", names[i]);
        }
    }

    #[test]
    fn rings_without_setup_flags_submit_then_wait() {
        let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let tmp = tempfile::tempdir().unwrap();
        let names: Vec<CString> = (0..50)
            .map(|i| {
                std::fs::write(tmp.path().join(format!("f{i}")), vec![0; i]).unwrap();
                CString::new(format!("f{i}")).unwrap()
            })
            .collect();
        let refs: Vec<&CStr> = names.iter().map(|n| n.as_c_str()).collect();
        let Ok(ring) = UringBackend::new(UringConfig {
            depth: 8,
            wq_workers: 0,
            times: false,
        }) else {
            eprintln!("SKIPPED: no io_uring here");
            return;
        };
        // As on a kernel older than 5.18 (no SUBMIT_ALL).
        ring.level.store(Level::Plain as u8, Ordering::Relaxed);
        let dir = ring.open_path(tmp.path()).unwrap();
        let mut sizes = vec![None; refs.len()];
        let submitted = ring.stat_many(&dir, &refs, Follow::No, |i, r| {
            sizes[i] = Some(r.unwrap().size)
        });
        assert_eq!(submitted.ops, 50);
        assert!(
            ring.describe().contains("no setup flags"),
            "{}",
            ring.describe()
        );
        assert_eq!(sizes, (0..50).map(Some).collect::<Vec<_>>());
    }

    #[test]
    fn an_opcode_the_kernel_lacks_runs_synchronously() {
        let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("f"), b"data").unwrap();
        std::fs::create_dir(tmp.path().join("d")).unwrap();
        let Ok(mut ring) = UringBackend::new(UringConfig::default()) else {
            eprintln!("SKIPPED: no io_uring here");
            return;
        };
        // As the probe would leave them on a kernel without these opcodes.
        ring.ops = Ops {
            statx: false,
            openat: false,
            close: false,
        };
        ring.defer_close = false;
        assert!(ring.describe().ends_with("synchronous: statx openat close"));
        let dir = ring.open_path(tmp.path()).unwrap();
        let names = [c"f", c"d", c"gone"];
        let mut got = Vec::new();
        let submitted = ring.stat_many(&dir, &names, Follow::No, |i, r| {
            got.push((i, r.map(|m| m.size)))
        });
        assert_eq!(
            submitted,
            Submitted::default(),
            "nothing went through the ring"
        );
        got.sort_by_key(|(i, _)| *i);
        assert_eq!(got[0], (0, Ok(4)));
        assert!(got[1].1.is_ok());
        assert_eq!(got[2], (2, Err(Errno::NOENT)));
        let mut opened = 0;
        let submitted = ring.open_many(&dir, &names[1..2], Follow::No, |_, r| {
            r.unwrap();
            opened += 1;
        });
        assert_eq!((submitted, opened), (Submitted::default(), 1));
    }

    #[test]
    fn every_descriptor_is_closed_by_the_time_a_thread_ends() {
        let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let tmp = tempfile::tempdir().unwrap();
        let names: Vec<CString> = (0..100)
            .map(|i| {
                std::fs::create_dir(tmp.path().join(format!("d{i}"))).unwrap();
                CString::new(format!("d{i}")).unwrap()
            })
            .collect();
        let refs: Vec<&CStr> = names.iter().map(|n| n.as_c_str()).collect();
        let Ok(ring) = UringBackend::new(UringConfig::default()) else {
            eprintln!("SKIPPED: no io_uring here");
            return;
        };
        let before = fds();
        std::thread::scope(|s| {
            s.spawn(|| {
                let dir = ring.open_path(tmp.path()).unwrap();
                let mut dirs = Vec::new();
                ring.open_many(&dir, &refs, Follow::No, |_, r| dirs.push(r.unwrap()));
                assert_eq!(dirs.len(), 100);
                // Queued on this thread's ring, submitted in batches, the
                // last ones when the thread is done.
                drop(dirs);
                drop(dir);
                let done = ring.finish_thread();
                assert!(done.closes > 0, "{done:?}");
            });
        });
        assert_eq!(fds(), before, "descriptors left open");
    }
}
