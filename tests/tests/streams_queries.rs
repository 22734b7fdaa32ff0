//! Interactive queries against running applications on the embedded broker: reading a count
//! store across an instance's tasks while it runs, locating the instance that hosts a key from
//! `application.server` metadata, and reading standby copies when stale stores are allowed.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use broker_embedded::{Broker, BrokerConfig, Durability, NewTopic, ProducerRecord};
use integration_tests::init_tracing;
use streams_dsl::prelude::*;

const WORDS: usize = 12;

async fn broker(dir: &std::path::Path) -> Broker {
    let mut config = BrokerConfig::new(dir.join("broker"))
        .durability(Durability::Interval(Duration::from_millis(50)));
    config.group_initial_rebalance_delay = Duration::from_millis(50);
    let broker = Broker::open(config).await.unwrap();
    broker.admin().create_topic(NewTopic::new("words", 4)).await.unwrap();
    broker
}

fn counting_app(
    broker: &Broker,
    dir: &std::path::Path,
    threads: usize,
    configure: impl FnOnce(StreamsConfig) -> StreamsConfig,
) -> Arc<KafkaStreams> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("words")
        .group_by_key()
        .count_with(Materialized::as_("counts"));
    let config = StreamsConfig::new("query-app")
        .num_stream_threads(threads)
        .commit_interval(Duration::from_millis(100))
        .state_dir(dir);
    Arc::new(KafkaStreams::new(builder.build().unwrap(), configure(config), broker).unwrap())
}

/// Produces word `w<i>` `i + 1` times for each i; returns the true counts.
async fn produce_words(broker: &Broker) -> BTreeMap<String, i64> {
    let producer = broker.producer(Default::default()).unwrap();
    let mut expected = BTreeMap::new();
    for i in 0..WORDS {
        let word = format!("w{i:02}");
        for _ in 0..=i {
            drop(producer.send(ProducerRecord::new("words", "x").key(word.clone())).await.unwrap());
        }
        expected.insert(word, i as i64 + 1);
    }
    producer.flush().await.unwrap();
    expected
}

async fn wait_for_state(app: &Arc<KafkaStreams>, state: State) -> bool {
    integration_tests::wait_for_state(app, state, Duration::from_secs(60)).await
}

/// Polls `check` until it holds (a query against a running application sees counts grow).
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_running_applications_store_answers_queries_across_its_tasks() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let broker = broker(dir.path()).await;
    let app = counting_app(&broker, &dir.path().join("state"), 2, |c| c);

    // Not running yet: no queries.
    let err = app.store::<String, i64>(StoreQueryParameters::from_name("counts")).unwrap_err();
    assert!(matches!(err, StreamsError::InvalidStateStore(_)), "{err}");

    app.start().unwrap();
    assert!(wait_for_state(&app, State::Running).await);
    let expected = produce_words(&broker).await;
    let store = app.store::<String, i64>(StoreQueryParameters::from_name("counts")).unwrap();
    eventually("every count is visible", || {
        expected.iter().all(|(w, n)| store.get(w).ok().flatten() == Some(*n))
    })
    .await;

    // all() spans the four tasks; each task's part comes in key order.
    let mut all = store.all().unwrap();
    all.sort();
    assert_eq!(all, expected.clone().into_iter().collect::<Vec<_>>());
    let mut range = store.range(Some(&"w03".to_string()), Some(&"w05".to_string())).unwrap();
    range.sort();
    assert_eq!(range, vec![("w03".into(), 4), ("w04".into(), 5), ("w05".into(), 6)]);
    assert_eq!(store.get(&"absent".to_string()).unwrap(), None);
    // The estimate counts what reached RocksDB (as Kafka's does): every word once the cache has
    // been flushed by a commit.
    eventually("the estimate covers every word", || {
        store.approximate_num_entries().unwrap() >= WORDS as u64
    })
    .await;

    // A key lives in the task of its partition (Kafka's default partitioner over the input).
    for (w, n) in &expected {
        let p = broker_embedded::default_partition(w.as_bytes(), 4);
        let own = app
            .store::<String, i64>(StoreQueryParameters::from_name("counts").with_partition(p))
            .unwrap();
        assert_eq!(own.get(w).unwrap(), Some(*n), "{w} in partition {p}");
        let other = app
            .store::<String, i64>(
                StoreQueryParameters::from_name("counts").with_partition((p + 1) % 4),
            )
            .unwrap();
        assert_eq!(other.get(w).unwrap(), None, "{w} only in partition {p}");
    }

    // Wrong types and unknown stores are refused with a clear error.
    let err = app.store::<String, String>(StoreQueryParameters::from_name("counts")).unwrap_err();
    assert!(err.to_string().contains("holds"), "{err}");
    let err = app.store::<String, i64>(StoreQueryParameters::from_name("nope")).unwrap_err();
    assert!(err.to_string().contains("no store `nope`"), "{err}");

    // The handle outlives the application's running state, and then refuses.
    assert!(app.close(Duration::from_secs(30)));
    let err = store.get(&"w01".to_string()).unwrap_err();
    assert!(matches!(err, StreamsError::InvalidStateStore(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metadata_locates_each_key_and_standbys_answer_stale_queries() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let broker = broker(dir.path()).await;
    let a = counting_app(&broker, &dir.path().join("a"), 1, |c| {
        c.application_server("host-a:7001").num_standby_replicas(1)
    });
    let b = counting_app(&broker, &dir.path().join("b"), 1, |c| {
        c.application_server("host-b:7002").num_standby_replicas(1)
    });
    a.start().unwrap();
    assert!(wait_for_state(&a, State::Running).await);
    b.start().unwrap();
    let two_hosts = |app: &KafkaStreams| {
        let m = app.metadata_for_all_streams_clients();
        m.len() == 2 && m.iter().all(|c| c.topic_partitions.len() == 2)
    };
    eventually("both instances see two hosts with two tasks each", || {
        two_hosts(&a) && two_hosts(&b) && a.state() == State::Running && b.state() == State::Running
    })
    .await;
    let meta = a.metadata_for_all_streams_clients();
    assert_eq!(meta, b.metadata_for_all_streams_clients());
    assert_eq!(meta[0].host_info, HostInfo { host: "host-a".into(), port: 7001 });
    assert_eq!(meta[1].host_info, HostInfo { host: "host-b".into(), port: 7002 });
    for m in &meta {
        assert!(m.state_store_names.contains("counts"));
        assert!(m.standby_state_store_names.contains("counts"));
        // Each instance keeps standbys of exactly the other's tasks.
        assert!(m.topic_partitions.is_disjoint(&m.standby_topic_partitions));
        assert_eq!(m.standby_topic_partitions.len(), 2);
    }

    let expected = produce_words(&broker).await;
    let host_a = HostInfo { host: "host-a".into(), port: 7001 };
    for (w, n) in &expected {
        let md = a.query_metadata_for_key("counts", w).unwrap().unwrap();
        assert_eq!(Some(&md), b.query_metadata_for_key("counts", w).unwrap().as_ref());
        assert_eq!(md.partition, broker_embedded::default_partition(w.as_bytes(), 4));
        assert_eq!(md.standby_hosts.len(), 1);
        assert!(!md.standby_hosts.contains(&md.active_host));
        let (active, standby) = if md.active_host == host_a { (&a, &b) } else { (&b, &a) };
        let on_active =
            active.store::<String, i64>(StoreQueryParameters::from_name("counts")).unwrap();
        eventually(&format!("{w} is counted on its active host"), || {
            on_active.get(w).ok().flatten() == Some(*n)
        })
        .await;
        // The other instance has no active copy of the key's task...
        let fresh_only =
            standby.store::<String, i64>(StoreQueryParameters::from_name("counts")).unwrap();
        assert_eq!(fresh_only.get(w).unwrap(), None, "{w} has no active copy on the standby host");
        // ...but its standby catches up from the changelog, and answers stale queries.
        let stale = standby
            .store::<String, i64>(StoreQueryParameters::from_name("counts").enable_stale_stores())
            .unwrap();
        eventually(&format!("the standby of {w} catches up"), || {
            stale.get(w).ok().flatten() == Some(*n)
        })
        .await;
    }
    // Standby lags drain to zero once the changelogs stop growing.
    eventually("standby lags reach zero", || {
        let lags = b.all_local_store_partition_lags().unwrap();
        lags.get("counts").is_some_and(|p| p.len() == 4 && p.values().all(|l| l.offset_lag == 0))
    })
    .await;
    assert!(a.close(Duration::from_secs(30)));
    assert!(b.close(Duration::from_secs(30)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_windowed_count_is_queryable_and_restores_from_its_changelog() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let broker = broker(dir.path()).await;
    let minute = Duration::from_secs(60);
    let start_app = |state: std::path::PathBuf| {
        let builder = StreamsBuilder::new();
        builder
            .stream::<String, String>("words")
            .group_by_key()
            .windowed_by(TimeWindows::of_size_with_no_grace(minute))
            .count_with(
                Materialized::as_("per-minute").with_retention(Duration::from_secs(86_400)),
            );
        let config = StreamsConfig::new("windowed-app")
            .commit_interval(Duration::from_millis(100))
            .state_dir(state);
        let app = Arc::new(KafkaStreams::new(builder.build().unwrap(), config, &broker).unwrap());
        app.start().unwrap();
        app
    };
    // Word `w<i>` i+1 times in minute 0, then each once in minute 2 (in time order: the
    // windows have no grace, so a record after its window's end would be dropped).
    let producer = broker.producer(Default::default()).unwrap();
    let base = 1_700_000_000_000i64 / 60_000 * 60_000;
    let mut expected: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    for i in 0..WORDS {
        let w = format!("w{i:02}");
        for n in 0..=i {
            let r = ProducerRecord::new("words", "x").key(w.clone()).timestamp(base + n as i64);
            drop(producer.send(r).await.unwrap());
        }
        expected.insert(w, vec![(base, i as i64 + 1), (base + 120_000, 1)]);
    }
    for w in expected.keys() {
        let r = ProducerRecord::new("words", "x").key(w.clone()).timestamp(base + 120_000);
        drop(producer.send(r).await.unwrap());
    }
    producer.flush().await.unwrap();

    let state = dir.path().join("state");
    let app = start_app(state.clone());
    let per_minute = |app: &KafkaStreams| {
        app.window_store::<String, i64>(StoreQueryParameters::from_name("per-minute")).unwrap()
    };
    let store = per_minute(&app);
    eventually("every window is counted", || {
        expected.iter().all(|(w, windows)| {
            store.fetch_range(w, base, base + 180_000).ok().as_ref() == Some(windows)
        })
    })
    .await;
    assert_eq!(store.fetch(&"w03".to_string(), base).unwrap(), Some(4));
    assert_eq!(store.all().unwrap().len(), WORDS * 2);
    let err = app.store::<String, i64>(StoreQueryParameters::from_name("nope")).unwrap_err();
    assert!(matches!(err, StreamsError::InvalidStateStore(_)));
    assert!(app.close(Duration::from_secs(30)));
    drop(app);

    // Without local state the windows come back from the changelog.
    std::fs::remove_dir_all(&state).unwrap();
    let app = start_app(state);
    let store = per_minute(&app);
    eventually("the restored windows are queryable", || {
        expected.iter().all(|(w, windows)| {
            store.fetch_range(w, base, base + 180_000).ok().as_ref() == Some(windows)
        })
    })
    .await;
    assert!(app.close(Duration::from_secs(30)));
}
