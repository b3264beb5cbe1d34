//! Starting, killing and reading node agents.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common;

/// The `node-agent` binary built beside `control-plane`.
pub fn agent_exe() -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_control-plane")).with_file_name("node-agent");
    assert!(exe.exists(), "{} is missing: build it with `cargo build -p node-agent`", exe.display());
    exe
}

/// A running agent process; killed (SIGKILL) when dropped.
pub struct Agent {
    pub child: Child,
    pub log: PathBuf,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Agent {
    /// Start `node-agent` with `args`, logging to `log`.
    pub fn start(args: &[String], log: &Path) -> Agent {
        let f = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        let child = Command::new(agent_exe())
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .expect("start node-agent");
        Agent { child, log: log.to_path_buf() }
    }

    /// SIGKILL it.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM it and wait for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st;
            }
            assert!(Instant::now() < deadline, "node-agent did not stop within 20 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The server the assignment stream was last opened on.
    pub fn stream_server(&self) -> Option<String> {
        self.log_text()
            .lines()
            .rfind(|l| l.contains("assignment stream open"))
            .and_then(|l| l.split("server=").nth(1))
            .map(|s| s.split_whitespace().next().unwrap_or("").trim_matches('"').to_string())
    }
}

/// Every replica's API URL, comma separated.
pub fn server_list(dir: &Path) -> String {
    common::replicas(dir).iter().map(|r| r["api_url"].as_str().unwrap().to_string()).collect::<Vec<_>>().join(",")
}

/// Poll `f` every 200 ms until it returns Some, or panic after `limit`.
pub async fn must_eventually<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `kubectl get <what> -o json` parsed.
pub fn get_json(dir: &Path, args: &[&str]) -> Option<Value> {
    let mut a = vec!["get"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["-o", "json"]);
    let (ok, out, _) = common::kubectl(dir, &a);
    if !ok {
        return None;
    }
    serde_json::from_str(&out).ok()
}

/// Pods (in `ns`) matching a label selector.
pub fn pods(dir: &Path, ns: &str, selector: &str) -> Vec<Value> {
    get_json(dir, &["pods", "-n", ns, "-l", selector]).and_then(|v| v["items"].as_array().cloned()).unwrap_or_default()
}

/// Whether a pod is Running and Ready.
pub fn running_ready(p: &Value) -> bool {
    p["status"]["phase"] == "Running"
        && p["status"]["conditions"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
}

/// `kubectl apply` a manifest given as text.
pub fn apply(dir: &Path, manifest: &str) {
    let path = dir.join(format!("m-{}.yaml", rand_suffix()));
    std::fs::write(&path, manifest).unwrap();
    let (ok, out, err) = common::kubectl(dir, &["apply", "-f", path.to_str().unwrap()]);
    assert!(ok, "kubectl apply failed: {out} {err}");
}

pub fn rand_suffix() -> String {
    format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos())
}

/// The replica (name, pid) whose API URL is `url`.
pub fn replica_by_url(dir: &Path, url: &str) -> (String, u64) {
    let reps = common::replicas(dir);
    let r = reps.iter().find(|r| r["api_url"] == url).unwrap_or_else(|| panic!("no replica at {url}"));
    (r["name"].as_str().unwrap().to_string(), r["pid"].as_u64().unwrap())
}

/// Build the local test images once per test process (idempotent).
pub fn must_images() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../node-agent/images/build-images.sh");
        let out = Command::new("bash").arg(script).output().expect("run build-images.sh");
        assert!(
            out.status.success(),
            "building the test images failed (is Docker running?): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// Start a Docker agent for `node` against the cluster in `dir`.
pub fn start_docker_agent(dir: &Path, node: &str, data: &Path, log: &Path) -> Agent {
    must_images();
    let args: Vec<String> = vec![
        "--runtime".into(),
        "docker".into(),
        "--node-name".into(),
        node.into(),
        "--servers".into(),
        server_list(dir),
        "--data-dir".into(),
        data.display().to_string(),
    ];
    Agent::start(&args, log)
}

/// Removes every container of a node when dropped (tests end clean even
/// when they fail).
pub struct NodeContainers(pub String);

impl Drop for NodeContainers {
    fn drop(&mut self) {
        let out = Command::new("docker")
            .args(["ps", "-aq", "--filter", &format!("label=io.helmsman.node={}", self.0)])
            .output();
        if let Ok(out) = out {
            let ids: Vec<String> =
                String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_string).collect();
            if !ids.is_empty() {
                let _ = Command::new("docker").arg("rm").arg("-f").args(&ids).output();
            }
        }
    }
}

/// Container ids (running or not) of a pod, by its uid label.
pub fn container_ids(pod_uid: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args(["ps", "-aq", "--no-trunc", "--filter", &format!("label=io.helmsman.pod.uid={pod_uid}")])
        .output()
        .expect("docker ps");
    let mut ids: Vec<String> = String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_string).collect();
    ids.sort();
    ids
}

/// Whether a container is running.
pub fn container_running(id: &str) -> bool {
    let out =
        Command::new("docker").args(["inspect", "-f", "{{.State.Running}}", id]).output().expect("docker inspect");
    String::from_utf8_lossy(&out.stdout).trim() == "true"
}

/// One pod by name.
pub fn pod(dir: &Path, ns: &str, name: &str) -> Option<Value> {
    get_json(dir, &["pod", "-n", ns, name])
}

/// The waiting reason of a pod's first container, if waiting.
pub fn waiting_reason(p: &Value) -> Option<String> {
    p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"].as_str().map(str::to_string)
}

/// Events about a pod (reasons).
pub fn event_reasons(dir: &Path, ns: &str, pod: &str) -> Vec<String> {
    let sel = format!("involvedObject.name={pod}");
    get_json(dir, &["events", "-n", ns, "--field-selector", &sel])
        .and_then(|v| v["items"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e["reason"].as_str().map(str::to_string))
        .collect()
}
