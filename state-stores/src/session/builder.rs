//! Stacks the session layers over a backend in Kafka Streams' order.

use std::sync::Arc;

use crate::changelog::ChangelogWriter;
use crate::metrics::KeyValueStoreMetrics;
use crate::session::SessionStore;
use crate::session::caching::CachingSessionStore;
use crate::session::logging::ChangeLoggingSessionStore;
use crate::session::metered::MeteredSessionStore;

/// Builds a session store from a backend and the layers asked for, always stacked as Kafka
/// Streams' `SessionStoreBuilder` does: metered → caching → change-logging → backend. Each layer
/// is optional; with none, `build` returns the backend alone.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use bytes::Bytes;
/// use state_stores::{InMemorySessionStore, SessionKey, SessionStore, SessionStoreBuilder};
///
/// let logged = Arc::new(Mutex::new(Vec::new()));
/// let sink = logged.clone();
/// let mut store = SessionStoreBuilder::new(InMemorySessionStore::new("visits", Duration::from_secs(600)))
///     .with_caching(1024 * 1024)
///     .with_logging(move |k: &Bytes, v: Option<&Bytes>| sink.lock().unwrap().push((k.clone(), v.cloned())))
///     .build();
/// store.init()?;
/// let session = SessionKey::new(Bytes::from_static(b"alice"), 0, 10);
/// store.put(session.clone(), Some(Bytes::from_static(b"1")))?;
/// store.put(session.clone(), Some(Bytes::from_static(b"2")))?;
/// store.flush()?;
/// assert_eq!(*logged.lock().unwrap(), vec![(session.to_changelog_key(), Some(Bytes::from_static(b"2")))]);
/// # Ok::<(), state_stores::StoreError>(())
/// ```
pub struct SessionStoreBuilder {
    backend: Box<dyn SessionStore>,
    metrics: Option<Arc<KeyValueStoreMetrics>>,
    cache_bytes: Option<usize>,
    changelog: Option<Box<dyn ChangelogWriter>>,
}

impl SessionStoreBuilder {
    /// A builder over `backend` with no layers yet.
    pub fn new(backend: impl SessionStore + 'static) -> Self {
        Self::from_boxed(Box::new(backend))
    }

    /// As [`new`](Self::new), with a backend already boxed.
    pub fn from_boxed(backend: Box<dyn SessionStore>) -> Self {
        Self { backend, metrics: None, cache_bytes: None, changelog: None }
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
        self.cache_bytes = Some(max_bytes);
        self
    }

    /// Adds the change-logging layer, logging through `writer`.
    #[must_use]
    pub fn with_logging(mut self, writer: impl ChangelogWriter + 'static) -> Self {
        self.changelog = Some(Box::new(writer));
        self
    }

    /// The stacked store, closed: call [`init`](SessionStore::init) to open it.
    pub fn build(self) -> Box<dyn SessionStore> {
        let mut store = self.backend;
        if let Some(writer) = self.changelog {
            store = Box::new(ChangeLoggingSessionStore::with_boxed_writer(store, writer));
        }
        if let Some(max_bytes) = self.cache_bytes {
            store = Box::new(CachingSessionStore::new(store, max_bytes));
        }
        if let Some(metrics) = self.metrics {
            store = Box::new(MeteredSessionStore::with_metrics(store, metrics));
        }
        store
    }
}
