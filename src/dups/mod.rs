//! `fdu --dups`: files with equal contents, and the space they waste.
//!
//! ```text
//!  scan (walk.rs, as for sizes) --Collector--> collect: regular files >= --min-size
//!  inodes: one per (st_dev, st_ino); hard links and repeated paths folded
//!  size groups: 2+ inodes of one size (no other file is ever opened)
//!  pipeline: head -> tail -> full BLAKE3, per group, in parallel
//!  report: groups by wasted bytes, text or JSON
//! ```
//!
//! | module | owns |
//! |---|---|
//! | [`collect`] | the scan's files, inodes, size groups |
//! | [`pipeline`] | reading and hashing, change detection |
//! | [`report`] | ordering and printing |
pub mod collect;
pub mod pipeline;
pub mod report;

use std::io::{self, Write};

use fdu_platform::content::FeedPlan;

use crate::config::Config;
pub use crate::config::{DupsOptions, Io};
use crate::diag::ExitStatus;
use crate::output::progress::Meter;
use crate::scan::{Ran, Scan};
use collect::{Collector, Files};
use pipeline::Settings;
use report::Report;

/// Ranges at least this long are mapped rather than read.
pub const MAP_FROM: u64 = 4 << 20;
/// Bytes mapped at once: small, as mapped pages count in the resident set.
pub const WINDOW: usize = 1 << 20;
/// `pread` buffer of each hashing thread.
pub const BUFFER: usize = 256 << 10;

/// Scan, hash and report, with progress on `meter` (finished before the
/// report is printed); returns the exit status.
pub fn run(config: &Config, dups: &DupsOptions, meter: &Meter) -> ExitStatus {
    let started = std::time::Instant::now();
    let scanned = match scan_files(config, dups, meter) {
        Ok(scanned) => scanned,
        Err(status) => return status,
    };
    let outcome = &scanned.outcome;
    let files = &scanned.result;
    let groups = files.size_groups();
    let size_groups = groups.len();
    let settings = Settings {
        threads: dups.threads,
        plan: FeedPlan {
            map_from: match dups.io {
                Io::Auto => MAP_FROM,
                Io::Read => u64::MAX,
            },
            window: WINDOW,
        },
        buffer: BUFFER,
        pause_at: std::env::var_os("FDU_TEST_PAUSE_HASHING").map(crate::config::os_bytes),
        messages: meter.messages(),
        progress: meter.hashing(dups.threads),
    };
    let hashed = pipeline::find(files, groups, &settings);
    meter.finish();
    let errors = outcome.errors + hashed.stats.errors;
    let report = Report::new(files, hashed.groups, dups.hardlinks, errors);

    let mut out = crate::output::Stdout::new();
    let written = if dups.json {
        report.write_json(&mut out)
    } else {
        report.write_text(config.units, &mut out)
    }
    .and_then(|()| out.flush());
    let failed = written.as_ref().is_err_and(crate::output::write_failed);
    if config.stats {
        crate::output::stats::print_stats(
            config,
            scanned.ran,
            scanned.ring.as_deref(),
            outcome,
            started.elapsed(),
            None,
        );
        let s = &hashed.stats;
        let text = format!(
            "fdu: dups: {} files, {} in {} size groups, {} hashing threads, {} opened, {} left out\n\
             stage  files  bytes\n\
             head   {:>5}  {}\n\
             tail   {:>5}  {}\n\
             full   {:>5}  {}\n",
            files.inodes(),
            files.all().len(),
            size_groups,
            s.threads,
            s.opened,
            s.errors,
            s.head.0,
            s.head.1,
            s.tail.0,
            s.tail.1,
            s.full.0,
            s.full.1,
        );
        let _ = io::stderr().lock().write_all(text.as_bytes());
    }
    if errors > 0 || failed {
        ExitStatus::Partial
    } else {
        ExitStatus::Ok
    }
}

/// The scan with the collector, on the configured backend.
fn scan_files(
    config: &Config,
    dups: &DupsOptions,
    meter: &Meter,
) -> Result<Ran<Files>, ExitStatus> {
    let scan = Scan::from_config(config).errors(meter.errors());
    meter
        .run(&scan, |_, _| Collector::new(dups.min_size, dups.hardlinks))
        .map_err(crate::scan::report_failure)
}
