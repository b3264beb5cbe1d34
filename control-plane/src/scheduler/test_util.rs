//! Small constructors shared by the unit tests of this crate (compiled only for tests).

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{
    Affinity, Container, Node, NodeCondition, NodeSpec, NodeStatus, Pod, PodAffinity, PodAffinityTerm, PodAntiAffinity,
    PodSpec, ResourceRequirements, Taint, Toleration, TopologySpreadConstraint, WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};

/// Hostname label key.
pub const HOSTNAME: &str = "kubernetes.io/hostname";

/// A label map.
pub fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// A ready node with the hostname label, given allocatable cpu/memory and extra labels.
pub fn sized_node(name: &str, cpu: &str, memory: &str, extra: &[(&str, &str)]) -> Node {
    let mut node_labels = labels(extra);
    node_labels.insert(HOSTNAME.to_string(), name.to_string());
    let allocatable = [("cpu", cpu), ("memory", memory), ("pods", "110")];
    Node {
        metadata: ObjectMeta { name: Some(name.into()), labels: Some(node_labels), ..Default::default() },
        spec: Some(NodeSpec::default()),
        status: Some(NodeStatus {
            allocatable: Some(allocatable.iter().map(|(k, v)| (k.to_string(), Quantity(v.to_string()))).collect()),
            conditions: Some(vec![NodeCondition {
                type_: "Ready".into(),
                status: "True".into(),
                ..Default::default()
            }]),
            ..Default::default()
        }),
    }
}

/// A ready 4-cpu / 8Gi node with extra labels.
pub fn labeled_node(name: &str, extra: &[(&str, &str)]) -> Arc<Node> {
    Arc::new(sized_node(name, "4", "8Gi", extra))
}

/// A ready 4-cpu / 8Gi node.
pub fn node(name: &str) -> Arc<Node> {
    labeled_node(name, &[])
}

/// Adds a taint to a node.
pub fn tainted(mut node: Node, key: &str, value: &str, effect: &str) -> Node {
    let taint = Taint { key: key.into(), value: Some(value.into()), effect: effect.into(), time_added: None };
    node.spec.get_or_insert_with(NodeSpec::default).taints.get_or_insert_with(Vec::new).push(taint);
    node
}

/// A pod in namespace "default" with one container and no requests.
pub fn pod(name: &str) -> Pod {
    labeled_pod(name, &[])
}

/// A pod in namespace "default" with labels.
pub fn labeled_pod(name: &str, pod_labels: &[(&str, &str)]) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("default".into()),
            labels: Some(labels(pod_labels)),
            ..Default::default()
        },
        spec: Some(PodSpec {
            containers: vec![Container { name: "c".into(), ..Default::default() }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn spec(pod: &mut Pod) -> &mut PodSpec {
    pod.spec.get_or_insert_with(PodSpec::default)
}

/// Sets cpu/memory requests on the first container.
pub fn with_requests(mut pod: Pod, cpu: &str, memory: &str) -> Pod {
    let requests = [("cpu", cpu), ("memory", memory)].map(|(k, v)| (k.to_string(), Quantity(v.to_string())));
    if let Some(c) = spec(&mut pod).containers.first_mut() {
        c.resources = Some(ResourceRequirements { requests: Some(requests.into()), ..Default::default() });
    }
    pod
}

/// Sets the controller owner uid.
pub fn owned(mut pod: Pod, uid: &str) -> Pod {
    let owner =
        OwnerReference { uid: uid.into(), controller: Some(true), kind: "ReplicaSet".into(), ..Default::default() };
    pod.metadata.owner_references = Some(vec![owner]);
    pod
}

/// Adds a toleration.
pub fn tolerating(mut pod: Pod, key: &str, operator: &str, value: &str, effect: &str) -> Pod {
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let toleration = Toleration {
        key: opt(key),
        operator: opt(operator),
        value: opt(value),
        effect: opt(effect),
        ..Default::default()
    };
    spec(&mut pod).tolerations.get_or_insert_with(Vec::new).push(toleration);
    pod
}

/// A pod affinity term on `key` selecting `selector` labels.
pub fn term(key: &str, selector: &[(&str, &str)]) -> PodAffinityTerm {
    PodAffinityTerm {
        topology_key: key.into(),
        label_selector: Some(LabelSelector { match_labels: Some(labels(selector)), ..Default::default() }),
        ..Default::default()
    }
}

fn affinity(pod: &mut Pod) -> &mut Affinity {
    spec(pod).affinity.get_or_insert_with(Affinity::default)
}

/// Adds a required anti-affinity term.
pub fn anti_affinity(mut pod: Pod, key: &str, selector: &[(&str, &str)]) -> Pod {
    let anti = affinity(&mut pod).pod_anti_affinity.get_or_insert_with(PodAntiAffinity::default);
    anti.required_during_scheduling_ignored_during_execution.get_or_insert_with(Vec::new).push(term(key, selector));
    pod
}

/// Adds a required affinity term.
pub fn pod_affinity(mut pod: Pod, key: &str, selector: &[(&str, &str)]) -> Pod {
    let aff = affinity(&mut pod).pod_affinity.get_or_insert_with(PodAffinity::default);
    aff.required_during_scheduling_ignored_during_execution.get_or_insert_with(Vec::new).push(term(key, selector));
    pod
}

/// Adds a preferred affinity (positive weight) or anti-affinity (negative weight) term.
pub fn preferred(mut pod: Pod, weight: i32, key: &str, selector: &[(&str, &str)]) -> Pod {
    let weighted = WeightedPodAffinityTerm { weight: weight.abs(), pod_affinity_term: term(key, selector) };
    let a = affinity(&mut pod);
    let list = if weight > 0 {
        &mut a
            .pod_affinity
            .get_or_insert_with(PodAffinity::default)
            .preferred_during_scheduling_ignored_during_execution
    } else {
        &mut a
            .pod_anti_affinity
            .get_or_insert_with(PodAntiAffinity::default)
            .preferred_during_scheduling_ignored_during_execution
    };
    list.get_or_insert_with(Vec::new).push(weighted);
    pod
}

/// Adds a topology spread constraint.
pub fn spread(pod: &mut Pod, key: &str, max_skew: i32, when: &str, selector: &[(&str, &str)]) {
    let constraint = TopologySpreadConstraint {
        max_skew,
        topology_key: key.into(),
        when_unsatisfiable: when.into(),
        label_selector: Some(LabelSelector { match_labels: Some(labels(selector)), ..Default::default() }),
        ..Default::default()
    };
    spec(pod).topology_spread_constraints.get_or_insert_with(Vec::new).push(constraint);
}
