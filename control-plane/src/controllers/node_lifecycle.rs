//! Node lifecycle controller decisions: node health from heartbeats, the Ready condition and the
//! `not-ready`/`unreachable` taints, marking pods on unhealthy nodes not ready, and NoExecute taint eviction.
//!
//! Guarantees:
//! - A node's last heartbeat is the later of its Lease's `renewTime` and its Ready condition's
//!   `lastHeartbeatTime` (falling back to the node's creation time when it never posted one).
//! - A node is stale only when more than `grace` has passed since max(last heartbeat, `leader_since`), so a
//!   freshly elected leader gives every node a full grace period and a failover never marks nodes NotReady.
//! - A stale node gets its Ready (and pressure) conditions set to `Unknown` with reason `NodeStatusUnknown`
//!   (`NodeStatusNeverUpdated` when it had no Ready condition); `lastTransitionTime` changes only when a
//!   condition's status changes; an Event `NodeNotReady` accompanies that write.
//! - Taints follow the effective Ready status: `Unknown` → `unreachable` NoSchedule+NoExecute, `False` →
//!   `not-ready` NoSchedule+NoExecute, `True` → neither. Other taints are kept; existing managed taints keep
//!   their `timeAdded`. No write is emitted when nothing changes.
//! - The first write to an object in a returned batch carries `metadata.resourceVersion` (a CAS); a second
//!   write to the same node in the same batch cannot (the first one bumps the version), so it does not.
//! - A pod not tolerating a NoExecute taint is deleted at once (uid precondition, default grace); a pod
//!   tolerating every NoExecute taint for a limited time is deleted once `timeAdded + tolerationSeconds` has
//!   passed, and the earliest future deadline is returned as the requeue delay. When several tolerations
//!   match one taint, the most permissive one counts.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, NodeCondition, Pod, PodCondition, Taint, Toleration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::json;

use crate::runtime::action::{Action, EventType};

/// Taint key for nodes whose Ready condition is `Unknown`.
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// Taint key for nodes whose Ready condition is `False`.
pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
/// Default node monitor grace period (40 s, as upstream).
pub const DEFAULT_GRACE: Duration = Duration::from_secs(40);

/// Conditions that become `Unknown` when a node stops posting status.
const MONITORED_CONDITIONS: [&str; 4] = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];
const EFFECTS: [&str; 2] = ["NoSchedule", "NoExecute"];

/// The status of a node's Ready condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadyStatus {
    /// `True`.
    True,
    /// `False`.
    False,
    /// `Unknown` (or any unrecognised value).
    Unknown,
}

impl ReadyStatus {
    fn parse(status: &str) -> Self {
        match status {
            "True" => Self::True,
            "False" => Self::False,
            _ => Self::Unknown,
        }
    }
}

/// What the controller knows about a node's liveness.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeHealth {
    /// Max of the node Lease's `renewTime` and the Ready condition's `lastHeartbeatTime`.
    pub last_heartbeat: Option<DateTime<Utc>>,
    /// The Ready condition as stored on the node, if any.
    pub reported: Option<ReadyStatus>,
    /// The node's creation time (the reference when it never sent a heartbeat).
    pub created: Option<DateTime<Utc>>,
}

impl NodeHealth {
    /// Reads the heartbeats of `node` and its Lease.
    pub fn observe(node: &Node, lease: Option<&Lease>) -> Self {
        let ready = ready_condition(node);
        let renew = lease.and_then(|l| l.spec.as_ref()).and_then(|s| s.renew_time.as_ref()).map(|t| t.0);
        let posted = ready.and_then(|c| c.last_heartbeat_time.as_ref()).map(|t| t.0);
        Self {
            last_heartbeat: renew.max(posted),
            reported: ready.map(|c| ReadyStatus::parse(&c.status)),
            created: node.metadata.creation_timestamp.as_ref().map(|t| t.0),
        }
    }

    /// True when no heartbeat arrived within `grace` of max(last heartbeat, `leader_since`).
    pub fn is_stale(&self, now: DateTime<Utc>, grace: Duration, leader_since: DateTime<Utc>) -> bool {
        let reference = self.last_heartbeat.or(self.created).map_or(leader_since, |t| t.max(leader_since));
        now.signed_duration_since(reference) > to_delta(grace)
    }

    /// The Ready status the controller acts on: `Unknown` when stale, else what the node reports (`None` when
    /// a fresh node has not reported one yet).
    pub fn effective(&self, now: DateTime<Utc>, grace: Duration, leader_since: DateTime<Utc>) -> Option<ReadyStatus> {
        if self.is_stale(now, grace, leader_since) {
            Some(ReadyStatus::Unknown)
        } else {
            self.reported
        }
    }
}

/// Decides the node's condition and taint writes (and the NodeNotReady event) for this observation.
pub fn node_status(
    node: &Node,
    lease: Option<&Lease>,
    now: DateTime<Utc>,
    grace: Duration,
    leader_since: DateTime<Utc>,
) -> Vec<Action> {
    let health = NodeHealth::observe(node, lease);
    let name = node.metadata.name.clone().unwrap_or_default();
    let mut actions = Vec::new();
    let mut resource_version = node.metadata.resource_version.clone();
    if health.is_stale(now, grace, leader_since) {
        if let Some(conditions) = unknown_conditions(node, now) {
            let patch =
                json!({ "metadata": meta_patch(resource_version.take()), "status": { "conditions": conditions } });
            actions.push(Action::PatchStatus { kind: "Node", namespace: None, name: name.clone(), patch });
            if health.reported != Some(ReadyStatus::Unknown) {
                actions.push(node_event(node, &name));
            }
        }
    }
    if let Some(taints) = health.effective(now, grace, leader_since).and_then(|s| updated_taints(node, s, now)) {
        let patch = json!({ "metadata": meta_patch(resource_version), "spec": { "taints": taints } });
        actions.push(Action::Patch { kind: "Node", namespace: None, name, patch });
    }
    actions
}

/// Marks the Ready condition of every pod on a not-ready node `False` (reason `NodeNotReady`), like upstream's
/// MarkPodsNotReady. Does nothing when `node_ready` is `True`; pods already not ready or without a Ready
/// condition, and pods bound to another node, are left alone.
pub fn mark_pods_not_ready(
    node_name: &str,
    node_ready: ReadyStatus,
    pods_on_node: &[Arc<Pod>],
    now: DateTime<Utc>,
) -> Vec<Action> {
    if node_ready == ReadyStatus::True {
        return Vec::new();
    }
    pods_on_node.iter().filter(|p| on_node(p, node_name)).filter_map(|p| pod_not_ready_patch(p, now)).collect()
}

/// Decides NoExecute evictions for the pods on `node`: the deletions (with events) due now, and the delay
/// until the next toleration expires, if any.
pub fn pods_to_evict(node: &Node, pods_on_node: &[Arc<Pod>], now: DateTime<Utc>) -> (Vec<Action>, Option<Duration>) {
    let taints: Vec<&Taint> = node_taints(node).iter().filter(|t| t.effect == "NoExecute").collect();
    let node_name = node.metadata.name.as_deref().unwrap_or_default();
    let mut actions = Vec::new();
    let mut requeue: Option<Duration> = None;
    if taints.is_empty() {
        return (actions, requeue);
    }
    let live = pods_on_node.iter().filter(|p| on_node(p, node_name) && p.metadata.deletion_timestamp.is_none());
    for pod in live {
        match eviction_time(pod, &taints, now) {
            Some(at) if at <= now => actions.extend(evict(pod)),
            Some(at) => {
                let wait = at.signed_duration_since(now).to_std().unwrap_or_default();
                requeue = Some(requeue.map_or(wait, |r| r.min(wait)));
            }
            None => {}
        }
    }
    (actions, requeue)
}

/// True when `toleration` tolerates `taint` (effect, key and value/operator all match).
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect_ok = toleration.effect.as_deref().is_none_or(|e| e.is_empty() || e == taint.effect);
    let key = toleration.key.as_deref().unwrap_or_default();
    match toleration.operator.as_deref().unwrap_or("Equal") {
        "Exists" => effect_ok && (key.is_empty() || key == taint.key),
        "Equal" => {
            let value = toleration.value.as_deref().unwrap_or_default();
            effect_ok && key == taint.key && value == taint.value.as_deref().unwrap_or_default()
        }
        _ => false,
    }
}

fn ready_condition(node: &Node) -> Option<&NodeCondition> {
    node_conditions(node).iter().find(|c| c.type_ == "Ready")
}

fn node_conditions(node: &Node) -> &[NodeCondition] {
    node.status.as_ref().and_then(|s| s.conditions.as_deref()).unwrap_or_default()
}

fn node_taints(node: &Node) -> &[Taint] {
    node.spec.as_ref().and_then(|s| s.taints.as_deref()).unwrap_or_default()
}

fn on_node(pod: &Pod, node_name: &str) -> bool {
    pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node_name)
}

fn meta_patch(resource_version: Option<String>) -> serde_json::Value {
    resource_version.map_or_else(|| json!({}), |rv| json!({ "resourceVersion": rv }))
}

fn to_delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// The node's conditions with the monitored ones set to Unknown; `None` when nothing changes.
fn unknown_conditions(node: &Node, now: DateTime<Utc>) -> Option<Vec<NodeCondition>> {
    let mut conditions = node_conditions(node).to_vec();
    let mut changed = false;
    for c in conditions.iter_mut().filter(|c| MONITORED_CONDITIONS.contains(&c.type_.as_str())) {
        if c.status != "Unknown" {
            c.status = "Unknown".to_string();
            c.reason = Some("NodeStatusUnknown".to_string());
            c.message = Some("Kubelet stopped posting node status.".to_string());
            c.last_transition_time = Some(Time(now));
            changed = true;
        }
    }
    if !conditions.iter().any(|c| c.type_ == "Ready") {
        conditions.push(NodeCondition {
            type_: "Ready".to_string(),
            status: "Unknown".to_string(),
            reason: Some("NodeStatusNeverUpdated".to_string()),
            message: Some("Kubelet never posted node status.".to_string()),
            last_heartbeat_time: node.metadata.creation_timestamp.clone(),
            last_transition_time: Some(Time(now)),
        });
        changed = true;
    }
    changed.then_some(conditions)
}

fn node_event(node: &Node, name: &str) -> Action {
    Action::Event {
        kind: "Node",
        namespace: None,
        name: name.to_string(),
        uid: node.metadata.uid.clone().unwrap_or_default(),
        event_type: EventType::Normal,
        reason: "NodeNotReady".to_string(),
        message: format!("Node {name} status is now: NodeNotReady"),
    }
}

/// The node's taints adjusted to `status`; `None` when they are already right.
fn updated_taints(node: &Node, status: ReadyStatus, now: DateTime<Utc>) -> Option<Vec<Taint>> {
    let wanted = match status {
        ReadyStatus::True => None,
        ReadyStatus::False => Some(TAINT_NOT_READY),
        ReadyStatus::Unknown => Some(TAINT_UNREACHABLE),
    };
    let current = node_taints(node);
    let managed = |t: &Taint| t.key == TAINT_UNREACHABLE || t.key == TAINT_NOT_READY;
    let keep = |t: &&Taint| !managed(t) || (Some(t.key.as_str()) == wanted && EFFECTS.contains(&t.effect.as_str()));
    let mut taints: Vec<Taint> = current.iter().filter(keep).cloned().collect();
    if let Some(key) = wanted {
        for effect in EFFECTS {
            if !taints.iter().any(|t| t.key == key && t.effect == effect) {
                taints.push(Taint {
                    key: key.to_string(),
                    effect: effect.to_string(),
                    time_added: Some(Time(now)),
                    value: None,
                });
            }
        }
    }
    (taints.as_slice() != current).then_some(taints)
}

/// The pod's status patch setting Ready=False, or `None` when it has no Ready condition or is already not ready.
fn pod_not_ready_patch(pod: &Pod, now: DateTime<Utc>) -> Option<Action> {
    let mut conditions: Vec<PodCondition> = pod.status.as_ref()?.conditions.clone()?;
    let ready = conditions.iter_mut().find(|c| c.type_ == "Ready" && c.status != "False")?;
    ready.status = "False".to_string();
    ready.reason = Some("NodeNotReady".to_string());
    ready.message = Some("Node is not ready".to_string());
    ready.last_transition_time = Some(Time(now));
    let patch = json!({
        "metadata": meta_patch(pod.metadata.resource_version.clone()),
        "status": { "conditions": conditions },
    });
    let name = pod.metadata.name.clone()?;
    Some(Action::PatchStatus { kind: "Pod", namespace: pod.metadata.namespace.clone(), name, patch })
}

/// When the pod must be evicted given the NoExecute `taints`: `None` if it tolerates them all forever.
fn eviction_time(pod: &Pod, taints: &[&Taint], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let tolerations = pod.spec.as_ref().and_then(|s| s.tolerations.as_deref()).unwrap_or_default();
    taints.iter().filter_map(|taint| taint_deadline(taint, tolerations, now)).min()
}

/// The deadline one taint imposes: `now` if untolerated, `None` if tolerated forever.
fn taint_deadline(taint: &Taint, tolerations: &[Toleration], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let matching: Vec<Option<i64>> =
        tolerations.iter().filter(|t| tolerates(t, taint)).map(|t| t.toleration_seconds).collect();
    if matching.is_empty() {
        return Some(now);
    }
    // Any toleration without seconds tolerates forever; otherwise the longest one counts.
    let seconds = matching.into_iter().collect::<Option<Vec<i64>>>()?.into_iter().max()?.max(0);
    let added = taint.time_added.as_ref().map_or(now, |t| t.0);
    Some(added + TimeDelta::try_seconds(seconds).unwrap_or(TimeDelta::MAX))
}

fn evict(pod: &Pod) -> Vec<Action> {
    let namespace = pod.metadata.namespace.clone();
    let Some(name) = pod.metadata.name.clone() else { return Vec::new() };
    let uid = pod.metadata.uid.clone();
    vec![
        Action::Event {
            kind: "Pod",
            namespace: namespace.clone(),
            name: name.clone(),
            uid: uid.clone().unwrap_or_default(),
            event_type: EventType::Normal,
            reason: "TaintManagerEviction".to_string(),
            message: format!("Marking for deletion Pod {}/{name}", namespace.as_deref().unwrap_or_default()),
        },
        Action::Delete { kind: "Pod", namespace, name, uid, propagation: None, grace_period_seconds: None },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::coordination::v1::LeaseSpec;
    use k8s_openapi::api::core::v1::{NodeSpec, NodeStatus, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + TimeDelta::seconds(1_000_000 + secs)
    }

    fn condition(type_: &str, status: &str, heartbeat: i64) -> NodeCondition {
        NodeCondition {
            type_: type_.into(),
            status: status.into(),
            last_heartbeat_time: Some(Time(t(heartbeat))),
            last_transition_time: Some(Time(t(-1000))),
            ..Default::default()
        }
    }

    fn node(conditions: Vec<NodeCondition>, taints: Vec<Taint>) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some("n1".into()),
                uid: Some("node-uid".into()),
                resource_version: Some("42".into()),
                creation_timestamp: Some(Time(t(-10_000))),
                ..Default::default()
            },
            spec: Some(NodeSpec { taints: Some(taints), ..Default::default() }),
            status: Some(NodeStatus { conditions: Some(conditions), ..Default::default() }),
        }
    }

    fn lease(renew: i64) -> Lease {
        Lease {
            metadata: ObjectMeta::default(),
            spec: Some(LeaseSpec { renew_time: Some(MicroTime(t(renew))), ..Default::default() }),
        }
    }

    fn taint(key: &str, effect: &str, added: i64) -> Taint {
        Taint { key: key.into(), effect: effect.into(), time_added: Some(Time(t(added))), value: None }
    }

    fn toleration(key: &str, seconds: Option<i64>) -> Toleration {
        Toleration {
            key: Some(key.into()),
            operator: Some("Exists".into()),
            effect: Some("NoExecute".into()),
            toleration_seconds: seconds,
            value: None,
        }
    }

    /// The tolerations the DefaultTolerationSeconds admission adds to every pod.
    fn default_tolerations() -> Vec<Toleration> {
        vec![toleration(TAINT_NOT_READY, Some(300)), toleration(TAINT_UNREACHABLE, Some(300))]
    }

    fn pod(name: &str, tolerations: Vec<Toleration>) -> Arc<Pod> {
        Arc::new(Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                uid: Some(format!("uid-{name}")),
                resource_version: Some("5".into()),
                ..Default::default()
            },
            spec: Some(PodSpec { node_name: Some("n1".into()), tolerations: Some(tolerations), ..Default::default() }),
            status: Some(PodStatus {
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: "True".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        })
    }

    fn taint_keys(actions: &[Action]) -> Option<Vec<(String, String)>> {
        actions.iter().find_map(|a| match a {
            Action::Patch { patch, .. } => {
                let taints: Vec<Taint> = serde_json::from_value(patch["spec"]["taints"].clone()).ok()?;
                Some(taints.into_iter().map(|t| (t.key, t.effect)).collect())
            }
            _ => None,
        })
    }

    fn deleted(actions: &[Action]) -> Vec<&str> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Delete { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn heartbeat_is_the_later_of_lease_and_condition() {
        let n = node(vec![condition("Ready", "True", 10)], vec![]);
        assert_eq!(NodeHealth::observe(&n, Some(&lease(30))).last_heartbeat, Some(t(30)));
        assert_eq!(NodeHealth::observe(&n, Some(&lease(5))).last_heartbeat, Some(t(10)));
        assert_eq!(NodeHealth::observe(&n, None).last_heartbeat, Some(t(10)));
    }

    #[test]
    fn fresh_lease_keeps_node_healthy() {
        let n = node(vec![condition("Ready", "True", 0)], vec![]);
        assert_eq!(node_status(&n, Some(&lease(90)), t(100), DEFAULT_GRACE, t(-5000)), vec![]);
    }

    #[test]
    fn stale_node_becomes_unknown_and_unreachable() {
        let other = taint("dedicated", "NoSchedule", 0);
        let n = node(vec![condition("Ready", "True", 0), condition("MemoryPressure", "False", 0)], vec![other]);
        let actions = node_status(&n, Some(&lease(0)), t(41), DEFAULT_GRACE, t(-5000));
        let Some(Action::PatchStatus { kind: "Node", patch, .. }) = actions.first() else {
            panic!("expected a status patch first, got {actions:?}");
        };
        assert_eq!(patch["metadata"]["resourceVersion"], "42");
        let conditions: Vec<NodeCondition> = serde_json::from_value(patch["status"]["conditions"].clone())
            .unwrap_or_else(|e| panic!("bad conditions: {e}"));
        assert!(conditions.iter().all(|c| c.status == "Unknown"));
        let ready = conditions.iter().find(|c| c.type_ == "Ready").cloned().unwrap_or_default();
        assert_eq!(ready.reason.as_deref(), Some("NodeStatusUnknown"));
        assert_eq!(ready.message.as_deref(), Some("Kubelet stopped posting node status."));
        assert_eq!(ready.last_transition_time, Some(Time(t(41))));
        assert_eq!(ready.last_heartbeat_time, Some(Time(t(0))), "heartbeat time is kept");
        assert!(actions.iter().any(|a| matches!(a, Action::Event { reason, .. } if reason == "NodeNotReady")));
        let keys = taint_keys(&actions).unwrap_or_default();
        let s = |k: &str, e: &str| (k.to_string(), e.to_string());
        assert_eq!(
            keys,
            vec![s("dedicated", "NoSchedule"), s(TAINT_UNREACHABLE, "NoSchedule"), s(TAINT_UNREACHABLE, "NoExecute")]
        );
        let Some(Action::Patch { patch, .. }) = actions.last() else { panic!("expected a taint patch last") };
        assert_eq!(patch["metadata"].get("resourceVersion"), None, "the second write cannot be a CAS");
    }

    #[test]
    fn exactly_grace_is_not_stale() {
        let n = node(vec![condition("Ready", "True", 0)], vec![]);
        assert_eq!(node_status(&n, None, t(40), DEFAULT_GRACE, t(-5000)), vec![]);
    }

    #[test]
    fn new_leader_gives_a_full_grace_period() {
        let n = node(vec![condition("Ready", "True", 0)], vec![]);
        // Heartbeat is 100 s old, but this leader only started 10 s ago.
        assert_eq!(node_status(&n, Some(&lease(0)), t(100), DEFAULT_GRACE, t(90)), vec![]);
        assert!(!node_status(&n, Some(&lease(0)), t(131), DEFAULT_GRACE, t(90)).is_empty());
    }

    #[test]
    fn already_unknown_node_is_not_rewritten() {
        let unreachable = vec![taint(TAINT_UNREACHABLE, "NoSchedule", 0), taint(TAINT_UNREACHABLE, "NoExecute", 0)];
        let n = node(vec![condition("Ready", "Unknown", 0)], unreachable);
        assert_eq!(node_status(&n, None, t(500), DEFAULT_GRACE, t(-5000)), vec![]);
    }

    #[test]
    fn ready_false_swaps_to_not_ready_taints_and_true_removes_them() {
        let unreachable = vec![taint(TAINT_UNREACHABLE, "NoSchedule", 0), taint(TAINT_UNREACHABLE, "NoExecute", 0)];
        let n = node(vec![condition("Ready", "False", 95)], unreachable);
        let actions = node_status(&n, None, t(100), DEFAULT_GRACE, t(-5000));
        let s = |k: &str, e: &str| (k.to_string(), e.to_string());
        assert_eq!(taint_keys(&actions), Some(vec![s(TAINT_NOT_READY, "NoSchedule"), s(TAINT_NOT_READY, "NoExecute")]));
        let Some(Action::Patch { patch, .. }) = actions.first() else { panic!("expected a patch") };
        assert_eq!(patch["metadata"]["resourceVersion"], "42", "the only write is a CAS");

        let not_ready = vec![taint(TAINT_NOT_READY, "NoExecute", 0), taint("keep", "NoExecute", 0)];
        let n = node(vec![condition("Ready", "True", 95)], not_ready);
        let actions = node_status(&n, None, t(100), DEFAULT_GRACE, t(-5000));
        assert_eq!(taint_keys(&actions), Some(vec![s("keep", "NoExecute")]));
    }

    #[test]
    fn node_without_ready_condition_gets_never_updated() {
        let n = node(vec![], vec![]);
        let actions = node_status(&n, None, t(0), DEFAULT_GRACE, t(-5000));
        let Some(Action::PatchStatus { patch, .. }) = actions.first() else { panic!("expected a status patch") };
        assert_eq!(patch["status"]["conditions"][0]["reason"], "NodeStatusNeverUpdated");
    }

    #[test]
    fn pods_on_not_ready_node_are_marked_not_ready() {
        let pods = vec![pod("a", vec![])];
        assert_eq!(mark_pods_not_ready("n1", ReadyStatus::True, &pods, t(0)), vec![]);
        assert_eq!(mark_pods_not_ready("other", ReadyStatus::Unknown, &pods, t(0)), vec![]);
        let actions = mark_pods_not_ready("n1", ReadyStatus::Unknown, &pods, t(0));
        let [Action::PatchStatus { kind: "Pod", name, patch, .. }] = actions.as_slice() else {
            panic!("expected one pod status patch, got {actions:?}");
        };
        assert_eq!(name, "a");
        assert_eq!(patch["status"]["conditions"][0]["status"], "False");
        assert_eq!(patch["status"]["conditions"][0]["reason"], "NodeNotReady");
        assert_eq!(patch["metadata"]["resourceVersion"], "5");
    }

    #[test]
    fn untolerating_pod_is_evicted_now() {
        let n = node(vec![], vec![taint(TAINT_UNREACHABLE, "NoExecute", 0), taint("x", "NoSchedule", 0)]);
        let pods = vec![pod("bare", vec![]), pod("tolerant", vec![toleration(TAINT_UNREACHABLE, None)])];
        let (actions, requeue) = pods_to_evict(&n, &pods, t(1));
        assert_eq!(deleted(&actions), vec!["bare"]);
        assert_eq!(requeue, None);
        assert!(actions.contains(&Action::Event {
            kind: "Pod",
            namespace: Some("ns".into()),
            name: "bare".into(),
            uid: "uid-bare".into(),
            event_type: EventType::Normal,
            reason: "TaintManagerEviction".into(),
            message: "Marking for deletion Pod ns/bare".into(),
        }));
        assert!(actions.iter().any(|a| matches!(a, Action::Delete { uid: Some(u), .. } if u == "uid-bare")));
    }

    #[test]
    fn default_tolerations_delay_eviction_by_300_seconds() {
        let n = node(vec![], vec![taint(TAINT_UNREACHABLE, "NoExecute", 0)]);
        let pods = vec![pod("a", default_tolerations()), pod("b", default_tolerations())];
        let (actions, requeue) = pods_to_evict(&n, &pods, t(100));
        assert_eq!(actions, vec![]);
        assert_eq!(requeue, Some(Duration::from_secs(200)));
        let (actions, requeue) = pods_to_evict(&n, &pods, t(300));
        assert_eq!(deleted(&actions), vec!["a", "b"]);
        assert_eq!(requeue, None);
    }

    #[test]
    fn most_permissive_matching_toleration_and_earliest_taint_count() {
        let n = node(vec![], vec![taint(TAINT_UNREACHABLE, "NoExecute", 0), taint("maint", "NoExecute", 50)]);
        let mut tolerations = default_tolerations();
        tolerations.push(toleration(TAINT_UNREACHABLE, Some(1000)));
        tolerations.push(toleration("maint", Some(60)));
        let (actions, requeue) = pods_to_evict(&n, &[pod("a", tolerations)], t(100));
        assert_eq!(actions, vec![]);
        assert_eq!(requeue, Some(Duration::from_secs(10)), "maint expires at 110, unreachable at 1000");
    }

    #[test]
    fn toleration_matching_rules() {
        let t1 = taint("k", "NoExecute", 0);
        let equal = |v: &str| Toleration {
            key: Some("k".into()),
            operator: Some("Equal".into()),
            value: Some(v.into()),
            ..Default::default()
        };
        let mut valued = t1.clone();
        valued.value = Some("v".into());
        assert!(tolerates(&equal("v"), &valued));
        assert!(!tolerates(&equal("w"), &valued));
        assert!(tolerates(&Toleration { operator: Some("Exists".into()), ..Default::default() }, &t1));
        let wrong_effect = Toleration { effect: Some("NoSchedule".into()), ..toleration("k", None) };
        assert!(!tolerates(&wrong_effect, &t1));
    }
}
