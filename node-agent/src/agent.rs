//! One node's agent: registration, heartbeats, the assignment stream, the
//! pod manager, the status reporter and (optionally) log/exec tunnels.
//!
//! Guarantees:
//! - Pods the agent last knew of (persisted set) are started, or adopted
//!   from the runtime, before any replica is reached, and keep running while
//!   none is reachable.
//! - Cancelling `stop` ends every loop and worker but leaves containers
//!   running (like a kubelet restart); the next run adopts them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use proto::agent::{HeartbeatRequest, PodStatusUpdate, RegisterRequest};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::assignments::{self, AssignmentSet};
use crate::manager::Manager;
use crate::node::{self, HostFacts};
use crate::pod::{PodEvent, Report, Sources, WorkerContext};
use crate::reporter::{self, Item};
use crate::runtime::Runtime;
use crate::servers::{should_fail_over, Servers};

/// How one node's agent is set up.
pub struct AgentConfig {
    /// Facts about the host (name, address, capacity).
    pub facts: HostFacts,
    /// Extra node labels.
    pub labels: std::collections::BTreeMap<String, String>,
    /// Taints applied when the Node is created.
    pub taints: Vec<Value>,
    /// The replicas.
    pub servers: Arc<Servers>,
    /// Where the assignment set and pod volumes live (`None`: nothing
    /// persisted, volumes under a temporary directory; hollow nodes).
    pub data_dir: Option<PathBuf>,
    /// The container runtime.
    pub runtime: Arc<dyn Runtime>,
    /// ConfigMaps and Secrets.
    pub sources: Arc<dyn Sources>,
    /// Open log/exec tunnels to every replica.
    pub tunnels: bool,
}

/// Errors that stop an agent.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The persisted assignment set could not be read.
    #[error(transparent)]
    Store(#[from] assignments::StoreError),
    /// The runtime failed at start.
    #[error("container runtime: {0}")]
    Runtime(#[from] crate::runtime::RuntimeError),
}

fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The core/v1 Event for a pod event.
pub fn event_json(node: &str, e: &PodEvent) -> Value {
    let ts = now();
    let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
    let mut involved =
        json!({"apiVersion": "v1", "kind": "Pod", "namespace": e.namespace, "name": e.pod, "uid": e.uid});
    if let Some(fp) = &e.field_path {
        involved["fieldPath"] = json!(fp);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": format!("{}.{:x}", e.pod, nanos), "namespace": e.namespace},
        "involvedObject": involved,
        "reason": e.reason,
        "message": e.message,
        "type": e.type_,
        "source": {"component": "kubelet", "host": node},
        "reportingComponent": "kubelet",
        "reportingInstance": node,
        "firstTimestamp": ts,
        "lastTimestamp": ts,
        "count": 1,
    })
}

/// Turn worker reports into reporter items.
async fn forward(node: String, mut rx: mpsc::Receiver<Report>, tx: mpsc::Sender<Item>) {
    while let Some(r) = rx.recv().await {
        let item = match r {
            Report::Status { namespace, name, uid, status } => Item::Status(PodStatusUpdate {
                namespace,
                name,
                uid,
                status: serde_json::to_vec(&status).unwrap_or_default(),
                terminated: false,
            }),
            Report::Terminated { namespace, name, uid, status } => Item::Status(PodStatusUpdate {
                namespace,
                name,
                uid,
                status: serde_json::to_vec(&status).unwrap_or_default(),
                terminated: true,
            }),
            Report::Event(e) => Item::Event(serde_json::to_vec(&event_json(&node, &e)).unwrap_or_default()),
        };
        if tx.send(item).await.is_err() {
            return;
        }
    }
}

/// Register the Node, retrying (with failover) until it is done or `stop`.
async fn register(cfg: &AgentConfig, stop: &CancellationToken) -> Option<u32> {
    let mut delay = Duration::from_millis(200);
    loop {
        let body = node::node_object(&cfg.facts, &cfg.labels, &cfg.taints, &now());
        let (idx, url, mut client) = cfg.servers.current();
        let call = client.register(RegisterRequest { node: serde_json::to_vec(&body).unwrap_or_default() });
        let r = tokio::select! {
            r = call => r,
            _ = stop.cancelled() => return None,
        };
        match r {
            Ok(resp) => {
                let resp = resp.into_inner();
                tracing::info!(node = %cfg.facts.name, server = url, "node registered");
                return Some(resp.renew_interval_ms.max(500));
            }
            Err(e) => {
                tracing::warn!(node = %cfg.facts.name, server = url, error = %e.message(), "registering the node failed; retrying");
                if should_fail_over(&e) {
                    cfg.servers.failed(idx);
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.cancelled() => return None,
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// Renew the Lease every `interval`, sending the node's conditions.
async fn heartbeats(cfg: Arc<AgentConfig>, interval: Duration, stop: CancellationToken) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.cancelled() => return,
        }
        let (idx, url, mut client) = cfg.servers.current();
        let req = HeartbeatRequest {
            node_name: cfg.facts.name.clone(),
            conditions: serde_json::to_vec(&node::conditions(&now())).unwrap_or_default(),
        };
        if let Err(e) = client.heartbeat(req).await {
            tracing::warn!(node = %cfg.facts.name, server = url, error = %e.message(), "heartbeat failed; next one goes to the next server");
            if should_fail_over(&e) || e.code() == tonic::Code::NotFound {
                cfg.servers.failed(idx);
            }
        }
    }
}

/// Run the agent of one node until `stop`.
pub async fn run(cfg: AgentConfig, stop: CancellationToken) -> Result<(), AgentError> {
    let cfg = Arc::new(cfg);
    let node = cfg.facts.name.clone();
    let tracker = TaskTracker::new();
    let loops = stop.child_token();

    let mut set = match &cfg.data_dir {
        Some(d) => assignments::load(d)?,
        None => AssignmentSet::default(),
    };
    let root = match &cfg.data_dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join("helmsman-hollow").join(&node),
    };

    let (items_tx, items_rx) = mpsc::channel(4096);
    tracker.spawn(reporter::run(node.clone(), cfg.servers.clone(), items_rx, loops.clone()));
    let (reports_tx, reports_rx) = mpsc::channel(4096);
    tracker.spawn(forward(node.clone(), reports_rx, items_tx));

    let found = cfg.runtime.list(&node).await?;
    if !found.is_empty() {
        tracing::info!(node, containers = found.len(), "found containers of an earlier run; adopting them");
    }
    let ctx = Arc::new(WorkerContext {
        runtime: cfg.runtime.clone(),
        node: node.clone(),
        host_ip: cfg.facts.ip.clone(),
        root,
        sources: cfg.sources.clone(),
        reports: reports_tx,
    });
    let mut manager = Manager::new(ctx, found, tracker.clone(), loops.clone());
    // Pods known from the last run start (or are adopted) at once.
    let known: Vec<_> = set.pods.keys().cloned().map(crate::assignments::Change::Upsert).collect();
    if !known.is_empty() {
        tracing::info!(
            node,
            pods = known.len(),
            revision = set.revision,
            "resuming the pods of the saved assignment set"
        );
    }
    manager.apply(&set, &known);

    if cfg.tunnels {
        let lookup = Arc::new(crate::lookup::RuntimeLookup { runtime: cfg.runtime.clone(), node: node.clone() });
        for (_, channel) in cfg.servers.all() {
            tracker.spawn(crate::tunnel::run(
                channel,
                node.clone(),
                cfg.runtime.clone(),
                lookup.clone(),
                loops.clone(),
            ));
        }
    }

    // Registration, then heartbeats, in the background.
    {
        let cfg = cfg.clone();
        let loops = loops.clone();
        tracker.spawn(async move {
            if let Some(ms) = register(&cfg, &loops).await {
                heartbeats(cfg, Duration::from_millis(u64::from(ms)), loops).await;
            }
        });
    }

    // The stream, on this task.
    let data_dir = cfg.data_dir.clone();
    let mut synced = false;
    let mut last_save = std::time::Instant::now();
    crate::stream::follow(&node, &cfg.servers, &mut set, &loops, |set, changes, _msg| {
        manager.apply(set, &changes);
        if !synced {
            synced = true;
            manager.remove_orphans(set);
        }
        // Changes are saved at once; progress alone at most every 5 s.
        if let Some(d) = &data_dir {
            if !changes.is_empty() || last_save.elapsed() >= Duration::from_secs(5) {
                if let Err(e) = assignments::save(d, set) {
                    tracing::error!(error = %e, "cannot persist the assignment set");
                }
                last_save = std::time::Instant::now();
            }
        }
    })
    .await;
    // `follow` returns on stop only.
    if let Some(d) = &data_dir {
        if let Err(e) = assignments::save(d, &set) {
            tracing::error!(node, error = %e, "cannot persist the assignment set at shutdown");
        }
    }
    loops.cancel();
    tracker.close();
    if tokio::time::timeout(Duration::from_secs(10), tracker.wait()).await.is_err() {
        tracing::warn!(node, "some pod workers did not stop within 10 s");
    }
    tracing::info!(node, "agent stopped; pods keep running");
    Ok(())
}
