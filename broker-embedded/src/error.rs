//! The broker's error type. Each variant tells the caller what happened and what to do about it, and
//! maps to the Kafka protocol error code a remote client would receive.

use std::io;
use std::path::PathBuf;

use crate::format::FormatError;
use crate::topic::{ConfigError, InvalidTopicName};

/// Everything that can go wrong in the broker and its in-process clients.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The topic name breaks Kafka's rule (1–249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`).
    #[error(transparent)]
    InvalidTopicName(#[from] InvalidTopicName),
    /// A topic configuration key or value is not valid.
    #[error(transparent)]
    InvalidConfig(#[from] ConfigError),
    /// The topic does not exist.
    #[error("unknown topic {0:?}")]
    UnknownTopic(String),
    /// The partition does not exist in the topic.
    #[error("topic {topic:?} has no partition {partition}")]
    UnknownPartition {
        /// The topic.
        topic: String,
        /// The partition asked for.
        partition: i32,
    },
    /// A topic with this name already exists.
    #[error("topic {0:?} already exists")]
    TopicExists(String),
    /// A partition count is out of range (must be at least 1, and may only grow).
    #[error("invalid partition count: {0}")]
    InvalidPartitions(String),
    /// A batch is larger than the topic's `max.message.bytes`.
    #[error("record batch of {size} bytes exceeds max.message.bytes = {max}")]
    RecordTooLarge {
        /// Size of the batch.
        size: usize,
        /// The configured limit.
        max: usize,
    },
    /// A produced batch failed validation (bad length, magic or CRC).
    #[error("corrupt record batch: {0}")]
    CorruptMessage(#[from] FormatError),
    /// A record breaks a rule of the topic (for example a null key on a compacted topic).
    #[error("invalid record: {0}")]
    InvalidRecord(String),
    /// Stored data failed its checks: the file and position say where.
    #[error("corrupt data in {file} at position {position}: {reason}")]
    Corrupted {
        /// The segment file.
        file: PathBuf,
        /// Byte position of the bad batch in the file.
        position: u64,
        /// What check failed.
        reason: String,
    },
    /// A file operation failed (for example the disk is full). Nothing was acknowledged.
    #[error("storage error ({context}): {source}")]
    Storage {
        /// What the broker was doing.
        context: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The requested offset is outside the partition's log.
    #[error("offset {offset} is out of range [{log_start}, {log_end}]")]
    OffsetOutOfRange {
        /// The offset asked for.
        offset: i64,
        /// First offset in the log.
        log_start: i64,
        /// One past the last offset in the log.
        log_end: i64,
    },
    /// The producer sent a sequence number that leaves a gap.
    #[error("out of order sequence number: expected {expected}, got {got}")]
    OutOfOrderSequence {
        /// The next sequence the broker expects.
        expected: i32,
        /// The sequence received.
        got: i32,
    },
    /// The producer's epoch is older than the partition's: a newer producer instance fenced it.
    #[error("producer {producer_id} epoch {epoch} is fenced by epoch {current}")]
    InvalidProducerEpoch {
        /// The producer id.
        producer_id: i64,
        /// The stale epoch used.
        epoch: i16,
        /// The current epoch.
        current: i16,
    },
    /// The broker has no state for this producer id and the batch does not start a sequence.
    #[error("unknown producer id {0}")]
    UnknownProducerId(i64),
    /// A consumer group operation failed; the code is Kafka's.
    #[error("group error {code}: {message}")]
    Group {
        /// Kafka's error code.
        code: i16,
        /// What happened.
        message: String,
    },
    /// The broker is shutting down or has stopped.
    #[error("the broker is shut down")]
    Shutdown,
    /// An operation did not complete in time.
    #[error("timed out: {0}")]
    Timeout(String),
}

impl Error {
    pub(crate) fn storage(context: impl Into<String>, source: io::Error) -> Self {
        Self::Storage { context: context.into(), source }
    }

    /// The Kafka protocol error code for this error.
    pub fn kafka_code(&self) -> i16 {
        match self {
            Error::InvalidTopicName(_) => 17,
            Error::InvalidConfig(_) => 40,
            Error::UnknownTopic(_) | Error::UnknownPartition { .. } => 3,
            Error::TopicExists(_) => 36,
            Error::InvalidPartitions(_) => 37,
            Error::RecordTooLarge { .. } => 10,
            Error::CorruptMessage(_) => 2,
            Error::InvalidRecord(_) => 87,
            Error::Corrupted { .. } => 56,
            Error::Storage { .. } => 56,
            Error::OffsetOutOfRange { .. } => 1,
            Error::OutOfOrderSequence { .. } => 45,
            Error::InvalidProducerEpoch { .. } => 47,
            Error::UnknownProducerId(_) => 59,
            Error::Group { code, .. } => *code,
            Error::Shutdown => 6,
            Error::Timeout(_) => 7,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A copy of this error for each of several waiters (I/O errors keep their kind and message).
    pub(crate) fn duplicate(&self) -> Error {
        match self {
            Error::InvalidTopicName(e) => Error::InvalidTopicName(e.clone()),
            Error::InvalidConfig(e) => Error::InvalidConfig(e.clone()),
            Error::UnknownTopic(t) => Error::UnknownTopic(t.clone()),
            Error::UnknownPartition { topic, partition } => {
                Error::UnknownPartition { topic: topic.clone(), partition: *partition }
            }
            Error::TopicExists(t) => Error::TopicExists(t.clone()),
            Error::InvalidPartitions(m) => Error::InvalidPartitions(m.clone()),
            Error::RecordTooLarge { size, max } => Error::RecordTooLarge { size: *size, max: *max },
            Error::CorruptMessage(e) => Error::CorruptMessage(e.clone()),
            Error::InvalidRecord(m) => Error::InvalidRecord(m.clone()),
            Error::Corrupted { file, position, reason } => {
                Error::Corrupted { file: file.clone(), position: *position, reason: reason.clone() }
            }
            Error::Storage { context, source } => Error::Storage {
                context: context.clone(),
                source: io::Error::new(source.kind(), source.to_string()),
            },
            Error::OffsetOutOfRange { offset, log_start, log_end } => Error::OffsetOutOfRange {
                offset: *offset,
                log_start: *log_start,
                log_end: *log_end,
            },
            Error::OutOfOrderSequence { expected, got } => {
                Error::OutOfOrderSequence { expected: *expected, got: *got }
            }
            Error::InvalidProducerEpoch { producer_id, epoch, current } => {
                Error::InvalidProducerEpoch {
                    producer_id: *producer_id,
                    epoch: *epoch,
                    current: *current,
                }
            }
            Error::UnknownProducerId(p) => Error::UnknownProducerId(*p),
            Error::Group { code, message } => {
                Error::Group { code: *code, message: message.clone() }
            }
            Error::Shutdown => Error::Shutdown,
            Error::Timeout(m) => Error::Timeout(m.clone()),
        }
    }
}
