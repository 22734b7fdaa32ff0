//! Operation counts and latencies of a metered store, readable while the store runs.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A store operation the metered layer measures (Kafka's `put`, `get`, `range`, ... sensors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreOperation {
    /// [`get`](crate::KeyValueStore::get).
    Get,
    /// [`put`](crate::KeyValueStore::put), deletes by `None` included.
    Put,
    /// [`put_if_absent`](crate::KeyValueStore::put_if_absent).
    PutIfAbsent,
    /// [`put_all`](crate::KeyValueStore::put_all) (one count per batch).
    PutAll,
    /// [`delete`](crate::KeyValueStore::delete).
    Delete,
    /// [`range`](crate::KeyValueStore::range) and [`reverse_range`](crate::KeyValueStore::reverse_range).
    Range,
    /// [`all`](crate::KeyValueStore::all) and [`reverse_all`](crate::KeyValueStore::reverse_all).
    All,
    /// [`prefix_scan`](crate::KeyValueStore::prefix_scan).
    PrefixScan,
    /// [`flush`](crate::KeyValueStore::flush).
    Flush,
    /// [`read_modify_write`](crate::KeyValueStore::read_modify_write): the read and the write of
    /// one aggregation step.
    ReadModifyWrite,
}

impl StoreOperation {
    /// Every operation, in declaration order.
    pub const ALL: [StoreOperation; 10] = [
        Self::Get,
        Self::Put,
        Self::PutIfAbsent,
        Self::PutAll,
        Self::Delete,
        Self::Range,
        Self::All,
        Self::PrefixScan,
        Self::Flush,
        Self::ReadModifyWrite,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// Kafka's metric name prefix for the operation (`put-if-absent`, `prefix-scan`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Put => "put",
            Self::PutIfAbsent => "put-if-absent",
            Self::PutAll => "put-all",
            Self::Delete => "delete",
            Self::Range => "range",
            Self::All => "all",
            Self::PrefixScan => "prefix-scan",
            Self::Flush => "flush",
            Self::ReadModifyWrite => "read-modify-write",
        }
    }
}

impl fmt::Display for StoreOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What has been measured for one operation so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OperationMetrics {
    /// Calls, failed ones included.
    pub count: u64,
    /// Calls that returned an error (for scans: the call, or any item of its iterator).
    pub errors: u64,
    /// Total time spent in the calls. For scans, from the call until the iterator is dropped, as
    /// Kafka measures from creation to close.
    pub total_latency: Duration,
    /// The longest single call.
    pub max_latency: Duration,
}

impl OperationMetrics {
    /// Mean latency per call; zero before the first call.
    pub fn mean_latency(&self) -> Duration {
        if self.count == 0 {
            Duration::ZERO
        } else {
            let nanos = self.total_latency.as_nanos() / u128::from(self.count);
            Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
        }
    }
}

#[derive(Default)]
struct Counter {
    count: AtomicU64,
    errors: AtomicU64,
    total_nanos: AtomicU64,
    max_nanos: AtomicU64,
}

/// Counters of one store's operations, shared between the
/// [`MeteredKeyValueStore`](crate::MeteredKeyValueStore) that records them and whoever reads them
/// (hold an `Arc` clone). Updates are relaxed atomics: cheap on the hot path, and a reader sees
/// each counter exactly but not necessarily all counters at the same instant.
///
/// ```
/// use std::sync::Arc;
/// use bytes::Bytes;
/// use state_stores::{InMemoryKeyValueStore, KeyValueStore, KeyValueStoreMetrics, MeteredKeyValueStore, StoreOperation};
///
/// let metrics = Arc::new(KeyValueStoreMetrics::new());
/// let mut store = MeteredKeyValueStore::with_metrics(InMemoryKeyValueStore::new("s"), metrics.clone());
/// store.init()?;
/// store.put(Bytes::from_static(b"k"), Some(Bytes::from_static(b"v")))?;
/// assert_eq!(metrics.operation(StoreOperation::Put).count, 1);
/// # Ok::<(), state_stores::StoreError>(())
/// ```
pub struct KeyValueStoreMetrics {
    counters: [Counter; StoreOperation::ALL.len()],
}

impl KeyValueStoreMetrics {
    /// Zeroed counters.
    pub fn new() -> Self {
        Self { counters: Default::default() }
    }

    /// What has been measured for `op` so far.
    pub fn operation(&self, op: StoreOperation) -> OperationMetrics {
        let counter = &self.counters[op.index()];
        OperationMetrics {
            count: counter.count.load(Ordering::Relaxed),
            errors: counter.errors.load(Ordering::Relaxed),
            total_latency: Duration::from_nanos(counter.total_nanos.load(Ordering::Relaxed)),
            max_latency: Duration::from_nanos(counter.max_nanos.load(Ordering::Relaxed)),
        }
    }

    pub(crate) fn record(&self, op: StoreOperation, latency: Duration, failed: bool) {
        let counter = &self.counters[op.index()];
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        counter.count.fetch_add(1, Ordering::Relaxed);
        if failed {
            counter.errors.fetch_add(1, Ordering::Relaxed);
        }
        counter.total_nanos.fetch_add(nanos, Ordering::Relaxed);
        counter.max_nanos.fetch_max(nanos, Ordering::Relaxed);
    }
}

impl Default for KeyValueStoreMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for KeyValueStoreMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for op in StoreOperation::ALL {
            map.entry(&op.name(), &self.operation(op));
        }
        map.finish()
    }
}
