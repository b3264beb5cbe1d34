//! The scheduler's read-only view of the cluster: every `NodeInfo`, indexed by name, plus namespace labels.
//!
//! Guarantees: node lookup by name is O(1); the node order is stable between calls unless nodes are removed
//! (the round-robin start index relies on it); a pod is recorded on at most one node (found through a
//! pod → node index, no scan); cluster-wide counters of placed pods with inter-pod affinity
//! let a scheduling cycle skip the affinity scans entirely when no placed pod has such terms. All mutation
//! goes through this type so the counters stay exact.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod};

use crate::scheduler::node_info::{namespace_of, NodeInfo};

static EMPTY_LABELS: BTreeMap<String, String> = BTreeMap::new();

/// All nodes and their placed pods.
#[derive(Debug, Clone, Default)]
pub struct ClusterView {
    nodes: Vec<NodeInfo>,
    index: HashMap<String, usize>,
    namespaces: HashMap<String, BTreeMap<String, String>>,
    pod_locations: HashMap<(String, String), String>,
    pods_with_affinity: usize,
    pods_with_required_anti_affinity: usize,
}

fn pod_key(pod: &Pod) -> (String, String) {
    (namespace_of(pod).to_string(), pod.metadata.name.clone().unwrap_or_default())
}

impl ClusterView {
    /// A view of these nodes, without pods.
    pub fn from_nodes(nodes: impl IntoIterator<Item = Arc<Node>>) -> ClusterView {
        let mut view = ClusterView::default();
        for node in nodes {
            view.upsert_node(node);
        }
        view
    }

    /// Adds a node, or replaces the node object of an existing one keeping its pods.
    pub fn upsert_node(&mut self, node: Arc<Node>) {
        let name = node.metadata.name.as_deref().unwrap_or_default();
        match self.index.get(name) {
            Some(&i) => {
                if let Some(info) = self.nodes.get_mut(i) {
                    info.set_node(node);
                }
            }
            None => {
                self.index.insert(name.to_string(), self.nodes.len());
                self.nodes.push(NodeInfo::new(node));
            }
        }
    }

    /// Removes a node and its pods; returns it.
    pub fn remove_node(&mut self, name: &str) -> Option<NodeInfo> {
        let i = self.index.remove(name)?;
        let removed = self.nodes.swap_remove(i);
        if let Some(moved) = self.nodes.get(i) {
            self.index.insert(moved.name().to_string(), i);
        }
        for placed in removed.pods() {
            self.pod_locations.remove(&(placed.namespace.clone(), placed.name.clone()));
        }
        self.pods_with_affinity = self.pods_with_affinity.saturating_sub(removed.pods_with_affinity());
        self.pods_with_required_anti_affinity =
            self.pods_with_required_anti_affinity.saturating_sub(removed.pods_with_required_anti_affinity());
        Some(removed)
    }

    /// Records `pod` on `node_name`; false when the node is unknown. A pod recorded on another node moves.
    pub fn add_pod_to(&mut self, node_name: &str, pod: &Pod) -> bool {
        if !self.index.contains_key(node_name) {
            return false;
        }
        let key = pod_key(pod);
        if let Some(previous) = self.pod_locations.get(&key).filter(|n| n.as_str() != node_name).cloned() {
            self.update_node(&previous, |n| n.remove_pod(pod));
        }
        self.pod_locations.insert(key, node_name.to_string());
        self.update_node(node_name, |n| {
            n.add_pod(pod);
            true
        })
    }

    /// Records `pod` on the node named by its `spec.nodeName`; false when unset or unknown.
    pub fn add_pod(&mut self, pod: &Pod) -> bool {
        let node_name = pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).unwrap_or_default();
        self.add_pod_to(node_name, pod)
    }

    /// Forgets `pod` (by namespace/name) from whichever node records it; whether it was found.
    pub fn remove_pod(&mut self, pod: &Pod) -> bool {
        match self.pod_locations.remove(&pod_key(pod)) {
            Some(node_name) => self.update_node(&node_name, |n| n.remove_pod(pod)),
            None => false,
        }
    }

    /// Applies `change` to one node, keeping the cluster-wide counters exact.
    fn update_node(&mut self, node_name: &str, change: impl FnOnce(&mut NodeInfo) -> bool) -> bool {
        let Some(node) = self.index.get(node_name).and_then(|&i| self.nodes.get_mut(i)) else {
            return false;
        };
        let (affinity, anti) = (node.pods_with_affinity(), node.pods_with_required_anti_affinity());
        let changed = change(node);
        self.pods_with_affinity = self.pods_with_affinity.saturating_sub(affinity) + node.pods_with_affinity();
        self.pods_with_required_anti_affinity =
            self.pods_with_required_anti_affinity.saturating_sub(anti) + node.pods_with_required_anti_affinity();
        changed
    }

    /// Sets the labels of a namespace (used by `namespaceSelector` of affinity terms).
    pub fn set_namespace_labels(&mut self, namespace: &str, labels: BTreeMap<String, String>) {
        self.namespaces.insert(namespace.to_string(), labels);
    }

    /// Labels of a namespace (empty when unknown).
    pub fn namespace_labels(&self, namespace: &str) -> &BTreeMap<String, String> {
        self.namespaces.get(namespace).unwrap_or(&EMPTY_LABELS)
    }

    /// All nodes in round-robin order.
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    /// A node by name.
    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.index.get(name).and_then(|&i| self.nodes.get(i))
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there is no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Whether any placed pod has inter-pod affinity terms.
    pub fn has_pods_with_affinity(&self) -> bool {
        self.pods_with_affinity > 0
    }

    /// Whether any placed pod has required anti-affinity terms.
    pub fn has_pods_with_required_anti_affinity(&self) -> bool {
        self.pods_with_required_anti_affinity > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Affinity, PodAffinityTerm, PodAntiAffinity, PodSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn node(name: &str) -> Arc<Node> {
        Arc::new(Node { metadata: ObjectMeta { name: Some(name.into()), ..Default::default() }, ..Default::default() })
    }

    fn anti_pod(name: &str, node_name: Option<&str>) -> Pod {
        let anti = PodAntiAffinity {
            required_during_scheduling_ignored_during_execution: Some(vec![PodAffinityTerm {
                topology_key: "kubernetes.io/hostname".into(),
                ..Default::default()
            }]),
            ..Default::default()
        };
        Pod {
            metadata: ObjectMeta { name: Some(name.into()), ..Default::default() },
            spec: Some(PodSpec {
                node_name: node_name.map(String::from),
                affinity: Some(Affinity { pod_anti_affinity: Some(anti), ..Default::default() }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn index_survives_removal() {
        let mut view = ClusterView::from_nodes(["a", "b", "c"].map(node));
        assert!(view.remove_node("a").is_some());
        assert_eq!(view.len(), 2);
        assert_eq!(view.node("c").map(NodeInfo::name), Some("c"));
        assert_eq!(view.node("b").map(NodeInfo::name), Some("b"));
        assert!(view.node("a").is_none());
        view.upsert_node(node("b"));
        assert_eq!(view.len(), 2);
    }

    #[test]
    fn counters_follow_pods() {
        let mut view = ClusterView::from_nodes(["a", "b"].map(node));
        assert!(!view.add_pod(&anti_pod("p", None)), "no nodeName");
        assert!(view.add_pod(&anti_pod("p", Some("a"))));
        assert!(view.has_pods_with_required_anti_affinity());
        assert!(view.add_pod_to("b", &anti_pod("p", None)), "moves from a to b");
        assert_eq!(view.node("a").map(|n| n.pods().len()), Some(0));
        assert_eq!(view.node("b").map(|n| n.pods().len()), Some(1));
        assert!(view.remove_pod(&anti_pod("p", None)));
        assert!(!view.has_pods_with_required_anti_affinity());
        assert!(view.add_pod(&anti_pod("q", Some("b"))));
        assert!(view.remove_node("b").is_some());
        assert!(!view.has_pods_with_affinity());
    }
}
