//! Helper program for the `streams_restore` test: a word count on an embedded broker that keeps
//! its data in the directory given as the first argument.
//!
//! Usage: `wordcount_child <data-dir> <mode>`. The input topic `lines` must already hold the text
//! (the parent writes it before the first run through this program's `load` mode). Modes:
//! - `load <file>`: create the topics and produce every line of `<file>` into `lines`, then stop;
//! - `run`: count until killed;
//! - `finish`: count until every line is processed and committed, then close cleanly.
//!
//! Every store restoration is printed as `RESTORE <store> <start> <end>`, and `DONE` once a
//! `finish` run closed cleanly.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use broker_embedded::{
    Broker, BrokerConfig, ConsumerConfig, NewTopic, ProducerRecord, TopicPartition,
};
use streams_dsl::prelude::*;

const APP: &str = "restore-wc";

struct Printer;

impl StateRestoreListener for Printer {
    fn on_restore_start(
        &self,
        _task: TaskId,
        store: &str,
        _topic: &str,
        partition: i32,
        start: i64,
        end: i64,
    ) {
        println!("RESTORE {store}-{partition} {start} {end}");
        let _ = std::io::stdout().flush();
    }
    fn on_batch_restored(&self, _task: TaskId, _store: &str, _batch_end: i64, _records: usize) {}
    fn on_restore_end(&self, _task: TaskId, _store: &str, _total: u64) {}
}

type R<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

async fn load(broker: &Broker, file: &str) -> R<()> {
    for (t, p) in [("lines", 2), ("counts", 2)] {
        match broker.admin().create_topic(NewTopic::new(t, p)).await {
            Ok(()) | Err(broker_embedded::Error::TopicExists(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let producer = broker.producer(Default::default())?;
    for line in std::fs::read_to_string(file)?.lines() {
        drop(producer.send(ProducerRecord::new("lines", line.to_string())).await?);
    }
    producer.flush().await?;
    Ok(())
}

async fn count(broker: &Broker, dir: &str, finish: bool) -> R<()> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>("lines")
        .flat_map_values(|l: String| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .group_by(|_, w: &String| w.clone())
        .count_with(Materialized::as_("counts-store"))
        .to_stream()
        .to("counts");
    let config = StreamsConfig::new(APP)
        .num_stream_threads(2)
        .commit_interval(Duration::from_millis(50))
        .state_dir(std::path::Path::new(dir).join("state"));
    let app = std::sync::Arc::new(KafkaStreams::new(builder.build()?, config, broker)?);
    app.set_global_state_restore_listener(Printer);
    app.start()?;
    if !finish {
        loop {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    }
    // Running means every thread has taken over (and restored) its tasks.
    let waiting = app.clone();
    let running = tokio::task::spawn_blocking(move || {
        waiting.wait_for_state(State::Running, Duration::from_secs(60))
    })
    .await?;
    if !running {
        return Err(format!("never running: {:?}", app.state()).into());
    }
    let checker = broker.consumer(ConsumerConfig::group(APP))?;
    loop {
        if app.state() == State::Error {
            return Err(format!("failed: {:?}", app.failure()).into());
        }
        let mut behind = 0;
        for topic in ["lines".to_string(), format!("{APP}-counts-store-repartition")] {
            let Ok(d) = broker.admin().describe_topic(&topic) else {
                behind += 1;
                continue;
            };
            let tps: Vec<TopicPartition> = d
                .partitions
                .iter()
                .map(|p| TopicPartition::new(topic.clone(), p.partition))
                .collect();
            let committed: HashMap<i32, i64> = checker
                .committed(&tps)
                .await?
                .into_iter()
                .map(|(tp, c)| (tp.partition, c.map_or(0, |c| c.offset)))
                .collect();
            for p in &d.partitions {
                behind +=
                    (p.high_watermark - committed.get(&p.partition).copied().unwrap_or(0)).max(0);
            }
        }
        if behind == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let closing = app.clone();
    tokio::task::spawn_blocking(move || closing.close(Duration::from_secs(30))).await?;
    println!("DONE");
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(mode)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: wordcount_child <data-dir> load <file> | run | finish");
        return ExitCode::from(2);
    };
    let broker =
        match Broker::open(BrokerConfig::new(std::path::Path::new(dir).join("broker"))).await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("opening the broker: {e}");
                return ExitCode::FAILURE;
            }
        };
    let result = match mode.as_str() {
        "load" => match args.get(3) {
            Some(file) => load(&broker, file).await,
            None => Err("load needs a file".into()),
        },
        "run" => count(&broker, dir, false).await,
        "finish" => count(&broker, dir, true).await,
        other => Err(format!("unknown mode `{other}`").into()),
    };
    if let Err(e) = broker.close().await {
        eprintln!("closing the broker: {e}");
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
