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

/// Quote `path` for a message: `'name'`, or `$'...'` with octal escapes
/// when it holds control characters or bytes that are not UTF-8.
pub fn quote(path: &[u8]) -> String {
    match std::str::from_utf8(path) {
        Ok(text) if !text.chars().any(char::is_control) => {
            format!("'{}'", text.replace('\'', "'\\''"))
        }
        _ => {
            let mut out = String::from("$'");
            for chunk in path.utf8_chunks() {
                for c in chunk.valid().chars() {
                    match c {
                        '\'' => out.push_str("\\'"),
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '\t' => out.push_str("\\t"),
                        c if c.is_control() => {
                            let mut b = [0u8; 4];
                            for byte in c.encode_utf8(&mut b).bytes() {
                                out.push_str(&format!("\\{byte:03o}"));
                            }
                        }
                        c => out.push(c),
                    }
                }
                for byte in chunk.invalid() {
                    out.push_str(&format!("\\{byte:03o}"));
                }
            }
            out.push('\'');
            out
        }
    }
}

/// Print `fdu: MESSAGE` on stderr as one write, so lines from several
/// workers never interleave.
pub fn report(message: &str) {
    let line = format!("fdu: {message}\n");
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
    use super::quote;

    #[test]
    fn quotes_like_du() {
        assert_eq!(quote(b"a b"), "'a b'");
        assert_eq!(quote(b"it's"), "'it'\\''s'");
        assert_eq!(quote(b"x\xffy"), "$'x\\377y'");
        assert_eq!(quote(b"a\nb"), "$'a\\nb'");
    }
}
