//! Consumer groups, Kafka's classic group protocol: members join a group, the coordinator picks a
//! leader and a protocol, the leader computes the assignment on the client side, and members
//! heartbeat until the next rebalance. Committed offsets and group metadata are kept as Kafka
//! keeps them, as records of the compacted `__consumer_offsets` topic.
//!
//! Layers:
//! - [`GroupCoordinator`] owns every group. It is sans-I/O: each call takes `now_ms` (ms since the
//!   epoch) and returns a value; JoinGroup and SyncGroup may answer later, with a [`Ticket`] whose
//!   response [`GroupCoordinator::take_completed`] hands out; `tick` expires sessions and
//!   rebalance deadlines; records to persist come out of [`GroupCoordinator::take_records`] (group
//!   metadata, deletions) or, for offset commits, from a prepare/apply pair so that a commit is
//!   applied only after its record is stored. [`GroupCoordinator::replay`] rebuilds the state from
//!   the topic after a restart.
//! - One file per protocol call: `join`, `sync`, `heartbeat`, `leave`, `offsets`, `describe`; the
//!   lifecycle lives in `state`.
//! - [`GroupService`] is the async face: a mutex around the coordinator, oneshot channels for
//!   pending answers, an [`OffsetLog`](service::OffsetLog) to persist records, and a background tick.
//! - Client side: `consumer_protocol` (subscription/assignment bytes), `assignor` (range and
//!   cooperative-sticky, pure functions), `member` (the in-process consumer's membership loop).
//!
//! Not implemented: static membership (`group.instance.id` is stored and reported but never
//! fences, so FENCED_INSTANCE_ID is not produced), offset expiration, and transactional offset
//! commits.

pub(crate) mod assignor;
mod codec;
pub(crate) mod consumer_protocol;
pub(crate) mod describe;
mod heartbeat;
pub(crate) mod join;
mod leave;
pub(crate) mod member;
pub(crate) mod offsets;
pub(crate) mod offsets_topic;
pub(crate) mod service;
pub(crate) mod state;
pub(crate) mod sync;

use std::collections::BTreeMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

pub(crate) use codec::DecodeError;
pub(crate) use describe::{GroupDescription, GroupListing};
pub(crate) use join::{JoinRequest, JoinResponse};
pub(crate) use offsets::OffsetCommitRequest;
pub(crate) use service::{GroupService, OffsetLog};
pub(crate) use sync::{SyncRequest, SyncResponse};

use offsets_topic::{CommittedOffset, OffsetsKey, Record};
use state::{Group, GroupState};

/// Errors of the group protocol, carrying Kafka's error codes ([`GroupError::code`]); success is
/// the absence of an error (Kafka's NONE, code 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum GroupError {
    /// UNKNOWN_SERVER_ERROR (-1).
    #[error("unexpected error in the group coordinator; see the broker log")]
    UnknownServerError,
    /// OFFSET_METADATA_TOO_LARGE (12).
    #[error("offset commit metadata is longer than {} bytes", offsets::MAX_METADATA_BYTES)]
    OffsetMetadataTooLarge,
    /// COORDINATOR_NOT_AVAILABLE (15).
    #[error(
        "the group coordinator is not available (could not store to __consumer_offsets); retry"
    )]
    CoordinatorNotAvailable,
    /// ILLEGAL_GENERATION (22).
    #[error("the generation id is not the group's current one; rejoin the group")]
    IllegalGeneration,
    /// INCONSISTENT_GROUP_PROTOCOL (23).
    #[error("the protocol type or protocols do not match the group's members")]
    InconsistentGroupProtocol,
    /// INVALID_GROUP_ID (24).
    #[error("the group id is empty")]
    InvalidGroupId,
    /// UNKNOWN_MEMBER_ID (25).
    #[error("the member id is not known to the group; rejoin with an empty member id")]
    UnknownMemberId,
    /// INVALID_SESSION_TIMEOUT (26).
    #[error("the session timeout is outside the broker's allowed range")]
    InvalidSessionTimeout,
    /// REBALANCE_IN_PROGRESS (27).
    #[error("the group is rebalancing; rejoin the group")]
    RebalanceInProgress,
    /// NON_EMPTY_GROUP (68).
    #[error("the group still has members; they must leave before it can be deleted")]
    NonEmptyGroup,
    /// GROUP_ID_NOT_FOUND (69).
    #[error("the group does not exist")]
    GroupIdNotFound,
    /// MEMBER_ID_REQUIRED (79).
    #[error("join again with the member id given in this response")]
    MemberIdRequired,
}

impl GroupError {
    /// Kafka's error code.
    pub(crate) const fn code(self) -> i16 {
        match self {
            Self::UnknownServerError => -1,
            Self::OffsetMetadataTooLarge => 12,
            Self::CoordinatorNotAvailable => 15,
            Self::IllegalGeneration => 22,
            Self::InconsistentGroupProtocol => 23,
            Self::InvalidGroupId => 24,
            Self::UnknownMemberId => 25,
            Self::InvalidSessionTimeout => 26,
            Self::RebalanceInProgress => 27,
            Self::NonEmptyGroup => 68,
            Self::GroupIdNotFound => 69,
            Self::MemberIdRequired => 79,
        }
    }
}

/// Kafka's error code for an optional error: 0 (NONE) when there is none.
#[cfg(test)]
pub(crate) fn error_code(error: Option<GroupError>) -> i16 {
    error.map_or(0, GroupError::code)
}

/// Per-member results of a LeaveGroup or per-group results of a DeleteGroups.
pub(crate) type IdResults = Vec<(String, Result<(), GroupError>)>;

/// Per-partition results of an OffsetCommit.
pub(crate) type PartitionResults = Vec<(consumer_protocol::TopicPartition, Result<(), GroupError>)>;

/// Identifies a JoinGroup or SyncGroup whose answer comes later, through
/// [`GroupCoordinator::take_completed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Ticket(u64);

/// An answer now, or a ticket for an answer later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply<T> {
    /// The answer.
    Ready(T),
    /// The answer will come out of [`GroupCoordinator::take_completed`] with this ticket.
    Pending(Ticket),
}

/// A delayed answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Completed {
    /// Answer to a JoinGroup.
    Join(JoinResponse),
    /// Answer to a SyncGroup.
    Sync(SyncResponse),
}

/// Coordinator settings (Kafka's broker settings of the same names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CoordinatorConfig {
    /// `group.min.session.timeout.ms` (6 s).
    pub(crate) min_session_timeout_ms: i32,
    /// `group.max.session.timeout.ms` (30 min).
    pub(crate) max_session_timeout_ms: i32,
    /// `group.initial.rebalance.delay.ms` (3 s): how long the first rebalance of an empty group
    /// waits for more members, extended by each new member up to the rebalance timeout.
    pub(crate) initial_rebalance_delay_ms: u64,
}

impl Default for CoordinatorConfig {
    fn default() -> Self {
        Self {
            min_session_timeout_ms: 6_000,
            max_session_timeout_ms: 1_800_000,
            initial_rebalance_delay_ms: 3_000,
        }
    }
}

/// Answers and records produced while handling calls, drained by the caller.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    completed: Vec<(Ticket, Completed)>,
    records: Vec<Record>,
}

impl Outbox {
    fn join(&mut self, ticket: Ticket, response: JoinResponse) {
        self.completed.push((ticket, Completed::Join(response)));
    }

    fn sync(&mut self, ticket: Ticket, response: SyncResponse) {
        self.completed.push((ticket, Completed::Sync(response)));
    }

    /// Records the group's metadata as of now.
    fn group_metadata(&mut self, group: &Group) {
        self.records
            .push(offsets_topic::group_metadata_record(&group.id, Some(&group.metadata_value())));
    }
}

/// Hands out member ids `<client_id>-<uuid-like>`, unique within a coordinator and unguessable
/// across restarts (a per-process random hash key).
#[derive(Debug, Default)]
struct MemberIds {
    keys: RandomState,
    counter: u64,
}

impl MemberIds {
    fn next(&mut self, client_id: &str, now_ms: u64) -> String {
        self.counter += 1;
        let hash = |salt: u8| self.keys.hash_one((salt, self.counter, now_ms));
        let (a, b) = (hash(1), hash(2));
        format!(
            "{client_id}-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }
}

/// Owns every consumer group of the broker. Sans-I/O; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct GroupCoordinator {
    config: CoordinatorConfig,
    groups: BTreeMap<String, Group>,
    out: Outbox,
    next_ticket: u64,
    member_ids: MemberIds,
}

impl GroupCoordinator {
    pub(crate) fn new(config: CoordinatorConfig) -> Self {
        Self { config, ..Self::default() }
    }

    /// Answers to pending JoinGroup/SyncGroup calls that completed since the last call.
    pub(crate) fn take_completed(&mut self) -> Vec<(Ticket, Completed)> {
        std::mem::take(&mut self.out.completed)
    }

    /// `__consumer_offsets` records produced since the last call (group metadata after a
    /// rebalance, tombstones of deleted groups), in order; the caller appends them to the log.
    pub(crate) fn take_records(&mut self) -> Vec<Record> {
        std::mem::take(&mut self.out.records)
    }

    fn ticket(&mut self) -> Ticket {
        self.next_ticket += 1;
        Ticket(self.next_ticket)
    }

    /// Expires sessions and two-step member ids, completes joins whose rebalance timeout or
    /// initial delay passed (dropping members that did not rejoin), and removes members that did
    /// not send SyncGroup within the rebalance timeout. Members waiting in JoinGroup or SyncGroup
    /// are not expired by their session: the rebalance timeout covers them.
    pub(crate) fn tick(&mut self, now_ms: u64) {
        for group in self.groups.values_mut() {
            if let Err(error) = tick_group(group, &mut self.out, &self.config, now_ms) {
                tracing::warn!(group = %group.id, %error, "group tick failed");
            }
        }
    }

    /// Applies one `__consumer_offsets` record read back from the log, oldest first: offset
    /// commits and group metadata are restored, tombstones delete them.
    pub(crate) fn replay(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<(), DecodeError> {
        match (OffsetsKey::decode(key)?, value) {
            (OffsetsKey::OffsetCommit { group, partition }, Some(value)) => {
                let value = CommittedOffset::decode(value)?;
                let group =
                    self.groups.entry(group.clone()).or_insert_with(|| Group::new(group, 0));
                group.offsets.insert(partition, value);
            }
            (OffsetsKey::OffsetCommit { group, partition }, None) => {
                if let Some(g) = self.groups.get_mut(&group) {
                    g.offsets.remove(&partition);
                }
            }
            (OffsetsKey::GroupMetadata { group }, Some(value)) => {
                let value = offsets_topic::GroupMetadataValue::decode(value)?;
                let offsets = self.groups.remove(&group).map(|g| g.offsets).unwrap_or_default();
                let mut restored = Group::from_metadata(group.clone(), value);
                restored.offsets = offsets;
                self.groups.insert(group, restored);
            }
            (OffsetsKey::GroupMetadata { group }, None) => {
                let offsets = self.groups.remove(&group).map(|g| g.offsets).unwrap_or_default();
                if !offsets.is_empty() {
                    let mut emptied = Group::new(group.clone(), 0);
                    emptied.offsets = offsets;
                    self.groups.insert(group, emptied);
                }
            }
        }
        Ok(())
    }
}

fn tick_group(
    group: &mut Group,
    out: &mut Outbox,
    config: &CoordinatorConfig,
    now_ms: u64,
) -> Result<(), GroupError> {
    group.pending_members.retain(|_, expiry| *expiry > now_ms);
    let mut expired = Vec::new();
    for m in &mut group.members {
        match m.session_deadline {
            None => m.refresh_session(now_ms),
            Some(deadline)
                if deadline <= now_ms && m.awaiting_join.is_none() && m.awaiting_sync.is_none() =>
            {
                expired.push(m.id.clone());
            }
            Some(_) => {}
        }
    }
    for id in expired {
        tracing::info!(group = %group.id, member = %id, "member session expired");
        leave::remove_member_and_update(group, &id, out, config, now_ms)?;
    }
    match group.state() {
        GroupState::PreparingRebalance if now_ms >= group.rebalance_deadline => {
            join::complete_join(group, out, now_ms)
        }
        GroupState::PreparingRebalance => join::try_complete_join(group, out, now_ms),
        GroupState::CompletingRebalance if now_ms >= group.rebalance_deadline => {
            let late: Vec<String> = group
                .members
                .iter()
                .filter(|m| m.awaiting_sync.is_none())
                .map(|m| m.id.clone())
                .collect();
            for id in late {
                tracing::info!(group = %group.id, member = %id, "member did not sync in time");
                leave::remove_member_and_update(group, &id, out, config, now_ms)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use bytes::Bytes;
    use offsets::PartitionOffset;

    /// A coordinator without initial rebalance delay.
    pub(crate) fn coordinator() -> GroupCoordinator {
        GroupCoordinator::new(CoordinatorConfig {
            initial_rebalance_delay_ms: 0,
            ..CoordinatorConfig::default()
        })
    }

    pub(crate) fn join_request(group: &str, member_id: &str) -> JoinRequest {
        JoinRequest {
            group_id: group.into(),
            member_id: member_id.into(),
            group_instance_id: None,
            client_id: "client".into(),
            client_host: "/127.0.0.1".into(),
            session_timeout_ms: 10_000,
            rebalance_timeout_ms: 30_000,
            protocol_type: "consumer".into(),
            protocols: vec![("range".into(), Bytes::from_static(b"meta"))],
            require_known_member_id: false,
        }
    }

    /// Takes the completed answer for `ticket`, leaving the others in place.
    pub(crate) fn completed(c: &mut GroupCoordinator, ticket: Ticket) -> Completed {
        let mut all = c.take_completed();
        let i = all.iter().position(|(t, _)| *t == ticket).expect("ticket completed");
        let (_, answer) = all.remove(i);
        c.out.completed.extend(all);
        answer
    }

    pub(crate) fn joined(c: &mut GroupCoordinator, reply: &Reply<JoinResponse>) -> JoinResponse {
        match reply {
            Reply::Ready(r) => r.clone(),
            Reply::Pending(t) => match completed(c, *t) {
                Completed::Join(r) => r,
                other => panic!("expected a join answer, got {other:?}"),
            },
        }
    }

    pub(crate) fn synced(c: &mut GroupCoordinator, reply: &Reply<SyncResponse>) -> SyncResponse {
        match reply {
            Reply::Ready(r) => r.clone(),
            Reply::Pending(t) => match completed(c, *t) {
                Completed::Sync(r) => r,
                other => panic!("expected a sync answer, got {other:?}"),
            },
        }
    }

    /// A stable one-member group; returns the member id.
    pub(crate) fn stable_group(c: &mut GroupCoordinator, group: &str, now: u64) -> String {
        let reply = c.join(join_request(group, ""), now);
        let joined = joined(c, &reply);
        let reply = c.sync(
            SyncRequest {
                group_id: group.into(),
                member_id: joined.member_id.clone(),
                generation_id: joined.generation_id,
                group_instance_id: None,
                protocol_type: None,
                protocol_name: None,
                assignments: vec![(joined.member_id.clone(), Bytes::from_static(b"a"))],
            },
            now,
        );
        assert_eq!(synced(c, &reply).error, None);
        joined.member_id
    }

    #[test]
    fn error_codes_are_kafkas() {
        use GroupError::*;
        let codes = [
            (UnknownServerError, -1),
            (OffsetMetadataTooLarge, 12),
            (CoordinatorNotAvailable, 15),
            (IllegalGeneration, 22),
            (InconsistentGroupProtocol, 23),
            (InvalidGroupId, 24),
            (UnknownMemberId, 25),
            (InvalidSessionTimeout, 26),
            (RebalanceInProgress, 27),
            (NonEmptyGroup, 68),
            (GroupIdNotFound, 69),
            (MemberIdRequired, 79),
        ];
        for (e, code) in codes {
            assert_eq!(e.code(), code, "{e}");
            assert_eq!(error_code(Some(e)), code);
        }
        assert_eq!(error_code(None), 0);
    }

    #[test]
    fn member_ids_are_client_id_and_uuid_like() {
        let mut ids = MemberIds::default();
        let a = ids.next("app", 1);
        let b = ids.next("app", 1);
        assert_ne!(a, b);
        let uuid = a.strip_prefix("app-").unwrap();
        let parts: Vec<usize> = uuid.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);
        assert!(uuid.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }

    #[test]
    fn session_expiry_removes_the_member_and_empties_the_group() {
        let mut c = coordinator();
        let member = stable_group(&mut c, "g", 0);
        c.tick(9_999);
        assert_eq!(c.describe_group("g").members.len(), 1);
        c.tick(10_000);
        let d = c.describe_group("g");
        assert_eq!((d.state.as_str(), d.members.len()), ("Empty", 0));
        assert_eq!(c.heartbeat("g", &member, 1, 10_001), Err(GroupError::UnknownMemberId));
        // The emptied group's metadata was recorded (generation 2, no members).
        let records = c.take_records();
        let (_, value) = records.last().unwrap();
        let value = offsets_topic::GroupMetadataValue::decode(value.as_ref().unwrap()).unwrap();
        assert_eq!((value.generation, value.members.len()), (2, 0));
    }

    #[test]
    fn replay_restores_offsets_and_groups_and_tombstones_delete() {
        let mut c = coordinator();
        let member = stable_group(&mut c, "g", 0);
        let commit = c
            .prepare_commit(
                OffsetCommitRequest {
                    group_id: "g".into(),
                    generation_id: 1,
                    member_id: member.clone(),
                    offsets: vec![PartitionOffset {
                        partition: consumer_protocol::TopicPartition::new("t", 0),
                        offset: 5,
                        leader_epoch: -1,
                        metadata: "m".into(),
                    }],
                },
                100,
            )
            .unwrap();
        let mut records = c.take_records();
        records.extend(commit.records().iter().cloned());
        c.apply_commit(commit);

        let mut restored = coordinator();
        for (k, v) in &records {
            restored.replay(k, v.as_deref()).unwrap();
        }
        let d = restored.describe_group("g");
        assert_eq!(
            (d.state.as_str(), d.members[0].member_id.as_str()),
            ("Stable", member.as_str())
        );
        // A restored member must heartbeat within its session once ticking starts.
        restored.tick(1_000_000);
        assert_eq!(restored.heartbeat("g", &member, 1, 1_000_001), Ok(()));
        restored.tick(1_020_000);
        assert_eq!(restored.describe_group("g").state, "Empty");
        assert_eq!(restored.fetch_offsets("g", None).unwrap()[0].1.as_ref().unwrap().offset, 5);

        let deleted = restored.delete_groups(&["g".to_string()], 2_000_000);
        assert_eq!(deleted, vec![("g".to_string(), Ok(()))]);
        let tombstones = restored.take_records();
        let mut again = coordinator();
        for (k, v) in records.iter().chain(&tombstones) {
            again.replay(k, v.as_deref()).unwrap();
        }
        assert!(again.list_groups(&[]).is_empty());
        assert!(again.replay(&[0, 9], None).is_err());
    }
}
