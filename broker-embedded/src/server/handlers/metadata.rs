//! Metadata: brokers (this one), topics and partitions; creates requested topics when allowed.

use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use crate::broker::TopicEntry;
use crate::error::Error;
use crate::protocol::request::RawRequest;
use crate::server::ServerContext;
use crate::server::handlers::{error_code, wire_str};

/// Kafka's value for "authorized operations not requested".
const OPERATIONS_OMITTED: i32 = i32::MIN;

pub(super) async fn handle(
    ctx: &ServerContext,
    req: MetadataRequest,
    raw: &RawRequest,
) -> MetadataResponse {
    let core = &ctx.broker.core;
    let mut resp = MetadataResponse::default();
    let mut broker = MetadataResponseBroker::default();
    broker.node_id = BrokerId(0);
    broker.host = wire_str(&ctx.host);
    broker.port = ctx.port;
    resp.brokers = vec![broker];
    let v = raw.version;
    // kafka-protocol refuses to encode a field a version does not have, unless it holds its
    // default: set each field only in the versions that carry it.
    if v >= 2 {
        resp.cluster_id = Some(wire_str(&core.config.cluster_id));
    }
    if v >= 1 {
        resp.controller_id = BrokerId(0);
    }
    resp.cluster_authorized_operations = OPERATIONS_OMITTED;

    // v0: an empty list means every topic; v1+: null means every topic.
    let all = match &req.topics {
        None => true,
        Some(t) => t.is_empty() && raw.version == 0,
    };
    // Versions 0-3 always allow auto-creation (the field arrived in v4).
    let allow_create = raw.version < 4 || req.allow_auto_topic_creation;
    let mut topics = Vec::new();
    if all {
        let entries: Vec<_> = core.topics.read().values().cloned().collect();
        for e in entries {
            topics.push(describe(&e, v));
        }
    } else {
        for t in req.topics.unwrap_or_default() {
            let name = match &t.name {
                Some(n) => n.0.to_string(),
                None => {
                    // v10+ may name a topic by id only.
                    let id = t.topic_id.as_bytes();
                    let found = core.topics.read().values().find(|e| &e.id == id).cloned();
                    match found {
                        Some(e) => {
                            topics.push(describe(&e, v));
                            continue;
                        }
                        None => {
                            let mut missing = MetadataResponseTopic::default();
                            missing.error_code = 100; // UNKNOWN_TOPIC_ID (v10+ only)
                            missing.topic_id = t.topic_id;
                            missing.topic_authorized_operations = OPERATIONS_OMITTED;
                            topics.push(missing);
                            continue;
                        }
                    }
                }
            };
            let existing = core.topics.read().get(&name).cloned();
            let entry = match existing {
                Some(e) => Ok(e),
                None if allow_create => core.topic_or_create(&name),
                None => Err(Error::UnknownTopic(name.clone())),
            };
            match entry {
                Ok(e) => topics.push(describe(&e, v)),
                Err(e) => {
                    let mut failed = MetadataResponseTopic::default();
                    failed.error_code = error_code(&e);
                    failed.name = Some(TopicName(StrBytes::from_string(name)));
                    failed.topic_authorized_operations = OPERATIONS_OMITTED;
                    topics.push(failed);
                }
            }
        }
    }
    resp.topics = topics;
    resp
}

fn describe(e: &TopicEntry, v: i16) -> MetadataResponseTopic {
    let mut t = MetadataResponseTopic::default();
    t.name = Some(TopicName(wire_str(e.name.as_str())));
    if v >= 10 {
        t.topic_id = uuid_of(&e.id);
    }
    if v >= 1 {
        t.is_internal = crate::client::is_internal_topic(e.name.as_str());
    }
    t.topic_authorized_operations = OPERATIONS_OMITTED;
    t.partitions = (0..e.partition_count())
        .map(|p| {
            let mut part = MetadataResponsePartition::default();
            part.partition_index = p;
            part.leader_id = BrokerId(0);
            if v >= 7 {
                part.leader_epoch = 0;
            }
            part.replica_nodes = vec![BrokerId(0)];
            part.isr_nodes = vec![BrokerId(0)];
            part
        })
        .collect();
    t
}

pub(crate) fn uuid_of(id: &[u8; 16]) -> uuid::Uuid {
    uuid::Uuid::from_bytes(*id)
}
