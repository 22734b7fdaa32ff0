//! Log throughput of the embedded broker, measured against plain sequential file I/O with `std::fs`
//! on the same machine, in the same run, with the same bytes.
//!
//! ```text
//! cargo bench -p broker-embedded --bench log_throughput [-- --records N --runs N --dir PATH --only GROUP,..]
//! ```
//!
//! Without `--bench` on the command line (as under `cargo test --benches`), or with `--quick`, it
//! does a tiny smoke run. `LOG_BENCH_RECORDS`, `LOG_BENCH_RUNS` and `LOG_BENCH_DIR` set the same
//! things as the flags. Progress goes to stderr, the result table to stdout.
//!
//! What is measured (each `--runs` times, the median reported):
//! - plain write + fsync: one `write` per 1000-record batch's worth of bytes, `fdatasync` after each;
//! - broker produce, `Durability::SyncOnAck`: send every record (`send_all_detached`, 1000 records
//!   per call), then `flush` (all acknowledged, hence fsynced);
//! - plain write: the same writes with one `fdatasync` at the end;
//! - broker produce, `Durability::Interval(1 s)`: send every record, `flush` (all acknowledged),
//!   then `close` (everything fsynced, like the baseline's final fsync);
//! - plain read: read the plain-write file back sequentially in batch-sized chunks (from the page
//!   cache);
//! - broker consume: reopen the interval-mode broker and read every record back with a consumer
//!   (from the page cache): with `poll_batches` walking each batch in place (CRCs checked, then
//!   not), and with `poll`. Each broker read runs right after a plain read, and its ratio is the
//!   median of those pairs' ratios (`READ_PAIRS` pairs per run for each `poll_batches` row).

use std::error::Error;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use broker_embedded::format::{BatchBuilder, batches};
use broker_embedded::{
    Broker, BrokerConfig, ConsumerConfig, Durability, NewTopic, OffsetReset, ProducerConfig,
    ProducerRecord, ProducerRecordRef, TopicPartition,
};
use bytes::Bytes;

type BenchResult<T> = Result<T, Box<dyn Error>>;

const VALUE_LEN: usize = 100;
const BATCH_RECORDS: usize = 1000;
const TOPIC: &str = "bench";
const FLUSH_INTERVAL: Duration = Duration::from_secs(1);
const DEFAULT_RECORDS: usize = 5_000_000;
const DEFAULT_RUNS: usize = 3;
const QUICK_RECORDS: usize = 20_000;
/// Pairs of (plain read, broker read) per run for each `poll_batches` row.
const READ_PAIRS: usize = 3;
/// Linux reports process CPU time in `/proc/self/stat` in units of `USER_HZ`, which is 100 on
/// every architecture Linux supports.
const USER_HZ: f64 = 100.0;

struct Options {
    records: usize,
    runs: usize,
    dir: Option<PathBuf>,
    /// Which groups of measurements run (all by default): `plain-sync`, `broker-sync`, `plain`
    /// (write with one fsync, then read), `broker` (interval-mode produce, then consume).
    only: Vec<String>,
    /// A tiny smoke run (under `cargo test --benches`, or `--quick`).
    quick: bool,
}

const GROUPS: [&str; 4] = ["plain-sync", "broker-sync", "plain", "broker"];

impl Options {
    fn runs_group(&self, group: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|g| g == group)
    }
}

impl Options {
    fn parse() -> BenchResult<Self> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let env_num = |name: &str| -> BenchResult<Option<usize>> {
            match std::env::var(name) {
                Ok(v) => Ok(Some(
                    v.trim().replace('_', "").parse().map_err(|e| format!("{name}={v}: {e}"))?,
                )),
                Err(_) => Ok(None),
            }
        };
        // `cargo bench` passes `--bench`; `cargo test --benches` does not: then only a smoke run.
        let quick = args.iter().any(|a| a == "--quick") || !args.iter().any(|a| a == "--bench");
        let mut records = env_num("LOG_BENCH_RECORDS")?;
        let mut runs = env_num("LOG_BENCH_RUNS")?;
        let mut dir = std::env::var_os("LOG_BENCH_DIR").map(PathBuf::from);
        let mut only = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value =
                |flag: &str| it.next().cloned().ok_or_else(|| format!("{flag} needs a value"));
            match a.as_str() {
                "--records" => {
                    let v = value("--records")?;
                    records = Some(
                        v.replace('_', "").parse().map_err(|e| format!("--records {v}: {e}"))?,
                    );
                }
                "--runs" => {
                    let v = value("--runs")?;
                    runs = Some(v.parse().map_err(|e| format!("--runs {v}: {e}"))?);
                }
                "--dir" => dir = Some(PathBuf::from(value("--dir")?)),
                "--only" => {
                    for g in value("--only")?.split(',') {
                        if !GROUPS.contains(&g) {
                            return Err(format!("--only {g}: expected one of {GROUPS:?}").into());
                        }
                        only.push(g.to_string());
                    }
                }
                "--help" | "-h" => {
                    eprintln!(
                        "log_throughput [--records N] [--runs N] [--dir PATH] [--only GROUP,..] [--quick]\n\
                         groups: plain-sync, broker-sync, plain, broker\n\
                         env: LOG_BENCH_RECORDS, LOG_BENCH_RUNS, LOG_BENCH_DIR"
                    );
                    std::process::exit(0);
                }
                // `--bench`, `--quick` and anything cargo's harness conventions add.
                _ => {}
            }
        }
        let (default_records, default_runs) =
            if quick { (QUICK_RECORDS, 1) } else { (DEFAULT_RECORDS, DEFAULT_RUNS) };
        let records = records.unwrap_or(default_records).max(1);
        let runs = runs.unwrap_or(default_runs).max(1);
        Ok(Self { records, runs, dir, only, quick })
    }
}

/// Wall-clock and CPU time of one measurement.
#[derive(Debug, Clone, Copy)]
struct Sample {
    secs: f64,
    cpu_secs: f64,
}

/// CPU time (user + system, all threads) this process has used so far, from `/proc/self/stat`.
fn cpu_time() -> f64 {
    let Ok(stat) = fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // The command name (field 2) may hold spaces; fields after it are space-separated. utime and
    // stime are fields 14 and 15, i.e. the 12th and 13th after the closing parenthesis.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return f64::NAN;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) as f64 / USER_HZ
}

struct Clock {
    wall: Instant,
    cpu: f64,
}

impl Clock {
    fn start() -> Self {
        Self { cpu: cpu_time(), wall: Instant::now() }
    }
    fn sample(&self) -> Sample {
        Sample { secs: self.wall.elapsed().as_secs_f64(), cpu_secs: cpu_time() - self.cpu }
    }
}

/// The bytes the log holds: full 1000-record batches and a last partial one.
struct Shape {
    /// One encoded 1000-record batch (as the producer builds it), written by the baselines.
    batch: Vec<u8>,
    /// The length of each write (one per batch).
    chunks: Vec<usize>,
    total_bytes: u64,
    timestamp: i64,
    value: Bytes,
}

impl Shape {
    fn new(records: usize) -> BenchResult<Self> {
        let timestamp =
            SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64)?;
        let value = Bytes::from(vec![b'x'; VALUE_LEN]);
        let build = |n: usize| -> BenchResult<Vec<u8>> {
            // Same shape as the producer's batches: idempotent, no key, no headers.
            let mut b = BatchBuilder::new().producer(0, 0, 0);
            for _ in 0..n {
                b.push(timestamp, None, Some(&value), &[]);
            }
            Ok(b.build(0)?.to_vec())
        };
        let batch = build(BATCH_RECORDS)?;
        let mut chunks = vec![batch.len(); records / BATCH_RECORDS];
        if records % BATCH_RECORDS != 0 {
            chunks.push(build(records % BATCH_RECORDS)?.len());
        }
        let total_bytes = chunks.iter().map(|&c| c as u64).sum();
        Ok(Self { batch, chunks, total_bytes, timestamp, value })
    }

    /// The producer's `batch_size`: a batch ships when it reaches this many bytes, which happens
    /// exactly at its 1000th record.
    fn batch_size(&self) -> usize {
        self.batch.len()
    }
}

fn plain_write(path: &Path, shape: &Shape, fsync_each: bool) -> BenchResult<()> {
    let mut f = OpenOptions::new().write(true).create_new(true).open(path)?;
    for &len in &shape.chunks {
        f.write_all(&shape.batch[..len])?;
        if fsync_each {
            f.sync_data()?;
        }
    }
    if !fsync_each {
        f.sync_data()?;
    }
    Ok(())
}

fn plain_read(path: &Path, shape: &Shape) -> BenchResult<()> {
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; shape.batch_size()];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    if total != shape.total_bytes {
        return Err(format!("plain read got {total} bytes, wrote {}", shape.total_bytes).into());
    }
    Ok(())
}

async fn open_broker(dir: &Path, durability: Durability) -> BenchResult<Broker> {
    Ok(Broker::open(BrokerConfig::new(dir).durability(durability)).await?)
}

/// How the producer is given the records.
#[derive(Clone, Copy)]
enum SendApi {
    /// `send_all_borrowed`, one call per 1000-record batch: records borrow the shared value.
    Borrowed,
    /// `send_detached` per record, each an owned `ProducerRecord` (a clone of one shared `Arc<str>`
    /// topic and one shared `Bytes` value, as `ProducerRecord` advises).
    Owned,
}

/// Produces every record; returns the time until all are acknowledged (`flush` returned) and the
/// time until the broker is closed (everything fsynced).
async fn produce(
    dir: &Path,
    durability: Durability,
    shape: &Shape,
    records: usize,
    api: SendApi,
) -> BenchResult<(Sample, Sample)> {
    let broker = open_broker(dir, durability).await?;
    broker.admin().create_topic(NewTopic::new(TOPIC, 1)).await?;
    let clock = Clock::start();
    let producer = broker.producer(
        ProducerConfig::default().batch_size(shape.batch_size()).linger(Duration::from_secs(5)),
    )?;
    // No future per record: `flush` below waits for every acknowledgement, a failed one is
    // reported by `take_send_error`, and the log end offset is checked afterwards.
    match api {
        SendApi::Borrowed => {
            let mut left = records;
            while left > 0 {
                let n = left.min(BATCH_RECORDS);
                let batch = (0..n).map(|_| {
                    ProducerRecordRef::new(TOPIC, &shape.value)
                        .partition(0)
                        .timestamp(shape.timestamp)
                });
                producer.send_all_borrowed(batch).await?;
                left -= n;
            }
        }
        SendApi::Owned => {
            let topic: std::sync::Arc<str> = TOPIC.into();
            for _ in 0..records {
                let record = ProducerRecord::new(topic.clone(), shape.value.clone())
                    .partition(0)
                    .timestamp(shape.timestamp);
                producer.send_detached(record).await?;
            }
        }
    }
    producer.flush().await?;
    if let Some(e) = producer.take_send_error() {
        return Err(format!("a delivery failed: {e}").into());
    }
    let acked = clock.sample();
    broker.close().await?;
    let durable = clock.sample();
    drop(producer);
    Ok((acked, durable))
}

/// How the consumer reads.
#[derive(Clone, Copy)]
enum ReadApi {
    /// `poll`: one `ConsumerRecord` per record.
    Poll,
    /// `poll_batches`: batches walked in place.
    Batches,
}

/// Reopens the broker and reads every record back with a consumer, checking each record's offset
/// and value size.
async fn consume(
    dir: &Path,
    records: usize,
    api: ReadApi,
    check_crcs: bool,
) -> BenchResult<Sample> {
    let broker = open_broker(dir, Durability::Interval(FLUSH_INTERVAL)).await?;
    let clock = Clock::start();
    let config = ConsumerConfig { check_crcs, ..ConsumerConfig::default() };
    let consumer = broker.consumer(config.offset_reset(OffsetReset::Earliest))?;
    consumer.assign(&[TopicPartition::new(TOPIC, 0)])?;
    let (mut next, mut value_bytes) = (0i64, 0u64);
    let mut seen = 0usize;
    while seen < records {
        let before = seen;
        match api {
            ReadApi::Poll => {
                for r in consumer.poll(Duration::from_secs(5)).await? {
                    if r.offset != next {
                        return Err(out_of_order(next, r.offset));
                    }
                    next += 1;
                    value_bytes += r.value.as_ref().map_or(0, Bytes::len) as u64;
                    seen += 1;
                }
            }
            ReadApi::Batches => {
                for batch in consumer.poll_batches(Duration::from_secs(5)).await? {
                    // Per batch, the checks on locals (kept in registers), then folded in.
                    let (mut expected, mut bytes, mut n) = (next, 0u64, 0usize);
                    for r in batch.records() {
                        let r = r?;
                        if r.offset != expected {
                            return Err(out_of_order(expected, r.offset));
                        }
                        expected += 1;
                        bytes += r.value.map_or(0, <[u8]>::len) as u64;
                        n += 1;
                    }
                    next = expected;
                    value_bytes += bytes;
                    seen += n;
                }
            }
        }
        if seen == before {
            return Err(format!("consumer stalled at offset {seen} of {records}").into());
        }
    }
    let sample = clock.sample();
    if value_bytes != (records * VALUE_LEN) as u64 {
        return Err(
            format!("read {value_bytes} value bytes, expected {}", records * VALUE_LEN).into()
        );
    }
    broker.close().await?;
    Ok(sample)
}

fn out_of_order(expected: i64, got: i64) -> Box<dyn Error> {
    format!("expected offset {expected}, got {got}").into()
}

/// Checks the log holds `records` records in batches of 1000 and returns its size in bytes.
fn check_log(dir: &Path, records: usize) -> BenchResult<(u64, usize)> {
    let part = dir.join(format!("{TOPIC}-0"));
    let mut logs: Vec<PathBuf> = fs::read_dir(&part)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    let (mut bytes, mut count, mut batch_count) = (0u64, 0usize, 0usize);
    for log in logs {
        let data = fs::read(&log)?;
        bytes += data.len() as u64;
        for item in batches(&data) {
            let (h, _) = item?;
            let n = h.record_count as usize;
            batch_count += 1;
            if n != BATCH_RECORDS && count + n != records {
                return Err(
                    format!("batch {batch_count} holds {n} records, not {BATCH_RECORDS}").into()
                );
            }
            count += n;
        }
    }
    if count != records {
        return Err(format!("log holds {count} records, expected {records}").into());
    }
    Ok((bytes, batch_count))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

#[derive(Default)]
struct Series {
    samples: Vec<Sample>,
    /// For a measurement taken right after its baseline: baseline time / this time, per pair.
    paired: Vec<f64>,
}

impl Series {
    fn push(&mut self, s: Sample) {
        self.samples.push(s);
    }
    /// Records `s`, measured right after `baseline`, and their ratio.
    fn push_paired(&mut self, s: Sample, baseline: Sample) {
        self.samples.push(s);
        self.paired.push(baseline.secs / s.secs);
    }
    fn secs(&self) -> f64 {
        median(self.samples.iter().map(|s| s.secs).collect())
    }
    fn cpu(&self) -> f64 {
        median(self.samples.iter().map(|s| s.cpu_secs).collect())
    }
}

/// The 1-, 5- and 15-minute load averages: other work on the machine skews the numbers.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The file system holding `path`, from `/proc/self/mounts` (longest mount point that prefixes it).
fn file_system_of(path: &Path) -> String {
    let Ok(path) = path.canonicalize() else {
        return "unknown".into();
    };
    let Ok(mounts) = fs::read_to_string("/proc/self/mounts") else {
        return "unknown".into();
    };
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (dev, mnt, ty) = (f.next()?, f.next()?, f.next()?);
            path.starts_with(mnt).then(|| (mnt.len(), format!("{ty} on {dev} (mounted at {mnt})")))
        })
        .max_by_key(|(len, _)| *len)
        .map_or_else(|| "unknown".into(), |(_, s)| s)
}

fn step(label: &str, run: usize, runs: usize, s: Sample, records: usize) {
    eprintln!(
        "[run {run}/{runs}] {label:<40} {:>8.3} s  {:>11.0} records/s  cpu {:.2} s",
        s.secs,
        records as f64 / s.secs,
        s.cpu_secs
    );
}

fn main() -> BenchResult<()> {
    let opts = Options::parse()?;
    let shape = Shape::new(opts.records)?;
    let records = opts.records;
    let base = match &opts.dir {
        Some(d) => {
            fs::create_dir_all(d)?;
            tempfile::Builder::new().prefix("log-throughput-").tempdir_in(d)?
        }
        None => tempfile::Builder::new().prefix("log-throughput-").tempdir()?,
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    eprintln!(
        "log_throughput: {records} records of {VALUE_LEN} B values, batches of {BATCH_RECORDS} \
         records = {} B, {:.1} MB in total, {} run(s), data in {} ({})",
        shape.batch.len(),
        shape.total_bytes as f64 / 1e6,
        opts.runs,
        base.path().display(),
        file_system_of(base.path()),
    );

    let load_before = load_average();
    let (mut write_sync, mut produce_sync) = (Series::default(), Series::default());
    let (mut write, mut produce_acked, mut produce_durable, mut produce_owned) =
        (Series::default(), Series::default(), Series::default(), Series::default());
    let (mut read, mut consume_s, mut consume_b, mut consume_nocrc) =
        (Series::default(), Series::default(), Series::default(), Series::default());
    let mut log_info = None;
    let runs = opts.runs;
    for run in 1..=runs {
        if opts.runs_group("plain-sync") {
            // Plain write, fsync after every batch.
            let file = base.path().join("plain-sync.dat");
            let c = Clock::start();
            plain_write(&file, &shape, true)?;
            let s = c.sample();
            step("plain write + fsync per batch", run, runs, s, records);
            write_sync.push(s);
            fs::remove_file(&file)?;
        }

        if opts.runs_group("broker-sync") {
            // Broker, sync-on-ack.
            let dir = base.path().join("broker-sync");
            let (acked, _) = rt.block_on(produce(
                &dir,
                Durability::SyncOnAck,
                &shape,
                records,
                SendApi::Borrowed,
            ))?;
            step("broker produce SyncOnAck", run, runs, acked, records);
            produce_sync.push(acked);
            check_log(&dir, records)?;
            fs::remove_dir_all(&dir)?;
        }

        if opts.runs_group("plain") {
            // Plain write, one fsync at the end; then read back.
            let file = base.path().join("plain.dat");
            let c = Clock::start();
            plain_write(&file, &shape, false)?;
            let s = c.sample();
            step("plain write, fsync at end", run, runs, s, records);
            write.push(s);
        }

        if opts.runs_group("broker") {
            // Broker, interval durability; then consume.
            let dir = base.path().join("broker-interval");
            let owned_dir = base.path().join("broker-interval-owned");
            let interval = Durability::Interval(FLUSH_INTERVAL);
            let (acked, _) =
                rt.block_on(produce(&owned_dir, interval, &shape, records, SendApi::Owned))?;
            step("broker produce Interval, owned records, acked", run, runs, acked, records);
            produce_owned.push(acked);
            check_log(&owned_dir, records)?;
            fs::remove_dir_all(&owned_dir)?;
            let (acked, durable) =
                rt.block_on(produce(&dir, interval, &shape, records, SendApi::Borrowed))?;
            step("broker produce Interval, acked", run, runs, acked, records);
            step("broker produce Interval, closed (synced)", run, runs, durable, records);
            produce_acked.push(acked);
            produce_durable.push(durable);
        }

        // Reads, from the page cache. Each broker read runs right after a plain read of the same
        // bytes, and its ratio is taken against that one: this machine's speed changes within
        // seconds, and a pair sees it in one state.
        let plain_file = base.path().join("plain.dat");
        let broker_dir = base.path().join("broker-interval");
        let plain = opts.runs_group("plain");
        let mut baseline = || -> BenchResult<Option<Sample>> {
            if !plain {
                return Ok(None);
            }
            let c = Clock::start();
            plain_read(&plain_file, &shape)?;
            let s = c.sample();
            step("plain read (page cache)", run, runs, s, records);
            read.push(s);
            Ok(Some(s))
        };
        let broker_read = |label: &str,
                           api: ReadApi,
                           check_crcs: bool,
                           into: &mut Series,
                           baseline: Option<Sample>|
         -> BenchResult<()> {
            let s = rt.block_on(consume(&broker_dir, records, api, check_crcs))?;
            step(label, run, runs, s, records);
            match baseline {
                Some(b) => into.push_paired(s, b),
                None => into.push(s),
            }
            Ok(())
        };
        if opts.runs_group("broker") {
            for _ in 0..READ_PAIRS {
                let b = baseline()?;
                broker_read(
                    "broker consume, poll_batches",
                    ReadApi::Batches,
                    true,
                    &mut consume_b,
                    b,
                )?;
                let b = baseline()?;
                let label = "broker consume, poll_batches, no CRC check";
                broker_read(label, ReadApi::Batches, false, &mut consume_nocrc, b)?;
            }
            let b = baseline()?;
            broker_read("broker consume, poll", ReadApi::Poll, true, &mut consume_s, b)?;
            if log_info.is_none() {
                log_info = Some(check_log(&broker_dir, records)?);
            }
            fs::remove_dir_all(&broker_dir)?;
        } else {
            baseline()?;
        }
        if plain {
            fs::remove_file(&plain_file)?;
        }
    }
    drop(rt);

    let mb = shape.total_bytes as f64 / 1e6;
    println!();
    println!(
        "broker-embedded log throughput: {records} records x {VALUE_LEN} B values, \
         {BATCH_RECORDS}-record batches of {} B, {mb:.1} MB; median of {runs} run(s); \
         consume ratios: median of {} (plain read, broker read) pairs",
        shape.batch.len(),
        runs * READ_PAIRS
    );
    println!(
        "load average before: {load_before}, after: {} ({} CPUs)",
        load_average(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if let Some((bytes, count)) = log_info {
        println!(
            "broker log checked: {count} batches, {bytes} B of .log files (baselines write {} B)",
            shape.total_bytes
        );
    }
    println!(
        "{:<44} {:>12} {:>8} {:>7} {:>13} {:>7} {:>6} {:>4}",
        "measurement", "records/s", "MB/s", "CPU s", "rec/s/core", "ratio", "goal", "met"
    );
    let row = |name: &str, s: &Series, base: Option<&Series>, goal: Option<f64>| {
        if s.samples.is_empty() {
            return;
        }
        let (secs, cpu) = (s.secs(), s.cpu());
        // Paired measurements: the median of the pairs' ratios (each broker read ran right after
        // a baseline read, so both saw the machine in the same state); otherwise medians' ratio.
        let ratio = if s.paired.is_empty() {
            base.filter(|b| !b.samples.is_empty()).map(|b| b.secs() / secs)
        } else {
            Some(median(s.paired.clone()))
        };
        let fmt_ratio = ratio.map_or_else(|| "-".to_string(), |r| format!("{:.1}%", r * 100.0));
        let fmt_goal = goal.map_or_else(|| "-".to_string(), |g| format!(">={:.0}%", g * 100.0));
        let met = match (ratio, goal) {
            (Some(r), Some(g)) => {
                if r >= g {
                    "yes"
                } else {
                    "NO"
                }
            }
            _ => "-",
        };
        println!(
            "{:<44} {:>12.0} {:>8.1} {:>7.2} {:>13} {:>7} {:>6} {:>4}",
            name,
            records as f64 / secs,
            mb / secs,
            cpu,
            if cpu > 0.0 { format!("{:.0}", records as f64 / cpu) } else { "-".to_string() },
            fmt_ratio,
            fmt_goal,
            met
        );
    };
    row("plain write + fsync per batch", &write_sync, None, None);
    row("broker produce SyncOnAck (flush returned)", &produce_sync, Some(&write_sync), None);
    row("plain write, one fsync at end", &write, None, None);
    row("broker produce Interval(1s), until close", &produce_durable, Some(&write), Some(0.70));
    row("broker produce Interval(1s), until acked", &produce_acked, Some(&write), None);
    row("  same, owned records one by one, acked", &produce_owned, Some(&write), None);
    row("plain read (page cache)", &read, None, None);
    row("broker consume, poll_batches (page cache)", &consume_b, Some(&read), Some(0.80));
    row("broker consume, poll_batches, check_crcs off", &consume_nocrc, Some(&read), None);
    row("broker consume, poll (page cache)", &consume_s, Some(&read), None);
    for (name, s) in [
        ("poll_batches", &consume_b),
        ("poll_batches, check_crcs off", &consume_nocrc),
        ("poll", &consume_s),
    ] {
        if !s.paired.is_empty() {
            let pct: Vec<String> = s.paired.iter().map(|r| format!("{:.1}%", r * 100.0)).collect();
            println!(
                "consume {name}: ratio of each (plain read, broker read) pair: {}",
                pct.join(" ")
            );
        }
    }
    if opts.quick {
        println!("smoke run (no --bench, or --quick): too small for the numbers to mean anything");
    }
    println!(
        "ratio = baseline time / broker time for the same bytes (so throughput relative to the \
         baseline); MB = 10^6 bytes of log data; CPU s = user+sys of all threads"
    );
    Ok(())
}
