//! The ReplicaSet controller's wiring: a ReplicaSet's key is reconciled
//! when it or any pod in its namespace that it owns or might adopt changes.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::owner::{controller_of, owned_and_orphans};
use super::workloads::replicaset::{reconcile_replicaset, requeue_after};
use crate::runtime::cache::{Delta, ObjKey};
use crate::runtime::caches::Caches;
use crate::runtime::controller::{Outcome, Reconciler};
use crate::runtime::work_queue::WorkQueue;

/// Decides ReplicaSets from the caches.
pub struct ReplicaSetController {
    caches: Arc<Caches>,
}

impl ReplicaSetController {
    /// Register the change handlers that feed `queue`.
    pub fn new(caches: Arc<Caches>, queue: &WorkQueue<ObjKey>) -> Self {
        let q = queue.clone();
        caches.replicasets.on_change(move |d| q.add(ObjKey::of(&d.object().metadata)));
        let (q, c) = (queue.clone(), caches.clone());
        caches.pods.on_change(move |d| {
            let meta = &d.object().metadata;
            match controller_of(meta, "ReplicaSet") {
                Some(k) => {
                    q.add(k);
                    // A pod whose labels changed may now belong to another set.
                    if let Delta::Upsert { old: Some(o), new } = d {
                        if o.metadata.labels != new.metadata.labels {
                            enqueue_namespace(&c, &q, meta.namespace.as_deref().unwrap_or(""));
                        }
                    }
                }
                // An orphan: any set in its namespace may adopt it.
                None if d.object().metadata.deletion_timestamp.is_none() => {
                    if matches!(d, Delta::Upsert { .. }) {
                        enqueue_namespace(&c, &q, meta.namespace.as_deref().unwrap_or(""));
                    }
                }
                None => {}
            }
        });
        ReplicaSetController { caches }
    }
}

fn enqueue_namespace(c: &Caches, q: &WorkQueue<ObjKey>, ns: &str) {
    for rs in c.replicasets.in_namespace(ns) {
        q.add(ObjKey::of(&rs.metadata));
    }
}

impl Reconciler for ReplicaSetController {
    fn name(&self) -> &'static str {
        "replicaset-controller"
    }

    fn writes(&self) -> &'static [&'static str] {
        &["Pod", "ReplicaSet"]
    }

    fn reconcile(&self, key: &ObjKey, now: DateTime<Utc>) -> Outcome {
        let Some(rs) = self.caches.replicasets.get(key) else { return Outcome::default() };
        let pods = owned_and_orphans(&self.caches.pods, rs.metadata.uid.as_deref(), &key.namespace);
        Outcome { actions: reconcile_replicaset(&rs, &pods, now), requeue_after: requeue_after(&rs, &pods, now) }
    }
}
