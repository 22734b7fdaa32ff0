//! `KafkaStreams`: a topology running on stream threads against the log.

mod metadata;
mod state;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

pub use metadata::{HostInfo, KeyQueryMetadata, StreamsMetadata};
pub use state::State;

use crate::client::{Backend, EmbeddedBackend};
use crate::config::StreamsConfig;
use crate::error::StreamsError;
use crate::serde::SharedSerde;
use crate::state::registry::StoreRegistry;
use crate::state::{LagInfo, ReadOnlyKeyValueStore, StoreQueryParameters};
use crate::task::TaskId;
use crate::task::assignment_info::HostTasks;
use crate::task::assignor::{LocalClient, TaskAssignor};
use crate::thread::{self, ThreadContext};
use crate::topology::groups::sub_topologies;
use crate::topology::internal_topics::internal_topic_partitions;
use crate::topology::{NodeKind, Topology};

/// What to do when a stream thread fails (Kafka's `StreamThreadExceptionResponse`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamThreadExceptionResponse {
    /// Start a new thread (a new group member) in place of the failed one.
    ReplaceThread,
    /// Stop this application instance; it ends in [`State::Error`].
    ShutdownClient,
    /// Stop every instance of this application id running on this broker in this process.
    ShutdownApplication,
}

/// Decides what a failed stream thread's error means for the application.
pub type UncaughtExceptionHandler =
    Arc<dyn Fn(&StreamsError) -> StreamThreadExceptionResponse + Send + Sync>;

/// Called on every state change with `(new, old)`.
pub type StateListener = Arc<dyn Fn(State, State) + Send + Sync>;

/// A stream thread as the application reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadMetadata {
    /// The thread's name (`<application.id>-<instance>-StreamThread-<n>`).
    pub thread_name: String,
    /// The tasks it runs now.
    pub active_tasks: Vec<TaskId>,
    /// The tasks whose stores it keeps as standby replicas.
    pub standby_tasks: Vec<TaskId>,
    /// Whether it is processing (true) or rebalancing.
    pub running: bool,
}

/// What the application and its threads share.
pub(crate) struct AppShared {
    state: Mutex<State>,
    changed: Condvar,
    listener: Mutex<Option<StateListener>>,
    handler: Mutex<Option<UncaughtExceptionHandler>>,
    pub(crate) shutdown: AtomicBool,
    threads: Mutex<Vec<ThreadMetadata>>,
    live_threads: AtomicUsize,
    next_thread: AtomicUsize,
    failure: Mutex<Option<String>>,
    /// The stores this instance hosts, for queries.
    pub(crate) stores: Arc<StoreRegistry>,
    /// Every instance's tasks by endpoint, as the last assignment told.
    hosts: Mutex<Vec<HostTasks>>,
}

impl AppShared {
    /// A thread reports the standby tasks it keeps.
    pub(crate) fn standby_status(&self, slot: usize, standby_tasks: Vec<TaskId>) {
        if let Some(t) = self.threads.lock().get_mut(slot) {
            t.standby_tasks = standby_tasks;
        }
    }

    /// A thread reports the instances' tasks from its latest assignment.
    pub(crate) fn set_hosts(&self, hosts: Vec<HostTasks>) {
        *self.hosts.lock() = hosts;
    }

    fn set_state(&self, to: State) -> bool {
        let mut st = self.state.lock();
        let from = *st;
        if from == to || !from.can_move_to(to) {
            return false;
        }
        *st = to;
        drop(st);
        tracing::info!(from = ?from, to = ?to, "application state");
        if let Some(l) = self.listener.lock().clone() {
            l(to, from);
        }
        self.changed.notify_all();
        true
    }

    pub(crate) fn state(&self) -> State {
        *self.state.lock()
    }

    /// A thread reports its tasks and whether it is processing; the application is running when
    /// every live thread is.
    pub(crate) fn thread_status(&self, slot: usize, active_tasks: Vec<TaskId>, running: bool) {
        {
            let mut threads = self.threads.lock();
            if let Some(t) = threads.get_mut(slot) {
                t.active_tasks = active_tasks;
                t.running = running;
            }
        }
        let all_running = self.threads.lock().iter().all(|t| t.running);
        match (self.state(), all_running) {
            (State::Rebalancing, true) => {
                self.set_state(State::Running);
            }
            (State::Running, false) => {
                self.set_state(State::Rebalancing);
            }
            _ => {}
        }
    }

    /// Whether the thread in `slot` last reported itself processing.
    pub(crate) fn shared_running(&self, slot: usize) -> bool {
        self.threads.lock().get(slot).is_some_and(|t| t.running)
    }

    pub(crate) fn next_thread_number(&self) -> usize {
        self.next_thread.fetch_add(1, Ordering::SeqCst) + 1
    }

    pub(crate) fn rename_thread(&self, slot: usize, name: String) {
        if let Some(t) = self.threads.lock().get_mut(slot) {
            *t = ThreadMetadata {
                thread_name: name,
                active_tasks: Vec::new(),
                standby_tasks: Vec::new(),
                running: false,
            };
        }
    }

    /// A thread failed: asks the handler what to do. Returns whether to replace the thread.
    pub(crate) fn thread_failed(self: &Arc<Self>, key: &AppKey, error: &StreamsError) -> bool {
        tracing::error!(error = %error, "stream thread failed");
        let response = match self.handler.lock().clone() {
            Some(h) => h(error),
            None => StreamThreadExceptionResponse::ShutdownClient,
        };
        match response {
            StreamThreadExceptionResponse::ReplaceThread
                if !self.shutdown.load(Ordering::SeqCst) =>
            {
                true
            }
            StreamThreadExceptionResponse::ReplaceThread => false,
            StreamThreadExceptionResponse::ShutdownClient => {
                self.fail(error.to_string());
                false
            }
            StreamThreadExceptionResponse::ShutdownApplication => {
                let peers: Vec<Arc<AppShared>> = REGISTRY
                    .lock()
                    .get(key)
                    .map(|v| v.iter().filter_map(Weak::upgrade).collect())
                    .unwrap_or_default();
                for p in peers {
                    p.fail(format!("another instance asked the application to shut down: {error}"));
                }
                self.fail(error.to_string());
                false
            }
        }
    }

    pub(crate) fn fail(&self, why: String) {
        self.failure.lock().get_or_insert(why);
        self.set_state(State::PendingError);
        self.shutdown.store(true, Ordering::SeqCst);
    }

    /// A thread stopped for good; the last one settles the final state.
    pub(crate) fn thread_exited(&self) {
        if self.live_threads.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.shutdown.store(true, Ordering::SeqCst);
            match self.state() {
                State::PendingError => {
                    self.set_state(State::Error);
                }
                State::Running | State::Rebalancing => {
                    self.set_state(State::PendingShutdown);
                    self.set_state(State::NotRunning);
                }
                _ => {
                    self.set_state(State::NotRunning);
                }
            }
            self.changed.notify_all();
        }
    }
}

/// Identifies one application on one broker, for `ShutdownApplication`.
pub(crate) type AppKey = (std::path::PathBuf, String);

static REGISTRY: LazyLock<Mutex<HashMap<AppKey, Vec<Weak<AppShared>>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// A streams application instance: runs a topology's tasks on stream threads, in the consumer
/// group `application.id`, against the embedded broker (Kafka's `KafkaStreams`).
///
/// Several instances (in this process, or any client of the same broker) share the work: each
/// task runs on exactly one thread of one instance at a time, and moves when instances come and go.
///
/// ```
/// use std::time::Duration;
/// use broker_embedded::{Broker, BrokerConfig, NewTopic, ProducerRecord};
/// use streams_core::{KafkaStreams, Sink, State, StreamsConfig, Topology};
///
/// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let broker = Broker::open(BrokerConfig::new(dir.path())).await?;
/// broker.admin().create_topic(NewTopic::new("in", 2)).await?;
///
/// let mut topology = Topology::new();
/// topology
///     .add_source::<String, String>("source", &["in"])?
///     .add_sink_with("sink", Sink::<String, String>::topic("out"), &["source"])?;
/// let app = KafkaStreams::new(topology, StreamsConfig::new("copier").state_dir(dir.path()), &broker)?;
/// app.start()?;
/// assert!(app.wait_for_state(State::Running, Duration::from_secs(30)));
/// broker.producer(Default::default())?
///     .send_and_wait(ProducerRecord::new("in", "v").key("k")).await?;
/// assert!(app.close(Duration::from_secs(30)));
/// assert_eq!(app.state(), State::NotRunning);
/// # Ok(()) }
/// ```
pub struct KafkaStreams {
    topology: Arc<Topology>,
    config: StreamsConfig,
    backend: Arc<dyn Backend>,
    key: AppKey,
    shared: Arc<AppShared>,
    handles: Mutex<Vec<std::thread::JoinHandle<()>>>,
    runtime: Mutex<Option<tokio::runtime::Runtime>>,
    instance: String,
    restore_listener: Mutex<Arc<dyn crate::state::StateRestoreListener>>,
    /// What `start` prepared (topics, sub-topologies), for metadata queries.
    prepared: Mutex<Option<Arc<ThreadContext>>>,
    /// Identifies this instance to the group (all its threads share it).
    process_id: String,
}

impl std::fmt::Debug for KafkaStreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaStreams")
            .field("application_id", &self.config.application_id)
            .field("state", &self.state())
            .finish()
    }
}

static INSTANCES: AtomicUsize = AtomicUsize::new(0);

impl KafkaStreams {
    /// An application running `topology` on the embedded `broker`. Nothing runs until `start`.
    pub fn new(
        topology: Topology,
        config: StreamsConfig,
        broker: &broker_embedded::Broker,
    ) -> Result<Self, StreamsError> {
        config.validate()?;
        for n in &topology.nodes {
            n.factory.check(&n.name, &config.serdes)?;
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("streams-client")
            .enable_all()
            .build()
            .map_err(|e| StreamsError::Config(format!("cannot start the client runtime: {e}")))?;
        let backend: Arc<dyn Backend> =
            Arc::new(EmbeddedBackend::new(broker.clone(), runtime.handle().clone()));
        let key = (broker.config().data_dir.clone(), config.application_id.clone());
        let instance = format!("{}", INSTANCES.fetch_add(1, Ordering::SeqCst) + 1);
        let process_id = format!(
            "{}-{instance}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        Ok(Self {
            topology: Arc::new(topology),
            config,
            backend,
            key,
            shared: Arc::new(AppShared {
                state: Mutex::new(State::Created),
                changed: Condvar::new(),
                listener: Mutex::new(None),
                handler: Mutex::new(None),
                shutdown: AtomicBool::new(false),
                threads: Mutex::new(Vec::new()),
                live_threads: AtomicUsize::new(0),
                next_thread: AtomicUsize::new(0),
                failure: Mutex::new(None),
                stores: Arc::new(StoreRegistry::default()),
                hosts: Mutex::new(Vec::new()),
            }),
            handles: Mutex::new(Vec::new()),
            runtime: Mutex::new(Some(runtime)),
            instance,
            restore_listener: Mutex::new(Arc::new(crate::state::LoggingRestoreListener)),
            prepared: Mutex::new(None),
            process_id,
        })
    }

    /// Calls `listener(new, old)` on every state change.
    pub fn set_state_listener(&self, listener: impl Fn(State, State) + Send + Sync + 'static) {
        *self.shared.listener.lock() = Some(Arc::new(listener));
    }

    /// Decides what a failed stream thread means (default: shut this instance down).
    pub fn set_uncaught_exception_handler(
        &self,
        handler: impl Fn(&StreamsError) -> StreamThreadExceptionResponse + Send + Sync + 'static,
    ) {
        *self.shared.handler.lock() = Some(Arc::new(handler));
    }

    /// Tells `listener` about every store restoration (Kafka's
    /// `setGlobalStateRestoreListener`); set before `start`.
    pub fn set_global_state_restore_listener(
        &self,
        listener: impl crate::state::StateRestoreListener,
    ) {
        *self.restore_listener.lock() = Arc::new(listener);
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.shared.state()
    }

    /// Why the application stopped with an error, if it did.
    pub fn failure(&self) -> Option<String> {
        self.shared.failure.lock().clone()
    }

    /// Waits until the application is in `state`; false on timeout.
    pub fn wait_for_state(&self, state: State, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.state.lock();
        while *st != state {
            if self.shared.changed.wait_until(&mut st, deadline).timed_out() {
                return *st == state;
            }
        }
        true
    }

    /// The stream threads and their tasks.
    pub fn metadata_for_local_threads(&self) -> Vec<ThreadMetadata> {
        self.shared.threads.lock().clone()
    }

    fn process_id(&self) -> String {
        self.process_id.clone()
    }

    /// A read-only view of store `params.name` across this instance's tasks (Kafka's
    /// `KafkaStreams.store`). `K` and `V` must be the types the store was declared with; of a
    /// timestamped store (the DSL's tables) this view gives the values alone.
    ///
    /// # Errors
    ///
    /// [`StreamsError::InvalidStateStore`] if the topology has no such store or it holds other
    /// types, or if the application is not running or rebalancing.
    pub fn store<K: 'static, V: 'static>(
        &self,
        params: StoreQueryParameters,
    ) -> Result<ReadOnlyKeyValueStore<K, V>, StreamsError> {
        self.query_view(params, |spec, serdes| spec.plain_serdes::<K, V>(serdes))
    }

    /// A read-only view of timestamped store `params.name` (Kafka's `KafkaStreams.store` with
    /// `QueryableStoreTypes.timestampedKeyValueStore()`): each value with the timestamp of the
    /// record that last wrote it.
    ///
    /// # Errors
    ///
    /// As [`store`](Self::store); also if the store keeps no timestamps.
    pub fn timestamped_store<K: 'static, V: 'static>(
        &self,
        params: StoreQueryParameters,
    ) -> Result<ReadOnlyKeyValueStore<K, crate::state::ValueAndTimestamp<V>>, StreamsError> {
        self.query_view(params, |spec, serdes| spec.timestamped_serdes::<K, V>(serdes))
    }

    /// A read-only view of store `params.name` with the serdes `serdes_of` gives for it.
    fn query_view<K: 'static, V: 'static>(
        &self,
        params: StoreQueryParameters,
        serdes_of: impl FnOnce(
            &crate::state::StoreSpec,
            &crate::serde::SerdeRegistry,
        ) -> Result<(SharedSerde<K>, SharedSerde<V>), String>,
    ) -> Result<ReadOnlyKeyValueStore<K, V>, StreamsError> {
        let Some(spec) = self.topology.stores.iter().find(|s| s.name == params.name) else {
            return Err(StreamsError::InvalidStateStore(format!(
                "the topology has no store `{}`",
                params.name
            )));
        };
        let (key_serde, value_serde) =
            serdes_of(spec, &self.config.serdes).map_err(StreamsError::InvalidStateStore)?;
        let state = self.state();
        if !state.is_running_or_rebalancing() {
            return Err(StreamsError::InvalidStateStore(format!(
                "the application is {state:?}; stores can be queried while it is running or rebalancing"
            )));
        }
        Ok(ReadOnlyKeyValueStore {
            params,
            registry: self.shared.stores.clone(),
            app: self.shared.clone(),
            key_serde,
            value_serde,
            _types: std::marker::PhantomData,
        })
    }

    /// A read-only view of window store `params.name` across this instance's tasks (Kafka's
    /// `KafkaStreams.store` with `QueryableStoreTypes.windowStore()`); of a timestamped window
    /// store (the DSL's windowed aggregations) it gives the values alone.
    ///
    /// # Errors
    ///
    /// As [`store`](Self::store); also if the store is not a window store.
    pub fn window_store<K: 'static, V: 'static>(
        &self,
        params: StoreQueryParameters,
    ) -> Result<crate::state::ReadOnlyWindowStore<K, V>, StreamsError> {
        self.check_window_store(&params)?;
        Ok(crate::state::ReadOnlyWindowStore::over(self.store::<K, V>(params)?))
    }

    /// A read-only view of timestamped window store `params.name` (Kafka's
    /// `QueryableStoreTypes.timestampedWindowStore()`): each window's value with the timestamp
    /// of the latest record in it.
    ///
    /// # Errors
    ///
    /// As [`window_store`](Self::window_store); also if the store keeps no timestamps.
    pub fn timestamped_window_store<K: 'static, V: 'static>(
        &self,
        params: StoreQueryParameters,
    ) -> Result<
        crate::state::ReadOnlyWindowStore<K, crate::state::ValueAndTimestamp<V>>,
        StreamsError,
    > {
        self.check_window_store(&params)?;
        Ok(crate::state::ReadOnlyWindowStore::over(self.timestamped_store::<K, V>(params)?))
    }

    fn check_window_store(&self, params: &StoreQueryParameters) -> Result<(), StreamsError> {
        match self.topology.stores.iter().find(|s| s.name == params.name) {
            None => Err(StreamsError::InvalidStateStore(format!(
                "the topology has no store `{}`",
                params.name
            ))),
            Some(spec) if !matches!(spec.kind, crate::state::StoreKind::Window { .. }) => {
                Err(StreamsError::InvalidStateStore(format!(
                    "store `{}` is not a window store",
                    params.name
                )))
            }
            Some(_) => Ok(()),
        }
    }

    /// How far each local copy of each logged store is behind its changelog, by store name and
    /// partition (Kafka's `allLocalStorePartitionLags`): active copies report lag 0, standby
    /// copies the changelog records they have yet to apply.
    pub fn all_local_store_partition_lags(
        &self,
    ) -> Result<
        std::collections::BTreeMap<String, std::collections::BTreeMap<i32, LagInfo>>,
        StreamsError,
    > {
        let mut out: std::collections::BTreeMap<String, std::collections::BTreeMap<i32, LagInfo>> =
            Default::default();
        for s in self.shared.stores.all() {
            let Some((topic, partition)) = &s.changelog else { continue };
            let end = self.backend.end_offset(topic, *partition)?;
            let current = if s.standby { s.position().max(0) } else { end };
            out.entry(s.spec.name.clone()).or_default().insert(
                *partition,
                LagInfo {
                    current_offset_position: current,
                    end_offset_position: end,
                    offset_lag: (end - current).max(0),
                },
            );
        }
        Ok(out)
    }

    /// Every instance of the application that set `application.server`, with what it hosts, as
    /// of the latest rebalance (Kafka's `metadataForAllStreamsClients`). Empty before the first
    /// assignment.
    pub fn metadata_for_all_streams_clients(&self) -> Vec<StreamsMetadata> {
        let Some(ctx) = self.prepared.lock().clone() else { return Vec::new() };
        metadata::all_clients(&ctx, &self.shared.hosts.lock())
    }

    /// Which instance hosts `key` in store `store` (Kafka's `queryMetadataForKey`): the key's
    /// partition by Kafka's default partitioner over the store's input topic, and the
    /// instances running that task and keeping its standbys. `None` while unknown (before the
    /// first assignment, or when the instances set no `application.server`).
    ///
    /// # Errors
    ///
    /// [`StreamsError::InvalidStateStore`] if there is no such store or the key does not
    /// serialize; a broker error if the input topic cannot be described.
    pub fn query_metadata_for_key<K: 'static>(
        &self,
        store: &str,
        key: &K,
    ) -> Result<Option<KeyQueryMetadata>, StreamsError> {
        let Some(ctx) = self.prepared.lock().clone() else { return Ok(None) };
        let Some(spec) = self.topology.stores.iter().find(|s| s.name == store) else {
            return Err(StreamsError::InvalidStateStore(format!(
                "the topology has no store `{store}`"
            )));
        };
        if spec.key_type != std::any::TypeId::of::<K>() {
            return Err(StreamsError::InvalidStateStore(format!(
                "store `{store}` has keys of type {}, not {}",
                spec.type_names.0,
                std::any::type_name::<K>()
            )));
        }
        let key_serde = spec
            .key_serde
            .downcast_ref::<crate::state::handle::KeySerde<K>>()
            .and_then(|k| k.resolve(&self.config.serdes))
            .ok_or_else(|| {
                StreamsError::InvalidStateStore(format!("store `{store}` needs a key serde"))
            })?;
        let bytes = key_serde
            .serialize(store, key)
            .map_err(|e| StreamsError::InvalidStateStore(e.to_string()))?
            .ok_or_else(|| StreamsError::InvalidStateStore("the key serializes to null".into()))?;
        let (Some(sub), Some(topic)) = (
            metadata::subtopology_of_store(&ctx, store),
            metadata::input_topics_of_store(&ctx, store).into_iter().next(),
        ) else {
            return Ok(None);
        };
        let Some(count) = self.backend.partition_count(&topic)? else { return Ok(None) };
        let partition = broker_embedded::default_partition(&bytes, count);
        Ok(metadata::for_task(&self.shared.hosts.lock(), TaskId::new(sub, partition)))
    }

    /// Creates the internal topics and starts the stream threads. Source topics must exist.
    pub fn start(&self) -> Result<(), StreamsError> {
        if self.state() != State::Created {
            return Err(StreamsError::IllegalState(format!(
                "start() called in state {:?}; an application starts once",
                self.state()
            )));
        }
        // Preparing drives the client runtime, which must not happen on a thread that is itself
        // running async code (start may be called from one): do it on a plain thread.
        let (ctx, globals) = std::thread::scope(|s| match s.spawn(|| self.prepare()).join() {
            Ok(r) => r,
            Err(_) => Err(StreamsError::IllegalState("preparing the application panicked".into())),
        })?;
        self.shared.set_state(State::Rebalancing);
        if let Some(globals) = globals {
            let shared = self.shared.clone();
            let backend = self.backend.clone();
            let config = self.config.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("{}-GlobalStreamThread", self.config.application_id))
                .spawn(move || crate::state::global::run(globals, &*backend, &shared, &config));
            match spawned {
                Ok(h) => self.handles.lock().push(h),
                Err(e) => {
                    self.shared.fail(format!("cannot start the global thread: {e}"));
                    return Err(StreamsError::IllegalState(format!(
                        "cannot start the global thread: {e}"
                    )));
                }
            }
        }
        REGISTRY.lock().entry(self.key.clone()).or_default().push(Arc::downgrade(&self.shared));
        let n = self.config.num_stream_threads;
        *self.shared.threads.lock() = (0..n)
            .map(|_| ThreadMetadata {
                thread_name: String::new(),
                active_tasks: Vec::new(),
                standby_tasks: Vec::new(),
                running: false,
            })
            .collect();
        self.shared.live_threads.store(n, Ordering::SeqCst);
        let ctx = Arc::new(ctx);
        *self.prepared.lock() = Some(ctx.clone());
        let mut handles = self.handles.lock();
        for slot in 0..n {
            let ctx = ctx.clone();
            let shared = self.shared.clone();
            let key = self.key.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("{}-StreamThread-{}", self.config.application_id, slot + 1))
                .spawn(move || thread::supervise(ctx, shared, key, slot));
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => {
                    self.shared.live_threads.fetch_sub(1, Ordering::SeqCst);
                    self.shared.fail(format!("cannot start a stream thread: {e}"));
                    return Err(StreamsError::IllegalState(format!(
                        "cannot start a stream thread: {e}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Checks the topics, creates the internal ones, and gathers what every thread needs.
    fn prepare(
        &self,
    ) -> Result<(ThreadContext, Option<crate::state::global::GlobalStores>), StreamsError> {
        let app = &self.config.application_id;
        let subs = sub_topologies(&self.topology.nodes);
        let mut counts: HashMap<String, i32> = HashMap::new();
        for sub in &subs {
            for t in sub.source_topics.iter().filter(|t| !t.internal) {
                match self.backend.partition_count(&t.name)? {
                    Some(c) => {
                        counts.insert(t.name.clone(), c);
                    }
                    None => {
                        return Err(StreamsError::Config(format!(
                            "source topic `{}` does not exist; create it before starting the application",
                            t.name
                        )));
                    }
                }
            }
        }
        let internal =
            internal_topic_partitions(&self.topology, &subs, &|t| counts.get(t).copied())
                .map_err(StreamsError::Config)?;
        for (name, partitions) in &internal {
            let topic = format!("{app}-{name}");
            self.backend.create_topic(
                &topic,
                *partitions,
                &[
                    ("cleanup.policy", "delete"),
                    ("retention.ms", "-1"),
                    ("segment.bytes", "52428800"),
                ],
            )?;
            let actual = self.backend.partition_count(&topic)?.unwrap_or(*partitions);
            if actual != *partitions {
                return Err(StreamsError::Config(format!(
                    "internal topic `{topic}` has {actual} partitions but the topology needs {partitions}; \
                     delete it or reset the application"
                )));
            }
        }
        // Changelogs: one partition per task of the sub-topology holding the store.
        for spec in &self.topology.stores {
            if !spec.logging {
                continue;
            }
            let Some(sub) = subs
                .iter()
                .find(|s| self.topology.stores_of(&s.nodes).iter().any(|x| x.name == spec.name))
            else {
                continue;
            };
            let partitions = sub
                .source_topics
                .iter()
                .filter_map(|t| {
                    if t.internal {
                        internal.get(&t.name).copied()
                    } else {
                        counts.get(&t.name).copied()
                    }
                })
                .max()
                .unwrap_or(1);
            let topic = spec.changelog_topic(app);
            let owned = spec.changelog_topic_configs();
            let configs: Vec<(&str, &str)> =
                owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            self.backend.create_topic(&topic, partitions, &configs)?;
            let actual = self.backend.partition_count(&topic)?.unwrap_or(partitions);
            if actual != partitions {
                return Err(StreamsError::Config(format!(
                    "changelog `{topic}` has {actual} partitions but the store has {partitions} tasks; \
                     delete it or reset the application"
                )));
            }
        }
        let all_topics = self.backend.list_topics()?;
        let mut per_sub = Vec::new();
        let mut subscribe: Vec<String> = Vec::new();
        for sub in &subs {
            if sub.global {
                // Read by the global thread, not by tasks.
                per_sub.push((Vec::new(), Vec::new()));
                continue;
            }
            let named: Vec<String> = sub.source_topics.iter().map(|t| t.resolve(app)).collect();
            let patterns: Vec<regex::Regex> = sub
                .pattern_sources
                .iter()
                .filter_map(|&i| match &self.topology.nodes[i].kind {
                    NodeKind::Source { pattern: Some(p), .. } => Some(p.clone()),
                    _ => None,
                })
                .collect();
            for t in &named {
                subscribe.push(t.clone());
            }
            for t in &all_topics {
                if patterns.iter().any(|p| p.is_match(t)) && !t.starts_with("__") {
                    subscribe.push(t.clone());
                }
            }
            per_sub.push((named, patterns));
        }
        subscribe.sort();
        subscribe.dedup();
        let patterns: Vec<regex::Regex> =
            per_sub.iter().flat_map(|(_, patterns)| patterns.iter().cloned()).collect();
        let app_dir = self.config.state_dir.join(app);
        let stateful: std::collections::BTreeSet<u32> = subs
            .iter()
            .enumerate()
            .filter(|(_, s)| self.topology.stores_of(&s.nodes).iter().any(|x| x.logging))
            .map(|(i, _)| i as u32)
            .collect();
        let assignor = TaskAssignor::new(per_sub)
            .with_standbys(self.config.num_standby_replicas)
            .with_stateful(stateful)
            .with_local_client(LocalClient {
                process_id: self.process_id(),
                endpoint: self.config.application_server.clone(),
                app_dir: app_dir.clone(),
            });
        let rocks = state_stores::RocksDbConfig::new(64 << 20);
        let restore_listener = self.restore_listener.lock().clone();
        // Global stores load completely before any stream thread starts.
        let global_specs: Vec<(crate::state::StoreSpec, String, u32)> = self
            .topology
            .global_stores()
            .into_iter()
            .filter_map(|(spec, topic)| {
                let sub = subs.iter().find(|s| {
                    s.global
                        && self.topology.stores_of(&s.nodes).iter().any(|x| x.name == spec.name)
                })?;
                Some((spec, topic, sub.id))
            })
            .collect();
        let globals = if global_specs.is_empty() {
            None
        } else {
            Some(crate::state::global::GlobalStores::open(
                &global_specs,
                &app_dir,
                &rocks,
                Some(&*self.backend),
                &*restore_listener,
                Some(self.shared.stores.clone()),
            )?)
        };
        let ctx = ThreadContext {
            topology: self.topology.clone(),
            subs: Arc::new(subs),
            config: self.config.clone(),
            backend: self.backend.clone(),
            assignor: Arc::new(assignor),
            registry: self.shared.stores.clone(),
            subscribe,
            patterns,
            instance: self.instance.clone(),
            rocks,
            cache_bytes: self.config.statestore_cache_max_bytes
                / self.config.num_stream_threads.max(1),
            restore_listener,
            globals: globals.as_ref().map(|g| g.handles()).unwrap_or_default(),
        };
        Ok((ctx, globals))
    }

    /// Stops the threads: each commits its tasks, closes them and leaves the group. Waits up to
    /// `timeout`; returns whether every thread stopped in time.
    pub fn close(&self, timeout: Duration) -> bool {
        let state = self.state();
        if state == State::Created {
            self.shared.set_state(State::PendingShutdown);
            self.shared.set_state(State::NotRunning);
            return true;
        }
        if state.is_running_or_rebalancing() {
            self.shared.set_state(State::PendingShutdown);
        }
        self.shared.shutdown.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.state.lock();
        while !matches!(*st, State::NotRunning | State::Error) {
            if self.shared.changed.wait_until(&mut st, deadline).timed_out() {
                break;
            }
        }
        let done = matches!(*st, State::NotRunning | State::Error);
        drop(st);
        if done {
            for h in self.handles.lock().drain(..) {
                let _ = h.join();
            }
        }
        done
    }
}

impl Drop for KafkaStreams {
    fn drop(&mut self) {
        if !matches!(self.state(), State::NotRunning | State::Error | State::Created) {
            self.close(Duration::from_secs(30));
        }
        if let Some(rt) = self.runtime.lock().take() {
            rt.shutdown_background();
        }
        let mut reg = REGISTRY.lock();
        if let Some(v) = reg.get_mut(&self.key) {
            v.retain(|w| {
                w.strong_count() > 0 && !std::ptr::eq(w.as_ptr(), Arc::as_ptr(&self.shared))
            });
        }
    }
}
