//! Creating an app or init container from a [`ContainerPlan`], joined to
//! its pod's sandbox.
//!
//! Guarantees: the container shares the sandbox's network and IPC
//! namespaces (`container:<sandbox id>`), so it sets no hostname; `command`
//! replaces the image's entrypoint and `args` its cmd (args alone keep the
//! image's entrypoint; command alone drops the image's cmd, as Kubernetes
//! does); mounts are binds `host:container[:ro]`; memory, nano-CPUs and CPU
//! shares are set when planned; the engine's default log driver is kept.
//! A refused create is [`RuntimeError::Create`] with the engine's message.
//!
//! Not supported: `termination_message_path` (ignored).

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::CreateContainerOptionsBuilder;
use bollard::Docker;

use super::{error, names};
use crate::runtime::{ContainerPlan, Mount, Runtime, RuntimeError, Sandbox};

/// `host:container[:ro]`.
pub(crate) fn bind_of(m: &Mount) -> String {
    if m.read_only {
        format!("{}:{}:ro", m.host_path, m.container_path)
    } else {
        format!("{}:{}", m.host_path, m.container_path)
    }
}

/// The create body of `plan`'s container, joined to `sandbox_id`.
pub(crate) fn container_body(plan: &ContainerPlan, sandbox_id: &str) -> ContainerCreateBody {
    let join = format!("container:{sandbox_id}");
    let binds: Vec<String> = plan.mounts.iter().map(bind_of).collect();
    ContainerCreateBody {
        image: Some(plan.image.clone()),
        labels: Some(super::DockerRuntime::labels_of(plan).into_iter().collect()),
        entrypoint: plan.command.clone(),
        cmd: plan.args.clone(),
        env: (!plan.env.is_empty()).then(|| plan.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        working_dir: plan.working_dir.clone().filter(|w| !w.is_empty()),
        open_stdin: Some(plan.stdin),
        stdin_once: Some(false),
        tty: Some(plan.tty),
        host_config: Some(HostConfig {
            network_mode: Some(join.clone()),
            ipc_mode: Some(join),
            binds: (!binds.is_empty()).then_some(binds),
            memory: plan.memory_limit,
            nano_cpus: plan.nano_cpus,
            cpu_shares: plan.cpu_shares,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// See [`Runtime::create_container`].
pub(crate) async fn create_container(
    docker: &Docker,
    sandbox: &Sandbox,
    plan: &ContainerPlan,
) -> Result<String, RuntimeError> {
    let name = names::container_name(plan);
    let opts = CreateContainerOptionsBuilder::default().name(&name).build();
    let created = docker
        .create_container(Some(opts), container_body(plan, &sandbox.id))
        .await
        .map_err(|e| error::map_with("create container", &name, e, RuntimeError::Create))
        .map_err(|e| match e {
            // A 404 here is the engine missing the image or the sandbox,
            // not the container: a create error with the engine's words.
            RuntimeError::NotFound(_) => RuntimeError::Create(format!(
                "create container {name}: image {} or sandbox {} not found",
                plan.image, sandbox.id
            )),
            other => other,
        })?;
    for w in &created.warnings {
        tracing::warn!(container = %name, warning = %w, "engine warning on create");
    }
    tracing::debug!(container = %name, id = %created.id, role = names::role_label(plan.role), "container created");
    Ok(created.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{Labels, Role};

    fn plan() -> ContainerPlan {
        ContainerPlan {
            pod_uid: "uid-1".into(),
            pod_name: "web".into(),
            namespace: "default".into(),
            node: "n1".into(),
            name: "app".into(),
            role: Role::Init,
            attempt: 2,
            image: "img:1".into(),
            command: None,
            args: Some(vec!["-c".into(), "echo hi".into()]),
            env: vec![("A".into(), "1".into()), ("B".into(), "x=y".into())],
            working_dir: Some("/work".into()),
            mounts: vec![
                Mount { host_path: "/h/a".into(), container_path: "/a".into(), read_only: false },
                Mount { host_path: "/h/b".into(), container_path: "/b".into(), read_only: true },
            ],
            memory_limit: Some(64 << 20),
            nano_cpus: Some(500_000_000),
            cpu_shares: Some(512),
            stdin: true,
            tty: true,
            termination_message_path: None,
        }
    }

    #[test]
    fn body_joins_sandbox_and_maps_fields() {
        let b = container_body(&plan(), "sbx");
        assert_eq!(b.image.as_deref(), Some("img:1"));
        assert_eq!(b.hostname, None);
        assert_eq!(b.entrypoint, None, "args alone keep the image entrypoint");
        assert_eq!(b.cmd, Some(vec!["-c".to_string(), "echo hi".to_string()]));
        assert_eq!(b.env, Some(vec!["A=1".to_string(), "B=x=y".to_string()]));
        assert_eq!(b.working_dir.as_deref(), Some("/work"));
        assert_eq!((b.open_stdin, b.tty), (Some(true), Some(true)));
        let labels = b.labels.expect("labels");
        assert_eq!(labels[Labels::ROLE], "init");
        assert_eq!(labels[Labels::ATTEMPT], "2");
        assert_eq!(labels[Labels::CONTAINER], "app");
        let hc = b.host_config.expect("host config");
        assert_eq!(hc.network_mode.as_deref(), Some("container:sbx"));
        assert_eq!(hc.ipc_mode.as_deref(), Some("container:sbx"));
        assert_eq!(hc.binds, Some(vec!["/h/a:/a".to_string(), "/h/b:/b:ro".to_string()]));
        assert_eq!((hc.memory, hc.nano_cpus, hc.cpu_shares), (Some(64 << 20), Some(500_000_000), Some(512)));
        assert_eq!(hc.log_config, None, "engine default log driver");
    }

    #[test]
    fn command_replaces_entrypoint() {
        let mut p = plan();
        p.command = Some(vec!["/bin/sh".into()]);
        p.args = None;
        p.env.clear();
        p.mounts.clear();
        let b = container_body(&p, "s");
        assert_eq!(b.entrypoint, Some(vec!["/bin/sh".to_string()]));
        assert_eq!(b.cmd, None);
        assert_eq!(b.env, None);
        assert_eq!(b.host_config.expect("hc").binds, None);
    }
}
