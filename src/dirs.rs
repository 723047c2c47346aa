//! Where the walker is: a directory's chain of names up to its argument
//! (`PathNode`, shared while tasks below it wait), and what a visitor is
//! shown of it ([`DirRef`], [`DirPath`]). The walker (`crate::walk`) makes
//! them; the visitor traits (`crate::visit`) take them.
use std::ffi::CString;
use std::sync::Arc;

use crate::tree::join;

/// A directory's place in the tree: its name and its parent's. Kept only
/// while tasks below it are pending; used to print paths and to reopen
/// directories whose fd was closed to stay within the fd budget.
pub(crate) struct PathNode {
    pub(crate) parent: Option<Arc<PathNode>>,
    /// The component name; for a path argument, the path as given.
    pub(crate) name: CString,
    /// `(st_dev, st_ino)`: a directory whose identity is one of its
    /// ancestors' is a cycle (a bind mount of an ancestor, a symlink to one
    /// under `-L`), skipped as du's fts skips it.
    pub(crate) id: (u64, u64),
    /// One bit per identity of this directory and its ancestors: a clear
    /// bit proves an identity is not among them without walking the chain.
    pub(crate) ancestors: u64,
    /// Symbolic links followed from the argument to this directory, as the
    /// kernel counts them in a full path (see `fdu_platform::hops`).
    pub(crate) hops: u32,
}

/// The bit of [`PathNode::ancestors`] for one identity.
fn id_bit(id: (u64, u64)) -> u64 {
    let mix = (id.0 ^ id.1.rotate_left(32)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    1 << (mix >> 58)
}

impl PathNode {
    /// The node of a path argument.
    pub(crate) fn root(name: CString, id: (u64, u64), hops: u32) -> Arc<PathNode> {
        Arc::new(PathNode {
            parent: None,
            name,
            id,
            ancestors: id_bit(id),
            hops,
        })
    }

    /// The node of `name`, a subdirectory of `parent`.
    pub(crate) fn child(
        parent: &Arc<PathNode>,
        name: CString,
        id: (u64, u64),
        hops: u32,
    ) -> Arc<PathNode> {
        Arc::new(PathNode {
            ancestors: parent.ancestors | id_bit(id),
            parent: Some(parent.clone()),
            name,
            id,
            hops,
        })
    }

    /// This directory, then its parent, up to the argument.
    pub(crate) fn ancestors(&self) -> impl Iterator<Item = &PathNode> {
        std::iter::successors(Some(self), |node| node.parent.as_deref())
    }

    /// The chain from the argument down to this directory.
    pub(crate) fn chain_from_root(&self) -> Vec<&PathNode> {
        let mut chain: Vec<&PathNode> = self.ancestors().collect();
        chain.reverse();
        chain
    }

    /// Write the printed path of this directory (and `leaf` below it).
    pub(crate) fn display(&self, leaf: Option<&[u8]>, out: &mut Vec<u8>) {
        let chain = self.chain_from_root();
        out.clear();
        out.extend_from_slice(&root_display(chain[0].name.as_bytes()));
        for n in &chain[1..] {
            join(out, n.name.as_bytes());
        }
        if let Some(leaf) = leaf {
            join(out, leaf);
        }
    }

    /// Append this directory's components, each followed by a NUL: byte
    /// order of such keys is path order (a parent before its children,
    /// siblings by name).
    pub(crate) fn order_key(&self, out: &mut Vec<u8>) {
        for node in self.chain_from_root() {
            out.extend_from_slice(node.name.as_bytes());
            out.push(0);
        }
    }

    /// Whether this directory or one of its ancestors is `id`.
    pub(crate) fn has_ancestor(&self, id: (u64, u64)) -> bool {
        self.ancestors & id_bit(id) != 0 && self.ancestors().any(|node| node.id == id)
    }

    pub(crate) fn display_owned(&self, leaf: Option<&[u8]>) -> Vec<u8> {
        let mut out = Vec::new();
        self.display(leaf, &mut out);
        out
    }
}

/// A path argument as du prints it: two or more trailing slashes become one.
pub fn root_display(arg: &[u8]) -> Vec<u8> {
    let mut len = arg.len();
    if len > 2 && arg[len - 1] == b'/' {
        while len > 1 && arg[len - 2] == b'/' {
            len -= 1;
        }
    }
    arg[..len].to_vec()
}

/// The directory an entry was found in, kept: the walker's chain of names
/// up to the argument, shared, not a path string. Cheap to clone (a
/// reference count); a clone keeps the chain alive. For a path argument
/// there is no directory, and the name is the path.
#[derive(Clone)]
pub struct DirPath(pub(crate) Option<Arc<PathNode>>);

impl DirPath {
    /// No directory: names written with it are path arguments.
    pub fn argument() -> DirPath {
        DirPath(None)
    }
}

/// The directory whose entry a visitor is shown: its state, its depth and
/// its path (see [`crate::visit::Visit::entry`]).
pub struct DirRef<'a, D> {
    pub(crate) path: &'a Arc<PathNode>,
    pub(crate) depth: usize,
    pub(crate) state: &'a D,
    pub(crate) batch: u32,
    pub(crate) index: u32,
}

impl<D> DirRef<'_, D> {
    /// The batch of entries visited after the walk of their argument (see
    /// [`DirRef::batch`]).
    pub const LATE: u32 = u32::MAX;

    /// What the visitor keeps for this directory.
    pub fn state(&self) -> &D {
        self.state
    }

    /// Its level: 0 for a path argument, so its entries are at `depth + 1`.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Which batch of the directory's listing the entry is in: batches
    /// are numbered from 0 in listing order, and a visitor sees the
    /// entries of one batch in that order, so `(batch, position)` orders
    /// a directory's entries as the listing did whichever worker stat'ed
    /// them (see [`DirRef::index`]). Symlinked directories set aside under
    /// `-L` come last ([`DirRef::LATE`]).
    pub fn batch(&self) -> u32 {
        self.batch
    }

    /// The entry's position in its batch, as listed (a backend may stat a
    /// batch's entries out of order).
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The directory, kept (see [`DirPath`]).
    pub fn to_path(&self) -> DirPath {
        DirPath(Some(self.path.clone()))
    }

    /// Write the path of `name` in this directory, as du prints it, to
    /// `out` (replacing what it held).
    pub fn write_path(&self, name: &[u8], out: &mut Vec<u8>) {
        self.path.display(Some(name), out);
    }
}

impl DirPath {
    /// Write the path of `name` in this directory, as du prints it, to
    /// `out` (replacing what it held).
    pub fn write_path(&self, name: &[u8], out: &mut Vec<u8>) {
        match &self.0 {
            Some(dir) => dir.display(Some(name), out),
            None => {
                out.clear();
                out.extend_from_slice(name);
            }
        }
    }
}
