//! The in-process consumer's side of group membership: join (two-step), sync, heartbeat, rejoin.
//!
//! When the member leads, it decodes every member's [`Subscription`], runs the assignor the group
//! chose, and sends the encoded [`Assignment`]s. Partition ownership changes are reported to a
//! [`RebalanceListener`] at the moment they happen:
//! - eager protocol (`range`): before rejoining, the member revokes everything it owns; after the
//!   sync it is assigned its new partitions;
//! - cooperative protocol (`cooperative-sticky`): the member keeps its partitions while rejoining
//!   (reporting them as owned); after the sync it revokes only those no longer assigned and, if it
//!   revoked any, rejoins at once so they can be handed to their new owners.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::assignor::{Assignor, RebalanceProtocol};
use super::consumer_protocol::{
    Assignment, CONSUMER_PROTOCOL_VERSION, Subscription, TopicPartition,
};
use super::{DecodeError, GroupError, GroupService, JoinRequest, JoinResponse, SyncRequest};

/// Wait before retrying when the coordinator is unavailable.
const RETRY_BACKOFF: Duration = Duration::from_millis(100);

/// Told about partition ownership changes, as they happen (Kafka's `ConsumerRebalanceListener`).
/// Runs inside the membership loop: keep it quick (e.g. record what to commit).
pub(crate) trait RebalanceListener: Send + Sync {
    /// The member gave up these partitions in an orderly way (commit their progress now).
    fn on_partitions_revoked(&self, member_id: &str, partitions: &[TopicPartition]);
    /// The member now owns these partitions.
    fn on_partitions_assigned(&self, member_id: &str, partitions: &[TopicPartition]);
    /// The member lost these partitions (it was removed from the group); others may own them
    /// already, so their progress must not be committed.
    fn on_partitions_lost(&self, member_id: &str, partitions: &[TopicPartition]) {
        self.on_partitions_revoked(member_id, partitions);
    }
}

/// Partition count of a topic, `None` if it does not exist (the leader's metadata view).
pub(crate) type PartitionCounts = Arc<dyn Fn(&str) -> Option<i32> + Send + Sync>;

/// Membership settings (Kafka consumer settings of the same names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MemberConfig {
    pub(crate) group_id: String,
    pub(crate) client_id: String,
    pub(crate) topics: Vec<String>,
    /// `session.timeout.ms` (45 s).
    pub(crate) session_timeout_ms: i32,
    /// `max.poll.interval.ms`, sent as the rebalance timeout (5 min).
    pub(crate) rebalance_timeout_ms: i32,
    /// `heartbeat.interval.ms` (3 s).
    pub(crate) heartbeat_interval: Duration,
    /// Under the eager protocol, return from `poll` once before rejoining, so the owner can
    /// commit and release its partitions first (see `ConsumerConfig::pause_before_rejoin`).
    pub(crate) pause_before_rejoin: bool,
}

impl MemberConfig {
    pub(crate) fn new(group_id: &str, client_id: &str, topics: Vec<String>) -> Self {
        Self {
            group_id: group_id.to_owned(),
            client_id: client_id.to_owned(),
            topics,
            session_timeout_ms: 45_000,
            rebalance_timeout_ms: 300_000,
            heartbeat_interval: Duration::from_secs(3),
            pause_before_rejoin: false,
        }
    }
}

/// Why the member cannot take part in the group.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MemberError {
    /// The coordinator refused the member for good (invalid group id, session timeout or
    /// protocols).
    #[error("the group coordinator refused the member: {0}")]
    Coordinator(#[from] GroupError),
    /// A member's subscription or the assignment could not be read.
    #[error("bad consumer-protocol bytes: {0}")]
    Decode(#[from] DecodeError),
    /// The group chose a protocol this member has no assignor for.
    #[error("the group chose protocol {0:?}, which this member has no assignor for")]
    UnknownProtocol(String),
}

/// One member of a consumer group, driven by [`GroupMember::poll`].
pub(crate) struct GroupMember {
    service: Arc<GroupService>,
    config: MemberConfig,
    /// In order of preference; their names are the protocols offered.
    assignors: Vec<Arc<dyn Assignor>>,
    partition_counts: PartitionCounts,
    listener: Arc<dyn RebalanceListener>,
    member_id: String,
    generation: i32,
    protocol: Option<String>,
    owned: BTreeSet<TopicPartition>,
    rejoin_needed: bool,
    next_heartbeat: Instant,
    /// A rebalance began and `poll` returned without rejoining, once, so that the owner can
    /// release its partitions; the next `poll` rejoins.
    paused: bool,
    /// The `user_data` of the last assignment received.
    user_data: Option<bytes::Bytes>,
}

impl GroupMember {
    pub(crate) fn new(
        service: Arc<GroupService>,
        config: MemberConfig,
        assignors: Vec<Arc<dyn Assignor>>,
        partition_counts: PartitionCounts,
        listener: Arc<dyn RebalanceListener>,
    ) -> Self {
        Self {
            service,
            config,
            assignors,
            partition_counts,
            listener,
            member_id: String::new(),
            generation: -1,
            protocol: None,
            owned: BTreeSet::new(),
            rejoin_needed: true,
            next_heartbeat: Instant::now(),
            paused: false,
            user_data: None,
        }
    }

    pub(crate) fn member_id(&self) -> &str {
        &self.member_id
    }

    pub(crate) fn generation(&self) -> i32 {
        self.generation
    }

    /// The `user_data` of the member's current assignment.
    pub(crate) fn assignment_user_data(&self) -> Option<&bytes::Bytes> {
        self.user_data.as_ref()
    }

    /// The partitions the member owns now.
    pub(crate) fn assignment(&self) -> &BTreeSet<TopicPartition> {
        &self.owned
    }

    /// Does what is due: (re)joins if needed (waiting for the rebalance to finish), else sends a
    /// heartbeat if its interval passed. Call it at least every heartbeat interval.
    pub(crate) async fn poll(&mut self) -> Result<(), MemberError> {
        if self.paused {
            self.paused = false;
            return self.join_and_sync().await;
        }
        if !self.rejoin_needed {
            if Instant::now() < self.next_heartbeat {
                return Ok(());
            }
            self.next_heartbeat = Instant::now() + self.config.heartbeat_interval;
            match self
                .service
                .heartbeat(&self.config.group_id, &self.member_id, self.generation)
                .await
            {
                Ok(()) => return Ok(()),
                Err(error) => self.on_error(error)?,
            }
        }
        if self.config.pause_before_rejoin
            && !self.owned.is_empty()
            && self.rebalance_protocol() == RebalanceProtocol::Eager
        {
            self.paused = true;
            return Ok(());
        }
        self.join_and_sync().await
    }

    /// Whether `poll` returned without rejoining a rebalance that began: the owner should commit
    /// and release its partitions, then poll again.
    pub(crate) fn rebalance_pending(&self) -> bool {
        self.paused
    }

    /// Revokes everything and leaves the group.
    pub(crate) async fn leave(&mut self) -> Result<(), MemberError> {
        let owned: Vec<TopicPartition> = std::mem::take(&mut self.owned).into_iter().collect();
        if !owned.is_empty() {
            self.listener.on_partitions_revoked(&self.member_id, &owned);
        }
        if !self.member_id.is_empty() {
            let ids = [std::mem::take(&mut self.member_id)];
            self.service.leave_group(&self.config.group_id, &ids).await?;
        }
        self.generation = -1;
        self.rejoin_needed = true;
        Ok(())
    }

    fn rebalance_protocol(&self) -> RebalanceProtocol {
        let chosen = self.protocol.as_deref();
        self.assignors
            .iter()
            .find(|a| Some(a.name()) == chosen)
            .or(self.assignors.first())
            .map_or(RebalanceProtocol::Eager, |a| a.protocol())
    }

    /// Handles an error answer: retriable ones lead to a rejoin, others are returned.
    fn on_error(&mut self, error: GroupError) -> Result<(), MemberError> {
        match error {
            GroupError::RebalanceInProgress | GroupError::CoordinatorNotAvailable => {}
            GroupError::UnknownMemberId => {
                self.lose_all();
                self.member_id.clear();
                self.generation = -1;
            }
            GroupError::IllegalGeneration => {
                self.generation = -1;
                self.lose_all();
            }
            other => return Err(other.into()),
        }
        self.rejoin_needed = true;
        Ok(())
    }

    fn lose_all(&mut self) {
        let owned: Vec<TopicPartition> = std::mem::take(&mut self.owned).into_iter().collect();
        if !owned.is_empty() {
            self.listener.on_partitions_lost(&self.member_id, &owned);
        }
    }

    async fn join_and_sync(&mut self) -> Result<(), MemberError> {
        loop {
            if self.rebalance_protocol() == RebalanceProtocol::Eager && !self.owned.is_empty() {
                let owned: Vec<TopicPartition> =
                    std::mem::take(&mut self.owned).into_iter().collect();
                self.listener.on_partitions_revoked(&self.member_id, &owned);
            }
            let join = self.service.join_group(self.join_request()).await;
            match join.error {
                None => {}
                Some(GroupError::MemberIdRequired) => {
                    self.member_id = join.member_id;
                    continue;
                }
                Some(error) => {
                    self.on_error(error)?;
                    if error == GroupError::CoordinatorNotAvailable {
                        tokio::time::sleep(RETRY_BACKOFF).await;
                    }
                    continue;
                }
            }
            self.member_id = join.member_id.clone();
            self.generation = join.generation_id;
            self.protocol = join.protocol_name.clone();
            let assignments =
                if join.leader == self.member_id { self.assign(&join)? } else { Vec::new() };
            let sync = self
                .service
                .sync_group(SyncRequest {
                    group_id: self.config.group_id.clone(),
                    member_id: self.member_id.clone(),
                    generation_id: self.generation,
                    group_instance_id: None,
                    protocol_type: join.protocol_type.clone(),
                    protocol_name: join.protocol_name.clone(),
                    assignments,
                })
                .await;
            if let Some(error) = sync.error {
                self.on_error(error)?;
                continue;
            }
            self.apply(Assignment::decode(&sync.assignment)?);
            self.next_heartbeat = Instant::now() + self.config.heartbeat_interval;
            if !self.rejoin_needed {
                return Ok(());
            }
        }
    }

    fn join_request(&self) -> JoinRequest {
        let subscription = |a: &Arc<dyn Assignor>| {
            Subscription {
                topics: self.config.topics.clone(),
                user_data: a.subscription_user_data(&self.config.topics),
                owned_partitions: self.owned.iter().cloned().collect(),
                generation_id: self.generation,
                rack_id: None,
            }
            .encode(CONSUMER_PROTOCOL_VERSION)
        };
        JoinRequest {
            group_id: self.config.group_id.clone(),
            member_id: self.member_id.clone(),
            group_instance_id: None,
            client_id: self.config.client_id.clone(),
            client_host: "in-process".to_owned(),
            session_timeout_ms: self.config.session_timeout_ms,
            rebalance_timeout_ms: self.config.rebalance_timeout_ms,
            protocol_type: "consumer".to_owned(),
            protocols: self
                .assignors
                .iter()
                .map(|a| (a.name().to_owned(), subscription(a)))
                .collect(),
            require_known_member_id: true,
        }
    }

    /// The leader's job: run the chosen assignor over every member's subscription.
    fn assign(&self, join: &JoinResponse) -> Result<Vec<(String, bytes::Bytes)>, MemberError> {
        let name = join.protocol_name.clone().unwrap_or_default();
        let assignor = self
            .assignors
            .iter()
            .find(|a| a.name() == name)
            .ok_or(MemberError::UnknownProtocol(name))?;
        let mut subscriptions = BTreeMap::new();
        for m in &join.members {
            subscriptions.insert(m.member_id.clone(), Subscription::decode(&m.metadata)?);
        }
        let partitions_per_topic: BTreeMap<String, i32> = subscriptions
            .values()
            .flat_map(|s| &s.topics)
            .filter_map(|t| Some((t.clone(), (self.partition_counts)(t)?)))
            .collect();
        Ok(assignor
            .assign(&partitions_per_topic, &subscriptions)
            .into_iter()
            .map(|(member, a)| (member, a.encode(CONSUMER_PROTOCOL_VERSION)))
            .collect())
    }

    /// Takes the new assignment: revokes what is gone, then adds what is new.
    fn apply(&mut self, assignment: Assignment) {
        self.user_data = assignment.user_data;
        let new: BTreeSet<TopicPartition> = assignment.partitions.into_iter().collect();
        let revoked: Vec<TopicPartition> = self.owned.difference(&new).cloned().collect();
        let added: Vec<TopicPartition> = new.difference(&self.owned).cloned().collect();
        if !revoked.is_empty() {
            self.listener.on_partitions_revoked(&self.member_id, &revoked);
        }
        self.owned = new;
        if !added.is_empty() {
            self.listener.on_partitions_assigned(&self.member_id, &added);
        }
        self.rejoin_needed =
            !revoked.is_empty() && self.rebalance_protocol() == RebalanceProtocol::Cooperative;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use parking_lot::Mutex;
    use tokio::sync::watch;

    use super::*;
    use crate::group::assignor::{CooperativeStickyAssignor, RangeAssignor};
    use crate::group::offsets::PartitionOffset;
    use crate::group::offsets_topic::{GroupMetadataValue, OffsetsKey};
    use crate::group::service::tests::MemoryLog;
    use crate::group::{CoordinatorConfig, OffsetCommitRequest};

    const TOPIC: &str = "events";
    const PARTITIONS: i32 = 6;

    /// Who owns what, checked at every change: nobody may be assigned a partition another
    /// member owns.
    #[derive(Default)]
    struct Tracker {
        owners: Mutex<BTreeMap<TopicPartition, String>>,
        violations: Mutex<Vec<String>>,
    }

    impl RebalanceListener for Tracker {
        fn on_partitions_revoked(&self, member_id: &str, partitions: &[TopicPartition]) {
            let mut owners = self.owners.lock();
            for tp in partitions {
                if owners.get(tp).map(String::as_str) == Some(member_id) {
                    owners.remove(tp);
                } else {
                    self.violations
                        .lock()
                        .push(format!("{member_id} revoked {tp:?} it did not own"));
                }
            }
        }

        fn on_partitions_assigned(&self, member_id: &str, partitions: &[TopicPartition]) {
            let mut owners = self.owners.lock();
            for tp in partitions {
                if let Some(other) = owners.insert(tp.clone(), member_id.to_owned()) {
                    self.violations
                        .lock()
                        .push(format!("{tp:?} given to {member_id} while {other} owns it"));
                }
            }
        }
    }

    impl Tracker {
        /// A crashed process owns nothing.
        fn forget(&self, member_id: &str) {
            self.owners.lock().retain(|_, owner| owner != member_id);
        }

        /// Partitions per owner; asserts every partition has exactly one owner.
        fn loads(&self) -> BTreeMap<String, usize> {
            let owners = self.owners.lock();
            let all: Vec<i32> = owners.keys().map(|tp| tp.partition).collect();
            assert_eq!(all, (0..PARTITIONS).collect::<Vec<_>>(), "every partition owned once");
            let mut loads = BTreeMap::new();
            for owner in owners.values() {
                *loads.entry(owner.clone()).or_default() += 1;
            }
            loads
        }
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Command {
        Run,
        Leave,
        Crash,
    }

    /// A consumer's loop: poll, commit what it owns, sleep; until told to leave or crash.
    async fn run_member(
        mut member: GroupMember,
        service: Arc<GroupService>,
        commands: watch::Receiver<Command>,
        tracker: Arc<Tracker>,
    ) -> String {
        loop {
            let command = *commands.borrow();
            match command {
                Command::Run => {
                    member.poll().await.unwrap();
                    if !member.assignment().is_empty() {
                        let offsets = member
                            .assignment()
                            .iter()
                            .map(|tp| PartitionOffset {
                                partition: tp.clone(),
                                offset: i64::from(member.generation()) * 1000
                                    + i64::from(tp.partition),
                                leader_epoch: -1,
                                metadata: member.member_id().to_owned(),
                            })
                            .collect();
                        // Refused while a rebalance completes; the next loop retries.
                        let _ = service
                            .commit_offsets(OffsetCommitRequest {
                                group_id: "g".into(),
                                generation_id: member.generation(),
                                member_id: member.member_id().to_owned(),
                                offsets,
                            })
                            .await;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Command::Leave => {
                    member.leave().await.unwrap();
                    return String::new();
                }
                Command::Crash => {
                    tracker.forget(member.member_id());
                    return member.member_id().to_owned();
                }
            }
        }
    }

    async fn three_members_share_six_partitions(assignor: Arc<dyn Assignor>) {
        let log = Arc::new(MemoryLog::default());
        let service = GroupService::start(log.clone());
        let tracker = Arc::new(Tracker::default());
        let counts: PartitionCounts = Arc::new(|t: &str| (t == TOPIC).then_some(PARTITIONS));
        let mut tasks = Vec::new();
        for i in 0..3 {
            if i == 2 {
                // The third member arrives once the first two are settled.
                tokio::time::sleep(Duration::from_secs(10)).await;
                assert_eq!(tracker.loads().values().copied().collect::<Vec<_>>(), [3, 3]);
            }
            let (tx, rx) = watch::channel(Command::Run);
            let config = MemberConfig {
                session_timeout_ms: 10_000,
                rebalance_timeout_ms: 20_000,
                heartbeat_interval: Duration::from_secs(1),
                ..MemberConfig::new("g", &format!("consumer-{i}"), vec![TOPIC.into()])
            };
            let member = GroupMember::new(
                service.clone(),
                config,
                vec![assignor.clone()],
                counts.clone(),
                tracker.clone(),
            );
            tasks
                .push((tx, tokio::spawn(run_member(member, service.clone(), rx, tracker.clone()))));
        }
        tokio::time::sleep(Duration::from_secs(20)).await;
        assert_eq!(tracker.loads().values().copied().collect::<Vec<_>>(), [2, 2, 2]);

        // One leaves.
        let (tx, task) = tasks.remove(0);
        tx.send(Command::Leave).unwrap();
        task.await.unwrap();
        tokio::time::sleep(Duration::from_secs(20)).await;
        assert_eq!(tracker.loads().values().copied().collect::<Vec<_>>(), [3, 3]);

        // One stops heartbeating; its session expires and the last one takes everything.
        let (tx, task) = tasks.remove(1);
        tx.send(Command::Crash).unwrap();
        let crashed = task.await.unwrap();
        tokio::time::sleep(Duration::from_secs(40)).await;
        let loads = tracker.loads();
        assert_eq!(loads.values().copied().collect::<Vec<_>>(), [6]);
        assert!(!loads.contains_key(&crashed));
        let d = service.describe_group("g").await;
        assert_eq!((d.state.as_str(), d.members.len()), ("Stable", 1));
        assert_eq!(tracker.violations.lock().clone(), Vec::<String>::new());

        // Every generation's assignment, as recorded in __consumer_offsets, is exclusive; with the
        // eager protocol it is also complete. With the cooperative protocol members keep their
        // partitions while rejoining, so a partition may only move to another member once its
        // previous owner has left the group or no longer had it.
        let mut generations = Vec::new();
        let mut previous: BTreeMap<TopicPartition, String> = BTreeMap::new();
        for (key, value) in log.records.lock().iter() {
            if let (OffsetsKey::GroupMetadata { .. }, Some(value)) =
                (OffsetsKey::decode(key).unwrap(), value)
            {
                let value = GroupMetadataValue::decode(value).unwrap();
                let mut owners = BTreeMap::new();
                for m in &value.members {
                    for tp in Assignment::decode(&m.assignment).unwrap().partitions {
                        let moved_from = previous.get(&tp).filter(|was| **was != m.member_id);
                        if let (RebalanceProtocol::Cooperative, Some(was)) =
                            (assignor.protocol(), moved_from)
                        {
                            assert!(
                                value.members.iter().all(|other| other.member_id != *was),
                                "generation {}: {tp:?} moved from {was} to {} in one round",
                                value.generation,
                                m.member_id
                            );
                        }
                        let twice = owners.insert(tp, m.member_id.clone());
                        assert!(
                            twice.is_none(),
                            "generation {} assigns a partition twice",
                            value.generation
                        );
                    }
                }
                generations.push((value.generation, owners.len()));
                previous = owners;
            }
        }
        let last = *generations.last().unwrap();
        assert_eq!(last.1, 6);
        if assignor.protocol() == RebalanceProtocol::Eager {
            assert!(generations.iter().all(|(_, n)| *n == 6), "{generations:?}");
        } else {
            assert!(
                generations.iter().any(|(_, n)| *n < 6),
                "a follow-up round happened: {generations:?}"
            );
        }

        // Committed offsets survive a restart: a coordinator rebuilt from the log agrees.
        let committed = service.fetch_offsets("g", None).await.unwrap();
        assert_eq!(committed.len(), 6);
        let restored = log.replay(CoordinatorConfig::default());
        assert_eq!(restored.fetch_offsets("g", None).unwrap(), committed);
        let described = restored.describe_group("g");
        assert_eq!((described.state.as_str(), described.members.len()), ("Stable", 1));
        assert_eq!(restored.describe_group("g").members[0].member_id, d.members[0].member_id);

        let (tx, task) = tasks.remove(0);
        tx.send(Command::Leave).unwrap();
        task.await.unwrap();
        assert_eq!(service.describe_group("g").await.state, "Empty");
    }

    #[tokio::test(start_paused = true)]
    async fn three_members_with_the_range_assignor() {
        tokio::time::timeout(
            Duration::from_secs(600),
            three_members_share_six_partitions(Arc::new(RangeAssignor)),
        )
        .await
        .unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn three_members_with_the_cooperative_sticky_assignor() {
        tokio::time::timeout(
            Duration::from_secs(600),
            three_members_share_six_partitions(Arc::new(CooperativeStickyAssignor)),
        )
        .await
        .unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_fenced_member_loses_its_partitions_and_rejoins() {
        let service = GroupService::start(Arc::new(MemoryLog::default()));
        let tracker = Arc::new(Tracker::default());
        let counts: PartitionCounts = Arc::new(|t: &str| (t == TOPIC).then_some(PARTITIONS));
        let config = MemberConfig::new("g", "c", vec![TOPIC.into()]);
        let mut member = GroupMember::new(
            service.clone(),
            config,
            vec![Arc::new(CooperativeStickyAssignor), Arc::new(RangeAssignor)],
            counts,
            tracker.clone(),
        );
        member.poll().await.unwrap();
        assert_eq!(member.assignment().len(), 6);
        let first_id = member.member_id().to_owned();
        // Removed behind its back (e.g. paused longer than its session).
        service.leave_group("g", std::slice::from_ref(&first_id)).await.unwrap();
        tokio::time::sleep(Duration::from_secs(4)).await;
        member.poll().await.unwrap();
        assert_ne!(member.member_id(), first_id);
        assert_eq!(member.assignment().len(), 6);
        assert_eq!(tracker.loads().len(), 1);
        assert_eq!(tracker.violations.lock().clone(), Vec::<String>::new());
    }

    #[tokio::test(start_paused = true)]
    async fn fatal_errors_are_returned() {
        let service = GroupService::start(Arc::new(MemoryLog::default()));
        let counts: PartitionCounts = Arc::new(|_: &str| Some(1));
        let mut config = MemberConfig::new("g", "c", vec![TOPIC.into()]);
        config.session_timeout_ms = 1;
        let mut member = GroupMember::new(
            service,
            config,
            vec![Arc::new(RangeAssignor)],
            counts,
            Arc::new(Tracker::default()),
        );
        let error = member.poll().await.unwrap_err();
        assert!(
            matches!(error, MemberError::Coordinator(GroupError::InvalidSessionTimeout)),
            "{error}"
        );
    }
}
