//! Failures in a running application: what the uncaught-error handler's three answers do, the
//! state listener's view of a life, and poisoned input going to a dead-letter topic on the broker.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use broker_embedded::{Broker, BrokerConfig, NewTopic, ProducerRecord};
use bytes::Bytes;
use integration_tests::{init_tracing, read_partition};
use streams_dsl::prelude::*;

async fn broker(dir: &std::path::Path) -> Broker {
    let mut config = BrokerConfig::new(dir.join("broker"));
    config.group_initial_rebalance_delay = Duration::from_millis(10);
    let broker = Broker::open(config).await.unwrap();
    broker.admin().create_topic(NewTopic::new("input", 2)).await.unwrap();
    broker.admin().create_topic(NewTopic::new("output", 2)).await.unwrap();
    broker
}

async fn send(broker: &Broker, values: &[&[u8]]) {
    let producer = broker.producer(Default::default()).unwrap();
    for (i, v) in values.iter().enumerate() {
        let record = ProducerRecord::new("input", Bytes::copy_from_slice(v)).key(format!("k{i}"));
        producer.send(record).await.unwrap();
    }
    producer.flush().await.unwrap();
}

async fn values(broker: &Broker, topic: &str, partitions: i32) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for p in 0..partitions {
        for r in read_partition(broker, topic, p).await.unwrap() {
            out.push(r.value.map(|v| v.to_vec()).unwrap_or_default());
        }
    }
    out.sort();
    out
}

/// A topology whose processor fails on the value "boom" while `armed` holds.
fn failing_app(
    broker: &Broker,
    dir: &std::path::Path,
    app_id: &str,
    armed: Arc<AtomicBool>,
) -> Arc<KafkaStreams> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .process(move || Boom { armed: armed.clone() })
        .to("output");
    let config = StreamsConfig::new(app_id)
        .num_stream_threads(2)
        .commit_interval(Duration::from_millis(50))
        .state_dir(dir);
    Arc::new(KafkaStreams::new(builder.build().unwrap(), config, broker).unwrap())
}

struct Boom {
    armed: Arc<AtomicBool>,
}

impl Processor<String, String> for Boom {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<String, String>,
        r: Record<String, String>,
    ) -> Result<(), ProcessError> {
        if r.value == "boom" && self.armed.swap(false, Ordering::SeqCst) {
            return Err("the value was boom".into());
        }
        ctx.forward(r);
        Ok(())
    }
}

async fn wait_state(app: &Arc<KafkaStreams>, state: State) -> bool {
    integration_tests::wait_for_state(app, state, Duration::from_secs(60)).await
}

async fn wait_values(broker: &Broker, want: usize) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = values(broker, "output", 2).await;
        if v.len() >= want || Instant::now() > deadline {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_client_is_the_default_and_ends_in_error() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let broker = broker(dir.path()).await;
    let app = failing_app(&broker, dir.path(), "fails", Arc::new(AtomicBool::new(true)));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    app.set_state_listener(move |new, old| log.lock().unwrap().push((old, new)));
    app.start().unwrap();
    send(&broker, &[b"a", b"boom", b"b"]).await;
    assert!(wait_state(&app, State::Error).await, "state {:?}", app.state());
    let why = app.failure().unwrap();
    assert!(why.contains("KSTREAM-PROCESSOR-0000000001") && why.contains("boom"), "{why}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.first(), Some(&(State::Created, State::Rebalancing)));
    assert!(
        seen.contains(&(State::Running, State::PendingError))
            || seen.contains(&(State::Rebalancing, State::PendingError)),
        "{seen:?}"
    );
    assert_eq!(seen.last(), Some(&(State::PendingError, State::Error)));
    assert!(app.close(Duration::from_secs(10)));
    assert_eq!(app.state(), State::Error);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replace_thread_keeps_the_application_running_and_loses_nothing() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let broker = broker(dir.path()).await;
    let app = failing_app(&broker, dir.path(), "replaces", Arc::new(AtomicBool::new(true)));
    app.set_uncaught_exception_handler(|_| StreamThreadExceptionResponse::ReplaceThread);
    app.start().unwrap();
    assert!(wait_state(&app, State::Running).await);
    let before: Vec<String> =
        app.metadata_for_local_threads().into_iter().map(|t| t.thread_name).collect();
    let values: Vec<Vec<u8>> = (0..50)
        .map(|i| if i == 25 { b"boom".to_vec() } else { format!("v{i}").into_bytes() })
        .collect();
    let refs: Vec<&[u8]> = values.iter().map(Vec::as_slice).collect();
    send(&broker, &refs).await;
    // The failed record is processed again by the replacement thread, and passes this time.
    let out = wait_values(&broker, 50).await;
    let distinct: std::collections::BTreeSet<Vec<u8>> = out.into_iter().collect();
    assert_eq!(distinct.len(), 50, "every record, the failed one included, reaches the output");
    assert!(wait_state(&app, State::Running).await);
    let after: Vec<String> =
        app.metadata_for_local_threads().into_iter().map(|t| t.thread_name).collect();
    assert_ne!(before, after, "one thread was replaced by a new one");
    assert!(after.iter().any(|n| n.ends_with("StreamThread-3")), "{after:?}");
    assert!(app.close(Duration::from_secs(30)));
    assert_eq!(app.state(), State::NotRunning);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_application_stops_every_instance() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let broker = broker(dir.path()).await;
    let armed = Arc::new(AtomicBool::new(true));
    let a = failing_app(&broker, &dir.path().join("a"), "whole-app", armed.clone());
    let b = failing_app(&broker, &dir.path().join("b"), "whole-app", armed);
    for app in [&a, &b] {
        app.set_uncaught_exception_handler(|_| StreamThreadExceptionResponse::ShutdownApplication);
        app.start().unwrap();
    }
    assert!(wait_state(&a, State::Running).await && wait_state(&b, State::Running).await);
    send(&broker, &[b"x", b"boom", b"y", b"z"]).await;
    assert!(wait_state(&a, State::Error).await, "a: {:?}", a.state());
    assert!(wait_state(&b, State::Error).await, "b: {:?}", b.state());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn poisoned_records_go_to_the_dead_letter_topic_and_the_rest_through() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let broker = broker(dir.path()).await;
    broker.admin().create_topic(NewTopic::new("dlq", 1)).await.unwrap();
    let builder = StreamsBuilder::new();
    builder.stream::<String, String>("input").map_values(|v| v.to_uppercase()).to("output");
    let config = StreamsConfig::new("dlq-app")
        .commit_interval(Duration::from_millis(50))
        .deserialization_error_handler(DeadLetterQueue::new("dlq"))
        .state_dir(dir.path());
    let app = Arc::new(KafkaStreams::new(builder.build().unwrap(), config, &broker).unwrap());
    app.start().unwrap();
    let mut input: Vec<Vec<u8>> = Vec::new();
    for i in 0..40 {
        input.push(if i % 10 == 3 {
            vec![0xff, 0xfe, i as u8]
        } else {
            format!("ok{i}").into_bytes()
        });
    }
    let refs: Vec<&[u8]> = input.iter().map(Vec::as_slice).collect();
    send(&broker, &refs).await;
    let out = wait_values(&broker, 36).await;
    let expected: Vec<Vec<u8>> = {
        let mut e: Vec<Vec<u8>> =
            (0..40).filter(|i| i % 10 != 3).map(|i| format!("OK{i}").into_bytes()).collect();
        e.sort();
        e
    };
    assert_eq!(out, expected, "every good record, once");
    let deadline = Instant::now() + Duration::from_secs(30);
    let dead = loop {
        let dead = read_partition(&broker, "dlq", 0).await.unwrap();
        if dead.len() >= 4 || Instant::now() > deadline {
            break dead;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(dead.len(), 4, "exactly the bad records");
    for r in &dead {
        let v = r.value.as_ref().unwrap();
        assert_eq!(&v[..2], &[0xff, 0xfe], "original bytes");
        let header = |k: &str| r.headers.iter().find(|h| h.key == k).and_then(|h| h.value.clone());
        assert_eq!(header("__streams.errors.topic").as_deref(), Some(&b"input"[..]));
        assert!(
            header("__streams.errors.message")
                .is_some_and(|m| String::from_utf8_lossy(&m).contains("UTF-8"))
        );
        assert!(header("__streams.errors.offset").is_some());
    }
    assert_eq!(app.state(), State::Running);
    assert!(app.close(Duration::from_secs(30)));
}
