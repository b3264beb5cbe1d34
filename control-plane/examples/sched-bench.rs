//! Scheduler and failover benchmark on this machine, on a 3-replica
//! cluster started as `control-plane up` starts it.
//!
//! 1. Scheduling throughput end to end: `--nodes` Ready Node objects, then
//!    `--replicasets` ReplicaSets whose pods add up to `--pods`; the leader's
//!    ReplicaSet controller creates the pods and the scheduler binds them.
//!    A gRPC watch on all pods (at a follower) timestamps every creation and every binding
//!    (the write of `spec.nodeName`, committed through Raft). Prints pods
//!    created/s and pods bound/s (first creation → last binding). Runs at
//!    1,000 nodes / 10,000 pods and at 5,000 nodes / 50,000 pods by default.
//! 2. Failover (`--kills N`, default 20): a Deployment keeps rolling (a new
//!    image every round, pods marked ready by a small simulated kubelet);
//!    each round SIGKILLs the Raft leader and measures the time from the
//!    kill to the first write by the new leader's controllers (a ReplicaSet
//!    or Deployment change, or a pod created, seen on a watch), then
//!    restarts the killed replica. Prints p50/p99/max.
//!
//! The last line prints pods bound/s at the largest node count.
//!
//! Run: `cargo build -p control-plane --bins --examples && cargo run -p control-plane --example sched-bench [-- --kills 20]`
//! (`--only-small` skips the 5,000-node run; `--election-timeout MS` sets
//! the failover cluster's Raft election timeout.)

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use futures::StreamExt;
use proto::api::resources_client::ResourcesClient;
use proto::api::{CreateRequest, ListRequest, ResourceRef, WatchRequest};
use serde_json::{json, Value};
use tonic::transport::{Channel, Endpoint};

struct Args {
    kills: usize,
    only_small: bool,
    election_timeout: Option<u64>,
}

fn args() -> Args {
    let mut a = Args { kills: 20, only_small: false, election_timeout: None };
    let v: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < v.len() {
        match v[i].as_str() {
            "--kills" => {
                a.kills = v.get(i + 1).and_then(|n| n.parse().ok()).context("--kills needs a number").unwrap();
                i += 1;
            }
            "--election-timeout" => {
                a.election_timeout = v.get(i + 1).and_then(|n| n.parse().ok());
                assert!(a.election_timeout.is_some(), "--election-timeout needs milliseconds");
                i += 1;
            }
            "--only-small" => a.only_small = true,
            other => panic!("unknown flag {other}; flags: --kills N, --only-small, --election-timeout MS"),
        }
        i += 1;
    }
    a
}

struct Up(Child, PathBuf);

impl Drop for Up {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-INT", &self.0.id().to_string()]).status();
        let _ = self.0.wait();
        // replicas restarted by the failover run are our children, not up's
        let _ = Command::new("pkill").arg("-f").arg(self.1.display().to_string()).status();
    }
}

fn binary() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let bin = exe.parent().and_then(|p| p.parent()).map(|p| p.join("control-plane")).context("locating the binary")?;
    if !bin.exists() {
        bail!("{} not found: run `cargo build -p control-plane --bins --examples` first", bin.display());
    }
    Ok(bin)
}

fn replicas(dir: &Path) -> Vec<Value> {
    std::fs::read(dir.join("cluster.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v["replicas"].as_array().cloned())
        .unwrap_or_default()
}

fn start(dir: &Path, base: u16, extra: &[&str]) -> Result<(Up, Vec<String>)> {
    let mut child = Command::new(binary()?)
        .args(["up", "--data-dir"])
        .arg(dir)
        .args(["--port", &(base + 25).to_string(), "--base-port", &base.to_string()])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(Some(s)) = child.try_wait() {
            bail!("`control-plane up` exited: {s}");
        }
        let urls: Vec<String> =
            replicas(dir).iter().filter_map(|r| r["api_url"].as_str().map(str::to_string)).collect();
        if urls.len() == 3 && urls.iter().all(|u| std::net::TcpStream::connect(u.trim_start_matches("http://")).is_ok())
        {
            std::thread::sleep(Duration::from_secs(2));
            return Ok((Up(child, dir.to_path_buf()), urls));
        }
        if Instant::now() > deadline {
            bail!("the cluster did not come up within 120 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn rref(group: &str, version: &str, resource: &str, ns: &str) -> Option<ResourceRef> {
    Some(ResourceRef {
        group: group.into(),
        version: version.into(),
        resource: resource.into(),
        namespace: ns.into(),
        name: String::new(),
    })
}

async fn client(url: &str) -> Result<ResourcesClient<Channel>> {
    let ch = Endpoint::from_shared(url.to_string())?.tcp_nodelay(true).connect().await?;
    Ok(ResourcesClient::new(ch).max_decoding_message_size(512 << 20))
}

/// Create `objects` with `conc` concurrent gRPC calls.
async fn create_all(
    cl: &ResourcesClient<Channel>,
    r: Option<ResourceRef>,
    objects: Vec<Value>,
    conc: usize,
) -> Result<()> {
    let objects = Arc::new(parking_lot::Mutex::new(objects));
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let (mut c, r, objects) = (cl.clone(), r.clone(), objects.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let Some(o) = objects.lock().pop() else { return Ok::<_, anyhow::Error>(()) };
                c.create(CreateRequest { r#ref: r.clone(), object: serde_json::to_vec(&o)?, options: None }).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

fn node(i: usize) -> Value {
    let name = format!("node-{i:05}");
    json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "topology.kubernetes.io/zone": format!("zone-{}", i % 3)}},
        "status": {"capacity": {"cpu": "32", "memory": "128Gi", "pods": "110"},
            "allocatable": {"cpu": "32", "memory": "128Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]}})
}

fn replicaset(i: usize, replicas: usize) -> Value {
    let name = format!("rs-{i:04}");
    json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"rs": name}},
            "template": {"metadata": {"labels": {"rs": name}},
                "spec": {"containers": [{"name": "c", "image": "busybox:1",
                    "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}}}]}}}})
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v.get(((v.len() as f64 * p).ceil() as usize).saturating_sub(1).min(v.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

/// One scheduling run; returns pods bound per second.
async fn throughput(nodes: usize, pods: usize, rs_count: usize, base: u16) -> Result<f64> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("cluster");
    // Node objects have no kubelet heartbeating: keep them Ready for the run.
    let (_up, urls) = start(&dir, base, &["--node-monitor-grace-period", "3600"])?;
    let cl = client(&urls[0]).await?;
    let t = Instant::now();
    create_all(&cl, rref("", "v1", "nodes", ""), (0..nodes).map(node).collect(), 128).await?;
    println!("  {nodes} nodes created in {:.1}s", t.elapsed().as_secs_f64());
    let rv = cl
        .clone()
        .list(ListRequest { r#ref: rref("", "v1", "pods", ""), ..Default::default() })
        .await?
        .into_inner()
        .resource_version;
    // Observe from a follower, so the benchmark's own watch does not load
    // the leader it measures.
    let follower = leader_index(&dir).map_or(1, |l| (l + 1) % urls.len());
    let mut watch = client(&urls[follower])
        .await?
        .watch(WatchRequest { r#ref: rref("", "v1", "pods", ""), resource_version: rv, ..Default::default() })
        .await?
        .into_inner();
    let (created, bound) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (c2, b2) = (created.clone(), bound.clone());
    let started = Instant::now();
    let total = pods as u64;
    let watcher = tokio::spawn(async move {
        let mut seen_bound: HashSet<Vec<u8>> = HashSet::new();
        let (mut first_created, mut last_created, mut last_bound) = (None, None, None);
        while b2.load(Ordering::SeqCst) < total {
            let Ok(Ok(Some(ev))) = tokio::time::timeout(Duration::from_secs(120), watch.message()).await else { break };
            let now = started.elapsed();
            if ev.r#type == "ADDED" {
                c2.fetch_add(1, Ordering::SeqCst);
                first_created.get_or_insert(now);
                last_created = Some(now);
            }
            // cheap check for a bound pod without a full parse
            if ev.object.windows(11).any(|w| w == b"\"nodeName\":") {
                let v: Value = serde_json::from_slice(&ev.object).unwrap_or_default();
                let uid = v["metadata"]["uid"].as_str().unwrap_or("").as_bytes().to_vec();
                if seen_bound.insert(uid) {
                    b2.fetch_add(1, Ordering::SeqCst);
                    last_bound = Some(now);
                }
            }
        }
        (first_created, last_created, last_bound)
    });
    let per = pods / rs_count;
    create_all(
        &cl,
        rref("apps", "v1", "replicasets", "default"),
        (0..rs_count).map(|i| replicaset(i, per)).collect(),
        16,
    )
    .await?;
    let mut last_print = Instant::now();
    while !watcher.is_finished() {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if last_print.elapsed() > Duration::from_secs(3) {
            last_print = Instant::now();
            println!(
                "  … {:>6} pods created, {:>6} bound ({:.0}s)",
                created.load(Ordering::SeqCst),
                bound.load(Ordering::SeqCst),
                started.elapsed().as_secs_f64()
            );
        }
        if started.elapsed() > Duration::from_secs(900) {
            bail!("not all pods were bound within 15 minutes");
        }
    }
    let (first, last_created, last_bound) = watcher.await?;
    let n_bound = bound.load(Ordering::SeqCst);
    if n_bound < total {
        bail!("only {n_bound} of {total} pods were bound (the watch went quiet for 120 s)");
    }
    let (first, lc, lb) = (first.unwrap_or_default(), last_created.unwrap_or_default(), last_bound.unwrap_or_default());
    let create_rate = total as f64 / (lc - first).as_secs_f64().max(1e-3);
    let bind_rate = total as f64 / (lb - first).as_secs_f64().max(1e-3);
    println!(
        "{:<8} {:>7} {:>12.0} {:>12.0} {:>10.1}s",
        nodes,
        pods,
        create_rate,
        bind_rate,
        (lb - first).as_secs_f64()
    );
    Ok(bind_rate)
}

/// Minimal kubelet for the failover run: marks bound pods Running and
/// Ready, confirms graceful deletions.
async fn kubelet(url: String, stop: Arc<std::sync::atomic::AtomicBool>) {
    let http = reqwest::Client::new();
    while !stop.load(Ordering::SeqCst) {
        let list: Value = match http.get(format!("{url}/api/v1/namespaces/default/pods")).send().await {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => Value::Null,
        };
        for p in list["items"].as_array().cloned().unwrap_or_default() {
            let name = p["metadata"]["name"].as_str().unwrap_or("").to_string();
            let path = format!("{url}/api/v1/namespaces/default/pods/{name}");
            if p["metadata"]["deletionTimestamp"].is_string() {
                let _ = http.delete(format!("{path}?gracePeriodSeconds=0")).send().await;
            } else if p["spec"]["nodeName"].is_string() && p["status"]["phase"] == "Pending" {
                let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
                let st = json!({"status": {"phase": "Running", "podIP": "10.244.0.9",
                    "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now}]}});
                let _ = http
                    .patch(format!("{path}/status"))
                    .header("content-type", "application/merge-patch+json")
                    .json(&st)
                    .send()
                    .await;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn leader_index(dir: &Path) -> Option<usize> {
    let reps = replicas(dir);
    let eps: Vec<String> = reps
        .iter()
        .filter_map(|r| r["store_client_url"].as_str())
        .map(|u| u.trim_start_matches("http://").to_string())
        .collect();
    let out = Command::new("etcdctl")
        .env("ETCDCTL_API", "3")
        .args(["--endpoints", &eps.join(","), "--command-timeout=2s", "endpoint", "status", "-w", "json"])
        .output()
        .ok()?;
    let st: Value = serde_json::from_slice(&out.stdout).ok()?;
    let leader = st.as_array()?.iter().find_map(|e| e["Status"]["leader"].as_u64())?;
    let ep = st.as_array()?.iter().find(|e| e["Status"]["header"]["member_id"].as_u64() == Some(leader))?;
    let ep = ep["Endpoint"].as_str()?.to_string();
    reps.iter().position(|r| r["store_client_url"].as_str().is_some_and(|u| u.ends_with(&ep)))
}

/// The command line of a running process, minus `--parent-pid` (a restarted
/// replica is our child, not `up`'s).
fn cmdline(pid: u64) -> Vec<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let parts: Vec<String> =
        raw.split(|b| *b == 0).filter(|s| !s.is_empty()).map(|s| String::from_utf8_lossy(s).into_owned()).collect();
    let mut out = Vec::new();
    let mut skip = false;
    for p in parts {
        if skip {
            skip = false;
        } else if p == "--parent-pid" {
            skip = true;
        } else {
            out.push(p);
        }
    }
    out
}

async fn failover(kills: usize, base: u16, election_timeout: Option<u64>) -> Result<Vec<Duration>> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("cluster");
    let et = election_timeout.map(|e| e.to_string());
    let extra: Vec<&str> = et.as_deref().map(|e| vec!["--election-timeout", e]).unwrap_or_default();
    let (_up, _urls) = start(&dir, base, &extra)?;
    let front = format!("http://127.0.0.1:{}", base + 25);
    let http = reqwest::Client::new();
    for i in 0..3 {
        let mut n = node(i);
        n["metadata"]["name"] = json!(format!("fo-{i}"));
        http.post(format!("{front}/api/v1/nodes")).json(&n).send().await?;
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let kl = tokio::spawn(kubelet(front.clone(), stop.clone()));
    let dep = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "roll"},
        "spec": {"replicas": 6, "selector": {"matchLabels": {"app": "roll"}},
            "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}},
            "template": {"metadata": {"labels": {"app": "roll"}}, "spec": {"containers": [{"name": "c", "image": "img:0"}]}}}});
    http.post(format!("{front}/apis/apps/v1/namespaces/default/deployments")).json(&dep).send().await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut gaps = Vec::new();
    let mut children: Vec<Child> = Vec::new();
    for round in 0..kills {
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": format!("img:{}", round + 1)}]}}}});
        http.patch(format!("{front}/apis/apps/v1/namespaces/default/deployments/roll"))
            .header("content-type", "application/strategic-merge-patch+json")
            .json(&patch)
            .send()
            .await?;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let Some(li) = leader_index(&dir) else { bail!("no leader before round {round}") };
        let reps = replicas(&dir);
        // watch controller-written kinds from a surviving replica
        let wurl = reps[(li + 1) % 3]["api_url"].as_str().unwrap_or_default().to_string();
        let mut streams = Vec::new();
        for (g, v, r) in [("apps", "v1", "replicasets"), ("apps", "v1", "deployments"), ("", "v1", "pods")] {
            let mut c = client(&wurl).await?;
            let rv = c
                .list(ListRequest { r#ref: rref(g, v, r, "default"), limit: 1, ..Default::default() })
                .await?
                .into_inner()
                .resource_version;
            let s = c
                .watch(WatchRequest { r#ref: rref(g, v, r, "default"), resource_version: rv, ..Default::default() })
                .await?
                .into_inner();
            streams.push((r, s));
        }
        let pid = reps[li]["pid"].as_u64().unwrap_or(0);
        let pid = children.iter().find(|c| u64::from(c.id()) == pid).map(|c| u64::from(c.id())).unwrap_or(pid);
        let args = cmdline(pid);
        let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        let killed = Instant::now();
        // the first event after the kill that a controller wrote
        let merged = futures::stream::select_all(streams.into_iter().map(|(r, s)| s.map(move |e| (r, e))));
        let mut merged = Box::pin(merged);
        let gap = loop {
            let Ok(Some((r, Ok(ev)))) = tokio::time::timeout(Duration::from_secs(30), merged.next()).await else {
                bail!("no controller write within 30 s after killing the leader (round {round})");
            };
            let by_controller = match r {
                "pods" => ev.r#type == "ADDED",
                _ => ev.r#type == "MODIFIED" || ev.r#type == "ADDED",
            };
            // Nothing can commit until a new leader is elected (the election
            // timeout, at least 500 ms here); earlier events were committed by
            // the old leader.
            if by_controller && killed.elapsed() > Duration::from_millis(300) {
                break killed.elapsed();
            }
        };
        gaps.push(gap);
        println!(
            "  round {:>2}: first controller write {:>6.0} ms after the kill",
            round + 1,
            gap.as_secs_f64() * 1000.0
        );
        // restart the killed replica from its data dir
        if let Some((exe, rest)) = args.split_first() {
            let child = Command::new(exe).args(rest).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
            let new_pid = child.id();
            children.push(child);
            let mut v: Value = serde_json::from_slice(&std::fs::read(dir.join("cluster.json"))?)?;
            v["replicas"][li]["pid"] = json!(new_pid);
            std::fs::write(dir.join("cluster.json"), serde_json::to_vec_pretty(&v)?)?;
        }
        tokio::time::sleep(Duration::from_secs(4)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let _ = kl.await;
    for mut c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
    Ok(gaps)
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = args();
    let base = 22_000 + (std::process::id() % 100) as u16 * 100;
    println!("scheduling throughput (3 replicas; pods from ReplicaSets; created → bound through Raft)");
    println!("{:<8} {:>7} {:>12} {:>12} {:>11}", "nodes", "pods", "created/s", "bound/s", "span");
    let mut rates = vec![throughput(1_000, 10_000, 100, base).await?];
    if !a.only_small {
        rates.push(throughput(5_000, 50_000, 500, base + 30).await?);
    }
    if a.kills > 0 {
        let et = a.election_timeout.map_or("up's default 500".to_string(), |e| e.to_string());
        println!("failover: {} leader SIGKILLs during a rolling update (election timeout {et} ms)", a.kills);
        let mut gaps = failover(a.kills, base + 60, a.election_timeout).await?;
        println!(
            "failover kill → first controller write: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
            pct(&mut gaps, 0.5).as_secs_f64() * 1000.0,
            pct(&mut gaps, 0.99).as_secs_f64() * 1000.0,
            gaps.iter().max().copied().unwrap_or_default().as_secs_f64() * 1000.0
        );
    }
    let nodes = if a.only_small { 1_000 } else { 5_000 };
    println!("pods bound/s at {nodes} nodes: {:.0}", rates.last().copied().unwrap_or_default());
    Ok(())
}
