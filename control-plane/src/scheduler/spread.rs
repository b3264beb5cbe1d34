//! Pod topology spread constraints: compilation and per-cycle counting.
//!
//! Guarantees: a constraint's selector includes its `matchLabelKeys` (using the incoming pod's labels);
//! counting visits each node once: nodes lacking any topology key of the counted constraints are skipped,
//! `nodeAffinityPolicy` (default Honor) and `nodeTaintsPolicy` (default Ignore) decide per constraint whether
//! a node's domain takes part, and only pods in the incoming pod's namespace whose labels match are counted.
//! Every taking-part domain is present in the counts, even with zero pods; the global minimum is 0 when
//! there are fewer domains than `minDomains`.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::Pod;

use crate::scheduler::cluster::ClusterView;
use crate::scheduler::node_info::NodeInfo;
use crate::scheduler::pod_info::PodInfo;
use crate::scheduler::selector::{Requirement, Selector};
use crate::scheduler::taints::{first_untolerated, NO_EXECUTE, NO_SCHEDULE};

/// One compiled `topologySpreadConstraint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpreadConstraint {
    /// Maximum permitted skew.
    pub max_skew: i64,
    /// Node label defining domains.
    pub topology_key: String,
    /// `whenUnsatisfiable: DoNotSchedule` (a filter) rather than `ScheduleAnyway` (a score).
    pub hard: bool,
    /// Which pods count.
    pub selector: Selector,
    /// `minDomains` (1 when unset).
    pub min_domains: usize,
    /// `nodeAffinityPolicy: Honor` (the default).
    pub honor_node_affinity: bool,
    /// `nodeTaintsPolicy: Honor` (default Ignore).
    pub honor_node_taints: bool,
}

impl SpreadConstraint {
    /// Compiles all constraints of `pod`.
    pub fn of_pod(pod: &Pod) -> Vec<SpreadConstraint> {
        let Some(constraints) = pod.spec.as_ref().and_then(|s| s.topology_spread_constraints.as_ref()) else {
            return Vec::new();
        };
        let labels = pod.metadata.labels.as_ref();
        constraints
            .iter()
            .map(|c| {
                let mut selector = Selector::from_optional(c.label_selector.as_ref());
                for key in c.match_label_keys.iter().flatten() {
                    if let Some(value) = labels.and_then(|l| l.get(key)) {
                        selector.and(Requirement::equals(key, value));
                    }
                }
                SpreadConstraint {
                    max_skew: i64::from(c.max_skew.max(1)),
                    topology_key: c.topology_key.clone(),
                    hard: c.when_unsatisfiable != "ScheduleAnyway",
                    selector,
                    min_domains: c.min_domains.and_then(|m| usize::try_from(m).ok()).unwrap_or(1).max(1),
                    honor_node_affinity: c.node_affinity_policy.as_deref() != Some("Ignore"),
                    honor_node_taints: c.node_taints_policy.as_deref() == Some("Honor"),
                }
            })
            .collect()
    }

    /// Matching pods on `node` (same namespace as the incoming pod, selector matches).
    pub fn count_on(&self, namespace: &str, node: &NodeInfo) -> i64 {
        let matching = node.pods().iter().filter(|p| p.namespace == namespace && self.selector.matches(&p.labels));
        i64::try_from(matching.count()).unwrap_or(i64::MAX)
    }

    fn includes(&self, pod: &PodInfo, node: &NodeInfo) -> bool {
        (!self.honor_node_affinity || pod.matches_node_affinity(node))
            && (!self.honor_node_taints
                || first_untolerated(node.taints(), pod.tolerations, &[NO_SCHEDULE, NO_EXECUTE]).is_none())
    }
}

/// Matching-pod counts of one constraint over its domains.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpreadCounts {
    /// Topology value → matching pods.
    pub counts: HashMap<String, i64>,
    /// The global minimum used for skew.
    pub min: i64,
}

impl SpreadCounts {
    /// Matching pods in the domain `value` (0 when unknown).
    pub fn get(&self, value: &str) -> i64 {
        self.counts.get(value).copied().unwrap_or(0)
    }
}

/// Whether `node` carries every topology key of `constraints`.
pub fn has_all_keys<'c>(node: &NodeInfo, mut constraints: impl Iterator<Item = &'c SpreadConstraint>) -> bool {
    let labels = node.labels();
    constraints.all(|c| labels.contains_key(&c.topology_key))
}

/// Counts matching pods per domain for each of `constraints`, over every node of the view.
pub fn count(constraints: &[&SpreadConstraint], pod: &PodInfo, view: &ClusterView) -> Vec<SpreadCounts> {
    let mut result = vec![SpreadCounts::default(); constraints.len()];
    for node in view.nodes() {
        if !has_all_keys(node, constraints.iter().copied()) {
            continue;
        }
        for (constraint, counts) in constraints.iter().zip(result.iter_mut()) {
            if !constraint.includes(pod, node) {
                continue;
            }
            let value = node.labels().get(&constraint.topology_key).map(String::as_str).unwrap_or_default();
            let found = constraint.count_on(pod.namespace, node);
            match counts.counts.get_mut(value) {
                Some(total) => *total += found,
                None => {
                    counts.counts.insert(value.to_string(), found);
                }
            }
        }
    }
    for (constraint, counts) in constraints.iter().zip(result.iter_mut()) {
        let enough_domains = counts.counts.len() >= constraint.min_domains;
        counts.min = if enough_domains { counts.counts.values().copied().min().unwrap_or(0) } else { 0 };
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::test_util::{labeled_node, labeled_pod, spread};

    #[test]
    fn counts_domains_including_empty_ones() {
        let mut view = ClusterView::from_nodes([
            labeled_node("n1", &[("zone", "a")]),
            labeled_node("n2", &[("zone", "a")]),
            labeled_node("n3", &[("zone", "b")]),
            labeled_node("n4", &[]),
        ]);
        view.add_pod_to("n1", &labeled_pod("p1", &[("app", "web")]));
        view.add_pod_to("n2", &labeled_pod("p2", &[("app", "web")]));
        view.add_pod_to("n2", &labeled_pod("p3", &[("app", "db")]));
        view.add_pod_to("n4", &labeled_pod("p4", &[("app", "web")]));
        let mut incoming = labeled_pod("new", &[("app", "web")]);
        spread(&mut incoming, "zone", 1, "DoNotSchedule", &[("app", "web")]);
        let info = PodInfo::new(&incoming, &view);
        let constraints: Vec<&SpreadConstraint> = info.spread.iter().collect();
        let counts = count(&constraints, &info, &view);
        assert_eq!(counts[0].get("a"), 2);
        assert_eq!(counts[0].get("b"), 0);
        assert_eq!(counts[0].counts.len(), 2, "n4 lacks the key");
        assert_eq!(counts[0].min, 0);
    }

    #[test]
    fn min_domains_forces_zero_minimum() {
        let mut view = ClusterView::from_nodes([labeled_node("n1", &[("zone", "a")])]);
        view.add_pod_to("n1", &labeled_pod("p1", &[("app", "web")]));
        let mut incoming = labeled_pod("new", &[("app", "web")]);
        spread(&mut incoming, "zone", 1, "DoNotSchedule", &[("app", "web")]);
        let info = PodInfo::new(&incoming, &view);
        let constraints: Vec<&SpreadConstraint> = info.spread.iter().collect();
        assert_eq!(count(&constraints, &info, &view)[0].min, 1);
        let mut compiled = info.spread[0].clone();
        compiled.min_domains = 2;
        assert_eq!(count(&[&compiled], &info, &view)[0].min, 0);
    }
}
