//! The TCP front door: the embedded broker served over the Kafka wire protocol, so that real Kafka
//! clients (librdkafka, the Java client, kafka-python, kcat) use it unchanged.
//!
//! Each connection reads length-prefixed frames, answers them one at a time in arrival order (as
//! Kafka does: a connection's next request is not read until the previous one is answered, which
//! keeps pipelined requests in order and lets Fetch and JoinGroup wait), and closes on a malformed
//! frame without affecting the broker or other connections.

mod connection;
mod handlers;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::Broker;
use crate::error::{Error, Result};

/// Settings of the protocol server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on. Default `127.0.0.1:9092`.
    pub listen: SocketAddr,
    /// Host name given to clients in Metadata and FindCoordinator; default: the listen address.
    pub advertised_host: Option<String>,
    /// Largest request accepted, in bytes. Default 100 MiB (Kafka's `socket.request.max.bytes`).
    pub max_request_size: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9092)),
            advertised_host: None,
            max_request_size: 100 * 1024 * 1024,
        }
    }
}

/// What every connection shares.
#[derive(Debug)]
pub(crate) struct ServerContext {
    pub(crate) broker: Broker,
    pub(crate) host: String,
    pub(crate) port: i32,
    pub(crate) max_request_size: usize,
}

/// A running protocol server. Dropping it stops accepting connections.
#[derive(Debug)]
pub struct Server {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Binds the listen address and starts serving `broker`. Must be called inside a Tokio runtime.
    pub async fn start(broker: Broker, config: ServerConfig) -> Result<Server> {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| Error::storage(format!("binding {}", config.listen), e))?;
        let local_addr =
            listener.local_addr().map_err(|e| Error::storage("reading the listen address", e))?;
        let host = config.advertised_host.clone().unwrap_or_else(|| local_addr.ip().to_string());
        let ctx = Arc::new(ServerContext {
            broker,
            host,
            port: i32::from(local_addr.port()),
            max_request_size: config.max_request_size,
        });
        let (stop, mut stopped) = watch::channel(false);
        info!(listen = %local_addr, advertised = %ctx.host, "Kafka protocol server listening");
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    accepted = listener.accept() => match accepted {
                        Ok((socket, peer)) => {
                            let ctx = ctx.clone();
                            let stopped = stopped.clone();
                            tokio::spawn(async move {
                                connection::serve(ctx, socket, peer, stopped).await;
                            });
                        }
                        Err(e) => {
                            warn!(error = %e, "accepting a connection failed");
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        }
                    },
                }
            }
        });
        Ok(Server { local_addr, stop, task })
    }

    /// The address the server listens on (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting connections and closes the open ones.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
