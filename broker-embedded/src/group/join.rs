//! JoinGroup: members (re)join; once every known member has joined (or the rebalance timeout
//! passed) the generation advances, a protocol is chosen and each member learns the leader; the
//! leader also gets every member's metadata so it can compute the assignment.
//!
//! Version 4+ clients use the two-step join: a first join with an empty member id is answered
//! MEMBER_ID_REQUIRED with an assigned id, which the member must send back in a second join
//! (`require_known_member_id`). Older clients become members on their first join.

use bytes::Bytes;

use super::state::{Group, GroupState, Member};
use super::{CoordinatorConfig, GroupCoordinator, GroupError, Outbox, Reply, Ticket};

/// A JoinGroup request (all versions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JoinRequest {
    pub(crate) group_id: String,
    /// Empty for a member joining for the first time.
    pub(crate) member_id: String,
    pub(crate) group_instance_id: Option<String>,
    pub(crate) client_id: String,
    pub(crate) client_host: String,
    pub(crate) session_timeout_ms: i32,
    /// Version 0 has none: pass the session timeout.
    pub(crate) rebalance_timeout_ms: i32,
    pub(crate) protocol_type: String,
    /// Protocol names with their metadata, most preferred first.
    pub(crate) protocols: Vec<(String, Bytes)>,
    /// Version 4+: the two-step join.
    pub(crate) require_known_member_id: bool,
}

/// One member's metadata in the leader's JoinGroup response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JoinMember {
    pub(crate) member_id: String,
    pub(crate) group_instance_id: Option<String>,
    /// The member's metadata for the chosen protocol.
    pub(crate) metadata: Bytes,
}

/// A JoinGroup response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JoinResponse {
    pub(crate) error: Option<GroupError>,
    pub(crate) generation_id: i32,
    pub(crate) protocol_type: Option<String>,
    pub(crate) protocol_name: Option<String>,
    pub(crate) leader: String,
    /// The member's id (with MEMBER_ID_REQUIRED: the id to join with).
    pub(crate) member_id: String,
    /// Every member's metadata for the leader; empty for followers.
    pub(crate) members: Vec<JoinMember>,
}

impl JoinResponse {
    pub(crate) fn failed(error: GroupError, member_id: String) -> Self {
        Self {
            error: Some(error),
            generation_id: -1,
            protocol_type: None,
            protocol_name: None,
            leader: String::new(),
            member_id,
            members: Vec::new(),
        }
    }

    /// The current generation as `member_id` sees it.
    fn for_member(group: &Group, member_id: &str) -> Self {
        let leader = group.leader.clone().unwrap_or_default();
        let protocol = group.protocol.clone().unwrap_or_default();
        let members = if leader == member_id {
            group
                .members
                .iter()
                .map(|m| JoinMember {
                    member_id: m.id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    metadata: m.metadata(&protocol),
                })
                .collect()
        } else {
            Vec::new()
        };
        Self {
            error: None,
            generation_id: group.generation,
            protocol_type: group.protocol_type.clone(),
            protocol_name: group.protocol.clone(),
            leader,
            member_id: member_id.to_owned(),
            members,
        }
    }
}

impl GroupCoordinator {
    /// Handles a JoinGroup. The answer is usually pending until the rebalance completes.
    pub(crate) fn join(&mut self, req: JoinRequest, now_ms: u64) -> Reply<JoinResponse> {
        let member_id = req.member_id.clone();
        self.try_join(req, now_ms)
            .unwrap_or_else(|error| Reply::Ready(JoinResponse::failed(error, member_id)))
    }

    fn try_join(
        &mut self,
        req: JoinRequest,
        now_ms: u64,
    ) -> Result<Reply<JoinResponse>, GroupError> {
        if req.group_id.is_empty() {
            return Err(GroupError::InvalidGroupId);
        }
        let timeouts = self.config.min_session_timeout_ms..=self.config.max_session_timeout_ms;
        if !timeouts.contains(&req.session_timeout_ms) {
            return Err(GroupError::InvalidSessionTimeout);
        }
        // Checked before a new group is created, so a refused join leaves nothing behind.
        if req.protocol_type.is_empty() || req.protocols.is_empty() {
            return Err(GroupError::InconsistentGroupProtocol);
        }
        if !self.groups.contains_key(&req.group_id) && !req.member_id.is_empty() {
            return Err(GroupError::UnknownMemberId);
        }
        let ticket = self.ticket();
        let new_member_id =
            req.member_id.is_empty().then(|| self.member_ids.next(&req.client_id, now_ms));
        let group = self
            .groups
            .entry(req.group_id.clone())
            .or_insert_with(|| Group::new(req.group_id.clone(), now_ms));
        if !group.supports(&req.protocol_type, &req.protocols) {
            return Err(GroupError::InconsistentGroupProtocol);
        }
        let (out, config) = (&mut self.out, &self.config);
        if let Some(id) = new_member_id {
            if req.require_known_member_id {
                let expiry = now_ms + u64::try_from(req.session_timeout_ms).unwrap_or(0);
                group.pending_members.insert(id.clone(), expiry);
                return Ok(Reply::Ready(JoinResponse::failed(GroupError::MemberIdRequired, id)));
            }
            return add_member_and_rebalance(group, out, config, req, id, ticket, now_ms);
        }
        if group.pending_members.remove(&req.member_id).is_some() {
            let id = req.member_id.clone();
            return add_member_and_rebalance(group, out, config, req, id, ticket, now_ms);
        }
        let Some(member) = group.member(&req.member_id) else {
            return Err(GroupError::UnknownMemberId);
        };
        let unchanged = member.protocols == req.protocols;
        let is_leader = group.leader.as_deref() == Some(req.member_id.as_str());
        match group.state() {
            GroupState::PreparingRebalance => {}
            // A member that lost its JoinGroup answer gets it again if nothing changed; the
            // leader rejoining in Stable means it wants a new assignment.
            GroupState::CompletingRebalance if unchanged => return Ok(ready(group, &req, now_ms)),
            GroupState::Stable if unchanged && !is_leader => return Ok(ready(group, &req, now_ms)),
            GroupState::CompletingRebalance | GroupState::Stable => {}
            GroupState::Empty | GroupState::Dead => return Err(GroupError::UnknownMemberId),
        }
        update_member_and_rebalance(group, out, config, req, ticket, now_ms)
    }
}

/// Answers a known member with the current generation at once.
fn ready(group: &mut Group, req: &JoinRequest, now_ms: u64) -> Reply<JoinResponse> {
    if let Some(m) = group.member_mut(&req.member_id) {
        m.refresh_session(now_ms);
    }
    Reply::Ready(JoinResponse::for_member(group, &req.member_id))
}

fn add_member_and_rebalance(
    group: &mut Group,
    out: &mut Outbox,
    config: &CoordinatorConfig,
    req: JoinRequest,
    member_id: String,
    ticket: Ticket,
    now_ms: u64,
) -> Result<Reply<JoinResponse>, GroupError> {
    if group.members.is_empty() {
        group.protocol_type = Some(req.protocol_type);
    }
    if group.leader.is_none() {
        group.leader = Some(member_id.clone());
    }
    let mut member = Member {
        id: member_id,
        group_instance_id: req.group_instance_id,
        client_id: req.client_id,
        client_host: req.client_host,
        session_timeout_ms: req.session_timeout_ms,
        rebalance_timeout_ms: req.rebalance_timeout_ms,
        protocols: req.protocols,
        assignment: Bytes::new(),
        session_deadline: None,
        awaiting_join: Some(ticket),
        awaiting_sync: None,
    };
    member.refresh_session(now_ms);
    group.members.push(member);
    if group.state() == GroupState::PreparingRebalance {
        if group.join_not_before > now_ms {
            // Initial delay: each new member buys the group another delay, up to the deadline.
            group.join_not_before =
                (now_ms + config.initial_rebalance_delay_ms).min(group.rebalance_deadline);
        }
    } else {
        prepare_rebalance(group, out, config, now_ms)?;
    }
    try_complete_join(group, out, now_ms)?;
    Ok(Reply::Pending(ticket))
}

fn update_member_and_rebalance(
    group: &mut Group,
    out: &mut Outbox,
    config: &CoordinatorConfig,
    req: JoinRequest,
    ticket: Ticket,
    now_ms: u64,
) -> Result<Reply<JoinResponse>, GroupError> {
    let Some(member) = group.member_mut(&req.member_id) else {
        return Err(GroupError::UnknownMemberId);
    };
    member.protocols = req.protocols;
    member.session_timeout_ms = req.session_timeout_ms;
    member.rebalance_timeout_ms = req.rebalance_timeout_ms;
    member.client_id = req.client_id;
    member.client_host = req.client_host;
    member.refresh_session(now_ms);
    if let Some(old) = member.awaiting_join.replace(ticket) {
        out.join(old, JoinResponse::failed(GroupError::RebalanceInProgress, req.member_id));
    }
    if group.state() != GroupState::PreparingRebalance {
        prepare_rebalance(group, out, config, now_ms)?;
    }
    try_complete_join(group, out, now_ms)?;
    Ok(Reply::Pending(ticket))
}

/// Starts a rebalance: members must rejoin before the rebalance timeout (their largest). Pending
/// SyncGroups of an unfinished rebalance are answered REBALANCE_IN_PROGRESS.
pub(super) fn prepare_rebalance(
    group: &mut Group,
    out: &mut Outbox,
    config: &CoordinatorConfig,
    now_ms: u64,
) -> Result<(), GroupError> {
    let from = group.state();
    if from == GroupState::CompletingRebalance {
        for m in &mut group.members {
            m.assignment = Bytes::new();
            if let Some(ticket) = m.awaiting_sync.take() {
                out.sync(ticket, super::SyncResponse::failed(GroupError::RebalanceInProgress));
            }
        }
    }
    group.transition(GroupState::PreparingRebalance, now_ms)?;
    group.rebalance_deadline = now_ms + group.max_rebalance_timeout();
    group.join_not_before = if from == GroupState::Empty {
        (now_ms + config.initial_rebalance_delay_ms).min(group.rebalance_deadline)
    } else {
        now_ms
    };
    tracing::debug!(group = %group.id, ?from, "preparing rebalance");
    Ok(())
}

/// Completes the join phase if every member has rejoined, no two-step member id is outstanding
/// and the initial delay is over.
pub(super) fn try_complete_join(
    group: &mut Group,
    out: &mut Outbox,
    now_ms: u64,
) -> Result<(), GroupError> {
    if group.state() == GroupState::PreparingRebalance
        && now_ms >= group.join_not_before
        && group.pending_members.is_empty()
        && group.members.iter().all(|m| m.awaiting_join.is_some())
    {
        complete_join(group, out, now_ms)?;
    }
    Ok(())
}

/// Ends the join phase: members that did not rejoin are removed, the generation advances, and
/// every joined member gets its answer (the group becomes Empty if no one is left).
pub(super) fn complete_join(
    group: &mut Group,
    out: &mut Outbox,
    now_ms: u64,
) -> Result<(), GroupError> {
    group.members.retain(|m| m.awaiting_join.is_some());
    if group.leader.as_ref().is_none_or(|l| group.member(l).is_none()) {
        group.leader = group.members.first().map(|m| m.id.clone());
    }
    group.generation += 1;
    if group.members.is_empty() {
        group.protocol = None;
        group.transition(GroupState::Empty, now_ms)?;
        out.group_metadata(group);
        return Ok(());
    }
    let Some(protocol) = group.select_protocol() else {
        // Unreachable while `supports` guards every join; fail the joins rather than hang.
        tracing::error!(group = %group.id, "no protocol common to all members");
        for m in &mut group.members {
            if let Some(t) = m.awaiting_join.take() {
                out.join(
                    t,
                    JoinResponse::failed(GroupError::InconsistentGroupProtocol, m.id.clone()),
                );
            }
        }
        return Err(GroupError::InconsistentGroupProtocol);
    };
    group.protocol = Some(protocol);
    group.transition(GroupState::CompletingRebalance, now_ms)?;
    group.rebalance_deadline = now_ms + group.max_rebalance_timeout();
    let mut tickets = Vec::new();
    for m in &mut group.members {
        m.refresh_session(now_ms);
        if let Some(ticket) = m.awaiting_join.take() {
            tickets.push((ticket, m.id.clone()));
        }
    }
    for (ticket, id) in tickets {
        out.join(ticket, JoinResponse::for_member(group, &id));
    }
    tracing::debug!(group = %group.id, generation = group.generation, "join completed");
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::{coordinator, join_request, joined, stable_group};
    use super::*;
    use crate::group::CoordinatorConfig;

    #[test]
    fn two_step_join_requires_the_assigned_member_id() {
        let mut c = coordinator();
        let mut req = join_request("g", "");
        req.require_known_member_id = true;
        let Reply::Ready(first) = c.join(req.clone(), 0) else { panic!("answered at once") };
        assert_eq!(first.error, Some(GroupError::MemberIdRequired));
        assert!(first.member_id.starts_with("client-"));
        assert_eq!(c.describe_group("g").members.len(), 0);
        req.member_id = first.member_id.clone();
        let reply = c.join(req, 1);
        let second = joined(&mut c, &reply);
        assert_eq!(second.error, None);
        assert_eq!(
            (second.member_id.as_str(), second.leader.as_str()),
            (first.member_id.as_str(), first.member_id.as_str())
        );
        assert_eq!(second.generation_id, 1);
        assert_eq!(second.protocol_name.as_deref(), Some("range"));
        assert_eq!(second.members.len(), 1);
    }

    #[test]
    fn unclaimed_two_step_ids_expire_and_stop_blocking_the_rebalance() {
        let mut c = coordinator();
        let leader = stable_group(&mut c, "g", 0);
        let mut req = join_request("g", "");
        req.require_known_member_id = true;
        let Reply::Ready(pending) = c.join(req, 1) else { panic!() };
        assert_eq!(pending.error, Some(GroupError::MemberIdRequired));
        // The leader rejoins (a leader's rejoin always rebalances); the outstanding id blocks
        // completion until it expires.
        let reply = c.join(join_request("g", &leader), 2);
        assert!(c.take_completed().is_empty());
        c.tick(10_001);
        assert_eq!(joined(&mut c, &reply).generation_id, 2);
        let mut late = join_request("g", &pending.member_id);
        late.require_known_member_id = true;
        let Reply::Ready(r) = c.join(late, 10_002) else { panic!() };
        assert_eq!(r.error, Some(GroupError::UnknownMemberId));
    }

    #[test]
    fn leader_gets_all_members_followers_get_none() {
        let mut c = coordinator();
        let a = c.join(join_request("g", ""), 0);
        let a = joined(&mut c, &a);
        // b joins: rebalance; a must rejoin.
        let b = c.join(join_request("g", ""), 1);
        assert!(c.take_completed().is_empty());
        let a2 = c.join(join_request("g", &a.member_id), 2);
        let mut answers = c.take_completed();
        assert_eq!(answers.len(), 2);
        answers.sort_by_key(|(t, _)| *t);
        let (Reply::Pending(tb), Reply::Pending(ta)) = (b, a2) else { panic!() };
        let get = |t| match &answers.iter().find(|(x, _)| *x == t).unwrap().1 {
            super::super::Completed::Join(r) => r.clone(),
            other => panic!("{other:?}"),
        };
        let (ra, rb) = (get(ta), get(tb));
        assert_eq!((ra.generation_id, rb.generation_id), (2, 2));
        assert_eq!(ra.leader, a.member_id);
        assert_eq!(rb.leader, a.member_id);
        assert_eq!(ra.members.len(), 2);
        assert!(rb.members.is_empty());
        assert_eq!(ra.members[1].metadata, bytes::Bytes::from_static(b"meta"));
    }

    #[test]
    fn join_validation_errors() {
        let mut c = coordinator();
        let check = |c: &mut GroupCoordinator, req: JoinRequest, e: GroupError| {
            let Reply::Ready(r) = c.join(req, 0) else { panic!("ready") };
            assert_eq!(r.error, Some(e));
        };
        check(&mut c, join_request("", ""), GroupError::InvalidGroupId);
        let mut short = join_request("g", "");
        short.session_timeout_ms = 5_999;
        check(&mut c, short, GroupError::InvalidSessionTimeout);
        check(&mut c, join_request("g", "nobody"), GroupError::UnknownMemberId);
        let mut no_protocols = join_request("g", "");
        no_protocols.protocols.clear();
        check(&mut c, no_protocols, GroupError::InconsistentGroupProtocol);
        assert!(c.list_groups(&[]).is_empty(), "refused joins create no group");
        let first = c.join(join_request("g", ""), 0);
        joined(&mut c, &first);
        let mut other = join_request("g", "");
        other.protocols = vec![("roundrobin".into(), Bytes::new())];
        check(&mut c, other, GroupError::InconsistentGroupProtocol);
        let mut other_type = join_request("g", "");
        other_type.protocol_type = "connect".into();
        check(&mut c, other_type, GroupError::InconsistentGroupProtocol);
        check(&mut c, join_request("g", "nobody"), GroupError::UnknownMemberId);
    }

    #[test]
    fn follower_rejoining_unchanged_in_stable_gets_the_current_generation() {
        let mut c = coordinator();
        let a = c.join(join_request("g", ""), 0);
        let a = joined(&mut c, &a);
        let b = c.join(join_request("g", ""), 1);
        let a2 = c.join(join_request("g", &a.member_id), 1);
        let b = joined(&mut c, &b);
        joined(&mut c, &a2);
        assert_eq!(c.describe_group("g").state, "CompletingRebalance");
        // Lost answer, same metadata: answered at once, no rebalance.
        let Reply::Ready(again) = c.join(join_request("g", &b.member_id), 2) else { panic!() };
        assert_eq!(again.generation_id, b.generation_id);
        // Changed metadata: a new rebalance.
        let mut changed = join_request("g", &b.member_id);
        changed.protocols = vec![("range".into(), Bytes::from_static(b"other"))];
        assert!(matches!(c.join(changed, 3), Reply::Pending(_)));
        assert_eq!(c.describe_group("g").state, "PreparingRebalance");
    }

    #[test]
    fn rebalance_timeout_drops_members_that_did_not_rejoin() {
        let mut c = coordinator();
        let a = c.join(join_request("g", ""), 0);
        let a = joined(&mut c, &a);
        let b = c.join(join_request("g", ""), 0);
        let a2 = c.join(join_request("g", &a.member_id), 0);
        let b = joined(&mut c, &b);
        joined(&mut c, &a2);
        // New member: rebalance; a and b stay alive (heartbeats) but never rejoin.
        let late = c.join(join_request("g", ""), 1_000);
        for now in [9_000, 18_000, 27_000] {
            for m in [&a.member_id, &b.member_id] {
                assert_eq!(c.heartbeat("g", m, 2, now), Err(GroupError::RebalanceInProgress));
            }
            c.tick(now);
        }
        c.tick(30_999);
        assert!(c.take_completed().is_empty());
        c.tick(31_000);
        let r = joined(&mut c, &late);
        assert_eq!((r.generation_id, r.members.len()), (3, 1));
        assert_eq!(r.leader, r.member_id);
    }

    #[test]
    fn initial_delay_waits_for_more_members() {
        let mut c = GroupCoordinator::new(CoordinatorConfig::default());
        let a = c.join(join_request("g", ""), 0);
        let b = c.join(join_request("g", ""), 2_000);
        c.tick(4_999);
        assert!(c.take_completed().is_empty());
        c.tick(5_000);
        let (ra, rb) = (joined(&mut c, &a), joined(&mut c, &b));
        assert_eq!((ra.generation_id, rb.generation_id), (1, 1));
    }
}
