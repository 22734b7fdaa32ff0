//! The runtime's view of the log: a small synchronous client abstraction.
//!
//! Stream threads are plain OS threads that process records synchronously; they reach the log
//! through these traits. The embedded broker is the one implementation so far; a Kafka-cluster
//! implementation (librdkafka) plugs in behind the same traits.

mod embedded;

use std::sync::Arc;
use std::time::Duration;

pub(crate) use embedded::EmbeddedBackend;

use crate::error::StreamsError;
use crate::task::shared::Outbox;
use crate::time::RawRecords;

/// Topic administration and client creation.
pub(crate) trait Backend: Send + Sync {
    /// The partition count of `topic`, or `None` if it does not exist.
    fn partition_count(&self, topic: &str) -> Result<Option<i32>, StreamsError>;
    /// Creates `topic` unless it exists.
    fn create_topic(
        &self,
        topic: &str,
        partitions: i32,
        configs: &[(&str, &str)],
    ) -> Result<(), StreamsError>;
    /// Every topic name.
    fn list_topics(&self) -> Result<Vec<String>, StreamsError>;
    /// A consumer in group `group` whose partitions are assigned by `assignor`.
    fn consumer(
        &self,
        group: &str,
        client_id: &str,
        assignor: Arc<dyn broker_embedded::Assignor>,
        max_poll_records: usize,
        session_timeout: Duration,
    ) -> Result<Box<dyn BackendConsumer>, StreamsError>;
    /// A producer.
    fn producer(&self, client_id: &str) -> Result<Box<dyn BackendProducer>, StreamsError>;
    /// The log start and end offsets of a partition.
    fn offset_range(&self, topic: &str, partition: i32) -> Result<(i64, i64), StreamsError>;
    /// The end offset (high watermark) of a partition.
    fn end_offset(&self, topic: &str, partition: i32) -> Result<i64, StreamsError> {
        Ok(self.offset_range(topic, partition)?.1)
    }
    /// Reads a partition from `from` up to `until` (exclusive), for restoring a store.
    fn changelog_reader(
        &self,
        topic: &str,
        partition: i32,
        from: i64,
        until: i64,
    ) -> Result<Box<dyn ChangelogReader>, StreamsError>;
}

/// Reads a changelog partition in batches, for restoration.
pub(crate) trait ChangelogReader {
    /// The next records; empty once `until` is reached.
    fn next_batch(&mut self) -> Result<Vec<ChangelogEntry>, StreamsError>;
}

/// One changelog record.
pub(crate) struct ChangelogEntry {
    pub(crate) offset: i64,
    pub(crate) timestamp: i64,
    pub(crate) key: Option<bytes::Bytes>,
    /// `None`: a tombstone.
    pub(crate) value: Option<bytes::Bytes>,
}

/// A group member reading its assigned partitions.
pub(crate) trait BackendConsumer: Send {
    fn subscribe(&mut self, topics: &[String]) -> Result<(), StreamsError>;
    /// Records of assigned partitions, column by column per partition (no partition twice);
    /// also keeps the membership alive.
    fn poll(&mut self, timeout: Duration) -> Result<Vec<RawRecords>, StreamsError>;
    /// The partitions assigned now.
    fn assignment(&self) -> Vec<(Arc<str>, i32)>;
    /// The assignor's data attached to the current assignment (standby tasks, hosts).
    fn assignment_user_data(&self) -> Option<bytes::Bytes>;
    /// Whether the last poll stopped before rejoining a rebalance: commit, release every task,
    /// then poll again (eager rebalancing, as Kafka Streams does in `onPartitionsRevoked`).
    fn rebalance_pending(&self) -> bool;
    /// Moves the position of an assigned partition: the next poll reads from `offset`.
    fn seek(&mut self, topic: &str, partition: i32, offset: i64) -> Result<(), StreamsError>;
    /// Commits `(topic, partition, next offset)` for the group; durable on return.
    fn commit(&mut self, offsets: &[(Arc<str>, i32, i64)]) -> Result<(), StreamsError>;
    /// Leaves the group.
    fn close(&mut self) -> Result<(), StreamsError>;
}

/// Writes records; `flush` waits for every record sent so far and reports failed deliveries.
pub(crate) trait BackendProducer: Send {
    /// Sends every record of `records` (the caller empties it afterwards).
    fn send(&mut self, records: &Outbox) -> Result<(), StreamsError>;
    /// Waits until everything sent is acknowledged; the error of the first failed delivery since
    /// the last flush, if any.
    fn flush(&mut self) -> Result<(), StreamsError>;
}
