//! Command-line flags of the `raft-store` binary, named after etcd's so an
//! etcd user can swap it in.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::store::StoreConfig;

/// A raft-store member: an etcd v3 API-compatible, Raft-replicated store.
#[derive(Debug, Parser)]
#[command(name = "raft-store", version, about)]
pub struct Flags {
    /// Human-readable name of this member.
    #[arg(long, default_value = "default")]
    pub name: String,
    /// Directory for the member's data (default: <name>.etcd).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Comma-separated URLs to serve the client (etcd v3) API on.
    #[arg(long, default_value = "http://localhost:2379")]
    pub listen_client_urls: String,
    /// Comma-separated client URLs to advertise to the cluster.
    #[arg(long, default_value = "http://localhost:2379")]
    pub advertise_client_urls: String,
    /// URL to serve Raft peer traffic on.
    #[arg(long, default_value = "http://localhost:2380")]
    pub listen_peer_urls: String,
    /// This member's peer URL as the others reach it.
    #[arg(long, default_value = "http://localhost:2380")]
    pub initial_advertise_peer_urls: String,
    /// Initial cluster: name=peer-url,...
    #[arg(long, default_value = "default=http://localhost:2380")]
    pub initial_cluster: String,
    /// `new` to bootstrap a cluster, `existing` to join one (after `member add`).
    #[arg(long, default_value = "new", value_parser = ["new", "existing"])]
    pub initial_cluster_state: String,
    /// Token identifying the cluster; the cluster id derives from it.
    #[arg(long, default_value = "etcd-cluster")]
    pub initial_cluster_token: String,
    /// Raft heartbeat interval in milliseconds.
    #[arg(long, default_value_t = 100)]
    pub heartbeat_interval: u64,
    /// Raft election timeout in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub election_timeout: u64,
    /// Largest client request in bytes.
    #[arg(long, default_value_t = 1536 * 1024)]
    pub max_request_bytes: usize,
    /// Applied entries between snapshots.
    #[arg(long, default_value_t = 10_000)]
    pub snapshot_count: u64,
    /// Entries kept behind a snapshot for slow followers.
    #[arg(long, default_value_t = 5_000)]
    pub snapshot_catchup_entries: u64,
    /// How long a request waits for a leader or quorum, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    pub request_timeout: u64,
    /// Dial some peers at another address than the one they advertise:
    /// `advertised=dial,...` (peer URLs). For proxies that sit between
    /// members, e.g. the chaos tool's partition proxies; members still
    /// identify each other by the advertised URL.
    #[arg(long, default_value = "")]
    pub peer_dial_override: String,
    /// Log filter (tracing env-filter syntax), e.g. info or raft_store=debug.
    #[arg(long, default_value = "info,openraft=warn")]
    pub log_level: String,
}

/// Split a comma-separated list.
pub fn split_list(s: &str) -> Vec<String> {
    s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect()
}

impl Flags {
    /// The store configuration these flags describe.
    pub fn store_config(&self) -> Result<StoreConfig, String> {
        let mut initial = Vec::new();
        for item in split_list(&self.initial_cluster) {
            let (n, u) =
                item.split_once('=').ok_or_else(|| format!("--initial-cluster entry {item:?} is not name=url"))?;
            initial.push((n.to_string(), u.to_string()));
        }
        let peer_urls = split_list(&self.initial_advertise_peer_urls);
        let peer_url = peer_urls.first().ok_or("--initial-advertise-peer-urls is empty")?.clone();
        let data_dir = self.data_dir.clone().unwrap_or_else(|| PathBuf::from(format!("{}.etcd", self.name)));
        let mut cfg = StoreConfig::new(&self.name, data_dir, &peer_url, "");
        cfg.client_urls = split_list(&self.advertise_client_urls);
        cfg.initial_cluster = initial;
        cfg.new_cluster = self.initial_cluster_state == "new";
        cfg.cluster_token = self.initial_cluster_token.clone();
        cfg.heartbeat = Duration::from_millis(self.heartbeat_interval);
        cfg.election_timeout = Duration::from_millis(self.election_timeout);
        if self.election_timeout < 5 * self.heartbeat_interval {
            return Err(format!(
                "--election-timeout ({} ms) should be at least 5 times --heartbeat-interval ({} ms)",
                self.election_timeout, self.heartbeat_interval
            ));
        }
        cfg.max_request_bytes = self.max_request_bytes;
        cfg.snapshot_count = self.snapshot_count;
        cfg.snapshot_catchup_entries = self.snapshot_catchup_entries;
        cfg.request_timeout = Duration::from_millis(self.request_timeout);
        for item in split_list(&self.peer_dial_override) {
            let (adv, dial) = item
                .split_once('=')
                .ok_or_else(|| format!("--peer-dial-override entry {item:?} is not advertised-url=dial-url"))?;
            cfg.peer_dial_overrides.insert(adv.to_string(), dial.to_string());
        }
        Ok(cfg)
    }
}
