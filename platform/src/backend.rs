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
}

/// A backend that exists on this platform: the result of resolving a
/// [`BackendChoice`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BackendKind {
    /// [`crate::linux::LinuxBackend`].
    Linux,
    /// [`crate::stdfs::StdBackend`].
    Std,
}

impl BackendKind {
    /// The backend's `--backend` name, as `--stats` prints it.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Linux => "linux",
            BackendKind::Std => "std",
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
        }
    }
}
