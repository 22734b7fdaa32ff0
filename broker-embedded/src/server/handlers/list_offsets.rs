//! ListOffsets: earliest (-2), latest (-1), max timestamp (-3), or the first offset at a timestamp.

use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};

use crate::error::Error;
use crate::protocol::request::RawRequest;
use crate::server::ServerContext;
use crate::server::handlers::error_code;

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;

pub(super) async fn handle(
    ctx: &ServerContext,
    req: ListOffsetsRequest,
    raw: &RawRequest,
) -> ListOffsetsResponse {
    let mut topics = Vec::with_capacity(req.topics.len());
    for topic in req.topics {
        let name = topic.name.0.to_string();
        let mut partitions = Vec::with_capacity(topic.partitions.len());
        for p in topic.partitions {
            let mut out = ListOffsetsPartitionResponse::default();
            out.partition_index = p.partition_index;
            if raw.version >= 4 {
                out.leader_epoch = 0;
            }
            match lookup(ctx, &name, p.partition_index, p.timestamp).await {
                Ok((offset, ts)) => {
                    out.offset = offset;
                    out.timestamp = ts;
                }
                Err(e) => {
                    out.error_code = error_code(&e);
                    out.offset = -1;
                    out.timestamp = -1;
                }
            }
            partitions.push(out);
        }
        let mut t = ListOffsetsTopicResponse::default();
        t.name = topic.name;
        t.partitions = partitions;
        topics.push(t);
    }
    let mut resp = ListOffsetsResponse::default();
    resp.topics = topics;
    resp
}

async fn lookup(
    ctx: &ServerContext,
    topic: &str,
    partition: i32,
    ts: i64,
) -> Result<(i64, i64), Error> {
    let part = ctx.broker.core.partition(topic, partition)?;
    match ts {
        LATEST => Ok((part.high_watermark(), -1)),
        EARLIEST => Ok((part.log_start_offset(), -1)),
        _ => {
            tokio::task::spawn_blocking(move || {
                let hw = part.high_watermark();
                let log = part.log.lock();
                let found = if ts == MAX_TIMESTAMP {
                    log.max_timestamp_offset()?
                } else {
                    log.offset_for_timestamp(ts)?
                };
                // No record that recent: Kafka answers offset -1, timestamp -1.
                Ok(found.filter(|(o, _)| *o < hw).unwrap_or((-1, -1)))
            })
            .await
            .map_err(|e| Error::Timeout(format!("list offsets task failed: {e}")))?
        }
    }
}
