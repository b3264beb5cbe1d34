//! A cluster of real `raft-store` processes on 127.0.0.1 with data in a
//! temp dir. Members can be SIGKILLed, restarted and added. Helpers that
//! panic on failure are named `must_*`.

#![allow(dead_code)]

use std::fs::File;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use proto::etcdserverpb::kv_client::KvClient;
use proto::etcdserverpb::maintenance_client::MaintenanceClient;
use proto::etcdserverpb::{PutRequest, RangeRequest, StatusRequest};
use tonic::transport::Channel;

/// A free TCP port on 127.0.0.1, below the kernel's ephemeral range: a
/// member that is down for a while must find its port free again when it
/// restarts, and ephemeral ports are handed to outgoing connections.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let (lo, hi) = (20_000u32, 32_000u32);
    let start = lo + (std::process::id() * 97) % (hi - lo);
    for _ in 0..(hi - lo) {
        let n = u32::from(NEXT.fetch_add(1, Ordering::SeqCst));
        let port = (lo + (start - lo + n) % (hi - lo)) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {lo}..{hi}")
}

pub struct MemberProc {
    pub name: String,
    pub client_port: u16,
    pub peer_port: u16,
    pub data_dir: PathBuf,
    pub log: PathBuf,
    pub child: Option<Child>,
    pub extra: Vec<String>,
}

impl MemberProc {
    pub fn client_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }
    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.client_port)
    }
    pub fn peer_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.peer_port)
    }
}

pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub members: Vec<MemberProc>,
    pub extra: Vec<String>,
}

impl Cluster {
    /// Start `n` members bootstrapping a new cluster; `extra` flags go to all.
    pub fn start(n: usize, extra: &[&str]) -> Cluster {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut members = Vec::new();
        for i in 0..n {
            members.push(MemberProc {
                name: format!("m{}", i + 1),
                client_port: free_port(),
                peer_port: free_port(),
                data_dir: dir.path().join(format!("m{}", i + 1)),
                log: dir.path().join(format!("m{}.log", i + 1)),
                child: None,
                extra: vec![],
            });
        }
        let mut c = Cluster { dir, members, extra: extra.iter().map(|s| s.to_string()).collect() };
        for i in 0..n {
            c.spawn(i, "new", None);
        }
        c
    }

    fn initial_cluster(&self) -> String {
        self.members.iter().map(|m| format!("{}={}", m.name, m.peer_url())).collect::<Vec<_>>().join(",")
    }

    /// Spawn member `i` (again).
    pub fn spawn(&mut self, i: usize, state: &str, initial: Option<String>) {
        let ic = initial.unwrap_or_else(|| self.initial_cluster());
        let m = &mut self.members[i];
        assert!(m.child.is_none(), "member {} already running", m.name);
        let log = File::options().create(true).append(true).open(&m.log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_raft-store"))
            .args(["--name", &m.name])
            .arg("--data-dir")
            .arg(&m.data_dir)
            .args(["--listen-client-urls", &m.client_url(), "--advertise-client-urls", &m.client_url()])
            .args(["--listen-peer-urls", &m.peer_url(), "--initial-advertise-peer-urls", &m.peer_url()])
            .args(["--initial-cluster", &ic, "--initial-cluster-state", state])
            .args(["--heartbeat-interval", "100", "--election-timeout", "1000"])
            .args(&self.extra)
            .args(&m.extra)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .spawn()
            .expect("spawn raft-store (built by cargo for this test)");
        m.child = Some(child);
    }

    /// Restart a stopped member of the original cluster.
    pub fn restart(&mut self, i: usize) {
        self.spawn(i, "new", None);
    }

    /// SIGKILL member `i`.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.members[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM member `i` and wait for it to exit.
    pub fn stop(&mut self, i: usize) -> std::process::ExitStatus {
        let mut c = self.members[i].child.take().expect("member running");
        unsafe_sigterm(c.id());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(st) = c.try_wait().expect("try_wait") {
                return st;
            }
            assert!(Instant::now() < deadline, "member did not exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn endpoints(&self) -> String {
        self.members.iter().map(|m| m.endpoint()).collect::<Vec<_>>().join(",")
    }

    pub async fn kv(&self, i: usize) -> KvClient<Channel> {
        KvClient::new(channel(&self.members[i].client_url()).await)
    }

    pub async fn maint(&self, i: usize) -> MaintenanceClient<Channel> {
        MaintenanceClient::new(channel(&self.members[i].client_url()).await)
    }

    /// Wait until the running members agree on a leader; return its index.
    pub async fn must_leader(&self, within: Duration) -> usize {
        let deadline = Instant::now() + within;
        loop {
            let mut leaders = Vec::new();
            for (i, m) in self.members.iter().enumerate() {
                if m.child.is_none() {
                    continue;
                }
                let mut c = MaintenanceClient::new(lazy_channel(&m.client_url()));
                if let Ok(Ok(s)) = tokio::time::timeout(Duration::from_millis(500), c.status(StatusRequest {})).await {
                    let s = s.into_inner();
                    if s.leader != 0 {
                        leaders.push((i, s.leader, s.header.map(|h| h.member_id).unwrap_or(0)));
                    }
                }
            }
            let running = self.members.iter().filter(|m| m.child.is_some()).count();
            if leaders.len() == running && running > 0 && leaders.iter().all(|l| l.1 == leaders[0].1) {
                if let Some(l) = leaders.iter().find(|l| l.1 == l.2) {
                    return l.0;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no agreed leader within {within:?}; logs in {}",
                self.dir.path().display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Put through member `i`, retrying until `within` runs out.
    pub async fn must_put(&self, i: usize, key: &str, value: &str, within: Duration) -> i64 {
        let deadline = Instant::now() + within;
        loop {
            let mut kv = KvClient::new(lazy_channel(&self.members[i].client_url()));
            match kv.put(PutRequest { key: key.into(), value: value.into(), ..Default::default() }).await {
                Ok(r) => return r.into_inner().header.expect("header").revision,
                Err(e) => {
                    assert!(Instant::now() < deadline, "put {key} via m{} failed: {e}", i + 1);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    /// Serializable get of one key on member `i`.
    pub async fn local_get(&self, i: usize, key: &str) -> Option<Vec<u8>> {
        let mut kv = KvClient::new(lazy_channel(&self.members[i].client_url()));
        let r = kv.range(RangeRequest { key: key.into(), serializable: true, ..Default::default() }).await.ok()?;
        r.into_inner().kvs.pop().map(|kv| kv.value)
    }

    pub fn log_text(&self, i: usize) -> String {
        std::fs::read_to_string(&self.members[i].log).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.members.len() {
            self.kill(i);
        }
        if std::thread::panicking() {
            for m in &self.members {
                let text = std::fs::read_to_string(&m.log).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(30).collect();
                eprintln!("---- last lines of {} ----", m.name);
                for l in tail.into_iter().rev() {
                    eprintln!("{l}");
                }
            }
        }
    }
}

fn unsafe_sigterm(pid: u32) {
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
}

pub fn lazy_channel(url: &str) -> Channel {
    tonic::transport::Endpoint::from_shared(url.to_string())
        .expect("url")
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_secs(10))
        .connect_lazy()
}

pub async fn channel(url: &str) -> Channel {
    lazy_channel(url)
}

/// Run `etcdctl` (v3 API) against `endpoints`; returns (success, stdout, stderr).
pub fn etcdctl(endpoints: &str, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    use std::io::Write;
    let mut cmd = Command::new("etcdctl");
    cmd.env("ETCDCTL_API", "3").arg("--endpoints").arg(endpoints).arg("--command-timeout=10s").args(args);
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .expect("etcdctl must be installed (apt-get install etcd-client); the README's test command does it");
    if let Some(s) = stdin {
        child.stdin.take().expect("stdin").write_all(s.as_bytes()).expect("write stdin");
    }
    let out = child.wait_with_output().expect("etcdctl output");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Like [`etcdctl`] but panics unless it succeeds; returns stdout.
pub fn must_etcdctl(endpoints: &str, args: &[&str]) -> String {
    let (ok, out, err) = etcdctl(endpoints, args, None);
    assert!(ok, "etcdctl {args:?} failed:\nstdout: {out}\nstderr: {err}");
    out
}
