//! OffsetCommit: stores a group's positions. The coordinator checks the member and generation;
//! partitions of topics the broker does not have are refused, as Kafka does. The retention time
//! of versions 2-4 is ignored (offsets do not expire).

use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse};

use crate::client::TopicPartition;
use crate::group::offsets::PartitionOffset;
use crate::group::{GroupError, OffsetCommitRequest as Commit};
use crate::protocol::request::RawRequest;
use crate::server::ServerContext;

/// UNKNOWN_TOPIC_OR_PARTITION.
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;

pub(super) async fn handle(
    ctx: &ServerContext,
    req: OffsetCommitRequest,
    raw: &RawRequest,
) -> OffsetCommitResponse {
    // Per-partition error codes, in request order; 0 until the coordinator answers otherwise.
    let mut topics: Vec<(OffsetCommitResponseTopic, Vec<Option<usize>>)> = Vec::new();
    let mut offsets = Vec::new();
    {
        let known = ctx.broker.core.topics.read();
        for t in &req.topics {
            let count = known.get(t.name.0.as_str()).map(|e| e.partition_count());
            let mut topic = OffsetCommitResponseTopic::default();
            topic.name = t.name.clone();
            let mut slots = Vec::with_capacity(t.partitions.len());
            for p in &t.partitions {
                let mut part = OffsetCommitResponsePartition::default();
                part.partition_index = p.partition_index;
                let exists = count.is_some_and(|n| (0..n).contains(&p.partition_index));
                if exists {
                    slots.push(Some(offsets.len()));
                    offsets.push(PartitionOffset {
                        partition: TopicPartition::new(t.name.0.as_str(), p.partition_index),
                        offset: p.committed_offset,
                        leader_epoch: if raw.version >= 6 { p.committed_leader_epoch } else { -1 },
                        metadata: p.committed_metadata.as_deref().unwrap_or("").to_owned(),
                    });
                } else {
                    part.error_code = UNKNOWN_TOPIC_OR_PARTITION;
                    slots.push(None);
                }
                topic.partitions.push(part);
            }
            topics.push((topic, slots));
        }
    }

    let codes: Vec<i16> = if offsets.is_empty() {
        Vec::new()
    } else {
        let count = offsets.len();
        let commit = Commit {
            group_id: req.group_id.0.to_string(),
            generation_id: req.generation_id_or_member_epoch,
            member_id: req.member_id.to_string(),
            offsets,
        };
        match ctx.broker.groups.commit_offsets(commit).await {
            // The coordinator answers every partition, in order.
            Ok(results) => {
                results.into_iter().map(|(_, r)| r.err().map_or(0, |e| e.code())).collect()
            }
            Err(e) => vec![e.code(); count],
        }
    };

    let mut resp = OffsetCommitResponse::default();
    resp.topics = topics
        .into_iter()
        .map(|(mut topic, slots)| {
            for (part, slot) in topic.partitions.iter_mut().zip(slots) {
                if let Some(i) = slot {
                    part.error_code =
                        codes.get(i).copied().unwrap_or(GroupError::UnknownServerError.code());
                }
            }
            topic
        })
        .collect();
    resp
}
