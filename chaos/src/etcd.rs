//! Clients of the store's etcd v3 API, and how a failed call is classified.

use std::time::Duration;

use proto::etcdserverpb::kv_client::KvClient;
use proto::etcdserverpb::maintenance_client::MaintenanceClient;
use proto::etcdserverpb::watch_client::WatchClient;
use tonic::transport::{Channel, Endpoint};

use crate::history::Outcome;

/// A lazily connecting channel to `url` (reconnects on its own).
pub fn channel(url: &str) -> Result<Channel, String> {
    Ok(Endpoint::from_shared(url.to_string())
        .map_err(|e| format!("bad URL {url}: {e}"))?
        .connect_timeout(Duration::from_millis(500))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(2))
        .keep_alive_timeout(Duration::from_secs(2))
        .keep_alive_while_idle(true)
        .connect_lazy())
}

/// The etcd clients of one member.
#[derive(Clone)]
pub struct EtcdClient {
    /// KV (range, put, txn).
    pub kv: KvClient<Channel>,
    /// Watch.
    pub watch: WatchClient<Channel>,
    /// Maintenance (status).
    pub maintenance: MaintenanceClient<Channel>,
    /// The channel, for other services.
    pub channel: Channel,
}

impl EtcdClient {
    /// Clients for the member at `url`.
    pub fn new(url: &str) -> Result<EtcdClient, String> {
        let ch = channel(url)?;
        Ok(EtcdClient {
            kv: KvClient::new(ch.clone()),
            watch: WatchClient::new(ch.clone()),
            maintenance: MaintenanceClient::new(ch.clone()),
            channel: ch,
        })
    }
}

/// Full text of a status, with its source chain.
pub fn status_text(s: &tonic::Status) -> String {
    let mut text = format!("{}: {}", s.code(), s.message());
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(s);
    while let Some(e) = src {
        text.push_str(&format!(": {e}"));
        src = e.source();
    }
    text
}

/// Whether the request certainly never reached a server (no connection).
pub fn never_sent(text: &str) -> bool {
    let t = text.to_lowercase();
    t.contains("connection refused") || t.contains("tcp connect error") || t.contains("error trying to connect")
}

/// Outcome of a failed write: `Fail` only when it certainly did not apply
/// (never sent, or rejected as invalid before being proposed); otherwise
/// `Info`.
pub fn write_failure(s: &tonic::Status) -> Outcome {
    use tonic::Code::*;
    match s.code() {
        InvalidArgument | OutOfRange | NotFound | PermissionDenied | Unauthenticated => Outcome::Fail,
        _ if never_sent(&status_text(s)) => Outcome::Fail,
        _ => Outcome::Info,
    }
}
