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

/// The digits of a C number in base 0 (after its sign): the radix (16
/// after `0x` and a hex digit, 8 after `0`, else 10), where the digits
/// start, and how many there are.
fn c_digits(b: &[u8]) -> (u32, usize, usize) {
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
    (radix, start, digits)
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
    let (radix, start, digits) = c_digits(t.as_bytes());
    if digits == 0 {
        return Err(NumberError::NoDigits);
    }
    let end = start + digits;
    let n = u64::from_str_radix(&t[start..end], radix).map_err(|_| NumberError::Overflow)?;
    Ok((n, &t[end..]))
}

/// How gnulib's `xstrtol` family ended (`strtol_error`): the CLI words
/// each as `xstrtol_fatal` does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum StrtolError {
    /// No number (`invalid -t argument 'x'`).
    Invalid,
    /// A suffix that is not allowed (`invalid suffix in -t argument '1x'`),
    /// with or without an overflow before it.
    Suffix,
    /// Out of range (`-t argument '1Y' too large`).
    Overflow,
}

/// gnulib's `xstrtoimax` (`signed`) or `xstrtoumax` with base 0: C's
/// `strtoimax`/`strtoumax`, then an optional suffix from `valid` (a `0` in
/// `valid` allows `KB`, `KiB` after a letter). Returns the value the C
/// function leaves in `*val` (saturated on overflow, when it sets one) and
/// its error, if any.
pub fn xstrtol(s: &str, signed: bool, valid: &str) -> (Option<i128>, Option<StrtolError>) {
    let (min, max): (i128, i128) = if signed {
        (i64::MIN.into(), i64::MAX.into())
    } else {
        (0, u64::MAX.into())
    };
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    if !signed && t.starts_with('-') {
        return (None, Some(StrtolError::Invalid));
    }
    // strtol: sign, base prefix, digits.
    let (negative, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, start, digits) = c_digits(body.as_bytes());
    let mut err: Option<StrtolError> = None;
    let (mut tmp, rest): (i128, &str) = if digits == 0 {
        // No number: a valid suffix alone stands for 1.
        match s.chars().next() {
            Some(c) if valid.contains(c) => (1, s),
            _ => return (None, Some(StrtolError::Invalid)),
        }
    } else {
        let mut n: i128 = 0;
        for c in body[start..start + digits].chars() {
            n = (n * i128::from(radix) + i128::from(c.to_digit(radix).unwrap_or(0)))
                .min(i128::from(u64::MAX) + 1);
        }
        let n = if negative { -n } else { n };
        let n = if signed {
            n
        } else if negative {
            // strtoumax negates in unsigned arithmetic (never reached:
            // xstrtoumax refuses a minus sign).
            n.rem_euclid(i128::from(u64::MAX) + 1)
        } else {
            n
        };
        let clamped = n.clamp(min, max);
        if clamped != n {
            err = Some(StrtolError::Overflow);
        }
        (clamped, &body[start + digits..])
    };
    let Some(first) = rest.chars().next() else {
        return (Some(tmp), err);
    };
    if !valid.contains(first) {
        return (Some(tmp), Some(StrtolError::Suffix));
    }
    let mut base: i128 = 1024;
    let mut suffixes = 1;
    let rb = rest.as_bytes();
    if "EGgkKMmPTtYZ".contains(first) && valid.contains('0') {
        match rb.get(1) {
            Some(b'i') if rb.get(2) == Some(&b'B') => suffixes += 2,
            Some(b'B') | Some(b'D') => {
                base = 1000;
                suffixes += 1;
            }
            _ => {}
        }
    }
    let mut scale = |factor: i128, times: u32| {
        for _ in 0..times {
            let next = tmp * factor;
            if next < min || next > max {
                tmp = if tmp < 0 { min } else { max };
                err = Some(StrtolError::Overflow);
            } else {
                tmp = next;
            }
        }
    };
    match first {
        'b' => scale(512, 1),
        'B' => scale(1024, 1),
        'c' => {}
        'E' => scale(base, 6),
        'G' | 'g' => scale(base, 3),
        'k' | 'K' => scale(base, 1),
        'M' | 'm' => scale(base, 2),
        'P' => scale(base, 5),
        'T' | 't' => scale(base, 4),
        'w' => scale(2, 1),
        'Y' => scale(base, 8),
        'Z' => scale(base, 7),
        _ => return (Some(tmp), Some(StrtolError::Suffix)),
    }
    if rest.len() > suffixes {
        err = Some(StrtolError::Suffix);
    }
    (Some(tmp), err)
}

/// A `--threshold` (`-t`) value as du reads it: `xstrtoimax` with the
/// suffixes `kKmMGTPEZYRQ` (du 9.1's gnulib knows no `R`, `Q`: they are
/// invalid suffixes). Negative values select entries at most that large.
pub fn parse_threshold(s: &str) -> Result<i64, StrtolError> {
    match xstrtol(s, true, "kKmMGTPEZYRQ0") {
        (Some(v), None) => Ok(v as i64),
        (_, Some(e)) => Err(e),
        (None, None) => Err(StrtolError::Invalid),
    }
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

    /// A block size from `DU_BLOCK_SIZE`, `BLOCK_SIZE` or `BLOCKSIZE`: as
    /// [`Units::parse`], except that an invalid value is not an error. Like
    /// gnulib's `human_options`, whose result du ignores for the
    /// environment, it keeps what `xstrtoumax` left: `1Q` or `1x` are
    /// 1-byte blocks, `1Y` the largest block size, and a value without a
    /// number or of 0 the default.
    pub fn parse_env(spec: &str, posixly_correct: bool) -> Units {
        if let Ok(units) = Units::parse(spec) {
            return units;
        }
        let spec = spec.strip_prefix('\'').unwrap_or(spec);
        match xstrtol(spec, false, "eEgGkKmMpPtTyYzZ0") {
            (Some(size), _) if size > 0 => Units::Blocks {
                size: u64::try_from(size).unwrap_or(u64::MAX),
                suffix: Suffix::None,
            },
            _ => Units::default_for_env(posixly_correct),
        }
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
    fn threshold_parses_like_xstrtoimax() {
        assert_eq!(parse_threshold("5K"), Ok(5 * 1024));
        assert_eq!(parse_threshold("-1K"), Ok(-1024));
        assert_eq!(parse_threshold("1KB"), Ok(1000));
        assert_eq!(parse_threshold("1KiB"), Ok(1024));
        assert_eq!(parse_threshold("K"), Ok(1024));
        assert_eq!(parse_threshold("010"), Ok(8));
        assert_eq!(parse_threshold("0x10"), Ok(16));
        assert_eq!(parse_threshold(""), Err(StrtolError::Invalid));
        assert_eq!(parse_threshold("x"), Err(StrtolError::Invalid));
        assert_eq!(parse_threshold("1x"), Err(StrtolError::Suffix));
        assert_eq!(parse_threshold("1b"), Err(StrtolError::Suffix));
        assert_eq!(parse_threshold("1R"), Err(StrtolError::Suffix));
        assert_eq!(parse_threshold("1Q"), Err(StrtolError::Suffix));
        assert_eq!(parse_threshold("1Y"), Err(StrtolError::Overflow));
        assert_eq!(parse_threshold("-8E"), Ok(i64::MIN));
        assert_eq!(parse_threshold("8E"), Err(StrtolError::Overflow));
        assert_eq!(
            parse_threshold("99999999999999999999"),
            Err(StrtolError::Overflow)
        );
        assert_eq!(parse_threshold("1KQ"), Err(StrtolError::Suffix));
    }

    #[test]
    fn invalid_environment_block_sizes_keep_what_xstrtoumax_left() {
        let blocks = |size| Units::Blocks {
            size,
            suffix: Suffix::None,
        };
        assert_eq!(Units::parse_env("1Q", false), blocks(1));
        assert_eq!(Units::parse_env("2x", false), blocks(2));
        assert_eq!(Units::parse_env("1Y", false), blocks(u64::MAX));
        assert_eq!(Units::parse_env("17E", false), blocks(u64::MAX));
        assert_eq!(Units::parse_env("0", false), blocks(1024));
        assert_eq!(Units::parse_env("-1", true), blocks(512));
        assert_eq!(Units::parse_env("x", false), blocks(1024));
        assert_eq!(Units::parse_env("", false), blocks(1024));
        assert_eq!(Units::parse_env("1K", false), blocks(1024));
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
