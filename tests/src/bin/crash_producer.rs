//! Helper program for the `broker_crash` test: opens a broker on the data directory given as the first
//! argument, creates topic `crash` (2 partitions) if missing, and produces forever, keeping several
//! sends in flight. Every acknowledged record is printed as `ACK <partition> <offset> <value>` on its
//! own line, flushed at once, so that a parent that kills this process knows exactly what was
//! acknowledged.
//!
//! Usage: `crash_producer <data-dir> <cycle>`. Values are `<cycle>:<sequence>:<padding>`; every third
//! record has no key, the others have one of 37 keys.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use broker_embedded::{Broker, BrokerConfig, Error, NewTopic, ProducerConfig, ProducerRecord};
use tokio::sync::Semaphore;

const TOPIC: &str = "crash";
const IN_FLIGHT: usize = 48;

fn value_for(cycle: u64, seq: u64) -> String {
    let pad = (seq.wrapping_mul(7919) % 200) as usize;
    format!("{cycle}:{seq}:{}", "p".repeat(pad))
}

async fn run(dir: String, cycle: u64) -> Result<(), Error> {
    let broker = Broker::open(BrokerConfig::new(dir)).await?;
    match broker.admin().create_topic(NewTopic::new(TOPIC, 2)).await {
        Ok(()) | Err(Error::TopicExists(_)) => {}
        Err(e) => return Err(e),
    }
    let producer = broker.producer(ProducerConfig::default())?;
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut seq: u64 = 0;
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return Err(Error::Shutdown);
        };
        let value = value_for(cycle, seq);
        let mut record = ProducerRecord::new(TOPIC, value.clone());
        if seq % 3 != 0 {
            record = record.key(format!("key-{}", seq % 37));
        }
        let delivery = producer.send(record).await?;
        tokio::spawn(async move {
            let outcome = delivery.await;
            drop(permit);
            match outcome {
                Ok(meta) => {
                    let mut out = std::io::stdout().lock();
                    // One write per line; a failure means the parent is gone, so stop.
                    if writeln!(out, "ACK {} {} {value}", meta.partition, meta.offset)
                        .and_then(|_| out.flush())
                        .is_err()
                    {
                        std::process::exit(3);
                    }
                }
                Err(e) => {
                    eprintln!("record {value} failed: {e}");
                    std::process::exit(2);
                }
            }
        });
        seq += 1;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(cycle)) = (args.next(), args.next().and_then(|c| c.parse().ok())) else {
        eprintln!("usage: crash_producer <data-dir> <cycle>");
        return ExitCode::from(64);
    };
    match run(dir, cycle).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crash_producer: {e}");
            ExitCode::FAILURE
        }
    }
}
