//! Window stores: the [`WindowStore`] trait, its two backends and the layers stacked on them.
//!
//! A window store maps `(key, window start)` to a value, Kafka Streams' `WindowStore<Bytes,
//! byte[]>`: windowed aggregations keep one value per key and window, stream-stream joins keep
//! every record of a window (*duplicates*). Every store, backend or layer, implements the same
//! trait; [`WindowStoreBuilder`](builder::WindowStoreBuilder) stacks them the way Kafka Streams
//! does: metered → caching → change-logging → backend.
//!
//! What users rely on (retention, scan order) is documented on the [`WindowStore`] trait.

pub(crate) mod as_key_value;
pub(crate) mod builder;
pub(crate) mod caching;
pub(crate) mod core;
pub(crate) mod in_memory;
pub(crate) mod logging;
pub(crate) mod metered;
pub(crate) mod rocks;

use bytes::Bytes;

use crate::StoreError;
use crate::segments::{concat, key_range_upper};

/// The bytes after the key in a window store key: window start (8) and sequence number (4).
pub(crate) const SUFFIX_LEN: usize = 12;

/// A key and the start of one of its windows: what a window store's records are keyed by
/// (Kafka's `Windowed<Bytes>`; the window's end is its start plus the store's window size).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WindowedKey {
    /// The record key.
    pub key: Bytes,
    /// The window's start, in milliseconds since the epoch.
    pub window_start: i64,
}

impl WindowedKey {
    /// `key`'s window starting at `window_start`.
    pub fn new(key: impl Into<Bytes>, window_start: i64) -> Self {
        Self { key: key.into(), window_start }
    }

    /// The key of this window's record in the store's changelog topic, as Kafka's
    /// `ChangeLoggingWindowBytesStore` writes it: `[key][window start, 8 bytes big-endian]
    /// [sequence number, 4 bytes big-endian]`, `seq` being 0 unless the store retains
    /// duplicates.
    pub fn to_changelog_key(&self, seq: u32) -> Bytes {
        Bytes::from(store_key(&self.key, self.window_start, seq))
    }

    /// Reads a changelog key written by [`to_changelog_key`](Self::to_changelog_key): the
    /// windowed key and the sequence number, or `None` if `raw` is shorter than the 12-byte
    /// suffix (not a window changelog key).
    pub fn from_changelog_key(raw: &Bytes) -> Option<(WindowedKey, u32)> {
        decode(raw).map(|(key, window_start, seq)| (WindowedKey { key, window_start }, seq))
    }
}

/// `[key][start BE][seq BE]`.
pub(crate) fn store_key(key: &[u8], window_start: i64, seq: u32) -> Vec<u8> {
    let mut raw = Vec::with_capacity(key.len() + SUFFIX_LEN);
    raw.extend_from_slice(key);
    raw.extend_from_slice(&window_start.to_be_bytes());
    raw.extend_from_slice(&seq.to_be_bytes());
    raw
}

fn suffix(window_start: i64, seq: u32) -> [u8; SUFFIX_LEN] {
    let mut suffix = [0; SUFFIX_LEN];
    suffix[..8].copy_from_slice(&window_start.to_be_bytes());
    suffix[8..].copy_from_slice(&seq.to_be_bytes());
    suffix
}

/// `(key, window start, seq)` of a store key; the key shares `raw`'s memory.
pub(crate) fn decode(raw: &Bytes) -> Option<(Bytes, i64, u32)> {
    let key_len = raw.len().checked_sub(SUFFIX_LEN)?;
    let start = i64::from_be_bytes(raw[key_len..key_len + 8].try_into().ok()?);
    let seq = u32::from_be_bytes(raw[key_len + 8..].try_into().ok()?);
    Some((raw.slice(..key_len), start, seq))
}

/// What a fetch asks for, as raw-key bounds for the scan and a filter for what it returns.
#[derive(Debug)]
pub(crate) struct WindowQuery {
    pub(crate) lower: Option<Vec<u8>>,
    pub(crate) upper: Option<Vec<u8>>,
    key_from: Option<Vec<u8>>,
    key_to: Option<Vec<u8>>,
    pub(crate) time_from: i64,
    pub(crate) time_to: i64,
}

impl WindowQuery {
    /// The windows of `key` starting in `[time_from, time_to]`, none before `min_live`; `None`
    /// if no window can match.
    pub(crate) fn single_key(
        key: &[u8],
        time_from: i64,
        time_to: i64,
        min_live: i64,
    ) -> Option<Self> {
        let time_from = time_from.max(min_live).max(0);
        if time_to < time_from {
            return None;
        }
        Some(Self {
            lower: Some(concat(key, &suffix(time_from, 0))),
            upper: Some(concat(key, &suffix(time_to, u32::MAX))),
            key_from: Some(key.to_vec()),
            key_to: Some(key.to_vec()),
            time_from,
            time_to,
        })
    }

    /// The windows of keys in `[key_from, key_to]` (`None`: unbounded) starting in
    /// `[time_from, time_to]`, none before `min_live` and none after `max_time` (the latest
    /// start stored, `None` if nothing is); `None` if no window can match. The caller has
    /// rejected inverted key ranges.
    pub(crate) fn key_range(
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
        min_live: i64,
        max_time: Option<i64>,
    ) -> Option<Self> {
        let time_to = time_to.min(max_time?);
        if let (Some(from), Some(to)) = (key_from, key_to) {
            if from == to {
                return Self::single_key(from, time_from, time_to, min_live);
            }
        }
        let time_from = time_from.max(min_live).max(0);
        if time_to < time_from {
            return None;
        }
        Some(Self {
            // Any key >= key_from, with any suffix, sorts at or after key_from ++ zeros.
            lower: key_from.map(|from| concat(from, &[0; SUFFIX_LEN])),
            upper: key_to.map(|to| key_range_upper(to, &suffix(time_to, u32::MAX))),
            key_from: key_from.map(<[u8]>::to_vec),
            key_to: key_to.map(<[u8]>::to_vec),
            time_from,
            time_to,
        })
    }

    /// The windowed key of `raw` if it is one this query returns.
    pub(crate) fn matches(&self, raw: &Bytes) -> Option<WindowedKey> {
        let (key, window_start, _) = decode(raw)?;
        let in_keys = self.key_from.as_deref().is_none_or(|from| &key[..] >= from)
            && self.key_to.as_deref().is_none_or(|to| &key[..] <= to);
        let in_time = (self.time_from..=self.time_to).contains(&window_start);
        (in_keys && in_time).then_some(WindowedKey { key, window_start })
    }
}

/// An iterator over windowed records `(windowed key, value)`, in the order described in the
/// [store order](WindowStore#order): ascending (`fetch*`, `all`) or descending (`backward_*`).
///
/// It borrows the store, so the store cannot be written while the iterator lives. Items are
/// `Result`s because a persistent store can hit an I/O error or corruption mid-scan; after an
/// error the iterator ends.
pub type WindowIterator<'a> =
    Box<dyn Iterator<Item = Result<(WindowedKey, Bytes), StoreError>> + 'a>;

/// Called by a caching layer for each record it writes downstream: `(windowed key, new value,
/// old value)`, as [`FlushListener`](crate::FlushListener) is for key-value stores.
///
/// `new value` is `None` for a delete. `old value` is what the layer below held for the window
/// before this write (`None` if nothing, or if the listener was registered without old values
/// and the update is not a delete).
pub type WindowFlushListener = Box<dyn FnMut(&WindowedKey, Option<&Bytes>, Option<&Bytes>) + Send>;

/// A window store over bytes: Kafka Streams' `WindowStore<Bytes, byte[]>`.
///
/// # Lifecycle
///
/// As [`KeyValueStore`](crate::KeyValueStore): created closed, opened by [`init`](Self::init),
/// every other operation on a closed store fails with [`StoreError::Closed`];
/// [`flush`](Self::flush) makes writes durable, [`close`](Self::close) flushes and releases the
/// store. A persistent store finds its data (and its stream time) again on `init`; an in-memory
/// one starts empty.
///
/// # Writes
///
/// `put(key, None, start)` deletes that window. With [`retain_duplicates`](Self::retain_duplicates)
/// (stream-stream joins), every `put` with a value adds a record, even for a key and window that
/// already have one, and `put(key, None, start)` does nothing, as in Kafka.
///
/// # Retention
///
/// A store's *stream time* is the largest window start written to it. A record whose window start
/// is at or before `stream time - retention period` has expired: a `put` of it is dropped (with
/// Kafka's warning "Skipping record for expired segment."), and no fetch returns it. Window
/// starts are milliseconds since the epoch and never negative: a `put` with a negative start is
/// dropped with a warning, and fetch bounds below zero mean zero.
///
/// # Order
///
/// Every store orders records by the bytes of `[key][window start, 8 bytes big-endian][sequence
/// number, 4 bytes big-endian]`, compared as unsigned bytes: the RocksDB layout, which the
/// in-memory store shares. So the windows of one key come in ascending start order (duplicates
/// in the order they were written), and when no key is a proper prefix of another key in the
/// result (fixed-length keys, for instance) a multi-key scan is in `(key, window start)` order.
/// Backward scans give the exact reverse.
///
/// Time bounds of every fetch are inclusive; a fetch whose `time_from` is after its `time_to`,
/// or whose `key_from` is after its `key_to`, is empty.
pub trait WindowStore: Send {
    /// The store's name (its changelog topic is derived from it).
    fn name(&self) -> &str;

    /// Whether the store keeps its data on disk across `close` and `init`.
    fn persistent(&self) -> bool;

    /// Whether the store is open (initialized and not closed).
    fn is_open(&self) -> bool;

    /// How long records are kept, in milliseconds of stream time past their window start.
    fn retention_period_ms(&self) -> i64;

    /// The size of the store's windows in milliseconds (a window ends at start + size).
    fn window_size_ms(&self) -> i64;

    /// Whether every put adds a record rather than replacing the window's value.
    fn retain_duplicates(&self) -> bool;

    /// The store's stream time: the largest window start written to it, `None` before the
    /// first write (or after an in-memory store was closed).
    fn observed_stream_time(&self) -> Option<i64>;

    /// Opens the store. Opening a store that is already open does nothing.
    ///
    /// # Errors
    ///
    /// For RocksDB: [`StoreError::LockHeld`] if another open store uses a segment's directory,
    /// [`StoreError::Corrupted`] if its files are damaged, [`StoreError::Io`] if a directory
    /// cannot be created or read.
    fn init(&mut self) -> Result<(), StoreError>;

    /// Sets the value of `key`'s window starting at `window_start`; `None` deletes it. Expired
    /// records and negative starts are dropped (see [retention](WindowStore#retention)).
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open; storage errors from a persistent store.
    fn put(
        &mut self,
        key: Bytes,
        value: Option<Bytes>,
        window_start: i64,
    ) -> Result<(), StoreError>;

    /// The value of `key`'s window starting at `window_start`, or `None` (also if it expired).
    /// With duplicates, the first value written for that window.
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open; storage errors from a persistent store.
    fn fetch(&self, key: &[u8], window_start: i64) -> Result<Option<Bytes>, StoreError>;

    /// The windows of `key` starting in `[time_from, time_to]`, in ascending start order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open.
    fn fetch_range(
        &self,
        key: &[u8],
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError>;

    /// As [`fetch_range`](Self::fetch_range), in descending start order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open.
    fn backward_fetch_range(
        &self,
        key: &[u8],
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError>;

    /// The windows of every key in `[key_from, key_to]` (`None` leaves that end open) starting in
    /// `[time_from, time_to]`, in store order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open.
    fn fetch_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError>;

    /// As [`fetch_key_range`](Self::fetch_key_range), in reverse store order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open.
    fn backward_fetch_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError>;

    /// The windows of every key starting in `[time_from, time_to]`, in store order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open.
    fn fetch_all(&self, time_from: i64, time_to: i64) -> Result<WindowIterator<'_>, StoreError> {
        self.fetch_key_range(None, None, time_from, time_to)
    }

    /// As [`fetch_all`](Self::fetch_all), in reverse store order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open.
    fn backward_fetch_all(
        &self,
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError> {
        self.backward_fetch_key_range(None, None, time_from, time_to)
    }

    /// Every live window, in store order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open.
    fn all(&self) -> Result<WindowIterator<'_>, StoreError> {
        self.fetch_all(i64::MIN, i64::MAX)
    }

    /// Every live window, in reverse store order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open.
    fn backward_all(&self) -> Result<WindowIterator<'_>, StoreError> {
        self.backward_fetch_all(i64::MIN, i64::MAX)
    }

    /// Makes every write so far durable in this store (a caching layer writes its dirty
    /// entries down; RocksDB writes its memtables to table files).
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open; storage errors from a persistent store.
    fn flush(&mut self) -> Result<(), StoreError>;

    /// Flushes and closes the store. Closing a closed store does nothing.
    ///
    /// # Errors
    ///
    /// Errors from the final flush; the store is closed even then.
    fn close(&mut self) -> Result<(), StoreError>;

    /// Registers the callback a caching layer calls for each record it writes downstream, with
    /// old values only if `send_old_values` (deletes always carry theirs). Returns `false` if
    /// there is no caching layer in this stack (or it is disabled because the store retains
    /// duplicates). Layers above the cache pass the listener down.
    fn set_flush_listener(&mut self, listener: WindowFlushListener, send_old_values: bool) -> bool {
        let _ = (listener, send_old_values);
        false
    }
}

impl<S: WindowStore + ?Sized> WindowStore for Box<S> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn persistent(&self) -> bool {
        (**self).persistent()
    }
    fn is_open(&self) -> bool {
        (**self).is_open()
    }
    fn retention_period_ms(&self) -> i64 {
        (**self).retention_period_ms()
    }
    fn window_size_ms(&self) -> i64 {
        (**self).window_size_ms()
    }
    fn retain_duplicates(&self) -> bool {
        (**self).retain_duplicates()
    }
    fn observed_stream_time(&self) -> Option<i64> {
        (**self).observed_stream_time()
    }
    fn init(&mut self) -> Result<(), StoreError> {
        (**self).init()
    }
    fn put(
        &mut self,
        key: Bytes,
        value: Option<Bytes>,
        window_start: i64,
    ) -> Result<(), StoreError> {
        (**self).put(key, value, window_start)
    }
    fn fetch(&self, key: &[u8], window_start: i64) -> Result<Option<Bytes>, StoreError> {
        (**self).fetch(key, window_start)
    }
    fn fetch_range(
        &self,
        key: &[u8],
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError> {
        (**self).fetch_range(key, time_from, time_to)
    }
    fn backward_fetch_range(
        &self,
        key: &[u8],
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError> {
        (**self).backward_fetch_range(key, time_from, time_to)
    }
    fn fetch_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError> {
        (**self).fetch_key_range(key_from, key_to, time_from, time_to)
    }
    fn backward_fetch_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError> {
        (**self).backward_fetch_key_range(key_from, key_to, time_from, time_to)
    }
    fn fetch_all(&self, time_from: i64, time_to: i64) -> Result<WindowIterator<'_>, StoreError> {
        (**self).fetch_all(time_from, time_to)
    }
    fn backward_fetch_all(
        &self,
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError> {
        (**self).backward_fetch_all(time_from, time_to)
    }
    fn all(&self) -> Result<WindowIterator<'_>, StoreError> {
        (**self).all()
    }
    fn backward_all(&self) -> Result<WindowIterator<'_>, StoreError> {
        (**self).backward_all()
    }
    fn flush(&mut self) -> Result<(), StoreError> {
        (**self).flush()
    }
    fn close(&mut self) -> Result<(), StoreError> {
        (**self).close()
    }
    fn set_flush_listener(&mut self, listener: WindowFlushListener, send_old_values: bool) -> bool {
        (**self).set_flush_listener(listener, send_old_values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changelog_keys_are_kafkas_store_keys_and_round_trip() {
        let key = WindowedKey::new(Bytes::from_static(b"k"), 0x0102);
        let raw = key.to_changelog_key(7);
        assert_eq!(&raw[..], b"k\0\0\0\0\0\0\x01\x02\0\0\0\x07");
        assert_eq!(WindowedKey::from_changelog_key(&raw), Some((key, 7)));
        assert_eq!(WindowedKey::from_changelog_key(&Bytes::from_static(b"short")), None);
        // The empty key is a key.
        let empty = WindowedKey::new(Bytes::new(), 5);
        assert_eq!(WindowedKey::from_changelog_key(&empty.to_changelog_key(0)), Some((empty, 0)));
    }

    #[test]
    fn key_range_query_bounds_keep_every_matching_key_and_filter_the_rest() {
        let query = WindowQuery::key_range(Some(b"a"), Some(b"b"), 10, 20, 0, Some(100)).unwrap();
        let lower = query.lower.clone().unwrap();
        let upper = query.upper.clone().unwrap();
        for (key, start, matches) in [
            (&b"a"[..], 10, true),
            (b"a", 9, false),
            (b"a\0", 15, true),
            (b"ab", 20, true),
            (b"b", 20, true),
            (b"b", 21, false),
            (b"b\0", 15, false),
            (b"", 15, false),
        ] {
            let raw = Bytes::from(store_key(key, start, 3));
            let got = query.matches(&raw);
            assert_eq!(got.is_some(), matches, "{key:?} @ {start}");
            if matches {
                assert!(
                    raw[..] >= lower[..] && raw[..] <= upper[..],
                    "{key:?} @ {start} in bounds"
                );
            }
        }
        assert!(WindowQuery::key_range(None, None, 10, 20, 0, None).is_none(), "empty store");
        assert!(WindowQuery::key_range(None, None, 10, 20, 21, Some(100)).is_none(), "expired");
        assert!(WindowQuery::single_key(b"a", 10, 9, 0).is_none(), "from > to");
    }
}
