//! Helpers shared by the control-plane integration tests: a cluster started
//! exactly as `control-plane up` does, and the real kubectl and etcdctl.
#![allow(dead_code)]

pub mod kubelet;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// First of 25 ports for one cluster: below the ephemeral range, distinct
/// per test process and, within a process, per call (up to 8 clusters).
pub fn port_base() -> u16 {
    static NEXT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);
    let slot = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst) % 8;
    20_000 + ((std::process::id() % 50) as u16) * 200 + slot * 25
}

pub struct Up {
    pub child: Child,
}

impl Drop for Up {
    /// Ctrl-C, so that `up` stops its replicas; SIGKILL only if it hangs.
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start_up(dir: &Path, port: u16, base: u16) -> Up {
    start_up_with(dir, port, base, &[])
}

/// `up` with extra flags (e.g. the leader tasks'). No node agent starts
/// unless `extra` holds `--node-name` (the agent tests name their node).
pub fn start_up_with(dir: &Path, port: u16, base: u16, extra: &[&str]) -> Up {
    let agent = extra.contains(&"--node-name");
    let mut child = Command::new(env!("CARGO_BIN_EXE_control-plane"))
        .args(["up", "--data-dir"])
        .arg(dir)
        .args(["--port", &port.to_string(), "--base-port", &base.to_string()])
        .args(if agent { &[][..] } else { &["--no-agent"][..] })
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn control-plane up");
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(out).split(b'\n').map_while(Result::ok) {
            let l = String::from_utf8_lossy(&line).replace('\r', "\n");
            text.push_str(&l);
            text.push('\n');
            if l.contains("control plane ready") || l.contains("kubectl --kubeconfig") {
                let _ = tx.send(text.clone());
            }
        }
    });
    let printed = rx.recv_timeout(Duration::from_secs(120)).expect("`up` did not report ready within 120 s");
    assert!(printed.contains("waiting for replicas"), "progress is shown: {printed}");
    let up = Up { child };
    // the exact kubectl command line is printed
    let _ = rx.recv_timeout(Duration::from_secs(5));
    up
}

pub fn kubectl(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(dir.join("kubeconfig"))
        .arg("--cache-dir")
        .arg(dir.join("kcache"))
        .args(["--request-timeout", "5s"])
        .args(args)
        .output()
        .expect("kubectl must be on the PATH");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn replicas(dir: &Path) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("cluster.json")).unwrap()).unwrap();
    v["replicas"].as_array().unwrap().clone()
}

pub fn etcdctl(endpoints: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new("etcdctl")
        .env("ETCDCTL_API", "3")
        .args(["--endpoints", endpoints, "--command-timeout=5s"])
        .args(args)
        .output()
        .expect("etcdctl must be installed (bash .ci/setup)");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn alive(pid: u64) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default().contains(") Z ")
}

/// A cluster as `up` starts it, in a fresh temp dir, from async tests:
/// the temp dir (keep it alive), the cluster dir and the running `up`.
pub async fn start_cluster() -> (tempfile::TempDir, std::path::PathBuf, Up) {
    start_cluster_with(&[]).await
}

/// [`start_cluster`] with extra `up` flags.
pub async fn start_cluster_with(extra: &[&str]) -> (tempfile::TempDir, std::path::PathBuf, Up) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cluster");
    let base = port_base();
    let d = dir.clone();
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    let up = tokio::task::spawn_blocking(move || {
        let e: Vec<&str> = extra.iter().map(String::as_str).collect();
        start_up_with(&d, base + 24, base, &e)
    })
    .await
    .unwrap();
    (tmp, dir, up)
}

/// The front's base URL, from the kubeconfig.
pub fn front_url(dir: &Path) -> String {
    let k = std::fs::read_to_string(dir.join("kubeconfig")).unwrap();
    k.lines().find_map(|l| l.trim().strip_prefix("server: ")).unwrap().trim().to_string()
}

/// SIGKILL the replica that leads the store now; returns its name.
pub fn kill_leader(dir: &Path) -> String {
    let reps = replicas(dir);
    let eps: Vec<String> = reps
        .iter()
        .map(|r| r["store_client_url"].as_str().unwrap().trim_start_matches("http://").to_string())
        .collect();
    let alive_eps: Vec<String> =
        reps.iter().zip(&eps).filter(|(r, _)| alive(r["pid"].as_u64().unwrap())).map(|(_, e)| e.clone()).collect();
    let (ok, out) = etcdctl(&alive_eps.join(","), &["endpoint", "status", "-w", "json"]);
    assert!(ok, "{out}");
    let st: serde_json::Value = serde_json::from_str(&out).unwrap();
    let leader = st[0]["Status"]["leader"].as_u64().unwrap();
    let e =
        st.as_array().unwrap().iter().find(|e| e["Status"]["header"]["member_id"].as_u64() == Some(leader)).unwrap();
    let ep = e["Endpoint"].as_str().unwrap().to_string();
    let rep = reps.iter().find(|r| r["store_client_url"].as_str().unwrap().ends_with(&ep)).unwrap();
    let _ = Command::new("kill").args(["-KILL", &rep["pid"].as_u64().unwrap().to_string()]).status();
    rep["name"].as_str().unwrap().to_string()
}
