//! `fdu -f FILE`: a report from an export (fdu's, ncdu's or gdu's) instead
//! of a scan, counted by du's rules as a scan of the same tree would be.
//!
//! The export is read as a stream ([`crate::export::read`]) and each entry
//! given to du's count ([`crate::count`]) as the walker would give it: so
//! `-s`, `-d`, `-a`, `-S`, `-l`, `--inodes`, `--apparent-size` and the
//! outputs built on the tree mean what they mean for a scan, and memory is
//! what the retained nodes need, never the file. An excluded entry is not
//! counted (as du does not count it); one that could not be read is
//! reported and makes the exit status 1.
//!
//! What an export cannot tell: a file with one link carries no inode
//! number (it needs none: it is counted once), and gdu marks only the
//! second and later links of a file, so a tree exported by gdu counts a
//! file's first link apart from the others.
use std::io::{self, BufReader, Read};

use fdu_platform::{Kind, Meta};

use crate::count::Count;
use crate::diag::{self, ErrorSink, ExitStatus, Failed, ScanError};
use crate::export::read::{Event, Reader};
use crate::export::Entry;
use crate::scan::Report;
use crate::tree::{join, NodeId};
use crate::visit::{Step, Visit, Visitor};
use crate::walk::{Args, ScanOptions, ScanOutcome};

/// Inode numbers given to entries without one: above any real one, so an
/// entry with several links never meets them.
const SYNTHETIC_INO: u64 = 1 << 63;

/// The stat an entry stands for.
fn meta_of(entry: &Entry, kind: Kind, synthetic: &mut u64) -> Meta {
    let linked = entry.hlnkc && kind != Kind::Dir;
    let ino = match entry.ino {
        Some(ino) if linked => ino,
        _ => {
            *synthetic += 1;
            SYNTHETIC_INO | *synthetic
        }
    };
    Meta {
        kind,
        dev: entry.dev,
        ino,
        nlink: if linked {
            u64::from(entry.nlink.unwrap_or(2).max(2))
        } else {
            1
        },
        size: entry.asize,
        blocks: entry.dsize.div_ceil(512),
        mtime: entry.mtime.unwrap_or(i64::MIN),
        mtime_nsec: 0,
        atime: 0,
        atime_nsec: 0,
        ctime: 0,
        ctime_nsec: 0,
        mode: entry.mode.unwrap_or(0),
        uid: entry.uid.unwrap_or(0),
        gid: entry.gid.unwrap_or(0),
    }
}

/// Read the export `file` (`-` for stdin) and count it with `opts`,
/// reporting entries marked unreadable to `errors`. A file that cannot be
/// opened or read, or is not an export, is reported (naming the file, and
/// the byte offset where it went wrong) and gives exit status 2.
pub fn read(file: &[u8], opts: &ScanOptions, errors: &dyn ErrorSink) -> Result<Report, ExitStatus> {
    let shown = String::from_utf8_lossy(file).into_owned();
    let input: Box<dyn Read> = if file == b"-" {
        Box::new(io::stdin().lock())
    } else {
        match std::fs::File::open(crate::walk::os_path(file)) {
            Ok(f) => Box::new(f),
            Err(e) => {
                diag::report(&format!(
                    "cannot read {}: {}",
                    diag::quote(file),
                    fdu_platform::Errno::from_io(&e)
                ));
                return Err(ExitStatus::Usage);
            }
        }
    };
    let mut reader = match Reader::new(BufReader::with_capacity(256 << 10, input), shown) {
        Ok(r) => r,
        Err(e) => {
            diag::report(&e.to_string());
            return Err(ExitStatus::Usage);
        }
    };
    let mut outcome = ScanOutcome::default();
    let mut synthetic = 0u64;
    // The export's root is the one argument; a scan stats it first.
    let root = match reader.next() {
        Ok(Some(Event::Dir(entry))) => entry.clone(),
        Ok(_) => unreachable!("the reader's first event is the root directory"),
        Err(e) => {
            diag::report(&e.to_string());
            return Err(ExitStatus::Usage);
        }
    };
    let root_meta = meta_of(&root, Kind::Dir, &mut synthetic);
    let args = Args {
        args: vec![(root.name.clone(), Ok(root_meta))],
    };
    let count = Count::new(opts, &args);
    let mut counter = count.worker(0);
    let fail = |counter: &mut crate::count::Counter<'_>,
                outcome: &mut ScanOutcome,
                at: NodeId,
                path: Vec<u8>,
                failed: Failed| {
        outcome.errors += 1;
        let error = ScanError {
            path,
            failed,
            errno: None,
        };
        counter.error(Some(&at), &error);
        errors.error(&error);
    };
    // The open directories: their node (`None` inside an excluded one) and
    // the length of the path before their name.
    let mut stack: Vec<(Option<NodeId>, usize)> = Vec::new();
    let mut path: Vec<u8> = root.name.clone();
    match counter.root(0, &root.name, &root_meta) {
        Step::Descend(node) => {
            stack.push((Some(node), 0));
            if root.read_error {
                fail(&mut counter, &mut outcome, node, path.clone(), Failed::Read);
            }
        }
        Step::Skip => unreachable!("du's count walks a directory argument"),
    }
    outcome.sum.entries = 1;
    outcome.sum.dirs = 1;
    loop {
        let event = match reader.next() {
            Ok(Some(event)) => event,
            Ok(None) => break,
            Err(e) => {
                diag::report(&e.to_string());
                return Err(ExitStatus::Usage);
            }
        };
        match event {
            Event::EndDir => {
                let (_, before) = stack.pop().expect("the reader balances directories");
                path.truncate(before);
                counter.end_batch();
            }
            Event::Dir(entry) | Event::File(entry) => {
                let is_dir = matches!(event, Event::Dir(_));
                let (parent, _) = *stack.last().expect("entries are inside the root");
                let before = path.len();
                join(&mut path, &entry.name);
                let node = match parent {
                    Some(parent) if entry.excluded.is_none() => {
                        let kind = match (is_dir, entry.notreg) {
                            (true, _) => Kind::Dir,
                            (false, false) => Kind::File,
                            (false, true) => Kind::Other,
                        };
                        let meta = meta_of(entry, kind, &mut synthetic);
                        outcome.sum.entries += 1;
                        outcome.sum.dirs += u64::from(is_dir);
                        let depth = stack.len();
                        match counter.place(parent, depth, &entry.name, &meta) {
                            Step::Descend(node) => Some(node),
                            Step::Skip => None,
                        }
                    }
                    _ => None,
                };
                if entry.read_error && parent.is_some() && entry.excluded.is_none() {
                    match (is_dir, node, parent) {
                        (true, Some(node), _) => {
                            fail(&mut counter, &mut outcome, node, path.clone(), Failed::Read)
                        }
                        (_, _, Some(parent)) => fail(
                            &mut counter,
                            &mut outcome,
                            parent,
                            path.clone(),
                            Failed::Access,
                        ),
                        _ => {}
                    }
                }
                if is_dir {
                    stack.push((node, before));
                } else {
                    path.truncate(before);
                }
            }
        }
    }
    counter.end_batch();
    outcome.sum.errors = outcome.errors;
    let tree = count.finish(vec![counter]);
    Ok(Report {
        tree,
        outcome,
        ran: fdu_platform::BackendKind::Std,
        ring: None,
    })
}
