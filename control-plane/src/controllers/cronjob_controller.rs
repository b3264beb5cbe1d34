//! The CronJob controller's wiring: a CronJob's key is reconciled when it or
//! one of its Jobs changes, and at its next schedule time.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::batch::cronjob::reconcile_cronjob;
use super::owner::{controller_of, owned_and_orphans};
use crate::runtime::action::{Action, EventType};
use crate::runtime::cache::ObjKey;
use crate::runtime::caches::Caches;
use crate::runtime::controller::{Outcome, Reconciler};
use crate::runtime::work_queue::WorkQueue;

/// Decides CronJobs from the caches; the clock is injectable for tests.
pub struct CronJobController {
    caches: Arc<Caches>,
}

impl CronJobController {
    /// Register the change handlers that feed `queue`.
    pub fn new(caches: Arc<Caches>, queue: &WorkQueue<ObjKey>) -> Self {
        let q = queue.clone();
        caches.cronjobs.on_change(move |d| q.add(ObjKey::of(&d.object().metadata)));
        let q = queue.clone();
        caches.jobs.on_change(move |d| {
            if let Some(k) = controller_of(&d.object().metadata, "CronJob") {
                q.add(k);
            }
        });
        CronJobController { caches }
    }
}

impl Reconciler for CronJobController {
    fn name(&self) -> &'static str {
        "cronjob-controller"
    }

    fn writes(&self) -> &'static [&'static str] {
        &["Job", "CronJob"]
    }

    fn reconcile(&self, key: &ObjKey, now: DateTime<Utc>) -> Outcome {
        let Some(cj) = self.caches.cronjobs.get(key) else { return Outcome::default() };
        let jobs = owned_and_orphans(&self.caches.jobs, cj.metadata.uid.as_deref(), &key.namespace);
        match reconcile_cronjob(&cj, &jobs, now) {
            Ok(d) => Outcome { actions: d.actions, requeue_after: d.requeue_after },
            // A bad schedule or zone: say so on the CronJob, look again later
            // (an edit of the CronJob requeues it at once).
            Err(e) => Outcome {
                actions: vec![Action::Event {
                    kind: "CronJob",
                    namespace: cj.metadata.namespace.clone(),
                    name: key.name.clone(),
                    uid: cj.metadata.uid.clone().unwrap_or_default(),
                    event_type: EventType::Warning,
                    reason: e.event_reason().to_string(),
                    message: e.to_string(),
                }],
                requeue_after: Some(std::time::Duration::from_secs(300)),
            },
        }
    }
}
