//! `control-plane up`: a local cluster of replicas as child processes on
//! 127.0.0.1, a health-checked front for kubectl, a kubeconfig and a
//! `cluster.json`. Running it again with the same `--data-dir` reuses the
//! data (ports are derived from `--base-port`, so replicas come back at the
//! same addresses). Ctrl-C stops every replica cleanly.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Args;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

/// Flags of `control-plane up`.
#[derive(Debug, Args)]
pub struct UpFlags {
    /// Directory for all replicas' data, the kubeconfig and cluster.json
    /// (default: ~/.helmsman/cluster).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Number of replicas (3 or 5 for a fault-tolerant cluster).
    #[arg(long, default_value_t = 3)]
    pub replicas: usize,
    /// Port of the front that kubectl talks to.
    #[arg(long, default_value_t = 6443)]
    pub port: u16,
    /// First port of the replicas (each uses three: API, store client, peer).
    #[arg(long, default_value_t = 17000)]
    pub base_port: u16,
    /// Raft election timeout in milliseconds (500 by default, half of
    /// etcd's: a leader's death costs about 0.6–1 s before the new leader's
    /// controllers act; raise it on machines with long fsync stalls).
    #[arg(long, default_value_t = 500)]
    pub election_timeout: u64,
    /// Do not start a node agent (by default one Docker agent starts when a
    /// Docker engine is reachable and the `node-agent` binary sits beside
    /// this one).
    #[arg(long)]
    pub no_agent: bool,
    /// Name of the node the agent registers.
    #[arg(long, default_value = "node-1")]
    pub node_name: String,
    /// Leader-task flags, passed on to every replica.
    #[command(flatten)]
    pub leader: crate::leader::flags::LeaderFlags,
}

/// One replica as recorded in `cluster.json`.
#[derive(Debug, Clone, Serialize)]
pub struct ReplicaInfo {
    /// Name.
    pub name: String,
    /// Process id.
    pub pid: u32,
    /// Kubernetes API URL of this replica.
    pub api_url: String,
    /// etcd v3 API URL of its store.
    pub store_client_url: String,
    /// Raft peer URL.
    pub peer_url: String,
}

/// Errors of `up`.
#[derive(Debug, thiserror::Error)]
pub enum UpError {
    /// Bad flags.
    #[error("{0}")]
    Config(String),
    /// File system trouble.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A replica exited while the cluster was starting.
    #[error("{name} exited while starting ({status}); its log is {log}")]
    ReplicaExited {
        /// Replica name.
        name: String,
        /// How it exited.
        status: String,
        /// Its log file.
        log: String,
    },
    /// The cluster did not become ready.
    #[error("the cluster did not become ready within {0:?}; see the replica logs in {1}")]
    NotReady(Duration, String),
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> UpError {
    let path = path.display().to_string();
    move |source| UpError::Io { what, path, source }
}

struct Plan {
    name: String,
    api: SocketAddr,
    client: u16,
    peer: u16,
    dir: PathBuf,
}

/// Run `up` until Ctrl-C (or `stop`).
pub async fn run(flags: UpFlags, stop: CancellationToken) -> Result<(), UpError> {
    if flags.replicas == 0 || flags.replicas > 9 {
        return Err(UpError::Config("--replicas must be between 1 and 9".into()));
    }
    // Check the leader-task flags (e.g. a scheduler config file) before
    // starting anything: every replica would refuse them.
    flags.leader.config().map_err(UpError::Config)?;
    let dir = match &flags.data_dir {
        Some(d) => d.clone(),
        None => PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| ".".into())).join(".helmsman").join("cluster"),
    };
    fs::create_dir_all(&dir).map_err(io("creating", &dir))?;
    let dir = dir.canonicalize().map_err(io("resolving", &dir))?;
    let exe = std::env::current_exe().map_err(|e| UpError::Config(format!("cannot find own executable: {e}")))?;
    let plans: Vec<Plan> = (0..flags.replicas)
        .map(|i| {
            let p = flags.base_port + 10 * i as u16;
            Plan {
                name: format!("replica-{}", i + 1),
                api: SocketAddr::from(([127, 0, 0, 1], p)),
                client: p + 1,
                peer: p + 2,
                dir: dir.join(format!("replica-{}", i + 1)),
            }
        })
        .collect();
    let initial = plans.iter().map(|p| format!("{}=http://127.0.0.1:{}", p.name, p.peer)).collect::<Vec<_>>().join(",");
    let reusing = plans.iter().any(|p| p.dir.exists());
    println!("{} {} replicas in {}", if reusing { "restarting" } else { "starting" }, flags.replicas, dir.display());
    let mut children: Vec<Child> = Vec::new();
    let mut infos = Vec::new();
    for p in &plans {
        let log_path = dir.join(format!("{}.log", p.name));
        let log = fs::OpenOptions::new().create(true).append(true).open(&log_path).map_err(io("opening", &log_path))?;
        let log2 = log.try_clone().map_err(io("opening", &log_path))?;
        let client = format!("http://127.0.0.1:{}", p.client);
        let peer = format!("http://127.0.0.1:{}", p.peer);
        let child = Command::new(&exe)
            .arg("replica")
            .args(["--name", &p.name])
            .arg("--data-dir")
            .arg(&p.dir)
            .args(["--listen-client-urls", &client, "--advertise-client-urls", &client])
            .args(["--listen-peer-urls", &peer, "--initial-advertise-peer-urls", &peer])
            .args(["--initial-cluster", &initial, "--initial-cluster-state", "new"])
            .args(["--election-timeout", &flags.election_timeout.to_string()])
            .args(["--api-listen", &p.api.to_string()])
            .args(flags.leader.to_args())
            .args(["--parent-pid", &std::process::id().to_string()])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(io("starting replica", &exe))?;
        infos.push(ReplicaInfo {
            name: p.name.clone(),
            pid: child.id(),
            api_url: format!("http://{}", p.api),
            store_client_url: client,
            peer_url: peer,
        });
        children.push(child);
    }
    let cluster_json = dir.join("cluster.json");
    fs::write(&cluster_json, serde_json::to_vec_pretty(&serde_json::json!({ "replicas": infos })).expect("json"))
        .map_err(io("writing", &cluster_json))?;

    let front_addr = SocketAddr::from(([127, 0, 0, 1], flags.port));
    let listener = tokio::net::TcpListener::bind(front_addr).await.map_err(|e| {
        UpError::Config(format!("cannot listen on {front_addr} for the front: {e}; pass --port to use another port"))
    })?;
    let front_stop = CancellationToken::new();
    let backends: Vec<SocketAddr> = plans.iter().map(|p| p.api).collect();
    let front = tokio::spawn(crate::front::serve(listener, backends.clone(), front_stop.clone()));

    // wait until every replica is ready, showing progress
    let started = Instant::now();
    let limit = Duration::from_secs(120);
    let result = loop {
        let ready =
            futures::future::join_all(backends.iter().map(|b| crate::front::ready(*b, Duration::from_secs(2)))).await;
        let n = ready.iter().filter(|r| **r).count();
        print!("\rwaiting for replicas: {n}/{} ready ({}s)   ", backends.len(), started.elapsed().as_secs());
        use std::io::Write;
        let _ = std::io::stdout().flush();
        if n == backends.len() {
            println!();
            break Ok(());
        }
        let exited = children.iter_mut().zip(&infos).find_map(|(c, info)| match c.try_wait() {
            Ok(Some(st)) => Some((info.name.clone(), st)),
            _ => None,
        });
        if let Some((name, status)) = exited {
            println!();
            let log = dir.join(format!("{name}.log")).display().to_string();
            break Err(UpError::ReplicaExited { name, status: status.to_string(), log });
        }
        if started.elapsed() > limit {
            println!();
            break Err(UpError::NotReady(limit, dir.display().to_string()));
        }
        tokio::select! {
            _ = stop.cancelled() => break Ok(()),
            _ = tokio::time::sleep(Duration::from_millis(300)) => {}
        }
    };
    if let Err(e) = result {
        shutdown(&mut children);
        front_stop.cancel();
        return Err(e);
    }
    let kubeconfig = dir.join("kubeconfig");
    fs::write(&kubeconfig, kubeconfig_text(&format!("http://{front_addr}"))).map_err(io("writing", &kubeconfig))?;
    println!("control plane ready: {} replicas behind http://{front_addr}", infos.len());
    println!("  kubeconfig:   {}", kubeconfig.display());
    println!("  cluster info: {}", cluster_json.display());
    println!("  use it with:  kubectl --kubeconfig {} version", kubeconfig.display());
    let eps = infos
        .iter()
        .map(|i| i.store_client_url.trim_start_matches("http://").to_string())
        .collect::<Vec<_>>()
        .join(",");
    println!("  store:        ETCDCTL_API=3 etcdctl --endpoints {eps} endpoint status -w table");
    let mut agent = if flags.no_agent {
        None
    } else {
        let urls: Vec<String> = infos.iter().map(|i| i.api_url.clone()).collect();
        start_agent(&exe, &dir, &flags.node_name, &urls)
    };
    println!("Ctrl-C stops the cluster (data stays in {})", dir.display());

    // run until asked to stop; report replicas that exit on their own
    let mut reported = vec![false; children.len()];
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
        for (i, c) in children.iter_mut().enumerate() {
            if !reported[i] {
                if let Ok(Some(st)) = c.try_wait() {
                    reported[i] = true;
                    eprintln!(
                        "{} exited ({st}); the others keep serving. Log: {}",
                        infos[i].name,
                        dir.join(format!("{}.log", infos[i].name)).display()
                    );
                }
            }
        }
    }
    if let Some(a) = agent.as_mut() {
        println!("stopping the node agent (its pods keep running; the next `up` adopts them)");
        shutdown(std::slice::from_mut(a));
    }
    println!("stopping {} replicas", children.len());
    shutdown(&mut children);
    front_stop.cancel();
    let _ = front.await;
    println!("stopped");
    Ok(())
}

/// Where the Docker engine listens (`DOCKER_HOST=unix://...` or the default socket).
fn docker_socket() -> PathBuf {
    match std::env::var("DOCKER_HOST") {
        Ok(h) if h.starts_with("unix://") => PathBuf::from(h.trim_start_matches("unix://")),
        _ => PathBuf::from("/var/run/docker.sock"),
    }
}

/// Start one Docker node agent beside the replicas, if it can run here;
/// say plainly why not otherwise.
fn start_agent(exe: &Path, dir: &Path, node: &str, servers: &[String]) -> Option<Child> {
    let agent_exe = exe.with_file_name("node-agent");
    if !agent_exe.exists() {
        println!("no node agent: {} is missing (build it: cargo build -p node-agent)", agent_exe.display());
        return None;
    }
    let sock = docker_socket();
    if let Err(e) = std::os::unix::net::UnixStream::connect(&sock) {
        println!(
            "no node agent: no Docker engine reachable at {} ({e}); start Docker and run `up` again to get a node",
            sock.display()
        );
        return None;
    }
    let log_path = dir.join("node-agent.log");
    let log = fs::OpenOptions::new().create(true).append(true).open(&log_path).ok()?;
    let log2 = log.try_clone().ok()?;
    let child = Command::new(&agent_exe)
        .args(["--servers", &servers.join(",")])
        .args(["--node-name", node])
        .arg("--data-dir")
        .arg(dir.join("node-agent"))
        .args(["--runtime", "docker"])
        .args(["--parent-pid", &std::process::id().to_string()])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn();
    match child {
        Ok(c) => {
            println!("  node agent:   node {node} on Docker (pid {}, log {})", c.id(), log_path.display());
            Some(c)
        }
        Err(e) => {
            println!("no node agent: cannot start {}: {e}", agent_exe.display());
            None
        }
    }
}

/// SIGTERM every replica and wait (up to 10 s each, then SIGKILL).
fn shutdown(children: &mut [Child]) {
    for c in children.iter_mut() {
        if let Ok(None) = c.try_wait() {
            let _ = Command::new("kill").args(["-TERM", &c.id().to_string()]).stderr(Stdio::null()).status();
        }
    }
    for c in children.iter_mut() {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match c.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() > deadline => {
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

/// A kubeconfig for a plain-HTTP server.
pub fn kubeconfig_text(server: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: helmsman\n  cluster:\n    server: {server}\ncontexts:\n- name: helmsman\n  context:\n    cluster: helmsman\n    user: helmsman\n    namespace: default\ncurrent-context: helmsman\nusers:\n- name: helmsman\n  user: {{}}\n"
    )
}
