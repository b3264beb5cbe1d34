//! The leader's scheduler and controllers on a real 3-replica cluster,
//! driven by the real kubectl; nodes are simulated by a test kubelet that
//! heartbeats and marks assigned pods Running and Ready through the API.

#[path = "../common/mod.rs"]
mod common;

mod fencing;
mod lifecycle;
mod placement;
mod workloads;

use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::Value;

pub use common::kubelet::{send, Kubelet};

/// Poll `f` until it returns Some, or panic with `what` after `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// GET a path as JSON (None unless 200).
pub async fn get(k: &Kubelet, path: &str) -> Option<Value> {
    let (code, v) = send(k.http().get(k.url(path))).await;
    (code == 200).then_some(v)
}

/// Items of a list.
pub async fn items(k: &Kubelet, path: &str) -> Vec<Value> {
    get(k, path).await.and_then(|v| v["items"].as_array().cloned()).unwrap_or_default()
}

/// Run kubectl off the async runtime.
pub async fn kubectl(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let dir = dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        common::kubectl(&dir, &a)
    })
    .await
    .unwrap()
}

/// kubectl that must succeed.
pub async fn ok(dir: &std::path::Path, args: &[&str]) -> String {
    let (ok, out, err) = kubectl(dir, args).await;
    assert!(ok, "kubectl {args:?} failed: {out}{err}");
    out
}

pub fn str_at<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

pub fn is_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| cs.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
}
