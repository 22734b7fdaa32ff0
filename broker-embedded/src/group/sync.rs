//! SyncGroup: after a join completes, the leader sends every member's assignment and followers
//! wait for it. The leader's SyncGroup makes the group Stable, records its metadata in
//! `__consumer_offsets`, and answers every waiting member.

use bytes::Bytes;

use super::state::GroupState;
use super::{GroupCoordinator, GroupError, Reply};

/// A SyncGroup request (all versions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyncRequest {
    pub(crate) group_id: String,
    pub(crate) member_id: String,
    pub(crate) generation_id: i32,
    pub(crate) group_instance_id: Option<String>,
    /// Version 5+: checked against the group's when given.
    pub(crate) protocol_type: Option<String>,
    /// Version 5+: checked against the group's when given.
    pub(crate) protocol_name: Option<String>,
    /// The leader's assignment per member id; empty from followers.
    pub(crate) assignments: Vec<(String, Bytes)>,
}

/// A SyncGroup response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyncResponse {
    pub(crate) error: Option<GroupError>,
    pub(crate) protocol_type: Option<String>,
    pub(crate) protocol_name: Option<String>,
    /// The member's assignment (consumer-protocol bytes, returned exactly as the leader sent them).
    pub(crate) assignment: Bytes,
}

impl SyncResponse {
    pub(crate) fn failed(error: GroupError) -> Self {
        Self {
            error: Some(error),
            protocol_type: None,
            protocol_name: None,
            assignment: Bytes::new(),
        }
    }
}

impl GroupCoordinator {
    /// Handles a SyncGroup; followers wait (pending) until the leader's arrives.
    pub(crate) fn sync(&mut self, req: SyncRequest, now_ms: u64) -> Reply<SyncResponse> {
        self.try_sync(req, now_ms).unwrap_or_else(|e| Reply::Ready(SyncResponse::failed(e)))
    }

    fn try_sync(
        &mut self,
        req: SyncRequest,
        now_ms: u64,
    ) -> Result<Reply<SyncResponse>, GroupError> {
        if req.group_id.is_empty() {
            return Err(GroupError::InvalidGroupId);
        }
        let ticket = self.ticket();
        let group = self.groups.get_mut(&req.group_id).ok_or(GroupError::UnknownMemberId)?;
        if group.member(&req.member_id).is_none() {
            return Err(GroupError::UnknownMemberId);
        }
        if req.generation_id != group.generation {
            return Err(GroupError::IllegalGeneration);
        }
        let mismatch =
            |given: &Option<String>, actual: &Option<String>| given.is_some() && given != actual;
        if mismatch(&req.protocol_type, &group.protocol_type)
            || mismatch(&req.protocol_name, &group.protocol)
        {
            return Err(GroupError::InconsistentGroupProtocol);
        }
        let (protocol_type, protocol_name) = (group.protocol_type.clone(), group.protocol.clone());
        let answer = move |assignment: Bytes| SyncResponse {
            error: None,
            protocol_type: protocol_type.clone(),
            protocol_name: protocol_name.clone(),
            assignment,
        };
        match group.state() {
            GroupState::Empty | GroupState::Dead => Err(GroupError::UnknownMemberId),
            GroupState::PreparingRebalance => Err(GroupError::RebalanceInProgress),
            GroupState::Stable => {
                let member = group.member_mut(&req.member_id).ok_or(GroupError::UnknownMemberId)?;
                member.refresh_session(now_ms);
                let assignment = member.assignment.clone();
                Ok(Reply::Ready(answer(assignment)))
            }
            GroupState::CompletingRebalance => {
                let member = group.member_mut(&req.member_id).ok_or(GroupError::UnknownMemberId)?;
                member.refresh_session(now_ms);
                if let Some(old) = member.awaiting_sync.replace(ticket) {
                    self.out.sync(old, SyncResponse::failed(GroupError::RebalanceInProgress));
                }
                if group.leader.as_deref() == Some(req.member_id.as_str()) {
                    for m in &mut group.members {
                        m.assignment = req
                            .assignments
                            .iter()
                            .find(|(id, _)| *id == m.id)
                            .map(|(_, a)| a.clone())
                            .unwrap_or_default();
                    }
                    group.transition(GroupState::Stable, now_ms)?;
                    self.out.group_metadata(group);
                    let waiting: Vec<_> = group
                        .members
                        .iter_mut()
                        .filter_map(|m| Some((m.awaiting_sync.take()?, m.assignment.clone())))
                        .collect();
                    for (ticket, assignment) in waiting {
                        self.out.sync(ticket, answer(assignment));
                    }
                    tracing::debug!(group = %group.id, generation = group.generation, "group stable");
                }
                Ok(Reply::Pending(ticket))
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::{coordinator, join_request, joined, synced};
    use super::*;
    use crate::group::JoinResponse;

    fn sync_request(j: &JoinResponse, assignments: Vec<(String, Bytes)>) -> SyncRequest {
        SyncRequest {
            group_id: "g".into(),
            member_id: j.member_id.clone(),
            generation_id: j.generation_id,
            group_instance_id: None,
            protocol_type: Some("consumer".into()),
            protocol_name: Some("range".into()),
            assignments,
        }
    }

    /// Two members, join completed (CompletingRebalance); returns (leader, follower).
    fn two_members(c: &mut GroupCoordinator) -> (JoinResponse, JoinResponse) {
        let a = c.join(join_request("g", ""), 0);
        let a = joined(c, &a);
        let b = c.join(join_request("g", ""), 0);
        let a2 = c.join(join_request("g", &a.member_id), 0);
        (joined(c, &a2), joined(c, &b))
    }

    #[test]
    fn follower_waits_for_the_leader_and_gets_its_bytes_exactly() {
        let mut c = coordinator();
        let (leader, follower) = two_members(&mut c);
        let f = c.sync(sync_request(&follower, vec![]), 1);
        assert!(matches!(f, Reply::Pending(_)));
        assert!(c.take_records().is_empty());
        let assignments = vec![
            (leader.member_id.clone(), Bytes::from_static(b"L")),
            (follower.member_id.clone(), Bytes::from_static(b"\x00F\xff")),
        ];
        let l = c.sync(sync_request(&leader, assignments), 2);
        assert_eq!(synced(&mut c, &l).assignment, Bytes::from_static(b"L"));
        let f = synced(&mut c, &f);
        assert_eq!((f.error, f.assignment), (None, Bytes::from_static(b"\x00F\xff")));
        assert_eq!(f.protocol_name.as_deref(), Some("range"));
        assert_eq!(c.describe_group("g").state, "Stable");
        assert_eq!(c.take_records().len(), 1, "group metadata recorded");
        // Stable: a late sync is answered at once.
        let again = c.sync(sync_request(&follower, vec![]), 3);
        assert_eq!(synced(&mut c, &again).assignment, Bytes::from_static(b"\x00F\xff"));
    }

    #[test]
    fn sync_errors() {
        let mut c = coordinator();
        let (leader, follower) = two_members(&mut c);
        let ready_error = |c: &mut GroupCoordinator, req| match c.sync(req, 1) {
            Reply::Ready(r) => r.error,
            Reply::Pending(_) => panic!("should be answered at once"),
        };
        let mut stale = sync_request(&follower, vec![]);
        stale.generation_id -= 1;
        assert_eq!(ready_error(&mut c, stale), Some(GroupError::IllegalGeneration));
        let mut unknown = sync_request(&follower, vec![]);
        unknown.member_id = "x".into();
        assert_eq!(ready_error(&mut c, unknown), Some(GroupError::UnknownMemberId));
        let mut wrong = sync_request(&follower, vec![]);
        wrong.protocol_name = Some("roundrobin".into());
        assert_eq!(ready_error(&mut c, wrong), Some(GroupError::InconsistentGroupProtocol));
        let mut no_group = sync_request(&follower, vec![]);
        no_group.group_id = "h".into();
        assert_eq!(ready_error(&mut c, no_group), Some(GroupError::UnknownMemberId));
        let mut empty_id = sync_request(&follower, vec![]);
        empty_id.group_id = String::new();
        assert_eq!(ready_error(&mut c, empty_id), Some(GroupError::InvalidGroupId));

        // Follower waiting; a new member joins: the pending sync gets REBALANCE_IN_PROGRESS,
        // and syncs during PreparingRebalance are refused.
        let f = c.sync(sync_request(&follower, vec![]), 1);
        let _newcomer = c.join(join_request("g", ""), 2);
        assert_eq!(synced(&mut c, &f).error, Some(GroupError::RebalanceInProgress));
        assert_eq!(
            ready_error(&mut c, sync_request(&leader, vec![])),
            Some(GroupError::RebalanceInProgress)
        );
    }

    #[test]
    fn members_that_do_not_sync_in_time_are_removed() {
        let mut c = coordinator();
        let (leader, follower) = two_members(&mut c);
        let f = c.sync(sync_request(&follower, vec![]), 1);
        // The leader is alive (heartbeats are accepted while completing) but never syncs.
        assert_eq!(c.heartbeat("g", &leader.member_id, leader.generation_id, 25_000), Ok(()));
        c.tick(29_999);
        assert!(c.take_completed().is_empty());
        c.tick(30_000);
        // The leader never synced: removed; the follower's sync fails and it must rejoin.
        assert_eq!(synced(&mut c, &f).error, Some(GroupError::RebalanceInProgress));
        let d = c.describe_group("g");
        assert_eq!((d.state.as_str(), d.members.len()), ("PreparingRebalance", 1));
        assert_eq!(d.members[0].member_id, follower.member_id);
    }
}
