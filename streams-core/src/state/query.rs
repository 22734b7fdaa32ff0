//! Interactive queries: reading a running application's stores from outside its stream threads
//! (Kafka's `KafkaStreams.store(StoreQueryParameters)`).

use std::marker::PhantomData;
use std::sync::Arc;

use bytes::Bytes;

use crate::app::AppShared;
use crate::error::StreamsError;
use crate::serde::SharedSerde;
use crate::state::registry::{LocalStore, StoreRegistry};

/// Which store to query, and which copies may answer (Kafka's `StoreQueryParameters`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreQueryParameters {
    pub(crate) name: String,
    pub(crate) stale: bool,
    pub(crate) partition: Option<i32>,
}

impl StoreQueryParameters {
    /// Queries store `name` on this instance's active tasks.
    pub fn from_name(name: impl Into<String>) -> Self {
        Self { name: name.into(), stale: false, partition: None }
    }

    /// Lets standby copies answer too (they may lag behind the active one).
    pub fn enable_stale_stores(mut self) -> Self {
        self.stale = true;
        self
    }

    /// Asks only the task of this partition.
    pub fn with_partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }
}

/// How far a local copy of a store is behind its changelog (Kafka's `LagInfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LagInfo {
    /// The next changelog offset the local copy reflects.
    pub current_offset_position: i64,
    /// The changelog's end offset.
    pub end_offset_position: i64,
    /// `end - current` (0 for a running active task: it writes the changelog itself).
    pub offset_lag: i64,
}

/// A read-only view of one store across this instance's tasks (Kafka's
/// `ReadOnlyKeyValueStore`, as `KafkaStreams.store` returns it).
///
/// The view stays valid across rebalances: each call looks up the tasks hosting the store at
/// that moment. A call fails with [`StreamsError::InvalidStateStore`] when the application is not
/// running or rebalancing, or when no local task hosts the store (it is migrating, restoring, or
/// lives on another instance: see
/// [`KafkaStreams::query_metadata_for_key`](crate::KafkaStreams::query_metadata_for_key)).
///
/// Each read takes the task's store lock, so it sees the store as its stream thread left it
/// between two operations, including updates still in the record cache. `range` and `all` read
/// one task's store after another and concatenate the results (each task's part in key order,
/// as Kafka's composite store does), so they hold no lock while the caller uses the result.
pub struct ReadOnlyKeyValueStore<K, V> {
    pub(crate) params: StoreQueryParameters,
    pub(crate) registry: Arc<StoreRegistry>,
    pub(crate) app: Arc<AppShared>,
    pub(crate) key_serde: SharedSerde<K>,
    pub(crate) value_serde: SharedSerde<V>,
    pub(crate) _types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> std::fmt::Debug for ReadOnlyKeyValueStore<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadOnlyKeyValueStore").field("params", &self.params).finish()
    }
}

fn invalid(message: String) -> StreamsError {
    StreamsError::InvalidStateStore(message)
}

impl<K: 'static, V: 'static> ReadOnlyKeyValueStore<K, V> {
    /// The copies that may answer now.
    fn stores(&self) -> Result<Vec<Arc<LocalStore>>, StreamsError> {
        let state = self.app.state();
        if !state.is_running_or_rebalancing() {
            return Err(invalid(format!(
                "the application is {state:?}; stores can be queried while it is running or rebalancing"
            )));
        }
        let found: Vec<Arc<LocalStore>> = self
            .registry
            .find(&self.params.name)
            .into_iter()
            .filter(|s| self.params.stale || !s.standby)
            .filter(|s| {
                s.spec.global || self.params.partition.is_none_or(|p| s.task.partition == p)
            })
            .collect();
        // With stale stores allowed, a task hosted both ways answers from its active copy.
        let mut deduped: Vec<Arc<LocalStore>> = Vec::with_capacity(found.len());
        for s in found {
            if !deduped.iter().any(|d| d.task == s.task) {
                deduped.push(s);
            }
        }
        if deduped.is_empty() {
            return Err(invalid(format!(
                "store `{}` is not available on this instance now{}; it may be migrating or \
                 restoring, or be hosted by another instance",
                self.params.name,
                self.params.partition.map(|p| format!(" for partition {p}")).unwrap_or_default()
            )));
        }
        Ok(deduped)
    }

    fn key_bytes(&self, key: &K) -> Result<Bytes, StreamsError> {
        self.key_serde
            .serialize(&self.params.name, key)
            .map_err(|e| invalid(format!("store `{}`: {e}", self.params.name)))?
            .ok_or_else(|| {
                invalid(format!("store `{}`: the key serializes to null", self.params.name))
            })
    }

    fn decode(&self, k: &Bytes, v: &Bytes) -> Result<(K, V), StreamsError> {
        let name = &self.params.name;
        let key = self.key_serde.deserialize(name, Some(k)).map_err(|e| invalid(e.to_string()))?;
        let value =
            self.value_serde.deserialize(name, Some(v)).map_err(|e| invalid(e.to_string()))?;
        Ok((key, value))
    }

    /// The value of `key`, from whichever local task holds it.
    pub fn get(&self, key: &K) -> Result<Option<V>, StreamsError> {
        let k = self.key_bytes(key)?;
        for s in self.stores()? {
            let found = {
                let guard = s.store.lock();
                let store = guard.borrow();
                store.get(&k).map_err(|e| invalid(format!("store `{}`: {e}", self.params.name)))?
            };
            if let Some(v) = found {
                return Ok(Some(self.decode(&k, &v)?.1));
            }
        }
        Ok(None)
    }

    /// The entries with `from <= key <= to` (by serialized key; `None` leaves an end open).
    pub fn range(&self, from: Option<&K>, to: Option<&K>) -> Result<Vec<(K, V)>, StreamsError> {
        let from = from.map(|k| self.key_bytes(k)).transpose()?;
        let to = to.map(|k| self.key_bytes(k)).transpose()?;
        let mut out = Vec::new();
        for s in self.stores()? {
            let entries: Vec<(Bytes, Bytes)> = {
                let guard = s.store.lock();
                let store = guard.borrow();
                store
                    .range(from.as_deref(), to.as_deref())
                    .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| invalid(format!("store `{}`: {e}", self.params.name)))?
            };
            for (k, v) in &entries {
                out.push(self.decode(k, v)?);
            }
        }
        Ok(out)
    }

    /// Every entry.
    pub fn all(&self) -> Result<Vec<(K, V)>, StreamsError> {
        self.range(None, None)
    }

    /// An estimate of the number of entries over the local tasks (exact for in-memory stores).
    pub fn approximate_num_entries(&self) -> Result<u64, StreamsError> {
        let mut total = 0u64;
        for s in self.stores()? {
            let guard = s.store.lock();
            let n = guard
                .borrow()
                .approximate_num_entries()
                .map_err(|e| invalid(format!("store `{}`: {e}", self.params.name)))?;
            total = total.saturating_add(n);
        }
        Ok(total)
    }
}
