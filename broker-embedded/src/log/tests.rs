//! Unit tests of the partition log on real files: idempotence, appends, lookups, failures.

use std::sync::Arc;

use bytes::BytesMut;

use crate::error::Error;
use crate::format::{BatchBuilder, Header};
use crate::io::{FaultyFileSystem, FileSystem, OsFileSystem};
use crate::log::{Log, OpenOptions};
use crate::topic::TopicConfig;

fn open(dir: &std::path::Path, config: TopicConfig) -> Log {
    open_with(Arc::new(OsFileSystem), dir, config, true)
}

fn open_with(
    fs: Arc<dyn FileSystem>,
    dir: &std::path::Path,
    config: TopicConfig,
    clean: bool,
) -> Log {
    Log::open(
        fs,
        dir,
        Arc::new(config),
        OpenOptions { recovery_point: 0, log_start_offset: 0, clean_shutdown: clean, now_ms: 0 },
    )
    .expect("open log")
}

fn batch(values: &[&str], producer: Option<(i64, i16, i32)>) -> BytesMut {
    let mut b = BatchBuilder::new();
    for (i, v) in values.iter().enumerate() {
        b.push(1000 + i as i64, Some(v.as_bytes()), Some(v.as_bytes()), &[]);
    }
    if let Some((id, epoch, seq)) = producer {
        b = b.producer(id, epoch, seq);
    }
    b.build(0).expect("build")
}

#[test]
fn idempotent_producer_duplicates_get_the_original_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), TopicConfig::default());
    let first = log.append(&mut batch(&["a", "b"], Some((7, 0, 0))), 0).unwrap();
    let second = log.append(&mut batch(&["c"], Some((7, 0, 2))), 0).unwrap();
    assert_eq!((first.base_offset, first.last_offset), (0, 1));
    assert_eq!((second.base_offset, second.last_offset), (2, 2));
    // A retry of the first batch is answered with its original offsets and not written again.
    let retry = log.append(&mut batch(&["a", "b"], Some((7, 0, 0))), 0).unwrap();
    assert!(retry.duplicate);
    assert_eq!((retry.base_offset, retry.last_offset), (0, 1));
    assert_eq!(log.log_end_offset(), 3);
    assert_eq!(log.read_all_records().unwrap().len(), 3);
}

#[test]
fn idempotent_producer_gaps_are_rejected_and_stale_epochs_fenced() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), TopicConfig::default());
    log.append(&mut batch(&["a"], Some((7, 1, 0))), 0).unwrap();
    let gap = log.append(&mut batch(&["b"], Some((7, 1, 5))), 0).unwrap_err();
    assert!(matches!(gap, Error::OutOfOrderSequence { expected: 1, got: 5 }), "{gap:?}");
    let stale = log.append(&mut batch(&["b"], Some((7, 0, 1))), 0).unwrap_err();
    assert!(matches!(stale, Error::InvalidProducerEpoch { epoch: 0, current: 1, .. }), "{stale:?}");
    // A new epoch starts again at sequence 0.
    let bumped = log.append(&mut batch(&["c"], Some((7, 2, 0))), 0).unwrap();
    assert_eq!(bumped.base_offset, 1);
    assert_eq!(log.log_end_offset(), 2);
}

#[test]
fn producer_state_survives_a_clean_restart_and_a_crash() {
    for clean in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut log = open(dir.path(), TopicConfig::default());
            log.append(&mut batch(&["a"], Some((9, 0, 0))), 0).unwrap();
            log.append(&mut batch(&["b"], Some((9, 0, 1))), 0).unwrap();
            if clean {
                log.close().unwrap();
            }
        }
        let mut log = open_with(Arc::new(OsFileSystem), dir.path(), TopicConfig::default(), clean);
        let retry = log.append(&mut batch(&["b"], Some((9, 0, 1))), 0).unwrap();
        assert!(retry.duplicate, "clean={clean}");
        assert_eq!(retry.base_offset, 1);
        let gap = log.append(&mut batch(&["x"], Some((9, 0, 3))), 0).unwrap_err();
        assert!(matches!(gap, Error::OutOfOrderSequence { .. }), "clean={clean}: {gap:?}");
    }
}

#[test]
fn compacted_topics_reject_records_without_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = TopicConfig::default();
    config.set("cleanup.policy", "compact").unwrap();
    let mut log = open(dir.path(), config);
    let mut b = BatchBuilder::new();
    b.push(1, None, Some(b"v"), &[]);
    let err = log.append(&mut b.build(0).unwrap(), 0).unwrap_err();
    assert!(matches!(err, Error::InvalidRecord(_)), "{err:?}");
    assert_eq!(log.log_end_offset(), 0);
}

#[test]
fn oversize_and_corrupt_batches_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = TopicConfig::default();
    config.set("max.message.bytes", "200").unwrap();
    let mut log = open(dir.path(), config);
    let big = "x".repeat(300);
    let err = log.append(&mut batch(&[&big], None), 0).unwrap_err();
    assert!(matches!(err, Error::RecordTooLarge { max: 200, .. }), "{err:?}");
    let mut corrupt = batch(&["ok"], None);
    let last = corrupt.len() - 1;
    corrupt[last] ^= 1;
    let err = log.append(&mut corrupt, 0).unwrap_err();
    assert!(matches!(err, Error::CorruptMessage(_)), "{err:?}");
    assert_eq!(log.log_end_offset(), 0);
}

#[test]
fn log_append_time_topics_stamp_the_broker_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = TopicConfig::default();
    config.set("message.timestamp.type", "LogAppendTime").unwrap();
    let mut log = open(dir.path(), config);
    let info = log.append(&mut batch(&["a", "b"], None), 777_000).unwrap();
    assert_eq!(info.log_append_time, 777_000);
    let records = log.read_all_records().unwrap();
    assert!(records.iter().all(|r| r.timestamp == 777_000));
}

#[test]
fn a_full_disk_fails_the_append_and_leaves_a_clean_log() {
    let dir = tempfile::tempdir().unwrap();
    let fs = FaultyFileSystem::new();
    let mut log = open_with(Arc::new(fs.clone()), dir.path(), TopicConfig::default(), true);
    log.append(&mut batch(&["a"], None), 0).unwrap();
    fs.fill_after(10);
    let err = log.append(&mut batch(&["b", "c"], None), 0).unwrap_err();
    assert!(matches!(err, Error::Storage { .. }), "{err:?}");
    fs.heal();
    // The log is still a clean prefix and takes the next append at the next offset.
    let next = log.append(&mut batch(&["d"], None), 0).unwrap();
    assert_eq!(next.base_offset, 1);
    let values: Vec<_> = log.read_all_records().unwrap().into_iter().map(|r| r.value).collect();
    assert_eq!(values.len(), 2);
}

#[test]
fn timestamps_and_headers_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path(), TopicConfig::default());
    let mut b = BatchBuilder::new();
    let h = [Header { key: "h".into(), value: Some(bytes::Bytes::from_static(b"v")) }];
    b.push(50, Some(b"k"), Some(b"v1"), &h);
    b.push(40, Some(b"k"), Some(b"v2"), &[]);
    b.push(90, Some(b"k"), None, &[]);
    log.append(&mut b.build(0).unwrap(), 0).unwrap();
    let records = log.read_all_records().unwrap();
    assert_eq!(records[0].headers, h.to_vec());
    assert_eq!(records.iter().map(|r| r.timestamp).collect::<Vec<_>>(), vec![50, 40, 90]);
    assert_eq!(records[2].value, None);
    assert_eq!(log.offset_for_timestamp(45).unwrap(), Some((0, 50)));
    assert_eq!(log.offset_for_timestamp(60).unwrap(), Some((2, 90)));
    assert_eq!(log.offset_for_timestamp(91).unwrap(), None);
    // ListOffsets -3: the first record carrying the largest timestamp, not its batch's end.
    let mut later = BatchBuilder::new();
    later.push(90, Some(b"k"), Some(b"v4"), &[]);
    later.push(10, Some(b"k"), Some(b"v5"), &[]);
    log.append(&mut later.build(0).unwrap(), 0).unwrap();
    assert_eq!(log.max_timestamp_offset().unwrap(), Some((2, 90)));
}

/// A gzip-compressed copy of an uncompressed batch (as a compressing client would send it).
fn gzipped(plain: &BytesMut) -> BytesMut {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&plain[61..]).unwrap();
    let records = e.finish().unwrap();
    let mut out = BytesMut::from(&plain[..61]);
    out.extend_from_slice(&records);
    let len = (out.len() - 12) as i32;
    out[8..12].copy_from_slice(&len.to_be_bytes());
    let attrs = i16::from_be_bytes([out[21], out[22]]) | 1; // gzip
    out[21..23].copy_from_slice(&attrs.to_be_bytes());
    let crc = crate::format::crc32c(&out[21..]);
    out[17..21].copy_from_slice(&crc.to_be_bytes());
    out
}

#[test]
fn compaction_cleans_compressed_batches_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = TopicConfig::default();
    config.set("cleanup.policy", "compact").unwrap();
    config.set("segment.bytes", "200").unwrap();
    config.set("min.cleanable.dirty.ratio", "0.01").unwrap();
    let log = parking_lot::Mutex::new(open(dir.path(), config));
    // Two compressed batches updating the same keys, then more batches so they are closed.
    for round in 0..2 {
        let mut b = BatchBuilder::new();
        // The first batch also holds "d", which nothing supersedes: that batch is partly kept.
        let keys: &[&str] = if round == 0 { &["a", "b", "c", "d"] } else { &["a", "b", "c"] };
        for k in keys {
            let v = format!("{k}{round}");
            b.push(1, Some(k.as_bytes()), Some(v.as_bytes()), &[]);
        }
        log.lock().append(&mut gzipped(&b.build(0).unwrap()), 0).unwrap();
    }
    for i in 0..4 {
        let key = format!("z{i}");
        log.lock().append(&mut batch(&[key.as_str()], None), 0).unwrap();
    }
    let stats = crate::log::compact(&log, 10_000).unwrap();
    assert!(stats.records_removed >= 3, "{stats:?}");
    let records = log.lock().read_all_records().unwrap();
    let latest: Vec<(String, String)> = records
        .iter()
        .filter(|r| matches!(r.key.as_deref(), Some(b"a" | b"b" | b"c" | b"d")))
        .map(|r| {
            let s =
                |b: &Option<bytes::Bytes>| String::from_utf8_lossy(b.as_deref().unwrap()).into();
            (s(&r.key), s(&r.value))
        })
        .collect();
    assert_eq!(
        latest,
        vec![
            ("d".into(), "d0".into()),
            ("a".into(), "a1".into()),
            ("b".into(), "b1".into()),
            ("c".into(), "c1".into())
        ]
    );
    // Offsets are kept: "d" from the first batch (3), then the second batch (4, 5, 6).
    let offsets: Vec<i64> = records
        .iter()
        .filter(|r| matches!(r.key.as_deref(), Some(b"a" | b"b" | b"c" | b"d")))
        .map(|r| r.offset)
        .collect();
    assert_eq!(offsets, vec![3, 4, 5, 6]);
}
