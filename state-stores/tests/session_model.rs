//! Model check: random operation sequences against each session backend, bare and layered,
//! compared after every step with a `BTreeMap` keyed by the documented store order
//! (`[key][end BE][start BE]`) plus Kafka's retention rule. Keys come from a small alphabet of
//! edge bytes and are 0-2 bytes long, so that keys that are prefixes of other keys are common;
//! times come in two scales, one inside a single RocksDB segment and one spanning many.
#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

mod windowed_common;

use std::collections::BTreeMap;
use std::path::Path;

use bytes::Bytes;
use proptest::prelude::*;
use state_stores::{SessionKey, SessionStore};
use windowed_common::*;

#[derive(Debug, Clone)]
enum Op {
    Put(Vec<u8>, i64, i64, Option<Vec<u8>>),
    Remove(Vec<u8>, i64, i64),
    FetchSession(Vec<u8>, i64, i64),
    Find {
        key: Vec<u8>,
        earliest_end: i64,
        latest_start: i64,
        backward: bool,
    },
    FindInKeyRange {
        from: Option<Vec<u8>>,
        to: Option<Vec<u8>>,
        earliest_end: i64,
        latest_start: i64,
        backward: bool,
    },
    Fetch {
        key: Vec<u8>,
        backward: bool,
    },
    Flush,
    /// Close and open a new handle on the same directory.
    Reopen,
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![Just(0x00u8), Just(0x01), Just(0x7f), Just(0x80), Just(0xff)],
        0..3,
    )
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..3)
}

/// `(start, end)` in steps: mostly valid short sessions, sometimes invalid ones.
fn span() -> impl Strategy<Value = (i64, i64)> {
    prop_oneof![
        8 => (0i64..40, 0i64..5).prop_map(|(s, d)| (s, s + d)),
        1 => (0i64..40).prop_map(|s| (s + 1, s)),
        1 => (0i64..5).prop_map(|e| (-1, e)),
    ]
}

fn bound() -> impl Strategy<Value = i64> {
    prop_oneof![8 => -1i64..45, 1 => Just(i64::MIN), 1 => Just(i64::MAX)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (key(), span(), proptest::option::weighted(0.85, value())).prop_map(|(k, (s, e), v)| Op::Put(k, s, e, v)),
        2 => (key(), span()).prop_map(|(k, (s, e))| Op::Remove(k, s, e)),
        3 => (key(), span()).prop_map(|(k, (s, e))| Op::FetchSession(k, s, e)),
        3 => (key(), bound(), bound(), any::<bool>())
            .prop_map(|(key, earliest_end, latest_start, backward)| Op::Find { key, earliest_end, latest_start, backward }),
        3 => (proptest::option::of(key()), proptest::option::of(key()), bound(), bound(), any::<bool>())
            .prop_map(|(from, to, earliest_end, latest_start, backward)| Op::FindInKeyRange { from, to, earliest_end, latest_start, backward }),
        1 => (key(), any::<bool>()).prop_map(|(key, backward)| Op::Fetch { key, backward }),
        1 => Just(Op::Flush),
        1 => Just(Op::Reopen),
    ]
}

type Span = (Bytes, i64, i64, Bytes);

/// Kafka's session store semantics, spelled out plainly.
struct Model {
    entries: BTreeMap<Vec<u8>, Span>,
    stream_time: Option<i64>,
    retention: i64,
}

impl Model {
    fn expired(&self, end: i64) -> bool {
        self.stream_time.is_some_and(|st| end <= st - self.retention)
    }

    fn put(&mut self, key: &[u8], start: i64, end: i64, value: &Option<Vec<u8>>) {
        if start < 0 || end < start {
            return;
        }
        self.stream_time = Some(self.stream_time.map_or(end, |st| st.max(end)));
        if self.expired(end) {
            return;
        }
        let raw = session_order_key(key, start, end);
        match value {
            Some(v) => self.entries.insert(raw, (b(key), start, end, b(v))),
            None => self.entries.remove(&raw),
        };
    }

    fn search(&self, keep: impl Fn(&[u8], i64, i64) -> bool, backward: bool) -> Vec<Span> {
        let mut out: Vec<_> = self
            .entries
            .values()
            .filter(|(k, s, e, _)| !self.expired(*e) && keep(k, *s, *e))
            .cloned()
            .collect();
        if backward {
            out.reverse();
        }
        out
    }
}

fn found(iter: Result<state_stores::SessionIterator<'_>, state_stores::StoreError>) -> Vec<Span> {
    sessions(iter).into_iter().map(|(s, v)| (s.key, s.start, s.end, v)).collect()
}

fn check(open: OpenSession, retention: i64, scale: i64, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), retention as u64);
    store.init().unwrap();
    let mut model = Model { entries: BTreeMap::new(), stream_time: None, retention };
    let time = |step: i64| match step {
        i64::MIN | i64::MAX => step,
        step => step * scale,
    };
    for (i, op) in ops.into_iter().enumerate() {
        match &op {
            Op::Put(k, s, e, v) => {
                let (s, e) = (time(*s), time(*e));
                store.put(SessionKey::new(b(k), s, e), v.as_deref().map(b)).unwrap();
                model.put(k, s, e, v);
            }
            Op::Remove(k, s, e) => {
                let (s, e) = (time(*s), time(*e));
                store.remove(SessionKey::new(b(k), s, e)).unwrap();
                model.put(k, s, e, &None);
            }
            Op::FetchSession(k, s, e) => {
                let (s, e) = (time(*s), time(*e));
                let expected = model
                    .search(|key, start, end| key == &k[..] && start == s && end == e, false)
                    .first()
                    .map(|(_, _, _, v)| v.clone());
                prop_assert_eq!(
                    store.fetch_session(k, s, e).unwrap(),
                    expected,
                    "step {}: {:?}",
                    i,
                    op
                );
            }
            Op::Find { key, earliest_end, latest_start, backward } => {
                let (ee, ls) = (time(*earliest_end), time(*latest_start));
                let got = if *backward {
                    found(store.backward_find_sessions(key, ee, ls))
                } else {
                    found(store.find_sessions(key, ee, ls))
                };
                let expected =
                    model.search(|k, s, e| k == &key[..] && e >= ee && s <= ls, *backward);
                prop_assert_eq!(got, expected, "step {}: {:?}", i, op);
            }
            Op::FindInKeyRange { from, to, earliest_end, latest_start, backward } => {
                let (ee, ls) = (time(*earliest_end), time(*latest_start));
                let (from, to) = (from.as_deref(), to.as_deref());
                let got = if *backward {
                    found(store.backward_find_sessions_in_key_range(from, to, ee, ls))
                } else {
                    found(store.find_sessions_in_key_range(from, to, ee, ls))
                };
                let inverted = matches!((from, to), (Some(f), Some(t)) if f > t);
                let expected = model.search(
                    |k, s, e| {
                        !inverted
                            && from.is_none_or(|f| k >= f)
                            && to.is_none_or(|t| k <= t)
                            && e >= ee
                            && s <= ls
                    },
                    *backward,
                );
                prop_assert_eq!(got, expected, "step {}: {:?}", i, op);
            }
            Op::Fetch { key, backward } => {
                let got = if *backward {
                    found(store.backward_fetch(key))
                } else {
                    found(store.fetch(key))
                };
                prop_assert_eq!(
                    got,
                    model.search(|k, _, _| k == &key[..], *backward),
                    "step {}: {:?}",
                    i,
                    op
                );
            }
            Op::Flush => store.flush().unwrap(),
            Op::Reopen => {
                store.close().unwrap();
                store = open(dir.path(), retention as u64);
                store.init().unwrap();
                if store.persistent() {
                    // The stream time saved with the data: never ahead of the model's, never
                    // behind a session still stored.
                    let (st, retention) = (model.stream_time, model.retention);
                    model.entries.retain(|_, (_, _, e, _)| st.is_none_or(|st| *e > st - retention));
                    let recovered = store.observed_stream_time();
                    let newest = model.entries.values().map(|(_, _, e, _)| *e).max();
                    prop_assert!(
                        recovered <= model.stream_time,
                        "step {}: {:?} > {:?}",
                        i,
                        recovered,
                        model.stream_time
                    );
                    prop_assert!(recovered >= newest, "step {}: {:?} < {:?}", i, recovered, newest);
                    model.stream_time = recovered;
                } else {
                    model.entries.clear();
                    model.stream_time = None;
                }
            }
        }
        prop_assert_eq!(store.observed_stream_time(), model.stream_time, "step {}: {:?}", i, op);
    }
    prop_assert_eq!(
        found(store.find_sessions_in_key_range(None, None, i64::MIN, i64::MAX)),
        model.search(|_, _, _| true, false)
    );
    store.close().unwrap();
    Ok(())
}

/// A case: the time scale (1 ms: one RocksDB segment; 7 s: a few segments live, many dropped)
/// and the operations. Retention is 20 steps.
fn case() -> impl Strategy<Value = (i64, Vec<Op>)> {
    (prop_oneof![Just(1i64), Just(7_000)], proptest::collection::vec(op(), 1..80))
}

fn run(open: OpenSession, (scale, ops): (i64, Vec<Op>)) -> Result<(), TestCaseError> {
    check(open, 20 * scale, scale, ops)
}

fn memory_stacked_tiny(dir: &Path, retention_ms: u64) -> Box<dyn SessionStore> {
    session_stacked(memory_session(dir, retention_ms), TINY)
}

fn rocks_stacked_tiny(dir: &Path, retention_ms: u64) -> Box<dyn SessionStore> {
    session_stacked(rocks_session(dir, retention_ms), TINY)
}

fn rocks_stacked_roomy(dir: &Path, retention_ms: u64) -> Box<dyn SessionStore> {
    session_stacked(rocks_session(dir, retention_ms), ROOMY)
}

fn rocks_write_through(dir: &Path, retention_ms: u64) -> Box<dyn SessionStore> {
    session_caching(rocks_session(dir, retention_ms), 0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn memory_matches_the_model(case in case()) {
        run(memory_session, case)?;
    }

    #[test]
    fn memory_stacked_with_a_tiny_cache_matches_the_model(case in case()) {
        run(memory_stacked_tiny, case)?;
    }

    #[test]
    fn rocksdb_matches_the_model(case in case()) {
        run(rocks_session, case)?;
    }

    #[test]
    fn rocksdb_stacked_with_a_tiny_cache_matches_the_model(case in case()) {
        run(rocks_stacked_tiny, case)?;
    }

    #[test]
    fn rocksdb_stacked_with_a_roomy_cache_matches_the_model(case in case()) {
        run(rocks_stacked_roomy, case)?;
    }

    #[test]
    fn rocksdb_write_through_cache_matches_the_model(case in case()) {
        run(rocks_write_through, case)?;
    }
}
