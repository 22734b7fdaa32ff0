//! A group and its lifecycle: `Empty → PreparingRebalance → CompletingRebalance → Stable`, back to
//! `PreparingRebalance` whenever membership or subscriptions change, and `Dead` once deleted.
//! [`Group::transition`] is the only way to change state and rejects every move Kafka's
//! coordinator does not make.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::consumer_protocol::TopicPartition;
use super::offsets_topic::{CommittedOffset, GroupMetadataValue, MemberMetadata};
use super::{GroupError, Ticket};

/// Where a group is in its rebalance cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum GroupState {
    /// No members; may still hold committed offsets.
    Empty,
    /// Waiting for every member to (re)join.
    PreparingRebalance,
    /// Joined; waiting for the leader's assignment.
    CompletingRebalance,
    /// Assignment distributed; members heartbeat.
    Stable,
    /// Deleted.
    Dead,
}

impl GroupState {
    /// Kafka's name for the state, as DescribeGroups and ListGroups report it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Empty => "Empty",
            Self::PreparingRebalance => "PreparingRebalance",
            Self::CompletingRebalance => "CompletingRebalance",
            Self::Stable => "Stable",
            Self::Dead => "Dead",
        }
    }

    /// Whether the coordinator may move a group from `self` to `next`.
    pub(crate) fn can_become(self, next: Self) -> bool {
        use GroupState::*;
        match next {
            PreparingRebalance => matches!(self, Empty | CompletingRebalance | Stable),
            CompletingRebalance => self == PreparingRebalance,
            Stable => self == CompletingRebalance,
            Empty => self == PreparingRebalance,
            Dead => true,
        }
    }
}

/// A state change the lifecycle forbids: a coordinator bug, reported as UNKNOWN_SERVER_ERROR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("illegal group state transition {from:?} -> {to:?}")]
pub(crate) struct IllegalTransition {
    pub(crate) from: GroupState,
    pub(crate) to: GroupState,
}

impl From<IllegalTransition> for GroupError {
    fn from(e: IllegalTransition) -> Self {
        tracing::error!(error = %e, "group coordinator bug");
        GroupError::UnknownServerError
    }
}

/// One member as the coordinator sees it.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub(crate) id: String,
    pub(crate) group_instance_id: Option<String>,
    pub(crate) client_id: String,
    pub(crate) client_host: String,
    pub(crate) session_timeout_ms: i32,
    pub(crate) rebalance_timeout_ms: i32,
    /// Supported protocols with their metadata, in the member's order of preference.
    pub(crate) protocols: Vec<(String, Bytes)>,
    /// Assignment of the current generation (empty until the leader syncs).
    pub(crate) assignment: Bytes,
    /// When the session expires; `None` for members loaded from the log until the first tick.
    pub(crate) session_deadline: Option<u64>,
    /// JoinGroup waiting for the rebalance to complete.
    pub(crate) awaiting_join: Option<Ticket>,
    /// SyncGroup waiting for the leader's assignment.
    pub(crate) awaiting_sync: Option<Ticket>,
}

impl Member {
    pub(crate) fn metadata(&self, protocol: &str) -> Bytes {
        self.protocols
            .iter()
            .find(|(p, _)| p == protocol)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    }

    pub(crate) fn refresh_session(&mut self, now_ms: u64) {
        self.session_deadline = Some(now_ms + u64::try_from(self.session_timeout_ms).unwrap_or(0));
    }
}

/// A consumer group: members, generation, and committed offsets.
#[derive(Debug)]
pub(crate) struct Group {
    pub(crate) id: String,
    state: GroupState,
    /// When `state` was entered (ms since the epoch).
    pub(crate) state_timestamp: u64,
    pub(crate) protocol_type: Option<String>,
    pub(crate) protocol: Option<String>,
    pub(crate) generation: i32,
    pub(crate) leader: Option<String>,
    /// Members in join order; the first becomes leader when there is none.
    pub(crate) members: Vec<Member>,
    /// Member ids handed out by a two-step join (MEMBER_ID_REQUIRED), with their expiry.
    pub(crate) pending_members: BTreeMap<String, u64>,
    /// PreparingRebalance: when joins complete regardless; CompletingRebalance: when members that
    /// have not sent SyncGroup are removed.
    pub(crate) rebalance_deadline: u64,
    /// PreparingRebalance from Empty: joins do not complete before this (initial rebalance delay).
    pub(crate) join_not_before: u64,
    pub(crate) offsets: BTreeMap<TopicPartition, CommittedOffset>,
}

impl Group {
    pub(crate) fn new(id: String, now_ms: u64) -> Self {
        Self {
            id,
            state: GroupState::Empty,
            state_timestamp: now_ms,
            protocol_type: None,
            protocol: None,
            generation: 0,
            leader: None,
            members: Vec::new(),
            pending_members: BTreeMap::new(),
            rebalance_deadline: 0,
            join_not_before: 0,
            offsets: BTreeMap::new(),
        }
    }

    pub(crate) fn state(&self) -> GroupState {
        self.state
    }

    /// Moves to `to` if the lifecycle allows it.
    pub(crate) fn transition(
        &mut self,
        to: GroupState,
        now_ms: u64,
    ) -> Result<(), IllegalTransition> {
        if !self.state.can_become(to) {
            return Err(IllegalTransition { from: self.state, to });
        }
        self.state = to;
        self.state_timestamp = now_ms;
        Ok(())
    }

    pub(crate) fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }

    pub(crate) fn member_mut(&mut self, id: &str) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| m.id == id)
    }

    /// Removes a member; if it led the group, the first remaining member leads.
    pub(crate) fn remove_member(&mut self, id: &str) -> Option<Member> {
        let index = self.members.iter().position(|m| m.id == id)?;
        let member = self.members.remove(index);
        if self.leader.as_deref() == Some(id) {
            self.leader = self.members.first().map(|m| m.id.clone());
        }
        Some(member)
    }

    /// Protocols every member supports, in the leader's (or first member's) order of preference.
    pub(crate) fn common_protocols(&self) -> Vec<String> {
        let first = self.leader.as_deref().and_then(|l| self.member(l)).or(self.members.first());
        let Some(first) = first else {
            return Vec::new();
        };
        first
            .protocols
            .iter()
            .map(|(name, _)| name.clone())
            .filter(|name| self.members.iter().all(|m| m.protocols.iter().any(|(p, _)| p == name)))
            .collect()
    }

    /// Whether a member with `protocol_type` and `protocols` may join (Kafka's check): an empty
    /// group takes any non-empty choice; otherwise the type must match and one of the protocols
    /// must be supported by every current member.
    pub(crate) fn supports(&self, protocol_type: &str, protocols: &[(String, Bytes)]) -> bool {
        if protocol_type.is_empty() || protocols.is_empty() {
            return false;
        }
        if self.members.is_empty() {
            return true;
        }
        self.protocol_type.as_deref() == Some(protocol_type)
            && self.common_protocols().iter().any(|c| protocols.iter().any(|(p, _)| p == c))
    }

    /// Kafka's protocol choice: each member votes for its most preferred protocol among those
    /// all members support; the most votes wins, ties going to the leader's preference.
    pub(crate) fn select_protocol(&self) -> Option<String> {
        let candidates = self.common_protocols();
        let mut votes = vec![0usize; candidates.len()];
        for m in &self.members {
            if let Some(i) =
                m.protocols.iter().find_map(|(p, _)| candidates.iter().position(|c| c == p))
            {
                votes[i] += 1;
            }
        }
        // max_by_key returns the last maximum; iterate in reverse so the earliest wins ties.
        (0..candidates.len()).rev().max_by_key(|&i| votes[i]).map(|i| candidates[i].clone())
    }

    /// Largest rebalance timeout among members (how long a rebalance may wait for them).
    pub(crate) fn max_rebalance_timeout(&self) -> u64 {
        self.members
            .iter()
            .map(|m| u64::try_from(m.rebalance_timeout_ms).unwrap_or(0))
            .max()
            .unwrap_or(0)
    }

    /// The group as a `__consumer_offsets` group-metadata value.
    pub(crate) fn metadata_value(&self) -> GroupMetadataValue {
        let protocol = self.protocol.clone();
        GroupMetadataValue {
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            generation: self.generation,
            leader: self.leader.clone(),
            current_state_timestamp: i64::try_from(self.state_timestamp).unwrap_or(i64::MAX),
            members: self
                .members
                .iter()
                .map(|m| MemberMetadata {
                    member_id: m.id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    rebalance_timeout_ms: m.rebalance_timeout_ms,
                    session_timeout_ms: m.session_timeout_ms,
                    subscription: protocol.as_deref().map(|p| m.metadata(p)).unwrap_or_default(),
                    assignment: m.assignment.clone(),
                })
                .collect(),
            protocol,
        }
    }

    /// Rebuilds a group from its last metadata record: `Stable` with its members if it had any,
    /// else `Empty`. Members' sessions start at the coordinator's next tick.
    pub(crate) fn from_metadata(id: String, value: GroupMetadataValue) -> Self {
        let mut group = Self::new(id, u64::try_from(value.current_state_timestamp).unwrap_or(0));
        group.protocol_type = Some(value.protocol_type).filter(|t| !t.is_empty());
        group.generation = value.generation;
        group.protocol = value.protocol;
        group.leader = value.leader;
        let protocol = group.protocol.clone().unwrap_or_default();
        group.members = value
            .members
            .into_iter()
            .map(|m| Member {
                id: m.member_id,
                group_instance_id: m.group_instance_id,
                client_id: m.client_id,
                client_host: m.client_host,
                session_timeout_ms: m.session_timeout_ms,
                rebalance_timeout_ms: m.rebalance_timeout_ms,
                protocols: vec![(protocol.clone(), m.subscription)],
                assignment: m.assignment,
                session_deadline: None,
                awaiting_join: None,
                awaiting_sync: None,
            })
            .collect();
        if !group.members.is_empty() {
            group.state = GroupState::Stable;
        }
        group
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use GroupState::*;

    const ALL: [GroupState; 5] = [Empty, PreparingRebalance, CompletingRebalance, Stable, Dead];

    #[test]
    fn transition_table_matches_kafka() {
        let allowed = [
            (Empty, PreparingRebalance),
            (Empty, Dead),
            (PreparingRebalance, CompletingRebalance),
            (PreparingRebalance, Empty),
            (PreparingRebalance, Dead),
            (CompletingRebalance, Stable),
            (CompletingRebalance, PreparingRebalance),
            (CompletingRebalance, Dead),
            (Stable, PreparingRebalance),
            (Stable, Dead),
            (Dead, Dead),
        ];
        for from in ALL {
            for to in ALL {
                assert_eq!(
                    from.can_become(to),
                    allowed.contains(&(from, to)),
                    "{from:?} -> {to:?}"
                );
            }
        }
    }

    #[test]
    fn transition_rejects_illegal_moves_and_keeps_the_state() {
        let mut g = Group::new("g".into(), 0);
        assert_eq!(g.transition(Stable, 5), Err(IllegalTransition { from: Empty, to: Stable }));
        assert_eq!(g.state(), Empty);
        assert_eq!(GroupError::from(IllegalTransition { from: Empty, to: Stable }).code(), -1);
        g.transition(PreparingRebalance, 7).unwrap();
        assert_eq!((g.state(), g.state_timestamp), (PreparingRebalance, 7));
        g.transition(CompletingRebalance, 8).unwrap();
        g.transition(Stable, 9).unwrap();
        g.transition(PreparingRebalance, 10).unwrap();
        g.transition(Empty, 11).unwrap();
        g.transition(Dead, 12).unwrap();
        assert!(g.transition(PreparingRebalance, 13).is_err());
        assert_eq!(ALL.map(GroupState::name)[1], "PreparingRebalance");
    }

    fn member(id: &str, protocols: &[&str]) -> Member {
        Member {
            id: id.into(),
            group_instance_id: None,
            client_id: "c".into(),
            client_host: "h".into(),
            session_timeout_ms: 10,
            rebalance_timeout_ms: 20,
            protocols: protocols
                .iter()
                .map(|p| (p.to_string(), Bytes::from(p.to_string())))
                .collect(),
            assignment: Bytes::new(),
            session_deadline: None,
            awaiting_join: None,
            awaiting_sync: None,
        }
    }

    #[test]
    fn protocol_selection_votes_with_leader_tiebreak() {
        let mut g = Group::new("g".into(), 0);
        g.members = vec![member("a", &["x", "y"]), member("b", &["y", "x"])];
        g.leader = Some("a".into());
        assert_eq!(g.select_protocol().as_deref(), Some("x"));
        g.members.push(member("c", &["y", "z", "x"]));
        assert_eq!(g.select_protocol().as_deref(), Some("y"));
        // The group has no protocol type yet, so nothing matches it.
        assert!(!g.supports("consumer", &[("x".into(), Bytes::new())]));
        g.protocol_type = Some("consumer".into());
        assert!(g.supports("consumer", &[("z".into(), Bytes::new()), ("x".into(), Bytes::new())]));
        assert!(!g.supports("connect", &[("x".into(), Bytes::new())]));
        assert!(!g.supports("consumer", &[("z".into(), Bytes::new())]));
    }

    #[test]
    fn removing_the_leader_promotes_the_first_remaining_member() {
        let mut g = Group::new("g".into(), 0);
        g.members = vec![member("a", &["x"]), member("b", &["x"]), member("c", &["x"])];
        g.leader = Some("b".into());
        g.remove_member("b").unwrap();
        assert_eq!(g.leader.as_deref(), Some("a"));
        assert!(g.remove_member("b").is_none());
    }

    #[test]
    fn metadata_round_trip_restores_a_stable_group() {
        let mut g = Group::new("g".into(), 0);
        g.members = vec![member("a", &["x", "y"])];
        g.members[0].assignment = Bytes::from_static(b"asg");
        g.leader = Some("a".into());
        g.protocol_type = Some("consumer".into());
        g.protocol = Some("y".into());
        g.generation = 4;
        let value = g.metadata_value();
        assert_eq!(value.members[0].subscription, Bytes::from_static(b"y"));
        let restored = Group::from_metadata("g".into(), value.clone());
        assert_eq!(restored.state(), Stable);
        assert_eq!(restored.metadata_value(), value);
    }
}
