//! A global table on the embedded broker: loaded in full from every partition of its topic before
//! any record is processed, kept current while the application runs, queryable on the instance,
//! and restored from its checkpoint (not from scratch) after a restart.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use broker_embedded::{Broker, BrokerConfig, Durability, NewTopic, ProducerRecord};
use integration_tests::{init_tracing, read_partition};
use streams_dsl::prelude::*;

const CUSTOMERS: usize = 600;

/// Enriches each order with its customer's name from the global table.
struct Enrich;

impl Processor<String, String, String, String> for Enrich {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<String, String>,
        r: Record<String, String>,
    ) -> Result<(), ProcessError> {
        let customers = ctx.key_value_store::<String, String>("customers")?;
        let name = customers.get(&r.value)?.unwrap_or_else(|| "MISSING".into());
        let v = format!("{}:{name}", r.key);
        ctx.forward(r.with_value(v));
        Ok(())
    }
}

/// Restorations of the global store: (first offset, end offset).
#[derive(Default, Clone)]
struct Restores(Arc<Mutex<Vec<(i64, i64)>>>);

impl StateRestoreListener for Restores {
    fn on_restore_start(&self, _: TaskId, store: &str, _: &str, _: i32, start: i64, end: i64) {
        if store == "customers" {
            self.0.lock().unwrap().push((start, end));
        }
    }
    fn on_batch_restored(&self, _: TaskId, _: &str, _: i64, _: usize) {}
    fn on_restore_end(&self, _: TaskId, _: &str, _: u64) {}
}

fn app(broker: &Broker, dir: &std::path::Path, restores: &Restores) -> Arc<KafkaStreams> {
    let builder = StreamsBuilder::new();
    builder.global_table::<String, String>(
        "customers-topic",
        Consumed::default(),
        Materialized::as_("customers"),
    );
    builder.stream::<String, String>("orders").process(|| Enrich).to("enriched");
    let config =
        StreamsConfig::new("global-app").commit_interval(Duration::from_millis(100)).state_dir(dir);
    let app = KafkaStreams::new(builder.build().unwrap(), config, broker).unwrap();
    app.set_global_state_restore_listener(restores.clone());
    Arc::new(app)
}

async fn enriched(broker: &Broker) -> Vec<String> {
    let mut out = Vec::new();
    for p in 0..2 {
        for r in read_partition(broker, "enriched", p).await.unwrap() {
            out.push(String::from_utf8(r.value.unwrap().to_vec()).unwrap());
        }
    }
    out.sort();
    out
}

async fn wait_for_enriched(broker: &Broker, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = enriched(broker).await;
        if out.len() >= n {
            return out;
        }
        assert!(Instant::now() < deadline, "only {} of {n} enriched orders", out.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_global_table_is_loaded_before_processing_and_restored_from_its_checkpoint() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let config = BrokerConfig::new(dir.path().join("broker"))
        .durability(Durability::Interval(Duration::from_millis(50)));
    let broker = Broker::open(config).await.unwrap();
    broker.admin().create_topic(NewTopic::new("customers-topic", 3)).await.unwrap();
    broker.admin().create_topic(NewTopic::new("orders", 2)).await.unwrap();
    broker.admin().create_topic(NewTopic::new("enriched", 2)).await.unwrap();
    let producer = broker.producer(Default::default()).unwrap();
    for c in 0..CUSTOMERS {
        let r = ProducerRecord::new("customers-topic", format!("name-{c}")).key(format!("c{c}"));
        drop(producer.send(r).await.unwrap());
    }
    // Orders for the last customers written, already waiting when the application starts.
    for c in CUSTOMERS - 50..CUSTOMERS {
        let r = ProducerRecord::new("orders", format!("c{c}")).key(format!("o{c}"));
        drop(producer.send(r).await.unwrap());
    }
    producer.flush().await.unwrap();

    let restores = Restores::default();
    let a = app(&broker, &dir.path().join("state"), &restores);
    a.start().unwrap();
    // Every order saw the whole table: none was processed before the table was loaded.
    let out = wait_for_enriched(&broker, 50).await;
    assert!(out.iter().all(|v| !v.ends_with("MISSING")), "an order ran before the table loaded");
    assert_eq!(
        restores.0.lock().unwrap().iter().map(|(s, e)| e - s).sum::<i64>(),
        CUSTOMERS as i64
    );

    // Updates reach the running table.
    drop(producer.send(ProducerRecord::new("customers-topic", "renamed").key("c7")).await.unwrap());
    producer.flush().await.unwrap();
    let store = a.store::<String, String>(StoreQueryParameters::from_name("customers")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.get(&"c7".to_string()).unwrap().as_deref() != Some("renamed") {
        assert!(Instant::now() < deadline, "the update never reached the global table");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(producer.send(ProducerRecord::new("orders", "c7").key("o-late")).await.unwrap());
    producer.flush().await.unwrap();
    let out = wait_for_enriched(&broker, 51).await;
    assert!(out.contains(&"o-late:renamed".to_string()), "{out:?}");
    assert_eq!(store.all().unwrap().len(), CUSTOMERS);
    assert!(a.close(Duration::from_secs(30)));

    // A restart restores only what the topic gained since the checkpoint of the clean close.
    for c in CUSTOMERS..CUSTOMERS + 10 {
        let r = ProducerRecord::new("customers-topic", format!("name-{c}")).key(format!("c{c}"));
        drop(producer.send(r).await.unwrap());
    }
    producer.flush().await.unwrap();
    let restores = Restores::default();
    let b = app(&broker, &dir.path().join("state"), &restores);
    b.start().unwrap();
    let restored: i64 = restores.0.lock().unwrap().iter().map(|(s, e)| e - s).sum();
    assert_eq!(restored, 10, "restored {restored} records; the checkpoint covers the rest");
    let store = b.store::<String, String>(StoreQueryParameters::from_name("customers")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while b.state() != State::Running {
        assert!(Instant::now() < deadline, "the restarted application never ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(store.all().unwrap().len(), CUSTOMERS + 10);
    assert_eq!(store.get(&"c7".to_string()).unwrap().as_deref(), Some("renamed"));
    assert!(b.close(Duration::from_secs(30)));
}
