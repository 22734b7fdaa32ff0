//! DeleteGroups: removes empty groups and their committed offsets.

use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::{DeleteGroupsRequest, DeleteGroupsResponse, GroupId};

use crate::server::ServerContext;
use crate::server::handlers::wire_str;

pub(super) async fn handle(ctx: &ServerContext, req: DeleteGroupsRequest) -> DeleteGroupsResponse {
    let ids: Vec<String> = req.groups_names.iter().map(|g| g.0.to_string()).collect();
    let mut resp = DeleteGroupsResponse::default();
    resp.results = ctx
        .broker
        .groups
        .delete_groups(&ids)
        .await
        .into_iter()
        .map(|(id, result)| {
            let mut r = DeletableGroupResult::default();
            r.group_id = GroupId(wire_str(&id));
            r.error_code = result.err().map_or(0, |e| e.code());
            r
        })
        .collect();
    resp
}
