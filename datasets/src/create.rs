//! Making a planned tree on disk. Every call is relative to an open directory
//! fd (`mkdirat`, `openat`, `linkat`, `symlinkat`), so paths longer than
//! PATH_MAX (the `deep` shape) work, and threads never share a cwd.
//!
//! Three phases, each a barrier: directories (one thread, parents first),
//! then regular files, then hard links and symlinks (both in parallel, in
//! chunks of one directory's entries). No fsync anywhere.

use std::fs::File;
use std::io::{self, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{linkat, mkdirat, openat, symlinkat, AtFlags, Mode, OFlags, CWD};

use crate::plan::{data_block, Kind, Plan, SPARSE_MARK};
use crate::rng::Rng;

/// Longest path handed to one `openat` when walking down a long chain.
const CHUNK: usize = 2048;
/// Entries of one directory handed to a worker at a time.
const UNIT: usize = 2048;
/// Random bytes that file contents are cut from.
const DATA_LEN: usize = (4 << 20) + (64 << 10);

/// How long each phase took.
#[derive(Clone, Debug, Default)]
pub struct Timings {
    /// Creating directories.
    pub dirs: Duration,
    /// Creating and writing regular files.
    pub files: Duration,
    /// Creating hard links and symlinks.
    pub links: Duration,
}

fn dir_flags() -> OFlags {
    OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

/// Open the directory at `rel` (relative to `root`, any length) as an O_PATH fd,
/// in steps of at most [`CHUNK`] bytes.
fn open_rel(root: BorrowedFd<'_>, rel: &[u8]) -> io::Result<OwnedFd> {
    let mut fd = openat(root, ".", dir_flags(), Mode::empty())?;
    let mut rest = rel;
    while !rest.is_empty() {
        let (step, next) = if rest.len() <= CHUNK {
            (rest, &rest[rest.len()..])
        } else {
            let cut = rest[..CHUNK]
                .iter()
                .rposition(|&b| b == b'/')
                .filter(|&c| c > 0)
                .ok_or_else(|| io::Error::other("path component too long"))?;
            (&rest[..cut], &rest[cut + 1..])
        };
        fd = openat(&fd, step, dir_flags(), Mode::empty())?;
        rest = next;
    }
    Ok(fd)
}

fn ctx(e: impl Into<io::Error>, what: &str, name: &[u8]) -> io::Error {
    let e: io::Error = e.into();
    io::Error::new(
        e.kind(),
        format!("{what} {}: {e}", String::from_utf8_lossy(name)),
    )
}

/// Make the tree of `plan` at `root`, which must not exist (its parent is
/// created if needed). Uses `threads` workers for files and links.
pub fn create(plan: &Plan, root: &Path, threads: usize) -> io::Result<Timings> {
    if let Some(parent) = root.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::create_dir(root)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", root.display())))?;
    let root_fd = openat(CWD, root, dir_flags(), Mode::empty())?;
    let root_fd = root_fd.as_fd();
    let mut t = Timings::default();

    let start = Instant::now();
    make_dirs(plan, root_fd)?;
    t.dirs = start.elapsed();

    let ranges = plan.dir_ranges();
    let mut units: Vec<(u32, Range<usize>)> = Vec::new();
    for (d, r) in ranges.iter().enumerate() {
        let mut s = r.start;
        while s < r.end {
            let e = (s + UNIT).min(r.end);
            units.push((d as u32, s..e));
            s = e;
        }
    }
    let data = random_data(plan.seed);

    let start = Instant::now();
    parallel(
        threads,
        &units,
        |fd, range| make_files(plan, fd, range, &data),
        plan,
        root_fd,
    )?;
    t.files = start.elapsed();

    let start = Instant::now();
    parallel(
        threads,
        &units,
        |fd, range| make_links(plan, root_fd, fd, range),
        plan,
        root_fd,
    )?;
    t.links = start.elapsed();
    Ok(t)
}

/// Directories in plan order (parents first). Keeps the fd of the last parent
/// used, and steps down from it when the next parent is its child (the deep
/// chain), so long paths are not re-walked from the root each time.
fn make_dirs(plan: &Plan, root: BorrowedFd<'_>) -> io::Result<()> {
    let mut cur: (u32, OwnedFd) = (0, openat(root, ".", dir_flags(), Mode::empty())?);
    for d in plan.dirs.iter().skip(1) {
        if cur.0 != d.parent {
            let pd = &plan.dirs[d.parent as usize];
            let fd = if pd.parent == cur.0 {
                openat(&cur.1, pd.name.as_slice(), dir_flags(), Mode::empty())?
            } else {
                open_rel(root, &plan.dir_path(d.parent))?
            };
            cur = (d.parent, fd);
        }
        mkdirat(&cur.1, d.name.as_slice(), Mode::from_raw_mode(0o755))
            .map_err(|e| ctx(e, "mkdir", &d.name))?;
    }
    Ok(())
}

/// Run `work(dir_fd, item_range)` over `units` on `threads` threads, stopping
/// at the first error.
fn parallel<F>(
    threads: usize,
    units: &[(u32, Range<usize>)],
    work: F,
    plan: &Plan,
    root: BorrowedFd<'_>,
) -> io::Result<()>
where
    F: Fn(BorrowedFd<'_>, Range<usize>) -> io::Result<()> + Sync,
{
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let err: Mutex<Option<io::Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                // Units of one dir are adjacent: reuse its fd across them.
                let mut open: Option<(u32, OwnedFd)> = None;
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((d, range)) = units.get(i) else {
                        break;
                    };
                    let res = (|| {
                        if open.as_ref().map(|o| o.0) != Some(*d) {
                            open = Some((*d, open_rel(root, &plan.dir_path(*d))?));
                        }
                        let fd = open.as_ref().map(|o| o.1.as_fd()).expect("opened above");
                        work(fd, range.clone())
                    })();
                    if let Err(e) = res {
                        stop.store(true, Ordering::Relaxed);
                        err.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .get_or_insert(e);
                    }
                }
            });
        }
    });
    match err.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn random_data(seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed ^ 0x6461_7461);
    let mut v = Vec::with_capacity(DATA_LEN);
    while v.len() < DATA_LEN {
        v.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    v
}

fn make_files(
    plan: &Plan,
    dir: BorrowedFd<'_>,
    range: Range<usize>,
    data: &[u8],
) -> io::Result<()> {
    let create = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC;
    for i in range {
        let it = &plan.items[i];
        match it.kind {
            Kind::File { size } => {
                let fd = openat(dir, it.name.as_slice(), create, Mode::from_raw_mode(0o644))
                    .map_err(|e| ctx(e, "create", &it.name))?;
                if size > 0 {
                    let mut f = File::from(fd);
                    let mut left = size as usize;
                    let mut off = (i * 7919) % (64 << 10);
                    while left > 0 {
                        let n = left.min(data.len() - off);
                        f.write_all(&data[off..off + n])
                            .map_err(|e| ctx(e, "write", &it.name))?;
                        left -= n;
                        off = 0;
                    }
                }
            }
            Kind::Data {
                size,
                content,
                flip,
            } => {
                let fd = openat(dir, it.name.as_slice(), create, Mode::from_raw_mode(0o644))
                    .map_err(|e| ctx(e, "create", &it.name))?;
                let mut f = File::from(fd);
                let mut buf = vec![0u8; 64 << 10];
                let mut off = 0u64;
                while off < size {
                    let n = (size - off).min(buf.len() as u64) as usize;
                    // Blocks of 8 bytes; `off` is always a multiple of 8 here.
                    for (k, chunk) in buf[..n].chunks_mut(8).enumerate() {
                        let word = data_block(content, off / 8 + k as u64).to_le_bytes();
                        chunk.copy_from_slice(&word[..chunk.len()]);
                    }
                    if let Some(at) = flip.filter(|&at| at >= off && at < off + n as u64) {
                        buf[(at - off) as usize] ^= 0xff;
                    }
                    f.write_all(&buf[..n])
                        .map_err(|e| ctx(e, "write", &it.name))?;
                    off += n as u64;
                }
            }
            Kind::Sparse { len } => {
                let fd = openat(dir, it.name.as_slice(), create, Mode::from_raw_mode(0o644))
                    .map_err(|e| ctx(e, "create", &it.name))?;
                let f = File::from(fd);
                f.set_len(len)?;
                f.write_all_at(SPARSE_MARK, 0)?;
                f.write_all_at(SPARSE_MARK, len - SPARSE_MARK.len() as u64)?;
            }
            Kind::HardLink { .. } | Kind::Symlink { .. } => {}
        }
    }
    Ok(())
}

fn make_links(
    plan: &Plan,
    root: BorrowedFd<'_>,
    dir: BorrowedFd<'_>,
    range: Range<usize>,
) -> io::Result<()> {
    let this_dir = range.clone().next().map(|i| plan.items[i].dir);
    // Cache the last foreign target directory: hot targets repeat.
    let mut other: Option<(u32, OwnedFd)> = None;
    for i in range {
        let it = &plan.items[i];
        match &it.kind {
            Kind::HardLink { target } => {
                let t = &plan.items[*target as usize];
                let tfd = if Some(t.dir) == this_dir {
                    dir
                } else {
                    if other.as_ref().map(|o| o.0) != Some(t.dir) {
                        other = Some((t.dir, open_rel(root, &plan.dir_path(t.dir))?));
                    }
                    other.as_ref().map(|o| o.1.as_fd()).expect("opened above")
                };
                linkat(
                    tfd,
                    t.name.as_slice(),
                    dir,
                    it.name.as_slice(),
                    AtFlags::empty(),
                )
                .map_err(|e| ctx(e, "link", &it.name))?;
            }
            Kind::Symlink { target, .. } => {
                symlinkat(target.as_slice(), dir, it.name.as_slice())
                    .map_err(|e| ctx(e, "symlink", &it.name))?;
            }
            Kind::File { .. } | Kind::Sparse { .. } | Kind::Data { .. } => {}
        }
    }
    Ok(())
}
