//! Helpers shared by the integration tests: seeded randomness, reading whole topics back.

use std::time::Duration;

use broker_embedded::{
    Broker, ConsumerBatch, ConsumerConfig, ConsumerRecord, OffsetReset, TopicPartition,
};

pub mod bench;
pub mod wire;

/// Waits (off the async workers, as `wait_for_state` blocks) until `app` is in `state`, at most
/// `patience`; whether it got there.
pub async fn wait_for_state(
    app: &std::sync::Arc<streams_core::KafkaStreams>,
    state: streams_core::State,
    patience: Duration,
) -> bool {
    let app = app.clone();
    tokio::task::spawn_blocking(move || app.wait_for_state(state, patience)).await.unwrap_or(false)
}

/// Reads a partition like [`read_partition`] until it holds at least `want` records, or
/// `patience` has passed (then what is there).
pub async fn read_partition_until(
    broker: &Broker,
    topic: &str,
    partition: i32,
    want: usize,
    patience: Duration,
) -> broker_embedded::Result<Vec<ConsumerRecord>> {
    let deadline = std::time::Instant::now() + patience;
    loop {
        let out = read_partition(broker, topic, partition).await?;
        if out.len() >= want || std::time::Instant::now() > deadline {
            return Ok(out);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads every record of a partition from its log start to its high watermark.
pub async fn read_partition(
    broker: &Broker,
    topic: &str,
    partition: i32,
) -> broker_embedded::Result<Vec<ConsumerRecord>> {
    read_to_end(broker, topic, partition, ConsumerConfig::default(), false).await
}

/// Reads every record of a partition like [`read_partition`], but with
/// [`Consumer::poll_batches`](broker_embedded::Consumer::poll_batches), copying each borrowed record
/// out of its batch.
pub async fn read_partition_batches(
    broker: &Broker,
    topic: &str,
    partition: i32,
    config: ConsumerConfig,
) -> broker_embedded::Result<Vec<ConsumerRecord>> {
    read_to_end(broker, topic, partition, config, true).await
}

async fn read_to_end(
    broker: &Broker,
    topic: &str,
    partition: i32,
    config: ConsumerConfig,
    batches: bool,
) -> broker_embedded::Result<Vec<ConsumerRecord>> {
    let tp = TopicPartition::new(topic, partition);
    let end = broker.admin().describe_topic(topic)?.partitions[partition as usize].high_watermark;
    let consumer = broker.consumer(config.offset_reset(OffsetReset::Earliest))?;
    consumer.assign(std::slice::from_ref(&tp))?;
    let mut out: Vec<ConsumerRecord> = Vec::new();
    while consumer.position(&tp).await? < end {
        let wait = Duration::from_millis(200);
        // Whether the poll returned anything: records, or batches (which may hold no record).
        let (polled, returned) = if batches {
            let polled = consumer.poll_batches(wait).await?;
            let mut records = Vec::new();
            for batch in &polled {
                records.extend(owned_records(batch)?);
            }
            (records, !polled.is_empty())
        } else {
            let records = consumer.poll(wait).await?;
            let returned = !records.is_empty();
            (records, returned)
        };
        if !returned && consumer.position(&tp).await? < end {
            return Err(broker_embedded::Error::Timeout(format!(
                "partition {tp} stopped short of its high watermark {end}"
            )));
        }
        out.extend(polled);
    }
    Ok(out)
}

/// The records of a batch from [`Consumer::poll_batches`](broker_embedded::Consumer::poll_batches),
/// copied into [`ConsumerRecord`]s. Walks the batch twice, with `next` and with `fold`, and panics
/// if the two differ.
pub fn owned_records(batch: &ConsumerBatch) -> broker_embedded::Result<Vec<ConsumerRecord>> {
    let topic: std::sync::Arc<str> = batch.topic().into();
    let owned = |r: broker_embedded::Result<broker_embedded::format::RecordRef<'_>>| {
        let r = r?.to_record();
        Ok(ConsumerRecord {
            topic: topic.clone(),
            partition: batch.partition(),
            offset: r.offset,
            timestamp: r.timestamp,
            key: r.key,
            value: r.value,
            headers: r.headers,
        })
    };
    let by_next: Vec<broker_embedded::Result<ConsumerRecord>> =
        batch.records().map(owned).collect();
    // Internal iteration (`fold`, `for_each`) walks the batch its own way: it must agree.
    let by_fold = batch.records().fold(Vec::new(), |mut v, r| {
        v.push(owned(r));
        v
    });
    let shown = |v: &[broker_embedded::Result<ConsumerRecord>]| format!("{v:?}");
    assert_eq!(shown(&by_fold), shown(&by_next), "records() walked by fold and by next differ");
    by_next.into_iter().collect()
}

/// A broker for streams tests in `dir/broker`: interval flush every 50 ms and a 50 ms initial
/// rebalance delay, so that application groups form quickly.
pub async fn streams_broker(dir: &std::path::Path) -> broker_embedded::Result<Broker> {
    let mut config = broker_embedded::BrokerConfig::new(dir.join("broker"))
        .durability(broker_embedded::Durability::Interval(Duration::from_millis(50)));
    config.group_initial_rebalance_delay = Duration::from_millis(50);
    Broker::open(config).await
}

/// A seed from `TEST_SEED` when set (to replay a failure), else from the clock; printed by callers.
pub fn seed_from_env() -> u64 {
    std::env::var("TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    })
}

/// Installs a tracing subscriber for tests (once), honouring `RUST_LOG`.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        .try_init();
}

/// Every path under `root` (relative to it, directories included), recursively, sorted. Temporary
/// files of atomic writes (`*.tmp`) are left out, since background checkpoints come and go.
pub fn tree(root: &std::path::Path) -> std::collections::BTreeSet<std::path::PathBuf> {
    fn walk(
        root: &std::path::Path,
        dir: &std::path::Path,
        out: &mut std::collections::BTreeSet<std::path::PathBuf>,
    ) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "tmp") {
                continue;
            }
            if let Ok(rel) = path.strip_prefix(root) {
                out.insert(rel.to_path_buf());
            }
            if path.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = std::collections::BTreeSet::new();
    walk(root, root, &mut out);
    out
}

/// The base offsets of the `.log` segment files in a partition directory, ascending, with each
/// file's size in bytes.
pub fn segment_files(partition_dir: &std::path::Path) -> Vec<(i64, u64)> {
    let mut out: Vec<(i64, u64)> = std::fs::read_dir(partition_dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    let path = e.path();
                    let base = path.file_name()?.to_str()?.strip_suffix(".log")?.parse().ok()?;
                    Some((base, e.metadata().ok()?.len()))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort_unstable();
    out
}
