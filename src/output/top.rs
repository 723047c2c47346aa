//! `--top N`: the N largest of the lines du would print, largest first.
//!
//! The candidates are exactly du's lines for the same options: every
//! directory the tree retains (all of them unless `-d`/`-s` limit the
//! depth), the files too with `-a`, each argument, and only those `-t`
//! lets through. They are ranked by the chosen measure (disk usage,
//! `--apparent-size`, `--inodes`); equal ones keep path order (arguments
//! in command-line order, then names by bytes, a directory before what it
//! holds). The selection walks the tree once with a heap of N, so it holds
//! N candidates whatever the tree's size, and builds a path only for
//! those it prints. Lines are du's (units, `-h`, `-B`, `--time`, `-0`),
//! with `-c`'s total last.
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;

use crate::config::Config;
use crate::output::du::{within_threshold, Printer};
use crate::tree::{Index, Tree};

/// Print the `n` largest lines of `tree` to `out`. Returns whether a write
/// failed for another reason than a reader that went away.
pub fn print(config: &Config, tree: &Tree, n: usize, out: impl Write) -> bool {
    let mut printer = Printer::new(config, out);
    let mut path = Vec::new();
    for node in largest(config, tree, n) {
        tree.path(node, &mut path);
        printer.line(tree.total(node), &path);
    }
    printer.end(config, tree.grand_total())
}

/// The `n` largest printed nodes that pass `-t`, largest first, equal ones
/// in path order.
pub fn largest(config: &Config, tree: &Tree, n: usize) -> Vec<Index> {
    if n == 0 {
        return Vec::new();
    }
    // A min-heap of the best so far: its top is the one to drop next (the
    // smallest, and of equal ones the latest in path order).
    let mut heap: BinaryHeap<Reverse<(u64, Reverse<u64>, Index)>> = BinaryHeap::new();
    let mut order = 0u64;
    let mut stack: Vec<Index> = tree.roots().iter().rev().copied().collect();
    while let Some(node) = stack.pop() {
        stack.extend(tree.children(node).iter().rev());
        let totals = tree.total(node);
        if !tree.printed(node) || !within_threshold(config, totals) {
            continue;
        }
        let key = (config.measure.of(totals), Reverse(order), node);
        order += 1;
        if heap.len() < n {
            heap.push(Reverse(key));
        } else if heap.peek().is_some_and(|Reverse(min)| key > *min) {
            heap.pop();
            heap.push(Reverse(key));
        }
    }
    let mut picked: Vec<_> = heap.into_iter().map(|Reverse(key)| key).collect();
    picked.sort_unstable_by(|a, b| b.cmp(a));
    picked.into_iter().map(|(_, _, node)| node).collect()
}
