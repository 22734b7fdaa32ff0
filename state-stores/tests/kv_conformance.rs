//! The key-value store conformance suite (Kafka's `AbstractKeyValueStoreTest`): every scenario runs
//! against every backend (in-memory, RocksDB) bare and under every layer combination: metered,
//! caching (roomy, tiny so that it evicts constantly, and zero so that it writes through),
//! change-logging, and all three stacked as the builder stacks them.
#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

mod common;

use std::path::Path;

use bytes::Bytes;
use common::*;
use state_stores::{KeyValueStore, StoreError};
use tempfile::TempDir;

/// A cache that holds everything the scenarios write.
const ROOMY: usize = 1024 * 1024;
/// A cache that holds about three small entries, so that most writes evict.
const TINY: usize = 200;

fn fresh(open: Open) -> (TempDir, Box<dyn KeyValueStore>) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    store.init().unwrap();
    (dir, store)
}

fn put(store: &mut dyn KeyValueStore, key: &[u8], value: &[u8]) {
    store.put(b(key), Some(b(value))).unwrap();
}

fn get(store: &dyn KeyValueStore, key: &[u8]) -> Option<Bytes> {
    store.get(key).unwrap()
}

fn pairs(entries: &[(&[u8], &[u8])]) -> Vec<(Bytes, Bytes)> {
    entries.iter().map(|(k, v)| (b(k), b(v))).collect()
}

fn key_list(keys: &[&[u8]]) -> Vec<Bytes> {
    keys.iter().map(|k| b(k)).collect()
}

mod scenarios {
    use super::*;

    pub(crate) fn put_get_overwrite(open: Open) {
        let (_dir, mut store) = fresh(open);
        assert_eq!(get(&*store, b"a"), None);
        put(&mut *store, b"a", b"1");
        assert_eq!(get(&*store, b"a"), Some(b(b"1")));
        put(&mut *store, b"a", b"2");
        assert_eq!(get(&*store, b"a"), Some(b(b"2")));
        // An empty value is a value, not a delete.
        put(&mut *store, b"e", b"");
        assert_eq!(get(&*store, b"e"), Some(Bytes::new()));
        // The empty key is a key like any other.
        put(&mut *store, b"", b"empty-key");
        assert_eq!(get(&*store, b""), Some(b(b"empty-key")));
        store.flush().unwrap();
        assert_eq!(get(&*store, b"a"), Some(b(b"2")));
        assert_eq!(get(&*store, b"e"), Some(Bytes::new()));
    }

    pub(crate) fn null_put_deletes(open: Open) {
        let (_dir, mut store) = fresh(open);
        put(&mut *store, b"a", b"1");
        put(&mut *store, b"b", b"2");
        store.put(b(b"a"), None).unwrap();
        assert_eq!(get(&*store, b"a"), None);
        assert_eq!(keys(store.all()), key_list(&[b"b"]));
        // Deleting an absent key is not an error.
        store.put(b(b"zzz"), None).unwrap();
        store.flush().unwrap();
        assert_eq!(get(&*store, b"a"), None);
        assert_eq!(keys(store.all()), key_list(&[b"b"]));
        // A key deleted after a flush stays deleted.
        store.put(b(b"b"), None).unwrap();
        store.flush().unwrap();
        assert_eq!(get(&*store, b"b"), None);
        assert!(keys(store.all()).is_empty());
    }

    pub(crate) fn delete_returns_old_value(open: Open) {
        let (_dir, mut store) = fresh(open);
        put(&mut *store, b"a", b"1");
        assert_eq!(store.delete(&b(b"a")).unwrap(), Some(b(b"1")));
        assert_eq!(get(&*store, b"a"), None);
        assert_eq!(store.delete(&b(b"a")).unwrap(), None);
        assert_eq!(store.delete(&b(b"never")).unwrap(), None);
        put(&mut *store, b"c", b"3");
        store.flush().unwrap();
        assert_eq!(store.delete(&b(b"c")).unwrap(), Some(b(b"3")));
        store.flush().unwrap();
        assert_eq!(get(&*store, b"c"), None);
    }

    pub(crate) fn put_if_absent(open: Open) {
        let (_dir, mut store) = fresh(open);
        assert_eq!(store.put_if_absent(b(b"a"), b(b"1")).unwrap(), None);
        assert_eq!(get(&*store, b"a"), Some(b(b"1")));
        assert_eq!(store.put_if_absent(b(b"a"), b(b"2")).unwrap(), Some(b(b"1")));
        assert_eq!(get(&*store, b"a"), Some(b(b"1")));
        store.flush().unwrap();
        assert_eq!(store.put_if_absent(b(b"a"), b(b"3")).unwrap(), Some(b(b"1")));
        store.delete(&b(b"a")).unwrap();
        assert_eq!(store.put_if_absent(b(b"a"), b(b"4")).unwrap(), None);
        assert_eq!(get(&*store, b"a"), Some(b(b"4")));
    }

    pub(crate) fn put_all_applies_entries_in_order(open: Open) {
        let (_dir, mut store) = fresh(open);
        put(&mut *store, b"gone", b"x");
        store
            .put_all(&[
                (b(b"a"), Some(b(b"1"))),
                (b(b"b"), Some(b(b"2"))),
                (b(b"gone"), None),
                (b(b"a"), Some(b(b"3"))),
                (b(b"c"), Some(b(b"4"))),
                (b(b"c"), None),
                (b(b"d"), None),
                (b(b"d"), Some(b(b"5"))),
            ])
            .unwrap();
        let expected = pairs(&[(b"a", b"3"), (b"b", b"2"), (b"d", b"5")]);
        assert_eq!(collect(store.all()), expected);
        store.put_all(&[]).unwrap();
        store.flush().unwrap();
        assert_eq!(collect(store.all()), expected);
    }

    fn abcde(store: &mut dyn KeyValueStore) {
        for k in [b"a", b"b", b"c", b"d", b"e"] {
            put(store, k, k);
        }
    }

    pub(crate) fn range_includes_both_ends(open: Open) {
        let (_dir, mut store) = fresh(open);
        abcde(&mut *store);
        for flushed in [false, true] {
            if flushed {
                store.flush().unwrap();
            }
            assert_eq!(
                collect(store.range(Some(b"b"), Some(b"d"))),
                pairs(&[(b"b", b"b"), (b"c", b"c"), (b"d", b"d")])
            );
            assert_eq!(keys(store.range(Some(b"bb"), Some(b"d"))), key_list(&[b"c", b"d"]));
            assert_eq!(keys(store.range(Some(b"b"), Some(b"cc"))), key_list(&[b"b", b"c"]));
            assert_eq!(keys(store.range(None, Some(b"b"))), key_list(&[b"a", b"b"]));
            assert_eq!(keys(store.range(Some(b"d"), None)), key_list(&[b"d", b"e"]));
            assert_eq!(keys(store.range(None, None)), key_list(&[b"a", b"b", b"c", b"d", b"e"]));
            // A key one byte longer than `to` sorts after it and is outside the range.
            put(&mut *store, b"dd", b"dd");
            assert_eq!(keys(store.range(Some(b"c"), Some(b"d"))), key_list(&[b"c", b"d"]));
            store.delete(&b(b"dd")).unwrap();
        }
    }

    pub(crate) fn range_edge_cases(open: Open) {
        let (_dir, mut store) = fresh(open);
        assert!(keys(store.range(Some(b"a"), Some(b"z"))).is_empty(), "empty store");
        abcde(&mut *store);
        assert_eq!(keys(store.range(Some(b"c"), Some(b"c"))), key_list(&[b"c"]));
        assert_eq!(keys(store.reverse_range(Some(b"c"), Some(b"c"))), key_list(&[b"c"]));
        assert!(keys(store.range(Some(b"cc"), Some(b"cz"))).is_empty(), "no key in range");
        assert!(keys(store.range(Some(b"cc"), Some(b"cc"))).is_empty(), "absent single key");
        assert!(keys(store.range(Some(b"x"), None)).is_empty(), "past the last key");
        // from > to: empty, as Kafka (which logs a warning), in both directions.
        assert!(keys(store.range(Some(b"d"), Some(b"b"))).is_empty());
        assert!(keys(store.reverse_range(Some(b"d"), Some(b"b"))).is_empty());
        store.flush().unwrap();
        assert!(keys(store.range(Some(b"d"), Some(b"b"))).is_empty());
        assert!(keys(store.reverse_range(Some(b"d"), Some(b"b"))).is_empty());
    }

    pub(crate) fn reverse_range(open: Open) {
        let (_dir, mut store) = fresh(open);
        abcde(&mut *store);
        for flushed in [false, true] {
            if flushed {
                store.flush().unwrap();
            }
            assert_eq!(
                collect(store.reverse_range(Some(b"b"), Some(b"d"))),
                pairs(&[(b"d", b"d"), (b"c", b"c"), (b"b", b"b")])
            );
            assert_eq!(
                keys(store.reverse_range(Some(b"bb"), Some(b"dd"))),
                key_list(&[b"d", b"c"])
            );
            assert_eq!(keys(store.reverse_range(None, Some(b"b"))), key_list(&[b"b", b"a"]));
            assert_eq!(keys(store.reverse_range(Some(b"d"), None)), key_list(&[b"e", b"d"]));
            assert_eq!(
                keys(store.reverse_range(None, None)),
                key_list(&[b"e", b"d", b"c", b"b", b"a"])
            );
        }
    }

    /// Keys in unsigned lexicographic order: a signed comparison would put 0x80 and 0xff first.
    const ORDERED: [&[u8]; 9] = [
        b"",
        &[0x00],
        &[0x01],
        &[0x01, 0x00],
        &[0x01, 0xff],
        &[0x7f],
        &[0x80],
        &[0xfe, 0xff],
        &[0xff],
    ];

    pub(crate) fn all_and_reverse_all_order_by_unsigned_bytes(open: Open) {
        let (_dir, mut store) = fresh(open);
        // Insert in a scrambled order.
        for i in [4, 8, 0, 6, 2, 7, 1, 5, 3] {
            put(&mut *store, ORDERED[i], &[i as u8]);
        }
        for flushed in [false, true] {
            if flushed {
                store.flush().unwrap();
            }
            let expected: Vec<(Bytes, Bytes)> =
                ORDERED.iter().enumerate().map(|(i, k)| (b(k), b(&[i as u8]))).collect();
            assert_eq!(collect(store.all()), expected);
            let mut reversed = expected.clone();
            reversed.reverse();
            assert_eq!(collect(store.reverse_all()), reversed);
            assert_eq!(keys(store.range(Some(&[0x01]), Some(&[0x7f]))), key_list(&ORDERED[2..6]));
            assert_eq!(keys(store.range(Some(&[0x80]), None)), key_list(&ORDERED[6..]));
        }
    }

    pub(crate) fn prefix_scan(open: Open) {
        let (_dir, mut store) = fresh(open);
        let all: [&[u8]; 11] = [
            b"a",
            b"ab",
            b"abc",
            b"abd",
            b"ac",
            b"b",
            &[0x01, 0xff],
            &[0x01, 0xff, 0x00],
            &[0x02],
            &[0xff],
            &[0xff, 0xff],
        ];
        for k in all.iter().rev() {
            put(&mut *store, k, k);
        }
        for flushed in [false, true] {
            if flushed {
                store.flush().unwrap();
            }
            assert_eq!(
                collect(store.prefix_scan(b"ab")),
                pairs(&[(b"ab", b"ab"), (b"abc", b"abc"), (b"abd", b"abd")])
            );
            assert_eq!(keys(store.prefix_scan(b"a")), key_list(&all[..5]));
            assert_eq!(keys(store.prefix_scan(&[0x01, 0xff])), key_list(&all[6..8]));
            assert_eq!(keys(store.prefix_scan(&[0xff])), key_list(&all[9..]));
            assert_eq!(keys(store.prefix_scan(&[0xff, 0xff])), key_list(&all[10..]));
            assert!(keys(store.prefix_scan(b"zz")).is_empty());
            let mut sorted = key_list(&all);
            sorted.sort();
            assert_eq!(keys(store.prefix_scan(b"")), sorted);
        }
    }

    pub(crate) fn approximate_num_entries(open: Open) {
        let (_dir, mut store) = fresh(open);
        assert_eq!(store.approximate_num_entries().unwrap(), 0);
        for i in 0..200u32 {
            store.put(Bytes::copy_from_slice(&i.to_be_bytes()), Some(b(b"v"))).unwrap();
        }
        store.flush().unwrap();
        let estimate = store.approximate_num_entries().unwrap();
        if store.persistent() {
            // RocksDB's estimate; exact here (distinct keys, no deletes), but only promised roughly.
            assert!((180..=220).contains(&estimate), "estimate {estimate}");
        } else {
            assert_eq!(estimate, 200);
        }
    }

    pub(crate) fn scans_see_unflushed_writes_and_deletes(open: Open) {
        let (_dir, mut store) = fresh(open);
        for k in [b"a", b"b", b"c", b"d"] {
            put(&mut *store, k, b"old");
        }
        store.flush().unwrap();
        store.delete(&b(b"b")).unwrap();
        put(&mut *store, b"c", b"new");
        put(&mut *store, b"e", b"new");
        store.put(b(b"d"), None).unwrap();
        let expected = pairs(&[(b"a", b"old"), (b"c", b"new"), (b"e", b"new")]);
        assert_eq!(collect(store.all()), expected);
        let mut reversed = expected.clone();
        reversed.reverse();
        assert_eq!(collect(store.reverse_all()), reversed);
        assert_eq!(collect(store.range(Some(b"b"), Some(b"d"))), pairs(&[(b"c", b"new")]));
        assert_eq!(
            collect(store.reverse_range(Some(b"a"), Some(b"c"))),
            pairs(&[(b"c", b"new"), (b"a", b"old")])
        );
        assert_eq!(keys(store.prefix_scan(b"")), key_list(&[b"a", b"c", b"e"]));
        assert_eq!(get(&*store, b"b"), None);
        assert_eq!(get(&*store, b"d"), None);
        store.flush().unwrap();
        assert_eq!(collect(store.all()), expected);
    }

    pub(crate) fn data_survives_flush_close_and_reopen(open: Open) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(dir.path());
        store.init().unwrap();
        put(&mut *store, b"a", b"1");
        put(&mut *store, b"b", b"2");
        put(&mut *store, b"c", b"3");
        store.delete(&b(b"b")).unwrap();
        store.flush().unwrap();
        put(&mut *store, b"d", b"4"); // written after the flush; close flushes it too
        store.close().unwrap();
        assert!(!store.is_open());

        // A new handle over the same directory, as after a restart.
        let mut reopened = open(dir.path());
        reopened.init().unwrap();
        if reopened.persistent() {
            assert_eq!(collect(reopened.all()), pairs(&[(b"a", b"1"), (b"c", b"3"), (b"d", b"4")]));
        } else {
            assert!(collect(reopened.all()).is_empty(), "in-memory data does not outlive close");
        }
        reopened.close().unwrap();

        // The same handle opens again, too.
        store.init().unwrap();
        assert_eq!(get(&*store, b"a").is_some(), store.persistent());
        store.close().unwrap();
    }

    pub(crate) fn closed_store_rejects_operations(open: Open) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(dir.path());
        assert!(!store.is_open());
        assert!(matches!(store.get(b"a"), Err(StoreError::Closed { .. })));
        assert!(matches!(store.put(b(b"a"), Some(b(b"1"))), Err(StoreError::Closed { .. })));
        store.init().unwrap();
        store.init().unwrap(); // opening an open store does nothing
        assert!(store.is_open());
        put(&mut *store, b"a", b"1");
        store.close().unwrap();
        store.close().unwrap(); // closing a closed store does nothing
        let err = store.get(b"a").unwrap_err();
        assert!(matches!(&err, StoreError::Closed { store } if store == "store"), "{err}");
        assert!(err.to_string().contains("init()"), "message says what to do: {err}");
        assert!(matches!(store.put(b(b"a"), None), Err(StoreError::Closed { .. })));
        assert!(matches!(store.put_if_absent(b(b"a"), b(b"1")), Err(StoreError::Closed { .. })));
        assert!(matches!(store.put_all(&[(b(b"a"), None)]), Err(StoreError::Closed { .. })));
        assert!(matches!(store.delete(&b(b"a")), Err(StoreError::Closed { .. })));
        assert!(matches!(store.range(None, None), Err(StoreError::Closed { .. })));
        assert!(matches!(store.reverse_range(None, None), Err(StoreError::Closed { .. })));
        assert!(matches!(store.all(), Err(StoreError::Closed { .. })));
        assert!(matches!(store.prefix_scan(b"a"), Err(StoreError::Closed { .. })));
        assert!(matches!(store.approximate_num_entries(), Err(StoreError::Closed { .. })));
        assert!(matches!(store.flush(), Err(StoreError::Closed { .. })));
    }

    pub(crate) fn many_keys_in_order(open: Open) {
        let (_dir, mut store) = fresh(open);
        // A multiplicative scramble of 0..1000 so keys arrive out of order.
        let mut expected = Vec::new();
        for i in 0..1000u32 {
            let k = (i * 7919) % 1000;
            store
                .put(
                    Bytes::copy_from_slice(&k.to_be_bytes()),
                    Some(Bytes::copy_from_slice(&i.to_le_bytes())),
                )
                .unwrap();
            expected.push(k);
            if i == 500 {
                store.flush().unwrap();
            }
        }
        expected.sort_unstable();
        let got: Vec<u32> = keys(store.all())
            .iter()
            .map(|k| u32::from_be_bytes(k[..].try_into().unwrap()))
            .collect();
        assert_eq!(got, expected);
        let from = 250u32.to_be_bytes();
        let to = 749u32.to_be_bytes();
        assert_eq!(keys(store.range(Some(&from), Some(&to))).len(), 500);
        assert_eq!(keys(store.reverse_range(Some(&from), Some(&to)))[0], b(&to));
    }
}

macro_rules! conformance {
    (@scenarios $($scenario:ident)*) => {$(
        #[test]
        fn $scenario() {
            scenarios::$scenario(open);
        }
    )*};
    ($($module:ident => $open:expr;)*) => {$(
        mod $module {
            use super::*;

            fn open(dir: &Path) -> Box<dyn KeyValueStore> {
                ($open)(dir)
            }

            conformance!(@scenarios
                put_get_overwrite
                null_put_deletes
                delete_returns_old_value
                put_if_absent
                put_all_applies_entries_in_order
                range_includes_both_ends
                range_edge_cases
                reverse_range
                all_and_reverse_all_order_by_unsigned_bytes
                prefix_scan
                approximate_num_entries
                scans_see_unflushed_writes_and_deletes
                data_survives_flush_close_and_reopen
                closed_store_rejects_operations
                many_keys_in_order
            );
        }
    )*};
}

conformance! {
    memory_bare => memory;
    memory_metered => |dir| metered(memory(dir));
    memory_caching => |dir| caching(memory(dir), ROOMY);
    memory_caching_tiny => |dir| caching(memory(dir), TINY);
    memory_caching_zero => |dir| caching(memory(dir), 0);
    memory_logging => |dir| logging(memory(dir));
    memory_stacked => |dir| stacked(memory(dir), ROOMY);
    memory_stacked_tiny => |dir| stacked(memory(dir), TINY);
    rocksdb_bare => rocks;
    rocksdb_metered => |dir| metered(rocks(dir));
    rocksdb_caching => |dir| caching(rocks(dir), ROOMY);
    rocksdb_caching_tiny => |dir| caching(rocks(dir), TINY);
    rocksdb_caching_zero => |dir| caching(rocks(dir), 0);
    rocksdb_logging => |dir| logging(rocks(dir));
    rocksdb_stacked => |dir| stacked(rocks(dir), ROOMY);
    rocksdb_stacked_tiny => |dir| stacked(rocks(dir), TINY);
}
