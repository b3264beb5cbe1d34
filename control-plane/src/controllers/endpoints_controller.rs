//! The Endpoints controller's wiring: a Service's key is reconciled when the
//! Service, its Endpoints, or a pod its selector picks (before or after the
//! change) changes.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Pod;

use super::endpoints::{endpoints_for_deleted_service, reconcile_endpoints, MANAGED_LABEL};
use crate::runtime::cache::{Delta, ObjKey};
use crate::runtime::caches::Caches;
use crate::runtime::controller::{Outcome, Reconciler};
use crate::runtime::work_queue::WorkQueue;

/// Decides Endpoints from the caches.
pub struct EndpointsController {
    caches: Arc<Caches>,
}

impl EndpointsController {
    /// Register the change handlers that feed `queue`.
    pub fn new(caches: Arc<Caches>, queue: &WorkQueue<ObjKey>) -> Self {
        let q = queue.clone();
        caches.services.on_change(move |d| q.add(ObjKey::of(&d.object().metadata)));
        let q = queue.clone();
        caches.endpoints.on_change(move |d| q.add(ObjKey::of(&d.object().metadata)));
        let (q, c) = (queue.clone(), caches.clone());
        caches.pods.on_change(move |d| {
            let ns = d.object().metadata.namespace.clone().unwrap_or_default();
            let relevant = match d {
                Delta::Upsert { old: Some(o), new } => {
                    o.status != new.status || o.metadata.labels != new.metadata.labels
                }
                _ => true,
            };
            if !relevant {
                return;
            }
            // Only the Services whose selector picks the pod (before or after).
            let labels = |p: &Pod| p.metadata.labels.clone().unwrap_or_default();
            let (before, after) = match d {
                Delta::Upsert { old, new } => (old.as_deref().map(labels), labels(new)),
                Delta::Delete(old) => (None, labels(old)),
            };
            for s in c.services.in_namespace(&ns) {
                let sel = s.spec.as_ref().and_then(|sp| sp.selector.as_ref());
                let picks = |l: &BTreeMap<String, String>| {
                    sel.is_some_and(|sel| !sel.is_empty() && sel.iter().all(|(k, v)| l.get(k) == Some(v)))
                };
                if picks(&after) || before.as_ref().is_some_and(picks) {
                    q.add(ObjKey::of(&s.metadata));
                }
            }
        });
        EndpointsController { caches }
    }
}

impl Reconciler for EndpointsController {
    fn name(&self) -> &'static str {
        "endpoints-controller"
    }

    fn writes(&self) -> &'static [&'static str] {
        &["Endpoints"]
    }

    fn reconcile(&self, key: &ObjKey, _now: DateTime<Utc>) -> Outcome {
        let current = self.caches.endpoints.get(key);
        match self.caches.services.get(key) {
            Some(svc) => {
                let pods = self.caches.pods.in_namespace(&key.namespace);
                reconcile_endpoints(&svc, &pods, current.as_deref()).into()
            }
            // Only Endpoints a selector once managed are ours to remove;
            // manually managed Endpoints (no Service) are left alone.
            None if current
                .is_some_and(|e| e.metadata.labels.as_ref().is_some_and(|l| l.contains_key(MANAGED_LABEL))) =>
            {
                vec![endpoints_for_deleted_service(&key.namespace, &key.name)].into()
            }
            None => Outcome::default(),
        }
    }
}
