//! Scale check (ignored by default): N hollow pods with workers in one
//! process; prints the resident memory per pod and fails above a budget.
//! `HOLLOW_PODS=150000 cargo test --test worker t90 -- --ignored --nocapture`

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::*;
use node_agent::pod::{spawn, Report, WorkerContext};
use node_agent::runtime::hollow::HollowRuntime;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "scale check; run explicitly"]
async fn many_hollow_pods_fit_in_memory() {
    let n: usize = std::env::var("HOLLOW_PODS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let rt = Arc::new(HollowRuntime::new(Duration::ZERO));
    let (tx, mut rx) = mpsc::channel(4096);
    let tmp = tempfile::tempdir().unwrap();
    let ctx = Arc::new(WorkerContext {
        runtime: rt.clone(),
        node: NODE.into(),
        host_ip: "192.168.7.1".into(),
        root: tmp.path().to_path_buf(),
        sources: Arc::new(MapSources::default()),
        reports: tx,
    });
    // Count Running statuses; drop everything else (the agent would batch them).
    let counter = tokio::spawn(async move {
        let mut running = std::collections::HashSet::new();
        while let Some(r) = rx.recv().await {
            if let Report::Status { uid, status, .. } = r {
                if phase(&status) == "Running" {
                    running.insert(uid);
                    if running.len() == n {
                        return;
                    }
                }
            }
        }
    });
    let before = rss_bytes();
    let t0 = Instant::now();
    let tracker = TaskTracker::new();
    let shutdown = CancellationToken::new();
    let mut handles = Vec::with_capacity(n);
    for i in 0..n {
        let p = pod(&format!("p{i}"), "Always", vec![container("app", "registry.local/app:1")]);
        handles.push(spawn(ctx.clone(), p, Vec::new(), &tracker, shutdown.clone()));
    }
    tokio::time::timeout(Duration::from_secs(600), counter).await.expect("all running").unwrap();
    let peak = rss_bytes();
    // Let transient allocations (reports in flight) go, and give freed
    // memory back, so steady state is measured.
    tokio::time::sleep(Duration::from_millis(500)).await;
    extern "C" {
        fn malloc_trim(pad: usize) -> i32;
    }
    // SAFETY: glibc's malloc_trim only releases free heap memory.
    unsafe {
        malloc_trim(0);
    }
    let after = rss_bytes();
    println!("peak RSS while starting: {} MiB", peak >> 20);
    let per_pod = (after.saturating_sub(before)) / n as u64;
    println!(
        "{n} hollow pods running in {:?}; RSS {} MiB -> {} MiB ({} bytes/pod); runtime holds {} records",
        t0.elapsed(),
        before >> 20,
        after >> 20,
        per_pod,
        rt.len()
    );
    assert_eq!(rt.len(), 2 * n);
    // Most of it is the pod object itself (a k8s_openapi Pod with one
    // container is ~4.5 KB) and the task; see the report.
    assert!(per_pod < 16 << 10, "memory per hollow pod {per_pod} bytes exceeds the budget");
    shutdown.cancel();
    tracker.close();
    tracker.wait().await;
}
