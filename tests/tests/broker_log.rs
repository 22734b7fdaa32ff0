//! The log as users see it: segment rolling and reads across segments, durable directory entries,
//! clean restarts, Kafka's key partitioning, record fields that round-trip, and consumer positions.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use broker_embedded::{
    Broker, BrokerConfig, Consumer, ConsumerConfig, Durability, Error, FaultyFileSystem, Header,
    NewTopic, OffsetReset, ProducerConfig, ProducerRecord, TopicPartition,
};
use bytes::Bytes;
use integration_tests::{read_partition, segment_files};

/// Log lines of the whole test binary, so that a test can see what the broker reported.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = buf.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("broker_embedded=info"))
            .with_ansi(false)
            .with_writer(move || Capture(writer.clone()))
            .try_init();
        buf
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn log_lines_mentioning(needle: &str) -> Vec<String> {
    let logs = captured_logs();
    let text = String::from_utf8_lossy(&logs.lock().expect("log buffer")).to_string();
    text.lines().filter(|l| l.contains(needle)).map(str::to_string).collect()
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_millis() as i64
}

/// A sync-on-ack broker on a fault-injecting file system (no fault armed), to watch its syncs.
async fn sync_on_ack_broker(data: &std::path::Path) -> (Broker, FaultyFileSystem) {
    let fs = FaultyFileSystem::new();
    let config =
        BrokerConfig::new(data).durability(Durability::SyncOnAck).file_system(Arc::new(fs.clone()));
    (Broker::open(config).await.expect("open"), fs)
}

fn data_dir() -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().expect("tempdir");
    let data = root.path().join("data");
    (root, data)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segments_roll_by_size_and_reads_cross_them_in_order() {
    captured_logs();
    let (_root, data) = data_dir();
    let broker = Broker::open(BrokerConfig::new(&data)).await.expect("open");
    let topic = "rolling";
    broker
        .admin()
        .create_topic(NewTopic::new(topic, 1).config("segment.bytes", "4096"))
        .await
        .expect("create");
    let producer =
        broker.producer(ProducerConfig::default().linger(Duration::ZERO)).expect("producer");
    let value = |i: usize| format!("{i:04}-{}", "w".repeat(i % 150));
    let mut segments_seen = vec![];
    for i in 0..60 {
        let meta =
            producer.send_and_wait(ProducerRecord::new(topic, value(i))).await.expect("send");
        assert_eq!(meta.offset, i as i64);
        segments_seen
            .push(broker.admin().describe_topic(topic).expect("describe").partitions[0].segments);
    }
    assert!(
        segments_seen.windows(2).all(|w| w[0] <= w[1]),
        "the segment count never shrinks: {segments_seen:?}"
    );
    let mut pending = Vec::new();
    for i in 60..600 {
        pending.push(producer.send(ProducerRecord::new(topic, value(i))).await.expect("send"));
    }
    producer.flush().await.expect("flush");
    for p in pending {
        p.await.expect("ack");
    }
    let desc = broker.admin().describe_topic(topic).expect("describe").partitions[0].clone();
    let files = segment_files(&data.join(format!("{topic}-0")));
    assert!(desc.segments >= 10, "{} segments", desc.segments);
    assert!(desc.segments > segments_seen[0]);
    assert_eq!(desc.segments, files.len());
    assert_eq!(desc.size_in_bytes, files.iter().map(|(_, s)| s).sum::<u64>());
    for (base, size) in &files[..files.len() - 1] {
        assert!(*size <= 4096, "segment {base} has {size} bytes, over segment.bytes");
    }

    let records = read_partition(&broker, topic, 0).await.expect("read");
    assert_eq!(records.len(), 600);
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.offset, i as i64);
        assert_eq!(r.value.as_deref(), Some(value(i).as_bytes()));
    }
    // Every segment is named after the offset of its first record.
    for (base, _) in &files {
        assert!(records.iter().any(|r| r.offset == *base));
    }
    // A consumer fetching less than one batch at a time still gets everything, in order.
    let tp = TopicPartition::new(topic, 0);
    let consumer = broker
        .consumer(ConsumerConfig {
            max_partition_fetch_bytes: 16,
            max_poll_records: 7,
            ..ConsumerConfig::default().offset_reset(OffsetReset::Earliest)
        })
        .expect("consumer");
    consumer.assign(std::slice::from_ref(&tp)).expect("assign");
    let mut got = Vec::new();
    while got.len() < 600 {
        let batch = consumer.poll(Duration::from_secs(5)).await.expect("poll");
        assert!(!batch.is_empty(), "stopped after {} records", got.len());
        assert!(batch.len() <= 7, "max_poll_records");
        got.extend(batch);
    }
    assert_eq!(got, records);
    broker.close().await.expect("close");
}

/// An acknowledged record must survive a power loss, so the directory entries of what holds it
/// (the partition's directory, a segment just rolled) are synced before the acknowledgement, not
/// only the file's data: with acknowledgements after fsync, no topic directory or `.log` file the
/// broker created is still waiting for its directory to be synced once a send is acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_records_have_durable_directory_entries() {
    let (_root, data) = data_dir();
    let (broker, fs) = sync_on_ack_broker(&data).await;
    let topic = "durable";
    broker
        .admin()
        .create_topic(NewTopic::new(topic, 2).config("segment.bytes", "2048"))
        .await
        .expect("create");
    let partition_dirs = [data.join(format!("{topic}-0")), data.join(format!("{topic}-1"))];
    let exposed = |what: &str| {
        let unsynced = fs.unsynced_entries();
        let bad: Vec<_> = unsynced
            .iter()
            .filter(|p| {
                partition_dirs.contains(p)
                    || p.extension().is_some_and(|e| e == "log")
                        && p.parent().is_some_and(|d| partition_dirs.iter().any(|pd| pd == d))
            })
            .collect();
        assert!(bad.is_empty(), "{what}: not yet durable: {bad:?}");
    };
    exposed("after creating the topic");
    let producer =
        broker.producer(ProducerConfig::default().linger(Duration::ZERO)).expect("producer");
    let mut rolled = 0;
    for i in 0..120 {
        let record =
            ProducerRecord::new(topic, format!("{i:03}-{}", "d".repeat(200))).partition(i % 2);
        producer.send_and_wait(record).await.expect("send");
        exposed(&format!("after the acknowledgement of record {i}"));
        rolled = segment_files(&partition_dirs[0]).len().max(rolled);
    }
    assert!(rolled >= 5, "the test rolled only {rolled} segments");
    broker.close().await.expect("close");
}

/// Group commit: producers waiting for their acknowledgements at the same time share fsyncs, so a
/// partition fsyncs fewer times than it acknowledges batches (with one producer sending one batch at
/// a time it would be one fsync per batch).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_producers_share_fsyncs() {
    let (_root, data) = data_dir();
    let (broker, fs) = sync_on_ack_broker(&data).await;
    broker.admin().create_topic(NewTopic::new("shared", 1)).await.expect("create");
    let (tasks, per_task) = (8, 25);
    let before = fs.syncs();
    let mut handles = Vec::new();
    for t in 0..tasks {
        // A producer each: every send is a batch of its own, acknowledged after an fsync.
        let producer =
            broker.producer(ProducerConfig::default().linger(Duration::ZERO)).expect("producer");
        handles.push(tokio::spawn(async move {
            for i in 0..per_task {
                let record = ProducerRecord::new("shared", format!("{t}-{i}"));
                producer.send_and_wait(record).await.expect("send");
            }
        }));
    }
    for h in handles {
        h.await.expect("task");
    }
    let batches = (tasks * per_task) as u64;
    let syncs = fs.syncs() - before;
    assert!(syncs > 0, "acknowledged without any fsync");
    assert!(
        syncs <= batches * 3 / 4,
        "{syncs} fsyncs for {batches} acknowledged batches: concurrent waits did not share them"
    );
    let records = read_partition(&broker, "shared", 0).await.expect("read");
    assert_eq!(records.len(), tasks * per_task);
    broker.close().await.expect("close");
}

/// Dropping the last `Broker` handle without `close` is a crash-like stop: its background work ends
/// even while a producer made from it lives on, so the dropped broker writes nothing more into its
/// data directory (which a new broker may have opened by then).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_broker_stops_its_background_work() {
    let (_root, data) = data_dir();
    let mut config = BrokerConfig::new(&data);
    config.checkpoint_interval = Duration::from_millis(20);
    let broker = Broker::open(config).await.expect("open");
    broker.admin().create_topic(NewTopic::new("dropped", 1)).await.expect("create");
    let producer = broker
        .producer(ProducerConfig::default().linger(Duration::from_secs(3600)))
        .expect("producer");
    producer.send(ProducerRecord::new("dropped", "v")).await.expect("send");
    producer.flush().await.expect("flush");
    let checkpoint = data.join("recovery-point-offset-checkpoint");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !checkpoint.exists() {
        assert!(std::time::Instant::now() < deadline, "the checkpoint thread never wrote");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(broker);
    tokio::time::sleep(Duration::from_millis(100)).await;
    std::fs::remove_file(&checkpoint).expect("remove the checkpoint");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!checkpoint.exists(), "a dropped broker went on writing checkpoints");
    drop(producer);
}

/// One data directory, one broker: a second open of a directory in use fails with an error that
/// says so (and touches nothing), and succeeds once the first broker is closed or dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_directory_is_opened_by_one_broker_at_a_time() {
    let (_root, data) = data_dir();
    let first = Broker::open(BrokerConfig::new(&data)).await.expect("open");
    first.admin().create_topic(NewTopic::new("locked", 1)).await.expect("create");
    match Broker::open(BrokerConfig::new(&data)).await {
        Err(e @ Error::Storage { .. }) => {
            assert!(e.to_string().contains("in use by another broker"), "unclear error: {e}")
        }
        Err(e) => panic!("expected a storage error, got {e}"),
        Ok(_) => panic!("two brokers opened one data directory"),
    }
    assert_eq!(first.admin().list_topics(), vec!["locked".to_string()], "the first is unharmed");
    first.close().await.expect("close");
    // Closed (the handle still alive): the directory is free.
    let second = Broker::open(BrokerConfig::new(&data)).await.expect("open after close");
    assert_eq!(second.admin().list_topics(), vec!["locked".to_string()]);
    // Dropped without closing (a crash): free again.
    drop(second);
    let third = Broker::open(BrokerConfig::new(&data)).await.expect("open after drop");
    third.close().await.expect("close");
    drop(first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_close_keeps_everything_and_reopens_without_recovery() {
    captured_logs();
    let (_root, data) = data_dir();
    let topic = "restart";
    let broker = Broker::open(BrokerConfig::new(&data)).await.expect("open");
    broker
        .admin()
        .create_topic(
            NewTopic::new(topic, 3).config("segment.bytes", "2048").config("retention.ms", "-1"),
        )
        .await
        .expect("create");
    let producer = broker.producer(ProducerConfig::default()).expect("producer");
    let mut pending = Vec::new();
    for i in 0..900 {
        pending.push(
            producer
                .send(
                    ProducerRecord::new(topic, format!("r{i}-{}", "q".repeat(i % 40)))
                        .key(format!("key{}", i % 17))
                        .header("n", i.to_string()),
                )
                .await
                .expect("send"),
        );
    }
    producer.flush().await.expect("flush");
    for p in pending {
        p.await.expect("ack");
    }
    let mut before = Vec::new();
    for p in 0..3 {
        before.push(read_partition(&broker, topic, p).await.expect("read"));
    }
    let desc_before = broker.admin().describe_topic(topic).expect("describe");
    broker.close().await.expect("close");
    assert!(
        matches!(producer.send(ProducerRecord::new(topic, "late")).await, Err(Error::Shutdown)),
        "clients fail with Shutdown after close"
    );

    // Kafka's clean-shutdown marker and recovery points: nothing to re-check on the next start.
    assert!(data.join(".kafka_cleanshutdown").exists());
    let checkpoint =
        std::fs::read_to_string(data.join("recovery-point-offset-checkpoint")).expect("checkpoint");
    for part in &desc_before.partitions {
        let line = format!("{topic} {} {}", part.partition, part.log_end_offset);
        assert!(
            checkpoint.lines().any(|l| l == line),
            "recovery point of partition {} must be its log end: {checkpoint:?}",
            part.partition
        );
    }

    let broker = Broker::open(BrokerConfig::new(&data)).await.expect("reopen");
    let data_str = data.display().to_string();
    let opened: Vec<String> = log_lines_mentioning("broker opened")
        .into_iter()
        .filter(|l| l.contains(&data_str))
        .collect();
    assert_eq!(opened.len(), 2, "{opened:?}");
    assert!(
        opened[1].contains("clean_shutdown=true"),
        "the reopen after close() must see a clean shutdown: {}",
        opened[1]
    );
    assert!(
        log_lines_mentioning("truncating").iter().all(|l| !l.contains(&data_str)),
        "nothing may be truncated after a clean shutdown"
    );
    assert_eq!(broker.admin().describe_topic(topic).expect("describe"), desc_before);
    for p in 0..3 {
        assert_eq!(
            read_partition(&broker, topic, p).await.expect("read"),
            before[p as usize],
            "partition {p} after a clean restart"
        );
    }
    let meta = broker
        .producer(ProducerConfig::default())
        .expect("producer")
        .send_and_wait(ProducerRecord::new(topic, "next").partition(1))
        .await
        .expect("send");
    assert_eq!(meta.offset, desc_before.partitions[1].log_end_offset);

    // The contrast: a drop without close is an unclean stop, seen as such on the next open.
    drop(broker);
    let broker = Broker::open(BrokerConfig::new(&data)).await.expect("reopen");
    let opened: Vec<String> = log_lines_mentioning("broker opened")
        .into_iter()
        .filter(|l| l.contains(&data_str))
        .collect();
    assert!(opened[2].contains("clean_shutdown=false"), "{}", opened[2]);
    assert_eq!(
        read_partition(&broker, topic, 1).await.expect("read").len() as i64,
        desc_before.partitions[1].log_end_offset + 1
    );
    broker.close().await.expect("close");
}

/// Kafka's `Utils.murmur2`, written from its definition: seed 0x9747b28c, m = 0x5bd1e995, r = 24,
/// little-endian 4-byte words, the tail mixed in from its highest byte down.
fn kafka_murmur2(data: &[u8]) -> i32 {
    const M: u32 = 0x5bd1_e995;
    let mut h: u32 = 0x9747_b28c ^ data.len() as u32;
    let words = data.len() / 4;
    for i in 0..words {
        let w = &data[4 * i..4 * i + 4];
        let mut k = u32::from(w[0])
            | (u32::from(w[1]) << 8)
            | (u32::from(w[2]) << 16)
            | (u32::from(w[3]) << 24);
        k = k.wrapping_mul(M);
        k ^= k >> 24;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M) ^ k;
    }
    let tail = &data[4 * words..];
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

fn kafka_partition(hash: i32, partitions: i32) -> i32 {
    (hash & 0x7fff_ffff) % partitions
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_records_go_where_kafkas_default_partitioner_puts_them() {
    captured_logs();
    // Known answers of Kafka's murmur2 (its own UtilsTest vectors).
    let vectors: [(&[u8], i32); 7] = [
        (b"21", -973_932_308),
        (b"foobar", -790_332_482),
        (b"a-little-bit-long-string", -985_981_536),
        (b"a-little-bit-longer-string", -1_486_304_829),
        (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
        (b"abc", 479_470_107),
        (b"", 275_646_681),
    ];
    for (key, hash) in vectors {
        assert_eq!(kafka_murmur2(key), hash, "reference murmur2 of {key:?}");
    }

    let (_root, data) = data_dir();
    let broker = Broker::open(
        BrokerConfig::new(&data).durability(Durability::Interval(Duration::from_secs(3600))),
    )
    .await
    .expect("open");
    let producer =
        broker.producer(ProducerConfig::default().linger(Duration::ZERO)).expect("producer");
    for n in [1, 2, 3, 7, 12, 50] {
        let topic = format!("keys-{n}");
        broker.admin().create_topic(NewTopic::new(topic.clone(), n)).await.expect("create");
        // The known-answer keys, with partitions computed by hand from the published hashes.
        for (key, hash) in vectors {
            let meta = producer
                .send_and_wait(ProducerRecord::new(topic.clone(), "v").key(Bytes::from_static(key)))
                .await
                .expect("send");
            assert_eq!(
                meta.partition,
                kafka_partition(hash, n),
                "key {:?} with {n} partitions",
                String::from_utf8_lossy(key)
            );
        }
        // Many more keys, including binary ones, against the reference hash.
        for i in 0u32..300 {
            let key: Vec<u8> = match i % 3 {
                0 => format!("user-{i}").into_bytes(),
                1 => i.wrapping_mul(2_654_435_761).to_be_bytes()[..(i as usize % 4) + 1].to_vec(),
                _ => vec![(i % 256) as u8; (i % 11) as usize + 1],
            };
            let expected = kafka_partition(kafka_murmur2(&key), n);
            let meta = producer
                .send_and_wait(ProducerRecord::new(topic.clone(), format!("{i}")).key(key.clone()))
                .await
                .expect("send");
            assert_eq!(meta.partition, expected, "key {key:?} with {n} partitions");
        }
    }
    // Concrete mappings, worked out by hand from the published hashes.
    assert_eq!(kafka_partition(-973_932_308, 12), 0); // "21": 1173551340 % 12
    assert_eq!(kafka_partition(-790_332_482, 12), 6); // "foobar": 1357151166 % 12
    assert_eq!(kafka_partition(479_470_107, 7), 4); // "abc": 479470107 % 7
    // The records are stored where their metadata says.
    let records = read_partition(&broker, "keys-12", 6).await.expect("read");
    assert!(
        records.iter().any(|r| r.key.as_deref() == Some(&b"foobar"[..])),
        "\"foobar\" is stored in partition 6 of 12"
    );
    broker.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_headers_values_and_timestamps_round_trip() {
    captured_logs();
    let (_root, data) = data_dir();
    let broker = Broker::open(BrokerConfig::new(&data)).await.expect("open");
    broker.admin().create_topic(NewTopic::new("fields", 1)).await.expect("create");
    let producer = broker.producer(ProducerConfig::default()).expect("producer");

    let binary: Vec<u8> = (0..=255).collect();
    let mut full = ProducerRecord::new("fields", binary.clone())
        .key(vec![0u8, 159, 146, 150])
        .timestamp(1_600_000_000_123)
        .header("trace", "abc")
        .header("trace", "second value, same name")
        .header("empty", "")
        .header("bin", vec![0u8, 255, 10]);
    full.headers.push(Header { key: "null".into(), value: None });
    full.headers.push(Header { key: "ünïcödé".into(), value: Some(Bytes::from_static(b"x")) });
    let mut tombstone = ProducerRecord::new("fields", "").key("gone").timestamp(0);
    tombstone.value = None;
    let empty = ProducerRecord::new("fields", "").key("").timestamp(1);
    let no_key = ProducerRecord::new("fields", "no key").timestamp(i64::from(i32::MAX) * 1000);
    let sent = vec![full, tombstone, empty, no_key];

    for r in &sent {
        let meta = producer.send_and_wait(r.clone()).await.expect("send");
        assert_eq!(Some(meta.timestamp), r.timestamp, "metadata carries the create time");
    }
    let before = now_ms();
    let meta = producer.send_and_wait(ProducerRecord::new("fields", "now")).await.expect("send");
    let after = now_ms();
    assert!((before..=after).contains(&meta.timestamp), "no timestamp means now");

    let records = read_partition(&broker, "fields", 0).await.expect("read");
    assert_eq!(records.len(), 5);
    for (r, s) in records.iter().zip(&sent) {
        assert_eq!(r.key, s.key, "offset {}", r.offset);
        assert_eq!(r.value, s.value, "offset {}", r.offset);
        assert_eq!(r.headers, s.headers, "offset {}: headers keep order and duplicates", r.offset);
        assert_eq!(Some(r.timestamp), s.timestamp, "offset {}", r.offset);
    }
    assert_eq!(records[1].value, None, "a null value stays null");
    assert_eq!(records[2].value.as_deref(), Some(&b""[..]), "an empty value stays empty");
    assert_eq!(records[2].key.as_deref(), Some(&b""[..]), "an empty key stays empty");
    assert_eq!(records[3].key, None, "a null key stays null");
    assert_eq!(records[4].timestamp, meta.timestamp);

    // Across a restart, too.
    broker.close().await.expect("close");
    let broker = Broker::open(BrokerConfig::new(&data)).await.expect("reopen");
    assert_eq!(read_partition(&broker, "fields", 0).await.expect("read"), records);
    broker.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_append_time_topics_stamp_records_with_the_broker_time() {
    captured_logs();
    let (_root, data) = data_dir();
    let broker = Broker::open(BrokerConfig::new(&data)).await.expect("open");
    broker
        .admin()
        .create_topic(
            NewTopic::new("appended", 1).config("message.timestamp.type", "LogAppendTime"),
        )
        .await
        .expect("create");
    let producer = broker.producer(ProducerConfig::default()).expect("producer");
    let before = now_ms();
    let meta = producer
        .send_and_wait(ProducerRecord::new("appended", "v").timestamp(1000))
        .await
        .expect("send");
    let after = now_ms();
    assert!(
        (before..=after).contains(&meta.timestamp),
        "the acknowledged timestamp is the broker's: {}",
        meta.timestamp
    );
    let records = read_partition(&broker, "appended", 0).await.expect("read");
    assert_eq!(records[0].timestamp, meta.timestamp);
    broker.close().await.expect("close");
}

async fn filled_topic(records: usize) -> (tempfile::TempDir, Broker, TopicPartition) {
    let (root, data) = data_dir();
    let broker = Broker::open(BrokerConfig::new(&data)).await.expect("open");
    broker
        .admin()
        .create_topic(NewTopic::new("seek", 1).config("segment.bytes", "1024"))
        .await
        .expect("create");
    // Batches of many records, so that seeks land inside batches.
    let producer = broker
        .producer(ProducerConfig::default().linger(Duration::from_millis(20)))
        .expect("producer");
    let mut pending = Vec::new();
    for i in 0..records {
        pending
            .push(producer.send(ProducerRecord::new("seek", format!("{i}"))).await.expect("send"));
    }
    producer.flush().await.expect("flush");
    for p in pending {
        p.await.expect("ack");
    }
    (root, broker, TopicPartition::new("seek", 0))
}

fn consumer(broker: &Broker, reset: OffsetReset, max_poll: usize) -> Consumer {
    broker
        .consumer(ConsumerConfig {
            max_poll_records: max_poll,
            ..ConsumerConfig::default().offset_reset(reset)
        })
        .expect("consumer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_seek_and_position() {
    captured_logs();
    let (_root, broker, tp) = filled_topic(100).await;
    let tps = std::slice::from_ref(&tp);

    // Without a position, the reset policy decides where reading starts.
    let earliest = consumer(&broker, OffsetReset::Earliest, 10);
    earliest.assign(tps).expect("assign");
    assert_eq!(earliest.position(&tp).await.expect("position"), 0);
    let latest = consumer(&broker, OffsetReset::Latest, 10);
    latest.assign(tps).expect("assign");
    assert_eq!(latest.position(&tp).await.expect("position"), 100);
    assert!(latest.poll(Duration::from_millis(50)).await.expect("poll").is_empty());
    let none = consumer(&broker, OffsetReset::None, 10);
    none.assign(tps).expect("assign");
    assert!(matches!(none.position(&tp).await, Err(Error::OffsetOutOfRange { .. })));

    // Position is the offset of the next record poll returns.
    let c = &earliest;
    let got = c.poll(Duration::from_secs(5)).await.expect("poll");
    assert_eq!(got.iter().map(|r| r.offset).collect::<Vec<_>>(), (0..10).collect::<Vec<_>>());
    assert_eq!(c.position(&tp).await.expect("position"), 10);
    // Seeking into the middle of a batch starts exactly there.
    for target in [37, 5, 99, 0, 64] {
        c.seek(&tp, target).expect("seek");
        assert_eq!(c.position(&tp).await.expect("position"), target);
        let got = c.poll(Duration::from_secs(5)).await.expect("poll");
        assert_eq!(got.first().map(|r| r.offset), Some(target), "after seek({target})");
        assert_eq!(
            got.first().map(|r| r.value.clone()),
            Some(Some(Bytes::from(target.to_string())))
        );
        let last = got.last().expect("records").offset;
        assert_eq!(c.position(&tp).await.expect("position"), last + 1);
    }
    c.seek_to_end(tps).expect("seek to end");
    assert_eq!(c.position(&tp).await.expect("position"), 100);
    assert!(c.poll(Duration::from_millis(50)).await.expect("poll").is_empty());
    // A record produced now is what the next poll returns.
    let producer = broker.producer(ProducerConfig::default()).expect("producer");
    producer.send_and_wait(ProducerRecord::new("seek", "fresh")).await.expect("send");
    let got = c.poll(Duration::from_secs(5)).await.expect("poll");
    assert_eq!(got.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![100]);
    // The latest-reset consumer also sees only the new record.
    let got = latest.poll(Duration::from_secs(5)).await.expect("poll");
    assert_eq!(got.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![100]);
    c.seek_to_beginning(tps).expect("seek to beginning");
    assert_eq!(c.position(&tp).await.expect("position"), 0);

    // Re-assigning a partition keeps its position; a partition not assigned has none.
    c.seek(&tp, 42).expect("seek");
    c.assign(tps).expect("assign again");
    assert_eq!(c.position(&tp).await.expect("position"), 42);
    let other = TopicPartition::new("seek", 1);
    assert!(c.position(&other).await.is_err());
    assert!(c.seek(&other, 0).is_err());
    c.assign(&[]).expect("unassign");
    assert!(c.assignment().is_empty());
    assert!(c.position(&tp).await.is_err());

    // Out of range: with reset = none the poll fails.
    none.seek(&tp, 500).expect("seek");
    assert!(matches!(
        none.poll(Duration::from_millis(100)).await,
        Err(Error::OffsetOutOfRange { .. })
    ));
    broker.close().await.expect("close");
}

/// Kafka's consumer resets an out-of-range position by its reset policy and returns the records
/// found there in the same poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_after_an_out_of_range_position_returns_records_from_the_reset_position() {
    captured_logs();
    let (_root, broker, tp) = filled_topic(20).await;
    let c = consumer(&broker, OffsetReset::Earliest, 500);
    c.assign(std::slice::from_ref(&tp)).expect("assign");
    c.seek(&tp, 1000).expect("seek");
    let got = c.poll(Duration::from_secs(2)).await.expect("poll");
    assert_eq!(
        got.first().map(|r| r.offset),
        Some(0),
        "the first poll after the reset returns the records at the earliest offset"
    );
    broker.close().await.expect("close");
}
