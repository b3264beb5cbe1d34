//! The pod manager: one worker per assigned pod, started, updated and
//! removed as the assignment set changes; adoption of what a previous run
//! of the agent left running.
//!
//! Guarantees:
//! - At most one worker per pod uid, ever: a pod whose worker finished
//!   (graceful deletion done) is not started again while it stays in the set.
//! - Containers found at start (from the runtime's labels) are handed to
//!   the worker of their pod, which keeps them running; containers of pods
//!   no longer assigned are removed once the control plane's set is known
//!   ([`Manager::remove_orphans`]), never before.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::assignments::{AssignmentSet, Change};
use crate::pod::{self, WorkerContext, WorkerHandle};
use crate::runtime::Found;

/// The manager of one node.
pub struct Manager {
    ctx: Arc<WorkerContext>,
    workers: HashMap<String, WorkerHandle>,
    finished: HashSet<String>,
    adopted: HashMap<String, Vec<Found>>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
}

impl Manager {
    /// A manager whose workers run on `tracker` and leave their containers
    /// running when `shutdown` is cancelled. `found` is what the runtime
    /// lists for this node at start.
    pub fn new(ctx: Arc<WorkerContext>, found: Vec<Found>, tracker: TaskTracker, shutdown: CancellationToken) -> Self {
        let mut adopted: HashMap<String, Vec<Found>> = HashMap::new();
        for f in found {
            adopted.entry(f.pod_uid.clone()).or_default().push(f);
        }
        Manager { ctx, workers: HashMap::new(), finished: HashSet::new(), adopted, tracker, shutdown }
    }

    /// Bring the workers in line with `changes` of `set`.
    pub fn apply(&mut self, set: &AssignmentSet, changes: &[Change]) {
        for change in changes {
            match change {
                Change::Upsert(uid) => {
                    let Some(a) = set.pods.get(uid) else { continue };
                    let pod: Pod = match serde_json::from_slice(&a.pod) {
                        Ok(p) => p,
                        Err(e) => {
                            tracing::warn!(pod = %format!("{}/{}", a.namespace, a.name), error = %e, "assigned pod does not decode; skipping it");
                            continue;
                        }
                    };
                    self.upsert(uid, pod);
                }
                Change::Removed(uid) => {
                    self.finished.remove(uid);
                    if let Some(w) = self.workers.remove(uid) {
                        w.remove();
                    }
                }
            }
        }
        self.prune();
    }

    fn upsert(&mut self, uid: &str, pod: Pod) {
        if self.finished.contains(uid) {
            return;
        }
        if let Some(w) = self.workers.get(uid) {
            if !w.is_finished() {
                w.update(pod);
                return;
            }
            self.workers.remove(uid);
            self.finished.insert(uid.to_string());
            return;
        }
        let adopted = self.adopted.remove(uid).unwrap_or_default();
        let handle = pod::spawn(self.ctx.clone(), pod, adopted, &self.tracker, self.shutdown.clone());
        self.workers.insert(uid.to_string(), handle);
    }

    /// Forget workers that ended (their pods stay marked finished).
    fn prune(&mut self) {
        let done: Vec<String> = self.workers.iter().filter(|(_, w)| w.is_finished()).map(|(u, _)| u.clone()).collect();
        for uid in done {
            self.workers.remove(&uid);
            self.finished.insert(uid);
        }
    }

    /// Remove, in the background, the containers of pods that were found
    /// at start but are not in `set` (deleted while the agent was down).
    /// Call once the set came from the control plane.
    pub fn remove_orphans(&mut self, set: &AssignmentSet) {
        let orphans: Vec<String> = self.adopted.keys().filter(|uid| !set.pods.contains_key(*uid)).cloned().collect();
        for uid in orphans {
            let found = self.adopted.remove(&uid).unwrap_or_default();
            let name = found.first().map(|f| format!("{}/{}", f.namespace, f.pod_name)).unwrap_or_default();
            let runtime = self.ctx.runtime.clone();
            self.tracker.spawn(async move {
                tracing::info!(pod = %name, uid = %uid, "removing containers of a pod no longer assigned to this node");
                if let Err(e) = runtime.remove_pod(&uid).await {
                    tracing::warn!(pod = %name, error = %e, "could not remove an orphaned pod's containers");
                }
            });
        }
    }

    /// Pods with a live worker.
    pub fn running(&self) -> usize {
        self.workers.values().filter(|w| !w.is_finished()).count()
    }
}
