//! The async face of the coordinator: one mutex around [`GroupCoordinator`], pending JoinGroup
//! and SyncGroup answers delivered through oneshot channels, records persisted through an
//! [`OffsetLog`], and a background task that ticks every 100 ms on `tokio::time` (so tests can
//! pause time).
//!
//! Offset commits are acknowledged only after their records were appended. Group-metadata records
//! (written when a rebalance completes) and deletion tombstones are appended right after the call
//! that produced them; if that append fails the failure is logged and the in-memory state is kept,
//! so the group is still served but a restart would show it as of its previous record.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::consumer_protocol::TopicPartition;
use super::offsets_topic::CommittedOffset;
use super::state::GroupState;
use super::{
    Completed, GroupCoordinator, GroupDescription, GroupError, GroupListing, IdResults,
    JoinRequest, JoinResponse, OffsetCommitRequest, PartitionResults, Reply, SyncRequest,
    SyncResponse, Ticket,
};

/// How often the background task ticks the coordinator.
const TICK_INTERVAL: Duration = Duration::from_millis(100);

/// Where `__consumer_offsets` records go: the broker appends them to the (compacted) topic.
pub(crate) trait OffsetLog: Send + Sync {
    /// Appends records (key, value; `None` = tombstone) durably, in order. An error is a message
    /// for the log; the calls whose records failed are answered COORDINATOR_NOT_AVAILABLE.
    fn append(&self, records: Vec<(Bytes, Option<Bytes>)>) -> Result<(), String>;
}

struct Inner {
    coordinator: GroupCoordinator,
    waiting: HashMap<Ticket, oneshot::Sender<Completed>>,
}

/// Shares one [`GroupCoordinator`] between async callers. Create it with [`GroupService::start`]
/// inside a tokio runtime; the tick task stops when the service is dropped or shut down.
pub(crate) struct GroupService {
    inner: Mutex<Inner>,
    log: Arc<dyn OffsetLog>,
    /// Wall-clock ms at `started`; `now_ms` advances with tokio's clock from there.
    epoch_ms_at_start: u64,
    started: Instant,
    ticker: Mutex<Option<JoinHandle<()>>>,
}

impl GroupService {
    /// Starts a service with a fresh coordinator.
    #[cfg(test)]
    pub(crate) fn start(log: Arc<dyn OffsetLog>) -> Arc<Self> {
        Self::start_with(GroupCoordinator::default(), log)
    }

    /// Starts a service around `coordinator` (e.g. one rebuilt with
    /// [`GroupCoordinator::replay`]). Must be called inside a tokio runtime.
    pub(crate) fn start_with(coordinator: GroupCoordinator, log: Arc<dyn OffsetLog>) -> Arc<Self> {
        let epoch_ms_at_start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let service = Arc::new(Self {
            inner: Mutex::new(Inner { coordinator, waiting: HashMap::new() }),
            log,
            epoch_ms_at_start,
            started: Instant::now(),
            ticker: Mutex::new(None),
        });
        let weak = Arc::downgrade(&service);
        *service.ticker.lock() = Some(tokio::spawn(tick_loop(weak)));
        service
    }

    /// Stops the tick task (also done on drop). Pending calls stay pending until answered by
    /// other calls; no more timeouts are applied.
    pub(crate) fn shutdown(&self) {
        if let Some(handle) = self.ticker.lock().take() {
            handle.abort();
        }
    }

    fn now_ms(&self) -> u64 {
        let elapsed = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.epoch_ms_at_start.saturating_add(elapsed)
    }

    /// Runs `f` on the coordinator, then persists the records it produced and delivers the
    /// answers it completed.
    fn with<R>(&self, f: impl FnOnce(&mut Inner, u64) -> R) -> R {
        let now = self.now_ms();
        let mut inner = self.inner.lock();
        let result = f(&mut inner, now);
        let records = inner.coordinator.take_records();
        if !records.is_empty() {
            if let Err(error) = self.log.append(records) {
                tracing::warn!(%error, "could not store group metadata in __consumer_offsets");
            }
        }
        for (ticket, answer) in inner.coordinator.take_completed() {
            if let Some(tx) = inner.waiting.remove(&ticket) {
                // The caller may have gone away; nothing to do then.
                let _ = tx.send(answer);
            }
        }
        result
    }

    /// Registers a pending ticket; the answer arrives through the returned receiver.
    fn wait<T>(
        &self,
        inner: &mut Inner,
        reply: Reply<T>,
    ) -> Result<T, oneshot::Receiver<Completed>> {
        match reply {
            Reply::Ready(answer) => Ok(answer),
            Reply::Pending(ticket) => {
                let (tx, rx) = oneshot::channel();
                inner.waiting.insert(ticket, tx);
                Err(rx)
            }
        }
    }

    fn tick(&self) {
        self.with(|inner, now| inner.coordinator.tick(now));
    }

    /// JoinGroup; resolves when the rebalance completes (or at once for errors).
    pub(crate) async fn join_group(&self, req: JoinRequest) -> JoinResponse {
        let member_id = req.member_id.clone();
        let pending = self.with(|inner, now| {
            let reply = inner.coordinator.join(req, now);
            self.wait(inner, reply)
        });
        match pending {
            Ok(answer) => answer,
            Err(rx) => match rx.await {
                Ok(Completed::Join(answer)) => answer,
                _ => JoinResponse::failed(GroupError::CoordinatorNotAvailable, member_id),
            },
        }
    }

    /// SyncGroup; followers resolve when the leader's assignment arrives.
    pub(crate) async fn sync_group(&self, req: SyncRequest) -> SyncResponse {
        let pending = self.with(|inner, now| {
            let reply = inner.coordinator.sync(req, now);
            self.wait(inner, reply)
        });
        match pending {
            Ok(answer) => answer,
            Err(rx) => match rx.await {
                Ok(Completed::Sync(answer)) => answer,
                _ => SyncResponse::failed(GroupError::CoordinatorNotAvailable),
            },
        }
    }

    /// Heartbeat.
    pub(crate) async fn heartbeat(
        &self,
        group_id: &str,
        member_id: &str,
        generation_id: i32,
    ) -> Result<(), GroupError> {
        self.with(|inner, now| inner.coordinator.heartbeat(group_id, member_id, generation_id, now))
    }

    /// LeaveGroup for one or more members.
    pub(crate) async fn leave_group(
        &self,
        group_id: &str,
        member_ids: &[String],
    ) -> Result<IdResults, GroupError> {
        self.with(|inner, now| inner.coordinator.leave(group_id, member_ids, now))
    }

    /// OffsetCommit, acknowledged once the records are appended to the [`OffsetLog`].
    pub(crate) async fn commit_offsets(
        &self,
        req: OffsetCommitRequest,
    ) -> Result<PartitionResults, GroupError> {
        self.with(|inner, now| {
            let prepared = inner.coordinator.prepare_commit(req, now)?;
            if !prepared.records().is_empty() {
                self.log.append(prepared.records().to_vec()).map_err(|error| {
                    tracing::warn!(%error, "could not store committed offsets");
                    GroupError::CoordinatorNotAvailable
                })?;
            }
            Ok(inner.coordinator.apply_commit(prepared))
        })
    }

    /// OffsetFetch: `None` partitions means every committed partition of the group.
    pub(crate) async fn fetch_offsets(
        &self,
        group_id: &str,
        partitions: Option<&[TopicPartition]>,
    ) -> Result<Vec<(TopicPartition, Option<CommittedOffset>)>, GroupError> {
        self.with(|inner, _| inner.coordinator.fetch_offsets(group_id, partitions))
    }

    /// DescribeGroups for one group.
    pub(crate) async fn describe_group(&self, group_id: &str) -> GroupDescription {
        self.with(|inner, _| inner.coordinator.describe_group(group_id))
    }

    /// ListGroups, optionally filtered by state.
    pub(crate) async fn list_groups(&self, states: &[GroupState]) -> Vec<GroupListing> {
        self.with(|inner, _| inner.coordinator.list_groups(states))
    }

    /// DeleteGroups.
    pub(crate) async fn delete_groups(&self, group_ids: &[String]) -> IdResults {
        self.with(|inner, now| inner.coordinator.delete_groups(group_ids, now))
    }
}

impl Drop for GroupService {
    fn drop(&mut self) {
        self.shutdown();
    }
}

async fn tick_loop(service: Weak<GroupService>) {
    let mut interval = tokio::time::interval(TICK_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match service.upgrade() {
            Some(service) => service.tick(),
            None => return,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::group::CoordinatorConfig;
    use crate::group::offsets::PartitionOffset;
    use crate::group::tests::join_request;

    /// An [`OffsetLog`] in memory that can be told to fail.
    #[derive(Default)]
    pub(crate) struct MemoryLog {
        pub(crate) records: Mutex<Vec<(Bytes, Option<Bytes>)>>,
        pub(crate) fail: AtomicBool,
    }

    impl OffsetLog for MemoryLog {
        fn append(&self, records: Vec<(Bytes, Option<Bytes>)>) -> Result<(), String> {
            if self.fail.load(Ordering::SeqCst) {
                return Err("disk full".into());
            }
            self.records.lock().extend(records);
            Ok(())
        }
    }

    impl MemoryLog {
        /// A coordinator rebuilt from the records, as after a restart.
        pub(crate) fn replay(&self, config: CoordinatorConfig) -> GroupCoordinator {
            let mut c = GroupCoordinator::new(config);
            for (k, v) in self.records.lock().iter() {
                c.replay(k, v.as_deref()).unwrap();
            }
            c
        }
    }

    fn commit(group: &str, member: &str, generation: i32, offset: i64) -> OffsetCommitRequest {
        OffsetCommitRequest {
            group_id: group.into(),
            generation_id: generation,
            member_id: member.into(),
            offsets: vec![PartitionOffset {
                partition: TopicPartition::new("t", 0),
                offset,
                leader_epoch: -1,
                metadata: String::new(),
            }],
        }
    }

    #[tokio::test(start_paused = true)]
    async fn pending_joins_complete_through_the_tick_task() {
        let log = Arc::new(MemoryLog::default());
        let service = GroupService::start(log.clone());
        // Default initial delay (3 s): both joins wait for it, then complete together.
        let (a, b) = tokio::join!(
            service.join_group(join_request("g", "")),
            service.join_group(join_request("g", ""))
        );
        assert_eq!((a.error, b.error), (None, None));
        assert_eq!(a.generation_id, 1);
        assert_eq!(a.leader, b.leader);
        let leader = if a.leader == a.member_id { &a } else { &b };
        let sync = |m: &JoinResponse, assignments| SyncRequest {
            group_id: "g".into(),
            member_id: m.member_id.clone(),
            generation_id: m.generation_id,
            group_instance_id: None,
            protocol_type: None,
            protocol_name: None,
            assignments,
        };
        let all = vec![
            (a.member_id.clone(), Bytes::from_static(b"A")),
            (b.member_id.clone(), Bytes::from_static(b"B")),
        ];
        let (sa, sb) = tokio::join!(
            service.sync_group(sync(
                &a,
                if leader.member_id == a.member_id { all.clone() } else { vec![] }
            )),
            service.sync_group(sync(
                &b,
                if leader.member_id == b.member_id { all.clone() } else { vec![] }
            ))
        );
        assert_eq!(
            (sa.assignment, sb.assignment),
            (Bytes::from_static(b"A"), Bytes::from_static(b"B"))
        );
        assert_eq!(log.records.lock().len(), 1, "group metadata stored");
        assert_eq!(service.list_groups(&[GroupState::Stable]).await.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn commits_are_acknowledged_only_after_the_append() {
        let log = Arc::new(MemoryLog::default());
        let service = GroupService::start(log.clone());
        log.fail.store(true, Ordering::SeqCst);
        assert_eq!(
            service.commit_offsets(commit("g", "", -1, 5)).await,
            Err(GroupError::CoordinatorNotAvailable)
        );
        assert!(service.fetch_offsets("g", None).await.unwrap().is_empty());
        log.fail.store(false, Ordering::SeqCst);
        assert_eq!(service.commit_offsets(commit("g", "", -1, 6)).await.unwrap()[0].1, Ok(()));
        assert_eq!(
            service.fetch_offsets("g", None).await.unwrap()[0].1.as_ref().unwrap().offset,
            6
        );
        assert_eq!(service.describe_group("g").await.state, "Empty");
        assert_eq!(service.delete_groups(&["g".into()]).await[0].1, Ok(()));
        // After a restart the deletion holds.
        let restored = log.replay(CoordinatorConfig::default());
        assert!(restored.list_groups(&[]).is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn sessions_expire_with_virtual_time_and_ticking_stops_on_drop() {
        let log = Arc::new(MemoryLog::default());
        let service = GroupService::start(log.clone());
        let mut req = join_request("g", "");
        req.require_known_member_id = true;
        let first = service.join_group(req.clone()).await;
        assert_eq!(first.error, Some(GroupError::MemberIdRequired));
        req.member_id = first.member_id.clone();
        let joined = service.join_group(req).await;
        assert_eq!(joined.error, None);
        let sync = service
            .sync_group(SyncRequest {
                group_id: "g".into(),
                member_id: joined.member_id.clone(),
                generation_id: joined.generation_id,
                group_instance_id: None,
                protocol_type: None,
                protocol_name: None,
                assignments: vec![],
            })
            .await;
        assert_eq!(sync.error, None);
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(service.heartbeat("g", &joined.member_id, 1).await, Ok(()));
        tokio::time::sleep(Duration::from_secs(11)).await;
        assert_eq!(
            service.heartbeat("g", &joined.member_id, 1).await,
            Err(GroupError::UnknownMemberId)
        );
        assert_eq!(
            service.leave_group("g", std::slice::from_ref(&joined.member_id)).await.unwrap()[0].1,
            Err(GroupError::UnknownMemberId)
        );
        let ticker = service.ticker.lock().as_ref().map(|h| h.abort_handle()).unwrap();
        drop(service);
        tokio::task::yield_now().await;
        assert!(ticker.is_finished());
    }
}
