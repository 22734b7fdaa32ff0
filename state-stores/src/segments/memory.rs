//! Segmented bytes in memory: one ordered map of raw keys, and an index by time for expiry.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

use crate::StoreError;
use crate::bounds;
use crate::segments::{RawIter, SegmentedBytes};

/// Raw keys in a `BTreeMap`; a `(time, key)` index finds expired entries without a scan. Expiry
/// is per record (Kafka's in-memory window and session stores drop each expired record too).
#[derive(Debug, Default)]
pub(crate) struct MemorySegments {
    map: BTreeMap<Bytes, (Bytes, i64)>,
    by_time: BTreeSet<(i64, Bytes)>,
}

impl MemorySegments {
    pub(crate) fn new() -> Self {
        Self::default()
    }
}

impl SegmentedBytes for MemorySegments {
    fn persistent(&self) -> bool {
        false
    }

    fn open(&mut self) -> Result<Option<i64>, StoreError> {
        Ok(None)
    }

    fn get(&self, raw: &[u8], _time: i64) -> Result<Option<Bytes>, StoreError> {
        Ok(self.map.get(raw).map(|(value, _)| value.clone()))
    }

    fn put(&mut self, raw: Bytes, value: Option<Bytes>, time: i64) -> Result<(), StoreError> {
        match value {
            Some(value) => {
                if let Some((_, old_time)) = self.map.insert(raw.clone(), (value, time)) {
                    self.by_time.remove(&(old_time, raw.clone()));
                }
                self.by_time.insert((time, raw));
            }
            None => {
                if let Some((_, old_time)) = self.map.remove(&raw) {
                    self.by_time.remove(&(old_time, raw));
                }
            }
        }
        Ok(())
    }

    fn scan(
        &self,
        lower: Option<&[u8]>,
        upper: Option<&[u8]>,
        _time_from: i64,
        _time_to: i64,
        reverse: bool,
    ) -> Result<RawIter<'_>, StoreError> {
        if bounds::is_inverted(lower, upper) {
            return Ok(Box::new(std::iter::empty()));
        }
        let range = self.map.range::<[u8], _>(bounds::inclusive(lower, upper));
        let cloned = |(k, (v, _)): (&Bytes, &(Bytes, i64))| Ok((k.clone(), v.clone()));
        if reverse {
            Ok(Box::new(range.rev().map(cloned)))
        } else {
            Ok(Box::new(range.map(cloned)))
        }
    }

    fn expire(&mut self, min_live: i64) -> Result<(), StoreError> {
        while let Some((time, _)) = self.by_time.first() {
            if *time >= min_live {
                break;
            }
            if let Some((_, raw)) = self.by_time.pop_first() {
                self.map.remove(&raw);
            }
        }
        Ok(())
    }

    fn max_time(&self) -> Option<i64> {
        self.by_time.last().map(|(time, _)| *time)
    }

    fn flush(&mut self, _stream_time: i64) -> Result<(), StoreError> {
        Ok(())
    }

    fn close(&mut self, _stream_time: i64) -> Result<(), StoreError> {
        self.map.clear();
        self.by_time.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn expiry_drops_entries_filed_before_the_bound_and_keeps_the_index_in_step() {
        let mut store = MemorySegments::new();
        store.put(b("a"), Some(b("1")), 10).unwrap();
        store.put(b("b"), Some(b("2")), 20).unwrap();
        store.put(b("c"), Some(b("3")), 30).unwrap();
        store.put(b("c"), None, 30).unwrap();
        assert_eq!(store.max_time(), Some(20));
        store.expire(20).unwrap();
        assert_eq!(store.get(b"a", 10).unwrap(), None);
        assert_eq!(store.get(b"b", 20).unwrap(), Some(b("2")));
        assert_eq!(store.map.len(), store.by_time.len());
        store.expire(21).unwrap();
        assert_eq!(store.max_time(), None);
        assert!(store.map.is_empty());
    }
}
