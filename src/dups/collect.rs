//! Candidates from the scan: every regular file the walk stats, kept by the
//! worker that met it, then merged into inodes and size groups.
//!
//! A file costs one [`File`] (56 bytes: its directory as the walker's shared
//! [`DirPath`], the offset of its name in its worker's name buffer, and the
//! stat fields the pipeline checks) plus its name and a NUL. No path string
//! is kept: paths are written when a file is opened or printed.
use std::ops::Range;

use fdu_platform::{Kind, Meta};

use crate::dirs::{DirPath, DirRef};
use crate::visit::{Step, Visit, Visitor};

/// Bits of a name's offset in its worker's buffer; the worker is above.
const OFFSET_BITS: u32 = 40;

/// A file as the scan saw it: where it is, and what its stat said.
#[derive(Clone)]
pub struct File {
    dir: DirPath,
    /// Worker (high bits) and offset in that worker's name buffer.
    name: u64,
    /// `st_size`.
    pub size: u64,
    /// `st_dev`.
    pub dev: u64,
    /// `st_ino`.
    pub ino: u64,
    /// `st_mtime`.
    pub mtime: i64,
    /// `st_mtime_nsec`.
    pub mtime_nsec: u32,
    /// `st_nlink`, saturated.
    pub nlink: u32,
}

impl File {
    /// `(st_dev, st_ino)`: the file's identity.
    pub fn id(&self) -> (u64, u64) {
        (self.dev, self.ino)
    }

    /// Whether `after` (an `fstat` after reading) is this file unchanged.
    pub fn unchanged(&self, after: &Meta) -> bool {
        self.id() == after.id()
            && self.size == after.size
            && (self.mtime, self.mtime_nsec) == (after.mtime, after.mtime_nsec)
            && after.kind == fdu_platform::Kind::File
    }

    fn place(&self) -> Place {
        Place {
            dir: self.dir.clone(),
            name: self.name,
        }
    }
}

/// Another path of a multiply-linked file.
#[derive(Clone)]
struct Place {
    dir: DirPath,
    name: u64,
}

/// The visitor of `--dups`: keeps every regular file of at least
/// `min_size` bytes, each worker its own (a [`Shard`]), and walks every
/// directory.
pub struct Collector {
    min_size: u64,
    /// Keep the other paths of multiply-linked files (`--hardlinks`).
    links: bool,
}

/// One worker's files.
pub struct Shard {
    min_size: u64,
    /// The worker's index: the high bits of its files' name offsets.
    index: u64,
    /// Names, each followed by a NUL (a name never holds one).
    names: Vec<u8>,
    files: Vec<File>,
}

impl Collector {
    /// A collector of files of at least `min_size` bytes, keeping the
    /// other paths of multiply-linked files when `links` asks.
    pub fn new(min_size: u64, links: bool) -> Collector {
        Collector { min_size, links }
    }

    /// Merge what the workers found (`shards`, in worker order) into inodes
    /// and keep those that can be duplicates: two or more inodes of one
    /// size (and, with `links`, files with several paths, for
    /// `--hardlinks`).
    pub fn into_files(shards: Vec<Shard>, links: bool) -> Files {
        let mut names = Vec::with_capacity(shards.len());
        let mut all: Vec<File> = Vec::new();
        for (i, mut shard) in shards.into_iter().enumerate() {
            debug_assert_eq!(shard.index, i as u64);
            names.push(shard.names);
            all.append(&mut shard.files);
        }
        let mut files = Files {
            files: Vec::new(),
            links: Vec::new(),
            names,
            inodes: 0,
        };
        all.sort_unstable_by_key(|f| (f.size, f.dev, f.ino));
        let mut path = Vec::new();
        // Fold each run of one (dev, ino) into its first entry, in place.
        let mut kept = 0;
        let mut start = 0;
        while start < all.len() {
            let id = (all[start].size, all[start].id());
            let end = start + all[start..].partition_point(|f| (f.size, f.id()) == id);
            let first = if end - start == 1 {
                start
            } else {
                // The same inode met under several paths: the first by bytes
                // stands for it. A file with one link met twice (overlapping
                // arguments, -L, bind mounts) is one file; only real links
                // are listed as links.
                let mut places: Vec<(Vec<u8>, usize)> = (start..end)
                    .map(|i| {
                        files.write_place(&all[i].place(), &mut path);
                        (path.clone(), i)
                    })
                    .collect();
                places.sort_unstable();
                places.dedup_by(|a, b| a.0 == b.0);
                if links && all[start].nlink > 1 && places.len() > 1 {
                    let extra = places[1..].iter().map(|&(_, i)| all[i].place()).collect();
                    files.links.push((kept, extra));
                }
                places[0].1
            };
            all.swap(kept, first);
            kept += 1;
            start = end;
        }
        all.truncate(kept);
        files.inodes = all.len();
        // Drop sizes with one inode: they are never read (nor listed, unless
        // they have links).
        let mut link = 0;
        let mut kept = 0;
        let mut start = 0;
        while start < all.len() {
            let size = all[start].size;
            let end = start + all[start..].partition_point(|f| f.size == size);
            for i in start..end {
                let linked = files.links.get(link).is_some_and(|l| l.0 == i);
                if end - start >= 2 || linked {
                    if linked {
                        files.links[link].0 = kept;
                        link += 1;
                    }
                    all.swap(kept, i);
                    kept += 1;
                }
            }
            start = end;
        }
        all.truncate(kept);
        all.shrink_to_fit();
        files.files = all;
        files
    }
}

impl Visitor for Collector {
    type Worker<'v> = Shard;
    /// The files that can be duplicates.
    type Output = Files;

    fn worker(&self, index: usize) -> Shard {
        Shard {
            min_size: self.min_size,
            index: index as u64,
            names: Vec::new(),
            files: Vec::new(),
        }
    }

    fn finish(&self, shards: Vec<Shard>) -> Files {
        Collector::into_files(shards, self.links)
    }
}

impl Visit for Shard {
    /// Nothing is kept per directory.
    type Dir = ();

    fn root(&mut self, _arg: usize, display: &[u8], meta: &Meta) -> Step<()> {
        self.file(DirPath::argument, display, meta);
        match meta.kind {
            Kind::Dir => Step::Descend(()),
            _ => Step::Skip,
        }
    }

    #[inline]
    fn entry(&mut self, dir: &DirRef<'_, ()>, name: &[u8], meta: &Meta) -> Step<()> {
        self.file(|| dir.to_path(), name, meta);
        Step::Descend(())
    }
}

impl Shard {
    /// Keep `name` in `dir` if it is a regular file of `min_size` bytes or
    /// more.
    fn file(&mut self, dir: impl FnOnce() -> DirPath, name: &[u8], meta: &Meta) {
        if meta.kind != Kind::File || meta.size < self.min_size {
            return;
        }
        let offset = self.names.len() as u64;
        assert!(offset < 1 << OFFSET_BITS, "names of one worker past 1 TiB");
        self.names.extend_from_slice(name);
        self.names.push(0);
        self.files.push(File {
            dir: dir(),
            name: self.index << OFFSET_BITS | offset,
            size: meta.size,
            dev: meta.dev,
            ino: meta.ino,
            mtime: meta.mtime,
            mtime_nsec: meta.mtime_nsec,
            nlink: u32::try_from(meta.nlink).unwrap_or(u32::MAX),
        });
    }
}

/// The files that can be duplicates: one [`File`] per inode (its first path
/// by bytes), sorted by size, then by `(dev, ino)`; only sizes shared by two
/// or more inodes, and multiply-linked files when links are wanted.
pub struct Files {
    files: Vec<File>,
    /// Files met under several paths: index and the other paths, by bytes.
    links: Vec<(usize, Vec<Place>)>,
    /// Each worker's names.
    names: Vec<Vec<u8>>,
    /// Inodes the scan passed, before sizes of one were dropped.
    inodes: usize,
}

impl Files {
    /// Every kept file.
    pub fn all(&self) -> &[File] {
        &self.files
    }

    /// How many inodes of at least `--min-size` bytes the scan met.
    pub fn inodes(&self) -> usize {
        self.inodes
    }

    /// Write the path of file `i` (its first path) to `out`.
    pub fn write_path(&self, i: usize, out: &mut Vec<u8>) {
        self.write_place(&self.files[i].place(), out);
    }

    fn write_place(&self, place: &Place, out: &mut Vec<u8>) {
        let names = &self.names[(place.name >> OFFSET_BITS) as usize];
        let from = (place.name & ((1 << OFFSET_BITS) - 1)) as usize;
        let len = names[from..]
            .iter()
            .position(|&b| b == 0)
            .expect("names end with a NUL");
        place.dir.write_path(&names[from..from + len], out);
    }

    /// Files with several paths (kept when links were asked for): each
    /// file's index and all its paths, sorted by bytes.
    pub fn linked(&self) -> Vec<(usize, Vec<Vec<u8>>)> {
        let mut path = Vec::new();
        self.links
            .iter()
            .map(|(i, extra)| {
                let mut paths = Vec::with_capacity(extra.len() + 1);
                self.write_path(*i, &mut path);
                paths.push(path.clone());
                for place in extra {
                    self.write_place(place, &mut path);
                    paths.push(path.clone());
                }
                (*i, paths)
            })
            .collect()
    }

    /// Index ranges holding two or more inodes of one size: the only files
    /// that are ever read.
    pub fn size_groups(&self) -> Vec<Range<usize>> {
        let files = &self.files;
        let mut groups = Vec::new();
        let mut start = 0;
        for i in 1..=files.len() {
            if i == files.len() || files[i].size != files[start].size {
                if i - start >= 2 {
                    groups.push(start..i);
                }
                start = i;
            }
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_candidate_is_56_bytes_and_its_name() {
        assert_eq!(std::mem::size_of::<super::File>(), 56);
    }
}
