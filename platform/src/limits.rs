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

/// How many descriptors the process has open now (stdio, inherited ones,
/// rings...), so that a budget of new ones can be taken from what the limit
/// leaves. Counted from `/proc/self/fd`; where that cannot be read, the
/// three standard streams are assumed.
pub fn open_fds() -> usize {
    match std::fs::read_dir("/proc/self/fd") {
        // The listing's own descriptor is one of the entries.
        Ok(entries) => entries.count().saturating_sub(1).max(3),
        Err(_) => 3,
    }
}
