//! Node lifecycle (heartbeats → NotReady → taints → eviction) and leader
//! failover in the middle of a rolling update.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::*;

fn node_ready(n: &Value) -> String {
    n["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
        .map(|c| str_at(c, "/status").to_string())
        .unwrap_or_default()
}

fn deployment(name: &str, replicas: u32, image: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  strategy: {{rollingUpdate: {{maxSurge: 1, maxUnavailable: 0}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: c, image: "{image}"}}]
      tolerations:
      - {{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}}
      - {{key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 2}}
"#
    )
}

async fn live_pods(k: &Kubelet, app: &str) -> Vec<Value> {
    items(k, &format!("/api/v1/namespaces/default/pods?labelSelector=app%3D{app}"))
        .await
        .into_iter()
        .filter(|p| p.pointer("/metadata/deletionTimestamp").is_none())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dead_nodes_are_tainted_and_drained_and_a_leader_kill_changes_nothing() {
    let (_tmp, dir, _up) = common::start_cluster_with(&["--node-monitor-grace-period", "4"]).await;
    let base = common::front_url(&dir);
    let mut kubelet = Kubelet::new(&base);
    for n in ["node-1", "node-2", "node-3"] {
        kubelet.add_node(n, "4", "8Gi", &[], vec![]).await;
    }
    kubelet.start();
    let f = dir.join("lc.yaml");
    std::fs::write(&f, deployment("lc", 3, "busybox:1")).unwrap();
    ok(&dir, &["apply", "-f", f.to_str().unwrap()]).await;
    ok(&dir, &["rollout", "status", "deployment/lc", "--timeout=60s"]).await;
    let victim = str_at(&live_pods(&kubelet, "lc").await[0], "/spec/nodeName").to_string();

    // the node stops heartbeating → Unknown, tainted, pods evicted and replaced
    kubelet.kill_node(&victim);
    let node = eventually(Duration::from_secs(30), "the silent node is marked Unknown", || async {
        let n = get(&kubelet, &format!("/api/v1/nodes/{victim}")).await?;
        (node_ready(&n) == "Unknown").then_some(n)
    })
    .await;
    let taints = node["spec"]["taints"].as_array().cloned().unwrap_or_default();
    assert!(
        taints.iter().any(|t| t["key"] == "node.kubernetes.io/unreachable" && t["effect"] == "NoExecute"),
        "NoExecute taint: {taints:?}"
    );
    let shown = ok(&dir, &["get", "nodes"]).await;
    assert!(shown.contains("NotReady"), "kubectl shows NotReady: {shown}");
    eventually(Duration::from_secs(60), "3 ready pods on the live nodes", || async {
        let pods = live_pods(&kubelet, "lc").await;
        let good = pods.iter().filter(|p| str_at(p, "/spec/nodeName") != victim && is_ready(p)).count();
        (good == 3 && pods.len() == 3).then_some(())
    })
    .await;

    // SIGKILL the leader mid-rollout: the new leader finishes it, the surge
    // bound holds, and no live node goes NotReady because the leader changed
    ok(&dir, &["set", "image", "deployment/lc", "c=busybox:2"]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let killed_at = Instant::now();
    let killed = tokio::task::spawn_blocking({
        let d = dir.clone();
        move || common::kill_leader(&d)
    })
    .await
    .unwrap();
    let mut max_pods = 0;
    let mut min_ready = usize::MAX;
    loop {
        let pods = live_pods(&kubelet, "lc").await;
        if !pods.is_empty() {
            max_pods = max_pods.max(pods.len());
            min_ready = min_ready.min(pods.iter().filter(|p| is_ready(p)).count());
        }
        let done =
            pods.len() == 3 && pods.iter().all(|p| str_at(p, "/spec/containers/0/image") == "busybox:2" && is_ready(p));
        if done {
            break;
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(90),
            "the new leader did not finish the rollout ({killed} was killed)"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(max_pods <= 4, "surge bound through the failover: at most 4 pods, saw {max_pods}");
    assert!(min_ready >= 3 || min_ready == usize::MAX, "maxUnavailable 0 through the failover: saw {min_ready} ready");
    // well past the grace period after the failover, live nodes are Ready
    tokio::time::sleep(Duration::from_secs(6)).await;
    for n in ["node-1", "node-2", "node-3"].iter().filter(|n| **n != victim) {
        let node = get(&kubelet, &format!("/api/v1/nodes/{n}")).await.unwrap();
        assert_eq!(node_ready(&node), "True", "{n} stayed Ready through the failover");
    }
}
