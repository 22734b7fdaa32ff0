//! A stream read from a topic pattern picks up topics created while the application runs, as
//! Kafka Streams does (the consumer's next metadata refresh), and only whole-name matches.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use broker_embedded::{Broker, NewTopic, ProducerRecord};
use integration_tests::{
    init_tracing, read_partition, read_partition_until, streams_broker, wait_for_state,
};
use streams_dsl::prelude::*;

const PATIENCE: Duration = Duration::from_secs(60);

async fn produce(broker: &Broker, topic: &str, partition: i32, value: &str) {
    let producer = broker.producer(Default::default()).unwrap();
    let record = ProducerRecord::new(topic, value.to_string()).key("k").partition(partition);
    producer.send(record).await.unwrap();
}

/// The values in `out`, once there are `want` (or the deadline passed).
async fn wait_values(broker: &Broker, want: usize) -> BTreeSet<String> {
    let out = read_partition_until(broker, "out", 0, want, PATIENCE).await.unwrap();
    let values = out.iter().map(|r| r.value.as_ref().unwrap().to_vec());
    values.map(|v| String::from_utf8(v).unwrap()).collect()
}

fn set(values: &[&str]) -> BTreeSet<String> {
    values.iter().map(|v| v.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pattern_stream_reads_topics_created_while_it_runs() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let broker = streams_broker(dir.path()).await.unwrap();
    for (topic, partitions) in [("t-1", 1), ("out", 1)] {
        broker.admin().create_topic(NewTopic::new(topic, partitions)).await.unwrap();
    }
    let builder = StreamsBuilder::new();
    builder.stream_pattern::<String, String>("t-\\d+", Consumed::default()).to("out");
    let config = StreamsConfig::new("patterns").num_stream_threads(2);
    let app = Arc::new(KafkaStreams::new(builder.build().unwrap(), config, &broker).unwrap());
    app.start().unwrap();
    assert!(wait_for_state(&app, State::Running, PATIENCE).await);

    produce(&broker, "t-1", 0, "x1").await;
    assert_eq!(wait_values(&broker, 1).await, set(&["x1"]));

    // Created later: a matching topic with two partitions, and two that do not match whole.
    for (topic, partitions) in [("t-2", 2), ("u-1", 1), ("t-3b", 1)] {
        broker.admin().create_topic(NewTopic::new(topic, partitions)).await.unwrap();
    }
    for (topic, partition, value) in
        [("t-2", 0, "y1"), ("t-2", 1, "y2"), ("u-1", 0, "no"), ("t-3b", 0, "no"), ("t-1", 0, "x2")]
    {
        produce(&broker, topic, partition, value).await;
    }
    assert_eq!(wait_values(&broker, 4).await, set(&["x1", "x2", "y1", "y2"]));
    let closing = app.clone();
    assert!(tokio::task::spawn_blocking(move || closing.close(PATIENCE)).await.unwrap());
    // Nothing else came (the non-matching topics were never read).
    assert_eq!(read_partition(&broker, "out", 0).await.unwrap().len(), 4);
    broker.close().await.unwrap();
}
