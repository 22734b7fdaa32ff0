//! Records a task holds in its buffers, read but not processed, when a rebalance takes the task
//! away: its thread keeps some of the partitions or gets them back, and must read those records
//! again (Kafka's eager rebalancing resumes every partition from its committed offset), not go
//! on from where its consumer had read.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use broker_embedded::{Broker, NewTopic, ProducerRecord};
use integration_tests::{
    init_tracing, read_partition, read_partition_until, streams_broker, wait_for_state,
};
use streams_dsl::prelude::*;

const PATIENCE: Duration = Duration::from_secs(60);

/// Produces `values` to partition 0 of `topic`, the record `i` with timestamp `ts + i`.
async fn produce(broker: &Broker, topic: &str, values: &[String], ts: i64) {
    let producer = broker.producer(Default::default()).unwrap();
    for (i, v) in values.iter().enumerate() {
        let record = ProducerRecord::new(topic, v.clone()).key("k").partition(0);
        producer.send(record.timestamp(ts + i as i64)).await.unwrap();
    }
    producer.flush().await.unwrap();
}

fn start(broker: &Broker) -> Arc<KafkaStreams> {
    let builder = StreamsBuilder::new();
    builder.stream_from::<String, String>(&["a", "b"]).to("out");
    // One task reads both topics, and waits (up to an hour) for an empty one before processing
    // the other: records of `a` stay buffered until `b` has one.
    let config = StreamsConfig::new("buffered")
        .max_task_idle_ms(3_600_000)
        .commit_interval(Duration::from_millis(50));
    let app = KafkaStreams::new(builder.build().unwrap(), config, broker).unwrap();
    app.start().unwrap();
    Arc::new(app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_buffered_when_a_rebalance_comes_are_processed_afterwards() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let broker = streams_broker(dir.path()).await.unwrap();
    for topic in ["a", "b", "out"] {
        broker.admin().create_topic(NewTopic::new(topic, 1)).await.unwrap();
    }
    let first = start(&broker);
    assert!(wait_for_state(&first, State::Running, PATIENCE).await);
    let a: Vec<String> = (0..10).map(|i| format!("a{i}")).collect();
    produce(&broker, "a", &a, 1).await;
    // The thread polls them (its poll interval is 100 ms) and buffers them, waiting for `b`.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(read_partition(&broker, "out", 0).await.unwrap().is_empty());

    // A second instance joins: every task is released, and the one task goes to one of them
    // (or stays).
    let second = start(&broker);
    assert!(wait_for_state(&second, State::Running, PATIENCE).await);
    assert!(wait_for_state(&first, State::Running, PATIENCE).await);
    produce(&broker, "b", &["b0".to_string()], 100).await;

    // `b0` lets the records of `a` go (they come before it); it waits itself, now for `a`.
    let want = a;
    let out = read_partition_until(&broker, "out", 0, want.len(), PATIENCE).await.unwrap();
    let got: Vec<String> = out
        .iter()
        .map(|r| String::from_utf8(r.value.as_ref().unwrap().to_vec()).unwrap())
        .collect();
    assert_eq!(got, want, "records of `a` read before the rebalance were lost");
    for app in [second, first] {
        let closed = tokio::task::spawn_blocking(move || app.close(PATIENCE)).await.unwrap();
        assert!(closed);
    }
    broker.close().await.unwrap();
}
