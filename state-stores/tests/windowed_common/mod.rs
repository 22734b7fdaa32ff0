//! Helpers shared by the window and session store tests.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use bytes::Bytes;
use state_stores::{
    InMemoryWindowStore, RocksDbConfig, RocksDbWindowStore, StoreError, WindowIterator,
    WindowStore, WindowedKey,
};

/// One block cache for every RocksDB store of the test binary, as an application would have.
pub static ROCKS: LazyLock<RocksDbConfig> = LazyLock::new(|| RocksDbConfig::new(8 * 1024 * 1024));

pub fn b(bytes: &[u8]) -> Bytes {
    Bytes::copy_from_slice(bytes)
}

/// How a window store under test is configured.
#[derive(Debug, Clone, Copy)]
pub struct WindowSpec {
    pub retention_ms: u64,
    pub window_size_ms: u64,
    pub duplicates: bool,
}

impl WindowSpec {
    /// A long retention (nothing the scenarios write expires unless they say so).
    pub const LONG: WindowSpec =
        WindowSpec { retention_ms: 10 * 60_000, window_size_ms: 10, duplicates: false };

    pub fn retention(self) -> Duration {
        Duration::from_millis(self.retention_ms)
    }

    pub fn size(self) -> Duration {
        Duration::from_millis(self.window_size_ms)
    }
}

/// Opens (creates, closed) a window store whose data lives under `dir`.
pub type OpenWindow = fn(&Path, WindowSpec) -> Box<dyn WindowStore>;

pub fn memory_window(_dir: &Path, spec: WindowSpec) -> Box<dyn WindowStore> {
    Box::new(InMemoryWindowStore::new("store", spec.retention(), spec.size(), spec.duplicates))
}

pub fn rocks_window(dir: &Path, spec: WindowSpec) -> Box<dyn WindowStore> {
    Box::new(RocksDbWindowStore::new(
        "store",
        dir.join("store"),
        &ROCKS,
        spec.retention(),
        spec.size(),
        spec.duplicates,
    ))
}

/// Every record of a window scan, failing the test on a storage error.
pub fn windows(iter: Result<WindowIterator<'_>, StoreError>) -> Vec<(WindowedKey, Bytes)> {
    iter.expect("scan starts").collect::<Result<Vec<_>, _>>().expect("scan completes")
}

/// `(key, window start, value)` of a window scan, for compact expectations.
pub fn triples(iter: Result<WindowIterator<'_>, StoreError>) -> Vec<(Bytes, i64, Bytes)> {
    windows(iter).into_iter().map(|(k, v)| (k.key, k.window_start, v)).collect()
}

/// `(key, window start)` of a window scan.
pub fn starts(iter: Result<WindowIterator<'_>, StoreError>) -> Vec<(Bytes, i64)> {
    windows(iter).into_iter().map(|(k, _)| (k.key, k.window_start)).collect()
}

/// The documented store order: by the bytes of `[key][start BE][seq BE]`.
pub fn window_order_key(key: &[u8], start: i64, seq: u32) -> Vec<u8> {
    let mut raw = key.to_vec();
    raw.extend_from_slice(&start.to_be_bytes());
    raw.extend_from_slice(&seq.to_be_bytes());
    raw
}

/// Records what a changelog writer receives.
pub type Log = Arc<Mutex<Vec<(Bytes, Option<Bytes>)>>>;

/// A changelog writer that appends to the returned log.
pub fn recording_writer() -> (Log, impl FnMut(&Bytes, Option<&Bytes>) + Send + 'static) {
    let log: Log = Arc::default();
    let sink = log.clone();
    (log, move |k: &Bytes, v: Option<&Bytes>| sink.lock().unwrap().push((k.clone(), v.cloned())))
}

pub fn take<T>(list: &Mutex<Vec<T>>) -> Vec<T> {
    std::mem::take(&mut *list.lock().unwrap())
}

/// A cache that holds everything the scenarios write.
pub const ROOMY: usize = 1024 * 1024;
/// A cache that holds about three small entries, so that most writes evict.
pub const TINY: usize = 240;

pub fn window_metered(store: Box<dyn WindowStore>) -> Box<dyn WindowStore> {
    state_stores::WindowStoreBuilder::from_boxed(store)
        .with_metrics(Arc::new(state_stores::KeyValueStoreMetrics::new()))
        .build()
}

pub fn window_caching(store: Box<dyn WindowStore>, max_bytes: usize) -> Box<dyn WindowStore> {
    state_stores::WindowStoreBuilder::from_boxed(store).with_caching(max_bytes).build()
}

pub fn window_logging(store: Box<dyn WindowStore>) -> Box<dyn WindowStore> {
    state_stores::WindowStoreBuilder::from_boxed(store)
        .with_logging(|_: &Bytes, _: Option<&Bytes>| {})
        .build()
}

pub fn window_stacked(store: Box<dyn WindowStore>, max_bytes: usize) -> Box<dyn WindowStore> {
    state_stores::WindowStoreBuilder::from_boxed(store)
        .with_metrics(Arc::new(state_stores::KeyValueStoreMetrics::new()))
        .with_caching(max_bytes)
        .with_logging(|_: &Bytes, _: Option<&Bytes>| {})
        .build()
}

// ---- Session stores ----

use state_stores::{
    InMemorySessionStore, RocksDbSessionStore, SessionIterator, SessionKey, SessionStore,
    SessionStoreBuilder,
};

/// Opens (creates, closed) a session store with `retention_ms` whose data lives under `dir`.
pub type OpenSession = fn(&Path, u64) -> Box<dyn SessionStore>;

pub fn memory_session(_dir: &Path, retention_ms: u64) -> Box<dyn SessionStore> {
    Box::new(InMemorySessionStore::new("store", Duration::from_millis(retention_ms)))
}

pub fn rocks_session(dir: &Path, retention_ms: u64) -> Box<dyn SessionStore> {
    Box::new(RocksDbSessionStore::new(
        "store",
        dir.join("store"),
        &ROCKS,
        Duration::from_millis(retention_ms),
    ))
}

pub fn session_metered(store: Box<dyn SessionStore>) -> Box<dyn SessionStore> {
    SessionStoreBuilder::from_boxed(store)
        .with_metrics(Arc::new(state_stores::KeyValueStoreMetrics::new()))
        .build()
}

pub fn session_caching(store: Box<dyn SessionStore>, max_bytes: usize) -> Box<dyn SessionStore> {
    SessionStoreBuilder::from_boxed(store).with_caching(max_bytes).build()
}

pub fn session_logging(store: Box<dyn SessionStore>) -> Box<dyn SessionStore> {
    SessionStoreBuilder::from_boxed(store).with_logging(|_: &Bytes, _: Option<&Bytes>| {}).build()
}

pub fn session_stacked(store: Box<dyn SessionStore>, max_bytes: usize) -> Box<dyn SessionStore> {
    SessionStoreBuilder::from_boxed(store)
        .with_metrics(Arc::new(state_stores::KeyValueStoreMetrics::new()))
        .with_caching(max_bytes)
        .with_logging(|_: &Bytes, _: Option<&Bytes>| {})
        .build()
}

/// Every session of a search, failing the test on a storage error.
pub fn sessions(iter: Result<SessionIterator<'_>, StoreError>) -> Vec<(SessionKey, Bytes)> {
    iter.expect("search starts").collect::<Result<Vec<_>, _>>().expect("search completes")
}

/// `(key, start, end)` of a search.
pub fn spans(iter: Result<SessionIterator<'_>, StoreError>) -> Vec<(Bytes, i64, i64)> {
    sessions(iter).into_iter().map(|(s, _)| (s.key, s.start, s.end)).collect()
}

/// The documented store order: by the bytes of `[key][end BE][start BE]`.
pub fn session_order_key(key: &[u8], start: i64, end: i64) -> Vec<u8> {
    let mut raw = key.to_vec();
    raw.extend_from_slice(&end.to_be_bytes());
    raw.extend_from_slice(&start.to_be_bytes());
    raw
}
