//! The `--dups` report: fdupes-style text, or one JSON document.
//!
//! Text: one block per group (its paths sorted by bytes, one per line),
//! a blank line between blocks, groups by wasted bytes (size times the
//! copies beyond the first) descending, then by size descending, then by
//! first path. With `--hardlinks`, a line `hard links:` and one block per
//! multiply-linked file follow. Last, after a blank line, the summary:
//! `N groups, M duplicate files, X reclaimable`.
use std::io::{self, Write};

use serde::Serialize;

use super::collect::Files;
use super::pipeline::Found;
use crate::units::{Suffix, Units};

/// One group of equal files; its paths are written when it is printed.
pub struct Group {
    /// Size of each file.
    pub size: u64,
    /// BLAKE3 of the contents.
    pub hash: blake3::Hash,
    /// Its files (indices into the files).
    members: Vec<u32>,
    /// Its first path by bytes.
    first: Vec<u8>,
}

impl Group {
    /// Bytes freed by keeping one copy.
    pub fn wasted(&self) -> u64 {
        self.size * (self.members.len() as u64 - 1)
    }
}

/// Paths back to back in one buffer, sorted by bytes.
struct Paths {
    bytes: Vec<u8>,
    spans: Vec<(usize, usize)>,
}

impl Paths {
    fn of(files: &Files, members: &[u32]) -> Paths {
        let mut path = Vec::new();
        let mut bytes = Vec::new();
        let mut spans = Vec::with_capacity(members.len());
        for &i in members {
            files.write_path(i as usize, &mut path);
            spans.push((bytes.len(), bytes.len() + path.len()));
            bytes.extend_from_slice(&path);
        }
        spans.sort_unstable_by(|a, b| bytes[a.0..a.1].cmp(&bytes[b.0..b.1]));
        Paths { bytes, spans }
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.spans.iter().map(|&(a, b)| &self.bytes[a..b])
    }
}

/// A multiply-linked file and its paths (with `--hardlinks`).
pub struct Linked {
    /// Its size.
    pub size: u64,
    /// Its paths, sorted.
    pub paths: Vec<Vec<u8>>,
}

/// Everything printed.
pub struct Report<'a> {
    files: &'a Files,
    /// Groups in print order.
    pub groups: Vec<Group>,
    /// Files with several links, each with its paths (with `--hardlinks`).
    pub hardlinks: Option<Vec<Linked>>,
    /// Files or directories that could not be read.
    pub errors: u64,
}

impl<'a> Report<'a> {
    /// Order the pipeline's sets for printing.
    pub fn new(files: &'a Files, found: Vec<Found>, hardlinks: bool, errors: u64) -> Self {
        let mut path = Vec::new();
        let mut groups: Vec<Group> = found
            .into_iter()
            .map(|f| {
                let mut first: Option<Vec<u8>> = None;
                for &i in &f.members {
                    files.write_path(i as usize, &mut path);
                    if first.as_ref().map_or(true, |p| path < *p) {
                        first = Some(path.clone());
                    }
                }
                Group {
                    size: f.size,
                    hash: f.hash,
                    members: f.members,
                    first: first.unwrap_or_default(),
                }
            })
            .collect();
        groups.sort_by(|a, b| (b.wasted(), b.size, &a.first).cmp(&(a.wasted(), a.size, &b.first)));
        let hardlinks = hardlinks.then(|| {
            let mut sets: Vec<Linked> = files
                .linked()
                .into_iter()
                .map(|(i, paths)| Linked {
                    size: files.all()[i].size,
                    paths,
                })
                .collect();
            sets.sort_by(|a, b| a.paths.cmp(&b.paths));
            sets
        });
        Report {
            files,
            groups,
            hardlinks,
            errors,
        }
    }

    /// Copies that could go: every file of a group but one.
    pub fn duplicate_files(&self) -> u64 {
        self.groups.iter().map(|g| g.members.len() as u64 - 1).sum()
    }

    /// Bytes those copies hold.
    pub fn reclaimable(&self) -> u64 {
        self.groups.iter().map(Group::wasted).sum()
    }

    /// The text report.
    pub fn write_text(&self, units: Units, out: &mut impl Write) -> io::Result<()> {
        let mut any = false;
        for g in &self.groups {
            write_block(out, &mut any, Paths::of(self.files, &g.members).iter())?;
        }
        if let Some(sets) = self.hardlinks.as_ref().filter(|s| !s.is_empty()) {
            if any {
                out.write_all(b"\n")?;
            }
            out.write_all(b"hard links:\n")?;
            let mut in_section = false;
            for set in sets {
                write_block(out, &mut in_section, set.paths.iter().map(Vec::as_slice))?;
            }
            any = true;
        }
        if any {
            out.write_all(b"\n")?;
        }
        out.write_all(self.summary(units).as_bytes())
    }

    /// `N groups, M duplicate files, X reclaimable`, in du's units.
    fn summary(&self, units: Units) -> String {
        let plural =
            |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut amount = Vec::new();
        units.format(self.reclaimable(), &mut amount);
        let amount = String::from_utf8_lossy(&amount);
        let amount = match units {
            Units::Blocks {
                size: 1,
                suffix: Suffix::None,
            } => format!("{amount} bytes reclaimable"),
            Units::Blocks {
                size,
                suffix: Suffix::None,
            } => format!("{amount} reclaimable ({size}-byte blocks)"),
            _ => format!("{amount} reclaimable"),
        };
        let mut line = format!(
            "{}, {}, {amount}",
            plural(self.groups.len() as u64, "group", "groups"),
            plural(self.duplicate_files(), "duplicate file", "duplicate files"),
        );
        if let Some(sets) = &self.hardlinks {
            line.push_str(&format!(
                ", {}",
                plural(sets.len() as u64, "hard-linked file", "hard-linked files")
            ));
        }
        line.push('\n');
        line
    }

    /// The JSON report: one document, one line, written group by group
    /// (only one group's paths are held at a time).
    pub fn write_json(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(b"{\"groups\":[")?;
        for (n, g) in self.groups.iter().enumerate() {
            if n > 0 {
                out.write_all(b",")?;
            }
            let (paths, paths_bytes) = json_paths(Paths::of(self.files, &g.members).iter());
            let group = JsonGroup {
                size: g.size,
                hash: g.hash.to_hex().to_string(),
                paths,
                paths_bytes,
            };
            serde_json::to_writer(&mut *out, &group).map_err(io::Error::from)?;
        }
        out.write_all(b"]")?;
        if let Some(sets) = &self.hardlinks {
            let links: Vec<JsonLinks> = sets
                .iter()
                .map(|set| {
                    let (paths, paths_bytes) = json_paths(set.paths.iter().map(Vec::as_slice));
                    JsonLinks {
                        size: set.size,
                        paths,
                        paths_bytes,
                    }
                })
                .collect();
            out.write_all(b",\"hardlinks\":")?;
            serde_json::to_writer(&mut *out, &links).map_err(io::Error::from)?;
        }
        let totals = JsonTotals {
            groups: self.groups.len() as u64,
            duplicate_files: self.duplicate_files(),
            reclaimable_bytes: self.reclaimable(),
            errors: self.errors,
        };
        out.write_all(b",\"totals\":")?;
        serde_json::to_writer(&mut *out, &totals).map_err(io::Error::from)?;
        out.write_all(b"}\n")
    }
}

/// Paths one per line, after a blank line unless this is the first block.
fn write_block<'p>(
    out: &mut impl Write,
    any: &mut bool,
    paths: impl Iterator<Item = &'p [u8]>,
) -> io::Result<()> {
    if *any {
        out.write_all(b"\n")?;
    }
    *any = true;
    for p in paths {
        out.write_all(p)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Paths as JSON strings (invalid UTF-8 replaced by U+FFFD), and, when one
/// of them is not UTF-8, every path's exact bytes.
fn json_paths<'p>(paths: impl Iterator<Item = &'p [u8]>) -> (Vec<String>, Option<Vec<Vec<u8>>>) {
    let paths: Vec<&[u8]> = paths.collect();
    let text = paths
        .iter()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    let exact = paths
        .iter()
        .any(|p| std::str::from_utf8(p).is_err())
        .then(|| paths.iter().map(|p| p.to_vec()).collect());
    (text, exact)
}

#[derive(Serialize)]
struct JsonGroup {
    size: u64,
    hash: String,
    paths: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    paths_bytes: Option<Vec<Vec<u8>>>,
}

#[derive(Serialize)]
struct JsonLinks {
    size: u64,
    paths: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    paths_bytes: Option<Vec<Vec<u8>>>,
}

#[derive(Serialize)]
struct JsonTotals {
    groups: u64,
    duplicate_files: u64,
    reclaimable_bytes: u64,
    errors: u64,
}
