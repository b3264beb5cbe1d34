//! Many hollow nodes in one process (`node-agent hollow --count N`): each
//! has its own Node, Lease, assignment stream and pod workers on a shared
//! in-memory runtime, so one machine can stand in for thousands of nodes.
//!
//! Nodes share gRPC connections (`nodes_per_connection` streams each) and
//! start in waves so registration does not stampede the control plane;
//! progress is printed while they come up.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::agent::{self, AgentConfig};
use crate::node::HostFacts;
use crate::runtime::hollow::HollowRuntime;
use crate::runtime::Runtime;
use crate::servers::Servers;
use crate::sources::GrpcSources;

/// How a fleet is set up.
#[derive(Debug, Clone)]
pub struct FleetConfig {
    /// Replica URLs.
    pub servers: Vec<String>,
    /// Number of nodes.
    pub count: usize,
    /// Index of the first node.
    pub first: usize,
    /// Names are `<prefix><index>`.
    pub name_prefix: String,
    /// Container start → Running.
    pub start_delay: Duration,
    /// CPU cores per node.
    pub cpus: u32,
    /// Memory bytes per node.
    pub memory: u64,
    /// Pods per node.
    pub max_pods: u32,
    /// Extra labels.
    pub labels: BTreeMap<String, String>,
    /// Taints at registration.
    pub taints: Vec<Value>,
    /// Streams per gRPC connection.
    pub nodes_per_connection: usize,
    /// Node address (default: the local address toward the first server).
    pub node_ip: Option<String>,
}

/// Nodes started per wave, and the pause between waves.
const WAVE: usize = 200;
const WAVE_PAUSE: Duration = Duration::from_millis(100);

/// Run the fleet until `stop`.
pub async fn run_fleet(cfg: FleetConfig, stop: CancellationToken) -> anyhow::Result<()> {
    let runtime: Arc<dyn Runtime> = Arc::new(HollowRuntime::new(cfg.start_delay));
    let ip = cfg
        .node_ip
        .clone()
        .or_else(|| cfg.servers.first().and_then(|s| crate::cli::local_ip_towards(s)))
        .unwrap_or_else(|| "127.0.0.1".into());
    let tracker = TaskTracker::new();
    let started = Arc::new(AtomicUsize::new(0));
    let mut pool: Option<Arc<Servers>> = None;
    for i in 0..cfg.count {
        if stop.is_cancelled() {
            break;
        }
        if i % cfg.nodes_per_connection == 0 || pool.is_none() {
            pool = Some(Arc::new(Servers::new(&cfg.servers)?));
        }
        let servers = pool.clone().expect("set above");
        let name = format!("{}{}", cfg.name_prefix, cfg.first + i);
        let facts = HostFacts {
            name: name.clone(),
            ip: ip.clone(),
            cpus: cfg.cpus,
            memory: cfg.memory,
            max_pods: cfg.max_pods,
            runtime_version: "hollow://1".into(),
            kernel: "hollow".into(),
            os_image: "Helmsman hollow node".into(),
        };
        let agent_cfg = AgentConfig {
            facts,
            labels: cfg.labels.clone(),
            taints: cfg.taints.clone(),
            sources: Arc::new(GrpcSources::new(servers.clone())),
            servers,
            data_dir: None,
            runtime: runtime.clone(),
            tunnels: false,
        };
        let stop = stop.clone();
        let started = started.clone();
        tracker.spawn(async move {
            started.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = agent::run(agent_cfg, stop).await {
                tracing::error!(node = %name, error = %e, "hollow node stopped");
            }
        });
        if (i + 1) % WAVE == 0 {
            eprintln!("hollow: {} / {} nodes started", i + 1, cfg.count);
            tokio::time::sleep(WAVE_PAUSE).await;
        }
    }
    eprintln!("hollow: {} nodes running; Ctrl-C stops them", started.load(Ordering::Relaxed));
    tracker.close();
    tracker.wait().await;
    Ok(())
}
