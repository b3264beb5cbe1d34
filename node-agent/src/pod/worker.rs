//! The pod worker: one task per pod driving any [`Runtime`] through an
//! explicit state machine (`Prepare → Init(i) → Run → Terminating →
//! Finished`).
//!
//! Guarantees:
//! - Prepare materializes volumes and runs (or adopts) the sandbox,
//!   retrying with back-off (`FailedMount`, `FailedCreatePodSandBox`).
//! - Init containers run one at a time in spec order; a failed one is
//!   restarted per `restartPolicy` (under `Never` the pod fails). App
//!   containers start once all init containers completed.
//! - Every (re)start creates a new container with attempt + 1
//!   (`restartCount` = attempt); the container of two attempts ago is
//!   removed, so the previous run's logs stay readable.
//! - Exits are restarted per `restartPolicy` with `CrashLoopBackOff`
//!   (see `backoff`); failed pulls give `ErrImagePull`, then
//!   `ImagePullBackOff`.
//! - Probes: startup gates liveness/readiness; a failed liveness/startup
//!   probe kills the container (Event `Unhealthy`, `Killing`) and it is
//!   restarted per policy; readiness sets `ready`.
//! - Deletion (`deletionTimestamp`): `preStop` hooks, then every container
//!   is stopped within the remaining grace period, then containers and
//!   volumes are removed and [`Report::Terminated`] is sent.
//! - [`WorkerHandle::remove`]: stop with 2 s grace, remove everything,
//!   report nothing. Shutdown (token cancelled): the task ends and leaves
//!   containers running, so a restarted agent adopts them.
//! - Adoption: containers found by [`Runtime::list`] are taken over with
//!   their ids (a running sandbox and running containers are not
//!   restarted); restart counts continue from the attempt labels.
//! - A status is reported only when it changed; no lock is held across an
//!   await; the task holds one pod object and small per-container records.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Container, Pod, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::backoff::{format_duration, Backoff};
use super::context::{PodEvent, Report, WorkerContext};
use super::env::{self, Facts};
use super::objects::Objects;
use super::plan::{self, Resolved};
use super::probe::{ProbeKind, Probes, Verdict};
use super::probe_run::{self, Action, Outcome};
use super::status::{self, CState, ConditionTimes, ContainerView, PodView, Terminated};
use super::volumes::{self, Materialized};
use crate::runtime::{ContainerState, Found, PullPolicy, Role, RuntimeError, Sandbox};

/// Grace period of [`WorkerHandle::remove`].
const REMOVE_GRACE: Duration = Duration::from_secs(2);
/// Default `terminationGracePeriodSeconds`.
const DEFAULT_GRACE: i64 = 30;
/// How long `ErrImagePull` shows before `ImagePullBackOff`.
const PULL_ERROR_SHOWN: Duration = Duration::from_secs(1);

/// What the handle sends: the newest pod, or removal.
#[derive(Clone)]
struct Cmd {
    pod: Arc<Pod>,
    removed: bool,
}

/// Handle of a running pod worker.
pub struct WorkerHandle {
    cmd: watch::Sender<Cmd>,
    task: JoinHandle<()>,
}

impl WorkerHandle {
    /// A newer version of the pod (spec change, `deletionTimestamp` set).
    /// Versions not yet seen by the worker are coalesced to the newest.
    pub fn update(&self, pod: Pod) {
        self.cmd.send_modify(|c| c.pod = Arc::new(pod));
    }

    /// The pod left this node: stop with 2 s grace, remove containers and
    /// volumes, report nothing.
    pub fn remove(&self) {
        self.cmd.send_modify(|c| c.removed = true);
    }

    /// The task ended (after [`WorkerHandle::remove`], after
    /// [`Report::Terminated`], or on shutdown).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

/// Start the worker of `pod` on `tracker`. `adopted` are the containers
/// [`crate::runtime::Runtime::list`] found for this pod's uid (empty for a
/// new pod). Cancelling `shutdown` ends the task and leaves containers
/// running.
pub fn spawn(
    ctx: Arc<WorkerContext>,
    pod: Pod,
    adopted: Vec<Found>,
    tracker: &TaskTracker,
    shutdown: CancellationToken,
) -> WorkerHandle {
    let pod = Arc::new(pod);
    let (cmd, rx) = watch::channel(Cmd { pod: pod.clone(), removed: false });
    let worker = Worker::new(ctx, pod, adopted);
    let task = tracker.spawn(worker.run(rx, shutdown));
    WorkerHandle { cmd, task }
}

/// The worker's state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Volumes and sandbox (or adoption).
    Prepare,
    /// Running init container `i`.
    Init(usize),
    /// App containers.
    Run,
    /// Deletion requested: stop everything.
    Terminating,
    /// Done; the task ends.
    Finished,
}

/// Runtime bookkeeping of one container (its status lives in a parallel
/// [`ContainerView`]).
#[derive(Debug, Default)]
struct Ctr {
    /// Attempt of the newest created container.
    attempt: Option<u32>,
    /// Engine id of the newest container.
    id: Option<String>,
    /// Engine id of the one before (kept for `--previous` logs).
    prev_id: Option<String>,
    /// A wait is pending on `id` (created and started, or adopted).
    live: bool,
    /// Will not run again.
    done: bool,
    /// Restart even if the policy says no (spec changed).
    force_restart: bool,
    backoff: Backoff,
    pull_backoff: Backoff,
    /// Do not (re)start before.
    retry_at: Option<Instant>,
    /// Turn `ErrImagePull` into `ImagePullBackOff` at.
    flip_at: Option<Instant>,
    /// When the current run started (monotonic).
    started: Option<Instant>,
    probes: Option<Box<Probes>>,
}

/// A container exit seen by a wait.
struct Exit {
    role: Role,
    index: usize,
    id: String,
    result: Result<ContainerState, RuntimeError>,
}

/// A probe run that finished.
struct ProbeDone {
    index: usize,
    id: String,
    kind: ProbeKind,
    outcome: Outcome,
}

struct Worker {
    ctx: Arc<WorkerContext>,
    pod: Arc<Pod>,
    namespace: String,
    name: String,
    uid: String,
    state: State,
    adopted: Vec<Found>,
    sandbox: Option<Sandbox>,
    prep_backoff: Backoff,
    prep_retry: Option<Instant>,
    volumes: Arc<Materialized>,
    init: Vec<Ctr>,
    apps: Vec<Ctr>,
    init_v: Vec<ContainerView>,
    app_v: Vec<ContainerView>,
    /// An init container failed under `restartPolicy: Never`.
    init_failed: bool,
    start_time: Option<Time>,
    /// Fingerprint of the last reported status (statuses are not kept, to
    /// stay small at hollow scale).
    last_hash: Option<u64>,
    /// Condition statuses and transition times of the last report.
    conditions: ConditionTimes,
    waits: FuturesUnordered<BoxFuture<'static, Exit>>,
    probes: FuturesUnordered<BoxFuture<'static, ProbeDone>>,
}

fn now_time() -> Time {
    Time(chrono::Utc::now())
}

fn parse_time(s: Option<&str>) -> Option<Time> {
    chrono::DateTime::parse_from_rfc3339(s?).ok().map(|t| Time(t.with_timezone(&chrono::Utc)))
}

fn containers(pod: &Pod, role: Role) -> &[Container] {
    let spec = pod.spec.as_ref();
    match role {
        Role::Init => spec.and_then(|s| s.init_containers.as_deref()).unwrap_or(&[]),
        Role::App => spec.map(|s| s.containers.as_slice()).unwrap_or(&[]),
    }
}

fn field_path(role: Role, name: &str) -> String {
    match role {
        Role::Init => format!("spec.initContainers{{{name}}}"),
        Role::App => format!("spec.containers{{{name}}}"),
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Worker {
    fn new(ctx: Arc<WorkerContext>, pod: Arc<Pod>, adopted: Vec<Found>) -> Self {
        let init_specs = containers(&pod, Role::Init);
        let app_specs = containers(&pod, Role::App);
        let app_reason = if init_specs.is_empty() { "ContainerCreating" } else { "PodInitializing" };
        let view = |c: &Container, reason| ContainerView::waiting(&c.name, c.image.as_deref().unwrap_or(""), reason);
        let init_v = init_specs.iter().map(|c| view(c, "PodInitializing")).collect();
        let app_v = app_specs.iter().map(|c| view(c, app_reason)).collect();
        let init = init_specs.iter().map(|_| Ctr::default()).collect();
        let apps = app_specs.iter().map(|_| Ctr::default()).collect();
        let start_time = pod.status.as_ref().and_then(|s| s.start_time.clone()).or_else(|| Some(now_time()));
        Worker {
            namespace: pod.metadata.namespace.clone().unwrap_or_else(|| "default".into()),
            name: pod.metadata.name.clone().unwrap_or_default(),
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            ctx,
            pod,
            state: State::Prepare,
            adopted,
            sandbox: None,
            prep_backoff: Backoff::default(),
            prep_retry: None,
            volumes: Arc::new(Materialized::new()),
            init,
            apps,
            init_v,
            app_v,
            init_failed: false,
            start_time,
            last_hash: None,
            conditions: ConditionTimes::default(),
            waits: FuturesUnordered::new(),
            probes: FuturesUnordered::new(),
        }
    }

    async fn run(mut self, mut cmds: watch::Receiver<Cmd>, shutdown: CancellationToken) {
        let mut handle_alive = true;
        loop {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => return,
                _ = Box::pin(self.step()) => {}
            }
            if self.state == State::Finished {
                return;
            }
            Box::pin(self.publish()).await;
            let wake = self.next_wake();
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => return,
                changed = cmds.changed(), if handle_alive => {
                    if changed.is_err() {
                        handle_alive = false;
                        continue;
                    }
                    let cmd = cmds.borrow_and_update().clone();
                    if cmd.removed {
                        tokio::select! {
                            biased;
                            _ = shutdown.cancelled() => {}
                            _ = Box::pin(self.remove()) => {}
                        }
                        return;
                    }
                    Box::pin(self.apply(cmd.pod)).await;
                }
                Some(exit) = self.waits.next(), if !self.waits.is_empty() => Box::pin(self.on_exit(exit)).await,
                Some(done) = self.probes.next(), if !self.probes.is_empty() => Box::pin(self.on_probe(done)).await,
                _ = sleep_until_opt(wake) => {}
            }
        }
    }

    // ----- reporting -------------------------------------------------

    /// Send an Event (the future borrows nothing of the worker).
    fn event(
        &self,
        type_: &'static str,
        reason: &str,
        message: String,
        field_path: Option<String>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let report = pod_event(&self.namespace, &self.name, &self.uid, type_, reason, message, field_path);
        let reports = self.ctx.reports.clone();
        async move {
            let _ = reports.send(report).await;
        }
    }

    fn status(&self, terminal: bool) -> PodStatus {
        let policy = self.pod.spec.as_ref().and_then(|s| s.restart_policy.as_deref()).unwrap_or("Always");
        let view = PodView {
            restart_policy: policy,
            sandbox_ready: self.sandbox.is_some() && !terminal,
            pod_ip: self.sandbox.as_ref().map(|s| s.ip.as_str()),
            host_ip: &self.ctx.host_ip,
            start_time: self.start_time.as_ref(),
            init: &self.init_v,
            apps: &self.app_v,
            terminal,
            qos_class: self.pod.status.as_ref().and_then(|s| s.qos_class.as_deref()),
        };
        status::pod_status_since(&view, &self.conditions, &now_time())
    }

    async fn publish(&mut self) {
        let status = self.status(false);
        let hash = fingerprint(&status);
        if self.last_hash == Some(hash) {
            return;
        }
        self.last_hash = Some(hash);
        self.conditions = ConditionTimes::of(&status);
        let report = Report::Status {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            uid: self.uid.clone(),
            status,
        };
        let _ = self.ctx.reports.send(report).await;
    }

    // ----- the state machine -----------------------------------------

    async fn step(&mut self) {
        loop {
            let before = self.state;
            match self.state {
                State::Prepare => self.prepare().await,
                State::Init(i) => self.step_init(i).await,
                State::Run => self.step_run().await,
                State::Terminating => self.terminate().await,
                State::Finished => return,
            }
            if self.state == before {
                return;
            }
            self.publish().await;
        }
    }

    fn next_wake(&self) -> Option<Instant> {
        let mut wake = None;
        match self.state {
            State::Prepare => wake = self.prep_retry,
            State::Init(i) => {
                if let Some(c) = self.init.get(i).filter(|c| !c.live && !c.done && !self.init_failed) {
                    wake = earliest(c.retry_at, c.flip_at);
                }
            }
            State::Run => {
                for c in &self.apps {
                    if !c.live && !c.done {
                        wake = earliest(wake, earliest(c.retry_at, c.flip_at));
                    }
                    if c.live {
                        wake = earliest(wake, c.probes.as_ref().and_then(|p| p.next_due()));
                    }
                }
            }
            State::Terminating | State::Finished => {}
        }
        wake
    }

    async fn prepare(&mut self) {
        let now = Instant::now();
        if self.prep_retry.is_some_and(|t| t > now) {
            return;
        }
        if let Err((reason, message)) = self.prepare_volumes().await {
            let delay = self.prep_backoff.on_failure(Duration::ZERO).max(Duration::from_secs(1));
            self.prep_retry = Some(now + delay);
            self.event("Warning", reason, message, None).await;
            return;
        }
        let adopted = std::mem::take(&mut self.adopted);
        if let Some(sb) = adopted.iter().find(|f| f.container.is_none() && f.running) {
            self.sandbox = Some(Sandbox { id: sb.id.clone(), ip: sb.ip.clone() });
            self.adopt(&adopted).await;
            return;
        }
        let rt = self.ctx.runtime.clone();
        // Containers of a dead sandbox: keep their attempt numbers, remove them.
        for f in adopted.iter() {
            if let (Some(name), Some(role)) = (&f.container, f.role) {
                if let Some(i) = containers(&self.pod, role).iter().position(|c| &c.name == name) {
                    let ctr = self.ctr_mut(role, i);
                    ctr.attempt = Some(ctr.attempt.map_or(f.attempt, |a| a.max(f.attempt)));
                }
            }
            let _ = rt.stop_container(&f.id, Duration::ZERO).await;
            let _ = rt.remove_container(&f.id).await;
        }
        let plan = plan::sandbox_plan(&self.pod, &self.ctx.node);
        match rt.run_sandbox(&plan).await {
            Ok(sb) => {
                self.sandbox = Some(sb);
                self.prep_backoff.reset();
                self.state = if self.init.is_empty() { State::Run } else { State::Init(0) };
                if self.state == State::Run {
                    self.apps_creating();
                }
            }
            Err(e) => {
                let delay = self.prep_backoff.on_failure(Duration::ZERO).max(Duration::from_secs(1));
                self.prep_retry = Some(now + delay);
                tracing::warn!(pod = %self.key(), error = %e, "sandbox failed");
                self.event("Warning", "FailedCreatePodSandBox", format!("Failed to create pod sandbox: {e}"), None)
                    .await;
            }
        }
    }

    fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Materialize volumes once (re-done after adoption).
    async fn prepare_volumes(&mut self) -> Result<(), (&'static str, String)> {
        if !volumes::has_volumes(&self.pod) || !self.volumes.is_empty() {
            return Ok(());
        }
        let wanted = volumes::wanted(&self.pod);
        let objects = if wanted.is_empty() {
            Objects::default()
        } else {
            Objects::fetch(&*self.ctx.sources, &self.namespace, &wanted).await.map_err(|e| ("FailedMount", e))?
        };
        let root: PathBuf = self.ctx.root.clone();
        let pod = self.pod.clone();
        let result = tokio::task::spawn_blocking(move || volumes::materialize(&root, &pod, &objects))
            .await
            .map_err(|e| ("FailedMount", e.to_string()))?;
        match result {
            Ok(m) => {
                self.volumes = Arc::new(m);
                Ok(())
            }
            Err((volume, e)) => Err(("FailedMount", e.mount_message(&volume))),
        }
    }

    fn apps_creating(&mut self) {
        for (c, v) in self.apps.iter().zip(self.app_v.iter_mut()) {
            if c.attempt.is_none() && matches!(v.state, CState::Waiting { reason: "PodInitializing", .. }) {
                v.state = CState::Waiting { reason: "ContainerCreating", message: None };
            }
        }
    }

    fn ctr_mut(&mut self, role: Role, i: usize) -> &mut Ctr {
        match role {
            Role::Init => &mut self.init[i],
            Role::App => &mut self.apps[i],
        }
    }

    fn slot(&mut self, role: Role, i: usize) -> (&mut Ctr, &mut ContainerView) {
        match role {
            Role::Init => (&mut self.init[i], &mut self.init_v[i]),
            Role::App => (&mut self.apps[i], &mut self.app_v[i]),
        }
    }

    fn push_wait(&mut self, role: Role, index: usize, id: String) {
        let rt = self.ctx.runtime.clone();
        self.waits.push(Box::pin(async move {
            let result = rt.wait_container(&id).await;
            Exit { role, index, id, result }
        }));
    }

    fn container_id(&self, id: &str) -> String {
        format!("{}://{id}", self.ctx.runtime.name())
    }

    /// A finished run from the engine's state; `view` gives the start
    /// time when the engine has none.
    fn terminated(&self, st: &ContainerState, view: Option<&ContainerView>) -> Terminated {
        let code = st.exit_code.unwrap_or(137);
        let started_at = parse_time(st.started_at.as_deref()).or_else(|| match view.map(|v| &v.state) {
            Some(CState::Running { started_at }) => Some(started_at.clone()),
            _ => None,
        });
        Terminated {
            exit_code: i32::try_from(code).unwrap_or(i32::MAX),
            reason: status::exit_reason(code, st.oom_killed).to_string(),
            message: st.error.clone().filter(|e| !e.is_empty()),
            started_at,
            finished_at: parse_time(st.finished_at.as_deref()).or_else(|| Some(now_time())),
            container_id: Some(self.container_id(&st.id)),
        }
    }

    /// Take over the containers found after an agent restart.
    async fn adopt(&mut self, found: &[Found]) {
        let rt = self.ctx.runtime.clone();
        let mut any_app = false;
        for role in [Role::Init, Role::App] {
            let names: Vec<String> = containers(&self.pod, role).iter().map(|c| c.name.clone()).collect();
            for (i, name) in names.iter().enumerate() {
                let mut mine: Vec<&Found> =
                    found.iter().filter(|f| f.role == Some(role) && f.container.as_deref() == Some(name)).collect();
                if mine.is_empty() {
                    continue;
                }
                mine.sort_by_key(|f| std::cmp::Reverse(f.attempt));
                for old in &mine[2.min(mine.len())..] {
                    let _ = rt.remove_container(&old.id).await;
                }
                let latest = mine[0];
                if role == Role::App {
                    any_app = true;
                }
                let cid = self.container_id(&latest.id);
                let prev = match mine.get(1) {
                    Some(p) => rt.inspect_container(&p.id).await.ok(),
                    None => None,
                };
                let st = rt.inspect_container(&latest.id).await;
                let spec = containers(&self.pod, role)[i].clone();
                let last = prev.filter(|p| !p.running).map(|p| self.terminated(&p, None));
                let (ctr, view) = self.slot(role, i);
                ctr.attempt = Some(latest.attempt);
                ctr.id = Some(latest.id.clone());
                ctr.prev_id = mine.get(1).map(|p| p.id.clone());
                view.restart_count = i32::try_from(latest.attempt).unwrap_or(i32::MAX);
                view.container_id = Some(cid);
                view.last_terminated = last;
                match st {
                    Ok(st) if st.running => {
                        view.image_id = st.image_id.clone();
                        view.state = CState::Running {
                            started_at: parse_time(st.started_at.as_deref()).unwrap_or_else(now_time),
                        };
                        ctr.live = true;
                        let now = Instant::now();
                        ctr.started = Some(now);
                        let probes = Probes::for_container(&spec, now);
                        view.ready = probes.ready();
                        view.started = probes.started();
                        ctr.probes = (!probes.is_empty()).then(|| Box::new(probes));
                        self.push_wait(role, i, latest.id.clone());
                    }
                    Ok(st) if role == Role::Init && st.exit_code == Some(0) => {
                        view.image_id = st.image_id.clone();
                        let term = self.terminated(&st, None);
                        let (ctr, view) = self.slot(role, i);
                        ctr.done = true;
                        view.ready = true;
                        view.state = CState::Terminated(term);
                    }
                    Ok(st) => {
                        // Exited while the agent was away: handle like a fresh exit.
                        view.image_id = st.image_id.clone();
                        ctr.live = true;
                        self.push_wait(role, i, latest.id.clone());
                    }
                    Err(e) => {
                        tracing::warn!(pod_uid = %latest.pod_uid, container = %name, error = %e, "adopted container vanished");
                        ctr.id = None;
                    }
                }
            }
        }
        if any_app {
            for (c, v) in self.init.iter_mut().zip(self.init_v.iter_mut()) {
                if !c.done && !c.live {
                    c.done = true;
                    v.ready = true;
                    v.state = CState::Terminated(Terminated {
                        exit_code: 0,
                        reason: "Completed".into(),
                        message: None,
                        started_at: None,
                        finished_at: None,
                        container_id: v.container_id.clone(),
                    });
                }
            }
        }
        self.state = match self.init.iter().position(|c| !c.done) {
            Some(i) if !any_app => State::Init(i),
            _ => State::Run,
        };
        if self.state == State::Run {
            self.apps_creating();
        }
        tracing::info!(pod = %self.key(), containers = found.len(), "adopted");
    }

    async fn step_init(&mut self, i: usize) {
        if self.init_failed {
            return;
        }
        if i >= self.init.len() {
            self.state = State::Run;
            self.apps_creating();
            return;
        }
        if self.init[i].done {
            self.state = if i + 1 < self.init.len() { State::Init(i + 1) } else { State::Run };
            if self.state == State::Run {
                self.apps_creating();
            }
            return;
        }
        let c = &self.init[i];
        if !c.live && !self.init_failed {
            self.maybe_start(Role::Init, i).await;
        }
    }

    async fn step_run(&mut self) {
        for i in 0..self.apps.len() {
            let c = &self.apps[i];
            if !c.live && !c.done {
                self.maybe_start(Role::App, i).await;
            }
        }
        self.dispatch_probes();
    }

    /// Start a container if its back-off allows; flip pull errors to
    /// `ImagePullBackOff` when due.
    async fn maybe_start(&mut self, role: Role, i: usize) {
        let now = Instant::now();
        let image = containers(&self.pod, role)[i].image.clone().unwrap_or_default();
        let (ctr, view) = self.slot(role, i);
        if ctr.flip_at.is_some_and(|t| t <= now) {
            ctr.flip_at = None;
            if matches!(view.state, CState::Waiting { reason: "ErrImagePull", .. }) {
                view.state = CState::Waiting {
                    reason: "ImagePullBackOff",
                    message: Some(format!("Back-off pulling image {image:?}")),
                };
                let fp = field_path(role, &view.name);
                self.event("Normal", "BackOff", format!("Back-off pulling image {image:?}"), Some(fp)).await;
            }
        }
        let ctr = self.ctr_mut(role, i);
        if ctr.retry_at.is_some_and(|t| t > now) {
            return;
        }
        self.start(role, i).await;
    }

    /// Record a failure before the container ran; retry after back-off.
    async fn start_failed(&mut self, role: Role, i: usize, reason: &'static str, message: String) {
        let now = Instant::now();
        let (ctr, view) = self.slot(role, i);
        let delay = ctr.backoff.on_failure(Duration::ZERO);
        ctr.retry_at = Some(now + delay);
        view.state = CState::Waiting { reason, message: Some(message.clone()) };
        view.ready = false;
        let fp = field_path(role, &view.name);
        tracing::info!(pod = %self.key(), reason, error = %message, "container start failed");
        self.event("Warning", "Failed", format!("Error: {message}"), Some(fp)).await;
    }

    async fn start(&mut self, role: Role, i: usize) {
        let Some(sandbox) = self.sandbox.clone() else { return };
        // Show the waiting state while the image is pulled and created.
        self.publish().await;
        let pod = self.pod.clone();
        let c = &containers(&pod, role)[i];
        let image = c.image.clone().unwrap_or_default();
        let fp = field_path(role, &c.name);
        let rt = self.ctx.runtime.clone();
        let policy = plan::pull_policy(c);
        if policy == PullPolicy::Always {
            self.event("Normal", "Pulling", format!("Pulling image {image:?}"), Some(fp.clone())).await;
        }
        let pulled_at = Instant::now();
        match rt.ensure_image(&image, policy).await {
            Ok(ready) => {
                let (ctr, view) = self.slot(role, i);
                ctr.pull_backoff.reset();
                ctr.flip_at = None;
                view.image_id = ready.image_id;
                let msg = if ready.pulled {
                    format!("Successfully pulled image {image:?} in {:?}", pulled_at.elapsed())
                } else {
                    format!("Container image {image:?} already present on machine")
                };
                self.event("Normal", "Pulled", msg, Some(fp.clone())).await;
            }
            Err(e) => {
                let now = Instant::now();
                let (reason, message) = match &e {
                    RuntimeError::NeverPull(_) => (
                        "ErrImageNeverPull",
                        format!("Container image {image:?} is not present with pull policy of Never"),
                    ),
                    _ => ("ErrImagePull", e.to_string()),
                };
                let (ctr, view) = self.slot(role, i);
                let delay = ctr.pull_backoff.on_failure(Duration::ZERO);
                ctr.retry_at = Some(now + delay);
                ctr.flip_at =
                    (reason == "ErrImagePull").then_some(now + PULL_ERROR_SHOWN.min(delay.max(PULL_ERROR_SHOWN)));
                view.state = CState::Waiting { reason, message: Some(message.clone()) };
                self.event("Warning", "Failed", format!("Failed to pull image {image:?}: {e}"), Some(fp.clone())).await;
                self.event("Warning", "Failed", format!("Error: {reason}"), Some(fp)).await;
                return;
            }
        }
        // Environment, command, mounts.
        let wanted = env::wanted(c);
        let objects = if wanted.is_empty() {
            Ok(Objects::default())
        } else {
            Objects::fetch(&*self.ctx.sources, &self.namespace, &wanted).await
        };
        let objects = match objects {
            Ok(o) => o,
            Err(e) => return self.start_failed(role, i, "CreateContainerConfigError", e).await,
        };
        let pod_ip = sandbox.ip.clone();
        let facts = Facts { pod: &pod, pod_ip: &pod_ip, host_ip: &self.ctx.host_ip, node: &self.ctx.node };
        let env = match env::resolve(c, &objects, &facts) {
            Ok(env) => env,
            Err(e) => return self.start_failed(role, i, "CreateContainerConfigError", e.to_string()).await,
        };
        let (command, args) = env::expand_command(c, &env);
        let mounts = match volumes::mounts(c, &self.volumes) {
            Ok(m) => m,
            Err(e) => return self.start_failed(role, i, "CreateContainerConfigError", e.to_string()).await,
        };
        let attempt = self.ctr_mut(role, i).attempt.map_or(0, |a| a + 1);
        let resolved = Resolved { env, command, args, mounts };
        let plan = match plan::container_plan(&pod, c, role, attempt, &self.ctx.node, resolved) {
            Ok(p) => p,
            Err(e) => return self.start_failed(role, i, "CreateContainerConfigError", e.to_string()).await,
        };
        let id = match rt.create_container(&sandbox, &plan).await {
            Ok(id) => id,
            Err(e) => return self.start_failed(role, i, "CreateContainerError", e.to_string()).await,
        };
        let cid = self.container_id(&id);
        let (ctr, view) = self.slot(role, i);
        let old = ctr.prev_id.take();
        ctr.prev_id = ctr.id.replace(id.clone());
        ctr.attempt = Some(attempt);
        view.restart_count = i32::try_from(attempt).unwrap_or(i32::MAX);
        view.container_id = Some(cid);
        if let Some(old) = old {
            if let Err(e) = rt.remove_container(&old).await {
                tracing::debug!(pod = %self.key(), container = %old, error = %e, "removing an old container failed");
            }
        }
        self.event("Normal", "Created", format!("Created container {}", c.name), Some(fp.clone())).await;
        if let Err(e) = rt.start_container(&id).await {
            return self.start_failed(role, i, "RunContainerError", e.to_string()).await;
        }
        let now = Instant::now();
        let probes = if role == Role::App { Probes::for_container(c, now) } else { Probes::default() };
        let (ctr, view) = self.slot(role, i);
        ctr.live = true;
        ctr.started = Some(now);
        ctr.retry_at = None;
        view.state = CState::Running { started_at: now_time() };
        view.ready = probes.ready() && role == Role::App;
        view.started = probes.started();
        ctr.probes = (!probes.is_empty()).then(|| Box::new(probes));
        self.push_wait(role, i, id);
        self.event("Normal", "Started", format!("Started container {}", c.name), Some(fp)).await;
    }

    fn dispatch_probes(&mut self) {
        let now = Instant::now();
        let ip = self.sandbox.as_ref().map(|s| s.ip.clone()).unwrap_or_default();
        let pod = self.pod.clone();
        for i in 0..self.apps.len() {
            let ctr = &mut self.apps[i];
            let (Some(probes), Some(id), true) = (ctr.probes.as_mut(), ctr.id.as_ref(), ctr.live) else { continue };
            for kind in probes.due(now) {
                let c = &containers(&pod, Role::App)[i];
                let spec = match kind {
                    ProbeKind::Startup => &c.startup_probe,
                    ProbeKind::Liveness => &c.liveness_probe,
                    ProbeKind::Readiness => &c.readiness_probe,
                };
                let Some(spec) = spec.as_ref() else { continue };
                let action: Action = probe_run::probe_action(spec, c);
                let Some(state) = probes.get_mut(kind) else { continue };
                state.begin();
                let timeout = state.spec.timeout;
                let rt = self.ctx.runtime.clone();
                let (id, ip) = (id.clone(), ip.clone());
                self.probes.push(Box::pin(async move {
                    let outcome = probe_run::run(&*rt, &id, &ip, &action, timeout).await;
                    ProbeDone { index: i, id, kind, outcome }
                }));
            }
        }
    }

    async fn on_probe(&mut self, done: ProbeDone) {
        let now = Instant::now();
        let Some(ctr) = self.apps.get_mut(done.index) else { return };
        if !ctr.live || ctr.id.as_deref() != Some(done.id.as_str()) {
            return;
        }
        let Some(probes) = ctr.probes.as_mut() else { return };
        let Some(state) = probes.get_mut(done.kind) else { return };
        let verdict = state.record(done.outcome.ok, now);
        let (ready, started) = (probes.ready(), probes.started());
        let view = &mut self.app_v[done.index];
        view.ready = ready;
        view.started = started;
        let name = view.name.clone();
        let fp = Some(field_path(Role::App, &name));
        if !done.outcome.ok {
            let msg = format!("{} probe failed: {}", done.kind.label(), done.outcome.message);
            self.event("Warning", "Unhealthy", msg, fp.clone()).await;
        }
        if verdict == Verdict::Failed && done.kind != ProbeKind::Readiness {
            let which = done.kind.label().to_ascii_lowercase();
            let msg = format!("Container {name} failed {which} probe, will be restarted");
            self.event("Normal", "Killing", msg, fp).await;
            let c = &containers(&self.pod, Role::App)[done.index];
            let probe = if done.kind == ProbeKind::Startup { &c.startup_probe } else { &c.liveness_probe };
            let grace =
                probe.as_ref().and_then(|p| p.termination_grace_period_seconds).unwrap_or_else(|| self.pod_grace());
            let rt = self.ctx.runtime.clone();
            if let Err(e) = rt.stop_container(&done.id, secs(grace)).await {
                tracing::warn!(pod = %self.key(), container = %name, error = %e, "stop after failed probe failed");
            }
        }
    }

    fn pod_grace(&self) -> i64 {
        self.pod.spec.as_ref().and_then(|s| s.termination_grace_period_seconds).unwrap_or(DEFAULT_GRACE)
    }

    async fn on_exit(&mut self, exit: Exit) {
        let Exit { role, index: i, id, result } = exit;
        {
            let ctr = self.ctr_mut(role, i);
            if !ctr.live || ctr.id.as_deref() != Some(id.as_str()) {
                return;
            }
            ctr.live = false;
            ctr.probes = None;
        }
        let st = result.unwrap_or_else(|e| ContainerState {
            id: id.clone(),
            running: false,
            exit_code: Some(137),
            oom_killed: false,
            started_at: None,
            finished_at: None,
            error: Some(e.to_string()),
            image_id: String::new(),
        });
        let view_now = match role {
            Role::Init => self.init_v[i].clone(),
            Role::App => self.app_v[i].clone(),
        };
        let term = self.terminated(&st, Some(&view_now));
        let code = st.exit_code.unwrap_or(137);
        let policy = self.pod.spec.as_ref().and_then(|s| s.restart_policy.clone()).unwrap_or_else(|| "Always".into());
        tracing::debug!(pod = %self.key(), container = %view_now.name, code, "container exited");
        if matches!(self.state, State::Terminating | State::Finished) {
            let (_, view) = self.slot(role, i);
            view.state = CState::Terminated(term);
            view.ready = false;
            return;
        }
        let force = std::mem::take(&mut self.ctr_mut(role, i).force_restart);
        let restart = force
            || match (role, policy.as_str()) {
                (Role::Init, _) if code == 0 => false,
                (_, "Never") => false,
                (_, "OnFailure") => code != 0,
                _ => true,
            };
        if !restart {
            let (ctr, view) = self.slot(role, i);
            ctr.done = true;
            view.ready = role == Role::Init && code == 0;
            view.started = false;
            view.state = CState::Terminated(term);
            if role == Role::Init {
                if code == 0 {
                    if self.state == State::Init(i) {
                        self.state = if i + 1 < self.init.len() { State::Init(i + 1) } else { State::Run };
                        if self.state == State::Run {
                            self.apps_creating();
                        }
                    }
                } else {
                    self.init_failed = true;
                }
            }
            return;
        }
        let now = Instant::now();
        let name = view_now.name.clone();
        let msg_pod = format!("{}_{}({})", self.name, self.namespace, self.uid);
        let (ctr, view) = self.slot(role, i);
        let ran = ctr.started.map(|s| now.saturating_duration_since(s)).unwrap_or_default();
        let delay = if force {
            ctr.backoff.reset();
            Duration::ZERO
        } else {
            ctr.backoff.on_failure(ran)
        };
        ctr.retry_at = Some(now + delay);
        view.last_terminated = Some(term.clone());
        view.ready = false;
        view.started = false;
        if delay.is_zero() {
            view.state = CState::Terminated(term);
        } else {
            view.state = CState::Waiting {
                reason: "CrashLoopBackOff",
                message: Some(format!(
                    "back-off {} restarting failed container={name} pod={msg_pod}",
                    format_duration(delay)
                )),
            };
            let fp = Some(field_path(role, &name));
            self.event(
                "Warning",
                "BackOff",
                format!("Back-off restarting failed container {name} in pod {msg_pod}"),
                fp,
            )
            .await;
        }
    }

    /// A newer pod: deletion, or changed container images.
    async fn apply(&mut self, pod: Arc<Pod>) {
        self.pod = pod;
        if self.pod.metadata.deletion_timestamp.is_some() {
            if !matches!(self.state, State::Terminating | State::Finished) {
                self.state = State::Terminating;
            }
            return;
        }
        let pod = self.pod.clone();
        for (i, c) in containers(&pod, Role::App).iter().enumerate() {
            let image = c.image.clone().unwrap_or_default();
            let Some(view) = self.app_v.get_mut(i) else { break };
            if view.image == image {
                continue;
            }
            view.image = image;
            let ctr = &mut self.apps[i];
            ctr.done = false;
            ctr.retry_at = None;
            ctr.backoff.reset();
            ctr.pull_backoff.reset();
            if let (true, Some(id)) = (ctr.live, ctr.id.clone()) {
                ctr.force_restart = true;
                let msg = format!("Container {} definition changed, will be restarted", c.name);
                self.event("Normal", "Killing", msg, Some(field_path(Role::App, &c.name))).await;
                let _ = self.ctx.runtime.stop_container(&id, secs(self.pod_grace())).await;
            }
        }
    }

    /// Graceful deletion: preStop hooks, stop within the grace period,
    /// remove, report `Terminated`.
    async fn terminate(&mut self) {
        let grace = self
            .pod
            .metadata
            .deletion_grace_period_seconds
            .or_else(|| self.pod.spec.as_ref().and_then(|s| s.termination_grace_period_seconds))
            .unwrap_or(DEFAULT_GRACE);
        let deadline = Instant::now() + secs(grace);
        let ip = self.sandbox.as_ref().map(|s| s.ip.clone()).unwrap_or_default();
        let mut stops = Vec::new();
        for role in [Role::Init, Role::App] {
            let specs = containers(&self.pod, role);
            let ctrs = match role {
                Role::Init => &self.init,
                Role::App => &self.apps,
            };
            for (i, ctr) in ctrs.iter().enumerate() {
                let (true, Some(id)) = (ctr.live, ctr.id.clone()) else { continue };
                let c = &specs[i];
                let hook = if role == Role::App { probe_run::pre_stop_action(c) } else { None };
                stops.push((role, i, id, c.name.clone(), hook));
            }
        }
        let rt = self.ctx.runtime.clone();
        let reports = self.ctx.reports.clone();
        let (ns, pod, uid) = (self.namespace.clone(), self.name.clone(), self.uid.clone());
        let work = stops.iter().map(|(role, _, id, name, hook)| {
            let (rt, ip, reports) = (rt.clone(), ip.clone(), reports.clone());
            let (ns, pod, uid) = (&ns, &pod, &uid);
            async move {
                let ev =
                    |type_, reason, msg| pod_event(ns, pod, uid, type_, reason, msg, Some(field_path(*role, name)));
                if let Some(hook) = hook {
                    let left = deadline.saturating_duration_since(Instant::now());
                    let out = probe_run::run(&*rt, id, &ip, hook, left).await;
                    if !out.ok {
                        let msg = format!("PreStopHook failed: {}", out.message);
                        let _ = reports.send(ev("Warning", "FailedPreStopHook", msg)).await;
                    }
                }
                let _ = reports.send(ev("Normal", "Killing", format!("Stopping container {name}"))).await;
                let left = deadline.saturating_duration_since(Instant::now());
                if let Err(e) = rt.stop_container(id, left).await {
                    tracing::warn!(container = %id, error = %e, "stop failed");
                }
            }
        });
        futures::future::join_all(work).await;
        for (role, i, id, _, _) in &stops {
            let st = rt.inspect_container(id).await.unwrap_or_else(|e| ContainerState {
                id: id.clone(),
                running: false,
                exit_code: Some(137),
                oom_killed: false,
                started_at: None,
                finished_at: None,
                error: Some(e.to_string()),
                image_id: String::new(),
            });
            let view_now = match role {
                Role::Init => self.init_v[*i].clone(),
                Role::App => self.app_v[*i].clone(),
            };
            let term = self.terminated(&st, Some(&view_now));
            let (ctr, view) = self.slot(*role, *i);
            ctr.live = false;
            ctr.probes = None;
            view.state = CState::Terminated(term);
            view.ready = false;
            view.started = false;
        }
        // Containers that never ran end as terminated too, for a final status.
        self.cleanup().await;
        let status = self.status(true);
        let report = Report::Terminated {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            uid: self.uid.clone(),
            status,
        };
        let _ = self.ctx.reports.send(report).await;
        tracing::info!(pod = %self.key(), "terminated");
        self.state = State::Finished;
    }

    /// Remove every container, the sandbox and the volumes.
    async fn cleanup(&mut self) {
        if let Err(e) = self.ctx.runtime.remove_pod(&self.uid).await {
            tracing::warn!(pod = %self.key(), error = %e, "removing the pod's containers failed");
        }
        let root = self.ctx.root.clone();
        let uid = self.uid.clone();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || volumes::remove(&root, &uid)).await {
            tracing::warn!(pod = %self.key(), error = %e, "removing the pod's volumes failed");
        }
    }

    /// The pod left the node: stop quickly, remove everything.
    async fn remove(&mut self) {
        let rt = self.ctx.runtime.clone();
        let ids: Vec<String> =
            self.init.iter().chain(self.apps.iter()).filter(|c| c.live).filter_map(|c| c.id.clone()).collect();
        futures::future::join_all(ids.iter().map(|id| rt.stop_container(id, REMOVE_GRACE))).await;
        self.cleanup().await;
        self.state = State::Finished;
        tracing::info!(pod = %self.key(), "removed");
    }
}

/// A 64-bit fingerprint of a status (its JSON, hashed without building it).
fn fingerprint(status: &PodStatus) -> u64 {
    use std::hash::Hasher;
    struct W(std::collections::hash_map::DefaultHasher);
    impl std::io::Write for W {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.write(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut w = W(std::collections::hash_map::DefaultHasher::new());
    if serde_json::to_writer(&mut w, status).is_err() {
        return 0;
    }
    w.0.finish()
}

fn pod_event(
    namespace: &str,
    pod: &str,
    uid: &str,
    type_: &'static str,
    reason: &str,
    message: String,
    field_path: Option<String>,
) -> Report {
    Report::Event(PodEvent {
        namespace: namespace.to_string(),
        pod: pod.to_string(),
        uid: uid.to_string(),
        type_,
        reason: reason.to_string(),
        message,
        field_path,
    })
}

fn secs(s: i64) -> Duration {
    Duration::from_secs(s.max(0) as u64)
}

async fn sleep_until_opt(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => futures::future::pending().await,
    }
}
