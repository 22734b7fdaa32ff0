//! The change-logging layer logs exactly the writes that reach it, as Kafka's
//! `ChangeLoggingKeyValueBytesStore` does; under a cache, one record per key per flush.
#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use common::*;
use state_stores::{
    ChangeLoggingKeyValueStore, InMemoryKeyValueStore, KeyValueStore, KeyValueStoreBuilder,
    KeyValueStoreMetrics, StoreError,
};

fn v(s: &str) -> Option<Bytes> {
    Some(b(s.as_bytes()))
}

fn take(log: &Log) -> Vec<(Bytes, Option<Bytes>)> {
    std::mem::take(&mut *log.lock().unwrap())
}

#[test]
fn every_write_is_logged_as_kafka_logs_it() {
    for backend in [memory as Open, rocks] {
        let dir = tempfile::tempdir().unwrap();
        let (log, writer) = recording_writer();
        let mut store = ChangeLoggingKeyValueStore::new(backend(dir.path()), writer);
        store.init().unwrap();

        store.put(b(b"a"), v("1")).unwrap();
        store.put(b(b"a"), None).unwrap();
        assert_eq!(take(&log), vec![(b(b"a"), v("1")), (b(b"a"), None)]);

        assert_eq!(store.put_if_absent(b(b"b"), b(b"1")).unwrap(), None);
        assert_eq!(store.put_if_absent(b(b"b"), b(b"2")).unwrap(), v("1"));
        assert_eq!(take(&log), vec![(b(b"b"), v("1"))], "only the write that happened");

        let batch = vec![(b(b"c"), v("1")), (b(b"d"), None), (b(b"c"), v("2"))];
        store.put_all(&batch).unwrap();
        assert_eq!(take(&log), batch);

        assert_eq!(store.delete(&b(b"b")).unwrap(), v("1"));
        assert_eq!(store.delete(&b(b"nothing")).unwrap(), None);
        assert_eq!(take(&log), vec![(b(b"b"), None), (b(b"nothing"), None)]);

        // Reads and flushes log nothing.
        store.get(b"c").unwrap();
        drop(store.all().unwrap());
        store.flush().unwrap();
        assert!(take(&log).is_empty());
        store.close().unwrap();
    }
}

#[test]
fn a_failed_write_is_not_logged() {
    let (log, writer) = recording_writer();
    let mut store = ChangeLoggingKeyValueStore::new(InMemoryKeyValueStore::new("s"), writer);
    assert!(matches!(store.put(b(b"a"), v("1")), Err(StoreError::Closed { .. })));
    assert!(matches!(store.delete(&b(b"a")), Err(StoreError::Closed { .. })));
    assert!(matches!(store.put_all(&[(b(b"a"), None)]), Err(StoreError::Closed { .. })));
    assert!(take(&log).is_empty());
}

#[test]
fn under_a_cache_each_key_is_logged_once_per_flush_and_the_log_rebuilds_the_store() {
    for backend in [memory as Open, rocks] {
        let dir = tempfile::tempdir().unwrap();
        let (log, writer) = recording_writer();
        let mut store = KeyValueStoreBuilder::from_boxed(backend(dir.path()))
            .with_metrics(Arc::new(KeyValueStoreMetrics::new()))
            .with_caching(1 << 20)
            .with_logging(writer)
            .build();
        store.init().unwrap();

        let mut changelog = BTreeMap::new();
        for round in 0u32..3 {
            for i in 0u32..100 {
                let key = b(&[(i % 10) as u8]);
                if (i + round) % 9 == 0 {
                    store.delete(&key).unwrap();
                } else {
                    store.put(key, Some(b(&(round * 1000 + i).to_be_bytes()))).unwrap();
                }
            }
            store.flush().unwrap();
            let records = take(&log);
            let mut logged_keys: Vec<Bytes> = records.iter().map(|(k, _)| k.clone()).collect();
            let count = logged_keys.len();
            logged_keys.sort();
            logged_keys.dedup();
            assert_eq!(logged_keys.len(), count, "round {round}: a key logged twice in one flush");
            assert!(count <= 10);
            for (key, value) in records {
                match value {
                    Some(value) => changelog.insert(key, value),
                    None => changelog.remove(&key),
                };
            }
            // Restoring from the changelog gives exactly the store's content.
            let content: BTreeMap<Bytes, Bytes> = collect(store.all()).into_iter().collect();
            assert_eq!(changelog, content, "round {round}");
        }
        store.close().unwrap();
    }
}
