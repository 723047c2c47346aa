//! Diagnostics: du's one-line messages on stderr, with paths quoted the way
//! du quotes them, and the exit status they imply.
use std::io::Write;

use fdu_platform::Errno;

/// The process exit status, as du defines it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord)]
pub enum ExitStatus {
    /// Everything was read.
    Ok = 0,
    /// Some entries could not be read; what could be read was reported.
    Partial = 1,
    /// Bad usage: nothing was scanned.
    Usage = 2,
}

/// Whether the locale (`LC_ALL`, else `LC_CTYPE`, else `LANG`) is UTF-8:
/// then non-ASCII characters print as themselves, else as octal escapes.
fn utf8_locale() -> bool {
    static UTF8: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *UTF8.get_or_init(|| {
        let value = ["LC_ALL", "LC_CTYPE", "LANG"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
            .unwrap_or_default()
            .to_ascii_lowercase();
        value.contains("utf-8") || value.contains("utf8")
    })
}

/// Quote `path` the way du quotes file names in messages (gnulib's
/// shell-escape-always style): `'name'`; `"it's"` when the name holds a
/// single quote and nothing else a shell would need quoted; unprintable
/// bytes as `$'\n'` or `$'\377'` between quoted runs.
pub fn quote(path: &[u8]) -> String {
    quote_in(path, utf8_locale())
}

/// Quote `path` only where a shell would need it, as du's `quotef` does
/// (gnulib's shell-escape style): `/no/such`, `a]b`, `a{b` bare; `'a b'`,
/// `'a=b'`, `'a:b'`, `'#x'` (a leading `#` or `~`), `'{'` (a brace alone)
/// quoted.
pub fn quotef(path: &[u8]) -> String {
    let special = |i: usize, b: u8| match b {
        b'#' | b'~' => i == 0,
        b'{' | b'}' => path.len() == 1,
        b'!' | b'"' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b';' | b'<' | b'=' | b'>'
        | b'?' | b'[' | b'\\' | b'^' | b'`' | b'|' => true,
        // quotef is gnulib's quotearg_style_colon: a colon would blur the
        // `name: reason` of the message.
        b':' => true,
        _ => !b.is_ascii_graphic(),
    };
    let plain = !path.is_empty() && !path.iter().enumerate().any(|(i, &b)| special(i, b));
    if plain {
        String::from_utf8_lossy(path).into_owned()
    } else {
        quote(path)
    }
}

/// One character of a name, as gnulib's quoting sees it.
enum Unit<'a> {
    /// Printed as it is (a printable character, or a backslash).
    Plain(&'a [u8]),
    /// A control character with a letter escape (`\n`).
    Letter(u8),
    /// Bytes printed as octal escapes (`\377`).
    Octal(&'a [u8]),
    /// A single quote.
    Quote,
}

/// The units of `path`, and whether every one of them may appear in a
/// double-quoted string unchanged (gnulib's `c_and_shell_quote_compat`).
fn units(path: &[u8], utf8: bool) -> (Vec<Unit<'_>>, bool) {
    const LETTERS: &[(u8, u8)] = &[
        (0x07, b'a'),
        (0x08, b'b'),
        (0x0c, b'f'),
        (b'\n', b'n'),
        (b'\r', b'r'),
        (b'\t', b't'),
        (0x0b, b'v'),
    ];
    let mut out = Vec::new();
    let mut compat = true;
    let mut i = 0;
    while i < path.len() {
        let c = path[i];
        let one = &path[i..=i];
        let (unit, ok, len) = if let Some(&(_, letter)) = LETTERS.iter().find(|(b, _)| *b == c) {
            (Unit::Letter(letter), false, 1)
        } else if c == b'\'' {
            (Unit::Quote, true, 1)
        } else if c.is_ascii_alphanumeric() || b"%+,-./:]_ @".contains(&c) {
            (Unit::Plain(one), true, 1)
        } else if c == b'{' || c == b'}' {
            (Unit::Plain(one), path.len() == 1, 1)
        } else if c == b'#' || c == b'~' {
            (Unit::Plain(one), i == 0, 1)
        } else if c.is_ascii_graphic() {
            // Shell specials and `\`: printed as they are, inside quotes.
            (Unit::Plain(one), false, 1)
        } else if c.is_ascii() || !utf8 {
            // Other controls, DEL, and every byte above 127 in the C locale.
            (Unit::Octal(one), false, 1)
        } else {
            // A UTF-8 sequence: printed if printable, else byte by byte.
            let rest = &path[i..];
            let valid = match std::str::from_utf8(rest) {
                Ok(s) => s,
                Err(e) => std::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or_default(),
            };
            match valid.chars().next() {
                Some(ch) if !ch.is_control() => {
                    (Unit::Plain(&rest[..ch.len_utf8()]), true, ch.len_utf8())
                }
                Some(ch) => (Unit::Octal(&rest[..ch.len_utf8()]), false, ch.len_utf8()),
                None => (Unit::Octal(one), false, 1),
            }
        };
        compat &= ok;
        out.push(unit);
        i += len;
    }
    (out, compat)
}

/// gnulib's shell-escape-always pass over `units`, starting in the
/// `pending` state (inside `$'...'`, which the next plain character closes
/// with `''`). Returns the text and the final state.
fn shell_escape(units: &[Unit<'_>], mut pending: bool) -> (Vec<u8>, bool) {
    let mut out = vec![b'\''];
    let escape = |out: &mut Vec<u8>, pending: &mut bool| {
        if !*pending {
            out.extend_from_slice(b"'$'");
            *pending = true;
        }
        out.push(b'\\');
    };
    for unit in units {
        match unit {
            Unit::Plain(bytes) => {
                if pending {
                    out.extend_from_slice(b"''");
                    pending = false;
                }
                out.extend_from_slice(bytes);
            }
            Unit::Quote => {
                out.extend_from_slice(b"'\\''");
                pending = false;
            }
            Unit::Letter(letter) => {
                escape(&mut out, &mut pending);
                out.push(*letter);
            }
            Unit::Octal(bytes) => {
                for b in bytes.iter() {
                    escape(&mut out, &mut pending);
                    out.extend_from_slice(format!("{b:03o}").as_bytes());
                }
            }
        }
    }
    out.push(b'\'');
    (out, pending)
}

fn quote_in(path: &[u8], utf8: bool) -> String {
    let (units, compat) = units(path, utf8);
    let (text, pending) = shell_escape(&units, false);
    if !units.iter().any(|u| matches!(u, Unit::Quote)) {
        return String::from_utf8_lossy(&text).into_owned();
    }
    if compat {
        return format!("\"{}\"", String::from_utf8_lossy(path));
    }
    // gnulib quotes a name with a single quote twice (the first pass only
    // looks for the shorter double-quoted form), and in coreutils 9.1 the
    // second pass starts in the state the first one ended in: a name that
    // ends inside `$'...'` gets `''` before its first plain character, and
    // no `'$'` before a leading escape.
    let (text, _) = shell_escape(&units, pending);
    String::from_utf8_lossy(&text).into_owned()
}

static PROGRAM: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Name messages with the name the program was run by (the last component
/// of `argv[0]`), as GNU tools do: run through a `du` link, fdu's messages
/// start with `du: `, so scripts that read du's errors read fdu's. Without
/// a call, or with an empty name, messages start with `fdu: `.
pub fn set_program_name(argv0: &std::ffi::OsStr) {
    let bytes = argv0.as_encoded_bytes();
    let base = bytes.rsplit(|&b| b == b'/').next().unwrap_or_default();
    if !base.is_empty() {
        let _ = PROGRAM.set(String::from_utf8_lossy(base).into_owned());
    }
}

/// The name messages start with (see [`set_program_name`]).
pub fn program_name() -> &'static str {
    PROGRAM.get().map_or("fdu", String::as_str)
}

/// Print `PROGRAM: MESSAGE` on stderr as one write, so lines from several
/// workers never interleave.
pub fn report(message: &str) {
    let line = format!("{}: {message}\n", program_name());
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// What failed on an entry the scan could not read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Failed {
    /// Stat'ing it: `cannot access`.
    Access,
    /// Opening or listing a directory: `cannot read directory`.
    Read,
    /// An empty path argument: `invalid zero-length file name`.
    EmptyName,
}

/// An entry that could not be read, as a value: where, what failed and
/// why. [`ScanError::message`] words it as du does.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ScanError {
    /// The path, as du prints it.
    pub path: Vec<u8>,
    /// What failed.
    pub failed: Failed,
    /// Why; `None` where du gives no reason (a dangling symlink under `-L`).
    pub errno: Option<Errno>,
}

impl ScanError {
    /// du's message, without the program name.
    pub fn message(&self) -> String {
        match (self.failed, self.errno) {
            (Failed::EmptyName, _) => "invalid zero-length file name".to_string(),
            (Failed::Read, Some(e)) => format!("cannot read directory {}: {e}", quote(&self.path)),
            (Failed::Read, None) => format!("cannot read directory {}", quote(&self.path)),
            (Failed::Access, Some(e)) => format!("cannot access {}: {e}", quote(&self.path)),
            (Failed::Access, None) => format!("cannot access {}", quote(&self.path)),
        }
    }
}

/// Where a scan's errors go as they happen (from any worker).
pub trait ErrorSink: Sync {
    /// One entry that could not be read.
    fn error(&self, error: &ScanError);
}

/// Where other messages of a run go as they happen (`PROGRAM: MESSAGE`,
/// one line each, from any thread): [`Stderr`] writes them; a progress
/// display prints them around itself.
pub trait Messages: Sync {
    /// One message, without the program name.
    fn report(&self, message: &str);
}

/// The default sink: du's line on stderr, one write per error.
#[derive(Clone, Copy, Default, Debug)]
pub struct Stderr;

impl ErrorSink for Stderr {
    fn error(&self, error: &ScanError) {
        report(&error.message());
    }
}

impl Messages for Stderr {
    fn report(&self, message: &str) {
        report(message);
    }
}

#[cfg(test)]
mod tests {
    use super::quote_in;

    #[test]
    fn quotes_like_du() {
        let q = |s: &[u8]| quote_in(s, false);
        assert_eq!(q(b"a b"), "'a b'");
        assert_eq!(q(b"it's"), r#""it's""#);
        assert_eq!(q(b"it's$x"), r"'it'\''s$x'");
        assert_eq!(q(b"x\xffy"), r"'x'$'\377''y'");
        assert_eq!(q(b"a\nb"), r"'a'$'\n''b'");
        assert_eq!(q(b"a\x01b\x02c"), r"'a'$'\001''b'$'\002''c'");
        assert_eq!(q(b"it's\n"), r"'''it'\''s'$'\n'");
        assert_eq!(q("\u{e9}".as_bytes()), r"''$'\303\251'");
        assert_eq!(quote_in("\u{e9}".as_bytes(), true), "'\u{e9}'");
        assert_eq!(super::quotef(b"/no/such"), "/no/such");
        assert_eq!(super::quotef(b"a b"), "'a b'");
        assert_eq!(super::quotef(b"~x"), "'~x'");
        // What du 9.1 prints for `du -X NAME` (LC_ALL=C).
        for (name, want) in [
            ("a]b", "a]b"),
            ("a#b", "a#b"),
            ("a{b", "a{b"),
            ("a@b", "a@b"),
            ("x%y+z,-.", "x%y+z,-."),
            ("{", "'{'"),
            ("a=b", "'a=b'"),
            ("a^b", "'a^b'"),
            ("a?b", "'a?b'"),
            ("x:y", "'x:y'"),
        ] {
            assert_eq!(super::quotef(name.as_bytes()), want, "{name}");
        }
        // What du 9.1 prints (LC_ALL=C).
        assert_eq!(q(b"\n"), r"''$'\n'");
        assert_eq!(q(b"\nx"), r"''$'\n''x'");
        assert_eq!(q(b"x\n"), r"'x'$'\n'");
        assert_eq!(q(b"it's*"), r"'it'\''s*'");
        assert_eq!(q(b"it's x"), r#""it's x""#);
        assert_eq!(q(b"~it's"), r#""~it's""#);
        assert_eq!(q(b"it's~"), r"'it'\''s~'");
        assert_eq!(q(b"{it's"), r"'{it'\''s'");
        assert_eq!(q(b"it's:@,]+%"), r#""it's:@,]+%""#);
        assert_eq!(q(b"\xcf'\\\x80"), r"'\317'\''\'$'\200'");
        assert_eq!(q(b"\xcf'"), r"''$'\317'\'''");
        assert_eq!(q(b"x'\xff"), r"'''x'\'''$'\377'");
        assert_eq!(q(b"\xff'x"), r"''$'\377'\''x'");
        assert_eq!(q(b"ab'\xff'cd"), r"'ab'\'''$'\377'\''cd'");
    }
}
