//! The std backend: `std::fs` on full paths.
//!
//! It builds and runs wherever Rust's standard library does (macOS,
//! Windows), and on Linux it is selectable with `--backend std` so that the
//! raw-syscall backends are tested against it. Being path based, it cannot
//! reach entries whose path is longer than the system allows (`PATH_MAX`,
//! 4096 bytes on Linux): those are reported as errors, never miscounted.
use std::ffi::{CStr, OsStr};
use std::fs::{self, ReadDir};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::{Backend, Errno, Follow, Kind, Listing, Meta};

/// `std::fs` on full paths.
#[derive(Clone, Copy, Default, Debug)]
pub struct StdBackend;

/// An open directory: its full path and the listing opened with it, so that
/// an unreadable directory fails when opened, as with a real `openat`.
pub struct StdDir {
    path: PathBuf,
    listing: Mutex<Option<ReadDir>>,
}

#[cfg(unix)]
fn os_name(name: &CStr) -> &OsStr {
    std::os::unix::ffi::OsStrExt::from_bytes(name.to_bytes())
}

#[cfg(not(unix))]
fn os_name(name: &CStr) -> &OsStr {
    // Names come from `list`, which only passes valid UTF-8 on these platforms.
    OsStr::new(name.to_str().unwrap_or_default())
}

#[cfg(unix)]
fn name_bytes(name: &OsStr) -> Vec<u8> {
    std::os::unix::ffi::OsStrExt::as_bytes(name).to_vec()
}

#[cfg(not(unix))]
fn name_bytes(name: &OsStr) -> Vec<u8> {
    name.to_string_lossy().into_owned().into_bytes()
}

pub(crate) fn meta_of(md: &fs::Metadata) -> Meta {
    let ft = md.file_type();
    let kind = if ft.is_dir() {
        Kind::Dir
    } else if ft.is_file() {
        Kind::File
    } else if ft.is_symlink() {
        Kind::Symlink
    } else {
        Kind::Other
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Meta {
            kind,
            dev: md.dev(),
            ino: md.ino(),
            nlink: md.nlink(),
            size: md.size(),
            blocks: md.blocks(),
            mtime: md.mtime(),
            mtime_nsec: u32::try_from(md.mtime_nsec()).unwrap_or(0),
            atime: md.atime(),
            atime_nsec: u32::try_from(md.atime_nsec()).unwrap_or(0),
            ctime: md.ctime(),
            ctime_nsec: u32::try_from(md.ctime_nsec()).unwrap_or(0),
            mode: md.mode(),
            uid: md.uid(),
            gid: md.gid(),
        }
    }
    #[cfg(not(unix))]
    {
        let since = md
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .unwrap_or_default();
        Meta {
            kind,
            dev: 0,
            ino: 0,
            nlink: 1,
            size: md.len(),
            blocks: md.len().div_ceil(512),
            mtime: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            mtime_nsec: since.subsec_nanos(),
            atime: 0,
            atime_nsec: 0,
            ctime: 0,
            ctime_nsec: 0,
            mode: 0,
            uid: 0,
            gid: 0,
        }
    }
}

fn stat(path: &Path, follow: Follow) -> Result<Meta, Errno> {
    let md = match follow {
        Follow::No => fs::symlink_metadata(path),
        Follow::Yes => fs::metadata(path),
    };
    Ok(meta_of(&md?))
}

fn open(path: PathBuf, follow: Follow) -> Result<StdDir, Errno> {
    if follow == Follow::No && fs::symlink_metadata(&path)?.file_type().is_symlink() {
        return Err(Errno::LOOP);
    }
    let listing = fs::read_dir(&path)?;
    Ok(StdDir {
        path,
        listing: Mutex::new(Some(listing)),
    })
}

/// [`crate::hops::Resolver`] on paths below a base directory.
struct PathResolver<'p>(&'p Path);

#[cfg(unix)]
fn bytes_path(bytes: &[u8]) -> &Path {
    Path::new(<OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(bytes))
}

#[cfg(not(unix))]
fn bytes_path(bytes: &[u8]) -> &Path {
    Path::new(std::str::from_utf8(bytes).unwrap_or_default())
}

impl crate::hops::Resolver for PathResolver<'_> {
    fn is_symlink(&mut self, path: &[u8]) -> Result<bool, Errno> {
        let md = fs::symlink_metadata(self.0.join(bytes_path(path)))?;
        Ok(md.file_type().is_symlink())
    }

    fn read_link(&mut self, path: &[u8]) -> Result<Vec<u8>, Errno> {
        let target = fs::read_link(self.0.join(bytes_path(path)))?;
        Ok(name_bytes(target.as_os_str()))
    }
}

impl Backend for StdBackend {
    type Dir = StdDir;
    type Lister = ();

    fn symlink_hops(&self, dir: &StdDir, name: &CStr) -> Result<u32, Errno> {
        crate::hops::count_hops(name.to_bytes(), &mut PathResolver(&dir.path))
    }

    fn path_hops(&self, path: &Path) -> Result<u32, Errno> {
        let bytes = name_bytes(path.as_os_str());
        crate::hops::count_hops(&bytes, &mut PathResolver(Path::new("")))
    }

    fn lister(&self) {}

    fn stat_path(&self, path: &Path, follow: Follow) -> Result<Meta, Errno> {
        stat(path, follow)
    }

    fn open_path(&self, path: &Path) -> Result<StdDir, Errno> {
        open(path.to_path_buf(), Follow::Yes)
    }

    fn open_at(&self, parent: &StdDir, name: &CStr, follow: Follow) -> Result<StdDir, Errno> {
        open(parent.path.join(os_name(name)), follow)
    }

    fn stat_at(&self, dir: &StdDir, name: &CStr, follow: Follow) -> Result<Meta, Errno> {
        stat(&dir.path.join(os_name(name)), follow)
    }

    fn list(&self, dir: &StdDir, _: &mut (), mut each: impl FnMut(&CStr)) -> Listing {
        let mut result = Listing::default();
        let listing = dir
            .listing
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        let Some(listing) = listing else {
            return result;
        };
        let mut name = Vec::new();
        for entry in listing {
            result.reads += 1;
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    result.error = Some(e.into());
                    break;
                }
            };
            name.clear();
            name.extend_from_slice(&name_bytes(&entry.file_name()));
            name.push(0);
            if let Ok(c) = CStr::from_bytes_with_nul(&name) {
                each(c);
            }
        }
        result
    }
}
