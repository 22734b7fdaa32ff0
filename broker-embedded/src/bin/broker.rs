//! The standalone broker: the embedded broker served over the Kafka wire protocol.
//!
//! `cargo run --release -p broker-embedded --bin broker -- --listen 127.0.0.1:9092 --data-dir ./data`
//!
//! Stops cleanly on SIGTERM or Ctrl-C (flushes and closes every log); after a SIGKILL the next start
//! recovers the logs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use broker_embedded::{Broker, BrokerConfig, Durability, Server, ServerConfig};
use clap::Parser;
use tracing::{error, info};

/// Command-line options.
#[derive(Parser, Debug)]
#[command(name = "broker", about = "A Kafka-compatible broker on Kafka's on-disk format")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9092")]
    listen: SocketAddr,
    /// Data directory.
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
    /// Partitions of topics created without a count.
    #[arg(long, default_value_t = 1)]
    default_partitions: i32,
    /// Whether Metadata requests for unknown topics create them.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    auto_create_topics: bool,
    /// Host name advertised to clients (default: the listen address).
    #[arg(long)]
    advertised_host: Option<String>,
    /// Acknowledge after fsync (`sync`, the default) or fsync every N milliseconds (`interval:N`),
    /// which can lose the unsynced tail on power loss.
    #[arg(long, default_value = "sync")]
    durability: String,
    /// How long the first rebalance of a new consumer group waits for more members, in ms.
    #[arg(long, default_value_t = 3000)]
    group_initial_rebalance_delay_ms: u64,
}

fn parse_durability(s: &str) -> Result<Durability, String> {
    match s.split_once(':') {
        None if s == "sync" => Ok(Durability::SyncOnAck),
        Some(("interval", ms)) => ms
            .parse::<u64>()
            .map(|ms| Durability::Interval(Duration::from_millis(ms.max(1))))
            .map_err(|e| format!("--durability interval:{ms}: {e}")),
        _ => Err(format!("--durability must be `sync` or `interval:<ms>`, not {s:?}")),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            error!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let durability = parse_durability(&args.durability)?;
    let config = BrokerConfig::new(&args.data_dir)
        .default_partitions(args.default_partitions)
        .auto_create_topics(args.auto_create_topics)
        .durability(durability)
        .group_initial_rebalance_delay(Duration::from_millis(
            args.group_initial_rebalance_delay_ms,
        ));
    let broker = Broker::open(config).await?;
    let server = Server::start(
        broker.clone(),
        ServerConfig {
            listen: args.listen,
            advertised_host: args.advertised_host,
            ..ServerConfig::default()
        },
    )
    .await?;
    // Tests and scripts wait for this line to know the port (useful with port 0).
    println!("listening on {}", server.local_addr());
    wait_for_signal().await?;
    info!("shutting down");
    server.shutdown().await;
    broker.close().await?;
    info!("stopped cleanly");
    Ok(())
}

async fn wait_for_signal() -> std::io::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    Ok(())
}
