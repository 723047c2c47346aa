//! Streamed output: du's lines are printed as soon as they are known, not
//! after the whole scan, and a reader that goes away ends the scan. A slow
//! scan is made with the progress test hook (`FDU_TEST_PROGRESS_DELAY_MS`:
//! each entry takes that long, with `--progress` on and stderr not a
//! terminal), on one worker so that its length is known.
mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// What a scan of [`slow_tree`] sleeps at least: 44 entries at 40 ms.
const WHOLE_SCAN: Duration = Duration::from_millis(44 * 40);

/// Four directories of ten files: at 40 ms an entry, at least 1.76 s.
fn slow_tree() -> Tree {
    let t = Tree::new();
    for d in 0..4 {
        t.mkdir(format!("t/d{d}"));
        for i in 0..10 {
            t.file(format!("t/d{d}/f{i}"), 100 + i);
        }
    }
    t
}

/// Start a slow scan of `t` with `args`, and read its first line: the
/// process, the rest of its output, and the line.
fn first_line(t: &Tree, args: &[&str]) -> (Child, BufReader<ChildStdout>, Vec<u8>) {
    let mut child = Command::new(fdu_bin())
        .args(args)
        .args(["--progress", "-j", "1", "t"])
        .current_dir(t.cwd())
        .env("FDU_TEST_PROGRESS_DELAY_MS", "40")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("fdu runs");
    let mut out = BufReader::new(child.stdout.take().expect("a pipe"));
    let mut line = Vec::new();
    out.read_until(b'\n', &mut line).expect("a line");
    (child, out, line)
}

#[test]
fn the_first_line_comes_while_the_scan_runs_and_a_closed_pipe_ends_it() {
    let t = slow_tree();
    let whole = t.fdu(&["-a", "-j", "1", "t"]);
    assert_eq!(whole.code, 0, "{}", whole.err_text());
    let first = whole.stdout.split(|&b| b == b'\n').next().unwrap().to_vec();
    for args in [&["-a"][..], &[], &["-d", "1"]] {
        let started = Instant::now();
        let (mut child, out, line) = first_line(&t, args);
        let first_after = started.elapsed();
        // A whole scan sleeps 44 x 40 ms; the first line is known after
        // two directories (0.56 s) and must not wait for the rest.
        assert!(
            first_after < WHOLE_SCAN,
            "fdu {args:?}: the first line came after {first_after:?}, when the scan was over"
        );
        if args == ["-a"] {
            assert_eq!(
                String::from_utf8_lossy(&line).trim_end(),
                String::from_utf8_lossy(&first)
            );
        }
        // The reader goes away: fdu stops, quietly, with status 0.
        drop(out);
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "fdu {args:?} after its reader left");
    }
}

#[test]
fn a_closed_pipe_stops_the_walk() {
    let t = slow_tree();
    let started = Instant::now();
    let (mut child, out, _) = first_line(&t, &["-a"]);
    drop(out);
    child.wait().unwrap();
    // The first line comes after two directories (0.56 s); the one being
    // stat'ed when the reader left is finished (0.4 s), not the rest.
    let took = started.elapsed();
    assert!(
        took < WHOLE_SCAN - Duration::from_millis(200),
        "fdu took {took:?}: it went on after its reader left"
    );
}
