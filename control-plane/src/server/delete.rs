//! Delete, with finalizers, graceful pod deletion and namespace teardown.
//!
//! - An object with finalizers is only marked (`deletionTimestamp`); it is
//!   removed by the write that clears its last finalizer.
//! - A pod bound to a node is deleted gracefully: it is marked with
//!   `deletionTimestamp` = now + grace period and removed when its node
//!   confirms (a delete with `gracePeriodSeconds=0`); an unscheduled pod,
//!   or a grace period of 0, removes it at once.
//! - A namespace is marked `Terminating`; its contents are deleted, then the
//!   namespace itself. (Dependents named by `ownerReferences` are removed
//!   by the garbage collector, a leader task.)

use serde_json::{json, Value};

use super::{ApiServer, ListOptions};
use crate::error::ApiError;
use crate::registry::kinds::KINDS;
use crate::registry::{object, Kind};
use crate::storage::{self, WriteError};

/// Options of a delete (query parameters or a `DeleteOptions` body).
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    /// `gracePeriodSeconds`.
    pub grace_period_seconds: Option<i64>,
    /// `propagationPolicy` (Orphan, Background, Foreground).
    pub propagation_policy: Option<String>,
    /// `preconditions.uid`.
    pub uid: Option<String>,
    /// `preconditions.resourceVersion`.
    pub resource_version: Option<String>,
    /// `dryRun=All`.
    pub dry_run: bool,
}

impl DeleteOptions {
    /// Merge a `DeleteOptions` JSON body into these options.
    pub fn merge_body(&mut self, body: &Value) -> Result<(), ApiError> {
        if body.is_null() {
            return Ok(());
        }
        let Some(m) = body.as_object() else {
            return Err(ApiError::bad_request("the DELETE body must be a DeleteOptions object"));
        };
        if let Some(g) = m.get("gracePeriodSeconds").filter(|v| !v.is_null()) {
            self.grace_period_seconds =
                Some(g.as_i64().ok_or_else(|| ApiError::bad_request("gracePeriodSeconds must be an integer"))?);
        }
        if let Some(p) = m.get("propagationPolicy").and_then(Value::as_str) {
            self.propagation_policy = Some(p.to_string());
        }
        if let Some(p) = m.get("orphanDependents").and_then(Value::as_bool) {
            if p {
                self.propagation_policy = Some("Orphan".into());
            }
        }
        if let Some(pre) = m.get("preconditions") {
            self.uid = pre.get("uid").and_then(Value::as_str).map(str::to_string);
            self.resource_version = pre.get("resourceVersion").and_then(Value::as_str).map(str::to_string);
        }
        if let Some(d) = m.get("dryRun").and_then(Value::as_array) {
            self.dry_run = d.iter().any(|v| v == "All");
        }
        match self.propagation_policy.as_deref() {
            None | Some("Orphan" | "Background" | "Foreground") => Ok(()),
            Some(other) => Err(ApiError::bad_request(format!(
                "propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
            ))),
        }
    }
}

/// Attempts before giving up on a delete that keeps racing other writes.
const MAX_ATTEMPTS: usize = 16;

impl ApiServer {
    /// Delete (or mark for deletion) one object. Returns the object as it
    /// was last seen (marked or just removed). Deleting a namespace starts
    /// its teardown.
    pub async fn delete(
        &self,
        kind: &Kind,
        ns: Option<&str>,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<Value, ApiError> {
        let out = self.delete_one(kind, ns, name, opts).await?;
        if kind.kind == "Namespace" && !opts.dry_run {
            let me = self.clone();
            let ns_name = name.to_string();
            let uid = out.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or("").to_string();
            tokio::spawn(async move {
                if let Err(e) = me.finish_namespace(&ns_name, &uid).await {
                    tracing::warn!(namespace = %ns_name, error = %e, "namespace teardown did not finish; deleting the namespace again retries it");
                }
            });
        }
        Ok(out)
    }

    async fn delete_one(
        &self,
        kind: &Kind,
        ns: Option<&str>,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<Value, ApiError> {
        let key = storage::key(kind, ns, name);
        for _ in 0..MAX_ATTEMPTS {
            let current = self.get(kind, ns, name, None).await?;
            let obj = &current.object;
            if let Some(uid) = &opts.uid {
                let have = obj.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or("");
                if uid != have {
                    return Err(ApiError::conflict(
                        kind,
                        name,
                        &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {have}"),
                    ));
                }
            }
            if let Some(rv) = &opts.resource_version {
                if *rv != current.revision.to_string() {
                    return Err(ApiError::conflict(
                        kind,
                        name,
                        &format!("Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}", current.revision),
                    ));
                }
            }
            let now = object::now_rfc3339();
            let mut marked = obj.clone();
            let deleting = object::is_deleting(obj);
            // Foreground and Orphan deletion: the garbage collector finishes
            // them, guided by a finalizer (as in Kubernetes).
            let gc_finalizer = match opts.propagation_policy.as_deref() {
                Some("Foreground") if kind.kind != "Namespace" => Some("foregroundDeletion"),
                Some("Orphan") if kind.kind != "Namespace" => Some("orphan"),
                _ => None,
            };
            if let Some(f) = gc_finalizer.filter(|f| !object::finalizers(obj).iter().any(|x| x == f)) {
                let list = object::meta_mut(&mut marked).entry("finalizers").or_insert_with(|| json!([]));
                if let Some(a) = list.as_array_mut() {
                    a.push(json!(f));
                }
            }
            let outcome = if kind.kind == "Namespace" {
                if !deleting {
                    object::meta_mut(&mut marked).insert("deletionTimestamp".into(), json!(now));
                    object::meta_mut(&mut marked).insert("deletionGracePeriodSeconds".into(), json!(0));
                    marked["status"] = json!({"phase": "Terminating"});
                }
                Mark(marked)
            } else if !object::finalizers(&marked).is_empty() {
                if deleting && gc_finalizer.is_none_or(|f| object::finalizers(obj).iter().any(|x| x == f)) {
                    return Ok(current.object);
                }
                object::meta_mut(&mut marked).insert("deletionTimestamp".into(), json!(now));
                object::meta_mut(&mut marked).insert("deletionGracePeriodSeconds".into(), json!(0));
                Mark(marked)
            } else if kind.kind == "Pod" && pod_needs_grace(obj) {
                let default = obj.pointer("/spec/terminationGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(30);
                // (clamped to a year: larger values would overflow timestamps)
                let grace = opts.grace_period_seconds.unwrap_or(default).clamp(0, 365 * 86_400);
                let current_grace = obj.pointer("/metadata/deletionGracePeriodSeconds").and_then(Value::as_i64);
                if grace == 0 {
                    Remove
                } else if deleting && current_grace.is_some_and(|g| g <= grace) {
                    return Ok(current.object);
                } else {
                    let at = chrono::Utc::now() + chrono::Duration::seconds(grace);
                    object::meta_mut(&mut marked)
                        .insert("deletionTimestamp".into(), json!(at.format("%Y-%m-%dT%H:%M:%SZ").to_string()));
                    object::meta_mut(&mut marked).insert("deletionGracePeriodSeconds".into(), json!(grace));
                    Mark(marked)
                }
            } else {
                Remove
            };
            if opts.dry_run {
                return Ok(match outcome {
                    Mark(m) => m,
                    Remove => current.object,
                });
            }
            let result = match outcome {
                Mark(m) => self.objects.update(&key, &m, current.revision, &[], &[]).await.map(|s| s.object),
                Remove => self.objects.delete(&key, current.revision, &held(kind, &current.object)).await.map(|rev| {
                    let mut o = current.object.clone();
                    object::set_resource_version(&mut o, rev);
                    o
                }),
            };
            match result {
                Ok(o) => return Ok(o),
                Err(WriteError::Changed(_)) => continue,
                Err(WriteError::Missing) => return Err(ApiError::not_found(kind, name)),
                Err(WriteError::Api(e)) => return Err(e),
                Err(WriteError::Exists | WriteError::GuardChanged) => continue,
            }
        }
        Err(ApiError::stale(kind, name))
    }

    /// Delete every object of `kind` in `ns` that matches `list` (the
    /// `deletecollection` verb). Returns the deleted (or marked) objects.
    pub async fn delete_collection(
        &self,
        kind: &Kind,
        ns: Option<&str>,
        list: &ListOptions,
        opts: &DeleteOptions,
    ) -> Result<Vec<Value>, ApiError> {
        let page = self.list(kind, ns, list).await?;
        let mut out = Vec::new();
        for o in page.objects()? {
            let name = object::name(&o).unwrap_or("").to_string();
            match self.delete_one(kind, object::namespace(&o), &name, opts).await {
                Ok(d) => out.push(d),
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Delete the contents of the terminating namespace `ns` with `uid`,
    /// then the namespace. Does nothing once `ns` is gone or is another
    /// namespace (recreated under the same name).
    pub async fn finish_namespace(&self, ns: &str, uid: &str) -> Result<(), ApiError> {
        let ns_kind = crate::registry::kinds::by_kind("v1", "Namespace")
            .ok_or_else(|| ApiError::internal("no Namespace kind"))?;
        let key = storage::key(ns_kind, None, ns);
        let still_ours =
            |o: &Value| object::is_deleting(o) && o.pointer("/metadata/uid").and_then(Value::as_str) == Some(uid);
        match self.objects.get(&key, true).await? {
            Some(cur) if still_ours(&cur.object) => {}
            _ => return Ok(()),
        }
        let opts = DeleteOptions { grace_period_seconds: Some(0), ..Default::default() };
        for kind in KINDS.iter().filter(|k| k.namespaced) {
            self.delete_collection(kind, Some(ns), &ListOptions::default(), &opts).await?;
        }
        for kind in KINDS.iter().filter(|k| k.namespaced) {
            let left = self.list(kind, Some(ns), &ListOptions { limit: 1, ..Default::default() }).await?;
            if !left.items.is_empty() {
                return Err(ApiError::conflict(
                    kind,
                    ns,
                    &format!("namespace {ns} still has {} with finalizers pending", kind.resource),
                ));
            }
        }
        for _ in 0..MAX_ATTEMPTS {
            let Some(cur) = self.objects.get(&key, true).await? else { return Ok(()) };
            if !still_ours(&cur.object) {
                return Ok(());
            }
            match self.objects.delete(&key, cur.revision, &[]).await {
                Ok(_) | Err(WriteError::Missing) => return Ok(()),
                Err(WriteError::Changed(_)) => continue,
                Err(WriteError::Api(e)) => return Err(e),
                Err(_) => continue,
            }
        }
        Ok(())
    }
}

enum Outcome {
    Mark(Value),
    Remove,
}
use Outcome::{Mark, Remove};

/// The reservation keys an object holds (a Service's IP and node ports).
pub fn held(kind: &Kind, obj: &Value) -> Vec<Vec<u8>> {
    if kind.kind == "Service" {
        super::service_alloc::held(obj)
    } else {
        Vec::new()
    }
}

/// Whether deleting this pod waits for its node: it is bound and not done.
fn pod_needs_grace(pod: &Value) -> bool {
    let bound = pod.pointer("/spec/nodeName").and_then(Value::as_str).is_some_and(|n| !n.is_empty());
    let phase = pod.pointer("/status/phase").and_then(Value::as_str).unwrap_or("");
    bound && phase != "Succeeded" && phase != "Failed"
}
