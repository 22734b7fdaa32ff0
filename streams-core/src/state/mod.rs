//! State stores in the runtime: how a topology declares them, how a task opens, restores,
//! flushes and checkpoints them, and the typed view processors use.
//!
//! A store is declared once in the topology ([`StoreBuilder`], [`Topology::add_state_store`]) and
//! opened per task under `<state.dir>/<application.id>/<task id>/`, persistent stores in
//! `rocksdb/<store>`. Unless logging is disabled, every write that reaches the store is also
//! written to its changelog topic `<application.id>-<store>-changelog` (compacted, one partition
//! per task partition). The checkpoint file `.checkpoint` in the task directory records the
//! changelog offset the local state reflects; it is written after each commit and on a clean
//! close. On start a task restores each store from its checkpoint (or, without a valid one, from
//! an emptied store and the changelog's start) to the changelog's end before it processes anything.
//!
//! [`Topology::add_state_store`]: crate::Topology::add_state_store

pub(crate) mod checkpoint;
pub(crate) mod global;
pub(crate) mod handle;
pub(crate) mod query;
pub(crate) mod registry;
pub(crate) mod restore;
pub(crate) mod task_stores;
pub(crate) mod timestamped;
pub(crate) mod window_handle;

use std::any::TypeId;
use std::sync::Arc;

pub use handle::KeyValueStore;
pub use query::{LagInfo, ReadOnlyKeyValueStore, StoreQueryParameters};
pub use restore::{LoggingRestoreListener, StateRestoreListener};
pub use timestamped::{
    NO_TIMESTAMP, TimestampedKeyValueStore, TimestampedWindowStore, ValueAndTimestamp,
};
pub use window_handle::{ReadOnlyWindowStore, WindowStore};

use crate::serde::{Serde, SharedSerde};

/// Where a key-value store keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backing {
    RocksDb,
    InMemory,
}

/// What a store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreKind {
    KeyValue,
    /// Values per key and time window, kept `retention_ms` of stream time past their start and
    /// segmented by time (Kafka's window store, without duplicates).
    Window {
        retention_ms: i64,
        size_ms: i64,
    },
}

/// Declares a key-value store for a topology (Kafka's `Stores.keyValueStoreBuilder`).
///
/// Caching is on by default (updates to one key between commits are merged, within
/// `statestore.cache.max.bytes`), and so is logging to the changelog topic.
pub struct StoreBuilder<K, V> {
    pub(crate) name: String,
    pub(crate) backing: Backing,
    pub(crate) kind: StoreKind,
    pub(crate) timestamped: bool,
    pub(crate) caching: bool,
    pub(crate) logging: bool,
    pub(crate) changelog_configs: Vec<(String, String)>,
    pub(crate) key_serde: Option<SharedSerde<K>>,
    pub(crate) value_serde: Option<SharedSerde<V>>,
}

impl<K, V> std::fmt::Debug for StoreBuilder<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreBuilder")
            .field("name", &self.name)
            .field("backing", &self.backing)
            .field("timestamped", &self.timestamped)
            .field("caching", &self.caching)
            .field("logging", &self.logging)
            .finish_non_exhaustive()
    }
}

impl<K: 'static, V: 'static> StoreBuilder<K, V> {
    /// A RocksDB key-value store called `name`.
    pub fn persistent_key_value(name: impl Into<String>) -> Self {
        Self::new(name.into(), Backing::RocksDb)
    }

    /// An in-memory key-value store called `name` (restored from its changelog on every start).
    pub fn in_memory_key_value(name: impl Into<String>) -> Self {
        Self::new(name.into(), Backing::InMemory)
    }

    /// A RocksDB window store called `name` (Kafka's `Stores.persistentWindowStore`): windows of
    /// `size` kept `retention` of stream time past their start, in time segments of
    /// `max(retention / 2, 60 s)` that expire whole. Its changelog is compacted and deleted after
    /// `retention` plus one day, as Kafka's.
    pub fn persistent_window(
        name: impl Into<String>,
        retention: std::time::Duration,
        size: std::time::Duration,
    ) -> Self {
        Self::new(name.into(), Backing::RocksDb).windowed(retention, size)
    }

    /// An in-memory window store (restored from its changelog on every start).
    pub fn in_memory_window(
        name: impl Into<String>,
        retention: std::time::Duration,
        size: std::time::Duration,
    ) -> Self {
        Self::new(name.into(), Backing::InMemory).windowed(retention, size)
    }

    fn windowed(mut self, retention: std::time::Duration, size: std::time::Duration) -> Self {
        let ms = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        self.kind = StoreKind::Window { retention_ms: ms(retention), size_ms: ms(size).max(1) };
        self
    }

    fn new(name: String, backing: Backing) -> Self {
        Self {
            name,
            backing,
            kind: StoreKind::KeyValue,
            timestamped: false,
            caching: true,
            logging: true,
            changelog_configs: Vec::new(),
            key_serde: None,
            value_serde: None,
        }
    }

    /// Keeps each value with the timestamp of the record that wrote it (Kafka's timestamped
    /// stores, `Stores.timestampedKeyValueStoreBuilder`): processors read and write
    /// [`ValueAndTimestamp`]s through
    /// [`ProcessorContext::timestamped_key_value_store`](crate::ProcessorContext::timestamped_key_value_store);
    /// a plain view ([`ProcessorContext::key_value_store`](crate::ProcessorContext::key_value_store),
    /// queries with [`KafkaStreams::store`](crate::KafkaStreams::store)) sees the values alone.
    /// The changelog holds the plain values with the timestamps as record timestamps, as Kafka's.
    /// The DSL's tables are timestamped.
    pub fn with_timestamps(mut self) -> Self {
        self.timestamped = true;
        self
    }

    /// Turns the record cache on or off for this store.
    pub fn with_caching(mut self, enabled: bool) -> Self {
        self.caching = enabled;
        self
    }

    /// Turns the changelog off: the store is then lost with its task directory.
    pub fn with_logging_disabled(mut self) -> Self {
        self.logging = false;
        self
    }

    /// Keeps the changelog on, with these extra topic configs.
    pub fn with_logging_enabled(mut self, configs: &[(&str, &str)]) -> Self {
        self.logging = true;
        self.changelog_configs =
            configs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self
    }

    /// Serializes keys with `serde` instead of the default for `K`.
    pub fn with_key_serde(mut self, serde: impl Serde<K>) -> Self {
        self.key_serde = Some(Arc::new(serde));
        self
    }

    /// Serializes values with `serde` instead of the default for `V`.
    pub fn with_value_serde(mut self, serde: impl Serde<V>) -> Self {
        self.value_serde = Some(Arc::new(serde));
        self
    }

    /// The store's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn into_spec(self) -> StoreSpec {
        StoreSpec {
            name: self.name,
            backing: self.backing,
            kind: self.kind,
            timestamped: self.timestamped,
            caching: self.caching,
            logging: self.logging,
            changelog_configs: self.changelog_configs,
            key_type: TypeId::of::<K>(),
            value_type: TypeId::of::<V>(),
            type_names: (std::any::type_name::<K>(), std::any::type_name::<V>()),
            global: false,
            key_serde: Arc::new(handle::KeySerde(self.key_serde.clone())),
            serdes: Arc::new(handle::TypedSerdes { key: self.key_serde, value: self.value_serde }),
        }
    }
}

/// A declared store, with its types erased.
#[derive(Clone)]
pub(crate) struct StoreSpec {
    pub(crate) name: String,
    pub(crate) backing: Backing,
    pub(crate) kind: StoreKind,
    /// Values are stored as `[timestamp, 8 bytes big-endian][value]` (see [`timestamped`]).
    pub(crate) timestamped: bool,
    pub(crate) caching: bool,
    pub(crate) logging: bool,
    pub(crate) changelog_configs: Vec<(String, String)>,
    pub(crate) key_type: TypeId,
    pub(crate) value_type: TypeId,
    pub(crate) type_names: (&'static str, &'static str),
    /// A global store (one copy per instance, filled from its source topic).
    pub(crate) global: bool,
    /// `handle::KeySerde<K>`.
    pub(crate) key_serde: Arc<dyn std::any::Any + Send + Sync>,
    /// `handle::TypedSerdes<K, V>`.
    pub(crate) serdes: Arc<dyn std::any::Any + Send + Sync>,
}

impl StoreSpec {
    /// The declared serdes of this store's key and value, if `K`, `V` are its types (a missing
    /// one is the registry's default for the type).
    fn declared_serdes<K: 'static, V: 'static>(
        &self,
        registry: &crate::serde::SerdeRegistry,
    ) -> Result<(SharedSerde<K>, SharedSerde<V>), String> {
        if self.key_type != TypeId::of::<K>() || self.value_type != TypeId::of::<V>() {
            return Err(format!(
                "store `{}` holds ({}, {}), not ({}, {})",
                self.name,
                self.type_names.0,
                self.type_names.1,
                std::any::type_name::<K>(),
                std::any::type_name::<V>()
            ));
        }
        self.serdes
            .downcast_ref::<handle::TypedSerdes<K, V>>()
            .and_then(|t| t.resolve(registry))
            .ok_or_else(|| {
                format!("store `{}` needs serdes for its key and value types", self.name)
            })
    }

    /// The serdes of a plain view of this store: values alone, whether or not the store keeps
    /// their timestamps.
    pub(crate) fn plain_serdes<K: 'static, V: 'static>(
        &self,
        registry: &crate::serde::SerdeRegistry,
    ) -> Result<(SharedSerde<K>, SharedSerde<V>), String> {
        let (k, v) = self.declared_serdes::<K, V>(registry)?;
        if self.timestamped {
            Ok((k, Arc::new(timestamped::PlainViewSerde(v))))
        } else {
            Ok((k, v))
        }
    }

    /// The serdes of a timestamped view of this store; an error if it keeps no timestamps.
    pub(crate) fn timestamped_serdes<K: 'static, V: 'static>(
        &self,
        registry: &crate::serde::SerdeRegistry,
    ) -> Result<(SharedSerde<K>, SharedSerde<ValueAndTimestamp<V>>), String> {
        if !self.timestamped {
            return Err(format!(
                "store `{}` keeps no timestamps (declare it with `StoreBuilder::with_timestamps`)",
                self.name
            ));
        }
        let (k, v) = self.declared_serdes::<K, V>(registry)?;
        Ok((k, Arc::new(timestamped::TimestampedSerde(v))))
    }

    /// The changelog topic's configs: compacted; windowed stores' also deleted after their
    /// retention plus a day (Kafka's `windowstore.changelog.additional.retention.ms`); then the
    /// store's own.
    pub(crate) fn changelog_topic_configs(&self) -> Vec<(String, String)> {
        let mut configs: Vec<(String, String)> = match self.kind {
            StoreKind::KeyValue => vec![("cleanup.policy".into(), "compact".into())],
            StoreKind::Window { retention_ms, .. } => vec![
                ("cleanup.policy".into(), "compact,delete".into()),
                ("retention.ms".into(), retention_ms.saturating_add(86_400_000).to_string()),
            ],
        };
        for (k, v) in &self.changelog_configs {
            configs.retain(|(ck, _)| ck != k);
            configs.push((k.clone(), v.clone()));
        }
        configs
    }

    /// The changelog topic of this store for `application_id`.
    pub(crate) fn changelog_topic(&self, application_id: &str) -> String {
        format!("{application_id}-{}-changelog", self.name)
    }
}
