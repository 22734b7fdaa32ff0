//! OffsetCommit and OffsetFetch. A commit is two steps so that it is acknowledged only once its
//! `__consumer_offsets` records are stored: [`GroupCoordinator::prepare_commit`] validates and
//! encodes, the caller appends [`PreparedCommit::records`], then
//! [`GroupCoordinator::apply_commit`] makes the offsets visible. Call both under one lock.

use super::consumer_protocol::TopicPartition;
use super::offsets_topic::{CommittedOffset, Record, offset_commit_record};
use super::state::{Group, GroupState};
use super::{GroupCoordinator, GroupError, PartitionResults};

/// Longest commit metadata accepted (Kafka's `offset.metadata.max.bytes`).
pub(crate) const MAX_METADATA_BYTES: usize = 4096;

/// One partition's offset in a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartitionOffset {
    pub(crate) partition: TopicPartition,
    pub(crate) offset: i64,
    /// -1 if unknown.
    pub(crate) leader_epoch: i32,
    pub(crate) metadata: String,
}

/// An OffsetCommit request. A "simple" commit (generation -1, empty member id) is accepted only
/// while the group has no members; otherwise the member and generation must be current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OffsetCommitRequest {
    pub(crate) group_id: String,
    pub(crate) generation_id: i32,
    pub(crate) member_id: String,
    pub(crate) offsets: Vec<PartitionOffset>,
}

/// A validated commit waiting for its records to be stored.
#[derive(Debug)]
#[must_use = "append the records, then apply the commit"]
pub(crate) struct PreparedCommit {
    group_id: String,
    now_ms: u64,
    accepted: Vec<(TopicPartition, CommittedOffset)>,
    results: PartitionResults,
    records: Vec<Record>,
}

impl PreparedCommit {
    /// The records to append to `__consumer_offsets` before applying.
    pub(crate) fn records(&self) -> &[Record] {
        &self.records
    }
}

impl GroupCoordinator {
    /// Validates a commit and encodes its records; changes nothing. A top-level error applies to
    /// every partition of the request.
    pub(crate) fn prepare_commit(
        &self,
        req: OffsetCommitRequest,
        now_ms: u64,
    ) -> Result<PreparedCommit, GroupError> {
        if req.group_id.is_empty() {
            return Err(GroupError::InvalidGroupId);
        }
        match self.groups.get(&req.group_id) {
            Some(group) => validate(group, &req)?,
            // Only a group that does not use group management may appear through a commit.
            None if req.generation_id < 0 => {}
            None => return Err(GroupError::IllegalGeneration),
        }
        let commit_timestamp = i64::try_from(now_ms).unwrap_or(i64::MAX);
        let mut prepared = PreparedCommit {
            group_id: req.group_id,
            now_ms,
            accepted: Vec::new(),
            results: Vec::new(),
            records: Vec::new(),
        };
        for p in req.offsets {
            if p.metadata.len() > MAX_METADATA_BYTES {
                prepared.results.push((p.partition, Err(GroupError::OffsetMetadataTooLarge)));
                continue;
            }
            let value = CommittedOffset {
                offset: p.offset,
                leader_epoch: p.leader_epoch,
                metadata: p.metadata,
                commit_timestamp,
            };
            prepared.records.push(offset_commit_record(
                &prepared.group_id,
                &p.partition,
                Some(&value),
            ));
            prepared.results.push((p.partition.clone(), Ok(())));
            prepared.accepted.push((p.partition, value));
        }
        Ok(prepared)
    }

    /// Makes a prepared commit visible (after its records were stored) and returns the
    /// per-partition results.
    pub(crate) fn apply_commit(&mut self, prepared: PreparedCommit) -> PartitionResults {
        let PreparedCommit { group_id, now_ms, accepted, results, .. } = prepared;
        let group =
            self.groups.entry(group_id.clone()).or_insert_with(|| Group::new(group_id, now_ms));
        group.offsets.extend(accepted);
        results
    }

    /// Committed offsets of `partitions` (`None` for a partition without one), or of every
    /// committed partition when `partitions` is `None`. An unknown group has no offsets.
    pub(crate) fn fetch_offsets(
        &self,
        group_id: &str,
        partitions: Option<&[TopicPartition]>,
    ) -> Result<Vec<(TopicPartition, Option<CommittedOffset>)>, GroupError> {
        if group_id.is_empty() {
            return Err(GroupError::InvalidGroupId);
        }
        let offsets = self.groups.get(group_id).map(|g| &g.offsets);
        Ok(match partitions {
            Some(list) => list
                .iter()
                .map(|tp| (tp.clone(), offsets.and_then(|o| o.get(tp)).cloned()))
                .collect(),
            None => {
                offsets.into_iter().flatten().map(|(tp, v)| (tp.clone(), Some(v.clone()))).collect()
            }
        })
    }
}

/// Kafka's rules: a member-checked commit needs a current member and generation and is refused
/// while the assignment is being distributed; a simple commit needs an empty group.
fn validate(group: &Group, req: &OffsetCommitRequest) -> Result<(), GroupError> {
    if group.state() == GroupState::Dead {
        return Err(GroupError::CoordinatorNotAvailable);
    }
    if req.generation_id >= 0 || !req.member_id.is_empty() {
        if group.member(&req.member_id).is_none() {
            return Err(GroupError::UnknownMemberId);
        }
        if req.generation_id != group.generation {
            return Err(GroupError::IllegalGeneration);
        }
        if group.state() == GroupState::CompletingRebalance {
            return Err(GroupError::RebalanceInProgress);
        }
    } else if group.state() != GroupState::Empty {
        return Err(GroupError::UnknownMemberId);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::{coordinator, join_request, stable_group};
    use super::*;

    fn request(group: &str, generation_id: i32, member_id: &str) -> OffsetCommitRequest {
        OffsetCommitRequest {
            group_id: group.into(),
            generation_id,
            member_id: member_id.into(),
            offsets: vec![PartitionOffset {
                partition: TopicPartition::new("t", 0),
                offset: 10,
                leader_epoch: 2,
                metadata: "meta".into(),
            }],
        }
    }

    fn commit(c: &mut GroupCoordinator, req: OffsetCommitRequest) -> Result<(), GroupError> {
        let prepared = c.prepare_commit(req, 1_000)?;
        assert_eq!(prepared.records().len(), 1);
        c.apply_commit(prepared).into_iter().try_for_each(|(_, r)| r)
    }

    #[test]
    fn simple_commits_create_the_group_and_fetch_returns_them() {
        let mut c = coordinator();
        let tp = TopicPartition::new("t", 0);
        assert_eq!(
            c.fetch_offsets("g", Some(std::slice::from_ref(&tp))).unwrap(),
            vec![(tp.clone(), None)]
        );
        let prepared = c.prepare_commit(request("g", -1, ""), 1_000).unwrap();
        // Nothing visible before apply.
        assert!(c.fetch_offsets("g", None).unwrap().is_empty());
        c.apply_commit(prepared);
        let fetched = c.fetch_offsets("g", None).unwrap();
        let value = fetched[0].1.clone().unwrap();
        assert_eq!((value.offset, value.leader_epoch, value.metadata.as_str()), (10, 2, "meta"));
        assert_eq!(value.commit_timestamp, 1_000);
        assert_eq!(c.describe_group("g").state, "Empty");
        assert_eq!(c.fetch_offsets("", None), Err(GroupError::InvalidGroupId));
    }

    #[test]
    fn member_commits_are_checked() {
        let mut c = coordinator();
        assert_eq!(commit(&mut c, request("g", 1, "m")), Err(GroupError::IllegalGeneration));
        let m = stable_group(&mut c, "g", 0);
        assert_eq!(commit(&mut c, request("g", 1, &m)), Ok(()));
        assert_eq!(commit(&mut c, request("g", 0, &m)), Err(GroupError::IllegalGeneration));
        assert_eq!(commit(&mut c, request("g", 1, "x")), Err(GroupError::UnknownMemberId));
        assert_eq!(commit(&mut c, request("g", -1, "")), Err(GroupError::UnknownMemberId));
        assert_eq!(commit(&mut c, request("", -1, "")), Err(GroupError::InvalidGroupId));
        // While preparing a rebalance the current generation may still commit (before revoking).
        let _newcomer = c.join(join_request("g", ""), 1);
        assert_eq!(commit(&mut c, request("g", 1, &m)), Ok(()));
        let mut long = request("g", 1, &m);
        long.offsets[0].metadata = "x".repeat(MAX_METADATA_BYTES + 1);
        let prepared = c.prepare_commit(long, 2).unwrap();
        assert!(prepared.records().is_empty());
        assert_eq!(c.apply_commit(prepared)[0].1, Err(GroupError::OffsetMetadataTooLarge));
    }

    #[test]
    fn commits_are_refused_while_completing_a_rebalance() {
        let mut c = coordinator();
        let reply = c.join(join_request("g", ""), 0);
        let j = super::super::tests::joined(&mut c, &reply);
        assert_eq!(c.describe_group("g").state, "CompletingRebalance");
        assert_eq!(
            commit(&mut c, request("g", j.generation_id, &j.member_id)),
            Err(GroupError::RebalanceInProgress)
        );
    }
}
