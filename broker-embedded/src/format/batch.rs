//! The fixed batch header, batch validation, in-place header rewrites and iteration over batches.

use super::FormatError;
use super::record::walk_records;

/// Bytes before the part of a batch that `batchLength` counts: `baseOffset` (8) and `batchLength` (4).
pub const LOG_OVERHEAD: usize = 12;
/// Size of the fixed batch header, [`LOG_OVERHEAD`] included; records start at this offset.
pub const BATCH_HEADER_LEN: usize = 61;
/// `producerId` of a batch from a producer without idempotence.
pub const NO_PRODUCER_ID: i64 = -1;
/// `baseSequence` of a batch from a producer without idempotence.
pub const NO_SEQUENCE: i32 = -1;
/// `producerEpoch` of a batch from a producer without idempotence.
pub const NO_PRODUCER_EPOCH: i16 = -1;
/// `partitionLeaderEpoch` of a batch that the broker has not stamped yet.
pub const NO_PARTITION_LEADER_EPOCH: i32 = -1;

/// The only supported `magic` value.
pub(crate) const MAGIC_V2: i8 = 2;

pub(crate) const BASE_OFFSET_OFFSET: usize = 0;
pub(crate) const BATCH_LENGTH_OFFSET: usize = 8;
pub(crate) const PARTITION_LEADER_EPOCH_OFFSET: usize = 12;
pub(crate) const MAGIC_OFFSET: usize = 16;
pub(crate) const CRC_OFFSET: usize = 17;
/// First byte covered by the CRC.
pub(crate) const ATTRIBUTES_OFFSET: usize = 21;
pub(crate) const LAST_OFFSET_DELTA_OFFSET: usize = 23;
pub(crate) const BASE_TIMESTAMP_OFFSET: usize = 27;
pub(crate) const MAX_TIMESTAMP_OFFSET: usize = 35;
pub(crate) const PRODUCER_ID_OFFSET: usize = 43;
pub(crate) const PRODUCER_EPOCH_OFFSET: usize = 51;
pub(crate) const BASE_SEQUENCE_OFFSET: usize = 53;
pub(crate) const RECORD_COUNT_OFFSET: usize = 57;

/// Smallest valid `batchLength`: a header with no records.
const MIN_BATCH_LENGTH: i32 = (BATCH_HEADER_LEN - LOG_OVERHEAD) as i32;

pub(crate) const COMPRESSION_MASK: i16 = 0x07;
pub(crate) const TIMESTAMP_TYPE_FLAG: i16 = 0x08;
pub(crate) const TRANSACTIONAL_FLAG: i16 = 0x10;
pub(crate) const CONTROL_FLAG: i16 = 0x20;
pub(crate) const DELETE_HORIZON_FLAG: i16 = 0x40;

/// Compression codec of a batch (attribute bits 0–2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// Records are stored as they are (codec 0).
    None,
    /// gzip (codec 1).
    Gzip,
    /// Snappy, in the xerial framing Kafka uses (codec 2).
    Snappy,
    /// LZ4 frame format (codec 3).
    Lz4,
    /// Zstandard (codec 4).
    Zstd,
}

impl Compression {
    /// The codec number stored in attribute bits 0–2.
    pub fn code(self) -> u8 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }

    /// The codec for a number from attribute bits 0–2; 5 to 7 are not codecs.
    pub fn from_code(code: u8) -> Result<Compression, FormatError> {
        match code {
            0 => Ok(Compression::None),
            1 => Ok(Compression::Gzip),
            2 => Ok(Compression::Snappy),
            3 => Ok(Compression::Lz4),
            4 => Ok(Compression::Zstd),
            other => Err(FormatError::UnsupportedCompression(other)),
        }
    }
}

/// The fixed 61-byte header of a record batch, decoded field by field.
///
/// See the [module documentation](super) for the meaning and position of each field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    /// Offset of the first record.
    pub base_offset: i64,
    /// Bytes after the `batchLength` field.
    pub batch_length: i32,
    /// Leader epoch stamped by the broker at append, −1 if none.
    pub partition_leader_epoch: i32,
    /// Format version, always 2 once parsed.
    pub magic: i8,
    /// Stored CRC-32C of bytes 21 to the end.
    pub crc: u32,
    /// Flags: compression, timestamp type, transactional, control, delete horizon.
    pub attributes: i16,
    /// Offset of the last record minus `base_offset`.
    pub last_offset_delta: i32,
    /// Timestamp of the first record (or the delete horizon when that flag is set).
    pub base_timestamp: i64,
    /// Largest record timestamp, or the append time for log-append-time batches.
    pub max_timestamp: i64,
    /// Idempotent producer id, or [`NO_PRODUCER_ID`].
    pub producer_id: i64,
    /// Idempotent producer epoch, or [`NO_PRODUCER_EPOCH`].
    pub producer_epoch: i16,
    /// Sequence number of the first record, or [`NO_SEQUENCE`].
    pub base_sequence: i32,
    /// Number of records in the batch.
    pub record_count: i32,
}

pub(crate) fn read_i16(buf: &[u8], at: usize) -> i16 {
    i16::from_be_bytes([buf[at], buf[at + 1]])
}

pub(crate) fn read_i32(buf: &[u8], at: usize) -> i32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&buf[at..at + 4]);
    i32::from_be_bytes(b)
}

pub(crate) fn read_i64(buf: &[u8], at: usize) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&buf[at..at + 8]);
    i64::from_be_bytes(b)
}

impl BatchHeader {
    /// Decodes the header at the start of `buf`.
    ///
    /// Checks that `batchLength` is at least 49 (a header with no records) and that `magic` is 2; does not
    /// check the CRC nor that `buf` holds the whole batch (see [`validate_batch`]). When at least the
    /// first 17 bytes are present, a bad length or magic is reported before a short buffer.
    pub fn parse(buf: &[u8]) -> Result<BatchHeader, FormatError> {
        if buf.len() > MAGIC_OFFSET {
            let batch_length = read_i32(buf, BATCH_LENGTH_OFFSET);
            if batch_length < MIN_BATCH_LENGTH {
                return Err(FormatError::InvalidLength(batch_length));
            }
            let magic = buf[MAGIC_OFFSET] as i8;
            if magic != MAGIC_V2 {
                return Err(FormatError::UnsupportedMagic(magic));
            }
        }
        if buf.len() < BATCH_HEADER_LEN {
            return Err(FormatError::Truncated { needed: BATCH_HEADER_LEN, available: buf.len() });
        }
        Ok(BatchHeader {
            base_offset: read_i64(buf, BASE_OFFSET_OFFSET),
            batch_length: read_i32(buf, BATCH_LENGTH_OFFSET),
            partition_leader_epoch: read_i32(buf, PARTITION_LEADER_EPOCH_OFFSET),
            magic: buf[MAGIC_OFFSET] as i8,
            crc: read_i32(buf, CRC_OFFSET) as u32,
            attributes: read_i16(buf, ATTRIBUTES_OFFSET),
            last_offset_delta: read_i32(buf, LAST_OFFSET_DELTA_OFFSET),
            base_timestamp: read_i64(buf, BASE_TIMESTAMP_OFFSET),
            max_timestamp: read_i64(buf, MAX_TIMESTAMP_OFFSET),
            producer_id: read_i64(buf, PRODUCER_ID_OFFSET),
            producer_epoch: read_i16(buf, PRODUCER_EPOCH_OFFSET),
            base_sequence: read_i32(buf, BASE_SEQUENCE_OFFSET),
            record_count: read_i32(buf, RECORD_COUNT_OFFSET),
        })
    }

    /// Size of the whole batch in bytes: `batch_length` + [`LOG_OVERHEAD`].
    ///
    /// A negative `batch_length` (only possible in a header not obtained from [`BatchHeader::parse`])
    /// counts as 0.
    pub fn total_len(&self) -> usize {
        usize::try_from(self.batch_length).unwrap_or(0) + LOG_OVERHEAD
    }

    /// Offset of the last record: `base_offset + last_offset_delta` (wrapping on overflow, which
    /// [`validate_batch`] rejects).
    pub fn last_offset(&self) -> i64 {
        self.base_offset.wrapping_add(i64::from(self.last_offset_delta))
    }

    /// Offset following this batch: [`last_offset`](Self::last_offset) + 1.
    pub fn next_offset(&self) -> i64 {
        self.last_offset().wrapping_add(1)
    }

    /// Compression codec from attribute bits 0–2; codes 5 to 7 are errors.
    pub fn compression(&self) -> Result<Compression, FormatError> {
        Compression::from_code((self.attributes & COMPRESSION_MASK) as u8)
    }

    /// Whether the batch belongs to a transaction (attribute bit 4).
    pub fn is_transactional(&self) -> bool {
        self.attributes & TRANSACTIONAL_FLAG != 0
    }

    /// Whether the batch holds control records such as transaction markers (attribute bit 5).
    pub fn is_control(&self) -> bool {
        self.attributes & CONTROL_FLAG != 0
    }

    /// Whether record timestamps are the broker's append time, `max_timestamp` (attribute bit 3).
    pub fn has_log_append_time(&self) -> bool {
        self.attributes & TIMESTAMP_TYPE_FLAG != 0
    }

    /// Whether compaction stamped a delete horizon into `base_timestamp` (attribute bit 6).
    pub fn has_delete_horizon(&self) -> bool {
        self.attributes & DELETE_HORIZON_FLAG != 0
    }

    /// Sequence number of the last record.
    ///
    /// Sequences wrap from `i32::MAX` to 0 as in Kafka, so a batch starting at `i32::MAX` with two
    /// records ends at 0. A batch without a sequence ([`NO_SEQUENCE`]) returns [`NO_SEQUENCE`].
    pub fn last_sequence(&self) -> i32 {
        if self.base_sequence == NO_SEQUENCE {
            return NO_SEQUENCE;
        }
        let sum = i64::from(self.base_sequence) + i64::from(self.last_offset_delta);
        if sum > i64::from(i32::MAX) {
            (sum - i64::from(i32::MAX) - 1) as i32
        } else {
            // Only a malformed header (negative delta or sequence) can go below zero; truncate quietly.
            sum as i32
        }
    }

    /// Checks the header fields that describe the records: counts and offsets must be non-negative and
    /// the last offset must fit in an `i64`.
    pub(crate) fn check_counts(&self) -> Result<(), FormatError> {
        if self.record_count < 0 {
            return Err(FormatError::InvalidRecord(format!(
                "batch at offset {} declares a negative record count {}",
                self.base_offset, self.record_count
            )));
        }
        if self.last_offset_delta < 0 {
            return Err(FormatError::InvalidRecord(format!(
                "batch at offset {} declares a negative last offset delta {}",
                self.base_offset, self.last_offset_delta
            )));
        }
        if self.base_offset.checked_add(i64::from(self.last_offset_delta) + 1).is_none() {
            return Err(FormatError::InvalidRecord(format!(
                "batch at offset {} with last offset delta {} overflows the offset range",
                self.base_offset, self.last_offset_delta
            )));
        }
        Ok(())
    }

    /// Parses the header and checks that `buf` holds the whole batch; returns the header and the batch
    /// bytes.
    pub(crate) fn parse_whole(buf: &[u8]) -> Result<(BatchHeader, &[u8]), FormatError> {
        let header = BatchHeader::parse(buf)?;
        let total = header.total_len();
        match buf.get(..total) {
            Some(batch) => Ok((header, batch)),
            None => Err(FormatError::Truncated { needed: total, available: buf.len() }),
        }
    }
}

/// CRC-32C of a whole batch's CRC-covered region (bytes 21 to the end).
pub(crate) fn compute_crc(batch: &[u8]) -> u32 {
    crc32c(batch.get(ATTRIBUTES_OFFSET..).unwrap_or_default())
}

/// CRC-32C (Castagnoli), as record batches and the broker's own checksummed files use it.
pub(crate) fn crc32c(data: &[u8]) -> u32 {
    // The 32-bit CRC is returned in a u64; the upper half is always zero.
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, data) as u32
}

/// Validates the batch at the start of `buf` and returns its header.
///
/// Checks, in order: the header parses ([`BatchHeader::parse`]); `buf` holds all
/// [`total_len`](BatchHeader::total_len) bytes; the CRC-32C matches; `record_count` and
/// `last_offset_delta` are non-negative and the last offset fits in an `i64`; the compression codec is
/// known. For an uncompressed batch it also decodes every record and checks that exactly
/// `record_count` records fill the batch, that offset deltas are strictly increasing and at most
/// `last_offset_delta`, and that header keys are UTF-8. Compressed batches are checked up to the CRC.
///
/// Bytes in `buf` after the batch are ignored; compare [`total_len`](BatchHeader::total_len) with
/// `buf.len()` to require exactly one batch.
pub fn validate_batch(buf: &[u8]) -> Result<BatchHeader, FormatError> {
    let (header, batch) = BatchHeader::parse_whole(buf)?;
    let computed = compute_crc(batch);
    if computed != header.crc {
        return Err(FormatError::CrcMismatch { stored: header.crc, computed });
    }
    header.check_counts()?;
    if header.compression()? == Compression::None {
        walk_records(&header, batch, |_| Ok(()))?;
    }
    Ok(header)
}

/// Checks the batch at the start of `buf` up to its CRC: the header is well formed, the batch fits
/// in `buf`, the counts are sane and the CRC-32C matches. Unlike [`validate_batch`] it does not walk
/// the records; callers that decode the records next (which checks their structure) use it to walk
/// each batch only once.
pub fn verify_crc(buf: &[u8]) -> Result<BatchHeader, FormatError> {
    let (header, batch) = BatchHeader::parse_whole(buf)?;
    let computed = compute_crc(batch);
    if computed != header.crc {
        return Err(FormatError::CrcMismatch { stored: header.crc, computed });
    }
    header.check_counts()?;
    Ok(header)
}

/// Rewrites `baseOffset` (bytes 0..8). The CRC does not cover it, so the batch stays valid.
///
/// # Panics
///
/// If `batch` is shorter than 8 bytes; callers pass a batch they have validated.
pub fn set_base_offset(batch: &mut [u8], base_offset: i64) {
    batch[BASE_OFFSET_OFFSET..BASE_OFFSET_OFFSET + 8].copy_from_slice(&base_offset.to_be_bytes());
}

/// Rewrites `partitionLeaderEpoch` (bytes 12..16). The CRC does not cover it, so the batch stays valid.
///
/// # Panics
///
/// If `batch` is shorter than 16 bytes; callers pass a batch they have validated.
pub fn set_partition_leader_epoch(batch: &mut [u8], epoch: i32) {
    batch[PARTITION_LEADER_EPOCH_OFFSET..PARTITION_LEADER_EPOCH_OFFSET + 4]
        .copy_from_slice(&epoch.to_be_bytes());
}

/// Marks the batch as log-append-time with append time `ts`, for topics with
/// `message.timestamp.type=LogAppendTime`.
///
/// Sets attribute bit 3 (keeping every other attribute bit), writes `ts` into `maxTimestamp` and
/// recomputes the CRC over the batch's `batchLength`-declared extent (clamped to `batch`). Readers then
/// report `ts` as every record's timestamp.
///
/// # Panics
///
/// If `batch` is shorter than [`BATCH_HEADER_LEN`]; callers pass a batch they have validated.
pub fn set_max_timestamp_log_append(batch: &mut [u8], ts: i64) {
    let attributes = read_i16(batch, ATTRIBUTES_OFFSET) | TIMESTAMP_TYPE_FLAG;
    batch[ATTRIBUTES_OFFSET..ATTRIBUTES_OFFSET + 2].copy_from_slice(&attributes.to_be_bytes());
    batch[MAX_TIMESTAMP_OFFSET..MAX_TIMESTAMP_OFFSET + 8].copy_from_slice(&ts.to_be_bytes());
    let declared =
        usize::try_from(read_i32(batch, BATCH_LENGTH_OFFSET)).unwrap_or(0) + LOG_OVERHEAD;
    let end = declared.clamp(BATCH_HEADER_LEN, batch.len());
    let crc = compute_crc(&batch[..end]);
    batch[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
}

/// Returns an iterator over the consecutive batches at the start of `buf`.
///
/// See [`BatchIter`].
pub fn batches(buf: &[u8]) -> BatchIter<'_> {
    BatchIter { buf, pos: 0, done: false }
}

/// Iterator over consecutive record batches in a byte slice, such as a segment read or a Fetch response.
///
/// Each item is the parsed header and the slice holding the whole batch. The iterator ends (`None`)
/// exactly at the end of the buffer. A batch whose header is malformed yields that error, and a trailing
/// batch cut short yields [`FormatError::Truncated`]; after an error the iterator ends.
/// [`position`](BatchIter::position) is then the offset of the first byte that is not part of a
/// complete batch, which is where a recovering log truncates.
///
/// The CRC and the records are not checked: call [`validate_batch`] on the items that need it.
#[derive(Debug, Clone)]
pub struct BatchIter<'a> {
    buf: &'a [u8],
    pos: usize,
    done: bool,
}

impl BatchIter<'_> {
    /// Bytes consumed so far: the end of the last complete batch returned.
    pub fn position(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for BatchIter<'a> {
    type Item = Result<(BatchHeader, &'a [u8]), FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        if rest.is_empty() {
            self.done = true;
            return None;
        }
        match BatchHeader::parse_whole(rest) {
            Ok((header, batch)) => {
                self.pos += batch.len();
                Some(Ok((header, batch)))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl std::iter::FusedIterator for BatchIter<'_> {}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::format::{BatchBuilder, Header, decode_records};
    use bytes::Bytes;
    use proptest::prelude::*;

    fn sample_batch(base_offset: i64, n: usize) -> Vec<u8> {
        let mut b = BatchBuilder::new();
        for i in 0..n {
            b.push(1_000 + i as i64, Some(format!("k{i}").as_bytes()), Some(b"value"), &[]);
        }
        b.build(base_offset).unwrap().to_vec()
    }

    fn header_with(base_sequence: i32, last_offset_delta: i32) -> BatchHeader {
        BatchHeader {
            base_offset: 0,
            batch_length: 49,
            partition_leader_epoch: -1,
            magic: 2,
            crc: 0,
            attributes: 0,
            last_offset_delta,
            base_timestamp: 0,
            max_timestamp: 0,
            producer_id: 1,
            producer_epoch: 0,
            base_sequence,
            record_count: 1,
        }
    }

    #[test]
    fn header_fields_are_read_at_their_offsets() {
        let batch = sample_batch(100, 3);
        let h = BatchHeader::parse(&batch).unwrap();
        assert_eq!(h.base_offset, 100);
        assert_eq!(h.total_len(), batch.len());
        assert_eq!(h.magic, 2);
        assert_eq!(h.last_offset_delta, 2);
        assert_eq!((h.last_offset(), h.next_offset()), (102, 103));
        assert_eq!((h.base_timestamp, h.max_timestamp), (1_000, 1_002));
        assert_eq!(h.record_count, 3);
        assert_eq!(h.compression(), Ok(Compression::None));
        assert!(!h.is_transactional() && !h.is_control() && !h.has_log_append_time());
        assert_eq!(h.crc, compute_crc(&batch));
    }

    #[test]
    fn parse_rejects_short_length_bad_magic_and_short_buffer() {
        let mut batch = sample_batch(0, 1);
        assert_eq!(
            BatchHeader::parse(&batch[..60]),
            Err(FormatError::Truncated { needed: 61, available: 60 })
        );
        assert!(matches!(BatchHeader::parse(&batch[..5]), Err(FormatError::Truncated { .. })));
        batch[16] = 1;
        assert_eq!(BatchHeader::parse(&batch), Err(FormatError::UnsupportedMagic(1)));
        batch[16] = 2;
        batch[8..12].copy_from_slice(&48i32.to_be_bytes());
        assert_eq!(BatchHeader::parse(&batch), Err(FormatError::InvalidLength(48)));
        batch[8..12].copy_from_slice(&(-1i32).to_be_bytes());
        assert_eq!(BatchHeader::parse(&batch), Err(FormatError::InvalidLength(-1)));
    }

    #[test]
    fn compression_codes_map_both_ways() {
        for c in [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            assert_eq!(Compression::from_code(c.code()), Ok(c));
        }
        for code in 5..=7 {
            assert_eq!(
                Compression::from_code(code),
                Err(FormatError::UnsupportedCompression(code))
            );
        }
    }

    #[test]
    fn last_sequence_wraps_like_kafka() {
        assert_eq!(header_with(0, 4).last_sequence(), 4);
        assert_eq!(header_with(i32::MAX, 0).last_sequence(), i32::MAX);
        assert_eq!(header_with(i32::MAX, 1).last_sequence(), 0);
        assert_eq!(header_with(i32::MAX - 2, 5).last_sequence(), 2);
        assert_eq!(header_with(NO_SEQUENCE, 7).last_sequence(), NO_SEQUENCE);
        // Malformed headers must not panic.
        assert_eq!(header_with(i32::MIN, i32::MIN).last_sequence(), 0);
    }

    #[test]
    fn total_len_and_offsets_never_panic_on_odd_headers() {
        let mut h = header_with(0, i32::MAX);
        h.base_offset = i64::MAX;
        h.batch_length = -5;
        assert_eq!(h.total_len(), LOG_OVERHEAD);
        assert_eq!(h.last_offset(), i64::MAX.wrapping_add(i64::from(i32::MAX)));
        let _ = h.next_offset();
    }

    #[test]
    fn validate_reports_each_kind_of_damage() {
        let good = sample_batch(7, 2);
        assert_eq!(validate_batch(&good).unwrap().base_offset, 7);

        // Truncated anywhere.
        assert_eq!(
            validate_batch(&good[..good.len() - 1]),
            Err(FormatError::Truncated { needed: good.len(), available: good.len() - 1 })
        );

        // Corrupt payload byte.
        let mut bad = good.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0x01;
        assert!(matches!(validate_batch(&bad), Err(FormatError::CrcMismatch { .. })));

        // Trailing bytes after the batch are ignored.
        let mut longer = good.clone();
        longer.extend_from_slice(&[0xde, 0xad]);
        assert_eq!(validate_batch(&longer), validate_batch(&good));
    }

    fn refresh_crc(batch: &mut [u8]) {
        let crc = compute_crc(batch);
        batch[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
    }

    #[test]
    fn validate_checks_record_count_and_offsets_against_header() {
        let good = sample_batch(0, 3);

        let mut fewer = good.clone();
        fewer[RECORD_COUNT_OFFSET..RECORD_COUNT_OFFSET + 4].copy_from_slice(&2i32.to_be_bytes());
        refresh_crc(&mut fewer);
        assert!(matches!(validate_batch(&fewer), Err(FormatError::InvalidRecord(_))));

        let mut more = good.clone();
        more[RECORD_COUNT_OFFSET..RECORD_COUNT_OFFSET + 4].copy_from_slice(&4i32.to_be_bytes());
        refresh_crc(&mut more);
        assert!(matches!(validate_batch(&more), Err(FormatError::InvalidRecord(_))));

        let mut negative = good.clone();
        negative[RECORD_COUNT_OFFSET..RECORD_COUNT_OFFSET + 4]
            .copy_from_slice(&(-1i32).to_be_bytes());
        refresh_crc(&mut negative);
        assert!(matches!(validate_batch(&negative), Err(FormatError::InvalidRecord(_))));

        let mut short_delta = good.clone();
        short_delta[LAST_OFFSET_DELTA_OFFSET..LAST_OFFSET_DELTA_OFFSET + 4]
            .copy_from_slice(&1i32.to_be_bytes());
        refresh_crc(&mut short_delta);
        assert!(matches!(validate_batch(&short_delta), Err(FormatError::InvalidRecord(_))));

        // A larger last offset delta than the last record's is valid (compaction leaves such batches).
        let mut gap = good.clone();
        gap[LAST_OFFSET_DELTA_OFFSET..LAST_OFFSET_DELTA_OFFSET + 4]
            .copy_from_slice(&9i32.to_be_bytes());
        refresh_crc(&mut gap);
        assert_eq!(validate_batch(&gap).unwrap().next_offset(), 10);

        let mut overflow = good.clone();
        overflow[0..8].copy_from_slice(&(i64::MAX - 2).to_be_bytes());
        assert!(matches!(validate_batch(&overflow), Err(FormatError::InvalidRecord(_))));
    }

    #[test]
    fn compressed_batches_are_checked_up_to_the_crc() {
        let mut batch = sample_batch(0, 2);
        // Mark as zstd: the records are not zstd, but validation does not decompress.
        let attrs = read_i16(&batch, ATTRIBUTES_OFFSET) | 4;
        batch[ATTRIBUTES_OFFSET..ATTRIBUTES_OFFSET + 2].copy_from_slice(&attrs.to_be_bytes());
        refresh_crc(&mut batch);
        assert_eq!(validate_batch(&batch).unwrap().compression(), Ok(Compression::Zstd));
        // Decoding does decompress, and the records are not zstd: a clear error, no panic.
        assert!(matches!(
            decode_records(&Bytes::from(batch.clone())),
            Err(FormatError::InvalidRecord(m)) if m.contains("zstd")
        ));

        let attrs = read_i16(&batch, ATTRIBUTES_OFFSET) | 7;
        batch[ATTRIBUTES_OFFSET..ATTRIBUTES_OFFSET + 2].copy_from_slice(&attrs.to_be_bytes());
        refresh_crc(&mut batch);
        assert_eq!(validate_batch(&batch), Err(FormatError::UnsupportedCompression(7)));
    }

    #[test]
    fn header_rewrites_keep_the_batch_valid() {
        let mut batch = sample_batch(0, 2);
        let crc_before = BatchHeader::parse(&batch).unwrap().crc;
        set_base_offset(&mut batch, 1_234_567);
        set_partition_leader_epoch(&mut batch, 9);
        let h = validate_batch(&batch).unwrap();
        assert_eq!((h.base_offset, h.partition_leader_epoch, h.crc), (1_234_567, 9, crc_before));
        let records = decode_records(&Bytes::from(batch)).unwrap();
        assert_eq!(records[1].offset, 1_234_568);
    }

    #[test]
    fn log_append_time_rewrites_timestamps_and_crc() {
        let mut b = BatchBuilder::new().transactional(true).producer(5, 1, 0);
        b.push(10, None, Some(b"a"), &[]);
        b.push(20, None, Some(b"b"), &[]);
        let mut batch = b.build(0).unwrap();
        set_max_timestamp_log_append(&mut batch, 99_999);
        let h = validate_batch(&batch).unwrap();
        assert!(h.has_log_append_time());
        assert!(h.is_transactional(), "other attribute bits are kept");
        assert_eq!(h.max_timestamp, 99_999);
        let records = decode_records(&batch.freeze()).unwrap();
        assert!(records.iter().all(|r| r.timestamp == 99_999));
    }

    #[test]
    fn iterator_walks_consecutive_batches_and_stops_at_a_partial_one() {
        let first = sample_batch(0, 2);
        let second = sample_batch(2, 1);
        let mut buf = first.clone();
        buf.extend_from_slice(&second);

        let mut it = batches(&buf);
        let (h1, s1) = it.next().unwrap().unwrap();
        assert_eq!((h1.base_offset, s1), (0, &first[..]));
        assert_eq!(it.position(), first.len());
        let (h2, s2) = it.next().unwrap().unwrap();
        assert_eq!((h2.base_offset, s2), (2, &second[..]));
        assert!(it.next().is_none());
        assert_eq!(it.position(), buf.len());

        let cut = &buf[..buf.len() - 3];
        let mut it = batches(cut);
        assert!(it.next().unwrap().is_ok());
        assert_eq!(
            it.next(),
            Some(Err(FormatError::Truncated { needed: second.len(), available: second.len() - 3 }))
        );
        assert!(it.next().is_none());
        assert_eq!(it.position(), first.len());

        assert!(batches(&[]).next().is_none());
    }

    #[test]
    fn iterator_does_not_check_crc() {
        let mut batch = sample_batch(0, 1);
        let last = batch.len() - 1;
        batch[last] ^= 0xff;
        let items: Vec<_> = batches(&batch).collect();
        assert_eq!(items.len(), 1);
        assert!(items[0].is_ok());
    }

    fn arb_batch() -> impl Strategy<Value = Vec<u8>> {
        (
            proptest::collection::vec(
                (
                    any::<i64>(),
                    proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)),
                    proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
                    proptest::collection::vec(
                        (
                            "[a-z]{0,6}",
                            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..8)),
                        ),
                        0..3,
                    ),
                ),
                1..6,
            ),
            0i64..1_000_000,
        )
            .prop_map(|(records, base)| {
                let mut b = BatchBuilder::new();
                for (ts, k, v, hs) in records {
                    let hs: Vec<Header> = hs
                        .into_iter()
                        .map(|(key, value)| Header { key, value: value.map(Bytes::from) })
                        .collect();
                    b.push(ts, k.as_deref(), v.as_deref(), &hs);
                }
                b.build(base).unwrap().to_vec()
            })
    }

    /// Runs every decoder on `bytes`; they may fail but must not panic, and what they accept must be
    /// consistent.
    fn exercise(bytes: &[u8]) {
        let validated = validate_batch(bytes);
        let decoded = decode_records(&Bytes::copy_from_slice(bytes));
        if let Ok(h) = &validated {
            if h.compression() == Ok(Compression::None) {
                assert_eq!(decoded.as_ref().map(Vec::len), Ok(h.record_count as usize));
            }
        }
        let mut it = batches(bytes);
        let mut total = 0;
        for item in it.by_ref() {
            match item {
                Ok((h, s)) => {
                    assert_eq!(s.len(), h.total_len());
                    total += s.len();
                }
                Err(_) => break,
            }
        }
        assert_eq!(it.position(), total);
        assert!(total <= bytes.len());
    }

    proptest! {
        #[test]
        fn any_single_bit_flip_in_the_crc_region_is_detected(
            batch in arb_batch(),
            pick in any::<proptest::sample::Index>(),
            bit in 0u8..8,
        ) {
            let mut bad = batch.clone();
            let at = ATTRIBUTES_OFFSET + pick.index(batch.len() - ATTRIBUTES_OFFSET);
            bad[at] ^= 1 << bit;
            prop_assert!(
                matches!(validate_batch(&bad), Err(FormatError::CrcMismatch { .. })),
                "flip at byte {} bit {} undetected", at, bit
            );
        }

        #[test]
        fn set_base_offset_keeps_crc_valid(batch in arb_batch(), offset in 0i64..i64::MAX / 2) {
            let mut batch = batch;
            set_base_offset(&mut batch, offset);
            let h = validate_batch(&batch).unwrap();
            prop_assert_eq!(h.base_offset, offset);
            let records = decode_records(&Bytes::from(batch)).unwrap();
            prop_assert_eq!(records[0].offset, offset);
        }

        #[test]
        fn decoders_never_panic_on_arbitrary_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            exercise(&bytes);
        }

        #[test]
        fn decoders_never_panic_on_plausible_headers(
            mut bytes in proptest::collection::vec(any::<u8>(), 61..300),
            fix_crc in any::<bool>(),
        ) {
            // Make the header pass the cheap checks so the record decoder is reached.
            let len = (bytes.len() - LOG_OVERHEAD) as i32;
            bytes[8..12].copy_from_slice(&len.to_be_bytes());
            bytes[16] = 2;
            bytes[21] &= 0xf8;
            if fix_crc {
                refresh_crc(&mut bytes);
            }
            exercise(&bytes);
        }

        #[test]
        fn decoders_never_panic_on_truncated_batches(batch in arb_batch(), cut in any::<proptest::sample::Index>()) {
            let cut = cut.index(batch.len());
            exercise(&batch[..cut]);
            prop_assert!(validate_batch(&batch[..cut]).is_err());
        }

        #[test]
        fn decoders_never_panic_on_overwritten_batches(
            batch in arb_batch(),
            edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..6),
            fix_crc in any::<bool>(),
        ) {
            let mut bad = batch.clone();
            for (at, byte) in edits {
                let at = at.index(bad.len());
                bad[at] = byte;
            }
            if fix_crc && bad.len() >= BATCH_HEADER_LEN {
                refresh_crc(&mut bad);
            }
            exercise(&bad);
            let mut two = bad.clone();
            two.extend_from_slice(&batch);
            exercise(&two);
        }
    }
}
