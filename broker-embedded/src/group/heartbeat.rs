//! Heartbeat: keeps a member's session alive and tells it when to rejoin.

use super::state::GroupState;
use super::{GroupCoordinator, GroupError};

impl GroupCoordinator {
    /// Refreshes the member's session. Answers REBALANCE_IN_PROGRESS while the group waits for
    /// members to rejoin, so a member learns of a rebalance from its next heartbeat.
    pub(crate) fn heartbeat(
        &mut self,
        group_id: &str,
        member_id: &str,
        generation_id: i32,
        now_ms: u64,
    ) -> Result<(), GroupError> {
        if group_id.is_empty() {
            return Err(GroupError::InvalidGroupId);
        }
        let group = self.groups.get_mut(group_id).ok_or(GroupError::UnknownMemberId)?;
        let state = group.state();
        let generation = group.generation;
        if matches!(state, GroupState::Empty | GroupState::Dead) {
            return Err(GroupError::UnknownMemberId);
        }
        let member = group.member_mut(member_id).ok_or(GroupError::UnknownMemberId)?;
        if generation_id != generation {
            return Err(GroupError::IllegalGeneration);
        }
        member.refresh_session(now_ms);
        if state == GroupState::PreparingRebalance {
            return Err(GroupError::RebalanceInProgress);
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::{coordinator, join_request, stable_group};
    use super::*;

    #[test]
    fn heartbeats_keep_the_session_and_signal_rebalances() {
        let mut c = coordinator();
        let m = stable_group(&mut c, "g", 0);
        for now in (5_000..50_000).step_by(5_000) {
            assert_eq!(c.heartbeat("g", &m, 1, now), Ok(()));
            c.tick(now);
        }
        assert_eq!(c.describe_group("g").state, "Stable");
        let _newcomer = c.join(join_request("g", ""), 50_000);
        assert_eq!(c.heartbeat("g", &m, 1, 50_001), Err(GroupError::RebalanceInProgress));
    }

    #[test]
    fn heartbeat_errors() {
        let mut c = coordinator();
        let m = stable_group(&mut c, "g", 0);
        assert_eq!(c.heartbeat("", &m, 1, 1), Err(GroupError::InvalidGroupId));
        assert_eq!(c.heartbeat("h", &m, 1, 1), Err(GroupError::UnknownMemberId));
        assert_eq!(c.heartbeat("g", "x", 1, 1), Err(GroupError::UnknownMemberId));
        assert_eq!(c.heartbeat("g", &m, 0, 1), Err(GroupError::IllegalGeneration));
        c.leave("g", std::slice::from_ref(&m), 2).unwrap();
        assert_eq!(c.heartbeat("g", &m, 2, 3), Err(GroupError::UnknownMemberId));
    }
}
