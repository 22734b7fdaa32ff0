//! How a source or a sink is described: topics, serdes, timestamp extractor, partitioner.

use std::sync::Arc;

use crate::error::TopologyError;
use crate::processor::sink::{SinkFactory, SinkTarget};
use crate::processor::source::SourceFactory;
use crate::record::RecordMetadata;
use crate::serde::{Serde, SharedSerde};
use crate::time::TimestampExtractor;
use crate::topology::{NodeFactory, NodeKind, TopicRef};

/// Chooses a record's output topic (Kafka's `TopicNameExtractor`).
pub(crate) type TopicExtractor<K, V> =
    Arc<dyn Fn(&K, &V, Option<&RecordMetadata>) -> String + Send + Sync>;

/// Chooses a record's output partition from the topic's partition count; `None` leaves it to the
/// default partitioner (Kafka's `StreamPartitioner`).
pub(crate) type Partitioner<K, V> = Arc<dyn Fn(&str, &K, &V, i32) -> Option<i32> + Send + Sync>;

/// A source: which topics it reads and how (Kafka's `addSource` arguments).
pub struct Source<K, V> {
    topics: Vec<TopicRef>,
    pattern: Option<String>,
    key_serde: Option<SharedSerde<K>>,
    value_serde: Option<SharedSerde<V>>,
    extractor: Option<Arc<dyn TimestampExtractor>>,
}

impl<K, V> std::fmt::Debug for Source<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("topics", &self.topics)
            .field("pattern", &self.pattern)
            .finish()
    }
}

impl<K: Clone + 'static, V: Clone + 'static> Source<K, V> {
    /// A source reading these topics.
    pub fn topics(topics: &[&str]) -> Self {
        Self::new(
            topics.iter().map(|t| TopicRef { name: t.to_string(), internal: false }).collect(),
            None,
        )
    }

    /// A source reading every topic whose whole name matches the regular expression `pattern`.
    pub fn pattern(pattern: &str) -> Self {
        Self::new(Vec::new(), Some(pattern.to_string()))
    }

    /// A source reading the internal topic `<application.id>-<name>` (see
    /// [`Topology::add_internal_topic`](crate::Topology::add_internal_topic)).
    pub fn internal_topic(name: &str) -> Self {
        Self::new(vec![TopicRef { name: name.to_string(), internal: true }], None)
    }

    fn new(topics: Vec<TopicRef>, pattern: Option<String>) -> Self {
        Self { topics, pattern, key_serde: None, value_serde: None, extractor: None }
    }

    /// Deserializes keys with `serde` instead of the default for `K`.
    pub fn key_serde(mut self, serde: impl Serde<K>) -> Self {
        self.key_serde = Some(Arc::new(serde));
        self
    }

    /// Deserializes values with `serde` instead of the default for `V`.
    pub fn value_serde(mut self, serde: impl Serde<V>) -> Self {
        self.value_serde = Some(Arc::new(serde));
        self
    }

    /// Gives records their timestamps with `extractor` instead of the application's default.
    pub fn timestamp_extractor(mut self, extractor: impl TimestampExtractor) -> Self {
        self.extractor = Some(Arc::new(extractor));
        self
    }

    /// How many named topics the source reads (0 for a pattern source).
    pub(crate) fn topic_count(&self) -> usize {
        if self.pattern.is_some() { 0 } else { self.topics.len() }
    }

    pub(crate) fn into_parts(
        self,
        name: &str,
    ) -> Result<(NodeKind, Arc<dyn NodeFactory>), TopologyError> {
        let pattern = match &self.pattern {
            Some(p) => Some(regex::Regex::new(&format!("^(?:{p})$")).map_err(|e| {
                TopologyError::InvalidPattern {
                    source_node: name.to_string(),
                    message: e.to_string(),
                }
            })?),
            None => None,
        };
        if self.topics.is_empty() && pattern.is_none() {
            return Err(TopologyError::NoTopics(name.to_string()));
        }
        let factory: Arc<dyn NodeFactory> = Arc::new(SourceFactory::<K, V> {
            key_serde: self.key_serde,
            value_serde: self.value_serde,
        });
        Ok((NodeKind::Source { topics: self.topics, pattern, extractor: self.extractor }, factory))
    }
}

/// A sink: where records go and how they are written (Kafka's `addSink` arguments).
pub struct Sink<K, V> {
    target: SinkTarget<K, V>,
    extractor_name: Option<String>,
    key_serde: Option<SharedSerde<K>>,
    value_serde: Option<SharedSerde<V>>,
    partitioner: Option<Partitioner<K, V>>,
}

impl<K, V> std::fmt::Debug for Sink<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let target = match &self.target {
            SinkTarget::Fixed(t) => t.name.as_str(),
            SinkTarget::PerRecord(_) => "<chosen per record>",
        };
        f.debug_struct("Sink").field("topic", &target).finish()
    }
}

impl<K: 'static, V: 'static> Sink<K, V> {
    /// A sink writing to `topic`.
    pub fn topic(topic: &str) -> Self {
        Self::new(SinkTarget::Fixed(TopicRef { name: topic.to_string(), internal: false }))
    }

    /// A sink writing to the internal topic `<application.id>-<name>`.
    pub fn internal_topic(name: &str) -> Self {
        Self::new(SinkTarget::Fixed(TopicRef { name: name.to_string(), internal: true }))
    }

    /// A sink writing each record to the topic `extractor` names for it.
    pub fn topic_per_record<F>(extractor: F) -> Self
    where
        F: Fn(&K, &V, Option<&RecordMetadata>) -> String + Send + Sync + 'static,
    {
        let mut sink = Self::new(SinkTarget::PerRecord(Arc::new(extractor)));
        sink.extractor_name = Some(std::any::type_name::<F>().to_string());
        sink
    }

    /// Names the per-record topic extractor in `describe()` (Kafka prints the extractor's
    /// `toString()`); by default the closure's type name.
    pub fn extractor_name(mut self, name: impl Into<String>) -> Self {
        if self.extractor_name.is_some() {
            self.extractor_name = Some(name.into());
        }
        self
    }

    fn new(target: SinkTarget<K, V>) -> Self {
        Self { target, extractor_name: None, key_serde: None, value_serde: None, partitioner: None }
    }

    /// Serializes keys with `serde` instead of the default for `K`.
    pub fn key_serde(mut self, serde: impl Serde<K>) -> Self {
        self.key_serde = Some(Arc::new(serde));
        self
    }

    /// Serializes values with `serde` instead of the default for `V`.
    pub fn value_serde(mut self, serde: impl Serde<V>) -> Self {
        self.value_serde = Some(Arc::new(serde));
        self
    }

    /// Chooses partitions with `partitioner(topic, key, value, partition_count)`; where it returns
    /// `None`, or without one, the producer's default partitioner (murmur2 of the serialized key)
    /// decides, as in Kafka.
    pub fn partitioner(
        mut self,
        partitioner: impl Fn(&str, &K, &V, i32) -> Option<i32> + Send + Sync + 'static,
    ) -> Self {
        self.partitioner = Some(Arc::new(partitioner));
        self
    }

    pub(crate) fn into_parts(self) -> (NodeKind, Arc<dyn NodeFactory>) {
        let topic = match &self.target {
            SinkTarget::Fixed(t) => Some(t.clone()),
            SinkTarget::PerRecord(_) => None,
        };
        let extractor = self.extractor_name;
        let factory: Arc<dyn NodeFactory> = Arc::new(SinkFactory {
            target: self.target,
            key_serde: self.key_serde,
            value_serde: self.value_serde,
            partitioner: self.partitioner,
        });
        (NodeKind::Sink { topic, extractor }, factory)
    }
}
