//! Records inside an uncompressed batch: decoding, shared walking for validation, control records.

use std::ops::Range;

use bytes::Bytes;

use super::FormatError;
use super::batch::{BATCH_HEADER_LEN, BatchHeader, Compression};
use super::varint::{get_varint, get_varlong};

/// A record header: a UTF-8 key and a nullable value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Header name. Kafka does not require names to be unique within a record.
    pub key: String,
    /// Header value; `None` is a null value, distinct from an empty one.
    pub value: Option<Bytes>,
}

/// One record of a batch, with its offset and timestamp made absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Offset of the record in its partition: batch base offset plus the record's offset delta.
    pub offset: i64,
    /// Create time (base timestamp plus delta) or, in a log-append-time batch, the batch's max timestamp.
    pub timestamp: i64,
    /// Key; `None` is a null key.
    pub key: Option<Bytes>,
    /// Value; `None` is a null value, which compaction treats as a tombstone.
    pub value: Option<Bytes>,
    /// Headers in the order they were written.
    pub headers: Vec<Header>,
}

/// A record header located inside a batch; the key is already checked to be UTF-8.
#[derive(Debug, Clone)]
pub(crate) struct RawHeader<'a> {
    pub(crate) key: &'a str,
    pub(crate) value: Option<Range<usize>>,
}

/// A record located inside a batch, with positions relative to the start of the batch.
#[derive(Debug)]
pub(crate) struct RawRecord<'a, 'h> {
    pub(crate) offset: i64,
    pub(crate) timestamp: i64,
    pub(crate) key: Option<Range<usize>>,
    pub(crate) value: Option<Range<usize>>,
    pub(crate) headers: &'h [RawHeader<'a>],
}

/// Smallest possible encoded record: length, attributes, timestamp delta, offset delta, key length,
/// value length and header count, one byte each.
const MIN_RECORD_LEN: usize = 7;
/// Smallest possible encoded header: key length and value length, one byte each.
const MIN_HEADER_LEN: usize = 2;

/// Reads fields of one record, never past `end`, turning every failure into an error that names the
/// record and the field.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
    index: i32,
}

impl<'a> Cursor<'a> {
    fn invalid(&self, what: &str) -> FormatError {
        FormatError::InvalidRecord(format!(
            "record {} (at byte {} of the batch): {what}",
            self.index, self.pos
        ))
    }

    fn remaining(&self) -> usize {
        self.end - self.pos
    }

    fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..self.end).unwrap_or_default()
    }

    fn varint(&mut self, field: &str) -> Result<i32, FormatError> {
        match get_varint(self.rest()) {
            Ok((v, n)) => {
                self.pos += n;
                Ok(v)
            }
            Err(FormatError::Truncated { .. }) => {
                Err(self.invalid(&format!("{field} runs past the end of the record")))
            }
            Err(e) => Err(self.invalid(&format!("{field}: {e}"))),
        }
    }

    fn varlong(&mut self, field: &str) -> Result<i64, FormatError> {
        match get_varlong(self.rest()) {
            Ok((v, n)) => {
                self.pos += n;
                Ok(v)
            }
            Err(FormatError::Truncated { .. }) => {
                Err(self.invalid(&format!("{field} runs past the end of the record")))
            }
            Err(e) => Err(self.invalid(&format!("{field}: {e}"))),
        }
    }

    fn byte(&mut self, field: &str) -> Result<u8, FormatError> {
        match self.rest().first() {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(self.invalid(&format!("{field} runs past the end of the record"))),
        }
    }

    /// Takes `len` bytes, returning their range.
    fn take(&mut self, len: usize, field: &str) -> Result<Range<usize>, FormatError> {
        if len > self.remaining() {
            return Err(self.invalid(&format!(
                "{field} length {len} exceeds the {} bytes left in the record",
                self.remaining()
            )));
        }
        let range = self.pos..self.pos + len;
        self.pos += len;
        Ok(range)
    }

    /// Reads a varint length and that many bytes; -1 means null.
    fn nullable_bytes(&mut self, field: &str) -> Result<Option<Range<usize>>, FormatError> {
        let len = self.varint(field)?;
        match len {
            -1 => Ok(None),
            n if n < 0 => Err(self.invalid(&format!("{field} has invalid length {n}"))),
            n => self.take(n as usize, field).map(Some),
        }
    }
}

/// Walks every record of an uncompressed batch, checking it against the header, and calls `f` on each.
///
/// `batch` is the whole batch (exactly `header.total_len()` bytes). Checks that exactly
/// `record_count` records fill the records section, that each record's length matches its fields,
/// that offset deltas are strictly increasing and at most `last_offset_delta`, that key, value and
/// header lengths fit, and that header keys are UTF-8.
pub(crate) fn walk_records<'a>(
    header: &BatchHeader,
    batch: &'a [u8],
    mut f: impl FnMut(&RawRecord<'a, '_>) -> Result<(), FormatError>,
) -> Result<(), FormatError> {
    header.check_counts()?;
    if batch.len() < BATCH_HEADER_LEN {
        return Err(FormatError::Truncated { needed: BATCH_HEADER_LEN, available: batch.len() });
    }
    let end = batch.len();
    let mut pos = BATCH_HEADER_LEN;
    let mut previous_delta: i64 = -1;
    let mut headers: Vec<RawHeader<'a>> = Vec::new();
    for index in 0..header.record_count {
        if pos == end {
            return Err(FormatError::InvalidRecord(format!(
                "batch at offset {} declares {} records but holds only {index}",
                header.base_offset, header.record_count
            )));
        }
        let mut cur = Cursor { buf: batch, pos, end, index };
        let length = cur.varint("record length")?;
        let body_start = cur.pos;
        let Ok(length) = usize::try_from(length) else {
            return Err(cur.invalid(&format!("negative record length {length}")));
        };
        if length > cur.remaining() {
            return Err(cur.invalid(&format!(
                "record length {length} exceeds the {} bytes left in the batch",
                cur.remaining()
            )));
        }
        cur.end = body_start + length;

        let _attributes = cur.byte("record attributes")?;
        let timestamp_delta = cur.varlong("timestamp delta")?;
        let offset_delta = cur.varint("offset delta")?;
        if i64::from(offset_delta) <= previous_delta || offset_delta > header.last_offset_delta {
            return Err(cur.invalid(&format!(
                "offset delta {offset_delta} must be above the previous record's ({previous_delta}) and at most the batch's last offset delta {}",
                header.last_offset_delta
            )));
        }
        previous_delta = i64::from(offset_delta);
        let key = cur.nullable_bytes("key")?;
        let value = cur.nullable_bytes("value")?;
        let header_count = cur.varint("header count")?;
        let Ok(header_count) = usize::try_from(header_count) else {
            return Err(cur.invalid(&format!("negative header count {header_count}")));
        };
        if header_count > cur.remaining() / MIN_HEADER_LEN {
            return Err(cur.invalid(&format!(
                "{header_count} headers cannot fit in the {} bytes left in the record",
                cur.remaining()
            )));
        }
        headers.clear();
        for _ in 0..header_count {
            let key_len = cur.varint("header key length")?;
            let Ok(key_len) = usize::try_from(key_len) else {
                return Err(cur.invalid(&format!("negative header key length {key_len}")));
            };
            let key_range = cur.take(key_len, "header key")?;
            let Ok(key) = std::str::from_utf8(&batch[key_range]) else {
                return Err(cur.invalid("header key is not valid UTF-8"));
            };
            let value = cur.nullable_bytes("header value")?;
            headers.push(RawHeader { key, value });
        }
        if cur.pos != cur.end {
            return Err(cur.invalid(&format!(
                "record length says {length} bytes but its fields take {}",
                cur.pos - body_start
            )));
        }
        pos = cur.end;

        let timestamp = if header.has_log_append_time() {
            header.max_timestamp
        } else {
            header.base_timestamp.wrapping_add(timestamp_delta)
        };
        f(&RawRecord {
            // Cannot overflow: check_counts ensured base_offset + last_offset_delta fits.
            offset: header.base_offset + i64::from(offset_delta),
            timestamp,
            key,
            value,
            headers: &headers,
        })?;
    }
    if pos != end {
        return Err(FormatError::InvalidRecord(format!(
            "batch at offset {} has {} bytes left after its {} declared records",
            header.base_offset,
            end - pos,
            header.record_count
        )));
    }
    Ok(())
}

/// Decodes every record of one batch.
///
/// `batch` starts with a batch header; bytes after the batch's [`total_len`](BatchHeader::total_len)
/// are ignored. The CRC is not checked (see [`validate_batch`](super::validate_batch)), but every length
/// and count is, so any input gives either records or an error. Keys, values and header values are
/// zero-copy slices of `batch` (of a decompressed copy, for a compressed batch).
///
/// Fails with [`FormatError::UnsupportedCompression`] for an unknown codec, with
/// [`FormatError::InvalidRecord`] when compressed records cannot be decompressed (or exceed
/// 128 MiB), and with
/// [`FormatError::InvalidRecord`] when the records do not match the header (count, lengths, offset
/// deltas) or a header key is not UTF-8.
pub fn decode_records(batch: &Bytes) -> Result<Vec<Record>, FormatError> {
    let (header, whole) = BatchHeader::parse_whole(batch)?;
    let capacity = (header.record_count.max(0) as usize)
        .min(whole.len().saturating_sub(BATCH_HEADER_LEN) / MIN_RECORD_LEN);
    let mut records = Vec::with_capacity(capacity);
    decode_records_with(batch, |r| records.push(r))?;
    Ok(records)
}

/// Like [`decode_records`], but hands each record to `each` instead of collecting them. On an error,
/// the records already handed out came before the bad one.
pub fn decode_records_with(batch: &Bytes, mut each: impl FnMut(Record)) -> Result<(), FormatError> {
    let (header, whole) = BatchHeader::parse_whole(batch)?;
    let compression = header.compression()?;
    header.check_counts()?;
    // A compressed batch is decoded from a copy of its header followed by its decompressed records;
    // keys and values are then slices of that copy.
    let decompressed: Bytes;
    let (batch, whole): (&Bytes, &[u8]) = if compression == Compression::None {
        (batch, whole)
    } else {
        let records = super::compression::decompress(
            compression,
            &whole[BATCH_HEADER_LEN..],
            super::compression::MAX_DECOMPRESSED,
        )?;
        let mut plain = Vec::with_capacity(BATCH_HEADER_LEN + records.len());
        plain.extend_from_slice(&whole[..BATCH_HEADER_LEN]);
        plain.extend_from_slice(&records);
        decompressed = Bytes::from(plain);
        (&decompressed, &decompressed[..])
    };
    walk_records(&header, whole, |raw| {
        let slice = |r: &Option<Range<usize>>| r.clone().map(|r| batch.slice(r));
        each(Record {
            offset: raw.offset,
            timestamp: raw.timestamp,
            key: slice(&raw.key),
            value: slice(&raw.value),
            headers: raw
                .headers
                .iter()
                .map(|h| Header { key: h.key.to_owned(), value: slice(&h.value) })
                .collect(),
        });
        Ok(())
    })
}

/// The content of a transaction marker: the single record of a control batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlRecord {
    /// `true` for a commit marker, `false` for an abort marker.
    pub commit: bool,
    /// Epoch of the transaction coordinator that wrote the marker.
    pub coordinator_epoch: i32,
}

/// Reads a transaction marker from a record of a control batch.
///
/// The key must be at least 4 bytes, `version: i16` (≥ 0) then `type: i16` (0 abort, 1 commit); the
/// value at least 6 bytes, `version: i16` (≥ 0) then `coordinatorEpoch: i32`. Later versions may append
/// fields, which are ignored. Other control record types (such as Kafka's leader-change records) are
/// [`FormatError::InvalidRecord`].
pub fn decode_control_record(rec: &Record) -> Result<ControlRecord, FormatError> {
    let invalid = |what: String| {
        FormatError::InvalidRecord(format!("control record at offset {}: {what}", rec.offset))
    };
    let key = rec.key.as_deref().unwrap_or_default();
    let [kv0, kv1, t0, t1, ..] = *key else {
        return Err(invalid(format!(
            "key has {} bytes, a transaction marker key needs 4",
            key.len()
        )));
    };
    let key_version = i16::from_be_bytes([kv0, kv1]);
    if key_version < 0 {
        return Err(invalid(format!("negative key version {key_version}")));
    }
    let commit = match i16::from_be_bytes([t0, t1]) {
        0 => false,
        1 => true,
        other => {
            return Err(invalid(format!(
                "type {other} is not a transaction marker (0 abort, 1 commit)"
            )));
        }
    };
    let value = rec.value.as_deref().unwrap_or_default();
    let [vv0, vv1, e0, e1, e2, e3, ..] = *value else {
        return Err(invalid(format!(
            "value has {} bytes, a transaction marker value needs 6",
            value.len()
        )));
    };
    let value_version = i16::from_be_bytes([vv0, vv1]);
    if value_version < 0 {
        return Err(invalid(format!("negative value version {value_version}")));
    }
    Ok(ControlRecord { commit, coordinator_epoch: i32::from_be_bytes([e0, e1, e2, e3]) })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::format::batch::{CRC_OFFSET, compute_crc};
    use crate::format::{BatchBuilder, control_batch, put_varint, put_varlong, validate_batch};
    use bytes::BufMut;
    use proptest::prelude::*;

    /// Builds a batch by hand around an arbitrary records section, with a correct CRC.
    fn batch_around(records: &[u8], record_count: i32, last_offset_delta: i32) -> Bytes {
        let mut b = Vec::new();
        b.put_i64(0);
        b.put_i32((BATCH_HEADER_LEN - 12 + records.len()) as i32);
        b.put_i32(-1);
        b.put_i8(2);
        b.put_u32(0);
        b.put_i16(0);
        b.put_i32(last_offset_delta);
        b.put_i64(1000);
        b.put_i64(1000);
        b.put_i64(-1);
        b.put_i16(-1);
        b.put_i32(-1);
        b.put_i32(record_count);
        b.extend_from_slice(records);
        let crc = compute_crc(&b);
        b[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
        Bytes::from(b)
    }

    /// Encodes one record body (after the length) from raw parts.
    fn record_body(offset_delta: i32, key_len: i32, key: &[u8], tail: &[u8]) -> Vec<u8> {
        let mut body = vec![0u8];
        put_varlong(&mut body, 0);
        put_varint(&mut body, offset_delta);
        put_varint(&mut body, key_len);
        body.extend_from_slice(key);
        body.extend_from_slice(tail);
        body
    }

    fn framed(body: &[u8]) -> Vec<u8> {
        let mut r = Vec::new();
        put_varint(&mut r, body.len() as i32);
        r.extend_from_slice(body);
        r
    }

    fn decode_err(batch: &Bytes) -> String {
        assert!(validate_batch(batch).is_err());
        match decode_records(batch) {
            Err(FormatError::InvalidRecord(msg)) => msg,
            other => panic!("expected InvalidRecord, got {other:?}"),
        }
    }

    #[test]
    fn well_formed_hand_built_record_decodes() {
        // value null (-1 → 0x01), no headers.
        let body = record_body(0, 1, b"k", &[0x01, 0x00]);
        let batch = batch_around(&framed(&body), 1, 0);
        assert!(validate_batch(&batch).is_ok());
        let records = decode_records(&batch).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].key.as_deref(), Some(&b"k"[..]));
        assert_eq!(records[0].value, None);
        assert_eq!(records[0].timestamp, 1000);
    }

    #[test]
    fn record_length_must_match_its_fields() {
        let mut body = record_body(0, 1, b"k", &[0x01, 0x00]);
        body.push(0); // one byte the fields do not account for
        let msg = decode_err(&batch_around(&framed(&body), 1, 0));
        assert!(msg.contains("record length says"), "{msg}");

        let body = record_body(0, 1, b"k", &[0x01, 0x00]);
        let mut rec = Vec::new();
        put_varint(&mut rec, body.len() as i32 + 5);
        rec.extend_from_slice(&body);
        let msg = decode_err(&batch_around(&rec, 1, 0));
        assert!(msg.contains("exceeds"), "{msg}");

        let mut rec = Vec::new();
        put_varint(&mut rec, -3);
        rec.extend_from_slice(&body);
        let msg = decode_err(&batch_around(&rec, 1, 0));
        assert!(msg.contains("negative record length"), "{msg}");
    }

    #[test]
    fn lengths_larger_than_the_record_are_rejected_without_allocating() {
        // Key length claims 1 GiB.
        let body = record_body(0, 1 << 30, b"", &[]);
        let msg = decode_err(&batch_around(&framed(&body), 1, 0));
        assert!(msg.contains("key length"), "{msg}");

        // Header count claims two billion headers.
        let mut tail = vec![0x01];
        put_varint(&mut tail, i32::MAX);
        let body = record_body(0, -1, b"", &tail);
        let msg = decode_err(&batch_around(&framed(&body), 1, 0));
        assert!(msg.contains("headers cannot fit"), "{msg}");

        // Record count claims two billion records.
        let body = record_body(0, -1, b"", &[0x01, 0x00]);
        let msg = decode_err(&batch_around(&framed(&body), i32::MAX, i32::MAX - 1));
        assert!(msg.contains("holds only 1"), "{msg}");
    }

    #[test]
    fn invalid_lengths_and_counts_are_rejected() {
        let body = record_body(0, -2, b"", &[0x01, 0x00]);
        let msg = decode_err(&batch_around(&framed(&body), 1, 0));
        assert!(msg.contains("key has invalid length -2"), "{msg}");

        let body = record_body(0, -1, b"", &[0x01, 0x01]); // header count -1
        let msg = decode_err(&batch_around(&framed(&body), 1, 0));
        assert!(msg.contains("negative header count"), "{msg}");

        // One header with key length -1.
        let body = record_body(0, -1, b"", &[0x01, 0x02, 0x01, 0x01]);
        let msg = decode_err(&batch_around(&framed(&body), 1, 0));
        assert!(msg.contains("negative header key length"), "{msg}");

        // One header with a key that is not UTF-8.
        let body = record_body(0, -1, b"", &[0x01, 0x02, 0x02, 0xff, 0x01]);
        let msg = decode_err(&batch_around(&framed(&body), 1, 0));
        assert!(msg.contains("UTF-8"), "{msg}");
    }

    #[test]
    fn trailing_bytes_after_the_records_are_rejected() {
        let mut records = framed(&record_body(0, -1, b"", &[0x01, 0x00]));
        records.push(0);
        let msg = decode_err(&batch_around(&records, 1, 0));
        assert!(msg.contains("bytes left after"), "{msg}");
    }

    #[test]
    fn offset_deltas_must_increase_within_the_last_offset_delta() {
        let mut records = framed(&record_body(1, -1, b"", &[0x01, 0x00]));
        records.extend(framed(&record_body(1, -1, b"", &[0x01, 0x00])));
        let msg = decode_err(&batch_around(&records, 2, 1));
        assert!(msg.contains("offset delta 1"), "{msg}");

        let records = framed(&record_body(3, -1, b"", &[0x01, 0x00]));
        let msg = decode_err(&batch_around(&records, 1, 2));
        assert!(msg.contains("last offset delta 2"), "{msg}");

        let records = framed(&record_body(-1, -1, b"", &[0x01, 0x00]));
        decode_err(&batch_around(&records, 1, 0));

        // Gaps left by compaction are fine.
        let mut records = framed(&record_body(0, -1, b"", &[0x01, 0x00]));
        records.extend(framed(&record_body(5, -1, b"", &[0x01, 0x00])));
        let decoded = decode_records(&batch_around(&records, 2, 9)).unwrap();
        assert_eq!(decoded.iter().map(|r| r.offset).collect::<Vec<_>>(), [0, 5]);
    }

    #[test]
    fn empty_batches_decode_to_no_records() {
        let batch = batch_around(&[], 0, 0);
        assert_eq!(validate_batch(&batch).unwrap().record_count, 0);
        assert_eq!(decode_records(&batch), Ok(vec![]));
    }

    #[test]
    fn keys_and_values_share_the_batch_buffer() {
        let mut b = BatchBuilder::new();
        b.push(5, Some(b"key"), Some(b"value"), &[]);
        let batch = b.build(0).unwrap().freeze();
        let records = decode_records(&batch).unwrap();
        let value = records[0].value.as_ref().unwrap();
        let start = batch.as_ptr() as usize;
        let at = value.as_ptr() as usize;
        assert!(at > start && at + value.len() <= start + batch.len());
    }

    #[test]
    fn control_records_round_trip() {
        for (commit, epoch) in [(true, 0), (false, 7), (true, i32::MAX)] {
            let batch = control_batch(42, 3, commit, epoch, 1_000, 500).freeze();
            let h = validate_batch(&batch).unwrap();
            assert!(h.is_control() && h.is_transactional());
            assert_eq!((h.producer_id, h.producer_epoch, h.base_offset), (42, 3, 500));
            let records = decode_records(&batch).unwrap();
            assert_eq!(records.len(), 1);
            assert_eq!(
                decode_control_record(&records[0]),
                Ok(ControlRecord { commit, coordinator_epoch: epoch })
            );
        }
    }

    fn control(key: Option<&'static [u8]>, value: Option<&'static [u8]>) -> Record {
        Record {
            offset: 9,
            timestamp: 0,
            key: key.map(Bytes::from_static),
            value: value.map(Bytes::from_static),
            headers: vec![],
        }
    }

    #[test]
    fn malformed_control_records_are_rejected() {
        let value: &[u8] = &[0, 0, 0, 0, 0, 5];
        assert!(decode_control_record(&control(None, Some(value))).is_err());
        assert!(decode_control_record(&control(Some(&[0, 0, 0]), Some(value))).is_err());
        assert!(decode_control_record(&control(Some(&[0, 0, 0, 2]), Some(value))).is_err());
        assert!(decode_control_record(&control(Some(&[0xff, 0xff, 0, 1]), Some(value))).is_err());
        assert!(decode_control_record(&control(Some(&[0, 0, 0, 1]), None)).is_err());
        assert!(decode_control_record(&control(Some(&[0, 0, 0, 1]), Some(&[0, 0, 0]))).is_err());
        assert!(
            decode_control_record(&control(Some(&[0, 0, 0, 1]), Some(&[0x80, 0, 0, 0, 0, 5])))
                .is_err()
        );
        // Newer versions with extra trailing fields still parse.
        assert_eq!(
            decode_control_record(&control(
                Some(&[0, 1, 0, 1, 9]),
                Some(&[0, 1, 0, 0, 0, 5, 9, 9])
            )),
            Ok(ControlRecord { commit: true, coordinator_epoch: 5 })
        );
    }

    type RecordSpec = (i64, Option<Vec<u8>>, Option<Vec<u8>>, Vec<(String, Option<Vec<u8>>)>);

    fn arb_records() -> impl Strategy<Value = Vec<RecordSpec>> {
        let bytes = || proptest::collection::vec(any::<u8>(), 0..64);
        proptest::collection::vec(
            (
                prop_oneof![any::<i64>(), 0i64..2_000_000_000_000, Just(-1i64)],
                proptest::option::of(bytes()),
                proptest::option::of(bytes()),
                proptest::collection::vec((any::<String>(), proptest::option::of(bytes())), 0..4),
            ),
            1..20,
        )
    }

    proptest! {
        #[test]
        fn any_records_round_trip_through_build_validate_decode(
            specs in arb_records(),
            base_offset in prop_oneof![0i64..1_000, 0i64..i64::MAX - 100],
            producer in proptest::option::of((0i64..i64::MAX, 0i16..i16::MAX, 0i32..i32::MAX)),
            transactional in any::<bool>(),
        ) {
            let mut b = BatchBuilder::new().transactional(transactional);
            if let Some((id, epoch, seq)) = producer {
                b = b.producer(id, epoch, seq);
            }
            let mut expected = Vec::new();
            for (i, (ts, key, value, headers)) in specs.iter().enumerate() {
                let headers: Vec<Header> = headers
                    .iter()
                    .map(|(k, v)| Header { key: k.clone(), value: v.clone().map(Bytes::from) })
                    .collect();
                b.push(*ts, key.as_deref(), value.as_deref(), &headers);
                expected.push(Record {
                    offset: base_offset + i as i64,
                    timestamp: *ts,
                    key: key.clone().map(Bytes::from),
                    value: value.clone().map(Bytes::from),
                    headers,
                });
            }
            prop_assert_eq!(b.len(), specs.len());
            let built = b.build(base_offset).unwrap();
            prop_assert_eq!(built.len(), b.size_in_bytes());
            let batch = built.freeze();

            let h = validate_batch(&batch).unwrap();
            prop_assert_eq!(h.total_len(), batch.len());
            prop_assert_eq!(h.record_count as usize, specs.len());
            prop_assert_eq!(h.last_offset_delta as usize, specs.len() - 1);
            prop_assert_eq!(h.base_timestamp, specs[0].0);
            prop_assert_eq!(h.max_timestamp, specs.iter().map(|s| s.0).max().unwrap());
            prop_assert_eq!(h.is_transactional(), transactional);
            prop_assert!(!h.is_control());
            match producer {
                Some((id, epoch, seq)) => {
                    prop_assert_eq!((h.producer_id, h.producer_epoch, h.base_sequence), (id, epoch, seq));
                }
                None => {
                    prop_assert_eq!((h.producer_id, h.producer_epoch, h.base_sequence), (-1, -1, -1));
                }
            }
            prop_assert_eq!(decode_records(&batch).unwrap(), expected);
        }
    }
}
