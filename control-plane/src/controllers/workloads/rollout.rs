//! Rollout strategies and history cleanup of a Deployment sync (upstream
//! `rolloutRolling`, `rolloutRecreate`, `cleanupDeployment`).
//!
//! Guarantees:
//! - RollingUpdate: one kind of change per sync — first grow the new
//!   ReplicaSet so the sum of all intended sizes stays ≤ replicas + maxSurge;
//!   otherwise shrink old ReplicaSets (those with unavailable pods first, then
//!   oldest first) only as far as the ReplicaSets' reported availability stays
//!   ≥ replicas − maxUnavailable (availability from `status.availableReplicas`,
//!   capped per ReplicaSet at its intended size so a stale status right
//!   after a scale-down cannot trigger a second scale-down);
//! - Recreate: scale every old ReplicaSet to 0, then wait until no pod of an
//!   old ReplicaSet is left in a non-terminal phase (terminating pods count),
//!   and only then create / scale up the new ReplicaSet;
//! - cleanup runs only for a complete rollout and deletes, oldest revision
//!   first, old ReplicaSets beyond `revisionHistoryLimit` (default 10) that
//!   have no replicas (spec and status), an observed generation and no
//!   deletion in progress.

use std::collections::BTreeSet;

use crate::controllers::workloads::deployment_status::deployment_complete;
use crate::controllers::workloads::deployment_sync::{DeploymentSync, Flow};
use crate::controllers::workloads::fenceposts::max_unavailable;
use crate::controllers::workloads::pod_state::{controller_ref, is_pod_terminal};
use crate::controllers::workloads::rs_view::RsView;

/// Default number of old ReplicaSets kept for rollback.
pub const DEFAULT_REVISION_HISTORY_LIMIT: i32 = 10;

impl DeploymentSync<'_> {
    /// One RollingUpdate step.
    pub fn rollout_rolling(&mut self) {
        if self.sync_revision(true) == Flow::Abort {
            return;
        }
        if let Some(new) = self.new_idx {
            if self.reconcile_new(new) || self.reconcile_old(new) {
                return self.sync_rollout_status();
            }
        }
        if deployment_complete(self.d, &self.status) {
            self.cleanup();
        }
        self.sync_rollout_status();
    }

    fn reconcile_new(&mut self, new: usize) -> bool {
        let (desired, current) = (self.desired(), self.views[new].replicas);
        if current == desired {
            return false;
        }
        let target = if current > desired { desired } else { self.new_rs_new_replicas(new) };
        self.scale_rs(new, target)
    }

    fn reconcile_old(&mut self, new: usize) -> bool {
        let old = self.active_old();
        if self.sum(&old, |v| v.replicas) == 0 {
            return false;
        }
        let all_pods = self.sum(&self.all_indices(), |v| v.replicas);
        let min_available = self.desired() - max_unavailable(self.d);
        let new_unavailable = self.views[new].replicas - self.views[new].available_kept();
        let max_scaled_down = all_pods.saturating_sub(min_available).saturating_sub(new_unavailable);
        if max_scaled_down <= 0 {
            return false;
        }
        let cleaned = self.cleanup_unhealthy(&old, max_scaled_down);
        let scaled = self.scale_down_old_rolling(&old, new);
        cleaned > 0 || scaled > 0
    }

    /// Shrink old ReplicaSets by their unavailable replicas, at most `max`.
    fn cleanup_unhealthy(&mut self, old: &[usize], max: i32) -> i32 {
        let mut total = 0;
        for i in self.by_creation(old) {
            if total >= max {
                break;
            }
            let (replicas, available) = (self.views[i].replicas, self.views[i].available());
            if replicas == 0 || available >= replicas {
                continue;
            }
            let down = (max - total).min(replicas - available);
            self.scale_rs(i, replicas - down);
            total += down;
        }
        total
    }

    /// Shrink old ReplicaSets, oldest first, while availability allows.
    fn scale_down_old_rolling(&mut self, old: &[usize], new: usize) -> i32 {
        let min_available = self.desired() - max_unavailable(self.d);
        let mut counted = old.to_vec();
        counted.push(new);
        let available = self.sum(&counted, RsView::available_kept);
        if available <= min_available {
            return 0;
        }
        let budget = available - min_available;
        let mut scaled = 0;
        for i in self.by_creation(old) {
            if scaled >= budget {
                break;
            }
            let replicas = self.views[i].replicas;
            if replicas == 0 {
                continue;
            }
            let down = replicas.min(budget - scaled);
            self.scale_rs(i, replicas - down);
            scaled += down;
        }
        scaled
    }

    /// One Recreate step.
    pub fn rollout_recreate(&mut self) {
        if self.sync_revision(false) == Flow::Abort {
            return;
        }
        let mut scaled_down = false;
        for i in self.active_old() {
            scaled_down |= self.scale_rs(i, 0);
        }
        if scaled_down || self.old_pods_running() {
            return self.sync_rollout_status();
        }
        if self.new_idx.is_none() && self.sync_revision(true) == Flow::Abort {
            return;
        }
        if let Some(new) = self.new_idx {
            self.scale_rs(new, self.desired());
        }
        if deployment_complete(self.d, &self.status) {
            self.cleanup();
        }
        self.sync_rollout_status();
    }

    /// True while an old ReplicaSet reports replicas or owns a pod that is
    /// not terminal (including terminating pods).
    fn old_pods_running(&self) -> bool {
        let old = self.old_indices();
        if self.sum(&old, |v| v.status_replicas()) > 0 {
            return true;
        }
        let uids: BTreeSet<&str> = old.iter().map(|i| self.views[*i].uid()).filter(|u| !u.is_empty()).collect();
        self.pods
            .iter()
            .any(|p| controller_ref(&p.metadata).is_some_and(|r| uids.contains(r.uid.as_str())) && !is_pod_terminal(p))
    }

    /// Delete the oldest surplus old ReplicaSets beyond the history limit.
    pub fn cleanup(&mut self) {
        let limit = self.d.spec.as_ref().and_then(|s| s.revision_history_limit);
        let limit = usize::try_from(limit.unwrap_or(DEFAULT_REVISION_HISTORY_LIMIT)).unwrap_or(0);
        let mut cleanable: Vec<usize> =
            self.old_indices().into_iter().filter(|i| !self.views[*i].is_deleting()).collect();
        if cleanable.len() <= limit {
            return;
        }
        let surplus = cleanable.len() - limit;
        cleanable.sort_by(|a, b| {
            let (x, y) = (&self.views[*a], &self.views[*b]);
            x.revision().cmp(&y.revision()).then_with(|| RsView::by_creation(x, y))
        });
        for i in cleanable.into_iter().take(surplus) {
            let view = &mut self.views[i];
            if view.status_replicas() == 0 && view.replicas == 0 && !view.generation_pending() {
                view.deleted = true;
            }
        }
    }
}
