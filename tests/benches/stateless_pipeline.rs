//! A stateless pipeline (source → `map_values` → `filter` → sink) on the embedded broker, end to
//! end, as a ratio to the plain clients doing the same I/O in the same run.
//!
//! ```text
//! cargo bench -p integration-tests --bench stateless_pipeline [-- --records N --runs R --threads T
//!     --max-poll-records M]
//! ```
//!
//! `N` records (default 10 million) with 8-byte keys and 100-byte values are loaded into a
//! one-partition topic first, and one baseline phase runs unmeasured (warm-up). Then `R` times
//! (default 3), in alternating order (odd runs in the order below, even runs in reverse):
//! - the baseline: an in-process consumer reads the records and a producer appends each, unchanged,
//!   to an output topic (no topology);
//! - hand-written: the same clients doing the pipeline's work by hand (each value loses its first
//!   byte, empty values are dropped) with no topology: what the map and filter cost by themselves,
//!   the ceiling of any runtime running them;
//! - the pipeline: a `KafkaStreams` application with `T` stream threads (default 1) reads the same
//!   records, maps each value (drops its first byte), filters (keeps non-empty values) and writes
//!   them to another output topic; timed from `start()` until the output holds all `N` records;
//! - the columns baseline: as the baseline, but reading with `poll_columns`, the consumer call
//!   the stream threads make (the same records, each partition's column by column), for
//!   reference: the goal is the pipeline's ratio to the baseline above.
//!
//! glibc's allocator is told to keep freed memory (`steady_allocator`). All write with the broker
//! in interval-flush mode (1 s). Each phase's output topic is deleted just before the next phase
//! creates its own, so every phase writes into page-cache pages just freed (see the comment in
//! `main`). The table reports the medians: records/s, CPU seconds, records per CPU-second (per
//! core); the ratios to the baseline are the medians of the runs' ratios (each run's phases ran
//! next to each other).
//! Progress goes to stderr, results to stdout.

use std::time::Duration;

use broker_embedded::{
    Broker, BrokerConfig, ConsumerConfig, Durability, NewTopic, OffsetReset, ProducerRecord,
    ProducerRecordRef, TopicPartition,
};
use bytes::Bytes;
use integration_tests::bench::{
    BenchResult, Sample, Stopwatch, arg, full_run, median, producer_config, stateless_pipeline,
    steady_allocator,
};

async fn preload(broker: &Broker, records: usize) -> BenchResult<()> {
    let producer = broker.producer(producer_config())?;
    let value = Bytes::from(vec![b'v'; 100]);
    let step = (records / 10).max(1);
    for i in 0..records {
        let key = Bytes::from(format!("{:08}", i % 100_000).into_bytes());
        producer.send_detached(ProducerRecord::new("input", value.clone()).key(key)).await?;
        if (i + 1) % step == 0 {
            eprintln!("  loaded {} of {records} records", i + 1);
        }
    }
    producer.flush().await?;
    Ok(())
}

/// What a phase of plain clients does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Plain {
    /// Read with `poll`, append each record unchanged.
    Poll,
    /// As `Poll`, with the pipeline's work written by hand: each value loses its first byte
    /// (`Bytes::slice`, on the owned record, as the pipeline's `map_values` gets it) and empty
    /// values are dropped.
    MapFilter,
    /// Read with `poll_columns` (the consumer call the stream threads make), append each record
    /// unchanged.
    Columns,
}

/// The plain clients: read everything and append it to `out`, as `how` says.
async fn baseline(broker: &Broker, records: usize, out: &str, how: Plain) -> BenchResult<Sample> {
    let clock = Stopwatch::start();
    let mut config = ConsumerConfig::default().offset_reset(OffsetReset::Earliest);
    config.max_poll_records = 1000;
    let consumer = broker.consumer(config)?;
    consumer.assign(&[TopicPartition::new("input", 0)])?;
    let producer = broker.producer(producer_config())?;
    let mut seen = 0;
    while seen < records {
        if how == Plain::Columns {
            for part in consumer.poll_columns(Duration::from_millis(100)).await? {
                seen += part.len();
                let records = (0..part.len()).map(|i| ProducerRecordRef {
                    topic: out,
                    partition: None,
                    key: part.keys[i].as_deref(),
                    value: part.values[i].as_deref(),
                    headers: part.headers_of(i),
                    timestamp: Some(part.timestamps[i]),
                });
                producer.send_all_borrowed(records).await?;
            }
            continue;
        }
        let mut polled = consumer.poll(Duration::from_millis(100)).await?;
        seen += polled.len();
        if how == Plain::MapFilter {
            for r in &mut polled {
                r.value = r.value.take().map(|v| v.slice(1..));
            }
            polled.retain(|r| r.value.as_ref().is_none_or(|v| !v.is_empty()));
        }
        // The same producer call the stream threads make: one per polled lot of records, each
        // borrowed (the producer copies it into its batch).
        let records = polled.iter().map(|r| ProducerRecordRef {
            topic: out,
            partition: None,
            key: r.key.as_deref(),
            value: r.value.as_deref(),
            headers: &r.headers,
            timestamp: Some(r.timestamp),
        });
        producer.send_all_borrowed(records).await?;
    }
    producer.flush().await?;
    if let Some(e) = producer.take_send_error() {
        return Err(e.into());
    }
    let sample = clock.sample();
    eprintln!("  CPU s by thread: {}", clock.threads());
    Ok(sample)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> BenchResult<()> {
    steady_allocator();
    let records: usize = arg("--records", if full_run() { 10_000_000 } else { 50_000 });
    let runs: usize = arg("--runs", if full_run() { 3 } else { 1 });
    let threads: usize = arg("--threads", 1);
    let max_poll: usize = arg("--max-poll-records", 1000);
    let dir = tempfile::tempdir()?;
    let mut config =
        BrokerConfig::new(dir.path()).durability(Durability::Interval(Duration::from_secs(1)));
    config.group_initial_rebalance_delay = Duration::ZERO;
    let broker = Broker::open(config).await?;
    broker.admin().create_topic(NewTopic::new("input", 1)).await?;
    eprintln!("loading {records} records of 100 bytes");
    preload(&broker, records).await?;

    // Per phase: the samples, and per run the phase's time as a fraction of the baseline's.
    let phases = ["baseline", "hand-written", "pipeline", "columns"];
    let mut samples: [Vec<Sample>; 4] = Default::default();
    let mut ratios: [Vec<(f64, f64)>; 4] = Default::default();
    // The previous phase's output topic, deleted before the next phase creates its own: this
    // machine's host takes back guest pages left free for a few seconds, and writing into pages
    // it has to hand back first costs several times more than writing into pages just freed.
    // Deleting keeps every phase writing into the same kind of pages (as a log under retention
    // would), instead of whichever phase comes later paying for fresh memory.
    // A warm-up phase, not measured, so that the first measured phase also writes into pages
    // just freed.
    broker.admin().create_topic(NewTopic::new("warm-up-out", 1)).await?;
    eprintln!("warm-up (not measured): baseline into `warm-up-out`");
    baseline(&broker, records, "warm-up-out", Plain::Poll).await?;
    let mut last_out: Option<String> = Some("warm-up-out".to_string());
    // Per run, the pipeline's time as a fraction of the columns baseline's.
    let mut columns_ratios: Vec<(f64, f64)> = Vec::new();
    for run in 1..=runs {
        // Alternate the order, so that no phase always follows the same one.
        let mut order = [0, 1, 2, 3];
        if run % 2 == 0 {
            order.reverse();
        }
        let mut this_run: [Option<Sample>; 4] = Default::default();
        for p in order {
            if let Some(old) = last_out.take() {
                broker.admin().delete_topic(&old).await?;
            }
            let out = format!("{}-out-{run}", phases[p]);
            broker.admin().create_topic(NewTopic::new(&out, 1)).await?;
            let sample = match p {
                0 => baseline(&broker, records, &out, Plain::Poll).await?,
                1 => baseline(&broker, records, &out, Plain::MapFilter).await?,
                3 => baseline(&broker, records, &out, Plain::Columns).await?,
                _ => {
                    stateless_pipeline(
                        &broker,
                        "input",
                        records,
                        &out,
                        &format!("bench-{run}"),
                        threads,
                        max_poll,
                    )
                    .await?
                }
            };
            eprintln!(
                "[run {run}/{runs}] {:<12}  {:>7.3} s  {:>11.0} records/s  cpu {:.2} s",
                phases[p],
                sample.secs,
                records as f64 / sample.secs,
                sample.cpu_secs
            );
            last_out = Some(out);
            this_run[p] = Some(sample);
        }
        let [Some(b), Some(h), Some(pl), Some(c)] = this_run else {
            return Err("a phase is missing".into());
        };
        for (p, s) in [(0, &b), (1, &h), (2, &pl), (3, &c)] {
            ratios[p].push((b.secs / s.secs, b.cpu_secs / s.cpu_secs));
        }
        eprintln!(
            "[run {run}/{runs}] pipeline / baseline: throughput {:.1} %, per core {:.1} %; hand-written / baseline: {:.1} %; pipeline / columns baseline: {:.1} %",
            100.0 * b.secs / pl.secs,
            100.0 * b.cpu_secs / pl.cpu_secs,
            100.0 * b.secs / h.secs,
            100.0 * c.secs / pl.secs,
        );
        columns_ratios.push((c.secs / pl.secs, c.cpu_secs / pl.cpu_secs));
        samples[0].push(b);
        samples[1].push(h);
        samples[2].push(pl);
        samples[3].push(c);
    }
    let n = records as f64;
    println!(
        "stateless pipeline: {records} records of 100 bytes, {threads} stream thread(s), median of {runs} run(s)"
    );
    println!(
        "{:<44} {:>8} {:>12} {:>7} {:>19} {:>21}",
        "", "wall s", "records/s", "cpu s", "records/cpu-second", "vs baseline (per core)"
    );
    let labels = [
        "baseline (consume + append)",
        "hand-written map + filter (no topology)",
        "pipeline (map_values, filter)",
        "columns baseline (poll_columns + append)",
    ];
    for p in 0..4 {
        let secs = median(samples[p].iter().map(|s| s.secs).collect());
        let cpu = median(samples[p].iter().map(|s| s.cpu_secs).collect());
        let ratio = match p {
            0 => "-".to_string(),
            _ => format!(
                "{:.1} % ({:.1} %)",
                100.0 * median(ratios[p].iter().map(|r| r.0).collect()),
                100.0 * median(ratios[p].iter().map(|r| r.1).collect())
            ),
        };
        println!(
            "{:<44} {:>8.3} {:>12.0} {:>7.2} {:>19.0} {:>21}",
            labels[p],
            secs,
            n / secs,
            cpu,
            n / cpu,
            ratio
        );
    }
    println!(
        "pipeline / baseline (median of the {runs} runs' ratios): throughput {:.1} %, per core {:.1} %",
        100.0 * median(ratios[2].iter().map(|r| r.0).collect()),
        100.0 * median(ratios[2].iter().map(|r| r.1).collect())
    );
    println!(
        "pipeline / columns baseline (median of the {runs} runs' ratios): throughput {:.1} %, per core {:.1} %",
        100.0 * median(columns_ratios.iter().map(|r| r.0).collect()),
        100.0 * median(columns_ratios.iter().map(|r| r.1).collect())
    );
    broker.close().await?;
    Ok(())
}
