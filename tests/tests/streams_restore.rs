//! A word count in a child process, killed with SIGKILL at random moments and restarted: its
//! counts never fall below the true counts (at-least-once), a clean run after the kills ends with
//! counts at least the true ones, a run with no kill ends with exactly the true counts, and a
//! restart after a clean close restores from the checkpoint, not from the changelog's start.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use broker_embedded::{Broker, BrokerConfig};
use integration_tests::{read_partition, seed_from_env};
use rand::{Rng, SeedableRng};

const CHILD: &str = env!("CARGO_BIN_EXE_wordcount_child");

fn text(seed: u64) -> (String, BTreeMap<String, i64>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut truth = BTreeMap::new();
    let mut out = String::new();
    for _ in 0..3_000 {
        let n = rng.random_range(1..12);
        let words: Vec<String> = (0..n).map(|_| format!("w{}", rng.random_range(0..200))).collect();
        for w in &words {
            *truth.entry(w.clone()).or_insert(0) += 1;
        }
        out.push_str(&words.join(" "));
        out.push('\n');
    }
    (out, truth)
}

fn spawn(dir: &std::path::Path, mode: &str, extra: &[&str]) -> Child {
    Command::new(CHILD)
        .arg(dir)
        .arg(mode)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Runs a child to its end; returns its stdout lines.
fn run_to_end(dir: &std::path::Path, mode: &str, extra: &[&str]) -> Vec<String> {
    let mut child = spawn(dir, mode, extra);
    let lines: Vec<String> =
        BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok).collect();
    assert!(child.wait().unwrap().success(), "{mode} failed: {lines:?}");
    lines
}

fn restores(lines: &[String]) -> Vec<(String, i64, i64)> {
    lines
        .iter()
        .filter_map(|l| {
            let mut p = l.strip_prefix("RESTORE ")?.split(' ');
            Some((p.next()?.to_string(), p.next()?.parse().ok()?, p.next()?.parse().ok()?))
        })
        .collect()
}

async fn counts(dir: &std::path::Path) -> BTreeMap<String, i64> {
    let broker = Broker::open(BrokerConfig::new(dir.join("broker"))).await.unwrap();
    let mut out = BTreeMap::new();
    for p in 0..2 {
        for r in read_partition(&broker, "counts", p).await.unwrap() {
            let k = String::from_utf8(r.key.unwrap().to_vec()).unwrap();
            let v = i64::from_be_bytes(r.value.unwrap().as_ref().try_into().unwrap());
            out.insert(k, v);
        }
    }
    broker.close().await.unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_survive_sigkill_and_restore_from_the_checkpoint() {
    let seed = seed_from_env();
    println!("seed {seed} (set TEST_SEED to replay)");
    let (input, truth) = text(seed);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input.txt");
    std::fs::write(&file, &input).unwrap();
    run_to_end(dir.path(), "load", &[file.to_str().unwrap()]);

    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x5eed);
    let cycles: usize =
        std::env::var("RESTORE_CYCLES").ok().and_then(|s| s.parse().ok()).unwrap_or(6);
    for cycle in 0..cycles {
        let mut child = spawn(dir.path(), "run", &[]);
        let wait = rng.random_range(100..1_200);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        child.kill().unwrap();
        child.wait().unwrap();
        let so_far = counts(dir.path()).await;
        for (w, c) in &so_far {
            assert!(
                *c <= truth[w] * (cycle as i64 + 2),
                "{w}: {c} is more than replays can explain"
            );
        }
    }

    // A clean run to the end: every word counted at least as often as it occurs.
    run_to_end(dir.path(), "finish", &[]);
    let after_kills = counts(dir.path()).await;
    assert_eq!(after_kills.len(), truth.len(), "every word has a count");
    for (w, t) in &truth {
        assert!(after_kills[w] >= *t, "{w}: counted {} < {t} (a record was lost)", after_kills[w]);
    }

    // Restarting after that clean close starts each store from its checkpoint, which covers the
    // whole changelog: nothing is replayed.
    let lines = run_to_end(dir.path(), "finish", &[]);
    assert_eq!(restores(&lines), vec![], "a valid checkpoint means no replay");

    // Without checkpoints the stores are wiped and restored from the changelogs' start, and the
    // counts come out the same.
    let state = dir.path().join("state").join("restore-wc");
    let mut removed = 0;
    for task in std::fs::read_dir(&state).unwrap() {
        let cp = task.unwrap().path().join(".checkpoint");
        if cp.exists() {
            std::fs::remove_file(cp).unwrap();
            removed += 1;
        }
    }
    assert!(removed > 0, "tasks with stores wrote checkpoints");
    let lines = run_to_end(dir.path(), "finish", &[]);
    let full = restores(&lines);
    assert!(
        !full.is_empty() && full.iter().all(|(_, start, end)| *start == 0 && *end > 0),
        "{full:?}"
    );
    assert_eq!(counts(dir.path()).await, after_kills);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_without_kills_counts_exactly() {
    let (input, truth) = text(7);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input.txt");
    std::fs::write(&file, &input).unwrap();
    run_to_end(dir.path(), "load", &[file.to_str().unwrap()]);
    let lines = run_to_end(dir.path(), "finish", &[]);
    assert!(lines.iter().any(|l| l == "DONE"));
    assert_eq!(counts(dir.path()).await, truth);
}
