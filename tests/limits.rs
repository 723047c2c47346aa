//! Trees and limits that once gave a different answer than du: directory
//! cycles through bind mounts, chains of more than 40 symlinks under `-L`,
//! a directory removed while it is scanned, descriptor limits down to 8,
//! and very large worker pools. Each is checked against GNU du on every
//! backend and several thread counts.
mod common;

use std::ffi::OsString;

use common::*;

/// Backends and thread counts every case runs with.
const RUNS: &[&[&str]] = &[
    &["--backend", "linux", "-j", "1"],
    &["--backend", "linux", "-j", "2"],
    &["--backend", "linux", "-j", "8"],
    &["--backend", "uring", "-j", "1"],
    &["--backend", "uring", "-j", "8"],
    &["--backend", "std", "-j", "1"],
    &["--backend", "std", "-j", "8"],
];

fn prlimit(limit: u32, fdu_opts: &[&str]) -> How {
    How {
        fdu_wrapper: oss(&["prlimit", &format!("--nofile={limit}:{limit}")]),
        fdu_opts: oss(fdu_opts),
        ..How::default()
    }
}

/// A tree with many directories open at once on a depth-first walk: 8 x 8
/// branches four levels deep, a 40-level chain that branches at every
/// level, and a directory of 300 entries.
fn bushy() -> Tree {
    let t = Tree::new();
    for a in 0..8 {
        for b in 0..8 {
            let d = format!("t/a{a}/b{b}/c/d");
            t.mkdir(&d);
            t.file(format!("{d}/f"), a * 1000 + b * 10);
            t.file(format!("t/a{a}/b{b}/g"), b * 333);
        }
    }
    let mut chain = String::from("t/chain");
    for level in 0..40 {
        chain.push_str(&format!("/n{level}"));
        t.mkdir(&chain);
        t.mkdir(format!("{chain}/../s{level}"));
        t.file(format!("{chain}/../s{level}/f"), level * 37);
    }
    t.mkdir("t/wide");
    for i in 0..300 {
        t.file(format!("t/wide/f{i}"), i);
    }
    t
}

/// `prlimit --nofile=N` down to 8 once lost a third of a scan's entries to
/// `Too many open files` (exit 1) where du finished exactly.
#[test]
fn descriptor_limit_down_to_8_loses_no_entry() {
    if !have_tool("prlimit") {
        eprintln!("SKIPPED: prlimit (util-linux) is not installed");
        return;
    }
    let t = bushy();
    let mut f = Failures::default();
    for limit in [8, 10, 16, 24, 40] {
        for run in RUNS.iter().chain(&[&["-j", "64"][..], &[]]) {
            for opts in [&["-s"][..], &["-a"]] {
                f.add(t.check(opts, &["t"], &prlimit(limit, run)));
            }
        }
    }
    f.finish("scans under a descriptor limit");
}

/// A directory bind-mounted below itself is a cycle: du's fts skips the
/// entry whose `(st_dev, st_ino)` is an ancestor's, silently under `-P`. fdu
/// once walked into it (`a/b/b`, and `d/f` counted twice under `-s`).
#[test]
fn bind_mount_of_an_ancestor_is_skipped_like_du() {
    if !is_root() || !have_tool("mount") {
        eprintln!("SKIPPED: bind mounts need root");
        return;
    }
    let t = Tree::new();
    t.mkdir("t/a/b");
    t.mkdir("t/c/d/e");
    t.file("t/c/d/file", 5000);
    t.mkdir("t/d/sub");
    t.file("t/d/f", 3000);
    t.mkdir("t/d/x/y");
    let mut mounts = Mounts(Vec::new());
    let pairs = [("t/a", "t/a/b"), ("t/c", "t/c/d/e"), ("t/d", "t/d/x/y")];
    for (source, target) in pairs {
        if bind(&mut mounts, &t.p(source), &t.p(target)).is_none() {
            eprintln!("SKIPPED: mount --bind is not permitted here");
            return;
        }
    }
    let mut f = Failures::default();
    let cases: &[(&[&str], &[&str])] = &[
        (&[], &["t/a"]),
        (&[], &["t/c/d"]),
        (&["-s"], &["t/d"]),
        (&["-a"], &["t/d"]),
        (&["-l", "-a"], &["t/d"]),
        (&["-x"], &["t/a"]),
        (&["-L"], &["t/c/d"]),
        (&["-L", "-l"], &["t/c/d"]),
        (&["-H", "-a"], &["t/d"]),
        (&["--inodes"], &["t/d"]),
        (&[], &["t/a", "t/d"]),
        (&["-s"], &["t"]),
    ];
    for run in RUNS {
        for (opts, paths) in cases {
            f.add(t.check(opts, paths, &How::fdu_opts(run)));
        }
    }
    drop(mounts);
    f.finish("bind-mount cycles");
}

/// 60 directories, each `N/s -> ../N+1`: du under `-L` stats `1/s/s/...`
/// by its full path, and the kernel refuses the 41st link (`Too many levels
/// of symbolic links`, 41 lines, exit 1). fdu once printed all 60.
#[test]
fn symlink_chain_past_40_fails_like_du() {
    let t = Tree::new();
    for i in 1..=60 {
        t.mkdir(format!("t/{i}"));
        t.file(format!("t/{i}/f"), i * 10);
    }
    for i in 1..60 {
        t.symlink(format!("../{}", i + 1), format!("t/{i}/s"));
    }
    // Links inside link targets count too: `x/s -> ../via/2` where `via`
    // is itself a symlink is two links for the kernel.
    t.mkdir("t/x");
    t.symlink(".", "t/via");
    t.symlink("../via/2", "t/x/s");
    t.symlink("t/1", "arg");
    let mut f = Failures::default();
    for run in RUNS {
        for opts in [&["-L"][..], &["-L", "-a"], &["-L", "-l"], &["-L", "-s"]] {
            f.add(t.check(opts, &["t/1"], &How::fdu_opts(run)));
            f.add(t.check(opts, &["t/x"], &How::fdu_opts(run)));
            f.add(t.check(opts, &["arg"], &How::fdu_opts(run)));
        }
    }
    let r = t.fdu(&["-L", "t/1"]);
    let lines = records(&r.stdout, b'\n').len();
    if r.code != 1 || lines != 41 {
        f.push(format!(
            "{}: exit {}, {lines} lines (du: 1, 41)",
            r.cmd, r.code
        ));
    }
    f.finish("symlink chains under -L");
}

/// `mkdir x; cd x; rmdir ../x; du` prints `4 .` and exits 0 (glibc's
/// readdir ends a listing on ENOENT); fdu once said `cannot read directory
/// '.'` and exited 1.
#[test]
fn directory_removed_after_it_was_opened_reads_as_empty() {
    let t = Tree::new();
    let mut f = Failures::default();
    for run in RUNS {
        t.mkdir("t/x");
        let script = r#"cd t/x && rmdir ../x && exec "$@""#;
        let mut du_argv = oss(&["sh", "-c", script, "sh", DU]);
        du_argv.push(OsString::from("."));
        let d = run_argv(&du_argv, t.cwd(), &[]);
        t.mkdir("t/x");
        let mut fdu_argv = oss(&["sh", "-c", script, "sh"]);
        fdu_argv.push(fdu_bin().into_os_string());
        fdu_argv.extend(oss(run));
        fdu_argv.push(OsString::from("."));
        let r = run_argv(&fdu_argv, t.cwd(), &[]);
        if (r.code, &r.stdout, &r.stderr) != (d.code, &d.stdout, &d.stderr) {
            f.push(format!(
                "{}: exit {}, stdout {:?}, stderr {:?} (du: {}, {:?}, {:?})",
                r.cmd,
                r.code,
                r.out_text(),
                r.err_text(),
                d.code,
                d.out_text(),
                d.err_text()
            ));
        }
    }
    f.finish("a directory removed while scanned");
}

/// Worker pools far larger than the machine still give du's output (idle
/// workers park; README has the time `-j 1024` takes).
#[test]
fn very_large_worker_pools_agree_with_du() {
    let t = bushy();
    let mut f = Failures::default();
    for j in ["256", "1024"] {
        for backend in ["linux", "uring", "std"] {
            let how = How::fdu_opts(&["-j", j, "--backend", backend]);
            f.add(t.check(&["-a"], &["t"], &how));
        }
    }
    f.finish("large worker pools");
}
