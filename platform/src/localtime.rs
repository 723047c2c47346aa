//! Local time for `--time`: the C library's `localtime_r` (which reads the
//! `TZ` environment variable and the system's zone files, as du does) and
//! `strftime` (in the C locale: fdu never calls `setlocale`).
#![allow(unsafe_code)]

use std::ffi::CString;

/// A broken-down local time (`struct tm`).
#[derive(Clone, Copy)]
pub struct LocalTime {
    tm: libc::tm,
}

impl std::fmt::Debug for LocalTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalTime")
            .field("year", &self.year())
            .field("gmtoff", &self.gmtoff())
            .finish()
    }
}

impl LocalTime {
    /// `secs` since the epoch in the local time zone, or `None` when the
    /// year does not fit (`localtime_r` fails with `EOVERFLOW`).
    // time_t and long are narrower than i64 on 32-bit systems.
    #[allow(clippy::useless_conversion)]
    pub fn new(secs: i64) -> Option<LocalTime> {
        let t: libc::time_t = secs.try_into().ok()?;
        // SAFETY: `tm` is plain old data: all zeroes is a valid value.
        let mut tm: libc::tm = unsafe { std::mem::zeroed() };
        // SAFETY: both pointers are valid for the call; localtime_r is the
        // reentrant form and writes only `tm`.
        let r = unsafe { libc::localtime_r(&t, &mut tm) };
        (!r.is_null()).then_some(LocalTime { tm })
    }

    /// The year (e.g. 2024).
    pub fn year(&self) -> i64 {
        i64::from(self.tm.tm_year) + 1900
    }

    /// The month, 1 to 12.
    pub fn month(&self) -> u32 {
        u32::try_from(self.tm.tm_mon + 1).unwrap_or(1)
    }

    /// Seconds east of UTC (`tm_gmtoff`).
    #[allow(clippy::useless_conversion)]
    pub fn gmtoff(&self) -> i64 {
        i64::from(self.tm.tm_gmtoff)
    }

    /// `strftime(format, self)`: the formatted bytes. `format` must not
    /// contain NUL (what follows one is ignored).
    pub fn strftime(&self, format: &[u8]) -> Vec<u8> {
        let end = format.iter().position(|&b| b == 0).unwrap_or(format.len());
        if end == 0 {
            return Vec::new();
        }
        // A leading space tells an empty result from an error (as gnulib's
        // fprintftime does): every result is then at least one byte.
        let mut spaced = Vec::with_capacity(end + 1);
        spaced.push(b' ');
        spaced.extend_from_slice(&format[..end]);
        let Ok(fmt) = CString::new(spaced) else {
            return Vec::new();
        };
        let mut buf = vec![0u8; 256 + 4 * end];
        loop {
            // SAFETY: `buf` is valid for `buf.len()` bytes, `fmt` is a C
            // string and `self.tm` a value localtime_r filled in.
            let n = unsafe {
                libc::strftime(
                    buf.as_mut_ptr().cast::<libc::c_char>(),
                    buf.len(),
                    fmt.as_ptr(),
                    &self.tm,
                )
            };
            if n > 0 {
                buf.truncate(n);
                buf.remove(0);
                return buf;
            }
            if buf.len() > (1 << 24) {
                return Vec::new();
            }
            let grown = buf.len() * 4;
            buf.resize(grown, 0);
        }
    }
}

// No unit test here: the first conversion opens the zone file, which would
// race with the tests that count this process's open descriptors. `tests/cli.rs`
// compares the formatted times with du's in several zones.
