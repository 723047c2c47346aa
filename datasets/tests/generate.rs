//! End-to-end: plans are deterministic, and the trees made on disk hold what
//! their manifests say (counted with an fd-relative walk, so the deep tree's
//! paths beyond PATH_MAX are reached too).

use std::collections::HashSet;
use std::path::Path;

use fdu_datasets::{create, data_byte, manifest_path, Kind, Manifest, Plan, Shape};
use rustix::fd::OwnedFd;
use rustix::fs::{openat, statat, AtFlags, Dir, FileType, Mode, OFlags, CWD};

#[derive(Default, Debug, PartialEq, Eq)]
struct Walk {
    entries: u64,
    dirs: u64,
    files: u64,
    symlinks: u64,
    inodes: u64,
    apparent: u64,
}

fn walk(dir: OwnedFd, w: &mut Walk, seen: &mut HashSet<u64>) {
    let mut subdirs = Vec::new();
    for e in Dir::read_from(&dir).expect("read dir") {
        let e = e.expect("dirent");
        let name = e.file_name();
        if name.to_bytes() == b"." || name.to_bytes() == b".." {
            continue;
        }
        let st = statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW).expect("stat");
        w.entries += 1;
        match FileType::from_raw_mode(st.st_mode) {
            FileType::Directory => {
                w.dirs += 1;
                subdirs.push(name.to_owned());
            }
            FileType::RegularFile => {
                w.files += 1;
                if seen.insert(st.st_ino) {
                    w.inodes += 1;
                    w.apparent += st.st_size as u64;
                }
            }
            FileType::Symlink => {
                w.symlinks += 1;
                w.apparent += st.st_size as u64;
            }
            t => panic!("unexpected file type {t:?}"),
        }
    }
    for s in subdirs {
        let fd = openat(
            &dir,
            s.as_c_str(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW,
            Mode::empty(),
        )
        .expect("open subdir");
        walk(fd, w, seen);
    }
}

fn count(root: &Path) -> Walk {
    let fd = openat(CWD, root, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
    let mut w = Walk {
        entries: 1,
        dirs: 1,
        ..Walk::default()
    };
    walk(fd, &mut w, &mut HashSet::new());
    w
}

fn expected(m: &Manifest) -> Walk {
    Walk {
        entries: m.total_entries,
        dirs: m.dirs,
        files: m.find_type_f,
        symlinks: m.symlinks,
        inodes: m.regular_files,
        apparent: m.total_apparent_bytes,
    }
}

#[test]
fn same_seed_same_manifest() {
    for shape in [Shape::Mixed, Shape::Wide, Shape::Deep, Shape::Dups] {
        let a = Manifest::of(&Plan::new(shape, 3000, 7));
        let b = Manifest::of(&Plan::new(shape, 3000, 7));
        assert_eq!(a, b);
        assert_eq!(a.to_json(), b.to_json());
        let c = Manifest::of(&Plan::new(shape, 3000, 8));
        assert_ne!(a.plan_digest, c.plan_digest, "{shape}: seed must matter");
    }
}

#[test]
fn exact_entry_counts() {
    for shape in [Shape::Mixed, Shape::Wide, Shape::Deep, Shape::Dups] {
        for n in [1, 2, 3, 5, 17, 100, 999, 5000] {
            let m = Manifest::of(&Plan::new(shape, n, 1));
            assert_eq!(m.total_entries, n, "{shape} n={n}");
            assert_eq!(m.dirs + m.find_type_f + m.symlinks, n, "{shape} n={n}");
        }
    }
}

#[test]
fn mixed_has_every_feature() {
    let m = Manifest::of(&Plan::new(Shape::Mixed, 20_000, 1));
    assert!(m.hard_links > 0 && m.symlinks > 0);
    assert!(m.dangling_symlinks > 0 && m.loop_symlinks > 0 && m.ancestor_symlinks > 0);
    assert!(m.sparse_files > 0 && m.empty_files > 0);
    assert!(m.non_utf8_names >= 2 && m.name_max_names >= 2);
    assert!((3..=8).contains(&m.max_depth), "depth {}", m.max_depth);
    let d = Manifest::of(&Plan::new(Shape::Deep, 2000, 1));
    assert!(d.max_rel_path_bytes > 4 * 4096);
}

#[test]
fn trees_on_disk_match_manifests() {
    let tmp = tempfile::tempdir().unwrap();
    for (shape, n) in [
        (Shape::Mixed, 3000),
        (Shape::Wide, 1000),
        (Shape::Deep, 600),
        (Shape::Dups, 400),
    ] {
        let plan = Plan::new(shape, n, 3);
        let m = Manifest::of(&plan);
        let root = tmp.path().join(shape.name());
        create(&plan, &root, 2).unwrap();
        assert_eq!(count(&root), expected(&m), "{shape}");
        // Twice more, with other thread counts: the same tree.
        let again = tmp.path().join(format!("{shape}-again"));
        create(&plan, &again, 1).unwrap();
        assert_eq!(count(&again), expected(&m), "{shape} again");
    }
    assert!(manifest_path(Path::new("/x/mixed-1m"))
        .to_str()
        .unwrap()
        .ends_with("/x/mixed-1m.manifest.json"));
}

/// The dups tree's contents are what its plan promises: files planned alike
/// are byte-identical, and same-size files planned differently differ
/// (near-duplicates differ exactly at their flipped byte).
#[test]
fn dups_contents_follow_the_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = Plan::new(Shape::Dups, 1500, 5);
    let root = tmp.path().join("dups");
    create(&plan, &root, 2).unwrap();
    let mut by_key: std::collections::HashMap<(u64, u64, Option<u64>), Vec<u8>> =
        std::collections::HashMap::new();
    let mut by_bytes: std::collections::HashMap<Vec<u8>, (u64, u64, Option<u64>)> =
        std::collections::HashMap::new();
    let (mut groups, mut flips) = (0, 0);
    for it in &plan.items {
        let Kind::Data {
            size,
            content,
            flip,
        } = it.kind
        else {
            continue;
        };
        if size > (1 << 20) {
            continue; // keep the test quick: large files are checked by size only
        }
        let path = root.join(String::from_utf8(plan.dir_path(it.dir)).unwrap());
        let bytes = std::fs::read(path.join(std::str::from_utf8(&it.name).unwrap())).unwrap();
        assert_eq!(bytes.len() as u64, size);
        if let Some(at) = flip {
            flips += 1;
            assert_eq!(bytes[at as usize], !data_byte(content, at));
        } else if size > 0 {
            assert_eq!(bytes[0], data_byte(content, 0));
        }
        let key = if size == 0 {
            (0, 0, None)
        } else {
            (size, content, flip)
        };
        match by_key.get(&key) {
            Some(seen) => {
                groups += 1;
                assert_eq!(seen, &bytes, "{key:?} copies differ");
            }
            None => {
                by_key.insert(key, bytes.clone());
            }
        }
        let other = by_bytes.entry(bytes).or_insert(key);
        assert_eq!(*other, key, "different plans, same bytes");
    }
    assert!(
        groups > 50 && flips > 20,
        "{groups} duplicates, {flips} near-duplicates"
    );
}
