//! Model check: random operation sequences against each window backend, bare and layered,
//! compared after every step with a `BTreeMap` keyed by the documented store order
//! (`[key][start BE][seq BE]`) plus Kafka's retention rule. Keys come from a small alphabet of
//! edge bytes and are 0-2 bytes long, so that keys that are prefixes of other keys (the hard case
//! of the byte layout) are common; times come in two scales, one inside a single RocksDB segment
//! and one spanning many, so that segments are created and dropped.
#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

mod windowed_common;

use std::collections::BTreeMap;
use std::path::Path;

use bytes::Bytes;
use proptest::prelude::*;
use state_stores::WindowStore;
use windowed_common::*;

#[derive(Debug, Clone)]
enum Op {
    Put(Vec<u8>, i64, Option<Vec<u8>>),
    Fetch(Vec<u8>, i64),
    FetchRange {
        key: Vec<u8>,
        from: i64,
        to: i64,
        backward: bool,
    },
    FetchKeyRange {
        from: Option<Vec<u8>>,
        to: Option<Vec<u8>>,
        t0: i64,
        t1: i64,
        backward: bool,
    },
    FetchAll {
        t0: i64,
        t1: i64,
        backward: bool,
    },
    All {
        backward: bool,
    },
    Flush,
    /// Close and open a new handle on the same directory (persistent stores keep their data
    /// and stream time; in-memory ones lose both).
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

/// A time as a step count; scaled per case. -1 is a negative time, 1000 is "far future".
fn step() -> impl Strategy<Value = i64> {
    prop_oneof![8 => 0i64..40, 1 => Just(-1i64), 1 => Just(1000)]
}

fn bound() -> impl Strategy<Value = i64> {
    prop_oneof![8 => step(), 1 => Just(i64::MIN), 1 => Just(i64::MAX)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (key(), step(), proptest::option::weighted(0.8, value())).prop_map(|(k, t, v)| Op::Put(k, t, v)),
        3 => (key(), step()).prop_map(|(k, t)| Op::Fetch(k, t)),
        3 => (key(), bound(), bound(), any::<bool>())
            .prop_map(|(key, from, to, backward)| Op::FetchRange { key, from, to, backward }),
        3 => (proptest::option::of(key()), proptest::option::of(key()), bound(), bound(), any::<bool>())
            .prop_map(|(from, to, t0, t1, backward)| Op::FetchKeyRange { from, to, t0, t1, backward }),
        1 => (bound(), bound(), any::<bool>()).prop_map(|(t0, t1, backward)| Op::FetchAll { t0, t1, backward }),
        1 => any::<bool>().prop_map(|backward| Op::All { backward }),
        1 => Just(Op::Flush),
        1 => Just(Op::Reopen),
    ]
}

/// Kafka's window store semantics, spelled out plainly.
struct Model {
    entries: BTreeMap<Vec<u8>, (Bytes, i64, Bytes)>,
    stream_time: Option<i64>,
    seq: u32,
    retention: i64,
    duplicates: bool,
}

impl Model {
    fn expired(&self, start: i64) -> bool {
        start < 0 || self.stream_time.is_some_and(|st| start <= st - self.retention)
    }

    fn put(&mut self, key: &[u8], start: i64, value: &Option<Vec<u8>>) {
        if value.is_none() && self.duplicates {
            return;
        }
        let seq = if self.duplicates {
            self.seq += 1;
            self.seq
        } else {
            0
        };
        if start < 0 {
            return;
        }
        self.stream_time = Some(self.stream_time.map_or(start, |st| st.max(start)));
        if self.expired(start) {
            return;
        }
        let raw = window_order_key(key, start, seq);
        match value {
            Some(v) => self.entries.insert(raw, (b(key), start, b(v))),
            None => self.entries.remove(&raw),
        };
    }

    fn scan(&self, keep: impl Fn(&[u8], i64) -> bool, backward: bool) -> Vec<(Bytes, i64, Bytes)> {
        let mut out: Vec<_> = self
            .entries
            .values()
            .filter(|(k, s, _)| !self.expired(*s) && keep(k, *s))
            .cloned()
            .collect();
        if backward {
            out.reverse();
        }
        out
    }
}

fn check(
    open: OpenWindow,
    spec: WindowSpec,
    scale: i64,
    ops: Vec<Op>,
) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), spec);
    store.init().unwrap();
    let mut model = Model {
        entries: BTreeMap::new(),
        stream_time: None,
        seq: 0,
        retention: spec.retention_ms as i64,
        duplicates: spec.duplicates,
    };
    let time = |step: i64| match step {
        i64::MIN | i64::MAX => step,
        step => step * scale,
    };
    for (i, op) in ops.into_iter().enumerate() {
        match &op {
            Op::Put(k, t, v) => {
                store.put(b(k), v.as_deref().map(b), time(*t)).unwrap();
                model.put(k, time(*t), v);
            }
            Op::Fetch(k, t) => {
                let start = time(*t);
                let expected = model
                    .scan(|key, s| key == &k[..] && s == start, false)
                    .first()
                    .map(|(_, _, v)| v.clone());
                prop_assert_eq!(store.fetch(k, start).unwrap(), expected, "step {}: {:?}", i, op);
            }
            Op::FetchRange { key, from, to, backward } => {
                let (from, to) = (time(*from), time(*to));
                let got = if *backward {
                    triples(store.backward_fetch_range(key, from, to))
                } else {
                    triples(store.fetch_range(key, from, to))
                };
                let expected = model.scan(|k, s| k == &key[..] && from <= s && s <= to, *backward);
                prop_assert_eq!(got, expected, "step {}: {:?}", i, op);
            }
            Op::FetchKeyRange { from, to, t0, t1, backward } => {
                let (t0, t1) = (time(*t0), time(*t1));
                let (from, to) = (from.as_deref(), to.as_deref());
                let got = if *backward {
                    triples(store.backward_fetch_key_range(from, to, t0, t1))
                } else {
                    triples(store.fetch_key_range(from, to, t0, t1))
                };
                let inverted = matches!((from, to), (Some(f), Some(t)) if f > t);
                let expected = model.scan(
                    |k, s| {
                        !inverted
                            && from.is_none_or(|f| k >= f)
                            && to.is_none_or(|t| k <= t)
                            && t0 <= s
                            && s <= t1
                    },
                    *backward,
                );
                prop_assert_eq!(got, expected, "step {}: {:?}", i, op);
            }
            Op::FetchAll { t0, t1, backward } => {
                let (t0, t1) = (time(*t0), time(*t1));
                let got = if *backward {
                    triples(store.backward_fetch_all(t0, t1))
                } else {
                    triples(store.fetch_all(t0, t1))
                };
                prop_assert_eq!(
                    got,
                    model.scan(|_, s| t0 <= s && s <= t1, *backward),
                    "step {}: {:?}",
                    i,
                    op
                );
            }
            Op::All { backward } => {
                let got =
                    if *backward { triples(store.backward_all()) } else { triples(store.all()) };
                prop_assert_eq!(got, model.scan(|_, _| true, *backward), "step {}: {:?}", i, op);
            }
            Op::Flush => store.flush().unwrap(),
            Op::Reopen => {
                store.close().unwrap();
                store = open(dir.path(), spec);
                store.init().unwrap();
                model.seq = 0; // a new handle counts duplicates from 0 again, as Kafka's does
                if store.persistent() {
                    // The stream time saved with the data: never ahead of the model's, never
                    // behind a record still stored. (Writes that stored nothing, such as a
                    // delete the cache dropped, may not have moved it.)
                    let (st, retention) = (model.stream_time, model.retention);
                    model.entries.retain(|_, (_, s, _)| st.is_none_or(|st| *s > st - retention));
                    let recovered = store.observed_stream_time();
                    let newest = model.entries.values().map(|(_, s, _)| *s).max();
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
    prop_assert_eq!(triples(store.all()), model.scan(|_, _| true, false));
    store.close().unwrap();
    Ok(())
}

/// A case: whether duplicates are kept, the time scale (1 ms: one RocksDB segment; 7 s: about
/// three segments live, many dropped), and the operations.
fn case() -> impl Strategy<Value = (bool, i64, Vec<Op>)> {
    (any::<bool>(), prop_oneof![Just(1i64), Just(7_000)], proptest::collection::vec(op(), 1..80))
}

fn run(
    open: OpenWindow,
    (duplicates, scale, ops): (bool, i64, Vec<Op>),
) -> Result<(), TestCaseError> {
    // Retention: 20 steps, so stream time expires records regularly.
    let spec = WindowSpec { retention_ms: 20 * scale as u64, window_size_ms: 10, duplicates };
    check(open, spec, scale, ops)
}

fn memory_stacked_tiny(dir: &Path, spec: WindowSpec) -> Box<dyn WindowStore> {
    window_stacked(memory_window(dir, spec), TINY)
}

fn rocks_stacked_tiny(dir: &Path, spec: WindowSpec) -> Box<dyn WindowStore> {
    window_stacked(rocks_window(dir, spec), TINY)
}

fn rocks_stacked_roomy(dir: &Path, spec: WindowSpec) -> Box<dyn WindowStore> {
    window_stacked(rocks_window(dir, spec), ROOMY)
}

fn rocks_write_through(dir: &Path, spec: WindowSpec) -> Box<dyn WindowStore> {
    window_caching(rocks_window(dir, spec), 0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn memory_matches_the_model(case in case()) {
        run(memory_window, case)?;
    }

    #[test]
    fn memory_stacked_with_a_tiny_cache_matches_the_model(case in case()) {
        run(memory_stacked_tiny, case)?;
    }

    #[test]
    fn rocksdb_matches_the_model(case in case()) {
        run(rocks_window, case)?;
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
