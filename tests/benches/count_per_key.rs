//! Counting records per key (`stream.group_by_key().count()`, RocksDB store, one stream thread)
//! on the embedded broker, with the record cache on and off, as ratios to the stateless pipeline
//! and to a plain `HashMap` count of the same keys, all in the same run.
//!
//! ```text
//! cargo bench --workspace --bench count_per_key [-- --records N --runs R --off-runs O
//!     --keys K --exponent S --seed X --max-poll-records M]
//! ```
//!
//! `N` records (default 10 million) with 8-byte keys drawn from a Zipf distribution over `K` keys
//! (default 10,000, exponent `S` = 1.0, seeded) and 8-byte values are loaded into a one-partition
//! topic. Then, alternately and `R` times (default 5), each phase after a `sync` and a short pause
//! (so that the page-cache writeback of one phase does not land on the next):
//! - the stateless pipeline (`map_values`, `filter`, sink; see `stateless_pipeline.rs`), timed
//!   until its output holds all `N` records;
//! - `group_by_key().count()` with `statestore.cache.max.bytes` 10 MiB (the default: cache on);
//! - the same with `statestore.cache.max.bytes` 0 (cache off: every update goes to RocksDB and the
//!   changelog), in the first `O` runs only (default 3; ~40 s each);
//! - a loop counting the same key sequence, held in memory, in a `HashMap<Bytes, u64>`.
//!
//! A count run is timed from `start()` until `close()` has returned, `close()` being called as
//! soon as a counting timestamp extractor has seen all `N` records (the thread then has at most
//! one poll's worth of records left to process). `close()` makes the final commit: the cache's
//! dirty entries go to RocksDB and the changelog, RocksDB flushes its memtables, and the input
//! offsets are committed; so the time covers all the work, not just the cache updates. The
//! default commit interval (30 s) applies; `poll.ms` is 10 ms so that `close()` is noticed within
//! 10 ms. The time until the extractor has seen all records is reported too.
//!
//! Each count run is checked afterwards: the committed input offset is `N`, and the counts read
//! from the closed RocksDB store equal the in-memory counts (so they sum to `N`).
//!
//! Progress goes to stderr, the table to stdout: medians of wall time, CPU time of the whole
//! process, records/s and records per CPU-second, and the ratios. The goal is judged on the
//! median of each run's own ratio (count with the cache on against the stateless pipeline of the
//! same run): on a shared virtual machine the speed of the same phase varies by up to half from
//! one run to the next, and a count and the pipeline run a few seconds apart see the same
//! conditions more often than the medians of separate phases do.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use broker_embedded::{
    Broker, BrokerConfig, ConsumerConfig, Durability, NewTopic, ProducerRecord, TopicPartition,
};
use bytes::Bytes;
use integration_tests::bench::{
    BenchResult, Sample, Stopwatch, Summary, Zipf, arg, full_run, high_watermark, median,
    producer_config, settle, stateless_pipeline,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use streams_core::{Extracted, FailOnInvalidTimestamp, RawRecord};
use streams_dsl::prelude::*;

const INPUT: &str = "input";
const STORE: &str = "counts";

/// The record's own timestamp (failing on negative ones, like the default extractor), counting
/// the records it has seen.
struct CountingExtractor {
    seen: Arc<AtomicU64>,
}

impl TimestampExtractor for CountingExtractor {
    fn extract(&self, record: &RawRecord, partition_time: i64) -> Extracted {
        self.seen.fetch_add(1, Ordering::Relaxed);
        FailOnInvalidTimestamp.extract(record, partition_time)
    }
}

/// The workload: the distinct keys, and which of them each record carries.
struct Workload {
    keys: Vec<Bytes>,
    sequence: Vec<u32>,
}

impl Workload {
    fn new(records: usize, keys: usize, exponent: f64, seed: u64) -> BenchResult<Self> {
        let zipf = Zipf::new(keys, exponent)?;
        let mut rng = StdRng::seed_from_u64(seed);
        let sequence = (0..records).map(|_| zipf.rank(rng.random::<f64>()) as u32).collect();
        let keys = (0..keys).map(|k| Bytes::from(format!("k{k:07}"))).collect();
        Ok(Self { keys, sequence })
    }

    /// How many records carry each key.
    fn expected_counts(&self) -> Vec<u64> {
        let mut counts = vec![0u64; self.keys.len()];
        for &k in &self.sequence {
            counts[k as usize] += 1;
        }
        counts
    }
}

async fn preload(broker: &Broker, workload: &Workload) -> BenchResult<()> {
    let producer = broker.producer(producer_config())?;
    let topic: Arc<str> = Arc::from(INPUT);
    let value = Bytes::from_static(b"value-01");
    let records = workload.sequence.len();
    let step = (records / 10).max(1);
    for (i, &k) in workload.sequence.iter().enumerate() {
        let key = workload.keys[k as usize].clone();
        drop(producer.send(ProducerRecord::new(topic.clone(), value.clone()).key(key)).await?);
        if (i + 1) % step == 0 {
            eprintln!("  loaded {} of {records} records", i + 1);
        }
    }
    producer.flush().await?;
    Ok(())
}

/// One count run's times and what it left behind.
struct CountRun {
    /// From `start()` until `close()` returned.
    done: Sample,
    /// From `start()` until the extractor had seen every record.
    seen: Sample,
    /// Records in the store's changelog.
    changelog_records: i64,
}

/// `group_by_key().count()` into RocksDB with a record cache of `cache_bytes`; checks the counts.
async fn count(
    broker: &Broker,
    workload: &Workload,
    expected: &[u64],
    app_id: &str,
    cache_bytes: usize,
    max_poll: usize,
) -> BenchResult<CountRun> {
    let records = workload.sequence.len() as u64;
    let builder = StreamsBuilder::new();
    builder
        .stream_with::<Bytes, Bytes>(&[INPUT], Consumed::with(Serdes::bytes(), Serdes::bytes()))
        .group_by_key()
        .count_with(Materialized::as_(STORE));
    let dir = tempfile::tempdir()?;
    let seen = Arc::new(AtomicU64::new(0));
    let mut config = StreamsConfig::new(app_id)
        .state_dir(dir.path())
        .statestore_cache_max_bytes(cache_bytes)
        .default_timestamp_extractor(CountingExtractor { seen: seen.clone() });
    config.max_poll_records = max_poll;
    config.poll_interval = Duration::from_millis(10);
    let app = KafkaStreams::new(builder.build()?, config, broker)?;
    let clock = Stopwatch::start();
    app.start()?;
    while seen.load(Ordering::Relaxed) < records {
        if app.state() == State::Error {
            return Err(format!("the application failed: {:?}", app.failure()).into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let seen_sample = clock.sample();
    let app = Arc::new(app);
    let closing = app.clone();
    let closed =
        tokio::task::spawn_blocking(move || closing.close(Duration::from_secs(120))).await?;
    let done = clock.sample();
    if !closed || app.state() != State::NotRunning {
        return Err(format!(
            "the application did not close cleanly: {:?} {:?}",
            app.state(),
            app.failure()
        )
        .into());
    }

    // Every input offset committed ...
    let checker = broker.consumer(ConsumerConfig::group(app_id))?;
    let committed = checker.committed(&[TopicPartition::new(INPUT, 0)]).await?;
    let offset = committed.first().and_then(|(_, c)| c.as_ref()).map_or(0, |c| c.offset);
    if offset as u64 != records {
        return Err(format!("committed input offset {offset}, expected {records}").into());
    }
    // ... and the store holds the true counts.
    let store = dir.path().join(app_id).join("0_0").join("rocksdb").join(STORE);
    check_store(&store, workload, expected)?;
    let changelog_records = high_watermark(broker, &format!("{app_id}-{STORE}-changelog"))?;
    Ok(CountRun { done, seen: seen_sample, changelog_records })
}

/// Reads every count from the closed store and compares it with the expected counts.
fn check_store(path: &Path, workload: &Workload, expected: &[u64]) -> BenchResult<()> {
    let db = rocksdb::DB::open_for_read_only(&rocksdb::Options::default(), path, false)?;
    let index: HashMap<&[u8], usize> =
        workload.keys.iter().enumerate().map(|(i, k)| (k.as_ref(), i)).collect();
    let mut found = vec![0u64; expected.len()];
    let mut total = 0u64;
    for item in db.iterator(rocksdb::IteratorMode::Start) {
        let (key, value) = item?;
        let Some(&k) = index.get(key.as_ref()) else {
            return Err(format!("the store holds an unknown key {key:?}").into());
        };
        // A timestamped value: the timestamp (8 bytes), then the count (8 bytes).
        let count = i64::from_be_bytes(
            value
                .get(8..)
                .and_then(|c| c.try_into().ok())
                .ok_or("a count in the store is not 8 bytes after its timestamp")?,
        );
        found[k] = count as u64;
        total += count as u64;
    }
    if found != expected {
        let wrong = found.iter().zip(expected).filter(|(f, e)| f != e).count();
        return Err(format!("{wrong} keys have a wrong count in the store (sum {total})").into());
    }
    if total != workload.sequence.len() as u64 {
        return Err(format!("the counts sum to {total}").into());
    }
    Ok(())
}

/// The same keys counted in a `HashMap`, from memory.
fn hashmap_count(workload: &Workload, expected: &[u64]) -> BenchResult<Sample> {
    let clock = Stopwatch::start();
    let mut map: HashMap<Bytes, u64> = HashMap::new();
    for &k in &workload.sequence {
        let key = &workload.keys[k as usize];
        match map.get_mut(key.as_ref()) {
            Some(c) => *c += 1,
            None => {
                map.insert(key.clone(), 1);
            }
        }
    }
    let sample = clock.sample();
    for (k, key) in workload.keys.iter().enumerate() {
        if map.get(key.as_ref()).copied().unwrap_or(0) != expected[k] {
            return Err(format!("the HashMap miscounted key {k}").into());
        }
    }
    Ok(sample)
}

fn report(what: &str, s: &Sample, records: usize) {
    eprintln!(
        "  {what:<22} {:>7.3} s  {:>11.0} records/s  cpu {:.2} s",
        s.secs,
        records as f64 / s.secs,
        s.cpu_secs
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> BenchResult<()> {
    let records: usize = arg("--records", if full_run() { 10_000_000 } else { 50_000 });
    let runs: usize = arg("--runs", if full_run() { 5 } else { 1 });
    // The cache-off count takes ~40 s per run on 10 M records; it is measured on the first runs.
    let off_runs: usize = arg("--off-runs", if full_run() { 3 } else { 1 }).clamp(1, runs.max(1));
    let keys: usize = arg("--keys", 10_000);
    let exponent: f64 = arg("--exponent", 1.0);
    let seed: u64 = arg("--seed", 42);
    let max_poll: usize = arg("--max-poll-records", 1000);
    let cache_on = StreamsConfig::new("defaults").statestore_cache_max_bytes;

    eprintln!("drawing {records} keys from Zipf({keys}, {exponent}), seed {seed}");
    let workload = Workload::new(records, keys, exponent, seed)?;
    let expected = workload.expected_counts();
    let distinct = expected.iter().filter(|&&c| c > 0).count();
    let top = expected.iter().max().copied().unwrap_or(0);
    eprintln!("  {distinct} distinct keys; the most frequent carries {top} records");

    let dir = tempfile::tempdir()?;
    let mut config =
        BrokerConfig::new(dir.path()).durability(Durability::Interval(Duration::from_secs(1)));
    config.group_initial_rebalance_delay = Duration::ZERO;
    let broker = Broker::open(config).await?;
    broker.admin().create_topic(NewTopic::new(INPUT, 1)).await?;
    eprintln!("loading {records} records");
    preload(&broker, &workload).await?;

    let (mut stateless, mut on, mut on_seen, mut off, mut hash) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut on_changelog, mut off_changelog) = (0, 0);
    for run in 1..=runs {
        eprintln!("[run {run}/{runs}]");
        let out = format!("stateless-out-{run}");
        broker.admin().create_topic(NewTopic::new(&out, 1)).await?;
        settle();
        let s = stateless_pipeline(
            &broker,
            INPUT,
            records,
            &out,
            &format!("stateless-{run}"),
            1,
            max_poll,
        )
        .await?;
        report("stateless pipeline", &s, records);
        stateless.push(s);
        broker.admin().delete_topic(&out).await?;

        settle();
        let c =
            count(&broker, &workload, &expected, &format!("count-on-{run}"), cache_on, max_poll)
                .await?;
        report("count, cache on", &c.done, records);
        on.push(c.done);
        on_seen.push(c.seen);
        on_changelog = c.changelog_records;

        if run <= off_runs {
            settle();
            let c = count(&broker, &workload, &expected, &format!("count-off-{run}"), 0, max_poll)
                .await?;
            report("count, cache off", &c.done, records);
            off.push(c.done);
            off_changelog = c.changelog_records;
        }

        let h = hashmap_count(&workload, &expected)?;
        report("HashMap", &h, records);
        hash.push(h);
    }
    broker.close().await?;

    // Each run's own ratio: the count and the stateless pipeline it ran beside, a few seconds
    // apart, share whatever the machine was doing then.
    let paired: Vec<f64> =
        on.iter().zip(&stateless).map(|(c, s)| 100.0 * s.secs / c.secs).collect();
    let st = Summary::of(&stateless, records);
    let on = Summary::of(&on, records);
    let on_seen = Summary::of(&on_seen, records);
    let off = Summary::of(&off, records);
    let hash = Summary::of(&hash, records);
    println!(
        "count per key: {records} records, {distinct} distinct keys (Zipf over {keys}, exponent \
         {exponent}, seed {seed}), 8-byte keys and values, 1 stream thread, RocksDB store, \
         median of {runs} run(s) ({off_runs} with the cache off)"
    );
    println!(
        "{:<44} {:>9} {:>13} {:>9} {:>20}",
        "", "wall s", "records/s", "cpu s", "records/cpu-second"
    );
    let row = |name: &str, s: &Summary| {
        println!(
            "{name:<44} {:>9.3} {:>13.0} {:>9.2} {:>20.0}",
            s.secs, s.rate, s.cpu_secs, s.per_cpu
        );
    };
    row("stateless pipeline (map_values, filter)", &st);
    row(&format!("count, cache on ({cache_on} B), until closed"), &on);
    row("count, cache on, until all records seen", &on_seen);
    row("count, cache off (0 B), until closed", &off);
    row("HashMap<Bytes, u64> count (in memory)", &hash);
    println!(
        "changelog records: cache on {on_changelog}, cache off {off_changelog} (last run); counts \
         checked in the store and input offsets committed in every run"
    );
    let ratio = |a: &Summary, b: &Summary| {
        format!(
            "throughput {:.1} %, per core {:.1} %",
            100.0 * a.rate / b.rate,
            100.0 * a.per_cpu / b.per_cpu
        )
    };
    println!("count (cache on) / stateless:  {}", ratio(&on, &st));
    println!("count (cache off) / stateless: {}", ratio(&off, &st));
    println!("count (cache on) / HashMap:    {}", ratio(&on, &hash));
    println!("count (cache off) / HashMap:   {}", ratio(&off, &hash));
    let per_run: Vec<String> = paired.iter().map(|r| format!("{r:.1} %")).collect();
    let paired_median = median(paired.clone());
    println!(
        "count (cache on) / stateless, run by run: {} (median {paired_median:.1} %)",
        per_run.join(", ")
    );
    let met = paired_median >= 80.0;
    println!(
        "goal: count with the cache on >= 80 % of the stateless pipeline's throughput (median of \
         the runs' own ratios): {}",
        if met { "met" } else { "NOT met" }
    );
    Ok(())
}
