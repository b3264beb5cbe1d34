//! HA through the `up` kubeconfig: `kubectl apply` in a loop while the Raft
//! leader is SIGKILLed. The loop keeps succeeding after a brief retry window
//! and no acknowledged object is missing afterwards.

#[path = "../common/mod.rs"]
mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn apply(dir: &std::path::Path, name: &str) -> bool {
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(dir.join("kubeconfig"))
        .arg("--cache-dir")
        .arg(dir.join("kcache"))
        .args(["--request-timeout", "5s", "apply", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let manifest = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\ndata:\n  n: \"{name}\"\n"
    );
    child.stdin.take().unwrap().write_all(manifest.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    out.status.success() && String::from_utf8_lossy(&out.stdout).contains(&format!("configmap/{name} created"))
}

#[test]
fn kubectl_apply_survives_a_leader_kill_and_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cluster");
    let base = port_base();
    let _up = start_up(&dir, base + 24, base);
    let reps = replicas(&dir);
    let eps: Vec<String> = reps
        .iter()
        .map(|r| r["store_client_url"].as_str().unwrap().trim_start_matches("http://").to_string())
        .collect();

    let mut acked = Vec::new();
    for i in 0..5 {
        let name = format!("ha-{i}");
        assert!(apply(&dir, &name), "apply before the kill failed");
        acked.push(name);
    }
    // find and SIGKILL the leader
    let (ok, out) = etcdctl(&eps.join(","), &["endpoint", "status", "-w", "json"]);
    assert!(ok, "{out}");
    let st: serde_json::Value = serde_json::from_str(&out).unwrap();
    let leader = st[0]["Status"]["leader"].as_u64().unwrap();
    let idx = st
        .as_array()
        .unwrap()
        .iter()
        .position(|e| e["Status"]["header"]["member_id"].as_u64() == Some(leader))
        .unwrap();
    let ep = st[idx]["Endpoint"].as_str().unwrap().to_string();
    let rep = reps.iter().find(|r| r["store_client_url"].as_str().unwrap().ends_with(&ep)).unwrap();
    let _ = Command::new("kill").args(["-KILL", &rep["pid"].as_u64().unwrap().to_string()]).status();
    let killed = Instant::now();

    let mut first_ok_after = None;
    let mut failures = 0;
    let mut i = 5;
    while acked.len() < 25 {
        assert!(killed.elapsed() < Duration::from_secs(60), "applies did not resume within 60 s ({failures} failures)");
        let name = format!("ha-{i}");
        if apply(&dir, &name) {
            first_ok_after.get_or_insert(killed.elapsed());
            acked.push(name);
            i += 1;
        } else {
            // the same name again: kubectl apply is idempotent, an applied
            // but unacknowledged create shows as "unchanged" and is retried
            // under a new name
            failures += 1;
            i += 1;
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let window = first_ok_after.unwrap();
    eprintln!("first acknowledged apply {window:?} after the leader kill; {failures} failed attempts");
    assert!(window < Duration::from_secs(15), "the retry window was {window:?}");
    let (ok, out, err) = kubectl(&dir, &["get", "cm", "-o", "name"]);
    assert!(ok, "{err}");
    for name in &acked {
        assert!(out.contains(&format!("configmap/{name}\n")), "acknowledged {name} is missing:\n{out}");
    }
}
