//! `--time` output: a time stamp in the local time zone (`TZ`), formatted
//! as du's `--time-style` formats are.
//!
//! du formats with gnulib's `nstrftime`; fdu hands the format to the C
//! library's `strftime` (C locale), after replacing what only gnulib knows:
//! `%N` (nanoseconds, `%3N` for the first three digits), `%q` (the quarter)
//! and `%:z`, `%::z`, `%:::z` (the offset with colons).
use crate::diag;
use crate::tree::Stamp;

/// A `--time-style` format, without its leading `+`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeFormat {
    format: Vec<u8>,
}

impl TimeFormat {
    /// A strftime-like format (`%Y-%m-%d %H:%M`).
    pub fn new(format: Vec<u8>) -> TimeFormat {
        TimeFormat { format }
    }

    /// Append `stamp` in this format, in the local time zone. A time the
    /// C library cannot convert is reported and printed as seconds, as du
    /// does.
    pub fn format(&self, stamp: Stamp, out: &mut Vec<u8>) {
        #[cfg(unix)]
        if let Some(tm) = fdu_platform::localtime::LocalTime::new(stamp.sec) {
            let format = expand(&self.format, stamp.nsec, tm.gmtoff(), tm.month());
            out.extend_from_slice(&tm.strftime(&format));
            return;
        }
        let secs = stamp.sec.to_string();
        diag::report(&format!(
            "time {} is out of range",
            diag::quote(secs.as_bytes())
        ));
        out.extend_from_slice(secs.as_bytes());
    }
}

/// Push `text` into a strftime format as literal text.
#[cfg_attr(not(unix), allow(dead_code))]
fn literal(out: &mut Vec<u8>, text: &[u8]) {
    for &b in text {
        if b == b'%' {
            out.push(b'%');
        }
        out.push(b);
    }
}

/// `format` with gnulib's own conversions replaced by their text.
#[cfg_attr(not(unix), allow(dead_code))]
fn expand(format: &[u8], nsec: u32, gmtoff: i64, month: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(format.len() + 16);
    let mut i = 0;
    while i < format.len() {
        if format[i] != b'%' {
            out.push(format[i]);
            i += 1;
            continue;
        }
        let mut j = i + 1;
        let mut pad = None;
        while j < format.len() && b"_-0^#".contains(&format[j]) {
            if b"_-0".contains(&format[j]) {
                pad = Some(format[j]);
            }
            j += 1;
        }
        let digits = format[j..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let width: Option<usize> = std::str::from_utf8(&format[j..j + digits])
            .ok()
            .and_then(|w| w.parse().ok());
        j += digits;
        let colons = format[j..].iter().take_while(|&&b| b == b':').count();
        j += colons;
        let Some(&conv) = format.get(j) else {
            out.extend_from_slice(&format[i..]);
            break;
        };
        match conv {
            b'N' if colons == 0 => {
                let width = width.unwrap_or(9);
                let mut value = u64::from(nsec);
                for _ in width..9 {
                    value /= 10;
                }
                let text = value.to_string();
                let fill = width.saturating_sub(text.len());
                match pad {
                    Some(b'-') => {}
                    Some(b'_') => out.extend(std::iter::repeat(b' ').take(fill)),
                    _ => out.extend(std::iter::repeat(b'0').take(fill)),
                }
                literal(&mut out, text.as_bytes());
            }
            b'z' if colons > 0 && colons <= 3 => {
                let sign = if gmtoff < 0 { '-' } else { '+' };
                let off = gmtoff.unsigned_abs();
                let (h, m, s) = (off / 3600, off / 60 % 60, off % 60);
                let text = match colons {
                    1 => format!("{sign}{h:02}:{m:02}"),
                    2 => format!("{sign}{h:02}:{m:02}:{s:02}"),
                    _ if s != 0 => format!("{sign}{h:02}:{m:02}:{s:02}"),
                    _ if m != 0 => format!("{sign}{h:02}:{m:02}"),
                    _ => format!("{sign}{h:02}"),
                };
                literal(&mut out, text.as_bytes());
            }
            b'q' if colons == 0 => {
                literal(&mut out, month.div_ceil(3).to_string().as_bytes());
            }
            _ => out.extend_from_slice(&format[i..=j]),
        }
        i = j + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::expand;

    #[test]
    fn nanoseconds_and_colon_offsets_are_expanded() {
        let e = |f: &str| String::from_utf8(expand(f.as_bytes(), 691_245_412, 19_800, 12)).unwrap();
        assert_eq!(e("%N"), "691245412");
        assert_eq!(e("%3N"), "691");
        assert_eq!(e("%12N"), "000691245412");
        assert_eq!(e("%:z %::z %:::z"), "+05:30 +05:30:00 +05:30");
        assert_eq!(e("%Y-%m %%N"), "%Y-%m %%N");
        assert_eq!(e("100%"), "100%");
        let z = |off| String::from_utf8(expand(b"%:::z", 0, off, 1)).unwrap();
        assert_eq!(z(-3600), "-01");
        assert_eq!(z(0), "+00");
        let n = |f: &str| String::from_utf8(expand(f.as_bytes(), 5, 0, 4)).unwrap();
        assert_eq!(n("%N"), "000000005");
        assert_eq!(n("%-N"), "5");
        assert_eq!(n("%_3N"), "  0");
        assert_eq!(n("%q"), "2");
    }
}
