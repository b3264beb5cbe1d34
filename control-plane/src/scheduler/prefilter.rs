//! The PreFilter step: per-cycle precomputation that lets filters decide per node in O(terms).
//!
//! Guarantees: computed once per scheduling cycle and only for what the pod needs: inter-pod affinity
//! counts scan the placed pods once when the incoming pod has required (anti-)affinity terms; existing pods'
//! required anti-affinity is scanned only on nodes that hold such pods (skipped entirely when the cluster has
//! none); spread counts are computed once for the hard (`DoNotSchedule`) constraints.

use std::collections::{HashMap, HashSet};

use crate::scheduler::affinity::AffinityTerm;
use crate::scheduler::cluster::ClusterView;
use crate::scheduler::node_info::NodeInfo;
use crate::scheduler::pod_info::PodInfo;
use crate::scheduler::spread::{self, SpreadConstraint, SpreadCounts};

/// Precomputed data for one scheduling cycle of one pod.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CycleState {
    /// Per required affinity term of the incoming pod: topology value → matching placed pods.
    pub affinity_counts: Vec<HashMap<String, u32>>,
    /// Whether the incoming pod matches all of its own required affinity terms.
    pub matches_own_affinity: bool,
    /// Per required anti-affinity term of the incoming pod: topology values holding a matching pod.
    pub anti_affinity_values: Vec<HashSet<String>>,
    /// Placed pods' required anti-affinity against the incoming pod: topology key → forbidden values.
    pub existing_anti_affinity: HashMap<String, HashSet<String>>,
    /// Counts of the hard spread constraints, in the order of `PodInfo::hard_spread`.
    pub spread: Vec<SpreadCounts>,
}

impl CycleState {
    /// Computes the state for `pod` against `view`.
    pub fn compute(pod: &PodInfo, view: &ClusterView) -> CycleState {
        let mut state = CycleState::default();
        if let Some(affinity) = pod.affinity.as_ref() {
            state.affinity_counts = count_terms(&affinity.required_affinity, view);
            state.matches_own_affinity =
                affinity.required_affinity.iter().all(|t| t.matches_pod(pod.namespace, pod.labels, view));
            let anti = count_terms(&affinity.required_anti_affinity, view);
            state.anti_affinity_values = anti.into_iter().map(|m| m.into_keys().collect()).collect();
        }
        if view.has_pods_with_required_anti_affinity() {
            state.existing_anti_affinity = existing_anti_affinity(pod, view);
        }
        let hard: Vec<&SpreadConstraint> = hard_spread(pod).collect();
        if !hard.is_empty() {
            state.spread = spread::count(&hard, pod, view);
        }
        state
    }
}

/// The hard (`DoNotSchedule`) spread constraints of the pod, in order.
pub fn hard_spread<'p>(pod: &'p PodInfo) -> impl Iterator<Item = &'p SpreadConstraint> + Clone {
    pod.spread.iter().filter(|c| c.hard)
}

fn topology_value<'n>(node: &'n NodeInfo, key: &str) -> Option<&'n str> {
    node.labels().get(key).map(String::as_str)
}

fn bump(map: &mut HashMap<String, u32>, value: &str) {
    match map.get_mut(value) {
        Some(n) => *n += 1,
        None => {
            map.insert(value.to_string(), 1);
        }
    }
}

/// Per term: topology value → placed pods the term selects.
fn count_terms(terms: &[AffinityTerm], view: &ClusterView) -> Vec<HashMap<String, u32>> {
    let mut counts = vec![HashMap::new(); terms.len()];
    if terms.is_empty() {
        return counts;
    }
    for node in view.nodes() {
        for (term, map) in terms.iter().zip(counts.iter_mut()) {
            let Some(value) = topology_value(node, &term.topology_key) else {
                continue;
            };
            for placed in node.pods() {
                if term.matches_pod(&placed.namespace, &placed.labels, view) {
                    bump(map, value);
                }
            }
        }
    }
    counts
}

fn existing_anti_affinity(pod: &PodInfo, view: &ClusterView) -> HashMap<String, HashSet<String>> {
    let mut forbidden: HashMap<String, HashSet<String>> = HashMap::new();
    for node in view.nodes().iter().filter(|n| n.pods_with_required_anti_affinity() > 0) {
        let terms =
            node.pods().iter().filter_map(|p| p.affinity.as_ref()).flat_map(|a| a.required_anti_affinity.iter());
        for term in terms {
            let Some(value) = topology_value(node, &term.topology_key) else {
                continue;
            };
            if term.matches_pod(pod.namespace, pod.labels, view) {
                forbidden.entry(term.topology_key.clone()).or_default().insert(value.to_string());
            }
        }
    }
    forbidden
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::test_util::{anti_affinity, labeled_node, labeled_pod, pod_affinity, HOSTNAME};

    #[test]
    fn affinity_counts_per_topology_value() {
        let mut view = ClusterView::from_nodes([
            labeled_node("n1", &[("zone", "a")]),
            labeled_node("n2", &[("zone", "a")]),
            labeled_node("n3", &[("zone", "b")]),
        ]);
        view.add_pod_to("n1", &labeled_pod("db1", &[("app", "db")]));
        view.add_pod_to("n2", &labeled_pod("db2", &[("app", "db")]));
        let incoming = pod_affinity(labeled_pod("web", &[("app", "web")]), "zone", &[("app", "db")]);
        let state = PodInfo::new(&incoming, &view).state;
        assert_eq!(state.affinity_counts[0].get("a"), Some(&2));
        assert_eq!(state.affinity_counts[0].get("b"), None);
        assert!(!state.matches_own_affinity);
    }

    #[test]
    fn existing_anti_affinity_forbids_domains() {
        let mut view = ClusterView::from_nodes([labeled_node("n1", &[]), labeled_node("n2", &[])]);
        view.add_pod_to("n1", &anti_affinity(labeled_pod("guard", &[]), HOSTNAME, &[("app", "web")]));
        let web = labeled_pod("web", &[("app", "web")]);
        let state = PodInfo::new(&web, &view).state;
        assert_eq!(state.existing_anti_affinity.get(HOSTNAME), Some(&HashSet::from(["n1".to_string()])));
        let db = labeled_pod("db", &[("app", "db")]);
        assert!(PodInfo::new(&db, &view).state.existing_anti_affinity.is_empty());
    }
}
