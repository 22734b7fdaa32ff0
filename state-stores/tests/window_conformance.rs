//! The window store conformance suite (Kafka's `AbstractWindowBytesStoreTest`): every scenario
//! runs against every backend (in-memory, RocksDB) bare and under every layer combination:
//! metered, caching (roomy, tiny so that it evicts constantly, and zero so that it writes
//! through), change-logging, and all three stacked as the builder stacks them.
#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

mod windowed_common;

use std::path::Path;

use bytes::Bytes;
use state_stores::{StoreError, WindowStore};
use tempfile::TempDir;
use windowed_common::*;

fn fresh(open: OpenWindow, spec: WindowSpec) -> (TempDir, Box<dyn WindowStore>) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), spec);
    store.init().unwrap();
    (dir, store)
}

fn put(store: &mut dyn WindowStore, key: &[u8], start: i64, value: &[u8]) {
    store.put(b(key), Some(b(value)), start).unwrap();
}

fn fetch(store: &dyn WindowStore, key: &[u8], start: i64) -> Option<Bytes> {
    store.fetch(key, start).unwrap()
}

fn t(key: &[u8], start: i64, value: &[u8]) -> (Bytes, i64, Bytes) {
    (b(key), start, b(value))
}

fn reversed<T: Clone>(items: &[T]) -> Vec<T> {
    items.iter().rev().cloned().collect()
}

/// Duplicates on, long retention.
const DUPS: WindowSpec = WindowSpec { duplicates: true, ..WindowSpec::LONG };

mod scenarios {
    use super::*;

    pub(crate) fn reports_its_configuration(open: OpenWindow) {
        let (_dir, mut store) = fresh(open, WindowSpec::LONG);
        assert_eq!(store.name(), "store");
        assert_eq!(store.retention_period_ms(), 600_000);
        assert_eq!(store.window_size_ms(), 10);
        assert!(!store.retain_duplicates());
        assert_eq!(store.observed_stream_time(), None);
        put(&mut *store, b"a", 500, b"1");
        put(&mut *store, b"a", 100, b"1");
        assert_eq!(store.observed_stream_time(), Some(500));
        let (_dir, store) = fresh(open, DUPS);
        assert!(store.retain_duplicates());
    }

    pub(crate) fn put_fetch_overwrite_and_delete(open: OpenWindow) {
        let (_dir, mut store) = fresh(open, WindowSpec::LONG);
        assert_eq!(fetch(&*store, b"a", 0), None);
        put(&mut *store, b"a", 0, b"1");
        put(&mut *store, b"a", 10, b"2");
        assert_eq!(fetch(&*store, b"a", 0), Some(b(b"1")));
        assert_eq!(fetch(&*store, b"a", 10), Some(b(b"2")));
        assert_eq!(fetch(&*store, b"a", 5), None, "no window starts at 5");
        put(&mut *store, b"a", 0, b"3");
        assert_eq!(fetch(&*store, b"a", 0), Some(b(b"3")), "a put replaces the window's value");
        // An empty value is a value; the empty key is a key.
        put(&mut *store, b"e", 0, b"");
        assert_eq!(fetch(&*store, b"e", 0), Some(Bytes::new()));
        put(&mut *store, b"", 0, b"empty-key");
        assert_eq!(fetch(&*store, b"", 0), Some(b(b"empty-key")));
        // None deletes that window only.
        store.put(b(b"a"), None, 0).unwrap();
        assert_eq!(fetch(&*store, b"a", 0), None);
        assert_eq!(fetch(&*store, b"a", 10), Some(b(b"2")));
        store.put(b(b"never"), None, 0).unwrap(); // deleting an absent window is no error
        store.flush().unwrap();
        assert_eq!(fetch(&*store, b"a", 0), None);
        assert_eq!(fetch(&*store, b"a", 10), Some(b(b"2")));
        assert_eq!(fetch(&*store, b"e", 0), Some(Bytes::new()));
        assert_eq!(
            triples(store.all()),
            vec![t(b"", 0, b"empty-key"), t(b"a", 10, b"2"), t(b"e", 0, b"")]
        );
    }

    pub(crate) fn fetch_range_is_inclusive_and_ordered_by_start(open: OpenWindow) {
        let (_dir, mut store) = fresh(open, WindowSpec::LONG);
        for start in [30, 0, 20, 10, 40] {
            put(&mut *store, b"a", start, start.to_string().as_bytes());
        }
        // Neighbours that must stay out: a smaller and a larger key, and keys that extend "a".
        put(&mut *store, b"", 15, b"x");
        put(&mut *store, b"\x00", 15, b"x");
        put(&mut *store, b"a\x00", 15, b"x");
        put(&mut *store, b"a\x00\x00\x00\x00\x00\x00\x00", 15, b"x");
        put(&mut *store, b"ab", 15, b"x");
        put(&mut *store, b"b", 15, b"x");
        for flushed in [false, true] {
            if flushed {
                store.flush().unwrap();
            }
            let expected = vec![t(b"a", 10, b"10"), t(b"a", 20, b"20"), t(b"a", 30, b"30")];
            assert_eq!(triples(store.fetch_range(b"a", 10, 30)), expected);
            assert_eq!(triples(store.backward_fetch_range(b"a", 10, 30)), reversed(&expected));
            assert_eq!(triples(store.fetch_range(b"a", 11, 29)), vec![t(b"a", 20, b"20")]);
            assert_eq!(starts(store.fetch_range(b"a", 20, 20)), vec![(b(b"a"), 20)]);
            assert_eq!(
                starts(store.fetch_range(b"a", i64::MIN, i64::MAX)).len(),
                5,
                "unbounded times"
            );
            assert!(starts(store.fetch_range(b"a", 30, 10)).is_empty(), "from > to");
            assert!(starts(store.backward_fetch_range(b"a", 30, 10)).is_empty());
            assert!(starts(store.fetch_range(b"a", 41, 100)).is_empty());
            assert!(starts(store.fetch_range(b"c", 0, 100)).is_empty(), "absent key");
            assert_eq!(triples(store.fetch_range(b"", 0, 100)), vec![t(b"", 15, b"x")]);
            assert_eq!(triples(store.fetch_range(b"a\x00", 0, 100)), vec![t(b"a\x00", 15, b"x")]);
        }
    }

    pub(crate) fn fetch_key_range_includes_both_ends(open: OpenWindow) {
        let (_dir, mut store) = fresh(open, WindowSpec::LONG);
        for key in [b"d", b"a", b"c", b"e", b"b"] {
            for start in [20, 0, 10] {
                put(&mut *store, key, start, key);
            }
        }
        for flushed in [false, true] {
            if flushed {
                store.flush().unwrap();
            }
            let expected: Vec<(Bytes, i64)> =
                [b"b", b"c", b"d"].iter().flat_map(|k| [(b(*k), 10), (b(*k), 20)]).collect();
            assert_eq!(starts(store.fetch_key_range(Some(b"b"), Some(b"d"), 10, 20)), expected);
            assert_eq!(
                starts(store.backward_fetch_key_range(Some(b"b"), Some(b"d"), 10, 20)),
                reversed(&expected)
            );
            assert_eq!(
                starts(store.fetch_key_range(Some(b"bb"), Some(b"c"), 0, 0)),
                vec![(b(b"c"), 0)]
            );
            assert_eq!(
                starts(store.fetch_key_range(None, Some(b"a"), 0, 100)),
                vec![(b(b"a"), 0), (b(b"a"), 10), (b(b"a"), 20)]
            );
            assert_eq!(starts(store.fetch_key_range(Some(b"e"), None, 5, 15)), vec![(b(b"e"), 10)]);
            assert_eq!(starts(store.fetch_key_range(None, None, 0, 100)).len(), 15);
            assert_eq!(
                starts(store.fetch_key_range(Some(b"c"), Some(b"c"), 0, 100)),
                vec![(b(b"c"), 0), (b(b"c"), 10), (b(b"c"), 20)]
            );
            // Inverted key or time ranges are empty, as in Kafka.
            assert!(starts(store.fetch_key_range(Some(b"d"), Some(b"b"), 0, 100)).is_empty());
            assert!(
                starts(store.backward_fetch_key_range(Some(b"d"), Some(b"b"), 0, 100)).is_empty()
            );
            assert!(starts(store.fetch_key_range(Some(b"b"), Some(b"d"), 20, 10)).is_empty());
            assert!(starts(store.fetch_key_range(Some(b"x"), None, 0, 100)).is_empty());
        }
    }

    /// Keys that are prefixes of one another: every window in range is returned exactly once,
    /// in the documented byte order of `[key][start][seq]`.
    pub(crate) fn key_range_with_prefix_keys_follows_the_byte_layout(open: OpenWindow) {
        let (_dir, mut store) = fresh(open, WindowSpec::LONG);
        let keys: [&[u8]; 8] =
            [b"", b"\x00", b"\x01", b"a", b"a\x00", b"a\x7f", b"a\xff\xff", b"\xff"];
        let starts_ms = [0, 1, 255, 256, 70_000, 300_000];
        for key in keys.iter().rev() {
            for start in starts_ms {
                put(&mut *store, key, start, key);
            }
        }
        for flushed in [false, true] {
            if flushed {
                store.flush().unwrap();
            }
            let expected = |from: Option<&[u8]>, to: Option<&[u8]>, t0: i64, t1: i64| {
                let mut all: Vec<(Bytes, i64)> = keys
                    .iter()
                    .filter(|k| from.is_none_or(|f| **k >= f) && to.is_none_or(|t| **k <= t))
                    .flat_map(|k| starts_ms.iter().map(move |s| (b(k), *s)))
                    .filter(|(_, s)| (t0..=t1).contains(s))
                    .collect();
                all.sort_by_key(|(k, s)| window_order_key(k, *s, 0));
                all
            };
            for (from, to) in [
                (None, None),
                (Some(&b"a"[..]), Some(&b"a\x7f"[..])),
                (Some(b""), Some(b"\x00")),
                (Some(b"\x00"), Some(b"a")),
                (None, Some(b"a")),
                (Some(b"a\x00"), None),
            ] {
                for (t0, t1) in [(0, 400_000), (1, 256), (256, 70_000), (300_000, 300_000)] {
                    let want = expected(from, to, t0, t1);
                    assert_eq!(
                        starts(store.fetch_key_range(from, to, t0, t1)),
                        want,
                        "{from:?}..={to:?} @ {t0}..={t1}"
                    );
                    assert_eq!(
                        starts(store.backward_fetch_key_range(from, to, t0, t1)),
                        reversed(&want)
                    );
                }
            }
            for key in keys {
                let want: Vec<(Bytes, i64)> = starts_ms.iter().map(|s| (b(key), *s)).collect();
                assert_eq!(starts(store.fetch_range(key, 0, 400_000)), want, "{key:?}");
            }
        }
    }

    pub(crate) fn fetch_all_and_all(open: OpenWindow) {
        let (_dir, mut store) = fresh(open, WindowSpec::LONG);
        put(&mut *store, b"b", 10, b"b10");
        put(&mut *store, b"a", 20, b"a20");
        put(&mut *store, b"a", 0, b"a0");
        put(&mut *store, b"c", 10, b"c10");
        for flushed in [false, true] {
            if flushed {
                store.flush().unwrap();
            }
            let all = vec![
                t(b"a", 0, b"a0"),
                t(b"a", 20, b"a20"),
                t(b"b", 10, b"b10"),
                t(b"c", 10, b"c10"),
            ];
            assert_eq!(triples(store.all()), all);
            assert_eq!(triples(store.backward_all()), reversed(&all));
            let mid = vec![t(b"b", 10, b"b10"), t(b"c", 10, b"c10")];
            assert_eq!(triples(store.fetch_all(5, 15)), mid);
            assert_eq!(triples(store.backward_fetch_all(5, 15)), reversed(&mid));
            assert_eq!(triples(store.fetch_all(10, 20)).len(), 3);
            assert!(triples(store.fetch_all(21, 1_000)).is_empty());
            assert!(triples(store.fetch_all(15, 5)).is_empty());
        }
    }

    /// Kafka drops a record whose window start is at or before `stream time - retention`, and
    /// never returns one.
    pub(crate) fn expired_windows_are_dropped_and_never_returned(open: OpenWindow) {
        let spec = WindowSpec { retention_ms: 100, ..WindowSpec::LONG };
        let (_dir, mut store) = fresh(open, spec);
        put(&mut *store, b"a", 0, b"0");
        put(&mut *store, b"a", 50, b"50");
        put(&mut *store, b"b", 60, b"60");
        assert_eq!(fetch(&*store, b"a", 0), Some(b(b"0")));
        put(&mut *store, b"a", 100, b"100"); // stream time 100: window 0 expires (0 <= 100 - 100)
        for flushed in [false, true] {
            if flushed {
                store.flush().unwrap();
            }
            assert_eq!(store.observed_stream_time(), Some(100));
            assert_eq!(fetch(&*store, b"a", 0), None);
            assert_eq!(fetch(&*store, b"a", 50), Some(b(b"50")));
            assert_eq!(
                starts(store.fetch_range(b"a", 0, 1_000)),
                vec![(b(b"a"), 50), (b(b"a"), 100)]
            );
            assert_eq!(starts(store.backward_fetch_range(b"a", 0, 1_000))[1], (b(b"a"), 50));
            assert_eq!(starts(store.fetch_key_range(None, None, 0, 1_000)).len(), 3);
            assert_eq!(starts(store.all()), vec![(b(b"a"), 50), (b(b"a"), 100), (b(b"b"), 60)]);
        }
        // A put of an expired window is dropped, even when no live record hides it.
        put(&mut *store, b"z", 0, b"late");
        assert_eq!(fetch(&*store, b"z", 0), None);
        assert!(starts(store.fetch_range(b"z", 0, 1_000)).is_empty());
        // The boundary: at stream time 160, 60 is expired and 61 is live.
        put(&mut *store, b"c", 61, b"61");
        put(&mut *store, b"c", 160, b"160");
        store.flush().unwrap();
        assert_eq!(fetch(&*store, b"b", 60), None);
        assert_eq!(fetch(&*store, b"c", 61), Some(b(b"61")));
        assert_eq!(starts(store.all()), vec![(b(b"a"), 100), (b(b"c"), 61), (b(b"c"), 160)]);
        // A delete moves stream time too (Kafka's stores do the same).
        store.put(b(b"nothing"), None, 1_000).unwrap();
        assert_eq!(store.observed_stream_time(), Some(1_000));
        assert!(starts(store.all()).is_empty());
    }

    pub(crate) fn negative_window_starts_are_dropped(open: OpenWindow) {
        let (_dir, mut store) = fresh(open, WindowSpec::LONG);
        put(&mut *store, b"a", -10, b"neg");
        put(&mut *store, b"a", 10, b"pos");
        assert_eq!(fetch(&*store, b"a", -10), None);
        assert_eq!(starts(store.fetch_range(b"a", -100, 100)), vec![(b(b"a"), 10)]);
        assert_eq!(starts(store.fetch_all(i64::MIN, 100)), vec![(b(b"a"), 10)]);
        assert!(starts(store.fetch_all(-100, -1)).is_empty());
        assert_eq!(store.observed_stream_time(), Some(10));
    }

    pub(crate) fn duplicates_keep_every_record_in_write_order(open: OpenWindow) {
        let (_dir, mut store) = fresh(open, DUPS);
        put(&mut *store, b"a", 10, b"first");
        put(&mut *store, b"a", 10, b"second");
        put(&mut *store, b"a", 0, b"early");
        put(&mut *store, b"b", 10, b"other");
        put(&mut *store, b"a", 10, b"first"); // an equal value is another record
        for flushed in [false, true] {
            if flushed {
                store.flush().unwrap();
            }
            let expected = vec![
                t(b"a", 0, b"early"),
                t(b"a", 10, b"first"),
                t(b"a", 10, b"second"),
                t(b"a", 10, b"first"),
            ];
            assert_eq!(triples(store.fetch_range(b"a", 0, 10)), expected);
            assert_eq!(triples(store.backward_fetch_range(b"a", 0, 10)), reversed(&expected));
            assert_eq!(fetch(&*store, b"a", 10), Some(b(b"first")), "the first duplicate");
            assert_eq!(triples(store.all()).len(), 5);
            assert_eq!(triples(store.fetch_key_range(Some(b"a"), Some(b"a"), 10, 10)).len(), 3);
        }
        // With duplicates, a put of None deletes nothing (Kafka: a no-op).
        store.put(b(b"a"), None, 10).unwrap();
        assert_eq!(triples(store.fetch_range(b"a", 10, 10)).len(), 3);
    }

    pub(crate) fn duplicates_expire_like_any_record(open: OpenWindow) {
        let spec = WindowSpec { retention_ms: 100, ..DUPS };
        let (_dir, mut store) = fresh(open, spec);
        put(&mut *store, b"a", 0, b"1");
        put(&mut *store, b"a", 0, b"2");
        put(&mut *store, b"a", 100, b"3");
        assert_eq!(triples(store.all()), vec![t(b"a", 100, b"3")]);
        assert_eq!(fetch(&*store, b"a", 0), None);
    }

    pub(crate) fn scans_see_unflushed_writes_and_deletes(open: OpenWindow) {
        let (_dir, mut store) = fresh(open, WindowSpec::LONG);
        for key in [b"a", b"b", b"c", b"d"] {
            put(&mut *store, key, 10, b"old");
        }
        store.flush().unwrap();
        store.put(b(b"b"), None, 10).unwrap();
        put(&mut *store, b"c", 10, b"new");
        put(&mut *store, b"c", 20, b"new");
        store.put(b(b"d"), None, 10).unwrap();
        let expected = vec![t(b"a", 10, b"old"), t(b"c", 10, b"new"), t(b"c", 20, b"new")];
        assert_eq!(triples(store.all()), expected);
        assert_eq!(triples(store.backward_all()), reversed(&expected));
        assert_eq!(triples(store.fetch_key_range(Some(b"b"), Some(b"d"), 0, 100)), expected[1..]);
        assert_eq!(triples(store.fetch_range(b"c", 0, 100)), expected[1..]);
        assert!(triples(store.fetch_range(b"b", 0, 100)).is_empty());
        assert_eq!(fetch(&*store, b"b", 10), None);
        assert_eq!(fetch(&*store, b"c", 10), Some(b(b"new")));
        store.flush().unwrap();
        assert_eq!(triples(store.all()), expected);
    }

    pub(crate) fn data_and_stream_time_survive_close_and_reopen(open: OpenWindow) {
        let spec = WindowSpec { retention_ms: 1_000, ..WindowSpec::LONG };
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(dir.path(), spec);
        store.init().unwrap();
        put(&mut *store, b"a", 0, b"0");
        put(&mut *store, b"a", 500, b"500");
        put(&mut *store, b"b", 1_200, b"1200"); // window 0 expires
        store.flush().unwrap();
        put(&mut *store, b"c", 1_300, b"1300"); // after the flush; close flushes it too
        store.close().unwrap();
        assert!(!store.is_open());

        // A new handle over the same directory, as after a restart.
        let mut reopened = open(dir.path(), spec);
        reopened.init().unwrap();
        if reopened.persistent() {
            assert_eq!(reopened.observed_stream_time(), Some(1_300));
            assert_eq!(
                triples(reopened.all()),
                vec![t(b"a", 500, b"500"), t(b"b", 1_200, b"1200"), t(b"c", 1_300, b"1300")]
            );
            assert_eq!(fetch(&*reopened, b"a", 0), None, "what had expired stays expired");
            // Records expire from the recovered stream time on.
            put(&mut *reopened, b"a", 250, b"late");
            assert_eq!(fetch(&*reopened, b"a", 250), None);
        } else {
            assert!(triples(reopened.all()).is_empty(), "in-memory data does not outlive close");
            assert_eq!(reopened.observed_stream_time(), None);
        }
        reopened.close().unwrap();

        // The same handle opens again, too.
        store.init().unwrap();
        assert_eq!(fetch(&*store, b"c", 1_300).is_some(), store.persistent());
        store.close().unwrap();
    }

    pub(crate) fn closed_store_rejects_operations(open: OpenWindow) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(dir.path(), WindowSpec::LONG);
        assert!(!store.is_open());
        assert!(matches!(store.fetch(b"a", 0), Err(StoreError::Closed { .. })));
        assert!(matches!(store.put(b(b"a"), Some(b(b"1")), 0), Err(StoreError::Closed { .. })));
        store.init().unwrap();
        store.init().unwrap(); // opening an open store does nothing
        assert!(store.is_open());
        put(&mut *store, b"a", 0, b"1");
        store.close().unwrap();
        store.close().unwrap(); // closing a closed store does nothing
        let err = store.fetch(b"a", 0).unwrap_err();
        assert!(matches!(&err, StoreError::Closed { store } if store == "store"), "{err}");
        assert!(err.to_string().contains("init()"), "message says what to do: {err}");
        assert!(matches!(store.put(b(b"a"), None, 0), Err(StoreError::Closed { .. })));
        assert!(matches!(store.fetch_range(b"a", 0, 1), Err(StoreError::Closed { .. })));
        assert!(matches!(store.backward_fetch_range(b"a", 0, 1), Err(StoreError::Closed { .. })));
        assert!(matches!(store.fetch_key_range(None, None, 0, 1), Err(StoreError::Closed { .. })));
        assert!(matches!(
            store.backward_fetch_key_range(None, None, 0, 1),
            Err(StoreError::Closed { .. })
        ));
        assert!(matches!(store.fetch_all(0, 1), Err(StoreError::Closed { .. })));
        assert!(matches!(store.all(), Err(StoreError::Closed { .. })));
        assert!(matches!(store.backward_all(), Err(StoreError::Closed { .. })));
        assert!(matches!(store.flush(), Err(StoreError::Closed { .. })));
    }

    /// Many keys and windows spread over several RocksDB segments (10 minutes of retention:
    /// 5-minute segments), written out of order.
    pub(crate) fn many_windows_across_segments_in_order(open: OpenWindow) {
        let (_dir, mut store) = fresh(open, WindowSpec::LONG);
        let mut expected = Vec::new();
        for i in 0..600u32 {
            let k = (i * 7919) % 600;
            let key = (k % 20).to_be_bytes();
            let start = i64::from(k / 20) * 20_000; // 0 .. 580 s
            store.put(b(&key), Some(b(&i.to_be_bytes())), start).unwrap();
            expected.push((b(&key), start));
            if i == 300 {
                store.flush().unwrap();
            }
        }
        expected.sort_by_key(|(k, s)| window_order_key(k, *s, 0));
        assert_eq!(starts(store.all()), expected);
        assert_eq!(starts(store.backward_all()), reversed(&expected));
        let key = 7u32.to_be_bytes();
        let one: Vec<(Bytes, i64)> = (0..30).map(|s| (b(&key), s * 20_000)).collect();
        assert_eq!(starts(store.fetch_range(&key, 0, 600_000)), one);
        assert_eq!(starts(store.backward_fetch_range(&key, 0, 600_000)), reversed(&one));
        assert_eq!(starts(store.fetch_range(&key, 100_000, 400_000)), one[5..=20]);
        let (from, to) = (5u32.to_be_bytes(), 9u32.to_be_bytes());
        assert_eq!(starts(store.fetch_key_range(Some(&from), Some(&to), 0, 600_000)).len(), 150);
        assert_eq!(starts(store.fetch_all(280_000, 320_000)).len(), 60);
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

            fn open(dir: &Path, spec: WindowSpec) -> Box<dyn WindowStore> {
                ($open)(dir, spec)
            }

            conformance!(@scenarios
                reports_its_configuration
                put_fetch_overwrite_and_delete
                fetch_range_is_inclusive_and_ordered_by_start
                fetch_key_range_includes_both_ends
                key_range_with_prefix_keys_follows_the_byte_layout
                fetch_all_and_all
                expired_windows_are_dropped_and_never_returned
                negative_window_starts_are_dropped
                duplicates_keep_every_record_in_write_order
                duplicates_expire_like_any_record
                scans_see_unflushed_writes_and_deletes
                data_and_stream_time_survive_close_and_reopen
                closed_store_rejects_operations
                many_windows_across_segments_in_order
            );
        }
    )*};
}

conformance! {
    memory_bare => memory_window;
    memory_metered => |dir, spec| window_metered(memory_window(dir, spec));
    memory_caching => |dir, spec| window_caching(memory_window(dir, spec), ROOMY);
    memory_caching_tiny => |dir, spec| window_caching(memory_window(dir, spec), TINY);
    memory_caching_zero => |dir, spec| window_caching(memory_window(dir, spec), 0);
    memory_logging => |dir, spec| window_logging(memory_window(dir, spec));
    memory_stacked => |dir, spec| window_stacked(memory_window(dir, spec), ROOMY);
    memory_stacked_tiny => |dir, spec| window_stacked(memory_window(dir, spec), TINY);
    rocksdb_bare => rocks_window;
    rocksdb_metered => |dir, spec| window_metered(rocks_window(dir, spec));
    rocksdb_caching => |dir, spec| window_caching(rocks_window(dir, spec), ROOMY);
    rocksdb_caching_tiny => |dir, spec| window_caching(rocks_window(dir, spec), TINY);
    rocksdb_caching_zero => |dir, spec| window_caching(rocks_window(dir, spec), 0);
    rocksdb_logging => |dir, spec| window_logging(rocks_window(dir, spec));
    rocksdb_stacked => |dir, spec| window_stacked(rocks_window(dir, spec), ROOMY);
    rocksdb_stacked_tiny => |dir, spec| window_stacked(rocks_window(dir, spec), TINY);
}
