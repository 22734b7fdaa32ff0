//! Standby replicas on the embedded broker: two instances of a counting application with one
//! standby each. The instance running a task stops dead (its stream thread hangs, so it stops
//! polling and the group presumes it gone after the session timeout); the other instance takes
//! the task over from its standby copy, restoring only the changelog records the standby had not
//! applied yet, not the whole changelog, and then serves counts that are never below the truth.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use broker_embedded::{Broker, BrokerConfig, Durability, NewTopic, ProducerRecord};
use integration_tests::init_tracing;
use streams_dsl::prelude::*;

const WORDS: usize = 20;
const PER_WORD: usize = 100;

/// One restoration: task, first offset, end offset, records restored.
type Restoration = (TaskId, i64, i64, u64);

#[derive(Default, Clone)]
struct Restores(Arc<Mutex<Vec<Restoration>>>);

impl StateRestoreListener for Restores {
    fn on_restore_start(
        &self,
        task: TaskId,
        _store: &str,
        _topic: &str,
        _partition: i32,
        start: i64,
        end: i64,
    ) {
        self.0.lock().unwrap().push((task, start, end, 0));
    }
    fn on_batch_restored(&self, _: TaskId, _: &str, _: i64, _: usize) {}
    fn on_restore_end(&self, task: TaskId, _store: &str, total: u64) {
        let mut v = self.0.lock().unwrap();
        if let Some(e) = v.iter_mut().rev().find(|e| e.0 == task) {
            e.3 = total;
        }
    }
}

fn app(
    broker: &Broker,
    dir: &std::path::Path,
    server: &str,
    hang: Arc<AtomicBool>,
) -> Arc<KafkaStreams> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("words")
        .peek(move |_, _| {
            // A hung instance: the thread stops here (and stops polling) while `hang` is set.
            while hang.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10));
            }
        })
        .group_by_key()
        // No cache: every update reaches the changelog, so a full restore would be long.
        .count_with(Materialized::as_("counts").with_caching_disabled());
    let config = StreamsConfig::new("standby-app")
        .commit_interval(Duration::from_millis(100))
        .session_timeout(Duration::from_secs(2))
        .num_standby_replicas(1)
        .application_server(server)
        .state_dir(dir);
    Arc::new(KafkaStreams::new(builder.build().unwrap(), config, broker).unwrap())
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn tasks(app: &KafkaStreams) -> (Vec<TaskId>, Vec<TaskId>) {
    let t = app.metadata_for_local_threads();
    (
        t.iter().flat_map(|t| t.active_tasks.clone()).collect(),
        t.iter().flat_map(|t| t.standby_tasks.clone()).collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_standby_takes_over_without_restoring_the_whole_changelog() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let mut config = BrokerConfig::new(dir.path().join("broker"))
        .durability(Durability::Interval(Duration::from_millis(50)));
    config.group_initial_rebalance_delay = Duration::from_millis(50);
    config.group_min_session_timeout = Duration::from_millis(500);
    let broker = Broker::open(config).await.unwrap();
    broker.admin().create_topic(NewTopic::new("words", 2)).await.unwrap();

    let hang_a = Arc::new(AtomicBool::new(false));
    let a = app(&broker, &dir.path().join("a"), "a:1", hang_a.clone());
    let b = app(&broker, &dir.path().join("b"), "b:1", Arc::new(AtomicBool::new(false)));
    let restores_b = Restores::default();
    b.set_global_state_restore_listener(restores_b.clone());
    a.start().unwrap();
    let a2 = a.clone();
    assert!(
        tokio::task::spawn_blocking(
            move || a2.wait_for_state(State::Running, Duration::from_secs(60))
        )
        .await
        .unwrap()
    );
    b.start().unwrap();
    eventually("each instance runs one task and keeps a standby of the other", || {
        let (aa, asb) = tasks(&a);
        let (ba, bsb) = tasks(&b);
        aa.len() == 1 && ba.len() == 1 && asb == ba && bsb == aa
    })
    .await;
    let task_of_a = tasks(&a).0[0];

    // Count: every word PER_WORD times.
    let producer = broker.producer(Default::default()).unwrap();
    let mut truth: BTreeMap<String, i64> = BTreeMap::new();
    for round in 0..PER_WORD {
        for w in 0..WORDS {
            let word = format!("word{w:02}");
            drop(
                producer
                    .send(ProducerRecord::new("words", round.to_string()).key(word.clone()))
                    .await
                    .unwrap(),
            );
            *truth.entry(word).or_default() += 1;
        }
    }
    producer.flush().await.unwrap();
    let counts_a = a.store::<String, i64>(StoreQueryParameters::from_name("counts")).unwrap();
    let counts_b = b.store::<String, i64>(StoreQueryParameters::from_name("counts")).unwrap();
    eventually("both instances have counted everything", || {
        truth.iter().all(|(w, n)| {
            counts_a.get(w).ok().flatten().or(counts_b.get(w).ok().flatten()) == Some(*n)
        })
    })
    .await;
    let changelog_len = |lags: &BTreeMap<String, BTreeMap<i32, LagInfo>>| {
        lags["counts"][&task_of_a.partition].end_offset_position
    };
    eventually("B's standby of A's task has applied the whole changelog", || {
        let lags = b.all_local_store_partition_lags().unwrap();
        lags.get("counts")
            .and_then(|p| p.get(&task_of_a.partition))
            .is_some_and(|l| l.offset_lag == 0 && l.current_offset_position > 0)
    })
    .await;
    let lags = b.all_local_store_partition_lags().unwrap();
    let standby_position = lags["counts"][&task_of_a.partition].current_offset_position;
    let full_changelog = changelog_len(&lags);
    assert!(full_changelog >= (WORDS * PER_WORD / 4) as i64, "changelog of {full_changelog}");
    let restored_before = restores_b.0.lock().unwrap().len();

    // A hangs on its next record: it stops polling, and the group gives its task to B.
    hang_a.store(true, Ordering::SeqCst);
    for w in 0..WORDS {
        let word = format!("word{w:02}");
        drop(producer.send(ProducerRecord::new("words", "last").key(word.clone())).await.unwrap());
        *truth.entry(word).or_default() += 1;
    }
    producer.flush().await.unwrap();
    eventually("B runs both tasks", || tasks(&b).0.len() == 2 && b.state() == State::Running).await;

    // B restored A's task from where its standby stood, not from the changelog's start.
    let restores: Vec<_> = restores_b.0.lock().unwrap()[restored_before..]
        .iter()
        .filter(|r| r.0 == task_of_a)
        .cloned()
        .collect();
    for (task, start, end, total) in &restores {
        assert!(
            *start >= standby_position,
            "task {task} restored from {start}, before the standby's position {standby_position}"
        );
        assert_eq!(
            *total as i64,
            end - start,
            "restored exactly the records after the standby's position"
        );
        assert!(
            (*total as i64) < full_changelog,
            "restored {total} of {full_changelog}: a full restore"
        );
    }

    // B now serves every count, never below the truth (at-least-once).
    eventually("B has counted everything, including what A never finished", || {
        truth.iter().all(|(w, n)| counts_b.get(w).ok().flatten().is_some_and(|c| c >= *n))
    })
    .await;
    assert_eq!(counts_b.all().unwrap().len(), WORDS);

    hang_a.store(false, Ordering::SeqCst);
    assert!(a.close(Duration::from_secs(60)));
    assert!(b.close(Duration::from_secs(60)));
}
