//! RocksDB-specific behaviour: one open store per directory, damaged directories reported by
//! path (never a panic), and the block cache shared through `RocksDbConfig`.
#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

mod common;

use std::fs;
use std::path::Path;

use bytes::Bytes;
use common::*;
use state_stores::{KeyValueStore, RocksDbConfig, RocksDbKeyValueStore, StoreError};

fn store_at(path: &Path) -> RocksDbKeyValueStore {
    RocksDbKeyValueStore::new("s", path, &ROCKS)
}

/// A store at `path` holding 100 flushed keys, closed.
fn written(path: &Path) {
    let mut store = store_at(path);
    store.init().unwrap();
    for i in 0u32..100 {
        store.put(Bytes::copy_from_slice(&i.to_be_bytes()), Some(b(&[7; 100]))).unwrap();
    }
    store.close().unwrap();
}

#[test]
fn a_directory_open_in_this_process_cannot_be_opened_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s");
    let mut first = store_at(&path);
    first.init().unwrap();
    let mut second = store_at(&path);
    let err = second.init().unwrap_err();
    assert!(matches!(&err, StoreError::LockHeld { path: p } if p == &path), "{err:?}");
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
    assert!(!second.is_open());
    first.close().unwrap();
    second.init().unwrap();
    second.close().unwrap();
}

#[test]
fn a_garbled_current_file_is_reported_as_corruption_of_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s");
    written(&path);
    fs::write(path.join("CURRENT"), b"\x00\x01garbage").unwrap();
    let err = store_at(&path).init().unwrap_err();
    assert!(matches!(&err, StoreError::Corrupted { path: p, .. } if p == &path), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("changelog"), "says how to recover: {message}");
}

#[test]
fn a_truncated_table_file_is_reported_as_corruption_of_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s");
    written(&path);
    let mut tables: Vec<_> = fs::read_dir(&path)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sst"))
        .collect();
    assert!(!tables.is_empty(), "close flushed the memtable to a table file");
    tables.sort();
    for table in &tables {
        let len = fs::metadata(table).unwrap().len();
        let file = fs::OpenOptions::new().write(true).open(table).unwrap();
        file.set_len(len / 2).unwrap();
    }
    // RocksDB checks every table file's size against its MANIFEST when it opens the directory.
    let err = store_at(&path).init().unwrap_err();
    assert!(matches!(&err, StoreError::Corrupted { path: p, .. } if p == &path), "{err:?}");
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
}

#[test]
fn a_damaged_data_block_fails_the_read_not_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s");
    written(&path);
    let table = fs::read_dir(&path)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "sst"))
        .unwrap();
    // Data blocks come first in a table file; flip bytes in the first one, keeping the size.
    let mut bytes = fs::read(&table).unwrap();
    for byte in &mut bytes[64..96] {
        *byte ^= 0xff;
    }
    fs::write(&table, bytes).unwrap();

    let mut store = store_at(&path);
    store.init().unwrap();
    let err = store.get(&0u32.to_be_bytes()).unwrap_err();
    assert!(matches!(&err, StoreError::Corrupted { path: p, .. } if p == &path), "{err:?}");
    // A scan reports the damage as an item, then ends.
    let mut scan = store.all().unwrap();
    let first = scan.next().expect("the scan reports the error");
    assert!(matches!(first, Err(StoreError::Corrupted { .. })), "{first:?}");
    assert!(scan.next().is_none());
}

#[test]
fn a_path_that_is_a_file_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-dir");
    fs::write(&path, b"x").unwrap();
    let err = store_at(&path).init().unwrap_err();
    assert!(matches!(&err, StoreError::Io { path: p, .. } if p == &path), "{err:?}");
}

#[test]
fn stores_share_the_block_cache_of_their_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = RocksDbConfig::new(4 * 1024 * 1024);
    let observer = config.clone();
    assert_eq!(observer.block_cache_usage(), 0);
    let mut stores: Vec<RocksDbKeyValueStore> = (0..2)
        .map(|i| {
            RocksDbKeyValueStore::new(format!("s{i}"), dir.path().join(format!("s{i}")), &config)
        })
        .collect();
    for store in &mut stores {
        store.init().unwrap();
        for i in 0u32..1000 {
            store.put(Bytes::copy_from_slice(&i.to_be_bytes()), Some(b(&[1; 64]))).unwrap();
        }
        store.flush().unwrap();
    }
    let before = observer.block_cache_usage();
    for store in &stores {
        assert_eq!(collect(store.all()).len(), 1000);
    }
    let after = observer.block_cache_usage();
    assert!(after > before, "reading table files fills the shared cache ({before} -> {after})");
    assert!(after <= observer.block_cache_capacity());
    for store in &mut stores {
        store.close().unwrap();
    }
}

#[test]
fn a_memtable_budget_keeps_stores_writing() {
    let dir = tempfile::tempdir().unwrap();
    let config = RocksDbConfig::new(8 * 1024 * 1024)
        .with_memtable_budget(2 * 1024 * 1024)
        .with_write_buffer_size(512 * 1024);
    let mut store = RocksDbKeyValueStore::new("s", dir.path().join("s"), &config);
    store.init().unwrap();
    // 8 MiB of writes through 2 MiB of memtables: flushes must make room.
    for i in 0u32..8192 {
        store.put(Bytes::copy_from_slice(&i.to_be_bytes()), Some(b(&[3; 1024]))).unwrap();
    }
    assert_eq!(store.get(&8191u32.to_be_bytes()).unwrap().map(|v| v.len()), Some(1024));
    store.close().unwrap();
}
