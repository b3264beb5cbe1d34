//! Pod status reports from agents, and their Events.
//!
//! Guarantees:
//! - An update applies only to the pod with the reported uid (a pod
//!   re-created under the same name is never given its predecessor's
//!   status); a mismatch or a missing pod answers 404 so the agent stops
//!   retrying it.
//! - Status writes are compare-and-swap on the stored pod, retried on
//!   conflict; they replace the whole status, as the kubelet does.
//! - `terminated` (graceful deletion finished on the node) removes the pod
//!   with grace 0 and a uid precondition: the kubelet's final delete.
//! - Updates of one batch run concurrently (bounded); results come back in
//!   the batch's order.

use futures::stream::{self, StreamExt};
use proto::agent::{PodStatusUpdate, StatusResult};
use serde_json::Value;

use crate::error::ApiError;
use crate::registry::{kinds, Kind};
use crate::server::delete::DeleteOptions;
use crate::server::{ApiServer, Part, WriteOptions};

/// Updates of one batch in flight at once.
const PARALLEL: usize = 64;
/// Attempts of a write that keeps conflicting.
const ATTEMPTS: usize = 8;

fn pods() -> &'static Kind {
    kinds::by_kind("v1", "Pod").expect("the Pod kind is registered")
}

/// Apply a batch; one result per update, in order.
pub async fn apply_batch(api: &ApiServer, updates: Vec<PodStatusUpdate>) -> Vec<StatusResult> {
    stream::iter(updates)
        .map(|u| async move {
            let (namespace, name) = (u.namespace.clone(), u.name.clone());
            match apply_one(api, u).await {
                Ok(()) => StatusResult { namespace, name, code: 0, message: String::new() },
                Err(e) => StatusResult { namespace, name, code: e.code as u32, message: e.message },
            }
        })
        .buffered(PARALLEL)
        .collect()
        .await
}

async fn apply_one(api: &ApiServer, u: PodStatusUpdate) -> Result<(), ApiError> {
    if u.namespace.is_empty() || u.name.is_empty() || u.uid.is_empty() {
        return Err(ApiError::bad_request("a pod status update needs namespace, name and uid"));
    }
    let kind = pods();
    let status: Value = if u.status.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&u.status)
            .map_err(|e| ApiError::bad_request(format!("pod {}/{}: status is not JSON: {e}", u.namespace, u.name)))?
    };
    if !status.is_null() && !status.is_object() {
        return Err(ApiError::bad_request(format!("pod {}/{}: status must be a JSON object", u.namespace, u.name)));
    }
    let opts = WriteOptions { field_manager: Some("node-agent".into()), ..Default::default() };
    for _ in 0..ATTEMPTS {
        let stored = api.get(kind, Some(&u.namespace), &u.name, None).await?;
        let uid = stored.object.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or("");
        if uid != u.uid {
            return Err(ApiError::new(
                404,
                "NotFound",
                format!("pod {}/{} with uid {} is gone (the name now has uid {uid})", u.namespace, u.name, u.uid),
            ));
        }
        if u.terminated {
            let opts = DeleteOptions { grace_period_seconds: Some(0), uid: Some(u.uid.clone()), ..Default::default() };
            return match api.delete(kind, Some(&u.namespace), &u.name, &opts).await {
                Ok(_) => Ok(()),
                Err(e) if e.code == 404 => Ok(()),
                Err(e) if e.code == 409 => continue,
                Err(e) => Err(e),
            };
        }
        let mut pod = stored.object;
        if pod.get("status") == Some(&status) {
            return Ok(());
        }
        pod["status"] = status.clone();
        match api.update(kind, Some(&u.namespace), &u.name, Part::Status, pod, &opts).await {
            Ok(_) => return Ok(()),
            Err(e) if e.code == 409 && e.reason != "AlreadyExists" => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::unavailable(format!(
        "pod {}/{}: the status write kept conflicting with other writers; the agent retries",
        u.namespace, u.name
    )))
}

/// Create Events reported by an agent (already existing names are fine).
pub async fn create_events(api: &ApiServer, events: Vec<Vec<u8>>) -> Result<(), ApiError> {
    let kind = kinds::by_kind("v1", "Event").expect("the Event kind is registered");
    let opts = &WriteOptions { field_manager: Some("node-agent".into()), ..Default::default() };
    let results: Vec<Result<(), ApiError>> = stream::iter(events)
        .map(|raw| async move {
            let ev: Value = serde_json::from_slice(&raw).map_err(|e| ApiError::bad_request(format!("event: {e}")))?;
            let ns = ev.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("default").to_string();
            match api.create(kind, Some(&ns), ev, opts).await {
                Ok(_) => Ok(()),
                Err(e) if e.reason == "AlreadyExists" => Ok(()),
                Err(e) => Err(e),
            }
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    results.into_iter().find(|r| r.is_err()).unwrap_or(Ok(()))
}
