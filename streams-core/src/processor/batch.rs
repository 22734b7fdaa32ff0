//! A run of records that travel through a chain of processors together.
//!
//! Held column by column (keys, values, timestamps, headers, origins), so that an operator
//! touches only what it changes: `map_values` rewrites the value column and leaves the others
//! where they are, a filter that keeps every record moves nothing, and sources and sinks convert
//! a whole column with one serde call.

use crate::record::{Header, Record};

/// Records that arrived together, in order, each remembering which input record it came from
/// (so that the task can name it to the error handlers). Given to
/// [`Processor::process_batch`](crate::Processor::process_batch) by processors that declare
/// [`Processor::BATCHES`](crate::Processor::BATCHES).
#[derive(Debug)]
pub struct RecordBatch<K, V> {
    keys: Vec<K>,
    values: Vec<V>,
    timestamps: Vec<i64>,
    /// Each record's headers; empty while no record has any.
    headers: Vec<Vec<Header>>,
    /// Each record's origin: its position in the task's run of input records.
    origins: Origins,
}

/// The columns of a batch, taken apart (see [`RecordBatch::into_columns`]).
pub(crate) struct Columns<K, V> {
    pub(crate) keys: Vec<K>,
    pub(crate) values: Vec<V>,
    pub(crate) timestamps: Vec<i64>,
    /// Empty when no record has headers.
    pub(crate) headers: Vec<Vec<Header>>,
    pub(crate) origins: Origins,
}

/// The origins of a batch's records.
#[derive(Debug, Default)]
pub(crate) struct Origins {
    /// Each record's; empty while they are `first`, `first + 1`, ... in order.
    each: Vec<u32>,
    first: u32,
}

impl Origins {
    /// The origin of the record at `i`.
    pub(crate) fn get(&self, i: usize) -> u32 {
        match self.each.get(i) {
            Some(&o) => o,
            None => self.first + i as u32,
        }
    }

    /// Records `origin` as the one of the record at `i` (the next one).
    fn push(&mut self, i: usize, origin: u32) {
        if !self.each.is_empty() {
            self.each.push(origin);
        } else if i == 0 {
            self.first = origin;
        } else if origin != self.first + i as u32 {
            self.spell_out(i);
            self.each.push(origin);
        }
    }

    /// Lists the first `n` origins one by one (they were consecutive).
    fn spell_out(&mut self, n: usize) {
        if self.each.is_empty() {
            let first = self.first;
            self.each.extend((0..n as u32).map(|j| first + j));
        }
    }
}

impl<K, V> RecordBatch<K, V> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            keys: Vec::with_capacity(n),
            values: Vec::with_capacity(n),
            timestamps: Vec::with_capacity(n),
            headers: Vec::new(),
            origins: Origins::default(),
        }
    }

    /// A batch of consecutive input records, the first at `first_origin`, from its columns
    /// (`headers` empty when no record has any).
    pub(crate) fn from_columns(
        keys: Vec<K>,
        values: Vec<V>,
        timestamps: Vec<i64>,
        headers: Vec<Vec<Header>>,
        first_origin: u32,
    ) -> Self {
        debug_assert_eq!(keys.len(), values.len());
        debug_assert_eq!(keys.len(), timestamps.len());
        debug_assert!(headers.is_empty() || headers.len() == keys.len());
        let origins = Origins { each: Vec::new(), first: first_origin };
        Self { keys, values, timestamps, headers, origins }
    }

    pub(crate) fn into_columns(self) -> Columns<K, V> {
        let RecordBatch { keys, values, timestamps, headers, origins } = self;
        Columns { keys, values, timestamps, headers, origins }
    }

    pub(crate) fn push(&mut self, origin: u32, record: Record<K, V>) {
        self.origins.push(self.keys.len(), origin);
        self.push_record(record);
    }

    /// Appends a record whose origin the caller keeps track of.
    fn push_record(&mut self, record: Record<K, V>) {
        let Record { key, value, timestamp, headers } = record;
        if !self.headers.is_empty() {
            self.headers.push(headers);
        } else if !headers.is_empty() {
            self.headers.resize_with(self.keys.len(), Vec::new);
            self.headers.push(headers);
        }
        self.keys.push(key);
        self.values.push(value);
        self.timestamps.push(timestamp);
    }

    /// The records with their origins, in order.
    pub(crate) fn into_entries(self) -> impl Iterator<Item = (u32, Record<K, V>)> {
        let RecordBatch { keys, values, timestamps, headers, origins } = self;
        let mut headers = headers.into_iter();
        keys.into_iter().zip(values).zip(timestamps).enumerate().map(
            move |(i, ((key, value), timestamp))| {
                let headers = headers.next().unwrap_or_default();
                (origins.get(i), Record { key, value, timestamp, headers })
            },
        )
    }

    /// How many records the batch holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the batch holds no record.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The records' keys, in order.
    pub fn keys(&self) -> &[K] {
        &self.keys
    }

    /// The records' values, in order.
    pub fn values(&self) -> &[V] {
        &self.values
    }

    /// The records' timestamps, in order.
    pub fn timestamps(&self) -> &[i64] {
        &self.timestamps
    }

    /// The headers of the record at `i` (empty if it has none or there is no such record).
    pub fn headers(&self, i: usize) -> &[Header] {
        self.headers.get(i).map_or(&[], Vec::as_slice)
    }

    /// Each record replaced by `f(record)`, in order.
    pub fn map<K2, V2>(
        self,
        mut f: impl FnMut(Record<K, V>) -> Record<K2, V2>,
    ) -> RecordBatch<K2, V2> {
        let mut out = RecordBatch::with_capacity(self.len());
        out.origins = self.origins;
        let mut headers = self.headers.into_iter();
        for ((key, value), timestamp) in self.keys.into_iter().zip(self.values).zip(self.timestamps)
        {
            let headers = headers.next().unwrap_or_default();
            out.push_record(f(Record { key, value, timestamp, headers }));
        }
        out
    }

    /// Each value replaced by `f(key, value)`, in order; keys, timestamps and headers stay.
    pub fn map_values<V2>(self, mut f: impl FnMut(&K, V) -> V2) -> RecordBatch<K, V2> {
        let RecordBatch { keys, values, timestamps, headers, origins } = self;
        let values = values.into_iter().zip(&keys).map(|(v, k)| f(k, v)).collect();
        RecordBatch { keys, values, timestamps, headers, origins }
    }

    /// Each key replaced by `f(key, value)`, in order; values, timestamps and headers stay.
    pub fn map_keys<K2>(self, mut f: impl FnMut(&K, &V) -> K2) -> RecordBatch<K2, V> {
        let RecordBatch { keys, values, timestamps, headers, origins } = self;
        let keys = keys.iter().zip(&values).map(|(k, v)| f(k, v)).collect();
        RecordBatch { keys, values, timestamps, headers, origins }
    }

    /// Keeps the records for which `keep(key, value)` is true, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &V) -> bool) {
        let Some(first_dropped) = self.keys.iter().zip(&self.values).position(|(k, v)| !keep(k, v))
        else {
            return;
        };
        // Decided once per record (the predicate may count or have effects), then applied to
        // every column.
        let mut kept: Vec<bool> = vec![true; first_dropped];
        kept.push(false);
        kept.extend(
            self.keys[first_dropped + 1..]
                .iter()
                .zip(&self.values[first_dropped + 1..])
                .map(|(k, v)| keep(k, v)),
        );
        self.origins.spell_out(self.keys.len());
        fn apply<T>(column: &mut Vec<T>, kept: &[bool]) {
            if column.is_empty() {
                return;
            }
            let mut i = 0;
            column.retain(|_| {
                i += 1;
                kept[i - 1]
            });
        }
        apply(&mut self.keys, &kept);
        apply(&mut self.values, &kept);
        apply(&mut self.timestamps, &kept);
        apply(&mut self.headers, &kept);
        apply(&mut self.origins.each, &kept);
    }

    /// Each record replaced by the records `f` makes of it (none, one or several), in order.
    pub fn flat_map<K2, V2, I>(self, mut f: impl FnMut(Record<K, V>) -> I) -> RecordBatch<K2, V2>
    where
        I: IntoIterator<Item = Record<K2, V2>>,
    {
        let mut out = RecordBatch::with_capacity(self.len());
        for (o, r) in self.into_entries() {
            for r in f(r) {
                out.push(o, r);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn batch(values: &[i32]) -> RecordBatch<(), i32> {
        let mut b = RecordBatch::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            b.push(i as u32, Record::new((), *v, i as i64));
        }
        b
    }

    fn entries<V>(b: RecordBatch<(), V>) -> Vec<(u32, V, i64)> {
        b.into_entries().map(|(o, r)| (o, r.value, r.timestamp)).collect()
    }

    #[test]
    fn records_keep_their_origin_through_map_retain_and_flat_map() {
        let mut b = batch(&[1, 2, 3, 4]).map(|r| {
            let v = r.value * 10;
            r.with_value(v)
        });
        assert_eq!(b.len(), 4);
        b.retain(|_, v| *v != 20);
        assert_eq!(b.values(), [10, 30, 40]);
        assert_eq!(b.timestamps(), [0, 2, 3]);
        let b = b.flat_map(|r| {
            let n = r.value / 10 - 2;
            (0..n).map(move |k| r.clone().with_value(k))
        });
        // 10 -> none, 30 -> 0, 40 -> 0, 1: origins 2, 3, 3.
        assert_eq!(entries(b), [(2, 0, 2), (3, 0, 3), (3, 1, 3)]);
        let mut empty = batch(&[5]);
        empty.retain(|_, _| false);
        assert!(empty.is_empty());
    }

    #[test]
    fn columns_stay_aligned_through_map_values_map_keys_and_retain() {
        // Consecutive origins from 7; the third record has headers.
        let header = Header { key: "h".to_string(), value: Some(Bytes::from_static(b"x")) };
        let mut b = RecordBatch::from_columns(
            vec![1, 2, 3, 4, 5],
            vec!["a", "bb", "ccc", "dddd", "eeeee"],
            vec![10, 20, 30, 40, 50],
            Vec::new(),
            7,
        );
        let mut with_headers = RecordBatch::with_capacity(1);
        with_headers
            .push(9, Record::new(3, "ccc", 30).with_header("h", Some(Bytes::from_static(b"x"))));
        assert_eq!(with_headers.headers(0), std::slice::from_ref(&header));
        b.retain(|_, _| true);
        assert_eq!(b.keys(), [1, 2, 3, 4, 5], "keeping everything changes nothing");
        let b = b.map_values(|k, v| v.len() as i32 * 100 + k);
        assert_eq!(b.values(), [101, 202, 303, 404, 505]);
        let mut b = b.map_keys(|k, v| format!("{k}:{v}"));
        assert_eq!(b.keys(), ["1:101", "2:202", "3:303", "4:404", "5:505"]);
        b.retain(|k, _| k != "2:202" && k != "5:505");
        assert_eq!(b.values(), [101, 303, 404]);
        assert_eq!(b.timestamps(), [10, 30, 40]);
        let origins: Vec<u32> = b.into_entries().map(|(o, _)| o).collect();
        assert_eq!(origins, [7, 9, 10]);

        // Headers of one record among records without: each keeps its own.
        let mut b = RecordBatch::with_capacity(3);
        b.push(0, Record::new(0, 0, 0));
        b.push(1, Record::new(1, 1, 1).with_header("h", Some(Bytes::from_static(b"x"))));
        b.push(5, Record::new(2, 2, 2));
        assert_eq!(
            (b.headers(0), b.headers(1), b.headers(2)),
            (&[][..], std::slice::from_ref(&header), &[][..])
        );
        b.retain(|k, _| *k != 0);
        let got: Vec<(u32, i32, usize)> =
            b.into_entries().map(|(o, r)| (o, r.key, r.headers.len())).collect();
        assert_eq!(got, [(1, 1, 1), (5, 2, 0)]);
    }
}
