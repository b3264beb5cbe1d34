//! Which surplus pods a ReplicaSet deletes first, ranked like upstream's
//! `ActivePodsWithRanks`.
//!
//! Guarantees: a total, deterministic order where earlier means "delete
//! first": unassigned before assigned; Pending before Unknown before Running;
//! not ready before ready; lower `controller.kubernetes.io/pod-deletion-cost`
//! first; pods doubled up on a node (more sibling pods on the same node)
//! first; ready for less time first; more container restarts first; newer
//! (or unknown) creation time first; finally by name.
//! Simplification: the "doubled up" rank counts the ReplicaSet's own active
//! pods per node (upstream also counts sibling ReplicaSets of the same
//! Deployment).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Pod;

use crate::controllers::workloads::pod_state::{is_pod_ready, pod_phase, pod_ready_since};

/// Annotation holding a pod's deletion cost (int32; lower is deleted first).
pub const POD_DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

/// The first `count` pods of `pods` in deletion order.
pub fn pods_to_delete(pods: &[Arc<Pod>], count: usize) -> Vec<Arc<Pod>> {
    let mut per_node: BTreeMap<&str, usize> = BTreeMap::new();
    for p in pods {
        *per_node.entry(node_name(p)).or_default() += 1;
    }
    let mut ranked: Vec<(usize, &Arc<Pod>)> =
        pods.iter().map(|p| (per_node.get(node_name(p)).copied().unwrap_or_default(), p)).collect();
    ranked.sort_by(|a, b| delete_order(a.1, a.0, b.1, b.0));
    ranked.into_iter().take(count).map(|(_, p)| Arc::clone(p)).collect()
}

/// Compare two pods for deletion; `Less` means `a` is deleted before `b`.
/// `rank_*` is the number of related pods on the pod's node.
pub fn delete_order(a: &Pod, rank_a: usize, b: &Pod, rank_b: usize) -> Ordering {
    node_name(b)
        .is_empty()
        .cmp(&node_name(a).is_empty())
        .then_with(|| phase_ordinal(a).cmp(&phase_ordinal(b)))
        .then_with(|| is_pod_ready(a).cmp(&is_pod_ready(b)))
        .then_with(|| deletion_cost(a).cmp(&deletion_cost(b)))
        .then_with(|| rank_b.cmp(&rank_a))
        .then_with(|| ready_time_order(a, b))
        .then_with(|| max_restarts(b).cmp(&max_restarts(a)))
        .then_with(|| newer_first(creation(a), creation(b)))
        .then_with(|| a.metadata.name.cmp(&b.metadata.name))
}

fn node_name(p: &Pod) -> &str {
    p.spec.as_ref().and_then(|s| s.node_name.as_deref()).unwrap_or_default()
}

/// Pending (and unknown phases) 0, Unknown 1, Running 2.
fn phase_ordinal(p: &Pod) -> u8 {
    match pod_phase(p) {
        Some("Unknown") => 1,
        Some("Running") => 2,
        _ => 0,
    }
}

/// The pod's deletion cost annotation (0 when absent or malformed).
pub fn deletion_cost(p: &Pod) -> i32 {
    p.metadata.annotations.as_ref().and_then(|a| a.get(POD_DELETION_COST)).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// Only when both pods are ready: the one ready for less time goes first.
fn ready_time_order(a: &Pod, b: &Pod) -> Ordering {
    if is_pod_ready(a) && is_pod_ready(b) {
        newer_first(pod_ready_since(a), pod_ready_since(b))
    } else {
        Ordering::Equal
    }
}

/// Unknown times first, then later times first.
fn newer_first(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => y.cmp(&x),
    }
}

fn creation(p: &Pod) -> Option<DateTime<Utc>> {
    p.metadata.creation_timestamp.as_ref().map(|t| t.0)
}

/// The highest restart count among the pod's containers.
pub fn max_restarts(p: &Pod) -> i32 {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .map(|c| c.restart_count)
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ContainerStatus, PodCondition, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap_or_default()
    }

    struct P<'a> {
        name: &'a str,
        node: &'a str,
        phase: &'a str,
        ready_at: Option<i64>,
        created: i64,
        restarts: i32,
    }

    fn pod(p: P) -> Arc<Pod> {
        let cond = p.ready_at.map(|t| PodCondition {
            type_: "Ready".into(),
            status: "True".into(),
            last_transition_time: Some(Time(at(t))),
            ..Default::default()
        });
        let cs = ContainerStatus { name: "c".into(), restart_count: p.restarts, ..Default::default() };
        let mut pod = Pod::default();
        pod.metadata.name = Some(p.name.into());
        pod.metadata.creation_timestamp = Some(Time(at(p.created)));
        pod.spec = Some(PodSpec { node_name: (!p.node.is_empty()).then(|| p.node.into()), ..Default::default() });
        pod.status = Some(PodStatus {
            phase: Some(p.phase.into()),
            conditions: cond.map(|c| vec![c]),
            container_statuses: Some(vec![cs]),
            ..Default::default()
        });
        Arc::new(pod)
    }

    fn names(pods: &[Arc<Pod>]) -> Vec<String> {
        pods.iter().map(|p| p.metadata.name.clone().unwrap_or_default()).collect()
    }

    fn base(name: &str) -> P<'_> {
        P { name, node: "n1", phase: "Running", ready_at: Some(0), created: 0, restarts: 0 }
    }

    #[test]
    fn order_follows_upstream_ranking() {
        let pods = vec![
            pod(P { created: 5, ..base("old-ready") }),
            pod(P { node: "", phase: "Pending", ready_at: None, ..base("unassigned") }),
            pod(P { phase: "Pending", ready_at: None, ..base("pending") }),
            pod(P { phase: "Unknown", ready_at: None, ..base("unknown") }),
            pod(P { ready_at: None, ..base("not-ready") }),
            pod(P { ready_at: Some(50), ..base("recently-ready") }),
            pod(P { restarts: 4, ..base("crashy") }),
            pod(P { created: 9, ..base("newer") }),
        ];
        let order = names(&pods_to_delete(&pods, pods.len()));
        assert_eq!(
            order,
            ["unassigned", "pending", "unknown", "not-ready", "recently-ready", "crashy", "newer", "old-ready"]
        );
        assert_eq!(names(&pods_to_delete(&pods, 2)), ["unassigned", "pending"]);
    }

    #[test]
    fn doubled_up_and_deletion_cost() {
        let pods = vec![
            pod(P { node: "a", ..base("alone") }),
            pod(P { node: "b", ..base("b1") }),
            pod(P { node: "b", ..base("b2") }),
        ];
        assert_eq!(names(&pods_to_delete(&pods, 1)), ["b1"]);
        let mut cheap = (*pod(P { node: "a", ..base("cheap") })).clone();
        cheap.metadata.annotations = Some([(POD_DELETION_COST.to_string(), "-5".to_string())].into());
        let pods = vec![pods[1].clone(), pods[2].clone(), Arc::new(cheap)];
        assert_eq!(names(&pods_to_delete(&pods, 1)), ["cheap"]);
    }
}
