//! What a pod worker is given (runtime, node facts, object sources) and
//! what it reports back (statuses, termination, events).

use std::path::PathBuf;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{ConfigMap, PodStatus, Secret};
use tokio::sync::mpsc;

use crate::runtime::{BoxFut, Runtime};

/// Where workers read ConfigMaps and Secrets (the agent's cache or the API).
pub trait Sources: Send + Sync + 'static {
    /// The ConfigMap `ns/name`; `Ok(None)` when it does not exist.
    fn config_map<'a>(&'a self, ns: &'a str, name: &'a str) -> BoxFut<'a, Result<Option<ConfigMap>, String>>;
    /// The Secret `ns/name`; `Ok(None)` when it does not exist.
    fn secret<'a>(&'a self, ns: &'a str, name: &'a str) -> BoxFut<'a, Result<Option<Secret>, String>>;
}

/// Shared by every worker of one agent.
pub struct WorkerContext {
    /// The container runtime.
    pub runtime: Arc<dyn Runtime>,
    /// This node's name.
    pub node: String,
    /// This node's IP (`status.hostIP`).
    pub host_ip: String,
    /// Agent state directory; volumes live in `<root>/pods/<uid>/volumes`.
    pub root: PathBuf,
    /// ConfigMaps and Secrets.
    pub sources: Arc<dyn Sources>,
    /// Where workers send their reports.
    pub reports: mpsc::Sender<Report>,
}

/// What a worker tells the agent.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// The whole current status of a pod (sent only when it changed).
    Status {
        /// Pod namespace.
        namespace: String,
        /// Pod name.
        name: String,
        /// Pod uid.
        uid: String,
        /// The status.
        status: PodStatus,
    },
    /// Graceful deletion finished: containers are gone; the pod object may
    /// be removed.
    Terminated {
        /// Pod namespace.
        namespace: String,
        /// Pod name.
        name: String,
        /// Pod uid.
        uid: String,
        /// The final status.
        status: PodStatus,
    },
    /// An Event about the pod.
    Event(PodEvent),
}

/// An Event about a pod (the agent turns it into a `v1.Event`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodEvent {
    /// Pod namespace.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// Pod uid.
    pub uid: String,
    /// "Normal" or "Warning".
    pub type_: &'static str,
    /// Reason (`Pulled`, `Created`, `Started`, `BackOff`, `Killing`, ...).
    pub reason: String,
    /// Human-readable message.
    pub message: String,
    /// `spec.containers{name}` / `spec.initContainers{name}` when about a container.
    pub field_path: Option<String>,
}
