//! An application's life on the embedded broker as Kafka Streams users rely on it: the state
//! listener's transitions from start to close, `close` timing out on a blocked thread, commits on
//! `commit.interval.ms` apart from the commit at shutdown, repartition topics created with the
//! right names and partition counts, and exactly-once refused until it exists.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use broker_embedded::{Broker, ConsumerConfig, NewTopic, ProducerRecord, TopicPartition};
use integration_tests::{init_tracing, read_partition, streams_broker};
use streams_dsl::prelude::*;

/// A generous bound for anything the tests wait for.
const PATIENCE: Duration = Duration::from_secs(60);

/// A broker with the topics `(name, partitions)`.
async fn broker_with(dir: &std::path::Path, topics: &[(&str, i32)]) -> Broker {
    let broker = streams_broker(dir).await.unwrap();
    for (name, partitions) in topics {
        broker.admin().create_topic(NewTopic::new(*name, *partitions)).await.unwrap();
    }
    broker
}

/// Produces `(key, value)` records to `topic` (partitioned by key) and waits for them all.
async fn produce(broker: &Broker, topic: &str, records: &[(String, String)]) {
    let producer = broker.producer(Default::default()).unwrap();
    for (k, v) in records {
        producer.send(ProducerRecord::new(topic, v.clone()).key(k.clone())).await.unwrap();
    }
    producer.flush().await.unwrap();
}

/// Every record of every partition of `topic`, as `(partition, key, value)`.
async fn read_all(broker: &Broker, topic: &str) -> Vec<(i32, String, Vec<u8>)> {
    let partitions = broker.admin().describe_topic(topic).unwrap().partitions.len() as i32;
    let mut out = Vec::new();
    for p in 0..partitions {
        for r in read_partition(broker, topic, p).await.unwrap() {
            let key = r.key.map(|k| String::from_utf8(k.to_vec()).unwrap()).unwrap_or_default();
            out.push((p, key, r.value.map(|v| v.to_vec()).unwrap_or_default()));
        }
    }
    out
}

/// Reads `topic` until it holds at least `want` records (or the deadline passes).
async fn wait_records(broker: &Broker, topic: &str, want: usize) -> Vec<(i32, String, Vec<u8>)> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let out = read_all(broker, topic).await;
        if out.len() >= want || Instant::now() > deadline {
            return out;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The offset group `group` committed for `topic`/`partition`, if any (read without joining).
async fn committed(broker: &Broker, group: &str, topic: &str, partition: i32) -> Option<i64> {
    let consumer = broker.consumer(ConsumerConfig::group(group)).unwrap();
    let got = consumer.committed(&[TopicPartition::new(topic, partition)]).await.unwrap();
    got[0].1.as_ref().map(|o| o.offset)
}

async fn wait_state(app: &Arc<KafkaStreams>, state: State) -> bool {
    integration_tests::wait_for_state(app, state, PATIENCE).await
}

/// `close(timeout)` off the async workers (it blocks while the threads commit through the broker).
async fn close(app: &Arc<KafkaStreams>, timeout: Duration) -> bool {
    let app = app.clone();
    tokio::task::spawn_blocking(move || app.close(timeout)).await.unwrap()
}

/// An application copying `input` to `output`.
fn copier(broker: &Broker, dir: &std::path::Path, config: StreamsConfig) -> Arc<KafkaStreams> {
    let builder = StreamsBuilder::new();
    builder.stream::<String, String>("input").to("output");
    Arc::new(KafkaStreams::new(builder.build().unwrap(), config.state_dir(dir), broker).unwrap())
}

/// Records the listener's calls as `(old, new)`.
fn listen(app: &KafkaStreams) -> Arc<Mutex<Vec<(State, State)>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    app.set_state_listener(move |new, old| log.lock().unwrap().push((old, new)));
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_state_listener_sees_kafkas_transitions_from_start_to_close() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let broker = broker_with(dir.path(), &[("input", 2), ("output", 2)]).await;
    let config = StreamsConfig::new("lifecycle").num_stream_threads(2);
    let app = copier(&broker, dir.path(), config);
    let log = listen(&app);
    assert_eq!(app.state(), State::Created);
    app.start().unwrap();
    assert!(wait_state(&app, State::Running).await, "state {:?}", app.state());
    assert!(close(&app, PATIENCE).await, "close returns true when every thread stopped in time");
    assert_eq!(app.state(), State::NotRunning);

    let seen = log.lock().unwrap().clone();
    // Each call continues from the state the previous one left.
    for pair in seen.windows(2) {
        assert_eq!(pair[0].1, pair[1].0, "transitions chain: {seen:?}");
    }
    // Kafka's path: CREATED → REBALANCING → (RUNNING → REBALANCING)* → RUNNING
    // [→ REBALANCING] → PENDING_SHUTDOWN → NOT_RUNNING.
    let mut states: Vec<State> = seen.iter().map(|t| t.1).collect();
    states.insert(0, seen.first().map_or(State::NotRunning, |t| t.0));
    assert!(states.len() >= 5, "{seen:?}");
    assert_eq!(&states[..2], &[State::Created, State::Rebalancing], "{seen:?}");
    assert_eq!(
        &states[states.len() - 2..],
        &[State::PendingShutdown, State::NotRunning],
        "{seen:?}"
    );
    let middle = &states[1..states.len() - 2];
    for (i, s) in middle.iter().enumerate() {
        let want = if i % 2 == 0 { State::Rebalancing } else { State::Running };
        assert_eq!(*s, want, "only REBALANCING ↔ RUNNING between start and close: {seen:?}");
    }
    assert!(middle.contains(&State::Running), "{seen:?}");

    // Closed is final: the application does not start again, and a second close is a no-op.
    assert!(matches!(app.start(), Err(StreamsError::IllegalState(_))));
    assert!(close(&app, Duration::from_secs(1)).await);
    assert_eq!(app.state(), State::NotRunning);
    assert_eq!(*log.lock().unwrap(), seen, "no transition after the first close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn closing_an_application_never_started_goes_through_pending_shutdown() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let broker = broker_with(dir.path(), &[("input", 1), ("output", 1)]).await;
    let app = copier(&broker, dir.path(), StreamsConfig::new("never-started"));
    let seen = listen(&app);
    assert!(close(&app, PATIENCE).await);
    assert_eq!(app.state(), State::NotRunning);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![(State::Created, State::PendingShutdown), (State::PendingShutdown, State::NotRunning)]
    );
    assert!(matches!(app.start(), Err(StreamsError::IllegalState(_))));
    assert_eq!(app.state(), State::NotRunning);
}

/// Forwards each record, but holds the thread inside `process` on the value "hold" until
/// `release` is set.
struct Holding {
    entered: Arc<AtomicBool>,
    release: Arc<AtomicBool>,
}

impl Processor<String, String> for Holding {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<String, String>,
        r: Record<String, String>,
    ) -> Result<(), ProcessError> {
        if r.value == "hold" {
            self.entered.store(true, Ordering::SeqCst);
            let deadline = Instant::now() + PATIENCE;
            while !self.release.load(Ordering::SeqCst) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        ctx.forward(r);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn close_reports_a_timeout_and_a_later_close_completes() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let broker = broker_with(dir.path(), &[("input", 1), ("output", 1)]).await;
    let (entered, release) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let builder = StreamsBuilder::new();
    let (e, r) = (entered.clone(), release.clone());
    builder
        .stream::<String, String>("input")
        .process(move || Holding { entered: e.clone(), release: r.clone() })
        .to("output");
    let config = StreamsConfig::new("slow-close")
        .commit_interval(Duration::from_secs(3600))
        .state_dir(dir.path());
    let app = Arc::new(KafkaStreams::new(builder.build().unwrap(), config, &broker).unwrap());
    let seen = listen(&app);
    app.start().unwrap();
    assert!(wait_state(&app, State::Running).await);
    produce(&broker, "input", &[("k".into(), "hold".into())]).await;
    let deadline = Instant::now() + PATIENCE;
    while !entered.load(Ordering::SeqCst) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(entered.load(Ordering::SeqCst), "the record reached the processor");

    // The thread cannot stop while the processor holds it: close gives up after its timeout.
    assert!(
        !close(&app, Duration::from_millis(300)).await,
        "close returns false when the threads did not stop in time"
    );
    assert_eq!(app.state(), State::PendingShutdown, "still shutting down after the timeout");

    release.store(true, Ordering::SeqCst);
    assert!(close(&app, PATIENCE).await, "a later close waits for the threads and succeeds");
    assert_eq!(app.state(), State::NotRunning);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen.iter().filter(|t| t.1 == State::PendingShutdown).count(),
        1,
        "PENDING_SHUTDOWN is entered once however many times close is called: {seen:?}"
    );
    assert_eq!(seen.last(), Some(&(State::PendingShutdown, State::NotRunning)), "{seen:?}");
    // The held record finished processing: its output is written and its offset committed at
    // shutdown.
    let out = read_all(&broker, "output").await;
    assert_eq!(out, vec![(0, "k".to_string(), b"hold".to_vec())]);
    assert_eq!(committed(&broker, "slow-close", "input", 0).await, Some(1));
    drop(app);
}

/// `n` records `k<i>` → `v<i>`.
fn numbered(n: usize) -> Vec<(String, String)> {
    (0..n).map(|i| (format!("k{i}"), format!("v{i}"))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn offsets_are_committed_on_the_interval_while_running() {
    init_tracing();
    const N: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let broker = broker_with(dir.path(), &[("input", 1), ("output", 1)]).await;
    let config = StreamsConfig::new("short-interval").commit_interval(Duration::from_millis(100));
    let app = copier(&broker, dir.path(), config);
    app.start().unwrap();
    assert!(wait_state(&app, State::Running).await);
    produce(&broker, "input", &numbered(N)).await;
    assert_eq!(wait_records(&broker, "output", N).await.len(), N);

    let deadline = Instant::now() + PATIENCE;
    let mut got = committed(&broker, "short-interval", "input", 0).await;
    while got != Some(N as i64) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        got = committed(&broker, "short-interval", "input", 0).await;
    }
    assert_eq!(got, Some(N as i64), "the interval commit covers every processed record");
    assert_eq!(app.state(), State::Running, "committed without closing");
    assert!(close(&app, PATIENCE).await);
    assert_eq!(committed(&broker, "short-interval", "input", 0).await, Some(N as i64));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_a_long_interval_offsets_are_committed_at_shutdown() {
    init_tracing();
    const N: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let broker = broker_with(dir.path(), &[("input", 1), ("output", 1)]).await;
    let config = StreamsConfig::new("long-interval").commit_interval(Duration::from_secs(3600));
    let app = copier(&broker, dir.path(), config);
    app.start().unwrap();
    assert!(wait_state(&app, State::Running).await);
    produce(&broker, "input", &numbered(N)).await;
    assert_eq!(wait_records(&broker, "output", N).await.len(), N);

    let below = |c: Option<i64>| c.is_none_or(|o| o < N as i64);
    let got = committed(&broker, "long-interval", "input", 0).await;
    assert!(below(got), "nothing commits before the interval: {got:?}");
    // Well past the poll interval and many loop turns: still no commit while running.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let got = committed(&broker, "long-interval", "input", 0).await;
    assert!(below(got), "nothing commits before the interval: {got:?}");
    assert_eq!(app.state(), State::Running);

    assert!(close(&app, PATIENCE).await);
    assert_eq!(
        committed(&broker, "long-interval", "input", 0).await,
        Some(N as i64),
        "close commits what was processed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn repartition_creates_the_named_topic_with_the_requested_partitions() {
    init_tracing();
    const N: usize = 120;
    let dir = tempfile::tempdir().unwrap();
    let broker = broker_with(dir.path(), &[("input", 2), ("output", 1)]).await;
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .repartition_with(Repartitioned::as_("x").with_number_of_partitions(3))
        .to("output");
    let config = StreamsConfig::new("rep-app").state_dir(dir.path());
    let app = Arc::new(KafkaStreams::new(builder.build().unwrap(), config, &broker).unwrap());
    app.start().unwrap();
    assert!(wait_state(&app, State::Running).await);
    let topic = "rep-app-x-repartition";
    assert!(broker.admin().list_topics().contains(&topic.to_string()), "{topic} exists");
    assert_eq!(broker.admin().describe_topic(topic).unwrap().partitions.len(), 3);

    let input = numbered(N);
    produce(&broker, "input", &input).await;
    let out = wait_records(&broker, "output", N).await;
    let got: BTreeSet<(String, Vec<u8>)> = out.into_iter().map(|(_, k, v)| (k, v)).collect();
    let want: BTreeSet<(String, Vec<u8>)> =
        input.iter().map(|(k, v)| (k.clone(), v.clone().into_bytes())).collect();
    assert_eq!(got.len(), N, "every record once");
    assert_eq!(got, want, "every record reaches the output through the repartition topic");
    // The records went through the topic, each in its key's partition of the three.
    let through = read_all(&broker, topic).await;
    assert_eq!(through.len(), N);
    for (p, k, _) in &through {
        assert_eq!(*p, broker_embedded::default_partition(k.as_bytes(), 3), "key {k}");
    }
    assert_eq!(through.iter().map(|t| t.0).collect::<BTreeSet<_>>().len(), 3);
    assert!(close(&app, PATIENCE).await);
}

const WORDS: [&str; 7] = ["ant", "bee", "cat", "dog", "eel", "fox", "gnu"];

/// `n` records with distinct keys and words for values; returns them and each word's count.
fn words(n: usize) -> (Vec<(String, String)>, BTreeMap<String, i64>) {
    let mut counts = BTreeMap::new();
    let records = (0..n)
        .map(|i| {
            let word = WORDS[(i * i + 3 * i) % WORDS.len()].to_string();
            *counts.entry(word.clone()).or_insert(0) += 1;
            (format!("k{i}"), word)
        })
        .collect();
    (records, counts)
}

/// Each key's latest count in `topic`, once they equal `want` (or the deadline passed).
async fn wait_counts(
    broker: &Broker,
    topic: &str,
    want: &BTreeMap<String, i64>,
) -> BTreeMap<String, i64> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut latest = BTreeMap::new();
        for (_, k, v) in read_all(broker, topic).await {
            latest.insert(k, i64::from_be_bytes(v.as_slice().try_into().unwrap()));
        }
        if latest == *want || Instant::now() > deadline {
            return latest;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_key_change_before_counting_repartitions_with_the_source_partition_count() {
    init_tracing();
    const N: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let broker =
        broker_with(dir.path(), &[("words", 5), ("counts-generated", 1), ("counts-named", 1)])
            .await;
    let (input, want) = words(N);

    // A generated name: the repartition topic is named after the count's store.
    let generated = StreamsBuilder::new();
    generated
        .stream::<String, String>("words")
        .select_key(|_, w| w.clone())
        .group_by_key()
        .count()
        .to_stream()
        .to("counts-generated");
    // A given name: `Grouped::as_` names the topic.
    let named = StreamsBuilder::new();
    named
        .stream::<String, String>("words")
        .map(|k, w| (w, k))
        .group_by_key_with(Grouped::as_("by-word"))
        .count_with(Materialized::as_("word-counts"))
        .to_stream()
        .to("counts-named");
    let mut apps = Vec::new();
    for (builder, id) in [(generated, "gen-app"), (named, "named-app")] {
        let config = StreamsConfig::new(id)
            .commit_interval(Duration::from_millis(100))
            .state_dir(dir.path().join(id));
        let app = Arc::new(KafkaStreams::new(builder.build().unwrap(), config, &broker).unwrap());
        app.start().unwrap();
        apps.push(app);
    }
    for app in &apps {
        assert!(wait_state(app, State::Running).await);
    }
    let partitions = |topic: &str| broker.admin().describe_topic(topic).map(|d| d.partitions.len());
    for (topic, changelog) in [
        (
            "gen-app-KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition",
            "gen-app-KSTREAM-AGGREGATE-STATE-STORE-0000000002-changelog",
        ),
        ("named-app-by-word-repartition", "named-app-word-counts-changelog"),
    ] {
        let topics = broker.admin().list_topics();
        assert_eq!(partitions(topic).ok(), Some(5), "{topic} among {topics:?}");
        assert_eq!(partitions(changelog).ok(), Some(5), "{changelog} among {topics:?}");
    }
    for app_id in ["gen-app", "named-app"] {
        let internal: Vec<String> = broker
            .admin()
            .list_topics()
            .into_iter()
            .filter(|t| t.starts_with(app_id) && t.ends_with("-repartition"))
            .collect();
        assert_eq!(internal.len(), 1, "one repartition topic: {internal:?}");
    }

    produce(&broker, "words", &input).await;
    assert_eq!(wait_counts(&broker, "counts-generated", &want).await, want);
    assert_eq!(wait_counts(&broker, "counts-named", &want).await, want);
    for topic in [
        "gen-app-KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition",
        "named-app-by-word-repartition",
    ] {
        let through = read_all(&broker, topic).await;
        assert_eq!(through.len(), N, "every record went through {topic}");
        for (p, k, _) in &through {
            assert!(WORDS.contains(&k.as_str()), "keyed by word: {k}");
            assert_eq!(*p, broker_embedded::default_partition(k.as_bytes(), 5), "word {k}");
        }
    }
    for app in &apps {
        assert!(close(app, PATIENCE).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exactly_once_is_refused_with_a_configuration_error() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let broker = broker_with(dir.path(), &[("input", 1), ("output", 1)]).await;
    let config = StreamsConfig::new("eos")
        .processing_guarantee(ProcessingGuarantee::ExactlyOnceV2)
        .state_dir(dir.path());
    assert_eq!(config.commit_interval, Duration::from_millis(100), "Kafka's default under EOS");
    let message = match config.validate() {
        Err(StreamsError::Config(m)) => m,
        other => panic!("validate: {other:?}"),
    };
    assert!(message.contains("exactly_once_v2"), "{message}");

    let builder = StreamsBuilder::new();
    builder.stream::<String, String>("input").to("output");
    let err = KafkaStreams::new(builder.build().unwrap(), config, &broker).unwrap_err();
    assert!(matches!(&err, StreamsError::Config(m) if m.contains("exactly_once_v2")), "{err:?}");
    assert!(err.to_string().contains("processing.guarantee"), "{err}");
    // Nothing was created on the broker for the refused application.
    assert!(broker.admin().list_groups().await.iter().all(|g| g != "eos"));

    // At-least-once, the default, is accepted.
    let config = StreamsConfig::new("eos")
        .processing_guarantee(ProcessingGuarantee::AtLeastOnce)
        .state_dir(dir.path());
    assert!(config.validate().is_ok());
    assert_eq!(config.commit_interval, Duration::from_secs(30));
}
