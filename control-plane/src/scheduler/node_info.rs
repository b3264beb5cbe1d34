//! One node plus what is placed on it, maintained incrementally.
//!
//! Guarantees: `add_pod` / `remove_pod` keep the requested totals (exact and non-zero), the host ports in
//! use, the pod count and the affinity counters consistent in O(pods on the node); adding a pod that is
//! already recorded (same namespace/name) replaces it instead of counting it twice. Allocatable comes
//! from `status.allocatable` (missing cpu/memory → 0, missing pods → 110). Readiness, unschedulability and
//! the node's labels are read once per node object, never per scheduling cycle.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod, Taint};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::scheduler::affinity::PodAffinity;
use crate::scheduler::host_port::HostPort;
use crate::scheduler::quantity;
use crate::scheduler::requests::{PodRequests, Resources};

/// Pods a node accepts when `status.allocatable.pods` is missing.
pub const DEFAULT_MAX_PODS: i64 = 110;

static EMPTY_LABELS: BTreeMap<String, String> = BTreeMap::new();

/// The namespace of a pod (`"default"` when unset).
pub fn namespace_of(pod: &Pod) -> &str {
    pod.metadata.namespace.as_deref().unwrap_or("default")
}

/// The uid of the controller ownerReference of a pod, if any.
pub fn controller_uid(pod: &Pod) -> Option<&str> {
    crate::controllers::owner::controller_uid(&pod.metadata)
}

/// A 64-bit key for (namespace, controller uid), so per-node owner counts compare integers, not strings.
pub fn owner_key(namespace: &str, owner_uid: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in namespace.as_bytes().iter().chain(&[0xff]).chain(owner_uid.as_bytes()) {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// What a node can hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allocatable {
    /// Cpu and memory.
    pub resources: Resources,
    /// Maximum number of pods.
    pub pods: i64,
}

impl Allocatable {
    /// Reads `status.allocatable` of a node.
    pub fn of(node: &Node) -> Allocatable {
        let list = node.status.as_ref().and_then(|s| s.allocatable.as_ref());
        let get = |key: &str, parse: fn(&Quantity) -> Result<i64, quantity::QuantityError>| {
            list.and_then(|l| l.get(key)).map(|q| parse(q).unwrap_or(0))
        };
        Allocatable {
            resources: Resources {
                milli_cpu: get("cpu", quantity::cpu_millis).unwrap_or(0),
                memory: get("memory", quantity::value).unwrap_or(0),
            },
            pods: get("pods", quantity::value).unwrap_or(DEFAULT_MAX_PODS),
        }
    }
}

/// The light record of a pod placed on a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedPod {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Uid of the controller ownerReference.
    pub owner_uid: Option<String>,
    /// Requests counted on the node.
    pub requests: PodRequests,
    /// Host ports held on the node.
    pub ports: Vec<HostPort>,
    /// Compiled inter-pod affinity terms, when the pod has any.
    pub affinity: Option<Arc<PodAffinity>>,
}

impl PlacedPod {
    /// Builds the record of `pod`.
    pub fn new(pod: &Pod) -> PlacedPod {
        PlacedPod {
            namespace: namespace_of(pod).to_string(),
            name: pod.metadata.name.clone().unwrap_or_default(),
            labels: pod.metadata.labels.clone().unwrap_or_default(),
            owner_uid: controller_uid(pod).map(String::from),
            requests: PodRequests::of(pod),
            ports: HostPort::of_pod(pod),
            affinity: PodAffinity::of(pod).map(Arc::new),
        }
    }

    /// Whether the pod has required anti-affinity terms.
    pub fn has_required_anti_affinity(&self) -> bool {
        self.affinity.as_ref().is_some_and(|a| !a.required_anti_affinity.is_empty())
    }
}

/// A node and the pods placed on it.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    node: Arc<Node>,
    name: String,
    allocatable: Allocatable,
    unschedulable: bool,
    ready: bool,
    requested: Resources,
    non_zero_requested: Resources,
    pods: Vec<PlacedPod>,
    used_ports: Vec<HostPort>,
    pods_with_affinity: usize,
    pods_with_required_anti_affinity: usize,
    owner_counts: Vec<(u64, u32)>,
    zone: Option<String>,
}

/// Region label.
pub const REGION_LABEL: &str = "topology.kubernetes.io/region";
/// Zone label.
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

impl NodeInfo {
    /// A node with nothing placed on it.
    pub fn new(node: Arc<Node>) -> NodeInfo {
        let mut info = NodeInfo {
            node: Arc::new(Node::default()),
            name: String::new(),
            allocatable: Allocatable::default(),
            unschedulable: false,
            ready: false,
            requested: Resources::default(),
            non_zero_requested: Resources::default(),
            pods: Vec::new(),
            used_ports: Vec::new(),
            pods_with_affinity: 0,
            pods_with_required_anti_affinity: 0,
            owner_counts: Vec::new(),
            zone: None,
        };
        info.set_node(node);
        info
    }

    /// Replaces the node object (after a node update), keeping the placed pods.
    pub fn set_node(&mut self, node: Arc<Node>) {
        self.name = node.metadata.name.clone().unwrap_or_default();
        self.allocatable = Allocatable::of(&node);
        self.unschedulable = node.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false);
        self.ready = is_ready(&node);
        self.zone = zone_key(&node);
        self.node = node;
    }

    /// Records `pod` on this node (replacing an earlier record of the same namespace/name).
    pub fn add_pod(&mut self, pod: &Pod) {
        self.add_placed(PlacedPod::new(pod));
    }

    /// Records an already built placed-pod record.
    pub fn add_placed(&mut self, placed: PlacedPod) {
        self.remove(&placed.namespace, &placed.name);
        self.requested = self.requested.plus(placed.requests.actual);
        self.non_zero_requested = self.non_zero_requested.plus(placed.requests.non_zero);
        self.used_ports.extend(placed.ports.iter().cloned());
        self.pods_with_affinity += usize::from(placed.affinity.is_some());
        self.pods_with_required_anti_affinity += usize::from(placed.has_required_anti_affinity());
        if let Some(uid) = placed.owner_uid.as_deref() {
            let key = owner_key(&placed.namespace, uid);
            match self.owner_counts.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => *n += 1,
                None => self.owner_counts.push((key, 1)),
            }
        }
        self.pods.push(placed);
    }

    /// Forgets `pod` (matched by namespace/name); returns whether it was recorded.
    pub fn remove_pod(&mut self, pod: &Pod) -> bool {
        self.remove(namespace_of(pod), pod.metadata.name.as_deref().unwrap_or_default()).is_some()
    }

    /// Forgets the pod `namespace/name`, returning its record.
    pub fn remove(&mut self, namespace: &str, name: &str) -> Option<PlacedPod> {
        let index = self.pods.iter().position(|p| p.name == name && p.namespace == namespace)?;
        let placed = self.pods.swap_remove(index);
        self.requested = self.requested.minus(placed.requests.actual);
        self.non_zero_requested = self.non_zero_requested.minus(placed.requests.non_zero);
        for port in &placed.ports {
            if let Some(i) = self.used_ports.iter().position(|p| p == port) {
                self.used_ports.swap_remove(i);
            }
        }
        self.pods_with_affinity = self.pods_with_affinity.saturating_sub(usize::from(placed.affinity.is_some()));
        self.pods_with_required_anti_affinity =
            self.pods_with_required_anti_affinity.saturating_sub(usize::from(placed.has_required_anti_affinity()));
        if let Some(uid) = placed.owner_uid.as_deref() {
            let key = owner_key(&placed.namespace, uid);
            if let Some((_, count)) = self.owner_counts.iter_mut().find(|(k, _)| *k == key) {
                *count = count.saturating_sub(1);
            }
            self.owner_counts.retain(|(_, count)| *count > 0);
        }
        Some(placed)
    }

    /// The node object.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// The node name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The node labels (empty when none).
    pub fn labels(&self) -> &BTreeMap<String, String> {
        self.node.metadata.labels.as_ref().unwrap_or(&EMPTY_LABELS)
    }

    /// "region:zone" from the topology labels, None when the node has neither.
    pub fn zone(&self) -> Option<&str> {
        self.zone.as_deref()
    }

    /// The node taints (empty when none).
    pub fn taints(&self) -> &[Taint] {
        self.node.spec.as_ref().and_then(|s| s.taints.as_deref()).unwrap_or(&[])
    }

    /// What the node can hold.
    pub fn allocatable(&self) -> Allocatable {
        self.allocatable
    }

    /// Sum of exact requests of placed pods.
    pub fn requested(&self) -> Resources {
        self.requested
    }

    /// Sum of non-zero requests of placed pods (for scoring).
    pub fn non_zero_requested(&self) -> Resources {
        self.non_zero_requested
    }

    /// Placed pods.
    pub fn pods(&self) -> &[PlacedPod] {
        &self.pods
    }

    /// Host ports in use (one entry per placed pod port).
    pub fn used_ports(&self) -> &[HostPort] {
        &self.used_ports
    }

    /// Whether `spec.unschedulable` is set.
    pub fn is_unschedulable(&self) -> bool {
        self.unschedulable
    }

    /// Whether the Ready condition is True (a node without conditions is not ready).
    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// Number of placed pods whose (namespace, controller uid) has this `owner_key`.
    pub fn count_owned(&self, key: u64) -> u32 {
        self.owner_counts.iter().find(|(k, _)| *k == key).map_or(0, |(_, n)| *n)
    }

    /// Number of placed pods with any inter-pod affinity term.
    pub fn pods_with_affinity(&self) -> usize {
        self.pods_with_affinity
    }

    /// Number of placed pods with required anti-affinity terms.
    pub fn pods_with_required_anti_affinity(&self) -> usize {
        self.pods_with_required_anti_affinity
    }
}

fn zone_key(node: &Node) -> Option<String> {
    let labels = node.metadata.labels.as_ref()?;
    let (region, zone) = (labels.get(REGION_LABEL), labels.get(ZONE_LABEL));
    if region.is_none() && zone.is_none() {
        return None;
    }
    Some(format!("{}:{}", region.map_or("", String::as_str), zone.map_or("", String::as_str)))
}

fn is_ready(node: &Node) -> bool {
    let conditions = node.status.as_ref().and_then(|s| s.conditions.as_ref());
    conditions.into_iter().flatten().any(|c| c.type_ == "Ready" && c.status == "True")
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        Container, ContainerPort, NodeCondition, NodeStatus, PodSpec, ResourceRequirements,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

    fn node(alloc: &[(&str, &str)], ready: Option<&str>) -> Arc<Node> {
        let conditions =
            ready.map(|s| vec![NodeCondition { type_: "Ready".into(), status: s.into(), ..Default::default() }]);
        Arc::new(Node {
            metadata: ObjectMeta { name: Some("n1".into()), ..Default::default() },
            status: Some(NodeStatus {
                allocatable: Some(alloc.iter().map(|(k, v)| (k.to_string(), Quantity(v.to_string()))).collect()),
                conditions,
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    fn pod(name: &str, cpu: &str, host_port: Option<i32>) -> Pod {
        let requests = BTreeMap::from([("cpu".to_string(), Quantity(cpu.into()))]);
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                owner_references: Some(vec![OwnerReference {
                    uid: "rs-1".into(),
                    controller: Some(true),
                    ..Default::default()
                }]),
                ..Default::default()
            },
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    resources: Some(ResourceRequirements { requests: Some(requests), ..Default::default() }),
                    ports: Some(vec![ContainerPort { container_port: 80, host_port, ..Default::default() }]),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn allocatable_and_readiness() {
        let info = NodeInfo::new(node(&[("cpu", "4"), ("memory", "8Gi")], Some("True")));
        assert_eq!(
            info.allocatable(),
            Allocatable { resources: Resources { milli_cpu: 4000, memory: 8 << 30 }, pods: 110 }
        );
        assert!(info.is_ready());
        assert!(!NodeInfo::new(node(&[], None)).is_ready());
        assert!(!NodeInfo::new(node(&[], Some("Unknown"))).is_ready());
        assert_eq!(NodeInfo::new(node(&[("pods", "30")], None)).allocatable().pods, 30);
    }

    #[test]
    fn add_and_remove_keep_totals() {
        let mut info = NodeInfo::new(node(&[("cpu", "4")], Some("True")));
        info.add_pod(&pod("a", "500m", Some(8080)));
        info.add_pod(&pod("b", "1", None));
        assert_eq!(info.requested().milli_cpu, 1500);
        assert_eq!(info.non_zero_requested().memory, 2 * crate::scheduler::requests::DEFAULT_MEMORY_REQUEST);
        assert_eq!(info.used_ports().len(), 1);
        assert_eq!(info.pods()[0].owner_uid.as_deref(), Some("rs-1"));
        assert_eq!(info.count_owned(owner_key("ns", "rs-1")), 2);
        assert_eq!(info.count_owned(owner_key("other", "rs-1")), 0);
        info.add_pod(&pod("a", "500m", Some(8080)));
        assert_eq!(info.pods().len(), 2, "re-adding replaces");
        assert_eq!(info.requested().milli_cpu, 1500);
        assert!(info.remove_pod(&pod("a", "0", None)));
        assert_eq!(info.requested().milli_cpu, 1000);
        assert!(info.used_ports().is_empty());
        assert_eq!(info.count_owned(owner_key("ns", "rs-1")), 1);
        assert!(!info.remove_pod(&pod("a", "0", None)));
        assert_eq!(info.pods().len(), 1);
    }
}
