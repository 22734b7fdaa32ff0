//! The RocksDB window store on disk: one directory per time segment, named as Kafka names them,
//! expired segments deleted whole as stream time advances, and everything found again after
//! close and init.
#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

mod windowed_common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use state_stores::{RocksDbWindowStore, StoreError, WindowStore};
use windowed_common::*;

/// Two minutes of retention: one-minute segments (Kafka's minimum interval).
fn store_at(path: &Path) -> RocksDbWindowStore {
    RocksDbWindowStore::new(
        "clicks",
        path,
        &ROCKS,
        Duration::from_secs(120),
        Duration::from_secs(10),
        false,
    )
}

/// The names of the directories in `path`.
fn segment_dirs(path: &Path) -> BTreeSet<String> {
    fs::read_dir(path)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().into_string().unwrap())
        .collect()
}

fn names(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

fn put(store: &mut RocksDbWindowStore, key: &[u8], start: i64) {
    store.put(b(key), Some(b(start.to_string().as_bytes())), start).unwrap();
}

#[test]
fn segment_interval_follows_kafka() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(store_at(dir.path()).segment_interval_ms(), 60_000);
    let day = RocksDbWindowStore::new(
        "s",
        dir.path(),
        &ROCKS,
        Duration::from_secs(86_400),
        Duration::from_secs(60),
        false,
    );
    assert_eq!(day.segment_interval_ms(), 43_200_000);
}

#[test]
fn each_segment_is_a_directory_and_expired_ones_are_deleted_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clicks");
    let mut store = store_at(&path);
    store.init().unwrap();
    put(&mut store, b"a", 0);
    put(&mut store, b"a", 30_000);
    put(&mut store, b"b", 60_000);
    put(&mut store, b"a", 125_000);
    assert_eq!(segment_dirs(&path), names(&["clicks.0", "clicks.60000", "clicks.120000"]));

    // Stream time 200 s: windows up to 80 s have expired, so segment 0 (0-59 s) goes; segment
    // 60 s still holds a live millisecond and stays, though its one window has expired.
    put(&mut store, b"c", 200_000);
    assert_eq!(segment_dirs(&path), names(&["clicks.60000", "clicks.120000", "clicks.180000"]));
    assert_eq!(store.fetch(b"a", 0).unwrap(), None);
    assert_eq!(store.fetch(b"b", 60_000).unwrap(), None, "expired, though its segment is live");
    assert_eq!(starts(store.all()), vec![(b(b"a"), 125_000), (b(b"c"), 200_000)]);

    // Stream time 250 s: everything up to 130 s has expired.
    put(&mut store, b"d", 250_000);
    assert_eq!(segment_dirs(&path), names(&["clicks.120000", "clicks.180000", "clicks.240000"]));
    assert_eq!(starts(store.all()), vec![(b(b"c"), 200_000), (b(b"d"), 250_000)]);

    // A late record for an expired segment is dropped, and its segment is not created again.
    put(&mut store, b"late", 10_000);
    assert_eq!(segment_dirs(&path), names(&["clicks.120000", "clicks.180000", "clicks.240000"]));
    store.close().unwrap();
}

#[test]
fn a_closed_store_reopens_with_its_segments_data_and_stream_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clicks");
    let mut store = store_at(&path);
    store.init().unwrap();
    for start in [0, 45_000, 61_000, 119_000, 121_000] {
        put(&mut store, b"k", start);
    }
    store.put(b(b"gone"), Some(b(b"x")), 100_000).unwrap();
    store.put(b(b"gone"), None, 100_000).unwrap();
    store.close().unwrap();
    let before = segment_dirs(&path);
    assert_eq!(before, names(&["clicks.0", "clicks.60000", "clicks.120000"]));

    // The same handle.
    store.init().unwrap();
    let expected: Vec<(Bytes, i64)> =
        [45_000, 61_000, 119_000, 121_000].iter().map(|s| (b(b"k"), *s)).collect();
    assert_eq!(starts(store.fetch_range(b"k", 0, 200_000)), expected);
    assert_eq!(store.observed_stream_time(), Some(121_000));
    store.close().unwrap();

    // A new handle, as after a restart: same data, same stream time, same expiry.
    let mut reopened = store_at(&path);
    reopened.init().unwrap();
    assert_eq!(segment_dirs(&path), before);
    assert_eq!(reopened.observed_stream_time(), Some(121_000));
    assert_eq!(starts(reopened.all()), expected);
    assert_eq!(reopened.fetch(b"k", 0).unwrap(), None, "window 0 had expired before the close");
    assert_eq!(reopened.fetch(b"gone", 100_000).unwrap(), None);
    assert_eq!(reopened.fetch(b"k", 61_000).unwrap(), Some(b(b"61000")));
    // Stream time moves on from where it was: 245 s drops segments 0 and 60 s.
    put(&mut reopened, b"k", 245_000);
    assert_eq!(segment_dirs(&path), names(&["clicks.120000", "clicks.240000"]));
    reopened.close().unwrap();
}

#[test]
fn a_store_directory_open_in_this_process_cannot_be_opened_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clicks");
    let mut first = store_at(&path);
    first.init().unwrap();
    put(&mut first, b"a", 0);
    let mut second = store_at(&path);
    let err = second.init().unwrap_err();
    assert!(
        matches!(&err, StoreError::LockHeld { path: p } if p == &path.join("clicks.0")),
        "{err:?}"
    );
    assert!(!second.is_open());
    first.close().unwrap();
    second.init().unwrap();
    assert_eq!(second.fetch(b"a", 0).unwrap(), Some(b(b"0")));
    second.close().unwrap();
}

#[test]
fn other_files_in_the_store_directory_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clicks");
    fs::create_dir_all(path.join("clicks.notanumber")).unwrap();
    fs::create_dir_all(path.join("other.0")).unwrap();
    fs::write(path.join("clicks.60000"), b"a file, not a segment").unwrap();
    let mut store = store_at(&path);
    store.init().unwrap();
    put(&mut store, b"a", 500_000);
    assert!(starts(store.all()).len() == 1);
    store.close().unwrap();
    assert!(path.join("clicks.notanumber").is_dir());
    assert!(path.join("other.0").is_dir());
    assert!(path.join("clicks.60000").is_file());
}

#[test]
fn a_damaged_segment_is_reported_as_corruption_of_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clicks");
    let mut store = store_at(&path);
    store.init().unwrap();
    put(&mut store, b"a", 70_000);
    store.close().unwrap();
    let segment = path.join("clicks.60000");
    fs::write(segment.join("CURRENT"), b"\x00\x01garbage").unwrap();
    let err = store_at(&path).init().unwrap_err();
    assert!(matches!(&err, StoreError::Corrupted { path: p, .. } if p == &segment), "{err:?}");
    assert!(err.to_string().contains("changelog"), "says how to recover: {err}");
}

#[test]
fn stream_time_survives_a_restart_even_when_every_segment_expired() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clicks");
    let mut store = store_at(&path);
    store.init().unwrap();
    put(&mut store, b"a", 0);
    // A delete far ahead moves stream time past every segment: segment 0 is deleted.
    store.put(b(b"nothing"), None, 10_000_000).unwrap();
    assert!(segment_dirs(&path).is_empty());
    store.close().unwrap();

    let mut reopened = store_at(&path);
    reopened.init().unwrap();
    assert_eq!(reopened.observed_stream_time(), Some(10_000_000));
    put(&mut reopened, b"a", 0);
    assert_eq!(reopened.fetch(b"a", 0).unwrap(), None, "still expired after the restart");
    reopened.close().unwrap();
}
