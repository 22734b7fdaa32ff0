//! LeaveGroup: one member (versions 0-2) or a batch of members (3+) leave a group.

use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::{LeaveGroupRequest, LeaveGroupResponse};

use crate::protocol::request::RawRequest;
use crate::server::ServerContext;
use crate::server::handlers::wire_str;

pub(super) async fn handle(
    ctx: &ServerContext,
    req: LeaveGroupRequest,
    raw: &RawRequest,
) -> LeaveGroupResponse {
    let mut resp = LeaveGroupResponse::default();
    if raw.version < 3 {
        let ids = [req.member_id.to_string()];
        resp.error_code = match ctx.broker.groups.leave_group(&req.group_id.0, &ids).await {
            Ok(results) => results.into_iter().find_map(|(_, r)| r.err()).map_or(0, |e| e.code()),
            Err(e) => e.code(),
        };
        return resp;
    }
    let ids: Vec<String> = req.members.iter().map(|m| m.member_id.to_string()).collect();
    match ctx.broker.groups.leave_group(&req.group_id.0, &ids).await {
        Ok(results) => {
            resp.members = req
                .members
                .into_iter()
                .zip(results)
                .map(|(identity, (id, result))| {
                    let mut m = MemberResponse::default();
                    m.member_id = wire_str(&id);
                    m.group_instance_id = identity.group_instance_id;
                    m.error_code = result.err().map_or(0, |e| e.code());
                    m
                })
                .collect();
        }
        Err(e) => resp.error_code = e.code(),
    }
    resp
}
