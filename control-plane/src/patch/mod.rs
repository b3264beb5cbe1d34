//! Patches: JSON patch (RFC 6902), JSON merge patch (RFC 7386), strategic
//! merge patch ([`strategic`]) and server-side apply ([`apply`]).
//!
//! Guarantee: a patch document that does not parse or does not apply is a
//! 400/422 error naming the problem; nothing is written.

pub mod apply;
pub mod field_set;
pub mod merge_keys;
pub mod strategic;

use serde_json::Value;

use crate::error::ApiError;

/// The patch content types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json`.
    Json,
    /// `application/merge-patch+json`.
    Merge,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml` (server-side apply).
    Apply,
}

impl PatchType {
    /// From a Content-Type header.
    pub fn from_content_type(ct: &str) -> Option<PatchType> {
        let base = ct.split(';').next().unwrap_or("").trim();
        match base {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Some(PatchType::Apply),
            _ => None,
        }
    }

    /// The accepted patch content types, for 415 errors.
    pub const ACCEPTED: &'static str = "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml";
}

/// Parse a patch document.
pub fn parse(pt: PatchType, body: &[u8]) -> Result<Value, ApiError> {
    let doc: Value = match pt {
        PatchType::Apply => crate::rest::body::parse_yaml_or_json(body)?,
        _ => serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("the patch is not valid JSON: {e}")))?,
    };
    if crate::registry::object::depth(&doc) > 64 {
        return Err(ApiError::bad_request("the patch is nested more than 64 levels deep"));
    }
    match (pt, &doc) {
        (PatchType::Json, Value::Array(_)) => Ok(doc),
        (PatchType::Json, _) => {
            Err(ApiError::bad_request("a JSON patch must be a list of operations ([{\"op\": ...}])"))
        }
        (_, Value::Object(_)) => Ok(doc),
        _ => Err(ApiError::bad_request("the patch must be a JSON object")),
    }
}

/// Apply a JSON, merge or strategic patch to `current`.
pub fn apply_patch(pt: PatchType, current: &Value, doc: &Value) -> Result<Value, ApiError> {
    match pt {
        PatchType::Json => {
            let p: json_patch::Patch = serde_json::from_value(doc.clone())
                .map_err(|e| ApiError::bad_request(format!("the JSON patch is malformed: {e}")))?;
            let mut out = current.clone();
            json_patch::patch(&mut out, &p)
                .map_err(|e| ApiError::new(422, "Invalid", format!("the JSON patch could not be applied: {e}")))?;
            Ok(out)
        }
        PatchType::Merge => {
            let mut out = current.clone();
            json_patch::merge(&mut out, doc);
            Ok(out)
        }
        PatchType::Strategic => strategic::strategic_merge(current, doc)
            .map_err(|e| ApiError::bad_request(format!("the strategic merge patch could not be applied: {e}"))),
        PatchType::Apply => Err(ApiError::internal("server-side apply is not a plain patch")),
    }
}

/// Record a non-apply write by `manager` in `new`'s managedFields (an
/// empty manager records nothing).
pub fn track_update(old: Option<&Value>, new: &mut Value, manager: &str, api_version: &str, now: &str) {
    if !manager.is_empty() {
        apply::track_update(old, new, manager, api_version, now);
    }
}

/// The API error of a failed server-side apply: 409 Conflict naming the
/// conflicting managers and fields, or 422 for an invalid configuration.
pub fn apply_error(e: apply::ApplyError, kind: &crate::registry::Kind, name: &str) -> ApiError {
    let message = e.to_string();
    match e {
        apply::ApplyError::Conflicts(cs) => {
            let causes: Vec<Value> = cs
                .iter()
                .map(|c| {
                    serde_json::json!({"reason": "FieldManagerConflict", "message": format!("conflict with {}", c.manager_description()), "field": c.field})
                })
                .collect();
            let mut err = ApiError::new(409, "Conflict", message);
            err.details =
                Some(serde_json::json!({"name": name, "group": kind.group, "kind": kind.resource, "causes": causes}));
            err
        }
        apply::ApplyError::Invalid(_) => ApiError::new(422, "Invalid", message),
    }
}
