//! The in-memory backend: a `BTreeMap` ordered by unsigned bytes.

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::StoreError;
use crate::bounds;
use crate::key_value::{KeyValueIterator, KeyValueStore};

/// A key-value store held in a `BTreeMap`: Kafka's `InMemoryKeyValueStore`.
///
/// Not persistent: [`close`](KeyValueStore::close) drops the data, as Kafka's does, and the
/// runtime restores the store from its changelog when it is opened again. Iterators hand out
/// reference-counted clones of the stored `Bytes` (no copying).
///
/// ```
/// use bytes::Bytes;
/// use state_stores::{InMemoryKeyValueStore, KeyValueStore};
///
/// let mut store = InMemoryKeyValueStore::new("counts");
/// store.init()?;
/// store.put(Bytes::from_static(b"a"), Some(Bytes::from_static(b"1")))?;
/// assert_eq!(store.get(b"a")?, Some(Bytes::from_static(b"1")));
/// # Ok::<(), state_stores::StoreError>(())
/// ```
#[derive(Debug)]
pub struct InMemoryKeyValueStore {
    name: String,
    map: BTreeMap<Bytes, Bytes>,
    open: bool,
}

impl InMemoryKeyValueStore {
    /// A closed, empty store; [`init`](KeyValueStore::init) opens it.
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), map: BTreeMap::new(), open: false }
    }

    fn check_open(&self) -> Result<(), StoreError> {
        if self.open { Ok(()) } else { Err(StoreError::Closed { store: self.name.clone() }) }
    }

    fn apply(&mut self, key: Bytes, value: Option<Bytes>) -> Option<Bytes> {
        match value {
            Some(value) => self.map.insert(key, value),
            None => self.map.remove(&key),
        }
    }
}

fn cloned<'a>(iter: impl Iterator<Item = (&'a Bytes, &'a Bytes)> + 'a) -> KeyValueIterator<'a> {
    Box::new(iter.map(|(k, v)| Ok((k.clone(), v.clone()))))
}

impl KeyValueStore for InMemoryKeyValueStore {
    fn name(&self) -> &str {
        &self.name
    }

    fn persistent(&self) -> bool {
        false
    }

    fn is_open(&self) -> bool {
        self.open
    }

    fn init(&mut self) -> Result<(), StoreError> {
        self.open = true;
        Ok(())
    }

    fn get(&self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        self.check_open()?;
        Ok(self.map.get(key).cloned())
    }

    fn put(&mut self, key: Bytes, value: Option<Bytes>) -> Result<(), StoreError> {
        self.check_open()?;
        self.apply(key, value);
        Ok(())
    }

    fn put_if_absent(&mut self, key: Bytes, value: Bytes) -> Result<Option<Bytes>, StoreError> {
        self.check_open()?;
        match self.map.get(&key) {
            Some(existing) => Ok(Some(existing.clone())),
            None => {
                self.map.insert(key, value);
                Ok(None)
            }
        }
    }

    fn put_all(&mut self, entries: &[(Bytes, Option<Bytes>)]) -> Result<(), StoreError> {
        self.check_open()?;
        for (key, value) in entries {
            self.apply(key.clone(), value.clone());
        }
        Ok(())
    }

    fn delete(&mut self, key: &Bytes) -> Result<Option<Bytes>, StoreError> {
        self.check_open()?;
        Ok(self.map.remove(key))
    }

    fn range(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
    ) -> Result<KeyValueIterator<'_>, StoreError> {
        self.check_open()?;
        if bounds::is_inverted(from, to) {
            bounds::warn_inverted(&self.name);
            return Ok(Box::new(std::iter::empty()));
        }
        Ok(cloned(self.map.range::<[u8], _>(bounds::inclusive(from, to))))
    }

    fn reverse_range(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
    ) -> Result<KeyValueIterator<'_>, StoreError> {
        self.check_open()?;
        if bounds::is_inverted(from, to) {
            bounds::warn_inverted(&self.name);
            return Ok(Box::new(std::iter::empty()));
        }
        Ok(cloned(self.map.range::<[u8], _>(bounds::inclusive(from, to)).rev()))
    }

    fn prefix_scan(&self, prefix: &[u8]) -> Result<KeyValueIterator<'_>, StoreError> {
        self.check_open()?;
        let (start, end) = bounds::prefix_bounds(prefix);
        let range = (start.as_ref().map(Vec::as_slice), end.as_ref().map(Vec::as_slice));
        Ok(cloned(self.map.range::<[u8], _>(range)))
    }

    fn approximate_num_entries(&self) -> Result<u64, StoreError> {
        self.check_open()?;
        Ok(self.map.len() as u64)
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        self.check_open()
    }

    fn close(&mut self) -> Result<(), StoreError> {
        self.map.clear();
        self.open = false;
        Ok(())
    }
}
