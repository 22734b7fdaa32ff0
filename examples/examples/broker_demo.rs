//! A tour of the embedded broker: create a topic, produce keyed records, consume them back, restart
//! the broker and read the same data again from disk.
//!
//! Run with `cargo run --release -p examples --example broker_demo -- [--data-dir DIR] [--records N]`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use broker_embedded::{
    Broker, BrokerConfig, ConsumerConfig, NewTopic, OffsetReset, ProducerConfig, ProducerRecord,
    TopicPartition,
};
use clap::Parser;

/// Command-line options.
#[derive(Parser, Debug)]
struct Args {
    /// Data directory (default: a fresh temporary directory, removed at the end).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Number of records to produce.
    #[arg(long, default_value_t = 10_000)]
    records: usize,
}

const TOPIC: &str = "demo-events";
const PARTITIONS: i32 = 4;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let temp;
    let dir = match args.data_dir {
        Some(d) => d,
        None => {
            temp = std::env::temp_dir().join(format!("broker-demo-{}", std::process::id()));
            temp
        }
    };

    let broker = Broker::open(BrokerConfig::new(&dir)).await?;
    println!("broker opened at {}", dir.display());
    let admin = broker.admin();
    if !admin.list_topics().iter().any(|t| t == TOPIC) {
        admin
            .create_topic(NewTopic::new(TOPIC, PARTITIONS).config("segment.bytes", "1048576"))
            .await?;
        println!("created topic {TOPIC} with {PARTITIONS} partitions");
    }
    let before: i64 =
        admin.describe_topic(TOPIC)?.partitions.iter().map(|p| p.log_end_offset).sum();

    let producer = broker.producer(ProducerConfig::default().batch_size(64 * 1024))?;
    let started = Instant::now();
    let mut pending = Vec::with_capacity(args.records);
    for i in 0..args.records {
        let record = ProducerRecord::new(TOPIC, format!("event number {i}"))
            .key(format!("user-{}", i % 100))
            .header("source", "broker_demo");
        pending.push(producer.send(record).await?);
    }
    producer.flush().await?;
    let mut per_partition: BTreeMap<i32, usize> = BTreeMap::new();
    for p in pending {
        *per_partition.entry(p.await?.partition).or_default() += 1;
    }
    let elapsed = started.elapsed();
    println!(
        "produced {} records in {:.1} ms (acknowledged after fsync), per partition: {:?}",
        args.records,
        elapsed.as_secs_f64() * 1000.0,
        per_partition
    );

    let consumed = consume_all(&broker, before + args.records as i64).await?;
    println!("consumed {consumed} records back");
    broker.close().await?;
    println!("broker closed cleanly");

    let broker = Broker::open(BrokerConfig::new(&dir)).await?;
    let description = broker.admin().describe_topic(TOPIC)?;
    for p in &description.partitions {
        println!(
            "after restart: partition {} holds offsets [{}, {}) in {} segment(s), {} bytes",
            p.partition, p.log_start_offset, p.log_end_offset, p.segments, p.size_in_bytes
        );
    }
    let again = consume_all(&broker, before + args.records as i64).await?;
    println!("read {again} records again from disk after the restart");
    broker.close().await?;
    if temp_dir_used(&dir) {
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}

fn temp_dir_used(dir: &std::path::Path) -> bool {
    dir.starts_with(std::env::temp_dir())
        && dir.file_name().is_some_and(|n| n.to_string_lossy().starts_with("broker-demo-"))
}

async fn consume_all(broker: &Broker, expected: i64) -> Result<i64, Box<dyn std::error::Error>> {
    let consumer =
        broker.consumer(ConsumerConfig::default().offset_reset(OffsetReset::Earliest))?;
    let tps: Vec<TopicPartition> = (0..PARTITIONS).map(|p| TopicPartition::new(TOPIC, p)).collect();
    consumer.assign(&tps)?;
    let mut count = 0i64;
    let deadline = Instant::now() + Duration::from_secs(30);
    while count < expected && Instant::now() < deadline {
        count += consumer.poll(Duration::from_millis(500)).await?.len() as i64;
    }
    Ok(count)
}
