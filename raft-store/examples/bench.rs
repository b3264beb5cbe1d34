//! raft-store vs etcd 3.4 on this machine, side by side in one run.
//!
//! Starts a 3-member raft-store cluster and a 3-member etcd cluster (Debian's
//! `etcd-server`; fsync on, as both do by default) on 127.0.0.1, drives both
//! with the same client code (the etcd v3 gRPC client generated from our
//! wire-compatible protos) and prints throughput, p50 and p99 per workload
//! and the ratio raft-store/etcd. Then 20 leader SIGKILLs per system: time
//! from the kill to the first successful write. The last line is the put
//! throughput ratio at 64 clients.
//!
//! Run: `cargo build -p raft-store --bins --examples && cargo run -p raft-store --example bench [-- --secs 5 --kills 20]`

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use proto::etcdserverpb::kv_client::KvClient;
use proto::etcdserverpb::maintenance_client::MaintenanceClient;
use proto::etcdserverpb::{PutRequest, RangeRequest, StatusRequest};
use rand::{Rng, SeedableRng};
use tonic::transport::{Channel, Endpoint};

#[derive(Clone, Copy, PartialEq, Debug)]
enum System {
    RaftStore,
    Etcd,
}

impl System {
    fn name(self) -> &'static str {
        match self {
            System::RaftStore => "raft-store",
            System::Etcd => "etcd-3.4",
        }
    }
}

struct Proc {
    name: String,
    client: u16,
    peer: u16,
    dir: PathBuf,
    child: Option<Child>,
}

struct Cluster {
    sys: System,
    bin: PathBuf,
    members: Vec<Proc>,
    heartbeat: u64,
    election: u64,
}

/// A free port below the kernel's ephemeral range, so a killed member finds
/// its port free again when it restarts.
fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let (lo, hi) = (12_000u32, 20_000u32);
    let start = lo + (std::process::id() * 89) % (hi - lo);
    for _ in 0..(hi - lo) {
        let n = u32::from(NEXT.fetch_add(1, Ordering::SeqCst));
        let port = (lo + (start - lo + n) % (hi - lo)) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {lo}..{hi}")
}

impl Cluster {
    fn new(sys: System, bin: PathBuf, root: &Path, heartbeat: u64, election: u64) -> Cluster {
        let members = (0..3)
            .map(|i| Proc {
                name: format!("{}{}", if sys == System::Etcd { "e" } else { "r" }, i + 1),
                client: free_port(),
                peer: free_port(),
                dir: root.join(format!("{}-{}", sys.name(), i + 1)),
                child: None,
            })
            .collect();
        Cluster { sys, bin, members, heartbeat, election }
    }

    fn spawn(&mut self, i: usize, state: &str) -> Result<()> {
        let ic = self
            .members
            .iter()
            .map(|m| format!("{}=http://127.0.0.1:{}", m.name, m.peer))
            .collect::<Vec<_>>()
            .join(",");
        let m = &mut self.members[i];
        let cu = format!("http://127.0.0.1:{}", m.client);
        let pu = format!("http://127.0.0.1:{}", m.peer);
        let mut cmd = Command::new(&self.bin);
        cmd.args(["--name", &m.name])
            .arg("--data-dir")
            .arg(&m.dir)
            .args(["--listen-client-urls", &cu, "--advertise-client-urls", &cu])
            .args(["--listen-peer-urls", &pu, "--initial-advertise-peer-urls", &pu])
            .args(["--initial-cluster", &ic, "--initial-cluster-state", state])
            .args([
                "--heartbeat-interval",
                &self.heartbeat.to_string(),
                "--election-timeout",
                &self.election.to_string(),
            ]);
        if self.sys == System::Etcd {
            cmd.args(["--initial-cluster-token", "bench", "--logger", "zap", "--log-level", "error"]);
        } else {
            cmd.args(["--log-level", "warn"]);
        }
        let log = std::fs::File::create(m.dir.with_extension("log"))?;
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(log);
        m.child = Some(cmd.spawn().with_context(|| format!("starting {}", self.bin.display()))?);
        Ok(())
    }

    fn start(&mut self) -> Result<()> {
        for i in 0..3 {
            self.spawn(i, "new")?;
        }
        Ok(())
    }

    fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.members[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn urls(&self) -> Vec<String> {
        self.members.iter().map(|m| format!("http://127.0.0.1:{}", m.client)).collect()
    }

    /// Index of the leader once every running member agrees.
    async fn leader(&self, within: Duration) -> Result<usize> {
        let deadline = Instant::now() + within;
        loop {
            let mut seen = Vec::new();
            for (i, m) in self.members.iter().enumerate() {
                if m.child.is_none() {
                    continue;
                }
                let mut c = MaintenanceClient::new(chan(&format!("http://127.0.0.1:{}", m.client)));
                if let Ok(Ok(s)) = tokio::time::timeout(Duration::from_millis(300), c.status(StatusRequest {})).await {
                    let s = s.into_inner();
                    seen.push((i, s.leader, s.header.map(|h| h.member_id).unwrap_or(0)));
                }
            }
            let running = self.members.iter().filter(|m| m.child.is_some()).count();
            if seen.len() == running && seen.iter().all(|s| s.1 != 0 && s.1 == seen[0].1) {
                if let Some(l) = seen.iter().find(|s| s.1 == s.2) {
                    return Ok(l.0);
                }
            }
            if Instant::now() > deadline {
                bail!("{}: no leader within {within:?}", self.sys.name());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.members.len() {
            self.kill(i);
        }
    }
}

fn chan(url: &str) -> Channel {
    Endpoint::from_shared(url.to_string())
        .unwrap()
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_millis(300))
        .connect_lazy()
}

#[derive(Clone, Copy)]
enum Load {
    Put,
    Get,
    Mixed,
}

struct Stats {
    ops: usize,
    errors: usize,
    secs: f64,
    p50: Duration,
    p99: Duration,
}

impl Stats {
    fn tput(&self) -> f64 {
        self.ops as f64 / self.secs
    }
}

const KEYSPACE: u64 = 100_000;

async fn run_load(urls: &[String], clients: usize, load: Load, secs: f64) -> Stats {
    // 8 connections per member at most, clients spread over members
    let conns: Vec<Channel> =
        (0..(urls.len() * 8).min(clients.max(urls.len()))).map(|i| chan(&urls[i % urls.len()])).collect();
    let value = Arc::new(vec![b'v'; 256]);
    let stop_at = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let ch = conns[c % conns.len()].clone();
        let value = value.clone();
        tasks.push(tokio::spawn(async move {
            let mut kv = KvClient::new(ch);
            let mut lat = Vec::with_capacity(4096);
            let mut errors = 0usize;
            let mut rng = rand::rngs::StdRng::from_entropy();
            // bounded by time and by count
            while Instant::now() < stop_at && lat.len() < 2_000_000 {
                let key = format!("/bench/{:08}", rng.gen_range(0..KEYSPACE)).into_bytes();
                let write = match load {
                    Load::Put => true,
                    Load::Get => false,
                    Load::Mixed => rng.gen_range(0..10) == 0,
                };
                let t = Instant::now();
                let ok = if write {
                    kv.put(PutRequest { key, value: value.to_vec(), ..Default::default() }).await.is_ok()
                } else {
                    kv.range(RangeRequest { key, ..Default::default() }).await.is_ok()
                };
                if ok {
                    lat.push(t.elapsed());
                } else {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        all.extend(l);
        errors += e;
    }
    let secs = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or_default()
    };
    Stats { ops: all.len(), errors, secs, p50: pct(0.50), p99: pct(0.99) }
}

async fn preload(urls: &[String]) {
    // every key of the keyspace exists for the read workloads
    let mut tasks = Vec::new();
    for w in 0..32u64 {
        let ch = chan(&urls[w as usize % urls.len()]);
        tasks.push(tokio::spawn(async move {
            let mut kv = KvClient::new(ch);
            let mut k = w;
            while k < KEYSPACE {
                let _ = kv
                    .put(PutRequest {
                        key: format!("/bench/{k:08}").into_bytes(),
                        value: vec![b'v'; 256],
                        ..Default::default()
                    })
                    .await;
                k += 32;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

async fn failover(cl: &mut Cluster, kills: usize) -> Result<Vec<Duration>> {
    let mut out = Vec::new();
    for n in 0..kills {
        let leader = cl.leader(Duration::from_secs(30)).await?;
        let survivors: Vec<String> =
            cl.urls().into_iter().enumerate().filter(|(i, _)| *i != leader).map(|(_, u)| u).collect();
        let killed = Instant::now();
        cl.kill(leader);
        let mut i = 0usize;
        let took = loop {
            let mut kv = KvClient::new(chan(&survivors[i % survivors.len()]));
            let mut req = tonic::Request::new(PutRequest {
                key: b"/failover".to_vec(),
                value: n.to_string().into_bytes(),
                ..Default::default()
            });
            req.set_timeout(Duration::from_millis(500));
            if kv.put(req).await.is_ok() {
                break killed.elapsed();
            }
            i += 1;
            if killed.elapsed() > Duration::from_secs(30) {
                bail!("{}: no write succeeded within 30 s of a leader kill", cl.sys.name());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        out.push(took);
        eprintln!("  {} kill {:>2}/{kills}: first write after {:?}", cl.sys.name(), n + 1, took);
        cl.spawn(leader, "new")?;
        cl.leader(Duration::from_secs(30)).await?;
        // let the restarted member catch up before the next kill
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(out)
}

fn pct(v: &[Duration], p: f64) -> Duration {
    let mut s = v.to_vec();
    s.sort();
    s.get(((s.len() as f64 * p).ceil() as usize).saturating_sub(1).min(s.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.2}ms", d.as_secs_f64() * 1000.0)
}

fn find_raft_store() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let p = exe.parent().and_then(|p| p.parent()).map(|p| p.join("raft-store")).context("locating target dir")?;
    if !p.exists() {
        bail!("{} not found: build it first with `cargo build -p raft-store --bins --examples`", p.display());
    }
    Ok(p)
}

fn find_etcd() -> Result<PathBuf> {
    for p in ["/usr/bin/etcd", "/usr/local/bin/etcd"] {
        if Path::new(p).exists() {
            return Ok(PathBuf::from(p));
        }
    }
    bail!("etcd not found: install Debian's etcd-server (apt-get install -y etcd-server), e.g. with `bash .ci/setup`")
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, def: f64| -> f64 {
        args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(def)
    };
    let secs = arg("--secs", 5.0);
    let kills = arg("--kills", 20.0) as usize;
    let rs_bin = find_raft_store()?;
    let etcd_bin = find_etcd()?;
    let root = tempfile::tempdir()?;
    println!("# raft-store vs etcd 3.4: 3 members each on 127.0.0.1, fsync on, {secs}s per workload, 256-byte values, {KEYSPACE} keys");
    println!("# machine: {} cores", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));

    let workloads: Vec<(&str, Load, usize)> = vec![
        ("put", Load::Put, 1),
        ("put", Load::Put, 16),
        ("put", Load::Put, 64),
        ("put", Load::Put, 256),
        ("get (linearizable)", Load::Get, 64),
        ("mixed 90/10", Load::Mixed, 64),
    ];
    let mut results: Vec<Vec<Stats>> = Vec::new();
    for sys in [System::RaftStore, System::Etcd] {
        let bin = if sys == System::Etcd { etcd_bin.clone() } else { rs_bin.clone() };
        let mut cl = Cluster::new(sys, bin, root.path(), 100, 1000);
        cl.start()?;
        cl.leader(Duration::from_secs(30)).await?;
        eprintln!(">> {}: preloading {KEYSPACE} keys", sys.name());
        preload(&cl.urls()).await;
        let mut rs = Vec::new();
        for (name, load, clients) in &workloads {
            eprintln!(">> {}: {name} with {clients} clients", sys.name());
            rs.push(run_load(&cl.urls(), *clients, *load, secs).await);
        }
        results.push(rs);
        drop(cl);
    }
    println!();
    println!(
        "{:<20} {:>7} | {:>10} {:>9} {:>9} | {:>10} {:>9} {:>9} | {:>6}",
        "workload", "clients", "rs ops/s", "rs p50", "rs p99", "etcd ops/s", "etcd p50", "etcd p99", "ratio"
    );
    for (i, (name, _, clients)) in workloads.iter().enumerate() {
        let (r, e) = (&results[0][i], &results[1][i]);
        println!(
            "{:<20} {:>7} | {:>10.0} {:>9} {:>9} | {:>10.0} {:>9} {:>9} | {:>5.2}x{}",
            name,
            clients,
            r.tput(),
            ms(r.p50),
            ms(r.p99),
            e.tput(),
            ms(e.p50),
            ms(e.p99),
            r.tput() / e.tput().max(1e-9),
            if r.errors + e.errors > 0 {
                format!("  (errors: rs {}, etcd {})", r.errors, e.errors)
            } else {
                String::new()
            }
        );
    }

    let mut fo = Vec::new();
    if kills > 0 {
        for sys in [System::RaftStore, System::Etcd] {
            let bin = if sys == System::Etcd { etcd_bin.clone() } else { rs_bin.clone() };
            let dir = root.path().join(format!("failover-{}", sys.name()));
            std::fs::create_dir_all(&dir)?;
            let mut cl = Cluster::new(sys, bin, &dir, 100, 500);
            cl.start()?;
            eprintln!(">> {}: {kills} leader SIGKILLs (heartbeat 100 ms, election timeout 500 ms)", sys.name());
            fo.push(failover(&mut cl, kills).await?);
        }
        println!();
        println!("failover (SIGKILL leader -> first successful write), {kills} kills, heartbeat 100 ms, election timeout 500 ms:");
        for (sys, v) in [System::RaftStore, System::Etcd].iter().zip(&fo) {
            println!(
                "  {:<10} p50 {:>9}  p99 {:>9}  max {:>9}",
                sys.name(),
                ms(pct(v, 0.5)),
                ms(pct(v, 0.99)),
                ms(pct(v, 1.0))
            );
        }
    }
    let i64c = workloads.iter().position(|w| matches!(w.1, Load::Put) && w.2 == 64).unwrap();
    println!();
    println!(
        "put throughput ratio raft-store/etcd at 64 clients: {:.2}",
        results[0][i64c].tput() / results[1][i64c].tput().max(1e-9)
    );
    Ok(())
}
