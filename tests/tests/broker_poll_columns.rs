//! `Consumer::poll_columns`: the same records as `poll` (offsets, timestamps, keys, values,
//! headers), at most `max_poll_records` per call, grouped per partition column by column; mixed
//! with `poll` on one consumer (records left over from a partly returned batch come next, once);
//! positions and commits; a corrupt batch after good records.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::time::Duration;

use broker_embedded::{
    Broker, BrokerConfig, Consumer, ConsumerConfig, ConsumerRecord, Error, Header, NewTopic,
    OffsetAndMetadata, OffsetReset, PartitionRecords, ProducerConfig, ProducerRecord,
    TopicPartition,
};
use integration_tests::read_partition;

const TOPIC: &str = "columns";
const PARTITIONS: i32 = 3;
/// Rounds of records produced and flushed one after the other: (records, producer batch size),
/// so that batches of many sizes follow each other in every partition.
const ROUNDS: [(usize, usize); 8] = [
    (1, 16384),
    (5, 16384),
    (40, 512),
    (333, 16384),
    (1200, 4096),
    (17, 16384),
    (900, 65536),
    (504, 1024),
];
const WAIT: Duration = Duration::from_secs(5);

/// Produces records `range` to `topic` (partition `i % 7 % partitions`: uneven), flushed together
/// in batches of at most `batch_size` bytes, and waits for them. A quarter have no key, a ninth no
/// value (tombstones), a tenth headers (one with a null value every other time).
async fn produce(
    broker: &Broker,
    topic: &str,
    range: Range<usize>,
    partitions: i32,
    batch_size: usize,
) {
    let config = ProducerConfig::default().batch_size(batch_size).linger(Duration::from_millis(10));
    let producer = broker.producer(config).expect("producer");
    let mut acks = Vec::new();
    for i in range {
        let mut r = ProducerRecord::new(topic, format!("value-{i}-{}", "x".repeat(i % 150)))
            .partition((i % 7 % partitions as usize) as i32)
            .timestamp(1_700_000_000_000 + (i * 7919 % 10_000) as i64);
        if i % 4 != 0 {
            r = r.key(format!("key-{}", i % 23));
        }
        if i % 9 == 0 {
            r.value = None;
        }
        if i % 10 == 3 {
            r = r.header("n", format!("{i}")).header("empty", "");
            if i % 20 == 3 {
                r.headers.push(Header { key: "null".into(), value: None });
            }
        }
        acks.push(producer.send(r).await.expect("send"));
    }
    producer.flush().await.expect("flush");
    for ack in acks {
        ack.await.expect("ack");
    }
}

/// A broker in `dir` with `TOPIC` holding the records of `ROUNDS`; returns it and each
/// partition's records as `read_partition` reads them.
async fn broker_with_records(
    dir: &std::path::Path,
) -> (Broker, BTreeMap<i32, Vec<ConsumerRecord>>) {
    let broker = Broker::open(BrokerConfig::new(dir)).await.expect("open");
    broker.admin().create_topic(NewTopic::new(TOPIC, PARTITIONS)).await.expect("create");
    let mut from = 0;
    for (count, batch_size) in ROUNDS {
        produce(&broker, TOPIC, from..from + count, PARTITIONS, batch_size).await;
        from += count;
    }
    let mut all = BTreeMap::new();
    for p in 0..PARTITIONS {
        let records = read_partition(&broker, TOPIC, p).await.expect("read");
        let offsets: Vec<i64> = records.iter().map(|r| r.offset).collect();
        assert_eq!(offsets, (0..records.len() as i64).collect::<Vec<_>>(), "partition {p}");
        all.insert(p, records);
    }
    assert_eq!(all.values().map(Vec::len).sum::<usize>(), from);
    (broker, all)
}

fn partitions() -> Vec<TopicPartition> {
    (0..PARTITIONS).map(|p| TopicPartition::new(TOPIC, p)).collect()
}

/// A consumer with `config`, assigned every partition of `TOPIC` from the start.
fn assigned(broker: &Broker, config: ConsumerConfig) -> Consumer {
    let consumer = broker.consumer(config.offset_reset(OffsetReset::Earliest)).expect("consumer");
    consumer.assign(&partitions()).expect("assign");
    consumer
}

/// Checks the shape of one `poll_columns` result (at most `max` records in all, each partition
/// once and not empty, columns of one length, offsets rising, headers empty when no record has
/// any) and returns its records per partition, rebuilt with `PartitionRecords::record`.
fn records_of(parts: &[PartitionRecords], max: usize) -> BTreeMap<i32, Vec<ConsumerRecord>> {
    let total: usize = parts.iter().map(PartitionRecords::len).sum();
    assert!(total <= max, "{total} records in one poll_columns, max_poll_records {max}");
    let mut out = BTreeMap::new();
    for part in parts {
        let n = part.len();
        assert!(n > 0 && !part.is_empty(), "partition {} without records", part.partition);
        assert_eq!(&*part.topic, TOPIC);
        assert_eq!(part.timestamps.len(), n, "timestamps");
        assert_eq!(part.keys.len(), n, "keys");
        assert_eq!(part.values.len(), n, "values");
        assert!(
            part.headers.is_empty() || part.headers.len() == n,
            "{} headers",
            part.headers.len()
        );
        assert!(
            part.headers.is_empty() || part.headers.iter().any(|h| !h.is_empty()),
            "the headers column is empty when no record has any"
        );
        assert!(part.offsets.windows(2).all(|w| w[0] < w[1]), "offsets rise: {:?}", part.offsets);
        let records: Vec<ConsumerRecord> =
            (0..n).map(|i| part.record(i).expect("a record below len")).collect();
        assert_eq!(part.record(n), None);
        assert!(
            out.insert(part.partition, records).is_none(),
            "partition {} twice",
            part.partition
        );
    }
    out
}

/// `poll`'s records of one call, per partition.
fn by_partition(records: Vec<ConsumerRecord>) -> BTreeMap<i32, Vec<ConsumerRecord>> {
    let mut out: BTreeMap<i32, Vec<ConsumerRecord>> = BTreeMap::new();
    for r in records {
        out.entry(r.partition).or_default().push(r);
    }
    out
}

/// Two consumers of one config read everything, one with `poll` and one with `poll_columns`:
/// call after call they return the same records of each partition and have the same positions;
/// together the calls return every record once. Small polls end inside batches; small fetches end
/// reads inside rounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_columns_returns_what_poll_returns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (broker, all) = broker_with_records(dir.path()).await;
    let total: usize = all.values().map(Vec::len).sum();
    for (max_poll_records, max_partition_fetch_bytes) in [(7, 1 << 20), (100, 8 << 10)] {
        let config =
            ConsumerConfig { max_poll_records, max_partition_fetch_bytes, ..Default::default() };
        let by_poll = assigned(&broker, config.clone());
        let by_columns = assigned(&broker, config);
        let mut seen: BTreeMap<i32, Vec<ConsumerRecord>> = BTreeMap::new();
        let mut calls = 0;
        while seen.values().map(Vec::len).sum::<usize>() < total {
            calls += 1;
            let polled = by_partition(by_poll.poll(WAIT).await.expect("poll"));
            let parts = by_columns.poll_columns(WAIT).await.expect("poll_columns");
            let columns = records_of(&parts, max_poll_records);
            assert!(!polled.is_empty(), "poll {calls} returned nothing");
            assert_eq!(columns, polled, "call {calls}, max_poll_records {max_poll_records}");
            for tp in partitions() {
                assert_eq!(
                    by_columns.position(&tp).await.expect("position"),
                    by_poll.position(&tp).await.expect("position"),
                    "{tp} after call {calls}"
                );
            }
            for (p, records) in columns {
                seen.entry(p).or_default().extend(records);
            }
        }
        assert_eq!(seen, all, "max_poll_records {max_poll_records}");
        let more = by_columns.poll_columns(Duration::from_millis(100)).await.expect("poll");
        assert!(more.is_empty(), "nothing after the end: {more:?}");
    }
    broker.close().await.expect("close");
}

/// One consumer alternating `poll` and `poll_columns` (with polls of 7 records, which end inside
/// batches): each call takes up where the last left off, records decoded but not returned
/// included, and together they return every record once, in order per partition.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_and_poll_columns_mixed_return_each_record_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (broker, all) = broker_with_records(dir.path()).await;
    let total: usize = all.values().map(Vec::len).sum();
    let consumer = assigned(&broker, ConsumerConfig { max_poll_records: 7, ..Default::default() });
    let mut seen: BTreeMap<i32, Vec<ConsumerRecord>> = BTreeMap::new();
    let mut step = 0;
    while seen.values().map(Vec::len).sum::<usize>() < total {
        step += 1;
        // Runs of one, two and three calls of each kind.
        let columns = matches!(step % 12, 1 | 3 | 4 | 7 | 8 | 9);
        let polled = if columns {
            records_of(&consumer.poll_columns(WAIT).await.expect("poll_columns"), 7)
        } else {
            let records = consumer.poll(WAIT).await.expect("poll");
            assert!(records.len() <= 7, "{} records from poll", records.len());
            by_partition(records)
        };
        assert!(!polled.is_empty(), "call {step} (columns: {columns}) returned nothing");
        for (p, records) in polled {
            let before = seen.get(&p).map_or(0, Vec::len) as i64;
            assert_eq!(
                records[0].offset, before,
                "partition {p}, call {step} (columns: {columns})"
            );
            let tp = TopicPartition::new(TOPIC, p);
            let next = records.last().map(|r| r.offset + 1);
            assert_eq!(Some(consumer.position(&tp).await.expect("position")), next);
            seen.entry(p).or_default().extend(records);
        }
    }
    assert_eq!(seen, all);
    broker.close().await.expect("close");
}

/// After `poll_columns` the position of a partition is the offset after its last record returned
/// (as after `poll`); a commit of the positions lets another consumer of the group resume there
/// with nothing lost or repeated; an empty topic gives an empty result once the timeout passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_columns_moves_the_position_and_commits_resume_after_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (broker, all) = broker_with_records(dir.path()).await;

    broker.admin().create_topic(NewTopic::new("empty", 2)).await.expect("create");
    let idle = broker.consumer(ConsumerConfig::default()).expect("consumer");
    let empty = [TopicPartition::new("empty", 0), TopicPartition::new("empty", 1)];
    idle.assign(&empty).expect("assign");
    let parts = idle.poll_columns(Duration::from_millis(200)).await.expect("poll_columns");
    assert!(parts.is_empty(), "{parts:?}");
    assert_eq!(idle.position(&empty[0]).await.expect("position"), 0);

    let config =
        |group: &str| ConsumerConfig { max_poll_records: 10, ..ConsumerConfig::group(group) };
    let by_columns = assigned(&broker, config("by-columns"));
    let by_poll = assigned(&broker, config("by-poll"));
    let mut seen: BTreeMap<i32, Vec<ConsumerRecord>> = BTreeMap::new();
    for _ in 0..25 {
        let columns = records_of(&by_columns.poll_columns(WAIT).await.expect("poll_columns"), 10);
        assert_eq!(columns, by_partition(by_poll.poll(WAIT).await.expect("poll")));
        for (p, records) in columns {
            let tp = TopicPartition::new(TOPIC, p);
            let next = records.last().expect("records").offset + 1;
            assert_eq!(by_columns.position(&tp).await.expect("position"), next, "{tp}");
            seen.entry(p).or_default().extend(records);
        }
    }
    by_columns.commit_sync(None).await.expect("commit");
    let committed = by_columns.committed(&partitions()).await.expect("committed");
    for (tp, offset) in committed {
        let position = by_columns.position(&tp).await.expect("position");
        assert_eq!(offset, Some(OffsetAndMetadata::new(position)), "{tp}");
        let returned = seen.get(&tp.partition).map_or(0, Vec::len) as i64;
        assert_eq!(position, returned, "{tp}: the position follows the records returned");
    }

    // Another member of the group resumes at the commits: every record once in all.
    let resumed = assigned(&broker, config("by-columns"));
    let total: usize = all.values().map(Vec::len).sum();
    while seen.values().map(Vec::len).sum::<usize>() < total {
        let columns = records_of(&resumed.poll_columns(WAIT).await.expect("poll_columns"), 10);
        assert!(!columns.is_empty(), "stalled");
        for (p, records) in columns {
            seen.entry(p).or_default().extend(records);
        }
    }
    assert_eq!(seen, all);
    broker.close().await.expect("close");
}

/// Polls (with `poll_columns` or `poll`) until an error: the offsets returned before it, and it.
async fn offsets_until_error(consumer: &Consumer, columns: bool) -> (Vec<i64>, Error) {
    let mut offsets = Vec::new();
    loop {
        let polled = if columns {
            consumer.poll_columns(WAIT).await.map(|parts| records_of(&parts, 7))
        } else {
            consumer.poll(WAIT).await.map(by_partition)
        };
        match polled {
            Ok(records) => {
                assert!(!records.is_empty(), "stalled after {offsets:?}");
                offsets.extend(records.values().flatten().map(|r| r.offset));
            }
            Err(e) => return (offsets, e),
        }
    }
}

/// A batch in the middle of a read fails its CRC check: `poll_columns` returns the records before
/// it (those of the call that meets it included), as `poll` does, then reports the file, and again
/// on the next call; past the batch the rest comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_columns_returns_the_records_before_a_corrupt_batch_then_reports_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Broker::open(BrokerConfig::new(dir.path())).await.expect("open");
    broker.admin().create_topic(NewTopic::new(TOPIC, 1)).await.expect("create");
    // No batch spans two of the ranges 0..20, 20..40, 40..60.
    for from in [0, 20, 40] {
        produce(&broker, TOPIC, from..from + 20, 1, 16384).await;
    }
    broker.close().await.expect("close");
    let log = dir.path().join(format!("{TOPIC}-0")).join("00000000000000000000.log");
    let mut file = std::fs::OpenOptions::new().read(true).write(true).open(&log).expect("open");
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).expect("read");
    let at = bytes.windows(9).position(|w| w == b"value-25-").expect("value 25 on disk");
    file.seek(SeekFrom::Start(at as u64)).expect("seek");
    file.write_all(b"V").expect("write");
    drop(file);

    let broker = Broker::open(BrokerConfig::new(dir.path())).await.expect("reopen");
    let tp = TopicPartition::new(TOPIC, 0);
    let small_polls = || {
        let config = ConsumerConfig { max_poll_records: 7, ..Default::default() };
        let consumer =
            broker.consumer(config.offset_reset(OffsetReset::Earliest)).expect("consumer");
        consumer.assign(std::slice::from_ref(&tp)).expect("assign");
        consumer
    };
    let (polled, _) = offsets_until_error(&small_polls(), false).await;
    let consumer = small_polls();
    let (offsets, error) = offsets_until_error(&consumer, true).await;
    assert_eq!(offsets, polled, "the records poll returns before the error");
    let good = offsets.len() as i64;
    assert!((20..=25).contains(&good), "{offsets:?}");
    assert_eq!(offsets, (0..good).collect::<Vec<_>>());
    let Error::Corrupted { file, reason, .. } = &error else {
        panic!("expected a corruption error, got {error:?}");
    };
    assert_eq!(file, &log);
    assert!(reason.to_lowercase().contains("crc"), "{reason}");
    assert_eq!(consumer.position(&tp).await.expect("position"), good);
    let again = consumer.poll_columns(Duration::from_secs(1)).await;
    assert!(
        matches!(again, Err(Error::Corrupted { .. })),
        "the next call meets it again: {again:?}"
    );
    consumer.seek(&tp, 40).expect("seek");
    let mut rest = Vec::new();
    while rest.len() < 20 {
        let parts = consumer.poll_columns(WAIT).await.expect("poll_columns");
        assert!(!parts.is_empty(), "stalled after {rest:?}");
        rest.extend(records_of(&parts, 7).values().flatten().map(|r| r.offset));
    }
    assert_eq!(rest, (40..60).collect::<Vec<_>>());
    broker.close().await.expect("close");
}
