//! `WindowKeyValueStore`: a window store seen as a key-value store over Kafka's windowed
//! changelog keys. Random puts and deletes against each window backend, then every read of the
//! key-value face (get, range and reverse range with random bounds, prefix scans, all) compared
//! with a `BTreeMap` of the changelog keys. Keys are of one length, so the byte order of the
//! changelog keys is the window store's order.
#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

mod windowed_common;

use std::collections::BTreeMap;

use bytes::Bytes;
use proptest::prelude::*;
use state_stores::{KeyValueStore, StoreError, WindowKeyValueStore, WindowedKey};
use windowed_common::*;

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// The bounds of one range query (`None`: open).
type Bounds = (Option<Vec<u8>>, Option<Vec<u8>>);

fn changelog_key(key: u8, start: i64) -> Vec<u8> {
    WindowedKey::new(Bytes::copy_from_slice(&[b'k', key]), start).to_changelog_key(0).to_vec()
}

fn collect(
    iter: Result<state_stores::KeyValueIterator<'_>, StoreError>,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    iter.unwrap().map(|r| r.unwrap()).map(|(k, v)| (k.to_vec(), v.to_vec())).collect()
}

fn in_range(
    model: &Model,
    from: &Option<Vec<u8>>,
    to: &Option<Vec<u8>>,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    model
        .iter()
        .filter(|(k, _)| {
            from.as_ref().is_none_or(|f| *k >= f) && to.as_ref().is_none_or(|t| *k <= t)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// A bound: a whole changelog key, or `None` (open).
fn bound() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![Just(None), (0u8..4, 0i64..6).prop_map(|(k, s)| Some(changelog_key(k, s * 10)))]
}

fn check(open: OpenWindow, writes: &[(u8, i64, Option<u8>)], queries: &[Bounds]) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = WindowKeyValueStore::new(open(dir.path(), WindowSpec::LONG));
    store.init().unwrap();
    let mut model = Model::new();
    for &(key, start, value) in writes {
        let k = changelog_key(key, start * 10);
        match value {
            Some(v) => {
                store.put(Bytes::from(k.clone()), Some(Bytes::from(vec![v]))).unwrap();
                model.insert(k, vec![v]);
            }
            None => {
                let old = store.delete(&Bytes::from(k.clone())).unwrap();
                assert_eq!(old.map(|b| b.to_vec()), model.remove(&k));
            }
        }
    }
    for (k, v) in &model {
        assert_eq!(store.get(k).unwrap().map(|b| b.to_vec()).as_ref(), Some(v));
    }
    assert_eq!(collect(store.all()), in_range(&model, &None, &None));
    for (from, to) in queries {
        let expected = in_range(&model, from, to);
        assert_eq!(
            collect(store.range(from.as_deref(), to.as_deref())),
            expected,
            "{from:?}..{to:?}"
        );
        let mut backward = collect(store.reverse_range(from.as_deref(), to.as_deref()));
        backward.reverse();
        assert_eq!(backward, expected, "reverse {from:?}..{to:?}");
    }
    let prefix = [b'k', 1];
    let expected: Vec<_> = model
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(collect(store.prefix_scan(&prefix)), expected);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_key_value_face_matches_a_sorted_map(
        writes in prop::collection::vec((0u8..4, 0i64..6, prop::option::weighted(0.8, any::<u8>())), 0..40),
        queries in prop::collection::vec((bound(), bound()), 1..6),
    ) {
        check(memory_window, &writes, &queries);
        check(rocks_window, &writes, &queries);
    }
}

#[test]
fn a_key_too_short_to_name_a_window_is_refused_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    for open in [memory_window as OpenWindow, rocks_window] {
        let mut store = WindowKeyValueStore::new(open(dir.path(), WindowSpec::LONG));
        store.init().unwrap();
        let short = Bytes::from_static(b"0123456789a"); // 11 bytes: no room for start and seq
        assert!(matches!(store.get(&short), Err(StoreError::InvalidInput { .. })));
        assert!(matches!(store.put(short, None), Err(StoreError::InvalidInput { .. })));
        store.close().unwrap();
    }
}
