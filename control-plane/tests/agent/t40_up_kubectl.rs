//! `up` with its Docker agent, driven by the real kubectl: a Deployment of
//! busybox httpd runs with pod IPs; `kubectl logs -f` streams; `kubectl
//! exec` runs a command and returns its output and exit code.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common;
use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_runs_a_docker_agent_and_kubectl_logs_and_exec_work() {
    must_images();
    let node = format!("up-node-{}", std::process::id());
    let _clean = NodeContainers(node.clone());
    let (_tmp, dir, _up) = common::start_cluster_with(&["--node-name", &node]).await;
    apply(
        &dir,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: httpd
        image: helmsman/busybox:1.35
        command: ["sh", "-c", "mkdir -p /www && echo hello > /www/index.html && httpd -p 8080 -h /www && i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.5; done"]
        ports: [{containerPort: 8080}]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
"#,
    );
    must_eventually("2 running pods on the agent's node", Duration::from_secs(90), || {
        let p = pods(&dir, "default", "app=web");
        (p.len() == 2 && p.iter().all(|p| running_ready(p) && p["spec"]["nodeName"] == node.as_str())).then_some(())
    })
    .await;
    let (ok, wide, err) = common::kubectl(&dir, &["get", "pods", "-o", "wide"]);
    assert!(ok, "{err}");
    for p in pods(&dir, "default", "app=web") {
        let ip = p["status"]["podIP"].as_str().unwrap_or("");
        assert!(!ip.is_empty() && wide.contains(ip), "pod IPs shown: {wide}");
    }
    let name = pods(&dir, "default", "app=web")[0]["metadata"]["name"].as_str().unwrap().to_string();

    // logs, --tail, logs -f
    let (ok, out, err) = common::kubectl(&dir, &["logs", &name, "--tail", "2"]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.lines().all(|l| l.starts_with("tick ")), "{out}");
    let mut follow = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(dir.join("kubeconfig"))
        .args(["logs", "-f", &name, "--tail", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = follow.stdout.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        BufReader::new(out).lines().map_while(Result::ok).take(4).collect::<Vec<String>>()
    });
    let lines = tokio::time::timeout(Duration::from_secs(20), lines).await.expect("logs -f streams new lines").unwrap();
    let _ = follow.kill();
    let _ = follow.wait();
    assert_eq!(lines.len(), 4, "{lines:?}");
    let n: Vec<u64> = lines.iter().filter_map(|l| l.strip_prefix("tick ").and_then(|n| n.parse().ok())).collect();
    assert!(n.windows(2).all(|w| w[1] == w[0] + 1), "consecutive lines as they are written: {lines:?}");

    // exec: output and exit code
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(dir.join("kubeconfig"))
        .args(["exec", &name, "--", "sh", "-c", "cat /www/index.html; echo oops >&2; exit 3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("oops"));
    // exec with stdin
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(dir.join("kubeconfig"))
        .args(["exec", "-i", &name, "--", "wc", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&[b'x'; 1000]).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1000");
}
