//! The working state of one Deployment sync: the owned ReplicaSets as
//! [`RsView`]s, the Deployment's working status and revision, and the
//! writes collected so far.
//!
//! Guarantees: ReplicaSets are claimed like pods (adopt orphans matching the
//! selector, release owned ones that stopped matching, never touch ones
//! controlled by others); every ReplicaSet gets at most one write per sync
//! (changes are coalesced in its view), so CAS preconditions hold; scale
//! events are reported once per ReplicaSet with upstream wording; the status
//! is written only when it changed.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::{json, Value};

use crate::controllers::workloads::claim::{claim, controller_owner_ref, owner_refs_with, release_patch, Claim};
use crate::controllers::workloads::deployment_status::{normalized, progress_deadline};
use crate::controllers::workloads::fenceposts::{desired_replicas, max_total_replicas};
use crate::controllers::workloads::pod_state::{labels_of, selector_matches};
use crate::controllers::workloads::rs_annotations::{
    replicas_annotations_need_update, set_replicas_annotations, REVISION,
};
use crate::controllers::workloads::rs_view::RsView;
use crate::runtime::action::{Action, EventType};

/// Whether a sync may go on after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep going.
    Continue,
    /// Stop here; only the writes collected so far are issued.
    Abort,
}

/// One Deployment sync in progress.
#[derive(Debug)]
pub struct DeploymentSync<'a> {
    /// The Deployment as read.
    pub d: &'a Deployment,
    /// The current time.
    pub now: DateTime<Utc>,
    /// Every ReplicaSet of the namespace (for name collisions).
    pub all_rss: &'a [Arc<ReplicaSet>],
    /// Pods of the namespace matching the Deployment's selector.
    pub pods: Vec<Arc<Pod>>,
    /// The owned ReplicaSets (after adoption/release) and created ones.
    pub views: Vec<RsView>,
    /// Index in `views` of the ReplicaSet matching the current template.
    pub new_idx: Option<usize>,
    /// The working status.
    pub status: DeploymentStatus,
    /// The working `deployment.kubernetes.io/revision` of the Deployment.
    pub revision: Option<String>,
    released: Vec<Action>,
    events: Vec<Action>,
    scaled: Vec<usize>,
}

impl<'a> DeploymentSync<'a> {
    /// Start a sync of `d` (no ReplicaSet claimed yet).
    pub fn new(d: &'a Deployment, rss: &'a [Arc<ReplicaSet>], pods: &[Arc<Pod>], now: DateTime<Utc>) -> Self {
        let selector = selector_of(d);
        let pods = pods
            .iter()
            .filter(|p| same_namespace(d, &p.metadata.namespace) && selector_matches(selector, &labels_of(&p.metadata)))
            .cloned()
            .collect();
        Self {
            d,
            now,
            all_rss: rss,
            pods,
            views: Vec::new(),
            new_idx: None,
            status: d.status.clone().unwrap_or_default(),
            revision: d.metadata.annotations.as_ref().and_then(|a| a.get(REVISION)).cloned(),
            released: Vec::new(),
            events: Vec::new(),
            scaled: Vec::new(),
        }
    }

    /// Adopt and release ReplicaSets; fills `views` with the owned ones.
    pub fn claim_replicasets(&mut self) {
        let selector = selector_of(self.d);
        let owner_ref = controller_owner_ref("apps/v1", "Deployment", &self.d.metadata);
        for rs in self.all_rss.iter().filter(|rs| same_namespace(self.d, &rs.metadata.namespace)) {
            let matches = selector_matches(selector, &labels_of(&rs.metadata));
            match claim(&rs.metadata, &self.d.metadata, matches) {
                Claim::Owned => self.views.push(RsView::existing(Arc::clone(rs))),
                Claim::Adopt => {
                    let mut view = RsView::existing(Arc::clone(rs));
                    view.owner_refs = Some(owner_refs_with(&rs.metadata, &owner_ref));
                    self.views.push(view);
                }
                Claim::Release => self.released.push(Action::Patch {
                    kind: "ReplicaSet",
                    namespace: rs.metadata.namespace.clone(),
                    name: rs.metadata.name.clone().unwrap_or_default(),
                    patch: release_patch(&rs.metadata, &owner_ref.uid),
                }),
                Claim::Ignore => {}
            }
        }
    }

    /// The Deployment's desired replicas.
    pub fn desired(&self) -> i32 {
        desired_replicas(self.d)
    }

    /// True when a progress deadline applies.
    pub fn has_deadline(&self) -> bool {
        progress_deadline(self.d).is_some()
    }

    /// The Deployment's name.
    pub fn name(&self) -> &str {
        self.d.metadata.name.as_deref().unwrap_or_default()
    }

    /// Indices of all views except the new one.
    pub fn old_indices(&self) -> Vec<usize> {
        (0..self.views.len()).filter(|i| Some(*i) != self.new_idx).collect()
    }

    /// Indices of old views with replicas above zero.
    pub fn active_old(&self) -> Vec<usize> {
        self.old_indices().into_iter().filter(|i| self.views[*i].is_active()).collect()
    }

    /// `idx` sorted oldest first.
    pub fn by_creation(&self, idx: &[usize]) -> Vec<usize> {
        let mut sorted = idx.to_vec();
        sorted.sort_by(|a, b| RsView::by_creation(&self.views[*a], &self.views[*b]));
        sorted
    }

    /// Sum of `f` over the views at `idx`.
    pub fn sum(&self, idx: &[usize], f: impl Fn(&RsView) -> i32) -> i32 {
        idx.iter().fold(0, |acc: i32, i| acc.saturating_add(f(&self.views[*i])))
    }

    /// Indices of every view.
    pub fn all_indices(&self) -> Vec<usize> {
        (0..self.views.len()).collect()
    }

    /// Scale the view at `idx` to `to` and refresh its desired/max replicas
    /// annotations (upstream `scaleReplicaSet`); true when the size changed.
    pub fn scale_rs(&mut self, idx: usize, to: i32) -> bool {
        let (desired, max) = (self.desired(), max_total_replicas(self.d));
        let view = &mut self.views[idx];
        let size_changed = view.replicas != to;
        if size_changed || replicas_annotations_need_update(&view.annotations, desired, max) {
            view.replicas = to;
            set_replicas_annotations(&mut view.annotations, desired, max);
        }
        if size_changed && !self.scaled.contains(&idx) {
            self.scaled.push(idx);
        }
        size_changed
    }

    /// Record an Event about the Deployment.
    pub fn event(&mut self, event_type: EventType, reason: &str, message: String) {
        self.events.push(self.deployment_event(event_type, reason, message));
    }

    fn deployment_event(&self, event_type: EventType, reason: &str, message: String) -> Action {
        Action::Event {
            kind: "Deployment",
            namespace: self.d.metadata.namespace.clone(),
            name: self.name().to_string(),
            uid: self.d.metadata.uid.clone().unwrap_or_default(),
            event_type,
            reason: reason.to_string(),
            message,
        }
    }

    /// Remember that `idx` was scaled (for the scaling event).
    pub fn mark_scaled(&mut self, idx: usize) {
        if !self.scaled.contains(&idx) {
            self.scaled.push(idx);
        }
    }

    fn scale_events(&self) -> Vec<Action> {
        let mut out = Vec::new();
        for view in self.scaled.iter().map(|i| &self.views[*i]) {
            let (from, to) = (if view.created { 0 } else { view.spec_replicas() }, view.replicas);
            let message = match (view.created, from.cmp(&to)) {
                (_, std::cmp::Ordering::Equal) => continue,
                (true, _) => format!("Scaled up replica set {} from 0 to {to}", view.name()),
                (false, std::cmp::Ordering::Less) => {
                    format!("Scaled up replica set {} to {to} from {from}", view.name())
                }
                (false, _) => format!("Scaled down replica set {} to {to} from {from}", view.name()),
            };
            out.push(self.deployment_event(EventType::Normal, "ScalingReplicaSet", message));
        }
        out
    }

    /// The writes of this sync, in order: releases, ReplicaSet creates,
    /// patches and deletes, Events, the Deployment status (CAS), then the
    /// Deployment revision annotation (merge patch without CAS). Also returns
    /// the final status.
    pub fn finish(self) -> (Vec<Action>, DeploymentStatus) {
        let mut actions = self.released.clone();
        let writes: Vec<(u8, Action)> = self
            .views
            .iter()
            .filter_map(|v| v.write_action().map(|a| (u8::from(!v.created) + u8::from(v.deleted), a)))
            .collect();
        for rank in 0..3 {
            actions.extend(writes.iter().filter(|(r, _)| *r == rank).map(|(_, a)| a.clone()));
        }
        actions.extend(self.events.iter().cloned());
        actions.extend(self.scale_events());
        let status = normalized(self.status.clone());
        if status != normalized(self.d.status.clone().unwrap_or_default()) {
            let mut object = self.d.clone();
            object.status = Some(status.clone());
            actions.push(Action::UpdateStatus {
                kind: "Deployment",
                namespace: self.d.metadata.namespace.clone(),
                name: self.name().to_string(),
                object: serde_json::to_value(&object).unwrap_or(Value::Null),
            });
        }
        if let Some(patch) = self.revision_patch() {
            actions.push(patch);
        }
        (actions, status)
    }

    fn revision_patch(&self) -> Option<Action> {
        let current = self.d.metadata.annotations.as_ref().and_then(|a| a.get(REVISION));
        let wanted = self.revision.as_ref().filter(|r| Some(*r) != current)?;
        let annotations: BTreeMap<&str, &String> = [(REVISION, wanted)].into();
        Some(Action::Patch {
            kind: "Deployment",
            namespace: self.d.metadata.namespace.clone(),
            name: self.name().to_string(),
            patch: json!({ "metadata": { "annotations": annotations } }),
        })
    }
}

/// The Deployment's selector (empty when the spec is missing).
pub fn selector_of(d: &Deployment) -> &LabelSelector {
    static EMPTY: LabelSelector = LabelSelector { match_expressions: None, match_labels: None };
    d.spec.as_ref().map_or(&EMPTY, |s| &s.selector)
}

fn same_namespace(d: &Deployment, ns: &Option<String>) -> bool {
    match (&d.metadata.namespace, ns) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}
