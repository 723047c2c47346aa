//! Trees deeper than PATH_MAX, and scans under a tiny file descriptor limit.
mod common;

use std::ffi::OsString;

use common::*;

/// fdu-only configurations the deep tree must give du's answer under.
const DEEP_CONFIGS: &[&[&str]] = &[
    &["--threads", "1"],
    &["--threads", "2"],
    &["--threads", "8"],
    &["--threads", "1", "--max-open-dirs", "2"],
    &["--threads", "2", "--max-open-dirs", "2"],
    &["--threads", "8", "--max-open-dirs", "2"],
    &[
        "--backend",
        "linux",
        "--threads",
        "8",
        "--max-open-dirs",
        "1",
    ],
    &["--backend", "uring", "--threads", "8"],
    &[
        "--backend",
        "uring",
        "--threads",
        "2",
        "--max-open-dirs",
        "2",
    ],
];

#[test]
fn deep_tree_matches_du() {
    let t = deep(200);
    // The tree must really be deeper than PATH_MAX for this test to mean
    // anything: du -a prints the bottom file with its whole path.
    let d = t.du(&["-a", "t"]);
    assert_eq!(d.code, 0, "du failed on the deep tree: {}", d.err_text());
    let longest = records(&d.stdout, b'\n')
        .iter()
        .map(|l| path_of(l).len())
        .max()
        .unwrap();
    assert!(longest > 8000, "deep tree only {longest} bytes deep");

    let mut f = Failures::default();
    for config in DEEP_CONFIGS {
        for opts in [
            &["-s"][..],
            &["-a"],
            &["-d", "3"],
            &["-a", "-b"],
            &["--inodes", "-s"],
            &["-a", "-l"],
            &["-c", "-d", "150"],
        ] {
            f.add(t.check(opts, &["t"], &How::fdu_opts(config)));
        }
    }
    // An argument that is itself deep below the working directory.
    let mid: Vec<&str> = std::iter::once("t")
        .chain(std::iter::repeat_n(DEEP_NAME, 90))
        .collect();
    let mid = mid.join("/");
    for config in [
        &["--threads", "2"][..],
        &["--threads", "2", "--max-open-dirs", "2"],
    ] {
        f.add(t.check(&["-s"], &[&mid], &How::fdu_opts(config)));
        f.add(t.check(&["-d", "2"], &[&mid, "t"], &How::fdu_opts(config)));
    }
    f.finish("deep tree vs du");
}

/// The std backend is path based: past PATH_MAX it must fail loudly, never
/// print a smaller total as if all was well.
#[test]
fn deep_tree_std_backend_reports_errors() {
    let t = deep(200);
    let mut f = Failures::default();
    for opts in [&["-s"][..], &["-a"], &["-d", "3"]] {
        for threads in ["1", "8"] {
            let mut args = vec!["--backend", "std", "--threads", threads];
            args.extend_from_slice(opts);
            args.push("t");
            let r = t.fdu(&args);
            if r.code != 1 {
                f.push(format!("{}: exit {} (expected 1)", r.cmd, r.code));
            }
            let err = r.err_text();
            if !err
                .lines()
                .any(|l| l.starts_with("fdu: ") && l.contains("File name too long"))
            {
                f.push(format!(
                    "{}: no 'File name too long' error in stderr: {}",
                    r.cmd,
                    shorten(&err, 300)
                ));
            }
            if err.contains("panicked") {
                f.push(format!("{}: panicked: {}", r.cmd, shorten(&err, 300)));
            }
        }
    }
    f.finish("std backend on a tree deeper than PATH_MAX");
}

fn prlimit_how(limit: u32, fdu_opts: &[&str]) -> How {
    How {
        fdu_wrapper: vec![
            OsString::from("prlimit"),
            OsString::from(format!("--nofile={limit}:{limit}")),
        ],
        fdu_opts: oss(fdu_opts),
        ..How::default()
    }
}

/// A deep tree that branches at every level, scanned with 40 descriptors in
/// all: fdu must stay within its fd budget by reopening directories.
#[test]
fn branching_tree_under_tiny_fd_limit() {
    if !have_tool("prlimit") {
        eprintln!("SKIPPED: prlimit (util-linux) is not installed");
        return;
    }
    let t = branching(300);
    let limit = run_argv(
        &oss(&["prlimit", "--nofile=40:40", "bash", "-c", "ulimit -n"]),
        t.cwd(),
        &[],
    );
    assert_eq!(
        limit.out_text().trim(),
        "40",
        "prlimit did not apply: {}",
        limit.err_text()
    );
    let mut f = Failures::default();
    for fdu_opts in [
        &[][..],
        &["--threads", "1"],
        &["--threads", "8"],
        &["--backend", "linux", "--threads", "16"],
        &["--backend", "uring", "--threads", "8"],
    ] {
        for opts in [&["-s"][..], &["-a"], &["-d", "2"]] {
            f.add(t.check(opts, &["t"], &prlimit_how(40, fdu_opts)));
        }
    }
    f.finish("branching tree under prlimit --nofile=40:40");
}

/// The deep tree under the same fd limit.
#[test]
fn deep_tree_under_tiny_fd_limit() {
    if !have_tool("prlimit") {
        eprintln!("SKIPPED: prlimit (util-linux) is not installed");
        return;
    }
    let t = deep(200);
    let mut f = Failures::default();
    for fdu_opts in [
        &[][..],
        &["--threads", "8"],
        &["--backend", "uring", "--threads", "4"],
    ] {
        for opts in [&["-s"][..], &["-a"]] {
            f.add(t.check(opts, &["t"], &prlimit_how(40, fdu_opts)));
        }
    }
    f.finish("deep tree under prlimit --nofile=40:40");
}

/// A wide and deep tree (many directories open at once) under the limit.
#[test]
fn many_directories_under_tiny_fd_limit() {
    if !have_tool("prlimit") {
        eprintln!("SKIPPED: prlimit (util-linux) is not installed");
        return;
    }
    let t = Tree::new();
    for a in 0..12 {
        for b in 0..12 {
            let d = format!("t/a{a}/b{b}/c/d");
            t.mkdir(&d);
            t.file(format!("{d}/f"), a * 1000 + b);
        }
    }
    let mut f = Failures::default();
    for fdu_opts in [
        &["--threads", "8"][..],
        &["--threads", "16", "--backend", "std"],
        &["--threads", "8", "--backend", "uring"],
    ] {
        for opts in [&["-s"][..], &["-a"]] {
            f.add(t.check(opts, &["t"], &prlimit_how(40, fdu_opts)));
        }
    }
    f.finish("many directories under prlimit --nofile=40:40");
}
