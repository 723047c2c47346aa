//! `fdu --dups`: every trap of a duplicate finder, and a brute-force
//! byte-by-byte oracle on generated trees.
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{chmod, fdu, fdu_bin, is_root, oss, run_argv, scratch, Run};
use fdu::dups::pipeline::{HEAD, TAIL};
use fdu::dups::MAP_FROM;

/// A scratch directory with helpers to fill it.
struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    fn new() -> Dir {
        Dir { tmp: scratch() }
    }
    fn cwd(&self) -> &Path {
        self.tmp.path()
    }
    fn p(&self, rel: &str) -> PathBuf {
        self.cwd().join(rel)
    }
    fn write(&self, rel: &str, bytes: &[u8]) {
        let p = self.p(rel);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(&p, bytes).expect("write");
    }
    fn link(&self, existing: &str, new: &str) {
        fs::create_dir_all(self.p(new).parent().expect("parent")).expect("mkdir");
        fs::hard_link(self.p(existing), self.p(new)).expect("hard link");
    }
    fn run(&self, args: &[&str]) -> Run {
        fdu(self.cwd(), &oss(args))
    }
}

/// `len` pseudo-random bytes from `seed` (xorshift: no two seeds alike).
fn content(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn flipped(mut bytes: Vec<u8>, at: usize) -> Vec<u8> {
    bytes[at] ^= 0x5a;
    bytes
}

/// The groups of a text report (the summary line dropped), each sorted.
fn text_groups(run: &Run) -> Vec<Vec<String>> {
    let text = run.out_text();
    let mut blocks: Vec<&str> = text.trim_end_matches('\n').split("\n\n").collect();
    let summary = blocks.pop().unwrap_or_default();
    assert!(summary.contains(" reclaimable"), "no summary in {text:?}");
    blocks
        .iter()
        .filter(|b| !b.is_empty())
        .map(|b| b.lines().map(str::to_string).collect())
        .collect()
}

/// The groups of a report as sets of paths, for order-free comparisons.
fn group_set(run: &Run) -> BTreeSet<BTreeSet<String>> {
    text_groups(run)
        .into_iter()
        .map(|g| g.into_iter().collect())
        .collect()
}

fn set(groups: &[&[&str]]) -> BTreeSet<BTreeSet<String>> {
    groups
        .iter()
        .map(|g| g.iter().map(|s| s.to_string()).collect())
        .collect()
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {}", run.cmd, run.out_text()))
}

fn ok(run: &Run) {
    assert_eq!(run.code, 0, "{}: {}", run.cmd, run.err_text());
    assert!(run.stderr.is_empty(), "{}: {}", run.cmd, run.err_text());
}

/// Sizes on every boundary the stages have (head, tail, mapping).
fn boundary_sizes() -> Vec<usize> {
    let (h, t) = (HEAD as usize, TAIL as usize);
    vec![
        1,
        2,
        3,
        4095,
        4096,
        4097,
        h - 1,
        h,
        h + 1,
        h + t - 1,
        h + t,
        h + t + 1,
        2 * h + t,
        100_000,
    ]
}

#[test]
fn same_size_files_differing_in_one_byte_are_not_duplicates() {
    let d = Dir::new();
    let (h, t) = (HEAD as usize, TAIL as usize);
    let mut want = Vec::new();
    for (n, &size) in boundary_sizes().iter().enumerate() {
        let base = content(n as u64 + 1, size);
        d.write(&format!("t/{size}/a"), &base);
        d.write(&format!("t/{size}/b"), &base);
        want.push(vec![format!("t/{size}/a"), format!("t/{size}/b")]);
        // First, middle and last byte, and each side of every stage boundary.
        let mut at: BTreeSet<usize> = [0, size / 2, size - 1].into();
        for edge in [h - 1, h, size.saturating_sub(t + 1), size.saturating_sub(t)] {
            if edge < size {
                at.insert(edge);
            }
        }
        for i in at {
            d.write(&format!("t/{size}/x{i}"), &flipped(base.clone(), i));
        }
    }
    let run = d.run(&["--dups", "t"]);
    ok(&run);
    let got = group_set(&run);
    let want: BTreeSet<BTreeSet<String>> =
        want.into_iter().map(|g| g.into_iter().collect()).collect();
    assert_eq!(got, want);
}

#[test]
fn large_files_through_mapped_windows_and_reads() {
    // Bigger than the mapping threshold and not a multiple of the window:
    // the full stage maps them; --hash-io read must agree.
    let d = Dir::new();
    let size = MAP_FROM as usize + 3 * 4096 + 123;
    let base = content(7, size);
    d.write("t/a", &base);
    d.write("t/b", &base);
    d.write("t/mid", &flipped(base.clone(), size / 2 + 4096));
    d.write("t/late", &flipped(base.clone(), size - TAIL as usize - 1));
    for io in ["auto", "read"] {
        let run = d.run(&["--dups", "--json", "--hash-io", io, "t"]);
        ok(&run);
        let doc = json(&run);
        let groups = doc["groups"].as_array().expect("groups");
        assert_eq!(groups.len(), 1, "{doc}");
        assert_eq!(groups[0]["paths"], serde_json::json!(["t/a", "t/b"]));
        assert_eq!(groups[0]["size"], size as u64);
        assert_eq!(groups[0]["hash"], blake3::hash(&base).to_hex().as_str());
    }
}

#[test]
fn hard_links_are_one_file() {
    let d = Dir::new();
    let x = content(1, 5000);
    d.write("t/a", &x);
    d.link("t/a", "t/a2");
    d.link("t/a", "t/sub-a3");
    d.write("t/b", &x);
    let y = content(2, 5000);
    d.write("t/only", &y);
    d.link("t/only", "t/only2");

    let run = d.run(&["--dups", "t"]);
    ok(&run);
    // One path per inode (the first by bytes); links of one file are not
    // duplicates of each other.
    assert_eq!(text_groups(&run), vec![vec!["t/a", "t/b"]]);
    assert!(run
        .out_text()
        .ends_with("\n1 group, 1 duplicate file, 5 reclaimable (1024-byte blocks)\n"));

    let run = d.run(&["--dups", "--hardlinks", "-b", "t"]);
    ok(&run);
    assert_eq!(
        run.out_text(),
        "t/a\nt/b\n\nhard links:\nt/a\nt/a2\nt/sub-a3\n\nt/only\nt/only2\n\n\
         1 group, 1 duplicate file, 5000 bytes reclaimable, 2 hard-linked files\n"
    );
    let doc = json(&d.run(&["--dups", "--hardlinks", "--json", "t"]));
    assert_eq!(
        doc["hardlinks"],
        serde_json::json!([
            {"size": 5000, "paths": ["t/a", "t/a2", "t/sub-a3"]},
            {"size": 5000, "paths": ["t/only", "t/only2"]},
        ])
    );
    assert_eq!(doc["totals"]["duplicate_files"], 1);
    assert_eq!(doc["totals"]["reclaimable_bytes"], 5000);
}

#[test]
fn empty_files_and_min_size() {
    let d = Dir::new();
    d.write("t/e1", b"");
    d.write("t/e2", b"");
    d.write("t/small1", b"abc");
    d.write("t/small2", b"abc");
    let big = content(3, 5000);
    d.write("t/big1", &big);
    d.write("t/big2", &big);

    let run = d.run(&["--dups", "t"]);
    ok(&run);
    assert_eq!(
        group_set(&run),
        set(&[&["t/big1", "t/big2"], &["t/small1", "t/small2"]])
    );
    let run = d.run(&["--dups", "--min-size", "0", "t"]);
    assert_eq!(
        group_set(&run),
        set(&[
            &["t/big1", "t/big2"],
            &["t/small1", "t/small2"],
            &["t/e1", "t/e2"]
        ])
    );
    for spec in ["4K", "4KB", "4000", "4KiB"] {
        let run = d.run(&["--dups", "--min-size", spec, "t"]);
        assert_eq!(group_set(&run), set(&[&["t/big1", "t/big2"]]), "{spec}");
    }
    let run = d.run(&["--dups", "--min-size", "5001", "t"]);
    assert_eq!(group_set(&run), set(&[]));
    assert_eq!(
        run.out_text(),
        "0 groups, 0 duplicate files, 0 reclaimable (1024-byte blocks)\n"
    );
}

#[test]
fn a_file_given_twice_is_one_file() {
    let d = Dir::new();
    let x = content(4, 3000);
    d.write("d/sub/x", &x);
    d.write("d/y", &x);
    d.write("d/sub/alone", &content(5, 3000));
    let cases: &[&[&str]] = &[
        &["d", "d/sub"],
        &["d/sub", "d"],
        &["d", "d/sub/x", "d/sub/alone"],
        &["d", "d"],
        &["d", "d/"],
        &["d/sub/x", "d/sub/x", "d/y"],
    ];
    for args in cases {
        let mut argv = vec!["--dups"];
        argv.extend_from_slice(args);
        let run = d.run(&argv);
        ok(&run);
        let groups = text_groups(&run);
        assert_eq!(groups.len(), 1, "{}: {groups:?}", run.cmd);
        assert_eq!(groups[0].len(), 2, "{}: {groups:?}", run.cmd);
        assert!(
            groups[0][0].ends_with("x") && groups[0][1].ends_with("y"),
            "{groups:?}"
        );
    }
}

#[test]
fn symlinks_to_a_duplicate() {
    let d = Dir::new();
    let x = content(6, 2000);
    d.write("t/a", &x);
    d.write("t/b", &x);
    d.write("t/lonely", &content(7, 2000));
    std::os::unix::fs::symlink("a", d.p("t/s-to-a")).expect("symlink");
    std::os::unix::fs::symlink("lonely", d.p("t/s-to-lonely")).expect("symlink");
    std::os::unix::fs::symlink("missing", d.p("t/dangling")).expect("symlink");
    // Not followed: symlinks are never opened.
    let run = d.run(&["--dups", "t"]);
    ok(&run);
    assert_eq!(group_set(&run), set(&[&["t/a", "t/b"]]));
    // Followed: a symlink is its target, the same file, not a copy.
    let run = d.run(&["--dups", "-L", "t"]);
    assert_eq!(group_set(&run), set(&[&["t/a", "t/b"]]));
    assert_eq!(run.code, 1, "the dangling symlink is an error under -L");
    let run = d.run(&["--dups", "-H", "t/s-to-a", "t/b"]);
    ok(&run);
    assert_eq!(group_set(&run), set(&[&["t/b", "t/s-to-a"]]));
    let run = d.run(&["--dups", "-H", "t/s-to-lonely", "t/lonely"]);
    ok(&run);
    assert_eq!(group_set(&run), set(&[]));
}

#[test]
fn fifos_and_devices_are_never_opened() {
    let d = Dir::new();
    fs::create_dir_all(d.p("t")).expect("mkdir");
    for name in ["t/fifo1", "t/fifo2"] {
        let st = Command::new("mkfifo")
            .arg(d.p(name))
            .status()
            .expect("mkfifo");
        assert!(st.success());
    }
    std::os::unix::fs::symlink("/dev/null", d.p("t/null1")).expect("symlink");
    std::os::unix::fs::symlink("/dev/zero", d.p("t/zero1")).expect("symlink");
    d.write("t/a", b"same");
    d.write("t/b", b"same");
    // A FIFO opened for reading would block forever: the run finishing is
    // the test (with -L the device symlinks are followed, and skipped).
    for extra in [None, Some("-L")] {
        let mut args = vec!["--dups"];
        args.extend(extra);
        args.push("t");
        let run = d.run(&args);
        ok(&run);
        assert_eq!(group_set(&run), set(&[&["t/a", "t/b"]]));
    }
}

/// As root, run fdu as nobody, or permissions are moot; `None`: cannot.
fn unprivileged(d: &Dir) -> Option<Vec<OsString>> {
    if !is_root() {
        return Some(vec![fdu_bin().into_os_string()]);
    }
    if !common::have_tool("setpriv") {
        eprintln!("SKIPPED: running as root and setpriv (util-linux) is not installed");
        return None;
    }
    chmod(d.cwd(), 0o755);
    // Named fdu, so that its messages say `fdu:` (they use argv[0]).
    fs::create_dir_all(d.p("bin")).expect("mkdir bin");
    chmod(&d.p("bin"), 0o755);
    let bin = d.p("bin/fdu");
    fs::copy(fdu_bin(), &bin).expect("copy the fdu binary");
    chmod(&bin, 0o755);
    let mut argv = oss(&[
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ]);
    let mut probe = argv.clone();
    probe.extend(oss(&["test", "-x"]));
    probe.push(bin.clone().into_os_string());
    if run_argv(&probe, d.cwd(), &[]).code != 0 {
        eprintln!("SKIPPED: uid 65534 cannot reach {}", d.cwd().display());
        return None;
    }
    argv.push(bin.into_os_string());
    Some(argv)
}

#[test]
fn unreadable_files_of_equal_size_are_never_grouped() {
    let d = Dir::new();
    let x = content(8, 6000);
    let y = content(9, 6000);
    d.write("t/locked1", &x);
    d.write("t/locked2", &x);
    d.write("t/locked3", &y);
    d.write("t/open1", &x);
    d.write("t/pair1", &y);
    d.write("t/pair2", &y);
    chmod(&d.p("t"), 0o755);
    for f in ["t/locked1", "t/locked2", "t/locked3"] {
        chmod(&d.p(f), 0o000);
    }
    for f in ["t/open1", "t/pair1", "t/pair2"] {
        chmod(&d.p(f), 0o644);
    }
    let Some(mut argv) = unprivileged(&d) else {
        return;
    };
    argv.extend(oss(&["--dups", "t"]));
    let run = run_argv(&argv, d.cwd(), &[]);
    assert_eq!(run.code, 1, "{}: {}", run.cmd, run.err_text());
    assert_eq!(group_set(&run), set(&[&["t/pair1", "t/pair2"]]));
    let mut errs: Vec<String> = run.err_text().lines().map(str::to_string).collect();
    errs.sort();
    assert_eq!(
        errs,
        [
            "fdu: cannot read 't/locked1': Permission denied",
            "fdu: cannot read 't/locked2': Permission denied",
            "fdu: cannot read 't/locked3': Permission denied",
        ]
    );
    argv.insert(argv.len() - 1, OsString::from("--json"));
    let doc = json(&run_argv(&argv, d.cwd(), &[]));
    assert_eq!(doc["totals"]["errors"], 3);
}

/// Run `fdu --dups ARGS` with the test hook that stops before the last read
/// of `pause`, call `meanwhile` there, then let fdu finish.
fn with_pause(d: &Dir, args: &[&str], pause: &str, meanwhile: impl FnOnce()) -> Run {
    let mut child = Command::new(fdu_bin())
        .args(args)
        .current_dir(d.cwd())
        .env("FDU_TEST_PAUSE_HASHING", pause)
        .env("LC_ALL", "C")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn fdu");
    let mut err = BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    err.read_line(&mut first).expect("read stderr");
    assert_eq!(
        first,
        format!("fdu: test: paused at '{pause}'\n"),
        "never paused"
    );
    meanwhile();
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"\n")
        .expect("resume");
    let mut rest = Vec::new();
    std::io::Read::read_to_end(&mut err, &mut rest).expect("stderr");
    let out = child.wait_with_output().expect("wait");
    Run {
        code: out.status.code().unwrap_or_else(|| {
            128 + std::os::unix::process::ExitStatusExt::signal(&out.status).unwrap_or(0)
        }),
        stdout: out.stdout,
        stderr: rest,
        cmd: format!("fdu {}", args.join(" ")),
    }
}

/// Rewrite `path` with the same bytes and an old mtime: only the stat
/// comparison can tell.
fn rewrite_same_bytes(path: &Path) {
    let bytes = fs::read(path).expect("read");
    let f = fs::OpenOptions::new().write(true).open(path).expect("open");
    (&f).write_all(&bytes).expect("rewrite");
    let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
    f.set_modified(old).expect("set mtime");
}

#[test]
fn a_file_rewritten_during_hashing_is_left_out() {
    // Small (one read), large (head, tail, full by pread) and mapped.
    for (size, io) in [
        (3000, "auto"),
        (HEAD as usize * 5, "read"),
        (MAP_FROM as usize + 4096, "auto"),
    ] {
        let d = Dir::new();
        let x = content(10, size);
        for f in ["t/a", "t/b", "t/c"] {
            d.write(f, &x);
        }
        let run = with_pause(&d, &["--dups", "--hash-io", io, "t"], "t/a", || {
            rewrite_same_bytes(&d.p("t/a"))
        });
        assert_eq!(run.code, 1, "{size}: {}", run.err_text());
        assert_eq!(
            run.err_text(),
            "fdu: 't/a': file changed as we read it\n",
            "{size}"
        );
        assert_eq!(group_set(&run), set(&[&["t/b", "t/c"]]), "{size}");
    }
}

#[test]
fn a_file_truncated_while_mapped_does_not_crash() {
    let size = MAP_FROM as usize * 2;
    for (io, cut) in [("auto", 100_000u64), ("auto", 0), ("read", 100_000)] {
        let d = Dir::new();
        let x = content(11, size);
        for f in ["t/a", "t/b"] {
            d.write(f, &x);
        }
        let run = with_pause(&d, &["--dups", "--hash-io", io, "t"], "t/a", || {
            let f = fs::OpenOptions::new()
                .write(true)
                .open(d.p("t/a"))
                .expect("open");
            f.set_len(cut).expect("truncate");
        });
        assert_eq!(run.code, 1, "{io} {cut}: killed? {}", run.err_text());
        assert_eq!(run.err_text(), "fdu: 't/a': file changed as we read it\n");
        assert_eq!(group_set(&run), set(&[]));
    }
}

#[test]
fn output_is_ordered_and_units_apply() {
    let d = Dir::new();
    // Wasted bytes: big pair 20000, triple of 7000 = 14000, pair of 7000,
    // two pairs of 100 (ordered by path).
    let big = content(20, 20000);
    let mid = content(21, 7000);
    let mid2 = content(22, 7000);
    let s1 = content(23, 100);
    let s2 = content(24, 100);
    for (name, bytes) in [
        ("t/z-big1", &big),
        ("t/a-big2", &big),
        ("t/m1", &mid),
        ("t/m2", &mid),
        ("t/m3", &mid),
        ("t/n1", &mid2),
        ("t/n2", &mid2),
        ("t/s2a", &s2),
        ("t/s2b", &s2),
        ("t/s1a", &s1),
        ("t/s1b", &s1),
    ] {
        d.write(name, bytes);
    }
    let want_groups =
        "t/a-big2\nt/z-big1\n\nt/m1\nt/m2\nt/m3\n\nt/n1\nt/n2\n\nt/s1a\nt/s1b\n\nt/s2a\nt/s2b\n\n";
    let total = 20000 + 14000 + 7000 + 100 + 100;
    for (opts, summary) in [
        (
            vec![],
            "5 groups, 6 duplicate files, 41 reclaimable (1024-byte blocks)\n".to_string(),
        ),
        (
            vec!["-b"],
            format!("5 groups, 6 duplicate files, {total} bytes reclaimable\n"),
        ),
        (
            vec!["-h"],
            "5 groups, 6 duplicate files, 41K reclaimable\n".to_string(),
        ),
        (
            vec!["--si"],
            "5 groups, 6 duplicate files, 42k reclaimable\n".to_string(),
        ),
        (
            vec!["-m"],
            "5 groups, 6 duplicate files, 1 reclaimable (1048576-byte blocks)\n".to_string(),
        ),
        (
            vec!["-BK"],
            "5 groups, 6 duplicate files, 41K reclaimable\n".to_string(),
        ),
    ] {
        for threads in ["1", "4"] {
            let mut args = vec!["--dups", "-j", threads];
            args.extend(&opts);
            args.push("t");
            let run = d.run(&args);
            ok(&run);
            assert_eq!(
                run.out_text(),
                format!("{want_groups}{summary}"),
                "{}",
                run.cmd
            );
        }
    }
    let doc = json(&d.run(&["--dups", "--json", "t"]));
    assert_eq!(
        doc["groups"][0]["hash"],
        blake3::hash(&big).to_hex().as_str()
    );
    assert_eq!(
        doc["groups"][1]["hash"],
        blake3::hash(&mid).to_hex().as_str()
    );
    assert_eq!(
        doc["groups"][3]["hash"],
        blake3::hash(&s1).to_hex().as_str()
    );
    assert_eq!(
        doc["groups"][1]["paths"],
        serde_json::json!(["t/m1", "t/m2", "t/m3"])
    );
    assert_eq!(
        doc["totals"],
        serde_json::json!({"groups": 5, "duplicate_files": 6, "reclaimable_bytes": total, "errors": 0})
    );
    assert!(doc.get("hardlinks").is_none());
}

#[test]
fn non_utf8_paths_in_json_keep_their_bytes() {
    let d = Dir::new();
    fs::create_dir_all(d.p("t")).expect("mkdir");
    let odd = d.cwd().join(std::ffi::OsStr::from_bytes(b"t/caf\xe9"));
    fs::write(&odd, b"same bytes").expect("write");
    d.write("t/plain", b"same bytes");
    let run = d.run(&["--dups", "t"]);
    ok(&run);
    assert_eq!(
        run.stdout.split(|&b| b == b'\n').next(),
        Some(&b"t/caf\xe9"[..])
    );
    let doc = json(&d.run(&["--dups", "--json", "t"]));
    let g = &doc["groups"][0];
    assert_eq!(g["paths"], serde_json::json!(["t/caf\u{fffd}", "t/plain"]));
    let mut first: Vec<u8> = b"t/caf".to_vec();
    first.push(0xe9);
    assert_eq!(
        g["paths_bytes"],
        serde_json::json!([first, b"t/plain".to_vec()])
    );
}

#[test]
fn usage_errors() {
    let d = Dir::new();
    d.write("t/a", b"x");
    for (args, msg) in [
        (
            &["--dups", "-s", "t"][..],
            "fdu: --summarize does not apply to --dups\nTry 'fdu --help' for more information.\n",
        ),
        (
            &["--dups", "-a", "t"][..],
            "fdu: --all does not apply to --dups\nTry 'fdu --help' for more information.\n",
        ),
        (
            &["--dups", "-d", "1", "t"][..],
            "fdu: --max-depth does not apply to --dups\nTry 'fdu --help' for more information.\n",
        ),
        (
            &["--dups", "-0", "t"][..],
            "fdu: --null does not apply to --dups\nTry 'fdu --help' for more information.\n",
        ),
        (
            &["--hardlinks", "t"][..],
            "fdu: --hardlinks requires --dups\nTry 'fdu --help' for more information.\n",
        ),
        (
            &["--dups", "--format=prometheus", "t"][..],
            "fdu: --format=prometheus does not apply to --dups\nTry 'fdu --help' for more information.\n",
        ),
        (
            &["--min-size", "1K", "t"][..],
            "fdu: --min-size requires --dups\nTry 'fdu --help' for more information.\n",
        ),
        (
            &["--dups", "--min-size", "x1", "t"][..],
            "fdu: invalid --min-size 'x1'\nTry 'fdu --help' for more information.\n",
        ),
    ] {
        let run = d.run(args);
        assert_eq!(run.code, 2, "{}", run.cmd);
        assert_eq!(run.err_text(), msg, "{}", run.cmd);
        assert!(run.stdout.is_empty());
    }
    let help = d.run(&["--help"]).out_text();
    for opt in ["--dups", "--min-size", "--hardlinks", "--json"] {
        assert!(help.contains(opt), "--help lacks {opt}");
    }
}

#[test]
fn exclude_and_scan_options_apply() {
    let d = Dir::new();
    let x = content(30, 4000);
    d.write("t/a", &x);
    d.write("t/skip/b", &x);
    d.write("t/c", &x);
    let run = d.run(&["--dups", "--exclude", "skip", "t"]);
    ok(&run);
    assert_eq!(group_set(&run), set(&[&["t/a", "t/c"]]));
    let run = d.run(&["--dups", "--backend", "std", "-j", "1", "t"]);
    ok(&run);
    assert_eq!(group_set(&run), set(&[&["t/a", "t/c", "t/skip/b"]]));
}

/// A small seeded generator (xorshift), so failures can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A random tree of files drawn from few sizes and few contents, with
/// copies, one-byte variants, hard links and empty files.
fn random_tree(d: &Dir, seed: u64, files: usize) {
    let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1);
    let mut sizes = boundary_sizes();
    sizes.extend([0, 0, 10, 300, 70_000]);
    let mut made: Vec<String> = Vec::new();
    for i in 0..files {
        let dir = format!("t/d{}", rng.below(6));
        let name = format!("{dir}/f{i}");
        let r = rng.below(10);
        if r == 0 && !made.is_empty() {
            let target = made[rng.below(made.len() as u64) as usize].clone();
            d.link(&target, &name);
        } else {
            let size = sizes[rng.below(sizes.len() as u64) as usize];
            let seed = rng.below(3);
            let mut bytes = content(seed + 100 * size as u64, size);
            if size > 0 && r < 4 {
                let at = rng.below(size as u64) as usize;
                bytes = flipped(bytes, at);
            }
            d.write(&name, &bytes);
        }
        made.push(name);
    }
}

/// The oracle: group every regular file of `root` by comparing bytes, one
/// entry per inode; groups of two or more inodes of at least one byte, as
/// sets of `(dev, ino)`.
fn brute_force(root: &Path) -> BTreeSet<BTreeSet<(u64, u64)>> {
    let mut files: Vec<((u64, u64), Vec<u8>)> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).expect("read_dir") {
            let p = e.expect("entry").path();
            let md = fs::symlink_metadata(&p).expect("lstat");
            if md.is_dir() {
                stack.push(p);
            } else if md.is_file() && md.len() > 0 && seen.insert((md.dev(), md.ino())) {
                files.push(((md.dev(), md.ino()), fs::read(&p).expect("read")));
            }
        }
    }
    let mut by_bytes: BTreeMap<&[u8], BTreeSet<(u64, u64)>> = BTreeMap::new();
    for (id, bytes) in &files {
        by_bytes.entry(bytes).or_default().insert(*id);
    }
    by_bytes.into_values().filter(|g| g.len() >= 2).collect()
}

fn as_inodes(cwd: &Path, groups: BTreeSet<BTreeSet<String>>) -> BTreeSet<BTreeSet<(u64, u64)>> {
    groups
        .into_iter()
        .map(|g| {
            g.into_iter()
                .map(|p| {
                    let md = fs::metadata(cwd.join(p)).expect("stat");
                    (md.dev(), md.ino())
                })
                .collect()
        })
        .collect()
}

#[test]
fn groups_equal_a_byte_by_byte_comparison_on_random_trees() {
    for seed in 1..=6 {
        let d = Dir::new();
        random_tree(&d, seed, 150);
        let want = brute_force(&d.p("t"));
        assert!(!want.is_empty(), "seed {seed}: no duplicates generated");
        for opts in [
            &["-j", "1"][..],
            &["-j", "3"],
            &["--hash-io", "read"],
            &["--backend", "std"],
        ] {
            let mut args = vec!["--dups"];
            args.extend(opts);
            args.push("t");
            let run = d.run(&args);
            ok(&run);
            let got = as_inodes(d.cwd(), group_set(&run));
            assert_eq!(got, want, "seed {seed}, {}", run.cmd);
            // Each inode appears once, under its first path by bytes.
            for g in text_groups(&run) {
                let ids: BTreeSet<_> = g
                    .iter()
                    .map(|p| fs::metadata(d.cwd().join(p)).expect("stat").ino())
                    .collect();
                assert_eq!(ids.len(), g.len(), "seed {seed}: {g:?}");
            }
        }
    }
}

#[test]
fn dups_under_nofile_8_finds_every_group() {
    // Groups that keep their files open from head to full (64 files larger
    // than the head), groups that reopen them (70), small files (one read),
    // some in deeper directories: under a descriptor limit the pool must
    // shrink, reopen, and still find every group.
    if !common::have_tool("prlimit") {
        eprintln!("SKIPPED: prlimit (util-linux) is not installed");
        return;
    }
    let d = Dir::new();
    let big = (HEAD + TAIL) as usize + 100;
    let mut want = 0;
    for (g, (files, size)) in [(64, big), (64, big), (64, big), (70, big), (70, big)]
        .into_iter()
        .chain((0..5).map(|_| (20, 100)))
        .enumerate()
    {
        let bytes = content(g as u64 + 40, size + g);
        for i in 0..files {
            let dir = if i % 3 == 0 { "deep/er" } else { "" };
            d.write(&format!("t/g{g}/{dir}/f{i}"), &bytes);
        }
        want += files - 1;
    }
    let summary = format!("10 groups, {want} duplicate files,");
    for nofile in ["8", "16", "128"] {
        for threads in [None, Some("4")] {
            let mut argv = oss(&["prlimit", &format!("--nofile={nofile}:{nofile}")]);
            argv.push(fdu_bin().into_os_string());
            argv.extend(oss(&["--dups"]));
            if let Some(j) = threads {
                argv.extend(oss(&["-j", j]));
            }
            argv.push("t".into());
            let run = run_argv(&argv, d.cwd(), &[]);
            ok(&run);
            let text = run.out_text();
            assert!(
                text.lines().last().unwrap_or("").starts_with(&summary),
                "{}: {}",
                run.cmd,
                text.lines().last().unwrap_or("")
            );
            assert_eq!(text_groups(&run).len(), 10, "{}", run.cmd);
        }
    }
}
