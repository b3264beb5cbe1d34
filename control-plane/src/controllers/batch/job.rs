//! The Job controller's reconcile decision: from a Job, the pods of its namespace and the current
//! time, the writes that move the job toward its spec.
//!
//! Guarantees (each matches upstream Kubernetes 1.32 unless noted):
//! - Jobs being deleted get no action. A job without `spec.selector` gets only an Update that
//!   generates one (see `job_template`); the next reconcile does the rest.
//! - Pods: controlled by ownerReference uid; matching orphans adopted, non-matching owned pods
//!   released. Active = not finished and not being deleted; terminating = being deleted.
//! - NonIndexed: at most `min(parallelism, completions − succeeded)` active pods (parallelism
//!   defaults to 1); with no `completions` the first success stops new pods and the job
//!   completes once no pod is active. Indexed: one active pod per missing index, lowest first,
//!   `status.completedIndexes` kept. Surplus active pods (parallelism lowered) are deleted,
//!   cheapest first. At most 500 pods are created per reconcile.
//! - Failures: `restartPolicy: Never` counts failed pods; `OnFailure` also counts container
//!   restarts of active pods (restarts ≥ backoffLimit, or > 0 when the limit is 0). More failed
//!   pods than `backoffLimit` (default 6), or the restart rule, fails the job with
//!   BackoffLimitExceeded; `activeDeadlineSeconds` elapsed since `status.startTime` fails it with
//!   DeadlineExceeded. Replacement pods wait 10s × 2^(n−1), capped at 6 minutes, after the latest
//!   failure, n being the failed pods since the last success (upstream caps at 10 minutes; this
//!   crate follows the documented 6).
//! - Ending: `FailureTarget` / `SuccessCriteriaMet` are added first and active pods deleted; the
//!   terminal `Failed` / `Complete` follows once no pod is active or terminating (Complete also
//!   sets `completionTime`), with the event BackoffLimitExceeded / DeadlineExceeded (Warning) or
//!   Completed "Job completed".
//! - Suspend: active pods deleted, condition Suspended=True (event Suspended); on resume
//!   Suspended=False (event Resumed) and `startTime` restarts. `startTime` is set on the first
//!   unsuspended reconcile.
//! - `ttlSecondsAfterFinished`: once finished (terminal condition's transition time) and the TTL
//!   has passed, the job is deleted with Background propagation (upstream's TTL controller uses
//!   Foreground); [`requeue_after`] says when.
//! - Counts are never lowered: `succeeded`/`failed` are the larger of the status and the pods seen
//!   (this controller does not use finalizer tracking, so `uncountedTerminatedPods` is not
//!   written and a pod deleted before it was seen finished is not counted).
//! - The status is written (UpdateStatus with the read resourceVersion) only when it changes.
//!   Events about created pods carry the literal `{name}`, which the runner replaces.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobStatus};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::controllers::batch::job_conditions::{self as cond, Verdict};
use crate::controllers::batch::job_index::{format_indexes, is_indexed, parse_indexes, pod_index};
use crate::controllers::batch::job_pods::{self as jp, Claimed};
use crate::controllers::batch::job_template::{new_pod, with_generated_selector};
use crate::runtime::action::{Action, EventType};

/// Most pods created by one reconcile.
const MAX_CREATES_PER_SYNC: usize = 500;
/// First pod-failure back-off.
const BASE_BACKOFF_SECS: i64 = 10;
/// Longest pod-failure back-off.
const MAX_BACKOFF_SECS: i64 = 360;
/// `spec.backoffLimit` default.
const DEFAULT_BACKOFF_LIMIT: i32 = 6;

/// The writes that bring `job` toward its spec, given all `pods` of its namespace, at `now`.
pub fn reconcile_job(job: &Job, pods: &[Arc<Pod>], now: DateTime<Utc>) -> Vec<Action> {
    plan(job, pods, now).actions
}

/// When the job must be reconciled again even if nothing changes: pod back-off ending, active
/// deadline, or TTL after finishing. `None` when only changes to the job or its pods matter.
pub fn requeue_after(job: &Job, pods: &[Arc<Pod>], now: DateTime<Utc>) -> Option<Duration> {
    plan(job, pods, now).requeue.and_then(|d| d.max(TimeDelta::zero()).to_std().ok())
}

/// The spec fields the controller uses, defaulted.
struct Params {
    parallelism: i32,
    completions: Option<i32>,
    backoff_limit: i32,
    suspend: bool,
    deadline: Option<i64>,
    on_failure: bool,
    indexed: bool,
    ttl: Option<i64>,
}

impl Params {
    fn of(job: &Job) -> Params {
        let spec = job.spec.as_ref();
        let completions = spec.and_then(|s| s.completions).map(|c| c.max(0));
        Params {
            parallelism: spec.and_then(|s| s.parallelism).unwrap_or(1).max(0),
            completions,
            backoff_limit: spec.and_then(|s| s.backoff_limit).unwrap_or(DEFAULT_BACKOFF_LIMIT).max(0),
            suspend: spec.and_then(|s| s.suspend).unwrap_or(false),
            deadline: spec.and_then(|s| s.active_deadline_seconds),
            on_failure: spec.and_then(|s| s.template.spec.as_ref()).and_then(|s| s.restart_policy.as_deref())
                == Some("OnFailure"),
            indexed: is_indexed(job) && completions.is_some(),
            ttl: spec.and_then(|s| s.ttl_seconds_after_finished).map(i64::from),
        }
    }
}

/// What the owned pods add up to.
struct Tally<'a> {
    /// Active pods, cheapest to delete first.
    active: Vec<&'a Pod>,
    terminating: i32,
    succeeded: i32,
    failed: i32,
    /// Indexed mode: the succeeded indexes.
    completed: Option<BTreeSet<i32>>,
    restarts: i64,
    failures_since_success: u32,
    last_failure: Option<DateTime<Utc>>,
}

impl<'a> Tally<'a> {
    fn of(job: &Job, p: &Params, owned: &[&'a Pod]) -> Tally<'a> {
        let status = job.status.clone().unwrap_or_default();
        let mut active: Vec<&Pod> = owned.iter().copied().filter(|x| jp::is_active(x)).collect();
        active.sort_by(|a, b| jp::deletion_order(a, b));
        let succeeded_pods: Vec<&Pod> = owned.iter().copied().filter(|x| jp::is_succeeded(x)).collect();
        let failed_pods: Vec<&Pod> = owned.iter().copied().filter(|x| jp::is_failed(x)).collect();
        let completed = p.completions.filter(|_| p.indexed).map(|c| {
            let mut set = parse_indexes(status.completed_indexes.as_deref().unwrap_or(""), c);
            set.extend(succeeded_pods.iter().filter_map(|x| pod_index(x, c)));
            set
        });
        let succeeded = match &completed {
            Some(set) => count(set.len()),
            None => status.succeeded.unwrap_or(0).max(count(succeeded_pods.len())),
        };
        let last_success = succeeded_pods.iter().filter_map(|x| jp::finish_time(x)).max();
        let recent: Vec<Option<DateTime<Utc>>> = failed_pods
            .iter()
            .map(|x| jp::finish_time(x))
            .filter(|t| match (t, last_success) {
                (Some(t), Some(s)) => *t > s,
                _ => true,
            })
            .collect();
        Tally {
            terminating: count(owned.iter().filter(|x| jp::is_terminating(x)).count()),
            succeeded,
            failed: status.failed.unwrap_or(0).max(count(failed_pods.len())),
            completed,
            restarts: active.iter().map(|x| jp::restart_count(x)).sum(),
            failures_since_success: u32::try_from(recent.len()).unwrap_or(u32::MAX),
            last_failure: recent.into_iter().flatten().max(),
            active,
        }
    }
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Where the job is heading this reconcile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Fail(Verdict),
    Succeed,
    Suspend,
    Run,
}

fn decide(p: &Params, t: &Tally, conds: &[JobCondition], start: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Outcome {
    if let Some(c) = cond::find(conds, cond::FAILURE_TARGET).filter(|c| c.status == "True") {
        return Outcome::Fail(cond::verdict_of(c).unwrap_or(cond::BACKOFF_LIMIT_EXCEEDED));
    }
    if cond::is_true(conds, cond::SUCCESS_CRITERIA_MET) {
        return Outcome::Succeed;
    }
    if backoff_exceeded(p, t) {
        return Outcome::Fail(cond::BACKOFF_LIMIT_EXCEEDED);
    }
    if deadline_passed(p, start, now) {
        return Outcome::Fail(cond::DEADLINE_EXCEEDED);
    }
    let succeeded = match p.completions {
        Some(c) => t.succeeded >= c,
        None => t.succeeded > 0 && t.active.is_empty(),
    };
    match (succeeded, p.suspend) {
        (true, _) => Outcome::Succeed,
        (false, true) => Outcome::Suspend,
        (false, false) => Outcome::Run,
    }
}

fn backoff_exceeded(p: &Params, t: &Tally) -> bool {
    let limit = p.backoff_limit;
    let restarts = p.on_failure && if limit == 0 { t.restarts > 0 } else { t.restarts >= i64::from(limit) };
    t.failed > limit || restarts
}

fn deadline_passed(p: &Params, start: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    deadline_left(p, start, now).map(|left| left <= TimeDelta::zero()).unwrap_or(false)
}

fn deadline_left(p: &Params, start: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<TimeDelta> {
    if p.suspend {
        return None;
    }
    Some(start? + TimeDelta::try_seconds(p.deadline?)? - now)
}

/// How long replacement pods must still wait after the latest failure (≤ 0: not at all).
fn backoff_left(t: &Tally, now: DateTime<Utc>) -> TimeDelta {
    let (Some(last), n) = (t.last_failure, t.failures_since_success) else { return TimeDelta::zero() };
    if n == 0 {
        return TimeDelta::zero();
    }
    let factor = 1i64.checked_shl(n.saturating_sub(1).min(30)).unwrap_or(i64::MAX);
    let secs = BASE_BACKOFF_SECS.saturating_mul(factor).min(MAX_BACKOFF_SECS);
    last + TimeDelta::seconds(secs) - now
}

/// The accumulating result: actions in order, and the earliest requeue.
struct Plan<'j> {
    job: &'j Job,
    actions: Vec<Action>,
    requeue: Option<TimeDelta>,
}

impl<'j> Plan<'j> {
    fn ns(&self) -> Option<String> {
        self.job.metadata.namespace.clone()
    }

    fn name(&self) -> String {
        self.job.metadata.name.clone().unwrap_or_default()
    }

    fn requeue_in(&mut self, d: TimeDelta) {
        self.requeue = Some(self.requeue.map_or(d, |r| r.min(d)));
    }

    fn event(&mut self, event_type: EventType, reason: &str, message: String) {
        self.actions.push(Action::Event {
            kind: "Job",
            namespace: self.ns(),
            name: self.name(),
            uid: self.job.metadata.uid.clone().unwrap_or_default(),
            event_type,
            reason: reason.to_string(),
            message,
        });
    }

    fn patch_pod(&mut self, pod: &Pod, patch: serde_json::Value) {
        let name = pod.metadata.name.clone().unwrap_or_default();
        self.actions.push(Action::Patch { kind: "Pod", namespace: self.ns(), name, patch });
    }

    fn delete_pod(&mut self, pod: &Pod) {
        let Some(name) = pod.metadata.name.clone() else { return };
        let uid = pod.metadata.uid.clone();
        let namespace = self.ns();
        self.actions.push(Action::Delete {
            kind: "Pod",
            namespace,
            name: name.clone(),
            uid,
            propagation: None,
            grace_period_seconds: None,
        });
        self.event(EventType::Normal, "SuccessfulDelete", format!("Deleted pod: {name}"));
    }

    fn create_pod(&mut self, index: Option<i32>) {
        let Ok(object) = serde_json::to_value(new_pod(self.job, index)) else { return };
        self.actions.push(Action::Create { kind: "Pod", namespace: self.ns(), object });
        self.event(EventType::Normal, "SuccessfulCreate", "Created pod: {name}".to_string());
    }

    fn write_job(&mut self, job: &Job, status_only: bool) {
        let Ok(object) = serde_json::to_value(job) else { return };
        let (namespace, name) = (self.ns(), self.name());
        self.actions.push(if status_only {
            Action::UpdateStatus { kind: "Job", namespace, name, object }
        } else {
            Action::Update { kind: "Job", namespace, name, object }
        });
    }

    /// Deletes the job once `finished_at + ttl` has passed, else asks to come back then.
    fn expire(&mut self, ttl: Option<i64>, finished_at: Option<DateTime<Utc>>, now: DateTime<Utc>) {
        let (Some(ttl), Some(at)) = (ttl, finished_at) else { return };
        let left = at + TimeDelta::try_seconds(ttl).unwrap_or(TimeDelta::MAX) - now;
        if left > TimeDelta::zero() {
            self.requeue_in(left);
            return;
        }
        self.actions.push(Action::Delete {
            kind: "Job",
            namespace: self.ns(),
            name: self.name(),
            uid: self.job.metadata.uid.clone(),
            propagation: Some("Background"),
            grace_period_seconds: None,
        });
    }
}

fn plan<'j>(job: &'j Job, pods: &[Arc<Pod>], now: DateTime<Utc>) -> Plan<'j> {
    let mut out = Plan { job, actions: Vec::new(), requeue: None };
    let uid = job.metadata.uid.as_deref().unwrap_or("");
    if job.metadata.deletion_timestamp.is_some() || uid.is_empty() || job.metadata.name.is_none() {
        return out;
    }
    if let Some(updated) = with_generated_selector(job) {
        out.write_job(&updated, false);
        return out;
    }
    let p = Params::of(job);
    if let Some(done) = cond::finished(job) {
        let at = done.last_transition_time.as_ref().map(|t| t.0);
        let at = at.or_else(|| job.status.as_ref()?.completion_time.as_ref().map(|t| t.0));
        out.expire(p.ttl, at, now);
        return out;
    }
    let Some(selector) = job.spec.as_ref().and_then(|s| s.selector.as_ref()) else { return out };
    let claimed = jp::claim(uid, selector, pods);
    adopt_and_release(&mut out, &claimed);
    let tally = Tally::of(job, &p, &claimed.owned);
    sync(&mut out, &p, &tally, now);
    out
}

fn adopt_and_release(out: &mut Plan, claimed: &Claimed) {
    let uid = out.job.metadata.uid.clone().unwrap_or_default();
    for pod in &claimed.adopt {
        out.patch_pod(pod, jp::adopt_patch(pod, jp::job_owner_ref(out.job)));
    }
    for pod in &claimed.release {
        out.patch_pod(pod, jp::release_patch(pod, &uid));
    }
}

/// The status being built, plus events to emit after it is written.
struct Draft<'a> {
    status: JobStatus,
    conds: Vec<JobCondition>,
    after: Vec<(EventType, &'static str, &'static str)>,
    deleted: Vec<&'a Pod>,
    finished_now: bool,
}

impl Draft<'_> {
    fn was_deleted(&self, pod: &Pod) -> bool {
        self.deleted.iter().any(|d| std::ptr::eq(*d, pod))
    }
}

fn sync<'a>(out: &mut Plan, p: &Params, t: &Tally<'a>, now: DateTime<Utc>) {
    let mut status = out.job.status.clone().unwrap_or_default();
    let conds = status.conditions.take().unwrap_or_default();
    let mut d = Draft { status, conds, after: Vec::new(), deleted: Vec::new(), finished_now: false };
    let start = start_time(p, &mut d, now);
    d.status.start_time = start.map(Time);
    match decide(p, t, &d.conds, start, now) {
        Outcome::Fail(v) => end(out, t, &mut d, cond::FAILURE_TARGET, (cond::FAILED, v), now),
        Outcome::Succeed => {
            end(out, t, &mut d, cond::SUCCESS_CRITERIA_MET, (cond::COMPLETE, cond::COMPLETIONS_REACHED), now)
        }
        Outcome::Suspend => suspend(out, t, &mut d, now),
        Outcome::Run => run(out, p, t, &mut d, start, now),
    }
    fill_counts(t, &mut d);
    let old = out.job.status.clone().unwrap_or_default();
    d.status.conditions = (!d.conds.is_empty()).then(|| d.conds.clone());
    if normalized(&old) != normalized(&d.status) {
        let mut updated = out.job.clone();
        updated.status = Some(d.status.clone());
        out.write_job(&updated, true);
    }
    for (event_type, reason, message) in d.after.iter().copied() {
        out.event(event_type, reason, message.to_string());
    }
    if d.finished_now {
        out.expire(p.ttl, Some(now), now);
    }
}

/// The start time after this reconcile: kept, set on the first unsuspended reconcile, and reset
/// when a suspended job resumes (which also flips the Suspended condition).
fn start_time(p: &Params, d: &mut Draft<'_>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let old = d.status.start_time.as_ref().map(|t| t.0);
    if p.suspend {
        return old;
    }
    if cond::ensure(&mut d.conds, cond::SUSPENDED, false, cond::JOB_RESUMED, now) {
        d.after.push((EventType::Normal, "Resumed", "Job resumed"));
        return Some(now);
    }
    Some(old.unwrap_or(now))
}

/// Fail or succeed: interim condition now, terminal condition once no pod is left.
fn end<'a>(
    out: &mut Plan,
    t: &Tally<'a>,
    d: &mut Draft<'a>,
    interim: &str,
    terminal: (&str, Verdict),
    now: DateTime<Utc>,
) {
    let (terminal_type, verdict) = terminal;
    delete_all(out, t, d);
    cond::ensure(&mut d.conds, interim, true, verdict, now);
    if !t.active.is_empty() || t.terminating > 0 {
        return;
    }
    cond::ensure(&mut d.conds, terminal_type, true, verdict, now);
    d.finished_now = true;
    if terminal_type == cond::COMPLETE {
        d.status.completion_time = Some(Time(now));
        d.after.push((EventType::Normal, "Completed", "Job completed"));
    } else {
        d.after.push((EventType::Warning, verdict.reason, verdict.message));
    }
}

fn suspend<'a>(out: &mut Plan, t: &Tally<'a>, d: &mut Draft<'a>, now: DateTime<Utc>) {
    delete_all(out, t, d);
    if cond::ensure(&mut d.conds, cond::SUSPENDED, true, cond::JOB_SUSPENDED, now) {
        d.after.push((EventType::Normal, "Suspended", "Job suspended"));
    }
}

fn run<'a>(
    out: &mut Plan,
    p: &Params,
    t: &Tally<'a>,
    d: &mut Draft<'a>,
    start: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) {
    if let Some(left) = deadline_left(p, start, now) {
        out.requeue_in(left);
    }
    let (to_delete, to_create) = match (&t.completed, p.completions) {
        (Some(done), Some(c)) => indexed_changes(p, t, done, c),
        _ => plain_changes(p, t),
    };
    for pod in &to_delete {
        out.delete_pod(pod);
    }
    d.deleted = to_delete;
    if to_create.is_empty() {
        return;
    }
    let wait = backoff_left(t, now);
    if wait > TimeDelta::zero() {
        out.requeue_in(wait);
        return;
    }
    for index in to_create.into_iter().take(MAX_CREATES_PER_SYNC) {
        out.create_pod(index);
    }
}

/// NonIndexed: which active pods to delete and how many pods to create.
fn plain_changes<'a>(p: &Params, t: &Tally<'a>) -> (Vec<&'a Pod>, Vec<Option<i32>>) {
    let active = count(t.active.len());
    let want = match p.completions {
        Some(c) => p.parallelism.min(c - t.succeeded).max(0),
        None if t.succeeded > 0 => active,
        None => p.parallelism,
    };
    let surplus = usize::try_from(active - want).unwrap_or(0);
    let missing = usize::try_from(want - active).unwrap_or(0);
    (t.active.iter().copied().take(surplus).collect(), vec![None; missing])
}

/// Indexed: delete pods with bad, duplicate or already-completed indexes and surplus pods;
/// create pods for the lowest missing indexes.
fn indexed_changes<'a>(
    p: &Params,
    t: &Tally<'a>,
    done: &BTreeSet<i32>,
    completions: i32,
) -> (Vec<&'a Pod>, Vec<Option<i32>>) {
    let mut delete = Vec::new();
    let mut keep: Vec<(&Pod, i32)> = Vec::new();
    // Best pods are last in deletion order: walk from the end so they win duplicate indexes.
    for pod in t.active.iter().rev() {
        match pod_index(pod, completions) {
            Some(i) if !done.contains(&i) && !keep.iter().any(|(_, k)| *k == i) => keep.push((pod, i)),
            _ => delete.push(*pod),
        }
    }
    keep.reverse();
    let want = usize::try_from(p.parallelism.min(completions - count(done.len())).max(0)).unwrap_or(0);
    let surplus = keep.len().saturating_sub(want);
    delete.extend(keep.iter().take(surplus).map(|(pod, _)| *pod));
    let running: BTreeSet<i32> = keep.iter().skip(surplus).map(|(_, i)| *i).collect();
    let create = (0..completions)
        .filter(|i| !done.contains(i) && !running.contains(i))
        .take(want.saturating_sub(running.len()))
        .map(Some)
        .collect();
    (delete, create)
}

fn delete_all<'a>(out: &mut Plan, t: &Tally<'a>, d: &mut Draft<'a>) {
    for pod in &t.active {
        out.delete_pod(pod);
    }
    d.deleted = t.active.clone();
}

fn fill_counts(t: &Tally, d: &mut Draft<'_>) {
    let remaining: Vec<&Pod> = t.active.iter().copied().filter(|x| !d.was_deleted(x)).collect();
    let deleted = count(d.deleted.len());
    let s = &mut d.status;
    s.active = Some(count(remaining.len()));
    s.ready = Some(count(remaining.iter().filter(|x| jp::is_ready(x)).count()));
    s.terminating = Some(t.terminating + deleted);
    s.succeeded = Some(t.succeeded);
    s.failed = Some(t.failed);
    s.completed_indexes = t.completed.as_ref().map(format_indexes).filter(|s| !s.is_empty());
}

/// The status with zero counts and empty lists as absent, so equal statuses compare equal however
/// the API server stored them.
fn normalized(s: &JobStatus) -> JobStatus {
    let nz = |v: Option<i32>| v.filter(|n| *n != 0);
    JobStatus {
        active: nz(s.active),
        ready: nz(s.ready),
        terminating: nz(s.terminating),
        succeeded: nz(s.succeeded),
        failed: nz(s.failed),
        conditions: s.conditions.clone().filter(|c| !c.is_empty()),
        completed_indexes: s.completed_indexes.clone().filter(|c| !c.is_empty()),
        ..s.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::batch::testsim::{job_status, JobSim};

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default()
    }

    fn conds(sim: &JobSim) -> Vec<(String, String, String)> {
        cond::of(&sim.job)
            .iter()
            .map(|c| (c.type_.clone(), c.status.clone(), c.reason.clone().unwrap_or_default()))
            .collect()
    }

    fn types(sim: &JobSim) -> Vec<String> {
        conds(sim).into_iter().filter(|c| c.1 == "True").map(|c| c.0).collect()
    }

    #[test]
    fn generates_selector_first_then_creates_pods_with_labels() {
        let mut sim = JobSim::new(Some(1), Some(1), t0());
        if let Some(spec) = sim.job.spec.as_mut() {
            spec.selector = None;
        }
        let first = sim.step();
        assert!(matches!(first.as_slice(), [Action::Update { kind: "Job", .. }]), "{first:?}");
        sim.step();
        let pod = &sim.pods[0];
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        assert_eq!(labels.get("batch.kubernetes.io/job-name").map(String::as_str), Some("pi"));
        assert_eq!(labels.get("controller-uid").map(String::as_str), Some("job-uid"));
        assert!(pod.metadata.name.as_deref().unwrap_or("").starts_with("pi-"));
    }

    #[test]
    fn completions_five_parallelism_two_never_exceeds_two_active() {
        let mut sim = JobSim::new(Some(5), Some(2), t0());
        for _ in 0..20 {
            sim.step();
            assert!(sim.active_count() <= 2, "active {}", sim.active_count());
            if let Some(name) = sim.first_active() {
                sim.advance(5);
                sim.finish(&name, "Succeeded");
            }
        }
        assert_eq!(sim.pods.len(), 5, "exactly five pods were created");
        let status = job_status(&sim.job);
        assert_eq!(status.succeeded, Some(5));
        assert_eq!(status.active, Some(0));
        assert!(status.completion_time.is_some());
        assert_eq!(types(&sim), ["SuccessCriteriaMet", "Complete"]);
        let completed = sim.events.iter().filter(|e| e.0 == "Completed").count();
        assert_eq!(completed, 1);
        assert_eq!(sim.events.iter().filter(|e| e.0 == "SuccessfulCreate").count(), 5);
        assert!(sim.events.iter().any(|e| e.1.starts_with("Created pod: pi-")));
    }

    #[test]
    fn status_counts_ready_pods() {
        let mut sim = JobSim::new(Some(3), Some(3), t0());
        sim.step();
        let name = sim.first_active().unwrap_or_default();
        sim.set_ready(&name);
        sim.step();
        let status = job_status(&sim.job);
        assert_eq!((status.active, status.ready, status.start_time.is_some()), (Some(3), Some(1), true));
        // Nothing changed: no further writes at all.
        assert!(sim.step().is_empty());
    }

    #[test]
    fn failures_back_off_and_stop_at_backoff_limit() {
        let mut sim = JobSim::new(Some(1), Some(1), t0());
        sim.set_backoff_limit(2);
        sim.step();
        let mut created_at = vec![sim.now];
        for expected_wait in [10, 20] {
            let name = sim.first_active().unwrap_or_default();
            sim.finish(&name, "Failed");
            sim.step();
            assert_eq!(sim.active_count(), 0, "no replacement before the back-off");
            let wait = requeue_after(&sim.job, &sim.pod_arcs(), sim.now).map(|d| d.as_secs());
            assert_eq!(wait, Some(expected_wait));
            sim.advance(expected_wait as i64 - 1);
            sim.step();
            assert_eq!(sim.active_count(), 0, "still backing off");
            sim.advance(1);
            sim.step();
            assert_eq!(sim.active_count(), 1, "replacement after {expected_wait}s");
            created_at.push(sim.now);
        }
        let name = sim.first_active().unwrap_or_default();
        sim.finish(&name, "Failed");
        sim.step();
        assert_eq!(sim.pods.len(), 3, "backoffLimit 2 allows three pods");
        assert_eq!(types(&sim), ["FailureTarget", "Failed"]);
        assert_eq!(conds(&sim)[1].2, "BackoffLimitExceeded");
        assert_eq!(job_status(&sim.job).failed, Some(3));
        assert!(job_status(&sim.job).completion_time.is_none());
        assert!(sim.events.iter().any(|e| e.0 == "BackoffLimitExceeded"
            && e.1 == "Job has reached the specified backoff limit"
            && e.2 == EventType::Warning));
        assert_eq!(created_at[1] - created_at[0], TimeDelta::seconds(10));
        assert_eq!(created_at[2] - created_at[1], TimeDelta::seconds(20));
        assert!(sim.step().is_empty(), "a failed job is left alone");
    }

    #[test]
    fn on_failure_counts_container_restarts() {
        let mut sim = JobSim::new(Some(1), Some(1), t0());
        sim.set_backoff_limit(3);
        sim.set_restart_policy("OnFailure");
        sim.step();
        let name = sim.first_active().unwrap_or_default();
        sim.set_restarts(&name, 2);
        sim.step();
        assert!(types(&sim).is_empty());
        sim.set_restarts(&name, 3);
        let actions = sim.step();
        assert!(actions.iter().any(|a| matches!(a, Action::Delete { kind: "Pod", .. })));
        assert_eq!(types(&sim), ["FailureTarget"], "Failed waits for the pod to go");
        sim.step();
        assert_eq!(types(&sim), ["FailureTarget", "Failed"]);
    }

    #[test]
    fn active_deadline_fails_job_and_deletes_pods() {
        let mut sim = JobSim::new(Some(3), Some(2), t0());
        sim.set_deadline(60);
        sim.step();
        assert_eq!(requeue_after(&sim.job, &sim.pod_arcs(), sim.now), Some(Duration::from_secs(60)));
        sim.advance(59);
        sim.step();
        assert_eq!(sim.active_count(), 2);
        sim.advance(1);
        let actions = sim.step();
        let deletes = actions.iter().filter(|a| matches!(a, Action::Delete { kind: "Pod", .. })).count();
        assert_eq!(deletes, 2);
        assert_eq!(sim.active_count(), 0);
        assert!(sim.events.iter().any(|e| e.0 == "SuccessfulDelete" && e.1.starts_with("Deleted pod: pi-")));
        sim.step();
        assert_eq!(types(&sim), ["FailureTarget", "Failed"]);
        assert_eq!(conds(&sim)[1].2, "DeadlineExceeded");
        assert!(sim.events.iter().any(|e| e.0 == "DeadlineExceeded"));
    }

    #[test]
    fn ttl_deletes_finished_job_in_background() {
        let mut sim = JobSim::new(Some(1), Some(1), t0());
        sim.set_ttl(100);
        sim.step();
        let name = sim.first_active().unwrap_or_default();
        sim.finish(&name, "Succeeded");
        sim.step();
        assert_eq!(types(&sim), ["SuccessCriteriaMet", "Complete"]);
        assert_eq!(requeue_after(&sim.job, &sim.pod_arcs(), sim.now), Some(Duration::from_secs(100)));
        sim.advance(99);
        assert!(sim.step().is_empty());
        sim.advance(1);
        let actions = sim.step();
        assert!(matches!(
            actions.as_slice(),
            [Action::Delete { kind: "Job", propagation: Some("Background"), uid: Some(_), .. }]
        ));
        assert!(sim.job_deleted);
    }

    #[test]
    fn ttl_zero_deletes_right_after_finishing() {
        let mut sim = JobSim::new(Some(1), Some(1), t0());
        sim.set_ttl(0);
        sim.step();
        let name = sim.first_active().unwrap_or_default();
        sim.finish(&name, "Succeeded");
        sim.step();
        assert!(sim.job_deleted);
    }

    #[test]
    fn suspend_deletes_pods_and_resume_restarts_clock() {
        let mut sim = JobSim::new(Some(4), Some(2), t0());
        sim.set_deadline(100);
        sim.step();
        assert_eq!(sim.active_count(), 2);
        sim.set_suspend(true);
        sim.advance(10);
        sim.step();
        assert_eq!(sim.active_count(), 0);
        assert_eq!(conds(&sim), [("Suspended".into(), "True".into(), "JobSuspended".into())]);
        assert!(sim.events.iter().any(|e| e.0 == "Suspended"));
        sim.advance(500);
        sim.step();
        assert!(types(&sim).iter().all(|t| t != "Failed"), "no deadline while suspended");
        sim.set_suspend(false);
        sim.step();
        assert_eq!(sim.active_count(), 2);
        assert_eq!(conds(&sim), [("Suspended".into(), "False".into(), "JobResumed".into())]);
        assert_eq!(job_status(&sim.job).start_time.map(|t| t.0), Some(sim.now));
        assert!(sim.events.iter().any(|e| e.0 == "Resumed"));
    }

    #[test]
    fn created_suspended_has_no_start_time() {
        let mut sim = JobSim::new(Some(1), Some(1), t0());
        sim.set_suspend(true);
        sim.step();
        assert_eq!(sim.pods.len(), 0);
        assert!(job_status(&sim.job).start_time.is_none());
    }

    #[test]
    fn lowering_parallelism_deletes_extras() {
        let mut sim = JobSim::new(Some(10), Some(4), t0());
        sim.step();
        assert_eq!(sim.active_count(), 4);
        sim.set_parallelism(1);
        sim.step();
        assert_eq!(sim.active_count(), 1);
    }

    #[test]
    fn no_completions_first_success_completes_after_others_finish() {
        let mut sim = JobSim::new(None, Some(3), t0());
        sim.step();
        assert_eq!(sim.active_count(), 3);
        let name = sim.first_active().unwrap_or_default();
        sim.finish(&name, "Succeeded");
        sim.step();
        assert_eq!(sim.active_count(), 2, "no new pods after a success");
        assert!(types(&sim).is_empty());
        while let Some(n) = sim.first_active() {
            sim.finish(&n, "Succeeded");
        }
        sim.step();
        assert_eq!(types(&sim), ["SuccessCriteriaMet", "Complete"]);
        assert_eq!(job_status(&sim.job).succeeded, Some(3));
    }

    #[test]
    fn adopts_matching_orphans() {
        let mut sim = JobSim::new(Some(2), Some(2), t0());
        sim.add_orphan("stray");
        let actions = sim.step();
        assert!(matches!(actions.first(), Some(Action::Patch { kind: "Pod", name, .. }) if name == "stray"));
        assert_eq!(sim.active_count(), 2, "the orphan counts, one pod created");
        assert_eq!(sim.pods.len(), 2);
    }

    #[test]
    fn indexed_mode_runs_each_index_once() {
        let mut sim = JobSim::new(Some(3), Some(2), t0());
        sim.set_indexed();
        sim.step();
        let indexes = sim.active_indexes();
        assert_eq!(indexes, [0, 1]);
        let first = sim.first_active().unwrap_or_default();
        sim.finish(&first, "Succeeded");
        sim.step();
        assert_eq!(job_status(&sim.job).completed_indexes.as_deref(), Some("0"));
        assert_eq!(sim.active_indexes(), [1, 2]);
        while let Some(n) = sim.first_active() {
            sim.finish(&n, "Succeeded");
        }
        sim.step();
        assert_eq!(job_status(&sim.job).completed_indexes.as_deref(), Some("0-2"));
        assert_eq!(types(&sim), ["SuccessCriteriaMet", "Complete"]);
        assert_eq!(sim.pods.len(), 3);
    }

    #[test]
    fn deleted_job_gets_nothing() {
        let mut sim = JobSim::new(Some(1), Some(1), t0());
        sim.job.metadata.deletion_timestamp = Some(Time(t0()));
        assert!(sim.step().is_empty());
    }
}
