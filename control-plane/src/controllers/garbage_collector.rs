//! Garbage collector decisions over owner references: what to do with a dependent given the state of its
//! owners, and when a deleting owner's `foregroundDeletion` / `orphan` finalizer may be removed.
//!
//! Guarantees (the caller guarantees the owner index is current):
//! - An owner reference is *dangling* when its uid is absent from the index, marked not existing, or names a
//!   namespaced owner in another namespace than the dependent (such references are invalid).
//! - A dependent that is itself being deleted, has no owner references, or has a kind this crate cannot name
//!   is left alone.
//! - A dependent with at least one live owner (or one owner being deleted with the `orphan` finalizer) is
//!   kept; references to dangling, orphaning and foreground-deleting owners are removed in one merge patch
//!   that carries the dependent's `resourceVersion` and `uid` as preconditions.
//! - A dependent whose remaining owners are all being deleted in the foreground is deleted with `Foreground`
//!   propagation (so its own blocking dependents go first); one whose owners are all gone is deleted with
//!   `Background` propagation. Deletes carry the dependent's uid as precondition.
//! - A deleting owner loses `foregroundDeletion` once no dependent references it with
//!   `blockOwnerDeletion: true`, and loses `orphan` once no dependent references it at all; both in one
//!   patch carrying the owner's `resourceVersion` and `uid`.

use std::collections::HashMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use serde_json::{json, Value};

use crate::runtime::action::{Action, KindName};

/// Finalizer that makes an owner wait for its blocking dependents (foreground deletion).
pub const FINALIZER_FOREGROUND: &str = "foregroundDeletion";
/// Finalizer that makes an owner's deletion orphan its dependents.
pub const FINALIZER_ORPHAN: &str = "orphan";

/// The fields of any object the garbage collector looks at.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObjectSummary {
    /// `kind`, e.g. "ReplicaSet".
    pub kind: String,
    /// `apiVersion`, e.g. "apps/v1".
    pub api_version: String,
    /// `metadata.namespace` (`None` for cluster-scoped objects).
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.uid`.
    pub uid: String,
    /// `metadata.resourceVersion`.
    pub resource_version: Option<String>,
    /// `metadata.ownerReferences` (malformed entries and entries without a uid are skipped).
    pub owner_references: Vec<OwnerReference>,
    /// `metadata.finalizers`.
    pub finalizers: Vec<String>,
    /// True when `metadata.deletionTimestamp` is set.
    pub deleting: bool,
}

impl ObjectSummary {
    /// Reads a summary from an object's JSON; `None` without `kind`, `metadata.name` or `metadata.uid`.
    pub fn from_value(value: &Value) -> Option<ObjectSummary> {
        let meta = value.get("metadata")?;
        let text =
            |v: &Value, key: &str| v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
        let list = |key: &str| meta.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        Some(ObjectSummary {
            kind: text(value, "kind")?,
            api_version: text(value, "apiVersion").unwrap_or_default(),
            namespace: text(meta, "namespace"),
            name: text(meta, "name")?,
            uid: text(meta, "uid")?,
            resource_version: text(meta, "resourceVersion"),
            owner_references: list("ownerReferences")
                .iter()
                .filter_map(|r| serde_json::from_value::<OwnerReference>(r.clone()).ok())
                .filter(|r| !r.uid.is_empty())
                .collect(),
            finalizers: list("finalizers").iter().filter_map(|f| f.as_str().map(str::to_string)).collect(),
            deleting: meta.get("deletionTimestamp").is_some_and(|d| !d.is_null()),
        })
    }

    /// True when the object carries `finalizer`.
    pub fn has_finalizer(&self, finalizer: &str) -> bool {
        self.finalizers.iter().any(|f| f == finalizer)
    }
}

/// What the garbage collector knows about a potential owner.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OwnerState {
    /// The object exists.
    pub exists: bool,
    /// It has a deletion timestamp.
    pub deleting: bool,
    /// It carries the `foregroundDeletion` finalizer.
    pub foreground: bool,
    /// It carries the `orphan` finalizer.
    pub orphan: bool,
    /// Its kind.
    pub kind: String,
    /// Its namespace (`None` when cluster-scoped).
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
}

impl OwnerState {
    /// The state of an existing object.
    pub fn from_summary(object: &ObjectSummary) -> Self {
        Self {
            exists: true,
            deleting: object.deleting,
            foreground: object.has_finalizer(FINALIZER_FOREGROUND),
            orphan: object.has_finalizer(FINALIZER_ORPHAN),
            kind: object.kind.clone(),
            namespace: object.namespace.clone(),
            name: object.name.clone(),
        }
    }
}

/// Owners by uid.
pub type OwnerIndex = HashMap<String, OwnerState>;

/// The static kind name for the kinds the garbage collector acts on; `None` for any other kind.
pub fn static_kind(kind: &str) -> Option<KindName> {
    const KINDS: [&str; 14] = [
        "Pod",
        "ReplicaSet",
        "Deployment",
        "Job",
        "CronJob",
        "Service",
        "Endpoints",
        "ConfigMap",
        "Secret",
        "ServiceAccount",
        "Event",
        "Lease",
        "Node",
        "Namespace",
    ];
    KINDS.into_iter().find(|k| *k == kind)
}

/// How one owner reference of a dependent relates to the live owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefState {
    /// The owner exists and is not being deleted in a way that affects the dependent.
    Solid,
    /// The owner is gone (or the reference is invalid).
    Dangling,
    /// The owner is being deleted and orphans its dependents.
    Orphaning,
    /// The owner is being deleted in the foreground and waits for its dependents.
    Waiting,
}

fn classify(dep: &ObjectSummary, reference: &OwnerReference, owners: &OwnerIndex) -> RefState {
    match owners.get(&reference.uid) {
        None => RefState::Dangling,
        Some(o) if !o.exists || (o.namespace.is_some() && o.namespace != dep.namespace) => RefState::Dangling,
        Some(o) if o.deleting && o.orphan => RefState::Orphaning,
        Some(o) if o.deleting && o.foreground => RefState::Waiting,
        Some(_) => RefState::Solid,
    }
}

/// Decides what to do with `dep` given its owners' states (see the module guarantees).
pub fn dependent_action(dep: &ObjectSummary, owners: &OwnerIndex) -> Option<Action> {
    if dep.deleting || dep.owner_references.is_empty() {
        return None;
    }
    let kind = static_kind(&dep.kind)?;
    let states: Vec<RefState> = dep.owner_references.iter().map(|r| classify(dep, r, owners)).collect();
    let kept = states.iter().any(|s| matches!(s, RefState::Solid | RefState::Orphaning));
    if kept {
        if states.iter().all(|s| *s == RefState::Solid) {
            return None;
        }
        let solid = dep.owner_references.iter().zip(&states).filter(|(_, s)| **s == RefState::Solid);
        let remaining: Vec<&OwnerReference> = solid.map(|(r, _)| r).collect();
        let patch = json!({ "metadata": with_preconditions(dep, json!({ "ownerReferences": remaining })) });
        return Some(Action::Patch { kind, namespace: dep.namespace.clone(), name: dep.name.clone(), patch });
    }
    let propagation = if states.contains(&RefState::Waiting) { "Foreground" } else { "Background" };
    Some(Action::Delete {
        kind,
        namespace: dep.namespace.clone(),
        name: dep.name.clone(),
        uid: Some(dep.uid.clone()),
        propagation: Some(propagation),
        grace_period_seconds: None,
    })
}

/// Decides whether a deleting owner's `foregroundDeletion` / `orphan` finalizers can go, given the objects
/// that still exist and reference it (others in `dependents` are ignored).
pub fn owner_action(owner: &ObjectSummary, dependents: &[&ObjectSummary]) -> Option<Action> {
    if !owner.deleting {
        return None;
    }
    let kind = static_kind(&owner.kind)?;
    let refs: Vec<&OwnerReference> = dependents
        .iter()
        .filter(|d| d.uid != owner.uid)
        .flat_map(|d| d.owner_references.iter().filter(|r| r.uid == owner.uid))
        .collect();
    let blocked = refs.iter().any(|r| r.block_owner_deletion == Some(true));
    let releasable = |f: &str| (f == FINALIZER_FOREGROUND && !blocked) || (f == FINALIZER_ORPHAN && refs.is_empty());
    if !owner.finalizers.iter().any(|f| releasable(f)) {
        return None;
    }
    let finalizers: Vec<&String> = owner.finalizers.iter().filter(|f| !releasable(f)).collect();
    let patch = json!({ "metadata": with_preconditions(owner, json!({ "finalizers": finalizers })) });
    Some(Action::Patch { kind, namespace: owner.namespace.clone(), name: owner.name.clone(), patch })
}

/// Adds the object's `uid` and (when known) `resourceVersion` to a metadata patch, making it conditional.
fn with_preconditions(object: &ObjectSummary, mut metadata: Value) -> Value {
    metadata["uid"] = json!(object.uid);
    if let Some(rv) = &object.resource_version {
        metadata["resourceVersion"] = json!(rv);
    }
    metadata
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner_ref(uid: &str, block: bool) -> OwnerReference {
        OwnerReference {
            api_version: "apps/v1".into(),
            kind: "ReplicaSet".into(),
            name: format!("rs-{uid}"),
            uid: uid.into(),
            controller: Some(true),
            block_owner_deletion: Some(block),
        }
    }

    fn object(kind: &str, uid: &str, refs: Vec<OwnerReference>) -> ObjectSummary {
        ObjectSummary {
            kind: kind.into(),
            api_version: "v1".into(),
            namespace: Some("ns".into()),
            name: format!("obj-{uid}"),
            uid: uid.into(),
            resource_version: Some("9".into()),
            owner_references: refs,
            finalizers: vec![],
            deleting: false,
        }
    }

    fn owner(uid: &str, deleting: bool, finalizers: &[&str]) -> ObjectSummary {
        ObjectSummary {
            deleting,
            finalizers: finalizers.iter().map(|f| f.to_string()).collect(),
            ..object("ReplicaSet", uid, vec![])
        }
    }

    fn index(owners: &[ObjectSummary]) -> OwnerIndex {
        owners.iter().map(|o| (o.uid.clone(), OwnerState::from_summary(o))).collect()
    }

    fn patched_refs(action: Option<Action>) -> Vec<String> {
        let Some(Action::Patch { patch, .. }) = action else { panic!("expected a patch, got {action:?}") };
        assert_eq!(patch["metadata"]["resourceVersion"], "9");
        let refs = patch["metadata"]["ownerReferences"].as_array().cloned().unwrap_or_default();
        refs.iter().map(|r| r["uid"].as_str().unwrap_or_default().to_string()).collect()
    }

    fn delete_propagation(action: Option<Action>) -> Option<&'static str> {
        match action {
            Some(Action::Delete { uid: Some(uid), propagation, .. }) if uid == "dep" => propagation,
            other => panic!("expected a uid-guarded delete, got {other:?}"),
        }
    }

    #[test]
    fn all_owners_gone_deletes_in_background() {
        let dep = object("Pod", "dep", vec![owner_ref("a", true), owner_ref("b", false)]);
        let mut owners = index(&[owner("b", false, &[])]);
        owners.values_mut().for_each(|o| o.exists = false);
        assert_eq!(delete_propagation(dependent_action(&dep, &owners)), Some("Background"));
    }

    #[test]
    fn dangling_refs_are_removed_when_another_owner_lives() {
        let dep = object("Pod", "dep", vec![owner_ref("gone", true), owner_ref("alive", true)]);
        let owners = index(&[owner("alive", false, &[])]);
        assert_eq!(patched_refs(dependent_action(&dep, &owners)), vec!["alive"]);
    }

    #[test]
    fn owner_in_another_namespace_counts_as_dangling() {
        let dep = object("Pod", "dep", vec![owner_ref("x", true)]);
        let mut other = owner("x", false, &[]);
        other.namespace = Some("elsewhere".into());
        assert_eq!(delete_propagation(dependent_action(&dep, &index(&[other]))), Some("Background"));
    }

    #[test]
    fn orphaning_owner_ref_is_removed_and_dependent_kept() {
        let dep = object("Pod", "dep", vec![owner_ref("o", true)]);
        let owners = index(&[owner("o", true, &[FINALIZER_ORPHAN])]);
        assert_eq!(patched_refs(dependent_action(&dep, &owners)), Vec::<String>::new());
    }

    #[test]
    fn foreground_owner_deletes_dependent_in_foreground() {
        let dep = object("ReplicaSet", "dep", vec![owner_ref("d", true)]);
        let owners = index(&[owner("d", true, &[FINALIZER_FOREGROUND])]);
        assert_eq!(delete_propagation(dependent_action(&dep, &owners)), Some("Foreground"));
    }

    #[test]
    fn solid_owner_wins_over_foreground_owner() {
        let dep = object("Pod", "dep", vec![owner_ref("fg", true), owner_ref("solid", false)]);
        let owners = index(&[owner("fg", true, &[FINALIZER_FOREGROUND]), owner("solid", false, &[])]);
        assert_eq!(patched_refs(dependent_action(&dep, &owners)), vec!["solid"]);
    }

    #[test]
    fn healthy_deleting_ownerless_or_unknown_dependents_are_left_alone() {
        let owners = index(&[owner("a", false, &[]), owner("bg", true, &[])]);
        assert_eq!(dependent_action(&object("Pod", "dep", vec![owner_ref("a", true)]), &owners), None);
        assert_eq!(dependent_action(&object("Pod", "dep", vec![owner_ref("bg", true)]), &owners), None);
        assert_eq!(dependent_action(&object("Pod", "dep", vec![]), &owners), None);
        let deleting = ObjectSummary { deleting: true, ..object("Pod", "dep", vec![owner_ref("gone", true)]) };
        assert_eq!(dependent_action(&deleting, &owners), None);
        assert_eq!(dependent_action(&object("Widget", "dep", vec![owner_ref("gone", true)]), &owners), None);
    }

    #[test]
    fn foreground_finalizer_removed_only_without_blocking_dependents() {
        let fg = owner("o", true, &["custom", FINALIZER_FOREGROUND]);
        let blocking = object("Pod", "p1", vec![owner_ref("o", true)]);
        let non_blocking = object("Pod", "p2", vec![owner_ref("o", false)]);
        let unrelated = object("Pod", "p3", vec![owner_ref("other", true)]);
        assert_eq!(owner_action(&fg, &[&blocking, &non_blocking]), None);
        let Some(Action::Patch { kind: "ReplicaSet", name, patch, .. }) =
            owner_action(&fg, &[&non_blocking, &unrelated])
        else {
            panic!("expected the finalizer to be removed");
        };
        assert_eq!(name, "obj-o");
        assert_eq!(patch["metadata"]["finalizers"], json!(["custom"]));
        assert_eq!(patch["metadata"]["resourceVersion"], "9");
        assert_eq!(patch["metadata"]["uid"], "o");
    }

    #[test]
    fn orphan_finalizer_removed_once_no_dependent_references_owner() {
        let orphaning = owner("o", true, &[FINALIZER_ORPHAN]);
        let still = object("Pod", "p1", vec![owner_ref("o", false)]);
        let released = object("Pod", "p2", vec![]);
        assert_eq!(owner_action(&orphaning, &[&still]), None);
        let Some(Action::Patch { patch, .. }) = owner_action(&orphaning, &[&released]) else {
            panic!("expected the finalizer to be removed");
        };
        assert_eq!(patch["metadata"]["finalizers"], json!([]));
    }

    #[test]
    fn owner_not_deleting_or_without_gc_finalizers_needs_nothing() {
        assert_eq!(owner_action(&owner("o", false, &[FINALIZER_FOREGROUND]), &[]), None);
        assert_eq!(owner_action(&owner("o", true, &["custom"]), &[]), None);
    }

    #[test]
    fn summary_from_value_reads_metadata_and_rejects_malformed() {
        let value = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": "p", "namespace": "ns", "uid": "u1", "resourceVersion": "3",
                "deletionTimestamp": "2024-01-01T00:00:00Z", "finalizers": ["orphan", 5],
                "ownerReferences": [
                    {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "o1", "blockOwnerDeletion": true},
                    {"bogus": true}
                ]
            }
        });
        let summary = ObjectSummary::from_value(&value).unwrap_or_default();
        assert_eq!((summary.kind.as_str(), summary.name.as_str(), summary.uid.as_str()), ("Pod", "p", "u1"));
        assert_eq!(summary.namespace.as_deref(), Some("ns"));
        assert_eq!(summary.resource_version.as_deref(), Some("3"));
        assert!(summary.deleting);
        assert_eq!(summary.finalizers, vec!["orphan"]);
        assert_eq!(summary.owner_references.len(), 1);
        assert_eq!(summary.owner_references[0].block_owner_deletion, Some(true));
        assert_eq!(ObjectSummary::from_value(&json!({"kind": "Pod", "metadata": {"name": "p"}})), None);
        assert_eq!(static_kind("Deployment"), Some("Deployment"));
        assert_eq!(static_kind("Widget"), None);
    }
}
