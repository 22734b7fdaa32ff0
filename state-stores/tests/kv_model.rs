//! Model check: random operation sequences against each backend, bare and layered, compared with a
//! `BTreeMap` after every step. Keys come from a small alphabet of edge bytes (0x00, 0x7f, 0x80,
//! 0xff) so that collisions, prefixes and signed/unsigned ordering mistakes show up quickly.
#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

mod common;

use std::collections::BTreeMap;
use std::ops::Bound;

use bytes::Bytes;
use common::*;
use proptest::prelude::*;
use state_stores::KeyValueStore;

#[derive(Debug, Clone)]
enum Op {
    Put(Vec<u8>, Option<Vec<u8>>),
    PutIfAbsent(Vec<u8>, Vec<u8>),
    PutAll(Vec<(Vec<u8>, Option<Vec<u8>>)>),
    Delete(Vec<u8>),
    Get(Vec<u8>),
    Range(Option<Vec<u8>>, Option<Vec<u8>>),
    ReverseRange(Option<Vec<u8>>, Option<Vec<u8>>),
    PrefixScan(Vec<u8>),
    Flush,
    /// Flush, close and open again (persistent stores keep their data, in-memory ones lose it).
    Reopen,
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![Just(0x00u8), Just(0x01), Just(0x7f), Just(0x80), Just(0xff)],
        0..3,
    )
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..4)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (key(), proptest::option::weighted(0.8, value())).prop_map(|(k, v)| Op::Put(k, v)),
        2 => (key(), value()).prop_map(|(k, v)| Op::PutIfAbsent(k, v)),
        2 => proptest::collection::vec((key(), proptest::option::weighted(0.7, value())), 0..5).prop_map(Op::PutAll),
        2 => key().prop_map(Op::Delete),
        3 => key().prop_map(Op::Get),
        2 => (proptest::option::of(key()), proptest::option::of(key())).prop_map(|(f, t)| Op::Range(f, t)),
        2 => (proptest::option::of(key()), proptest::option::of(key())).prop_map(|(f, t)| Op::ReverseRange(f, t)),
        1 => key().prop_map(Op::PrefixScan),
        1 => Just(Op::Flush),
        1 => Just(Op::Reopen),
    ]
}

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

fn model_range(model: &Model, from: &Option<Vec<u8>>, to: &Option<Vec<u8>>) -> Vec<(Bytes, Bytes)> {
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Vec::new();
        }
    }
    let lower = from.as_ref().map_or(Bound::Unbounded, |f| Bound::Included(f.clone()));
    let upper = to.as_ref().map_or(Bound::Unbounded, |t| Bound::Included(t.clone()));
    model.range((lower, upper)).map(|(k, v)| (b(k), b(v))).collect()
}

fn apply(model: &mut Model, key: &[u8], value: &Option<Vec<u8>>) {
    match value {
        Some(v) => model.insert(key.to_vec(), v.clone()),
        None => model.remove(key),
    };
}

fn check(open: Open, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    store.init().unwrap();
    let mut model = Model::new();
    for (step, op) in ops.into_iter().enumerate() {
        match &op {
            Op::Put(k, v) => {
                store.put(b(k), v.as_deref().map(b)).unwrap();
                apply(&mut model, k, v);
            }
            Op::PutIfAbsent(k, v) => {
                let got = store.put_if_absent(b(k), b(v)).unwrap();
                prop_assert_eq!(got, model.get(k).map(|old| b(old)), "step {}: {:?}", step, op);
                model.entry(k.clone()).or_insert_with(|| v.clone());
            }
            Op::PutAll(entries) => {
                let batch: Vec<_> =
                    entries.iter().map(|(k, v)| (b(k), v.as_deref().map(b))).collect();
                store.put_all(&batch).unwrap();
                for (k, v) in entries {
                    apply(&mut model, k, v);
                }
            }
            Op::Delete(k) => {
                let got = store.delete(&b(k)).unwrap();
                prop_assert_eq!(got, model.remove(k).map(|old| b(&old)), "step {}: {:?}", step, op);
            }
            Op::Get(k) => {
                let got = store.get(k).unwrap();
                prop_assert_eq!(got, model.get(k).map(|v| b(v)), "step {}: {:?}", step, op);
            }
            Op::Range(from, to) => {
                let got = collect(store.range(from.as_deref(), to.as_deref()));
                prop_assert_eq!(got, model_range(&model, from, to), "step {}: {:?}", step, op);
            }
            Op::ReverseRange(from, to) => {
                let got = collect(store.reverse_range(from.as_deref(), to.as_deref()));
                let mut expected = model_range(&model, from, to);
                expected.reverse();
                prop_assert_eq!(got, expected, "step {}: {:?}", step, op);
            }
            Op::PrefixScan(prefix) => {
                let got = collect(store.prefix_scan(prefix));
                let expected: Vec<_> = model
                    .iter()
                    .filter(|(k, _)| k.starts_with(prefix))
                    .map(|(k, v)| (b(k), b(v)))
                    .collect();
                prop_assert_eq!(got, expected, "step {}: {:?}", step, op);
            }
            Op::Flush => store.flush().unwrap(),
            Op::Reopen => {
                store.close().unwrap();
                store = open(dir.path());
                store.init().unwrap();
                if !store.persistent() {
                    model.clear();
                }
            }
        }
    }
    let all: Vec<_> = model.iter().map(|(k, v)| (b(k), b(v))).collect();
    prop_assert_eq!(collect(store.all()), all.clone());
    let mut reversed = all;
    reversed.reverse();
    prop_assert_eq!(collect(store.reverse_all()), reversed);
    store.close().unwrap();
    Ok(())
}

const TINY: usize = 3 * 70;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn memory_matches_the_model(ops in proptest::collection::vec(op(), 1..80)) {
        check(memory, ops)?;
    }

    #[test]
    fn memory_stacked_with_a_tiny_cache_matches_the_model(ops in proptest::collection::vec(op(), 1..80)) {
        check(|dir| stacked(memory(dir), TINY), ops)?;
    }

    #[test]
    fn rocksdb_matches_the_model(ops in proptest::collection::vec(op(), 1..80)) {
        check(rocks, ops)?;
    }

    #[test]
    fn rocksdb_stacked_with_a_tiny_cache_matches_the_model(ops in proptest::collection::vec(op(), 1..80)) {
        check(|dir| stacked(rocks(dir), TINY), ops)?;
    }

    #[test]
    fn rocksdb_stacked_with_a_roomy_cache_matches_the_model(ops in proptest::collection::vec(op(), 1..80)) {
        check(|dir| stacked(rocks(dir), 1 << 20), ops)?;
    }

    #[test]
    fn rocksdb_write_through_cache_matches_the_model(ops in proptest::collection::vec(op(), 1..80)) {
        check(|dir| caching(rocks(dir), 0), ops)?;
    }
}
