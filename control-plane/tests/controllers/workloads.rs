//! Deployments, ReplicaSets, garbage collection and failover through kubectl.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::*;

fn deployment(name: &str, replicas: u32, image: &str, extra_pod_spec: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {{maxSurge: 1, maxUnavailable: 1}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: c
        image: {image}
        resources:
          requests: {{cpu: 100m, memory: 64Mi}}
{extra_pod_spec}"#
    )
}

async fn apply(dir: &std::path::Path, manifest: &str) {
    let f = dir.join(format!("m-{}.yaml", rand_suffix()));
    std::fs::write(&f, manifest).unwrap();
    ok(dir, &["apply", "-f", f.to_str().unwrap()]).await;
}

fn rand_suffix() -> u64 {
    use std::time::SystemTime;
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos() as u64
}

async fn app_pods(k: &Kubelet, app: &str) -> Vec<Value> {
    items(k, &format!("/api/v1/namespaces/default/pods?labelSelector=app%3D{app}")).await
}

/// Samples the surge invariant while a rollout runs: the most pods that
/// existed at once (not terminating) and the fewest ready.
struct Sampler {
    max_pods: Arc<AtomicUsize>,
    min_ready: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<usize>,
}

impl Sampler {
    fn start(base: &str, app: &str) -> Sampler {
        let k = Kubelet::new(base);
        let (max_pods, min_ready, stop) =
            (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(usize::MAX)), Arc::new(AtomicBool::new(false)));
        let (mp, mr, st, app) = (max_pods.clone(), min_ready.clone(), stop.clone(), app.to_string());
        let task = tokio::spawn(async move {
            let mut samples = 0;
            while !st.load(Ordering::SeqCst) {
                let pods = app_pods(&k, &app).await;
                if !pods.is_empty() {
                    let live: Vec<&Value> =
                        pods.iter().filter(|p| p.pointer("/metadata/deletionTimestamp").is_none()).collect();
                    mp.fetch_max(live.len(), Ordering::SeqCst);
                    mr.fetch_min(live.iter().filter(|p| is_ready(p)).count(), Ordering::SeqCst);
                    samples += 1;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            samples
        });
        Sampler { max_pods, min_ready, stop, task }
    }

    async fn finish(self) -> (usize, usize, usize) {
        self.stop.store(true, Ordering::SeqCst);
        let samples = self.task.await.unwrap();
        (self.max_pods.load(Ordering::SeqCst), self.min_ready.load(Ordering::SeqCst), samples)
    }
}

async fn images(k: &Kubelet, app: &str) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for p in app_pods(k, app).await {
        if p.pointer("/metadata/deletionTimestamp").is_none() {
            *m.entry(str_at(&p, "/spec/containers/0/image").to_string()).or_insert(0) += 1;
        }
    }
    m
}

async fn ready_count(k: &Kubelet, app: &str, want: usize) -> Option<()> {
    let pods = app_pods(k, app).await;
    let live: Vec<&Value> = pods.iter().filter(|p| p.pointer("/metadata/deletionTimestamp").is_none()).collect();
    (live.len() == want && live.iter().all(|p| is_ready(p))).then_some(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deployments_roll_out_undo_scale_and_are_collected() {
    let (_tmp, dir, _up) = common::start_cluster().await;
    let base = common::front_url(&dir);
    let mut kubelet = Kubelet::new(&base);
    for n in ["node-1", "node-2", "node-3"] {
        kubelet.add_node(n, "4", "8Gi", &[], vec![]).await;
    }
    kubelet.start();

    // 6 replicas over 3 nodes: rollout completes, pods spread 2/2/2
    apply(&dir, &deployment("web", 6, "busybox:1", "")).await;
    ok(&dir, &["rollout", "status", "deployment/web", "--timeout=90s"]).await;
    let mut per_node = BTreeMap::new();
    for p in app_pods(&kubelet, "web").await {
        *per_node.entry(str_at(&p, "/spec/nodeName").to_string()).or_insert(0) += 1;
    }
    assert_eq!(per_node.values().copied().collect::<Vec<_>>(), vec![2, 2, 2], "spread: {per_node:?}");
    let out = ok(&dir, &["get", "deployment", "web"]).await;
    assert!(out.contains("6/6"), "kubectl get shows ready 6/6: {out}");

    // rolling update: never fewer than 5 ready, never more than 7 pods
    let sampler = Sampler::start(&base, "web");
    ok(&dir, &["set", "image", "deployment/web", "c=busybox:2"]).await;
    ok(&dir, &["rollout", "status", "deployment/web", "--timeout=90s"]).await;
    eventually(Duration::from_secs(30), "only busybox:2 pods", || async {
        (images(&kubelet, "web").await == BTreeMap::from([("busybox:2".to_string(), 6)])).then_some(())
    })
    .await;
    let (max_pods, min_ready, samples) = sampler.finish().await;
    assert!(samples > 5, "the sampler ran ({samples} samples)");
    assert!(max_pods <= 7, "surge bound: at most replicas+maxSurge=7 pods, saw {max_pods}");
    assert!(min_ready >= 5, "availability bound: at least replicas-maxUnavailable=5 ready, saw {min_ready}");

    // rollout undo restores the previous template
    ok(&dir, &["rollout", "undo", "deployment/web"]).await;
    ok(&dir, &["rollout", "status", "deployment/web", "--timeout=90s"]).await;
    eventually(Duration::from_secs(30), "busybox:1 back after undo", || async {
        (images(&kubelet, "web").await == BTreeMap::from([("busybox:1".to_string(), 6)])).then_some(())
    })
    .await;
    let history = ok(&dir, &["rollout", "history", "deployment/web"]).await;
    assert!(history.contains('3'), "undo made revision 3: {history}");

    // scale both ways
    ok(&dir, &["scale", "deployment/web", "--replicas=9"]).await;
    eventually(Duration::from_secs(60), "9 ready pods", || ready_count(&kubelet, "web", 9)).await;
    ok(&dir, &["scale", "deployment/web", "--replicas=2"]).await;
    eventually(Duration::from_secs(60), "2 pods after scaling down", || ready_count(&kubelet, "web", 2)).await;
    ok(&dir, &["rollout", "status", "deployment/web", "--timeout=60s"]).await;

    // background deletion (kubectl's default) removes ReplicaSets and pods
    ok(&dir, &["delete", "deployment", "web"]).await;
    eventually(Duration::from_secs(60), "ReplicaSets and pods collected", || async {
        let rs = items(&kubelet, "/apis/apps/v1/namespaces/default/replicasets").await;
        (rs.is_empty() && app_pods(&kubelet, "web").await.is_empty()).then_some(())
    })
    .await;

    // foreground: the Deployment stays until its dependents are gone
    apply(&dir, &deployment("fg", 2, "busybox:1", "")).await;
    ok(&dir, &["rollout", "status", "deployment/fg", "--timeout=60s"]).await;
    ok(&dir, &["delete", "deployment", "fg", "--cascade=foreground", "--wait=false"]).await;
    eventually(Duration::from_secs(60), "foreground deletion completes", || async {
        let d = get(&kubelet, "/apis/apps/v1/namespaces/default/deployments/fg").await;
        (d.is_none() && app_pods(&kubelet, "fg").await.is_empty()).then_some(())
    })
    .await;

    // orphan keeps the ReplicaSet and pods, without an owner
    apply(&dir, &deployment("orph", 2, "busybox:1", "")).await;
    ok(&dir, &["rollout", "status", "deployment/orph", "--timeout=60s"]).await;
    ok(&dir, &["delete", "deployment", "orph", "--cascade=orphan"]).await;
    eventually(Duration::from_secs(30), "orphaned ReplicaSet released", || async {
        let rs = items(&kubelet, "/apis/apps/v1/namespaces/default/replicasets").await;
        let orphaned = rs.iter().any(|r| {
            str_at(r, "/metadata/name").starts_with("orph-")
                && r.pointer("/metadata/ownerReferences").is_none_or(|o| o.as_array().is_some_and(|a| a.is_empty()))
        });
        orphaned.then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(app_pods(&kubelet, "orph").await.len(), 2, "orphaned pods are kept");

    // deleting a namespace empties it, then removes it
    ok(&dir, &["create", "namespace", "scratch"]).await;
    ok(&dir, &["-n", "scratch", "create", "configmap", "a", "--from-literal=k=v"]).await;
    ok(&dir, &["-n", "scratch", "create", "deployment", "d", "--image=busybox:1", "--replicas=2"]).await;
    eventually(Duration::from_secs(60), "scratch pods running", || async {
        (items(&kubelet, "/api/v1/namespaces/scratch/pods").await.len() == 2).then_some(())
    })
    .await;
    ok(&dir, &["delete", "namespace", "scratch", "--wait=false"]).await;
    eventually(Duration::from_secs(60), "namespace scratch gone", || async {
        get(&kubelet, "/api/v1/namespaces/scratch").await.is_none().then_some(())
    })
    .await;
}
