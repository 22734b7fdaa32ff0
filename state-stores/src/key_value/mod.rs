//! Key-value stores: the [`KeyValueStore`] trait, its two backends and the layers stacked on them.
//!
//! Every store, backend or layer, implements the same trait over raw bytes, so layers compose in any
//! order; [`KeyValueStoreBuilder`](builder::KeyValueStoreBuilder) stacks them the way Kafka Streams
//! does: metered → caching → change-logging → backend.
//!
//! Keys order as unsigned bytes, lexicographically (`[0x01] < [0x01, 0x00] < [0x80] < [0xff]`), the
//! order of Kafka's `Bytes.BYTES_LEXICO_COMPARATOR` and of RocksDB's default comparator. Every range
//! scan, forward or reverse, uses that order.

pub(crate) mod builder;
pub(crate) mod caching;
pub(crate) mod in_memory;
pub(crate) mod logging;
pub(crate) mod metered;
pub(crate) mod rocks;

use bytes::Bytes;

use crate::StoreError;

/// An iterator over key-value pairs, in key order (or reverse key order for the `reverse_*`
/// scans).
///
/// It borrows the store, so the store cannot be written while the iterator lives: the borrow
/// checker enforces what Kafka asks of its users by convention ("close your iterators"). Items are
/// `Result`s because a persistent store can hit an I/O error or corruption mid-scan; after an error
/// the iterator ends. Keys and values are copied out of RocksDB once, into `Bytes` that the caller
/// owns; in-memory stores hand out reference-counted clones without copying.
pub type KeyValueIterator<'a> = Box<dyn Iterator<Item = Result<(Bytes, Bytes), StoreError>> + 'a>;

/// Called by a caching layer for each record it flushes downstream: `(key, new value, old value)`.
///
/// `new value` is `None` for a delete. `old value` is the value the layer below held before this
/// write (`None` if the key was absent, or if the listener was registered without old values and
/// the update is not a delete). This is how the DSL forwards one merged update per key per commit.
pub type FlushListener = Box<dyn FnMut(&Bytes, Option<&Bytes>, Option<&Bytes>) + Send>;

/// A key-value state store over bytes: Kafka Streams' `KeyValueStore<Bytes, byte[]>`.
///
/// # Lifecycle
///
/// A store is created closed; [`init`](Self::init) opens it (creating its directory if it is
/// persistent). Every other operation on a store that is not open fails with
/// [`StoreError::Closed`]. [`flush`](Self::flush) makes all writes so far durable in the store
/// (for RocksDB: memtables written to table files); [`close`](Self::close) flushes and releases
/// the store. A closed store can be opened again with `init`: a persistent store finds its data, an
/// in-memory store starts empty (Kafka's in-memory store also drops its map on close, and is
/// restored from the changelog).
///
/// # Writes
///
/// `put(key, None)` deletes `key`, as Kafka's `put(key, null)` does. Writes take `&mut self` and
/// reads `&self`, so no write can run while a read or an iterator is in progress.
///
/// # Ranges
///
/// [`range`](Self::range) and [`reverse_range`](Self::reverse_range) include **both** ends, as
/// Kafka's `KeyValueStore.range(from, to)` does; `None` leaves that end open. A range whose `from`
/// is greater than its `to` is empty (Kafka logs a warning and returns an empty iterator; so do
/// we).
pub trait KeyValueStore: Send {
    /// The store's name (its changelog topic is derived from it).
    fn name(&self) -> &str;

    /// Whether the store keeps its data on disk across `close` and `init`.
    fn persistent(&self) -> bool;

    /// Whether the store is open (initialized and not closed).
    fn is_open(&self) -> bool;

    /// Opens the store. Opening a store that is already open does nothing.
    ///
    /// # Errors
    ///
    /// For RocksDB: [`StoreError::LockHeld`] if another open store uses the directory,
    /// [`StoreError::Corrupted`] if its files are damaged, [`StoreError::Io`] if the directory
    /// cannot be created.
    fn init(&mut self) -> Result<(), StoreError>;

    /// The value of `key`, or `None` if it is absent.
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open; storage errors from a persistent store.
    fn get(&self, key: &[u8]) -> Result<Option<Bytes>, StoreError>;

    /// Sets `key` to `value`; `None` deletes the key.
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open; storage errors from a persistent store.
    fn put(&mut self, key: Bytes, value: Option<Bytes>) -> Result<(), StoreError>;

    /// Sets `key` to `value` only if `key` is absent. Returns the existing value, or `None` if the
    /// value was written.
    ///
    /// # Errors
    ///
    /// As [`put`](Self::put).
    fn put_if_absent(&mut self, key: Bytes, value: Bytes) -> Result<Option<Bytes>, StoreError>;

    /// Applies every entry in order, as one batch (one RocksDB write batch); a `None` value
    /// deletes. When a key appears twice, the later entry wins.
    ///
    /// # Errors
    ///
    /// As [`put`](Self::put).
    fn put_all(&mut self, entries: &[(Bytes, Option<Bytes>)]) -> Result<(), StoreError>;

    /// Deletes `key` and returns the value it had, if any.
    ///
    /// # Errors
    ///
    /// As [`put`](Self::put).
    fn delete(&mut self, key: &Bytes) -> Result<Option<Bytes>, StoreError>;

    /// Every entry with `from <= key <= to`, in ascending key order. `None` leaves that end
    /// open; `from > to` gives an empty iterator.
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open.
    fn range(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
    ) -> Result<KeyValueIterator<'_>, StoreError>;

    /// As [`range`](Self::range), in descending key order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open.
    fn reverse_range(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
    ) -> Result<KeyValueIterator<'_>, StoreError>;

    /// Every entry, in ascending key order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open.
    fn all(&self) -> Result<KeyValueIterator<'_>, StoreError> {
        self.range(None, None)
    }

    /// Every entry, in descending key order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open.
    fn reverse_all(&self) -> Result<KeyValueIterator<'_>, StoreError> {
        self.reverse_range(None, None)
    }

    /// Every entry whose key starts with `prefix`, in ascending key order. An empty prefix
    /// matches every key.
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open.
    fn prefix_scan(&self, prefix: &[u8]) -> Result<KeyValueIterator<'_>, StoreError>;

    /// An estimate of the number of entries. Exact for in-memory stores; RocksDB's
    /// `rocksdb.estimate-num-keys`, which counts overwritten and deleted keys until compaction
    /// drops them; a caching layer reports what lies below it (unflushed cache entries are not
    /// counted, as in Kafka).
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open.
    fn approximate_num_entries(&self) -> Result<u64, StoreError>;

    /// Reads `key`, asks `f` for its new value given the current one (`None`: absent), and
    /// writes that (`Some(None)` deletes); `f` returning `None` writes nothing. One step where a
    /// store can do better than [`get`](Self::get) then [`put`](Self::put): the caching layer
    /// lends its cached bytes to `f` instead of copying them out, and copies `key` only when it
    /// caches a new entry.
    ///
    /// # Errors
    ///
    /// As `get` and `put`.
    fn read_modify_write(
        &mut self,
        key: &[u8],
        f: &mut dyn FnMut(Option<&Bytes>) -> Option<Option<Bytes>>,
    ) -> Result<(), StoreError> {
        let old = self.get(key)?;
        match f(old.as_ref()) {
            Some(new) => self.put(Bytes::copy_from_slice(key), new),
            None => Ok(()),
        }
    }

    /// Makes every write so far durable in this store: a caching layer writes its dirty entries
    /// down, RocksDB writes its memtables to table files (the write-ahead log is off: the changelog
    /// is the source of truth, and a flush is what the runtime checkpoints against).
    ///
    /// # Errors
    ///
    /// [`StoreError::Closed`] if the store is not open; storage errors from a persistent store.
    fn flush(&mut self) -> Result<(), StoreError>;

    /// Flushes and closes the store. Closing a closed store does nothing.
    ///
    /// # Errors
    ///
    /// Errors from the final flush; the store is closed even then.
    fn close(&mut self) -> Result<(), StoreError>;

    /// Registers the callback a caching layer calls for each record it writes downstream, with old
    /// values only if `send_old_values` (deletes always carry theirs). Returns `false` if there is
    /// no caching layer in this stack: then every write goes straight through and the caller
    /// forwards its own updates. Layers above the cache pass the listener down.
    fn set_flush_listener(&mut self, listener: FlushListener, send_old_values: bool) -> bool {
        let _ = (listener, send_old_values);
        false
    }
}

impl<S: KeyValueStore + ?Sized> KeyValueStore for Box<S> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn persistent(&self) -> bool {
        (**self).persistent()
    }
    fn is_open(&self) -> bool {
        (**self).is_open()
    }
    fn init(&mut self) -> Result<(), StoreError> {
        (**self).init()
    }
    fn get(&self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        (**self).get(key)
    }
    fn put(&mut self, key: Bytes, value: Option<Bytes>) -> Result<(), StoreError> {
        (**self).put(key, value)
    }
    fn read_modify_write(
        &mut self,
        key: &[u8],
        f: &mut dyn FnMut(Option<&Bytes>) -> Option<Option<Bytes>>,
    ) -> Result<(), StoreError> {
        (**self).read_modify_write(key, f)
    }
    fn put_if_absent(&mut self, key: Bytes, value: Bytes) -> Result<Option<Bytes>, StoreError> {
        (**self).put_if_absent(key, value)
    }
    fn put_all(&mut self, entries: &[(Bytes, Option<Bytes>)]) -> Result<(), StoreError> {
        (**self).put_all(entries)
    }
    fn delete(&mut self, key: &Bytes) -> Result<Option<Bytes>, StoreError> {
        (**self).delete(key)
    }
    fn range(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
    ) -> Result<KeyValueIterator<'_>, StoreError> {
        (**self).range(from, to)
    }
    fn reverse_range(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
    ) -> Result<KeyValueIterator<'_>, StoreError> {
        (**self).reverse_range(from, to)
    }
    fn all(&self) -> Result<KeyValueIterator<'_>, StoreError> {
        (**self).all()
    }
    fn reverse_all(&self) -> Result<KeyValueIterator<'_>, StoreError> {
        (**self).reverse_all()
    }
    fn prefix_scan(&self, prefix: &[u8]) -> Result<KeyValueIterator<'_>, StoreError> {
        (**self).prefix_scan(prefix)
    }
    fn approximate_num_entries(&self) -> Result<u64, StoreError> {
        (**self).approximate_num_entries()
    }
    fn flush(&mut self) -> Result<(), StoreError> {
        (**self).flush()
    }
    fn close(&mut self) -> Result<(), StoreError> {
        (**self).close()
    }
    fn set_flush_listener(&mut self, listener: FlushListener, send_old_values: bool) -> bool {
        (**self).set_flush_listener(listener, send_old_values)
    }
}
