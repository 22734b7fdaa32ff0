//! Big-endian primitives shared by the consumer-protocol and `__consumer_offsets` formats (Kafka's
//! non-flexible encoding: `i16` string lengths, `i32` byte and array lengths, `-1` for null).
//!
//! Decoding never panics and never allocates from an unchecked length: every length or count is
//! checked against the bytes remaining first. Encoding never fails: a string longer than
//! `i16::MAX` bytes is cut at the last character boundary that fits (no caller produces one; the
//! wire already limits them).

use bytes::{BufMut, Bytes, BytesMut};

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DecodeError {
    /// Fewer bytes remain than a field needs.
    #[error("{what} is truncated: {needed} bytes needed, {remaining} left")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the input.
        remaining: usize,
    },
    /// A length or count below -1, or -1 where null is not allowed.
    #[error("{what} has an invalid length {len}")]
    InvalidLength {
        /// The field being read.
        what: &'static str,
        /// The length found.
        len: i32,
    },
    /// A string that is not UTF-8.
    #[error("{what} is not valid UTF-8")]
    InvalidUtf8 {
        /// The field being read.
        what: &'static str,
    },
    /// A schema version this code does not read.
    #[error("{what} version {version} is not supported (readable: {readable})")]
    UnsupportedVersion {
        /// The record being read.
        what: &'static str,
        /// The version found.
        version: i16,
        /// The versions this code reads.
        readable: &'static str,
    },
}

/// A cursor over input bytes.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.buf.len() {
            return Err(DecodeError::Truncated { what, needed: n, remaining: self.buf.len() });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    pub(crate) fn i16(&mut self, what: &'static str) -> Result<i16, DecodeError> {
        Ok(i16::from_be_bytes(self.array(what)?))
    }

    pub(crate) fn i32(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }

    pub(crate) fn i64(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.array(what)?))
    }

    pub(crate) fn nullable_string(
        &mut self,
        what: &'static str,
    ) -> Result<Option<String>, DecodeError> {
        let len = self.i16(what)?;
        if len == -1 {
            return Ok(None);
        }
        let len = usize::try_from(len)
            .map_err(|_| DecodeError::InvalidLength { what, len: i32::from(len) })?;
        let raw = self.take(len, what)?;
        let s = std::str::from_utf8(raw).map_err(|_| DecodeError::InvalidUtf8 { what })?;
        Ok(Some(s.to_owned()))
    }

    pub(crate) fn string(&mut self, what: &'static str) -> Result<String, DecodeError> {
        self.nullable_string(what)?.ok_or(DecodeError::InvalidLength { what, len: -1 })
    }

    pub(crate) fn nullable_bytes(
        &mut self,
        what: &'static str,
    ) -> Result<Option<Bytes>, DecodeError> {
        let len = self.i32(what)?;
        if len == -1 {
            return Ok(None);
        }
        let len = usize::try_from(len).map_err(|_| DecodeError::InvalidLength { what, len })?;
        Ok(Some(Bytes::copy_from_slice(self.take(len, what)?)))
    }

    pub(crate) fn bytes(&mut self, what: &'static str) -> Result<Bytes, DecodeError> {
        self.nullable_bytes(what)?.ok_or(DecodeError::InvalidLength { what, len: -1 })
    }

    /// Reads an array count and checks that `count * min_element_size` bytes remain, so a forged
    /// count cannot make the caller reserve memory the input cannot fill.
    pub(crate) fn count(
        &mut self,
        what: &'static str,
        min_element_size: usize,
    ) -> Result<usize, DecodeError> {
        let len = self.i32(what)?;
        let count = usize::try_from(len).map_err(|_| DecodeError::InvalidLength { what, len })?;
        let needed = count.saturating_mul(min_element_size);
        if needed > self.remaining() {
            return Err(DecodeError::Truncated { what, needed, remaining: self.remaining() });
        }
        Ok(count)
    }
}

/// Writes `len` as an `i16` string length followed by the (possibly cut) string.
pub(crate) fn put_string(buf: &mut BytesMut, s: &str) {
    let mut end = s.len().min(i16::MAX as usize);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    buf.put_i16(i16::try_from(end).unwrap_or(i16::MAX));
    buf.put_slice(&s.as_bytes()[..end]);
}

pub(crate) fn put_nullable_string(buf: &mut BytesMut, s: Option<&str>) {
    match s {
        Some(s) => put_string(buf, s),
        None => buf.put_i16(-1),
    }
}

pub(crate) fn put_bytes(buf: &mut BytesMut, b: &[u8]) {
    let len = b.len().min(i32::MAX as usize);
    buf.put_i32(i32::try_from(len).unwrap_or(i32::MAX));
    buf.put_slice(&b[..len]);
}

pub(crate) fn put_nullable_bytes(buf: &mut BytesMut, b: Option<&[u8]>) {
    match b {
        Some(b) => put_bytes(buf, b),
        None => buf.put_i32(-1),
    }
}

/// Writes an array count (collections here are far below `i32::MAX` elements).
pub(crate) fn put_count(buf: &mut BytesMut, n: usize) {
    buf.put_i32(i32::try_from(n).unwrap_or(i32::MAX));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn forged_count_is_rejected_before_allocation() {
        let mut r = Reader::new(&[0x7f, 0xff, 0xff, 0xff, 0, 0]);
        assert!(matches!(r.count("topics", 2), Err(DecodeError::Truncated { .. })));
    }

    #[test]
    fn long_strings_are_cut_at_a_char_boundary() {
        let s = "é".repeat(20_000); // 40_000 bytes
        let mut buf = BytesMut::new();
        put_string(&mut buf, &s);
        let decoded = Reader::new(&buf).string("s").unwrap();
        assert_eq!(decoded.len(), 32_766);
        assert!(s.starts_with(&decoded));
    }

    #[test]
    fn null_is_rejected_where_not_allowed() {
        assert_eq!(
            Reader::new(&[0xff, 0xff]).string("name"),
            Err(DecodeError::InvalidLength { what: "name", len: -1 })
        );
        assert_eq!(
            Reader::new(&[0xff, 0xff, 0xff, 0xfe]).nullable_bytes("b"),
            Err(DecodeError::InvalidLength { what: "b", len: -2 })
        );
    }
}
