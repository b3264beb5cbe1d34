//! The container runtime seam: what a pod worker needs from a container
//! engine, in terms that name no engine. `docker` implements it with
//! bollard against a real Docker engine; `hollow` implements it in memory
//! for scale tests. The conformance suite in `tests/runtime/conformance`
//! holds every runtime to the guarantees below (Docker runs all of it; the
//! hollow runtime, which runs no processes, is held to them by the pod
//! worker tests in `tests/worker`).
//!
//! Guarantees every implementation gives:
//! - Containers carry the labels of [`Labels`], so [`Runtime::list`] after an
//!   agent restart finds every sandbox and container it made (adoption).
//! - A sandbox holds the pod's network and IPC namespaces; app containers of
//!   the pod share them (they reach each other on localhost).
//! - [`Runtime::stop_container`] sends SIGTERM, waits up to the grace
//!   period, then SIGKILLs; it returns once the container has exited.
//! - Errors say what failed and carry the engine's own message.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use tokio::sync::{mpsc, oneshot};

pub mod docker;
pub mod hollow;

/// Label keys set on every container the agent creates.
pub struct Labels;

impl Labels {
    /// Marks a container as managed by Helmsman's agent ("true").
    pub const MANAGED: &'static str = "io.helmsman.managed";
    /// The node (agent) that created it.
    pub const NODE: &'static str = "io.helmsman.node";
    /// `metadata.uid` of the pod.
    pub const POD_UID: &'static str = "io.helmsman.pod.uid";
    /// `metadata.name` of the pod.
    pub const POD_NAME: &'static str = "io.helmsman.pod.name";
    /// `metadata.namespace` of the pod.
    pub const POD_NAMESPACE: &'static str = "io.helmsman.pod.namespace";
    /// Container name in the pod spec; absent on the sandbox.
    pub const CONTAINER: &'static str = "io.helmsman.container.name";
    /// "sandbox", "init" or "app".
    pub const ROLE: &'static str = "io.helmsman.container.role";
    /// Restart attempt, 0 for the first run.
    pub const ATTEMPT: &'static str = "io.helmsman.container.attempt";
}

/// When to pull an image (`imagePullPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullPolicy {
    /// Always pull (a failed pull is an error even if the image is present).
    Always,
    /// Pull only when not present.
    IfNotPresent,
    /// Never pull; a missing image is an error.
    Never,
}

/// What [`Runtime::ensure_image`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageReady {
    /// The image's id (e.g. `sha256:...`), for `imageID` in the status.
    pub image_id: String,
    /// True when it was pulled now (Event `Pulled`), false when present.
    pub pulled: bool,
}

/// The pod-level facts a sandbox needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxPlan {
    /// `metadata.uid`.
    pub pod_uid: String,
    /// `metadata.name`.
    pub pod_name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// Node name (label [`Labels::NODE`]).
    pub node: String,
    /// The pod's hostname (`spec.hostname` or the pod name).
    pub hostname: String,
    /// `spec.hostNetwork`: share the host's network namespace.
    pub host_network: bool,
    /// Extra host entries `(ip, names)`.
    pub host_aliases: Vec<(String, Vec<String>)>,
    /// Ports to publish on the host: `(host_port, container_port, "tcp"|"udp")`.
    pub host_ports: Vec<(u16, u16, String)>,
}

/// A running sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sandbox {
    /// Engine id of the sandbox container.
    pub id: String,
    /// The pod's IP (empty when the engine gives none, e.g. host network).
    pub ip: String,
}

/// Whether a container is an init container or an app container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Runs to completion before app containers start.
    Init,
    /// A regular (or sidecar) container.
    App,
}

/// A bind of a host path into a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Absolute host path (a directory, or a file for `subPath`).
    pub host_path: String,
    /// Absolute path inside the container.
    pub container_path: String,
    /// Read-only bind.
    pub read_only: bool,
}

/// Everything needed to create one container, engine-neutral. Built from
/// the pod by pure code (`pod::plan`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerPlan {
    /// `metadata.uid` of the pod.
    pub pod_uid: String,
    /// `metadata.name` of the pod.
    pub pod_name: String,
    /// `metadata.namespace` of the pod.
    pub namespace: String,
    /// Node name.
    pub node: String,
    /// Container name.
    pub name: String,
    /// Init or app.
    pub role: Role,
    /// Restart attempt (0 first).
    pub attempt: u32,
    /// Image reference.
    pub image: String,
    /// `command` (replaces the image's entrypoint) when set.
    pub command: Option<Vec<String>>,
    /// `args` (replaces the image's cmd) when set.
    pub args: Option<Vec<String>>,
    /// Environment, in order, `NAME=value` already resolved.
    pub env: Vec<(String, String)>,
    /// `workingDir`.
    pub working_dir: Option<String>,
    /// Volume mounts.
    pub mounts: Vec<Mount>,
    /// `resources.limits.memory` in bytes.
    pub memory_limit: Option<i64>,
    /// `resources.limits.cpu` in nano-CPUs (1 core = 1e9).
    pub nano_cpus: Option<i64>,
    /// `resources.requests.cpu` as cgroup shares (1 core = 1024), min 2.
    pub cpu_shares: Option<i64>,
    /// `stdin` / `tty` of the spec (keep stdin open, allocate a tty).
    pub stdin: bool,
    /// Allocate a TTY.
    pub tty: bool,
    /// Where the engine writes the termination message, if supported.
    pub termination_message_path: Option<String>,
}

/// The engine's view of one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerState {
    /// Engine id.
    pub id: String,
    /// Running now.
    pub running: bool,
    /// Exit code once exited.
    pub exit_code: Option<i64>,
    /// Killed by the kernel OOM killer.
    pub oom_killed: bool,
    /// RFC 3339 start time, if it started.
    pub started_at: Option<String>,
    /// RFC 3339 finish time, if it exited.
    pub finished_at: Option<String>,
    /// The engine's error (e.g. the command was not found), if any.
    pub error: Option<String>,
    /// The image id it runs.
    pub image_id: String,
}

/// A container found by [`Runtime::list`] (from its labels).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Engine id.
    pub id: String,
    /// Pod uid / name / namespace from the labels.
    pub pod_uid: String,
    /// Pod name.
    pub pod_name: String,
    /// Pod namespace.
    pub namespace: String,
    /// `None` for the sandbox.
    pub container: Option<String>,
    /// Init or app (`None` for the sandbox).
    pub role: Option<Role>,
    /// Restart attempt.
    pub attempt: u32,
    /// Running now.
    pub running: bool,
    /// Sandbox IP (sandboxes only; empty otherwise).
    pub ip: String,
}

/// Result of a non-interactive exec (exec probes, preStop hooks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// Exit code (`None` when it timed out).
    pub exit_code: Option<i64>,
    /// Standard output (capped at 64 KiB).
    pub stdout: Vec<u8>,
    /// Standard error (capped at 64 KiB).
    pub stderr: Vec<u8>,
}

/// Options of a log read (`kubectl logs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogOptions {
    /// Keep streaming new output (`-f`).
    pub follow: bool,
    /// Only the last N lines (`--tail`); `None` = all.
    pub tail_lines: Option<u64>,
    /// Prefix each line with an RFC 3339 timestamp (`--timestamps`).
    pub timestamps: bool,
    /// Only lines newer than this many seconds.
    pub since_seconds: Option<u64>,
}

/// Which output stream a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// stdout (or the TTY).
    Stdout,
    /// stderr.
    Stderr,
}

/// An interactive exec session (`kubectl exec`), already started.
pub struct ExecSession {
    /// Bytes for the process's stdin; dropping it closes stdin.
    pub stdin: Option<mpsc::Sender<Bytes>>,
    /// Output chunks in order; ends when the process exits.
    pub output: mpsc::Receiver<(Output, Bytes)>,
    /// Terminal size changes `(width, height)` (TTY sessions).
    pub resize: Option<mpsc::Sender<(u16, u16)>>,
    /// The exit code, once the process has exited and output is drained.
    pub exit: oneshot::Receiver<Result<i64, RuntimeError>>,
}

/// A boxed stream of log bytes.
pub type LogStream = Pin<Box<dyn Stream<Item = Result<Bytes, RuntimeError>> + Send>>;

/// Errors from a runtime.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum RuntimeError {
    /// No engine could be reached.
    #[error("container engine unreachable: {0}")]
    Unavailable(String),
    /// The image is not present and could not be pulled (`ErrImagePull`).
    #[error("failed to pull image {image:?}: {message}")]
    Pull {
        /// Image reference.
        image: String,
        /// The engine's message.
        message: String,
    },
    /// The image is not present and the policy is Never (`ErrImageNeverPull`).
    #[error("image {0:?} is not present with pull policy of Never")]
    NeverPull(String),
    /// The engine refused to create the container (`CreateContainerError`).
    #[error("{0}")]
    Create(String),
    /// The container was created but could not be started (`RunContainerError`).
    #[error("{0}")]
    Start(String),
    /// No such container.
    #[error("container {0} not found")]
    NotFound(String),
    /// Anything else the engine reported.
    #[error("{0}")]
    Engine(String),
}

/// A boxed, sendable future.
pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A container engine as a pod worker uses it. Object-safe (`Arc<dyn
/// Runtime>`), so one agent binary picks its runtime at start.
pub trait Runtime: Send + Sync + 'static {
    /// A short name ("docker", "hollow") for logs and `containerID`
    /// prefixes (`docker://<id>`).
    fn name(&self) -> &'static str;

    /// Make `image` present according to `policy`.
    fn ensure_image<'a>(&'a self, image: &'a str, policy: PullPolicy) -> BoxFut<'a, Result<ImageReady, RuntimeError>>;

    /// Create and start the pod's sandbox (idempotent per pod uid: an
    /// existing running sandbox of the pod is returned as is).
    fn run_sandbox<'a>(&'a self, plan: &'a SandboxPlan) -> BoxFut<'a, Result<Sandbox, RuntimeError>>;

    /// Create (not start) a container joined to `sandbox`; returns its id.
    fn create_container<'a>(
        &'a self,
        sandbox: &'a Sandbox,
        plan: &'a ContainerPlan,
    ) -> BoxFut<'a, Result<String, RuntimeError>>;

    /// Start a created container.
    fn start_container<'a>(&'a self, id: &'a str) -> BoxFut<'a, Result<(), RuntimeError>>;

    /// The container's current state.
    fn inspect_container<'a>(&'a self, id: &'a str) -> BoxFut<'a, Result<ContainerState, RuntimeError>>;

    /// Resolves when the container is not running (at once if it is not),
    /// with its final state.
    fn wait_container<'a>(&'a self, id: &'a str) -> BoxFut<'a, Result<ContainerState, RuntimeError>>;

    /// SIGTERM, wait up to `grace`, SIGKILL; returns once it has exited.
    fn stop_container<'a>(&'a self, id: &'a str, grace: Duration) -> BoxFut<'a, Result<(), RuntimeError>>;

    /// Remove one exited container (kept ones give `--previous` logs).
    fn remove_container<'a>(&'a self, id: &'a str) -> BoxFut<'a, Result<(), RuntimeError>>;

    /// Kill and remove every container and the sandbox of the pod.
    fn remove_pod<'a>(&'a self, pod_uid: &'a str) -> BoxFut<'a, Result<(), RuntimeError>>;

    /// Every container (and sandbox) this node's agent created, running or not.
    fn list<'a>(&'a self, node: &'a str) -> BoxFut<'a, Result<Vec<Found>, RuntimeError>>;

    /// Run `cmd` in the container and collect its output, killing the wait
    /// after `timeout` (exit code `None`).
    fn exec<'a>(
        &'a self,
        id: &'a str,
        cmd: &'a [String],
        timeout: Duration,
    ) -> BoxFut<'a, Result<ExecOutput, RuntimeError>>;

    /// Start an interactive exec.
    fn exec_session<'a>(
        &'a self,
        id: &'a str,
        cmd: &'a [String],
        stdin: bool,
        tty: bool,
    ) -> BoxFut<'a, Result<ExecSession, RuntimeError>>;

    /// The container's logs (stdout and stderr interleaved as written).
    fn logs<'a>(&'a self, id: &'a str, opts: &'a LogOptions) -> BoxFut<'a, Result<LogStream, RuntimeError>>;

    /// Extra environment facts: total CPU cores and memory bytes the engine
    /// can use (Node capacity).
    fn capacity<'a>(&'a self) -> BoxFut<'a, Result<(u32, u64), RuntimeError>>;

    /// Labels to filter on, for convenience in implementations.
    fn labels_of(plan: &ContainerPlan) -> BTreeMap<String, String>
    where
        Self: Sized,
    {
        let mut l = BTreeMap::new();
        l.insert(Labels::MANAGED.to_string(), "true".to_string());
        l.insert(Labels::NODE.to_string(), plan.node.clone());
        l.insert(Labels::POD_UID.to_string(), plan.pod_uid.clone());
        l.insert(Labels::POD_NAME.to_string(), plan.pod_name.clone());
        l.insert(Labels::POD_NAMESPACE.to_string(), plan.namespace.clone());
        l.insert(Labels::CONTAINER.to_string(), plan.name.clone());
        l.insert(
            Labels::ROLE.to_string(),
            match plan.role {
                Role::Init => "init",
                Role::App => "app",
            }
            .to_string(),
        );
        l.insert(Labels::ATTEMPT.to_string(), plan.attempt.to_string());
        l
    }
}
