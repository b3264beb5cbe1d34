//! Test harness: a hollow runtime (recording container plans), in-memory
//! ConfigMaps/Secrets, and helpers that wait for reports with a deadline.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, PodSpec, PodStatus, Secret};
use node_agent::pod::{spawn, PodEvent, Report, Sources, WorkerContext, WorkerHandle};
use node_agent::runtime::hollow::HollowRuntime;
use node_agent::runtime::*;
use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub const NODE: &str = "node-1";
pub const DEADLINE: Duration = Duration::from_secs(900);

#[derive(Default)]
pub struct MapSources {
    pub config_maps: Mutex<HashMap<String, ConfigMap>>,
    pub secrets: Mutex<HashMap<String, Secret>>,
}

impl Sources for MapSources {
    fn config_map<'a>(&'a self, _ns: &'a str, name: &'a str) -> BoxFut<'a, Result<Option<ConfigMap>, String>> {
        Box::pin(async move { Ok(self.config_maps.lock().get(name).cloned()) })
    }
    fn secret<'a>(&'a self, _ns: &'a str, name: &'a str) -> BoxFut<'a, Result<Option<Secret>, String>> {
        Box::pin(async move { Ok(self.secrets.lock().get(name).cloned()) })
    }
}

/// Hollow, plus a record of every container plan it was given.
pub struct Recording {
    pub inner: HollowRuntime,
    pub plans: Mutex<Vec<ContainerPlan>>,
}

impl Runtime for Recording {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn ensure_image<'a>(&'a self, image: &'a str, policy: PullPolicy) -> BoxFut<'a, Result<ImageReady, RuntimeError>> {
        self.inner.ensure_image(image, policy)
    }
    fn run_sandbox<'a>(&'a self, plan: &'a SandboxPlan) -> BoxFut<'a, Result<Sandbox, RuntimeError>> {
        self.inner.run_sandbox(plan)
    }
    fn create_container<'a>(
        &'a self,
        sb: &'a Sandbox,
        plan: &'a ContainerPlan,
    ) -> BoxFut<'a, Result<String, RuntimeError>> {
        self.plans.lock().push(plan.clone());
        self.inner.create_container(sb, plan)
    }
    fn start_container<'a>(&'a self, id: &'a str) -> BoxFut<'a, Result<(), RuntimeError>> {
        self.inner.start_container(id)
    }
    fn inspect_container<'a>(&'a self, id: &'a str) -> BoxFut<'a, Result<ContainerState, RuntimeError>> {
        self.inner.inspect_container(id)
    }
    fn wait_container<'a>(&'a self, id: &'a str) -> BoxFut<'a, Result<ContainerState, RuntimeError>> {
        self.inner.wait_container(id)
    }
    fn stop_container<'a>(&'a self, id: &'a str, grace: Duration) -> BoxFut<'a, Result<(), RuntimeError>> {
        self.inner.stop_container(id, grace)
    }
    fn remove_container<'a>(&'a self, id: &'a str) -> BoxFut<'a, Result<(), RuntimeError>> {
        self.inner.remove_container(id)
    }
    fn remove_pod<'a>(&'a self, uid: &'a str) -> BoxFut<'a, Result<(), RuntimeError>> {
        self.inner.remove_pod(uid)
    }
    fn list<'a>(&'a self, node: &'a str) -> BoxFut<'a, Result<Vec<Found>, RuntimeError>> {
        self.inner.list(node)
    }
    fn exec<'a>(&'a self, id: &'a str, cmd: &'a [String], t: Duration) -> BoxFut<'a, Result<ExecOutput, RuntimeError>> {
        self.inner.exec(id, cmd, t)
    }
    fn exec_session<'a>(
        &'a self,
        id: &'a str,
        cmd: &'a [String],
        stdin: bool,
        tty: bool,
    ) -> BoxFut<'a, Result<ExecSession, RuntimeError>> {
        self.inner.exec_session(id, cmd, stdin, tty)
    }
    fn logs<'a>(&'a self, id: &'a str, opts: &'a LogOptions) -> BoxFut<'a, Result<LogStream, RuntimeError>> {
        self.inner.logs(id, opts)
    }
    fn capacity<'a>(&'a self) -> BoxFut<'a, Result<(u32, u64), RuntimeError>> {
        self.inner.capacity()
    }
}

pub struct Harness {
    pub rt: Arc<Recording>,
    pub sources: Arc<MapSources>,
    pub ctx: Arc<WorkerContext>,
    pub rx: mpsc::Receiver<Report>,
    pub tracker: TaskTracker,
    pub shutdown: CancellationToken,
    /// Every report seen so far, in order.
    pub seen: Vec<Report>,
    pub tmp: tempfile::TempDir,
}

impl Harness {
    pub fn new() -> Self {
        let rt = Arc::new(Recording { inner: HollowRuntime::new(Duration::ZERO), plans: Mutex::new(Vec::new()) });
        let sources = Arc::new(MapSources::default());
        let (tx, rx) = mpsc::channel(1024);
        let tmp = tempfile::tempdir().expect("tempdir");
        let ctx = Arc::new(WorkerContext {
            runtime: rt.clone(),
            node: NODE.into(),
            host_ip: "192.168.7.1".into(),
            root: tmp.path().to_path_buf(),
            sources: sources.clone(),
            reports: tx,
        });
        Harness {
            rt,
            sources,
            ctx,
            rx,
            tracker: TaskTracker::new(),
            shutdown: CancellationToken::new(),
            seen: Vec::new(),
            tmp,
        }
    }

    pub fn spawn(&self, pod: &Pod) -> WorkerHandle {
        spawn(self.ctx.clone(), pod.clone(), Vec::new(), &self.tracker, self.shutdown.clone())
    }

    async fn next(&mut self) -> Report {
        let r =
            tokio::time::timeout(DEADLINE, self.rx.recv()).await.expect("no report before the deadline").expect("open");
        self.seen.push(r.clone());
        r
    }

    /// Wait for a status of `uid` matching `pred`.
    pub async fn must_status(&mut self, uid: &str, pred: impl Fn(&PodStatus) -> bool) -> PodStatus {
        loop {
            if let Report::Status { uid: u, status, .. } = self.next().await {
                if u == uid && pred(&status) {
                    return status;
                }
            }
        }
    }

    /// Wait for an event with `reason` (and a message containing `text`).
    pub async fn must_event(&mut self, reason: &str, text: &str) -> PodEvent {
        loop {
            if let Report::Event(e) = self.next().await {
                if e.reason == reason && e.message.contains(text) {
                    return e;
                }
            }
        }
    }

    /// Wait for the Terminated report of `uid`.
    pub async fn must_terminated(&mut self, uid: &str) -> PodStatus {
        loop {
            if let Report::Terminated { uid: u, status, .. } = self.next().await {
                if u == uid {
                    return status;
                }
            }
        }
    }

    pub fn events(&self, reason: &str) -> Vec<PodEvent> {
        self.seen
            .iter()
            .filter_map(|r| match r {
                Report::Event(e) if e.reason == reason => Some(e.clone()),
                _ => None,
            })
            .collect()
    }

    /// Poll `cond` until true or the deadline.
    pub async fn must_eventually(&self, what: &str, cond: impl Fn() -> bool) {
        let start = tokio::time::Instant::now();
        while !cond() {
            assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn containers_of(&self, uid: &str) -> Vec<Found> {
        self.rt.list(NODE).await.expect("list").into_iter().filter(|f| f.pod_uid == uid).collect()
    }
}

pub fn container(name: &str, image: &str) -> Container {
    Container {
        name: name.into(),
        image: Some(image.into()),
        image_pull_policy: Some("IfNotPresent".into()),
        ..Default::default()
    }
}

pub fn pod(name: &str, policy: &str, containers: Vec<Container>) -> Pod {
    let mut p = Pod::default();
    p.metadata.name = Some(name.into());
    p.metadata.namespace = Some("default".into());
    p.metadata.uid = Some(format!("uid-{name}"));
    p.spec = Some(PodSpec {
        containers,
        restart_policy: Some(policy.into()),
        node_name: Some(NODE.into()),
        ..Default::default()
    });
    p
}

pub fn uid(p: &Pod) -> String {
    p.metadata.uid.clone().expect("uid")
}

pub fn phase(s: &PodStatus) -> &str {
    s.phase.as_deref().unwrap_or("")
}

pub fn condition<'a>(s: &'a PodStatus, ty: &str) -> &'a str {
    s.conditions.as_ref().and_then(|c| c.iter().find(|c| c.type_ == ty)).map(|c| c.status.as_str()).unwrap_or("")
}

pub fn waiting_reason(s: &PodStatus, i: usize) -> Option<String> {
    s.container_statuses.as_ref()?.get(i)?.state.as_ref()?.waiting.as_ref()?.reason.clone()
}

pub fn restarts(s: &PodStatus, i: usize) -> i32 {
    s.container_statuses.as_ref().and_then(|c| c.get(i)).map(|c| c.restart_count).unwrap_or(-1)
}
