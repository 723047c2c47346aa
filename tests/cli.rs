//! du's command line, all of it: `-S`, `-t`, `--time`/`--time-style`,
//! `--files0-from`, abbreviated long options, du's usage messages and
//! warnings, environment block sizes out of range, `--help`, `--version`,
//! shell completions and the man page. Differential against GNU du
//! wherever du is the reference.
mod common;

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

fn env_how(env: &[(&str, &str)]) -> How {
    How {
        env: env
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect(),
        ..How::default()
    }
}

/// A tree with files at several depths, a hard link, an empty directory
/// and a sparse-ish mix of sizes.
fn nested() -> Tree {
    let t = Tree::new();
    t.mkdir("t/a/b/c");
    t.mkdir("t/a/e");
    t.mkdir("t/d");
    t.file("t/f", 100);
    t.file("t/a/g", 5000);
    t.file("t/a/b/h", 20000);
    t.file("t/a/b/c/i", 9000);
    t.file("t/a/b/c/j", 1);
    t.file("t/d/k", 70000);
    t.hardlink("t/a/b/h", "t/d/h2");
    t
}

/// `-S` was missing: a directory's size must leave out its
/// subdirectories (du's `dulvl[].ent`), at every print depth, while `-c`
/// still counts everything.
#[test]
fn separate_dirs_excludes_subdirectories_like_du() {
    let t = nested();
    let mut f = Failures::default();
    for opts in [
        &["-S"][..],
        &["-S", "-s"],
        &["-S", "-d", "1"],
        &["-S", "-d", "2", "-c"],
        &["-S", "-a"],
        &["-S", "-a", "-d", "1"],
        &["-S", "--inodes"],
        &["-S", "--inodes", "-s", "-c"],
        &["-S", "-c", "--apparent-size"],
        &["-S", "-l", "-b"],
        &["--separate-dirs", "-h", "-c"],
        &["-S", "-x", "-d", "0"],
    ] {
        f.add(t.check(opts, &["t"], &How::totals()));
        f.add(t.check(opts, &["t/a", "t/d"], &How::totals()));
    }
    // Per-directory lines (the hard link is charged to t/a/b/h in both).
    for opts in [&["-S"][..], &["-S", "-d", "1"], &["-S", "-a", "-c"]] {
        f.add(t.check(opts, &["t"], &How::default()));
    }
    f.finish("-S vs du");
}

/// `-S` under `-L`: symlinked directories are walked apart (see walk.rs'
/// `Deferred`) and must keep their own nodes too.
#[test]
fn separate_dirs_with_dereferenced_symlinks() {
    let t = nested();
    t.symlink("a/b", "t/lb");
    t.symlink("../d", "t/a/ld");
    let mut f = Failures::default();
    for opts in [
        &["-S", "-L"][..],
        &["-S", "-L", "-s", "-c"],
        &["-S", "-L", "-d", "1"],
    ] {
        f.add(t.check(opts, &["t"], &How::totals()));
    }
    f.finish("-S -L vs du");
}

/// `-t` was missing: entries below (or, negative, above) the threshold are
/// not printed; totals are.
#[test]
fn threshold_filters_printed_entries_like_du() {
    let t = nested();
    let mut f = Failures::default();
    for opts in [
        &["-t", "5K"][..],
        &["-t", "-5K"],
        &["-t", "0"],
        &["-t", "1"],
        &["-t", "-1"],
        &["-a", "-t", "8K"],
        &["-a", "-t", "-8K", "-c"],
        &["--threshold=20KB", "-a"],
        &["-t", "K", "-a", "-b"],
        &["--inodes", "-t", "3"],
        &["--inodes", "-t", "-2", "-a"],
        &["-t", "1M", "-c"],
        &["-t", "0x1000", "-a"],
        &["-t", "010", "-a", "-b"],
        &["-S", "-t", "8K"],
        &["-s", "-t", "-1"],
    ] {
        f.add(t.check(opts, &["t"], &How::default()));
    }
    f.finish("-t vs du");
}

/// A run's stderr with the program's name replaced by `PROG`.
fn err_words(r: &Run) -> String {
    r.err_text()
        .lines()
        .map(|line| {
            // GNU tools name themselves by argv[0] as given.
            let line = line
                .replace("'fdu --help'", "'PROG --help'")
                .replace(&format!("'{DU} --help'"), "'PROG --help'");
            for name in ["fdu: ".to_string(), format!("{DU}: ")] {
                if let Some(rest) = line.strip_prefix(name.as_str()) {
                    return format!("PROG: {rest}\n");
                }
            }
            format!("{line}\n")
        })
        .collect()
}

/// A usage error: fdu exits 2 with `fdu: ` messages and no output; du
/// rejects the same command line; with `same_words`, fdu's stderr is du's
/// (program name aside), hint line included.
fn check_usage(t: &Tree, args: &[&str], same_words: bool) -> Result<(), String> {
    let r = t.fdu(args);
    let d = t.du(args);
    let mut problems = Vec::new();
    if r.code != 2 {
        problems.push(format!("exit {} (expected 2)", r.code));
    }
    if !r.stdout.is_empty() {
        problems.push(format!("stdout {:?}", r.out_text()));
    }
    let err = r.err_text();
    if !err.starts_with("fdu: ") {
        problems.push(format!("stderr does not start with 'fdu: ': {err:?}"));
    }
    if d.code == 0 {
        problems.push("(harness) du accepts it".to_string());
    }
    if same_words && err_words(&r) != err_words(&d) {
        problems.push(format!(
            "words differ: du {:?} fdu {:?}",
            err_words(&d),
            err_words(&r)
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}: {}", r.cmd, problems.join("; ")))
    }
}

/// `-t` values are read as gnulib's `xstrtoimax` reads them, and refused
/// in `xstrtol_fatal`'s words (naming `-t` or `--threshold` as written).
#[test]
fn threshold_errors_in_du_words() {
    let t = nested();
    let mut f = Failures::default();
    for args in [
        &["-t", "x", "t"][..],
        &["-t", "1x", "t"],
        &["-t", "1b", "t"],
        &["-t", "1R", "t"],
        &["-t", "1Q", "t"],
        &["-t", "1Y", "t"],
        &["-t", "-0", "t"],
        &["-t", "-0K", "t"],
        &["-t", "", "t"],
        &["--threshold=x", "t"],
        &["--thresh=1Z", "t"],
        &["--threshold", "99999999999999999999", "t"],
        &["-t8E", "t"],
        &["-t", "1KQ", "t"],
    ] {
        f.add(check_usage(&t, args, true));
    }
    f.finish("-t errors vs du");
}

/// Long options may be abbreviated as in every GNU tool; an exact name
/// wins over longer ones (`--time` vs `--time-style`).
#[test]
fn abbreviated_long_options_mean_what_du_means() {
    let t = nested();
    let mut f = Failures::default();
    for opts in [
        &["--summ"][..],
        &["--app", "--summarize"],
        &["--max=1"],
        &["--max-d", "1"],
        &["--si", "-s"],
        &["--human", "--all"],
        &["--by", "-s"],
        &["--count", "--ino", "-s"],
        &["--thr=8K"],
        &["--null", "-s"],
        &["--one", "-s"],
        &["--exclude-f=/dev/null", "-s"],
        &["--no-d", "-s"],
        &["--dereference-a", "-s"],
    ] {
        f.add(t.check(opts, &["t"], &How::default()));
    }
    f.add(t.check(&["--sep", "--tot"], &["t/a", "t/d"], &How::default()));
    f.finish("abbreviations vs du");
}

/// getopt's messages, word for word (`--s` is ambiguous, `--sum=3` takes
/// no argument, `-Q` is invalid...), as one line and exit status 2.
#[test]
fn option_errors_use_getopts_words() {
    let t = nested();
    let mut f = Failures::default();
    for args in [
        &["--s", "t"][..],
        &["--a", "t"],
        &["--d", "t"],
        &["--ti", "t"],
        &["--e=x", "t"],
        &["--excl=*g", "t"],
        &["--ex", "x", "t"],
        &["--foo", "t"],
        &["--foo=bar", "t"],
        &["--sum=3", "t"],
        &["--all=", "t"],
        &["-Q", "t"],
        &["-sQ", "t"],
        &["t", "-d"],
        &["t", "--threshold"],
        &["t", "--files0-from"],
        &["-B", "0", "t"],
        &["--block-size=0", "t"],
        &["--bl=1x", "t"],
        &["-B", "1Y", "t"],
    ] {
        f.add(check_usage(&t, args, true));
    }
    f.finish("getopt messages vs du");
}

/// `--inodes` makes `--apparent-size` and `-b` moot: du warns, and so
/// does fdu, in du's words.
#[test]
fn inodes_with_apparent_size_warns_like_du() {
    let t = nested();
    let mut f = Failures::default();
    for opts in [
        &["--inodes", "-b", "-s"][..],
        &["--inodes", "--apparent-size"],
        &["-b", "--inodes", "--apparent-size", "-s"],
        &["--inodes", "-s"],
    ] {
        f.add(t.check(opts, &["t"], &How::default()));
    }
    f.finish("--inodes warning vs du");
}

/// Block sizes in the environment that du cannot parse are not errors:
/// du keeps what `xstrtoumax` left (`1Q` is 1-byte blocks, `1Y` the
/// largest block size), or its default.
#[test]
fn environment_block_sizes_out_of_range_behave_as_in_du() {
    let t = nested();
    let mut f = Failures::default();
    for value in [
        "1Q", "1R", "1Y", "1Z", "16E", "17E", "1E", "1x", "3x", "KQ", "-1", "x", "0",
    ] {
        for var in ["DU_BLOCK_SIZE", "BLOCK_SIZE"] {
            for opts in [&["-s"][..], &["-a", "-b"], &["--si", "-s"]] {
                if let Err(e) = t.check(opts, &["t"], &env_how(&[(var, value)])) {
                    f.push(format!("{var}={value}: {e}"));
                }
            }
        }
    }
    f.finish("environment block sizes vs du");
}

/// Run `argv` in `cwd` with `env` and `stdin`, the unit and time
/// variables cleared, in the C locale.
fn run_with(program: &Path, args: &[&str], cwd: &Path, env: &[(&str, &str)], stdin: &[u8]) -> Run {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "DU_BLOCK_SIZE",
        "BLOCK_SIZE",
        "BLOCKSIZE",
        "POSIXLY_CORRECT",
        "TIME_STYLE",
        "TZ",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("LC_ALL", "C").env("LANG", "C");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin).expect("write stdin");
    drop(input);
    let out = child.wait_with_output().expect("wait");
    Run {
        code: out.status.code().unwrap_or(128),
        stdout: out.stdout,
        stderr: out.stderr,
        cmd: format!("{} {}", program.display(), args.join(" ")),
    }
}

/// Compare fdu with du for one command line: exit status (du's 1 for a
/// usage error is fdu's 2), stdout as sorted records, stderr as sorted
/// lines without the program name.
fn same_as_du(t: &Tree, args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Result<(), String> {
    let d = run_with(Path::new(DU), args, t.cwd(), env, stdin);
    let r = run_with(&fdu_bin(), args, t.cwd(), env, stdin);
    let term = if args.contains(&"-0") { 0 } else { b'\n' };
    let mut problems = Vec::new();
    if d.code != r.code {
        problems.push(format!("exit: du {} fdu {}", d.code, r.code));
    }
    let dl = sorted(records(&d.stdout, term));
    let fl = sorted(records(&r.stdout, term));
    if let Some(diff) = multiset_diff("du", &dl, "fdu", &fl) {
        problems.push(format!("stdout differs:\n{diff}"));
    }
    let de = normalized_stderr(&d.stderr);
    let fe = normalized_stderr(&r.stderr);
    if let Some(diff) = multiset_diff("du", &de, "fdu", &fe) {
        problems.push(format!("stderr differs:\n{diff}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fdu {} (env {env:?}):\n    {}",
            args.join(" "),
            problems.join("\n    ")
        ))
    }
}

/// Set `rel`'s access and modification times (`touch -d`).
fn touch(t: &Tree, rel: &str, when: &str) {
    let ok = Command::new("touch")
        .args(["-h", "-d", when])
        .arg(t.p(rel))
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "touch -d {when} {rel}");
}

/// A tree whose times are known: the latest modification is deep down,
/// with nanoseconds; one file predates 1970.
fn timed() -> Tree {
    let t = nested();
    t.symlink("a", "t/ln");
    for (rel, when) in [
        ("t/f", "2001-02-03 04:05:06.123456789 UTC"),
        ("t/a/g", "1969-07-20 20:17:40 UTC"),
        ("t/a/b/h", "2010-06-30 23:59:59.5 UTC"),
        ("t/a/b/c/i", "2024-03-31 01:30:00.000000001 UTC"),
        ("t/a/b/c/j", "2024-10-27 00:59:59 UTC"),
        ("t/d/k", "1999-12-31 23:59:59.999999999 UTC"),
        ("t/ln", "2030-01-01 00:00:00 UTC"),
        ("t/a/b/c", "2000-01-01 00:00:00 UTC"),
        ("t/a/b", "2000-01-01 00:00:00 UTC"),
        ("t/a/e", "2000-01-01 00:00:00 UTC"),
        ("t/a", "2000-01-01 00:00:00 UTC"),
        ("t/d", "2000-01-01 00:00:00 UTC"),
        ("t", "2000-01-01 00:00:00 UTC"),
    ] {
        touch(&t, rel, when);
    }
    t
}

const ZONES: &[&str] = &[
    "UTC0",
    "Asia/Kolkata",
    "America/St_Johns",
    "Europe/Berlin",
    "XYZ-3:30",
    "Australia/Lord_Howe",
];

/// `--time` was missing: each line shows the latest modification time of
/// anything below it, in the local zone (TZ), in du's styles.
#[test]
fn time_column_matches_du_in_several_zones() {
    let t = timed();
    let mut f = Failures::default();
    for zone in ZONES {
        for args in [
            &["--time", "t"][..],
            &["--time", "-a", "--time-style=full-iso", "t"],
            &["--time", "-s", "--time-style=long-iso", "t"],
            &["--time", "-d1", "--time-style=iso", "t"],
            &[
                "--time",
                "-a",
                "--time-style=+%s.%N %:z %::z %:::z %Z %z",
                "t",
            ],
            &[
                "--time",
                "-a",
                "--time-style=+%c|%x|%X|%a %A %b %B|%e|%j|%U|%G|%V|%u|%q|%3N|%-m|%_d|%^a|%%N",
                "t",
            ],
            &["--time", "-S", "--time-style=full-iso", "t"],
            &["--time", "-c", "--time-style=full-iso", "t/a", "t/d"],
            &["--time", "-L", "-s", "--time-style=full-iso", "t"],
            &["--time", "-0", "-a", "t"],
            &["--time", "--time-style=+", "-s", "t"],
        ] {
            f.add(same_as_du(&t, args, &[("TZ", zone)], b""));
        }
    }
    f.finish("--time vs du");
}

/// `--time=WORD` picks the access or status change time (argmatch:
/// abbreviations of one meaning are fine).
#[test]
fn time_word_selects_atime_or_ctime_like_du() {
    let t = timed();
    // Reading a directory may update its atime once (relatime): let that
    // happen before the comparison.
    du_s(t.cwd(), &["-a", "t"]);
    fdu_s(t.cwd(), &["-a", "t"]);
    let mut f = Failures::default();
    for word in [
        "atime", "access", "use", "ctime", "status", "a", "c", "s", "u",
    ] {
        let opt = format!("--time={word}");
        f.add(same_as_du(
            &t,
            &[&opt, "-a", "--time-style=full-iso", "t"],
            &[("TZ", "UTC0")],
            b"",
        ));
    }
    f.finish("--time=WORD vs du");
}

/// `TIME_STYLE` is read only without `--time-style`: `posix-` prefixes
/// are dropped, `locale` means long-iso, a `+FORMAT` ends at a newline.
#[test]
fn time_style_environment_like_du() {
    let t = timed();
    let mut f = Failures::default();
    for style in [
        "full-iso",
        "posix-full-iso",
        "posix-posix-iso",
        "locale",
        "+%Y\n%m",
        "+%H:%M:%S.%6N",
        "iso",
        "long",
    ] {
        for args in [
            &["--time", "-s", "t"][..],
            &["--time", "--time-style=iso", "-s", "t"],
        ] {
            f.add(same_as_du(
                &t,
                args,
                &[("TZ", "Asia/Kolkata"), ("TIME_STYLE", style)],
                b"",
            ));
        }
    }
    // A newline in --time-style itself is kept.
    f.add(same_as_du(
        &t,
        &["--time", "--time-style=+%Y\n%m", "-s", "t"],
        &[("TZ", "UTC0")],
        b"",
    ));
    // --time-style alone changes nothing.
    f.add(same_as_du(&t, &["--time-style=bogus", "-s", "t"], &[], b""));
    f.finish("TIME_STYLE vs du");
}

/// Bad `--time` words and styles are usage errors, as in du.
#[test]
fn time_errors_are_usage_errors() {
    let t = timed();
    let mut f = Failures::default();
    for args in [
        &["--time=bogus", "t"][..],
        &["--time=", "t"],
        &["--time=birth", "t"],
        &["--time", "--time-style=bogus", "t"],
        &["--time", "--time-style=", "t"],
        &["--time", "--time-style=posix-iso", "t"],
        &["--time", "--time-style=locale", "t"],
    ] {
        f.add(check_usage(&t, args, true));
    }
    f.finish("--time errors");
}

/// `--files0-from` was missing: names come NUL-separated from a file or
/// stdin; empty names are reported with their record number.
#[test]
fn files0_from_reads_names_like_du() {
    let t = nested();
    let list = t.p("list");
    let write = |bytes: &[u8]| std::fs::write(&list, bytes).expect("write list");
    let mut f = Failures::default();
    for (names, opts) in [
        (&b"t/a\0t/d\0"[..], &["-s"][..]),
        (b"t/a\0\0t/d", &["-s", "-c"]),
        (b"t", &["-a"]),
        (b"t/a\0nosuch\0t/f\0", &["-c"]),
        (b"", &["-c"]),
        (b"\0", &["-s"]),
        (b"t\0t/a\0", &["-s"]),
        (b"-\0t/d\0", &["-s"]),
    ] {
        write(names);
        let mut args = vec!["--files0-from=list"];
        args.extend_from_slice(opts);
        f.add(same_as_du(&t, &args, &[], b""));
        let mut args = vec!["--files0-from", "-"];
        args.extend_from_slice(opts);
        f.add(same_as_du(&t, &args, &[], names));
    }
    f.add(same_as_du(&t, &["--files0-from=nosuch", "-s"], &[], b""));
    f.add(same_as_du(&t, &["--files0-from=t", "-s"], &[], b""));
    f.add(same_as_du(&t, &["--files0", "list", "-s"], &[], b""));
    // Operands cannot be combined with it: a usage error.
    f.add(check_usage(&t, &["--files0-from=list", "t"], true));
    f.finish("--files0-from vs du");
}

/// The long options clap knows, hidden ones aside.
fn long_options() -> Vec<String> {
    fdu::cli::command()
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect()
}

/// `--help` is du's text for du's options (every du option line appears
/// as du prints it), then fdu's own; every option clap knows is listed.
#[test]
fn help_lists_every_option_in_dus_layout() {
    let t = Tree::new();
    let ours = t.fdu(&["--help"]);
    let du = t.du(&["--help"]);
    assert_eq!(ours.code, 0);
    let text = ours.out_text();
    let mut f = Failures::default();
    for long in long_options() {
        if !text.contains(&format!("--{long}")) {
            f.push(format!("--help does not mention --{long}"));
        }
    }
    // du's option lines, verbatim (with "device usage" as du words it).
    let du_text = du.out_text();
    let start = du_text.find("  -0, --null").expect("du's option list");
    let end = du_text.find("      --help").expect("du's --help line");
    for line in du_text[start..end].lines() {
        if !text.lines().any(|l| l == line) {
            f.push(format!("du's help line missing: {line:?}"));
        }
    }
    for line in text.lines() {
        if line.chars().count() > 80 {
            f.push(format!("help line over 80 columns: {line:?}"));
        }
    }
    if !text
        .starts_with("Usage: fdu [OPTION]... [FILE]...\n  or:  fdu [OPTION]... --files0-from=F\n")
    {
        f.push(format!(
            "usage lines: {:?}",
            text.lines().take(2).collect::<Vec<_>>()
        ));
    }
    f.finish("--help");
}

/// `--version` as GNU tools print it.
#[test]
fn version_names_program_package_and_license() {
    let t = Tree::new();
    let r = t.fdu(&["--version"]);
    assert_eq!(r.code, 0);
    let text = r.out_text();
    let first = text.lines().next().unwrap_or_default();
    assert_eq!(first, format!("fdu (fdu) {}", env!("CARGO_PKG_VERSION")));
    assert!(text.contains("There is NO WARRANTY, to the extent permitted by law."));
    // Abbreviated, as getopt allows.
    assert_eq!(t.fdu(&["--vers"]).stdout, r.stdout);
}

/// The completion scripts and the man page come from the same clap
/// definition as the parser: each names every long option.
#[test]
fn completions_and_man_page_cover_every_option() {
    let t = Tree::new();
    let mut f = Failures::default();
    let longs = long_options();
    for shell in ["bash", "zsh", "fish"] {
        let r = t.fdu(&["--completions", shell]);
        if r.code != 0 || r.stdout.is_empty() {
            f.push(format!(
                "--completions {shell}: exit {} {}",
                r.code,
                r.err_text()
            ));
            continue;
        }
        let text = r.out_text();
        for long in &longs {
            // fish writes `-l name`, the others `--name`.
            let found = text.contains(&format!("--{long}")) || text.contains(&format!("-l {long}"));
            if !found {
                f.push(format!("{shell} completion lacks --{long}"));
            }
        }
    }
    let man = t.fdu(&["--man"]);
    let text = man.out_text();
    if man.code != 0 || !text.contains(".TH fdu 1") {
        f.push(format!(
            "--man: exit {} {:?}",
            man.code,
            text.lines().next()
        ));
    }
    for long in &longs {
        // roff escapes hyphens: \-\-name.
        let escaped = format!("\\-\\-{}", long.replace('-', "\\-"));
        if !text.contains(&escaped) {
            f.push(format!("man page lacks --{long}"));
        }
    }
    f.add(check_usage(&t, &["--completions", "tcsh"], false));
    f.finish("completions and man page");
}

/// bash can source the generated completion script.
#[test]
fn bash_completion_script_is_valid_bash() {
    let t = Tree::new();
    let r = t.fdu(&["--completions", "bash"]);
    let path = t.p("fdu.bash");
    std::fs::write(&path, &r.stdout).expect("write script");
    let ok = Command::new("bash")
        .arg("-n")
        .arg(&path)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "bash -n rejects the completion script");
}
