//! The runtime conformance suite: behaviours every [`Runtime`] must have,
//! written against `Arc<dyn Runtime>` only. Each `pub async fn` asserts one
//! behaviour, makes its own pods (unique uids) on `node`, and removes them
//! when it passes. `run_all` runs them in order.
//!
//! Workloads are POSIX `sh -c` scripts run in `image` (busybox-like: `sh`,
//! `echo`, `sleep` with fractions, `cat`, `trap`). An in-memory runtime has
//! to interpret these scripts (see [`Scripts`]) to pass.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::StreamExt;
use node_agent::runtime::{
    ContainerPlan, ContainerState, Found, LogOptions, Output, Role, Runtime, RuntimeError, Sandbox, SandboxPlan,
};

/// The scripts the suite runs, in one place so a simulated runtime knows
/// exactly what it must interpret.
pub struct Scripts;

impl Scripts {
    /// Runs until SIGTERM, then exits 0.
    pub const SERVE: &'static str = "trap 'exit 0' TERM; while :; do sleep 1 & wait; done";
    /// Prints `hello` and exits 3.
    pub const EXIT_3: &'static str = "echo hello; exit 3";
    /// Prints `one` (stdout), `two` (stderr), `three` (stdout), in that order, and exits 0.
    pub const THREE_LINES: &'static str = "echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three";
    /// Prints `line1`, `line2`, ... every 0.2 s until SIGTERM.
    pub const TICKER: &'static str = "trap 'exit 0' TERM; i=0; while :; do i=$((i+1)); echo line$i; sleep 0.2; done";
    /// Exec: `out` on stdout, `err` on stderr, exit 7.
    pub const EXEC_OUT_ERR: &'static str = "echo out; echo err >&2; exit 7";
}

/// How long any single expected event may take.
const DEADLINE: Duration = Duration::from_secs(30);

/// A unique pod uid (its first 8 characters differ between calls).
pub fn unique_uid(tag: &str) -> String {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let mix = nanos.wrapping_mul(2_654_435_761) ^ std::process::id().rotate_left(16) ^ seq.wrapping_mul(40_503);
    format!("{mix:08x}-{seq:04x}-{tag}")
}

/// A sandbox plan for pod `name` with `uid` on `node`.
pub fn sandbox_plan(node: &str, uid: &str, name: &str) -> SandboxPlan {
    SandboxPlan {
        pod_uid: uid.to_string(),
        pod_name: name.to_string(),
        namespace: "conformance".to_string(),
        node: node.to_string(),
        hostname: name.to_string(),
        host_network: false,
        host_aliases: Vec::new(),
        host_ports: Vec::new(),
    }
}

/// An app container plan running `sh -c script` in `image`.
pub fn sh_plan(sp: &SandboxPlan, name: &str, image: &str, script: &str) -> ContainerPlan {
    ContainerPlan {
        pod_uid: sp.pod_uid.clone(),
        pod_name: sp.pod_name.clone(),
        namespace: sp.namespace.clone(),
        node: sp.node.clone(),
        name: name.to_string(),
        role: Role::App,
        attempt: 0,
        image: image.to_string(),
        command: Some(vec!["sh".to_string(), "-c".to_string()]),
        args: Some(vec![script.to_string()]),
        env: Vec::new(),
        working_dir: None,
        mounts: Vec::new(),
        memory_limit: None,
        nano_cpus: None,
        cpu_shares: None,
        stdin: false,
        tty: false,
        termination_message_path: None,
    }
}

/// Runs the sandbox of `sp`, panicking on error.
pub async fn must_sandbox(rt: &Arc<dyn Runtime>, sp: &SandboxPlan) -> Sandbox {
    rt.run_sandbox(sp).await.unwrap_or_else(|e| panic!("run_sandbox {}: {e}", sp.pod_name))
}

/// Creates and starts `plan` in `sandbox`, panicking on error; returns the id.
pub async fn must_run(rt: &Arc<dyn Runtime>, sandbox: &Sandbox, plan: &ContainerPlan) -> String {
    let id = rt.create_container(sandbox, plan).await.unwrap_or_else(|e| panic!("create {}: {e}", plan.name));
    rt.start_container(&id).await.unwrap_or_else(|e| panic!("start {}: {e}", plan.name));
    id
}

/// Waits (with [`DEADLINE`]) for the container to exit, panicking on error.
pub async fn must_wait(rt: &Arc<dyn Runtime>, id: &str) -> ContainerState {
    tokio::time::timeout(DEADLINE, rt.wait_container(id))
        .await
        .unwrap_or_else(|_| panic!("container {id} still running after {DEADLINE:?}"))
        .unwrap_or_else(|e| panic!("wait {id}: {e}"))
}

/// The whole (non-follow) log of `id` as text.
pub async fn must_logs(rt: &Arc<dyn Runtime>, id: &str, opts: &LogOptions) -> String {
    assert!(!opts.follow, "must_logs reads to the end");
    let mut stream = rt.logs(id, opts).await.unwrap_or_else(|e| panic!("logs {id}: {e}"));
    let mut out = Vec::new();
    while let Some(chunk) = tokio::time::timeout(DEADLINE, stream.next()).await.expect("log read stalled") {
        out.extend_from_slice(&chunk.unwrap_or_else(|e| panic!("log chunk of {id}: {e}")));
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Polls `f` until it returns `Some`, panicking after [`DEADLINE`].
pub async fn must_eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(start.elapsed() < DEADLINE, "timed out after {DEADLINE:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// This pod's containers as listed for `node`, keyed by container name
/// (`"<sandbox>"` for the sandbox).
pub async fn must_list_pod(rt: &Arc<dyn Runtime>, node: &str, uid: &str) -> BTreeMap<String, Found> {
    let all = rt.list(node).await.unwrap_or_else(|e| panic!("list {node}: {e}"));
    all.into_iter()
        .filter(|f| f.pod_uid == uid)
        .map(|f| (f.container.clone().unwrap_or_else(|| "<sandbox>".to_string()), f))
        .collect()
}

/// Removes the pod, panicking on error.
pub async fn must_remove_pod(rt: &Arc<dyn Runtime>, uid: &str) {
    rt.remove_pod(uid).await.unwrap_or_else(|e| panic!("remove_pod {uid}: {e}"));
}

/// A sandbox runs, is idempotent per pod uid, and a container goes
/// created → running → exited with its exit code, then is removed.
pub async fn lifecycle(rt: Arc<dyn Runtime>, node: &str, image: &str) {
    let uid = unique_uid("life");
    let sp = sandbox_plan(node, &uid, "life");
    let sandbox = must_sandbox(&rt, &sp).await;
    assert!(!sandbox.id.is_empty());
    let again = must_sandbox(&rt, &sp).await;
    assert_eq!(again.id, sandbox.id, "run_sandbox is idempotent per pod uid");

    let plan = sh_plan(&sp, "main", image, Scripts::EXIT_3);
    let id = rt.create_container(&sandbox, &plan).await.expect("create");
    let created = rt.inspect_container(&id).await.expect("inspect created");
    assert!(!created.running);
    assert_eq!(created.exit_code, None, "a created container has not exited");
    assert_eq!(created.started_at, None);

    rt.start_container(&id).await.expect("start");
    let done = must_wait(&rt, &id).await;
    assert!(!done.running);
    assert_eq!(done.exit_code, Some(3));
    assert!(done.started_at.is_some() && done.finished_at.is_some(), "{done:?}");
    assert!(!done.image_id.is_empty());
    let again = rt.wait_container(&id).await.expect("wait on an exited container");
    assert_eq!(again.exit_code, Some(3), "wait returns at once once exited");
    assert_eq!(rt.inspect_container(&id).await.expect("inspect"), done);

    rt.remove_container(&id).await.expect("remove");
    assert!(matches!(rt.inspect_container(&id).await, Err(RuntimeError::NotFound(_))));
    must_remove_pod(&rt, &uid).await;
}

/// `list` finds the sandbox and containers from their labels: pod, name,
/// role, attempt and running, and only those of this node.
pub async fn list_adoption(rt: Arc<dyn Runtime>, node: &str, image: &str) {
    let uid = unique_uid("list");
    let sp = sandbox_plan(node, &uid, "list");
    let sandbox = must_sandbox(&rt, &sp).await;
    let mut init = sh_plan(&sp, "setup", image, "exit 0");
    init.role = Role::Init;
    let init_id = must_run(&rt, &sandbox, &init).await;
    assert_eq!(must_wait(&rt, &init_id).await.exit_code, Some(0));
    let mut app = sh_plan(&sp, "main", image, Scripts::SERVE);
    app.attempt = 2;
    let app_id = must_run(&rt, &sandbox, &app).await;

    let found = must_list_pod(&rt, node, &uid).await;
    assert_eq!(found.len(), 3, "{found:?}");
    let sb = &found["<sandbox>"];
    assert_eq!((sb.id.as_str(), sb.role, sb.running, sb.attempt), (sandbox.id.as_str(), None, true, 0));
    assert_eq!((sb.pod_name.as_str(), sb.namespace.as_str()), ("list", "conformance"));
    assert_eq!(sb.ip, sandbox.ip, "list reports the sandbox IP");
    let a = &found["main"];
    assert_eq!((a.id.as_str(), a.role, a.attempt, a.running), (app_id.as_str(), Some(Role::App), 2, true));
    assert_eq!(a.ip, "");
    let i = &found["setup"];
    assert_eq!((i.id.as_str(), i.role, i.attempt, i.running), (init_id.as_str(), Some(Role::Init), 0, false));

    let other = format!("{node}-other");
    assert!(must_list_pod(&rt, &other, &uid).await.is_empty(), "list is per node");
    must_remove_pod(&rt, &uid).await;
}

/// `stop_container` sends SIGTERM, returns once exited, and is idempotent.
pub async fn stop_with_grace(rt: Arc<dyn Runtime>, node: &str, image: &str) {
    let uid = unique_uid("stop");
    let sp = sandbox_plan(node, &uid, "stop");
    let sandbox = must_sandbox(&rt, &sp).await;
    let id = must_run(&rt, &sandbox, &sh_plan(&sp, "main", image, Scripts::SERVE)).await;
    assert!(rt.inspect_container(&id).await.expect("inspect").running);

    let start = Instant::now();
    rt.stop_container(&id, Duration::from_secs(20)).await.expect("stop");
    assert!(start.elapsed() < Duration::from_secs(10), "SIGTERM handled, no wait for the grace: {:?}", start.elapsed());
    let st = rt.inspect_container(&id).await.expect("inspect stopped");
    assert!(!st.running);
    assert_eq!(st.exit_code, Some(0), "exited through its TERM trap");
    rt.stop_container(&id, Duration::from_secs(1)).await.expect("stop of an exited container is a no-op");

    let killed = must_run(&rt, &sandbox, &sh_plan(&sp, "other", image, Scripts::SERVE)).await;
    rt.stop_container(&killed, Duration::ZERO).await.expect("stop with zero grace");
    let st = rt.inspect_container(&killed).await.expect("inspect killed");
    assert!(!st.running);
    assert_eq!(st.exit_code, Some(137), "zero grace kills at once");

    assert!(matches!(
        rt.stop_container("no-such-container-xyz", Duration::from_secs(1)).await,
        Err(RuntimeError::NotFound(_))
    ));
    must_remove_pod(&rt, &uid).await;
}

/// `exec` returns stdout, stderr and the exit code; a timeout gives `None`.
pub async fn exec(rt: Arc<dyn Runtime>, node: &str, image: &str) {
    let uid = unique_uid("exec");
    let sp = sandbox_plan(node, &uid, "exec");
    let sandbox = must_sandbox(&rt, &sp).await;
    let id = must_run(&rt, &sandbox, &sh_plan(&sp, "main", image, Scripts::SERVE)).await;

    let cmd: Vec<String> = ["sh", "-c", Scripts::EXEC_OUT_ERR].map(String::from).to_vec();
    let out = rt.exec(&id, &cmd, DEADLINE).await.expect("exec");
    assert_eq!(out.exit_code, Some(7));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");

    let slow: Vec<String> = ["sh", "-c", "echo started; sleep 30"].map(String::from).to_vec();
    let start = Instant::now();
    let out = rt.exec(&id, &slow, Duration::from_millis(1500)).await.expect("exec with timeout");
    assert_eq!(out.exit_code, None, "timed out");
    assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());

    assert!(matches!(rt.exec("no-such-container-xyz", &cmd, DEADLINE).await, Err(RuntimeError::NotFound(_))));
    must_remove_pod(&rt, &uid).await;
}

/// An interactive exec: stdin reaches the process, closing it ends input,
/// output arrives on the right stream, then the exit code.
pub async fn exec_session(rt: Arc<dyn Runtime>, node: &str, image: &str) {
    let uid = unique_uid("sess");
    let sp = sandbox_plan(node, &uid, "sess");
    let sandbox = must_sandbox(&rt, &sp).await;
    let id = must_run(&rt, &sandbox, &sh_plan(&sp, "main", image, Scripts::SERVE)).await;

    let cmd: Vec<String> = ["sh", "-c", "cat; echo done >&2; exit 5"].map(String::from).to_vec();
    let mut s = rt.exec_session(&id, &cmd, true, false).await.expect("exec_session");
    let stdin = s.stdin.take().expect("stdin requested");
    stdin.send(Bytes::from_static(b"hello\n")).await.expect("send stdin");
    drop(stdin);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    while let Some((which, chunk)) = tokio::time::timeout(DEADLINE, s.output.recv()).await.expect("output stalled") {
        match which {
            Output::Stdout => stdout.extend_from_slice(&chunk),
            Output::Stderr => stderr.extend_from_slice(&chunk),
        }
    }
    assert_eq!(String::from_utf8_lossy(&stdout), "hello\n");
    assert_eq!(String::from_utf8_lossy(&stderr), "done\n");
    let code = tokio::time::timeout(DEADLINE, s.exit).await.expect("exit stalled").expect("exit sent");
    assert_eq!(code, Ok(5));
    must_remove_pod(&rt, &uid).await;
}

/// Logs hold stdout and stderr in order; `tail_lines` keeps the last lines;
/// `follow` delivers lines written after the read began.
pub async fn logs(rt: Arc<dyn Runtime>, node: &str, image: &str) {
    let uid = unique_uid("logs");
    let sp = sandbox_plan(node, &uid, "logs");
    let sandbox = must_sandbox(&rt, &sp).await;

    let done = must_run(&rt, &sandbox, &sh_plan(&sp, "three", image, Scripts::THREE_LINES)).await;
    assert_eq!(must_wait(&rt, &done).await.exit_code, Some(0));
    assert_eq!(must_logs(&rt, &done, &LogOptions::default()).await, "one\ntwo\nthree\n");
    let tail = LogOptions { tail_lines: Some(2), ..Default::default() };
    assert_eq!(must_logs(&rt, &done, &tail).await, "two\nthree\n");
    let stamped = must_logs(&rt, &done, &LogOptions { timestamps: true, ..Default::default() }).await;
    let lines: Vec<&str> = stamped.lines().collect();
    assert_eq!(lines.len(), 3, "{stamped:?}");
    assert!(lines[0].ends_with(" one") && lines[0].len() > " one".len() + 19, "timestamp prefix: {:?}", lines[0]);

    let ticker = must_run(&rt, &sandbox, &sh_plan(&sp, "ticker", image, Scripts::TICKER)).await;
    let last_seen: u32 = must_eventually("three ticker lines", || {
        let rt = rt.clone();
        let ticker = ticker.clone();
        async move {
            let text = must_logs(&rt, &ticker, &LogOptions { tail_lines: Some(1), ..Default::default() }).await;
            text.trim().strip_prefix("line").and_then(|n| n.parse().ok()).filter(|n| *n >= 3)
        }
    })
    .await;
    let follow = LogOptions { follow: true, tail_lines: Some(0), ..Default::default() };
    let mut stream = rt.logs(&ticker, &follow).await.expect("follow logs");
    let mut text = String::new();
    let newer = loop {
        let chunk = tokio::time::timeout(DEADLINE, stream.next())
            .await
            .expect("follow delivers new lines")
            .expect("stream open while running")
            .expect("chunk");
        text.push_str(&String::from_utf8_lossy(&chunk));
        if let Some(n) =
            text.lines().filter_map(|l| l.strip_prefix("line")?.parse::<u32>().ok()).find(|n| *n > last_seen)
        {
            break n;
        }
    };
    assert!(newer > last_seen);
    drop(stream);

    assert!(matches!(rt.logs("no-such-container-xyz", &LogOptions::default()).await, Err(RuntimeError::NotFound(_))));
    must_remove_pod(&rt, &uid).await;
}

/// `remove_pod` removes the sandbox and every container, running or not,
/// and is idempotent.
pub async fn remove_pod(rt: Arc<dyn Runtime>, node: &str, image: &str) {
    let uid = unique_uid("rmpod");
    let sp = sandbox_plan(node, &uid, "rmpod");
    let sandbox = must_sandbox(&rt, &sp).await;
    let running = must_run(&rt, &sandbox, &sh_plan(&sp, "a", image, Scripts::SERVE)).await;
    let exited = must_run(&rt, &sandbox, &sh_plan(&sp, "b", image, "exit 1")).await;
    must_wait(&rt, &exited).await;
    let created = rt.create_container(&sandbox, &sh_plan(&sp, "c", image, "exit 0")).await.expect("create");
    assert_eq!(must_list_pod(&rt, node, &uid).await.len(), 4);

    must_remove_pod(&rt, &uid).await;
    assert!(must_list_pod(&rt, node, &uid).await.is_empty());
    for id in [&sandbox.id, &running, &exited, &created] {
        assert!(matches!(rt.inspect_container(id).await, Err(RuntimeError::NotFound(_))), "{id} still there");
    }
    must_remove_pod(&rt, &uid).await;
    assert!(matches!(rt.inspect_container("no-such-container-xyz").await, Err(RuntimeError::NotFound(_))));
}

/// Every behaviour above, in order.
pub async fn run_all(rt: Arc<dyn Runtime>, node: &str, image: &str) {
    lifecycle(rt.clone(), node, image).await;
    list_adoption(rt.clone(), node, image).await;
    stop_with_grace(rt.clone(), node, image).await;
    exec(rt.clone(), node, image).await;
    exec_session(rt.clone(), node, image).await;
    logs(rt.clone(), node, image).await;
    remove_pod(rt, node, image).await;
}
