//! Idempotent-producer state of one partition, and Kafka's `.snapshot` file format for it.
//!
//! For every producer id that wrote to the partition the broker remembers the producer epoch,
//! the metadata of the last [`NUM_BATCHES_TO_RETAIN`] batches it appended (sequence range,
//! offsets, max timestamp), the timestamp of its last write, the coordinator epoch of its last
//! transaction marker and the first offset of its open transaction. With that it decides, before
//! appending a batch, whether the batch is next in sequence, a retry of a batch already written
//! (answered with the original offsets), out of order, or from a fenced (older) epoch:
//! [`ProducerStateManager::check`]. After appending, [`ProducerStateManager::update`] records the
//! batch. After a restart the state is rebuilt by loading the latest snapshot and replaying the
//! batch headers of the log after it with [`ProducerStateManager::replay_batch`].
//!
//! # Sequence rules
//!
//! These follow Kafka's `ProducerAppendInfo`:
//! - an epoch older than the current one is fenced ([`ProducerStateError::InvalidProducerEpoch`]);
//! - a newer epoch must start at sequence 0;
//! - in the current epoch, a batch whose first and last sequence equal one of the retained
//!   batches is a duplicate, otherwise its first sequence must follow the last one written
//!   (sequences wrap from `i32::MAX` to 0);
//! - a producer id the partition has no state for must start at sequence 0, otherwise it is
//!   [`ProducerStateError::UnknownProducerId`]. (Kafka brokers since 2.5 accept any sequence here,
//!   because their state can be lost to retention and replication; this broker keeps the state
//!   it needs, so a gap is reported instead of silently accepted.)
//!
//! # Snapshot format (version 1)
//!
//! Big-endian, as Kafka's `ProducerStateManager` writes it:
//!
//! | field | type | notes |
//! | --- | --- | --- |
//! | version | i16 | 1 |
//! | crc | u32 | CRC-32C of every byte after this field |
//! | entry count | i32 | |
//! | per entry: producer id | i64 | |
//! | epoch | i16 | |
//! | last sequence | i32 | -1 if the producer has no data batch |
//! | last offset | i64 | last offset of the last data batch, -1 if none |
//! | offset delta | i32 | last offset − first offset of that batch |
//! | timestamp | i64 | timestamp of the producer's last write |
//! | coordinator epoch | i32 | -1 if no marker was written |
//! | current transaction first offset | i64 | -1 if no transaction is open |
//!
//! A snapshot keeps only the **last** batch of each producer, so after a snapshot is loaded only
//! that batch is recognised as a duplicate until new batches arrive; a retry of an older batch is
//! then reported as out of order. Replaying the log from an earlier point restores all five.
//! Entries are written in producer id order, so equal states give identical files.

use std::collections::{BTreeMap, VecDeque};

/// How many recent batches per producer are kept for duplicate detection (Kafka's value).
pub(crate) const NUM_BATCHES_TO_RETAIN: usize = 5;
/// The sequence number meaning "none".
pub(crate) const NO_SEQUENCE: i32 = -1;
/// The producer epoch meaning "none".
pub(crate) const NO_PRODUCER_EPOCH: i16 = -1;
/// The coordinator epoch meaning "no marker written yet".
pub(crate) const NO_COORDINATOR_EPOCH: i32 = -1;
/// The timestamp meaning "none".
pub(crate) const NO_TIMESTAMP: i64 = -1;

const SNAPSHOT_VERSION: i16 = 1;
/// Bytes before the entries: version, crc, entry count.
const HEADER_LEN: usize = 2 + 4 + 4;
/// Bytes covered by the CRC start here (after version and crc).
const CRC_START: usize = 2 + 4;
/// Bytes per entry: 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8.
const ENTRY_LEN: usize = 46;

/// The sequence that follows `seq`, wrapping from `i32::MAX` to 0. `NO_SEQUENCE` is followed by 0.
pub(crate) fn next_sequence(seq: i32) -> i32 {
    if seq == i32::MAX { 0 } else { seq + 1 }
}

/// `seq - delta` in the wrapping sequence space `0..=i32::MAX`.
fn decrement_sequence(seq: i32, delta: i32) -> i32 {
    let modulus = i64::from(i32::MAX) + 1;
    let first = (i64::from(seq) - i64::from(delta)).rem_euclid(modulus);
    // rem_euclid keeps the value in 0..=i32::MAX.
    i32::try_from(first).unwrap_or(0)
}

/// The name of the snapshot file taken at `offset`: 20 zero-padded digits and `.snapshot`.
/// `offset` is a log offset and therefore non-negative.
pub(crate) fn snapshot_file_name(offset: i64) -> String {
    format!("{offset:020}.snapshot")
}

/// The offset in a snapshot file name produced by [`snapshot_file_name`], or `None` if the name
/// is not one.
pub(crate) fn parse_snapshot_file_name(name: &str) -> Option<i64> {
    let digits = name.strip_suffix(".snapshot")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The outcome of a successful [`ProducerStateManager::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SeqCheck {
    /// The batch is next in sequence: append it.
    Append,
    /// The batch was already appended: do not append it again, answer with its offsets.
    Duplicate {
        /// The offset of the first record of the original batch.
        base_offset: i64,
        /// The offset of the last record of the original batch.
        last_offset: i64,
    },
}

/// Why a batch from an idempotent producer is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ProducerStateError {
    /// The batch carries an older epoch than the producer's current one: the sender has been
    /// fenced by a newer instance.
    #[error(
        "producer {producer_id} sent epoch {got}, but its current epoch is {current}; \
         this producer instance has been fenced"
    )]
    InvalidProducerEpoch {
        /// The producer id.
        producer_id: i64,
        /// The producer's current epoch on this partition.
        current: i16,
        /// The epoch the batch carries.
        got: i16,
    },
    /// The batch's first sequence is not the one expected next.
    #[error(
        "producer {producer_id} sent sequence {got}, but sequence {expected} was expected next"
    )]
    OutOfOrderSequence {
        /// The producer id.
        producer_id: i64,
        /// The sequence expected next.
        expected: i32,
        /// The batch's first sequence.
        got: i32,
    },
    /// The partition has no state for the producer and the batch does not start at sequence 0.
    #[error(
        "producer {producer_id} is unknown to this partition and its first batch starts at \
         sequence {first_seq} instead of 0"
    )]
    UnknownProducerId {
        /// The producer id.
        producer_id: i64,
        /// The batch's first sequence.
        first_seq: i32,
    },
}

impl ProducerStateError {
    /// The Kafka protocol error code: INVALID_PRODUCER_EPOCH (47),
    /// OUT_OF_ORDER_SEQUENCE_NUMBER (45) or UNKNOWN_PRODUCER_ID (59).
    pub(crate) fn error_code(&self) -> i16 {
        match self {
            ProducerStateError::InvalidProducerEpoch { .. } => 47,
            ProducerStateError::OutOfOrderSequence { .. } => 45,
            ProducerStateError::UnknownProducerId { .. } => 59,
        }
    }
}

/// Why a snapshot could not be loaded. Callers discard the file and rebuild the state from the
/// log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SnapshotError {
    /// The file is shorter than the fixed header.
    #[error("producer snapshot is {len} bytes long, shorter than its {HEADER_LEN}-byte header")]
    Truncated {
        /// The file's length.
        len: usize,
    },
    /// The version is not 1.
    #[error("producer snapshot has version {version}; only version 1 is supported")]
    UnsupportedVersion {
        /// The version found.
        version: i16,
    },
    /// The stored CRC does not match the content.
    #[error("producer snapshot is corrupt: stored CRC {stored:#010x}, computed {computed:#010x}")]
    CrcMismatch {
        /// The CRC stored in the file.
        stored: u32,
        /// The CRC of the content.
        computed: u32,
    },
    /// The entry count does not match the bytes that follow it.
    #[error(
        "producer snapshot announces {count} entries ({ENTRY_LEN} bytes each) but holds \
         {actual} bytes of entries"
    )]
    LengthMismatch {
        /// The entry count stored in the file.
        count: i32,
        /// The number of bytes after the header.
        actual: usize,
    },
    /// An entry holds values that cannot be valid.
    #[error("producer snapshot entry for producer {producer_id} is invalid: {reason}")]
    InvalidEntry {
        /// The entry's producer id.
        producer_id: i64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Two entries have the same producer id.
    #[error("producer snapshot holds producer {producer_id} twice")]
    DuplicateProducerId {
        /// The repeated producer id.
        producer_id: i64,
    },
}

/// The facts about one appended batch that producer state needs, taken from its header and the
/// offsets it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProducerBatch {
    /// The batch's producer id (not -1: batches without one carry no producer state).
    pub(crate) producer_id: i64,
    /// The batch's producer epoch.
    pub(crate) epoch: i16,
    /// The batch's base sequence.
    pub(crate) first_seq: i32,
    /// The sequence of its last record: base sequence + last offset delta, wrapping.
    pub(crate) last_seq: i32,
    /// The offset of its first record.
    pub(crate) first_offset: i64,
    /// The offset of its last record.
    pub(crate) last_offset: i64,
    /// The batch's max timestamp.
    pub(crate) max_timestamp: i64,
    /// Whether the batch's transactional flag is set.
    pub(crate) is_transactional: bool,
    /// Whether the batch's control flag is set (a transaction marker).
    pub(crate) is_control: bool,
}

/// Metadata of one appended batch, kept for duplicate detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchMetadata {
    /// The batch's first sequence.
    pub(crate) first_seq: i32,
    /// The batch's last sequence.
    pub(crate) last_seq: i32,
    /// The offset of the batch's first record.
    pub(crate) first_offset: i64,
    /// The offset of the batch's last record.
    pub(crate) last_offset: i64,
    /// The batch's max timestamp.
    pub(crate) max_timestamp: i64,
}

/// What the partition knows about one producer id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProducerEntry {
    epoch: i16,
    /// Oldest first; at most `NUM_BATCHES_TO_RETAIN`, all of the current epoch.
    batches: VecDeque<BatchMetadata>,
    last_timestamp: i64,
    coordinator_epoch: i32,
    current_txn_first_offset: Option<i64>,
}

impl ProducerEntry {
    fn new(epoch: i16) -> Self {
        ProducerEntry {
            epoch,
            batches: VecDeque::with_capacity(NUM_BATCHES_TO_RETAIN),
            last_timestamp: NO_TIMESTAMP,
            coordinator_epoch: NO_COORDINATOR_EPOCH,
            current_txn_first_offset: None,
        }
    }

    /// The producer's current epoch.
    pub(crate) fn epoch(&self) -> i16 {
        self.epoch
    }

    /// The retained batches of the current epoch, oldest first.
    pub(crate) fn batches(&self) -> impl ExactSizeIterator<Item = &BatchMetadata> {
        self.batches.iter()
    }

    /// The last sequence written in the current epoch, or [`NO_SEQUENCE`].
    pub(crate) fn last_seq(&self) -> i32 {
        self.batches.back().map_or(NO_SEQUENCE, |b| b.last_seq)
    }

    /// The last offset of the producer's last data batch, if it has one.
    pub(crate) fn last_data_offset(&self) -> Option<i64> {
        self.batches.back().map(|b| b.last_offset)
    }

    /// The timestamp of the producer's last write, or [`NO_TIMESTAMP`].
    pub(crate) fn last_timestamp(&self) -> i64 {
        self.last_timestamp
    }

    /// The coordinator epoch of the last transaction marker, or [`NO_COORDINATOR_EPOCH`].
    pub(crate) fn coordinator_epoch(&self) -> i32 {
        self.coordinator_epoch
    }

    /// The first offset of the producer's open transaction on this partition.
    pub(crate) fn current_txn_first_offset(&self) -> Option<i64> {
        self.current_txn_first_offset
    }

    fn set_epoch(&mut self, epoch: i16) {
        if epoch != self.epoch {
            self.epoch = epoch;
            self.batches.clear();
        }
    }

    fn find_batch(&self, first_seq: i32, last_seq: i32) -> Option<&BatchMetadata> {
        self.batches.iter().find(|b| b.first_seq == first_seq && b.last_seq == last_seq)
    }
}

/// The idempotent-producer state of one partition. See the [module docs](self).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ProducerStateManager {
    producers: BTreeMap<i64, ProducerEntry>,
}

impl ProducerStateManager {
    /// An empty state.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Decides what to do with a batch from `producer_id` with `epoch` covering sequences
    /// `first_seq..=last_seq`, without changing any state.
    pub(crate) fn check(
        &self,
        producer_id: i64,
        epoch: i16,
        first_seq: i32,
        last_seq: i32,
    ) -> Result<SeqCheck, ProducerStateError> {
        let Some(entry) = self.producers.get(&producer_id) else {
            return if first_seq == 0 {
                Ok(SeqCheck::Append)
            } else {
                Err(ProducerStateError::UnknownProducerId { producer_id, first_seq })
            };
        };
        if epoch < entry.epoch {
            return Err(ProducerStateError::InvalidProducerEpoch {
                producer_id,
                current: entry.epoch,
                got: epoch,
            });
        }
        let expected = if epoch > entry.epoch {
            0
        } else {
            if let Some(batch) = entry.find_batch(first_seq, last_seq) {
                return Ok(SeqCheck::Duplicate {
                    base_offset: batch.first_offset,
                    last_offset: batch.last_offset,
                });
            }
            next_sequence(entry.last_seq())
        };
        if first_seq == expected {
            Ok(SeqCheck::Append)
        } else {
            Err(ProducerStateError::OutOfOrderSequence { producer_id, expected, got: first_seq })
        }
    }

    /// Records a data batch that was appended after [`check`](Self::check) returned
    /// [`SeqCheck::Append`]. Same as [`replay_batch`](Self::replay_batch).
    pub(crate) fn update(&mut self, batch: &ProducerBatch) {
        self.replay_batch(batch);
    }

    /// Applies one batch header of the log, without validation, to rebuild the state after
    /// [`clear`](Self::clear) or after loading a snapshot. Batches must be replayed in offset
    /// order.
    ///
    /// A data batch becomes the producer's latest retained batch (a new epoch first drops the
    /// batches of the old one); a transactional data batch opens a transaction if none is open.
    /// A control batch (transaction marker) closes the open transaction and is not retained for
    /// duplicate detection; the transaction layer records the marker's coordinator epoch with
    /// [`set_coordinator_epoch`](Self::set_coordinator_epoch).
    pub(crate) fn replay_batch(&mut self, batch: &ProducerBatch) {
        let entry = self
            .producers
            .entry(batch.producer_id)
            .or_insert_with(|| ProducerEntry::new(batch.epoch));
        entry.set_epoch(batch.epoch);
        entry.last_timestamp = batch.max_timestamp;
        if batch.is_control {
            entry.current_txn_first_offset = None;
            return;
        }
        if entry.batches.len() == NUM_BATCHES_TO_RETAIN {
            entry.batches.pop_front();
        }
        entry.batches.push_back(BatchMetadata {
            first_seq: batch.first_seq,
            last_seq: batch.last_seq,
            first_offset: batch.first_offset,
            last_offset: batch.last_offset,
            max_timestamp: batch.max_timestamp,
        });
        if batch.is_transactional && entry.current_txn_first_offset.is_none() {
            entry.current_txn_first_offset = Some(batch.first_offset);
        }
    }

    /// Records the coordinator epoch of the latest transaction marker written for a producer.
    /// Does nothing for an unknown producer.
    pub(crate) fn set_coordinator_epoch(&mut self, producer_id: i64, coordinator_epoch: i32) {
        if let Some(entry) = self.producers.get_mut(&producer_id) {
            entry.coordinator_epoch = coordinator_epoch;
        }
    }

    /// Forgets every producer, before rebuilding from the log.
    pub(crate) fn clear(&mut self) {
        self.producers.clear();
    }

    /// The state of one producer.
    pub(crate) fn get(&self, producer_id: i64) -> Option<&ProducerEntry> {
        self.producers.get(&producer_id)
    }

    /// All producers, by producer id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (i64, &ProducerEntry)> {
        self.producers.iter().map(|(&id, e)| (id, e))
    }

    /// The number of producers with state.
    pub(crate) fn len(&self) -> usize {
        self.producers.len()
    }

    /// Whether no producer has state.
    pub(crate) fn is_empty(&self) -> bool {
        self.producers.is_empty()
    }

    /// The lowest first offset among open transactions, which bounds the last stable offset.
    pub(crate) fn first_open_txn_offset(&self) -> Option<i64> {
        self.producers.values().filter_map(|e| e.current_txn_first_offset).min()
    }

    /// Removes producers without an open transaction whose last write is at least
    /// `expiration_ms` older than `now_ms` (Kafka's `producer.id.expiration.ms`, default one
    /// day). Returns how many were removed.
    pub(crate) fn remove_expired(&mut self, now_ms: i64, expiration_ms: i64) -> usize {
        let before = self.producers.len();
        self.producers.retain(|_, e| {
            e.current_txn_first_offset.is_some()
                || now_ms.saturating_sub(e.last_timestamp) < expiration_ms
        });
        before - self.producers.len()
    }

    /// Encodes the state as a version 1 snapshot file.
    pub(crate) fn encode_snapshot(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + ENTRY_LEN * self.producers.len());
        out.extend_from_slice(&SNAPSHOT_VERSION.to_be_bytes());
        out.extend_from_slice(&[0; 4]); // CRC, filled in below.
        // A partition cannot hold more than i32::MAX producers in practice; saturate rather
        // than wrap if it ever did, so the file is rejected instead of misread.
        let count = i32::try_from(self.producers.len()).unwrap_or(i32::MAX);
        out.extend_from_slice(&count.to_be_bytes());
        for (&producer_id, entry) in &self.producers {
            let last = entry.batches.back();
            let offset_delta = last
                .map_or(0, |b| i32::try_from(b.last_offset - b.first_offset).unwrap_or(i32::MAX));
            out.extend_from_slice(&producer_id.to_be_bytes());
            out.extend_from_slice(&entry.epoch.to_be_bytes());
            out.extend_from_slice(&entry.last_seq().to_be_bytes());
            out.extend_from_slice(&last.map_or(-1, |b| b.last_offset).to_be_bytes());
            out.extend_from_slice(&offset_delta.to_be_bytes());
            out.extend_from_slice(&entry.last_timestamp.to_be_bytes());
            out.extend_from_slice(&entry.coordinator_epoch.to_be_bytes());
            out.extend_from_slice(&entry.current_txn_first_offset.unwrap_or(-1).to_be_bytes());
        }
        let crc = crate::format::crc32c(&out[CRC_START..]);
        out[2..CRC_START].copy_from_slice(&crc.to_be_bytes());
        out
    }

    /// Decodes a version 1 snapshot file, checking its CRC and every length. Never panics.
    pub(crate) fn decode_snapshot(bytes: &[u8]) -> Result<ProducerStateManager, SnapshotError> {
        let mut header = Reader(bytes);
        let truncated = SnapshotError::Truncated { len: bytes.len() };
        let version = header.i16().ok_or(truncated)?;
        let stored = header.u32().ok_or(truncated)?;
        let count = header.i32().ok_or(truncated)?;
        if version != SNAPSHOT_VERSION {
            return Err(SnapshotError::UnsupportedVersion { version });
        }
        let computed = crate::format::crc32c(bytes.get(CRC_START..).unwrap_or_default());
        if stored != computed {
            return Err(SnapshotError::CrcMismatch { stored, computed });
        }
        let body = header.0;
        let expected_len = usize::try_from(count).ok().and_then(|n| n.checked_mul(ENTRY_LEN));
        if expected_len != Some(body.len()) {
            return Err(SnapshotError::LengthMismatch { count, actual: body.len() });
        }
        let mut producers = BTreeMap::new();
        for raw in body.chunks_exact(ENTRY_LEN) {
            let (producer_id, entry) = decode_entry(raw)?;
            if producers.insert(producer_id, entry).is_some() {
                return Err(SnapshotError::DuplicateProducerId { producer_id });
            }
        }
        Ok(ProducerStateManager { producers })
    }
}

fn decode_entry(raw: &[u8]) -> Result<(i64, ProducerEntry), SnapshotError> {
    let mut r = Reader(raw);
    // `raw` is exactly ENTRY_LEN bytes, so none of the reads below can run short; the fallback
    // only keeps this function total.
    let short = SnapshotError::Truncated { len: raw.len() };
    let producer_id = r.i64().ok_or(short)?;
    let epoch = r.i16().ok_or(short)?;
    let last_seq = r.i32().ok_or(short)?;
    let last_offset = r.i64().ok_or(short)?;
    let offset_delta = r.i32().ok_or(short)?;
    let timestamp = r.i64().ok_or(short)?;
    let coordinator_epoch = r.i32().ok_or(short)?;
    let txn_first_offset = r.i64().ok_or(short)?;
    let invalid = |reason| SnapshotError::InvalidEntry { producer_id, reason };

    let mut entry = ProducerEntry::new(epoch);
    entry.last_timestamp = timestamp;
    entry.coordinator_epoch = coordinator_epoch;
    entry.current_txn_first_offset = (txn_first_offset >= 0).then_some(txn_first_offset);
    if last_offset >= 0 {
        if offset_delta < 0 || i64::from(offset_delta) > last_offset {
            return Err(invalid("offset delta is negative or reaches before offset 0"));
        }
        entry.batches.push_back(BatchMetadata {
            first_seq: decrement_sequence(last_seq, offset_delta),
            last_seq,
            first_offset: last_offset - i64::from(offset_delta),
            last_offset,
            max_timestamp: timestamp,
        });
    }
    Ok((producer_id, entry))
}

/// Big-endian reads from the front of a slice; `None` when too few bytes remain.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }

    fn i16(&mut self) -> Option<i16> {
        self.take().map(i16::from_be_bytes)
    }

    fn i32(&mut self) -> Option<i32> {
        self.take().map(i32::from_be_bytes)
    }

    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_be_bytes)
    }

    fn i64(&mut self) -> Option<i64> {
        self.take().map(i64::from_be_bytes)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may unwrap.
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PID: i64 = 1000;

    fn batch(epoch: i16, first_seq: i32, count: i32, first_offset: i64) -> ProducerBatch {
        ProducerBatch {
            producer_id: PID,
            epoch,
            first_seq,
            last_seq: decrement_sequence(first_seq, -(count - 1)),
            first_offset,
            last_offset: first_offset + i64::from(count) - 1,
            max_timestamp: 1_700_000_000_000 + first_offset,
            is_transactional: false,
            is_control: false,
        }
    }

    fn marker(epoch: i16, offset: i64) -> ProducerBatch {
        ProducerBatch {
            producer_id: PID,
            epoch,
            first_seq: NO_SEQUENCE,
            last_seq: NO_SEQUENCE,
            first_offset: offset,
            last_offset: offset,
            max_timestamp: 1_700_000_000_000 + offset,
            is_transactional: true,
            is_control: true,
        }
    }

    /// Checks and appends a batch as the log would.
    fn append(
        state: &mut ProducerStateManager,
        b: ProducerBatch,
    ) -> Result<SeqCheck, ProducerStateError> {
        let outcome = state.check(b.producer_id, b.epoch, b.first_seq, b.last_seq)?;
        if outcome == SeqCheck::Append {
            state.update(&b);
        }
        Ok(outcome)
    }

    #[test]
    fn unknown_producer_must_start_at_zero() {
        let state = ProducerStateManager::new();
        assert_eq!(state.check(PID, 0, 0, 4), Ok(SeqCheck::Append));
        let err = state.check(PID, 0, 5, 9).unwrap_err();
        assert_eq!(err, ProducerStateError::UnknownProducerId { producer_id: PID, first_seq: 5 });
        assert_eq!(err.error_code(), 59);
    }

    #[test]
    fn next_batch_in_sequence_is_appended() {
        let mut state = ProducerStateManager::new();
        assert_eq!(append(&mut state, batch(0, 0, 5, 10)), Ok(SeqCheck::Append));
        assert_eq!(append(&mut state, batch(0, 5, 3, 15)), Ok(SeqCheck::Append));
        let entry = state.get(PID).unwrap();
        assert_eq!(entry.last_seq(), 7);
        assert_eq!(entry.last_data_offset(), Some(17));
        assert_eq!(entry.epoch(), 0);
        assert_eq!(entry.batches().len(), 2);
        assert_eq!(entry.last_timestamp(), 1_700_000_000_015);
    }

    #[test]
    fn gap_is_out_of_order() {
        let mut state = ProducerStateManager::new();
        append(&mut state, batch(0, 0, 5, 0)).unwrap();
        let err = state.check(PID, 0, 6, 8).unwrap_err();
        assert_eq!(
            err,
            ProducerStateError::OutOfOrderSequence { producer_id: PID, expected: 5, got: 6 }
        );
        assert_eq!(err.error_code(), 45);
        assert!(err.to_string().contains("sequence 5 was expected"));
    }

    #[test]
    fn retries_of_the_last_five_batches_are_duplicates() {
        let mut state = ProducerStateManager::new();
        let batches: Vec<_> = (0..7).map(|i| batch(0, i * 2, 2, 100 + i64::from(i) * 10)).collect();
        for b in &batches {
            assert_eq!(append(&mut state, *b), Ok(SeqCheck::Append));
        }
        for b in &batches[2..] {
            assert_eq!(
                state.check(PID, 0, b.first_seq, b.last_seq),
                Ok(SeqCheck::Duplicate { base_offset: b.first_offset, last_offset: b.last_offset })
            );
        }
        // Older than the retained five: no longer recognised.
        for b in &batches[..2] {
            assert!(matches!(
                state.check(PID, 0, b.first_seq, b.last_seq),
                Err(ProducerStateError::OutOfOrderSequence { expected: 14, .. })
            ));
        }
        // Same first sequence but a different range is not a duplicate.
        assert!(state.check(PID, 0, 12, 12).is_err());
    }

    #[test]
    fn older_epoch_is_fenced() {
        let mut state = ProducerStateManager::new();
        append(&mut state, batch(3, 0, 1, 0)).unwrap();
        let err = state.check(PID, 2, 1, 1).unwrap_err();
        assert_eq!(
            err,
            ProducerStateError::InvalidProducerEpoch { producer_id: PID, current: 3, got: 2 }
        );
        assert_eq!(err.error_code(), 47);
        // Even a retry of an old-epoch batch is fenced.
        assert!(state.check(PID, 2, 0, 0).is_err());
    }

    #[test]
    fn newer_epoch_must_start_at_zero_and_resets_duplicates() {
        let mut state = ProducerStateManager::new();
        append(&mut state, batch(0, 0, 3, 0)).unwrap();
        assert_eq!(
            state.check(PID, 1, 3, 3),
            Err(ProducerStateError::OutOfOrderSequence { producer_id: PID, expected: 0, got: 3 })
        );
        // A batch with the same sequences as one of the old epoch is not a duplicate.
        assert_eq!(append(&mut state, batch(1, 0, 3, 3)), Ok(SeqCheck::Append));
        let entry = state.get(PID).unwrap();
        assert_eq!(entry.epoch(), 1);
        assert_eq!(entry.batches().len(), 1);
        assert_eq!(
            state.check(PID, 1, 0, 2),
            Ok(SeqCheck::Duplicate { base_offset: 3, last_offset: 5 })
        );
    }

    #[test]
    fn sequences_wrap_at_i32_max() {
        let mut state = ProducerStateManager::new();
        append(&mut state, batch(0, 0, 1, 0)).unwrap();
        // Replay a batch ending exactly at i32::MAX, as recovery would.
        state.replay_batch(&batch(0, i32::MAX - 1, 2, 1));
        assert_eq!(state.get(PID).unwrap().last_seq(), i32::MAX);
        assert_eq!(state.check(PID, 0, 0, 1), Ok(SeqCheck::Append));
        assert!(matches!(
            state.check(PID, 0, 1, 1),
            Err(ProducerStateError::OutOfOrderSequence { expected: 0, .. })
        ));
        // A batch that itself crosses the wrap point: MAX - 1, MAX, 0.
        let crossing = batch(0, i32::MAX - 1, 3, 3);
        assert_eq!(crossing.last_seq, 0);
        let mut other = ProducerStateManager::new();
        other.replay_batch(&batch(0, 0, 1, 0));
        other.replay_batch(&batch(0, 1, i32::MAX - 2, 1));
        assert_eq!(other.get(PID).unwrap().last_seq(), i32::MAX - 2);
        assert_eq!(append(&mut other, crossing), Ok(SeqCheck::Append));
        assert_eq!(other.check(PID, 0, 1, 1), Ok(SeqCheck::Append));
        assert_eq!(
            other.check(PID, 0, i32::MAX - 1, 0),
            Ok(SeqCheck::Duplicate { base_offset: 3, last_offset: 5 })
        );
        assert_eq!(next_sequence(i32::MAX), 0);
        assert_eq!(next_sequence(NO_SEQUENCE), 0);
        assert_eq!(decrement_sequence(1, 3), i32::MAX - 1);
    }

    #[test]
    fn transactions_open_on_first_transactional_batch_and_close_on_marker() {
        let mut state = ProducerStateManager::new();
        let mut b = batch(0, 0, 2, 50);
        b.is_transactional = true;
        state.update(&b);
        let mut b2 = batch(0, 2, 2, 52);
        b2.is_transactional = true;
        state.update(&b2);
        assert_eq!(state.get(PID).unwrap().current_txn_first_offset(), Some(50));
        assert_eq!(state.first_open_txn_offset(), Some(50));

        state.replay_batch(&marker(0, 54));
        state.set_coordinator_epoch(PID, 7);
        let entry = state.get(PID).unwrap();
        assert_eq!(entry.current_txn_first_offset(), None);
        assert_eq!(entry.coordinator_epoch(), 7);
        // Markers are not retained as batches; the next data batch continues the sequence.
        assert_eq!(entry.batches().len(), 2);
        assert_eq!(state.first_open_txn_offset(), None);
        assert_eq!(state.check(PID, 0, 4, 4), Ok(SeqCheck::Append));
    }

    #[test]
    fn marker_with_newer_epoch_bumps_the_epoch() {
        let mut state = ProducerStateManager::new();
        state.update(&batch(0, 0, 2, 0));
        state.replay_batch(&marker(1, 2));
        let entry = state.get(PID).unwrap();
        assert_eq!(entry.epoch(), 1);
        assert_eq!(entry.batches().len(), 0);
        assert!(state.check(PID, 0, 2, 2).is_err());
        assert_eq!(state.check(PID, 1, 0, 0), Ok(SeqCheck::Append));
    }

    #[test]
    fn clear_and_replay_rebuild_the_same_state() {
        let mut live = ProducerStateManager::new();
        let mut log = Vec::new();
        for i in 0..8 {
            let b = batch(0, i * 3, 3, i64::from(i) * 3);
            append(&mut live, b).unwrap();
            log.push(b);
        }
        let mut other = ProducerBatch { producer_id: 7, ..batch(2, 0, 1, 24) };
        other.is_transactional = true;
        append(&mut live, other).unwrap();
        log.push(other);

        let mut rebuilt = live.clone();
        rebuilt.clear();
        assert!(rebuilt.is_empty());
        for b in &log {
            rebuilt.replay_batch(b);
        }
        assert_eq!(rebuilt, live);
        assert_eq!(rebuilt.len(), 2);
        assert_eq!(rebuilt.iter().map(|(id, _)| id).collect::<Vec<_>>(), vec![7, PID]);
    }

    #[test]
    fn expired_producers_are_removed_unless_in_a_transaction() {
        let mut state = ProducerStateManager::new();
        state.update(&batch(0, 0, 1, 0)); // timestamp 1_700_000_000_000
        let mut t = ProducerBatch { producer_id: 5, ..batch(0, 0, 1, 1) };
        t.is_transactional = true;
        state.update(&t);
        let now = 1_700_000_000_000 + 86_400_000;
        assert_eq!(state.remove_expired(now - 1, 86_400_000), 0);
        assert_eq!(state.remove_expired(now, 86_400_000), 1);
        assert!(state.get(PID).is_none());
        assert!(state.get(5).is_some());
    }

    #[test]
    fn snapshot_layout_is_kafkas() {
        let mut state = ProducerStateManager::new();
        state.update(&ProducerBatch {
            producer_id: 0x0102_0304_0506_0708,
            epoch: 9,
            first_seq: 10,
            last_seq: 14,
            first_offset: 100,
            last_offset: 104,
            max_timestamp: 5555,
            is_transactional: true,
            is_control: false,
        });
        state.set_coordinator_epoch(0x0102_0304_0506_0708, 3);
        let bytes = state.encode_snapshot();

        let mut expected = vec![0, 1, 0, 0, 0, 0, 0, 0, 0, 1];
        expected.extend_from_slice(&0x0102_0304_0506_0708_i64.to_be_bytes());
        expected.extend_from_slice(&9_i16.to_be_bytes());
        expected.extend_from_slice(&14_i32.to_be_bytes());
        expected.extend_from_slice(&104_i64.to_be_bytes());
        expected.extend_from_slice(&4_i32.to_be_bytes());
        expected.extend_from_slice(&5555_i64.to_be_bytes());
        expected.extend_from_slice(&3_i32.to_be_bytes());
        expected.extend_from_slice(&100_i64.to_be_bytes());
        let crc = crate::format::crc32c(&expected[6..]);
        expected[2..6].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(bytes, expected);
        assert_eq!(bytes.len(), HEADER_LEN + ENTRY_LEN);
    }

    #[test]
    fn empty_state_snapshot() {
        let bytes = ProducerStateManager::new().encode_snapshot();
        assert_eq!(bytes.len(), HEADER_LEN);
        assert_eq!(ProducerStateManager::decode_snapshot(&bytes), Ok(ProducerStateManager::new()));
    }

    #[test]
    fn after_snapshot_load_only_the_last_batch_is_a_duplicate() {
        let mut state = ProducerStateManager::new();
        for i in 0..3 {
            append(&mut state, batch(0, i * 2, 2, i64::from(i) * 2)).unwrap();
        }
        let loaded = ProducerStateManager::decode_snapshot(&state.encode_snapshot()).unwrap();
        assert_eq!(
            loaded.check(PID, 0, 4, 5),
            Ok(SeqCheck::Duplicate { base_offset: 4, last_offset: 5 })
        );
        assert!(matches!(
            loaded.check(PID, 0, 2, 3),
            Err(ProducerStateError::OutOfOrderSequence { expected: 6, .. })
        ));
        assert_eq!(loaded.check(PID, 0, 6, 6), Ok(SeqCheck::Append));
    }

    #[test]
    fn producer_without_data_batches_round_trips() {
        let mut state = ProducerStateManager::new();
        state.replay_batch(&marker(4, 9));
        let bytes = state.encode_snapshot();
        let loaded = ProducerStateManager::decode_snapshot(&bytes).unwrap();
        assert_eq!(loaded, state);
        let entry = loaded.get(PID).unwrap();
        assert_eq!(entry.last_seq(), NO_SEQUENCE);
        assert_eq!(entry.last_data_offset(), None);
        assert_eq!(loaded.check(PID, 4, 0, 0), Ok(SeqCheck::Append));
    }

    #[test]
    fn corrupt_snapshots_are_rejected() {
        let mut state = ProducerStateManager::new();
        state.update(&batch(0, 0, 3, 0));
        let good = state.encode_snapshot();

        assert_eq!(
            ProducerStateManager::decode_snapshot(&good[..5]),
            Err(SnapshotError::Truncated { len: 5 })
        );
        let mut v2 = good.clone();
        v2[1] = 2;
        assert_eq!(
            ProducerStateManager::decode_snapshot(&v2),
            Err(SnapshotError::UnsupportedVersion { version: 2 })
        );
        let mut flipped = good.clone();
        flipped[20] ^= 0x40;
        assert!(matches!(
            ProducerStateManager::decode_snapshot(&flipped),
            Err(SnapshotError::CrcMismatch { .. })
        ));
        assert!(matches!(
            ProducerStateManager::decode_snapshot(&good[..good.len() - 1]),
            Err(SnapshotError::CrcMismatch { .. })
        ));
    }

    /// Recomputes the CRC so that structural checks behind it are reached.
    fn reseal(mut bytes: Vec<u8>) -> Vec<u8> {
        let crc = crate::format::crc32c(&bytes[CRC_START..]);
        bytes[2..CRC_START].copy_from_slice(&crc.to_be_bytes());
        bytes
    }

    #[test]
    fn structurally_invalid_snapshots_are_rejected_behind_a_valid_crc() {
        let mut state = ProducerStateManager::new();
        state.update(&batch(0, 0, 3, 0));
        let good = state.encode_snapshot();

        let mut huge = good.clone();
        huge[6..10].copy_from_slice(&i32::MAX.to_be_bytes());
        assert_eq!(
            ProducerStateManager::decode_snapshot(&reseal(huge)),
            Err(SnapshotError::LengthMismatch { count: i32::MAX, actual: ENTRY_LEN })
        );
        let mut negative = good.clone();
        negative[6..10].copy_from_slice(&(-1_i32).to_be_bytes());
        assert!(matches!(
            ProducerStateManager::decode_snapshot(&reseal(negative)),
            Err(SnapshotError::LengthMismatch { count: -1, .. })
        ));
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(matches!(
            ProducerStateManager::decode_snapshot(&reseal(trailing)),
            Err(SnapshotError::LengthMismatch { .. })
        ));
        let mut twice = good.clone();
        twice[6..10].copy_from_slice(&2_i32.to_be_bytes());
        twice.extend_from_slice(&good[HEADER_LEN..]);
        assert_eq!(
            ProducerStateManager::decode_snapshot(&reseal(twice)),
            Err(SnapshotError::DuplicateProducerId { producer_id: PID })
        );
        let mut bad_delta = good.clone();
        // offset delta field: header + pid 8 + epoch 2 + seq 4 + offset 8.
        let at = HEADER_LEN + 22;
        bad_delta[at..at + 4].copy_from_slice(&(-1_i32).to_be_bytes());
        assert!(matches!(
            ProducerStateManager::decode_snapshot(&reseal(bad_delta)),
            Err(SnapshotError::InvalidEntry { producer_id: PID, .. })
        ));
    }

    #[test]
    fn snapshot_file_names() {
        assert_eq!(snapshot_file_name(0), "00000000000000000000.snapshot");
        assert_eq!(snapshot_file_name(1234), "00000000000000001234.snapshot");
        assert_eq!(parse_snapshot_file_name("00000000000000001234.snapshot"), Some(1234));
        assert_eq!(parse_snapshot_file_name(&snapshot_file_name(i64::MAX)), Some(i64::MAX));
        for bad in [
            "1234.snapshot",
            "00000000000000001234.log",
            "0000000000000000123x.snapshot",
            "+0000000000000001234.snapshot",
            "00000000000000001234.snapshot.deleted",
        ] {
            assert_eq!(parse_snapshot_file_name(bad), None, "{bad}");
        }
    }

    fn arb_batch() -> impl Strategy<Value = ProducerBatch> {
        (
            0..6i64,
            0..3i16,
            0..=i32::MAX,
            1..20i32,
            0..1_000_000i64,
            any::<i64>(),
            any::<bool>(),
            prop::bool::weighted(0.1),
        )
            .prop_map(|(pid, epoch, seq, count, offset, ts, txn, control)| ProducerBatch {
                producer_id: pid,
                epoch,
                first_seq: seq,
                last_seq: decrement_sequence(seq, -(count - 1)),
                first_offset: offset,
                last_offset: offset + i64::from(count) - 1,
                max_timestamp: ts,
                is_transactional: txn || control,
                is_control: control,
            })
    }

    fn arb_state() -> impl Strategy<Value = ProducerStateManager> {
        (
            proptest::collection::vec(arb_batch(), 0..40),
            proptest::collection::vec((0..6i64, any::<i32>()), 0..4),
        )
            .prop_map(|(batches, coordinator_epochs)| {
                let mut state = ProducerStateManager::new();
                for b in &batches {
                    state.replay_batch(b);
                }
                for (pid, epoch) in coordinator_epochs {
                    state.set_coordinator_epoch(pid, epoch);
                }
                state
            })
    }

    /// What a snapshot preserves: everything but the batches before each producer's last.
    fn last_batches_only(state: &ProducerStateManager) -> ProducerStateManager {
        let mut trimmed = state.clone();
        for entry in trimmed.producers.values_mut() {
            while entry.batches.len() > 1 {
                entry.batches.pop_front();
            }
            if let Some(last) = entry.batches.back_mut() {
                last.max_timestamp = entry.last_timestamp;
            }
        }
        trimmed
    }

    proptest! {
        #[test]
        fn snapshot_round_trips(state in arb_state()) {
            let bytes = state.encode_snapshot();
            let loaded = ProducerStateManager::decode_snapshot(&bytes).unwrap();
            prop_assert_eq!(&loaded, &last_batches_only(&state));
            prop_assert_eq!(loaded.encode_snapshot(), bytes);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = ProducerStateManager::decode_snapshot(&bytes);
            // With a valid version and CRC the structural checks are exercised too.
            if bytes.len() >= HEADER_LEN {
                let mut sealed = bytes.clone();
                sealed[..2].copy_from_slice(&SNAPSHOT_VERSION.to_be_bytes());
                let _ = ProducerStateManager::decode_snapshot(&reseal(sealed));
            }
        }

        #[test]
        fn mutated_snapshots_never_panic(
            state in arb_state(),
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        ) {
            let mut bytes = state.encode_snapshot();
            for (index, value) in flips {
                let i = index.index(bytes.len());
                bytes[i] = value;
            }
            let _ = ProducerStateManager::decode_snapshot(&bytes);
            bytes[..2].copy_from_slice(&SNAPSHOT_VERSION.to_be_bytes());
            let _ = ProducerStateManager::decode_snapshot(&reseal(bytes));
        }

        #[test]
        fn check_never_accepts_a_gap(state in arb_state(), pid in 0..6i64, epoch in 0..3i16, seq in 0..=i32::MAX) {
            if let Ok(SeqCheck::Append) = state.check(pid, epoch, seq, seq) {
                match state.get(pid) {
                    None => prop_assert_eq!(seq, 0),
                    Some(e) if epoch > e.epoch() => prop_assert_eq!(seq, 0),
                    Some(e) => prop_assert_eq!(seq, next_sequence(e.last_seq())),
                }
            }
        }
    }
}
