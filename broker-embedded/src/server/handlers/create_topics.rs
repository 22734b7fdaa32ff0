//! CreateTopics: creates topics (or only validates them) with their partition counts and configs.
//! This broker is the only replica of every partition, so the replication factor is 1.

use std::sync::Arc;

use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use kafka_protocol::messages::{BrokerId, CreateTopicsRequest, CreateTopicsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::error::Error;
use crate::protocol::request::RawRequest;
use crate::server::ServerContext;
use crate::server::handlers::describe_configs::topic_source;
use crate::server::handlers::first_of_each;
use crate::server::handlers::metadata::uuid_of;
use crate::server::handlers::{Failure, INVALID_REQUEST, fail};
use crate::topic::{TopicConfig, TopicName};

/// INVALID_REPLICATION_FACTOR.
const INVALID_REPLICATION_FACTOR: i16 = 38;
/// INVALID_CONFIG.
const INVALID_CONFIG: i16 = 40;
/// The most partitions a topic may have (the broker core's limit, checked here for validate-only
/// requests).
pub(super) const MAX_PARTITIONS: i32 = 100_000;

/// A topic that passed validation.
struct Checked {
    partitions: i32,
    configs: Vec<(String, String)>,
    config: TopicConfig,
}

pub(super) async fn handle(
    ctx: &ServerContext,
    req: CreateTopicsRequest,
    raw: &RawRequest,
) -> CreateTopicsResponse {
    let v = raw.version;
    let mut results = Vec::with_capacity(req.topics.len());
    for (topic, repeated) in first_of_each(&req.topics, |t| t.name.0.to_string()) {
        let name = topic.name.0.to_string();
        let outcome = if repeated {
            Err((INVALID_REQUEST, format!("topic {name:?} appears more than once in the request")))
        } else {
            create(ctx, topic, req.validate_only).await
        };
        let mut out = CreatableTopicResult::default();
        out.name = topic.name.clone();
        match outcome {
            Ok((config, partitions, id)) => {
                out.error_message = None;
                if v >= 5 {
                    out.num_partitions = partitions;
                    out.replication_factor = 1;
                    out.configs = Some(configs_of(&config));
                }
                if v >= 7 {
                    if let Some(id) = id {
                        out.topic_id = uuid_of(&id);
                    }
                }
            }
            Err((code, message)) => {
                out.error_code = code;
                out.error_message = Some(StrBytes::from_string(message));
            }
        }
        results.push(out);
    }
    let mut resp = CreateTopicsResponse::default();
    resp.topics = results;
    resp
}

/// Creates (or with `validate_only`, checks) one topic; returns its config, partition count and,
/// when created, its id.
async fn create(
    ctx: &ServerContext,
    topic: &CreatableTopic,
    validate_only: bool,
) -> Result<(Arc<TopicConfig>, i32, Option<[u8; 16]>), Failure> {
    let name = topic.name.0.to_string();
    let checked = check(ctx, &name, topic)?;
    if validate_only {
        return Ok((Arc::new(checked.config), checked.partitions, None));
    }
    let core = ctx.broker.core.clone();
    let entry = tokio::task::spawn_blocking(move || {
        core.create_topic(&name, checked.partitions, &checked.configs)
    })
    .await
    .map_err(|e| fail(Error::Timeout(format!("create topic task failed: {e}"))))?
    .map_err(fail)?;
    Ok((entry.config(), entry.partition_count(), Some(entry.id)))
}

/// Everything the broker core checks when creating a topic, without creating it, plus what only
/// the wire protocol has: replication factors, replica assignments and null config values.
fn check(ctx: &ServerContext, name: &str, topic: &CreatableTopic) -> Result<Checked, Failure> {
    let core = &ctx.broker.core;
    let valid = TopicName::new(name).map_err(|e| fail(e.into()))?;
    core.check_new_topic_name(&valid).map_err(fail)?;
    let partitions = if topic.assignments.is_empty() {
        let rf = topic.replication_factor;
        if rf != -1 && rf != 1 {
            return Err((
                INVALID_REPLICATION_FACTOR,
                format!(
                    "replication factor {rf} cannot be met: this broker is the only one, so it \
                     must be 1 (or -1 for the default)"
                ),
            ));
        }
        if topic.num_partitions == -1 {
            core.config.default_partitions
        } else {
            topic.num_partitions
        }
    } else {
        assigned_partitions(topic)?
    };
    if partitions < 1 {
        return Err(fail(Error::InvalidPartitions(format!(
            "a topic needs at least one partition (or -1 for the default), got {partitions}"
        ))));
    }
    if partitions > MAX_PARTITIONS {
        return Err(fail(Error::InvalidPartitions(format!("{partitions} partitions is too many"))));
    }
    let mut configs = Vec::with_capacity(topic.configs.len());
    let mut config = TopicConfig::default();
    for c in &topic.configs {
        let key = c.name.to_string();
        let Some(value) = &c.value else {
            return Err((INVALID_CONFIG, format!("topic config {key} has a null value")));
        };
        config.set(&key, value).map_err(|e| fail(e.into()))?;
        configs.push((key, value.to_string()));
    }
    config.validate().map_err(|e| fail(e.into()))?;
    Ok(Checked { partitions, configs, config })
}

/// The partition count given by manual replica assignments, which must place each partition,
/// numbered from 0, on broker 0 alone.
fn assigned_partitions(topic: &CreatableTopic) -> Result<i32, Failure> {
    if topic.num_partitions != -1 || topic.replication_factor != -1 {
        return Err((
            INVALID_REQUEST,
            "replica assignments were given together with num_partitions or \
             replication_factor; set those to -1"
                .to_string(),
        ));
    }
    let mut indexes: Vec<i32> = topic.assignments.iter().map(|a| a.partition_index).collect();
    indexes.sort_unstable();
    if indexes.iter().enumerate().any(|(i, &p)| p != i as i32) {
        return Err((
            INVALID_REQUEST,
            "replica assignments must number the partitions 0, 1, 2, ... once each".to_string(),
        ));
    }
    if let Some(a) = topic.assignments.iter().find(|a| a.broker_ids != [BrokerId(0)]) {
        return Err((
            INVALID_REQUEST,
            format!(
                "partition {} is assigned to brokers {:?}; the only broker is 0",
                a.partition_index,
                a.broker_ids.iter().map(|b| b.0).collect::<Vec<_>>()
            ),
        ));
    }
    Ok(topic.assignments.len() as i32)
}

/// Every config of a topic as CreateTopics v5+ returns it.
fn configs_of(config: &TopicConfig) -> Vec<CreatableTopicConfigs> {
    config
        .describe()
        .into_iter()
        .map(|e| {
            let mut c = CreatableTopicConfigs::default();
            c.name = StrBytes::from_static_str(e.name);
            c.value = Some(StrBytes::from_string(e.value));
            c.read_only = e.read_only;
            c.config_source = topic_source(e.is_default);
            c.is_sensitive = e.sensitive;
            c
        })
        .collect()
}
