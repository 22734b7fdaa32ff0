//! The RocksDB window backend: one RocksDB instance per time segment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::rocks::config::RocksDbConfig;
use crate::segments::millis;
use crate::segments::rocks::{RocksSegments, segment_interval};
use crate::window::core::{WindowCore, delegate_window_store};

/// A persistent window store segmented by time: Kafka's `RocksDBWindowStore` over a
/// `RocksDBSegmentedBytesStore`.
///
/// # On disk
///
/// ```text
/// <path>/<name>.<segment start ms>/   one RocksDB database per segment
/// ```
///
/// A segment covers `segment interval = max(retention / 2, 60 s)` of window starts (Kafka's
/// default), so about `retention / interval + 1` segments are live at once. When stream time
/// passes a segment's last live window start, the whole segment directory is deleted. Within a
/// segment, keys are `[key][window start, 8 bytes big-endian][sequence number, 4 bytes
/// big-endian]` (the sequence number is 0 unless the store retains duplicates), so the windows of
/// one key lie together, in start order. Every segment uses the application's shared
/// [`RocksDbConfig`]; writes skip the write-ahead log (the changelog is the source of truth) and
/// are durable after [`flush`](crate::WindowStore::flush). The store also saves its stream time
/// at each flush, so a reopened store expires exactly what it had expired before.
///
/// ```
/// use std::time::Duration;
/// use bytes::Bytes;
/// use state_stores::{RocksDbConfig, RocksDbWindowStore, WindowStore};
///
/// let dir = tempfile::tempdir()?;
/// let config = RocksDbConfig::default(); // once per application
/// let retention = Duration::from_secs(24 * 3600);
/// let mut store =
///     RocksDbWindowStore::new("counts", dir.path().join("counts"), &config, retention, Duration::from_secs(60), false);
/// assert_eq!(store.segment_interval_ms(), 12 * 3600 * 1000);
/// store.init()?;
/// store.put(Bytes::from_static(b"k"), Some(Bytes::from_static(b"1")), 60_000)?;
/// store.close()?;
///
/// store.init()?;
/// assert_eq!(store.fetch(b"k", 60_000)?, Some(Bytes::from_static(b"1")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RocksDbWindowStore {
    core: WindowCore<RocksSegments>,
}

impl RocksDbWindowStore {
    /// A closed store whose segments live under `path` (created on
    /// [`init`](crate::WindowStore::init) if missing), using the application's shared `config`;
    /// `retention`, `window_size` and `retain_duplicates` as for
    /// [`InMemoryWindowStore::new`](crate::InMemoryWindowStore::new).
    pub fn new(
        name: impl Into<String>,
        path: impl Into<PathBuf>,
        config: &RocksDbConfig,
        retention: Duration,
        window_size: Duration,
        retain_duplicates: bool,
    ) -> Self {
        let name = name.into();
        let segments =
            RocksSegments::new(&name, path.into(), config, segment_interval(millis(retention)));
        Self { core: WindowCore::new(name, segments, retention, window_size, retain_duplicates) }
    }

    /// The store's directory (segments are directories inside it).
    pub fn path(&self) -> &Path {
        self.core.backend().dir()
    }

    /// The time span of window starts each segment covers: `max(retention / 2, 60 000)` ms.
    pub fn segment_interval_ms(&self) -> i64 {
        self.core.backend().interval()
    }
}

impl std::fmt::Debug for RocksDbWindowStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksDbWindowStore")
            .field("name", &self.core.name())
            .field("path", &self.path())
            .field("open", &self.core.is_open())
            .field("retention_period_ms", &self.core.retention_period_ms())
            .field("segment_interval_ms", &self.segment_interval_ms())
            .field("window_size_ms", &self.core.window_size_ms())
            .field("retain_duplicates", &self.core.retain_duplicates())
            .finish()
    }
}

delegate_window_store!(RocksDbWindowStore);
