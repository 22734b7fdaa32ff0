//! The record that flows between processors, and where it came from.

use std::sync::Arc;

pub use broker_embedded::Header;

/// A record flowing through a topology: key, value, timestamp and headers.
///
/// Processors receive records by value and forward new or changed ones; the timestamp of a
/// forwarded record is the one it carries (Kafka's `Record` of the processor API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<K, V> {
    /// The key.
    pub key: K,
    /// The value.
    pub value: V,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    /// Headers, in order; names need not be unique.
    pub headers: Vec<Header>,
}

impl<K, V> Record<K, V> {
    /// A record with no headers.
    pub fn new(key: K, value: V, timestamp: i64) -> Self {
        Self { key, value, timestamp, headers: Vec::new() }
    }

    /// The same record with another key.
    pub fn with_key<K2>(self, key: K2) -> Record<K2, V> {
        Record { key, value: self.value, timestamp: self.timestamp, headers: self.headers }
    }

    /// The same record with another value.
    pub fn with_value<V2>(self, value: V2) -> Record<K, V2> {
        Record { key: self.key, value, timestamp: self.timestamp, headers: self.headers }
    }

    /// The same record with another key and value.
    pub fn with_key_value<K2, V2>(self, key: K2, value: V2) -> Record<K2, V2> {
        Record { key, value, timestamp: self.timestamp, headers: self.headers }
    }

    /// The same record with another timestamp.
    pub fn with_timestamp(mut self, timestamp: i64) -> Self {
        self.timestamp = timestamp;
        self
    }

    /// Adds a header.
    pub fn with_header(mut self, key: impl Into<String>, value: Option<bytes::Bytes>) -> Self {
        self.headers.push(Header { key: key.into(), value });
        self
    }

    /// The value of the last header called `key`, if any (Kafka's `Headers::lastHeader`).
    pub fn last_header(&self, key: &str) -> Option<&Header> {
        self.headers.iter().rev().find(|h| h.key == key)
    }
}

/// Where the record being processed was read: topic, partition and offset.
///
/// Absent while a punctuator runs (no input record is being processed), as in Kafka.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMetadata {
    /// The source topic.
    pub topic: Arc<str>,
    /// The source partition.
    pub partition: i32,
    /// The offset in that partition.
    pub offset: i64,
}
