//! Docker mode: replicas as containers on a private bridge network.
//!
//! [`DockerCluster::start`] builds (or reuses) a `FROM scratch` image holding
//! the project's own binary and its shared libraries (see [`image`]), creates
//! a bridge network `chaos-<run_id>` on `172.30.<octet>.0/24` (gateway `.1`)
//! and one container `chaos-<run_id>-r<i>` per replica at the fixed address
//! `172.30.<octet>.(11+i)`. The host reaches those addresses directly over the
//! bridge, so no port is published.
//!
//! Guarantees:
//! - Every container and the network carry the labels `io.helmsman.chaos=1`,
//!   `io.helmsman.chaos.run=<run_id>` and `io.helmsman.chaos.pid=<pid of the
//!   chaos process>`; `start` first removes containers and networks of the
//!   same run id, and of earlier runs whose chaos process is gone.
//! - `kill` sends SIGKILL and returns once the container is not running;
//!   `restart` starts the same container, whose writable layer keeps `/data`.
//! - `pause`/`resume` use the cgroup freezer (`docker pause`/`unpause`).
//! - Partitions are made by disconnecting replicas from the network, so only
//!   "cut this set off" shapes are possible (see [`shape`]); every other
//!   shape is refused with [`HarnessError::Unsupported`]. A disconnected
//!   replica also loses its links to the other disconnected replicas and to
//!   the host (clients cannot reach it either). Healing reconnects each
//!   replica with the same IPv4 address.
//! - Nothing is removed on drop: call [`Harness::shutdown`] (or
//!   [`remove_run_blocking`] from a synchronous context) when done.

pub mod image;
pub mod probe;
pub mod shape;

#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bollard::errors::Error as DockerError;
use bollard::models::{
    ContainerCreateBody, EndpointIpamConfig, EndpointSettings, HostConfig, Ipam, IpamConfig, NetworkConnectRequest,
    NetworkCreateRequest, NetworkDisconnectRequest, NetworkingConfig,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, KillContainerOptionsBuilder, ListContainersOptionsBuilder,
    ListNetworksOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
};
use bollard::Docker;
use futures::future::BoxFuture;
use futures::StreamExt;
use parking_lot::Mutex;

pub use image::ensure_image;

use super::{Capability, Harness, HarnessError, Member};

/// Label on everything chaos creates in Docker.
pub const LABEL: &str = "io.helmsman.chaos";
/// Label holding the run id.
pub const LABEL_RUN: &str = "io.helmsman.chaos.run";
/// Label holding the pid of the chaos process that owns the run.
pub const LABEL_PID: &str = "io.helmsman.chaos.pid";
/// Label holding the replica name on containers.
pub const LABEL_MEMBER: &str = "io.helmsman.chaos.member";

/// How long `kill` waits for the container to stop running.
const KILL_WAIT: Duration = Duration::from_secs(15);

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerConfig {
    /// The `control-plane` binary to put in the image.
    pub binary: PathBuf,
    /// Number of replicas (1..=243).
    pub replicas: usize,
    /// Unique id of this run (`[A-Za-z0-9_.-]`, used in container names).
    pub run_id: String,
    /// `--election-timeout` passed to every replica, in milliseconds.
    pub election_timeout_ms: u64,
    /// The network is `172.30.<subnet_octet>.0/24`.
    pub subnet_octet: u8,
}

impl DockerConfig {
    /// A config with a fresh run id, a 1000 ms election timeout and subnet
    /// `172.30.30.0/24`.
    pub fn new(binary: impl Into<PathBuf>, replicas: usize) -> Self {
        DockerConfig {
            binary: binary.into(),
            replicas,
            run_id: default_run_id(),
            election_timeout_ms: 1000,
            subnet_octet: 30,
        }
    }

    /// Checks the values `start` relies on.
    pub fn validate(&self) -> Result<(), HarnessError> {
        if self.replicas == 0 || self.replicas > 243 {
            return Err(HarnessError::Setup(format!("docker mode runs 1 to 243 replicas, not {}", self.replicas)));
        }
        let id_ok = !self.run_id.is_empty()
            && self.run_id.len() <= 64
            && self.run_id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !id_ok {
            return Err(HarnessError::Setup(format!(
                "run id {:?} must be 1-64 characters from [A-Za-z0-9_.-]",
                self.run_id
            )));
        }
        if self.election_timeout_ms == 0 {
            return Err(HarnessError::Setup("election timeout must be positive".to_string()));
        }
        Ok(())
    }

    /// Name of the Docker network.
    pub fn network_name(&self) -> String {
        format!("chaos-{}", self.run_id)
    }

    /// Name of replica `i`'s container.
    pub fn container_name(&self, i: usize) -> String {
        format!("chaos-{}-r{i}", self.run_id)
    }

    /// Fixed address of replica `i`.
    pub fn ip(&self, i: usize) -> Ipv4Addr {
        Ipv4Addr::new(172, 30, self.subnet_octet, (11 + i).min(254) as u8)
    }

    /// The subnet in CIDR notation.
    pub fn subnet(&self) -> String {
        format!("172.30.{}.0/24", self.subnet_octet)
    }

    /// Replica `i`'s endpoints.
    pub fn member(&self, i: usize) -> Member {
        let ip = self.ip(i);
        Member {
            name: format!("r{i}"),
            client_url: format!("http://{ip}:2379"),
            api_url: format!("http://{ip}:6443"),
            peer_url: format!("http://{ip}:2380"),
        }
    }

    /// Arguments after the entrypoint for replica `i`.
    pub fn command(&self, i: usize) -> Vec<String> {
        let ip = self.ip(i);
        let initial: Vec<String> = (0..self.replicas).map(|j| format!("r{j}=http://{}:2380", self.ip(j))).collect();
        [
            "replica".to_string(),
            "--name".to_string(),
            format!("r{i}"),
            "--data-dir".to_string(),
            format!("/data/r{i}"),
            "--listen-client-urls".to_string(),
            "http://0.0.0.0:2379".to_string(),
            "--advertise-client-urls".to_string(),
            format!("http://{ip}:2379"),
            "--listen-peer-urls".to_string(),
            "http://0.0.0.0:2380".to_string(),
            "--initial-advertise-peer-urls".to_string(),
            format!("http://{ip}:2380"),
            "--initial-cluster".to_string(),
            initial.join(","),
            "--initial-cluster-state".to_string(),
            "new".to_string(),
            "--election-timeout".to_string(),
            self.election_timeout_ms.to_string(),
            "--api-listen".to_string(),
            "0.0.0.0:6443".to_string(),
        ]
        .into()
    }
}

/// `<pid>-<unix millis in base 36>`: unique per process and start time.
pub fn default_run_id() -> String {
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let mut n = millis;
    let mut digits = Vec::new();
    while n > 0 {
        let d = (n % 36) as u32;
        digits.push(char::from_digit(d, 36).unwrap_or('0'));
        n /= 36;
    }
    let stamp: String = digits.iter().rev().collect();
    format!("{}-{stamp}", std::process::id())
}

/// The HTTP status code of a Docker API error, if it has one.
pub(crate) fn docker_status(e: &DockerError) -> Option<u16> {
    match e {
        DockerError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

/// Where bollard's local-defaults connection goes.
fn docker_address() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| h.starts_with("unix://"))
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string())
}

/// Connects to the local Docker engine (`$DOCKER_HOST` if it is a `unix://`
/// address, else `/var/run/docker.sock`) and negotiates the API version.
pub async fn connect() -> Result<Docker, HarnessError> {
    let addr = docker_address();
    negotiate(&addr, Docker::connect_with_local_defaults()).await
}

/// Negotiates the API version on a fresh connection, mapping every failure
/// to "no Docker engine reachable at <addr>: ...; start dockerd".
async fn negotiate(addr: &str, docker: Result<Docker, DockerError>) -> Result<Docker, HarnessError> {
    let unreachable =
        |e: String| HarnessError::Setup(format!("no Docker engine reachable at {addr}: {e}; start dockerd"));
    let docker = docker.map_err(|e| unreachable(e.to_string()))?;
    match tokio::time::timeout(Duration::from_secs(15), docker.negotiate_version()).await {
        Ok(Ok(d)) => Ok(d),
        Ok(Err(e)) => Err(unreachable(e.to_string())),
        Err(_) => Err(unreachable("no answer within 15 s".to_string())),
    }
}

/// Whether a process with this pid exists on this host.
fn pid_alive(pid: u32) -> bool {
    if pid == 0 || i32::try_from(pid).is_err() {
        return false;
    }
    match super::signal::send(pid, 0) {
        Ok(()) => true,
        // ESRCH (os error 3): gone. EPERM: exists but belongs to someone else.
        Err(e) => !e.contains("os error 3)"),
    }
}

/// Whether a labelled object belongs to `run_id`, or to a run whose chaos
/// process is gone.
fn is_leftover(labels: Option<&HashMap<String, String>>, run_id: &str) -> bool {
    let Some(labels) = labels else { return false };
    if labels.get(LABEL_RUN).map(String::as_str) == Some(run_id) {
        return true;
    }
    match labels.get(LABEL_PID).and_then(|p| p.parse::<u32>().ok()) {
        Some(pid) => pid != std::process::id() && !pid_alive(pid),
        None => true,
    }
}

/// Removes the containers and networks labelled with `run_id`, plus those of
/// earlier runs whose chaos process no longer exists. Containers or networks
/// named like this run's are removed whatever their labels.
pub async fn remove_leftovers(docker: &Docker, cfg: &DockerConfig) -> Result<(), HarnessError> {
    let filters = HashMap::from([("label".to_string(), vec![format!("{LABEL}=1")])]);
    let containers = docker
        .list_containers(Some(ListContainersOptionsBuilder::default().all(true).filters(&filters).build()))
        .await
        .map_err(|e| HarnessError::Setup(format!("cannot list containers: {e}")))?;
    let mut doomed: BTreeSet<String> = containers
        .iter()
        .filter(|c| is_leftover(c.labels.as_ref(), &cfg.run_id))
        .filter_map(|c| c.id.clone())
        .collect();
    doomed.extend((0..cfg.replicas).map(|i| cfg.container_name(i)));
    for c in &doomed {
        remove_container(docker, c).await?;
    }
    let networks = docker
        .list_networks(Some(ListNetworksOptionsBuilder::default().filters(&filters).build()))
        .await
        .map_err(|e| HarnessError::Setup(format!("cannot list networks: {e}")))?;
    let mut doomed: BTreeSet<String> = networks
        .iter()
        .filter(|n| is_leftover(n.labels.as_ref(), &cfg.run_id))
        .filter_map(|n| n.name.clone())
        .collect();
    doomed.insert(cfg.network_name());
    for n in &doomed {
        remove_network(docker, n).await?;
    }
    Ok(())
}

/// Force-removes a container; a missing one is fine.
async fn remove_container(docker: &Docker, name: &str) -> Result<(), HarnessError> {
    let opts = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
    match docker.remove_container(name, Some(opts)).await {
        Ok(()) => Ok(()),
        Err(e) if docker_status(&e) == Some(404) => Ok(()),
        Err(e) => Err(HarnessError::Setup(format!("cannot remove container {name}: {e}"))),
    }
}

/// Removes a network after force-disconnecting whatever is still attached;
/// a missing one is fine.
async fn remove_network(docker: &Docker, name: &str) -> Result<(), HarnessError> {
    match docker.inspect_network(name, None).await {
        Ok(net) => {
            for id in net.containers.unwrap_or_default().keys() {
                let req = NetworkDisconnectRequest { container: id.clone(), force: Some(true) };
                let _ = docker.disconnect_network(name, req).await;
            }
        }
        Err(e) if docker_status(&e) == Some(404) => return Ok(()),
        Err(_) => {}
    }
    match docker.remove_network(name).await {
        Ok(()) => Ok(()),
        Err(e) if docker_status(&e) == Some(404) => Ok(()),
        Err(e) => Err(HarnessError::Setup(format!("cannot remove network {name}: {e}"))),
    }
}

/// Removes every container and network labelled with `run_id`, from a
/// synchronous context (a `Drop`, a signal handler): runs on its own thread
/// with its own runtime, so it is safe to call inside or outside tokio.
pub fn remove_run_blocking(run_id: &str) -> Result<(), HarnessError> {
    let run_id = run_id.to_string();
    let worker = std::thread::spawn(move || -> Result<(), HarnessError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| HarnessError::Setup(format!("cannot start a runtime for cleanup: {e}")))?;
        rt.block_on(async move {
            let docker = connect().await?;
            let filters = HashMap::from([("label".to_string(), vec![format!("{LABEL_RUN}={run_id}")])]);
            let containers = docker
                .list_containers(Some(ListContainersOptionsBuilder::default().all(true).filters(&filters).build()))
                .await
                .map_err(|e| HarnessError::Setup(format!("cannot list containers: {e}")))?;
            for id in containers.iter().filter_map(|c| c.id.as_deref()) {
                remove_container(&docker, id).await?;
            }
            let networks = docker
                .list_networks(Some(ListNetworksOptionsBuilder::default().filters(&filters).build()))
                .await
                .map_err(|e| HarnessError::Setup(format!("cannot list networks: {e}")))?;
            for name in networks.iter().filter_map(|n| n.name.as_deref()) {
                remove_network(&docker, name).await?;
            }
            Ok(())
        })
    });
    worker.join().map_err(|_| HarnessError::Setup("cleanup thread panicked".to_string()))?
}

/// A cluster of replicas running as Docker containers.
pub struct DockerCluster {
    docker: Docker,
    cfg: DockerConfig,
    image: String,
    network: String,
    containers: Vec<String>,
    members: Vec<Member>,
    /// Replicas currently disconnected from the network.
    disconnected: Mutex<BTreeSet<usize>>,
}

impl std::fmt::Debug for DockerCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerCluster")
            .field("cfg", &self.cfg)
            .field("image", &self.image)
            .field("network", &self.network)
            .finish_non_exhaustive()
    }
}

impl DockerCluster {
    /// Connects to Docker, ensures the image, removes leftovers, creates the
    /// network and starts one container per replica. Does not wait for the
    /// replicas to become ready (see [`DockerCluster::wait_ready`]). On
    /// failure everything created so far is removed.
    pub async fn start(cfg: DockerConfig) -> Result<DockerCluster, HarnessError> {
        cfg.validate()?;
        let docker = connect().await?;
        let image = ensure_image(&docker, &cfg.binary).await?;
        remove_leftovers(&docker, &cfg).await?;
        let cluster = DockerCluster {
            network: cfg.network_name(),
            containers: (0..cfg.replicas).map(|i| cfg.container_name(i)).collect(),
            members: (0..cfg.replicas).map(|i| cfg.member(i)).collect(),
            disconnected: Mutex::new(BTreeSet::new()),
            docker,
            image,
            cfg,
        };
        if let Err(e) = cluster.create_all().await {
            cluster.remove_all().await;
            return Err(e);
        }
        Ok(cluster)
    }

    fn labels(&self, member: Option<usize>) -> HashMap<String, String> {
        let mut labels = HashMap::from([
            (LABEL.to_string(), "1".to_string()),
            (LABEL_RUN.to_string(), self.cfg.run_id.clone()),
            (LABEL_PID.to_string(), std::process::id().to_string()),
        ]);
        if let Some(i) = member {
            labels.insert(LABEL_MEMBER.to_string(), format!("r{i}"));
        }
        labels
    }

    fn endpoint(&self, i: usize) -> EndpointSettings {
        EndpointSettings {
            ipam_config: Some(EndpointIpamConfig {
                ipv4_address: Some(self.cfg.ip(i).to_string()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    async fn create_all(&self) -> Result<(), HarnessError> {
        let gateway = Ipv4Addr::new(172, 30, self.cfg.subnet_octet, 1);
        let req = NetworkCreateRequest {
            name: self.network.clone(),
            driver: Some("bridge".to_string()),
            ipam: Some(Ipam {
                driver: Some("default".to_string()),
                config: Some(vec![IpamConfig {
                    subnet: Some(self.cfg.subnet()),
                    gateway: Some(gateway.to_string()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            labels: Some(self.labels(None)),
            ..Default::default()
        };
        self.docker.create_network(req).await.map_err(|e| {
            HarnessError::Setup(format!(
                "cannot create network {} on {}: {e} (another network uses this subnet? pick another subnet octet)",
                self.network,
                self.cfg.subnet()
            ))
        })?;
        for i in 0..self.cfg.replicas {
            let body = ContainerCreateBody {
                image: Some(self.image.clone()),
                cmd: Some(self.cfg.command(i)),
                hostname: Some(format!("r{i}")),
                // Plain (uncoloured) logs for `save_logs`; backtraces on panic.
                env: Some(vec!["NO_COLOR=1".to_string(), "RUST_BACKTRACE=1".to_string()]),
                labels: Some(self.labels(Some(i))),
                host_config: Some(HostConfig { network_mode: Some(self.network.clone()), ..Default::default() }),
                networking_config: Some(NetworkingConfig {
                    endpoints_config: Some(HashMap::from([(self.network.clone(), self.endpoint(i))])),
                }),
                ..Default::default()
            };
            let opts = CreateContainerOptionsBuilder::default().name(&self.containers[i]).build();
            self.docker.create_container(Some(opts), body).await.map_err(|e| self.member_err(i, "create", e))?;
        }
        for i in 0..self.cfg.replicas {
            self.docker.start_container(&self.containers[i], None).await.map_err(|e| self.member_err(i, "start", e))?;
        }
        Ok(())
    }

    async fn remove_all(&self) {
        for c in &self.containers {
            if let Err(e) = remove_container(&self.docker, c).await {
                eprintln!("chaos: {e}");
            }
        }
        if let Err(e) = remove_network(&self.docker, &self.network).await {
            eprintln!("chaos: {e}");
        }
    }

    fn member_err(&self, i: usize, what: &str, e: DockerError) -> HarnessError {
        HarnessError::Member {
            member: format!("r{i}"),
            message: format!("docker {what} of container {} failed: {e}", self.containers[i]),
        }
    }

    fn check_index(&self, i: usize) -> Result<&str, HarnessError> {
        self.containers.get(i).map(String::as_str).ok_or_else(|| HarnessError::Member {
            member: format!("r{i}"),
            message: format!("no such replica (the cluster has {})", self.containers.len()),
        })
    }

    /// The configuration this cluster was started with.
    pub fn config(&self) -> &DockerConfig {
        &self.cfg
    }

    /// The image the replicas run.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// Name of the Docker network.
    pub fn network_name(&self) -> &str {
        &self.network
    }

    /// Container name of replica `i`.
    pub fn container_name(&self, i: usize) -> Option<&str> {
        self.containers.get(i).map(String::as_str)
    }

    /// The engine connection (for inspection).
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// Whether replica `i`'s container is running (and not exited); paused
    /// containers count as running.
    pub async fn is_running(&self, i: usize) -> Result<bool, HarnessError> {
        let name = self.check_index(i)?;
        let info = self.docker.inspect_container(name, None).await.map_err(|e| self.member_err(i, "inspect", e))?;
        Ok(info.state.and_then(|s| s.running).unwrap_or(false))
    }

    /// Replica `i`'s stdout and stderr so far, interleaved as Docker stored them.
    pub async fn logs_of(&self, i: usize) -> Result<Vec<u8>, HarnessError> {
        let name = self.check_index(i)?;
        let opts = LogsOptionsBuilder::default().stdout(true).stderr(true).follow(false).tail("all").build();
        let mut stream = self.docker.logs(name, Some(opts));
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.member_err(i, "logs", e))?;
            out.extend_from_slice(chunk.as_ref());
        }
        Ok(out)
    }

    /// Writes each replica's logs to `dir/r<i>.log` (creating `dir`) and
    /// returns the paths written.
    pub async fn save_logs(&self, dir: &Path) -> Result<Vec<PathBuf>, HarnessError> {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| HarnessError::Setup(format!("cannot create {}: {e}", dir.display())))?;
        let mut written = Vec::new();
        for i in 0..self.containers.len() {
            let logs = self.logs_of(i).await?;
            let path = dir.join(format!("r{i}.log"));
            tokio::fs::write(&path, logs)
                .await
                .map_err(|e| HarnessError::Setup(format!("cannot write {}: {e}", path.display())))?;
            written.push(path);
        }
        Ok(written)
    }

    /// Waits until every replica's `GET /readyz` answers 200, polling every
    /// 200 ms for at most `timeout`.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<(), HarnessError> {
        let deadline = Instant::now() + timeout;
        let mut pending: BTreeSet<usize> = (0..self.members.len()).collect();
        let mut last: HashMap<usize, String> = HashMap::new();
        loop {
            for i in pending.clone() {
                match probe::http_status(&self.members[i].api_url, "/readyz", Duration::from_secs(2)).await {
                    Ok(200) => {
                        pending.remove(&i);
                    }
                    Ok(code) => {
                        last.insert(i, format!("r{i}: /readyz {code}"));
                    }
                    Err(e) => {
                        last.insert(i, format!("r{i}: {e}"));
                    }
                }
            }
            if pending.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let mut detail: Vec<String> = Vec::new();
                for i in &pending {
                    let state = match self.is_running(*i).await {
                        Ok(true) => "running",
                        Ok(false) => "container not running",
                        Err(_) => "container state unknown",
                    };
                    detail.push(format!("{} ({state})", last.get(i).cloned().unwrap_or_else(|| format!("r{i}"))));
                }
                return Err(HarnessError::Unhealthy { secs: timeout.as_secs(), detail: detail.join("; ") });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Replicas currently cut off the network.
    pub fn disconnected(&self) -> BTreeSet<usize> {
        self.disconnected.lock().clone()
    }

    async fn disconnect(&self, i: usize) -> Result<(), HarnessError> {
        let req = NetworkDisconnectRequest { container: self.containers[i].clone(), force: Some(true) };
        match self.docker.disconnect_network(&self.network, req).await {
            Ok(()) => {}
            // Not connected (already cut off): fine.
            Err(e) => {
                if self.connected_ip(i).await?.is_some() {
                    return Err(self.member_err(i, "network disconnect", e));
                }
            }
        }
        self.disconnected.lock().insert(i);
        Ok(())
    }

    async fn reconnect(&self, i: usize) -> Result<(), HarnessError> {
        let req =
            NetworkConnectRequest { container: self.containers[i].clone(), endpoint_config: Some(self.endpoint(i)) };
        match self.docker.connect_network(&self.network, req).await {
            Ok(()) => {}
            // Already connected with the right address: fine.
            Err(e) => {
                if self.connected_ip(i).await? != Some(self.cfg.ip(i)) {
                    return Err(self.member_err(i, "network connect", e));
                }
            }
        }
        self.disconnected.lock().remove(&i);
        Ok(())
    }

    /// Replica `i`'s address on the chaos network, or `None` when it is not
    /// attached to it.
    pub async fn connected_ip(&self, i: usize) -> Result<Option<Ipv4Addr>, HarnessError> {
        let name = self.check_index(i)?;
        let info = self.docker.inspect_container(name, None).await.map_err(|e| self.member_err(i, "inspect", e))?;
        let endpoint = info.network_settings.and_then(|s| s.networks).and_then(|mut n| n.remove(&self.network));
        Ok(endpoint.map(|ep| {
            ep.ip_address
                .filter(|s| !s.is_empty())
                .or_else(|| ep.ipam_config.and_then(|c| c.ipv4_address))
                .and_then(|s| s.parse().ok())
                .unwrap_or(Ipv4Addr::UNSPECIFIED)
        }))
    }

    async fn kill_inner(&self, i: usize) -> Result<(), HarnessError> {
        let name = self.check_index(i)?;
        let info = self.docker.inspect_container(name, None).await.map_err(|e| self.member_err(i, "inspect", e))?;
        let state = info.state.unwrap_or_default();
        if !state.running.unwrap_or(false) {
            return Ok(());
        }
        let opts = KillContainerOptionsBuilder::default().signal("SIGKILL").build();
        match self.docker.kill_container(name, Some(opts)).await {
            Ok(()) => {}
            // 409: not running any more.
            Err(e) if docker_status(&e) == Some(409) => {}
            Err(e) => return Err(self.member_err(i, "kill", e)),
        }
        if state.paused.unwrap_or(false) {
            // A frozen process only dies once thawed.
            let _ = self.docker.unpause_container(name).await;
        }
        let deadline = Instant::now() + KILL_WAIT;
        while self.is_running(i).await? {
            if Instant::now() >= deadline {
                return Err(HarnessError::Member {
                    member: format!("r{i}"),
                    message: format!("container {name} still running {} s after SIGKILL", KILL_WAIT.as_secs()),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    async fn restart_inner(&self, i: usize) -> Result<(), HarnessError> {
        let name = self.check_index(i)?;
        match self.docker.start_container(name, None).await {
            Ok(()) => Ok(()),
            // 304: already running.
            Err(e) if docker_status(&e) == Some(304) => Ok(()),
            Err(e) => Err(self.member_err(i, "start", e)),
        }
    }

    async fn set_partition_inner(&self, links: &BTreeSet<(usize, usize)>) -> Result<(), HarnessError> {
        let target = shape::isolated_set(self.containers.len(), links).map_err(|shape| {
            HarnessError::Unsupported(format!(
                "docker mode partitions by disconnecting replicas from the network; it cannot block single links ({shape})"
            ))
        })?;
        let current = self.disconnected();
        for &i in current.difference(&target) {
            self.reconnect(i).await?;
        }
        for &i in target.difference(&current) {
            self.disconnect(i).await?;
        }
        Ok(())
    }
}

impl Harness for DockerCluster {
    fn members(&self) -> &[Member] {
        &self.members
    }

    fn describe(&self) -> String {
        format!(
            "{} replicas in Docker containers on network {} ({})",
            self.members.len(),
            self.network,
            self.cfg.subnet()
        )
    }

    fn supports(&self, cap: Capability) -> bool {
        match cap {
            Capability::Kill | Capability::Pause | Capability::Partition => true,
            Capability::Membership => false,
        }
    }

    fn kill(&self, i: usize) -> BoxFuture<'_, Result<(), HarnessError>> {
        Box::pin(self.kill_inner(i))
    }

    fn restart(&self, i: usize) -> BoxFuture<'_, Result<(), HarnessError>> {
        Box::pin(self.restart_inner(i))
    }

    fn pause(&self, i: usize) -> BoxFuture<'_, Result<(), HarnessError>> {
        Box::pin(async move {
            let name = self.check_index(i)?;
            self.docker.pause_container(name).await.map_err(|e| self.member_err(i, "pause", e))
        })
    }

    fn resume(&self, i: usize) -> BoxFuture<'_, Result<(), HarnessError>> {
        Box::pin(async move {
            let name = self.check_index(i)?;
            self.docker.unpause_container(name).await.map_err(|e| self.member_err(i, "unpause", e))
        })
    }

    fn set_partition(&self, links: &BTreeSet<(usize, usize)>) -> BoxFuture<'_, Result<(), HarnessError>> {
        let links = links.clone();
        Box::pin(async move { self.set_partition_inner(&links).await })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.remove_all().await;
            self.disconnected.lock().clear();
        })
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn config_names_and_addresses() {
        let mut cfg = DockerConfig::new("/bin/true", 3);
        cfg.run_id = "t1".to_string();
        cfg.subnet_octet = 42;
        cfg.validate().unwrap();
        assert_eq!(cfg.network_name(), "chaos-t1");
        assert_eq!(cfg.container_name(2), "chaos-t1-r2");
        assert_eq!(cfg.ip(0), Ipv4Addr::new(172, 30, 42, 11));
        assert_eq!(cfg.subnet(), "172.30.42.0/24");
        let m = cfg.member(1);
        assert_eq!(m.name, "r1");
        assert_eq!(m.client_url, "http://172.30.42.12:2379");
        assert_eq!(m.api_url, "http://172.30.42.12:6443");
        assert_eq!(m.peer_url, "http://172.30.42.12:2380");
    }

    #[test]
    fn command_lists_every_peer() {
        let mut cfg = DockerConfig::new("/bin/true", 3);
        cfg.subnet_octet = 7;
        cfg.election_timeout_ms = 500;
        let cmd = cfg.command(1);
        assert_eq!(cmd[0], "replica");
        let joined = cmd.join(" ");
        assert!(joined.contains("--name r1 --data-dir /data/r1"), "{joined}");
        assert!(joined.contains("--advertise-client-urls http://172.30.7.12:2379"), "{joined}");
        assert!(joined.contains(
            "--initial-cluster r0=http://172.30.7.11:2380,r1=http://172.30.7.12:2380,r2=http://172.30.7.13:2380"
        ));
        assert!(joined.ends_with("--election-timeout 500 --api-listen 0.0.0.0:6443"), "{joined}");
    }

    #[test]
    fn validation_rejects_bad_values() {
        let mut cfg = DockerConfig::new("/bin/true", 0);
        assert!(cfg.validate().is_err());
        cfg.replicas = 244;
        assert!(cfg.validate().is_err());
        cfg.replicas = 3;
        cfg.run_id = "a b".to_string();
        assert!(cfg.validate().is_err());
        cfg.run_id = String::new();
        assert!(cfg.validate().is_err());
        cfg.run_id = "ok-1.x_y".to_string();
        assert!(cfg.validate().is_ok());
    }

    #[test]
    fn run_ids_are_valid_and_carry_the_pid() {
        let id = default_run_id();
        assert!(id.starts_with(&format!("{}-", std::process::id())), "{id}");
        let mut cfg = DockerConfig::new("/bin/true", 1);
        cfg.run_id = id;
        assert!(cfg.validate().is_ok());
    }

    #[tokio::test]
    async fn unreachable_engine_is_a_clear_error() {
        let addr = "unix:///nonexistent/chaos-docker.sock";
        let docker = Docker::connect_with_unix(addr, 5, bollard::API_DEFAULT_VERSION);
        let err = negotiate(addr, docker).await.unwrap_err().to_string();
        assert!(err.starts_with(&format!("no Docker engine reachable at {addr}: ")), "{err}");
        assert!(err.ends_with("start dockerd"), "{err}");
    }

    #[test]
    fn leftover_detection() {
        let mine = HashMap::from([
            (LABEL_RUN.to_string(), "other".to_string()),
            (LABEL_PID.to_string(), std::process::id().to_string()),
        ]);
        assert!(!is_leftover(Some(&mine), "run"), "a live run of this process is not a leftover");
        assert!(is_leftover(Some(&mine), "other"), "same run id is always removed");
        let dead =
            HashMap::from([(LABEL_RUN.to_string(), "old".to_string()), (LABEL_PID.to_string(), u32::MAX.to_string())]);
        assert!(is_leftover(Some(&dead), "run"));
        let live_other =
            HashMap::from([(LABEL_RUN.to_string(), "x".to_string()), (LABEL_PID.to_string(), "1".to_string())]);
        assert!(!is_leftover(Some(&live_other), "run"), "pid 1 is alive");
        assert!(!is_leftover(None, "run"));
    }
}
