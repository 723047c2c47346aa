//! du's lines: `SIZE<TAB>[TIME<TAB>]PATH`, children before their parent,
//! `-t` applied, the grand total last with `-c`.
use std::io::{self, Write};

use crate::config::{Config, Measure};
use crate::stream::Lines;
use crate::timefmt::TimeFormat;
use crate::tree::{Stamp, Totals, Tree};
use crate::units::Units;

/// Print `tree` as du would to `out`. Returns whether a write failed for
/// another reason than a reader that went away (reported on stderr).
pub fn print(config: &Config, tree: &Tree, out: impl Write) -> bool {
    let mut printer = Printer::new(config, out);
    tree.post_order(|node, path| printer.entry(tree.total(node), path));
    printer.end(config, tree.grand_total())
}

/// Whether `-t` lets an entry with `totals` be printed (its measure at
/// least the threshold, or at most its absolute value when negative).
pub fn within_threshold(config: &Config, totals: &Totals) -> bool {
    passes(config.measure, config.threshold, totals)
}

fn passes(measure: Measure, threshold: i64, totals: &Totals) -> bool {
    value_within(threshold, measure.of(totals))
}

/// Whether `-t threshold` lets a line of `value` be printed (at least the
/// threshold, or at most its absolute value when negative).
pub fn value_within(threshold: i64, value: u64) -> bool {
    if threshold < 0 {
        value <= threshold.unsigned_abs()
    } else {
        value >= threshold as u64
    }
}

/// Writes du's lines, and goes quiet once its output is closed.
pub struct Printer<'c, W: Write> {
    out: W,
    units: Units,
    measure: Measure,
    end: u8,
    /// `-t`, as in `Config::threshold`.
    threshold: i64,
    /// `--time`: the format of the time column.
    time: Option<&'c TimeFormat>,
    closed: bool,
    /// A write failed for another reason than a closed pipe.
    failed: bool,
    buf: Vec<u8>,
}

impl<'c, W: Write> Printer<'c, W> {
    /// A printer of `config`'s lines to `out`.
    pub fn new(config: &'c Config, out: W) -> Printer<'c, W> {
        Printer {
            out,
            units: config.units,
            measure: config.measure,
            end: if config.null { 0 } else { b'\n' },
            threshold: config.threshold,
            time: config.time.as_ref().map(|t| &t.format),
            closed: false,
            failed: false,
            buf: Vec::new(),
        }
    }

    /// An entry's line, unless `-t` leaves it out.
    pub fn entry(&mut self, totals: &Totals, path: &[u8]) {
        if passes(self.measure, self.threshold, totals) {
            self.line(totals, path);
        }
    }

    /// The grand total's line with `-c`, then flush; returns whether a
    /// write failed for another reason than a reader that went away.
    pub fn end(mut self, config: &Config, grand: &Totals) -> bool {
        if config.total {
            // du's grand total starts at the epoch (a zeroed static), not
            // at the earliest time there is.
            let mut grand = *grand;
            grand.time = grand.time.max(Stamp { sec: 0, nsec: 0 });
            self.line(&grand, b"total");
        }
        self.finish();
        self.failed
    }

    /// A line, whatever `-t` says (the grand total).
    pub fn line(&mut self, totals: &Totals, path: &[u8]) {
        if self.closed {
            return;
        }
        self.buf.clear();
        self.units.format(self.measure.of(totals), &mut self.buf);
        self.buf.push(b'\t');
        if let Some(format) = self.time {
            format.format(totals.time, &mut self.buf);
            self.buf.push(b'\t');
        }
        self.buf.extend_from_slice(path);
        self.buf.push(self.end);
        if let Err(e) = self.out.write_all(&self.buf) {
            self.fail(e);
        }
    }

    fn fail(&mut self, e: io::Error) {
        self.failed |= crate::output::write_failed(&e);
        self.closed = true;
    }

    /// Flush what is buffered.
    pub fn finish(&mut self) {
        if !self.closed {
            if let Err(e) = self.out.flush() {
                self.fail(e);
            }
        }
    }
}

/// du's lines as a scan streams them (`crate::stream`).
impl<W: Write + Send> Lines for Printer<'_, W> {
    fn line(&mut self, totals: &Totals, path: &[u8]) {
        self.entry(totals, path);
    }

    fn flush(&mut self) {
        self.finish();
    }

    fn closed(&self) -> bool {
        self.closed
    }
}
