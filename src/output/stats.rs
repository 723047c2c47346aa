//! `--stats`: what a scan did, on stderr.
use std::io::{self, Write};

use fdu_platform::BackendKind;

use crate::adapt::{History, Why};
use crate::config::Config;
use crate::walk::{ScanOutcome, WorkerStats};

/// `--stats`: what the scan did (on backend `ran`, with io_uring setup
/// `ring`), on stderr, after the output.
pub fn print_stats(
    config: &Config,
    ran: BackendKind,
    ring: Option<&str>,
    outcome: &ScanOutcome,
    elapsed: std::time::Duration,
    carried: Option<u64>,
) {
    let s = &outcome.sum;
    let secs = elapsed.as_secs_f64();
    let mut text = format!(
        "fdu: stats: backend {}, {} threads, pin {}\n",
        ran.name(),
        outcome.workers.len(),
        config.pin.name(),
    );
    if let Some(ring) = ring {
        text.push_str(&format!("io_uring     {ring}\n"));
    }
    if let Some(history) = &outcome.concurrency {
        text.push_str(&concurrency(history));
    }
    if let Some(carried) = carried {
        text.push_str(&format!(
            "resumed      {carried} entries carried over from the checkpoint, {} stat'ed now\n",
            s.entries
        ));
    }
    text.push_str(&body(s, secs));
    text.push_str("worker  entries  dirs  steals  cpus\n");
    for (i, w) in outcome.workers.iter().enumerate() {
        let cpus = config
            .scan
            .placements
            .get(i)
            .map_or_else(|| "any".to_string(), |p| cpu_list(&p.cpus));
        text.push_str(&format!(
            "{i:>6}  {:>7}  {:>4}  {:>6}  {cpus}\n",
            w.entries, w.dirs, w.steals
        ));
    }
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

/// The counts every `--stats` shows: entries, errors, time, syscalls.
fn body(s: &WorkerStats, secs: f64) -> String {
    let rate = if secs > 0.0 {
        s.entries as f64 / secs
    } else {
        0.0
    };
    format!(
        "entries      {}\n\
         directories  {}\n\
         errors       {}\n\
         elapsed      {:.3} s\n\
         entries/s    {:.0}\n\
         syscalls     openat {}  getdents64 {}  fstatat {}  close {}  io_uring_enter {}\n\
         ring ops     statx {}  openat {}  close {}\n",
        s.entries,
        s.dirs,
        s.errors,
        secs,
        rate,
        s.openat - s.ring_openat,
        s.getdents,
        s.stat - s.ring_stat,
        s.openat.saturating_sub(s.ring_close),
        s.uring_enter,
        s.ring_stat,
        s.ring_openat,
        s.ring_close,
    )
}

/// `--stats` of a scan spread over MPI ranks (`crate::ranks`): one line per
/// rank (its counts and the tasks it took from other ranks), then the
/// counts of the whole job.
pub fn print_ranks(
    config: &Config,
    (ran, ring): (BackendKind, Option<&str>),
    ranks: &[(WorkerStats, usize)],
    sum: &WorkerStats,
    elapsed: std::time::Duration,
) {
    let mut text = format!(
        "fdu: stats: backend {}, {} ranks, pin {}\n",
        ran.name(),
        ranks.len(),
        config.pin.name(),
    );
    if let Some(ring) = ring {
        text.push_str(&format!("io_uring     {ring}\n"));
    }
    let threads: usize = ranks.iter().map(|(_, t)| t).sum();
    for (r, (s, _)) in ranks.iter().enumerate() {
        text.push_str(&format!(
            "rank {r}: {} entries, {} directories, {} steals\n",
            s.entries, s.dirs, s.steals
        ));
    }
    text.push_str(&format!(
        "threads      {threads} over {} ranks\n",
        ranks.len()
    ));
    text.push_str(&body(sum, elapsed.as_secs_f64()));
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

/// `--stats`' words for [`Why::Joined`].
const JOINED: &str = "the slower storage is everyone's: the workers that ran";

/// What `-j auto`'s controller did: the range of workers it let run, its
/// probes, and each change it kept.
fn concurrency(h: &History) -> String {
    let kept = h
        .changes
        .iter()
        .filter(|c| matches!(c.why, Why::Kept { .. }))
        .count();
    let undone = h
        .changes
        .iter()
        .filter(|c| matches!(c.why, Why::Undone { .. } | Why::Inconclusive))
        .count();
    let ramp = h
        .changes
        .iter()
        .filter(|c| matches!(c.why, Why::Ramp { .. }))
        .count();
    let mut text = format!(
        "workers      auto: started with {}, ran {} to {}, ended with {}; {} windows measured, {} ramp steps, {} probes kept, {} undone\n",
        h.start, h.low, h.high, h.end, h.windows, ramp, kept, undone
    );
    if h.beyond > 0 {
        text.push_str(&format!(
            "             up to {} more ran in place of workers waiting on a slower storage than the others'\n",
            h.beyond
        ));
    }
    // Each verdict: the probe it judged, and the rates around and during
    // its trial.
    let mut tried = None;
    for c in &h.changes {
        let (verdict, rates) = match c.why {
            Why::Probe => {
                tried = Some(c.to);
                continue;
            }
            Why::Back => continue,
            Why::Ramp { .. } | Why::Ramped { .. } | Why::Joined => {
                let what = match c.why {
                    Why::Ramp { rate } => format!("ramp at {rate:.0} requests/s"),
                    Why::Ramped { rate } => format!("ramp over: {rate:.0} requests/s"),
                    // A probe under way is dropped with the rest of the
                    // measuring: its count is the `from`.
                    _ if tried.take().is_some() => {
                        JOINED.to_owned() + " (a probe's count, not judged)"
                    }
                    _ => JOINED.to_owned(),
                };
                text.push_str(&format!(
                    "  {:>8.3} s  {:>4} -> {:<4} {what}\n",
                    c.at.as_secs_f64(),
                    c.from,
                    c.to
                ));
                continue;
            }
            Why::Kept { before, after } => ("kept", Some((before, after))),
            Why::Undone { before, after } => ("undone", Some((before, after))),
            Why::Inconclusive => ("undone, workers idle", None),
        };
        // An inconclusive probe is undone from wherever it stood.
        let from = if rates.is_none() { c.to } else { c.from };
        let to = tried.take().unwrap_or(c.to);
        let rates = rates.map_or(String::new(), |(before, after)| {
            format!(": {before:.0} -> {after:.0} requests/s")
        });
        text.push_str(&format!(
            "  {:>8.3} s  {from:>4} -> {to:<4} {verdict}{rates}\n",
            c.at.as_secs_f64(),
        ));
    }
    text
}

/// CPUs as a cpulist (`0-3,8`).
fn cpu_list(cpus: &[usize]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < cpus.len() {
        let mut j = i;
        while j + 1 < cpus.len() && cpus[j + 1] == cpus[j] + 1 {
            j += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        if j > i {
            out.push_str(&format!("{}-{}", cpus[i], cpus[j]));
        } else {
            out.push_str(&cpus[i].to_string());
        }
        i = j + 1;
    }
    if out.is_empty() {
        out.push_str("any");
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::adapt::Change;

    fn change(ms: u64, from: usize, to: usize, why: Why) -> Change {
        Change {
            at: Duration::from_millis(ms),
            from,
            to,
            why,
        }
    }

    #[test]
    fn each_verdict_names_the_counts_it_moved_between() {
        let h = History {
            start: 16,
            low: 4,
            high: 21,
            end: 21,
            windows: 9,
            changes: vec![
                change(58, 16, 4, Why::Ramp { rate: 13445.0 }),
                change(300, 4, 8, Why::Probe),
                change(400, 8, 4, Why::Back),
                change(
                    400,
                    4,
                    4,
                    Why::Undone {
                        before: 14000.0,
                        after: 12000.0,
                    },
                ),
                change(450, 4, 16, Why::Probe),
                change(513, 16, 21, Why::Joined),
            ],
            beyond: 5,
        };
        let text = concurrency(&h);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert!(
            lines[0].contains("started with 16, ran 4 to 21, ended with 21"),
            "{text}"
        );
        assert!(lines[1].contains("up to 5 more ran"), "{text}");
        assert!(
            lines[2].contains("16 -> 4    ramp at 13445 requests/s"),
            "{text}"
        );
        assert!(
            lines[3].contains("4 -> 8    undone: 14000 -> 12000 requests/s"),
            "{text}"
        );
        assert!(
            lines[4].ends_with("16 -> 21   the slower storage is everyone's: the workers that ran (a probe's count, not judged)"),
            "{text}"
        );
    }
}
