//! `--format prometheus`: totals as a Prometheus text-format file, for
//! node_exporter's textfile collector (write it to a temporary name in the
//! collector's directory, then rename it).
//!
//! One gauge family per measure, one sample per line du would print for
//! the same `-d`/`-s`/`-a`/`-S`/`-t` (depth 0 when none of `-d`, `-s`,
//! `-a` is given), labelled with its path:
//!
//! ```text
//! # HELP fdu_disk_bytes Disk usage in bytes (allocated blocks) of the path and everything below it, as du counts it.
//! # TYPE fdu_disk_bytes gauge
//! fdu_disk_bytes{path="/srv/data"} 1234567
//! ```
//!
//! Families: `fdu_disk_bytes`, `fdu_apparent_bytes`, `fdu_files`,
//! `fdu_directories`, `fdu_errors`; with `--time[=WORD]` also
//! `fdu_mtime_seconds` (`fdu_atime_seconds`, `fdu_ctime_seconds`); with
//! `-c` the grand total as `fdu_total_disk_bytes`, `fdu_total_apparent_bytes`,
//! `fdu_total_files`, `fdu_total_directories`, `fdu_total_errors`; always
//! the scan's `fdu_scan_duration_seconds`, `fdu_scan_entries`,
//! `fdu_scan_errors` and `fdu_last_scan_timestamp_seconds`. No sample
//! carries a timestamp (the textfile collector refuses them).
//!
//! Label values are escaped as the exposition format says (`\\`, `\"`,
//! `\n`; every other character as it is). They must be UTF-8: a path that
//! is not has its invalid bytes replaced by U+FFFD in `path`, and a second
//! label, `path_hex`, holds every byte of the path in lower-case hex, so
//! that two such paths never make one series.
use std::io::{self, Write};

use crate::config::Config;
use crate::output::du::within_threshold;
use crate::output::ScanFacts;
use crate::tree::{Stamp, Totals, Tree};

/// A per-path family: name, help, and the value of a node's totals.
struct Family {
    name: String,
    help: &'static str,
    value: fn(&Totals) -> Option<String>,
}

fn count(n: u64) -> Option<String> {
    Some(n.to_string())
}

fn seconds(t: Stamp) -> Option<String> {
    (t != Stamp::MIN).then(|| (t.sec as f64 + f64::from(t.nsec) / 1e9).to_string())
}

/// Print `tree`'s totals as a Prometheus text file to `out`. Returns
/// whether a write failed for another reason than a reader that went away
/// (reported).
pub fn print(config: &Config, tree: &Tree, facts: &ScanFacts, mut out: impl Write) -> bool {
    match write(config, tree, facts, &mut out).and_then(|()| out.flush()) {
        Ok(()) => false,
        Err(e) => crate::output::write_failed(&e),
    }
}

fn write(config: &Config, tree: &Tree, facts: &ScanFacts, out: &mut impl Write) -> io::Result<()> {
    let mut families = vec![
        Family {
            name: "fdu_disk_bytes".into(),
            help: "Disk usage in bytes (allocated blocks) of the path and everything below it, as du counts it.",
            value: |t| count(t.disk),
        },
        Family {
            name: "fdu_apparent_bytes".into(),
            help: "Apparent size in bytes (st_size) of the path and everything below it, as du --apparent-size counts it.",
            value: |t| count(t.apparent),
        },
        Family {
            name: "fdu_files".into(),
            help: "Non-directory entries at or below the path.",
            value: |t| count(t.files()),
        },
        Family {
            name: "fdu_directories".into(),
            help: "Directories at or below the path, itself included.",
            value: |t| count(t.dirs),
        },
        Family {
            name: "fdu_errors".into(),
            help: "Entries at or below the path that could not be read.",
            value: |t| count(t.errors),
        },
    ];
    if let Some(time) = &config.time {
        families.push(Family {
            name: format!("fdu_{}_seconds", crate::output::time_name(time.kind)),
            help: "Latest time of that kind at or below the path, in seconds since the epoch.",
            value: |t| seconds(t.time),
        });
    }
    let mut line = Vec::new();
    for family in &families {
        header(out, &family.name, family.help)?;
        let mut result = Ok(());
        tree.post_order(|node, path| {
            let totals = tree.total(node);
            if result.is_err() || !within_threshold(config, totals) {
                return;
            }
            let Some(value) = (family.value)(totals) else {
                return;
            };
            line.clear();
            line.extend_from_slice(family.name.as_bytes());
            line.extend_from_slice(b"{path=\"");
            escape(&String::from_utf8_lossy(path), &mut line);
            line.push(b'"');
            if std::str::from_utf8(path).is_err() {
                line.extend_from_slice(b",path_hex=\"");
                for b in path {
                    line.extend_from_slice(format!("{b:02x}").as_bytes());
                }
                line.push(b'"');
            }
            line.extend_from_slice(b"} ");
            line.extend_from_slice(value.as_bytes());
            line.push(b'\n');
            result = out.write_all(&line);
        });
        result?;
    }
    if config.total {
        let grand = tree.grand_total();
        for family in &families[..5] {
            let name = family.name.replacen("fdu_", "fdu_total_", 1);
            let help = "The grand total (-c) of every argument.";
            let value = (family.value)(grand).unwrap_or_default();
            gauge(out, &name, help, &value)?;
        }
    }
    let scan = [
        (
            "fdu_scan_duration_seconds",
            "Wall-clock time the scan took, in seconds.",
            facts.duration.as_secs_f64().to_string(),
        ),
        (
            "fdu_scan_entries",
            "Entries the scan stat'ed.",
            facts.entries.to_string(),
        ),
        (
            "fdu_scan_errors",
            "Entries that could not be read (fdu exits with status 1 when this is not 0).",
            facts.errors.to_string(),
        ),
        (
            "fdu_last_scan_timestamp_seconds",
            "When the scan finished, in seconds since the epoch.",
            facts.timestamp().to_string(),
        ),
    ];
    for (name, help, value) in scan {
        gauge(out, name, help, &value)?;
    }
    Ok(())
}

fn header(out: &mut impl Write, name: &str, help: &str) -> io::Result<()> {
    writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge")
}

/// A family of one sample without labels.
fn gauge(out: &mut impl Write, name: &str, help: &str, value: &str) -> io::Result<()> {
    header(out, name, help)?;
    writeln!(out, "{name} {value}")
}

/// `value` as a label value: backslash, double quote and line feed
/// escaped, as the text exposition format requires.
pub fn escape(value: &str, out: &mut Vec<u8>) {
    for c in value.chars() {
        match c {
            '\\' => out.extend_from_slice(b"\\\\"),
            '"' => out.extend_from_slice(b"\\\""),
            '\n' => out.extend_from_slice(b"\\n"),
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_backslash_quote_and_newline_only() {
        let mut out = Vec::new();
        escape("a\\b\"c\nd\te\u{e9}", &mut out);
        assert_eq!(out, "a\\\\b\\\"c\\nd\te\u{e9}".as_bytes());
    }
}
