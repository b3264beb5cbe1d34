//! A test kubelet (the issue allows it until the node agent exists): it
//! registers Node objects, renews their Leases in `kube-node-lease`, and
//! marks pods bound to its nodes Running and Ready through the real REST
//! API — or Succeeded / Failed when the image name says `succeed` / `fail`
//! — and confirms graceful deletions. A node can be "killed": it stops
//! heartbeating and stops touching its pods.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde_json::{json, Value};

pub struct Kubelet {
    base: String,
    http: reqwest::Client,
    alive: Arc<Mutex<HashSet<String>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Kubelet {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn now_secs() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Send a request; transport failures (the front closes connections while
/// no replica is ready, e.g. under load or right after a leader kill) are
/// retried for up to 10 s.
pub async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let attempt = req.try_clone().expect("requests with buffered bodies can be cloned");
        match attempt.send().await {
            Ok(r) => {
                let code = r.status().as_u16();
                return (code, r.json().await.unwrap_or(Value::Null));
            }
            Err(e) if std::time::Instant::now() > deadline => return (0, json!({"error": format!("{e:?}")})),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

impl Kubelet {
    /// A kubelet for `base` (e.g. `http://127.0.0.1:6443`).
    pub fn new(base: &str) -> Kubelet {
        Kubelet {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
            alive: Default::default(),
            stop: Default::default(),
            task: None,
        }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Register a Ready node with `cpu` cores, `mem` memory and labels/taints.
    pub async fn add_node(&self, name: &str, cpu: &str, mem: &str, labels: &[(&str, &str)], taints: Vec<Value>) {
        let mut l: BTreeMap<String, String> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        l.insert("kubernetes.io/hostname".into(), name.into());
        let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": l},
            "spec": {"taints": taints}});
        let (code, body) = send(self.http.post(self.url("/api/v1/nodes")).json(&node)).await;
        assert!(code == 201 || code == 409, "creating node {name}: {code} {body}");
        self.alive.lock().insert(name.to_string());
        self.heartbeat(name, cpu, mem).await;
    }

    async fn heartbeat(&self, name: &str, cpu: &str, mem: &str) {
        let status = json!({"status": {
            "capacity": {"cpu": cpu, "memory": mem, "pods": "110"},
            "allocatable": {"cpu": cpu, "memory": mem, "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                "message": "test kubelet is posting ready status", "lastHeartbeatTime": now_secs(), "lastTransitionTime": now_secs()}],
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}, {"type": "Hostname", "address": name}],
        }});
        let (code, body) = send(
            self.http
                .patch(self.url(&format!("/api/v1/nodes/{name}/status")))
                .header("content-type", "application/merge-patch+json")
                .json(&status),
        )
        .await;
        assert_eq!(code, 200, "node status {name}: {body}");
        renew_lease(&self.http, &self.base, name).await;
    }

    /// Stop heartbeating `name` and leave its pods alone.
    pub fn kill_node(&self, name: &str) {
        self.alive.lock().remove(name);
    }

    /// Start the background loop.
    pub fn start(&mut self) {
        let (http, base, alive, stop) = (self.http.clone(), self.base.clone(), self.alive.clone(), self.stop.clone());
        self.task = Some(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let nodes: Vec<String> = alive.lock().iter().cloned().collect();
                if n.is_multiple_of(8) {
                    for node in &nodes {
                        renew_lease(&http, &base, node).await;
                    }
                }
                n += 1;
                let (code, list) = send(http.get(format!("{base}/api/v1/pods"))).await;
                if code == 200 {
                    for pod in list["items"].as_array().cloned().unwrap_or_default() {
                        let node = pod.pointer("/spec/nodeName").and_then(Value::as_str).unwrap_or("");
                        if nodes.iter().any(|x| x == node) {
                            tend(&http, &base, &nodes, &pod).await;
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }));
    }
}

async fn renew_lease(http: &reqwest::Client, base: &str, node: &str) {
    let url = format!("{base}/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{node}");
    let body = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": node, "namespace": "kube-node-lease"},
        "spec": {"holderIdentity": node, "leaseDurationSeconds": 40, "renewTime": now()}});
    let (code, _) = send(
        http.patch(format!("{url}?fieldManager=test-kubelet&force=true"))
            .header("content-type", "application/apply-patch+yaml")
            .body(body.to_string()),
    )
    .await;
    if code != 200 && code != 201 {
        tracing_lite(&format!("lease renew for {node} got {code}"));
    }
}

fn tracing_lite(msg: &str) {
    eprintln!("test kubelet: {msg}");
}

/// Bring one pod on a live node to the state its image asks for.
async fn tend(http: &reqwest::Client, base: &str, nodes: &[String], pod: &Value) {
    let ns = pod.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("default");
    let name = pod.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    let path = format!("{base}/api/v1/namespaces/{ns}/pods/{name}");
    if pod.pointer("/metadata/deletionTimestamp").is_some() {
        let _ = send(http.delete(format!("{path}?gracePeriodSeconds=0"))).await;
        return;
    }
    let phase = pod.pointer("/status/phase").and_then(Value::as_str).unwrap_or("Pending");
    if phase != "Pending" {
        return;
    }
    let image = pod.pointer("/spec/containers/0/image").and_then(Value::as_str).unwrap_or("");
    let node = pod.pointer("/spec/nodeName").and_then(Value::as_str).unwrap_or("");
    let idx = nodes.iter().position(|n| n == node).unwrap_or(0);
    let uid = pod.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or("");
    let ip = format!("10.244.{}.{}", idx + 1, (uid.bytes().map(u32::from).sum::<u32>() % 250) + 2);
    let (phase, ready, state) = if image.contains("succeed") {
        ("Succeeded", "False", json!({"terminated": {"exitCode": 0, "reason": "Completed", "finishedAt": now_secs()}}))
    } else if image.contains("fail") {
        ("Failed", "False", json!({"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": now_secs()}}))
    } else {
        ("Running", "True", json!({"running": {"startedAt": now_secs()}}))
    };
    let cname = pod.pointer("/spec/containers/0/name").and_then(Value::as_str).unwrap_or("c");
    let status = json!({"status": {
        "phase": phase, "podIP": ip, "podIPs": [{"ip": ip}], "hostIP": "127.0.0.1", "startTime": now_secs(),
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now_secs()},
            {"type": "Initialized", "status": "True", "lastTransitionTime": now_secs()},
            {"type": "ContainersReady", "status": ready, "lastTransitionTime": now_secs()},
            {"type": "Ready", "status": ready, "lastTransitionTime": now_secs()}],
        "containerStatuses": [{"name": cname, "image": image, "imageID": "", "ready": ready == "True",
            "restartCount": 0, "started": ready == "True", "state": state}],
    }});
    let _ =
        send(http.patch(format!("{path}/status")).header("content-type", "application/merge-patch+json").json(&status))
            .await;
}
