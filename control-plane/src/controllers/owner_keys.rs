//! Mapping a changed object to the key of the controller object that owns
//! it (its controller ownerReference), for queueing the owner.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::runtime::cache::ObjKey;

/// The key of `meta`'s controller owner, if it is of `kind`.
pub fn controller_of(meta: &ObjectMeta, kind: &str) -> Option<ObjKey> {
    let r = meta.owner_references.as_ref()?.iter().find(|r| r.controller == Some(true))?;
    (r.kind == kind).then(|| ObjKey::new(meta.namespace.as_deref().unwrap_or(""), &r.name))
}
