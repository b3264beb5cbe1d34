//! `control-plane up` end to end: real replica processes, the real kubectl
//! (fresh --cache-dir) and etcdctl, SIGKILL of replicas, Ctrl-C, restart.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn port_base() -> u16 {
    // below the ephemeral range; distinct per test process
    20_000 + ((std::process::id() % 400) as u16) * 25
}

struct Up {
    child: Child,
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

fn start_up(dir: &Path, port: u16, base: u16) -> Up {
    let mut child = Command::new(env!("CARGO_BIN_EXE_control-plane"))
        .args(["up", "--data-dir"])
        .arg(dir)
        .args(["--port", &port.to_string(), "--base-port", &base.to_string()])
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

fn kubectl(dir: &Path, args: &[&str]) -> (bool, String, String) {
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

fn replicas(dir: &Path) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("cluster.json")).unwrap()).unwrap();
    v["replicas"].as_array().unwrap().clone()
}

fn etcdctl(endpoints: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new("etcdctl")
        .env("ETCDCTL_API", "3")
        .args(["--endpoints", endpoints, "--command-timeout=5s"])
        .args(args)
        .output()
        .expect("etcdctl must be installed (bash .ci/setup)");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn alive(pid: u64) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default().contains(") Z ")
}

#[test]
fn up_serves_kubectl_survives_a_replica_kill_and_restarts_with_its_data() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cluster");
    let base = port_base();
    let front = base + 24;
    let up = start_up(&dir, front, base);

    // kubectl talks to the front: the dispatcher picks kubectl 1.32 from /version
    let (ok, out, err) = kubectl(&dir, &["version", "-o", "json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["serverVersion"]["major"], "1");
    assert_eq!(v["serverVersion"]["minor"], "32");
    let (ok, out, err) = kubectl(&dir, &["get", "--raw", "/readyz"]);
    assert!(ok && out.trim() == "ok", "{out}{err}");
    // discovery works (aggregated and legacy); resources do not exist yet,
    // and kubectl says so clearly
    let (ok, _, err) = kubectl(&dir, &["get", "pods"]);
    assert!(!ok && err.contains("the server doesn't have a resource type \"pods\""), "{err}");
    let (ok, out, err) = kubectl(&dir, &["get", "--raw", "/apis"]);
    assert!(ok && out.contains("APIGroupList"), "{out}{err}");
    // what is not served yet is a Kubernetes Status, not a hang
    let (ok, _, err) = kubectl(&dir, &["get", "--raw", "/api/v1/namespaces/default/configmaps"]);
    assert!(!ok && (err.contains("NotFound") || err.contains("could not find")), "{err}");

    // cluster.json names every replica; their stores answer etcdctl
    let reps = replicas(&dir);
    assert_eq!(reps.len(), 3);
    let eps: Vec<String> = reps
        .iter()
        .map(|r| r["store_client_url"].as_str().unwrap().trim_start_matches("http://").to_string())
        .collect();
    let (ok, out) = etcdctl(&eps.join(","), &["endpoint", "status", "-w", "json"]);
    assert!(ok, "{out}");
    let st: serde_json::Value = serde_json::from_str(&out).unwrap();
    let leaders: Vec<u64> = st.as_array().unwrap().iter().map(|e| e["Status"]["leader"].as_u64().unwrap()).collect();
    assert_eq!(leaders.len(), 3);
    assert!(leaders.iter().all(|l| *l == leaders[0] && *l != 0));
    let (ok, _) = etcdctl(&eps[1], &["put", "/helmsman-test/kept", "yes"]);
    assert!(ok);

    // SIGKILL one replica: the kubeconfig keeps working through the front
    let pid0 = reps[0]["pid"].as_u64().unwrap();
    let _ = Command::new("kill").args(["-KILL", &pid0.to_string()]).status();
    let killed = Instant::now();
    let mut first_ok = None;
    let mut failures = 0;
    for _ in 0..40 {
        let (ok, out, _) = kubectl(&dir, &["get", "--raw", "/readyz"]);
        if ok && out.trim() == "ok" {
            first_ok.get_or_insert(killed.elapsed());
        } else if first_ok.is_some() {
            failures += 1;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let first_ok = first_ok.expect("the front never recovered after a replica was killed");
    eprintln!("front served again {first_ok:?} after SIGKILL of a replica");
    assert!(first_ok < Duration::from_secs(10), "{first_ok:?}");
    assert_eq!(failures, 0, "requests failed after the front recovered");

    // a replica without quorum answers /readyz with 503 quickly (no hang)
    let pid1 = reps[1]["pid"].as_u64().unwrap();
    let _ = Command::new("kill").args(["-KILL", &pid1.to_string()]).status();
    let api2 = reps[2]["api_url"].as_str().unwrap().trim_start_matches("http://").to_string();
    let t = Instant::now();
    let mut s = std::net::TcpStream::connect(&api2).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    use std::io::{Read, Write};
    s.write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    assert!(resp.starts_with("HTTP/1.1 503"), "{resp}");
    assert!(resp.contains("\"kind\":\"Status\""), "{resp}");
    assert!(t.elapsed() < Duration::from_secs(5), "503 took {:?}", t.elapsed());

    // Ctrl-C stops every replica cleanly
    let up_pid = up.child.id();
    let _ = Command::new("kill").args(["-INT", &up_pid.to_string()]).status();
    let mut up = up;
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(st) = up.child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "`up` did not stop after Ctrl-C");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}");
    let pid2 = reps[2]["pid"].as_u64().unwrap();
    assert!(!alive(pid2), "replica-3 still running after Ctrl-C");

    // `up` again reuses the data
    let _up2 = start_up(&dir, front, base);
    let reps = replicas(&dir);
    let eps: Vec<String> = reps
        .iter()
        .map(|r| r["store_client_url"].as_str().unwrap().trim_start_matches("http://").to_string())
        .collect();
    let (ok, out) = etcdctl(&eps.join(","), &["get", "/helmsman-test/kept"]);
    assert!(ok && out.contains("yes"), "data written before the restart is gone: {out}");
    drop(_up2);
    for r in &reps {
        assert!(!alive(r["pid"].as_u64().unwrap()), "{} still running after `up` stopped", r["name"]);
    }

    // even when `up` itself is SIGKILLed, its replicas do not outlive it
    let mut up3 = start_up(&dir, front, base);
    let reps = replicas(&dir);
    let _ = up3.child.kill();
    let _ = up3.child.wait();
    let deadline = Instant::now() + Duration::from_secs(15);
    for r in &reps {
        let pid = r["pid"].as_u64().unwrap();
        while alive(pid) {
            assert!(Instant::now() < deadline, "{} outlived a SIGKILLed `up`", r["name"]);
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
