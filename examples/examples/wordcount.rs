//! Word count, the main job: the lines of a text file go into a topic of the embedded broker, a
//! streams application counts the words (a word is a maximal run of alphanumeric characters,
//! lowercased), and the final counts are printed as `word<TAB>count`, most frequent first, ties in
//! word order. Progress goes to stderr.
//!
//! ```text
//! cargo run --release -p examples --example wordcount -- [FILE] [--data-dir DIR] [--threads N]
//! ```
//!
//! Without `FILE` it counts `examples/data/sample.txt`. The counts live in a RocksDB store backed
//! by the changelog topic `wordcount-word-counts-changelog`; the words travel through the
//! repartition topic `wordcount-word-counts-repartition`, so each word is counted by one task.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

// The plain clients that load the text and read the counts; the application itself needs only
// the prelude.
use broker_embedded::{ConsumerConfig, ProducerRecord, TopicPartition};
use clap::Parser;
use streams_dsl::prelude::*;

/// Command-line options.
#[derive(Parser, Debug)]
struct Args {
    /// The text to count (default: the sample text in the repository).
    file: Option<PathBuf>,
    /// Where the broker and the state stores keep their files (default: a temporary directory).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Stream threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

const INPUT: &str = "wordcount-input";
const OUTPUT: &str = "wordcount-output";
const APP: &str = "wordcount";
const PARTITIONS: i32 = 4;

/// The words of a line: maximal runs of alphanumeric characters, lowercased.
fn words(line: &str) -> Vec<String> {
    line.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

type AppResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> AppResult<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let file = args
        .file
        .clone()
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/sample.txt"));
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let temp = tempfile::tempdir()?;
    let dir = args.data_dir.clone().unwrap_or_else(|| temp.path().to_path_buf());
    let started = Instant::now();

    // One application on its own broker: no need to wait for more members before the first
    // rebalance (Kafka's group.initial.rebalance.delay.ms, 3 s by default).
    let mut broker_config = BrokerConfig::new(dir.join("broker"));
    broker_config.group_initial_rebalance_delay = Duration::from_millis(100);
    let broker = Broker::open(broker_config).await?;
    let admin = broker.admin();
    if admin.describe_topic(INPUT).is_err() {
        admin.create_topic(NewTopic::new(INPUT, PARTITIONS)).await?;
    }
    if admin.describe_topic(OUTPUT).is_err() {
        admin.create_topic(NewTopic::new(OUTPUT, PARTITIONS)).await?;
    }

    let producer = broker.producer(Default::default())?;
    let lines: Vec<&str> = text.lines().collect();
    let topic: std::sync::Arc<str> = std::sync::Arc::from(INPUT);
    for (i, line) in lines.iter().enumerate() {
        drop(producer.send(ProducerRecord::new(topic.clone(), line.to_string())).await?);
        if (i + 1) % 100_000 == 0 {
            eprintln!("produced {} of {} lines", i + 1, lines.len());
        }
    }
    producer.flush().await?;
    eprintln!("produced {} lines of {} into `{INPUT}`", lines.len(), file.display());

    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>(INPUT)
        .flat_map_values(|line: String| words(&line))
        .group_by(|_, word: &String| word.clone())
        .count_with(Materialized::as_("word-counts"))
        .to_stream()
        .to(OUTPUT);
    let topology = builder.build()?;
    let config = StreamsConfig::new(APP)
        .num_stream_threads(args.threads)
        .commit_interval(Duration::from_millis(200))
        .state_dir(dir.join("state"));
    let app = KafkaStreams::new(topology, config, &broker)?;
    app.start()?;

    // Done when the group has committed the end of the input and of the repartition topic: every
    // count reached the output before the commit that covers it.
    let watched = [INPUT.to_string(), format!("{APP}-word-counts-repartition")];
    let checker = broker.consumer(ConsumerConfig::group(APP))?;
    let mut last_report = Instant::now();
    loop {
        if app.state() == State::Error {
            return Err(
                format!("the application failed: {}", app.failure().unwrap_or_default()).into()
            );
        }
        let mut behind = 0i64;
        for topic in &watched {
            let partitions = admin.describe_topic(topic).map(|d| d.partitions).unwrap_or_default();
            let tps: Vec<TopicPartition> = (0..partitions.len() as i32)
                .map(|p| TopicPartition::new(topic.clone(), p))
                .collect();
            let committed: HashMap<i32, i64> = checker
                .committed(&tps)
                .await?
                .into_iter()
                .map(|(tp, c)| (tp.partition, c.map_or(0, |c| c.offset)))
                .collect();
            for p in &partitions {
                behind +=
                    (p.high_watermark - committed.get(&p.partition).copied().unwrap_or(0)).max(0);
            }
        }
        if behind == 0 && !watched.is_empty() && admin.describe_topic(&watched[1]).is_ok() {
            break;
        }
        if last_report.elapsed() > Duration::from_secs(2) {
            eprintln!("waiting: {behind} records not yet committed");
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The output is the table's changelog: the last value of each word is its count.
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    let reader = broker
        .consumer(ConsumerConfig::default().offset_reset(broker_embedded::OffsetReset::Earliest))?;
    let tps: Vec<TopicPartition> =
        (0..PARTITIONS).map(|p| TopicPartition::new(OUTPUT, p)).collect();
    reader.assign(&tps)?;
    let ends: HashMap<i32, i64> = admin
        .describe_topic(OUTPUT)?
        .partitions
        .iter()
        .map(|p| (p.partition, p.high_watermark))
        .collect();
    let mut positions: HashMap<i32, i64> = HashMap::new();
    while tps
        .iter()
        .any(|tp| positions.get(&tp.partition).copied().unwrap_or(0) < ends[&tp.partition])
    {
        for r in reader.poll(Duration::from_millis(200)).await? {
            positions.insert(r.partition, r.offset + 1);
            let (Some(k), Some(v)) = (r.key, r.value) else { continue };
            let word = String::from_utf8(k.to_vec())?;
            let count =
                i64::from_be_bytes(v.as_ref().try_into().map_err(|_| "a count is not 8 bytes")?);
            counts.insert(word, count);
        }
    }
    let closing = std::sync::Arc::new(app);
    let app = closing.clone();
    tokio::task::spawn_blocking(move || app.close(Duration::from_secs(30))).await?;
    broker.close().await?;

    let mut sorted: Vec<(String, i64)> = counts.into_iter().collect();
    sorted.sort_by(|(wa, ca), (wb, cb)| cb.cmp(ca).then_with(|| wa.cmp(wb)));
    let total: i64 = sorted.iter().map(|(_, c)| c).sum();
    let mut out = String::new();
    for (word, count) in &sorted {
        out.push_str(&format!("{word}\t{count}\n"));
    }
    print!("{out}");
    eprintln!(
        "{} words, {} distinct, in {:.2} s",
        total,
        sorted.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::words;

    #[test]
    fn words_are_lowercased_runs_of_alphanumerics() {
        assert_eq!(words("Rust's ownership, 2 ways!"), vec!["rust", "s", "ownership", "2", "ways"]);
        assert_eq!(words("  "), Vec::<String>::new());
        assert_eq!(words("Ünïcode ΣΊΣΥΦΟΣ"), vec!["ünïcode", "σίσυφος"]);
    }
}
