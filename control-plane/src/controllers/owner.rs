//! Controller owner references, for every controller, the caches and the
//! scheduler: building them, asking who controls an object, and mapping a
//! changed object to its controller's cache key.
//!
//! Guarantees: an object is controlled by `uid` only through an ownerReference with
//! `controller: true` and that uid; references built here always set `controller` and
//! `blockOwnerDeletion` to true.

use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::runtime::cache::{Cache, ObjKey};

/// The object's controller reference (`controller: true`), if any.
pub fn controller_ref(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references.iter().flatten().find(|r| r.controller == Some(true))
}

/// Whether the object's controller reference points at `uid`.
pub fn is_controlled_by(meta: &ObjectMeta, uid: &str) -> bool {
    !uid.is_empty() && controller_ref(meta).map(|r| r.uid == uid).unwrap_or(false)
}

/// The uid of the object's controller, if any.
pub fn controller_uid(meta: &ObjectMeta) -> Option<&str> {
    controller_ref(meta).map(|r| r.uid.as_str())
}

/// The key of `meta`'s controller owner, if it is of `kind`.
pub fn controller_of(meta: &ObjectMeta, kind: &str) -> Option<ObjKey> {
    let r = controller_ref(meta)?;
    (r.kind == kind).then(|| ObjKey::new(meta.namespace.as_deref().unwrap_or(""), &r.name))
}

/// The objects `uid` controls plus the ownerless ones of `ns` it might
/// adopt: everything a controller's reconcile needs, without a namespace
/// scan.
pub fn owned_and_orphans<T: k8s_openapi::Metadata<Ty = ObjectMeta>>(
    cache: &Cache<T>,
    uid: Option<&str>,
    ns: &str,
) -> Vec<Arc<T>> {
    let mut out = uid.map(|u| cache.owned_by(u)).unwrap_or_default();
    out.extend(cache.orphans_in(ns));
    out
}

/// A controller reference to the owner `kind`/`name`/`uid` of `api_version`.
pub fn controller_owner_ref(api_version: &str, kind: &str, name: &str, uid: &str) -> OwnerReference {
    OwnerReference {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        name: name.to_string(),
        uid: uid.to_string(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(refs: Vec<OwnerReference>) -> ObjectMeta {
        ObjectMeta { owner_references: Some(refs), ..Default::default() }
    }

    #[test]
    fn only_controller_refs_count() {
        let mut plain = controller_owner_ref("batch/v1", "Job", "a", "u1");
        plain.controller = Some(false);
        assert!(!is_controlled_by(&meta(vec![plain.clone()]), "u1"));
        let ctrl = controller_owner_ref("batch/v1", "Job", "b", "u2");
        assert!(is_controlled_by(&meta(vec![plain, ctrl]), "u2"));
        assert!(!is_controlled_by(&meta(vec![]), ""));
        assert!(!is_controlled_by(&ObjectMeta::default(), "u2"));
    }
}
