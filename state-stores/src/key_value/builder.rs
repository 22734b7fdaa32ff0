//! Stacks the layers over a backend in Kafka Streams' order.

use std::sync::Arc;

use crate::changelog::ChangelogWriter;
use crate::key_value::KeyValueStore;
use crate::key_value::caching::CachingKeyValueStore;
use crate::key_value::logging::ChangeLoggingKeyValueStore;
use crate::key_value::metered::MeteredKeyValueStore;
use crate::metrics::KeyValueStoreMetrics;

/// The caching layer's budget: its own, or one shared with other caches.
enum CacheSize {
    Own(usize),
    Shared(crate::CacheBudget),
}

/// Builds a store from a backend and the layers asked for, always stacked as Kafka Streams'
/// `KeyValueStoreBuilder` does: metered → caching → change-logging → backend. Each layer is
/// optional; with none, `build` returns the backend alone.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use bytes::Bytes;
/// use state_stores::{InMemoryKeyValueStore, KeyValueStore, KeyValueStoreBuilder, KeyValueStoreMetrics};
///
/// let logged = Arc::new(Mutex::new(Vec::new()));
/// let sink = logged.clone();
/// let mut store = KeyValueStoreBuilder::new(InMemoryKeyValueStore::new("counts"))
///     .with_metrics(Arc::new(KeyValueStoreMetrics::new()))
///     .with_caching(1024 * 1024)
///     .with_logging(move |k: &Bytes, v: Option<&Bytes>| sink.lock().unwrap().push((k.clone(), v.cloned())))
///     .build();
/// store.init()?;
/// store.put(Bytes::from_static(b"a"), Some(Bytes::from_static(b"1")))?;
/// store.put(Bytes::from_static(b"a"), Some(Bytes::from_static(b"2")))?;
/// assert!(logged.lock().unwrap().is_empty()); // still in the cache
/// store.flush()?;
/// assert_eq!(*logged.lock().unwrap(), vec![(Bytes::from_static(b"a"), Some(Bytes::from_static(b"2")))]);
/// # Ok::<(), state_stores::StoreError>(())
/// ```
pub struct KeyValueStoreBuilder {
    backend: Box<dyn KeyValueStore>,
    metrics: Option<Arc<KeyValueStoreMetrics>>,
    cache: Option<CacheSize>,
    changelog: Option<Box<dyn ChangelogWriter>>,
}

impl KeyValueStoreBuilder {
    /// A builder over `backend` with no layers yet.
    pub fn new(backend: impl KeyValueStore + 'static) -> Self {
        Self::from_boxed(Box::new(backend))
    }

    /// As [`new`](Self::new), with a backend already boxed.
    pub fn from_boxed(backend: Box<dyn KeyValueStore>) -> Self {
        Self { backend, metrics: None, cache: None, changelog: None }
    }

    /// Adds the metered layer, recording into `metrics` (keep a clone to read them).
    #[must_use]
    pub fn with_metrics(mut self, metrics: Arc<KeyValueStoreMetrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Adds the caching layer with a budget of `max_bytes` (0: every write goes straight through,
    /// still reported to the flush listener).
    #[must_use]
    pub fn with_caching(mut self, max_bytes: usize) -> Self {
        self.cache = Some(CacheSize::Own(max_bytes));
        self
    }

    /// Adds the caching layer, within a budget it shares with other caches (a stream thread's).
    #[must_use]
    pub fn with_cache_budget(mut self, budget: crate::CacheBudget) -> Self {
        self.cache = Some(CacheSize::Shared(budget));
        self
    }

    /// Adds the change-logging layer, logging through `writer`.
    #[must_use]
    pub fn with_logging(mut self, writer: impl ChangelogWriter + 'static) -> Self {
        self.changelog = Some(Box::new(writer));
        self
    }

    /// The stacked store, closed: call [`init`](KeyValueStore::init) to open it.
    pub fn build(self) -> Box<dyn KeyValueStore> {
        let mut store = self.backend;
        if let Some(writer) = self.changelog {
            store = Box::new(ChangeLoggingKeyValueStore::with_boxed_writer(store, writer));
        }
        match self.cache {
            Some(CacheSize::Own(max_bytes)) => {
                store = Box::new(CachingKeyValueStore::new(store, max_bytes));
            }
            Some(CacheSize::Shared(budget)) => {
                store = Box::new(CachingKeyValueStore::with_budget(store, budget));
            }
            None => {}
        }
        if let Some(metrics) = self.metrics {
            store = Box::new(MeteredKeyValueStore::with_metrics(store, metrics));
        }
        store
    }
}
