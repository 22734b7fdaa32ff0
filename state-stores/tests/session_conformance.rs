//! The session store conformance suite (Kafka's `AbstractSessionBytesStoreTest`): every scenario
//! runs against every backend (in-memory, RocksDB) bare and under every layer combination:
//! metered, caching (roomy, tiny so that it evicts constantly, and zero so that it writes
//! through), change-logging, and all three stacked as the builder stacks them.
#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

mod windowed_common;

use std::path::Path;

use bytes::Bytes;
use state_stores::{SessionKey, SessionStore, StoreError};
use tempfile::TempDir;
use windowed_common::*;

/// Ten minutes: nothing the scenarios write expires unless they say so.
const LONG: u64 = 600_000;

fn fresh(open: OpenSession, retention_ms: u64) -> (TempDir, Box<dyn SessionStore>) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), retention_ms);
    store.init().unwrap();
    (dir, store)
}

fn s(key: &[u8], start: i64, end: i64) -> SessionKey {
    SessionKey::new(b(key), start, end)
}

fn put(store: &mut dyn SessionStore, key: &[u8], start: i64, end: i64, value: &[u8]) {
    store.put(s(key, start, end), Some(b(value))).unwrap();
}

fn span(key: &[u8], start: i64, end: i64) -> (Bytes, i64, i64) {
    (b(key), start, end)
}

fn reversed<T: Clone>(items: &[T]) -> Vec<T> {
    items.iter().rev().cloned().collect()
}

mod scenarios {
    use super::*;

    pub(crate) fn reports_its_configuration(open: OpenSession) {
        let (_dir, mut store) = fresh(open, LONG);
        assert_eq!(store.name(), "store");
        assert_eq!(store.retention_period_ms(), 600_000);
        assert_eq!(store.observed_stream_time(), None);
        put(&mut *store, b"a", 100, 500, b"1");
        put(&mut *store, b"a", 0, 200, b"1");
        assert_eq!(store.observed_stream_time(), Some(500), "the largest session end");
    }

    pub(crate) fn put_fetch_overwrite_and_remove(open: OpenSession) {
        let (_dir, mut store) = fresh(open, LONG);
        assert_eq!(store.fetch_session(b"a", 0, 10).unwrap(), None);
        put(&mut *store, b"a", 0, 10, b"1");
        put(&mut *store, b"a", 0, 20, b"2");
        assert_eq!(store.fetch_session(b"a", 0, 10).unwrap(), Some(b(b"1")));
        assert_eq!(store.fetch_session(b"a", 0, 20).unwrap(), Some(b(b"2")));
        assert_eq!(store.fetch_session(b"a", 1, 10).unwrap(), None, "start and end must match");
        put(&mut *store, b"a", 0, 10, b"3");
        assert_eq!(store.fetch_session(b"a", 0, 10).unwrap(), Some(b(b"3")));
        // An empty value is a value; the empty key is a key.
        put(&mut *store, b"e", 5, 5, b"");
        assert_eq!(store.fetch_session(b"e", 5, 5).unwrap(), Some(Bytes::new()));
        put(&mut *store, b"", 5, 5, b"empty-key");
        assert_eq!(store.fetch_session(b"", 5, 5).unwrap(), Some(b(b"empty-key")));
        store.remove(s(b"a", 0, 10)).unwrap();
        assert_eq!(store.fetch_session(b"a", 0, 10).unwrap(), None);
        store.put(s(b"a", 0, 20), None).unwrap(); // None removes too
        assert_eq!(store.fetch_session(b"a", 0, 20).unwrap(), None);
        store.remove(s(b"never", 0, 0)).unwrap(); // removing an absent session is no error
        store.flush().unwrap();
        assert_eq!(store.fetch_session(b"a", 0, 10).unwrap(), None);
        assert_eq!(store.fetch_session(b"e", 5, 5).unwrap(), Some(Bytes::new()));
        assert_eq!(
            spans(store.find_sessions_in_key_range(None, None, 0, i64::MAX)),
            vec![span(b"", 5, 5), span(b"e", 5, 5)]
        );
    }

    /// Kafka's rule: `end >= earliest_session_end` and `start <= latest_session_start`.
    pub(crate) fn find_sessions_returns_those_overlapping_or_touching_the_range(open: OpenSession) {
        let (_dir, mut store) = fresh(open, LONG);
        for (start, end) in [(40, 50), (0, 10), (60, 60), (20, 30)] {
            put(&mut *store, b"a", start, end, format!("{start}-{end}").as_bytes());
        }
        // Neighbours that must stay out: a smaller and a larger key, and keys that extend "a".
        for key in [&b""[..], b"\x00", b"a\x00", b"a\x00\x00\x00\x00\x00\x00\x00", b"ab", b"b"] {
            put(&mut *store, key, 25, 45, b"x");
        }
        for flushed in [false, true] {
            if flushed {
                store.flush().unwrap();
            }
            let found = sessions(store.find_sessions(b"a", 25, 45));
            assert_eq!(found, vec![(s(b"a", 20, 30), b(b"20-30")), (s(b"a", 40, 50), b(b"40-50"))]);
            assert_eq!(
                spans(store.find_sessions(b"a", 30, 40)),
                vec![span(b"a", 20, 30), span(b"a", 40, 50)],
                "touching ends count"
            );
            assert!(spans(store.find_sessions(b"a", 31, 39)).is_empty(), "in a gap");
            assert_eq!(spans(store.find_sessions(b"a", 0, 0)), vec![span(b"a", 0, 10)]);
            assert_eq!(spans(store.find_sessions(b"a", 60, i64::MAX)), vec![span(b"a", 60, 60)]);
            assert_eq!(
                spans(store.find_sessions(b"a", i64::MIN, -1)),
                Vec::new(),
                "starts are never negative"
            );
            let all =
                vec![span(b"a", 0, 10), span(b"a", 20, 30), span(b"a", 40, 50), span(b"a", 60, 60)];
            assert_eq!(spans(store.fetch(b"a")), all);
            assert_eq!(spans(store.backward_fetch(b"a")), reversed(&all));
            assert_eq!(spans(store.find_sessions(b"a", i64::MIN, i64::MAX)), all);
            assert_eq!(
                spans(store.backward_find_sessions(b"a", 25, 45)),
                vec![span(b"a", 40, 50), span(b"a", 20, 30)]
            );
            assert!(spans(store.fetch(b"c")).is_empty(), "absent key");
            assert_eq!(spans(store.fetch(b"a\x00")), vec![span(b"a\x00", 25, 45)]);
            assert_eq!(spans(store.fetch(b"")), vec![span(b"", 25, 45)]);
        }
    }

    pub(crate) fn sessions_of_a_key_order_by_end_then_start(open: OpenSession) {
        let (_dir, mut store) = fresh(open, LONG);
        for (start, end) in [(10, 20), (0, 15), (5, 20), (20, 20), (0, 300_000)] {
            put(&mut *store, b"k", start, end, b"v");
        }
        let expected = vec![
            span(b"k", 0, 15),
            span(b"k", 5, 20),
            span(b"k", 10, 20),
            span(b"k", 20, 20),
            span(b"k", 0, 300_000),
        ];
        assert_eq!(spans(store.fetch(b"k")), expected);
        store.flush().unwrap();
        assert_eq!(spans(store.fetch(b"k")), expected);
        assert_eq!(spans(store.backward_fetch(b"k")), reversed(&expected));
    }

    pub(crate) fn key_range_searches_include_both_ends(open: OpenSession) {
        let (_dir, mut store) = fresh(open, LONG);
        for key in [b"d", b"a", b"c", b"e", b"b"] {
            put(&mut *store, key, 0, 10, key);
            put(&mut *store, key, 20, 30, key);
        }
        for flushed in [false, true] {
            if flushed {
                store.flush().unwrap();
            }
            let expected: Vec<_> = [b"b", b"c", b"d"]
                .iter()
                .flat_map(|k| [span(*k, 0, 10), span(*k, 20, 30)])
                .collect();
            assert_eq!(
                spans(store.find_sessions_in_key_range(Some(b"b"), Some(b"d"), 0, 100)),
                expected
            );
            assert_eq!(
                spans(store.backward_find_sessions_in_key_range(Some(b"b"), Some(b"d"), 0, 100)),
                reversed(&expected)
            );
            assert_eq!(
                spans(store.find_sessions_in_key_range(Some(b"bb"), Some(b"c"), 15, 100)),
                vec![span(b"c", 20, 30)]
            );
            assert_eq!(
                spans(store.find_sessions_in_key_range(None, Some(b"a"), 0, 5)),
                vec![span(b"a", 0, 10)]
            );
            assert_eq!(spans(store.find_sessions_in_key_range(Some(b"e"), None, 0, 100)).len(), 2);
            assert_eq!(spans(store.find_sessions_in_key_range(None, None, 11, 19)), Vec::new());
            assert_eq!(spans(store.find_sessions_in_key_range(None, None, 0, i64::MAX)).len(), 10);
            assert!(
                spans(store.find_sessions_in_key_range(Some(b"d"), Some(b"b"), 0, 100)).is_empty()
            );
            assert!(
                spans(store.backward_find_sessions_in_key_range(Some(b"d"), Some(b"b"), 0, 100))
                    .is_empty()
            );
        }
    }

    /// Keys that are prefixes of one another: every session in range is returned exactly once,
    /// in the documented byte order of `[key][end][start]`.
    pub(crate) fn key_range_with_prefix_keys_follows_the_byte_layout(open: OpenSession) {
        let (_dir, mut store) = fresh(open, LONG);
        let keys: [&[u8]; 8] =
            [b"", b"\x00", b"\x01", b"a", b"a\x00", b"a\x7f", b"a\xff\xff", b"\xff"];
        let times = [(0, 0), (0, 1), (1, 255), (256, 256), (70_000, 70_000), (100, 300_000)];
        for key in keys.iter().rev() {
            for (start, end) in times {
                put(&mut *store, key, start, end, key);
            }
        }
        for flushed in [false, true] {
            if flushed {
                store.flush().unwrap();
            }
            for (from, to) in [
                (None, None),
                (Some(&b"a"[..]), Some(&b"a\x7f"[..])),
                (Some(b""), Some(b"\x00")),
                (Some(b"\x00"), Some(b"a")),
                (None, Some(b"a")),
                (Some(b"a\x00"), None),
            ] {
                for (earliest_end, latest_start) in
                    [(0, i64::MAX), (1, 256), (256, 70_000), (300_000, 300_000)]
                {
                    let mut want: Vec<(Bytes, i64, i64)> = keys
                        .iter()
                        .filter(|k| from.is_none_or(|f| **k >= f) && to.is_none_or(|t| **k <= t))
                        .flat_map(|k| times.iter().map(move |(s, e)| span(k, *s, *e)))
                        .filter(|(_, s, e)| *e >= earliest_end && *s <= latest_start)
                        .collect();
                    want.sort_by_key(|(k, s, e)| session_order_key(k, *s, *e));
                    assert_eq!(
                        spans(store.find_sessions_in_key_range(
                            from,
                            to,
                            earliest_end,
                            latest_start
                        )),
                        want,
                        "{from:?}..={to:?} ends >= {earliest_end}, starts <= {latest_start}"
                    );
                    assert_eq!(
                        spans(store.backward_find_sessions_in_key_range(
                            from,
                            to,
                            earliest_end,
                            latest_start
                        )),
                        reversed(&want)
                    );
                }
            }
        }
    }

    /// Kafka drops a session whose end is at or before `stream time - retention`, and never
    /// returns one.
    pub(crate) fn expired_sessions_are_dropped_and_never_returned(open: OpenSession) {
        let (_dir, mut store) = fresh(open, 100);
        put(&mut *store, b"a", 0, 0, b"0");
        put(&mut *store, b"a", 0, 50, b"50");
        put(&mut *store, b"b", 60, 60, b"60");
        assert_eq!(store.fetch_session(b"a", 0, 0).unwrap(), Some(b(b"0")));
        put(&mut *store, b"a", 90, 100, b"100"); // stream time 100: end 0 expires
        for flushed in [false, true] {
            if flushed {
                store.flush().unwrap();
            }
            assert_eq!(store.observed_stream_time(), Some(100));
            assert_eq!(store.fetch_session(b"a", 0, 0).unwrap(), None);
            assert_eq!(store.fetch_session(b"a", 0, 50).unwrap(), Some(b(b"50")));
            assert_eq!(spans(store.fetch(b"a")), vec![span(b"a", 0, 50), span(b"a", 90, 100)]);
            assert_eq!(
                spans(store.find_sessions_in_key_range(None, None, 0, i64::MAX)),
                vec![span(b"a", 0, 50), span(b"a", 90, 100), span(b"b", 60, 60)]
            );
        }
        put(&mut *store, b"z", 0, 0, b"late");
        assert_eq!(store.fetch_session(b"z", 0, 0).unwrap(), None);
        // A long session that started long ago lives as long as its end does.
        put(&mut *store, b"c", 0, 61, b"61");
        put(&mut *store, b"c", 150, 160, b"160"); // stream time 160: end 60 expires, 61 lives
        assert_eq!(store.fetch_session(b"b", 60, 60).unwrap(), None);
        assert_eq!(store.fetch_session(b"c", 0, 61).unwrap(), Some(b(b"61")));
        store.remove(s(b"nothing", 0, 1_000)).unwrap(); // a removal moves stream time too
        assert_eq!(store.observed_stream_time(), Some(1_000));
        assert!(spans(store.find_sessions_in_key_range(None, None, 0, i64::MAX)).is_empty());
    }

    pub(crate) fn invalid_sessions_are_dropped(open: OpenSession) {
        let (_dir, mut store) = fresh(open, LONG);
        put(&mut *store, b"a", -5, 10, b"negative start");
        put(&mut *store, b"a", 20, 10, b"end before start");
        put(&mut *store, b"a", 5, 5, b"ok");
        assert_eq!(store.fetch_session(b"a", -5, 10).unwrap(), None);
        assert_eq!(store.fetch_session(b"a", 20, 10).unwrap(), None);
        assert_eq!(spans(store.fetch(b"a")), vec![span(b"a", 5, 5)]);
        assert_eq!(store.observed_stream_time(), Some(5));
    }

    /// What a session-window aggregation does with a record at 25 and a gap of 10: find the
    /// sessions it merges with, remove them, put the merged session.
    pub(crate) fn merging_sessions(open: OpenSession) {
        let (_dir, mut store) = fresh(open, LONG);
        put(&mut *store, b"k", 0, 15, b"2");
        put(&mut *store, b"k", 35, 40, b"1");
        put(&mut *store, b"k", 60, 70, b"5");
        store.flush().unwrap();
        let merging = sessions(store.find_sessions(b"k", 25 - 10, 25 + 10));
        assert_eq!(
            merging.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>(),
            vec![s(b"k", 0, 15), s(b"k", 35, 40)]
        );
        for (session, _) in merging {
            store.remove(session).unwrap();
        }
        put(&mut *store, b"k", 0, 40, b"4");
        assert_eq!(spans(store.fetch(b"k")), vec![span(b"k", 0, 40), span(b"k", 60, 70)]);
        store.flush().unwrap();
        assert_eq!(spans(store.fetch(b"k")), vec![span(b"k", 0, 40), span(b"k", 60, 70)]);
    }

    pub(crate) fn searches_see_unflushed_writes_and_removals(open: OpenSession) {
        let (_dir, mut store) = fresh(open, LONG);
        for key in [b"a", b"b", b"c", b"d"] {
            put(&mut *store, key, 0, 10, b"old");
        }
        store.flush().unwrap();
        store.remove(s(b"b", 0, 10)).unwrap();
        put(&mut *store, b"c", 0, 10, b"new");
        put(&mut *store, b"c", 20, 20, b"new");
        store.put(s(b"d", 0, 10), None).unwrap();
        let expected = vec![
            (s(b"a", 0, 10), b(b"old")),
            (s(b"c", 0, 10), b(b"new")),
            (s(b"c", 20, 20), b(b"new")),
        ];
        assert_eq!(sessions(store.find_sessions_in_key_range(None, None, 0, i64::MAX)), expected);
        assert_eq!(
            sessions(store.backward_find_sessions_in_key_range(None, None, 0, i64::MAX)),
            reversed(&expected)
        );
        assert_eq!(sessions(store.fetch(b"c")), expected[1..]);
        assert!(sessions(store.fetch(b"b")).is_empty());
        assert_eq!(store.fetch_session(b"c", 0, 10).unwrap(), Some(b(b"new")));
        store.flush().unwrap();
        assert_eq!(sessions(store.find_sessions_in_key_range(None, None, 0, i64::MAX)), expected);
    }

    pub(crate) fn data_and_stream_time_survive_close_and_reopen(open: OpenSession) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(dir.path(), 1_000);
        store.init().unwrap();
        put(&mut *store, b"a", 0, 0, b"0");
        put(&mut *store, b"a", 100, 500, b"500");
        put(&mut *store, b"b", 1_000, 1_200, b"1200"); // end 0 expires
        store.flush().unwrap();
        put(&mut *store, b"c", 1_300, 1_300, b"1300"); // after the flush; close flushes it too
        store.close().unwrap();

        let mut reopened = open(dir.path(), 1_000);
        reopened.init().unwrap();
        if reopened.persistent() {
            assert_eq!(reopened.observed_stream_time(), Some(1_300));
            assert_eq!(
                spans(reopened.find_sessions_in_key_range(None, None, 0, i64::MAX)),
                vec![span(b"a", 100, 500), span(b"b", 1_000, 1_200), span(b"c", 1_300, 1_300)]
            );
            assert_eq!(reopened.fetch_session(b"a", 0, 0).unwrap(), None, "still expired");
            put(&mut *reopened, b"a", 250, 250, b"late");
            assert_eq!(reopened.fetch_session(b"a", 250, 250).unwrap(), None);
        } else {
            assert!(spans(reopened.find_sessions_in_key_range(None, None, 0, i64::MAX)).is_empty());
            assert_eq!(reopened.observed_stream_time(), None);
        }
        reopened.close().unwrap();
        store.init().unwrap();
        assert_eq!(store.fetch_session(b"c", 1_300, 1_300).unwrap().is_some(), store.persistent());
        store.close().unwrap();
    }

    pub(crate) fn closed_store_rejects_operations(open: OpenSession) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(dir.path(), LONG);
        assert!(!store.is_open());
        assert!(matches!(store.fetch_session(b"a", 0, 0), Err(StoreError::Closed { .. })));
        assert!(matches!(store.put(s(b"a", 0, 0), Some(b(b"1"))), Err(StoreError::Closed { .. })));
        store.init().unwrap();
        store.init().unwrap();
        put(&mut *store, b"a", 0, 0, b"1");
        store.close().unwrap();
        store.close().unwrap();
        let err = store.fetch_session(b"a", 0, 0).unwrap_err();
        assert!(matches!(&err, StoreError::Closed { store } if store == "store"), "{err}");
        assert!(matches!(store.remove(s(b"a", 0, 0)), Err(StoreError::Closed { .. })));
        assert!(matches!(store.find_sessions(b"a", 0, 1), Err(StoreError::Closed { .. })));
        assert!(matches!(store.backward_find_sessions(b"a", 0, 1), Err(StoreError::Closed { .. })));
        assert!(matches!(
            store.find_sessions_in_key_range(None, None, 0, 1),
            Err(StoreError::Closed { .. })
        ));
        assert!(matches!(
            store.backward_find_sessions_in_key_range(None, None, 0, 1),
            Err(StoreError::Closed { .. })
        ));
        assert!(matches!(store.fetch(b"a"), Err(StoreError::Closed { .. })));
        assert!(matches!(store.backward_fetch(b"a"), Err(StoreError::Closed { .. })));
        assert!(matches!(store.flush(), Err(StoreError::Closed { .. })));
    }

    /// Many sessions spread over several RocksDB segments (10 minutes of retention: 5-minute
    /// segments by end time), written out of order.
    pub(crate) fn many_sessions_across_segments_in_order(open: OpenSession) {
        let (_dir, mut store) = fresh(open, LONG);
        let mut expected = Vec::new();
        for i in 0..600u32 {
            let k = (i * 7919) % 600;
            let key = (k % 20).to_be_bytes();
            let end = i64::from(k / 20) * 20_000 + 5_000;
            let start = end - i64::from(k % 3) * 1_000;
            store.put(SessionKey::new(b(&key), start, end), Some(b(&i.to_be_bytes()))).unwrap();
            expected.push((b(&key), start, end));
            if i == 300 {
                store.flush().unwrap();
            }
        }
        expected.sort_by_key(|(k, s, e)| session_order_key(k, *s, *e));
        assert_eq!(spans(store.find_sessions_in_key_range(None, None, 0, i64::MAX)), expected);
        let key = 7u32.to_be_bytes();
        let one: Vec<_> = expected.iter().filter(|(k, _, _)| k[..] == key).cloned().collect();
        assert_eq!(one.len(), 30);
        assert_eq!(spans(store.fetch(&key)), one);
        assert_eq!(spans(store.backward_fetch(&key)), reversed(&one));
        let mid: Vec<_> =
            one.iter().filter(|(_, s, e)| *e >= 100_000 && *s <= 400_000).cloned().collect();
        assert_eq!(spans(store.find_sessions(&key, 100_000, 400_000)), mid);
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

            fn open(dir: &Path, retention_ms: u64) -> Box<dyn SessionStore> {
                ($open)(dir, retention_ms)
            }

            conformance!(@scenarios
                reports_its_configuration
                put_fetch_overwrite_and_remove
                find_sessions_returns_those_overlapping_or_touching_the_range
                sessions_of_a_key_order_by_end_then_start
                key_range_searches_include_both_ends
                key_range_with_prefix_keys_follows_the_byte_layout
                expired_sessions_are_dropped_and_never_returned
                invalid_sessions_are_dropped
                merging_sessions
                searches_see_unflushed_writes_and_removals
                data_and_stream_time_survive_close_and_reopen
                closed_store_rejects_operations
                many_sessions_across_segments_in_order
            );
        }
    )*};
}

conformance! {
    memory_bare => memory_session;
    memory_metered => |dir, r| session_metered(memory_session(dir, r));
    memory_caching => |dir, r| session_caching(memory_session(dir, r), ROOMY);
    memory_caching_tiny => |dir, r| session_caching(memory_session(dir, r), TINY);
    memory_caching_zero => |dir, r| session_caching(memory_session(dir, r), 0);
    memory_logging => |dir, r| session_logging(memory_session(dir, r));
    memory_stacked => |dir, r| session_stacked(memory_session(dir, r), ROOMY);
    memory_stacked_tiny => |dir, r| session_stacked(memory_session(dir, r), TINY);
    rocksdb_bare => rocks_session;
    rocksdb_metered => |dir, r| session_metered(rocks_session(dir, r));
    rocksdb_caching => |dir, r| session_caching(rocks_session(dir, r), ROOMY);
    rocksdb_caching_tiny => |dir, r| session_caching(rocks_session(dir, r), TINY);
    rocksdb_caching_zero => |dir, r| session_caching(rocks_session(dir, r), 0);
    rocksdb_logging => |dir, r| session_logging(rocks_session(dir, r));
    rocksdb_stacked => |dir, r| session_stacked(rocks_session(dir, r), ROOMY);
    rocksdb_stacked_tiny => |dir, r| session_stacked(rocks_session(dir, r), TINY);
}
