//! Working copy of one ReplicaSet during a Deployment sync.
//!
//! Guarantees: the original object is never modified; every intended change
//! (controller reference, `spec.replicas`, `spec.minReadySeconds`,
//! annotations) is accumulated here and turned into exactly one write per
//! ReplicaSet: a `Create` for a ReplicaSet made in this sync, otherwise one
//! merge `Patch` carrying the read resourceVersion (CAS) and only the changed
//! fields, or a `Delete` with the uid precondition.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use serde_json::{json, Map, Value};

use crate::controllers::workloads::rs_annotations::revision_of;
use crate::runtime::action::Action;

/// A ReplicaSet as the Deployment sync currently intends it to be.
#[derive(Debug, Clone)]
pub struct RsView {
    /// The ReplicaSet as read (or as built, for one created in this sync).
    pub rs: Arc<ReplicaSet>,
    /// Intended `spec.replicas`.
    pub replicas: i32,
    /// Intended annotations.
    pub annotations: BTreeMap<String, String>,
    /// Intended owner references, when they change (adoption).
    pub owner_refs: Option<Vec<OwnerReference>>,
    /// Intended `spec.minReadySeconds`.
    pub min_ready_seconds: i32,
    /// Created in this sync (no uid, no status yet).
    pub created: bool,
    /// To be deleted in this sync.
    pub deleted: bool,
    /// Creation time used for ordering (`now` for created ones).
    pub creation: Option<DateTime<Utc>>,
}

impl RsView {
    /// View of an existing ReplicaSet.
    pub fn existing(rs: Arc<ReplicaSet>) -> Self {
        let spec = rs.spec.as_ref();
        Self {
            replicas: spec.and_then(|s| s.replicas).unwrap_or(1).max(0),
            annotations: rs.metadata.annotations.clone().unwrap_or_default(),
            owner_refs: None,
            min_ready_seconds: spec.and_then(|s| s.min_ready_seconds).unwrap_or(0),
            created: false,
            deleted: false,
            creation: rs.metadata.creation_timestamp.as_ref().map(|t| t.0),
            rs,
        }
    }

    /// View of a ReplicaSet built in this sync (created at `now`).
    pub fn created(rs: ReplicaSet, now: DateTime<Utc>) -> Self {
        let mut view = Self::existing(Arc::new(rs));
        view.created = true;
        view.creation = Some(now);
        view
    }

    /// Name (empty when missing).
    pub fn name(&self) -> &str {
        self.rs.metadata.name.as_deref().unwrap_or_default()
    }

    /// Uid (empty when missing or not yet created).
    pub fn uid(&self) -> &str {
        self.rs.metadata.uid.as_deref().unwrap_or_default()
    }

    /// `spec.replicas` as read.
    pub fn spec_replicas(&self) -> i32 {
        self.rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0)
    }

    /// `status.replicas`.
    pub fn status_replicas(&self) -> i32 {
        self.rs.status.as_ref().map_or(0, |s| s.replicas.max(0))
    }

    /// `status.readyReplicas`.
    pub fn ready(&self) -> i32 {
        self.rs.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0).max(0)
    }

    /// `status.availableReplicas`.
    pub fn available(&self) -> i32 {
        self.rs.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0).max(0)
    }

    /// Available replicas that survive the intended size: `status.availableReplicas`
    /// capped at the intended replicas (the ReplicaSet controller removes
    /// unavailable pods first), so a stale status of a just-shrunk
    /// ReplicaSet is not counted twice.
    pub fn available_kept(&self) -> i32 {
        self.available().min(self.replicas.max(0))
    }

    /// Intended revision (0 when absent or malformed).
    pub fn revision(&self) -> i64 {
        revision_of(&self.annotations)
    }

    /// The pod template, if any.
    pub fn template(&self) -> Option<&PodTemplateSpec> {
        self.rs.spec.as_ref()?.template.as_ref()
    }

    /// True when the intended replicas are above zero.
    pub fn is_active(&self) -> bool {
        self.replicas > 0
    }

    /// True when the ReplicaSet is being deleted.
    pub fn is_deleting(&self) -> bool {
        self.rs.metadata.deletion_timestamp.is_some()
    }

    /// True when the ReplicaSet controller has not seen the latest spec.
    pub fn generation_pending(&self) -> bool {
        let observed = self.rs.status.as_ref().and_then(|s| s.observed_generation).unwrap_or(0);
        self.rs.metadata.generation.unwrap_or(0) > observed
    }

    /// Oldest first, ties by name (upstream `ReplicaSetsByCreationTimestamp`).
    pub fn by_creation(a: &Self, b: &Self) -> Ordering {
        a.creation.cmp(&b.creation).then_with(|| a.name().cmp(b.name()))
    }

    /// The write this view needs, if any.
    pub fn write_action(&self) -> Option<Action> {
        let namespace = self.rs.metadata.namespace.clone();
        if self.created {
            return Some(Action::Create { kind: "ReplicaSet", namespace, object: self.built_object() });
        }
        if self.deleted {
            return Some(Action::Delete {
                kind: "ReplicaSet",
                namespace,
                name: self.name().to_string(),
                uid: self.rs.metadata.uid.clone(),
                propagation: Some("Background"),
                grace_period_seconds: None,
            });
        }
        let patch = self.patch()?;
        Some(Action::Patch { kind: "ReplicaSet", namespace, name: self.name().to_string(), patch })
    }

    /// The full object for a created view.
    fn built_object(&self) -> Value {
        let mut rs = (*self.rs).clone();
        rs.metadata.annotations = Some(self.annotations.clone());
        if let Some(spec) = rs.spec.as_mut() {
            spec.replicas = Some(self.replicas);
            spec.min_ready_seconds = Some(self.min_ready_seconds);
        }
        serde_json::to_value(&rs).unwrap_or(Value::Null)
    }

    /// Merge patch of the changed fields, CAS on resourceVersion.
    fn patch(&self) -> Option<Value> {
        let mut meta = Map::new();
        let mut spec = Map::new();
        if let Some(refs) = &self.owner_refs {
            meta.insert("ownerReferences".into(), json!(refs));
        }
        let original = self.rs.metadata.annotations.clone().unwrap_or_default();
        let changed: Map<String, Value> = self
            .annotations
            .iter()
            .filter(|(k, v)| original.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        if !changed.is_empty() {
            meta.insert("annotations".into(), Value::Object(changed));
        }
        if self.replicas != self.spec_replicas() {
            spec.insert("replicas".into(), json!(self.replicas));
        }
        let original_mrs = self.rs.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0);
        if self.min_ready_seconds != original_mrs {
            spec.insert("minReadySeconds".into(), json!(self.min_ready_seconds));
        }
        if meta.is_empty() && spec.is_empty() {
            return None;
        }
        meta.insert("resourceVersion".into(), json!(self.rs.metadata.resource_version.clone().unwrap_or_default()));
        let mut patch = Map::new();
        patch.insert("metadata".into(), Value::Object(meta));
        if !spec.is_empty() {
            patch.insert("spec".into(), Value::Object(spec));
        }
        Some(Value::Object(patch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::ReplicaSetSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn rs() -> Arc<ReplicaSet> {
        Arc::new(ReplicaSet {
            metadata: ObjectMeta {
                name: Some("web-1".into()),
                uid: Some("u".into()),
                resource_version: Some("42".into()),
                annotations: Some([("keep".to_string(), "x".to_string())].into()),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec { replicas: Some(3), ..Default::default() }),
            status: None,
        })
    }

    #[test]
    fn unchanged_view_writes_nothing() {
        assert_eq!(RsView::existing(rs()).write_action(), None);
    }

    #[test]
    fn patch_has_only_changes_and_resource_version() {
        let mut v = RsView::existing(rs());
        v.replicas = 5;
        v.annotations.insert("new".into(), "y".into());
        let Some(Action::Patch { patch, name, .. }) = v.write_action() else { panic!("expected a patch") };
        assert_eq!(name, "web-1");
        assert_eq!(
            patch,
            json!({"metadata": {"resourceVersion": "42", "annotations": {"new": "y"}}, "spec": {"replicas": 5}})
        );
    }

    #[test]
    fn deleted_view_is_a_guarded_delete() {
        let mut v = RsView::existing(rs());
        v.deleted = true;
        assert!(matches!(v.write_action(), Some(Action::Delete { uid: Some(u), .. }) if u == "u"));
    }
}
