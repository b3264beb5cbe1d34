//! Test-only simulators: in-memory objects that apply the reconcilers' actions the way the
//! runner and API server would (generated names, uids, resourceVersion CAS, JSON round trips
//! that keep whole seconds), with a clock the test steps by hand.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobCondition, JobSpec, JobStatus, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateTerminated, ContainerStatus, Pod, PodCondition, PodSpec, PodStatus,
    PodTemplateSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, Time};
use serde_json::Value;

use crate::controllers::batch::cron::CronError;
use crate::controllers::batch::cronjob::{reconcile_cronjob, CronDecision};
use crate::controllers::batch::job::reconcile_job;
use crate::controllers::batch::job_index::COMPLETION_INDEX_KEY;
use crate::runtime::action::{Action, EventType};

/// The job's status, or an empty one.
pub fn job_status(job: &Job) -> JobStatus {
    job.status.clone().unwrap_or_default()
}

/// RFC 7386 JSON merge patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

fn bump(meta: &mut ObjectMeta) {
    let rv: u64 = meta.resource_version.as_deref().and_then(|v| v.parse().ok()).unwrap_or(0);
    meta.resource_version = Some((rv + 1).to_string());
}

fn check_rv(current: &ObjectMeta, object: &Value) {
    let sent = object["metadata"]["resourceVersion"].as_str();
    assert_eq!(sent, current.resource_version.as_deref(), "CAS write with a stale resourceVersion");
}

fn time(t: DateTime<Utc>) -> Option<Time> {
    Some(Time(t))
}

/// A Job with its pods.
pub struct JobSim {
    /// The job under test.
    pub job: Job,
    /// Pods of the namespace, in creation order.
    pub pods: Vec<Pod>,
    /// (reason, message, type) of every event.
    pub events: Vec<(String, String, EventType)>,
    /// The simulated clock.
    pub now: DateTime<Utc>,
    /// Whether the job was deleted.
    pub job_deleted: bool,
    created: usize,
    last_created: String,
}

impl JobSim {
    /// Job "pi" in "default" with a selector already generated.
    pub fn new(completions: Option<i32>, parallelism: Option<i32>, now: DateTime<Utc>) -> JobSim {
        let labels = [("batch.kubernetes.io/controller-uid".to_string(), "job-uid".to_string())];
        let job = Job {
            metadata: ObjectMeta {
                name: Some("pi".into()),
                namespace: Some("default".into()),
                uid: Some("job-uid".into()),
                resource_version: Some("1".into()),
                creation_timestamp: time(now),
                ..Default::default()
            },
            spec: Some(JobSpec {
                completions,
                parallelism,
                selector: Some(LabelSelector { match_labels: Some(labels.clone().into()), match_expressions: None }),
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta { labels: Some(labels.into()), ..Default::default() }),
                    spec: Some(PodSpec {
                        containers: vec![Container {
                            name: "pi".into(),
                            image: Some("perl".into()),
                            ..Default::default()
                        }],
                        restart_policy: Some("Never".into()),
                        ..Default::default()
                    }),
                },
                ..Default::default()
            }),
            status: None,
        };
        JobSim {
            job,
            pods: Vec::new(),
            events: Vec::new(),
            now,
            job_deleted: false,
            created: 0,
            last_created: String::new(),
        }
    }

    fn spec(&mut self) -> &mut JobSpec {
        self.job.spec.get_or_insert_with(Default::default)
    }

    /// Sets spec.backoffLimit.
    pub fn set_backoff_limit(&mut self, n: i32) {
        self.spec().backoff_limit = Some(n);
    }

    /// Sets spec.activeDeadlineSeconds.
    pub fn set_deadline(&mut self, secs: i64) {
        self.spec().active_deadline_seconds = Some(secs);
    }

    /// Sets spec.ttlSecondsAfterFinished.
    pub fn set_ttl(&mut self, secs: i32) {
        self.spec().ttl_seconds_after_finished = Some(secs);
    }

    /// Sets spec.suspend.
    pub fn set_suspend(&mut self, on: bool) {
        self.spec().suspend = Some(on);
    }

    /// Sets spec.parallelism.
    pub fn set_parallelism(&mut self, n: i32) {
        self.spec().parallelism = Some(n);
    }

    /// Uses Indexed completion mode.
    pub fn set_indexed(&mut self) {
        self.spec().completion_mode = Some("Indexed".into());
    }

    /// Sets the pod template's restartPolicy.
    pub fn set_restart_policy(&mut self, policy: &str) {
        if let Some(s) = self.spec().template.spec.as_mut() {
            s.restart_policy = Some(policy.into());
        }
    }

    /// Moves the clock forward.
    pub fn advance(&mut self, secs: i64) {
        self.now += TimeDelta::seconds(secs);
    }

    /// The pods as the reconciler receives them.
    pub fn pod_arcs(&self) -> Vec<Arc<Pod>> {
        self.pods.iter().cloned().map(Arc::new).collect()
    }

    /// Reconciles and applies every action; returns the actions.
    pub fn step(&mut self) -> Vec<Action> {
        if self.job_deleted {
            return Vec::new();
        }
        let actions = reconcile_job(&self.job, &self.pod_arcs(), self.now);
        for a in &actions {
            self.apply(a);
        }
        actions
    }

    fn apply(&mut self, action: &Action) {
        match action {
            Action::Create { kind: "Pod", object, .. } => self.create_pod(object),
            Action::Delete { kind: "Pod", name, uid, .. } => self
                .pods
                .retain(|p| p.metadata.name.as_ref() != Some(name) || (uid.is_some() && p.metadata.uid != *uid)),
            Action::Patch { kind: "Pod", name, patch, .. } => self.patch_pod(name, patch),
            Action::UpdateStatus { kind: "Job", object, .. } => {
                check_rv(&self.job.metadata, object);
                let updated: Job = serde_json::from_value(object.clone()).expect("job");
                self.job.status = updated.status;
                bump(&mut self.job.metadata);
            }
            Action::Update { kind: "Job", object, .. } => {
                check_rv(&self.job.metadata, object);
                self.job = serde_json::from_value(object.clone()).expect("job");
                bump(&mut self.job.metadata);
            }
            Action::Delete { kind: "Job", .. } => self.job_deleted = true,
            Action::Event { reason, message, event_type, .. } => {
                self.events.push((reason.clone(), message.replace("{name}", &self.last_created), *event_type))
            }
            other => panic!("unexpected action {other:?}"),
        }
    }

    fn create_pod(&mut self, object: &Value) {
        let mut pod: Pod = serde_json::from_value(object.clone()).expect("pod");
        self.created += 1;
        let name = format!("{}{:05}", pod.metadata.generate_name.clone().unwrap_or_default(), self.created);
        pod.metadata.name = Some(name.clone());
        pod.metadata.uid = Some(format!("pod-uid-{}", self.created));
        pod.metadata.resource_version = Some("1".into());
        pod.metadata.creation_timestamp = time(self.now);
        pod.status = Some(PodStatus { phase: Some("Pending".into()), ..Default::default() });
        self.last_created = name;
        self.pods.push(pod);
    }

    fn patch_pod(&mut self, name: &str, patch: &Value) {
        let pod = self.pods.iter_mut().find(|p| p.metadata.name.as_deref() == Some(name)).expect("patched pod");
        if let Some(rv) = patch["metadata"]["resourceVersion"].as_str() {
            assert_eq!(Some(rv), pod.metadata.resource_version.as_deref(), "stale patch");
        }
        let mut value = serde_json::to_value(&*pod).expect("pod json");
        merge_patch(&mut value, patch);
        *pod = serde_json::from_value(value).expect("patched pod");
        bump(&mut pod.metadata);
    }

    /// Adds a pod that matches the selector but has no owner.
    pub fn add_orphan(&mut self, name: &str) {
        let labels = self.job.spec.as_ref().and_then(|s| s.template.metadata.clone()).and_then(|m| m.labels);
        self.pods.push(Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                uid: Some(format!("uid-{name}")),
                labels,
                resource_version: Some("3".into()),
                creation_timestamp: time(self.now),
                ..Default::default()
            },
            spec: None,
            status: Some(PodStatus { phase: Some("Running".into()), ..Default::default() }),
        });
    }

    fn pod_mut(&mut self, name: &str) -> &mut Pod {
        self.pods.iter_mut().find(|p| p.metadata.name.as_deref() == Some(name)).expect("pod")
    }

    fn status_mut(&mut self, name: &str) -> &mut PodStatus {
        self.pod_mut(name).status.get_or_insert_with(Default::default)
    }

    /// Number of active pods.
    pub fn active_count(&self) -> usize {
        self.pods.iter().filter(|p| crate::controllers::batch::job_pods::is_active(p)).count()
    }

    /// The oldest active pod's name.
    pub fn first_active(&self) -> Option<String> {
        self.pods
            .iter()
            .find(|p| crate::controllers::batch::job_pods::is_active(p))
            .and_then(|p| p.metadata.name.clone())
    }

    /// Completion indexes of active pods, sorted.
    pub fn active_indexes(&self) -> Vec<i32> {
        let mut v: Vec<i32> = self
            .pods
            .iter()
            .filter(|p| crate::controllers::batch::job_pods::is_active(p))
            .filter_map(|p| p.metadata.annotations.as_ref()?.get(COMPLETION_INDEX_KEY)?.parse().ok())
            .collect();
        v.sort();
        v
    }

    /// The pod terminates now with `phase` ("Succeeded" or "Failed").
    pub fn finish(&mut self, name: &str, phase: &str) {
        let now = self.now;
        let exit_code = if phase == "Succeeded" { 0 } else { 1 };
        let status = self.status_mut(name);
        status.phase = Some(phase.into());
        status.container_statuses = Some(vec![ContainerStatus {
            name: "pi".into(),
            state: Some(ContainerState {
                terminated: Some(ContainerStateTerminated { exit_code, finished_at: time(now), ..Default::default() }),
                ..Default::default()
            }),
            ..Default::default()
        }]);
        status.conditions = Some(vec![PodCondition {
            type_: "Ready".into(),
            status: "False".into(),
            last_transition_time: time(now),
            ..Default::default()
        }]);
    }

    /// Marks the pod Running and Ready.
    pub fn set_ready(&mut self, name: &str) {
        let status = self.status_mut(name);
        status.phase = Some("Running".into());
        status.conditions =
            Some(vec![PodCondition { type_: "Ready".into(), status: "True".into(), ..Default::default() }]);
    }

    /// Marks the pod Running with `n` container restarts.
    pub fn set_restarts(&mut self, name: &str, n: i32) {
        let status = self.status_mut(name);
        status.phase = Some("Running".into());
        status.container_statuses =
            Some(vec![ContainerStatus { name: "pi".into(), restart_count: n, ..Default::default() }]);
    }
}

/// A CronJob with the jobs of its namespace.
pub struct CronSim {
    /// The CronJob under test.
    pub cj: CronJob,
    /// Jobs of the namespace.
    pub jobs: Vec<Job>,
    /// The simulated clock.
    pub now: DateTime<Utc>,
}

impl CronSim {
    /// CronJob "nightly" in "default", created at `now`.
    pub fn new(schedule: &str, now: DateTime<Utc>) -> CronSim {
        let template = JobTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some([("team".to_string(), "data".to_string())].into()),
                ..Default::default()
            }),
            spec: Some(JobSpec { template: PodTemplateSpec::default(), ..Default::default() }),
        };
        let cj = CronJob {
            metadata: ObjectMeta {
                name: Some("nightly".into()),
                namespace: Some("default".into()),
                uid: Some("cj-uid".into()),
                resource_version: Some("1".into()),
                creation_timestamp: time(now),
                ..Default::default()
            },
            spec: Some(CronJobSpec { schedule: schedule.into(), job_template: template, ..Default::default() }),
            status: None,
        };
        CronSim { cj, jobs: Vec::new(), now }
    }

    fn spec(&mut self) -> &mut CronJobSpec {
        self.cj.spec.get_or_insert_with(Default::default)
    }

    /// Sets spec.concurrencyPolicy.
    pub fn set_policy(&mut self, p: &str) {
        self.spec().concurrency_policy = Some(p.into());
    }

    /// Sets spec.startingDeadlineSeconds.
    pub fn set_starting_deadline(&mut self, secs: i64) {
        self.spec().starting_deadline_seconds = Some(secs);
    }

    /// Sets both history limits.
    pub fn set_history_limits(&mut self, ok: i32, failed: i32) {
        self.spec().successful_jobs_history_limit = Some(ok);
        self.spec().failed_jobs_history_limit = Some(failed);
    }

    /// Sets spec.timeZone.
    pub fn set_time_zone(&mut self, tz: &str) {
        self.spec().time_zone = Some(tz.into());
    }

    /// Sets spec.suspend.
    pub fn set_suspend(&mut self, on: bool) {
        self.spec().suspend = Some(on);
    }

    /// Moves the clock forward.
    pub fn advance_secs(&mut self, secs: i64) {
        self.now += TimeDelta::seconds(secs);
    }

    /// Reconciles without applying.
    pub fn try_reconcile(&self) -> Result<CronDecision, CronError> {
        let jobs: Vec<Arc<Job>> = self.jobs.iter().cloned().map(Arc::new).collect();
        reconcile_cronjob(&self.cj, &jobs, self.now)
    }

    /// Reconciles without applying; panics on error.
    pub fn reconcile(&self) -> CronDecision {
        self.try_reconcile().expect("reconcile")
    }

    /// Reconciles and applies every action.
    pub fn step(&mut self) -> CronDecision {
        let d = self.reconcile();
        for a in &d.actions {
            self.apply(a);
        }
        d
    }

    /// Applies only the Create actions of `d` (a crash before the rest).
    pub fn apply_only_creates(&mut self, d: &CronDecision) {
        for a in d.actions.iter().filter(|a| matches!(a, Action::Create { .. })) {
            self.apply(a);
        }
    }

    fn apply(&mut self, action: &Action) {
        match action {
            Action::Create { kind: "Job", object, .. } => {
                let mut job: Job = serde_json::from_value(object.clone()).expect("job");
                let name = job.metadata.name.clone().unwrap_or_default();
                if self.job(&name).is_some() {
                    return; // AlreadyExists
                }
                job.metadata.uid = Some(format!("uid-{name}"));
                job.metadata.creation_timestamp = time(self.now);
                job.metadata.resource_version = Some("1".into());
                self.jobs.push(job);
            }
            Action::Delete { kind: "Job", name, .. } => self.jobs.retain(|j| j.metadata.name.as_ref() != Some(name)),
            Action::UpdateStatus { kind: "CronJob", object, .. } => {
                check_rv(&self.cj.metadata, object);
                let updated: CronJob = serde_json::from_value(object.clone()).expect("cronjob");
                self.cj.status = updated.status;
                bump(&mut self.cj.metadata);
            }
            Action::Event { .. } => {}
            other => panic!("unexpected action {other:?}"),
        }
    }

    /// The job named `name`.
    pub fn job(&self, name: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.metadata.name.as_deref() == Some(name))
    }

    /// The job finishes now, Complete or Failed.
    pub fn finish_job(&mut self, name: &str, success: bool) {
        let now = self.now;
        let job = self.jobs.iter_mut().find(|j| j.metadata.name.as_deref() == Some(name)).expect("job");
        let type_ = if success { "Complete" } else { "Failed" };
        job.status = Some(JobStatus {
            start_time: job.metadata.creation_timestamp.clone(),
            completion_time: if success { time(now) } else { None },
            conditions: Some(vec![JobCondition {
                type_: type_.into(),
                status: "True".into(),
                last_transition_time: time(now),
                ..Default::default()
            }]),
            ..Default::default()
        });
    }

    /// Names in status.active.
    pub fn active_names(&self) -> Vec<String> {
        let active = self.cj.status.as_ref().and_then(|s| s.active.clone()).unwrap_or_default();
        active.into_iter().filter_map(|r| r.name).collect()
    }

    /// status.lastScheduleTime.
    pub fn last_schedule(&self) -> Option<DateTime<Utc>> {
        self.cj.status.as_ref()?.last_schedule_time.as_ref().map(|t| t.0)
    }

    /// status.lastSuccessfulTime.
    pub fn last_successful(&self) -> Option<DateTime<Utc>> {
        self.cj.status.as_ref()?.last_successful_time.as_ref().map(|t| t.0)
    }
}
