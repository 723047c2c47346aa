//! `--top N` against a brute force over GNU du: du's lines for the same
//! options, ranked by their exact number (`-B1`, `-b`, `--inodes`),
//! largest first, equal ones in path order, the first N printed as du
//! prints them (`-h`, `-k`, `--time`, `-c`'s total); several N, ties,
//! several arguments, `-a`, `-d`, `-s`, `-S`, `-t`.
mod common;

use std::collections::HashMap;
use std::io::{Seek, SeekFrom, Write};

use common::*;

/// Directories with equal contents (ties in every measure), empty ones,
/// equal files, a sparse file, odd names; no hard link (du charges one to
/// whichever name it meets first). Arguments: `t`, `u`.
fn ranked_tree() -> Tree {
    let t = Tree::new();
    for d in ["a", "b"] {
        t.mkdir(format!("t/{d}"));
        t.file(format!("t/{d}/x"), 5000);
        t.file(format!("t/{d}/y"), 5000);
    }
    t.mkdir("t/c/d/f");
    t.file("t/c/big", 70000);
    t.file("t/c/d/e", 100);
    t.file("t/c/d/f/g", 100);
    t.mkdir("t/h");
    t.mkdir("t/i");
    t.mkdir("t/j/k/l/m");
    t.file("t/j/k/l/m/n", 3000);
    t.mkdir("t/s");
    let mut sparse = std::fs::File::create(t.p("t/s/sparse")).expect("create");
    sparse.seek(SeekFrom::Start(1 << 20)).expect("seek");
    sparse.write_all(b"x").expect("write");
    t.mkdir("t/q\"b\\s");
    t.file("t/q\"b\\s/line\nbreak", 10);
    t.mkdir(b"t/caf\xe9");
    t.file(b"t/caf\xe9/z", 4096);
    t.file("t/f1", 4096);
    t.file("t/f2", 4096);
    t.file("t/f3", 1);
    t.mkdir("u");
    t.file("u/one", 8000);
    t
}

/// The path of a `-0` record (after the size and, with `--time`, the time).
fn line_path(line: &[u8], timed: bool) -> Vec<u8> {
    line.splitn(if timed { 3 } else { 2 }, |&b| b == b'\t')
        .last()
        .unwrap_or_default()
        .to_vec()
}

/// A du line to rank: its number, its argument, its path's components,
/// its path.
type Ranked = (u64, usize, Vec<Vec<u8>>, Vec<u8>);

/// What `fdu --top N SHOW SHAPING EXTRA ARGS` must print: du's lines for
/// SHAPING ranked by `du RANK SHAPING ARGS`, the first N as
/// `du SHOW SHAPING EXTRA ARGS` prints them, then its total with `-c`.
/// Also whether the ranking held a tie.
fn brute_force(
    t: &Tree,
    n: usize,
    rank: &str,
    show: &[&str],
    shaping: &[&str],
    extra: &[&str],
    args: &[&str],
) -> (Vec<Vec<u8>>, bool) {
    let mut argv = oss(&["-0", rank]);
    argv.extend(oss(shaping));
    argv.extend(oss(args));
    let ranked = numbered(&du(t.cwd(), &argv).stdout);
    // Which argument each line belongs to: du prints an argument's lines,
    // the argument's own last.
    let mut arg = 0;
    let mut keyed: Vec<Ranked> = Vec::new();
    for (size, path) in ranked {
        let components = path.split(|&b| b == b'/').map(<[u8]>::to_vec).collect();
        keyed.push((size, arg, components, path.clone()));
        if args.get(arg).map(|a| root_display(a.as_bytes())) == Some(path) {
            arg += 1;
        }
    }
    keyed.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| (a.1, &a.2).cmp(&(b.1, &b.2))));
    let tie = keyed.windows(2).any(|w| w[0].0 == w[1].0);
    let timed = extra
        .iter()
        .any(|e| *e == "--time" || e.starts_with("--time="));
    let mut argv = oss(&["-0"]);
    argv.extend(oss(show));
    argv.extend(oss(shaping));
    argv.extend(oss(extra));
    argv.extend(oss(args));
    let shown = records(&du(t.cwd(), &argv).stdout, 0);
    let mut by_path: HashMap<Vec<u8>, Vec<u8>> = shown
        .iter()
        .map(|l| (line_path(l, timed), l.clone()))
        .collect();
    let mut expected: Vec<Vec<u8>> = keyed
        .iter()
        .take(n)
        .map(|k| {
            by_path
                .remove(&k.3)
                .unwrap_or_else(|| format!("(no du line for {})", common::show(&k.3)).into_bytes())
        })
        .collect();
    if extra.contains(&"-c") {
        expected.extend(shown.last().cloned());
    }
    (expected, tie)
}

/// Compare fdu with the brute force for every N.
fn check(
    t: &Tree,
    f: &mut Failures,
    rank: &str,
    show: &[&str],
    shaping: &[&str],
    extra: &[&str],
    args: &[&str],
) -> bool {
    let mut tie = false;
    for n in [1, 2, 3, 5, 10_000] {
        let (expected, had_tie) = brute_force(t, n, rank, show, shaping, extra, args);
        tie |= had_tie;
        let mut argv = oss(&["-0", "--top", &n.to_string()]);
        argv.extend(oss(show));
        argv.extend(oss(shaping));
        argv.extend(oss(extra));
        argv.extend(oss(args));
        let r = fdu(t.cwd(), &argv);
        let got = records(&r.stdout, 0);
        if r.code != 0 || got != expected || !r.stderr.is_empty() {
            f.push(format!(
                "{}: exit {} {}\n    fdu: {:?}\n    du:  {:?}",
                r.cmd,
                r.code,
                r.err_text(),
                got.iter().map(|l| common::show(l)).collect::<Vec<_>>(),
                expected.iter().map(|l| common::show(l)).collect::<Vec<_>>()
            ));
        }
    }
    tie
}

#[test]
fn top_equals_du_lines_ranked_in_every_measure() {
    let t = ranked_tree();
    let mut f = Failures::default();
    // (exact unit to rank by, what fdu and du print)
    let measures: &[(&str, &[&str])] = &[
        ("-B1", &[]),
        ("-B1", &["-h"]),
        ("-B1", &["-B1"]),
        ("-b", &["-b"]),
        ("-b", &["--apparent-size", "-h"]),
        ("-b", &["--apparent-size", "-k"]),
        ("--inodes", &["--inodes"]),
    ];
    let shapings: &[&[&str]] = &[
        &[],
        &["-d", "1"],
        &["-d", "0"],
        &["-s"],
        &["-a"],
        &["-a", "-d", "2"],
        &["-S"],
        &["-t", "5K"],
        &["-t", "-5K", "-a"],
    ];
    let mut ties = 0;
    for (rank, show) in measures {
        for shaping in shapings {
            for args in [&["t"][..], &["t/c", "t/a", "u"]] {
                ties += usize::from(check(&t, &mut f, rank, show, shaping, &[], args));
            }
        }
    }
    assert!(ties > 10, "the tree has too few ties to test their order");
    f.finish("--top against du");
}

/// `-c` adds du's total line; `--time` and `-h` keep du's layout.
#[test]
fn top_with_total_and_time_columns() {
    let t = ranked_tree();
    let mut f = Failures::default();
    for extra in [
        &["-c"][..],
        &["--time"],
        &["-c", "--time=ctime", "--time-style=full-iso"],
    ] {
        for (rank, show) in [
            ("-B1", &["-h"][..]),
            ("-b", &["-b"]),
            ("--inodes", &["--inodes"]),
        ] {
            for shaping in [&[][..], &["-a"], &["-d", "1"]] {
                check(&t, &mut f, rank, show, shaping, extra, &["t", "u"]);
            }
        }
    }
    f.finish("--top with -c and --time");
}

/// Lines end with a newline without `-0`; `--top` given twice takes the
/// last; the largest of everything is the argument.
#[test]
fn top_plain_lines() {
    let t = ranked_tree();
    let r = t.fdu(&["--top", "9", "--top=2", "-B1", "t"]);
    assert_eq!(r.code, 0, "{}", r.err_text());
    let lines = records(&r.stdout, b'\n');
    assert_eq!(lines.len(), 2, "{}", r.out_text());
    assert_eq!(path_of(&lines[0]), b"t");
    assert_eq!(path_of(&lines[1]), b"t/c");
    // The sparse file's directory is the largest by apparent size only.
    let r = t.fdu(&["--top=2", "-b", "t"]);
    let lines = records(&r.stdout, b'\n');
    assert_eq!(path_of(&lines[1]), b"t/s", "{}", r.out_text());
}

/// Bad counts and combinations: exit 2, one line naming `--top`.
#[test]
fn top_usage_errors() {
    let t = ranked_tree();
    let hint = "Try 'fdu --help' for more information.\n";
    let mut f = Failures::default();
    for (args, message) in [
        (&["--top", "0", "t"][..], "invalid --top '0'"),
        (&["--top", "x", "t"], "invalid --top 'x'"),
        (&["--top", "-1", "t"], "invalid --top '-1'"),
        (&["--top=", "t"], "invalid --top ''"),
        (
            &["--top", "3", "--dups", "t"],
            "--top does not apply to --dups",
        ),
        (
            &["--top", "3", "--format=prometheus", "t"],
            "--top does not apply to --format=prometheus",
        ),
    ] {
        let r = t.fdu(args);
        let expected = format!("fdu: {message}\n{hint}");
        if r.code != 2 || r.err_text() != expected || !r.stdout.is_empty() {
            f.push(format!(
                "{}: exit {}, stderr {:?} (expected {expected:?})",
                r.cmd,
                r.code,
                r.err_text()
            ));
        }
    }
    // `--to` is du's --total, as before.
    let r = t.fdu(&["--to", "-s", "u"]);
    if r.code != 0 || records(&r.stdout, b'\n').len() != 2 {
        f.push(format!("{}: {:?}", r.cmd, r.out_text()));
    }
    f.finish("--top usage");
}
