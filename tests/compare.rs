//! `--compare OLD NEW` against GNU du: the tree is measured by du, exported
//! by fdu, changed (a subtree deleted, files added, a file grown, a new
//! directory with contents, a sparse file extended), measured again; the
//! changes fdu prints must be du's line-by-line differences, in du's
//! order, for an export against the changed tree and against its export,
//! in several measures and depths. Then `--top`, `--json`, `-h`, `-0`,
//! `-c`, the errors and the exit statuses.
mod common;

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::Write;

use common::*;

/// du's lines as path -> number.
type Sizes = BTreeMap<Vec<u8>, u64>;

/// A change as expected: its path and `new - old`.
type Delta = (Vec<u8>, i128);

/// Nested directories, files of several sizes, a hard link pair within one
/// directory (left alone by [`change`]: which name du charges depends on
/// readdir order), a sparse file, names that are not UTF-8, an empty
/// directory, a subtree [`change`] deletes.
fn before() -> Tree {
    let t = Tree::new();
    t.mkdir("t/a/b/c");
    t.file("t/a/one", 3000);
    t.file("t/a/b/two", 70000);
    t.file("t/a/b/c/three", 12);
    t.file("t/a/grow", 5000);
    t.mkdir("t/gone/deep/er");
    t.file("t/gone/x", 9000);
    t.file("t/gone/deep/y", 40000);
    t.file("t/gone/deep/er/z", 100);
    t.mkdir("t/links");
    t.file("t/links/f", 20000);
    t.hardlink("t/links/f", "t/links/g");
    t.file("t/links/plain", 10);
    let mut sparse = File::create(t.p("t/sparse")).expect("create");
    sparse.write_all(&[7u8; 4096]).expect("write");
    sparse.set_len(10 << 20).expect("truncate");
    t.mkdir(b"t/dir\xff");
    t.file(b"t/dir\xff/\xe9t\xe9", 7000);
    t.file("t/keep", 100);
    t.mkdir("t/empty");
    t
}

/// Delete a subtree, add files, grow one, add a directory with contents,
/// add a file under a name that is not UTF-8, extend the sparse file
/// (apparent size only).
fn change(t: &Tree) {
    fs::remove_dir_all(t.p("t/gone")).expect("rm -r t/gone");
    t.file("t/a/new1", 1234);
    t.file("t/a/b/c/new2", 50000);
    let mut grow = OpenOptions::new()
        .append(true)
        .open(t.p("t/a/grow"))
        .expect("open");
    grow.write_all(&vec![b'g'; 100_000]).expect("append");
    t.mkdir("t/fresh/inner");
    t.file("t/fresh/inner/f", 300_000);
    t.file("t/fresh/g", 1);
    t.file(b"t/dir\xff/n\x80w", 4500);
    let sparse = OpenOptions::new()
        .write(true)
        .open(t.p("t/sparse"))
        .expect("open");
    sparse.set_len(20 << 20).expect("truncate");
}

/// Run fdu with `args` in the tree's directory.
fn run(t: &Tree, args: &[&str]) -> Run {
    fdu_s(t.cwd(), args)
}

/// du's lines for `opts` on `path`, as a map (du run with `-0`).
fn du_sizes(t: &Tree, opts: &[&str], path: &str) -> Sizes {
    let mut args = opts.to_vec();
    args.extend(["-0", path]);
    let r = du_s(t.cwd(), &args);
    assert_eq!(r.code, 0, "{}: {}", r.cmd, r.err_text());
    numbered(&r.stdout)
        .into_iter()
        .map(|(n, p)| (p, n))
        .collect()
}

/// The components of `path` below `root`.
fn components<'a>(path: &'a [u8], root: &[u8]) -> Vec<&'a [u8]> {
    let rest = path.strip_prefix(root).unwrap_or(path);
    let rest = rest.strip_prefix(b"/").unwrap_or(rest);
    if rest.is_empty() {
        return Vec::new();
    }
    rest.split(|&b| b == b'/').collect()
}

/// du's order: children before their parent, siblings in byte order.
fn post_order(a: &[u8], b: &[u8], root: &[u8]) -> Ordering {
    let (a, b) = (components(a, root), components(b, root));
    for (x, y) in a.iter().zip(&b) {
        if x != y {
            return x.cmp(y);
        }
    }
    b.len().cmp(&a.len())
}

/// Every path of either map whose number changed, with `new - old`, in
/// du's order below `root`.
fn deltas(old: &Sizes, new: &Sizes, root: &[u8]) -> Vec<Delta> {
    let mut paths: Vec<&Vec<u8>> = old.keys().chain(new.keys()).collect();
    paths.sort();
    paths.dedup();
    let mut out: Vec<Delta> = paths
        .into_iter()
        .map(|p| {
            let was = i128::from(old.get(p).copied().unwrap_or(0));
            let is = i128::from(new.get(p).copied().unwrap_or(0));
            (p.clone(), is - was)
        })
        .filter(|(_, d)| *d != 0)
        .collect();
    out.sort_by(|a, b| post_order(&a.0, &b.0, root));
    out
}

/// `+N<TAB>PATH` or `-N<TAB>PATH`.
fn line((path, delta): &Delta) -> Vec<u8> {
    let sign = if *delta > 0 { "+" } else { "-" };
    [
        format!("{sign}{}\t", delta.unsigned_abs()).as_bytes(),
        path.as_slice(),
    ]
    .concat()
}

/// Compare fdu's lines with the expected ones: as sets, then in order.
fn check_lines(run: &Run, expected: &[Delta], term: u8) -> Result<(), String> {
    if run.code != 0 {
        return Err(format!(
            "{}: exit {}: {}",
            run.cmd,
            run.code,
            run.err_text()
        ));
    }
    if !run.stderr.is_empty() {
        return Err(format!("{}: stderr: {}", run.cmd, run.err_text()));
    }
    let got = records(&run.stdout, term);
    let want: Vec<Vec<u8>> = expected.iter().map(line).collect();
    if let Some(diff) = multiset_diff("expected", &want, "fdu", &got) {
        return Err(format!("{}: lines differ:\n{diff}", run.cmd));
    }
    if got != want {
        return Err(format!(
            "{}: order differs:\n  got  {:?}\n  want {:?}",
            run.cmd,
            got.iter().map(|l| show(l)).collect::<Vec<_>>(),
            want.iter().map(|l| show(l)).collect::<Vec<_>>()
        ));
    }
    Ok(())
}

/// The option sets compared with du (each has exact numbers: `-B1`,
/// or counts with `--inodes`).
const MODES: &[&[&str]] = &[
    &["-a", "-B1", "--apparent-size"],
    &["-B1"],
    &["-a", "-B1"],
    &["-d", "1", "-B1"],
    &["-d", "1", "-a", "--apparent-size", "-B1"],
    &["--inodes"],
    &["--inodes", "-a"],
    &["-S", "-a", "-B1"],
    &["-s", "-B1"],
];

/// The tree before and after [`change`], du's lines for every mode and for
/// `-s` in both, and the exports `old.json` (before) and `new.json`
/// (after).
struct Changed {
    t: Tree,
    old: Vec<Sizes>,
    new: Vec<Sizes>,
}

fn changed() -> Changed {
    let t = before();
    let old: Vec<Sizes> = MODES.iter().map(|m| du_sizes(&t, m, "t")).collect();
    let made = run(&t, &["-o", "old.json", "t"]);
    assert_eq!(made.code, 0, "{}", made.err_text());
    change(&t);
    let new: Vec<Sizes> = MODES.iter().map(|m| du_sizes(&t, m, "t")).collect();
    let made = run(&t, &["-o", "new.json", "t"]);
    assert_eq!(made.code, 0, "{}", made.err_text());
    Changed { t, old, new }
}

#[test]
fn changes_are_dus_differences_in_dus_order() {
    let c = changed();
    let mut f = Failures::default();
    for (i, mode) in MODES.iter().enumerate() {
        let expected = deltas(&c.old[i], &c.new[i], b"t");
        if expected.is_empty() {
            f.push(format!("{mode:?}: the change changed nothing du prints"));
        }
        for new in ["t", "new.json"] {
            let mut args = vec!["--compare", "old.json"];
            args.extend_from_slice(mode);
            args.push(new);
            f.add(check_lines(&run(&c.t, &args), &expected, b'\n'));
        }
        // The `--compare=OLD` spelling, the operand before the option.
        let mut args = mode.to_vec();
        args.extend(["t", "--compare=old.json"]);
        f.add(check_lines(&run(&c.t, &args), &expected, b'\n'));
    }
    f.finish("--compare against du");
}

#[test]
fn total_is_the_change_of_dus_summary() {
    let c = changed();
    let mut f = Failures::default();
    let index = |mode: &[&str]| MODES.iter().position(|m| *m == mode).expect("a mode");
    // (options, the mode whose root line is du's summary in that measure)
    for (opts, summary) in [
        (&["-B1"][..], index(&["-s", "-B1"])),
        (&["--inodes"], index(&["--inodes"])),
    ] {
        let root = b"t".to_vec();
        let delta = i128::from(c.new[summary][&root]) - i128::from(c.old[summary][&root]);
        assert_ne!(delta, 0, "the change left the total as it was");
        let mut args = vec!["--compare", "old.json", "-c"];
        args.extend_from_slice(opts);
        args.push("t");
        let r = run(&c.t, &args);
        let lines = records(&r.stdout, b'\n');
        let want = line(&(b"total".to_vec(), delta));
        if r.code != 0 || lines.last() != Some(&want) {
            f.push(format!(
                "{}: exit {}, last line {:?}, want {}",
                r.cmd,
                r.code,
                lines.last().map(|l| show(l)),
                show(&want)
            ));
        }
        // Without -c, the same lines but the total.
        let mut plain = vec!["--compare", "old.json"];
        plain.extend_from_slice(opts);
        plain.push("t");
        let p = run(&c.t, &plain);
        if records(&p.stdout, b'\n') != lines[..lines.len().saturating_sub(1)] {
            f.push(format!("{}: -c changed more than the last line", r.cmd));
        }
    }
    // No change: the total is still printed, as `0`.
    for args in [
        &["--compare", "new.json", "-c", "t"][..],
        &["--compare", "t", "-c", "new.json"][..],
        &["--compare", "t", "-c", "-a", "t"][..],
    ] {
        let r = run(&c.t, args);
        if r.code != 0 || r.stdout != b"0\ttotal\n" {
            f.push(format!("{}: exit {}, {:?}", r.cmd, r.code, r.out_text()));
        }
    }
    f.finish("-c");
}

#[test]
fn top_prints_the_largest_changes_first() {
    let c = changed();
    let mut f = Failures::default();
    let mode = MODES.iter().position(|m| *m == ["-a", "-B1"]).unwrap();
    let all = deltas(&c.old[mode], &c.new[mode], b"t");
    // Largest change first; a stable sort keeps du's order for ties.
    let mut ranked = all.clone();
    ranked.sort_by_key(|(_, d)| std::cmp::Reverse(d.unsigned_abs()));
    assert!(ranked.len() > 6, "too few changes to rank");
    assert!(
        ranked
            .windows(2)
            .any(|w| w[0].1.unsigned_abs() == w[1].1.unsigned_abs()),
        "no tie to order"
    );
    for n in [1, 3, 6, ranked.len() + 5] {
        let want = &ranked[..n.min(ranked.len())];
        let top = n.to_string();
        let r = run(
            &c.t,
            &["--compare", "old.json", "-a", "-B1", "--top", &top, "t"],
        );
        f.add(check_lines(&r, want, b'\n'));
    }
    // -t first (changes of at least 40000 bytes), then the 2 largest; -c
    // adds the total of everything.
    let big: Vec<Delta> = ranked
        .iter()
        .filter(|(_, d)| d.unsigned_abs() >= 40000)
        .cloned()
        .collect();
    assert!(big.len() > 2 && big.len() < ranked.len());
    let r = run(
        &c.t,
        &[
            "--compare",
            "old.json",
            "-a",
            "-B1",
            "-t",
            "40000",
            "--top",
            "2",
            "-c",
            "t",
        ],
    );
    let mut lines = records(&r.stdout, b'\n');
    let total = lines.pop();
    let s = MODES.iter().position(|m| *m == ["-s", "-B1"]).unwrap();
    let grand = i128::from(c.new[s][&b"t".to_vec()]) - i128::from(c.old[s][&b"t".to_vec()]);
    if total != Some(line(&(b"total".to_vec(), grand))) {
        f.push(format!("{}: total {:?}", r.cmd, total.map(|l| show(&l))));
    }
    let want: Vec<Vec<u8>> = big[..2].iter().map(line).collect();
    if lines != want {
        f.push(format!("{}: {:?}", r.cmd, r.out_text()));
    }
    // Without --top, -t keeps du's order.
    let r = run(
        &c.t,
        &["--compare", "old.json", "-a", "-B1", "-t", "40000", "t"],
    );
    let kept: Vec<Delta> = all
        .iter()
        .filter(|(_, d)| d.unsigned_abs() >= 40000)
        .cloned()
        .collect();
    f.add(check_lines(&r, &kept, b'\n'));
    // A negative threshold: at most that much.
    let r = run(
        &c.t,
        &["--compare", "old.json", "-a", "-B1", "-t", "-40000", "t"],
    );
    let small: Vec<Delta> = all
        .iter()
        .filter(|(_, d)| d.unsigned_abs() <= 40000)
        .cloned()
        .collect();
    f.add(check_lines(&r, &small, b'\n'));
    f.finish("--top");
}

fn json(run: &Run) -> serde_json::Value {
    assert_eq!(run.code, 0, "{}: {}", run.cmd, run.err_text());
    assert_eq!(run.stdout.iter().filter(|&&b| b == b'\n').count(), 1);
    serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {}", run.cmd, run.out_text()))
}

/// A change's path as bytes: `path_bytes` when there is one, else `path`.
fn json_path(change: &serde_json::Value) -> Vec<u8> {
    match change.get("path_bytes") {
        Some(bytes) => bytes
            .as_array()
            .expect("path_bytes is an array")
            .iter()
            .map(|b| u8::try_from(b.as_u64().expect("a byte")).expect("a byte"))
            .collect(),
        None => change["path"].as_str().expect("path").as_bytes().to_vec(),
    }
}

#[test]
fn json_holds_exact_numbers_and_what_happened() {
    let c = changed();
    for (mode, measure) in [
        (&["-a", "-B1", "--apparent-size"][..], "apparent_bytes"),
        (&["-a", "-B1"][..], "disk_bytes"),
        (&["--inodes", "-a"][..], "inodes"),
    ] {
        let i = MODES.iter().position(|m| *m == mode).unwrap();
        let (old, new) = (&c.old[i], &c.new[i]);
        let expected = deltas(old, new, b"t");
        // -h changes nothing in the document: the numbers are exact.
        let mut args = vec!["--compare", "old.json", "--json", "-h"];
        args.extend(mode.iter().filter(|o| **o != "-B1"));
        args.push("t");
        let doc = json(&run(&c.t, &args));
        assert_eq!(doc["fdu_version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(doc["old"]["source"], "old.json");
        assert_eq!(doc["old"]["kind"], "export");
        assert_eq!(doc["new"]["source"], "t");
        assert_eq!(doc["new"]["kind"], "scan");
        assert_eq!(doc["measure"], measure, "{args:?}");
        let changes = doc["changes"].as_array().expect("changes");
        let paths: Vec<Vec<u8>> = changes.iter().map(json_path).collect();
        let want: Vec<Vec<u8>> = expected.iter().map(|(p, _)| p.clone()).collect();
        assert_eq!(paths, want, "{args:?}: paths or their order");
        let mut non_utf8 = 0;
        for (change, (path, delta)) in changes.iter().zip(&expected) {
            let was = old.get(path).copied();
            let is = new.get(path).copied();
            assert_eq!(change["old"].as_u64(), Some(was.unwrap_or(0)), "{change}");
            assert_eq!(change["new"].as_u64(), Some(is.unwrap_or(0)), "{change}");
            assert_eq!(change["change"].as_i64().map(i128::from), Some(*delta));
            let status = match (was, is) {
                (None, _) => "added",
                (_, None) => "removed",
                _ => "changed",
            };
            assert_eq!(change["status"], status, "{change}");
            if std::str::from_utf8(path).is_err() {
                non_utf8 += 1;
                let text = change["path"].as_str().expect("path");
                assert_eq!(text, String::from_utf8_lossy(path), "{change}");
                assert!(text.contains('\u{fffd}'));
            } else {
                assert!(change.get("path_bytes").is_none(), "{change}");
            }
        }
        assert!(
            non_utf8 > 0,
            "{args:?}: no change under a name that is not UTF-8"
        );
        let statuses: Vec<&str> = changes
            .iter()
            .map(|c| c["status"].as_str().unwrap())
            .collect();
        for s in ["added", "removed", "changed"] {
            assert!(statuses.contains(&s), "{args:?}: no {s} change");
        }
        // The totals: du's summary on each side.
        let (was, is) = (old[&b"t".to_vec()], new[&b"t".to_vec()]);
        assert_eq!(doc["total"]["old"].as_u64(), Some(was));
        assert_eq!(doc["total"]["new"].as_u64(), Some(is));
        assert_eq!(
            doc["total"]["change"].as_i64().map(i128::from),
            Some(i128::from(is) - i128::from(was))
        );
    }
    // --top with --json: the N largest, largest first; an export on both
    // sides.
    let doc = json(&run(
        &c.t,
        &[
            "--compare",
            "old.json",
            "--format=json",
            "--top",
            "3",
            "-a",
            "new.json",
        ],
    ));
    assert_eq!(doc["new"]["kind"], "export");
    assert_eq!(doc["new"]["source"], "new.json");
    let i = MODES.iter().position(|m| *m == ["-a", "-B1"]).unwrap();
    let mut ranked = deltas(&c.old[i], &c.new[i], b"t");
    ranked.sort_by_key(|(_, d)| std::cmp::Reverse(d.unsigned_abs()));
    let got: Vec<(Vec<u8>, i128)> = doc["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| (json_path(c), i128::from(c["change"].as_i64().unwrap())))
        .collect();
    assert_eq!(got, ranked[..3].to_vec());
}

#[test]
fn human_units_and_nul_ends() {
    let c = changed();
    let r = run(
        &c.t,
        &["--compare", "old.json", "-a", "-h", "--apparent-size", "t"],
    );
    assert_eq!(r.code, 0, "{}", r.err_text());
    let lines = records(&r.stdout, b'\n');
    // 300000 bytes added: du -h prints 293K; 9000 removed: 8.8K; the
    // sparse file grew by 10 MiB.
    for want in [
        &b"+293K\tt/fresh/inner/f"[..],
        b"-8.8K\tt/gone/x",
        b"+10M\tt/sparse",
    ] {
        assert!(
            lines.iter().any(|l| l == want),
            "{} has no line {}: {}",
            r.cmd,
            show(want),
            r.out_text()
        );
    }
    // Every line: a sign, du's -h number, a tab, the path; the paths are
    // those of the exact run.
    let exact = run(
        &c.t,
        &["--compare", "old.json", "-a", "-B1", "--apparent-size", "t"],
    );
    let exact_paths: Vec<Vec<u8>> = records(&exact.stdout, b'\n')
        .iter()
        .map(|l| path_of(l).to_vec())
        .collect();
    let paths: Vec<Vec<u8>> = lines.iter().map(|l| path_of(l).to_vec()).collect();
    assert_eq!(paths, exact_paths);
    for l in &lines {
        let size = std::str::from_utf8(size_of(l)).expect("ASCII size");
        let (sign, number) = size.split_at(1);
        assert!(sign == "+" || sign == "-", "{}", show(l));
        let digits = number.trim_end_matches(['K', 'M', 'G']);
        let ok = match digits.split_once('.') {
            Some((a, b)) => a.len() == 1 && b.len() == 1 && number.len() == 4,
            None => !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
        };
        assert!(ok, "not du's -h number: {}", show(l));
    }
    // -0: the same records, ended by NUL.
    let z = run(
        &c.t,
        &[
            "--compare",
            "old.json",
            "-a",
            "-h",
            "--apparent-size",
            "-0",
            "t",
        ],
    );
    assert_eq!(z.code, 0);
    assert_eq!(z.stdout.last(), Some(&0));
    assert!(!z.stdout.contains(&b'\n'));
    assert_eq!(records(&z.stdout, 0), lines);
    // -0 -c: the total line is NUL-ended too.
    let z = run(
        &c.t,
        &["--compare", "old.json", "-s", "-c", "-0", "-k", "t"],
    );
    let recs = records(&z.stdout, 0);
    assert_eq!(recs.len(), 2, "{:?}", z.out_text());
    assert!(recs[1].ends_with(b"\ttotal") && recs[1].starts_with(b"+"));
    assert!(recs[0].ends_with(b"\tt"));
}

#[test]
fn roots_are_matched_whatever_their_names() {
    let c = changed();
    // The changed tree under another name: paths are NEW's.
    fs::rename(c.t.p("t"), c.t.p("renamed")).expect("rename");
    let i = MODES.iter().position(|m| *m == ["-a", "-B1"]).unwrap();
    let expected: Vec<Delta> = deltas(&c.old[i], &c.new[i], b"t")
        .into_iter()
        .map(|(p, d)| ([b"renamed", &p[1..]].concat(), d))
        .collect();
    let r = run(&c.t, &["--compare", "old.json", "-a", "-B1", "renamed"]);
    if let Err(e) = check_lines(&r, &expected, b'\n') {
        panic!("{e}");
    }
    // A trailing slash is kept as du keeps it.
    let r = run(&c.t, &["--compare", "old.json", "-s", "-B1", "renamed/"]);
    assert_eq!(r.code, 0);
    assert!(r.out_text().ends_with("\trenamed/\n"), "{}", r.out_text());
    // OLD from stdin, a scanned OLD side.
    let stdin = run_argv(
        &oss(&[
            "sh",
            "-c",
            "exec \"$0\" --compare - -a -B1 renamed < old.json",
            fdu_bin().to_str().expect("UTF-8 path"),
        ]),
        c.t.cwd(),
        &[],
    );
    if let Err(e) = check_lines(&stdin, &expected, b'\n') {
        panic!("stdin: {e}");
    }
    // A scanned OLD (the changed tree), NEW the export from before: the
    // changes reversed, under the export's root name.
    let r = run(&c.t, &["--compare", "renamed", "-a", "-B1", "old.json"]);
    let back = deltas(&c.new[i], &c.old[i], b"t");
    if let Err(e) = check_lines(&r, &back, b'\n') {
        panic!("scanned OLD: {e}");
    }
}

/// A one-line error on stderr naming `names`, nothing on stdout, exit 2.
fn check_error(r: &Run, names: &[&str], usage: bool) -> Result<(), String> {
    let err = r.err_text();
    let lines: Vec<&str> = err.lines().collect();
    let ok = r.code == 2
        && r.stdout.is_empty()
        && lines.len() == 1 + usize::from(usage)
        && names.iter().all(|n| lines[0].contains(n))
        && lines[0].starts_with("fdu: ")
        && (!usage || lines[1] == "Try 'fdu --help' for more information.");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{}: exit {}, stdout {:?}, stderr {err:?}; want one line naming {names:?}",
            r.cmd,
            r.code,
            r.out_text()
        ))
    }
}

#[test]
fn a_side_that_is_not_an_export_is_a_one_line_error() {
    let c = changed();
    let t = &c.t;
    fs::write(t.p("garbage.json"), b"this is not JSON\n").unwrap();
    fs::write(t.p("foreign.json"), br#"{"name":"t","size":10}"#).unwrap();
    let whole = fs::read(t.p("old.json")).unwrap();
    fs::write(t.p("cut.json"), &whole[..whole.len() / 2]).unwrap();
    let mut f = Failures::default();
    for file in ["garbage.json", "foreign.json", "cut.json", "no-such.json"] {
        f.add(check_error(
            &run(t, &["--compare", file, "t"]),
            &[file],
            false,
        ));
        f.add(check_error(
            &run(t, &["--compare", "old.json", file]),
            &[file],
            false,
        ));
    }
    // A file that is not a directory is read as an export.
    f.add(check_error(
        &run(t, &["--compare", "old.json", "t/keep"]),
        &["t/keep"],
        false,
    ));
    f.finish("unreadable sides");
}

#[test]
fn options_that_do_not_fit_are_usage_errors() {
    let c = changed();
    let t = &c.t;
    let mut f = Failures::default();
    for (args, names) in [
        (
            &["--compare", "old.json", "-o", "x.json", "t"][..],
            &["--compare", "-o"][..],
        ),
        (
            &["--compare", "old.json", "-f", "new.json"],
            &["--compare", "-f"],
        ),
        (
            &["--compare", "old.json", "--dups", "t"],
            &["--compare", "--dups"],
        ),
        (
            &["--compare", "old.json", "--files0-from=list"],
            &["--compare", "--files0-from"],
        ),
        (
            &["--compare", "old.json", "--time", "t"],
            &["--compare", "--time"],
        ),
        (
            &["--compare", "old.json", "--format=prometheus", "t"],
            &["--compare", "--format=prometheus"],
        ),
        (&["--compare", "old.json", "-e", "t"], &["--compare", "-e"]),
        (
            &["--compare", "old.json", "--checkpoint", "ck", "t"],
            &["--compare", "--checkpoint"],
        ),
        (&["--compare", "old.json", "t", "new.json"], &["new.json"]),
        (&["--compare", "old.json", "-", "t"], &["'t'"]),
        (&["--compare", "old.json", "-"], &["--compare"]),
        (
            &["--compare", "old.json", "--json", "-0", "t"],
            &["--null", "--json"],
        ),
        (&["--compare"], &["--compare"]),
    ] {
        f.add(check_error(&run(t, args), names, true));
    }
    f.finish("usage errors");
}

#[test]
fn an_unreadable_directory_exits_1_and_the_rest_is_reported() {
    let t = before();
    t.mkdir("t/locked/inner");
    t.file("t/locked/inner/secret", 9000);
    let made = run(&t, &["-o", "old.json", "t"]);
    assert_eq!(made.code, 0, "{}", made.err_text());
    change(&t);
    let Some(how) = unprivileged_how(&t) else {
        return;
    };
    let _guard = ModeGuard(vec![t.p("t/locked")]);
    chmod(&t.p("t/locked"), 0o000);
    // The scanned side cannot read t/locked: reported, exit 1, the other
    // changes printed all the same.
    let r = how.fdu(t.cwd(), &oss(&["--compare", "old.json", "-a", "-b", "t"]));
    assert_eq!(r.code, 1, "{}: {}", r.cmd, r.err_text());
    let err = r.err_text();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot read directory 't/locked'"),
        "{}: {err}",
        r.cmd
    );
    let lines = records(&r.stdout, b'\n');
    for want in [&b"+300000\tt/fresh/inner/f"[..], b"-9000\tt/gone/x"] {
        assert!(
            lines.iter().any(|l| l == want),
            "{}: {}",
            r.cmd,
            r.out_text()
        );
    }
    // What it held counts as removed.
    assert!(
        lines
            .iter()
            .any(|l| path_of(l) == b"t/locked/inner/secret" && l.starts_with(b"-")),
        "{}",
        r.out_text()
    );
    // An export that marks the directory unreadable: exit 1 too.
    let export = how.fdu(t.cwd(), &oss(&["-o", "-", "t"]));
    assert_eq!(export.code, 1, "{}", export.err_text());
    fs::write(t.p("locked.json"), &export.stdout).expect("write the export");
    chmod(&t.p("t/locked"), 0o755);
    let r = how.fdu(
        t.cwd(),
        &oss(&["--compare", "locked.json", "-a", "-b", "t"]),
    );
    assert_eq!(r.code, 1, "{}: {}", r.cmd, r.err_text());
    assert!(r.err_text().contains("'t/locked'"), "{}", r.err_text());
    let lines = records(&r.stdout, b'\n');
    assert!(
        lines.iter().any(|l| l == b"+9000\tt/locked/inner/secret"),
        "{}",
        r.out_text()
    );
    // Both sides read: exit 0.
    let r = how.fdu(
        t.cwd(),
        &[
            OsString::from("--compare"),
            "t".into(),
            "-c".into(),
            "t".into(),
        ],
    );
    assert_eq!(
        (r.code, r.out_text()),
        (0, "0\ttotal\n".to_string()),
        "{}",
        r.err_text()
    );
}
