//! Intended writes of a pure reconcile function: controllers decide, the
//! runner ([`super::execute`]) writes.

use serde_json::Value;

/// The kind named by an action, as the Kubernetes `kind` string
/// ("Pod", "ReplicaSet", "Deployment", "Job", "CronJob", "Endpoints",
/// "Node", "Service", ...).
pub type KindName = &'static str;

/// A Kubernetes Event's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Normal.
    Normal,
    /// Warning.
    Warning,
}

/// One write a controller intends. The runner executes actions in order
/// through the API server (admission, defaulting, validation apply).
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Create `object` (full JSON with apiVersion, kind, metadata.name or
    /// metadata.generateName, metadata.namespace for namespaced kinds).
    Create { kind: KindName, namespace: Option<String>, object: Value },
    /// Replace the object (main resource) — `object` carries
    /// `metadata.resourceVersion` of what was read, so the write is a CAS.
    Update { kind: KindName, namespace: Option<String>, name: String, object: Value },
    /// Replace the status subresource (same CAS rule as Update).
    UpdateStatus { kind: KindName, namespace: Option<String>, name: String, object: Value },
    /// JSON merge patch (RFC 7386) of the main resource; `patch` may carry
    /// `metadata.resourceVersion` to make it a CAS, or not.
    Patch { kind: KindName, namespace: Option<String>, name: String, patch: Value },
    /// JSON merge patch of the status subresource.
    PatchStatus { kind: KindName, namespace: Option<String>, name: String, patch: Value },
    /// Delete, only if the object still has `uid` (when given), with the
    /// propagation policy ("Background", "Foreground", "Orphan") when given
    /// and a grace period when given.
    Delete {
        kind: KindName,
        namespace: Option<String>,
        name: String,
        uid: Option<String>,
        propagation: Option<&'static str>,
        grace_period_seconds: Option<i64>,
    },
    /// Record an Event about an object (`kubectl describe` shows these).
    Event {
        /// The object it is about: kind, namespace, name, uid.
        kind: KindName,
        namespace: Option<String>,
        name: String,
        uid: String,
        event_type: EventType,
        /// CamelCase reason, e.g. "SuccessfulCreate", "FailedScheduling".
        reason: String,
        /// Human message, e.g. "Created pod: web-7d9f-abcde".
        message: String,
    },
}
