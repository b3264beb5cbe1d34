//! The hollow runtime: containers "run" in memory only, so one process can
//! host the pods of thousands of hollow nodes for scale tests.
//!
//! Guarantees:
//! - No process, file or socket is created; a container is a small record in
//!   one `parking_lot::Mutex<HashMap>`, pod facts are shared (`Arc`) between
//!   a pod's sandbox and containers. Waiters park on a per-container
//!   [`Notify`] (no polling).
//! - Images are always present (`pulled == false`), except references
//!   containing `missing`, which fail like an engine's pull
//!   ([`RuntimeError::Pull`], or [`RuntimeError::NeverPull`] under `Never`).
//! - [`Runtime::start_container`] takes `start_delay`; then the container
//!   runs until stopped, except images containing `succeed` (exit 0) or
//!   `fail` (exit 1), which exit right after starting.
//! - Each sandbox gets a unique IPv4 address counted up from the base
//!   (default `10.250.0.1`).
//! - `exec` exits 0 with empty output, or 1 when the command is `false`;
//!   logs are one line `hollow <container>\n`.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot, Notify};

use super::{
    BoxFut, ContainerPlan, ContainerState, ExecOutput, ExecSession, Found, ImageReady, LogOptions, LogStream,
    PullPolicy, Role, Runtime, RuntimeError, Sandbox, SandboxPlan,
};

/// Exit code of a container stopped with SIGTERM.
const SIGTERM_EXIT: i64 = 143;
/// Exit code of a container killed with SIGKILL (pod removal).
const SIGKILL_EXIT: i64 = 137;

/// Pod facts shared by a pod's sandbox and containers.
#[derive(Debug)]
struct PodMeta {
    uid: String,
    name: String,
    namespace: String,
    node: String,
}

/// Lifecycle of one hollow container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Life {
    Created,
    Running,
    Exited(i64),
}

/// One hollow container or sandbox.
#[derive(Debug)]
struct Record {
    pod: Arc<PodMeta>,
    /// `None` for the sandbox.
    name: Option<Box<str>>,
    role: Option<Role>,
    attempt: u32,
    /// Exit code right after start (`succeed` / `fail` images).
    exits_with: Option<i64>,
    /// Sandbox IP (sandboxes only).
    ip: Option<Ipv4Addr>,
    life: Life,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    image_id: Arc<str>,
    /// Woken on every change of `life`; created on the first wait.
    notify: Option<Arc<Notify>>,
}

impl Record {
    fn state(&self, id: &str) -> ContainerState {
        ContainerState {
            id: id.to_string(),
            running: self.life == Life::Running,
            exit_code: match self.life {
                Life::Exited(c) => Some(c),
                _ => None,
            },
            oom_killed: false,
            started_at: self.started_at.map(rfc3339),
            finished_at: self.finished_at.map(rfc3339),
            error: None,
            image_id: self.image_id.to_string(),
        }
    }

    fn set_life(&mut self, life: Life) {
        self.life = life;
        match life {
            Life::Running => self.started_at = Some(now_millis()),
            Life::Exited(_) => self.finished_at = Some(now_millis()),
            Life::Created => {}
        }
        if let Some(n) = &self.notify {
            n.notify_waiters();
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    next_ip: u32,
    records: HashMap<String, Record>,
    /// Pod uid → sandbox id.
    sandboxes: HashMap<String, String>,
    /// Image reference → interned image id.
    images: HashMap<String, Arc<str>>,
}

#[derive(Debug)]
struct Shared {
    start_delay: Duration,
    ip_base: u32,
    capacity: (u32, u64),
    inner: Mutex<Inner>,
}

/// An in-memory [`Runtime`]; cheap to clone (shared state).
#[derive(Debug, Clone)]
pub struct HollowRuntime {
    shared: Arc<Shared>,
}

impl HollowRuntime {
    /// A hollow runtime whose containers take `start_delay` to start;
    /// sandbox IPs from `10.250.0.1`, capacity 8 CPUs / 32 GiB.
    pub fn new(start_delay: Duration) -> Self {
        Self::with_options(start_delay, Ipv4Addr::new(10, 250, 0, 0), (8, 32 << 30))
    }

    /// Like [`HollowRuntime::new`] with sandbox IPs counted up from
    /// `ip_base + 1` and the given `(cpus, memory bytes)` capacity.
    pub fn with_options(start_delay: Duration, ip_base: Ipv4Addr, capacity: (u32, u64)) -> Self {
        HollowRuntime {
            shared: Arc::new(Shared {
                start_delay,
                ip_base: u32::from(ip_base),
                capacity,
                inner: Mutex::new(Inner::default()),
            }),
        }
    }

    /// Number of containers and sandboxes held (for tests and metrics).
    pub fn len(&self) -> usize {
        self.shared.inner.lock().records.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Make a running container exit with `code` now, as if its process
    /// ended (fault injection for tests). False when it is not running.
    pub fn exit_container(&self, id: &str, code: i64) -> bool {
        let mut inner = self.shared.inner.lock();
        match inner.records.get_mut(id) {
            Some(r) if r.life == Life::Running => {
                r.set_life(Life::Exited(code));
                true
            }
            _ => false,
        }
    }

    fn image_id(inner: &mut Inner, image: &str) -> Arc<str> {
        if let Some(id) = inner.images.get(image) {
            return id.clone();
        }
        let id: Arc<str> = Arc::from(format!("sha256:{:016x}{:048x}", fnv(image.as_bytes()), 0u8).as_str());
        inner.images.insert(image.to_string(), id.clone());
        id
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn not_found(id: &str) -> RuntimeError {
    RuntimeError::NotFound(id.to_string())
}

impl Runtime for HollowRuntime {
    fn name(&self) -> &'static str {
        "hollow"
    }

    fn ensure_image<'a>(&'a self, image: &'a str, policy: PullPolicy) -> BoxFut<'a, Result<ImageReady, RuntimeError>> {
        Box::pin(async move {
            if image.contains("missing") {
                return Err(match policy {
                    PullPolicy::Never => RuntimeError::NeverPull(image.to_string()),
                    _ => RuntimeError::Pull {
                        image: image.to_string(),
                        message: format!(
                            "pull access denied for {}, repository does not exist or may require 'docker login'",
                            image.split(':').next().unwrap_or(image)
                        ),
                    },
                });
            }
            let mut inner = self.shared.inner.lock();
            Ok(ImageReady { image_id: Self::image_id(&mut inner, image).to_string(), pulled: false })
        })
    }

    fn run_sandbox<'a>(&'a self, plan: &'a SandboxPlan) -> BoxFut<'a, Result<Sandbox, RuntimeError>> {
        Box::pin(async move {
            let mut inner = self.shared.inner.lock();
            if let Some(id) = inner.sandboxes.get(&plan.pod_uid) {
                if let Some(r) = inner.records.get(id) {
                    if r.life == Life::Running {
                        let ip = r.ip.map(|ip| ip.to_string()).unwrap_or_default();
                        return Ok(Sandbox { id: id.clone(), ip });
                    }
                }
            }
            inner.next_id += 1;
            inner.next_ip += 1;
            let id = format!("hollow-{:012x}", inner.next_id);
            let ip = Ipv4Addr::from(self.shared.ip_base.wrapping_add(inner.next_ip));
            let pod = Arc::new(PodMeta {
                uid: plan.pod_uid.clone(),
                name: plan.pod_name.clone(),
                namespace: plan.namespace.clone(),
                node: plan.node.clone(),
            });
            let image_id = Self::image_id(&mut inner, "hollow/pause");
            let mut rec = Record {
                pod,
                name: None,
                role: None,
                attempt: 0,
                exits_with: None,
                ip: Some(ip),
                life: Life::Created,
                started_at: None,
                finished_at: None,
                image_id,
                notify: None,
            };
            rec.set_life(Life::Running);
            inner.records.insert(id.clone(), rec);
            inner.sandboxes.insert(plan.pod_uid.clone(), id.clone());
            let ip = if plan.host_network { String::new() } else { ip.to_string() };
            Ok(Sandbox { id, ip })
        })
    }

    fn create_container<'a>(
        &'a self,
        sandbox: &'a Sandbox,
        plan: &'a ContainerPlan,
    ) -> BoxFut<'a, Result<String, RuntimeError>> {
        Box::pin(async move {
            if plan.image.contains("missing") {
                return Err(RuntimeError::Create(format!("No such image: {}", plan.image)));
            }
            let mut inner = self.shared.inner.lock();
            let pod = match inner.records.get(&sandbox.id) {
                Some(r) if r.life == Life::Running => r.pod.clone(),
                _ => return Err(RuntimeError::Create(format!("sandbox {} is not running", sandbox.id))),
            };
            inner.next_id += 1;
            let id = format!("hollow-{:012x}", inner.next_id);
            let image_id = Self::image_id(&mut inner, &plan.image);
            let exits_with = if plan.image.contains("succeed") {
                Some(0)
            } else if plan.image.contains("fail") {
                Some(1)
            } else {
                None
            };
            inner.records.insert(
                id.clone(),
                Record {
                    pod,
                    name: Some(plan.name.as_str().into()),
                    role: Some(plan.role),
                    attempt: plan.attempt,
                    exits_with,
                    ip: None,
                    life: Life::Created,
                    started_at: None,
                    finished_at: None,
                    image_id,
                    notify: None,
                },
            );
            Ok(id)
        })
    }

    fn start_container<'a>(&'a self, id: &'a str) -> BoxFut<'a, Result<(), RuntimeError>> {
        Box::pin(async move {
            match self.shared.inner.lock().records.get(id) {
                None => return Err(not_found(id)),
                Some(r) if r.life != Life::Created => {
                    return Err(RuntimeError::Start(format!("container {id} is not in the created state")))
                }
                Some(_) => {}
            }
            if !self.shared.start_delay.is_zero() {
                tokio::time::sleep(self.shared.start_delay).await;
            }
            let mut inner = self.shared.inner.lock();
            let r = inner.records.get_mut(id).ok_or_else(|| not_found(id))?;
            if r.life != Life::Created {
                return Err(RuntimeError::Start(format!("container {id} was stopped while starting")));
            }
            r.set_life(Life::Running);
            if let Some(code) = r.exits_with {
                r.set_life(Life::Exited(code));
            }
            Ok(())
        })
    }

    fn inspect_container<'a>(&'a self, id: &'a str) -> BoxFut<'a, Result<ContainerState, RuntimeError>> {
        Box::pin(
            async move { self.shared.inner.lock().records.get(id).map(|r| r.state(id)).ok_or_else(|| not_found(id)) },
        )
    }

    fn wait_container<'a>(&'a self, id: &'a str) -> BoxFut<'a, Result<ContainerState, RuntimeError>> {
        Box::pin(async move {
            loop {
                let notify = {
                    let mut inner = self.shared.inner.lock();
                    let r = inner.records.get_mut(id).ok_or_else(|| not_found(id))?;
                    if r.life != Life::Running {
                        return Ok(r.state(id));
                    }
                    r.notify.get_or_insert_with(|| Arc::new(Notify::new())).clone()
                };
                let notified = notify.notified();
                tokio::pin!(notified);
                // Register before re-checking, so a change between the unlock
                // and here is not missed.
                notified.as_mut().enable();
                {
                    let inner = self.shared.inner.lock();
                    match inner.records.get(id) {
                        None => return Err(not_found(id)),
                        Some(r) if r.life != Life::Running => return Ok(r.state(id)),
                        Some(_) => {}
                    }
                }
                notified.await;
            }
        })
    }

    fn stop_container<'a>(&'a self, id: &'a str, _grace: Duration) -> BoxFut<'a, Result<(), RuntimeError>> {
        Box::pin(async move {
            let mut inner = self.shared.inner.lock();
            let r = inner.records.get_mut(id).ok_or_else(|| not_found(id))?;
            match r.life {
                Life::Running => r.set_life(Life::Exited(SIGTERM_EXIT)),
                Life::Created => r.set_life(Life::Exited(SIGKILL_EXIT)),
                Life::Exited(_) => {}
            }
            Ok(())
        })
    }

    fn remove_container<'a>(&'a self, id: &'a str) -> BoxFut<'a, Result<(), RuntimeError>> {
        Box::pin(async move {
            let mut inner = self.shared.inner.lock();
            match inner.records.get(id) {
                None => Err(not_found(id)),
                Some(r) if r.life == Life::Running => {
                    Err(RuntimeError::Engine(format!("cannot remove container {id}: container is running")))
                }
                Some(r) => {
                    let sandbox_of = if r.name.is_none() { Some(r.pod.uid.clone()) } else { None };
                    if let Some(n) = inner.records.remove(id).and_then(|r| r.notify) {
                        n.notify_waiters();
                    }
                    if let Some(uid) = sandbox_of {
                        if inner.sandboxes.get(&uid).is_some_and(|s| s == id) {
                            inner.sandboxes.remove(&uid);
                        }
                    }
                    Ok(())
                }
            }
        })
    }

    fn remove_pod<'a>(&'a self, pod_uid: &'a str) -> BoxFut<'a, Result<(), RuntimeError>> {
        Box::pin(async move {
            let mut inner = self.shared.inner.lock();
            inner.records.retain(|_, r| {
                if r.pod.uid != pod_uid {
                    return true;
                }
                if !matches!(r.life, Life::Exited(_)) {
                    r.set_life(Life::Exited(SIGKILL_EXIT));
                } else if let Some(n) = &r.notify {
                    n.notify_waiters();
                }
                false
            });
            inner.sandboxes.remove(pod_uid);
            Ok(())
        })
    }

    fn list<'a>(&'a self, node: &'a str) -> BoxFut<'a, Result<Vec<Found>, RuntimeError>> {
        Box::pin(async move {
            let inner = self.shared.inner.lock();
            Ok(inner
                .records
                .iter()
                .filter(|(_, r)| r.pod.node == node)
                .map(|(id, r)| Found {
                    id: id.clone(),
                    pod_uid: r.pod.uid.clone(),
                    pod_name: r.pod.name.clone(),
                    namespace: r.pod.namespace.clone(),
                    container: r.name.as_deref().map(str::to_string),
                    role: r.role,
                    attempt: r.attempt,
                    running: r.life == Life::Running,
                    ip: r.ip.map(|ip| ip.to_string()).unwrap_or_default(),
                })
                .collect())
        })
    }

    fn exec<'a>(
        &'a self,
        id: &'a str,
        cmd: &'a [String],
        _timeout: Duration,
    ) -> BoxFut<'a, Result<ExecOutput, RuntimeError>> {
        Box::pin(async move {
            match self.shared.inner.lock().records.get(id) {
                None => return Err(not_found(id)),
                Some(r) if r.life != Life::Running => {
                    return Err(RuntimeError::Engine(format!("container {id} is not running")))
                }
                Some(_) => {}
            }
            let code = if cmd.first().is_some_and(|c| c == "false") { 1 } else { 0 };
            Ok(ExecOutput { exit_code: Some(code), stdout: Vec::new(), stderr: Vec::new() })
        })
    }

    fn exec_session<'a>(
        &'a self,
        id: &'a str,
        cmd: &'a [String],
        stdin: bool,
        tty: bool,
    ) -> BoxFut<'a, Result<ExecSession, RuntimeError>> {
        Box::pin(async move {
            let out = self.exec(id, cmd, Duration::ZERO).await?;
            let (_out_tx, output) = mpsc::channel(1);
            let (exit_tx, exit) = oneshot::channel();
            let _ = exit_tx.send(Ok(out.exit_code.unwrap_or(0)));
            let stdin = stdin.then(|| mpsc::channel(1).0);
            let resize = tty.then(|| mpsc::channel(1).0);
            Ok(ExecSession { stdin, output, resize, exit })
        })
    }

    fn logs<'a>(&'a self, id: &'a str, opts: &'a LogOptions) -> BoxFut<'a, Result<LogStream, RuntimeError>> {
        Box::pin(async move {
            let (line, running) = {
                let inner = self.shared.inner.lock();
                let r = inner.records.get(id).ok_or_else(|| not_found(id))?;
                let mut line = format!("hollow {}\n", r.name.as_deref().unwrap_or("sandbox"));
                if opts.timestamps {
                    line = format!("{} {line}", r.started_at.map(rfc3339).unwrap_or_default());
                }
                (line, r.life == Life::Running)
            };
            let first = if opts.tail_lines == Some(0) { None } else { Some(Ok(Bytes::from(line))) };
            let head = futures::stream::iter(first);
            if !(opts.follow && running) {
                return Ok(head.boxed());
            }
            let this = self.clone();
            let id = id.to_string();
            let tail = futures::stream::once(async move {
                let _ = this.wait_container(&id).await;
            })
            .filter_map(|()| async { None });
            Ok(head.chain(tail).boxed())
        })
    }

    fn capacity<'a>(&'a self) -> BoxFut<'a, Result<(u32, u64), RuntimeError>> {
        Box::pin(async move { Ok(self.shared.capacity) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox_plan(uid: &str) -> SandboxPlan {
        SandboxPlan {
            pod_uid: uid.into(),
            pod_name: format!("p-{uid}"),
            namespace: "default".into(),
            node: "n1".into(),
            hostname: "p".into(),
            host_network: false,
            host_aliases: vec![],
            host_ports: vec![],
        }
    }

    pub(super) fn plan_pub(uid: &str, name: &str, image: &str) -> ContainerPlan {
        plan(uid, name, image, 0)
    }

    fn plan(uid: &str, name: &str, image: &str, attempt: u32) -> ContainerPlan {
        ContainerPlan {
            pod_uid: uid.into(),
            pod_name: format!("p-{uid}"),
            namespace: "default".into(),
            node: "n1".into(),
            name: name.into(),
            role: Role::App,
            attempt,
            image: image.into(),
            command: None,
            args: None,
            env: vec![],
            working_dir: None,
            mounts: vec![],
            memory_limit: None,
            nano_cpus: None,
            cpu_shares: None,
            stdin: false,
            tty: false,
            termination_message_path: None,
        }
    }

    #[tokio::test]
    async fn lifecycle_and_waiters() {
        let rt = HollowRuntime::new(Duration::ZERO);
        let sb = rt.run_sandbox(&sandbox_plan("u1")).await.unwrap();
        assert_eq!(sb.ip, "10.250.0.1");
        assert_eq!(rt.run_sandbox(&sandbox_plan("u1")).await.unwrap(), sb, "idempotent per pod");
        assert_eq!(rt.run_sandbox(&sandbox_plan("u2")).await.unwrap().ip, "10.250.0.2");
        let id = rt.create_container(&sb, &plan("u1", "web", "nginx", 0)).await.unwrap();
        rt.start_container(&id).await.unwrap();
        assert!(rt.inspect_container(&id).await.unwrap().running);
        let rt2 = rt.clone();
        let id2 = id.clone();
        let waiter = tokio::spawn(async move { rt2.wait_container(&id2).await });
        tokio::task::yield_now().await;
        rt.stop_container(&id, Duration::from_secs(30)).await.unwrap();
        let st = waiter.await.unwrap().unwrap();
        assert_eq!(st.exit_code, Some(143));
        assert!(!st.running);
        let found = rt.list("n1").await.unwrap();
        assert_eq!(found.len(), 3);
        let f = found.iter().find(|f| f.id == id).unwrap();
        assert_eq!((f.container.as_deref(), f.role, f.attempt, f.running), (Some("web"), Some(Role::App), 0, false));
        assert!(rt.list("other").await.unwrap().is_empty());
        rt.remove_container(&id).await.unwrap();
        assert_eq!(rt.inspect_container(&id).await, Err(RuntimeError::NotFound(id.clone())));
        rt.remove_pod("u1").await.unwrap();
        assert_eq!(rt.len(), 1);
    }

    #[tokio::test]
    async fn images_exit_codes_exec_and_logs() {
        let rt = HollowRuntime::new(Duration::ZERO);
        assert!(!rt.ensure_image("nginx", PullPolicy::Always).await.unwrap().pulled);
        assert!(matches!(
            rt.ensure_image("missing/x:1", PullPolicy::IfNotPresent).await,
            Err(RuntimeError::Pull { message, .. }) if message.contains("pull access denied for missing/x")
        ));
        assert!(matches!(rt.ensure_image("missing", PullPolicy::Never).await, Err(RuntimeError::NeverPull(_))));
        let sb = rt.run_sandbox(&sandbox_plan("u")).await.unwrap();
        for (image, code) in [("succeed", 0), ("fail", 1)] {
            let id = rt.create_container(&sb, &plan("u", image, image, 0)).await.unwrap();
            rt.start_container(&id).await.unwrap();
            assert_eq!(rt.wait_container(&id).await.unwrap().exit_code, Some(code));
        }
        let id = rt.create_container(&sb, &plan("u", "app", "busybox", 0)).await.unwrap();
        rt.start_container(&id).await.unwrap();
        let t = Duration::from_secs(1);
        assert_eq!(rt.exec(&id, &["true".into()], t).await.unwrap().exit_code, Some(0));
        assert_eq!(rt.exec(&id, &["false".into()], t).await.unwrap().exit_code, Some(1));
        let logs: Vec<_> = rt.logs(&id, &LogOptions::default()).await.unwrap().collect().await;
        assert_eq!(logs, vec![Ok(Bytes::from("hollow app\n"))]);
        assert!(rt.remove_container(&id).await.is_err(), "running containers are not removed");
    }

    #[tokio::test(start_paused = true)]
    async fn start_delay_is_taken() {
        let rt = HollowRuntime::new(Duration::from_secs(2));
        let sb = rt.run_sandbox(&sandbox_plan("u")).await.unwrap();
        let id = rt.create_container(&sb, &plan("u", "a", "img", 0)).await.unwrap();
        let t0 = tokio::time::Instant::now();
        rt.start_container(&id).await.unwrap();
        assert!(t0.elapsed() >= Duration::from_secs(2));
        assert!(rt.inspect_container(&id).await.unwrap().running);
    }
}
#[cfg(test)]
mod mem {
    use super::*;

    fn rss_kib() -> u64 {
        let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        s.lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// 150,000 hollow pods (sandbox + one running container each) stay
    /// within 300 MiB. Ignored by default: RSS is process-wide, so run it
    /// alone (`cargo test --lib hollow_scale -- --ignored --nocapture`).
    #[tokio::test]
    #[ignore = "memory check; run alone"]
    async fn hollow_scale() {
        let before = rss_kib();
        let rt = HollowRuntime::new(Duration::ZERO);
        for i in 0..150_000 {
            let uid = format!("00000000-0000-0000-0000-{i:012}");
            let sp = SandboxPlan {
                pod_uid: uid.clone(),
                pod_name: format!("pod-{i}"),
                namespace: "default".into(),
                node: "node-1".into(),
                hostname: String::new(),
                host_network: false,
                host_aliases: vec![],
                host_ports: vec![],
            };
            let sb = rt.run_sandbox(&sp).await.unwrap();
            let id = rt.create_container(&sb, &tests::plan_pub(&uid, "app", "nginx:1")).await.unwrap();
            rt.start_container(&id).await.unwrap();
        }
        let used = rss_kib().saturating_sub(before);
        println!("150000 hollow pods: {} MiB", used >> 10);
        assert_eq!(rt.len(), 300_000);
        assert!(used < 300 << 10, "hollow runtime uses {} MiB", used >> 10);
    }
}
