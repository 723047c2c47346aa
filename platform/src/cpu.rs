//! CPU time: what this process used, and how busy the whole machine was.
//!
//! The walker's concurrency controller (`-j auto`) reads both at the end of
//! each measuring window: more workers help only while the CPUs have time
//! left for them, whoever else (a local file server, another job) uses them.

use std::time::Duration;

/// CPU time at one instant. Differences of two samples tell what a window
/// used: see [`CpuTimes::since`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuTimes {
    /// CPU time this process has used, in user and system mode, all threads.
    pub process: Duration,
    /// The machine's busy time over all CPUs since boot (`/proc/stat`: all
    /// but idle and iowait), where known.
    pub machine_busy: Option<Duration>,
    /// The machine's busy and idle time over all CPUs since boot, where
    /// known.
    pub machine_total: Option<Duration>,
}

/// What a window between two [`CpuTimes`] used.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CpuUse {
    /// CPUs this process kept busy on average (1.5: one and a half CPUs).
    pub process: f64,
    /// Share of the machine's CPU time that was busy, 0 to 1, where known.
    pub machine: Option<f64>,
}

impl CpuTimes {
    /// Now.
    pub fn now() -> CpuTimes {
        let (machine_busy, machine_total) = match machine() {
            Some((busy, total)) => (Some(busy), Some(total)),
            None => (None, None),
        };
        CpuTimes {
            process: process(),
            machine_busy,
            machine_total,
        }
    }

    /// What was used from `earlier` to `self`, `wall` apart.
    pub fn since(&self, earlier: &CpuTimes, wall: Duration) -> CpuUse {
        let wall = wall.as_secs_f64();
        let process = if wall > 0.0 {
            self.process.saturating_sub(earlier.process).as_secs_f64() / wall
        } else {
            0.0
        };
        let machine = match (
            self.machine_busy,
            earlier.machine_busy,
            self.machine_total,
            earlier.machine_total,
        ) {
            (Some(b1), Some(b0), Some(t1), Some(t0)) if t1 > t0 => {
                Some(b1.saturating_sub(b0).as_secs_f64() / (t1 - t0).as_secs_f64())
            }
            _ => None,
        };
        CpuUse { process, machine }
    }
}

/// This process's CPU time (`CLOCK_PROCESS_CPUTIME_ID`).
#[cfg(target_os = "linux")]
fn process() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// This process's CPU time: not measured on this platform.
#[cfg(not(target_os = "linux"))]
fn process() -> Duration {
    Duration::ZERO
}

/// The machine's busy and total CPU time, from the first line of
/// `/proc/stat`.
fn machine() -> Option<(Duration, Duration)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    parse_proc_stat(&text)
}

/// `cpu  user nice system idle iowait irq softirq steal ...` in clock ticks
/// (`USER_HZ`, 100 on Linux): busy is all but idle and iowait (a CPU
/// waiting for I/O is free to run a worker).
fn parse_proc_stat(text: &str) -> Option<(Duration, Duration)> {
    let line = text.lines().next()?;
    let mut fields = line.split_ascii_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    // guest and guest_nice are already counted in user and nice.
    let ticks: Vec<u64> = fields
        .take(8)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    if ticks.len() < 5 {
        return None;
    }
    let total: u64 = ticks.iter().sum();
    let free = ticks[3] + ticks[4];
    // 10 ms a tick, in u64: all CPUs' ticks since boot pass u32 within
    // days on a large machine.
    let ms = |ticks: u64| Duration::from_millis(ticks.saturating_mul(10));
    Some((ms(total.saturating_sub(free)), ms(total)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_counts_idle_and_iowait_as_free() {
        let text = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4 5\n";
        let (busy, total) = parse_proc_stat(text).expect("parsed");
        assert_eq!(busy, Duration::from_millis(1500));
        assert_eq!(total, Duration::from_millis(10_000));
        // A large machine, long up: more ticks than a u32 holds.
        let big = "cpu  5000000000 0 0 5000000000 0 0 0 0\n";
        let (busy, total) = parse_proc_stat(big).expect("parsed");
        assert_eq!((busy * 2).as_millis(), total.as_millis());
        assert_eq!(parse_proc_stat("intr 1 2 3\n"), None);
        assert_eq!(parse_proc_stat("cpu  1 x 3 4 5\n"), None);
    }

    #[test]
    fn a_window_shows_what_it_used() {
        let t0 = CpuTimes {
            process: Duration::from_millis(100),
            machine_busy: Some(Duration::from_millis(1000)),
            machine_total: Some(Duration::from_millis(2000)),
        };
        let t1 = CpuTimes {
            process: Duration::from_millis(250),
            machine_busy: Some(Duration::from_millis(1180)),
            machine_total: Some(Duration::from_millis(2200)),
        };
        let used = t1.since(&t0, Duration::from_millis(100));
        assert!((used.process - 1.5).abs() < 1e-9);
        assert!((used.machine.expect("known") - 0.9).abs() < 1e-9);
        let now = CpuTimes::now();
        if cfg!(target_os = "linux") {
            assert!(now.machine_total.is_some());
        }
    }
}
