//! A streaming reader for ncdu's JSON export format: one event per entry,
//! in file order, with memory for the open directories and one entry.
//!
//! ```text
//! [1,2,{..},                      Reader::new reads up to here: header()
//! [{"name":"/r"},                 Dir(/r)
//!   {"name":"f"},                 File(f)
//!   [{"name":"d"},                Dir(d)
//!     {"name":"g"}],              File(g), EndDir
//!   [{"name":"e"}]                Dir(e), EndDir
//! ]]                              EndDir, then None
//! ```
//!
//! The JSON is tokenized by hand over a 64 KiB buffer, without recursion:
//! the open directories are a stack of their devices, a value under an
//! unknown key is skipped with a stack of one byte a level. Every error
//! names the byte offset where the input went wrong (for a truncated
//! file, its length); the reader never guesses past one. What it accepts
//! beyond strict JSON, and why, is in [the module doc](super).

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Read};

use super::{Entry, Excluded, Header, MAJOR_VERSION, MAX_VERSION};

/// The deepest nesting of directories read, the root being level 1 (and of
/// arrays and objects under an unknown key). Far deeper than any real
/// tree; it bounds the reader's stack at 8 MiB.
pub const MAX_DEPTH: usize = 1_000_000;

/// The longest string kept, a name or a key, in bytes: far above any file
/// system's limit, well below trouble for memory. Longer strings under an
/// unknown key are skipped without being kept, whatever their length.
pub const MAX_STRING: usize = 1 << 20;

/// Bytes asked of the source at a time.
const BUF_SIZE: usize = 64 * 1024;

/// What the reader found next in an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A directory's own info; its items follow, up to its [`Event::EndDir`].
    /// The first event is the root's.
    Dir(&'a Entry),
    /// Anything that is not a directory.
    File(&'a Entry),
    /// The end of the directory whose [`Event::Dir`] is the latest one not
    /// yet ended.
    EndDir,
}

/// Why an export could not be read: the file as the caller named it, the
/// byte offset where it went wrong, and what is wrong there.
///
/// Displays as `FILE: byte OFFSET: MESSAGE`, the file name as it was given
/// (quoting it is the caller's business).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    /// The name given to [`Reader::new`].
    pub file: String,
    /// Offset from the start of the input, 0-based: of the byte that is
    /// wrong, of the start of a value that is, or the input's length when
    /// it ends too early.
    pub offset: u64,
    /// What is wrong, in a few words.
    pub message: String,
    /// The kind of the I/O error, when reading failed (then `offset` is how
    /// far it got).
    pub io: Option<io::ErrorKind>,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: byte {}: {}", self.file, self.offset, self.message)
    }
}

impl std::error::Error for ReadError {}

/// An error before the file name is attached.
#[derive(Debug)]
struct Fail {
    offset: u64,
    message: Cow<'static, str>,
    io: Option<io::ErrorKind>,
}

impl Fail {
    #[cold]
    fn new(offset: u64, message: impl Into<Cow<'static, str>>) -> Fail {
        Fail {
            offset,
            message: message.into(),
            io: None,
        }
    }
}

type Res<T> = Result<T, Fail>;

/// The known keys of an info object; the discriminant is the key's bit in
/// the set of keys seen.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Key {
    Name,
    Asize,
    Dsize,
    Dev,
    Ino,
    Hlnkc,
    Nlink,
    ReadError,
    Excluded,
    Notreg,
    Uid,
    Gid,
    Mode,
    Mtime,
    Unknown,
}

impl Key {
    fn of(key: &[u8]) -> Key {
        // By length first: one comparison for most keys.
        match key.len() {
            3 => match key {
                b"dev" => Key::Dev,
                b"ino" => Key::Ino,
                b"uid" => Key::Uid,
                b"gid" => Key::Gid,
                _ => Key::Unknown,
            },
            4 => match key {
                b"name" => Key::Name,
                b"mode" => Key::Mode,
                _ => Key::Unknown,
            },
            5 => match key {
                b"asize" => Key::Asize,
                b"dsize" => Key::Dsize,
                b"hlnkc" => Key::Hlnkc,
                b"nlink" => Key::Nlink,
                b"mtime" => Key::Mtime,
                _ => Key::Unknown,
            },
            6 if key == b"notreg" => Key::Notreg,
            8 if key == b"excluded" => Key::Excluded,
            10 if key == b"read_error" => Key::ReadError,
            _ => Key::Unknown,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Key::Name => "name",
            Key::Asize => "asize",
            Key::Dsize => "dsize",
            Key::Dev => "dev",
            Key::Ino => "ino",
            Key::Hlnkc => "hlnkc",
            Key::Nlink => "nlink",
            Key::ReadError => "read_error",
            Key::Excluded => "excluded",
            Key::Notreg => "notreg",
            Key::Uid => "uid",
            Key::Gid => "gid",
            Key::Mode => "mode",
            Key::Mtime => "mtime",
            Key::Unknown => "?",
        }
    }
}

/// A JSON number as read: sign, magnitude (if it fits a u64), and whether
/// it was written as an integer.
struct Num {
    neg: bool,
    mag: Option<u64>,
    int: bool,
}

/// "`prefix`expected `expected`, found ..." for the value starting at
/// `at` with `b`; at the end of the input, that it ended.
#[cold]
fn wrong(at: u64, b: Option<u8>, prefix: &str, expected: &str) -> Fail {
    match b {
        None => Fail::new(at, "unexpected end of file"),
        Some(_) => Fail::new(
            at,
            format!("{prefix}expected {expected}, found {}", found(b)),
        ),
    }
}

/// What a value starting with `b` is, for "expected X, found Y".
fn found(b: Option<u8>) -> Cow<'static, str> {
    match b {
        None => "the end of the file".into(),
        Some(b'"') => "a string".into(),
        Some(b'{') => "an object".into(),
        Some(b'[') => "an array".into(),
        Some(b't' | b'f') => "a boolean".into(),
        Some(b'n') => "null".into(),
        Some(b'-' | b'0'..=b'9') => "a number".into(),
        Some(b) => describe(b).into(),
    }
}

/// A byte as an error message shows it: printable ASCII quoted, others in
/// hex.
fn describe(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", b as char)
    } else {
        format!("byte 0x{b:02x}")
    }
}

/// The input: a buffer, the offset of its first byte, and the source.
struct Src<R> {
    inner: R,
    buf: Box<[u8]>,
    /// Next byte to read in `buf`.
    pos: usize,
    /// End of the valid bytes in `buf`.
    end: usize,
    /// Offset in the input of `buf[0]`.
    base: u64,
    /// The source said end of file: it is not read again.
    eof: bool,
}

impl<R: Read> Src<R> {
    fn new(inner: R) -> Src<R> {
        Src {
            inner,
            buf: vec![0; BUF_SIZE].into_boxed_slice(),
            pos: 0,
            end: 0,
            base: 0,
            eof: false,
        }
    }

    /// Offset in the input of the next byte.
    #[inline]
    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Reads the next block once the buffer is used up; false at the end of
    /// the input.
    #[cold]
    fn refill(&mut self) -> Res<bool> {
        debug_assert_eq!(self.pos, self.end);
        if self.eof {
            return Ok(false);
        }
        self.base += self.end as u64;
        self.pos = 0;
        self.end = 0;
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end = n.min(self.buf.len());
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(Fail {
                        offset: self.offset(),
                        message: format!("read error: {e}").into(),
                        io: Some(e.kind()),
                    })
                }
            }
        }
    }

    /// The next byte, not consumed; `None` at the end of the input.
    #[inline]
    fn peek(&mut self) -> Res<Option<u8>> {
        if self.pos < self.end || self.refill()? {
            Ok(Some(self.buf[self.pos]))
        } else {
            Ok(None)
        }
    }

    /// Skips whitespace; the next byte after it, not consumed.
    #[inline]
    fn ws(&mut self) -> Res<Option<u8>> {
        loop {
            while self.pos < self.end {
                let b = self.buf[self.pos];
                if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                    return Ok(Some(b));
                }
                self.pos += 1;
            }
            if !self.refill()? {
                return Ok(None);
            }
        }
    }

    /// An error at the next byte: `expected`, and what is there instead.
    #[cold]
    fn unexpected(&mut self, expected: &str) -> Fail {
        let at = self.offset();
        match self.peek() {
            Ok(None) => Fail::new(at, "unexpected end of file"),
            Ok(Some(b)) => Fail::new(at, format!("expected {expected}, found {}", describe(b))),
            Err(e) => e,
        }
    }

    /// Skips whitespace, then consumes `want`.
    #[inline]
    fn expect(&mut self, want: u8, expected: &str) -> Res<()> {
        if self.ws()? == Some(want) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    /// Consumes the literal `lit` (`true`, `false`, `null`), which starts
    /// at the next byte.
    fn literal(&mut self, lit: &[u8]) -> Res<()> {
        for &want in lit {
            if self.peek()? != Some(want) {
                let what = format!("'{}'", String::from_utf8_lossy(lit));
                return Err(self.unexpected(&what));
            }
            self.pos += 1;
        }
        Ok(())
    }

    /// A boolean value at the next byte, for `key`.
    fn boolean(&mut self, key: Key) -> Res<bool> {
        match self.peek()? {
            Some(b't') => self.literal(b"true").map(|()| true),
            Some(b'f') => self.literal(b"false").map(|()| false),
            b => Err(wrong(self.offset(), b, &field(key), "a boolean")),
        }
    }

    /// Consumes digits, adding them to `mag` (which becomes `None` on
    /// overflow); false if there was none.
    #[inline]
    fn digits(&mut self, mag: &mut Option<u64>) -> Res<bool> {
        let mut any = false;
        loop {
            // Up to 19 digits cannot overflow: no check per digit.
            if let Some(m) = *mag {
                let run = &self.buf[self.pos..self.end];
                let n = run
                    .iter()
                    .take(19)
                    .position(|b| !b.is_ascii_digit())
                    .unwrap_or(run.len().min(19));
                if n > 0 {
                    any = true;
                    let mut v = 0u64;
                    for &b in &run[..n] {
                        v = v * 10 + u64::from(b - b'0');
                    }
                    *mag = 10u64
                        .checked_pow(n as u32)
                        .and_then(|p| m.checked_mul(p))
                        .and_then(|m| m.checked_add(v));
                    self.pos += n;
                    if n < 19 && self.pos < self.end {
                        return Ok(true);
                    }
                    continue;
                }
            }
            while self.pos < self.end {
                let b = self.buf[self.pos];
                if !b.is_ascii_digit() {
                    return Ok(any);
                }
                any = true;
                *mag = mag
                    .and_then(|m| m.checked_mul(10))
                    .and_then(|m| m.checked_add(u64::from(b - b'0')));
                self.pos += 1;
            }
            if !self.refill()? {
                return Ok(any);
            }
        }
    }

    /// A JSON number at the next byte (a `-` or a digit), in full: sign,
    /// integer part without leading zeros, fraction, exponent.
    fn number(&mut self) -> Res<Num> {
        let mut num = Num {
            neg: false,
            mag: Some(0),
            int: true,
        };
        if self.peek()? == Some(b'-') {
            num.neg = true;
            self.pos += 1;
        }
        match self.peek()? {
            Some(b'0') => {
                self.pos += 1;
                if matches!(self.peek()?, Some(b'0'..=b'9')) {
                    return Err(Fail::new(self.offset(), "leading zero in a number"));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits(&mut num.mag)?;
            }
            _ => return Err(self.unexpected("a digit")),
        }
        let mut ignored = Some(0);
        if self.peek()? == Some(b'.') {
            num.int = false;
            self.pos += 1;
            if !self.digits(&mut ignored)? {
                return Err(self.unexpected("a digit after '.'"));
            }
        }
        if matches!(self.peek()?, Some(b'e' | b'E')) {
            num.int = false;
            self.pos += 1;
            if matches!(self.peek()?, Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !self.digits(&mut ignored)? {
                return Err(self.unexpected("a digit in the exponent"));
            }
        }
        if self.peek()?.is_none() {
            // No export ends in a number: judging a cut one would mislead.
            return Err(self.unexpected("more"));
        }
        Ok(num)
    }

    /// An integer value at the next byte, for `key`: its sign and
    /// magnitude, or an error at its start if it is not an integer or does
    /// not fit 64 bits.
    fn integer(&mut self, key: Key) -> Res<(bool, u64)> {
        let at = self.offset();
        let b = self.peek()?;
        if !matches!(b, Some(b'-' | b'0'..=b'9')) {
            return Err(wrong(at, b, &field(key), "an integer"));
        }
        let num = self.number()?;
        if !num.int {
            return Err(Fail::new(
                at,
                format!(
                    "\"{}\": expected an integer, found a fraction",
                    key.as_str()
                ),
            ));
        }
        match num.mag {
            Some(m) => Ok((num.neg, m)),
            None => Err(out_of_range(at, key)),
        }
    }

    /// An unsigned integer value at the next byte, for `key`.
    fn unsigned(&mut self, key: Key) -> Res<u64> {
        let at = self.offset();
        match self.integer(key)? {
            (false, m) => Ok(m),
            (true, _) => Err(Fail::new(
                at,
                format!(
                    "\"{}\": expected an unsigned integer, found a negative one",
                    key.as_str()
                ),
            )),
        }
    }

    /// An unsigned 32-bit value at the next byte, for `key`.
    fn unsigned32(&mut self, key: Key) -> Res<u32> {
        let at = self.offset();
        u32::try_from(self.unsigned(key)?).map_err(|_| out_of_range(at, key))
    }

    /// A uid or gid: 0 to `u32::MAX`, or as ncdu 1.x writes one above
    /// `i32::MAX` (an `int` cast to `uint64_t`): sign-extended to 64 bits.
    fn id(&mut self, key: Key) -> Res<u32> {
        let at = self.offset();
        let v = self.unsigned(key)?;
        if let Ok(v) = u32::try_from(v) {
            return Ok(v);
        }
        if v >= 0xffff_ffff_8000_0000 {
            return Ok(v as u32);
        }
        Err(out_of_range(at, key))
    }

    /// A time in seconds: any i64, or as ncdu 1.x writes one before 1970
    /// (a `time_t` cast to `uint64_t`): above `i64::MAX`, two's complement.
    fn time(&mut self, key: Key) -> Res<i64> {
        let at = self.offset();
        match self.integer(key)? {
            (false, m) => Ok(m as i64),
            (true, m) if m <= 1 << 63 => Ok((m as i64).wrapping_neg()),
            (true, _) => Err(out_of_range(at, key)),
        }
    }

    /// Four hex digits of a `\u` escape.
    fn hex4(&mut self) -> Res<u32> {
        let mut v = 0;
        for _ in 0..4 {
            let d = match self.peek()? {
                Some(b @ b'0'..=b'9') => b - b'0',
                Some(b @ b'a'..=b'f') => b - b'a' + 10,
                Some(b @ b'A'..=b'F') => b - b'A' + 10,
                _ => return Err(self.unexpected("a hex digit")),
            };
            v = v * 16 + u32::from(d);
            self.pos += 1;
        }
        Ok(v)
    }

    /// The escape after a `\` (consumed; it was at `at`), appended to
    /// `out` if `keep`.
    fn escape(&mut self, at: u64, out: &mut Vec<u8>, keep: bool) -> Res<()> {
        let b = match self.peek()? {
            Some(b) => b,
            None => return Err(self.unexpected("an escape")),
        };
        let simple = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => 0,
            _ => {
                return Err(Fail::new(
                    at,
                    format!("invalid escape '\\{}'", b.escape_ascii()),
                ))
            }
        };
        self.pos += 1;
        if b != b'u' {
            if keep {
                out.push(simple);
            }
            return Ok(());
        }
        let hi = self.hex4()?;
        let c = match hi {
            0xd800..=0xdbff => {
                for want in [b'\\', b'u'] {
                    match self.peek()? {
                        Some(b) if b == want => self.pos += 1,
                        None => return Err(self.unexpected("a low surrogate")),
                        Some(_) => return Err(Fail::new(at, "unpaired surrogate in a \\u escape")),
                    }
                }
                let lo = self.hex4()?;
                if !(0xdc00..=0xdfff).contains(&lo) {
                    return Err(Fail::new(at, "unpaired surrogate in a \\u escape"));
                }
                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
            }
            0xdc80..=0xdcff => {
                // surrogateescape: the byte that was not UTF-8.
                if keep {
                    out.push((hi - 0xdc00) as u8);
                }
                return Ok(());
            }
            0xdc00..=0xdfff => {
                return Err(Fail::new(at, "unpaired surrogate in a \\u escape"));
            }
            c => c,
        };
        if keep {
            let c = char::from_u32(c).expect("not a surrogate");
            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        }
        Ok(())
    }

    /// A string whose opening quote is the next byte: its bytes, escapes
    /// decoded, appended to `out` if `keep` (at most [`MAX_STRING`]).
    fn string(&mut self, out: &mut Vec<u8>, keep: bool) -> Res<()> {
        let start = self.offset();
        debug_assert_eq!(self.peek().ok().flatten(), Some(b'"'));
        self.pos += 1;
        let limit = out.len() + MAX_STRING;
        loop {
            let run = &self.buf[self.pos..self.end];
            let n = run
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(run.len());
            if keep {
                out.extend_from_slice(&run[..n]);
                if out.len() > limit {
                    return Err(Fail::new(
                        start,
                        format!("string longer than {MAX_STRING} bytes"),
                    ));
                }
            }
            self.pos += n;
            if self.pos == self.end {
                if !self.refill()? {
                    return Err(self.unexpected("'\"'"));
                }
                continue;
            }
            let b = self.buf[self.pos];
            if b == b'"' {
                self.pos += 1;
                return Ok(());
            }
            if b == b'\\' {
                let at = self.offset();
                self.pos += 1;
                self.escape(at, out, keep)?;
            } else {
                return Err(Fail::new(
                    self.offset(),
                    format!("control character 0x{b:02x} in a string"),
                ));
            }
        }
    }

    /// A key (its opening quote at the next byte), with its ':'.
    fn key(&mut self, scratch: &mut Vec<u8>) -> Res<Key> {
        // Fast path: a short key without escapes, all in the buffer.
        let run = &self.buf[self.pos + 1..self.end];
        let probe = &run[..run.len().min(16)];
        let key = match probe
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        {
            Some(n) if probe[n] == b'"' => {
                let k = Key::of(&probe[..n]);
                self.pos += n + 2;
                k
            }
            _ => {
                scratch.clear();
                self.string(scratch, true)?;
                Key::of(scratch)
            }
        };
        self.expect(b':', "':'")?;
        self.ws()?;
        Ok(key)
    }

    /// Skips the value at the next byte, whatever it is, without
    /// recursion: `stack` holds the closing bracket of each open level.
    fn skip_value(&mut self, stack: &mut Vec<u8>, max_depth: usize) -> Res<()> {
        stack.clear();
        let mut sink = Vec::new();
        loop {
            // A value is due.
            match self.ws()? {
                Some(b'"') => self.string(&mut sink, false)?,
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                Some(b'-' | b'0'..=b'9') => {
                    self.number()?;
                }
                Some(open @ (b'[' | b'{')) => {
                    if stack.len() >= max_depth {
                        return Err(Fail::new(
                            self.offset(),
                            format!("values nested deeper than {max_depth} levels"),
                        ));
                    }
                    self.pos += 1;
                    let close = if open == b'[' { b']' } else { b'}' };
                    match self.ws()? {
                        Some(b) if b == close => self.pos += 1,
                        Some(b'"') if open == b'{' => {
                            stack.push(close);
                            self.skip_key()?;
                            continue;
                        }
                        _ if open == b'{' => return Err(self.unexpected("'\"' or '}'")),
                        _ => {
                            stack.push(close);
                            continue;
                        }
                    }
                }
                _ => return Err(self.unexpected("a JSON value")),
            }
            // A value ended: close levels until one goes on.
            loop {
                let Some(&close) = stack.last() else {
                    return Ok(());
                };
                match self.ws()? {
                    Some(b',') => {
                        self.pos += 1;
                        if close == b'}' {
                            if self.ws()? != Some(b'"') {
                                return Err(self.unexpected("'\"'"));
                            }
                            self.skip_key()?;
                        }
                        break;
                    }
                    Some(b) if b == close => {
                        self.pos += 1;
                        stack.pop();
                    }
                    _ => {
                        let what = if close == b'}' {
                            "',' or '}'"
                        } else {
                            "',' or ']'"
                        };
                        return Err(self.unexpected(what));
                    }
                }
            }
        }
    }

    /// Skips a key of a skipped object, and its ':'.
    fn skip_key(&mut self) -> Res<()> {
        self.string(&mut Vec::new(), false)?;
        self.expect(b':', "':'")
    }
}

/// `"key": `, the start of a message about a field.
fn field(key: Key) -> String {
    format!("\"{}\": ", key.as_str())
}

fn out_of_range(at: u64, key: Key) -> Fail {
    Fail::new(at, format!("\"{}\": number out of range", key.as_str()))
}

/// Where the reader is between events.
#[derive(Debug)]
enum State {
    /// Before the root directory.
    Root,
    /// After a directory's info or one of its items: `,` or `]` is due.
    Items,
    /// The root ended: the top-level array's `]` and the end are due.
    Close,
    /// The whole file was read.
    Done,
    /// An error was returned; it is returned again.
    Failed(ReadError),
}

/// What one step found.
enum Step {
    Dir,
    File,
    EndDir,
    Done,
}

/// Reads an export as a stream of [`Event`]s.
///
/// ```
/// use fdu::export::read::{Event, Reader};
///
/// let json = br#"[1,2,{"progname":"ncdu"},[{"name":"/r","dev":7},{"name":"f","asize":5}]]"#;
/// let mut r = Reader::new(&json[..], "export.json").unwrap();
/// assert_eq!(r.header().progname.as_deref(), Some("ncdu"));
/// let mut total = 0;
/// while let Some(ev) = r.next().unwrap() {
///     if let Event::File(e) = ev {
///         assert_eq!(e.dev, 7); // inherited
///         total += e.asize;
///     }
/// }
/// assert_eq!(total, 5);
/// ```
pub struct Reader<R> {
    src: Src<R>,
    file: String,
    header: Header,
    entry: Entry,
    /// The device of each open directory, the root first.
    devs: Vec<u64>,
    state: State,
    max_depth: usize,
    /// Offset of the `{` or `[` of the latest entry.
    entry_offset: u64,
    /// A key with escapes, decoded; an `excluded` string.
    scratch: Vec<u8>,
    /// The closing brackets of a value being skipped.
    skip: Vec<u8>,
}

impl<R: Read> Reader<R> {
    /// Reads the header of the export in `input` (up to the root
    /// directory) and checks it. `file` names the input in errors.
    ///
    /// `input` is read in blocks of 64 KiB: a `File` needs no `BufReader`.
    pub fn new(input: R, file: impl Into<String>) -> Result<Reader<R>, ReadError> {
        let mut r = Reader {
            src: Src::new(input),
            file: file.into(),
            header: Header::default(),
            entry: Entry::default(),
            devs: Vec::new(),
            state: State::Root,
            max_depth: MAX_DEPTH,
            entry_offset: 0,
            scratch: Vec::new(),
            skip: Vec::new(),
        };
        match r.read_header() {
            Ok(()) => Ok(r),
            Err(f) => Err(r.error(f)),
        }
    }

    /// The versions and metadata.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Directories open: 0 before the root's [`Event::Dir`] and after its
    /// [`Event::EndDir`], 1 among the root's items.
    pub fn depth(&self) -> usize {
        self.devs.len()
    }

    /// Offset of the `{` (or `[` for a directory) of the entry of the latest
    /// [`Event::Dir`] or [`Event::File`], for the caller's own messages.
    pub fn entry_offset(&self) -> u64 {
        self.entry_offset
    }

    /// The error for a problem the caller finds at `offset` (a second root,
    /// say), worded as the reader's own.
    pub fn error_at(&self, offset: u64, message: impl Into<String>) -> ReadError {
        ReadError {
            file: self.file.clone(),
            offset,
            message: message.into(),
            io: None,
        }
    }

    /// Sets the deepest nesting read (default [`MAX_DEPTH`], at least 1).
    pub fn set_max_depth(&mut self, levels: usize) {
        self.max_depth = levels.max(1);
    }

    /// The next event; `Ok(None)` once the top-level array has ended and
    /// only whitespace follows. After an error, the same error again.
    #[allow(clippy::should_implement_trait)] // events borrow the reader
    pub fn next(&mut self) -> Result<Option<Event<'_>>, ReadError> {
        if let State::Failed(e) = &self.state {
            return Err(e.clone());
        }
        match self.step() {
            Ok(Step::Dir) => Ok(Some(Event::Dir(&self.entry))),
            Ok(Step::File) => Ok(Some(Event::File(&self.entry))),
            Ok(Step::EndDir) => Ok(Some(Event::EndDir)),
            Ok(Step::Done) => Ok(None),
            Err(f) => {
                let e = self.error(f);
                self.state = State::Failed(e.clone());
                Err(e)
            }
        }
    }

    fn error(&self, f: Fail) -> ReadError {
        ReadError {
            file: self.file.clone(),
            offset: f.offset,
            message: f.message.into_owned(),
            io: f.io,
        }
    }

    /// `[major, minor, {metadata},` and the whitespace after it.
    fn read_header(&mut self) -> Res<()> {
        let src = &mut self.src;
        match src.ws()? {
            Some(b'[') => src.pos += 1,
            None => return Err(Fail::new(src.offset(), "empty file: not an ncdu export")),
            Some(_) => return Err(src.unexpected("'[' (an ncdu export)")),
        }
        let at = src.ws().map(|_| src.offset())?;
        let major = Self::version(src, "major")?;
        if major != MAJOR_VERSION {
            return Err(Fail::new(
                at,
                format!("unsupported major version {major} (only {MAJOR_VERSION} is known)"),
            ));
        }
        src.expect(b',', "','")?;
        src.ws()?;
        let minor = Self::version(src, "minor")?;
        src.expect(b',', "','")?;
        self.header.major = major as u32;
        self.header.minor = minor as u32;
        self.read_metadata()?;
        self.src.expect(b',', "','")?;
        Ok(())
    }

    /// A version number at the next byte: an integer in `0..=MAX_VERSION`.
    fn version(src: &mut Src<R>, which: &str) -> Res<u64> {
        let at = src.offset();
        let b = src.peek()?;
        if !matches!(b, Some(b'-' | b'0'..=b'9')) {
            return Err(wrong(at, b, "", &format!("the {which} version (a number)")));
        }
        let num = src.number()?;
        match num.mag {
            Some(v) if num.int && !num.neg && v <= MAX_VERSION => Ok(v),
            _ => Err(Fail::new(
                at,
                format!("the {which} version must be an integer from 0 to {MAX_VERSION}"),
            )),
        }
    }

    /// The metadata object: `progname`, `progver` and `timestamp` kept when
    /// they have the expected types, everything else only checked as JSON.
    fn read_metadata(&mut self) -> Res<()> {
        let src = &mut self.src;
        if src.ws()? != Some(b'{') {
            return Err(src.unexpected("the metadata object ('{')"));
        }
        src.pos += 1;
        if src.ws()? == Some(b'}') {
            src.pos += 1;
            return Ok(());
        }
        loop {
            if src.ws()? != Some(b'"') {
                return Err(src.unexpected("'\"'"));
            }
            self.scratch.clear();
            src.string(&mut self.scratch, true)?;
            src.expect(b':', "':'")?;
            let b = src.ws()?;
            match (self.scratch.as_slice(), b) {
                (b"progname" | b"progver", Some(b'"')) => {
                    let mut s = Vec::new();
                    src.string(&mut s, true)?;
                    let s = Some(String::from_utf8_lossy(&s).into_owned());
                    if self.scratch == b"progname" {
                        self.header.progname = s;
                    } else {
                        self.header.progver = s;
                    }
                }
                (b"timestamp", Some(b'-' | b'0'..=b'9')) => {
                    let num = src.number()?;
                    self.header.timestamp = match num.mag {
                        Some(m) if num.int && !num.neg => i64::try_from(m).ok(),
                        Some(m) if num.int => 0i64.checked_sub_unsigned(m),
                        _ => None,
                    };
                }
                _ => src.skip_value(&mut self.skip, self.max_depth)?,
            }
            match src.ws()? {
                Some(b',') => src.pos += 1,
                Some(b'}') => {
                    src.pos += 1;
                    return Ok(());
                }
                _ => return Err(src.unexpected("',' or '}'")),
            }
        }
    }

    fn step(&mut self) -> Res<Step> {
        match self.state {
            State::Root => {
                let at = self.src.ws().map(|_| self.src.offset())?;
                match self.src.peek()? {
                    Some(b'[') => self.src.pos += 1,
                    Some(b'{') => {
                        return Err(Fail::new(at, "the root must be a directory (an array)"))
                    }
                    _ => return Err(self.src.unexpected("'[' (the root directory)")),
                }
                self.dir(at)?;
                self.state = State::Items;
                Ok(Step::Dir)
            }
            State::Items => match self.src.ws()? {
                Some(b',') => {
                    self.src.pos += 1;
                    let at = self.src.ws().map(|_| self.src.offset())?;
                    match self.src.peek()? {
                        Some(b'{') => {
                            self.info(at)?;
                            Ok(Step::File)
                        }
                        Some(b'[') => {
                            if self.devs.len() >= self.max_depth {
                                return Err(Fail::new(
                                    at,
                                    format!(
                                        "directories nested deeper than {} levels",
                                        self.max_depth
                                    ),
                                ));
                            }
                            self.src.pos += 1;
                            self.dir(at)?;
                            Ok(Step::Dir)
                        }
                        _ => Err(self.src.unexpected("'{' (a file) or '[' (a directory)")),
                    }
                }
                Some(b']') => {
                    self.src.pos += 1;
                    self.devs.pop();
                    if self.devs.is_empty() {
                        self.state = State::Close;
                    }
                    Ok(Step::EndDir)
                }
                _ => Err(self.src.unexpected("',' or ']'")),
            },
            State::Close => {
                match self.src.ws()? {
                    Some(b']') => self.src.pos += 1,
                    Some(b',') => {
                        return Err(Fail::new(
                            self.src.offset(),
                            "more after the root directory in the top-level array",
                        ))
                    }
                    _ => return Err(self.src.unexpected("']'")),
                }
                if let Some(b) = self.src.ws()? {
                    return Err(Fail::new(
                        self.src.offset(),
                        format!(
                            "trailing garbage after the top-level array: {}",
                            describe(b)
                        ),
                    ));
                }
                self.state = State::Done;
                Ok(Step::Done)
            }
            State::Done => Ok(Step::Done),
            State::Failed(_) => unreachable!("next() returns the error"),
        }
    }

    /// A directory whose `[` was at `at` (consumed): its info object.
    fn dir(&mut self, at: u64) -> Res<()> {
        let obj = self.src.ws().map(|_| self.src.offset())?;
        if self.src.peek()? != Some(b'{') {
            return Err(self.src.unexpected("'{' (the directory's info object)"));
        }
        self.info(obj)?;
        self.entry_offset = at;
        self.devs.push(self.entry.dev);
        Ok(())
    }

    /// The info object at `at` (its `{` the next byte) into `self.entry`.
    fn info(&mut self, at: u64) -> Res<()> {
        let src = &mut self.src;
        let e = &mut self.entry;
        self.entry_offset = at;
        e.name.clear();
        e.asize = 0;
        e.dsize = 0;
        e.dev = self.devs.last().copied().unwrap_or(0);
        e.ino = None;
        e.hlnkc = false;
        e.nlink = None;
        e.read_error = false;
        e.excluded = None;
        e.notreg = false;
        e.uid = None;
        e.gid = None;
        e.mode = None;
        e.mtime = None;
        src.pos += 1;
        let mut seen = 0u32;
        let mut name_at = None;
        if src.ws()? == Some(b'}') {
            src.pos += 1;
        } else {
            loop {
                let key_at = src.offset();
                if src.peek()? != Some(b'"') {
                    return Err(src.unexpected("'\"' (a key)"));
                }
                let key = src.key(&mut self.scratch)?;
                let val_at = src.offset();
                if key != Key::Unknown {
                    let bit = 1 << key as u32;
                    if seen & bit != 0 {
                        return Err(Fail::new(
                            key_at,
                            format!("duplicate key \"{}\"", key.as_str()),
                        ));
                    }
                    seen |= bit;
                }
                match key {
                    Key::Name => {
                        let b = src.peek()?;
                        if b != Some(b'"') {
                            return Err(wrong(val_at, b, "\"name\": ", "a string"));
                        }
                        src.string(&mut e.name, true)?;
                        name_at = Some(val_at);
                    }
                    Key::Asize => e.asize = src.unsigned(key)?,
                    Key::Dsize => e.dsize = src.unsigned(key)?,
                    Key::Dev => e.dev = src.unsigned(key)?,
                    Key::Ino => e.ino = Some(src.unsigned(key)?),
                    Key::Hlnkc => e.hlnkc = src.boolean(key)?,
                    Key::Nlink => e.nlink = Some(src.unsigned32(key)?),
                    Key::ReadError => e.read_error = src.boolean(key)?,
                    Key::Notreg => e.notreg = src.boolean(key)?,
                    Key::Uid => e.uid = Some(src.id(key)?),
                    Key::Gid => e.gid = Some(src.id(key)?),
                    Key::Mode => e.mode = Some(src.unsigned32(key)?),
                    Key::Mtime => e.mtime = Some(src.time(key)?),
                    Key::Excluded => match src.peek()? {
                        Some(b'"') => {
                            self.scratch.clear();
                            src.string(&mut self.scratch, true)?;
                            e.excluded = Some(match self.scratch.as_slice() {
                                b"pattern" => Excluded::Pattern,
                                b"otherfs" | b"othfs" => Excluded::OtherFs,
                                b"kernfs" => Excluded::KernFs,
                                b"frmlnk" => Excluded::FirmLink,
                                _ => Excluded::Other,
                            });
                        }
                        Some(b't' | b'f') => {
                            e.excluded = src.boolean(key)?.then_some(Excluded::Pattern);
                        }
                        b => {
                            return Err(wrong(val_at, b, "\"excluded\": ", "a string or a boolean"))
                        }
                    },
                    Key::Unknown => src.skip_value(&mut self.skip, self.max_depth)?,
                }
                match src.ws()? {
                    Some(b',') => {
                        src.pos += 1;
                        src.ws()?;
                    }
                    Some(b'}') => {
                        src.pos += 1;
                        break;
                    }
                    _ => return Err(src.unexpected("',' or '}'")),
                }
            }
        }
        let Some(name_at) = name_at else {
            return Err(Fail::new(at, "info object without \"name\""));
        };
        let root = self.devs.is_empty();
        let bad = match e.name.as_slice() {
            b"" => Some("empty name"),
            _ if e.name.contains(&0) => Some("name holds a NUL byte"),
            _ if root => None,
            b"." | b".." => Some("name is '.' or '..', not a file name"),
            _ if e.name.contains(&b'/') => Some("name holds '/', not a file name"),
            _ => None,
        };
        match bad {
            Some(m) => Err(Fail::new(name_at, m)),
            None => Ok(()),
        }
    }
}

impl<R> fmt::Debug for Reader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("file", &self.file)
            .field("header", &self.header)
            .field("depth", &self.devs.len())
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event, owned, for comparing.
    #[derive(Clone, Debug, PartialEq, Eq)]
    enum Ev {
        Dir(Entry),
        File(Entry),
        End,
    }

    /// Hands out at most `n` bytes a read, to cross every buffer boundary.
    struct Trickle<'a> {
        data: &'a [u8],
        n: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.n.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn collect<R: Read>(r: R) -> Result<(Header, Vec<Ev>), ReadError> {
        let mut r = Reader::new(r, "t.json")?;
        let mut out = Vec::new();
        let mut depth = 0usize;
        loop {
            match r.next()? {
                None => break,
                Some(Event::Dir(e)) => {
                    depth += 1;
                    out.push(Ev::Dir(e.clone()));
                }
                Some(Event::File(e)) => out.push(Ev::File(e.clone())),
                Some(Event::EndDir) => {
                    depth -= 1;
                    out.push(Ev::End);
                }
            }
            assert_eq!(r.depth(), depth);
        }
        assert_eq!(depth, 0);
        // Done stays done.
        assert!(r.next()?.is_none());
        Ok((r.header().clone(), out))
    }

    /// All events of `input`, the same whether it comes whole or a few
    /// bytes at a time.
    fn read_all(input: &[u8]) -> Result<(Header, Vec<Ev>), ReadError> {
        let whole = collect(input);
        for n in [1, 2, 3, 7] {
            let bits = collect(Trickle { data: input, n });
            assert_eq!(whole, bits, "read {n} bytes at a time");
        }
        whole
    }

    fn events(input: &[u8]) -> Vec<Ev> {
        match read_all(input) {
            Ok((_, evs)) => evs,
            Err(e) => panic!("{}: {e}", String::from_utf8_lossy(input)),
        }
    }

    fn error(input: &[u8]) -> ReadError {
        match read_all(input) {
            Ok(_) => panic!("accepted: {}", String::from_utf8_lossy(input)),
            Err(e) => e,
        }
    }

    /// The error for `input`, which must be at `offset` and say `what`.
    #[track_caller]
    fn check_error(input: &[u8], offset: usize, what: &str) {
        let e = error(input);
        assert!(
            e.offset == offset as u64 && e.message.contains(what),
            "{}\n  got {e}\n  want byte {offset}: ..{what}..",
            String::from_utf8_lossy(input)
        );
    }

    /// An export whose root `/r` holds `items` (each starting with ',').
    fn under_root(items: &str) -> Vec<u8> {
        format!(r#"[1,2,{{}},[{{"name":"/r"}}{items}]]"#).into_bytes()
    }

    /// The one file of an export made with [`under_root`].
    fn only_file(items: &str) -> Entry {
        match events(&under_root(items)).as_slice() {
            [Ev::Dir(_), Ev::File(e), Ev::End] => e.clone(),
            other => panic!("{other:?}"),
        }
    }

    fn file(name: &[u8]) -> Entry {
        Entry {
            name: name.to_vec(),
            ..Entry::default()
        }
    }

    fn names(evs: &[Ev]) -> Vec<Vec<u8>> {
        evs.iter()
            .filter_map(|e| match e {
                Ev::Dir(e) | Ev::File(e) => Some(e.name.clone()),
                Ev::End => None,
            })
            .collect()
    }

    /// `ncdu -0 -o` 1.18 of a small tree: a sparse file, a fifo, a name
    /// that is not UTF-8, a hard link pair across directories, an empty
    /// directory, control characters, a symlink.
    const NCDU: &[u8] = b"[1,2,{\"progname\":\"ncdu\",\"progver\":\"1.18\",\"timestamp\":1796185425},\n[{\"name\":\"/tmp/nt\",\"asize\":4096,\"dsize\":4096,\"dev\":65024},\n{\"name\":\"sparse\",\"asize\":10485760},\n{\"name\":\"fifo\",\"notreg\":true},\n{\"name\":\"bad\xff\xfe\",\"asize\":1,\"dsize\":4096},\n[{\"name\":\"sub\",\"asize\":4096,\"dsize\":4096},\n{\"name\":\"hl\",\"asize\":5,\"dsize\":4096,\"ino\":10010768,\"hlnkc\":true,\"nlink\":2},\n[{\"name\":\"empty\",\"asize\":4096,\"dsize\":4096}]],\n{\"name\":\"ctl\\u0001\\u007f\\\"\\\\\\ttab\",\"asize\":1,\"dsize\":4096},\n{\"name\":\"sym\",\"asize\":1,\"notreg\":true},\n{\"name\":\"\xc3\xa9\xe6\xbc\xa2\xf0\x9f\x98\x80\",\"asize\":1,\"dsize\":4096},\n{\"name\":\"a\",\"asize\":5,\"dsize\":4096,\"ino\":10010768,\"hlnkc\":true,\"nlink\":2}]]";

    /// `gdu -n -o` 5.22 of the same tree.
    const GDU: &[u8] = b"[1,2,{\"progname\":\"gdu\",\"progver\":\"5.22.0-1+b1\",\"timestamp\":1796185428},\n[{\"name\":\"/tmp/nt\",\"mtime\":1796185425},\n[{\"name\":\"sub\",\"mtime\":1796185425},\n{\"name\":\"hl\",\"asize\":5,\"dsize\":4096,\"mtime\":1796185425,\"ino\":10010768,\"hlnkc\":true},\n[{\"name\":\"empty\",\"mtime\":1796185425}\n]],\n{\"name\":\"\xc3\xa9\xe6\xbc\xa2\xf0\x9f\x98\x80\",\"asize\":1,\"dsize\":4096,\"mtime\":1796185425},\n{\"name\":\"ctl\\u0001\x7f\\\"\\\\\\ttab\",\"asize\":1,\"dsize\":4096,\"mtime\":1796185425},\n{\"name\":\"bad\\ufffd\\ufffd\",\"asize\":1,\"dsize\":4096,\"mtime\":1796185425},\n{\"name\":\"a\",\"asize\":5,\"dsize\":4096,\"mtime\":1796185425},\n{\"name\":\"sym\",\"asize\":1,\"mtime\":1796185425,\"notreg\":true},\n{\"name\":\"sparse\",\"asize\":10485760,\"mtime\":1796185425},\n{\"name\":\"fifo\",\"mtime\":1796185425}]]\n";

    /// `ncdu -0 -e -o` 1.18: uid 4294967294, gid 3000000000, an mtime
    /// before 1970 (-315619200) and one after 2262.
    const NCDU_EXTENDED: &[u8] = b"[1,2,{\"progname\":\"ncdu\",\"progver\":\"1.18\",\"timestamp\":1796185750},\n[{\"name\":\"/tmp/nt3\",\"asize\":4096,\"dsize\":4096,\"dev\":65024,\"uid\":0,\"gid\":0,\"mode\":16877,\"mtime\":1796185486},\n{\"name\":\"biguid\",\"uid\":18446744073709551614,\"gid\":18446744072414584320,\"mode\":33188,\"mtime\":1796185486},\n{\"name\":\"future\",\"uid\":0,\"gid\":0,\"mode\":33188,\"mtime\":10413792000},\n{\"name\":\"old\",\"uid\":0,\"gid\":0,\"mode\":33188,\"mtime\":18446744073393932416}]]";

    #[test]
    fn ncdu_export() {
        let (h, evs) = read_all(NCDU).unwrap();
        assert_eq!(
            h,
            Header {
                major: 1,
                minor: 2,
                progname: Some("ncdu".into()),
                progver: Some("1.18".into()),
                timestamp: Some(1796185425),
            }
        );
        let dev = 65024;
        let f = |name: &[u8], asize, dsize| Entry {
            name: name.to_vec(),
            asize,
            dsize,
            dev,
            ..Entry::default()
        };
        let link = |name: &[u8]| Entry {
            ino: Some(10010768),
            hlnkc: true,
            nlink: Some(2),
            ..f(name, 5, 4096)
        };
        let notreg = |name: &[u8], asize| Entry {
            notreg: true,
            ..f(name, asize, 0)
        };
        assert_eq!(
            evs,
            vec![
                Ev::Dir(f(b"/tmp/nt", 4096, 4096)),
                Ev::File(f(b"sparse", 10485760, 0)),
                Ev::File(notreg(b"fifo", 0)),
                Ev::File(f(b"bad\xff\xfe", 1, 4096)),
                Ev::Dir(f(b"sub", 4096, 4096)),
                Ev::File(link(b"hl")),
                Ev::Dir(f(b"empty", 4096, 4096)),
                Ev::End,
                Ev::End,
                Ev::File(f(b"ctl\x01\x7f\"\\\ttab", 1, 4096)),
                Ev::File(notreg(b"sym", 1)),
                Ev::File(f("é漢😀".as_bytes(), 1, 4096)),
                Ev::File(link(b"a")),
                Ev::End,
            ]
        );
    }

    #[test]
    fn gdu_export() {
        let (h, evs) = read_all(GDU).unwrap();
        assert_eq!(h.progname.as_deref(), Some("gdu"));
        assert_eq!(h.progver.as_deref(), Some("5.22.0-1+b1"));
        let got = names(&evs);
        let want: Vec<&[u8]> = vec![
            b"/tmp/nt",
            b"sub",
            b"hl",
            b"empty",
            "é漢😀".as_bytes(),
            b"ctl\x01\x7f\"\\\ttab",
            "bad\u{fffd}\u{fffd}".as_bytes(),
            b"a",
            b"sym",
            b"sparse",
            b"fifo",
        ];
        assert_eq!(got, want);
        let hl = evs.iter().find_map(|e| match e {
            Ev::File(e) if e.name == b"hl" => Some(e.clone()),
            _ => None,
        });
        assert_eq!(
            hl,
            Some(Entry {
                asize: 5,
                dsize: 4096,
                mtime: Some(1796185425),
                ino: Some(10010768),
                hlnkc: true,
                ..file(b"hl")
            })
        );
        // gdu writes no dev: everything is on device 0.
        assert!(evs.iter().all(|e| match e {
            Ev::Dir(e) | Ev::File(e) => e.dev == 0,
            Ev::End => true,
        }));
    }

    #[test]
    fn ncdu_extended_export() {
        let evs = events(NCDU_EXTENDED);
        let e = |i: usize| match &evs[i] {
            Ev::Dir(e) | Ev::File(e) => e.clone(),
            Ev::End => panic!(),
        };
        assert_eq!(
            e(0),
            Entry {
                asize: 4096,
                dsize: 4096,
                dev: 65024,
                uid: Some(0),
                gid: Some(0),
                mode: Some(0o40755),
                mtime: Some(1796185486),
                ..file(b"/tmp/nt3")
            }
        );
        assert_eq!(e(1).uid, Some(4294967294));
        assert_eq!(e(1).gid, Some(3000000000));
        assert_eq!(e(1).mode, Some(0o100644));
        assert_eq!(e(2).mtime, Some(10413792000));
        assert_eq!(e(3).mtime, Some(-315619200));
    }

    #[test]
    fn every_field() {
        let e = only_file(
            r#",{"name":"f","asize":1,"dsize":2,"dev":3,"ino":4,"hlnkc":true,"nlink":5,"read_error":true,"excluded":"kernfs","notreg":true,"uid":6,"gid":7,"mode":33188,"mtime":-8}"#,
        );
        assert_eq!(
            e,
            Entry {
                name: b"f".to_vec(),
                asize: 1,
                dsize: 2,
                dev: 3,
                ino: Some(4),
                hlnkc: true,
                nlink: Some(5),
                read_error: true,
                excluded: Some(Excluded::KernFs),
                notreg: true,
                uid: Some(6),
                gid: Some(7),
                mode: Some(33188),
                mtime: Some(-8),
            }
        );
        // Absent fields are the defaults, false ones as absent.
        assert_eq!(only_file(r#",{"name":"f"}"#), file(b"f"));
        assert_eq!(
            only_file(r#",{"hlnkc":false,"name":"f","read_error":false,"notreg":false}"#),
            file(b"f")
        );
    }

    #[test]
    fn number_limits() {
        let e = only_file(
            r#",{"name":"f","asize":18446744073709551615,"dsize":0,"ino":18446744073709551615,"nlink":4294967295,"mode":4294967295,"uid":4294967295,"gid":18446744071562067968,"mtime":-9223372036854775808}"#,
        );
        assert_eq!(e.asize, u64::MAX);
        assert_eq!(e.ino, Some(u64::MAX));
        assert_eq!(e.nlink, Some(u32::MAX));
        assert_eq!(e.mode, Some(u32::MAX));
        assert_eq!(e.uid, Some(u32::MAX));
        // i32::MIN sign-extended, as ncdu 1.x writes 2147483648.
        assert_eq!(e.gid, Some(1 << 31));
        assert_eq!(e.mtime, Some(i64::MIN));
        let e = only_file(r#",{"name":"f","mtime":9223372036854775807}"#);
        assert_eq!(e.mtime, Some(i64::MAX));
        let e = only_file(r#",{"name":"f","mtime":18446744073709551615}"#);
        assert_eq!(e.mtime, Some(-1));
        let e = only_file(r#",{"name":"f","mtime":-0}"#);
        assert_eq!(e.mtime, Some(0));
    }

    #[test]
    fn excluded_values() {
        for (v, want) in [
            (r#""pattern""#, Some(Excluded::Pattern)),
            (r#""otherfs""#, Some(Excluded::OtherFs)),
            (r#""othfs""#, Some(Excluded::OtherFs)),
            (r#""kernfs""#, Some(Excluded::KernFs)),
            (r#""frmlnk""#, Some(Excluded::FirmLink)),
            (r#""new-reason""#, Some(Excluded::Other)),
            (r#""""#, Some(Excluded::Other)),
            ("true", Some(Excluded::Pattern)),
            ("false", None),
        ] {
            let e = only_file(&format!(r#",{{"name":"f","excluded":{v}}}"#));
            assert_eq!(e.excluded, want, "{v}");
        }
        // An excluded directory, as ncdu writes one on another file system.
        let evs = events(&under_root(
            r#",[{"name":"pts","dev":26,"excluded":"othfs"}]"#,
        ));
        assert!(
            matches!(&evs[1], Ev::Dir(e) if e.excluded == Some(Excluded::OtherFs) && e.dev == 26)
        );
    }

    #[test]
    fn dev_is_inherited() {
        let evs = events(
            br#"[1,2,{},[{"name":"/r"},{"name":"a"},[{"name":"d","dev":5},{"name":"b"},[{"name":"e"},{"name":"c","dev":6}],{"name":"x"}],{"name":"y"},{"name":"z","dev":0}]]"#,
        );
        let devs: Vec<(Vec<u8>, u64)> = evs
            .iter()
            .filter_map(|e| match e {
                Ev::Dir(e) | Ev::File(e) => Some((e.name.clone(), e.dev)),
                Ev::End => None,
            })
            .collect();
        let want: Vec<(Vec<u8>, u64)> = [
            ("/r", 0),
            ("a", 0),
            ("d", 5),
            ("b", 5),
            ("e", 5),
            ("c", 6),
            ("x", 5),
            ("y", 0),
            ("z", 0),
        ]
        .iter()
        .map(|&(n, d)| (n.as_bytes().to_vec(), d))
        .collect();
        assert_eq!(devs, want);
        let evs = events(br#"[1,2,{},[{"name":"/r","dev":9},{"name":"a"}]]"#);
        assert!(matches!(&evs[1], Ev::File(e) if e.dev == 9));
    }

    #[test]
    fn structure() {
        // An empty root, whitespace everywhere JSON allows it.
        let evs = events(b" \t\r\n[ 1 , 0 , { } , [ { \"name\" : \"/r\" } ] ] \n\t");
        assert_eq!(evs, vec![Ev::Dir(file(b"/r")), Ev::End]);
        // Dirs and files in any order; an empty directory ends at once.
        let evs = events(&under_root(
            r#",[{"name":"d"}],{"name":"f"},[{"name":"e"},[{"name":"g"},{"name":"h"}]]"#,
        ));
        assert_eq!(
            evs,
            vec![
                Ev::Dir(file(b"/r")),
                Ev::Dir(file(b"d")),
                Ev::End,
                Ev::File(file(b"f")),
                Ev::Dir(file(b"e")),
                Ev::Dir(file(b"g")),
                Ev::File(file(b"h")),
                Ev::End,
                Ev::End,
                Ev::End,
            ]
        );
    }

    #[test]
    fn header_versions_and_metadata() {
        // Later minor versions are read; their unknown keys skipped.
        let (h, _) = read_all(
            br#"[1,10000,{"progname":"x","timestamp":-5,"other":[{"a":1}]},[{"name":"/r","future":{"k":[1,2]}}]]"#,
        )
        .unwrap();
        assert_eq!((h.major, h.minor), (1, 10000));
        assert_eq!(h.progname.as_deref(), Some("x"));
        assert_eq!(h.timestamp, Some(-5));
        assert_eq!(h.progver, None);
        // Metadata of other types is ignored, not refused.
        let (h, _) =
            read_all(br#"[1,1,{"progname":7,"progver":null,"timestamp":1.5e9},[{"name":"/r"}]]"#)
                .unwrap();
        assert_eq!(
            h,
            Header {
                major: 1,
                minor: 1,
                ..Header::default()
            }
        );
        let (h, _) =
            read_all(br#"[1,0,{"timestamp":99999999999999999999},[{"name":"/r"}]]"#).unwrap();
        assert_eq!(h.timestamp, None);
        let (h, _) = read_all(b"[1,2,{\"progname\":\"n\xffm\"},[{\"name\":\"/r\"}]]").unwrap();
        assert_eq!(h.progname.as_deref(), Some("n\u{fffd}m"));
    }

    #[test]
    fn escapes() {
        // The root's name may hold '/': it shows every escape.
        let name = |json: &str| match &events(
            format!(r#"[1,2,{{}},[{{"name":"{json}"}}]]"#).as_bytes(),
        )[0]
        {
            Ev::Dir(e) => e.name.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(name(r#"\"\\\/\b\f\n\r\t"#), b"\"\\/\x08\x0c\n\r\t");
        assert_eq!(name(r"\u0041\u00e9\u20AC\uFFFD"), "Aé€\u{fffd}".as_bytes());
        assert_eq!(name(r"\u0001\u001f\u007f"), b"\x01\x1f\x7f");
        // A surrogate pair, either case.
        assert_eq!(name(r"\ud83d\ude00\uD83D\uDE00"), "😀😀".as_bytes());
        assert_eq!(name(r"\udbff\udfff"), "\u{10ffff}".as_bytes());
        // surrogateescape: the bytes that were not UTF-8.
        assert_eq!(name(r"a\udcff\udc80b"), b"a\xff\x80b");
        // A high surrogate before a surrogateescape one is a pair.
        assert_eq!(name(r"\ud800\udc80"), "\u{10080}".as_bytes());
        // Raw bytes, UTF-8 or not, are themselves; so is DEL.
        let evs = events(b"[1,2,{},[{\"name\":\"\xff\xc0\x80\xed\xa0\x80\x7f\"}]]");
        assert_eq!(names(&evs), vec![b"\xff\xc0\x80\xed\xa0\x80\x7f".to_vec()]);
        // Escapes in keys are decoded too.
        let e = only_file(r#",{"n\u0061me":"f","\u0061size":3}"#);
        assert_eq!((e.name.as_slice(), e.asize), (&b"f"[..], 3));
        // A long key, past the fast path.
        let e = only_file(r#",{"name":"f","a_long_unknown_key_name":1,"asize":3}"#);
        assert_eq!(e.asize, 3);
    }

    #[test]
    fn long_strings_across_the_buffer() {
        let long = "x".repeat(200_000);
        let e = only_file(&format!(
            r#",{{"name":"{long}","{long}":"{long}","asize":1}}"#
        ));
        assert_eq!(e.name.len(), 200_000);
        assert_eq!(e.asize, 1);
        let too_long = "y".repeat(MAX_STRING + 1);
        let json = under_root(&format!(r#",{{"name":"{too_long}"}}"#));
        let e = collect(&json[..]).unwrap_err();
        assert_eq!(e.offset, 31);
        assert!(e.message.contains("longer than"), "{e}");
        // Unknown values are skipped at any length.
        let e = collect(&under_root(&format!(r#",{{"name":"f","x":"{too_long}"}}"#))[..]);
        assert!(e.is_ok());
    }

    #[test]
    fn unknown_keys_are_skipped() {
        let e = only_file(
            r#",{"a":{"b":[1,-2.5e+3,0.0,1E9,"s",true,false,null,[],{},[[{}]]],"c":{"d":{}}},"name":"f","z":[],"y":{},"x":"\u00e9\"","w":-0,"asize":3}"#,
        );
        assert_eq!((e.name.as_slice(), e.asize), (&b"f"[..], 3));
        // Duplicates of an unknown key are not an error.
        only_file(r#",{"name":"f","q":1,"q":2}"#);
        // Numbers too big for any type are valid JSON.
        only_file(r#",{"name":"f","q":123456789012345678901234567890e999}"#);
    }

    #[test]
    fn errors_name_their_byte() {
        let cases: &[(&[u8], usize, &str)] = &[
            (b"", 0, "empty file"),
            (b"  \n", 3, "empty file"),
            (b"{}", 0, "expected '['"),
            (b"\xef\xbb\xbf[1,2,{},[{\"name\":\"/r\"}]]", 0, "byte 0xef"),
            (b"[2,0,{},[{\"name\":\"/r\"}]]", 1, "major version 2"),
            (b"[0,0,{},[{\"name\":\"/r\"}]]", 1, "major version 0"),
            (b"[ 10001,0,{},[]]", 2, "major version must be an integer"),
            (b"[1.0,0,{},[]]", 1, "major version must be an integer"),
            (b"[-1,0,{},[]]", 1, "major version must be an integer"),
            (b"[\"1\",0,{},[]]", 1, "found a string"),
            (b"[1,10001,{},[]]", 3, "minor version must be an integer"),
            (b"[1,2e0,{},[]]", 3, "minor version must be an integer"),
            (b"[1;2,{},[]]", 2, "expected ','"),
            (b"[1,2,[],[]]", 5, "metadata object"),
            (b"[1,2,{\"a\" 1},[]]", 10, "expected ':'"),
            (b"[1,2,{1:1},[]]", 6, "expected '\"'"),
            (b"[1,2,{},{\"name\":\"/r\"}]", 8, "root must be a directory"),
            (b"[1,2,{},\"r\"]", 8, "expected '[' (the root"),
            (b"[1,2,{},[]]", 9, "expected '{'"),
            (b"[1,2,{},[[{\"name\":\"x\"}]]]", 9, "expected '{'"),
            (b"[1,2,{},[{}]]", 9, "without \"name\""),
            (b"[1,2,{},[{\"asize\":1}]]", 9, "without \"name\""),
            (b"[1,2,{},[{\"name\":\"/r\"}]", 23, "unexpected end of file"),
            (b"[1,2,{},[{\"name\":\"/r\"}],1]", 23, "more after the root"),
            (b"[1,2,{},[{\"name\":\"/r\"}]]x", 24, "trailing garbage"),
            (b"[1,2,{},[{\"name\":\"/r\"}]] \n]", 26, "trailing garbage"),
            (b"[1,2,{},[{\"name\":\"/r\"}]]\0", 24, "byte 0x00"),
        ];
        for &(input, offset, what) in cases {
            check_error(input, offset, what);
        }
        // Within the root, past `[1,2,{},[{"name":"/r"}`: offset 22.
        let items: &[(&str, usize, &str)] = &[
            (
                r#",{"name":1}"#,
                9,
                "\"name\": expected a string, found a number",
            ),
            (r#",{"name":null}"#, 9, "found null"),
            (r#",{"name":"f","asize":-1}"#, 21, "negative"),
            (r#",{"name":"f","asize":1.5}"#, 21, "fraction"),
            (r#",{"name":"f","asize":1e3}"#, 21, "fraction"),
            (
                r#",{"name":"f","asize":18446744073709551616}"#,
                21,
                "out of range",
            ),
            (r#",{"name":"f","asize":"1"}"#, 21, "found a string"),
            (r#",{"name":"f","asize":true}"#, 21, "found a boolean"),
            (r#",{"name":"f","asize":01}"#, 22, "leading zero"),
            (r#",{"name":"f","asize":-}"#, 22, "expected a digit"),
            (r#",{"name":"f","asize":1.}"#, 23, "after '.'"),
            (r#",{"name":"f","asize":1e}"#, 23, "exponent"),
            (r#",{"name":"f","asize":+1}"#, 21, "found '+'"),
            (r#",{"name":"f","asize":1x}"#, 22, "expected ',' or '}'"),
            (r#",{"name":"f","dev":-0}"#, 19, "negative"),
            (r#",{"name":"f","nlink":4294967296}"#, 21, "out of range"),
            (r#",{"name":"f","mode":4294967296}"#, 20, "out of range"),
            (r#",{"name":"f","uid":4294967296}"#, 19, "out of range"),
            (
                r#",{"name":"f","gid":18446744071562067967}"#,
                19,
                "out of range",
            ),
            (
                r#",{"name":"f","mtime":-9223372036854775809}"#,
                21,
                "out of range",
            ),
            (r#",{"name":"f","mtime":1.0}"#, 21, "fraction"),
            (
                r#",{"name":"f","hlnkc":1}"#,
                21,
                "expected a boolean, found a number",
            ),
            (r#",{"name":"f","hlnkc":"true"}"#, 21, "expected a boolean"),
            (r#",{"name":"f","notreg":tru}"#, 25, "expected 'true'"),
            (r#",{"name":"f","read_error":fals}"#, 30, "expected 'false'"),
            (r#",{"name":"f","excluded":1}"#, 24, "string or a boolean"),
            (
                r#",{"name":"f","excluded":null}"#,
                24,
                "string or a boolean",
            ),
            (r#",{"name":"f","name":"g"}"#, 13, "duplicate key \"name\""),
            (
                r#",{"name":"f","asize":1,"asize":1}"#,
                23,
                "duplicate key \"asize\"",
            ),
            (r#",{"name":"f",}"#, 13, "expected '\"' (a key)"),
            (r#",{"name":"f" "asize":1}"#, 13, "expected ',' or '}'"),
            (r#",{"name"="f"}"#, 8, "expected ':'"),
            (r#",{name:"f"}"#, 2, "expected '\"' (a key)"),
            (r#",{"name":"f"},"#, 14, "expected '{' (a file) or '['"),
            (r#",{"name":"f"},]"#, 14, "expected '{' (a file) or '['"),
            (r#",{"name":"f"}{"name":"g"}"#, 13, "expected ',' or ']'"),
            (r#",1"#, 1, "expected '{' (a file)"),
            (r#",null"#, 1, "expected '{' (a file)"),
            (r#",[]"#, 2, "expected '{' (the directory's info object)"),
            (r#",[{"name":"d"},]"#, 15, "expected '{' (a file)"),
            (r#",{"name":""}"#, 9, "empty name"),
            (r#",{"name":"."}"#, 9, "'.' or '..'"),
            (r#",{"name":".."}"#, 9, "'.' or '..'"),
            (r#",{"name":"a/b"}"#, 9, "holds '/'"),
            (r#",{"name":"a\/b"}"#, 9, "holds '/'"),
            (r#",{"name":"a\u0000b"}"#, 9, "NUL"),
            (r#",{"name":"a\xb"}"#, 11, "invalid escape '\\x'"),
            (r#",{"name":"a\u12G4"}"#, 15, "expected a hex digit"),
            (r#",{"name":"a\ud800"}"#, 11, "unpaired surrogate"),
            (r#",{"name":"a\ud800x"}"#, 11, "unpaired surrogate"),
            (r#",{"name":"a\ud800\n"}"#, 11, "unpaired surrogate"),
            (r#",{"name":"a\ud800\u0041"}"#, 11, "unpaired surrogate"),
            (r#",{"name":"a\ud800\ud800"}"#, 11, "unpaired surrogate"),
            (r#",{"name":"a\udc00"}"#, 11, "unpaired surrogate"),
            (r#",{"name":"a\udc7f"}"#, 11, "unpaired surrogate"),
            (r#",{"name":"a\udd00"}"#, 11, "unpaired surrogate"),
            (r#",{"name":"f","x":[1,]}"#, 20, "expected a JSON value"),
            (r#",{"name":"f","x":[1 2]}"#, 20, "expected ',' or ']'"),
            (r#",{"name":"f","x":{"a":1,}}"#, 24, "expected '\"'"),
            (r#",{"name":"f","x":{"a" 1}}"#, 22, "expected ':'"),
            (r#",{"name":"f","x":{1:1}}"#, 18, "expected '\"' or '}'"),
            (r#",{"name":"f","x":{"a":1]}"#, 23, "expected ',' or '}'"),
            (r#",{"name":"f","x":nul}"#, 20, "expected 'null'"),
            (r#",{"name":"f","x":'s'}"#, 17, "expected a JSON value"),
            (r#",{"name":"f","x":"\q"}"#, 18, "invalid escape"),
        ];
        for &(items, offset, what) in items {
            check_error(&under_root(items), 22 + offset, what);
        }
        // Raw control bytes in a string: an error at the byte.
        check_error(
            &under_root(",{\"name\":\"a\tb\"}"),
            22 + 11,
            "control character 0x09",
        );
        check_error(
            &under_root(",{\"name\":\"f\",\"x\":\"\x01\"}"),
            22 + 18,
            "0x01",
        );
    }

    #[test]
    fn error_display_and_fuse() {
        let json = under_root(r#",{"name":"f","asize":-1}"#);
        let mut r = Reader::new(&json[..], "dump.json").unwrap();
        assert!(matches!(r.next(), Ok(Some(Event::Dir(_)))));
        let e = r.next().unwrap_err();
        assert_eq!(
            e.to_string(),
            "dump.json: byte 43: \"asize\": expected an unsigned integer, found a negative one"
        );
        assert_eq!(e.io, None);
        // The same error again, never a guess past it.
        assert_eq!(r.next().unwrap_err(), e);
        assert_eq!(
            r.error_at(7, "two roots").to_string(),
            "dump.json: byte 7: two roots"
        );
    }

    #[test]
    fn entry_offsets() {
        let json = under_root(r#",{"name":"f"}, [{"name":"d"}]"#);
        let mut r = Reader::new(&json[..], "x").unwrap();
        let mut offsets = Vec::new();
        while let Some(ev) = r.next().unwrap() {
            if !matches!(ev, Event::EndDir) {
                offsets.push(r.entry_offset());
            }
        }
        assert_eq!(offsets, vec![8, 23, 37]);
    }

    #[test]
    fn io_errors_and_interruptions() {
        struct Failing<'a> {
            data: &'a [u8],
            interrupted: bool,
        }
        impl Read for Failing<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if !self.interrupted {
                    self.interrupted = true;
                    return Err(io::ErrorKind::Interrupted.into());
                }
                self.interrupted = false;
                if self.data.is_empty() {
                    return Err(io::Error::other("disk on fire"));
                }
                let n = buf.len().min(self.data.len()).min(5);
                buf[..n].copy_from_slice(&self.data[..n]);
                self.data = &self.data[n..];
                Ok(n)
            }
        }
        let json = under_root(r#",{"name":"f"}"#);
        let cut = &json[..json.len() - 2];
        let e = collect(Failing {
            data: cut,
            interrupted: false,
        })
        .unwrap_err();
        assert_eq!(e.io, Some(io::ErrorKind::Other));
        assert_eq!(e.offset, cut.len() as u64);
        assert!(e.message.contains("disk on fire"), "{e}");
    }

    #[test]
    fn every_truncation_is_an_error_at_its_end() {
        let full = [
            NCDU,
            GDU,
            NCDU_EXTENDED,
            br#"[1,2,{"progname":"x","ts":[1,{"a":null}]},[{"name":"/r\u00e9\ud83d\ude00\udcff\n","asize":12,"mtime":-3,"x":-1.5e-7},{"name":"f","hlnkc":true,"excluded":false},[{"name":"d"}]]]"#,
        ];
        for full in full {
            let end = full.trim_ascii_end().len();
            read_all(full).unwrap();
            read_all(&full[..end]).unwrap();
            for len in 0..end {
                let e = collect(&full[..len]).unwrap_err();
                assert_eq!(
                    e.offset,
                    len as u64,
                    "{:?}: {e}",
                    String::from_utf8_lossy(&full[..len])
                );
                assert!(
                    e.message.contains("end of file") || e.message.contains("empty file"),
                    "{e}"
                );
                // Fed in pieces, the same error.
                assert_eq!(
                    collect(Trickle {
                        data: &full[..len],
                        n: 3
                    })
                    .unwrap_err(),
                    e
                );
            }
        }
    }

    /// `levels` directories, each inside the one before.
    fn nested(levels: usize) -> Vec<u8> {
        let mut json = b"[1,2,{},".to_vec();
        for _ in 0..levels {
            json.extend_from_slice(br#"[{"name":"d"},"#);
        }
        json.extend_from_slice(br#"{"name":"f","asize":1}"#);
        json.extend(std::iter::repeat(b']').take(levels + 1));
        json
    }

    #[test]
    fn deep_nesting_has_no_recursion() {
        let levels = 100_000;
        let json = nested(levels);
        // The root is named "d" here: no '/' needed.
        let mut r = Reader::new(&json[..], "deep").unwrap();
        let (mut dirs, mut ends, mut deepest) = (0, 0, 0);
        while let Some(ev) = r.next().unwrap() {
            match ev {
                Event::Dir(_) => dirs += 1,
                Event::EndDir => ends += 1,
                Event::File(e) => {
                    assert_eq!(e.asize, 1);
                    deepest = r.depth();
                }
            }
        }
        assert_eq!((dirs, ends, deepest), (levels, levels, levels));
        // A value under an unknown key, as deep.
        let mut v = br#"[1,2,{},[{"name":"/r","x":"#.to_vec();
        v.extend(std::iter::repeat(b'[').take(levels));
        v.extend(std::iter::repeat(b']').take(levels));
        v.extend_from_slice(b"}]]");
        assert_eq!(events(&v).len(), 2);
        let mut o = br#"[1,2,{},[{"name":"/r","x":"#.to_vec();
        o.extend(std::iter::repeat(&br#"{"k":"#[..]).take(levels).flatten());
        o.push(b'1');
        o.extend(std::iter::repeat(b'}').take(levels));
        o.extend_from_slice(b"}]]");
        assert_eq!(events(&o).len(), 2);
    }

    #[test]
    fn nesting_beyond_the_cap_is_an_error() {
        let json = nested(10);
        for (cap, ok) in [(10, true), (9, false), (1, false)] {
            let mut r = Reader::new(&json[..], "x").unwrap();
            r.set_max_depth(cap);
            let result = loop {
                match r.next() {
                    Ok(Some(_)) => {}
                    Ok(None) => break Ok(()),
                    Err(e) => break Err(e),
                }
            };
            match (ok, result) {
                (true, Ok(())) => {}
                (false, Err(e)) => {
                    // The `[` of the directory one level too deep.
                    assert_eq!(e.offset, 8 + 14 * cap as u64, "{e}");
                    assert!(e.message.contains("nested deeper than"), "{e}");
                }
                (ok, r) => panic!("cap {cap}: want ok={ok}, got {r:?}"),
            }
        }
        let v = br#"[1,2,{},[{"name":"/r","x":[[[[]]]]}]]"#;
        let mut r = Reader::new(&v[..], "x").unwrap();
        r.set_max_depth(3);
        let e = loop {
            if let Err(e) = r.next() {
                break e;
            }
        };
        // The fourth '['.
        assert_eq!(e.offset, 29, "{e}");
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap deterministic shake: every single-byte change of a valid
        // file reads to an end or an error, never a panic.
        let base = br#"[1,2,{"a":1},[{"name":"/r","asize":1},{"name":"f\u00e9","x":[1,{"y":null}]},[{"name":"d"}]]]"#;
        for i in 0..base.len() {
            for b in [
                0u8, b'"', b'\\', b'[', b']', b'{', b'}', b',', b':', b'1', b'-', 0xff,
            ] {
                let mut v = base.to_vec();
                v[i] = b;
                let _ = read_all(&v);
            }
        }
    }
}
