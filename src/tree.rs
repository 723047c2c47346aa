//! The printed tree: only the nodes du will print, and how their totals are
//! put together once the walk is over.
//!
//! Each worker owns a [`NodeTable`]: the directories (and, with `-a`, files)
//! it found at a printed depth, their names (directory names interned with
//! lasso, other names in the worker's bumpalo arena) and the totals it
//! charged to any node. Deeper entries are folded into their ancestor at the
//! print depth while walking, so `fdu -s` keeps one node per path argument
//! however many files it meets.
//!
//! After the walk, [`Tree::assemble`] joins the tables, sorts every node's
//! children by name, charges each multiply-linked file to its first
//! occurrence in that order, and [`Tree::emit`] prints children before their
//! parent.
use bumpalo::Bump;
use lasso::{Rodeo, Spur};

use fdu_platform::Meta;

use crate::ids::IdMap;

/// Every place one file was found, and what it weighs.
#[derive(Debug)]
pub struct Occurrences {
    /// The file's sizes, counted once for all its names.
    pub totals: Totals,
    /// The nodes each occurrence would be charged to.
    pub nodes: Vec<NodeId>,
}

/// A node of one [`NodeTable`]: the table's number and the index in it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct NodeId(u64);

const INDEX_BITS: u32 = 40;

impl NodeId {
    /// The node at `index` of table `table`.
    pub fn new(table: usize, index: usize) -> NodeId {
        NodeId(((table as u64) << INDEX_BITS) | index as u64)
    }
    fn table(self) -> usize {
        (self.0 >> INDEX_BITS) as usize
    }
    fn index(self) -> usize {
        (self.0 & ((1 << INDEX_BITS) - 1)) as usize
    }
}

/// A time stamp: seconds and nanoseconds since the epoch.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub struct Stamp {
    /// Seconds since the epoch (negative before 1970).
    pub sec: i64,
    /// Nanoseconds within the second.
    pub nsec: u32,
}

impl Stamp {
    /// Earlier than any file's time: what an empty sum holds (du's
    /// `TYPE_MINIMUM (time_t)`).
    pub const MIN: Stamp = Stamp {
        sec: i64::MIN,
        nsec: 0,
    };
}

/// Which of a file's times `--time` shows.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub enum TimeKind {
    /// Last modification (`st_mtime`, the default).
    #[default]
    Modified,
    /// Last access (`--time=atime`, `access`, `use`).
    Accessed,
    /// Last status change (`--time=ctime`, `status`).
    Changed,
}

impl TimeKind {
    /// This time of `meta`.
    pub fn of(self, meta: &Meta) -> Stamp {
        let (sec, nsec) = match self {
            TimeKind::Modified => (meta.mtime, meta.mtime_nsec),
            TimeKind::Accessed => (meta.atime, meta.atime_nsec),
            TimeKind::Changed => (meta.ctime, meta.ctime_nsec),
        };
        Stamp { sec, nsec }
    }
}

/// The three things du can count, summed together, and the latest time of
/// what was summed (`--time`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Totals {
    /// Bytes allocated on disk (`st_blocks * 512`).
    pub disk: u64,
    /// Apparent bytes (`st_size`).
    pub apparent: u64,
    /// Entries (`--inodes`).
    pub inodes: u64,
    /// The latest time of the entries summed ([`Stamp::MIN`] for none).
    pub time: Stamp,
}

impl Default for Totals {
    fn default() -> Totals {
        Totals {
            disk: 0,
            apparent: 0,
            inodes: 0,
            time: Stamp::MIN,
        }
    }
}

impl Totals {
    /// One entry with this metadata, its modification time as its time.
    pub fn of(meta: &Meta) -> Totals {
        Totals::with_time(meta, TimeKind::Modified)
    }

    /// One entry with this metadata, and its time of kind `time`.
    pub fn with_time(meta: &Meta, time: TimeKind) -> Totals {
        Totals {
            disk: meta.disk_bytes(),
            apparent: meta.size,
            inodes: 1,
            time: time.of(meta),
        }
    }

    /// Add `other` into `self` (the later time wins).
    pub fn add(&mut self, other: &Totals) {
        self.disk = self.disk.saturating_add(other.disk);
        self.apparent = self.apparent.saturating_add(other.apparent);
        self.inodes = self.inodes.saturating_add(other.inodes);
        self.time = self.time.max(other.time);
    }
}

enum Name<'a> {
    Interned(Spur),
    Bytes(&'a [u8]),
}

struct Node<'a> {
    parent: Option<NodeId>,
    name: Name<'a>,
    own: Totals,
    /// A multiply-linked file printed with `-a`: shown only if this
    /// occurrence is the one charged.
    hidden: bool,
    /// What the node is, for `-S`.
    kind: NodeKind,
}

/// What a node is: `-S` keeps a directory's totals out of its parent's,
/// and keeps nodes for directories below the print depth.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum NodeKind {
    /// A path argument, or a file printed with `-a`.
    Plain,
    /// A directory printed at its depth.
    Dir,
    /// A directory below the print depth (`-S` only): never printed,
    /// counted in the grand total.
    DeepDir,
}

/// One worker's printed nodes, names and charges, as handed back when the
/// walk is over (the arena stays with the scan).
pub struct Nodes<'a> {
    id: usize,
    nodes: Vec<Node<'a>>,
    names: Rodeo,
    charges: IdMap<NodeId, Totals>,
}

/// A worker's [`Nodes`] while it walks, with the arena its names go to.
pub struct NodeTable<'a> {
    data: Nodes<'a>,
    arena: &'a Bump,
}

impl<'a> NodeTable<'a> {
    /// An empty table numbered `id`, allocating names in `arena`.
    pub fn new(id: usize, arena: &'a Bump) -> NodeTable<'a> {
        NodeTable {
            data: Nodes {
                id,
                nodes: Vec::new(),
                names: Rodeo::new(),
                charges: IdMap::default(),
            },
            arena,
        }
    }

    /// Give back the nodes, releasing the arena borrow.
    pub fn into_nodes(self) -> Nodes<'a> {
        self.data
    }

    fn push(
        &mut self,
        parent: Option<NodeId>,
        name: Name<'a>,
        own: Totals,
        hidden: bool,
        kind: NodeKind,
    ) -> NodeId {
        let id = NodeId::new(self.data.id, self.data.nodes.len());
        self.data.nodes.push(Node {
            parent,
            name,
            own,
            hidden,
            kind,
        });
        id
    }

    /// A path argument: `display` is the path as printed.
    pub fn add_root(&mut self, display: &[u8], own: Totals, hidden: bool) -> NodeId {
        let name = Name::Bytes(self.arena.alloc_slice_copy(display));
        self.push(None, name, own, hidden, NodeKind::Plain)
    }

    /// A directory at a printed depth; its name is interned.
    pub fn add_dir(&mut self, parent: NodeId, name: &[u8], own: Totals) -> NodeId {
        self.add_dir_at(parent, name, own, true)
    }

    /// A directory: at a printed depth (`printed`), or below it, which only
    /// `-S` keeps a node for (its entries then count in the grand total
    /// only).
    pub fn add_dir_at(
        &mut self,
        parent: NodeId,
        name: &[u8],
        own: Totals,
        printed: bool,
    ) -> NodeId {
        let name = match std::str::from_utf8(name) {
            Ok(text) => Name::Interned(self.data.names.get_or_intern(text)),
            Err(_) => Name::Bytes(self.arena.alloc_slice_copy(name)),
        };
        let kind = if printed {
            NodeKind::Dir
        } else {
            NodeKind::DeepDir
        };
        self.push(Some(parent), name, own, false, kind)
    }

    /// A file printed by `-a`; `hidden` until its hard links are resolved.
    pub fn add_file(&mut self, parent: NodeId, name: &[u8], own: Totals, hidden: bool) -> NodeId {
        let name = Name::Bytes(self.arena.alloc_slice_copy(name));
        self.push(Some(parent), name, own, hidden, NodeKind::Plain)
    }

    /// Charge `totals` to `node`, which may belong to any table.
    pub fn charge(&mut self, node: NodeId, totals: &Totals) {
        self.data.charges.entry(node).or_default().add(totals);
    }

    /// How many nodes this table holds.
    pub fn len(&self) -> usize {
        self.data.nodes.len()
    }

    /// Whether the table holds no node.
    pub fn is_empty(&self) -> bool {
        self.data.nodes.is_empty()
    }
}

const NONE: u32 = u32::MAX;

/// All tables joined, children sorted by name.
pub struct Tree<'t> {
    names: Vec<&'t [u8]>,
    parent: Vec<u32>,
    total: Vec<Totals>,
    hidden: Vec<bool>,
    kind: Vec<NodeKind>,
    children: Vec<Vec<u32>>,
    roots: Vec<u32>,
}

impl<'t> Tree<'t> {
    /// Join the tables (table 0 holds the path arguments, in order), apply
    /// every charge and resolve multiply-linked files.
    pub fn assemble(tables: &'t [Nodes<'_>], links: Vec<Occurrences>) -> Tree<'t> {
        let mut base = Vec::with_capacity(tables.len());
        let mut count = 0usize;
        for t in tables {
            debug_assert_eq!(t.id, base.len());
            base.push(count);
            count += t.nodes.len();
        }
        let global = |id: NodeId| (base[id.table()] + id.index()) as u32;
        let mut tree = Tree {
            names: Vec::with_capacity(count),
            parent: Vec::with_capacity(count),
            total: Vec::with_capacity(count),
            hidden: Vec::with_capacity(count),
            kind: Vec::with_capacity(count),
            children: vec![Vec::new(); count],
            roots: Vec::new(),
        };
        for t in tables {
            for node in &t.nodes {
                let g = tree.names.len() as u32;
                tree.names.push(match node.name {
                    Name::Interned(key) => t.names.resolve(&key).as_bytes(),
                    Name::Bytes(bytes) => bytes,
                });
                let parent = node.parent.map_or(NONE, global);
                tree.parent.push(parent);
                if parent == NONE {
                    tree.roots.push(g);
                } else {
                    tree.children[parent as usize].push(g);
                }
                tree.total.push(node.own);
                tree.hidden.push(node.hidden);
                tree.kind.push(node.kind);
            }
        }
        for t in tables {
            for (node, totals) in &t.charges {
                tree.total[global(*node) as usize].add(totals);
            }
        }
        let names = &tree.names;
        for kids in &mut tree.children {
            kids.sort_unstable_by(|&a, &b| names[a as usize].cmp(names[b as usize]));
        }
        if !links.is_empty() {
            let order = tree.preorder();
            for occ in links {
                let winner = occ
                    .nodes
                    .iter()
                    .map(|&n| global(n))
                    .min_by_key(|&g| order[g as usize])
                    .expect("an occurrence list is never empty");
                tree.total[winner as usize].add(&occ.totals);
                tree.hidden[winner as usize] = false;
            }
        }
        tree
    }

    /// Every node's position in a depth-first, name-ordered walk.
    fn preorder(&self) -> Vec<u32> {
        let mut order = vec![0u32; self.names.len()];
        let mut next = 0u32;
        let mut stack: Vec<u32> = self.roots.iter().rev().copied().collect();
        while let Some(n) = stack.pop() {
            order[n as usize] = next;
            next += 1;
            stack.extend(self.children[n as usize].iter().rev());
        }
        order
    }

    /// Call `line(totals, path)` for every printed node: each argument in
    /// order, children before their parent, siblings in byte order of their
    /// names. Returns the grand total of all arguments.
    ///
    /// With `separate_dirs` (`-S`), a directory's totals are not added to
    /// its parent's (as du's `dulvl[].ent`): each directory prints itself
    /// and the entries directly in it, and the grand total still counts
    /// everything.
    pub fn emit(self, line: impl FnMut(&Totals, &[u8])) -> Totals {
        self.emit_with(false, line)
    }

    /// [`Tree::emit`], with or without `-S`.
    pub fn emit_with(
        mut self,
        separate_dirs: bool,
        mut line: impl FnMut(&Totals, &[u8]),
    ) -> Totals {
        let mut grand = Totals::default();
        let mut path: Vec<u8> = Vec::new();
        let roots = std::mem::take(&mut self.roots);
        for root in roots {
            path.clear();
            path.extend_from_slice(self.names[root as usize]);
            // (node, next child to visit, path length before the node)
            let mut stack: Vec<(u32, usize, usize)> = vec![(root, 0, 0)];
            while let Some(top) = stack.last_mut() {
                let (node, next, saved) = *top;
                if let Some(&child) = self.children[node as usize].get(next) {
                    top.1 += 1;
                    let before = path.len();
                    if path.last() != Some(&b'/') {
                        path.push(b'/');
                    }
                    path.extend_from_slice(self.names[child as usize]);
                    stack.push((child, 0, before));
                    continue;
                }
                stack.pop();
                let totals = self.total[node as usize];
                let kind = self.kind[node as usize];
                if !self.hidden[node as usize] && kind != NodeKind::DeepDir {
                    line(&totals, &path);
                }
                match self.parent[node as usize] {
                    NONE => grand.add(&totals),
                    _ if separate_dirs && kind != NodeKind::Plain => grand.add(&totals),
                    p => self.total[p as usize].add(&totals),
                }
                path.truncate(saved);
            }
        }
        grand
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(disk: u64) -> Totals {
        Totals {
            disk,
            apparent: disk,
            inodes: 1,
            time: Stamp::MIN,
        }
    }

    #[test]
    fn emits_children_first_in_name_order_and_charges_links_to_the_first() {
        let (a0, a1) = (Bump::new(), Bump::new());
        let mut main = NodeTable::new(0, &a0);
        let mut w = NodeTable::new(1, &a1);
        let root = main.add_root(b"r/", t(1), false);
        let b = w.add_dir(root, b"b", t(10));
        let a = w.add_dir(root, b"a", t(100));
        let fb = w.add_file(b, b"f", Totals::default(), true);
        let fa = w.add_file(a, b"f", Totals::default(), true);
        w.charge(b, &t(5));
        let links = vec![Occurrences {
            totals: t(1000),
            nodes: vec![fb, fa],
        }];
        let tables = [main.into_nodes(), w.into_nodes()];
        let mut lines = Vec::new();
        let grand = Tree::assemble(&tables, links)
            .emit(|tot, p| lines.push((tot.disk, String::from_utf8_lossy(p).into_owned())));
        assert_eq!(
            lines,
            [
                (1000, "r/a/f".to_string()),
                (1100, "r/a".to_string()),
                (15, "r/b".to_string()),
                (1116, "r/".to_string()),
            ]
        );
        assert_eq!(grand.disk, 1116);
    }
}
