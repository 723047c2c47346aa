//! `-f FILE`: what fdu prints from an export is what a scan of the tree
//! prints, for fdu's exports and ncdu's; broken files are clear errors.
mod common;

use common::*;

fn tree() -> Tree {
    export_tree()
}

const OPTION_SETS: &[&[&str]] = &[
    &[],
    &["-a"],
    &["-s"],
    &["-d", "1"],
    &["-d", "2", "-a"],
    &["-S"],
    &["-S", "-a"],
    &["-l", "-a"],
    &["-b", "-a"],
    &["--apparent-size", "-d", "1"],
    &["--inodes", "-a"],
    &["-c", "-h"],
    &["-t", "8K", "-a"],
    &["-0", "-a"],
    &["-a", "--time", "--time-style=+%s"],
];

#[test]
fn an_export_prints_what_the_scan_prints() {
    let t = tree();
    let run = t.fdu(&["-e", "-o", "x.json", "t"]);
    assert_eq!(run.code, 0, "{}", run.err_text());
    for opts in OPTION_SETS {
        let mut scan = opts.to_vec();
        scan.push("t");
        let mut read = opts.to_vec();
        read.extend(["-f", "x.json"]);
        let (a, b) = (t.fdu(&scan), t.fdu(&read));
        assert_eq!(a.code, 0, "{}: {}", a.cmd, a.err_text());
        assert_eq!(b.code, 0, "{}: {}", b.cmd, b.err_text());
        assert!(
            a.stdout == b.stdout,
            "{} and {} differ:\n{}\n---\n{}",
            a.cmd,
            b.cmd,
            a.out_text(),
            b.out_text()
        );
    }
}

#[test]
fn ncdus_export_prints_dus_totals() {
    if !have_tool("ncdu") {
        eprintln!("SKIPPED: ncdu is not installed");
        return;
    }
    let t = tree();
    let made = run_argv(&oss(&["ncdu", "-0", "-o", "n.json", "t"]), t.cwd(), &[]);
    assert_eq!(made.code, 0, "{}", made.err_text());
    // ncdu names the root by its absolute path: compare the paths below it.
    let root = std::fs::canonicalize(t.p("t")).expect("canonicalize");
    let root = root.as_os_str().as_encoded_bytes().to_vec();
    for opts in OPTION_SETS {
        if opts.contains(&"--time") {
            continue; // ncdu -o without -e keeps no times.
        }
        let mut scan = opts.to_vec();
        scan.push("t");
        let mut read = opts.to_vec();
        read.extend(["-f", "n.json"]);
        let (scanned, read) = (t.fdu(&scan), t.fdu(&read));
        assert_eq!(read.code, 0, "{}: {}", read.cmd, read.err_text());
        let term = if opts.contains(&"-0") { 0 } else { b'\n' };
        let relative = |out: &[u8], prefix: &[u8]| -> Vec<Vec<u8>> {
            records(out, term)
                .into_iter()
                .map(|l| {
                    let path = path_of(&l);
                    let rest = match path.strip_prefix(prefix) {
                        Some(rest) if rest.is_empty() || rest.starts_with(b"/") => rest,
                        _ => path,
                    };
                    [size_of(&l), b"\t", rest].concat()
                })
                .collect()
        };
        // What a scan of the tree prints, below the root's name.
        assert_eq!(
            relative(&scanned.stdout, b"t"),
            relative(&read.stdout, &root),
            "{opts:?}"
        );
        // And the root's total is du's.
        let du = t.du(&scan);
        let root_line = |v: Vec<Vec<u8>>| v.into_iter().find(|l| l.ends_with(b"\t"));
        assert_eq!(
            root_line(relative(&du.stdout, b"t")),
            root_line(relative(&read.stdout, &root)),
            "{opts:?}: the root's line, against du"
        );
    }
}

#[test]
fn broken_exports_are_errors_naming_file_and_offset() {
    let t = Tree::new();
    std::fs::write(
        t.p("cut.json"),
        b"[1,2,{},[{\"name\":\"x\"},{\"name\":\"y\",\"asize\":",
    )
    .unwrap();
    std::fs::write(t.p("major.json"), b"[2,0,{},[{\"name\":\"x\"}]]").unwrap();
    std::fs::write(t.p("text.json"), b"hello").unwrap();
    std::fs::write(t.p("neg.json"), b"[1,2,{},[{\"name\":\"x\",\"asize\":-1}]]").unwrap();
    for (file, message) in [
        ("cut.json", "cut.json: byte 42: unexpected end of file"),
        ("major.json", "major.json: byte 1: "),
        ("text.json", "text.json: byte 0: "),
        ("neg.json", "neg.json: byte 29: "),
        (
            "missing.json",
            "cannot read 'missing.json': No such file or directory",
        ),
    ] {
        let run = t.fdu(&["-f", file]);
        assert_eq!(run.code, 2, "{}: {}", run.cmd, run.err_text());
        assert!(run.stdout.is_empty(), "{}", run.cmd);
        let err = run.err_text();
        assert_eq!(err.lines().count(), 1, "{}: {err}", run.cmd);
        assert!(err.contains(message), "{}: {err}", run.cmd);
    }
}

#[test]
fn unreadable_entries_in_an_export_are_reported() {
    let t = Tree::new();
    std::fs::write(
        t.p("e.json"),
        b"[1,2,{},[{\"name\":\"r\",\"dsize\":4096},\n[{\"name\":\"locked\",\"dsize\":4096,\"read_error\":true}],\n{\"name\":\"f\",\"dsize\":8192},\n{\"name\":\"gone\",\"read_error\":true}]]",
    )
    .unwrap();
    let run = t.fdu(&["-f", "e.json"]);
    assert_eq!(run.code, 1, "{}", run.err_text());
    assert_eq!(run.out_text(), "4\tr/locked\n16\tr\n");
    assert!(
        run.err_text().contains("cannot read directory 'r/locked'"),
        "{}",
        run.err_text()
    );
    assert!(
        run.err_text().contains("cannot access 'r/gone'"),
        "{}",
        run.err_text()
    );
}

#[test]
fn stdin_and_usage_errors() {
    let t = tree();
    let run = t.fdu(&["-o", "x.json", "t"]);
    assert_eq!(run.code, 0);
    let mut argv = vec![fdu_bin().into_os_string()];
    argv.extend(oss(&["-s", "-f", "-"]));
    let piped = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(t.cwd())
        .stdin(std::fs::File::open(t.p("x.json")).unwrap())
        .output()
        .unwrap();
    assert_eq!(piped.stdout, t.fdu(&["-s", "t"]).stdout);
    for args in [
        &["-f", "x.json", "t"][..],
        &["-f", "x.json", "-x"],
        &["-f", "x.json", "-L"],
        &["-f", "x.json", "--exclude=a"],
        &["-f", "x.json", "-o", "-"],
        &["-f", "x.json", "--dups"],
    ] {
        let run = t.fdu(args);
        assert_eq!(run.code, 2, "{}: {}", run.cmd, run.err_text());
        assert!(
            run.err_text().contains("-f"),
            "{}: {}",
            run.cmd,
            run.err_text()
        );
    }
}

#[test]
fn the_other_outputs_read_an_export_as_a_scan() {
    let t = tree();
    let run = t.fdu(&["-o", "x.json", "t"]);
    assert_eq!(run.code, 0, "{}", run.err_text());
    for opts in [
        &["--top", "3"][..],
        &["--top", "5", "-a", "-b"],
        &["--format", "prometheus", "-d", "1"],
    ] {
        let mut scan = opts.to_vec();
        scan.push("t");
        let mut read = opts.to_vec();
        read.extend(["-f", "x.json"]);
        let (a, b) = (t.fdu(&scan), t.fdu(&read));
        assert_eq!(b.code, 0, "{}: {}", b.cmd, b.err_text());
        // Prometheus's scan-level gauges differ (duration, time, entries).
        let keep = |out: &[u8]| -> Vec<String> {
            String::from_utf8_lossy(out)
                .lines()
                .filter(|l| !l.contains("fdu_scan_") && !l.contains("fdu_last_scan"))
                .map(str::to_string)
                .collect()
        };
        assert_eq!(keep(&a.stdout), keep(&b.stdout), "{opts:?}");
    }
    for opts in [&["--json"][..], &["--json", "-a", "-d", "2"]] {
        let mut scan = opts.to_vec();
        scan.push("t");
        let mut read = opts.to_vec();
        read.extend(["-f", "x.json"]);
        let doc = |run: Run| -> serde_json::Value {
            assert_eq!(run.code, 0, "{}: {}", run.cmd, run.err_text());
            serde_json::from_slice(&run.stdout).expect("JSON")
        };
        let (a, b) = (doc(t.fdu(&scan)), doc(t.fdu(&read)));
        for key in ["arguments", "total", "roots", "errors"] {
            assert_eq!(a[key], b[key], "{opts:?}: {key}");
        }
        assert_eq!(b["scan"]["backend"], "export");
    }
}
