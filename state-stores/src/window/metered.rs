//! The window metered layer: counts and times every operation of the store below it.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use crate::StoreError;
use crate::metrics::{KeyValueStoreMetrics, StoreOperation};
use crate::segments::metered::MeteredScan;
use crate::window::{WindowFlushListener, WindowIterator, WindowStore};

/// Records the count, errors and latency of every operation in a shared
/// [`KeyValueStoreMetrics`]: Kafka's `MeteredWindowStore`, the outermost layer of a store.
///
/// Operations are recorded under the [`StoreOperation`] that names them best: `put` as
/// [`Put`](StoreOperation::Put), `fetch` as [`Get`](StoreOperation::Get), the `fetch_range`,
/// `fetch_key_range` and `fetch_all` scans (backward ones too) as
/// [`Range`](StoreOperation::Range), `all` and `backward_all` as [`All`](StoreOperation::All),
/// and `flush` as [`Flush`](StoreOperation::Flush). Scans are timed from the call until their
/// iterator is dropped. Lifecycle events are logged at debug level and failures at warn level.
pub struct MeteredWindowStore<S> {
    inner: S,
    metrics: Arc<KeyValueStoreMetrics>,
}

impl<S: WindowStore> MeteredWindowStore<S> {
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

    fn record(&self, op: StoreOperation, start: Instant, error: Option<&StoreError>) {
        self.metrics.record(op, start.elapsed(), error.is_some());
        if let Some(err) = error {
            tracing::warn!(store = %self.inner.name(), operation = %op, error = %err, "store operation failed");
        }
    }

    fn measure_scan<'a>(
        &'a self,
        op: StoreOperation,
        scan: impl FnOnce(&'a S) -> Result<WindowIterator<'a>, StoreError>,
    ) -> Result<WindowIterator<'a>, StoreError> {
        let start = Instant::now();
        match scan(&self.inner) {
            Ok(iter) => Ok(Box::new(MeteredScan {
                inner: iter,
                store: self.inner.name(),
                metrics: &self.metrics,
                op,
                start,
                failed: false,
            })),
            Err(err) => {
                self.record(op, start, Some(&err));
                Err(err)
            }
        }
    }
}

impl<S: WindowStore> WindowStore for MeteredWindowStore<S> {
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
        self.inner.observed_stream_time()
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

    fn put(
        &mut self,
        key: Bytes,
        value: Option<Bytes>,
        window_start: i64,
    ) -> Result<(), StoreError> {
        let start = Instant::now();
        let result = self.inner.put(key, value, window_start);
        self.record(StoreOperation::Put, start, result.as_ref().err());
        result
    }

    fn fetch(&self, key: &[u8], window_start: i64) -> Result<Option<Bytes>, StoreError> {
        let start = Instant::now();
        let result = self.inner.fetch(key, window_start);
        self.record(StoreOperation::Get, start, result.as_ref().err());
        result
    }

    fn fetch_range(
        &self,
        key: &[u8],
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError> {
        self.measure_scan(StoreOperation::Range, |s| s.fetch_range(key, time_from, time_to))
    }

    fn backward_fetch_range(
        &self,
        key: &[u8],
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError> {
        self.measure_scan(StoreOperation::Range, |s| {
            s.backward_fetch_range(key, time_from, time_to)
        })
    }

    fn fetch_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError> {
        self.measure_scan(StoreOperation::Range, |s| {
            s.fetch_key_range(key_from, key_to, time_from, time_to)
        })
    }

    fn backward_fetch_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError> {
        self.measure_scan(StoreOperation::Range, |s| {
            s.backward_fetch_key_range(key_from, key_to, time_from, time_to)
        })
    }

    fn fetch_all(&self, time_from: i64, time_to: i64) -> Result<WindowIterator<'_>, StoreError> {
        self.measure_scan(StoreOperation::Range, |s| s.fetch_all(time_from, time_to))
    }

    fn backward_fetch_all(
        &self,
        time_from: i64,
        time_to: i64,
    ) -> Result<WindowIterator<'_>, StoreError> {
        self.measure_scan(StoreOperation::Range, |s| s.backward_fetch_all(time_from, time_to))
    }

    fn all(&self) -> Result<WindowIterator<'_>, StoreError> {
        self.measure_scan(StoreOperation::All, |s| s.all())
    }

    fn backward_all(&self) -> Result<WindowIterator<'_>, StoreError> {
        self.measure_scan(StoreOperation::All, |s| s.backward_all())
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        let start = Instant::now();
        let result = self.inner.flush();
        self.record(StoreOperation::Flush, start, result.as_ref().err());
        if result.is_ok() {
            tracing::debug!(store = %self.inner.name(), elapsed = ?start.elapsed(), "store flushed");
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

    fn set_flush_listener(&mut self, listener: WindowFlushListener, send_old_values: bool) -> bool {
        self.inner.set_flush_listener(listener, send_old_values)
    }
}
