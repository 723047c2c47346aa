//! Diagnostics and exit codes: missing arguments, bad usage, unreadable
//! directories, dangling symlinks under -L, closed pipes, write errors, and
//! NUL-terminated output.
mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::*;

fn two_dirs() -> Tree {
    let t = Tree::new();
    t.mkdir("t/a/sub");
    t.mkdir("t/b");
    t.file("t/a/f", 3000);
    t.file("t/a/sub/g", 10);
    t.file("t/b/h", 20000);
    t
}

#[test]
fn missing_argument_among_good_ones() {
    let t = two_dirs();
    let mut f = Failures::default();
    for paths in [
        &["t/a", "nosuch", "t/b"][..],
        &["nosuch"],
        &["t/a", "nosuch/deeper", "t/b"],
    ] {
        for opts in [&["-s"][..], &["-a"], &["-c", "-s"], &["-L", "-s"]] {
            f.add(t.check(opts, paths, &How::default()));
        }
    }
    let r = t.fdu(&["-s", "t/a", "nosuch", "t/b"]);
    if r.code != 1 {
        f.push(format!("{}: exit {} (expected 1)", r.cmd, r.code));
    }
    if r.err_text() != "fdu: cannot access 'nosuch': No such file or directory\n" {
        f.push(format!("{}: stderr {:?}", r.cmd, r.err_text()));
    }
    let lines: Vec<Vec<u8>> = records(&r.stdout, b'\n');
    let paths: Vec<&[u8]> = lines.iter().map(|l| path_of(l)).collect();
    if paths != [b"t/a".as_slice(), b"t/b"] {
        f.push(format!(
            "{}: stdout {:?} (both good arguments, in order)",
            r.cmd,
            r.out_text()
        ));
    }
    f.finish("missing argument");
}

/// Bad options and values: exit 2 (du uses 1), nothing on stdout, stderr
/// in du's layout: `fdu: MESSAGE`, then du's `Try 'fdu --help' for more
/// information.` wherever du prints that line.
#[test]
fn usage_errors_exit_2_in_dus_words() {
    let t = two_dirs();
    // (arguments, whether GNU du rejects them too)
    let cases: &[(&[&str], bool)] = &[
        (&["--bogus", "t"], true),
        (&["-d", "x", "t"], true),
        (&["-d", "-1", "t"], true),
        (&["--max-depth=1x", "t"], true),
        (&["-s", "-a", "t"], true),
        (&["-s", "-d", "1", "t"], true),
        (&["-B", "0", "t"], true),
        (&["-B", "1x", "t"], true),
        (&["-B", "", "t"], true),
        (&["--block-size=-5", "t"], true),
        (&["-B", "99999999999999999999999", "t"], true),
        (&["-X", "no/such/patterns", "t"], true),
        (&["-Q", "t"], true),
        (&["--threads", "0", "t"], false),
        (&["-j", "0", "t"], false),
        (&["--threads", "many", "t"], false),
        (&["--threads", "-1", "t"], false),
        (&["--backend", "bogus", "t"], false),
        (&["--max-open-dirs", "0", "t"], false),
        (&["t", "-B"], true),
    ];
    let mut f = Failures::default();
    for (args, du_rejects) in cases {
        let r = t.fdu(args);
        let err = r.err_text();
        if r.code != 2 {
            f.push(format!(
                "{}: exit {} (expected 2); stderr {:?}",
                r.cmd, r.code, err
            ));
        }
        if !r.stdout.is_empty() {
            f.push(format!("{}: printed on stdout: {:?}", r.cmd, r.out_text()));
        }
        // du's layout: `fdu: MESSAGE`, then (for most) its hint line.
        let hint = "Try 'fdu --help' for more information.\n";
        let body = err.strip_suffix(hint).unwrap_or(&err);
        if !(body.starts_with("fdu: ") && body.ends_with('\n')) {
            f.push(format!(
                "{}: stderr is not 'fdu: ' and du's hint: {:?}",
                r.cmd, err
            ));
        }
        if *du_rejects {
            let d = t.du(args);
            let du_hint = d.err_text().ends_with(" --help' for more information.\n");
            if du_hint != (body.len() < err.len()) {
                f.push(format!(
                    "{}: hint line {:?}, du's {:?}",
                    r.cmd,
                    err,
                    d.err_text()
                ));
            }
        }
        if err.contains("panicked") {
            f.push(format!("{}: panicked: {err}", r.cmd));
        }
        if *du_rejects {
            let d = t.du(args);
            if d.code == 0 {
                f.push(format!("(harness) du accepts {args:?}"));
            }
        }
    }
    f.finish("usage errors");
}

/// du diagnoses an empty operand (`invalid zero-length file name`) like a
/// missing file: the other operands are still scanned and du exits 1.
#[test]
fn empty_operand_is_an_error_for_that_operand_only() {
    let t = two_dirs();
    let mut f = Failures::default();
    for paths in [&["", "t/a"][..], &["t/a", "", "t/b"]] {
        f.add(t.check(&["-s"], paths, &How::default()));
    }
    f.finish("empty operand");
}

#[test]
fn dangling_symlink_under_dereference() {
    let t = two_dirs();
    t.symlink("nowhere", "t/dang");
    t.symlink("../../nowhere", "t/a/sub/dang2");
    t.symlink("loop2", "t/loop1");
    t.symlink("loop1", "t/loop2");
    let mut f = Failures::default();
    let r = t.fdu(&["-L", "-s", "t/dang", "t/b"]);
    if r.code != 1 {
        f.push(format!("{}: exit {} (expected 1)", r.cmd, r.code));
    }
    if r.err_text() != "fdu: cannot access 't/dang'\n" {
        f.push(format!("{}: stderr {:?}", r.cmd, r.err_text()));
    }
    if records(&r.stdout, b'\n').len() != 1 {
        f.push(format!("{}: stdout {:?}", r.cmd, r.out_text()));
    }
    let r = t.fdu(&["-L", "-a", "t"]);
    if !r
        .err_text()
        .lines()
        .any(|l| l == "fdu: cannot access 't/a/sub/dang2'")
    {
        f.push(format!("{}: stderr {:?}", r.cmd, r.err_text()));
    }
    for opts in [
        &["-L", "-a"][..],
        &["-L", "-s"],
        &["-L", "-d", "1"],
        &["-a"],
        &["-H", "-a"],
    ] {
        f.add(t.check(opts, &["t"], &How::default()));
    }
    for paths in [&["t/dang"][..], &["t/loop1", "t/b"]] {
        for opts in [&["-L", "-s"][..], &["-H", "-s"], &["-s"]] {
            f.add(t.check(opts, paths, &How::default()));
        }
    }
    f.finish("dangling symlinks under -L");
}

#[test]
fn unreadable_directory() {
    let t = Tree::new();
    t.mkdir("t/ok/sub");
    t.file("t/ok/f", 3000);
    t.file("t/ok/sub/s", 100);
    t.mkdir("t/locked/inner");
    t.file("t/locked/inner/f", 5000);
    t.file("t/locked/g", 100);
    t.mkdir("t/ok/sub/locked2");
    t.file("t/ok/sub/locked2/x", 7000);
    t.mkdir("t/noexec/sub");
    t.file("t/noexec/g", 10);
    t.mkdir("t/searchonly/child");
    t.file("t/searchonly/child/f", 4000);
    let _guard = ModeGuard(vec![
        t.p("t/locked"),
        t.p("t/ok/sub/locked2"),
        t.p("t/noexec"),
        t.p("t/searchonly"),
    ]);
    chmod(&t.p("t/searchonly"), 0o311); // not listable, but its child is reachable
    chmod(&t.p("t/locked"), 0o000);
    chmod(&t.p("t/ok/sub/locked2"), 0o000);
    chmod(&t.p("t/noexec"), 0o644); // names readable, entries not reachable
    let Some(base) = unprivileged_how(&t) else {
        return;
    };
    let mut f = Failures::default();
    for fdu_opts in [
        &[][..],
        &["--threads", "1"],
        &["--backend", "std"],
        &["--backend", "std", "--threads", "8"],
        &["--threads", "8", "--max-open-dirs", "1"],
    ] {
        let how = How {
            fdu_opts: oss(fdu_opts),
            ..base.clone()
        };
        for opts in [
            &["-a"][..],
            &["-s"],
            &["-d", "1"],
            &["--inodes", "-a"],
            &["-a", "-b"],
        ] {
            f.add(t.check(opts, &["t"], &how));
        }
        f.add(t.check(&["-s", "-c"], &["t/locked", "t/ok"], &how));
        f.add(t.check(&["-a"], &["t/ok/sub/locked2"], &how));
        f.add(t.check(&["-a", "-c"], &["t/searchonly/child", "t/searchonly"], &how));
    }
    // The exact wording, once.
    let mut argv = base.wrapper.clone();
    argv.push(
        base.fdu_bin
            .clone()
            .unwrap_or_else(fdu_bin)
            .into_os_string(),
    );
    argv.extend(oss(&["-s", "t"]));
    let r = run_argv(&argv, t.cwd(), &[]);
    if r.code != 1 {
        f.push(format!("{}: exit {} (expected 1)", r.cmd, r.code));
    }
    for line in [
        "fdu: cannot read directory 't/locked': Permission denied",
        "fdu: cannot read directory 't/ok/sub/locked2': Permission denied",
    ] {
        if !r.err_text().lines().any(|l| l == line) {
            f.push(format!(
                "{}: no {line:?} in stderr {:?}",
                r.cmd,
                r.err_text()
            ));
        }
    }
    f.finish("unreadable directories");
}

/// Read one line of `fdu ARGS`, close the pipe, and return (exit code,
/// stderr).
fn read_one_line_then_close(t: &Tree, args: &[&str]) -> (i32, String, String) {
    let mut child = Command::new(fdu_bin())
        .args(args)
        .current_dir(t.cwd())
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn fdu");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line).unwrap();
    drop(reader);
    let out = child.wait_with_output().unwrap();
    use std::os::unix::process::ExitStatusExt;
    let code = out
        .status
        .code()
        .unwrap_or_else(|| 128 + out.status.signal().unwrap_or(0));
    (
        code,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        String::from_utf8_lossy(&line).into_owned(),
    )
}

/// `fdu -a BIG | head -1`: the reader goes away; fdu ends quietly, exit 0.
#[test]
fn closed_pipe_ends_quietly() {
    let t = wide(30_000); // ~600 KB of output, far more than a pipe holds
    let mut f = Failures::default();
    for args in [
        &["-a", "t"][..],
        &["-a", "--threads", "1", "t"],
        &["-a", "--threads", "8", "t"],
        &["-a", "--backend", "std", "t"],
        &["-a", "-0", "t"],
        &["-a", "-c", "t"],
    ] {
        let (code, err, line) = read_one_line_then_close(&t, args);
        if line.is_empty() {
            f.push(format!("fdu {args:?}: read nothing"));
        }
        if code != 0 {
            f.push(format!(
                "fdu {args:?}: exit {code} after the reader left (expected 0)"
            ));
        }
        if !err.is_empty() {
            f.push(format!("fdu {args:?}: stderr {:?}", shorten(&err, 300)));
        }
    }
    // The same through a shell pipeline into head.
    let script =
        r#"set -o pipefail; "$0" -a t | head -n 1 > /dev/null; echo "status=${PIPESTATUS[0]}""#;
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg(fdu_bin())
        .current_dir(t.cwd())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stdout.trim() != "status=0" || !stderr.is_empty() {
        f.push(format!(
            "fdu -a t | head -n 1: {stdout:?}, stderr {stderr:?}"
        ));
    }
    f.finish("closed pipe");
}

/// A write error that is not a closed pipe (a full disk) is reported and
/// fails the run, as in du (`du: write error: No space left on device`,
/// exit 1).
#[test]
fn write_error_exits_1() {
    let t = two_dirs();
    let mut f = Failures::default();
    for args in [&["-s", "t"][..], &["-a", "t"]] {
        for program in [PathBuf::from(DU), fdu_bin()] {
            let out = Command::new(&program)
                .args(args)
                .current_dir(t.cwd())
                .env("LC_ALL", "C")
                .stdout(std::fs::File::create("/dev/full").expect("open /dev/full"))
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            let name = program.file_name().unwrap().to_string_lossy().into_owned();
            if out.status.code() != Some(1) {
                f.push(format!(
                    "{name} {args:?} > /dev/full: {:?} (expected exit 1); stderr {err:?}",
                    out.status
                ));
            }
            let expected = if name == "fdu" {
                "fdu: write error"
            } else {
                "du: write error"
            };
            if !err
                .lines()
                .any(|l| l.starts_with(expected) || l.ends_with(&format!("/{expected}")))
            {
                f.push(format!("{name} {args:?} > /dev/full: stderr {err:?}"));
            }
        }
    }
    f.finish("write error");
}

/// `du >&-` says `write error: Bad file descriptor` and exits 1 (0 when it
/// has nothing to print, `-t` leaving every line out). Rust's runtime puts
/// `/dev/null` on a closed stdout, so fdu once printed into it and exited 0.
#[test]
fn closed_stdout_is_a_write_error_like_du() {
    let t = two_dirs();
    let mut f = Failures::default();
    for args in [
        &["-s", "t"][..],
        &["-a", "t"],
        &["-t", "1G", "t"],
        &["--dups", "t"],
    ] {
        let run = |program: PathBuf| {
            let mut argv = oss(&["sh", "-c", r#"exec "$@" >&-"#, "sh"]);
            argv.push(program.into_os_string());
            argv.extend(oss(args));
            run_argv(&argv, t.cwd(), &[])
        };
        let r = run(fdu_bin());
        let (code, err) = if args[0] == "--dups" {
            // Not a du option: fdu alone, and it has groups to print.
            (1, "fdu: write error: Bad file descriptor\n".to_string())
        } else {
            let d = run(PathBuf::from(DU));
            (d.code, d.err_text().replace(&format!("{DU}: "), "fdu: "))
        };
        if (r.code, r.err_text()) != (code, err.clone()) {
            f.push(format!(
                "{} >&-: exit {}, stderr {:?} (du: {code}, {err:?})",
                r.cmd,
                r.code,
                r.err_text()
            ));
        }
    }
    f.finish("closed stdout");
}

/// A stdout that is open on `/dev/null` read-write (Python's
/// `subprocess.DEVNULL`, systemd's `StandardOutput=null`, `1<>/dev/null`)
/// is not a closed one: the output goes there and the run succeeds, as
/// du's does.
#[test]
fn read_write_dev_null_stdout_is_not_closed() {
    let t = two_dirs();
    let mut f = Failures::default();
    for args in [&["-s", "t"][..], &["-a", "t"], &["--dups", "t"]] {
        let null = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
            .expect("open /dev/null read-write");
        let out = Command::new(fdu_bin())
            .args(args)
            .current_dir(t.cwd())
            .stdin(Stdio::null())
            .stdout(Stdio::from(null))
            .stderr(Stdio::piped())
            .output()
            .expect("run fdu");
        let err = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(0) || !err.is_empty() {
            f.push(format!(
                "fdu {args:?} 1<>/dev/null: exit {:?}, stderr {err:?} (expected 0, nothing)",
                out.status.code()
            ));
        }
    }
    f.finish("read-write /dev/null stdout");
}

#[test]
fn null_terminated_output() {
    let t = basic();
    let mut f = Failures::default();
    for opts in [
        &["-0", "-a"][..],
        &["-0", "-s", "-c"],
        &["--null", "-d", "1"],
    ] {
        let mut args = opts.to_vec();
        args.push("t");
        let r = t.fdu(&args);
        if r.code != 0 || r.stdout.last() != Some(&0) || r.stdout.contains(&b'\n') {
            f.push(format!(
                "{}: exit {}, output {:?}",
                r.cmd,
                r.code,
                shorten(&r.out_text(), 200)
            ));
        }
        let d = t.du(&args);
        if let Some(diff) = multiset_diff(
            "du",
            &sorted(records(&d.stdout, 0)),
            "fdu",
            &sorted(records(&r.stdout, 0)),
        ) {
            f.push(format!("{}:\n{diff}", r.cmd));
        }
    }
    let r = t.fdu(&["-0", "-s", "-c", "-b", "t/a.txt", "t/b.bin"]);
    if r.stdout != b"100\tt/a.txt\x005000\tt/b.bin\x005100\ttotal\x00" {
        f.push(format!("{}: {:?}", r.cmd, r.out_text()));
    }
    f.finish("-0 output");
}

#[test]
fn help_and_version() {
    let t = Tree::new();
    let r = t.fdu(&["--help"]);
    assert_eq!(r.code, 0, "{}", r.err_text());
    assert!(r.out_text().contains("Usage: fdu"), "{}", r.out_text());
    assert!(r.stderr.is_empty());
    let r = t.fdu(&["--version"]);
    assert_eq!(r.code, 0, "{}", r.err_text());
    assert!(r.out_text().starts_with("fdu "), "{}", r.out_text());
}

/// Names in diagnostics are quoted as du 9.1 quotes them (gnulib's
/// shell-escape style): `'a b'`, `"it's"`, `'no'$'\n''such'`,
/// `'x'$'\377''y'`. (Valid UTF-8 names are left out: du escapes them in the
/// C locale the tests run in, fdu assumes UTF-8.)
#[test]
fn diagnostics_quote_names_like_du() {
    let t = two_dirs();
    let mut f = Failures::default();
    for name in [
        &b"plain"[..],
        b"sp ace",
        b"it's",
        b"no\nsuch",
        b"tab\there",
        b"x\xffy",
        b"a\"b",
        b"$HOME",
        b"back\\slash",
        b"-dash",
        b"\x1b[31m",
    ] {
        let paths = vec![os([b"missing/".as_slice(), name].concat()), os("t/b")];
        f.add(t.check_os(&oss(&["-s"]), &paths, &How::default()));
    }
    f.finish("quoting in diagnostics vs du");
}
