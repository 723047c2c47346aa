//! A walk shared with other processes: the seam between the walker
//! (`crate::walk`) and a distributed scan (`crate::ranks`).
//!
//! Every process runs the threaded walker over the same path arguments,
//! one after another. One process, the *leader*, starts each argument's
//! walk; the others start idle. While an argument is walked, the main
//! thread of every process calls [`Spread::exchange`] every few
//! milliseconds with a [`Port`] into its own walk: there a process gives
//! queued tasks to others ([`Port::give`]) and walks what others gave it
//! ([`Port::take`]). A task crosses as a [`Handoff`]: the directory's
//! chain of names from its argument (every process can open it from
//! there), its level, the visitor's state for it (as bytes: see
//! [`crate::visit::Visit::carry`]), and, for part of a huge directory,
//! the names to stat in it. The walk of an argument ends when
//! `exchange` says it is over everywhere.

/// One directory of a chain: its name (for the first, the path argument as
/// given), its identity and the symlinks followed to reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The component name; for the first link, the argument.
    pub name: Vec<u8>,
    /// `(st_dev, st_ino)`.
    pub id: (u64, u64),
    /// Symbolic links followed from the argument to it.
    pub hops: u32,
}

/// Names of a directory to stat, NUL-terminated, back to back, and their
/// place in its listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Names {
    /// The names, each followed by a NUL.
    pub bytes: Vec<u8>,
    /// The listing order number of the batch (see `crate::dirs::DirRef`).
    pub seq: u32,
    /// The place of the first name in its lister's batch.
    pub first: u32,
}

/// A task handed from one process to another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handoff {
    /// The directory, from its argument down.
    pub chain: Vec<Link>,
    /// Its level (arguments are 0).
    pub depth: usize,
    /// The visitor's state for it, as [`crate::visit::Visit::carry`]
    /// wrote it.
    pub state: Vec<u8>,
    /// `None`: open the directory and walk it. `Some`: stat these names of
    /// it (a batch of a directory listed elsewhere).
    pub names: Option<Names>,
}

/// A process's own walk, as [`Spread::exchange`] sees it.
pub trait Port {
    /// Tasks this process has pending (queued or running).
    fn pending(&self) -> usize;
    /// Workers that may run tasks now: with fewer tasks pending than
    /// this, some of them wait.
    fn workers(&self) -> usize;
    /// Take up to `most` queued tasks out of this walk, for another
    /// process (the shallowest first: the largest pieces of work).
    fn give(&mut self, most: usize) -> Vec<Handoff>;
    /// Walk tasks another process gave. False if some could not be
    /// taken (a state the visitor cannot read, an empty chain, a name
    /// with a NUL): those are dropped, and the walk is incomplete.
    fn take(&mut self, tasks: Vec<Handoff>) -> bool;
}

/// What shares a walk with other processes.
pub trait Spread: Sync {
    /// Whether this process starts the walk of each argument (exactly one
    /// does: it also reports the arguments that cannot be read).
    fn leads(&self) -> bool;

    /// Called on the main thread every few milliseconds while an argument
    /// is walked, and once more whenever this process runs out of tasks:
    /// give, take, and tell whether the walk of the argument is over in
    /// every process (no task anywhere, none in flight). Every process
    /// makes the same number of calls per argument.
    fn exchange(&self, port: &mut dyn Port) -> bool;

    /// After an argument, where directories are claimed (several
    /// arguments): this process's new claims in; every process's out, so
    /// that a directory walked under one argument is skipped under the
    /// next everywhere. Every process calls it once per argument. A
    /// directory claimed by two processes in one argument (met twice, as
    /// through a bind mount) was walked twice: the spread must end the
    /// job rather than return.
    fn share_claims(&self, mine: Vec<(u64, u64)>) -> Vec<(u64, u64)>;

    /// Before the walk, once: whether this process's backend started
    /// (`here`); true only if every process's did, so that a process that
    /// cannot walk never leaves the others waiting for it.
    fn started(&self, here: bool) -> bool;
}
