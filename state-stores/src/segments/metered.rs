//! Timing of scans for the window and session metered layers.

use std::time::Instant;

use crate::StoreError;
use crate::metrics::{KeyValueStoreMetrics, StoreOperation};

/// Wraps a scan's iterator so that the scan is recorded, from its start until the iterator is
/// dropped, with an error if any item failed.
pub(crate) struct MeteredScan<'a, I> {
    pub(crate) inner: I,
    pub(crate) store: &'a str,
    pub(crate) metrics: &'a KeyValueStoreMetrics,
    pub(crate) op: StoreOperation,
    pub(crate) start: Instant,
    pub(crate) failed: bool,
}

impl<T, I: Iterator<Item = Result<T, StoreError>>> Iterator for MeteredScan<'_, I> {
    type Item = Result<T, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.inner.next();
        if let Some(Err(err)) = &item {
            self.failed = true;
            tracing::warn!(store = %self.store, operation = %self.op, error = %err, "store scan failed");
        }
        item
    }
}

impl<I> Drop for MeteredScan<'_, I> {
    fn drop(&mut self) {
        self.metrics.record(self.op, self.start.elapsed(), self.failed);
    }
}
