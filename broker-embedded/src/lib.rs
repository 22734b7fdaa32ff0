//! The bundled log broker: Kafka's storage format and semantics, inside the application.
//!
//! A [`Broker`] owns a data directory laid out exactly as Kafka lays out a log directory: one
//! directory per partition, segments of record batches (magic 2) with sparse offset and time indexes,
//! producer-state snapshots and recovery checkpoints. Appends are acknowledged once fsynced (group
//! commit shares fsyncs across producers) unless [`Durability::Interval`] is chosen. After an unclean
//! stop the log is re-checked from the last recovery point and cut at the first invalid batch.
//!
//! The in-process clients ([`Producer`], [`Consumer`], [`Admin`]) talk to the broker with no sockets.
//!
//! ```
//! use broker_embedded::{
//!     Broker, BrokerConfig, ConsumerConfig, NewTopic, OffsetReset, ProducerRecord, ProducerRecordRef,
//!     TopicPartition,
//! };
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), broker_embedded::Error> {
//! let dir = tempfile::tempdir().map_err(|e| broker_embedded::Error::Timeout(e.to_string()))?;
//! let broker = Broker::open(BrokerConfig::new(dir.path())).await?;
//! broker.admin().create_topic(NewTopic::new("greetings", 1)).await?;
//!
//! let producer = broker.producer(Default::default())?;
//! let meta = producer.send_and_wait(ProducerRecord::new("greetings", "hello").key("k")).await?;
//! assert_eq!(meta.offset, 0);
//!
//! let consumer = broker.consumer(ConsumerConfig::default().offset_reset(OffsetReset::Earliest))?;
//! consumer.assign(&[TopicPartition::new("greetings", 0)])?;
//! let records = consumer.poll(Duration::from_secs(1)).await?;
//! assert_eq!(records[0].value.as_deref(), Some(&b"hello"[..]));
//!
//! // The fast paths: many records per call that borrow their parts, and whole batches walked in
//! // place with borrowed records.
//! let sent: [&[u8]; 2] = [b"again", b"and again"];
//! producer.send_all_borrowed(sent.map(|v| ProducerRecordRef::new("greetings", v))).await?;
//! producer.flush().await?;
//! let mut values = Vec::new();
//! for batch in consumer.poll_batches(Duration::from_secs(1)).await? {
//!     for record in batch.records() {
//!         values.push(record?.value.map(<[u8]>::to_vec));
//!     }
//! }
//! assert_eq!(values, [Some(b"again".to_vec()), Some(b"and again".to_vec())]);
//! broker.close().await?;
//! # Ok(())
//! # }
//! ```

mod broker;
mod client;
mod error;
pub mod format;
mod group;
mod io;
mod log;
mod protocol;
mod server;
pub mod topic;

use std::sync::Arc;

pub use broker::{BrokerConfig, Durability};
pub use client::{
    Admin, AssignmentStrategy, BatchRecords, Consumer, ConsumerBatch, ConsumerConfig,
    ConsumerRecord, DeliveryFuture, GroupDescription, GroupMemberDescription, Header, NewTopic,
    OffsetAndMetadata, OffsetReset, OffsetSpec, PartitionDescription, PartitionRecords, Producer,
    ProducerConfig, ProducerRecord, ProducerRecordRef, RecordMetadata, TopicDescription,
    TopicPartition,
};
pub use error::{Error, Result};
pub use group::assignor::{Assignor, CooperativeStickyAssignor, RangeAssignor, RebalanceProtocol};
pub use group::consumer_protocol::{Assignment, Subscription};
pub use io::{FaultyFileSystem, FileHandle, FileSystem, OsFileSystem, StorageFile};
pub use server::{Server, ServerConfig};

use broker::BrokerCore;

/// The partition Kafka's default partitioner gives a record with key bytes `key` in a topic of
/// `num_partitions` partitions: `toPositive(murmur2(key)) % num_partitions` (values below 1 count
/// as 1). Kafka Streams uses it to tell which task, and so which instance, holds a key.
pub fn default_partition(key: &[u8], num_partitions: i32) -> i32 {
    client::partitioner::partition_for_key(key, num_partitions)
}

/// Entry points for the fuzz targets (compiled only under `cargo fuzz`, which sets `cfg(fuzzing)`).
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    /// Runs a byte stream through the server's request path, frame → header → guard → body
    /// decoding, exactly as a connection does before dispatching. Must never panic or abort.
    pub fn decode_requests(data: &[u8]) {
        let mut buf = bytes::BytesMut::from(data);
        while let Ok(Some(frame)) = crate::protocol::frame::next_frame(&mut buf, 1 << 20) {
            let Ok(req) = crate::protocol::request::parse(frame) else { continue };
            if crate::protocol::guard::check_request(req.api_key_code, req.version, &req.body)
                .is_ok()
            {
                let mut body = req.body.clone();
                let _ = kafka_protocol::messages::RequestKind::decode(
                    req.api_key,
                    &mut body,
                    req.version,
                );
            }
        }
    }
}
use group::GroupService;

/// A running embedded broker. It holds its data directory's lock (`.lock`, as Kafka's log
/// directories have): opening a directory another broker has open fails. Dropping it (its last
/// clone) without [`Broker::close`] is an unclean stop (the next open recovers the logs), as a crash
/// would be: its background work (interval flushes, retention, compaction, checkpoints) stops and
/// the lock is released, even while producers or consumers made from it are still around.
#[derive(Clone)]
pub struct Broker {
    pub(crate) core: Arc<BrokerCore>,
    pub(crate) groups: Arc<GroupService>,
    /// Shared by the clones; its drop, with the last clone, stops the background work.
    _handle: Arc<BrokerHandle>,
}

/// Stops the broker's background threads (without waiting for them: dropping may happen inside an
/// async task) and releases the directory lock when the last [`Broker`] clone goes.
struct BrokerHandle(std::sync::Weak<BrokerCore>);

impl Drop for BrokerHandle {
    fn drop(&mut self) {
        if let Some(core) = self.0.upgrade() {
            core.abandon();
        }
    }
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker").field("data_dir", &self.core.config.data_dir).finish()
    }
}

impl Broker {
    /// Opens the data directory (recovering logs after an unclean stop) and starts background work.
    /// Must be called inside a Tokio runtime.
    pub async fn open(config: BrokerConfig) -> Result<Self> {
        let (core, coordinator, log) = tokio::task::spawn_blocking(move || {
            let core = BrokerCore::open(config)?;
            let (coordinator, log) = broker::groups::load_coordinator(&core)?;
            Ok::<_, Error>((core, coordinator, log))
        })
        .await
        .map_err(|e| Error::Timeout(format!("opening the broker failed: {e}")))??;
        let groups = GroupService::start_with(coordinator, log);
        let _handle = Arc::new(BrokerHandle(Arc::downgrade(&core)));
        Ok(Self { core, groups, _handle })
    }

    /// A new producer.
    pub fn producer(&self, config: ProducerConfig) -> Result<Producer> {
        Producer::new(self.core.clone(), config)
    }

    /// A new consumer.
    pub fn consumer(&self, config: ConsumerConfig) -> Result<Consumer> {
        Consumer::new(self.core.clone(), self.groups.clone(), config)
    }

    /// The admin client.
    pub fn admin(&self) -> Admin {
        Admin::new(self.core.clone(), self.groups.clone())
    }

    /// The broker's settings.
    pub fn config(&self) -> &BrokerConfig {
        &self.core.config
    }

    /// Flushes everything, writes checkpoints and the clean-shutdown marker, and stops background
    /// work. Later calls on any client fail with [`Error::Shutdown`].
    pub async fn close(&self) -> Result<()> {
        self.groups.shutdown();
        let core = self.core.clone();
        tokio::task::spawn_blocking(move || core.close())
            .await
            .map_err(|e| Error::Timeout(format!("closing the broker failed: {e}")))?
    }
}
