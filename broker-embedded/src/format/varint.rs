//! Zigzag variable-length integers, as used inside Kafka records.
//!
//! A value is first zigzag-mapped (`0, -1, 1, -2, 2, ...` become `0, 1, 2, 3, 4, ...`) so that small
//! negative numbers stay short, then written seven bits at a time, least significant group first, with
//! the high bit of each byte set when another byte follows. An `i32` takes at most 5 bytes and an `i64`
//! at most 10.
//!
//! Decoding is strict about length: a 32-bit varint longer than 5 bytes, a 64-bit one longer than 10, or
//! a last byte carrying bits beyond the type's width is rejected with [`FormatError::InvalidRecord`].
//! Redundant zero groups within those limits (for example `0x80 0x00` for zero) are accepted, as Kafka
//! accepts them.

use bytes::BufMut;

use super::FormatError;

/// Longest encoding of a 32-bit varint.
pub const MAX_VARINT_LEN: usize = 5;
/// Longest encoding of a 64-bit varint.
pub const MAX_VARLONG_LEN: usize = 10;

fn zigzag32(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

fn zigzag64(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag32(n: u32) -> i32 {
    ((n >> 1) as i32) ^ -((n & 1) as i32)
}

fn unzigzag64(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

fn put_unsigned(buf: &mut impl BufMut, mut n: u64) {
    while n >= 0x80 {
        buf.put_u8((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    buf.put_u8(n as u8);
}

fn unsigned_len(n: u64) -> usize {
    // One byte per started group of seven significant bits, at least one byte.
    let bits = 64 - n.leading_zeros() as usize;
    bits.div_ceil(7).max(1)
}

/// Reads an unsigned varint of at most `max_len` bytes whose last byte may hold at most
/// `last_byte_max`.
fn get_unsigned(
    buf: &[u8],
    max_len: usize,
    last_byte_max: u8,
    what: &str,
) -> Result<(u64, usize), FormatError> {
    let mut value: u64 = 0;
    for i in 0..max_len {
        let Some(&b) = buf.get(i) else {
            return Err(FormatError::Truncated { needed: i + 1, available: buf.len() });
        };
        if i == max_len - 1 && b > last_byte_max {
            return Err(FormatError::InvalidRecord(format!(
                "{what} is longer than {max_len} bytes or overflows its type"
            )));
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    // Unreachable in practice: the last allowed byte has its continuation bit cleared by the check above.
    Err(FormatError::InvalidRecord(format!("{what} is longer than {max_len} bytes")))
}

/// Appends `v` as a zigzag varint (1 to 5 bytes).
pub fn put_varint(buf: &mut impl BufMut, v: i32) {
    put_unsigned(buf, u64::from(zigzag32(v)));
}

/// Appends `v` as a zigzag varlong (1 to 10 bytes).
pub fn put_varlong(buf: &mut impl BufMut, v: i64) {
    put_unsigned(buf, zigzag64(v));
}

/// Decodes a zigzag varint from the start of `buf`, returning the value and the number of bytes read.
///
/// Fails with [`FormatError::Truncated`] when `buf` ends before the last byte and with
/// [`FormatError::InvalidRecord`] when the encoding is longer than 5 bytes or overflows 32 bits.
pub fn get_varint(buf: &[u8]) -> Result<(i32, usize), FormatError> {
    // The fifth byte holds bits 28..32: only its low four bits may be set.
    let (n, len) = get_unsigned(buf, MAX_VARINT_LEN, 0x0f, "varint")?;
    // At most 32 bits were accumulated, so the conversion is lossless.
    Ok((unzigzag32(n as u32), len))
}

/// Decodes a zigzag varlong from the start of `buf`, returning the value and the number of bytes read.
///
/// Fails with [`FormatError::Truncated`] when `buf` ends before the last byte and with
/// [`FormatError::InvalidRecord`] when the encoding is longer than 10 bytes or overflows 64 bits.
pub fn get_varlong(buf: &[u8]) -> Result<(i64, usize), FormatError> {
    // The tenth byte holds bit 63 only.
    let (n, len) = get_unsigned(buf, MAX_VARLONG_LEN, 0x01, "varlong")?;
    Ok((unzigzag64(n), len))
}

/// Number of bytes [`put_varint`] writes for `v`.
pub fn varint_len(v: i32) -> usize {
    unsigned_len(u64::from(zigzag32(v)))
}

/// Number of bytes [`put_varlong`] writes for `v`.
pub fn varlong_len(v: i64) -> usize {
    unsigned_len(zigzag64(v))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn enc32(v: i32) -> Vec<u8> {
        let mut b = Vec::new();
        put_varint(&mut b, v);
        b
    }

    fn enc64(v: i64) -> Vec<u8> {
        let mut b = Vec::new();
        put_varlong(&mut b, v);
        b
    }

    #[test]
    fn known_encodings_match_kafka() {
        assert_eq!(enc32(0), [0x00]);
        assert_eq!(enc32(-1), [0x01]);
        assert_eq!(enc32(1), [0x02]);
        assert_eq!(enc32(63), [0x7e]);
        assert_eq!(enc32(-64), [0x7f]);
        assert_eq!(enc32(64), [0x80, 0x01]);
        assert_eq!(enc32(300), [0xd8, 0x04]);
        assert_eq!(enc32(i32::MAX), [0xfe, 0xff, 0xff, 0xff, 0x0f]);
        assert_eq!(enc32(i32::MIN), [0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert_eq!(enc64(i64::MIN), {
            let mut v = vec![0xff; 9];
            v.push(0x01);
            v
        });
    }

    #[test]
    fn extremes_round_trip() {
        for v in [i32::MIN, i32::MIN + 1, -1, 0, 1, i32::MAX - 1, i32::MAX] {
            let b = enc32(v);
            assert_eq!(get_varint(&b), Ok((v, b.len())));
            assert_eq!(varint_len(v), b.len());
        }
        for v in [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX] {
            let b = enc64(v);
            assert_eq!(get_varlong(&b), Ok((v, b.len())));
            assert_eq!(varlong_len(v), b.len());
        }
        assert_eq!(varint_len(i32::MIN), 5);
        assert_eq!(varlong_len(i64::MAX), 10);
    }

    #[test]
    fn truncated_input_is_reported() {
        assert_eq!(get_varint(&[]), Err(FormatError::Truncated { needed: 1, available: 0 }));
        assert_eq!(
            get_varint(&[0x80, 0x80]),
            Err(FormatError::Truncated { needed: 3, available: 2 })
        );
        assert!(matches!(get_varlong(&[0xff; 9]), Err(FormatError::Truncated { needed: 10, .. })));
    }

    #[test]
    fn overlong_and_overflowing_encodings_are_rejected() {
        // Six bytes for a 32-bit varint.
        assert!(matches!(
            get_varint(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
            Err(FormatError::InvalidRecord(_))
        ));
        // Fifth byte with bits beyond 32.
        assert!(matches!(
            get_varint(&[0xff, 0xff, 0xff, 0xff, 0x1f]),
            Err(FormatError::InvalidRecord(_))
        ));
        // Eleven bytes for a varlong.
        let mut long = vec![0x80; 10];
        long.push(0x00);
        assert!(matches!(get_varlong(&long), Err(FormatError::InvalidRecord(_))));
        // Tenth byte with bits beyond 64.
        let mut over = vec![0xff; 9];
        over.push(0x02);
        assert!(matches!(get_varlong(&over), Err(FormatError::InvalidRecord(_))));
    }

    #[test]
    fn redundant_zero_groups_are_accepted() {
        assert_eq!(get_varint(&[0x80, 0x00]), Ok((0, 2)));
        assert_eq!(get_varlong(&[0x82, 0x80, 0x00]), Ok((1, 3)));
    }

    #[test]
    fn decoding_reads_only_its_own_bytes() {
        assert_eq!(get_varint(&[0x02, 0xff, 0xff]), Ok((1, 1)));
        assert_eq!(get_varlong(&[0xd8, 0x04, 0x99]), Ok((300, 2)));
    }

    proptest! {
        #[test]
        fn varint_round_trips(v in any::<i32>()) {
            let b = enc32(v);
            prop_assert_eq!(b.len(), varint_len(v));
            prop_assert!(b.len() <= MAX_VARINT_LEN);
            prop_assert_eq!(get_varint(&b), Ok((v, b.len())));
        }

        #[test]
        fn varlong_round_trips(v in any::<i64>()) {
            let b = enc64(v);
            prop_assert_eq!(b.len(), varlong_len(v));
            prop_assert!(b.len() <= MAX_VARLONG_LEN);
            prop_assert_eq!(get_varlong(&b), Ok((v, b.len())));
        }

        #[test]
        fn varint_decoder_never_panics(b in proptest::collection::vec(any::<u8>(), 0..12)) {
            if let Ok((v, n)) = get_varint(&b) {
                prop_assert!(n <= MAX_VARINT_LEN && n <= b.len());
                prop_assert!(varint_len(v) <= n);
            }
            if let Ok((v, n)) = get_varlong(&b) {
                prop_assert!(n <= MAX_VARLONG_LEN && n <= b.len());
                prop_assert!(varlong_len(v) <= n);
            }
        }
    }
}
