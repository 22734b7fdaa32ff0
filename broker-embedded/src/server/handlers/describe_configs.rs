//! DescribeConfigs: every config of a topic with its value, source and type, and a few broker
//! settings.

use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::error::Error;
use crate::protocol::request::RawRequest;
use crate::server::ServerContext;
use crate::server::handlers::INVALID_REQUEST;
use crate::server::handlers::{error_code, wire_str};
use crate::topic::{ConfigType, TopicConfig, TopicName};

/// Resource type of a topic.
pub(super) const RESOURCE_TOPIC: i8 = 2;
/// Resource type of a broker.
pub(super) const RESOURCE_BROKER: i8 = 4;
/// Config source: a per-topic override.
pub(super) const SOURCE_DYNAMIC_TOPIC: i8 = 1;
/// Config source: a setting of the broker's configuration.
const SOURCE_STATIC_BROKER: i8 = 4;
/// Config source: the built-in default.
pub(super) const SOURCE_DEFAULT: i8 = 5;

/// Each topic config with the broker setting that holds its default, as Kafka names them.
const BROKER_SYNONYMS: [(&str, &str); 13] = [
    ("cleanup.policy", "log.cleanup.policy"),
    ("delete.retention.ms", "log.cleaner.delete.retention.ms"),
    ("index.interval.bytes", "log.index.interval.bytes"),
    ("max.compaction.lag.ms", "log.cleaner.max.compaction.lag.ms"),
    ("max.message.bytes", "message.max.bytes"),
    ("message.timestamp.type", "log.message.timestamp.type"),
    ("min.cleanable.dirty.ratio", "log.cleaner.min.cleanable.ratio"),
    ("min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms"),
    ("retention.bytes", "log.retention.bytes"),
    ("retention.ms", "log.retention.ms"),
    ("segment.bytes", "log.segment.bytes"),
    ("segment.index.bytes", "log.index.size.max.bytes"),
    ("segment.ms", "log.roll.ms"),
];

/// Kafka's config source for a topic config.
pub(super) fn topic_source(is_default: bool) -> i8 {
    if is_default { SOURCE_DEFAULT } else { SOURCE_DYNAMIC_TOPIC }
}

/// Kafka's code for a config type (DescribeConfigs v3+).
fn type_code(t: ConfigType) -> i8 {
    match t {
        ConfigType::String => 2,
        ConfigType::Int => 3,
        ConfigType::Long => 5,
        ConfigType::Double => 6,
        ConfigType::List => 7,
    }
}

/// BOOLEAN in Kafka's config type codes.
const TYPE_BOOLEAN: i8 = 1;

/// One config of the response, before version-specific fields are applied.
struct Described {
    name: String,
    value: String,
    read_only: bool,
    source: i8,
    type_code: i8,
    doc: &'static str,
    synonyms: Vec<(String, String, i8)>,
}

pub(super) fn handle(
    ctx: &ServerContext,
    req: DescribeConfigsRequest,
    raw: &RawRequest,
) -> DescribeConfigsResponse {
    let v = raw.version;
    let include_docs = v >= 3 && req.include_documentation;
    let mut results = Vec::with_capacity(req.resources.len());
    for resource in req.resources {
        let mut out = DescribeConfigsResult::default();
        out.resource_type = resource.resource_type;
        out.resource_name = resource.resource_name.clone();
        out.error_message = None;
        match describe(ctx, &resource, req.include_synonyms) {
            Ok(configs) => {
                let keys = resource.configuration_keys.as_deref().unwrap_or_default();
                out.configs = configs
                    .into_iter()
                    .filter(|c| keys.is_empty() || keys.iter().any(|k| k.as_str() == c.name))
                    .map(|c| to_wire(c, v, include_docs))
                    .collect();
            }
            Err((code, message)) => {
                out.error_code = code;
                out.error_message = Some(StrBytes::from_string(message));
            }
        }
        results.push(out);
    }
    let mut resp = DescribeConfigsResponse::default();
    resp.results = results;
    resp
}

fn to_wire(c: Described, v: i16, include_docs: bool) -> DescribeConfigsResourceResult {
    let mut out = DescribeConfigsResourceResult::default();
    out.name = StrBytes::from_string(c.name);
    out.value = Some(StrBytes::from_string(c.value));
    out.read_only = c.read_only;
    out.config_source = c.source;
    out.is_sensitive = false;
    out.synonyms = c
        .synonyms
        .into_iter()
        .map(|(name, value, source)| {
            let mut s = DescribeConfigsSynonym::default();
            s.name = StrBytes::from_string(name);
            s.value = Some(StrBytes::from_string(value));
            s.source = source;
            s
        })
        .collect();
    if v >= 3 {
        out.config_type = c.type_code;
        out.documentation = include_docs.then(|| wire_str(c.doc));
    }
    out
}

fn describe(
    ctx: &ServerContext,
    resource: &DescribeConfigsResource,
    synonyms: bool,
) -> Result<Vec<Described>, (i16, String)> {
    let name = resource.resource_name.as_str();
    match resource.resource_type {
        RESOURCE_TOPIC => describe_topic(ctx, name, synonyms),
        RESOURCE_BROKER => {
            // Kafka accepts this broker's id, or the empty name for cluster-wide defaults.
            if !name.is_empty() && name != "0" {
                return Err((
                    INVALID_REQUEST,
                    format!("unexpected broker id {name:?}: this broker is 0"),
                ));
            }
            Ok(describe_broker(ctx, synonyms))
        }
        other => Err((
            INVALID_REQUEST,
            format!("config resource type {other} is not supported (2 = topic, 4 = broker)"),
        )),
    }
}

fn describe_topic(
    ctx: &ServerContext,
    name: &str,
    synonyms: bool,
) -> Result<Vec<Described>, (i16, String)> {
    let fail = |e: Error| (error_code(&e), e.to_string());
    TopicName::new(name).map_err(|e| fail(e.into()))?;
    let entry = ctx
        .broker
        .core
        .topics
        .read()
        .get(name)
        .cloned()
        .ok_or_else(|| fail(Error::UnknownTopic(name.to_string())))?;
    let defaults = TopicConfig::default();
    Ok(entry
        .config()
        .describe()
        .into_iter()
        .map(|e| {
            let mut list = Vec::new();
            if synonyms {
                if !e.is_default {
                    list.push((e.name.to_string(), e.value.clone(), SOURCE_DYNAMIC_TOPIC));
                }
                let default = defaults.get(e.name).unwrap_or_default();
                list.push((broker_name(e.name).to_string(), default, SOURCE_DEFAULT));
            }
            Described {
                name: e.name.to_string(),
                value: e.value,
                read_only: e.read_only,
                source: topic_source(e.is_default),
                type_code: type_code(e.config_type),
                doc: e.doc,
                synonyms: list,
            }
        })
        .collect())
}

fn broker_name(topic_config: &str) -> &str {
    BROKER_SYNONYMS.iter().find(|(t, _)| *t == topic_config).map_or(topic_config, |(_, b)| b)
}

/// The broker settings clients commonly ask for, and the defaults of every topic config under
/// their broker names. None can be changed while the broker runs.
fn describe_broker(ctx: &ServerContext, synonyms: bool) -> Vec<Described> {
    let config = &ctx.broker.core.config;
    let mut list = vec![
        Described {
            name: "auto.create.topics.enable".into(),
            value: config.auto_create_topics.to_string(),
            read_only: true,
            source: SOURCE_STATIC_BROKER,
            type_code: TYPE_BOOLEAN,
            doc: "Whether producing to or fetching from an unknown topic creates it.",
            synonyms: Vec::new(),
        },
        Described {
            name: "broker.id".into(),
            value: "0".into(),
            read_only: true,
            source: SOURCE_STATIC_BROKER,
            type_code: type_code(ConfigType::Int),
            doc: "The id of this broker, the only one of its cluster.",
            synonyms: Vec::new(),
        },
        Described {
            name: "default.replication.factor".into(),
            value: "1".into(),
            read_only: true,
            source: SOURCE_DEFAULT,
            type_code: type_code(ConfigType::Int),
            doc: "The replication factor of new topics; a single broker keeps one copy.",
            synonyms: Vec::new(),
        },
        Described {
            name: "log.dirs".into(),
            value: config.data_dir.display().to_string(),
            read_only: true,
            source: SOURCE_STATIC_BROKER,
            type_code: type_code(ConfigType::String),
            doc: "The data directory holding every partition.",
            synonyms: Vec::new(),
        },
        Described {
            name: "num.partitions".into(),
            value: config.default_partitions.to_string(),
            read_only: true,
            source: SOURCE_STATIC_BROKER,
            type_code: type_code(ConfigType::Int),
            doc: "The partition count of topics created without one.",
            synonyms: Vec::new(),
        },
        Described {
            name: "offsets.topic.num.partitions".into(),
            value: config.offsets_topic_partitions.to_string(),
            read_only: true,
            source: SOURCE_STATIC_BROKER,
            type_code: type_code(ConfigType::Int),
            doc: "The partition count of the consumer offsets topic.",
            synonyms: Vec::new(),
        },
    ];
    for e in TopicConfig::default().describe() {
        list.push(Described {
            name: broker_name(e.name).to_string(),
            value: e.value,
            read_only: true,
            source: SOURCE_DEFAULT,
            type_code: type_code(e.config_type),
            doc: e.doc,
            synonyms: Vec::new(),
        });
    }
    list.sort_by(|a, b| a.name.cmp(&b.name));
    if synonyms {
        for d in &mut list {
            d.synonyms = vec![(d.name.clone(), d.value.clone(), d.source)];
        }
    }
    list
}
