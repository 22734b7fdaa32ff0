//! DescribeGroups: state, protocol and members of each group; an unknown group is reported Dead.

use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::{DescribeGroupsRequest, DescribeGroupsResponse, GroupId};

use crate::group::GroupError;
use crate::protocol::request::RawRequest;
use crate::server::ServerContext;
use crate::server::handlers::wire_str;

pub(super) async fn handle(
    ctx: &ServerContext,
    req: DescribeGroupsRequest,
    raw: &RawRequest,
) -> DescribeGroupsResponse {
    let mut resp = DescribeGroupsResponse::default();
    for id in req.groups {
        let d = ctx.broker.groups.describe_group(&id.0).await;
        // Authorized operations stay at Kafka's "not requested" value: there are no ACLs.
        let mut g = DescribedGroup::default();
        g.error_code = d.error.map_or(0, GroupError::code);
        g.group_id = GroupId(wire_str(&d.group_id));
        g.group_state = wire_str(&d.state);
        g.protocol_type = wire_str(&d.protocol_type);
        g.protocol_data = wire_str(&d.protocol);
        g.members = d
            .members
            .into_iter()
            .map(|m| {
                let mut member = DescribedGroupMember::default();
                member.member_id = wire_str(&m.member_id);
                if raw.version >= 4 {
                    member.group_instance_id = m.group_instance_id.as_deref().map(wire_str);
                }
                member.client_id = wire_str(&m.client_id);
                member.client_host = wire_str(&m.client_host);
                member.member_metadata = m.metadata;
                member.member_assignment = m.assignment;
                member
            })
            .collect();
        resp.groups.push(g);
    }
    resp
}
