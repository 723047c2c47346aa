//! fdu against GNU du on every named tree: the same lines (as sorted sets;
//! du prints in readdir order), the same diagnostics and exit code, and
//! fdu's own line order.
mod common;

use std::ffi::OsString;

use common::*;

/// Option sets that must match du on any tree without hard links across
/// directories.
const GENERIC: &[&[&str]] = &[
    &["-s"],
    &["-a"],
    &["-d", "1"],
    &["-d", "2"],
    &["-d", "0"],
    &["-a", "-d", "1"],
    &["-c", "-s"],
    &["-s", "--apparent-size"],
    &["-a", "--apparent-size"],
    &["-a", "-b"],
    &["-s", "-l"],
    &["-a", "-l"],
    &["--inodes", "-s"],
    &["--inodes", "-a"],
    &["--inodes", "-d", "1"],
    &["-s", "-x"],
    &["-a", "-x"],
    &["-sh"],
    &["-a", "-h"],
    &["--si", "-s"],
    &["-a", "--si"],
    &["-s", "-k"],
    &["-s", "-m"],
    &["-a", "-m", "-c"],
    &["-B", "1K", "-a"],
    &["-a", "-B", "KB"],
    &["-a", "-BKiB"],
    &["-a", "-B", "M"],
    &["-a", "--apparent-size", "-B", "1M"],
    &["-a", "-B", "3"],
    &["-a", "-P"],
    &["-0", "-a"],
    &["-a", "-h", "-k"],
    &["-a", "-k", "-h"],
];

/// Option sets for trees with hard links across directories: every line
/// they print is a total, or links are counted every time (`-l`).
const TOTALS_ONLY_OUTPUT: &[&[&str]] = &[
    &["-s"],
    &["-d", "0"],
    &["-c", "-s"],
    &["-s", "--apparent-size"],
    &["-s", "-b"],
    &["-s", "-l"],
    &["-a", "-l"],
    &["-d", "1", "-l"],
    &["-a", "-b", "-l"],
    &["--inodes", "-s"],
    &["--inodes", "-a", "-l"],
    &["-sh"],
    &["--si", "-s"],
    &["-s", "-m"],
];

/// Option sets where only the argument's own line (and `total`) must match.
const ROOT_LINE_ONLY: &[&[&str]] = &[
    &["-a"],
    &["-d", "1"],
    &["-d", "2", "-c"],
    &["-a", "-b"],
    &["--inodes", "-a"],
    &["-a", "--apparent-size"],
];

fn run_sets(f: &mut Failures, tree: &Tree, sets: &[&[&str]], paths: &[&str], how: &How) {
    for opts in sets {
        f.add(tree.check(opts, paths, how));
    }
}

#[test]
fn basic_tree() {
    let t = basic();
    let mut f = Failures::default();
    run_sets(&mut f, &t, GENERIC, &["t"], &How::default());
    run_sets(
        &mut f,
        &t,
        &[&["-a", "-L"], &["-s", "-L"]],
        &["t"],
        &How::default(),
    );
    for opts in [
        &["-a", "--exclude=sub1"][..],
        &["-a", "--exclude=*.txt"],
        &["-a", "--exclude=*.txt", "--exclude=deeper"],
        &["-d", "1", "--exclude=sub1"],
        &["-a", "--exclude=sub1/deeper"],
        &["-a", "--exclude=t/sub3/*"],
        &["-a", "--exclude=?"],
        &["-a", "--exclude=[ab]*"],
        &["-s", "--exclude=t"],
    ] {
        f.add(t.check(opts, &["t"], &How::default()));
    }
    // `-s -d 0` is allowed; du also warns that it is redundant (fdu does
    // not: cosmetic, so only stdout and the exit code are compared).
    let (d, r) = (
        t.du(&["-s", "-d", "0", "t"]),
        t.fdu(&["-s", "-d", "0", "t"]),
    );
    if d.stdout != r.stdout || d.code != r.code {
        f.push(format!(
            "{}: {:?} exit {}, du: {:?} exit {}",
            r.cmd,
            r.out_text(),
            r.code,
            d.out_text(),
            d.code
        ));
    }
    // An absolute argument.
    let abs = t.p("t").into_os_string();
    for opts in [&["-a"][..], &["-s", "-c"]] {
        f.add(t.check_os(&oss(opts), std::slice::from_ref(&abs), &How::default()));
    }
    std::fs::write(t.p("patterns"), "*.bin\nsub3\n").unwrap();
    f.add(t.check(&["-a", "-X", "patterns"], &["t"], &How::default()));
    f.add(t.check(&["-a", "--exclude-from=patterns"], &["t"], &How::default()));
    // Several arguments, overlapping ones, a file and its directory.
    for paths in [
        &["t", "t/sub1"][..],
        &["t/sub1", "t"],
        &["t", "t"],
        &["t/sub1", "t/sub1/deeper", "t/sub3"],
        &["t/a.txt", "t"],
        &["t", "t/a.txt"],
        &["t/a.txt", "t/a.txt"],
        &["t/sub1/x.txt", "t/sub1", "t/sub3"],
        &["t/sub2/fifo"],
        &["t/a.txt"],
        &["t/"],
        &["t//"],
        &["./t"],
        &["t/./sub1"],
        &["t/sub1/../sub3"],
        &["."],
        &[".", "t/sub1"],
        &["t/sub1", "t/sub1/", "t/sub1//"],
    ] {
        for opts in [
            &["-s"][..],
            &["-a"],
            &["-d", "1"],
            &["-c", "-s"],
            &["-c", "-a", "-b"],
        ] {
            f.add(t.check(opts, paths, &How::default()));
        }
    }
    f.finish("basic tree vs du");
}

#[test]
fn hard_links_within_directories() {
    let t = links_within();
    let mut f = Failures::default();
    run_sets(&mut f, &t, GENERIC, &["t"], &How::default());
    for paths in [
        &["t", "t/d2"][..],
        &["t/d2", "t"],
        &["t/d1/f", "t/d1"],
        &["t/d1/f", "t/d1/f_link"],
    ] {
        for opts in [
            &["-s"][..],
            &["-a"],
            &["-c", "-s"],
            &["-a", "-l"],
            &["--inodes", "-a"],
        ] {
            f.add(t.check(opts, paths, &How::default()));
        }
    }
    f.finish("hard links within directories vs du");
}

#[test]
fn hard_links_across_directories_totals() {
    let t = links_across();
    let mut f = Failures::default();
    run_sets(&mut f, &t, TOTALS_ONLY_OUTPUT, &["t"], &How::default());
    run_sets(&mut f, &t, ROOT_LINE_ONLY, &["t"], &How::totals());
    for paths in [
        &["t/a", "t/b", "t/c"][..],
        &["t/c", "t/b", "t/a"],
        &["t", "t/a"],
        &["t/b", "t"],
    ] {
        run_sets(
            &mut f,
            &t,
            &[
                &["-s", "-c"],
                &["-s", "-c", "-b"],
                &["--inodes", "-s", "-c"],
            ],
            paths,
            &How::default(),
        );
    }
    // Disjoint arguments only: with overlapping ones, a per-directory line
    // of the first argument can carry the path of the second.
    for paths in [&["t/a", "t/b", "t/c"][..], &["t/c", "t/b", "t/a"]] {
        run_sets(
            &mut f,
            &t,
            &[&["-a", "-c"], &["-d", "1", "-c"]],
            paths,
            &How::totals(),
        );
    }
    f.finish("hard links across directories vs du (totals)");
}

/// Requirement 7: one (dev, ino) set shared by all arguments.
#[test]
fn hard_links_count_once_across_arguments() {
    let t = Tree::new();
    t.mkdir("t/a");
    t.mkdir("t/b");
    t.file("t/a/f", 30000);
    t.file("t/a/g", 100);
    t.hardlink("t/a/f", "t/b/f2");
    t.file("t/b/h", 2000);
    let mut f = Failures::default();
    for paths in [
        &["t/a", "t/b"][..],
        &["t/b", "t/a"],
        &["t/a/f", "t/b"],
        &["t/b", "t/a/f"],
        &["t/a/f", "t/b/f2"],
    ] {
        for opts in [
            &["-s"][..],
            &["-s", "-c"],
            &["-s", "-c", "--apparent-size"],
            &["-s", "-c", "--inodes"],
            &["-s", "-c", "-l"],
            &["-a", "-c"],
        ] {
            f.add(t.check(opts, paths, &How::default()));
        }
    }
    // Spelled out once: the link is charged to the first argument only.
    let r = t.fdu(&["-s", "-b", "t/a", "t/b"]);
    let expect = format!(
        "{}\tt/a\n{}\tt/b\n",
        30100 + dir_size(&t, "t/a"),
        2000 + dir_size(&t, "t/b")
    );
    if r.out_text() != expect {
        f.push(format!(
            "{}: got {:?}, expected {expect:?}",
            r.cmd,
            r.out_text()
        ));
    }
    f.finish("hard links across arguments vs du");
}

/// The apparent size of a directory itself.
fn dir_size(t: &Tree, rel: &str) -> u64 {
    std::fs::metadata(t.p(rel)).unwrap().len()
}

#[test]
fn symlinks_tree() {
    let t = symlinks(true);
    let mut f = Failures::default();
    run_sets(&mut f, &t, GENERIC, &["t"], &How::default());
    // Dangling links and the loop make -L report errors, like du. A
    // directory reached both by its path and through `ldir` is charged to
    // its real path by fdu, to the first one in readdir order by du: only
    // totals (and the errors, by message) must agree.
    run_sets(
        &mut f,
        &t,
        &[&["-a", "-L"], &["-s", "-L"]],
        &["t"],
        &How::totals(),
    );
    for paths in [
        &["t/ldir"][..],
        &["t/ldir/"],
        &["t/ldir/", "t/dir"],
        &["t/lfile"],
        &["t/dang"],
        &["t/loop_a"],
        &["t/ldir", "t/dir"],
        &["t/dir", "t/ldir"],
        &["t/dang", "t/dir"],
    ] {
        for opts in [
            &["-s"][..],
            &["-a"],
            &["-H", "-s"],
            &["-D", "-a"],
            &["-L", "-s"],
            &["-L", "-a"],
            &["-L", "-P", "-s"],
            &["-P", "-L", "-s"],
        ] {
            f.add(t.check(opts, paths, &How::default()));
        }
    }
    f.finish("symlinks tree vs du");
}

#[test]
fn symlinks_dereferenced() {
    let t = symlinks(false);
    let mut f = Failures::default();
    // Without -l, a directory reached through a symlink and by its real
    // path is charged to the real path (du: the first in readdir order).
    run_sets(
        &mut f,
        &t,
        &[
            &["-a", "-L"],
            &["-s", "-L"],
            &["-d", "1", "-L"],
            &["-a", "-L", "--inodes"],
            &["-a", "-L", "-b"],
        ],
        &["t"],
        &How::totals(),
    );
    run_sets(
        &mut f,
        &t,
        &[&["-a", "-L", "-l"], &["-a", "-H"]],
        &["t"],
        &How::default(),
    );
    f.finish("symlinks tree with -L vs du");
}

#[test]
fn sparse_files() {
    let t = sparse();
    let mut f = Failures::default();
    run_sets(&mut f, &t, GENERIC, &["t"], &How::default());
    // Make sure the tree really is sparse here, or the test proves little.
    let d = t.du(&["-s", "-k", "t/sparse100m"]);
    let kb: u64 = String::from_utf8_lossy(size_of(&d.stdout))
        .trim()
        .parse()
        .unwrap();
    assert!(
        kb < 10_000,
        "t/sparse100m is not sparse on this file system ({kb} KiB)"
    );
    f.finish("sparse tree vs du");
}

#[test]
fn empty_directories() {
    let t = empty_dirs();
    let mut f = Failures::default();
    run_sets(&mut f, &t, GENERIC, &["t"], &How::default());
    run_sets(&mut f, &t, GENERIC, &["t/e1"], &How::default());
    f.finish("empty directories vs du");
}

#[test]
fn non_utf8_names() {
    let t = non_utf8();
    let mut f = Failures::default();
    run_sets(&mut f, &t, GENERIC, &["t"], &How::default());
    for paths in [vec![os(b"t/dir\xff")], vec![os(b"t/\xff\xfe"), os("t")]] {
        for opts in [&["-s"][..], &["-a"], &["-c", "-a"]] {
            f.add(t.check_os(&oss(opts), &paths, &How::default()));
        }
    }
    // Names are printed as raw bytes.
    let r = t.fdu(&["-a", "t"]);
    let needle = b"\tt/\xff\xfe\n";
    assert!(
        r.stdout.windows(needle.len()).any(|w| w == needle),
        "raw name missing from: {:?}",
        r.out_text()
    );
    f.finish("non-UTF-8 names vs du");
}

#[test]
fn long_names_255_bytes() {
    let t = long_names();
    let mut f = Failures::default();
    run_sets(&mut f, &t, GENERIC, &["t"], &How::default());
    f.finish("255-byte names vs du");
}

#[test]
fn wide_directory_100k_entries() {
    let t = wide(100_000);
    let mut f = Failures::default();
    run_sets(
        &mut f,
        &t,
        &[
            &["-s"],
            &["-a"],
            &["-a", "-b"],
            &["--inodes", "-s"],
            &["-d", "1"],
            &["-a", "--exclude=f00001*"],
            &["-c", "-s", "--apparent-size"],
        ],
        &["t"],
        &How::default(),
    );
    f.finish("wide directory vs du");
}

/// DU_BLOCK_SIZE, BLOCK_SIZE, BLOCKSIZE and POSIXLY_CORRECT are read as du
/// reads them.
#[test]
fn block_size_environment() {
    let t = basic();
    let mut f = Failures::default();
    let envs: &[&[(&str, &str)]] = &[
        &[("DU_BLOCK_SIZE", "1M")],
        &[("BLOCK_SIZE", "1M")],
        &[("BLOCKSIZE", "1M")],
        &[("BLOCK_SIZE", "1M"), ("DU_BLOCK_SIZE", "1")],
        &[("BLOCKSIZE", "1M"), ("BLOCK_SIZE", "512")],
        &[("DU_BLOCK_SIZE", "human-readable")],
        &[("BLOCK_SIZE", "si")],
        &[("DU_BLOCK_SIZE", "KB")],
        &[("DU_BLOCK_SIZE", "KiB")],
        &[("DU_BLOCK_SIZE", "'1")],
        &[("DU_BLOCK_SIZE", "bogus"), ("BLOCK_SIZE", "1M")],
        &[("BLOCK_SIZE", "0"), ("BLOCKSIZE", "1M")],
        &[("POSIXLY_CORRECT", "1")],
        &[("POSIXLY_CORRECT", "1"), ("DU_BLOCK_SIZE", "1K")],
    ];
    for env in envs {
        let how = env_how(env);
        for opts in [
            &["-a"][..],
            &["-s", "-k"],
            &["-a", "-B", "1K"],
            &["--inodes", "-s"],
            &["-a", "--apparent-size"],
            &["-s", "-h"],
        ] {
            if opts.contains(&"--inodes") && env.iter().any(|(_, v)| v.ends_with('B')) {
                continue; // see inodes_with_suffixed_block_size
            }
            if let Err(e) = t.check(opts, &["t"], &how) {
                f.push(format!("env {env:?}: {e}"));
            }
        }
    }
    f.finish("block size environment vs du");
}

fn env_how(env: &[(&str, &str)]) -> How {
    How {
        env: env
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect(),
        ..How::default()
    }
}

/// gnulib's `human_options` takes a variable that is set but empty as the
/// (invalid) spec: du falls back to 1024-byte blocks, it does not go on to
/// the next variable.
#[test]
fn empty_block_size_variable_is_not_skipped() {
    let t = basic();
    let mut f = Failures::default();
    for env in [
        &[("DU_BLOCK_SIZE", ""), ("BLOCK_SIZE", "1M")][..],
        &[("BLOCK_SIZE", ""), ("BLOCKSIZE", "1M")],
    ] {
        for opts in [&["-s"][..], &["-a", "--apparent-size"]] {
            if let Err(e) = t.check(opts, &["t"], &env_how(env)) {
                f.push(format!("env {env:?}: {e}"));
            }
        }
    }
    f.finish("empty block size variables vs du");
}

/// du keeps the unit suffix of `-B KB` / `DU_BLOCK_SIZE=KiB` under
/// `--inodes` and prints counts as `35B`. A quirk of du, but output must
/// equal du's.
#[test]
fn inodes_with_suffixed_block_size() {
    let t = basic();
    let mut f = Failures::default();
    for env in [
        &[("DU_BLOCK_SIZE", "KB")][..],
        &[("DU_BLOCK_SIZE", "KiB")],
        &[],
    ] {
        for opts in [
            &["--inodes", "-s"][..],
            &["--inodes", "-s", "-B", "KB"],
            &["--inodes", "-s", "-BK"],
        ] {
            if let Err(e) = t.check(opts, &["t"], &env_how(env)) {
                f.push(format!("env {env:?}: {e}"));
            }
        }
    }
    f.finish("--inodes with a suffixed block size vs du");
}

/// The harness is not vacuous: it catches du's (readdir) order, a size
/// difference, and a missing line.
#[test]
fn harness_detects_differences() {
    let t = basic();
    let du_as_fdu = How {
        fdu_bin: Some(std::path::PathBuf::from(DU)),
        ..How::default()
    };
    let e = t.check(&["-a"], &["t"], &du_as_fdu).unwrap_err();
    assert!(e.contains("order:"), "{e}");
    assert!(!e.contains("stdout differs"), "{e}");
    let e = t
        .check(&["-a"], &["t"], &How::fdu_opts(&["--apparent-size"]))
        .unwrap_err();
    assert!(e.contains("stdout differs"), "{e}");
    let e = t
        .check(&["-a"], &["t"], &How::fdu_opts(&["--exclude=y"]))
        .unwrap_err();
    assert!(
        e.contains("only in du (3)") && e.contains("4\\tt/sub1/y"),
        "{e}"
    );
}

/// `-x` across a real mount point: a tmpfs mounted inside the tree in a
/// private mount namespace (needs CAP_SYS_ADMIN; skipped without it). Each
/// program runs in its own namespace with the same mount made the same way.
#[test]
fn one_file_system_across_a_mount() {
    let t = Tree::new();
    t.mkdir("t/mnt");
    t.mkdir("t/d/e");
    t.file("t/d/f", 5000);
    t.file("t/d/e/g", 70);
    let script = r#"
        set -e
        mount -t tmpfs -o size=16m fdu-test t/mnt
        mkdir t/mnt/sub
        printf '%*s' 100000 '' > t/mnt/big
        printf 'x' > t/mnt/sub/y
        exec "$@"
    "#;
    let wrapper = oss(&[
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "bash",
        "-c",
        script,
        "bash",
    ]);
    let mut probe = wrapper.clone();
    probe.extend(oss(&["true"]));
    let p = run_argv(&probe, t.cwd(), &[]);
    if p.code != 0 {
        eprintln!(
            "SKIPPED: cannot mount in a private namespace here: {}",
            p.err_text().trim()
        );
        return;
    }
    let how = How {
        wrapper,
        ..How::default()
    };
    let mut f = Failures::default();
    for opts in [
        &["-a"][..],
        &["-a", "-x"],
        &["-s", "-x"],
        &["-d", "1", "-x"],
        &["--inodes", "-a", "-x"],
        &["-a", "-x", "-b"],
    ] {
        f.add(t.check(opts, &["t"], &how));
    }
    for paths in [&["t/mnt"][..], &["t", "t/mnt"], &["t/mnt", "t/d"]] {
        for opts in [&["-s", "-x", "-c"][..], &["-a", "-x"]] {
            f.add(t.check(opts, paths, &how));
        }
    }
    f.finish("-x across a mount point vs du");
}

/// A directory with more subdirectories than one stat batch holds.
#[test]
fn many_subdirectories() {
    let t = Tree::new();
    for i in 0..1500 {
        let d = format!("t/many/d{i:04}");
        t.mkdir(&d);
        if i % 3 == 0 {
            t.file(format!("{d}/f"), i * 10);
        }
        if i % 7 == 0 {
            t.mkdir(format!("{d}/inner"));
        }
    }
    let mut f = Failures::default();
    run_sets(
        &mut f,
        &t,
        &[
            &["-a"],
            &["-s"],
            &["-d", "1"],
            &["-d", "2", "--inodes"],
            &["-a", "-b", "-c"],
        ],
        &["t"],
        &How::default(),
    );
    f.finish("many subdirectories vs du");
}

/// Apparent sizes on both sides of every unit boundary (sparse files of
/// exact sizes, up to 8 TiB), in every unit style.
#[test]
fn size_boundaries() {
    let t = Tree::new();
    let sizes: &[u64] = &[
        0,
        1,
        999,
        1000,
        1001,
        1023,
        1024,
        1025,
        1536,
        10188,
        10189,
        10239,
        10240,
        10241,
        10752,
        99999,
        102399,
        102400,
        102401,
        1047552,
        1048063,
        1048575,
        1048576,
        1048577,
        1572864,
        9999999,
        10485759,
        10485760,
        10485761,
        999999999,
        1073741823,
        1073741824,
        1073741825,
        1099511627775,
        1099511627776,
        1099511627777,
        8796093022207,
        8796093022208,
    ];
    for s in sizes {
        let f = std::fs::File::create(t.p(format!("t/f{s}"))).unwrap();
        f.set_len(*s).unwrap();
    }
    let mut f = Failures::default();
    for unit in [
        &["-h"][..],
        &["--si"],
        &["-k"],
        &["-m"],
        &["-b"],
        &["-B", "1000"],
        &["-BK"],
        &["-B", "MB"],
        &["-B", "KiB"],
        &["-B", "G"],
        &["-B", "1T"],
        &["-B", "7"],
        &["-B", "kB"],
        &["-BT"],
        &["-B", "3M"],
        &["-B", "human-readable"],
        &["-B", "si"],
    ] {
        let mut opts = vec!["-a", "--apparent-size"];
        opts.extend_from_slice(unit);
        f.add(t.check(&opts, &["t"], &How::default()));
    }
    f.finish("size boundaries vs du");
}

/// Run `du ARGS` and `fdu ARGS`: where du accepts, fdu must print the same
/// lines; where du refuses (exit 1), fdu must refuse with exit 2 and one
/// `fdu: ` line.
fn same_acceptance(t: &Tree, args: &[&str]) -> Result<(), String> {
    let d = t.du(args);
    let r = t.fdu(args);
    let desc = format!(
        "{} (du exit {}: {})",
        r.cmd,
        d.code,
        d.err_text().lines().next().unwrap_or("")
    );
    if d.code == 0 {
        if r.code != 0 {
            return Err(format!(
                "{desc}\n    du accepts it; fdu exit {}: {}",
                r.code,
                r.err_text().trim()
            ));
        }
        let dl = sorted(records(&d.stdout, b'\n'));
        let fl = sorted(records(&r.stdout, b'\n'));
        if let Some(diff) = multiset_diff("du", &dl, "fdu", &fl) {
            return Err(format!("{desc}\n    stdout differs:\n{diff}"));
        }
    } else {
        let err = r.err_text();
        if r.code != 2
            || !r.stdout.is_empty()
            || !err.starts_with("fdu: ")
            || err.lines().count() != d.err_text().lines().count()
        {
            return Err(format!(
                "{desc}\n    du refuses it; fdu exit {}, stdout {:?}, stderr {:?}",
                r.code,
                shorten(&r.out_text(), 80),
                err
            ));
        }
    }
    Ok(())
}

/// `-B SIZE` is read by gnulib's xstrtoumax: base 0 (`010` is octal, `0x10`
/// hex), leading blanks and `+` allowed, and only the suffixes du knows.
#[test]
fn block_size_specs_parse_like_du() {
    let t = basic();
    let mut f = Failures::default();
    for spec in [
        "1",
        "512",
        "1K",
        "1k",
        "K",
        "k",
        "KB",
        "kB",
        "KiB",
        "1KB",
        "1KiB",
        "2M",
        "MB",
        "G",
        "T",
        "P",
        "E",
        "1m",
        "1g",
        "1t",
        "m",
        "g",
        "t",
        "1mB",
        "1MiB",
        "1mD",
        "MiB",
        "0",
        "1x",
        "",
        "x",
        "K1",
        "1.5K",
        "-1",
        "1 ",
        "1KB2",
        "1b",
        "1B",
        "1D",
        "1iB",
        "iB",
        "1KiBx",
        "18446744073709551615",
        "18446744073709551616",
        "human-readable",
        "si",
        "Human",
        "'1K",
        "'K",
        "010",
        "0x10",
        "08",
        " 1",
        "+1",
        "1p",
        "1e",
        "p",
        "e",
        "KD",
    ] {
        f.add(same_acceptance(
            &t,
            &["-s", "--apparent-size", "-B", spec, "t"],
        ));
    }
    f.finish("-B specs vs du");
}

/// `--max-depth=N` is read by xstrtoimax with base 0, like `-B`.
#[test]
fn max_depth_specs_parse_like_du() {
    let t = Tree::new();
    t.mkdir("t/1/2/3/4/5/6/7/8/9/10/11/12");
    t.file("t/1/2/3/4/5/6/7/8/9/10/11/12/f", 100);
    let mut f = Failures::default();
    for spec in [
        "0",
        "1",
        "01",
        "9",
        "010",
        "08",
        "0x1",
        "+1",
        " 1",
        "1 ",
        "-0",
        "-1",
        "x",
        "",
        "99999999999999999999",
        "18446744073709551615",
        "9223372036854775808",
    ] {
        f.add(same_acceptance(&t, &[&format!("--max-depth={spec}"), "t"]));
    }
    f.finish("--max-depth specs vs du");
}

/// du matches `--exclude` with fnmatch: no brace alternation (`{a,b}` is
/// literal), POSIX classes (`[[:digit:]]`), `*` and `?` match `/`.
#[test]
fn exclude_patterns_match_like_fnmatch() {
    let t = Tree::new();
    t.mkdir("t/sub1/deeper");
    t.mkdir("t/sub2");
    t.mkdir("t/{a,b}.txt");
    for name in [
        "a.txt",
        "b.txt",
        "c1.txt",
        "x9",
        "{a,b}.txt/in",
        "sub1/deeper/z",
        "sub2/.hidden",
        "br[a]ck",
        "star*",
        "q?",
        "back\\slash",
        "UP.TXT",
    ] {
        t.file(format!("t/{name}"), 100);
    }
    let mut f = Failures::default();
    for pattern in [
        "{a,b}.txt",
        "*.{txt,TXT}",
        "[[:digit:]]*",
        "*[[:digit:]]*",
        "*[[:upper:]]*",
        "**",
        "sub1/**",
        "[!a]*.txt",
        "[^a]*.txt",
        "br\\[a\\]ck",
        "br[a]ck",
        "star\\*",
        "q\\?",
        "back\\\\slash",
        "*/deeper",
        "sub1/",
        ".*",
        "*.TXT",
        "t/sub?",
        "[a-b].txt",
        "[]a]*",
        "x[0-9]",
        "\\x9",
        "*/",
        "t*z",
    ] {
        f.add(t.check(
            &["-a", &format!("--exclude={pattern}")],
            &["t"],
            &How::default(),
        ));
    }
    f.finish("--exclude patterns vs du");
}
