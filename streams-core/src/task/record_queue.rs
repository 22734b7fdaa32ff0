//! One input partition's buffered records, kept in the lots the consumer returned them in.
//!
//! A poll hands over each partition's records as one `Vec`; the queue keeps that `Vec` as it is
//! (a chunk) instead of moving every record into a ring buffer, and retiring records moves a
//! cursor. A chunk's memory goes when its last record is retired.

use std::collections::VecDeque;

use crate::time::RawRecord;

#[derive(Debug)]
struct Chunk {
    records: Vec<RawRecord>,
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
    pub(crate) fn push_chunk(&mut self, records: Vec<RawRecord>, timestamps: Vec<i64>) {
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
        self.push_chunk(vec![record], vec![timestamp]);
    }

    /// The timestamp of the first record.
    pub(crate) fn front_timestamp(&self) -> Option<i64> {
        let c = self.chunks.front()?;
        Some(c.timestamps[c.head])
    }

    /// The record at `pos` (0: the first) and its timestamp.
    pub(crate) fn get(&self, mut pos: usize) -> Option<(&RawRecord, i64)> {
        for c in &self.chunks {
            if pos < c.live() {
                return Some((&c.records[c.head + pos], c.timestamps[c.head + pos]));
            }
            pos -= c.live();
        }
        None
    }

    /// Like [`get`](Self::get), mutable.
    pub(crate) fn get_mut(&mut self, mut pos: usize) -> Option<(&mut RawRecord, i64)> {
        for c in &mut self.chunks {
            if pos < c.live() {
                return Some((&mut c.records[c.head + pos], c.timestamps[c.head + pos]));
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
    /// timestamps, as one pair of slices per chunk they lie in.
    pub(crate) fn slices_mut(
        &mut self,
        mut from: usize,
        to: usize,
    ) -> impl Iterator<Item = (&mut [RawRecord], &[i64])> + '_ {
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
            Some((&mut c.records[start..end], &c.timestamps[start..end]))
        })
    }

    /// Removes the first `n` records (or all, if fewer), calling `seen` with each in order.
    pub(crate) fn retire(&mut self, mut n: usize, mut seen: impl FnMut(&RawRecord, i64)) {
        while n > 0 {
            let Some(c) = self.chunks.front_mut() else { break };
            let take = n.min(c.live());
            for i in c.head..c.head + take {
                seen(&c.records[i], c.timestamps[i]);
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

    use super::*;

    fn raw(offset: i64) -> RawRecord {
        RawRecord {
            topic: Arc::from("t"),
            partition: 0,
            offset,
            timestamp: offset * 10,
            key: None,
            value: None,
            headers: Vec::new(),
        }
    }

    fn chunk(offsets: std::ops::Range<i64>) -> (Vec<RawRecord>, Vec<i64>) {
        (offsets.clone().map(raw).collect(), offsets.map(|o| o * 10).collect())
    }

    /// Across chunk boundaries, positions, timestamps and retiring behave as one sequence.
    #[test]
    fn chunks_read_as_one_sequence() {
        let mut q = RecordQueue::default();
        assert!(q.is_empty());
        assert_eq!(q.front_timestamp(), None);
        let (r, t) = chunk(0..3);
        q.push_chunk(r, t);
        q.push_chunk(Vec::new(), Vec::new());
        let (r, t) = chunk(3..5);
        q.push_chunk(r, t);
        q.push(raw(5), 50);
        assert_eq!(q.len(), 6);
        assert_eq!(q.timestamps().collect::<Vec<_>>(), [0, 10, 20, 30, 40, 50]);
        for pos in 0..6 {
            let (r, ts) = q.get(pos).unwrap();
            assert_eq!((r.offset, ts), (pos as i64, pos as i64 * 10));
        }
        assert!(q.get(6).is_none());
        q.get_mut(4).unwrap().0.key = Some(bytes::Bytes::from_static(b"k"));
        let slices = |q: &mut RecordQueue, from, to| -> Vec<(Vec<i64>, Vec<i64>)> {
            q.slices_mut(from, to)
                .map(|(r, t)| (r.iter().map(|r| r.offset).collect(), t.to_vec()))
                .collect()
        };
        assert_eq!(slices(&mut q, 2, 5), [(vec![2], vec![20]), (vec![3, 4], vec![30, 40])]);
        assert_eq!(slices(&mut q, 3, 4), [(vec![3], vec![30])]);
        assert_eq!(slices(&mut q, 4, 100), [(vec![4], vec![40]), (vec![5], vec![50])]);
        assert!(slices(&mut q, 1, 1).is_empty() && slices(&mut q, 6, 9).is_empty());

        let mut seen = Vec::new();
        q.retire(4, |r, ts| seen.push((r.offset, ts)));
        assert_eq!(seen, [(0, 0), (1, 10), (2, 20), (3, 30)]);
        assert_eq!((q.len(), q.front_timestamp()), (2, Some(40)));
        assert_eq!(q.get(0).unwrap().0.offset, 4);
        assert!(q.get(0).unwrap().0.key.is_some());
        assert_eq!(slices(&mut q, 0, 2), [(vec![4], vec![40]), (vec![5], vec![50])]);

        seen.clear();
        q.retire(10, |r, _| seen.push((r.offset, 0)));
        assert_eq!(seen, [(4, 0), (5, 0)]);
        assert!(q.is_empty());
        q.push(raw(6), 60);
        assert_eq!(q.front_timestamp(), Some(60));
        q.clear();
        assert_eq!((q.len(), q.get(0).is_none()), (0, true));
    }
}
