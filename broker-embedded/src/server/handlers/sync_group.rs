//! SyncGroup: the leader hands out the assignment; every member gets its own bytes back.

use kafka_protocol::messages::{SyncGroupRequest, SyncGroupResponse};

use crate::group::{GroupError, SyncRequest};
use crate::protocol::request::RawRequest;
use crate::server::ServerContext;
use crate::server::handlers::wire_str;

pub(super) async fn handle(
    ctx: &ServerContext,
    req: SyncGroupRequest,
    raw: &RawRequest,
) -> SyncGroupResponse {
    let v = raw.version;
    let sync = SyncRequest {
        group_id: req.group_id.0.to_string(),
        member_id: req.member_id.to_string(),
        generation_id: req.generation_id,
        group_instance_id: if v >= 3 {
            req.group_instance_id.as_ref().map(|s| s.to_string())
        } else {
            None
        },
        protocol_type: if v >= 5 {
            req.protocol_type.as_ref().map(|s| s.to_string())
        } else {
            None
        },
        protocol_name: if v >= 5 {
            req.protocol_name.as_ref().map(|s| s.to_string())
        } else {
            None
        },
        assignments: req
            .assignments
            .into_iter()
            .map(|a| (a.member_id.to_string(), a.assignment))
            .collect(),
    };
    let answer = ctx.broker.groups.sync_group(sync).await;

    let mut resp = SyncGroupResponse::default();
    resp.error_code = answer.error.map_or(0, GroupError::code);
    if v >= 5 {
        resp.protocol_type = answer.protocol_type.as_deref().map(wire_str);
        resp.protocol_name = answer.protocol_name.as_deref().map(wire_str);
    }
    resp.assignment = answer.assignment;
    resp
}
