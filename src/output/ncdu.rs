//! `-o FILE`: the scan as an export in ncdu's JSON format (major 1, minor
//! 2), which ncdu (`ncdu -f`), gdu (`gdu -f`) and `fdu -f` read.
//!
//! ```text
//! [1,2,{"progname":"fdu","progver":"0.1.0","timestamp":1796186645},
//! [{"name":"dir","asize":4096,"dsize":4096,"dev":65024},
//! {"name":"a","asize":3,"dsize":4096,"ino":10010752,"hlnkc":true,"nlink":2},
//! [{"name":"sub","asize":4096,"dsize":4096},
//! {"name":"b","asize":3,"dsize":4096,"ino":10010752,"hlnkc":true,"nlink":2}]]]
//! ```
//!
//! Written as ncdu writes it: a directory is an array of its own entry
//! then its items; sizes of zero, and `dev` where it is the parent's, are
//! left out; a file with several links carries `ino`, `hlnkc` and `nlink`
//! (the reader counts it once); names are the bytes of the file system
//! (`"` and `\` escaped, control characters as `\u00XX`, the rest raw, as
//! ncdu does, so a name that is not UTF-8 round-trips through ncdu and
//! fdu). Entries left out by `--exclude` or `-x` are listed with
//! `"excluded":"pattern"` or `"otherfs"`, and what could not be read with
//! `"read_error":true`. `-e` adds `uid`, `gid`, `mode` and `mtime`.
//!
//! Each worker formats the non-directory entries it stats into its own
//! buffer, spilled past [`SPILL_AT`] bytes to one unnamed temporary file
//! (opened before the walk, so the descriptor budget counts it),
//! as one fragment per batch of a directory's listing; directories are
//! kept as records (name and stat). When the walk is over, the export is
//! stitched together: each directory's record, its fragments in listing
//! order, then its subdirectories in listing order. Memory is bounded by
//! the directories and fragments, not by the entries; the order, and so
//! the bytes, do not depend on the thread count or on which worker
//! stat'ed what.
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use fdu_platform::{Kind, Meta};

use crate::config::{Config, ExportOptions};
use crate::diag::{self, ExitStatus, Failed, ScanError};
use crate::dirs::DirRef;
use crate::output::progress::Meter;
use crate::scan::Scan;
use crate::visit::{Skipped, Step, Visit, Visitor};
use crate::wire::{Reader, Writer};

/// A worker's buffer is written to its temporary file past this size.
pub const SPILL_AT: usize = 1 << 20;

/// Bits of a directory id that number it in its worker's list.
const INDEX_BITS: u32 = 40;

/// The export visitor: shared settings, and the temporary file every
/// worker spills to.
pub struct Export {
    /// `-e`: `uid`, `gid`, `mode`, `mtime` on every entry.
    extended: bool,
    /// The number of worker 0: directory ids are unique across the
    /// processes of a shared walk (`crate::ranks`).
    base: u64,
    spill: Mutex<Spill>,
}

/// The shared temporary file and how much of it is written.
struct Spill {
    file: File,
    len: u64,
    /// The first write error: the export fails as a whole.
    failed: Option<io::Error>,
}

/// What the visitor keeps per directory: its id (the number of the
/// worker that met it, then its place in that worker's list) and device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirId {
    id: u64,
    dev: u64,
}

/// The stat fields the export writes.
#[derive(Clone, Copy, Debug)]
struct Fields {
    asize: u64,
    dsize: u64,
    dev: u64,
    uid: u32,
    gid: u32,
    mode: u32,
    mtime: i64,
}

impl Fields {
    fn of(meta: &Meta) -> Fields {
        Fields {
            asize: meta.size,
            dsize: meta.disk_bytes(),
            dev: meta.dev,
            uid: meta.uid,
            gid: meta.gid,
            mode: meta.mode,
            mtime: meta.mtime,
        }
    }
}

/// A directory met by a worker.
struct DirRecord {
    /// The parent's id (`u64::MAX` for the argument).
    parent: u64,
    /// Listing order in the parent: batch, place.
    key: (u32, u32),
    /// Its name: at `name.0`, `name.1` bytes, in the worker's `names`.
    name: (usize, usize),
    fields: Fields,
}

/// A run of one directory's entries, formatted, in a worker's output.
#[derive(Clone, Copy)]
struct Fragment {
    dir: u64,
    batch: u32,
    /// The worker's place in this process's list and offset in its
    /// buffer (`start`), or in the spill file once `spilled`; and length.
    worker: u32,
    spilled: bool,
    start: u64,
    len: u64,
}

/// One worker's part of the export.
pub struct Part<'e> {
    export: &'e Export,
    /// The worker's number (directory ids), and its place in this
    /// process's list of workers (buffers).
    index: u64,
    slot: u32,
    /// Formatted entries not yet spilled.
    buf: Vec<u8>,
    /// The fragments from here on are in `buf`.
    unspilled: usize,
    /// The fragment being written: its directory, batch, start in `buf`,
    /// and its entries (place in the batch, start, end in `buf`).
    open: Option<(u64, u32, usize)>,
    order: Vec<(u32, usize, usize)>,
    fragments: Vec<Fragment>,
    dirs: Vec<DirRecord>,
    names: Vec<u8>,
    /// Directories that could not be opened or listed.
    unreadable: Vec<u64>,
    /// Entries that could not be stat'ed: their directory and name.
    unstatable: Vec<(u64, Vec<u8>)>,
    scratch: Vec<u8>,
}

impl Export {
    /// An export visitor, `extended` for `-e`, spilling to an unnamed
    /// temporary file in `spill_dir` (made now: the error is the caller's).
    pub fn new(extended: bool, spill_dir: &Path) -> io::Result<Export> {
        Ok(Export {
            extended,
            base: 0,
            spill: Mutex::new(Spill {
                file: tempfile::tempfile_in(spill_dir)?,
                len: 0,
                failed: None,
            }),
        })
    }

    /// The same, its workers numbered from `base` (one process of a
    /// shared walk, whose directory ids must not meet another's).
    pub fn numbered_from(mut self, base: usize) -> Export {
        self.base = base as u64;
        self
    }
}

impl Visitor for Export {
    type Worker<'v> = Part<'v>;
    type Output = Stitch;

    fn worker(&self, index: usize) -> Part<'_> {
        Part {
            export: self,
            index: self.base + index as u64,
            slot: index as u32,
            buf: Vec::new(),
            unspilled: 0,
            open: None,
            order: Vec::new(),
            fragments: Vec::new(),
            dirs: Vec::new(),
            names: Vec::new(),
            unreadable: Vec::new(),
            unstatable: Vec::new(),
            scratch: Vec::new(),
        }
    }

    fn finish(&self, parts: Vec<Part<'_>>) -> Stitch {
        let spill = self.spill.lock().unwrap_or_else(|p| p.into_inner());
        let mut stitch = Stitch {
            extended: self.extended,
            spill: spill.file.try_clone(),
            spill_len: spill.len,
            buffers: Vec::with_capacity(parts.len()),
            dirs: BTreeMap::new(),
            fragments: Vec::new(),
            unreadable: Vec::new(),
            unstatable: Vec::new(),
            failed: None,
        };
        drop(spill);
        for mut part in parts {
            part.close_fragment();
            stitch.fragments.append(&mut part.fragments);
            stitch.unreadable.append(&mut part.unreadable);
            stitch.unstatable.append(&mut part.unstatable);
            stitch.buffers.push(std::mem::take(&mut part.buf));
            stitch.dirs.insert(part.index, (part.dirs, part.names));
        }
        let mut spill = self.spill.lock().unwrap_or_else(|p| p.into_inner());
        stitch.failed = spill.failed.take();
        stitch.spill_len = spill.len;
        stitch
    }
}

impl Part<'_> {
    fn id(&self, local: usize) -> u64 {
        self.index << INDEX_BITS | local as u64
    }

    fn add_dir(&mut self, parent: u64, key: (u32, u32), name: &[u8], meta: &Meta) -> DirId {
        let start = self.names.len();
        self.names.extend_from_slice(name);
        let id = self.id(self.dirs.len());
        self.dirs.push(DirRecord {
            parent,
            key,
            name: (start, name.len()),
            fields: Fields::of(meta),
        });
        DirId { id, dev: meta.dev }
    }

    /// Start (or continue) the fragment of `dir`'s batch `batch`.
    fn fragment(&mut self, dir: u64, batch: u32) {
        if let Some((d, b, _)) = self.open {
            if (d, b) == (dir, batch) {
                return;
            }
            self.close_fragment();
        }
        self.open = Some((dir, batch, self.buf.len()));
    }

    /// End the open fragment: its entries put in listing order, then kept.
    fn close_fragment(&mut self) {
        let Some((dir, batch, start)) = self.open.take() else {
            return;
        };
        if !self.order.windows(2).all(|w| w[0].0 <= w[1].0) {
            self.order.sort_unstable_by_key(|e| e.0);
            self.scratch.clear();
            for &(_, from, to) in &self.order {
                self.scratch.extend_from_slice(&self.buf[from..to]);
            }
            self.buf.truncate(start);
            self.buf.extend_from_slice(&self.scratch);
        }
        self.order.clear();
        let len = (self.buf.len() - start) as u64;
        if len > 0 {
            self.fragments.push(Fragment {
                dir,
                batch,
                worker: self.slot,
                spilled: false,
                start: start as u64,
                len,
            });
        }
        if self.buf.len() >= SPILL_AT {
            self.flush();
        }
    }

    /// Append the buffer to the spill file; its fragments now point there.
    fn flush(&mut self) {
        let mut spill = self.export.spill.lock().unwrap_or_else(|p| p.into_inner());
        let base = spill.len;
        if spill.failed.is_none() {
            if let Err(e) = spill.file.write_all(&self.buf) {
                spill.failed = Some(e);
            }
        }
        spill.len += self.buf.len() as u64;
        drop(spill);
        for f in &mut self.fragments[self.unspilled..] {
            f.start += base;
            f.spilled = true;
        }
        self.unspilled = self.fragments.len();
        self.buf.clear();
    }

    /// Format one non-directory entry into the open fragment.
    fn item(&mut self, dir: &DirRef<'_, DirId>, name: &[u8], write: impl FnOnce(&mut Vec<u8>)) {
        let state = *dir.state();
        self.fragment(state.id, dir.batch());
        let from = self.buf.len();
        self.buf.extend_from_slice(b",\n{\"name\":");
        json_string(name, &mut self.buf);
        write(&mut self.buf);
        self.buf.push(b'}');
        self.order.push((dir.index(), from, self.buf.len()));
    }
}

impl Visit for Part<'_> {
    type Dir = DirId;

    fn root(&mut self, _arg: usize, display: &[u8], meta: &Meta) -> Step<DirId> {
        if meta.kind != Kind::Dir {
            // The export holds one directory: `-o` refuses a file argument
            // before the scan.
            return Step::Skip;
        }
        Step::Descend(self.add_dir(u64::MAX, (0, 0), display, meta))
    }

    #[inline]
    fn entry(&mut self, dir: &DirRef<'_, DirId>, name: &[u8], meta: &Meta) -> Step<DirId> {
        let parent = *dir.state();
        if meta.kind == Kind::Dir {
            let key = (dir.batch(), dir.index());
            return Step::Descend(self.add_dir(parent.id, key, name, meta));
        }
        let extended = self.export.extended;
        self.item(dir, name, |out| {
            let fields = Fields::of(meta);
            write_sizes(&fields, parent.dev, out);
            if meta.nlink > 1 {
                out.extend_from_slice(b",\"ino\":");
                number(meta.ino, out);
                out.extend_from_slice(b",\"hlnkc\":true,\"nlink\":");
                number(meta.nlink, out);
            }
            if meta.kind != Kind::File {
                out.extend_from_slice(b",\"notreg\":true");
            }
            if extended {
                write_extended(&fields, out);
            }
        });
        Step::Skip
    }

    fn skipped(&mut self, dir: &DirRef<'_, DirId>, name: &[u8], why: Skipped) {
        self.item(dir, name, |out| {
            out.extend_from_slice(match why {
                Skipped::Excluded => b",\"excluded\":\"pattern\"",
                Skipped::OtherFileSystem => b",\"excluded\":\"otherfs\"",
            })
        });
    }

    fn end_batch(&mut self) {
        self.close_fragment();
    }

    fn carry(dir: &DirId, out: &mut Writer) {
        out.u64(dir.id);
        out.u64(dir.dev);
    }

    fn land(bytes: &mut Reader<'_>) -> Option<DirId> {
        Some(DirId {
            id: bytes.u64()?,
            dev: bytes.u64()?,
        })
    }

    fn error(&mut self, dir: Option<&DirId>, error: &ScanError) {
        let Some(dir) = dir else { return };
        match error.failed {
            Failed::Read => self.unreadable.push(dir.id),
            Failed::Access => {
                let name = error.path.rsplit(|&b| b == b'/').next().unwrap_or_default();
                self.unstatable.push((dir.id, name.to_vec()));
            }
            Failed::EmptyName => {}
        }
    }
}

/// What the workers wrote, to be stitched into the export.
pub struct Stitch {
    extended: bool,
    /// The spill file (another descriptor of it), and its length.
    spill: io::Result<File>,
    spill_len: u64,
    /// What each worker of this process had not spilled.
    buffers: Vec<Vec<u8>>,
    /// Each worker's directories and their names, by worker number.
    dirs: BTreeMap<u64, (Vec<DirRecord>, Vec<u8>)>,
    fragments: Vec<Fragment>,
    unreadable: Vec<u64>,
    unstatable: Vec<(u64, Vec<u8>)>,
    /// A spill file could not be made or written.
    failed: Option<io::Error>,
}

/// A directory's place in the stitched tree.
struct Node {
    /// Its subdirectories, in listing order.
    children: Vec<u64>,
    /// Its fragments: a range of the sorted fragment list.
    fragments: std::ops::Range<usize>,
    read_error: bool,
}

impl Stitch {
    /// Whether the walk found the argument (a directory) to export.
    pub fn has_root(&self) -> bool {
        self.dirs
            .values()
            .any(|(d, _)| d.first().is_some_and(|r| r.parent == u64::MAX))
    }

    fn record(&self, id: u64) -> (&DirRecord, &[u8]) {
        let (dirs, names) = &self.dirs[&(id >> INDEX_BITS)];
        let rec = &dirs[(id & ((1 << INDEX_BITS) - 1)) as usize];
        (rec, &names[rec.name.0..rec.name.0 + rec.name.1])
    }

    /// Write the export to `out`, with `timestamp` (seconds since the
    /// epoch) in its header. A spill file that failed, or a failed write,
    /// is the error.
    pub fn write(mut self, timestamp: i64, out: &mut impl Write) -> io::Result<()> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        // Every directory, and its children in listing order.
        let mut nodes: std::collections::HashMap<u64, Node> = std::collections::HashMap::new();
        let mut root = None;
        for (&w, (dirs, _)) in &self.dirs {
            for i in 0..dirs.len() {
                let id = w << INDEX_BITS | i as u64;
                nodes.insert(
                    id,
                    Node {
                        children: Vec::new(),
                        fragments: 0..0,
                        read_error: false,
                    },
                );
            }
        }
        for (&w, (dirs, _)) in &self.dirs {
            for (i, rec) in dirs.iter().enumerate() {
                let id = w << INDEX_BITS | i as u64;
                if rec.parent == u64::MAX {
                    root.get_or_insert(id);
                } else if let Some(parent) = nodes.get_mut(&rec.parent) {
                    parent.children.push(id);
                }
            }
        }
        for node in nodes.values_mut() {
            node.children
                .sort_unstable_by_key(|&c| self.record(c).0.key);
        }
        self.fragments.sort_unstable_by_key(|f| (f.dir, f.batch));
        let mut at = 0;
        while at < self.fragments.len() {
            let dir = self.fragments[at].dir;
            let end = at + self.fragments[at..].partition_point(|f| f.dir == dir);
            if let Some(node) = nodes.get_mut(&dir) {
                node.fragments = at..end;
            }
            at = end;
        }
        for id in &self.unreadable {
            if let Some(node) = nodes.get_mut(id) {
                node.read_error = true;
            }
        }
        self.unstatable.sort_unstable();
        let Some(root) = root else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "no directory to export",
            ));
        };

        write!(
            out,
            "[1,2,{{\"progname\":\"fdu\",\"progver\":\"{}\",\"timestamp\":{timestamp}}}",
            env!("CARGO_PKG_VERSION")
        )?;
        let mut line = Vec::new();
        let mut copy = Vec::new();
        // (directory, next child to write)
        let mut stack: Vec<(u64, usize)> = Vec::new();
        self.open_dir(root, u64::MAX, &nodes, &mut line, &mut copy, out)?;
        stack.push((root, 0));
        while let Some(top) = stack.last_mut() {
            let (dir, next) = *top;
            let node = &nodes[&dir];
            if let Some(&child) = node.children.get(next) {
                top.1 += 1;
                let dev = self.record(dir).0.fields.dev;
                self.open_dir(child, dev, &nodes, &mut line, &mut copy, out)?;
                stack.push((child, 0));
            } else {
                out.write_all(b"]")?;
                stack.pop();
            }
        }
        out.write_all(b"]\n")?;
        out.flush()
    }

    /// This process's part of a shared walk's export, for the process
    /// that writes the export (`crate::ranks`): every directory, fragment
    /// and error, the fragments placed in what [`Stitch::send_data`]
    /// writes, then the length of that. A part whose spill file failed is
    /// that error alone (the export fails with it).
    pub fn describe(&self, w: &mut Writer) {
        if let Some(e) = &self.failed {
            w.u8(1);
            w.u32(fdu_platform::Errno::from_io(e).0 as u32);
            for _ in 0..5 {
                // No directory, fragment or error; no bytes.
                w.u64(0);
            }
            return;
        }
        w.u8(0);
        w.u64(self.dirs.len() as u64);
        for (&worker, (dirs, names)) in &self.dirs {
            w.u64(worker);
            w.bytes(names);
            w.u64(dirs.len() as u64);
            for d in dirs {
                w.u64(d.parent);
                w.u32(d.key.0);
                w.u32(d.key.1);
                w.u64(d.name.0 as u64);
                w.u64(d.name.1 as u64);
                let f = &d.fields;
                for v in [f.asize, f.dsize, f.dev] {
                    w.u64(v);
                }
                for v in [f.uid, f.gid, f.mode] {
                    w.u32(v);
                }
                w.i64(f.mtime);
            }
        }
        // The spill file, then each worker's buffer.
        let mut at = Vec::with_capacity(self.buffers.len());
        let mut end = self.spill_len;
        for b in &self.buffers {
            at.push(end);
            end += b.len() as u64;
        }
        w.u64(self.fragments.len() as u64);
        for f in &self.fragments {
            w.u64(f.dir);
            w.u32(f.batch);
            w.u64(if f.spilled {
                f.start
            } else {
                at[f.worker as usize] + f.start
            });
            w.u64(f.len);
        }
        w.u64(self.unreadable.len() as u64);
        for &id in &self.unreadable {
            w.u64(id);
        }
        w.u64(self.unstatable.len() as u64);
        for (id, name) in &self.unstatable {
            w.u64(*id);
            w.bytes(name);
        }
        w.u64(end);
    }

    /// The bytes [`Stitch::describe`]'s fragments are in, to `out`
    /// (none when the spill file failed).
    pub fn send_data(&mut self, out: &mut impl Write) -> io::Result<()> {
        if self.failed.is_some() {
            return Ok(());
        }
        if self.spill_len > 0 {
            let file = match &mut self.spill {
                Ok(file) => file,
                Err(e) => return Err(io::Error::new(e.kind(), e.to_string())),
            };
            file.seek(SeekFrom::Start(0))?;
            let copied = io::copy(&mut Read::by_ref(file).take(self.spill_len), out)?;
            if copied != self.spill_len {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        for b in &self.buffers {
            out.write_all(b)?;
        }
        out.flush()
    }

    /// Take in another process's part: `part` as [`Stitch::describe`]
    /// wrote it, `data` what its [`Stitch::send_data`] wrote, read to its
    /// end and kept in this process's spill file. A part that is not one
    /// (or numbers a worker this stitch has) is an `InvalidData` error;
    /// a part whose process could not keep its export, or bytes that
    /// cannot be kept here, make [`Stitch::write`] fail.
    pub fn absorb(&mut self, part: &[u8], data: &mut impl Read) -> io::Result<()> {
        let base = self.spill_len;
        let kept = match &mut self.spill {
            Ok(file) => file
                .seek(SeekFrom::Start(base))
                .and_then(|_| io::copy(data, file)),
            Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
        };
        let copied = match kept {
            Ok(n) => n,
            Err(e) => {
                // The sender is not left waiting.
                io::copy(data, &mut io::sink())?;
                self.failed.get_or_insert(e);
                return Ok(());
            }
        };
        self.spill_len += copied;
        let corrupt = || io::Error::new(io::ErrorKind::InvalidData, "not a part of an export");
        let mut r = Reader::new(part);
        let theirs = self.read_part(&mut r, base, copied).ok_or_else(corrupt)?;
        if !r.is_empty() {
            return Err(corrupt());
        }
        if let Some(errno) = theirs {
            self.failed
                .get_or_insert(io::Error::from_raw_os_error(errno));
        }
        Ok(())
    }

    /// [`Stitch::absorb`]'s reading of a part whose bytes are at `base`
    /// in the spill file, `len` of them: `None` if it is not one; else
    /// the error number its process had, if any.
    fn read_part(&mut self, r: &mut Reader<'_>, base: u64, len: u64) -> Option<Option<i32>> {
        let failed = match r.u8()? {
            0 => None,
            1 => Some(r.u32()? as i32),
            _ => return None,
        };
        let workers = r.count(8 + 8 + 8)?;
        for _ in 0..workers {
            let worker = r.u64()?;
            let names = r.bytes()?.to_vec();
            let n = r.count(8 + 8 + 8 + 8 + 24 + 12 + 8)?;
            let mut dirs = Vec::with_capacity(n);
            for _ in 0..n {
                let parent = r.u64()?;
                let key = (r.u32()?, r.u32()?);
                let name = (
                    usize::try_from(r.u64()?).ok()?,
                    usize::try_from(r.u64()?).ok()?,
                );
                if name.0.checked_add(name.1)? > names.len() {
                    return None;
                }
                let fields = Fields {
                    asize: r.u64()?,
                    dsize: r.u64()?,
                    dev: r.u64()?,
                    uid: r.u32()?,
                    gid: r.u32()?,
                    mode: r.u32()?,
                    mtime: r.i64()?,
                };
                dirs.push(DirRecord {
                    parent,
                    key,
                    name,
                    fields,
                });
            }
            if worker >= 1 << (64 - INDEX_BITS) || self.dirs.contains_key(&worker) {
                return None;
            }
            self.dirs.insert(worker, (dirs, names));
        }
        let n = r.count(8 + 4 + 8 + 8)?;
        for _ in 0..n {
            let (dir, batch, start, flen) = (r.u64()?, r.u32()?, r.u64()?, r.u64()?);
            if start.checked_add(flen)? > len {
                return None;
            }
            self.fragments.push(Fragment {
                dir,
                batch,
                worker: 0,
                spilled: true,
                start: base + start,
                len: flen,
            });
        }
        let n = r.count(8)?;
        for _ in 0..n {
            self.unreadable.push(r.u64()?);
        }
        let n = r.count(8 + 8)?;
        for _ in 0..n {
            let id = r.u64()?;
            self.unstatable.push((id, r.bytes()?.to_vec()));
        }
        (r.u64()? == len).then_some(failed)
    }

    /// Write `[` and a directory's own entry, its fragments and the
    /// entries that could not be stat'ed (its subdirectories follow).
    fn open_dir(
        &mut self,
        id: u64,
        parent_dev: u64,
        nodes: &std::collections::HashMap<u64, Node>,
        line: &mut Vec<u8>,
        copy: &mut Vec<u8>,
        out: &mut impl Write,
    ) -> io::Result<()> {
        let node = &nodes[&id];
        let (rec, name) = self.record(id);
        let fields = rec.fields;
        line.clear();
        line.extend_from_slice(b",\n[{\"name\":");
        json_string(name, line);
        write_sizes(&fields, parent_dev, line);
        if node.read_error {
            line.extend_from_slice(b",\"read_error\":true");
        }
        if self.extended {
            write_extended(&fields, line);
        }
        line.push(b'}');
        out.write_all(line)?;
        for f in node.fragments.clone() {
            let frag = self.fragments[f];
            if frag.spilled {
                let file = match &mut self.spill {
                    Ok(file) => file,
                    Err(e) => return Err(io::Error::new(e.kind(), e.to_string())),
                };
                copy.resize(frag.len as usize, 0);
                file.seek(SeekFrom::Start(frag.start))?;
                file.read_exact(copy)?;
                out.write_all(copy)?;
            } else {
                let buf = &self.buffers[frag.worker as usize];
                out.write_all(&buf[frag.start as usize..(frag.start + frag.len) as usize])?;
            }
        }
        let first = self.unstatable.partition_point(|(d, _)| *d < id);
        for (_, name) in self.unstatable[first..]
            .iter()
            .take_while(|(d, _)| *d == id)
        {
            line.clear();
            line.extend_from_slice(b",\n{\"name\":");
            json_string(name, line);
            line.extend_from_slice(b",\"read_error\":true}");
            out.write_all(line)?;
        }
        Ok(())
    }
}

/// `fdu -o FILE DIR`: scan and export; returns the exit status.
///
/// FILE is written whole or not at all: the export goes to a temporary
/// file beside it, renamed over FILE once complete. Entries that could not
/// be read are reported and marked in the export, and make the status 1.
pub fn run(config: &Config, export: &ExportOptions, meter: &Meter) -> ExitStatus {
    let started = std::time::Instant::now();
    let target = match Target::prepare(export) {
        Ok(target) => target,
        Err(status) => return status,
    };
    // The spill file is made before the walk: the descriptor budget
    // counts it.
    let Some(visitor) = spill_in(export.extended, target.spill_dir()) else {
        return ExitStatus::Partial;
    };
    let scan = Scan::from_config(config).errors(meter.errors());
    let ran = match meter.run(&scan, |_, _| visitor) {
        Ok(ran) => ran,
        Err(failed) => return crate::scan::report_failure(failed),
    };
    meter.finish();
    let exported = ran.result.has_root();
    let status = target.deliver(config, ran.result, ran.outcome.errors);
    if config.stats && exported {
        crate::output::stats::print_stats(
            config,
            ran.ran,
            ran.ring.as_deref(),
            &ran.outcome,
            started.elapsed(),
            None,
        );
    }
    status
}

/// An export visitor spilling to a temporary file in `dir`; `None` (and
/// said) if that file cannot be made.
pub fn spill_in(extended: bool, dir: &Path) -> Option<Export> {
    match Export::new(extended, dir) {
        Ok(v) => Some(v),
        Err(e) => {
            diag::report(&format!(
                "cannot create a temporary file in {}: {}",
                diag::quote(dir.as_os_str().as_encoded_bytes()),
                fdu_platform::Errno::from_io(&e)
            ));
            None
        }
    }
}

/// Where an export goes: standard output, or a temporary file beside
/// FILE, made before the scan (so that a FILE that cannot be written
/// fails at once) and renamed over FILE once complete.
pub struct Target {
    /// FILE as given.
    name: Vec<u8>,
    path: PathBuf,
    /// Where temporary files go: FILE's directory (for stdout, the
    /// system's temporary directory).
    dir: PathBuf,
    /// `None` for standard output.
    file: Option<tempfile::NamedTempFile>,
}

impl Target {
    /// The target of `-o FILE`; the status to exit with (said) if FILE's
    /// temporary file cannot be made.
    pub fn prepare(export: &ExportOptions) -> Result<Target, ExitStatus> {
        let to_stdout = export.file == b"-";
        let path = crate::walk::os_path(&export.file).to_path_buf();
        let dir = match path.parent() {
            _ if to_stdout => std::env::temp_dir(),
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut file = None;
        if !to_stdout {
            match tempfile::Builder::new()
                .prefix(".fdu-export")
                .tempfile_in(&dir)
            {
                Ok(f) => file = Some(f),
                Err(e) => {
                    diag::report(&format!(
                        "cannot create {}: {}",
                        diag::quote(&export.file),
                        fdu_platform::Errno::from_io(&e)
                    ));
                    return Err(ExitStatus::Partial);
                }
            }
        }
        Ok(Target {
            name: export.file.clone(),
            path,
            dir,
            file,
        })
    }

    /// Where the scan's spill file goes.
    pub fn spill_dir(&self) -> &Path {
        &self.dir
    }

    /// Write the export the walk made (`errors`: the entries it could
    /// not read, already said); the exit status.
    pub fn deliver(self, config: &Config, stitch: Stitch, errors: u64) -> ExitStatus {
        let mut status = if errors > 0 {
            ExitStatus::Partial
        } else {
            ExitStatus::Ok
        };
        if !stitch.has_root() {
            // The argument could not be stat'ed (reported), or is no directory.
            if errors == 0 {
                diag::report(&format!(
                    "cannot export {}: Not a directory",
                    diag::quote(&config.paths[0])
                ));
            }
            return ExitStatus::Partial;
        }
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        match self.file {
            None => {
                let mut out = crate::output::Stdout::new();
                if let Err(e) = stitch.write(timestamp, &mut out) {
                    if crate::output::write_failed(&e) {
                        status = ExitStatus::Partial;
                    }
                }
            }
            Some(mut tmp) => {
                // A temporary file is made readable by its owner only; an
                // export is as readable as any file the user makes.
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let _ = tmp
                        .as_file()
                        .set_permissions(std::fs::Permissions::from_mode(0o644));
                }
                let written = {
                    let mut out = io::BufWriter::with_capacity(256 << 10, tmp.as_file_mut());
                    stitch.write(timestamp, &mut out)
                }
                .and_then(|()| tmp.as_file().sync_all())
                .and_then(|()| tmp.persist(&self.path).map(drop).map_err(|e| e.error));
                if let Err(e) = written {
                    diag::report(&format!(
                        "cannot write {}: {}",
                        diag::quote(&self.name),
                        fdu_platform::Errno::from_io(&e)
                    ));
                    status = ExitStatus::Partial;
                }
            }
        }
        status
    }
}

/// `asize`, `dsize` (each unless 0) and `dev` (unless the parent's).
fn write_sizes(fields: &Fields, parent_dev: u64, out: &mut Vec<u8>) {
    if fields.asize > 0 {
        out.extend_from_slice(b",\"asize\":");
        number(fields.asize, out);
    }
    if fields.dsize > 0 {
        out.extend_from_slice(b",\"dsize\":");
        number(fields.dsize, out);
    }
    if fields.dev != parent_dev {
        out.extend_from_slice(b",\"dev\":");
        number(fields.dev, out);
    }
}

/// `-e`: `uid`, `gid`, `mode`, `mtime`.
fn write_extended(fields: &Fields, out: &mut Vec<u8>) {
    out.extend_from_slice(b",\"uid\":");
    number(fields.uid, out);
    out.extend_from_slice(b",\"gid\":");
    number(fields.gid, out);
    out.extend_from_slice(b",\"mode\":");
    number(fields.mode, out);
    out.extend_from_slice(b",\"mtime\":");
    number(fields.mtime, out);
}

fn number(n: impl std::fmt::Display, out: &mut Vec<u8>) {
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{n}");
}

/// A name as ncdu writes it: quoted, `"` and `\` escaped, control
/// characters as `\u00XX`, every other byte as it is.
pub fn json_string(name: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in name {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0..=0x1f | 0x7f => {
                let _ = write!(out, "\\u{b:04x}");
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::json_string;

    #[test]
    fn names_are_escaped_as_ncdu_does() {
        let mut out = Vec::new();
        json_string(b"a\"b\\c\nd\x7f\xffe", &mut out);
        assert_eq!(out, b"\"a\\\"b\\\\c\\u000ad\\u007f\xffe\"");
    }
}
