//! `--mpi` against one process: the same bytes on stdout, the same exit
//! status, the same diagnostics, with 1, 2 and 4 ranks under `mpirun`, on
//! the named trees (hard links across ranks, a directory of 100k entries,
//! a tree deeper than PATH_MAX). Built only with `--features mpi`; needs
//! OpenMPI's `mpirun` (README, "Many nodes").
#![cfg(feature = "mpi")]
mod common;

use std::ffi::OsString;
use std::path::Path;

use common::*;

/// Option sets a spread scan must print exactly as one process does.
const OPTIONS: &[&[&str]] = &[
    &["-a"],
    &["-s"],
    &["-d", "1"],
    &["-c", "-a"],
    &["-a", "-x"],
    &["-a", "-l"],
    &["--inodes", "-a"],
    &["-S", "-a"],
    &["-a", "-b"],
    &["-a", "--time"],
    &["-a", "--exclude", "*.txt"],
    &["--json", "-a"],
    &["--top", "3"],
    &["--format", "prometheus"],
    &["-a", "--backend", "std"],
    &["-a", "--backend", "uring"],
];

const RANKS: &[usize] = &[1, 2, 4];

/// `mpirun -n N`, as the tests run it (as root too).
fn launcher(n: usize) -> Vec<OsString> {
    oss(&["mpirun", "--allow-run-as-root", "--oversubscribe", "-n"])
        .into_iter()
        .chain([OsString::from(n.to_string())])
        .collect()
}

/// Shared memory between the ranks of one machine, without the kernel's
/// cross-memory attach (refused in many containers).
fn mpi_env() -> Vec<(OsString, OsString)> {
    [
        ("OMPI_MCA_btl", "self,vader"),
        ("OMPI_MCA_btl_vader_single_copy_mechanism", "none"),
    ]
    .map(|(k, v)| (OsString::from(k), OsString::from(v)))
    .to_vec()
}

/// `fdu --mpi ARGS` under `mpirun -n N`, in `cwd`.
fn mpirun(n: usize, cwd: &Path, args: &[OsString]) -> Run {
    mpirun_with(n, cwd, args, &[])
}

/// The same, with `vars` set on every rank (test hooks).
fn mpirun_with(n: usize, cwd: &Path, args: &[OsString], vars: &[(&str, &str)]) -> Run {
    let mut argv = launcher(n);
    let mut env = mpi_env();
    for (name, value) in vars {
        argv.extend(oss(&["-x", name]));
        env.push((name.into(), value.into()));
    }
    argv.push(fdu_bin().into_os_string());
    argv.push("--mpi".into());
    argv.extend(args.iter().cloned());
    run_argv(&argv, cwd, &env)
}

/// `fdu --mpi ARGS` under `mpirun -n N`, each entry counted taking
/// `delay_ms` longer on every rank (the progress test hook: counting is
/// on with `--progress`).
fn slowed(n: usize, cwd: &Path, delay_ms: &str, args: &[&str]) -> Run {
    mpirun_with(
        n,
        cwd,
        &oss(args),
        &[("FDU_TEST_PROGRESS_DELAY_MS", delay_ms)],
    )
}

/// The ranks of `--stats` that counted entries.
fn busy_ranks(stderr: &str) -> usize {
    stderr
        .lines()
        .filter(|l| l.starts_with("rank "))
        .filter(|l| !l.contains(": 0 entries"))
        .count()
}

/// What a run printed, less what differs between two runs of one process
/// (`--json`'s `scan` object, Prometheus' duration and time stamp).
fn stable(out: &[u8]) -> Vec<u8> {
    if out.first() == Some(&b'{') {
        let mut doc: serde_json::Value = serde_json::from_slice(out).expect("JSON");
        doc.as_object_mut().expect("an object").remove("scan");
        return serde_json::to_vec(&doc).expect("JSON");
    }
    out.split_inclusive(|&b| b == b'\n')
        .filter(|l| {
            !l.starts_with(b"fdu_scan_duration_seconds")
                && !l.starts_with(b"fdu_last_scan_timestamp")
        })
        .flatten()
        .copied()
        .collect()
}

/// fdu's own diagnostics (mpirun adds its own when a rank exits non-zero).
fn ours(stderr: &[u8]) -> Vec<Vec<u8>> {
    let lines: Vec<u8> = stderr
        .split_inclusive(|&b| b == b'\n')
        .filter(|l| l.starts_with(b"fdu: "))
        .flatten()
        .copied()
        .collect();
    sorted(normalized_stderr(&lines))
}

/// `args` in `cwd` under `mpirun -n N`, N each of `ranks`: the same exit
/// status, standard output (as `keep` keeps it) and diagnostics as one
/// process. Returns one process's run.
fn agrees(cwd: &Path, args: &[OsString], ranks: &[usize], keep: fn(&[u8]) -> Vec<u8>) -> Run {
    let one = fdu(cwd, args);
    for &n in ranks {
        let many = mpirun(n, cwd, args);
        assert_eq!(
            many.code,
            one.code,
            "{n} ranks, {args:?}: exit status\n{}",
            String::from_utf8_lossy(&many.stderr)
        );
        assert!(
            keep(&many.stdout) == keep(&one.stdout),
            "{n} ranks, {args:?}: stdout differs\none process:\n{}\n{n} ranks:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&one.stdout),
            String::from_utf8_lossy(&many.stdout),
            String::from_utf8_lossy(&many.stderr)
        );
        assert_eq!(
            ours(&many.stderr),
            ours(&one.stderr),
            "{n} ranks, {args:?}: diagnostics"
        );
    }
    one
}

/// Every option set on `tree`'s `t`, with every rank count: the same as
/// one process.
fn same_as_one_process(tree: &Tree, options: &[&[&str]]) {
    for opts in options {
        let mut args = oss(opts);
        args.push("t".into());
        agrees(tree.cwd(), &args, RANKS, stable);
    }
}

#[test]
fn named_trees_print_what_one_process_prints() {
    for tree in [
        basic(),
        links_within(),
        links_across(),
        sparse(),
        non_utf8(),
    ] {
        same_as_one_process(&tree, OPTIONS);
    }
}

/// Several operands, overlapping, repeated, a file among them: each
/// directory and file counted under the first operand that reaches it.
#[test]
fn several_operands_count_each_entry_once() {
    let cases: &[(Tree, &[&[&str]])] = &[
        (
            basic(),
            &[
                &["-c", "-s", "t", "t/sub1"],
                &["-c", "-a", "t/sub1", "t"],
                &["-s", "t", "t"],
                &["-c", "t/a.txt", "t", "t/a.txt"],
                &["-d", "1", "t/sub3", "t/order", "t/sub3/sub1"],
            ],
        ),
        (
            links_across(),
            &[&["-c", "-s", "t/a", "t/b"], &["-c", "-a", "t/b", "t"]],
        ),
    ];
    for (tree, sets) in cases {
        for opts in sets.iter() {
            agrees(tree.cwd(), &oss(opts), RANKS, <[u8]>::to_vec);
        }
    }
}

#[test]
fn a_huge_directory_is_shared_and_counted_once() {
    let tree = wide(100_000);
    same_as_one_process(&tree, &[&["-s"], &["-a", "-d", "1"], &["--inodes", "-s"]]);
    // Its batches cross ranks: with 4 ranks, more than one lists or
    // stats. Each entry takes 1 ms longer (the progress test hook), so
    // that rank 0 cannot finish before the others have started, however
    // loaded the machine.
    let tree = wide(5_000);
    let run = slowed(
        4,
        tree.cwd(),
        "1",
        &["-j", "1", "--progress", "--stats", "-s", "t"],
    );
    assert_eq!(run.code, 0, "{}", String::from_utf8_lossy(&run.stderr));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        busy_ranks(&stderr) >= 2,
        "one rank did all the work:\n{stderr}"
    );
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("rank ")).count(),
        4,
        "{stderr}"
    );
}

#[test]
fn a_tree_deeper_than_path_max() {
    let tree = deep(200);
    same_as_one_process(&tree, &[&["-s"], &["-a"], &["-d", "3"]]);
}

#[test]
fn what_cannot_be_spread_is_a_usage_error_said_once() {
    let tree = basic();
    for opts in [
        &["-L", "t"][..],
        &["--dups", "t"][..],
        &["-f", "x.json"][..],
        &["--checkpoint", "c", "t"][..],
    ] {
        let run = mpirun(2, tree.cwd(), &oss(opts));
        assert_eq!(
            run.code,
            2,
            "{opts:?}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let said = String::from_utf8_lossy(&run.stderr);
        assert_eq!(
            said.matches("--mpi").count(),
            1,
            "{opts:?}: said once by rank 0:\n{said}"
        );
    }
}

/// An export less its time stamp (the one field two runs differ in);
/// anything else as it is.
fn untimed(export: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(export);
    let Some(at) = text.find("\"timestamp\":").map(|at| at + 12) else {
        return export.to_vec();
    };
    let end = at + text[at..].find('}').expect("the header's end");
    [&export[..at], &export[end..]].concat()
}

/// `-o` under `args` on `tree`: the same export (to stdout, and to a
/// file), the same diagnostics and status as one process.
fn same_export(tree: &Tree, args: &[&str], n: usize) {
    let mut to_stdout = oss(&["-o", "-"]);
    to_stdout.extend(oss(args));
    let one = agrees(tree.cwd(), &to_stdout, &[n], untimed);
    if one.code != 0 && String::from_utf8_lossy(&one.stderr).contains("io_uring") {
        eprintln!(
            "SKIPPED: {}: {}",
            one.cmd,
            String::from_utf8_lossy(&one.stderr)
        );
        return;
    }
    assert!(one.stdout.starts_with(b"[1,2,"), "{}", one.cmd);
    let mut to_file = oss(&["-o", "spread.json"]);
    to_file.extend(oss(args));
    let run = mpirun(n, tree.cwd(), &to_file);
    assert_eq!(run.code, one.code, "{n} ranks, {args:?} to a file");
    let written = std::fs::read(tree.p("spread.json")).expect("the export");
    assert!(
        untimed(&written) == untimed(&one.stdout),
        "{n} ranks, {args:?}: the file"
    );
    std::fs::remove_file(tree.p("spread.json")).expect("remove");
}

#[test]
fn exports_are_what_one_process_writes() {
    for tree in [basic(), links_within(), sparse(), non_utf8()] {
        for args in [&["t"][..], &["-e", "t"], &["-x", "--exclude", "*.txt", "t"]] {
            for &n in RANKS {
                same_export(&tree, args, n);
            }
        }
    }
    // Spilled by every worker (1 MiB each), its batches stat'ed on every
    // rank, the bytes of three ranks streamed to rank 0.
    let tree = wide(100_000);
    same_export(&tree, &["t"], 4);
    same_export(&tree, &["--backend", "uring", "t"], 2);
    let tree = deep(200);
    same_export(&tree, &["t"], 4);
    // Slowed (1 ms an entry, one worker a rank) so that every rank
    // exports part of it, each part crossing in messages of 4 KiB (the
    // test hook) rather than 4 MiB.
    let tree = wide(5_000);
    let one = fdu(tree.cwd(), &oss(&["-o", "-", "t"]));
    let run = mpirun_with(
        4,
        tree.cwd(),
        &oss(&["-j", "1", "--progress", "--stats", "-o", "-", "t"]),
        &[
            ("FDU_TEST_PROGRESS_DELAY_MS", "1"),
            ("FDU_TEST_MPI_CHUNK", "4096"),
        ],
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.code, 0, "{stderr}");
    assert!(untimed(&run.stdout) == untimed(&one.stdout), "{stderr}");
    assert!(busy_ranks(&stderr) >= 3, "ranks idle:\n{stderr}");
    // The export rank 0 cannot make fails before the walk, said once.
    let tree = basic();
    let run = mpirun(2, tree.cwd(), &oss(&["-o", "nodir/x.json", "t"]));
    assert_eq!(run.code, 1, "{}", String::from_utf8_lossy(&run.stderr));
    let said = ours(&run.stderr);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(String::from_utf8_lossy(&said[0]).contains("nodir/x.json"));
}

#[test]
fn operands_from_a_file_reach_every_rank() {
    let tree = basic();
    std::fs::write(tree.p("list"), b"t/sub1\0t\0\0t/a.txt\0t/none\0").expect("list");
    std::fs::write(tree.p("one"), b"t").expect("list");
    for opts in [
        &["-c", "--files0-from", "list"][..],
        &["-a", "--files0-from", "list"],
        &["--files0-from", "absent"],
        // Refused as one process refuses it.
        &["-o", "-", "--files0-from", "one"],
    ] {
        agrees(tree.cwd(), &oss(opts), RANKS, untimed);
    }
}

#[test]
fn compare_prints_what_one_process_prints() {
    let tree = basic();
    let made = fdu(tree.cwd(), &oss(&["-o", "old.json", "t"]));
    assert_eq!(made.code, 0);
    std::fs::create_dir_all(tree.p("before")).expect("mkdir");
    let copied = run_argv(&oss(&["cp", "-a", "t", "before/t"]), tree.cwd(), &[]);
    assert_eq!(copied.code, 0);
    tree.file("t/sub1/new.bin", 30000);
    tree.file("t/sub2/grown", 9000);
    std::fs::remove_file(tree.p("t/b.bin")).expect("rm");
    for opts in [
        &["--compare", "old.json", "t"][..],
        &["--compare", "old.json", "-a", "-c", "t"],
        &["--compare", "before/t", "-a", "t"],
        &["--compare", "before/t", "--json", "-d", "1", "t"],
        &["--compare", "old.json", "--top", "2", "--inodes", "t"],
        &["--compare", "t", "-c", "before/t"],
        &["--compare", "absent.json", "t"],
    ] {
        agrees(tree.cwd(), &oss(opts), RANKS, <[u8]>::to_vec);
    }
}

/// `--progress`: rank 0 alone prints, and its count is the job's. Each
/// entry counted sleeps 4 ms (the test hook), so one worker per rank
/// stats a batch of 256 names a second: by the first line (5 s), rank 0
/// alone cannot have counted more than about 1,300 entries, four ranks
/// about four times that.
#[test]
fn progress_counts_the_entries_of_every_rank() {
    let tree = wide(8_000);
    let one = fdu(tree.cwd(), &oss(&["-s", "--stats", "t"]));
    let entries: u64 = String::from_utf8_lossy(&one.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("entries"))
        .and_then(|l| l.trim().parse().ok())
        .expect("--stats' entries");
    let run = slowed(
        4,
        tree.cwd(),
        "4",
        &["-j", "1", "--progress", "--stats", "-s", "t"],
    );
    assert_eq!(run.code, 0, "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(run.stdout, one.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    let counts: Vec<u64> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("fdu: progress: scanning: "))
        .map(|l| {
            let n = l.split(' ').next().expect("a count").replace(',', "");
            n.parse().expect("a number")
        })
        .collect();
    let elapsed: f64 = stderr
        .lines()
        .find_map(|l| l.strip_prefix("elapsed"))
        .and_then(|l| l.trim().strip_suffix(" s"))
        .and_then(|l| l.parse().ok())
        .expect("--stats' elapsed");
    assert!(!counts.is_empty(), "no progress line:\n{stderr}");
    assert!(
        counts.len() as f64 <= elapsed / 5.0 + 1.0,
        "more lines than one rank prints:\n{stderr}"
    );
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{stderr}");
    assert!(counts[counts.len() - 1] <= entries, "{stderr}");
    assert!(
        counts[0] > 2_600,
        "the first line counts rank 0's entries alone:\n{stderr}"
    );
}

/// Bind mounts: a directory mounted below itself is a cycle, skipped as
/// one process skips it whichever rank meets it (the ancestor chain
/// crosses ranks with the task). A directory mounted elsewhere in its
/// tree, under two operands, is walked once by one process; spread, two
/// ranks may each have found a copy in the same operand (listing two
/// parents each): the job then ends with its message (exit 1, nothing
/// printed), never another total.
#[test]
fn bind_mounts_are_skipped_or_end_the_job() {
    if !is_root() || !have_tool("mount") {
        eprintln!("SKIPPED: bind mounts need root");
        return;
    }
    let tree = Tree::new();
    tree.mkdir("t/a/b");
    tree.mkdir("t/d/x/y");
    tree.file("t/d/f", 3000);
    tree.mkdir("t/s/p/one");
    tree.mkdir("t/s/r/two");
    for i in 0..300 {
        tree.file(format!("t/s/p/one/f{i}"), 100 * i);
    }
    let mut mounts = Mounts(Vec::new());
    for (source, target) in [
        ("t/a", "t/a/b"),
        ("t/d", "t/d/x/y"),
        ("t/s/p/one", "t/s/r/two"),
    ] {
        if bind(&mut mounts, &tree.p(source), &tree.p(target)).is_none() {
            eprintln!("SKIPPED: mount --bind is not permitted here");
            return;
        }
    }
    for opts in [&["-a", "t/a"][..], &["-s", "t/d"], &["-a", "t/d"], &["t"]] {
        agrees(tree.cwd(), &oss(opts), RANKS, <[u8]>::to_vec);
    }
    // `-s`: which copy one process walks depends on its threads' timing
    // (its `-a` lines name either), the totals do not.
    let opts = ["-c", "-s", "t/s", "t/d"];
    let one = fdu(tree.cwd(), &oss(&opts));
    assert_eq!(one.code, 0);
    let once_or_ended = |many: Run, n: usize| {
        let said = String::from_utf8_lossy(&many.stderr);
        if many.code == 0 {
            assert_eq!(many.stdout, one.stdout, "{n} ranks");
        } else {
            assert_eq!(many.code, 1, "{n} ranks: {said}");
            assert!(many.stdout.is_empty(), "{n} ranks printed a total");
            assert!(said.contains("walked by two ranks"), "{n} ranks: {said}");
        }
    };
    for &n in RANKS {
        once_or_ended(mpirun(n, tree.cwd(), &oss(&opts)), n);
    }
    // Slowed (2 ms an entry, one worker a rank), the copies are most
    // likely taken by two ranks.
    let slow = [&["-j", "1", "--progress"][..], &opts].concat();
    once_or_ended(slowed(4, tree.cwd(), "2", &slow), 4);
}

#[test]
fn unreadable_entries_are_reported_once_and_fail_every_rank() {
    let tree = basic();
    let Some(how) = unprivileged_how(&tree) else {
        return;
    };
    chmod(&tree.p("t/sub1"), 0o000);
    chmod(&tree.p("t/sub3"), 0o300);
    for args in [
        oss(&["-a", "t"]),
        oss(&["-s", "t/nonexistent"]),
        oss(&["-o", "-", "t"]),
    ] {
        let one = how.fdu(tree.cwd(), &args);
        assert_eq!(one.code, 1, "{}", String::from_utf8_lossy(&one.stderr));
        for &n in RANKS {
            let spread = How {
                fdu_wrapper: launcher(n),
                fdu_opts: oss(&["--mpi"]),
                env: mpi_env(),
                ..how.clone()
            };
            let many = spread.fdu(tree.cwd(), &args);
            assert_eq!(many.code, 1, "{}", String::from_utf8_lossy(&many.stderr));
            if args[0] == "-o" {
                assert!(
                    untimed(&many.stdout) == untimed(&one.stdout),
                    "{n} ranks: -o"
                );
            } else {
                assert_eq!(many.stdout, one.stdout, "{n} ranks");
            }
            assert_eq!(
                ours(&many.stderr),
                ours(&one.stderr),
                "{n} ranks: each error once"
            );
        }
    }
    chmod(&tree.p("t/sub1"), 0o755);
    chmod(&tree.p("t/sub3"), 0o755);
}

/// A rank whose backend cannot start (the test hook) stops every rank
/// before the walk: one message, exit 1, nothing printed, no rank left
/// waiting (the launcher is given a minute).
#[test]
fn a_backend_that_starts_on_some_ranks_only_stops_them_all() {
    let tree = basic();
    for (n, fails) in [(2, "1"), (4, "0"), (4, "2")] {
        for opts in [&["-s", "t"][..], &["-o", "-", "t"]] {
            let mut argv = oss(&["timeout", "60"]);
            argv.extend(launcher(n));
            argv.extend(oss(&["-x", "FDU_TEST_RANK_NO_BACKEND"]));
            argv.push(fdu_bin().into_os_string());
            argv.push("--mpi".into());
            argv.extend(oss(opts));
            let mut env = mpi_env();
            env.push(("FDU_TEST_RANK_NO_BACKEND".into(), fails.into()));
            let run = run_argv(&argv, tree.cwd(), &env);
            assert_eq!(run.code, 1, "{n} ranks, rank {fails}: {}", run.cmd);
            assert!(run.stdout.is_empty(), "{n} ranks, rank {fails}");
            let said = ours(&run.stderr);
            assert_eq!(said.len(), 1, "{n} ranks, rank {fails}: {said:?}");
            assert!(String::from_utf8_lossy(&said[0]).contains("backend could not start"));
        }
    }
}

#[test]
fn a_rank_that_dies_fails_the_job_and_nothing_is_printed() {
    let tree = wide(20_000);
    for (n, dies) in [(2, "1"), (4, "0"), (4, "3")] {
        let mut argv = launcher(n);
        argv.extend(oss(&["-x", "FDU_TEST_RANK_EXIT"]));
        argv.push(fdu_bin().into_os_string());
        argv.extend(oss(&["--mpi", "-s", "t"]));
        let mut env = mpi_env();
        env.push(("FDU_TEST_RANK_EXIT".into(), dies.into()));
        let run = run_argv(&argv, tree.cwd(), &env);
        assert_ne!(run.code, 0, "{n} ranks, rank {dies} died: {}", run.cmd);
        assert!(
            run.stdout.is_empty(),
            "{n} ranks, rank {dies} died, yet printed: {}",
            String::from_utf8_lossy(&run.stdout)
        );
    }
}
