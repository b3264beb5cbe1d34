//! Controller-reference claiming (adoption and release), as upstream's
//! `ControllerRefManager` decides it.
//!
//! Guarantees: an object controlled by someone else is never touched; an
//! orphan is adopted only when it matches, is not being deleted, and the
//! owner is not being deleted; an owned object that no longer matches is
//! released unless the owner is being deleted. Patches are JSON merge patches
//! that replace `metadata.ownerReferences` with the full new list and carry
//! the object's `metadata.resourceVersion`, so they are compare-and-swap.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde_json::{json, Value};

use crate::controllers::workloads::pod_state::controller_ref;

/// What an owner should do with one candidate object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Already controlled by the owner and still matching: counts as owned.
    Owned,
    /// Orphan that matches: adopt it (and count it as owned).
    Adopt,
    /// Controlled by the owner but no longer matching: release it.
    Release,
    /// Not the owner's business.
    Ignore,
}

/// Decide how `owner` treats the object `meta`, given whether the object's
/// labels match the owner's selector.
pub fn claim(meta: &ObjectMeta, owner: &ObjectMeta, selector_matches: bool) -> Claim {
    let owner_uid = owner.uid.as_deref().unwrap_or_default();
    if owner_uid.is_empty() {
        return Claim::Ignore;
    }
    let owner_deleting = owner.deletion_timestamp.is_some();
    match controller_ref(meta) {
        Some(r) if r.uid != owner_uid => Claim::Ignore,
        Some(_) if selector_matches => Claim::Owned,
        Some(_) if owner_deleting => Claim::Ignore,
        Some(_) => Claim::Release,
        None if owner_deleting || !selector_matches || meta.deletion_timestamp.is_some() => Claim::Ignore,
        None => Claim::Adopt,
    }
}

/// A controller owner reference to `owner` (`controller` and
/// `blockOwnerDeletion` set).
pub fn controller_owner_ref(api_version: &str, kind: &str, owner: &ObjectMeta) -> OwnerReference {
    crate::controllers::owner::controller_owner_ref(
        api_version,
        kind,
        owner.name.as_deref().unwrap_or_default(),
        owner.uid.as_deref().unwrap_or_default(),
    )
}

/// The object's owner references with `owner_ref` appended.
pub fn owner_refs_with(meta: &ObjectMeta, owner_ref: &OwnerReference) -> Vec<OwnerReference> {
    let mut refs = meta.owner_references.clone().unwrap_or_default();
    refs.retain(|r| r.uid != owner_ref.uid);
    refs.push(owner_ref.clone());
    refs
}

/// The object's owner references without any reference to `owner_uid`.
pub fn owner_refs_without(meta: &ObjectMeta, owner_uid: &str) -> Vec<OwnerReference> {
    let mut refs = meta.owner_references.clone().unwrap_or_default();
    refs.retain(|r| r.uid != owner_uid);
    refs
}

/// Merge patch setting `metadata.ownerReferences` to `refs`, CAS on the
/// object's resourceVersion.
pub fn owner_refs_patch(meta: &ObjectMeta, refs: &[OwnerReference]) -> Value {
    json!({
        "metadata": {
            "resourceVersion": meta.resource_version.clone().unwrap_or_default(),
            "ownerReferences": refs,
        }
    })
}

/// Merge patch adopting the object under `owner_ref`.
pub fn adopt_patch(meta: &ObjectMeta, owner_ref: &OwnerReference) -> Value {
    owner_refs_patch(meta, &owner_refs_with(meta, owner_ref))
}

/// Merge patch releasing the object from the owner with `owner_uid`.
pub fn release_patch(meta: &ObjectMeta, owner_uid: &str) -> Value {
    owner_refs_patch(meta, &owner_refs_without(meta, owner_uid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn owner(uid: &str, deleting: bool) -> ObjectMeta {
        ObjectMeta {
            name: Some("web".into()),
            uid: Some(uid.into()),
            deletion_timestamp: deleting.then_some(Time(chrono::DateTime::UNIX_EPOCH)),
            ..Default::default()
        }
    }

    fn owned_by(uid: &str) -> ObjectMeta {
        ObjectMeta {
            resource_version: Some("7".into()),
            owner_references: Some(vec![
                OwnerReference { uid: "other".into(), controller: Some(false), ..Default::default() },
                OwnerReference { uid: uid.into(), controller: Some(true), ..Default::default() },
            ]),
            ..Default::default()
        }
    }

    #[test]
    fn decisions() {
        let me = owner("u1", false);
        let orphan = ObjectMeta::default();
        assert_eq!(claim(&orphan, &me, true), Claim::Adopt);
        assert_eq!(claim(&orphan, &me, false), Claim::Ignore);
        assert_eq!(claim(&orphan, &owner("u1", true), true), Claim::Ignore);
        assert_eq!(claim(&owned_by("u1"), &me, true), Claim::Owned);
        assert_eq!(claim(&owned_by("u1"), &me, false), Claim::Release);
        assert_eq!(claim(&owned_by("u1"), &owner("u1", true), false), Claim::Ignore);
        assert_eq!(claim(&owned_by("u2"), &me, true), Claim::Ignore);
        let dying = ObjectMeta { deletion_timestamp: Some(Time(chrono::DateTime::UNIX_EPOCH)), ..Default::default() };
        assert_eq!(claim(&dying, &me, true), Claim::Ignore);
        assert_eq!(claim(&orphan, &owner("", false), true), Claim::Ignore);
    }

    #[test]
    fn patches_keep_other_refs_and_carry_resource_version() {
        let meta = owned_by("u1");
        let p = release_patch(&meta, "u1");
        assert_eq!(p["metadata"]["resourceVersion"], "7");
        assert_eq!(p["metadata"]["ownerReferences"].as_array().map(Vec::len), Some(1));
        assert_eq!(p["metadata"]["ownerReferences"][0]["uid"], "other");
        let r = controller_owner_ref("apps/v1", "ReplicaSet", &owner("u9", false));
        let p = adopt_patch(&release_meta(), &r);
        let refs = &p["metadata"]["ownerReferences"];
        assert_eq!(refs[1]["uid"], "u9");
        assert_eq!(refs[1]["controller"], true);
        assert_eq!(refs[1]["blockOwnerDeletion"], true);
        assert_eq!(refs[1]["kind"], "ReplicaSet");
    }

    fn release_meta() -> ObjectMeta {
        ObjectMeta {
            owner_references: Some(vec![OwnerReference { uid: "other".into(), ..Default::default() }]),
            ..Default::default()
        }
    }
}
