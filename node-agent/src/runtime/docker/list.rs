//! Finding the agent's containers by their labels (adoption after a
//! restart) and removing a whole pod.
//!
//! Guarantees: [`list`] returns every container, running or not, labelled
//! managed by this node, with the pod, container, role and attempt read
//! from the labels (containers with malformed labels are skipped with a
//! warning) and the IP of sandboxes. [`remove_pod`] force-removes every
//! container of the pod, app and init containers before the sandbox; it is
//! idempotent.

use std::collections::HashMap;

use bollard::models::{ContainerSummary, ContainerSummaryStateEnum};
use bollard::query_parameters::{ListContainersOptionsBuilder, RemoveContainerOptionsBuilder};
use bollard::Docker;

use super::names::ROLE_SANDBOX;
use super::{error, sandbox};
use crate::runtime::{Found, Labels, Role, RuntimeError};

/// A [`Found`] from a container's id, labels, running flag and IP, or why
/// the labels do not describe one of ours.
pub(crate) fn found_of(id: &str, labels: &HashMap<String, String>, running: bool, ip: String) -> Result<Found, String> {
    let get = |k: &str| labels.get(k).cloned().ok_or_else(|| format!("label {k} missing"));
    let role_label = get(Labels::ROLE)?;
    let (role, container) = match role_label.as_str() {
        ROLE_SANDBOX => (None, None),
        "init" => (Some(Role::Init), Some(get(Labels::CONTAINER)?)),
        "app" => (Some(Role::App), Some(get(Labels::CONTAINER)?)),
        other => return Err(format!("label {} has unknown value {other:?}", Labels::ROLE)),
    };
    let attempt_label = get(Labels::ATTEMPT)?;
    let attempt = attempt_label.parse().map_err(|_| format!("label {} is {attempt_label:?}", Labels::ATTEMPT))?;
    Ok(Found {
        id: id.to_string(),
        pod_uid: get(Labels::POD_UID)?,
        pod_name: get(Labels::POD_NAME)?,
        namespace: get(Labels::POD_NAMESPACE)?,
        ip: if role.is_none() { ip } else { String::new() },
        container,
        role,
        attempt,
        running,
    })
}

/// The summaries of every container (running or not) with all of `labels`.
async fn list_labelled(docker: &Docker, labels: &[(&str, &str)]) -> Result<Vec<ContainerSummary>, RuntimeError> {
    let filters: HashMap<&str, Vec<String>> =
        HashMap::from([("label", labels.iter().map(|(k, v)| format!("{k}={v}")).collect())]);
    let opts = ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
    docker.list_containers(Some(opts)).await.map_err(|e| error::on_engine("list containers", e))
}

/// See [`Runtime::list`](crate::runtime::Runtime::list).
pub(crate) async fn list(docker: &Docker, node: &str) -> Result<Vec<Found>, RuntimeError> {
    let summaries = list_labelled(docker, &[(Labels::MANAGED, "true"), (Labels::NODE, node)]).await?;
    let mut found = Vec::with_capacity(summaries.len());
    for s in summaries {
        let id = s.id.clone().unwrap_or_default();
        let running = s.state == Some(ContainerSummaryStateEnum::RUNNING);
        let ip = sandbox::pod_ip(s.network_settings.as_ref().and_then(|n| n.networks.as_ref()));
        match found_of(&id, &s.labels.unwrap_or_default(), running, ip) {
            Ok(f) => found.push(f),
            Err(why) => tracing::warn!(container = %id, reason = %why, "skipping managed container with bad labels"),
        }
    }
    Ok(found)
}

/// See [`Runtime::remove_pod`](crate::runtime::Runtime::remove_pod).
pub(crate) async fn remove_pod(docker: &Docker, pod_uid: &str) -> Result<(), RuntimeError> {
    let mut summaries = list_labelled(docker, &[(Labels::MANAGED, "true"), (Labels::POD_UID, pod_uid)]).await?;
    // Containers first, then the sandbox whose namespaces they share.
    summaries.sort_by_key(|s| {
        s.labels.as_ref().and_then(|l| l.get(Labels::ROLE)).is_some_and(|r| r.as_str() == ROLE_SANDBOX)
    });
    for s in summaries {
        let id = s.id.unwrap_or_default();
        let opts = RemoveContainerOptionsBuilder::default().force(true).build();
        match docker.remove_container(&id, Some(opts)).await {
            Ok(()) => tracing::debug!(pod_uid = %pod_uid, container = %id, "removed"),
            // Gone already, or being removed by a concurrent call.
            Err(e) if matches!(error::status_of(&e), Some(404 | 409)) => {}
            Err(e) => return Err(error::on_container("remove container", &id, e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(role: &str, container: Option<&str>, attempt: &str) -> HashMap<String, String> {
        let mut l = HashMap::new();
        l.insert(Labels::MANAGED.into(), "true".into());
        l.insert(Labels::NODE.into(), "n1".into());
        l.insert(Labels::POD_UID.into(), "u1".into());
        l.insert(Labels::POD_NAME.into(), "web".into());
        l.insert(Labels::POD_NAMESPACE.into(), "default".into());
        l.insert(Labels::ROLE.into(), role.into());
        l.insert(Labels::ATTEMPT.into(), attempt.into());
        if let Some(c) = container {
            l.insert(Labels::CONTAINER.into(), c.into());
        }
        l
    }

    #[test]
    fn app_and_sandbox_from_labels() {
        let f = found_of("c1", &labels("app", Some("nginx"), "4"), true, "1.2.3.4".into()).expect("app");
        assert_eq!(
            f,
            Found {
                id: "c1".into(),
                pod_uid: "u1".into(),
                pod_name: "web".into(),
                namespace: "default".into(),
                container: Some("nginx".into()),
                role: Some(Role::App),
                attempt: 4,
                running: true,
                ip: String::new(),
            }
        );
        let s = found_of("s1", &labels("sandbox", None, "0"), false, "172.17.0.2".into()).expect("sandbox");
        assert_eq!((s.role, s.container, s.ip.as_str(), s.running), (None, None, "172.17.0.2", false));
        let i = found_of("i1", &labels("init", Some("setup"), "0"), false, String::new()).expect("init");
        assert_eq!(i.role, Some(Role::Init));
    }

    #[test]
    fn malformed_labels_are_rejected() {
        assert!(found_of("x", &labels("app", None, "0"), true, String::new()).is_err());
        assert!(found_of("x", &labels("weird", Some("c"), "0"), true, String::new()).is_err());
        assert!(found_of("x", &labels("app", Some("c"), "-1"), true, String::new()).is_err());
        let mut l = labels("app", Some("c"), "0");
        l.remove(Labels::POD_UID);
        assert!(found_of("x", &l, true, String::new()).is_err());
    }
}
