//! What the walker tells the code that counts: the visitor traits.
//!
//! The walker ([`crate::walk`]) owns the mechanics: listing, batching,
//! stat'ing, following symlinks, staying on one file system, skipping
//! excluded names, cycles and directories met twice, the descriptor budget.
//! What is made of each entry is a [`Visitor`]'s: du's counting
//! (`crate::count`) is one, `--dups`'s candidate collector another. The
//! walker is generic over the visitor, as over the backend, so the calls
//! on the hot path are inlined.
//!
//! A [`Visitor`] is shared by every worker; [`Visitor::worker`] makes the
//! per-worker part ([`Visit`]), which needs no lock. Index 0 is the main
//! thread (it handles the path arguments), 1..=N the workers. When the
//! walk is over, the walker hands every [`Visit`] back, in index order.
use fdu_platform::Meta;

use crate::diag::ScanError;
use crate::dirs::DirRef;
use crate::wire::{Reader, Writer};

/// What a scan's visitor does with the path arguments and every entry.
pub trait Visitor: Sync {
    /// The per-worker part.
    type Worker<'v>: Visit
    where
        Self: 'v;

    /// What the visitor makes of a walk.
    type Output;

    /// The per-worker part for worker `index` (0: the main thread), made
    /// on that worker's thread (after it is pinned).
    fn worker(&self, index: usize) -> Self::Worker<'_>;

    /// Put together what the workers found (`workers` in index order, as
    /// the walk hands them back).
    fn finish(&self, workers: Vec<Self::Worker<'_>>) -> Self::Output;

    /// Whether directories should be finished close to path order (a
    /// visitor that prints in that order, and holds what finishes ahead
    /// of it): the walker then has thieves take a worker's newest task
    /// instead of its oldest (see `crate::walk`), which costs a lock per
    /// task. Asked once per walk.
    fn ordered(&self) -> bool {
        false
    }

    /// Whether the walk should stop: once true, the walker drops the tasks
    /// it has (closing their directories) and walks no further argument.
    /// Asked once per task, never per entry.
    fn cancelled(&self) -> bool {
        false
    }

    /// Called on the main thread every few milliseconds while it waits
    /// for the walk of an argument: a place for what must not wait for
    /// the next directory to finish (flushing streamed output).
    fn idle(&self) {}

    /// Directories an earlier run of the same scan walked and counted (a
    /// resumed scan, see `crate::checkpoint`): where the walker claims each
    /// directory so that one met twice is walked once (several arguments),
    /// these count as claimed already. Asked once per walk.
    fn walked_before(&self) -> &[(u64, u64)] {
        &[]
    }
}

/// What to do with an entry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Step<D> {
    /// Walk this directory; its entries will be visited with `D`.
    Descend(D),
    /// Do not walk it (for a non-directory, the only answer that matters).
    Skip,
}

/// Why the walker left an entry out.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Skipped {
    /// Its path matched an `--exclude` pattern (it was not stat'ed).
    Excluded,
    /// It is on another file system than its argument (`-x`).
    OtherFileSystem,
}

/// One worker's visitor.
pub trait Visit: Send {
    /// What the visitor keeps for a directory being walked: handed back
    /// with each of its entries (du's count: the node they are charged to).
    type Dir: Clone + Send + Sync;

    /// A path argument that could be stat'ed: the `arg`th (from 0, in the
    /// order given), `display` its path as du prints it. For a directory,
    /// `Step::Descend` walks it.
    fn root(&mut self, arg: usize, display: &[u8], meta: &Meta) -> Step<Self::Dir>;

    /// Whether the walk of a directory with this state may start now (a
    /// visitor that keeps an order, [`Visitor::ordered`], holds back what
    /// would finish too far ahead of it). A directory held back stays
    /// queued; batches of a directory already open always run. The visitor
    /// must let some queued directory start whenever any is pending, or the
    /// walk stalls (the main thread wakes a parked worker every few
    /// milliseconds to look again). Asked only with `ordered`.
    fn may_start(&self, dir: &Self::Dir) -> bool {
        let _ = dir;
        true
    }

    /// An entry of the directory `dir` (whose state is `dir.state()`): stat'ed
    /// (followed under `-L`), on the argument's file system under `-x`, not
    /// excluded, not a cycle, not a directory already walked. For a
    /// directory, `Step::Descend` walks it.
    fn entry(&mut self, dir: &DirRef<'_, Self::Dir>, name: &[u8], meta: &Meta) -> Step<Self::Dir>;

    /// An entry of `dir` the walker leaves out: not counted, not walked.
    fn skipped(&mut self, dir: &DirRef<'_, Self::Dir>, name: &[u8], why: Skipped) {
        let _ = (dir, name, why);
    }

    /// The end of a batch of entries of one directory (up to
    /// [`crate::walk::BATCH`] of them): a place to flush what was summed
    /// across the batch.
    fn end_batch(&mut self) {}

    /// An entry that could not be read, and where: the state of the
    /// directory it is in, or of the directory itself when it could not
    /// be opened or listed (`None` for a path argument). The walker has
    /// counted it, and reports it to the scan's error sink.
    fn error(&mut self, dir: Option<&Self::Dir>, error: &ScanError) {
        let _ = (dir, error);
    }

    /// Every entry of a directory this visitor descended into has been
    /// visited (and every error in it reported), or the directory could
    /// not be opened: called once per [`Step::Descend`], by whichever
    /// worker finished last, unless the walk was cancelled. Entries of
    /// its subdirectories may still be coming.
    fn done(&mut self, dir: &Self::Dir) {
        let _ = dir;
    }

    /// A directory's state as it crosses to another process of a shared
    /// walk ([`crate::spread`]), read back there by [`Visit::land`]. The
    /// state must mean the same in every process (a node numbered for
    /// the whole job, not a pointer). A visitor whose walks are never
    /// shared keeps the defaults: nothing is written, nothing lands, and
    /// a task handed to it is refused.
    fn carry(dir: &Self::Dir, out: &mut Writer) {
        let _ = (dir, out);
    }

    /// The state [`Visit::carry`] wrote; `None` for bytes that are not one.
    fn land(bytes: &mut Reader<'_>) -> Option<Self::Dir> {
        let _ = bytes;
        None
    }
}
