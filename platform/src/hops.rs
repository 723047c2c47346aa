//! Counting the symbolic links a path walk follows, as the kernel does.
//!
//! Linux follows at most [`MAX_HOPS`] symbolic links while it resolves one
//! path (`MAXSYMLINKS` in `fs/namei.c`), nested links inside link targets
//! included; the next one fails with `ELOOP`. GNU du under `-L` stats every
//! entry by its full path from the argument, so a chain of directory
//! symlinks (`1/s -> ../2`, `2/s -> ../3`, ...) fails for du at the 41st
//! link even though each step, taken relative to its own directory, is one
//! link. A scan that works relative to directory fds keeps the count itself:
//! a directory's count is its parent's plus the links followed to resolve
//! its name there, which `count_hops` works out one component at a time,
//! the way `link_path_walk` does.

use crate::Errno;

/// Symbolic links one path resolution may follow (Linux's `MAXSYMLINKS`).
pub const MAX_HOPS: u32 = 40;

/// How [`count_hops`] looks at the file system: relative to one base (a
/// directory fd, or the working directory), with paths as bytes.
pub(crate) trait Resolver {
    /// Whether `path` names a symbolic link (not followed).
    fn is_symlink(&mut self, path: &[u8]) -> Result<bool, Errno>;
    /// The target of the symbolic link `path`.
    fn read_link(&mut self, path: &[u8]) -> Result<Vec<u8>, Errno>;
}

/// The symbolic links followed to resolve `path` (following the last
/// component too), or `ELOOP` past [`MAX_HOPS`].
///
/// Components already resolved are real directories, so a `..` after them
/// is kept as text: the kernel takes it from the same place.
pub(crate) fn count_hops(path: &[u8], fs: &mut impl Resolver) -> Result<u32, Errno> {
    let mut done: Vec<u8> = Vec::new();
    if path.first() == Some(&b'/') {
        done.push(b'/');
    }
    // Components still to resolve, last first (so `pop` takes the next).
    let mut todo: Vec<Vec<u8>> = components(path).rev().map(<[u8]>::to_vec).collect();
    let mut hops = 0u32;
    let mut candidate = Vec::new();
    while let Some(component) = todo.pop() {
        candidate.clear();
        candidate.extend_from_slice(&done);
        if !candidate.is_empty() && candidate.last() != Some(&b'/') {
            candidate.push(b'/');
        }
        candidate.extend_from_slice(&component);
        if component != b".." && fs.is_symlink(&candidate)? {
            hops += 1;
            if hops > MAX_HOPS {
                return Err(Errno::LOOP);
            }
            let target = fs.read_link(&candidate)?;
            if target.first() == Some(&b'/') {
                done.clear();
                done.push(b'/');
            }
            todo.extend(components(&target).rev().map(<[u8]>::to_vec));
        } else {
            std::mem::swap(&mut done, &mut candidate);
        }
    }
    Ok(hops)
}

/// The components of `path` that move: not empty, not `.`.
fn components(path: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A file system of symlinks only: everything else is a directory.
    struct Links(HashMap<Vec<u8>, Vec<u8>>);

    impl Resolver for Links {
        fn is_symlink(&mut self, path: &[u8]) -> Result<bool, Errno> {
            Ok(self.0.contains_key(path))
        }
        fn read_link(&mut self, path: &[u8]) -> Result<Vec<u8>, Errno> {
            Ok(self.0[path].clone())
        }
    }

    fn links(pairs: &[(&str, &str)]) -> Links {
        Links(
            pairs
                .iter()
                .map(|(a, b)| (a.as_bytes().to_vec(), b.as_bytes().to_vec()))
                .collect(),
        )
    }

    #[test]
    fn counts_links_in_the_path_and_inside_targets() {
        let mut fs = links(&[("s", "d/t"), ("d/t", "../e"), ("abs", "/x")]);
        assert_eq!(count_hops(b"plain/dir", &mut fs), Ok(0));
        assert_eq!(count_hops(b"d/t", &mut fs), Ok(1));
        assert_eq!(count_hops(b"s", &mut fs), Ok(2));
        assert_eq!(count_hops(b"./s/", &mut fs), Ok(2));
        assert_eq!(count_hops(b"abs", &mut fs), Ok(1));
    }

    #[test]
    fn a_chain_fails_past_forty() {
        let mut pairs = Vec::new();
        let names: Vec<String> = (0..50).map(|i| format!("l{i}")).collect();
        let targets: Vec<String> = (1..=50).map(|i| format!("l{i}")).collect();
        for (a, b) in names.iter().zip(&targets) {
            pairs.push((a.as_str(), b.as_str()));
        }
        let mut fs = links(&pairs);
        assert_eq!(count_hops(b"l10", &mut fs), Ok(40));
        assert_eq!(count_hops(b"l9", &mut fs), Err(Errno::LOOP));
    }
}
