//! Where reports go (and, while a scan runs, its progress on stderr,
//! [`progress`]): standard output, with one policy for every report
//! (du's lines, `--dups`): written through a 64 KiB buffer; a reader that
//! went away (`EPIPE`) ends the output quietly; any other write error is
//! reported once, `write error: REASON`, and makes the exit status 1.
use std::io::{self, Write};

pub mod du;
pub mod progress;
pub mod stats;

/// The process's standard output, as the reports write it.
pub struct Stdout {
    out: io::BufWriter<io::StdoutLock<'static>>,
    /// Stdout was closed when fdu started (see
    /// `fdu_platform::stdio::stdout_was_closed`): writes fail with `EBADF`,
    /// as du's do.
    closed_at_start: bool,
}

impl Stdout {
    /// Standard output, buffered.
    pub fn new() -> Stdout {
        Stdout {
            out: io::BufWriter::with_capacity(64 * 1024, io::stdout().lock()),
            closed_at_start: fdu_platform::stdio::stdout_was_closed(),
        }
    }

    fn check(&self, len: usize) -> io::Result<()> {
        if self.closed_at_start && len > 0 {
            return Err(io::Error::from_raw_os_error(fdu_platform::Errno::BADF.0));
        }
        Ok(())
    }
}

impl Default for Stdout {
    fn default() -> Self {
        Stdout::new()
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check(buf.len())?;
        self.out.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.check(buf.len())?;
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
