//! A real test cluster in one process: a tonic server whose Dispatcher
//! serves `Tunnel` with [`Tunnels::serve`], an axum REST server standing in
//! for the API server (discovery, `GET pod`, `pods/log`, `pods/exec`), and
//! the agent's [`run`] with a runtime that runs real host processes and
//! reads real files.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use control_plane::tunnel::http::{self, PodTarget};
use control_plane::tunnel::{TunnelError, Tunnels};
use node_agent::runtime::*;
use node_agent::tunnel::{run, ContainerLookup};
use proto::agent::dispatcher_server::{Dispatcher, DispatcherServer};
use proto::agent::*;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response as GrpcResponse, Status};

pub const NODE: &str = "node-1";

/// The Dispatcher of the test: only Tunnel is served.
pub struct TestDispatcher {
    pub tunnels: Tunnels,
}

type Unsupported<T> = Result<GrpcResponse<T>, Status>;

#[tonic::async_trait]
impl Dispatcher for TestDispatcher {
    async fn register(&self, _: Request<RegisterRequest>) -> Unsupported<RegisterResponse> {
        Err(Status::unimplemented("register"))
    }
    async fn heartbeat(&self, _: Request<HeartbeatRequest>) -> Unsupported<HeartbeatResponse> {
        Err(Status::unimplemented("heartbeat"))
    }
    type AssignmentsStream = ReceiverStream<Result<Assignments, Status>>;
    async fn assignments(&self, _: Request<AssignmentsRequest>) -> Unsupported<Self::AssignmentsStream> {
        Err(Status::unimplemented("assignments"))
    }
    async fn report_status(&self, _: Request<StatusBatch>) -> Unsupported<StatusBatchResponse> {
        Err(Status::unimplemented("report_status"))
    }
    async fn report_events(&self, _: Request<EventBatch>) -> Unsupported<EventBatchResponse> {
        Err(Status::unimplemented("report_events"))
    }
    type TunnelStream = ReceiverStream<Result<TunnelDown, Status>>;
    async fn tunnel(&self, request: Request<tonic::Streaming<TunnelUp>>) -> Unsupported<Self::TunnelStream> {
        Ok(GrpcResponse::new(self.tunnels.serve(request.into_inner())))
    }
}

/// Serves the Dispatcher on `listener`.
pub fn must_serve_grpc(listener: TcpListener, tunnels: Tunnels) {
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(DispatcherServer::new(TestDispatcher { tunnels }))
            .serve_with_incoming(TcpListenerStream::new(listener))
            .await
            .expect("grpc server");
    });
}

/// The runtime of the test: exec runs the command on the host; logs read
/// the file whose path is the container id.
#[derive(Default)]
pub struct TestRuntime {
    /// Log streams currently open (a followed stream counts until dropped).
    pub open_log_streams: Arc<AtomicUsize>,
    /// Exec'ed processes still running.
    pub running_execs: Arc<AtomicUsize>,
}

fn unsupported<'a, T: Send + 'a>() -> BoxFut<'a, Result<T, RuntimeError>> {
    Box::pin(async { Err(RuntimeError::Engine("not supported by the test runtime".into())) })
}

impl Runtime for TestRuntime {
    fn name(&self) -> &'static str {
        "test"
    }
    fn ensure_image<'a>(&'a self, _: &'a str, _: PullPolicy) -> BoxFut<'a, Result<ImageReady, RuntimeError>> {
        unsupported()
    }
    fn run_sandbox<'a>(&'a self, _: &'a SandboxPlan) -> BoxFut<'a, Result<Sandbox, RuntimeError>> {
        unsupported()
    }
    fn create_container<'a>(
        &'a self,
        _: &'a Sandbox,
        _: &'a ContainerPlan,
    ) -> BoxFut<'a, Result<String, RuntimeError>> {
        unsupported()
    }
    fn start_container<'a>(&'a self, _: &'a str) -> BoxFut<'a, Result<(), RuntimeError>> {
        unsupported()
    }
    fn inspect_container<'a>(&'a self, _: &'a str) -> BoxFut<'a, Result<ContainerState, RuntimeError>> {
        unsupported()
    }
    fn wait_container<'a>(&'a self, _: &'a str) -> BoxFut<'a, Result<ContainerState, RuntimeError>> {
        unsupported()
    }
    fn stop_container<'a>(&'a self, _: &'a str, _: Duration) -> BoxFut<'a, Result<(), RuntimeError>> {
        unsupported()
    }
    fn remove_container<'a>(&'a self, _: &'a str) -> BoxFut<'a, Result<(), RuntimeError>> {
        unsupported()
    }
    fn remove_pod<'a>(&'a self, _: &'a str) -> BoxFut<'a, Result<(), RuntimeError>> {
        unsupported()
    }
    fn list<'a>(&'a self, _: &'a str) -> BoxFut<'a, Result<Vec<Found>, RuntimeError>> {
        unsupported()
    }
    fn exec<'a>(&'a self, _: &'a str, _: &'a [String], _: Duration) -> BoxFut<'a, Result<ExecOutput, RuntimeError>> {
        unsupported()
    }
    fn capacity<'a>(&'a self) -> BoxFut<'a, Result<(u32, u64), RuntimeError>> {
        unsupported()
    }

    fn exec_session<'a>(
        &'a self,
        _id: &'a str,
        cmd: &'a [String],
        stdin: bool,
        _tty: bool,
    ) -> BoxFut<'a, Result<ExecSession, RuntimeError>> {
        Box::pin(async move { spawn_exec(cmd, stdin, self.running_execs.clone()) })
    }

    fn logs<'a>(&'a self, id: &'a str, opts: &'a LogOptions) -> BoxFut<'a, Result<LogStream, RuntimeError>> {
        Box::pin(async move {
            let content = tokio::fs::read(id).await.map_err(|e| RuntimeError::NotFound(format!("{id}: {e}")))?;
            let start = match opts.tail_lines {
                None => 0,
                Some(n) => tail_start(&content, n),
            };
            let (tx, rx) = mpsc::channel::<Result<Bytes, RuntimeError>>(16);
            let open = self.open_log_streams.clone();
            open.fetch_add(1, Ordering::SeqCst);
            let (path, follow, mut offset) = (PathBuf::from(id), opts.follow, content.len());
            let first = Bytes::copy_from_slice(&content[start..]);
            tokio::spawn(async move {
                let _count = Decrement(open);
                if tx.send(Ok(first)).await.is_err() || !follow {
                    return;
                }
                // Follow: poll the file for growth until the reader goes away.
                loop {
                    tokio::select! {
                        _ = tx.closed() => return,
                        _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                    }
                    let Ok(now) = tokio::fs::read(&path).await else { return };
                    if now.len() > offset {
                        let chunk = Bytes::copy_from_slice(&now[offset..]);
                        offset = now.len();
                        if tx.send(Ok(chunk)).await.is_err() {
                            return;
                        }
                    }
                }
            });
            Ok(Box::pin(ReceiverStream::new(rx)) as LogStream)
        })
    }
}

struct Decrement(Arc<AtomicUsize>);
impl Drop for Decrement {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Where the last `n` lines of `content` start.
fn tail_start(content: &[u8], n: u64) -> usize {
    let body = content.strip_suffix(b"\n").unwrap_or(content);
    let mut seen = 0;
    for (i, b) in body.iter().enumerate().rev() {
        if *b == b'\n' {
            seen += 1;
            if seen == n {
                return i + 1;
            }
        }
    }
    if n == 0 {
        content.len()
    } else {
        0
    }
}

fn spawn_exec(cmd: &[String], stdin: bool, running: Arc<AtomicUsize>) -> Result<ExecSession, RuntimeError> {
    let (program, args) = cmd.split_first().ok_or_else(|| RuntimeError::Start("empty command".into()))?;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(if stdin { std::process::Stdio::piped() } else { std::process::Stdio::null() })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| RuntimeError::Start(format!("exec: {program:?}: {e}")))?;
    let (out_tx, out_rx) = mpsc::channel(16);
    let readers = [
        tokio::spawn(read_into(child.stdout.take().expect("piped"), Output::Stdout, out_tx.clone())),
        tokio::spawn(read_into(child.stderr.take().expect("piped"), Output::Stderr, out_tx)),
    ];
    let stdin_tx = child.stdin.take().map(|mut pipe| {
        let (tx, mut rx) = mpsc::channel::<Bytes>(16);
        tokio::spawn(async move {
            while let Some(data) = rx.recv().await {
                if pipe.write_all(&data).await.is_err() {
                    return;
                }
            }
            // Dropping the pipe closes the process's stdin.
        });
        tx
    });
    let (mut exit_tx, exit_rx) = oneshot::channel();
    running.fetch_add(1, Ordering::SeqCst);
    tokio::spawn(async move {
        let _count = Decrement(running);
        // Dropping the ExecSession (its exit receiver) kills the process.
        let status = tokio::select! {
            status = child.wait() => status,
            _ = exit_tx.closed() => {
                let _ = child.kill().await;
                return;
            }
        };
        for r in readers {
            let _ = r.await;
        }
        let code = status.map(|s| s.code().unwrap_or(-1) as i64).map_err(|e| RuntimeError::Engine(e.to_string()));
        let _ = exit_tx.send(code);
    });
    Ok(ExecSession { stdin: stdin_tx, output: out_rx, resize: None, exit: exit_rx })
}

async fn read_into(mut from: impl tokio::io::AsyncRead + Unpin, which: Output, to: mpsc::Sender<(Output, Bytes)>) {
    let mut buf = vec![0u8; 8192];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if to.send((which, Bytes::copy_from_slice(&buf[..n]))).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Container ids: the log file of (pod, container).
pub struct TestLookup {
    pub files: HashMap<(String, String), PathBuf>,
}

impl ContainerLookup for TestLookup {
    fn container_id<'a>(
        &'a self,
        _ns: &'a str,
        pod: &'a str,
        container: &'a str,
        previous: bool,
    ) -> BoxFut<'a, Result<String, String>> {
        let r = if previous {
            Err(format!("previous terminated container {container:?} in pod {pod:?} not found"))
        } else {
            self.files
                .get(&(pod.to_string(), container.to_string()))
                .map(|p| p.display().to_string())
                .ok_or_else(|| format!("container {container:?} in pod {pod:?} is not running"))
        };
        Box::pin(async move { r })
    }
}

/// The REST server's state.
#[derive(Clone)]
struct Api {
    tunnels: Tunnels,
    pods: Arc<HashMap<String, Value>>,
    addr: SocketAddr,
}

fn status(code: u16, reason: &str, message: &str) -> Response {
    let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code});
    (StatusCode::from_u16(code).expect("valid code"), Json(body)).into_response()
}

fn error_response(e: TunnelError) -> Response {
    status(e.code(), e.reason(), &e.to_string())
}

fn pod_json(name: &str, node: &str, containers: &[&str]) -> Value {
    let cs: Vec<Value> = containers.iter().map(|c| json!({"name": c, "image": "busybox"})).collect();
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"), "resourceVersion": "1"},
        "spec": {"nodeName": node, "containers": cs},
        "status": {"phase": "Running"}})
}

impl Api {
    fn pod(&self, ns: &str, name: &str) -> Result<Value, Box<Response>> {
        match self.pods.get(name) {
            Some(p) if ns == "default" => Ok(p.clone()),
            _ => Err(Box::new(status(404, "NotFound", &format!("pods {name:?} not found")))),
        }
    }
}

async fn get_pod(State(api): State<Api>, UrlPath((ns, name)): UrlPath<(String, String)>) -> Response {
    match api.pod(&ns, &name) {
        Ok(p) => Json(p).into_response(),
        Err(r) => *r,
    }
}

async fn get_log(
    State(api): State<Api>,
    UrlPath((ns, name)): UrlPath<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let pod = match api.pod(&ns, &name) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let target = match PodTarget::from_pod(&pod, query.get("container").map(String::as_str)) {
        Ok(t) => t,
        Err(e) => return error_response(e),
    };
    http::logs(&api.tunnels, target, &query).await.unwrap_or_else(error_response)
}

async fn exec(
    State(api): State<Api>,
    UrlPath((ns, name)): UrlPath<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let pod = match api.pod(&ns, &name) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let container = query.iter().find(|(k, _)| k == "container").map(|(_, v)| v.as_str());
    let target = match PodTarget::from_pod(&pod, container) {
        Ok(t) => t,
        Err(e) => return error_response(e),
    };
    http::exec(&api.tunnels, target, &query, ws.ok()).await.unwrap_or_else(error_response)
}

fn router(api: Api) -> Router {
    let addr = api.addr.to_string();
    Router::new()
        .route("/version", get(|| async { Json(json!({"major": "1", "minor": "32", "gitVersion": "v1.32.0"})) }))
        .route(
            "/api",
            get(move || async move {
                Json(json!({"kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": addr}]}))
            }),
        )
        .route("/apis", get(|| async { Json(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []})) }))
        .route(
            "/api/v1",
            get(|| async {
                Json(json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                    {"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod", "verbs": ["get", "list"], "shortNames": ["po"]},
                    {"name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]},
                    {"name": "pods/exec", "singularName": "", "namespaced": true, "kind": "PodExecOptions", "verbs": ["create", "get"]},
                ]}))
            }),
        )
        .route("/api/v1/namespaces/{ns}/pods/{name}", get(get_pod))
        .route("/api/v1/namespaces/{ns}/pods/{name}/log", get(get_log))
        .route("/api/v1/namespaces/{ns}/pods/{name}/exec", get(exec).post(exec))
        .with_state(api)
}

/// A running test cluster.
pub struct Cluster {
    pub rest: SocketAddr,
    pub grpc: SocketAddr,
    pub tunnels: Tunnels,
    pub runtime: Arc<TestRuntime>,
    /// The log file of pod `p` container `c`.
    pub log_file: PathBuf,
    pub home: tempfile::TempDir,
    pub shutdown: CancellationToken,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Starts the gRPC and REST servers and the agent of `node-1`, and waits
/// for the agent's tunnel. Pods: `p` (container `c`, node-1), `multi`
/// (containers `a`, `b`, node-1), `orphan` (node-2, which has no agent).
pub async fn must_start() -> Cluster {
    let home = tempfile::tempdir().expect("tempdir");
    let log_file = home.path().join("p-c.log");
    std::fs::write(&log_file, "one\ntwo\nthree\n").expect("write log");
    let tunnels = Tunnels::new();
    let grpc_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind grpc");
    let grpc = grpc_listener.local_addr().expect("addr");
    must_serve_grpc(grpc_listener, tunnels.clone());

    let rest_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind rest");
    let rest = rest_listener.local_addr().expect("addr");
    let pods: HashMap<String, Value> = [
        ("p".to_string(), pod_json("p", NODE, &["c"])),
        ("multi".to_string(), pod_json("multi", NODE, &["a", "b"])),
        ("orphan".to_string(), pod_json("orphan", "node-2", &["c"])),
    ]
    .into_iter()
    .collect();
    let app = router(Api { tunnels: tunnels.clone(), pods: Arc::new(pods), addr: rest });
    tokio::spawn(async move { axum::serve(rest_listener, app).await.expect("rest server") });

    let shutdown = CancellationToken::new();
    let runtime = Arc::new(TestRuntime::default());
    let files = [
        (("p".to_string(), "c".to_string()), log_file.clone()),
        (("multi".to_string(), "a".to_string()), log_file.clone()),
        (("multi".to_string(), "b".to_string()), log_file.clone()),
    ]
    .into_iter()
    .collect();
    must_start_agent(grpc, runtime.clone(), files, shutdown.clone());
    must_wait("agent tunnel", || tunnels.has_agent(NODE)).await;
    Cluster { rest, grpc, tunnels, runtime, log_file, home, shutdown }
}

/// Runs the agent of `node-1` toward the gRPC server at `grpc`.
pub fn must_start_agent(
    grpc: SocketAddr,
    runtime: Arc<TestRuntime>,
    files: HashMap<(String, String), PathBuf>,
    shutdown: CancellationToken,
) {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc}")).expect("endpoint").connect_lazy();
    tokio::spawn(run(channel, NODE.to_string(), runtime, Arc::new(TestLookup { files }), shutdown));
}

/// Polls `cond` until it holds, failing after 15 s.
pub async fn must_wait(what: &str, cond: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A kubectl command against the cluster (dispatcher picks 1.32 from
/// `/version`), with its own HOME and discovery cache.
pub fn kubectl(c: &Cluster, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new("kubectl");
    cmd.arg("--server")
        .arg(format!("http://{}", c.rest))
        .arg("--cache-dir")
        .arg(c.home.path().join("cache"))
        .args(args)
        .env("HOME", c.home.path())
        .env_remove("KUBECONFIG")
        .kill_on_drop(true);
    cmd
}

/// Result of a finished kubectl.
#[derive(Debug)]
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs kubectl to completion (60 s limit) with `stdin`.
pub async fn must_run(c: &Cluster, args: &[&str], stdin: Option<&[u8]>) -> Ran {
    let mut cmd = kubectl(c, args);
    cmd.stdin(if stdin.is_some() { std::process::Stdio::piped() } else { std::process::Stdio::null() })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn kubectl");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("piped");
        pipe.write_all(input).await.expect("write stdin");
        drop(pipe);
    }
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("kubectl {args:?} timed out"))
        .expect("kubectl output");
    Ran {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Appends `text` to `path`.
pub fn must_append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).expect("open log");
    f.write_all(text.as_bytes()).expect("append");
}
