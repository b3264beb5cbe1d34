//! Create, update (PUT), patch and the `/scale` view.
//!
//! Every write is a compare-and-swap on the revision it read. A PUT that
//! names a `resourceVersion` fails with 409 Conflict when the object moved
//! on; a PUT without one and every PATCH that does not pin a
//! `resourceVersion` re-read and retry instead (never a lost update).

use serde_json::{json, Value};

use super::{admission, service_alloc, ApiServer, Part, WriteOptions, Written};
use crate::error::ApiError;
use crate::patch::{self, PatchType};
use crate::registry::selector::LabelSelector;
use crate::registry::{object, Kind};
use crate::storage::{self, Stored, WriteError};

/// Attempts of a write that keeps losing compare-and-swap races.
const MAX_ATTEMPTS: usize = 16;

/// The `autoscaling/v1 Scale` view of an object with `spec.replicas`.
pub fn to_scale(obj: &Value) -> Value {
    let meta = obj.get("metadata").cloned().unwrap_or_default();
    let selector = obj
        .pointer("/spec/selector")
        .and_then(|s| LabelSelector::from_object(s).ok())
        .map(|s| s.to_string())
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta.get("name"), "namespace": meta.get("namespace"), "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"), "creationTimestamp": meta.get("creationTimestamp"),
        },
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(0))},
        "status": {"replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)), "selector": selector},
    })
}

/// Apply a changed Scale to the object it views.
fn from_scale(kind: &Kind, obj: &Value, scale: &Value) -> Result<Value, ApiError> {
    let name = object::name(obj).unwrap_or("");
    let replicas = scale.pointer("/spec/replicas").cloned().unwrap_or(json!(0));
    let Some(n) = replicas.as_i64() else {
        return Err(ApiError::bad_request("Scale spec.replicas must be an integer"));
    };
    if n < 0 {
        return Err(ApiError::invalid(
            kind,
            name,
            format!("Scale.autoscaling \"{name}\" is invalid: spec.replicas: Invalid value: {n}: must be greater than or equal to 0"),
            vec![json!({"reason": "FieldValueInvalid", "field": "spec.replicas", "message": format!("Invalid value: {n}: must be greater than or equal to 0")})],
        ));
    }
    let mut out = obj.clone();
    out["spec"]["replicas"] = json!(n);
    if let Some(rv) = scale.pointer("/metadata/resourceVersion").filter(|v| !v.is_null()) {
        object::meta_mut(&mut out).insert("resourceVersion".into(), rv.clone());
    }
    Ok(out)
}

/// The outcome of one compare-and-swap attempt of an update: `None` =
/// lost a race, read again and retry (unless the client pinned a
/// resourceVersion, which is then stale).
fn settle(
    res: Result<Written, WriteError>,
    pinned: bool,
    kind: &Kind,
    name: &str,
) -> Option<Result<Written, ApiError>> {
    match res {
        Ok(w) => Some(Ok(w)),
        Err(WriteError::Changed(_)) if pinned => Some(Err(ApiError::stale(kind, name))),
        Err(WriteError::Missing) => Some(Err(ApiError::not_found(kind, name))),
        Err(WriteError::Api(e)) => Some(Err(e)),
        Err(WriteError::Changed(_) | WriteError::Exists | WriteError::GuardChanged) => None,
    }
}

/// Equal but for `resourceVersion`.
fn same_object(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("resourceVersion");
        }
        v
    };
    strip(a) == strip(b)
}

fn body_rv(obj: &Value) -> Option<String> {
    obj.pointer("/metadata/resourceVersion").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}

impl ApiServer {
    /// The namespace guard of a create: the namespace's key and revision.
    /// Fails when the namespace is missing (404) or terminating (403).
    async fn namespace_guard(&self, kind: &Kind, ns: &str, name: &str) -> Result<(Vec<u8>, i64), ApiError> {
        let ns_kind = crate::registry::kinds::by_kind("v1", "Namespace")
            .ok_or_else(|| ApiError::internal("no Namespace kind"))?;
        let key = storage::key(ns_kind, None, ns);
        let Some(s) = self.objects.get(&key, true).await? else {
            return Err(ApiError::not_found(ns_kind, ns));
        };
        if object::is_deleting(&s.object)
            || s.object.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating")
        {
            return Err(ApiError::forbidden(
                kind,
                name,
                &format!("unable to create new content in namespace {ns} because it is being terminated"),
            ));
        }
        Ok((key, s.revision))
    }

    /// After a Service write lost on a reservation: a 422 if one the client
    /// chose is taken (a random one is simply drawn again).
    async fn check_requested(&self, kind: &Kind, name: &str, plan: &service_alloc::Plan) -> Result<(), ApiError> {
        for k in &plan.requested {
            if self.objects.exists(k).await? {
                let what = String::from_utf8_lossy(k).rsplit('/').next().unwrap_or("").to_string();
                return Err(ApiError::invalid(
                    kind,
                    name,
                    format!("Service \"{name}\" is invalid: {what}: provided IP or port is already allocated"),
                    Vec::new(),
                ));
            }
        }
        Ok(())
    }

    /// Create an object.
    pub async fn create(
        &self,
        kind: &Kind,
        ns: Option<&str>,
        body: Value,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let (mut obj, warnings) = admission::create(kind, ns, body, opts.field_validation)?;
        let name = object::name(&obj).unwrap_or("").to_string();
        let manager = opts.field_manager.as_deref().unwrap_or("unknown");
        patch::track_update(None, &mut obj, manager, &kind.api_version(), &object::now_rfc3339());
        if opts.dry_run {
            return Ok(Written { object: obj, created: true, warnings });
        }
        let key = storage::key(kind, ns, &name);
        for _ in 0..MAX_ATTEMPTS {
            let guard = match (kind.namespaced, ns) {
                (true, Some(ns)) => Some(self.namespace_guard(kind, ns, &name).await?),
                _ => None,
            };
            let mut attempt = obj.clone();
            let plan = if kind.kind == "Service" {
                service_alloc::plan(&mut attempt).map_err(|m| {
                    ApiError::invalid(kind, &name, format!("Service \"{name}\" is invalid: {m}"), Vec::new())
                })?
            } else {
                service_alloc::Plan::default()
            };
            match self.objects.create(&key, &attempt, guard.as_ref().map(|(k, r)| (k.as_slice(), *r)), &plan.keys).await
            {
                Ok(s) => return Ok(Written { object: s.object, created: true, warnings }),
                Err(WriteError::Exists) => return Err(ApiError::already_exists(kind, &name)),
                Err(WriteError::GuardChanged) => {
                    self.check_requested(kind, &name, &plan).await?;
                    continue;
                }
                Err(WriteError::Api(e)) => return Err(e),
                Err(WriteError::Missing | WriteError::Changed(_)) => continue,
            }
        }
        Err(ApiError::new(409, "Conflict", "the namespace kept changing while creating; retry"))
    }

    /// Replace an object (PUT), or its status or scale.
    pub async fn update(
        &self,
        kind: &Kind,
        ns: Option<&str>,
        name: &str,
        part: Part,
        body: Value,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let pinned = body_rv(&body);
        for _ in 0..MAX_ATTEMPTS {
            let current = self.get(kind, ns, name, None).await?;
            if let Some(rv) = &pinned {
                if *rv != current.revision.to_string() {
                    return Err(ApiError::stale(kind, name));
                }
            }
            let new = if part == Part::Scale {
                if !kind.scale {
                    return Err(ApiError::not_found(kind, name));
                }
                from_scale(kind, &current.object, &body)?
            } else {
                body.clone()
            };
            let res = self.store_update(kind, ns, name, part, &current, new, opts).await;
            if let Some(done) = settle(res, pinned.is_some(), kind, name) {
                return done;
            }
        }
        Err(ApiError::stale(kind, name))
    }

    /// Admit `new` as an update of `current` and write it (or, when the
    /// object is being deleted and no finalizer is left, delete it).
    #[allow(clippy::too_many_arguments)]
    async fn store_update(
        &self,
        kind: &Kind,
        ns: Option<&str>,
        name: &str,
        part: Part,
        current: &Stored,
        new: Value,
        opts: &WriteOptions,
    ) -> Result<Written, WriteError> {
        let main_part = if part == Part::Scale { Part::Main } else { part };
        let (mut obj, warnings) =
            admission::update(kind, ns, name, &current.object, new, main_part, opts.field_validation)
                .map_err(WriteError::Api)?;
        let manager = opts.field_manager.as_deref().unwrap_or("unknown");
        patch::track_update(Some(&current.object), &mut obj, manager, &kind.api_version(), &object::now_rfc3339());
        let key = storage::key(kind, ns, name);
        if opts.dry_run {
            return Ok(Written { object: obj, created: false, warnings });
        }
        // Kubernetes' rule: the write that removes the last finalizer of an
        // object marked for deletion removes it (not every write to a pod in
        // its grace period; namespaces are removed by their teardown).
        let last_finalizer_gone =
            !object::finalizers(&current.object).is_empty() && object::finalizers(&obj).is_empty();
        if object::is_deleting(&obj) && last_finalizer_gone && kind.kind != "Namespace" {
            let rev = self.objects.delete(&key, current.revision, &super::delete::held(kind, &current.object)).await?;
            object::set_resource_version(&mut obj, rev);
            return Ok(Written { object: obj, created: false, warnings });
        }
        if same_object(&obj, &current.object) {
            // Nothing changed: no write, no event (as Kubernetes does).
            let object = if part == Part::Scale { to_scale(&current.object) } else { current.object.clone() };
            return Ok(Written { object, created: false, warnings });
        }
        let plan = if kind.kind == "Service" {
            service_alloc::plan_update(&current.object, &mut obj).map_err(|m| {
                WriteError::Api(ApiError::invalid(
                    kind,
                    name,
                    format!("Service \"{name}\" is invalid: {m}"),
                    Vec::new(),
                ))
            })?
        } else {
            service_alloc::Plan::default()
        };
        let s = match self.objects.update(&key, &obj, current.revision, &plan.keys, &plan.release).await {
            Err(WriteError::GuardChanged) => {
                self.check_requested(kind, name, &plan).await.map_err(WriteError::Api)?;
                return Err(WriteError::GuardChanged);
            }
            other => other?,
        };
        let object = if part == Part::Scale { to_scale(&s.object) } else { s.object };
        Ok(Written { object, created: false, warnings })
    }

    /// Patch an object, its status or its scale.
    #[allow(clippy::too_many_arguments)]
    pub async fn patch(
        &self,
        kind: &Kind,
        ns: Option<&str>,
        name: &str,
        part: Part,
        patch_type: PatchType,
        body: &[u8],
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        if part == Part::Scale && !kind.scale {
            return Err(ApiError::not_found(kind, name));
        }
        let doc = patch::parse(patch_type, body)?;
        for _ in 0..MAX_ATTEMPTS {
            let current = match self.get(kind, ns, name, None).await {
                Ok(c) => c,
                Err(e) if e.code == 404 && patch_type == PatchType::Apply && part == Part::Main => {
                    match self.apply_create(kind, ns, name, &doc, opts).await {
                        // Created concurrently: apply onto it.
                        Err(e) if e.reason == "AlreadyExists" => continue,
                        other => return other,
                    }
                }
                Err(e) => return Err(e),
            };
            let view = if part == Part::Scale { to_scale(&current.object) } else { current.object.clone() };
            let patched = if patch_type == PatchType::Apply {
                let manager = opts.field_manager.as_deref().ok_or_else(|| {
                    ApiError::bad_request("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch")
                })?;
                patch::apply::apply(Some(&view), &doc, manager, &kind.api_version(), opts.force, &object::now_rfc3339())
                    .map_err(|e| patch::apply_error(e, kind, name))?
            } else {
                patch::apply_patch(patch_type, &view, &doc)?
            };
            let pinned = body_rv(&patched).filter(|rv| *rv != current.revision.to_string());
            if pinned.is_some() {
                return Err(ApiError::stale(kind, name));
            }
            let pins = body_rv(&doc).is_some();
            let new = if part == Part::Scale { from_scale(kind, &current.object, &patched)? } else { patched };
            let mut o = opts.clone();
            if patch_type == PatchType::Apply {
                // Apply tracked its own managedFields; do not add an Update entry.
                o.field_manager = Some(String::new());
            }
            let res = self.store_update(kind, ns, name, part, &current, new, &o).await;
            if let Some(done) = settle(res, pins, kind, name) {
                return done;
            }
        }
        Err(ApiError::stale(kind, name))
    }

    /// Server-side apply of an object that does not exist: create it.
    async fn apply_create(
        &self,
        kind: &Kind,
        ns: Option<&str>,
        name: &str,
        doc: &Value,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let manager = opts.field_manager.as_deref().ok_or_else(|| {
            ApiError::bad_request(
                "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
            )
        })?;
        if object::name(doc).is_some_and(|n| n != name) {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                object::name(doc).unwrap_or("")
            )));
        }
        let mut applied =
            patch::apply::apply(None, doc, manager, &kind.api_version(), opts.force, &object::now_rfc3339())
                .map_err(|e| patch::apply_error(e, kind, name))?;
        object::meta_mut(&mut applied).insert("name".into(), Value::String(name.into()));
        let mut o = opts.clone();
        o.field_manager = Some(String::new());
        self.create(kind, ns, applied, &o).await
    }
}
