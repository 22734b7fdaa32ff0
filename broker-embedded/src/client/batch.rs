//! What [`Consumer::poll_batches`](super::Consumer::poll_batches) returns: one partition's records as
//! the log stores them, read without copying and walked in place.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::format::{self, BatchHeader, Compression, FormatError, RecordRef, RecordRefs};

/// One record batch of a [`ConsumerBatch`]: its header (not yet trusted: the CRC is checked when
/// the batch is walked), its bytes, and where it was read from.
#[derive(Debug, Clone)]
pub(crate) struct Fetched {
    pub(crate) header: BatchHeader,
    pub(crate) bytes: Bytes,
    /// Position of the batch in its segment file (for error messages).
    pub(crate) position: u64,
    /// The batch with its records decompressed, made when a compressed batch is first walked.
    pub(crate) decompressed: OnceLock<Bytes>,
}

/// The records one poll read from one partition: whole record batches as the log stores them, read
/// without a copy (a memory map of the segment, when the file system offers one). Each batch is
/// checked (its CRC, unless [`ConsumerConfig::check_crcs`](super::ConsumerConfig::check_crcs) is
/// off), decompressed if need be, and decoded only when [`records`](ConsumerBatch::records) reaches
/// it, while its bytes are in the processor's cache.
///
/// This is the fast way to consume: nothing is allocated or reference-counted per record. Records
/// borrow from the batch; keep the batch (it is cheap to clone) or copy what must outlive it.
#[derive(Debug, Clone)]
pub struct ConsumerBatch {
    pub(crate) topic: Arc<str>,
    pub(crate) partition: i32,
    /// Records below this offset were returned before (the first batch may start earlier).
    pub(crate) from: i64,
    pub(crate) next_offset: i64,
    pub(crate) batches: Vec<Fetched>,
    pub(crate) file: Arc<Path>,
    pub(crate) check_crcs: bool,
}

impl ConsumerBatch {
    /// The topic the records come from.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The partition the records come from.
    pub fn partition(&self) -> i32 {
        self.partition
    }

    /// The offset after the last record (where the consumer's position now is).
    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }

    /// The records in offset order (control batches skipped). Each batch is checked as it is
    /// reached; a corrupt or malformed one is an error naming the segment file and the batch's
    /// position, after which the walk ends (the consumer's position is already past this batch:
    /// seek back to retry).
    pub fn records(&self) -> BatchRecords<'_> {
        BatchRecords { batch: self, index: 0, current: None, ahead: &[] }
    }
}

/// The records of a [`ConsumerBatch`], borrowed from it.
#[derive(Debug, Clone)]
pub struct BatchRecords<'a> {
    batch: &'a ConsumerBatch,
    /// The next batch to open.
    index: usize,
    current: Option<(RecordRefs<'a>, &'a Fetched)>,
    /// The next batch, prefetched while this one is walked.
    ahead: &'a [u8],
}

impl<'a> Iterator for BatchRecords<'a> {
    type Item = Result<RecordRef<'a>>;

    /// The common case (the next record takes the walker's fast path) inline; everything else
    /// out of line, so that a caller's loop keeps the walker in registers.
    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        // Records below the fetch position come only at the start of the first batch, and
        // `next_slow` skips them when it opens it: past that, every record is one to return.
        if let Some((records, _)) = &mut self.current {
            if let Some(r) = records.next_fast() {
                prefetch_ahead(self.ahead, records.at());
                return Some(Ok(r));
            }
        }
        self.next_slow()
    }

    /// Internal iteration (`for_each`, `fold`, ..): each batch's walker is a local, so its
    /// position stays in a register from one record to the next.
    #[inline]
    fn fold<B, F: FnMut(B, Self::Item) -> B>(mut self, init: B, mut f: F) -> B {
        let mut acc = init;
        loop {
            if let Some((records, _)) = &mut self.current {
                let mut records = records.clone();
                // The fast path (see `next`); anything else goes through `next`, which also
                // reports errors.
                while let Some(r) = records.next_fast() {
                    prefetch_ahead(self.ahead, records.at());
                    acc = f(acc, Ok(r));
                }
                if let Some((current, _)) = &mut self.current {
                    *current = records;
                }
            }
            match self.next() {
                Some(item) => acc = f(acc, item),
                None => return acc,
            }
        }
    }
}

/// Prefetches the two cache lines of `next` (the next batch) at `at`, the position in the current
/// batch of the record just walked: walking a batch brings the next one into cache, at about the
/// pace the walk goes, before its CRC is checked.
#[inline(always)]
fn prefetch_ahead(next: &[u8], at: usize) {
    if let Some(rest) = next.get(at..) {
        crate::io::prefetch(rest);
    }
}

impl<'a> BatchRecords<'a> {
    /// [`next`](Iterator::next) past the fast path: records before the fetch position, records
    /// the fast path leaves, errors, and the next batch.
    #[inline(never)]
    fn next_slow(&mut self) -> Option<Result<RecordRef<'a>>> {
        loop {
            if let Some((records, fetched)) = &mut self.current {
                match records.next() {
                    Some(Ok(r)) if r.offset < self.batch.from => continue,
                    Some(Ok(r)) => {
                        prefetch_ahead(self.ahead, records.at());
                        return Some(Ok(r));
                    }
                    Some(Err(e)) => {
                        let fetched = *fetched;
                        self.current = None;
                        self.index = self.batch.batches.len();
                        return Some(Err(self.corrupted(fetched, e)));
                    }
                    None => self.current = None,
                }
            }
            let fetched = self.batch.batches.get(self.index)?;
            self.index += 1;
            self.ahead = self.batch.batches.get(self.index).map_or(&[], |b| &b.bytes[..]);
            match self.open(fetched) {
                Ok(Some(records)) => self.current = Some((records, fetched)),
                Ok(None) => {}
                Err(e) => {
                    self.index = self.batch.batches.len();
                    return Some(Err(self.corrupted(fetched, e)));
                }
            }
        }
    }

    fn corrupted(&self, fetched: &Fetched, e: FormatError) -> Error {
        Error::Corrupted {
            file: PathBuf::from(&*self.batch.file),
            position: fetched.position,
            reason: e.to_string(),
        }
    }

    /// Checks a batch and starts walking its records; `None` for a control batch.
    fn open(&mut self, fetched: &'a Fetched) -> Result<Option<RecordRefs<'a>>, FormatError> {
        let header = if self.batch.check_crcs {
            format::verify_crc(&fetched.bytes)?
        } else {
            fetched.header
        };
        if header.is_control() {
            return Ok(None);
        }
        if header.compression()? == Compression::None {
            return RecordRefs::with_header(&header, &fetched.bytes).map(Some);
        }
        let plain = match fetched.decompressed.get() {
            Some(plain) => plain,
            None => {
                let plain = format::decompressed(&header, &fetched.bytes)?;
                fetched.decompressed.get_or_init(|| plain)
            }
        };
        RecordRefs::with_header(&header, plain).map(Some)
    }
}
