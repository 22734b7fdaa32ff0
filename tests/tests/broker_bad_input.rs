//! Bad input and a bad disk: invalid topic names, configs, partitions and oversize records are rejected
//! with the documented error and leave no trace; a full disk or failing fsync gives errors, never an
//! acknowledgement for data that is not stored, and the log stays a clean prefix.
//!
//! Replay the randomized full-disk test with `TEST_SEED=<seed>`.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use broker_embedded::{
    Broker, BrokerConfig, ConsumerConfig, DeliveryFuture, Durability, Error, FaultyFileSystem,
    NewTopic, OffsetReset, ProducerConfig, ProducerRecord, RecordMetadata, TopicPartition,
};
use integration_tests::{init_tracing, read_partition, seed_from_env, tree};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A data directory inside its own parent, so that escapes through `..` would show in the parent.
struct Dirs {
    root: tempfile::TempDir,
}

impl Dirs {
    fn new() -> Self {
        Self { root: tempfile::tempdir().expect("tempdir") }
    }
    fn data(&self) -> std::path::PathBuf {
        self.root.path().join("data")
    }
    fn root(&self) -> &Path {
        self.root.path()
    }
}

fn bad_names() -> Vec<String> {
    vec![
        "..".into(),
        ".".into(),
        "../x".into(),
        "../../escape".into(),
        "a".repeat(250),
        "bad\0name".into(),
        "tópico".into(),
        "名前".into(),
        String::new(),
        "a/b".into(),
        "a\\b".into(),
        "has space".into(),
        "/abs".into(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_topic_names_are_rejected_and_touch_nothing() {
    init_tracing();
    let dirs = Dirs::new();
    let broker = Broker::open(BrokerConfig::new(dirs.data())).await.expect("open");
    let admin = broker.admin();
    admin.create_topic(NewTopic::new("existing", 1)).await.expect("create");
    let producer = broker.producer(ProducerConfig::default()).expect("producer");
    producer.send_and_wait(ProducerRecord::new("existing", "kept")).await.expect("send");
    let before = tree(dirs.root());
    assert!(!before.is_empty());

    for name in bad_names() {
        match admin.create_topic(NewTopic::new(name.clone(), 1)).await {
            Err(Error::InvalidTopicName(e)) => assert_eq!(e.name(), name),
            other => panic!("create_topic({name:?}): expected InvalidTopicName, got {other:?}"),
        }
        // Auto-creation through a producer applies the same rule.
        match producer.send(ProducerRecord::new(name.clone(), "v")).await {
            Err(Error::InvalidTopicName(_)) => {}
            other => panic!("send to {name:?}: expected InvalidTopicName, got {other:?}"),
        }
        // Deleting by a bad name must not reach the file system.
        match admin.delete_topic(&name).await {
            Err(Error::InvalidTopicName(_)) => {}
            other => panic!("delete_topic({name:?}): expected InvalidTopicName, got {other:?}"),
        }
        assert!(
            matches!(admin.describe_topic(&name), Err(Error::UnknownTopic(_))),
            "describe_topic({name:?})"
        );
        let consumer = broker.consumer(ConsumerConfig::default()).expect("consumer");
        assert!(
            consumer.assign(&[TopicPartition::new(name.clone(), 0)]).is_err(),
            "assign({name:?}) must fail"
        );
        assert_eq!(tree(dirs.root()), before, "{name:?}: files appeared or vanished");
    }
    assert_eq!(admin.list_topics(), vec!["existing".to_string()]);
    let records = read_partition(&broker, "existing", 0).await.expect("read");
    assert_eq!(records.len(), 1);
    broker.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn longest_legal_topic_name_works_and_survives_reopen() {
    init_tracing();
    let dirs = Dirs::new();
    let name = format!("{}.-_Z9", "n".repeat(244));
    assert_eq!(name.len(), 249);
    let broker = Broker::open(BrokerConfig::new(dirs.data())).await.expect("open");
    broker
        .admin()
        .create_topic(NewTopic::new(name.clone(), 2))
        .await
        .expect("a 249-character name is legal");
    let producer = broker.producer(ProducerConfig::default()).expect("producer");
    let meta = producer
        .send_and_wait(ProducerRecord::new(name.clone(), "v").partition(1))
        .await
        .expect("send");
    assert_eq!((meta.partition, meta.offset), (1, 0));
    broker.close().await.expect("close");
    assert!(dirs.data().join(format!("{name}-1")).is_dir());

    let broker = Broker::open(BrokerConfig::new(dirs.data())).await.expect("reopen");
    assert_eq!(broker.admin().list_topics(), vec![name.clone()]);
    let records = read_partition(&broker, &name, 1).await.expect("read");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].value.as_deref(), Some(&b"v"[..]));
    broker.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_record_is_rejected_and_nothing_is_appended() {
    init_tracing();
    let dirs = Dirs::new();
    let broker = Broker::open(BrokerConfig::new(dirs.data())).await.expect("open");
    broker
        .admin()
        .create_topic(NewTopic::new("small", 1).config("max.message.bytes", "1000"))
        .await
        .expect("create");
    let producer = broker.producer(ProducerConfig::default()).expect("producer");
    let big = vec![b'x'; 2000];
    match producer.send_and_wait(ProducerRecord::new("small", big).key("k")).await {
        Err(Error::RecordTooLarge { size, max }) => {
            assert_eq!(max, 1000);
            assert!(size > 2000, "reported size {size} must cover the record");
        }
        other => panic!("expected RecordTooLarge, got {other:?}"),
    }
    let part = &broker.admin().describe_topic("small").expect("describe").partitions[0];
    assert_eq!((part.log_end_offset, part.high_watermark), (0, 0));
    // The producer is still usable and the next record takes offset 0.
    let meta = producer
        .send_and_wait(ProducerRecord::new("small", vec![b'y'; 500]))
        .await
        .expect("a record under the limit is accepted");
    assert_eq!(meta.offset, 0);
    let records = read_partition(&broker, "small", 0).await.expect("read");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].value.as_ref().map(|v| v.len()), Some(500));
    broker.close().await.expect("close");
}

/// Each record fits under `max.message.bytes`; sent together they would fill one larger batch. Kafka's
/// producer splits such a batch when the broker rejects it, so every record is delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_that_each_fit_are_accepted_when_sent_together() {
    init_tracing();
    let dirs = Dirs::new();
    let broker = Broker::open(BrokerConfig::new(dirs.data())).await.expect("open");
    broker
        .admin()
        .create_topic(NewTopic::new("small", 1).config("max.message.bytes", "1000"))
        .await
        .expect("create");
    let producer = broker
        .producer(ProducerConfig::default().linger(Duration::from_millis(50)))
        .expect("producer");
    let mut pending = Vec::new();
    for i in 0..10 {
        let value = format!("{i:03}{}", "z".repeat(200));
        pending.push(
            producer.send(ProducerRecord::new("small", value).partition(0)).await.expect("send"),
        );
    }
    producer.flush().await.expect("flush");
    for (i, p) in pending.into_iter().enumerate() {
        let meta = p.await.unwrap_or_else(|e| panic!("record {i} of 206 bytes was refused: {e}"));
        assert_eq!(meta.offset, i as i64);
    }
    broker.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_configs_are_rejected_without_side_effects() {
    init_tracing();
    let dirs = Dirs::new();
    let broker = Broker::open(BrokerConfig::new(dirs.data())).await.expect("open");
    let admin = broker.admin();
    let bad: Vec<Vec<(&str, &str)>> = vec![
        vec![("segment.bytes", "13")],
        vec![("segment.bytes", "abc")],
        vec![("segment.bytes", "3000000000")],
        vec![("retention.ms", "-2")],
        vec![("retention.ms", "1h")],
        vec![("cleanup.policy", "bogus")],
        vec![("min.cleanable.dirty.ratio", "1.5")],
        vec![("max.message.bytes", "-1")],
        vec![("message.timestamp.type", "logappendtime")],
        vec![("no.such.config", "1")],
        // One bad value among good ones rejects the whole request.
        vec![("retention.ms", "1000"), ("segment.ms", "0")],
    ];
    let before = tree(dirs.root());
    for configs in &bad {
        let mut topic = NewTopic::new("t", 1);
        for (k, v) in configs {
            topic = topic.config(*k, *v);
        }
        match admin.create_topic(topic).await {
            Err(Error::InvalidConfig(_)) => {}
            other => panic!("create_topic with {configs:?}: expected InvalidConfig, got {other:?}"),
        }
        assert!(admin.list_topics().is_empty(), "{configs:?}: topic created");
        assert_eq!(tree(dirs.root()), before, "{configs:?}: files created");
    }

    admin
        .create_topic(NewTopic::new("t", 1).config("retention.ms", "123456"))
        .await
        .expect("create");
    let props = dirs.data().join("t-0").join("topic.properties");
    let props_before = std::fs::read(&props).expect("topic.properties");
    let configs_before = admin.describe_configs("t").expect("describe configs");
    for configs in &bad {
        let changes = configs.iter().map(|(k, v)| (k.to_string(), Some(v.to_string()))).collect();
        match admin.alter_configs("t", changes).await {
            Err(Error::InvalidConfig(_)) => {}
            other => {
                panic!("alter_configs with {configs:?}: expected InvalidConfig, got {other:?}")
            }
        }
        assert_eq!(
            admin.describe_configs("t").expect("describe configs"),
            configs_before,
            "{configs:?}: config changed"
        );
        assert_eq!(std::fs::read(&props).expect("read"), props_before);
    }
    match admin.alter_configs("t", vec![("no.such.config".into(), None)]).await {
        Err(Error::InvalidConfig(_)) => {}
        other => panic!("resetting an unknown config: expected InvalidConfig, got {other:?}"),
    }
    broker.close().await.expect("close");
    // The rejected changes stay rejected after a restart.
    let broker = Broker::open(BrokerConfig::new(dirs.data())).await.expect("reopen");
    assert_eq!(broker.admin().describe_configs("t").expect("describe"), configs_before);
    broker.close().await.expect("close");
}

/// `min.compaction.lag.ms` may not exceed `max.compaction.lag.ms` (Kafka rejects such a topic).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_lag_conflict_is_rejected() {
    init_tracing();
    let dirs = Dirs::new();
    let broker = Broker::open(BrokerConfig::new(dirs.data())).await.expect("open");
    let admin = broker.admin();
    // Both paths are checked before failing, so one report names every broken path.
    let mut problems = Vec::new();
    let created = admin
        .create_topic(
            NewTopic::new("lag", 1)
                .config("min.compaction.lag.ms", "10")
                .config("max.compaction.lag.ms", "5"),
        )
        .await;
    if !matches!(created, Err(Error::InvalidConfig(_))) {
        problems.push(format!(
            "create_topic with min.compaction.lag.ms 10 > max.compaction.lag.ms 5: expected \
             InvalidConfig, got {created:?}"
        ));
    }
    admin
        .create_topic(NewTopic::new("lag2", 1).config("max.compaction.lag.ms", "5"))
        .await
        .expect("create");
    let before = admin.describe_configs("lag2").expect("describe");
    let altered = admin
        .alter_configs("lag2", vec![("min.compaction.lag.ms".into(), Some("10".into()))])
        .await;
    if !matches!(altered, Err(Error::InvalidConfig(_))) {
        problems.push(format!(
            "alter_configs to min.compaction.lag.ms 10 > max.compaction.lag.ms 5: expected \
             InvalidConfig, got {altered:?}"
        ));
    }
    if admin.describe_configs("lag2").expect("describe") != before {
        problems.push("the rejected alter_configs changed the config".into());
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    broker.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonexistent_partitions_and_topics_are_rejected() {
    init_tracing();
    let dirs = Dirs::new();
    let broker =
        Broker::open(BrokerConfig::new(dirs.data()).auto_create_topics(false)).await.expect("open");
    let admin = broker.admin();
    admin.create_topic(NewTopic::new("two", 2)).await.expect("create");
    let producer = broker.producer(ProducerConfig::default()).expect("producer");
    for p in [2, 3, 1000, -1, -2, i32::MIN, i32::MAX] {
        match producer.send_and_wait(ProducerRecord::new("two", "v").partition(p)).await {
            Err(Error::UnknownPartition { topic, partition }) => {
                assert_eq!((topic.as_str(), partition), ("two", p));
            }
            other => panic!("partition {p}: expected UnknownPartition, got {other:?}"),
        }
        let consumer = broker.consumer(ConsumerConfig::default()).expect("consumer");
        assert!(
            matches!(
                consumer.assign(&[TopicPartition::new("two", p)]),
                Err(Error::UnknownPartition { .. })
            ),
            "assign partition {p}"
        );
        assert!(
            admin
                .list_offsets(&TopicPartition::new("two", p), broker_embedded::OffsetSpec::Latest)
                .await
                .is_err(),
            "list_offsets partition {p}"
        );
    }
    match producer.send_and_wait(ProducerRecord::new("missing", "v")).await {
        Err(Error::UnknownTopic(t)) => assert_eq!(t, "missing"),
        other => panic!("expected UnknownTopic, got {other:?}"),
    }
    for n in [0, -2, -100] {
        assert!(
            matches!(
                admin.create_topic(NewTopic::new("bad-count", n)).await,
                Err(Error::InvalidPartitions(_))
            ),
            "{n} partitions"
        );
    }
    assert!(matches!(admin.create_partitions("two", 1).await, Err(Error::InvalidPartitions(_))));
    assert!(matches!(admin.create_partitions("two", 2).await, Err(Error::InvalidPartitions(_))));
    assert_eq!(admin.list_topics(), vec!["two".to_string()]);
    for p in 0..2 {
        let part = &admin.describe_topic("two").expect("describe").partitions[p];
        assert_eq!(part.log_end_offset, 0, "nothing was appended");
    }
    broker.close().await.expect("close");
}

/// Sends records until the disk fills, then checks on a healed disk after an unclean restart that
/// every acknowledged record is stored at its offset and the log is a dense prefix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_disk_never_acknowledges_lost_records() {
    init_tracing();
    let seed = seed_from_env();
    println!("full disk test: seed {seed} (replay with TEST_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut errored_but_stored = 0usize;
    for iteration in 0..30 {
        let dirs = Dirs::new();
        let fs = FaultyFileSystem::new();
        let config = || BrokerConfig::new(dirs.data()).file_system(Arc::new(fs.clone()));
        let broker = Broker::open(config()).await.expect("open");
        broker
            .admin()
            .create_topic(
                NewTopic::new("full", 2)
                    .config("segment.bytes", "4096")
                    // Index entries on every batch half of the time: more writes that can fail.
                    .config("index.interval.bytes", if iteration % 2 == 0 { "0" } else { "4096" }),
            )
            .await
            .expect("create");
        let budget = rng.random_range(0..40_000u64);
        let context = format!("seed {seed} iteration {iteration} budget {budget}");
        fs.fill_after(budget);

        let producer = broker
            .producer(
                ProducerConfig::default().linger(Duration::from_millis(rng.random_range(0..3))),
            )
            .expect("producer");
        let mut pending: Vec<(String, DeliveryFuture)> = Vec::new();
        let mut outcomes: Vec<(String, Result<RecordMetadata, Error>)> = Vec::new();
        for i in 0..400 {
            let value = format!("{iteration}-{i}-{}", "d".repeat(rng.random_range(0..300)));
            let record =
                ProducerRecord::new("full", value.clone()).partition(rng.random_range(0..2));
            match producer.send(record).await {
                Ok(f) => pending.push((value, f)),
                Err(e) => outcomes.push((value, Err(e))),
            }
            if pending.len() >= 16 || rng.random_bool(0.1) {
                for (v, f) in pending.drain(..) {
                    outcomes.push((v, f.await));
                }
            }
        }
        let _ = producer.flush().await;
        for (v, f) in pending.drain(..) {
            outcomes.push((v, f.await));
        }
        let failures = outcomes.iter().filter(|(_, r)| r.is_err()).count();
        for (_, r) in &outcomes {
            if let Err(e) = r {
                assert!(
                    matches!(e, Error::Storage { .. }),
                    "{context}: a full disk must give storage errors, got {e:?}"
                );
            }
        }
        drop(producer);
        drop(broker);

        fs.heal();
        let broker = Broker::open(config())
            .await
            .unwrap_or_else(|e| panic!("{context}: reopen on a healed disk: {e}"));
        let sent: HashSet<&str> = outcomes.iter().map(|(v, _)| v.as_str()).collect();
        let errored: HashSet<&str> =
            outcomes.iter().filter(|(_, r)| r.is_err()).map(|(v, _)| v.as_str()).collect();
        let mut seen = HashSet::new();
        for p in 0..2 {
            let records = read_partition(&broker, "full", p)
                .await
                .unwrap_or_else(|e| panic!("{context}: read partition {p}: {e}"));
            let mut by_offset: HashMap<i64, &str> = HashMap::new();
            for (i, r) in records.iter().enumerate() {
                assert_eq!(r.offset, i as i64, "{context}: partition {p}: dense offsets");
                let v = std::str::from_utf8(r.value.as_deref().expect("value")).expect("utf-8");
                assert!(sent.contains(v), "{context}: partition {p}: unknown value {v:?}");
                assert!(seen.insert(v.to_string()), "{context}: {v:?} stored twice");
                if errored.contains(v) {
                    errored_but_stored += 1;
                }
                by_offset.insert(r.offset, v);
            }
            for (v, r) in &outcomes {
                if let Ok(meta) = r {
                    if meta.partition == p {
                        assert_eq!(
                            by_offset.get(&meta.offset).copied(),
                            Some(v.as_str()),
                            "{context}: acknowledged record {p}-{} lost or changed",
                            meta.offset
                        );
                    }
                }
            }
            // The healed log takes appends right after its end.
            let end = records.len() as i64;
            let meta = broker
                .producer(ProducerConfig::default())
                .expect("producer")
                .send_and_wait(ProducerRecord::new("full", "after").partition(p))
                .await
                .unwrap_or_else(|e| panic!("{context}: append after heal: {e}"));
            assert_eq!(meta.offset, end, "{context}: partition {p} next offset");
        }
        println!("{context}: {} acknowledged, {failures} failed", outcomes.len() - failures);
        broker.close().await.expect("close");
    }
    println!("full disk test: {errored_but_stored} records reported failed were stored anyway");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_fsync_gives_errors_not_acks() {
    init_tracing();
    let dirs = Dirs::new();
    let fs = FaultyFileSystem::new();
    let config = || {
        BrokerConfig::new(dirs.data())
            .durability(Durability::SyncOnAck)
            .file_system(Arc::new(fs.clone()))
    };
    let broker = Broker::open(config()).await.expect("open");
    broker.admin().create_topic(NewTopic::new("sync", 1)).await.expect("create");
    let producer = broker.producer(ProducerConfig::default()).expect("producer");
    let first = producer
        .send_and_wait(ProducerRecord::new("sync", "durable"))
        .await
        .expect("send before the fault");
    assert_eq!(first.offset, 0);

    fs.fail_syncs(true);
    // Several records in flight share the failing fsync: none may be acknowledged.
    let mut pending = Vec::new();
    for i in 0..20 {
        pending.push(
            producer
                .send(ProducerRecord::new("sync", format!("unsynced-{i}")))
                .await
                .expect("send"),
        );
    }
    let _ = producer.flush().await;
    for (i, p) in pending.into_iter().enumerate() {
        match p.await {
            Err(Error::Storage { .. }) => {}
            other => {
                panic!("record {i} with a failing fsync: expected a storage error, got {other:?}")
            }
        }
    }
    // Consumers never see what was not made durable.
    let part = &broker.admin().describe_topic("sync").expect("describe").partitions[0];
    assert_eq!(part.high_watermark, 1, "unsynced records must stay invisible");
    let consumer = broker
        .consumer(ConsumerConfig::default().offset_reset(OffsetReset::Earliest))
        .expect("consumer");
    let tp = TopicPartition::new("sync", 0);
    consumer.assign(std::slice::from_ref(&tp)).expect("assign");
    let polled = consumer.poll(Duration::from_millis(200)).await.expect("poll");
    assert_eq!(polled.len(), 1);
    assert_eq!(polled[0].value.as_deref(), Some(&b"durable"[..]));

    // Even once fsync works again, the data written around the failed fsync is never acknowledged
    // by this broker instance.
    fs.heal();
    assert!(
        producer.send_and_wait(ProducerRecord::new("sync", "after-heal")).await.is_err(),
        "a log whose fsync failed must not acknowledge more writes before it is reopened"
    );
    drop(consumer);
    drop(producer);
    drop(broker);

    let broker = Broker::open(config()).await.expect("reopen");
    let records = read_partition(&broker, "sync", 0).await.expect("read");
    assert_eq!(records[0].value.as_deref(), Some(&b"durable"[..]));
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.offset, i as i64, "dense offsets after recovery");
    }
    let end = records.len() as i64;
    let meta = broker
        .producer(ProducerConfig::default())
        .expect("producer")
        .send_and_wait(ProducerRecord::new("sync", "after-reopen"))
        .await
        .expect("appends work again after a reopen");
    assert_eq!(meta.offset, end);
    broker.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_on_a_full_disk_fails_cleanly_and_loses_nothing() {
    init_tracing();
    let dirs = Dirs::new();
    let fs = FaultyFileSystem::new();
    let config = || BrokerConfig::new(dirs.data()).file_system(Arc::new(fs.clone()));
    let broker = Broker::open(config()).await.expect("open");
    let producer = broker.producer(ProducerConfig::default()).expect("producer");
    for i in 0..50 {
        producer.send_and_wait(ProducerRecord::new("keep", format!("v{i}"))).await.expect("send");
    }
    drop(producer);
    drop(broker);

    fs.fill_after(0);
    match Broker::open(config()).await {
        Err(Error::Storage { .. }) => {}
        other => panic!("opening with no space left: expected a storage error, got {other:?}"),
    }
    fs.heal();
    let broker = Broker::open(config()).await.expect("open after heal");
    let records = read_partition(&broker, "keep", 0).await.expect("read");
    let values: Vec<String> = records
        .iter()
        .map(|r| String::from_utf8(r.value.clone().expect("value").to_vec()).expect("utf-8"))
        .collect();
    let expected: Vec<String> = (0..50).map(|i| format!("v{i}")).collect();
    assert_eq!(values, expected);
    broker.close().await.expect("close");
}

/// A send that fails because the disk filled up leaves nothing behind: retrying it once the disk has
/// space stores the record exactly once. The budget is swept across the bytes of the batch and of
/// its index entries, so the failure hits every write of the append.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_append_leaves_no_trace_and_a_retry_stores_one_copy() {
    init_tracing();
    let mut problems = Vec::new();
    for extra in 0..48u64 {
        let dirs = Dirs::new();
        let fs = FaultyFileSystem::new();
        let config = || BrokerConfig::new(dirs.data()).file_system(Arc::new(fs.clone()));
        let broker = Broker::open(config()).await.expect("open");
        broker
            .admin()
            .create_topic(NewTopic::new("t", 1).config("index.interval.bytes", "0"))
            .await
            .expect("create");
        let producer = broker.producer(ProducerConfig::default()).expect("producer");
        let size =
            || broker.admin().describe_topic("t").expect("describe").partitions[0].size_in_bytes;
        producer.send_and_wait(ProducerRecord::new("t", "aaaa")).await.expect("send");
        let before = size();
        producer.send_and_wait(ProducerRecord::new("t", "bbbb")).await.expect("send");
        // The next batch has the same size as this one.
        let batch_len = size() - before;
        fs.fill_after(batch_len + extra);
        let first_try = producer.send_and_wait(ProducerRecord::new("t", "cccc")).await;
        fs.heal();
        // What an application does after an error: send the record again. Refusing the retry until
        // a reopen is acceptable; the record must then not be stored at all.
        let retry = match &first_try {
            Ok(_) => None,
            Err(_) => Some(producer.send_and_wait(ProducerRecord::new("t", "cccc")).await),
        };
        drop(producer);
        drop(broker);
        let broker = Broker::open(config()).await.expect("reopen");
        let records = read_partition(&broker, "t", 0).await.expect("read");
        let values: Vec<&[u8]> = records.iter().filter_map(|r| r.value.as_deref()).collect();
        let copies = values.iter().filter(|v| **v == b"cccc").count();
        let acked = first_try.is_ok() || retry.as_ref().is_some_and(|r| r.is_ok());
        let expected = usize::from(acked);
        if copies != expected {
            problems.push(format!(
                "budget batch+{extra}: first send {}, retry {}: {copies} copies stored, expected \
                 {expected}",
                if first_try.is_ok() { "acknowledged" } else { "failed" },
                match &retry {
                    None => "not needed",
                    Some(Ok(_)) => "acknowledged",
                    Some(Err(_)) => "failed",
                },
            ));
        }
        if records.iter().enumerate().any(|(i, r)| r.offset != i as i64) {
            problems.push(format!("budget batch+{extra}: offsets not dense"));
        }
        broker.close().await.expect("close");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// After an fsync failed, the state of the data on disk is unknown (the kernel may have dropped the
/// dirty pages and a later fsync can succeed without writing them). A close must therefore not mark
/// the shutdown clean, so that the next open re-checks the log instead of trusting it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_after_a_failed_fsync_does_not_claim_a_clean_shutdown() {
    init_tracing();
    let dirs = Dirs::new();
    let fs = FaultyFileSystem::new();
    let config = || BrokerConfig::new(dirs.data()).file_system(Arc::new(fs.clone()));
    let broker = Broker::open(config()).await.expect("open");
    let producer = broker.producer(ProducerConfig::default()).expect("producer");
    producer.send_and_wait(ProducerRecord::new("f", "durable")).await.expect("send");
    fs.fail_syncs(true);
    assert!(producer.send_and_wait(ProducerRecord::new("f", "unsynced")).await.is_err());
    fs.heal();
    drop(producer);
    // Whether close reports the earlier failure or not, it must not vouch for the log.
    let closed = broker.close().await;
    assert!(
        !dirs.data().join(".kafka_cleanshutdown").exists(),
        "close() (which returned {closed:?}) wrote the clean-shutdown marker although a log's \
         fsync failed"
    );
    let broker = Broker::open(config()).await.expect("reopen");
    let records = read_partition(&broker, "f", 0).await.expect("read");
    assert_eq!(records[0].value.as_deref(), Some(&b"durable"[..]));
    broker.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_that_collide_by_dot_and_underscore_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = Broker::open(BrokerConfig::new(dir.path())).await.expect("open");
    let admin = broker.admin();
    admin.create_topic(NewTopic::new("orders.eu", 1)).await.expect("first");
    match admin.create_topic(NewTopic::new("orders_eu", 1)).await {
        Err(Error::InvalidTopicName(e)) => {
            assert!(e.to_string().contains("orders.eu"), "names the existing topic: {e}")
        }
        other => panic!("expected a collision error, got {other:?}"),
    }
    assert_eq!(admin.list_topics(), vec!["orders.eu".to_string()]);
    broker.close().await.expect("close");
}
