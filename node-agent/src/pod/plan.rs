//! Pure translation of a pod spec into the runtime's engine-neutral plans
//! ([`SandboxPlan`], [`ContainerPlan`]) and Kubernetes quantities into
//! engine units.
//!
//! Guarantees: no I/O; environment and mounts come in already resolved
//! (see `env` and `volumes`); a malformed quantity is an error, never a
//! silently dropped limit.

use k8s_openapi::api::core::v1::{Container, Pod};

use crate::runtime::{ContainerPlan, Mount, PullPolicy, Role, SandboxPlan};

/// Errors building a plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A resource quantity could not be parsed.
    #[error("invalid quantity {value:?} for {what}")]
    Quantity {
        /// Which resource (e.g. "limits.memory").
        what: String,
        /// The text given.
        value: String,
    },
}

/// Parse a Kubernetes quantity ("128Mi", "1G", "500m", "1e3", "0.5") into
/// a number of base units (bytes, cores).
pub fn parse_quantity(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-')).unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let (num, suffix) = match suffix.strip_prefix(['e', 'E']) {
        Some(exp) if !exp.is_empty() && exp.trim_start_matches(['+', '-']).chars().all(|c| c.is_ascii_digit()) => {
            let e: i32 = exp.parse().ok()?;
            (num.parse::<f64>().ok()? * 10f64.powi(e), "")
        }
        _ => (num.parse::<f64>().ok()?, suffix),
    };
    let mult = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        _ => return None,
    };
    let v = num * mult;
    (v.is_finite() && v >= 0.0).then_some(v)
}

/// Memory quantity → bytes (rounded up).
pub fn memory_bytes(q: &str) -> Option<i64> {
    parse_quantity(q).map(|v| v.ceil() as i64)
}

/// CPU quantity → milli-cores (rounded up, as Kubernetes does).
pub fn cpu_millis(q: &str) -> Option<i64> {
    parse_quantity(q).map(|v| (v * 1000.0 - 1e-9).ceil().max(0.0) as i64)
}

/// Milli-cores → nano-CPUs (1 core = 1e9).
pub fn nano_cpus(millis: i64) -> i64 {
    millis * 1_000_000
}

/// Milli-cores → cgroup shares (1 core = 1024, at least 2).
pub fn cpu_shares(millis: i64) -> i64 {
    (millis * 1024 / 1000).max(2)
}

/// `imagePullPolicy`, defaulted as the API server does (Always for
/// `:latest` or untagged images, IfNotPresent otherwise).
pub fn pull_policy(c: &Container) -> PullPolicy {
    match c.image_pull_policy.as_deref() {
        Some("Always") => PullPolicy::Always,
        Some("Never") => PullPolicy::Never,
        Some("IfNotPresent") => PullPolicy::IfNotPresent,
        _ => {
            let image = c.image.as_deref().unwrap_or("");
            let name = image.split('@').next().unwrap_or(image);
            let last = name.rsplit('/').next().unwrap_or(name);
            if image.contains('@') {
                PullPolicy::IfNotPresent
            } else {
                match last.split_once(':') {
                    Some((_, "latest")) | None => PullPolicy::Always,
                    Some(_) => PullPolicy::IfNotPresent,
                }
            }
        }
    }
}

/// The pod's sandbox.
pub fn sandbox_plan(pod: &Pod, node: &str) -> SandboxPlan {
    let spec = pod.spec.as_ref();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let mut host_ports = Vec::new();
    for c in spec.map(|s| s.containers.as_slice()).unwrap_or(&[]) {
        for p in c.ports.iter().flatten() {
            if let Some(hp) = p.host_port.filter(|p| *p > 0) {
                let proto = p.protocol.as_deref().unwrap_or("TCP").to_ascii_lowercase();
                host_ports.push((hp as u16, p.container_port as u16, proto));
            }
        }
    }
    SandboxPlan {
        pod_uid: pod.metadata.uid.clone().unwrap_or_default(),
        pod_name: name.clone(),
        namespace: pod.metadata.namespace.clone().unwrap_or_else(|| "default".into()),
        node: node.to_string(),
        hostname: spec.and_then(|s| s.hostname.clone()).unwrap_or(name),
        host_network: spec.and_then(|s| s.host_network).unwrap_or(false),
        host_aliases: spec
            .and_then(|s| s.host_aliases.as_ref())
            .map(|a| a.iter().map(|h| (h.ip.clone(), h.hostnames.clone().unwrap_or_default())).collect())
            .unwrap_or_default(),
        host_ports,
    }
}

/// Resolved inputs of one container plan.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    /// Environment, in order.
    pub env: Vec<(String, String)>,
    /// `command` after `$(VAR)` expansion.
    pub command: Option<Vec<String>>,
    /// `args` after `$(VAR)` expansion.
    pub args: Option<Vec<String>>,
    /// Volume mounts.
    pub mounts: Vec<Mount>,
}

/// One container's plan.
pub fn container_plan(
    pod: &Pod,
    c: &Container,
    role: Role,
    attempt: u32,
    node: &str,
    resolved: Resolved,
) -> Result<ContainerPlan, PlanError> {
    let res = c.resources.as_ref();
    let limit = |k: &str| res.and_then(|r| r.limits.as_ref()).and_then(|l| l.get(k)).map(|q| q.0.as_str());
    let request = |k: &str| res.and_then(|r| r.requests.as_ref()).and_then(|l| l.get(k)).map(|q| q.0.as_str());
    let bad = |what: &str, value: &str| PlanError::Quantity { what: what.into(), value: value.into() };
    let memory_limit = limit("memory").map(|q| memory_bytes(q).ok_or_else(|| bad("limits.memory", q))).transpose()?;
    let cpu_limit = limit("cpu").map(|q| cpu_millis(q).ok_or_else(|| bad("limits.cpu", q))).transpose()?;
    // A request defaults to the limit, as the API server does.
    let cpu_request = match request("cpu") {
        Some(q) => Some(cpu_millis(q).ok_or_else(|| bad("requests.cpu", q))?),
        None => cpu_limit,
    };
    Ok(ContainerPlan {
        pod_uid: pod.metadata.uid.clone().unwrap_or_default(),
        pod_name: pod.metadata.name.clone().unwrap_or_default(),
        namespace: pod.metadata.namespace.clone().unwrap_or_else(|| "default".into()),
        node: node.to_string(),
        name: c.name.clone(),
        role,
        attempt,
        image: c.image.clone().unwrap_or_default(),
        command: resolved.command,
        args: resolved.args,
        env: resolved.env,
        working_dir: c.working_dir.clone().filter(|w| !w.is_empty()),
        mounts: resolved.mounts,
        memory_limit,
        nano_cpus: cpu_limit.map(nano_cpus),
        cpu_shares: cpu_request.map(cpu_shares),
        stdin: c.stdin.unwrap_or(false),
        tty: c.tty.unwrap_or(false),
        termination_message_path: Some(
            c.termination_message_path.clone().unwrap_or_else(|| "/dev/termination-log".into()),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ContainerPort, PodSpec, ResourceRequirements};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    #[test]
    fn memory_quantities() {
        assert_eq!(memory_bytes("128Mi"), Some(128 << 20));
        assert_eq!(memory_bytes("1G"), Some(1_000_000_000));
        assert_eq!(memory_bytes("500M"), Some(500_000_000));
        assert_eq!(memory_bytes("1048576"), Some(1 << 20));
        assert_eq!(memory_bytes("1.5Gi"), Some(3 << 29));
        assert_eq!(memory_bytes("1e3"), Some(1000));
        assert_eq!(memory_bytes("12Q"), None);
        assert_eq!(memory_bytes(""), None);
    }

    #[test]
    fn cpu_quantities() {
        assert_eq!(cpu_millis("500m"), Some(500));
        assert_eq!(cpu_millis("2"), Some(2000));
        assert_eq!(cpu_millis("0.5"), Some(500));
        assert_eq!(cpu_millis("0.0001"), Some(1), "rounded up");
        assert_eq!(nano_cpus(500), 500_000_000);
        assert_eq!(cpu_shares(1000), 1024);
        assert_eq!(cpu_shares(1), 2, "minimum");
    }

    #[test]
    fn pull_policy_defaults() {
        let c = |image: &str| Container { image: Some(image.into()), ..Default::default() };
        assert_eq!(pull_policy(&c("nginx")), PullPolicy::Always);
        assert_eq!(pull_policy(&c("nginx:latest")), PullPolicy::Always);
        assert_eq!(pull_policy(&c("nginx:1.25")), PullPolicy::IfNotPresent);
        assert_eq!(pull_policy(&c("localhost:5000/nginx")), PullPolicy::Always);
        let mut never = c("x:1");
        never.image_pull_policy = Some("Never".into());
        assert_eq!(pull_policy(&never), PullPolicy::Never);
    }

    #[test]
    fn plans_from_pod() {
        let q = |s: &str| Quantity(s.into());
        let c = Container {
            name: "web".into(),
            image: Some("nginx:1".into()),
            resources: Some(ResourceRequirements {
                limits: Some([("memory".to_string(), q("128Mi")), ("cpu".to_string(), q("500m"))].into()),
                ..Default::default()
            }),
            ports: Some(vec![ContainerPort { container_port: 80, host_port: Some(8080), ..Default::default() }]),
            ..Default::default()
        };
        let mut pod = Pod::default();
        pod.metadata.name = Some("p".into());
        pod.metadata.namespace = Some("ns".into());
        pod.metadata.uid = Some("u".into());
        pod.spec = Some(PodSpec { containers: vec![c.clone()], ..Default::default() });
        let sb = sandbox_plan(&pod, "n1");
        assert_eq!((sb.hostname.as_str(), sb.host_ports.clone()), ("p", vec![(8080, 80, "tcp".to_string())]));
        let plan = container_plan(&pod, &c, Role::App, 3, "n1", Resolved::default()).unwrap();
        assert_eq!(plan.memory_limit, Some(128 << 20));
        assert_eq!(plan.nano_cpus, Some(500_000_000));
        assert_eq!(plan.cpu_shares, Some(512), "request defaults to the limit");
        assert_eq!((plan.attempt, plan.namespace.as_str(), plan.image.as_str()), (3, "ns", "nginx:1"));
        let mut bad = c;
        bad.resources.as_mut().unwrap().limits.as_mut().unwrap().insert("memory".into(), q("lots"));
        assert!(matches!(
            container_plan(&pod, &bad, Role::App, 0, "n1", Resolved::default()),
            Err(PlanError::Quantity { .. })
        ));
    }
}
