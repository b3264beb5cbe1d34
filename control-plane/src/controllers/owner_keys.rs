//! Mapping a changed object to the key of the controller object that owns
//! it (its controller ownerReference), for queueing the owner.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use std::sync::Arc;

use crate::runtime::cache::{Cache, ObjKey};

/// The key of `meta`'s controller owner, if it is of `kind`.
pub fn controller_of(meta: &ObjectMeta, kind: &str) -> Option<ObjKey> {
    let r = meta.owner_references.as_ref()?.iter().find(|r| r.controller == Some(true))?;
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
