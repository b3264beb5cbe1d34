//! The pod being scheduled, compiled once per scheduling cycle, with its per-cycle precomputation.
//!
//! Guarantees: everything a filter or score needs from the pod (requests, host ports, node selector and
//! node affinity, tolerations, inter-pod affinity terms, spread constraints) is computed once here and
//! borrowed from the pod where possible (no clone of the pod object); `PodInfo::new` also runs the
//! PreFilter-like step (`CycleState`), so filters never rescan the cluster per node.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, Toleration};

use crate::scheduler::affinity::PodAffinity;
use crate::scheduler::cluster::ClusterView;
use crate::scheduler::host_port::HostPort;
use crate::scheduler::node_info::{controller_uid, namespace_of, NodeInfo};
use crate::scheduler::prefilter::CycleState;
use crate::scheduler::requests::PodRequests;
use crate::scheduler::selector::{NodeSelectorMatcher, NodeTerm};
use crate::scheduler::spread::SpreadConstraint;

static EMPTY_LABELS: BTreeMap<String, String> = BTreeMap::new();

/// The incoming pod, compiled.
#[derive(Debug, Clone)]
pub struct PodInfo<'a> {
    /// The pod object.
    pub pod: &'a Pod,
    /// Namespace (`"default"` when unset).
    pub namespace: &'a str,
    /// Name.
    pub name: &'a str,
    /// Labels.
    pub labels: &'a BTreeMap<String, String>,
    /// Uid of the controller ownerReference.
    pub owner_uid: Option<&'a str>,
    /// Requests (exact and non-zero).
    pub requests: PodRequests,
    /// Requested host ports.
    pub ports: Vec<HostPort>,
    /// `spec.nodeName`, when preset.
    pub node_name: Option<&'a str>,
    /// `spec.nodeSelector`.
    pub node_selector: Option<&'a BTreeMap<String, String>>,
    /// Required node affinity.
    pub required_node_affinity: Option<NodeSelectorMatcher>,
    /// Preferred node affinity terms with weights.
    pub preferred_node_affinity: Vec<(i64, NodeTerm)>,
    /// Tolerations.
    pub tolerations: &'a [Toleration],
    /// Inter-pod affinity terms.
    pub affinity: Option<PodAffinity>,
    /// Topology spread constraints.
    pub spread: Vec<SpreadConstraint>,
    /// The PreFilter precomputation for this cycle.
    pub state: CycleState,
}

impl<'a> PodInfo<'a> {
    /// Compiles `pod` and precomputes its cycle state against `view`.
    pub fn new(pod: &'a Pod, view: &ClusterView) -> PodInfo<'a> {
        let mut info = PodInfo::compile(pod);
        info.state = CycleState::compute(&info, view);
        info
    }

    /// Compiles `pod` without any cycle state (enough for filters and scores that do not need it).
    pub fn compile(pod: &'a Pod) -> PodInfo<'a> {
        let spec = pod.spec.as_ref();
        let node_affinity = spec.and_then(|s| s.affinity.as_ref()).and_then(|a| a.node_affinity.as_ref());
        let required = node_affinity.and_then(|na| na.required_during_scheduling_ignored_during_execution.as_ref());
        let preferred = node_affinity.and_then(|na| na.preferred_during_scheduling_ignored_during_execution.as_ref());
        PodInfo {
            pod,
            namespace: namespace_of(pod),
            name: pod.metadata.name.as_deref().unwrap_or_default(),
            labels: pod.metadata.labels.as_ref().unwrap_or(&EMPTY_LABELS),
            owner_uid: controller_uid(pod),
            requests: PodRequests::of(pod),
            ports: HostPort::of_pod(pod),
            node_name: spec.and_then(|s| s.node_name.as_deref()).filter(|n| !n.is_empty()),
            node_selector: spec.and_then(|s| s.node_selector.as_ref()).filter(|m| !m.is_empty()),
            required_node_affinity: required.map(NodeSelectorMatcher::new),
            preferred_node_affinity: preferred
                .into_iter()
                .flatten()
                .filter(|t| t.weight != 0)
                .map(|t| (i64::from(t.weight), NodeTerm::new(&t.preference)))
                .collect(),
            tolerations: spec.and_then(|s| s.tolerations.as_deref()).unwrap_or(&[]),
            affinity: PodAffinity::of(pod),
            spread: SpreadConstraint::of_pod(pod),
            state: CycleState::default(),
        }
    }

    /// Whether `node` satisfies `spec.nodeSelector` and the required node affinity.
    pub fn matches_node_affinity(&self, node: &NodeInfo) -> bool {
        let labels = node.labels();
        let selector_ok = self.node_selector.is_none_or(|sel| sel.iter().all(|(k, v)| labels.get(k) == Some(v)));
        selector_ok && self.required_node_affinity.as_ref().is_none_or(|m| m.matches(node.name(), labels))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::test_util::{labeled_node, labels, pod};
    use k8s_openapi::api::core::v1::{Affinity, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm};

    #[test]
    fn node_selector_and_required_affinity_are_anded() {
        let mut p = pod("p");
        if let Some(spec) = p.spec.as_mut() {
            spec.node_selector = Some(labels(&[("disk", "ssd")]));
            let term = NodeSelectorTerm {
                match_expressions: Some(vec![NodeSelectorRequirement {
                    key: "zone".into(),
                    operator: "In".into(),
                    values: Some(vec!["a".into()]),
                }]),
                match_fields: None,
            };
            spec.affinity = Some(Affinity {
                node_affinity: Some(NodeAffinity {
                    required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                        node_selector_terms: vec![term],
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        let info = PodInfo::compile(&p);
        let node = |l: &[(&str, &str)]| NodeInfo::new(labeled_node("n", l));
        assert!(info.matches_node_affinity(&node(&[("disk", "ssd"), ("zone", "a")])));
        assert!(!info.matches_node_affinity(&node(&[("disk", "ssd"), ("zone", "b")])));
        assert!(!info.matches_node_affinity(&node(&[("zone", "a")])));
        assert!(PodInfo::compile(&pod("q")).matches_node_affinity(&node(&[])));
    }
}
