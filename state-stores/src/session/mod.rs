//! Session stores: the [`SessionStore`] trait, its two backends and the layers stacked on them.
//!
//! A session store maps `(key, session start, session end)` to a value, Kafka Streams'
//! `SessionStore<Bytes, byte[]>`: session-windowed aggregations keep one aggregate per session,
//! find the sessions a new record merges with ([`find_sessions`](SessionStore::find_sessions)),
//! remove them and put the merged one. Every store, backend or layer, implements the same trait;
//! [`SessionStoreBuilder`](builder::SessionStoreBuilder) stacks them the way Kafka Streams does:
//! metered → caching → change-logging → backend.
//!
//! What users rely on (retention, search order) is documented on the [`SessionStore`]
//! trait.

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

/// The bytes after the key in a session store key: end (8) and start (8).
pub(crate) const SUFFIX_LEN: usize = 16;

/// A key and the time span of one of its sessions, both ends inclusive: what a session store's
/// records are keyed by (Kafka's `Windowed<Bytes>` with a `SessionWindow`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionKey {
    /// The record key.
    pub key: Bytes,
    /// The timestamp of the session's first record, in milliseconds since the epoch.
    pub start: i64,
    /// The timestamp of the session's last record (`>= start`).
    pub end: i64,
}

impl SessionKey {
    /// `key`'s session from `start` to `end`.
    pub fn new(key: impl Into<Bytes>, start: i64, end: i64) -> Self {
        Self { key: key.into(), start, end }
    }

    /// The key of this session's record in the store's changelog topic, as Kafka's
    /// `SessionKeySchema` writes it: `[key][end, 8 bytes big-endian][start, 8 bytes
    /// big-endian]`.
    pub fn to_changelog_key(&self) -> Bytes {
        Bytes::from(store_key(&self.key, self.start, self.end))
    }

    /// Reads a changelog key written by [`to_changelog_key`](Self::to_changelog_key), or `None`
    /// if `raw` is shorter than the 16-byte suffix (not a session changelog key).
    pub fn from_changelog_key(raw: &Bytes) -> Option<SessionKey> {
        decode(raw)
    }
}

/// `[key][end BE][start BE]`.
pub(crate) fn store_key(key: &[u8], start: i64, end: i64) -> Vec<u8> {
    concat(key, &suffix(start, end))
}

fn suffix(start: i64, end: i64) -> [u8; SUFFIX_LEN] {
    let mut suffix = [0; SUFFIX_LEN];
    suffix[..8].copy_from_slice(&end.to_be_bytes());
    suffix[8..].copy_from_slice(&start.to_be_bytes());
    suffix
}

/// The session of a store key; the key shares `raw`'s memory.
pub(crate) fn decode(raw: &Bytes) -> Option<SessionKey> {
    let key_len = raw.len().checked_sub(SUFFIX_LEN)?;
    let end = i64::from_be_bytes(raw[key_len..key_len + 8].try_into().ok()?);
    let start = i64::from_be_bytes(raw[key_len + 8..].try_into().ok()?);
    Some(SessionKey { key: raw.slice(..key_len), start, end })
}

/// Whether a session's times are ones a store keeps: `0 <= start <= end`.
pub(crate) fn valid(start: i64, end: i64) -> bool {
    0 <= start && start <= end
}

/// Logs a warning for a session dropped because its times are invalid.
pub(crate) fn warn_invalid(store: &str, start: i64, end: i64) {
    tracing::warn!(
        store,
        start,
        end,
        "Skipping session with invalid times: a session needs 0 <= start <= end"
    );
}

/// What a search asks for, as raw-key bounds for the scan and a filter for what it returns.
#[derive(Debug)]
pub(crate) struct SessionQuery {
    pub(crate) lower: Option<Vec<u8>>,
    pub(crate) upper: Option<Vec<u8>>,
    key_from: Option<Vec<u8>>,
    key_to: Option<Vec<u8>>,
    /// The earliest end returned (the search's bound, or the earliest live end).
    pub(crate) end_from: i64,
    /// The latest end any stored session has.
    pub(crate) end_to: i64,
    latest_start: i64,
}

impl SessionQuery {
    /// Sessions of keys in `[key_from, key_to]` (`None`: unbounded) that end at or after
    /// `earliest_end` and start at or before `latest_start`, none ending before `min_live` or
    /// after `max_end` (the latest end stored, `None` if nothing is); `None` if no session can
    /// match. The caller has rejected inverted key ranges.
    pub(crate) fn new(
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        earliest_end: i64,
        latest_start: i64,
        min_live: i64,
        max_end: Option<i64>,
    ) -> Option<Self> {
        let end_from = earliest_end.max(min_live).max(0);
        let end_to = max_end?;
        if end_to < end_from || latest_start < 0 {
            return None;
        }
        let max_suffix = suffix(i64::MAX, end_to);
        let single = matches!((key_from, key_to), (Some(from), Some(to)) if from == to);
        let lower = match key_from {
            // One key: its sessions ending at `end_from` or later lie together from here on.
            Some(from) if single => Some(concat(from, &suffix(0, end_from))),
            // Any key >= key_from, with any suffix, sorts at or after key_from ++ zeros.
            Some(from) => Some(concat(from, &[0; SUFFIX_LEN])),
            None => None,
        };
        let upper = match key_to {
            Some(to) if single => Some(concat(to, &max_suffix)),
            Some(to) => Some(key_range_upper(to, &max_suffix)),
            None => None,
        };
        Some(Self {
            lower,
            upper,
            key_from: key_from.map(<[u8]>::to_vec),
            key_to: key_to.map(<[u8]>::to_vec),
            end_from,
            end_to,
            latest_start,
        })
    }

    /// The session of `raw` if it is one this query returns.
    pub(crate) fn matches(&self, raw: &Bytes) -> Option<SessionKey> {
        let session = decode(raw)?;
        let key = &session.key[..];
        let in_keys = self.key_from.as_deref().is_none_or(|from| key >= from)
            && self.key_to.as_deref().is_none_or(|to| key <= to);
        let in_time = self.end_from <= session.end && session.start <= self.latest_start;
        (in_keys && in_time).then_some(session)
    }
}

/// An iterator over sessions `(session key, value)`, in the order described in the
/// [store order](SessionStore#order): ascending (`find_sessions*`, `fetch`) or descending
/// (`backward_*`).
///
/// It borrows the store, so the store cannot be written while the iterator lives. Items are
/// `Result`s because a persistent store can hit an I/O error or corruption mid-scan; after an
/// error the iterator ends.
pub type SessionIterator<'a> =
    Box<dyn Iterator<Item = Result<(SessionKey, Bytes), StoreError>> + 'a>;

/// Called by a caching layer for each session it writes downstream: `(session key, new value,
/// old value)`, as [`FlushListener`](crate::FlushListener) is for key-value stores.
///
/// `new value` is `None` for a removal. `old value` is what the layer below held for the session
/// before this write (`None` if nothing, or if the listener was registered without old values
/// and the update is not a removal).
pub type SessionFlushListener = Box<dyn FnMut(&SessionKey, Option<&Bytes>, Option<&Bytes>) + Send>;

/// A session store over bytes: Kafka Streams' `SessionStore<Bytes, byte[]>`.
///
/// # Lifecycle
///
/// As [`KeyValueStore`](crate::KeyValueStore): created closed, opened by [`init`](Self::init),
/// every other operation on a closed store fails with [`StoreError::Closed`];
/// [`flush`](Self::flush) makes writes durable, [`close`](Self::close) flushes and releases the
/// store. A persistent store finds its data (and its stream time) again on `init`; an in-memory
/// one starts empty.
///
/// # Searches
///
/// [`find_sessions`](Self::find_sessions)`(key, earliest_session_end, latest_session_start)`
/// returns the sessions of `key` with `end >= earliest_session_end` and `start <=
/// latest_session_start`: exactly the sessions that overlap or touch
/// `[earliest_session_end, latest_session_start]`, which is how a session-window aggregation
/// finds the sessions a record at `ts` merges with (`find_sessions(key, ts - gap, ts + gap)`).
/// Expired sessions are never returned (see [retention](SessionStore#retention)).
///
/// # Retention
///
/// A store's *stream time* is the largest session end written to it. A session whose end is at
/// or before `stream time - retention period` has expired: a `put` of it is dropped (with
/// Kafka's warning "Skipping record for expired segment."), and no fetch returns it. Times are
/// milliseconds since the epoch: a `put` of a session with a negative start, or an end before its
/// start, is dropped with a warning.
///
/// # Order
///
/// Every store orders sessions by the bytes of `[key][session end, 8 bytes big-endian][session
/// start, 8 bytes big-endian]`, compared as unsigned bytes: the RocksDB layout, which the
/// in-memory store shares. So the sessions of one key come in ascending end order (then start),
/// and when no key is a proper prefix of another key in the result (fixed-length keys, for
/// instance) a multi-key scan is in `(key, end, start)` order. Backward scans give the exact
/// reverse.
pub trait SessionStore: Send {
    /// The store's name (its changelog topic is derived from it).
    fn name(&self) -> &str;

    /// Whether the store keeps its data on disk across `close` and `init`.
    fn persistent(&self) -> bool;

    /// Whether the store is open (initialized and not closed).
    fn is_open(&self) -> bool;

    /// How long sessions are kept, in milliseconds of stream time past their end.
    fn retention_period_ms(&self) -> i64;

    /// The store's stream time: the largest session end written to it, `None` before the first
    /// write (or after an in-memory store was closed).
    fn observed_stream_time(&self) -> Option<i64>;

    /// Opens the store. Opening a store that is already open does nothing.
    ///
    /// # Errors
    ///
    /// For RocksDB: [`StoreError::LockHeld`] if another open store uses a segment's directory,
    /// [`StoreError::Corrupted`] if its files are damaged, [`StoreError::Io`] if a directory
    /// cannot be created or read.
    fn init(&mut self) -> Result<(), StoreError>;

    /// Sets the value of `session`; `None` removes it. Expired sessions and sessions with
    /// invalid times are dropped (see [retention](SessionStore#retention)).
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open; storage errors from a persistent store.
    fn put(&mut self, session: SessionKey, value: Option<Bytes>) -> Result<(), StoreError>;

    /// Removes `session`: `put(session, None)`.
    ///
    /// # Errors
    ///
    /// As [`put`](Self::put).
    fn remove(&mut self, session: SessionKey) -> Result<(), StoreError> {
        self.put(session, None)
    }

    /// The value of `key`'s session from `start` to `end`, or `None` (also if it expired).
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open; storage errors from a persistent store.
    fn fetch_session(&self, key: &[u8], start: i64, end: i64) -> Result<Option<Bytes>, StoreError>;

    /// The sessions of `key` with `end >= earliest_session_end` and `start <=
    /// latest_session_start`, in ascending end order (then start).
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open.
    fn find_sessions(
        &self,
        key: &[u8],
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<SessionIterator<'_>, StoreError>;

    /// As [`find_sessions`](Self::find_sessions), in descending order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open.
    fn backward_find_sessions(
        &self,
        key: &[u8],
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<SessionIterator<'_>, StoreError>;

    /// As [`find_sessions`](Self::find_sessions), for every key in `[key_from, key_to]` (`None`
    /// leaves that end open; `key_from > key_to` is empty), in store order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open.
    fn find_sessions_in_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<SessionIterator<'_>, StoreError>;

    /// As [`find_sessions_in_key_range`](Self::find_sessions_in_key_range), in reverse store
    /// order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open.
    fn backward_find_sessions_in_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<SessionIterator<'_>, StoreError>;

    /// Every live session of `key`, in ascending end order (then start).
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open.
    fn fetch(&self, key: &[u8]) -> Result<SessionIterator<'_>, StoreError> {
        self.find_sessions(key, 0, i64::MAX)
    }

    /// Every live session of `key`, in descending end order (then start).
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open.
    fn backward_fetch(&self, key: &[u8]) -> Result<SessionIterator<'_>, StoreError> {
        self.backward_find_sessions(key, 0, i64::MAX)
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

    /// Registers the callback a caching layer calls for each session it writes downstream, with
    /// old values only if `send_old_values` (removals always carry theirs). Returns `false` if
    /// there is no caching layer in this stack. Layers above the cache pass the listener down.
    fn set_flush_listener(
        &mut self,
        listener: SessionFlushListener,
        send_old_values: bool,
    ) -> bool {
        let _ = (listener, send_old_values);
        false
    }
}

impl<S: SessionStore + ?Sized> SessionStore for Box<S> {
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
    fn observed_stream_time(&self) -> Option<i64> {
        (**self).observed_stream_time()
    }
    fn init(&mut self) -> Result<(), StoreError> {
        (**self).init()
    }
    fn put(&mut self, session: SessionKey, value: Option<Bytes>) -> Result<(), StoreError> {
        (**self).put(session, value)
    }
    fn remove(&mut self, session: SessionKey) -> Result<(), StoreError> {
        (**self).remove(session)
    }
    fn fetch_session(&self, key: &[u8], start: i64, end: i64) -> Result<Option<Bytes>, StoreError> {
        (**self).fetch_session(key, start, end)
    }
    fn find_sessions(
        &self,
        key: &[u8],
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<SessionIterator<'_>, StoreError> {
        (**self).find_sessions(key, earliest_session_end, latest_session_start)
    }
    fn backward_find_sessions(
        &self,
        key: &[u8],
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<SessionIterator<'_>, StoreError> {
        (**self).backward_find_sessions(key, earliest_session_end, latest_session_start)
    }
    fn find_sessions_in_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<SessionIterator<'_>, StoreError> {
        (**self).find_sessions_in_key_range(
            key_from,
            key_to,
            earliest_session_end,
            latest_session_start,
        )
    }
    fn backward_find_sessions_in_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<SessionIterator<'_>, StoreError> {
        (**self).backward_find_sessions_in_key_range(
            key_from,
            key_to,
            earliest_session_end,
            latest_session_start,
        )
    }
    fn fetch(&self, key: &[u8]) -> Result<SessionIterator<'_>, StoreError> {
        (**self).fetch(key)
    }
    fn backward_fetch(&self, key: &[u8]) -> Result<SessionIterator<'_>, StoreError> {
        (**self).backward_fetch(key)
    }
    fn flush(&mut self) -> Result<(), StoreError> {
        (**self).flush()
    }
    fn close(&mut self) -> Result<(), StoreError> {
        (**self).close()
    }
    fn set_flush_listener(
        &mut self,
        listener: SessionFlushListener,
        send_old_values: bool,
    ) -> bool {
        (**self).set_flush_listener(listener, send_old_values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changelog_keys_are_kafkas_session_keys_and_round_trip() {
        let session = SessionKey::new(Bytes::from_static(b"k"), 0x0102, 0x0304);
        let raw = session.to_changelog_key();
        assert_eq!(&raw[..], b"k\0\0\0\0\0\0\x03\x04\0\0\0\0\0\0\x01\x02");
        assert_eq!(SessionKey::from_changelog_key(&raw), Some(session));
        assert_eq!(SessionKey::from_changelog_key(&Bytes::from_static(b"too short")), None);
    }

    #[test]
    fn query_bounds_keep_every_matching_session_and_filter_the_rest() {
        for (from, to) in [(&b"a"[..], &b"b"[..]), (b"a", b"a")] {
            let query = SessionQuery::new(Some(from), Some(to), 10, 20, 0, Some(100)).unwrap();
            let lower = query.lower.clone().unwrap();
            let upper = query.upper.clone().unwrap();
            for (key, start, end, in_range) in [
                (&b"a"[..], 20, 20, true),
                (b"a", 0, 10, true),
                (b"a", 0, 9, false),
                (b"a", 21, 30, false),
                (b"a", 5, 100, true),
                (b"a\0", 15, 15, from != to),
                (b"b", 20, 100, from != to),
                (b"b\0", 15, 15, false),
                (b"", 15, 15, false),
            ] {
                let raw = Bytes::from(store_key(key, start, end));
                assert_eq!(query.matches(&raw).is_some(), in_range, "{key:?} {start}..{end}");
                if in_range {
                    assert!(raw[..] >= lower[..] && raw[..] <= upper[..], "{key:?} in bounds");
                }
            }
        }
        assert!(SessionQuery::new(None, None, 0, 10, 0, None).is_none(), "empty store");
        assert!(SessionQuery::new(None, None, 0, -1, 0, Some(10)).is_none(), "starts are >= 0");
    }
}
