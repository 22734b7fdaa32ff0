//! ListGroups: every group, or (v4+) those in the requested states.

use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{GroupId, ListGroupsRequest, ListGroupsResponse};

use crate::group::state::GroupState;
use crate::protocol::request::RawRequest;
use crate::server::ServerContext;
use crate::server::handlers::wire_str;

const STATES: [GroupState; 5] = [
    GroupState::Empty,
    GroupState::PreparingRebalance,
    GroupState::CompletingRebalance,
    GroupState::Stable,
    GroupState::Dead,
];

pub(super) async fn handle(
    ctx: &ServerContext,
    req: ListGroupsRequest,
    raw: &RawRequest,
) -> ListGroupsResponse {
    let v = raw.version;
    let filter = if v >= 4 { req.states_filter } else { Vec::new() };
    let states: Vec<GroupState> = STATES
        .into_iter()
        .filter(|s| filter.iter().any(|name| name.eq_ignore_ascii_case(s.name())))
        .collect();
    let mut resp = ListGroupsResponse::default();
    // A filter naming no known state matches no group (an empty state list would mean all).
    if !filter.is_empty() && states.is_empty() {
        return resp;
    }
    resp.groups = ctx
        .broker
        .groups
        .list_groups(&states)
        .await
        .into_iter()
        .map(|l| {
            let mut g = ListedGroup::default();
            g.group_id = GroupId(wire_str(&l.group_id));
            g.protocol_type = wire_str(&l.protocol_type);
            if v >= 4 {
                g.group_state = wire_str(l.state.name());
            }
            g
        })
        .collect();
    resp
}
