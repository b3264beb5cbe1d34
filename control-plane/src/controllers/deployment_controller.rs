//! The Deployment controller's wiring: a Deployment's key is reconciled when
//! it, one of its ReplicaSets, or one of their pods changes, and again when a
//! progress deadline or minReadySeconds falls due.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::owner::{controller_of, owned_and_orphans};
use super::workloads::deployment::{reconcile_deployment, requeue_after};
use crate::runtime::cache::ObjKey;
use crate::runtime::caches::Caches;
use crate::runtime::controller::{Outcome, Reconciler};
use crate::runtime::work_queue::WorkQueue;

/// Decides Deployments from the caches.
pub struct DeploymentController {
    caches: Arc<Caches>,
}

impl DeploymentController {
    /// Register the change handlers that feed `queue`.
    pub fn new(caches: Arc<Caches>, queue: &WorkQueue<ObjKey>) -> Self {
        let q = queue.clone();
        caches.deployments.on_change(move |d| q.add(ObjKey::of(&d.object().metadata)));
        let (q, c) = (queue.clone(), caches.clone());
        caches.replicasets.on_change(move |d| {
            let meta = &d.object().metadata;
            match controller_of(meta, "Deployment") {
                Some(k) => q.add(k),
                None => {
                    for dep in c.deployments.in_namespace(meta.namespace.as_deref().unwrap_or("")) {
                        q.add(ObjKey::of(&dep.metadata));
                    }
                }
            }
        });
        let (q, c) = (queue.clone(), caches.clone());
        caches.pods.on_change(move |d| {
            let meta = &d.object().metadata;
            let Some(rs_key) = controller_of(meta, "ReplicaSet") else { return };
            if let Some(k) = c.replicasets.get(&rs_key).and_then(|rs| controller_of(&rs.metadata, "Deployment")) {
                q.add(k);
            }
        });
        DeploymentController { caches }
    }
}

impl Reconciler for DeploymentController {
    fn name(&self) -> &'static str {
        "deployment-controller"
    }

    fn writes(&self) -> &'static [&'static str] {
        &["ReplicaSet", "Deployment"]
    }

    fn reconcile(&self, key: &ObjKey, now: DateTime<Utc>) -> Outcome {
        let Some(d) = self.caches.deployments.get(key) else { return Outcome::default() };
        let rss = owned_and_orphans(&self.caches.replicasets, d.metadata.uid.as_deref(), &key.namespace);
        let pods: Vec<_> = rss
            .iter()
            .flat_map(|rs| self.caches.pods.owned_by(rs.metadata.uid.as_deref().unwrap_or_default()))
            .collect();
        Outcome {
            actions: reconcile_deployment(&d, &rss, &pods, now),
            requeue_after: requeue_after(&d, &rss, &pods, now),
        }
    }
}
