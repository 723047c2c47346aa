//! The result of a scan: the nodes du prints, as an owned tree.
//!
//! Each worker of the du count (`crate::count`) keeps a [`NodeTable`]: the
//! directories (and, with `-a`, files) it found at a retained depth, their
//! names (directory names interned with lasso, other names appended to one
//! byte buffer) and the totals it charged to any node. Deeper entries are
//! folded into their ancestor at that depth while walking, so `fdu -s`
//! keeps one node per path argument however many files it meets.
//!
//! After the walk, [`Tree::assemble`] joins the tables into a [`Tree`] that
//! owns everything (names in one buffer, children sorted by name), charges
//! each multiply-linked file to its first occurrence in that order, and sums
//! every node's total the way du prints it. The tree outlives the scan: du's
//! lines, `--json` and `--top` are all read from it.
use lasso::{Rodeo, Spur};

use fdu_platform::Meta;

use crate::ids::IdMap;
use crate::wire::{Reader, Writer};

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
    /// The most tables a scan may number (table numbers are below it).
    pub const TABLES: usize = 1 << (64 - INDEX_BITS);

    /// The node at `index` of table `table`.
    pub fn new(table: usize, index: usize) -> NodeId {
        NodeId(((table as u64) << INDEX_BITS) | index as u64)
    }

    /// The node as one number (what [`NodeId::from_bits`] takes back).
    pub fn bits(self) -> u64 {
        self.0
    }

    /// The node [`NodeId::bits`] gave.
    pub fn from_bits(bits: u64) -> NodeId {
        NodeId(bits)
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
    /// Directories among the entries (the rest of `inodes` are files,
    /// symlinks and other non-directories).
    pub dirs: u64,
    /// Entries that could not be read (a directory that could not be
    /// listed, an entry that could not be stat'ed).
    pub errors: u64,
}

impl Default for Totals {
    fn default() -> Totals {
        Totals {
            disk: 0,
            apparent: 0,
            inodes: 0,
            time: Stamp::MIN,
            dirs: 0,
            errors: 0,
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
            dirs: u64::from(meta.kind == fdu_platform::Kind::Dir),
            errors: 0,
        }
    }

    /// Add `other` into `self` (the later time wins).
    pub fn add(&mut self, other: &Totals) {
        self.disk = self.disk.saturating_add(other.disk);
        self.apparent = self.apparent.saturating_add(other.apparent);
        self.inodes = self.inodes.saturating_add(other.inodes);
        self.time = self.time.max(other.time);
        self.dirs = self.dirs.saturating_add(other.dirs);
        self.errors = self.errors.saturating_add(other.errors);
    }

    /// Write the totals to `w` (see [`Totals::read`]).
    pub fn write(&self, w: &mut Writer) {
        w.u64(self.disk);
        w.u64(self.apparent);
        w.u64(self.inodes);
        w.i64(self.time.sec);
        w.u32(self.time.nsec);
        w.u64(self.dirs);
        w.u64(self.errors);
    }

    /// Totals [`Totals::write`] wrote.
    pub fn read(r: &mut Reader<'_>) -> Option<Totals> {
        Some(Totals {
            disk: r.u64()?,
            apparent: r.u64()?,
            inodes: r.u64()?,
            time: Stamp {
                sec: r.i64()?,
                nsec: r.u32()?,
            },
            dirs: r.u64()?,
            errors: r.u64()?,
        })
    }

    /// Bytes [`Totals::write`] takes.
    pub const WIRE: usize = 52;

    /// One error, and nothing else.
    pub fn error() -> Totals {
        Totals {
            errors: 1,
            ..Totals::default()
        }
    }

    /// Non-directory entries (`inodes - dirs`).
    pub fn files(&self) -> u64 {
        self.inodes.saturating_sub(self.dirs)
    }
}

/// Where a table keeps a node's name.
#[derive(Clone, Copy)]
enum Name {
    /// A directory name that is valid UTF-8: interned (the same names
    /// recur across a tree: `src`, `lib`, `.git`).
    Interned(Spur),
    /// Any other name: `len` bytes at `start` of the table's byte buffer.
    Bytes { start: usize, len: usize },
}

struct Node {
    parent: Option<NodeId>,
    name: Name,
    own: Totals,
    /// A multiply-linked file printed with `-a`: shown only if this
    /// occurrence is the one charged.
    hidden: bool,
    kind: NodeKind,
}

/// What a node of the tree is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NodeKind {
    /// A path argument.
    Root,
    /// A file (any non-directory) printed with `-a`.
    File,
    /// A directory at a printed depth.
    Dir,
    /// A directory below the print depth (`-S` only): never printed,
    /// counted in the grand total; `-S` keeps a directory's totals out of
    /// its parent's, so these need nodes of their own.
    DeepDir,
}

/// One worker's nodes, names and charges.
pub struct NodeTable {
    id: usize,
    nodes: Vec<Node>,
    names: Rodeo,
    bytes: Vec<u8>,
    charges: IdMap<NodeId, Totals>,
}

impl NodeTable {
    /// An empty table numbered `id` (table 0 holds the path arguments).
    pub fn new(id: usize) -> NodeTable {
        NodeTable {
            id,
            nodes: Vec::new(),
            names: Rodeo::new(),
            bytes: Vec::new(),
            charges: IdMap::default(),
        }
    }

    fn push(
        &mut self,
        parent: Option<NodeId>,
        name: Name,
        own: Totals,
        hidden: bool,
        kind: NodeKind,
    ) -> NodeId {
        let id = NodeId::new(self.id, self.nodes.len());
        self.nodes.push(Node {
            parent,
            name,
            own,
            hidden,
            kind,
        });
        id
    }

    fn bytes(&mut self, name: &[u8]) -> Name {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(name);
        Name::Bytes {
            start,
            len: name.len(),
        }
    }

    fn name(&self, name: Name) -> &[u8] {
        match name {
            Name::Interned(key) => self.names.resolve(&key).as_bytes(),
            Name::Bytes { start, len } => &self.bytes[start..start + len],
        }
    }

    /// A path argument: `display` is the path as printed.
    pub fn add_root(&mut self, display: &[u8], own: Totals, hidden: bool) -> NodeId {
        let name = self.bytes(display);
        self.push(None, name, own, hidden, NodeKind::Root)
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
            Ok(text) => Name::Interned(self.names.get_or_intern(text)),
            Err(_) => self.bytes(name),
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
        let name = self.bytes(name);
        self.push(Some(parent), name, own, hidden, NodeKind::File)
    }

    /// Charge `totals` to `node`, which may belong to any table.
    pub fn charge(&mut self, node: NodeId, totals: &Totals) {
        if node.table() == self.id {
            self.nodes[node.index()].own.add(totals);
        } else {
            self.charges.entry(node).or_default().add(totals);
        }
    }

    /// How many nodes this table holds.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The table's number.
    pub fn id(&self) -> usize {
        self.id
    }

    /// Write the table to `w`, names as bytes (see [`NodeTable::read`]):
    /// how a process of a distributed scan hands its part to the one that
    /// assembles the tree.
    pub fn write(&self, w: &mut Writer) {
        w.u64(self.id as u64);
        w.u64(self.nodes.len() as u64);
        for node in &self.nodes {
            w.u64(node.parent.map_or(u64::MAX, NodeId::bits));
            w.u8(match node.kind {
                NodeKind::Root => 0,
                NodeKind::File => 1,
                NodeKind::Dir => 2,
                NodeKind::DeepDir => 3,
            });
            w.u8(u8::from(node.hidden));
            w.bytes(self.name(node.name));
            node.own.write(w);
        }
        w.u64(self.charges.len() as u64);
        // In node order: the same table, the same bytes.
        let mut charges: Vec<_> = self.charges.iter().collect();
        charges.sort_unstable_by_key(|(node, _)| **node);
        for (node, totals) in charges {
            w.u64(node.bits());
            totals.write(w);
        }
    }

    /// A table [`NodeTable::write`] wrote; `None` if the bytes are not
    /// one (cut short, a kind or number out of range).
    pub fn read(r: &mut Reader<'_>) -> Option<NodeTable> {
        let id = usize::try_from(r.u64()?).ok()?;
        if id >= NodeId::TABLES {
            return None;
        }
        let mut table = NodeTable::new(id);
        let nodes = r.count(8 + 2 + 8 + Totals::WIRE)?;
        table.nodes.reserve(nodes);
        for _ in 0..nodes {
            let parent = match r.u64()? {
                u64::MAX => None,
                bits => Some(NodeId::from_bits(bits)),
            };
            let kind = match r.u8()? {
                0 => NodeKind::Root,
                1 => NodeKind::File,
                2 => NodeKind::Dir,
                3 => NodeKind::DeepDir,
                _ => return None,
            };
            let hidden = match r.u8()? {
                0 => false,
                1 => true,
                _ => return None,
            };
            let name = r.bytes()?;
            let own = Totals::read(r)?;
            if (kind == NodeKind::Root) != parent.is_none() {
                return None;
            }
            let name = match kind {
                NodeKind::Dir | NodeKind::DeepDir => match std::str::from_utf8(name) {
                    Ok(text) => Name::Interned(table.names.get_or_intern(text)),
                    Err(_) => table.bytes(name),
                },
                _ => table.bytes(name),
            };
            table.push(parent, name, own, hidden, kind);
        }
        let charges = r.count(8 + Totals::WIRE)?;
        for _ in 0..charges {
            let node = NodeId::from_bits(r.u64()?);
            let totals = Totals::read(r)?;
            table.charges.entry(node).or_default().add(&totals);
        }
        Some(table)
    }

    /// Whether the table holds no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// "No node": the parent of a root.
const NONE: u32 = u32::MAX;

/// A node of a [`Tree`]: an index into it.
pub type Index = u32;

/// One node of a [`Tree`].
#[derive(Clone, Copy, Debug)]
struct TreeNode {
    name_start: usize,
    name_len: u32,
    parent: u32,
    /// Children: `kids_len` indices at `kids_start` of `Tree::kids`.
    kids_start: u32,
    kids_len: u32,
    kind: NodeKind,
    hidden: bool,
    /// What du prints for the node (its own entries, its children's
    /// totals unless `-S` keeps directories apart).
    total: Totals,
}

/// The owned result of a scan: every retained node, names in one byte
/// buffer, children in byte order of their names, totals as du prints
/// them.
pub struct Tree {
    names: Vec<u8>,
    nodes: Vec<TreeNode>,
    kids: Vec<u32>,
    roots: Vec<u32>,
    grand: Totals,
    separate_dirs: bool,
}

impl Tree {
    /// Join the tables (table 0 holds the path arguments, in order), apply
    /// every charge, resolve multiply-linked files (each is charged to its
    /// first occurrence in path order), and sum the totals: with
    /// `separate_dirs` (`-S`, du's `dulvl[].ent`), a directory's total
    /// leaves out its subdirectories, and the grand total still counts
    /// everything.
    ///
    /// `tables` are in the order of their numbers, which need not be
    /// consecutive (a distributed scan numbers each process's from its
    /// own base); every node a table refers to is in one of them.
    pub fn assemble(tables: Vec<NodeTable>, links: Vec<Occurrences>, separate_dirs: bool) -> Tree {
        let top = tables.iter().map(|t| t.id + 1).max().unwrap_or(0);
        let mut base = vec![usize::MAX; top];
        let mut count = 0usize;
        let mut name_bytes = 0usize;
        for t in &tables {
            debug_assert_eq!(base[t.id], usize::MAX, "tables in order, once each");
            base[t.id] = count;
            count += t.nodes.len();
            name_bytes += t.nodes.iter().map(|n| t.name(n.name).len()).sum::<usize>();
        }
        assert!(count < NONE as usize, "more than 2^32 - 1 nodes");
        let global = |id: NodeId| (base[id.table()] + id.index()) as u32;
        let mut names = Vec::with_capacity(name_bytes);
        let mut nodes = Vec::with_capacity(count);
        let mut roots = Vec::new();
        let mut degree = vec![0u32; count];
        // Charges across tables, applied once every node is in place.
        let mut charges = Vec::new();
        // Each table is dropped once copied: the peak is the tree and one
        // table, not the tree and every table.
        for t in tables {
            for node in &t.nodes {
                let name = t.name(node.name);
                let g = nodes.len() as u32;
                let parent = node.parent.map_or(NONE, global);
                if parent == NONE {
                    roots.push(g);
                } else {
                    degree[parent as usize] += 1;
                }
                nodes.push(TreeNode {
                    name_start: names.len(),
                    name_len: name.len() as u32,
                    parent,
                    kids_start: 0,
                    kids_len: 0,
                    kind: node.kind,
                    hidden: node.hidden,
                    total: node.own,
                });
                names.extend_from_slice(name);
            }
            charges.extend(
                t.charges
                    .iter()
                    .map(|(node, totals)| (global(*node), *totals)),
            );
        }
        for (node, totals) in charges {
            nodes[node as usize].total.add(&totals);
        }
        // Children, laid out back to back (counting sort by parent).
        let mut start = 0u32;
        for (node, &d) in nodes.iter_mut().zip(&degree) {
            node.kids_start = start;
            start += d;
        }
        let mut kids = vec![0u32; start as usize];
        for g in 0..nodes.len() {
            let parent = nodes[g].parent;
            if parent != NONE {
                let p = &mut nodes[parent as usize];
                kids[(p.kids_start + p.kids_len) as usize] = g as u32;
                p.kids_len += 1;
            }
        }
        let mut tree = Tree {
            names,
            nodes,
            kids,
            roots,
            grand: Totals::default(),
            separate_dirs,
        };
        for n in 0..tree.nodes.len() {
            let TreeNode {
                kids_start,
                kids_len,
                ..
            } = tree.nodes[n];
            let range = kids_start as usize..(kids_start + kids_len) as usize;
            let (names, nodes) = (&tree.names, &tree.nodes);
            tree.kids[range].sort_unstable_by(|&a, &b| {
                let name = |i: u32| {
                    let n = &nodes[i as usize];
                    &names[n.name_start..n.name_start + n.name_len as usize]
                };
                name(a).cmp(name(b))
            });
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
                let node = &mut tree.nodes[winner as usize];
                node.total.add(&occ.totals);
                node.hidden = false;
            }
        }
        tree.sum();
        tree
    }

    /// Every node's position in a depth-first, name-ordered walk.
    fn preorder(&self) -> Vec<u32> {
        let mut order = vec![0u32; self.nodes.len()];
        let mut next = 0u32;
        let mut stack: Vec<u32> = self.roots.iter().rev().copied().collect();
        while let Some(n) = stack.pop() {
            order[n as usize] = next;
            next += 1;
            stack.extend(self.children(n).iter().rev());
        }
        order
    }

    /// Add every node's total into its parent's, children first.
    fn sum(&mut self) {
        let mut grand = Totals::default();
        for i in 0..self.roots.len() {
            let root = self.roots[i];
            // (node, children visited)
            let mut stack: Vec<(u32, u32)> = vec![(root, 0)];
            while let Some(top) = stack.last_mut() {
                let (node, next) = *top;
                let n = self.nodes[node as usize];
                if next < n.kids_len {
                    top.1 += 1;
                    stack.push((self.kids[(n.kids_start + next) as usize], 0));
                    continue;
                }
                stack.pop();
                match n.parent {
                    NONE => grand.add(&n.total),
                    _ if self.separate_dirs
                        && matches!(n.kind, NodeKind::Dir | NodeKind::DeepDir) =>
                    {
                        grand.add(&n.total)
                    }
                    p => self.nodes[p as usize].total.add(&n.total),
                }
            }
        }
        self.grand = grand;
    }

    /// The path arguments' nodes, in order.
    pub fn roots(&self) -> &[Index] {
        &self.roots
    }

    /// A node's children, in byte order of their names.
    pub fn children(&self, node: Index) -> &[Index] {
        let n = &self.nodes[node as usize];
        &self.kids[n.kids_start as usize..(n.kids_start + n.kids_len) as usize]
    }

    /// A node's name: the path as printed for a root, else the name in its
    /// directory.
    pub fn name(&self, node: Index) -> &[u8] {
        let n = &self.nodes[node as usize];
        &self.names[n.name_start..n.name_start + n.name_len as usize]
    }

    /// A node's parent (`None` for a root).
    pub fn parent(&self, node: Index) -> Option<Index> {
        match self.nodes[node as usize].parent {
            NONE => None,
            p => Some(p),
        }
    }

    /// What a node is.
    pub fn kind(&self, node: Index) -> NodeKind {
        self.nodes[node as usize].kind
    }

    /// Whether du prints a line for the node: not a link charged elsewhere,
    /// not a directory kept only for `-S`.
    pub fn printed(&self, node: Index) -> bool {
        let n = &self.nodes[node as usize];
        !n.hidden && n.kind != NodeKind::DeepDir
    }

    /// The node's totals, as du prints them.
    pub fn total(&self, node: Index) -> &Totals {
        &self.nodes[node as usize].total
    }

    /// The sum over every argument (`-c`).
    pub fn grand_total(&self) -> &Totals {
        &self.grand
    }

    /// How many nodes the tree holds.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the tree holds no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// A node's depth: 0 for a root.
    pub fn depth(&self, mut node: Index) -> usize {
        let mut depth = 0;
        while let Some(p) = self.parent(node) {
            node = p;
            depth += 1;
        }
        depth
    }

    /// Write the node's path, as du prints it, to `out` (replacing what it
    /// held).
    pub fn path(&self, node: Index, out: &mut Vec<u8>) {
        let mut chain = vec![node];
        let mut at = node;
        while let Some(p) = self.parent(at) {
            chain.push(p);
            at = p;
        }
        out.clear();
        out.extend_from_slice(self.name(at));
        for &n in chain.iter().rev().skip(1) {
            join(out, self.name(n));
        }
    }

    /// Call `line(node, path)` for every node du prints: each argument in
    /// order, children before their parent, siblings in byte order of their
    /// names.
    pub fn post_order(&self, mut line: impl FnMut(Index, &[u8])) {
        let mut path: Vec<u8> = Vec::new();
        for &root in &self.roots {
            path.clear();
            path.extend_from_slice(self.name(root));
            // (node, next child to visit, path length before the node)
            let mut stack: Vec<(u32, u32, usize)> = vec![(root, 0, 0)];
            while let Some(top) = stack.last_mut() {
                let (node, next, saved) = *top;
                if let Some(&child) = self.children(node).get(next as usize) {
                    top.1 += 1;
                    let before = path.len();
                    join(&mut path, self.name(child));
                    stack.push((child, 0, before));
                    continue;
                }
                stack.pop();
                if self.printed(node) {
                    line(node, &path);
                }
                path.truncate(saved);
            }
        }
    }
}

/// Append the component `name` to a path (a root's name as given) as fts
/// builds `fts_path`: the paths du prints, the walker, [`Tree::path`] and
/// an export's reader write.
pub fn join(path: &mut Vec<u8>, name: &[u8]) {
    if path.last() != Some(&b'/') {
        path.push(b'/');
    }
    path.extend_from_slice(name);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(disk: u64) -> Totals {
        Totals {
            disk,
            apparent: disk,
            inodes: 1,
            ..Totals::default()
        }
    }

    #[test]
    fn emits_children_first_in_name_order_and_charges_links_to_the_first() {
        let mut main = NodeTable::new(0);
        let mut w = NodeTable::new(1);
        let root = main.add_root(b"r/", t(1), false);
        let b = w.add_dir(root, b"b", t(10));
        let a = w.add_dir(root, b"a", t(100));
        let fb = w.add_file(b, b"f", Totals::default(), true);
        let fa = w.add_file(a, b"f", Totals::default(), true);
        w.charge(b, &t(5));
        main.charge(b, &t(7));
        let links = vec![Occurrences {
            totals: t(1000),
            nodes: vec![fb, fa],
        }];
        let tree = Tree::assemble(vec![main, w], links, false);
        let mut lines = Vec::new();
        tree.post_order(|n, p| {
            lines.push((tree.total(n).disk, String::from_utf8_lossy(p).into_owned()))
        });
        assert_eq!(
            lines,
            [
                (1000, "r/a/f".to_string()),
                (1100, "r/a".to_string()),
                (22, "r/b".to_string()),
                (1123, "r/".to_string()),
            ]
        );
        assert_eq!(tree.grand_total().disk, 1123);
        let mut path = Vec::new();
        let a = tree.children(tree.roots()[0])[0];
        let f = tree.children(a)[0];
        tree.path(f, &mut path);
        assert_eq!(path, b"r/a/f");
        assert_eq!(tree.depth(f), 2);
    }

    #[test]
    fn a_table_read_back_assembles_the_same_tree_from_sparse_numbers() {
        let mut main = NodeTable::new(0);
        let mut far = NodeTable::new(2050);
        let root = main.add_root(b"r", t(1), false);
        let d = far.add_dir(root, b"d\xff", t(10));
        let e = far.add_dir_at(d, b"deep", t(100), false);
        far.add_file(d, b"f", Totals::default(), true);
        far.charge(root, &t(7));
        main.charge(e, &t(3));
        let mut w = Writer::new();
        main.write(&mut w);
        far.write(&mut w);
        let mut r = Reader::new(&w.bytes);
        let (main2, far2) = (
            NodeTable::read(&mut r).unwrap(),
            NodeTable::read(&mut r).unwrap(),
        );
        assert!(r.is_empty());
        assert_eq!(far2.id(), 2050);
        let lines = |tree: &Tree| {
            let mut lines = Vec::new();
            tree.post_order(|n, p| lines.push((tree.total(n).disk, p.to_vec())));
            lines
        };
        let a = Tree::assemble(vec![main, far], Vec::new(), false);
        let b = Tree::assemble(vec![main2, far2], Vec::new(), false);
        assert_eq!(lines(&a), lines(&b));
        assert_eq!(
            lines(&a),
            [(113, b"r/d\xff".to_vec()), (121, b"r".to_vec())]
        );
        // Cut short anywhere, or a kind out of range: refused.
        let mut first = Writer::new();
        NodeTable::read(&mut Reader::new(&w.bytes))
            .unwrap()
            .write(&mut first);
        for end in 0..first.bytes.len() {
            let mut r = Reader::new(&w.bytes[..end]);
            assert!(NodeTable::read(&mut r).is_none(), "cut at {end}");
        }
        let mut bad = w.bytes.clone();
        bad[16 + 8] = 9;
        assert!(NodeTable::read(&mut Reader::new(&bad)).is_none());
    }

    #[test]
    fn separate_dirs_keep_subdirectories_out_of_their_parent() {
        let mut main = NodeTable::new(0);
        let root = main.add_root(b"r", t(1), false);
        let d = main.add_dir(root, b"d", t(10));
        main.add_dir_at(d, b"deep", t(100), false);
        main.add_file(root, b"f", t(1000), false);
        let tree = Tree::assemble(vec![main], Vec::new(), true);
        let mut lines = Vec::new();
        tree.post_order(|n, p| lines.push((tree.total(n).disk, p.to_vec())));
        assert_eq!(
            lines,
            [
                (10, b"r/d".to_vec()),
                (1000, b"r/f".to_vec()),
                (1001, b"r".to_vec())
            ]
        );
        assert_eq!(tree.grand_total().disk, 1111);
    }
}
