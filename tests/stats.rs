//! `--stats`: the syscall counts it prints are the syscalls the scan made.
mod common;

use std::process::Command;

use common::fdu_bin;

fn field(stderr: &str, label: &str) -> u64 {
    let line = stderr
        .lines()
        .find(|l| l.contains(label))
        .unwrap_or_else(|| panic!("no {label:?} in {stderr}"));
    let rest = &line[line.find(label).unwrap() + label.len()..];
    rest.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {label:?} in {line:?}"))
}

#[test]
fn counts_one_stat_per_entry_and_one_open_per_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("t");
    for d in ["a", "a/b", "c"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    for f in ["f1", "a/f2", "a/b/f3", "c/f4", "c/f5"] {
        std::fs::write(root.join(f), b"x").unwrap();
    }
    for threads in ["1", "2", "8"] {
        let out = Command::new(fdu_bin())
            .args(["-s", "--stats", "-j", threads])
            .arg(&root)
            .output()
            .unwrap();
        assert!(out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        // The argument plus 3 directories and 5 files.
        assert_eq!(field(&err, "entries "), 9, "{err}");
        assert_eq!(field(&err, "directories "), 4, "{err}");
        assert_eq!(field(&err, "fstatat "), 9, "{err}");
        assert_eq!(field(&err, "openat "), 4, "{err}");
        assert_eq!(field(&err, "close "), 4, "{err}");
        assert_eq!(field(&err, "getdents64 "), 8, "{err}");
    }
}
