//! `--compare OLD NEW`: what changed between two trees of du's lines.
//!
//! Each side is an export (fdu's, ncdu's or gdu's, read as `-f` reads it)
//! or a directory scanned now; both are counted with the same
//! [`crate::walk::ScanOptions`], so the two trees retain the same depths
//! (`-d`, `-s`, `-a`) and count by the same rules (`-S`, `-l`, and for a
//! scan `-x`, `--exclude`). They are loaded at once, each on its own
//! thread.
//!
//! The merge walks the two trees together, once: the roots are matched
//! whatever their names (an export names its root by the path it was made
//! from), and below them children are matched by name, a linear merge of
//! two lists both trees keep in byte order. A node's value is the measure
//! of what du prints for it (`--apparent-size`, `--inodes`), 0 on a side
//! where du prints no line for it: so a directory on one side only counts
//! as wholly added or removed, and so does each of its retained
//! descendants. The changes are the nodes whose value differs, in du's
//! order (children before their parent, siblings in byte order of their
//! names, the root last), paths under NEW's root name.
//!
//! ```text
//!   old: r ─┬─ a (10)          new: r ─┬─ a (10)        changes:
//!           └─ b (5)                   ├─ b (7)           +2  r/b
//!                                      └─ c (3)           +3  r/c
//!                                                         +5  r
//! ```
use std::ops::Range;

use crate::config::{Config, Measure};
use crate::diag::ExitStatus;
use crate::output::progress::Meter;
use crate::scan::{Report, Scan};
use crate::tree::{join, Index, Tree};

/// Where one side of a comparison came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SourceKind {
    /// An export, read as `-f` reads it.
    Export,
    /// A directory, scanned now.
    Scan,
}

impl SourceKind {
    /// Its name in `--json`'s document.
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Export => "export",
            SourceKind::Scan => "scan",
        }
    }
}

/// One side of a comparison, loaded.
pub struct Side {
    /// The side as given on the command line.
    pub source: Vec<u8>,
    /// Whether it was read or scanned.
    pub kind: SourceKind,
    /// Its tree, and what reading or scanning it met.
    pub report: Report,
}

/// Whether a side is a directory (following symlinks), scanned now; else
/// it is read as an export.
pub fn scanned(source: &[u8]) -> bool {
    source != b"-" && std::fs::metadata(crate::walk::os_path(source)).is_ok_and(|m| m.is_dir())
}

/// Read a side that is an export (`-` is stdin); `Err` (reported) when
/// it cannot be.
pub fn read(config: &Config, source: &[u8], meter: &Meter) -> Result<Side, ExitStatus> {
    let errors = meter.errors();
    let report = crate::import::read(source, &config.scan, &*errors)?;
    Ok(Side {
        source: source.to_vec(),
        kind: SourceKind::Export,
        report,
    })
}

/// Load one side: a directory (following symlinks) is scanned with the
/// command line's options, its errors printed as du prints them; anything
/// else is read as an export (`-` is stdin). `Err` when it cannot be: an
/// export that cannot be read (reported, exit status 2), a backend that
/// cannot start.
pub fn load(config: &Config, source: &[u8], meter: &Meter) -> Result<Side, ExitStatus> {
    if !scanned(source) {
        return read(config, source, meter);
    }
    let side = Config {
        paths: vec![source.to_vec()],
        ..config.clone()
    };
    let scan = Scan::from_config(&side).errors(meter.errors());
    match meter.run(&scan, crate::count::Count::new) {
        Ok(ran) => Ok(Side {
            source: source.to_vec(),
            kind: SourceKind::Scan,
            report: Report::from(ran),
        }),
        Err(failed) => Err(crate::scan::report_failure(failed)),
    }
}

/// Load both sides at once, each on its own thread (an export is read
/// while the other side is scanned).
pub fn load_both(
    config: &Config,
    old: &[u8],
    new: &[u8],
    meter: &Meter,
) -> (Result<Side, ExitStatus>, Result<Side, ExitStatus>) {
    std::thread::scope(|s| {
        let old = s.spawn(|| load(config, old, meter));
        let new = load(config, new, meter);
        // A panic there has said why already.
        let old = old.join().unwrap_or(Err(ExitStatus::Usage));
        (old, new)
    })
}

/// What happened to a line between the two sides.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Status {
    /// Printed on the newer side only.
    Added,
    /// Printed on the older side only.
    Removed,
    /// Printed on both, with another value.
    Changed,
}

impl Status {
    /// Its name in `--json`'s document.
    pub fn name(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Removed => "removed",
            Status::Changed => "changed",
        }
    }
}

/// One changed line: its path and both values (0 on a side without it).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Change<'a> {
    /// The path, under NEW's root name.
    pub path: &'a [u8],
    /// The value on the older side.
    pub old: u64,
    /// The value on the newer side.
    pub new: u64,
    /// Added, removed or changed.
    pub status: Status,
}

impl Change<'_> {
    /// `new - old` (exact: values are 64-bit, the change needs a sign).
    pub fn delta(&self) -> i128 {
        i128::from(self.new) - i128::from(self.old)
    }

    /// `|new - old|`: what is printed after the sign.
    pub fn magnitude(&self) -> u64 {
        self.new.abs_diff(self.old)
    }
}

/// A change as stored: its path is a range of [`Changes::paths`].
#[derive(Clone, Debug)]
struct Stored {
    path: Range<usize>,
    old: u64,
    new: u64,
    status: Status,
}

/// The changes between two trees, in du's order, and their grand totals.
/// Paths are kept back to back in one buffer.
#[derive(Clone, Debug)]
pub struct Changes {
    paths: Vec<u8>,
    changes: Vec<Stored>,
    /// The older side's grand total (`-c`), in the measure.
    pub total_old: u64,
    /// The newer side's grand total, in the measure.
    pub total_new: u64,
}

/// A node of each side matched by the merge (`None` on a side without it).
type Pair = (Option<Index>, Option<Index>);

/// A node's children, none for no node.
fn kids(tree: &Tree, node: Option<Index>) -> &[Index] {
    node.map_or(&[], |n| tree.children(n))
}

impl Changes {
    /// The changes from `old` to `new` in `measure` (see the module's
    /// documentation for the matching and the order).
    pub fn between(old: &Tree, new: &Tree, measure: Measure) -> Changes {
        let mut changes = Changes {
            paths: Vec::new(),
            changes: Vec::new(),
            total_old: measure.of(old.grand_total()),
            total_new: measure.of(new.grand_total()),
        };
        let roots = (old.roots().first().copied(), new.roots().first().copied());
        let mut path: Vec<u8> = match roots {
            (_, Some(r)) => new.name(r).to_vec(),
            (Some(r), None) => old.name(r).to_vec(),
            (None, None) => return changes,
        };
        // (the pair, next child of each side, path length before the node)
        let mut stack: Vec<(Pair, usize, usize, usize)> = vec![(roots, 0, 0, 0)];
        while let Some(top) = stack.last_mut() {
            let ((o, n), oi, ni, saved) = *top;
            let (ok, nk) = (kids(old, o), kids(new, n));
            let next = match (ok.get(oi), nk.get(ni)) {
                (None, None) => None,
                (Some(&a), None) => Some((Some(a), None)),
                (None, Some(&b)) => Some((None, Some(b))),
                (Some(&a), Some(&b)) => Some(match old.name(a).cmp(new.name(b)) {
                    std::cmp::Ordering::Less => (Some(a), None),
                    std::cmp::Ordering::Greater => (None, Some(b)),
                    std::cmp::Ordering::Equal => (Some(a), Some(b)),
                }),
            };
            let Some(child) = next else {
                stack.pop();
                changes.visit(old, new, measure, (o, n), &path);
                path.truncate(saved);
                continue;
            };
            top.1 += usize::from(child.0.is_some());
            top.2 += usize::from(child.1.is_some());
            let name = match child {
                (_, Some(b)) => new.name(b),
                (Some(a), None) => old.name(a),
                (None, None) => unreachable!("a pair has a node on some side"),
            };
            let before = path.len();
            join(&mut path, name);
            stack.push((child, 0, 0, before));
        }
        changes
    }

    /// Keep the pair's line if du prints it on some side and its value
    /// changed.
    fn visit(&mut self, old: &Tree, new: &Tree, measure: Measure, (o, n): Pair, path: &[u8]) {
        let value = |tree: &Tree, node: Option<Index>| {
            node.filter(|&x| tree.printed(x))
                .map(|x| measure.of(tree.total(x)))
        };
        let (was, is) = (value(old, o), value(new, n));
        let status = match (was, is) {
            (None, None) => return,
            (None, Some(_)) => Status::Added,
            (Some(_), None) => Status::Removed,
            (Some(_), Some(_)) => Status::Changed,
        };
        let (was, is) = (was.unwrap_or(0), is.unwrap_or(0));
        if was == is {
            return;
        }
        let start = self.paths.len();
        self.paths.extend_from_slice(path);
        self.changes.push(Stored {
            path: start..self.paths.len(),
            old: was,
            new: is,
            status,
        });
    }

    /// How many lines changed.
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// Whether nothing changed (the totals aside).
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The `i`th change in du's order.
    pub fn get(&self, i: usize) -> Option<Change<'_>> {
        self.changes.get(i).map(|c| Change {
            path: &self.paths[c.path.clone()],
            old: c.old,
            new: c.new,
            status: c.status,
        })
    }

    /// Every change, in du's order.
    pub fn iter(&self) -> impl Iterator<Item = Change<'_>> {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// The change of the grand totals (`new - old`).
    pub fn total_delta(&self) -> i128 {
        i128::from(self.total_new) - i128::from(self.total_old)
    }

    /// The indices of the `n` largest changes by magnitude among those
    /// `keep` lets through, largest first, equal ones in du's order.
    pub fn largest(&self, n: usize, keep: impl Fn(&Change<'_>) -> bool) -> Vec<usize> {
        let mut picked: Vec<usize> = (0..self.len())
            .filter(|&i| self.get(i).is_some_and(|c| keep(&c)))
            .collect();
        let key = |&i: &usize| {
            let c = &self.changes[i];
            (std::cmp::Reverse(c.new.abs_diff(c.old)), i)
        };
        if n < picked.len() {
            if n == 0 {
                return Vec::new();
            }
            picked.select_nth_unstable_by_key(n - 1, key);
            picked.truncate(n);
        }
        picked.sort_unstable_by_key(key);
        picked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{NodeTable, Totals};

    fn t(disk: u64) -> Totals {
        Totals {
            disk,
            apparent: disk,
            inodes: 1,
            ..Totals::default()
        }
    }

    /// A tree rooted at `root` with a directory of files per `(dir,
    /// [(file, size)])`, files kept (as `-a` keeps them).
    fn tree(root: &[u8], dirs: &[(&str, &[(&str, u64)])]) -> Tree {
        let mut table = NodeTable::new(0);
        let r = table.add_root(root, t(1), false);
        for (dir, files) in dirs {
            let d = table.add_dir(r, dir.as_bytes(), t(1));
            for (name, size) in *files {
                table.add_file(d, name.as_bytes(), t(*size), false);
            }
        }
        Tree::assemble(vec![table], Vec::new(), false)
    }

    fn lines(c: &Changes) -> Vec<(i128, String)> {
        c.iter()
            .map(|c| (c.delta(), String::from_utf8_lossy(c.path).into_owned()))
            .collect()
    }

    #[test]
    fn merges_by_name_in_dus_order_under_the_new_roots_name() {
        let old = tree(
            b"before",
            &[("a", &[("x", 10), ("y", 5)]), ("b", &[("z", 7)])],
        );
        let new = tree(
            b"after",
            &[("a", &[("x", 10), ("y", 9)]), ("c", &[("w", 5)])],
        );
        let c = Changes::between(&old, &new, Measure::Disk);
        assert_eq!(
            lines(&c),
            [
                (4, "after/a/y".to_string()),
                (4, "after/a".to_string()),
                (-7, "after/b/z".to_string()),
                (-8, "after/b".to_string()),
                (5, "after/c/w".to_string()),
                (6, "after/c".to_string()),
                (2, "after".to_string()),
            ]
        );
        let status: Vec<Status> = c.iter().map(|c| c.status).collect();
        use Status::*;
        assert_eq!(
            status,
            [Changed, Changed, Removed, Removed, Added, Added, Changed]
        );
        assert_eq!(c.total_delta(), 2);
        // Largest first, equal ones in du's order.
        assert_eq!(c.largest(3, |_| true), [3, 2, 5]);
        assert_eq!(c.largest(10, |c| c.delta() > 0), [5, 4, 0, 1, 6]);
        assert_eq!(c.largest(0, |_| true), Vec::<usize>::new());
    }

    #[test]
    fn an_empty_side_counts_as_all_added() {
        let empty = Tree::assemble(Vec::new(), Vec::new(), false);
        let new = tree(b"r", &[("a", &[("x", 2)])]);
        let c = Changes::between(&empty, &new, Measure::Inodes);
        assert_eq!(
            lines(&c),
            [
                (1, "r/a/x".to_string()),
                (2, "r/a".to_string()),
                (3, "r".to_string())
            ]
        );
        assert!(c.iter().all(|c| c.status == Status::Added));
        let none = Changes::between(&empty, &empty, Measure::Disk);
        assert!(none.is_empty());
        assert_eq!(none.total_delta(), 0);
    }
}
