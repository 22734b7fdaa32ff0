//! The window layers: the caching layer's per-window merging and its flush listener's
//! `(windowed key, new, old)` records, eviction and write-through; the changelog records and
//! Kafka's changelog keys, with and without duplicates; the metered layer's counts; and the
//! builder leaving caching out for a store of duplicates.
#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

mod windowed_common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use state_stores::{
    CachingWindowStore, ChangeLoggingWindowStore, InMemoryWindowStore, KeyValueStoreMetrics,
    MeteredWindowStore, StoreOperation, WindowFlushListener, WindowStore, WindowStoreBuilder,
    WindowedKey,
};
use windowed_common::*;

type Stack = CachingWindowStore<ChangeLoggingWindowStore<Box<dyn WindowStore>>>;

/// `(windowed key, new, old)` triples a flush listener received.
type Flushed = Arc<Mutex<Vec<(WindowedKey, Option<Bytes>, Option<Bytes>)>>>;

fn recording_listener() -> (Flushed, WindowFlushListener) {
    let flushed: Flushed = Arc::default();
    let sink = flushed.clone();
    let listener: WindowFlushListener = Box::new(move |k, new, old| {
        sink.lock().unwrap().push((k.clone(), new.cloned(), old.cloned()));
    });
    (flushed, listener)
}

fn memory(duplicates: bool) -> Box<dyn WindowStore> {
    Box::new(InMemoryWindowStore::new(
        "s",
        Duration::from_secs(600),
        Duration::from_secs(10),
        duplicates,
    ))
}

/// caching → logging → `backend`, with a recording changelog and flush listener.
fn stack(
    backend: Box<dyn WindowStore>,
    max_bytes: usize,
    send_old_values: bool,
) -> (Stack, Log, Flushed) {
    let (log, writer) = recording_writer();
    let mut store =
        CachingWindowStore::new(ChangeLoggingWindowStore::new(backend, writer), max_bytes);
    let (flushed, listener) = recording_listener();
    assert!(store.set_flush_listener(listener, send_old_values));
    store.init().unwrap();
    (store, log, flushed)
}

fn v(s: &str) -> Option<Bytes> {
    Some(b(s.as_bytes()))
}

fn wk(key: &str, start: i64) -> WindowedKey {
    WindowedKey::new(b(key.as_bytes()), start)
}

fn changelog_key(key: &str, start: i64, seq: u32) -> Bytes {
    wk(key, start).to_changelog_key(seq)
}

#[test]
fn repeated_puts_reach_the_store_once_per_window_per_flush() {
    let dir = tempfile::tempdir().unwrap();
    for backend in [memory(false), rocks_window(dir.path(), WindowSpec::LONG)] {
        let (mut store, log, flushed) = stack(backend, 1 << 20, true);
        for i in 1..=5 {
            store.put(b(b"a"), v(&i.to_string()), 100).unwrap();
        }
        store.put(b(b"a"), v("x"), 200).unwrap();
        assert_eq!(store.fetch(b"a", 100).unwrap(), v("5"));
        assert_eq!(
            store.inner().fetch(b"a", 100).unwrap(),
            None,
            "nothing written before the flush"
        );
        assert!(log.lock().unwrap().is_empty());
        assert_eq!(store.dirty_entries(), 2);

        store.flush().unwrap();
        assert_eq!(store.dirty_entries(), 0);
        assert_eq!(store.inner().fetch(b"a", 100).unwrap(), v("5"));
        assert_eq!(
            take(&log),
            vec![(changelog_key("a", 100, 0), v("5")), (changelog_key("a", 200, 0), v("x"))]
        );
        assert_eq!(
            take(&flushed),
            vec![(wk("a", 100), v("5"), None), (wk("a", 200), v("x"), None)]
        );

        // The next update reports the value it replaces; a delete reports what it deletes.
        store.put(b(b"a"), v("6"), 100).unwrap();
        store.put(b(b"a"), None, 200).unwrap();
        store.flush().unwrap();
        assert_eq!(
            take(&flushed),
            vec![(wk("a", 100), v("6"), v("5")), (wk("a", 200), None, v("x"))]
        );
        assert_eq!(
            take(&log),
            vec![(changelog_key("a", 100, 0), v("6")), (changelog_key("a", 200, 0), None)]
        );
        store.close().unwrap();
    }
}

#[test]
fn without_old_values_only_deletes_carry_theirs() {
    let (mut store, _log, flushed) = stack(memory(false), 1 << 20, false);
    store.put(b(b"a"), v("1"), 0).unwrap();
    store.flush().unwrap();
    store.put(b(b"a"), v("2"), 0).unwrap();
    store.flush().unwrap();
    store.put(b(b"a"), None, 0).unwrap();
    store.flush().unwrap();
    assert_eq!(
        take(&flushed),
        vec![(wk("a", 0), v("1"), None), (wk("a", 0), v("2"), None), (wk("a", 0), None, v("2"))]
    );
}

#[test]
fn a_delete_of_an_absent_window_is_neither_reported_nor_logged() {
    let (mut store, log, flushed) = stack(memory(false), 1 << 20, true);
    store.put(b(b"a"), v("1"), 500).unwrap();
    store.flush().unwrap();
    take(&log);
    take(&flushed);
    store.put(b(b"never"), None, 100).unwrap();
    store.put(b(b"a"), v("2"), 400).unwrap();
    store.put(b(b"a"), None, 400).unwrap(); // written and deleted between two flushes
    store.flush().unwrap();
    assert!(take(&flushed).is_empty());
    assert!(take(&log).is_empty());
}

#[test]
fn a_delete_that_moves_stream_time_moves_it_below_too() {
    let (mut store, log, flushed) = stack(memory(false), 1 << 20, true);
    store.put(b(b"a"), v("1"), 0).unwrap();
    store.flush().unwrap();
    store.put(b(b"nothing"), None, 1_000_000).unwrap();
    assert_eq!(store.observed_stream_time(), Some(1_000_000));
    assert_eq!(store.fetch(b"a", 0).unwrap(), None, "expired at this layer's stream time");
    store.flush().unwrap();
    assert_eq!(store.inner().observed_stream_time(), Some(1_000_000));
    assert!(take(&flushed).iter().all(|(k, _, _)| k.key != b(b"nothing")), "not reported");
    // Logged as a tombstone (harmless: compaction drops it).
    assert!(take(&log).contains(&(changelog_key("nothing", 1_000_000, 0), None)));
}

#[test]
fn a_full_cache_writes_its_least_recently_used_dirty_window_down() {
    let (mut store, log, flushed) = stack(memory(false), 240, true);
    for key in ["a", "b", "c"] {
        store.put(b(key.as_bytes()), v("1"), 0).unwrap();
    }
    assert!(take(&log).is_empty(), "three small windows fit");
    store.fetch(b"a", 0).unwrap(); // "a" is used, so "b" is the least recently used
    store.put(b(b"d"), v("1"), 0).unwrap();
    assert_eq!(take(&log), vec![(changelog_key("b", 0, 0), v("1"))]);
    assert_eq!(take(&flushed), vec![(wk("b", 0), v("1"), None)]);
    assert_eq!(store.inner().fetch(b"b", 0).unwrap(), v("1"));
    assert_eq!(store.fetch(b"b", 0).unwrap(), v("1"), "read from below after eviction");
}

#[test]
fn a_zero_budget_writes_every_put_through() {
    let (mut store, log, flushed) = stack(memory(false), 0, true);
    store.put(b(b"a"), v("1"), 0).unwrap();
    store.put(b(b"a"), v("2"), 0).unwrap();
    assert_eq!(
        take(&log),
        vec![(changelog_key("a", 0, 0), v("1")), (changelog_key("a", 0, 0), v("2"))]
    );
    assert_eq!(take(&flushed), vec![(wk("a", 0), v("1"), None), (wk("a", 0), v("2"), v("1"))]);
    assert_eq!(store.cached_bytes(), 0);
}

#[test]
fn a_store_of_duplicates_is_not_cached() {
    let (log, writer) = recording_writer();
    let mut store =
        CachingWindowStore::new(ChangeLoggingWindowStore::new(memory(true), writer), 1 << 20);
    let (_flushed, listener) = recording_listener();
    assert!(!store.set_flush_listener(listener, true), "no caching layer in effect");
    store.init().unwrap();
    store.put(b(b"a"), v("1"), 0).unwrap();
    store.put(b(b"a"), v("1"), 0).unwrap();
    assert_eq!(
        store.inner().fetch_range(b"a", 0, 0).unwrap().count(),
        2,
        "written straight through"
    );
    assert_eq!(take(&log).len(), 2);

    // The builder leaves the layer out altogether, as Kafka's does.
    let mut built = WindowStoreBuilder::new(InMemoryWindowStore::new(
        "s",
        Duration::from_secs(60),
        Duration::from_secs(1),
        true,
    ))
    .with_caching(1 << 20)
    .build();
    let (_flushed, listener) = recording_listener();
    assert!(!built.set_flush_listener(listener, true));
}

#[test]
fn with_duplicates_each_value_is_logged_under_its_own_sequence_number() {
    let (log, writer) = recording_writer();
    let mut store = ChangeLoggingWindowStore::new(memory(true), writer);
    store.init().unwrap();
    store.put(b(b"a"), v("1"), 10).unwrap();
    store.put(b(b"a"), v("1"), 10).unwrap();
    store.put(b(b"a"), None, 10).unwrap(); // a no-op with duplicates: not logged
    store.put(b(b"b"), v("2"), 20).unwrap();
    let logged = take(&log);
    assert_eq!(
        logged,
        vec![
            (changelog_key("a", 10, 1), v("1")),
            (changelog_key("a", 10, 2), v("1")),
            (changelog_key("b", 20, 3), v("2")),
        ]
    );
    // The changelog key reads back as the windowed key and its sequence number.
    assert_eq!(WindowedKey::from_changelog_key(&logged[1].0), Some((wk("a", 10), 2)));
}

#[test]
fn restoring_from_the_changelog_rebuilds_the_store() {
    // What the runtime does: read each changelog record, decode its key, put it.
    let (log, writer) = recording_writer();
    let mut source = WindowStoreBuilder::new(InMemoryWindowStore::new(
        "s",
        Duration::from_secs(600),
        Duration::from_secs(10),
        true,
    ))
    .with_logging(writer)
    .build();
    source.init().unwrap();
    for (key, start, value) in [("a", 0, "1"), ("a", 0, "2"), ("b", 5, "3"), ("a", 9, "4")] {
        source.put(b(key.as_bytes()), v(value), start).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let mut restored = rocks_window(
        dir.path(),
        WindowSpec { retention_ms: 600_000, window_size_ms: 10_000, duplicates: true },
    );
    restored.init().unwrap();
    for (raw, value) in take(&log) {
        let (key, _seq) = WindowedKey::from_changelog_key(&raw).unwrap();
        restored.put(key.key, value, key.window_start).unwrap();
    }
    assert_eq!(triples(restored.all()), triples(source.all()));
}

#[test]
fn the_metered_layer_counts_each_operation() {
    let metrics = Arc::new(KeyValueStoreMetrics::new());
    let mut store = MeteredWindowStore::with_metrics(memory(false), metrics.clone());
    store.init().unwrap();
    store.put(b(b"a"), v("1"), 0).unwrap();
    store.put(b(b"a"), None, 0).unwrap();
    store.fetch(b"a", 0).unwrap();
    drop(store.fetch_range(b"a", 0, 10).unwrap());
    drop(store.backward_fetch_key_range(None, None, 0, 10).unwrap());
    drop(store.fetch_all(0, 10).unwrap());
    drop(store.all().unwrap());
    store.flush().unwrap();
    let count = |op| metrics.operation(op).count;
    assert_eq!(count(StoreOperation::Put), 2);
    assert_eq!(count(StoreOperation::Get), 1);
    assert_eq!(count(StoreOperation::Range), 3);
    assert_eq!(count(StoreOperation::All), 1);
    assert_eq!(count(StoreOperation::Flush), 1);
    store.close().unwrap();
    assert!(store.fetch(b"a", 0).is_err());
    assert_eq!(metrics.operation(StoreOperation::Get).errors, 1);
}
