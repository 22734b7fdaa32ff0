//! The session layers: the caching layer's per-session merging and its flush listener's
//! `(session, new, old)` records, the changelog records under Kafka's session keys, the metered
//! layer's counts, restoring from a changelog, and the RocksDB backend's segments by end time.
#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

mod windowed_common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use state_stores::{
    CachingSessionStore, ChangeLoggingSessionStore, InMemorySessionStore, KeyValueStoreMetrics,
    MeteredSessionStore, RocksDbSessionStore, SessionFlushListener, SessionKey, SessionStore,
    SessionStoreBuilder, StoreOperation,
};
use windowed_common::*;

type Stack = CachingSessionStore<ChangeLoggingSessionStore<Box<dyn SessionStore>>>;

/// `(session, new, old)` triples a flush listener received.
type Flushed = Arc<Mutex<Vec<(SessionKey, Option<Bytes>, Option<Bytes>)>>>;

fn recording_listener() -> (Flushed, SessionFlushListener) {
    let flushed: Flushed = Arc::default();
    let sink = flushed.clone();
    let listener: SessionFlushListener = Box::new(move |k, new, old| {
        sink.lock().unwrap().push((k.clone(), new.cloned(), old.cloned()));
    });
    (flushed, listener)
}

fn memory() -> Box<dyn SessionStore> {
    Box::new(InMemorySessionStore::new("s", Duration::from_secs(600)))
}

fn stack(
    backend: Box<dyn SessionStore>,
    max_bytes: usize,
    send_old_values: bool,
) -> (Stack, Log, Flushed) {
    let (log, writer) = recording_writer();
    let mut store =
        CachingSessionStore::new(ChangeLoggingSessionStore::new(backend, writer), max_bytes);
    let (flushed, listener) = recording_listener();
    assert!(store.set_flush_listener(listener, send_old_values));
    store.init().unwrap();
    (store, log, flushed)
}

fn v(s: &str) -> Option<Bytes> {
    Some(b(s.as_bytes()))
}

fn s(key: &str, start: i64, end: i64) -> SessionKey {
    SessionKey::new(b(key.as_bytes()), start, end)
}

#[test]
fn repeated_puts_reach_the_store_once_per_session_per_flush() {
    let dir = tempfile::tempdir().unwrap();
    for backend in [memory(), rocks_session(dir.path(), 600_000)] {
        let (mut store, log, flushed) = stack(backend, 1 << 20, true);
        for i in 1..=3 {
            store.put(s("a", 0, 10), v(&i.to_string())).unwrap();
        }
        assert_eq!(store.inner().fetch_session(b"a", 0, 10).unwrap(), None, "not yet written");
        assert_eq!(store.fetch_session(b"a", 0, 10).unwrap(), v("3"));
        store.flush().unwrap();
        assert_eq!(take(&log), vec![(s("a", 0, 10).to_changelog_key(), v("3"))]);
        assert_eq!(take(&flushed), vec![(s("a", 0, 10), v("3"), None)]);

        // A merge: the old session removed, the merged one put; both reported, old values
        // included.
        store.remove(s("a", 0, 10)).unwrap();
        store.put(s("a", 0, 25), v("4")).unwrap();
        store.flush().unwrap();
        assert_eq!(
            take(&flushed),
            vec![(s("a", 0, 10), None, v("3")), (s("a", 0, 25), v("4"), None)]
        );
        assert_eq!(
            take(&log),
            vec![
                (s("a", 0, 10).to_changelog_key(), None),
                (s("a", 0, 25).to_changelog_key(), v("4"))
            ]
        );
        store.close().unwrap();
    }
}

#[test]
fn a_removal_of_an_absent_session_is_neither_reported_nor_logged() {
    let (mut store, log, flushed) = stack(memory(), 1 << 20, true);
    store.put(s("a", 0, 500), v("1")).unwrap();
    store.flush().unwrap();
    take(&log);
    take(&flushed);
    store.remove(s("never", 0, 100)).unwrap();
    store.flush().unwrap();
    assert!(take(&flushed).is_empty());
    assert!(take(&log).is_empty());
}

#[test]
fn a_full_cache_writes_sessions_down_and_a_zero_budget_writes_through() {
    let (mut store, log, flushed) = stack(memory(), 0, false);
    store.put(s("a", 0, 0), v("1")).unwrap();
    assert_eq!(take(&log), vec![(s("a", 0, 0).to_changelog_key(), v("1"))]);
    assert_eq!(take(&flushed), vec![(s("a", 0, 0), v("1"), None)]);

    let (mut store, log, _flushed) = stack(memory(), 240, false);
    for key in ["a", "b"] {
        store.put(s(key, 0, 0), v("1")).unwrap();
    }
    assert!(take(&log).is_empty(), "two sessions fit");
    store.put(s("c", 0, 0), v("1")).unwrap();
    store.put(s("d", 0, 0), v("1")).unwrap();
    assert!(!take(&log).is_empty(), "the least recently used session was written down");
    assert_eq!(sessions(store.find_sessions_in_key_range(None, None, 0, 10)).len(), 4);
}

#[test]
fn restoring_from_the_changelog_rebuilds_the_store() {
    let (log, writer) = recording_writer();
    let mut source =
        SessionStoreBuilder::new(InMemorySessionStore::new("s", Duration::from_secs(600)))
            .with_caching(1 << 20)
            .with_logging(writer)
            .build();
    source.init().unwrap();
    source.put(s("a", 0, 10), v("1")).unwrap();
    source.put(s("b", 5, 5), v("2")).unwrap();
    source.flush().unwrap();
    source.remove(s("a", 0, 10)).unwrap();
    source.put(s("a", 0, 20), v("3")).unwrap();
    source.flush().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut restored = rocks_session(dir.path(), 600_000);
    restored.init().unwrap();
    for (raw, value) in take(&log) {
        restored.put(SessionKey::from_changelog_key(&raw).unwrap(), value).unwrap();
    }
    let all = |store: &dyn SessionStore| {
        sessions(store.find_sessions_in_key_range(None, None, 0, i64::MAX))
    };
    assert_eq!(all(&*restored), all(&*source));
    assert_eq!(all(&*restored).len(), 2);
}

#[test]
fn the_metered_layer_counts_each_operation() {
    let metrics = Arc::new(KeyValueStoreMetrics::new());
    let mut store = MeteredSessionStore::with_metrics(memory(), metrics.clone());
    store.init().unwrap();
    store.put(s("a", 0, 0), v("1")).unwrap();
    store.remove(s("a", 0, 0)).unwrap();
    store.fetch_session(b"a", 0, 0).unwrap();
    drop(store.find_sessions(b"a", 0, 10).unwrap());
    drop(store.backward_find_sessions_in_key_range(None, None, 0, 10).unwrap());
    drop(store.fetch(b"a").unwrap());
    store.flush().unwrap();
    let count = |op| metrics.operation(op).count;
    assert_eq!(count(StoreOperation::Put), 1);
    assert_eq!(count(StoreOperation::Delete), 1);
    assert_eq!(count(StoreOperation::Get), 1);
    assert_eq!(count(StoreOperation::Range), 3);
    assert_eq!(count(StoreOperation::Flush), 1);
}

#[test]
fn rocksdb_files_sessions_in_segments_by_end_time_and_drops_expired_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("visits");
    let mut store = RocksDbSessionStore::new("visits", &path, &ROCKS, Duration::from_secs(120));
    assert_eq!(store.segment_interval_ms(), 60_000);
    store.init().unwrap();
    // A session that starts in one segment and ends in the next is filed by its end.
    store.put(s("a", 50_000, 70_000), v("1")).unwrap();
    store.put(s("b", 0, 10_000), v("1")).unwrap();
    let dirs = || {
        let mut names: Vec<String> = std::fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    assert_eq!(dirs(), ["visits.0", "visits.60000"]);
    store.put(s("c", 190_000, 190_000), v("1")).unwrap(); // ends up to 70 s expire
    assert_eq!(dirs(), ["visits.180000", "visits.60000"], "segment 60 s still holds live ends");
    store.put(s("c", 240_000, 240_000), v("1")).unwrap(); // ends up to 120 s expire
    assert_eq!(dirs(), ["visits.180000", "visits.240000"]);
    store.close().unwrap();
    let mut reopened = RocksDbSessionStore::new("visits", &path, &ROCKS, Duration::from_secs(120));
    reopened.init().unwrap();
    assert_eq!(reopened.fetch_session(b"c", 190_000, 190_000).unwrap(), v("1"));
    assert_eq!(reopened.observed_stream_time(), Some(240_000));
    assert_eq!(reopened.fetch_session(b"a", 50_000, 70_000).unwrap(), None);
}
