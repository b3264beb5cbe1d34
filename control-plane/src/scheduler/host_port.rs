//! Host ports a pod asks for, and when two of them collide.
//!
//! Guarantees: only container ports with `hostPort > 0` count; protocol defaults to TCP and host IP to
//! `0.0.0.0`; two ports conflict when protocol and port are equal and the IPs are equal or either is
//! `0.0.0.0` (the wildcard binds every address).

use k8s_openapi::api::core::v1::Pod;

/// The wildcard host IP.
pub const WILDCARD_IP: &str = "0.0.0.0";

/// One (protocol, hostIP, hostPort) triple.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// "TCP", "UDP" or "SCTP".
    pub protocol: String,
    /// The host IP, `0.0.0.0` when unset.
    pub host_ip: String,
    /// The host port (> 0).
    pub port: i32,
}

impl HostPort {
    /// The host ports requested by the app containers of `pod`.
    pub fn of_pod(pod: &Pod) -> Vec<HostPort> {
        let Some(spec) = pod.spec.as_ref() else {
            return Vec::new();
        };
        let ports = spec.containers.iter().flat_map(|c| c.ports.iter().flatten());
        ports
            .filter_map(|p| {
                let port = p.host_port.filter(|&hp| hp > 0)?;
                let protocol = p.protocol.as_deref().filter(|s| !s.is_empty()).unwrap_or("TCP").to_string();
                let host_ip = p.host_ip.as_deref().filter(|s| !s.is_empty()).unwrap_or(WILDCARD_IP).to_string();
                Some(HostPort { protocol, host_ip, port })
            })
            .collect()
    }

    /// Whether binding both ports on one node is impossible.
    pub fn conflicts(&self, other: &HostPort) -> bool {
        self.port == other.port
            && self.protocol == other.protocol
            && (self.host_ip == other.host_ip || self.host_ip == WILDCARD_IP || other.host_ip == WILDCARD_IP)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, ContainerPort, PodSpec};

    fn hp(protocol: &str, ip: &str, port: i32) -> HostPort {
        HostPort { protocol: protocol.into(), host_ip: ip.into(), port }
    }

    #[test]
    fn conflict_rules() {
        assert!(hp("TCP", "0.0.0.0", 80).conflicts(&hp("TCP", "10.0.0.1", 80)));
        assert!(hp("TCP", "10.0.0.1", 80).conflicts(&hp("TCP", "10.0.0.1", 80)));
        assert!(!hp("TCP", "10.0.0.1", 80).conflicts(&hp("TCP", "10.0.0.2", 80)));
        assert!(!hp("TCP", "0.0.0.0", 80).conflicts(&hp("UDP", "0.0.0.0", 80)));
        assert!(!hp("TCP", "0.0.0.0", 80).conflicts(&hp("TCP", "0.0.0.0", 81)));
    }

    #[test]
    fn defaults_and_skips_container_only_ports() {
        let port = |host: Option<i32>| ContainerPort { container_port: 8080, host_port: host, ..Default::default() };
        let pod = Pod {
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    ports: Some(vec![port(Some(80)), port(None), port(Some(0))]),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(HostPort::of_pod(&pod), vec![hp("TCP", "0.0.0.0", 80)]);
    }
}
