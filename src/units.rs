//! du's size units: block sizes (`-B`, `-k`, `-m`, `DU_BLOCK_SIZE`...) and
//! the exact rounding of gnulib's `human_readable` (du always rounds up).

/// How sizes are printed: a fixed block size, or scaled to a unit (`-h`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Units {
    /// Sizes divided by `size`, rounded up. With `suffix`, the unit is
    /// printed after the number the way du does for `-B K`, `-B MB`, `-B KiB`.
    Blocks {
        /// Bytes in one output block.
        size: u64,
        /// The unit suffix to print after each number, if any.
        suffix: Suffix,
    },
    /// Scaled to the largest power of `base` (1024 for `-h`, 1000 for `--si`)
    /// that keeps the number below `base`, one decimal below 10.
    Human {
        /// 1024 or 1000.
        base: u64,
    },
}

/// The unit suffix of `-B` sizes written with letters (`K`, `KB`, `KiB`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Suffix {
    /// A plain number (`-B 1K`, `-k`).
    None,
    /// The power letter only (`-B K`, `-B M`).
    Letter,
    /// Letter and `B` in powers of 1000 (`-B KB`).
    Decimal,
    /// Letter and `iB` in powers of 1024 (`-B KiB`).
    Binary,
}

const LETTERS: &[u8] = b"KMGTPEZYRQ";

/// The suffix letters du accepts in a block size, and their powers.
const SUFFIX_LETTERS: &[(u8, u32)] = &[
    (b'K', 1),
    (b'k', 1),
    (b'M', 2),
    (b'm', 2),
    (b'G', 3),
    (b'g', 3),
    (b'T', 4),
    (b't', 4),
    (b'P', 5),
    (b'E', 6),
    (b'Z', 7),
    (b'Y', 8),
];

/// Why [`parse_c_number`] refused its input.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NumberError {
    /// No digits where a number was expected.
    NoDigits,
    /// A minus sign: du's numbers are unsigned.
    Negative,
    /// More than 2^64-1.
    Overflow,
}

/// Read an unsigned number the way C's `strtoumax(s, &end, 0)` does, which
/// is how du reads `-B` and `--max-depth`: leading white space, an optional
/// `+`, then hexadecimal after `0x`, octal after `0`, decimal otherwise.
/// Returns the number and what follows it.
pub fn parse_c_number(s: &str) -> Result<(u64, &str), NumberError> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    if t.starts_with('-') {
        return Err(NumberError::Negative);
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    let b = t.as_bytes();
    let (radix, start) =
        if b.len() > 2 && b[0] == b'0' && (b[1] | 0x20) == b'x' && b[2].is_ascii_hexdigit() {
            (16, 2)
        } else if b.first() == Some(&b'0') {
            (8, 0)
        } else {
            (10, 0)
        };
    let digits = b[start..]
        .iter()
        .take_while(|c| (**c as char).is_digit(radix))
        .count();
    if digits == 0 {
        return Err(NumberError::NoDigits);
    }
    let end = start + digits;
    let n = u64::from_str_radix(&t[start..end], radix).map_err(|_| NumberError::Overflow)?;
    Ok((n, &t[end..]))
}

/// Why a block size spec was refused; the CLI turns it into du's message.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum UnitsError {
    /// Not a number, zero or negative (`invalid -B argument '0'`).
    Invalid,
    /// A number followed by an unknown suffix (`invalid suffix in -B argument '1x'`).
    Suffix,
    /// Larger than 2^64-1 bytes.
    TooLarge,
}

impl Units {
    /// du's default: 1024-byte blocks, or 512 when `POSIXLY_CORRECT` is set.
    pub fn default_for_env(posixly_correct: bool) -> Units {
        let size = if posixly_correct { 512 } else { 1024 };
        Units::Blocks {
            size,
            suffix: Suffix::None,
        }
    }

    /// Parse a `--block-size` / `DU_BLOCK_SIZE` spec as gnulib's
    /// `human_options` does: `human-readable`, `si`, or an optional number
    /// (read like C's `strtoumax` with base 0: `010` is octal, `0x10` hex)
    /// with an optional suffix (`K`, `M`... powers of 1024; `KB` powers of
    /// 1000; `KiB` powers of 1024), with an optional leading `'` (digit
    /// grouping, a no-op in the C locale). Written without digits (`K`,
    /// `MB`), the unit is printed after each number.
    pub fn parse(spec: &str) -> Result<Units, UnitsError> {
        let spec = spec.strip_prefix('\'').unwrap_or(spec);
        match spec {
            "human-readable" => return Ok(Units::Human { base: 1024 }),
            "si" => return Ok(Units::Human { base: 1000 }),
            _ => {}
        }
        let (mut size, rest, digits) = match parse_c_number(spec) {
            Ok((0, _)) => return Err(UnitsError::Invalid),
            Ok((n, rest)) => (n, rest, true),
            Err(NumberError::NoDigits) if !spec.is_empty() => (1, spec, false),
            Err(NumberError::Overflow) => return Err(UnitsError::TooLarge),
            Err(_) => return Err(UnitsError::Invalid),
        };
        let bad_suffix = if digits {
            UnitsError::Suffix
        } else {
            UnitsError::Invalid
        };
        if rest.is_empty() {
            return Ok(Units::Blocks {
                size,
                suffix: Suffix::None,
            });
        }
        let letter = rest.as_bytes()[0];
        let power = SUFFIX_LETTERS
            .iter()
            .find(|(l, _)| *l == letter)
            .map(|(_, p)| *p)
            .ok_or(bad_suffix)?;
        let (base, shown) = match &rest[1..] {
            "" => (1024u64, Suffix::Letter),
            "B" => (1000, Suffix::Decimal),
            // gnulib reads `D` as decimal, but prints the unit as for `K`.
            "D" => (1000, Suffix::Letter),
            "iB" => (1024, Suffix::Binary),
            _ => return Err(UnitsError::Suffix),
        };
        for _ in 0..power {
            size = size.checked_mul(base).ok_or(UnitsError::TooLarge)?;
        }
        let suffix = if digits { Suffix::None } else { shown };
        Ok(Units::Blocks { size, suffix })
    }

    /// These units for counting inodes: du prints counts in units of one,
    /// keeping only the `B` of a `-B KB`-style unit.
    pub fn for_inodes(self) -> Units {
        match self {
            Units::Human { .. } => self,
            Units::Blocks { suffix, .. } => Units::Blocks { size: 1, suffix },
        }
    }

    /// Format `n` (bytes, or inodes with `--inodes`) as du prints it.
    pub fn format(&self, n: u64, out: &mut Vec<u8>) {
        match *self {
            Units::Blocks { size, suffix } => {
                let amount = n / size + u64::from(n % size != 0);
                push_u64(out, amount);
                if suffix != Suffix::None {
                    let base = if suffix == Suffix::Decimal {
                        1000
                    } else {
                        1024
                    };
                    let mut exponent = 0usize;
                    let mut power: u128 = 1;
                    while power < u128::from(size) && exponent < LETTERS.len() {
                        power *= base as u128;
                        exponent += 1;
                    }
                    if exponent > 0 {
                        out.push(letter(exponent, base));
                    }
                    match suffix {
                        Suffix::Binary if exponent > 0 => out.extend_from_slice(b"iB"),
                        Suffix::Binary | Suffix::Decimal => out.push(b'B'),
                        _ => {}
                    }
                }
            }
            Units::Human { base } => human(n, base, out),
        }
    }
}

fn letter(exponent: usize, base: u64) -> u8 {
    if base == 1000 && exponent == 1 {
        b'k'
    } else {
        LETTERS[exponent - 1]
    }
}

fn push_u64(out: &mut Vec<u8>, n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// gnulib's autoscaling with `human_ceiling`: integer arithmetic that keeps
/// the tenths digit and whether anything below it was dropped.
fn human(n: u64, base: u64, out: &mut Vec<u8>) {
    let mut amount = n;
    let mut tenths = 0u64;
    let mut rounding = 0u64; // 0: exact, 1: < half, 2: half, 3: > half
    let mut exponent = 0usize;
    let mut decimal: Option<u64> = None;
    if amount >= base {
        loop {
            let r10 = (amount % base) * 10 + tenths;
            let r2 = (r10 % base) * 2 + (rounding >> 1);
            amount /= base;
            tenths = r10 / base;
            rounding = if r2 < base {
                u64::from(r2 + rounding != 0)
            } else {
                2 + u64::from(base < r2 + rounding)
            };
            exponent += 1;
            if amount < base || exponent == LETTERS.len() {
                break;
            }
        }
        if amount < 10 {
            if rounding > 0 {
                tenths += 1;
                rounding = 0;
                if tenths == 10 {
                    amount += 1;
                    tenths = 0;
                }
            }
            if amount < 10 {
                decimal = Some(tenths);
                tenths = 0;
                rounding = 0;
            }
        }
    }
    if tenths + rounding > 0 {
        amount += 1;
        if amount == base && exponent < LETTERS.len() {
            exponent += 1;
            amount = 1;
            decimal = Some(0);
        }
    }
    push_u64(out, amount);
    if let Some(d) = decimal {
        out.push(b'.');
        out.push(b'0' + d as u8);
    }
    if exponent > 0 {
        out.push(letter(exponent, base));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(units: Units, n: u64) -> String {
        let mut out = Vec::new();
        units.format(n, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn human_rounds_up_like_du() {
        let h = Units::Human { base: 1024 };
        let cases = [
            (0, "0"),
            (1, "1"),
            (1023, "1023"),
            (1024, "1.0K"),
            (1025, "1.1K"),
            (4096, "4.0K"),
            (10 * 1024 - 1, "10K"),
            (10 * 1024 + 1, "11K"),
            (1024 * 1024 - 1, "1.0M"),
            (5000, "4.9K"),
            (u64::MAX, "16E"),
        ];
        for (n, want) in cases {
            assert_eq!(fmt(h, n), want, "{n}");
        }
        let si = Units::Human { base: 1000 };
        assert_eq!(fmt(si, 20480), "21k");
        assert_eq!(fmt(si, 8192), "8.2k");
        assert_eq!(fmt(si, 999), "999");
        assert_eq!(fmt(si, 1_000_000), "1.0M");
    }

    #[test]
    fn block_specs_parse_like_du() {
        let k = Units::parse("K").unwrap();
        assert_eq!(fmt(k, 8192), "8K");
        assert_eq!(fmt(Units::parse("KB").unwrap(), 8192), "9kB");
        assert_eq!(fmt(Units::parse("KiB").unwrap(), 8192), "8KiB");
        assert_eq!(fmt(Units::parse("1K").unwrap(), 8192), "8");
        assert_eq!(fmt(Units::parse("M").unwrap(), 1), "1M");
        assert_eq!(fmt(Units::parse("MB").unwrap(), 1), "1MB");
        assert_eq!(fmt(Units::parse("1000").unwrap(), 8192), "9");
        assert_eq!(fmt(Units::parse("'1K").unwrap(), 8192), "8");
        assert_eq!(
            Units::parse("human-readable"),
            Ok(Units::Human { base: 1024 })
        );
        assert_eq!(Units::parse("si"), Ok(Units::Human { base: 1000 }));
        assert_eq!(Units::parse("0"), Err(UnitsError::Invalid));
        assert_eq!(Units::parse("-1"), Err(UnitsError::Invalid));
        assert_eq!(Units::parse(""), Err(UnitsError::Invalid));
        assert_eq!(Units::parse("1x"), Err(UnitsError::Suffix));
        assert_eq!(Units::parse("Y"), Err(UnitsError::TooLarge));
        assert_eq!(fmt(Units::parse("010").unwrap(), 80), "10");
        assert_eq!(fmt(Units::parse("0x10").unwrap(), 160), "10");
        assert_eq!(fmt(Units::parse(" +1").unwrap(), 7), "7");
        assert_eq!(fmt(Units::parse("KD").unwrap(), 13_000), "13K");
        assert_eq!(Units::parse("08"), Err(UnitsError::Invalid));
        assert_eq!(Units::parse("1p"), Err(UnitsError::Suffix));
        assert_eq!(Units::parse("p"), Err(UnitsError::Invalid));
        assert_eq!(Units::parse("0x"), Err(UnitsError::Invalid));
        assert_eq!(
            Units::parse("2G").unwrap(),
            Units::Blocks {
                size: 2 << 30,
                suffix: Suffix::None
            }
        );
    }

    #[test]
    fn blocks_round_up() {
        let k = Units::default_for_env(false);
        assert_eq!(fmt(k, 0), "0");
        assert_eq!(fmt(k, 1), "1");
        assert_eq!(fmt(k, 1024), "1");
        assert_eq!(fmt(k, 1025), "2");
    }
}
