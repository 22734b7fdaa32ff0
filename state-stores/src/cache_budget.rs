//! A byte budget shared by several record caches (Kafka Streams' per-thread `ThreadCache` size).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The bytes all the record caches of one stream thread may hold together
/// (`statestore.cache.max.bytes` divided by the number of threads, as in Kafka).
///
/// Caches charge their entries to the budget as they change. When a write takes the total over
/// the limit, the cache being written evicts its least recently used entries (writing dirty ones
/// down) until the total is within the limit again or it is empty, as Kafka's thread cache evicts
/// from the namespace being written. A budget of 0 makes every write go straight through.
///
/// ```
/// use state_stores::{CacheBudget, CachingKeyValueStore, InMemoryKeyValueStore, KeyValueStore};
///
/// let budget = CacheBudget::new(1 << 20);
/// let mut a = CachingKeyValueStore::with_budget(InMemoryKeyValueStore::new("a"), budget.clone());
/// let mut b = CachingKeyValueStore::with_budget(InMemoryKeyValueStore::new("b"), budget.clone());
/// a.init()?;
/// b.init()?;
/// a.put("k".into(), Some("v".into()))?;
/// b.put("k".into(), Some("w".into()))?;
/// assert_eq!(budget.used_bytes(), a.cached_bytes() + b.cached_bytes());
/// # Ok::<(), state_stores::StoreError>(())
/// ```
#[derive(Debug, Clone)]
pub struct CacheBudget {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    max: usize,
    used: AtomicUsize,
}

impl CacheBudget {
    /// A budget of `max_bytes` shared by every cache given a clone of it.
    pub fn new(max_bytes: usize) -> Self {
        Self { inner: Arc::new(Inner { max: max_bytes, used: AtomicUsize::new(0) }) }
    }

    /// The limit.
    pub fn max_bytes(&self) -> usize {
        self.inner.max
    }

    /// What the caches hold now, together.
    pub fn used_bytes(&self) -> usize {
        self.inner.used.load(Ordering::Relaxed)
    }

    pub(crate) fn over(&self) -> bool {
        self.used_bytes() > self.inner.max
    }

    /// Moves the charge of one cache from `from` to `to` bytes.
    pub(crate) fn recharge(&self, from: usize, to: usize) {
        if to >= from {
            self.inner.used.fetch_add(to - from, Ordering::Relaxed);
        } else {
            self.inner.used.fetch_sub(from - to, Ordering::Relaxed);
        }
    }
}
