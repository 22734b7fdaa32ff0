//! The caching layer: a write-back record cache that merges updates per key between flushes.

use bytes::Bytes;
use parking_lot::Mutex;

use crate::StoreError;
use crate::bounds;
use crate::key_value::{FlushListener, KeyValueIterator, KeyValueStore};
use crate::overlay::overlay;
use crate::record_cache::RecordCache;

/// A write-back cache over a store: Kafka's `CachingKeyValueStore`.
///
/// Writes land in the cache, marked dirty; repeated writes of a key between two flushes merge
/// into one. They reach the store below (and through it the changelog) when:
///
/// - [`flush`](KeyValueStore::flush) is called (the runtime does on every commit): every dirty
///   entry is written down in one [`put_all`](KeyValueStore::put_all) batch, in the order the
///   entries were last written, then the store below is flushed;
/// - the cache grows past its byte budget: least-recently-used entries are evicted, and a dirty
///   one is written down first. A budget of 0 makes every write go straight through.
///
/// For each record written down, the [flush listener](KeyValueStore::set_flush_listener) gets
/// `(key, new value, old value)`, the old value being what the store below held. A delete of a key
/// the store below does not hold is dropped (nothing is written, nothing forwarded), as in Kafka.
///
/// Reads look in the cache first (a hit counts as use for eviction) and scans merge the cache with
/// the store below, so they always see the latest writes. Entries stay cached, clean, after a flush;
/// reads that miss do not fill the cache (RocksDB's block cache serves those).
///
/// Every entry costs its key and value length plus 64 bytes against the budget.
///
/// If writing down fails, the error is returned and the entries being written may be lost from
/// the cache: the store must then be closed and restored from its changelog, as the runtime does
/// for any store error.
pub struct CachingKeyValueStore<S> {
    inner: S,
    cache: Mutex<RecordCache>,
    listener: Option<FlushListener>,
    send_old_values: bool,
}

impl<S: KeyValueStore> CachingKeyValueStore<S> {
    /// Caches writes to `inner` in at most `max_bytes` (0: no caching, every write goes through).
    pub fn new(inner: S, max_bytes: usize) -> Self {
        Self {
            inner,
            cache: Mutex::new(RecordCache::new(max_bytes)),
            listener: None,
            send_old_values: false,
        }
    }

    /// Caches writes to `inner` within `budget`, which other caches may share (a stream thread's
    /// caches share one): see [`CacheBudget`](crate::CacheBudget).
    pub fn with_budget(inner: S, budget: crate::CacheBudget) -> Self {
        Self {
            inner,
            cache: Mutex::new(RecordCache::with_budget(budget)),
            listener: None,
            send_old_values: false,
        }
    }

    /// The store below this layer.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Entries in the cache not yet written to the store below.
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

    /// Writes to the cache, then evicts (writing dirty victims down) until within budget.
    fn cache_write(&mut self, key: Bytes, value: Option<Bytes>) -> Result<(), StoreError> {
        self.cache.get_mut().put(key, value);
        self.evict_while_over_budget()
    }

    /// Evicts least recently used entries, writing dirty ones down, while over budget.
    fn evict_while_over_budget(&mut self) -> Result<(), StoreError> {
        loop {
            let cache = self.cache.get_mut();
            if !cache.over_budget() {
                return Ok(());
            }
            let Some(evicted) = cache.evict_lru() else {
                return Ok(());
            };
            if evicted.dirty {
                if let Some(old) = self.old_value(&evicted.key, evicted.value.as_ref())? {
                    self.inner.put(evicted.key.clone(), evicted.value.clone())?;
                    self.notify(&evicted.key, evicted.value.as_ref(), old.as_ref());
                }
            }
        }
    }

    /// What to tell the listener the key held before a write of `new`, or `None` if the write
    /// should be dropped (a delete of a key the store below does not hold).
    fn old_value(
        &self,
        key: &[u8],
        new: Option<&Bytes>,
    ) -> Result<Option<Option<Bytes>>, StoreError> {
        let wants_old = new.is_none() || (self.send_old_values && self.listener.is_some());
        let old = if wants_old { self.inner.get(key)? } else { None };
        if new.is_none() && old.is_none() { Ok(None) } else { Ok(Some(old)) }
    }

    fn notify(&mut self, key: &Bytes, new: Option<&Bytes>, old: Option<&Bytes>) {
        if let Some(listener) = self.listener.as_mut() {
            listener(key, new, old);
        }
    }

    /// Writes every dirty entry down in one batch, then tells the listener about each.
    fn flush_cache(&mut self) -> Result<(), StoreError> {
        let dirty = self.cache.get_mut().dirty_entries();
        if dirty.is_empty() {
            return Ok(());
        }
        let mut batch = Vec::with_capacity(dirty.len());
        let mut olds = Vec::with_capacity(dirty.len());
        for (key, new) in dirty {
            if let Some(old) = self.old_value(&key, new.as_ref())? {
                batch.push((key, new));
                olds.push(old);
            }
        }
        if !batch.is_empty() {
            self.inner.put_all(&batch)?;
        }
        self.cache.get_mut().mark_all_clean();
        if self.listener.is_some() {
            for ((key, new), old) in batch.iter().zip(&olds) {
                self.notify(key, new.as_ref(), old.as_ref());
            }
        }
        Ok(())
    }
}

impl<S: KeyValueStore> KeyValueStore for CachingKeyValueStore<S> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn persistent(&self) -> bool {
        self.inner.persistent()
    }

    fn is_open(&self) -> bool {
        self.inner.is_open()
    }

    fn init(&mut self) -> Result<(), StoreError> {
        if !self.inner.is_open() {
            self.cache.get_mut().clear();
        }
        self.inner.init()
    }

    fn get(&self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        self.check_open()?;
        if let Some(cached) = self.cache.lock().get(key) {
            return Ok(cached);
        }
        self.inner.get(key)
    }

    fn put(&mut self, key: Bytes, value: Option<Bytes>) -> Result<(), StoreError> {
        self.check_open()?;
        self.cache_write(key, value)
    }

    fn read_modify_write(
        &mut self,
        key: &[u8],
        f: &mut dyn FnMut(Option<&Bytes>) -> Option<Option<Bytes>>,
    ) -> Result<(), StoreError> {
        self.check_open()?;
        let cache = self.cache.get_mut();
        if let Some(slot) = cache.slot(key) {
            // Cached: update the entry in place, with one lookup of the key.
            if let Some(new) = f(cache.value_at(slot)) {
                cache.put_at(slot, new);
                return self.evict_while_over_budget();
            }
            return Ok(());
        }
        let below = self.inner.get(key)?;
        match f(below.as_ref()) {
            Some(new) => self.cache_write(Bytes::copy_from_slice(key), new),
            None => Ok(()),
        }
    }

    fn put_if_absent(&mut self, key: Bytes, value: Bytes) -> Result<Option<Bytes>, StoreError> {
        if let Some(existing) = self.get(&key)? {
            return Ok(Some(existing));
        }
        self.cache_write(key, Some(value))?;
        Ok(None)
    }

    fn put_all(&mut self, entries: &[(Bytes, Option<Bytes>)]) -> Result<(), StoreError> {
        self.check_open()?;
        for (key, value) in entries {
            self.cache_write(key.clone(), value.clone())?;
        }
        Ok(())
    }

    fn delete(&mut self, key: &Bytes) -> Result<Option<Bytes>, StoreError> {
        let old = self.get(key)?;
        self.cache_write(key.clone(), None)?;
        Ok(old)
    }

    fn range(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
    ) -> Result<KeyValueIterator<'_>, StoreError> {
        self.check_open()?;
        if bounds::is_inverted(from, to) {
            bounds::warn_inverted(self.inner.name());
            return Ok(Box::new(std::iter::empty()));
        }
        let cached = self.cache.lock().range(from, to);
        Ok(overlay(cached, self.inner.range(from, to)?, false))
    }

    fn reverse_range(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
    ) -> Result<KeyValueIterator<'_>, StoreError> {
        self.check_open()?;
        if bounds::is_inverted(from, to) {
            bounds::warn_inverted(self.inner.name());
            return Ok(Box::new(std::iter::empty()));
        }
        let mut cached = self.cache.lock().range(from, to);
        cached.reverse();
        Ok(overlay(cached, self.inner.reverse_range(from, to)?, true))
    }

    fn prefix_scan(&self, prefix: &[u8]) -> Result<KeyValueIterator<'_>, StoreError> {
        self.check_open()?;
        let cached = self.cache.lock().prefix(prefix);
        Ok(overlay(cached, self.inner.prefix_scan(prefix)?, false))
    }

    fn approximate_num_entries(&self) -> Result<u64, StoreError> {
        self.inner.approximate_num_entries()
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

    fn set_flush_listener(&mut self, listener: FlushListener, send_old_values: bool) -> bool {
        self.listener = Some(listener);
        self.send_old_values = send_old_values;
        true
    }
}
