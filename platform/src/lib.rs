//! Every syscall fdu makes, behind one seam.
//!
//! The scanner in the `fdu` crate is generic over [`Backend`]: a small set of
//! directory operations that mirror the syscalls a size scan needs (open a
//! directory relative to its parent, list it, stat one entry relative to it).
//! Each backend implements them its own way:
//!
//! | backend | module | how |
//! |---|---|---|
//! | `linux` | [`linux`] | `openat`/`getdents64`/`statx` relative to directory fds (rustix) |
//! | `std` | [`stdfs`] | `std::fs` on full paths; the portable fallback and the test oracle |
//!
//! The backend is picked in one place, [`BackendChoice::resolve`]. All `unsafe`
//! code of the project lives in this crate (there is none yet: rustix wraps
//! the raw syscalls).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod backend;
mod errno;
pub mod limits;
#[cfg(target_os = "linux")]
pub mod linux;
mod meta;
pub mod stdfs;

pub use backend::{Backend, BackendChoice, BackendKind, Follow, Listing};
pub use errno::Errno;
pub use meta::{Kind, Meta};
