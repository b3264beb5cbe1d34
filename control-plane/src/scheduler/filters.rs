//! Filter plugins: can the pod run on this node?
//!
//! Guarantees: every filter is a pure `fn(&PodInfo, &NodeInfo, &ClusterView) -> Result<(), Reason>` that
//! costs O(pod terms + node taints/ports), never a rescan of the cluster (the scans happen once per cycle in
//! `CycleState`). Reason texts are upstream kube-scheduler's, so aggregated messages read the same.

use std::borrow::Cow;
use std::fmt;

use crate::scheduler::cluster::ClusterView;
use crate::scheduler::node_info::NodeInfo;
use crate::scheduler::pod_info::PodInfo;
use crate::scheduler::prefilter::hard_spread;
use crate::scheduler::spread;
use crate::scheduler::taints::{first_untolerated, tolerates_no_schedule_key, NO_EXECUTE, NO_SCHEDULE};

/// Upstream reason: node is cordoned.
pub const UNSCHEDULABLE: &str = "node(s) were unschedulable";
/// Reason: the node's Ready condition is not True.
pub const NOT_READY: &str = "node(s) were not ready";
/// Upstream reason: not enough free cpu.
pub const INSUFFICIENT_CPU: &str = "Insufficient cpu";
/// Upstream reason: not enough free memory.
pub const INSUFFICIENT_MEMORY: &str = "Insufficient memory";
/// Upstream reason: pod count at allocatable.pods.
pub const TOO_MANY_PODS: &str = "Too many pods";
/// Upstream reason: spec.nodeName names another node.
pub const NODE_NAME_MISMATCH: &str = "node(s) didn't match the requested node name";
/// Upstream reason: node selector / required node affinity.
pub const NODE_AFFINITY_MISMATCH: &str = "node(s) didn't match Pod's node affinity/selector";
/// Upstream reason: host port in use.
pub const PORTS_IN_USE: &str = "node(s) didn't have free ports for the requested pod ports";
/// Upstream reason: required pod affinity unsatisfied.
pub const AFFINITY_MISMATCH: &str = "node(s) didn't match pod affinity rules";
/// Upstream reason: required pod anti-affinity violated.
pub const ANTI_AFFINITY_MISMATCH: &str = "node(s) didn't match pod anti-affinity rules";
/// Upstream reason: an existing pod's required anti-affinity forbids the incoming pod.
pub const EXISTING_ANTI_AFFINITY_MISMATCH: &str = "node(s) didn't satisfy existing pods anti-affinity rules";
/// Upstream reason: a DoNotSchedule spread constraint would exceed maxSkew.
pub const SPREAD_MISMATCH: &str = "node(s) didn't match pod topology spread constraints";
/// Upstream reason: the node lacks a topology key of a DoNotSchedule spread constraint.
pub const SPREAD_LABEL_MISSING: &str = "node(s) didn't match pod topology spread constraints (missing required label)";

/// Taint placed on cordoned nodes; tolerating it lets a pod onto an unschedulable node.
pub const TAINT_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
/// Taint placed on not-ready nodes; tolerating it lets a pod onto a not-ready node.
pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";

/// Why a node was filtered out: one stable short text (plus, for NodeResourcesFit, further
/// insufficient resources, as upstream reports every one of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    text: Cow<'static, str>,
    more: Vec<&'static str>,
}

impl Reason {
    /// A reason with one text.
    pub fn new(text: impl Into<Cow<'static, str>>) -> Reason {
        Reason { text: text.into(), more: Vec::new() }
    }

    /// The first (usually only) text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// All texts, each counted once in the aggregated message.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.text.as_ref()).chain(self.more.iter().copied())
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The signature of every filter plugin.
pub type FilterFn = fn(&PodInfo, &NodeInfo, &ClusterView) -> Result<(), Reason>;

/// The filter plugins, by upstream name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterPlugin {
    /// Cordoned or not-ready nodes.
    NodeUnschedulable,
    /// `spec.nodeName`.
    NodeName,
    /// NoSchedule / NoExecute taints.
    TaintToleration,
    /// Node selector and required node affinity.
    NodeAffinity,
    /// Host ports.
    NodePorts,
    /// Cpu, memory, pod count.
    NodeResourcesFit,
    /// DoNotSchedule spread constraints.
    PodTopologySpread,
    /// Required inter-pod affinity and anti-affinity.
    InterPodAffinity,
}

impl FilterPlugin {
    /// Upstream default filter order.
    pub const DEFAULT: [FilterPlugin; 8] = [
        FilterPlugin::NodeUnschedulable,
        FilterPlugin::NodeName,
        FilterPlugin::TaintToleration,
        FilterPlugin::NodeAffinity,
        FilterPlugin::NodePorts,
        FilterPlugin::NodeResourcesFit,
        FilterPlugin::PodTopologySpread,
        FilterPlugin::InterPodAffinity,
    ];

    /// The upstream plugin name.
    pub fn name(self) -> &'static str {
        match self {
            FilterPlugin::NodeUnschedulable => "NodeUnschedulable",
            FilterPlugin::NodeName => "NodeName",
            FilterPlugin::TaintToleration => "TaintToleration",
            FilterPlugin::NodeAffinity => "NodeAffinity",
            FilterPlugin::NodePorts => "NodePorts",
            FilterPlugin::NodeResourcesFit => "NodeResourcesFit",
            FilterPlugin::PodTopologySpread => "PodTopologySpread",
            FilterPlugin::InterPodAffinity => "InterPodAffinity",
        }
    }

    /// The plugin with this upstream name.
    pub fn from_name(name: &str) -> Option<FilterPlugin> {
        FilterPlugin::DEFAULT.into_iter().find(|p| p.name() == name)
    }

    /// The plugin's filter function.
    pub fn function(self) -> FilterFn {
        match self {
            FilterPlugin::NodeUnschedulable => node_unschedulable,
            FilterPlugin::NodeName => node_name,
            FilterPlugin::TaintToleration => taint_toleration,
            FilterPlugin::NodeAffinity => node_affinity,
            FilterPlugin::NodePorts => node_ports,
            FilterPlugin::NodeResourcesFit => node_resources_fit,
            FilterPlugin::PodTopologySpread => pod_topology_spread,
            FilterPlugin::InterPodAffinity => inter_pod_affinity,
        }
    }
}

fn check(ok: bool, reason: &'static str) -> Result<(), Reason> {
    if ok {
        Ok(())
    } else {
        Err(Reason::new(reason))
    }
}

/// Rejects cordoned nodes and nodes whose Ready condition is not True, unless the pod tolerates the
/// matching `node.kubernetes.io/unschedulable` / `not-ready` NoSchedule taint.
pub fn node_unschedulable(pod: &PodInfo, node: &NodeInfo, _: &ClusterView) -> Result<(), Reason> {
    let cordoned = node.is_unschedulable() && !tolerates_no_schedule_key(pod.tolerations, TAINT_UNSCHEDULABLE);
    check(!cordoned, UNSCHEDULABLE)?;
    check(node.is_ready() || tolerates_no_schedule_key(pod.tolerations, TAINT_NOT_READY), NOT_READY)
}

/// When `spec.nodeName` is preset, only that node passes.
pub fn node_name(pod: &PodInfo, node: &NodeInfo, _: &ClusterView) -> Result<(), Reason> {
    check(pod.node_name.is_none_or(|n| n == node.name()), NODE_NAME_MISMATCH)
}

/// Every NoSchedule / NoExecute taint must be tolerated; reports the first one that is not.
pub fn taint_toleration(pod: &PodInfo, node: &NodeInfo, _: &ClusterView) -> Result<(), Reason> {
    match first_untolerated(node.taints(), pod.tolerations, &[NO_SCHEDULE, NO_EXECUTE]) {
        None => Ok(()),
        Some(taint) => Err(Reason::new(format!(
            "node(s) had untolerated taint {{{}: {}}}",
            taint.key,
            taint.value.as_deref().unwrap_or_default()
        ))),
    }
}

/// `spec.nodeSelector` and required node affinity.
pub fn node_affinity(pod: &PodInfo, node: &NodeInfo, _: &ClusterView) -> Result<(), Reason> {
    check(pod.matches_node_affinity(node), NODE_AFFINITY_MISMATCH)
}

/// No requested host port may conflict with one in use on the node.
pub fn node_ports(pod: &PodInfo, node: &NodeInfo, _: &ClusterView) -> Result<(), Reason> {
    let used = node.used_ports();
    check(!pod.ports.iter().any(|want| used.iter().any(|u| u.conflicts(want))), PORTS_IN_USE)
}

/// Pod count, cpu and memory must fit in what the node has left; reports every short resource.
pub fn node_resources_fit(pod: &PodInfo, node: &NodeInfo, _: &ClusterView) -> Result<(), Reason> {
    let alloc = node.allocatable();
    let used = node.requested();
    let want = pod.requests.actual;
    let pods_on_node = i64::try_from(node.pods().len()).unwrap_or(i64::MAX);
    let short = [
        (pods_on_node.saturating_add(1) > alloc.pods, TOO_MANY_PODS),
        (want.milli_cpu > 0 && want.milli_cpu > alloc.resources.milli_cpu - used.milli_cpu, INSUFFICIENT_CPU),
        (want.memory > 0 && want.memory > alloc.resources.memory - used.memory, INSUFFICIENT_MEMORY),
    ];
    let mut failing = short.iter().filter(|(failed, _)| *failed).map(|(_, text)| *text);
    match failing.next() {
        None => Ok(()),
        Some(first) => Err(Reason { text: Cow::Borrowed(first), more: failing.collect() }),
    }
}

/// DoNotSchedule spread constraints: the node needs every topology key, and placing the pod there must
/// keep `count(domain) + self - global minimum <= maxSkew`.
pub fn pod_topology_spread(pod: &PodInfo, node: &NodeInfo, _: &ClusterView) -> Result<(), Reason> {
    let hard = hard_spread(pod);
    if hard.clone().next().is_none() {
        return Ok(());
    }
    check(spread::has_all_keys(node, hard.clone()), SPREAD_LABEL_MISSING)?;
    let labels = node.labels();
    let within = hard.zip(pod.state.spread.iter()).all(|(constraint, counts)| {
        let value = labels.get(&constraint.topology_key).map(String::as_str).unwrap_or_default();
        let own = i64::from(constraint.selector.matches(pod.labels));
        counts.get(value) + own - counts.min <= constraint.max_skew
    });
    check(within, SPREAD_MISMATCH)
}

/// Required pod affinity, required pod anti-affinity, then placed pods' anti-affinity (upstream order).
pub fn inter_pod_affinity(pod: &PodInfo, node: &NodeInfo, _: &ClusterView) -> Result<(), Reason> {
    check(satisfies_affinity(pod, node), AFFINITY_MISMATCH)?;
    check(satisfies_anti_affinity(pod, node), ANTI_AFFINITY_MISMATCH)?;
    let labels = node.labels();
    let forbidden = pod
        .state
        .existing_anti_affinity
        .iter()
        .any(|(key, values)| labels.get(key).is_some_and(|v| values.contains(v)));
    check(!forbidden, EXISTING_ANTI_AFFINITY_MISMATCH)
}

fn satisfies_affinity(pod: &PodInfo, node: &NodeInfo) -> bool {
    let Some(affinity) = pod.affinity.as_ref() else {
        return true;
    };
    let labels = node.labels();
    let mut all_found = true;
    for (term, counts) in affinity.required_affinity.iter().zip(pod.state.affinity_counts.iter()) {
        match labels.get(&term.topology_key) {
            None => return false,
            Some(value) => all_found &= counts.get(value).is_some_and(|&n| n > 0),
        }
    }
    // The first pod of a group that selects itself may start anywhere the topology keys exist.
    all_found || (pod.state.affinity_counts.iter().all(|c| c.is_empty()) && pod.state.matches_own_affinity)
}

fn satisfies_anti_affinity(pod: &PodInfo, node: &NodeInfo) -> bool {
    let Some(affinity) = pod.affinity.as_ref() else {
        return true;
    };
    let labels = node.labels();
    let terms = affinity.required_anti_affinity.iter().zip(pod.state.anti_affinity_values.iter());
    !terms.into_iter().any(|(term, values)| labels.get(&term.topology_key).is_some_and(|v| values.contains(v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::test_util::*;
    use k8s_openapi::api::core::v1::{Container, ContainerPort, Node, Pod};
    use std::sync::Arc;

    fn run(filter: FilterFn, pod: &Pod, view: &ClusterView, node: &str) -> Result<(), String> {
        let info = PodInfo::new(pod, view);
        let node = view.node(node).ok_or("no node")?;
        filter(&info, node, view).map_err(|r| r.texts().collect::<Vec<_>>().join(" | "))
    }

    fn one(node: Node) -> ClusterView {
        ClusterView::from_nodes([Arc::new(node)])
    }

    #[test]
    fn unschedulable_and_not_ready() {
        let mut cordoned = sized_node("n1", "4", "8Gi", &[]);
        cordoned.spec.get_or_insert_with(Default::default).unschedulable = Some(true);
        let view = one(cordoned);
        assert_eq!(run(node_unschedulable, &pod("p"), &view, "n1"), Err(UNSCHEDULABLE.into()));
        let tolerant = tolerating(pod("p"), TAINT_UNSCHEDULABLE, "Exists", "", "NoSchedule");
        assert_eq!(run(node_unschedulable, &tolerant, &view, "n1"), Ok(()));
        let mut no_conditions = sized_node("n1", "4", "8Gi", &[]);
        no_conditions.status.get_or_insert_with(Default::default).conditions = None;
        assert_eq!(run(node_unschedulable, &pod("p"), &one(no_conditions), "n1"), Err(NOT_READY.into()));
        assert_eq!(run(node_unschedulable, &pod("p"), &one(sized_node("n1", "1", "1Gi", &[])), "n1"), Ok(()));
    }

    #[test]
    fn resources_fit() {
        let mut view = one(sized_node("n1", "2", "4Gi", &[]));
        view.add_pod_to("n1", &with_requests(pod("a"), "1500m", "1Gi"));
        assert_eq!(run(node_resources_fit, &with_requests(pod("p"), "500m", "3Gi"), &view, "n1"), Ok(()));
        assert_eq!(
            run(node_resources_fit, &with_requests(pod("p"), "600m", "3Gi"), &view, "n1"),
            Err(INSUFFICIENT_CPU.into())
        );
        assert_eq!(
            run(node_resources_fit, &with_requests(pod("p"), "1", "4Gi"), &view, "n1"),
            Err(format!("{INSUFFICIENT_CPU} | {INSUFFICIENT_MEMORY}"))
        );
        assert_eq!(run(node_resources_fit, &pod("p"), &view, "n1"), Ok(()), "no requests fit anywhere");
        let mut full = sized_node("n1", "2", "4Gi", &[]);
        full.status
            .get_or_insert_with(Default::default)
            .allocatable
            .get_or_insert_with(Default::default)
            .insert("pods".into(), k8s_openapi::apimachinery::pkg::api::resource::Quantity("1".into()));
        let mut view = one(full);
        view.add_pod_to("n1", &pod("a"));
        assert_eq!(run(node_resources_fit, &pod("p"), &view, "n1"), Err(TOO_MANY_PODS.into()));
    }

    #[test]
    fn node_name_filter() {
        let view = ClusterView::from_nodes([node("n1"), node("n2")]);
        let mut p = pod("p");
        p.spec.get_or_insert_with(Default::default).node_name = Some("n2".into());
        assert_eq!(run(node_name, &p, &view, "n1"), Err(NODE_NAME_MISMATCH.into()));
        assert_eq!(run(node_name, &p, &view, "n2"), Ok(()));
        assert_eq!(run(node_name, &pod("q"), &view, "n1"), Ok(()));
    }

    #[test]
    fn node_selector_filter() {
        let view = ClusterView::from_nodes([labeled_node("ssd", &[("disk", "ssd")]), node("plain")]);
        let mut p = pod("p");
        p.spec.get_or_insert_with(Default::default).node_selector = Some(labels(&[("disk", "ssd")]));
        assert_eq!(run(node_affinity, &p, &view, "ssd"), Ok(()));
        assert_eq!(run(node_affinity, &p, &view, "plain"), Err(NODE_AFFINITY_MISMATCH.into()));
    }

    #[test]
    fn taints_need_tolerations() {
        let view = one(tainted(sized_node("n1", "4", "8Gi", &[]), "dedicated", "gpu", "NoSchedule"));
        assert_eq!(
            run(taint_toleration, &pod("p"), &view, "n1"),
            Err("node(s) had untolerated taint {dedicated: gpu}".into())
        );
        let ok = tolerating(pod("p"), "dedicated", "Equal", "gpu", "NoSchedule");
        assert_eq!(run(taint_toleration, &ok, &view, "n1"), Ok(()));
        let not_ready = one(tainted(sized_node("n1", "4", "8Gi", &[]), TAINT_NOT_READY, "", "NoExecute"));
        assert_eq!(
            run(taint_toleration, &pod("p"), &not_ready, "n1"),
            Err("node(s) had untolerated taint {node.kubernetes.io/not-ready: }".into())
        );
        let soft = one(tainted(sized_node("n1", "4", "8Gi", &[]), "x", "y", "PreferNoSchedule"));
        assert_eq!(run(taint_toleration, &pod("p"), &soft, "n1"), Ok(()));
    }

    fn with_host_port(mut p: Pod, port: i32, ip: Option<&str>) -> Pod {
        let container_port = ContainerPort {
            container_port: port,
            host_port: Some(port),
            host_ip: ip.map(String::from),
            ..Default::default()
        };
        p.spec.get_or_insert_with(Default::default).containers =
            vec![Container { name: "c".into(), ports: Some(vec![container_port]), ..Default::default() }];
        p
    }

    #[test]
    fn host_ports() {
        let mut view = one(sized_node("n1", "4", "8Gi", &[]));
        view.add_pod_to("n1", &with_host_port(pod("a"), 80, Some("10.0.0.1")));
        assert_eq!(run(node_ports, &with_host_port(pod("p"), 80, None), &view, "n1"), Err(PORTS_IN_USE.into()));
        assert_eq!(run(node_ports, &with_host_port(pod("p"), 80, Some("10.0.0.2")), &view, "n1"), Ok(()));
        assert_eq!(run(node_ports, &with_host_port(pod("p"), 81, None), &view, "n1"), Ok(()));
    }

    fn zones() -> ClusterView {
        ClusterView::from_nodes([
            labeled_node("a1", &[("zone", "a")]),
            labeled_node("a2", &[("zone", "a")]),
            labeled_node("b1", &[("zone", "b")]),
            labeled_node("none", &[]),
        ])
    }

    #[test]
    fn anti_affinity_by_hostname_and_zone() {
        let mut view = zones();
        view.add_pod_to("a1", &labeled_pod("web-1", &[("app", "web")]));
        let by_host = anti_affinity(labeled_pod("web-2", &[("app", "web")]), HOSTNAME, &[("app", "web")]);
        assert_eq!(run(inter_pod_affinity, &by_host, &view, "a1"), Err(ANTI_AFFINITY_MISMATCH.into()));
        assert_eq!(run(inter_pod_affinity, &by_host, &view, "a2"), Ok(()));
        let by_zone = anti_affinity(labeled_pod("web-2", &[("app", "web")]), "zone", &[("app", "web")]);
        assert_eq!(run(inter_pod_affinity, &by_zone, &view, "a2"), Err(ANTI_AFFINITY_MISMATCH.into()));
        assert_eq!(run(inter_pod_affinity, &by_zone, &view, "b1"), Ok(()));
        assert_eq!(run(inter_pod_affinity, &by_zone, &view, "none"), Ok(()), "no key → no domain to conflict with");
    }

    #[test]
    fn existing_pods_anti_affinity_applies_to_newcomers() {
        let mut view = zones();
        view.add_pod_to("a1", &anti_affinity(labeled_pod("loner", &[]), "zone", &[("app", "web")]));
        let web = labeled_pod("web", &[("app", "web")]);
        assert_eq!(run(inter_pod_affinity, &web, &view, "a2"), Err(EXISTING_ANTI_AFFINITY_MISMATCH.into()));
        assert_eq!(run(inter_pod_affinity, &web, &view, "b1"), Ok(()));
        assert_eq!(run(inter_pod_affinity, &labeled_pod("db", &[("app", "db")]), &view, "a2"), Ok(()));
    }

    #[test]
    fn required_affinity() {
        let mut view = zones();
        let web = pod_affinity(labeled_pod("web", &[("app", "web")]), "zone", &[("app", "db")]);
        assert_eq!(run(inter_pod_affinity, &web, &view, "a1"), Err(AFFINITY_MISMATCH.into()), "no db anywhere");
        view.add_pod_to("a1", &labeled_pod("db", &[("app", "db")]));
        assert_eq!(run(inter_pod_affinity, &web, &view, "a2"), Ok(()), "same zone as db");
        assert_eq!(run(inter_pod_affinity, &web, &view, "b1"), Err(AFFINITY_MISMATCH.into()));
        let first = pod_affinity(labeled_pod("c-0", &[("app", "cache")]), "zone", &[("app", "cache")]);
        assert_eq!(run(inter_pod_affinity, &first, &view, "b1"), Ok(()), "first pod of a self-selecting group");
        assert_eq!(run(inter_pod_affinity, &first, &view, "none"), Err(AFFINITY_MISMATCH.into()));
    }

    #[test]
    fn topology_spread_hard() {
        let mut view = zones();
        view.add_pod_to("a1", &labeled_pod("w1", &[("app", "web")]));
        let mut p = labeled_pod("w2", &[("app", "web")]);
        spread(&mut p, "zone", 1, "DoNotSchedule", &[("app", "web")]);
        assert_eq!(run(pod_topology_spread, &p, &view, "a2"), Err(SPREAD_MISMATCH.into()), "zone a: 1+1-0 > 1");
        assert_eq!(run(pod_topology_spread, &p, &view, "b1"), Ok(()));
        assert_eq!(run(pod_topology_spread, &p, &view, "none"), Err(SPREAD_LABEL_MISSING.into()));
        view.add_pod_to("b1", &labeled_pod("w3", &[("app", "web")]));
        assert_eq!(run(pod_topology_spread, &p, &view, "a2"), Ok(()), "balanced again");
        let mut soft = labeled_pod("w4", &[("app", "web")]);
        spread(&mut soft, "zone", 1, "ScheduleAnyway", &[("app", "web")]);
        assert_eq!(run(pod_topology_spread, &soft, &view, "none"), Ok(()), "ScheduleAnyway never filters");
    }

    #[test]
    fn plugin_names_round_trip() {
        for plugin in FilterPlugin::DEFAULT {
            assert_eq!(FilterPlugin::from_name(plugin.name()), Some(plugin));
        }
        assert_eq!(FilterPlugin::from_name("VolumeBinding"), None);
    }
}
