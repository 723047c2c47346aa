use std::fmt;
use std::io;

/// An OS error number: `Copy`, cheap to return from the hot path.
///
/// Its [`Display`](fmt::Display) is the system's message without the
/// `(os error N)` suffix std adds, so it reads like du's diagnostics
/// (`Permission denied`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Errno(pub i32);

impl Errno {
    /// `ENOENT`: the entry does not exist (or vanished during the scan).
    pub const NOENT: Errno = Errno(2);
    /// `ENOTDIR`: a path component is not a directory.
    pub const NOTDIR: Errno = Errno(20);
    /// `ELOOP`: too many levels of symbolic links.
    pub const LOOP: Errno = Errno(40);
    /// `ENAMETOOLONG`: a path given to a path-based call is too long.
    pub const NAMETOOLONG: Errno = Errno(36);
    /// `EMFILE`: the process has no file descriptor left.
    pub const MFILE: Errno = Errno(24);
    /// `ENOSYS`: the kernel lacks the call.
    pub const NOSYS: Errno = Errno(38);
    /// `EINVAL`: used for errors that carry no OS number.
    pub const INVAL: Errno = Errno(22);
    /// `EBADF`: a descriptor that is not open.
    pub const BADF: Errno = Errno(9);

    /// The errno of an `io::Error`, or `EINVAL` for errors without one.
    pub fn from_io(err: &io::Error) -> Errno {
        Errno(err.raw_os_error().unwrap_or(Errno::INVAL.0))
    }
}

impl From<io::Error> for Errno {
    fn from(err: io::Error) -> Errno {
        Errno::from_io(&err)
    }
}

#[cfg(target_os = "linux")]
impl From<rustix::io::Errno> for Errno {
    fn from(err: rustix::io::Errno) -> Errno {
        Errno(err.raw_os_error())
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = io::Error::from_raw_os_error(self.0).to_string();
        let text = match text.rfind(" (os error ") {
            Some(cut) => &text[..cut],
            None => &text,
        };
        f.write_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_has_no_os_error_suffix() {
        let msg = Errno::NOENT.to_string();
        assert!(!msg.contains("os error"), "{msg}");
        assert!(!msg.is_empty());
    }
}
