//! `control-plane up` end to end: real replica processes, the real kubectl
//! (fresh --cache-dir) and etcdctl, SIGKILL of replicas, Ctrl-C, restart.

#[path = "../common/mod.rs"]
mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

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
    // discovery works (aggregated and legacy); the bootstrap namespaces exist
    let (ok, out, err) = kubectl(&dir, &["get", "namespaces", "-o", "name"]);
    assert!(ok, "{err}");
    for ns in ["default", "kube-system", "kube-node-lease", "kube-public"] {
        assert!(out.contains(&format!("namespace/{ns}\n")), "{out}");
    }
    let (ok, out, err) = kubectl(&dir, &["get", "--raw", "/apis"]);
    assert!(ok && out.contains("APIGroupList") && out.contains("\"apps\""), "{out}{err}");
    // an unknown resource is a Kubernetes Status, not a hang
    let (ok, _, err) = kubectl(&dir, &["get", "--raw", "/api/v1/namespaces/default/widgets"]);
    assert!(!ok && (err.contains("NotFound") || err.contains("could not find")), "{err}");
    let (ok, _, err) = kubectl(&dir, &["create", "configmap", "kept", "--from-literal=a=b"]);
    assert!(ok, "{err}");

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
    let (ok, out, err) = kubectl(&dir, &["get", "configmap", "kept", "-o", "jsonpath={.data.a}"]);
    assert!(ok && out == "b", "object created before the restart is gone: {out}{err}");
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
