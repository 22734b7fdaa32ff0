//! OffsetFetch (versions 1-7): a group's committed positions. A partition without a commit, or
//! any partition of an unknown group, has offset -1. `require_stable` (v7) needs no waiting:
//! there are no transactional commits.

use std::collections::BTreeMap;

use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponsePartition, OffsetFetchResponseTopic,
};
use kafka_protocol::messages::{OffsetFetchRequest, OffsetFetchResponse, TopicName};

use crate::client::TopicPartition;
use crate::group::offsets_topic::CommittedOffset;
use crate::protocol::request::RawRequest;
use crate::server::ServerContext;
use crate::server::handlers::wire_str;

pub(super) async fn handle(
    ctx: &ServerContext,
    req: OffsetFetchRequest,
    raw: &RawRequest,
) -> OffsetFetchResponse {
    let v = raw.version;
    let requested: Option<Vec<TopicPartition>> = req.topics.as_ref().map(|topics| {
        topics
            .iter()
            .flat_map(|t| {
                t.partition_indexes.iter().map(|&p| TopicPartition::new(t.name.0.as_str(), p))
            })
            .collect()
    });
    let fetched = ctx.broker.groups.fetch_offsets(&req.group_id.0, requested.as_deref()).await;

    let mut resp = OffsetFetchResponse::default();
    let (results, error) = match fetched {
        Ok(results) => (results, 0),
        // Version 1 has no top-level error: every requested partition carries it.
        Err(e) => {
            (requested.unwrap_or_default().into_iter().map(|tp| (tp, None)).collect(), e.code())
        }
    };
    if v >= 2 {
        resp.error_code = error;
        if error != 0 {
            return resp;
        }
    }
    // Grouped by topic, in the order the topics were first seen.
    let mut order: Vec<String> = Vec::new();
    let mut by_topic: BTreeMap<String, Vec<OffsetFetchResponsePartition>> = BTreeMap::new();
    for (tp, committed) in results {
        let part = partition(tp.partition, committed.as_ref(), error, v);
        let entry = by_topic.entry(tp.topic.clone()).or_default();
        if entry.is_empty() {
            order.push(tp.topic);
        }
        entry.push(part);
    }
    resp.topics = order
        .into_iter()
        .map(|name| {
            let mut t = OffsetFetchResponseTopic::default();
            t.partitions = by_topic.remove(&name).unwrap_or_default();
            t.name = TopicName(wire_str(&name));
            t
        })
        .collect();
    resp
}

fn partition(
    index: i32,
    committed: Option<&CommittedOffset>,
    error: i16,
    v: i16,
) -> OffsetFetchResponsePartition {
    let mut p = OffsetFetchResponsePartition::default();
    p.partition_index = index;
    p.error_code = error;
    match committed {
        Some(c) => {
            p.committed_offset = c.offset;
            if v >= 5 {
                p.committed_leader_epoch = c.leader_epoch;
            }
            p.metadata = Some(wire_str(&c.metadata));
        }
        None => {
            p.committed_offset = -1;
            p.metadata = Some(wire_str(""));
        }
    }
    p
}
