//! Helpers of the wire-compatibility tests (`tests/wire_*.rs`): a broker served over the Kafka
//! protocol on 127.0.0.1 (an ephemeral port), and real client programs run as child processes with
//! a time limit, killed when the limit passes or the test fails.

use std::future::Future;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use broker_embedded::{
    Broker, BrokerConfig, ConsumerRecord, NewTopic, ProducerConfig, ProducerRecord, Server,
    ServerConfig,
};

/// A broker in a temporary directory, served over TCP on `127.0.0.1:0`, with the Tokio runtime it
/// runs on. Dropping it stops the server and closes the broker.
pub struct WireBroker {
    runtime: Option<tokio::runtime::Runtime>,
    broker: Broker,
    server: Option<Server>,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for WireBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WireBroker").field("addr", &self.addr).finish()
    }
}

impl WireBroker {
    /// Opens a broker (no initial rebalance delay, so groups form at once) and starts serving it.
    pub fn start() -> Self {
        crate::init_tracing();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("building the Tokio runtime");
        let dir = tempfile::tempdir().expect("creating a temporary directory");
        let config = BrokerConfig::new(dir.path()).group_initial_rebalance_delay(Duration::ZERO);
        let (broker, server) = runtime.block_on(async {
            let broker = Broker::open(config).await.expect("opening the broker");
            let server = Server::start(
                broker.clone(),
                ServerConfig {
                    listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                    advertised_host: Some("127.0.0.1".to_string()),
                    ..ServerConfig::default()
                },
            )
            .await
            .expect("starting the protocol server");
            (broker, server)
        });
        let addr = server.local_addr();
        Self { runtime: Some(runtime), broker, server: Some(server), addr, _dir: dir }
    }

    /// `127.0.0.1:PORT`, the bootstrap address to give clients.
    pub fn bootstrap(&self) -> String {
        self.addr.to_string()
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The broker, for in-process checks.
    pub fn broker(&self) -> &Broker {
        &self.broker
    }

    /// Runs a future on the broker's runtime (from a thread that is not a runtime worker).
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.runtime.as_ref().expect("the runtime lives until drop").block_on(f)
    }

    /// Creates a topic through the in-process admin client.
    pub fn create_topic(&self, topic: NewTopic) {
        let name = topic.name.clone();
        self.block_on(self.broker.admin().create_topic(topic))
            .unwrap_or_else(|e| panic!("creating topic {name}: {e}"));
    }

    /// Every record of every partition of `topic`, read in-process, partition by partition.
    pub fn read_topic(&self, topic: &str) -> Vec<ConsumerRecord> {
        self.read_partitions(topic, |p| {
            self.block_on(crate::read_partition(&self.broker, topic, p))
        })
    }

    /// Reads every partition of `topic` like [`read_topic`](Self::read_topic), with
    /// `poll_batches`.
    pub fn read_topic_batches(&self, topic: &str) -> Vec<ConsumerRecord> {
        self.read_partitions(topic, |p| {
            let config = broker_embedded::ConsumerConfig::default();
            self.block_on(crate::read_partition_batches(&self.broker, topic, p, config))
        })
    }

    fn read_partitions(
        &self,
        topic: &str,
        read: impl Fn(i32) -> broker_embedded::Result<Vec<ConsumerRecord>>,
    ) -> Vec<ConsumerRecord> {
        let partitions = self
            .broker
            .admin()
            .describe_topic(topic)
            .unwrap_or_else(|e| panic!("describing {topic}: {e}"))
            .partitions
            .len();
        let mut out = Vec::new();
        for p in 0..partitions as i32 {
            out.extend(read(p).unwrap_or_else(|e| panic!("reading {topic}-{p}: {e}")));
        }
        out
    }

    /// Produces `value` under each key with the in-process producer (Kafka's murmur2 partitioner)
    /// to `topic`, and returns the partition each key went to.
    pub fn murmur2_partitions(
        &self,
        topic: &str,
        keys: &[String],
    ) -> std::collections::BTreeMap<String, i32> {
        self.block_on(async {
            let producer =
                self.broker.producer(ProducerConfig::default()).expect("in-process producer");
            let mut out = std::collections::BTreeMap::new();
            for key in keys {
                let meta = producer
                    .send_and_wait(ProducerRecord::new(topic.to_string(), "ref").key(key.clone()))
                    .await
                    .expect("in-process produce");
                out.insert(key.clone(), meta.partition);
            }
            out
        })
    }

    /// Produces `count` records `(key-{i % keys}, value-{i})` in-process, in order, to `topic`.
    pub fn produce_in_process(&self, topic: &str, count: usize, keys: usize) {
        self.block_on(async {
            let producer =
                self.broker.producer(ProducerConfig::default()).expect("in-process producer");
            for i in 0..count {
                producer
                    .send(
                        ProducerRecord::new(topic.to_string(), format!("value-{i}"))
                            .key(format!("key-{}", i % keys.max(1))),
                    )
                    .await
                    .expect("in-process send");
            }
            producer.flush().await.expect("in-process flush");
        });
    }
}

impl Drop for WireBroker {
    fn drop(&mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        let server = self.server.take();
        let broker = self.broker.clone();
        runtime.block_on(async move {
            if let Some(server) = server {
                let _ = tokio::time::timeout(Duration::from_secs(10), server.shutdown()).await;
            }
            let _ = tokio::time::timeout(Duration::from_secs(20), broker.close()).await;
        });
        runtime.shutdown_timeout(Duration::from_secs(5));
    }
}

/// The compression codecs (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd) of every record batch stored
/// in the segments of every partition of `topic`, read from the files: the low three bits of a
/// batch's attributes (byte 22 of a batch; a batch takes 12 bytes plus its length field).
pub fn stored_codecs(broker: &Broker, topic: &str) -> std::collections::BTreeSet<u8> {
    let partitions = broker.admin().describe_topic(topic).expect("describe").partitions.len();
    let mut codecs = std::collections::BTreeSet::new();
    for p in 0..partitions {
        let dir = broker.config().data_dir.join(format!("{topic}-{p}"));
        for (base, _) in crate::segment_files(&dir) {
            let log = std::fs::read(dir.join(format!("{base:020}.log"))).expect("segment");
            let mut pos = 0;
            while pos + 23 <= log.len() {
                codecs.insert(log[pos + 22] & 7);
                let len = i32::from_be_bytes(log[pos + 8..pos + 12].try_into().expect("4 bytes"));
                pos += 12 + usize::try_from(len).expect("batch length");
            }
        }
    }
    codecs
}

/// What a finished child process left.
#[derive(Debug)]
pub struct Finished {
    /// How it exited.
    pub status: ExitStatus,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

/// A running child process, killed (and reaped) when dropped before it is waited for, so a failing
/// test leaves no client behind.
#[derive(Debug)]
pub struct ClientProcess {
    name: String,
    child: Option<Child>,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = pipe.read_to_end(&mut out);
        out
    })
}

impl ClientProcess {
    /// Starts `cmd` with piped output, writing `stdin` to it (then closing it) when given.
    ///
    /// `LD_LIBRARY_PATH` is removed: `cargo test` points it at build directories, among them the
    /// one where rdkafka-sys leaves its own `librdkafka.so.1`, which kcat would load instead of the
    /// system's library.
    pub fn spawn(name: &str, mut cmd: Command, stdin: Option<Vec<u8>>) -> Self {
        cmd.env_remove("LD_LIBRARY_PATH");
        cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("starting {name} ({cmd:?}): {e}"));
        if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
            std::thread::spawn(move || {
                let _ = pipe.write_all(&data);
            });
        }
        let stdout = child.stdout.take().map(drain);
        let stderr = child.stderr.take().map(drain);
        Self { name: name.to_string(), child: Some(child), stdout, stderr }
    }

    /// Waits for the process to exit; kills it and panics (with its output) if it has not after
    /// `timeout`.
    pub fn wait(mut self, timeout: Duration) -> Finished {
        let mut child = self.child.take().expect("waited once");
        let deadline = Instant::now() + timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(None) => break None,
                Err(e) => panic!("waiting for {}: {e}", self.name),
            }
        };
        if status.is_none() {
            let _ = child.kill();
        }
        let status = status.unwrap_or_else(|| child.wait().expect("reaping a killed child"));
        let text = |h: Option<JoinHandle<Vec<u8>>>| {
            String::from_utf8_lossy(&h.and_then(|h| h.join().ok()).unwrap_or_default()).into_owned()
        };
        let stdout = text(self.stdout.take());
        let stderr = text(self.stderr.take());
        if Instant::now() >= deadline {
            panic!(
                "{} did not finish within {timeout:?} and was killed\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
                self.name
            );
        }
        Finished { status, stdout, stderr }
    }

    /// Waits like [`ClientProcess::wait`] and panics, with the output, unless the exit is 0.
    pub fn wait_success(self, timeout: Duration) -> Finished {
        let name = self.name.clone();
        let done = self.wait(timeout);
        assert!(
            done.status.success(),
            "{name} failed ({})\n--- stdout\n{}\n--- stderr\n{}",
            done.status,
            done.stdout,
            done.stderr
        );
        done
    }
}

impl Drop for ClientProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs `cmd` to completion within `timeout` and returns its output; panics unless it exits 0.
pub fn run(name: &str, cmd: Command, stdin: Option<Vec<u8>>, timeout: Duration) -> Finished {
    ClientProcess::spawn(name, cmd, stdin).wait_success(timeout)
}

/// The workspace root (the parent of the tests crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the tests crate has a parent").into()
}

/// The virtual environment of the Python clients: `KSTREAMS_VENV`, else
/// `$HOME/.cache/kstreams-rs/venv`.
pub fn venv_dir() -> PathBuf {
    match std::env::var_os("KSTREAMS_VENV") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => {
            let home = std::env::var_os("HOME").expect("HOME is set");
            Path::new(&home).join(".cache/kstreams-rs/venv")
        }
    }
}

/// The venv's Python, after `scripts/install-deps.sh --venv` made sure (once per test binary) that
/// it has confluent-kafka and kafka-python (`tests/python/requirements.txt`): the script returns at
/// once when they are there, and creates the venv or installs them from PyPI when not.
pub fn venv_python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let venv = venv_dir();
            let mut cmd = Command::new("bash");
            cmd.arg(workspace_root().join("scripts/install-deps.sh"))
                .arg("--venv")
                .env("KSTREAMS_VENV", &venv);
            run("install-deps.sh --venv", cmd, None, Duration::from_secs(600));
            venv.join("bin/python")
        })
        .clone()
}

/// Runs `tests/python/{script}` with the venv's Python and `args`, within `timeout`, and parses the
/// last line of its standard output as JSON. Panics, with the script's output, on any failure.
pub fn run_python(script: &str, args: &[&str], timeout: Duration) -> serde_json::Value {
    parse_json_output(script, spawn_python(script, args).wait_success(timeout))
}

/// Starts `tests/python/{script}` with the venv's Python and `args`.
pub fn spawn_python(script: &str, args: &[&str]) -> ClientProcess {
    let mut cmd = Command::new(venv_python());
    cmd.arg("-u").arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("python").join(script)).args(args);
    ClientProcess::spawn(&format!("{script} {}", args.join(" ")), cmd, None)
}

/// The JSON value on the last non-empty line of a script's standard output; panics, with the
/// script's output, when there is none or when it has an `error` member.
pub fn parse_json_output(script: &str, done: Finished) -> serde_json::Value {
    let line = done.stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_else(|| {
        panic!("{script} printed nothing\n--- stderr\n{}", done.stderr);
    });
    let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| {
        panic!("{script} printed no JSON ({e}): {line}\n--- stderr\n{}", done.stderr)
    });
    if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
        let mut state = value.to_string();
        if state.len() > 6000 {
            let mut cut = 6000;
            while !state.is_char_boundary(cut) {
                cut -= 1;
            }
            state.truncate(cut);
            state.push_str("...");
        }
        panic!("{script} failed: {error}\n--- result\n{state}\n--- stderr\n{}", done.stderr);
    }
    value
}
