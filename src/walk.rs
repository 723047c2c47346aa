//! The parallel walker.
//!
//! ```text
//!  main thread                         workers 1..=N (scoped threads)
//!  -----------                         ------------------------------
//!  for each path argument, in order:   loop:
//!    stat it, make its node              pop own deque (LIFO, depth first)
//!    open it, push List ----+            else steal: injector, then others (FIFO end)
//!    wait until pending = 0 |            run the task:
//!                           +-------->     List/Dir  open, getdents64, cut names into
//!  resolve hard links                                 batches; stat them inline, or push
//!  print the tree                                     a Stat batch when the deque runs low
//!                                          Stat      stat each name relative to the dir fd,
//!                                                    charge sizes, push a Dir per subdirectory
//!                                        pending -= 1 (the last one wakes the main thread)
//! ```
//!
//! * **Depth first, LIFO.** A worker always continues with the task it pushed
//!   last: the deepest directory. That keeps the number of pending tasks (and
//!   of open directory fds) proportional to depth times fan-out of the path
//!   being walked, not to the size of the tree. Thieves take from the other
//!   end: the shallowest, largest pieces of work.
//! * **Huge directories are shared.** Names are cut into batches of
//!   [`BATCH`]; while the lister's deque is short, batches are pushed for
//!   other workers to steal, so a directory of a million entries is stat'ed by
//!   every worker.
//! * **Termination** is one atomic count of tasks pushed and not yet finished.
//!   Workers touch it once per task (a directory or a batch), never per entry,
//!   and no lock is taken on the hot path.
//! * **Bounded fds.** Every open directory is counted; past the budget, new
//!   subdirectory tasks keep only the path (names chained up to the argument)
//!   and reopen their parent from the argument down when they run, so no scan
//!   fails for lack of descriptors, at any depth.
use std::ffi::{CStr, CString};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use bumpalo::Bump;
use crossbeam_deque::{Injector, Steal, Stealer, Worker as Deque};
use crossbeam_utils::Backoff;

use fdu_platform::pin::{self, Placement};
use fdu_platform::{Backend, Errno, Follow, Kind, Meta, Submitted};

use crate::diag;
use crate::exclude::Exclude;
use crate::links::LinkSet;
use crate::tree::{NodeId, NodeTable, Nodes, TimeKind, Totals, Tree};

/// Names per stat batch: small enough to spread a huge directory over every
/// worker, large enough that the task overhead is noise next to the syscalls.
pub const BATCH: usize = 256;

/// A lister pushes batches for others only while its deque holds fewer tasks.
const SPILL_BELOW: usize = 4;

/// What to scan and what to count: du's options, resolved.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// Follow every symlink (`-L`).
    pub follow: bool,
    /// Follow symlinks given on the command line (`-H`, `-D`, implied by `-L`).
    pub follow_args: bool,
    /// Skip entries on other file systems than their argument (`-x`).
    pub one_file_system: bool,
    /// Count every hard link (`-l`).
    pub count_links: bool,
    /// Deepest level printed; the arguments are level 0 (`-s` is 0).
    pub max_depth: usize,
    /// Print files too (`-a`).
    pub all: bool,
    /// Worker threads.
    pub threads: usize,
    /// `--exclude` patterns.
    pub exclude: Option<Exclude>,
    /// Cap on the pool of directory fds kept open for waiting tasks
    /// (default: what the descriptor limit leaves, see [`FdBudget`]).
    pub max_open_dirs: Option<usize>,
    /// Where each worker runs (`--pin`): one entry per worker, or none to
    /// leave every worker unpinned.
    pub placements: Vec<Placement>,
    /// `-S`: a directory's total leaves out its subdirectories. Directories
    /// below the print depth then get nodes of their own (never printed),
    /// so that their entries reach the grand total only.
    pub separate_dirs: bool,
    /// Which time [`Totals::time`] keeps (`--time=WORD`).
    pub time: TimeKind,
}

impl Default for ScanOptions {
    /// du's defaults: no symlink followed, every level printed, hard links
    /// counted once, [`default_threads`] workers, no pinning.
    fn default() -> ScanOptions {
        ScanOptions {
            follow: false,
            follow_args: false,
            one_file_system: false,
            count_links: false,
            max_depth: usize::MAX,
            all: false,
            threads: default_threads(),
            exclude: None,
            max_open_dirs: None,
            placements: Vec::new(),
            separate_dirs: false,
            time: TimeKind::default(),
        }
    }
}

/// The default worker count: eight per CPU this process may run on, at
/// least 8 and at most 64. Measured on 2 CPUs (README, `perf/runs/`): warm,
/// 8 to 24 workers are within noise of each other; cold, 16 finish 1-3%
/// before 8 on local ext4, and on a file system with 1-5 ms per request
/// 32-64 workers finish 1.4-5x before 8, as more metadata requests are in
/// flight.
pub fn default_threads() -> usize {
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    (cpus * 8).clamp(8, 64)
}

impl ScanOptions {
    /// The totals of one entry.
    fn totals(&self, meta: &Meta) -> Totals {
        Totals::with_time(meta, self.time)
    }

    /// Whether a directory at `depth` gets a node of its own: it is
    /// printed, or `-S` needs it kept apart.
    fn dir_node(&self, depth: usize) -> bool {
        depth <= self.max_depth || self.separate_dirs
    }
}

/// What the scan counted, besides the printed lines.
#[derive(Clone, Default, Debug)]
pub struct ScanOutcome {
    /// Entries that could not be read (each reported on stderr).
    pub errors: u64,
    /// Sum over every argument (`-c`).
    pub grand_total: Totals,
    /// What each worker did, in worker order (for `--stats`).
    pub workers: Vec<WorkerStats>,
    /// Everything, the path arguments handled by the main thread included.
    pub sum: WorkerStats,
}

/// A directory's place in the tree: its name and its parent's. Kept only
/// while tasks below it are pending; used to print paths and to reopen
/// directories whose fd was closed to stay within the fd budget.
struct PathNode {
    parent: Option<Arc<PathNode>>,
    /// The component name; for a path argument, the path as given.
    name: CString,
    /// `(st_dev, st_ino)`: a directory whose identity is one of its
    /// ancestors' is a cycle (a bind mount of an ancestor, a symlink to one
    /// under `-L`), skipped as du's fts skips it.
    id: (u64, u64),
    /// One bit per identity of this directory and its ancestors: a clear
    /// bit proves an identity is not among them without walking the chain.
    ancestors: u64,
    /// Symbolic links followed from the argument to this directory, as the
    /// kernel counts them in a full path (see `fdu_platform::hops`).
    hops: u32,
}

/// The bit of [`PathNode::ancestors`] for one identity.
fn id_bit(id: (u64, u64)) -> u64 {
    let mix = (id.0 ^ id.1.rotate_left(32)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    1 << (mix >> 58)
}

impl PathNode {
    /// The node of a path argument.
    fn root(name: CString, id: (u64, u64), hops: u32) -> Arc<PathNode> {
        Arc::new(PathNode {
            parent: None,
            name,
            id,
            ancestors: id_bit(id),
            hops,
        })
    }

    /// The node of `name`, a subdirectory of `parent`.
    fn child(parent: &Arc<PathNode>, name: CString, id: (u64, u64), hops: u32) -> Arc<PathNode> {
        Arc::new(PathNode {
            ancestors: parent.ancestors | id_bit(id),
            parent: Some(parent.clone()),
            name,
            id,
            hops,
        })
    }

    /// This directory, then its parent, up to the argument.
    fn ancestors(&self) -> impl Iterator<Item = &PathNode> {
        std::iter::successors(Some(self), |node| node.parent.as_deref())
    }

    /// The chain from the argument down to this directory.
    fn chain_from_root(&self) -> Vec<&PathNode> {
        let mut chain: Vec<&PathNode> = self.ancestors().collect();
        chain.reverse();
        chain
    }

    /// Write the printed path of this directory (and `leaf` below it).
    fn display(&self, leaf: Option<&[u8]>, out: &mut Vec<u8>) {
        let chain = self.chain_from_root();
        out.clear();
        out.extend_from_slice(&root_display(chain[0].name.as_bytes()));
        for n in &chain[1..] {
            join(out, n.name.as_bytes());
        }
        if let Some(leaf) = leaf {
            join(out, leaf);
        }
    }

    /// Append this directory's components, each followed by a NUL: byte
    /// order of such keys is path order (a parent before its children,
    /// siblings by name).
    fn order_key(&self, out: &mut Vec<u8>) {
        for node in self.chain_from_root() {
            out.extend_from_slice(node.name.as_bytes());
            out.push(0);
        }
    }

    /// Whether this directory or one of its ancestors is `id`.
    fn has_ancestor(&self, id: (u64, u64)) -> bool {
        self.ancestors & id_bit(id) != 0 && self.ancestors().any(|node| node.id == id)
    }

    fn display_owned(&self, leaf: Option<&[u8]>) -> Vec<u8> {
        let mut out = Vec::new();
        self.display(leaf, &mut out);
        out
    }
}

/// Append a component the way fts builds `fts_path`.
fn join(path: &mut Vec<u8>, name: &[u8]) {
    if path.last() != Some(&b'/') {
        path.push(b'/');
    }
    path.extend_from_slice(name);
}

/// A path argument as du prints it: two or more trailing slashes become one.
pub fn root_display(arg: &[u8]) -> Vec<u8> {
    let mut len = arg.len();
    if len > 2 && arg[len - 1] == b'/' {
        while len > 1 && arg[len - 2] == b'/' {
            len -= 1;
        }
    }
    arg[..len].to_vec()
}

/// The directory a file passed to a [`FileSink`] was found in: the walker's
/// chain of names up to the argument, shared, not a path string. Cheap to
/// clone (a reference count); a clone keeps the chain alive. For a file
/// given as an argument there is no directory, and the name is the path.
#[derive(Clone)]
pub struct DirPath(Option<Arc<PathNode>>);

impl DirPath {
    /// Write the path of `name` in this directory, as du prints it, to
    /// `out` (replacing what it held).
    pub fn write_path(&self, name: &[u8], out: &mut Vec<u8>) {
        match &self.0 {
            Some(dir) => dir.display(Some(name), out),
            None => {
                out.clear();
                out.extend_from_slice(name);
            }
        }
    }
}

/// Receives every regular file the scan counts, as it is stat'ed (what
/// `--dups` reads its candidates from).
///
/// Called from every worker at once, so implementations shard by `worker`:
/// 0 is the main thread (file arguments), 1..=N the workers. Every link to a
/// multiply-linked file is passed, and a file reached through several
/// arguments may be passed more than once: `(meta.dev, meta.ino)` tells.
pub trait FileSink: Sync {
    /// One regular file: its directory, its name there and its stat (see
    /// [`DirPath::write_path`] for its path as du would print it).
    fn file(&self, worker: usize, dir: &DirPath, name: &[u8], meta: &Meta);
}

/// The descriptors directories may keep open while tasks below them wait.
///
/// Every worker also holds up to [`FDS_PER_WORKER`] descriptors of its own
/// (the directory it lists, and a parent while it reopens a chain) outside
/// this pool, and the backend some more (`Backend::fds_per_thread`): the
/// pool is what the descriptor limit leaves after those, so no open ever
/// fails for lack of descriptors. A directory opened without a slot of the
/// pool is private to the worker that opened it: its batches are not
/// shared and its subdirectories reopen it by its chain of names.
struct FdPool {
    used: AtomicUsize,
    max: usize,
}

impl FdPool {
    /// Take a slot, if one is free.
    fn try_take(&self) -> bool {
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            if used >= self.max {
                return false;
            }
            match self.used.compare_exchange_weak(
                used,
                used + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => used = now,
            }
        }
    }

    /// Take a slot, held until the returned guard drops.
    fn take(pool: &Arc<FdPool>) -> Option<Slot> {
        pool.try_take().then(|| Slot(pool.clone()))
    }
}

/// A slot of the [`FdPool`], given back on drop.
struct Slot(Arc<FdPool>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.used.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Descriptors a worker holds outside the [`FdPool`]: the directory it
/// lists when no slot was free, and a parent while it reopens a chain.
const FDS_PER_WORKER: usize = 2;

/// An open directory and what its entries are charged to.
struct OpenDir<B: Backend> {
    /// Declared first: dropped (closed) before its slot is given back.
    fd: B::Dir,
    path: Arc<PathNode>,
    /// Level of the directory (arguments are 0).
    depth: usize,
    /// The printed node its entries fold into.
    target: NodeId,
    /// The pool slot this descriptor holds; `None` for a directory
    /// private to the worker that opened it (see [`FdPool`]).
    slot: Option<Slot>,
}

impl<B: Backend> OpenDir<B> {
    /// Whether other tasks may hold this directory open.
    fn shareable(&self) -> bool {
        self.slot.is_some()
    }
}

/// How a subdirectory task reaches its parent.
enum Parent<B: Backend> {
    /// The parent's fd is still open.
    Open(Arc<OpenDir<B>>),
    /// Over the fd budget: reopen the parent by its chain of names.
    Closed(Arc<PathNode>),
}

/// A symlink to a directory met under `-L` (without `-l`).
///
/// Such a directory may also be reached by its real path, or through other
/// symlinks, and is counted once; to make the choice independent of thread
/// timing, symlinked directories are not entered during the walk. When the
/// walk of an argument is over (every real directory claimed), they are
/// taken in path order, one at a time, each walked in parallel; those met
/// inside them form the next round. So a directory is charged to its real
/// path when it has one inside the argument, else to its first symlink in
/// path order.
struct Deferred {
    /// Path order: see [`PathNode::order_key`].
    key: Vec<u8>,
    parent: Arc<PathNode>,
    name: CString,
    /// The directory the symlink points to.
    meta: Meta,
    /// Symbolic links followed from the argument to that directory.
    hops: u32,
    depth: usize,
    /// What the symlink's directory is charged to.
    target: NodeId,
}

/// A subdirectory found by a stat batch, to be opened with its siblings.
struct Subdir {
    name: CString,
    id: (u64, u64),
    hops: u32,
    /// What its entries are charged to.
    target: NodeId,
    /// The pool slot its descriptor will hold.
    slot: Slot,
}

/// Names of one directory, NUL-terminated, back to back.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    len: usize,
}

impl Batch {
    fn push(&mut self, name: &CStr) {
        self.bytes.extend_from_slice(name.to_bytes_with_nul());
        self.len += 1;
    }
    fn iter(&self) -> impl Iterator<Item = &CStr> {
        self.bytes
            .split_inclusive(|&b| b == 0)
            .filter_map(|n| CStr::from_bytes_with_nul(n).ok())
    }
}

enum Task<B: Backend> {
    /// List a directory that is already open (a path argument).
    List(Arc<OpenDir<B>>),
    /// Open a subdirectory, then list it.
    Dir {
        parent: Parent<B>,
        name: CString,
        id: (u64, u64),
        hops: u32,
        depth: usize,
        target: NodeId,
    },
    /// Stat a batch of a directory's entries.
    Stat { dir: Arc<OpenDir<B>>, batch: Batch },
}

/// State every worker sees.
struct Shared<'s, B: Backend> {
    backend: &'s B,
    opts: &'s ScanOptions,
    injector: Injector<Task<B>>,
    stealers: Vec<Stealer<Task<B>>>,
    pending: AtomicUsize,
    idle: (Mutex<()>, Condvar),
    shutdown: AtomicBool,
    sleep: Sleep,
    pool: Arc<FdPool>,
    links: LinkSet,
    /// Insert directories in the link set (several arguments, or `-L`).
    hash_dirs: bool,
    /// Insert every file, not only multiply-linked ones.
    hash_all_files: bool,
    /// Every entry of an argument is charged to the argument's own node
    /// (`-s`, no `-a`/`-S`), and arguments are walked one after another:
    /// a file with several names is charged where it is first seen, and
    /// only its identity is kept.
    charge_at_once: bool,
    /// Set symlinked directories aside (`-L` without `-l`): see [`Deferred`].
    defer_links: bool,
    deferred: Mutex<Vec<Deferred>>,
    /// `st_dev` of the argument being scanned (`-x`).
    root_dev: AtomicU64,
    follow: Follow,
    files: Option<&'s dyn FileSink>,
}

/// Where idle workers sleep: an event count, so that a worker parks
/// without a timeout and a push never misses it.
///
/// A worker about to sleep reads `epoch`, counts itself in `sleepers`, looks
/// for work once more, and only then waits for `epoch` to move. A pusher
/// publishes its task, then wakes one sleeper if `sleepers` is not zero.
/// Both sides order these steps with `SeqCst`, so either the worker's last
/// look finds the task or the pusher sees the sleeper. The pusher pays one
/// load when nobody sleeps (once per directory or batch, never per entry).
#[derive(Default)]
struct Sleep {
    epoch: AtomicU64,
    sleepers: AtomicUsize,
    lock: Mutex<()>,
    wake: Condvar,
}

impl Sleep {
    /// Wake one sleeping worker, if any: called after a task was pushed.
    fn notify_one(&self) {
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            self.epoch.fetch_add(1, Ordering::SeqCst);
            let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            self.wake.notify_one();
        }
    }

    /// Wake every worker (shutdown).
    fn notify_all(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.wake.notify_all();
    }
}

impl<'s, B: Backend> Shared<'s, B> {
    fn push(&self, deque: &Deque<Task<B>>, task: Task<B>) {
        self.pending.fetch_add(1, Ordering::Relaxed);
        deque.push(task);
        self.sleep.notify_one();
    }

    /// Push a task for any worker (from the main thread).
    fn inject(&self, task: Task<B>) {
        self.pending.fetch_add(1, Ordering::Relaxed);
        self.injector.push(task);
        self.sleep.notify_one();
    }

    fn finish(&self) {
        if self.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            let _guard = self.idle.0.lock().unwrap_or_else(|p| p.into_inner());
            self.idle.1.notify_all();
        }
    }

    fn wait_idle(&self) {
        let mut guard = self.idle.0.lock().unwrap_or_else(|p| p.into_inner());
        while self.pending.load(Ordering::Acquire) != 0 {
            guard = self
                .idle
                .1
                .wait_timeout(guard, Duration::from_millis(5))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Reopen a directory whose fd was closed, from its argument down.
    fn reopen(&self, path: &PathNode, stats: &mut WorkerStats) -> Result<B::Dir, Errno> {
        let chain = path.chain_from_root();
        stats.openat += chain.len() as u64;
        let mut dir = self.backend.open_path(os_path(chain[0].name.as_bytes()))?;
        for next in &chain[1..] {
            dir = self.backend.open_at(&dir, &next.name, self.follow)?;
        }
        Ok(dir)
    }
}

/// A path's bytes as a `Path` (on other systems, as UTF-8).
#[cfg(unix)]
pub(crate) fn os_path(bytes: &[u8]) -> &Path {
    Path::new(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(bytes))
}

#[cfg(not(unix))]
pub(crate) fn os_path(bytes: &[u8]) -> &Path {
    Path::new(std::str::from_utf8(bytes).unwrap_or_default())
}

/// Counters a worker keeps for itself (plain integers: no sharing, so
/// keeping them costs an add per syscall whether `--stats` is on or not).
#[derive(Clone, Copy, Default, Debug)]
pub struct WorkerStats {
    /// Entries stat'ed.
    pub entries: u64,
    /// Directories listed.
    pub dirs: u64,
    /// Entries that could not be read.
    pub errors: u64,
    /// Tasks taken from another worker's deque.
    pub steals: u64,
    /// `openat` calls (each opened fd is closed once: also the `close` count).
    pub openat: u64,
    /// `getdents64` calls.
    pub getdents: u64,
    /// Stat calls (`fstatat`, or `statx` where chosen).
    pub stat: u64,
    /// `io_uring_enter` calls (the uring backend).
    pub uring_enter: u64,
    /// Stats that ran on an io_uring (included in `stat`).
    pub ring_stat: u64,
    /// Opens that ran on an io_uring (included in `openat`).
    pub ring_openat: u64,
    /// Closes that ran on an io_uring.
    pub ring_close: u64,
}

impl WorkerStats {
    fn add(&mut self, o: &WorkerStats) {
        self.entries += o.entries;
        self.dirs += o.dirs;
        self.errors += o.errors;
        self.steals += o.steals;
        self.openat += o.openat;
        self.getdents += o.getdents;
        self.stat += o.stat;
        self.uring_enter += o.uring_enter;
        self.ring_stat += o.ring_stat;
        self.ring_openat += o.ring_openat;
        self.ring_close += o.ring_close;
    }

    fn add_submitted(&mut self, s: Submitted, opens: bool) {
        self.uring_enter += s.enters;
        self.ring_close += s.closes;
        if opens {
            self.ring_openat += s.ops;
        } else {
            self.ring_stat += s.ops;
        }
    }
}

/// Everything a worker owns except its listing buffer, so that the listing
/// callback can borrow it while the backend borrows the buffer.
struct Ctx<'s, 'a, B: Backend> {
    shared: &'s Shared<'s, B>,
    deque: Deque<Task<B>>,
    index: usize,
    /// Workers to steal from, in order: same NUMA node first.
    victims: Vec<usize>,
    table: NodeTable<'a>,
    stats: WorkerStats,
    path: Vec<u8>,
}

struct Worker<'s, 'a, B: Backend> {
    /// Made on the first listing: a worker of a large pool may never list.
    lister: Option<B::Lister>,
    ctx: Ctx<'s, 'a, B>,
}

impl<'s, 'a, B: Backend> Worker<'s, 'a, B> {
    fn run(mut self) -> (Nodes<'a>, WorkerStats) {
        let shared = self.ctx.shared;
        let backoff = Backoff::new();
        loop {
            if let Some(task) = self.ctx.find_task() {
                self.execute(task);
                shared.finish();
                backoff.reset();
                continue;
            }
            if shared.shutdown.load(Ordering::Acquire) {
                break;
            }
            // While tasks are pending, spin a little for more; with none
            // at all there is nothing to steal (and scanning every other
            // deque would cost a large pool dearly).
            if !backoff.is_completed() && shared.pending.load(Ordering::Relaxed) > 0 {
                backoff.snooze();
                continue;
            }
            // Park (see `Sleep`): no spinning, no timed wake-ups.
            let sleep = &shared.sleep;
            let epoch = sleep.epoch.load(Ordering::SeqCst);
            sleep.sleepers.fetch_add(1, Ordering::SeqCst);
            let last_look = if shared.pending.load(Ordering::SeqCst) > 0 {
                self.ctx.find_task()
            } else {
                None
            };
            if let Some(task) = last_look {
                sleep.sleepers.fetch_sub(1, Ordering::SeqCst);
                self.execute(task);
                shared.finish();
                backoff.reset();
                continue;
            }
            let mut guard = sleep.lock.lock().unwrap_or_else(|p| p.into_inner());
            while sleep.epoch.load(Ordering::SeqCst) == epoch
                && !shared.shutdown.load(Ordering::SeqCst)
            {
                guard = sleep.wake.wait(guard).unwrap_or_else(|p| p.into_inner());
            }
            drop(guard);
            sleep.sleepers.fetch_sub(1, Ordering::SeqCst);
            backoff.reset();
        }
        let done = shared.backend.finish_thread();
        self.ctx.stats.add_submitted(done, false);
        (self.ctx.table.into_nodes(), self.ctx.stats)
    }

    fn execute(&mut self, task: Task<B>) {
        match task {
            Task::List(dir) => self.list(dir),
            Task::Dir {
                parent,
                name,
                id,
                hops,
                depth,
                target,
            } => {
                let shared = self.ctx.shared;
                // Take a slot before opening: without one the directory is
                // private to this worker (see `FdPool`).
                let slot = FdPool::take(&shared.pool);
                self.ctx.stats.openat += 1;
                let (opened, parent_path) = match parent {
                    Parent::Open(p) => (
                        shared.backend.open_at(&p.fd, &name, shared.follow),
                        p.path.clone(),
                    ),
                    Parent::Closed(path) => (
                        shared
                            .reopen(&path, &mut self.ctx.stats)
                            .and_then(|d| shared.backend.open_at(&d, &name, shared.follow)),
                        path,
                    ),
                };
                let path = PathNode::child(&parent_path, name, id, hops);
                match opened {
                    Ok(fd) => {
                        self.list(Arc::new(OpenDir {
                            fd,
                            path,
                            depth,
                            target,
                            slot,
                        }));
                    }
                    Err(e) => {
                        self.ctx.stats.errors += 1;
                        diag::cannot_read(&path.display_owned(None), e);
                    }
                }
            }
            Task::Stat { dir, batch } => self.ctx.stat_batch(&dir, &batch),
        }
    }

    fn list(&mut self, dir: Arc<OpenDir<B>>) {
        let Worker { lister, ctx } = self;
        let lister = lister.get_or_insert_with(|| ctx.shared.backend.lister());
        ctx.stats.dirs += 1;
        let mut batch = Batch::default();
        let listed = ctx.shared.backend.list(&dir.fd, lister, |name| {
            batch.push(name);
            if batch.len >= BATCH {
                let full = std::mem::take(&mut batch);
                ctx.spill_or_stat(&dir, full);
            }
        });
        ctx.stats.getdents += listed.reads;
        if let Some(e) = listed.error {
            ctx.stats.errors += 1;
            diag::cannot_read(&dir.path.display_owned(None), e);
        }
        ctx.stat_batch(&dir, &batch);
    }
}

impl<'s, 'a, B: Backend> Ctx<'s, 'a, B> {
    fn find_task(&mut self) -> Option<Task<B>> {
        if let Some(task) = self.deque.pop() {
            return Some(task);
        }
        let shared = self.shared;
        loop {
            let mut retry = false;
            match shared.injector.steal_batch_and_pop(&self.deque) {
                Steal::Success(task) => return Some(task),
                Steal::Retry => retry = true,
                Steal::Empty => {}
            }
            for &victim in &self.victims {
                match shared.stealers[victim].steal() {
                    Steal::Success(task) => {
                        self.stats.steals += 1;
                        return Some(task);
                    }
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            if !retry {
                return None;
            }
        }
    }

    fn spill_or_stat(&mut self, dir: &Arc<OpenDir<B>>, batch: Batch) {
        if dir.shareable() && self.deque.len() < SPILL_BELOW {
            let task = Task::Stat {
                dir: dir.clone(),
                batch,
            };
            self.shared.push(&self.deque, task);
        } else {
            self.stat_batch(dir, &batch);
        }
    }

    fn stat_batch(&mut self, dir: &Arc<OpenDir<B>>, batch: &Batch) {
        if batch.len == 0 {
            return;
        }
        let shared = self.shared;
        let opts = shared.opts;
        let mut names: Vec<&CStr> = Vec::with_capacity(batch.len);
        let mut dir_path_len = None;
        for name in batch.iter() {
            if let Some(exclude) = &opts.exclude {
                let len = *dir_path_len.get_or_insert_with(|| {
                    dir.path.display(None, &mut self.path);
                    self.path.len()
                });
                self.path.truncate(len);
                join(&mut self.path, name.to_bytes());
                if exclude.matches(&self.path) {
                    continue;
                }
            }
            names.push(name);
        }
        self.stats.entries += names.len() as u64;
        self.stats.stat += names.len() as u64;
        // Under -L, symlinks are looked at before they are followed: see
        // `resolve`.
        let follow = Follow::No;
        let mut folded = Totals::default();
        let mut subdirs = Vec::new();
        let names = &names;
        let submitted = shared
            .backend
            .stat_many(&dir.fd, names, follow, |i, result| {
                if let Some((meta, hops)) = self.resolve(dir, names[i], result) {
                    self.entry(dir, names[i], &meta, hops, &mut folded, &mut subdirs);
                }
            });
        self.stats.add_submitted(submitted, false);
        if !subdirs.is_empty() {
            self.open_subdirs(dir, subdirs);
        }
        if folded != Totals::default() {
            self.table.charge(dir.target, &folded);
        }
    }

    /// Count one stat'ed entry: fold it into its directory, give it a node
    /// of its own, or make it a subdirectory to walk (pushed now, or added
    /// to `subdirs` to be opened with its siblings). `hops` is the count of
    /// symbolic links followed from the argument to it.
    fn entry(
        &mut self,
        dir: &Arc<OpenDir<B>>,
        name: &CStr,
        meta: &Meta,
        hops: u32,
        folded: &mut Totals,
        subdirs: &mut Vec<Subdir>,
    ) {
        let shared = self.shared;
        let opts = shared.opts;
        let bytes = name.to_bytes();
        let depth = dir.depth + 1;
        let printed = depth <= opts.max_depth;
        if opts.one_file_system && meta.dev != shared.root_dev.load(Ordering::Relaxed) {
            return;
        }
        if meta.kind == Kind::File {
            if let Some(sink) = shared.files {
                sink.file(
                    self.index + 1,
                    &DirPath(Some(dir.path.clone())),
                    bytes,
                    meta,
                );
            }
        }
        let totals = opts.totals(meta);
        let is_dir = meta.kind == Kind::Dir;
        // A directory that is one of its own ancestors (a bind mount of an
        // ancestor, a symlink to one under -L) is skipped and not counted,
        // as du's fts skips it (FTS_DC). Where directories are claimed in
        // the link set, the claim catches it.
        if is_dir && (opts.count_links || !shared.hash_dirs) && dir.path.has_ancestor(meta.id()) {
            return;
        }
        if opts.count_links {
            // Every link counts: nothing to claim.
        } else if is_dir {
            if shared.hash_dirs && !shared.links.claim_dir(meta.id()) {
                return;
            }
        } else if meta.nlink > 1 || shared.hash_all_files {
            if shared.charge_at_once {
                if shared.links.claim_file(meta.id()) {
                    folded.add(&totals);
                }
                return;
            }
            let node = if opts.all && printed {
                self.table
                    .add_file(dir.target, bytes, Totals::default(), true)
            } else {
                dir.target
            };
            shared.links.record_file(meta.id(), totals, node);
            return;
        }
        if is_dir {
            let target = if opts.dir_node(depth) {
                self.table.add_dir_at(dir.target, bytes, totals, printed)
            } else {
                folded.add(&totals);
                dir.target
            };
            if B::BATCHES_OPENS {
                if let Some(slot) = FdPool::take(&shared.pool) {
                    subdirs.push(Subdir {
                        name: name.to_owned(),
                        id: meta.id(),
                        hops,
                        target,
                        slot,
                    });
                    return;
                }
            }
            // A shared directory stays open for its subdirectories (its
            // slot is already counted); a private one is closed when this
            // worker is done with it, and they reopen it by name.
            let parent = if dir.shareable() {
                Parent::Open(dir.clone())
            } else {
                Parent::Closed(dir.path.clone())
            };
            let task = Task::Dir {
                parent,
                name: name.to_owned(),
                id: meta.id(),
                hops,
                depth,
                target,
            };
            shared.push(&self.deque, task);
        } else if opts.all && printed {
            self.table.add_file(dir.target, bytes, totals, false);
        } else {
            folded.add(&totals);
        }
    }

    /// Open the subdirectories of one stat batch together, and push a task
    /// to list each.
    fn open_subdirs(&mut self, dir: &Arc<OpenDir<B>>, subdirs: Vec<Subdir>) {
        let shared = self.shared;
        let names: Vec<&CStr> = subdirs.iter().map(|d| d.name.as_c_str()).collect();
        let mut opened: Vec<Option<Result<B::Dir, Errno>>> = Vec::new();
        opened.resize_with(names.len(), || None);
        self.stats.openat += names.len() as u64;
        let submitted = shared
            .backend
            .open_many(&dir.fd, &names, shared.follow, |i, result| {
                opened[i] = Some(result);
            });
        self.stats.add_submitted(submitted, true);
        for (sub, result) in subdirs.into_iter().zip(opened) {
            let path = PathNode::child(&dir.path, sub.name, sub.id, sub.hops);
            match result {
                Some(Ok(fd)) => {
                    let task = Task::List(Arc::new(OpenDir {
                        fd,
                        path,
                        depth: dir.depth + 1,
                        target: sub.target,
                        slot: Some(sub.slot),
                    }));
                    shared.push(&self.deque, task);
                }
                Some(Err(e)) => {
                    self.stats.errors += 1;
                    diag::cannot_read(&path.display_owned(None), e);
                }
                None => unreachable!("open_many reports every name"),
            }
        }
    }

    /// The meta an entry is counted with and the symbolic links followed
    /// from the argument to it; `None` when its stat failed (reported) or it
    /// was a symlink to a directory set aside for later (see [`Deferred`]).
    ///
    /// Entries are first stat'ed without following; under `-L` a symlink is
    /// then followed, and its links counted: past the kernel's limit of a
    /// full path (which du's stat meets), it fails with `ELOOP` as in du.
    fn resolve(
        &mut self,
        dir: &OpenDir<B>,
        name: &CStr,
        first: Result<Meta, Errno>,
    ) -> Option<(Meta, u32)> {
        let shared = self.shared;
        let meta = match first {
            Ok(meta) => meta,
            Err(e) => {
                self.stats.errors += 1;
                diag::cannot_access(&dir.path.display_owned(Some(name.to_bytes())), Some(e));
                return None;
            }
        };
        if !shared.opts.follow || meta.kind != Kind::Symlink {
            return Some((meta, dir.path.hops));
        }
        self.stats.stat += 1;
        let followed = shared
            .backend
            .stat_at(&dir.fd, name, Follow::Yes)
            .and_then(|target| {
                let hops = shared.backend.symlink_hops(&dir.fd, name).unwrap_or(1);
                match dir.path.hops.saturating_add(hops) {
                    total if total > fdu_platform::hops::MAX_HOPS => Err(Errno::LOOP),
                    total => Ok((target, total)),
                }
            });
        match followed {
            Ok((target, _))
                if shared.opts.one_file_system
                    && target.dev != shared.root_dev.load(Ordering::Relaxed) =>
            {
                None
            }
            Ok((target, hops)) if shared.defer_links && target.kind == Kind::Dir => {
                let mut key = Vec::new();
                dir.path.order_key(&mut key);
                key.extend_from_slice(name.to_bytes());
                let deferred = Deferred {
                    key,
                    parent: dir.path.clone(),
                    name: name.to_owned(),
                    meta: target,
                    hops,
                    depth: dir.depth + 1,
                    target: dir.target,
                };
                shared
                    .deferred
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(deferred);
                None
            }
            Ok(followed) => Some(followed),
            Err(e) => {
                self.stats.errors += 1;
                let path = dir.path.display_owned(Some(name.to_bytes()));
                // du's wording for a dangling symlink under -L: no reason.
                diag::cannot_access(&path, (e != Errno::NOENT).then_some(e));
                None
            }
        }
    }
}

/// Walk the symlinked directories set aside while walking an argument, in
/// rounds, each in path order (see [`Deferred`]).
fn walk_deferred<B: Backend>(shared: &Shared<'_, B>, main: &mut NodeTable<'_>, opts: &ScanOptions) {
    loop {
        let mut round =
            std::mem::take(&mut *shared.deferred.lock().unwrap_or_else(|p| p.into_inner()));
        if round.is_empty() {
            return;
        }
        round.sort_by(|a, b| a.key.cmp(&b.key));
        for d in round {
            if !shared.links.claim_dir(d.meta.id()) {
                continue;
            }
            let totals = opts.totals(&d.meta);
            let target = if opts.dir_node(d.depth) {
                let printed = d.depth <= opts.max_depth;
                main.add_dir_at(d.target, d.name.to_bytes(), totals, printed)
            } else {
                main.charge(d.target, &totals);
                d.target
            };
            shared.inject(Task::Dir {
                parent: Parent::Closed(d.parent),
                name: d.name,
                id: d.meta.id(),
                hops: d.hops,
                depth: d.depth,
                target,
            });
            shared.wait_idle();
        }
    }
}

/// How the descriptor limit is shared out between the workers and the pool
/// of directories kept open for waiting tasks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FdBudget {
    /// Workers that fit: the number asked for, fewer when the limit is too
    /// small to give each its own descriptors.
    pub threads: usize,
    /// Directories that may stay open for other tasks (the pool).
    pub pool: usize,
}

impl FdBudget {
    /// Share `limit` descriptors, `open` of them already taken (stdio, a
    /// ring, inherited ones), between `threads` workers, each holding up to
    /// two (the directory it lists, a parent while it reopens a chain) plus
    /// `per_thread` of its backend's, the main
    /// thread's argument, and the pool. A limit too small for the workers
    /// asked for gets fewer of them (at least one); the pool is capped at
    /// 65,536 and keeps a margin of an eighth (at most 64) for what the
    /// process may open besides.
    pub fn plan(limit: u64, open: usize, threads: usize, per_thread: usize) -> FdBudget {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        // The main thread's argument directory.
        let free = limit.saturating_sub(open).saturating_sub(1);
        let margin = (free / 8).min(64);
        let free = free - margin;
        let per_worker = FDS_PER_WORKER + per_thread;
        let threads = threads.min(free / per_worker).max(1);
        let pool = free.saturating_sub(threads * per_worker).min(1 << 16);
        FdBudget { threads, pool }
    }
}

/// Scan `paths` (in order, as du does) and call `line(totals, path)` for
/// every line du would print, in du's order made deterministic: per
/// argument, children before their parent, siblings by name.
pub fn scan<B: Backend>(
    backend: &B,
    opts: &ScanOptions,
    paths: &[Vec<u8>],
    line: impl FnMut(&Totals, &[u8]),
) -> ScanOutcome {
    scan_with(backend, opts, paths, None, line)
}

/// [`scan`], passing every regular file to `files` as well.
pub fn scan_with<B: Backend>(
    backend: &B,
    opts: &ScanOptions,
    paths: &[Vec<u8>],
    files: Option<&dyn FileSink>,
    line: impl FnMut(&Totals, &[u8]),
) -> ScanOutcome {
    let fd_limit = fdu_platform::limits::current_nofile();
    let budget = FdBudget::plan(
        fd_limit,
        // Descriptors taken now (stdio, inherited ones, a ring): what the
        // limit leaves free is counted, else stdio is assumed.
        fdu_platform::limits::free_fds()
            .map_or(3, |free| fd_limit.saturating_sub(free))
            .try_into()
            .unwrap_or(usize::MAX),
        opts.threads.max(1),
        backend.fds_per_thread(),
    );
    let threads = budget.threads;
    let max_open = opts
        .max_open_dirs
        .map_or(budget.pool, |n| n.min(budget.pool));
    let follow = if opts.follow { Follow::Yes } else { Follow::No };
    let arg_follow = if opts.follow || opts.follow_args {
        Follow::Yes
    } else {
        Follow::No
    };
    let several = paths.len() > 1;
    let mut arenas: Vec<Bump> = (0..=threads).map(|_| Bump::new()).collect();
    let (main_arena, worker_arenas) = arenas.split_first_mut().expect("one arena per table");
    let mut main = NodeTable::new(0, main_arena);
    let mut main_stats = WorkerStats::default();

    // Stat the arguments first: whether one of them is a file decides how
    // much the hard-link set must track.
    main_stats.stat += paths.len() as u64;
    main_stats.entries += paths.len() as u64;
    let metas: Vec<Result<Meta, Errno>> = paths
        .iter()
        .map(|p| backend.stat_path(os_path(p), arg_follow))
        .collect();
    let file_arg = metas
        .iter()
        .any(|m| matches!(m, Ok(m) if m.kind != Kind::Dir));

    let deques: Vec<Deque<Task<B>>> = (0..threads).map(|_| Deque::new_lifo()).collect();
    let shared = Shared {
        backend,
        opts,
        injector: Injector::new(),
        stealers: deques.iter().map(Deque::stealer).collect(),
        pending: AtomicUsize::new(0),
        idle: (Mutex::new(()), Condvar::new()),
        shutdown: AtomicBool::new(false),
        sleep: Sleep::default(),
        pool: Arc::new(FdPool {
            used: AtomicUsize::new(0),
            max: max_open,
        }),
        links: LinkSet::new(threads),
        hash_dirs: several || opts.follow,
        hash_all_files: opts.follow || (several && file_arg),
        charge_at_once: opts.max_depth == 0 && !opts.all && !opts.separate_dirs,
        defer_links: opts.follow && !opts.count_links,
        deferred: Mutex::new(Vec::new()),
        root_dev: AtomicU64::new(0),
        follow,
        files,
    };

    let mut outcome = ScanOutcome::default();
    let tables = std::thread::scope(|scope| {
        let shared = &shared;
        let handles: Vec<_> = deques
            .into_iter()
            .zip(worker_arenas.iter_mut())
            .enumerate()
            .map(|(i, (deque, arena))| {
                let victims = if opts.placements.len() == threads {
                    pin::steal_order(&opts.placements, i)
                } else {
                    (1..threads).map(|k| (i + k) % threads).collect()
                };
                scope.spawn(move || {
                    // Pin first: the arena, the name interner and the
                    // backend's ring are all first touched below, on the
                    // worker's node.
                    if let Some(place) = opts.placements.get(i) {
                        // Best effort: an affinity the kernel refuses (a CPU
                        // gone offline since) leaves the worker unpinned.
                        let _ = pin::pin_current_thread(&place.cpus);
                    }
                    let arena: &Bump = arena;
                    let worker = Worker {
                        lister: None,
                        ctx: Ctx {
                            shared,
                            deque,
                            index: i,
                            victims,
                            table: NodeTable::new(i + 1, arena),
                            stats: WorkerStats::default(),
                            path: Vec::new(),
                        },
                    };
                    worker.run()
                })
            })
            .collect();

        for (arg, meta) in paths.iter().zip(metas) {
            if arg.is_empty() {
                main_stats.errors += 1;
                diag::report("invalid zero-length file name");
                continue;
            }
            let display = root_display(arg);
            if opts.exclude.as_ref().is_some_and(|ex| ex.matches(&display)) {
                continue;
            }
            let meta = match meta {
                Ok(meta) => meta,
                Err(e) => {
                    main_stats.errors += 1;
                    let dangling = e == Errno::NOENT
                        && arg_follow == Follow::Yes
                        && backend
                            .stat_path(os_path(arg), Follow::No)
                            .is_ok_and(|m| m.kind == Kind::Symlink);
                    diag::cannot_access(arg, (!dangling).then_some(e));
                    continue;
                }
            };
            if meta.kind == Kind::File {
                if let Some(sink) = files {
                    sink.file(0, &DirPath(None), &display, &meta);
                }
            }
            let totals = opts.totals(&meta);
            let is_dir = meta.kind == Kind::Dir;
            let tracked = !opts.count_links && !is_dir && (meta.nlink > 1 || shared.hash_all_files);
            if !opts.count_links && is_dir && shared.hash_dirs && !shared.links.claim_dir(meta.id())
            {
                continue;
            }
            let root = if tracked && shared.charge_at_once {
                // Charged here, or already by an earlier argument.
                match shared.links.claim_file(meta.id()) {
                    true => main.add_root(&display, totals, false),
                    false => main.add_root(&display, Totals::default(), true),
                }
            } else if tracked {
                let node = main.add_root(&display, Totals::default(), true);
                shared.links.record_file(meta.id(), totals, node);
                node
            } else {
                main.add_root(&display, totals, false)
            };
            if !is_dir {
                continue;
            }
            shared.root_dev.store(meta.dev, Ordering::Relaxed);
            let hops = if opts.follow {
                backend.path_hops(os_path(arg)).unwrap_or(0)
            } else {
                0
            };
            let path = PathNode::root(
                CString::new(arg.clone()).unwrap_or_default(),
                meta.id(),
                hops,
            );
            // Without a slot, the argument is opened on the main thread's
            // own descriptor (see `FdBudget`).
            let slot = FdPool::take(&shared.pool);
            main_stats.openat += 1;
            match backend.open_path(os_path(arg)) {
                Ok(fd) => {
                    let dir = Arc::new(OpenDir {
                        fd,
                        path,
                        depth: 0,
                        target: root,
                        slot,
                    });
                    shared.inject(Task::List(dir));
                    shared.wait_idle();
                    walk_deferred(shared, &mut main, opts);
                }
                Err(e) => {
                    main_stats.errors += 1;
                    diag::cannot_read(&display, e);
                }
            }
        }
        shared.shutdown.store(true, Ordering::SeqCst);
        shared.sleep.notify_all();
        let mut tables = vec![main.into_nodes()];
        for handle in handles {
            let (table, stats) = handle.join().expect("a worker panicked");
            outcome.workers.push(stats);
            tables.push(table);
        }
        tables
    });
    outcome.sum = main_stats;
    for w in &outcome.workers {
        outcome.sum.add(w);
    }
    outcome.errors = outcome.sum.errors;
    let tree = Tree::assemble(&tables, shared.links.drain_files());
    outcome.grand_total = tree.emit_with(opts.separate_dirs, line);
    outcome
}

#[cfg(test)]
mod tests {
    use super::{root_display, FdBudget};

    #[test]
    fn the_descriptor_budget_shrinks_the_pool_then_the_workers() {
        // 8 descriptors, stdio open: the argument takes one, 2 workers of 2.
        assert_eq!(
            FdBudget::plan(8, 3, 16, 0),
            FdBudget {
                threads: 2,
                pool: 0
            }
        );
        // A ring per worker too (the uring backend): one worker.
        assert_eq!(FdBudget::plan(8, 4, 16, 1).threads, 1);
        // Never no worker at all.
        assert_eq!(FdBudget::plan(3, 3, 4, 0).threads, 1);
        // A usual limit: every worker, a pool, a margin.
        let big = FdBudget::plan(1 << 20, 3, 16, 17);
        assert_eq!(big.threads, 16);
        assert_eq!(big.pool, 1 << 16);
        let mid = FdBudget::plan(1024, 3, 16, 0);
        assert_eq!((mid.threads, mid.pool), (16, 1020 - 64 - 32));
    }

    #[test]
    fn trailing_slashes_collapse_like_fts() {
        assert_eq!(root_display(b"d//"), b"d/");
        assert_eq!(root_display(b"d/"), b"d/");
        assert_eq!(root_display(b"//"), b"//");
        assert_eq!(root_display(b"/"), b"/");
        assert_eq!(root_display(b"a///"), b"a/");
    }
}
