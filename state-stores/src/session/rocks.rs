//! The RocksDB session backend: one RocksDB instance per time segment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::rocks::config::RocksDbConfig;
use crate::segments::millis;
use crate::segments::rocks::{RocksSegments, segment_interval};
use crate::session::core::{SessionCore, delegate_session_store};

/// A persistent session store segmented by time: Kafka's `RocksDBSessionStore` over a
/// `RocksDBSegmentedBytesStore`.
///
/// # On disk
///
/// ```text
/// <path>/<name>.<segment start ms>/   one RocksDB database per segment
/// ```
///
/// Sessions are filed by their end time in segments of `max(retention / 2, 60 s)` (Kafka's
/// default interval); when stream time passes a segment's last live end, the whole segment
/// directory is deleted. Within a segment, keys are `[key][end, 8 bytes big-endian][start, 8
/// bytes big-endian]`, so the sessions of one key lie together in end order. Every segment uses
/// the application's shared [`RocksDbConfig`]; writes skip the write-ahead log and are durable
/// after [`flush`](crate::SessionStore::flush), which also saves the stream time.
///
/// ```
/// use std::time::Duration;
/// use bytes::Bytes;
/// use state_stores::{RocksDbConfig, RocksDbSessionStore, SessionKey, SessionStore};
///
/// let dir = tempfile::tempdir()?;
/// let config = RocksDbConfig::default(); // once per application
/// let mut store = RocksDbSessionStore::new("visits", dir.path().join("visits"), &config, Duration::from_secs(3600));
/// store.init()?;
/// store.put(SessionKey::new(Bytes::from_static(b"k"), 0, 10), Some(Bytes::from_static(b"1")))?;
/// store.close()?;
///
/// store.init()?;
/// assert_eq!(store.fetch_session(b"k", 0, 10)?, Some(Bytes::from_static(b"1")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RocksDbSessionStore {
    core: SessionCore<RocksSegments>,
}

impl RocksDbSessionStore {
    /// A closed store whose segments live under `path` (created on
    /// [`init`](crate::SessionStore::init) if missing), using the application's shared `config`
    /// and keeping sessions for `retention` of stream time past their end.
    pub fn new(
        name: impl Into<String>,
        path: impl Into<PathBuf>,
        config: &RocksDbConfig,
        retention: Duration,
    ) -> Self {
        let name = name.into();
        let segments =
            RocksSegments::new(&name, path.into(), config, segment_interval(millis(retention)));
        Self { core: SessionCore::new(name, segments, retention) }
    }

    /// The store's directory (segments are directories inside it).
    pub fn path(&self) -> &Path {
        self.core.backend().dir()
    }

    /// The time span of session ends each segment covers: `max(retention / 2, 60 000)` ms.
    pub fn segment_interval_ms(&self) -> i64 {
        self.core.backend().interval()
    }
}

impl std::fmt::Debug for RocksDbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksDbSessionStore")
            .field("name", &self.core.name())
            .field("path", &self.path())
            .field("open", &self.core.is_open())
            .field("retention_period_ms", &self.core.retention_period_ms())
            .field("segment_interval_ms", &self.segment_interval_ms())
            .finish()
    }
}

delegate_session_store!(RocksDbSessionStore);
