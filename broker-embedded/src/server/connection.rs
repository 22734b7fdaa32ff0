//! One client connection: frames in, responses out, strictly in order.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::{debug, info};

use crate::protocol::frame::next_frame;
use crate::server::ServerContext;
use crate::server::handlers;

pub(crate) async fn serve(
    ctx: Arc<ServerContext>,
    mut socket: TcpStream,
    peer: SocketAddr,
    mut stopped: watch::Receiver<bool>,
) {
    let _ = socket.set_nodelay(true);
    debug!(%peer, "connection opened");
    let mut buf = BytesMut::with_capacity(64 * 1024);
    loop {
        let frame = match next_frame(&mut buf, ctx.max_request_size) {
            Ok(Some(frame)) => frame,
            Ok(None) => {
                if buf.capacity() - buf.len() < 4096 {
                    buf.reserve(64 * 1024);
                }
                tokio::select! {
                    _ = stopped.changed() => break,
                    read = socket.read_buf(&mut buf) => match read {
                        Ok(0) => break,
                        Ok(_) => continue,
                        Err(e) => {
                            debug!(%peer, error = %e, "connection read failed");
                            break;
                        }
                    },
                }
            }
            Err(e) => {
                info!(%peer, error = %e, "closing connection: malformed frame");
                break;
            }
        };
        match handlers::handle(&ctx, frame, peer).await {
            Ok(Some(response)) => {
                if let Err(e) = socket.write_all(&response).await {
                    debug!(%peer, error = %e, "connection write failed");
                    break;
                }
            }
            Ok(None) => {} // acks=0 produce: no response
            Err(e) => {
                info!(%peer, error = %e, "closing connection: malformed request");
                break;
            }
        }
    }
    debug!(%peer, "connection closed");
}
