//! IncrementalAlterConfigs: sets, resets, appends to or subtracts from topic configs (or only
//! validates the change). Broker configs cannot be changed while the broker runs.

use kafka_protocol::messages::incremental_alter_configs_request::AlterableConfig;
use kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::error::Error;
use crate::server::ServerContext;
use crate::server::handlers::describe_configs::{RESOURCE_BROKER, RESOURCE_TOPIC};
use crate::server::handlers::{Failure, INVALID_REQUEST, fail};
use crate::topic::{ConfigError, ConfigType, TopicConfig, TopicName};

const OP_SET: i8 = 0;
const OP_DELETE: i8 = 1;
const OP_APPEND: i8 = 2;
const OP_SUBTRACT: i8 = 3;

fn config_fail(e: ConfigError) -> Failure {
    fail(Error::InvalidConfig(e))
}

pub(super) async fn handle(
    ctx: &ServerContext,
    req: IncrementalAlterConfigsRequest,
) -> IncrementalAlterConfigsResponse {
    let mut responses = Vec::with_capacity(req.resources.len());
    for resource in req.resources {
        let name = resource.resource_name.to_string();
        let outcome = match resource.resource_type {
            RESOURCE_TOPIC => alter_topic(ctx, &name, &resource.configs, req.validate_only).await,
            RESOURCE_BROKER => Err((
                INVALID_REQUEST,
                "broker configs cannot be changed while the broker runs; set them in its \
                 configuration and restart it"
                    .to_string(),
            )),
            other => Err((
                INVALID_REQUEST,
                format!("config resource type {other} is not supported (2 = topic, 4 = broker)"),
            )),
        };
        let mut out = AlterConfigsResourceResponse::default();
        out.resource_type = resource.resource_type;
        out.resource_name = resource.resource_name;
        match outcome {
            Ok(()) => out.error_message = None,
            Err((code, message)) => {
                out.error_code = code;
                out.error_message = Some(StrBytes::from_string(message));
            }
        }
        responses.push(out);
    }
    let mut resp = IncrementalAlterConfigsResponse::default();
    resp.responses = responses;
    resp
}

/// Applies the operations to a copy of the topic's config to check them, then (unless
/// `validate_only`) stores the resulting values.
async fn alter_topic(
    ctx: &ServerContext,
    name: &str,
    ops: &[AlterableConfig],
    validate_only: bool,
) -> Result<(), Failure> {
    TopicName::new(name).map_err(|e| fail(e.into()))?;
    let entry = ctx
        .broker
        .core
        .topics
        .read()
        .get(name)
        .cloned()
        .ok_or_else(|| fail(Error::UnknownTopic(name.to_string())))?;
    let mut seen: Vec<&str> = Vec::new();
    for op in ops {
        if seen.contains(&op.name.as_str()) {
            return Err((
                INVALID_REQUEST,
                format!("config {} appears more than once in the request", op.name.as_str()),
            ));
        }
        seen.push(op.name.as_str());
    }
    let mut config = (*entry.config()).clone();
    let mut changes = Vec::with_capacity(ops.len());
    for op in ops {
        changes.push(apply(&mut config, op)?);
    }
    config.validate().map_err(config_fail)?;
    if validate_only {
        return Ok(());
    }
    let core = ctx.broker.core.clone();
    let name = name.to_string();
    tokio::task::spawn_blocking(move || core.alter_topic_config(&name, &changes))
        .await
        .map_err(|e| fail(Error::Timeout(format!("alter configs task failed: {e}"))))?
        .map(|_| ())
        .map_err(fail)
}

/// Applies one operation to `config`; returns the change to store (`None` resets to the default).
fn apply(
    config: &mut TopicConfig,
    op: &AlterableConfig,
) -> Result<(String, Option<String>), Failure> {
    let key = op.name.to_string();
    let value = op.value.as_ref().map(|v| v.to_string());
    let needs_value =
        || (INVALID_REQUEST, format!("operation {} on {key} needs a value", op.config_operation));
    match op.config_operation {
        OP_SET => {
            let value = value.ok_or_else(needs_value)?;
            config.set(&key, &value).map_err(config_fail)?;
            Ok((key, Some(value)))
        }
        OP_DELETE => {
            let default = TopicConfig::default()
                .get(&key)
                .ok_or_else(|| config_fail(ConfigError::Unknown { name: key.clone() }))?;
            config.set(&key, &default).map_err(config_fail)?;
            Ok((key, None))
        }
        OP_APPEND | OP_SUBTRACT => {
            let entry = config
                .describe()
                .into_iter()
                .find(|e| e.name == key)
                .ok_or_else(|| config_fail(ConfigError::Unknown { name: key.clone() }))?;
            if entry.config_type != ConfigType::List {
                let verb = if op.config_operation == OP_APPEND {
                    "appending to"
                } else {
                    "subtracting from"
                };
                return Err((
                    INVALID_REQUEST,
                    format!("{verb} {key} is not allowed: it is not a list"),
                ));
            }
            let given = value.ok_or_else(needs_value)?;
            let mut items: Vec<String> = split_list(&entry.value);
            let operands = split_list(&given);
            if op.config_operation == OP_APPEND {
                for item in operands {
                    if !items.contains(&item) {
                        items.push(item);
                    }
                }
            } else {
                items.retain(|i| !operands.contains(i));
            }
            let value = items.join(",");
            config.set(&key, &value).map_err(config_fail)?;
            Ok((key, Some(value)))
        }
        other => Err((
            INVALID_REQUEST,
            format!(
                "unknown config operation {other} on {key} (0 = set, 1 = delete, 2 = append, 3 = subtract)"
            ),
        )),
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|i| !i.is_empty()).map(str::to_string).collect()
}
