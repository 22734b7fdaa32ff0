//! Time: where a record's timestamp comes from, and the wall clock a task reads.

use std::sync::atomic::{AtomicI64, Ordering};

/// A record as it was read from its topic, before deserialization: what a
/// [`TimestampExtractor`] and the error handlers see. The embedded broker's consumer record
/// itself, so that polled records reach their task without a conversion.
pub use broker_embedded::ConsumerRecord as RawRecord;

/// What to do with a record whose extracted timestamp is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extracted {
    /// Process the record with this timestamp (milliseconds since the epoch, `>= 0`).
    Timestamp(i64),
    /// Drop the record (logged and counted, as Kafka's `LogAndSkipOnInvalidTimestamp`).
    Skip,
    /// Stop the task with an error saying why.
    Fail(String),
}

/// Gives each input record the timestamp the topology works with (Kafka's `TimestampExtractor`).
///
/// Extractors see the raw record; one that reads event time from the payload deserializes it
/// itself. `partition_time` is the largest timestamp extracted so far in the record's partition
/// (`-1` before the first).
pub trait TimestampExtractor: Send + Sync + 'static {
    /// The record's timestamp, or what to do instead.
    fn extract(&self, record: &RawRecord, partition_time: i64) -> Extracted;

    /// The timestamps of `records` (in order, from one partition whose time is
    /// `partition_time`) appended to `out`, up to the first record whose outcome is not a
    /// timestamp: its index and outcome. Tasks call this once per polled run of records; the
    /// default calls [`extract`](TimestampExtractor::extract) for each, in a loop compiled for
    /// the extractor's own type, so a run costs one dynamic call.
    fn extract_all(
        &self,
        records: &[RawRecord],
        partition_time: i64,
        out: &mut Vec<i64>,
    ) -> Option<(usize, Extracted)> {
        out.reserve(records.len());
        for (i, record) in records.iter().enumerate() {
            match self.extract(record, partition_time) {
                Extracted::Timestamp(ts) => out.push(ts),
                other => return Some((i, other)),
            }
        }
        None
    }
}

/// The record's own timestamp; a negative one stops the task (Kafka's default,
/// `FailOnInvalidTimestamp`).
#[derive(Debug, Clone, Copy, Default)]
pub struct FailOnInvalidTimestamp;

/// The record's own timestamp; records with a negative one are dropped and logged
/// (`LogAndSkipOnInvalidTimestamp`).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogAndSkipOnInvalidTimestamp;

/// The record's own timestamp; a negative one is replaced by the partition's time
/// (`UsePartitionTimeOnInvalidTimestamp`), or the record dropped before the partition has any.
#[derive(Debug, Clone, Copy, Default)]
pub struct UsePartitionTimeOnInvalidTimestamp;

/// The wall-clock time at extraction, ignoring the record (`WallclockTimestampExtractor`).
#[derive(Debug, Clone, Copy, Default)]
pub struct WallclockTimestampExtractor;

impl TimestampExtractor for FailOnInvalidTimestamp {
    #[inline]
    fn extract(&self, record: &RawRecord, _partition_time: i64) -> Extracted {
        match record.timestamp >= 0 {
            true => Extracted::Timestamp(record.timestamp),
            false => fail_on_invalid(record),
        }
    }
}

/// [`FailOnInvalidTimestamp`]'s answer for a record with a negative timestamp (kept out of the
/// per-record path).
#[cold]
#[inline(never)]
fn fail_on_invalid(record: &RawRecord) -> Extracted {
    Extracted::Fail(format!(
        "record {}-{}@{} has invalid (negative) timestamp {}; choose another timestamp \
         extractor (for example LogAndSkipOnInvalidTimestamp) to process such records",
        record.topic, record.partition, record.offset, record.timestamp
    ))
}

impl TimestampExtractor for LogAndSkipOnInvalidTimestamp {
    #[inline]
    fn extract(&self, record: &RawRecord, _partition_time: i64) -> Extracted {
        match record.timestamp >= 0 {
            true => Extracted::Timestamp(record.timestamp),
            false => skip_invalid(record),
        }
    }
}

/// [`LogAndSkipOnInvalidTimestamp`]'s answer for a record with a negative timestamp.
#[cold]
#[inline(never)]
fn skip_invalid(record: &RawRecord) -> Extracted {
    tracing::warn!(
        topic = %record.topic, partition = record.partition, offset = record.offset,
        timestamp = record.timestamp, "skipping a record with an invalid timestamp"
    );
    Extracted::Skip
}

impl TimestampExtractor for UsePartitionTimeOnInvalidTimestamp {
    fn extract(&self, record: &RawRecord, partition_time: i64) -> Extracted {
        if record.timestamp >= 0 {
            Extracted::Timestamp(record.timestamp)
        } else if partition_time >= 0 {
            Extracted::Timestamp(partition_time)
        } else {
            Extracted::Skip
        }
    }
}

impl TimestampExtractor for WallclockTimestampExtractor {
    fn extract(&self, _record: &RawRecord, _partition_time: i64) -> Extracted {
        Extracted::Timestamp(SystemClock.now_ms())
    }
}

/// The wall clock a task reads for wall-clock punctuation and `current_system_time_ms`.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the epoch.
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// A clock that moves only when told to (the test driver's).
#[derive(Debug, Default)]
pub(crate) struct MockClock(AtomicI64);

impl MockClock {
    pub(crate) fn new(start_ms: i64) -> Self {
        Self(AtomicI64::new(start_ms))
    }
    pub(crate) fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for MockClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
