//! Progress on stderr: a bar on a terminal (run under a pseudo-terminal
//! with util-linux's `script`), erased before each write of the output;
//! nothing where stderr is not a terminal unless `--progress` asks, and
//! then plain lines;
//! nothing with `--no-progress`; errors intact under the bar; `--dups`'s
//! stages. Small trees are slowed down with the test hook
//! `FDU_TEST_PROGRESS_DELAY_MS` (each entry or hashed file takes that long),
//! with `-j 1` so that the time a scan takes is known.
mod common;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use common::*;

fn delay(ms: u32) -> Vec<(OsString, OsString)> {
    vec![("FDU_TEST_PROGRESS_DELAY_MS".into(), ms.to_string().into())]
}

/// `arg` quoted for `sh -c`.
fn sh_quote(arg: &OsStr) -> String {
    let text = String::from_utf8_lossy(arg.as_bytes());
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Whether `script` (util-linux) can give fdu a pseudo-terminal.
fn have_script() -> bool {
    if have_tool("script") {
        return true;
    }
    eprintln!("SKIPPED: script (util-linux) is not installed");
    false
}

/// Run `argv` on a pseudo-terminal (stdout and stderr both on it, unless
/// `redirect` sends stderr elsewhere): what the terminal received, raw.
fn on_terminal(cwd: &Path, argv: &[OsString], redirect: &str, env: &[(OsString, OsString)]) -> Run {
    let line: Vec<String> = argv.iter().map(|a| sh_quote(a)).collect();
    let command = format!("{} {redirect}", line.join(" "));
    let mut env = env.to_vec();
    env.push(("TERM".into(), "xterm".into()));
    run_argv(&oss(&["script", "-qefc", &command, "/dev/null"]), cwd, &env)
}

/// fdu's argv: `bin` (default: the built binary) and `args`.
fn fdu_argv(bin: Option<&Path>, args: &[&str]) -> Vec<OsString> {
    let mut argv = vec![bin.map_or_else(fdu_bin, Path::to_path_buf).into_os_string()];
    argv.extend(oss(args));
    argv
}

/// Lines as a terminal receives them (`\n` becomes `\r\n`).
fn crlf(out: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(out.len() * 2);
    for &b in out {
        if b == b'\n' {
            v.push(b'\r');
        }
        v.push(b);
    }
    v
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Erases the bar's line (indicatif's `\r` + `ESC [2K`).
const CLEAR: &[u8] = b"\x1b[2K";

/// How each of the bar's lines starts (the scan's, `--dups`'s stages).
const BARS: [&[u8]; 2] = [b"scanning: ", b"hashing: "];

/// Check a terminal's bytes: the bar was drawn (`text` appears) and erased
/// at the end, and what the screen keeps once every draw of the bar is
/// taken out is exactly `expected` (lines a scan streams are written
/// while the bar shows: it is erased before each write and drawn again
/// after), with each line of `messages` (errors on stderr, in any order
/// among them) intact somewhere in it.
fn check_bar(run: &Run, text: &[u8], expected: &[u8], messages: &[Vec<u8>], f: &mut Failures) {
    let raw = &run.stdout;
    if find(raw, text).is_none() {
        f.push(format!(
            "{}: the bar was never drawn: {}",
            run.cmd,
            show(raw)
        ));
        return;
    }
    // Each draw of the bar runs from its text to the next erase
    // (`\r` + `ESC [2K`, indicatif's); what else the terminal got is the screen.
    let mut screen = Vec::new();
    let erase = [b"\r", CLEAR].concat();
    let mut pieces = split(raw, &erase).peekable();
    while let Some(piece) = pieces.next() {
        let draw = BARS.iter().filter_map(|bar| find(piece, bar)).min();
        match draw {
            Some(at) if pieces.peek().is_some() => screen.extend_from_slice(&piece[..at]),
            Some(_) => f.push(format!(
                "{}: the bar was not erased at the end: {}",
                run.cmd,
                show(raw)
            )),
            None => screen.extend_from_slice(piece),
        }
    }
    for m in messages {
        match find(&screen, m) {
            Some(at) => {
                screen.drain(at..at + m.len());
            }
            None => f.push(format!(
                "{}: message {:?} not intact on the screen {:?}",
                run.cmd,
                show(m),
                show(&screen)
            )),
        }
    }
    if screen != expected {
        f.push(format!(
            "{}: the screen without the bar, {:?}, expected {:?}",
            run.cmd,
            show(&screen),
            show(expected)
        ));
    }
}

/// `hay` cut at each `sep`.
fn split<'h>(hay: &'h [u8], sep: &'h [u8]) -> impl Iterator<Item = &'h [u8]> + 'h {
    let mut rest = Some(hay);
    std::iter::from_fn(move || {
        let now = rest?;
        match find(now, sep) {
            Some(at) => {
                rest = Some(&now[at + sep.len()..]);
                Some(&now[..at])
            }
            None => {
                rest = None;
                Some(now)
            }
        }
    })
}

/// A tree of `dirs` directories of `files` small files each (no hard
/// links: every run prints the same lines).
fn tree(dirs: usize, files: usize) -> Tree {
    let t = Tree::new();
    for d in 0..dirs {
        t.mkdir(format!("t/d{d}"));
        for i in 0..files {
            t.file(format!("t/d{d}/f{i}"), 100 + i);
        }
    }
    t
}

#[test]
fn a_terminal_shows_the_bar_then_erases_it() {
    if !have_script() {
        return;
    }
    // 45 entries at 50 ms on one worker: about 2.3 s.
    let t = tree(2, 21);
    let plain = t.fdu(&["-j", "1", "t"]);
    assert_eq!(plain.code, 0, "{}", plain.err_text());
    let mut f = Failures::default();
    for args in [
        &["-j", "1", "t"][..],
        &["-j", "1", "--no-progress", "--progress", "t"],
    ] {
        let run = on_terminal(t.cwd(), &fdu_argv(None, args), "", &delay(50));
        if run.code != 0 {
            f.push(format!("{}: exit {}", run.cmd, run.code));
        }
        check_bar(&run, b"scanning: ", &crlf(&plain.stdout), &[], &mut f);
        // The bar's line: counts, bytes, rate, elapsed.
        let raw = String::from_utf8_lossy(&run.stdout);
        let line = raw
            .split(['\r', '\x1b'])
            .find(|l| l.starts_with("scanning: "))
            .unwrap_or_default()
            .trim_end();
        let words: Vec<&str> = line.split(' ').collect();
        let shape = matches!(
            words.as_slice(),
            ["scanning:", n, "entries,", _, "on", "disk,", _, "entries/s,", s]
                if n.chars().all(|c| c.is_ascii_digit() || c == ',') && s.ends_with('s')
        );
        if !shape {
            f.push(format!("{}: bar line {line:?}", run.cmd));
        }
    }
    f.finish("the bar on a terminal");
}

#[test]
fn no_terminal_no_progress() {
    let t = tree(2, 29);
    let plain = t.fdu(&["-j", "1", "t"]);
    let mut f = Failures::default();
    // Neither stream a terminal.
    let run = run_argv(&fdu_argv(None, &["-j", "1", "t"]), t.cwd(), &delay(50));
    if !run.stderr.is_empty() || run.stdout != plain.stdout || run.code != 0 {
        f.push(format!(
            "{}: exit {}, stderr {:?}, stdout {:?}",
            run.cmd,
            run.code,
            run.err_text(),
            run.out_text()
        ));
    }
    // Stdout a terminal, stderr a file: still nothing.
    if have_script() {
        let argv = fdu_argv(None, &["-j", "1", "t"]);
        let run = on_terminal(t.cwd(), &argv, "2>err.txt", &delay(50));
        let err = std::fs::read(t.cwd().join("err.txt")).unwrap_or_default();
        if !err.is_empty() || run.stdout != crlf(&plain.stdout) {
            f.push(format!(
                "{} 2>err.txt: stderr {:?}, terminal {:?}",
                run.cmd,
                show(&err),
                show(&run.stdout)
            ));
        }
    }
    f.finish("no terminal, no progress");
}

#[test]
fn forced_progress_prints_plain_lines_without_a_terminal() {
    // 61 entries at 100 ms: about 6 s, one line at 5 s. The last of
    // --no-progress and --progress wins.
    let t = tree(2, 29);
    let plain = t.fdu(&["-j", "1", "t"]);
    let argv = fdu_argv(None, &["-j", "1", "--no-progress", "--progress", "t"]);
    let run = run_argv(&argv, t.cwd(), &delay(100));
    let mut f = Failures::default();
    if run.code != 0 || run.stdout != plain.stdout {
        f.push(format!(
            "{}: exit {}, stdout {:?}",
            run.cmd,
            run.code,
            run.out_text()
        ));
    }
    let err = run.err_text();
    let lines: Vec<&str> = err.lines().collect();
    if lines.is_empty() {
        f.push(format!("{}: no progress line on stderr", run.cmd));
    }
    for line in &lines {
        let ok = line.starts_with("fdu: progress: scanning: ")
            && line.contains(" entries, ")
            && line.contains(" entries/s, ")
            && line.is_ascii()
            && !line.contains(|c: char| c.is_ascii_control());
        if !ok {
            f.push(format!("{}: stderr line {line:?}", run.cmd));
        }
    }
    if !err.ends_with('\n') && !err.is_empty() {
        f.push(format!("{}: stderr does not end a line: {err:?}", run.cmd));
    }
    f.finish("--progress without a terminal");
}

#[test]
fn no_progress_and_machine_output_print_nothing_on_a_terminal() {
    if !have_script() {
        return;
    }
    let t = tree(2, 29);
    let mut f = Failures::default();
    for (args, expect_args) in [
        (
            &["-j", "1", "--no-progress", "t"][..],
            &["-j", "1", "t"][..],
        ),
        (
            &["-j", "1", "--progress", "--no-progress", "t"],
            &["-j", "1", "t"],
        ),
        // -0 is for programs: no bar unless asked.
        (&["-j", "1", "-0", "t"], &["-j", "1", "-0", "t"]),
    ] {
        let plain = t.fdu(expect_args);
        let run = on_terminal(t.cwd(), &fdu_argv(None, args), "", &delay(50));
        if run.stdout != crlf(&plain.stdout) || run.code != 0 {
            f.push(format!(
                "{}: exit {}, terminal {:?}, expected {:?}",
                run.cmd,
                run.code,
                show(&run.stdout),
                show(&crlf(&plain.stdout))
            ));
        }
    }
    f.finish("--no-progress on a terminal");
}

/// As root, fdu runs as nobody (setpriv), or permissions are moot: the
/// binary to run (a copy nobody may run) and the wrapper, or `None` to
/// skip.
fn unprivileged(t: &Tree) -> Option<(PathBuf, Vec<OsString>)> {
    let how = unprivileged_how(t)?;
    Some((how.fdu_bin.unwrap_or_else(fdu_bin), how.wrapper))
}

#[test]
fn errors_print_intact_through_the_bar() {
    if !have_script() {
        return;
    }
    // Each directory's 40 files come before its locked subdirectory is
    // opened (depth first, one worker): at 50 ms an entry, the first error
    // comes about 2 s in, under the bar.
    let t = tree(2, 40);
    t.mkdir("t/d0/locked");
    t.mkdir("t/d1/locked");
    for d in ["t/d0/locked", "t/d1/locked"] {
        chmod(&t.p(d), 0o000);
    }
    let Some((bin, mut argv)) = unprivileged(&t) else {
        for d in ["t/d0/locked", "t/d1/locked"] {
            chmod(&t.p(d), 0o755);
        }
        return;
    };
    let mut plain_argv = argv.clone();
    plain_argv.extend(fdu_argv(Some(&bin), &["-j", "1", "t"]));
    let plain = run_argv(&plain_argv, t.cwd(), &[]);
    argv.extend(fdu_argv(Some(&bin), &["-j", "1", "t"]));
    let run = on_terminal(t.cwd(), &argv, "", &delay(50));
    for d in ["t/d0/locked", "t/d1/locked"] {
        chmod(&t.p(d), 0o755);
    }
    let mut f = Failures::default();
    if plain.code != 1 || run.code != 1 {
        f.push(format!(
            "{}: exit {} (without a terminal {}; expected 1)",
            run.cmd, run.code, plain.code
        ));
    }
    let raw = &run.stdout;
    let mut first_error = None;
    let mut errors = Vec::new();
    for d in ["t/d0/locked", "t/d1/locked"] {
        let line = format!("fdu: cannot read directory '{d}': Permission denied");
        errors.push(crlf(format!("{line}\n").as_bytes()));
        if !plain.err_text().lines().any(|l| l == line) {
            f.push(format!("{}: without a terminal, no {line:?}", plain.cmd));
        }
        // On the terminal: a whole line, at the start of one (after the
        // bar was erased, or a previous line).
        let want = [line.as_bytes(), b"\r\n"].concat();
        match find(raw, &want) {
            Some(at) => {
                let before = &raw[..at];
                if !(before.is_empty() || before.ends_with(b"\n") || before.ends_with(CLEAR)) {
                    f.push(format!("{}: {line:?} follows {:?}", run.cmd, show(before)));
                }
                first_error = Some(first_error.map_or(at, |e: usize| e.min(at)));
            }
            None => f.push(format!("{}: no line {line:?} in {}", run.cmd, show(raw))),
        }
    }
    // The errors came while the bar showed: it was drawn before them.
    if let (Some(bar), Some(error)) = (find(raw, b"scanning: "), first_error) {
        if bar > error {
            f.push(format!(
                "{}: the bar came after the errors: {}",
                run.cmd,
                show(raw)
            ));
        }
    }
    check_bar(&run, b"scanning: ", &crlf(&plain.stdout), &errors, &mut f);
    f.finish("errors under the bar");
}

#[test]
fn dups_shows_scanning_then_hashing_then_erases_it() {
    if !have_script() {
        return;
    }
    // 13 entries, then 3 equal files through every stage and 6 small ones
    // through the head: at 120 ms a step, about 1.6 s of each.
    let t = Tree::new();
    t.mkdir("t/a");
    t.mkdir("t/b");
    for name in ["t/a/big", "t/b/big", "t/big"] {
        t.file(name, 100_000);
    }
    for i in 0..3 {
        t.file(format!("t/a/s{i}"), 50);
        t.file(format!("t/b/s{i}"), 50);
    }
    t.file("t/odd", 7);
    let plain = t.fdu(&["--dups", "-j", "1", "t"]);
    assert_eq!(plain.code, 0, "{}", plain.err_text());
    let mut f = Failures::default();
    let argv = fdu_argv(None, &["--dups", "-j", "1", "t"]);
    let run = on_terminal(t.cwd(), &argv, "", &delay(120));
    check_bar(&run, b"hashing: head ", &crlf(&plain.stdout), &[], &mut f);
    let raw = &run.stdout;
    match (find(raw, b"scanning: "), find(raw, b"hashing: head ")) {
        (Some(s), Some(h)) if s < h => {}
        _ => f.push(format!(
            "{}: not scanning then hashing: {}",
            run.cmd,
            show(raw)
        )),
    }
    // Every stage's files and bytes, done out of known: all 9 files go
    // through the head.
    if find(raw, b"/9 files ").is_none() {
        f.push(format!("{}: no 'head N/9 files': {}", run.cmd, show(raw)));
    }
    for stage in [&b", tail "[..], b", full "] {
        if find(raw, stage).is_none() {
            f.push(format!("{}: no {:?}: {}", run.cmd, show(stage), show(raw)));
        }
    }
    f.finish("--dups on a terminal");
}
