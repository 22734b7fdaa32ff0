//! InitProducerId: a new producer id for an idempotent producer.

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};

use crate::server::ServerContext;
use crate::server::handlers::TRANSACTIONS_UNSUPPORTED;
use crate::server::handlers::error_code;

pub(super) async fn handle(
    ctx: &ServerContext,
    req: InitProducerIdRequest,
) -> InitProducerIdResponse {
    let mut resp = InitProducerIdResponse::default();
    resp.producer_id = ProducerId(-1);
    resp.producer_epoch = -1;
    if req.transactional_id.is_some() {
        resp.error_code = TRANSACTIONS_UNSUPPORTED;
        return resp;
    }
    // An idempotent producer (re)initialising gets a fresh id, so its sequences start over.
    match ctx.broker.core.allocate_producer_id() {
        Ok(id) => {
            resp.producer_id = ProducerId(id);
            resp.producer_epoch = 0;
        }
        Err(e) => resp.error_code = error_code(&e),
    }
    resp
}
