//! What window and session stores share: bytes keyed by `[key][fixed-size time suffix]`, kept
//! per time segment so that retention drops old data in bulk (Kafka's `SegmentedBytesStore` and
//! `KeySchema`).
//!
//! A [`SegmentedBytes`] backend stores raw keys with the time each one belongs to (a window's
//! start, a session's end); it knows nothing of stream time, retention or the key layout. The
//! window and session stores above it decide which records are live and how keys are laid out;
//! this module gives them the pure arithmetic they share: the live-time bound, the byte bounds
//! of a key-range scan, and the merges of sorted raw iterators.
//!
//! Times are milliseconds and never negative here: stores drop records with negative times
//! before they reach a backend, so a big-endian time suffix sorts as the number does.

pub(crate) mod memory;
pub(crate) mod metered;
pub(crate) mod rocks;

use std::cmp::Ordering;
use std::time::Duration;

use bytes::Bytes;

use crate::StoreError;

/// Raw entries `(store key, value)` in ascending (or, for a reverse scan, descending) unsigned
/// byte order of the store key.
pub(crate) type RawIter<'a> = Box<dyn Iterator<Item = Result<(Bytes, Bytes), StoreError>> + 'a>;

/// Stream time before any record was seen.
pub(crate) const NO_STREAM_TIME: i64 = i64::MIN;

/// Storage for raw keys, each filed under a time (window start or session end).
pub(crate) trait SegmentedBytes: Send {
    /// Whether data outlives `close`.
    fn persistent(&self) -> bool;

    /// Opens the storage. Returns the stream time saved by the last `flush` or `close`, if the
    /// storage is persistent and has one.
    fn open(&mut self) -> Result<Option<i64>, StoreError>;

    /// The value stored under `raw`, filed under `time`.
    fn get(&self, raw: &[u8], time: i64) -> Result<Option<Bytes>, StoreError>;

    /// Stores (`Some`) or deletes (`None`) `raw`, filed under `time`.
    fn put(&mut self, raw: Bytes, value: Option<Bytes>, time: i64) -> Result<(), StoreError>;

    /// Entries with `lower <= raw <= upper` (`None`: unbounded) filed under times that may lie in
    /// `[time_from, time_to]` (a backend may return entries outside the time range: callers
    /// filter), in unsigned byte order of `raw`, descending if `reverse`.
    fn scan(
        &self,
        lower: Option<&[u8]>,
        upper: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
        reverse: bool,
    ) -> Result<RawIter<'_>, StoreError>;

    /// Drops data filed under times before `min_live` (whole segments for RocksDB; a segment
    /// that still holds live times stays).
    fn expire(&mut self, min_live: i64) -> Result<(), StoreError>;

    /// A time no stored entry is filed after, or `None` if nothing is stored.
    fn max_time(&self) -> Option<i64>;

    /// Makes every write durable and remembers `stream_time` (persistent storage).
    fn flush(&mut self, stream_time: i64) -> Result<(), StoreError>;

    /// Flushes (remembering `stream_time`) and releases the storage; an in-memory one drops its
    /// data.
    fn close(&mut self, stream_time: i64) -> Result<(), StoreError>;
}

/// A retention period in milliseconds, as Kafka's stores keep it (saturating at `i64::MAX`).
pub(crate) fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// The earliest time still live at `stream_time` under `retention_ms`: Kafka drops a record
/// whose time is `<= stream time - retention`. Never negative.
pub(crate) fn min_live(stream_time: i64, retention_ms: i64) -> i64 {
    stream_time.saturating_sub(retention_ms).saturating_add(1).max(0)
}

/// Logs Kafka's warning for a record dropped because its time lies before the retention period.
pub(crate) fn warn_expired(store: &str, time: i64, stream_time: i64) {
    tracing::warn!(store, time, stream_time, "Skipping record for expired segment.");
}

/// Logs a warning for a record dropped because its time is negative (before the epoch), which
/// Kafka Streams never stores.
pub(crate) fn warn_negative(store: &str, what: &str, time: i64) {
    tracing::warn!(store, time, "Skipping record with a negative {what}: times must be >= 0");
}

/// `key ++ suffix`.
pub(crate) fn concat(key: &[u8], suffix: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(key.len() + suffix.len());
    raw.extend_from_slice(key);
    raw.extend_from_slice(suffix);
    raw
}

/// An inclusive upper bound on `[k][suffix]` over every key `k <= key_to` and every suffix
/// `<= max_suffix` (all suffixes having `max_suffix`'s length): the largest of
/// `key_to[..n] ++ max_suffix` over every prefix length `n`.
///
/// `key_to ++ max_suffix` alone is not enough: a key that is a proper prefix of `key_to` sorts
/// before it, but its suffix bytes compare with `key_to`'s remaining key bytes, and may be
/// greater. Callers filter the decoded keys; this bound only stops the scan early.
pub(crate) fn key_range_upper(key_to: &[u8], max_suffix: &[u8]) -> Vec<u8> {
    let mut best = concat(key_to, max_suffix);
    for n in 0..key_to.len() {
        let candidate = concat(&key_to[..n], max_suffix);
        if candidate > best {
            best = candidate;
        }
    }
    best
}

/// Merges raw iterators that each yield distinct keys in the same order (ascending, or
/// descending if `reverse`) into one iterator in that order. An error ends the merge after it
/// is returned.
pub(crate) fn merge_sorted<'a>(mut sources: Vec<RawIter<'a>>, reverse: bool) -> RawIter<'a> {
    if sources.len() <= 1 {
        return sources.pop().unwrap_or_else(|| Box::new(std::iter::empty()));
    }
    let mut heads = Vec::with_capacity(sources.len());
    for source in &mut sources {
        heads.push(source.next());
    }
    Box::new(MergeSorted { sources, heads, reverse, done: false })
}

struct MergeSorted<'a> {
    sources: Vec<RawIter<'a>>,
    /// The next item of each source (`None`: that source is exhausted).
    heads: Vec<Option<Result<(Bytes, Bytes), StoreError>>>,
    reverse: bool,
    done: bool,
}

impl Iterator for MergeSorted<'_> {
    type Item = Result<(Bytes, Bytes), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut pick: Option<(usize, &Bytes)> = None;
        let mut failed = None;
        for (i, head) in self.heads.iter().enumerate() {
            match head {
                None => {}
                // Errors first: the merge cannot order what it cannot read.
                Some(Err(_)) => {
                    failed = Some(i);
                    break;
                }
                Some(Ok((key, _))) => {
                    let better = pick.is_none_or(|(_, best)| {
                        let order = key.cmp(best);
                        if self.reverse {
                            order == Ordering::Greater
                        } else {
                            order == Ordering::Less
                        }
                    });
                    if better {
                        pick = Some((i, key));
                    }
                }
            }
        }
        let i = failed.or(pick.map(|(i, _)| i))?;
        let next = self.sources[i].next();
        let item = std::mem::replace(&mut self.heads[i], next);
        if matches!(item, Some(Err(_))) {
            self.done = true;
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn min_live_follows_kafka_and_never_goes_negative() {
        // Kafka drops a record when `time <= stream time - retention`.
        assert_eq!(min_live(1_000, 100), 901);
        assert_eq!(min_live(1_000, 0), 1_001);
        assert_eq!(min_live(50, 100), 0);
        assert_eq!(min_live(NO_STREAM_TIME, 100), 0);
        assert_eq!(min_live(i64::MAX, i64::MAX), 1);
    }

    #[test]
    fn millis_saturates() {
        assert_eq!(millis(Duration::from_secs(2)), 2_000);
        assert_eq!(millis(Duration::MAX), i64::MAX);
    }

    proptest! {
        /// Every `[k][s]` with `k <= key_to` and `s <= max_suffix` lies at or below the bound.
        #[test]
        fn key_range_upper_bounds_every_smaller_key(
            key_to in proptest::collection::vec(prop_oneof![Just(0u8), Just(1), Just(0x7f), Just(0xff)], 0..4),
            key in proptest::collection::vec(prop_oneof![Just(0u8), Just(1), Just(0x7f), Just(0xff)], 0..5),
            max_suffix in proptest::collection::vec(any::<u8>(), 2),
            suffix in proptest::collection::vec(any::<u8>(), 2),
        ) {
            prop_assume!(key <= key_to && suffix <= max_suffix);
            let bound = key_range_upper(&key_to, &max_suffix);
            prop_assert!(concat(&key, &suffix) <= bound);
        }
    }

    fn source(keys: &[&'static [u8]]) -> RawIter<'static> {
        Box::new(
            keys.iter()
                .map(|k| Ok((Bytes::from_static(k), Bytes::new())))
                .collect::<Vec<_>>()
                .into_iter(),
        )
    }

    #[test]
    fn merge_sorted_interleaves_in_both_directions() {
        let merged: Vec<Bytes> =
            merge_sorted(vec![source(&[b"a", b"d"]), source(&[b"b", b"c", b"e"])], false)
                .map(|item| item.map(|(k, _)| k))
                .collect::<Result<_, _>>()
                .unwrap();
        assert_eq!(merged, [&b"a"[..], b"b", b"c", b"d", b"e"]);
        let merged: Vec<Bytes> =
            merge_sorted(vec![source(&[b"d", b"a"]), source(&[b"e", b"c", b"b"])], true)
                .map(|item| item.map(|(k, _)| k))
                .collect::<Result<_, _>>()
                .unwrap();
        assert_eq!(merged, [&b"e"[..], b"d", b"c", b"b", b"a"]);
    }
}
