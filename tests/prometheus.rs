//! `--format=prometheus`: the file parsed by the Python client's parser
//! (`prometheus_client.parser.text_string_to_metric_families`; skipped,
//! saying so, when python3 or the module is missing), every sample checked
//! against GNU du's lines of the same tree (`-B1`, `-b`, `--inodes`, `-t`,
//! `-c`), label escaping and non-UTF-8 paths, an unreadable directory.
mod common;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use common::*;

/// Parses stdin with the client library's parser and prints the families
/// as JSON: `[{name, type, help, samples: [{name, labels, value,
/// timestamp}]}]`. The input must be UTF-8.
const PARSER: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
text = sys.stdin.buffer.read().decode("utf-8")
families = []
for f in text_string_to_metric_families(text):
    families.append({"name": f.name, "type": f.type, "help": f.documentation,
        "samples": [{"name": s.name, "labels": s.labels, "value": s.value,
                     "timestamp": s.timestamp} for s in f.samples]})
print(json.dumps(families))
"#;

/// Whether the parser can run; prints why not.
fn have_parser() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import prometheus_client.parser"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: python3 with prometheus_client is not installed (pip install prometheus-client)");
    }
    ok
}

/// The families of `text`, by name, as the parser read them.
fn parse(text: &[u8]) -> Result<HashMap<String, Value>, String> {
    let mut child = Command::new("python3")
        .args(["-c", PARSER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text)
        .map_err(|e| format!("write to the parser: {e}"))?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "the parser refused it: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            shorten(&String::from_utf8_lossy(text), 2000)
        ));
    }
    let families: Vec<Value> = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let mut by_name = HashMap::new();
    for f in families {
        let name = f["name"].as_str().unwrap_or_default().to_string();
        if f["type"] != "gauge" || !f["help"].as_str().is_some_and(|h| !h.is_empty()) {
            return Err(format!("{name}: type {} help {}", f["type"], f["help"]));
        }
        let mut series = HashSet::new();
        for s in f["samples"].as_array().into_iter().flatten() {
            if s["name"] != f["name"] || !s["timestamp"].is_null() {
                return Err(format!("{name}: sample {s}"));
            }
            if !series.insert(s["labels"].to_string()) {
                return Err(format!("{name}: two samples with labels {}", s["labels"]));
            }
        }
        if by_name.insert(name.clone(), f).is_some() {
            return Err(format!("{name} twice"));
        }
    }
    Ok(by_name)
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// A family's samples as path -> value; the labels checked: `path` is the
/// path with invalid UTF-8 replaced, `path_hex` is there exactly when the
/// path is not UTF-8.
fn samples(families: &HashMap<String, Value>, name: &str) -> Result<HashMap<Vec<u8>, f64>, String> {
    let family = families
        .get(name)
        .ok_or_else(|| format!("no family {name}"))?;
    let mut out = HashMap::new();
    for s in family["samples"].as_array().into_iter().flatten() {
        let labels = s["labels"].as_object().ok_or("no labels")?;
        let text = labels
            .get("path")
            .and_then(Value::as_str)
            .ok_or("no path label")?;
        let path = match labels.get("path_hex").and_then(Value::as_str) {
            Some(hex) => {
                let bytes = unhex(hex);
                if std::str::from_utf8(&bytes).is_ok() || String::from_utf8_lossy(&bytes) != text {
                    return Err(format!("path {text:?} with path_hex {hex}"));
                }
                bytes
            }
            None => text.as_bytes().to_vec(),
        };
        if labels.len() != 1 + usize::from(labels.contains_key("path_hex")) {
            return Err(format!("labels {labels:?}"));
        }
        out.insert(path, s["value"].as_f64().ok_or("no value")?);
    }
    Ok(out)
}

/// The value of a family without labels.
fn single(families: &HashMap<String, Value>, name: &str) -> Option<f64> {
    families.get(name)?["samples"][0]["value"].as_f64()
}

/// Names a label must escape (quote, backslash, newline), a tab, two
/// non-UTF-8 names that look alike once replaced, and the replacement
/// character itself; no hard link. Arguments: `t`, `u`.
fn labelled_tree() -> Tree {
    let t = Tree::new();
    t.mkdir("t/a/b");
    t.file("t/a/b/f", 7000);
    t.file("t/a/g", 5000);
    t.mkdir("t/q\"b\\s");
    t.file("t/q\"b\\s/line\nbreak", 10);
    t.mkdir("t/tab\there");
    t.file("t/tab\there/x", 100);
    t.mkdir(b"t/caf\xe9");
    t.file(b"t/caf\xe9/n", 300);
    t.mkdir(b"t/caf\xe8");
    t.mkdir("t/caf\u{fffd}");
    t.file("t/big", 70000);
    t.mkdir("u/v");
    t.file("u/v/w", 12345);
    t
}

/// `du -0 UNIT OPTS ARGS` as path -> number.
fn du_lines(
    how: &How,
    t: &Tree,
    unit: &str,
    opts: &[&str],
    args: &[&str],
) -> HashMap<Vec<u8>, f64> {
    let mut argv = oss(&["-0", unit]);
    argv.extend(oss(opts));
    argv.extend(oss(args));
    numbered(&how.du(t.cwd(), &argv).stdout)
        .into_iter()
        .map(|(n, p)| (p, n as f64))
        .collect()
}

/// `opts` without `-t VALUE`.
fn without_threshold<'a>(opts: &[&'a str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut it = opts.iter();
    while let Some(o) = it.next() {
        if *o == "-t" {
            it.next();
        } else {
            out.push(*o);
        }
    }
    out
}

/// Compare `fdu --format=prometheus MEASURE OPTS ARGS` with du: the paths
/// are du's lines for `UNIT OPTS` (`-d 0` added when none of `-d`, `-s`,
/// `-a` is there), the values du's `-B1`, `-b` and `--inodes` numbers.
fn check(
    t: &Tree,
    how: &How,
    measure: &[&str],
    unit: &str,
    opts: &[&str],
    args: &[&str],
) -> Result<HashMap<String, Value>, String> {
    let mut argv = oss(&["--format=prometheus"]);
    argv.extend(oss(measure));
    argv.extend(oss(opts));
    argv.extend(oss(args));
    let r = how.fdu(t.cwd(), &argv);
    let families = parse(&r.stdout).map_err(|e| format!("{}: {e}", r.cmd))?;
    // (-c's total is a family of its own, checked below.)
    let mut du_opts: Vec<&str> = opts.iter().copied().filter(|o| *o != "-c").collect();
    if !opts.iter().any(|o| ["-d", "-s", "-a"].contains(o)) {
        du_opts.extend(["-d", "0"]);
    }
    let printed: HashSet<Vec<u8>> = du_lines(how, t, unit, &du_opts, args).into_keys().collect();
    let all_opts = without_threshold(&du_opts);
    let disk = du_lines(how, t, "-B1", &all_opts, args);
    let apparent = du_lines(how, t, "-b", &all_opts, args);
    let inodes = du_lines(how, t, "--inodes", &all_opts, args);
    let mut problems = Vec::new();
    let got = |name: &str, problems: &mut Vec<String>| {
        samples(&families, name).unwrap_or_else(|e| {
            problems.push(e);
            HashMap::new()
        })
    };
    let ours_disk = got("fdu_disk_bytes", &mut problems);
    let ours_apparent = got("fdu_apparent_bytes", &mut problems);
    let files = got("fdu_files", &mut problems);
    let dirs = got("fdu_directories", &mut problems);
    let errors = got("fdu_errors", &mut problems);
    for (name, family) in [
        ("fdu_disk_bytes", &ours_disk),
        ("fdu_apparent_bytes", &ours_apparent),
        ("fdu_files", &files),
        ("fdu_directories", &dirs),
        ("fdu_errors", &errors),
    ] {
        let paths: HashSet<Vec<u8>> = family.keys().cloned().collect();
        if paths != printed {
            let mut only_ours: Vec<String> = paths.difference(&printed).map(|p| show(p)).collect();
            let mut only_du: Vec<String> = printed.difference(&paths).map(|p| show(p)).collect();
            only_ours.sort();
            only_du.sort();
            problems.push(format!(
                "{name}: paths only here {only_ours:?}, only in du {only_du:?}"
            ));
        }
    }
    for path in &printed {
        let inode_sum =
            files.get(path).copied().unwrap_or(-1.0) + dirs.get(path).copied().unwrap_or(-1.0);
        for (what, ours, theirs) in [
            (
                "fdu_disk_bytes",
                ours_disk.get(path).copied(),
                disk.get(path).copied(),
            ),
            (
                "fdu_apparent_bytes",
                ours_apparent.get(path).copied(),
                apparent.get(path).copied(),
            ),
            (
                "fdu_files + fdu_directories",
                Some(inode_sum),
                inodes.get(path).copied(),
            ),
        ] {
            if ours != theirs {
                problems.push(format!("{}: {what} {ours:?}, du {theirs:?}", show(path)));
            }
        }
    }
    if opts.contains(&"-c") {
        let mut total_opts = all_opts.clone();
        total_opts.push("-c");
        for (name, unit) in [
            ("fdu_total_disk_bytes", "-B1"),
            ("fdu_total_apparent_bytes", "-b"),
        ] {
            let theirs = du_lines(how, t, unit, &total_opts, args)
                .get(b"total".as_slice())
                .copied();
            if single(&families, name) != theirs {
                problems.push(format!(
                    "{name} {:?}, du {theirs:?}",
                    single(&families, name)
                ));
            }
        }
        let theirs = du_lines(how, t, "--inodes", &total_opts, args)
            .get(b"total".as_slice())
            .copied();
        let ours =
            single(&families, "fdu_total_files").zip(single(&families, "fdu_total_directories"));
        if ours.map(|(a, b)| a + b) != theirs {
            problems.push(format!(
                "fdu_total_files + fdu_total_directories {ours:?}, du {theirs:?}"
            ));
        }
    } else if families.contains_key("fdu_total_disk_bytes") {
        problems.push("a grand total without -c".into());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64();
    let stamp = single(&families, "fdu_last_scan_timestamp_seconds");
    if !stamp.is_some_and(|s| (s - now).abs() < 3600.0)
        || !single(&families, "fdu_scan_duration_seconds").is_some_and(|d| d >= 0.0)
        || !single(&families, "fdu_scan_entries").is_some_and(|n| n > 0.0)
    {
        problems.push(format!(
            "scan gauges: timestamp {stamp:?}, duration {:?}, entries {:?}",
            single(&families, "fdu_scan_duration_seconds"),
            single(&families, "fdu_scan_entries")
        ));
    }
    let reported = r.err_text().lines().count() as f64;
    if single(&families, "fdu_scan_errors") != Some(reported) || r.code != i32::from(reported > 0.0)
    {
        problems.push(format!(
            "exit {}, fdu_scan_errors {:?}, {reported} errors reported",
            r.code,
            single(&families, "fdu_scan_errors")
        ));
    }
    if problems.is_empty() {
        Ok(families)
    } else {
        Err(format!("{}\n    {}", r.cmd, problems.join("\n    ")))
    }
}

#[test]
fn prometheus_samples_match_du_lines() {
    if !have_parser() {
        return;
    }
    let t = labelled_tree();
    let how = How::default();
    let mut f = Failures::default();
    // (measure options, the du unit whose -t decides what is printed)
    let measures: &[(&[&str], &str)] = &[
        (&[], "-B1"),
        (&["--apparent-size"], "-b"),
        (&["--inodes"], "--inodes"),
        (&["-h", "-b"], "-b"),
    ];
    let shapings: &[&[&str]] = &[
        &[],
        &["-d", "1"],
        &["-a"],
        &["-s", "-c"],
        &["-d", "2", "-S"],
        &["-a", "-t", "5K", "-c"],
        &["-d", "3", "-t", "-5K"],
        &["-d", "1", "-t", "3"],
    ];
    for (measure, unit) in measures {
        for opts in shapings {
            for args in [&["t"][..], &["t", "u"]] {
                match check(&t, &how, measure, unit, opts, args) {
                    Ok(families) => {
                        let errors = samples(&families, "fdu_errors").unwrap_or_default();
                        if errors.values().any(|&e| e != 0.0) {
                            f.push(format!("{measure:?} {opts:?}: errors {errors:?}"));
                        }
                    }
                    Err(e) => f.push(e),
                }
            }
        }
    }
    f.finish("--format=prometheus against du");
}

/// Label values escaped as the exposition format says, word for word.
#[test]
fn prometheus_label_escaping_is_exact() {
    let t = labelled_tree();
    let r = t.fdu(&["--format=prometheus", "-a", "-B1", "t"]);
    assert_eq!(r.code, 0, "{}", r.err_text());
    let text = String::from_utf8(r.stdout.clone()).expect("UTF-8");
    let sizes = du_lines(&How::default(), &t, "-B1", &["-a"], &["t"]);
    for (path, label) in [
        (&b"t/q\"b\\s"[..], r#"path="t/q\"b\\s""#),
        (b"t/q\"b\\s/line\nbreak", r#"path="t/q\"b\\s/line\nbreak""#),
        (b"t/tab\there", "path=\"t/tab\there\""),
        (
            b"t/caf\xe9",
            "path=\"t/caf\u{fffd}\",path_hex=\"742f636166e9\"",
        ),
        (
            b"t/caf\xe8",
            "path=\"t/caf\u{fffd}\",path_hex=\"742f636166e8\"",
        ),
        ("t/caf\u{fffd}".as_bytes(), "path=\"t/caf\u{fffd}\""),
    ] {
        let line = format!("fdu_disk_bytes{{{label}}} {}\n", sizes[path]);
        assert!(text.contains(&line), "no {line:?} in\n{text}");
    }
    for line in text.lines() {
        assert!(
            line.starts_with("# HELP fdu_")
                || line.starts_with("# TYPE fdu_")
                || line.starts_with("fdu_"),
            "{line:?}"
        );
    }
}

/// `--time[=WORD]` adds `fdu_mtime_seconds` (atime, ctime) with du's
/// times.
#[test]
fn prometheus_time_gauges() {
    if !have_parser() {
        return;
    }
    let t = labelled_tree();
    let mut f = Failures::default();
    for (word, name) in [("", "fdu_mtime_seconds"), ("=ctime", "fdu_ctime_seconds")] {
        let time = format!("--time{word}");
        let r = t.fdu(&["--format=prometheus", &time, "-d", "1", "t"]);
        let families = parse(&r.stdout).expect("parsed");
        let ours = samples(&families, name).expect("time samples");
        let d = t.du(&["-0", &time, "--time-style=+%s.%N", "-d", "1", "t"]);
        let mut seen = 0;
        for l in records(&d.stdout, 0) {
            let mut parts = l.splitn(3, |&b| b == b'\t');
            let _size = parts.next();
            let stamp: f64 = String::from_utf8_lossy(parts.next().unwrap_or_default())
                .parse()
                .unwrap_or(-1.0);
            let path = parts.next().unwrap_or_default();
            seen += 1;
            if !ours.get(path).is_some_and(|v| (v - stamp).abs() < 1e-3) {
                f.push(format!(
                    "{}: {} {:?}, du {stamp}",
                    r.cmd,
                    show(path),
                    ours.get(path)
                ));
            }
        }
        if seen != ours.len() {
            f.push(format!(
                "{}: {} samples, {seen} du lines",
                r.cmd,
                ours.len()
            ));
        }
    }
    f.finish("--format=prometheus --time");
}

/// Run as nobody: errors where they are, the file still complete, exit 1.
#[test]
fn prometheus_unreadable_directory() {
    if !have_parser() {
        return;
    }
    let t = Tree::new();
    t.mkdir("t/ok/sub/locked2");
    t.file("t/ok/f", 3000);
    t.file("t/ok/sub/locked2/x", 7000);
    t.mkdir("t/locked/inner");
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
    for opts in [&["-d", "3"][..], &[], &["-a", "-c"]] {
        match check(&t, &how, &[], "-B1", opts, &["t"]) {
            Err(e) => f.push(e),
            Ok(families) => {
                let errors = samples(&families, "fdu_errors").unwrap_or_default();
                let scan = single(&families, "fdu_scan_errors");
                if errors.get(b"t".as_slice()).copied() != scan || !scan.is_some_and(|n| n >= 3.0) {
                    f.push(format!(
                        "{opts:?}: fdu_errors {errors:?}, fdu_scan_errors {scan:?}"
                    ));
                }
                if opts.first() == Some(&"-d") {
                    for (path, n) in [
                        (&b"t/locked"[..], 1.0),
                        (b"t/ok/sub/locked2", 1.0),
                        (b"t/noexec", 2.0),
                    ] {
                        if errors.get(path) != Some(&n) {
                            f.push(format!(
                                "{opts:?}: {} errors {:?}",
                                show(path),
                                errors.get(path)
                            ));
                        }
                    }
                }
            }
        }
    }
    f.finish("--format=prometheus with unreadable directories");
}

/// What does not fit the format: exit 2, one line naming the option.
#[test]
fn prometheus_usage_errors() {
    let t = labelled_tree();
    let hint = "Try 'fdu --help' for more information.\n";
    for (args, message) in [
        (
            &["--format=prometheus", "-0", "t"][..],
            "--null does not apply to --format=prometheus",
        ),
        (
            &["--format=prometheus", "--top", "1", "t"],
            "--top does not apply to --format=prometheus",
        ),
        (
            &["--format=prometheus", "--json", "t"],
            "--json conflicts with --format=prometheus",
        ),
    ] {
        let r = t.fdu(args);
        assert_eq!(r.code, 2, "{}", r.cmd);
        assert_eq!(r.err_text(), format!("fdu: {message}\n{hint}"), "{}", r.cmd);
        assert!(r.stdout.is_empty());
    }
    // The last --format wins, as du's options do.
    let r = t.fdu(&["--format=json", "--format=prometheus", "t"]);
    assert_eq!(r.code, 0, "{}", r.err_text());
    assert!(
        r.out_text().starts_with("# HELP fdu_disk_bytes "),
        "{}",
        r.out_text()
    );
}
