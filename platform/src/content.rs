//! Reading the contents of regular files, for `fdu --dups`.
//!
//! A [`Content`] is one open file. Its bytes are read with `pread` into the
//! caller's buffer, or, for long ranges, mapped in windows (see
//! [`mapped`](crate::mapped)) so that no copy is made; either way they are
//! passed to a callback, and a file that turns out shorter than expected is
//! reported as [`ReadError::Changed`], never as data.
use std::fs::File;
use std::path::Path;

use crate::{Errno, Meta};

/// Why bytes could not be read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReadError {
    /// The system refused (`EACCES`, `EIO`...).
    Io(Errno),
    /// The file ended early or was truncated while mapped: it changed.
    Changed,
}

impl From<Errno> for ReadError {
    fn from(e: Errno) -> ReadError {
        ReadError::Io(e)
    }
}

/// How [`Content::feed`] reads a range.
#[derive(Clone, Copy, Debug)]
pub struct FeedPlan {
    /// Map ranges at least this long (`u64::MAX`: never map).
    pub map_from: u64,
    /// Bytes mapped at once (each window is unmapped before the next).
    pub window: usize,
}

/// A regular file opened for reading its contents.
#[derive(Debug)]
pub struct Content {
    file: File,
}

impl Content {
    /// Open `path` read-only. `O_NONBLOCK` and `O_NOCTTY`, so that a path
    /// that became a FIFO or a terminal since it was stat'ed cannot hang or
    /// adopt fdu ([open(2)](https://man7.org/linux/man-pages/man2/open.2.html));
    /// the caller's stat comparison then leaves it out.
    pub fn open(path: &Path) -> Result<Content, Errno> {
        let mut options = std::fs::OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
        }
        Ok(Content {
            file: options.open(path)?,
        })
    }

    /// `fstat` of the open file
    /// ([fstat(2)](https://man7.org/linux/man-pages/man2/fstat.2.html)).
    pub fn stat(&self) -> Result<Meta, Errno> {
        Ok(crate::stdfs::meta_of(&self.file.metadata()?))
    }

    /// Fill `buf` from `offset`
    /// ([pread(2)](https://man7.org/linux/man-pages/man2/pread.2.html));
    /// [`ReadError::Changed`] if the file ends first.
    pub fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> Result<(), ReadError> {
        let mut done = 0;
        while done < buf.len() {
            match read_at(&self.file, &mut buf[done..], offset + done as u64) {
                Ok(0) => return Err(ReadError::Changed),
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ReadError::Io(e.into())),
            }
        }
        Ok(())
    }

    /// Pass the `len` bytes from `offset` to `sink`, in order, in pieces:
    /// mapped windows of `plan.window` bytes when `len >= plan.map_from`
    /// (and a guard is available), else `pread` into `buf` (its length is
    /// the piece size; it must not be empty).
    pub fn feed(
        &self,
        offset: u64,
        len: u64,
        plan: FeedPlan,
        buf: &mut [u8],
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), ReadError> {
        let end = offset + len;
        let mut at = offset;
        // Without a SIGBUS guard (not unix), every range is read.
        #[cfg(not(unix))]
        let _ = plan;
        #[cfg(unix)]
        if len >= plan.map_from {
            self.advise_sequential(offset, len);
            while at < end {
                let n = (end - at).min(plan.window.max(1) as u64) as usize;
                match crate::mapped::Window::map(&self.file, at, n)? {
                    Some(window) => window
                        .with_bytes(|bytes| sink(bytes))
                        .map_err(|_| ReadError::Changed)?,
                    // No guard: read the rest.
                    None => break,
                }
                at += n as u64;
            }
        }
        assert!(!buf.is_empty(), "feed needs a buffer");
        while at < end {
            let n = (end - at).min(buf.len() as u64) as usize;
            self.read_exact_at(&mut buf[..n], at)?;
            sink(&buf[..n]);
            at += n as u64;
        }
        Ok(())
    }

    /// Tell the kernel the range will be read once, in order, so that it
    /// reads ahead further ([posix_fadvise(2)](https://man7.org/linux/man-pages/man2/posix_fadvise.2.html)).
    /// Only a hint: failures are ignored.
    pub fn advise_sequential(&self, offset: u64, len: u64) {
        #[cfg(target_os = "linux")]
        {
            let _ = rustix::fs::fadvise(
                &self.file,
                offset,
                std::num::NonZeroU64::new(len),
                rustix::fs::Advice::Sequential,
            );
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (offset, len);
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

#[cfg(not(any(unix, windows)))]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(offset))?;
    f.read(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn sample(len: usize) -> (tempfile::NamedTempFile, Vec<u8>) {
        let mut f = tempfile::NamedTempFile::new().expect("temp file");
        let data: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
        f.write_all(&data).expect("write");
        (f, data)
    }

    const READ: FeedPlan = FeedPlan {
        map_from: u64::MAX,
        window: 0,
    };
    /// Small windows, so that ranges span several.
    const MAP: FeedPlan = FeedPlan {
        map_from: 1,
        window: 3 * 4096,
    };

    fn fed(c: &Content, offset: u64, len: u64, plan: FeedPlan) -> Result<Vec<u8>, ReadError> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 1000];
        c.feed(offset, len, plan, &mut buf, &mut |b| {
            out.extend_from_slice(b)
        })?;
        Ok(out)
    }

    #[test]
    fn feed_reads_and_maps_the_same_bytes() {
        let (f, data) = sample(100_000);
        let c = Content::open(f.path()).expect("open");
        for (off, len) in [(0, 100_000), (4096, 50_001), (12_345, 1), (99_999, 1)] {
            let want = &data[off as usize..(off + len) as usize];
            assert_eq!(fed(&c, off, len, READ).expect("read"), want);
            assert_eq!(fed(&c, off, len, MAP).expect("map"), want);
        }
    }

    #[test]
    fn short_file_is_changed_not_data() {
        let (f, _) = sample(10_000);
        let c = Content::open(f.path()).expect("open");
        assert_eq!(fed(&c, 0, 20_000, READ), Err(ReadError::Changed));
        assert_eq!(fed(&c, 0, 20_000, MAP), Err(ReadError::Changed));
        let mut buf = [0u8; 10];
        assert_eq!(c.read_exact_at(&mut buf, 9995), Err(ReadError::Changed));
    }
}
