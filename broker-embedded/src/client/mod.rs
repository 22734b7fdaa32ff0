//! The in-process front door: producer, consumer and admin clients over the broker core, with no
//! sockets and no copies beyond the log.

mod admin;
mod batch;
mod consumer;
pub(crate) mod partitioner;
mod producer;

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

pub(crate) use admin::is_internal_topic;
pub use admin::{
    Admin, GroupDescription, GroupMemberDescription, NewTopic, OffsetSpec, PartitionDescription,
    TopicDescription,
};
pub use batch::{BatchRecords, ConsumerBatch};
pub use consumer::{AssignmentStrategy, Consumer, ConsumerConfig, OffsetAndMetadata, OffsetReset};
pub use producer::{DeliveryFuture, Producer, ProducerConfig};

pub use crate::format::Header;

/// A topic and a partition of it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicPartition {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
}

impl TopicPartition {
    /// A topic-partition pair.
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        Self { topic: topic.into(), partition }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// A record to produce.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProducerRecord {
    /// Destination topic. Sending many records to one topic, clone one `Arc<str>`: no allocation
    /// per record.
    pub topic: Arc<str>,
    /// Destination partition; when `None` the partitioner picks one (murmur2 of the key, as Kafka's
    /// clients do, or a sticky partition for records without a key).
    pub partition: Option<i32>,
    /// The key.
    pub key: Option<Bytes>,
    /// The value (`None` is a tombstone on compacted topics).
    pub value: Option<Bytes>,
    /// Headers.
    pub headers: Vec<Header>,
    /// Create time in milliseconds; `None` means now.
    pub timestamp: Option<i64>,
}

impl ProducerRecord {
    /// A record with a value and no key.
    pub fn new(topic: impl Into<Arc<str>>, value: impl Into<Bytes>) -> Self {
        Self { topic: topic.into(), value: Some(value.into()), ..Self::default() }
    }

    /// Sets the key.
    pub fn key(mut self, key: impl Into<Bytes>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets the partition.
    pub fn partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }

    /// Sets the timestamp.
    pub fn timestamp(mut self, ts: i64) -> Self {
        self.timestamp = Some(ts);
        self
    }

    /// Adds a header.
    pub fn header(mut self, key: impl Into<String>, value: impl Into<Bytes>) -> Self {
        self.headers.push(Header { key: key.into(), value: Some(value.into()) });
        self
    }

    /// The record as a [`ProducerRecordRef`] borrowing its parts.
    pub fn as_record_ref(&self) -> ProducerRecordRef<'_> {
        ProducerRecordRef {
            topic: &self.topic,
            partition: self.partition,
            key: self.key.as_deref(),
            value: self.value.as_deref(),
            headers: &self.headers,
            timestamp: self.timestamp,
        }
    }
}

/// A record to produce that borrows its parts, for
/// [`Producer::send_all_borrowed`](crate::Producer::send_all_borrowed). The producer copies a
/// record into its batch before the call returns, so nothing has to be owned, allocated or
/// reference-counted per record (as with rdkafka's `BaseRecord`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProducerRecordRef<'a> {
    /// Destination topic.
    pub topic: &'a str,
    /// Destination partition; `None`: the partitioner picks one, as for [`ProducerRecord`].
    pub partition: Option<i32>,
    /// The key.
    pub key: Option<&'a [u8]>,
    /// The value (`None` is a tombstone on compacted topics).
    pub value: Option<&'a [u8]>,
    /// Headers.
    pub headers: &'a [Header],
    /// Create time in milliseconds; `None` means now.
    pub timestamp: Option<i64>,
}

impl<'a> ProducerRecordRef<'a> {
    /// A record with a value and no key.
    pub fn new(topic: &'a str, value: &'a [u8]) -> Self {
        Self { topic, value: Some(value), ..Self::default() }
    }

    /// Sets the key.
    pub fn key(mut self, key: &'a [u8]) -> Self {
        self.key = Some(key);
        self
    }

    /// Sets the partition.
    pub fn partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }

    /// Sets the timestamp.
    pub fn timestamp(mut self, ts: i64) -> Self {
        self.timestamp = Some(ts);
        self
    }
}

/// Where an acknowledged record was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMetadata {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The record's offset.
    pub offset: i64,
    /// The record's timestamp (the broker's time on `LogAppendTime` topics).
    pub timestamp: i64,
}

/// One partition's records from [`Consumer::poll_columns`], column by column: the topic and
/// partition once, then one entry per record in each column, in offset order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionRecords {
    /// The topic.
    pub topic: Arc<str>,
    /// The partition.
    pub partition: i32,
    /// Each record's offset.
    pub offsets: Vec<i64>,
    /// Each record's timestamp.
    pub timestamps: Vec<i64>,
    /// Each record's key.
    pub keys: Vec<Option<Bytes>>,
    /// Each record's value.
    pub values: Vec<Option<Bytes>>,
    /// Each record's headers; empty when no record has any, else one entry per record.
    pub headers: Vec<Vec<Header>>,
}

impl PartitionRecords {
    /// No records yet, of `topic`'s partition `partition`.
    pub fn new(topic: Arc<str>, partition: i32) -> Self {
        Self {
            topic,
            partition,
            offsets: Vec::new(),
            timestamps: Vec::new(),
            keys: Vec::new(),
            values: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// How many records it holds.
    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    /// Whether it holds no record.
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// Room for `n` more records in each column (the headers' only once one has any).
    pub fn reserve(&mut self, n: usize) {
        self.offsets.reserve(n);
        self.timestamps.reserve(n);
        self.keys.reserve(n);
        self.values.reserve(n);
    }

    /// Appends a record.
    #[inline(always)]
    pub fn push(
        &mut self,
        offset: i64,
        timestamp: i64,
        key: Option<Bytes>,
        value: Option<Bytes>,
        headers: Vec<Header>,
    ) {
        if !headers.is_empty() || !self.headers.is_empty() {
            self.headers.resize_with(self.offsets.len(), Vec::new);
            self.headers.push(headers);
        }
        self.offsets.push(offset);
        self.timestamps.push(timestamp);
        self.keys.push(key);
        self.values.push(value);
    }

    /// Appends `record` (whose topic and partition must be these).
    pub fn push_record(&mut self, record: ConsumerRecord) {
        debug_assert!(record.partition == self.partition && *record.topic == *self.topic);
        self.push(record.offset, record.timestamp, record.key, record.value, record.headers);
    }

    /// Keeps the first `n` records.
    pub fn truncate(&mut self, n: usize) {
        self.offsets.truncate(n);
        self.timestamps.truncate(n);
        self.keys.truncate(n);
        self.values.truncate(n);
        self.headers.truncate(n);
    }

    /// The headers of record `i` (none past the end).
    pub fn headers_of(&self, i: usize) -> &[Header] {
        self.headers.get(i).map_or(&[], Vec::as_slice)
    }

    /// Record `i` as a [`ConsumerRecord`] (its key, value and headers cloned), if there is one.
    pub fn record(&self, i: usize) -> Option<ConsumerRecord> {
        Some(ConsumerRecord {
            topic: self.topic.clone(),
            partition: self.partition,
            offset: *self.offsets.get(i)?,
            timestamp: self.timestamps[i],
            key: self.keys[i].clone(),
            value: self.values[i].clone(),
            headers: self.headers_of(i).to_vec(),
        })
    }
}

/// A record read by a consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerRecord {
    /// The topic.
    pub topic: Arc<str>,
    /// The partition.
    pub partition: i32,
    /// The offset.
    pub offset: i64,
    /// The timestamp.
    pub timestamp: i64,
    /// The key.
    pub key: Option<Bytes>,
    /// The value.
    pub value: Option<Bytes>,
    /// Headers.
    pub headers: Vec<Header>,
}
