//! The consumer's read path. Whole batches in place (`Consumer::poll_batches`): the same records as
//! `poll`, from memory-mapped segments and from plain reads, while the active segment grows;
//! positions and commits; corruption reported with the file it was found in. `poll`, which decodes
//! a read a batch at a time as polls need records: every record exactly once across small polls,
//! seeks and a repeated `assign`; a corrupt batch in the middle of a read.

use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::Arc;
use std::time::Duration;

use broker_embedded::{
    Broker, BrokerConfig, ConsumerConfig, Error, FaultyFileSystem, NewTopic, OffsetAndMetadata,
    OffsetReset, ProducerConfig, ProducerRecord, TopicPartition,
};
use integration_tests::{owned_records, read_partition, read_partition_batches};

const TOPIC: &str = "batches";

/// Produces records `from..to` (keys, headers, some null values and keys) and waits for them.
async fn produce(broker: &Broker, from: usize, to: usize) {
    let producer = broker
        .producer(ProducerConfig::default().linger(Duration::from_millis(10)))
        .expect("producer");
    let mut pending = Vec::new();
    for i in from..to {
        let mut r = ProducerRecord::new(TOPIC, format!("value-{i}-{}", "x".repeat(i % 300)))
            .partition(0)
            .timestamp(1_700_000_000_000 + i as i64);
        if i % 3 != 0 {
            r = r.key(format!("key-{}", i % 17));
        }
        if i % 5 == 0 {
            r = r.header("n", format!("{i}")).header("empty", "");
        }
        if i % 11 == 0 {
            r.value = None;
        }
        pending.push(producer.send(r).await.expect("send"));
    }
    producer.flush().await.expect("flush");
    for p in pending {
        p.await.expect("ack");
    }
}

async fn same_records_as_poll(config: BrokerConfig) {
    let broker = Broker::open(config).await.expect("open");
    // Small segments: reads cross many of them, and the active one is mapped while it grows.
    broker
        .admin()
        .create_topic(NewTopic::new(TOPIC, 1).config("segment.bytes", "20000"))
        .await
        .expect("create");
    produce(&broker, 0, 2000).await;
    let polled = read_partition(&broker, TOPIC, 0).await.expect("poll");
    assert_eq!(polled.len(), 2000);
    for check_crcs in [true, false] {
        let config = ConsumerConfig { check_crcs, ..ConsumerConfig::default() };
        let batched = read_partition_batches(&broker, TOPIC, 0, config).await.expect("batches");
        assert_eq!(batched, polled, "check_crcs {check_crcs}");
    }

    // A consumer at the end sees what is appended later, from the same segments.
    let consumer = broker
        .consumer(ConsumerConfig::default().offset_reset(OffsetReset::Earliest))
        .expect("consumer");
    let tp = TopicPartition::new(TOPIC, 0);
    consumer.assign(std::slice::from_ref(&tp)).expect("assign");
    let mut seen = Vec::new();
    while seen.len() < 2000 {
        for b in consumer.poll_batches(Duration::from_secs(5)).await.expect("poll") {
            seen.extend(owned_records(&b).expect("records"));
        }
    }
    produce(&broker, 2000, 2600).await;
    while seen.len() < 2600 {
        let batches = consumer.poll_batches(Duration::from_secs(5)).await.expect("poll");
        assert!(!batches.is_empty(), "new records arrive");
        for b in batches {
            assert_eq!(b.topic(), TOPIC);
            assert_eq!(b.partition(), 0);
            seen.extend(owned_records(&b).expect("records"));
        }
    }
    assert_eq!(seen, read_partition(&broker, TOPIC, 0).await.expect("poll"));
    assert_eq!(consumer.position(&tp).await.expect("position"), 2600);
    broker.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_batches_returns_what_poll_returns_from_mapped_segments() {
    let dir = tempfile::tempdir().expect("tempdir");
    same_records_as_poll(BrokerConfig::new(dir.path())).await;
}

/// A file system that does not offer its files for mapping: reads go through `read_exact_at`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_batches_returns_what_poll_returns_from_plain_reads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fs = Arc::new(FaultyFileSystem::new());
    same_records_as_poll(BrokerConfig::new(dir.path()).file_system(fs)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_batches_starts_inside_a_batch_and_commits_its_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Broker::open(BrokerConfig::new(dir.path())).await.expect("open");
    broker.admin().create_topic(NewTopic::new(TOPIC, 1)).await.expect("create");
    produce(&broker, 0, 500).await;
    let tp = TopicPartition::new(TOPIC, 0);
    let consumer = broker
        .consumer(ConsumerConfig {
            max_poll_records: 10,
            ..ConsumerConfig::group("readers").offset_reset(OffsetReset::Earliest)
        })
        .expect("consumer");
    consumer.assign(std::slice::from_ref(&tp)).expect("assign");

    // A seek into the middle of a batch: the records before it are not returned.
    consumer.seek(&tp, 123).expect("seek");
    let batches = consumer.poll_batches(Duration::from_secs(5)).await.expect("poll");
    let first = owned_records(&batches[0]).expect("records");
    assert_eq!(first[0].offset, 123);
    let next = batches[0].next_offset();
    assert_eq!(first.last().map(|r| r.offset + 1), Some(next));
    assert_eq!(consumer.position(&tp).await.expect("position"), next);
    consumer.commit_sync(None).await.expect("commit");
    let committed = consumer.committed(std::slice::from_ref(&tp)).await.expect("committed");
    assert_eq!(committed[0].1, Some(OffsetAndMetadata::new(next)));

    // Records that `poll` read ahead but did not return are returned by `poll_batches`.
    consumer.seek(&tp, 0).expect("seek");
    let polled = consumer.poll(Duration::from_secs(5)).await.expect("poll");
    assert_eq!(polled.len(), 10);
    let batches = consumer.poll_batches(Duration::from_secs(5)).await.expect("poll");
    let rest = owned_records(&batches[0]).expect("records");
    assert_eq!(rest[0].offset, 10, "continues after the last record poll returned");
    broker.close().await.expect("close");
}

/// Changes the first byte of the value `needle` (unique in the log) in the topic's first segment,
/// as a bad sector or a stray write would; returns the segment's path.
fn corrupt_value_on_disk(dir: &std::path::Path, needle: &[u8]) -> std::path::PathBuf {
    let log = dir.join(format!("{TOPIC}-0")).join("00000000000000000000.log");
    let mut file = std::fs::OpenOptions::new().read(true).write(true).open(&log).expect("open");
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).expect("read");
    let at = bytes.windows(needle.len()).position(|w| w == needle).expect("a value on disk");
    file.seek(SeekFrom::Start(at as u64)).expect("seek");
    file.write_all(b"V").expect("write");
    log
}

/// A byte changed on disk inside a record's value (a bad sector, a stray write): the CRC check
/// reports the segment file and the batch's position, and nothing of that batch is returned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_batch_is_an_error_naming_its_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Broker::open(BrokerConfig::new(dir.path())).await.expect("open");
    broker.admin().create_topic(NewTopic::new(TOPIC, 1)).await.expect("create");
    produce(&broker, 0, 50).await;
    broker.close().await.expect("close");

    let log = corrupt_value_on_disk(dir.path(), b"value-49");

    // A clean close left a recovery point at the end: reopening does not rescan the log.
    let broker = Broker::open(BrokerConfig::new(dir.path())).await.expect("reopen");
    let consumer = broker
        .consumer(ConsumerConfig::default().offset_reset(OffsetReset::Earliest))
        .expect("consumer");
    consumer.assign(&[TopicPartition::new(TOPIC, 0)]).expect("assign");
    let batches = consumer.poll_batches(Duration::from_secs(5)).await.expect("poll");
    let outcome: Vec<_> = batches.iter().flat_map(|b| b.records()).collect();
    let Some(Err(Error::Corrupted { file, reason, .. })) = outcome.last() else {
        panic!("the last batch must fail its CRC check: {outcome:?}");
    };
    assert_eq!(file, &log);
    assert!(reason.to_lowercase().contains("crc"), "{reason}");
    assert!(
        outcome.iter().filter_map(|r| r.as_ref().ok()).all(|r| r.offset < 49),
        "no record of the corrupt batch is handed out"
    );
    broker.close().await.expect("close");
}

/// A broker in `dir` with the topic holding records `bounds[0]..bounds[last]`, produced and
/// flushed range by range (`bounds[i]..bounds[i + 1]`), so that no batch spans two ranges.
async fn produced_in_flushes(dir: &std::path::Path, bounds: &[usize]) -> Broker {
    let broker = Broker::open(BrokerConfig::new(dir)).await.expect("open");
    broker.admin().create_topic(NewTopic::new(TOPIC, 1)).await.expect("create");
    for range in bounds.windows(2) {
        produce(&broker, range[0], range[1]).await;
    }
    broker
}

/// A consumer assigned `tp` from the start, with polls of at most 7 records.
fn small_polls(broker: &Broker, tp: &TopicPartition) -> broker_embedded::Consumer {
    let config = ConsumerConfig {
        max_poll_records: 7,
        ..ConsumerConfig::default().offset_reset(OffsetReset::Earliest)
    };
    let consumer = broker.consumer(config).expect("consumer");
    consumer.assign(std::slice::from_ref(tp)).expect("assign");
    consumer
}

/// The `poll` path decodes a read a batch at a time: small polls, a seek into records already
/// decoded, a switch to `poll_batches` and back, and `assign` of the same partition again each see
/// every record exactly once, in order, with the position right after the last one returned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_returns_each_record_once_across_small_polls_seeks_and_reassignment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = produced_in_flushes(dir.path(), &[0, 300, 700, 1000]).await;
    let all = read_partition(&broker, TOPIC, 0).await.expect("poll");
    assert_eq!(all.len(), 1000);
    let tp = TopicPartition::new(TOPIC, 0);
    let consumer = small_polls(&broker, &tp);
    let mut seen = Vec::new();
    let mut step = 0;
    while seen.len() < all.len() {
        let polled = consumer.poll(Duration::from_secs(5)).await.expect("poll");
        assert!(!polled.is_empty() && polled.len() <= 7, "{} records", polled.len());
        seen.extend(polled);
        let next = seen.len() as i64;
        assert_eq!(consumer.position(&tp).await.expect("position"), next);
        step += 1;
        match step % 40 {
            // Assigned again: resumes at the next unreturned record.
            10 => consumer.assign(std::slice::from_ref(&tp)).expect("assign"),
            // Back a little, into records decoded already: they come again.
            20 if next > 5 => {
                consumer.seek(&tp, next - 5).expect("seek");
                seen.truncate(seen.len() - 5);
            }
            // One poll of whole batches in between.
            30 => {
                for b in consumer.poll_batches(Duration::from_secs(5)).await.expect("batches") {
                    let records = owned_records(&b).expect("records");
                    seen.extend(records.into_iter().map(|r| broker_embedded::ConsumerRecord {
                        topic: TOPIC.into(),
                        partition: 0,
                        offset: r.offset,
                        timestamp: r.timestamp,
                        key: r.key,
                        value: r.value,
                        headers: r.headers,
                    }));
                }
            }
            _ => {}
        }
    }
    assert_eq!(seen, all);
    broker.close().await.expect("close");
}

/// A batch in the middle of a read fails its CRC check: `poll` returns the records before it
/// (each once), then reports the file, and goes on reporting it until the consumer seeks past it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_returns_the_records_before_a_corrupt_batch_then_reports_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    // No batch spans two of the ranges 0..20, 20..40, 40..60.
    let broker = produced_in_flushes(dir.path(), &[0, 20, 40, 60]).await;
    broker.close().await.expect("close");

    let log = corrupt_value_on_disk(dir.path(), b"value-25");

    let broker = Broker::open(BrokerConfig::new(dir.path())).await.expect("reopen");
    let tp = TopicPartition::new(TOPIC, 0);
    let consumer = small_polls(&broker, &tp);
    let mut offsets = Vec::new();
    let error = loop {
        match consumer.poll(Duration::from_secs(5)).await {
            Ok(records) => {
                assert!(!records.is_empty(), "stalled after {offsets:?}");
                offsets.extend(records.iter().map(|r| r.offset));
            }
            Err(e) => break e,
        }
    };
    let Error::Corrupted { file, reason, .. } = &error else {
        panic!("expected a corruption error, got {error:?}");
    };
    assert_eq!(file, &log);
    assert!(reason.to_lowercase().contains("crc"), "{reason}");
    // Every record before the bad batch, once each, and none of it (it holds offset 25).
    let good = offsets.len() as i64;
    assert!((20..=25).contains(&good), "{offsets:?}");
    assert_eq!(offsets, (0..good).collect::<Vec<_>>());
    assert_eq!(consumer.position(&tp).await.expect("position"), good);
    assert!(
        matches!(consumer.poll(Duration::from_secs(1)).await, Err(Error::Corrupted { .. })),
        "the next poll meets the bad batch again"
    );
    // Past it (the batch ends by offset 40), the rest comes.
    consumer.seek(&tp, 40).expect("seek");
    let mut rest = Vec::new();
    while rest.len() < 20 {
        rest.extend(
            consumer.poll(Duration::from_secs(5)).await.expect("poll").iter().map(|r| r.offset),
        );
    }
    assert_eq!(rest, (40..60).collect::<Vec<_>>());
    broker.close().await.expect("close");
}
