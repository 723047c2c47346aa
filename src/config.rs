//! A resolved invocation: what the command line asked for, as the scan,
//! the outputs and `--dups` take it. `cli` builds it; nothing here parses.
use std::ffi::OsString;

use fdu_platform::pin::{PinMode, Topology};
use fdu_platform::{BackendChoice, BackendKind};

use crate::timefmt::TimeFormat;
use crate::tree::{TimeKind, Totals};
use crate::units::Units;
use crate::walk::ScanOptions;
#[cfg(target_os = "linux")]
use fdu_platform::uring::UringConfig;

/// What is counted: du's `--apparent-size`, `--inodes` or disk usage.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Measure {
    /// Allocated bytes (the default).
    Disk,
    /// `st_size` (`--apparent-size`, `-b`).
    Apparent,
    /// Entries (`--inodes`).
    Inodes,
}

impl Measure {
    /// The number this measure takes from `totals`.
    pub fn of(self, totals: &Totals) -> u64 {
        match self {
            Measure::Disk => totals.disk,
            Measure::Apparent => totals.apparent,
            Measure::Inodes => totals.inodes,
        }
    }
}

/// Which output prints the sizes (`--format`; `--json` is `--format json`).
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub enum Format {
    /// du's lines (the default).
    #[default]
    Du,
    /// One JSON document: the tree, exact bytes (`output::json`).
    Json,
    /// A Prometheus text-format file (`output::prometheus`).
    Prometheus,
}

impl Format {
    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Du => "du",
            Format::Json => "json",
            Format::Prometheus => "prometheus",
        }
    }

    /// The format named `name` (`du`, `json`, `prometheus`).
    pub fn from_name(name: &str) -> Option<Format> {
        [Format::Du, Format::Json, Format::Prometheus]
            .into_iter()
            .find(|f| f.name() == name)
    }
}

/// A fully resolved invocation.
#[derive(Clone, Debug)]
pub struct Config {
    /// Scan options handed to the walker.
    pub scan: ScanOptions,
    /// What is counted.
    pub measure: Measure,
    /// How numbers are printed.
    pub units: Units,
    /// Print a grand total (`-c`).
    pub total: bool,
    /// End lines with NUL (`-0`).
    pub null: bool,
    /// The backend asked for (`auto` falls back silently when its first
    /// pick cannot run; an explicit choice fails instead).
    pub backend_choice: BackendChoice,
    /// The backend that runs, unless it cannot start (see `backend_choice`).
    pub backend: BackendKind,
    /// Ring tuning for the uring backend.
    #[cfg(target_os = "linux")]
    pub uring: UringConfig,
    /// How workers are pinned (`--pin`), resolved against the topology.
    pub pin: PinMode,
    /// The CPU topology the workers were placed on.
    pub topology: Topology,
    /// Paths to scan, as given (default `.`).
    pub paths: Vec<Vec<u8>>,
    /// Print scan statistics on stderr (`--stats`).
    pub stats: bool,
    /// Report duplicate files instead of sizes (`--dups`).
    pub dups: Option<DupsOptions>,
    /// Export the scan instead of printing sizes (`-o FILE`).
    pub export: Option<ExportOptions>,
    /// Report from this export instead of scanning (`-f FILE`, `-` for
    /// stdin).
    pub import: Option<Vec<u8>>,
    /// `--compare OLD`: print what changed from OLD (an export, `-` for
    /// stdin, or a directory scanned now) to the one path of `paths`.
    pub compare: Option<Vec<u8>>,
    /// `-t`: print only entries of at least this size (or count, with
    /// `--inodes`), or at most its absolute value when negative; 0 prints all.
    pub threshold: i64,
    /// `--time`: print each entry's latest time, so.
    pub time: Option<TimeOptions>,
    /// `--files0-from=F`: read the paths from F (`-` for stdin), NUL-separated.
    pub files0_from: Option<Vec<u8>>,
    /// Warnings to print before the scan (du's `warning: ...`).
    pub warnings: Vec<String>,
    /// Which output prints the sizes (`--format`, `--json`).
    pub format: Format,
    /// `--top N`: only the N largest of the lines du would print, largest
    /// first.
    pub top: Option<usize>,
    /// `--progress` / `--no-progress`, the last one given.
    pub progress: Toggle,
    /// `--checkpoint FILE`: keep the scan's state as it goes.
    pub checkpoint: Option<CheckpointOptions>,
    /// `--resume FILE`: finish the scan of this checkpoint (the rest of
    /// the configuration is the checkpoint's).
    pub resume: Option<Vec<u8>>,
    /// `--mpi`: one scan over the ranks of an MPI job (`crate::ranks`).
    pub mpi: bool,
}

/// `--checkpoint FILE`, `--checkpoint-interval SECS`.
#[derive(Clone, Debug)]
pub struct CheckpointOptions {
    /// Where the checkpoint is kept.
    pub file: Vec<u8>,
    /// How often one is taken.
    pub interval: std::time::Duration,
    /// The command line after the program's name, as given: a resumed
    /// scan parses it again.
    pub argv: Vec<Vec<u8>>,
}

/// An option with an on and an off switch, the last one given winning,
/// and a default that depends on where the run is.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Toggle {
    /// Neither was given.
    #[default]
    Auto,
    /// Turned on.
    On,
    /// Turned off.
    Off,
}

/// `-o FILE`: an export in ncdu's JSON format.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// Where it goes: `-` is stdout.
    pub file: Vec<u8>,
    /// `-e`: owner, group, mode and modification time of every entry.
    pub extended: bool,
}

/// How `--time` prints times: which one, and in which format.
#[derive(Clone, Debug)]
pub struct TimeOptions {
    /// Which time.
    pub kind: TimeKind,
    /// The strftime-like format.
    pub format: TimeFormat,
}

/// How file contents are read by the full-hash stage.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Io {
    /// Map long ranges in windows, `pread` the rest (the default).
    Auto,
    /// Always `pread`.
    Read,
}

/// `--dups` options, resolved.
#[derive(Clone, Debug)]
pub struct DupsOptions {
    /// Skip files smaller than this (`--min-size`, default 1: no empty files).
    pub min_size: u64,
    /// List multiply-linked files too (`--hardlinks`).
    pub hardlinks: bool,
    /// One JSON document instead of text (`--json`).
    pub json: bool,
    /// Hashing threads (`-j`, else one per CPU).
    pub threads: usize,
    /// How contents are read (hidden `--hash-io`, for measurements).
    pub io: Io,
}

#[cfg(unix)]
pub(crate) fn os_bytes(s: OsString) -> Vec<u8> {
    std::os::unix::ffi::OsStringExt::into_vec(s)
}

#[cfg(not(unix))]
pub(crate) fn os_bytes(s: OsString) -> Vec<u8> {
    s.to_string_lossy().into_owned().into_bytes()
}
