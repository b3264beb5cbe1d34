//! Node registration and heartbeats for agents.
//!
//! Guarantees:
//! - Registration creates the Node if it is missing (with the agent's
//!   labels and taints) and otherwise merges the agent's labels into the
//!   stored ones; taints from the agent apply only at creation (as the
//!   kubelet's `--register-with-taints`), so taints users add survive
//!   restarts. The status (capacity, allocatable, addresses, nodeInfo,
//!   conditions) is the agent's.
//! - A heartbeat renews the node's Lease in `kube-node-lease` (created on
//!   first use, owned by the Node so it goes when the Node goes) and, when
//!   the agent sends conditions that differ from the stored ones in status
//!   or reason (e.g. the node controller marked the node Unknown while the
//!   agent was cut off), writes them.
//! - Every write is a compare-and-swap retried on conflict.

use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::registry::{kinds, object, Kind};
use crate::server::{ApiServer, Part, WriteOptions};

/// Lease duration given to agents (Kubernetes' default).
pub const LEASE_DURATION_SECONDS: u32 = 40;
/// How often agents renew (a quarter of the duration, as the kubelet).
pub const RENEW_INTERVAL_MS: u32 = 10_000;
/// Namespace of node Leases.
pub const LEASE_NAMESPACE: &str = "kube-node-lease";
/// Attempts of a compare-and-swap write that keeps conflicting.
const ATTEMPTS: usize = 8;

fn kind(api_version: &str, name: &str) -> &'static Kind {
    kinds::by_kind(api_version, name).expect("core kinds are registered")
}

/// Labels the agent owns on its Node, merged over the stored labels.
pub fn merge_labels(stored: &mut Value, reported: &Value) -> bool {
    let Some(labels) = reported.pointer("/metadata/labels").and_then(Value::as_object) else { return false };
    let meta = object::meta_mut(stored);
    let entry = meta.entry("labels").or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    let current = entry.as_object_mut().expect("made an object above");
    let mut changed = false;
    for (k, v) in labels {
        if current.get(k) != Some(v) {
            current.insert(k.clone(), v.clone());
            changed = true;
        }
    }
    changed
}

/// Whether `reported` conditions differ from `stored` in type, status or
/// reason (heartbeat times alone are not a change worth a write).
pub fn conditions_differ(stored: Option<&Value>, reported: &Value) -> bool {
    let key = |c: &Value| {
        (
            c.get("type").and_then(Value::as_str).unwrap_or("").to_string(),
            c.get("status").and_then(Value::as_str).unwrap_or("").to_string(),
            c.get("reason").and_then(Value::as_str).unwrap_or("").to_string(),
        )
    };
    let mut a: Vec<_> = stored.and_then(Value::as_array).map(|v| v.iter().map(key).collect()).unwrap_or_default();
    let mut b: Vec<_> = reported.as_array().map(|v| v.iter().map(key).collect()).unwrap_or_default();
    a.sort();
    b.sort();
    a != b
}

/// Register (create or merge) the Node the agent reports; returns the
/// stored Node.
pub async fn register(api: &ApiServer, reported: Value) -> Result<Value, ApiError> {
    let nodes = kind("v1", "Node");
    let name = object::name(&reported)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("register: the Node needs metadata.name (the agent's --node-name)"))?
        .to_string();
    let status = reported.get("status").cloned().unwrap_or_else(|| json!({}));
    let opts = WriteOptions { field_manager: Some("node-agent".into()), ..Default::default() };
    for _ in 0..ATTEMPTS {
        let stored = match api.get(nodes, None, &name, None).await {
            Ok(s) => s.object,
            Err(e) if e.code == 404 => {
                let mut fresh = reported.clone();
                if let Some(m) = fresh.as_object_mut() {
                    m.remove("status");
                    m.insert("apiVersion".into(), json!("v1"));
                    m.insert("kind".into(), json!("Node"));
                }
                match api.create(nodes, None, fresh, &opts).await {
                    Ok(w) => w.object,
                    Err(e) if e.reason == "AlreadyExists" => continue,
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        let mut node = stored;
        if merge_labels(&mut node, &reported) {
            match api.update(nodes, None, &name, Part::Main, node, &opts).await {
                Ok(w) => node = w.object,
                Err(e) if e.code == 409 => continue,
                Err(e) => return Err(e),
            }
        }
        node["status"] = status.clone();
        match api.update(nodes, None, &name, Part::Status, node, &opts).await {
            Ok(w) => return Ok(w.object),
            Err(e) if e.code == 409 => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::unavailable(format!(
        "registering node {name} kept conflicting with other writers; the agent retries"
    )))
}

/// Renew `node`'s Lease and, if they changed, write its conditions.
pub async fn heartbeat(api: &ApiServer, node: &str, conditions: Option<Value>) -> Result<(), ApiError> {
    if node.is_empty() {
        return Err(ApiError::bad_request("heartbeat: node_name is required"));
    }
    renew_lease(api, node).await?;
    if let Some(conds) = conditions {
        write_conditions(api, node, conds).await?;
    }
    Ok(())
}

async fn renew_lease(api: &ApiServer, node: &str) -> Result<(), ApiError> {
    let leases = kind("coordination.k8s.io/v1", "Lease");
    let nodes = kind("v1", "Node");
    let opts = WriteOptions { field_manager: Some("node-agent".into()), ..Default::default() };
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    for _ in 0..ATTEMPTS {
        match api.get(leases, Some(LEASE_NAMESPACE), node, None).await {
            Ok(s) => {
                let mut lease = s.object;
                lease["spec"]["renewTime"] = json!(now);
                lease["spec"]["holderIdentity"] = json!(node);
                lease["spec"]["leaseDurationSeconds"] = json!(LEASE_DURATION_SECONDS);
                match api.update(leases, Some(LEASE_NAMESPACE), node, Part::Main, lease, &opts).await {
                    Ok(_) => return Ok(()),
                    Err(e) if e.code == 409 => continue,
                    Err(e) => return Err(e),
                }
            }
            Err(e) if e.code == 404 => {
                let owner = match api.get(nodes, None, node, Some("0")).await {
                    Ok(n) => n
                        .object
                        .pointer("/metadata/uid")
                        .and_then(Value::as_str)
                        .map(|uid| json!([{"apiVersion": "v1", "kind": "Node", "name": node, "uid": uid}])),
                    Err(_) => None,
                };
                let mut meta = json!({"name": node, "namespace": LEASE_NAMESPACE});
                if let Some(o) = owner {
                    meta["ownerReferences"] = o;
                }
                let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta,
                    "spec": {"holderIdentity": node, "leaseDurationSeconds": LEASE_DURATION_SECONDS, "renewTime": now}});
                match api.create(leases, Some(LEASE_NAMESPACE), lease, &opts).await {
                    Ok(_) => return Ok(()),
                    Err(e) if e.reason == "AlreadyExists" => continue,
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::unavailable(format!("renewing the lease of node {node} kept conflicting; the agent retries")))
}

async fn write_conditions(api: &ApiServer, node: &str, conds: Value) -> Result<(), ApiError> {
    let nodes = kind("v1", "Node");
    let opts = WriteOptions { field_manager: Some("node-agent".into()), ..Default::default() };
    // A local read first: most heartbeats change nothing.
    let local = api.get(nodes, None, node, Some("0")).await?;
    if !conditions_differ(local.object.pointer("/status/conditions"), &conds) {
        return Ok(());
    }
    for _ in 0..ATTEMPTS {
        let mut n = api.get(nodes, None, node, None).await?.object;
        if !conditions_differ(n.pointer("/status/conditions"), &conds) {
            return Ok(());
        }
        if !n.get("status").is_some_and(Value::is_object) {
            n["status"] = json!({});
        }
        n["status"]["conditions"] = conds.clone();
        match api.update(nodes, None, node, Part::Status, n, &opts).await {
            Ok(_) => return Ok(()),
            Err(e) if e.code == 409 => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::unavailable(format!("updating node {node}'s conditions kept conflicting; the agent retries")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_merge_over_stored_ones() {
        let mut stored = json!({"metadata": {"name": "n", "labels": {"team": "a", "kubernetes.io/os": "old"}}});
        let reported = json!({"metadata": {"labels": {"kubernetes.io/os": "linux"}}});
        assert!(merge_labels(&mut stored, &reported));
        assert_eq!(stored["metadata"]["labels"], json!({"team": "a", "kubernetes.io/os": "linux"}));
        assert!(!merge_labels(&mut stored, &reported));
    }

    #[test]
    fn heartbeat_times_alone_are_not_a_change() {
        let a = json!([{"type": "Ready", "status": "True", "reason": "KubeletReady", "lastHeartbeatTime": "t1"}]);
        let b = json!([{"type": "Ready", "status": "True", "reason": "KubeletReady", "lastHeartbeatTime": "t2"}]);
        assert!(!conditions_differ(Some(&a), &b));
        let unknown = json!([{"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown"}]);
        assert!(conditions_differ(Some(&unknown), &b));
        assert!(conditions_differ(None, &b));
    }
}
