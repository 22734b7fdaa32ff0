//! The in-process consumer: assign or subscribe, poll, seek, commit.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::time::Instant;

use crate::broker::{BrokerCore, PartitionRef, ReadResult};
use crate::client::batch::Fetched;
use crate::client::{ConsumerBatch, ConsumerRecord, PartitionRecords, TopicPartition};
use crate::error::{Error, Result};
use crate::format::Record;
use crate::group::assignor::{Assignor, CooperativeStickyAssignor, RangeAssignor};
use crate::group::member::{GroupMember, MemberConfig, MemberError, RebalanceListener};
use crate::group::offsets::PartitionOffset;
use crate::group::{GroupError, GroupService, OffsetCommitRequest};
use crate::log::{check_batch, decode_batch};

/// What to do when a partition has no committed offset, or the position is out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OffsetReset {
    /// Start from the log start.
    Earliest,
    /// Start from the end (Kafka's default).
    #[default]
    Latest,
    /// Fail with an error.
    None,
}

/// A committed offset and its metadata string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetAndMetadata {
    /// The next offset to consume.
    pub offset: i64,
    /// Free-form metadata stored with the commit.
    pub metadata: String,
}

impl OffsetAndMetadata {
    /// An offset with empty metadata.
    pub fn new(offset: i64) -> Self {
        Self { offset, metadata: String::new() }
    }
}

/// A partition assignment strategy (Kafka's `partition.assignment.strategy`).
#[derive(Clone)]
#[non_exhaustive]
pub enum AssignmentStrategy {
    /// Kafka's range assignor: per topic, contiguous ranges of partitions.
    Range,
    /// Kafka's cooperative-sticky assignor: balanced, sticky, incremental rebalances.
    CooperativeSticky,
    /// An assignor of the application's own.
    Custom(Arc<dyn Assignor>),
}

impl std::fmt::Debug for AssignmentStrategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Range => f.write_str("Range"),
            Self::CooperativeSticky => f.write_str("CooperativeSticky"),
            Self::Custom(a) => write!(f, "Custom({})", a.name()),
        }
    }
}

impl AssignmentStrategy {
    fn assignor(&self) -> Arc<dyn Assignor> {
        match self {
            Self::Range => Arc::new(RangeAssignor),
            Self::CooperativeSticky => Arc::new(CooperativeStickyAssignor),
            Self::Custom(a) => a.clone(),
        }
    }
}

/// Consumer settings.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// The consumer group; required for subscribe and commits.
    pub group_id: Option<String>,
    /// Name used in logs and group metadata.
    pub client_id: String,
    /// Where to start without a committed offset. Default latest.
    pub auto_offset_reset: OffsetReset,
    /// Most records one poll returns. Default 500.
    pub max_poll_records: usize,
    /// Most bytes read from one partition per fetch. Default 1 MiB.
    pub max_partition_fetch_bytes: usize,
    /// Check each batch's CRC-32C before handing out its records (Kafka's `check.crcs`), which
    /// catches corruption on disk. Default true. Off saves reading every byte once more.
    pub check_crcs: bool,
    /// Group session timeout. Default 45 s.
    pub session_timeout: Duration,
    /// Group rebalance timeout (`max.poll.interval.ms`). Default 300 s.
    pub rebalance_timeout: Duration,
    /// How often the member heartbeats. Default 3 s.
    pub heartbeat_interval: Duration,
    /// Assignors offered to the group, in order of preference. Default range, then
    /// cooperative-sticky (Kafka's consumer default).
    pub assignment_strategies: Vec<AssignmentStrategy>,
    /// When a rebalance begins under an eager assignor, `poll` returns once with no records
    /// before rejoining, and [`Consumer::rebalance_pending`] is true: the caller commits what it
    /// has processed and releases its partitions, then polls again to rejoin. The in-process
    /// stand-in for committing in Kafka's `ConsumerRebalanceListener::onPartitionsRevoked`.
    /// Default false.
    pub pause_before_rejoin: bool,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        Self {
            group_id: None,
            client_id: "consumer".into(),
            auto_offset_reset: OffsetReset::Latest,
            max_poll_records: 500,
            max_partition_fetch_bytes: 1 << 20,
            check_crcs: true,
            session_timeout: Duration::from_secs(45),
            rebalance_timeout: Duration::from_secs(300),
            heartbeat_interval: Duration::from_secs(3),
            assignment_strategies: vec![
                AssignmentStrategy::Range,
                AssignmentStrategy::CooperativeSticky,
            ],
            pause_before_rejoin: false,
        }
    }
}

impl ConsumerConfig {
    /// Settings for a member of `group_id`.
    pub fn group(group_id: impl Into<String>) -> Self {
        Self { group_id: Some(group_id.into()), ..Self::default() }
    }
    /// Sets the assignment strategies, in order of preference.
    pub fn assignment_strategies(mut self, strategies: Vec<AssignmentStrategy>) -> Self {
        self.assignment_strategies = strategies;
        self
    }
    /// Sets the session timeout and the heartbeat interval.
    pub fn session_timeout(mut self, session: Duration, heartbeat: Duration) -> Self {
        self.session_timeout = session;
        self.heartbeat_interval = heartbeat;
        self
    }
    /// Sets `auto_offset_reset`.
    pub fn offset_reset(mut self, reset: OffsetReset) -> Self {
        self.auto_offset_reset = reset;
        self
    }
}

#[derive(Debug)]
struct Assigned {
    partition: PartitionRef,
    topic: Arc<str>,
    /// The offset of the next record to return once `buffered` is empty: after the last batch
    /// decoded (the batches of `pending` come next).
    position: Option<i64>,
    /// Records decoded but not returned yet.
    buffered: Buffered,
    /// The rest of the last read, not decoded yet: decoded a batch at a time as polls need
    /// records, so that a poll's records are made just before they are returned.
    pending: Option<Pending>,
    /// The buffer of the last read, reused once every record sliced from it is gone.
    last_read: Option<Bytes>,
}

impl Assigned {
    /// The offset of the next record `poll` returns: the first buffered one, else the position.
    fn next_offset(&self) -> Option<i64> {
        self.buffered.front_offset().or(self.position)
    }
}

/// Records decoded but not returned yet (the rest of a batch a poll returned part of), column
/// by column, the first `head` gone.
#[derive(Debug)]
struct Buffered {
    records: PartitionRecords,
    head: usize,
}

impl Buffered {
    fn new(topic: &str, partition: i32) -> Self {
        Self { records: PartitionRecords::new(Arc::from(topic), partition), head: 0 }
    }

    fn len(&self) -> usize {
        self.records.len() - self.head
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn front_offset(&self) -> Option<i64> {
        self.records.offsets.get(self.head).copied()
    }

    fn push(&mut self, r: Record) {
        self.records.push(r.offset, r.timestamp, r.key, r.value, r.headers);
    }

    /// Removes the first record.
    fn pop_front(&mut self, topic: &Arc<str>) -> Option<ConsumerRecord> {
        let (r, i) = (&mut self.records, self.head);
        let record = Record {
            offset: *r.offsets.get(i)?,
            timestamp: r.timestamps[i],
            key: r.keys[i].take(),
            value: r.values[i].take(),
            headers: r.headers.get_mut(i).map(std::mem::take).unwrap_or_default(),
        };
        let record = consumer_record(topic, r.partition, record);
        self.head += 1;
        if self.is_empty() {
            self.clear();
        }
        Some(record)
    }

    /// Moves the first records, up to `n`, to the end of `out` (the same partition's).
    fn take_into(&mut self, out: &mut PartitionRecords, n: usize) {
        let n = n.min(self.len());
        if n == 0 {
            return;
        }
        let r = &mut self.records;
        let range = self.head..self.head + n;
        if out.is_empty() && range == (0..r.len()) {
            // All of it: the columns themselves.
            std::mem::swap(&mut out.offsets, &mut r.offsets);
            std::mem::swap(&mut out.timestamps, &mut r.timestamps);
            std::mem::swap(&mut out.keys, &mut r.keys);
            std::mem::swap(&mut out.values, &mut r.values);
            std::mem::swap(&mut out.headers, &mut r.headers);
            if out.headers.iter().all(Vec::is_empty) {
                out.headers.clear();
            }
            self.clear();
            return;
        }
        let before = out.len();
        out.offsets.extend_from_slice(&r.offsets[range.clone()]);
        out.timestamps.extend_from_slice(&r.timestamps[range.clone()]);
        out.keys.extend(r.keys[range.clone()].iter_mut().map(Option::take));
        out.values.extend(r.values[range.clone()].iter_mut().map(Option::take));
        let headers = r.headers.get_mut(range).unwrap_or_default();
        if headers.iter().any(|h| !h.is_empty()) || !out.headers.is_empty() {
            out.headers.resize_with(before, Vec::new);
            out.headers.extend(headers.iter_mut().map(std::mem::take));
            out.headers.resize_with(out.offsets.len(), Vec::new);
        }
        self.head += n;
        if self.is_empty() {
            self.clear();
        }
    }

    /// Keeps the first `n` records.
    fn truncate(&mut self, n: usize) {
        self.records.truncate(self.head + n);
        if self.is_empty() {
            self.clear();
        }
    }

    fn clear(&mut self) {
        self.records.truncate(0);
        self.head = 0;
    }
}

/// The batches of a read that polls have not decoded yet.
#[derive(Debug)]
struct Pending {
    /// Whole batches, as read.
    bytes: Bytes,
    /// Where the next batch starts in `bytes`.
    at: usize,
    /// Records below this offset were returned before (the read's first batch may start earlier).
    from: i64,
    /// The file the batches came from, and the position of the first one (for error messages).
    source: (std::path::PathBuf, u64),
}

#[derive(Debug, Default)]
struct State {
    assigned: BTreeMap<TopicPartition, Assigned>,
    /// Round-robin start for fairness across partitions.
    next: usize,
}

/// Membership callbacks are not needed by the consumer itself: it reads the assignment after each
/// membership step.
struct NoListener;

impl RebalanceListener for NoListener {
    fn on_partitions_revoked(&self, _member_id: &str, _partitions: &[TopicPartition]) {}
    fn on_partitions_assigned(&self, _member_id: &str, _partitions: &[TopicPartition]) {}
}

/// An in-process consumer: reads assigned partitions, or joins a consumer group with
/// [`Consumer::subscribe`] and reads what the group assigns it.
pub struct Consumer {
    core: Arc<BrokerCore>,
    groups: Arc<GroupService>,
    config: ConsumerConfig,
    state: Mutex<State>,
    member: tokio::sync::Mutex<Option<GroupMember>>,
    /// Set by `poll` when it paused before a rejoin (`pause_before_rejoin`).
    rebalance_pending: std::sync::atomic::AtomicBool,
    /// The assignor's `user_data` in the current assignment.
    assignment_user_data: Mutex<Option<Bytes>>,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer").field("config", &self.config).finish()
    }
}

impl From<GroupError> for Error {
    fn from(e: GroupError) -> Self {
        Error::Group { code: e.code(), message: e.to_string() }
    }
}

impl From<MemberError> for Error {
    fn from(e: MemberError) -> Self {
        match e {
            MemberError::Coordinator(g) => g.into(),
            other => Error::Group { code: -1, message: other.to_string() },
        }
    }
}

impl Consumer {
    pub(crate) fn new(
        core: Arc<BrokerCore>,
        groups: Arc<GroupService>,
        config: ConsumerConfig,
    ) -> Result<Self> {
        core.check_open()?;
        Ok(Self {
            core,
            groups,
            config,
            state: Mutex::new(State::default()),
            member: tokio::sync::Mutex::new(None),
            rebalance_pending: std::sync::atomic::AtomicBool::new(false),
            assignment_user_data: Mutex::new(None),
        })
    }

    fn group_id(&self) -> Result<&str> {
        self.config.group_id.as_deref().ok_or_else(|| Error::Group {
            code: 24,
            message: "this consumer has no group_id; set ConsumerConfig::group_id".into(),
        })
    }

    /// Joins the consumer group and reads the partitions of `topics` that the group assigns to this
    /// member. The group rebalances as members come and go; `poll` keeps the membership alive.
    pub async fn subscribe(&self, topics: &[&str]) -> Result<()> {
        let group_id = self.group_id()?.to_string();
        for t in topics {
            self.core.topic_or_create(t)?;
        }
        let mut member_config = MemberConfig::new(
            &group_id,
            &self.config.client_id,
            topics.iter().map(|t| t.to_string()).collect(),
        );
        member_config.session_timeout_ms = self.config.session_timeout.as_millis() as i32;
        member_config.rebalance_timeout_ms = self.config.rebalance_timeout.as_millis() as i32;
        member_config.heartbeat_interval = self.config.heartbeat_interval;
        member_config.pause_before_rejoin = self.config.pause_before_rejoin;
        let core = Arc::downgrade(&self.core);
        let counts = Arc::new(move |topic: &str| {
            core.upgrade()?.topics.read().get(topic).map(|t| t.partition_count())
        });
        let assignors = self.config.assignment_strategies.iter().map(|s| s.assignor()).collect();
        let member = GroupMember::new(
            self.groups.clone(),
            member_config,
            assignors,
            counts,
            Arc::new(NoListener),
        );
        let previous = self.member.lock().await.replace(member);
        if let Some(mut old) = previous {
            old.leave().await?;
        }
        self.state.lock().assigned.clear();
        Ok(())
    }

    /// Whether the last `poll` paused before rejoining a rebalance (see
    /// [`ConsumerConfig::pause_before_rejoin`]): commit, release the partitions, and poll again.
    pub fn rebalance_pending(&self) -> bool {
        self.rebalance_pending.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Leaves the group (if subscribed); the group rebalances the partitions to other members.
    pub async fn close(&self) -> Result<()> {
        if let Some(mut member) = self.member.lock().await.take() {
            member.leave().await?;
        }
        self.state.lock().assigned.clear();
        Ok(())
    }

    /// Runs the membership (join, sync, heartbeat) and adopts the group's assignment.
    async fn drive_membership(&self) -> Result<()> {
        let mut guard = self.member.lock().await;
        let Some(member) = guard.as_mut() else { return Ok(()) };
        member.poll().await?;
        let pending = member.rebalance_pending();
        self.rebalance_pending.store(pending, std::sync::atomic::Ordering::SeqCst);
        if pending {
            return Ok(());
        }
        let wanted: Vec<TopicPartition> = member.assignment().iter().cloned().collect();
        *self.assignment_user_data.lock() = member.assignment_user_data().cloned();
        drop(guard);
        let mut st = self.state.lock();
        st.assigned.retain(|tp, _| wanted.contains(tp));
        for tp in wanted {
            if st.assigned.contains_key(&tp) {
                continue;
            }
            let partition = self.core.partition(&tp.topic, tp.partition)?;
            st.assigned.insert(
                tp.clone(),
                Assigned {
                    partition,
                    topic: Arc::from(tp.topic.as_str()),
                    position: None,
                    buffered: Buffered::new(&tp.topic, tp.partition),
                    pending: None,
                    last_read: None,
                },
            );
        }
        Ok(())
    }

    /// The member id and generation to commit with: the group's when subscribed, else a simple
    /// commit (generation -1), which Kafka accepts only for groups without active members.
    async fn commit_identity(&self) -> (String, i32) {
        match self.member.lock().await.as_ref() {
            Some(m) => (m.member_id().to_string(), m.generation()),
            None => (String::new(), -1),
        }
    }

    /// Commits offsets for the group: the given ones, or (with `None`) the current position of every
    /// assigned partition. Returns once the commit is durable.
    pub async fn commit_sync(
        &self,
        offsets: Option<Vec<(TopicPartition, OffsetAndMetadata)>>,
    ) -> Result<()> {
        let group_id = self.group_id()?.to_string();
        let offsets = match offsets {
            Some(o) => o,
            None => {
                let st = self.state.lock();
                st.assigned
                    .iter()
                    .filter_map(|(tp, a)| {
                        let pos = a.next_offset()?;
                        Some((tp.clone(), OffsetAndMetadata::new(pos)))
                    })
                    .collect()
            }
        };
        if offsets.is_empty() {
            return Ok(());
        }
        let (member_id, generation_id) = self.commit_identity().await;
        let req = OffsetCommitRequest {
            group_id,
            generation_id,
            member_id,
            offsets: offsets
                .into_iter()
                .map(|(tp, o)| PartitionOffset {
                    partition: tp,
                    offset: o.offset,
                    leader_epoch: -1,
                    metadata: o.metadata,
                })
                .collect(),
        };
        let results = self.groups.commit_offsets(req).await?;
        for (tp, r) in results {
            if let Err(e) = r {
                return Err(Error::Group {
                    code: e.code(),
                    message: format!("commit of {tp} failed: {e}"),
                });
            }
        }
        Ok(())
    }

    /// Starts a commit like [`Consumer::commit_sync`] and returns at once; the returned handle
    /// resolves to its outcome.
    pub fn commit_async(
        self: &Arc<Self>,
        offsets: Option<Vec<(TopicPartition, OffsetAndMetadata)>>,
    ) -> tokio::task::JoinHandle<Result<()>> {
        let me = self.clone();
        tokio::spawn(async move { me.commit_sync(offsets).await })
    }

    /// The group's committed offsets of these partitions.
    pub async fn committed(
        &self,
        tps: &[TopicPartition],
    ) -> Result<Vec<(TopicPartition, Option<OffsetAndMetadata>)>> {
        let group_id = self.group_id()?;
        let fetched = self.groups.fetch_offsets(group_id, Some(tps)).await?;
        Ok(fetched
            .into_iter()
            .map(|(tp, c)| {
                (tp, c.map(|c| OffsetAndMetadata { offset: c.offset, metadata: c.metadata }))
            })
            .collect())
    }

    /// Reads partitions chosen by the caller (no group membership). Replaces the assignment.
    pub fn assign(&self, partitions: &[TopicPartition]) -> Result<()> {
        let mut fresh = BTreeMap::new();
        let mut st = self.state.lock();
        for tp in partitions {
            let partition = self.core.partition(&tp.topic, tp.partition)?;
            let previous = st.assigned.remove(tp);
            // A partition kept resumes at its next unreturned record (decoded records are not
            // kept: they are read again).
            let position = previous.and_then(|a| a.next_offset());
            fresh.insert(
                tp.clone(),
                Assigned {
                    partition,
                    topic: Arc::from(tp.topic.as_str()),
                    position,
                    buffered: Buffered::new(&tp.topic, tp.partition),
                    pending: None,
                    last_read: None,
                },
            );
        }
        st.assigned = fresh;
        Ok(())
    }

    /// The `user_data` the group's assignor attached to this member's current assignment (what
    /// Kafka hands to `ConsumerPartitionAssignor.onAssignment`); `None` if there was none.
    pub fn assignment_user_data(&self) -> Option<Bytes> {
        self.assignment_user_data.lock().clone()
    }

    /// The partitions currently assigned.
    pub fn assignment(&self) -> Vec<TopicPartition> {
        self.state.lock().assigned.keys().cloned().collect()
    }

    /// Sets the next offset to read from a partition.
    pub fn seek(&self, tp: &TopicPartition, offset: i64) -> Result<()> {
        let mut st = self.state.lock();
        let a = st.assigned.get_mut(tp).ok_or_else(|| not_assigned(tp))?;
        a.position = Some(offset);
        a.buffered.clear();
        a.pending = None;
        Ok(())
    }

    /// Moves to the first offset of each partition.
    pub fn seek_to_beginning(&self, tps: &[TopicPartition]) -> Result<()> {
        for tp in tps {
            let start = self.core.partition(&tp.topic, tp.partition)?.log_start_offset();
            self.seek(tp, start)?;
        }
        Ok(())
    }

    /// Moves to the end of each partition.
    pub fn seek_to_end(&self, tps: &[TopicPartition]) -> Result<()> {
        for tp in tps {
            let end = self.core.partition(&tp.topic, tp.partition)?.high_watermark();
            self.seek(tp, end)?;
        }
        Ok(())
    }

    /// The offset of the next record `poll` will return for this partition.
    pub async fn position(&self, tp: &TopicPartition) -> Result<i64> {
        self.ensure_positions().await?;
        let st = self.state.lock();
        let a = st.assigned.get(tp).ok_or_else(|| not_assigned(tp))?;
        Ok(a.next_offset().unwrap_or(0))
    }

    /// The committed offset of a partition in this consumer's group, if any.
    async fn committed_offset(&self, tp: &TopicPartition) -> Result<Option<i64>> {
        let Some(group_id) = self.config.group_id.as_deref() else { return Ok(None) };
        let fetched = self.groups.fetch_offsets(group_id, Some(std::slice::from_ref(tp))).await?;
        Ok(fetched.into_iter().find(|(t, _)| t == tp).and_then(|(_, c)| c).map(|c| c.offset))
    }

    async fn ensure_positions(&self) -> Result<()> {
        let missing: Vec<TopicPartition> = {
            let st = self.state.lock();
            st.assigned
                .iter()
                .filter(|(_, a)| a.position.is_none())
                .map(|(tp, _)| tp.clone())
                .collect()
        };
        for tp in missing {
            let committed = self.committed_offset(&tp).await?;
            let mut st = self.state.lock();
            let Some(a) = st.assigned.get_mut(&tp) else {
                continue;
            };
            if a.position.is_some() {
                continue;
            }
            a.position = Some(match committed {
                Some(off) => off,
                None => self.reset_offset(&tp, &a.partition)?,
            });
        }
        Ok(())
    }

    fn reset_offset(&self, tp: &TopicPartition, p: &PartitionRef) -> Result<i64> {
        match self.config.auto_offset_reset {
            OffsetReset::Earliest => Ok(p.log_start_offset()),
            OffsetReset::Latest => Ok(p.high_watermark()),
            OffsetReset::None => Err(Error::OffsetOutOfRange {
                offset: -1,
                log_start: p.log_start_offset(),
                log_end: p.high_watermark(),
            })
            .inspect_err(|_| {
                tracing::debug!(partition = %tp, "no committed offset and auto_offset_reset = none");
            }),
        }
    }

    /// Returns available records, waiting up to `timeout` when there are none.
    pub async fn poll(&self, timeout: Duration) -> Result<Vec<ConsumerRecord>> {
        self.poll_with(timeout, Self::fetch_available).await
    }

    /// Like [`poll`](Consumer::poll) (the same records, at most `max_poll_records`), but each
    /// partition's records column by column ([`PartitionRecords`]): the topic and partition once,
    /// no per-record struct. For a caller that keeps records by partition and processes a field
    /// at a time, this saves building and dropping a [`ConsumerRecord`] per record.
    pub async fn poll_columns(&self, timeout: Duration) -> Result<Vec<PartitionRecords>> {
        self.poll_with(timeout, Self::fetch_columns).await
    }

    /// Like [`poll`](Consumer::poll), but returns each partition's records as the log stores them:
    /// whole batches, CRC-checked, not copied, walked in place by [`ConsumerBatch::records`]. At most
    /// one fetch (`max_partition_fetch_bytes`) per assigned partition; `max_poll_records` does not
    /// apply. The position of each partition moves past the batches returned. Records that an
    /// earlier `poll` read ahead but did not return are read again.
    pub async fn poll_batches(&self, timeout: Duration) -> Result<Vec<ConsumerBatch>> {
        self.poll_with(timeout, Self::fetch_batches).await
    }

    async fn poll_with<T>(
        &self,
        timeout: Duration,
        fetch: impl Fn(&Self) -> Result<Vec<T>>,
    ) -> Result<Vec<T>> {
        let deadline = Instant::now() + timeout;
        loop {
            self.core.check_open()?;
            let arrived = self.core.data_arrived.notified();
            self.drive_membership().await?;
            if self.rebalance_pending() {
                return Ok(Vec::new());
            }
            self.ensure_positions().await?;
            let records = fetch(self)?;
            if !records.is_empty() {
                return Ok(records);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Vec::new());
            }
            // Wake for new data, for the next heartbeat, or at the deadline.
            let wake = deadline.min(now + self.config.heartbeat_interval);
            let _ = tokio::time::timeout_at(wake, arrived).await;
        }
    }

    /// Visits the assigned partitions once each, starting one further than the last call did (so
    /// that every partition gets its turn first), until `visit` returns false.
    fn round_robin(
        &self,
        mut visit: impl FnMut(&TopicPartition, &mut Assigned) -> Result<bool>,
    ) -> Result<()> {
        let mut st = self.state.lock();
        let n = st.assigned.len();
        if n == 0 {
            return Ok(());
        }
        let start = st.next % n;
        st.next = st.next.wrapping_add(1);
        let keys: Vec<TopicPartition> = st.assigned.keys().cloned().collect();
        for i in 0..n {
            let tp = &keys[(start + i) % n];
            if let Some(a) = st.assigned.get_mut(tp) {
                if !visit(tp, a)? {
                    break;
                }
            }
        }
        Ok(())
    }

    fn fetch_available(&self) -> Result<Vec<ConsumerRecord>> {
        let max = self.config.max_poll_records.max(1);
        let mut out = Vec::new();
        self.round_robin(|tp, a| {
            if a.buffered.is_empty() && a.pending.is_none() {
                self.fill(tp, a)?;
            }
            while out.len() < max {
                match a.buffered.pop_front(&a.topic) {
                    Some(r) => out.push(r),
                    None => break,
                }
            }
            let check_crcs = self.config.check_crcs;
            let mut decoded = Records { out: &mut out, partition: tp.partition };
            if let Err(e) = Self::decode_pending(a, check_crcs, &mut decoded, max) {
                // The records before the bad batch are returned first; the next poll meets it
                // again (the position stays at it) and reports it.
                if out.is_empty() {
                    return Err(e);
                }
                return Ok(false);
            }
            Ok(out.len() < max)
        })?;
        Ok(out)
    }

    /// [`fetch_available`](Self::fetch_available), column by column per partition.
    fn fetch_columns(&self) -> Result<Vec<PartitionRecords>> {
        let max = self.config.max_poll_records.max(1);
        let mut out = Vec::new();
        let mut total = 0;
        self.round_robin(|tp, a| {
            if a.buffered.is_empty() && a.pending.is_none() {
                self.fill(tp, a)?;
            }
            let mut part = PartitionRecords::new(a.topic.clone(), tp.partition);
            a.buffered.take_into(&mut part, max - total);
            let check_crcs = self.config.check_crcs;
            let room = max - total;
            let decoded = Self::decode_pending(a, check_crcs, &mut part, room);
            total += part.len();
            if !part.is_empty() {
                out.push(part);
            }
            if let Err(e) = decoded {
                // As in `fetch_available`.
                if total == 0 {
                    return Err(e);
                }
                return Ok(false);
            }
            Ok(total < max)
        })?;
        Ok(out)
    }

    fn fetch_batches(&self) -> Result<Vec<ConsumerBatch>> {
        let mut out = Vec::new();
        self.round_robin(|tp, a| {
            a.position = a.next_offset();
            a.buffered.clear();
            // The position is where the undecoded batches start: they are read again.
            a.pending = None;
            let Some((read, position)) = self.read(tp, a)? else {
                return Ok(true);
            };
            let (path, pos) = read.source.unwrap_or_default();
            let mut batches = Vec::new();
            let mut next = position;
            let bytes = read.batches;
            let mut at = 0usize;
            // The read holds whole, framed batches (see read_batches); each is checked when walked.
            for item in crate::format::batches(&bytes) {
                let (header, slice) = item.map_err(|e| Error::Corrupted {
                    file: path.clone(),
                    position: pos + at as u64,
                    reason: e.to_string(),
                })?;
                batches.push(Fetched {
                    header,
                    bytes: bytes.slice(at..at + slice.len()),
                    position: pos + at as u64,
                    decompressed: Default::default(),
                });
                at += slice.len();
                next = next.max(header.next_offset());
            }
            a.position = Some(next);
            a.last_read = None;
            if !batches.is_empty() {
                out.push(ConsumerBatch {
                    topic: a.topic.clone(),
                    partition: tp.partition,
                    from: position,
                    next_offset: next,
                    batches,
                    file: Arc::from(path.as_path()),
                    check_crcs: self.config.check_crcs,
                });
            }
            Ok(true)
        })?;
        Ok(out)
    }

    /// Reads the next whole batches of a partition from its position (resetting the position when
    /// it is out of range). `None` when there is no position yet or nothing to read; else the read
    /// and the position it started from.
    fn read(&self, tp: &TopicPartition, a: &mut Assigned) -> Result<Option<(ReadResult, i64)>> {
        let Some(mut position) = a.position else {
            return Ok(None);
        };
        let reuse = a.last_read.take().and_then(|b| b.try_into_mut().ok());
        let read = match a.partition.read(position, self.config.max_partition_fetch_bytes, reuse) {
            Ok(r) => r,
            Err(Error::OffsetOutOfRange { .. })
                if self.config.auto_offset_reset != OffsetReset::None =>
            {
                let reset = self.reset_offset(tp, &a.partition)?;
                tracing::info!(partition = %tp, from = position, to = reset, "position out of range; reset");
                a.position = Some(reset);
                position = reset;
                a.partition.read(position, self.config.max_partition_fetch_bytes, None)?
            }
            Err(e) => return Err(e),
        };
        if read.batches.is_empty() {
            return Ok(None);
        }
        Ok(Some((read, position)))
    }

    /// Reads the next batches of a partition into `a.pending`, to be decoded as polls need them.
    fn fill(&self, tp: &TopicPartition, a: &mut Assigned) -> Result<()> {
        let Some((read, position)) = self.read(tp, a)? else {
            return Ok(());
        };
        a.pending = Some(Pending {
            bytes: read.batches,
            at: 0,
            from: position,
            source: read.source.unwrap_or_default(),
        });
        Ok(())
    }

    /// Decodes pending batches of `a` into `out` until it holds `max` records (the rest of the
    /// last batch decoded goes to `a.buffered`) or none are left. The position moves past each
    /// batch decoded. A batch that does not check out (CRC, format) is an error naming its file
    /// and position; it stays pending, with none of its records handed out.
    fn decode_pending(
        a: &mut Assigned,
        check_crcs: bool,
        out: &mut impl Decoded,
        max: usize,
    ) -> Result<()> {
        let Some(p) = &mut a.pending else {
            return Ok(());
        };
        let topic = &a.topic;
        while out.count() < max && p.at < p.bytes.len() {
            let (path, start) = (&p.source.0, p.source.1);
            let (out_len, buffered_len) = (out.count(), a.buffered.len());
            let room = max - out.count();
            let from = p.from;
            let buffered = &mut a.buffered;
            let decoded = check_batch(path, start, &p.bytes, p.at, check_crcs).and_then(|h| {
                // Room for the batch's records (as many as fit), so that `out` grows once per
                // batch rather than doubling record by record.
                out.reserve(room.min(usize::try_from(h.record_count).unwrap_or(0)));
                let mut taken = 0usize;
                decode_batch(path, start, &p.bytes, p.at, &h, |r| {
                    if r.offset < from {
                        return;
                    }
                    if taken < room {
                        out.push(topic, r);
                        taken += 1;
                    } else {
                        buffered.push(r);
                    }
                })?;
                Ok((h.next_offset(), h.total_len()))
            });
            match decoded {
                Ok((end, len)) => {
                    p.at += len;
                    // Batches may end with records removed by compaction, or be control batches:
                    // the position moves past them.
                    a.position = Some(a.position.map_or(end, |pos| pos.max(end)));
                }
                Err(e) => {
                    out.truncate(out_len);
                    a.buffered.truncate(buffered_len);
                    return Err(e);
                }
            }
        }
        if p.at >= p.bytes.len() {
            a.last_read = a.pending.take().map(|p| p.bytes);
        }
        Ok(())
    }
}

fn consumer_record(topic: &Arc<str>, partition: i32, r: Record) -> ConsumerRecord {
    ConsumerRecord {
        topic: topic.clone(),
        partition,
        offset: r.offset,
        timestamp: r.timestamp,
        key: r.key,
        value: r.value,
        headers: r.headers,
    }
}

/// Where [`Consumer::decode_pending`] puts a partition's records: `poll`'s records, or one
/// partition's columns.
trait Decoded {
    /// How many records it holds.
    fn count(&self) -> usize;
    fn reserve(&mut self, n: usize);
    fn push(&mut self, topic: &Arc<str>, r: Record);
    /// Drops the records after the first `n`.
    fn truncate(&mut self, n: usize);
}

/// `poll`'s records (of every partition so far), receiving those of `partition`.
struct Records<'a> {
    out: &'a mut Vec<ConsumerRecord>,
    partition: i32,
}

impl Decoded for Records<'_> {
    fn count(&self) -> usize {
        self.out.len()
    }
    fn reserve(&mut self, n: usize) {
        self.out.reserve(n);
    }
    #[inline]
    fn push(&mut self, topic: &Arc<str>, r: Record) {
        self.out.push(consumer_record(topic, self.partition, r));
    }
    fn truncate(&mut self, n: usize) {
        self.out.truncate(n);
    }
}

impl Decoded for PartitionRecords {
    fn count(&self) -> usize {
        self.len()
    }
    fn reserve(&mut self, n: usize) {
        PartitionRecords::reserve(self, n);
    }
    #[inline]
    fn push(&mut self, _topic: &Arc<str>, r: Record) {
        PartitionRecords::push(self, r.offset, r.timestamp, r.key, r.value, r.headers);
    }
    fn truncate(&mut self, n: usize) {
        PartitionRecords::truncate(self, n);
    }
}

fn not_assigned(tp: &TopicPartition) -> Error {
    Error::UnknownPartition { topic: tp.topic.clone(), partition: tp.partition }
}
