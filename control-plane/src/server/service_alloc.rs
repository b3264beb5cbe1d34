//! Cluster IPs and node ports of Services.
//!
//! A create of a Service (other than `ExternalName` and headless ones) gets
//! a cluster IP from the service range 10.96.0.0/12 — the one it asked for
//! or a random free one — and every `NodePort`/`LoadBalancer` port a node
//! port from 30000–32767. Each allocation is a reservation key written in
//! the same transaction as the Service (created only if absent), so two
//! Services can never get the same IP or node port, on any replica; the
//! reservations are deleted in the transaction that deletes the Service.

use std::net::Ipv4Addr;

use rand::Rng;
use serde_json::{json, Value};

/// First address of the service range (10.96.0.0/12).
const RANGE_START: u32 = u32::from_be_bytes([10, 96, 0, 0]);
/// Addresses in the service range.
const RANGE_SIZE: u32 = 1 << 20;
/// Node port range.
const NODE_PORTS: std::ops::RangeInclusive<u16> = 30000..=32767;

/// Reservation key of a cluster IP.
pub fn ip_key(ip: &str) -> Vec<u8> {
    format!("/registry/core/serviceips/{ip}").into_bytes()
}

/// Reservation key of a node port.
pub fn node_port_key(port: u64) -> Vec<u8> {
    format!("/registry/core/servicenodeports/{port}").into_bytes()
}

/// Whether `ip` is inside the service range.
pub fn in_range(ip: &str) -> bool {
    ip.parse::<Ipv4Addr>().is_ok_and(|a| (RANGE_START..RANGE_START + RANGE_SIZE).contains(&u32::from(a)))
}

/// What a Service create must reserve.
#[derive(Debug, Default)]
pub struct Plan {
    /// Reservation keys to create with the Service.
    pub keys: Vec<Vec<u8>>,
    /// The cluster IP was chosen by the client (a taken one is an error,
    /// not a retry).
    pub requested_ip: Option<String>,
    /// Node ports chosen by the client.
    pub requested_ports: Vec<u64>,
}

/// Fill in a cluster IP and node ports on `svc` (random ones where the
/// client left them out) and return the reservations. Call again for a
/// retry: random choices are redrawn.
pub fn plan(svc: &mut Value) -> Result<Plan, String> {
    let mut p = Plan::default();
    let Some(spec) = svc.get_mut("spec").and_then(Value::as_object_mut) else { return Ok(p) };
    let ty = spec.get("type").and_then(Value::as_str).unwrap_or("ClusterIP").to_string();
    if ty == "ExternalName" {
        return Ok(p);
    }
    let mut rng = rand::thread_rng();
    match spec.get("clusterIP").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        Some("None") => {}
        Some(ip) => {
            if !in_range(ip) {
                return Err(format!(
                    "spec.clusterIPs[0]: Invalid value: \"{ip}\": provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12"
                ));
            }
            p.requested_ip = Some(ip.to_string());
            p.keys.push(ip_key(ip));
        }
        None => {
            let off = rng.gen_range(2..RANGE_SIZE - 1);
            let ip = Ipv4Addr::from(RANGE_START + off).to_string();
            p.keys.push(ip_key(&ip));
            spec.insert("clusterIP".into(), json!(ip));
            spec.insert("clusterIPs".into(), json!([ip]));
        }
    }
    if ty == "NodePort" || ty == "LoadBalancer" {
        if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
            for port in ports.iter_mut() {
                match port.get("nodePort").and_then(Value::as_u64).filter(|n| *n != 0) {
                    Some(n) => {
                        if !NODE_PORTS.contains(&(n as u16)) || n > u64::from(u16::MAX) {
                            return Err(format!(
                                "spec.ports.nodePort: Invalid value: {n}: provided port is not in the valid range. The range of valid ports is 30000-32767"
                            ));
                        }
                        p.requested_ports.push(n);
                        p.keys.push(node_port_key(n));
                    }
                    None => {
                        let n = u64::from(rng.gen_range(NODE_PORTS));
                        p.keys.push(node_port_key(n));
                        port["nodePort"] = json!(n);
                    }
                }
            }
        }
    }
    Ok(p)
}

/// The reservation keys a stored Service holds (for its delete).
pub fn held(svc: &Value) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    if let Some(ip) = svc.pointer("/spec/clusterIP").and_then(Value::as_str).filter(|s| !s.is_empty() && *s != "None") {
        keys.push(ip_key(ip));
    }
    for port in svc.pointer("/spec/ports").and_then(Value::as_array).into_iter().flatten() {
        if let Some(n) = port.get("nodePort").and_then(Value::as_u64).filter(|n| *n != 0) {
            keys.push(node_port_key(n));
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_fill_in_and_reserve_ips_and_node_ports() {
        let mut svc = json!({"spec": {"type": "NodePort", "ports": [{"port": 80}, {"port": 81, "nodePort": 30080}]}});
        let p = plan(&mut svc).unwrap();
        let ip = svc["spec"]["clusterIP"].as_str().unwrap().to_string();
        assert!(in_range(&ip) && ip != "10.96.0.0" && ip != "10.96.0.1");
        assert_eq!(svc["spec"]["clusterIPs"], json!([ip]));
        let np = svc["spec"]["ports"][0]["nodePort"].as_u64().unwrap();
        assert!((30000..=32767).contains(&np));
        assert_eq!(p.requested_ports, vec![30080]);
        assert_eq!(p.keys.len(), 3);
        assert_eq!(held(&svc), p.keys);
        let mut headless = json!({"spec": {"clusterIP": "None", "ports": [{"port": 80}]}});
        assert!(plan(&mut headless).unwrap().keys.is_empty());
        let mut outside = json!({"spec": {"clusterIP": "192.168.0.1"}});
        assert!(plan(&mut outside).unwrap_err().contains("not in the valid range"));
        let mut ext = json!({"spec": {"type": "ExternalName", "externalName": "x.example"}});
        assert!(plan(&mut ext).unwrap().keys.is_empty());
    }
}
