//! Produce and consume throughput over TCP with librdkafka (the `rdkafka` crate), as a ratio to the
//! in-process clients measured in the same run, and produce latency at half the measured maximum.
//!
//! ```text
//! cargo bench -p broker-embedded --bench wire_throughput [-- --records N --rounds R --flush-ms MS --quick]
//! ```
//!
//! Both sides write 100-byte values to a one-partition topic of a broker in interval-flush mode
//! (`Durability::Interval(1s)`, or `--flush-ms`), acks=all, and read them back from the start. Progress goes to
//! stderr, the table to stdout.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use broker_embedded::{
    Broker, BrokerConfig, ConsumerConfig, Durability, NewTopic, OffsetReset, ProducerConfig,
    ProducerRecord, Server, ServerConfig, TopicPartition,
};
use parking_lot::Mutex;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

const VALUE_LEN: usize = 100;

struct Args {
    records: usize,
    rounds: usize,
    latency_secs: u64,
    flush_ms: u64,
}

fn args() -> Args {
    let argv: Vec<String> = std::env::args().collect();
    let quick = argv.iter().any(|a| a == "--quick") || !argv.iter().any(|a| a == "--bench");
    let records = argv
        .iter()
        .position(|a| a == "--records")
        .and_then(|i| argv.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 20_000 } else { 2_000_000 });
    let flush_ms = argv
        .iter()
        .position(|a| a == "--flush-ms")
        .and_then(|i| argv.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let rounds = argv
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| argv.get(i + 1))
        .and_then(|s| s.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(if quick { 1 } else { 3 });
    Args { records, rounds, latency_secs: if quick { 1 } else { 5 }, flush_ms }
}

/// Counts deliveries and records each one's latency (the latency phase).
struct Deliveries {
    ok: AtomicU64,
    failed: AtomicU64,
    latencies: Mutex<Vec<u32>>,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = Box<Instant>;
    fn delivery(&self, result: &DeliveryResult<'_>, sent: Box<Instant>) {
        match result {
            Ok(_) => {
                self.ok.fetch_add(1, Ordering::Relaxed);
                self.latencies.lock().push(sent.elapsed().as_micros() as u32);
            }
            Err(_) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Counts deliveries (the throughput phase: no per-record allocation or clock read of the
/// bench's own, so what is measured is the client library and the broker).
#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    failed: AtomicU64,
}

impl ClientContext for Counts {}

impl ProducerContext for Counts {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => self.ok.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.failed.fetch_add(1, Ordering::Relaxed),
        };
    }
}

/// The librdkafka producer settings both phases share; `linger_ms` 5 for throughput
/// (librdkafka's default), 0 for latency. `target` is the broker's address, or `None` for
/// librdkafka's own in-process mock broker (`test.mock.num.brokers`), which keeps records in
/// memory and shows what the client library alone can reach on this machine.
fn producer_config(target: Option<&str>, linger_ms: u32) -> ClientConfig {
    let mut cfg = ClientConfig::new();
    match target {
        Some(addr) => cfg.set("bootstrap.servers", addr),
        None => cfg.set("test.mock.num.brokers", "1"),
    };
    cfg.set("acks", "all")
        .set("enable.idempotence", "true")
        .set("linger.ms", linger_ms.to_string())
        .set("batch.size", "1000000")
        .set("queue.buffering.max.messages", "1000000")
        .set("queue.buffering.max.kbytes", "1048576");
    cfg
}

/// Sends one record, waiting while the client's queue is full.
fn send<C: ProducerContext>(
    p: &ThreadedProducer<C>,
    mut record: BaseRecord<'_, [u8], [u8], C::DeliveryOpaque>,
) -> BenchResult<()> {
    loop {
        match p.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                record = r;
                std::thread::sleep(Duration::from_micros(200));
            }
            Err((e, _)) => return Err(e.into()),
        }
    }
}

/// Produces `n` records with librdkafka to `target` (see [`producer_config`]); records/s.
fn tcp_produce(target: Option<&str>, topic: &str, n: usize) -> BenchResult<f64> {
    let p: ThreadedProducer<Counts> =
        producer_config(target, 5).create_with_context(Counts::default())?;
    let value = [b'x'; VALUE_LEN];
    let start = Instant::now();
    for _ in 0..n {
        send(&p, BaseRecord::to(topic).payload(&value[..]).partition(0))?;
    }
    p.flush(Duration::from_secs(120))?;
    let secs = start.elapsed().as_secs_f64();
    let ctx = p.context();
    if ctx.ok.load(Ordering::Relaxed) != n as u64 {
        return Err(format!(
            "{} of {n} delivered, {} failed",
            ctx.ok.load(Ordering::Relaxed),
            ctx.failed.load(Ordering::Relaxed)
        )
        .into());
    }
    Ok(n as f64 / secs)
}

fn tcp_consume(addr: &str, topic: &str, n: usize) -> BenchResult<f64> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", addr)
        .set("group.id", "bench")
        .set("enable.auto.commit", "false")
        .set("fetch.max.bytes", "52428800")
        .set("max.partition.fetch.bytes", "10485760")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)?;
    c.assign(&tpl)?;
    let start = Instant::now();
    let mut got = 0usize;
    while got < n {
        match c.poll(Duration::from_secs(10)) {
            Some(Ok(m)) => {
                if m.payload().map_or(0, |p| p.len()) != VALUE_LEN {
                    return Err("wrong payload size".into());
                }
                got += 1;
            }
            Some(Err(e)) => return Err(e.into()),
            None => return Err(format!("consumer stalled at {got} of {n}").into()),
        }
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Sends at `rate` records/s for `secs` seconds, in ticks of 1 ms (each tick sends the records
/// due by then), with `linger.ms=0`, after a warm-up of 1000 records; returns (p50, p99)
/// delivery latency in ms.
fn tcp_latency(target: Option<&str>, topic: &str, rate: f64, secs: u64) -> BenchResult<(f64, f64)> {
    let p: ThreadedProducer<Deliveries> =
        producer_config(target, 0).create_with_context(Deliveries {
            ok: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            latencies: Mutex::new(Vec::new()),
        })?;
    let value = [b'y'; VALUE_LEN];
    let timed = || {
        BaseRecord::with_opaque_to(topic, Box::new(Instant::now())).payload(&value[..]).partition(0)
    };
    // Warm-up, not measured: the client connects, fetches metadata and gets its producer id
    // (idempotence) with the first records, which would otherwise wait tens of milliseconds.
    for _ in 0..1000 {
        send(&p, timed())?;
    }
    p.flush(Duration::from_secs(60))?;
    let total = (rate * secs as f64) as u64;
    {
        // Room for every latency up front: growing the vector inside the delivery callback would
        // stall deliveries while it reallocates (and touches fresh pages) and show up as latency.
        let mut latencies = p.context().latencies.lock();
        latencies.clear();
        latencies.reserve(total as usize);
    }
    let start = Instant::now();
    let mut sent = 0u64;
    while sent < total {
        let due = ((start.elapsed().as_secs_f64() * rate) as u64).min(total);
        while sent < due {
            send(&p, timed())?;
            sent += 1;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    p.flush(Duration::from_secs(60))?;
    let mut l = p.context().latencies.lock().clone();
    if l.is_empty() {
        return Err("no deliveries".into());
    }
    l.sort_unstable();
    let pct = |q: f64| l[((l.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
    Ok((pct(0.50), pct(0.99)))
}

async fn inproc_produce(broker: &Broker, topic: &str, n: usize) -> BenchResult<f64> {
    let p = broker.producer(ProducerConfig::default().batch_size(1_000_000))?;
    let value = bytes::Bytes::from(vec![b'x'; VALUE_LEN]);
    let start = Instant::now();
    for _ in 0..n {
        let _ack =
            p.send(ProducerRecord::new(topic.to_string(), value.clone()).partition(0)).await?;
    }
    p.flush().await?;
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

async fn inproc_consume(broker: &Broker, topic: &str, n: usize) -> BenchResult<f64> {
    let c = broker.consumer(ConsumerConfig::default().offset_reset(OffsetReset::Earliest))?;
    c.assign(&[TopicPartition::new(topic, 0)])?;
    let start = Instant::now();
    let mut got = 0usize;
    while got < n {
        let batch = c.poll(Duration::from_secs(10)).await?;
        if batch.is_empty() {
            return Err(format!("in-process consumer stalled at {got}").into());
        }
        got += batch.len();
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> BenchResult<()> {
    let args = args();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let dir = tempfile::tempdir()?;
    let broker = rt.block_on(Broker::open(
        BrokerConfig::new(dir.path())
            .durability(Durability::Interval(Duration::from_millis(args.flush_ms))),
    ))?;
    let server = rt.block_on(Server::start(
        broker.clone(),
        ServerConfig { listen: "127.0.0.1:0".parse()?, ..ServerConfig::default() },
    ))?;
    let addr = server.local_addr().to_string();
    for t in ["inproc", "tcp", "latency"] {
        rt.block_on(broker.admin().create_topic(NewTopic::new(t, 1)))?;
    }
    let n = args.records;
    // The produce measurements alternate, `rounds` times, and each row reports its median: this
    // machine's speed drifts within seconds, and alternating lets every row see the same drift.
    let (mut ips, mut tps, mut mps) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=args.rounds {
        eprintln!("round {round}/{}: in-process produce of {n} records...", args.rounds);
        ips.push(rt.block_on(inproc_produce(&broker, "inproc", n))?);
        eprintln!(
            "round {round}/{}: TCP produce of {n} records (librdkafka, acks=all)...",
            args.rounds
        );
        tps.push(tcp_produce(Some(&addr), "tcp", n)?);
        eprintln!("round {round}/{}: librdkafka to its own mock broker...", args.rounds);
        mps.push(tcp_produce(None, "mock", n)?);
        eprintln!(
            "round {round}/{}: in-process {:.0}, TCP {:.0}, mock {:.0} records/s",
            args.rounds,
            ips[round - 1],
            tps[round - 1],
            mps[round - 1]
        );
    }
    let (ip, tp, mp) = (median(&mut ips), median(&mut tps), median(&mut mps));
    eprintln!("in-process consume...");
    let ic = rt.block_on(inproc_consume(&broker, "inproc", n))?;
    eprintln!("TCP consume...");
    let tc = tcp_consume(&addr, "tcp", n)?;
    let rate = tp / 2.0;
    eprintln!("latency at {rate:.0} records/s for {} s...", args.latency_secs);
    let (p50, p99) = tcp_latency(Some(&addr), "latency", rate, args.latency_secs)?;
    eprintln!("the same against librdkafka's mock broker...");
    let (m50, m99) = tcp_latency(None, "latency", rate, args.latency_secs)?;

    println!(
        "wire throughput: {n} records x {VALUE_LEN} B, one partition, Durability::Interval({} ms), acks=all; produce rows: median of {} alternating rounds",
        args.flush_ms, args.rounds
    );
    println!("{:<44} {:>14} {:>8}", "measurement", "records/s", "ratio");
    println!("{:<44} {:>14.0} {:>8}", "in-process produce", ip, "-");
    println!("{:<44} {:>14.0} {:>7.1}%", "TCP produce (librdkafka)", tp, 100.0 * tp / ip);
    println!(
        "{:<44} {:>14.0} {:>7.1}%",
        "librdkafka to its mock broker (client ceiling)",
        mp,
        100.0 * mp / ip
    );
    println!("{:<44} {:>14} {:>7.1}%", "TCP produce / client ceiling", "", 100.0 * tp / mp);
    println!("{:<44} {:>14.0} {:>8}", "in-process consume", ic, "-");
    println!("{:<44} {:>14.0} {:>7.1}%", "TCP consume (librdkafka)", tc, 100.0 * tc / ic);
    println!(
        "produce latency at {rate:.0} records/s (half the TCP maximum): p50 {p50:.2} ms, p99 {p99:.2} ms"
    );
    println!(
        "the same rate to librdkafka's mock broker (client alone): p50 {m50:.2} ms, p99 {m99:.2} ms"
    );
    rt.block_on(server.shutdown());
    rt.block_on(broker.close())?;
    Ok(())
}
