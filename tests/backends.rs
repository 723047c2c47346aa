//! The linux, uring and std backends, at every thread count, pinned or not,
//! and with a tiny fd budget, must print byte-identical output: fdu's order
//! is deterministic.
mod common;

use std::ffi::OsString;

use common::*;

/// Option sets run on every tree.
const SETS: &[&[&str]] = &[
    &["-a"],
    &["-a", "-l"],
    &["-d", "1", "--apparent-size"],
    &["--inodes", "-a"],
    &["-s", "-c"],
    &["-a", "-L"],
    &["-a", "-b", "--exclude=*.txt"],
    &["-d", "2", "-h"],
    &["-a", "-0"],
];

/// Backend and fdu-only options of each configuration; the first is the
/// reference.
const CONFIGS: &[&[&str]] = &[
    &["--backend", "linux", "--threads", "1"],
    &["--backend", "linux", "--threads", "2"],
    &["--backend", "linux", "--threads", "8"],
    &["--backend", "std", "--threads", "1"],
    &["--backend", "std", "--threads", "2"],
    &["--backend", "std", "--threads", "8"],
    &[
        "--backend",
        "linux",
        "--threads",
        "8",
        "--max-open-dirs",
        "2",
    ],
    &[
        "--backend",
        "linux",
        "--threads",
        "1",
        "--max-open-dirs",
        "1",
    ],
    &["--backend", "std", "--threads", "2", "--max-open-dirs", "2"],
    &["--backend", "auto"],
    &["--backend", "uring", "--threads", "1"],
    &["--backend", "uring", "--threads", "2"],
    &["--backend", "uring", "--threads", "8"],
    // One operation in flight per ring: every batch takes many submissions.
    &["--backend", "uring", "--threads", "2", "--ring-depth", "1"],
    &[
        "--backend",
        "uring",
        "--threads",
        "8",
        "--max-open-dirs",
        "2",
    ],
    &["--backend", "uring", "--threads", "4", "--pin", "cpu"],
    &["--backend", "linux", "--threads", "3", "--pin", "numa"],
];

/// Run every configuration on `paths` with `opts`; report any that differs
/// from the first.
fn compare_configs(f: &mut Failures, tree: &Tree, opts: &[&str], paths: &[OsString], runs: usize) {
    let args = |config: &[&str]| -> Vec<OsString> {
        let mut v = oss(config);
        v.extend(oss(opts));
        v.extend(paths.iter().cloned());
        v
    };
    let reference = fdu(tree.cwd(), &args(CONFIGS[0]));
    if reference.code == 2 || (reference.stdout.is_empty() && reference.code != 0) {
        f.push(format!(
            "{}: exit {} and no output: {}",
            reference.cmd,
            reference.code,
            reference.err_text()
        ));
        return;
    }
    let ref_err = normalized_stderr(&reference.stderr);
    for config in CONFIGS {
        for _ in 0..runs {
            let r = fdu(tree.cwd(), &args(config));
            let mut problems = Vec::new();
            if r.code != reference.code {
                problems.push(format!(
                    "    exit code {} (reference {})",
                    r.code, reference.code
                ));
            }
            if r.stdout != reference.stdout {
                let term = if opts.contains(&"-0") { 0 } else { b'\n' };
                let diff = multiset_diff(
                    "reference",
                    &records(&reference.stdout, term),
                    "this run",
                    &records(&r.stdout, term),
                )
                .unwrap_or_else(|| "    same lines, different order\n".to_string());
                problems.push(format!(
                    "    stdout differs from {}:\n{diff}",
                    reference.cmd
                ));
            }
            if let Some(diff) = multiset_diff(
                "reference",
                &ref_err,
                "this run",
                &normalized_stderr(&r.stderr),
            ) {
                problems.push(format!(
                    "    stderr differs from {}:\n{diff}",
                    reference.cmd
                ));
            }
            if !problems.is_empty() {
                f.push(format!("{}\n{}", r.cmd, problems.join("\n")));
                break;
            }
        }
    }
}

fn all_sets(name: &str, tree: &Tree, extra_paths: &[&[&str]]) {
    let mut f = Failures::default();
    for opts in SETS {
        compare_configs(&mut f, tree, opts, &oss(&["t"]), 1);
    }
    for paths in extra_paths {
        for opts in [&["-a"][..], &["-s", "-c"], &["-d", "1", "-c"]] {
            compare_configs(&mut f, tree, opts, &oss(paths), 1);
        }
    }
    f.finish(&format!("{name} tree: backends and thread counts"));
}

#[test]
fn basic_tree() {
    all_sets(
        "basic",
        &basic(),
        &[
            &["t/sub1", "t"],
            &["t", "t/sub1", "t/a.txt"],
            &["t/a.txt", "t"],
        ],
    );
}

#[test]
fn links_within_tree() {
    all_sets(
        "links_within",
        &links_within(),
        &[&["t/d2", "t"], &["t/d1/f", "t"]],
    );
}

#[test]
fn links_across_tree() {
    // Cross-directory links are charged to the first occurrence in path
    // order: never to whichever worker got there first.
    let t = links_across();
    all_sets(
        "links_across",
        &t,
        &[&["t/b", "t/a"], &["t/c", "t/a", "t/b"]],
    );
    let mut f = Failures::default();
    compare_configs(&mut f, &t, &["-a"], &oss(&["t"]), 10);
    compare_configs(&mut f, &t, &["-d", "1"], &oss(&["t"]), 10);
    f.finish("links_across tree: repeated runs");
}

#[test]
fn symlinks_tree() {
    all_sets(
        "symlinks",
        &symlinks(true),
        &[&["t/ldir", "t"], &["t/dang", "t/dir"]],
    );
}

#[test]
fn symlinks_no_dangling_tree() {
    all_sets(
        "symlinks_no_dangling",
        &symlinks(false),
        &[&["t/ldir", "t/dir"]],
    );
}

#[test]
fn sparse_tree() {
    all_sets("sparse", &sparse(), &[]);
}

#[test]
fn empty_tree() {
    all_sets("empty", &empty_dirs(), &[&["t/e1", "t/e2", "t"]]);
}

#[test]
fn non_utf8_tree() {
    let t = non_utf8();
    all_sets("non_utf8", &t, &[]);
    let mut f = Failures::default();
    compare_configs(&mut f, &t, &["-a"], &[os(b"t/dir\xff"), os("t")], 1);
    f.finish("non_utf8 tree: byte arguments");
}

#[test]
fn long_names_tree() {
    all_sets("long_names", &long_names(), &[]);
}

#[test]
fn wide_tree() {
    let t = wide(100_000);
    let mut f = Failures::default();
    for opts in [&["-a"][..], &["-s", "-c"], &["--inodes", "-a", "-b"]] {
        compare_configs(&mut f, &t, opts, &oss(&["t"]), 1);
    }
    f.finish("wide tree: backends and thread counts");
}

/// Under `-L` a directory reachable through two paths is counted once; which
/// path gets it must not depend on which worker gets there first.
#[test]
fn dereferenced_directory_aliases_are_deterministic() {
    let t = aliased_dirs(20);
    let mut f = Failures::default();
    for opts in [&["-a", "-L"][..], &["-d", "1", "-L"]] {
        compare_configs(&mut f, &t, opts, &oss(&["t"]), 4);
    }
    f.finish("-L with directories reachable twice: repeated runs");
}

/// More subdirectories than one stat batch: directory tasks are spilled to
/// other workers.
#[test]
fn many_subdirectories_tree() {
    let t = Tree::new();
    for i in 0..1500 {
        let d = format!("t/many/d{i:04}");
        t.mkdir(&d);
        if i % 3 == 0 {
            t.file(format!("{d}/f"), i * 10);
        }
        if i % 7 == 0 {
            t.mkdir(format!("{d}/inner"));
            t.file(format!("{d}/inner/g"), i);
        }
    }
    all_sets("many_subdirectories", &t, &[&["t/many/d0700", "t"]]);
}

/// The largest thread count accepted gives the same output.
#[test]
fn maximum_thread_count() {
    let t = basic();
    let reference = t.fdu(&["--threads", "1", "-a", "t"]);
    let r = t.fdu(&["--threads", "1024", "-a", "t"]);
    assert_eq!(r.code, reference.code, "{}: {}", r.cmd, r.err_text());
    assert_eq!(r.out_text(), reference.out_text(), "{}", r.cmd);
}

/// Workers parked and woken all along the walk (the permits `-j auto`'s
/// controller sets, moved after every task by the walker's test hook)
/// give the same output and exit status as one worker, on every backend.
#[test]
fn permits_that_move_during_the_walk() {
    let t = Tree::new();
    for i in 0..600 {
        let d = format!("t/many/d{i:03}");
        t.mkdir(&d);
        t.file(format!("{d}/f"), i * 10);
        if i % 5 == 0 {
            t.mkdir(format!("{d}/inner/deeper"));
            t.file(format!("{d}/inner/deeper/g"), i);
        }
    }
    for i in (0..600).step_by(5) {
        let to = format!("t/many/d{:03}/link", (i + 7) % 600);
        t.hardlink(format!("t/many/d{i:03}/f"), to);
    }
    t.mkdir("t/wide");
    for i in 0..700 {
        t.file(format!("t/wide/f{i}"), i);
    }
    // fdu in the tree with the permits moved through `cycle`.
    let moved = |cycle: &str, args: &[&str]| {
        let env = [(OsString::from("FDU_TEST_PERMITS"), OsString::from(cycle))];
        let mut argv = vec![fdu_bin().into_os_string()];
        argv.extend(oss(args));
        run_argv(&argv, t.cwd(), &env)
    };
    let mut f = Failures::default();
    let sets: [&[&str]; 5] = [
        &["-a"],
        &["-s"],
        &["-l", "-d", "1"],
        &["--inodes", "-S"],
        &["-a", "--exclude", "*7*"],
    ];
    for opts in sets {
        let mut reference = vec!["--backend", "std", "-j", "1"];
        reference.extend(opts);
        reference.push("t");
        let want = t.fdu(&reference);
        for backend in ["linux", "uring", "std"] {
            for cycle in ["1,6,2,8,3", "8,1", "2,2,16,1,4"] {
                let mut args = vec!["--backend", backend];
                args.extend(opts);
                args.push("t");
                let got = moved(cycle, &args);
                if got.code != want.code || got.stdout != want.stdout {
                    f.push(format!(
                        "FDU_TEST_PERMITS={cycle} {}: exit {} (want {}), output {}",
                        got.cmd,
                        got.code,
                        want.code,
                        if got.stdout == want.stdout {
                            "same"
                        } else {
                            "differs"
                        }
                    ));
                }
            }
        }
    }
    // An export written in pieces holds the entries in listing order,
    // byte for byte one worker's (but for the header's timestamp).
    let body = |path: &str| {
        let bytes = std::fs::read(t.p(path)).expect("export written");
        let at = bytes
            .iter()
            .position(|&b| b == b'\n')
            .expect("a header line");
        bytes[at..].to_vec()
    };
    for backend in ["linux", "uring", "std"] {
        let one = t.fdu(&["--backend", backend, "-j", "1", "-o", "one.json", "t"]);
        assert_eq!(one.code, 0, "{}", one.err_text());
        let want = body("one.json");
        for cycle in ["1,2", "3,1,8,2", "2,1"] {
            let wrote = moved(cycle, &["--backend", backend, "-o", "moved.json", "t"]);
            let got = body("moved.json");
            if wrote.code != 0 || got != want {
                let line = |b: &[u8], n: usize| {
                    String::from_utf8_lossy(b.split(|&c| c == b'\n').nth(n).unwrap_or_default())
                        .into_owned()
                };
                let n = (0..)
                    .find(|&n| line(&got, n) != line(&want, n))
                    .unwrap_or(0);
                f.push(format!(
                    "FDU_TEST_PERMITS={cycle} {}: export differs from -j 1's at line {n}: {:?} against {:?} {}",
                    wrote.cmd,
                    line(&got, n),
                    line(&want, n),
                    wrote.err_text()
                ));
            }
        }
    }
    f.finish("permits moved during the walk");
}

/// `-j auto` gives the default's output, and `--stats` shows its
/// controller; counts outside 1..=1024 are usage errors naming the option.
#[test]
fn auto_workers_and_bad_counts() {
    let t = basic();
    let reference = t.fdu(&["-j", "1", "-a", "t"]);
    for args in [
        &["-a", "t"][..],
        &["-j", "auto", "-a", "t"],
        &["--threads=auto", "-a", "t"],
    ] {
        let r = t.fdu(args);
        assert_eq!(r.code, reference.code, "{}: {}", r.cmd, r.err_text());
        assert_eq!(r.out_text(), reference.out_text(), "{}", r.cmd);
    }
    let stats = t.fdu(&["--stats", "-j", "auto", "-s", "t"]);
    assert!(
        stats.err_text().contains("workers      auto: started with"),
        "{}",
        stats.err_text()
    );
    let fixed = t.fdu(&["--stats", "-j", "3", "-s", "t"]);
    assert!(
        !fixed.err_text().contains("workers      auto"),
        "{}",
        fixed.err_text()
    );
    for bad in ["0", "1025", "x", "-1", ""] {
        let r = t.fdu(&["-j", bad, "t"]);
        assert_eq!(r.code, 2, "{}", r.cmd);
        let err = r.err_text();
        assert!(
            err.contains("--threads") && err.contains("auto or a number from 1 to 1024"),
            "{}: {err}",
            r.cmd
        );
    }
}
