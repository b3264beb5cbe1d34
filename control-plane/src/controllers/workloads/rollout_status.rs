//! Computing a Deployment's status during a sync (upstream
//! `calculateStatus`, `syncRolloutStatus`, `checkPausedConditions`).
//!
//! Guarantees: counts come from the ReplicaSets' statuses (`replicas`,
//! `readyReplicas`, `availableReplicas`; `updatedReplicas` from the new
//! ReplicaSet) and their intended sizes (`unavailableReplicas`);
//! `observedGeneration` is the Deployment's generation; `collisionCount` is
//! carried over. `Available` is True iff available ≥ replicas −
//! maxUnavailable. `Progressing` becomes `NewReplicaSetAvailable` when the
//! rollout completes, `ReplicaSetUpdated` (keeping its transition time) on
//! progress, `ProgressDeadlineExceeded` after the deadline without progress,
//! and `DeploymentPaused`/`DeploymentResumed` (status Unknown) around pauses;
//! with the deadline disabled there is no Progressing condition. The first
//! `ReplicaFailure` of the new (else any) ReplicaSet is mirrored.

use k8s_openapi::api::apps::v1::{DeploymentCondition, DeploymentStatus};

use crate::controllers::workloads::deployment_status::{
    deployment_complete, deployment_progressing, deployment_timed_out, from_rs_condition, get_condition, new_condition,
    remove_condition, set_condition, AVAILABLE, MIN_AVAILABLE, MIN_UNAVAILABLE, NEW_RS_AVAILABLE, PAUSED, PROGRESSING,
    REPLICA_FAILURE, RESUMED, RS_UPDATED, TIMED_OUT,
};
use crate::controllers::workloads::deployment_sync::DeploymentSync;
use crate::controllers::workloads::fenceposts::max_unavailable;

impl DeploymentSync<'_> {
    /// The status the ReplicaSets currently imply.
    pub fn calculate_status(&self) -> DeploymentStatus {
        let all = self.all_indices();
        let available = self.sum(&all, |v| v.available());
        let unavailable = (self.sum(&all, |v| v.replicas) - available).max(0);
        let mut status = DeploymentStatus {
            observed_generation: self.d.metadata.generation,
            replicas: Some(self.sum(&all, |v| v.status_replicas())),
            updated_replicas: Some(self.new_idx.map_or(0, |i| self.views[i].status_replicas())),
            ready_replicas: Some(self.sum(&all, |v| v.ready())),
            available_replicas: Some(available),
            unavailable_replicas: Some(unavailable),
            collision_count: self.status.collision_count,
            conditions: self.status.conditions.clone(),
        };
        let condition = if available >= self.desired() - max_unavailable(self.d) {
            new_condition(AVAILABLE, "True", MIN_AVAILABLE, "Deployment has minimum availability.".into(), self.now)
        } else {
            let msg = "Deployment does not have minimum availability.".into();
            new_condition(AVAILABLE, "False", MIN_UNAVAILABLE, msg, self.now)
        };
        set_condition(&mut status, condition);
        status
    }

    /// Status sync without progress estimation (paused, scaling, deleting).
    pub fn sync_deployment_status(&mut self) {
        self.status = self.calculate_status();
    }

    /// Status sync with progress estimation (during rollouts).
    pub fn sync_rollout_status(&mut self) {
        let mut next = self.calculate_status();
        if !self.has_deadline() {
            remove_condition(&mut next, PROGRESSING);
        }
        let current = get_condition(&self.status, PROGRESSING).cloned();
        let already_complete = next.replicas == next.updated_replicas
            && current.as_ref().is_some_and(|c| c.reason.as_deref() == Some(NEW_RS_AVAILABLE));
        if self.has_deadline() && !already_complete {
            self.estimate_progress(&mut next, current);
        }
        match self.replica_failure() {
            Some(c) => set_condition(&mut next, c),
            None => remove_condition(&mut next, REPLICA_FAILURE),
        }
        self.status = next;
    }

    fn subject(&self) -> String {
        match self.new_idx {
            Some(i) => format!("ReplicaSet \"{}\"", self.views[i].name()),
            None => format!("Deployment \"{}\"", self.name()),
        }
    }

    fn estimate_progress(&self, next: &mut DeploymentStatus, current: Option<DeploymentCondition>) {
        let subject = self.subject();
        if deployment_complete(self.d, next) {
            let msg = format!("{subject} has successfully progressed.");
            set_condition(next, new_condition(PROGRESSING, "True", NEW_RS_AVAILABLE, msg, self.now));
        } else if deployment_progressing(&self.status, next) {
            let msg = format!("{subject} is progressing.");
            let mut cond = new_condition(PROGRESSING, "True", RS_UPDATED, msg, self.now);
            if let Some(cur) = current {
                if cur.status == "True" {
                    cond.last_transition_time = cur.last_transition_time;
                }
                remove_condition(next, PROGRESSING);
            }
            set_condition(next, cond);
        } else if deployment_timed_out(self.d, next, self.now) {
            let msg = format!("{subject} has timed out progressing.");
            set_condition(next, new_condition(PROGRESSING, "False", TIMED_OUT, msg, self.now));
        }
    }

    fn replica_failure(&self) -> Option<DeploymentCondition> {
        let failure_of = |i: usize| {
            let status = self.views[i].rs.status.as_ref()?;
            status.conditions.as_ref()?.iter().find(|c| c.type_ == REPLICA_FAILURE).map(from_rs_condition)
        };
        self.new_idx.and_then(failure_of).or_else(|| self.all_indices().into_iter().find_map(failure_of))
    }

    /// Set `Progressing` to DeploymentPaused / DeploymentResumed when the
    /// pause state changed (never over a reported timeout).
    pub fn check_paused_conditions(&mut self) {
        if !self.has_deadline() {
            return;
        }
        let reason = get_condition(&self.status, PROGRESSING).and_then(|c| c.reason.clone());
        if reason.as_deref() == Some(TIMED_OUT) {
            return;
        }
        let paused = self.d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
        let paused_recorded = reason.as_deref() == Some(PAUSED);
        if paused && !paused_recorded {
            let cond = new_condition(PROGRESSING, "Unknown", PAUSED, "Deployment is paused".into(), self.now);
            set_condition(&mut self.status, cond);
        } else if !paused && paused_recorded {
            let cond = new_condition(PROGRESSING, "Unknown", RESUMED, "Deployment is resumed".into(), self.now);
            set_condition(&mut self.status, cond);
        }
    }
}
