//! du's counting rules, as the walker's visitor: what each entry is charged
//! to, which nodes are kept, and hard links counted once.
//!
//! Each worker charges to its own [`NodeTable`]; entries below the retained
//! depth fold into their ancestor's node as they are met (summed across a
//! stat batch, charged once per batch). A file with several links is
//! recorded with every node it could be charged to, and charged to the
//! first in path order when the tree is assembled ([`Tree::assemble`]), so
//! the output never depends on which worker got there first.
use fdu_platform::{Kind, Meta};

use crate::diag::ScanError;
use crate::dirs::DirRef;
use crate::links::LinkSet;
use crate::tree::{NodeId, NodeTable, Occurrences, Totals, Tree};
use crate::visit::{Step, Visit, Visitor};
use crate::walk::{Args, ScanOptions};
use crate::wire::{Reader, Writer};

/// du's count, shared by every worker.
pub struct Count<'o> {
    opts: &'o ScanOptions,
    links: LinkSet,
    /// Track every file, not only multiply-linked ones (`-L`, or a file
    /// argument among several arguments: it may also be met inside another).
    hash_all_files: bool,
    /// Every entry of an argument is charged to the argument's own node
    /// (`-s`, no `-a`/`-S`), and arguments are walked one after another:
    /// a file with several names is charged where it is first seen, and
    /// only its identity is kept.
    charge_at_once: bool,
    /// The number of the first worker's table (see [`Count::numbered_from`]).
    base: usize,
}

impl<'o> Count<'o> {
    /// A count of `args` with `opts`.
    pub fn new(opts: &'o ScanOptions, args: &Args) -> Count<'o> {
        Count {
            opts,
            links: LinkSet::new(opts.workers.start()),
            hash_all_files: hash_all_files(opts, args),
            charge_at_once: charge_at_once(opts),
            base: 0,
        }
    }

    /// The count of one process of a distributed scan (`crate::ranks`):
    /// its tables numbered from `base` (the process's own range), and
    /// every file that may have other names recorded with all its
    /// occurrences, never charged where first met (its other names may be
    /// found by another process).
    pub fn numbered_from(opts: &'o ScanOptions, args: &Args, base: usize) -> Count<'o> {
        Count {
            charge_at_once: false,
            base,
            ..Count::new(opts, args)
        }
    }

    fn totals(&self, meta: &Meta) -> Totals {
        Totals::with_time(meta, self.opts.time)
    }

    /// Whether a directory at `depth` gets a node of its own: it is
    /// printed, or `-S` needs it kept apart.
    fn dir_node(&self, depth: usize) -> bool {
        depth <= self.opts.max_depth || self.opts.separate_dirs
    }
}

/// Whether every file must be tracked as possibly met again, not only
/// multiply-linked ones: under `-L`, or when a file argument is among
/// several (it may also be met inside another).
pub fn hash_all_files(opts: &ScanOptions, args: &Args) -> bool {
    let several = args.args.len() > 1;
    let file_arg = args
        .args
        .iter()
        .any(|(_, m)| matches!(m, Ok(m) if m.kind != Kind::Dir));
    opts.follow || (several && file_arg)
}

/// Whether every entry of an argument is charged to the argument's own
/// node (`-s`, no `-a`/`-S`): a file with several names can then be
/// charged where it is first claimed, keeping only its identity.
pub fn charge_at_once(opts: &ScanOptions) -> bool {
    opts.max_depth == 0 && !opts.all && !opts.separate_dirs
}

impl Visitor for Count<'_> {
    type Worker<'v>
        = Counter<'v>
    where
        Self: 'v;

    /// The tree of what the workers counted.
    type Output = Tree;

    fn worker(&self, index: usize) -> Counter<'_> {
        Counter {
            count: self,
            table: NodeTable::new(self.base + index),
            folded: None,
        }
    }

    fn finish(&self, workers: Vec<Counter<'_>>) -> Tree {
        let tables = workers.into_iter().map(|w| w.table).collect();
        Tree::assemble(tables, self.links.drain_files(), self.opts.separate_dirs)
    }
}

/// du's count kept apart: the workers' tables and every multiply-linked
/// file's occurrences with its identity, unassembled (what a process of a
/// distributed scan hands on, `crate::ranks`).
pub struct Parts<'o>(pub Count<'o>);

/// What [`Parts`] gives: the tables, in the order of their numbers, and
/// the files that may have other names.
pub type Unassembled = (Vec<NodeTable>, Vec<((u64, u64), Occurrences)>);

impl Visitor for Parts<'_> {
    type Worker<'v>
        = Counter<'v>
    where
        Self: 'v;

    type Output = Unassembled;

    fn worker(&self, index: usize) -> Counter<'_> {
        self.0.worker(index)
    }

    fn finish(&self, workers: Vec<Counter<'_>>) -> Unassembled {
        let tables = workers.into_iter().map(|w| w.table).collect();
        (tables, self.0.links.drain_identified())
    }
}

/// One worker's part of the count.
pub struct Counter<'c> {
    count: &'c Count<'c>,
    table: NodeTable,
    /// Entries summed for one node, charged at the end of the batch.
    folded: Option<(NodeId, Totals)>,
}

impl Counter<'_> {
    fn fold(&mut self, node: NodeId, totals: &Totals) {
        match &mut self.folded {
            Some((n, sum)) if *n == node => sum.add(totals),
            _ => {
                self.flush();
                self.folded = Some((node, *totals));
            }
        }
    }

    fn flush(&mut self) {
        if let Some((node, sum)) = self.folded.take() {
            self.table.charge(node, &sum);
        }
    }
}

impl Visit for Counter<'_> {
    type Dir = NodeId;

    fn root(&mut self, _arg: usize, display: &[u8], meta: &Meta) -> Step<NodeId> {
        let count = self.count;
        let opts = count.opts;
        let totals = count.totals(meta);
        let is_dir = meta.kind == Kind::Dir;
        let tracked = !opts.count_links && !is_dir && (meta.nlink > 1 || count.hash_all_files);
        let root = if tracked && count.charge_at_once {
            // Charged here, or already by an earlier argument.
            match count.links.claim_file(meta.id()) {
                true => self.table.add_root(display, totals, false),
                false => self.table.add_root(display, Totals::default(), true),
            }
        } else if tracked {
            let node = self.table.add_root(display, Totals::default(), true);
            count.links.record_file(meta.id(), totals, node);
            node
        } else {
            self.table.add_root(display, totals, false)
        };
        if is_dir {
            Step::Descend(root)
        } else {
            Step::Skip
        }
    }

    #[inline]
    fn entry(&mut self, dir: &DirRef<'_, NodeId>, name: &[u8], meta: &Meta) -> Step<NodeId> {
        self.place(*dir.state(), dir.depth() + 1, name, meta)
    }

    fn end_batch(&mut self) {
        self.flush();
    }

    fn error(&mut self, dir: Option<&NodeId>, _: &ScanError) {
        if let Some(&node) = dir {
            self.fold(node, &Totals::error());
            self.flush();
        }
    }

    fn carry(dir: &NodeId, out: &mut Writer) {
        out.u64(dir.bits());
    }

    fn land(bytes: &mut Reader<'_>) -> Option<NodeId> {
        bytes.u64().map(NodeId::from_bits)
    }
}

impl Counter<'_> {
    /// Count `name`, at level `depth`, in the directory whose node is
    /// `target`: what [`Visit::entry`] does, for a walk of something else
    /// than a file system (an export, `crate::import`).
    #[inline]
    pub fn place(
        &mut self,
        target: NodeId,
        depth: usize,
        name: &[u8],
        meta: &Meta,
    ) -> Step<NodeId> {
        let count = self.count;
        let opts = count.opts;
        let printed = depth <= opts.max_depth;
        let totals = count.totals(meta);
        let is_dir = meta.kind == Kind::Dir;
        if !opts.count_links && !is_dir && (meta.nlink > 1 || count.hash_all_files) {
            if count.charge_at_once {
                if count.links.claim_file(meta.id()) {
                    self.fold(target, &totals);
                }
                return Step::Skip;
            }
            let node = if opts.all && printed {
                self.table.add_file(target, name, Totals::default(), true)
            } else {
                target
            };
            count.links.record_file(meta.id(), totals, node);
            return Step::Skip;
        }
        if is_dir {
            let node = if count.dir_node(depth) {
                self.table.add_dir_at(target, name, totals, printed)
            } else {
                self.fold(target, &totals);
                target
            };
            Step::Descend(node)
        } else {
            if opts.all && printed {
                self.table.add_file(target, name, totals, false);
            } else {
                self.fold(target, &totals);
            }
            Step::Skip
        }
    }
}
