//! `Materialized` and `Grouped`: how an aggregation's store and its repartition are configured.

use std::sync::Arc;

use streams_core::{Serde, SharedSerde, StoreBuilder};

/// How a table's state store is made (Kafka's `Materialized`): its name (also what interactive
/// queries use), serdes, RocksDB or memory, caching and logging.
pub struct Materialized<K, V> {
    pub(crate) name: Option<String>,
    pub(crate) key_serde: Option<SharedSerde<K>>,
    pub(crate) value_serde: Option<SharedSerde<V>>,
    pub(crate) in_memory: bool,
    pub(crate) caching: bool,
    pub(crate) logging: bool,
    pub(crate) changelog_configs: Vec<(String, String)>,
    /// For windowed stores: how long windows are kept (default: window size + grace).
    pub(crate) retention: Option<std::time::Duration>,
}

impl<K, V> Default for Materialized<K, V> {
    fn default() -> Self {
        Self {
            name: None,
            key_serde: None,
            value_serde: None,
            in_memory: false,
            caching: true,
            logging: true,
            changelog_configs: Vec::new(),
            retention: None,
        }
    }
}

impl<K, V> std::fmt::Debug for Materialized<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Materialized")
            .field("name", &self.name)
            .field("in_memory", &self.in_memory)
            .field("caching", &self.caching)
            .field("logging", &self.logging)
            .finish_non_exhaustive()
    }
}

impl<K: 'static, V: 'static> Materialized<K, V> {
    /// A store called `name`.
    pub fn as_(name: impl Into<String>) -> Self {
        Self { name: Some(name.into()), ..Self::default() }
    }

    /// With these serdes.
    pub fn with(key_serde: impl Serde<K>, value_serde: impl Serde<V>) -> Self {
        Self::default().with_key_serde(key_serde).with_value_serde(value_serde)
    }

    /// Keys serialized with `serde`.
    pub fn with_key_serde(mut self, serde: impl Serde<K>) -> Self {
        self.key_serde = Some(Arc::new(serde));
        self
    }

    /// Values serialized with `serde`.
    pub fn with_value_serde(mut self, serde: impl Serde<V>) -> Self {
        self.value_serde = Some(Arc::new(serde));
        self
    }

    /// Keeps the store in memory (restored from its changelog on every start) instead of RocksDB.
    pub fn in_memory(mut self) -> Self {
        self.in_memory = true;
        self
    }

    /// Turns the record cache off: every update is forwarded downstream.
    pub fn with_caching_disabled(mut self) -> Self {
        self.caching = false;
        self
    }

    /// Turns the record cache on (the default).
    pub fn with_caching_enabled(mut self) -> Self {
        self.caching = true;
        self
    }

    /// Turns the changelog off.
    pub fn with_logging_disabled(mut self) -> Self {
        self.logging = false;
        self
    }

    /// Keeps the changelog, with extra topic configs.
    pub fn with_logging_enabled(mut self, configs: &[(&str, &str)]) -> Self {
        self.logging = true;
        self.changelog_configs =
            configs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self
    }

    /// The store builder for a store called `name`.
    /// For a windowed aggregation: keeps windows `retention` of stream time past their start
    /// (Kafka's `withRetention`); it must be at least the window size plus the grace period.
    pub fn with_retention(mut self, retention: std::time::Duration) -> Self {
        self.retention = Some(retention);
        self
    }

    pub(crate) fn store(&self, name: &str) -> StoreBuilder<K, V> {
        let b = if self.in_memory {
            StoreBuilder::in_memory_key_value(name)
        } else {
            StoreBuilder::persistent_key_value(name)
        };
        self.configure(b.with_timestamps())
    }

    /// A window store of windows of `size`, kept `retention`.
    pub(crate) fn window_store(
        &self,
        name: &str,
        retention: std::time::Duration,
        size: std::time::Duration,
    ) -> StoreBuilder<K, V> {
        let b = if self.in_memory {
            StoreBuilder::in_memory_window(name, retention, size)
        } else {
            StoreBuilder::persistent_window(name, retention, size)
        };
        self.configure(b.with_timestamps())
    }

    fn configure(&self, mut b: StoreBuilder<K, V>) -> StoreBuilder<K, V> {
        b = b.with_caching(self.caching);
        if self.logging {
            let configs: Vec<(&str, &str)> =
                self.changelog_configs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            b = b.with_logging_enabled(&configs);
        } else {
            b = b.with_logging_disabled();
        }
        if let Some(k) = &self.key_serde {
            b = b.with_key_serde(k.clone());
        }
        if let Some(v) = &self.value_serde {
            b = b.with_value_serde(v.clone());
        }
        b
    }
}

/// How a grouping repartitions (Kafka's `Grouped`): the repartition topic's name and serdes.
pub struct Grouped<K, V> {
    pub(crate) name: Option<String>,
    pub(crate) key_serde: Option<SharedSerde<K>>,
    pub(crate) value_serde: Option<SharedSerde<V>>,
}

impl<K, V> Default for Grouped<K, V> {
    fn default() -> Self {
        Self { name: None, key_serde: None, value_serde: None }
    }
}

impl<K, V> Clone for Grouped<K, V> {
    fn clone(&self) -> Self {
        Self {
            name: self.name.clone(),
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
        }
    }
}

impl<K, V> std::fmt::Debug for Grouped<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grouped").field("name", &self.name).finish_non_exhaustive()
    }
}

impl<K: 'static, V: 'static> Grouped<K, V> {
    /// The repartition topic is `<application.id>-<name>-repartition`.
    pub fn as_(name: impl Into<String>) -> Self {
        Self { name: Some(name.into()), ..Self::default() }
    }

    /// With these serdes for the repartition topic.
    pub fn with(key_serde: impl Serde<K>, value_serde: impl Serde<V>) -> Self {
        Self {
            name: None,
            key_serde: Some(Arc::new(key_serde)),
            value_serde: Some(Arc::new(value_serde)),
        }
    }
}
