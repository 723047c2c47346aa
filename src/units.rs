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
    /// with an optional suffix (`K`, `M`... powers of 1024; `KB` powers of
    /// 1000; `KiB` powers of 1024), with an optional leading `'` (digit
    /// grouping, a no-op in the C locale).
    pub fn parse(spec: &str) -> Result<Units, UnitsError> {
        let spec = spec.strip_prefix('\'').unwrap_or(spec);
        match spec {
            "human-readable" => return Ok(Units::Human { base: 1024 }),
            "si" => return Ok(Units::Human { base: 1000 }),
            _ => {}
        }
        let digits = spec.bytes().take_while(u8::is_ascii_digit).count();
        let (number, rest) = spec.split_at(digits);
        let mut size: u64 = if number.is_empty() {
            if rest.is_empty() {
                return Err(UnitsError::Invalid);
            }
            1
        } else {
            number.parse().map_err(|_| UnitsError::TooLarge)?
        };
        let mut suffix = Suffix::None;
        if !rest.is_empty() {
            let mut chars = rest.chars();
            let letter = chars.next().unwrap_or(' ');
            let power = LETTERS
                .iter()
                .position(|&l| l == letter.to_ascii_uppercase() as u8)
                .filter(|_| letter.is_ascii_alphabetic())
                .ok_or(if number.is_empty() {
                    UnitsError::Invalid
                } else {
                    UnitsError::Suffix
                })?;
            let (base, tail_suffix) = match chars.as_str() {
                "" => (1024u64, Suffix::Letter),
                "B" | "D" => (1000, Suffix::Decimal),
                "iB" => (1024, Suffix::Binary),
                _ => return Err(UnitsError::Suffix),
            };
            for _ in 0..=power {
                size = size.checked_mul(base).ok_or(UnitsError::TooLarge)?;
            }
            if number.is_empty() {
                suffix = tail_suffix;
            }
        }
        if size == 0 {
            return Err(UnitsError::Invalid);
        }
        Ok(Units::Blocks { size, suffix })
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
