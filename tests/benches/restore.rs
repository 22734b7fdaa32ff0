//! Restoring a RocksDB store from its changelog, as a ratio to plain RocksDB write batches of the
//! same records in the same run.
//!
//! ```text
//! cargo bench --workspace --bench restore [-- --records N --runs R --distinct D --seed X]
//! ```
//!
//! `N` changelog records (default 5 million) with 16-byte keys, drawn uniformly (seeded) from `D`
//! distinct keys (default `N / 5`: each key written five times on average), and 8-byte values
//! (the record's number, big-endian, so the last write of a key can be checked) are produced
//! straight into the changelog topic `restore-bench-counts-changelog` (one partition, compacted,
//! as the application would create it; the broker's log cleaner is set to run once a day, so no
//! compaction happens during the benchmark and all `N` records are replayed). Then, alternately
//! and `R` times (default 3):
//! - **restore**: a `KafkaStreams` application (`group_by_key().count()` into the RocksDB store
//!   `counts`, one stream thread) starts with an empty state directory, so its task restores the
//!   store from the changelog's start; timed by a `StateRestoreListener` from `on_restore_start`
//!   to `on_restore_end`. After `close()` the store is opened read-only and every key's value is
//!   checked against the last record written for it;
//! - **baseline**: the same records (keys and values held in memory) written into a fresh RocksDB
//!   database with the store's options (no compression, universal compaction, 16 MiB memtables,
//!   64 MiB block cache, bloom filters; write-ahead log off) in `WriteBatch`es of exactly the sizes
//!   the restore used (its listener's batches); timed around the write loop.
//!
//! Progress goes to stderr, the table to stdout (medians; CPU time of the whole process, RocksDB's
//! background threads included).

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use broker_embedded::{Broker, BrokerConfig, Durability, NewTopic, ProducerRecord};
use bytes::Bytes;
use integration_tests::bench::{
    BenchResult, Sample, Stopwatch, Summary, arg, cpu_time, full_run, median, producer_config,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use streams_dsl::prelude::*;

const APP: &str = "restore-bench";
const INPUT: &str = "restore-input";
const STORE: &str = "counts";
const KEY_BYTES: usize = 16;
const VALUE_BYTES: usize = 8;

/// The changelog's records, in memory: fixed-width keys and values, back to back.
struct Records {
    keys: Vec<u8>,
    values: Vec<u8>,
    /// For each distinct key, the number of the last record that wrote it (`None`: never written).
    last: Vec<Option<u64>>,
}

impl Records {
    fn new(records: usize, distinct: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut keys = Vec::with_capacity(records * KEY_BYTES);
        let mut values = Vec::with_capacity(records * VALUE_BYTES);
        let mut last = vec![None; distinct];
        for i in 0..records {
            let k = rng.random_range(0..distinct);
            keys.extend_from_slice(format!("{k:0width$}", width = KEY_BYTES).as_bytes());
            values.extend_from_slice(&(i as i64).to_be_bytes());
            last[k] = Some(i as u64);
        }
        Self { keys, values, last }
    }

    fn len(&self) -> usize {
        self.values.len() / VALUE_BYTES
    }

    fn key(&self, i: usize) -> &[u8] {
        &self.keys[i * KEY_BYTES..(i + 1) * KEY_BYTES]
    }

    fn value(&self, i: usize) -> &[u8] {
        &self.values[i * VALUE_BYTES..(i + 1) * VALUE_BYTES]
    }
}

async fn load_changelog(broker: &Broker, records: &Records, topic: &str) -> BenchResult<()> {
    let producer = broker.producer(producer_config())?;
    let topic: Arc<str> = Arc::from(topic);
    let n = records.len();
    let step = (n / 10).max(1);
    for i in 0..n {
        let record = ProducerRecord::new(topic.clone(), Bytes::copy_from_slice(records.value(i)))
            .key(Bytes::copy_from_slice(records.key(i)))
            .partition(0);
        drop(producer.send(record).await?);
        if (i + 1) % step == 0 {
            eprintln!("  loaded {} of {n} records", i + 1);
        }
    }
    producer.flush().await?;
    if let Some(e) = producer.take_send_error() {
        return Err(e.into());
    }
    Ok(())
}

/// What the restore listener saw.
#[derive(Default)]
struct Seen {
    start: Option<(Instant, f64)>,
    end: Option<(Instant, f64)>,
    total: u64,
    batches: Vec<usize>,
}

/// Times the restoration (`on_restore_start` .. `on_restore_end`) and notes each batch's size.
#[derive(Clone, Default)]
struct TimingListener {
    seen: Arc<Mutex<Seen>>,
    ended: Arc<AtomicU64>,
}

impl TimingListener {
    fn with<T>(&self, f: impl FnOnce(&mut Seen) -> T) -> T {
        f(&mut self.seen.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl StateRestoreListener for TimingListener {
    fn on_restore_start(&self, _: TaskId, _: &str, _: &str, _: i32, _: i64, _: i64) {
        let now = (Instant::now(), cpu_time());
        self.with(|s| s.start = Some(now));
    }
    fn on_batch_restored(&self, _: TaskId, _: &str, _: i64, records: usize) {
        self.with(|s| s.batches.push(records));
    }
    fn on_restore_end(&self, _: TaskId, _: &str, total: u64) {
        let now = (Instant::now(), cpu_time());
        self.with(|s| {
            s.end = Some(now);
            s.total = total;
        });
        self.ended.fetch_add(1, Ordering::SeqCst);
    }
}

/// One restore run.
struct RestoreRun {
    /// `on_restore_start` .. `on_restore_end`.
    restore: Sample,
    /// `start()` .. `on_restore_end`.
    from_start: Sample,
    batches: Vec<usize>,
}

async fn restore(broker: &Broker, records: &Records) -> BenchResult<RestoreRun> {
    let builder = StreamsBuilder::new();
    builder
        .stream_with::<Bytes, Bytes>(&[INPUT], Consumed::with(Serdes::bytes(), Serdes::bytes()))
        .group_by_key()
        .count_with(Materialized::as_(STORE));
    // A fresh, empty state directory: nothing local, so the store is restored from the
    // changelog's start.
    let dir = tempfile::tempdir()?;
    let config = StreamsConfig::new(APP).state_dir(dir.path());
    let app = KafkaStreams::new(builder.build()?, config, broker)?;
    let listener = TimingListener::default();
    app.set_global_state_restore_listener(listener.clone());
    let started = Instant::now();
    let cpu_started = cpu_time();
    app.start()?;
    let deadline = Instant::now() + Duration::from_secs(600);
    while listener.ended.load(Ordering::SeqCst) == 0 {
        if app.state() == State::Error {
            return Err(format!("the application failed: {:?}", app.failure()).into());
        }
        if Instant::now() > deadline {
            return Err("the restoration did not end within 10 minutes".into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let app = Arc::new(app);
    let closing = app.clone();
    let closed =
        tokio::task::spawn_blocking(move || closing.close(Duration::from_secs(120))).await?;
    if !closed || app.state() != State::NotRunning {
        return Err(format!("the application did not close cleanly: {:?}", app.failure()).into());
    }
    let (start, end, total, batches) =
        listener.with(|s| (s.start, s.end, s.total, std::mem::take(&mut s.batches)));
    let (Some((t0, c0)), Some((t1, c1))) = (start, end) else {
        return Err("the listener missed the restoration's start or end".into());
    };
    if total != records.len() as u64 || batches.iter().sum::<usize>() != records.len() {
        return Err(format!(
            "restored {total} records in batches of {} in all, expected {}",
            batches.iter().sum::<usize>(),
            records.len()
        )
        .into());
    }
    check_store(&dir.path().join(APP).join("0_0").join("rocksdb").join(STORE), records)?;
    Ok(RestoreRun {
        restore: Sample { secs: (t1 - t0).as_secs_f64(), cpu_secs: c1 - c0 },
        from_start: Sample { secs: (t1 - started).as_secs_f64(), cpu_secs: c1 - cpu_started },
        batches,
    })
}

/// Every written key holds the value of its last record, and no other key is present.
fn check_store(path: &Path, records: &Records) -> BenchResult<()> {
    let db = rocksdb::DB::open_for_read_only(&rocksdb::Options::default(), path, false)?;
    let mut keys = 0usize;
    for item in db.iterator(rocksdb::IteratorMode::Start) {
        let (key, value) = item?;
        let k: usize = std::str::from_utf8(&key)?.parse()?;
        let expected = records.last.get(k).copied().flatten().map(|i| (i as i64).to_be_bytes());
        // A timestamped value: the record's timestamp (8 bytes), then the value.
        if expected.as_ref().map(|e| &e[..]) != value.get(8..) {
            return Err(format!("key {k} holds {value:?}, expected {expected:?}").into());
        }
        keys += 1;
    }
    let written = records.last.iter().filter(|l| l.is_some()).count();
    if keys != written {
        return Err(format!("the store holds {keys} keys, expected {written}").into());
    }
    Ok(())
}

/// The store's RocksDB options (`state_stores::RocksDbConfig::options` with the runtime's 64 MiB
/// block cache).
fn store_options(cache: &rocksdb::Cache) -> rocksdb::Options {
    let mut table = rocksdb::BlockBasedOptions::default();
    table.set_block_cache(cache);
    table.set_block_size(4 * 1024);
    table.set_bloom_filter(10.0, false);
    table.set_cache_index_and_filter_blocks(true);
    table.set_pin_l0_filter_and_index_blocks_in_cache(true);
    let mut options = rocksdb::Options::default();
    options.create_if_missing(true);
    options.set_block_based_table_factory(&table);
    options.set_compression_type(rocksdb::DBCompressionType::None);
    options.set_compaction_style(rocksdb::DBCompactionStyle::Universal);
    options.set_write_buffer_size(16 * 1024 * 1024);
    options.set_max_write_buffer_number(3);
    let cores = std::thread::available_parallelism().map_or(2, usize::from).max(2);
    options.increase_parallelism(i32::try_from(cores).unwrap_or(2));
    options.set_log_level(rocksdb::LogLevel::Error);
    options
}

/// The same records in `WriteBatch`es of the given sizes, WAL off, into a fresh database.
fn baseline(records: &Records, batches: &[usize]) -> BenchResult<Sample> {
    let dir = tempfile::tempdir()?;
    let cache = rocksdb::Cache::new_lru_cache(64 << 20);
    let db = rocksdb::DB::open(&store_options(&cache), dir.path())?;
    let mut write = rocksdb::WriteOptions::default();
    write.disable_wal(true);
    let clock = Stopwatch::start();
    let mut i = 0;
    for &size in batches {
        let mut batch = rocksdb::WriteBatch::default();
        for j in i..i + size {
            batch.put(records.key(j), records.value(j));
        }
        db.write_opt(batch, &write)?;
        i += size;
    }
    let sample = clock.sample();
    if i != records.len() {
        return Err(format!("the batches cover {i} records, not {}", records.len()).into());
    }
    drop(db);
    Ok(sample)
}

fn report(what: &str, s: &Sample, records: usize) {
    eprintln!(
        "  {what:<28} {:>7.3} s  {:>11.0} records/s  cpu {:.2} s",
        s.secs,
        records as f64 / s.secs,
        s.cpu_secs
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> BenchResult<()> {
    let n: usize = arg("--records", if full_run() { 5_000_000 } else { 50_000 });
    let runs: usize = arg("--runs", if full_run() { 3 } else { 1 });
    let distinct: usize = arg("--distinct", (n / 5).max(1));
    let seed: u64 = arg("--seed", 7);

    eprintln!("generating {n} records over {distinct} keys, seed {seed}");
    let records = Records::new(n, distinct, seed);
    let written = records.last.iter().filter(|l| l.is_some()).count();

    let dir = tempfile::tempdir()?;
    let mut config =
        BrokerConfig::new(dir.path()).durability(Durability::Interval(Duration::from_secs(1)));
    config.group_initial_rebalance_delay = Duration::ZERO;
    // No compaction of the changelog while the benchmark runs: every run replays all N records.
    config.log_cleanup_interval = Duration::from_secs(24 * 3600);
    let broker = Broker::open(config).await?;
    let admin = broker.admin();
    admin.create_topic(NewTopic::new(INPUT, 1)).await?;
    let changelog = format!("{APP}-{STORE}-changelog");
    admin.create_topic(NewTopic::new(&changelog, 1).config("cleanup.policy", "compact")).await?;
    eprintln!("loading {n} records into {changelog}");
    load_changelog(&broker, &records, &changelog).await?;

    let (mut restores, mut from_start, mut bases) = (Vec::new(), Vec::new(), Vec::new());
    let mut sizes: HashMap<usize, usize> = HashMap::new();
    let mut batch_count = 0;
    for run in 1..=runs {
        eprintln!("[run {run}/{runs}]");
        let r = restore(&broker, &records).await?;
        report("restore (listener)", &r.restore, n);
        report("restore (from start())", &r.from_start, n);
        restores.push(r.restore);
        from_start.push(r.from_start);
        let b = baseline(&records, &r.batches)?;
        report("RocksDB WriteBatch loop", &b, n);
        bases.push(b);
        batch_count = r.batches.len();
        for s in &r.batches {
            *sizes.entry(*s).or_default() += 1;
        }
    }
    broker.close().await?;

    let all_sizes: Vec<f64> =
        sizes.iter().flat_map(|(&s, &c)| std::iter::repeat_n(s as f64, c)).collect();
    let (min, max) =
        (sizes.keys().min().copied().unwrap_or(0), sizes.keys().max().copied().unwrap_or(0));
    let restore = Summary::of(&restores, n);
    let from_start = Summary::of(&from_start, n);
    let base = Summary::of(&bases, n);
    println!(
        "restore: {n} changelog records ({written} distinct keys, {KEY_BYTES}-byte keys, \
         {VALUE_BYTES}-byte values), RocksDB store, median of {runs} run(s)"
    );
    println!(
        "restore batches: {batch_count} per run, {min}..{max} records (median {:.0})",
        median(all_sizes)
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
    row("RocksDB WriteBatch loop (WAL off)", &base);
    row("restore (on_restore_start .. end)", &restore);
    row("restore, from start() (join + restore)", &from_start);
    println!(
        "restore / baseline: throughput {:.1} %, per core {:.1} %",
        100.0 * restore.rate / base.rate,
        100.0 * restore.per_cpu / base.per_cpu
    );
    let met = restore.rate >= 0.7 * base.rate;
    println!(
        "goal: restore >= 70 % of the WriteBatch loop's throughput: {}",
        if met { "met" } else { "NOT met" }
    );
    Ok(())
}
