//! Candidates from the scan: every regular file the walk stats, kept by the
//! worker that met it, then merged into inodes and size groups.
use std::ops::Range;
use std::sync::Mutex;

use fdu_platform::Meta;

use crate::walk::FileSink;

/// A file as the scan saw it; its path lives in its shard's byte buffer.
struct Seen {
    meta: Meta,
    path: Range<usize>,
}

/// One worker's files: no other worker takes this lock.
#[derive(Default)]
struct Shard {
    paths: Vec<u8>,
    files: Vec<Seen>,
}

/// The [`FileSink`] of `--dups`: keeps every regular file of at least
/// `min_size` bytes, sharded by worker.
pub struct Collector {
    min_size: u64,
    shards: Vec<Mutex<Shard>>,
}

impl Collector {
    /// A collector for a scan with `threads` workers (plus the main thread).
    pub fn new(threads: usize, min_size: u64) -> Collector {
        Collector {
            min_size,
            shards: (0..=threads).map(|_| Mutex::default()).collect(),
        }
    }

    /// Merge what the scan found into inodes, sorted by size, then by
    /// `(dev, ino)`.
    pub fn into_inodes(self) -> Vec<Inode> {
        let mut seen: Vec<(Meta, Vec<u8>)> = Vec::new();
        for shard in self.shards {
            let shard = shard.into_inner().unwrap_or_else(|p| p.into_inner());
            seen.extend(
                shard
                    .files
                    .into_iter()
                    .map(|f| (f.meta, shard.paths[f.path].to_vec())),
            );
        }
        seen.sort_unstable_by(|(a, pa), (b, pb)| {
            (a.size, a.dev, a.ino, pa).cmp(&(b.size, b.dev, b.ino, pb))
        });
        seen.dedup_by(|(a, pa), (b, pb)| a.id() == b.id() && pa == pb);
        let mut inodes: Vec<Inode> = Vec::new();
        for (meta, path) in seen {
            match inodes.last_mut() {
                Some(last) if last.meta.id() == meta.id() => {
                    // A file with one link met under two paths (overlapping
                    // arguments, -L, bind mounts) is one file: keep the
                    // first path. Only real links are listed as links.
                    if meta.nlink > 1 {
                        last.paths.push(path);
                    }
                }
                _ => inodes.push(Inode {
                    meta,
                    paths: vec![path],
                }),
            }
        }
        inodes
    }
}

impl FileSink for Collector {
    fn file(&self, worker: usize, path: &[u8], meta: &Meta) {
        if meta.size < self.min_size {
            return;
        }
        let mut shard = self.shards[worker]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let start = shard.paths.len();
        shard.paths.extend_from_slice(path);
        let path = start..shard.paths.len();
        shard.files.push(Seen { meta: *meta, path });
    }
}

/// One file: an inode, with every path it was met under (sorted by bytes).
#[derive(Clone, Debug)]
pub struct Inode {
    /// The stat the scan made: the reference a read is checked against.
    pub meta: Meta,
    /// Its paths; more than one only for hard links. The first one is the
    /// path that is opened and that stands for the file in a group.
    pub paths: Vec<Vec<u8>>,
}

/// Index ranges of `inodes` (sorted by size) holding two or more files of
/// one size: the only files that are ever read.
pub fn size_groups(inodes: &[Inode]) -> Vec<Range<usize>> {
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=inodes.len() {
        if i == inodes.len() || inodes[i].meta.size != inodes[start].meta.size {
            if i - start >= 2 {
                groups.push(start..i);
            }
            start = i;
        }
    }
    groups
}
