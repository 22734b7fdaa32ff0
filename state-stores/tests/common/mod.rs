//! Helpers shared by the state-store integration tests.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex};

use bytes::Bytes;
use state_stores::{
    InMemoryKeyValueStore, KeyValueStore, KeyValueStoreBuilder, KeyValueStoreMetrics,
    RocksDbConfig, RocksDbKeyValueStore, StoreError,
};

/// One block cache for every RocksDB store of the test binary, as an application would have.
pub static ROCKS: LazyLock<RocksDbConfig> = LazyLock::new(|| RocksDbConfig::new(8 * 1024 * 1024));

/// Opens (creates, closed) a store whose data lives under `dir`.
pub type Open = fn(&Path) -> Box<dyn KeyValueStore>;

pub fn b(bytes: &[u8]) -> Bytes {
    Bytes::copy_from_slice(bytes)
}

pub fn memory(_dir: &Path) -> Box<dyn KeyValueStore> {
    Box::new(InMemoryKeyValueStore::new("store"))
}

pub fn rocks(dir: &Path) -> Box<dyn KeyValueStore> {
    Box::new(RocksDbKeyValueStore::new("store", dir.join("store"), &ROCKS))
}

pub fn metered(store: Box<dyn KeyValueStore>) -> Box<dyn KeyValueStore> {
    KeyValueStoreBuilder::from_boxed(store)
        .with_metrics(Arc::new(KeyValueStoreMetrics::new()))
        .build()
}

pub fn caching(store: Box<dyn KeyValueStore>, max_bytes: usize) -> Box<dyn KeyValueStore> {
    KeyValueStoreBuilder::from_boxed(store).with_caching(max_bytes).build()
}

pub fn logging(store: Box<dyn KeyValueStore>) -> Box<dyn KeyValueStore> {
    KeyValueStoreBuilder::from_boxed(store).with_logging(|_: &Bytes, _: Option<&Bytes>| {}).build()
}

pub fn stacked(store: Box<dyn KeyValueStore>, max_bytes: usize) -> Box<dyn KeyValueStore> {
    KeyValueStoreBuilder::from_boxed(store)
        .with_metrics(Arc::new(KeyValueStoreMetrics::new()))
        .with_caching(max_bytes)
        .with_logging(|_: &Bytes, _: Option<&Bytes>| {})
        .build()
}

/// Every entry of a scan, failing the test on a storage error.
pub fn collect(
    iter: Result<state_stores::KeyValueIterator<'_>, StoreError>,
) -> Vec<(Bytes, Bytes)> {
    iter.expect("scan starts").collect::<Result<Vec<_>, _>>().expect("scan completes")
}

/// The keys of a scan.
pub fn keys(iter: Result<state_stores::KeyValueIterator<'_>, StoreError>) -> Vec<Bytes> {
    collect(iter).into_iter().map(|(k, _)| k).collect()
}

/// Records what a changelog writer or a flush listener receives.
pub type Log = Arc<Mutex<Vec<(Bytes, Option<Bytes>)>>>;

/// A changelog writer that appends to the returned log.
pub fn recording_writer() -> (Log, impl FnMut(&Bytes, Option<&Bytes>) + Send + 'static) {
    let log: Log = Arc::default();
    let sink = log.clone();
    (log, move |k: &Bytes, v: Option<&Bytes>| sink.lock().unwrap().push((k.clone(), v.cloned())))
}

/// `(key, new value, old value)` triples a flush listener received.
pub type Flushed = Arc<Mutex<Vec<(Bytes, Option<Bytes>, Option<Bytes>)>>>;

/// A flush listener that appends to the returned list.
pub fn recording_listener() -> (Flushed, state_stores::FlushListener) {
    let flushed: Flushed = Arc::default();
    let sink = flushed.clone();
    let listener: state_stores::FlushListener =
        Box::new(move |k: &Bytes, new: Option<&Bytes>, old: Option<&Bytes>| {
            sink.lock().unwrap().push((k.clone(), new.cloned(), old.cloned()));
        });
    (flushed, listener)
}
