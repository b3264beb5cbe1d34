//! The Job controller's wiring: a Job's key is reconciled when the Job or
//! one of its pods changes, and again when a back-off, deadline or TTL
//! falls due.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::batch::job::{reconcile_job, requeue_after};
use super::owner::{controller_of, owned_and_orphans};
use crate::runtime::cache::ObjKey;
use crate::runtime::caches::Caches;
use crate::runtime::controller::{Outcome, Reconciler};
use crate::runtime::work_queue::WorkQueue;

/// Label naming a pod's Job (used to find pods to adopt).
const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";

/// Decides Jobs from the caches.
pub struct JobController {
    caches: Arc<Caches>,
}

impl JobController {
    /// Register the change handlers that feed `queue`.
    pub fn new(caches: Arc<Caches>, queue: &WorkQueue<ObjKey>) -> Self {
        let q = queue.clone();
        caches.jobs.on_change(move |d| q.add(ObjKey::of(&d.object().metadata)));
        let q = queue.clone();
        caches.pods.on_change(move |d| {
            let meta = &d.object().metadata;
            if let Some(k) = controller_of(meta, "Job") {
                q.add(k);
            } else if let Some(name) = meta.labels.as_ref().and_then(|l| l.get(JOB_NAME_LABEL)) {
                q.add(ObjKey::new(meta.namespace.as_deref().unwrap_or(""), name));
            }
        });
        JobController { caches }
    }
}

impl Reconciler for JobController {
    fn name(&self) -> &'static str {
        "job-controller"
    }

    fn writes(&self) -> &'static [&'static str] {
        &["Pod", "Job"]
    }

    fn reconcile(&self, key: &ObjKey, now: DateTime<Utc>) -> Outcome {
        let Some(job) = self.caches.jobs.get(key) else { return Outcome::default() };
        let pods = owned_and_orphans(&self.caches.pods, job.metadata.uid.as_deref(), &key.namespace);
        Outcome { actions: reconcile_job(&job, &pods, now), requeue_after: requeue_after(&job, &pods, now) }
    }
}
