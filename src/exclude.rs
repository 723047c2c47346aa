//! `--exclude=GLOB`, matched as du matches it.
//!
//! du (gnulib `exclude_fnmatch` with `EXCLUDE_WILDCARDS`) calls `fnmatch(3)`
//! without flags on the entry's whole printed path and on every suffix that
//! starts after a `/`. Without `FNM_PATHNAME` or `FNM_PERIOD`, `*` and `?`
//! also match `/` and leading dots; `[...]` takes ranges, `!`/`^` negation
//! and POSIX classes (`[[:digit:]]`); `\` escapes; braces are literal. So
//! `--exclude=node_modules` prunes every directory of that name and
//! `--exclude='*.o'` every object file. A pruned directory is neither counted
//! nor descended into.
//!
//! The matcher is written here rather than taken from a glob crate because
//! those implement shell or gitignore globs (brace alternation, `**`), whose
//! answers differ from du's.

/// A set of `--exclude` patterns.
#[derive(Clone, Debug)]
pub struct Exclude {
    patterns: Vec<Vec<u8>>,
}

impl Exclude {
    /// Keep the patterns: every byte string is a valid fnmatch pattern.
    pub fn new(patterns: &[String]) -> Exclude {
        Exclude {
            patterns: patterns.iter().map(|p| p.as_bytes().to_vec()).collect(),
        }
    }

    fn matches_one(&self, path: &[u8]) -> bool {
        self.patterns.iter().any(|p| fnmatch(p, path))
    }

    /// Whether the entry printed as `path` is excluded.
    pub fn matches(&self, path: &[u8]) -> bool {
        if self.matches_one(path) {
            return true;
        }
        (0..path.len()).any(|i| {
            path[i] == b'/'
                && i + 1 < path.len()
                && path[i + 1] != b'/'
                && self.matches_one(&path[i + 1..])
        })
    }
}

/// A bracket expression at the start of `pat` (just after `[`): whether it
/// matches `c`, and how many pattern bytes it spans. `None` when the bracket
/// is not closed, in which case `[` is an ordinary character.
fn bracket(pat: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 0;
    let negate = matches!(pat.first(), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let &b = pat.get(i)?;
        if b == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if b == b'[' && pat.get(i + 1) == Some(&b':') {
            if let Some(end) = pat[i + 2..].windows(2).position(|w| w == b":]") {
                let class = &pat[i + 2..i + 2 + end];
                matched |= in_class(class, c);
                i += end + 4;
                continue;
            }
        }
        let (lo, step) = if b == b'\\' && i + 1 < pat.len() {
            (pat[i + 1], 2)
        } else {
            (b, 1)
        };
        i += step;
        if pat.get(i) == Some(&b'-') && pat.get(i + 1).is_some_and(|&n| n != b']') {
            let (hi, step) = if pat[i + 1] == b'\\' && i + 2 < pat.len() {
                (pat[i + 2], 3)
            } else {
                (pat[i + 1], 2)
            };
            i += step;
            matched |= lo <= c && c <= hi;
        } else {
            matched |= lo == c;
        }
    }
}

fn in_class(class: &[u8], c: u8) -> bool {
    match class {
        b"alnum" => c.is_ascii_alphanumeric(),
        b"alpha" => c.is_ascii_alphabetic(),
        b"blank" => c == b' ' || c == b'\t',
        b"cntrl" => c.is_ascii_control(),
        b"digit" => c.is_ascii_digit(),
        b"graph" => c.is_ascii_graphic(),
        b"lower" => c.is_ascii_lowercase(),
        b"print" => c.is_ascii_graphic() || c == b' ',
        b"punct" => c.is_ascii_punctuation(),
        b"space" => c.is_ascii_whitespace() || c == 0x0b,
        b"upper" => c.is_ascii_uppercase(),
        b"xdigit" => c.is_ascii_hexdigit(),
        _ => false,
    }
}

/// `fnmatch(pat, s, 0)` on bytes, with backtracking to the last `*`.
pub fn fnmatch(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        let step = match pat.get(p) {
            Some(b'*') => {
                while pat.get(p) == Some(&b'*') {
                    p += 1;
                }
                star = Some((p, i));
                continue;
            }
            Some(b'?') => Some(1),
            Some(b'[') => match bracket(&pat[p + 1..], s[i]) {
                Some((true, len)) => Some(1 + len),
                Some((false, _)) => None,
                None => (s[i] == b'[').then_some(1),
            },
            Some(b'\\') if p + 1 < pat.len() => (pat[p + 1] == s[i]).then_some(2),
            Some(&b) => (b == s[i]).then_some(1),
            None => None,
        };
        match step {
            Some(n) => {
                p += n;
                i += 1;
            }
            None => match star {
                Some((sp, si)) => {
                    p = sp;
                    i = si + 1;
                    star = Some((sp, si + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::{fnmatch, Exclude};

    fn ex(p: &str) -> Exclude {
        Exclude::new(&[p.to_string()])
    }

    #[test]
    fn matches_any_suffix_after_a_slash() {
        assert!(ex("b").matches(b"a/b"));
        assert!(!ex("b").matches(b"a/bc"));
        assert!(ex("*.o").matches(b"./x/y.o"));
        assert!(ex("x/y").matches(b"root/x/y"));
        assert!(ex("a*z").matches(b"r/ab/xz"));
        assert!(ex("*").matches(b"anything"));
        assert!(!ex("c").matches(b"a/b"));
    }

    #[test]
    fn fnmatch_without_flags() {
        assert!(fnmatch(b"{a,b}.txt", b"{a,b}.txt"));
        assert!(!fnmatch(b"{a,b}.txt", b"a.txt"));
        assert!(fnmatch(b"*[[:digit:]]*", b"sub1"));
        assert!(!fnmatch(b"*[[:digit:]]*", b"sub"));
        assert!(fnmatch(b"[!a]x", b"bx"));
        assert!(!fnmatch(b"[^a]x", b"ax"));
        assert!(fnmatch(b"[]]", b"]"));
        assert!(fnmatch(b"[a-c]", b"b"));
        assert!(fnmatch(b"[", b"["));
        assert!(fnmatch(b"\\*", b"*"));
        assert!(!fnmatch(b"\\*", b"x"));
        assert!(fnmatch(b"?", b"/"));
        assert!(fnmatch(b"*", b".hidden"));
        assert!(fnmatch(b"a*b*c", b"aXbYbZc"));
        assert!(!fnmatch(b"a*b*c", b"aXbYbZ"));
        assert!(fnmatch(b"", b""));
        assert!(!fnmatch(b"", b"a"));
    }
}
