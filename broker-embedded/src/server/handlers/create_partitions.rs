//! CreatePartitions: grows topics to a new partition count (or only validates the change).

use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{BrokerId, CreatePartitionsRequest, CreatePartitionsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::error::Error;
use crate::server::ServerContext;
use crate::server::handlers::create_topics::MAX_PARTITIONS;
use crate::server::handlers::first_of_each;
use crate::server::handlers::{Failure, INVALID_REQUEST, fail};

/// INVALID_REPLICA_ASSIGNMENT.
const INVALID_REPLICA_ASSIGNMENT: i16 = 39;

pub(super) async fn handle(
    ctx: &ServerContext,
    req: CreatePartitionsRequest,
) -> CreatePartitionsResponse {
    let mut results = Vec::with_capacity(req.topics.len());
    for (topic, repeated) in first_of_each(&req.topics, |t| t.name.0.to_string()) {
        let name = topic.name.0.to_string();
        let outcome = if repeated {
            Err((INVALID_REQUEST, format!("topic {name:?} appears more than once in the request")))
        } else {
            grow(ctx, topic, req.validate_only).await
        };
        let mut out = CreatePartitionsTopicResult::default();
        out.name = topic.name.clone();
        if let Err((code, message)) = outcome {
            out.error_code = code;
            out.error_message = Some(StrBytes::from_string(message));
        }
        results.push(out);
    }
    let mut resp = CreatePartitionsResponse::default();
    resp.results = results;
    resp
}

async fn grow(
    ctx: &ServerContext,
    topic: &CreatePartitionsTopic,
    validate_only: bool,
) -> Result<(), Failure> {
    let name = topic.name.0.to_string();
    let entry = ctx
        .broker
        .core
        .topics
        .read()
        .get(&name)
        .cloned()
        .ok_or_else(|| fail(Error::UnknownTopic(name.clone())))?;
    let current = entry.partition_count();
    let total = topic.count;
    if total <= current {
        return Err(fail(Error::InvalidPartitions(format!(
            "topic {name} has {current} partitions; the new count {total} must be larger"
        ))));
    }
    if total > MAX_PARTITIONS {
        return Err(fail(Error::InvalidPartitions(format!("{total} partitions is too many"))));
    }
    // Assignments can only place the new partitions on broker 0; they are checked, then ignored.
    // An empty list is taken as none (kafka-protocol's default for the field).
    if let Some(assignments) = topic.assignments.as_ref().filter(|a| !a.is_empty()) {
        let added = total - current;
        if assignments.len() as i64 != i64::from(added) {
            return Err((
                INVALID_REPLICA_ASSIGNMENT,
                format!(
                    "the partition count grows by {added} but {} assignments were given",
                    assignments.len()
                ),
            ));
        }
        if let Some(a) = assignments.iter().find(|a| a.broker_ids != [BrokerId(0)]) {
            return Err((
                INVALID_REPLICA_ASSIGNMENT,
                format!(
                    "a new partition is assigned to brokers {:?}; the only broker is 0",
                    a.broker_ids.iter().map(|b| b.0).collect::<Vec<_>>()
                ),
            ));
        }
    }
    if validate_only {
        return Ok(());
    }
    let core = ctx.broker.core.clone();
    tokio::task::spawn_blocking(move || core.create_partitions(&name, total))
        .await
        .map_err(|e| fail(Error::Timeout(format!("create partitions task failed: {e}"))))?
        .map_err(fail)
}
