//! JoinGroup: a member joins (or rejoins) a group and waits for the rebalance to complete.

use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::{JoinGroupRequest, JoinGroupResponse};

use crate::group::{GroupError, JoinRequest};
use crate::protocol::request::RawRequest;
use crate::server::ServerContext;
use crate::server::handlers::wire_str;

pub(super) async fn handle(
    ctx: &ServerContext,
    req: JoinGroupRequest,
    raw: &RawRequest,
) -> JoinGroupResponse {
    let v = raw.version;
    let group_instance_id =
        if v >= 5 { req.group_instance_id.as_ref().map(|s| s.to_string()) } else { None };
    // Kafka asks for the two-step join from version 4 on, except for static members.
    let require_known_member_id = v >= 4 && group_instance_id.is_none();
    let join = JoinRequest {
        group_id: req.group_id.0.to_string(),
        member_id: req.member_id.to_string(),
        group_instance_id,
        client_id: raw.client_id.clone(),
        // The peer address does not reach the handlers; Kafka reports "/<ip>" here.
        client_host: raw.client_host.clone(),
        session_timeout_ms: req.session_timeout_ms,
        // Version 0 has no rebalance timeout: the session timeout serves for both.
        rebalance_timeout_ms: if v >= 1 {
            req.rebalance_timeout_ms
        } else {
            req.session_timeout_ms
        },
        protocol_type: req.protocol_type.to_string(),
        protocols: req.protocols.into_iter().map(|p| (p.name.to_string(), p.metadata)).collect(),
        require_known_member_id,
    };
    let answer = ctx.broker.groups.join_group(join).await;

    let mut resp = JoinGroupResponse::default();
    resp.error_code = answer.error.map_or(0, GroupError::code);
    resp.generation_id = answer.generation_id;
    if v >= 7 {
        resp.protocol_type = answer.protocol_type.as_deref().map(wire_str);
    }
    // The protocol name is nullable only from version 7; older clients get an empty string.
    resp.protocol_name = match answer.protocol_name.as_deref() {
        Some(name) => Some(wire_str(name)),
        None if v < 7 => Some(wire_str("")),
        None => None,
    };
    resp.leader = wire_str(&answer.leader);
    resp.member_id = wire_str(&answer.member_id);
    resp.members = answer
        .members
        .into_iter()
        .map(|m| {
            let mut member = JoinGroupResponseMember::default();
            member.member_id = wire_str(&m.member_id);
            if v >= 5 {
                member.group_instance_id = m.group_instance_id.as_deref().map(wire_str);
            }
            member.metadata = m.metadata;
            member
        })
        .collect();
    resp
}
