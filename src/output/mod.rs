//! The outputs, one module each (du's lines, `--top`, `--format
//! json`/`prometheus`, the `-o` export, `--stats`, `--compare`'s changes,
//! and while a scan runs
//! its progress on stderr, [`progress`]), and where they go: standard
//! output, with one policy for every report (the outputs and `--dups`):
//! written through a 64 KiB buffer; a reader that went away (`EPIPE`) ends
//! the output quietly; any other write error is reported once, `write
//! error: REASON`, and makes the exit status 1.
use std::io::{self, Write};
use std::time::{Duration, SystemTime};

use crate::config::{Config, Format};
use crate::scan::Report;
use crate::tree::TimeKind;

pub mod compare;
pub mod du;
pub mod json;
pub mod ncdu;
pub mod progress;
pub mod prometheus;
pub mod stats;
pub mod top;

/// Print a size scan's report as the command line asked (du's lines,
/// `--top`, `--format`). Returns whether a write failed for another
/// reason than a reader that went away (reported on stderr).
pub fn print(config: &Config, report: &Report, elapsed: Duration, out: impl Write) -> bool {
    let tree = &report.tree;
    let facts = || {
        let mut facts = ScanFacts::of(report, elapsed);
        if config.import.is_some() {
            // Read from an export (`-f`): no backend ran.
            facts.backend = "export";
            facts.threads = 0;
        }
        facts
    };
    match (config.format, config.top) {
        (Format::Du, None) => du::print(config, tree, out),
        (Format::Du, Some(n)) => top::print(config, tree, n, out),
        (Format::Json, _) => json::print(config, tree, &facts(), out),
        (Format::Prometheus, _) => prometheus::print(config, tree, &facts(), out),
    }
}

/// What the machine-readable outputs say about the scan itself.
#[derive(Clone, Debug)]
pub struct ScanFacts {
    /// The backend that ran (`--backend` name; `export` for `-f`).
    pub backend: &'static str,
    /// Worker threads that ran.
    pub threads: usize,
    /// Entries stat'ed.
    pub entries: u64,
    /// Entries that could not be read (exit status 1 when not 0).
    pub errors: u64,
    /// Wall-clock time of the scan.
    pub duration: Duration,
    /// When the scan finished.
    pub finished: SystemTime,
}

impl ScanFacts {
    /// The facts of `report`, a scan that took `elapsed` and just finished.
    pub fn of(report: &Report, elapsed: Duration) -> ScanFacts {
        ScanFacts {
            backend: report.ran.name(),
            threads: report.outcome.workers.len(),
            entries: report.outcome.sum.entries,
            errors: report.outcome.errors,
            duration: elapsed,
            finished: SystemTime::now(),
        }
    }

    /// When the scan finished, in seconds since the epoch.
    pub fn timestamp(&self) -> f64 {
        self.finished
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    }
}

/// The name of a `--time` kind in the machine-readable outputs.
pub fn time_name(kind: TimeKind) -> &'static str {
    match kind {
        TimeKind::Modified => "mtime",
        TimeKind::Accessed => "atime",
        TimeKind::Changed => "ctime",
    }
}

/// The process's standard output, as the reports write it (from any
/// thread: a streamed scan writes from its workers).
pub struct Stdout {
    out: io::BufWriter<Raw>,
}

/// Standard output under the buffer.
struct Raw {
    stdout: io::Stdout,
    /// Stdout was closed when fdu started (see
    /// `fdu_platform::stdio::stdout_was_closed`): writes fail with `EBADF`,
    /// as du's do.
    closed_at_start: bool,
    /// Erases a progress bar on the same terminal before bytes go out.
    erase: Option<progress::Eraser>,
}

impl Stdout {
    /// Standard output, buffered.
    pub fn new() -> Stdout {
        Stdout {
            out: io::BufWriter::with_capacity(
                64 * 1024,
                Raw {
                    stdout: io::stdout(),
                    closed_at_start: fdu_platform::stdio::stdout_was_closed(),
                    erase: None,
                },
            ),
        }
    }

    /// Standard output written while `meter` may draw: when both are the
    /// same terminal, the bar is erased before each write (and drawn again
    /// at its next tick).
    pub fn beside(meter: &progress::Meter) -> Stdout {
        let mut out = Stdout::new();
        if io::IsTerminal::is_terminal(&io::stdout()) {
            out.out.get_mut().erase = meter.eraser();
        }
        out
    }
}

impl Raw {
    fn check(&self, len: usize) -> io::Result<()> {
        if self.closed_at_start && len > 0 {
            return Err(io::Error::from_raw_os_error(fdu_platform::Errno::BADF.0));
        }
        Ok(())
    }
}

impl Write for Raw {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check(buf.len())?;
        let _bar = self.erase.as_ref().map(progress::Eraser::erase);
        self.stdout.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.check(buf.len())?;
        let _bar = self.erase.as_ref().map(progress::Eraser::erase);
        self.stdout.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stdout.flush()
    }
}

impl Default for Stdout {
    fn default() -> Self {
        Stdout::new()
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.out.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// What a failed write means for the run: `true` when it is an error to
/// report (it has been, on stderr), `false` for a reader that went away.
pub fn write_failed(e: &io::Error) -> bool {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return false;
    }
    crate::diag::report(&format!("write error: {}", fdu_platform::Errno::from_io(e)));
    true
}
