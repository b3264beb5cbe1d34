//! One scheduling decision: filter nodes round-robin, score the feasible ones, pick the best.
//!
//! Guarantees: the cycle state is built once; filters run in profile order and a node contributes the
//! reason(s) of its first failing filter only; the search starts at `start` (mod node count) and stops once
//! `num_feasible_nodes_to_find` feasible nodes are found, so `next_start` rotates the work across calls as
//! upstream does; ties between equal totals are broken by a hash of (pod identity, node name), which is
//! deterministic for a pod yet spreads different pods over tied nodes. No Node or Pod object is cloned.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use k8s_openapi::api::core::v1::Pod;
use serde_json::{json, Value};
use thiserror::Error;

use crate::scheduler::cluster::ClusterView;
use crate::scheduler::filters::Reason;
use crate::scheduler::node_info::NodeInfo;
use crate::scheduler::pod_info::PodInfo;
use crate::scheduler::profile::Profile;
use crate::scheduler::scores;

/// Below this many nodes every node is evaluated; above it, at least this many feasible nodes are sought.
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// Lower bound of the adaptive percentage.
pub const MIN_FEASIBLE_NODES_PERCENTAGE: usize = 5;
/// Adaptive percentage at zero nodes (it drops by 1 per 125 nodes).
pub const BASE_PERCENTAGE_OF_NODES_TO_SCORE: usize = 50;

/// Where the pod goes, and how much work it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The chosen node.
    pub node: String,
    /// The start index for the next pod.
    pub next_start: usize,
    /// Nodes run through the filters.
    pub evaluated: usize,
    /// Nodes that passed every filter.
    pub feasible: usize,
}

/// No node can take the pod: per-reason node counts, rendered as upstream's FailedScheduling message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct FitError {
    /// Nodes in the cluster.
    pub num_all_nodes: usize,
    /// Reason text → number of nodes rejected for it.
    pub reasons: BTreeMap<String, usize>,
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.num_all_nodes == 0 {
            return f.write_str("no nodes available to schedule pods");
        }
        write!(f, "0/{} nodes are available:", self.num_all_nodes)?;
        // Upstream sorts the rendered "<count> <reason>" strings.
        let mut parts: Vec<String> = self.reasons.iter().map(|(text, n)| format!("{n} {text}")).collect();
        parts.sort_unstable();
        if !parts.is_empty() {
            write!(f, " {}.", parts.join(", "))?;
        }
        Ok(())
    }
}

impl FitError {
    fn record(&mut self, reason: &Reason) {
        for text in reason.texts() {
            match self.reasons.get_mut(text) {
                Some(n) => *n += 1,
                None => {
                    self.reasons.insert(text.to_string(), 1);
                }
            }
        }
    }
}

/// How many feasible nodes to look for among `num_all_nodes` (`percentage` 0 = adaptive).
pub fn num_feasible_nodes_to_find(percentage: u32, num_all_nodes: usize) -> usize {
    let percentage = usize::try_from(percentage).unwrap_or(100);
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND || percentage >= 100 {
        return num_all_nodes;
    }
    let percentage = if percentage == 0 {
        BASE_PERCENTAGE_OF_NODES_TO_SCORE.saturating_sub(num_all_nodes / 125).max(MIN_FEASIBLE_NODES_PERCENTAGE)
    } else {
        percentage
    };
    (num_all_nodes * percentage / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
}

/// Chooses a node for `pod`, or explains why none fits.
pub fn schedule(pod: &Pod, nodes: &ClusterView, profile: &Profile, start: usize) -> Result<Decision, FitError> {
    let all = nodes.nodes();
    let mut failure = FitError { num_all_nodes: all.len(), reasons: BTreeMap::new() };
    if all.is_empty() {
        return Err(failure);
    }
    let info = PodInfo::new(pod, nodes);
    let wanted = num_feasible_nodes_to_find(profile.percentage_of_nodes_to_score, all.len());
    let start = start % all.len();
    let mut feasible: Vec<&NodeInfo> = Vec::with_capacity(wanted);
    let mut evaluated = 0;
    let (before, from_start) = all.split_at_checked(start).unwrap_or((all, &[]));
    for node in from_start.iter().chain(before) {
        if feasible.len() >= wanted {
            break;
        }
        evaluated += 1;
        match run_filters(&info, node, nodes, profile) {
            Ok(()) => feasible.push(node),
            Err(reason) => failure.record(&reason),
        }
    }
    let Some(chosen) = select(&info, &feasible, nodes, profile) else {
        return Err(failure);
    };
    Ok(Decision {
        node: chosen.name().to_string(),
        next_start: (start + evaluated) % all.len(),
        evaluated,
        feasible: feasible.len(),
    })
}

fn run_filters(pod: &PodInfo, node: &NodeInfo, view: &ClusterView, profile: &Profile) -> Result<(), Reason> {
    profile.filters.iter().try_for_each(|filter| (filter.function())(pod, node, view))
}

/// Scores the feasible nodes and returns the best (None when there is none).
fn select<'n>(pod: &PodInfo, feasible: &[&'n NodeInfo], view: &ClusterView, profile: &Profile) -> Option<&'n NodeInfo> {
    if feasible.len() <= 1 {
        return feasible.first().copied();
    }
    let mut totals = vec![0i64; feasible.len()];
    for weighted in &profile.scores {
        let scores = scores::run(weighted.plugin, pod, feasible, view, &profile.fit);
        for (total, score) in totals.iter_mut().zip(scores) {
            *total += score * weighted.weight;
        }
    }
    let seed = pod_seed(pod);
    let ranked = feasible.iter().zip(totals);
    ranked.max_by_key(|(node, total)| (*total, Reverse(tie_hash(seed, node.name())))).map(|(node, _)| *node)
}

fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn pod_seed(pod: &PodInfo) -> u64 {
    let uid = pod.pod.metadata.uid.as_deref().unwrap_or_default();
    let seed = fnv1a(0xcbf2_9ce4_8422_2325, pod.namespace.as_bytes());
    fnv1a(fnv1a(seed, pod.name.as_bytes()), uid.as_bytes())
}

/// Well-mixed hash of (pod seed, node name) for tie-breaking.
fn tie_hash(seed: u64, node: &str) -> u64 {
    let mut h = fnv1a(seed, node.as_bytes());
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h
}

/// The `PodScheduled=False` / `Unschedulable` pod condition for `err`, as JSON for a status patch.
pub fn unschedulable_condition(err: &FitError, now: DateTime<Utc>) -> Value {
    json!({
        "type": "PodScheduled",
        "status": "False",
        "reason": "Unschedulable",
        "message": err.to_string(),
        "lastProbeTime": null,
        "lastTransitionTime": now.to_rfc3339_opts(SecondsFormat::Secs, true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::profile::Config;
    use crate::scheduler::test_util::*;
    use std::collections::HashMap;
    use std::sync::Arc;
    use std::time::Instant;

    /// Schedules each pod in turn, recording it on the chosen node; returns node → count.
    fn place_all(view: &mut ClusterView, profile: &Profile, pods: Vec<Pod>) -> HashMap<String, usize> {
        let mut start = 0;
        let mut placed = HashMap::new();
        for pod in pods {
            let decision = schedule(&pod, view, profile, start).map_err(|e| e.to_string());
            let decision = decision.unwrap_or_else(|e| panic!("{e}"));
            start = decision.next_start;
            assert!(view.add_pod_to(&decision.node, &pod));
            *placed.entry(decision.node).or_default() += 1;
        }
        placed
    }

    fn three_nodes() -> ClusterView {
        ClusterView::from_nodes([node("n1"), node("n2"), node("n3")])
    }

    fn replicas(n: usize, owner: &str, cpu: &str) -> Vec<Pod> {
        (0..n)
            .map(|i| with_requests(owned(labeled_pod(&format!("{owner}-{i}"), &[("app", owner)]), owner), cpu, "100Mi"))
            .collect()
    }

    #[test]
    fn spreads_an_owners_pods_evenly() {
        let mut view = three_nodes();
        let placed = place_all(&mut view, &Profile::default(), replicas(6, "web", "100m"));
        assert_eq!(placed.values().copied().collect::<Vec<_>>(), vec![2, 2, 2], "{placed:?}");
    }

    #[test]
    fn spreads_pods_without_requests() {
        let mut view = three_nodes();
        let pods: Vec<Pod> = (0..6).map(|i| owned(pod(&format!("p{i}")), "rs")).collect();
        let placed = place_all(&mut view, &Profile::default(), pods);
        assert!(placed.values().all(|&n| n == 2), "{placed:?}");
    }

    #[test]
    fn exhausted_resources_render_upstream_message() {
        let small = (1..=3).map(|i| Arc::new(sized_node(&format!("small-{i}"), "1", "8Gi", &[])));
        // The gpu nodes are too small as well, but only their first failing filter (the taint) counts.
        let gpu = (1..=2).map(|i| {
            Arc::new(tainted(sized_node(&format!("gpu-{i}"), "1", "8Gi", &[]), "dedicated", "gpu", "NoSchedule"))
        });
        let view = ClusterView::from_nodes(small.chain(gpu));
        let err = schedule(&with_requests(pod("big"), "2", "1Gi"), &view, &Profile::default(), 0);
        let err = err.err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("0/5 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}, 3 Insufficient cpu.")
        );
    }

    #[test]
    fn no_nodes() {
        let err = schedule(&pod("p"), &ClusterView::default(), &Profile::default(), 0).err();
        assert_eq!(err.map(|e| e.to_string()).as_deref(), Some("no nodes available to schedule pods"));
    }

    #[test]
    fn node_selector_picks_the_labelled_node() {
        let view = ClusterView::from_nodes([node("n1"), labeled_node("n2", &[("disk", "ssd")]), node("n3")]);
        let mut p = pod("p");
        p.spec.get_or_insert_with(Default::default).node_selector = Some(labels(&[("disk", "ssd")]));
        for start in 0..3 {
            let decision = schedule(&p, &view, &Profile::default(), start).map(|d| (d.node, d.feasible, d.evaluated));
            assert_eq!(decision, Ok(("n2".to_string(), 1, 3)));
        }
    }

    #[test]
    fn taint_needs_toleration() {
        let gpu = Arc::new(tainted(sized_node("gpu", "8", "8Gi", &[]), "dedicated", "gpu", "NoSchedule"));
        let view = ClusterView::from_nodes([gpu]);
        let err = schedule(&pod("p"), &view, &Profile::default(), 0).err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}."));
        let tolerant = tolerating(pod("p"), "dedicated", "Equal", "gpu", "NoSchedule");
        assert_eq!(schedule(&tolerant, &view, &Profile::default(), 0).map(|d| d.node), Ok("gpu".to_string()));
    }

    #[test]
    fn anti_affinity_by_hostname_one_per_node() {
        let mut view = three_nodes();
        let pods: Vec<Pod> = (0..3)
            .map(|i| anti_affinity(labeled_pod(&format!("z{i}"), &[("app", "zk")]), HOSTNAME, &[("app", "zk")]))
            .collect();
        let placed = place_all(&mut view, &Profile::default(), pods);
        assert_eq!(placed.len(), 3, "{placed:?}");
        let fourth = anti_affinity(labeled_pod("z3", &[("app", "zk")]), HOSTNAME, &[("app", "zk")]);
        let err = schedule(&fourth, &view, &Profile::default(), 0).err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules."));
    }

    #[test]
    fn most_allocated_profile_packs() {
        let config = Config::parse(
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: packer\n  plugins:\n    score:\n      disabled: [{name: \"*\"}]\n      enabled: [{name: NodeResourcesMostAllocated}]\n",
        );
        let packer = config.ok().and_then(|c| c.profiles.into_iter().next()).unwrap_or_default();
        let mut packed = three_nodes();
        let placed = place_all(&mut packed, &packer, replicas(4, "batch", "500m"));
        assert_eq!(placed.len(), 1, "packed onto one node: {placed:?}");
        let mut spread_view = three_nodes();
        let placed = place_all(&mut spread_view, &Profile::default(), replicas(3, "batch", "500m"));
        assert_eq!(placed.len(), 3, "default spreads: {placed:?}");
    }

    fn many_nodes(n: usize) -> ClusterView {
        ClusterView::from_nodes((0..n).map(|i| node(&format!("n{i:05}"))))
    }

    #[test]
    fn percentage_of_nodes_to_score_limits_evaluation() {
        let view = many_nodes(1000);
        let profile = Profile { percentage_of_nodes_to_score: 10, ..Profile::default() };
        let decision = schedule(&pod("p"), &view, &profile, 950);
        assert_eq!(decision.as_ref().map(|d| (d.evaluated, d.feasible, d.next_start)), Ok((100, 100, 50)));
        let adaptive = schedule(&pod("p"), &view, &Profile::default(), 0).map(|d| d.evaluated);
        assert_eq!(adaptive, Ok(420), "50 - 1000/125 = 42%");
        assert_eq!(num_feasible_nodes_to_find(0, 50), 50);
        assert_eq!(num_feasible_nodes_to_find(0, 5000), 500);
        assert_eq!(num_feasible_nodes_to_find(0, 100_000), 5000, "floor of 5%");
        assert_eq!(num_feasible_nodes_to_find(1, 1000), 100, "at least 100 nodes");
        assert_eq!(num_feasible_nodes_to_find(100, 1000), 1000);
    }

    #[test]
    fn ties_are_deterministic_per_pod_and_fair_across_pods() {
        let view = many_nodes(4);
        let choice = |name: &str| schedule(&pod(name), &view, &Profile::default(), 0).map(|d| d.node);
        assert_eq!(choice("a"), choice("a"));
        let chosen: std::collections::HashSet<String> = (0..40).filter_map(|i| choice(&format!("p{i}")).ok()).collect();
        assert_eq!(chosen.len(), 4, "every tied node gets some pods: {chosen:?}");
    }

    #[test]
    fn condition_json() {
        let err = FitError { num_all_nodes: 2, reasons: BTreeMap::from([("Insufficient cpu".to_string(), 2)]) };
        let now =
            DateTime::parse_from_rfc3339("2024-05-01T10:00:00Z").map(|t| t.with_timezone(&Utc)).unwrap_or_default();
        let value = unschedulable_condition(&err, now);
        assert_eq!(value["type"], "PodScheduled");
        assert_eq!(value["status"], "False");
        assert_eq!(value["reason"], "Unschedulable");
        assert_eq!(value["message"], "0/2 nodes are available: 2 Insufficient cpu.");
        assert_eq!(value["lastTransitionTime"], "2024-05-01T10:00:00Z");
    }

    #[test]
    fn thousand_decisions_over_five_thousand_nodes() {
        let mut view = many_nodes(5000);
        for i in 0..5000 {
            for j in 0..10 {
                let p =
                    with_requests(owned(labeled_pod(&format!("p{i}-{j}"), &[("app", "bg")]), "bg"), "100m", "100Mi");
                view.add_pod_to(&format!("n{i:05}"), &p);
            }
        }
        let began = Instant::now();
        let mut start = 0;
        for k in 0..1000 {
            let p = with_requests(owned(labeled_pod(&format!("new-{k}"), &[("app", "web")]), "web"), "100m", "100Mi");
            let decision = schedule(&p, &view, &Profile::default(), start);
            let Ok(decision) = decision else { panic!("pod {k} unschedulable") };
            assert_eq!(decision.evaluated, 500);
            start = decision.next_start;
        }
        println!("1000 schedule() calls over 5000 nodes / 50000 pods: {:?}", began.elapsed());
        assert_eq!(start, 1000 * 500 % 5000);
    }
}
