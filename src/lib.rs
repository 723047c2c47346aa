//! fdu: a parallel, du-compatible disk usage scanner.
//!
//! Module map:
//!
//! | module | owns |
//! |---|---|
//! | [`cli`] | du's command line, option interplay, printing |
//! | [`config`] | a resolved invocation, as the scan and the outputs take it |
//! | [`checkpoint`] | `--checkpoint`/`--resume`: a streamed scan's frontier kept on disk, read back |
//! | [`scan`] | the front door: a scan's paths and options, the backend chosen and built in one place, the report |
//! | [`walk`] | the parallel walker: work-stealing deques, batches, termination, fd budget |
//! | [`dirs`] | a directory's chain of names up to its argument, and what a visitor is shown of it |
//! | [`visit`] | what the walker tells a visitor: the per-worker visitor traits |
//! | [`count`] | du's counting rules, as a visitor: folding, retained nodes, hard links |
//! | [`tree`] | the owned result tree: names, totals, hard-link charging, output order |
//! | [`ids`] | maps keyed by `(dev, ino)` and node ids |
//! | [`links`] | the sharded `(dev, ino)` set |
//! | [`units`] | block sizes and du's rounding, du's number parsing |
//! | [`timefmt`] | `--time` stamps in the local time zone, `--time-style` formats |
//! | [`exclude`] | `--exclude` matching as du does it |
//! | [`import`] | `-f`: a report from an export, counted by du's rules |
//! | [`compare`] | `--compare`: two sides loaded at once, the merge of their trees, the changes as a value |
//! | [`diag`] | one-line diagnostics and exit statuses |
//! | [`output`] | the outputs (du's lines, `--top`, `--format json`/`prometheus`, the `-o` export, `--stats`, `--compare`'s changes, progress on stderr while a scan runs), standard output and its write-error policy |
//! | [`dups`] | `--dups`: duplicate files, found by size, then BLAKE3 |
//! | [`export`] | ncdu's JSON export format: its entries, and a streaming reader |
//! | [`files0`] | `--files0-from`: path operands read from a file, as du reads them |
//! | [`adapt`] | `-j auto`: the worker count fitted to the storage while the scan runs |
//! | [`stream`] | du's lines streamed in du's order as the walk goes |
//! | [`spread`] | the walker's seam for a walk shared between processes |
//! | [`wire`] | the byte encoding processes of a shared scan exchange |
//! | `ranks` | `--mpi`: one scan over the ranks of an MPI job (feature `mpi`) |
//!
//! Every syscall is made by a backend of the `fdu-platform` crate; this
//! crate has no `unsafe`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod adapt;
pub mod checkpoint;
pub mod cli;
pub mod compare;
pub mod config;
pub mod count;
pub mod diag;
pub mod dirs;
pub mod dups;
pub mod exclude;
pub mod export;
pub mod files0;
pub mod ids;
pub mod import;
pub mod links;
pub mod output;
#[cfg(feature = "mpi")]
pub mod ranks;
pub mod scan;
pub mod spread;
pub mod stream;
pub mod timefmt;
pub mod tree;
pub mod units;
pub mod visit;
pub mod walk;
pub mod wire;
