//! Stacks the window layers over a backend in Kafka Streams' order.

use std::sync::Arc;

use crate::changelog::ChangelogWriter;
use crate::metrics::KeyValueStoreMetrics;
use crate::window::WindowStore;
use crate::window::caching::CachingWindowStore;
use crate::window::logging::ChangeLoggingWindowStore;
use crate::window::metered::MeteredWindowStore;

/// Builds a window store from a backend and the layers asked for, always stacked as Kafka
/// Streams' `WindowStoreBuilder` does: metered → caching → change-logging → backend. Each layer is
/// optional; with none, `build` returns the backend alone. As in Kafka, caching is left out
/// (with a warning) when the backend retains duplicates.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use bytes::Bytes;
/// use state_stores::{InMemoryWindowStore, WindowStore, WindowStoreBuilder, WindowedKey};
///
/// let logged = Arc::new(Mutex::new(Vec::new()));
/// let sink = logged.clone();
/// let backend = InMemoryWindowStore::new("counts", Duration::from_secs(600), Duration::from_secs(60), false);
/// let mut store = WindowStoreBuilder::new(backend)
///     .with_caching(1024 * 1024)
///     .with_logging(move |k: &Bytes, v: Option<&Bytes>| sink.lock().unwrap().push((k.clone(), v.cloned())))
///     .build();
/// store.init()?;
/// store.put(Bytes::from_static(b"a"), Some(Bytes::from_static(b"1")), 60_000)?;
/// store.put(Bytes::from_static(b"a"), Some(Bytes::from_static(b"2")), 60_000)?;
/// assert!(logged.lock().unwrap().is_empty()); // still in the cache
/// store.flush()?;
/// let changelog_key = WindowedKey::new(Bytes::from_static(b"a"), 60_000).to_changelog_key(0);
/// assert_eq!(*logged.lock().unwrap(), vec![(changelog_key, Some(Bytes::from_static(b"2")))]);
/// # Ok::<(), state_stores::StoreError>(())
/// ```
pub struct WindowStoreBuilder {
    backend: Box<dyn WindowStore>,
    metrics: Option<Arc<KeyValueStoreMetrics>>,
    cache_bytes: Option<usize>,
    changelog: Option<Box<dyn ChangelogWriter>>,
}

impl WindowStoreBuilder {
    /// A builder over `backend` with no layers yet.
    pub fn new(backend: impl WindowStore + 'static) -> Self {
        Self::from_boxed(Box::new(backend))
    }

    /// As [`new`](Self::new), with a backend already boxed.
    pub fn from_boxed(backend: Box<dyn WindowStore>) -> Self {
        Self { backend, metrics: None, cache_bytes: None, changelog: None }
    }

    /// Adds the metered layer, recording into `metrics` (keep a clone to read them).
    #[must_use]
    pub fn with_metrics(mut self, metrics: Arc<KeyValueStoreMetrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Adds the caching layer with a budget of `max_bytes` (0: every write goes straight through,
    /// still reported to the flush listener), unless the backend retains duplicates.
    #[must_use]
    pub fn with_caching(mut self, max_bytes: usize) -> Self {
        self.cache_bytes = Some(max_bytes);
        self
    }

    /// Adds the change-logging layer, logging through `writer`.
    #[must_use]
    pub fn with_logging(mut self, writer: impl ChangelogWriter + 'static) -> Self {
        self.changelog = Some(Box::new(writer));
        self
    }

    /// The stacked store, closed: call [`init`](WindowStore::init) to open it.
    pub fn build(self) -> Box<dyn WindowStore> {
        let mut store = self.backend;
        if let Some(writer) = self.changelog {
            store = Box::new(ChangeLoggingWindowStore::with_boxed_writer(store, writer));
        }
        if let Some(max_bytes) = self.cache_bytes {
            if store.retain_duplicates() {
                tracing::warn!(store = %store.name(),
                    "Disabling caching since the store was configured to retain duplicates");
            } else {
                store = Box::new(CachingWindowStore::new(store, max_bytes));
            }
        }
        if let Some(metrics) = self.metrics {
            store = Box::new(MeteredWindowStore::with_metrics(store, metrics));
        }
        store
    }
}
