//! Kafka's record batch format (magic 2), as pure functions over bytes.
//!
//! This module owns the byte layout that the log stores on disk and that Produce and Fetch carry on the
//! wire. It does no I/O: callers hand it byte slices and get headers, records or errors back. Every
//! length and count read from the bytes is checked against the bytes actually present before anything is
//! allocated or sliced, so any input, however corrupt, yields an error and never a panic.
//!
//! What it promises:
//! - [`BatchBuilder`] and [`control_batch`] write uncompressed batches in the layout below, field for
//!   field as Kafka's producer and transaction coordinator write them, with the CRC-32C filled in.
//! - [`validate_batch`] accepts a batch only if its header is well formed, its CRC matches and, for an
//!   uncompressed batch, its records decode and agree with the header.
//! - [`decode_records`] hands out keys and values as zero-copy slices of the batch.
//! - [`batches`] walks a buffer holding consecutive batches (a segment read, a Fetch response) and stops
//!   at the first incomplete or malformed one; [`BatchIter::position`] is then where valid data ends.
//! - [`set_base_offset`] and [`set_partition_leader_epoch`] rewrite fields outside the CRC, so they
//!   never invalidate a batch; [`set_max_timestamp_log_append`] recomputes the CRC.
//!
//! Compressed batches (gzip, snappy, lz4, zstd) are validated by CRC and walked by [`batches`];
//! [`decode_records`] decompresses their records (at most 128 MiB per batch; more is an error).
//!
//! # Batch layout
//!
//! All fixed-width integers are big-endian and signed unless marked `u`. Offsets are from the start of the
//! batch; the fixed header is [`BATCH_HEADER_LEN`] (61) bytes.
//!
//! | bytes   | field                  | type | meaning |
//! |---------|------------------------|------|---------|
//! | 0..8    | `baseOffset`           | i64  | offset of the first record; rewritten by the broker on append |
//! | 8..12   | `batchLength`          | i32  | bytes that follow this field (total size − [`LOG_OVERHEAD`]); at least 49 |
//! | 12..16  | `partitionLeaderEpoch` | i32  | leader epoch at append; −1 from producers; rewritten by the broker |
//! | 16      | `magic`                | i8   | always 2 |
//! | 17..21  | `crc`                  | u32  | CRC-32C (Castagnoli) of bytes 21 to the end of the batch |
//! | 21..23  | `attributes`           | i16  | flags, see below |
//! | 23..27  | `lastOffsetDelta`      | i32  | offset of the last record minus `baseOffset` |
//! | 27..35  | `baseTimestamp`        | i64  | timestamp of the first record (record timestamps are deltas to it) |
//! | 35..43  | `maxTimestamp`         | i64  | largest record timestamp, or the append time for log-append-time batches |
//! | 43..51  | `producerId`           | i64  | −1 ([`NO_PRODUCER_ID`]) when not idempotent |
//! | 51..53  | `producerEpoch`        | i16  | −1 ([`NO_PRODUCER_EPOCH`]) when not idempotent |
//! | 53..57  | `baseSequence`         | i32  | sequence of the first record, −1 ([`NO_SEQUENCE`]) when not idempotent |
//! | 57..61  | `recordCount`          | i32  | number of records that follow |
//! | 61..    | records                |      | `recordCount` records, compressed as one block if the batch is compressed |
//!
//! Because the CRC starts at `attributes`, the broker may rewrite `baseOffset` and
//! `partitionLeaderEpoch` without recomputing it.
//!
//! `attributes` bits (bit 0 is the least significant):
//!
//! | bits | meaning |
//! |------|---------|
//! | 0–2  | compression: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd ([`Compression`]); 5–7 are invalid |
//! | 3    | timestamp type: 0 create time, 1 log append time (every record's timestamp is then `maxTimestamp`) |
//! | 4    | transactional |
//! | 5    | control batch (holds transaction markers) |
//! | 6    | has delete horizon (set by compaction; `baseTimestamp` is then the horizon) |
//! | 7–15 | unused, written as 0 |
//!
//! # Record layout
//!
//! Inside the (uncompressed) records section each record is laid out as below. "varint" and "varlong" are
//! zigzag variable-length integers of at most 5 and 10 bytes (see [`put_varint`]).
//!
//! | field            | type       | meaning |
//! |------------------|------------|---------|
//! | `length`         | varint     | bytes of the record after this field |
//! | `attributes`     | i8         | unused, written as 0 |
//! | `timestampDelta` | varlong    | record timestamp minus `baseTimestamp` (wrapping 64-bit arithmetic) |
//! | `offsetDelta`    | varint     | record offset minus `baseOffset`; strictly increasing, at most `lastOffsetDelta` |
//! | `keyLength`      | varint     | −1 for a null key |
//! | `key`            | bytes      | `keyLength` bytes |
//! | `valueLength`    | varint     | −1 for a null value (a tombstone) |
//! | `value`          | bytes      | `valueLength` bytes |
//! | `headersCount`   | varint     | number of headers |
//! | headers          |            | `headersCount` times: `keyLength` varint (≥ 0), key (UTF-8), `valueLength` varint (−1 = null), value |
//!
//! # Control records
//!
//! A transaction marker is a batch with the transactional and control bits set, holding one record whose
//! key is `version: i16 = 0, type: i16` (0 abort, 1 commit) and whose value is
//! `version: i16 = 0, coordinatorEpoch: i32` (see [`control_batch`] and [`decode_control_record`]).
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use broker_embedded::format::{BatchBuilder, decode_records, validate_batch};
//!
//! let mut builder = BatchBuilder::new();
//! builder.push(1_700_000_000_000, Some(b"user-1"), Some(b"clicked"), &[]);
//! builder.push(1_700_000_000_005, Some(b"user-2"), None, &[]);
//! let batch = builder.build(42).expect("two records").freeze();
//!
//! let header = validate_batch(&batch).expect("a valid batch");
//! assert_eq!((header.base_offset, header.next_offset()), (42, 44));
//! let records = decode_records(&batch).expect("uncompressed");
//! assert_eq!(records[1].offset, 43);
//! assert_eq!(records[1].value, None);
//! assert_eq!(records[0].key, Some(Bytes::from_static(b"user-1")));
//! ```

mod batch;
mod builder;
mod compression;
mod record;
mod varint;

pub use batch::{
    BATCH_HEADER_LEN, BatchHeader, BatchIter, Compression, LOG_OVERHEAD, NO_PARTITION_LEADER_EPOCH,
    NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE, batches, set_base_offset,
    set_max_timestamp_log_append, set_partition_leader_epoch, validate_batch, verify_crc,
};
pub(crate) use batch::{DELETE_HORIZON_FLAG, crc32c};
pub use builder::{BatchBuilder, control_batch};
pub(crate) use record::decompressed;
pub use record::{
    ControlRecord, Header, Record, RecordRef, RecordRefs, decode_control_record, decode_records,
    decode_records_with,
};
pub use varint::{
    MAX_VARINT_LEN, MAX_VARLONG_LEN, get_varint, get_varlong, put_varint, put_varlong, varint_len,
    varlong_len,
};

/// Why bytes could not be read as a record batch.
///
/// Any of these on data read from disk means the log is corrupt from that batch on; on a produced batch
/// it means the client sent a malformed request (Kafka answers `CORRUPT_MESSAGE` or `INVALID_RECORD`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The bytes end before the structure being read does.
    #[error("record batch truncated: {needed} bytes needed but only {available} available")]
    Truncated {
        /// Bytes the structure needs (at least).
        needed: usize,
        /// Bytes that were present.
        available: usize,
    },
    /// The batch length field is too small to hold a batch header.
    #[error(
        "invalid record batch length {0}: a batch needs at least 49 bytes after its length field"
    )]
    InvalidLength(i32),
    /// The batch is not in the magic 2 format (older message formats are not supported).
    #[error("unsupported record batch magic {0}: only magic 2 (Kafka 0.11 and later) is supported")]
    UnsupportedMagic(i8),
    /// The stored CRC does not match the batch contents: the batch was corrupted.
    #[error("record batch is corrupt: stored CRC {stored:#010x} but computed {computed:#010x}")]
    CrcMismatch {
        /// CRC stored in the batch header.
        stored: u32,
        /// CRC-32C computed over the batch contents.
        computed: u32,
    },
    /// The batch uses a compression codec this build cannot decode (or an invalid codec number).
    #[error(
        "unsupported compression codec {0} in record batch attributes (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd; only uncompressed batches can be decoded)"
    )]
    UnsupportedCompression(u8),
    /// The batch's records, or the header fields describing them, are inconsistent.
    #[error("invalid record: {0}")]
    InvalidRecord(String),
}
