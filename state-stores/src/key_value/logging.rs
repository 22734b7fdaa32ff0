//! The change-logging layer: every write that reaches the store is also sent to its changelog.

use bytes::Bytes;

use crate::StoreError;
use crate::changelog::ChangelogWriter;
use crate::key_value::{FlushListener, KeyValueIterator, KeyValueStore};

/// Hands every write that reaches it to a [`ChangelogWriter`] after applying it to the store
/// below: Kafka's `ChangeLoggingKeyValueBytesStore`.
///
/// What is logged, exactly as Kafka does:
///
/// | call | logged |
/// | --- | --- |
/// | `put(k, v)` | `(k, v)`; `(k, None)` for `put(k, None)` |
/// | `put_if_absent(k, v)` | `(k, v)` only if `k` was absent (the write happened) |
/// | `put_all(entries)` | each entry, in order |
/// | `delete(k)` | `(k, None)`, whether or not `k` existed |
///
/// A write that fails below is not logged. Under a caching layer this layer sees only what the
/// cache writes down: one write per key per flush.
pub struct ChangeLoggingKeyValueStore<S> {
    inner: S,
    writer: Box<dyn ChangelogWriter>,
}

impl<S: KeyValueStore> ChangeLoggingKeyValueStore<S> {
    /// Logs every write to `inner` through `writer`.
    pub fn new(inner: S, writer: impl ChangelogWriter + 'static) -> Self {
        Self::with_boxed_writer(inner, Box::new(writer))
    }

    /// As [`new`](Self::new), with a writer already boxed.
    pub fn with_boxed_writer(inner: S, writer: Box<dyn ChangelogWriter>) -> Self {
        Self { inner, writer }
    }

    /// The store below this layer.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: KeyValueStore> KeyValueStore for ChangeLoggingKeyValueStore<S> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn persistent(&self) -> bool {
        self.inner.persistent()
    }

    fn is_open(&self) -> bool {
        self.inner.is_open()
    }

    fn init(&mut self) -> Result<(), StoreError> {
        self.inner.init()
    }

    fn get(&self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        self.inner.get(key)
    }

    fn put(&mut self, key: Bytes, value: Option<Bytes>) -> Result<(), StoreError> {
        self.inner.put(key.clone(), value.clone())?;
        self.writer.log(&key, value.as_ref());
        Ok(())
    }

    fn put_if_absent(&mut self, key: Bytes, value: Bytes) -> Result<Option<Bytes>, StoreError> {
        let previous = self.inner.put_if_absent(key.clone(), value.clone())?;
        if previous.is_none() {
            self.writer.log(&key, Some(&value));
        }
        Ok(previous)
    }

    fn put_all(&mut self, entries: &[(Bytes, Option<Bytes>)]) -> Result<(), StoreError> {
        self.inner.put_all(entries)?;
        for (key, value) in entries {
            self.writer.log(key, value.as_ref());
        }
        Ok(())
    }

    fn delete(&mut self, key: &Bytes) -> Result<Option<Bytes>, StoreError> {
        let old = self.inner.delete(key)?;
        self.writer.log(key, None);
        Ok(old)
    }

    fn range(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
    ) -> Result<KeyValueIterator<'_>, StoreError> {
        self.inner.range(from, to)
    }

    fn reverse_range(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
    ) -> Result<KeyValueIterator<'_>, StoreError> {
        self.inner.reverse_range(from, to)
    }

    fn all(&self) -> Result<KeyValueIterator<'_>, StoreError> {
        self.inner.all()
    }

    fn reverse_all(&self) -> Result<KeyValueIterator<'_>, StoreError> {
        self.inner.reverse_all()
    }

    fn prefix_scan(&self, prefix: &[u8]) -> Result<KeyValueIterator<'_>, StoreError> {
        self.inner.prefix_scan(prefix)
    }

    fn approximate_num_entries(&self) -> Result<u64, StoreError> {
        self.inner.approximate_num_entries()
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        self.inner.flush()
    }

    fn close(&mut self) -> Result<(), StoreError> {
        self.inner.close()
    }

    fn set_flush_listener(&mut self, listener: FlushListener, send_old_values: bool) -> bool {
        self.inner.set_flush_listener(listener, send_old_values)
    }
}
