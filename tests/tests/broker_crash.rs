//! Crash safety of acknowledged writes: a child process produces with sync-on-ack durability and
//! prints every acknowledgement; the test kills it with SIGKILL at a random moment, reopens the data
//! directory and checks that every acknowledged record is stored at the offset it was acknowledged
//! with, that offsets stay dense, that nothing is stored twice and that per-partition order holds.
//!
//! Replay a failure with `TEST_SEED=<seed>`; change the number of kill cycles with
//! `CRASH_CYCLES=<n>` (default 25).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use broker_embedded::{Broker, BrokerConfig};
use integration_tests::{init_tracing, read_partition, seed_from_env};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const TOPIC: &str = "crash";
const PARTITIONS: i32 = 2;

/// Kills the child if the test fails while it runs.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Ack {
    partition: i32,
    offset: i64,
    value: String,
}

fn parse_ack(line: &str) -> Ack {
    let mut parts = line.splitn(4, ' ');
    let (Some("ACK"), Some(p), Some(o), Some(v)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        panic!("malformed line from the child: {line:?}");
    };
    Ack {
        partition: p.parse().expect("partition"),
        offset: o.parse().expect("offset"),
        value: v.to_string(),
    }
}

/// (cycle, sequence) of a value written by the child.
fn parse_value(v: &str) -> (u64, u64) {
    let mut parts = v.splitn(3, ':');
    let cycle = parts.next().and_then(|s| s.parse().ok());
    let seq = parts.next().and_then(|s| s.parse().ok());
    match (cycle, seq) {
        (Some(c), Some(s)) => (c, s),
        _ => panic!("value not written by the child: {v:?}"),
    }
}

/// Runs one child until a random time after its first acknowledgement, kills it, and returns every
/// acknowledgement it printed.
fn run_child(dir: &Path, cycle: u64, rng: &mut StdRng, context: &str) -> Vec<Ack> {
    let stderr_path = dir.with_extension(format!("stderr-{cycle}"));
    let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_crash_producer"))
            .arg(dir)
            .arg(cycle.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .expect("start crash_producer"),
    );
    let stdout = child.0.stdout.take().expect("child stdout");
    let (first_tx, first_rx) = mpsc::channel::<()>();
    let reader = std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut acks = Vec::new();
        let mut line = String::new();
        let mut first = Some(first_tx);
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                // A line cut by the kill was never fully printed: the record does not count.
                Ok(_) if !line.ends_with('\n') => break,
                Ok(_) => {
                    acks.push(parse_ack(line.trim_end_matches('\n')));
                    if let Some(tx) = first.take() {
                        let _ = tx.send(());
                    }
                }
            }
        }
        // Drain whatever is left so the pipe never blocks.
        let _ = reader.read_to_end(&mut Vec::new());
        acks
    });
    let child_stderr = || std::fs::read_to_string(&stderr_path).unwrap_or_default();
    if first_rx.recv_timeout(Duration::from_secs(60)).is_err() {
        let status = child.0.try_wait().expect("child status");
        panic!(
            "{context}: the child printed no acknowledgement (status {status:?}); stderr:\n{}",
            child_stderr()
        );
    }
    let run_for = Duration::from_millis(rng.random_range(20..=400));
    std::thread::sleep(run_for);
    if let Some(status) = child.0.try_wait().expect("child status") {
        panic!("{context}: the child stopped by itself ({status}); stderr:\n{}", child_stderr());
    }
    // Child::kill sends SIGKILL on Unix: no destructor, no flush, no close.
    child.0.kill().expect("kill the child");
    child.0.wait().expect("reap the child");
    let acks = reader.join().expect("reader thread");
    let _ = std::fs::remove_file(&stderr_path);
    acks
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_records_survive_sigkill() {
    init_tracing();
    let seed = seed_from_env();
    let cycles: u64 = std::env::var("CRASH_CYCLES").ok().and_then(|s| s.parse().ok()).unwrap_or(25);
    println!("crash test: seed {seed}, {cycles} cycles (replay with TEST_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("data");

    // Everything acknowledged in any cycle: (partition, offset) -> value.
    let mut acked: BTreeMap<(i32, i64), String> = BTreeMap::new();
    let mut total_acks = 0usize;
    for cycle in 0..cycles {
        let context = format!("seed {seed} cycle {cycle}");
        let acks = run_child(&dir, cycle, &mut rng, &context);
        assert!(!acks.is_empty(), "{context}: no acknowledgements collected");
        total_acks += acks.len();
        for a in acks {
            assert_eq!(parse_value(&a.value).0, cycle, "{context}: ack {a:?}");
            if let Some(previous) = acked.insert((a.partition, a.offset), a.value.clone()) {
                panic!(
                    "{context}: offset {}-{} acknowledged twice: {previous:?} and {:?}",
                    a.partition, a.offset, a.value
                );
            }
        }

        let broker = Broker::open(BrokerConfig::new(&dir))
            .await
            .unwrap_or_else(|e| panic!("{context}: reopen after SIGKILL: {e}"));
        let mut seen: HashSet<String> = HashSet::new();
        for p in 0..PARTITIONS {
            let records = read_partition(&broker, TOPIC, p)
                .await
                .unwrap_or_else(|e| panic!("{context}: read partition {p}: {e}"));
            let desc = broker.admin().describe_topic(TOPIC).expect("describe");
            let part = &desc.partitions[p as usize];
            assert_eq!(part.log_start_offset, 0, "{context}: partition {p} log start");
            assert_eq!(
                part.high_watermark, part.log_end_offset,
                "{context}: partition {p}: after recovery everything in the log is visible"
            );
            assert_eq!(
                records.len() as i64,
                part.log_end_offset,
                "{context}: partition {p}: record count vs log end"
            );
            // Order per partition: within one producer (one cycle) sequence numbers only grow.
            let mut last_seq: HashMap<u64, u64> = HashMap::new();
            for (i, r) in records.iter().enumerate() {
                assert_eq!(r.offset, i as i64, "{context}: partition {p}: dense offsets");
                let value = String::from_utf8(r.value.clone().expect("value").to_vec())
                    .expect("utf-8 value");
                let (c, s) = parse_value(&value);
                if let Some(prev) = last_seq.insert(c, s) {
                    assert!(
                        prev < s,
                        "{context}: partition {p} offset {}: cycle {c} sequence {s} after {prev}",
                        r.offset
                    );
                }
                assert!(
                    seen.insert(value.clone()),
                    "{context}: value {value:?} stored twice (again at {p}-{})",
                    r.offset
                );
            }
            for ((ap, offset), value) in acked.range((p, 0)..(p + 1, 0)) {
                let stored = records.get(*offset as usize).unwrap_or_else(|| {
                    panic!(
                        "{context}: acknowledged record {ap}-{offset} {value:?} is lost \
                         (log end {})",
                        records.len()
                    )
                });
                assert_eq!(
                    stored.value.as_deref(),
                    Some(value.as_bytes()),
                    "{context}: acknowledged record {ap}-{offset} has another value"
                );
            }
        }
        // Half of the time the next child opens after a clean stop, otherwise after another crash.
        if rng.random_bool(0.5) {
            broker.close().await.unwrap_or_else(|e| panic!("{context}: close: {e}"));
        } else {
            drop(broker);
        }
    }
    println!(
        "crash test: {cycles} cycles, {total_acks} acknowledged records, all present (seed {seed})"
    );
}
