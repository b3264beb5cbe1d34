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

/// What a Service write must reserve and release.
#[derive(Debug, Default)]
pub struct Plan {
    /// Reservation keys to create with the Service (each must be free).
    pub keys: Vec<Vec<u8>>,
    /// Reservation keys the Service no longer holds (update only).
    pub release: Vec<Vec<u8>>,
    /// Of `keys`, those the client chose (taken = an error, not a retry).
    pub requested: Vec<Vec<u8>>,
}

fn needs_node_ports(ty: &str) -> bool {
    ty == "NodePort" || ty == "LoadBalancer"
}

fn service_type(svc: &Value) -> String {
    svc.pointer("/spec/type").and_then(Value::as_str).unwrap_or("ClusterIP").to_string()
}

/// Fill in a cluster IP and node ports on `svc` where the client left them
/// out (random free-looking ones), checking the ones it chose. Returns the
/// keys `svc` holds and, of those, the ones the client chose.
/// Reservation keys.
type Keys = Vec<Vec<u8>>;

fn fill(svc: &mut Value) -> Result<(Keys, Keys), String> {
    let ty = service_type(svc);
    let mut requested = Vec::new();
    let Some(spec) = svc.get_mut("spec").and_then(Value::as_object_mut) else { return Ok((Vec::new(), requested)) };
    if ty == "ExternalName" {
        return Ok((Vec::new(), requested));
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
            requested.push(ip_key(ip));
        }
        None => {
            let off = rng.gen_range(2..RANGE_SIZE - 1);
            let ip = Ipv4Addr::from(RANGE_START + off).to_string();
            spec.insert("clusterIP".into(), json!(ip));
            spec.insert("clusterIPs".into(), json!([ip]));
        }
    }
    if needs_node_ports(&ty) {
        let ports = spec.get_mut("ports").and_then(Value::as_array_mut);
        let ports: &mut Vec<Value> = match ports {
            Some(p) => p,
            None => return Ok((held(svc), requested)),
        };
        let mut used: Vec<u64> =
            ports.iter().filter_map(|p| p.get("nodePort").and_then(Value::as_u64)).filter(|n| *n != 0).collect();
        for n in &used {
            if !(30000..=32767).contains(n) {
                return Err(format!(
                    "spec.ports.nodePort: Invalid value: {n}: provided port is not in the valid range. The range of valid ports is 30000-32767"
                ));
            }
            requested.push(node_port_key(*n));
        }
        for port in ports.iter_mut() {
            if port.get("nodePort").and_then(Value::as_u64).unwrap_or(0) == 0 {
                let n = loop {
                    let n = u64::from(rng.gen_range(NODE_PORTS));
                    if !used.contains(&n) {
                        break n;
                    }
                };
                used.push(n);
                port["nodePort"] = json!(n);
            }
        }
    }
    Ok((held(svc), requested))
}

/// Fill in a new Service's cluster IP and node ports and return what to
/// reserve. Call again for a retry: random choices are redrawn.
pub fn plan(svc: &mut Value) -> Result<Plan, String> {
    let (keys, requested) = fill(svc)?;
    Ok(Plan { keys, release: Vec::new(), requested })
}

/// For an update from `old` to `new`: fill in what the new type needs and
/// return the keys to reserve (held by `new` only) and release (held by
/// `old` only).
pub fn plan_update(old: &Value, new: &mut Value) -> Result<Plan, String> {
    let (now, requested) = fill(new)?;
    let before = held(old);
    let keys: Vec<Vec<u8>> = now.iter().filter(|k| !before.contains(k)).cloned().collect();
    let release = before.into_iter().filter(|k| !now.contains(k)).collect();
    let requested = requested.into_iter().filter(|k| keys.contains(k)).collect();
    Ok(Plan { keys, release, requested })
}

/// The reservation keys a Service holds (each once).
pub fn held(svc: &Value) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    if service_type(svc) == "ExternalName" {
        return keys;
    }
    if let Some(ip) = svc.pointer("/spec/clusterIP").and_then(Value::as_str).filter(|s| !s.is_empty() && *s != "None") {
        keys.push(ip_key(ip));
    }
    for port in svc.pointer("/spec/ports").and_then(Value::as_array).into_iter().flatten() {
        if let Some(n) = port.get("nodePort").and_then(Value::as_u64).filter(|n| *n != 0) {
            let k = node_port_key(n);
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    keys
}

/// A Service update that leaves out its allocated cluster IP or node ports
/// keeps them (as Kubernetes does) where its new type still uses them, so a
/// PUT of a manifest works. Ports are matched by (port, protocol).
pub fn carry(old: &Value, new: &mut Value) {
    let ty = service_type(new);
    let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) else { return };
    if ty != "ExternalName" && spec.get("clusterIP").and_then(Value::as_str).is_none_or(str::is_empty) {
        for f in ["clusterIP", "clusterIPs"] {
            if let Some(v) = old.pointer(&format!("/spec/{f}")) {
                spec.insert(f.into(), v.clone());
            }
        }
    }
    if !needs_node_ports(&ty) {
        // A type change drops the fields the old type needed, when the
        // client just carried them along (as Kubernetes does).
        let mut drop: Vec<&str> = vec!["externalTrafficPolicy", "allocateLoadBalancerNodePorts", "healthCheckNodePort"];
        if ty == "ExternalName" {
            drop.extend(["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"]);
        }
        for f in drop {
            if spec.get(f).is_some() && spec.get(f) == old.pointer(&format!("/spec/{f}")) {
                spec.remove(f);
            }
        }
        if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
            for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                p.remove("nodePort");
            }
        }
        return;
    }
    let proto = |p: &Value| p.get("protocol").and_then(Value::as_str).unwrap_or("TCP").to_string();
    let old_ports = old.pointer("/spec/ports").and_then(Value::as_array).cloned().unwrap_or_default();
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut() {
            if p.get("nodePort").and_then(Value::as_u64).unwrap_or(0) != 0 {
                continue;
            }
            let same = old_ports
                .iter()
                .find(|o| o.get("port") == p.get("port") && proto(o) == proto(p) && o.get("nodePort").is_some());
            if let (Some(o), Some(m)) = (same, p.as_object_mut()) {
                m.insert("nodePort".into(), o["nodePort"].clone());
            }
        }
    }
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
        assert_eq!(p.requested, vec![node_port_key(30080)]);
        assert_eq!(p.keys.len(), 3);
        assert_eq!(held(&svc), p.keys);
        // the same node port for TCP and UDP is one reservation
        let mut dns = json!({"spec": {"type": "NodePort", "ports": [{"port": 53, "nodePort": 30053}, {"port": 53, "protocol": "UDP", "nodePort": 30053}]}});
        assert_eq!(plan(&mut dns).unwrap().keys.len(), 2);
        // NodePort -> ClusterIP releases the node ports; ExternalName releases everything
        let mut cip = svc.clone();
        cip["spec"]["type"] = json!("ClusterIP");
        for p in cip["spec"]["ports"].as_array_mut().unwrap() {
            p.as_object_mut().unwrap().remove("nodePort");
        }
        let u = plan_update(&svc, &mut cip).unwrap();
        assert!(u.keys.is_empty());
        assert_eq!(u.release.len(), 2);
        let mut ext = json!({"spec": {"type": "ExternalName", "externalName": "x.example"}});
        assert_eq!(plan_update(&svc, &mut ext).unwrap().release.len(), 3);
        let mut headless = json!({"spec": {"clusterIP": "None", "ports": [{"port": 80}]}});
        assert!(plan(&mut headless).unwrap().keys.is_empty());
        let mut outside = json!({"spec": {"clusterIP": "192.168.0.1"}});
        assert!(plan(&mut outside).unwrap_err().contains("not in the valid range"));
        let mut ext = json!({"spec": {"type": "ExternalName", "externalName": "x.example"}});
        assert!(plan(&mut ext).unwrap().keys.is_empty());
    }
}
