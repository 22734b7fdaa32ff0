//! The builders that configure DSL operations: `Consumed`, `Produced`, `Repartitioned`, `Named`,
//! `Printed`, `Branched`.

use std::sync::Arc;

use streams_core::{Serde, SharedSerde, Sink, Source, TimestampExtractor};

/// A configured source and the serdes a stream built on it carries on.
pub(crate) type SourceAndSerdes<K, V> =
    (Source<K, V>, Option<SharedSerde<K>>, Option<SharedSerde<V>>);

/// How a source reads its topics: serdes, name, timestamp extractor (Kafka's `Consumed`).
pub struct Consumed<K, V> {
    pub(crate) key_serde: Option<SharedSerde<K>>,
    pub(crate) value_serde: Option<SharedSerde<V>>,
    pub(crate) name: Option<String>,
    pub(crate) extractor: Option<Arc<dyn TimestampExtractor>>,
}

impl<K, V> Default for Consumed<K, V> {
    fn default() -> Self {
        Self { key_serde: None, value_serde: None, name: None, extractor: None }
    }
}

impl<K, V> std::fmt::Debug for Consumed<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumed").field("name", &self.name).finish_non_exhaustive()
    }
}

impl<K: Clone + 'static, V: Clone + 'static> Consumed<K, V> {
    /// With these serdes.
    pub fn with(key_serde: impl Serde<K>, value_serde: impl Serde<V>) -> Self {
        Self {
            key_serde: Some(Arc::new(key_serde)),
            value_serde: Some(Arc::new(value_serde)),
            ..Self::default()
        }
    }

    /// Named `name` (the source node's name).
    pub fn as_(name: impl Into<String>) -> Self {
        Self { name: Some(name.into()), ..Self::default() }
    }

    /// Also named `name`.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// With this timestamp extractor.
    pub fn with_timestamp_extractor(mut self, extractor: impl TimestampExtractor) -> Self {
        self.extractor = Some(Arc::new(extractor));
        self
    }

    /// The source with these settings, and the serdes the stream carries on.
    pub(crate) fn apply(self, mut source: Source<K, V>) -> SourceAndSerdes<K, V> {
        if let Some(k) = &self.key_serde {
            source = source.key_serde(k.clone());
        }
        if let Some(v) = &self.value_serde {
            source = source.value_serde(v.clone());
        }
        if let Some(e) = self.extractor {
            source = source.timestamp_extractor(ArcExtractor(e));
        }
        (source, self.key_serde, self.value_serde)
    }
}

struct ArcExtractor(Arc<dyn TimestampExtractor>);

impl TimestampExtractor for ArcExtractor {
    fn extract(
        &self,
        record: &streams_core::RawRecord,
        partition_time: i64,
    ) -> streams_core::Extracted {
        self.0.extract(record, partition_time)
    }
    fn extract_all(
        &self,
        records: &mut streams_core::RawRecords,
        from: usize,
        partition_time: i64,
        out: &mut Vec<i64>,
    ) -> Option<(usize, streams_core::Extracted)> {
        self.0.extract_all(records, from, partition_time, out)
    }
}

/// The partitioner of a `Produced` or `Repartitioned`.
pub(crate) type PartitionerFn<K, V> = Arc<dyn Fn(&str, &K, &V, i32) -> Option<i32> + Send + Sync>;

/// How a sink writes: serdes, name, partitioner (Kafka's `Produced`).
pub struct Produced<K, V> {
    pub(crate) key_serde: Option<SharedSerde<K>>,
    pub(crate) value_serde: Option<SharedSerde<V>>,
    pub(crate) name: Option<String>,
    pub(crate) partitioner: Option<PartitionerFn<K, V>>,
}

impl<K, V> Default for Produced<K, V> {
    fn default() -> Self {
        Self { key_serde: None, value_serde: None, name: None, partitioner: None }
    }
}

impl<K, V> std::fmt::Debug for Produced<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Produced").field("name", &self.name).finish_non_exhaustive()
    }
}

impl<K: 'static, V: 'static> Produced<K, V> {
    /// With these serdes.
    pub fn with(key_serde: impl Serde<K>, value_serde: impl Serde<V>) -> Self {
        Self {
            key_serde: Some(Arc::new(key_serde)),
            value_serde: Some(Arc::new(value_serde)),
            ..Self::default()
        }
    }

    /// Named `name` (the sink node's name).
    pub fn as_(name: impl Into<String>) -> Self {
        Self { name: Some(name.into()), ..Self::default() }
    }

    /// Also named `name`.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Chooses partitions with `partitioner(topic, key, value, partition_count)`; `None` leaves
    /// the record to the default partitioner (murmur2 of the serialized key).
    pub fn with_partitioner(
        mut self,
        partitioner: impl Fn(&str, &K, &V, i32) -> Option<i32> + Send + Sync + 'static,
    ) -> Self {
        self.partitioner = Some(Arc::new(partitioner));
        self
    }

    /// `sink` with these settings; missing serdes fall back to `carried`, then to the defaults.
    pub(crate) fn apply(
        self,
        mut sink: Sink<K, V>,
        carried_key: Option<SharedSerde<K>>,
        carried_value: Option<SharedSerde<V>>,
    ) -> Sink<K, V> {
        if let Some(k) = self.key_serde.or(carried_key) {
            sink = sink.key_serde(k);
        }
        if let Some(v) = self.value_serde.or(carried_value) {
            sink = sink.value_serde(v);
        }
        if let Some(p) = self.partitioner {
            sink = sink.partitioner(move |t: &str, k: &K, v: &V, n: i32| p(t, k, v, n));
        }
        sink
    }
}

/// How `repartition` works: topic name, partition count, serdes (Kafka's `Repartitioned`).
pub struct Repartitioned<K, V> {
    pub(crate) name: Option<String>,
    pub(crate) partitions: Option<i32>,
    pub(crate) produced: Produced<K, V>,
}

impl<K, V> Default for Repartitioned<K, V> {
    fn default() -> Self {
        Self { name: None, partitions: None, produced: Produced::default() }
    }
}

impl<K, V> std::fmt::Debug for Repartitioned<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repartitioned")
            .field("name", &self.name)
            .field("partitions", &self.partitions)
            .finish_non_exhaustive()
    }
}

impl<K: 'static, V: 'static> Repartitioned<K, V> {
    /// The topic is `<application.id>-<name>-repartition`, its nodes `<name>-repartition-*`.
    pub fn as_(name: impl Into<String>) -> Self {
        Self { name: Some(name.into()), ..Self::default() }
    }

    /// With these serdes.
    pub fn with(key_serde: impl Serde<K>, value_serde: impl Serde<V>) -> Self {
        Self { produced: Produced::with(key_serde, value_serde), ..Self::default() }
    }

    /// With `n` partitions (default: as many as the upstream source topics have, the most).
    pub fn with_number_of_partitions(mut self, n: i32) -> Self {
        self.partitions = Some(n);
        self
    }

    /// Also named `name`.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// With this partitioner for writing the repartition topic.
    pub fn with_partitioner(
        mut self,
        partitioner: impl Fn(&str, &K, &V, i32) -> Option<i32> + Send + Sync + 'static,
    ) -> Self {
        self.produced = self.produced.with_partitioner(partitioner);
        self
    }
}

/// A name for a processor (Kafka's `Named`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named(pub(crate) String);

impl Named {
    /// The name `name`.
    pub fn as_(name: impl Into<String>) -> Self {
        Self(name.into())
    }
}

/// Where `print` writes (Kafka's `Printed`).
#[derive(Debug, Clone)]
pub struct Printed {
    pub(crate) target: PrintTarget,
    pub(crate) label: Option<String>,
    pub(crate) name: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) enum PrintTarget {
    Stdout,
    File(std::path::PathBuf),
}

impl Printed {
    /// Print to standard output.
    pub fn to_sys_out() -> Self {
        Self { target: PrintTarget::Stdout, label: None, name: None }
    }

    /// Write to the file at `path`, created if missing and emptied if not.
    pub fn to_file(path: impl Into<std::path::PathBuf>) -> Self {
        Self { target: PrintTarget::File(path.into()), label: None, name: None }
    }

    /// Prefix lines with `[label]: ` (default: the processor's parent's name).
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Names the printing processor.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}
