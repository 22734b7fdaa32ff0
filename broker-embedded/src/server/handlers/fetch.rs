//! Fetch: whole batches from each partition's position, waiting up to `max_wait_ms` for `min_bytes`.

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{BrokerId, FetchRequest, FetchResponse};
use tokio::time::Instant;

use crate::error::Error;
use crate::protocol::request::RawRequest;
use crate::server::ServerContext;
use crate::server::handlers::error_code;

/// The longest wait a client may ask for (Kafka caps it by its request timeout too).
const MAX_WAIT: Duration = Duration::from_secs(30);

pub(super) async fn handle(
    ctx: &ServerContext,
    req: FetchRequest,
    raw: &RawRequest,
) -> FetchResponse {
    let wait = Duration::from_millis(req.max_wait_ms.max(0) as u64).min(MAX_WAIT);
    let deadline = Instant::now() + wait;
    let min_bytes = req.min_bytes.max(0) as usize;
    loop {
        let arrived = ctx.broker.core.data_arrived.notified();
        let (responses, total, any_error) = read_all(ctx, &req, raw.version).await;
        if total >= min_bytes.max(1) || any_error || Instant::now() >= deadline {
            let mut resp = FetchResponse::default();
            resp.responses = responses;
            return resp;
        }
        let _ = tokio::time::timeout_at(deadline, arrived).await;
    }
}

async fn read_all(
    ctx: &ServerContext,
    req: &FetchRequest,
    v: i16,
) -> (Vec<FetchableTopicResponse>, usize, bool) {
    let mut budget = if req.max_bytes > 0 { req.max_bytes as usize } else { usize::MAX };
    let mut total = 0usize;
    let mut any_error = false;
    let mut topics = Vec::with_capacity(req.topics.len());
    for topic in &req.topics {
        let name = topic.topic.0.to_string();
        let mut partitions = Vec::with_capacity(topic.partitions.len());
        for p in &topic.partitions {
            let mut out = PartitionData::default();
            out.partition_index = p.partition;
            out.high_watermark = -1;
            out.last_stable_offset = -1;
            out.log_start_offset = -1;
            if v >= 11 {
                out.preferred_read_replica = BrokerId(-1);
            }
            out.aborted_transactions =
                if req.isolation_level == 1 { Some(Vec::new()) } else { None };
            let max = (p.partition_max_bytes.max(0) as usize).min(budget);
            // Once the response is full, other partitions get no data (but still their offsets).
            let first = total == 0;
            match read_partition(ctx, &name, p.partition, p.fetch_offset, max, first).await {
                Ok((records, hw, log_start)) => {
                    out.high_watermark = hw;
                    out.last_stable_offset = hw;
                    if v >= 5 {
                        out.log_start_offset = log_start;
                    }
                    total += records.len();
                    budget = budget.saturating_sub(records.len());
                    out.records = Some(records);
                }
                Err(e) => {
                    any_error = true;
                    out.error_code = error_code(&e);
                    out.records = Some(Bytes::new());
                    if let Ok(part) = ctx.broker.core.partition(&name, p.partition) {
                        out.high_watermark = part.high_watermark();
                        out.last_stable_offset = out.high_watermark;
                        if v >= 5 {
                            out.log_start_offset = part.log_start_offset();
                        }
                    }
                }
            }
            partitions.push(out);
        }
        let mut t = FetchableTopicResponse::default();
        t.topic = topic.topic.clone();
        t.topic_id = topic.topic_id;
        t.partitions = partitions;
        topics.push(t);
    }
    (topics, total, any_error)
}

/// Reads whole batches of one partition; returns (records, high watermark, log start offset).
async fn read_partition(
    ctx: &ServerContext,
    topic: &str,
    partition: i32,
    offset: i64,
    max_bytes: usize,
    must_return_one: bool,
) -> Result<(Bytes, i64, i64), Error> {
    let part = ctx.broker.core.partition(topic, partition)?;
    if max_bytes == 0 && !must_return_one {
        return Ok((Bytes::new(), part.high_watermark(), part.log_start_offset()));
    }
    tokio::task::spawn_blocking(move || {
        let hw = part.high_watermark();
        let read = part.read(offset, max_bytes.max(1), None)?;
        Ok((read.batches, hw, part.log_start_offset()))
    })
    .await
    .map_err(|e| Error::Timeout(format!("fetch task failed: {e}")))?
}
