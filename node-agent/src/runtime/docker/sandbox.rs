//! The pod sandbox: a pause container that holds the pod's network and IPC
//! namespaces.
//!
//! Guarantees: one sandbox per pod uid (looked up by its deterministic name
//! and checked against its pod-uid label); [`run_sandbox`] returns a running
//! sandbox as is, restarts a stopped one (recreating it if the restart
//! fails), and otherwise creates one. The sandbox runs under the engine's
//! init, with a shareable IPC namespace, on the default bridge (its IP is
//! the pod IP) or the host network, with the pod's hostname, host aliases
//! and host ports.

use std::collections::HashMap;

use bollard::models::{ContainerCreateBody, EndpointSettings, HostConfig, PortBinding, PortMap};
use bollard::query_parameters::{CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder};
use bollard::Docker;

use super::{error, image, names};
use crate::runtime::{Labels, PullPolicy, RuntimeError, Sandbox, SandboxPlan};

/// The network Docker attaches a container to by default.
const DEFAULT_NETWORK: &str = "bridge";

/// The create body of the sandbox of `plan`.
pub(crate) fn sandbox_body(plan: &SandboxPlan, pause_image: &str) -> ContainerCreateBody {
    let mut port_bindings = PortMap::new();
    let mut exposed = Vec::new();
    if !plan.host_network {
        for (host_port, container_port, proto) in &plan.host_ports {
            let key = format!("{container_port}/{}", proto.to_ascii_lowercase());
            exposed.push(key.clone());
            port_bindings
                .entry(key)
                .or_insert_with(|| Some(Vec::new()))
                .get_or_insert_with(Vec::new)
                .push(PortBinding { host_ip: None, host_port: Some(host_port.to_string()) });
        }
    }
    let extra_hosts: Vec<String> = plan
        .host_aliases
        .iter()
        .flat_map(|(ip, hostnames)| hostnames.iter().map(move |h| format!("{h}:{ip}")))
        .collect();
    ContainerCreateBody {
        image: Some(pause_image.to_string()),
        labels: Some(names::sandbox_labels(plan).into_iter().collect()),
        // The host network namespace keeps the node's hostname.
        hostname: (!plan.host_network).then(|| plan.hostname.clone()),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        host_config: Some(HostConfig {
            init: Some(true),
            network_mode: Some(if plan.host_network { "host" } else { DEFAULT_NETWORK }.to_string()),
            ipc_mode: Some("shareable".to_string()),
            extra_hosts: (!extra_hosts.is_empty()).then_some(extra_hosts),
            port_bindings: (!port_bindings.is_empty()).then_some(port_bindings),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The pod IP from a container's networks: the default bridge's address,
/// else the first non-empty one by network name, else empty.
pub(crate) fn pod_ip(networks: Option<&HashMap<String, EndpointSettings>>) -> String {
    let Some(networks) = networks else { return String::new() };
    let ip_of = |e: &EndpointSettings| e.ip_address.clone().filter(|ip| !ip.is_empty());
    if let Some(ip) = networks.get(DEFAULT_NETWORK).and_then(ip_of) {
        return ip;
    }
    let mut names: Vec<&String> = networks.keys().collect();
    names.sort();
    names.into_iter().find_map(|n| networks.get(n).and_then(ip_of)).unwrap_or_default()
}

/// A container of the sandbox's name: id, running, pod-uid label.
struct Existing {
    id: String,
    running: bool,
    pod_uid: Option<String>,
}

async fn inspect_by_name(docker: &Docker, name: &str) -> Result<Option<Existing>, RuntimeError> {
    match docker.inspect_container(name, None).await {
        Ok(c) => Ok(Some(Existing {
            id: c.id.unwrap_or_default(),
            running: c.state.as_ref().and_then(|s| s.running).unwrap_or(false),
            pod_uid: c.config.and_then(|c| c.labels).and_then(|mut l| l.remove(Labels::POD_UID)),
        })),
        Err(e) if error::status_of(&e) == Some(404) => Ok(None),
        Err(e) => Err(error::on_container("inspect sandbox", name, e)),
    }
}

async fn sandbox_of(docker: &Docker, id: &str) -> Result<Sandbox, RuntimeError> {
    let c = docker.inspect_container(id, None).await.map_err(|e| error::on_container("inspect sandbox", id, e))?;
    let ip = pod_ip(c.network_settings.as_ref().and_then(|n| n.networks.as_ref()));
    Ok(Sandbox { id: id.to_string(), ip })
}

async fn force_remove(docker: &Docker, id: &str) -> Result<(), RuntimeError> {
    let opts = RemoveContainerOptionsBuilder::default().force(true).build();
    match docker.remove_container(id, Some(opts)).await {
        Err(e) if error::status_of(&e) != Some(404) => Err(error::on_container("remove sandbox", id, e)),
        _ => Ok(()),
    }
}

/// See [`Runtime::run_sandbox`](crate::runtime::Runtime::run_sandbox).
pub(crate) async fn run_sandbox(
    docker: &Docker,
    pause_image: &str,
    plan: &SandboxPlan,
) -> Result<Sandbox, RuntimeError> {
    let name = names::sandbox_name(plan);
    if let Some(existing) = inspect_by_name(docker, &name).await? {
        if existing.pod_uid.as_deref() != Some(plan.pod_uid.as_str()) {
            return Err(RuntimeError::Create(format!(
                "create sandbox {name}: the name is taken by a container of another pod (uid {:?})",
                existing.pod_uid
            )));
        }
        if existing.running {
            return sandbox_of(docker, &existing.id).await;
        }
        match docker.start_container(&existing.id, None).await {
            Ok(()) => {
                tracing::info!(pod_uid = %plan.pod_uid, sandbox = %existing.id, "restarted stopped sandbox");
                return sandbox_of(docker, &existing.id).await;
            }
            Err(e) => {
                tracing::warn!(pod_uid = %plan.pod_uid, sandbox = %existing.id, error = %error::engine_message(&e),
                    "restarting stopped sandbox failed; recreating it");
                force_remove(docker, &existing.id).await?;
            }
        }
    }
    image::ensure_image(docker, pause_image, PullPolicy::IfNotPresent).await?;
    let opts = CreateContainerOptionsBuilder::default().name(&name).build();
    let created = docker
        .create_container(Some(opts), sandbox_body(plan, pause_image))
        .await
        .map_err(|e| error::map_with("create sandbox", &name, e, RuntimeError::Create))?;
    if let Err(e) = docker.start_container(&created.id, None).await {
        let err = error::map_with("start sandbox", &name, e, RuntimeError::Start);
        force_remove(docker, &created.id).await?;
        return Err(err);
    }
    tracing::info!(pod_uid = %plan.pod_uid, sandbox = %created.id, name = %name, "sandbox started");
    sandbox_of(docker, &created.id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> SandboxPlan {
        SandboxPlan {
            pod_uid: "u1".into(),
            pod_name: "web".into(),
            namespace: "default".into(),
            node: "n1".into(),
            hostname: "web-0".into(),
            host_network: false,
            host_aliases: vec![("10.0.0.1".into(), vec!["a".into(), "b".into()])],
            host_ports: vec![(30080, 80, "TCP".into()), (30053, 53, "udp".into())],
        }
    }

    #[test]
    fn bridge_sandbox_body() {
        let b = sandbox_body(&plan(), "pause:1");
        assert_eq!(b.image.as_deref(), Some("pause:1"));
        assert_eq!(b.hostname.as_deref(), Some("web-0"));
        let hc = b.host_config.expect("host config");
        assert_eq!(hc.init, Some(true));
        assert_eq!(hc.network_mode.as_deref(), Some("bridge"));
        assert_eq!(hc.ipc_mode.as_deref(), Some("shareable"));
        assert_eq!(hc.extra_hosts, Some(vec!["a:10.0.0.1".to_string(), "b:10.0.0.1".to_string()]));
        let pb = hc.port_bindings.expect("port bindings");
        let http = pb["80/tcp"].as_ref().expect("80/tcp binding");
        assert_eq!(http[0].host_port.as_deref(), Some("30080"));
        assert!(pb.contains_key("53/udp"));
        let mut exposed = b.exposed_ports.expect("exposed");
        exposed.sort();
        assert_eq!(exposed, vec!["53/udp".to_string(), "80/tcp".to_string()]);
        assert_eq!(b.labels.expect("labels")[Labels::ROLE], "sandbox");
    }

    #[test]
    fn host_network_sandbox_has_no_hostname_or_ports() {
        let mut p = plan();
        p.host_network = true;
        let b = sandbox_body(&p, "pause:1");
        assert_eq!(b.hostname, None);
        assert_eq!(b.exposed_ports, None);
        let hc = b.host_config.expect("host config");
        assert_eq!(hc.network_mode.as_deref(), Some("host"));
        assert_eq!(hc.port_bindings, None);
    }

    #[test]
    fn pod_ip_prefers_bridge() {
        let ep = |ip: &str| EndpointSettings { ip_address: Some(ip.to_string()), ..Default::default() };
        let mut n = HashMap::new();
        assert_eq!(pod_ip(None), "");
        n.insert("zeta".to_string(), ep("10.9.0.2"));
        n.insert("alpha".to_string(), ep(""));
        assert_eq!(pod_ip(Some(&n)), "10.9.0.2");
        n.insert("bridge".to_string(), ep("172.17.0.5"));
        assert_eq!(pod_ip(Some(&n)), "172.17.0.5");
        n.insert("host".to_string(), ep(""));
        n.remove("bridge");
        n.remove("zeta");
        assert_eq!(pod_ip(Some(&n)), "");
    }
}
