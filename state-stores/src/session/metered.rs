//! The session metered layer: counts and times every operation of the store below it.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use crate::StoreError;
use crate::metrics::{KeyValueStoreMetrics, StoreOperation};
use crate::segments::metered::MeteredScan;
use crate::session::{SessionFlushListener, SessionIterator, SessionKey, SessionStore};

/// Records the count, errors and latency of every operation in a shared
/// [`KeyValueStoreMetrics`]: Kafka's `MeteredSessionStore`, the outermost layer of a store.
///
/// Operations are recorded under the [`StoreOperation`] that names them best: `put` as
/// [`Put`](StoreOperation::Put), `remove` as [`Delete`](StoreOperation::Delete),
/// `fetch_session` as [`Get`](StoreOperation::Get), every search (`find_sessions*`, `fetch`,
/// backward ones too) as [`Range`](StoreOperation::Range), and `flush` as
/// [`Flush`](StoreOperation::Flush). Searches are timed from the call until their iterator is
/// dropped. Lifecycle events are logged at debug level and failures at warn level.
pub struct MeteredSessionStore<S> {
    inner: S,
    metrics: Arc<KeyValueStoreMetrics>,
}

impl<S: SessionStore> MeteredSessionStore<S> {
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
        scan: impl FnOnce(&'a S) -> Result<SessionIterator<'a>, StoreError>,
    ) -> Result<SessionIterator<'a>, StoreError> {
        let op = StoreOperation::Range;
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

impl<S: SessionStore> SessionStore for MeteredSessionStore<S> {
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

    fn put(&mut self, session: SessionKey, value: Option<Bytes>) -> Result<(), StoreError> {
        let start = Instant::now();
        let result = self.inner.put(session, value);
        self.record(StoreOperation::Put, start, result.as_ref().err());
        result
    }

    fn remove(&mut self, session: SessionKey) -> Result<(), StoreError> {
        let start = Instant::now();
        let result = self.inner.remove(session);
        self.record(StoreOperation::Delete, start, result.as_ref().err());
        result
    }

    fn fetch_session(
        &self,
        key: &[u8],
        start_time: i64,
        end_time: i64,
    ) -> Result<Option<Bytes>, StoreError> {
        let start = Instant::now();
        let result = self.inner.fetch_session(key, start_time, end_time);
        self.record(StoreOperation::Get, start, result.as_ref().err());
        result
    }

    fn find_sessions(
        &self,
        key: &[u8],
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<SessionIterator<'_>, StoreError> {
        self.measure_scan(|s| s.find_sessions(key, earliest_session_end, latest_session_start))
    }

    fn backward_find_sessions(
        &self,
        key: &[u8],
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<SessionIterator<'_>, StoreError> {
        self.measure_scan(|s| {
            s.backward_find_sessions(key, earliest_session_end, latest_session_start)
        })
    }

    fn find_sessions_in_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<SessionIterator<'_>, StoreError> {
        self.measure_scan(|s| {
            s.find_sessions_in_key_range(
                key_from,
                key_to,
                earliest_session_end,
                latest_session_start,
            )
        })
    }

    fn backward_find_sessions_in_key_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> Result<SessionIterator<'_>, StoreError> {
        self.measure_scan(|s| {
            s.backward_find_sessions_in_key_range(
                key_from,
                key_to,
                earliest_session_end,
                latest_session_start,
            )
        })
    }

    fn fetch(&self, key: &[u8]) -> Result<SessionIterator<'_>, StoreError> {
        self.measure_scan(|s| s.fetch(key))
    }

    fn backward_fetch(&self, key: &[u8]) -> Result<SessionIterator<'_>, StoreError> {
        self.measure_scan(|s| s.backward_fetch(key))
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

    fn set_flush_listener(
        &mut self,
        listener: SessionFlushListener,
        send_old_values: bool,
    ) -> bool {
        self.inner.set_flush_listener(listener, send_old_values)
    }
}
