//! Request headers: the fields every request starts with.

use bytes::{Buf, Bytes};
use kafka_protocol::messages::{ApiKey, RequestHeader};
use kafka_protocol::protocol::Decodable;

/// Why a request header cannot be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HeaderError {
    /// Fewer than the 8 fixed bytes (api key, version, correlation id).
    #[error("request of {0} bytes is too short for a header")]
    TooShort(usize),
    /// The API key is not one Kafka defines.
    #[error("unknown API key {0}")]
    UnknownApi(i16),
    /// The rest of the header (client id, tagged fields) is malformed.
    #[error("malformed request header: {0}")]
    Malformed(String),
}

/// A request with its header parsed and its body still encoded.
#[derive(Debug)]
pub(crate) struct RawRequest {
    pub(crate) api_key: ApiKey,
    pub(crate) api_key_code: i16,
    pub(crate) version: i16,
    pub(crate) correlation_id: i32,
    pub(crate) client_id: String,
    /// The client's address as Kafka reports it (`/<ip>`), filled in by the connection.
    pub(crate) client_host: String,
    pub(crate) body: Bytes,
}

/// The API key, version and correlation id, read without trusting the frame's length.
pub(crate) fn peek_ids(frame: &[u8]) -> Result<(i16, i16, i32), HeaderError> {
    if frame.len() < 8 {
        return Err(HeaderError::TooShort(frame.len()));
    }
    let key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let correlation = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
    Ok((key, version, correlation))
}

/// Parses the header of a frame and returns the request with its body.
pub(crate) fn parse(mut frame: Bytes) -> Result<RawRequest, HeaderError> {
    let (code, version, correlation_id) = peek_ids(&frame)?;
    let api_key = ApiKey::try_from(code).map_err(|_| HeaderError::UnknownApi(code))?;
    // ApiVersions requests of versions this broker does not know still get an answer (with the v0
    // header layout, which every version starts with).
    let header_version = if api_key == ApiKey::ApiVersions && version > 4 {
        1
    } else {
        api_key.request_header_version(version)
    };
    let header = RequestHeader::decode(&mut frame, header_version)
        .map_err(|e| HeaderError::Malformed(e.to_string()))?;
    let client_id = header.client_id.as_ref().map(|s| s.to_string()).unwrap_or_default();
    let body = frame.copy_to_bytes(frame.remaining());
    Ok(RawRequest {
        api_key,
        api_key_code: code,
        version,
        correlation_id,
        client_id,
        client_host: String::new(),
        body,
    })
}
