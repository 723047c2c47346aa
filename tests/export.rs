//! `-o FILE`: the export in ncdu's JSON format, checked by ncdu and gdu
//! reading it, and by its totals against du.
mod common;

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::Path;

use common::*;

fn tree() -> Tree {
    export_tree()
}

/// The export without its header's time stamp (the rest must match).
fn body(export: &[u8]) -> Vec<u8> {
    let text = export;
    let end = text
        .iter()
        .position(|&b| b == b'}')
        .expect("a header object");
    text[end..].to_vec()
}

fn export(t: &Tree, args: &[&str]) -> Vec<u8> {
    let mut argv: Vec<&str> = vec!["-o", "-"];
    argv.extend(args);
    let run = t.fdu(&argv);
    assert_eq!(run.code, 0, "{}: {}", run.cmd, run.err_text());
    run.stdout
}

/// Sum an export the way ncdu does: every entry's sizes, a file with
/// `hlnkc` once per `(dev, ino)`, excluded entries not at all.
fn ncdu_totals(export: &[u8]) -> (u64, u64) {
    let text = String::from_utf8_lossy(export);
    let doc: serde_json::Value = serde_json::from_str(&text).expect("the export is JSON");
    let mut seen = HashSet::new();
    let (mut disk, mut apparent) = (0u64, 0u64);
    let mut stack = vec![(&doc[3], 0u64)];
    while let Some((item, dev)) = stack.pop() {
        let (info, items) = match item {
            serde_json::Value::Array(a) => (&a[0], &a[1..]),
            other => (other, &[][..]),
        };
        let dev = info["dev"].as_u64().unwrap_or(dev);
        if info.get("excluded").is_none() {
            let linked = info["hlnkc"].as_bool() == Some(true);
            if !linked || seen.insert((dev, info["ino"].as_u64().expect("ino"))) {
                disk += info["dsize"].as_u64().unwrap_or(0);
                apparent += info["asize"].as_u64().unwrap_or(0);
            }
        }
        stack.extend(items.iter().map(|i| (i, dev)));
    }
    (disk, apparent)
}

fn du_total(t: &Tree, args: &[&str]) -> u64 {
    let run = t.du(args);
    let line = String::from_utf8_lossy(&run.stdout).into_owned();
    line.split('\t')
        .next()
        .unwrap()
        .trim()
        .parse()
        .expect("du prints a number")
}

#[test]
fn totals_counted_ncdus_way_equal_du() {
    let t = tree();
    for (opts, du_opts) in [
        (&[][..], &[][..]),
        (&["--exclude=deep*"][..], &["--exclude=deep*"][..]),
        (&["-L"][..], &["-L"][..]),
    ] {
        let mut args = opts.to_vec();
        args.push("t");
        let out = export(&t, &args);
        let (disk, apparent) = ncdu_totals(&out);
        let mut du_args = vec!["-s", "-B1"];
        du_args.extend(du_opts);
        du_args.push("t");
        assert_eq!(disk, du_total(&t, &du_args), "disk, {opts:?}");
        let mut du_args = vec!["-s", "-b"];
        du_args.extend(du_opts);
        du_args.push("t");
        assert_eq!(apparent, du_total(&t, &du_args), "apparent, {opts:?}");
    }
}

#[test]
fn the_same_bytes_from_every_backend_and_thread_count() {
    let t = tree();
    let first = body(&export(&t, &["-j", "1", "--backend", "std", "t"]));
    for backend in ["linux", "uring", "std"] {
        for threads in ["1", "2", "8"] {
            let run = t.fdu(&["-o", "-", "-j", threads, "--backend", backend, "t"]);
            if backend == "uring" && run.code != 0 && run.err_text().contains("io_uring") {
                eprintln!("SKIPPED: uring: {}", run.err_text());
                continue;
            }
            assert_eq!(run.code, 0, "{}: {}", run.cmd, run.err_text());
            assert!(
                body(&run.stdout) == first,
                "{} differs from -j 1 --backend std",
                run.cmd
            );
        }
    }
}

#[test]
fn ncdu_reads_the_export_and_writes_it_back_the_same() {
    if !have_tool("ncdu") {
        eprintln!("SKIPPED: ncdu is not installed");
        return;
    }
    let t = tree();
    for extended in [false, true] {
        let file = t.p("export.json");
        let mut args = vec!["-o", "export.json", "t"];
        if extended {
            args.insert(0, "-e");
        }
        let run = t.fdu(&args);
        assert_eq!(run.code, 0, "{}", run.err_text());
        let ours = std::fs::read(&file).expect("the export was written");
        assert!(ours.starts_with(b"[1,2,{\"progname\":\"fdu\""));
        let mut again = vec![OsString::from("ncdu"), "-f".into(), file.clone().into()];
        if extended {
            again.push("-e".into());
        }
        again.extend(["-o".into(), "-".into()]);
        let back = run_argv(&again, t.cwd(), &[]);
        assert_eq!(back.code, 0, "{}: {}", back.cmd, back.err_text());
        // ncdu writes a directory's items in its own order: compare the
        // trees with every directory's items sorted.
        assert_eq!(
            canonical(&back.stdout),
            canonical(&ours),
            "ncdu's re-export differs (extended: {extended})"
        );
    }
}

/// The export's tree (without the header), each directory's items sorted.
fn canonical(export: &[u8]) -> String {
    fn walk(v: &serde_json::Value) -> String {
        match v {
            serde_json::Value::Array(a) => {
                let mut items: Vec<String> = a[1..].iter().map(walk).collect();
                items.sort();
                format!("[{}|{}]", a[0], items.join(","))
            }
            other => other.to_string(),
        }
    }
    let text = String::from_utf8_lossy(export);
    let doc: serde_json::Value = serde_json::from_str(&text).expect("an export is JSON");
    walk(&doc[3])
}

#[test]
fn gdu_reads_the_export() {
    if !have_tool("gdu") {
        eprintln!("SKIPPED: gdu is not installed");
        return;
    }
    let t = tree();
    let run = t.fdu(&["-o", "export.json", "t"]);
    assert_eq!(run.code, 0, "{}", run.err_text());
    for apparent in [false, true] {
        let gdu = |input: &[&str]| {
            let mut argv = oss(&["gdu", "-n", "-p", "-s"]);
            if apparent {
                argv.push("-a".into());
            }
            argv.extend(input.iter().map(OsString::from));
            let r = run_argv(&argv, t.cwd(), &[]);
            assert_eq!(r.code, 0, "{}: {}", r.cmd, r.err_text());
            r.out_text()
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        };
        let read = gdu(&["-f", "export.json"]);
        let scanned = gdu(&["t"]);
        assert_eq!(
            read, scanned,
            "gdu's total of the export (apparent: {apparent})"
        );
    }
}

#[test]
fn excluded_and_other_file_system_entries_are_marked() {
    let t = tree();
    let out = export(&t, &["--exclude=deep", "t"]);
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains("{\"name\":\"deep\",\"excluded\":\"pattern\"}"),
        "{text}"
    );
    assert!(!text.contains("\"two\""), "{text}");
}

#[test]
fn unreadable_directories_are_marked_and_reported() {
    let t = tree();
    t.mkdir("t/locked/inner");
    t.file("t/locked/inner/f", 5000);
    let locked = t.p("t/locked");
    let mut argv = Vec::new();
    if is_root() {
        if !have_tool("setpriv") {
            eprintln!("SKIPPED: running as root and setpriv (util-linux) is not installed");
            return;
        }
        argv.extend(oss(&[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ]));
        for dir in [t.cwd().to_path_buf(), t.p("t")] {
            chmod_r(&dir, 0o755);
        }
    }
    set_mode(&locked, 0o000);
    argv.push(fdu_bin().into_os_string());
    argv.extend(oss(&["-o", "-", "t"]));
    let run = run_argv(&argv, t.cwd(), &[]);
    set_mode(&locked, 0o755);
    if is_root() && run.code != 1 && run.err_text().contains("Permission denied") {
        eprintln!("SKIPPED: uid 65534 cannot reach the tree");
        return;
    }
    assert_eq!(run.code, 1, "{}: {}", run.cmd, run.err_text());
    assert!(
        run.err_text()
            .contains("cannot read directory 't/locked': Permission denied"),
        "{}",
        run.err_text()
    );
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        text.contains("[{\"name\":\"locked\",\"asize\":4096,\"dsize\":4096,\"read_error\":true}]"),
        "{text}"
    );
    // What could be read is all there.
    assert!(text.contains("\"three\""), "{text}");
}

#[test]
fn bad_requests_are_clear_errors() {
    let t = tree();
    t.file("plain", 10);
    for (args, code, message) in [
        (&["-o", "-", "t", "t/a"][..], 2, "-o exports one directory"),
        (&["-e", "t"][..], 2, "--extended requires -o"),
        (
            &["-o", "-", "--dups", "t"][..],
            2,
            "cannot be combined with --dups",
        ),
        (
            &["-o", "-", "-s", "t"][..],
            2,
            "--summarize does not apply to -o",
        ),
        (
            &["-o", "-", "plain"][..],
            1,
            "cannot export 'plain': Not a directory",
        ),
        (&["-o", "-", "missing"][..], 1, "cannot access 'missing'"),
        (
            &["-o", "no/such/dir/x.json", "t"][..],
            1,
            "cannot create 'no/such/dir/x.json'",
        ),
    ] {
        let run = t.fdu(args);
        assert_eq!(run.code, code, "{}: {}", run.cmd, run.err_text());
        assert!(
            run.err_text().contains(message),
            "{}: {}",
            run.cmd,
            run.err_text()
        );
        assert!(run.stdout.is_empty(), "{}", run.cmd);
    }
    assert!(!t.p("no").exists());
}

#[test]
fn a_file_is_replaced_whole_and_readable() {
    let t = tree();
    std::fs::write(t.p("x.json"), b"old").expect("write");
    let run = t.fdu(&["-o", "x.json", "t"]);
    assert_eq!(run.code, 0, "{}", run.err_text());
    let text = std::fs::read(t.p("x.json")).expect("read");
    assert!(text.ends_with(b"]]\n"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(t.p("x.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644);
    // No temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(t.cwd())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with(".fdu-export"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn chmod_r(path: &Path, mode: u32) {
    set_mode(path, mode);
}

#[test]
fn a_spilling_export_is_whole_under_a_small_descriptor_limit() {
    if !have_tool("prlimit") {
        eprintln!("SKIPPED: prlimit (util-linux) is not installed");
        return;
    }
    // More than the 1 MiB a worker keeps before spilling, with one worker.
    let t = Tree::new();
    for d in 0..20 {
        t.mkdir(format!("t/d{d:02}"));
        for f in 0..1000 {
            t.file(
                format!("t/d{d:02}/a-file-with-a-much-longer-name-{f:05}"),
                1,
            );
        }
    }
    let whole = export(&t, &["-j", "1", "t"]);
    assert!(
        whole.len() > (1 << 20) + (64 << 10),
        "{} bytes: too small to spill",
        whole.len()
    );
    for limit in ["--nofile=8", "--nofile=12"] {
        for threads in ["1", "4"] {
            let argv: Vec<std::ffi::OsString> =
                ["prlimit".into(), limit.into(), fdu_bin().into_os_string()]
                    .into_iter()
                    .chain(oss(&["-o", "-", "-j", threads, "t"]))
                    .collect();
            let run = run_argv(&argv, t.cwd(), &[]);
            assert_eq!(run.code, 0, "{}: {}", run.cmd, run.err_text());
            assert!(body(&run.stdout) == body(&whole), "{} differs", run.cmd);
        }
    }
}
