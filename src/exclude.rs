//! `--exclude=GLOB`, matched as du matches it.
//!
//! du (gnulib `exclude_fnmatch` with `EXCLUDE_WILDCARDS`) tests a pattern
//! against the entry's whole printed path and against every suffix that
//! starts after a `/`; `*` and `?` also match `/`. So `--exclude=node_modules`
//! prunes every directory of that name, and `--exclude='*.o'` every object
//! file. A pruned directory is neither counted nor descended into.
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use std::path::Path;

/// A compiled set of `--exclude` patterns.
#[derive(Clone, Debug)]
pub struct Exclude {
    set: GlobSet,
}

impl Exclude {
    /// Compile the patterns; an invalid one is named in the error.
    pub fn new(patterns: &[String]) -> Result<Exclude, String> {
        let mut builder = GlobSetBuilder::new();
        for pattern in patterns {
            let glob = GlobBuilder::new(pattern)
                .literal_separator(false)
                .backslash_escape(true)
                .build()
                .map_err(|e| format!("invalid --exclude pattern '{pattern}': {}", e.kind()))?;
            builder.add(glob);
        }
        let set = builder.build().map_err(|e| e.to_string())?;
        Ok(Exclude { set })
    }

    fn matches_one(&self, path: &[u8]) -> bool {
        self.set.is_match(as_path(path))
    }

    /// Whether the entry printed as `path` is excluded.
    pub fn matches(&self, path: &[u8]) -> bool {
        if self.matches_one(path) {
            return true;
        }
        (0..path.len()).any(|i| {
            path[i] == b'/'
                && i + 1 < path.len()
                && path[i + 1] != b'/'
                && self.matches_one(&path[i + 1..])
        })
    }
}

#[cfg(unix)]
fn as_path(bytes: &[u8]) -> &Path {
    Path::new(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(bytes))
}

#[cfg(not(unix))]
fn as_path(bytes: &[u8]) -> &Path {
    Path::new(std::str::from_utf8(bytes).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::Exclude;

    fn ex(p: &str) -> Exclude {
        Exclude::new(&[p.to_string()]).unwrap()
    }

    #[test]
    fn matches_any_suffix_after_a_slash() {
        assert!(ex("b").matches(b"a/b"));
        assert!(!ex("b").matches(b"a/bc"));
        assert!(ex("*.o").matches(b"./x/y.o"));
        assert!(ex("x/y").matches(b"root/x/y"));
        assert!(ex("a*z").matches(b"r/ab/xz"));
        assert!(ex("*").matches(b"anything"));
        assert!(!ex("c").matches(b"a/b"));
    }
}
