//! One input partition's buffered records, kept in the lots the consumer returned them in.
//!
//! A poll hands over each partition's records column by column ([`RawRecords`]); the queue keeps
//! them as they are (a chunk) instead of moving every record into a ring buffer, and retiring
//! records moves a cursor. A chunk's memory goes when its last record is retired.

use std::collections::VecDeque;
use std::ops::Range;

use crate::time::{RawRecord, RawRecords};

#[derive(Debug)]
struct Chunk {
    records: RawRecords,
    /// The extracted timestamp of each record.
    timestamps: Vec<i64>,
    /// The first record not yet retired.
    head: usize,
}

impl Chunk {
    fn live(&self) -> usize {
        self.records.len() - self.head
    }
}

/// Records in arrival order, each with its extracted timestamp.
#[derive(Debug, Default)]
pub(crate) struct RecordQueue {
    chunks: VecDeque<Chunk>,
    len: usize,
}

impl RecordQueue {
    /// How many records are buffered.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether no record is buffered.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `records`, whose extracted timestamps are `timestamps` (one each).
    pub(crate) fn push_chunk(&mut self, records: RawRecords, timestamps: Vec<i64>) {
        debug_assert_eq!(records.len(), timestamps.len());
        if records.is_empty() {
            return;
        }
        self.len += records.len();
        self.chunks.push_back(Chunk { records, timestamps, head: 0 });
    }

    /// Appends one record.
    #[cfg(test)]
    pub(crate) fn push(&mut self, record: RawRecord, timestamp: i64) {
        let mut records = RawRecords::new(record.topic.clone(), record.partition);
        records.push_record(record);
        self.push_chunk(records, vec![timestamp]);
    }

    /// The timestamp of the first record.
    pub(crate) fn front_timestamp(&self) -> Option<i64> {
        let c = self.chunks.front()?;
        Some(c.timestamps[c.head])
    }

    /// The chunk holding the record at `pos` (0: the first), the record's index in it, and its
    /// timestamp.
    fn locate(&self, mut pos: usize) -> Option<(&Chunk, usize)> {
        for c in &self.chunks {
            if pos < c.live() {
                return Some((c, c.head + pos));
            }
            pos -= c.live();
        }
        None
    }

    /// The offset and timestamp of the record at `pos` (0: the first).
    pub(crate) fn offset_and_timestamp(&self, pos: usize) -> Option<(i64, i64)> {
        let (c, i) = self.locate(pos)?;
        Some((c.records.offsets[i], c.timestamps[i]))
    }

    /// The record at `pos` (0: the first) as read, cloned (what is left of it: bytes handed to
    /// deserializers are gone).
    pub(crate) fn record(&self, pos: usize) -> Option<RawRecord> {
        let (c, i) = self.locate(pos)?;
        c.records.record(i)
    }

    /// Moves the key, value and headers out of the record at `pos`.
    pub(crate) fn take_bytes(
        &mut self,
        mut pos: usize,
    ) -> Option<(Option<bytes::Bytes>, Option<bytes::Bytes>, Vec<crate::record::Header>)> {
        for c in &mut self.chunks {
            if pos < c.live() {
                let (r, i) = (&mut c.records, c.head + pos);
                let headers = r.headers.get_mut(i).map(std::mem::take).unwrap_or_default();
                return Some((r.keys[i].take(), r.values[i].take(), headers));
            }
            pos -= c.live();
        }
        None
    }

    /// The timestamps in order.
    pub(crate) fn timestamps(&self) -> impl Iterator<Item = i64> + '_ {
        self.chunks.iter().flat_map(|c| c.timestamps[c.head..].iter().copied())
    }

    /// The records at positions `from..to` (0: the first; `to` clipped to the length) with their
    /// timestamps, as one part per chunk they lie in: the chunk's records, the range of them,
    /// and the range's timestamps.
    pub(crate) fn parts_mut(
        &mut self,
        mut from: usize,
        to: usize,
    ) -> impl Iterator<Item = (&mut RawRecords, Range<usize>, &[i64])> + '_ {
        let mut left = to.saturating_sub(from);
        self.chunks.iter_mut().filter_map(move |c| {
            if left == 0 {
                return None;
            }
            if from >= c.live() {
                from -= c.live();
                return None;
            }
            let start = c.head + from;
            let end = start + left.min(c.live() - from);
            from = 0;
            left -= end - start;
            Some((&mut c.records, start..end, &c.timestamps[start..end]))
        })
    }

    /// Removes the first `n` records (or all, if fewer), calling `seen` with each one's offset and
    /// timestamp, in order.
    pub(crate) fn retire(&mut self, mut n: usize, mut seen: impl FnMut(i64, i64)) {
        while n > 0 {
            let Some(c) = self.chunks.front_mut() else { break };
            let take = n.min(c.live());
            let range = c.head..c.head + take;
            for (&offset, &ts) in c.records.offsets[range.clone()].iter().zip(&c.timestamps[range])
            {
                seen(offset, ts);
            }
            c.head += take;
            self.len -= take;
            n -= take;
            if c.live() == 0 {
                self.chunks.pop_front();
            }
        }
    }

    /// Drops every record.
    pub(crate) fn clear(&mut self) {
        self.chunks.clear();
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;

    use super::*;

    fn raw(offset: i64) -> RawRecord {
        RawRecord {
            topic: Arc::from("t"),
            partition: 0,
            offset,
            timestamp: offset * 10,
            key: Some(Bytes::from(format!("k{offset}"))),
            value: None,
            headers: Vec::new(),
        }
    }

    fn chunk(offsets: std::ops::Range<i64>) -> (RawRecords, Vec<i64>) {
        let mut records = RawRecords::new(Arc::from("t"), 0);
        offsets.clone().for_each(|o| records.push_record(raw(o)));
        (records, offsets.map(|o| o * 10).collect())
    }

    /// Across chunk boundaries, positions, timestamps and retiring behave as one sequence.
    #[test]
    fn chunks_read_as_one_sequence() {
        let mut q = RecordQueue::default();
        assert!(q.is_empty());
        assert_eq!(q.front_timestamp(), None);
        let (r, t) = chunk(0..3);
        q.push_chunk(r, t);
        q.push_chunk(RawRecords::new(Arc::from("t"), 0), Vec::new());
        let (r, t) = chunk(3..5);
        q.push_chunk(r, t);
        q.push(raw(5), 50);
        assert_eq!(q.len(), 6);
        assert_eq!(q.timestamps().collect::<Vec<_>>(), [0, 10, 20, 30, 40, 50]);
        for pos in 0..6 {
            let o = pos as i64;
            assert_eq!(q.offset_and_timestamp(pos), Some((o, o * 10)));
            assert_eq!(q.record(pos), Some(raw(o)));
        }
        assert!(q.record(6).is_none() && q.offset_and_timestamp(6).is_none());
        let taken = q.take_bytes(4).unwrap();
        assert_eq!((taken.0, taken.1, taken.2.len()), (Some(Bytes::from("k4")), None, 0));
        assert_eq!(q.record(4).unwrap().key, None);
        let parts = |q: &mut RecordQueue, from, to| -> Vec<(Vec<i64>, Vec<i64>)> {
            q.parts_mut(from, to)
                .map(|(r, range, t)| (r.offsets[range].to_vec(), t.to_vec()))
                .collect()
        };
        assert_eq!(parts(&mut q, 2, 5), [(vec![2], vec![20]), (vec![3, 4], vec![30, 40])]);
        assert_eq!(parts(&mut q, 3, 4), [(vec![3], vec![30])]);
        assert_eq!(parts(&mut q, 4, 100), [(vec![4], vec![40]), (vec![5], vec![50])]);
        assert!(parts(&mut q, 1, 1).is_empty() && parts(&mut q, 6, 9).is_empty());

        let mut seen = Vec::new();
        q.retire(4, |o, ts| seen.push((o, ts)));
        assert_eq!(seen, [(0, 0), (1, 10), (2, 20), (3, 30)]);
        assert_eq!((q.len(), q.front_timestamp()), (2, Some(40)));
        assert_eq!(q.offset_and_timestamp(0), Some((4, 40)));
        assert!(q.record(0).unwrap().key.is_none());
        assert_eq!(parts(&mut q, 0, 2), [(vec![4], vec![40]), (vec![5], vec![50])]);

        seen.clear();
        q.retire(10, |o, _| seen.push((o, 0)));
        assert_eq!(seen, [(4, 0), (5, 0)]);
        assert!(q.is_empty());
        q.push(raw(6), 60);
        assert_eq!(q.front_timestamp(), Some(60));
        q.clear();
        assert_eq!((q.len(), q.record(0).is_none()), (0, true));
    }
}
