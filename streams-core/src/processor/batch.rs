//! A run of records that travel through a chain of processors together.

use crate::record::Record;

/// Records that arrived together, in order, each remembering which input record it came from
/// (so that the task can name it to the error handlers). Given to
/// [`Processor::process_batch`](crate::Processor::process_batch) by processors that declare
/// [`Processor::BATCHES`](crate::Processor::BATCHES).
#[derive(Debug)]
pub struct RecordBatch<K, V> {
    /// `(origin, record)`: origin is the record's position in the task's run of input records.
    entries: Vec<(u32, Record<K, V>)>,
}

impl<K, V> RecordBatch<K, V> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self { entries: Vec::with_capacity(n) }
    }

    pub(crate) fn push(&mut self, origin: u32, record: Record<K, V>) {
        self.entries.push((origin, record));
    }

    pub(crate) fn into_entries(self) -> std::vec::IntoIter<(u32, Record<K, V>)> {
        self.entries.into_iter()
    }

    /// How many records the batch holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the batch holds no record.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The records, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Record<K, V>> {
        self.entries.iter().map(|(_, r)| r)
    }

    /// Each record replaced by `f(record)`, in order.
    pub fn map<K2, V2>(
        self,
        mut f: impl FnMut(Record<K, V>) -> Record<K2, V2>,
    ) -> RecordBatch<K2, V2> {
        RecordBatch { entries: self.entries.into_iter().map(|(o, r)| (o, f(r))).collect() }
    }

    /// Keeps the records for which `keep` is true, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&Record<K, V>) -> bool) {
        self.entries.retain(|(_, r)| keep(r));
    }

    /// Each record replaced by the records `f` makes of it (none, one or several), in order.
    pub fn flat_map<K2, V2, I>(self, mut f: impl FnMut(Record<K, V>) -> I) -> RecordBatch<K2, V2>
    where
        I: IntoIterator<Item = Record<K2, V2>>,
    {
        let mut entries = Vec::with_capacity(self.entries.len());
        for (o, r) in self.entries {
            entries.extend(f(r).into_iter().map(|r| (o, r)));
        }
        RecordBatch { entries }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(values: &[i32]) -> RecordBatch<(), i32> {
        let mut b = RecordBatch::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            b.push(i as u32, Record::new((), *v, i as i64));
        }
        b
    }

    fn entries<V: Copy>(b: RecordBatch<(), V>) -> Vec<(u32, V, i64)> {
        b.into_entries().map(|(o, r)| (o, r.value, r.timestamp)).collect()
    }

    #[test]
    fn records_keep_their_origin_through_map_retain_and_flat_map() {
        let mut b = batch(&[1, 2, 3, 4]).map(|r| {
            let v = r.value * 10;
            r.with_value(v)
        });
        assert_eq!(b.len(), 4);
        b.retain(|r| r.value != 20);
        assert_eq!(b.iter().map(|r| r.value).collect::<Vec<_>>(), [10, 30, 40]);
        let b = b.flat_map(|r| {
            let n = r.value / 10 - 2;
            (0..n).map(move |k| r.clone().with_value(k))
        });
        // 10 -> none, 30 -> 0, 40 -> 0, 1: origins 2, 3, 3.
        assert_eq!(entries(b), [(2, 0, 2), (3, 0, 3), (3, 1, 3)]);
        let mut empty = batch(&[5]);
        empty.retain(|_| false);
        assert!(empty.is_empty());
    }
}
