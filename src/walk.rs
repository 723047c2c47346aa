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
//!   end: the shallowest, largest pieces of work. A visitor that prints in
//!   path order ([`Visitor::ordered`]) gets deques whose thieves take the
//!   newest task instead (the next sibling of the owner's), and may hold
//!   directories back ([`Visit::may_start`]). Each stat batch pushes its
//!   subdirectories last name first, so a worker takes them in name order.
//! * **Done directories.** The walker counts the parts of a directory's
//!   listing not visited yet (the listing, and each batch pushed for
//!   others); the worker that finishes the last tells the visitor
//!   ([`Visit::done`]).
//! * **Huge directories are shared.** Names are cut into batches of
//!   [`BATCH`]; while the lister's deque is short, batches are pushed for
//!   other workers to steal, so a directory of a million entries is stat'ed by
//!   every worker.
//! * **Termination** is one atomic count of tasks pushed and not yet finished.
//!   Workers touch it once per task (a directory or a batch), never per entry,
//!   and no lock is taken on the hot path.
//! * **Permits.** Workers `0..permits` run tasks; one past the permits
//!   finishes the piece it runs and parks at a gate, its deque left to
//!   thieves. The count is fixed (`-j N`), or moved by `-j auto`'s
//!   controller on the main thread ([`crate::adapt`]), which spawns the
//!   pool's threads as it first lets them run.
//! * **Bounded fds.** Every open directory is counted; past the budget, new
//!   subdirectory tasks keep only the path (names chained up to the argument)
//!   and reopen their parent from the argument down when they run, so no scan
//!   fails for lack of descriptors, at any depth.
use std::collections::VecDeque;
use std::ffi::{CStr, CString};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crossbeam_deque::{Injector, Steal, Stealer, Worker as Deque};
use crossbeam_utils::Backoff;

use fdu_platform::cpu::CpuTimes;
use fdu_platform::pin::{self, Placement};
use fdu_platform::{Backend, Errno, Follow, Kind, Meta, Submitted};

use crate::adapt::{Controller, History, Running, Workers};
use crate::diag::{ErrorSink, Failed, ScanError};
use crate::dirs::PathNode;
use crate::dirs::{root_display, DirRef};
use crate::exclude::Exclude;
use crate::links::LinkSet;
use crate::spread::{Handoff, Link, Names, Port, Spread};
use crate::tree::{join, TimeKind};
use crate::visit::{Skipped, Step, Visit, Visitor};
use crate::wire::{Reader, Writer};

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
    /// Worker threads: a fixed number, or `-j auto`'s controller (see
    /// [`crate::adapt`]).
    pub workers: Workers,
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
    /// Which time `Totals::time` keeps (`--time=WORD`).
    pub time: TimeKind,
}

impl ScanOptions {
    /// Whether directories reached through symlinks are set aside and
    /// walked after the rest of their argument (`-L` without `-l`, see
    /// the walker's `Deferred`).
    pub fn defers_symlinked_dirs(&self) -> bool {
        self.follow && !self.count_links
    }
}

impl Default for ScanOptions {
    /// du's defaults: no symlink followed, every level printed, hard links
    /// counted once, [`Workers::auto`], no pinning.
    fn default() -> ScanOptions {
        ScanOptions {
            follow: false,
            follow_args: false,
            one_file_system: false,
            count_links: false,
            max_depth: usize::MAX,
            all: false,
            workers: Workers::auto(),
            exclude: None,
            max_open_dirs: None,
            placements: Vec::new(),
            separate_dirs: false,
            time: TimeKind::default(),
        }
    }
}

/// What the walk did, whatever the visitor made of it.
#[derive(Clone, Default, Debug)]
pub struct ScanOutcome {
    /// Entries that could not be read (each reported to the error sink).
    pub errors: u64,
    /// What each worker did, in worker order (for `--stats`).
    pub workers: Vec<WorkerStats>,
    /// Everything, the path arguments handled by the main thread included.
    pub sum: WorkerStats,
    /// What `-j auto`'s controller did (`None` with a fixed count).
    pub concurrency: Option<History>,
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

/// An open directory and its visitor's state.
struct OpenDir<B: Backend, D> {
    /// Declared first: dropped (closed) before its slot is given back.
    fd: B::Dir,
    path: Arc<PathNode>,
    /// Level of the directory (arguments are 0).
    depth: usize,
    /// What the visitor keeps for it.
    state: D,
    /// The pool slot this descriptor holds; `None` for a directory
    /// private to the worker that opened it (see [`FdPool`]).
    slot: Option<Slot>,
    /// Parts of the listing not visited yet: the listing itself, and each
    /// batch pushed for another worker. The worker that takes it to 0
    /// tells the visitor ([`crate::visit::Visit::done`]).
    parts: AtomicUsize,
}

impl<B: Backend, D> OpenDir<B, D> {
    /// Whether other tasks may hold this directory open.
    fn shareable(&self) -> bool {
        self.slot.is_some()
    }

    fn dir_ref(&self, batch: u32, index: u32) -> DirRef<'_, D> {
        DirRef {
            path: &self.path,
            depth: self.depth,
            state: &self.state,
            batch,
            index,
        }
    }
}

/// How a subdirectory task reaches its parent.
enum Parent<B: Backend, D> {
    /// The parent's fd is still open.
    Open(Arc<OpenDir<B, D>>),
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
struct Deferred<D> {
    /// Path order: see [`PathNode::order_key`].
    key: Vec<u8>,
    parent: Arc<PathNode>,
    name: CString,
    /// The directory the symlink points to.
    meta: Meta,
    /// Symbolic links followed from the argument to that directory.
    hops: u32,
    /// The level of the directory holding the symlink.
    depth: usize,
    /// The visitor's state of the directory holding the symlink.
    state: D,
}

/// The subdirectories a stat batch found: to open together (a backend
/// that batches opens), and tasks to push.
struct Found<B: Backend, D> {
    subdirs: Vec<Subdir<D>>,
    tasks: Vec<Task<B, D>>,
}

/// The name of a subdirectory task (the only kind a stat batch makes).
fn task_name<B: Backend, D>(task: &Task<B, D>) -> &CStr {
    match task {
        Task::Dir { name, .. } => name,
        Task::List(dir) => &dir.path.name,
        Task::Stat { .. } | Task::Far { .. } => c"",
    }
}

/// A subdirectory found by a stat batch, to be opened with its siblings.
struct Subdir<D> {
    name: CString,
    id: (u64, u64),
    hops: u32,
    /// What the visitor keeps for it.
    state: D,
    /// The pool slot its descriptor will hold.
    slot: Slot,
}

/// Names of one directory, NUL-terminated, back to back.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    len: usize,
    /// Its place in the directory's listing (see [`DirRef::batch`]): a
    /// lister numbers its batches [`PIECES`] apart, and the pieces of
    /// [`PIECE`] names a batch may be cut into take the numbers between.
    seq: u32,
    /// The place of its first name in the lister's batch (0 but for a
    /// rest left by a piece).
    first: u32,
}

/// Listing order numbers a batch's pieces may take (see [`Batch::seq`]).
const PIECES: u32 = 256;

/// Under `-j auto`, a stat batch runs in pieces of this many names: a
/// worker the controller parks stops after the piece it runs and leaves
/// the rest to others, so the count in flight follows the permits within
/// a few round trips even where each stat takes milliseconds.
const PIECE: usize = 32;

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

enum Task<B: Backend, D> {
    /// List a directory that is already open (a path argument).
    List(Arc<OpenDir<B, D>>),
    /// Open a subdirectory, then list it.
    Dir {
        parent: Parent<B, D>,
        name: CString,
        id: (u64, u64),
        hops: u32,
        depth: usize,
        state: D,
    },
    /// Stat a batch of a directory's entries.
    Stat {
        dir: Arc<OpenDir<B, D>>,
        batch: Batch,
    },
    /// Stat a batch of a directory another process listed (see
    /// [`crate::spread`]): the directory is opened by its chain first.
    Far {
        path: Arc<PathNode>,
        depth: usize,
        state: D,
        batch: Batch,
    },
}

/// A worker's own tasks. Both kinds are LIFO for their owner (depth
/// first); they differ in what a thief takes:
/// * [`Queue::Oldest`] (crossbeam's deque, lock-free): the oldest task, the
///   shallowest and largest piece of work: few steals, the fastest walk
///   when nothing waits for the order in which directories finish;
/// * [`Queue::Newest`] (a deque behind a mutex, taken once per task): the
///   newest, the next sibling of what the owner just took, for a visitor
///   that prints in path order ([`Visitor::ordered`]): every worker then
///   works near the same point of that order, and what finishes ahead of
///   the output is little.
enum Queue<T> {
    Oldest(Deque<T>),
    Newest(Arc<Mutex<VecDeque<T>>>),
}

/// What thieves hold of a [`Queue`].
enum Thief<T> {
    Oldest(Stealer<T>),
    Newest(Arc<Mutex<VecDeque<T>>>),
}

fn locked<T>(deque: &Mutex<VecDeque<T>>) -> std::sync::MutexGuard<'_, VecDeque<T>> {
    deque.lock().unwrap_or_else(|p| p.into_inner())
}

impl<T> Queue<T> {
    fn new(newest: bool) -> Queue<T> {
        match newest {
            true => Queue::Newest(Arc::default()),
            false => Queue::Oldest(Deque::new_lifo()),
        }
    }

    fn thief(&self) -> Thief<T> {
        match self {
            Queue::Oldest(deque) => Thief::Oldest(deque.stealer()),
            Queue::Newest(deque) => Thief::Newest(deque.clone()),
        }
    }

    fn push(&self, task: T) {
        match self {
            Queue::Oldest(deque) => deque.push(task),
            Queue::Newest(deque) => locked(deque).push_back(task),
        }
    }

    /// The newest task; from a [`Queue::Newest`], the newest `may_take`
    /// accepts.
    fn pop(&self, may_take: impl Fn(&T) -> bool) -> Option<T> {
        match self {
            Queue::Oldest(deque) => deque.pop(),
            Queue::Newest(deque) => take_newest(&mut locked(deque), usize::MAX, may_take),
        }
    }

    fn len(&self) -> usize {
        match self {
            Queue::Oldest(deque) => deque.len(),
            Queue::Newest(deque) => locked(deque).len(),
        }
    }

    /// Take a task from the injector (a batch of them, where the queue can
    /// hold the rest).
    fn take_injected(&self, injector: &Injector<T>) -> Steal<T> {
        match self {
            Queue::Oldest(deque) => injector.steal_batch_and_pop(deque),
            Queue::Newest(_) => injector.steal(),
        }
    }
}

/// The newest task `may_take` accepts (usually the newest of all) among
/// the `look` newest.
fn take_newest<T>(
    deque: &mut VecDeque<T>,
    look: usize,
    may_take: impl Fn(&T) -> bool,
) -> Option<T> {
    let newest = deque.iter().rev().take(look).position(may_take)?;
    deque.remove(deque.len() - 1 - newest)
}

/// How many of another worker's newest tasks a thief looks at when
/// directories are held back: those a worker pushes last are the ones
/// the output waits for; its owner looks at all of them.
const THIEF_LOOKS_AT: usize = 8;

impl<T> Thief<T> {
    /// Take a task; from a [`Queue::Newest`], the newest `may_take`
    /// accepts.
    fn steal(&self, may_take: impl Fn(&T) -> bool) -> Steal<T> {
        match self {
            Thief::Oldest(stealer) => stealer.steal(),
            Thief::Newest(deque) => match take_newest(&mut locked(deque), THIEF_LOOKS_AT, may_take)
            {
                Some(task) => Steal::Success(task),
                None => Steal::Empty,
            },
        }
    }
}

/// State every worker sees.
struct Shared<'s, B: Backend, V: Visitor> {
    backend: &'s B,
    opts: &'s ScanOptions,
    visitor: &'s V,
    errors: &'s dyn ErrorSink,
    injector: Injector<Task<B, Dir<'s, V>>>,
    /// Each worker's deque as thieves see it, set when the worker is
    /// spawned (a pool under `-j auto` grows as the controller asks).
    stealers: Vec<OnceLock<Thief<WalkTask<'s, B, V>>>>,
    /// Workers spawned so far.
    spawned: AtomicUsize,
    pending: AtomicUsize,
    idle: (Mutex<()>, Condvar),
    shutdown: AtomicBool,
    sleep: Sleep,
    /// Workers that may run tasks: workers `0..permits`. One past it
    /// finishes the task it runs, then parks in `gate`, its deque left to
    /// thieves.
    permits: AtomicUsize,
    gate: (Mutex<()>, Condvar),
    /// Requests each worker completed, for the controller.
    meters: Box<[Meter]>,
    /// Workers the controller found slow (their meters say which).
    slow: AtomicUsize,
    /// `-j auto`'s controller, run by the main thread while it waits.
    controller: Option<Mutex<Controller>>,
    /// The test hook's counts and step (see `FDU_TEST_PERMITS` in [`walk`]).
    cycle: Option<(Vec<usize>, AtomicUsize)>,
    started: Instant,
    pool: Arc<FdPool>,
    /// Directories walked, when one can be met twice.
    dirs: LinkSet,
    /// Claim directories in `dirs` (several arguments, or `-L`).
    hash_dirs: bool,
    /// Set symlinked directories aside (`-L` without `-l`): see [`Deferred`].
    defer_links: bool,
    deferred: Mutex<Vec<Deferred<Dir<'s, V>>>>,
    /// `st_dev` of the argument being scanned (`-x`).
    root_dev: AtomicU64,
    follow: Follow,
    /// The other processes this walk is shared with, if any.
    spread: Option<&'s dyn Spread>,
    /// Directories claimed here during the argument being walked, for the
    /// other processes (a shared walk that claims directories).
    fresh: Mutex<Vec<(u64, u64)>>,
}

/// A worker's count of completed requests (stats, opens, listings) and
/// whether it runs a task, on a cache line of its own: the worker stores,
/// the controller reads.
#[derive(Default)]
#[repr(align(128))]
struct Meter {
    done: AtomicU64,
    busy: AtomicBool,
    /// Set by the controller: this worker waits on a slower storage than
    /// the others' (see [`Controller::running`]); thieves look here first.
    slow: AtomicBool,
}

/// A task of a walk with visitor `V`.
type WalkTask<'s, B, V> = Task<B, Dir<'s, V>>;

/// A visitor's per-directory state.
type Dir<'s, V> = <<V as Visitor>::Worker<'s> as Visit>::Dir;

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

impl<'s, B: Backend, V: Visitor> Shared<'s, B, V> {
    fn push(&self, deque: &Queue<Task<B, Dir<'s, V>>>, task: Task<B, Dir<'s, V>>) {
        self.pending.fetch_add(1, Ordering::Relaxed);
        deque.push(task);
        self.sleep.notify_one();
    }

    /// Let workers `0..permits` run tasks, and wake those parked at the
    /// gate to look again.
    fn set_permits(&self, permits: usize) {
        self.permits.store(permits, Ordering::SeqCst);
        let _gate = self.gate.0.lock().unwrap_or_else(|p| p.into_inner());
        self.gate.1.notify_all();
    }

    /// Whether the permits may move during the walk (`-j auto`, or the
    /// test hook).
    fn moving_permits(&self) -> bool {
        self.controller.is_some() || self.cycle.is_some()
    }

    /// Push a task for any worker (from the main thread).
    fn inject(&self, task: Task<B, Dir<'s, V>>) {
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

    /// Wait until no task is pending, calling the visitor's
    /// [`Visitor::idle`] and the controller every few milliseconds
    /// meanwhile; `grow` spawns workers up to the count it is given.
    fn wait_idle(&self, grow: &mut dyn FnMut(usize)) {
        let mut guard = self.idle.0.lock().unwrap_or_else(|p| p.into_inner());
        while self.pending.load(Ordering::Acquire) != 0 {
            drop(guard);
            self.tick(grow);
            guard = self.idle.0.lock().unwrap_or_else(|p| p.into_inner());
            if self.pending.load(Ordering::Acquire) == 0 {
                break;
            }
            guard = self
                .idle
                .1
                .wait_timeout(guard, Duration::from_millis(5))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Wait until the walk of an argument is over in every process it is
    /// shared with: exchange tasks with them every few milliseconds, and
    /// as soon as this process runs out of tasks.
    fn wait_spread(&self, grow: &mut dyn FnMut(usize), spread: &dyn Spread) {
        loop {
            self.tick(grow);
            let over = spread.exchange(&mut Exchange {
                shared: self,
                grow: &mut *grow,
            });
            if over {
                return;
            }
            let guard = self.idle.0.lock().unwrap_or_else(|p| p.into_inner());
            if self.pending.load(Ordering::Acquire) != 0 {
                drop(
                    self.idle
                        .1
                        .wait_timeout(guard, Duration::from_millis(5))
                        .unwrap_or_else(|p| p.into_inner()),
                );
            } else {
                drop(guard);
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }

    /// What the main thread does every few milliseconds while it waits:
    /// the visitor's [`Visitor::idle`], and the controller.
    fn tick(&self, grow: &mut dyn FnMut(usize)) {
        let ordered = self.visitor.ordered();
        self.visitor.idle();
        if self.cycle.is_some() {
            // The test hook's pool: every worker it may let run.
            grow(self.stealers.len());
        }
        if let Some(controller) = &self.controller {
            let spawned = self.spawned.load(Ordering::Acquire);
            let requests = self.meters[..spawned]
                .iter()
                .map(|m| m.done.load(Ordering::Relaxed))
                .sum();
            let idle = self.sleep.sleepers.load(Ordering::Relaxed);
            // Workers past the permits still finishing a task: their
            // requests are the old count's.
            let permits = self.permits.load(Ordering::Relaxed).min(spawned);
            let draining = self.meters[permits..spawned]
                .iter()
                .filter(|m| m.busy.load(Ordering::Relaxed))
                .count();
            let now = self.started.elapsed();
            let mut controller = controller.lock().unwrap_or_else(|p| p.into_inner());
            controller.tick(now, requests, idle, draining, CpuTimes::now);
            // The count, and one more in place of each worker waiting on
            // a slower storage than the others'.
            let Running {
                workers: running,
                looked,
            } = controller.running(
                now,
                self.meters[..spawned].iter().map(|m| {
                    (
                        m.done.load(Ordering::Relaxed),
                        m.busy.load(Ordering::Relaxed),
                    )
                }),
            );
            if looked {
                // Which workers are slow changes only when the controller
                // looks again (every SLOW_SPAN).
                let mut slow = 0;
                for (i, meter) in self.meters[..spawned].iter().enumerate() {
                    let is_slow = controller.is_slow(i);
                    slow += usize::from(is_slow);
                    meter.slow.store(is_slow, Ordering::Relaxed);
                }
                self.slow.store(slow, Ordering::Relaxed);
            }
            drop(controller);
            if running != self.permits.load(Ordering::Relaxed) {
                grow(running);
                self.set_permits(running);
            }
        }
        if ordered {
            // Workers parked while directories were held back (see
            // `Visit::may_start`): one looks again.
            self.sleep.notify_one();
        }
    }

    /// Claim a directory: true the first time it is met. In a shared
    /// walk the claim is kept for the other processes too.
    fn claim_dir(&self, id: (u64, u64)) -> bool {
        let first = self.dirs.claim_dir(id);
        if first && self.spread.is_some() {
            self.fresh
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(id);
        }
        first
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

/// A walk's tasks as a [`Spread`] sees them, from the main thread.
struct Exchange<'e, 's, B: Backend, V: Visitor> {
    shared: &'e Shared<'s, B, V>,
    grow: &'e mut dyn FnMut(usize),
}

impl<'s, B: Backend, V: Visitor> Exchange<'_, 's, B, V> {
    /// A queued task: from the injector, else the oldest of a worker's.
    fn steal(&self) -> Option<WalkTask<'s, B, V>> {
        let shared = self.shared;
        loop {
            let mut retry = false;
            match shared.injector.steal() {
                Steal::Success(task) => return Some(task),
                Steal::Retry => retry = true,
                Steal::Empty => {}
            }
            let spawned = shared.spawned.load(Ordering::Acquire);
            for thief in shared.stealers[..spawned].iter().filter_map(OnceLock::get) {
                match thief.steal(|_| true) {
                    Steal::Success(task) => return Some(task),
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            if !retry {
                return None;
            }
        }
    }
}

/// A directory's chain as links.
fn links(path: &PathNode) -> Vec<Link> {
    path.chain_from_root()
        .into_iter()
        .map(|node| Link {
            name: node.name.as_bytes().to_vec(),
            id: node.id,
            hops: node.hops,
        })
        .collect()
}

/// The chain of `links` as path nodes; `None` for an empty chain or a
/// name with a NUL.
fn chain(links: Vec<Link>) -> Option<Arc<PathNode>> {
    let mut links = links.into_iter();
    let first = links.next()?;
    let mut path = PathNode::root(CString::new(first.name).ok()?, first.id, first.hops);
    for link in links {
        path = PathNode::child(&path, CString::new(link.name).ok()?, link.id, link.hops);
    }
    Some(path)
}

impl<'s, B: Backend, V: Visitor> Port for Exchange<'_, 's, B, V> {
    fn pending(&self) -> usize {
        self.shared.pending.load(Ordering::Acquire)
    }

    fn workers(&self) -> usize {
        self.shared.permits.load(Ordering::Relaxed)
    }

    fn give(&mut self, most: usize) -> Vec<Handoff> {
        let mut out = Vec::new();
        while out.len() < most {
            let Some(task) = self.steal() else {
                break;
            };
            let handoff = match task {
                Task::Dir {
                    parent,
                    name,
                    id,
                    hops,
                    depth,
                    state,
                } => {
                    let parent = match parent {
                        Parent::Open(dir) => dir.path.clone(),
                        Parent::Closed(path) => path,
                    };
                    let mut chain = links(&parent);
                    chain.push(Link {
                        name: name.into_bytes(),
                        id,
                        hops,
                    });
                    Handoff {
                        chain,
                        depth,
                        state: carried::<V>(&state),
                        names: None,
                    }
                }
                Task::Stat { dir, batch } => {
                    dir.parts.fetch_sub(1, Ordering::AcqRel);
                    Handoff {
                        chain: links(&dir.path),
                        depth: dir.depth,
                        state: carried::<V>(&dir.state),
                        names: Some(Names {
                            bytes: batch.bytes,
                            seq: batch.seq,
                            first: batch.first,
                        }),
                    }
                }
                // An argument's listing holds its descriptor; a batch that
                // crossed once stays. Back to the queue, still pending.
                task @ (Task::List(_) | Task::Far { .. }) => {
                    self.shared.injector.push(task);
                    break;
                }
            };
            out.push(handoff);
            self.shared.finish();
        }
        out
    }

    fn take(&mut self, tasks: Vec<Handoff>) -> bool {
        let mut whole = true;
        for h in tasks {
            let mut bytes = Reader::new(&h.state);
            let state = match <V::Worker<'s> as Visit>::land(&mut bytes) {
                Some(state) if bytes.is_empty() => state,
                _ => {
                    whole = false;
                    continue;
                }
            };
            let task = match h.names {
                None => {
                    let mut links = h.chain;
                    let Some(last) = links.pop() else {
                        whole = false;
                        continue;
                    };
                    let (Some(parent), Ok(name)) = (chain(links), CString::new(last.name)) else {
                        whole = false;
                        continue;
                    };
                    Task::Dir {
                        parent: Parent::Closed(parent),
                        name,
                        id: last.id,
                        hops: last.hops,
                        depth: h.depth,
                        state,
                    }
                }
                Some(names) => {
                    let Some(path) = chain(h.chain) else {
                        whole = false;
                        continue;
                    };
                    let len = names.bytes.iter().filter(|&&b| b == 0).count();
                    Task::Far {
                        path,
                        depth: h.depth,
                        state,
                        batch: Batch {
                            bytes: names.bytes,
                            len,
                            seq: names.seq,
                            first: names.first,
                        },
                    }
                }
            };
            self.shared.inject(task);
        }
        let permits = self.shared.permits.load(Ordering::Relaxed);
        (self.grow)(permits);
        whole
    }
}

/// A directory's state as it crosses to another process.
fn carried<'s, V: Visitor>(state: &Dir<'s, V>) -> Vec<u8> {
    let mut out = Writer::new();
    <V::Worker<'s> as Visit>::carry(state, &mut out);
    out.bytes
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
    /// Add `o`'s counts to these.
    pub fn add(&mut self, o: &WorkerStats) {
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
struct Ctx<'w, 's, B: Backend, V: Visitor + 's> {
    shared: &'w Shared<'s, B, V>,
    deque: Queue<Task<B, Dir<'s, V>>>,
    /// This worker's index (0-based; the visitor's is one more).
    index: usize,
    /// Workers to steal from, in order, when pinned: same NUMA node
    /// first. Unpinned workers go round the spawned ones from their own.
    victims: Option<Vec<usize>>,
    visit: V::Worker<'s>,
    stats: WorkerStats,
    /// Requests completed (published to this worker's [`Meter`]).
    done: u64,
    path: Vec<u8>,
}

struct Worker<'w, 's, B: Backend, V: Visitor + 's> {
    /// Made on the first listing: a worker of a large pool may never list.
    lister: Option<B::Lister>,
    ctx: Ctx<'w, 's, B, V>,
}

impl<'s, B: Backend, V: Visitor> Worker<'_, 's, B, V> {
    fn run(mut self) -> (V::Worker<'s>, WorkerStats) {
        let shared = self.ctx.shared;
        let backoff = Backoff::new();
        loop {
            if self.ctx.beyond_permits() {
                // Past the controller's count (see `crate::adapt`): park
                // until it grows again. What our deque holds is left to
                // thieves: one is woken, in case all of them sleep.
                if self.ctx.deque.len() > 0 {
                    shared.sleep.notify_one();
                }
                let mut gate = shared.gate.0.lock().unwrap_or_else(|p| p.into_inner());
                while self.ctx.beyond_permits() && !shared.shutdown.load(Ordering::SeqCst) {
                    gate = shared.gate.1.wait(gate).unwrap_or_else(|p| p.into_inner());
                }
                drop(gate);
                if shared.shutdown.load(Ordering::Acquire) {
                    break;
                }
                backoff.reset();
                continue;
            }
            if let Some(task) = self.ctx.find_task() {
                self.run_task(task);
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
                self.run_task(task);
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
            if self.ctx.beyond_permits() {
                // Woken for a task this worker may no longer take: pass
                // the wake-up on to one that may.
                sleep.notify_one();
            }
            backoff.reset();
        }
        let done = shared.backend.finish_thread();
        self.ctx.stats.add_submitted(done, false);
        (self.ctx.visit, self.ctx.stats)
    }

    /// Run a task, or drop it once the visitor has called the walk off
    /// (its directories are closed as the task goes).
    fn run_task(&mut self, task: Task<B, Dir<'s, V>>) {
        let shared = self.ctx.shared;
        let meter = &shared.meters[self.ctx.index];
        meter.busy.store(true, Ordering::Relaxed);
        if !shared.visitor.cancelled() {
            self.execute(task);
        }
        meter.busy.store(false, Ordering::Relaxed);
        if let Some((list, step)) = &shared.cycle {
            let k = step.fetch_add(1, Ordering::Relaxed) + 1;
            let n = list[k % list.len()].min(shared.spawned.load(Ordering::Acquire));
            shared.set_permits(n.max(1));
        }
        shared.finish();
    }

    fn execute(&mut self, task: Task<B, Dir<'s, V>>) {
        match task {
            Task::List(dir) => self.list(dir),
            Task::Dir {
                parent,
                name,
                id,
                hops,
                depth,
                state,
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
                self.ctx.completed(1);
                let path = PathNode::child(&parent_path, name, id, hops);
                match opened {
                    Ok(fd) => {
                        self.list(Arc::new(OpenDir {
                            fd,
                            path,
                            depth,
                            state,
                            slot,
                            parts: AtomicUsize::new(1),
                        }));
                    }
                    Err(e) => {
                        let path = path.display_owned(None);
                        self.ctx.fail(Some(&state), path, Failed::Read, Some(e));
                        self.ctx.visit.done(&state);
                    }
                }
            }
            Task::Stat { dir, batch } => {
                self.ctx.stat_batch(&dir, &batch);
                self.ctx.part_done(&dir);
            }
            Task::Far {
                path,
                depth,
                state,
                batch,
            } => {
                let shared = self.ctx.shared;
                match shared.reopen(&path, &mut self.ctx.stats) {
                    Ok(fd) => {
                        self.ctx.completed(1);
                        let dir = Arc::new(OpenDir {
                            fd,
                            path,
                            depth,
                            state,
                            slot: None,
                            parts: AtomicUsize::new(1),
                        });
                        self.ctx.stat_batch(&dir, &batch);
                    }
                    Err(e) => {
                        // Listed by another process, gone since: each name
                        // is an entry that could not be read.
                        for name in batch.iter() {
                            let shown = path.display_owned(Some(name.to_bytes()));
                            self.ctx.fail(Some(&state), shown, Failed::Access, Some(e));
                        }
                    }
                }
            }
        }
    }

    fn list(&mut self, dir: Arc<OpenDir<B, Dir<'s, V>>>) {
        let Worker { lister, ctx } = self;
        let lister = lister.get_or_insert_with(|| ctx.shared.backend.lister());
        ctx.stats.dirs += 1;
        let mut batch = Batch::default();
        let listed = ctx.shared.backend.list(&dir.fd, lister, |name| {
            batch.push(name);
            if batch.len >= BATCH {
                // Room for the pieces a stat batch may be cut into.
                let seq = batch.seq.saturating_add(PIECES);
                let full = std::mem::replace(
                    &mut batch,
                    Batch {
                        seq,
                        ..Batch::default()
                    },
                );
                ctx.spill_or_stat(&dir, full);
            }
        });
        ctx.stats.getdents += listed.reads;
        ctx.completed(listed.reads);
        if let Some(e) = listed.error {
            let path = dir.path.display_owned(None);
            ctx.fail(Some(&dir.state), path, Failed::Read, Some(e));
        }
        ctx.stat_batch(&dir, &batch);
        ctx.part_done(&dir);
    }
}

impl<'s, B: Backend, V: Visitor> Ctx<'_, 's, B, V> {
    /// An entry that could not be read: counted, shown to the visitor,
    /// reported to the error sink.
    fn fail(
        &mut self,
        at: Option<&Dir<'s, V>>,
        path: Vec<u8>,
        failed: Failed,
        errno: Option<Errno>,
    ) {
        self.stats.errors += 1;
        let error = ScanError {
            path,
            failed,
            errno,
        };
        self.visit.error(at, &error);
        self.shared.errors.error(&error);
    }

    /// Whether the controller's count leaves this worker out.
    fn beyond_permits(&self) -> bool {
        self.index >= self.shared.permits.load(Ordering::Relaxed)
    }

    /// `n` more requests completed: published for the controller.
    fn completed(&mut self, n: u64) {
        self.done += n;
        self.shared.meters[self.index]
            .done
            .store(self.done, Ordering::Relaxed);
    }

    /// The worker to try `k`-th when stealing (`k` from 0), or `None`
    /// past the last.
    fn victim(&self, k: usize, spawned: usize) -> Option<usize> {
        match &self.victims {
            Some(order) => order.get(k).copied(),
            None => (k + 1 < spawned).then(|| (self.index + 1 + k) % spawned),
        }
    }

    fn find_task(&mut self) -> Option<Task<B, Dir<'s, V>>> {
        let shared = self.shared;
        let visit = &self.visit;
        // A visitor that keeps an order may hold directories back.
        let may_take = |task: &Task<B, Dir<'s, V>>| match task {
            Task::Stat { .. } | Task::Far { .. } => true,
            Task::List(dir) => visit.may_start(&dir.state),
            Task::Dir { state, .. } => visit.may_start(state),
        };
        if let Some(task) = self.deque.pop(may_take) {
            return Some(task);
        }
        loop {
            let mut retry = false;
            match self.deque.take_injected(&shared.injector) {
                Steal::Success(task) => return Some(task),
                Steal::Retry => retry = true,
                Steal::Empty => {}
            }
            let spawned = shared.spawned.load(Ordering::Acquire);
            // The tasks of a worker that waits on a slow storage are the
            // ones whose requests most need others in flight beside its
            // own: they are taken first, then the usual order's.
            let mut slow = (shared.slow.load(Ordering::Relaxed) > 0).then_some(0);
            let mut k = 0;
            loop {
                let victim = match slow {
                    Some(from) => {
                        let next = (from..spawned).find(|&v| {
                            v != self.index && shared.meters[v].slow.load(Ordering::Relaxed)
                        });
                        slow = next.map(|v| v + 1);
                        match next {
                            Some(v) => v,
                            None => continue,
                        }
                    }
                    None => match self.victim(k, spawned) {
                        Some(v) => {
                            k += 1;
                            v
                        }
                        None => break,
                    },
                };
                let Some(thief) = shared.stealers[victim].get() else {
                    continue;
                };
                match thief.steal(may_take) {
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

    /// A part of `dir`'s listing has been visited (see [`OpenDir::parts`]).
    fn part_done(&mut self, dir: &OpenDir<B, Dir<'s, V>>) {
        // A spread walk hands parts of directories to other processes,
        // which are not told when one is done (see `crate::spread`).
        if dir.parts.fetch_sub(1, Ordering::AcqRel) == 1 && self.shared.spread.is_none() {
            self.visit.done(&dir.state);
        }
    }

    fn spill_or_stat(&mut self, dir: &Arc<OpenDir<B, Dir<'s, V>>>, batch: Batch) {
        if dir.shareable() && self.deque.len() < SPILL_BELOW {
            dir.parts.fetch_add(1, Ordering::Relaxed);
            let task = Task::Stat {
                dir: dir.clone(),
                batch,
            };
            self.shared.push(&self.deque, task);
        } else {
            self.stat_batch(dir, &batch);
        }
    }

    /// Stat a batch: at once, or under `-j auto` in pieces of [`PIECE`],
    /// the rest pushed for others when this worker is parked between two.
    fn stat_batch(&mut self, dir: &Arc<OpenDir<B, Dir<'s, V>>>, batch: &Batch) {
        if batch.len <= PIECE || !self.shared.moving_permits() {
            self.stat_piece(dir, batch);
            return;
        }
        let mut names = batch.iter();
        let mut piece = Batch {
            seq: batch.seq,
            first: batch.first,
            ..Batch::default()
        };
        loop {
            piece.bytes.clear();
            piece.len = 0;
            for name in names.by_ref().take(PIECE) {
                piece.push(name);
            }
            if piece.len == 0 {
                return;
            }
            self.stat_piece(dir, &piece);
            piece.first += piece.len as u32;
            if self.beyond_permits() && dir.shareable() {
                let mut rest = Batch {
                    seq: batch.seq,
                    first: piece.first,
                    ..Batch::default()
                };
                for name in names.by_ref() {
                    rest.push(name);
                }
                if rest.len > 0 {
                    dir.parts.fetch_add(1, Ordering::Relaxed);
                    let task = Task::Stat {
                        dir: dir.clone(),
                        batch: rest,
                    };
                    self.shared.push(&self.deque, task);
                }
                return;
            }
        }
    }

    fn stat_piece(&mut self, dir: &Arc<OpenDir<B, Dir<'s, V>>>, batch: &Batch) {
        if batch.len == 0 {
            return;
        }
        // Each piece its own place in the listing order (see `PIECES`).
        let seq = batch
            .seq
            .saturating_add(batch.first / PIECE as u32)
            .min(DirRef::<()>::LATE - 1);
        let shared = self.shared;
        let opts = shared.opts;
        let mut names: Vec<&CStr> = Vec::with_capacity(batch.len);
        // Each name's place in the batch, when some were excluded.
        let mut places: Vec<u32> = Vec::new();
        let mut dir_path_len = None;
        for (place, name) in (batch.first..).zip(batch.iter()) {
            if let Some(exclude) = &opts.exclude {
                let len = *dir_path_len.get_or_insert_with(|| {
                    dir.path.display(None, &mut self.path);
                    self.path.len()
                });
                self.path.truncate(len);
                join(&mut self.path, name.to_bytes());
                if exclude.matches(&self.path) {
                    let at = dir.dir_ref(seq, place);
                    self.visit.skipped(&at, name.to_bytes(), Skipped::Excluded);
                    if places.is_empty() {
                        places.extend(batch.first..batch.first + names.len() as u32);
                    }
                    continue;
                }
                if !places.is_empty() {
                    places.push(place);
                }
            }
            names.push(name);
        }
        self.stats.entries += names.len() as u64;
        self.stats.stat += names.len() as u64;
        // Under -L, symlinks are looked at before they are followed: see
        // `resolve`.
        let follow = Follow::No;
        let mut found = Found {
            subdirs: Vec::new(),
            tasks: Vec::new(),
        };
        let names = &names;
        let submitted = shared
            .backend
            .stat_many(&dir.fd, names, follow, |i, result| {
                self.completed(1);
                if let Some((meta, hops)) = self.resolve(dir, names[i], result) {
                    let place = places.get(i).copied().unwrap_or(batch.first + i as u32);
                    let at = (seq, place);
                    self.entry(dir, at, names[i], &meta, hops, &mut found);
                }
            });
        self.stats.add_submitted(submitted, false);
        self.visit.end_batch();
        // Pushed last name first: this worker pops them in name order.
        found
            .tasks
            .sort_unstable_by(|a, b| task_name(b).cmp(task_name(a)));
        for task in found.tasks {
            shared.push(&self.deque, task);
        }
        if !found.subdirs.is_empty() {
            found.subdirs.sort_unstable_by(|a, b| b.name.cmp(&a.name));
            self.open_subdirs(dir, found.subdirs);
        }
    }

    /// One stat'ed entry: the walker's rules first (`-x`, cycles,
    /// directories met twice), then the visitor's; a subdirectory it
    /// descends into is added to `found`, to be pushed (or opened) with its
    /// siblings once the batch is done. `hops` is the count of symbolic
    /// links followed from the argument to it; `at` its batch and place
    /// there.
    fn entry(
        &mut self,
        dir: &Arc<OpenDir<B, Dir<'s, V>>>,
        at: (u32, u32),
        name: &CStr,
        meta: &Meta,
        hops: u32,
        found: &mut Found<B, Dir<'s, V>>,
    ) {
        let shared = self.shared;
        let opts = shared.opts;
        let bytes = name.to_bytes();
        let depth = dir.depth + 1;
        if opts.one_file_system && meta.dev != shared.root_dev.load(Ordering::Relaxed) {
            let at = dir.dir_ref(at.0, at.1);
            self.visit.skipped(&at, bytes, Skipped::OtherFileSystem);
            return;
        }
        let is_dir = meta.kind == Kind::Dir;
        if is_dir {
            // A directory that is one of its own ancestors (a bind mount of
            // an ancestor, a symlink to one under -L) is skipped and not
            // counted, as du's fts skips it (FTS_DC). Where directories are
            // claimed, the claim catches it.
            // Shared with other processes, an ancestor may have been
            // claimed by another: the chain is checked too.
            if (opts.count_links || !shared.hash_dirs || shared.spread.is_some())
                && dir.path.has_ancestor(meta.id())
            {
                return;
            }
            if !opts.count_links && shared.hash_dirs && !shared.claim_dir(meta.id()) {
                return;
            }
        }
        let step = self.visit.entry(&dir.dir_ref(at.0, at.1), bytes, meta);
        if let (true, Step::Descend(state)) = (is_dir, step) {
            if B::BATCHES_OPENS {
                if let Some(slot) = FdPool::take(&shared.pool) {
                    found.subdirs.push(Subdir {
                        name: name.to_owned(),
                        id: meta.id(),
                        hops,
                        state,
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
                state,
            };
            found.tasks.push(task);
        }
    }

    /// Open the subdirectories of one stat batch together, and push a task
    /// to list each.
    fn open_subdirs(
        &mut self,
        dir: &Arc<OpenDir<B, Dir<'s, V>>>,
        subdirs: Vec<Subdir<Dir<'s, V>>>,
    ) {
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
        self.completed(names.len() as u64);
        self.stats.add_submitted(submitted, true);
        for (sub, result) in subdirs.into_iter().zip(opened) {
            let path = PathNode::child(&dir.path, sub.name, sub.id, sub.hops);
            match result {
                Some(Ok(fd)) => {
                    let task = Task::List(Arc::new(OpenDir {
                        fd,
                        path,
                        depth: dir.depth + 1,
                        state: sub.state,
                        slot: Some(sub.slot),
                        parts: AtomicUsize::new(1),
                    }));
                    shared.push(&self.deque, task);
                }
                Some(Err(e)) => {
                    let path = path.display_owned(None);
                    self.fail(Some(&sub.state), path, Failed::Read, Some(e));
                    self.visit.done(&sub.state);
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
        dir: &OpenDir<B, Dir<'s, V>>,
        name: &CStr,
        first: Result<Meta, Errno>,
    ) -> Option<(Meta, u32)> {
        let shared = self.shared;
        let meta = match first {
            Ok(meta) => meta,
            Err(e) => {
                let path = dir.path.display_owned(Some(name.to_bytes()));
                self.fail(Some(&dir.state), path, Failed::Access, Some(e));
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
                    depth: dir.depth,
                    state: dir.state.clone(),
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
                let path = dir.path.display_owned(Some(name.to_bytes()));
                // du's wording for a dangling symlink under -L: no reason.
                let errno = (e != Errno::NOENT).then_some(e);
                self.fail(Some(&dir.state), path, Failed::Access, errno);
                None
            }
        }
    }
}

/// Walk the symlinked directories set aside while walking an argument, in
/// rounds, each in path order (see [`Deferred`]).
fn walk_deferred<'s, B: Backend, V: Visitor>(
    shared: &Shared<'s, B, V>,
    main: &mut V::Worker<'s>,
    grow: &mut dyn FnMut(usize),
) {
    loop {
        let mut round =
            std::mem::take(&mut *shared.deferred.lock().unwrap_or_else(|p| p.into_inner()));
        if round.is_empty() {
            return;
        }
        round.sort_by(|a, b| a.key.cmp(&b.key));
        for d in round {
            if !shared.dirs.claim_dir(d.meta.id()) {
                continue;
            }
            let holder = DirRef {
                path: &d.parent,
                depth: d.depth,
                state: &d.state,
                batch: DirRef::<()>::LATE,
                index: 0,
            };
            let step = main.entry(&holder, d.name.to_bytes(), &d.meta);
            main.end_batch();
            let Step::Descend(state) = step else {
                continue;
            };
            shared.inject(Task::Dir {
                parent: Parent::Closed(d.parent),
                name: d.name,
                id: d.meta.id(),
                hops: d.hops,
                depth: d.depth + 1,
                state,
            });
            shared.wait_idle(grow);
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

/// The path arguments, each stat'ed (following symlinks as `-H`/`-L`
/// ask), in order: what a visitor may look at before the walk
/// (`crate::count` does, to know how much to track).
pub struct Args {
    /// Each argument and its stat.
    pub args: Vec<(Vec<u8>, Result<Meta, Errno>)>,
}

impl Args {
    /// Stat `paths` on `backend` as `opts` ask.
    pub fn stat<B: Backend>(backend: &B, opts: &ScanOptions, paths: &[Vec<u8>]) -> Args {
        let follow = if opts.follow || opts.follow_args {
            Follow::Yes
        } else {
            Follow::No
        };
        Args {
            args: paths
                .iter()
                .map(|p| (p.clone(), backend.stat_path(os_path(p), follow)))
                .collect(),
        }
    }
}

/// Walk `args` (in order, as du does) with `visitor`, reporting what could
/// not be read to `errors`. Returns every worker's visitor (index 0 the
/// main thread's, then the workers' in order) and what the walk did.
pub fn walk<'s, B: Backend, V: Visitor>(
    backend: &'s B,
    opts: &'s ScanOptions,
    args: &Args,
    visitor: &'s V,
    errors: &'s dyn ErrorSink,
) -> (Vec<V::Worker<'s>>, ScanOutcome) {
    walk_shared(backend, opts, args, visitor, errors, None)
}

/// [`walk`], shared with other processes through `spread` (see
/// [`crate::spread`]): every process calls it with the same arguments;
/// the leader starts each argument's walk and reports the arguments that
/// cannot be read, and every process walks what it is given. Not for
/// `-L` (symlinked directories are set aside per process) nor for a
/// visitor that needs [`Visit::done`].
pub fn walk_shared<'s, B: Backend, V: Visitor>(
    backend: &'s B,
    opts: &'s ScanOptions,
    args: &Args,
    visitor: &'s V,
    errors: &'s dyn ErrorSink,
    spread: Option<&'s dyn Spread>,
) -> (Vec<V::Worker<'s>>, ScanOutcome) {
    let fd_limit = fdu_platform::limits::current_nofile();
    let budget = FdBudget::plan(
        fd_limit,
        // Descriptors taken now (stdio, inherited ones, a ring): what the
        // limit leaves free is counted, else stdio is assumed.
        fdu_platform::limits::free_fds()
            .map_or(3, |free| fd_limit.saturating_sub(free))
            .try_into()
            .unwrap_or(usize::MAX),
        opts.workers.most(),
        backend.fds_per_thread(),
    );
    // A test hook: FDU_TEST_PERMITS="1,4,2,8" moves the permits through
    // these counts, one step after every task, instead of the controller
    // (the pool grows to the largest at the main thread's first wake-up),
    // so that the tests see workers parked and woken all along a walk.
    let cycle: Option<Vec<usize>> = std::env::var("FDU_TEST_PERMITS").ok().and_then(|v| {
        v.split(',')
            .map(|n| n.trim().parse::<usize>().ok().filter(|&n| n > 0))
            .collect::<Option<Vec<usize>>>()
            .filter(|list| !list.is_empty())
    });
    let workers = match &cycle {
        Some(list) => Workers::Auto {
            start: list[0],
            min: 1,
            max: list.iter().copied().max().unwrap_or(1),
        },
        None => opts.workers,
    }
    .capped(budget.threads);
    let most = workers.most();
    let max_open = opts
        .max_open_dirs
        .map_or(budget.pool, |n| n.min(budget.pool));
    let follow = if opts.follow { Follow::Yes } else { Follow::No };
    let arg_follow = if opts.follow || opts.follow_args {
        Follow::Yes
    } else {
        Follow::No
    };
    let several = args.args.len() > 1;
    // The leader counts the arguments as entries (every process stat'ed
    // them).
    let leads = spread.map_or(true, |sp| sp.leads());
    let mut main_stats = WorkerStats {
        stat: args.args.len() as u64,
        entries: if leads { args.args.len() as u64 } else { 0 },
        ..WorkerStats::default()
    };

    let newest = visitor.ordered();
    let shared = Shared {
        backend,
        opts,
        visitor,
        errors,
        injector: Injector::new(),
        stealers: (0..most).map(|_| OnceLock::new()).collect(),
        spawned: AtomicUsize::new(0),
        pending: AtomicUsize::new(0),
        idle: (Mutex::new(()), Condvar::new()),
        shutdown: AtomicBool::new(false),
        sleep: Sleep::default(),
        permits: AtomicUsize::new(workers.start()),
        gate: (Mutex::new(()), Condvar::new()),
        meters: (0..most).map(|_| Meter::default()).collect(),
        slow: AtomicUsize::new(0),
        controller: (workers.adaptive() && cycle.is_none())
            .then(|| Mutex::new(Controller::new(workers))),
        cycle: cycle.map(|list| (list, AtomicUsize::new(0))),
        started: Instant::now(),
        pool: Arc::new(FdPool {
            used: AtomicUsize::new(0),
            max: max_open,
        }),
        dirs: LinkSet::new(workers.start()),
        hash_dirs: several || opts.follow,
        defer_links: opts.defers_symlinked_dirs(),
        deferred: Mutex::new(Vec::new()),
        root_dev: AtomicU64::new(0),
        follow,
        spread,
        fresh: Mutex::new(Vec::new()),
    };

    if shared.hash_dirs && !opts.count_links {
        for &id in visitor.walked_before() {
            shared.dirs.claim_dir(id);
        }
    }

    let mut outcome = ScanOutcome::default();
    let visits = std::thread::scope(|scope| {
        let shared = &shared;
        let spawn = |i: usize| {
            let deque = Queue::new(newest);
            // Published before the count that lets thieves look at it.
            let _ = shared.stealers[i].set(deque.thief());
            shared.spawned.store(i + 1, Ordering::Release);
            let victims = (opts.placements.len() >= most)
                .then(|| pin::steal_order(&opts.placements[..most], i));
            scope.spawn(move || {
                // Pin first: the visitor's tables and the backend's
                // ring are all first touched below, on the worker's
                // node.
                if let Some(place) = opts.placements.get(i) {
                    // Best effort: an affinity the kernel refuses (a CPU
                    // gone offline since) leaves the worker unpinned.
                    let _ = pin::pin_current_thread(&place.cpus);
                }
                let worker = Worker {
                    lister: None,
                    ctx: Ctx {
                        shared,
                        deque,
                        index: i,
                        victims,
                        visit: shared.visitor.worker(i + 1),
                        stats: WorkerStats::default(),
                        done: 0,
                        path: Vec::new(),
                    },
                };
                worker.run()
            })
        };
        let mut handles = Vec::new();
        // Workers are spawned as they are first let to run.
        let mut grow = |n: usize| {
            while handles.len() < n.min(most) {
                handles.push(spawn(handles.len()));
            }
        };
        grow(workers.start());

        let mut main = visitor.worker(0);
        let fail = |main: &mut V::Worker<'s>,
                    stats: &mut WorkerStats,
                    at: Option<&Dir<'s, V>>,
                    error: ScanError| {
            stats.errors += 1;
            main.error(at, &error);
            errors.error(&error);
        };
        for (index, (arg, meta)) in args.args.iter().enumerate() {
            if let Ok(meta) = meta {
                shared.root_dev.store(meta.dev, Ordering::Relaxed);
            }
            // Whether the argument's listing was pushed.
            let walked = 'arg: {
                if !leads {
                    break 'arg false;
                }
                if arg.is_empty() {
                    let error = ScanError {
                        path: Vec::new(),
                        failed: Failed::EmptyName,
                        errno: None,
                    };
                    fail(&mut main, &mut main_stats, None, error);
                    break 'arg false;
                }
                let display = root_display(arg);
                if opts.exclude.as_ref().is_some_and(|ex| ex.matches(&display)) {
                    break 'arg false;
                }
                let meta = match meta {
                    Ok(meta) => meta,
                    Err(e) => {
                        let dangling = *e == Errno::NOENT
                            && arg_follow == Follow::Yes
                            && backend
                                .stat_path(os_path(arg), Follow::No)
                                .is_ok_and(|m| m.kind == Kind::Symlink);
                        let error = ScanError {
                            path: arg.clone(),
                            failed: Failed::Access,
                            errno: (!dangling).then_some(*e),
                        };
                        fail(&mut main, &mut main_stats, None, error);
                        break 'arg false;
                    }
                };
                let is_dir = meta.kind == Kind::Dir;
                if !opts.count_links && is_dir && shared.hash_dirs && !shared.claim_dir(meta.id()) {
                    break 'arg false;
                }
                let step = main.root(index, &display, meta);
                main.end_batch();
                let Step::Descend(state) = step else {
                    break 'arg false;
                };
                if !is_dir {
                    break 'arg false;
                }
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
                            state,
                            slot,
                            parts: AtomicUsize::new(1),
                        });
                        shared.inject(Task::List(dir));
                        true
                    }
                    Err(e) => {
                        let error = ScanError {
                            path: display,
                            failed: Failed::Read,
                            errno: Some(e),
                        };
                        fail(&mut main, &mut main_stats, Some(&state), error);
                        main.done(&state);
                        false
                    }
                }
            };
            match spread {
                // Every process waits for every argument, walked or not,
                // then learns what the others claimed in it.
                Some(spread) => {
                    shared.wait_spread(&mut grow, spread);
                    if shared.hash_dirs && !opts.count_links {
                        let mine = std::mem::take(
                            &mut *shared.fresh.lock().unwrap_or_else(|p| p.into_inner()),
                        );
                        for id in spread.share_claims(mine) {
                            shared.dirs.claim_dir(id);
                        }
                    }
                }
                None if walked => {
                    shared.wait_idle(&mut grow);
                    walk_deferred(shared, &mut main, &mut grow);
                }
                None => {}
            }
            if visitor.cancelled() {
                break;
            }
        }
        shared.shutdown.store(true, Ordering::SeqCst);
        shared.sleep.notify_all();
        {
            let _gate = shared.gate.0.lock().unwrap_or_else(|p| p.into_inner());
            shared.gate.1.notify_all();
        }
        let mut visits = vec![main];
        for handle in handles {
            let (visit, stats) = handle.join().expect("a worker panicked");
            outcome.workers.push(stats);
            visits.push(visit);
        }
        visits
    });
    outcome.sum = main_stats;
    outcome.concurrency = shared.controller.map(|c| {
        c.into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .history()
            .clone()
    });
    for w in &outcome.workers {
        outcome.sum.add(w);
    }
    outcome.errors = outcome.sum.errors;
    (visits, outcome)
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
