//! Encoding uncompressed batches: [`BatchBuilder`] for data, [`control_batch`] for transaction markers.

use bytes::{BufMut, BytesMut};

use super::FormatError;
use super::batch::{
    BATCH_HEADER_LEN, CONTROL_FLAG, CRC_OFFSET, LOG_OVERHEAD, NO_PARTITION_LEADER_EPOCH,
    NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE, TRANSACTIONAL_FLAG, compute_crc,
};
use super::record::Header;
use super::varint::{put_varint, put_varlong, varint_len, varlong_len};

/// Builds one uncompressed record batch, record by record.
///
/// Records get consecutive offset deltas in push order. The batch's base timestamp is the first
/// record's timestamp (as Kafka's producer does) and its max timestamp the largest one; the timestamp
/// type is create time. The partition leader epoch is left at −1 for the broker to stamp.
///
/// ```
/// use broker_embedded::format::{BatchBuilder, Header, validate_batch};
///
/// let batch = {
///     let mut b = BatchBuilder::new().producer(7, 0, 0);
///     b.push(10, Some(b"k"), Some(b"v"), &[Header { key: "trace".into(), value: None }]);
///     b.build(0).expect("not empty")
/// };
/// let header = validate_batch(&batch).expect("valid");
/// assert_eq!((header.producer_id, header.last_sequence()), (7, 0));
/// ```
#[derive(Debug, Clone)]
pub struct BatchBuilder {
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    transactional: bool,
    control: bool,
    /// Room for the batch header (filled in by [`finish`](BatchBuilder::finish) or copied past by
    /// [`build`](BatchBuilder::build)), then the encoded records, in order.
    records: BytesMut,
    count: usize,
    base_timestamp: i64,
    max_timestamp: i64,
    /// Set when a pushed record could not be encoded because a length exceeded `i32::MAX`.
    oversized: bool,
}

impl Default for BatchBuilder {
    fn default() -> Self {
        BatchBuilder::new()
    }
}

/// Converts a length to the `i32` the format stores, or `None` if it does not fit.
fn len_i32(len: usize) -> Option<i32> {
    i32::try_from(len).ok()
}

/// Encoded size of a nullable byte field (length varint plus bytes).
fn nullable_len(bytes: Option<&[u8]>) -> Option<usize> {
    match bytes {
        None => Some(varint_len(-1)),
        Some(b) => len_i32(b.len()).map(|n| varint_len(n) + b.len()),
    }
}

fn put_nullable(buf: &mut BytesMut, bytes: Option<&[u8]>) {
    match bytes {
        None => put_varint(buf, -1),
        Some(b) => {
            // The caller checked the length fits with `nullable_len`.
            put_varint(buf, b.len() as i32);
            buf.put_slice(b);
        }
    }
}

impl BatchBuilder {
    /// An empty builder for a non-idempotent, non-transactional batch (producer id, epoch and base
    /// sequence all −1).
    pub fn new() -> Self {
        BatchBuilder {
            producer_id: NO_PRODUCER_ID,
            producer_epoch: NO_PRODUCER_EPOCH,
            base_sequence: NO_SEQUENCE,
            transactional: false,
            control: false,
            records: BytesMut::zeroed(BATCH_HEADER_LEN),
            count: 0,
            base_timestamp: 0,
            max_timestamp: 0,
            oversized: false,
        }
    }

    /// A builder whose record buffer starts with room for `bytes` bytes (for batches of a known
    /// target size, to avoid regrowing).
    pub fn with_capacity(bytes: usize) -> Self {
        let mut b = Self::new();
        b.records.reserve(bytes);
        b
    }

    /// Sets the idempotent producer's id, epoch and the sequence number of the first record.
    pub fn producer(mut self, producer_id: i64, producer_epoch: i16, base_sequence: i32) -> Self {
        self.producer_id = producer_id;
        self.producer_epoch = producer_epoch;
        self.base_sequence = base_sequence;
        self
    }

    /// Marks the batch as part of a transaction (attribute bit 4).
    pub fn transactional(mut self, yes: bool) -> Self {
        self.transactional = yes;
        self
    }

    /// Appends a record with the next offset delta.
    ///
    /// A key, value, header or record longer than `i32::MAX` bytes cannot be represented; such a record
    /// is not added and [`build`](Self::build) then fails.
    pub fn push(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[Header],
    ) {
        if self.count == 0 {
            self.base_timestamp = timestamp;
            self.max_timestamp = timestamp;
        }
        let Some(offset_delta) = len_i32(self.count) else {
            self.oversized = true;
            return;
        };
        // Deltas use wrapping arithmetic, as readers do, so any pair of timestamps round-trips.
        let timestamp_delta = timestamp.wrapping_sub(self.base_timestamp);

        let Some(body_len) = self.body_len(timestamp_delta, offset_delta, key, value, headers)
        else {
            self.oversized = true;
            return;
        };
        let Some(body_len_i32) = len_i32(body_len) else {
            self.oversized = true;
            return;
        };

        let buf = &mut self.records;
        buf.reserve(varint_len(body_len_i32) + body_len);
        put_varint(buf, body_len_i32);
        buf.put_u8(0); // record attributes: unused
        put_varlong(buf, timestamp_delta);
        put_varint(buf, offset_delta);
        put_nullable(buf, key);
        put_nullable(buf, value);
        put_varint(buf, headers.len() as i32);
        for h in headers {
            put_nullable(buf, Some(h.key.as_bytes()));
            put_nullable(buf, h.value.as_deref());
        }

        self.count += 1;
        self.max_timestamp = self.max_timestamp.max(timestamp);
    }

    /// Encoded size of a record body (everything after its length varint), or `None` if some length
    /// does not fit in an `i32`.
    fn body_len(
        &self,
        timestamp_delta: i64,
        offset_delta: i32,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[Header],
    ) -> Option<usize> {
        let mut len = 1 + varlong_len(timestamp_delta) + varint_len(offset_delta);
        len += nullable_len(key)?;
        len += nullable_len(value)?;
        len += varint_len(len_i32(headers.len())?);
        for h in headers {
            len += nullable_len(Some(h.key.as_bytes()))?;
            len += nullable_len(h.value.as_deref())?;
        }
        Some(len)
    }

    /// Number of records pushed.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no record was pushed yet.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Size in bytes of the batch [`build`](Self::build) would return now, header included.
    pub fn size_in_bytes(&self) -> usize {
        self.records.len()
    }

    /// Encodes the batch with the given base offset and a correct CRC, into a new buffer (the
    /// builder stays as it is; [`finish`](Self::finish) encodes in place instead).
    ///
    /// Fails with [`FormatError::InvalidRecord`] if no record was pushed (Kafka batches written by
    /// producers are never empty), or if the batch would exceed the format's 2 GiB limit.
    pub fn build(&self, base_offset: i64) -> Result<BytesMut, FormatError> {
        self.check()?;
        let mut buf = BytesMut::from(&self.records[..]);
        self.write_header(&mut buf, base_offset);
        Ok(buf)
    }

    /// [`build`](Self::build) without a copy: the header is written into the room the builder
    /// kept for it in front of the records, and the builder's buffer is the batch.
    pub fn finish(self, base_offset: i64) -> Result<BytesMut, FormatError> {
        self.check()?;
        Ok(self.finish_checked(base_offset))
    }

    /// [`finish`](Self::finish) once [`check`](Self::check) passed.
    fn finish_checked(mut self, base_offset: i64) -> BytesMut {
        let mut buf = std::mem::take(&mut self.records);
        self.write_header(&mut buf, base_offset);
        buf
    }

    /// Whether the batch can be encoded: not empty, and within the format's size limit.
    fn check(&self) -> Result<(), FormatError> {
        if self.count == 0 {
            return Err(FormatError::InvalidRecord(
                "cannot build a record batch with no records".to_owned(),
            ));
        }
        if self.oversized || len_i32(self.size_in_bytes() - LOG_OVERHEAD).is_none() {
            return Err(FormatError::InvalidRecord(
                "record batch exceeds the format's limit of i32::MAX bytes".to_owned(),
            ));
        }
        Ok(())
    }

    /// Writes the batch header into the first [`BATCH_HEADER_LEN`] bytes of `batch` (the records
    /// follow, `batch` is the whole batch) and the CRC over everything after it; the caller has
    /// checked the batch.
    fn write_header(&self, batch: &mut [u8], base_offset: i64) {
        let mut attributes: i16 = 0;
        if self.transactional {
            attributes |= TRANSACTIONAL_FLAG;
        }
        if self.control {
            attributes |= CONTROL_FLAG;
        }
        let batch_len = batch.len();
        let mut header = &mut batch[..BATCH_HEADER_LEN];
        header.put_i64(base_offset);
        header.put_i32((batch_len - LOG_OVERHEAD) as i32);
        header.put_i32(NO_PARTITION_LEADER_EPOCH);
        header.put_i8(super::batch::MAGIC_V2);
        header.put_u32(0); // CRC, filled in below
        header.put_i16(attributes);
        header.put_i32(self.count as i32 - 1);
        header.put_i64(self.base_timestamp);
        header.put_i64(self.max_timestamp);
        header.put_i64(self.producer_id);
        header.put_i16(self.producer_epoch);
        header.put_i32(self.base_sequence);
        header.put_i32(self.count as i32);
        let crc = compute_crc(batch);
        batch[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
    }
}

/// Encodes a transaction marker batch: the transactional and control flags set, one record at
/// `base_offset`, no sequence number.
///
/// The record's key is `version: i16 = 0, type: i16` (0 abort, 1 commit) and its value
/// `version: i16 = 0, coordinatorEpoch: i32`. Both timestamps are `timestamp`. The partition leader
/// epoch is −1; stamp it with [`set_partition_leader_epoch`](super::set_partition_leader_epoch).
pub fn control_batch(
    producer_id: i64,
    producer_epoch: i16,
    commit: bool,
    coordinator_epoch: i32,
    timestamp: i64,
    base_offset: i64,
) -> BytesMut {
    let mut key = [0u8; 4];
    key[2..4].copy_from_slice(&i16::from(commit).to_be_bytes());
    let mut value = [0u8; 6];
    value[2..6].copy_from_slice(&coordinator_epoch.to_be_bytes());

    let mut builder =
        BatchBuilder::new().producer(producer_id, producer_epoch, NO_SEQUENCE).transactional(true);
    builder.control = true;
    builder.push(timestamp, Some(&key), Some(&value), &[]);
    // One small record: neither empty nor oversized, so nothing to check.
    builder.finish_checked(base_offset)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::format::{BatchHeader, decode_records, validate_batch};
    use bytes::Bytes;

    /// Bit-at-a-time CRC-32C (reflected polynomial 0x82F63B78), independent of the `crc32c` crate.
    fn crc32c_reference(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0x82f6_3b78 } else { crc >> 1 };
            }
        }
        !crc
    }

    #[test]
    fn reference_crc_matches_the_standard_check_value() {
        assert_eq!(crc32c_reference(b"123456789"), 0xe306_9283);
        assert_eq!(crate::format::crc32c(b"123456789"), 0xe306_9283);
    }

    /// The exact bytes of a one-record batch, written out from the format description.
    #[rustfmt::skip]
    const KNOWN_BATCH: [u8; 81] = [
        0, 0, 0, 0, 0, 0, 0, 5,             // baseOffset 5
        0, 0, 0, 69,                        // batchLength 69 = 81 - 12
        0xff, 0xff, 0xff, 0xff,             // partitionLeaderEpoch -1
        2,                                  // magic
        0x75, 0x1c, 0x85, 0x18,             // crc (CRC-32C of bytes 21..81)
        0, 0x10,                            // attributes: transactional
        0, 0, 0, 0,                         // lastOffsetDelta 0
        0, 0, 1, 0x74, 0x87, 0x6e, 0x80, 0, // baseTimestamp 1_600_000_000_000
        0, 0, 1, 0x74, 0x87, 0x6e, 0x80, 0, // maxTimestamp
        0, 0, 0, 0, 0, 0, 0x03, 0xe8,       // producerId 1000
        0, 3,                               // producerEpoch 3
        0, 0, 0, 7,                         // baseSequence 7
        0, 0, 0, 1,                         // recordCount 1
        // record
        0x26,                               // length 19 (zigzag 38)
        0,                                  // attributes
        0,                                  // timestampDelta 0
        0,                                  // offsetDelta 0
        0x02, b'k',                         // key "k" (length 1 → 2)
        0x06, b'a', b'b', b'c',             // value "abc" (length 3 → 6)
        0x04,                               // 2 headers
        0x04, b'h', b'1', 0x02, b'x',       // "h1" = "x"
        0x04, b'h', b'2', 0x01,             // "h2" = null
    ];

    fn known_headers() -> Vec<Header> {
        vec![
            Header { key: "h1".into(), value: Some(Bytes::from_static(b"x")) },
            Header { key: "h2".into(), value: None },
        ]
    }

    #[test]
    fn known_answer_batch_is_encoded_byte_for_byte() {
        assert_eq!(
            crc32c_reference(&KNOWN_BATCH[21..]),
            u32::from_be_bytes([0x75, 0x1c, 0x85, 0x18])
        );
        let mut b = BatchBuilder::new().producer(1000, 3, 7).transactional(true);
        b.push(1_600_000_000_000, Some(b"k"), Some(b"abc"), &known_headers());
        assert_eq!(b.size_in_bytes(), KNOWN_BATCH.len());
        let built = b.build(5).unwrap();
        assert_eq!(&built[..], &KNOWN_BATCH[..]);
        // In place, the same bytes.
        assert_eq!(&b.finish(5).unwrap()[..], &KNOWN_BATCH[..]);
    }

    #[test]
    fn known_answer_batch_decodes() {
        let batch = Bytes::from_static(&KNOWN_BATCH);
        let h = validate_batch(&batch).unwrap();
        assert_eq!(h.last_sequence(), 7);
        assert_eq!(
            decode_records(&batch).unwrap(),
            vec![crate::format::Record {
                offset: 5,
                timestamp: 1_600_000_000_000,
                key: Some(Bytes::from_static(b"k")),
                value: Some(Bytes::from_static(b"abc")),
                headers: known_headers(),
            }]
        );
    }

    #[test]
    fn known_answer_control_batch() {
        let batch = control_batch(1000, 3, true, 9, 1_600_000_000_000, 5);
        let h = BatchHeader::parse(&batch).unwrap();
        assert_eq!(h.attributes, 0x30);
        assert_eq!(h.base_sequence, NO_SEQUENCE);
        assert_eq!(h.record_count, 1);
        // Record: length, attrs, ts delta, offset delta, key (len 4), value (len 6), no headers.
        assert_eq!(
            &batch[BATCH_HEADER_LEN..],
            &[0x20, 0, 0, 0, 0x08, 0, 0, 0, 1, 0x0c, 0, 0, 0, 0, 0, 9, 0]
        );
        assert_eq!(h.crc, crc32c_reference(&batch[21..]));
    }

    #[test]
    fn empty_builder_cannot_build() {
        let b = BatchBuilder::new();
        assert!(b.is_empty());
        assert_eq!(b.size_in_bytes(), BATCH_HEADER_LEN);
        assert!(matches!(b.build(0), Err(FormatError::InvalidRecord(_))));
        assert!(matches!(b.finish(0), Err(FormatError::InvalidRecord(_))));
    }

    #[test]
    fn base_timestamp_is_the_first_and_max_the_largest() {
        let mut b = BatchBuilder::new();
        b.push(50, None, None, &[]);
        b.push(10, None, None, &[]);
        b.push(70, None, None, &[]);
        b.push(60, None, None, &[]);
        assert_eq!(b.len(), 4);
        let batch = b.build(0).unwrap().freeze();
        let h = validate_batch(&batch).unwrap();
        assert_eq!((h.base_timestamp, h.max_timestamp), (50, 70));
        assert_eq!(h.last_offset_delta, 3);
        let ts: Vec<i64> = decode_records(&batch).unwrap().iter().map(|r| r.timestamp).collect();
        assert_eq!(ts, [50, 10, 70, 60]);
    }

    #[test]
    fn size_in_bytes_tracks_each_push() {
        let mut b = BatchBuilder::new();
        for i in 0..10u8 {
            b.push(i64::from(i), Some(&[i; 3]), Some(&[i; 200]), &[]);
            assert_eq!(b.build(0).unwrap().len(), b.size_in_bytes());
        }
    }
}
