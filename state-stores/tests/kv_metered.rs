//! The metered layer counts and times every operation, failures included, and times scans until
//! their iterator is dropped.
#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

mod common;

use std::sync::Arc;

use bytes::Bytes;
use common::*;
use state_stores::{
    InMemoryKeyValueStore, KeyValueStore, KeyValueStoreBuilder, KeyValueStoreMetrics,
    MeteredKeyValueStore, StoreOperation,
};

#[test]
fn each_operation_is_counted_under_its_own_name() {
    for backend in [memory as Open, rocks] {
        let dir = tempfile::tempdir().unwrap();
        let metrics = Arc::new(KeyValueStoreMetrics::new());
        let mut store = KeyValueStoreBuilder::from_boxed(backend(dir.path()))
            .with_metrics(metrics.clone())
            .with_caching(1 << 20)
            .build();
        store.init().unwrap();
        for i in 0u8..3 {
            store.put(b(&[i]), Some(b(b"v"))).unwrap();
        }
        store.put(b(&[0]), None).unwrap();
        store.get(&[1]).unwrap();
        store.get(&[9]).unwrap();
        store.put_if_absent(b(&[5]), b(b"v")).unwrap();
        store.put_all(&[(b(&[6]), Some(b(b"v"))), (b(&[7]), None)]).unwrap();
        store.delete(&b(&[1])).unwrap();
        assert_eq!(collect(store.range(Some(&[0]), Some(&[9]))).len(), 3);
        collect(store.reverse_range(None, None));
        collect(store.all());
        collect(store.reverse_all());
        collect(store.prefix_scan(&[2]));
        store.read_modify_write(&[2], &mut |old| Some(old.cloned())).unwrap();
        store.flush().unwrap();

        let count = |op| metrics.operation(op).count;
        assert_eq!(count(StoreOperation::Put), 4);
        assert_eq!(count(StoreOperation::Get), 2);
        assert_eq!(count(StoreOperation::PutIfAbsent), 1);
        assert_eq!(count(StoreOperation::PutAll), 1);
        assert_eq!(count(StoreOperation::Delete), 1);
        assert_eq!(count(StoreOperation::Range), 2, "range and reverse_range");
        assert_eq!(count(StoreOperation::All), 2, "all and reverse_all");
        assert_eq!(count(StoreOperation::PrefixScan), 1);
        assert_eq!(count(StoreOperation::Flush), 1);
        assert_eq!(count(StoreOperation::ReadModifyWrite), 1, "one step, not a get and a put");
        for op in StoreOperation::ALL {
            let m = metrics.operation(op);
            assert_eq!(m.errors, 0, "{op}");
            assert!(m.max_latency <= m.total_latency, "{op}");
            assert!(m.mean_latency() <= m.max_latency, "{op}");
        }
        store.close().unwrap();
    }
}

#[test]
fn failed_operations_are_counted_as_errors() {
    let mut store = MeteredKeyValueStore::new(InMemoryKeyValueStore::new("s"));
    assert!(store.get(b"a").is_err());
    assert!(store.put(Bytes::from_static(b"a"), None).is_err());
    assert!(store.all().is_err());
    let metrics = store.metrics().clone();
    for op in [StoreOperation::Get, StoreOperation::Put, StoreOperation::All] {
        let m = metrics.operation(op);
        assert_eq!((m.count, m.errors), (1, 1), "{op}");
    }
    assert_eq!(metrics.operation(StoreOperation::Delete).count, 0);
}

#[test]
fn a_scan_is_recorded_when_its_iterator_is_dropped() {
    let mut store = MeteredKeyValueStore::new(InMemoryKeyValueStore::new("s"));
    store.init().unwrap();
    store.put(b(b"a"), Some(b(b"1"))).unwrap();
    let metrics = store.metrics().clone();
    let mut iter = store.all().unwrap();
    assert!(iter.next().is_some());
    assert_eq!(metrics.operation(StoreOperation::All).count, 0, "still iterating");
    drop(iter);
    assert_eq!(metrics.operation(StoreOperation::All).count, 1);
}
