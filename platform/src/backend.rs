use std::ffi::CStr;
use std::path::Path;

use crate::{Errno, Meta};

/// Whether a stat or open follows a symbolic link in the last component.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Follow {
    /// Act on the link itself (`AT_SYMLINK_NOFOLLOW`, `O_NOFOLLOW`): du's default.
    No,
    /// Act on what the link points to (`-L`).
    Yes,
}

/// The directory operations a size scan needs, one method per syscall.
///
/// Every call except [`Backend::open_path`] and [`Backend::stat_path`] is
/// relative to an already open directory: no full path is ever built for a
/// syscall, so trees far deeper than `PATH_MAX` scan like any other (where the
/// backend allows it: [`crate::stdfs`] is path based).
///
/// A `Dir` is shared between workers (one lists it, others stat chunks of its
/// entries), so it is `Sync`; listing one directory is only ever done by one
/// worker at a time.
pub trait Backend: Send + Sync + 'static {
    /// An open directory.
    type Dir: Send + Sync;
    /// Per-worker state for listing directories (the `getdents64` buffer).
    type Lister: Send;

    /// A new listing buffer for one worker.
    fn lister(&self) -> Self::Lister;

    /// Stat a path given on the command line.
    fn stat_path(&self, path: &Path, follow: Follow) -> Result<Meta, Errno>;

    /// Open a directory given on the command line.
    fn open_path(&self, path: &Path) -> Result<Self::Dir, Errno>;

    /// Open the subdirectory `name` of `parent`.
    fn open_at(&self, parent: &Self::Dir, name: &CStr, follow: Follow) -> Result<Self::Dir, Errno>;

    /// Stat the entry `name` of `dir`.
    fn stat_at(&self, dir: &Self::Dir, name: &CStr, follow: Follow) -> Result<Meta, Errno>;

    /// List `dir`, calling `each` with the name of every entry except `.` and
    /// `..`, in the order the file system returns them.
    ///
    /// An error ends the listing; the entries passed to `each` before it
    /// remain valid.
    fn list(&self, dir: &Self::Dir, lister: &mut Self::Lister, each: impl FnMut(&CStr)) -> Listing;

    /// Whether [`Backend::open_many`] opens a batch for less than one call
    /// per directory (the walker then opens the subdirectories of a stat
    /// batch together, as soon as they are known).
    const BATCHES_OPENS: bool = false;

    /// Stat every entry of `names` relative to `dir`, calling `each(i,
    /// result)` exactly once for each `names[i]`, in any order.
    ///
    /// Returns what went through a ring (nothing for a synchronous backend):
    /// the default stats one name at a time with [`Backend::stat_at`].
    fn stat_many(
        &self,
        dir: &Self::Dir,
        names: &[&CStr],
        follow: Follow,
        mut each: impl FnMut(usize, Result<Meta, Errno>),
    ) -> Submitted {
        for (i, name) in names.iter().enumerate() {
            each(i, self.stat_at(dir, name, follow));
        }
        Submitted::default()
    }

    /// Open every subdirectory of `names` relative to `parent`, calling
    /// `each(i, result)` exactly once for each `names[i]`, in any order.
    ///
    /// Returns what went through a ring, as [`Backend::stat_many`].
    fn open_many(
        &self,
        parent: &Self::Dir,
        names: &[&CStr],
        follow: Follow,
        mut each: impl FnMut(usize, Result<Self::Dir, Errno>),
    ) -> Submitted {
        for (i, name) in names.iter().enumerate() {
            each(i, self.open_at(parent, name, follow));
        }
        Submitted::default()
    }

    /// The symbolic links followed to resolve `name` in `dir`, nested links
    /// inside link targets included, or `ELOOP` past
    /// [`crate::hops::MAX_HOPS`] (see [`crate::hops`]). Called under `-L`
    /// for entries that are symbolic links; the default counts one.
    fn symlink_hops(&self, dir: &Self::Dir, name: &CStr) -> Result<u32, Errno> {
        let _ = (dir, name);
        Ok(1)
    }

    /// The symbolic links followed to resolve a path given on the command
    /// line (relative to the working directory), as [`Backend::symlink_hops`].
    fn path_hops(&self, path: &Path) -> Result<u32, Errno> {
        let _ = path;
        Ok(0)
    }

    /// Descriptors each scanning thread may hold besides its directories
    /// (a ring, closes queued on it), so that the walker's descriptor budget
    /// counts them.
    fn fds_per_thread(&self) -> usize {
        0
    }

    /// The calling thread is done with this backend: release what it holds
    /// for the thread (the uring backend submits its queued closes and
    /// closes the thread's ring). Returns what went through a ring since
    /// the thread's previous batched call.
    fn finish_thread(&self) -> Submitted {
        Submitted::default()
    }
}

/// What a batched call ([`Backend::stat_many`], [`Backend::open_many`]) sent
/// through an io_uring, for `--stats`. Operations not counted here were
/// plain syscalls.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Submitted {
    /// `io_uring_enter` calls, including those that submitted queued closes
    /// since the previous batched call of the same thread.
    pub enters: u64,
    /// Operations of this call that ran on the ring.
    pub ops: u64,
    /// Closes run on the ring since the previous batched call of the same
    /// thread.
    pub closes: u64,
}

/// What one [`Backend::list`] did.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Listing {
    /// Read calls issued (`getdents64` for the Linux backend), counted for
    /// `--stats`.
    pub reads: u64,
    /// The error that ended the listing early, if any.
    pub error: Option<Errno>,
}

/// The `--backend` values.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BackendChoice {
    /// The best backend this platform has.
    Auto,
    /// [`crate::linux`]: raw syscalls relative to directory fds (Linux only).
    Linux,
    /// [`crate::stdfs`]: `std::fs`, the portable fallback.
    Std,
    /// `crate::uring`: the Linux backend with stats, opens and closes
    /// batched through io_uring (Linux only).
    Uring,
}

/// A backend that exists on this platform: the result of resolving a
/// [`BackendChoice`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BackendKind {
    /// [`crate::linux::LinuxBackend`].
    Linux,
    /// [`crate::stdfs::StdBackend`].
    Std,
    /// `crate::uring::UringBackend`.
    Uring,
}

impl BackendKind {
    /// The backend's `--backend` name, as `--stats` prints it.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Linux => "linux",
            BackendKind::Std => "std",
            BackendKind::Uring => "uring",
        }
    }
}

impl BackendChoice {
    /// Parse a `--backend` value.
    pub fn parse(text: &str) -> Option<BackendChoice> {
        match text {
            "auto" => Some(BackendChoice::Auto),
            "linux" => Some(BackendChoice::Linux),
            "std" => Some(BackendChoice::Std),
            "uring" => Some(BackendChoice::Uring),
            _ => None,
        }
    }

    /// The backend to run: the one place where the choice is made.
    ///
    /// `Auto` is the Linux backend on Linux and the std one elsewhere. Asking
    /// for `linux` on another platform is an error naming the reason.
    pub fn resolve(self) -> Result<BackendKind, String> {
        match self {
            BackendChoice::Auto if cfg!(target_os = "linux") => Ok(BackendKind::Linux),
            BackendChoice::Auto | BackendChoice::Std => Ok(BackendKind::Std),
            BackendChoice::Linux if cfg!(target_os = "linux") => Ok(BackendKind::Linux),
            BackendChoice::Linux => Err("the linux backend is only available on Linux".to_string()),
            BackendChoice::Uring if cfg!(target_os = "linux") => Ok(BackendKind::Uring),
            BackendChoice::Uring => Err("the uring backend is only available on Linux".to_string()),
        }
    }
}
