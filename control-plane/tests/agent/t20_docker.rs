//! The Docker agent: pods as real containers with the pod semantics users
//! rely on (shared localhost and emptyDir, init containers, restarts,
//! probes, graceful termination) and clear errors for bad input.

use std::time::{Duration, Instant};

use crate::common;
use crate::harness::*;

fn node_name(tag: &str) -> String {
    format!("dk-{tag}-{}", std::process::id())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sidecar_reaches_main_on_localhost_and_reads_its_empty_dir_after_an_init_container() {
    let (tmp, dir, _up) = common::start_cluster().await;
    let node = node_name("pair");
    let _clean = NodeContainers(node.clone());
    let data = tmp.path().join("agent");
    let _agent = start_docker_agent(&dir, &node, &data, &tmp.path().join("agent.log"));
    apply(
        &dir,
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: pair}}
spec:
  nodeName: {node}
  volumes: [{{name: shared, emptyDir: {{}}}}]
  initContainers:
  - name: init
    image: helmsman/busybox:1.35
    command: ["sh", "-c", "echo from-init > /shared/init.txt"]
    volumeMounts: [{{name: shared, mountPath: /shared}}]
  containers:
  - name: main
    image: helmsman/busybox:1.35
    command: ["sh", "-c", "cat /shared/init.txt > /shared/msg && echo hello-from-main >> /shared/msg && exec httpd -f -p 8080 -h /shared"]
    volumeMounts: [{{name: shared, mountPath: /shared}}]
  - name: sidecar
    image: helmsman/busybox:1.35
    command: ["sh", "-c", "until printf 'GET /msg HTTP/1.0\\r\\n\\r\\n' | nc 127.0.0.1 8080 | grep -q hello-from-main; do sleep 0.3; done; cat /data/msg > /data/seen-by-sidecar; exec sleep 3600"]
    volumeMounts: [{{name: shared, mountPath: /data}}]
"#
        ),
    );
    let p = must_eventually("the pod to run with both containers ready", Duration::from_secs(90), || {
        pod(&dir, "default", "pair").filter(running_ready)
    })
    .await;
    assert!(p["status"]["podIP"].as_str().is_some_and(|ip| !ip.is_empty()), "{p}");
    assert_eq!(p["status"]["initContainerStatuses"][0]["state"]["terminated"]["reason"], "Completed", "{p}");
    let uid = p["metadata"]["uid"].as_str().unwrap().to_string();
    // The sidecar fetched the file over localhost and wrote what it saw
    // into the shared emptyDir.
    let seen = data.join("pods").join(&uid).join("volumes").join("shared").join("seen-by-sidecar");
    let text = must_eventually("the sidecar's file", Duration::from_secs(30), || {
        std::fs::read_to_string(&seen).ok().filter(|t| t.contains("hello-from-main"))
    })
    .await;
    assert!(text.contains("from-init"), "the init container ran first: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_probes_and_crash_loops() {
    let (tmp, dir, _up) = common::start_cluster().await;
    let node = node_name("probe");
    let _clean = NodeContainers(node.clone());
    let _agent = start_docker_agent(&dir, &node, &tmp.path().join("agent"), &tmp.path().join("agent.log"));
    apply(
        &dir,
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: live, labels: {{app: live}}}}
spec:
  nodeName: {node}
  containers:
  - name: c
    image: helmsman/busybox:1.35
    command: ["sh", "-c", "touch /tmp/healthy; sleep 4; rm /tmp/healthy; exec sleep 3600"]
    livenessProbe: {{exec: {{command: ["test", "-f", "/tmp/healthy"]}}, periodSeconds: 1, failureThreshold: 2}}
---
apiVersion: v1
kind: Pod
metadata: {{name: ready, labels: {{app: ready}}}}
spec:
  nodeName: {node}
  containers:
  - name: c
    image: helmsman/busybox:1.35
    command: ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && httpd -p 8080 -h /www; sleep 6; rm /www/index.html; exec sleep 3600"]
    readinessProbe: {{httpGet: {{path: /index.html, port: 8080}}, periodSeconds: 1, failureThreshold: 1}}
---
apiVersion: v1
kind: Service
metadata: {{name: ready}}
spec:
  selector: {{app: ready}}
  ports: [{{port: 80, targetPort: 8080}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: crash}}
spec:
  nodeName: {node}
  containers:
  - name: c
    image: helmsman/busybox:1.35
    command: ["sh", "-c", "echo crashing; exit 2"]
"#
        ),
    );
    // Readiness: Ready, in the Service's endpoints; then not.
    must_eventually("the ready pod in the endpoints", Duration::from_secs(60), || {
        let ep = get_json(&dir, &["endpoints", "ready"])?;
        ep["subsets"][0]["addresses"].as_array().filter(|a| !a.is_empty()).map(|_| ())
    })
    .await;
    must_eventually("readiness to fail and the pod to leave the endpoints", Duration::from_secs(60), || {
        let p = pod(&dir, "default", "ready")?;
        let ready = p["status"]["conditions"].as_array()?.iter().any(|c| c["type"] == "Ready" && c["status"] == "True");
        let ep = get_json(&dir, &["endpoints", "ready"])?;
        let addrs = ep["subsets"][0]["addresses"].as_array().map(|a| a.len()).unwrap_or(0);
        (!ready && addrs == 0 && p["status"]["phase"] == "Running").then_some(())
    })
    .await;
    // Liveness: restarted, with an Unhealthy event.
    must_eventually("the liveness probe to restart the container", Duration::from_secs(60), || {
        let p = pod(&dir, "default", "live")?;
        (p["status"]["containerStatuses"][0]["restartCount"].as_i64()? >= 1).then_some(())
    })
    .await;
    let reasons = event_reasons(&dir, "default", "live");
    assert!(reasons.iter().any(|r| r == "Unhealthy"), "{reasons:?}");
    assert!(reasons.iter().any(|r| r == "Killing"), "{reasons:?}");
    // Crash loop: CrashLoopBackOff with the last exit in lastState.
    let p = must_eventually("CrashLoopBackOff", Duration::from_secs(60), || {
        pod(&dir, "default", "crash").filter(|p| {
            waiting_reason(p).as_deref() == Some("CrashLoopBackOff")
                && p["status"]["containerStatuses"][0]["restartCount"].as_i64().unwrap_or(0) >= 1
        })
    })
    .await;
    assert_eq!(p["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"], 2, "{p}");
    assert_eq!(p["status"]["containerStatuses"][0]["lastState"]["terminated"]["reason"], "Error", "{p}");
    assert!(event_reasons(&dir, "default", "crash").iter().any(|r| r == "BackOff"));
    // Growing delays: the second restart comes no sooner than 10 s after the first.
    let t1 = Instant::now();
    must_eventually("a second restart", Duration::from_secs(60), || {
        let p = pod(&dir, "default", "crash")?;
        (p["status"]["containerStatuses"][0]["restartCount"].as_i64()? >= 2).then_some(())
    })
    .await;
    let _ = t1;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_complete_and_deletion_honours_the_grace_period() {
    let (tmp, dir, _up) = common::start_cluster().await;
    let node = node_name("job");
    let _clean = NodeContainers(node.clone());
    let _agent = start_docker_agent(&dir, &node, &tmp.path().join("agent"), &tmp.path().join("agent.log"));
    apply(
        &dir,
        r#"
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  backoffLimit: 4
  template:
    spec:
      restartPolicy: OnFailure
      volumes: [{name: w, emptyDir: {}}]
      containers:
      - name: c
        image: helmsman/busybox:1.35
        command: ["sh", "-c", "if [ -f /w/tried ]; then echo second try; exit 0; fi; touch /w/tried; exit 1"]
        volumeMounts: [{name: w, mountPath: /w}]
"#,
    );
    must_eventually("the Job to complete", Duration::from_secs(90), || {
        let j = get_json(&dir, &["job", "once"])?;
        (j["status"]["succeeded"].as_i64() == Some(1)).then_some(())
    })
    .await;
    let jp = pods(&dir, "default", "job-name=once");
    assert_eq!(jp[0]["status"]["phase"], "Succeeded", "{:?}", jp[0]);
    assert_eq!(jp[0]["status"]["containerStatuses"][0]["restartCount"], 1, "{:?}", jp[0]);

    // A container that ignores SIGTERM is killed at the deadline.
    apply(
        &dir,
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: stubborn}}
spec:
  nodeName: {node}
  terminationGracePeriodSeconds: 3
  containers:
  - name: c
    image: helmsman/busybox:1.35
    command: ["sh", "-c", "trap '' TERM; while :; do sleep 1; done"]
---
apiVersion: v1
kind: Pod
metadata: {{name: polite}}
spec:
  nodeName: {node}
  containers:
  - name: c
    image: helmsman/busybox:1.35
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
"#
        ),
    );
    for name in ["stubborn", "polite"] {
        must_eventually("the pod to run", Duration::from_secs(60), || pod(&dir, "default", name).filter(running_ready))
            .await;
    }
    let uid = pod(&dir, "default", "stubborn").unwrap()["metadata"]["uid"].as_str().unwrap().to_string();
    let start = Instant::now();
    let (ok, out, err) = common::kubectl(&dir, &["delete", "pod", "stubborn", "polite", "--wait=false"]);
    assert!(ok, "{out}{err}");
    must_eventually("the polite pod to go quickly", Duration::from_secs(20), || {
        pod(&dir, "default", "polite").is_none().then_some(())
    })
    .await;
    must_eventually("the stubborn pod to go", Duration::from_secs(30), || {
        pod(&dir, "default", "stubborn").is_none().then_some(())
    })
    .await;
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(2500), "the grace period was honoured: {took:?}");
    assert!(took < Duration::from_secs(15), "killed at the deadline: {took:?}");
    must_eventually("its containers to be removed", Duration::from_secs(20), || {
        container_ids(&uid).is_empty().then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_shows_in_status_and_leaves_the_agent_healthy() {
    let (tmp, dir, _up) = common::start_cluster().await;
    let node = node_name("bad");
    let _clean = NodeContainers(node.clone());
    let _agent = start_docker_agent(&dir, &node, &tmp.path().join("agent"), &tmp.path().join("agent.log"));
    apply(
        &dir,
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: noimage}}
spec:
  nodeName: {node}
  containers: [{{name: c, image: "helmsman/does-not-exist:9.9"}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: nocommand}}
spec:
  nodeName: {node}
  containers: [{{name: c, image: "helmsman/busybox:1.35", command: ["/no/such/binary"]}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: huge}}
spec:
  containers:
  - name: c
    image: helmsman/busybox:1.35
    resources: {{requests: {{cpu: "500"}}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: fine}}
spec:
  nodeName: {node}
  containers: [{{name: c, image: "helmsman/busybox:1.35", command: ["sleep", "3600"]}}]
"#
        ),
    );
    let p = must_eventually("ErrImagePull / ImagePullBackOff", Duration::from_secs(60), || {
        pod(&dir, "default", "noimage")
            .filter(|p| matches!(waiting_reason(p).as_deref(), Some("ErrImagePull") | Some("ImagePullBackOff")))
    })
    .await;
    let msg = p["status"]["containerStatuses"][0]["state"]["waiting"]["message"].as_str().unwrap_or("");
    assert!(!msg.is_empty(), "the engine's message is shown: {p}");
    let p = must_eventually("a container error for a bad command", Duration::from_secs(60), || {
        pod(&dir, "default", "nocommand").filter(|p| {
            let w = waiting_reason(p);
            let t =
                p["status"]["containerStatuses"][0]["lastState"]["terminated"]["reason"].as_str().map(str::to_string);
            matches!(w.as_deref(), Some("CreateContainerError") | Some("RunContainerError") | Some("CrashLoopBackOff"))
                && (w.as_deref() != Some("CrashLoopBackOff") || t.is_some())
        })
    })
    .await;
    let text = p["status"]["containerStatuses"][0].to_string();
    assert!(text.contains("no/such/binary") || text.contains("ContainerError"), "{text}");
    let p = must_eventually("the huge pod to stay Pending with a reason", Duration::from_secs(30), || {
        pod(&dir, "default", "huge").filter(|p| {
            p["status"]["conditions"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["type"] == "PodScheduled" && c["status"] == "False"))
        })
    })
    .await;
    assert_eq!(p["status"]["phase"], "Pending");
    assert!(p["status"]["conditions"].to_string().contains("Insufficient cpu"), "{p}");
    // The agent is healthy: another pod runs and the node stays Ready.
    must_eventually("the fine pod to run", Duration::from_secs(60), || {
        pod(&dir, "default", "fine").filter(running_ready)
    })
    .await;
    let n = get_json(&dir, &["node", &node]).unwrap();
    assert!(n["status"]["conditions"].to_string().contains("KubeletReady"));
}
