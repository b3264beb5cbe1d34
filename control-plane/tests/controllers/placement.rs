//! Scheduler placement decisions, scheduler profiles, Jobs, CronJobs and
//! Endpoints.

use std::time::Duration;

use serde_json::{json, Value};

use super::*;

async fn create_pod(k: &Kubelet, name: &str, spec: Value) {
    let mut spec = spec;
    if spec.get("containers").is_none() {
        spec["containers"] = json!([{"name": "c", "image": "busybox:1"}]);
    }
    let pod =
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"t": name}}, "spec": spec});
    let (code, body) = send(k.http().post(k.url("/api/v1/namespaces/default/pods")).json(&pod)).await;
    assert_eq!(code, 201, "create pod {name}: {body}");
}

async fn node_of(k: &Kubelet, name: &str) -> String {
    eventually(Duration::from_secs(30), &format!("pod {name} bound"), || async {
        let p = get(k, &format!("/api/v1/namespaces/default/pods/{name}")).await?;
        let n = str_at(&p, "/spec/nodeName");
        (!n.is_empty()).then(|| n.to_string())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_scheduler_places_pods_by_resources_labels_taints_and_affinity() {
    let (_tmp, dir, _up) = common::start_cluster().await;
    let base = common::front_url(&dir);
    let mut kubelet = Kubelet::new(&base);
    kubelet.add_node("small", "1", "2Gi", &[("disk", "ssd")], vec![]).await;
    kubelet
        .add_node(
            "gpu",
            "8",
            "16Gi",
            &[("disk", "hdd")],
            vec![json!({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"})],
        )
        .await;
    kubelet.start();

    // no node fits: Pending, with the reason per filter in an Event
    let big = json!({"containers": [{"name": "c", "image": "busybox:1", "resources": {"requests": {"cpu": "2"}}}]});
    create_pod(&kubelet, "big", big).await;
    let msg = eventually(Duration::from_secs(30), "FailedScheduling event for big", || async {
        let evs = items(&kubelet, "/api/v1/namespaces/default/events").await;
        evs.iter()
            .find(|e| str_at(e, "/involvedObject/name") == "big" && str_at(e, "/reason") == "FailedScheduling")
            .map(|e| str_at(e, "/message").to_string())
    })
    .await;
    assert_eq!(msg, "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: gpu}.");
    let pod = get(&kubelet, "/api/v1/namespaces/default/pods/big").await.unwrap();
    assert_eq!(str_at(&pod, "/status/phase"), "Pending");
    let cond =
        pod["status"]["conditions"].as_array().unwrap().iter().find(|c| c["type"] == "PodScheduled").cloned().unwrap();
    assert_eq!((cond["status"].as_str(), cond["reason"].as_str()), (Some("False"), Some("Unschedulable")));
    let described = ok(&dir, &["describe", "pod", "big"]).await;
    assert!(described.contains("FailedScheduling"), "kubectl describe shows the reason: {described}");

    // a new node that fits → the pending pod is bound to it
    kubelet.add_node("large", "4", "8Gi", &[("disk", "hdd")], vec![]).await;
    assert_eq!(node_of(&kubelet, "big").await, "large");

    // nodeSelector
    create_pod(&kubelet, "sel", json!({"nodeSelector": {"disk": "ssd"}})).await;
    assert_eq!(node_of(&kubelet, "sel").await, "small");

    // a toleration plus required node affinity lands on the tainted node
    create_pod(
        &kubelet,
        "tol",
        json!({
            "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["gpu"]}]}]}}}
        }),
    )
    .await;
    assert_eq!(node_of(&kubelet, "tol").await, "gpu");
    // without the toleration, the same affinity cannot be met
    create_pod(
        &kubelet,
        "notol",
        json!({
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["gpu"]}]}]}}}
        }),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let p = get(&kubelet, "/api/v1/namespaces/default/pods/notol").await.unwrap();
    assert_eq!(str_at(&p, "/spec/nodeName"), "", "an untolerated taint keeps the pod off the node");

    // pod anti-affinity by hostname: two pods of one app on different nodes
    let anti = |app: &str| {
        json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"group": app}}, "topologyKey": "kubernetes.io/hostname"}]}}})
    };
    for n in ["aa-1", "aa-2"] {
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": n, "labels": {"group": "aa"}},
            "spec": {"containers": [{"name": "c", "image": "busybox:1"}], "affinity": anti("aa")["affinity"].clone()}});
        let (code, body) = send(kubelet.http().post(kubelet.url("/api/v1/namespaces/default/pods")).json(&pod)).await;
        assert_eq!(code, 201, "{body}");
    }
    let (a, b) = (node_of(&kubelet, "aa-1").await, node_of(&kubelet, "aa-2").await);
    assert_ne!(a, b, "anti-affinity keeps the pods apart");

    // kubectl shows where pods run
    let wide = ok(&dir, &["get", "pods", "-o", "wide"]).await;
    assert!(wide.contains("large") && wide.contains("small"), "{wide}");

    // Endpoints follow the Service selector and only ready pods' IPs
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "anti"},
        "spec": {"selector": {"group": "aa"}, "ports": [{"port": 80, "targetPort": 8080}]}});
    let (code, body) = send(kubelet.http().post(kubelet.url("/api/v1/namespaces/default/services")).json(&svc)).await;
    assert_eq!(code, 201, "{body}");
    let ips = eventually(Duration::from_secs(30), "endpoints with both ready pods", || async {
        let ep = get(&kubelet, "/api/v1/namespaces/default/endpoints/anti").await?;
        let addrs = ep.pointer("/subsets/0/addresses")?.as_array()?.clone();
        (addrs.len() == 2).then(|| addrs.iter().map(|a| str_at(a, "/ip").to_string()).collect::<Vec<_>>())
    })
    .await;
    assert!(ips.iter().all(|ip| ip.starts_with("10.244.")), "{ips:?}");
    let port = get(&kubelet, "/api/v1/namespaces/default/endpoints/anti").await.unwrap();
    assert_eq!(port.pointer("/subsets/0/ports/0/port"), Some(&json!(8080)));
    // a pod that stops being ready moves to notReadyAddresses
    let status = json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}});
    let (code, body) = send(
        kubelet
            .http()
            .patch(kubelet.url("/api/v1/namespaces/default/pods/aa-1/status"))
            .header("content-type", "application/merge-patch+json")
            .json(&status),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    eventually(Duration::from_secs(30), "aa-1 not ready in the endpoints", || async {
        let ep = get(&kubelet, "/api/v1/namespaces/default/endpoints/anti").await?;
        let ready = ep.pointer("/subsets/0/addresses").and_then(Value::as_array).map_or(0, |a| a.len());
        let not_ready = ep.pointer("/subsets/0/notReadyAddresses").and_then(Value::as_array).map_or(0, |a| a.len());
        (ready == 1 && not_ready == 1).then_some(())
    })
    .await;
    let shown = ok(&dir, &["get", "endpoints", "anti"]).await;
    assert!(shown.contains(":8080"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn jobs_complete_fail_at_the_backoff_limit_and_cronjobs_fire() {
    let (_tmp, dir, _up) = common::start_cluster().await;
    let base = common::front_url(&dir);
    let mut kubelet = Kubelet::new(&base);
    for n in ["node-1", "node-2"] {
        kubelet.add_node(n, "4", "8Gi", &[], vec![]).await;
    }
    kubelet.start();

    let job = |name: &str, image: &str, extra: Value| {
        let mut spec = json!({"template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "c", "image": image}]}}});
        for (k, v) in extra.as_object().unwrap() {
            spec[k] = v.clone();
        }
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": spec})
    };
    let post = |body: Value| {
        let k = &kubelet;
        async move {
            let (code, b) = send(k.http().post(k.url("/apis/batch/v1/namespaces/default/jobs")).json(&body)).await;
            assert_eq!(code, 201, "{b}");
        }
    };
    post(job("five", "test/succeed", json!({"completions": 5, "parallelism": 2}))).await;
    post(job("broken", "test/fail", json!({"backoffLimit": 2}))).await;

    let done = eventually(Duration::from_secs(90), "job five complete", || async {
        let j = get(&kubelet, "/apis/batch/v1/namespaces/default/jobs/five").await?;
        let complete =
            j["status"]["conditions"].as_array()?.iter().any(|c| c["type"] == "Complete" && c["status"] == "True");
        complete.then_some(j)
    })
    .await;
    assert_eq!(done["status"]["succeeded"], 5);
    let pods = items(&kubelet, "/api/v1/namespaces/default/pods?labelSelector=job-name%3Dfive").await;
    assert_eq!(pods.len(), 5, "exactly 5 pods ran");
    let out = ok(&dir, &["get", "jobs", "five"]).await;
    assert!(out.contains("5/5"), "kubectl shows completions: {out}");

    let failed = eventually(Duration::from_secs(120), "job broken failed", || async {
        let j = get(&kubelet, "/apis/batch/v1/namespaces/default/jobs/broken").await?;
        let c = j["status"]["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == "Failed" && c["status"] == "True")?
            .clone();
        Some((j, c))
    })
    .await;
    assert_eq!(failed.1["reason"], "BackoffLimitExceeded");
    let pods = items(&kubelet, "/api/v1/namespaces/default/pods?labelSelector=job-name%3Dbroken").await;
    assert_eq!(pods.len(), 3, "backoffLimit 2 allows 3 attempts");

    // a CronJob fires on a real minute boundary; Forbid never overlaps
    let cj = json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "tick"},
        "spec": {"schedule": "* * * * *", "concurrencyPolicy": "Forbid",
            "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "Never",
                "containers": [{"name": "c", "image": "busybox:1"}]}}}}}});
    let (code, b) =
        send(kubelet.http().post(kubelet.url("/apis/batch/v1/namespaces/default/cronjobs")).json(&cj)).await;
    assert_eq!(code, 201, "{b}");
    let first = eventually(Duration::from_secs(75), "the CronJob created a Job", || async {
        let jobs = items(&kubelet, "/apis/batch/v1/namespaces/default/jobs").await;
        jobs.into_iter().find(|j| str_at(j, "/metadata/name").starts_with("tick-"))
    })
    .await;
    let scheduled =
        str_at(&first, "/metadata/annotations/batch.kubernetes.io~1cronjob-scheduled-timestamp").to_string();
    assert!(scheduled.ends_with(":00Z"), "scheduled on a minute boundary: {scheduled}");
    let cjs = eventually(Duration::from_secs(10), "the CronJob reports it", || async {
        let c = get(&kubelet, "/apis/batch/v1/namespaces/default/cronjobs/tick").await?;
        (c["status"]["active"].as_array().is_some_and(|a| a.len() == 1) && c["status"]["lastScheduleTime"].is_string())
            .then_some(c)
    })
    .await;
    assert!(cjs["status"]["active"][0]["name"].as_str().unwrap().starts_with("tick-"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_scheduler_profile_that_packs_changes_placement() {
    let cfg = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        cfg.path(),
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n\
         - schedulerName: default-scheduler\n  pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      \
         scoringStrategy:\n        type: MostAllocated\n",
    )
    .unwrap();
    let path = cfg.path().to_str().unwrap().to_string();
    let (_tmp, dir, _up) = common::start_cluster_with(&["--scheduler-config", &path]).await;
    let base = common::front_url(&dir);
    let mut kubelet = Kubelet::new(&base);
    kubelet.add_node("a", "4", "8Gi", &[], vec![]).await;
    kubelet.add_node("b", "4", "8Gi", &[], vec![]).await;
    kubelet.start();
    let req = json!({"containers": [{"name": "c", "image": "busybox:1", "resources": {"requests": {"cpu": "500m", "memory": "256Mi"}}}]});
    let mut nodes = std::collections::BTreeSet::new();
    for i in 0..4 {
        let name = format!("packed-{i}");
        create_pod(&kubelet, &name, req.clone()).await;
        // one at a time, so each decision sees the previous placement
        nodes.insert(node_of(&kubelet, &name).await);
    }
    assert_eq!(nodes.len(), 1, "MostAllocated packs every pod onto one node: {nodes:?}");
}
