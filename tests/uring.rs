//! The uring backend: its stats really go through the ring, and when no ring
//! can be created `--backend uring` stops with one line while `auto` scans
//! on.
mod common;

use std::sync::Mutex;

use common::*;

/// Serializes the test that changes `kernel.io_uring_disabled`.
static SYSCTL: Mutex<()> = Mutex::new(());

fn field(stderr: &str, line_label: &str, label: &str) -> u64 {
    let line = stderr
        .lines()
        .find(|l| l.starts_with(line_label))
        .unwrap_or_else(|| panic!("no {line_label:?} line in {stderr}"));
    let rest = &line[line
        .find(label)
        .unwrap_or_else(|| panic!("no {label:?} in {line}"))
        + label.len()..];
    rest.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {label:?} in {line:?}"))
}

fn small_tree() -> Tree {
    let t = Tree::new();
    for d in ["a", "a/b", "c"] {
        t.mkdir(format!("t/{d}"));
    }
    for (i, f) in ["f1", "a/f2", "a/b/f3", "c/f4", "c/f5"].iter().enumerate() {
        t.file(format!("t/{f}"), i * 5000);
    }
    t
}

#[test]
fn stats_and_opens_go_through_the_ring() {
    let _guard = SYSCTL.lock().unwrap_or_else(|p| p.into_inner());
    let t = small_tree();
    let reference = t.fdu(&["-a", "--backend", "linux", "t"]);
    for threads in ["1", "2", "8"] {
        let r = t.fdu(&["-a", "--stats", "--backend", "uring", "-j", threads, "t"]);
        assert_eq!(r.code, 0, "{}", r.err_text());
        assert_eq!(r.stdout, reference.stdout);
        let err = r.err_text();
        assert!(err.starts_with("fdu: stats: backend uring,"), "{err}");
        assert!(err.contains("\nio_uring     depth 256"), "{err}");
        // The argument is stat'ed and opened synchronously; the 8 entries
        // below it and its 3 subdirectories through the ring.
        assert_eq!(field(&err, "entries", "entries"), 9, "{err}");
        assert_eq!(field(&err, "ring ops", "statx"), 8, "{err}");
        assert_eq!(field(&err, "ring ops", "openat"), 3, "{err}");
        assert_eq!(field(&err, "syscalls", "fstatat"), 1, "{err}");
        assert_eq!(field(&err, "syscalls", "openat"), 1, "{err}");
        // One submission per stat batch (one per directory here) and per
        // batch of opens (one per directory with subdirectories), plus
        // closes: never one per entry.
        let enters = field(&err, "syscalls", "io_uring_enter");
        assert!((4..=4 + 2 + 8).contains(&enters), "{enters} enters: {err}");
    }
}

/// As root: `kernel.io_uring_disabled=2` makes io_uring_setup fail with
/// EPERM for everyone, as a seccomp filter or an old kernel would (ENOSYS):
/// `--backend uring` stops with one line and exit 1, `auto` scans on.
/// The setting is restored afterwards. (Unprivileged, there is no way to
/// make io_uring_setup fail for one process only: the dynamic loader needs
/// a descriptor too, so a descriptor limit cannot do it.)
#[test]
fn io_uring_disabled_by_sysctl() {
    let _guard = SYSCTL.lock().unwrap_or_else(|p| p.into_inner());
    let knob = std::path::Path::new("/proc/sys/kernel/io_uring_disabled");
    let Ok(before) = std::fs::read_to_string(knob) else {
        eprintln!("SKIPPED: this kernel has no kernel.io_uring_disabled");
        return;
    };
    if !is_root() || std::fs::write(knob, "2").is_err() {
        eprintln!("SKIPPED: cannot set kernel.io_uring_disabled (not root)");
        return;
    }
    struct Restore<'a>(&'a std::path::Path, String);
    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            let _ = std::fs::write(self.0, self.1.trim());
        }
    }
    let _restore = Restore(knob, before);
    let t = small_tree();
    let r = t.fdu(&["-s", "--backend", "uring", "t"]);
    assert_eq!(r.code, 1, "{}", r.err_text());
    assert!(r.stdout.is_empty());
    assert_eq!(
        r.err_text(),
        "fdu: cannot use the uring backend: io_uring_setup failed: Operation not permitted\n"
    );
    let linux = t.fdu(&["-s", "--backend", "linux", "t"]);
    let r = t.fdu(&["-s", "--stats", "--backend", "auto", "t"]);
    assert_eq!(r.code, 0, "{}", r.err_text());
    assert_eq!(r.stdout, linux.stdout);
    assert!(
        r.err_text().starts_with("fdu: stats: backend linux,"),
        "{}",
        r.err_text()
    );
}
