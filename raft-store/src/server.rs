//! Running a member: bind the peer and client listeners, start the store,
//! serve until shutdown or removal, then stop everything in order.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use proto::raftpeer::raft_peer_server::RaftPeerServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;

use crate::peer::{PeerServer, PEER_MAX_MESSAGE};
use crate::store::{StartError, Store, StoreConfig};

/// Errors running a member.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A URL could not be turned into a listen address.
    #[error("invalid URL {url:?}: {why} (expected e.g. http://127.0.0.1:2379)")]
    BadUrl {
        /// The URL.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}; is another process using the port?")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The store did not start.
    #[error(transparent)]
    Start(#[from] StartError),
    /// A server failed.
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Turn `http://host:port` into a socket address (host must resolve).
pub fn url_to_addr(url: &str) -> Result<SocketAddr, ServeError> {
    let bad = |why: &str| ServeError::BadUrl { url: url.to_string(), why: why.to_string() };
    let u = url::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    if u.scheme() != "http" {
        return Err(bad("only http:// URLs are served (no TLS)"));
    }
    let host = u.host_str().ok_or_else(|| bad("no host"))?;
    let port = u.port().ok_or_else(|| bad("no port"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    use std::net::ToSocketAddrs;
    (host, port).to_socket_addrs().map_err(|e| bad(&e.to_string()))?.next().ok_or_else(|| bad("host does not resolve"))
}

/// Accepted connections with Nagle off: a Raft heartbeat or a small gRPC
/// response must not wait for the peer's delayed ACK (40 ms on Linux).
fn incoming(l: TcpListener) -> TcpIncoming {
    TcpIncoming::from(l).with_nodelay(Some(true))
}

/// How a member stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum Stopped {
    /// Asked to (signal or token).
    Shutdown,
    /// Removed from the cluster by a membership change.
    Removed,
}

/// A started member and its servers.
pub struct Member {
    /// The store.
    pub store: Arc<Store>,
    servers: Vec<tokio::task::JoinHandle<Result<(), tonic::transport::Error>>>,
    shutdown: CancellationToken,
}

impl Member {
    /// Bind listeners and start serving. `shutdown` stops the member.
    pub async fn start(
        cfg: StoreConfig,
        listen_peer: &str,
        listen_client: &[String],
        shutdown: CancellationToken,
    ) -> Result<Member, ServeError> {
        let peer_addr = url_to_addr(listen_peer)?;
        let peer_l =
            TcpListener::bind(peer_addr).await.map_err(|source| ServeError::Bind { addr: peer_addr, source })?;
        let mut client_ls = Vec::new();
        for u in listen_client {
            let a = url_to_addr(u)?;
            client_ls.push(TcpListener::bind(a).await.map_err(|source| ServeError::Bind { addr: a, source })?);
        }
        let store = Store::start(cfg, shutdown.child_token()).await?;
        let stop = store.stop.clone();
        let mut servers = Vec::new();
        let peer_svc = RaftPeerServer::new(PeerServer::new(store.clone()))
            .max_decoding_message_size(PEER_MAX_MESSAGE)
            .max_encoding_message_size(PEER_MAX_MESSAGE);
        let s = stop.clone();
        servers.push(tokio::spawn(
            Server::builder()
                .tcp_nodelay(true)
                .add_service(peer_svc)
                .serve_with_incoming_shutdown(incoming(peer_l), async move { s.cancelled().await }),
        ));
        for l in client_ls {
            let s = stop.clone();
            servers.push(tokio::spawn(
                Server::builder()
                    .tcp_nodelay(true)
                    .http2_keepalive_interval(Some(Duration::from_secs(30)))
                    .add_routes(crate::etcd_api::routes(store.clone()))
                    .serve_with_incoming_shutdown(incoming(l), async move { s.cancelled().await }),
            ));
        }
        Ok(Member { store, servers, shutdown })
    }

    /// Wait until the member stops, then shut it down cleanly.
    pub async fn wait(self) -> Stopped {
        self.store.stop.cancelled().await;
        let how = if self.shutdown.is_cancelled() { Stopped::Shutdown } else { Stopped::Removed };
        self.store.shutdown().await;
        for s in self.servers {
            let _ = tokio::time::timeout(Duration::from_secs(3), s).await;
        }
        how
    }
}

/// Cancel `token` on Ctrl-C or SIGTERM; a second signal exits the process
/// at once (status 130). Spawns a task on the current runtime.
pub fn cancel_on_signals(token: CancellationToken) {
    tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("shutting down (signal again to exit at once)");
        token.cancel();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        std::process::exit(130);
    });
}
