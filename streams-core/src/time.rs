//! Time: where a record's timestamp comes from, and the wall clock a task reads.

use std::sync::atomic::{AtomicI64, Ordering};

/// A record as it was read from its topic, before deserialization: what a
/// [`TimestampExtractor`] and the error handlers see. The embedded broker's consumer record.
pub use broker_embedded::ConsumerRecord as RawRecord;

/// Records of one partition as they were read, column by column (the embedded broker's
/// [`PartitionRecords`](broker_embedded::PartitionRecords)): how tasks buffer their input, and
/// what [`TimestampExtractor::extract_all`] reads.
pub use broker_embedded::PartitionRecords as RawRecords;

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

    /// The timestamps of the records `from..` of `records` (in order, from one partition whose
    /// time is `partition_time`) appended to `out`, up to the first record whose outcome is not
    /// a timestamp: its index (counted from `from`) and outcome. Tasks call this once per polled
    /// run of records. The default calls [`extract`](TimestampExtractor::extract) for each
    /// record, lent as a [`RawRecord`] (its key, value and headers moved into it for the call and
    /// back after), in a loop compiled for the extractor's own type; extractors that read only
    /// the record's timestamp can read the `timestamps` column instead.
    fn extract_all(
        &self,
        records: &mut RawRecords,
        from: usize,
        partition_time: i64,
        out: &mut Vec<i64>,
    ) -> Option<(usize, Extracted)> {
        let mut lent = RawRecord {
            topic: records.topic.clone(),
            partition: records.partition,
            offset: 0,
            timestamp: 0,
            key: None,
            value: None,
            headers: Vec::new(),
        };
        let with_headers = !records.headers.is_empty();
        out.reserve(records.len().saturating_sub(from));
        for i in from..records.len() {
            lent.offset = records.offsets[i];
            lent.timestamp = records.timestamps[i];
            std::mem::swap(&mut lent.key, &mut records.keys[i]);
            std::mem::swap(&mut lent.value, &mut records.values[i]);
            if with_headers {
                std::mem::swap(&mut lent.headers, &mut records.headers[i]);
            }
            let outcome = self.extract(&lent, partition_time);
            std::mem::swap(&mut lent.key, &mut records.keys[i]);
            std::mem::swap(&mut lent.value, &mut records.values[i]);
            if with_headers {
                std::mem::swap(&mut lent.headers, &mut records.headers[i]);
            }
            match outcome {
                Extracted::Timestamp(ts) => out.push(ts),
                other => return Some((i - from, other)),
            }
        }
        None
    }
}

/// The record timestamps of `records` from `from` into `out`, up to the first negative one: its
/// index (from `from`) and `invalid`'s answer for it. The extractors that use record time.
#[inline]
fn record_times(
    records: &RawRecords,
    from: usize,
    out: &mut Vec<i64>,
    invalid: impl FnOnce(&RawRecord) -> Extracted,
) -> Option<(usize, Extracted)> {
    let times = records.timestamps.get(from..).unwrap_or_default();
    match times.iter().position(|&ts| ts < 0) {
        None => {
            out.extend_from_slice(times);
            None
        }
        Some(i) => {
            out.extend_from_slice(&times[..i]);
            let record = records.record(from + i)?;
            Some((i, invalid(&record)))
        }
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

/// The extractors of the record's own timestamp: `$invalid` answers for a negative one.
macro_rules! record_time_extractor {
    ($extractor:ty, $invalid:path) => {
        impl TimestampExtractor for $extractor {
            #[inline]
            fn extract(&self, record: &RawRecord, _partition_time: i64) -> Extracted {
                match record.timestamp >= 0 {
                    true => Extracted::Timestamp(record.timestamp),
                    false => $invalid(record),
                }
            }

            fn extract_all(
                &self,
                records: &mut RawRecords,
                from: usize,
                _partition_time: i64,
                out: &mut Vec<i64>,
            ) -> Option<(usize, Extracted)> {
                record_times(records, from, out, $invalid)
            }
        }
    };
}

record_time_extractor!(FailOnInvalidTimestamp, fail_on_invalid);
record_time_extractor!(LogAndSkipOnInvalidTimestamp, skip_invalid);

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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;

    use super::*;
    use crate::record::Header;

    /// Records 10.. of partition 3 of `t`: key `k<offset>`, value `<timestamp>`, a header on
    /// offset 11 only.
    fn records(timestamps: &[i64]) -> RawRecords {
        let mut r = RawRecords::new(Arc::from("t"), 3);
        for (i, &ts) in timestamps.iter().enumerate() {
            let offset = 10 + i as i64;
            let headers = match offset {
                11 => vec![Header { key: "h".into(), value: Some(Bytes::from_static(b"x")) }],
                _ => Vec::new(),
            };
            let (key, value) = (format!("k{offset}"), ts.to_string());
            r.push(offset, ts, Some(key.into()), Some(value.into()), headers);
        }
        r
    }

    /// An extractor of its own: reads everything of the record it is lent.
    struct FromValue;

    impl TimestampExtractor for FromValue {
        fn extract(&self, record: &RawRecord, _partition_time: i64) -> Extracted {
            let key = format!("k{}", record.offset);
            assert_eq!((&*record.topic, record.partition), ("t", 3));
            assert_eq!(record.key.as_deref(), Some(key.as_bytes()));
            assert_eq!(record.headers.len(), usize::from(record.offset == 11));
            let value = std::str::from_utf8(record.value.as_deref().unwrap()).unwrap();
            match value.parse::<i64>().unwrap() {
                ts if ts >= 0 && ts == record.timestamp => Extracted::Timestamp(ts * 2),
                _ => Extracted::Skip,
            }
        }
    }

    /// The default `extract_all` lends each record whole and leaves the columns as they were;
    /// the built-ins read the timestamps column; both stop at the first record that is not a
    /// timestamp and count its index from `from`.
    #[test]
    fn extract_all_lends_each_record_and_stops_at_the_first_non_timestamp() {
        let mut r = records(&[5, 6, -1, 8]);
        let before = r.clone();
        let mut out = Vec::new();
        assert_eq!(FromValue.extract_all(&mut r, 1, 0, &mut out), Some((1, Extracted::Skip)));
        assert_eq!((out, &r), (vec![12], &before));
        let mut out = Vec::new();
        assert_eq!(FromValue.extract_all(&mut r, 3, 0, &mut out), None);
        assert_eq!(out, [16]);

        let mut out = Vec::new();
        match FailOnInvalidTimestamp.extract_all(&mut r, 0, 0, &mut out) {
            Some((2, Extracted::Fail(message))) => assert!(message.contains("t-3@12"), "{message}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(out, [5, 6]);
        let mut out = Vec::new();
        let skipped = LogAndSkipOnInvalidTimestamp.extract_all(&mut r, 3, 0, &mut out);
        assert_eq!((skipped, out), (None, vec![8]));
        let mut out = Vec::new();
        let used = UsePartitionTimeOnInvalidTimestamp.extract_all(&mut r, 2, 7, &mut out);
        assert_eq!((used, out), (None, vec![7, 8]));
    }
}
