//! FindCoordinator: this broker coordinates every group.

use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};

use crate::protocol::request::RawRequest;
use crate::server::ServerContext;
use crate::server::handlers::wire_str;

/// COORDINATOR_NOT_AVAILABLE: transaction coordinators are not served yet.
const COORDINATOR_NOT_AVAILABLE: i16 = 15;
/// Key type of transactional ids.
const TRANSACTION: i8 = 1;

pub(super) fn handle(
    ctx: &ServerContext,
    req: FindCoordinatorRequest,
    raw: &RawRequest,
) -> FindCoordinatorResponse {
    let error = if req.key_type == TRANSACTION { COORDINATOR_NOT_AVAILABLE } else { 0 };
    let mut resp = FindCoordinatorResponse::default();
    if raw.version >= 4 {
        resp.coordinators = req
            .coordinator_keys
            .into_iter()
            .map(|key| {
                let mut c = Coordinator::default();
                c.key = key;
                c.error_code = error;
                c.node_id = BrokerId(if error == 0 { 0 } else { -1 });
                c.host = wire_str(if error == 0 { &ctx.host } else { "" });
                c.port = if error == 0 { ctx.port } else { -1 };
                c
            })
            .collect();
    } else {
        resp.error_code = error;
        resp.node_id = BrokerId(if error == 0 { 0 } else { -1 });
        resp.host = wire_str(if error == 0 { &ctx.host } else { "" });
        resp.port = if error == 0 { ctx.port } else { -1 };
    }
    resp
}
