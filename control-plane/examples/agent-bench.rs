//! Node-agent benchmark on this machine: a 3-replica cluster started as
//! `control-plane up` starts it, with its Docker node agent.
//!
//! 1. Pod startup latency on real Docker (image present): pods created at
//!    `--rate` per second (default 10) for `--seconds` (default 60) on the
//!    one node; a gRPC watch on pods timestamps the first time each pod is
//!    Running and Ready; each pod is deleted once it ran, so the node stays
//!    under its pod limit. Prints create → Running p50/p99/max.
//! 2. A burst of `--burst` pods (default 100) created at once: time until
//!    all are Running.
//! 3. Hollow scale (`--hollow-nodes N --hollow-pods M`, off unless given):
//!    N hollow nodes in one `node-agent hollow` process, M pods bound to
//!    them through Deployments; reports each replica's RSS, the CPU the
//!    replicas and the hollow agent used while every stream was idle-open
//!    and while pods were assigned, and the time to list all pods.
//!
//! The last line prints the startup p99 in ms.
//!
//! Run: `cargo build -p control-plane -p node-agent --bins --examples && cargo run -p control-plane --example agent-bench [-- --rate 10 --seconds 60 --burst 100] [--hollow-nodes 5000 --hollow-pods 150000]`

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use futures::StreamExt;
use parking_lot::Mutex;
use proto::api::resources_client::ResourcesClient;
use proto::api::{CreateRequest, DeleteRequest, GetRequest, ListRequest, ResourceRef, WatchRequest};
use serde_json::{json, Value};
use tonic::transport::{Channel, Endpoint};

struct Args {
    rate: u64,
    seconds: u64,
    burst: usize,
    hollow_nodes: usize,
    hollow_pods: usize,
}

fn args() -> Args {
    let mut a = Args { rate: 10, seconds: 60, burst: 100, hollow_nodes: 0, hollow_pods: 0 };
    let v: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| -> u64 { v.get(i + 1).and_then(|n| n.parse().ok()).expect("flag needs a number") };
    let mut i = 0;
    while i < v.len() {
        match v[i].as_str() {
            "--rate" => a.rate = num(i),
            "--seconds" => a.seconds = num(i),
            "--burst" => a.burst = num(i) as usize,
            "--hollow-nodes" => a.hollow_nodes = num(i) as usize,
            "--hollow-pods" => a.hollow_pods = num(i) as usize,
            other => panic!(
                "unknown flag {other}; flags: --rate N, --seconds N, --burst N, --hollow-nodes N, --hollow-pods N"
            ),
        }
        i += 2;
    }
    a
}

struct Up(Child);

impl Drop for Up {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-INT", &self.0.id().to_string()]).status();
        let _ = self.0.wait();
    }
}

fn bin(name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let b = exe.parent().and_then(|p| p.parent()).map(|p| p.join(name)).context("locating the binaries")?;
    if !b.exists() {
        bail!("{} not found: run `cargo build -p control-plane -p node-agent --bins --examples` first", b.display());
    }
    Ok(b)
}

fn replicas(dir: &Path) -> Vec<Value> {
    std::fs::read(dir.join("cluster.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v["replicas"].as_array().cloned())
        .unwrap_or_default()
}

fn start(dir: &Path, base: u16, extra: &[&str]) -> Result<(Up, Vec<String>)> {
    let child = Command::new(bin("control-plane")?)
        .args(["up", "--data-dir"])
        .arg(dir)
        .args(["--port", &(base + 25).to_string(), "--base-port", &base.to_string()])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    let mut up = Up(child);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(Some(s)) = up.0.try_wait() {
            bail!("`control-plane up` exited: {s}");
        }
        let urls: Vec<String> =
            replicas(dir).iter().filter_map(|r| r["api_url"].as_str().map(str::to_string)).collect();
        if urls.len() == 3 && urls.iter().all(|u| std::net::TcpStream::connect(u.trim_start_matches("http://")).is_ok())
        {
            std::thread::sleep(Duration::from_secs(2));
            return Ok((up, urls));
        }
        if Instant::now() > deadline {
            let _ = &mut up;
            bail!("the cluster did not come up within 120 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn rref(group: &str, resource: &str, ns: &str, name: &str) -> Option<ResourceRef> {
    let version = "v1";
    Some(ResourceRef {
        group: group.into(),
        version: version.into(),
        resource: resource.into(),
        namespace: ns.into(),
        name: name.into(),
    })
}

async fn client(url: &str) -> Result<ResourcesClient<Channel>> {
    let ch = Endpoint::from_shared(url.to_string())?.tcp_nodelay(true).connect().await?;
    Ok(ResourcesClient::new(ch).max_decoding_message_size(1 << 30))
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn running_ready(p: &Value) -> bool {
    p["status"]["phase"] == "Running"
        && p["status"]["conditions"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
}

/// Watch pods in `ns` and record when each first became Running and Ready.
async fn watch_running(cl: ResourcesClient<Channel>, ns: &str) -> Result<Arc<Mutex<HashMap<String, Instant>>>> {
    let seen: Arc<Mutex<HashMap<String, Instant>>> = Default::default();
    let mut c = cl.clone();
    let list = c.list(ListRequest { r#ref: rref("", "pods", ns, ""), ..Default::default() }).await?.into_inner();
    let mut stream = c
        .watch(WatchRequest {
            r#ref: rref("", "pods", ns, ""),
            resource_version: list.resource_version,
            ..Default::default()
        })
        .await?
        .into_inner();
    let s = seen.clone();
    tokio::spawn(async move {
        while let Some(Ok(ev)) = stream.next().await {
            let Ok(p) = serde_json::from_slice::<Value>(&ev.object) else { continue };
            if running_ready(&p) {
                let name = p["metadata"]["name"].as_str().unwrap_or("").to_string();
                s.lock().entry(name).or_insert_with(Instant::now);
            }
        }
    });
    Ok(seen)
}

fn pod(name: &str, node: &str, image: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"bench": "startup"}},
        "spec": {"nodeName": node, "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "c", "image": image, "command": ["sleep", "3600"]}]}})
}

async fn create(cl: &mut ResourcesClient<Channel>, obj: &Value) -> Result<()> {
    cl.create(CreateRequest {
        r#ref: rref("", "pods", "default", ""),
        object: serde_json::to_vec(obj)?,
        options: None,
    })
    .await?;
    Ok(())
}

async fn delete(mut cl: ResourcesClient<Channel>, name: String) {
    let _ = cl
        .delete(DeleteRequest {
            r#ref: rref("", "pods", "default", &name),
            grace_period_seconds: Some(0),
            ..Default::default()
        })
        .await;
}

async fn wait_node_ready(cl: &mut ResourcesClient<Channel>, node: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = cl.get(GetRequest { r#ref: rref("", "nodes", "", node), ..Default::default() }).await {
            let n: Value = serde_json::from_slice(&r.into_inner().object)?;
            if n["status"]["conditions"].to_string().contains("KubeletReady") {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!("node {node} did not become Ready within 60 s; see node-agent.log in the data dir");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Startup latency at a steady rate; returns the latencies.
async fn steady(urls: &[String], node: &str, rate: u64, seconds: u64) -> Result<Vec<Duration>> {
    let cl = client(&urls[0]).await?;
    let seen = watch_running(client(&urls[1]).await?, "default").await?;
    let total = rate * seconds;
    let every = Duration::from_secs_f64(1.0 / rate as f64);
    let mut created: HashMap<String, Instant> = HashMap::new();
    let start = Instant::now();
    let mut deleted = std::collections::HashSet::new();
    for i in 0..total {
        let at = start + every * i as u32;
        tokio::time::sleep_until(at.into()).await;
        let name = format!("steady-{i}");
        let mut c = cl.clone();
        let t = Instant::now();
        create(&mut c, &pod(&name, node, "helmsman/busybox:1.35")).await?;
        created.insert(name, t);
        // Delete what already ran, keeping the node under its pod limit.
        let done: Vec<String> =
            seen.lock().keys().filter(|n| n.starts_with("steady-") && !deleted.contains(*n)).cloned().collect();
        for n in done {
            deleted.insert(n.clone());
            tokio::spawn(delete(cl.clone(), n));
        }
        if (i + 1) % (rate * 10) == 0 {
            eprintln!("  steady: {} / {total} created, {} running so far", i + 1, seen.lock().len());
        }
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    while created.keys().any(|n| !seen.lock().contains_key(n)) {
        if Instant::now() > deadline {
            let missing = created.keys().filter(|n| !seen.lock().contains_key(*n)).count();
            bail!("{missing} pods did not become Running within 300 s after the last create");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = seen.lock().clone();
    for n in created.keys().filter(|n| !deleted.contains(*n)) {
        tokio::spawn(delete(cl.clone(), n.clone()));
    }
    Ok(created.iter().map(|(n, t)| seen[n].duration_since(*t)).collect())
}

/// A burst of `n` pods at once; time until all are Running.
async fn burst(urls: &[String], node: &str, n: usize) -> Result<Duration> {
    let cl = client(&urls[0]).await?;
    let seen = watch_running(client(&urls[1]).await?, "default").await?;
    // wait for the node to drain the steady run's pods
    tokio::time::sleep(Duration::from_secs(5)).await;
    let start = Instant::now();
    let names: Vec<String> = (0..n).map(|i| format!("burst-{i}")).collect();
    let results = futures::future::join_all(names.iter().map(|name| {
        let mut c = cl.clone();
        let obj = pod(name, node, "helmsman/busybox:1.35");
        async move { create(&mut c, &obj).await }
    }))
    .await;
    for r in results {
        r?;
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let done = names.iter().filter(|n| seen.lock().contains_key(*n)).count();
        if done == n {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {done} of {n} burst pods were Running after 300 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let last = names.iter().map(|n| seen.lock()[n]).max().unwrap_or(start);
    for name in names {
        tokio::spawn(delete(cl.clone(), name));
    }
    Ok(last.duration_since(start))
}

fn rss_mib(pid: u64) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("VmRSS:").map(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().unwrap_or(0.0))
        })
        .unwrap_or(0.0)
        / 1024.0
}

/// CPU seconds (user + system) a process has used.
fn cpu_secs(pid: u64) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Retry a call while the cluster is unavailable (an election under load), up to a minute.
async fn retry<T, F, Fut>(mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(s) if s.code() == tonic::Code::Unavailable && Instant::now() < deadline => {
                eprintln!("  (retrying: {})", s.message());
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(s) => bail!("{}: {}", s.code(), s.message()),
        }
    }
}

async fn hollow_scale(nodes: usize, pods: usize, base: u16) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("cluster");
    // A longer election timeout: this run saturates both cores.
    let (_up, urls) = start(&dir, base, &["--no-agent", "--election-timeout", "1000"])?;
    let reps = replicas(&dir);
    let pids: Vec<u64> = reps.iter().filter_map(|r| r["pid"].as_u64()).collect();
    let mut fleet = Command::new(bin("node-agent")?)
        .args(["hollow", "--count", &nodes.to_string(), "--servers", &urls.join(","), "--log-level", "warn"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    let fleet_pid = u64::from(fleet.id());
    let mut cl = client(&urls[1]).await?;
    let t0 = Instant::now();
    loop {
        let l = cl.list(ListRequest { r#ref: rref("", "nodes", "", ""), ..Default::default() }).await?.into_inner();
        let ready = l.items.iter().filter(|b| String::from_utf8_lossy(b).contains("KubeletReady")).count();
        eprintln!("  hollow: {ready} / {nodes} nodes Ready ({} s)", t0.elapsed().as_secs());
        if ready >= nodes {
            break;
        }
        if t0.elapsed() > Duration::from_secs(900) {
            bail!("only {ready} of {nodes} hollow nodes Ready after 900 s");
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let registered = t0.elapsed();
    let cpu0: Vec<f64> = pids.iter().map(|p| cpu_secs(*p)).collect();
    let f0 = cpu_secs(fleet_pid);
    tokio::time::sleep(Duration::from_secs(30)).await;
    let idle_cpu: f64 = pids.iter().zip(&cpu0).map(|(p, c)| cpu_secs(*p) - c).sum::<f64>() / 30.0;
    let idle_fleet = (cpu_secs(fleet_pid) - f0) / 30.0;
    eprintln!("  hollow: {nodes} nodes registered in {:.0} s; idle streams: replicas {idle_cpu:.2} cores, agents {idle_fleet:.2} cores", registered.as_secs_f64());
    // Pods through Deployments of 1,000.
    let deps = pods.div_ceil(1000);
    let cpu1: Vec<f64> = pids.iter().map(|p| cpu_secs(*p)).collect();
    let f1 = cpu_secs(fleet_pid);
    let t1 = Instant::now();
    for i in 0..deps {
        let n = (pods - i * 1000).min(1000);
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": format!("h{i}")},
            "spec": {"replicas": n, "selector": {"matchLabels": {"d": format!("h{i}")}},
                "template": {"metadata": {"labels": {"d": format!("h{i}")}},
                    "spec": {"containers": [{"name": "c", "image": "hollow"}]}}}});
        cl.create(CreateRequest {
            r#ref: rref("apps", "deployments", "default", ""),
            object: serde_json::to_vec(&d)?,
            options: None,
        })
        .await?;
    }
    let mut listed;
    loop {
        let t = Instant::now();
        let l = retry(|| {
            let mut c = cl.clone();
            async move {
                c.list(ListRequest {
                    r#ref: rref("", "pods", "", ""),
                    resource_version: "0".into(),
                    ..Default::default()
                })
                .await
                .map(|r| r.into_inner())
            }
        })
        .await?;
        listed = t.elapsed();
        let running = l.items.iter().filter(|b| String::from_utf8_lossy(b).contains("\"phase\":\"Running\"")).count();
        eprintln!(
            "  hollow: {running} / {pods} pods Running ({} s; list took {} ms)",
            t1.elapsed().as_secs(),
            listed.as_millis()
        );
        if running >= pods {
            break;
        }
        if t1.elapsed() > Duration::from_secs(1800) {
            bail!("only {running} of {pods} pods Running after 1800 s");
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    let busy = t1.elapsed().as_secs_f64();
    let busy_cpu: f64 = pids.iter().zip(&cpu1).map(|(p, c)| cpu_secs(*p) - c).sum::<f64>() / busy;
    let busy_fleet = (cpu_secs(fleet_pid) - f1) / busy;
    // A linearizable list of every pod, at a follower.
    let t = Instant::now();
    let l = cl.list(ListRequest { r#ref: rref("", "pods", "", ""), ..Default::default() }).await?.into_inner();
    let list_all = t.elapsed();
    let rss: Vec<f64> = pids.iter().map(|p| rss_mib(*p)).collect();
    println!("hollow scale: {nodes} nodes, {} pods Running in {busy:.0} s", l.items.len());
    println!("  replica RSS MiB: {}", rss.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(", "));
    println!("  hollow agent RSS MiB: {:.0}", rss_mib(fleet_pid));
    println!("  CPU (cores) with {nodes} idle streams: replicas {idle_cpu:.2}, hollow agents {idle_fleet:.2}");
    println!("  CPU (cores) while pods were assigned: replicas {busy_cpu:.2}, hollow agents {busy_fleet:.2}");
    println!("  list all pods: {} ms (linearizable, at a follower)", list_all.as_millis());
    let _ = fleet.kill();
    let _ = fleet.wait();
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = args();
    let base = 26_000 + (std::process::id() % 40) as u16 * 50;
    let images = concat!(env!("CARGO_MANIFEST_DIR"), "/../node-agent/images/build-images.sh");
    let st = Command::new("bash").arg(images).stdout(Stdio::null()).status()?;
    if !st.success() {
        bail!("building the test images failed (is Docker running?)");
    }
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("cluster");
    let node = format!("bench-{}", std::process::id());
    let (up, urls) = start(&dir, base, &["--node-name", &node])?;
    let mut cl = client(&urls[0]).await?;
    wait_node_ready(&mut cl, &node).await?;
    eprintln!("startup latency: {} pods at {}/s on one Docker node", a.rate * a.seconds, a.rate);
    let mut lat = steady(&urls, &node, a.rate, a.seconds).await?;
    let (p50, p99, max) = (pct(&mut lat, 0.5), pct(&mut lat, 0.99), pct(&mut lat, 1.0));
    println!(
        "startup at {}/s for {} s: p50 {} ms, p99 {} ms, max {} ms ({} pods)",
        a.rate,
        a.seconds,
        p50.as_millis(),
        p99.as_millis(),
        max.as_millis(),
        lat.len()
    );
    let b = burst(&urls, &node, a.burst).await?;
    println!("burst of {}: all Running in {} ms", a.burst, b.as_millis());
    tokio::time::sleep(Duration::from_secs(5)).await;
    drop(up);
    let _ = Command::new("sh")
        .arg("-c")
        .arg(format!("docker ps -aq --filter label=io.helmsman.node={node} | xargs -r docker rm -f >/dev/null"))
        .status();
    if a.hollow_nodes > 0 {
        hollow_scale(a.hollow_nodes, a.hollow_pods.max(1), base + 30).await?;
    }
    println!("startup p99 ms: {}", p99.as_millis());
    Ok(())
}
