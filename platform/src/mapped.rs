//! Windows of a file mapped read-only, guarded against `SIGBUS`.
//!
//! Reading a mapped page that lies past the end of its file (the file was
//! truncated after it was mapped) raises `SIGBUS`, which kills the process by
//! default. `fdu --dups` maps large files to hash them, and files may be
//! truncated by other programs at any time, so every mapping made here is
//! guarded:
//!
//! ```text
//!  Window::map                       on_sigbus (process-wide, installed once)
//!  -----------                       ---------------------------------------
//!  claim a slot: start, len   ---->  fault address inside a registered slot?
//!  mmap (memmap2)                      yes: map anonymous zero pages over the rest
//!  with_bytes(f): f(&bytes)                 of the slot (MAP_FIXED), mark it
//!    reads go on, with zeros                faulted, return: the read goes on
//!  faulted? -> Err(Truncated)          no:  restore SIG_DFL and re-raise, so a
//!  drop: free the slot, munmap              fault that is not ours still kills
//! ```
//!
//! The slot table is a fixed array of atomics, so the handler takes no lock
//! and allocates nothing. What it calls (`mmap`, `sigaction`, `raise`) are
//! plain system calls, async-signal-safe in practice (`sigaction` and `raise`
//! are on POSIX's list; `mmap` is a raw syscall in every libc).
//!
//! A window's pages count in the process's resident set while it is mapped,
//! so callers map large files one window at a time.
#![allow(unsafe_code)]

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

use memmap2::{Mmap, MmapOptions};

use crate::Errno;

/// Mappings that can be guarded at once; past this, [`Window::map`] returns
/// `None` and the caller reads instead.
const SLOTS: usize = 256;
/// `Slot::start` of a free slot.
const FREE: usize = 0;
/// `Slot::start` of a slot being filled in (no mapping starts at address 1).
const CLAIMED: usize = 1;

/// One guarded mapping: the bytes `[start, start + len)`.
struct Slot {
    start: AtomicUsize,
    len: AtomicUsize,
    faulted: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    start: AtomicUsize::new(FREE),
    len: AtomicUsize::new(0),
    faulted: AtomicBool::new(false),
};
static TABLE: [Slot; SLOTS] = [EMPTY; SLOTS];
/// The page size, read by the handler (set before it is installed).
static PAGE: AtomicUsize = AtomicUsize::new(4096);

/// Install the handler once; whether it is in place.
fn guard_installed() -> bool {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    *INSTALLED.get_or_init(|| {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if page > 0 {
            PAGE.store(page as usize, Ordering::Relaxed);
        }
        // SAFETY: an all-zero sigaction is a valid value (no flags, empty
        // mask, null handler) that is filled in before use; `on_sigbus` has
        // the signature SA_SIGINFO requires and only touches atomics and
        // async-signal-safe calls.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()) == 0
        }
    })
}

extern "C" fn on_sigbus(_signal: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler;
    // `si_addr` is meaningful when the kernel raised the signal (si_code > 0).
    let addr = unsafe {
        if (*info).si_code > 0 {
            (*info).si_addr() as usize
        } else {
            0
        }
    };
    if addr != 0 {
        for slot in &TABLE {
            let start = slot.start.load(Ordering::Acquire);
            if start <= CLAIMED {
                continue;
            }
            let end = start + slot.len.load(Ordering::Acquire);
            if addr < start || addr >= end {
                continue;
            }
            let page = PAGE.load(Ordering::Relaxed);
            let base = addr & !(page - 1);
            let top = (end + page - 1) & !(page - 1);
            // SAFETY: [base, top) lies inside a live mapping that this module
            // made and registered (a slot is freed before its munmap), and
            // nothing but the hashing read in progress uses those pages:
            // replacing them with zero pages only changes what that read
            // sees, and the result is thrown away as `Truncated`.
            let zeros = unsafe {
                libc::mmap(
                    base as *mut libc::c_void,
                    top - base,
                    libc::PROT_READ,
                    libc::MAP_FIXED | libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if zeros != libc::MAP_FAILED {
                slot.faulted.store(true, Ordering::Release);
                return;
            }
            break;
        }
    }
    // Not a fault in a guarded window: let the default action happen.
    // SAFETY: sigaction and raise are async-signal-safe; an all-zero
    // sigaction with SIG_DFL (0) is valid. SIGBUS is blocked while this
    // handler runs, so the raised signal is delivered (and kills) on return;
    // a fault that recurs on return does the same.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
        libc::raise(libc::SIGBUS);
    }
}

/// A claimed slot; freed on drop.
struct Registration {
    slot: &'static Slot,
}

impl Registration {
    fn claim() -> Option<Registration> {
        TABLE.iter().find_map(|slot| {
            slot.start
                .compare_exchange(FREE, CLAIMED, Ordering::AcqRel, Ordering::Relaxed)
                .ok()
                .map(|_| {
                    slot.faulted.store(false, Ordering::Relaxed);
                    Registration { slot }
                })
        })
    }

    fn publish(&self, start: usize, len: usize) {
        self.slot.len.store(len, Ordering::Relaxed);
        self.slot.start.store(start, Ordering::Release);
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.slot.start.store(FREE, Ordering::Release);
    }
}

/// Why a window's bytes cannot be trusted: the file was truncated while it
/// was mapped, and the missing pages read as zeros.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Truncated;

/// A read-only mapping of `len` bytes of a file from `offset`, guarded
/// against truncation (see the module docs).
pub struct Window {
    // Declared first: dropped (the slot freed) before the munmap, so a slot
    // never names an address range that may be reused.
    registration: Registration,
    map: Mmap,
}

impl Window {
    /// Map `len` (> 0) bytes of `file` from `offset`, its pages read in
    /// ahead (`MAP_POPULATE`). `Ok(None)` when no guard can be set up (the
    /// handler could not be installed, or every slot is taken): read the
    /// file instead.
    pub fn map(file: &File, offset: u64, len: usize) -> Result<Option<Window>, Errno> {
        if len == 0 || !guard_installed() {
            return Ok(None);
        }
        let Some(registration) = Registration::claim() else {
            return Ok(None);
        };
        // SAFETY: the mapping is private and read-only. What memmap2 cannot
        // promise is that the file does not change or shrink while mapped:
        // a change is caught by the caller (it compares the file's stat
        // after reading with the one before), and a truncation raises
        // SIGBUS, which the guard registered below turns into zero pages and
        // a `Truncated` result. The bytes are only lent out by `with_bytes`.
        let map = unsafe {
            MmapOptions::new()
                .offset(offset)
                .len(len)
                .populate()
                .map(file)
        }
        .map_err(Errno::from)?;
        registration.publish(map.as_ptr() as usize, map.len());
        Ok(Some(Window { registration, map }))
    }

    /// Pass the window's bytes to `f`; `Err(Truncated)` when the file was
    /// truncated while they were read (`f` then saw zeros for the missing
    /// part: throw away whatever it computed).
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Result<R, Truncated> {
        let result = f(&self.map);
        if self.registration.slot.faulted.load(Ordering::Acquire) {
            Err(Truncated)
        } else {
            Ok(result)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_of(len: usize) -> (tempfile::NamedTempFile, Vec<u8>) {
        let mut f = tempfile::NamedTempFile::new().expect("temp file");
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8 + 1).collect();
        f.write_all(&data).expect("write");
        f.flush().expect("flush");
        (f, data)
    }

    #[test]
    fn window_reads_the_bytes() {
        let (f, data) = file_of(3 * 4096 + 17);
        let w = Window::map(f.as_file(), 4096, 2 * 4096 + 17)
            .expect("map")
            .expect("guarded");
        let got = w.with_bytes(|b| b.to_vec()).expect("not truncated");
        assert_eq!(got, &data[4096..]);
    }

    #[test]
    fn truncation_while_mapped_reads_zeros_and_is_reported() {
        let len = 64 * 4096;
        let (f, data) = file_of(len);
        let w = Window::map(f.as_file(), 0, len)
            .expect("map")
            .expect("guarded");
        // Shrink the file before the pages are read: without the guard the
        // first read past the new end would kill the process with SIGBUS.
        f.as_file().set_len(10 * 4096 + 5).expect("truncate");
        let seen = w.with_bytes(|b| {
            let sum: u64 = b.iter().map(|&x| u64::from(x)).sum();
            (sum, b[..4096].to_vec(), b[len - 1])
        });
        assert_eq!(seen, Err(Truncated));
        // The slot is free again and a fresh mapping of the shrunken file
        // reads cleanly.
        drop(w);
        let w = Window::map(f.as_file(), 0, 4096)
            .expect("map")
            .expect("guarded");
        assert_eq!(w.with_bytes(|b| b.to_vec()), Ok(data[..4096].to_vec()));
    }

    #[test]
    fn slots_are_reused() {
        let (f, _) = file_of(4096);
        for _ in 0..(SLOTS * 2) {
            let w = Window::map(f.as_file(), 0, 4096)
                .expect("map")
                .expect("guarded");
            assert_eq!(w.with_bytes(|b| b.len()), Ok(4096));
        }
    }
}
