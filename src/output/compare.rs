//! `--compare`'s outputs: the changes as du-style lines, the N largest,
//! or one JSON document.
//!
//! A line is `+SIZE<TAB>PATH` or `-SIZE<TAB>PATH`, SIZE the absolute change
//! in du's units (`-h`, `-B`, `-k`, `--si`, `--inodes`: formatted as du
//! formats a size, so rounded up), ended by a newline or NUL (`-0`). `-t`
//! filters on the absolute change as du's threshold does on a size; `-c`
//! adds `SIGNED<TAB>total`, the change of the grand totals (`0` when there
//! is none). `--top N` keeps the N largest absolute changes, largest
//! first, equal ones in du's order.
//!
//! `--json` writes one line:
//!
//! ```text
//! {"fdu_version":"0.1.0",
//!  "old":{"source":"old.json","kind":"export","errors":0},
//!  "new":{"source":"srv","kind":"scan","errors":0},
//!  "measure":"disk_bytes",
//!  "changes":[{"path":"srv/db","old":8192,"new":1056768,"change":1048576,"status":"changed"},..],
//!  "total":{"old":..,"new":..,"change":..}}
//! ```
//!
//! Numbers are exact, in the measure (`disk_bytes`, `apparent_bytes` or
//! `inodes`) whatever the units; `status` is `added`, `removed` or
//! `changed`; `changes` are in du's order, or the `--top` N largest first,
//! after `-t`. A path or source that is not UTF-8 has U+FFFD in place of
//! its invalid bytes and its exact bytes in `path_bytes` (`source_bytes`),
//! as in `--json`'s tree.
use std::io::{self, Write};

use crate::compare::{Change, Changes, Side};
use crate::config::{Config, Format, Measure};
use crate::output::du::value_within;
use crate::output::json::bytes_field;

/// `--compare`'s end, once both sides are loaded (or could not be): the
/// changes printed; the exit status: 2 when a side cannot be read (an
/// export that is not one), else 1 when either side had entries that
/// could not be read or the output failed, else 0.
pub fn conclude(
    config: &Config,
    old: Result<Side, crate::diag::ExitStatus>,
    new: Result<Side, crate::diag::ExitStatus>,
) -> crate::diag::ExitStatus {
    use crate::diag::ExitStatus;
    let (old, new) = match (old, new) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(a), Err(b)) => return a.max(b),
        (Err(status), _) | (_, Err(status)) => return status,
    };
    let changes = Changes::between(&old.report.tree, &new.report.tree, config.measure);
    let failed = print(config, &old, &new, &changes, crate::output::Stdout::new());
    let errors = old.report.outcome.errors + new.report.outcome.errors;
    if errors > 0 || failed {
        ExitStatus::Partial
    } else {
        ExitStatus::Ok
    }
}

/// Print `changes` from `old` to `new` as the command line asked. Returns
/// whether a write failed for another reason than a reader that went
/// away (reported on stderr).
pub fn print(
    config: &Config,
    old: &Side,
    new: &Side,
    changes: &Changes,
    mut out: impl Write,
) -> bool {
    let keep = |c: &Change<'_>| value_within(config.threshold, c.magnitude());
    let order: Vec<usize> = match config.top {
        Some(n) => changes.largest(n, keep),
        None => (0..changes.len())
            .filter(|&i| changes.get(i).is_some_and(|c| keep(&c)))
            .collect(),
    };
    let written = match config.format {
        Format::Json => json(config, old, new, changes, &order, &mut out),
        Format::Du | Format::Prometheus => lines(config, changes, &order, &mut out),
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => false,
        Err(e) => crate::output::write_failed(&e),
    }
}

/// `+` or `-` and the size of `delta` in the command line's units; `0`
/// alone for no change.
fn signed(config: &Config, delta: i128, buf: &mut Vec<u8>) {
    match delta.signum() {
        1 => buf.push(b'+'),
        -1 => buf.push(b'-'),
        _ => {}
    }
    let magnitude = u64::try_from(delta.unsigned_abs()).unwrap_or(u64::MAX);
    config.units.format(magnitude, buf);
}

/// du-style lines, then `-c`'s total.
fn lines(
    config: &Config,
    changes: &Changes,
    order: &[usize],
    out: &mut impl Write,
) -> io::Result<()> {
    let end = if config.null { 0 } else { b'\n' };
    let mut buf = Vec::new();
    for change in order.iter().filter_map(|&i| changes.get(i)) {
        buf.clear();
        signed(config, change.delta(), &mut buf);
        buf.push(b'\t');
        buf.extend_from_slice(change.path);
        buf.push(end);
        out.write_all(&buf)?;
    }
    if config.total {
        buf.clear();
        signed(config, changes.total_delta(), &mut buf);
        buf.extend_from_slice(b"\ttotal");
        buf.push(end);
        out.write_all(&buf)?;
    }
    Ok(())
}

/// The measure's name in the document.
fn measure_name(measure: Measure) -> &'static str {
    match measure {
        Measure::Disk => "disk_bytes",
        Measure::Apparent => "apparent_bytes",
        Measure::Inodes => "inodes",
    }
}

/// `"key":value`.
fn field(out: &mut impl Write, key: &str, value: &impl serde::Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, key)?;
    out.write_all(b":")?;
    serde_json::to_writer(out, value).map_err(io::Error::from)
}

/// One side: where it came from, and how many entries could not be read.
fn side(out: &mut impl Write, side: &Side) -> io::Result<()> {
    out.write_all(b"{")?;
    bytes_field(out, "source", &side.source)?;
    out.write_all(b",")?;
    field(out, "kind", &side.kind.name())?;
    out.write_all(b",")?;
    field(out, "errors", &side.report.outcome.errors)?;
    out.write_all(b"}")
}

/// The document, on one line.
fn json(
    config: &Config,
    old: &Side,
    new: &Side,
    changes: &Changes,
    order: &[usize],
    out: &mut impl Write,
) -> io::Result<()> {
    out.write_all(b"{")?;
    field(out, "fdu_version", &env!("CARGO_PKG_VERSION"))?;
    out.write_all(b",\"old\":")?;
    side(out, old)?;
    out.write_all(b",\"new\":")?;
    side(out, new)?;
    out.write_all(b",")?;
    field(out, "measure", &measure_name(config.measure))?;
    out.write_all(b",\"changes\":[")?;
    for (k, change) in order.iter().filter_map(|&i| changes.get(i)).enumerate() {
        if k > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"{")?;
        bytes_field(out, "path", change.path)?;
        out.write_all(b",")?;
        field(out, "old", &change.old)?;
        out.write_all(b",")?;
        field(out, "new", &change.new)?;
        out.write_all(b",")?;
        field(out, "change", &change.delta())?;
        out.write_all(b",")?;
        field(out, "status", &change.status.name())?;
        out.write_all(b"}")?;
    }
    out.write_all(b"],\"total\":{")?;
    field(out, "old", &changes.total_old)?;
    out.write_all(b",")?;
    field(out, "new", &changes.total_new)?;
    out.write_all(b",")?;
    field(out, "change", &changes.total_delta())?;
    out.write_all(b"}}\n")
}
