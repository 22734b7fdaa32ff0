//! Produce: validate each partition's record batch and append it; acks=0 gets no response.

use bytes::BytesMut;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::now_ms;
use crate::error::Error;
use crate::protocol::request::RawRequest;
use crate::server::ServerContext;
use crate::server::handlers::TRANSACTIONS_UNSUPPORTED;
use crate::server::handlers::error_code;

/// INVALID_REQUIRED_ACKS.
const INVALID_REQUIRED_ACKS: i16 = 21;

pub(super) async fn handle(
    ctx: &ServerContext,
    req: ProduceRequest,
    raw: &RawRequest,
) -> Option<ProduceResponse> {
    let v = raw.version;
    let acks = req.acks;
    let mut responses = Vec::with_capacity(req.topic_data.len());
    for topic in req.topic_data {
        let name = topic.name.0.to_string();
        let mut partitions = Vec::with_capacity(topic.partition_data.len());
        for p in topic.partition_data {
            let mut out = PartitionProduceResponse::default();
            out.index = p.index;
            out.base_offset = -1;
            out.log_append_time_ms = -1;
            out.log_start_offset = -1;
            let result = if !matches!(acks, -1..=1) {
                Err((INVALID_REQUIRED_ACKS, "acks must be -1, 0 or 1".to_string()))
            } else if req.transactional_id.is_some() {
                Err((TRANSACTIONS_UNSUPPORTED, "transactions are not supported yet".to_string()))
            } else {
                append(ctx, &name, p.index, p.records, acks)
                    .await
                    .map_err(|e| (error_code(&e), e.to_string()))
            };
            match result {
                Ok((base, append_time, log_start)) => {
                    out.base_offset = base;
                    out.log_append_time_ms = append_time;
                    if v >= 5 {
                        out.log_start_offset = log_start;
                    }
                }
                Err((code, message)) => {
                    out.error_code = code;
                    if v >= 8 {
                        out.error_message = Some(StrBytes::from_string(message));
                    }
                }
            }
            partitions.push(out);
        }
        let mut t = TopicProduceResponse::default();
        t.name = topic.name;
        t.partition_responses = partitions;
        responses.push(t);
    }
    if acks == 0 {
        return None;
    }
    let mut resp = ProduceResponse::default();
    resp.responses = responses;
    Some(resp)
}

/// Appends one partition's batch; returns (base offset, log append time, log start offset).
async fn append(
    ctx: &ServerContext,
    topic: &str,
    partition: i32,
    records: Option<bytes::Bytes>,
    acks: i16,
) -> Result<(i64, i64, i64), Error> {
    let part = ctx.broker.core.partition(topic, partition)?;
    let records = records.ok_or_else(|| Error::InvalidRecord("no records".into()))?;
    if acks == 0 || !part.acks_wait_for_fsync() {
        // Nothing to wait for (interval mode): the append, a write into the page cache under the
        // log's lock, runs on the connection's worker. Handing it to the blocking pool would cost
        // two thread wake-ups per request, which on a busy machine are most of its latency.
        let mut batch = BytesMut::from(&records[..]);
        let info = part.append_nowait(&mut batch, now_ms(), false)?;
        return Ok((info.base_offset, info.log_append_time, part.log_start_offset()));
    }
    tokio::task::spawn_blocking(move || {
        // The batch is stored as received; only its base offset (outside the CRC) is rewritten.
        let mut batch = BytesMut::from(&records[..]);
        let info = part.append_nowait(&mut batch, now_ms(), false)?;
        if acks != 0 {
            part.wait_durable(info.last_offset + 1)?;
        }
        Ok((info.base_offset, info.log_append_time, part.log_start_offset()))
    })
    .await
    .map_err(|e| Error::Timeout(format!("produce task failed: {e}")))?
}
