//! A streams application on the embedded broker while instances come and go: 4 input partitions,
//! two stream threads per instance, a second instance in the same process joins and later leaves
//! while input keeps arriving.
//!
//! The runtime is at-least-once: when a task moves, its new owner resumes at the partition's last
//! committed offset, so records processed since that commit may be processed (and written) again.
//! The test asserts what that promises, and no more:
//! - every input record reaches the output at least once, and nothing else does;
//! - per input partition, the output keeps offset order except for replays, and each replay goes
//!   back no further than the last commit (at most one feeding chunk, see [`CHUNK`]);
//! - a moved task's new processor starts exactly at the group's committed offset, skipping nothing;
//! - the output is exactly what the processors processed, in processing order, and the
//!   duplicates are bounded by one chunk per hand-off of a partition (see [`MAX_DUPLICATES`]);
//! - after both instances close, the group's committed offsets are the input's end offsets;
//! - with one instance, both of its stream threads own tasks and process records;
//! - no task ever runs in two places: never two open processor instances of one task (across
//!   threads and across the two application instances), never two inside `process` at once, and
//!   a replaced processor instance never processes again.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use broker_embedded::{Broker, Consumer, ConsumerConfig, NewTopic, Producer, ProducerRecord};
use broker_embedded::{ConsumerRecord, TopicPartition};
use integration_tests::{init_tracing, read_partition};
use streams_dsl::prelude::*;

const APP_ID: &str = "rebalancing-app";
const PARTITIONS: i32 = 4;
const COMMIT_INTERVAL: Duration = Duration::from_millis(100);
/// Records per partition of the first chunk, processed by the first instance alone.
const BACKLOG: i64 = 400;
/// Records per partition of every later chunk. The feed produces a chunk only once the group has
/// committed everything before it, so the uncommitted records of a partition (all that a new
/// owner may process again) always lie within the chunk in flight: this bounds each replay
/// without any assumption about timing. A runtime that did not commit on its interval would stall
/// the feed, and the test would fail.
const CHUNK: i64 = 20;
/// Chunks fed in each phase (after the backlog).
const CHUNKS_PER_PHASE: usize = 4;
/// Duplicates allowed in all. Only a rebalance moves tasks, and while records flow there are at
/// most 4 (each of the second instance's two threads joins, then leaves; the first instance's
/// threads formed their group before the feed began). Each moves at most every partition, and
/// each move replays at most the uncommitted part of the chunk in flight, at most `CHUNK`
/// records: 4 x 4 x 20 = 320, about a tenth of the 2,960 input records. (The runtime commits
/// before it releases a task, so a clean run has none.)
const MAX_DUPLICATES: i64 = 4 * PARTITIONS as i64 * CHUNK;

/// Phases, as the processors log them.
const BEFORE_FEED: usize = 0;
const ALONE: usize = 1;
const SHARED: usize = 2;
const LEFT: usize = 3;

/// One input record, as a processor instance processed it.
#[derive(Debug, Clone)]
struct Seen {
    task: TaskId,
    /// The processor instance: one per task incarnation (a task is rebuilt whenever it moves).
    instance: u64,
    /// The application instance, `a` or `b`.
    app: &'static str,
    thread: ThreadId,
    phase: usize,
    offset: i64,
}

/// What the processors report to the test.
struct Probe {
    /// Every processed record, in processing order.
    log: Mutex<Vec<Seen>>,
    /// The processor instances initialized and not closed yet, per task.
    open: Mutex<BTreeMap<TaskId, BTreeSet<u64>>>,
    /// The group's committed offset of its partition when each processor instance started.
    committed_at_init: Mutex<BTreeMap<u64, Option<i64>>>,
    /// The tasks some processor is inside `process` for right now.
    busy: Mutex<BTreeSet<TaskId>>,
    /// Broken promises seen on the stream threads (asserted by the test, not panicked there).
    violations: Mutex<Vec<String>>,
    phase: AtomicUsize,
    /// A consumer of the application's group that never joins it: reads committed offsets.
    offsets: Consumer,
    rt: tokio::runtime::Handle,
}

impl Probe {
    fn violation(&self, what: String) {
        self.violations.lock().unwrap().push(what);
    }

    /// The group's committed offsets of the input partitions.
    async fn committed(&self) -> Vec<Option<i64>> {
        let tps: Vec<TopicPartition> =
            (0..PARTITIONS).map(|p| TopicPartition::new("input", p)).collect();
        let committed = self.offsets.committed(&tps).await.unwrap();
        tps.iter()
            .map(|tp| committed.iter().find(|(t, _)| t == tp).unwrap().1.as_ref().map(|o| o.offset))
            .collect()
    }
}

static NEXT_INSTANCE: AtomicU64 = AtomicU64::new(0);

/// Forwards each record tagged with where it was read, and tells the probe who processed it.
struct Tracker {
    probe: Arc<Probe>,
    app: &'static str,
    instance: u64,
    task: Option<TaskId>,
}

impl Processor<String, String> for Tracker {
    fn init(&mut self, ctx: &mut ProcessorContext<String, String>) -> Result<(), ProcessError> {
        self.instance = NEXT_INSTANCE.fetch_add(1, Ordering::SeqCst);
        let task = ctx.task_id();
        self.task = Some(task);
        // Stream threads are plain threads: blocking on the test's runtime is allowed here.
        let committed = self.probe.rt.block_on(self.probe.committed())[task.partition as usize];
        self.probe.committed_at_init.lock().unwrap().insert(self.instance, committed);
        let mut open = self.probe.open.lock().unwrap();
        let others = open.entry(task).or_default();
        if !others.is_empty() {
            self.probe.violation(format!(
                "task {task} started in {} (processor {}) while processors {others:?} of it were \
                 still open",
                self.app, self.instance
            ));
        }
        others.insert(self.instance);
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<String, String>,
        r: Record<String, String>,
    ) -> Result<(), ProcessError> {
        let task = ctx.task_id();
        let Some(meta) = ctx.record_metadata() else {
            self.probe.violation(format!("task {task}: a record without metadata"));
            return Ok(());
        };
        if &*meta.topic != "input"
            || meta.partition != task.partition
            || r.value != format!("{}:{}", meta.partition, meta.offset)
        {
            self.probe.violation(format!("task {task}: {:?} read at {meta:?}", r.value));
        }
        if !self.probe.busy.lock().unwrap().insert(task) {
            self.probe.violation(format!("task {task} processed by two processors at once"));
        }
        self.probe.log.lock().unwrap().push(Seen {
            task,
            instance: self.instance,
            app: self.app,
            thread: std::thread::current().id(),
            phase: self.probe.phase.load(Ordering::SeqCst),
            offset: meta.offset,
        });
        let value = format!("seen:{}@{}:{}", r.value, meta.partition, meta.offset);
        ctx.forward(r.with_value(value));
        self.probe.busy.lock().unwrap().remove(&task);
        Ok(())
    }

    fn close(&mut self) {
        if let Some(task) = self.task {
            self.probe.open.lock().unwrap().entry(task).or_default().remove(&self.instance);
        }
    }
}

fn app(
    broker: &Broker,
    dir: &std::path::Path,
    probe: &Arc<Probe>,
    name: &'static str,
) -> KafkaStreams {
    let builder = StreamsBuilder::new();
    let probe = probe.clone();
    builder
        .stream::<String, String>("input")
        .process(move || Tracker { probe: probe.clone(), app: name, instance: 0, task: None })
        // Key `p<n>` goes to output partition n: each input partition's output stays in order.
        .to_with(
            "output",
            Produced::default()
                .with_partitioner(|_, k: &String, _: &String, _| k[1..].parse::<i32>().ok()),
        );
    let config = StreamsConfig::new(APP_ID)
        .num_stream_threads(2)
        .commit_interval(COMMIT_INTERVAL)
        .state_dir(dir);
    KafkaStreams::new(builder.build().unwrap(), config, broker).unwrap()
}

/// The input feed: chunks of records, each on every partition, `<partition>:<offset>` keyed
/// `p<partition>`; the next chunk only once the group committed the previous one.
struct Feed {
    /// The first offset of each chunk (the same on every partition).
    starts: Mutex<Vec<i64>>,
    /// Chunks produced and committed.
    committed: AtomicUsize,
    stop: AtomicBool,
}

impl Feed {
    /// The first offset of the chunk holding `offset`.
    fn chunk_start(&self, offset: i64) -> i64 {
        let starts = self.starts.lock().unwrap();
        starts[starts.partition_point(|&s| s <= offset) - 1]
    }
}

/// Feeds chunks until told to stop; returns the end offset of every partition.
async fn feed(producer: Producer, probe: Arc<Probe>, feed: Arc<Feed>) -> i64 {
    let mut end = 0;
    let mut size = BACKLOG;
    while !feed.stop.load(Ordering::SeqCst) {
        feed.starts.lock().unwrap().push(end);
        let mut sent = Vec::new();
        for offset in end..end + size {
            for p in 0..PARTITIONS {
                let record =
                    ProducerRecord::new("input", format!("{p}:{offset}")).key(format!("p{p}"));
                sent.push((offset, producer.send(record.partition(p)).await.unwrap()));
            }
        }
        for (offset, delivery) in sent {
            assert_eq!(delivery.await.unwrap().offset, offset, "the input topic started empty");
        }
        end += size;
        let deadline = Instant::now() + Duration::from_secs(120);
        while probe.committed().await.iter().any(|c| *c != Some(end)) {
            assert!(
                Instant::now() < deadline,
                "the group never committed offset {end} of every input partition: {:?}",
                probe.committed().await
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        feed.committed.fetch_add(1, Ordering::SeqCst);
        size = CHUNK;
    }
    end
}

/// Waits until `n` chunks in all were fed and committed.
async fn fed(feed: &Feed, n: usize, task: &tokio::task::JoinHandle<i64>) {
    while feed.committed.load(Ordering::SeqCst) < n {
        assert!(!task.is_finished(), "the feed stopped (see its panic above)");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn state_of(app: Arc<KafkaStreams>, state: State) -> bool {
    integration_tests::wait_for_state(&app, state, Duration::from_secs(60)).await
}

async fn close(app: Arc<KafkaStreams>) {
    let closing = app.clone();
    assert!(
        tokio::task::spawn_blocking(move || closing.close(Duration::from_secs(60))).await.unwrap()
    );
    assert_eq!(app.state(), State::NotRunning);
}

/// Waits until `ok` holds of the instances' thread metadata.
async fn wait_for_tasks(
    what: &str,
    apps: &[&KafkaStreams],
    ok: impl Fn(&[Vec<Vec<TaskId>>]) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let tasks: Vec<Vec<Vec<TaskId>>> = apps
            .iter()
            .map(|a| a.metadata_for_local_threads().into_iter().map(|t| t.active_tasks).collect())
            .collect();
        if ok(&tasks) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: tasks per instance and thread {tasks:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_record_arrives_in_order_while_instances_join_and_leave() {
    init_tracing();
    let dir = tempfile::tempdir().unwrap();
    let broker = integration_tests::streams_broker(dir.path()).await.unwrap();
    broker.admin().create_topic(NewTopic::new("input", PARTITIONS)).await.unwrap();
    broker.admin().create_topic(NewTopic::new("output", PARTITIONS)).await.unwrap();
    let probe = Arc::new(Probe {
        log: Mutex::default(),
        open: Mutex::default(),
        committed_at_init: Mutex::default(),
        busy: Mutex::default(),
        violations: Mutex::default(),
        phase: AtomicUsize::new(BEFORE_FEED),
        offsets: broker.consumer(ConsumerConfig::group(APP_ID)).unwrap(),
        rt: tokio::runtime::Handle::current(),
    });

    // The first instance runs alone: each of its two threads owns tasks of its own.
    let a = Arc::new(app(&broker, &dir.path().join("a"), &probe, "a"));
    a.start().unwrap();
    assert!(state_of(a.clone(), State::Running).await, "first instance never ran");
    wait_for_tasks("both threads of the first instance own tasks", &[&a], |t| {
        let threads = &t[0];
        let all: BTreeSet<TaskId> = threads.iter().flatten().copied().collect();
        threads.len() == 2
            && threads.iter().all(|ts| !ts.is_empty())
            && all.len() == 4
            && threads.iter().map(Vec::len).sum::<usize>() == 4
    })
    .await;
    probe.phase.store(ALONE, Ordering::SeqCst);
    let chunks = Arc::new(Feed {
        starts: Mutex::default(),
        committed: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
    });
    let feeding = tokio::spawn(feed(
        broker.producer(Default::default()).unwrap(),
        probe.clone(),
        chunks.clone(),
    ));
    fed(&chunks, 1 + CHUNKS_PER_PHASE, &feeding).await;

    // A second instance joins while input keeps arriving: the tasks are shared out.
    probe.phase.store(SHARED, Ordering::SeqCst);
    let b = Arc::new(app(&broker, &dir.path().join("b"), &probe, "b"));
    b.start().unwrap();
    assert!(state_of(b.clone(), State::Running).await, "second instance never ran");
    wait_for_tasks("the tasks are shared by both instances", &[&a, &b], |t| {
        let count = |i: usize| t[i].iter().map(Vec::len).sum::<usize>();
        count(0) > 0 && count(1) > 0 && count(0) + count(1) == 4
    })
    .await;
    let n = chunks.committed.load(Ordering::SeqCst);
    fed(&chunks, n + CHUNKS_PER_PHASE, &feeding).await;

    // It leaves; the first instance takes everything back, and input keeps arriving.
    probe.phase.store(LEFT, Ordering::SeqCst);
    close(b.clone()).await;
    let n = chunks.committed.load(Ordering::SeqCst);
    fed(&chunks, n + CHUNKS_PER_PHASE, &feeding).await;
    chunks.stop.store(true, Ordering::SeqCst);
    let end = feeding.await.unwrap();
    close(a.clone()).await;

    let violations = probe.violations.lock().unwrap().clone();
    assert!(violations.is_empty(), "{violations:#?}");
    let log = probe.log.lock().unwrap().clone();
    let committed_at_init = probe.committed_at_init.lock().unwrap().clone();
    let input_records = end * i64::from(PARTITIONS);

    // Everything read was committed: a restart would not process anything again.
    let describe = broker.admin().describe_topic("input").unwrap();
    for p in &describe.partitions {
        assert_eq!(p.high_watermark, end, "input partition {}", p.partition);
    }
    assert_eq!(probe.committed().await, vec![Some(end); PARTITIONS as usize]);

    // Per partition, the processing log: runs of one processor instance each. A processor
    // processes its partition's records in order, on one thread; a replaced one never processes
    // again; its successor starts exactly at the committed offset it found, which skips nothing
    // and goes back at most to the start of the chunk in flight.
    let mut handoffs = 0usize;
    let mut handoff_bound = 0i64;
    let mut moves: BTreeSet<(&str, &str)> = BTreeSet::new();
    for p in 0..PARTITIONS {
        let seen: Vec<&Seen> = log.iter().filter(|s| s.task.partition == p).collect();
        assert!(seen.iter().all(|s| s.task == seen[0].task), "one task reads partition {p}");
        let mut retired: BTreeSet<u64> = BTreeSet::new();
        let mut thread_of: HashMap<u64, ThreadId> = HashMap::new();
        let mut prev: Option<&Seen> = None;
        for s in &seen {
            assert_eq!(
                *thread_of.entry(s.instance).or_insert(s.thread),
                s.thread,
                "processor {} of partition {p} ran on two threads",
                s.instance
            );
            match prev {
                None => assert_eq!(s.offset, 0, "partition {p} starts at its first record"),
                Some(last) if last.instance == s.instance => assert_eq!(
                    s.offset,
                    last.offset + 1,
                    "processor {} of partition {p}: {} after {}",
                    s.instance,
                    s.offset,
                    last.offset
                ),
                Some(last) => {
                    assert!(
                        retired.insert(last.instance) && !retired.contains(&s.instance),
                        "partition {p}: processor {} ran again after it was replaced",
                        s.instance
                    );
                    let start = committed_at_init[&s.instance].unwrap_or(0);
                    let chunk = chunks.chunk_start(last.offset);
                    assert!(
                        s.offset == start && chunk <= start && start <= last.offset + 1,
                        "partition {p}: processor {} ({}) started at {} with offset {start} \
                         committed, after processor {} ({}) stopped at {} in the chunk from {chunk}",
                        s.instance,
                        s.app,
                        s.offset,
                        last.instance,
                        last.app,
                        last.offset
                    );
                    handoffs += 1;
                    handoff_bound += last.offset + 1 - chunk;
                    moves.insert((last.app, s.app));
                }
            }
            prev = Some(s);
        }
        assert_eq!(prev.map(|s| s.offset), Some(end - 1), "partition {p} processed to its end");
    }
    // The ownership checks above were exercised across the two application instances.
    assert!(
        moves.contains(&("a", "b")) && moves.contains(&("b", "a")),
        "tasks should have moved to the second instance and back: {moves:?}"
    );

    // While the first instance ran alone, both of its threads processed records, each its own
    // tasks.
    let mut alone: HashMap<ThreadId, BTreeSet<TaskId>> = HashMap::new();
    for s in log.iter().filter(|s| s.phase == ALONE) {
        assert_eq!(s.app, "a");
        alone.entry(s.thread).or_default().insert(s.task);
    }
    let alone: Vec<&BTreeSet<TaskId>> = alone.values().collect();
    assert_eq!(alone.len(), 2, "both threads of the first instance processed records");
    assert!(alone[0].is_disjoint(alone[1]), "the two threads shared tasks: {alone:?}");
    let b_threads: HashSet<ThreadId> =
        log.iter().filter(|s| s.app == "b").map(|s| s.thread).collect();
    assert!(!b_threads.is_empty(), "the second instance processed records");

    // The output, per input partition: every record at least once, nothing else; in offset order
    // except for replays, each back to no earlier than the start of the chunk in flight (what
    // may have been uncommitted); at most one replay per hand-off.
    let mut duplicates = 0i64;
    let mut replays = 0usize;
    for p in 0..PARTITIONS {
        let records: Vec<ConsumerRecord> = read_partition(&broker, "output", p).await.unwrap();
        let mut offsets = Vec::with_capacity(records.len());
        for r in &records {
            let k = String::from_utf8(r.key.clone().unwrap().to_vec()).unwrap();
            let v = String::from_utf8(r.value.clone().unwrap().to_vec()).unwrap();
            assert_eq!(k, format!("p{p}"), "output partition {p}: {v}");
            let (input, read_at) = v.strip_prefix("seen:").and_then(|v| v.split_once('@')).unwrap();
            assert_eq!(input, read_at, "output partition {p}: {v}");
            let (from, offset) = input.split_once(':').unwrap();
            assert_eq!(from, p.to_string(), "output partition {p}: {v}");
            offsets.push(offset.parse::<i64>().unwrap());
        }
        assert_eq!(offsets.first(), Some(&0), "partition {p} starts at its first record");
        for w in offsets.windows(2) {
            let (last, next) = (w[0], w[1]);
            if next == last + 1 {
                continue;
            }
            let chunk = chunks.chunk_start(last);
            assert!(
                next <= last && next >= chunk,
                "partition {p}: {next} after {last} (the chunk in flight starts at {chunk})"
            );
            replays += 1;
        }
        // Each owner's output is flushed before its commit, so the output is exactly what was
        // processed, in processing order: its replays are the hand-offs checked above.
        let processed: Vec<i64> =
            log.iter().filter(|s| s.task.partition == p).map(|s| s.offset).collect();
        assert!(offsets == processed, "partition {p}: the output differs from what was processed");
        let distinct: BTreeSet<i64> = offsets.iter().copied().collect();
        assert_eq!(distinct, (0..end).collect(), "partition {p}: every record, nothing else");
        duplicates += offsets.len() as i64 - end;
    }
    eprintln!(
        "{input_records} input records, {} processed, {duplicates} written twice, {replays} \
         replays, {handoffs} hand-offs (replay bound {handoff_bound})",
        log.len()
    );
    assert!(replays <= handoffs, "{replays} replays but only {handoffs} hand-offs");
    assert!(
        duplicates <= handoff_bound,
        "{duplicates} duplicates; the hand-offs allow {handoff_bound}"
    );
    assert!(
        duplicates <= MAX_DUPLICATES,
        "{duplicates} duplicates of {input_records} records (at most {MAX_DUPLICATES} expected)"
    );
    broker.close().await.unwrap();
}
