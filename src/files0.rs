//! `--files0-from=F`: the path operands read from a file, as du reads
//! them.
use std::io;

use crate::diag;

/// `--files0-from=F`: the names in F (`-` is stdin), NUL-separated, the last
/// one possibly unterminated. Empty names, and `-` when reading stdin, are
/// reported as du does and left out. `None` when F cannot be opened
/// (reported); else the names and whether anything was reported.
pub fn read(from: &[u8]) -> Option<(Vec<Vec<u8>>, bool)> {
    use std::io::Read;
    let stdin = from == b"-";
    let mut text = Vec::new();
    let mut failed = false;
    let read = if stdin {
        io::stdin().lock().read_to_end(&mut text)
    } else {
        match std::fs::File::open(crate::walk::os_path(from)) {
            Ok(mut f) => f.read_to_end(&mut text),
            Err(e) => {
                diag::report(&format!(
                    "cannot open {} for reading: {}",
                    diag::quote(from),
                    fdu_platform::Errno::from(e)
                ));
                return None;
            }
        }
    };
    if let Err(e) = read {
        diag::report(&format!(
            "{}: read error: {}",
            diag::quotef(from),
            fdu_platform::Errno::from(e)
        ));
        failed = true;
    }
    let mut names = Vec::new();
    if text.is_empty() {
        return Some((names, failed));
    }
    if text.last() == Some(&0) {
        text.pop();
    }
    for (i, name) in text.split(|&b| b == 0).enumerate() {
        if stdin && name == b"-" {
            diag::report(&format!(
                "when reading file names from stdin, no file name of {} allowed",
                diag::quote(name)
            ));
            failed = true;
        } else if name.is_empty() {
            diag::report(&format!(
                "{}:{}: invalid zero-length file name",
                diag::quotef(from),
                i + 1
            ));
            failed = true;
        } else {
            names.push(name.to_vec());
        }
    }
    Some((names, failed))
}
