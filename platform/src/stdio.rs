//! The standard streams as the process found them.
//!
//! Rust's runtime opens `/dev/null` on any of descriptors 0-2 that is
//! closed when the program starts, so a closed stdout (`fdu >&-`) would
//! silently swallow the output. GNU du reports `write error: Bad file
//! descriptor` and exits 1 instead. On Linux a constructor run from the
//! ELF `.init_array`, before `main` and before the runtime's own start
//! (where it reopens those descriptors), asks whether descriptor 1 is open
//! and records the answer. A stdout that is open on `/dev/null`, however it
//! was opened (`> /dev/null`, `1<>/dev/null`, Python's
//! `subprocess.DEVNULL`, systemd's `StandardOutput=null`), is not a closed
//! one.
#![allow(unsafe_code)]

#[cfg(target_os = "linux")]
use std::sync::atomic::{AtomicBool, Ordering};

/// Set before `main` by [`record_stdout`] when descriptor 1 was closed.
#[cfg(target_os = "linux")]
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Records whether descriptor 1 is closed, before the runtime puts
/// `/dev/null` on it. Runs before `main`: no allocation, no panic, no use
/// of std's I/O, one `fcntl`.
#[cfg(target_os = "linux")]
#[ctor::ctor(unsafe)]
fn record_stdout() {
    // SAFETY: `fcntl(F_GETFD)` takes any integer as a descriptor and only
    // reads its flags: a closed one fails with `EBADF`, and nothing is
    // borrowed or changed. The C library is initialized before the
    // `.init_array` functions run.
    let closed = unsafe { libc::fcntl(libc::STDOUT_FILENO, libc::F_GETFD) } == -1
        && std::io::Error::last_os_error().raw_os_error() == Some(libc::EBADF);
    STDOUT_CLOSED.store(closed, Ordering::Relaxed);
}

/// Whether stdout (descriptor 1) was closed when the process started, as
/// recorded before `main`.
#[cfg(target_os = "linux")]
pub fn stdout_was_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// Whether stdout was closed when the process started (not detected on
/// this platform).
#[cfg(not(target_os = "linux"))]
pub fn stdout_was_closed() -> bool {
    false
}
