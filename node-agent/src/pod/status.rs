//! Pure computation of a pod's `status` from the worker's view of it.
//!
//! Guarantees (Kubernetes' rules, as the kubelet applies them):
//! - Phase: `Failed` when an init container failed under `restartPolicy:
//!   Never`; `Pending` while init containers are incomplete or an app
//!   container waits without having run; `Running` while an app container
//!   runs (or all stopped but will restart); `Succeeded` when all app
//!   containers exited 0 and will not restart; `Failed` otherwise. A pod
//!   whose deletion finished (`terminal`) is `Succeeded` or `Failed`.
//! - Conditions in kubectl's order: PodReadyToStartContainers,
//!   Initialized, Ready, ContainersReady, PodScheduled; a condition keeps
//!   its `lastTransitionTime` while its status is unchanged.
//! - Container statuses in spec order; `containerID` is
//!   `<runtime>://<id>`; `restartCount` is the attempt number.

use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting, ContainerStatus, HostIP,
    PodCondition, PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Why a container that exited ended, as the status reason.
pub fn exit_reason(exit_code: i64, oom_killed: bool) -> &'static str {
    if oom_killed {
        "OOMKilled"
    } else if exit_code == 0 {
        "Completed"
    } else {
        "Error"
    }
}

/// A finished run of a container.
#[derive(Debug, Clone, PartialEq)]
pub struct Terminated {
    /// Exit code.
    pub exit_code: i32,
    /// `Completed`, `Error`, `OOMKilled`, `ContainerCannotRun`.
    pub reason: String,
    /// Engine error, if any.
    pub message: Option<String>,
    /// Start time.
    pub started_at: Option<Time>,
    /// Finish time.
    pub finished_at: Option<Time>,
    /// `<runtime>://<id>`.
    pub container_id: Option<String>,
}

/// A container's current state.
#[derive(Debug, Clone, PartialEq)]
pub enum CState {
    /// Not running: reason such as `ContainerCreating`, `CrashLoopBackOff`.
    Waiting {
        /// Reason.
        reason: &'static str,
        /// Message, if any.
        message: Option<String>,
    },
    /// Running since.
    Running {
        /// Start time.
        started_at: Time,
    },
    /// Exited and will not be restarted (or not yet).
    Terminated(Terminated),
}

/// The worker's view of one container.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerView {
    /// Container name.
    pub name: String,
    /// Image from the spec.
    pub image: String,
    /// Image id once known.
    pub image_id: String,
    /// `<runtime>://<id>` of the current (or last) container.
    pub container_id: Option<String>,
    /// Current state.
    pub state: CState,
    /// The previous run, after a restart.
    pub last_terminated: Option<Terminated>,
    /// Restarts so far.
    pub restart_count: i32,
    /// `ready` as reported: passed readiness while running (an init
    /// container: completed successfully).
    pub ready: bool,
    /// Passed startup.
    pub started: bool,
}

impl ContainerView {
    /// A container that has not been created yet, waiting with `reason`.
    pub fn waiting(name: &str, image: &str, reason: &'static str) -> Self {
        ContainerView {
            name: name.to_string(),
            image: image.to_string(),
            image_id: String::new(),
            container_id: None,
            state: CState::Waiting { reason, message: None },
            last_terminated: None,
            restart_count: 0,
            ready: false,
            started: false,
        }
    }

    fn succeeded(&self) -> bool {
        matches!(&self.state, CState::Terminated(t) if t.exit_code == 0)
    }
}

/// The worker's view of the pod.
#[derive(Debug, Clone, Copy)]
pub struct PodView<'a> {
    /// `spec.restartPolicy` ("Always" when unset).
    pub restart_policy: &'a str,
    /// A sandbox runs.
    pub sandbox_ready: bool,
    /// The pod IP, once known.
    pub pod_ip: Option<&'a str>,
    /// The node IP.
    pub host_ip: &'a str,
    /// When the worker first acknowledged the pod.
    pub start_time: Option<&'a Time>,
    /// Init containers, spec order.
    pub init: &'a [ContainerView],
    /// App containers, spec order.
    pub apps: &'a [ContainerView],
    /// The pod's deletion finished (no container will run again).
    pub terminal: bool,
    /// `status.qosClass` to keep (set by the API server).
    pub qos_class: Option<&'a str>,
}

/// The pod phase.
pub fn phase(v: &PodView<'_>) -> &'static str {
    let never = v.restart_policy == "Never";
    let pending_init = v.init.iter().filter(|c| !c.succeeded()).count();
    let failed_init = never && v.init.iter().any(|c| matches!(&c.state, CState::Terminated(t) if t.exit_code != 0));
    if pending_init > 0 {
        return if failed_init || v.terminal { "Failed" } else { "Pending" };
    }
    let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for c in v.apps {
        match &c.state {
            CState::Running { .. } => running += 1,
            CState::Terminated(t) => {
                stopped += 1;
                if t.exit_code == 0 {
                    succeeded += 1;
                }
            }
            CState::Waiting { .. } if c.last_terminated.is_some() => stopped += 1,
            CState::Waiting { .. } => waiting += 1,
        }
    }
    if v.terminal {
        return if running == 0 && waiting == 0 && stopped == succeeded { "Succeeded" } else { "Failed" };
    }
    if waiting > 0 {
        "Pending"
    } else if running > 0 {
        "Running"
    } else if stopped > 0 {
        if v.restart_policy != "Never" && v.restart_policy != "OnFailure" {
            "Running"
        } else if stopped == succeeded {
            "Succeeded"
        } else if never {
            "Failed"
        } else {
            "Running"
        }
    } else {
        "Pending"
    }
}

/// Condition types in the order they are reported.
const CONDITIONS: [&str; 5] = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"];

/// The status (`True`?) and transition time of each reported condition,
/// compact, so a worker need not keep its last [`PodStatus`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConditionTimes([Option<(bool, Time)>; 5]);

impl ConditionTimes {
    /// Taken from a reported status.
    pub fn of(status: &PodStatus) -> Self {
        let mut out = ConditionTimes::default();
        for c in status.conditions.iter().flatten() {
            if let (Some(i), Some(t)) = (CONDITIONS.iter().position(|ty| *ty == c.type_), &c.last_transition_time) {
                out.0[i] = Some((c.status == "True", t.clone()));
            }
        }
        out
    }

    fn kept(&self, type_: &str, ok: bool) -> Option<Time> {
        let i = CONDITIONS.iter().position(|ty| *ty == type_)?;
        self.0[i].as_ref().filter(|(s, _)| *s == ok).map(|(_, t)| t.clone())
    }
}

fn condition(
    prev: &ConditionTimes,
    now: &Time,
    type_: &str,
    ok: bool,
    reason: Option<&str>,
    message: Option<String>,
) -> PodCondition {
    let status = if ok { "True" } else { "False" };
    let kept = prev.kept(type_, ok);
    PodCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        last_transition_time: Some(kept.unwrap_or_else(|| now.clone())),
        last_probe_time: None,
        reason: reason.map(str::to_string),
        message,
    }
}

fn terminated_status(t: &Terminated) -> ContainerStateTerminated {
    ContainerStateTerminated {
        container_id: t.container_id.clone(),
        exit_code: t.exit_code,
        finished_at: t.finished_at.clone(),
        message: t.message.clone(),
        reason: Some(t.reason.clone()),
        signal: None,
        started_at: t.started_at.clone(),
    }
}

fn container_status(c: &ContainerView) -> ContainerStatus {
    let state = match &c.state {
        CState::Waiting { reason, message } => ContainerState {
            waiting: Some(ContainerStateWaiting { reason: Some(reason.to_string()), message: message.clone() }),
            ..Default::default()
        },
        CState::Running { started_at } => ContainerState {
            running: Some(ContainerStateRunning { started_at: Some(started_at.clone()) }),
            ..Default::default()
        },
        CState::Terminated(t) => ContainerState { terminated: Some(terminated_status(t)), ..Default::default() },
    };
    let running = matches!(c.state, CState::Running { .. });
    ContainerStatus {
        name: c.name.clone(),
        image: c.image.clone(),
        image_id: c.image_id.clone(),
        container_id: c.container_id.clone(),
        ready: c.ready,
        started: Some(running && c.started),
        restart_count: c.restart_count,
        state: Some(state),
        last_state: Some(
            c.last_terminated
                .as_ref()
                .map(|t| ContainerState { terminated: Some(terminated_status(t)), ..Default::default() })
                .unwrap_or_default(),
        ),
        ..Default::default()
    }
}

fn names(list: impl Iterator<Item = String>) -> String {
    format!("[{}]", list.collect::<Vec<_>>().join(" "))
}

/// The whole pod status; `prev` (the last one reported) keeps condition
/// transition times; `now` stamps changed conditions.
pub fn pod_status(v: &PodView<'_>, prev: Option<&PodStatus>, now: &Time) -> PodStatus {
    pod_status_since(v, &prev.map(ConditionTimes::of).unwrap_or_default(), now)
}

/// [`pod_status`] with the previous conditions in compact form.
pub fn pod_status_since(v: &PodView<'_>, prev: &ConditionTimes, now: &Time) -> PodStatus {
    let phase = phase(v);
    let completed = phase == "Succeeded" || phase == "Failed";
    let incomplete: Vec<&ContainerView> = v.init.iter().filter(|c| !c.succeeded()).collect();
    let initialized = incomplete.is_empty();
    let unready: Vec<&ContainerView> =
        v.apps.iter().filter(|c| !(c.ready && matches!(c.state, CState::Running { .. }))).collect();
    let ready = initialized && unready.is_empty() && !completed;
    let (ready_reason, ready_message) = if completed {
        (Some("PodCompleted"), None)
    } else if ready {
        (None, None)
    } else {
        (
            Some("ContainersNotReady"),
            Some(format!("containers with unready status: {}", names(unready.iter().map(|c| c.name.clone())))),
        )
    };
    let conditions = vec![
        condition(prev, now, "PodReadyToStartContainers", v.sandbox_ready, None, None),
        condition(
            prev,
            now,
            "Initialized",
            initialized,
            (!initialized).then_some("ContainersNotInitialized"),
            (!initialized).then(|| {
                format!("containers with incomplete status: {}", names(incomplete.iter().map(|c| c.name.clone())))
            }),
        ),
        condition(prev, now, "Ready", ready, ready_reason, ready_message.clone()),
        condition(prev, now, "ContainersReady", ready, ready_reason, ready_message),
        condition(prev, now, "PodScheduled", true, None, None),
    ];
    let pod_ip = v.pod_ip.filter(|ip| !ip.is_empty());
    let host_ip = Some(v.host_ip).filter(|ip| !ip.is_empty());
    PodStatus {
        phase: Some(phase.to_string()),
        conditions: Some(conditions),
        host_ip: host_ip.map(str::to_string),
        host_ips: host_ip.map(|ip| vec![HostIP { ip: ip.to_string() }]),
        pod_ip: pod_ip.map(str::to_string),
        pod_ips: pod_ip.map(|ip| vec![PodIP { ip: ip.to_string() }]),
        start_time: v.start_time.cloned(),
        init_container_statuses: (!v.init.is_empty()).then(|| v.init.iter().map(container_status).collect()),
        container_statuses: Some(v.apps.iter().map(container_status).collect()),
        qos_class: v.qos_class.map(str::to_string),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Time {
        Time(chrono::DateTime::from_timestamp(secs, 0).unwrap())
    }

    fn running(name: &str, ready: bool) -> ContainerView {
        ContainerView {
            state: CState::Running { started_at: t(10) },
            ready,
            started: true,
            container_id: Some(format!("hollow://{name}")),
            ..ContainerView::waiting(name, "img", "ContainerCreating")
        }
    }

    fn exited(name: &str, code: i32) -> ContainerView {
        ContainerView {
            state: CState::Terminated(Terminated {
                exit_code: code,
                reason: exit_reason(code.into(), false).into(),
                message: None,
                started_at: Some(t(1)),
                finished_at: Some(t(2)),
                container_id: None,
            }),
            ..ContainerView::waiting(name, "img", "")
        }
    }

    fn crashloop(name: &str) -> ContainerView {
        let mut c = ContainerView::waiting(name, "img", "CrashLoopBackOff");
        if let CState::Terminated(term) = exited(name, 1).state {
            c.last_terminated = Some(term);
        }
        c.restart_count = 2;
        c
    }

    fn view<'a>(policy: &'a str, init: &'a [ContainerView], apps: &'a [ContainerView]) -> PodView<'a> {
        PodView {
            restart_policy: policy,
            sandbox_ready: true,
            pod_ip: Some("10.250.0.1"),
            host_ip: "192.168.0.10",
            start_time: None,
            init,
            apps,
            terminal: false,
            qos_class: Some("BestEffort"),
        }
    }

    #[test]
    fn phases() {
        let creating = [ContainerView::waiting("a", "img", "ContainerCreating")];
        assert_eq!(phase(&view("Always", &[], &creating)), "Pending");
        assert_eq!(phase(&view("Always", &[], &[running("a", true)])), "Running");
        assert_eq!(phase(&view("Always", &[], &[exited("a", 0)])), "Running", "Always restarts");
        assert_eq!(phase(&view("Always", &[], &[crashloop("a")])), "Running", "crash loop keeps Running");
        assert_eq!(phase(&view("Never", &[], &[exited("a", 0), exited("b", 0)])), "Succeeded");
        assert_eq!(phase(&view("Never", &[], &[exited("a", 0), exited("b", 1)])), "Failed");
        assert_eq!(phase(&view("Never", &[], &[running("a", true), exited("b", 1)])), "Running");
        assert_eq!(phase(&view("OnFailure", &[], &[exited("a", 0)])), "Succeeded");
        assert_eq!(phase(&view("OnFailure", &[], &[crashloop("a")])), "Running");
        let pending_init = [ContainerView::waiting("i", "img", "PodInitializing")];
        assert_eq!(phase(&view("Always", &pending_init, &creating)), "Pending");
        assert_eq!(phase(&view("Never", &[exited("i", 1)], &creating)), "Failed");
        assert_eq!(phase(&view("OnFailure", &[exited("i", 1)], &creating)), "Pending", "init will be retried");
        assert_eq!(phase(&view("Always", &[exited("i", 0)], &[running("a", true)])), "Running");
        let killed = [exited("a", 143)];
        let mut done = view("Always", &[], &killed);
        done.terminal = true;
        assert_eq!(phase(&done), "Failed");
        let ok = [exited("a", 0)];
        done.apps = &ok;
        assert_eq!(phase(&done), "Succeeded");
    }

    #[test]
    fn conditions_and_transition_times() {
        let apps = [running("a", true), running("b", false)];
        let s1 = pod_status(&view("Always", &[], &apps), None, &t(100));
        let cond =
            |s: &PodStatus, ty: &str| s.conditions.as_ref().unwrap().iter().find(|c| c.type_ == ty).cloned().unwrap();
        let types: Vec<String> = s1.conditions.as_ref().unwrap().iter().map(|c| c.type_.clone()).collect();
        assert_eq!(types, ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]);
        let r = cond(&s1, "Ready");
        assert_eq!((r.status.as_str(), r.reason.as_deref()), ("False", Some("ContainersNotReady")));
        assert_eq!(r.message.as_deref(), Some("containers with unready status: [b]"));
        assert_eq!(s1.pod_ip.as_deref(), Some("10.250.0.1"));
        assert_eq!(s1.host_ips.as_ref().unwrap()[0].ip, "192.168.0.10");
        // Same status later: times kept.
        let s2 = pod_status(&view("Always", &[], &apps), Some(&s1), &t(200));
        assert_eq!(s1, s2);
        // b turns ready: Ready flips with a new time, PodScheduled keeps its own.
        let apps = [running("a", true), running("b", true)];
        let s3 = pod_status(&view("Always", &[], &apps), Some(&s2), &t(300));
        assert_eq!(cond(&s3, "Ready").status, "True");
        assert_eq!(cond(&s3, "Ready").last_transition_time, Some(t(300)));
        assert_eq!(cond(&s3, "PodScheduled").last_transition_time, Some(t(100)));
        let init = [ContainerView::waiting("setup", "img", "PodInitializing")];
        let s4 = pod_status(&view("Always", &init, &apps), None, &t(1));
        let i = cond(&s4, "Initialized");
        assert_eq!(
            (i.status.as_str(), i.message.as_deref()),
            ("False", Some("containers with incomplete status: [setup]"))
        );
        assert_eq!(cond(&s4, "Ready").status, "False");
        let done = [exited("a", 0)];
        let s5 = pod_status(&view("Never", &[], &done), None, &t(1));
        assert_eq!(cond(&s5, "Ready").reason.as_deref(), Some("PodCompleted"));
    }

    #[test]
    fn container_statuses() {
        let apps = [crashloop("a"), running("b", true)];
        let s = pod_status(&view("Always", &[exited("i", 0)], &apps), None, &t(1));
        let a = &s.container_statuses.as_ref().unwrap()[0];
        assert_eq!(a.restart_count, 2);
        assert!(!a.ready && a.started == Some(false));
        assert_eq!(a.state.as_ref().unwrap().waiting.as_ref().unwrap().reason.as_deref(), Some("CrashLoopBackOff"));
        let last = a.last_state.as_ref().unwrap().terminated.as_ref().unwrap();
        assert_eq!((last.exit_code, last.reason.as_deref()), (1, Some("Error")));
        let b = &s.container_statuses.as_ref().unwrap()[1];
        assert!(b.ready && b.started == Some(true));
        assert_eq!(b.container_id.as_deref(), Some("hollow://b"));
        assert_eq!(b.last_state, Some(ContainerState::default()));
        let i = &s.init_container_statuses.as_ref().unwrap()[0];
        assert_eq!(i.state.as_ref().unwrap().terminated.as_ref().unwrap().reason.as_deref(), Some("Completed"));
        assert_eq!(exit_reason(137, true), "OOMKilled");
    }
}
