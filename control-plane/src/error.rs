//! API errors as Kubernetes `Status` objects, shared by the REST gateway and
//! the gRPC `Resources` service.
//!
//! Guarantee: every failed request is answered with a `Status` carrying the
//! HTTP code, a machine-readable reason and a message that says what to do;
//! store errors are mapped onto the reasons Kubernetes clients retry on
//! (`ServiceUnavailable`, `Timeout`, `Expired`).

use raft_store::StoreError;
use serde_json::{json, Value};

use crate::registry::Kind;

/// A failed API request.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{reason} ({code}): {message}")]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// Kubernetes `StatusReason` (`NotFound`, `Conflict`, ...).
    pub reason: &'static str,
    /// Human message.
    pub message: String,
    /// `details` of the Status, if any.
    pub details: Option<Value>,
}

impl ApiError {
    /// An error without details.
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError { code, reason, message: message.into(), details: None }
    }

    fn with_details(mut self, kind: &Kind, name: &str) -> Self {
        let mut d = json!({"name": name, "kind": kind.resource});
        if !kind.group.is_empty() {
            d["group"] = json!(kind.group);
        }
        self.details = Some(d);
        self
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(400, "BadRequest", message)
    }

    /// 404 for an object.
    pub fn not_found(kind: &Kind, name: &str) -> Self {
        ApiError::new(404, "NotFound", format!("{} \"{}\" not found", kind.qualified_resource(), name))
            .with_details(kind, name)
    }

    /// 409 for a create of a taken name.
    pub fn already_exists(kind: &Kind, name: &str) -> Self {
        ApiError::new(409, "AlreadyExists", format!("{} \"{}\" already exists", kind.qualified_resource(), name))
            .with_details(kind, name)
    }

    /// 409 for a stale resourceVersion or failed precondition.
    pub fn conflict(kind: &Kind, name: &str, why: &str) -> Self {
        ApiError::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on {} \"{}\": {}", kind.qualified_resource(), name, why),
        )
        .with_details(kind, name)
    }

    /// 409 for a stale resourceVersion.
    pub fn stale(kind: &Kind, name: &str) -> Self {
        ApiError::conflict(
            kind,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 422 Invalid with field causes.
    pub fn invalid(kind: &Kind, name: &str, message: String, causes: Vec<Value>) -> Self {
        let mut e = ApiError::new(422, "Invalid", message).with_details(kind, name);
        if let Some(d) = e.details.as_mut() {
            d["kind"] = json!(kind.kind);
            d["causes"] = Value::Array(causes);
        }
        e
    }

    /// 403 Forbidden (e.g. creating in a terminating namespace).
    pub fn forbidden(kind: &Kind, name: &str, why: &str) -> Self {
        ApiError::new(403, "Forbidden", format!("{} \"{}\" is forbidden: {}", kind.qualified_resource(), name, why))
            .with_details(kind, name)
    }

    /// 405 MethodNotAllowed.
    pub fn method_not_allowed(what: &str) -> Self {
        ApiError::new(
            405,
            "MethodNotAllowed",
            format!("the server does not allow this method on the requested resource: {what}"),
        )
    }

    /// 415 UnsupportedMediaType.
    pub fn unsupported_media_type(content_type: &str, accepted: &str) -> Self {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format ({content_type}); accepted media types include: {accepted}"),
        )
    }

    /// 410 Expired (resourceVersion compacted).
    pub fn expired(message: impl Into<String>) -> Self {
        ApiError::new(410, "Expired", message)
    }

    /// 413 RequestEntityTooLarge.
    pub fn too_large(limit: usize) -> Self {
        ApiError::new(
            413,
            "RequestEntityTooLarge",
            format!("the request body is larger than the limit of {limit} bytes; split the object or store large data elsewhere"),
        )
    }

    /// 503 ServiceUnavailable.
    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError::new(503, "ServiceUnavailable", message)
    }

    /// 500 InternalError.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(500, "InternalError", message)
    }

    /// The `Status` object.
    pub fn status(&self) -> Value {
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            s["details"] = d.clone();
        }
        s
    }
}

/// The reason of an error from a write fenced to a term that is over (only
/// leader-only tasks make such writes; clients never see it).
pub const FENCED: &str = "Fenced";

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Compacted { compact_revision } => ApiError::expired(format!(
                "too old resource version: the store has compacted history up to {compact_revision}; list again to get a current resourceVersion"
            )),
            StoreError::FutureRevision => {
                ApiError::new(504, "Timeout", "Too large resource version: the store has not reached it yet; retry")
            }
            StoreError::RequestTooLarge => {
                ApiError::new(413, "RequestEntityTooLarge", "etcdserver: request is too large; make the object smaller")
            }
            StoreError::NoLeader | StoreError::Stopped => {
                ApiError::unavailable(format!("the store has no quorum right now ({e}); retry shortly"))
            }
            StoreError::Fenced { .. } => ApiError::new(409, FENCED, format!("{e}")),
            StoreError::Timeout => ApiError::new(504, "Timeout", format!("{e}; the write may or may not have applied")),
            other => ApiError::internal(format!("store error: {other}")),
        }
    }
}
