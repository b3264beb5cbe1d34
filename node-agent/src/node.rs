//! The Node an agent registers: name, labels, taints, capacity, addresses,
//! node info and conditions. Pure: built from flags and host facts.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// Errors in node flags.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NodeError {
    /// A taint that is not `key[=value]:Effect`.
    #[error("bad taint {0:?}: expected key[=value]:Effect with Effect NoSchedule, PreferNoSchedule or NoExecute")]
    Taint(String),
    /// A label that is not `key=value`.
    #[error("bad node label {0:?}: expected key=value")]
    Label(String),
}

/// What the agent knows about its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFacts {
    /// Node name.
    pub name: String,
    /// Address other nodes and the control plane reach it at.
    pub ip: String,
    /// CPU cores.
    pub cpus: u32,
    /// Memory bytes.
    pub memory: u64,
    /// Most pods the node runs.
    pub max_pods: u32,
    /// Runtime and version, e.g. `docker://20.10.24`.
    pub runtime_version: String,
    /// Kernel release.
    pub kernel: String,
    /// OS image (PRETTY_NAME).
    pub os_image: String,
}

/// Parse `key[=value]:Effect` taints.
pub fn parse_taints(list: &[String]) -> Result<Vec<Value>, NodeError> {
    let mut out = Vec::new();
    for t in list.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
        let (kv, effect) = t.rsplit_once(':').ok_or_else(|| NodeError::Taint(t.to_string()))?;
        if !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
            return Err(NodeError::Taint(t.to_string()));
        }
        let (key, value) = match kv.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (kv, None),
        };
        if key.is_empty() {
            return Err(NodeError::Taint(t.to_string()));
        }
        let mut taint = json!({"key": key, "effect": effect});
        if let Some(v) = value {
            taint["value"] = json!(v);
        }
        out.push(taint);
    }
    Ok(out)
}

/// Parse `key=value` labels.
pub fn parse_labels(list: &[String]) -> Result<BTreeMap<String, String>, NodeError> {
    let mut out = BTreeMap::new();
    for l in list.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
        let (k, v) = l.split_once('=').filter(|(k, _)| !k.is_empty()).ok_or_else(|| NodeError::Label(l.to_string()))?;
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

/// The Kubernetes architecture name of this build.
pub fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// The node's conditions: Ready, and no pressure.
pub fn conditions(now: &str) -> Value {
    let c = |ty: &str, status: &str, reason: &str, message: &str| {
        json!({"type": ty, "status": status, "reason": reason, "message": message,
            "lastHeartbeatTime": now, "lastTransitionTime": now})
    };
    json!([
        c("MemoryPressure", "False", "KubeletHasSufficientMemory", "node agent has sufficient memory available"),
        c("DiskPressure", "False", "KubeletHasNoDiskPressure", "node agent has no disk pressure"),
        c("PIDPressure", "False", "KubeletHasSufficientPID", "node agent has sufficient PID available"),
        c("Ready", "True", "KubeletReady", "node agent is posting ready status"),
    ])
}

/// The Node object to register.
pub fn node_object(facts: &HostFacts, labels: &BTreeMap<String, String>, taints: &[Value], now: &str) -> Value {
    let mut l: BTreeMap<String, String> = labels.clone();
    l.insert("kubernetes.io/hostname".into(), facts.name.clone());
    l.insert("kubernetes.io/os".into(), "linux".into());
    l.insert("kubernetes.io/arch".into(), arch().into());
    l.insert("beta.kubernetes.io/os".into(), "linux".into());
    l.insert("beta.kubernetes.io/arch".into(), arch().into());
    let resources = json!({
        "cpu": facts.cpus.to_string(),
        "memory": format!("{}Ki", facts.memory / 1024),
        "pods": facts.max_pods.to_string(),
        "ephemeral-storage": "100Gi",
    });
    let mut spec = json!({});
    if !taints.is_empty() {
        spec["taints"] = Value::Array(taints.to_vec());
    }
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": facts.name, "labels": l},
        "spec": spec,
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "addresses": [{"type": "InternalIP", "address": facts.ip}, {"type": "Hostname", "address": facts.name}],
            "nodeInfo": {
                "machineID": "", "systemUUID": "", "bootID": "",
                "kernelVersion": facts.kernel, "osImage": facts.os_image,
                "containerRuntimeVersion": facts.runtime_version,
                "kubeletVersion": format!("v1.32.0-helmsman-{}", env!("CARGO_PKG_VERSION")),
                "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": arch(),
            },
            "conditions": conditions(now),
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 0}},
        },
    })
}

/// The kernel release and OS name of this host (best effort).
pub fn host_os() -> (String, String) {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_string();
    let os = std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_string()))
        .unwrap_or_else(|| "Linux".into());
    (kernel, os)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taints_parse_like_register_with_taints() {
        let t = parse_taints(&["dedicated=gpu:NoSchedule,spot:PreferNoSchedule".into()]).unwrap();
        assert_eq!(t[0], json!({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}));
        assert_eq!(t[1], json!({"key": "spot", "effect": "PreferNoSchedule"}));
        assert!(parse_taints(&["x=y:Sometimes".into()]).is_err());
        assert!(parse_taints(&["novalue".into()]).is_err());
    }

    #[test]
    fn node_carries_standard_labels_capacity_and_ready() {
        let f = HostFacts {
            name: "n1".into(),
            ip: "10.0.0.5".into(),
            cpus: 4,
            memory: 8 << 30,
            max_pods: 110,
            runtime_version: "docker://20.10".into(),
            kernel: "6.1".into(),
            os_image: "Debian".into(),
        };
        let labels = parse_labels(&["zone=a".into()]).unwrap();
        let n = node_object(&f, &labels, &[], "2026-01-01T00:00:00Z");
        assert_eq!(n["metadata"]["labels"]["kubernetes.io/hostname"], "n1");
        assert_eq!(n["metadata"]["labels"]["zone"], "a");
        assert_eq!(n["status"]["capacity"]["memory"], "8388608Ki");
        assert_eq!(n["status"]["allocatable"]["cpu"], "4");
        assert_eq!(n["status"]["addresses"][0]["address"], "10.0.0.5");
        assert!(n["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True"));
        assert!(parse_labels(&["=x".into()]).is_err());
    }
}
