//! The caching layer: per-key merging between flushes, the flush listener's (key, new, old)
//! records, eviction under the byte budget, and write-through at size 0.
#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

mod common;

use std::sync::Arc;

use bytes::Bytes;
use common::*;
use state_stores::{
    CachingKeyValueStore, ChangeLoggingKeyValueStore, InMemoryKeyValueStore, KeyValueStore,
    KeyValueStoreBuilder, KeyValueStoreMetrics, RocksDbKeyValueStore,
};

type Stack = CachingKeyValueStore<ChangeLoggingKeyValueStore<Box<dyn KeyValueStore>>>;

/// caching → logging → `backend`, with a recording changelog and flush listener.
fn stack(
    backend: Box<dyn KeyValueStore>,
    max_bytes: usize,
    send_old_values: bool,
) -> (Stack, Log, Flushed) {
    let (log, writer) = recording_writer();
    let mut store =
        CachingKeyValueStore::new(ChangeLoggingKeyValueStore::new(backend, writer), max_bytes);
    let (flushed, listener) = recording_listener();
    assert!(store.set_flush_listener(listener, send_old_values));
    store.init().unwrap();
    (store, log, flushed)
}

fn v(s: &str) -> Option<Bytes> {
    Some(b(s.as_bytes()))
}

/// What the layer below the cache holds for `key`.
fn below(store: &Stack, key: &str) -> Option<Bytes> {
    store.inner().get(key.as_bytes()).unwrap()
}

fn take<T>(list: &std::sync::Mutex<Vec<T>>) -> Vec<T> {
    std::mem::take(&mut *list.lock().unwrap())
}

#[test]
fn repeated_puts_reach_the_store_once_per_key_per_flush() {
    for backend in [memory as Open, rocks] {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, log, flushed) = stack(backend(dir.path()), 1 << 20, true);
        for i in 1..=5 {
            store.put(b(b"a"), v(&i.to_string())).unwrap();
        }
        store.put(b(b"b"), v("1")).unwrap();
        assert_eq!(store.get(b"a").unwrap(), v("5"));
        assert_eq!(below(&store, "a"), None, "nothing is written down before the flush");
        assert!(log.lock().unwrap().is_empty());
        assert_eq!(store.dirty_entries(), 2);

        store.flush().unwrap();
        assert_eq!(take(&log), vec![(b(b"a"), v("5")), (b(b"b"), v("1"))]);
        assert_eq!(take(&flushed), vec![(b(b"a"), v("5"), None), (b(b"b"), v("1"), None)]);
        assert_eq!(below(&store, "a"), v("5"));
        assert_eq!(store.dirty_entries(), 0);

        // Nothing dirty: a second flush writes and forwards nothing.
        store.flush().unwrap();
        assert!(log.lock().unwrap().is_empty());
        assert!(flushed.lock().unwrap().is_empty());

        // The next round forwards the old value the store held.
        store.put(b(b"a"), v("6")).unwrap();
        store.put(b(b"a"), v("7")).unwrap();
        store.flush().unwrap();
        assert_eq!(take(&log), vec![(b(b"a"), v("7"))]);
        assert_eq!(take(&flushed), vec![(b(b"a"), v("7"), v("5"))]);
        store.close().unwrap();
    }
}

#[test]
fn flush_order_is_the_order_of_last_writes() {
    let (mut store, log, _flushed) = stack(memory(std::path::Path::new("")), 1 << 20, false);
    store.put(b(b"a"), v("1")).unwrap();
    store.put(b(b"b"), v("1")).unwrap();
    store.put(b(b"c"), v("1")).unwrap();
    store.put(b(b"a"), v("2")).unwrap();
    store.flush().unwrap();
    let order: Vec<Bytes> = take(&log).into_iter().map(|(k, _)| k).collect();
    assert_eq!(order, vec![b(b"b"), b(b"c"), b(b"a")]);
}

#[test]
fn deletes_forward_the_old_value_and_deletes_of_absent_keys_are_dropped() {
    // Without old values requested, updates carry none but deletes still carry theirs (Kafka).
    let (mut store, log, flushed) = stack(memory(std::path::Path::new("")), 1 << 20, false);
    store.put(b(b"a"), v("1")).unwrap();
    store.flush().unwrap();
    take(&log);
    take(&flushed);

    store.put(b(b"a"), v("2")).unwrap();
    store.flush().unwrap();
    assert_eq!(take(&flushed), vec![(b(b"a"), v("2"), None)]);

    assert_eq!(store.delete(&b(b"a")).unwrap(), v("2"));
    // Created and deleted between two flushes: the store below never sees it.
    store.put(b(b"tmp"), v("x")).unwrap();
    store.delete(&b(b"tmp")).unwrap();
    store.put(b(b"never"), None).unwrap();
    store.flush().unwrap();
    assert_eq!(take(&flushed), vec![(b(b"a"), None, v("2"))]);
    assert_eq!(take(&log), vec![(b(b"a"), v("2")), (b(b"a"), None)]);
    assert_eq!(below(&store, "a"), None);
}

#[test]
fn a_full_cache_writes_its_least_recently_used_dirty_entry_down() {
    // Room for two entries of a one-byte key and value (each costs 2 + 64 bytes).
    let (mut store, log, flushed) = stack(memory(std::path::Path::new("")), 2 * 66, true);
    store.put(b(b"1"), v("a")).unwrap();
    store.put(b(b"2"), v("a")).unwrap();
    assert!(log.lock().unwrap().is_empty());
    // Reading 1 makes 2 the least recently used.
    assert_eq!(store.get(b"1").unwrap(), v("a"));
    store.put(b(b"3"), v("a")).unwrap();
    assert_eq!(take(&log), vec![(b(b"2"), v("a"))]);
    assert_eq!(take(&flushed), vec![(b(b"2"), v("a"), None)]);
    assert_eq!(below(&store, "2"), v("a"));
    // The evicted key still reads correctly, from below.
    assert_eq!(store.get(b"2").unwrap(), v("a"));
    assert!(store.cached_bytes() <= 2 * 66);

    store.flush().unwrap();
    assert_eq!(take(&log), vec![(b(b"1"), v("a")), (b(b"3"), v("a"))]);
    // Clean entries are evicted without writing anything.
    store.put(b(b"4"), v("a")).unwrap();
    store.put(b(b"5"), v("a")).unwrap();
    assert!(log.lock().unwrap().is_empty());
}

#[test]
fn cache_size_zero_writes_every_put_straight_through() {
    let (mut store, log, flushed) = stack(memory(std::path::Path::new("")), 0, true);
    store.put(b(b"a"), v("1")).unwrap();
    assert_eq!(below(&store, "a"), v("1"));
    store.put(b(b"a"), v("2")).unwrap();
    store.delete(&b(b"a")).unwrap();
    store.delete(&b(b"a")).unwrap(); // absent: nothing to forward
    store.put_all(&[(b(b"x"), v("1")), (b(b"y"), v("1"))]).unwrap();
    assert_eq!(
        take(&flushed),
        vec![
            (b(b"a"), v("1"), None),
            (b(b"a"), v("2"), v("1")),
            (b(b"a"), None, v("2")),
            (b(b"x"), v("1"), None),
            (b(b"y"), v("1"), None),
        ]
    );
    assert_eq!(take(&log).len(), 5);
    assert_eq!(store.cached_bytes(), 0);
    assert_eq!(store.dirty_entries(), 0);
}

#[test]
fn close_flushes_the_cache_and_rocksdb_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, log, flushed) = stack(rocks(dir.path()), 1 << 20, true);
    store.put(b(b"k"), v("1")).unwrap();
    store.put(b(b"k"), v("2")).unwrap();
    store.close().unwrap();
    assert_eq!(take(&log), vec![(b(b"k"), v("2"))]);
    assert_eq!(take(&flushed), vec![(b(b"k"), v("2"), None)]);

    let mut reopened = RocksDbKeyValueStore::new("store", dir.path().join("store"), &ROCKS);
    reopened.init().unwrap();
    assert_eq!(reopened.get(b"k").unwrap(), v("2"));
}

#[test]
fn the_flush_listener_reaches_the_cache_through_the_builder_only_if_there_is_one() {
    let mut cached = KeyValueStoreBuilder::new(InMemoryKeyValueStore::new("s"))
        .with_metrics(Arc::new(KeyValueStoreMetrics::new()))
        .with_caching(1 << 20)
        .with_logging(|_: &Bytes, _: Option<&Bytes>| {})
        .build();
    let (flushed, listener) = recording_listener();
    assert!(cached.set_flush_listener(listener, true));
    cached.init().unwrap();
    cached.put(b(b"a"), v("1")).unwrap();
    cached.put(b(b"a"), v("2")).unwrap();
    cached.flush().unwrap();
    assert_eq!(take(&flushed), vec![(b(b"a"), v("2"), None)]);

    let mut uncached = KeyValueStoreBuilder::new(InMemoryKeyValueStore::new("s"))
        .with_metrics(Arc::new(KeyValueStoreMetrics::new()))
        .with_logging(|_: &Bytes, _: Option<&Bytes>| {})
        .build();
    let (_flushed, listener) = recording_listener();
    assert!(!uncached.set_flush_listener(listener, true), "no cache: the caller forwards itself");
}

#[test]
fn downstream_state_rebuilt_from_flushed_records_matches_the_store() {
    // Many writes over few keys with a small cache: evictions and flushes interleave. Whatever was
    // forwarded must rebuild exactly the store's content, and each old value must be what the
    // previous forward for that key said.
    let (mut store, log, flushed) = stack(memory(std::path::Path::new("")), 4 * 70, true);
    let mut downstream = std::collections::BTreeMap::new();
    for i in 0u32..500 {
        let key = b(&[(i * 31 % 11) as u8]);
        if i % 7 == 0 {
            store.delete(&key).unwrap();
        } else {
            store.put(key, Some(b(&i.to_be_bytes()))).unwrap();
        }
        if i % 50 == 0 {
            store.flush().unwrap();
        }
        for (key, new, old) in take(&flushed) {
            let previous = match new {
                Some(new) => downstream.insert(key, new),
                None => downstream.remove(&key),
            };
            assert_eq!(previous, old);
        }
    }
    store.flush().unwrap();
    for (key, new, old) in take(&flushed) {
        let previous = match new {
            Some(new) => downstream.insert(key, new),
            None => downstream.remove(&key),
        };
        assert_eq!(previous, old);
    }
    let content: std::collections::BTreeMap<Bytes, Bytes> =
        collect(store.all()).into_iter().collect();
    assert_eq!(downstream, content);
    let mut replayed = std::collections::BTreeMap::new();
    for (key, value) in take(&log) {
        match value {
            Some(value) => replayed.insert(key, value),
            None => replayed.remove(&key),
        };
    }
    assert_eq!(replayed, content);
}

#[test]
fn caches_sharing_a_budget_evict_from_the_one_being_written() {
    use state_stores::CacheBudget;
    // Room for about three entries of ~70 bytes in total, over two stores.
    let budget = CacheBudget::new(220);
    let mut sa = CachingKeyValueStore::with_budget(InMemoryKeyValueStore::new("a"), budget.clone());
    let mut sb = CachingKeyValueStore::with_budget(InMemoryKeyValueStore::new("b"), budget.clone());
    sa.init().unwrap();
    sb.init().unwrap();
    sa.put(b(b"a1"), v("1")).unwrap();
    sa.put(b(b"a2"), v("2")).unwrap();
    assert_eq!(sa.dirty_entries(), 2);
    assert_eq!(budget.used_bytes(), sa.cached_bytes());
    // b's writes push the total over: b evicts its own entries, a keeps its two.
    for i in 0..5 {
        sb.put(b(format!("b{i}").as_bytes()), v("x")).unwrap();
        assert!(budget.used_bytes() <= budget.max_bytes(), "within budget after each write");
    }
    assert_eq!(sa.dirty_entries(), 2, "the store not written keeps its entries");
    assert_eq!(sb.dirty_entries(), 1);
    assert_eq!(sb.inner().get(b"b0").unwrap(), v("x"), "evicted entries were written down");
    assert_eq!(budget.used_bytes(), sa.cached_bytes() + sb.cached_bytes());
    // A closed (dropped) cache gives its bytes back.
    drop(sa);
    assert_eq!(budget.used_bytes(), sb.cached_bytes());
}

#[test]
fn read_modify_write_sees_the_cached_value_then_the_stored_one() {
    let (mut store, log, _) = stack(Box::new(InMemoryKeyValueStore::new("rmw")), 1 << 20, true);
    let incr = |store: &mut Stack, key: &str| {
        store
            .read_modify_write(key.as_bytes(), &mut |old: Option<&Bytes>| {
                let n = old.map_or(0, |v| u64::from_be_bytes(v.as_ref().try_into().unwrap()));
                Some(Some(Bytes::copy_from_slice(&(n + 1).to_be_bytes())))
            })
            .unwrap();
    };
    incr(&mut store, "k");
    incr(&mut store, "k");
    store.flush().unwrap();
    assert_eq!(log.lock().unwrap().len(), 1, "two updates merged into one changelog record");
    // After the flush the entry stays cached (clean); the next update starts from it.
    incr(&mut store, "k");
    assert_eq!(store.get(b"k").unwrap(), Some(Bytes::copy_from_slice(&3u64.to_be_bytes())));
    // `None` from the function writes nothing.
    store.read_modify_write(b"k", &mut |_| None).unwrap();
    store
        .read_modify_write(b"absent", &mut |old| {
            assert!(old.is_none());
            None
        })
        .unwrap();
    assert_eq!(store.get(b"absent").unwrap(), None);
    assert_eq!(store.get(b"k").unwrap(), Some(Bytes::copy_from_slice(&3u64.to_be_bytes())));
}
