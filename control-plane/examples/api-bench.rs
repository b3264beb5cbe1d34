//! Control-plane benchmark on this machine: a 3-replica cluster started as
//! `control-plane up` starts it, driven over gRPC (tonic) and REST (HTTP/1.1
//! keep-alive, JSON).
//!
//! 1. Pod creates/s with p50/p99 at 16, 64 and 256 concurrent clients, over
//!    gRPC and over REST (closed loop, `--secs` each).
//! 2. Latency at half the measured peak rate (open loop: requests are issued
//!    on a fixed schedule and latency counts from the scheduled time).
//! 3. A list of 10,000 pods over REST (JSON) and gRPC: latency and bytes.
//! 4. `--watchers` gRPC watchers on one namespace while a writer creates
//!    ConfigMaps at `--watch-rate`/s: delivery latency p50/p99 (from the
//!    writer's send time, carried in an annotation, to receipt).
//!
//! The last line prints pod creates/s over gRPC (best of the three client
//! counts).
//!
//! Run: `cargo build -p control-plane --bins --examples && cargo run -p control-plane --example api-bench [-- --secs 5]`

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use proto::api::resources_client::ResourcesClient;
use proto::api::{CreateRequest, ListRequest, ResourceRef, WatchRequest};
use serde_json::{json, Value};
use tonic::transport::{Channel, Endpoint};

struct Args {
    secs: u64,
    watchers: usize,
    watch_rate: u64,
    list_pods: usize,
}

fn args() -> Args {
    let mut a = Args { secs: 5, watchers: 1000, watch_rate: 1000, list_pods: 10_000 };
    let v: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i + 1 < v.len() {
        let n: u64 = v[i + 1].parse().unwrap_or_else(|_| panic!("{} needs a number", v[i]));
        match v[i].as_str() {
            "--secs" => a.secs = n,
            "--watchers" => a.watchers = n as usize,
            "--watch-rate" => a.watch_rate = n,
            "--list-pods" => a.list_pods = n as usize,
            other => panic!("unknown flag {other}; flags: --secs --watchers --watch-rate --list-pods"),
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

fn start(dir: &std::path::Path) -> Result<(Up, Vec<String>)> {
    let exe = std::env::current_exe()?;
    let bin = exe.parent().and_then(|p| p.parent()).map(|p| p.join("control-plane")).context("locating the binary")?;
    if !bin.exists() {
        bail!("{} not found: run `cargo build -p control-plane --bins --examples` first", bin.display());
    }
    let base = 21_000 + (std::process::id() % 300) as u16 * 30;
    let mut child = Command::new(&bin)
        .args(["up", "--data-dir"])
        .arg(dir)
        .args(["--port", &(base + 25).to_string(), "--base-port", &base.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(Some(s)) = child.try_wait() {
            bail!("`control-plane up` exited: {s}");
        }
        if let Ok(b) = std::fs::read(dir.join("cluster.json")) {
            let v: Value = serde_json::from_slice(&b)?;
            let urls: Vec<String> = v["replicas"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["api_url"].as_str().map(str::to_string))
                .collect();
            if urls.len() == 3 {
                let ok = urls.iter().all(|u| std::net::TcpStream::connect(u.trim_start_matches("http://")).is_ok());
                if ok {
                    std::thread::sleep(Duration::from_secs(2));
                    return Ok((Up(child), urls));
                }
            }
        }
        if Instant::now() > deadline {
            bail!("the cluster did not come up within 120 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v.get(((v.len() as f64 * p).ceil() as usize).saturating_sub(1).min(v.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1}ms", d.as_secs_f64() * 1000.0)
}

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "bench"}},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36", "command": ["sleep", "3600"]}]}})
}

fn pods_ref(ns: &str) -> Option<ResourceRef> {
    Some(ResourceRef {
        group: String::new(),
        version: "v1".into(),
        resource: "pods".into(),
        namespace: ns.into(),
        name: String::new(),
    })
}

async fn channels(urls: &[String], per: usize) -> Result<Vec<ResourcesClient<Channel>>> {
    let mut out = Vec::new();
    for u in urls {
        for _ in 0..per {
            let ch = Endpoint::from_shared(u.clone())?.tcp_nodelay(true).connect().await?;
            out.push(ResourcesClient::new(ch).max_decoding_message_size(256 << 20));
        }
    }
    Ok(out)
}

#[derive(Clone, Copy, PartialEq)]
enum Via {
    Grpc,
    Rest,
}

struct Clients {
    grpc: Vec<ResourcesClient<Channel>>,
    http: reqwest::Client,
    urls: Vec<String>,
}

impl Clients {
    async fn create_pod(&self, via: Via, i: usize, ns: &str, name: &str) -> Result<()> {
        let body = serde_json::to_vec(&pod(name))?;
        match via {
            Via::Grpc => {
                let mut c = self.grpc[i % self.grpc.len()].clone();
                c.create(CreateRequest { r#ref: pods_ref(ns), object: body, options: None }).await?;
            }
            Via::Rest => {
                let url = format!("{}/api/v1/namespaces/{ns}/pods", self.urls[i % self.urls.len()]);
                let r = self.http.post(url).header("Content-Type", "application/json").body(body).send().await?;
                if r.status().as_u16() != 201 {
                    bail!("create answered {}", r.status());
                }
                let _ = r.bytes().await?;
            }
        }
        Ok(())
    }
}

static SEQ: AtomicU64 = AtomicU64::new(0);

fn next_name(prefix: &str) -> String {
    format!("{prefix}-{}", SEQ.fetch_add(1, Ordering::Relaxed))
}

/// Closed loop: `conc` clients creating pods for `secs`.
async fn closed(cl: &Arc<Clients>, via: Via, conc: usize, secs: u64) -> (f64, Duration, Duration, u64) {
    let end = Instant::now() + Duration::from_secs(secs);
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..conc {
        let cl = cl.clone();
        let errors = errors.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < end {
                let t = Instant::now();
                match cl.create_pod(via, w, "default", &next_name("p")).await {
                    Ok(()) => lat.push(t.elapsed()),
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            lat
        }));
    }
    let start = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap_or_default());
    }
    let took = start.elapsed().as_secs_f64().max(secs as f64);
    let n = all.len() as f64;
    (n / took, pct(&mut all, 0.5), pct(&mut all, 0.99), errors.load(Ordering::Relaxed))
}

/// Open loop at `rate`/s for `secs`: latency from each request's scheduled time.
async fn open(cl: &Arc<Clients>, via: Via, rate: f64, secs: u64) -> (f64, Duration, Duration, u64) {
    let total = (rate * secs as f64) as u64;
    let start = Instant::now();
    let (tx, rx) = async_channel(1 << 20);
    let sched = tokio::spawn(async move {
        for k in 0..total {
            let at = start + Duration::from_secs_f64(k as f64 / rate);
            tokio::time::sleep_until(at.into()).await;
            if tx.send(at).await.is_err() {
                return;
            }
        }
    });
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..512 {
        let cl = cl.clone();
        let rx = rx.clone();
        let errors = errors.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while let Some(at) = rx.recv().await {
                match cl.create_pod(via, w, "default", &next_name("o")).await {
                    Ok(()) => lat.push(at.elapsed()),
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            lat
        }));
    }
    drop(rx);
    let _ = sched.await;
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap_or_default());
    }
    let took = start.elapsed().as_secs_f64();
    (all.len() as f64 / took, pct(&mut all, 0.5), pct(&mut all, 0.99), errors.load(Ordering::Relaxed))
}

/// A multi-consumer queue over a tokio mutex (enough for a benchmark's ticket dispenser).
struct Receiver<T>(Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<T>>>);
impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        Receiver(self.0.clone())
    }
}
impl<T> Receiver<T> {
    async fn recv(&self) -> Option<T> {
        self.0.lock().await.recv().await
    }
}
fn async_channel<T>(n: usize) -> (tokio::sync::mpsc::Sender<T>, Receiver<T>) {
    let (tx, rx) = tokio::sync::mpsc::channel(n);
    (tx, Receiver(Arc::new(tokio::sync::Mutex::new(rx))))
}

/// The `sent` annotation of a ConfigMap's JSON, found without parsing it.
fn sent_nanos(json: &[u8]) -> Option<u128> {
    let pat = b"\"sent\":\"";
    let at = json.windows(pat.len()).position(|w| w == pat)? + pat.len();
    let end = json[at..].iter().position(|b| *b == b'"')? + at;
    std::str::from_utf8(&json[at..end]).ok()?.parse().ok()
}

fn now_nanos() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos()
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = args();
    let tmp = tempfile::tempdir()?;
    let dir: PathBuf = tmp.path().join("cluster");
    eprintln!(">> starting a 3-replica cluster in {}", dir.display());
    let (_up, urls) = start(&dir)?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(512).tcp_nodelay(true).build()?;
    let cl = Arc::new(Clients { grpc: channels(&urls, 16).await?, http, urls: urls.clone() });
    // warm-up
    closed(&cl, Via::Grpc, 16, 1).await;

    println!("\n== pod creates (closed loop, {} s each) ==", a.secs);
    println!("{:<6} {:>8} {:>10} {:>10} {:>10} {:>7}", "via", "clients", "creates/s", "p50", "p99", "errors");
    let mut best = [0f64; 2];
    for via in [Via::Grpc, Via::Rest] {
        for conc in [16, 64, 256] {
            eprintln!(">> {} creates with {conc} clients", if via == Via::Grpc { "gRPC" } else { "REST" });
            let (rate, p50, p99, err) = closed(&cl, via, conc, a.secs).await;
            let name = if via == Via::Grpc { "gRPC" } else { "REST" };
            println!("{name:<6} {conc:>8} {rate:>10.0} {:>10} {:>10} {err:>7}", ms(p50), ms(p99));
            let b = &mut best[if via == Via::Grpc { 0 } else { 1 }];
            *b = b.max(rate);
        }
    }

    println!("\n== latency at half the peak rate (open loop, {} s) ==", a.secs);
    println!("{:<6} {:>10} {:>10} {:>10} {:>10} {:>7}", "via", "target/s", "done/s", "p50", "p99", "errors");
    for (i, via) in [Via::Grpc, Via::Rest].into_iter().enumerate() {
        let target = best[i] / 2.0;
        eprintln!(">> open loop at {target:.0}/s");
        let (rate, p50, p99, err) = open(&cl, via, target, a.secs).await;
        let name = if via == Via::Grpc { "gRPC" } else { "REST" };
        println!("{name:<6} {target:>10.0} {rate:>10.0} {:>10} {:>10} {err:>7}", ms(p50), ms(p99));
    }

    println!("\n== list of {} pods ==", a.list_pods);
    eprintln!(">> creating {} pods in namespace list", a.list_pods);
    {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "list"}});
        cl.http.post(format!("{}/api/v1/namespaces", urls[0])).json(&ns).send().await?;
        let next = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for w in 0..128 {
            let cl = cl.clone();
            let next = next.clone();
            let n = a.list_pods as u64;
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return;
                    }
                    while cl.create_pod(Via::Grpc, w, "list", &format!("pod-{i:05}")).await.is_err() {}
                }
            }));
        }
        for t in tasks {
            t.await?;
        }
    }
    println!("{:<24} {:>10} {:>10} {:>12} {:>7}", "how", "p50", "max", "bytes", "items");
    for (label, url) in [
        ("REST JSON (linearizable)", format!("{}/api/v1/namespaces/list/pods", urls[1])),
        ("REST JSON (rv=0)", format!("{}/api/v1/namespaces/list/pods?resourceVersion=0", urls[1])),
        ("REST Table", format!("{}/api/v1/namespaces/list/pods?limit=500", urls[1])),
    ] {
        let mut lat = Vec::new();
        let mut bytes = 0;
        let mut items = 0;
        for _ in 0..5 {
            let t = Instant::now();
            let mut req = cl.http.get(&url);
            if label == "REST Table" {
                req = req.header("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
            }
            let body = req.send().await?.bytes().await?;
            lat.push(t.elapsed());
            bytes = body.len();
            let v: Value = serde_json::from_slice(&body)?;
            items = v["items"].as_array().or(v["rows"].as_array()).map_or(0, |a| a.len());
        }
        let max = *lat.iter().max().unwrap_or(&Duration::ZERO);
        println!("{label:<24} {:>10} {:>10} {bytes:>12} {items:>7}", ms(pct(&mut lat, 0.5)), ms(max));
    }
    {
        let mut lat = Vec::new();
        let mut bytes = 0;
        let mut items = 0;
        for _ in 0..5 {
            let mut c = cl.grpc[1].clone();
            let t = Instant::now();
            let r = c.list(ListRequest { r#ref: pods_ref("list"), ..Default::default() }).await?.into_inner();
            lat.push(t.elapsed());
            bytes = r.items.iter().map(Vec::len).sum::<usize>();
            items = r.items.len();
        }
        let max = *lat.iter().max().unwrap_or(&Duration::ZERO);
        println!("{:<24} {:>10} {:>10} {bytes:>12} {items:>7}", "gRPC List", ms(pct(&mut lat, 0.5)), ms(max));
    }

    println!("\n== {} watchers, {} writes/s for {} s ==", a.watchers, a.watch_rate, a.secs);
    let wch = channels(&urls, 8).await?;
    let cm_ref = |name: &str| {
        Some(ResourceRef {
            group: String::new(),
            version: "v1".into(),
            resource: "configmaps".into(),
            namespace: "watch".into(),
            name: name.into(),
        })
    };
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "watch"}});
    cl.http.post(format!("{}/api/v1/namespaces", urls[0])).json(&ns).send().await?;
    let rv = cl.grpc[0]
        .clone()
        .list(ListRequest { r#ref: cm_ref(""), ..Default::default() })
        .await?
        .into_inner()
        .resource_version;
    let total = a.watch_rate * a.secs;
    let mut watchers = Vec::new();
    for w in 0..a.watchers {
        let mut c = wch[w % wch.len()].clone();
        let mut s = c
            .watch(WatchRequest { r#ref: cm_ref(""), resource_version: rv.clone(), ..Default::default() })
            .await?
            .into_inner();
        watchers.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(total as usize);
            while (lat.len() as u64) < total {
                match tokio::time::timeout(Duration::from_secs(30), s.message()).await {
                    Ok(Ok(Some(ev))) => {
                        let now = now_nanos();
                        // (no full JSON parse: 1000 watchers x 1000 events/s would
                        // make the client, not the server, the bottleneck)
                        let sent = sent_nanos(&ev.object).unwrap_or(now);
                        lat.push(Duration::from_nanos(now.saturating_sub(sent) as u64));
                    }
                    _ => break,
                }
            }
            lat
        }));
    }
    eprintln!(">> {} watchers open; writing", a.watchers);
    let start = Instant::now();
    let (tx, rx) = async_channel(1 << 16);
    let rate = a.watch_rate as f64;
    let sched = tokio::spawn(async move {
        for k in 0..total {
            tokio::time::sleep_until((start + Duration::from_secs_f64(k as f64 / rate)).into()).await;
            if tx.send(k).await.is_err() {
                return;
            }
        }
    });
    let mut writers = Vec::new();
    for w in 0..64 {
        let rx = rx.clone();
        let mut c = cl.grpc[w % cl.grpc.len()].clone();
        writers.push(tokio::spawn(async move {
            while let Some(k) = rx.recv().await {
                let o = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("cm-{k}"), "annotations": {"sent": now_nanos().to_string()}}});
                let _ = c.create(CreateRequest { r#ref: cm_ref(""), object: serde_json::to_vec(&o).unwrap_or_default(), options: None }).await;
            }
        }));
    }
    drop(rx);
    let _ = sched.await;
    for w in writers {
        let _ = w.await;
    }
    let wrote = start.elapsed();
    let mut all = Vec::new();
    let mut short = 0;
    for w in watchers {
        let l = w.await.unwrap_or_default();
        if (l.len() as u64) < total {
            short += 1;
        }
        all.extend(l);
    }
    println!(
        "{:>10} {:>12} {:>10} {:>10} {:>10} {:>16}",
        "writes", "write secs", "events", "p50", "p99", "short watchers"
    );
    println!(
        "{total:>10} {:>12.1} {:>10} {:>10} {:>10} {short:>16}",
        wrote.as_secs_f64(),
        all.len(),
        ms(pct(&mut all, 0.5)),
        ms(pct(&mut all, 0.99))
    );

    println!("\npod creates/s over gRPC: {:.0}", best[0]);
    Ok(())
}
