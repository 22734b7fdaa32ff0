//! Tasks: one instance of a sub-topology, pinned to one partition number of its input topics.
//!
//! A task owns its processors (built from the topology's factories), one buffer per input
//! partition, its stream time and its punctuation schedules. It processes records in timestamp
//! order, choosing the buffered record with the smallest timestamp (a chain of batching nodes
//! takes a run of such records at once, see [`Task::process_up_to`]), and reports the offsets it
//! has finished so that commits never cover a record that was not processed.

pub(crate) mod assignment_info;
pub(crate) mod assignor;
pub(crate) mod partition_group;
pub(crate) mod record_queue;
pub(crate) mod shared;
mod state;

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

use crate::config::StreamsConfig;
use crate::error::StreamsError;
use crate::handlers::ErrorKind;
use crate::processor::PunctuationType;
use crate::processor::node::Lifecycle;
use crate::processor::source::RawInput;
use crate::state::task_stores::{StoreContext, TaskStores};
use crate::time::{Clock, Extracted, RawRecord, RawRecords, TimestampExtractor};
use crate::topology::groups::SubTopology;
use crate::topology::{BuildCtx, NodeKind, Topology};

use partition_group::{Next, PartitionQueue};
use shared::{Failure, Handlers, Phase, RecordCollector, Refused, TaskShared};
pub(crate) use state::TaskState;

/// What a task needs to open its stores.
pub(crate) struct StoreEnv<'a> {
    /// `<state.dir>/<application.id>`.
    pub(crate) app_dir: std::path::PathBuf,
    pub(crate) rocks: &'a state_stores::RocksDbConfig,
    /// The record-cache budget the thread's caching stores share.
    pub(crate) cache: state_stores::CacheBudget,
    pub(crate) listener: &'a dyn crate::state::StateRestoreListener,
    /// Where the instance lists its stores for queries (none under the test driver).
    pub(crate) registry: Option<Arc<crate::state::registry::StoreRegistry>>,
    /// The instance's global stores.
    pub(crate) globals: Vec<(crate::state::StoreSpec, crate::state::registry::SharedStore)>,
}

/// A task's identity: its sub-topology and partition number (`<subtopology>_<partition>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId {
    /// The sub-topology.
    pub subtopology: u32,
    /// The partition number of its input topics.
    pub partition: i32,
}

impl TaskId {
    /// The task of `subtopology` for partition `partition`.
    pub fn new(subtopology: u32, partition: i32) -> Self {
        Self { subtopology, partition }
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.subtopology, self.partition)
    }
}

struct SourceSlot {
    name: Arc<str>,
    input: Rc<RefCell<dyn RawInput>>,
    extractor: Arc<dyn TimestampExtractor>,
}

/// One running instance of a sub-topology.
pub(crate) struct Task {
    pub(crate) id: TaskId,
    state: TaskState,
    shared: Rc<TaskShared>,
    sources: Vec<SourceSlot>,
    by_topic: HashMap<Arc<str>, usize>,
    patterns: Vec<(regex::Regex, usize)>,
    /// Nodes with a lifecycle, by node index, in topology order.
    lifecycles: Vec<(usize, Rc<RefCell<dyn Lifecycle>>)>,
    /// The stores of this task's processors.
    store_specs: Vec<crate::state::StoreSpec>,
    /// Per queue: the next offset to commit, and whether it moved since the last commit.
    progress: Vec<(Option<i64>, bool)>,
    max_idle_ms: i64,
    /// Whether sources take the key, value and headers of the records they read (no error
    /// handler reads them): saves a reference count on each.
    take_bytes: bool,
    /// Whether records move through the task a run at a time (see [`Task::process_up_to`]):
    /// one source, every other node a sink or a processor that declares
    /// [`Processor::BATCHES`](crate::Processor::BATCHES), and no node with two children.
    batched: bool,
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task").field("id", &self.id).field("state", &self.state).finish()
    }
}

impl Task {
    /// Builds the processors of `sub` for partition `id.partition`; `partitions` are the input
    /// partitions the task reads.
    pub(crate) fn new(
        topology: &Topology,
        sub: &SubTopology,
        id: TaskId,
        partitions: &[(Arc<str>, i32)],
        config: &StreamsConfig,
        clock: Arc<dyn Clock>,
        collector: Box<dyn RecordCollector>,
    ) -> Result<Self, StreamsError> {
        let app: Arc<str> = Arc::from(config.application_id.as_str());
        let handlers = Handlers {
            deserialization: config.deserialization_error_handler.clone(),
            processing: config.processing_error_handler.clone(),
            production: config.production_error_handler.clone(),
        };
        let take_bytes = !handlers.read_record_bytes();
        let shared = Rc::new(TaskShared::new(
            id,
            app.clone(),
            clock,
            collector,
            handlers,
            config.serdes.clone(),
        ));
        let mut inputs: HashMap<usize, Box<dyn Any>> = HashMap::new();
        let mut sources = Vec::new();
        let mut by_topic = HashMap::new();
        let mut patterns = Vec::new();
        let mut lifecycles = Vec::new();
        let mut chain = true;
        for &i in sub.nodes.iter().rev() {
            let spec = &topology.nodes[i];
            chain &= spec.children.len() <= 1;
            let children: Vec<(Arc<str>, &dyn Any)> = spec
                .children
                .iter()
                .filter_map(|c| inputs.get(c).map(|inp| (topology.nodes[*c].name.clone(), &**inp)))
                .collect();
            let stores = match &spec.kind {
                NodeKind::Processor { stores } => stores.clone(),
                _ => Vec::new(),
            };
            let built = spec.factory.build(BuildCtx {
                index: i,
                name: spec.name.clone(),
                children,
                task: shared.clone(),
                serdes: &config.serdes,
                stores,
            })?;
            if let Some(input) = built.input {
                chain &= built.batches;
                inputs.insert(i, input);
            }
            if let Some(l) = built.lifecycle {
                lifecycles.push((i, l));
            }
            if let (Some(raw), NodeKind::Source { topics, pattern, extractor }) =
                (built.raw, &spec.kind)
            {
                let slot = sources.len();
                sources.push(SourceSlot {
                    name: spec.name.clone(),
                    input: raw,
                    extractor: extractor
                        .clone()
                        .unwrap_or_else(|| config.default_timestamp_extractor.clone()),
                });
                for t in topics {
                    by_topic.insert(Arc::from(t.resolve(&app)), slot);
                }
                if let Some(p) = pattern {
                    patterns.push((p.clone(), slot));
                }
            }
        }
        lifecycles.reverse();
        let batched = chain && sources.len() == 1;
        let progress = {
            let mut group = shared.group.borrow_mut();
            for (t, p) in partitions {
                group.add_partition(t.clone(), *p);
            }
            vec![(None, false); group.queues.len()]
        };
        Ok(Self {
            id,
            state: TaskState::Created,
            shared,
            sources,
            by_topic,
            patterns,
            lifecycles,
            store_specs: topology.stores_of(&sub.nodes),
            progress,
            max_idle_ms: config.max_task_idle_ms,
            take_bytes,
            batched,
        })
    }

    fn transition(&mut self, to: TaskState) -> Result<(), StreamsError> {
        self.state = self.state.transition(to).map_err(StreamsError::IllegalState)?;
        Ok(())
    }

    /// Opens and restores the task's stores (from `restore_from`, when given), initializes the
    /// processors (parents before children) and starts running.
    pub(crate) fn initialize(
        &mut self,
        env: &StoreEnv<'_>,
        restore_from: Option<&dyn crate::client::Backend>,
    ) -> Result<(), StreamsError> {
        self.transition(TaskState::Restoring)?;
        *self.shared.globals.borrow_mut() = env.globals.clone();
        if !self.store_specs.is_empty() {
            let ctx = StoreContext {
                task: self.id,
                application_id: &self.shared.application_id,
                task_dir: env.app_dir.join(self.id.to_string()),
                rocks: env.rocks,
                cache: env.cache.clone(),
                registry: env.registry.clone(),
                standby: false,
            };
            let stores = TaskStores::open(&self.store_specs, &ctx, restore_from, env.listener)?;
            *self.shared.stores.borrow_mut() = Some(stores);
        }
        self.shared.set_phase(Phase::Initializing);
        for (_, l) in &self.lifecycles {
            l.borrow_mut().init();
            if self.shared.failed() {
                break;
            }
        }
        self.handle_failure()?;
        self.transition(TaskState::Running)
    }

    /// The input partitions of this task.
    pub(crate) fn partition_count(&self) -> usize {
        self.shared.group.borrow().queues.len()
    }

    /// Records buffered and not yet processed.
    pub(crate) fn buffered(&self) -> usize {
        self.shared.group.borrow().buffered()
    }

    /// Per input partition holding buffered records, the offset of the first: where reading must
    /// resume for them if the task goes away before processing them.
    pub(crate) fn unprocessed_from(&self) -> Vec<(Arc<str>, i32, i64)> {
        let group = self.shared.group.borrow();
        let first = |q: &PartitionQueue| q.records.offset_and_timestamp(0).map(|(o, _)| o);
        group
            .queues
            .iter()
            .filter_map(|q| Some((q.topic.clone(), q.partition, first(q)?)))
            .collect()
    }

    /// Buffers a record read from one of the task's partitions, with its extracted timestamp.
    pub(crate) fn add_record(&mut self, raw: RawRecord) -> Result<(), StreamsError> {
        let mut records = RawRecords::new(raw.topic.clone(), raw.partition);
        records.push_record(raw);
        self.add_records(records)
    }

    /// Buffers records of one of the task's partitions (a poll returns each partition's records
    /// column by column), keeping them in their columns.
    pub(crate) fn add_records(&mut self, mut records: RawRecords) -> Result<(), StreamsError> {
        if records.is_empty() {
            return Ok(());
        }
        let q = self.queue_for(&records.topic.clone(), records.partition)?;
        let mut group = self.shared.group.borrow_mut();
        let queue = &mut group.queues[q];
        let Some(slot) = queue.source else { return Ok(()) };
        let extractor = &*self.sources[slot].extractor;
        let mut timestamps = Vec::with_capacity(records.len());
        let mut skipped = Vec::new();
        let mut from = 0;
        while let Some((i, outcome)) =
            extractor.extract_all(&mut records, from, queue.partition_time, &mut timestamps)
        {
            match outcome {
                Extracted::Timestamp(ts) => timestamps.push(ts),
                Extracted::Skip => skipped.push(from + i),
                Extracted::Fail(message) => {
                    return Err(StreamsError::InvalidTimestamp { task: self.id, message });
                }
            }
            from += i + 1;
        }
        if !skipped.is_empty() {
            // Skipped records count as processed once everything before them is: those ahead
            // of every buffered record move the progress now; the others are passed by the
            // next processed record.
            let leading = skipped.iter().enumerate().take_while(|&(n, &i)| n == i).count();
            if leading > 0 && queue.records.is_empty() {
                self.progress[q] = (Some(records.offsets[leading - 1] + 1), true);
            }
            records = without(records, &skipped);
        }
        queue.records.push_chunk(records, timestamps);
        Ok(())
    }

    /// The queue of a partition, created (with its source looked up) on first sight.
    fn queue_for(&mut self, topic: &Arc<str>, partition: i32) -> Result<usize, StreamsError> {
        let existing = self.shared.group.borrow().index(topic, partition);
        let q = match existing {
            Some(q) => q,
            None => self.shared.group.borrow_mut().add_partition(topic.clone(), partition),
        };
        if q >= self.progress.len() {
            self.progress.resize(q + 1, (None, false));
        }
        if self.shared.group.borrow().queues[q].source.is_none() {
            let Some(slot) = self.source_for(topic) else {
                return Err(StreamsError::IllegalState(format!(
                    "task {} has no source for topic `{topic}`",
                    self.id
                )));
            };
            self.shared.group.borrow_mut().queues[q].source = Some(slot);
        }
        Ok(q)
    }

    fn source_for(&mut self, topic: &Arc<str>) -> Option<usize> {
        if let Some(&s) = self.by_topic.get(topic) {
            return Some(s);
        }
        let slot = self.patterns.iter().find(|(p, _)| p.is_match(topic)).map(|(_, s)| *s)?;
        self.by_topic.insert(topic.clone(), slot);
        Some(slot)
    }

    /// Processes the next record in timestamp order, if one may be processed now; then punctuates
    /// by stream time. `force` ignores `max.task.idle.ms`. Returns whether a record was processed.
    pub(crate) fn process(&mut self, now: i64, force: bool) -> Result<bool, StreamsError> {
        let (q, ts, offset, slot) = {
            let mut group = self.shared.group.borrow_mut();
            let q = match group.next(now, self.max_idle_ms, force) {
                Next::Queue(q) => q,
                Next::Wait | Next::Empty => return Ok(false),
            };
            let queue = &group.queues[q];
            let (Some((offset, ts)), Some(slot)) =
                (queue.records.offset_and_timestamp(0), queue.source)
            else {
                return Ok(false);
            };
            (q, ts, offset, slot)
        };
        self.shared.set_phase(Phase::Processing);
        self.shared.set_current(Some(q));
        // The record stays at the head of its queue while it is processed (for its metadata and
        // the error handlers); its bytes move on to the deserializers when no handler reads them.
        let topic = self.shared.group.borrow().queues[q].topic.clone();
        let result = match self.take_bytes {
            true => match self.shared.take_current_bytes() {
                Some((key, value, headers)) => self.sources[slot]
                    .input
                    .borrow_mut()
                    .process_taken(&topic, key, value, headers, ts),
                None => Ok(()),
            },
            false => match self.shared.current_raw() {
                Some(raw) => self.sources[slot].input.borrow_mut().process_raw(&raw, ts),
                None => Ok(()),
            },
        };
        let deserialized = result.is_ok();
        let outcome = match result {
            Ok(()) => self.handle_failure(),
            Err(e) => self.deserialization_failed(slot, offset, e),
        };
        self.shared.set_current(None);
        let bad: &[usize] = if deserialized { &[] } else { &[0] };
        self.retire(q, 1, bad);
        outcome?;
        self.finished(q, offset, ts)?;
        Ok(true)
    }

    /// Removes the first `n` records of queue `q`, processed; those at the positions in `bad`
    /// (increasing) did not deserialize. Returns the last one's offset and timestamp.
    fn retire(&mut self, q: usize, n: usize, bad: &[usize]) -> (i64, i64) {
        let mut group = self.shared.group.borrow_mut();
        let queue = &mut group.queues[q];
        let mut partition_time = queue.partition_time;
        let mut last = (-1, -1);
        let mut bad = bad.iter().copied().peekable();
        let mut pos = 0;
        queue.records.retire(n, |offset, ts| {
            // Only records that deserialize move partition time (the source moved stream time),
            // as Kafka drops bad records before they count.
            if bad.next_if_eq(&pos).is_none() {
                partition_time = partition_time.max(ts);
            }
            last = (offset, ts);
            pos += 1;
        });
        queue.partition_time = partition_time;
        last
    }

    /// Queue `q`'s records up to `offset` (the last, with timestamp `ts`) are done: their store
    /// changes go out, the partition's progress moves past them, and stream-time punctuations
    /// that came due run.
    fn finished(&mut self, q: usize, offset: i64, ts: i64) -> Result<(), StreamsError> {
        self.drain_changelogs(ts);
        self.progress[q] = (Some(offset + 1), true);
        let stream_time = self.shared.stream_time();
        if self.shared.stream_punctuation_due(stream_time) {
            self.punctuate(PunctuationType::StreamTime, stream_time)?;
        }
        Ok(())
    }

    /// Processes up to `budget` records, as that many calls of [`process`](Self::process) would.
    /// A batched task takes, from the partition `process` would pick, the run of records that go
    /// before every other partition's head, and moves it through its nodes as one batch; the
    /// others process one record at a time. Returns how many records were processed (or skipped
    /// as undeserializable).
    pub(crate) fn process_up_to(
        &mut self,
        now: i64,
        force: bool,
        budget: usize,
    ) -> Result<usize, StreamsError> {
        let mut done = 0;
        if !self.batched {
            while done < budget && self.process(now, force)? {
                done += 1;
            }
            return Ok(done);
        }
        while done < budget {
            let run = {
                let mut group = self.shared.group.borrow_mut();
                match group.next(now, self.max_idle_ms, force) {
                    Next::Queue(q) => {
                        group.queues[q].source.map(|slot| (q, slot, group.run_length(q)))
                    }
                    Next::Wait | Next::Empty => None,
                }
            };
            let Some((q, slot, len)) = run else { break };
            let n = len.min(budget - done);
            if n == 0 {
                break;
            }
            self.process_run(q, slot, n)?;
            done += n;
        }
        Ok(done)
    }

    /// Processes the first `n` records of queue `q` as one batch (records that do not
    /// deserialize go to the deserialization handler, one by one, as in `process`), then removes
    /// them from the queue and moves the partition's progress past them.
    fn process_run(&mut self, q: usize, slot: usize, n: usize) -> Result<(), StreamsError> {
        self.shared.set_phase(Phase::Processing);
        self.shared.set_current(Some(q));
        let mut bad = Vec::new();
        let (input, shared, take) =
            (self.sources[slot].input.clone(), self.shared.clone(), self.take_bytes);
        let run = input.borrow_mut().process_run(&shared, q, 0, n, take, &mut |pos, e| {
            self.shared.set_position(pos as u32);
            let offset = self.shared.record_metadata().map_or(-1, |m| m.offset);
            self.deserialization_failed(slot, offset, e)?;
            bad.push(pos);
            Ok(())
        });
        let outcome = run.and_then(|()| self.handle_failure());
        self.shared.set_current(None);
        let (last_offset, last_ts) = self.retire(q, n, &bad);
        outcome?;
        self.finished(q, last_offset, last_ts)
    }

    /// A record of source `slot` at `offset` did not deserialize: its handler decides whether
    /// the task goes on (the record is skipped, or sent to the dead-letter topic) or fails. The
    /// record must be the task's current one.
    fn deserialization_failed(
        &mut self,
        slot: usize,
        offset: i64,
        e: crate::serde::SerdeError,
    ) -> Result<(), StreamsError> {
        let node = self.sources[slot].name.clone();
        match self.shared.consult(ErrorKind::Deserialization, &node, &e) {
            Ok(()) => self.handle_failure(),
            Err(Refused::DeadLetter { topic, error }) => Err(StreamsError::Production {
                task: self.id,
                node: node.to_string(),
                topic,
                error,
            }),
            Err(Refused::Fail) => {
                let at = self.shared.record_metadata();
                Err(StreamsError::Deserialization {
                    task: self.id,
                    topic: at.as_ref().map(|m| m.topic.to_string()).unwrap_or_default(),
                    partition: at.map_or(-1, |m| m.partition),
                    offset,
                    error: e,
                })
            }
        }
    }

    /// Runs the wall-clock punctuations due at `now`.
    pub(crate) fn punctuate_wall_clock(&mut self, now: i64) -> Result<bool, StreamsError> {
        let any = self.punctuate(PunctuationType::WallClockTime, now)?;
        if any {
            self.drain_changelogs(now);
        }
        Ok(any)
    }

    fn punctuate(&mut self, kind: PunctuationType, now: i64) -> Result<bool, StreamsError> {
        if kind == PunctuationType::StreamTime && now < 0 {
            return Ok(false);
        }
        let due = self.shared.due(kind, now);
        self.shared.set_phase(Phase::Punctuating);
        let mut any = false;
        for (id, node) in due {
            if !self.shared.is_scheduled(id) {
                continue;
            }
            if let Some((_, l)) = self.lifecycles.iter().find(|(i, _)| *i == node) {
                l.borrow_mut().punctuate(id, now);
                any = true;
            }
            self.shared.reschedule(id, now);
            self.handle_failure()?;
        }
        Ok(any)
    }

    /// Reports a failure the handlers decided to fail on during the last step.
    fn handle_failure(&mut self) -> Result<(), StreamsError> {
        match self.shared.take_failure() {
            None => Ok(()),
            Some(Failure::Processing { node, phase, error }) => {
                let at = match (phase, self.shared.record_metadata()) {
                    (Phase::Initializing, _) => " while initializing".to_string(),
                    (Phase::Punctuating, _) | (_, None) => " in a punctuation".to_string(),
                    (Phase::Processing, Some(m)) => {
                        format!(" on {}-{}@{}", m.topic, m.partition, m.offset)
                    }
                };
                Err(StreamsError::Processing { task: self.id, node: node.to_string(), at, error })
            }
            Some(Failure::Production { node, topic, error }) => Err(StreamsError::Production {
                task: self.id,
                node: node.to_string(),
                topic: topic.to_string(),
                error,
            }),
        }
    }

    /// The offsets to commit (the next record to read per partition) that moved since the last
    /// call, as `(topic, partition, offset)`.
    pub(crate) fn take_commit_offsets(&mut self) -> Vec<(Arc<str>, i32, i64)> {
        let group = self.shared.group.borrow();
        let mut out = Vec::new();
        for (q, (offset, dirty)) in self.progress.iter_mut().enumerate() {
            if let (Some(o), true) = (*offset, *dirty) {
                let queue = &group.queues[q];
                out.push((queue.topic.clone(), queue.partition, o));
                *dirty = false;
            }
        }
        out
    }

    /// Closes the processors and drops buffered records (a rebalance or shutdown).
    pub(crate) fn close(&mut self) {
        if self.state == TaskState::Closed {
            return;
        }
        if matches!(self.state, TaskState::Running | TaskState::Restoring) {
            let _ = self.transition(TaskState::Suspended);
        }
        for (_, l) in &self.lifecycles {
            l.borrow_mut().close();
        }
        if let Some(mut stores) = self.shared.stores.borrow_mut().take() {
            stores.close();
        }
        for q in &mut self.shared.group.borrow_mut().queues {
            q.records.clear();
        }
        let _ = self.transition(TaskState::Closed);
    }
}

impl Task {
    /// Commit, first step: flushes the stores (record caches write their updates down and the
    /// processors forward them), then hands the changelog writes to the collector.
    pub(crate) fn flush_state(&mut self) -> Result<(), StreamsError> {
        let has_stores = self.shared.stores.borrow().is_some();
        if !has_stores {
            return Ok(());
        }
        self.shared.set_phase(Phase::Punctuating);
        for round in 0..2 {
            if let Some(stores) = self.shared.stores.borrow().as_ref() {
                stores.flush()?;
            }
            if round == 0 {
                for (_, l) in &self.lifecycles {
                    l.borrow_mut().flush();
                }
                self.handle_failure()?;
            }
        }
        self.drain_changelogs(self.shared.stream_time().max(0));
        Ok(())
    }

    /// Commit, last step: records the changelog offsets the stores now reflect.
    pub(crate) fn checkpoint(
        &self,
        backend: &dyn crate::client::Backend,
    ) -> Result<(), StreamsError> {
        match self.shared.stores.borrow().as_ref() {
            Some(stores) => stores.checkpoint(backend),
            None => Ok(()),
        }
    }

    /// Hands the stores' changelog writes to the collector.
    fn drain_changelogs(&self, timestamp: i64) {
        let stores = self.shared.stores.borrow();
        let Some(stores) = stores.as_ref() else { return };
        if !stores.has_pending() {
            return;
        }
        let mut collector = self.shared.collector.borrow_mut();
        stores.drain_changelogs(timestamp, &mut |r| {
            if let Err(failed) = collector.send(r) {
                tracing::error!(task = %self.id, error = %failed.1, "a changelog write could not be queued");
            }
        });
    }

    /// Whether this task holds store `name`.
    pub(crate) fn has_store(&self, name: &str) -> bool {
        self.store_specs.iter().any(|s| s.name == name)
    }

    /// The typed handle of this task's store `name`.
    pub(crate) fn key_value_store<K: 'static, V: 'static>(
        &self,
        name: &str,
    ) -> Result<crate::state::KeyValueStore<K, V>, crate::processor::ProcessError> {
        crate::state::task_stores::typed_store(&self.shared, name)
    }

    /// The timestamped handle of this task's store `name`.
    pub(crate) fn timestamped_key_value_store<K: 'static, V: 'static>(
        &self,
        name: &str,
    ) -> Result<crate::state::TimestampedKeyValueStore<K, V>, crate::processor::ProcessError> {
        crate::state::task_stores::typed_timestamped_store(&self.shared, name)
    }

    /// The typed window-store handle of this task's store `name`.
    pub(crate) fn window_store<K: 'static, V: 'static>(
        &self,
        name: &str,
    ) -> Result<crate::state::WindowStore<K, V>, crate::processor::ProcessError> {
        crate::state::task_stores::typed_window_store(&self.shared, name)
    }

    /// The timestamped window-store handle of this task's store `name`.
    pub(crate) fn timestamped_window_store<K: 'static, V: 'static>(
        &self,
        name: &str,
    ) -> Result<crate::state::TimestampedWindowStore<K, V>, crate::processor::ProcessError> {
        crate::state::task_stores::typed_timestamped_window_store(&self.shared, name)
    }

    /// Whether this task reads `topic` (by name or pattern).
    pub(crate) fn reads(&mut self, topic: &Arc<str>) -> bool {
        self.source_for(topic).is_some()
    }
}

/// `records` without the records at the positions `skipped` (increasing).
fn without(records: RawRecords, skipped: &[usize]) -> RawRecords {
    let RawRecords { topic, partition, offsets, timestamps, keys, values, mut headers } = records;
    headers.resize_with(offsets.len(), Vec::new);
    let mut kept = RawRecords::new(topic, partition);
    let mut skipped = skipped.iter().copied().peekable();
    let columns = offsets.into_iter().zip(timestamps).zip(keys).zip(values).zip(headers);
    for (i, ((((offset, ts), key), value), headers)) in columns.enumerate() {
        if skipped.next_if_eq(&i).is_none() {
            kept.push(offset, ts, key, value, headers);
        }
    }
    kept
}
