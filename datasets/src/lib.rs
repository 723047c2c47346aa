//! Deterministic benchmark trees for `fdu`.
//!
//! A tree is fully decided by `(shape, entries, seed)`: [`Plan::new`] lays
//! out every directory and entry in memory with a seeded PRNG, [`create()`]
//! makes it on disk (in parallel, all calls relative to directory fds), and
//! [`Manifest`] counts what it holds, for `DIR.manifest.json` beside the tree.
//!
//! Shapes: `mixed` (source-tree-like, the main benchmark), `wide` (three
//! huge directories), `deep` (a chain far beyond PATH_MAX), `dups` (duplicate
//! groups and the traps around them, for duplicate finders).

#![deny(missing_docs)]

pub mod create;
pub mod manifest;
pub mod plan;
pub mod rng;

pub use create::{create, Timings};
pub use manifest::Manifest;
pub use plan::{data_byte, Kind, LinkClass, Plan, Shape};

/// Where the manifest of the tree at `dir` goes: `DIR.manifest.json`.
pub fn manifest_path(dir: &std::path::Path) -> std::path::PathBuf {
    let mut s = dir.as_os_str().to_owned();
    s.push(".manifest.json");
    s.into()
}
