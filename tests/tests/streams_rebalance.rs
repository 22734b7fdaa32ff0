//! A streams application on the embedded broker while instances come and go: 4 input partitions,
//! two stream threads, a second instance joins and later leaves. Every input record reaches the
//! output exactly once (each rebalance is clean: owners commit and release their tasks before the
//! group moves them), each key's order is kept, and no task is processed by two instances at once.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use broker_embedded::{Broker, NewTopic, Producer, ProducerRecord};
use integration_tests::{init_tracing, read_partition};
use streams_dsl::prelude::*;

const KEYS: usize = 64;

/// Which processor instance processed which task, in processing order.
type Log = Arc<Mutex<Vec<(TaskId, u64)>>>;

struct Tracker {
    log: Log,
    instance: u64,
}

static NEXT_INSTANCE: AtomicU64 = AtomicU64::new(0);

impl Processor<String, String> for Tracker {
    fn init(&mut self, _ctx: &mut ProcessorContext<String, String>) -> Result<(), ProcessError> {
        self.instance = NEXT_INSTANCE.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<String, String>,
        r: Record<String, String>,
    ) -> Result<(), ProcessError> {
        self.log.lock().unwrap().push((ctx.task_id(), self.instance));
        ctx.forward(r);
        Ok(())
    }
}

fn app(broker: &Broker, dir: &std::path::Path, log: &Log) -> KafkaStreams {
    let builder = StreamsBuilder::new();
    let log = log.clone();
    builder
        .stream::<String, String>("input")
        .process(move || Tracker { log: log.clone(), instance: 0 })
        .map_values(|v: String| format!("seen:{v}"))
        .to("output");
    let config = StreamsConfig::new("rebalancing-app")
        .num_stream_threads(2)
        .commit_interval(Duration::from_millis(100))
        .state_dir(dir);
    KafkaStreams::new(builder.build().unwrap(), config, broker).unwrap()
}

/// Produces `count` more records, `key:seq` per key with per-key sequence numbers.
async fn produce(producer: &Producer, next: &mut [u64], count: usize) {
    let mut last = None;
    for i in 0..count {
        let k = i % KEYS;
        let key = format!("k{k}");
        let value = format!("{key}:{}", next[k]);
        next[k] += 1;
        last = Some(producer.send(ProducerRecord::new("input", value).key(key)).await.unwrap());
    }
    if let Some(f) = last {
        f.await.unwrap();
    }
    producer.flush().await.unwrap();
}

async fn output_values(broker: &Broker) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in 0..4 {
        for r in read_partition(broker, "output", p).await.unwrap() {
            let k = String::from_utf8(r.key.unwrap().to_vec()).unwrap();
            let v = String::from_utf8(r.value.unwrap().to_vec()).unwrap();
            out.push((k, v));
        }
    }
    out
}

async fn wait_for_output(broker: &Broker, expected: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let distinct: BTreeSet<String> =
            output_values(broker).await.into_iter().map(|(_, v)| v).collect();
        if distinct.len() >= expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {expected} records reached the output",
            distinct.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn state_of(app: Arc<KafkaStreams>, state: State) -> bool {
    tokio::task::spawn_blocking(move || app.wait_for_state(state, Duration::from_secs(60)))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_record_arrives_in_order_while_instances_join_and_leave() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let broker = integration_tests::streams_broker(dir.path()).await.unwrap();
    broker.admin().create_topic(NewTopic::new("input", 4)).await.unwrap();
    broker.admin().create_topic(NewTopic::new("output", 4)).await.unwrap();
    let producer = broker.producer(Default::default()).unwrap();
    let mut next = vec![0u64; KEYS];
    produce(&producer, &mut next, 4_000).await;

    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let a = Arc::new(app(&broker, &dir.path().join("a"), &log));
    a.start().unwrap();
    assert!(state_of(a.clone(), State::Running).await, "first instance never ran");
    produce(&producer, &mut next, 4_000).await;
    wait_for_output(&broker, 8_000).await;

    // A second instance joins: the tasks are shared out, and processing goes on.
    let b = Arc::new(app(&broker, &dir.path().join("b"), &log));
    b.start().unwrap();
    assert!(state_of(b.clone(), State::Running).await, "second instance never ran");
    produce(&producer, &mut next, 4_000).await;
    wait_for_output(&broker, 12_000).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let tasks_a: usize =
            a.metadata_for_local_threads().iter().map(|t| t.active_tasks.len()).sum();
        let tasks_b: usize =
            b.metadata_for_local_threads().iter().map(|t| t.active_tasks.len()).sum();
        if tasks_a > 0 && tasks_b > 0 && tasks_a + tasks_b == 4 {
            break;
        }
        assert!(Instant::now() < deadline, "tasks not shared: a={tasks_a} b={tasks_b}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // It leaves; the first instance takes everything back.
    let closing = b.clone();
    assert!(
        tokio::task::spawn_blocking(move || closing.close(Duration::from_secs(60))).await.unwrap()
    );
    assert_eq!(b.state(), State::NotRunning);
    produce(&producer, &mut next, 4_000).await;
    let total: u64 = next.iter().sum();
    wait_for_output(&broker, total as usize).await;
    let closing = a.clone();
    assert!(
        tokio::task::spawn_blocking(move || closing.close(Duration::from_secs(60))).await.unwrap()
    );
    assert_eq!(a.state(), State::NotRunning);

    // Every record arrived; per key, values come in order, and a replay after a rebalance
    // restarts at an earlier record and goes on in order from there.
    let mut per_key: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (k, v) in output_values(&broker).await {
        let seq: u64 = v.rsplit(':').next().unwrap().parse().unwrap();
        assert!(v.starts_with(&format!("seen:{k}:")), "{k} → {v}");
        per_key.entry(k).or_default().push(seq);
    }
    assert_eq!(per_key.len(), KEYS);
    for (k, seqs) in &per_key {
        let distinct: BTreeSet<u64> = seqs.iter().copied().collect();
        let expected = next[k[1..].parse::<usize>().unwrap()];
        assert_eq!(distinct.len() as u64, expected, "{k}: records missing");
        assert_eq!(seqs[0], 0, "{k} starts at its first record");
        for w in seqs.windows(2) {
            assert!(
                w[1] == w[0] + 1 || w[1] <= w[0],
                "{k}: {} followed by {} skips records",
                w[0],
                w[1]
            );
        }
    }

    // No task was processed by two instances at once: once a task moved to a new processor
    // instance, the old one never processed it again.
    let log = log.lock().unwrap().clone();
    let mut retired: BTreeMap<TaskId, BTreeSet<u64>> = BTreeMap::new();
    let mut current: BTreeMap<TaskId, u64> = BTreeMap::new();
    for (task, instance) in log.iter() {
        assert!(
            !retired.get(task).is_some_and(|r| r.contains(instance)),
            "task {task} ran in two places"
        );
        if let Some(prev) = current.insert(*task, *instance) {
            if prev != *instance {
                retired.entry(*task).or_default().insert(prev);
            }
        }
    }
    assert_eq!(current.len(), 4, "one task per input partition");
    let moved: usize = retired.values().map(BTreeSet::len).sum();
    assert!(moved >= 2, "tasks should have moved when the instance joined and left");
    broker.close().await.unwrap();
}
