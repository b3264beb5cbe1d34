//! Replicas as local child processes, each on its own loopback address
//! (127.0.0.11, .12, ...), with every Raft peer link routed through a
//! chaos-owned TCP proxy so partitions need no root and no kernel features.
//!
//! Replica `i` dials peer `j` through proxy link `i -> j` (the replica's
//! `--peer-dial-override`); blocking that link stalls exactly the traffic
//! `i` sends to `j` on connections it opened. Clients talk to replicas
//! directly. Each replica logs to `LOGS/<name>.log` (appended across
//! restarts) and keeps its data in `DATA/<name>`.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use std::time::Duration;

use futures::future::BoxFuture;
use parking_lot::Mutex;
use proto::etcdserverpb::cluster_client::ClusterClient;
use proto::etcdserverpb::{MemberAddRequest, MemberListRequest, MemberRemoveRequest};
use tokio::process::{Child, Command};

use super::{signal, Capability, Harness, HarnessError, Member};
use crate::proxy::ProxyMesh;

/// How to start a local cluster.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    /// The `control-plane` binary.
    pub binary: PathBuf,
    /// Number of replicas.
    pub replicas: usize,
    /// Directory for data and logs.
    pub dir: PathBuf,
    /// Raft election timeout, ms.
    pub election_timeout_ms: u64,
    /// First loopback host octet (replica i gets 127.0.0.(first + i)).
    pub first_octet: u8,
}

struct Replica {
    member: Member,
    args: Vec<String>,
    child: Option<Child>,
}

/// A cluster of local replica processes.
pub struct LocalCluster {
    cfg: LocalConfig,
    members: Vec<Member>,
    replicas: Mutex<Vec<Replica>>,
    mesh: ProxyMesh,
}

fn free_port(ip: Ipv4Addr) -> Result<u16, HarnessError> {
    let l = TcpListener::bind((ip, 0)).map_err(|e| {
        HarnessError::Setup(format!(
            "cannot bind {ip}:0 ({e}); local mode needs the whole 127.0.0.0/8 on lo (Linux has it by default)"
        ))
    })?;
    Ok(l.local_addr().map_err(|e| HarnessError::Setup(e.to_string()))?.port())
}

/// Finds the `control-plane` binary: `explicit`, else beside this
/// executable, else on the PATH.
pub fn find_binary(explicit: Option<&Path>) -> Result<PathBuf, HarnessError> {
    if let Some(p) = explicit {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(HarnessError::Setup(format!("--control-plane {} does not exist", p.display())))
        };
    }
    if let Some(p) = crate::programs::find("control-plane") {
        return Ok(p);
    }
    Err(HarnessError::Setup(
        "control-plane binary not found beside chaos or on the PATH; build it (cargo build -p control-plane) \
         or pass --control-plane PATH"
            .into(),
    ))
}

impl LocalCluster {
    /// Starts the replicas and the proxy mesh (does not wait for health).
    pub async fn start(cfg: LocalConfig) -> Result<LocalCluster, HarnessError> {
        if cfg.replicas == 0 || cfg.replicas > 9 {
            return Err(HarnessError::Setup("--replicas must be between 1 and 9".into()));
        }
        let n = cfg.replicas;
        let mut members = Vec::new();
        let mut peer_addrs = Vec::new();
        for i in 0..n {
            let ip = Ipv4Addr::new(127, 0, 0, cfg.first_octet.saturating_add(i as u8));
            let (pp, cp, ap) = (free_port(ip)?, free_port(ip)?, free_port(ip)?);
            peer_addrs.push(SocketAddr::new(IpAddr::V4(ip), pp));
            members.push(Member {
                name: format!("r{i}"),
                client_url: format!("http://{ip}:{cp}"),
                api_url: format!("http://{ip}:{ap}"),
                peer_url: format!("http://{ip}:{pp}"),
            });
        }
        let mesh = ProxyMesh::start(peer_addrs, IpAddr::V4(Ipv4Addr::LOCALHOST))
            .await
            .map_err(|e| HarnessError::Setup(format!("starting the partition proxies: {e}")))?;
        let initial = members.iter().map(|m| format!("{}={}", m.name, m.peer_url)).collect::<Vec<_>>().join(",");
        let data = cfg.dir.join("data");
        let logs = cfg.dir.join("logs");
        for d in [&data, &logs] {
            std::fs::create_dir_all(d).map_err(|e| HarnessError::Setup(format!("creating {}: {e}", d.display())))?;
        }
        let mut replicas = Vec::new();
        for (i, m) in members.iter().enumerate() {
            let overrides = (0..n)
                .filter(|&j| j != i)
                .map(|j| format!("{}=http://{}", members[j].peer_url, mesh.dial_addr(i, j)))
                .collect::<Vec<_>>()
                .join(",");
            let api = m.api_url.trim_start_matches("http://").to_string();
            let args = vec![
                "replica".to_string(),
                "--name".into(),
                m.name.clone(),
                "--data-dir".into(),
                data.join(&m.name).display().to_string(),
                "--listen-client-urls".into(),
                m.client_url.clone(),
                "--advertise-client-urls".into(),
                m.client_url.clone(),
                "--listen-peer-urls".into(),
                m.peer_url.clone(),
                "--initial-advertise-peer-urls".into(),
                m.peer_url.clone(),
                "--initial-cluster".into(),
                initial.clone(),
                "--initial-cluster-state".into(),
                "new".into(),
                "--election-timeout".into(),
                cfg.election_timeout_ms.to_string(),
                "--api-listen".into(),
                api,
                "--peer-dial-override".into(),
                overrides,
                "--parent-pid".into(),
                std::process::id().to_string(),
            ];
            replicas.push(Replica { member: m.clone(), args, child: None });
        }
        let cluster = LocalCluster { cfg, members, replicas: Mutex::new(replicas), mesh };
        for i in 0..n {
            cluster.spawn(i)?;
        }
        Ok(cluster)
    }

    fn log_path(&self, name: &str) -> PathBuf {
        self.cfg.dir.join("logs").join(format!("{name}.log"))
    }

    fn spawn(&self, i: usize) -> Result<(), HarnessError> {
        let mut g = self.replicas.lock();
        let r = &mut g[i];
        let name = r.member.name.clone();
        let log_path = self.log_path(&name);
        let err = |message: String| HarnessError::Member { member: name.clone(), message };
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| err(format!("opening {}: {e}", log_path.display())))?;
        let log2 = log.try_clone().map_err(|e| err(e.to_string()))?;
        let child = Command::new(&self.cfg.binary)
            .args(&r.args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| err(format!("starting {}: {e}", self.cfg.binary.display())))?;
        r.child = Some(child);
        Ok(())
    }

    fn pid(&self, i: usize) -> Result<u32, HarnessError> {
        let g = self.replicas.lock();
        let r = &g[i];
        r.child
            .as_ref()
            .and_then(Child::id)
            .ok_or_else(|| HarnessError::Member { member: r.member.name.clone(), message: "not running".into() })
    }

    /// Path of replica `i`'s log.
    pub fn log_of(&self, i: usize) -> PathBuf {
        self.log_path(&self.members[i].name)
    }
}

impl LocalCluster {
    /// Asks the members other than `i` (each in turn, for up to 15 s) to
    /// make a membership call.
    async fn membership<T>(
        &self,
        i: usize,
        what: &str,
        call: impl Fn(ClusterClient<tonic::transport::Channel>) -> BoxFuture<'static, Result<T, tonic::Status>>,
    ) -> Result<T, HarnessError> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        let mut last = String::new();
        loop {
            for (j, m) in self.members.iter().enumerate() {
                if j == i {
                    continue;
                }
                let ch = crate::etcd::channel(&m.client_url).map_err(HarnessError::Setup)?;
                match tokio::time::timeout(Duration::from_secs(5), call(ClusterClient::new(ch))).await {
                    Ok(Ok(t)) => return Ok(t),
                    Ok(Err(s)) => last = format!("{}: {}", m.name, crate::etcd::status_text(&s)),
                    Err(_) => last = format!("{}: timed out", m.name),
                }
            }
            if tokio::time::Instant::now() > deadline {
                return Err(HarnessError::Member {
                    member: self.members[i].name.clone(),
                    message: format!("{what}: {last}"),
                });
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Member id of replica `i`, from the membership (matched by peer URL).
    async fn member_id(&self, i: usize) -> Result<u64, HarnessError> {
        let url = self.members[i].peer_url.clone();
        let list = self
            .membership(i, "listing members", |mut c| {
                Box::pin(async move { c.member_list(MemberListRequest { linearizable: true }).await })
            })
            .await?;
        list.into_inner().members.iter().find(|m| m.peer_ur_ls.contains(&url)).map(|m| m.id).ok_or_else(|| {
            HarnessError::Member { member: self.members[i].name.clone(), message: "not in the membership".into() }
        })
    }
}

impl Harness for LocalCluster {
    fn members(&self) -> &[Member] {
        &self.members
    }

    fn describe(&self) -> String {
        format!(
            "{} local processes on 127.0.0.{}-{} (peer links through chaos proxies); data and logs in {}",
            self.members.len(),
            self.cfg.first_octet,
            self.cfg.first_octet as usize + self.members.len() - 1,
            self.cfg.dir.display()
        )
    }

    fn supports(&self, _cap: Capability) -> bool {
        true
    }

    fn kill(&self, i: usize) -> BoxFuture<'_, Result<(), HarnessError>> {
        Box::pin(async move {
            let child = self.replicas.lock()[i].child.take();
            let _ = self.mesh.sever_member(i);
            if let Some(mut c) = child {
                // SIGKILL also ends a stopped process.
                c.kill().await.map_err(|e| HarnessError::Member {
                    member: self.members[i].name.clone(),
                    message: format!("SIGKILL: {e}"),
                })?;
            }
            Ok(())
        })
    }

    fn restart(&self, i: usize) -> BoxFuture<'_, Result<(), HarnessError>> {
        Box::pin(async move {
            let running = {
                let mut g = self.replicas.lock();
                match g[i].child.as_mut() {
                    Some(c) => matches!(c.try_wait(), Ok(None)),
                    None => false,
                }
            };
            if running {
                return Ok(());
            }
            self.spawn(i)
        })
    }

    fn pause(&self, i: usize) -> BoxFuture<'_, Result<(), HarnessError>> {
        Box::pin(async move {
            let pid = self.pid(i)?;
            signal::to_member(&self.members[i].name, pid, libc::SIGSTOP)
        })
    }

    fn resume(&self, i: usize) -> BoxFuture<'_, Result<(), HarnessError>> {
        Box::pin(async move {
            let pid = self.pid(i)?;
            signal::to_member(&self.members[i].name, pid, libc::SIGCONT)
        })
    }

    fn set_partition(&self, links: &BTreeSet<(usize, usize)>) -> BoxFuture<'_, Result<(), HarnessError>> {
        let r = self.mesh.set_blocked_links(links).map_err(|e| HarnessError::Setup(e.to_string()));
        Box::pin(async move { r })
    }

    fn remove_member(&self, i: usize) -> BoxFuture<'_, Result<(), HarnessError>> {
        Box::pin(async move {
            let id = self.member_id(i).await?;
            self.membership(i, "removing", move |mut c| {
                Box::pin(async move { c.member_remove(MemberRemoveRequest { id }).await })
            })
            .await?;
            // A removed member stops by itself; make sure it is gone.
            let child = self.replicas.lock()[i].child.take();
            if let Some(mut c) = child {
                if tokio::time::timeout(Duration::from_secs(10), c.wait()).await.is_err() {
                    let _ = c.kill().await;
                }
            }
            let _ = self.mesh.sever_member(i);
            Ok(())
        })
    }

    fn add_member_back(&self, i: usize) -> BoxFuture<'_, Result<(), HarnessError>> {
        Box::pin(async move {
            let child = self.replicas.lock()[i].child.take();
            if let Some(mut c) = child {
                let _ = c.kill().await;
            }
            let name = self.members[i].name.clone();
            let dir = self.cfg.dir.join("data").join(&name);
            if dir.exists() {
                std::fs::remove_dir_all(&dir).map_err(|e| HarnessError::Member {
                    member: name.clone(),
                    message: format!("wiping {}: {e}", dir.display()),
                })?;
            }
            let url = self.members[i].peer_url.clone();
            self.membership(i, "adding back", move |mut c| {
                let url = url.clone();
                Box::pin(
                    async move { c.member_add(MemberAddRequest { peer_ur_ls: vec![url], is_learner: false }).await },
                )
            })
            .await?;
            {
                // From now on it joins (and restarts into) the existing cluster.
                let mut g = self.replicas.lock();
                if let Some(p) = g[i].args.iter().position(|a| a == "--initial-cluster-state") {
                    g[i].args[p + 1] = "existing".into();
                }
            }
            self.spawn(i)
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let children: Vec<Child> = self.replicas.lock().iter_mut().filter_map(|r| r.child.take()).collect();
            for mut c in children {
                if let Some(pid) = c.id() {
                    let _ = signal::send(pid, libc::SIGCONT);
                    let _ = signal::send(pid, libc::SIGTERM);
                }
                if tokio::time::timeout(std::time::Duration::from_secs(10), c.wait()).await.is_err() {
                    let _ = c.kill().await;
                }
            }
            self.mesh.heal();
        })
    }
}
