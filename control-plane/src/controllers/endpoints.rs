//! Endpoints controller decisions: the desired `Endpoints` object of a Service, computed from its pods.
//!
//! Guarantees:
//! - Only Services with a non-empty selector and a type other than `ExternalName` are managed (an empty
//!   selector behaves like none, as it does after a round trip through the real API server's storage).
//! - Pods count when they are in the Service's namespace, match the selector, have `status.podIP`, are not in
//!   a terminal phase (`Succeeded`/`Failed`), and are not terminating (terminating pods count only when the
//!   Service sets `publishNotReadyAddresses`, which also makes every counted pod ready).
//! - Ready pods (Ready condition `True`) go to `addresses`, the others to `notReadyAddresses`, each with a
//!   `targetRef` to the pod, its `nodeName`, and `hostname` when the pod's subdomain names the Service.
//! - Ports come from the Service ports; a named `targetPort` is looked up in the pod's container ports (name
//!   and protocol); a pod whose named port does not resolve is left out for that port only. A headless
//!   Service without ports lists its pods in one port-less subset.
//! - Pods with identical resolved port sets share one subset. The output is canonical (ports, addresses and
//!   subsets sorted), and the current object is canonicalised before comparing, so an unchanged input never
//!   causes a write: `Update` (carrying the current `resourceVersion`) happens only when subsets or labels
//!   differ; `Create` only when no Endpoints object exists.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Pod, Service, ServicePort,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::runtime::action::Action;

/// Label the controller adds to the Endpoints of a headless Service (`clusterIP: None`).
pub const HEADLESS_LABEL: &str = "service.kubernetes.io/headless";

/// The kind string of the objects written here.
const KIND: &str = "Endpoints";

/// Sort key of an endpoint port: (name, port, protocol, appProtocol).
type PortKey = (String, i32, String, String);

/// Decides the writes that make the Endpoints object named like `svc` match the pods it selects.
/// `pods` are the pods of the Service's namespace; `current` is the existing Endpoints object, if any.
pub fn reconcile_endpoints(svc: &Service, pods: &[Arc<Pod>], current: Option<&Endpoints>) -> Vec<Action> {
    let Some(selector) = managed_selector(svc) else {
        return Vec::new();
    };
    let namespace = svc.metadata.namespace.clone();
    let name = svc.metadata.name.clone().unwrap_or_default();
    let subsets = desired_subsets(svc, selector, pods);
    let labels = desired_labels(svc);
    match current {
        None => {
            let metadata = ObjectMeta {
                name: Some(name),
                namespace: namespace.clone(),
                labels: non_empty(labels),
                ..ObjectMeta::default()
            };
            let object = Endpoints { metadata, subsets: non_empty(subsets) };
            to_value(&object).map(|object| Action::Create { kind: KIND, namespace, object }).into_iter().collect()
        }
        Some(current) => {
            let current_subsets = canonical_subsets(current.subsets.clone().unwrap_or_default());
            let current_labels = current.metadata.labels.clone().unwrap_or_default();
            if current_subsets == subsets && current_labels == labels {
                return Vec::new();
            }
            let mut object = current.clone();
            object.metadata.labels = non_empty(labels);
            object.subsets = non_empty(subsets);
            to_value(&object).map(|object| Action::Update { kind: KIND, namespace, name, object }).into_iter().collect()
        }
    }
}

/// The write that removes the Endpoints of a deleted Service.
pub fn endpoints_for_deleted_service(namespace: &str, name: &str) -> Action {
    Action::Delete {
        kind: KIND,
        namespace: Some(namespace.to_string()),
        name: name.to_string(),
        uid: None,
        propagation: None,
        grace_period_seconds: None,
    }
}

/// The selector when the Service's Endpoints are managed by this controller.
fn managed_selector(svc: &Service) -> Option<&BTreeMap<String, String>> {
    let spec = svc.spec.as_ref()?;
    if spec.type_.as_deref() == Some("ExternalName") {
        return None;
    }
    spec.selector.as_ref().filter(|s| !s.is_empty())
}

fn is_headless(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None")
}

/// Label on every Endpoints object this controller manages (so it removes
/// only its own when a Service goes away, never hand-made ones).
pub const MANAGED_LABEL: &str = "endpoints.helmsman.dev/managed-by";

fn desired_labels(svc: &Service) -> BTreeMap<String, String> {
    let mut labels = svc.metadata.labels.clone().unwrap_or_default();
    labels.insert(MANAGED_LABEL.to_string(), "endpoints-controller".to_string());
    if is_headless(svc) {
        labels.insert(HEADLESS_LABEL.to_string(), String::new());
    }
    labels
}

/// Groups the selected pods by resolved port set and returns canonical subsets.
fn desired_subsets(svc: &Service, selector: &BTreeMap<String, String>, pods: &[Arc<Pod>]) -> Vec<EndpointSubset> {
    let spec = svc.spec.as_ref();
    let publish_not_ready = spec.and_then(|s| s.publish_not_ready_addresses).unwrap_or(false);
    let service_ports: &[ServicePort] = spec.and_then(|s| s.ports.as_deref()).unwrap_or_default();
    let mut groups: BTreeMap<Vec<PortKey>, (Vec<EndpointAddress>, Vec<EndpointAddress>)> = BTreeMap::new();
    for pod in pods.iter().filter(|p| selects(svc, selector, p) && counts(p, publish_not_ready)) {
        let ports: Vec<EndpointPort> = service_ports.iter().filter_map(|sp| resolve_port(sp, pod)).collect();
        if ports.is_empty() && !(service_ports.is_empty() && is_headless(svc)) {
            continue;
        }
        let Some(address) = endpoint_address(svc, pod) else { continue };
        let (ready, not_ready) = groups.entry(ports.iter().map(port_key).collect()).or_default();
        if publish_not_ready || is_ready(pod) {
            ready.push(address);
        } else {
            not_ready.push(address);
        }
    }
    let subsets = groups.into_iter().map(|(key, (ready, not_ready))| EndpointSubset {
        addresses: Some(ready),
        not_ready_addresses: Some(not_ready),
        ports: Some(key.into_iter().map(port_from_key).collect()),
    });
    canonical_subsets(subsets.collect())
}

/// True when `pod` is in the Service's namespace and carries every selector label.
fn selects(svc: &Service, selector: &BTreeMap<String, String>, pod: &Pod) -> bool {
    let same_namespace = pod.metadata.namespace.is_none() || pod.metadata.namespace == svc.metadata.namespace;
    let labels = pod.metadata.labels.as_ref();
    same_namespace && selector.iter().all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

/// True when the pod belongs in the Endpoints at all (ready or not).
fn counts(pod: &Pod, publish_not_ready: bool) -> bool {
    let status = pod.status.as_ref();
    let has_ip = status.and_then(|s| s.pod_ip.as_deref()).is_some_and(|ip| !ip.is_empty());
    let terminal = matches!(status.and_then(|s| s.phase.as_deref()), Some("Succeeded" | "Failed"));
    let terminating = pod.metadata.deletion_timestamp.is_some();
    has_ip && !terminal && (publish_not_ready || !terminating)
}

/// True when the pod's Ready condition is `True`.
fn is_ready(pod: &Pod) -> bool {
    let conditions = pod.status.as_ref().and_then(|s| s.conditions.as_deref()).unwrap_or_default();
    conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True")
}

fn endpoint_address(svc: &Service, pod: &Pod) -> Option<EndpointAddress> {
    let ip = pod.status.as_ref()?.pod_ip.clone()?;
    let spec = pod.spec.as_ref();
    let hostname = spec
        .filter(|s| s.subdomain.is_some() && s.subdomain == svc.metadata.name)
        .and_then(|s| s.hostname.clone())
        .filter(|h| !h.is_empty());
    let target_ref = ObjectReference {
        kind: Some("Pod".to_string()),
        namespace: pod.metadata.namespace.clone().or_else(|| svc.metadata.namespace.clone()),
        name: pod.metadata.name.clone(),
        uid: pod.metadata.uid.clone(),
        ..ObjectReference::default()
    };
    Some(EndpointAddress {
        ip,
        hostname,
        node_name: spec.and_then(|s| s.node_name.clone()),
        target_ref: Some(target_ref),
    })
}

/// The endpoint port for one Service port on one pod; `None` when a named target port does not resolve.
fn resolve_port(service_port: &ServicePort, pod: &Pod) -> Option<EndpointPort> {
    let protocol = service_port.protocol.clone().unwrap_or_else(|| "TCP".to_string());
    let port = match &service_port.target_port {
        None => service_port.port,
        Some(IntOrString::Int(0)) => service_port.port,
        Some(IntOrString::Int(n)) => *n,
        Some(IntOrString::String(name)) => named_container_port(pod, name, &protocol)?,
    };
    Some(EndpointPort {
        name: service_port.name.clone().filter(|n| !n.is_empty()),
        port,
        protocol: Some(protocol),
        app_protocol: service_port.app_protocol.clone(),
    })
}

fn named_container_port(pod: &Pod, name: &str, protocol: &str) -> Option<i32> {
    let containers = pod.spec.as_ref().map(|s| s.containers.as_slice()).unwrap_or_default();
    containers
        .iter()
        .flat_map(|c| c.ports.as_deref().unwrap_or_default())
        .find(|p| p.name.as_deref() == Some(name) && p.protocol.as_deref().unwrap_or("TCP") == protocol)
        .map(|p| p.container_port)
}

fn port_key(port: &EndpointPort) -> PortKey {
    (
        port.name.clone().unwrap_or_default(),
        port.port,
        port.protocol.clone().unwrap_or_else(|| "TCP".to_string()),
        port.app_protocol.clone().unwrap_or_default(),
    )
}

fn port_from_key((name, port, protocol, app_protocol): PortKey) -> EndpointPort {
    EndpointPort {
        name: Some(name).filter(|n| !n.is_empty()),
        port,
        protocol: Some(protocol),
        app_protocol: Some(app_protocol).filter(|a| !a.is_empty()),
    }
}

/// Sorts ports, addresses and subsets; drops subsets without addresses; empty lists become `None`.
fn canonical_subsets(subsets: Vec<EndpointSubset>) -> Vec<EndpointSubset> {
    let mut out: Vec<EndpointSubset> = subsets
        .into_iter()
        .map(|s| {
            let mut ports: Vec<PortKey> = s.ports.unwrap_or_default().iter().map(port_key).collect();
            ports.sort();
            EndpointSubset {
                addresses: non_empty(sorted_addresses(s.addresses)),
                not_ready_addresses: non_empty(sorted_addresses(s.not_ready_addresses)),
                ports: non_empty(ports.into_iter().map(port_from_key).collect()),
            }
        })
        .filter(|s| s.addresses.is_some() || s.not_ready_addresses.is_some())
        .collect();
    out.sort_by_cached_key(subset_key);
    out
}

fn sorted_addresses(addresses: Option<Vec<EndpointAddress>>) -> Vec<EndpointAddress> {
    let mut addresses = addresses.unwrap_or_default();
    addresses.sort_by_cached_key(|a| (a.ip.clone(), a.target_ref.as_ref().and_then(|r| r.name.clone())));
    addresses
}

/// Orders subsets by their ports, then by their first address.
fn subset_key(subset: &EndpointSubset) -> (Vec<PortKey>, String, String) {
    let ports = subset.ports.as_deref().unwrap_or_default().iter().map(port_key).collect();
    let first = |a: &Option<Vec<EndpointAddress>>| a.as_ref().and_then(|v| v.first()).map(|a| a.ip.clone());
    (ports, first(&subset.addresses).unwrap_or_default(), first(&subset.not_ready_addresses).unwrap_or_default())
}

/// `None` for an empty collection, so "absent" and "empty" compare and serialise the same way.
fn non_empty<C: IntoIterator + Default + PartialEq>(c: C) -> Option<C> {
    Some(c).filter(|c| *c != C::default())
}

fn to_value(object: &Endpoints) -> Option<serde_json::Value> {
    serde_json::to_value(object).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, ContainerPort, PodCondition, PodSpec, PodStatus, ServiceSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn labels(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
        Some(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    fn svc_port(name: &str, port: i32, target: Option<IntOrString>) -> ServicePort {
        ServicePort {
            name: Some(name.into()),
            port,
            target_port: target,
            protocol: Some("TCP".into()),
            ..Default::default()
        }
    }

    fn service(ports: Vec<ServicePort>) -> Service {
        Service {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("ns".into()),
                labels: labels(&[("team", "a")]),
                ..Default::default()
            },
            spec: Some(ServiceSpec { selector: labels(&[("app", "web")]), ports: Some(ports), ..Default::default() }),
            status: None,
        }
    }

    fn pod(name: &str, ip: &str, ready: bool) -> Arc<Pod> {
        Arc::new(Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                uid: Some(format!("uid-{name}")),
                labels: labels(&[("app", "web")]),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: Some("node-1".into()),
                containers: vec![Container {
                    name: "c".into(),
                    ports: Some(vec![ContainerPort {
                        name: Some("http".into()),
                        container_port: 8080,
                        ..Default::default()
                    }]),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            status: Some(PodStatus {
                pod_ip: Some(ip.into()),
                phase: Some("Running".into()),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        })
    }

    fn with<F: FnOnce(&mut Pod)>(pod: Arc<Pod>, f: F) -> Arc<Pod> {
        let mut pod = (*pod).clone();
        f(&mut pod);
        Arc::new(pod)
    }

    fn created(actions: &[Action]) -> Endpoints {
        match actions {
            [Action::Create { kind: "Endpoints", object, .. }] => {
                serde_json::from_value(object.clone()).unwrap_or_else(|e| panic!("bad object: {e}"))
            }
            other => panic!("expected one Create, got {other:?}"),
        }
    }

    fn ips(addresses: &Option<Vec<EndpointAddress>>) -> Vec<&str> {
        addresses.iter().flatten().map(|a| a.ip.as_str()).collect()
    }

    #[test]
    fn creates_endpoints_with_ready_and_not_ready_addresses() {
        let svc = service(vec![svc_port("http", 80, Some(IntOrString::Int(8080)))]);
        let other = with(pod("x", "10.0.0.9", true), |p| p.metadata.labels = labels(&[("app", "db")]));
        let no_ip = with(pod("n", "", true), |p| p.status.as_mut().into_iter().for_each(|s| s.pod_ip = None));
        let pods =
            vec![pod("b", "10.0.0.2", true), pod("a", "10.0.0.1", true), pod("c", "10.0.0.3", false), other, no_ip];
        let actions = reconcile_endpoints(&svc, &pods, None);
        let ep = created(&actions);
        assert_eq!(ep.metadata.labels, labels(&[("team", "a"), (MANAGED_LABEL, "endpoints-controller")]));
        let subsets = ep.subsets.unwrap_or_default();
        assert_eq!(subsets.len(), 1);
        assert_eq!(ips(&subsets[0].addresses), vec!["10.0.0.1", "10.0.0.2"]);
        assert_eq!(ips(&subsets[0].not_ready_addresses), vec!["10.0.0.3"]);
        let ports = subsets[0].ports.clone().unwrap_or_default();
        assert_eq!(ports[0].port, 8080);
        assert_eq!(ports[0].name.as_deref(), Some("http"));
        let first = &subsets[0].addresses.as_ref().unwrap_or_else(|| panic!("no addresses"))[0];
        let target = first.target_ref.clone().unwrap_or_default();
        assert_eq!((target.kind.as_deref(), target.name.as_deref()), (Some("Pod"), Some("a")));
        assert_eq!(target.uid.as_deref(), Some("uid-a"));
        assert_eq!(first.node_name.as_deref(), Some("node-1"));
    }

    #[test]
    fn terminating_pods_are_excluded_unless_publishing_not_ready() {
        let mut svc = service(vec![svc_port("http", 80, None)]);
        let terminating = with(pod("t", "10.0.0.5", true), |p| {
            p.metadata.deletion_timestamp = Some(Time(chrono::DateTime::UNIX_EPOCH))
        });
        let pods = vec![terminating, pod("u", "10.0.0.6", false)];
        let ep = created(&reconcile_endpoints(&svc, &pods, None));
        let subsets = ep.subsets.unwrap_or_default();
        assert_eq!(ips(&subsets[0].addresses), Vec::<&str>::new());
        assert_eq!(ips(&subsets[0].not_ready_addresses), vec!["10.0.0.6"]);
        assert_eq!(subsets[0].ports.as_ref().map(|p| p[0].port), Some(80), "no targetPort means port");

        if let Some(spec) = svc.spec.as_mut() {
            spec.publish_not_ready_addresses = Some(true);
        }
        let ep = created(&reconcile_endpoints(&svc, &pods, None));
        let subsets = ep.subsets.unwrap_or_default();
        assert_eq!(ips(&subsets[0].addresses), vec!["10.0.0.5", "10.0.0.6"]);
        assert_eq!(subsets[0].not_ready_addresses, None);
    }

    #[test]
    fn named_target_port_groups_pods_by_resolved_ports() {
        let svc = service(vec![
            svc_port("http", 80, Some(IntOrString::String("http".into()))),
            svc_port("metrics", 9090, Some(IntOrString::Int(9090))),
        ]);
        let other_port = with(pod("b", "10.0.0.2", true), |p| {
            if let Some(port) = p.spec.as_mut().and_then(|s| s.containers[0].ports.as_mut()) {
                port[0].container_port = 8081;
            }
        });
        let unnamed = with(pod("c", "10.0.0.3", true), |p| {
            p.spec.as_mut().into_iter().for_each(|s| s.containers[0].ports = None)
        });
        let pods = vec![pod("a", "10.0.0.1", true), other_port, unnamed, pod("d", "10.0.0.4", true)];
        let ep = created(&reconcile_endpoints(&svc, &pods, None));
        let summary: Vec<(Vec<i32>, Vec<&str>)> = ep
            .subsets
            .iter()
            .flatten()
            .map(|s| (s.ports.iter().flatten().map(|p| p.port).collect(), ips(&s.addresses)))
            .collect();
        assert_eq!(
            summary,
            vec![
                (vec![8080, 9090], vec!["10.0.0.1", "10.0.0.4"]),
                (vec![8081, 9090], vec!["10.0.0.2"]),
                (vec![9090], vec!["10.0.0.3"]),
            ]
        );
    }

    #[test]
    fn unchanged_input_yields_no_write_even_if_current_is_unsorted() {
        let svc = service(vec![svc_port("http", 80, Some(IntOrString::Int(8080)))]);
        let pods = vec![pod("a", "10.0.0.1", true), pod("b", "10.0.0.2", true)];
        let mut current = created(&reconcile_endpoints(&svc, &pods, None));
        current.metadata.resource_version = Some("7".into());
        if let Some(addresses) = current.subsets.as_mut().and_then(|s| s[0].addresses.as_mut()) {
            addresses.reverse();
        }
        assert_eq!(reconcile_endpoints(&svc, &pods, Some(&current)), vec![]);
    }

    #[test]
    fn changed_pods_or_labels_update_with_resource_version() {
        let svc = service(vec![svc_port("http", 80, Some(IntOrString::Int(8080)))]);
        let pods = vec![pod("a", "10.0.0.1", true)];
        let mut current = created(&reconcile_endpoints(&svc, &pods, None));
        current.metadata.resource_version = Some("7".into());

        let flipped = vec![pod("a", "10.0.0.1", false)];
        let actions = reconcile_endpoints(&svc, &flipped, Some(&current));
        let [Action::Update { kind: "Endpoints", name, object, .. }] = actions.as_slice() else {
            panic!("expected an update, got {actions:?}");
        };
        assert_eq!(name, "web");
        assert_eq!(object["metadata"]["resourceVersion"], "7");
        assert_eq!(object["subsets"][0]["notReadyAddresses"][0]["ip"], "10.0.0.1");

        let mut relabelled = svc.clone();
        relabelled.metadata.labels = labels(&[("team", "b")]);
        let actions = reconcile_endpoints(&relabelled, &pods, Some(&current));
        let [Action::Update { object, .. }] = actions.as_slice() else { panic!("expected an update") };
        assert_eq!(object["metadata"]["labels"]["team"], "b");
    }

    #[test]
    fn unmanaged_services_produce_nothing() {
        let pods = vec![pod("a", "10.0.0.1", true)];
        let mut no_selector = service(vec![]);
        no_selector.spec.as_mut().into_iter().for_each(|s| s.selector = None);
        assert_eq!(reconcile_endpoints(&no_selector, &pods, None), vec![]);
        let mut external = service(vec![svc_port("http", 80, None)]);
        external.spec.as_mut().into_iter().for_each(|s| s.type_ = Some("ExternalName".into()));
        assert_eq!(reconcile_endpoints(&external, &pods, None), vec![]);
    }

    #[test]
    fn headless_service_without_ports_lists_pods_and_gets_label() {
        let mut svc = service(vec![]);
        svc.spec.as_mut().into_iter().for_each(|s| s.cluster_ip = Some("None".into()));
        let sub = with(pod("a", "10.0.0.1", true), |p| {
            p.spec.as_mut().into_iter().for_each(|s| {
                s.hostname = Some("a-host".into());
                s.subdomain = Some("web".into());
            })
        });
        let ep = created(&reconcile_endpoints(&svc, &[sub], None));
        assert!(ep.metadata.labels.unwrap_or_default().contains_key(HEADLESS_LABEL));
        let subsets = ep.subsets.unwrap_or_default();
        assert_eq!(subsets[0].ports, None);
        assert_eq!(subsets[0].addresses.as_ref().map(|a| a[0].hostname.clone()), Some(Some("a-host".into())));

        let mut plain = svc.clone();
        plain.spec.as_mut().into_iter().for_each(|s| s.cluster_ip = Some("10.96.0.10".into()));
        let ep = created(&reconcile_endpoints(&plain, &[pod("a", "10.0.0.1", true)], None));
        assert_eq!(ep.subsets, None, "a non-headless service without ports has no endpoints");
    }

    #[test]
    fn deleted_service_deletes_endpoints() {
        assert_eq!(
            endpoints_for_deleted_service("ns", "web"),
            Action::Delete {
                kind: "Endpoints",
                namespace: Some("ns".into()),
                name: "web".into(),
                uid: None,
                propagation: None,
                grace_period_seconds: None,
            }
        );
    }
}
