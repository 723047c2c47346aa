//! ncdu's JSON export format (`ncdu -o FILE`, also written by `gdu -o`),
//! as fdu reads it: the entries, and a streaming reader ([`read`]).
//!
//! The format is specified at <https://dev.yorhel.nl/ncdu/jsonfmt>; what
//! follows is that document checked against what ncdu 1.18 and gdu 5.22
//! really write (exports of trees with every kind of entry, hard links,
//! names that are not UTF-8, unreadable and excluded directories), and
//! what fdu does where the two differ.
//!
//! # Layout
//!
//! ```text
//! [1, 2, {"progname":"ncdu","progver":"1.18","timestamp":1700000000},
//! [{"name":"/abs/root","asize":4096,"dsize":4096,"dev":65024},
//! {"name":"file","asize":5,"dsize":4096},
//! [{"name":"sub","asize":4096,"dsize":4096},
//! {"name":"link","asize":5,"dsize":4096,"ino":131,"hlnkc":true,"nlink":2}],
//! [{"name":"empty","asize":4096,"dsize":4096}]]]
//! ```
//!
//! One JSON array: the major version (`1`; any other is refused), the
//! minor version (`0` for ncdu 1.9 to 1.12, `1` from 1.13 with the
//! extended fields, `2` from 1.16 with `nlink`; the format allows later
//! ones, and fdu reads them, skipping what it does not know), a metadata
//! object (ncdu ignores it; fdu keeps `progname`, `progver` and `timestamp`
//! in a [`Header`] when they have the expected types and ignores the rest),
//! and the root directory. Both versions must be integers in `0..=10000`.
//!
//! A directory is an array whose first element is its own info object
//! and whose other elements are its items: an object for anything that is
//! not a directory, a nested array for a directory. The root must be a
//! directory; its `name` is the path that was scanned (ncdu and gdu write
//! it absolute), every other name is one path component. Nothing may
//! follow the top-level array but whitespace.
//!
//! # Info fields
//!
//! | key | type | absent means | ncdu 1.18 writes it | gdu 5.22 writes it |
//! |---|---|---|---|---|
//! | `name` | string, required | (an error) | always | always |
//! | `asize` | u64, apparent size | 0 | when not 0 | when not 0, never for directories |
//! | `dsize` | u64, `st_blocks * 512` | 0 | when not 0 | when not 0, never for directories |
//! | `dev` | u64 | the parent's (0 for the root) | when it differs from the parent's | not seen |
//! | `ino` | u64 | unknown | with `hlnkc` | with `hlnkc` |
//! | `hlnkc` | bool | false | on every entry with `st_nlink > 1` (not directories) | on the second and later links it met only |
//! | `nlink` | u32 (minor 2) | unknown | with `hlnkc` | not seen |
//! | `read_error` | bool | false | when a directory could not be read | not seen (not for an unreadable directory) |
//! | `excluded` | string | not excluded | `"pattern"`, `"othfs"`, `"kernfs"`, `"frmlnk"` | not seen (what it ignores is left out) |
//! | `notreg` | bool | false | for anything but a directory or regular file | for symlinks, not for fifos |
//! | `uid`, `gid` | u32 (minor 1, `-e`) | unknown | with `-e` | not seen |
//! | `mode` | `st_mode` (minor 1, `-e`) | unknown | with `-e` | not seen |
//! | `mtime` | i64 seconds (minor 1, `-e`) | unknown | with `-e` | always |
//!
//! Keys fdu does not know are skipped, whatever their value, as the format
//! asks. A known key given twice is an error, and so is a value of the
//! wrong type: a fraction, an exponent or a sign where an unsigned integer
//! is due, or a number that does not fit.
//!
//! Quirks of real files that the reader accepts on purpose:
//!
//! - ncdu 1.18 writes `"excluded":"othfs"` for another file system (the
//!   document, ncdu's own importer and ncdu 2 say `"otherfs"`): both are
//!   [`Excluded::OtherFs`]. A value no writer is known to use is
//!   [`Excluded::Other`] (ncdu reads it as `"pattern"`); `true` and
//!   `false`, which third-party writers use, are `"pattern"` and absent.
//! - ncdu 1.x writes the extended fields through a cast to `uint64_t`:
//!   an mtime before 1970 appears as a number above `i64::MAX`
//!   (`-315619200` as `18446744073393932416`), and a uid or gid above
//!   `i32::MAX` sign-extended (`4294967294` as `18446744073709551614`).
//!   Both are read back to the original value; gdu writes a negative mtime
//!   as a negative number, which is read as it is.
//! - An entry ncdu excluded by pattern is not stat()ed, so it carries
//!   `"dev":0` and no sizes.
//!
//! # Names
//!
//! A name is bytes. ncdu writes a file name's bytes as they are, inside the
//! JSON string, escaping only `"`, `\` and the control bytes (as `\n`, `\t`
//! and the like, or `\u00XX`, `\u007f` included): a name that is not UTF-8
//! appears as the raw invalid bytes, so an ncdu export is not always valid
//! JSON. The reader takes any byte from 0x80 up as itself, checks no
//! UTF-8, and so gets ncdu's names back exactly. gdu instead replaces each
//! invalid byte with `\ufffd`, losing it; that comes back as U+FFFD.
//!
//! Escapes are JSON's, `\uXXXX` surrogate pairs included, decoded to UTF-8.
//! A lone low surrogate `\udc80` to `\udcff` is the byte 0x80 to 0xFF
//! (Python's `surrogateescape`, what `json.dumps` of an `os.listdir` name
//! writes); any other lone surrogate is an error. A raw byte below 0x20 is
//! an error, as in JSON.
//!
//! A name other than the root's must be a file name: not empty, not `.` or
//! `..`, without `/` or NUL. The root's must be non-empty and without NUL.
//! No name may be longer than [`read::MAX_STRING`] bytes.

pub mod read;

/// The only major version of the format.
pub const MAJOR_VERSION: u64 = 1;

/// The newest minor version known (ncdu 1.16 and later: `nlink`).
pub const MINOR_VERSION: u64 = 2;

/// The largest version number the format allows, major or minor.
pub const MAX_VERSION: u64 = 10_000;

/// The start of an export: its versions, and what its metadata object
/// says about who wrote it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// Always [`MAJOR_VERSION`]: any other is refused.
    pub major: u32,
    /// 0 to [`MAX_VERSION`]; above [`MINOR_VERSION`] the file may hold keys
    /// that are skipped.
    pub minor: u32,
    /// `progname`, when it is a string (`"ncdu"`, `"gdu"`); not UTF-8 is
    /// replaced with U+FFFD.
    pub progname: Option<String>,
    /// `progver`, when it is a string (`"1.18"`).
    pub progver: Option<String>,
    /// `timestamp`, when it is an integer: seconds since the epoch when
    /// the file was written.
    pub timestamp: Option<i64>,
}

/// Why an entry was left out of a scan (`excluded`): it has no sizes, and
/// a directory no items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Excluded {
    /// `"pattern"`: matched an exclude pattern (also `true`).
    Pattern,
    /// `"otherfs"` (ncdu 1.18 writes `"othfs"`): on another file system.
    OtherFs,
    /// `"kernfs"`: a Linux pseudo file system (`/proc`, `/sys`...).
    KernFs,
    /// `"frmlnk"`: a macOS firmlink.
    FirmLink,
    /// A string no known writer uses; ncdu treats it as `"pattern"`.
    Other,
}

/// One info object: a directory's own (its items follow it) or another
/// entry's. Fields absent from the file have the defaults the format
/// gives them: 0, false, or `None` where there is no default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    /// The name as bytes: one path component, or for the root the path
    /// that was scanned. Escapes decoded; see [the module doc](self) for
    /// non-UTF-8 names.
    pub name: Vec<u8>,
    /// Apparent size in bytes (`st_size`).
    pub asize: u64,
    /// Disk usage in bytes (`st_blocks * 512`).
    pub dsize: u64,
    /// The device, resolved: the file's `dev`, else the parent
    /// directory's, else 0 for the root (gdu 5.22 writes none).
    pub dev: u64,
    /// The inode number, when given (ncdu and gdu give it only with
    /// `hlnkc`).
    pub ino: Option<u64>,
    /// A file with more than one link: count it once per `(dev, ino)`.
    pub hlnkc: bool,
    /// The link count (`st_nlink`), when given (minor version 2).
    pub nlink: Option<u32>,
    /// The directory, or something below it, could not be read.
    pub read_error: bool,
    /// Why the entry was excluded, if it was.
    pub excluded: Option<Excluded>,
    /// Neither a directory nor a regular file (a symlink, fifo, device...).
    pub notreg: bool,
    /// Owner (extended information, `ncdu -e`).
    pub uid: Option<u32>,
    /// Group (extended information).
    pub gid: Option<u32>,
    /// `st_mode`, type bits included (extended information).
    pub mode: Option<u32>,
    /// Modification time in seconds since the epoch (extended information;
    /// gdu always writes it).
    pub mtime: Option<i64>,
}
