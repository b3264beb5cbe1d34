//! The Docker runtime against this machine's real engine: the shared
//! conformance suite, then Docker-specific behaviours (shared localhost and
//! volumes, SIGKILL at the grace deadline, pull errors, bad commands,
//! resource limits, host ports, sandbox restart).
//!
//! Needs a reachable Docker engine; builds the local test images with
//! `build-images.sh` once per run. Every test uses its own node name and
//! removes that node's containers when it ends, even on panic.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use crate::conformance::{
    must_eventually, must_remove_pod, must_run, must_sandbox, sandbox_plan, sh_plan, unique_uid, Scripts,
};
use bollard::Docker;
use node_agent::runtime::docker::{DockerRuntime, BUSYBOX_IMAGE, PAUSE_IMAGE};
use node_agent::runtime::{Labels, Mount, PullPolicy, Runtime, RuntimeError};

/// Builds the test images (idempotent) once per test binary.
fn must_images() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/images/build-images.sh");
        let out = Command::new("bash").arg(script).output().expect("run build-images.sh");
        assert!(
            out.status.success(),
            "build-images.sh failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// A test's node name; dropping it force-removes every container labelled
/// with it (cleanup that also runs when the test panics).
struct Node(String);

impl Node {
    fn new(tag: &str) -> Node {
        Node(format!("docker-test-{tag}-{}", unique_uid("n")))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let filter = format!("label={}={}", Labels::NODE, self.0);
        let Ok(out) = Command::new("docker").args(["ps", "-aq", "--filter", &filter]).output() else { return };
        let ids: Vec<String> = String::from_utf8_lossy(&out.stdout).split_whitespace().map(String::from).collect();
        if !ids.is_empty() {
            let _ = Command::new("docker").args(["rm", "-f"]).args(&ids).output();
        }
    }
}

async fn must_runtime() -> Arc<dyn Runtime> {
    must_images();
    Arc::new(DockerRuntime::connect(PAUSE_IMAGE.to_string()).await.expect("connect to the Docker engine"))
}

fn raw_docker() -> Docker {
    Docker::connect_with_local_defaults().expect("docker client")
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

macro_rules! conformance_test {
    ($name:ident) => {
        #[tokio::test]
        async fn $name() {
            let rt = must_runtime().await;
            let node = Node::new(stringify!($name));
            crate::conformance::$name(rt, &node.0, BUSYBOX_IMAGE).await;
        }
    };
}

conformance_test!(lifecycle);
conformance_test!(list_adoption);
conformance_test!(stop_with_grace);
conformance_test!(exec);
conformance_test!(exec_session);
conformance_test!(logs);
conformance_test!(remove_pod);

#[tokio::test]
async fn containers_of_a_pod_share_localhost_and_volumes() {
    let rt = must_runtime().await;
    let node = Node::new("share");
    let shared = tempfile::tempdir().expect("tempdir");
    let uid = unique_uid("share");
    let sp = sandbox_plan(&node.0, &uid, "share");
    let sandbox = must_sandbox(&rt, &sp).await;
    assert!(sandbox.ip.split('.').count() == 4, "bridge IP: {:?}", sandbox.ip);
    let mount = Mount {
        host_path: shared.path().to_string_lossy().into_owned(),
        container_path: "/shared".to_string(),
        read_only: false,
    };
    let mut server = sh_plan(
        &sp,
        "server",
        BUSYBOX_IMAGE,
        "echo shared-by-server > /shared/index.html; exec httpd -f -p 8080 -h /shared",
    );
    server.mounts = vec![mount.clone()];
    let mut client = sh_plan(&sp, "client", BUSYBOX_IMAGE, Scripts::SERVE);
    client.mounts = vec![Mount { read_only: true, ..mount }];
    must_run(&rt, &sandbox, &server).await;
    let client_id = must_run(&rt, &sandbox, &client).await;

    let get = strings(&["sh", "-c", "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc 127.0.0.1 8080"]);
    let body = must_eventually("the client reaches the server on localhost", || {
        let (rt, id, get) = (rt.clone(), client_id.clone(), get.clone());
        async move {
            let out = rt.exec(&id, &get, Duration::from_secs(5)).await.ok()?;
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.contains("shared-by-server").then_some(text)
        }
    })
    .await;
    assert!(body.starts_with("HTTP/1."), "{body}");

    let cat =
        rt.exec(&client_id, &strings(&["cat", "/shared/index.html"]), Duration::from_secs(10)).await.expect("cat");
    assert_eq!(String::from_utf8_lossy(&cat.stdout), "shared-by-server\n", "the volume is shared");
    let on_host = std::fs::read_to_string(shared.path().join("index.html")).expect("file on the host");
    assert_eq!(on_host, "shared-by-server\n");
    let ro = rt.exec(&client_id, &strings(&["touch", "/shared/x"]), Duration::from_secs(10)).await.expect("touch");
    assert_ne!(ro.exit_code, Some(0), "read-only bind refuses writes");
    must_remove_pod(&rt, &uid).await;
}

#[tokio::test]
async fn sigterm_ignored_is_killed_at_grace() {
    let rt = must_runtime().await;
    let node = Node::new("kill");
    let uid = unique_uid("kill");
    let sp = sandbox_plan(&node.0, &uid, "kill");
    let sandbox = must_sandbox(&rt, &sp).await;
    let id = must_run(&rt, &sandbox, &sh_plan(&sp, "stubborn", BUSYBOX_IMAGE, "trap '' TERM; sleep 1000")).await;
    let grace = Duration::from_secs(2);
    let start = Instant::now();
    rt.stop_container(&id, grace).await.expect("stop");
    let elapsed = start.elapsed();
    assert!(elapsed >= grace && elapsed < grace + Duration::from_secs(5), "stopped after {elapsed:?}");
    let st = rt.inspect_container(&id).await.expect("inspect");
    assert_eq!((st.running, st.exit_code), (false, Some(137)), "SIGKILLed");
    must_remove_pod(&rt, &uid).await;
}

#[tokio::test]
async fn image_policies() {
    let rt = must_runtime().await;
    let present = rt.ensure_image(BUSYBOX_IMAGE, PullPolicy::IfNotPresent).await.expect("present image");
    assert!(!present.pulled);
    assert!(present.image_id.starts_with("sha256:"), "{}", present.image_id);
    let never = rt.ensure_image(BUSYBOX_IMAGE, PullPolicy::Never).await.expect("present, Never");
    assert_eq!(never, present);

    let missing = "helmsman-test/does-not-exist:0";
    match rt.ensure_image(missing, PullPolicy::IfNotPresent).await {
        Err(RuntimeError::Pull { image, message }) => {
            assert_eq!(image, missing);
            assert!(!message.is_empty());
            // The engine's own words (here: no registry is reachable).
            assert!(
                ["registry", "pull access denied", "not found", "lookup", "dial"].iter().any(|w| message.contains(w)),
                "{message}"
            );
        }
        other => panic!("expected a pull error, got {other:?}"),
    }
    assert_eq!(rt.ensure_image(missing, PullPolicy::Never).await, Err(RuntimeError::NeverPull(missing.to_string())));
    // Always pulls even when present; with no registry that fails.
    assert!(matches!(rt.ensure_image(BUSYBOX_IMAGE, PullPolicy::Always).await, Err(RuntimeError::Pull { .. })));
}

#[tokio::test]
async fn bad_command_fails_with_the_engines_message() {
    let rt = must_runtime().await;
    let node = Node::new("badcmd");
    let uid = unique_uid("badcmd");
    let sp = sandbox_plan(&node.0, &uid, "badcmd");
    let sandbox = must_sandbox(&rt, &sp).await;
    let mut plan = sh_plan(&sp, "bad", BUSYBOX_IMAGE, "");
    plan.command = Some(vec!["/no/such/binary".to_string()]);
    plan.args = None;
    let err = match rt.create_container(&sandbox, &plan).await {
        Err(e) => e,
        Ok(id) => rt.start_container(&id).await.expect_err("start of a missing binary fails"),
    };
    match &err {
        RuntimeError::Create(m) | RuntimeError::Start(m) => {
            assert!(m.contains("/no/such/binary") && m.contains("no such file"), "{m}")
        }
        other => panic!("expected Create or Start, got {other:?}"),
    }

    let mut missing_image = sh_plan(&sp, "noimage", "helmsman-test/does-not-exist:0", "exit 0");
    missing_image.attempt = 1;
    assert!(matches!(rt.create_container(&sandbox, &missing_image).await, Err(RuntimeError::Create(_))));
    must_remove_pod(&rt, &uid).await;
}

#[tokio::test]
async fn resources_and_namespaces_reach_the_engine() {
    let rt = must_runtime().await;
    let node = Node::new("res");
    let uid = unique_uid("res");
    let sp = sandbox_plan(&node.0, &uid, "res");
    let sandbox = must_sandbox(&rt, &sp).await;
    let mut plan = sh_plan(&sp, "limited", BUSYBOX_IMAGE, Scripts::SERVE);
    plan.memory_limit = Some(64 << 20);
    plan.nano_cpus = Some(500_000_000);
    plan.cpu_shares = Some(512);
    plan.env = vec![("GREETING".to_string(), "hi there".to_string())];
    plan.working_dir = Some("/tmp".to_string());
    let id = must_run(&rt, &sandbox, &plan).await;

    let docker = raw_docker();
    let c = docker.inspect_container(&id, None).await.expect("inspect");
    let hc = c.host_config.expect("host config");
    assert_eq!((hc.memory, hc.nano_cpus, hc.cpu_shares), (Some(64 << 20), Some(500_000_000), Some(512)));
    assert_eq!(hc.network_mode, Some(format!("container:{}", sandbox.id)));
    assert_eq!(hc.ipc_mode, Some(format!("container:{}", sandbox.id)));
    assert_eq!(c.name.as_deref(), Some(format!("/hm_conformance_res_limited_0_{}", &uid[..8]).as_str()));
    let s = docker.inspect_container(&sandbox.id, None).await.expect("inspect sandbox");
    let shc = s.host_config.expect("sandbox host config");
    assert_eq!((shc.init, shc.ipc_mode.as_deref()), (Some(true), Some("shareable")));
    assert_eq!(s.name.as_deref(), Some(format!("/hm_conformance_res_sandbox_{}", &uid[..8]).as_str()));

    let out =
        rt.exec(&id, &strings(&["sh", "-c", "echo \"$GREETING\"; pwd"]), Duration::from_secs(10)).await.expect("exec");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi there\n/tmp\n");
    must_remove_pod(&rt, &uid).await;
}

#[tokio::test]
async fn sandbox_restarts_and_publishes_host_ports() {
    let rt = must_runtime().await;
    let node = Node::new("ports");
    let uid = unique_uid("ports");
    let mut sp = sandbox_plan(&node.0, &uid, "ports");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
    let host_port = listener.local_addr().expect("addr").port();
    drop(listener);
    sp.host_ports = vec![(host_port, 8080, "TCP".to_string())];
    sp.host_aliases = vec![("10.1.2.3".to_string(), vec!["alias.example".to_string()])];
    let sandbox = must_sandbox(&rt, &sp).await;
    let server = sh_plan(
        &sp,
        "web",
        BUSYBOX_IMAGE,
        "mkdir -p /www; echo via-host-port > /www/index.html; exec httpd -f -p 8080 -h /www",
    );
    let server_id = must_run(&rt, &sandbox, &server).await;

    let body = must_eventually("the host port answers", || async move {
        let mut s = TcpStream::connect(("127.0.0.1", host_port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        s.write_all(b"GET /index.html HTTP/1.0\r\n\r\n").ok()?;
        let mut text = String::new();
        s.read_to_string(&mut text).ok()?;
        text.contains("via-host-port").then_some(text)
    })
    .await;
    assert!(body.starts_with("HTTP/1."), "{body}");
    let hosts = rt.exec(&server_id, &strings(&["cat", "/etc/hosts"]), Duration::from_secs(10)).await.expect("hosts");
    assert!(String::from_utf8_lossy(&hosts.stdout).contains("10.1.2.3\talias.example"), "host aliases in /etc/hosts");

    // A stopped sandbox is started again by run_sandbox, keeping its id.
    rt.stop_container(&sandbox.id, Duration::from_secs(5)).await.expect("stop sandbox");
    assert!(!rt.inspect_container(&sandbox.id).await.expect("inspect").running);
    let again = must_sandbox(&rt, &sp).await;
    assert_eq!(again.id, sandbox.id);
    assert!(rt.inspect_container(&again.id).await.expect("inspect").running);
    must_remove_pod(&rt, &uid).await;
}

#[tokio::test]
async fn capacity_reports_cores_and_memory() {
    let rt = must_runtime().await;
    let (cores, mem) = rt.capacity().await.expect("capacity");
    let host_cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    assert!(cores >= 1 && cores >= host_cores.min(cores), "{cores}");
    assert!(mem > 64 << 20, "{mem}");
    assert_eq!(rt.name(), "docker");
}

#[tokio::test]
async fn tty_exec_session_takes_input() {
    let rt = must_runtime().await;
    let node = Node::new("tty");
    let uid = unique_uid("tty");
    let sp = sandbox_plan(&node.0, &uid, "tty");
    let sandbox = must_sandbox(&rt, &sp).await;
    let id = must_run(&rt, &sandbox, &sh_plan(&sp, "main", BUSYBOX_IMAGE, Scripts::SERVE)).await;

    let mut s = rt.exec_session(&id, &strings(&["sh"]), true, true).await.expect("tty session");
    let resize = s.resize.take().expect("a tty session can resize");
    resize.send((100, 40)).await.expect("resize");
    let stdin = s.stdin.take().expect("stdin");
    stdin.send(bytes::Bytes::from_static(b"echo $((6*7)); exit 3\n")).await.expect("send");
    let mut out = Vec::new();
    while let Some((_, chunk)) = tokio::time::timeout(Duration::from_secs(30), s.output.recv()).await.expect("stalled")
    {
        out.extend_from_slice(&chunk);
    }
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("42"), "{text:?}");
    assert!(text.contains("42\r\n"), "a tty translates newlines: {text:?}");
    let code = tokio::time::timeout(Duration::from_secs(30), s.exit).await.expect("exit stalled").expect("exit sent");
    assert_eq!(code, Ok(3));
    must_remove_pod(&rt, &uid).await;
}
