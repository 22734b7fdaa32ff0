//! Key-range arithmetic shared by the backends and the caching layer. Pure functions, no I/O.
//!
//! Keys compare as unsigned bytes, lexicographically; a shorter key sorts before every longer key
//! it is a prefix of.

use std::ops::Bound;

/// Whether a range with these ends is empty because `from > to` (both given).
pub(crate) fn is_inverted(from: Option<&[u8]>, to: Option<&[u8]>) -> bool {
    matches!((from, to), (Some(from), Some(to)) if from > to)
}

/// Logs Kafka's warning for a range whose `from` is greater than its `to`.
pub(crate) fn warn_inverted(store: &str) {
    tracing::warn!(
        store,
        "Returning empty iterator for fetch with invalid key range: from > to. This may be due to \
         range arguments set in the wrong order, or serdes that don't preserve ordering when \
         lexicographically comparing the serialized bytes. Note that the built-in numerical serdes \
         do not follow this for negative numbers"
    );
}

/// `(from, to)` as inclusive `Bound`s, `None` being unbounded. The caller has checked
/// [`is_inverted`] (a `BTreeMap` panics on an inverted range).
pub(crate) fn inclusive<'a>(
    from: Option<&'a [u8]>,
    to: Option<&'a [u8]>,
) -> (Bound<&'a [u8]>, Bound<&'a [u8]>) {
    (from.map_or(Bound::Unbounded, Bound::Included), to.map_or(Bound::Unbounded, Bound::Included))
}

/// The least key greater than `key`: `key` followed by one zero byte. An exclusive upper bound at
/// `after(to)` includes `to` and nothing above it.
pub(crate) fn after(key: &[u8]) -> Vec<u8> {
    let mut next = Vec::with_capacity(key.len() + 1);
    next.extend_from_slice(key);
    next.push(0);
    next
}

/// The least key greater than every key that starts with `prefix`: the prefix with trailing
/// `0xff` bytes dropped and its last byte incremented. `None` when no such key exists (an empty
/// prefix, or one made only of `0xff` bytes): the scan then runs to the end of the store.
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let last = prefix.iter().rposition(|&b| b != 0xff)?;
    let mut end = prefix[..=last].to_vec();
    end[last] += 1;
    Some(end)
}

/// `prefix_scan` as `Bound`s: from the prefix (inclusive) to [`prefix_end`] (exclusive).
pub(crate) fn prefix_bounds(prefix: &[u8]) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    (Bound::Included(prefix.to_vec()), prefix_end(prefix).map_or(Bound::Unbounded, Bound::Excluded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverted_only_when_both_ends_given_and_from_above_to() {
        assert!(is_inverted(Some(b"b"), Some(b"a")));
        assert!(is_inverted(Some(&[0x80]), Some(&[0x7f])));
        assert!(is_inverted(Some(b"ab"), Some(b"a")));
        assert!(!is_inverted(Some(b"a"), Some(b"a")));
        assert!(!is_inverted(Some(b"a"), Some(b"ab")));
        assert!(!is_inverted(None, Some(b"a")));
        assert!(!is_inverted(Some(b"z"), None));
    }

    #[test]
    fn after_is_the_immediate_successor() {
        assert_eq!(after(b""), vec![0]);
        assert_eq!(after(&[0xff]), vec![0xff, 0]);
        let to: &[u8] = b"ab";
        let next = after(to);
        assert!(to < next.as_slice());
        // Nothing lies strictly between `to` and `after(to)`: any key greater than `to` that is
        // not `to ++ [0]` is greater than `to ++ [0]`.
        for candidate in [&b"ab\x01"[..], b"ac", b"ab\x00\x00"] {
            assert!(candidate >= next.as_slice());
        }
    }

    #[test]
    fn prefix_end_increments_the_last_byte_below_0xff() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[0x01, 0xff]), Some(vec![0x02]));
        assert_eq!(prefix_end(&[0x01, 0xfe, 0xff, 0xff]), Some(vec![0x01, 0xff]));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
        assert_eq!(prefix_end(b""), None);
    }

    #[test]
    fn prefix_bounds_cover_exactly_the_keys_with_the_prefix() {
        let keys: Vec<Vec<u8>> = vec![
            vec![],
            vec![0x01],
            vec![0x01, 0x00],
            vec![0x01, 0xff],
            vec![0x01, 0xff, 0x00],
            vec![0x02],
            vec![0xff],
            vec![0xff, 0xff, 0x01],
        ];
        for prefix in [&[][..], &[0x01], &[0x01, 0xff], &[0xff], &[0xff, 0xff]] {
            let bounds = prefix_bounds(prefix);
            for key in &keys {
                let inside = std::ops::RangeBounds::contains(&bounds, key);
                assert_eq!(inside, key.starts_with(prefix), "prefix {prefix:?} key {key:?}");
            }
        }
    }
}
