//! Bytes between processes: the little-endian encoding a distributed
//! scan (`crate::ranks`) sends its tables, hard links and tasks in.
//!
//! A [`Writer`] appends fixed-width integers and length-prefixed byte
//! strings; a [`Reader`] takes them back in the same order and answers
//! `None` for bytes that end early or hold an impossible length, so that
//! a message that is not what it claims to be is an error, never a panic.

/// Appends values to a byte buffer.
#[derive(Clone, Default)]
pub struct Writer {
    /// What was written so far.
    pub bytes: Vec<u8>,
}

impl Writer {
    /// An empty buffer.
    pub fn new() -> Writer {
        Writer::default()
    }

    /// One byte.
    pub fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }

    /// Four bytes.
    pub fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    /// Eight bytes.
    pub fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    /// Eight bytes, signed.
    pub fn i64(&mut self, v: i64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    /// A length (eight bytes), then the bytes.
    pub fn bytes(&mut self, v: &[u8]) {
        self.u64(v.len() as u64);
        self.bytes.extend_from_slice(v);
    }
}

/// Takes values back from bytes a [`Writer`] wrote.
pub struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl<'b> Reader<'b> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'b [u8]) -> Reader<'b> {
        Reader { bytes, at: 0 }
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.at == self.bytes.len()
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'b [u8] {
        &self.bytes[self.at..]
    }

    fn take(&mut self, n: usize) -> Option<&'b [u8]> {
        let end = self.at.checked_add(n)?;
        let out = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(out)
    }

    /// One byte.
    pub fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    /// Four bytes.
    pub fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("four bytes")))
    }

    /// Eight bytes.
    pub fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("eight bytes")))
    }

    /// Eight bytes, signed.
    pub fn i64(&mut self) -> Option<i64> {
        self.take(8)
            .map(|b| i64::from_le_bytes(b.try_into().expect("eight bytes")))
    }

    /// A length, then that many bytes.
    pub fn bytes(&mut self) -> Option<&'b [u8]> {
        let len = usize::try_from(self.u64()?).ok()?;
        self.take(len)
    }

    /// A count of items that each take at least `each` bytes: `None` if
    /// the bytes left cannot hold them (a corrupt count never makes a
    /// reader allocate for it).
    pub fn count(&mut self, each: usize) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        let left = self.bytes.len() - self.at;
        (n.checked_mul(each.max(1))? <= left).then_some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_come_back_in_order_and_short_bytes_are_refused() {
        let mut w = Writer::new();
        w.u8(7);
        w.u32(0xdead_beef);
        w.u64(u64::MAX);
        w.i64(-5);
        w.bytes(b"na\xffme");
        w.u64(3);
        let mut r = Reader::new(&w.bytes);
        assert_eq!(r.u8(), Some(7));
        assert_eq!(r.u32(), Some(0xdead_beef));
        assert_eq!(r.u64(), Some(u64::MAX));
        assert_eq!(r.i64(), Some(-5));
        assert_eq!(r.bytes(), Some(&b"na\xffme"[..]));
        assert_eq!(r.count(1), None, "3 items of a byte each, none left");
        assert!(r.is_empty());
        let mut short = Reader::new(&w.bytes[..10]);
        assert_eq!(short.u8(), Some(7));
        assert_eq!(short.u32(), Some(0xdead_beef));
        assert_eq!(short.u64(), None);
        let mut huge = Writer::new();
        huge.u64(u64::MAX);
        assert_eq!(Reader::new(&huge.bytes).bytes(), None);
    }
}
