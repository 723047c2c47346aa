//! du's count, streamed: each line printed as soon as it and everything
//! before it in du's order is known, so `fdu -a / | head -1` answers at
//! once and memory holds what is still being walked, not the whole tree.
//!
//! ```text
//!  workers (visitor: Streamer)                  the emitter (one at a time, any worker)
//!  ---------------------------                  ---------------------------------------
//!  entry: fold into the batch's node, or        a frontier in path order: a stack of the
//!         gather a child (a directory node,     directories entered, each with its
//!         an -a file) for the end of batch      children sorted by name, last first
//!  end_batch: lock the node once, add what      next child a file: its line
//!             the batch gathered                next child a directory: enter it once
//!  done(dir): its listings pending -= 1;          its own listing is done (else wait)
//!             at 0, advance the emitter ------> no child left: the directory's line,
//!                                                 its total into its parent's
//! ```
//!
//! **Nodes.** A directory du prints (or `-S` keeps apart, or any, when a
//! checkpoint is kept) gets a [`Node`] of its own; a deeper one is charged
//! to its ancestor's node. A node
//! counts its listings not yet visited: its own, and those of the deeper
//! directories charged to it. When that count is 0, what it holds (its
//! own entries, its children) is final, and the frontier may enter it.
//! Once printed, a node and its children are freed.
//!
//! **Hard links.** A file with several links is charged to its first
//! occurrence in path order, as [`crate::tree::Tree::assemble`] charges
//! it: the frontier meets nodes in that order, so the first node that
//! claims the file (when it is entered, for the files charged to it; when
//! reached, for an `-a` line) is that occurrence. Nothing about a link is
//! decided while walking, so the output never depends on thread timing.
//!
//! **Checkpoints** (`--checkpoint`, [`crate::checkpoint`]). Everything
//! the frontier passed is final: each line printed is also appended to the
//! checkpoint's journal, with the links claimed, and every interval the
//! emitter records the frontier's chain (each directory's total so far and
//! the first name not counted in the deepest). A resumed count prints
//! nothing for the arguments before the frontier's, and in a directory of
//! its chain leaves out every name before that first one; the chain's own
//! directories start from their saved totals.
//!
//! **Order of the walk.** The walker pushes each batch's subdirectories so
//! that a worker takes them in name order (see `crate::walk`); what other
//! workers take finishes ahead of the frontier and waits in memory.
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use fdu_platform::{Kind, Meta};

use crate::checkpoint::{self, Frontier, Journal};
use crate::diag::ScanError;
use crate::dirs::DirRef;
use crate::links::LinkSet;
use crate::tree::{join, NodeKind, Totals};
use crate::visit::{Step, Visit, Visitor};
use crate::walk::{Args, ScanOptions};

/// Where the streamed lines go.
pub trait Lines: Send {
    /// A line du prints: a node's totals and its path, in du's order
    /// (each argument in turn, children before their parent, siblings in
    /// byte order of their names).
    fn line(&mut self, totals: &Totals, path: &[u8]);

    /// Make what was written so far visible: the output pauses here.
    fn flush(&mut self);

    /// Whether the output is gone (its reader went away): the scan stops.
    fn closed(&self) -> bool;
}

/// Flush at a pause only if the last flush is this old: a pause after
/// every directory would cost a write each.
const FLUSH_AFTER: Duration = Duration::from_millis(20);

/// Past this many children and links held (60 to 100 bytes each with
/// their names: 8 to 13 MB), only directories inside the one the output
/// waits for may start ([`Visit::may_start`]).
const HOLD_AT_MOST: usize = 1 << 17;

/// Whether du's count can be streamed with `opts`: not when symlinked
/// directories are set aside to the end of each argument (`-L` without
/// `-l`), as they are charged wherever their real path would be.
pub fn streams(opts: &ScanOptions) -> bool {
    !opts.defers_symlinked_dirs()
}

/// A directory with a node of its own.
pub struct Node {
    /// The node it is in (`None` for an argument).
    parent: Option<Arc<Node>>,
    name: Box<[u8]>,
    kind: NodeKind,
    /// Its `(st_dev, st_ino)`.
    id: (u64, u64),
    /// Its place in a resumed scan's frontier chain ([`NOT_RESUMED`]:
    /// none): only the names not counted before are walked in it.
    level: u32,
    /// Listings charged to this node whose entries are not all visited:
    /// its own, and those of deeper directories charged to it.
    pending: AtomicUsize,
    held: Mutex<Held>,
}

/// What a node holds until the frontier enters it.
#[derive(Default)]
struct Held {
    /// Entries charged to it (its own stat, files, deeper directories).
    own: Totals,
    /// Files with other links charged to it if it is their first
    /// occurrence: identity and sizes.
    links: Vec<((u64, u64), Totals)>,
    /// Subdirectories with nodes of their own, in no order.
    dirs: Vec<Arc<Node>>,
    /// Files printed by `-a`, in no order.
    files: Vec<FileKid>,
    /// The names of `files`, back to back.
    names: Vec<u8>,
    /// The identities of the `files` with other links, by where their
    /// names start.
    kid_links: Vec<(usize, (u64, u64))>,
}

impl Held {
    /// Add a file printed by `-a` (`link`: its identity when it has other
    /// links).
    fn file(&mut self, name: &[u8], totals: &Totals, link: Option<(u64, u64)>) {
        let start = self.names.len();
        self.names.extend_from_slice(name);
        if let Some(id) = link {
            self.kid_links.push((start, id));
        }
        self.files.push(FileKid {
            start,
            sec: totals.time.sec,
            disk: totals.disk,
            apparent: totals.apparent,
            len: name.len() as u32 | if link.is_some() { LINKED } else { 0 },
            nsec: totals.time.nsec,
        });
    }

    /// Move what `other` gathered in here.
    fn take(&mut self, other: Held) {
        self.own.add(&other.own);
        append(&mut self.links, other.links);
        append(&mut self.dirs, other.dirs);
        let base = self.names.len();
        if base == 0 {
            self.names = other.names;
            self.kid_links = other.kid_links;
            append(&mut self.files, other.files);
            return;
        }
        self.names.extend_from_slice(&other.names);
        self.kid_links
            .extend(other.kid_links.into_iter().map(|(at, id)| (at + base, id)));
        self.files
            .extend(other.files.into_iter().map(|file| FileKid {
                start: file.start + base,
                ..file
            }));
    }
}

/// Append `more` to `to` (taking it whole when `to` is empty).
fn append<T>(to: &mut Vec<T>, more: Vec<T>) {
    if to.is_empty() {
        *to = more;
    } else {
        to.extend(more);
    }
}

/// A file printed by `-a`, in 40 bytes: its name is in its parent's
/// [`Held::names`], its identity (when it has other links: printed only
/// where it is charged) in [`Held::kid_links`].
#[derive(Clone, Copy)]
struct FileKid {
    start: usize,
    /// Its time (`--time`): seconds, and `nsec` below.
    sec: i64,
    disk: u64,
    apparent: u64,
    /// The name's length; [`LINKED`] set when the file has other links.
    len: u32,
    nsec: u32,
}

/// See [`FileKid::len`].
const LINKED: u32 = 1 << 31;

impl FileKid {
    fn name<'n>(&self, names: &'n [u8]) -> &'n [u8] {
        &names[self.start..self.start + (self.len & !LINKED) as usize]
    }

    fn linked(&self) -> bool {
        self.len & LINKED != 0
    }

    fn totals(&self) -> Totals {
        Totals {
            disk: self.disk,
            apparent: self.apparent,
            inodes: 1,
            time: crate::tree::Stamp {
                sec: self.sec,
                nsec: self.nsec,
            },
            dirs: 0,
            errors: 0,
        }
    }
}

/// See [`Node::level`].
const NOT_RESUMED: u32 = u32::MAX;

impl Node {
    fn new(
        parent: Option<&Arc<Node>>,
        name: &[u8],
        kind: NodeKind,
        meta: &Meta,
        own: Totals,
        level: u32,
    ) -> Arc<Node> {
        Arc::new(Node {
            parent: parent.cloned(),
            name: name.into(),
            kind,
            id: meta.id(),
            level,
            pending: AtomicUsize::new(1),
            held: Mutex::new(Held {
                own,
                ..Held::default()
            }),
        })
    }

    fn held(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn ready(&self) -> bool {
        self.pending.load(Ordering::Acquire) == 0
    }
}

/// Where a node lives: what [`Stream::waiting`] holds.
fn address(node: &Arc<Node>) -> usize {
    Arc::as_ptr(node) as usize
}

/// A path argument, in the emitter's queue.
enum Root {
    /// A directory: its node, and which argument it is.
    Dir(Arc<Node>, usize),
    /// Anything else: its path, sizes and identity when it may have been
    /// met before.
    File {
        arg: usize,
        display: Box<[u8]>,
        totals: Totals,
        link: Option<(u64, u64)>,
    },
}

/// A directory the frontier has entered.
struct Frame {
    kind: NodeKind,
    name: Box<[u8]>,
    id: (u64, u64),
    /// Children left, each kind sorted by name, the next one last.
    dirs: Vec<Arc<Node>>,
    files: Vec<FileKid>,
    /// The files' names and links (see [`Held`]).
    names: Vec<u8>,
    kid_links: Vec<(usize, (u64, u64))>,
    /// Its total so far: its own entries and the children done.
    total: Totals,
    /// The length of the path before its name was joined.
    path_len: usize,
}

/// The frontier and the output: whoever holds the lock advances both.
struct Emitter<L> {
    lines: L,
    roots: std::collections::VecDeque<Root>,
    stack: Vec<Frame>,
    path: Vec<u8>,
    grand: Totals,
    /// Lines written since the last flush.
    unflushed: bool,
    flushed: Instant,
    /// The argument whose directories are on the stack.
    arg: usize,
    /// The arguments before this one are printed.
    args_done: usize,
    /// `--checkpoint`: where the frontier is kept.
    journal: Option<Journal>,
}

/// Print a line, and keep it in the checkpoint.
fn emit<L: Lines>(lines: &mut L, journal: &mut Option<Journal>, totals: &Totals, path: &[u8]) {
    lines.line(totals, path);
    if let Some(j) = journal {
        j.line(totals, path);
    }
}

/// Where a resumed scan starts (see [`crate::checkpoint`]).
struct Resume {
    frontier: Frontier,
    walked: Vec<(u64, u64)>,
}

/// What a resumed scan does with an entry of a directory on the
/// frontier's chain.
enum Resumed {
    /// Counted before: leave it out.
    Skip,
    /// The next directory of the chain.
    Chain(u32),
    /// Not reached before: walk it.
    Walk,
}

/// du's count, streamed to `L` (shared by every worker).
pub struct Stream<'o, L> {
    opts: &'o ScanOptions,
    /// Files with other links: claimed by the first node to charge them.
    links: LinkSet,
    /// Track every file, not only multiply-linked ones (a file argument
    /// among several arguments may also be met inside another).
    hash_all_files: bool,
    /// Every entry of an argument is charged to its own node (`-s`, no
    /// `-a`/`-S`): a file with several names is charged where it is first
    /// claimed, while walking.
    charge_at_once: bool,
    /// Taken out when the count finishes.
    emitter: Mutex<Option<Emitter<L>>>,
    /// The emitter has work: set before trying its lock, so its holder
    /// looks again before it lets go.
    dirty: AtomicBool,
    cancelled: AtomicBool,
    /// Children and links held in nodes, not printed yet.
    held: AtomicUsize,
    /// The address of the directory the output waits for (0: none). Only
    /// compared, never followed: the frontier holds that node while it
    /// waits for it.
    waiting: AtomicUsize,
    /// Every directory gets a node (`--checkpoint`: the frontier then
    /// moves one directory at a time whatever the depth printed).
    every_dir: bool,
    resume: Option<Resume>,
}

/// What a streamed count ends with.
pub struct Streamed<L> {
    /// Where the lines went.
    pub lines: L,
    /// The sum over every argument (`-c`).
    pub grand: Totals,
    /// A checkpoint could not be written (it was reported).
    pub checkpoint_failed: bool,
}

impl<'o, L: Lines> Stream<'o, L> {
    /// A count of `args` with `opts`, its lines written to `lines`.
    pub fn new(opts: &'o ScanOptions, args: &Args, lines: L) -> Stream<'o, L> {
        Stream {
            opts,
            links: LinkSet::new(opts.workers.start()),
            hash_all_files: crate::count::hash_all_files(opts, args),
            charge_at_once: crate::count::charge_at_once(opts),
            emitter: Mutex::new(Some(Emitter {
                lines,
                roots: Default::default(),
                stack: Vec::new(),
                path: Vec::new(),
                grand: Totals::default(),
                unflushed: false,
                flushed: Instant::now(),
                arg: 0,
                args_done: 0,
                journal: None,
            })),
            dirty: AtomicBool::new(false),
            cancelled: AtomicBool::new(false),
            held: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            every_dir: false,
            resume: None,
        }
    }

    /// Keep a checkpoint in `journal` as the scan goes; with `resume`,
    /// go on from where an earlier run's checkpoint stood (its lines
    /// already printed).
    pub fn checkpointed(mut self, journal: Journal, resume: Option<checkpoint::Start>) -> Self {
        self.every_dir = true;
        self.charge_at_once = false;
        let e = self.emitter.get_mut().unwrap_or_else(|p| p.into_inner());
        let e = e.as_mut().expect("not finished");
        e.journal = Some(journal);
        if let Some(checkpoint::Start {
            frontier,
            claims,
            walked,
        }) = resume
        {
            for id in claims {
                self.links.claim_file(id);
            }
            e.grand = frontier.grand;
            e.args_done = frontier.arg;
            self.resume = Some(Resume { frontier, walked });
        }
        self
    }

    /// The frontier, as a checkpoint keeps it.
    fn frontier(e: &Emitter<L>, finished: bool) -> Frontier {
        let next = e.stack.last().and_then(|top| {
            let dir = top.dirs.last().map(|d| &*d.name);
            let file = top.files.last().map(|f| f.name(&top.names));
            match (dir, file) {
                (Some(d), Some(f)) => Some(d.min(f)),
                (d, f) => d.or(f),
            }
            .map(<[u8]>::to_vec)
        });
        Frontier {
            arg: if e.stack.is_empty() {
                e.args_done
            } else {
                e.arg
            },
            frames: e
                .stack
                .iter()
                .map(|f| checkpoint::Frame {
                    name: f.name.to_vec(),
                    total: f.total,
                })
                .collect(),
            next,
            grand: e.grand,
            finished,
        }
    }

    /// An entry of a directory on a resumed frontier's chain (at `level`):
    /// what the checkpoint says of it. `child`: it would be a line of its
    /// own or a node (else it is in its directory's total already).
    fn resumed(&self, level: u32, name: &[u8], child: bool, dir: bool) -> Resumed {
        let Some(r) = &self.resume else {
            return Resumed::Walk;
        };
        if !child {
            return Resumed::Skip;
        }
        let frames = &r.frontier.frames;
        let below = level as usize + 1;
        match frames.get(below) {
            Some(chain) => match name.cmp(&chain.name) {
                std::cmp::Ordering::Less => Resumed::Skip,
                std::cmp::Ordering::Equal if dir => Resumed::Chain(below as u32),
                _ => Resumed::Walk,
            },
            None => match &r.frontier.next {
                Some(next) if name >= next.as_slice() => Resumed::Walk,
                _ => Resumed::Skip,
            },
        }
    }

    fn totals(&self, meta: &Meta) -> Totals {
        Totals::with_time(meta, self.opts.time)
    }

    /// Whether a file is tracked as possibly met again.
    fn tracked(&self, meta: &Meta) -> bool {
        !self.opts.count_links && meta.kind != Kind::Dir && (meta.nlink > 1 || self.hash_all_files)
    }

    fn lock(&self) -> MutexGuard<'_, Option<Emitter<L>>> {
        self.emitter.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Advance the frontier, unless another worker is at it (it will look
    /// again before it lets go). Whoever takes the emitter's lock
    /// otherwise calls this after letting go, so that no poke is lost.
    fn poke(&self) {
        self.dirty.store(true, Ordering::SeqCst);
        while self.dirty.load(Ordering::SeqCst) {
            let Ok(mut emitter) = self.emitter.try_lock() else {
                return;
            };
            self.dirty.store(false, Ordering::SeqCst);
            if let Some(e) = emitter.as_mut() {
                self.advance(e);
            }
        }
    }

    /// Print everything that is known, in order, then flush if the output
    /// has waited long enough.
    fn advance(&self, e: &mut Emitter<L>) {
        self.run_frontier(e);
        if e.unflushed && e.flushed.elapsed() >= FLUSH_AFTER {
            self.flush(e);
        }
        if e.journal.as_ref().is_some_and(Journal::due) {
            let frontier = Self::frontier(e, false);
            if let Some(j) = &mut e.journal {
                j.commit(&frontier);
            }
        }
    }

    fn flush(&self, e: &mut Emitter<L>) {
        e.lines.flush();
        e.unflushed = false;
        e.flushed = Instant::now();
        if e.lines.closed() {
            self.cancelled.store(true, Ordering::Relaxed);
        }
    }

    fn run_frontier(&self, e: &mut Emitter<L>) {
        let mut released = 0;
        self.walk_frontier(e, &mut released);
        self.held.fetch_sub(released, Ordering::Relaxed);
    }

    /// [`Stream::run_frontier`], counting the children and links it lets go.
    fn walk_frontier(&self, e: &mut Emitter<L>, released: &mut usize) {
        let separate_dirs = self.opts.separate_dirs;
        loop {
            let Some(top) = e.stack.last_mut() else {
                // Between arguments: the next one, if it is known.
                match e.roots.front() {
                    None => return,
                    Some(Root::Dir(node, _)) if !node.ready() => {
                        self.wait_for(node);
                        return;
                    }
                    Some(_) => {}
                }
                match e.roots.pop_front() {
                    Some(Root::Dir(node, arg)) => {
                        e.arg = arg;
                        e.path.clear();
                        e.path.extend_from_slice(&node.name);
                        *released += self.enter(e, &node, 0);
                    }
                    Some(Root::File {
                        arg,
                        display,
                        totals,
                        link,
                    }) => {
                        if link.is_none() || link.is_some_and(|id| self.claim(e, id)) {
                            emit(&mut e.lines, &mut e.journal, &totals, &display);
                            e.unflushed = true;
                            e.grand.add(&totals);
                        }
                        e.args_done = arg + 1;
                    }
                    None => unreachable!("the queue's front was just looked at"),
                }
                continue;
            };
            // The next child: the directory or the file first by name.
            let next_is_dir = match (top.dirs.last(), top.files.last()) {
                (None, None) => None,
                (Some(_), None) => Some(true),
                (None, Some(_)) => Some(false),
                (Some(dir), Some(file)) => Some(*dir.name < *file.name(&top.names)),
            };
            match next_is_dir {
                None => {
                    let frame = e.stack.pop().expect("the top frame");
                    if frame.kind != NodeKind::DeepDir {
                        emit(&mut e.lines, &mut e.journal, &frame.total, &e.path);
                        e.unflushed = true;
                    }
                    if let Some(j) = &mut e.journal {
                        j.walked(frame.id);
                    }
                    if e.stack.is_empty() {
                        e.args_done = e.arg + 1;
                    }
                    e.path.truncate(frame.path_len);
                    match e.stack.last_mut() {
                        Some(parent)
                            if !(separate_dirs
                                && matches!(frame.kind, NodeKind::Dir | NodeKind::DeepDir)) =>
                        {
                            parent.total.add(&frame.total)
                        }
                        _ => e.grand.add(&frame.total),
                    }
                    if self.cancelled.load(Ordering::Relaxed) {
                        return;
                    }
                }
                Some(true) => {
                    let node = top.dirs.last().expect("a directory is next");
                    if !node.ready() {
                        self.wait_for(node);
                        return;
                    }
                    let node = top.dirs.pop().expect("a directory is next");
                    *released += 1;
                    let before = e.path.len();
                    join(&mut e.path, &node.name);
                    *released += self.enter(e, &node, before);
                }
                Some(false) => {
                    let file = top.files.pop().expect("a file is next");
                    *released += 1;
                    let charged = !file.linked() || {
                        let at = top
                            .kid_links
                            .binary_search_by_key(&file.start, |&(at, _)| at)
                            .expect("a linked child's identity is kept");
                        let id = top.kid_links[at].1;
                        let claimed = self.links.claim_file(id);
                        if let (true, Some(j)) = (claimed, &mut e.journal) {
                            j.claim(id);
                        }
                        claimed
                    };
                    if charged {
                        let totals = file.totals();
                        top.total.add(&totals);
                        let before = e.path.len();
                        join(&mut e.path, file.name(&top.names));
                        emit(&mut e.lines, &mut e.journal, &totals, &e.path);
                        e.unflushed = true;
                        e.path.truncate(before);
                    }
                }
            }
        }
    }

    /// Charge a file with several links here if it was not charged
    /// before (and keep the claim in the checkpoint).
    fn claim(&self, e: &mut Emitter<L>, id: (u64, u64)) -> bool {
        let claimed = self.links.claim_file(id);
        if let (true, Some(j)) = (claimed, &mut e.journal) {
            j.claim(id);
        }
        claimed
    }

    /// The output waits for `node`.
    fn wait_for(&self, node: &Arc<Node>) {
        self.waiting.store(address(node), Ordering::Relaxed);
    }

    /// Enter a node whose listings are all visited (its name already on
    /// the path): charge it the links it meets first, order its children.
    /// Returns how many links it let go.
    fn enter(&self, e: &mut Emitter<L>, node: &Node, path_len: usize) -> usize {
        let held = std::mem::take(&mut *node.held());
        let Held {
            mut own,
            links,
            mut dirs,
            mut files,
            names,
            mut kid_links,
        } = held;
        let released = links.len();
        for (id, totals) in links {
            if self.claim(e, id) {
                own.add(&totals);
            }
        }
        dirs.sort_unstable_by(|a, b| b.name.cmp(&a.name));
        files.sort_unstable_by(|a, b| b.name(&names).cmp(a.name(&names)));
        kid_links.sort_unstable_by_key(|&(at, _)| at);
        e.stack.push(Frame {
            kind: node.kind,
            name: node.name.clone(),
            id: node.id,
            dirs,
            files,
            names,
            kid_links,
            total: own,
            path_len,
        });
        released
    }
}

impl<L: Lines> Visitor for Stream<'_, L> {
    type Worker<'v>
        = Streamer<'v, L>
    where
        Self: 'v;

    type Output = Streamed<L>;

    fn worker(&self, _index: usize) -> Streamer<'_, L> {
        Streamer {
            stream: self,
            target: None,
            gathered: Held::default(),
        }
    }

    fn finish(&self, workers: Vec<Streamer<'_, L>>) -> Streamed<L> {
        drop(workers);
        let mut e = self.lock().take().expect("a count finishes once");
        if !self.cancelled.load(Ordering::Relaxed) {
            self.run_frontier(&mut e);
            debug_assert!(
                e.stack.is_empty() && e.roots.is_empty(),
                "a walk that was not cancelled left nothing unprinted"
            );
            let frontier = Self::frontier(&e, true);
            if let Some(j) = &mut e.journal {
                j.finish(&frontier);
            }
        }
        Streamed {
            lines: e.lines,
            grand: e.grand,
            checkpoint_failed: e.journal.as_ref().is_some_and(Journal::failed),
        }
    }

    /// Lines within an argument are printed as they are known, so the
    /// walk should follow their order; with one line per argument (`-s`,
    /// no `-a`/`-S`) nothing waits.
    fn ordered(&self) -> bool {
        !self.charge_at_once
    }

    fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    fn walked_before(&self) -> &[(u64, u64)] {
        self.resume.as_ref().map_or(&[], |r| &r.walked)
    }

    fn idle(&self) {
        if let Ok(mut e) = self.emitter.try_lock() {
            if let Some(e) = e.as_mut().filter(|e| e.unflushed) {
                self.flush(e);
            }
        }
        self.poke();
    }
}

/// One worker's part of a [`Stream`]: what the current batch gathered for
/// its node, added under the node's lock once per batch.
pub struct Streamer<'s, L> {
    stream: &'s Stream<'s, L>,
    /// The node the batch charges.
    target: Option<Arc<Node>>,
    gathered: Held,
}

impl<L: Lines> Streamer<'_, L> {
    /// Gather for `node` (ending what was gathered for another).
    #[inline]
    fn gather(&mut self, node: &Arc<Node>) -> &mut Held {
        if !self.target.as_ref().is_some_and(|t| Arc::ptr_eq(t, node)) {
            self.flush();
            self.target = Some(node.clone());
        }
        &mut self.gathered
    }

    fn flush(&mut self) {
        let Some(node) = self.target.take() else {
            return;
        };
        let gathered = std::mem::take(&mut self.gathered);
        let count = gathered.links.len() + gathered.dirs.len() + gathered.files.len();
        if count > 0 {
            self.stream.held.fetch_add(count, Ordering::Relaxed);
        }
        node.held().take(gathered);
    }
}

impl<L: Lines> Visit for Streamer<'_, L> {
    type Dir = Arc<Node>;

    fn root(&mut self, arg: usize, display: &[u8], meta: &Meta) -> Step<Arc<Node>> {
        let stream = self.stream;
        let totals = stream.totals(meta);
        let mut guard = stream.lock();
        let Some(e) = guard.as_mut() else {
            return Step::Skip;
        };
        // Every earlier argument is walked: print what is left of it.
        stream.run_frontier(e);
        let mut own = totals;
        let mut level = NOT_RESUMED;
        if let Some(r) = &stream.resume {
            let f = &r.frontier;
            if arg < f.arg || f.finished {
                // Printed before.
                return Step::Skip;
            }
            if let (true, true, Some(root)) =
                (arg == f.arg, meta.kind == Kind::Dir, f.frames.first())
            {
                own = root.total;
                level = 0;
            }
        }
        if meta.kind == Kind::Dir {
            let node = Node::new(None, display, NodeKind::Root, meta, own, level);
            e.roots.push_back(Root::Dir(node.clone(), arg));
            drop(guard);
            stream.poke();
            return Step::Descend(node);
        }
        let link = stream.tracked(meta).then(|| meta.id());
        e.roots.push_back(Root::File {
            arg,
            display: display.into(),
            totals,
            link,
        });
        stream.advance(e);
        drop(guard);
        stream.poke();
        Step::Skip
    }

    #[inline]
    fn entry(&mut self, dir: &DirRef<'_, Arc<Node>>, name: &[u8], meta: &Meta) -> Step<Arc<Node>> {
        let stream = self.stream;
        let opts = stream.opts;
        let depth = dir.depth() + 1;
        let printed = depth <= opts.max_depth;
        let mut totals = stream.totals(meta);
        let target = dir.state();
        let mut level = NOT_RESUMED;
        if target.level != NOT_RESUMED {
            let is_dir = meta.kind == Kind::Dir;
            let child = is_dir || (opts.all && printed);
            match stream.resumed(target.level, name, child, is_dir) {
                Resumed::Skip => return Step::Skip,
                Resumed::Walk => {}
                Resumed::Chain(at) => {
                    level = at;
                    let r = stream.resume.as_ref().expect("resumed");
                    totals = r.frontier.frames[at as usize].total;
                }
            }
        }
        if stream.tracked(meta) {
            if stream.charge_at_once {
                if stream.links.claim_file(meta.id()) {
                    self.gather(target).own.add(&totals);
                }
            } else if opts.all && printed {
                self.gather(target).file(name, &totals, Some(meta.id()));
            } else {
                self.gather(target).links.push((meta.id(), totals));
            }
            return Step::Skip;
        }
        if meta.kind == Kind::Dir {
            if printed || opts.separate_dirs || stream.every_dir {
                let kind = if printed {
                    NodeKind::Dir
                } else {
                    NodeKind::DeepDir
                };
                let node = Node::new(Some(target), name, kind, meta, totals, level);
                self.gather(target).dirs.push(node.clone());
                return Step::Descend(node);
            }
            // Charged to the ancestor's node, which now waits for this
            // listing too (counted before the walker can list it).
            target.pending.fetch_add(1, Ordering::Relaxed);
            self.gather(target).own.add(&totals);
            return Step::Descend(target.clone());
        }
        if opts.all && printed {
            self.gather(target).file(name, &totals, None);
        } else {
            self.gather(target).own.add(&totals);
        }
        Step::Skip
    }

    fn end_batch(&mut self) {
        self.flush();
    }

    fn error(&mut self, dir: Option<&Arc<Node>>, _: &ScanError) {
        if let Some(node) = dir {
            self.flush();
            node.held().own.add(&Totals::error());
        }
    }

    /// While few children and links are held, any; past
    /// `HOLD_AT_MOST`, only a directory inside the one the output waits
    /// for (whose own listing, batches and deeper listings are all queued
    /// or running, so one always may).
    fn may_start(&self, dir: &Arc<Node>) -> bool {
        let stream = self.stream;
        if stream.held.load(Ordering::Relaxed) <= HOLD_AT_MOST {
            return true;
        }
        let waiting = stream.waiting.load(Ordering::Relaxed);
        waiting == 0
            || std::iter::successors(Some(dir), |n| n.parent.as_ref())
                .any(|n| address(n) == waiting)
    }

    fn done(&mut self, dir: &Arc<Node>) {
        self.flush();
        if dir.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.stream.poke();
        }
    }
}
