//! The standard streams as the process found them.
//!
//! Rust's runtime opens `/dev/null` on any of descriptors 0-2 that is
//! closed when the program starts (read-write, `O_RDWR`), so a closed
//! stdout (`fdu >&-`) would silently swallow the output. GNU du reports
//! `write error: Bad file descriptor` and exits 1 instead. A shell
//! redirection to `/dev/null` opens it write-only, so a read-write
//! `/dev/null` on descriptor 1 is what the runtime left for a closed one.

/// Whether stdout was closed when the process started: descriptor 1 is
/// `/dev/null` (character device 1:3) opened read-write.
#[cfg(target_os = "linux")]
pub fn stdout_was_closed() -> bool {
    use rustix::fd::AsFd;
    use rustix::fs::{fstat, FileType, OFlags};
    let stdout = std::io::stdout();
    let out = stdout.as_fd();
    let Ok(st) = fstat(out) else {
        return false;
    };
    let null = FileType::from_raw_mode(st.st_mode) == FileType::CharacterDevice
        && rustix::fs::major(st.st_rdev) == 1
        && rustix::fs::minor(st.st_rdev) == 3;
    let read_write =
        rustix::fs::fcntl_getfl(out).is_ok_and(|flags| flags & OFlags::ACCMODE == OFlags::RDWR);
    null && read_write
}

/// Whether stdout was closed when the process started (not detected on
/// this platform).
#[cfg(not(target_os = "linux"))]
pub fn stdout_was_closed() -> bool {
    false
}
