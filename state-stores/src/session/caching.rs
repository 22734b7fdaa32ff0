//! The session caching layer: a write-back record cache that merges updates per session between
//! flushes.

use bytes::Bytes;
use parking_lot::Mutex;

use crate::StoreError;
use crate::bounds;
use crate::overlay::overlay;
use crate::record_cache::RecordCache;
use crate::segments::{NO_STREAM_TIME, RawIter, min_live, warn_expired};
use crate::session::{
    SessionFlushListener, SessionIterator, SessionKey, SessionQuery, SessionStore, decode,
    store_key, valid, warn_invalid,
};

/// A write-back cache over a session store: Kafka's `CachingSessionStore`.
///
/// Writes land in the cache, keyed by `[key][end][start]`; repeated writes of a session between
/// two flushes merge into one. They reach the store below (and through it the changelog) on
/// [`flush`](SessionStore::flush) (in the order the sessions were last written) or when the
/// cache grows past its byte budget (least-recently-used sessions are evicted, a dirty one
/// written down first; a budget of 0 writes every put straight through). For each session
/// written down, the [flush listener](SessionStore::set_flush_listener) gets `(session key, new
/// value, old value)`. A removal of a session the store below does not hold is not reported, as
/// in Kafka, and is written down only if it moves the stream time of the store below.
///
/// The layer keeps its own stream time (the largest session end written through it), drops
/// expired and invalid sessions as the backends do, filters expired sessions from reads and does
/// not write down cached sessions that expired before the flush. Reads see the cache laid over
/// the store below, so they always see the latest writes.
///
/// If writing down fails, the error is returned and the entries being written may be lost from
/// the cache: the store must then be closed and restored from its changelog.
pub struct CachingSessionStore<S> {
    inner: S,
    cache: Mutex<RecordCache>,
    listener: Option<SessionFlushListener>,
    send_old_values: bool,
    stream_time: i64,
}

/// A session written down, to be reported to the listener: `(session, new, old)`.
type Written = (SessionKey, Option<Bytes>, Option<Bytes>);

impl<S: SessionStore> CachingSessionStore<S> {
    /// Caches writes to `inner` in at most `max_bytes` (0: every write goes through).
    pub fn new(inner: S, max_bytes: usize) -> Self {
        Self {
            inner,
            cache: Mutex::new(RecordCache::new(max_bytes)),
            listener: None,
            send_old_values: false,
            stream_time: NO_STREAM_TIME,
        }
    }

    /// The store below this layer.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Sessions in the cache not yet written to the store below.
    pub fn dirty_entries(&self) -> usize {
        self.cache.lock().dirty_len()
    }

    /// Bytes the cache holds now, as charged against its budget.
    pub fn cached_bytes(&self) -> usize {
        self.cache.lock().bytes()
    }

    fn check_open(&self) -> Result<(), StoreError> {
        if self.inner.is_open() {
            Ok(())
        } else {
            Err(StoreError::Closed { store: self.inner.name().to_owned() })
        }
    }

    fn min_live(&self) -> i64 {
        min_live(self.stream_time, self.inner.retention_period_ms())
    }

    /// Writes to the cache, then evicts (writing dirty victims down) until within budget.
    fn cache_write(&mut self, raw: Bytes, value: Option<Bytes>) -> Result<(), StoreError> {
        self.cache.get_mut().put(raw, value);
        loop {
            let cache = self.cache.get_mut();
            if !cache.over_budget() {
                return Ok(());
            }
            let Some(evicted) = cache.evict_lru() else {
                return Ok(());
            };
            if evicted.dirty {
                if let Some(written) = self.write_down(&evicted.key, evicted.value)? {
                    self.notify(&written);
                }
            }
        }
    }

    /// Writes one cached session to the store below; returns what to report, or `None` if
    /// nothing is to be reported (the session expired, or a removal of a session the store
    /// below lacks).
    fn write_down(
        &mut self,
        raw: &Bytes,
        new: Option<Bytes>,
    ) -> Result<Option<Written>, StoreError> {
        let Some(session) = decode(raw) else {
            return Ok(None);
        };
        if session.end < self.min_live() {
            return Ok(None);
        }
        let wants_old = new.is_none() || (self.send_old_values && self.listener.is_some());
        let old = if wants_old {
            self.inner.fetch_session(&session.key, session.start, session.end)?
        } else {
            None
        };
        if new.is_none() && old.is_none() {
            // Nothing to remove and nothing to report; pass a removal down only if it moves the
            // stream time below, so that what expired here expires there too.
            if self.inner.observed_stream_time().is_none_or(|below| session.end > below) {
                self.inner.put(session, None)?;
            }
            return Ok(None);
        }
        self.inner.put(session.clone(), new.clone())?;
        Ok(Some((session, new, old)))
    }

    fn notify(&mut self, (session, new, old): &Written) {
        if let Some(listener) = self.listener.as_mut() {
            listener(session, new.as_ref(), old.as_ref());
        }
    }

    /// Writes every dirty session down, then tells the listener about each.
    fn flush_cache(&mut self) -> Result<(), StoreError> {
        let dirty = self.cache.get_mut().dirty_entries();
        if dirty.is_empty() {
            return Ok(());
        }
        let mut written = Vec::with_capacity(dirty.len());
        for (raw, new) in dirty {
            if let Some(record) = self.write_down(&raw, new)? {
                written.push(record);
            }
        }
        self.cache.get_mut().mark_all_clean();
        for record in &written {
            self.notify(record);
        }
        Ok(())
    }

    fn find<'a>(
        &'a self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        earliest_end: i64,
        latest_start: i64,
        reverse: bool,
        below: SessionIterator<'a>,
    ) -> SessionIterator<'a> {
        // No clamp at stream time: the cache is in memory, and the store below bounds its own
        // scan.
        let Some(query) = SessionQuery::new(
            key_from,
            key_to,
            earliest_end,
            latest_start,
            self.min_live(),
            Some(i64::MAX),
        ) else {
            return Box::new(std::iter::empty());
        };
        let mut cached = self.cache.lock().range(query.lower.as_deref(), query.upper.as_deref());
        if reverse {
            cached.reverse();
        }
        let below: RawIter<'a> = Box::new(below.map(|item| {
            item.map(|(s, value)| (Bytes::from(store_key(&s.key, s.start, s.end)), value))
        }));
        Box::new(overlay(cached, below, reverse).filter_map(move |item| match item {
            Ok((raw, value)) => query.matches(&raw).map(|session| Ok((session, value))),
            Err(err) => Some(Err(err)),
        }))
    }

    fn find_in_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        earliest_end: i64,
        latest_start: i64,
        reverse: bool,
    ) -> Result<SessionIterator<'_>, StoreError> {
        self.check_open()?;
        if bounds::is_inverted(key_from, key_to) {
            bounds::warn_inverted(self.inner.name());
            return Ok(Box::new(std::iter::empty()));
        }
        let below = if reverse {
            self.inner.backward_find_sessions_in_key_range(
                key_from,
                key_to,
                earliest_end,
                latest_start,
            )?
        } else {
            self.inner.find_sessions_in_key_range(key_from, key_to, earliest_end, latest_start)?
        };
        Ok(self.find(key_from, key_to, earliest_end, latest_start, reverse, below))
    }
}

impl<S: SessionStore> SessionStore for CachingSessionStore<S> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn persistent(&self) -> bool {
        self.inner.persistent()
    }

    fn is_open(&self) -> bool {
        self.inner.is_open()
    }

    fn retention_period_ms(&self) -> i64 {
        self.inner.retention_period_ms()
    }

    fn observed_stream_time(&self) -> Option<i64> {
        (self.stream_time != NO_STREAM_TIME).then_some(self.stream_time)
    }

    fn init(&mut self) -> Result<(), StoreError> {
        if !self.inner.is_open() {
            self.cache.get_mut().clear();
            self.stream_time = NO_STREAM_TIME;
            self.inner.init()?;
        }
        let below = self.inner.observed_stream_time().unwrap_or(NO_STREAM_TIME);
        self.stream_time = self.stream_time.max(below);
        Ok(())
    }

    fn put(&mut self, session: SessionKey, value: Option<Bytes>) -> Result<(), StoreError> {
        self.check_open()?;
        if !valid(session.start, session.end) {
            warn_invalid(self.inner.name(), session.start, session.end);
            return Ok(());
        }
        self.stream_time = self.stream_time.max(session.end);
        if session.end < self.min_live() {
            warn_expired(self.inner.name(), session.end, self.stream_time);
            return Ok(());
        }
        self.cache_write(Bytes::from(store_key(&session.key, session.start, session.end)), value)
    }

    fn fetch_session(&self, key: &[u8], start: i64, end: i64) -> Result<Option<Bytes>, StoreError> {
        self.check_open()?;
        if !valid(start, end) || end < self.min_live() {
            return Ok(None);
        }
        if let Some(cached) = self.cache.lock().get(&store_key(key, start, end)) {
            return Ok(cached);
        }
        self.inner.fetch_session(key, start, end)
    }

    fn find_sessions(
        &self,
        key: &[u8],
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<SessionIterator<'_>, StoreError> {
        self.check_open()?;
        let below = self.inner.find_sessions(key, earliest_session_end, latest_session_start)?;
        Ok(self.find(
            Some(key),
            Some(key),
            earliest_session_end,
            latest_session_start,
            false,
            below,
        ))
    }

    fn backward_find_sessions(
        &self,
        key: &[u8],
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<SessionIterator<'_>, StoreError> {
        self.check_open()?;
        let below =
            self.inner.backward_find_sessions(key, earliest_session_end, latest_session_start)?;
        Ok(self.find(Some(key), Some(key), earliest_session_end, latest_session_start, true, below))
    }

    fn find_sessions_in_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<SessionIterator<'_>, StoreError> {
        self.find_in_key_range(key_from, key_to, earliest_session_end, latest_session_start, false)
    }

    fn backward_find_sessions_in_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<SessionIterator<'_>, StoreError> {
        self.find_in_key_range(key_from, key_to, earliest_session_end, latest_session_start, true)
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        self.check_open()?;
        self.flush_cache()?;
        self.inner.flush()
    }

    fn close(&mut self) -> Result<(), StoreError> {
        let flushed = if self.inner.is_open() { self.flush_cache() } else { Ok(()) };
        self.cache.get_mut().clear();
        let closed = self.inner.close();
        flushed.and(closed)
    }

    fn set_flush_listener(
        &mut self,
        listener: SessionFlushListener,
        send_old_values: bool,
    ) -> bool {
        self.listener = Some(listener);
        self.send_old_values = send_old_values;
        true
    }
}
