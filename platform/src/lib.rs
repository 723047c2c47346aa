//! Every syscall fdu makes, behind one seam.
//!
//! The scanner in the `fdu` crate is generic over [`Backend`]: a small set of
//! directory operations that mirror the syscalls a size scan needs (open a
//! directory relative to its parent, list it, stat one entry relative to it).
//! Each backend implements them its own way:
//!
//! | backend | module | how |
//! |---|---|---|
//! | `linux` | [`linux`] | `openat`/`getdents64`/`fstatat` relative to directory fds (rustix) |
//! | `uring` | [`uring`] | `getdents64` as a syscall; `statx`, `openat` and `close` batched through one io_uring per worker |
//! | `std` | [`stdfs`] | `std::fs` on full paths; the portable fallback and the test oracle |
//!
//! The backend is picked in one place, [`BackendChoice::resolve`].
//!
//! `fdu --dups` reads file contents through [`content`], which maps long
//! ranges with [`mapped`]'s SIGBUS-guarded windows.
//!
//! All `unsafe` code of the project lives in this crate, only in the modules
//! that say `#![allow(unsafe_code)]` ([`mapped`], [`uring`], [`localtime`] and
//! [`stdio`]) and in [`limits::cap_malloc_arenas`] (one `mallopt` call); the rest of the
//! crate denies it, and rustix wraps the other raw syscalls. Every block
//! carries a `// SAFETY:` comment.
#![deny(missing_docs)]
#![deny(unsafe_code)]

mod backend;
pub mod content;
pub mod cpu;
mod errno;
pub mod hops;
pub mod limits;
#[cfg(target_os = "linux")]
pub mod linux;
#[cfg(unix)]
pub mod localtime;
#[cfg(unix)]
pub mod mapped;
mod meta;
pub mod pin;
pub mod stdfs;
pub mod stdio;
#[cfg(target_os = "linux")]
pub mod uring;

pub use backend::{Backend, BackendChoice, BackendKind, Follow, Listing, Submitted};
pub use errno::Errno;
pub use meta::{Kind, Meta};
