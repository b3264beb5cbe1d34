//! Admission of a write: the body is checked against the typed model
//! (unknown fields per `fieldValidation`), server-owned metadata is set or
//! carried over, the kind's defaults are filled in and its validation runs.
//!
//! Pure: nothing here touches the store. A request that fails admission
//! writes nothing.

use serde_json::{json, Map, Value};

use super::{FieldValidation, Part};
use crate::error::ApiError;
use crate::registry::{defaults, object, validation, Kind};

/// An admitted object and the warnings for the client.
pub type Admitted = (Value, Vec<String>);

/// Metadata fields only the server sets.
const SERVER_META: &[&str] =
    &["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "selfLink"];

/// Check the body's type: an object of this kind whose fields all exist in
/// the typed model (per `fv`). Returns the canonical object and warnings.
pub fn decode(kind: &Kind, body: Value, fv: FieldValidation) -> Result<Admitted, ApiError> {
    let Value::Object(mut m) = body else {
        return Err(ApiError::bad_request(format!(
            "the request body must be a JSON or YAML object of kind {} ({}), not {}",
            kind.kind,
            kind.api_version(),
            type_name(&body)
        )));
    };
    let want_av = kind.api_version();
    match m.get("apiVersion") {
        None | Some(Value::Null) => {}
        Some(Value::String(av)) if *av == want_av => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({}) does not match the expected API version ({want_av})",
                other.as_str().unwrap_or("non-string")
            )))
        }
    }
    match m.get("kind") {
        None | Some(Value::Null) => {}
        Some(Value::String(k)) if k == kind.kind => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
            "the kind in the data ({}) does not match the expected kind ({}) of {}; send it to the {} endpoint instead",
            other.as_str().unwrap_or("non-string"),
            kind.kind,
            kind.qualified_resource(),
            other.as_str().unwrap_or("right")
        )))
        }
    }
    m.insert("apiVersion".into(), Value::String(want_av));
    m.insert("kind".into(), Value::String(kind.kind.into()));
    let body = Value::Object(m);
    if object::depth(&body) > 64 {
        return Err(ApiError::bad_request("the object is nested more than 64 levels deep; no Kubernetes object is"));
    }
    let canonical = (kind.canonical)(body.clone()).map_err(|e| {
        ApiError::bad_request(format!("the body is not a valid {} ({}): {e}", kind.kind, kind.api_version()))
    })?;
    let unknown = object::unknown_fields(&body, &canonical);
    let mut warnings = Vec::new();
    if !unknown.is_empty() {
        let list: Vec<String> = unknown.iter().map(|f| format!("unknown field \"{f}\"")).collect();
        match fv {
            FieldValidation::Strict => {
                return Err(ApiError::bad_request(format!("strict decoding error: {}", list.join(", "))))
            }
            FieldValidation::Warn => warnings = list,
            FieldValidation::Ignore => {}
        }
    }
    Ok((canonical, warnings))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn check_namespace(kind: &Kind, obj: &mut Value, ns: Option<&str>) -> Result<(), ApiError> {
    let meta = object::meta_mut(obj);
    if !kind.namespaced {
        meta.remove("namespace");
        return Ok(());
    }
    let ns = ns.ok_or_else(|| {
        ApiError::bad_request(format!("{} are namespaced: use a /namespaces/<namespace>/ path", kind.resource))
    })?;
    match meta.get("namespace").and_then(Value::as_str) {
        Some(n) if !n.is_empty() && n != ns => Err(ApiError::bad_request(format!(
            "the namespace of the provided object ({n}) does not match the namespace sent on the request ({ns})"
        ))),
        _ => {
            meta.insert("namespace".into(), Value::String(ns.into()));
            Ok(())
        }
    }
}

fn run_validation(kind: &Kind, obj: &Value, old: Option<&Value>) -> Result<(), ApiError> {
    let errs = validation::validate(kind.kind, obj, old);
    if errs.is_empty() {
        return Ok(());
    }
    let name = object::name(obj).unwrap_or("");
    let causes = errs.iter().map(|e| json!({"reason": e.reason, "message": e.message, "field": e.field})).collect();
    Err(ApiError::invalid(kind, name, validation::invalid_message(kind.kind, kind.group, name, &errs), causes))
}

/// The status a kind starts with on create.
fn initial_status(kind: &Kind, obj: &mut Value) {
    let Some(m) = obj.as_object_mut() else { return };
    match kind.kind {
        "Pod" => {
            m.insert("status".into(), json!({"phase": "Pending", "qosClass": qos_class(m.get("spec"))}));
        }
        "Namespace" | "Node" => {}
        _ if kind.status => {
            m.remove("status");
        }
        _ => {}
    }
}

/// The pod's QoS class from its containers' requests and limits.
fn qos_class(spec: Option<&Value>) -> &'static str {
    let containers = spec.and_then(|s| s.get("containers")).and_then(Value::as_array).cloned().unwrap_or_default();
    let mut any = false;
    let mut guaranteed = true;
    for c in &containers {
        let req = c.pointer("/resources/requests").and_then(Value::as_object);
        let lim = c.pointer("/resources/limits").and_then(Value::as_object);
        if req.is_some_and(|r| !r.is_empty()) || lim.is_some_and(|l| !l.is_empty()) {
            any = true;
        }
        for res in ["cpu", "memory"] {
            let l = lim.and_then(|l| l.get(res));
            let r = req.and_then(|r| r.get(res)).or(l);
            if l.is_none() || r != l {
                guaranteed = false;
            }
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

/// Admit a create into namespace `ns` (None for cluster-scoped kinds).
pub fn create(kind: &Kind, ns: Option<&str>, body: Value, fv: FieldValidation) -> Result<Admitted, ApiError> {
    let (mut obj, warnings) = decode(kind, body, fv)?;
    check_namespace(kind, &mut obj, ns)?;
    let meta = object::meta_mut(&mut obj);
    let has_name = meta.get("name").and_then(Value::as_str).is_some_and(|n| !n.is_empty());
    if !has_name {
        if let Some(prefix) = meta.get("generateName").and_then(Value::as_str).filter(|p| !p.is_empty()) {
            let name = object::generate_name(prefix);
            meta.insert("name".into(), Value::String(name));
        }
    }
    for f in SERVER_META {
        meta.remove(*f);
    }
    meta.remove("resourceVersion");
    meta.insert("uid".into(), Value::String(object::new_uid()));
    meta.insert("creationTimestamp".into(), Value::String(object::now_rfc3339()));
    if kind.generation {
        meta.insert("generation".into(), json!(1));
    }
    initial_status(kind, &mut obj);
    defaults::apply_defaults(kind.kind, &mut obj);
    run_validation(kind, &obj, None)?;
    Ok((obj, warnings))
}

/// The parts of an object that make up its spec (everything but metadata
/// and status), for generation bumps.
fn spec_of(obj: &Value) -> Map<String, Value> {
    let mut m = obj.as_object().cloned().unwrap_or_default();
    for k in ["metadata", "status", "apiVersion", "kind"] {
        m.remove(k);
    }
    m
}

/// Admit an update of `old` (as stored) with `new` addressed to `part`.
pub fn update(
    kind: &Kind,
    ns: Option<&str>,
    name: &str,
    old: &Value,
    new: Value,
    part: Part,
    fv: FieldValidation,
) -> Result<Admitted, ApiError> {
    let (mut obj, warnings) = decode(kind, new, fv)?;
    check_namespace(kind, &mut obj, ns)?;
    match object::name(&obj) {
        Some(n) if !n.is_empty() && n != name => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )))
        }
        _ => {
            object::meta_mut(&mut obj).insert("name".into(), Value::String(name.into()));
        }
    }
    let old_uid = old.pointer("/metadata/uid").cloned().unwrap_or(Value::Null);
    if let Some(uid) = obj.pointer("/metadata/uid").filter(|u| !u.is_null() && u.as_str() != Some("")) {
        if *uid != old_uid {
            return Err(ApiError::conflict(
                kind,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {}, UID in object meta: {}",
                    uid.as_str().unwrap_or(""),
                    old_uid.as_str().unwrap_or("")
                ),
            ));
        }
    }
    if part == Part::Status {
        // Only status changes; everything else stays as stored.
        let status = obj.get("status").cloned();
        obj = old.clone();
        match status {
            Some(s) => obj["status"] = s,
            None => {
                if let Some(m) = obj.as_object_mut() {
                    m.remove("status");
                }
            }
        }
    } else if kind.status {
        match old.get("status") {
            Some(s) => obj["status"] = s.clone(),
            None => {
                if let Some(m) = obj.as_object_mut() {
                    m.remove("status");
                }
            }
        }
    }
    if kind.kind == "Service" {
        super::service_alloc::carry(old, &mut obj);
    }
    let old_meta = old.get("metadata").and_then(Value::as_object).cloned().unwrap_or_default();
    let meta = object::meta_mut(&mut obj);
    for f in SERVER_META {
        match old_meta.get(*f) {
            Some(v) => meta.insert((*f).to_string(), v.clone()),
            None => meta.remove(*f),
        };
    }
    if object::is_deleting(old) {
        let before = object::finalizers(old);
        let added: Vec<String> = object::finalizers(&obj).into_iter().filter(|f| !before.contains(f)).collect();
        if !added.is_empty() {
            return Err(ApiError::invalid(
                kind,
                name,
                format!(
                    "{} \"{name}\" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers {added:?}",
                    kind.qualified_kind()
                ),
                vec![json!({"reason": "FieldValueForbidden", "field": "metadata.finalizers", "message": "no new finalizers can be added if the object is being deleted"})],
            ));
        }
    }
    if kind.generation && spec_of(&obj) != spec_of(old) {
        let g = old.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(0);
        object::meta_mut(&mut obj).insert("generation".into(), json!(g + 1));
    }
    defaults::apply_defaults(kind.kind, &mut obj);
    if kind.generation && spec_of(&obj) == spec_of(old) {
        // Defaulting may have undone a difference; keep the old generation.
        if let Some(g) = old.pointer("/metadata/generation") {
            object::meta_mut(&mut obj).insert("generation".into(), g.clone());
        }
    }
    run_validation(kind, &obj, Some(old))?;
    Ok((obj, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::kinds::by_kind;

    #[test]
    fn strict_rejects_unknown_fields_and_warn_reports_them() {
        let cm = by_kind("v1", "ConfigMap").unwrap();
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "dataa": {"k": "v"}});
        let e = create(cm, Some("default"), body.clone(), FieldValidation::Strict).unwrap_err();
        assert_eq!(e.code, 400);
        assert!(e.message.contains("unknown field \"dataa\""), "{}", e.message);
        let (obj, warnings) = create(cm, Some("default"), body, FieldValidation::Warn).unwrap();
        assert_eq!(warnings, vec!["unknown field \"dataa\"".to_string()]);
        assert!(obj.get("dataa").is_none());
        assert_eq!(obj["metadata"]["namespace"], "default");
        assert_eq!(obj["metadata"]["uid"].as_str().unwrap().len(), 36);
    }

    #[test]
    fn wrong_kind_and_wrong_types_are_bad_requests() {
        let cm = by_kind("v1", "ConfigMap").unwrap();
        let e = create(cm, Some("default"), json!({"apiVersion": "v1", "kind": "Secret"}), FieldValidation::Strict)
            .unwrap_err();
        assert_eq!(e.code, 400);
        let e = create(cm, Some("default"), json!({"metadata": {"name": 5}}), FieldValidation::Strict).unwrap_err();
        assert_eq!(e.code, 400);
        let e = create(cm, Some("default"), json!([1]), FieldValidation::Strict).unwrap_err();
        assert_eq!(e.code, 400);
    }

    #[test]
    fn update_bumps_generation_only_on_spec_changes_and_keeps_status() {
        let d = by_kind("apps/v1", "Deployment").unwrap();
        let body = json!({"metadata": {"name": "web"}, "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}});
        let (mut old, _) = create(d, Some("default"), body.clone(), FieldValidation::Strict).unwrap();
        old["status"] = json!({"replicas": 1});
        let mut labelled = old.clone();
        labelled["metadata"]["labels"] = json!({"x": "y"});
        labelled["status"] = json!({"replicas": 7});
        let (same, _) = update(d, Some("default"), "web", &old, labelled, Part::Main, FieldValidation::Strict).unwrap();
        assert_eq!(same["metadata"]["generation"], 1);
        assert_eq!(same["status"]["replicas"], 1);
        let mut scaled = old.clone();
        scaled["spec"]["replicas"] = json!(3);
        let (bumped, _) = update(d, Some("default"), "web", &old, scaled, Part::Main, FieldValidation::Strict).unwrap();
        assert_eq!(bumped["metadata"]["generation"], 2);
        let mut st = old.clone();
        st["status"] = json!({"replicas": 3});
        st["spec"]["replicas"] = json!(9);
        let (s, _) = update(d, Some("default"), "web", &old, st, Part::Status, FieldValidation::Strict).unwrap();
        assert_eq!(s["status"]["replicas"], 3);
        assert_eq!(s["spec"]["replicas"], 1);
    }
}
