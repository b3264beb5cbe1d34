//! The etcd v3 client API (KV, Watch, Lease, Cluster, Maintenance) served
//! from a [`Store`](crate::store::Store). Wire compatible with etcd 3.4
//! clients; errors use etcd's gRPC codes and messages.

mod cluster;
mod kv;
mod lease;
mod maintenance;
mod watch;

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use proto::etcdserverpb::cluster_server::ClusterServer;
use proto::etcdserverpb::kv_server::KvServer;
use proto::etcdserverpb::lease_server::LeaseServer;
use proto::etcdserverpb::maintenance_server::MaintenanceServer;
use proto::etcdserverpb::watch_server::WatchServer;
use tonic::service::Routes;
use tonic::Status;

use crate::store::Store;

/// gRPC overhead allowed on top of `--max-request-bytes` (as etcd does).
pub const GRPC_OVERHEAD: usize = 512 * 1024;

/// Every etcd service for `store`, ready to be served.
pub fn routes(store: Arc<Store>) -> Routes {
    let max_in = store.cfg.max_request_bytes + GRPC_OVERHEAD;
    let max_out = usize::MAX >> 1;
    let mut b = Routes::builder();
    b.add_service(
        KvServer::new(kv::Kv(store.clone())).max_decoding_message_size(max_in).max_encoding_message_size(max_out),
    );
    b.add_service(
        WatchServer::new(watch::Watch(store.clone()))
            .max_decoding_message_size(max_in)
            .max_encoding_message_size(max_out),
    );
    b.add_service(
        LeaseServer::new(lease::Lease(store.clone()))
            .max_decoding_message_size(max_in)
            .max_encoding_message_size(max_out),
    );
    b.add_service(
        ClusterServer::new(cluster::Cluster(store.clone()))
            .max_decoding_message_size(max_in)
            .max_encoding_message_size(max_out),
    );
    b.add_service(
        MaintenanceServer::new(maintenance::Maintenance(store))
            .max_decoding_message_size(max_in)
            .max_encoding_message_size(max_out),
    );
    b.routes()
}

/// Run `f` with a sender and expose what it sends as a response stream.
pub(crate) fn async_stream_like<T, F, Fut>(f: F) -> Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>
where
    T: Send + 'static,
    F: FnOnce(tokio::sync::mpsc::Sender<Result<T, Status>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(f(tx));
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))
}
