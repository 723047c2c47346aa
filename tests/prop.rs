//! Random trees against GNU du: nested directories, files of random sizes
//! (empty ones too), sparse files, hard links within and across
//! directories, symlinks to files, to directories (ancestors too), dangling
//! ones and loops, and odd names (spaces, newlines, bytes that are not
//! UTF-8, leading dashes, 255-byte names). Every backend at 1, 2 and 8
//! threads must print du's lines, diagnostics and exit code.
//!
//! The seed is fixed, so every run checks the same cases; set
//! `PROPTEST_RNG_SEED` (and `PROPTEST_CASES`) to explore others.
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};

use common::*;

/// The cases every run checks, unless `PROPTEST_CASES` says otherwise.
const CASES: u32 = 24;
/// The seed every run uses, unless `PROPTEST_RNG_SEED` says otherwise.
const SEED: u64 = 0x6664_7520_7072_6f70;

/// Option sets compared on every tree.
const SETS: &[&[&str]] = &[
    &["-s"],
    &["-a"],
    &["-b", "-a"],
    &["--inodes", "-a"],
    &["-L", "-s"],
    &["-l", "-a"],
    &["-d", "1", "--apparent-size"],
];

/// What a regular file holds.
#[derive(Debug, Clone)]
enum Body {
    /// `n` bytes of data (0: empty).
    Data(usize),
    /// `len` bytes long (`set_len`), with a few bytes written at offsets
    /// (`seek` + write); the rest is holes.
    Sparse { len: u64, writes: Vec<(u64, u8)> },
}

/// Where a symlink points.
#[derive(Debug, Clone)]
enum Target {
    /// A regular file (by selector), by a relative path.
    File(usize),
    /// A directory (by selector; ancestors and `t` itself make cycles).
    Dir(usize),
    /// A directory by its absolute path.
    AbsDir(usize),
    /// Nothing.
    Dangling,
    /// Itself (`ELOOP`).
    SelfLoop,
}

/// A tree to build. Selectors are reduced modulo what exists when the
/// entry is made; an entry whose name is taken is left out.
#[derive(Debug, Clone)]
struct Plan {
    /// (parent directory, name); directory 0 is `t`.
    dirs: Vec<(usize, Vec<u8>)>,
    /// (directory, name, body).
    files: Vec<(usize, Vec<u8>, Body)>,
    /// Hard links: (file, directory, name).
    links: Vec<(usize, usize, Vec<u8>)>,
    /// (directory, name, target).
    symlinks: Vec<(usize, Vec<u8>, Target)>,
}

fn name() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        6 => proptest::char::range('a', 'z').prop_map(|c| c as u8),
        1 => Just(b' '),
        1 => Just(b'\n'),
        1 => Just(b'-'),
        1 => Just(b'.'),
        1 => Just(b'\t'),
        1 => Just(b'*'),
        1 => Just(b'\''),
        1 => Just(b'\\'),
        2 => 0x80u8..=0xff,
    ];
    prop_oneof![
        8 => proptest::collection::vec(byte, 1..10),
        1 => "-[a-z]{0,4}".prop_map(String::into_bytes),
        1 => (200usize..=255).prop_map(|n| vec![b'L'; n]),
        1 => (1usize..=3).prop_map(|n| vec![b' '; n]),
    ]
    .prop_map(|n| {
        if n == b"." || n == b".." {
            b"dot".to_vec()
        } else {
            n
        }
    })
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        2 => Just(Body::Data(0)),
        6 => (1usize..20_000).prop_map(Body::Data),
        1 => prop_oneof![Just(4095usize), Just(4096), Just(4097), Just(8192)].prop_map(Body::Data),
        3 => (1u64..3_000_000, proptest::collection::vec((0u64..3_000_000, any::<u8>()), 0..4))
            .prop_map(|(len, writes)| Body::Sparse { len, writes }),
    ]
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        3 => any::<usize>().prop_map(Target::File),
        3 => any::<usize>().prop_map(Target::Dir),
        1 => any::<usize>().prop_map(Target::AbsDir),
        1 => Just(Target::Dangling),
        1 => Just(Target::SelfLoop),
    ]
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        proptest::collection::vec((any::<usize>(), name()), 0..8),
        proptest::collection::vec((any::<usize>(), name(), body()), 0..16),
        proptest::collection::vec((any::<usize>(), any::<usize>(), name()), 0..6),
        proptest::collection::vec((any::<usize>(), name(), target()), 0..6),
    )
        .prop_map(|(dirs, files, links, symlinks)| Plan {
            dirs,
            files,
            links,
            symlinks,
        })
}

/// A built plan and what the comparison must know about it.
struct Built {
    tree: Tree,
    /// Some file has names in more than one directory: du and fdu may
    /// charge it to different directories, so only the argument's line of
    /// `-a` and `-d` runs (without `-l`) must match.
    links_span_dirs: bool,
    /// Some name holds a newline: lines are compared with `-0`.
    newline: bool,
}

fn build(plan: &Plan) -> Built {
    let mut tree = Tree::new();
    let mut taken: BTreeSet<Vec<u8>> = BTreeSet::new();
    // Directories as paths relative to the working directory ("t/...").
    let mut dirs: Vec<Vec<u8>> = vec![b"t".to_vec()];
    let mut newline = false;
    let join = |dir: &[u8], name: &[u8]| [dir, b"/", name].concat();
    let mut claim = |path: &[u8], name: &[u8]| -> bool {
        if taken.insert(path.to_vec()) {
            newline |= name.contains(&b'\n');
            true
        } else {
            false
        }
    };
    for (parent, name) in &plan.dirs {
        let path = join(&dirs[parent % dirs.len()], name);
        if claim(&path, name) {
            tree.mkdir(&path);
            dirs.push(path);
        }
    }
    let mut files: Vec<Vec<u8>> = Vec::new();
    for (dir, name, body) in &plan.files {
        let path = join(&dirs[dir % dirs.len()], name);
        if !claim(&path, name) {
            continue;
        }
        match body {
            Body::Data(n) => tree.file(&path, *n),
            Body::Sparse { len, writes } => {
                let mut f = File::create(tree.p(&path)).expect("create sparse file");
                f.set_len(*len).expect("set_len");
                for (at, byte) in writes {
                    f.seek(SeekFrom::Start(at % len)).expect("seek");
                    f.write_all(&[*byte; 10]).expect("write");
                }
            }
        }
        files.push(path);
    }
    if !files.is_empty() {
        for (file, dir, name) in &plan.links {
            let path = join(&dirs[dir % dirs.len()], name);
            if claim(&path, name) {
                tree.hardlink(&files[file % files.len()], &path);
            }
        }
    }
    for (dir, name, target) in &plan.symlinks {
        let dir = &dirs[dir % dirs.len()];
        let path = join(dir, name);
        // From the link's directory up to the working directory.
        let up = b"../".repeat(dir.iter().filter(|&&b| b == b'/').count() + 1);
        let to = match target {
            Target::File(_) if files.is_empty() => continue,
            Target::File(f) => [up.as_slice(), &files[f % files.len()]].concat(),
            Target::Dir(d) => [up.as_slice(), &dirs[d % dirs.len()]].concat(),
            Target::AbsDir(d) => {
                use std::os::unix::ffi::OsStrExt;
                tree.p(&dirs[d % dirs.len()])
                    .as_os_str()
                    .as_bytes()
                    .to_vec()
            }
            Target::Dangling => b"no such file".to_vec(),
            Target::SelfLoop => name.clone(),
        };
        if claim(&path, name) {
            tree.symlink(to, &path);
        }
    }
    // Hard links: the names of each inode, by directory.
    let mut inodes: BTreeMap<u64, BTreeMap<Vec<u8>, Vec<Vec<u8>>>> = BTreeMap::new();
    for path in &taken {
        let meta = fs::symlink_metadata(tree.p(path)).expect("lstat");
        if meta.is_file() && meta.nlink() > 1 {
            let dir = path[..path.iter().rposition(|&b| b == b'/').unwrap()].to_vec();
            inodes
                .entry(meta.ino())
                .or_default()
                .entry(dir)
                .or_default()
                .push(path.clone());
        }
    }
    let mut links_span_dirs = false;
    for by_dir in inodes.values() {
        links_span_dirs |= by_dir.len() > 1;
        for names in by_dir.values().filter(|n| n.len() > 1) {
            tree.link_groups.push(names.clone());
        }
    }
    Built {
        tree,
        links_span_dirs,
        newline,
    }
}

/// Whether `--backend uring` can run here (an io_uring can be created).
fn uring_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let t = Tree::new();
        let r = t.fdu(&["--backend", "uring", "-s", "t"]);
        if r.code == 1 && r.err_text().contains("cannot use the uring backend") {
            eprintln!("uring backend unavailable, not compared: {}", r.err_text());
            return false;
        }
        assert_eq!(r.code, 0, "{}: {}", r.cmd, r.err_text());
        true
    })
}

/// The fdu-only options of every configuration compared.
fn configs() -> Vec<Vec<&'static str>> {
    let mut backends = vec!["linux", "std"];
    if uring_available() {
        backends.push("uring");
    }
    let mut v = Vec::new();
    for backend in backends {
        for threads in ["1", "2", "8"] {
            v.push(vec!["--backend", backend, "-j", threads]);
        }
    }
    v
}

fn check(plan: &Plan) -> Result<(), TestCaseError> {
    let built = build(plan);
    let mut f = Failures::default();
    for set in SETS {
        let mut opts: Vec<&str> = set.to_vec();
        if built.newline {
            opts.push("-0");
        }
        let lines_per_dir = !opts.contains(&"-s") && !opts.contains(&"-l");
        for config in configs() {
            let mut how = How::fdu_opts(&config);
            // Under -L a directory reached twice (through a symlink) is
            // charged, and its errors reported, under whichever path du
            // meets first in readdir order: compare totals, and errors
            // without their paths.
            how.totals_only = (built.links_span_dirs && lines_per_dir) || opts.contains(&"-L");
            f.add(built.tree.check(&opts, &["t"], &how));
        }
    }
    if f.0.is_empty() {
        Ok(())
    } else {
        Err(TestCaseError::fail(format!(
            "{} failing run(s):\n\n{}",
            f.0.len(),
            f.0.join("\n\n")
        )))
    }
}

#[test]
fn random_trees_match_du() {
    let env = Config::default();
    let config = Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            env.cases
        } else {
            CASES
        },
        rng_seed: if std::env::var_os("PROPTEST_RNG_SEED").is_some() {
            env.rng_seed
        } else {
            RngSeed::Fixed(SEED)
        },
        // Each case builds a tree and runs du and fdu dozens of times.
        max_shrink_iters: 200,
        failure_persistence: None,
        ..env
    };
    let mut runner = TestRunner::new(config);
    if let Err(e) = runner.run(&plan(), |plan| check(&plan)) {
        panic!("{e}");
    }
}
