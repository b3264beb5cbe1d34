//! The `node-agent` command line: one agent (`--runtime docker|hollow`), or
//! `node-agent hollow --count N` for many hollow nodes in one process.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tokio_util::sync::CancellationToken;

use crate::agent::{self, AgentConfig};
use crate::node::{self, HostFacts};
use crate::runtime::Runtime;
use crate::servers::Servers;
use crate::sources::GrpcSources;

#[derive(Parser)]
#[command(
    name = "node-agent",
    version,
    about = "Helmsman node agent: runs the pods the control plane assigns to this node",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    agent: AgentFlags,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run many hollow nodes (no containers) in one process, for scale tests.
    Hollow(HollowFlags),
}

/// Which container runtime runs the pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuntimeKind {
    /// Real containers through the local Docker engine.
    Docker,
    /// No containers: pods "run" in memory (scale tests).
    Hollow,
}

/// Flags shared by every agent.
#[derive(Debug, Args, Clone)]
pub struct CommonFlags {
    /// Control-plane replicas (their API URLs), comma separated; the agent
    /// fails over between them.
    #[arg(long, value_delimiter = ',', env = "HELMSMAN_SERVERS", default_value = "http://127.0.0.1:6443")]
    pub servers: Vec<String>,
    /// Extra node labels, `key=value[,key=value]`.
    #[arg(long)]
    pub node_labels: Vec<String>,
    /// Taints put on the Node when it is registered, `key[=value]:Effect[,...]`.
    #[arg(long)]
    pub register_with_taints: Vec<String>,
    /// Most pods this node runs.
    #[arg(long, default_value_t = 110)]
    pub max_pods: u32,
    /// The node's address (default: the local address used to reach the first server).
    #[arg(long)]
    pub node_ip: Option<String>,
    /// Log filter (tracing's env-filter syntax).
    #[arg(long, default_value = "info", env = "RUST_LOG")]
    pub log_level: String,
}

/// Flags of one agent.
#[derive(Debug, Args, Clone)]
pub struct AgentFlags {
    #[command(flatten)]
    common: CommonFlags,
    /// This node's name (default: the host name).
    #[arg(long)]
    node_name: Option<String>,
    /// Where the agent keeps its assignment set and pod volumes
    /// (default: ~/.helmsman/node-agent/<node-name>).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Container runtime.
    #[arg(long, value_enum, default_value_t = RuntimeKind::Docker)]
    runtime: RuntimeKind,
    /// Hollow runtime: time from container start to Running.
    #[arg(long, default_value_t = 0)]
    hollow_start_delay_ms: u64,
    /// Stop (leaving pods running) when the process with this pid is no
    /// longer our parent (set by `control-plane up`).
    #[arg(long, hide = true)]
    parent_pid: Option<u32>,
    /// Hollow runtime: CPU cores to report.
    #[arg(long, default_value_t = 4)]
    hollow_cpus: u32,
    /// Hollow runtime: memory to report, GiB.
    #[arg(long, default_value_t = 16)]
    hollow_memory_gib: u64,
}

/// Flags of `node-agent hollow`.
#[derive(Debug, Args, Clone)]
pub struct HollowFlags {
    #[command(flatten)]
    common: CommonFlags,
    /// How many hollow nodes.
    #[arg(long, default_value_t = 10)]
    count: usize,
    /// Node names are `<prefix><index>`.
    #[arg(long, default_value = "hollow-")]
    name_prefix: String,
    /// First index.
    #[arg(long, default_value_t = 0)]
    first: usize,
    /// Time from container start to Running.
    #[arg(long, default_value_t = 0)]
    start_delay_ms: u64,
    /// CPU cores each node reports.
    #[arg(long, default_value_t = 4)]
    cpus: u32,
    /// Memory each node reports, GiB.
    #[arg(long, default_value_t = 16)]
    memory_gib: u64,
    /// Nodes per gRPC connection.
    #[arg(long, default_value_t = 50)]
    nodes_per_connection: usize,
}

/// The binary's entry point.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match &cli.cmd {
        Some(Cmd::Hollow(h)) => h.common.log_level.clone(),
        None => cli.agent.common.log_level.clone(),
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&level).unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        let stop = CancellationToken::new();
        cancel_on_signals(stop.clone());
        match cli.cmd {
            Some(Cmd::Hollow(h)) => crate::hollow::run_fleet(fleet_config(&h)?, stop).await,
            None => run_agent(cli.agent, stop).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Cancel on SIGTERM / Ctrl-C; a second signal exits at once.
fn cancel_on_signals(token: CancellationToken) {
    tokio::spawn(async move {
        let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else { return };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("stopping; pods keep running (signal again to exit at once)");
        token.cancel();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        std::process::exit(130);
    });
}

/// The local address used to reach `url`'s host (no packet is sent).
pub fn local_ip_towards(url: &str) -> Option<String> {
    let rest = url.split("://").nth(1).unwrap_or(url);
    let hostport = rest.split('/').next()?;
    let addr = std::net::ToSocketAddrs::to_socket_addrs(hostport).ok()?.next()?;
    let sock = std::net::UdpSocket::bind(if addr.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }).ok()?;
    sock.connect(addr).ok()?;
    Some(sock.local_addr().ok()?.ip().to_string())
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_lowercase())
        .unwrap_or_else(|_| "node".into())
}

async fn run_agent(f: AgentFlags, stop: CancellationToken) -> anyhow::Result<()> {
    let name = f.node_name.clone().unwrap_or_else(host_name);
    if let Some(parent) = f.parent_pid {
        let token = stop.clone();
        tokio::spawn(async move {
            while std::os::unix::process::parent_id() == parent {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            tracing::warn!(parent, "the `up` process that started this agent is gone; stopping");
            token.cancel();
        });
    }
    let servers = Arc::new(Servers::new(&f.common.servers)?);
    let data_dir = f.data_dir.clone().unwrap_or_else(|| {
        PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| ".".into()))
            .join(".helmsman")
            .join("node-agent")
            .join(&name)
    });
    std::fs::create_dir_all(&data_dir)
        .map_err(|e| anyhow::anyhow!("cannot create the data dir {}: {e}", data_dir.display()))?;
    let ip =
        f.common.node_ip.clone().or_else(|| local_ip_towards(&servers.urls()[0])).unwrap_or_else(|| "127.0.0.1".into());
    let (kernel, os_image) = node::host_os();
    let (runtime, cpus, memory, version): (Arc<dyn Runtime>, u32, u64, String) = match f.runtime {
        RuntimeKind::Docker => {
            let rt = crate::runtime::docker::DockerRuntime::connect(crate::runtime::docker::PAUSE_IMAGE.to_string())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let version = rt.version().await.unwrap_or_else(|_| "docker://unknown".into());
            let rt: Arc<dyn Runtime> = Arc::new(rt);
            let (cpus, mem) = rt.capacity().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            (rt, cpus, mem, version)
        }
        RuntimeKind::Hollow => (
            Arc::new(crate::runtime::hollow::HollowRuntime::new(Duration::from_millis(f.hollow_start_delay_ms))),
            f.hollow_cpus,
            f.hollow_memory_gib << 30,
            "hollow://1".into(),
        ),
    };
    let facts = HostFacts {
        name: name.clone(),
        ip,
        cpus,
        memory,
        max_pods: f.common.max_pods,
        runtime_version: version,
        kernel,
        os_image,
    };
    eprintln!(
        "node-agent: node {name} ({}), runtime {}, servers {}, data dir {}",
        facts.ip,
        runtime.name(),
        servers.urls().join(","),
        data_dir.display()
    );
    let cfg = AgentConfig {
        facts,
        labels: node::parse_labels(&f.common.node_labels)?,
        taints: node::parse_taints(&f.common.register_with_taints)?,
        sources: Arc::new(GrpcSources::new(servers.clone())),
        servers,
        data_dir: Some(data_dir),
        runtime,
        tunnels: f.runtime == RuntimeKind::Docker,
    };
    agent::run(cfg, stop).await?;
    Ok(())
}

fn fleet_config(h: &HollowFlags) -> anyhow::Result<crate::hollow::FleetConfig> {
    if h.count == 0 {
        anyhow::bail!("--count must be at least 1");
    }
    Ok(crate::hollow::FleetConfig {
        servers: h.common.servers.clone(),
        count: h.count,
        first: h.first,
        name_prefix: h.name_prefix.clone(),
        start_delay: Duration::from_millis(h.start_delay_ms),
        cpus: h.cpus,
        memory: h.memory_gib << 30,
        max_pods: h.common.max_pods,
        labels: node::parse_labels(&h.common.node_labels)?,
        taints: node::parse_taints(&h.common.register_with_taints)?,
        nodes_per_connection: h.nodes_per_connection.max(1),
        node_ip: h.common.node_ip.clone(),
    })
}
