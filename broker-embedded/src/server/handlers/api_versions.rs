//! ApiVersions: the APIs and versions this broker implements.

use bytes::BytesMut;
use kafka_protocol::messages::ApiVersionsResponse;
use kafka_protocol::messages::api_versions_response::ApiVersion;

use crate::protocol::request::RawRequest;
use crate::protocol::versions::SUPPORTED;
use crate::server::handlers::{RequestError, encode};

/// UNSUPPORTED_VERSION.
const UNSUPPORTED_VERSION: i16 = 35;

pub(super) fn handle(req: &RawRequest) -> Result<BytesMut, RequestError> {
    let mut resp = ApiVersionsResponse::default();
    resp.api_keys = SUPPORTED
        .iter()
        .map(|&(key, min, max)| {
            let mut v = ApiVersion::default();
            v.api_key = key as i16;
            v.min_version = min;
            v.max_version = max;
            v
        })
        .collect();
    if (0..=4).contains(&req.version) {
        // The response header of ApiVersions is always version 0.
        return encode(req, 0, &resp);
    }
    // A version this broker does not know: answer as Kafka does, with a v0 response carrying
    // UNSUPPORTED_VERSION and the full list, so the client retries with a version it finds there.
    resp.error_code = UNSUPPORTED_VERSION;
    let v0 = RawRequest {
        api_key: req.api_key,
        api_key_code: req.api_key_code,
        version: 0,
        correlation_id: req.correlation_id,
        client_id: req.client_id.clone(),
        client_host: req.client_host.clone(),
        body: req.body.clone(),
    };
    encode(&v0, 0, &resp)
}
