//! `--checkpoint FILE` and `--resume FILE`: a scan killed (SIGKILL) at
//! any point and resumed prints what the uninterrupted scan prints, on
//! every backend and thread count; a torn checkpoint falls back to the one
//! before; a checkpoint of another version or tree, or a corrupt or
//! foreign file, is refused (exit 2) and left as it is.
//!
//! Scans are slowed with the progress test hook (`FDU_TEST_PROGRESS_DELAY_MS`
//! with `--progress`, stderr not a terminal) so that kills land inside them.
mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Milliseconds each entry takes in a slowed scan.
const DELAY_MS: &str = "2";

/// Six directories of three subdirectories of eight files, hard links
/// across directories, a sparse file, a non-UTF-8 name, an empty
/// directory, a symlink: about 200 entries.
fn tree() -> Tree {
    let t = Tree::new();
    for d in 0..6 {
        for s in 0..3 {
            t.mkdir(format!("t/d{d}/s{s}"));
            for f in 0..8 {
                t.file(format!("t/d{d}/s{s}/f{f}"), 700 * (f + 1) + d * 50 + s);
            }
        }
        t.file(format!("t/d{d}/top"), 9000 + d);
    }
    t.hardlink("t/d0/s0/f0", "t/d3/s1/link");
    t.hardlink("t/d4/s2/f7", "t/d1/link");
    t.hardlink("t/d4/s2/f7", "t/d5/s0/link2");
    t.mkdir(b"t/d2/caf\xe9");
    t.file(b"t/d2/caf\xe9/x", 3000);
    t.mkdir("t/empty");
    t.symlink("d0", "t/sym");
    let sparse = fs::File::create(t.p("t/d1/sparse")).expect("create");
    sparse.set_len(1 << 20).expect("a sparse file");
    t
}

/// fdu's argv with a checkpoint every millisecond.
fn checkpointed(args: &[&str], ck: &Path) -> Vec<std::ffi::OsString> {
    let mut argv = oss(args);
    argv.extend([
        "--checkpoint".into(),
        ck.as_os_str().to_owned(),
        "--checkpoint-interval".into(),
        "0.001".into(),
        "--progress".into(),
    ]);
    argv
}

/// Run a slowed, checkpointed scan of `args` in `cwd`, killed `after` its
/// checkpoint is made (or run to its end when `None`): how long it ran
/// from then.
fn slowed(cwd: &Path, args: &[&str], ck: &Path, after: Option<Duration>) -> Duration {
    let _ = fs::remove_file(ck);
    let mut argv = vec![fdu_bin().into_os_string()];
    argv.extend(checkpointed(args, ck));
    killed(cwd, &argv, DELAY_MS, ck, after)
}

/// Run `argv` in `cwd`, each entry taking `delay` milliseconds, until
/// `after` has passed since the checkpoint `ck` exists (or to its end when
/// `None`): how long it ran from then.
fn killed(
    cwd: &Path,
    argv: &[std::ffi::OsString],
    delay: &str,
    ck: &Path,
    after: Option<Duration>,
) -> Duration {
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(cwd)
        .env("FDU_TEST_PROGRESS_DELAY_MS", delay)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("fdu runs");
    // The checkpoint appears whole (renamed into place) before the scan.
    while !ck.exists() && child.try_wait().expect("wait").is_none() {
        std::thread::sleep(Duration::from_micros(200));
    }
    let started = Instant::now();
    if let Some(after) = after {
        while started.elapsed() < after && child.try_wait().expect("wait").is_none() {
            std::thread::sleep(Duration::from_micros(300));
        }
        let _ = child.kill();
    }
    child.wait().expect("wait");
    started.elapsed()
}

/// A slowed scan of `args` killed at `fraction` of its length: the
/// uninterrupted output, and the length.
fn killed_at(t: &Tree, args: &[&str], ck: &Path, fraction: f64) -> (Run, Duration) {
    let whole = t.fdu(args);
    let length = slowed(t.cwd(), args, ck, None);
    slowed(t.cwd(), args, ck, Some(length.mul_f64(fraction)));
    (whole, length)
}

/// `fdu --resume ck --stats`: the run, and the entries it carried over
/// and stat'ed now.
fn resume(cwd: &Path, ck: &Path) -> (Run, Option<(u64, u64)>) {
    let run = fdu(
        cwd,
        &[os("--resume"), ck.as_os_str().to_owned(), os("--stats")],
    );
    let stats = run.err_text().lines().find_map(|l| {
        let rest = l.strip_prefix("resumed")?.trim();
        let mut words = rest.split_whitespace();
        let carried = words.next()?.parse().ok()?;
        let now = rest
            .split(", ")
            .nth(1)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        Some((carried, now))
    });
    (run, stats)
}

/// Whether the uring backend can run here.
fn uring_runs(t: &Tree) -> bool {
    let run = t.fdu(&["--backend", "uring", "-s", "t"]);
    if run.code != 0 {
        eprintln!("SKIPPED (uring): {}", run.err_text().trim());
    }
    run.code == 0
}

#[test]
fn a_scan_killed_anywhere_and_resumed_prints_the_uninterrupted_output() {
    let t = tree();
    let ck = t.p("ck");
    let option_sets: &[&[&str]] = &[
        &["-a"],
        &[],
        &["-s", "-c"],
        &["-d", "1", "-S", "-a"],
        &["-a", "-l", "--inodes"],
        &["--apparent-size", "-B1", "-a", "-c"],
        &["-a", "--exclude", "f3", "-x", "-t", "5K", "--time", "-0"],
    ];
    let mut backends = vec!["linux", "std"];
    if uring_runs(&t) {
        backends.push("uring");
    }
    let mut mid_scan = 0;
    let mut case = 0usize;
    for backend in &backends {
        for threads in ["1", "2", "4"] {
            for k in 0..2 {
                let opts = option_sets[(case + k) % option_sets.len()];
                // One case in three also scans several arguments: one
                // inside the next, one inside the one before (walked
                // there, so left out), and a file met inside them.
                let paths: &[&str] = match (case + k) % 3 {
                    2 => &["t/d1", "t", "t/d4/s2", "t/d3/s1/link"],
                    _ => &["t"],
                };
                let mut args = vec!["--backend", backend, "-j", threads];
                args.extend_from_slice(opts);
                args.extend_from_slice(paths);
                let whole = t.fdu(&args);
                assert!(whole.code <= 1, "{}: {}", whole.cmd, whole.err_text());
                let length = slowed(t.cwd(), &args, &ck, None);
                let (run, _) = resume(t.cwd(), &ck);
                assert_eq!(
                    run.stdout, whole.stdout,
                    "resuming a finished scan: {args:?}"
                );
                for fraction in [0.1, 0.5, 0.9] {
                    slowed(t.cwd(), &args, &ck, Some(length.mul_f64(fraction)));
                    let (run, stats) = resume(t.cwd(), &ck);
                    assert_eq!(
                        run.code,
                        whole.code,
                        "{args:?} killed at {fraction}: {}",
                        run.err_text()
                    );
                    assert!(
                        run.stdout == whole.stdout,
                        "{args:?} killed at {fraction}:\n{}",
                        multiset_diff(
                            "uninterrupted",
                            &records(&whole.stdout, b'\n'),
                            "resumed",
                            &records(&run.stdout, b'\n')
                        )
                        .unwrap_or_else(|| "the same lines in another order".into())
                    );
                    let (carried, now) = stats.expect("--stats says what was carried over");
                    if carried > 0 && now > 3 {
                        mid_scan += 1;
                    }
                }
                case += 1;
            }
        }
    }
    assert!(
        mid_scan >= 10,
        "only {mid_scan} kills landed inside a scan: the test does not test resuming"
    );
}

#[test]
fn a_resumed_scan_killed_again_resumes_again() {
    let t = tree();
    let ck = t.p("ck");
    let (whole, length) = killed_at(&t, &["-a", "-j", "2", "t"], &ck, 0.3);
    // The resumed run, slowed and killed too.
    let argv = [
        fdu_bin().into_os_string(),
        os("--resume"),
        ck.as_os_str().to_owned(),
        os("--progress"),
    ];
    killed(t.cwd(), &argv, DELAY_MS, &ck, Some(length.mul_f64(0.3)));
    let (run, _) = resume(t.cwd(), &ck);
    assert_eq!(run.code, 0, "{}", run.err_text());
    assert_eq!(run.stdout, whole.stdout);
}

#[test]
fn a_checkpoint_cut_anywhere_in_its_last_write_falls_back_to_the_one_before() {
    let t = tree();
    let ck = t.p("ck");
    let (whole, _) = killed_at(&t, &["-a", "-j", "2", "t"], &ck, 0.6);
    let full = fs::read(&ck).expect("a checkpoint");
    let copy = t.p("copy");
    // The header ends well before the middle; past it, every cut is a
    // kill inside a write.
    let mut cuts: Vec<usize> = (full.len() - 120..full.len()).collect();
    cuts.extend((full.len() / 2..full.len()).step_by(997));
    for cut in cuts {
        fs::write(&copy, &full[..cut]).expect("write");
        let (run, _) = resume(t.cwd(), &copy);
        assert_eq!(run.code, 0, "cut at {cut}: {}", run.err_text());
        assert_eq!(run.stdout, whole.stdout, "cut at {cut}");
    }
    // Bytes after the last checkpoint that are not a record: a torn tail.
    let mut garbage = full.clone();
    garbage.extend_from_slice(b"C\xff\xff\xff\xff\xff\xff\xff\x7fnot a record");
    fs::write(&copy, &garbage).expect("write");
    let (run, _) = resume(t.cwd(), &copy);
    assert_eq!(run.stdout, whole.stdout, "{}", run.err_text());
}

/// Run `fdu --resume file`: it must fail with exit 2 and a one-line
/// message containing `says`, and leave the file as it was.
fn refused(t: &Tree, file: &Path, says: &str) {
    let before = fs::read(file).expect("the file");
    let run = fdu(t.cwd(), &[os("--resume"), file.as_os_str().to_owned()]);
    assert_eq!(run.code, 2, "{}: {}", run.cmd, run.err_text());
    assert!(run.stdout.is_empty(), "{}", run.out_text());
    let err = run.err_text();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("fdu: ") && err.contains(says), "{err}");
    assert_eq!(
        fs::read(file).expect("the file"),
        before,
        "the file was changed"
    );
}

#[test]
fn a_foreign_corrupt_or_other_trees_checkpoint_is_refused_and_left_alone() {
    let t = tree();
    let ck = t.p("ck");
    killed_at(&t, &["-a", "t"], &ck, 0.5);
    let good = fs::read(&ck).expect("a checkpoint");

    // Not a checkpoint: an export, an empty file.
    let export = t.p("export.json");
    let run = t.fdu(&["-o", "export.json", "t"]);
    assert_eq!(run.code, 0, "{}", run.err_text());
    refused(&t, &export, "is not an fdu checkpoint");
    fs::write(t.p("empty"), b"").expect("write");
    refused(&t, &t.p("empty"), "is not an fdu checkpoint");

    // A byte changed before its last record: in the header of a finished
    // scan's checkpoint (a header, then lines and a checkpoint record), so
    // that no timing decides which record the byte falls in.
    let done = t.fdu(&["-a", "--checkpoint", "done", "t"]);
    assert_eq!(done.code, 0, "{}", done.err_text());
    let mut bad = fs::read(t.p("done")).expect("a finished checkpoint");
    let header_body = fdu::checkpoint::MAGIC.len() + 4 + 1 + 8;
    bad[header_body + 1] ^= 0x20;
    fs::write(t.p("bad"), &bad).expect("write");
    refused(&t, &t.p("bad"), "corrupt checkpoint");

    // Another layout.
    let mut other = good.clone();
    other[16] = 99;
    fs::write(t.p("other"), &other).expect("write");
    refused(&t, &t.p("other"), "checkpoint format 99");

    // Another version of fdu wrote it.
    let old = t.p("old");
    let header = fdu::checkpoint::Header {
        version: "0.0.1".into(),
        cwd: t.cwd().as_os_str().as_encoded_bytes().to_vec(),
        argv: vec![b"t".to_vec()],
        paths: vec![b"t".to_vec()],
        roots: vec![None],
        interval: Duration::from_secs(60),
    };
    fdu::checkpoint::Journal::create(old.as_os_str().as_encoded_bytes(), &header)
        .expect("a checkpoint");
    refused(&t, &old, "checkpoint of fdu 0.0.1, this is fdu ");

    // Another tree at the same path.
    fs::write(&ck, &good).expect("write");
    fs::rename(t.p("t"), t.p("t.old")).expect("rename");
    t.mkdir("t");
    refused(
        &t,
        &ck,
        "checkpoint of another tree: 't' is not what it was",
    );
    fs::remove_dir(t.p("t")).expect("rmdir");
    fs::rename(t.p("t.old"), t.p("t")).expect("rename");

    // A missing file.
    let run = fdu(t.cwd(), &oss(&["--resume", "missing"]));
    assert_eq!(run.code, 2);
    assert_eq!(
        run.err_text(),
        "fdu: cannot read checkpoint 'missing': No such file or directory\n"
    );
}

#[test]
fn a_resumed_scan_runs_where_it_started_and_says_what_it_carried() {
    let t = tree();
    let ck: PathBuf = t.p("ck");
    let (whole, _) = killed_at(&t, &["-a", "-c", "-j", "2", "t"], &ck, 0.5);
    // From another directory: the paths are the scan's own, relative to
    // where it ran.
    let (run, stats) = resume(Path::new("/"), &ck);
    assert_eq!(run.code, 0, "{}", run.err_text());
    assert_eq!(run.stdout, whole.stdout);
    let (carried, now) = stats.expect("a resumed line in --stats");
    let entries: u64 = whole
        .out_text()
        .lines()
        .filter(|l| !l.ends_with("\ttotal"))
        .count() as u64;
    assert!(carried > 0 && now > 1, "{carried} carried, {now} now");
    // Each entry is counted once, or stat'ed again (the arguments and the
    // frontier's directories are listed again): never lost.
    assert!(carried + now >= entries, "{carried} + {now} < {entries}");
}

#[test]
fn errors_before_the_checkpoint_still_make_the_exit_status_1() {
    let t = tree();
    t.mkdir("t/d0/locked");
    t.file("t/d0/locked/f", 10);
    chmod(&t.p("t/d0/locked"), 0o000);
    let Some(how) = unprivileged_how(&t) else {
        chmod(&t.p("t/d0/locked"), 0o755);
        return;
    };
    // Beside the tree, where nobody may write.
    let writable = t.p("ckdir");
    fs::create_dir(&writable).expect("mkdir");
    chmod(&writable, 0o777);
    let ck = writable.join("ck");
    let whole = how.fdu(t.cwd(), &oss(&["-a", "t/d0", "t/d1"]));
    assert_eq!(whole.code, 1, "{}", whole.err_text());
    // Killed once t/d0 is done (its locked directory reported): the
    // resumed run walks on from t/d1 and still exits 1.
    let mut argv = oss(&["-a", "-j", "1", "t/d0", "t/d1"]);
    argv.extend(checkpointed(&[], &ck));
    let mut full = how.wrapper.clone();
    full.push(how.fdu_bin.clone().unwrap_or_else(fdu_bin).into_os_string());
    full.extend(argv);
    // t/d0 has 33 entries: at 20 ms each, it is done after 0.7 s; t/d1
    // takes as long again.
    killed(t.cwd(), &full, "20", &ck, Some(Duration::from_millis(1000)));
    let run = how.fdu(
        t.cwd(),
        &[os("--resume"), ck.as_os_str().to_owned(), os("--stats")],
    );
    chmod(&t.p("t/d0/locked"), 0o755);
    assert_eq!(run.code, 1, "{}", run.err_text());
    assert_eq!(run.stdout, whole.stdout);
    // It did resume inside the scan, after the error: the locked
    // directory is not reported again.
    let err = run.err_text();
    assert!(!err.contains("locked"), "{err}");
    assert!(err.contains("resumed      "), "{err}");
    assert!(!err.contains("resumed      0 entries"), "{err}");
}

#[test]
fn what_cannot_be_checkpointed_is_a_usage_error() {
    let t = tree();
    for (args, says) in [
        (
            &["--checkpoint", "ck", "-o", "x", "t"][..],
            "--checkpoint does not apply to -o",
        ),
        (
            &["--checkpoint", "ck", "--json", "t"],
            "--checkpoint does not apply to --json",
        ),
        (
            &["--checkpoint", "ck", "--top", "3", "t"],
            "--checkpoint does not apply to --top",
        ),
        (
            &["--checkpoint", "ck", "--dups", "t"],
            "--checkpoint does not apply to --dups",
        ),
        (
            &["--checkpoint", "ck", "-L", "t"],
            "--checkpoint does not apply to --dereference",
        ),
        (
            &["--checkpoint-interval", "5", "t"],
            "--checkpoint-interval requires --checkpoint",
        ),
        (
            &["--checkpoint", "ck", "--checkpoint-interval", "0", "t"],
            "invalid --checkpoint-interval '0'",
        ),
        (
            &["--checkpoint", "ck", "--checkpoint-interval", "x", "t"],
            "invalid --checkpoint-interval 'x'",
        ),
        (
            &["--resume", "ck", "-a"],
            "--resume takes the checkpoint's options: --all does not apply to it",
        ),
        (
            &["--resume", "ck", "t"],
            "--resume takes the checkpoint's options: a FILE operand does not apply to it",
        ),
    ] {
        let run = t.fdu(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.err_text());
        let first = run
            .err_text()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        assert_eq!(first, format!("fdu: {says}"), "{args:?}");
        assert!(!t.p("ck").exists(), "{args:?} wrote a checkpoint");
    }
    // -L with -l walks symlinked directories where they are met: it is
    // streamed, so it can be checkpointed.
    let run = t.fdu(&["--checkpoint", "ck", "-L", "-l", "t"]);
    assert_eq!(run.code, 0, "{}", run.err_text());
    assert_eq!(run.stdout, t.fdu(&["-L", "-l", "t"]).stdout);
}

#[test]
fn a_cold_cache_scan_resumes_too() {
    if !is_root() || fs::write("/proc/sys/vm/drop_caches", b"3").is_err() {
        eprintln!("SKIPPED: dropping the page cache needs root");
        return;
    }
    let t = tree();
    let ck = t.p("ck");
    let args = ["-a", "-j", "4", "t"];
    let whole = t.fdu(&args);
    let length = slowed(t.cwd(), &args, &ck, None);
    for fraction in [0.2, 0.7] {
        let _ = fs::write("/proc/sys/vm/drop_caches", b"3");
        slowed(t.cwd(), &args, &ck, Some(length.mul_f64(fraction)));
        let _ = fs::write("/proc/sys/vm/drop_caches", b"3");
        let (run, _) = resume(t.cwd(), &ck);
        assert_eq!(run.stdout, whole.stdout, "killed at {fraction}");
    }
}
