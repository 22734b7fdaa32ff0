//! The window caching layer: a write-back record cache that merges updates per window between
//! flushes.

use bytes::Bytes;
use parking_lot::Mutex;

use crate::StoreError;
use crate::bounds;
use crate::overlay::overlay;
use crate::record_cache::RecordCache;
use crate::segments::{NO_STREAM_TIME, RawIter, min_live, warn_expired, warn_negative};
use crate::window::{
    WindowFlushListener, WindowIterator, WindowQuery, WindowStore, WindowedKey, decode, store_key,
};

/// A write-back cache over a window store: Kafka's `CachingWindowStore`.
///
/// Writes land in the cache, keyed by `[key][window start]`; repeated writes of a window between
/// two flushes merge into one. They reach the store below (and through it the changelog) on
/// [`flush`](WindowStore::flush) (in the order the windows were last written) or when the cache
/// grows past its byte budget (least-recently-used windows are evicted, a dirty one written down
/// first; a budget of 0 writes every put straight through). For each record written down, the
/// [flush listener](WindowStore::set_flush_listener) gets `(windowed key, new value, old value)`.
/// A delete of a window the store below does not hold is not reported, as in Kafka, and is
/// written down only if it moves the stream time of the store below (so that what expired in
/// this layer expires below it too).
///
/// The layer keeps its own stream time (the largest window start written through it), drops
/// expired and negative-start puts as the backends do, filters expired windows from reads and
/// does not write down cached windows that expired before the flush. Reads see the cache laid
/// over the store below, so they always see the latest writes.
///
/// A store that [retains duplicates](WindowStore::retain_duplicates) is not cached: every
/// operation goes straight to the store below (Kafka disables caching for such stores too).
///
/// If writing down fails, the error is returned and the entries being written may be lost from
/// the cache: the store must then be closed and restored from its changelog.
pub struct CachingWindowStore<S> {
    inner: S,
    cache: Mutex<RecordCache>,
    listener: Option<WindowFlushListener>,
    send_old_values: bool,
    stream_time: i64,
}

/// A record written down, to be reported to the listener: `(windowed key, new, old)`.
type Written = (WindowedKey, Option<Bytes>, Option<Bytes>);

impl<S: WindowStore> CachingWindowStore<S> {
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

    /// Windows in the cache not yet written to the store below.
    pub fn dirty_entries(&self) -> usize {
        self.cache.lock().dirty_len()
    }

    /// Bytes the cache holds now, as charged against its budget.
    pub fn cached_bytes(&self) -> usize {
        self.cache.lock().bytes()
    }

    /// Whether this layer caches (it does not over a store of duplicates).
    fn enabled(&self) -> bool {
        !self.inner.retain_duplicates()
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

    /// Writes one cached window to the store below; returns what to report, or `None` if
    /// nothing was written (the window expired, or a delete of a window the store below lacks).
    fn write_down(
        &mut self,
        raw: &Bytes,
        new: Option<Bytes>,
    ) -> Result<Option<Written>, StoreError> {
        let Some((key, window_start, _)) = decode(raw) else {
            return Ok(None);
        };
        if window_start < self.min_live() {
            return Ok(None);
        }
        let wants_old = new.is_none() || (self.send_old_values && self.listener.is_some());
        let old = if wants_old { self.inner.fetch(&key, window_start)? } else { None };
        if new.is_none() && old.is_none() {
            // Nothing to delete and nothing to report. Still, a delete moves stream time: pass
            // it down if it moves the store's, so that what expired here expires below too
            // (and stays expired after a restart).
            if self.inner.observed_stream_time().is_none_or(|below| window_start > below) {
                self.inner.put(key, None, window_start)?;
            }
            return Ok(None);
        }
        self.inner.put(key.clone(), new.clone(), window_start)?;
        Ok(Some((WindowedKey { key, window_start }, new, old)))
    }

    fn notify(&mut self, (key, new, old): &Written) {
        if let Some(listener) = self.listener.as_mut() {
            listener(key, new.as_ref(), old.as_ref());
        }
    }

    /// Writes every dirty window down, then tells the listener about each.
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

    /// The cached windows the query covers laid over `below`, filtered by the query (which
    /// also drops what expired at this layer's stream time).
    fn overlaid<'a>(
        &'a self,
        query: Option<WindowQuery>,
        below: WindowIterator<'a>,
        reverse: bool,
    ) -> WindowIterator<'a> {
        let Some(query) = query else {
            return Box::new(std::iter::empty());
        };
        let mut cached = self.cache.lock().range(query.lower.as_deref(), query.upper.as_deref());
        if reverse {
            cached.reverse();
        }
        let below: RawIter<'a> = Box::new(below.map(|item| {
            item.map(|(key, value)| (Bytes::from(store_key(&key.key, key.window_start, 0)), value))
        }));
        Box::new(overlay(cached, below, reverse).filter_map(move |item| match item {
            Ok((raw, value)) => query.matches(&raw).map(|key| Ok((key, value))),
            Err(err) => Some(Err(err)),
        }))
    }

    fn range(
        &self,
        key: &[u8],
        time_from: i64,
        time_to: i64,
        reverse: bool,
    ) -> Result<WindowIterator<'_>, StoreError> {
        self.check_open()?;
        let below = if reverse {
            self.inner.backward_fetch_range(key, time_from, time_to)?
        } else {
            self.inner.fetch_range(key, time_from, time_to)?
        };
        if !self.enabled() {
            return Ok(below);
        }
        let query = WindowQuery::single_key(key, time_from, time_to, self.min_live());
        Ok(self.overlaid(query, below, reverse))
    }

    fn key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
        reverse: bool,
    ) -> Result<WindowIterator<'_>, StoreError> {
        self.check_open()?;
        if bounds::is_inverted(key_from, key_to) {
            bounds::warn_inverted(self.inner.name());
            return Ok(Box::new(std::iter::empty()));
        }
        let below = if reverse {
            self.inner.backward_fetch_key_range(key_from, key_to, time_from, time_to)?
        } else {
            self.inner.fetch_key_range(key_from, key_to, time_from, time_to)?
        };
        if !self.enabled() {
            return Ok(below);
        }
        // No clamp at stream time: the cache is in memory, and the store below bounds its own
        // scan.
        let query = WindowQuery::key_range(
            key_from,
            key_to,
            time_from,
            time_to,
            self.min_live(),
            Some(i64::MAX),
        );
        Ok(self.overlaid(query, below, reverse))
    }
}

impl<S: WindowStore> WindowStore for CachingWindowStore<S> {
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

    fn window_size_ms(&self) -> i64 {
        self.inner.window_size_ms()
    }

    fn retain_duplicates(&self) -> bool {
        self.inner.retain_duplicates()
    }

    fn observed_stream_time(&self) -> Option<i64> {
        if self.enabled() {
            (self.stream_time != NO_STREAM_TIME).then_some(self.stream_time)
        } else {
            self.inner.observed_stream_time()
        }
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

    fn put(
        &mut self,
        key: Bytes,
        value: Option<Bytes>,
        window_start: i64,
    ) -> Result<(), StoreError> {
        self.check_open()?;
        if !self.enabled() {
            return self.inner.put(key, value, window_start);
        }
        if window_start < 0 {
            warn_negative(self.inner.name(), "window start", window_start);
            return Ok(());
        }
        self.stream_time = self.stream_time.max(window_start);
        if window_start < self.min_live() {
            warn_expired(self.inner.name(), window_start, self.stream_time);
            return Ok(());
        }
        self.cache_write(Bytes::from(store_key(&key, window_start, 0)), value)
    }

    fn fetch(&self, key: &[u8], window_start: i64) -> Result<Option<Bytes>, StoreError> {
        self.check_open()?;
        if !self.enabled() {
            return self.inner.fetch(key, window_start);
        }
        if window_start < self.min_live() {
            return Ok(None);
        }
        if let Some(cached) = self.cache.lock().get(&store_key(key, window_start, 0)) {
            return Ok(cached);
        }
        self.inner.fetch(key, window_start)
    }

    fn fetch_range(
        &self,
        key: &[u8],
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError> {
        self.range(key, time_from, time_to, false)
    }

    fn backward_fetch_range(
        &self,
        key: &[u8],
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError> {
        self.range(key, time_from, time_to, true)
    }

    fn fetch_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError> {
        self.key_range(key_from, key_to, time_from, time_to, false)
    }

    fn backward_fetch_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError> {
        self.key_range(key_from, key_to, time_from, time_to, true)
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

    fn set_flush_listener(&mut self, listener: WindowFlushListener, send_old_values: bool) -> bool {
        if !self.enabled() {
            return self.inner.set_flush_listener(listener, send_old_values);
        }
        self.listener = Some(listener);
        self.send_old_values = send_old_values;
        true
    }
}
