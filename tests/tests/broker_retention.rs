//! Retention, compaction, DeleteRecords and timestamp lookups: what leaves the log, what stays, and
//! where the log start offset ends up.
//!
//! Replay the randomized timestamp lookup test with `TEST_SEED=<seed>`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use broker_embedded::{
    Broker, BrokerConfig, ConsumerConfig, ConsumerRecord, Error, NewTopic, OffsetReset, OffsetSpec,
    Producer, ProducerConfig, ProducerRecord, RecordMetadata, TopicPartition,
};
use bytes::Bytes;
use integration_tests::{init_tracing, read_partition, seed_from_env, segment_files};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_millis() as i64
}

const HOUR_MS: i64 = 3_600_000;

struct Fixture {
    _root: tempfile::TempDir,
    data: PathBuf,
    broker: Broker,
}

impl Fixture {
    async fn new() -> Self {
        let root = tempfile::tempdir().expect("tempdir");
        let data = root.path().join("data");
        let broker = Broker::open(BrokerConfig::new(&data)).await.expect("open");
        Self { _root: root, data, broker }
    }

    /// Closes the broker (or, unclean, just drops it, as a crash would: it releases the data
    /// directory's lock) and opens a new one on the same directory.
    async fn reopen(self, clean: bool) -> Self {
        let Self { _root, data, broker } = self;
        if clean {
            broker.close().await.expect("close");
        }
        drop(broker);
        let broker = Broker::open(BrokerConfig::new(&data)).await.expect("reopen");
        Self { _root, data, broker }
    }

    fn partition_dir(&self, topic: &str, p: i32) -> PathBuf {
        self.data.join(format!("{topic}-{p}"))
    }

    /// Creates a one-partition compacted topic with small segments, cleaned at any dirtiness, and
    /// `extra` configs.
    async fn create_compacted(&self, topic: &str, segment_bytes: u32, extra: (&str, String)) {
        let new = NewTopic::new(topic, 1)
            .config("cleanup.policy", "compact")
            .config("segment.bytes", segment_bytes.to_string())
            .config("min.cleanable.dirty.ratio", "0.01")
            .config(extra.0, extra.1);
        self.broker.admin().create_topic(new).await.expect("create");
    }

    /// A producer that ships every record as its own batch.
    fn producer(&self) -> Producer {
        self.broker.producer(ProducerConfig::default().linger(Duration::ZERO)).expect("producer")
    }

    fn describe(&self, topic: &str) -> broker_embedded::PartitionDescription {
        self.broker.admin().describe_topic(topic).expect("describe").partitions[0].clone()
    }

    async fn earliest(&self, topic: &str) -> i64 {
        self.broker
            .admin()
            .list_offsets(&TopicPartition::new(topic, 0), OffsetSpec::Earliest)
            .await
            .expect("list offsets")
            .expect("earliest offset")
            .0
    }
}

/// Sends every record (several in flight) and returns their metadata in order.
async fn send_all(producer: &Producer, records: Vec<ProducerRecord>) -> Vec<RecordMetadata> {
    let mut pending = Vec::new();
    for r in records {
        pending.push(producer.send(r).await.expect("send"));
    }
    producer.flush().await.expect("flush");
    let mut out = Vec::new();
    for p in pending {
        out.push(p.await.expect("ack"));
    }
    out
}

fn value_of(r: &ConsumerRecord) -> String {
    String::from_utf8(r.value.clone().map(|v| v.to_vec()).unwrap_or_default()).expect("utf-8")
}

/// The base of the segment holding `offset`, from the segment files on disk.
fn segment_base_of(dir: &Path, offset: i64) -> i64 {
    segment_files(dir)
        .iter()
        .map(|(base, _)| *base)
        .filter(|base| *base <= offset)
        .max()
        .expect("a segment at or below the offset")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_ms_deletes_old_closed_segments() {
    init_tracing();
    let mut fx = Fixture::new().await;
    let topic = "by-time";
    fx.broker
        .admin()
        .create_topic(
            NewTopic::new(topic, 1).config("segment.bytes", "2048").config("retention.ms", "60000"),
        )
        .await
        .expect("create");
    let producer = fx.producer();
    let old = now_ms() - HOUR_MS;
    let old_records: Vec<ProducerRecord> = (0..100)
        .map(|i| {
            ProducerRecord::new(topic, format!("old-{i:03}-{}", "o".repeat(80))).timestamp(old + i)
        })
        .collect();
    send_all(&producer, old_records).await;
    let new_records: Vec<ProducerRecord> = (0..30)
        .map(|i| ProducerRecord::new(topic, format!("new-{i:03}-{}", "n".repeat(80))))
        .collect();
    let new_meta = send_all(&producer, new_records).await;
    let first_new = new_meta[0].offset;
    assert_eq!(first_new, 100);
    let dir = fx.partition_dir(topic, 0);
    let before = fx.describe(topic);
    assert!(before.segments >= 6, "{} segments: the log must have rolled", before.segments);
    assert_eq!(before.log_start_offset, 0);
    let expected_start = segment_base_of(&dir, first_new);
    assert!(expected_start > 0);

    fx.broker.admin().run_log_cleanup().await.expect("cleanup");

    let after = fx.describe(topic);
    assert_eq!(
        after.log_start_offset, expected_start,
        "the log start moves to the first segment holding a recent record"
    );
    assert_eq!(after.log_end_offset, before.log_end_offset);
    assert_eq!(fx.earliest(topic).await, expected_start);
    let files = segment_files(&dir);
    assert_eq!(files[0].0, expected_start, "segments below the log start are deleted");
    assert_eq!(after.segments, files.len());
    assert_eq!(after.size_in_bytes, files.iter().map(|(_, s)| s).sum::<u64>());

    let records = read_partition(&fx.broker, topic, 0).await.expect("read");
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.offset, expected_start + i as i64, "dense from the new log start");
    }
    let values: Vec<String> = records.iter().map(value_of).collect();
    for i in 0..30 {
        assert!(
            values.contains(&format!("new-{i:03}-{}", "n".repeat(80))),
            "recent record {i} must be kept"
        );
    }
    assert!(
        values.iter().filter(|v| v.starts_with("old-")).count() < 100,
        "old records were deleted"
    );

    // An old offset is out of range now.
    let tp = TopicPartition::new(topic, 0);
    let strict = fx
        .broker
        .consumer(ConsumerConfig::default().offset_reset(OffsetReset::None))
        .expect("consumer");
    strict.assign(std::slice::from_ref(&tp)).expect("assign");
    strict.seek(&tp, 0).expect("seek");
    assert!(
        matches!(
            strict.poll(Duration::from_millis(200)).await,
            Err(Error::OffsetOutOfRange { .. })
        ),
        "reading a deleted offset must fail with OffsetOutOfRange"
    );
    drop(strict);

    // The new log start survives a restart, clean or not.
    fx = fx.reopen(true).await;
    assert_eq!(fx.earliest(topic).await, expected_start);
    fx = fx.reopen(false).await;
    assert_eq!(fx.earliest(topic).await, expected_start);
    let again = read_partition(&fx.broker, topic, 0).await.expect("read");
    assert_eq!(again, records);
    fx.broker.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_never_deletes_the_active_segment_and_offsets_continue() {
    init_tracing();
    let fx = Fixture::new().await;
    let topic = "all-old";
    fx.broker
        .admin()
        .create_topic(
            NewTopic::new(topic, 1).config("segment.bytes", "1024").config("retention.ms", "1000"),
        )
        .await
        .expect("create");
    let producer = fx.producer();
    let old = now_ms() - HOUR_MS;
    let records = (0..60)
        .map(|i| ProducerRecord::new(topic, format!("{i:02}{}", "x".repeat(60))).timestamp(old))
        .collect();
    send_all(&producer, records).await;
    fx.broker.admin().run_log_cleanup().await.expect("cleanup");
    let d = fx.describe(topic);
    assert_eq!(d.segments, 1, "only the active segment remains");
    assert_eq!(d.log_end_offset, 60);
    let active_base = segment_files(&fx.partition_dir(topic, 0))[0].0;
    assert_eq!(d.log_start_offset, active_base);
    assert!(active_base > 0 && active_base < 60);
    let meta = producer.send_and_wait(ProducerRecord::new(topic, "next")).await.expect("send");
    assert_eq!(meta.offset, 60, "offsets continue after retention");
    fx.broker.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_bytes_keeps_the_log_under_the_limit() {
    init_tracing();
    let fx = Fixture::new().await;
    let topic = "by-size";
    let limit: u64 = 6000;
    let segment_bytes: u64 = 2048;
    fx.broker
        .admin()
        .create_topic(
            NewTopic::new(topic, 1)
                .config("segment.bytes", segment_bytes.to_string())
                .config("retention.bytes", limit.to_string())
                .config("retention.ms", "-1"),
        )
        .await
        .expect("create");
    let producer = fx.producer();
    let records = (0..200)
        .map(|i| ProducerRecord::new(topic, format!("{i:03}-{}", "s".repeat(90))))
        .collect();
    let metas = send_all(&producer, records).await;
    let dir = fx.partition_dir(topic, 0);
    let total_before: u64 = segment_files(&dir).iter().map(|(_, s)| s).sum();
    assert!(total_before > 3 * limit);

    fx.broker.admin().run_log_cleanup().await.expect("cleanup");

    let files = segment_files(&dir);
    let total: u64 = files.iter().map(|(_, s)| s).sum();
    let d = fx.describe(topic);
    assert_eq!(d.size_in_bytes, total);
    assert!(
        total - files[0].1 < limit,
        "without its oldest segment the log ({total} bytes) would be under {limit}: that segment \
         should have been deleted"
    );
    assert!(total < limit + segment_bytes, "{total} bytes kept");
    assert_eq!(d.log_start_offset, files[0].0);
    assert_eq!(fx.earliest(topic).await, files[0].0);
    // The newest records are all kept.
    let kept = read_partition(&fx.broker, topic, 0).await.expect("read");
    assert_eq!(kept.last().map(|r| r.offset), metas.last().map(|m| m.offset));
    assert_eq!(kept.len() as i64, d.log_end_offset - d.log_start_offset);
    // A second pass has nothing more to do.
    fx.broker.admin().run_log_cleanup().await.expect("cleanup");
    assert_eq!(segment_files(&dir), files);
    fx.broker.close().await.expect("close");
}

/// What compaction must leave of `before` (all records before the pass, in offset order): below the
/// active segment, only the latest record of each key (tombstones included: their delete horizon
/// lies `delete.retention.ms` after the pass that first cleaned them); the active segment
/// untouched.
fn expected_after_compaction(before: &[ConsumerRecord], active_base: i64) -> Vec<ConsumerRecord> {
    let mut latest: HashMap<Option<Bytes>, i64> = HashMap::new();
    for r in before.iter().filter(|r| r.offset < active_base) {
        latest.insert(r.key.clone(), r.offset);
    }
    before
        .iter()
        .filter(|r| r.offset >= active_base || latest.get(&r.key) == Some(&r.offset))
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_keeps_the_latest_value_per_key_in_closed_segments() {
    init_tracing();
    let mut fx = Fixture::new().await;
    let topic = "compacted";
    let delete_retention_ms = 60_000;
    fx.create_compacted(topic, 2048, ("delete.retention.ms", delete_retention_ms.to_string()))
        .await;
    let producer = fx.producer();
    // A record without a key cannot be compacted: the topic refuses it.
    match producer.send_and_wait(ProducerRecord::new(topic, "no key")).await {
        Err(Error::InvalidRecord(_)) => {}
        other => {
            panic!("a keyless record on a compacted topic: expected InvalidRecord, got {other:?}")
        }
    }

    let old = now_ms() - HOUR_MS;
    let mut records = Vec::new();
    for round in 0..12 {
        for k in 0..10 {
            records.push(
                ProducerRecord::new(topic, format!("k{k}-r{round}-{}", "c".repeat(40)))
                    .key(format!("k{k}"))
                    .timestamp(old + round),
            );
        }
    }
    // Tombstones for k0 and k1 with old timestamps, a fresh one for k2: all kept for
    // delete.retention.ms after compaction first sees them, whatever their own timestamps.
    for k in 0..2 {
        let mut t = ProducerRecord::new(topic, "").key(format!("k{k}")).timestamp(old + 100);
        t.value = None;
        records.push(t);
    }
    let mut fresh = ProducerRecord::new(topic, "").key("k2");
    fresh.value = None;
    records.push(fresh);
    // More history so that the tombstones land in closed segments.
    for round in 12..20 {
        for k in 3..10 {
            records.push(
                ProducerRecord::new(topic, format!("k{k}-r{round}-{}", "c".repeat(40)))
                    .key(format!("k{k}"))
                    .timestamp(old + round),
            );
        }
    }
    send_all(&producer, records).await;

    let dir = fx.partition_dir(topic, 0);
    for pass in 0..3 {
        let before = read_partition(&fx.broker, topic, 0).await.expect("read");
        let files = segment_files(&dir);
        assert!(files.len() >= 3, "pass {pass}: the log must have closed segments");
        let active_base = files.last().expect("segments").0;
        fx.broker.admin().run_log_cleanup().await.expect("cleanup");
        let after = read_partition(&fx.broker, topic, 0).await.expect("read");
        let expected = expected_after_compaction(&before, active_base);
        let show = |rs: &[ConsumerRecord]| -> Vec<(i64, String)> {
            rs.iter().map(|r| (r.offset, value_of(r))).collect()
        };
        assert_eq!(
            show(&after),
            show(&expected),
            "pass {pass}: compaction result (active segment starts at {active_base})"
        );
        // Kept records are unchanged: key, value, timestamp, headers and offset.
        assert_eq!(after, expected, "pass {pass}");
        for key in ["k0", "k1", "k2"] {
            let of_key: Vec<_> =
                after.iter().filter(|r| r.key.as_deref() == Some(key.as_bytes())).collect();
            assert!(
                of_key.len() == 1 && of_key[0].value.is_none(),
                "pass {pass}: the values a tombstone deletes are gone, the tombstone stays until \
                 its delete horizon: {key}: {of_key:?}"
            );
        }
        // Compaction never moves the log start.
        assert_eq!(fx.earliest(topic).await, 0, "pass {pass}");
        // A second pass right away changes nothing.
        fx.broker.admin().run_log_cleanup().await.expect("cleanup");
        let again = read_partition(&fx.broker, topic, 0).await.expect("read");
        assert_eq!(again, after, "pass {pass}: compaction is idempotent");
        // The compacted log survives restarts, clean and unclean.
        fx = fx.reopen(pass % 2 == 0).await;
        let reopened = read_partition(&fx.broker, topic, 0).await.expect("read");
        assert_eq!(reopened, after, "pass {pass}: after reopen");

        // A consumer positioned on a removed offset gets the next kept record.
        let removed = (0..active_base).find(|o| !after.iter().any(|r| r.offset == *o));
        if let Some(removed) = removed {
            let tp = TopicPartition::new(topic, 0);
            let consumer = fx
                .broker
                .consumer(ConsumerConfig::default().offset_reset(OffsetReset::None))
                .expect("consumer");
            consumer.assign(std::slice::from_ref(&tp)).expect("assign");
            consumer.seek(&tp, removed).expect("seek");
            let polled = consumer.poll(Duration::from_secs(5)).await.expect("poll");
            let next = after.iter().find(|r| r.offset > removed).map(|r| r.offset);
            assert_eq!(polled.first().map(|r| r.offset), next, "pass {pass}");
        }

        // Another round of values, so the segment that was active closes for the next pass.
        let producer = fx.producer();
        let records = (0..40)
            .map(|i| {
                let k = 3 + i % 7;
                ProducerRecord::new(topic, format!("k{k}-p{pass}-{i}-{}", "c".repeat(40)))
                    .key(format!("k{k}"))
            })
            .collect();
        send_all(&producer, records).await;
    }
    fx.broker.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_records_moves_the_log_start() {
    init_tracing();
    let mut fx = Fixture::new().await;
    let topic = "trim";
    fx.broker
        .admin()
        .create_topic(NewTopic::new(topic, 1).config("segment.bytes", "1024"))
        .await
        .expect("create");
    let producer = fx.producer();
    let records = (0..100)
        .map(|i| ProducerRecord::new(topic, format!("{i:03}-{}", "r".repeat(50))))
        .collect();
    send_all(&producer, records).await;
    let admin = fx.broker.admin();
    let tp = TopicPartition::new(topic, 0);
    let dir = fx.partition_dir(topic, 0);

    assert_eq!(admin.delete_records(&tp, 37).await.expect("delete"), 37);
    assert_eq!(fx.describe(topic).log_start_offset, 37);
    assert_eq!(fx.earliest(topic).await, 37);
    let files = segment_files(&dir);
    assert_eq!(files[0].0, segment_base_of(&dir, 37), "only whole segments below 37 are deleted");
    assert!(files[0].0 <= 37 && files.get(1).is_none_or(|f| f.0 > 37));
    let rest = read_partition(&fx.broker, topic, 0).await.expect("read");
    assert_eq!(rest.first().map(|r| r.offset), Some(37));
    assert_eq!(rest.len(), 63);
    assert!(value_of(&rest[0]).starts_with("037-"));

    // A consumer that starts from the beginning starts at the new log start, even though the
    // segment still holds records below it.
    let consumer = fx
        .broker
        .consumer(ConsumerConfig::default().offset_reset(OffsetReset::Earliest))
        .expect("consumer");
    consumer.assign(std::slice::from_ref(&tp)).expect("assign");
    assert_eq!(consumer.position(&tp).await.expect("position"), 37);
    let polled = consumer.poll(Duration::from_secs(5)).await.expect("poll");
    assert_eq!(polled.first().map(|r| r.offset), Some(37));
    let strict = fx
        .broker
        .consumer(ConsumerConfig::default().offset_reset(OffsetReset::None))
        .expect("consumer");
    strict.assign(std::slice::from_ref(&tp)).expect("assign");
    strict.seek(&tp, 36).expect("seek");
    assert!(matches!(
        strict.poll(Duration::from_millis(200)).await,
        Err(Error::OffsetOutOfRange { .. })
    ));
    drop((consumer, strict));

    // Moving backwards changes nothing; past the end is refused; -1 means the high watermark.
    assert_eq!(admin.delete_records(&tp, 10).await.expect("delete"), 37);
    assert!(matches!(admin.delete_records(&tp, 101).await, Err(Error::OffsetOutOfRange { .. })));
    assert_eq!(fx.earliest(topic).await, 37);
    fx = fx.reopen(true).await;
    assert_eq!(fx.earliest(topic).await, 37, "the log start survives a clean restart");
    let admin = fx.broker.admin();
    assert_eq!(admin.delete_records(&tp, -1).await.expect("delete"), 100);
    assert_eq!(fx.earliest(topic).await, 100);
    assert!(read_partition(&fx.broker, topic, 0).await.expect("read").is_empty());
    let meta =
        fx.producer().send_and_wait(ProducerRecord::new(topic, "after")).await.expect("send");
    assert_eq!(meta.offset, 100);
    fx.broker.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_offsets_by_timestamp_finds_the_first_record_at_or_after() {
    init_tracing();
    let seed = seed_from_env();
    println!("timestamp lookup test: seed {seed} (replay with TEST_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);
    let fx = Fixture::new().await;
    let topic = "times";
    fx.broker
        .admin()
        .create_topic(
            NewTopic::new(topic, 1)
                .config("segment.bytes", "1500")
                .config("index.interval.bytes", "100"),
        )
        .await
        .expect("create");
    let admin = fx.broker.admin();
    let tp = TopicPartition::new(topic, 0);
    assert_eq!(
        admin.list_offsets(&tp, OffsetSpec::Timestamp(0)).await.expect("lookup"),
        None,
        "an empty log has no record at any time"
    );

    // Mostly increasing timestamps with jitter, repeats and a few going backwards; batches of
    // several records as well as single ones.
    let base = now_ms() - 10 * 60_000;
    let producer = fx
        .broker
        .producer(ProducerConfig::default().linger(Duration::from_millis(2)).batch_size(400))
        .expect("producer");
    let mut records = Vec::new();
    for i in 0..300i64 {
        let ts = match rng.random_range(0..10) {
            0 => base + 10 * (i - rng.random_range(0..20)).max(0),
            1 => base + 10 * i,
            _ => base + 10 * i + rng.random_range(0..10),
        };
        records.push(ProducerRecord::new(topic, format!("t{i}-{}", "v".repeat(30))).timestamp(ts));
    }
    let metas = send_all(&producer, records).await;
    let mut stored: BTreeMap<i64, i64> = BTreeMap::new();
    for m in &metas {
        stored.insert(m.offset, m.timestamp);
    }
    let segments = fx.describe(topic).segments;
    assert!(segments > 3, "{segments} segments: the lookups must cross segments");

    let check = |stored: &BTreeMap<i64, i64>, start: i64, target: i64| {
        stored.range(start..).find(|(_, ts)| **ts >= target).map(|(o, ts)| (*o, *ts))
    };
    let max_ts = *stored.values().max().expect("records");
    let mut targets = vec![0, base - 1, base, base + 1, max_ts, max_ts + 1, i64::MAX];
    for _ in 0..200 {
        targets.push(base + rng.random_range(-50..3100));
    }
    for ts in stored.values() {
        targets.push(*ts);
        targets.push(ts + 1);
    }
    for start in [0i64, 57] {
        if start > 0 {
            admin.delete_records(&tp, start).await.expect("delete");
        }
        for &target in &targets {
            let got = admin.list_offsets(&tp, OffsetSpec::Timestamp(target)).await.expect("lookup");
            assert_eq!(
                got,
                check(&stored, start, target),
                "seed {seed}: timestamp {target} (base {base}), log start {start}"
            );
        }
    }
    // Exact examples, independent of the brute force above: past the end there is nothing.
    assert_eq!(
        admin.list_offsets(&tp, OffsetSpec::Timestamp(max_ts + 1)).await.expect("lookup"),
        None
    );
    assert_eq!(
        admin
            .list_offsets(&tp, OffsetSpec::Timestamp(i64::MIN + 1))
            .await
            .expect("lookup")
            .map(|(o, _)| o),
        Some(57),
        "a timestamp before every record finds the log start"
    );
    fx.broker.close().await.expect("close");
}

/// `min.compaction.lag.ms`: only segments whose newest record is older than the lag are cleaned;
/// the younger ones keep every record, older values of their keys included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn min_compaction_lag_leaves_recent_segments_alone() {
    init_tracing();
    let fx = Fixture::new().await;
    let topic = "lagged";
    fx.create_compacted(topic, 2048, ("min.compaction.lag.ms", HOUR_MS.to_string())).await;
    let producer = fx.producer();
    let old = now_ms() - 2 * HOUR_MS;
    let record = |i: usize, timestamp: Option<i64>| {
        let r = ProducerRecord::new(topic, format!("v{i}-{}", "l".repeat(60)))
            .key(format!("k{}", i % 5));
        match timestamp {
            Some(t) => r.timestamp(t),
            None => r,
        }
    };
    // 60 records two hours old, then 60 recent ones, with the same five keys.
    let mut records: Vec<ProducerRecord> =
        (0..60).map(|i| record(i, Some(old + i as i64))).collect();
    records.extend((60..120).map(|i| record(i, None)));
    send_all(&producer, records).await;
    let dir = fx.partition_dir(topic, 0);
    let before = read_partition(&fx.broker, topic, 0).await.expect("read");
    // The first segment holding a recent record, and everything after it, is too young to clean.
    let young_from = segment_base_of(&dir, 60);
    assert!(young_from > 0, "the old records must fill closed segments of their own");
    fx.broker.admin().run_log_cleanup().await.expect("cleanup");
    let after = read_partition(&fx.broker, topic, 0).await.expect("read");

    let young = |rs: &[ConsumerRecord]| -> Vec<ConsumerRecord> {
        rs.iter().filter(|r| r.offset >= young_from).cloned().collect()
    };
    assert_eq!(young(&after), young(&before), "records in segments younger than the lag stay");
    // Below, only the last value of each key (within the cleaned segments) is left.
    let cleaned: Vec<i64> =
        after.iter().filter(|r| r.offset < young_from).map(|r| r.offset).collect();
    let expected: Vec<i64> =
        (0..young_from).filter(|&o| !(o + 1..young_from).any(|later| later % 5 == o % 5)).collect();
    assert_eq!(cleaned, expected, "the old segments (below offset {young_from}) are compacted");
    fx.broker.close().await.expect("close");
}

/// `segment.ms`: the next append after the active segment's first batch is older than `segment.ms`
/// starts a new segment, however small the active one is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segments_roll_after_segment_ms() {
    let fx = Fixture::new().await;
    let topic = "timed";
    fx.broker
        .admin()
        .create_topic(NewTopic::new(topic, 1).config("segment.ms", "200"))
        .await
        .expect("create");
    let producer = fx.producer();
    let dir = fx.partition_dir(topic, 0);
    producer.send_and_wait(ProducerRecord::new(topic, "first")).await.expect("send");
    producer.send_and_wait(ProducerRecord::new(topic, "second")).await.expect("send");
    assert_eq!(segment_files(&dir).len(), 1, "two quick appends share a segment");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let meta = producer.send_and_wait(ProducerRecord::new(topic, "third")).await.expect("send");
    let files = segment_files(&dir);
    assert_eq!(files.iter().map(|(base, _)| *base).collect::<Vec<_>>(), vec![0, meta.offset]);
    let records = read_partition(&fx.broker, topic, 0).await.expect("read");
    assert_eq!(records.iter().map(value_of).collect::<Vec<_>>(), ["first", "second", "third"]);
    fx.broker.close().await.expect("close");
}

/// Tombstones go as Kafka's cleaner lets them go: the first pass that cleans a tombstone stamps a
/// delete horizon (that pass's time + `delete.retention.ms`) on its batch, passes before the horizon
/// keep it, the first pass after it removes it. A tombstone's own timestamp does not matter (an old
/// one is kept as long as a fresh one), and stamping leaves every record's timestamp as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tombstones_go_one_delete_retention_after_compaction_first_sees_them() {
    init_tracing();
    let fx = Fixture::new().await;
    let topic = "horizon";
    let delete_retention_ms = 400;
    fx.create_compacted(topic, 1024, ("delete.retention.ms", delete_retention_ms.to_string()))
        .await;
    let producer = fx.producer();
    let old = now_ms() - HOUR_MS;
    let value = |k: usize, i: usize| format!("k{k}-{i}-{}", "h".repeat(40));
    let mut records: Vec<ProducerRecord> = (0..20)
        .map(|i| {
            ProducerRecord::new(topic, value(i % 4, i))
                .key(format!("k{}", i % 4))
                .timestamp(old + i as i64)
        })
        .collect();
    let mut tombstone = ProducerRecord::new(topic, "").key("k0").timestamp(old + 100);
    tombstone.value = None;
    records.push(tombstone);
    // Later values for the other keys, so that the tombstone's segment closes.
    records.extend(
        (20..60).map(|i| {
            ProducerRecord::new(topic, value(1 + i % 3, i)).key(format!("k{}", 1 + i % 3))
        }),
    );
    send_all(&producer, records).await;
    let k0 = |rs: &[ConsumerRecord]| -> Vec<(Option<Bytes>, i64)> {
        rs.iter()
            .filter(|r| r.key.as_deref() == Some(&b"k0"[..]))
            .map(|r| (r.value.clone(), r.timestamp))
            .collect()
    };
    let first_pass = now_ms();
    fx.broker.admin().run_log_cleanup().await.expect("cleanup");
    let after = read_partition(&fx.broker, topic, 0).await.expect("read");
    assert_eq!(k0(&after), vec![(None, old + 100)], "the first pass keeps the tombstone, stamped");
    fx.broker.admin().run_log_cleanup().await.expect("cleanup");
    let again = read_partition(&fx.broker, topic, 0).await.expect("read");
    if now_ms() < first_pass + delete_retention_ms {
        assert_eq!(again, after, "a pass before the horizon changes nothing");
    }
    tokio::time::sleep(Duration::from_millis(delete_retention_ms as u64 + 100)).await;
    fx.broker.admin().run_log_cleanup().await.expect("cleanup");
    let last = read_partition(&fx.broker, topic, 0).await.expect("read");
    assert_eq!(k0(&last), vec![], "the first pass after the horizon removes the tombstone");
    let others = |rs: &[ConsumerRecord]| -> Vec<ConsumerRecord> {
        rs.iter().filter(|r| r.key.as_deref() != Some(&b"k0"[..])).cloned().collect()
    };
    assert_eq!(others(&last), others(&after), "and nothing else");
    fx.broker.close().await.expect("close");
}
