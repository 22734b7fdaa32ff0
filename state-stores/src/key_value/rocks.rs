//! The RocksDB backend: one RocksDB instance per store directory.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use rocksdb::{DB, FlushOptions, IteratorMode, ReadOptions, WriteBatch, WriteOptions};

use crate::StoreError;
use crate::bounds;
use crate::key_value::{KeyValueIterator, KeyValueStore};
use crate::rocks::config::RocksDbConfig;
use crate::rocks::store_error;

/// A persistent key-value store in its own RocksDB instance: Kafka's `RocksDBStore`.
///
/// The directory holds one RocksDB database; while the store is open, RocksDB's `LOCK` file keeps
/// any other store (in this process or another) from opening it ([`StoreError::LockHeld`]).
/// Damaged files give [`StoreError::Corrupted`] naming the directory, never a panic.
///
/// Writes skip the write-ahead log (the changelog is the source of truth), so a write is durable
/// only after [`flush`](KeyValueStore::flush), which writes the memtables to table files;
/// [`close`](KeyValueStore::close) flushes too. After a crash, the runtime discards state newer
/// than its checkpoint and replays the changelog. [`put_all`](KeyValueStore::put_all) is one atomic
/// write batch.
///
/// Iterators copy each key and value out of RocksDB once and read a consistent snapshot taken when
/// the iterator was created.
///
/// ```
/// use bytes::Bytes;
/// use state_stores::{KeyValueStore, RocksDbConfig, RocksDbKeyValueStore};
///
/// let dir = tempfile::tempdir()?;
/// let config = RocksDbConfig::default(); // once per application
/// let mut store = RocksDbKeyValueStore::new("counts", dir.path().join("counts"), &config);
/// store.init()?;
/// store.put(Bytes::from_static(b"a"), Some(Bytes::from_static(b"1")))?;
/// store.close()?;
///
/// store.init()?;
/// assert_eq!(store.get(b"a")?, Some(Bytes::from_static(b"1")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RocksDbKeyValueStore {
    name: String,
    path: PathBuf,
    config: RocksDbConfig,
    db: Option<OpenDb>,
}

/// The open database and the options reused by every call (creating RocksDB options allocates).
struct OpenDb {
    db: DB,
    read: ReadOptions,
    write: WriteOptions,
    flush: FlushOptions,
}

impl RocksDbKeyValueStore {
    /// A closed store over the RocksDB database at `path` (created on [`init`](KeyValueStore::init)
    /// if missing), using the application's shared `config`.
    pub fn new(name: impl Into<String>, path: impl Into<PathBuf>, config: &RocksDbConfig) -> Self {
        Self { name: name.into(), path: path.into(), config: config.clone(), db: None }
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn open_db(&self) -> Result<&OpenDb, StoreError> {
        self.db.as_ref().ok_or_else(|| StoreError::Closed { store: self.name.clone() })
    }

    fn error(&self, err: rocksdb::Error) -> StoreError {
        store_error(err, &self.name, &self.path)
    }

    /// Iterates between optional bounds (`lower` inclusive, `upper` exclusive).
    fn scan(
        &self,
        lower: Option<Vec<u8>>,
        upper: Option<Vec<u8>>,
        reverse: bool,
    ) -> Result<KeyValueIterator<'_>, StoreError> {
        let open = self.open_db()?;
        let mut read = ReadOptions::default();
        if let Some(lower) = lower {
            read.set_iterate_lower_bound(lower);
        }
        if let Some(upper) = upper {
            read.set_iterate_upper_bound(upper);
        }
        // With bounds set, RocksDB's SeekToFirst/SeekToLast start at the bounds.
        let mode = if reverse { IteratorMode::End } else { IteratorMode::Start };
        let (name, path) = (self.name.as_str(), self.path.as_path());
        Ok(Box::new(open.db.iterator_opt(mode, read).map(move |item| match item {
            Ok((key, value)) => Ok((Bytes::from(key), Bytes::from(value))),
            Err(err) => Err(store_error(err, name, path)),
        })))
    }

    fn range_scan(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
        reverse: bool,
    ) -> Result<KeyValueIterator<'_>, StoreError> {
        self.open_db()?;
        if bounds::is_inverted(from, to) {
            bounds::warn_inverted(&self.name);
            return Ok(Box::new(std::iter::empty()));
        }
        self.scan(from.map(<[u8]>::to_vec), to.map(bounds::after), reverse)
    }
}

impl std::fmt::Debug for RocksDbKeyValueStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksDbKeyValueStore")
            .field("name", &self.name)
            .field("path", &self.path)
            .field("open", &self.db.is_some())
            .finish()
    }
}

impl KeyValueStore for RocksDbKeyValueStore {
    fn name(&self) -> &str {
        &self.name
    }

    fn persistent(&self) -> bool {
        true
    }

    fn is_open(&self) -> bool {
        self.db.is_some()
    }

    fn init(&mut self) -> Result<(), StoreError> {
        if self.db.is_some() {
            return Ok(());
        }
        std::fs::create_dir_all(&self.path)
            .map_err(|source| StoreError::Io { path: self.path.clone(), source })?;
        let db = DB::open(&self.config.options(), &self.path).map_err(|err| self.error(err))?;
        let mut write = WriteOptions::default();
        write.disable_wal(true);
        let mut flush = FlushOptions::default();
        flush.set_wait(true);
        self.db = Some(OpenDb { db, read: ReadOptions::default(), write, flush });
        tracing::debug!(store = %self.name, path = %self.path.display(), "opened RocksDB store");
        Ok(())
    }

    fn get(&self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        let open = self.open_db()?;
        match open.db.get_pinned_opt(key, &open.read) {
            Ok(value) => Ok(value.map(|value| Bytes::copy_from_slice(&value))),
            Err(err) => Err(self.error(err)),
        }
    }

    fn put(&mut self, key: Bytes, value: Option<Bytes>) -> Result<(), StoreError> {
        let open = self.open_db()?;
        let result = match value {
            Some(value) => open.db.put_opt(&key, &value, &open.write),
            None => open.db.delete_opt(&key, &open.write),
        };
        result.map_err(|err| self.error(err))
    }

    fn put_if_absent(&mut self, key: Bytes, value: Bytes) -> Result<Option<Bytes>, StoreError> {
        if let Some(existing) = self.get(&key)? {
            return Ok(Some(existing));
        }
        self.put(key, Some(value))?;
        Ok(None)
    }

    fn put_all(&mut self, entries: &[(Bytes, Option<Bytes>)]) -> Result<(), StoreError> {
        let open = self.open_db()?;
        let mut batch = WriteBatch::default();
        for (key, value) in entries {
            match value {
                Some(value) => batch.put(key, value),
                None => batch.delete(key),
            }
        }
        open.db.write_opt(batch, &open.write).map_err(|err| self.error(err))
    }

    fn delete(&mut self, key: &Bytes) -> Result<Option<Bytes>, StoreError> {
        let old = self.get(key)?;
        if old.is_some() {
            self.put(key.clone(), None)?;
        }
        Ok(old)
    }

    fn range(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
    ) -> Result<KeyValueIterator<'_>, StoreError> {
        self.range_scan(from, to, false)
    }

    fn reverse_range(
        &self,
        from: Option<&[u8]>,
        to: Option<&[u8]>,
    ) -> Result<KeyValueIterator<'_>, StoreError> {
        self.range_scan(from, to, true)
    }

    fn prefix_scan(&self, prefix: &[u8]) -> Result<KeyValueIterator<'_>, StoreError> {
        self.scan(Some(prefix.to_vec()), bounds::prefix_end(prefix), false)
    }

    fn approximate_num_entries(&self) -> Result<u64, StoreError> {
        let open = self.open_db()?;
        let estimate = open
            .db
            .property_int_value("rocksdb.estimate-num-keys")
            .map_err(|err| self.error(err))?;
        Ok(estimate.unwrap_or(0))
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        let open = self.open_db()?;
        open.db.flush_opt(&open.flush).map_err(|err| self.error(err))
    }

    fn close(&mut self) -> Result<(), StoreError> {
        let Some(open) = self.db.take() else {
            return Ok(());
        };
        let flushed = open.db.flush_opt(&open.flush).map_err(|err| self.error(err));
        // Dropping the handle closes the database and releases its LOCK file.
        drop(open);
        tracing::debug!(store = %self.name, path = %self.path.display(), "closed RocksDB store");
        flushed
    }
}
