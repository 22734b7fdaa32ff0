//! Robustness of the protocol server: 100,000 random and malformed frames over TCP, then the broker
//! must still be up and serve a well-behaved client (kcat) correctly.
//!
//! Replay with `TEST_SEED=<seed>`.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use broker_embedded::{Broker, BrokerConfig, NewTopic, Server, ServerConfig};
use integration_tests::{init_tracing, read_partition, seed_from_env};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const FRAMES: u64 = 100_000;
const CLIENTS: u64 = 8;

/// One malformed or random frame.
fn frame(rng: &mut StdRng) -> Vec<u8> {
    let mut body: Vec<u8> = Vec::new();
    match rng.random_range(0..8) {
        // Pure noise, with a truthful size.
        0 => body = (0..rng.random_range(0..64)).map(|_| rng.random()).collect(),
        // A plausible header (known API key, any version) and a noisy body.
        1..=4 => {
            let key: i16 = *[
                0i16, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 32, 37, 42, 44,
            ]
            .get(rng.random_range(0..22))
            .unwrap_or(&3);
            body.extend_from_slice(&key.to_be_bytes());
            body.extend_from_slice(&rng.random_range(-1i16..16).to_be_bytes());
            body.extend_from_slice(&rng.random::<i32>().to_be_bytes());
            // client id: sometimes a lying length
            let len: i16 = if rng.random_bool(0.5) { 4 } else { rng.random() };
            body.extend_from_slice(&len.to_be_bytes());
            body.extend_from_slice(b"fuzz");
            // Array counts that announce far more than is sent.
            for _ in 0..rng.random_range(0..6) {
                if rng.random_bool(0.5) {
                    body.extend_from_slice(
                        &rng.random_range(0x0100_0000i32..i32::MAX).to_be_bytes(),
                    );
                } else {
                    body.push(rng.random());
                }
            }
        }
        // An unknown API key.
        5 => {
            body.extend_from_slice(&rng.random_range(200i16..i16::MAX).to_be_bytes());
            body.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 0]);
        }
        // Too short for a header.
        _ => body = (0..rng.random_range(0..8)).map(|_| rng.random()).collect(),
    }
    let mut out = Vec::with_capacity(body.len() + 4);
    let size: i32 = match rng.random_range(0..20) {
        0 => -rng.random_range(1..i32::MAX),          // negative size
        1 => rng.random_range(200_000_000..i32::MAX), // far above the limit
        2 => body.len() as i32 + rng.random_range(1..100), // more than is sent (truncated)
        _ => body.len() as i32,
    };
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(&body);
    out
}

async fn hammer(addr: SocketAddr, seed: u64, sent: Arc<AtomicU64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    while sent.load(Ordering::Relaxed) < FRAMES {
        let Ok(mut socket) = TcpStream::connect(addr).await else { continue };
        let mut sink = [0u8; 4096];
        loop {
            if sent.load(Ordering::Relaxed) >= FRAMES {
                return;
            }
            let f = frame(&mut rng);
            sent.fetch_add(1, Ordering::Relaxed);
            if socket.write_all(&f).await.is_err() {
                break;
            }
            // Drain whatever the broker answered, without waiting for answers that never come.
            match tokio::time::timeout(Duration::from_millis(1), socket.read(&mut sink)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break, // closed by the broker
                _ => {}
            }
            // A frame announcing more than is sent would stall the connection: start a new one.
            if rng.random_bool(0.1) {
                break;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broker_survives_malformed_frames_and_keeps_serving() {
    init_tracing();
    let seed = seed_from_env();
    println!("malformed frames test: seed {seed} (replay with TEST_SEED={seed})");
    let dir = tempfile::tempdir().expect("tempdir");
    let broker =
        Broker::open(BrokerConfig::new(dir.path()).auto_create_topics(false)).await.expect("open");
    broker.admin().create_topic(NewTopic::new("after", 2)).await.expect("topic");
    let config = ServerConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        max_request_size: 1 << 20,
        ..ServerConfig::default()
    };
    let server = Server::start(broker.clone(), config).await.expect("server");
    let addr = server.local_addr();

    let sent = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|i| tokio::spawn(hammer(addr, seed.wrapping_add(i), sent.clone())))
        .collect();
    let all = tokio::time::timeout(Duration::from_secs(240), async {
        for t in tasks {
            t.await.expect("client task");
        }
    })
    .await;
    assert!(all.is_ok(), "sending the frames took too long");
    assert!(sent.load(Ordering::Relaxed) >= FRAMES);

    // A well-behaved client still produces and consumes over TCP.
    let brokers = addr.to_string();
    let input: String = (0..50).map(|i| format!("k{i}:v{i}\n")).collect();
    let mut produce = Command::new("kcat")
        .args(["-b", &brokers, "-P", "-t", "after", "-K:", "-X", "partitioner=murmur2_random"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("kcat (apt-get install kcat)");
    {
        use std::io::Write;
        let mut stdin = produce.stdin.take().expect("stdin");
        stdin.write_all(input.as_bytes()).expect("write");
    }
    let status =
        tokio::task::spawn_blocking(move || produce.wait()).await.expect("join").expect("wait");
    assert!(status.success(), "kcat produce failed after the malformed frames");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("kcat")
            .args(["-b", &brokers, "-C", "-t", "after", "-e", "-f", "%k=%s\n"])
            .output()
    })
    .await
    .expect("join")
    .expect("kcat consume");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut got: Vec<&str> = text.lines().collect();
    got.sort_unstable();
    let mut want: Vec<String> = (0..50).map(|i| format!("k{i}=v{i}")).collect();
    want.sort_unstable();
    assert_eq!(got, want, "kcat read back what it wrote");
    // And the in-process view agrees.
    let total = read_partition(&broker, "after", 0).await.expect("p0").len()
        + read_partition(&broker, "after", 1).await.expect("p1").len();
    assert_eq!(total, 50);
    server.shutdown().await;
    broker.close().await.expect("close");
}
