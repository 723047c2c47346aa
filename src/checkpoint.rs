//! `--checkpoint FILE` and `--resume FILE`: a streamed scan's state kept
//! on disk as it goes, so that a scan killed after hours goes on from
//! where its output stopped.
//!
//! The streamed count ([`crate::stream`]) prints du's lines in path order:
//! every line before its frontier is final. So a checkpoint is:
//!
//! - the lines printed so far (each line's totals and path), to print
//!   again on resume: proportional to the lines du prints, not to the
//!   entries walked;
//! - the frontier: the chain of directories entered, from the argument
//!   down, each with its total so far, and the first name not yet counted
//!   in the deepest one;
//! - the files with several links charged so far, and (with several
//!   arguments, where a directory met twice is walked once) the
//!   directories finished;
//! - the arguments finished, and the command line.
//!
//! **The file** is a journal: a header, then records appended as the scan
//! goes, each `[tag][length][body][BLAKE3 of tag, length and body]`. Lines
//! are appended as they are printed (`L` records); every interval a `C`
//! record (the frontier, and the links and directories claimed since the
//! last one) is appended and the file synced. A checkpoint is the prefix
//! up to a `C` record: a kill while one is written leaves a torn last
//! record, which the reader drops, and the one before is used. Nothing is
//! ever rewritten in place, so a checkpoint costs what was printed since
//! the last one, whatever the size of the tree.
//!
//! **Resume** reads it back ([`Saved::read`]), prints the lines again, and
//! walks on: arguments before the frontier's are not walked, and in each
//! directory of the frontier's chain only the names from the first one not
//! yet counted are (see `crate::stream`). A checkpoint of another version,
//! of another tree (an argument's `(st_dev, st_ino)` changed), or one that
//! is corrupt or not a checkpoint, is refused before anything is written.
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::time::{Duration, Instant};

use crate::tree::{Stamp, Totals};

/// What a checkpoint file starts with.
pub const MAGIC: &[u8; 16] = b"fdu checkpoint\n\0";

/// The layout of the records below; another is refused.
pub const FORMAT: u32 = 1;

/// The header record: what the scan is (written once, first).
const HEADER: u8 = b'H';
/// Lines printed, in order.
const LINES: u8 = b'L';
/// A checkpoint: the frontier and what was claimed since the last one.
const CHECKPOINT: u8 = b'C';

/// Tag, then the body's length.
const RECORD_HEAD: usize = 1 + 8;
/// The BLAKE3 hash closing each record.
const RECORD_TAIL: usize = 32;

/// Lines gathered before they are appended (unsynced) to the file.
const LINES_RECORD: usize = 1 << 20;

/// What a checkpoint is of: the command line, and the arguments' identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The version of fdu that wrote it: another one is refused.
    pub version: String,
    /// The working directory the scan ran in (its paths may be relative).
    pub cwd: Vec<u8>,
    /// The command line's options (every argument after the program's
    /// name, operands included).
    pub argv: Vec<Vec<u8>>,
    /// The paths scanned (the operands, or what `--files0-from` listed).
    pub paths: Vec<Vec<u8>>,
    /// Each path's `(st_dev, st_ino)` when the scan started (`None`: it
    /// could not be stat'ed).
    pub roots: Vec<Option<(u64, u64)>>,
    /// How often a checkpoint is taken.
    pub interval: Duration,
}

/// One directory of the frontier's chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Its name (the argument's path as printed, for the first).
    pub name: Vec<u8>,
    /// Its total so far: its own entries and the children done.
    pub total: Totals,
}

/// Where a streamed scan stands: everything the frontier passed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    /// The argument being walked (0-based); those before it are done.
    pub arg: usize,
    /// The directories entered, the argument first (none: between
    /// arguments).
    pub frames: Vec<Frame>,
    /// The first name in the deepest frame not counted yet (`None`: all
    /// of its children are counted).
    pub next: Option<Vec<u8>>,
    /// The sum over the arguments done (`-c`).
    pub grand: Totals,
    /// The scan is over: nothing is left to walk.
    pub finished: bool,
}

/// A checkpoint read back: what a resumed scan starts from.
pub struct Saved {
    /// What the scan is.
    pub header: Header,
    /// Where it stood.
    pub frontier: Frontier,
    /// Files with several links charged so far.
    pub claims: Vec<(u64, u64)>,
    /// Directories finished (kept with several arguments only).
    pub walked: Vec<(u64, u64)>,
    /// Where the checkpoint ends in the file: a resumed scan appends
    /// from here.
    len: u64,
    /// The bodies of the `L` records, in order.
    lines: Vec<u8>,
    /// The path of the last of them.
    last_path: Vec<u8>,
}

/// What a resumed scan goes on from: where the frontier stood, what it
/// had claimed.
pub struct Start {
    /// Where it stood.
    pub frontier: Frontier,
    /// Files with several links charged before.
    pub claims: Vec<(u64, u64)>,
    /// Directories finished before (several arguments).
    pub walked: Vec<(u64, u64)>,
}

/// Why a checkpoint cannot be used (a usage error: exit status 2).
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Numbers are LEB128: seven bits a byte, low first.
fn put_u64(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_u64(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn put_totals(out: &mut Vec<u8>, t: &Totals) {
    for v in [t.disk, t.apparent, t.inodes, t.dirs, t.errors] {
        put_u64(out, v);
    }
    // Zigzag: a time before 1970 stays short.
    put_u64(out, ((t.time.sec << 1) ^ (t.time.sec >> 63)) as u64);
    put_u64(out, u64::from(t.time.nsec));
}

/// A line: its totals, then its path as the length it shares with the
/// line before and the rest.
fn put_line(out: &mut Vec<u8>, prev: &mut Vec<u8>, totals: &Totals, path: &[u8]) {
    put_totals(out, totals);
    let shared = prev.iter().zip(path).take_while(|(a, b)| a == b).count();
    put_u64(out, shared as u64);
    put_bytes(out, &path[shared..]);
    prev.clear();
    prev.extend_from_slice(path);
}

fn put_ids(out: &mut Vec<u8>, ids: &[(u64, u64)]) {
    put_u64(out, ids.len() as u64);
    for &(dev, ino) in ids {
        put_u64(out, dev);
        put_u64(out, ino);
    }
}

/// A record's head (tag, length) and tail (the hash of head and body).
fn framing(tag: u8, body: &[u8]) -> ([u8; RECORD_HEAD], [u8; RECORD_TAIL]) {
    let mut head = [tag; RECORD_HEAD];
    head[1..].copy_from_slice(&(body.len() as u64).to_le_bytes());
    let mut hash = blake3::Hasher::new();
    hash.update(&head);
    hash.update(body);
    (head, *hash.finalize().as_bytes())
}

/// A record's bytes: tag, length, body, hash.
fn record(tag: u8, body: &[u8]) -> Vec<u8> {
    let (head, tail) = framing(tag, body);
    [&head[..], body, &tail].concat()
}

/// Reads a record's body; any read past its end is corruption.
struct Body<'b> {
    bytes: &'b [u8],
}

/// A body that does not parse (its hash matched: written by another
/// program, or another layout).
struct Malformed;

impl<'b> Body<'b> {
    fn take(&mut self, n: usize) -> Result<&'b [u8], Malformed> {
        if self.bytes.len() < n {
            return Err(Malformed);
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn u64(&mut self) -> Result<u64, Malformed> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.take(1)?[0];
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(Malformed)
    }

    fn len(&mut self) -> Result<usize, Malformed> {
        let n = usize::try_from(self.u64()?).map_err(|_| Malformed)?;
        // A count is never more than the bytes left could hold.
        match n <= self.bytes.len() {
            true => Ok(n),
            false => Err(Malformed),
        }
    }

    fn bytes(&mut self) -> Result<Vec<u8>, Malformed> {
        let n = self.len()?;
        Ok(self.take(n)?.to_vec())
    }

    fn totals(&mut self) -> Result<Totals, Malformed> {
        let mut v = [0u64; 5];
        for x in &mut v {
            *x = self.u64()?;
        }
        let zigzag = self.u64()?;
        let sec = (zigzag >> 1) as i64 ^ -((zigzag & 1) as i64);
        let nsec = u32::try_from(self.u64()?).map_err(|_| Malformed)?;
        Ok(Totals {
            disk: v[0],
            apparent: v[1],
            inodes: v[2],
            dirs: v[3],
            errors: v[4],
            time: Stamp { sec, nsec },
        })
    }

    /// A line (see [`put_line`]): its path is left in `path`.
    fn line(&mut self, path: &mut Vec<u8>) -> Result<Totals, Malformed> {
        let totals = self.totals()?;
        let shared = usize::try_from(self.u64()?).map_err(|_| Malformed)?;
        if shared > path.len() {
            return Err(Malformed);
        }
        path.truncate(shared);
        let n = self.len()?;
        path.extend_from_slice(self.take(n)?);
        Ok(totals)
    }

    fn ids(&mut self, into: &mut Vec<(u64, u64)>) -> Result<(), Malformed> {
        let n = self.len()?;
        for _ in 0..n {
            into.push((self.u64()?, self.u64()?));
        }
        Ok(())
    }

    fn end(&self) -> Result<(), Malformed> {
        match self.bytes.is_empty() {
            true => Ok(()),
            false => Err(Malformed),
        }
    }
}

impl Header {
    fn body(&self) -> Vec<u8> {
        let mut b = Vec::new();
        put_bytes(&mut b, self.version.as_bytes());
        put_bytes(&mut b, &self.cwd);
        put_u64(&mut b, self.argv.len() as u64);
        for a in &self.argv {
            put_bytes(&mut b, a);
        }
        put_u64(&mut b, self.paths.len() as u64);
        for (p, id) in self.paths.iter().zip(&self.roots) {
            put_bytes(&mut b, p);
            match id {
                Some((dev, ino)) => {
                    b.push(1);
                    put_u64(&mut b, *dev);
                    put_u64(&mut b, *ino);
                }
                None => b.push(0),
            }
        }
        put_u64(&mut b, self.interval.as_millis() as u64);
        b
    }

    fn parse(body: &[u8]) -> Result<Header, Malformed> {
        let mut r = Body { bytes: body };
        let version = String::from_utf8(r.bytes()?).map_err(|_| Malformed)?;
        let cwd = r.bytes()?;
        let n = r.len()?;
        let argv = (0..n).map(|_| r.bytes()).collect::<Result<_, _>>()?;
        let n = r.len()?;
        let mut paths = Vec::with_capacity(n);
        let mut roots = Vec::with_capacity(n);
        for _ in 0..n {
            paths.push(r.bytes()?);
            roots.push(match r.take(1)?[0] {
                0 => None,
                1 => Some((r.u64()?, r.u64()?)),
                _ => return Err(Malformed),
            });
        }
        let interval = Duration::from_millis(r.u64()?);
        r.end()?;
        Ok(Header {
            version,
            cwd,
            argv,
            paths,
            roots,
            interval,
        })
    }
}

/// Apply a `C` record's body to `saved`.
fn apply_checkpoint(body: &[u8], saved: &mut Saved) -> Result<(), Malformed> {
    let mut r = Body { bytes: body };
    let arg = usize::try_from(r.u64()?).map_err(|_| Malformed)?;
    let grand = r.totals()?;
    let n = r.len()?;
    let mut frames = Vec::with_capacity(n);
    for _ in 0..n {
        let name = r.bytes()?;
        let total = r.totals()?;
        frames.push(Frame { name, total });
    }
    let next = match r.take(1)?[0] {
        0 => None,
        1 => Some(r.bytes()?),
        _ => return Err(Malformed),
    };
    let finished = match r.take(1)?[0] {
        0 => false,
        1 => true,
        _ => return Err(Malformed),
    };
    r.ids(&mut saved.claims)?;
    r.ids(&mut saved.walked)?;
    r.end()?;
    saved.frontier = Frontier {
        arg,
        frames,
        next,
        grand,
        finished,
    };
    Ok(())
}

impl Saved {
    /// Read the checkpoint `file`: its last complete checkpoint (a torn
    /// last record, from a kill while it was written, is left out).
    pub fn read(file: &[u8]) -> Result<Saved, Refused> {
        let shown = crate::diag::quote(file);
        let mut bytes = Vec::new();
        File::open(crate::walk::os_path(file))
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| {
                Refused(format!(
                    "cannot read checkpoint {shown}: {}",
                    fdu_platform::Errno::from(e)
                ))
            })?;
        let foreign = || Refused(format!("{shown} is not an fdu checkpoint"));
        if bytes.len() < MAGIC.len() + 4 || &bytes[..MAGIC.len()] != MAGIC {
            return Err(foreign());
        }
        let format = u32::from_le_bytes(bytes[16..20].try_into().expect("4 bytes"));
        if format != FORMAT {
            return Err(Refused(format!(
                "{shown}: checkpoint format {format}, this fdu reads format {FORMAT}"
            )));
        }
        let corrupt = |at: usize| Refused(format!("{shown}: corrupt checkpoint (at byte {at})"));
        let mut at = MAGIC.len() + 4;
        let mut saved: Option<Saved> = None;
        // The lines up to the last checkpoint record.
        let mut lines_at_checkpoint = 0;
        loop {
            let left = bytes.len() - at;
            if left < RECORD_HEAD {
                break; // torn, or the end
            }
            let tag = bytes[at];
            let len = u64::from_le_bytes(bytes[at + 1..at + 9].try_into().expect("8 bytes"));
            let Some(end) = usize::try_from(len)
                .ok()
                .and_then(|len| (at + RECORD_HEAD).checked_add(len))
                .and_then(|e| e.checked_add(RECORD_TAIL))
                .filter(|&e| e <= bytes.len())
            else {
                break; // torn: its length runs past the end
            };
            let body_end = end - RECORD_TAIL;
            let hash = blake3::hash(&bytes[at..body_end]);
            if hash.as_bytes()[..] != bytes[body_end..end] {
                // The last record, torn; or, after a crash, appended
                // blocks that never reached the disk (zeros).
                if end == bytes.len() || bytes[at..].iter().all(|&b| b == 0) {
                    break;
                }
                return Err(corrupt(at));
            }
            let body = &bytes[at + RECORD_HEAD..body_end];
            match (tag, saved.as_mut()) {
                (HEADER, None) => {
                    let header = Header::parse(body).map_err(|_| corrupt(at))?;
                    if header.version != env!("CARGO_PKG_VERSION") {
                        return Err(Refused(format!(
                            "{shown}: checkpoint of fdu {}, this is fdu {}",
                            header.version,
                            env!("CARGO_PKG_VERSION")
                        )));
                    }
                    saved = Some(Saved {
                        header,
                        frontier: Frontier::default(),
                        claims: Vec::new(),
                        walked: Vec::new(),
                        len: end as u64,
                        lines: Vec::new(),
                        last_path: Vec::new(),
                    });
                }
                (LINES, Some(s)) => s.lines.extend_from_slice(body),
                (CHECKPOINT, Some(s)) => {
                    apply_checkpoint(body, s).map_err(|_| corrupt(at))?;
                    s.len = end as u64;
                    lines_at_checkpoint = s.lines.len();
                }
                _ => return Err(corrupt(at)),
            }
            at = end;
        }
        let mut saved = saved.ok_or_else(foreign)?;
        // Lines appended after the last checkpoint are printed again by
        // the resumed scan.
        saved.lines.truncate(lines_at_checkpoint);
        let mut check = Body {
            bytes: &saved.lines,
        };
        let mut path = Vec::new();
        while !check.bytes.is_empty() {
            if check.line(&mut path).is_err() {
                return Err(corrupt(at));
            }
        }
        saved.last_path = path;
        Ok(saved)
    }

    /// The lines printed before the checkpoint, in order: `line(totals,
    /// path)` for each.
    pub fn lines(&self, mut line: impl FnMut(&Totals, &[u8])) {
        let mut r = Body { bytes: &self.lines };
        let mut path = Vec::new();
        while let Ok(totals) = r.line(&mut path) {
            line(&totals, &path);
        }
    }

    /// What the resumed scan goes on from (taken out of `self`).
    pub fn start(&mut self) -> Start {
        Start {
            frontier: std::mem::take(&mut self.frontier),
            claims: std::mem::take(&mut self.claims),
            walked: std::mem::take(&mut self.walked),
        }
    }

    /// Entries counted before the checkpoint (in du's `--inodes` sense).
    pub fn carried(&self) -> u64 {
        let f = &self.frontier;
        f.grand.inodes + f.frames.iter().map(|fr| fr.total.inodes).sum::<u64>()
    }

    /// Entries that could not be read before the checkpoint (as counted
    /// in the totals).
    pub fn errors(&self) -> u64 {
        let f = &self.frontier;
        f.grand.errors + f.frames.iter().map(|fr| fr.total.errors).sum::<u64>()
    }
}

/// The checkpoint being written: lines as they are printed, a checkpoint
/// record every interval.
pub struct Journal {
    file: File,
    shown: String,
    interval: Duration,
    last: Instant,
    /// The `L` record being gathered.
    lines: Vec<u8>,
    /// The last line's path.
    path: Vec<u8>,
    claims: Vec<(u64, u64)>,
    walked: Vec<(u64, u64)>,
    /// Keep the directories finished (several arguments).
    keep_walked: bool,
    /// A write failed (reported): nothing more is written.
    failed: bool,
}

impl Journal {
    /// Start a checkpoint at `file` for the scan `header` describes: the
    /// header is written to `FILE.tmp` and renamed over `file`, so that
    /// `file` is whole whenever it exists. (It reaches the disk with the
    /// first checkpoint: until then, a crash loses no more than that
    /// interval.)
    pub fn create(file: &[u8], header: &Header) -> Result<Journal, String> {
        let shown = crate::diag::quote(file);
        let fail = |e: io::Error| {
            format!(
                "cannot write checkpoint {shown}: {}",
                fdu_platform::Errno::from(e)
            )
        };
        let mut tmp = file.to_vec();
        tmp.extend_from_slice(b".tmp");
        let mut f = File::create(crate::walk::os_path(&tmp)).map_err(fail)?;
        let mut head = MAGIC.to_vec();
        head.extend_from_slice(&FORMAT.to_le_bytes());
        head.extend_from_slice(&record(HEADER, &header.body()));
        f.write_all(&head)
            .and_then(|()| std::fs::rename(crate::walk::os_path(&tmp), crate::walk::os_path(file)))
            .map_err(|e| {
                let _ = std::fs::remove_file(crate::walk::os_path(&tmp));
                fail(e)
            })?;
        Ok(Journal::on(f, shown, header))
    }

    /// Go on with the checkpoint `saved` was read from (`file`): what
    /// follows its last checkpoint record is cut off.
    pub fn reopen(file: &[u8], saved: &Saved) -> Result<Journal, String> {
        let shown = crate::diag::quote(file);
        let fail = |e: io::Error| {
            format!(
                "cannot write checkpoint {shown}: {}",
                fdu_platform::Errno::from(e)
            )
        };
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(crate::walk::os_path(file))
            .map_err(fail)?;
        f.set_len(saved.len)
            .and_then(|()| f.seek(SeekFrom::End(0)).map(drop))
            .map_err(fail)?;
        let mut j = Journal::on(f, shown, &saved.header);
        j.path = saved.last_path.clone();
        Ok(j)
    }

    fn on(file: File, shown: String, header: &Header) -> Journal {
        Journal {
            file,
            shown,
            interval: header.interval,
            last: Instant::now(),
            lines: Vec::with_capacity(LINES_RECORD + (1 << 16)),
            path: Vec::new(),
            claims: Vec::new(),
            walked: Vec::new(),
            keep_walked: header.paths.len() > 1,
            failed: false,
        }
    }

    /// A line was printed.
    pub fn line(&mut self, totals: &Totals, path: &[u8]) {
        put_line(&mut self.lines, &mut self.path, totals, path);
        if self.lines.len() >= LINES_RECORD {
            self.write_lines();
        }
    }

    /// Append the lines gathered as an `L` record (unsynced); the buffer
    /// is kept for the next ones.
    fn write_lines(&mut self) {
        let (head, tail) = framing(LINES, &self.lines);
        let lines = std::mem::take(&mut self.lines);
        for part in [&head[..], &lines, &tail] {
            self.write(part);
        }
        self.lines = lines;
        self.lines.clear();
    }

    /// A file with several links was charged.
    pub fn claim(&mut self, id: (u64, u64)) {
        self.claims.push(id);
    }

    /// A directory is finished (kept only where one met twice is walked
    /// once: several arguments).
    pub fn walked(&mut self, id: (u64, u64)) {
        if self.keep_walked {
            self.walked.push(id);
        }
    }

    /// Whether a checkpoint is due.
    pub fn due(&self) -> bool {
        !self.failed && self.last.elapsed() >= self.interval
    }

    /// Whether a write failed (it was reported).
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Take a checkpoint at `frontier`: the lines gathered, then the
    /// checkpoint record, then sync.
    pub fn commit(&mut self, frontier: &Frontier) {
        self.append(frontier);
        if !self.failed {
            if let Err(e) = self.file.sync_data() {
                self.fail(e);
            }
        }
    }

    /// The last checkpoint, of a scan that is over: written, not synced
    /// (the one before it is, and a crash leaves that one).
    pub fn finish(&mut self, frontier: &Frontier) {
        self.append(frontier);
    }

    fn append(&mut self, frontier: &Frontier) {
        if self.failed {
            return;
        }
        if !self.lines.is_empty() {
            self.write_lines();
        }
        let mut b = Vec::new();
        put_u64(&mut b, frontier.arg as u64);
        put_totals(&mut b, &frontier.grand);
        put_u64(&mut b, frontier.frames.len() as u64);
        for f in &frontier.frames {
            put_bytes(&mut b, &f.name);
            put_totals(&mut b, &f.total);
        }
        match &frontier.next {
            Some(name) => {
                b.push(1);
                put_bytes(&mut b, name);
            }
            None => b.push(0),
        }
        b.push(u8::from(frontier.finished));
        put_ids(&mut b, &self.claims);
        put_ids(&mut b, &self.walked);
        self.write(&record(CHECKPOINT, &b));
        self.claims.clear();
        self.walked.clear();
        self.last = Instant::now();
    }

    fn write(&mut self, bytes: &[u8]) {
        if self.failed {
            return;
        }
        if let Err(e) = self.file.write_all(bytes) {
            self.fail(e);
        }
    }

    fn fail(&mut self, e: io::Error) {
        self.failed = true;
        crate::diag::report(&format!(
            "cannot write checkpoint {}: {}",
            self.shown,
            fdu_platform::Errno::from(e)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(disk: u64) -> Totals {
        Totals {
            disk,
            apparent: disk + 1,
            inodes: 3,
            ..Totals::default()
        }
    }

    fn header() -> Header {
        Header {
            version: env!("CARGO_PKG_VERSION").to_string(),
            cwd: b"/".to_vec(),
            argv: vec![b"-a".to_vec(), b"d".to_vec()],
            paths: vec![b"d".to_vec()],
            roots: vec![Some((1, 2))],
            interval: Duration::from_millis(1500),
        }
    }

    fn frontier(arg: usize) -> Frontier {
        Frontier {
            arg,
            frames: vec![Frame {
                name: b"d".to_vec(),
                total: t(7),
            }],
            next: Some(b"n\xff".to_vec()),
            grand: t(9),
            finished: false,
        }
    }

    #[test]
    fn reads_back_the_last_complete_checkpoint_and_drops_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ck");
        let file = path.to_str().unwrap().as_bytes();
        let mut j = Journal::create(file, &header()).unwrap();
        j.line(&t(1), b"d/a");
        j.claim((5, 6));
        j.commit(&frontier(0));
        let good = std::fs::metadata(&path).unwrap().len();
        j.line(&t(2), b"d/b");
        j.walked((7, 8));
        j.commit(&frontier(1));
        let full = std::fs::read(&path).unwrap();

        let saved = Saved::read(file).unwrap();
        assert_eq!(saved.header, header());
        assert_eq!(saved.frontier, frontier(1));
        assert_eq!(saved.claims, [(5, 6)]);
        assert!(saved.walked.is_empty(), "one argument keeps no directory");
        let mut lines = Vec::new();
        saved.lines(|t, p| lines.push((t.disk, p.to_vec())));
        assert_eq!(lines, [(1, b"d/a".to_vec()), (2, b"d/b".to_vec())]);

        // Every cut inside the last write falls back to the first checkpoint.
        for cut in good as usize..full.len() {
            std::fs::write(&path, &full[..cut]).unwrap();
            let saved = Saved::read(file).unwrap();
            assert_eq!(saved.frontier, frontier(0), "cut at {cut}");
            let mut n = 0;
            saved.lines(|_, _| n += 1);
            assert_eq!(n, 1, "cut at {cut}");
        }
        // Blocks appended but never written before a crash read as zeros.
        let mut zeros = full.clone();
        zeros.extend_from_slice(&[0; 300]);
        std::fs::write(&path, &zeros).unwrap();
        assert_eq!(Saved::read(file).unwrap().frontier, frontier(1));
        // A flipped byte before the last record is corruption, not a tear.
        let mut bad = full.clone();
        bad[30] ^= 1;
        std::fs::write(&path, &bad).unwrap();
        let e = Saved::read(file).err().unwrap().0;
        assert!(e.contains("corrupt checkpoint"), "{e}");
        std::fs::write(&path, b"[1,2,{}]").unwrap();
        let e = Saved::read(file).err().unwrap().0;
        assert!(e.ends_with("is not an fdu checkpoint"), "{e}");
    }

    #[test]
    fn reopening_cuts_what_follows_the_last_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ck");
        let file = path.to_str().unwrap().as_bytes();
        let mut j = Journal::create(file, &header()).unwrap();
        j.line(&t(1), b"d/a");
        j.commit(&frontier(0));
        // Lines written after it, never committed.
        j.line(&t(2), b"d/b");
        j.write_lines();
        drop(j);
        let saved = Saved::read(file).unwrap();
        let mut j = Journal::reopen(file, &saved).unwrap();
        j.line(&t(3), b"d/c");
        j.commit(&frontier(2));
        let saved = Saved::read(file).unwrap();
        let mut lines = Vec::new();
        saved.lines(|t, _| lines.push(t.disk));
        assert_eq!(lines, [1, 3]);
        assert_eq!(saved.frontier.arg, 2);
    }
}
