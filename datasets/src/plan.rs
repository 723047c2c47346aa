//! The plan: every directory and entry of a tree, decided up front from
//! (shape, entries, seed) alone, before anything touches the disk. Creation
//! order and thread count therefore cannot change what is made.

use std::collections::VecDeque;
use std::fmt;
use std::ops::Range;

use crate::rng::Rng;

/// Which kind of tree to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Shape {
    /// Source-tree-like: nested dirs, lognormal small files, hard links,
    /// symlinks (dangling, loops), sparse files, odd names. The main benchmark.
    Mixed,
    /// Three directories holding all entries between them.
    Wide,
    /// One directory chain whose path is far longer than PATH_MAX.
    Deep,
    /// Duplicate-finder traps: groups of identical files, same-size files
    /// differing only in the first, a middle or the last byte, hard-linked
    /// copies, empty files, unique files, a few large duplicates.
    Dups,
}

impl Shape {
    /// The shape's name as given on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Mixed => "mixed",
            Shape::Wide => "wide",
            Shape::Deep => "deep",
            Shape::Dups => "dups",
        }
    }

    fn salt(self) -> u64 {
        match self {
            Shape::Mixed => 0x6d69_7865_6400_0000,
            Shape::Wide => 0x7769_6465_0000_0000,
            Shape::Deep => 0x6465_6570_0000_0000,
            Shape::Dups => 0x6475_7073_0000_0000,
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One planned directory. Index 0 is the tree's root (empty name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirPlan {
    /// Index of the parent directory (the root is its own parent).
    pub parent: u32,
    /// Depth below the root (root = 0).
    pub depth: u32,
    /// File name bytes (may be non-UTF-8; at most 255 bytes).
    pub name: Vec<u8>,
}

/// What a symlink points at, for the manifest's counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkClass {
    /// An existing regular file in the tree.
    File,
    /// An existing directory in the tree.
    Dir,
    /// `.`, `..` or a further ancestor: a directory loop when followed.
    Ancestor,
    /// Nothing (dangling).
    Dangling,
    /// Itself, or a partner that points back: ELOOP when followed.
    Loop,
}

/// What one non-directory entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A regular file with `size` bytes of data.
    File {
        /// Apparent size, all written.
        size: u64,
    },
    /// A regular file whose bytes are the stream of content `content`
    /// ([`data_byte`]), with the byte at `flip` inverted: files with equal
    /// `(size, content, flip)` are byte-identical, others differ.
    Data {
        /// Apparent size, all written.
        size: u64,
        /// Which content stream.
        content: u64,
        /// A byte offset to invert, making a near-duplicate.
        flip: Option<u64>,
    },
    /// A sparse regular file: `len` bytes long, only a few written.
    Sparse {
        /// Apparent size.
        len: u64,
    },
    /// An extra name for the regular file at `items[target]`.
    HardLink {
        /// Index into [`Plan::items`] of a `File`.
        target: u32,
    },
    /// A symbolic link.
    Symlink {
        /// The link's content.
        target: Vec<u8>,
        /// What the content resolves to.
        class: LinkClass,
    },
}

/// One planned non-directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// Index of the directory that holds it.
    pub dir: u32,
    /// File name bytes (may be non-UTF-8; at most 255 bytes).
    pub name: Vec<u8>,
    /// What it is.
    pub kind: Kind,
}

/// Bytes written at each end of a sparse file.
pub const SPARSE_MARK: &[u8; 8] = b"fdu-hole";

/// The longest name a Linux filesystem takes.
pub const NAME_MAX: usize = 255;

/// The complete description of a tree.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The tree's shape.
    pub shape: Shape,
    /// Entries requested (the root counts as one).
    pub entries: u64,
    /// Seed of the PRNG.
    pub seed: u64,
    /// All directories, parents before children; `dirs[0]` is the root.
    pub dirs: Vec<DirPlan>,
    /// All other entries, sorted by `dir`.
    pub items: Vec<Item>,
}

const DIR_WORDS: &[&str] = &[
    "src", "lib", "core", "util", "test", "tests", "docs", "include", "net", "fs", "drivers",
    "arch", "tools", "scripts", "build", "vendor", "internal", "api", "cmd", "pkg", "common",
    "config", "data", "assets", "examples", "bench", "proto", "gen", "ui", "server", "client",
    "model", "io", "sys", "mem", "crypto", "parser", "codec", "kernel", "sound", "video",
];
const FILE_STEMS: &[&str] = &[
    "main", "mod", "util", "lib", "index", "types", "config", "test", "helper", "handler",
    "parser", "reader", "writer", "buffer", "client", "server", "error", "common", "init",
    "README", "Makefile", "LICENSE", "setup", "build", "api", "core", "hash", "map", "list",
];
const EXTS: &[&str] = &[
    "c", "c", "h", "h", "rs", "rs", "py", "js", "go", "txt", "md", "json", "o", "html", "toml",
    "yaml", "S", "cpp",
];

/// Mixed: directory depth cap (root = 0).
const MAX_DEPTH: u32 = 8;
/// Mixed: probability that a non-root directory gets subdirectories.
const P_EXPAND: f64 = 0.25;
/// Mixed: mean entries per directory (directory included), sets the dir count.
const ENTRIES_PER_DIR: u64 = 16;
/// Mixed: the largest "large" file.
const LARGE_MAX: u64 = 4 << 20;

impl Plan {
    /// Plan a tree of `entries` entries (root included; at least 1).
    pub fn new(shape: Shape, entries: u64, seed: u64) -> Plan {
        assert!(entries >= 1, "a tree has at least its root");
        assert!(entries <= u64::from(u32::MAX), "too many entries");
        let mut rng = Rng::new(seed ^ shape.salt());
        let (dirs, items) = match shape {
            Shape::Mixed => mixed(&mut rng, entries),
            Shape::Wide => wide(&mut rng, entries),
            Shape::Deep => deep(&mut rng, entries),
            Shape::Dups => dups(&mut rng, entries),
        };
        debug_assert_eq!((dirs.len() + items.len()) as u64, entries);
        debug_assert!(items.windows(2).all(|w| w[0].dir <= w[1].dir));
        Plan {
            shape,
            entries,
            seed,
            dirs,
            items,
        }
    }

    /// The path of directory `d` relative to the root (empty for the root).
    pub fn dir_path(&self, d: u32) -> Vec<u8> {
        path_of(&self.dirs, d)
    }

    /// For each directory, the range of [`Plan::items`] it holds.
    pub fn dir_ranges(&self) -> Vec<Range<usize>> {
        dir_ranges(&self.items, self.dirs.len())
    }
}

/// Name bytes padded with `fill` up to exactly [`NAME_MAX`] bytes, then `suffix`.
fn long_name(prefix: &str, fill: u8, suffix: &str) -> Vec<u8> {
    let mut n = prefix.as_bytes().to_vec();
    n.resize(NAME_MAX - suffix.len(), fill);
    n.extend_from_slice(suffix.as_bytes());
    debug_assert_eq!(n.len(), NAME_MAX);
    n
}

/// Non-UTF-8 names in a few flavours (Latin-1, stray continuation/invalid bytes).
fn non_utf8_name(k: u64, flavour: u64, ext: &str) -> Vec<u8> {
    let mut n: Vec<u8> = match flavour % 3 {
        0 => b"caf\xe9-latin1-".to_vec(),
        1 => b"raw-\xff\xfe-".to_vec(),
        _ => b"\xc3\x28bad-".to_vec(),
    };
    n.extend_from_slice(format!("{k}{ext}").as_bytes());
    debug_assert!(std::str::from_utf8(&n).is_err());
    n
}

/// Grow a directory tree of exactly `total` dirs (root included), breadth first:
/// each dir gets 5-30 subdirs with probability [`P_EXPAND`] (the root always),
/// never below [`MAX_DEPTH`].
fn grow_dirs(rng: &mut Rng, total: usize) -> Vec<DirPlan> {
    let mut dirs = vec![DirPlan {
        parent: 0,
        depth: 0,
        name: Vec::new(),
    }];
    let mut children = vec![0u64];
    let mut queue = VecDeque::from([0u32]);
    while dirs.len() < total {
        let (p, forced) = match queue.pop_front() {
            Some(p) => (p, false),
            // Everything left was a leaf: reopen a random shallow-enough dir.
            None => loop {
                let c = rng.index(dirs.len());
                if dirs[c].depth < MAX_DEPTH {
                    break (c as u32, true);
                }
            },
        };
        let depth = dirs[p as usize].depth;
        if depth >= MAX_DEPTH || !(p == 0 || forced || rng.chance(P_EXPAND)) {
            continue;
        }
        let fan = (rng.range(5, 30) as usize).min(total - dirs.len());
        for _ in 0..fan {
            let k = children[p as usize];
            children[p as usize] += 1;
            let name = format!("{}{k}", rng.pick(DIR_WORDS)).into_bytes();
            dirs.push(DirPlan {
                parent: p,
                depth: depth + 1,
                name,
            });
            children.push(0);
            queue.push_back((dirs.len() - 1) as u32);
        }
    }
    // Odd directory names: one of NAME_MAX bytes, one non-UTF-8 (file names
    // never lack a '.', directory names never have one: no clashes).
    if dirs.len() >= 3 {
        let a = 1 + rng.index(dirs.len() - 1);
        let mut b = 1 + rng.index(dirs.len() - 1);
        if b == a {
            b = if a + 1 < dirs.len() { a + 1 } else { a - 1 };
        }
        if b != 0 && b != a {
            dirs[a].name = long_name(&format!("longdir{a}-"), b'd', "");
            let mut n = b"dir-\xe9t\xe9-".to_vec();
            n.extend_from_slice(b.to_string().as_bytes());
            dirs[b].name = n;
        }
    }
    dirs
}

/// Sizes for ordinary files of the mixed tree: 8% empty, 0.01% large
/// (256 KiB-4 MiB, log-uniform), else lognormal with median 1.8 KB.
fn mixed_size(rng: &mut Rng) -> u64 {
    let r = rng.f64();
    if r < 0.08 {
        0
    } else if r < 0.0801 {
        large_size(rng)
    } else {
        (rng.lognormal(1800.0, 0.8).round() as u64).clamp(1, 1 << 20)
    }
}

fn large_size(rng: &mut Rng) -> u64 {
    let lo = (256u64 << 10) as f64;
    let x = lo * (LARGE_MAX as f64 / lo).powf(rng.f64());
    (x as u64).min(LARGE_MAX)
}

/// Small sizes for the wide and deep trees: 30% empty, else lognormal, median 1 KB.
fn small_size(rng: &mut Rng) -> u64 {
    if rng.chance(0.3) {
        0
    } else {
        (rng.lognormal(1000.0, 0.8).round() as u64).clamp(1, 256 << 10)
    }
}

fn file_name(rng: &mut Rng, k: u64) -> Vec<u8> {
    format!("{}{k}.{}", rng.pick(FILE_STEMS), rng.pick(EXTS)).into_bytes()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tag {
    File,
    Link,
    Sym,
    /// Member `.1` (0 or 1) of loop pair `.0`.
    Pair(u32, u8),
}

/// The relative path from directory `from` to the entry `path` (from the root).
fn relative_to_root(plan_dirs: &[DirPlan], from: u32, path: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    for _ in 0..plan_dirs[from as usize].depth {
        t.extend_from_slice(b"../");
    }
    t.extend_from_slice(path);
    if t.is_empty() {
        t.push(b'.');
    }
    t
}

fn mixed(rng: &mut Rng, n: u64) -> (Vec<DirPlan>, Vec<Item>) {
    let total_dirs = (n / ENTRIES_PER_DIR).clamp(1, n) as usize;
    let dirs = grow_dirs(rng, total_dirs);
    let n_items = n as usize - dirs.len();

    // Directory weights: lognormal, so a few dirs hold many entries and some none.
    let mut cum = Vec::with_capacity(dirs.len());
    let mut acc = 0.0;
    for _ in &dirs {
        acc += rng.lognormal(1.0, 1.0);
        cum.push(acc);
    }
    let sample_dir = |rng: &mut Rng| -> u32 {
        let x = rng.f64() * acc;
        cum.partition_point(|&c| c <= x).min(cum.len() - 1) as u32
    };

    // 1.5% hard links, 1.5% symlinks (some as loop pairs), the rest files.
    let mut tags: Vec<(u32, Tag)> = Vec::with_capacity(n_items);
    let mut pairs = 0u32;
    while tags.len() < n_items {
        let dir = sample_dir(rng);
        let r = rng.f64();
        if r < 0.015 {
            tags.push((dir, Tag::Link));
        } else if r < 0.030 {
            if rng.chance(0.05) && tags.len() + 2 <= n_items {
                tags.push((dir, Tag::Pair(pairs, 0)));
                tags.push((dir, Tag::Pair(pairs, 1)));
                pairs += 1;
            } else {
                tags.push((dir, Tag::Sym));
            }
        } else {
            tags.push((dir, Tag::File));
        }
    }
    tags.sort_by_key(|&(d, _)| d); // stable: pair members stay adjacent

    // Names and sizes, with a per-directory counter keeping names unique.
    let mut items: Vec<Item> = Vec::with_capacity(n_items);
    let mut counter = vec![0u64; dirs.len()];
    let mut pair_at: Vec<(usize, usize)> = vec![(0, 0); pairs as usize];
    for &(dir, tag) in &tags {
        let k = counter[dir as usize];
        counter[dir as usize] += 1;
        let (name, kind) = match tag {
            Tag::File => (
                file_name(rng, k),
                Kind::File {
                    size: mixed_size(rng),
                },
            ),
            Tag::Link => (file_name(rng, k), Kind::HardLink { target: u32::MAX }),
            Tag::Sym => (
                format!("link{k}.lnk").into_bytes(),
                Kind::Symlink {
                    target: Vec::new(),
                    class: LinkClass::Dangling,
                },
            ),
            Tag::Pair(p, m) => {
                if m == 0 {
                    pair_at[p as usize].0 = items.len();
                } else {
                    pair_at[p as usize].1 = items.len();
                }
                (
                    format!("loop{p}{}.lnk", ["a", "b"][m as usize]).into_bytes(),
                    Kind::Symlink {
                        target: Vec::new(),
                        class: LinkClass::Loop,
                    },
                )
            }
        };
        items.push(Item { dir, name, kind });
    }

    let files_of = |items: &[Item]| -> Vec<u32> {
        (0..items.len() as u32)
            .filter(|&i| matches!(items[i as usize].kind, Kind::File { .. }))
            .collect()
    };
    let files = files_of(&items);

    // Special files: sparse, NAME_MAX-long names, non-UTF-8 names, one sure large file.
    let specials = |per: u64, lo: u64, hi: u64| (n / per).clamp(lo, hi) as usize;
    let n_sparse = specials(100_000, 1, 16);
    let n_long = specials(20_000, 2, 64);
    let n_odd = specials(20_000, 2, 64);
    if files.len() > 4 * (n_sparse + n_long + n_odd + 1) {
        let mut taken = std::collections::HashSet::new();
        let mut take = |rng: &mut Rng| loop {
            let f = *rng.pick(&files);
            if taken.insert(f) {
                break f as usize;
            }
        };
        for _ in 0..n_sparse {
            let i = take(rng);
            items[i].kind = Kind::Sparse {
                len: rng.range(1, 4) << 28, // 256 MiB .. 1 GiB
            };
            items[i].name = format!("sparse{}.img", counter_name(&items[i].name)).into_bytes();
        }
        for _ in 0..n_long {
            let i = take(rng);
            let tag = counter_name(&items[i].name);
            items[i].name = long_name(&format!("long{tag}-"), b'x', ".txt");
        }
        for j in 0..n_odd {
            let i = take(rng);
            let tag = counter_name(&items[i].name);
            items[i].name = non_utf8_name(tag, j as u64, ".txt");
        }
        let i = take(rng);
        items[i].kind = Kind::File {
            size: large_size(rng),
        };
    }

    // Link targets: plain regular files only (not the sparse ones).
    let files = files_of(&items);
    let ranges = dir_ranges(&items, dirs.len());
    let dir_paths: Vec<Vec<u8>> = (0..dirs.len()).map(|d| path_of(&dirs, d as u32)).collect();
    let item_path = |items: &[Item], i: usize| -> Vec<u8> {
        let it = &items[i];
        let mut p = dir_paths[it.dir as usize].clone();
        if !p.is_empty() {
            p.push(b'/');
        }
        p.extend_from_slice(&it.name);
        p
    };
    let is_file = |items: &[Item], i: usize| matches!(items[i].kind, Kind::File { .. });

    // Hard links: 30% to a file in the same dir, else anywhere; 20% of all
    // go to a small hot set, giving some inodes a high link count.
    let hot: Vec<u32> = (0..16.min(files.len()))
        .map(|_| *rng.pick(&files))
        .collect();
    for i in 0..items.len() {
        if !matches!(items[i].kind, Kind::HardLink { .. }) {
            continue;
        }
        if files.is_empty() {
            items[i].kind = Kind::File { size: 0 };
            continue;
        }
        let r = rng.f64();
        let mut target = None;
        if r < 0.3 {
            let range = ranges[items[i].dir as usize].clone();
            for _ in 0..8 {
                let c = range.start + rng.index(range.len());
                if is_file(&items, c) {
                    target = Some(c as u32);
                    break;
                }
            }
        } else if r < 0.5 {
            target = Some(*rng.pick(&hot));
        }
        let target = target.unwrap_or_else(|| *rng.pick(&files));
        items[i].kind = Kind::HardLink { target };
    }

    // Symlink loop pairs: a points to b, b to a.
    for &(a, b) in &pair_at {
        let (na, nb) = (items[a].name.clone(), items[b].name.clone());
        items[a].kind = Kind::Symlink {
            target: nb,
            class: LinkClass::Loop,
        };
        items[b].kind = Kind::Symlink {
            target: na,
            class: LinkClass::Loop,
        };
    }

    // Other symlinks: 45% to a file, 10% to a dir, 7% to an ancestor,
    // 26% dangling, 12% to themselves.
    for i in 0..items.len() {
        match items[i].kind {
            Kind::Symlink {
                class: LinkClass::Dangling,
                ..
            } => {}
            _ => continue,
        }
        let dir = items[i].dir;
        let k = counter_name(&items[i].name);
        let r = rng.f64();
        let (target, class) = if r < 0.45 && !files.is_empty() {
            let t = *rng.pick(&files) as usize;
            let p = item_path(&items, t);
            (relative_to_root(&dirs, dir, &p), LinkClass::File)
        } else if r < 0.55 {
            let d = rng.index(dirs.len());
            (relative_to_root(&dirs, dir, &dir_paths[d]), LinkClass::Dir)
        } else if r < 0.62 {
            let up = rng.below(u64::from(dirs[dir as usize].depth) + 1);
            let t = if up == 0 {
                b".".to_vec()
            } else {
                let mut t = b"..".to_vec();
                for _ in 1..up {
                    t.extend_from_slice(b"/..");
                }
                t
            };
            (t, LinkClass::Ancestor)
        } else if r < 0.88 {
            let t = match rng.below(3) {
                0 => format!("missing{k}.txt"),
                1 => format!("../nowhere{k}/gone.c"),
                _ => format!("/nonexistent/fdu-bench/{k}"),
            };
            (t.into_bytes(), LinkClass::Dangling)
        } else {
            (items[i].name.clone(), LinkClass::Loop)
        };
        items[i].kind = Kind::Symlink { target, class };
    }
    (dirs, items)
}

/// The digits of the per-directory counter embedded in a generated name
/// (first run of ASCII digits), used to keep renamed entries unique.
fn counter_name(name: &[u8]) -> u64 {
    let start = name
        .iter()
        .position(u8::is_ascii_digit)
        .unwrap_or(name.len());
    name[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0u64, |acc, &b| acc * 10 + u64::from(b - b'0'))
}

fn path_of(dirs: &[DirPlan], d: u32) -> Vec<u8> {
    let mut chain = Vec::new();
    let mut cur = d;
    while cur != 0 {
        chain.push(cur);
        cur = dirs[cur as usize].parent;
    }
    let mut path = Vec::new();
    for &c in chain.iter().rev() {
        if !path.is_empty() {
            path.push(b'/');
        }
        path.extend_from_slice(&dirs[c as usize].name);
    }
    path
}

fn dir_ranges(items: &[Item], ndirs: usize) -> Vec<Range<usize>> {
    let mut ranges = vec![0..0; ndirs];
    let mut i = 0;
    while i < items.len() {
        let d = items[i].dir;
        let start = i;
        while i < items.len() && items[i].dir == d {
            i += 1;
        }
        ranges[d as usize] = start..i;
    }
    ranges
}

fn wide(rng: &mut Rng, n: u64) -> (Vec<DirPlan>, Vec<Item>) {
    let mut dirs = vec![DirPlan {
        parent: 0,
        depth: 0,
        name: Vec::new(),
    }];
    let nd = (n - 1).min(3);
    for k in 0..nd {
        dirs.push(DirPlan {
            parent: 0,
            depth: 1,
            name: format!("wide{k}").into_bytes(),
        });
    }
    let n_items = n - 1 - nd;
    let mut items = Vec::with_capacity(n_items as usize);
    for i in 0..n_items {
        // Equal shares, in order: dir j gets items [j*n/nd, (j+1)*n/nd).
        let dir = if nd == 0 {
            0
        } else {
            1 + (i * nd / n_items) as u32
        };
        items.push(Item {
            dir,
            name: format!("file{i:07}.dat").into_bytes(),
            kind: Kind::File {
                size: small_size(rng),
            },
        });
    }
    (dirs, items)
}

/// Deep: name length of each chain level.
const DEEP_NAME: usize = 100;
/// Deep: chain length cap. 1000 levels of 101 bytes is a ~100 KB path.
const DEEP_LEVELS: u64 = 1000;

fn deep(rng: &mut Rng, n: u64) -> (Vec<DirPlan>, Vec<Item>) {
    let levels = (n - 1).min(DEEP_LEVELS);
    let mut dirs = vec![DirPlan {
        parent: 0,
        depth: 0,
        name: Vec::new(),
    }];
    for l in 0..levels {
        let mut name = format!("level{:04}-", l + 1).into_bytes();
        name.resize(DEEP_NAME, b'p');
        dirs.push(DirPlan {
            parent: l as u32,
            depth: l as u32 + 1,
            name,
        });
    }
    let n_items = n - 1 - levels;
    let mut items: Vec<Item> = Vec::with_capacity(n_items as usize);
    let nd = dirs.len() as u64;
    for i in 0..n_items {
        // Spread over the whole chain, root included, deepest levels last.
        let dir = (i * nd / n_items.max(1)) as u32;
        items.push(Item {
            dir,
            name: format!("f{i}.txt").into_bytes(),
            kind: Kind::File {
                size: small_size(rng),
            },
        });
    }
    // 1% hard links across levels: the same inode far beyond PATH_MAX.
    let files = items.len();
    if files > 10 {
        for i in 0..files {
            if i > 0 && rng.chance(0.01) {
                let t = rng.index(i);
                if t != i && matches!(items[t].kind, Kind::File { .. }) {
                    items[i].kind = Kind::HardLink { target: t as u32 };
                    items[i].name = format!("hl{i}.txt").into_bytes();
                }
            }
        }
    }
    (dirs, items)
}

/// Byte `offset` of content stream `content`: a counter-mode hash, so any
/// byte can be computed on its own and equal streams are equal everywhere.
pub fn data_block(content: u64, block: u64) -> u64 {
    let mut z = content
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(block.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Byte `offset` of content stream `content` (see [`data_block`]).
pub fn data_byte(content: u64, offset: u64) -> u8 {
    data_block(content, offset / 8).to_le_bytes()[(offset % 8) as usize]
}

/// Dups: entries per directory.
const DUPS_PER_DIR: u64 = 64;
/// Dups: sizes that sit on a hasher's head/tail boundaries.
const DUPS_EDGE_SIZES: &[u64] = &[1, 4095, 4096, 4097, 8192, 16383, 16384, 65536, 65537];

fn dup_size(rng: &mut Rng) -> u64 {
    if rng.chance(0.003) {
        rng.range(8 << 20, 40 << 20)
    } else if rng.chance(0.08) {
        *rng.pick(DUPS_EDGE_SIZES)
    } else {
        (rng.lognormal(16_000.0, 2.0).round() as u64).clamp(1, 4 << 20)
    }
}

fn dups(rng: &mut Rng, n: u64) -> (Vec<DirPlan>, Vec<Item>) {
    let mut dirs = vec![DirPlan {
        parent: 0,
        depth: 0,
        name: Vec::new(),
    }];
    let nd = ((n - 1) / (DUPS_PER_DIR + 1)).min(n - 1);
    for k in 0..nd {
        dirs.push(DirPlan {
            parent: 0,
            depth: 1,
            name: format!("d{k:04}").into_bytes(),
        });
    }
    let want = (n - 1 - nd) as usize;
    // (dir, kind); hard-link targets are indices into this list until sorted.
    let mut made: Vec<(u32, Kind)> = Vec::with_capacity(want);
    let mut next_content = 0u64;
    let pick_dir = |rng: &mut Rng| rng.below(nd + 1) as u32;
    while made.len() < want {
        let size = dup_size(rng);
        let content = next_content;
        next_content += 1;
        let data = |flip| Kind::Data {
            size,
            content,
            flip,
        };
        let r = rng.f64();
        let group: Vec<Kind> = if r < 0.40 {
            // True duplicates.
            (0..rng.range(2, 5)).map(|_| data(None)).collect()
        } else if r < 0.55 {
            // Same size, different in the first, a middle or the last byte.
            let mut g = vec![data(None), data(None)];
            if size >= 2 {
                g.extend([data(Some(0)), data(Some(size / 2)), data(Some(size - 1))]);
            }
            g
        } else if r < 0.65 {
            // A file, hard links to it (filled in below) and maybe a real copy.
            let mut g = vec![data(None)];
            g.extend((0..rng.range(1, 3)).map(|_| Kind::HardLink { target: u32::MAX }));
            if rng.chance(0.5) {
                g.push(data(None));
            }
            g
        } else if r < 0.70 {
            (0..rng.range(2, 4))
                .map(|_| Kind::Data {
                    size: 0,
                    content: 0,
                    flip: None,
                })
                .collect()
        } else {
            vec![data(None)]
        };
        let first = made.len();
        for kind in group {
            if made.len() == want {
                break;
            }
            let kind = match kind {
                Kind::HardLink { .. } => Kind::HardLink {
                    target: first as u32,
                },
                k => k,
            };
            made.push((pick_dir(rng), kind));
        }
    }
    // Items must be sorted by directory: sort, then renumber link targets.
    let mut order: Vec<usize> = (0..made.len()).collect();
    order.sort_by_key(|&i| (made[i].0, i));
    let mut new_index = vec![0u32; made.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new as u32;
    }
    let items = order
        .iter()
        .map(|&old| {
            let (dir, kind) = &made[old];
            let kind = match kind {
                Kind::HardLink { target } => Kind::HardLink {
                    target: new_index[*target as usize],
                },
                k => k.clone(),
            };
            Item {
                dir: *dir,
                name: format!("f{old:07}.bin").into_bytes(),
                kind,
            }
        })
        .collect();
    (dirs, items)
}
