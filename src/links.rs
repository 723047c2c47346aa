//! The hard-link set: every file system object that may be reached more
//! than once, keyed by `(st_dev, st_ino)`.
//!
//! It is sharded by a hash of the key, each shard behind its own mutex, so
//! workers only contend when they touch the same shard at the same instant;
//! no thread sees every entry. Only entries that can repeat are inserted:
//! non-directories with `nlink > 1`, plus (like du's `hash_all`) directories
//! when several paths are given or symlinks are followed.
//!
//! A file's occurrences are all kept until the scan ends; it is then charged
//! to the first occurrence in path order ([`crate::tree`]), so per-directory
//! output never depends on which worker got there first.
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

use crate::ids::{IdHasher, IdMap};
use crate::tree::{NodeId, Occurrences, Totals};

/// One shard: identities only claimed (directories, and files charged at
/// once), and files whose occurrences are kept. A claimed identity costs
/// its 16 bytes and the table's overhead, nothing else: `fdu -s` over ten
/// million entries keeps its hard links in a few megabytes.
#[derive(Default)]
struct Shard {
    claimed: std::collections::HashSet<(u64, u64), BuildHasherDefault<IdHasher>>,
    files: IdMap<(u64, u64), Occurrences>,
}

/// The sharded `(dev, ino)` set shared by every worker and path argument.
pub struct LinkSet {
    shards: Box<[Mutex<Shard>]>,
    mask: u64,
}

impl LinkSet {
    /// A set with enough shards for `threads` workers to rarely collide.
    pub fn new(threads: usize) -> LinkSet {
        let n = (threads * 8).next_power_of_two().max(16);
        LinkSet {
            shards: (0..n).map(|_| Mutex::new(Shard::default())).collect(),
            mask: n as u64 - 1,
        }
    }

    fn shard(&self, id: (u64, u64)) -> std::sync::MutexGuard<'_, Shard> {
        let mut h = IdHasher::default();
        h.write_u64(id.0);
        h.write_u64(id.1);
        let i = (h.finish() >> 40) & self.mask;
        self.shards[i as usize]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Claim a directory: true the first time `id` is seen.
    pub fn claim_dir(&self, id: (u64, u64)) -> bool {
        self.shard(id).claimed.insert(id)
    }

    /// Claim a file that is charged where it is first seen (when every
    /// occurrence would be charged to the same node): true the first time
    /// `id` is seen. Nothing but the identity is kept.
    pub fn claim_file(&self, id: (u64, u64)) -> bool {
        self.shard(id).claimed.insert(id)
    }

    /// Record one occurrence of a file that may have other names.
    pub fn record_file(&self, id: (u64, u64), totals: Totals, node: NodeId) {
        let mut shard = self.shard(id);
        if shard.claimed.contains(&id) {
            return;
        }
        match shard.files.get_mut(&id) {
            // Links in one directory fold into one node: keep it once.
            Some(occ) if occ.nodes.last() == Some(&node) => {}
            Some(occ) => occ.nodes.push(node),
            None => {
                shard.files.insert(
                    id,
                    Occurrences {
                        totals,
                        nodes: vec![node],
                    },
                );
            }
        }
    }

    /// Take every file's occurrences out of the set (directories stay
    /// claimed, so later path arguments still skip them).
    pub fn drain_files(&self) -> Vec<Occurrences> {
        self.drain_identified()
            .into_iter()
            .map(|(_, occ)| occ)
            .collect()
    }

    /// [`LinkSet::drain_files`], each file with its identity (for the
    /// process of a distributed scan that owns it, `crate::ranks`).
    pub fn drain_identified(&self) -> Vec<((u64, u64), Occurrences)> {
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            out.extend(shard.files.drain());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_are_claimed_once_and_files_collect_occurrences() {
        let set = LinkSet::new(2);
        assert!(set.claim_dir((1, 2)));
        assert!(!set.claim_dir((1, 2)));
        assert!(set.claim_dir((2, 2)), "same inode on another device");
        let t = Totals {
            disk: 4096,
            apparent: 10,
            inodes: 1,
            ..Totals::default()
        };
        set.record_file((1, 9), t, NodeId::new(0, 3));
        set.record_file((1, 9), t, NodeId::new(1, 1));
        let occ = set.drain_files();
        assert_eq!(occ.len(), 1);
        assert_eq!(occ[0].nodes.len(), 2);
        assert_eq!(occ[0].totals, t);
    }
}
