//! The scan's front door: a [`Scan`] says what to walk and how, picks and
//! builds the backend (in this one place), runs the walker with a visitor,
//! and returns a [`Report`] that outlives it.
//!
//! ```no_run
//! let report = fdu::scan::Scan::new(["/usr"]).threads(16).run().expect("a backend");
//! let root = report.tree.roots()[0];
//! println!("{} bytes", report.tree.total(root).disk);
//! ```
//!
//! Nothing here touches the process: raising the descriptor limit,
//! printing errors on stderr and the like are for the binary to opt into
//! ([`Scan::errors`], `fdu_platform::limits::raise_nofile`).
use std::sync::Arc;

use fdu_platform::{Backend, BackendChoice, BackendKind};

use crate::adapt::Workers;
use crate::config::Config;
use crate::count::Count;
use crate::diag::{ErrorSink, ExitStatus, ScanError};
use crate::spread::Spread;
use crate::tree::Tree;
use crate::visit::Visitor;
use crate::walk::{walk_shared, Args, ScanOptions, ScanOutcome};
#[cfg(target_os = "linux")]
use fdu_platform::uring::{UringBackend, UringConfig};

/// A scan to run: paths, du's counting rules ([`ScanOptions`]), the
/// backend, and where errors go.
#[derive(Clone)]
pub struct Scan {
    paths: Vec<Vec<u8>>,
    options: ScanOptions,
    backend: BackendChoice,
    #[cfg(target_os = "linux")]
    uring: UringConfig,
    errors: Arc<dyn ErrorSink + Send>,
}

/// Errors nobody looks at: they are still counted and in the tree.
struct Quiet;

impl ErrorSink for Quiet {
    fn error(&self, _: &ScanError) {}
}

/// Why a scan could not run at all.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ScanFailed {
    /// The backend asked for does not exist here (a usage error).
    Unavailable(String),
    /// The backend asked for could not start (io_uring refused).
    CannotStart(String),
}

impl std::fmt::Display for ScanFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScanFailed::Unavailable(why) | ScanFailed::CannotStart(why) => f.write_str(why),
        }
    }
}

/// What a scan with du's count gives.
pub struct Report {
    /// The retained nodes and their totals.
    pub tree: Tree,
    /// What the walk did (errors, per-worker statistics).
    pub outcome: ScanOutcome,
    /// The backend that ran (`auto` may have fallen back).
    pub ran: BackendKind,
    /// The io_uring setup, when the uring backend ran.
    pub ring: Option<String>,
}

impl Report {
    /// The report of a scan of nothing (no path to scan).
    pub fn empty(ran: BackendKind, separate_dirs: bool) -> Report {
        Report {
            tree: Tree::assemble(Vec::new(), Vec::new(), separate_dirs),
            outcome: ScanOutcome::default(),
            ran,
            ring: None,
        }
    }
}

impl From<Ran<Tree>> for Report {
    /// The report of a scan with du's count ([`Count`], alone or wrapped).
    fn from(ran: Ran<Tree>) -> Report {
        Report {
            tree: ran.result,
            outcome: ran.outcome,
            ran: ran.ran,
            ring: ran.ring,
        }
    }
}

/// A scan with any visitor: what [`Scan::run_with`] gives.
pub struct Ran<T> {
    /// What the visitor's finish made of its workers.
    pub result: T,
    /// What the walk did.
    pub outcome: ScanOutcome,
    /// The backend that ran.
    pub ran: BackendKind,
    /// The io_uring setup, when the uring backend ran.
    pub ring: Option<String>,
}

impl Scan {
    /// A scan of `paths` with du's defaults ([`ScanOptions::default`]), the
    /// `auto` backend, and errors only counted (see [`Scan::errors`]).
    pub fn new<P: AsRef<[u8]>>(paths: impl IntoIterator<Item = P>) -> Scan {
        Scan {
            paths: paths.into_iter().map(|p| p.as_ref().to_vec()).collect(),
            options: ScanOptions::default(),
            backend: BackendChoice::Auto,
            #[cfg(target_os = "linux")]
            uring: UringConfig::default(),
            errors: Arc::new(Quiet),
        }
    }

    /// du's counting rules and the walk's tuning.
    pub fn options(mut self, options: ScanOptions) -> Scan {
        self.options = options;
        self
    }

    /// A fixed number of worker threads (at least one; fewer when the
    /// descriptor limit is too small for them, see
    /// [`crate::walk::FdBudget`]).
    pub fn threads(mut self, threads: usize) -> Scan {
        self.options.workers = Workers::Fixed(threads.max(1));
        self
    }

    /// How many workers run: chosen while the scan runs
    /// ([`Workers::auto`], the default, see [`crate::adapt`]), or fixed.
    pub fn workers(mut self, workers: Workers) -> Scan {
        self.options.workers = workers;
        self
    }

    /// Which backend runs (`Auto` falls back silently when io_uring
    /// cannot start; an explicit choice fails instead).
    pub fn backend(mut self, backend: BackendChoice) -> Scan {
        self.backend = backend;
        self
    }

    /// Ring tuning for the uring backend.
    #[cfg(target_os = "linux")]
    pub fn uring(mut self, uring: UringConfig) -> Scan {
        self.uring = uring;
        self
    }

    /// Where workers run: one placement per worker (see
    /// `fdu_platform::pin`), or none to leave them unpinned.
    pub fn placements(mut self, placements: Vec<fdu_platform::pin::Placement>) -> Scan {
        self.options.placements = placements;
        self
    }

    /// A cap on the directories kept open for waiting tasks (below what
    /// the descriptor limit allows).
    pub fn max_open_dirs(mut self, max: usize) -> Scan {
        self.options.max_open_dirs = Some(max);
        self
    }

    /// Where errors go as they happen (`crate::diag::Stderr` prints du's
    /// lines). Whatever the sink, they are counted in the outcome and
    /// charged to the tree.
    pub fn errors(mut self, sink: Arc<dyn ErrorSink + Send>) -> Scan {
        self.errors = sink;
        self
    }

    /// The scan a command line asked for, its errors printed on stderr as
    /// du prints them.
    pub fn from_config(config: &Config) -> Scan {
        Scan {
            paths: config.paths.clone(),
            options: config.scan.clone(),
            backend: config.backend_choice,
            #[cfg(target_os = "linux")]
            uring: config.uring,
            errors: Arc::new(crate::diag::Stderr),
        }
    }

    /// The options the scan runs with.
    pub fn scan_options(&self) -> &ScanOptions {
        &self.options
    }

    /// Run du's count: the tree of retained nodes and their totals.
    pub fn run(&self) -> Result<Report, ScanFailed> {
        self.run_with(Count::new).map(Report::from)
    }

    /// Run with the visitor `make` builds (it may look at the options and
    /// the stat'ed arguments first); the result is what the visitor makes
    /// of its workers ([`Visitor::finish`]).
    pub fn run_with<'a, V: Visitor>(
        &'a self,
        make: impl FnOnce(&'a ScanOptions, &Args) -> V,
    ) -> Result<Ran<V::Output>, ScanFailed> {
        self.dispatch(Job {
            scan: self,
            make,
            spread: None,
        })
    }

    /// One process of a walk shared with others (see [`crate::spread`]),
    /// with the visitor `make` builds: its states must cross between
    /// processes ([`crate::visit::Visit::carry`]) and mean the same in
    /// each (the visitor numbers what it makes from a base of its own).
    pub fn run_shared<'a, V: Visitor>(
        &'a self,
        make: impl FnOnce(&'a ScanOptions, &Args) -> V,
        spread: &'a dyn Spread,
    ) -> Result<Ran<V::Output>, ScanFailed> {
        self.dispatch(Job {
            scan: self,
            make,
            spread: Some(spread),
        })
    }

    /// Pick the backend, run `job` on it.
    fn dispatch<J: OnBackend>(&self, job: J) -> Result<Ran<J::Output>, ScanFailed> {
        let ready = self.ready();
        if !job.started(ready.is_ok()) {
            return Err(ready.err().unwrap_or_else(|| {
                ScanFailed::CannotStart(
                    "the backend could not start in every process of this scan".into(),
                )
            }));
        }
        let (ran, ring, (result, outcome)) = match ready? {
            #[cfg(target_os = "linux")]
            Ready::Uring(ring) => {
                let describe = ring.describe();
                (BackendKind::Uring, Some(describe), job.on(&*ring))
            }
            #[cfg(target_os = "linux")]
            Ready::Linux => (
                BackendKind::Linux,
                None,
                job.on(&fdu_platform::linux::LinuxBackend::default()),
            ),
            Ready::Std => (
                BackendKind::Std,
                None,
                job.on(&fdu_platform::stdfs::StdBackend),
            ),
        };
        Ok(Ran {
            result,
            outcome,
            ran,
            ring,
        })
    }

    /// The backend to walk with, made.
    fn ready(&self) -> Result<Ready, ScanFailed> {
        let kind = self.backend.resolve().map_err(ScanFailed::Unavailable)?;
        Ok(match kind {
            #[cfg(target_os = "linux")]
            BackendKind::Uring => match UringBackend::new(self.uring) {
                Ok(ring) => Ready::Uring(Box::new(ring)),
                Err(e) if self.backend == BackendChoice::Uring => {
                    return Err(ScanFailed::CannotStart(format!(
                        "cannot use the uring backend: io_uring_setup failed: {e}"
                    )));
                }
                Err(_) => Ready::Linux,
            },
            #[cfg(target_os = "linux")]
            BackendKind::Linux => Ready::Linux,
            #[cfg(not(target_os = "linux"))]
            BackendKind::Linux | BackendKind::Uring => {
                unreachable!("BackendChoice::resolve never picks a Linux backend here")
            }
            BackendKind::Std => Ready::Std,
        })
    }
}

/// A backend made, ready to walk.
enum Ready {
    #[cfg(target_os = "linux")]
    Uring(Box<UringBackend>),
    #[cfg(target_os = "linux")]
    Linux,
    Std,
}

/// What runs once the backend is known.
trait OnBackend {
    /// What the visitor makes of the walk.
    type Output;
    fn on<B: Backend>(self, backend: &B) -> (Self::Output, ScanOutcome);

    /// Whether the walk may go on, `here` telling whether this process's
    /// backend started (a walk shared with others goes on only if every
    /// process's did).
    fn started(&self, here: bool) -> bool {
        here
    }
}

/// One run of [`Scan::run_with`] or [`Scan::run_shared`], waiting for
/// its backend.
struct Job<'a, M> {
    scan: &'a Scan,
    make: M,
    spread: Option<&'a dyn Spread>,
}

impl<'a, V: Visitor, M: FnOnce(&'a ScanOptions, &Args) -> V> OnBackend for Job<'a, M> {
    type Output = V::Output;

    fn on<B: Backend>(self, backend: &B) -> (V::Output, ScanOutcome) {
        let opts: &'a ScanOptions = &self.scan.options;
        let args = Args::stat(backend, opts, &self.scan.paths);
        let visitor = (self.make)(opts, &args);
        let (workers, outcome) = walk_shared(
            backend,
            opts,
            &args,
            &visitor,
            &*self.scan.errors,
            self.spread,
        );
        (visitor.finish(workers), outcome)
    }

    fn started(&self, here: bool) -> bool {
        match self.spread {
            Some(spread) => spread.started(here),
            None => here,
        }
    }
}

/// Report why a scan could not run, as du would, and the exit status it
/// means.
pub fn report_failure(failed: ScanFailed) -> ExitStatus {
    crate::diag::report(&failed.to_string());
    match failed {
        ScanFailed::Unavailable(_) => ExitStatus::Usage,
        ScanFailed::CannotStart(_) => ExitStatus::Partial,
    }
}
