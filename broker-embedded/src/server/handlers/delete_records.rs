//! DeleteRecords: moves partitions' log start offsets forward; offset -1 means the high watermark.

use kafka_protocol::messages::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use kafka_protocol::messages::{DeleteRecordsRequest, DeleteRecordsResponse};

use crate::error::Error;
use crate::server::ServerContext;
use crate::server::handlers::error_code;

pub(super) async fn handle(
    ctx: &ServerContext,
    req: DeleteRecordsRequest,
) -> DeleteRecordsResponse {
    let mut topics = Vec::with_capacity(req.topics.len());
    for topic in req.topics {
        let name = topic.name.0.to_string();
        let mut partitions = Vec::with_capacity(topic.partitions.len());
        for p in topic.partitions {
            let mut out = DeleteRecordsPartitionResult::default();
            out.partition_index = p.partition_index;
            match delete(ctx, &name, p.partition_index, p.offset).await {
                Ok(low) => out.low_watermark = low,
                Err(e) => {
                    out.error_code = error_code(&e);
                    out.low_watermark = -1;
                }
            }
            partitions.push(out);
        }
        let mut t = DeleteRecordsTopicResult::default();
        t.name = topic.name;
        t.partitions = partitions;
        topics.push(t);
    }
    let mut resp = DeleteRecordsResponse::default();
    resp.topics = topics;
    resp
}

/// Deletes the records of one partition below `offset`; returns the new log start offset.
async fn delete(
    ctx: &ServerContext,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<i64, Error> {
    let part = ctx.broker.core.partition(topic, partition)?;
    tokio::task::spawn_blocking(move || part.delete_records(offset))
        .await
        .map_err(|e| Error::Timeout(format!("delete records task failed: {e}")))?
}
