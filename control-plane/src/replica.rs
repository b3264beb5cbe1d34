//! One replica: a raft-store member plus the HTTP API, in one process.

use std::net::SocketAddr;
use std::sync::Arc;

use clap::Args;
use raft_store::cli::{split_list, Flags as StoreFlags};
use raft_store::server::{Member, Stopped};
use tokio_util::sync::CancellationToken;

/// Flags of `control-plane replica`: raft-store's (etcd's) flags plus the
/// API address.
#[derive(Debug, Args)]
pub struct ReplicaFlags {
    /// Store flags (etcd's names).
    #[command(flatten)]
    pub store: StoreFlags,
    /// Address the Kubernetes-style HTTP API listens on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub api_listen: SocketAddr,
    /// Shut down cleanly when the process with this pid is no longer our
    /// parent (set by `up`, so replicas never outlive it).
    #[arg(long, hide = true)]
    pub parent_pid: Option<u32>,
    /// Flags of the leader tasks (scheduler and controllers).
    #[command(flatten)]
    pub leader: crate::leader::flags::LeaderFlags,
}

/// Errors running a replica.
#[derive(Debug, thiserror::Error)]
pub enum ReplicaError {
    /// Bad flags.
    #[error("{0}")]
    Config(String),
    /// The store did not start.
    #[error(transparent)]
    Store(#[from] raft_store::server::ServeError),
    /// The API listener could not be bound.
    #[error("cannot listen on {addr} for the API: {source}; is another process using the port?")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Run a replica until `shutdown` is cancelled or it is removed from the
/// cluster.
pub async fn run(flags: ReplicaFlags, shutdown: CancellationToken) -> Result<Stopped, ReplicaError> {
    let cfg = flags.store.store_config().map_err(ReplicaError::Config)?;
    let leader_cfg = std::sync::Arc::new(flags.leader.config().map_err(ReplicaError::Config)?);
    if let Some(parent) = flags.parent_pid {
        let token = shutdown.clone();
        tokio::spawn(async move {
            loop {
                if std::os::unix::process::parent_id() != parent {
                    tracing::warn!(parent, "the `up` process that started this replica is gone; shutting down");
                    token.cancel();
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
        });
    }
    let api = tokio::net::TcpListener::bind(flags.api_listen)
        .await
        .map_err(|source| ReplicaError::Bind { addr: flags.api_listen, source })?;
    let member =
        Member::start(cfg, &flags.store.listen_peer_urls, &split_list(&flags.store.listen_client_urls), shutdown)
            .await?;
    let store: Arc<raft_store::Store> = member.store.clone();
    let stop = store.stop.clone();
    tracing::info!(name = %flags.store.name, api = %flags.api_listen, store = %flags.store.advertise_client_urls, "replica serving");
    let api_server = crate::server::ApiServer::new(crate::storage::Objects::new(store.clone()));
    tokio::spawn(crate::bootstrap::ensure(api_server.clone(), store.stop.clone()));
    tokio::spawn(crate::leader::supervisor::run(store.clone(), api_server.clone(), leader_cfg, store.stop.clone()));
    let app = crate::api::router(api_server);
    let server = tokio::spawn(async move {
        use axum::serve::ListenerExt;
        // No Nagle: small gRPC frames would otherwise wait for delayed ACKs (40 ms).
        let api = api.tap_io(|s| {
            let _ = s.set_nodelay(true);
        });
        let _ = axum::serve(api, app).with_graceful_shutdown(async move { stop.cancelled().await }).await;
    });
    let how = member.wait().await;
    let _ = tokio::time::timeout(std::time::Duration::from_secs(3), server).await;
    Ok(how)
}
