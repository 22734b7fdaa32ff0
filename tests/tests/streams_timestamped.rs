//! Timestamped tables on the embedded broker: a count's store keeps each aggregate's timestamp
//! (the latest of its records'), queries read it, the changelog holds Kafka's format (the plain
//! value, stamped with that timestamp), and a restore from the changelog alone brings the
//! timestamps back.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use broker_embedded::{
    Broker, ConsumerConfig, NewTopic, OffsetReset, ProducerRecord, TopicPartition,
};
use integration_tests::{init_tracing, streams_broker};
use streams_dsl::prelude::*;

const APP: &str = "ts-app";

fn app(broker: &Broker, state: &std::path::Path) -> Arc<KafkaStreams> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("events")
        .group_by_key()
        .count_with(Materialized::as_("counts"));
    let config =
        StreamsConfig::new(APP).commit_interval(Duration::from_millis(100)).state_dir(state);
    Arc::new(KafkaStreams::new(builder.build().unwrap(), config, broker).unwrap())
}

async fn wait_running(app: &Arc<KafkaStreams>) {
    let a = app.clone();
    let running = tokio::task::spawn_blocking(move || {
        a.wait_for_state(State::Running, Duration::from_secs(60))
    })
    .await
    .unwrap();
    assert!(running, "the application did not reach Running");
}

/// Polls the timestamped view until it shows `expected`.
async fn wait_for(app: &Arc<KafkaStreams>, expected: &BTreeMap<String, (i64, i64)>) {
    let store =
        app.timestamped_store::<String, i64>(StoreQueryParameters::from_name("counts")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut got = BTreeMap::new();
        for (k, v) in store.all().unwrap_or_default() {
            got.insert(k, (v.value, v.timestamp));
        }
        if &got == expected {
            return;
        }
        assert!(Instant::now() < deadline, "store shows {got:?}, expected {expected:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn timestamps_survive_the_changelog_and_a_restore() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let broker = streams_broker(dir.path()).await.unwrap();
    broker.admin().create_topic(NewTopic::new("events", 1)).await.unwrap();

    let producer = broker.producer(Default::default()).unwrap();
    for (key, ts) in [("a", 1_000), ("a", 3_000), ("b", 2_000), ("a", 1_500)] {
        let r = ProducerRecord::new("events", "x").key(key).timestamp(ts);
        drop(producer.send(r).await.unwrap());
    }
    producer.flush().await.unwrap();
    // count, timestamp of the latest record
    let expected: BTreeMap<String, (i64, i64)> =
        [("a".to_string(), (3, 3_000)), ("b".to_string(), (1, 2_000))].into();

    let state = dir.path().join("state");
    let first = app(&broker, &state);
    first.start().unwrap();
    wait_running(&first).await;
    wait_for(&first, &expected).await;
    // The plain view of the same store gives the counts alone.
    let plain = first.store::<String, i64>(StoreQueryParameters::from_name("counts")).unwrap();
    assert_eq!(plain.get(&"a".to_string()).unwrap(), Some(3));
    let f = first.clone();
    tokio::task::spawn_blocking(move || f.close(Duration::from_secs(30))).await.unwrap();

    // The changelog: the plain 8-byte count, stamped with the aggregate's timestamp.
    let consumer =
        broker.consumer(ConsumerConfig::default().offset_reset(OffsetReset::Earliest)).unwrap();
    let changelog = format!("{APP}-counts-changelog");
    consumer.assign(&[TopicPartition::new(changelog.clone(), 0)]).unwrap();
    let mut latest = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while latest.len() < expected.len() || latest != expected {
        assert!(Instant::now() < deadline, "changelog holds {latest:?}, expected {expected:?}");
        for r in consumer.poll(Duration::from_millis(200)).await.unwrap() {
            let key = String::from_utf8(r.key.unwrap().to_vec()).unwrap();
            let value = r.value.unwrap();
            assert_eq!(value.len(), 8, "a changelog value is the plain count, not [ts][count]");
            let count = i64::from_be_bytes(value[..].try_into().unwrap());
            latest.insert(key, (count, r.timestamp));
        }
    }
    drop(consumer);

    // A new instance with no local state restores from the changelog alone.
    std::fs::remove_dir_all(&state).unwrap();
    let second = app(&broker, &state);
    second.start().unwrap();
    wait_running(&second).await;
    wait_for(&second, &expected).await;
    let s = second.clone();
    tokio::task::spawn_blocking(move || s.close(Duration::from_secs(30))).await.unwrap();
}
