//! Scaling a Deployment's ReplicaSets when `spec.replicas` changes or while
//! paused (upstream `scale`).
//!
//! Guarantees: with at most one active ReplicaSet, it (or the latest one)
//! gets exactly `replicas`; when the new ReplicaSet is saturated the old ones
//! go to 0; otherwise (RollingUpdate) the difference to replicas + maxSurge
//! is spread over the active ReplicaSets in proportion to their size
//! relative to their `max-replicas` annotation, leftovers going to the
//! largest one, so the intended total equals replicas + maxSurge (0 when
//! replicas is 0). Every touched ReplicaSet gets fresh desired/max replicas
//! annotations, which ends the scaling event.

use crate::controllers::workloads::deployment_sync::DeploymentSync;
use crate::controllers::workloads::fenceposts::{is_rolling_update, max_total_replicas};
use crate::controllers::workloads::rs_annotations::{int_annotation, DESIRED_REPLICAS, MAX_REPLICAS};
use crate::controllers::workloads::rs_view::RsView;

impl DeploymentSync<'_> {
    /// True when an active ReplicaSet was sized for another replica count.
    pub fn is_scaling_event(&self) -> bool {
        let desired = self.desired();
        self.views
            .iter()
            .filter(|v| v.is_active())
            .any(|v| int_annotation(&v.annotations, DESIRED_REPLICAS).is_some_and(|d| d != desired))
    }

    /// Upstream `sync`: scale without rollout progress, clean up when
    /// paused, refresh the status.
    pub fn sync_scale(&mut self) {
        self.sync_revision(false);
        self.scale();
        if self.d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false) {
            self.cleanup();
        }
        self.sync_deployment_status();
    }

    fn scale(&mut self) {
        let desired = self.desired();
        if let Some(i) = self.active_or_latest() {
            self.scale_rs(i, desired);
            return;
        }
        if self.new_idx.is_some_and(|i| self.is_saturated(i)) {
            for i in self.active_old() {
                self.scale_rs(i, 0);
            }
            return;
        }
        if is_rolling_update(self.d) {
            self.scale_proportionally();
        }
    }

    /// The only active ReplicaSet, or the new / newest one when none is
    /// active; `None` when several are active.
    fn active_or_latest(&self) -> Option<usize> {
        let mut old = self.old_indices();
        old.sort_by(|a, b| RsView::by_creation(&self.views[*b], &self.views[*a]));
        let active: Vec<usize> =
            old.iter().copied().chain(self.new_idx).filter(|i| self.views[*i].is_active()).collect();
        match active.as_slice() {
            [] => self.new_idx.or(old.first().copied()),
            [only] => Some(*only),
            _ => None,
        }
    }

    fn is_saturated(&self, i: usize) -> bool {
        let (view, desired) = (&self.views[i], self.desired());
        int_annotation(&view.annotations, DESIRED_REPLICAS) == Some(desired)
            && view.replicas == desired
            && view.available() == desired
    }

    fn scale_proportionally(&mut self) {
        let desired = self.desired();
        let mut active: Vec<usize> = self.all_indices().into_iter().filter(|i| self.views[*i].is_active()).collect();
        let allowed = if desired > 0 { max_total_replicas(self.d) } else { 0 };
        let to_add = allowed - self.sum(&active, |v| v.replicas);
        active.sort_by(|a, b| {
            let (x, y) = (&self.views[*a], &self.views[*b]);
            let age = if to_add > 0 { RsView::by_creation(y, x) } else { RsView::by_creation(x, y) };
            y.replicas.cmp(&x.replicas).then(age)
        });
        let mut added = 0;
        let mut sizes = Vec::with_capacity(active.len());
        for &i in &active {
            let share = self.proportion(i, to_add, added);
            sizes.push(self.views[i].replicas + share);
            added += share;
        }
        if let Some(first) = sizes.first_mut() {
            *first = (*first + to_add - added).max(0);
        }
        for (i, size) in active.into_iter().zip(sizes) {
            self.scale_rs(i, size);
        }
    }

    fn proportion(&self, i: usize, to_add: i32, added: i32) -> i32 {
        if self.views[i].replicas == 0 || to_add == 0 || to_add == added {
            return 0;
        }
        let (fraction, allowed) = (self.fraction(i), to_add - added);
        if to_add > 0 {
            fraction.min(allowed)
        } else {
            fraction.max(allowed)
        }
    }

    /// How many replicas the ReplicaSet gains (negative: loses) if scaled in
    /// proportion to the Deployment's new total.
    fn fraction(&self, i: usize) -> i32 {
        let (view, desired) = (&self.views[i], self.desired());
        if desired == 0 {
            return -view.replicas;
        }
        let total = max_total_replicas(self.d);
        let fallback = self.d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0);
        let annotated = int_annotation(&view.annotations, MAX_REPLICAS).unwrap_or(fallback);
        if annotated <= 0 {
            return 0;
        }
        let scaled = (f64::from(view.replicas) * f64::from(total) / f64::from(annotated)).round();
        scaled as i32 - view.replicas
    }
}
