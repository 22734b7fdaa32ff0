//! Sub-topologies of batching processors (`filter`, `map_values`, ... into a sink) move a
//! partition's records through the task a run at a time. What users rely on must not change:
//! output order, exactly the bad records skipped, the error handlers told which record failed,
//! offsets committed past every record, and timestamp order across a task's partitions.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use broker_embedded::{
    Broker, BrokerConfig, ConsumerConfig, NewTopic, ProducerRecord, TopicPartition,
};
use bytes::Bytes;
use integration_tests::{init_tracing, read_partition};
use streams_core::ErrorContext;
use streams_dsl::prelude::*;

async fn broker(dir: &std::path::Path) -> Broker {
    let mut config = BrokerConfig::new(dir.join("broker"));
    config.group_initial_rebalance_delay = Duration::from_millis(10);
    Broker::open(config).await.unwrap()
}

/// Loads `values` into partition 0 of `topic`, timestamps from `ts`, before any application runs,
/// so that its stream thread polls them in long runs.
async fn load(broker: &Broker, topic: &str, values: &[Vec<u8>], ts: impl Fn(usize) -> i64) {
    load_keyed(broker, topic, values, |i| format!("k{i}").into_bytes(), ts).await
}

/// [`load`] with the key of each record from `key`.
async fn load_keyed(
    broker: &Broker,
    topic: &str,
    values: &[Vec<u8>],
    key: impl Fn(usize) -> Vec<u8>,
    ts: impl Fn(usize) -> i64,
) {
    let producer = broker.producer(Default::default()).unwrap();
    for (i, v) in values.iter().enumerate() {
        let record = ProducerRecord::new(topic, Bytes::copy_from_slice(v))
            .key(key(i))
            .partition(0)
            .timestamp(ts(i));
        producer.send_detached(record).await.unwrap();
    }
    producer.flush().await.unwrap();
}

async fn wait_output(broker: &Broker, topic: &str, want: usize) -> Vec<(String, i64)> {
    let out = wait_output_keyed(broker, topic, want).await;
    out.into_iter().map(|(_, v, ts)| (v, ts)).collect()
}

/// The `(key, value, timestamp)` of each record of partition 0 of `topic` (nulls as empty
/// strings), once there are `want` of them (or a minute has passed).
async fn wait_output_keyed(
    broker: &Broker,
    topic: &str,
    want: usize,
) -> Vec<(String, String, i64)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let text = |b: Option<Bytes>| b.map(|b| String::from_utf8(b.to_vec()).unwrap());
    loop {
        let out = read_partition(broker, topic, 0).await.unwrap();
        if out.len() >= want || Instant::now() > deadline {
            return out
                .into_iter()
                .map(|r| {
                    (
                        text(r.key).unwrap_or_default(),
                        text(r.value).unwrap_or_default(),
                        r.timestamp,
                    )
                })
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Records the offsets of the records its failures name, and lets the task go on.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<i64>>>);

impl ErrorHandler for Recorder {
    fn handle(&self, ctx: &ErrorContext<'_>) -> ErrorResponse {
        self.0.lock().unwrap().push(ctx.record.map_or(-1, |r| r.offset));
        ErrorResponse::Continue
    }
    fn reads_record_bytes(&self) -> bool {
        false
    }
}

/// Strings, except that values starting with "FAIL" do not serialize.
struct Picky;

impl Serde<String> for Picky {
    fn serialize(&self, _topic: &str, value: &String) -> Result<Option<Bytes>, SerdeError> {
        if value.starts_with("FAIL") {
            return Err(SerdeError::new(format!("refusing {value}")));
        }
        Ok(Some(Bytes::copy_from_slice(value.as_bytes())))
    }
    fn deserialize(&self, _topic: &str, bytes: Option<&Bytes>) -> Result<String, SerdeError> {
        let bytes = bytes.ok_or_else(|| SerdeError::new("null"))?;
        String::from_utf8(bytes.to_vec()).map_err(|e| SerdeError::new(e.to_string()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batched_chain_keeps_order_and_names_each_bad_record() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let broker = broker(dir.path()).await;
    for t in ["input", "output"] {
        broker.admin().create_topic(NewTopic::new(t, 1)).await.unwrap();
    }
    const N: usize = 3000;
    // Every 97th value is not UTF-8 (fails to deserialize), every 89th is dropped by the filter,
    // every 61st fails to serialize in the sink; every 83rd key is not UTF-8, and every 53rd
    // record gets a key that fails to serialize in the sink. (Sources and sinks convert keys and
    // values a column at a time: a bad value is found after the keys of the records behind it,
    // and the other way round.)
    let bad_key = |i: usize| i % 83 == 11;
    let unwritable_key = |i: usize| i % 53 == 9;
    let input: Vec<Vec<u8>> = (0..N)
        .map(|i| match i {
            i if i % 97 == 5 => vec![0xff, 0xfe, i as u8],
            i if i % 89 == 7 => format!("drop{i}").into_bytes(),
            i if i % 61 == 3 => format!("fail{i}").into_bytes(),
            i => format!("v{i}").into_bytes(),
        })
        .collect();
    let key = |i: usize| match bad_key(i) {
        true => vec![0xc3, 0x28, i as u8],
        false => format!("k{i}").into_bytes(),
    };
    load_keyed(&broker, "input", &input, key, |i| 1_000 + i as i64).await;
    let (bad_input, bad_output) = (Recorder::default(), Recorder::default());
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .filter(|_, v| !v.starts_with("drop"))
        .select_key(move |k, _| {
            let i: usize = k[1..].parse().unwrap();
            if unwritable_key(i) { format!("FAIL{i}") } else { k.clone() }
        })
        .map_values(|v| v.to_uppercase())
        .to_with("output", Produced::with(Picky, Picky));
    let config = StreamsConfig::new("batched")
        .commit_interval(Duration::from_millis(50))
        .deserialization_error_handler(bad_input.clone())
        .production_error_handler(bad_output.clone())
        .state_dir(dir.path());
    let app = KafkaStreams::new(builder.build().unwrap(), config, &broker).unwrap();
    app.start().unwrap();

    let kept = |i: &usize| {
        i % 97 != 5 && i % 89 != 7 && i % 61 != 3 && !bad_key(*i) && !unwritable_key(*i)
    };
    let expected: Vec<(String, String, i64)> =
        (0..N).filter(kept).map(|i| (format!("k{i}"), format!("V{i}"), 1_000 + i as i64)).collect();
    let out = wait_output_keyed(&broker, "output", expected.len()).await;
    assert_eq!(
        out, expected,
        "every good record, once, in input order, with its own key and timestamp"
    );
    let offsets = |pick: fn(usize) -> bool| -> Vec<i64> {
        (0..N).filter(|i| pick(*i)).map(|i| i as i64).collect()
    };
    let undecodable = offsets(|i| i % 97 == 5 || i % 83 == 11);
    let unserializable =
        offsets(|i| (i % 61 == 3 || i % 53 == 9) && i % 97 != 5 && i % 89 != 7 && i % 83 != 11);
    let deadline = Instant::now() + Duration::from_secs(30);
    while bad_output.0.lock().unwrap().len() < unserializable.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        *bad_input.0.lock().unwrap(),
        undecodable,
        "the deserialization handler saw exactly the undecodable records, in order"
    );
    assert_eq!(
        *bad_output.0.lock().unwrap(),
        unserializable,
        "the production handler was told the input record of each key or value that did not serialize"
    );
    assert!(app.close(Duration::from_secs(30)));
    let consumer = broker.consumer(ConsumerConfig::group("batched")).unwrap();
    let committed = consumer.committed(&[TopicPartition::new("input", 0)]).await.unwrap();
    assert_eq!(
        committed[0].1.as_ref().map(|o| o.offset),
        Some(N as i64),
        "the committed offset is past every record, the skipped ones included"
    );
}

/// A task reading two topics processes their records in timestamp order, also when each
/// topic's records arrive in long runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn runs_from_two_partitions_interleave_by_timestamp() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let broker = broker(dir.path()).await;
    for t in ["left", "right", "merged"] {
        broker.admin().create_topic(NewTopic::new(t, 1)).await.unwrap();
    }
    const N: usize = 1500;
    // Left has even timestamps in bursts of ten, right odd ones: 0,2,..,18 then 1,3,..,19, ...
    let ts = |side: i64| {
        move |i: usize| {
            let (burst, k) = (i as i64 / 10, i as i64 % 10);
            burst * 20 + 2 * k + side
        }
    };
    let left: Vec<Vec<u8>> = (0..N).map(|i| format!("l{i}").into_bytes()).collect();
    let right: Vec<Vec<u8>> = (0..N).map(|i| format!("r{i}").into_bytes()).collect();
    load(&broker, "left", &left, ts(0)).await;
    load(&broker, "right", &right, ts(1)).await;
    let builder = StreamsBuilder::new();
    builder
        .stream_from::<String, String>(&["left", "right"])
        .map_values(|v| v.to_uppercase())
        .to("merged");
    let config = StreamsConfig::new("interleaved")
        // Wait for a partition whose records have not been fetched yet, rather than run ahead.
        .max_task_idle_ms(5_000)
        .state_dir(dir.path());
    let app = KafkaStreams::new(builder.build().unwrap(), config, &broker).unwrap();
    app.start().unwrap();
    let out = wait_output(&broker, "merged", 2 * N).await;
    assert_eq!(out.len(), 2 * N);
    let timestamps: Vec<i64> = out.iter().map(|(_, t)| *t).collect();
    let mut sorted = timestamps.clone();
    sorted.sort_unstable();
    assert_eq!(timestamps, sorted, "records leave in timestamp order");
    let (l, r) = (ts(0), ts(1));
    assert_eq!(out[0], ("L0".to_string(), l(0)));
    assert_eq!(out[1], ("R0".to_string(), r(0)));
    assert!(app.close(Duration::from_secs(30)));
}

/// `flat_map_values` and `flat_map` in a run: each input record's outputs, in order, with its
/// timestamp, and none for a record that yields nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn flat_maps_in_runs_keep_each_records_outputs_together_and_in_order() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let broker = broker(dir.path()).await;
    for t in ["lines", "words"] {
        broker.admin().create_topic(NewTopic::new(t, 1)).await.unwrap();
    }
    const N: usize = 1200;
    // Line i holds i % 4 words.
    let line = |i: usize| (0..i % 4).map(|w| format!("w{i}.{w}")).collect::<Vec<_>>().join(" ");
    let input: Vec<Vec<u8>> = (0..N).map(|i| line(i).into_bytes()).collect();
    load(&broker, "lines", &input, |i| 5_000 + i as i64).await;
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("lines")
        .flat_map_values(|v: String| v.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .flat_map(|_, w: String| vec![(w.clone(), w.to_uppercase())])
        .to("words");
    let config = StreamsConfig::new("flat").state_dir(dir.path());
    let app = KafkaStreams::new(builder.build().unwrap(), config, &broker).unwrap();
    app.start().unwrap();
    let expected: Vec<(String, i64)> = (0..N)
        .flat_map(|i| (0..i % 4).map(move |w| (format!("W{i}.{w}"), 5_000 + i as i64)))
        .collect();
    let out = wait_output(&broker, "words", expected.len()).await;
    assert_eq!(out, expected);
    assert!(app.close(Duration::from_secs(30)));
}
