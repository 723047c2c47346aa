//! The hashing pipeline: each size group goes head -> tail -> full on its
//! own, in parallel with the others.
//!
//! ```text
//!  size group (2+ inodes of one size, biggest groups first)
//!    head  read the first min(size, HEAD) bytes into a BLAKE3 hasher;
//!          key = hash of those bytes (a clone of the hasher, finalized).
//!          size <= HEAD: that is the hash of the whole file: done.
//!    tail  size > HEAD: read the last min(TAIL, size - HEAD) bytes, keep
//!          them; key = their hash.
//!    full  continue the head's hasher with the bytes between head and tail
//!          (pread, or mapped windows for long ranges; update_rayon splits
//!          big pieces over the pool), then the kept tail bytes: the hash
//!          of the whole file, no byte read twice.
//!  after every stage: split by key, drop sets of one.
//!  after the last read of a file: fstat; a file whose (dev, ino, size,
//!  mtime) differ from the scan's stat changed while it was read: reported,
//!  left out.
//! ```
//!
//! Workers (one per hashing thread) take size groups from a shared counter
//! and carry each one through every stage, so a group is reported as soon
//! as it is hashed and only its own candidates' state is held: memory stays
//! proportional to the threads, not to the tree. Files of small groups stay
//! open from head to full; larger groups reopen them, so open fds stay
//! bounded.
use std::io::BufRead;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use fdu_platform::content::{Content, FeedPlan, ReadError};
use fdu_platform::Meta;

use super::collect::Inode;
use crate::diag;

/// Bytes hashed by the head stage. Larger than fclones' 4 KiB: most files
/// in a typical tree are smaller than this, and for them one read does
/// every stage (see the README for the measurements).
pub const HEAD: u64 = 16 * 1024;
/// Bytes compared by the tail stage (at most; never overlapping the head).
pub const TAIL: u64 = 4 * 1024;
/// Groups with more files than this reopen them between stages.
const KEEP_OPEN: usize = 64;
/// Pieces at least this long are hashed with `update_rayon`: below it, the
/// split costs more than it gains (BLAKE3's documentation says 128 KiB).
const RAYON_MIN: usize = 128 * 1024;

/// How to read and how many threads.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Hashing threads.
    pub threads: usize,
    /// When to map instead of reading, and the window size.
    pub plan: FeedPlan,
    /// `pread` buffer per thread.
    pub buffer: usize,
    /// Test hook: stop before the last read of the file with this path,
    /// until a line arrives on stdin (see `FDU_TEST_PAUSE_HASHING`).
    pub pause_at: Option<Vec<u8>>,
}

/// Files of equal contents: two or more inodes.
#[derive(Clone, Debug)]
pub struct Found {
    /// Their size.
    pub size: u64,
    /// BLAKE3 of their contents.
    pub hash: blake3::Hash,
    /// Indices into the inodes.
    pub members: Vec<usize>,
}

/// What each stage read, for `--stats`.
#[derive(Clone, Copy, Default, Debug)]
pub struct StageStats {
    /// Files opened (reopens included).
    pub opened: u64,
    /// Files and bytes read by the head stage.
    pub head: (u64, u64),
    /// Files and bytes read by the tail stage.
    pub tail: (u64, u64),
    /// Files and bytes read by the full stage.
    pub full: (u64, u64),
    /// Files left out (unreadable or changed).
    pub errors: u64,
}

impl StageStats {
    fn add(&mut self, o: &StageStats) {
        self.opened += o.opened;
        for (a, b) in [
            (&mut self.head, o.head),
            (&mut self.tail, o.tail),
            (&mut self.full, o.full),
        ] {
            a.0 += b.0;
            a.1 += b.1;
        }
        self.errors += o.errors;
    }
}

/// Everything the pipeline found.
#[derive(Default, Debug)]
pub struct Hashed {
    /// Sets of equal files, in no particular order.
    pub groups: Vec<Found>,
    /// Counters.
    pub stats: StageStats,
}

/// Hash the size groups of `inodes` and return the sets of equal files.
pub fn find(inodes: &[Inode], mut groups: Vec<Range<usize>>, settings: &Settings) -> Hashed {
    // Biggest groups first: the last ones to finish are then short.
    groups.sort_by_key(|r| std::cmp::Reverse(inodes[r.start].meta.size * r.len() as u64));
    let threads = settings.threads.max(1);
    let next = AtomicUsize::new(0);
    let done = Mutex::new(Hashed::default());
    let work = || {
        let mut worker = Worker::new(inodes, settings);
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(range) = groups.get(i) else { break };
            worker.group(range.clone());
        }
        let mut done = done.lock().unwrap_or_else(|p| p.into_inner());
        done.groups.append(&mut worker.found);
        done.stats.add(&worker.stats);
    };
    match rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("fdu-hash-{i}"))
        .build()
    {
        // The workers run as pool jobs, so update_rayon's halves can be
        // taken by a thread whose worker has run out of groups.
        Ok(pool) => pool.scope(|s| {
            for _ in 0..threads {
                s.spawn(|_| work());
            }
        }),
        Err(_) => work(),
    }
    done.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// A file on its way through the stages.
struct Candidate {
    inode: usize,
    file: Option<Content>,
    hasher: blake3::Hasher,
    /// The bytes of the tail stage, hashed last by the full stage.
    tail: Vec<u8>,
    key: [u8; 32],
}

/// One hashing thread.
struct Worker<'a> {
    inodes: &'a [Inode],
    settings: &'a Settings,
    buf: Vec<u8>,
    found: Vec<Found>,
    stats: StageStats,
}

impl<'a> Worker<'a> {
    fn new(inodes: &'a [Inode], settings: &'a Settings) -> Worker<'a> {
        Worker {
            inodes,
            settings,
            buf: vec![0; settings.buffer.max(HEAD as usize)],
            found: Vec::new(),
            stats: StageStats::default(),
        }
    }

    fn path(&self, c: &Candidate) -> &'a [u8] {
        &self.inodes[c.inode].paths[0]
    }

    /// Carry one size group through every stage.
    fn group(&mut self, range: Range<usize>) {
        let size = self.inodes[range.start].meta.size;
        let keep_open = range.len() <= KEEP_OPEN;
        let mut heads = Vec::with_capacity(range.len());
        for inode in range {
            if let Some(c) = self.head(inode, size, keep_open) {
                heads.push(c);
            }
        }
        for set in split(heads) {
            if size <= HEAD {
                self.report(size, set);
                continue;
            }
            let tails: Vec<Candidate> =
                set.into_iter().filter_map(|c| self.tail(c, size)).collect();
            for set in split(tails) {
                let full: Vec<Candidate> =
                    set.into_iter().filter_map(|c| self.full(c, size)).collect();
                for set in split(full) {
                    self.report(size, set);
                }
            }
        }
    }

    fn head(&mut self, inode: usize, size: u64, keep_open: bool) -> Option<Candidate> {
        let mut c = Candidate {
            inode,
            file: None,
            hasher: blake3::Hasher::new(),
            tail: Vec::new(),
            key: [0; 32],
        };
        let len = size.min(HEAD) as usize;
        self.open(&mut c)?;
        let read = c
            .file
            .as_ref()
            .expect("opened")
            .read_exact_at(&mut self.buf[..len], 0);
        if let Err(e) = read {
            self.failed(&c, e);
            return None;
        }
        self.stats.head.0 += 1;
        self.stats.head.1 += len as u64;
        c.hasher.update(&self.buf[..len]);
        c.key = *c.hasher.clone().finalize().as_bytes();
        if size <= HEAD {
            // That was the whole file: check it did not change meanwhile.
            self.pause(&c);
            if !self.unchanged(&c) {
                return None;
            }
            c.file = None;
        } else if !keep_open {
            c.file = None;
        }
        Some(c)
    }

    fn tail(&mut self, mut c: Candidate, size: u64) -> Option<Candidate> {
        let len = (size - HEAD).min(TAIL);
        c.tail = vec![0; len as usize];
        self.open(&mut c)?;
        let read = c
            .file
            .as_ref()
            .expect("opened")
            .read_exact_at(&mut c.tail, size - len);
        if let Err(e) = read {
            self.failed(&c, e);
            return None;
        }
        self.stats.tail.0 += 1;
        self.stats.tail.1 += len;
        c.key = *blake3::hash(&c.tail).as_bytes();
        Some(c)
    }

    fn full(&mut self, mut c: Candidate, size: u64) -> Option<Candidate> {
        let middle = size - HEAD - c.tail.len() as u64;
        self.open(&mut c)?;
        self.pause(&c);
        let plan = self.settings.plan;
        let hasher = &mut c.hasher;
        let fed = c.file.as_ref().expect("opened").feed(
            HEAD,
            middle,
            plan,
            &mut self.buf,
            &mut |bytes| {
                if bytes.len() >= RAYON_MIN {
                    hasher.update_rayon(bytes);
                } else {
                    hasher.update(bytes);
                }
            },
        );
        if let Err(e) = fed {
            self.failed(&c, e);
            return None;
        }
        self.stats.full.0 += 1;
        self.stats.full.1 += middle;
        c.hasher.update(&c.tail);
        if !self.unchanged(&c) {
            return None;
        }
        c.file = None;
        c.key = *c.hasher.finalize().as_bytes();
        Some(c)
    }

    /// Open the candidate's file unless it is still open.
    fn open(&mut self, c: &mut Candidate) -> Option<()> {
        if c.file.is_some() {
            return Some(());
        }
        self.stats.opened += 1;
        match Content::open(crate::walk::os_path(self.path(c))) {
            Ok(f) => {
                c.file = Some(f);
                Some(())
            }
            Err(e) => {
                self.failed(c, ReadError::Io(e));
                None
            }
        }
    }

    /// Whether the open file is still what the scan stat'ed; reported if not.
    fn unchanged(&mut self, c: &Candidate) -> bool {
        let before = &self.inodes[c.inode].meta;
        match c.file.as_ref().expect("opened").stat() {
            Ok(after) if same_file(before, &after) => true,
            Ok(_) => {
                self.failed(c, ReadError::Changed);
                false
            }
            Err(e) => {
                self.failed(c, ReadError::Io(e));
                false
            }
        }
    }

    fn failed(&mut self, c: &Candidate, e: ReadError) {
        self.stats.errors += 1;
        let path = diag::quote(self.path(c));
        match e {
            ReadError::Io(e) => diag::report(&format!("cannot read {path}: {e}")),
            ReadError::Changed => diag::report(&format!("{path}: file changed as we read it")),
        }
    }

    /// A set whose full hashes are equal: a group if two or more are left.
    fn report(&mut self, size: u64, set: Vec<Candidate>) {
        if set.len() < 2 {
            return;
        }
        self.found.push(Found {
            size,
            hash: blake3::Hash::from_bytes(set[0].key),
            members: set.iter().map(|c| c.inode).collect(),
        });
    }

    fn pause(&self, c: &Candidate) {
        if self.settings.pause_at.as_deref() == Some(self.path(c)) {
            diag::report(&format!("test: paused at {}", diag::quote(self.path(c))));
            let mut line = String::new();
            let _ = std::io::stdin().lock().read_line(&mut line);
        }
    }
}

/// Whether `after` (an fstat after reading) is the file `before` (the
/// scan's stat) unchanged.
fn same_file(before: &Meta, after: &Meta) -> bool {
    before.id() == after.id()
        && before.size == after.size
        && (before.mtime, before.mtime_nsec) == (after.mtime, after.mtime_nsec)
        && after.kind == fdu_platform::Kind::File
}

/// Split candidates into sets of equal keys, dropping sets of one.
fn split(mut cands: Vec<Candidate>) -> Vec<Vec<Candidate>> {
    cands.sort_unstable_by_key(|c| c.key);
    let mut sets: Vec<Vec<Candidate>> = Vec::new();
    let mut current: Vec<Candidate> = Vec::new();
    for c in cands {
        if current.last().is_some_and(|l| l.key != c.key) {
            let set = std::mem::take(&mut current);
            if set.len() >= 2 {
                sets.push(set);
            }
        }
        current.push(c);
    }
    if current.len() >= 2 {
        sets.push(current);
    }
    sets
}
