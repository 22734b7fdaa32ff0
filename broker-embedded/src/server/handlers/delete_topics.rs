//! DeleteTopics: deletes topics and their data, by name (v1-v6) or by topic id (v6).

use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use uuid::Uuid;

use crate::error::Error;
use crate::protocol::request::RawRequest;
use crate::server::ServerContext;
use crate::server::handlers::INVALID_REQUEST;
use crate::server::handlers::error_code;
use crate::server::handlers::metadata::uuid_of;

/// UNKNOWN_TOPIC_ID.
const UNKNOWN_TOPIC_ID: i16 = 100;

pub(super) async fn handle(
    ctx: &ServerContext,
    req: DeleteTopicsRequest,
    raw: &RawRequest,
) -> DeleteTopicsResponse {
    let v = raw.version;
    let targets: Vec<(Option<TopicName>, Uuid)> = if v >= 6 {
        req.topics.into_iter().map(|t| (t.name, t.topic_id)).collect()
    } else {
        req.topic_names.into_iter().map(|n| (Some(n), Uuid::nil())).collect()
    };
    let mut responses = Vec::with_capacity(targets.len());
    for (name, id) in targets {
        let mut out = DeletableTopicResult::default();
        out.name = name.clone();
        if v >= 6 {
            out.topic_id = id;
        }
        let outcome = match (name, id.is_nil()) {
            (Some(_), false) => {
                Err((INVALID_REQUEST, "give a topic name or a topic id, not both".to_string()))
            }
            (None, true) => Err((INVALID_REQUEST, "give a topic name or a topic id".to_string())),
            (Some(name), true) => delete(ctx, name.0.to_string()).await,
            (None, false) => {
                let found = ctx
                    .broker
                    .core
                    .topics
                    .read()
                    .values()
                    .find(|e| uuid_of(&e.id) == id)
                    .map(|e| e.name.to_string());
                match found {
                    Some(name) => {
                        out.name = Some(TopicName(StrBytes::from_string(name.clone())));
                        delete(ctx, name).await
                    }
                    None => Err((UNKNOWN_TOPIC_ID, format!("no topic has the id {id}"))),
                }
            }
        };
        match outcome {
            Ok(deleted_id) => {
                if v >= 6 {
                    out.topic_id = uuid_of(&deleted_id);
                }
            }
            Err((code, message)) => {
                out.error_code = code;
                if v >= 5 {
                    out.error_message = Some(StrBytes::from_string(message));
                }
            }
        }
        responses.push(out);
    }
    let mut resp = DeleteTopicsResponse::default();
    resp.responses = responses;
    resp
}

/// Deletes a topic; returns the id it had.
async fn delete(ctx: &ServerContext, name: String) -> Result<[u8; 16], (i16, String)> {
    let fail = |e: Error| (error_code(&e), e.to_string());
    let core = ctx.broker.core.clone();
    tokio::task::spawn_blocking(move || {
        let id = core.topics.read().get(&name).map(|e| e.id);
        core.delete_topic(&name)?;
        // delete_topic succeeded, so the topic existed when it was looked up.
        Ok::<_, Error>(id.unwrap_or_default())
    })
    .await
    .map_err(|e| fail(Error::Timeout(format!("delete topic task failed: {e}"))))?
    .map_err(fail)
}
