//! Stream threads: each is one group member that owns a set of tasks, polls their partitions,
//! processes records in timestamp order per task, punctuates, and commits on the interval.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::app::{AppKey, AppShared};
use crate::client::{Backend, BackendConsumer, BackendProducer};
use crate::config::StreamsConfig;
use crate::error::StreamsError;
use crate::handlers::{ErrorContext, ErrorKind, ErrorResponse};
use crate::state::registry::StoreRegistry;
use crate::state::task_stores::{StoreContext, TaskStores};
use crate::task::assignment_info::AssignmentInfo;
use crate::task::assignor::TaskAssignor;
use crate::task::shared::{Outbox, Outgoing, OutgoingRecord, RecordCollector};
use crate::task::{Task, TaskId};
use crate::time::{Clock, RawRecords, SystemClock};
use crate::topology::Topology;
use crate::topology::groups::SubTopology;

/// What every stream thread of an application needs.
pub(crate) struct ThreadContext {
    pub(crate) topology: Arc<Topology>,
    pub(crate) subs: Arc<Vec<SubTopology>>,
    pub(crate) config: StreamsConfig,
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) assignor: Arc<TaskAssignor>,
    /// Every topic the application reads (pattern matches resolved at start).
    pub(crate) subscribe: Vec<String>,
    /// The sources' topic patterns: topics created later that match one are added.
    pub(crate) patterns: Vec<regex::Regex>,
    pub(crate) instance: String,
    /// The block cache and options every RocksDB store of the application shares.
    pub(crate) rocks: state_stores::RocksDbConfig,
    /// Record-cache bytes of each thread (`statestore.cache.max.bytes` / threads), shared by the
    /// thread's caching stores.
    pub(crate) cache_bytes: usize,
    pub(crate) restore_listener: Arc<dyn crate::state::StateRestoreListener>,
    /// Where tasks list their stores for interactive queries.
    pub(crate) registry: Arc<StoreRegistry>,
    /// The instance's global stores, loaded before the threads start.
    pub(crate) globals: Vec<(crate::state::StoreSpec, crate::state::registry::SharedStore)>,
}

/// How often a thread applies its standby replicas' changelogs, and how many records per store
/// at most each time (so that standbys never starve the active tasks).
const STANDBY_INTERVAL: Duration = Duration::from_millis(20);

/// How often a thread whose application reads topic patterns looks for new matching topics
/// (Kafka's consumers do on their metadata refresh).
const PATTERN_INTERVAL: Duration = Duration::from_secs(1);
const STANDBY_BATCH: usize = 20_000;

/// Runs stream threads in `slot` until shutdown; a failed thread is replaced if the handler says
/// so (a new member with a new name), else the application is told to stop.
pub(crate) fn supervise(ctx: Arc<ThreadContext>, app: Arc<AppShared>, key: AppKey, slot: usize) {
    loop {
        let number = app.next_thread_number();
        let name = format!("{}-{}-StreamThread-{number}", ctx.config.application_id, ctx.instance);
        app.rename_thread(slot, name.clone());
        let span = tracing::info_span!("stream_thread", thread = %name);
        let _enter = span.enter();
        let result = StreamThread::new(&ctx, &app, slot, &name).and_then(|mut t| {
            let r = t.run();
            t.shutdown(r.is_ok());
            r
        });
        match result {
            Ok(()) => break,
            Err(e) => {
                if !app.thread_failed(&key, &e) {
                    break;
                }
                tracing::warn!("replacing the failed stream thread");
            }
        }
    }
    app.thread_status(slot, Vec::new(), true);
    app.thread_exited();
}

/// Buffers a thread's output until it is handed to the producer.
struct ThreadCollector {
    out: Rc<RefCell<Outbox>>,
    backend: Arc<dyn Backend>,
    /// Partition counts looked up so far (for stream partitioners).
    counts: RefCell<HashMap<String, Option<i32>>>,
}

impl RecordCollector for ThreadCollector {
    fn send(&mut self, record: OutgoingRecord) -> Result<(), Box<(OutgoingRecord, String)>> {
        self.out.borrow_mut().push(record);
        Ok(())
    }

    fn send_to(
        &mut self,
        topic: &Arc<str>,
        record: Outgoing,
    ) -> Result<(), Box<(OutgoingRecord, String)>> {
        self.out.borrow_mut().push_to(topic, record);
        Ok(())
    }

    fn outbox(&mut self) -> Option<std::cell::RefMut<'_, Outbox>> {
        Some(self.out.borrow_mut())
    }

    fn partition_count(&self, topic: &str) -> Option<i32> {
        if let Some(c) = self.counts.borrow().get(topic) {
            return *c;
        }
        let c = self.backend.partition_count(topic).ok().flatten();
        self.counts.borrow_mut().insert(topic.to_string(), c);
        c
    }
}

struct StreamThread<'a> {
    ctx: &'a ThreadContext,
    app: &'a AppShared,
    slot: usize,
    consumer: Box<dyn BackendConsumer>,
    producer: Box<dyn BackendProducer>,
    tasks: BTreeMap<TaskId, Task>,
    /// Which task reads each assigned partition.
    owner: HashMap<(Arc<str>, i32), TaskId>,
    out: Rc<RefCell<Outbox>>,
    clock: Arc<dyn Clock>,
    last_commit: Instant,
    /// Standby replicas: stores kept current from their changelogs, by task.
    standbys: BTreeMap<TaskId, TaskStores>,
    /// The standby tasks the latest assignment gave this thread.
    wanted_standbys: BTreeSet<TaskId>,
    last_standby_update: Instant,
    /// The assignment data last seen (to notice a new assignment).
    last_user_data: Option<bytes::Bytes>,
    /// The record-cache budget this thread's stores share.
    cache: state_stores::CacheBudget,
    /// The topics subscribed to, and when topics were last matched against the patterns.
    subscribed: Vec<String>,
    last_pattern_check: Instant,
}

impl<'a> StreamThread<'a> {
    fn new(
        ctx: &'a ThreadContext,
        app: &'a AppShared,
        slot: usize,
        name: &str,
    ) -> Result<Self, StreamsError> {
        let mut consumer = ctx.backend.consumer(
            &ctx.config.application_id,
            name,
            ctx.assignor.clone(),
            ctx.config.max_poll_records,
            ctx.config.session_timeout,
        )?;
        consumer.subscribe(&ctx.subscribe)?;
        let producer = ctx.backend.producer(name)?;
        Ok(Self {
            ctx,
            app,
            slot,
            consumer,
            producer,
            tasks: BTreeMap::new(),
            owner: HashMap::new(),
            out: Rc::new(RefCell::new(Outbox::default())),
            clock: Arc::new(SystemClock),
            last_commit: Instant::now(),
            standbys: BTreeMap::new(),
            wanted_standbys: BTreeSet::new(),
            last_standby_update: Instant::now(),
            last_user_data: None,
            subscribed: ctx.subscribe.clone(),
            last_pattern_check: Instant::now(),
            cache: state_stores::CacheBudget::new(ctx.cache_bytes),
        })
    }

    fn run(&mut self) -> Result<(), StreamsError> {
        let config = &self.ctx.config;
        while !self.app.shutdown.load(Ordering::SeqCst) {
            let busy = self.tasks.values().any(|t| t.buffered() > 0);
            let timeout = if busy { Duration::ZERO } else { config.poll_interval };
            let records = self.consumer.poll(timeout)?;
            if self.consumer.rebalance_pending() {
                self.release_all()?;
                continue;
            }
            self.reconcile()?;
            self.route(records)?;
            let now = self.clock.now_ms();
            let budget = config.max_poll_records.max(1);
            for task in self.tasks.values_mut() {
                task.process_up_to(now, false, budget)?;
                task.punctuate_wall_clock(now)?;
            }
            self.send_output()?;
            if !self.standbys.is_empty() && self.last_standby_update.elapsed() >= STANDBY_INTERVAL {
                for standby in self.standbys.values() {
                    standby.update(&*self.ctx.backend, STANDBY_BATCH)?;
                }
                self.last_standby_update = Instant::now();
            }
            if self.last_commit.elapsed() >= config.commit_interval {
                self.commit()?;
            }
            if !self.ctx.patterns.is_empty()
                && self.last_pattern_check.elapsed() >= PATTERN_INTERVAL
            {
                self.follow_patterns()?;
                self.last_pattern_check = Instant::now();
            }
        }
        Ok(())
    }

    /// Subscribes to the topics created since the last look that match a source's pattern:
    /// the thread commits and releases its tasks, and rejoins the group with them (the group
    /// rebalances; tasks reading the new topics' partitions start).
    fn follow_patterns(&mut self) -> Result<(), StreamsError> {
        let mut new: Vec<String> = self
            .ctx
            .backend
            .list_topics()?
            .into_iter()
            .filter(|t| !t.starts_with("__") && !self.subscribed.contains(t))
            .filter(|t| self.ctx.patterns.iter().any(|p| p.is_match(t)))
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        tracing::info!(topics = ?new, "new topics match a source pattern; subscribing");
        self.release_all()?;
        self.subscribed.append(&mut new);
        self.subscribed.sort();
        self.consumer.subscribe(&self.subscribed)?;
        Ok(())
    }

    /// A rebalance begins: commit what was processed and close every task before rejoining, so
    /// that the tasks' next owners start where this thread stopped and never overlap with it.
    fn release_all(&mut self) -> Result<(), StreamsError> {
        self.app.thread_status(self.slot, self.tasks.keys().copied().collect(), false);
        self.commit()?;
        for (id, mut t) in std::mem::take(&mut self.tasks) {
            tracing::debug!(task = %id, "releasing the task for a rebalance");
            // Records read but not processed go with the task: the consumer reads them again
            // (here or, if the partition moves, at its new owner from the committed offset), as
            // Kafka's eager rebalancing resumes every partition from its committed offset.
            for (topic, partition, offset) in t.unprocessed_from() {
                if let Err(e) = self.consumer.seek(&topic, partition, offset) {
                    tracing::debug!(%topic, partition, offset, error = %e, "not rewound");
                }
            }
            t.close();
        }
        self.close_standbys(|_| true)?;
        self.owner.clear();
        self.app.thread_status(self.slot, Vec::new(), false);
        Ok(())
    }

    /// Checkpoints and closes the standbys `which` selects (their next owner, active or standby,
    /// continues from the checkpoint).
    fn close_standbys(&mut self, which: impl Fn(&TaskId) -> bool) -> Result<(), StreamsError> {
        let ids: Vec<TaskId> = self.standbys.keys().filter(|id| which(id)).copied().collect();
        for id in ids {
            if let Some(mut stores) = self.standbys.remove(&id) {
                stores.flush()?;
                stores.checkpoint(&*self.ctx.backend)?;
                stores.close();
                tracing::debug!(task = %id, "standby closed");
            }
        }
        self.app.standby_status(self.slot, self.standbys.keys().copied().collect());
        Ok(())
    }

    /// Opens the stores of standby task `id` (its logged stores; none: no standby needed).
    fn open_standby(&self, id: TaskId) -> Result<Option<TaskStores>, StreamsError> {
        let Some(sub) = self.ctx.subs.get(id.subtopology as usize) else { return Ok(None) };
        let specs: Vec<_> =
            self.ctx.topology.stores_of(&sub.nodes).into_iter().filter(|s| s.logging).collect();
        if specs.is_empty() {
            return Ok(None);
        }
        let ctx = StoreContext {
            task: id,
            application_id: &self.ctx.config.application_id,
            task_dir: self
                .ctx
                .config
                .state_dir
                .join(&self.ctx.config.application_id)
                .join(id.to_string()),
            rocks: &self.ctx.rocks,
            cache: state_stores::CacheBudget::new(0),
            registry: Some(self.ctx.registry.clone()),
            standby: true,
        };
        let stores = TaskStores::open(&specs, &ctx, None, &*self.ctx.restore_listener)?;
        tracing::info!(task = %id, "standby created");
        Ok(Some(stores))
    }

    /// Reads the standby tasks and every instance's tasks from a new assignment's data.
    fn read_assignment_data(&mut self) -> bool {
        let data = self.consumer.assignment_user_data();
        if data == self.last_user_data {
            return false;
        }
        let info = match data.as_deref().map(AssignmentInfo::decode) {
            Some(Ok(info)) => info,
            Some(Err(e)) => {
                tracing::warn!(error = %e, "unreadable assignment data; no standbys this time");
                AssignmentInfo::default()
            }
            None => AssignmentInfo::default(),
        };
        self.last_user_data = data;
        self.wanted_standbys = info.standby.into_iter().collect();
        self.app.set_hosts(info.hosts);
        true
    }

    /// Hands polled records to their tasks, one run of same-partition records at a time (a poll
    /// returns each partition's records as one run), each run as a `Vec` the task keeps: runs
    /// are split off from the back, so nothing shifts, and a poll of one partition is handed
    /// over as it is. Should a partition come in two runs, they are taken from the front
    /// instead, to keep its order.
    fn route(&mut self, polled: Vec<RawRecords>) -> Result<(), StreamsError> {
        for records in polled {
            let owner = self.owner.get(&(records.topic.clone(), records.partition)).copied();
            if let Some(task) = owner.and_then(|id| self.tasks.get_mut(&id)) {
                task.add_records(records)?;
            }
        }
        Ok(())
    }

    /// Matches the tasks to the assignment: closes tasks whose partitions went away without a
    /// rebalance pause (the member was fenced; their progress since the last commit is processed
    /// again by the new owner) and creates the new ones.
    fn reconcile(&mut self) -> Result<(), StreamsError> {
        let assigned = self.consumer.assignment();
        let mut wanted: BTreeMap<TaskId, Vec<(Arc<str>, i32)>> = BTreeMap::new();
        for (topic, p) in assigned {
            if let Some(sub) = self.ctx.assignor.subtopology_of(&topic) {
                wanted.entry(TaskId::new(sub, p)).or_default().push((topic, p));
            }
        }
        let new_data = self.read_assignment_data();
        let standbys: BTreeSet<TaskId> =
            self.wanted_standbys.iter().filter(|id| !wanted.contains_key(id)).copied().collect();
        let same = !new_data
            && wanted.len() == self.tasks.len()
            && wanted.iter().all(|(id, parts)| {
                self.tasks.get(id).is_some_and(|t| t.partition_count() == parts.len())
            })
            && self.standbys.keys().eq(standbys.iter());
        if same {
            if !self.app.shared_running(self.slot) {
                self.app.thread_status(self.slot, self.tasks.keys().copied().collect(), true);
            }
            return Ok(());
        }
        self.app.thread_status(self.slot, self.tasks.keys().copied().collect(), false);
        let gone: Vec<TaskId> =
            self.tasks.keys().filter(|id| !wanted.contains_key(id)).copied().collect();
        for id in gone {
            if let Some(mut t) = self.tasks.remove(&id) {
                tracing::info!(task = %id, "task moved away; closing it");
                t.close();
            }
        }
        self.owner.clear();
        // Standbys that are no longer wanted, or whose task becomes active here, close first:
        // an active task then opens the same directory and restores only from the standby's
        // checkpoint on.
        self.close_standbys(|id| !standbys.contains(id))?;
        for (id, parts) in wanted {
            for (t, p) in &parts {
                self.owner.insert((t.clone(), *p), id);
            }
            if self.tasks.get(&id).is_some_and(|t| t.partition_count() == parts.len()) {
                continue;
            }
            if let Some(mut old) = self.tasks.remove(&id) {
                old.close();
            }
            let Some(sub) = self.ctx.subs.get(id.subtopology as usize) else { continue };
            let collector = ThreadCollector {
                out: self.out.clone(),
                backend: self.ctx.backend.clone(),
                counts: RefCell::new(HashMap::new()),
            };
            let mut task = Task::new(
                &self.ctx.topology,
                sub,
                id,
                &parts,
                &self.ctx.config,
                self.clock.clone(),
                Box::new(collector),
            )?;
            let env = crate::task::StoreEnv {
                app_dir: self.ctx.config.state_dir.join(&self.ctx.config.application_id),
                rocks: &self.ctx.rocks,
                cache: self.cache.clone(),
                listener: &*self.ctx.restore_listener,
                registry: Some(self.ctx.registry.clone()),
                globals: self.ctx.globals.clone(),
            };
            task.initialize(&env, Some(&*self.ctx.backend))?;
            tracing::info!(task = %id, partitions = parts.len(), "task created");
            self.tasks.insert(id, task);
        }
        for id in standbys {
            if self.standbys.contains_key(&id) {
                continue;
            }
            if let Some(stores) = self.open_standby(id)? {
                self.standbys.insert(id, stores);
            }
        }
        self.app.standby_status(self.slot, self.standbys.keys().copied().collect());
        self.app.thread_status(self.slot, self.tasks.keys().copied().collect(), true);
        Ok(())
    }

    fn send_output(&mut self) -> Result<(), StreamsError> {
        let mut out = self.out.borrow_mut();
        let sent = self.producer.send(&out);
        out.clear();
        sent
    }

    /// At-least-once commit: everything produced so far is acknowledged before the input
    /// offsets that led to it are committed.
    fn commit(&mut self) -> Result<(), StreamsError> {
        for task in self.tasks.values_mut() {
            task.flush_state()?;
        }
        self.send_output()?;
        if let Err(e) = self.producer.flush() {
            let ctx = ErrorContext {
                kind: ErrorKind::Production,
                task: TaskId::new(0, -1),
                node: "producer",
                record: None,
                error: &e,
            };
            match self.ctx.config.production_error_handler.handle(&ctx) {
                ErrorResponse::Fail => return Err(e),
                _ => {
                    tracing::warn!(error = %e, "a delivery failed; continuing as the production handler says")
                }
            }
        }
        let offsets: Vec<(Arc<str>, i32, i64)> =
            self.tasks.values_mut().flat_map(|t| t.take_commit_offsets()).collect();
        let committed = self.consumer.commit(&offsets);
        if committed.is_ok() {
            for task in self.tasks.values() {
                task.checkpoint(&*self.ctx.backend)?;
            }
        }
        for standby in self.standbys.values() {
            standby.flush()?;
            standby.checkpoint(&*self.ctx.backend)?;
        }
        if let Err(e) = committed {
            if matches!(e, StreamsError::Broker(broker_embedded::Error::Group { .. })) {
                // The group moved on (this member was fenced or a rebalance began): the tasks now
                // belong elsewhere; close them and rejoin on the next poll.
                tracing::warn!(error = %e, "commit refused by the group; closing tasks to rejoin");
                for (_, mut t) in std::mem::take(&mut self.tasks) {
                    t.close();
                }
                self.owner.clear();
            } else {
                return Err(e);
            }
        }
        self.last_commit = Instant::now();
        Ok(())
    }

    /// Commits (after a clean run), closes the tasks and leaves the group.
    fn shutdown(&mut self, clean: bool) {
        if clean {
            if let Err(e) = self.commit() {
                tracing::warn!(error = %e, "final commit failed");
            }
        }
        for (_, mut t) in std::mem::take(&mut self.tasks) {
            t.close();
        }
        if let Err(e) = self.close_standbys(|_| true) {
            tracing::warn!(error = %e, "closing the standbys failed");
        }
        if let Err(e) = self.consumer.close() {
            tracing::warn!(error = %e, "leaving the group failed");
        }
    }
}
