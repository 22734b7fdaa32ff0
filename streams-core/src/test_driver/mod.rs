//! A test driver in the spirit of Kafka's `TopologyTestDriver`: runs a topology synchronously,
//! with no broker and no threads.
//!
//! Every sub-topology runs as one task on partition 0. Each piped record is processed to the end
//! before the call returns; records written to a topic the topology also reads (a repartition topic,
//! say) are fed back in at once, as a running application would read them. Wall-clock time moves
//! only when the test advances it.
//!
//! ```
//! use streams_core::{Serdes, StreamsConfig, Topology, TopologyTestDriver};
//! # use streams_core::{Processor, ProcessorContext, ProcessError, Record};
//! # struct Upper;
//! # impl Processor<String, String> for Upper {
//! #     fn process(&mut self, ctx: &mut ProcessorContext<String, String>, r: Record<String, String>)
//! #         -> Result<(), ProcessError> {
//! #         let v = r.value.to_uppercase();
//! #         ctx.forward(r.with_value(v));
//! #         Ok(())
//! #     }
//! # }
//!
//! let mut topology = Topology::new();
//! topology
//!     .add_source::<String, String>("Source", &["input"]).unwrap()
//!     .add_processor("Upper", || Upper, &["Source"]).unwrap()
//!     .add_sink::<String, String>("Sink", "output", &["Upper"]).unwrap();
//!
//! let driver = TopologyTestDriver::new(topology, StreamsConfig::new("test")).unwrap();
//! let input = driver.input_topic::<String, String>("input");
//! let output = driver.output_topic::<String, String>("output");
//! input.pipe_input_at("k".to_string(), "hello".to_string(), 42).unwrap();
//! let record = output.read_record().unwrap();
//! assert_eq!((record.key.as_str(), record.value.as_str(), record.timestamp), ("k", "HELLO", 42));
//! assert!(output.is_empty());
//! ```

mod topics;

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

pub use topics::{TestInputTopic, TestOutputTopic, TestRecord};

use crate::config::StreamsConfig;
use crate::error::StreamsError;
use crate::record::Header;
use crate::serde::Serde;
use crate::task::shared::{OutgoingRecord, RecordCollector};
use crate::task::{Task, TaskId};
use crate::time::{Clock, MockClock, RawRecord};
use crate::topology::Topology;
use crate::topology::groups::sub_topologies;

/// Collects a task's output for the driver.
struct DriverCollector {
    out: Rc<RefCell<VecDeque<OutgoingRecord>>>,
}

impl RecordCollector for DriverCollector {
    fn send(&mut self, record: OutgoingRecord) -> Result<(), Box<(OutgoingRecord, String)>> {
        self.out.borrow_mut().push_back(record);
        Ok(())
    }
    fn partition_count(&self, _topic: &str) -> Option<i32> {
        Some(1)
    }
}

pub(crate) struct Inner {
    /// Removed with the driver.
    state_dir: tempfile::TempDir,
    config: StreamsConfig,
    clock: Arc<MockClock>,
    tasks: Vec<Task>,
    /// The global stores, fed straight from their topics.
    globals: crate::state::global::GlobalStores,
    pending: Rc<RefCell<VecDeque<OutgoingRecord>>>,
    outputs: HashMap<String, VecDeque<OutgoingRecord>>,
    next_offset: HashMap<String, i64>,
}

/// Runs a topology synchronously for tests (Kafka's `TopologyTestDriver`).
pub struct TopologyTestDriver {
    inner: Rc<RefCell<Inner>>,
}

impl std::fmt::Debug for TopologyTestDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopologyTestDriver").finish_non_exhaustive()
    }
}

impl TopologyTestDriver {
    /// Builds every sub-topology's task with wall-clock time starting at the system time.
    pub fn new(topology: Topology, config: StreamsConfig) -> Result<Self, StreamsError> {
        let now = crate::time::SystemClock.now_ms();
        Self::with_wall_clock(topology, config, now)
    }

    /// Builds every sub-topology's task with wall-clock time starting at `start_ms`.
    pub fn with_wall_clock(
        topology: Topology,
        config: StreamsConfig,
        start_ms: i64,
    ) -> Result<Self, StreamsError> {
        config.validate()?;
        for n in &topology.nodes {
            n.factory.check(&n.name, &config.serdes)?;
        }
        let clock = Arc::new(MockClock::new(start_ms));
        let pending = Rc::new(RefCell::new(VecDeque::new()));
        let state_dir = tempfile::Builder::new()
            .prefix("topology-test-driver")
            .tempdir()
            .map_err(|e| StreamsError::State(format!("creating a state directory: {e}")))?;
        let rocks = state_stores::RocksDbConfig::new(8 << 20);
        let listener = crate::state::LoggingRestoreListener;
        let app_dir = state_dir.path().join(&config.application_id);
        let subs = sub_topologies(&topology.nodes);
        let global_specs: Vec<(crate::state::StoreSpec, String, u32)> = topology
            .global_stores()
            .into_iter()
            .filter_map(|(spec, topic)| {
                let sub = subs.iter().find(|s| {
                    s.global && topology.stores_of(&s.nodes).iter().any(|x| x.name == spec.name)
                })?;
                Some((spec, topic, sub.id))
            })
            .collect();
        let globals = crate::state::global::GlobalStores::open(
            &global_specs,
            &app_dir,
            &rocks,
            None,
            &listener,
            None,
        )?;
        let env = crate::task::StoreEnv {
            app_dir,
            rocks: &rocks,
            cache: state_stores::CacheBudget::new(config.statestore_cache_max_bytes),
            listener: &listener,
            registry: None,
            globals: globals.handles(),
        };
        let mut tasks = Vec::new();
        for sub in subs.into_iter().filter(|s| !s.global) {
            let partitions: Vec<(Arc<str>, i32)> = sub
                .source_topics
                .iter()
                .map(|t| (Arc::from(t.resolve(&config.application_id)), 0))
                .collect();
            let mut task = Task::new(
                &topology,
                &sub,
                TaskId::new(sub.id, 0),
                &partitions,
                &config,
                clock.clone(),
                Box::new(DriverCollector { out: pending.clone() }),
            )?;
            task.initialize(&env, None)?;
            tasks.push(task);
        }
        let inner = Inner {
            state_dir,
            config,
            clock,
            tasks,
            globals,
            pending,
            outputs: HashMap::new(),
            next_offset: HashMap::new(),
        };
        let driver = Self { inner: Rc::new(RefCell::new(inner)) };
        driver.inner.borrow_mut().drain()?;
        Ok(driver)
    }

    /// An input topic using the default serdes for `K` and `V`.
    ///
    /// # Panics
    /// If no default serde is registered for `K` or `V`; use [`Self::input_topic_with`].
    pub fn input_topic<K: 'static, V: 'static>(&self, topic: &str) -> TestInputTopic<K, V> {
        let (k, v) = self.default_serdes::<K, V>();
        TestInputTopic::new(self.inner.clone(), topic, k, v)
    }

    /// An input topic with these serdes.
    pub fn input_topic_with<K: 'static, V: 'static>(
        &self,
        topic: &str,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
    ) -> TestInputTopic<K, V> {
        TestInputTopic::new(self.inner.clone(), topic, Arc::new(key_serde), Arc::new(value_serde))
    }

    /// An output topic using the default serdes for `K` and `V`.
    ///
    /// # Panics
    /// If no default serde is registered for `K` or `V`; use [`Self::output_topic_with`].
    pub fn output_topic<K: 'static, V: 'static>(&self, topic: &str) -> TestOutputTopic<K, V> {
        let (k, v) = self.default_serdes::<K, V>();
        TestOutputTopic::new(self.inner.clone(), topic, k, v)
    }

    /// An output topic with these serdes.
    pub fn output_topic_with<K: 'static, V: 'static>(
        &self,
        topic: &str,
        key_serde: impl Serde<K>,
        value_serde: impl Serde<V>,
    ) -> TestOutputTopic<K, V> {
        TestOutputTopic::new(self.inner.clone(), topic, Arc::new(key_serde), Arc::new(value_serde))
    }

    #[allow(clippy::expect_used)]
    fn default_serdes<K: 'static, V: 'static>(
        &self,
    ) -> (crate::serde::SharedSerde<K>, crate::serde::SharedSerde<V>) {
        let inner = self.inner.borrow();
        let k = inner.config.serdes.get::<K>().unwrap_or_else(|| {
            panic!("no default serde for `{}`; use the *_with variant", std::any::type_name::<K>())
        });
        let v = inner.config.serdes.get::<V>().unwrap_or_else(|| {
            panic!("no default serde for `{}`; use the *_with variant", std::any::type_name::<V>())
        });
        (k, v)
    }

    /// Moves wall-clock time forward and runs the wall-clock punctuations that come due.
    pub fn advance_wall_clock_time(&self, by: Duration) -> Result<(), StreamsError> {
        let mut inner = self.inner.borrow_mut();
        inner.clock.advance(by.as_millis() as i64);
        let now = inner.clock.now_ms();
        for t in &mut inner.tasks {
            t.punctuate_wall_clock(now)?;
        }
        inner.drain()
    }

    /// The window store `name` of the task that holds it, typed (Kafka's `getWindowStore`).
    /// `None` if no task has it; an error if it is not a window store of these types.
    pub fn window_store<K: 'static, V: 'static>(
        &self,
        name: &str,
    ) -> Result<Option<crate::state::WindowStore<K, V>>, crate::processor::ProcessError> {
        let inner = self.inner.borrow();
        for t in &inner.tasks {
            if t.has_store(name) {
                return t.window_store(name).map(Some);
            }
        }
        Ok(None)
    }

    /// The timestamped window store `name` of the task that holds it (Kafka's
    /// `getTimestampedWindowStore`). `None` if no task has it.
    pub fn timestamped_window_store<K: 'static, V: 'static>(
        &self,
        name: &str,
    ) -> Result<Option<crate::state::TimestampedWindowStore<K, V>>, crate::processor::ProcessError>
    {
        let inner = self.inner.borrow();
        for t in &inner.tasks {
            if t.has_store(name) {
                return t.timestamped_window_store(name).map(Some);
            }
        }
        Ok(None)
    }

    /// The key-value store `name` of the task that holds it, typed (Kafka's
    /// `getKeyValueStore`). `None` if no task has it; an error if the types are not the store's.
    /// Of a timestamped store this is a plain view (values without their timestamps).
    pub fn key_value_store<K: 'static, V: 'static>(
        &self,
        name: &str,
    ) -> Result<Option<crate::state::KeyValueStore<K, V>>, crate::processor::ProcessError> {
        self.find_store(name, |t| t.key_value_store(name), crate::state::task_stores::typed_handle)
    }

    /// The timestamped key-value store `name` of the task that holds it (Kafka's
    /// `getTimestampedKeyValueStore`). `None` if no task has it; an error if it keeps no
    /// timestamps or the types are not the store's.
    pub fn timestamped_key_value_store<K: 'static, V: 'static>(
        &self,
        name: &str,
    ) -> Result<Option<crate::state::TimestampedKeyValueStore<K, V>>, crate::processor::ProcessError>
    {
        self.find_store(
            name,
            |t| t.timestamped_key_value_store(name),
            crate::state::task_stores::timestamped_handle,
        )
    }

    /// Store `name` through `of_task` from the task that holds it, else through `of_global`
    /// from the global store of that name; `None` if there is neither.
    fn find_store<T>(
        &self,
        name: &str,
        of_task: impl FnOnce(&crate::task::Task) -> Result<T, crate::processor::ProcessError>,
        of_global: impl FnOnce(
            &crate::state::StoreSpec,
            &crate::state::registry::SharedStore,
            &crate::serde::SerdeRegistry,
            &str,
        ) -> Result<T, crate::processor::ProcessError>,
    ) -> Result<Option<T>, crate::processor::ProcessError> {
        let inner = self.inner.borrow();
        if let Some(t) = inner.tasks.iter().find(|t| t.has_store(name)) {
            return of_task(t).map(Some);
        }
        match inner.globals.handles().iter().find(|(spec, _)| spec.name == name) {
            Some((spec, store)) => of_global(spec, store, &inner.config.serdes, name).map(Some),
            None => Ok(None),
        }
    }

    /// The state directory the driver's persistent stores live in (removed with the driver).
    pub fn state_dir(&self) -> std::path::PathBuf {
        self.inner.borrow().state_dir.path().to_path_buf()
    }

    /// The topics written so far, sorted.
    pub fn output_topic_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.inner.borrow().outputs.keys().cloned().collect();
        v.sort();
        v
    }
}

impl Drop for TopologyTestDriver {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.inner.try_borrow_mut() {
            for t in &mut inner.tasks {
                t.close();
            }
            inner.globals.close();
        }
    }
}

impl Inner {
    /// Feeds one record into the task that reads `topic`, processes it, then everything it caused.
    pub(crate) fn pipe(
        &mut self,
        topic: &str,
        key: Option<Bytes>,
        value: Option<Bytes>,
        timestamp: i64,
        headers: Vec<Header>,
    ) -> Result<(), StreamsError> {
        if !self.feed(topic, key, value, timestamp, headers)? {
            return Err(StreamsError::IllegalState(format!(
                "topic `{topic}` is not read by this topology"
            )));
        }
        self.drain()
    }

    /// Gives the record to the task reading `topic` and processes all it has; false if none reads it.
    fn feed(
        &mut self,
        topic: &str,
        key: Option<Bytes>,
        value: Option<Bytes>,
        timestamp: i64,
        headers: Vec<Header>,
    ) -> Result<bool, StreamsError> {
        if self.globals.reads(topic) {
            // A global store's topic: the store takes the record as it is.
            self.globals.apply(topic, key, value, timestamp)?;
            return Ok(true);
        }
        let topic_arc: Arc<str> = Arc::from(topic);
        let Some(task) = self.tasks.iter_mut().find_map(|t| t.reads(&topic_arc).then_some(t))
        else {
            return Ok(false);
        };
        let next = self.next_offset.entry(topic.to_string()).or_insert(0);
        let offset = *next;
        *next += 1;
        task.add_record(RawRecord {
            topic: topic_arc,
            partition: 0,
            offset,
            timestamp,
            key,
            value,
            headers,
        })?;
        let now = self.clock.now_ms();
        // The same path as a stream thread's (a batched task takes its records as a run).
        task.process_up_to(now, true, usize::MAX)?;
        // As Kafka's driver does, every input is followed by a commit: caches flush.
        task.flush_state()?;
        Ok(true)
    }

    /// Captures output; output to a topic the topology reads is fed back in, in order.
    fn drain(&mut self) -> Result<(), StreamsError> {
        loop {
            let next = self.pending.borrow_mut().pop_front();
            let Some(r) = next else { return Ok(()) };
            self.outputs.entry(r.topic.to_string()).or_default().push_back(r.clone());
            self.feed(&r.topic, r.key, r.value, r.timestamp, r.headers)?;
        }
    }

    pub(crate) fn take_output(&mut self, topic: &str) -> Option<OutgoingRecord> {
        self.outputs.get_mut(topic)?.pop_front()
    }

    pub(crate) fn output_len(&self, topic: &str) -> usize {
        self.outputs.get(topic).map_or(0, VecDeque::len)
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{LogAndSkipOnInvalidTimestamp, RawRecords};

    fn raw(offset: i64, timestamp: i64) -> RawRecord {
        RawRecord {
            topic: Arc::from("in"),
            partition: 0,
            offset,
            timestamp,
            key: Some(Bytes::from_static(b"k")),
            value: Some(Bytes::from_static(b"v")),
            headers: Vec::new(),
        }
    }

    /// `records`, as a poll hands them over.
    fn polled(records: impl IntoIterator<Item = RawRecord>) -> RawRecords {
        let mut out = RawRecords::new(Arc::from("in"), 0);
        records.into_iter().for_each(|r| out.push_record(r));
        out
    }

    /// A record skipped for its timestamp counts as processed only once everything buffered
    /// ahead of it is: the committed offset never passes a record not yet processed.
    #[test]
    fn a_skipped_record_is_committed_only_after_the_records_ahead_of_it() {
        let mut topology = Topology::new();
        topology
            .add_source::<Bytes, Bytes>("Source", &["in"])
            .unwrap()
            .add_sink::<Bytes, Bytes>("Sink", "out", &["Source"])
            .unwrap();
        let config =
            StreamsConfig::new("skip").default_timestamp_extractor(LogAndSkipOnInvalidTimestamp);
        let driver = TopologyTestDriver::new(topology, config).unwrap();
        let mut inner = driver.inner.borrow_mut();
        let task = &mut inner.tasks[0];
        let offsets = |task: &mut Task| -> Vec<i64> {
            task.take_commit_offsets().into_iter().map(|(_, _, o)| o).collect()
        };
        // Skipped records at the head of an empty queue count at once.
        task.add_records(polled([raw(0, -1), raw(1, -1)])).unwrap();
        assert_eq!(offsets(task), [2]);
        // One behind a buffered record waits for it.
        task.add_records(polled([raw(2, 5), raw(3, -1), raw(4, 6)])).unwrap();
        assert_eq!(task.buffered(), 2);
        assert_eq!(offsets(task), Vec::<i64>::new());
        assert_eq!(task.process_up_to(0, true, 1).unwrap(), 1);
        assert_eq!(offsets(task), [3]);
        assert_eq!(task.process_up_to(0, true, 1).unwrap(), 1);
        assert_eq!(offsets(task), [5]);
    }
}
