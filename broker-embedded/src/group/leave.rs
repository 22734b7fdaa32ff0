//! LeaveGroup: members leave on purpose (and, through the same path, when their session
//! expires); the group rebalances without them.

use super::join::{JoinResponse, prepare_rebalance, try_complete_join};
use super::state::{Group, GroupState};
use super::{CoordinatorConfig, GroupCoordinator, GroupError, IdResults, Outbox, SyncResponse};

impl GroupCoordinator {
    /// Removes members (one for versions 0-2, several for 3+). Each member gets its own result;
    /// unknown members get UNKNOWN_MEMBER_ID, as Kafka answers for a group it does not know.
    pub(crate) fn leave(
        &mut self,
        group_id: &str,
        member_ids: &[String],
        now_ms: u64,
    ) -> Result<IdResults, GroupError> {
        if group_id.is_empty() {
            return Err(GroupError::InvalidGroupId);
        }
        let Some(group) = self.groups.get_mut(group_id) else {
            return Ok(member_ids
                .iter()
                .map(|m| (m.clone(), Err(GroupError::UnknownMemberId)))
                .collect());
        };
        let mut results = Vec::with_capacity(member_ids.len());
        for id in member_ids {
            let result = if group.pending_members.remove(id).is_some() {
                // A two-step member that never joined: forgetting it may unblock the rebalance.
                try_complete_join(group, &mut self.out, now_ms)
            } else if group.member(id).is_some() {
                tracing::info!(group = %group_id, member = %id, "member left");
                remove_member_and_update(group, id, &mut self.out, &self.config, now_ms)
            } else {
                Err(GroupError::UnknownMemberId)
            };
            results.push((id.clone(), result));
        }
        Ok(results)
    }
}

/// Removes a member and rebalances the rest (a stable or completing group starts a rebalance;
/// a preparing one may now be able to complete). Its pending calls answer UNKNOWN_MEMBER_ID.
pub(super) fn remove_member_and_update(
    group: &mut Group,
    member_id: &str,
    out: &mut Outbox,
    config: &CoordinatorConfig,
    now_ms: u64,
) -> Result<(), GroupError> {
    let Some(member) = group.remove_member(member_id) else {
        return Ok(());
    };
    if let Some(ticket) = member.awaiting_join {
        out.join(ticket, JoinResponse::failed(GroupError::UnknownMemberId, member.id.clone()));
    }
    if let Some(ticket) = member.awaiting_sync {
        out.sync(ticket, SyncResponse::failed(GroupError::UnknownMemberId));
    }
    match group.state() {
        GroupState::Stable | GroupState::CompletingRebalance => {
            prepare_rebalance(group, out, config, now_ms)?;
            try_complete_join(group, out, now_ms)
        }
        GroupState::PreparingRebalance => try_complete_join(group, out, now_ms),
        GroupState::Empty | GroupState::Dead => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::Reply;
    use super::super::tests::{coordinator, join_request, joined, stable_group};
    use super::*;

    #[test]
    fn leaving_rebalances_the_rest_and_the_last_leaving_empties_the_group() {
        let mut c = coordinator();
        let a = stable_group(&mut c, "g", 0);
        let b = c.join(join_request("g", ""), 1);
        let a2 = c.join(join_request("g", &a), 1);
        let (b, _) = (joined(&mut c, &b), joined(&mut c, &a2));
        assert_eq!(c.leave("g", std::slice::from_ref(&a), 2).unwrap(), vec![(a.clone(), Ok(()))]);
        let d = c.describe_group("g");
        assert_eq!((d.state.as_str(), d.members.len()), ("PreparingRebalance", 1));
        // b learns of it through its heartbeat and rejoins; b now leads.
        assert_eq!(c.heartbeat("g", &b.member_id, 2, 3), Err(GroupError::RebalanceInProgress));
        let b2 = c.join(join_request("g", &b.member_id), 4);
        let b2 = joined(&mut c, &b2);
        assert_eq!((b2.generation_id, b2.leader.as_str()), (3, b.member_id.as_str()));
        assert_eq!(c.leave("g", std::slice::from_ref(&b.member_id), 5).unwrap()[0].1, Ok(()));
        assert_eq!(c.describe_group("g").state, "Empty");
    }

    #[test]
    fn leave_while_waiting_in_join_answers_that_join() {
        let mut c = coordinator();
        let a = stable_group(&mut c, "g", 0);
        let newcomer = c.join(join_request("g", ""), 1);
        let Reply::Pending(_) = newcomer else { panic!() };
        // The newcomer's id is only known through the group; find it.
        let id = c
            .describe_group("g")
            .members
            .iter()
            .map(|m| m.member_id.clone())
            .find(|m| *m != a)
            .unwrap();
        c.leave("g", &[id], 2).unwrap();
        assert_eq!(joined(&mut c, &newcomer).error, Some(GroupError::UnknownMemberId));
    }

    #[test]
    fn leave_errors() {
        let mut c = coordinator();
        stable_group(&mut c, "g", 0);
        assert_eq!(c.leave("", &[], 0), Err(GroupError::InvalidGroupId));
        assert_eq!(
            c.leave("nope", &["m".into()], 0).unwrap(),
            vec![("m".to_string(), Err(GroupError::UnknownMemberId))]
        );
        assert_eq!(c.leave("g", &["m".into()], 0).unwrap()[0].1, Err(GroupError::UnknownMemberId));
        let mut req = join_request("g", "");
        req.require_known_member_id = true;
        let Reply::Ready(r) = c.join(req, 1) else { panic!() };
        assert_eq!(c.leave("g", &[r.member_id], 2).unwrap()[0].1, Ok(()));
    }
}
