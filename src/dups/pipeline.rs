//! The hashing pipeline: each size group goes head -> tail -> full on its
//! own, in parallel with the others.
//!
//! ```text
//!  size group (2+ inodes of one size, biggest groups first)
//!    head  read the first min(size, HEAD) bytes.
//!          size <= HEAD: key = their BLAKE3, the hash of the whole file: done.
//!          size > HEAD: key = their BLAKE3 chaining value (HEAD is a
//!          power-of-two number of chunks: a subtree of the file's tree).
//!    tail  size > HEAD: key = hash of the last min(TAIL, size - HEAD) bytes.
//!    full  hash the bytes after the head as the subtrees right of it and
//!          merge them with the head's chaining value (pread, or mapped
//!          windows for long ranges; update_rayon splits big pieces over
//!          the pool): the BLAKE3 of the whole file, the head not read again.
//!  after every stage: split by key, drop sets of one.
//!  after the last read of a file: fstat; a file whose (dev, ino, size,
//!  mtime) differ from the scan's stat changed while it was read: reported,
//!  left out.
//! ```
//!
//! Workers (one per hashing thread) take size groups from a shared counter
//! and carry each one through every stage, so a group is reported as soon
//! as it is hashed and only its own candidates' state is held (a
//! candidate is 44 bytes: the file's index, its descriptor while open,
//! a key). Memory stays proportional to the largest size group, not to the
//! tree.
//!
//! **Descriptors.** Hashing starts with what is free below the soft
//! `RLIMIT_NOFILE` (stdio and anything else open counted,
//! [`free_fds`](fdu_platform::limits::free_fds)): each worker holds one
//! file at a time (there are no more workers than that allows), and a group
//! of up to 64 files larger than the head keeps them open from head to full
//! only if it can take one descriptor per file from what is left; else its
//! files are reopened at each stage. An open refused with `EMFILE` anyway
//! (something else opened descriptors) is retried for a second before it is
//! reported.
use std::io::BufRead;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use blake3::hazmat::{
    merge_subtrees_non_root, merge_subtrees_root, ChainingValue, HasherExt, Mode,
};
use fdu_platform::content::{Content, FeedPlan, ReadError};
use fdu_platform::Errno;

use super::collect::Files;
use crate::diag::{self, Messages};
use crate::output::progress::{hash_field, Counters, Tally, HASH_FIELDS};

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
/// Descriptors left free while hashing, for anything else.
const SPARE_FDS: u64 = 1;
/// Tries of an open refused with `EMFILE`, 10 ms apart.
const EMFILE_TRIES: u32 = 100;

// The head must be a whole subtree of BLAKE3's tree: a power-of-two number
// of chunks.
const _: () = assert!(HEAD % blake3::CHUNK_LEN as u64 == 0);
const _: () = assert!((HEAD / blake3::CHUNK_LEN as u64).is_power_of_two());

/// How to read and how many threads, and where to tell what happens.
#[derive(Clone)]
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
    /// Where unreadable and changed files are reported (`diag::Stderr`,
    /// or around a progress bar).
    pub messages: Arc<dyn Messages + Send>,
    /// Progress counters: slot 0 gets the head stage's plan, slot `i` the
    /// files and bytes hashing worker `i` (1..=threads) read and learns
    /// it will read (see `crate::output::progress::hash_field`).
    pub progress: Option<Arc<Counters<HASH_FIELDS>>>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("threads", &self.threads)
            .field("plan", &self.plan)
            .field("buffer", &self.buffer)
            .field("pause_at", &self.pause_at)
            .field("progress", &self.progress.is_some())
            .finish_non_exhaustive()
    }
}

/// The stages, as `crate::output::progress::STAGES` names them.
#[derive(Clone, Copy)]
enum Stage {
    Head = 0,
    Tail = 1,
    Full = 2,
}

/// Files of equal contents: two or more inodes.
#[derive(Clone, Debug)]
pub struct Found {
    /// Their size.
    pub size: u64,
    /// BLAKE3 of their contents.
    pub hash: blake3::Hash,
    /// Indices into the files.
    pub members: Vec<u32>,
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
    /// Hashing threads that ran (fewer than asked under a low fd limit).
    pub threads: usize,
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

/// Descriptors beyond one per worker, for groups that keep files open.
struct Spare(AtomicUsize);

impl Spare {
    fn take(&self, n: usize) -> bool {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                left.checked_sub(n)
            })
            .is_ok()
    }

    fn give(&self, n: usize) {
        self.0.fetch_add(n, Ordering::AcqRel);
    }
}

/// Hash the size groups of `files` and return the sets of equal files.
pub fn find(files: &Files, mut groups: Vec<Range<usize>>, settings: &Settings) -> Hashed {
    // Biggest groups first: the last ones to finish are then short.
    groups.sort_by_key(|r| {
        std::cmp::Reverse(files.all()[r.start].size.saturating_mul(r.len() as u64))
    });
    let free = fdu_platform::limits::free_fds().map_or(u64::MAX, |f| f.saturating_sub(SPARE_FDS));
    let free = usize::try_from(free).unwrap_or(usize::MAX);
    let threads = settings.threads.max(1).min(free.max(1));
    let spare = Spare(AtomicUsize::new(free.saturating_sub(threads)));
    if let Some(progress) = &settings.progress {
        // Every file is read by the head stage: its plan is known now.
        let mut plan = progress.tally(0);
        for r in &groups {
            let head = files.all()[r.start].size.min(HEAD);
            plan.add(
                hash_field(Stage::Head as usize, true, false),
                r.len() as u64,
            );
            plan.add(
                hash_field(Stage::Head as usize, true, true),
                head * r.len() as u64,
            );
        }
    }
    let next = AtomicUsize::new(0);
    let done = Mutex::new(Hashed::default());
    let work = |index: usize| {
        let mut worker = Worker::new(files, settings, &spare, index);
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
            for index in 1..=threads {
                let work = &work;
                s.spawn(move |_| work(index));
            }
        }),
        Err(_) => work(1),
    }
    let mut hashed = done.into_inner().unwrap_or_else(|p| p.into_inner());
    hashed.stats.threads = threads;
    hashed
}

/// A file on its way through the stages.
struct Candidate {
    /// Index into the files.
    inode: u32,
    /// Left out (unreadable or changed, and reported).
    dead: bool,
    /// Open between stages only in groups that keep their files open.
    file: Option<Content>,
    /// What the last stage split by: a hash or the head's chaining value.
    key: [u8; 32],
}

/// One hashing thread.
struct Worker<'a> {
    files: &'a Files,
    settings: &'a Settings,
    spare: &'a Spare,
    buf: Vec<u8>,
    /// The path of the file at hand.
    path: Vec<u8>,
    found: Vec<Found>,
    stats: StageStats,
    /// This worker's progress slot, when progress is shown.
    tally: Option<Tally<'a, HASH_FIELDS>>,
}

impl<'a> Worker<'a> {
    fn new(files: &'a Files, settings: &'a Settings, spare: &'a Spare, index: usize) -> Worker<'a> {
        Worker {
            files,
            settings,
            spare,
            buf: vec![0; settings.buffer.max(HEAD as usize)],
            path: Vec::new(),
            found: Vec::new(),
            stats: StageStats::default(),
            tally: settings.progress.as_ref().map(|p| p.tally(index)),
        }
    }

    /// For progress: `files` more files of `bytes` each will be read by
    /// `stage`.
    fn plan(&mut self, stage: Stage, files: usize, bytes: u64) {
        if let Some(t) = &mut self.tally {
            t.add(hash_field(stage as usize, true, false), files as u64);
            t.add(hash_field(stage as usize, true, true), files as u64 * bytes);
        }
    }

    /// For progress: `stage` read a file's `bytes`.
    fn read(&mut self, stage: Stage, bytes: u64) {
        if let Some(t) = &mut self.tally {
            t.add(hash_field(stage as usize, false, false), 1);
            t.add(hash_field(stage as usize, false, true), bytes);
            t.step(1);
        }
    }

    /// Carry one size group through every stage.
    fn group(&mut self, range: Range<usize>) {
        let size = self.files.all()[range.start].size;
        let n = range.len();
        let keep_open = size > HEAD && n <= KEEP_OPEN && self.spare.take(n);
        let mut cands: Vec<Candidate> = range
            .map(|i| Candidate {
                inode: u32::try_from(i).expect("fewer than 2^32 files"),
                dead: false,
                file: None,
                key: [0; 32],
            })
            .collect();
        for c in &mut cands {
            self.head(c, size, keep_open);
        }
        for heads in runs(&mut cands) {
            let heads = &mut cands[heads];
            if size <= HEAD {
                self.report(size, heads);
                continue;
            }
            let head = heads[0].key;
            self.plan(Stage::Tail, heads.len(), (size - HEAD).min(TAIL));
            for c in heads.iter_mut() {
                self.tail(c, size, keep_open);
            }
            for tails in runs(heads) {
                let tails = &mut heads[tails];
                self.plan(Stage::Full, tails.len(), size - HEAD);
                for c in tails.iter_mut() {
                    self.full(c, size, &head);
                }
                for full in runs(tails) {
                    self.report(size, &tails[full]);
                }
            }
        }
        drop(cands);
        if keep_open {
            self.spare.give(n);
        }
    }

    fn head(&mut self, c: &mut Candidate, size: u64, keep_open: bool) {
        let len = size.min(HEAD) as usize;
        let Some(file) = self.open(c) else { return };
        if let Err(e) = file.read_exact_at(&mut self.buf[..len], 0) {
            return self.failed(c, e);
        }
        self.stats.head.0 += 1;
        self.stats.head.1 += len as u64;
        self.read(Stage::Head, len as u64);
        if size <= HEAD {
            // That was the whole file: check it did not change meanwhile.
            c.key = *blake3::hash(&self.buf[..len]).as_bytes();
            self.pause(c);
            self.check_unchanged(c);
            c.file = None;
        } else {
            c.key = blake3::Hasher::new()
                .update(&self.buf[..len])
                .finalize_non_root();
            if !keep_open {
                c.file = None;
            }
        }
    }

    fn tail(&mut self, c: &mut Candidate, size: u64, keep_open: bool) {
        let len = (size - HEAD).min(TAIL) as usize;
        let Some(file) = self.open(c) else { return };
        if let Err(e) = file.read_exact_at(&mut self.buf[..len], size - len as u64) {
            return self.failed(c, e);
        }
        self.stats.tail.0 += 1;
        self.stats.tail.1 += len as u64;
        self.read(Stage::Tail, len as u64);
        c.key = *blake3::hash(&self.buf[..len]).as_bytes();
        if !keep_open {
            c.file = None;
        }
    }

    fn full(&mut self, c: &mut Candidate, size: u64, head: &ChainingValue) {
        if self.open(c).is_none() {
            return;
        }
        self.pause(c);
        let mut resume = Resume::new(*head, size);
        let fed = c.file.as_ref().expect("opened").feed(
            HEAD,
            size - HEAD,
            self.settings.plan,
            &mut self.buf,
            &mut |bytes| resume.update(bytes),
        );
        if let Err(e) = fed {
            return self.failed(c, e);
        }
        self.stats.full.0 += 1;
        self.stats.full.1 += size - HEAD;
        self.read(Stage::Full, size - HEAD);
        if self.check_unchanged(c) {
            c.key = *resume.finalize().as_bytes();
        }
        c.file = None;
    }

    /// The candidate's open file, opened now unless it still is; `None`
    /// when it cannot be (reported).
    fn open<'c>(&mut self, c: &'c mut Candidate) -> Option<&'c Content> {
        if c.file.is_none() {
            self.stats.opened += 1;
            self.files.write_path(c.inode as usize, &mut self.path);
            let mut tries = 1;
            let opened = loop {
                match Content::open(crate::walk::os_path(&self.path)) {
                    Err(e) if e == Errno::MFILE && tries < EMFILE_TRIES => {
                        // Another worker may close some: the budget
                        // leaves none of them out for long.
                        tries += 1;
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    other => break other,
                }
            };
            match opened {
                Ok(f) => c.file = Some(f),
                Err(e) => {
                    self.failed(c, ReadError::Io(e));
                    return None;
                }
            }
        }
        c.file.as_ref()
    }

    /// Whether the open file is still what the scan stat'ed; reported and
    /// left out if not.
    fn check_unchanged(&mut self, c: &mut Candidate) -> bool {
        let before = &self.files.all()[c.inode as usize];
        match c.file.as_ref().expect("opened").stat() {
            Ok(after) if before.unchanged(&after) => true,
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

    fn failed(&mut self, c: &mut Candidate, e: ReadError) {
        c.dead = true;
        c.file = None;
        self.stats.errors += 1;
        self.files.write_path(c.inode as usize, &mut self.path);
        let path = diag::quote(&self.path);
        let messages = &self.settings.messages;
        match e {
            ReadError::Io(e) => messages.report(&format!("cannot read {path}: {e}")),
            ReadError::Changed => messages.report(&format!("{path}: file changed as we read it")),
        }
    }

    /// A set whose full hashes are equal: a group of two or more.
    fn report(&mut self, size: u64, set: &[Candidate]) {
        self.found.push(Found {
            size,
            hash: blake3::Hash::from_bytes(set[0].key),
            members: set.iter().map(|c| c.inode).collect(),
        });
    }

    fn pause(&mut self, c: &Candidate) {
        let Some(at) = self.settings.pause_at.as_deref() else {
            return;
        };
        self.files.write_path(c.inode as usize, &mut self.path);
        if at == self.path {
            let message = format!("test: paused at {}", diag::quote(&self.path));
            self.settings.messages.report(&message);
            let mut line = String::new();
            let _ = std::io::stdin().lock().read_line(&mut line);
        }
    }
}

/// Sort candidates by key, the left-out ones last, and return the runs of
/// two or more equal keys; the files of the others are closed.
fn runs(cands: &mut [Candidate]) -> Vec<Range<usize>> {
    cands.sort_unstable_by_key(|c| (c.dead, c.key));
    let alive = cands.partition_point(|c| !c.dead);
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..=alive {
        if i == alive || cands[i].key != cands[start].key {
            if i - start >= 2 {
                runs.push(start..i);
            } else {
                cands[start].file = None;
            }
            start = i;
        }
    }
    runs
}

/// The BLAKE3 of a file larger than [`HEAD`] whose head is known by its
/// chaining value: the bytes after it, fed in order, are hashed as the
/// subtrees to its right, `[HEAD, 2 HEAD)`, `[2 HEAD, 4 HEAD)`... each
/// merged into the left one while more follows; the last, `[2^k HEAD,
/// size)`, is merged with it at the root (BLAKE3's tree: the left subtree
/// of an input of n chunks holds the largest power of two below n).
struct Resume {
    /// Chaining value of `[0, start)`.
    left: ChainingValue,
    /// Where the subtree being hashed starts: a power of two times HEAD.
    start: u64,
    /// Bytes fed so far, counted from the start of the file.
    at: u64,
    size: u64,
    right: blake3::Hasher,
}

impl Resume {
    fn new(head: ChainingValue, size: u64) -> Resume {
        assert!(size > HEAD, "a file of one head has no rest");
        let mut right = blake3::Hasher::new();
        right.set_input_offset(HEAD);
        Resume {
            left: head,
            start: HEAD,
            at: HEAD,
            size,
            right,
        }
    }

    fn update(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let end = (2 * self.start).min(self.size);
            let n = bytes.len().min((end - self.at) as usize);
            assert!(n > 0, "fed past the end of the file");
            let (piece, rest) = bytes.split_at(n);
            if piece.len() >= RAYON_MIN {
                self.right.update_rayon(piece);
            } else {
                self.right.update(piece);
            }
            self.at += n as u64;
            bytes = rest;
            if self.at == 2 * self.start && self.size > self.at {
                let right = self.right.finalize_non_root();
                self.left = merge_subtrees_non_root(&self.left, &right, Mode::Hash);
                self.start *= 2;
                self.right = blake3::Hasher::new();
                self.right.set_input_offset(self.start);
            }
        }
    }

    fn finalize(&self) -> blake3::Hash {
        assert_eq!(self.at, self.size, "the file was not fed to its end");
        merge_subtrees_root(&self.left, &self.right.finalize_non_root(), Mode::Hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn resumed_hash_is_blake3_of_the_whole_file() {
        let h = HEAD as usize;
        for size in [
            h + 1,
            h + 1023,
            h + 1024,
            2 * h - 1,
            2 * h,
            2 * h + 1,
            3 * h + 17,
            4 * h,
            4 * h + 1,
            100_000,
            1 << 20,
            (1 << 20) + 5,
            3 * 1024 * 1024 + 12_345,
        ] {
            let data = bytes(size);
            let head = blake3::Hasher::new().update(&data[..h]).finalize_non_root();
            // In one piece (update_rayon for the big ones), and in odd pieces.
            for piece in [size, 1000, 7 * 1024 + 3] {
                let mut r = Resume::new(head, size as u64);
                for p in data[h..].chunks(piece) {
                    r.update(p);
                }
                assert_eq!(r.finalize(), blake3::hash(&data), "{size} by {piece}");
            }
        }
    }

    #[test]
    fn a_candidate_is_44_bytes() {
        assert_eq!(std::mem::size_of::<Candidate>(), 44);
    }
}
