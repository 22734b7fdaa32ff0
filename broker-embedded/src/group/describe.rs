//! DescribeGroups, ListGroups and DeleteGroups.

use bytes::Bytes;

use super::offsets_topic::{group_metadata_record, offset_commit_record};
use super::state::GroupState;
use super::{GroupCoordinator, GroupError, IdResults};

/// One member as DescribeGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MemberDescription {
    pub(crate) member_id: String,
    pub(crate) group_instance_id: Option<String>,
    pub(crate) client_id: String,
    pub(crate) client_host: String,
    /// Metadata for the group's protocol; empty unless the group is Stable.
    pub(crate) metadata: Bytes,
    /// Current assignment; empty unless the group is Stable.
    pub(crate) assignment: Bytes,
}

/// A group as DescribeGroups reports it. An unknown group is reported `Dead` with no members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupDescription {
    pub(crate) error: Option<GroupError>,
    pub(crate) group_id: String,
    /// Kafka's state name (`Stable`, `PreparingRebalance`, ...).
    pub(crate) state: String,
    pub(crate) protocol_type: String,
    /// The chosen protocol; empty unless the group is Stable.
    pub(crate) protocol: String,
    pub(crate) members: Vec<MemberDescription>,
}

/// A group as ListGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupListing {
    pub(crate) group_id: String,
    pub(crate) protocol_type: String,
    pub(crate) state: GroupState,
}

impl GroupCoordinator {
    /// Describes one group, as Kafka does: member metadata and assignments only when Stable.
    pub(crate) fn describe_group(&self, group_id: &str) -> GroupDescription {
        let mut d = GroupDescription {
            error: None,
            group_id: group_id.to_owned(),
            state: GroupState::Dead.name().to_owned(),
            protocol_type: String::new(),
            protocol: String::new(),
            members: Vec::new(),
        };
        if group_id.is_empty() {
            d.error = Some(GroupError::InvalidGroupId);
            return d;
        }
        let Some(group) = self.groups.get(group_id) else {
            return d;
        };
        let stable = group.state() == GroupState::Stable;
        let protocol =
            if stable { group.protocol.clone().unwrap_or_default() } else { String::new() };
        d.state = group.state().name().to_owned();
        d.protocol_type = group.protocol_type.clone().unwrap_or_default();
        d.members = group
            .members
            .iter()
            .map(|m| MemberDescription {
                member_id: m.id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                metadata: if stable { m.metadata(&protocol) } else { Bytes::new() },
                assignment: if stable { m.assignment.clone() } else { Bytes::new() },
            })
            .collect();
        d.protocol = protocol;
        d
    }

    /// Lists groups, all of them or those in `states`.
    pub(crate) fn list_groups(&self, states: &[GroupState]) -> Vec<GroupListing> {
        self.groups
            .values()
            .filter(|g| states.is_empty() || states.contains(&g.state()))
            .map(|g| GroupListing {
                group_id: g.id.clone(),
                protocol_type: g.protocol_type.clone().unwrap_or_default(),
                state: g.state(),
            })
            .collect()
    }

    /// Deletes empty groups with their committed offsets, emitting tombstones (offsets first,
    /// then the group) to [`GroupCoordinator::take_records`].
    pub(crate) fn delete_groups(&mut self, group_ids: &[String], now_ms: u64) -> IdResults {
        group_ids.iter().map(|id| (id.clone(), self.delete_group(id, now_ms))).collect()
    }

    fn delete_group(&mut self, group_id: &str, now_ms: u64) -> Result<(), GroupError> {
        if group_id.is_empty() {
            return Err(GroupError::InvalidGroupId);
        }
        let group = self.groups.get_mut(group_id).ok_or(GroupError::GroupIdNotFound)?;
        if group.state() != GroupState::Empty {
            return Err(GroupError::NonEmptyGroup);
        }
        group.transition(GroupState::Dead, now_ms)?;
        for tp in group.offsets.keys() {
            self.out.records.push(offset_commit_record(group_id, tp, None));
        }
        self.out.records.push(group_metadata_record(group_id, None));
        self.groups.remove(group_id);
        tracing::info!(group = %group_id, "group deleted");
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::{coordinator, join_request, stable_group};
    use super::*;
    use crate::group::offsets_topic::OffsetsKey;

    #[test]
    fn describe_shows_metadata_only_when_stable() {
        let mut c = coordinator();
        let m = stable_group(&mut c, "g", 0);
        let d = c.describe_group("g");
        assert_eq!(
            (d.state.as_str(), d.protocol_type.as_str(), d.protocol.as_str()),
            ("Stable", "consumer", "range")
        );
        assert_eq!(d.members[0].member_id, m);
        assert_eq!(d.members[0].metadata, Bytes::from_static(b"meta"));
        assert_eq!(d.members[0].assignment, Bytes::from_static(b"a"));
        let _newcomer = c.join(join_request("g", ""), 1);
        let d = c.describe_group("g");
        assert_eq!(
            (d.state.as_str(), d.protocol.as_str(), d.members.len()),
            ("PreparingRebalance", "", 2)
        );
        assert!(d.members.iter().all(|m| m.metadata.is_empty() && m.assignment.is_empty()));
        assert_eq!(c.describe_group("nope").state, "Dead");
        assert_eq!(c.describe_group("").error, Some(GroupError::InvalidGroupId));
    }

    #[test]
    fn list_filters_by_state() {
        let mut c = coordinator();
        stable_group(&mut c, "a", 0);
        stable_group(&mut c, "b", 0);
        let m = c.describe_group("b").members[0].member_id.clone();
        c.leave("b", &[m], 1).unwrap();
        let all = c.list_groups(&[]);
        assert_eq!(all.len(), 2);
        let empty = c.list_groups(&[GroupState::Empty]);
        assert_eq!(empty.len(), 1);
        assert_eq!(
            (empty[0].group_id.as_str(), empty[0].protocol_type.as_str()),
            ("b", "consumer")
        );
    }

    #[test]
    fn delete_only_empty_groups_and_tombstone_everything() {
        let mut c = coordinator();
        let m = stable_group(&mut c, "g", 0);
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            c.delete_groups(&ids(&["g", "nope", ""]), 1),
            vec![
                ("g".to_string(), Err(GroupError::NonEmptyGroup)),
                ("nope".to_string(), Err(GroupError::GroupIdNotFound)),
                (String::new(), Err(GroupError::InvalidGroupId)),
            ]
        );
        let commit = c
            .prepare_commit(
                crate::group::OffsetCommitRequest {
                    group_id: "g".into(),
                    generation_id: 1,
                    member_id: m.clone(),
                    offsets: vec![crate::group::offsets::PartitionOffset {
                        partition: crate::TopicPartition::new("t", 1),
                        offset: 3,
                        leader_epoch: -1,
                        metadata: String::new(),
                    }],
                },
                2,
            )
            .unwrap();
        c.apply_commit(commit);
        c.leave("g", &[m], 3).unwrap();
        c.take_records();
        assert_eq!(c.delete_groups(&ids(&["g"]), 4), vec![("g".to_string(), Ok(()))]);
        let records = c.take_records();
        assert_eq!(records.len(), 2);
        assert!(records.iter().all(|(_, v)| v.is_none()));
        assert!(matches!(
            OffsetsKey::decode(&records[0].0).unwrap(),
            OffsetsKey::OffsetCommit { .. }
        ));
        assert!(matches!(
            OffsetsKey::decode(&records[1].0).unwrap(),
            OffsetsKey::GroupMetadata { .. }
        ));
        assert!(c.list_groups(&[]).is_empty());
        assert!(c.fetch_offsets("g", None).unwrap().is_empty());
    }
}
