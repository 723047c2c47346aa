//! `--json` (`--format=json`) for sizes: the document parsed with
//! serde_json, every node checked against fdu's own du lines of the same
//! tree in each measure (`-B1`, `-b`, `--inodes`) and the arguments' lines
//! and the total against GNU du; hard links, non-UTF-8 names, several
//! arguments, `-c`, `--time`, an unreadable directory, usage errors.
mod common;

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs;
use std::io::{Seek, SeekFrom, Write};

use serde_json::Value;

use common::*;

/// Hard links within a directory, across directories and across
/// arguments; a sparse file; names that are not UTF-8 or hold a quote, a
/// backslash, a newline; an empty directory. Arguments: `t u v.txt`.
fn outputs_tree() -> Tree {
    let t = Tree::new();
    t.mkdir("t/a/b/c");
    t.file("t/a/b/c/deep.bin", 7000);
    t.file("t/a/f1", 5000);
    t.file("t/a/f2", 0);
    let mut sparse = fs::File::create(t.p("t/a/sparse")).expect("create");
    sparse.seek(SeekFrom::Start(1 << 20)).expect("seek");
    sparse.write_all(b"x").expect("write");
    t.mkdir("t/links");
    t.file("t/links/x", 20000);
    t.hardlink("t/links/x", "t/links/y");
    t.hardlink("t/links/x", "t/a/b/z");
    t.mkdir(b"t/caf\xe9");
    t.file(b"t/caf\xe9/n\xffo", 300);
    t.mkdir("t/q\"b\\s");
    t.file("t/q\"b\\s/line\nbreak", 10);
    t.mkdir("t/empty");
    t.mkdir("u");
    t.file("u/g", 12345);
    t.hardlink("t/a/f1", "u/f1_again");
    t.file("v.txt", 999);
    t
}

const ARGS: &[&str] = &["t", "u", "v.txt"];

fn parse(r: &Run) -> Result<Value, String> {
    serde_json::from_slice(&r.stdout)
        .map_err(|e| format!("{}: not JSON ({e}): {}", r.cmd, shorten(&r.out_text(), 400)))
}

/// A string field's exact bytes: `KEY_bytes` when present, else the string.
fn exact(node: &Value, key: &str) -> Result<Vec<u8>, String> {
    if let Some(bytes) = node.get(format!("{key}_bytes")) {
        let bytes: Vec<u8> = serde_json::from_value(bytes.clone())
            .map_err(|e| format!("{key}_bytes is not a byte array: {e}"))?;
        if std::str::from_utf8(&bytes).is_ok() {
            return Err(format!("{key}_bytes given for a UTF-8 {key}"));
        }
        let lossy = String::from_utf8_lossy(&bytes);
        if node[key].as_str() != Some(&*lossy) {
            return Err(format!("{key} {:?} is not {lossy:?}", node[key]));
        }
        return Ok(bytes);
    }
    node[key]
        .as_str()
        .map(|s| s.as_bytes().to_vec())
        .ok_or_else(|| format!("no string {key} in {node}"))
}

fn num(node: &Value, key: &str) -> u64 {
    node[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no number {key} in {node}"))
}

/// Every node of the document, depth first, as (path, node, depth); the
/// structure checked on the way: paths are their parent's joined with
/// their name, children in byte order of their names, `children` exactly
/// on directories above `max_depth`, `type` as the counts say.
fn nodes(doc: &Value) -> Result<Vec<(Vec<u8>, Value, usize)>, String> {
    let max_depth = doc["max_depth"].as_u64().map_or(usize::MAX, |d| d as usize);
    let mut out = Vec::new();
    let mut stack: Vec<(Value, Option<Vec<u8>>, usize)> = doc["roots"]
        .as_array()
        .ok_or("no roots array")?
        .iter()
        .rev()
        .map(|r| (r.clone(), None, 0))
        .collect();
    while let Some((node, parent, depth)) = stack.pop() {
        let name = exact(&node, "name")?;
        let path = exact(&node, "path")?;
        let joined = match &parent {
            None => name.clone(),
            Some(p) if p.ends_with(b"/") => [p.as_slice(), &name].concat(),
            Some(p) => [p.as_slice(), b"/", &name].concat(),
        };
        if path != joined {
            return Err(format!("path {} is not {}", show(&path), show(&joined)));
        }
        let is_dir = num(&node, "directories") > 0;
        let kind = if is_dir { "directory" } else { "file" };
        if node["type"] != kind {
            return Err(format!(
                "{}: type {} (expected {kind})",
                show(&path),
                node["type"]
            ));
        }
        let expanded = is_dir && depth < max_depth;
        match (node.get("children"), expanded) {
            (Some(Value::Array(kids)), true) => {
                let names: Vec<Vec<u8>> = kids
                    .iter()
                    .map(|k| exact(k, "name"))
                    .collect::<Result<_, _>>()?;
                if names.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(format!("{}: children not in name order", show(&path)));
                }
                for kid in kids.iter().rev() {
                    stack.push((kid.clone(), Some(path.clone()), depth + 1));
                }
            }
            (None, false) => {}
            (c, _) => {
                return Err(format!(
                    "{} (depth {depth}, max {max_depth}): children {c:?}",
                    show(&path)
                ))
            }
        }
        out.push((path, node, depth));
    }
    Ok(out)
}

/// `fdu -0 UNIT OPTS ARGS` as path -> number.
fn lines(how: &How, t: &Tree, unit: &str, opts: &[&str], args: &[&str]) -> HashMap<Vec<u8>, u64> {
    let mut argv = oss(&["-0", unit]);
    argv.extend(oss(opts));
    argv.extend(oss(args));
    numbered(&how.fdu(t.cwd(), &argv).stdout)
        .into_iter()
        .map(|(n, p)| (p, n))
        .collect()
}

/// Directories at or below `path` (symlinks not followed), itself included.
fn dirs_below(path: &std::path::Path) -> u64 {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return 0;
    }
    1 + fs::read_dir(path)
        .map(|d| d.flatten().map(|e| dirs_below(&e.path())).sum())
        .unwrap_or(0)
}

/// Compare `fdu --json OPTS ARGS` with `fdu -0 -B1|-b|--inodes TEXT_OPTS
/// ARGS`: the same nodes, the same numbers.
fn check_against_lines(
    t: &Tree,
    how: &How,
    opts: &[&str],
    text_opts: &[&str],
    args: &[&str],
) -> Result<Value, String> {
    let mut argv = oss(&["--json"]);
    argv.extend(oss(opts));
    argv.extend(oss(args));
    let r = how.fdu(t.cwd(), &argv);
    let doc = parse(&r)?;
    let all = nodes(&doc).map_err(|e| format!("{}: {e}", r.cmd))?;
    let disk = lines(how, t, "-B1", text_opts, args);
    let apparent = lines(how, t, "-b", text_opts, args);
    let inodes = lines(how, t, "--inodes", text_opts, args);
    let mut problems = Vec::new();
    let mut seen: Vec<&[u8]> = Vec::new();
    for (path, node, _) in &all {
        seen.push(path);
        let want = |m: &HashMap<Vec<u8>, u64>| m.get(path).copied();
        let got_inodes = num(node, "files") + num(node, "directories");
        for (what, got, expected) in [
            ("disk_bytes", num(node, "disk_bytes"), want(&disk)),
            (
                "apparent_bytes",
                num(node, "apparent_bytes"),
                want(&apparent),
            ),
            ("files + directories", got_inodes, want(&inodes)),
        ] {
            if Some(got) != expected {
                problems.push(format!(
                    "{}: {what} {got}, du lines {expected:?}",
                    show(path)
                ));
            }
        }
        // (Not when the scan ran as another user, who sees less.)
        let separate = opts.contains(&"-S");
        if !separate && how.wrapper.is_empty() && node["type"] == "directory" {
            let expected = dirs_below(&t.p(path));
            if num(node, "directories") != expected {
                problems.push(format!(
                    "{}: directories {}, on disk {expected}",
                    show(path),
                    num(node, "directories")
                ));
            }
        }
    }
    let mut missing: Vec<&Vec<u8>> = disk
        .keys()
        .filter(|p| !seen.contains(&p.as_slice()))
        .collect();
    missing.sort();
    if !missing.is_empty() {
        problems.push(format!(
            "lines missing from the document: {:?}",
            missing.iter().map(|p| show(p)).collect::<Vec<_>>()
        ));
    }
    if seen.len() != disk.len() {
        problems.push(format!("{} nodes for {} lines", seen.len(), disk.len()));
    }
    // The arguments, and the total (as `-c` prints it).
    let roots: Vec<Vec<u8>> = all
        .iter()
        .filter(|n| n.2 == 0)
        .map(|n| n.0.clone())
        .collect();
    if roots
        != args
            .iter()
            .map(|a| a.as_bytes().to_vec())
            .collect::<Vec<_>>()
    {
        problems.push(format!("roots {roots:?}"));
    }
    if doc["arguments"] != serde_json::json!(args) {
        problems.push(format!("arguments {}", doc["arguments"]));
    }
    let mut total_opts = text_opts.to_vec();
    total_opts.push("-c");
    let total = |unit| {
        lines(how, t, unit, &total_opts, args)
            .get(b"total".as_slice())
            .copied()
    };
    let grand = &doc["total"];
    for (what, got, expected) in [
        ("disk_bytes", num(grand, "disk_bytes"), total("-B1")),
        ("apparent_bytes", num(grand, "apparent_bytes"), total("-b")),
        (
            "files + directories",
            num(grand, "files") + num(grand, "directories"),
            total("--inodes"),
        ),
    ] {
        if Some(got) != expected {
            problems.push(format!("total {what} {got}, -c line {expected:?}"));
        }
    }
    if doc["fdu_version"] != env!("CARGO_PKG_VERSION") {
        problems.push(format!("fdu_version {}", doc["fdu_version"]));
    }
    if !doc["scan"]["entries"].as_u64().is_some_and(|n| n > 0)
        || !doc["scan"]["duration_seconds"].is_f64()
        || !doc["scan"]["timestamp_seconds"]
            .as_f64()
            .is_some_and(|s| s > 1e9)
        || !doc["scan"]["backend"].is_string()
    {
        problems.push(format!("scan {}", doc["scan"]));
    }
    if problems.is_empty() {
        Ok(doc)
    } else {
        Err(format!("{}\n    {}", r.cmd, problems.join("\n    ")))
    }
}

#[test]
fn json_nodes_match_du_lines_in_every_measure() {
    let t = outputs_tree();
    let how = How::default();
    let mut f = Failures::default();
    // (--json options, the du options that print the same lines)
    let cases: &[(&[&str], &[&str])] = &[
        (&[], &["-d", "0"]),
        (&["-d", "1"], &["-d", "1"]),
        (&["-d", "4"], &["-d", "4"]),
        (&["-a"], &["-a"]),
        (&["-a", "-d", "1"], &["-a", "-d", "1"]),
        (&["-s"], &["-s"]),
        (&["-S", "-d", "2"], &["-S", "-d", "2"]),
        (&["-S", "-a"], &["-S", "-a"]),
        (&["-l", "-d", "2"], &["-l", "-d", "2"]),
        (&["-c", "-d", "1"], &["-d", "1"]),
        // Units and the printed measure change nothing.
        (&["-h", "--inodes", "-d", "1"], &["-d", "1"]),
        (
            &["-b", "-d", "1", "--backend", "std", "-j", "1"],
            &["-d", "1"],
        ),
    ];
    for (opts, text_opts) in cases {
        for args in [ARGS, &["t"], &["t/a"]] {
            match check_against_lines(&t, &how, opts, text_opts, args) {
                Ok(doc) => {
                    let errors = doc["errors"].as_u64();
                    if errors != Some(0) {
                        f.push(format!("{opts:?} {args:?}: errors {errors:?}"));
                    }
                }
                Err(e) => f.push(e),
            }
        }
    }
    f.finish("--json against du lines");
}

/// Arguments' lines and the total equal GNU du's (whose per-directory
/// lines may charge a hard link elsewhere); a file argument is a `file`
/// root.
#[test]
fn json_arguments_and_total_equal_gnu_du() {
    let t = outputs_tree();
    let mut f = Failures::default();
    let r = t.fdu(&["--json", "t", "u", "v.txt"]);
    let doc = match parse(&r) {
        Ok(doc) => doc,
        Err(e) => panic!("{e}"),
    };
    let roots = doc["roots"].as_array().expect("roots");
    for (unit, field) in [
        ("-B1", "disk_bytes"),
        ("-b", "apparent_bytes"),
        ("--inodes", ""),
    ] {
        let d = t.du(&["-0", "-s", "-c", unit, "t", "u", "v.txt"]);
        let du: Vec<(u64, Vec<u8>)> = numbered(&d.stdout);
        let ours: Vec<u64> = roots
            .iter()
            .chain([&doc["total"]])
            .map(|n| match field {
                "" => num(n, "files") + num(n, "directories"),
                field => num(n, field),
            })
            .collect();
        let theirs: Vec<u64> = du.iter().map(|(n, _)| *n).collect();
        if ours != theirs {
            f.push(format!("{unit}: fdu {ours:?}, du {theirs:?}"));
        }
    }
    let kinds: Vec<&Value> = roots.iter().map(|r| &r["type"]).collect();
    if kinds != ["directory", "directory", "file"] {
        f.push(format!("root types {kinds:?}"));
    }
    if roots[2].get("children").is_some() {
        f.push("a file has children".into());
    }
    // The non-UTF-8 directory, one level down.
    let r = t.fdu(&["--json", "-d", "1", "t"]);
    let doc = parse(&r).expect("JSON");
    let odd = doc["roots"][0]["children"]
        .as_array()
        .expect("children")
        .iter()
        .find(|c| c.get("name_bytes").is_some())
        .cloned()
        .unwrap_or_default();
    if odd["name"] != "caf\u{fffd}"
        || odd["name_bytes"] != serde_json::json!(b"caf\xe9".to_vec())
        || odd["path"] != "t/caf\u{fffd}"
        || odd["path_bytes"] != serde_json::json!(b"t/caf\xe9".to_vec())
    {
        f.push(format!("non-UTF-8 directory: {odd}"));
    }
    f.finish("--json against GNU du");
}

/// A non-UTF-8 argument keeps its bytes in `arguments_bytes`.
#[test]
fn json_non_utf8_argument_round_trips() {
    let t = outputs_tree();
    let r = fdu(t.cwd(), &[OsString::from("--json"), os(b"t/caf\xe9")]);
    assert_eq!(r.code, 0, "{}", r.err_text());
    let doc = parse(&r).expect("JSON");
    assert_eq!(doc["arguments"], serde_json::json!(["t/caf\u{fffd}"]));
    assert_eq!(
        doc["arguments_bytes"],
        serde_json::json!([b"t/caf\xe9".to_vec()])
    );
    let root = &doc["roots"][0];
    assert_eq!(root["path_bytes"], serde_json::json!(b"t/caf\xe9".to_vec()));
    assert_eq!(num(root, "apparent_bytes"), 4096 + 300);
}

/// Run as nobody: the unreadable directories are counted as errors where
/// they are, the document still has everything that could be read, the
/// exit status is 1, and the numbers are du's.
#[test]
fn json_unreadable_directory() {
    let t = Tree::new();
    t.mkdir("t/ok/sub");
    t.file("t/ok/f", 3000);
    t.mkdir("t/locked/inner");
    t.file("t/locked/g", 100);
    t.mkdir("t/ok/sub/locked2");
    t.file("t/ok/sub/locked2/x", 7000);
    t.mkdir("t/noexec/sub");
    t.file("t/noexec/g", 10);
    let _guard = ModeGuard(vec![
        t.p("t/locked"),
        t.p("t/ok/sub/locked2"),
        t.p("t/noexec"),
    ]);
    chmod(&t.p("t/locked"), 0o000);
    chmod(&t.p("t/ok/sub/locked2"), 0o000);
    chmod(&t.p("t/noexec"), 0o644);
    let Some(how) = unprivileged_how(&t) else {
        return;
    };
    let mut f = Failures::default();
    for (opts, text_opts) in [
        (&["-d", "3"][..], &["-d", "3"][..]),
        (&[], &["-d", "0"]),
        (&["-a"], &["-a"]),
    ] {
        match check_against_lines(&t, &how, opts, text_opts, &["t"]) {
            Err(e) => f.push(e),
            Ok(doc) => {
                let mut argv = oss(&["--json"]);
                argv.extend(oss(opts));
                argv.push("t".into());
                let r = how.fdu(t.cwd(), &argv);
                if r.code != 1 {
                    f.push(format!("{}: exit {} (expected 1)", r.cmd, r.code));
                }
                let reported = r.err_text().lines().count() as u64;
                let root = &doc["roots"][0];
                if doc["errors"].as_u64() != Some(reported)
                    || root["errors"].as_u64() != Some(reported)
                    || doc["total"]["errors"].as_u64() != Some(reported)
                    || reported < 3
                {
                    f.push(format!(
                        "{}: errors {} / root {} / total {}, {reported} reported: {}",
                        r.cmd,
                        doc["errors"],
                        root["errors"],
                        doc["total"]["errors"],
                        r.err_text()
                    ));
                }
                // Each node's errors: its own plus its children's.
                if opts.first() == Some(&"-d") {
                    let all = nodes(&doc).expect("nodes");
                    let errors_of =
                        |p: &[u8]| all.iter().find(|n| n.0 == p).map(|n| num(&n.1, "errors"));
                    for (path, expected) in [
                        (&b"t/locked"[..], 1),
                        (b"t/ok/sub/locked2", 1),
                        (b"t/ok", 1),
                        (b"t/noexec", 2),
                    ] {
                        if errors_of(path) != Some(expected) {
                            f.push(format!(
                                "{}: {} errors {:?} (expected {expected})",
                                r.cmd,
                                show(path),
                                errors_of(path)
                            ));
                        }
                    }
                }
            }
        }
        // The arguments' numbers as GNU du (run as nobody too) has them.
        let d = how.du(t.cwd(), &oss(&["-0", "-B1", "-d", "3", "t"]));
        let r = how.fdu(t.cwd(), &oss(&["--json", "-d", "3", "t"]));
        let doc = parse(&r).expect("JSON");
        let all = nodes(&doc).expect("nodes");
        let ours: HashMap<Vec<u8>, u64> = all
            .iter()
            .map(|n| (n.0.clone(), num(&n.1, "disk_bytes")))
            .collect();
        let theirs: HashMap<Vec<u8>, u64> = numbered(&d.stdout)
            .into_iter()
            .map(|(n, p)| (p, n))
            .collect();
        if ours != theirs || d.code != r.code {
            f.push(format!(
                "{}: {ours:?}, du {theirs:?} (exit {} / {})",
                r.cmd, r.code, d.code
            ));
        }
    }
    f.finish("--json with unreadable directories");
}

/// `--time[=WORD]`: `mtime`/`atime`/`ctime` and their nanoseconds equal
/// the time column of du's lines (`--time-style=+%s.%N`).
#[test]
fn json_time_fields_match_the_time_column() {
    let t = outputs_tree();
    let mut f = Failures::default();
    for (word, key) in [("", "mtime"), ("=atime", "atime"), ("=ctime", "ctime")] {
        let time = format!("--time{word}");
        let r = t.fdu(&["--json", &time, "-d", "2", "t"]);
        let doc = parse(&r).expect("JSON");
        let text = t.fdu(&["-0", &time, "--time-style=+%s.%N", "-d", "2", "t"]);
        let column: HashMap<Vec<u8>, (i64, u32)> = records(&text.stdout, 0)
            .iter()
            .map(|l| {
                let mut parts = l.splitn(3, |&b| b == b'\t');
                let _size = parts.next();
                let stamp = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
                let (sec, nsec) = stamp.split_once('.').unwrap_or_default();
                let path = parts.next().unwrap_or_default().to_vec();
                (path, (sec.parse().unwrap_or(-1), nsec.parse().unwrap_or(0)))
            })
            .collect();
        for (path, node, _) in nodes(&doc).expect("nodes") {
            let got = (
                node[key].as_i64().unwrap_or(-2),
                node[format!("{key}_nsec")].as_u64().unwrap_or(0) as u32,
            );
            if column.get(&path) != Some(&got) {
                f.push(format!(
                    "{}: {} {got:?}, column {:?}",
                    r.cmd,
                    show(&path),
                    column.get(&path)
                ));
            }
        }
        if !doc["total"][key].is_i64() {
            f.push(format!("{}: total {}", r.cmd, doc["total"]));
        }
    }
    f.finish("--json --time");
}

/// Exit 2 and one line naming the option (du's layout) for what does not
/// fit; what fits is accepted.
#[test]
fn json_usage_errors_and_accepted_combinations() {
    let t = outputs_tree();
    let hint = "Try 'fdu --help' for more information.\n";
    let mut f = Failures::default();
    for (args, message) in [
        (
            &["--json", "-t", "1K", "t"][..],
            "--threshold does not apply to --json",
        ),
        (
            &["--format=json", "-0", "t"],
            "--null does not apply to --format=json",
        ),
        (
            &["--json", "--top", "3", "t"],
            "--top does not apply to --json",
        ),
        (
            &["--format=json", "--top=3", "t"],
            "--top does not apply to --format=json",
        ),
        (
            &["--json", "--format=prometheus", "t"],
            "--json conflicts with --format=prometheus",
        ),
        (
            &["--format", "du", "--json", "t"],
            "--json conflicts with --format=du",
        ),
        (
            &["--dups", "--format=prometheus", "t"],
            "--format=prometheus does not apply to --dups",
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
    let r = t.fdu(&["--format=xml", "t"]);
    if r.code != 2 || !r.err_text().starts_with("fdu: ") || !r.err_text().ends_with(hint) {
        f.push(format!(
            "{}: exit {}, stderr {:?}",
            r.cmd,
            r.code,
            r.err_text()
        ));
    }
    // The same document however it is asked for, whatever the units.
    let strip = |r: &Run| {
        let mut doc = parse(r).unwrap_or_default();
        doc["scan"] = Value::Null;
        doc
    };
    let base = strip(&t.fdu(&["--json", "-d", "2", "t"]));
    for args in [
        &["--format=json", "-d", "2", "t"][..],
        &["--format", "json", "--json", "-d", "2", "t"],
        &["--format=prometheus", "--format=json", "-d", "2", "-h", "t"],
        &["--fo=json", "-d2", "-B", "1M", "--si", "t"],
        &["--json", "-d", "2", "--time-style=iso", "t"],
    ] {
        let r = t.fdu(args);
        if r.code != 0 || strip(&r) != base {
            f.push(format!(
                "{}: exit {} {}",
                r.cmd,
                r.code,
                shorten(&r.out_text(), 300)
            ));
        }
    }
    // With --dups, --format=json is --json: the groups.
    let r = t.fdu(&["--dups", "--format=json", "t"]);
    if r.code != 0 || parse(&r).map(|d| d["groups"].is_array()) != Ok(true) {
        f.push(format!("{}: exit {} {}", r.cmd, r.code, r.out_text()));
    }
    // Nothing to scan: an empty document.
    let list = t.p("list");
    fs::write(&list, b"").expect("write");
    let r = t.fdu(&["--json", "--files0-from=list"]);
    let doc = parse(&r).unwrap_or_default();
    if r.code != 0
        || doc["roots"] != serde_json::json!([])
        || doc["arguments"] != serde_json::json!([])
    {
        f.push(format!("{}: exit {} {}", r.cmd, r.code, r.out_text()));
    }
    f.finish("--json usage");
}

/// Every output keeps the one write-error policy: a reader that goes away
/// ends the run quietly (exit 0), a full disk is reported once (exit 1).
#[test]
fn outputs_keep_the_write_error_policy() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let t = wide(30_000);
    let mut f = Failures::default();
    for args in [
        &["--json", "-a", "t"][..],
        &["--format=prometheus", "-a", "t"],
        &["--top", "100000", "-a", "t"],
    ] {
        let mut child = Command::new(fdu_bin())
            .args(args)
            .current_dir(t.cwd())
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn fdu");
        let mut head = [0u8; 100];
        child
            .stdout
            .take()
            .expect("stdout")
            .read_exact(&mut head)
            .expect("read");
        let out = child.wait_with_output().expect("wait");
        if out.status.code() != Some(0) || !out.stderr.is_empty() {
            f.push(format!(
                "fdu {args:?} | head -c 100: {:?}, stderr {:?}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let out = Command::new(fdu_bin())
            .args(args)
            .current_dir(t.cwd())
            .env("LC_ALL", "C")
            .stdout(fs::File::create("/dev/full").expect("open /dev/full"))
            .output()
            .expect("run fdu");
        let err = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(1) || err != "fdu: write error: No space left on device\n" {
            f.push(format!(
                "fdu {args:?} > /dev/full: {:?}, stderr {err:?}",
                out.status
            ));
        }
    }
    f.finish("write errors");
}
