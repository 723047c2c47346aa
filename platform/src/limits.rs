//! Process limits that bound the scan: open file descriptors.

/// Raise the soft `RLIMIT_NOFILE` to the hard limit and return the soft limit
/// now in force, so the scan can budget its open directory fds.
///
/// Never fails: where the limit cannot be read or raised, the current (or a
/// conservative) value is returned.
#[cfg(target_os = "linux")]
pub fn raise_nofile() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let lim = getrlimit(Resource::Nofile);
    let hard = lim.maximum;
    if lim.current != hard {
        let raised = rustix::process::Rlimit {
            current: hard,
            maximum: hard,
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            return hard.unwrap_or(u64::MAX);
        }
    }
    lim.current.unwrap_or(u64::MAX)
}

/// Raise the soft `RLIMIT_NOFILE` to the hard limit and return the soft limit
/// now in force (a conservative guess on this platform).
#[cfg(not(target_os = "linux"))]
pub fn raise_nofile() -> u64 {
    256
}

/// Let glibc's `malloc` keep at most `arenas` arenas (`M_ARENA_MAX`),
/// unless `MALLOC_ARENA_MAX` is set in the environment (that choice wins).
///
/// glibc gives threads up to eight arenas per CPU by default; each keeps
/// the memory freed into it, so a scan whose workers allocate and free
/// many small nodes (fdu's streamed output) peaks higher than what it
/// holds. A no-op where the C library is not glibc.
#[allow(unsafe_code)]
pub fn cap_malloc_arenas(arenas: usize) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let arenas = libc::c_int::try_from(arenas.max(1)).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only sets a tuning parameter of the allocator;
        // M_ARENA_MAX with a positive value is valid at any time, also
        // while other threads allocate.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = arenas;
}

/// The soft `RLIMIT_NOFILE` in force: how many descriptors the scan may
/// budget. A library caller that wants more raises it first (the `fdu`
/// binary does, with [`raise_nofile`]).
#[cfg(target_os = "linux")]
pub fn current_nofile() -> u64 {
    use rustix::process::{getrlimit, Resource};
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// The soft `RLIMIT_NOFILE` in force (a conservative guess on this
/// platform).
#[cfg(not(target_os = "linux"))]
pub fn current_nofile() -> u64 {
    256
}

/// Descriptors this process can still open: the soft `RLIMIT_NOFILE` less
/// the descriptors open now (stdio, and whatever else is) numbered below
/// it, as a new descriptor takes the lowest free number
/// ([open(2)](https://man7.org/linux/man-pages/man2/open.2.html)).
/// `None` where that cannot be told (no `/proc`, or another platform).
#[cfg(target_os = "linux")]
pub fn free_fds() -> Option<u64> {
    use rustix::process::{getrlimit, Resource};
    let limit = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
    let mut open = 0u64;
    for entry in std::fs::read_dir("/proc/self/fd").ok()? {
        let name = entry.ok()?.file_name();
        let fd: u64 = name.to_str()?.parse().ok()?;
        if fd < limit {
            open += 1;
        }
    }
    // The listing's own descriptor was among them, and is closed now.
    Some(limit.saturating_sub(open.saturating_sub(1)))
}

/// Descriptors this process can still open (not known on this platform).
#[cfg(not(target_os = "linux"))]
pub fn free_fds() -> Option<u64> {
    None
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn an_opened_file_takes_one_free_descriptor() {
        // Other tests open files meanwhile: one quiet try of many is enough.
        let quiet = (0..100).any(|_| {
            let before = super::free_fds().expect("/proc/self/fd");
            let f = std::fs::File::open("/proc/self/status").expect("open");
            let during = super::free_fds().expect("/proc/self/fd");
            drop(f);
            let after = super::free_fds().expect("/proc/self/fd");
            before == after && during + 1 == before
        });
        assert!(quiet);
    }
}
