//! The scan's front door: the backend is chosen and built here, in one
//! place, and the walker run on it.
use fdu_platform::{Backend, BackendKind};

use crate::config::Config;
use crate::diag::ExitStatus;
use crate::tree::Totals;
use crate::walk::{scan_with, FileSink, ScanOptions, ScanOutcome};
#[cfg(target_os = "linux")]
use fdu_platform::uring::UringBackend;

/// A scan that ran: on which backend, and what it counted.
pub struct Scanned {
    /// The backend that ran (`auto` may have fallen back).
    pub ran: BackendKind,
    /// The io_uring setup, when the uring backend ran.
    pub ring: Option<String>,
    /// What the walker counted.
    pub outcome: ScanOutcome,
}

/// Scan `config.paths` with `scan` options on the configured backend,
/// passing regular files to `files` and du's lines to `line`.
///
/// When the uring backend cannot start, an explicit `--backend uring` is
/// reported and `Err(1)` returned; `auto` falls back to the linux backend.
pub fn scan_on_backend(
    config: &Config,
    scan: &ScanOptions,
    files: Option<&dyn FileSink>,
    line: &mut dyn FnMut(&Totals, &[u8]),
) -> Result<Scanned, ExitStatus> {
    let mut run = |backend: &dyn ScanWith| backend.scan(scan, &config.paths, files, &mut *line);
    let (ran, ring, outcome) = match config.backend {
        #[cfg(target_os = "linux")]
        BackendKind::Uring => match UringBackend::new(config.uring) {
            Ok(ring) => {
                let outcome = run(&ring);
                (BackendKind::Uring, Some(ring.describe()), outcome)
            }
            Err(e) if config.backend_choice == fdu_platform::BackendChoice::Uring => {
                crate::diag::report(&format!(
                    "cannot use the uring backend: io_uring_setup failed: {e}"
                ));
                return Err(ExitStatus::Partial);
            }
            Err(_) => (
                BackendKind::Linux,
                None,
                run(&fdu_platform::linux::LinuxBackend::default()),
            ),
        },
        #[cfg(target_os = "linux")]
        BackendKind::Linux => (
            BackendKind::Linux,
            None,
            run(&fdu_platform::linux::LinuxBackend::default()),
        ),
        #[cfg(not(target_os = "linux"))]
        BackendKind::Linux | BackendKind::Uring => {
            unreachable!("resolve() never picks a Linux backend here")
        }
        BackendKind::Std => (
            BackendKind::Std,
            None,
            run(&fdu_platform::stdfs::StdBackend),
        ),
    };
    Ok(Scanned { ran, ring, outcome })
}

/// A backend the CLI can scan with: erases the backend type so that the
/// backend is picked at run time.
trait ScanWith {
    fn scan(
        &self,
        scan: &ScanOptions,
        paths: &[Vec<u8>],
        files: Option<&dyn FileSink>,
        line: &mut dyn FnMut(&Totals, &[u8]),
    ) -> ScanOutcome;
}

impl<B: Backend> ScanWith for B {
    fn scan(
        &self,
        scan: &ScanOptions,
        paths: &[Vec<u8>],
        files: Option<&dyn FileSink>,
        line: &mut dyn FnMut(&Totals, &[u8]),
    ) -> ScanOutcome {
        scan_with(self, scan, paths, files, line)
    }
}
