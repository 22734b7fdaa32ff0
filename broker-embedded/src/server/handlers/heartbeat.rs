//! Heartbeat: keeps a member's session alive and tells it when the group rebalances.

use kafka_protocol::messages::{HeartbeatRequest, HeartbeatResponse};

use crate::server::ServerContext;

pub(super) async fn handle(ctx: &ServerContext, req: HeartbeatRequest) -> HeartbeatResponse {
    let result =
        ctx.broker.groups.heartbeat(&req.group_id.0, &req.member_id, req.generation_id).await;
    let mut resp = HeartbeatResponse::default();
    resp.error_code = result.err().map_or(0, |e| e.code());
    resp
}
