//! `--format json` (`--json`): the tree as one JSON document, exact bytes.
//!
//! One object, on one line:
//!
//! ```text
//! {"fdu_version":"0.1.0","arguments":["t"],"max_depth":1,"all":false,
//!  "separate_dirs":false,"count_links":false,
//!  "total":{"disk_bytes":..,"apparent_bytes":..,"files":..,"directories":..,"errors":..},
//!  "errors":0,
//!  "scan":{"backend":"linux","threads":16,"entries":..,"duration_seconds":..,"timestamp_seconds":..},
//!  "roots":[{"name":"t","path":"t","type":"directory","disk_bytes":..,"apparent_bytes":..,
//!            "files":..,"directories":..,"errors":..,"children":[..]}]}
//! ```
//!
//! Nodes are the lines du would print for the same `-d`/`-s`/`-a`/`-S`
//! (depth 0 when none of them is given), nested: a directory above the
//! depth limit has `children` (its printed children in byte order of their
//! names, possibly none); a file, or a directory at the limit, has none.
//! Totals are du's (`-S` and `-l` included) in every measure at once,
//! whatever `-h`, `-B`, `--apparent-size` or `--inodes` say. A name or
//! path that is not UTF-8 is written with U+FFFD in place of its invalid
//! bytes, and its exact bytes follow as an array of numbers (`name_bytes`,
//! `path_bytes`; `arguments_bytes` for the arguments), as `--dups --json`
//! does. With `--time[=WORD]`, `mtime` (`atime`, `ctime`) in seconds since
//! the epoch and `mtime_nsec` are added to every node and the total.
use std::io::{self, Write};

use crate::config::Config;
use crate::output::ScanFacts;
use crate::tree::{join, Index, NodeKind, Stamp, Totals, Tree};

/// Print `tree` as one JSON document to `out`. Returns whether a write
/// failed for another reason than a reader that went away (reported).
pub fn print(config: &Config, tree: &Tree, facts: &ScanFacts, mut out: impl Write) -> bool {
    let mut doc = Document {
        out: &mut out,
        config,
        tree,
        time: config
            .time
            .as_ref()
            .map(|t| crate::output::time_name(t.kind)),
    };
    match doc.write(facts).and_then(|()| out.flush()) {
        Ok(()) => false,
        Err(e) => crate::output::write_failed(&e),
    }
}

/// `"key":"text"` for `bytes`; when they are not UTF-8, `text` has U+FFFD
/// in place of the invalid bytes and `,"key_bytes":[..]` follows with the
/// exact bytes as numbers.
pub fn bytes_field(out: &mut impl Write, key: &str, bytes: &[u8]) -> io::Result<()> {
    fn pair(out: &mut impl Write, key: &str, value: &impl serde::Serialize) -> io::Result<()> {
        serde_json::to_writer(&mut *out, key)?;
        out.write_all(b":")?;
        serde_json::to_writer(out, value).map_err(io::Error::from)
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => pair(out, key, &text),
        Err(_) => {
            pair(out, key, &String::from_utf8_lossy(bytes))?;
            out.write_all(b",")?;
            pair(out, &format!("{key}_bytes"), &bytes)
        }
    }
}

struct Document<'a, W: Write> {
    out: W,
    config: &'a Config,
    tree: &'a Tree,
    /// The time field's name with `--time`.
    time: Option<&'static str>,
}

impl<W: Write> Document<'_, W> {
    fn raw(&mut self, text: &str) -> io::Result<()> {
        self.out.write_all(text.as_bytes())
    }

    fn value(&mut self, value: &impl serde::Serialize) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, value).map_err(io::Error::from)
    }

    /// `"key":value`, after a comma.
    fn field(&mut self, key: &str, value: &impl serde::Serialize) -> io::Result<()> {
        self.raw(",")?;
        self.first_field(key, value)
    }

    /// `"key":value`.
    fn first_field(&mut self, key: &str, value: &impl serde::Serialize) -> io::Result<()> {
        self.value(&key)?;
        self.raw(":")?;
        self.value(value)
    }

    /// `"key":"text"` (after a comma unless `first`) and, when `bytes` is
    /// not UTF-8, `,"key_bytes":[..]`.
    fn bytes_field(&mut self, key: &str, bytes: &[u8], first: bool) -> io::Result<()> {
        if !first {
            self.raw(",")?;
        }
        bytes_field(&mut self.out, key, bytes)
    }

    /// The measures of `totals` (after a comma unless `first`).
    fn totals(&mut self, totals: &Totals, first: bool) -> io::Result<()> {
        if !first {
            self.raw(",")?;
        }
        self.first_field("disk_bytes", &totals.disk)?;
        self.field("apparent_bytes", &totals.apparent)?;
        self.field("files", &totals.files())?;
        self.field("directories", &totals.dirs)?;
        self.field("errors", &totals.errors)?;
        if let Some(name) = self.time {
            let (sec, nsec) = match totals.time {
                Stamp::MIN => (None, None),
                t => (Some(t.sec), Some(t.nsec)),
            };
            self.field(name, &sec)?;
            self.field(&format!("{name}_nsec"), &nsec)?;
        }
        Ok(())
    }

    fn write(&mut self, facts: &ScanFacts) -> io::Result<()> {
        let config = self.config;
        let tree = self.tree;
        let scan = &config.scan;
        self.raw("{")?;
        self.first_field("fdu_version", &env!("CARGO_PKG_VERSION"))?;
        // The paths scanned; read from an export (`-f`), its root's name.
        let paths: Vec<Vec<u8>> = match config.import {
            Some(_) => tree
                .roots()
                .iter()
                .map(|&r| tree.name(r).to_vec())
                .collect(),
            None => config.paths.clone(),
        };
        let arguments: Vec<String> = paths
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        self.field("arguments", &arguments)?;
        if paths.iter().any(|p| std::str::from_utf8(p).is_err()) {
            self.field("arguments_bytes", &paths)?;
        }
        let depth = (scan.max_depth != usize::MAX).then_some(scan.max_depth);
        self.field("max_depth", &depth)?;
        self.field("all", &scan.all)?;
        self.field("separate_dirs", &scan.separate_dirs)?;
        self.field("count_links", &scan.count_links)?;
        self.raw(",\"total\":{")?;
        let grand = *tree.grand_total();
        self.totals(&grand, true)?;
        self.raw("}")?;
        self.field("errors", &facts.errors)?;
        self.raw(",\"scan\":{")?;
        self.first_field("backend", &facts.backend)?;
        self.field("threads", &facts.threads)?;
        self.field("entries", &facts.entries)?;
        self.field("duration_seconds", &facts.duration.as_secs_f64())?;
        self.field("timestamp_seconds", &facts.timestamp())?;
        self.raw("},\"roots\":[")?;
        let mut first = true;
        for &root in tree.roots() {
            if tree.printed(root) {
                if !first {
                    self.raw(",")?;
                }
                first = false;
                self.subtree(root)?;
            }
        }
        self.raw("]}\n")
    }

    /// Whether a node lists its children: a directory above the depth
    /// limit.
    fn expanded(&self, node: Index, depth: usize) -> bool {
        let tree = self.tree;
        let dir = match tree.kind(node) {
            NodeKind::Root => tree.total(node).dirs > 0,
            NodeKind::Dir | NodeKind::DeepDir => true,
            NodeKind::File => false,
        };
        dir && depth < self.config.scan.max_depth
    }

    /// A root and everything printed below it.
    fn subtree(&mut self, root: Index) -> io::Result<()> {
        let tree = self.tree;
        let mut path = tree.name(root).to_vec();
        if !self.node(root, &path, 0)? {
            return Ok(());
        }
        // (node, next child, any child written yet, path length before it)
        let mut stack: Vec<(Index, usize, bool, usize)> = vec![(root, 0, false, 0)];
        while let Some(top) = stack.last_mut() {
            let (node, next, any, saved) = *top;
            let kids = tree.children(node);
            match kids[next..].iter().position(|&k| tree.printed(k)) {
                Some(skip) => {
                    let child = kids[next + skip];
                    top.1 = next + skip + 1;
                    top.2 = true;
                    if any {
                        self.raw(",")?;
                    }
                    let before = path.len();
                    join(&mut path, tree.name(child));
                    if self.node(child, &path, stack.len())? {
                        stack.push((child, 0, false, before));
                    } else {
                        path.truncate(before);
                    }
                }
                None => {
                    self.raw("]}")?;
                    stack.pop();
                    path.truncate(saved);
                }
            }
        }
        Ok(())
    }

    /// A node's fields; for an expanded node `"children":[` is left open
    /// and `true` returned.
    fn node(&mut self, node: Index, path: &[u8], depth: usize) -> io::Result<bool> {
        let tree = self.tree;
        let totals = *tree.total(node);
        let kind = match tree.kind(node) {
            NodeKind::File => "file",
            NodeKind::Root if totals.dirs == 0 => "file",
            _ => "directory",
        };
        self.raw("{")?;
        self.bytes_field("name", tree.name(node), true)?;
        self.bytes_field("path", path, false)?;
        self.field("type", &kind)?;
        self.totals(&totals, false)?;
        if self.expanded(node, depth) {
            self.raw(",\"children\":[")?;
            Ok(true)
        } else {
            self.raw("}")?;
            Ok(false)
        }
    }
}
