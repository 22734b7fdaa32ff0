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
//! (default 3), in alternating order (odd runs baseline first, even runs pipeline first):
//! - the baseline: an in-process consumer reads the records and a producer appends each, unchanged,
//!   to an output topic (no topology);
//! - the pipeline: a `KafkaStreams` application with `T` stream threads (default 1) reads the same
//!   records, maps each value (drops its first byte), filters (keeps non-empty values) and writes
//!   them to another output topic; timed from `start()` until the output holds all `N` records.
//!
//! Both write with the broker in interval-flush mode (1 s). Each phase's output topic is deleted
//! just before the next phase creates its own, so every phase writes into page-cache pages just
//! freed (see the comment in `main`). The table reports the medians: records/s, CPU seconds,
//! records per CPU-second (per core); the pipeline/baseline ratios are the medians of the runs'
//! ratios (each run's two phases ran next to each other).
//! Progress goes to stderr, results to stdout.

use std::time::Duration;

use broker_embedded::{
    Broker, BrokerConfig, ConsumerConfig, Durability, NewTopic, OffsetReset, ProducerRecord,
    ProducerRecordRef, TopicPartition,
};
use bytes::Bytes;
use integration_tests::bench::{
    BenchResult, Sample, Stopwatch, arg, full_run, median, producer_config, stateless_pipeline,
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

/// The plain clients: read everything, append each record unchanged.
async fn baseline(broker: &Broker, records: usize, out: &str) -> BenchResult<Sample> {
    let clock = Stopwatch::start();
    let mut config = ConsumerConfig::default().offset_reset(OffsetReset::Earliest);
    config.max_poll_records = 1000;
    let consumer = broker.consumer(config)?;
    consumer.assign(&[TopicPartition::new("input", 0)])?;
    let producer = broker.producer(producer_config())?;
    let mut seen = 0;
    while seen < records {
        let polled = consumer.poll(Duration::from_millis(100)).await?;
        seen += polled.len();
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
    Ok(clock.sample())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> BenchResult<()> {
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

    let (mut base, mut pipe, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    // The previous phase's output topic, deleted before the next phase creates its own: this
    // machine's host takes back guest pages left free for a few seconds, and writing into pages
    // it has to hand back first costs several times more than writing into pages just freed.
    // Deleting keeps both phases writing into the same kind of pages (as a log under retention
    // would), instead of whichever phase comes later paying for fresh memory.
    // A warm-up phase, not measured, so that the first measured phase also writes into pages
    // just freed.
    broker.admin().create_topic(NewTopic::new("warm-up-out", 1)).await?;
    eprintln!("warm-up (not measured): baseline into `warm-up-out`");
    baseline(&broker, records, "warm-up-out").await?;
    let mut last_out: Option<String> = Some("warm-up-out".to_string());
    for run in 1..=runs {
        // Alternate which phase goes first, so neither always follows the other.
        let mut phases = ["baseline", "pipeline"];
        if run % 2 == 0 {
            phases.reverse();
        }
        let (mut b, mut p) = (None, None);
        for phase in phases {
            if let Some(old) = last_out.take() {
                broker.admin().delete_topic(&old).await?;
            }
            let out = format!("{phase}-out-{run}");
            broker.admin().create_topic(NewTopic::new(&out, 1)).await?;
            let sample = if phase == "baseline" {
                baseline(&broker, records, &out).await?
            } else {
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
            };
            eprintln!(
                "[run {run}/{runs}] {phase}  {:>7.3} s  {:>11.0} records/s  cpu {:.2} s",
                sample.secs,
                records as f64 / sample.secs,
                sample.cpu_secs
            );
            last_out = Some(out);
            if phase == "baseline" {
                b = Some(sample);
            } else {
                p = Some(sample);
            }
        }
        let (b, p) = (b.ok_or("no baseline sample")?, p.ok_or("no pipeline sample")?);
        let ratio = (b.secs / p.secs, (b.cpu_secs / p.cpu_secs));
        eprintln!(
            "[run {run}/{runs}] pipeline / baseline: throughput {:.1} %, per core {:.1} %",
            100.0 * ratio.0,
            100.0 * ratio.1
        );
        ratios.push(ratio);
        base.push(b);
        pipe.push(p);
    }
    let n = records as f64;
    let stats = |v: &[Sample]| {
        let secs = median(v.iter().map(|s| s.secs).collect());
        let cpu = median(v.iter().map(|s| s.cpu_secs).collect());
        (secs, cpu, n / secs, n / cpu)
    };
    let (bs, bc, brate, bcore) = stats(&base);
    let (ps, pc, prate, pcore) = stats(&pipe);
    println!(
        "stateless pipeline: {records} records of 100 bytes, {threads} stream thread(s), median of {runs} run(s)"
    );
    println!(
        "{:<34} {:>9} {:>13} {:>9} {:>20}",
        "", "wall s", "records/s", "cpu s", "records/cpu-second"
    );
    println!(
        "{:<34} {:>9.3} {:>13.0} {:>9.2} {:>20.0}",
        "baseline (consume + append)", bs, brate, bc, bcore
    );
    println!(
        "{:<34} {:>9.3} {:>13.0} {:>9.2} {:>20.0}",
        "pipeline (map_values, filter)", ps, prate, pc, pcore
    );
    println!(
        "pipeline / baseline (median of the {runs} runs' ratios): throughput {:.1} %, per core {:.1} %",
        100.0 * median(ratios.iter().map(|r| r.0).collect()),
        100.0 * median(ratios.iter().map(|r| r.1).collect())
    );
    broker.close().await?;
    Ok(())
}
