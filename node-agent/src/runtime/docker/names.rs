//! How the agent's containers are identified in Docker: their names and
//! the labels of the sandbox. Pure functions.
//!
//! Guarantees: names are valid Docker names (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`),
//! distinct per (pod uid, container, attempt), and readable in `docker ps`;
//! labels, not names, are what [`Runtime::list`](crate::runtime::Runtime::list)
//! relies on.

use std::collections::BTreeMap;

use crate::runtime::{ContainerPlan, Labels, Role, SandboxPlan};

/// Value of [`Labels::ROLE`] on a sandbox.
pub const ROLE_SANDBOX: &str = "sandbox";

/// Replaces every character Docker refuses in a name with `-`.
pub fn sanitize(part: &str) -> String {
    part.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '-' }).collect()
}

/// The first 8 characters of a pod uid, sanitized.
fn uid8(pod_uid: &str) -> String {
    sanitize(&pod_uid.chars().take(8).collect::<String>())
}

/// `hm_<namespace>_<pod>_<container>_<attempt>_<uid8>`.
pub fn container_name(plan: &ContainerPlan) -> String {
    format!(
        "hm_{}_{}_{}_{}_{}",
        sanitize(&plan.namespace),
        sanitize(&plan.pod_name),
        sanitize(&plan.name),
        plan.attempt,
        uid8(&plan.pod_uid)
    )
}

/// `hm_<namespace>_<pod>_sandbox_<uid8>`.
pub fn sandbox_name(plan: &SandboxPlan) -> String {
    format!("hm_{}_{}_sandbox_{}", sanitize(&plan.namespace), sanitize(&plan.pod_name), uid8(&plan.pod_uid))
}

/// The sandbox's labels: those of [`Runtime::labels_of`](crate::runtime::Runtime::labels_of)
/// without [`Labels::CONTAINER`], with role `sandbox` and attempt 0.
pub fn sandbox_labels(plan: &SandboxPlan) -> BTreeMap<String, String> {
    let mut l = BTreeMap::new();
    l.insert(Labels::MANAGED.to_string(), "true".to_string());
    l.insert(Labels::NODE.to_string(), plan.node.clone());
    l.insert(Labels::POD_UID.to_string(), plan.pod_uid.clone());
    l.insert(Labels::POD_NAME.to_string(), plan.pod_name.clone());
    l.insert(Labels::POD_NAMESPACE.to_string(), plan.namespace.clone());
    l.insert(Labels::ROLE.to_string(), ROLE_SANDBOX.to_string());
    l.insert(Labels::ATTEMPT.to_string(), "0".to_string());
    l
}

/// The label value of a role.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Init => "init",
        Role::App => "app",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::ContainerPlan;

    fn plan() -> ContainerPlan {
        ContainerPlan {
            pod_uid: "0123abcd-ffff-4444-8888-000000000000".into(),
            pod_name: "web-7d9f".into(),
            namespace: "default".into(),
            node: "n1".into(),
            name: "nginx".into(),
            role: Role::App,
            attempt: 3,
            image: "helmsman/busybox:1.35".into(),
            command: None,
            args: None,
            env: vec![],
            working_dir: None,
            mounts: vec![],
            memory_limit: None,
            nano_cpus: None,
            cpu_shares: None,
            stdin: false,
            tty: false,
            termination_message_path: None,
        }
    }

    #[test]
    fn container_name_has_all_parts() {
        assert_eq!(container_name(&plan()), "hm_default_web-7d9f_nginx_3_0123abcd");
    }

    #[test]
    fn names_are_sanitized() {
        let mut p = plan();
        p.name = "a b/c:d".into();
        p.pod_uid = "x/y".into();
        assert_eq!(container_name(&p), "hm_default_web-7d9f_a-b-c-d_3_x-y");
        assert!(container_name(&p).chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)));
    }

    #[test]
    fn sandbox_name_and_labels() {
        let sp = SandboxPlan {
            pod_uid: "0123abcd-ffff".into(),
            pod_name: "web".into(),
            namespace: "prod".into(),
            node: "n1".into(),
            hostname: "web".into(),
            host_network: false,
            host_aliases: vec![],
            host_ports: vec![],
        };
        assert_eq!(sandbox_name(&sp), "hm_prod_web_sandbox_0123abcd");
        let l = sandbox_labels(&sp);
        assert_eq!(l.get(Labels::ROLE).map(String::as_str), Some("sandbox"));
        assert_eq!(l.get(Labels::ATTEMPT).map(String::as_str), Some("0"));
        assert_eq!(l.get(Labels::POD_UID).map(String::as_str), Some("0123abcd-ffff"));
        assert!(!l.contains_key(Labels::CONTAINER));
    }
}
