//! Request dispatch: one file per API, each turning a decoded request into calls on the broker core
//! and a response.

mod api_versions;
mod create_partitions;
mod create_topics;
mod delete_groups;
mod delete_records;
mod delete_topics;
mod describe_configs;
mod describe_groups;
mod fetch;
mod find_coordinator;
mod heartbeat;
mod incremental_alter_configs;
mod init_producer_id;
mod join_group;
mod leave_group;
mod list_groups;
mod list_offsets;
mod metadata;
mod offset_commit;
mod offset_fetch;
mod produce;
mod sync_group;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

use crate::error::Error;
use crate::protocol::request::{self, HeaderError, RawRequest};
use crate::protocol::{guard, versions};
use crate::server::ServerContext;

/// Why a request could not be answered; the connection is closed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RequestError {
    #[error(transparent)]
    Header(#[from] HeaderError),
    #[error("{api:?} version {version} is not supported")]
    UnsupportedVersion { api: ApiKey, version: i16 },
    #[error("API {0:?} is not supported")]
    UnsupportedApi(ApiKey),
    #[error("malformed {api:?} v{version} request: {reason}")]
    Malformed { api: ApiKey, version: i16, reason: String },
    #[error("encoding the {api:?} response failed: {reason}")]
    Encode { api: ApiKey, reason: String },
}

/// Decodes a request body of a known API and version.
fn decode<T: Decodable>(req: &RawRequest) -> Result<T, RequestError> {
    let mut body = req.body.clone();
    T::decode(&mut body, req.version).map_err(|e| RequestError::Malformed {
        api: req.api_key,
        version: req.version,
        reason: e.to_string(),
    })
}

/// Encodes a response with its header, length-prefixed.
fn encode<T: Encodable>(
    req: &RawRequest,
    header_version: i16,
    body: &T,
) -> Result<BytesMut, RequestError> {
    let err = |e: &dyn std::fmt::Display| RequestError::Encode {
        api: req.api_key,
        reason: e.to_string(),
    };
    let mut buf = BytesMut::with_capacity(256);
    buf.put_i32(0);
    let mut header = ResponseHeader::default();
    header.correlation_id = req.correlation_id;
    header.encode(&mut buf, header_version).map_err(|e| err(&e))?;
    body.encode(&mut buf, req.version).map_err(|e| err(&e))?;
    let len = (buf.len() - 4) as i32;
    buf[..4].copy_from_slice(&len.to_be_bytes());
    Ok(buf)
}

/// The first request item of each name, with whether the name appears more than once (Kafka
/// answers a repeated topic once, with INVALID_REQUEST).
pub(crate) fn first_of_each<T>(items: &[T], name: impl Fn(&T) -> String) -> Vec<(&T, bool)> {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut firsts: Vec<(&T, bool)> = Vec::new();
    for item in items {
        let n = name(item);
        match seen.get(&n) {
            Some(&i) => firsts[i].1 = true,
            None => {
                seen.insert(n, firsts.len());
                firsts.push((item, false));
            }
        }
    }
    firsts
}

/// A string for the wire.
pub(crate) fn wire_str(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

/// INVALID_REQUEST.
pub(crate) const INVALID_REQUEST: i16 = 42;
/// TRANSACTIONAL_ID_AUTHORIZATION_FAILED: transactional producers are not served yet.
pub(crate) const TRANSACTIONS_UNSUPPORTED: i16 = 53;

/// A per-resource failure: Kafka's error code and a message for the client.
pub(crate) type Failure = (i16, String);

/// The failure a broker error becomes.
pub(crate) fn fail(e: Error) -> Failure {
    (error_code(&e), e.to_string())
}

/// Kafka's error code for a broker error.
pub(crate) fn error_code(e: &Error) -> i16 {
    e.kafka_code()
}

/// Handles one request frame; `None` means no response is sent (acks=0 produce).
pub(crate) async fn handle(
    ctx: &ServerContext,
    frame: Bytes,
    peer: std::net::SocketAddr,
) -> Result<Option<BytesMut>, RequestError> {
    let mut req = request::parse(frame)?;
    req.client_host = format!("/{}", peer.ip());
    if req.api_key == ApiKey::ApiVersions {
        return api_versions::handle(&req).map(Some);
    }
    let Some((min, max)) = versions::supported(req.api_key) else {
        return Err(RequestError::UnsupportedApi(req.api_key));
    };
    if req.version < min || req.version > max {
        return Err(RequestError::UnsupportedVersion { api: req.api_key, version: req.version });
    }
    // kafka-protocol sizes vectors by the counts it reads: check every count and length against
    // the bytes present before it decodes anything.
    guard::check_request(req.api_key_code, req.version, &req.body).map_err(|e| {
        let head: String = req.body.iter().take(64).map(|b| format!("{b:02x}")).collect();
        tracing::debug!(client = %req.client_id, body_head = %head, "request body rejected");
        RequestError::Malformed { api: req.api_key, version: req.version, reason: e.to_string() }
    })?;
    let hv = req.api_key.response_header_version(req.version);
    let response = match req.api_key {
        ApiKey::Metadata => encode(&req, hv, &metadata::handle(ctx, decode(&req)?, &req).await)?,
        ApiKey::Produce => match produce::handle(ctx, decode(&req)?, &req).await {
            Some(resp) => encode(&req, hv, &resp)?,
            None => return Ok(None),
        },
        ApiKey::Fetch => encode(&req, hv, &fetch::handle(ctx, decode(&req)?, &req).await)?,
        ApiKey::ListOffsets => {
            encode(&req, hv, &list_offsets::handle(ctx, decode(&req)?, &req).await)?
        }
        ApiKey::InitProducerId => {
            encode(&req, hv, &init_producer_id::handle(ctx, decode(&req)?).await)?
        }
        ApiKey::FindCoordinator => {
            encode(&req, hv, &find_coordinator::handle(ctx, decode(&req)?, &req))?
        }
        ApiKey::JoinGroup => encode(&req, hv, &join_group::handle(ctx, decode(&req)?, &req).await)?,
        ApiKey::SyncGroup => encode(&req, hv, &sync_group::handle(ctx, decode(&req)?, &req).await)?,
        ApiKey::Heartbeat => encode(&req, hv, &heartbeat::handle(ctx, decode(&req)?).await)?,
        ApiKey::LeaveGroup => {
            encode(&req, hv, &leave_group::handle(ctx, decode(&req)?, &req).await)?
        }
        ApiKey::OffsetCommit => {
            encode(&req, hv, &offset_commit::handle(ctx, decode(&req)?, &req).await)?
        }
        ApiKey::OffsetFetch => {
            encode(&req, hv, &offset_fetch::handle(ctx, decode(&req)?, &req).await)?
        }
        ApiKey::DescribeGroups => {
            encode(&req, hv, &describe_groups::handle(ctx, decode(&req)?, &req).await)?
        }
        ApiKey::ListGroups => {
            encode(&req, hv, &list_groups::handle(ctx, decode(&req)?, &req).await)?
        }
        ApiKey::DeleteGroups => encode(&req, hv, &delete_groups::handle(ctx, decode(&req)?).await)?,
        ApiKey::CreateTopics => {
            encode(&req, hv, &create_topics::handle(ctx, decode(&req)?, &req).await)?
        }
        ApiKey::DeleteTopics => {
            encode(&req, hv, &delete_topics::handle(ctx, decode(&req)?, &req).await)?
        }
        ApiKey::CreatePartitions => {
            encode(&req, hv, &create_partitions::handle(ctx, decode(&req)?).await)?
        }
        ApiKey::DescribeConfigs => {
            encode(&req, hv, &describe_configs::handle(ctx, decode(&req)?, &req))?
        }
        ApiKey::IncrementalAlterConfigs => {
            encode(&req, hv, &incremental_alter_configs::handle(ctx, decode(&req)?).await)?
        }
        ApiKey::DeleteRecords => {
            encode(&req, hv, &delete_records::handle(ctx, decode(&req)?).await)?
        }
        other => return Err(RequestError::UnsupportedApi(other)),
    };
    Ok(Some(response))
}
