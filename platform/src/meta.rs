/// The kind of a directory entry, as far as a size scan cares.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// A directory: opened and listed.
    Dir,
    /// A regular file.
    File,
    /// A symbolic link (only seen when links are not followed).
    Symlink,
    /// A FIFO, socket or device: counted, never opened.
    Other,
}

/// The stat fields a size scan reads, and nothing else.
///
/// `blocks` is in 512-byte units on every platform, as `st_blocks` is on
/// Linux, so disk usage is always `blocks * 512`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Meta {
    /// What the entry is.
    pub kind: Kind,
    /// Device the entry lives on (`st_dev`); with `ino`, its identity.
    pub dev: u64,
    /// Inode number (`st_ino`).
    pub ino: u64,
    /// Number of hard links (`st_nlink`): only entries with more than one are
    /// tracked for hard-link deduplication.
    pub nlink: u64,
    /// Apparent size in bytes (`st_size`).
    pub size: u64,
    /// Allocated 512-byte blocks (`st_blocks`).
    pub blocks: u64,
    /// Last modification, seconds since the epoch (`st_mtime`): with
    /// `mtime_nsec`, tells a file that changed between two stats.
    pub mtime: i64,
    /// Nanoseconds of the last modification (`st_mtime_nsec`).
    pub mtime_nsec: u32,
    /// Last access, seconds since the epoch (`st_atime`, for `--time=atime`).
    /// A `statx` asked for fewer fields leaves it 0.
    pub atime: i64,
    /// Nanoseconds of the last access.
    pub atime_nsec: u32,
    /// Last status change, seconds since the epoch (`st_ctime`, for
    /// `--time=ctime`). A `statx` asked for fewer fields leaves it 0.
    pub ctime: i64,
    /// Nanoseconds of the last status change.
    pub ctime_nsec: u32,
    /// File type and permission bits (`st_mode`; 0 where unknown).
    pub mode: u32,
    /// Owner (`st_uid`; 0 where unknown).
    pub uid: u32,
    /// Group (`st_gid`; 0 where unknown).
    pub gid: u32,
}

impl Meta {
    /// Disk usage in bytes: what du counts by default.
    pub fn disk_bytes(&self) -> u64 {
        self.blocks.saturating_mul(512)
    }

    /// The `(st_dev, st_ino)` pair that identifies the file system object.
    pub fn id(&self) -> (u64, u64) {
        (self.dev, self.ino)
    }
}
