//! Score plugins: how good is each feasible node?
//!
//! Guarantees: every plugin takes the pod, the feasible nodes and the view, and returns one score in
//! `0..=100` per feasible node (same order), already normalized the way upstream normalizes that plugin.
//! Per-cycle scans (inter-pod affinity pairs, spread counts) happen once per call, not per node. Resource
//! arithmetic is done in i128/f64 so huge allocatable values cannot overflow.

use std::collections::{HashMap, HashSet};

use crate::scheduler::affinity::{AffinityTerm, PodAffinity};
use crate::scheduler::cluster::ClusterView;
use crate::scheduler::node_info::{owner_key, NodeInfo};
use crate::scheduler::pod_info::PodInfo;
use crate::scheduler::requests::Resources;
use crate::scheduler::spread::{self, SpreadConstraint, SpreadCounts};
use crate::scheduler::taints::{tolerated, PREFER_NO_SCHEDULE};

/// Highest score a plugin gives.
pub const MAX_SCORE: i64 = 100;
/// Weight of a placed pod's *required* affinity term that selects the incoming pod (upstream default).
pub const HARD_POD_AFFINITY_WEIGHT: i64 = 1;
/// Share of the zone spread in SelectorSpread when nodes carry zone labels.
pub const ZONE_WEIGHTING: f64 = 2.0 / 3.0;
/// Hostname label (spread counts for it are taken from the node itself).
pub const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";

/// The score plugins, by upstream name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScorePlugin {
    /// Resource scoring with the profile's strategy (LeastAllocated by default).
    NodeResourcesFit,
    /// Resource scoring that always packs (MostAllocated).
    NodeResourcesMostAllocated,
    /// Prefers nodes whose cpu and memory use stay balanced.
    NodeResourcesBalancedAllocation,
    /// Fewer pods of the same controller owner → higher (zones weigh 2/3 when present).
    SelectorSpread,
    /// Sum of matching preferred node affinity weights.
    NodeAffinity,
    /// Preferred inter-pod affinity / anti-affinity.
    InterPodAffinity,
    /// Fewer intolerable PreferNoSchedule taints → higher.
    TaintToleration,
    /// ScheduleAnyway spread constraints: fewer matching pods → higher.
    PodTopologySpread,
}

impl ScorePlugin {
    /// Every score plugin.
    pub const ALL: [ScorePlugin; 8] = [
        ScorePlugin::NodeResourcesFit,
        ScorePlugin::NodeResourcesMostAllocated,
        ScorePlugin::NodeResourcesBalancedAllocation,
        ScorePlugin::SelectorSpread,
        ScorePlugin::NodeAffinity,
        ScorePlugin::InterPodAffinity,
        ScorePlugin::TaintToleration,
        ScorePlugin::PodTopologySpread,
    ];

    /// The default profile's score plugins, in order.
    pub const DEFAULT: [ScorePlugin; 7] = [
        ScorePlugin::NodeResourcesFit,
        ScorePlugin::NodeResourcesBalancedAllocation,
        ScorePlugin::SelectorSpread,
        ScorePlugin::NodeAffinity,
        ScorePlugin::InterPodAffinity,
        ScorePlugin::TaintToleration,
        ScorePlugin::PodTopologySpread,
    ];

    /// The plugin name used in configuration.
    pub fn name(self) -> &'static str {
        match self {
            ScorePlugin::NodeResourcesFit => "NodeResourcesFit",
            ScorePlugin::NodeResourcesMostAllocated => "NodeResourcesMostAllocated",
            ScorePlugin::NodeResourcesBalancedAllocation => "NodeResourcesBalancedAllocation",
            ScorePlugin::SelectorSpread => "SelectorSpread",
            ScorePlugin::NodeAffinity => "NodeAffinity",
            ScorePlugin::InterPodAffinity => "InterPodAffinity",
            ScorePlugin::TaintToleration => "TaintToleration",
            ScorePlugin::PodTopologySpread => "PodTopologySpread",
        }
    }

    /// The plugin with this name.
    pub fn from_name(name: &str) -> Option<ScorePlugin> {
        ScorePlugin::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Upstream default weight.
    pub fn default_weight(self) -> i64 {
        match self {
            ScorePlugin::TaintToleration => 3,
            ScorePlugin::NodeAffinity | ScorePlugin::InterPodAffinity | ScorePlugin::PodTopologySpread => 2,
            _ => 1,
        }
    }
}

/// How NodeResourcesFit scores resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FitStrategy {
    /// Emptier nodes score higher (spreads).
    #[default]
    LeastAllocated,
    /// Fuller nodes score higher (packs).
    MostAllocated,
}

/// NodeResourcesFit scoring arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FitScoring {
    /// Strategy.
    pub strategy: FitStrategy,
    /// Weight of cpu.
    pub cpu_weight: i64,
    /// Weight of memory.
    pub memory_weight: i64,
}

impl Default for FitScoring {
    fn default() -> Self {
        FitScoring { strategy: FitStrategy::LeastAllocated, cpu_weight: 1, memory_weight: 1 }
    }
}

/// Runs one score plugin over the feasible nodes.
pub fn run(plugin: ScorePlugin, pod: &PodInfo, nodes: &[&NodeInfo], view: &ClusterView, fit: &FitScoring) -> Vec<i64> {
    match plugin {
        ScorePlugin::NodeResourcesFit => resources(pod, nodes, fit),
        ScorePlugin::NodeResourcesMostAllocated => {
            resources(pod, nodes, &FitScoring { strategy: FitStrategy::MostAllocated, ..*fit })
        }
        ScorePlugin::NodeResourcesBalancedAllocation => balanced_allocation(pod, nodes),
        ScorePlugin::SelectorSpread => selector_spread(pod, nodes),
        ScorePlugin::NodeAffinity => node_affinity(pod, nodes),
        ScorePlugin::InterPodAffinity => inter_pod_affinity(pod, nodes, view),
        ScorePlugin::TaintToleration => taint_toleration(pod, nodes),
        ScorePlugin::PodTopologySpread => topology_spread(pod, nodes, view),
    }
}

/// LeastAllocated: `(capacity - requested) * 100 / capacity` (0 when over capacity).
pub fn least_allocated_ratio(requested: i64, capacity: i64) -> i64 {
    if capacity <= 0 || requested > capacity {
        return 0;
    }
    ratio(capacity - requested, capacity)
}

/// MostAllocated: `min(requested, capacity) * 100 / capacity`.
pub fn most_allocated_ratio(requested: i64, capacity: i64) -> i64 {
    if capacity <= 0 {
        return 0;
    }
    ratio(requested.clamp(0, capacity), capacity)
}

fn ratio(part: i64, whole: i64) -> i64 {
    if let Some(product) = part.checked_mul(MAX_SCORE) {
        return product / whole;
    }
    let scaled = i128::from(part) * i128::from(MAX_SCORE) / i128::from(whole);
    i64::try_from(scaled).unwrap_or(0)
}

/// NodeResourcesFit: weighted cpu/memory score of the non-zero requests including the pod.
pub fn resources(pod: &PodInfo, nodes: &[&NodeInfo], fit: &FitScoring) -> Vec<i64> {
    let per_resource = match fit.strategy {
        FitStrategy::LeastAllocated => least_allocated_ratio,
        FitStrategy::MostAllocated => most_allocated_ratio,
    };
    let total_weight = fit.cpu_weight + fit.memory_weight;
    nodes
        .iter()
        .map(|node| {
            if total_weight <= 0 {
                return 0;
            }
            let requested = node.non_zero_requested().plus(pod.requests.non_zero);
            let capacity = node.allocatable().resources;
            let cpu = per_resource(requested.milli_cpu, capacity.milli_cpu) * fit.cpu_weight;
            let memory = per_resource(requested.memory, capacity.memory) * fit.memory_weight;
            (cpu + memory) / total_weight
        })
        .collect()
}

fn fraction(requested: i64, capacity: i64) -> Option<f64> {
    (capacity > 0).then(|| (requested as f64 / capacity as f64).min(1.0))
}

/// BalancedAllocation: `(1 - |cpu fraction - memory fraction| / 2) * 100`, on exact requests with the pod.
pub fn balanced_allocation(pod: &PodInfo, nodes: &[&NodeInfo]) -> Vec<i64> {
    nodes
        .iter()
        .map(|node| {
            let requested: Resources = node.requested().plus(pod.requests.actual);
            let capacity = node.allocatable().resources;
            let cpu = fraction(requested.milli_cpu, capacity.milli_cpu);
            let memory = fraction(requested.memory, capacity.memory);
            let deviation = match (cpu, memory) {
                (Some(c), Some(m)) => (c - m).abs() / 2.0,
                _ => 0.0,
            };
            ((1.0 - deviation) * MAX_SCORE as f64) as i64
        })
        .collect()
}

/// SelectorSpread: fewer pods of the same namespace and controller owner on the node (and, weighted 2/3,
/// in its zone among the feasible nodes) → higher. Pods without a controller score 0 everywhere.
pub fn selector_spread(pod: &PodInfo, nodes: &[&NodeInfo]) -> Vec<i64> {
    let Some(owner) = pod.owner_uid else {
        return vec![0; nodes.len()];
    };
    let key = owner_key(pod.namespace, owner);
    let counts: Vec<i64> = nodes.iter().map(|n| i64::from(n.count_owned(key))).collect();
    let zones: Vec<Option<&str>> = nodes.iter().map(|n| n.zone()).collect();
    // Zones are few: a short list beats hashing every node's zone name.
    let mut zone_counts: Vec<(&str, i64)> = Vec::new();
    for (zone, count) in zones.iter().zip(&counts) {
        if let Some(z) = zone {
            match zone_counts.iter_mut().find(|(name, _)| name == z) {
                Some((_, c)) => *c += count,
                None => zone_counts.push((z, *count)),
            }
        }
    }
    let max_node = counts.iter().copied().max().unwrap_or(0);
    let max_zone = zone_counts.iter().map(|(_, c)| *c).max().unwrap_or(0);
    let spread_score = |count: i64, max: i64| {
        if max > 0 {
            MAX_SCORE as f64 * (max - count) as f64 / max as f64
        } else {
            MAX_SCORE as f64
        }
    };
    counts
        .iter()
        .zip(&zones)
        .map(|(&count, zone)| {
            let node_score = spread_score(count, max_node);
            let zone_count = zone.and_then(|z| zone_counts.iter().find(|(name, _)| *name == z).map(|(_, c)| *c));
            let score = match zone_count {
                Some(zone_count) => {
                    node_score * (1.0 - ZONE_WEIGHTING) + ZONE_WEIGHTING * spread_score(zone_count, max_zone)
                }
                None => node_score,
            };
            score as i64
        })
        .collect()
}

/// Scales so the best node gets 100 (all stay 0 when the best is 0).
pub fn normalize_to_max(raw: &[i64]) -> Vec<i64> {
    let max = raw.iter().copied().max().unwrap_or(0);
    raw.iter().map(|&s| if max > 0 { s * MAX_SCORE / max } else { 0 }).collect()
}

/// Reversed scaling: the lowest raw value scores 100 (all 100 when every raw value is 0).
pub fn normalize_reverse(raw: &[i64]) -> Vec<i64> {
    let max = raw.iter().copied().max().unwrap_or(0);
    raw.iter().map(|&s| if max > 0 { MAX_SCORE - s * MAX_SCORE / max } else { MAX_SCORE }).collect()
}

/// Min-max scaling to 0..=100 (all 0 when every raw value is equal).
pub fn normalize_min_max(raw: &[i64]) -> Vec<i64> {
    let min = raw.iter().copied().min().unwrap_or(0);
    let max = raw.iter().copied().max().unwrap_or(0);
    let span = i128::from(max) - i128::from(min);
    let scale = |s: i64| i64::try_from((i128::from(s) - i128::from(min)) * i128::from(MAX_SCORE) / span).unwrap_or(0);
    raw.iter().map(|&s| if span > 0 { scale(s) } else { 0 }).collect()
}

/// NodeAffinity: sum of the weights of matching preferred terms, normalized to the best node.
pub fn node_affinity(pod: &PodInfo, nodes: &[&NodeInfo]) -> Vec<i64> {
    if pod.preferred_node_affinity.is_empty() {
        return vec![0; nodes.len()];
    }
    let raw: Vec<i64> = nodes
        .iter()
        .map(|n| {
            pod.preferred_node_affinity.iter().filter(|(_, t)| t.matches(n.name(), n.labels())).map(|(w, _)| *w).sum()
        })
        .collect();
    normalize_to_max(&raw)
}

/// TaintToleration: fewer PreferNoSchedule taints the pod does not tolerate → higher.
pub fn taint_toleration(pod: &PodInfo, nodes: &[&NodeInfo]) -> Vec<i64> {
    let raw: Vec<i64> = nodes
        .iter()
        .map(|n| {
            let soft = n.taints().iter().filter(|t| t.effect == PREFER_NO_SCHEDULE);
            soft.filter(|t| !tolerated(pod.tolerations, t)).count() as i64
        })
        .collect();
    normalize_reverse(&raw)
}

/// Topology key → value → accumulated weight.
type PairWeights = HashMap<String, HashMap<String, i64>>;

fn positive(term: &AffinityTerm) -> i64 {
    term.weight
}

fn negative(term: &AffinityTerm) -> i64 {
    -term.weight
}

fn hard(_: &AffinityTerm) -> i64 {
    HARD_POD_AFFINITY_WEIGHT
}

/// Adds `weight(term)` to the node's domain of every term that `selects`.
fn add_terms(
    pairs: &mut PairWeights,
    node: &NodeInfo,
    terms: &[AffinityTerm],
    weight: fn(&AffinityTerm) -> i64,
    selects: impl Fn(&AffinityTerm) -> bool,
) {
    for term in terms.iter().filter(|t| selects(t)) {
        if let Some(value) = node.labels().get(&term.topology_key) {
            let values = pairs.entry(term.topology_key.clone()).or_default();
            *values.entry(value.clone()).or_default() += weight(term);
        }
    }
}

/// Accumulated affinity weight per topology domain, from every relevant placed pod.
fn affinity_pairs(pod: &PodInfo, own: Option<&PodAffinity>, view: &ClusterView) -> PairWeights {
    let mut pairs = PairWeights::new();
    let scanned = view.nodes().iter().filter(|n| own.is_some() || n.pods_with_affinity() > 0);
    for node in scanned {
        for placed in node.pods() {
            if let Some(mine) = own {
                let selects = |t: &AffinityTerm| t.matches_pod(&placed.namespace, &placed.labels, view);
                add_terms(&mut pairs, node, &mine.preferred_affinity, positive, selects);
                add_terms(&mut pairs, node, &mine.preferred_anti_affinity, negative, selects);
            }
            if let Some(theirs) = placed.affinity.as_deref() {
                let selects_me = |t: &AffinityTerm| t.matches_pod(pod.namespace, pod.labels, view);
                add_terms(&mut pairs, node, &theirs.required_affinity, hard, selects_me);
                add_terms(&mut pairs, node, &theirs.preferred_affinity, positive, selects_me);
                add_terms(&mut pairs, node, &theirs.preferred_anti_affinity, negative, selects_me);
            }
        }
    }
    pairs
}

/// InterPodAffinity: the incoming pod's preferred (anti-)affinity towards placed pods, plus placed pods'
/// required affinity (weight 1) and preferred (anti-)affinity towards the incoming pod, summed per topology
/// domain, then min-max normalized.
pub fn inter_pod_affinity(pod: &PodInfo, nodes: &[&NodeInfo], view: &ClusterView) -> Vec<i64> {
    let own =
        pod.affinity.as_ref().filter(|a| !a.preferred_affinity.is_empty() || !a.preferred_anti_affinity.is_empty());
    if own.is_none() && !view.has_pods_with_affinity() {
        return vec![0; nodes.len()];
    }
    let pairs = affinity_pairs(pod, own, view);
    let raw: Vec<i64> = nodes
        .iter()
        .map(|n| {
            let labels = n.labels();
            pairs.iter().filter_map(|(key, values)| labels.get(key).and_then(|v| values.get(v))).sum()
        })
        .collect();
    normalize_min_max(&raw)
}

/// Per soft constraint: `ln(distinct domains among the eligible feasible nodes + 2)`.
fn domain_weights(soft: &[&SpreadConstraint], nodes: &[&NodeInfo], eligible: &[bool]) -> Vec<f64> {
    soft.iter()
        .map(|c| {
            let eligible_nodes = nodes.iter().zip(eligible).filter(|(_, ok)| **ok);
            let domains: HashSet<&String> =
                eligible_nodes.filter_map(|(n, _)| n.labels().get(&c.topology_key)).collect();
            ((domains.len() + 2) as f64).ln()
        })
        .collect()
}

/// Per soft constraint: cluster-wide domain counts, or None for hostname (counted on the node itself).
fn soft_counts(soft: &[&SpreadConstraint], pod: &PodInfo, view: &ClusterView) -> Vec<Option<SpreadCounts>> {
    let zoned: Vec<&SpreadConstraint> = soft.iter().copied().filter(|c| c.topology_key != HOSTNAME_LABEL).collect();
    let mut counted = spread::count(&zoned, pod, view).into_iter();
    soft.iter().map(|c| if c.topology_key == HOSTNAME_LABEL { None } else { counted.next() }).collect()
}

fn node_spread_score(
    pod: &PodInfo,
    node: &NodeInfo,
    soft: &[&SpreadConstraint],
    counts: &[Option<SpreadCounts>],
    weights: &[f64],
) -> i64 {
    let per_constraint = soft.iter().zip(counts).zip(weights).map(|((c, counts), weight)| {
        let count = match counts {
            None => c.count_on(pod.namespace, node),
            Some(counts) => counts.get(node.labels().get(&c.topology_key).map_or("", String::as_str)),
        };
        count as f64 * weight + (c.max_skew - 1) as f64
    });
    per_constraint.sum::<f64>().round() as i64
}

/// PodTopologySpread (ScheduleAnyway): per constraint `count(domain) * ln(domains + 2) + maxSkew - 1`,
/// summed, then reversed so fewer matching pods score higher; nodes lacking a topology key score 0.
pub fn topology_spread(pod: &PodInfo, nodes: &[&NodeInfo], view: &ClusterView) -> Vec<i64> {
    let soft: Vec<&SpreadConstraint> = pod.spread.iter().filter(|c| !c.hard).collect();
    if soft.is_empty() {
        return vec![0; nodes.len()];
    }
    let eligible: Vec<bool> = nodes.iter().map(|n| spread::has_all_keys(n, soft.iter().copied())).collect();
    let weights = domain_weights(&soft, nodes, &eligible);
    let counts = soft_counts(&soft, pod, view);
    let raw: Vec<Option<i64>> = nodes
        .iter()
        .zip(&eligible)
        .map(|(node, &ok)| ok.then(|| node_spread_score(pod, node, &soft, &counts, &weights)))
        .collect();
    let present = raw.iter().flatten().copied();
    let (min, max) = present.fold((i64::MAX, i64::MIN), |(lo, hi), s| (lo.min(s), hi.max(s)));
    raw.iter()
        .map(|s| match s {
            None => 0,
            Some(_) if max <= 0 => MAX_SCORE,
            Some(s) => MAX_SCORE * (max + min - s) / max,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::node_info::ZONE_LABEL;
    use crate::scheduler::test_util::*;
    use k8s_openapi::api::core::v1::{
        Affinity, NodeAffinity, NodeSelectorRequirement, NodeSelectorTerm, Pod, PreferredSchedulingTerm,
    };
    use std::sync::Arc;

    fn scores(plugin: ScorePlugin, pod: &Pod, view: &ClusterView, fit: FitScoring) -> Vec<i64> {
        let info = PodInfo::new(pod, view);
        let nodes: Vec<&NodeInfo> = view.nodes().iter().collect();
        run(plugin, &info, &nodes, view, &fit)
    }

    fn default_scores(plugin: ScorePlugin, pod: &Pod, view: &ClusterView) -> Vec<i64> {
        scores(plugin, pod, view, FitScoring::default())
    }

    fn two_nodes_one_busy() -> ClusterView {
        let mut view = ClusterView::from_nodes([node("busy"), node("idle")]);
        view.add_pod_to("busy", &with_requests(pod("a"), "2", "4Gi"));
        view
    }

    #[test]
    fn least_and_most_allocated() {
        let view = two_nodes_one_busy();
        let p = with_requests(pod("p"), "1", "2Gi");
        assert_eq!(default_scores(ScorePlugin::NodeResourcesFit, &p, &view), vec![25, 75]);
        let most = FitScoring { strategy: FitStrategy::MostAllocated, ..FitScoring::default() };
        assert_eq!(scores(ScorePlugin::NodeResourcesFit, &p, &view, most), vec![75, 25]);
        assert_eq!(default_scores(ScorePlugin::NodeResourcesMostAllocated, &p, &view), vec![75, 25]);
        let cpu_only = FitScoring { cpu_weight: 1, memory_weight: 0, ..FitScoring::default() };
        assert_eq!(scores(ScorePlugin::NodeResourcesFit, &p, &view, cpu_only), vec![25, 75]);
        assert_eq!(least_allocated_ratio(5, 4), 0);
        assert_eq!(most_allocated_ratio(5, 4), 100);
    }

    #[test]
    fn non_zero_defaults_count_for_scoring() {
        let mut view = ClusterView::from_nodes([node("a"), node("b")]);
        view.add_pod_to("a", &pod("no-requests"));
        let s = default_scores(ScorePlugin::NodeResourcesFit, &pod("p"), &view);
        assert!(s[0] < s[1], "a pod without requests still makes its node less attractive: {s:?}");
    }

    #[test]
    fn balanced_allocation_prefers_even_use() {
        let mut view = ClusterView::from_nodes([node("cpu-heavy"), node("even")]);
        view.add_pod_to("cpu-heavy", &with_requests(pod("a"), "2", "0"));
        view.add_pod_to("even", &with_requests(pod("b"), "1", "2Gi"));
        // cpu-heavy: cpu 3/4, mem 2/8 → 100 - 25 = 75; even: cpu 2/4, mem 4/8 → 100.
        let p = with_requests(pod("p"), "1", "2Gi");
        assert_eq!(default_scores(ScorePlugin::NodeResourcesBalancedAllocation, &p, &view), vec![75, 100]);
    }

    #[test]
    fn selector_spread_prefers_fewer_siblings() {
        let mut view = ClusterView::from_nodes([node("a"), node("b"), node("c")]);
        view.add_pod_to("a", &owned(pod("s1"), "rs"));
        view.add_pod_to("a", &owned(pod("s2"), "rs"));
        view.add_pod_to("b", &owned(pod("s3"), "rs"));
        view.add_pod_to("c", &owned(pod("other"), "other-rs"));
        assert_eq!(default_scores(ScorePlugin::SelectorSpread, &owned(pod("p"), "rs"), &view), vec![0, 50, 100]);
        assert_eq!(default_scores(ScorePlugin::SelectorSpread, &pod("orphan"), &view), vec![0, 0, 0]);
    }

    #[test]
    fn selector_spread_weighs_zones() {
        let mut view = ClusterView::from_nodes([
            labeled_node("a1", &[(ZONE_LABEL, "a")]),
            labeled_node("a2", &[(ZONE_LABEL, "a")]),
            labeled_node("b1", &[(ZONE_LABEL, "b")]),
        ]);
        view.add_pod_to("a1", &owned(pod("s1"), "rs"));
        // Node counts 1,0,0 (max 1); zone counts a=1, b=0. a2 is empty but its zone is not.
        assert_eq!(default_scores(ScorePlugin::SelectorSpread, &owned(pod("p"), "rs"), &view), vec![0, 33, 100]);
    }

    #[test]
    fn preferred_node_affinity() {
        let view =
            ClusterView::from_nodes([labeled_node("ssd", &[("disk", "ssd")]), labeled_node("hdd", &[("disk", "hdd")])]);
        let mut p = pod("p");
        let term = |value: &str, weight: i32| PreferredSchedulingTerm {
            weight,
            preference: NodeSelectorTerm {
                match_expressions: Some(vec![NodeSelectorRequirement {
                    key: "disk".into(),
                    operator: "In".into(),
                    values: Some(vec![value.into()]),
                }]),
                match_fields: None,
            },
        };
        p.spec.get_or_insert_with(Default::default).affinity = Some(Affinity {
            node_affinity: Some(NodeAffinity {
                preferred_during_scheduling_ignored_during_execution: Some(vec![term("ssd", 80), term("hdd", 20)]),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(default_scores(ScorePlugin::NodeAffinity, &p, &view), vec![100, 25]);
        assert_eq!(default_scores(ScorePlugin::NodeAffinity, &pod("q"), &view), vec![0, 0]);
    }

    #[test]
    fn preferred_pod_affinity_and_anti_affinity() {
        let mut view = ClusterView::from_nodes([node("with-db"), node("with-web"), node("empty")]);
        view.add_pod_to("with-db", &labeled_pod("db", &[("app", "db")]));
        view.add_pod_to("with-web", &labeled_pod("web-1", &[("app", "web")]));
        let p = preferred(
            preferred(labeled_pod("web-2", &[("app", "web")]), 50, HOSTNAME, &[("app", "db")]),
            -50,
            HOSTNAME,
            &[("app", "web")],
        );
        assert_eq!(default_scores(ScorePlugin::InterPodAffinity, &p, &view), vec![100, 0, 50]);
        assert_eq!(default_scores(ScorePlugin::InterPodAffinity, &pod("plain"), &view), vec![0, 0, 0]);
    }

    #[test]
    fn placed_pods_preferences_attract_newcomers() {
        let mut view = ClusterView::from_nodes([node("a"), node("b")]);
        view.add_pod_to("b", &preferred(labeled_pod("cache", &[]), 10, HOSTNAME, &[("app", "web")]));
        assert_eq!(
            default_scores(ScorePlugin::InterPodAffinity, &labeled_pod("web", &[("app", "web")]), &view),
            vec![0, 100]
        );
    }

    #[test]
    fn prefer_no_schedule_taints() {
        let soft =
            |name: &str| Arc::new(tainted(sized_node(name, "4", "8Gi", &[]), "spot", "true", PREFER_NO_SCHEDULE));
        let view = ClusterView::from_nodes([soft("spot"), node("regular")]);
        assert_eq!(default_scores(ScorePlugin::TaintToleration, &pod("p"), &view), vec![0, 100]);
        let tolerant = tolerating(pod("p"), "spot", "Exists", "", "");
        assert_eq!(default_scores(ScorePlugin::TaintToleration, &tolerant, &view), vec![100, 100]);
    }

    #[test]
    fn soft_topology_spread() {
        let mut view = ClusterView::from_nodes([
            labeled_node("a1", &[("zone", "a")]),
            labeled_node("b1", &[("zone", "b")]),
            labeled_node("none", &[]),
        ]);
        view.add_pod_to("a1", &labeled_pod("w1", &[("app", "web")]));
        view.add_pod_to("a1", &labeled_pod("w2", &[("app", "web")]));
        let mut p = labeled_pod("w3", &[("app", "web")]);
        spread(&mut p, "zone", 1, "ScheduleAnyway", &[("app", "web")]);
        let s = default_scores(ScorePlugin::PodTopologySpread, &p, &view);
        assert_eq!(s[1], 100);
        assert!(s[0] < s[1], "{s:?}");
        assert_eq!(s[2], 0, "node without the key");
        let mut by_host = labeled_pod("w3", &[("app", "web")]);
        spread(&mut by_host, HOSTNAME, 1, "ScheduleAnyway", &[("app", "web")]);
        let s = default_scores(ScorePlugin::PodTopologySpread, &by_host, &view);
        assert!(s[0] < s[1] && s[1] == s[2], "{s:?}");
    }

    #[test]
    fn normalizers() {
        assert_eq!(normalize_to_max(&[0, 5, 10]), vec![0, 50, 100]);
        assert_eq!(normalize_reverse(&[0, 1, 2]), vec![100, 50, 0]);
        assert_eq!(normalize_reverse(&[0, 0]), vec![100, 100]);
        assert_eq!(normalize_min_max(&[-10, 0, 10]), vec![0, 50, 100]);
        assert_eq!(normalize_min_max(&[3, 3]), vec![0, 0]);
    }

    #[test]
    fn names_and_weights() {
        for plugin in ScorePlugin::ALL {
            assert_eq!(ScorePlugin::from_name(plugin.name()), Some(plugin));
        }
        assert_eq!(ScorePlugin::TaintToleration.default_weight(), 3);
        assert_eq!(ScorePlugin::NodeAffinity.default_weight(), 2);
        assert_eq!(ScorePlugin::NodeResourcesFit.default_weight(), 1);
    }
}
