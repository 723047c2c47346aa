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
/// single quote and nothing a shell would expand in double quotes; runs of
/// unprintable bytes as `$'\n'` or `$'\377'` between quoted runs.
pub fn quote(path: &[u8]) -> String {
    quote_in(path, utf8_locale())
}

/// Quote `path` only where a shell would need it, as du's `quotef` does
/// (gnulib's shell-escape style): `/no/such` bare, `'a b'` quoted.
pub fn quotef(path: &[u8]) -> String {
    let plain = !path.is_empty()
        && !matches!(path[0], b'#' | b'~')
        && path
            .iter()
            .all(|&b| b.is_ascii_graphic() && !b"!\"$&'()*;<=>?[\\]^`{|}".contains(&b));
    if plain {
        String::from_utf8_lossy(path).into_owned()
    } else {
        quote(path)
    }
}

fn single_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn quote_in(path: &[u8], utf8: bool) -> String {
    // Split into runs of printable text and of unprintable bytes.
    let mut pieces: Vec<(bool, Vec<u8>)> = Vec::new();
    let mut push = |printable: bool, bytes: &[u8]| match pieces.last_mut() {
        Some((p, buf)) if *p == printable => buf.extend_from_slice(bytes),
        _ => pieces.push((printable, bytes.to_vec())),
    };
    for chunk in path.utf8_chunks() {
        for c in chunk.valid().chars() {
            let mut b = [0u8; 4];
            let printable = !c.is_control() && (c.is_ascii() || utf8);
            push(printable, c.encode_utf8(&mut b).as_bytes());
        }
        if !chunk.invalid().is_empty() {
            push(false, chunk.invalid());
        }
    }
    let has_quote = path.contains(&b'\'');
    if pieces.iter().all(|(printable, _)| *printable) {
        let text = String::from_utf8_lossy(path);
        if has_quote && !text.contains(['"', '$', '`', '\\']) {
            return format!("\"{text}\"");
        }
        return single_quoted(&text);
    }
    // gnulib restarts its quoting when it meets a quote in such a name,
    // which leaves an empty '' in front.
    let mut out = String::from(if has_quote { "''" } else { "" });
    for (printable, bytes) in pieces {
        if printable {
            out.push_str(&single_quoted(&String::from_utf8_lossy(&bytes)));
            continue;
        }
        out.push_str("$'");
        for b in bytes {
            match b {
                0x07 => out.push_str(r"\a"),
                0x08 => out.push_str(r"\b"),
                0x0c => out.push_str(r"\f"),
                b'\n' => out.push_str(r"\n"),
                b'\r' => out.push_str(r"\r"),
                b'\t' => out.push_str(r"\t"),
                0x0b => out.push_str(r"\v"),
                _ => out.push_str(&format!("\\{b:03o}")),
            }
        }
        out.push('\'');
    }
    out
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

/// `cannot read directory 'PATH': REASON`.
pub fn cannot_read(path: &[u8], errno: Errno) {
    report(&format!("cannot read directory {}: {errno}", quote(path)));
}

/// `cannot access 'PATH': REASON`, or without a reason (du's wording for a
/// dangling symlink under `-L`).
pub fn cannot_access(path: &[u8], errno: Option<Errno>) {
    match errno {
        Some(e) => report(&format!("cannot access {}: {e}", quote(path))),
        None => report(&format!("cannot access {}", quote(path))),
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
        assert_eq!(q("\u{e9}".as_bytes()), r"$'\303\251'");
        assert_eq!(quote_in("\u{e9}".as_bytes(), true), "'\u{e9}'");
        assert_eq!(super::quotef(b"/no/such"), "/no/such");
        assert_eq!(super::quotef(b"a b"), "'a b'");
        assert_eq!(super::quotef(b"~x"), "'~x'");
    }
}
