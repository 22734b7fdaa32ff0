//! The metered layer: counts and times every operation of the store below it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::StoreError;
use crate::key_value::{FlushListener, KeyValueIterator, KeyValueStore};
use crate::metrics::{KeyValueStoreMetrics, StoreOperation};

/// Records the count, errors and latency of every operation in a shared [`KeyValueStoreMetrics`]:
/// Kafka's `MeteredKeyValueStore`, the outermost layer of a store.
///
/// Scans are timed from the call until their iterator is dropped. Lifecycle events (`init`,
/// `flush`, `close`) are logged at debug level and failed operations at warn level, through
/// `tracing`, with the store's name.
pub struct MeteredKeyValueStore<S> {
    inner: S,
    metrics: Arc<KeyValueStoreMetrics>,
}

impl<S: KeyValueStore> MeteredKeyValueStore<S> {
    /// Meters `inner` with fresh counters (read them through [`metrics`](Self::metrics)).
    pub fn new(inner: S) -> Self {
        Self::with_metrics(inner, Arc::new(KeyValueStoreMetrics::new()))
    }

    /// Meters `inner` into `metrics`, which the caller keeps a clone of.
    pub fn with_metrics(inner: S, metrics: Arc<KeyValueStoreMetrics>) -> Self {
        Self { inner, metrics }
    }

    /// The counters this layer records into.
    pub fn metrics(&self) -> &Arc<KeyValueStoreMetrics> {
        &self.metrics
    }

    /// The store below this layer.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn measure<T>(
        &self,
        op: StoreOperation,
        call: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let start = Instant::now();
        let result = call();
        self.finish(op, start.elapsed(), &result);
        result
    }

    fn finish<T>(&self, op: StoreOperation, elapsed: Duration, result: &Result<T, StoreError>) {
        self.record(op, elapsed, result.as_ref().err());
    }

    fn record(&self, op: StoreOperation, elapsed: Duration, error: Option<&StoreError>) {
        self.metrics.record(op, elapsed, error.is_some());
        if let Some(err) = error {
            tracing::warn!(store = %self.inner.name(), operation = %op, error = %err, "store operation failed");
        }
    }

    fn measure_scan<'a>(
        &'a self,
        op: StoreOperation,
        scan: impl FnOnce(&'a S) -> Result<KeyValueIterator<'a>, StoreError>,
    ) -> Result<KeyValueIterator<'a>, StoreError> {
        let start = Instant::now();
        match scan(&self.inner) {
            Ok(iter) => Ok(Box::new(MeteredIter {
                inner: iter,
                store: self.inner.name(),
                metrics: &self.metrics,
                op,
                start,
                failed: false,
            })),
            Err(err) => {
                self.record(op, start.elapsed(), Some(&err));
                Err(err)
            }
        }
    }
}

/// Times a scan until it is dropped.
struct MeteredIter<'a> {
    inner: KeyValueIterator<'a>,
    store: &'a str,
    metrics: &'a KeyValueStoreMetrics,
    op: StoreOperation,
    start: Instant,
    failed: bool,
}

impl Iterator for MeteredIter<'_> {
    type Item = Result<(Bytes, Bytes), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.inner.next();
        if let Some(Err(err)) = &item {
            self.failed = true;
            tracing::warn!(store = %self.store, operation = %self.op, error = %err, "store scan failed");
        }
        item
    }
}

impl Drop for MeteredIter<'_> {
    fn drop(&mut self) {
        self.metrics.record(self.op, self.start.elapsed(), self.failed);
    }
}

impl<S: KeyValueStore> KeyValueStore for MeteredKeyValueStore<S> {
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
        let start = Instant::now();
        let result = self.inner.init();
        match &result {
            Ok(()) => {
                tracing::debug!(store = %self.inner.name(), elapsed = ?start.elapsed(), "store initialized")
            }
            Err(err) => {
                tracing::warn!(store = %self.inner.name(), error = %err, "store init failed")
            }
        }
        result
    }

    fn get(&self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        self.measure(StoreOperation::Get, || self.inner.get(key))
    }

    fn put(&mut self, key: Bytes, value: Option<Bytes>) -> Result<(), StoreError> {
        let start = Instant::now();
        let result = self.inner.put(key, value);
        self.finish(StoreOperation::Put, start.elapsed(), &result);
        result
    }

    fn read_modify_write(
        &mut self,
        key: &[u8],
        f: &mut dyn FnMut(Option<&Bytes>) -> Option<Option<Bytes>>,
    ) -> Result<(), StoreError> {
        let start = Instant::now();
        let result = self.inner.read_modify_write(key, f);
        self.finish(StoreOperation::ReadModifyWrite, start.elapsed(), &result);
        result
    }

    fn put_if_absent(&mut self, key: Bytes, value: Bytes) -> Result<Option<Bytes>, StoreError> {
        let start = Instant::now();
        let result = self.inner.put_if_absent(key, value);
        self.finish(StoreOperation::PutIfAbsent, start.elapsed(), &result);
        result
    }

    fn put_all(&mut self, entries: &[(Bytes, Option<Bytes>)]) -> Result<(), StoreError> {
        let start = Instant::now();
        let result = self.inner.put_all(entries);
        self.finish(StoreOperation::PutAll, start.elapsed(), &result);
        result
    }

    fn delete(&mut self, key: &Bytes) -> Result<Option<Bytes>, StoreError> {
        let start = Instant::now();
        let result = self.inner.delete(key);
        self.finish(StoreOperation::Delete, start.elapsed(), &result);
        result
    }

    fn range(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
    ) -> Result<KeyValueIterator<'_>, StoreError> {
        self.measure_scan(StoreOperation::Range, |inner| inner.range(from, to))
    }

    fn reverse_range(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
    ) -> Result<KeyValueIterator<'_>, StoreError> {
        self.measure_scan(StoreOperation::Range, |inner| inner.reverse_range(from, to))
    }

    fn all(&self) -> Result<KeyValueIterator<'_>, StoreError> {
        self.measure_scan(StoreOperation::All, |inner| inner.all())
    }

    fn reverse_all(&self) -> Result<KeyValueIterator<'_>, StoreError> {
        self.measure_scan(StoreOperation::All, |inner| inner.reverse_all())
    }

    fn prefix_scan(&self, prefix: &[u8]) -> Result<KeyValueIterator<'_>, StoreError> {
        self.measure_scan(StoreOperation::PrefixScan, |inner| inner.prefix_scan(prefix))
    }

    fn approximate_num_entries(&self) -> Result<u64, StoreError> {
        self.inner.approximate_num_entries()
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        let start = Instant::now();
        let result = self.inner.flush();
        let elapsed = start.elapsed();
        self.finish(StoreOperation::Flush, elapsed, &result);
        if result.is_ok() {
            tracing::debug!(store = %self.inner.name(), ?elapsed, "store flushed");
        }
        result
    }

    fn close(&mut self) -> Result<(), StoreError> {
        let result = self.inner.close();
        match &result {
            Ok(()) => tracing::debug!(store = %self.inner.name(), "store closed"),
            Err(err) => {
                tracing::warn!(store = %self.inner.name(), error = %err, "store close failed")
            }
        }
        result
    }

    fn set_flush_listener(&mut self, listener: FlushListener, send_old_values: bool) -> bool {
        self.inner.set_flush_listener(listener, send_old_values)
    }
}
