//! The export reader on real exports: a small tree (files, nested and
//! empty directories, a hard link pair across directories, names that are
//! not UTF-8 or hold quotes and control bytes, a sparse file, a symlink)
//! exported by ncdu (`-o`, and `-e -o`) and by gdu (`-n -o`), read back and
//! checked against `symlink_metadata` of every path. Each test is skipped,
//! saying so, where its tool is not installed.
mod common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use common::{have_tool, Tree};
use fdu::export::read::{Event, Reader};
use fdu::export::Entry;

/// Paths below the root (components joined with '/'; "" for the root).
type Paths<T> = BTreeMap<Vec<u8>, T>;

/// The tree under `<tmp>/t`.
fn tree() -> Tree {
    let t = Tree::new();
    t.file("t/a.txt", 5000);
    t.file("t/empty_file", 0);
    t.mkdir("t/d1/d2");
    t.file("t/d1/d2/deep.bin", 70_000);
    t.file("t/d1/hl1", 3000);
    t.hardlink("t/d1/hl1", "t/hl2");
    t.mkdir("t/empty");
    t.file(b"t/bad\xff\xfe", 10);
    t.mkdir(b"t/dir\xc0");
    t.file(b"t/dir\xc0/in\xe9", 20);
    t.file("t/q\"uo\\te\x01\x7f\té", 30);
    t.symlink("a.txt", "t/sym");
    let mut f = File::create(t.p("t/sparse")).unwrap();
    f.set_len(10 << 20).unwrap();
    f.seek(SeekFrom::Start(5 << 20)).unwrap();
    f.write_all(b"x").unwrap();
    t
}

/// Every path under `root` and its metadata, not following symlinks.
fn walk(root: &Path) -> Paths<fs::Metadata> {
    let mut out = Paths::new();
    let mut todo = vec![Vec::new()];
    while let Some(rel) = todo.pop() {
        let path = root.join(OsStr::from_bytes(&rel));
        let md = fs::symlink_metadata(&path).unwrap();
        if md.is_dir() {
            for e in fs::read_dir(&path).unwrap() {
                let name = e.unwrap().file_name();
                let mut child = rel.clone();
                if !child.is_empty() {
                    child.push(b'/');
                }
                child.extend_from_slice(name.as_bytes());
                todo.push(child);
            }
        }
        out.insert(rel, md);
    }
    out
}

/// Every entry of the export in `file` by its path below the root, with
/// whether it came as a directory; and the root's name.
fn read(file: &Path) -> (Vec<u8>, Paths<(Entry, bool)>) {
    let mut r = Reader::new(File::open(file).unwrap(), file.display().to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.header().major, 1);
    let mut root = None;
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut out = Paths::new();
    while let Some(ev) = r.next().unwrap_or_else(|e| panic!("{e}")) {
        let (e, is_dir) = match ev {
            Event::EndDir => {
                stack.pop();
                continue;
            }
            Event::Dir(e) => (e, true),
            Event::File(e) => (e, false),
        };
        let path = match stack.last() {
            None => {
                root = Some(e.name.clone());
                Vec::new()
            }
            Some(parent) if parent.is_empty() => e.name.clone(),
            Some(parent) => [&parent[..], b"/", &e.name].concat(),
        };
        assert!(
            out.insert(path.clone(), (e.clone(), is_dir)).is_none(),
            "twice: {}",
            path.escape_ascii()
        );
        if is_dir {
            stack.push(path);
        }
    }
    assert!(stack.is_empty());
    (root.expect("a root"), out)
}

fn export(program: &str, args: &[&str], root: &Path, file: &Path) {
    let out = Command::new(program)
        .args(args)
        .arg(file)
        .arg(root)
        .output()
        .unwrap();
    assert!(
        out.status.success() && file.exists(),
        "{program} {args:?}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn show(path: &[u8]) -> String {
    path.escape_ascii().to_string()
}

/// Checks an ncdu export of the tree: every path, with lstat's sizes,
/// device, type and link fields; the extended ones with `extended`.
fn check_ncdu(extended: bool) {
    if !have_tool("ncdu") {
        println!("SKIPPED: ncdu not installed");
        return;
    }
    let t = tree();
    let root = t.p("t");
    let file = t.p("export.json");
    let args: &[&str] = if extended {
        &["-0", "-e", "-o"]
    } else {
        &["-0", "-o"]
    };
    export("ncdu", args, &root, &file);
    let (root_name, got) = read(&file);
    assert_eq!(root_name, root.as_os_str().as_bytes());
    let real = walk(&root);
    assert_eq!(
        got.keys().map(|k| show(k)).collect::<Vec<_>>(),
        real.keys().map(|k| show(k)).collect::<Vec<_>>()
    );
    // Names as bytes, exactly.
    for name in [
        &b"bad\xff\xfe"[..],
        b"dir\xc0/in\xe9",
        "q\"uo\\te\x01\x7f\té".as_bytes(),
        b"d1/d2/deep.bin",
        b"empty",
    ] {
        assert!(got.contains_key(name), "{}", show(name));
    }
    assert_eq!(real.len(), 15);
    let mut links = 0;
    for (path, md) in &real {
        let (e, is_dir) = &got[path];
        let p = show(path);
        assert_eq!(*is_dir, md.is_dir(), "{p}");
        assert_eq!(e.asize, md.len(), "{p}: asize");
        assert_eq!(e.dsize, md.blocks() * 512, "{p}: dsize");
        assert_eq!(e.dev, md.dev(), "{p}: dev");
        assert_eq!(e.notreg, !md.is_dir() && !md.is_file(), "{p}: notreg");
        assert!(!e.read_error && e.excluded.is_none(), "{p}");
        let linked = !md.is_dir() && md.nlink() > 1;
        assert_eq!(e.hlnkc, linked, "{p}: hlnkc");
        if linked {
            links += 1;
            assert_eq!(e.ino, Some(md.ino()), "{p}: ino");
            assert_eq!(e.nlink, Some(md.nlink() as u32), "{p}: nlink");
        }
        if extended {
            assert_eq!(e.uid, Some(md.uid()), "{p}: uid");
            assert_eq!(e.gid, Some(md.gid()), "{p}: gid");
            assert_eq!(e.mode, Some(md.mode()), "{p}: mode");
            assert_eq!(e.mtime, Some(md.mtime()), "{p}: mtime");
        } else {
            assert_eq!(
                (e.uid, e.gid, e.mode, e.mtime),
                (None, None, None, None),
                "{p}"
            );
        }
    }
    assert_eq!(links, 2);
    // The sparse file's blocks are far fewer than its length.
    let (sparse, _) = &got[&b"sparse"[..]];
    assert!(sparse.dsize < sparse.asize / 10, "{sparse:?}");
}

#[test]
fn ncdu_export_reads_back() {
    check_ncdu(false);
}

#[test]
fn ncdu_extended_export_reads_back() {
    check_ncdu(true);
}

#[test]
fn gdu_export_reads_back() {
    if !have_tool("gdu") {
        println!("SKIPPED: gdu not installed");
        return;
    }
    let t = tree();
    let root = t.p("t");
    let file = t.p("export.json");
    export("gdu", &["-n", "-p", "-o"], &root, &file);
    let (root_name, got) = read(&file);
    assert_eq!(root_name, root.as_os_str().as_bytes());
    // gdu writes each byte that is not UTF-8 as U+FFFD.
    let real: Paths<fs::Metadata> = walk(&root)
        .into_iter()
        .map(|(k, v)| (String::from_utf8_lossy(&k).into_owned().into_bytes(), v))
        .collect();
    assert_eq!(
        got.keys().map(|k| show(k)).collect::<Vec<_>>(),
        real.keys().map(|k| show(k)).collect::<Vec<_>>()
    );
    for name in ["bad\u{fffd}\u{fffd}", "dir\u{fffd}/in\u{fffd}"] {
        assert!(got.contains_key(name.as_bytes()), "{name}");
    }
    let mut linked = 0;
    let root_dev = got[&b""[..]].0.dev;
    for (path, md) in &real {
        let (e, is_dir) = &got[path];
        let p = show(path);
        assert_eq!(*is_dir, md.is_dir(), "{p}");
        if md.is_dir() {
            // gdu gives directories no size of their own.
            assert!(e.asize == 0 || e.asize == md.len(), "{p}: asize");
        } else {
            assert_eq!(e.asize, md.len(), "{p}: asize");
            assert_eq!(e.dsize, md.blocks() * 512, "{p}: dsize");
        }
        assert_eq!(e.mtime, Some(md.mtime()), "{p}: mtime");
        // No dev written: the root's (0), inherited everywhere.
        assert_eq!(e.dev, root_dev, "{p}: dev");
        assert_eq!(e.notreg, md.is_symlink(), "{p}: notreg");
        // gdu marks the links it met after the first.
        if e.hlnkc {
            linked += 1;
            assert!(md.nlink() > 1, "{p}");
            assert_eq!(e.ino, Some(md.ino()), "{p}: ino");
        }
    }
    assert_eq!(linked, 1);
}
