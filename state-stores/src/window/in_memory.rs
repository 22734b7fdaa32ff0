//! The in-memory window backend.

use std::time::Duration;

use crate::segments::memory::MemorySegments;
use crate::window::core::{WindowCore, delegate_window_store};

/// A window store held in memory: Kafka's `InMemoryWindowStore`.
///
/// Records live in one ordered map keyed by `[key][window start][seq]` (the RocksDB layout, so
/// both backends scan in the same order), with an index by window start so that expired records
/// are dropped one by one as stream time advances. Not persistent:
/// [`close`](crate::WindowStore::close) drops the data, and the runtime restores the store from
/// its changelog when it is opened again.
///
/// ```
/// use std::time::Duration;
/// use bytes::Bytes;
/// use state_stores::{InMemoryWindowStore, WindowStore};
///
/// let mut store = InMemoryWindowStore::new(
///     "clicks-per-minute",
///     Duration::from_secs(3600), // retention
///     Duration::from_secs(60),   // window size
///     false,                     // one value per key and window
/// );
/// store.init()?;
/// store.put(Bytes::from_static(b"alice"), Some(Bytes::from_static(b"3")), 60_000)?;
/// assert_eq!(store.fetch(b"alice", 60_000)?, Some(Bytes::from_static(b"3")));
/// # Ok::<(), state_stores::StoreError>(())
/// ```
pub struct InMemoryWindowStore {
    core: WindowCore<MemorySegments>,
}

impl InMemoryWindowStore {
    /// A closed, empty store keeping records for `retention` of stream time past their window
    /// start; `window_size` is the size of its windows; with `retain_duplicates` every put adds
    /// a record (stream-stream joins). [`init`](crate::WindowStore::init) opens it.
    pub fn new(
        name: impl Into<String>,
        retention: Duration,
        window_size: Duration,
        retain_duplicates: bool,
    ) -> Self {
        Self {
            core: WindowCore::new(
                name.into(),
                MemorySegments::new(),
                retention,
                window_size,
                retain_duplicates,
            ),
        }
    }
}

impl std::fmt::Debug for InMemoryWindowStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryWindowStore")
            .field("name", &self.core.name())
            .field("open", &self.core.is_open())
            .field("retention_period_ms", &self.core.retention_period_ms())
            .field("window_size_ms", &self.core.window_size_ms())
            .field("retain_duplicates", &self.core.retain_duplicates())
            .finish()
    }
}

delegate_window_store!(InMemoryWindowStore);
