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

/// A varint decoder: the value and the number of bytes read.
type VarintDecoder<T> = fn(&[u8]) -> Result<(T, usize), FormatError>;

/// Reads fields of one record, never past `end`, turning every failure into an error that names the
/// record and the field.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
    index: i32,
}

impl<'a> Cursor<'a> {
    #[cold]
    #[inline(never)]
    fn invalid(&self, what: &str) -> FormatError {
        FormatError::InvalidRecord(format!(
            "record {} (at byte {} of the batch): {what}",
            self.index, self.pos
        ))
    }

    #[inline(always)]
    fn remaining(&self) -> usize {
        self.end - self.pos
    }

    fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..self.end).unwrap_or_default()
    }

    /// The unsigned value of a varint of one or two bytes at the cursor (the common cases: record
    /// lengths and value lengths below 8 KiB), and its length.
    #[inline(always)]
    fn short(&self) -> Option<(u32, usize)> {
        if self.pos < self.end {
            let b0 = *self.buf.get(self.pos)?;
            if b0 < 0x80 {
                return Some((u32::from(b0), 1));
            }
            if self.pos + 1 < self.end {
                let b1 = *self.buf.get(self.pos + 1)?;
                if b1 < 0x80 {
                    return Some((u32::from(b0 & 0x7f) | (u32::from(b1) << 7), 2));
                }
            }
        }
        None
    }

    #[inline(always)]
    fn varint(&mut self, field: &str) -> Result<i32, FormatError> {
        if let Some((n, len)) = self.short() {
            self.pos += len;
            // Zigzag: at most 14 bits, so the conversion is lossless.
            let n = n as i32;
            return Ok((n >> 1) ^ -(n & 1));
        }
        self.varint_long(field)
    }

    #[inline(never)]
    fn varint_long(&mut self, field: &str) -> Result<i32, FormatError> {
        self.decode(field, get_varint)
    }

    /// Decodes a field at the cursor with `get` (a varint decoder) and moves past it; errors name
    /// the field.
    fn decode<T>(&mut self, field: &str, get: VarintDecoder<T>) -> Result<T, FormatError> {
        match get(self.rest()) {
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

    #[inline(always)]
    fn varlong(&mut self, field: &str) -> Result<i64, FormatError> {
        if let Some((n, len)) = self.short() {
            self.pos += len;
            let n = i64::from(n);
            return Ok((n >> 1) ^ -(n & 1));
        }
        self.varlong_long(field)
    }

    #[inline(never)]
    fn varlong_long(&mut self, field: &str) -> Result<i64, FormatError> {
        self.decode(field, get_varlong)
    }

    #[inline(always)]
    fn byte(&mut self, field: &str) -> Result<u8, FormatError> {
        if self.pos < self.end {
            if let Some(&b) = self.buf.get(self.pos) {
                self.pos += 1;
                return Ok(b);
            }
        }
        Err(self.invalid(&format!("{field} runs past the end of the record")))
    }

    /// Takes `len` bytes, returning their range.
    #[inline(always)]
    fn take(&mut self, len: usize, field: &str) -> Result<Range<usize>, FormatError> {
        if len > self.remaining() {
            return Err(self.too_long(len, field));
        }
        let range = self.pos..self.pos + len;
        self.pos += len;
        Ok(range)
    }

    #[cold]
    #[inline(never)]
    fn too_long(&self, len: usize, field: &str) -> FormatError {
        self.invalid(&format!(
            "{field} length {len} exceeds the {} bytes left in the record",
            self.remaining()
        ))
    }

    /// Reads a varint length and that many bytes; -1 means null.
    #[inline(always)]
    fn nullable_bytes(&mut self, field: &str) -> Result<Option<Range<usize>>, FormatError> {
        let len = self.varint(field)?;
        match len {
            -1 => Ok(None),
            n if n < 0 => Err(self.invalid(&format!("{field} has invalid length {n}"))),
            n => self.take(n as usize, field).map(Some),
        }
    }
}

/// Where one record's fields lie in its batch (positions from the start of the batch).
#[derive(Debug, Clone)]
struct Located {
    offset: i64,
    timestamp: i64,
    key: Option<Range<usize>>,
    value: Option<Range<usize>>,
    /// The encoded headers (after the header count), already checked.
    headers: Range<usize>,
    header_count: usize,
}

/// Steps through the records of a batch one at a time, checking each against the header: exactly
/// `record_count` records fill the records section, each record's length matches its fields, offset
/// deltas are strictly increasing and at most `last_offset_delta`, key, value and header lengths fit,
/// and header keys are UTF-8.
///
/// `batch` is the whole batch (exactly `header.total_len()` bytes) or, for a compressed batch, its
/// header followed by the decompressed records.
#[derive(Debug, Clone)]
struct Walker<'a> {
    header: BatchHeader,
    batch: &'a [u8],
    pos: usize,
    index: i32,
    previous_delta: i64,
    failed: bool,
}

impl<'a> Walker<'a> {
    fn new(header: &BatchHeader, batch: &'a [u8]) -> Result<Self, FormatError> {
        header.check_counts()?;
        if batch.len() < BATCH_HEADER_LEN {
            return Err(FormatError::Truncated {
                needed: BATCH_HEADER_LEN,
                available: batch.len(),
            });
        }
        Ok(Self {
            header: *header,
            batch,
            pos: BATCH_HEADER_LEN,
            index: 0,
            previous_delta: -1,
            failed: false,
        })
    }

    /// The next record, `None` after the last one (or after an error).
    #[inline(always)]
    fn next_located(&mut self) -> Option<Result<Located, FormatError>> {
        if self.failed {
            return None;
        }
        if self.index == self.header.record_count {
            if self.pos != self.batch.len() {
                self.failed = true;
                return Some(Err(self.leftover()));
            }
            return None;
        }
        if let Some(located) = self.fast_step() {
            return Some(Ok(located));
        }
        Some(self.slow_step())
    }

    /// [`step`](Self::step) out of line, for what [`fast_step`](Self::fast_step) leaves: keeps the
    /// fast path small enough to inline into the caller's loop.
    #[inline(never)]
    fn slow_step(&mut self) -> Result<Located, FormatError> {
        let step = self.step();
        if step.is_err() {
            self.failed = true;
        }
        step
    }

    /// The common case of [`step`](Self::step) without error reporting: a record without headers
    /// whose varints are at most three bytes long (four for the timestamp delta) and whose fields
    /// all check out. `None` on anything else, and `step` then walks the same record again and says
    /// what is wrong (or accepts what this path does not handle).
    ///
    /// Fields are read without checking them against the record's end one by one: the record is
    /// accepted only if its fields end exactly one byte (a zero header count) before the end its
    /// length gives, so a field that overran the record, or bytes left over, fall to `step`.
    #[inline(always)]
    fn fast_step(&mut self) -> Option<Located> {
        let header = &self.header;
        let buf = self.batch;
        let pos = self.pos;
        // Everything up to the key's bytes (length, attributes, timestamp and offset deltas, key
        // length: at most 3 + 1 + 4 + 3 + 3 bytes on this path) is read from one chunk, after one
        // bounds check; a record closer than that to the end of its batch takes `step`.
        let head: &[u8; HEAD] = buf.get(pos..)?.first_chunk()?;
        let mut i = 0;
        let length = head_varint::<3>(head, &mut i)?;
        if length & 1 != 0 {
            return None; // a negative length
        }
        let end = pos + i + (length >> 1) as usize;
        i += 1; // attributes
        let timestamp_delta = head_varint::<4>(head, &mut i)?;
        let timestamp_delta = i64::from(timestamp_delta >> 1) ^ -i64::from(timestamp_delta & 1);
        let offset_delta = head_varint::<3>(head, &mut i)?;
        let offset_delta = (offset_delta >> 1) as i32 ^ -((offset_delta & 1) as i32);
        if i64::from(offset_delta) <= self.previous_delta || offset_delta > header.last_offset_delta
        {
            return None;
        }
        let key_len = head_varint::<3>(head, &mut i)?;
        let mut p = pos + i;
        let key = nullable_range(key_len, &mut p)?;
        let value = short_bytes(buf, &mut p)?;
        // The fields must end one byte before the record does, and that byte is a zero header
        // count; this also checks that the key and value lie inside the record (and the batch).
        if p + 1 != end || buf.get(p) != Some(&0) {
            return None; // headers, leftover bytes, or fields past the record's end
        }
        let timestamp = if header.has_log_append_time() {
            header.max_timestamp
        } else {
            header.base_timestamp.wrapping_add(timestamp_delta)
        };
        self.previous_delta = i64::from(offset_delta);
        self.pos = end;
        self.index += 1;
        Some(Located {
            offset: header.base_offset + i64::from(offset_delta),
            timestamp,
            key,
            value,
            headers: end..end,
            header_count: 0,
        })
    }

    #[cold]
    fn leftover(&self) -> FormatError {
        FormatError::InvalidRecord(format!(
            "batch at offset {} has {} bytes left after its {} declared records",
            self.header.base_offset,
            self.batch.len() - self.pos,
            self.header.record_count
        ))
    }

    #[cold]
    fn missing(&self) -> FormatError {
        FormatError::InvalidRecord(format!(
            "batch at offset {} declares {} records but holds only {}",
            self.header.base_offset, self.header.record_count, self.index
        ))
    }

    #[inline(always)]
    fn step(&mut self) -> Result<Located, FormatError> {
        let header = &self.header;
        let end = self.batch.len();
        if self.pos == end {
            return Err(self.missing());
        }
        let mut cur = Cursor { buf: self.batch, pos: self.pos, end, index: self.index };
        let length = cur.varint("record length")?;
        let body_start = cur.pos;
        let length = match usize::try_from(length) {
            Ok(l) if l <= cur.remaining() => l,
            _ => return Err(bad_length(&cur, length)),
        };
        cur.end = body_start + length;

        let _attributes = cur.byte("record attributes")?;
        let timestamp_delta = cur.varlong("timestamp delta")?;
        let offset_delta = cur.varint("offset delta")?;
        if i64::from(offset_delta) <= self.previous_delta || offset_delta > header.last_offset_delta
        {
            return Err(bad_delta(&cur, offset_delta, self.previous_delta, header));
        }
        let key = cur.nullable_bytes("key")?;
        let value = cur.nullable_bytes("value")?;
        let header_count = cur.varint("header count")?;
        let header_count = match usize::try_from(header_count) {
            Ok(n) if n <= cur.remaining() / MIN_HEADER_LEN => n,
            _ => return Err(bad_header_count(&cur, header_count)),
        };
        let headers_start = cur.pos;
        for _ in 0..header_count {
            next_header(&mut cur)?;
        }
        if cur.pos != cur.end {
            return Err(cur.invalid(&format!(
                "record length says {length} bytes but its fields take {}",
                cur.pos - body_start
            )));
        }
        let timestamp = if header.has_log_append_time() {
            header.max_timestamp
        } else {
            header.base_timestamp.wrapping_add(timestamp_delta)
        };
        self.previous_delta = i64::from(offset_delta);
        self.pos = cur.end;
        self.index += 1;
        Ok(Located {
            // Cannot overflow: check_counts ensured base_offset + last_offset_delta fits.
            offset: header.base_offset + i64::from(offset_delta),
            timestamp,
            key,
            value,
            headers: headers_start..cur.end,
            header_count,
        })
    }
}

#[cold]
fn bad_length(cur: &Cursor<'_>, length: i32) -> FormatError {
    if length < 0 {
        cur.invalid(&format!("negative record length {length}"))
    } else {
        cur.invalid(&format!(
            "record length {length} exceeds the {} bytes left in the batch",
            cur.remaining()
        ))
    }
}

#[cold]
fn bad_delta(cur: &Cursor<'_>, delta: i32, previous: i64, header: &BatchHeader) -> FormatError {
    cur.invalid(&format!(
        "offset delta {delta} must be above the previous record's ({previous}) and at most the batch's last offset delta {}",
        header.last_offset_delta
    ))
}

#[cold]
fn bad_header_count(cur: &Cursor<'_>, count: i32) -> FormatError {
    if count < 0 {
        cur.invalid(&format!("negative header count {count}"))
    } else {
        cur.invalid(&format!(
            "{count} headers cannot fit in the {} bytes left in the record",
            cur.remaining()
        ))
    }
}

/// An unsigned varint of at most `N` bytes (`N` <= 4) for [`Walker::fast_step`], read from the
/// `N` bytes at `p` (so it needs them in `buf`, even when the varint is shorter): one bounds check
/// and no loop. `None` when it is longer or `buf` ends first.
#[inline(always)]
fn short_varint<const N: usize>(buf: &[u8], p: &mut usize) -> Option<u32> {
    let w: &[u8; N] = buf.get(*p..)?.first_chunk()?;
    let mut value = 0u32;
    for (i, &b) in w.iter().enumerate() {
        value |= u32::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            *p += i + 1;
            return Some(value);
        }
    }
    None
}

/// How many bytes of a record [`Walker::fast_step`] reads its head from (see there).
const HEAD: usize = 16;

/// An unsigned varint of at most `N` bytes at `head[*i]`, as [`short_varint`] but within a chunk
/// whose bounds were checked once. `*i + N` never exceeds [`HEAD`] on `fast_step`'s path (3 + 1 +
/// 4 + 3 + 3 bytes at most); the index is masked so that the compiler knows it too.
#[inline(always)]
fn head_varint<const N: usize>(head: &[u8; HEAD], i: &mut usize) -> Option<u32> {
    let mut value = 0u32;
    for k in 0..N {
        let b = head[(*i + k) % HEAD];
        value |= u32::from(b & 0x7f) << (7 * k);
        if b < 0x80 {
            *i += k + 1;
            return Some(value);
        }
    }
    None
}

/// The range of a nullable byte field whose zigzag length `n` was read, starting at `*p`; moves
/// `*p` past it. `None` for a negative length other than -1 (null). The range may run past the
/// record; the caller's final check catches that.
#[inline(always)]
fn nullable_range(n: u32, p: &mut usize) -> Option<Option<Range<usize>>> {
    match n {
        1 => Some(None), // zigzag -1: null
        n if n & 1 == 0 => {
            let start = *p;
            *p = start + (n >> 1) as usize;
            Some(Some(start..*p))
        }
        _ => None,
    }
}

/// A nullable byte field (varint length, then the bytes) for [`Walker::fast_step`]. The range may
/// run past the record; the caller's final check catches that.
#[inline(always)]
fn short_bytes(buf: &[u8], p: &mut usize) -> Option<Option<Range<usize>>> {
    let n = short_varint::<3>(buf, p)?;
    nullable_range(n, p)
}

/// Reads one record header at the cursor: its UTF-8 key and the range of its nullable value.
fn next_header<'a>(cur: &mut Cursor<'a>) -> Result<(&'a str, Option<Range<usize>>), FormatError> {
    let key_len = cur.varint("header key length")?;
    let Ok(key_len) = usize::try_from(key_len) else {
        return Err(cur.invalid(&format!("negative header key length {key_len}")));
    };
    let key_range = cur.take(key_len, "header key")?;
    let Ok(key) = std::str::from_utf8(&cur.buf[key_range]) else {
        return Err(cur.invalid("header key is not valid UTF-8"));
    };
    let value = cur.nullable_bytes("header value")?;
    Ok((key, value))
}

/// Walks every record of an uncompressed batch, checking it against the header (see [`Walker`]),
/// and calls `f` on each.
///
/// `batch` is the whole batch (exactly `header.total_len()` bytes).
pub(crate) fn walk_records<'a>(
    header: &BatchHeader,
    batch: &'a [u8],
    mut f: impl FnMut(&RawRecord<'a, '_>) -> Result<(), FormatError>,
) -> Result<(), FormatError> {
    let mut walker = Walker::new(header, batch)?;
    let mut headers: Vec<RawHeader<'a>> = Vec::new();
    while let Some(located) = walker.next_located() {
        let located = located?;
        headers.clear();
        if located.header_count > 0 {
            let mut cur = Cursor {
                buf: batch,
                pos: located.headers.start,
                end: located.headers.end,
                index: walker.index - 1,
            };
            for _ in 0..located.header_count {
                let (key, value) = next_header(&mut cur)?;
                headers.push(RawHeader { key, value });
            }
        }
        f(&RawRecord {
            offset: located.offset,
            timestamp: located.timestamp,
            key: located.key,
            value: located.value,
            headers: &headers,
        })?;
    }
    Ok(())
}

/// One record of a batch, borrowed from the batch's bytes: nothing is copied or counted.
///
/// Produced by [`RecordRefs`]; the record has already been checked against its batch header.
#[derive(Debug, Clone, Copy)]
pub struct RecordRef<'a> {
    /// Offset of the record in its partition.
    pub offset: i64,
    /// Create time, or the batch's max timestamp in a log-append-time batch.
    pub timestamp: i64,
    /// Key; `None` is a null key.
    pub key: Option<&'a [u8]>,
    /// Value; `None` is a null value (a tombstone).
    pub value: Option<&'a [u8]>,
    headers: &'a [u8],
    header_count: usize,
}

impl<'a> RecordRef<'a> {
    /// The record's headers in the order they were written: name and nullable value.
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, Option<&'a [u8]>)> + 'a {
        let buf = self.headers;
        let mut cur = Cursor { buf, pos: 0, end: buf.len(), index: 0 };
        // The walker checked these headers already; a failure here cannot happen and ends the walk.
        (0..self.header_count).map_while(move |_| {
            next_header(&mut cur).ok().map(|(key, value)| (key, value.map(|r| &buf[r])))
        })
    }

    /// How many headers the record has.
    pub fn header_count(&self) -> usize {
        self.header_count
    }

    /// An owned copy of the record (key, value and headers copied out of the batch).
    pub fn to_record(&self) -> Record {
        Record {
            offset: self.offset,
            timestamp: self.timestamp,
            key: self.key.map(Bytes::copy_from_slice),
            value: self.value.map(Bytes::copy_from_slice),
            headers: self
                .headers()
                .map(|(key, value)| Header {
                    key: key.to_owned(),
                    value: value.map(Bytes::copy_from_slice),
                })
                .collect(),
        }
    }
}

/// The records of one uncompressed batch as borrowed [`RecordRef`]s, checked one at a time as they
/// are reached (see [`validate_batch`](super::validate_batch) for what is checked). After an error the
/// iterator ends. The CRC is not checked here: see [`verify_crc`](super::verify_crc).
#[derive(Debug, Clone)]
pub struct RecordRefs<'a> {
    walker: Walker<'a>,
}

impl<'a> RecordRefs<'a> {
    /// The records of the uncompressed batch at the start of `batch`; fails when the header is
    /// malformed, the batch is incomplete or its records are compressed.
    pub fn new(batch: &'a [u8]) -> Result<Self, FormatError> {
        let (header, whole) = BatchHeader::parse_whole(batch)?;
        if header.compression()? != Compression::None {
            return Err(FormatError::InvalidRecord(format!(
                "batch at offset {} is compressed ({:?}); decompress it first",
                header.base_offset,
                header.compression()?
            )));
        }
        Self::with_header(&header, whole)
    }

    /// The records of `batch`, which is `header`'s batch with its records section already
    /// decompressed (or not compressed).
    pub(crate) fn with_header(header: &BatchHeader, batch: &'a [u8]) -> Result<Self, FormatError> {
        Ok(Self { walker: Walker::new(header, batch)? })
    }

    /// Where the next record starts, from the start of the batch.
    #[inline(always)]
    pub(crate) fn at(&self) -> usize {
        self.walker.pos
    }

    /// The next record if it takes the walker's fast path (see `Walker::fast_step`); `None`
    /// says nothing about the rest: [`next`](Iterator::next) then gives the exact answer. Lets a
    /// caller's loop skip the `Option<Result<..>>` of the common case.
    #[inline(always)]
    pub(crate) fn next_fast(&mut self) -> Option<RecordRef<'a>> {
        let walker = &mut self.walker;
        if walker.failed || walker.index == walker.header.record_count {
            return None;
        }
        let l = walker.fast_step()?;
        Some(located_ref(walker.batch, l))
    }
}

/// A located record as the borrowed record it names in `batch`.
#[inline(always)]
fn located_ref(batch: &[u8], l: Located) -> RecordRef<'_> {
    let slice = |r: Option<Range<usize>>| r.map(|r| &batch[r]);
    RecordRef {
        offset: l.offset,
        timestamp: l.timestamp,
        key: slice(l.key),
        value: slice(l.value),
        headers: &batch[l.headers],
        header_count: l.header_count,
    }
}

impl<'a> Iterator for RecordRefs<'a> {
    type Item = Result<RecordRef<'a>, FormatError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let batch = self.walker.batch;
        let located = self.walker.next_located()?;
        Some(located.map(|l| located_ref(batch, l)))
    }

    /// Internal iteration (`for_each`, `fold`, `count`, ..): the walker is a local here, so its
    /// position stays in a register from one record to the next.
    #[inline]
    fn fold<B, F: FnMut(B, Self::Item) -> B>(mut self, init: B, mut f: F) -> B {
        let mut acc = init;
        loop {
            // A copy whose address is never taken (the slow path's `next` takes `self`'s), so
            // the compiler keeps its fields in registers.
            let mut local = self.clone();
            while let Some(r) = local.next_fast() {
                acc = f(acc, Ok(r));
            }
            self = local;
            match self.next() {
                Some(item) => acc = f(acc, item),
                None => return acc,
            }
        }
    }
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
    let (header, _) = BatchHeader::parse_whole(batch)?;
    let batch = decompressed(&header, batch)?;
    let (batch, whole): (&Bytes, &[u8]) = (&batch, &batch);
    walk_records(&header, whole, |raw| {
        let slice = |r: &Option<Range<usize>>| r.clone().map(|r| batch.slice(r));
        each(Record {
            offset: raw.offset,
            timestamp: raw.timestamp,
            key: slice(&raw.key),
            value: slice(&raw.value),
            // Most records have no headers: an empty vector without going through `collect`.
            headers: if raw.headers.is_empty() {
                Vec::new()
            } else {
                raw.headers
                    .iter()
                    .map(|h| Header { key: h.key.to_owned(), value: slice(&h.value) })
                    .collect()
            },
        });
        Ok(())
    })
}

/// `header`'s batch (at the start of `batch`) with its records section decompressed: a slice of
/// `batch` when it is not compressed, else a copy of the header followed by the decompressed records
/// (at most 128 MiB). Walk the result with the original header.
pub(crate) fn decompressed(header: &BatchHeader, batch: &Bytes) -> Result<Bytes, FormatError> {
    let compression = header.compression()?;
    header.check_counts()?;
    let total = header.total_len();
    if batch.len() < total {
        return Err(FormatError::Truncated { needed: total, available: batch.len() });
    }
    if compression == Compression::None {
        return Ok(batch.slice(..total));
    }
    let records = super::compression::decompress(
        compression,
        batch.get(BATCH_HEADER_LEN..total).unwrap_or_default(),
        super::compression::MAX_DECOMPRESSED,
    )?;
    let mut plain = Vec::with_capacity(BATCH_HEADER_LEN + records.len());
    plain.extend_from_slice(&batch[..BATCH_HEADER_LEN]);
    plain.extend_from_slice(&records);
    Ok(Bytes::from(plain))
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

    /// A builder holding `specs`' records.
    fn builder_of(specs: &[RecordSpec]) -> BatchBuilder {
        let mut b = BatchBuilder::new();
        for (ts, key, value, headers) in specs {
            let headers: Vec<Header> = headers
                .iter()
                .map(|(k, v)| Header { key: k.clone(), value: v.clone().map(Bytes::from) })
                .collect();
            b.push(*ts, key.as_deref(), value.as_deref(), &headers);
        }
        b
    }

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
            prop_assert_eq!(&b.clone().finish(base_offset).unwrap(), &built, "in place, the same");
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

        /// Whatever the walker's fast path accepts, the checked step accepts too, with the same
        /// record and the same position after it: the fast path only skips checks, it never
        /// decides differently. Values up to 9000 bytes give three-byte record lengths.
        #[test]
        fn fast_path_agrees_with_the_checked_step(
            specs in arb_records(),
            big in proptest::collection::vec(prop_oneof![0usize..200, 8000usize..9000], 0..4),
            flips in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 0..4),
        ) {
            let mut b = builder_of(&specs);
            for (i, len) in big.iter().enumerate() {
                b.push(i as i64, None, Some(&vec![7u8; *len]), &[]);
            }
            let mut batch = b.build(0).unwrap();
            for (at, byte) in &flips {
                let i = BATCH_HEADER_LEN + at.index(batch.len() - BATCH_HEADER_LEN);
                batch[i] = *byte;
            }
            let (header, whole) = BatchHeader::parse_whole(&batch).unwrap();
            let mut walker = Walker::new(&header, whole).unwrap();
            while walker.index < header.record_count {
                let (mut a, mut b) = (walker.clone(), walker.clone());
                if let Some(l) = a.fast_step() {
                    prop_assert_eq!(b.step().map(|l| format!("{l:?}")), Ok(format!("{l:?}")));
                    prop_assert_eq!((a.pos, a.index, a.previous_delta), (b.pos, b.index, b.previous_delta));
                }
                match walker.next_located() {
                    Some(Ok(_)) => {}
                    _ => break,
                }
            }
        }

        /// The borrowed walk (with its fast path) accepts exactly what the checked decoder accepts
        /// and yields the same records, for valid batches and for batches with bytes changed.
        #[test]
        fn borrowed_walk_agrees_with_decode_records(
            specs in arb_records(),
            base_offset in 0i64..1_000_000,
            flips in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 0..3),
        ) {
            let b = builder_of(&specs);
            let mut batch = b.build(base_offset).unwrap();
            // Change bytes after the header (records only: the header's counts stay as built).
            for (at, byte) in &flips {
                let i = BATCH_HEADER_LEN + at.index(batch.len() - BATCH_HEADER_LEN);
                batch[i] = *byte;
            }
            let batch = batch.freeze();
            let decoded = decode_records(&batch);
            let walked: Result<Vec<Record>, FormatError> = RecordRefs::new(&batch)
                .and_then(|refs| refs.collect::<Result<Vec<_>, _>>())
                .map(|refs| refs.iter().map(RecordRef::to_record).collect());
            prop_assert_eq!(walked.is_ok(), decoded.is_ok(), "walk {:?} / decode {:?}", walked, decoded);
            if let (Ok(w), Ok(d)) = (&walked, &decoded) {
                prop_assert_eq!(w, d);
            }
            if flips.is_empty() {
                prop_assert_eq!(walked.map(|w| w.len()).ok(), Some(specs.len()));
            }
            // Internal iteration (`fold`, `for_each`) yields what `next` does, errors included.
            if let Ok(refs) = RecordRefs::new(&batch) {
                let item = |r: Result<RecordRef<'_>, FormatError>| r.map(|r| r.to_record()).map_err(|e| e.to_string());
                let by_next: Vec<_> = refs.clone().map(item).collect();
                let by_fold = refs.fold(Vec::new(), |mut v, r| {
                    v.push(item(r));
                    v
                });
                prop_assert_eq!(by_fold, by_next);
            }
        }
    }
}
