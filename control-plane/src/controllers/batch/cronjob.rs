//! The CronJob controller's reconcile decision: from a CronJob, the jobs of its namespace and the
//! current time, the jobs to create or delete, the status to write and when to look again.
//!
//! Guarantees (each matches upstream Kubernetes 1.32 unless noted):
//! - An unparseable `spec.schedule` or unknown `spec.timeZone` is an `Err` (the runner records
//!   the Warning event named by [`CronError::event_reason`]). No time zone means UTC (upstream:
//!   the controller's local zone).
//! - `status.active` lists exactly the unfinished jobs this CronJob controls (controller
//!   ownerReference): finished ones are removed (event SawCompletedJob "Saw completed job:
//!   <name>, condition: Complete|Failed"), vanished ones are removed (event MissingJob), and
//!   unfinished owned jobs missing from it are added (upstream only warns). A newly created job
//!   joins the list on the next reconcile, when it has a uid. `lastSuccessfulTime` is the latest
//!   `completionTime` of a Complete job.
//! - Finished jobs beyond `successfulJobsHistoryLimit` (default 3) / `failedJobsHistoryLimit`
//!   (default 1) are deleted oldest first (by `status.startTime`, then name) with Background
//!   propagation (event SuccessfulDelete "Deleted job <name>"). This runs even when suspended.
//! - Nothing is started while the CronJob is suspended or being deleted.
//! - The start time is the most recent schedule time in (`lastScheduleTime` or
//!   `creationTimestamp`, now]. More than 100 missed times: Warning TooManyMissedTimes, the most
//!   recent is still used. With `startingDeadlineSeconds`, only times after now − deadline count;
//!   if the only missed time is older, it is skipped with the Warning MissSchedule "Missed
//!   scheduled time to start a job: <RFC 1123 time>" (upstream skips it silently).
//! - A time already used (`lastScheduleTime`, or an owned job of that name exists) starts nothing
//!   (if only the job exists, `lastScheduleTime` is caught up). Forbid with an active job: event
//!   JobAlreadyActive, nothing started. Replace: active jobs deleted (Background) first.
//! - The job is named `<cronjob>-<scheduled time in minutes since the epoch>`, so a retried
//!   create after a crash collides (AlreadyExists) instead of running twice. It carries the
//!   template's labels and annotations, the annotation
//!   `batch.kubernetes.io/cronjob-scheduled-timestamp` (RFC 3339 in the CronJob's zone) and a
//!   controller ownerReference (batch/v1 CronJob, blockOwnerDeletion). Event SuccessfulCreate
//!   "Created job <name>"; `lastScheduleTime` is set.
//! - `requeue_after` is the time until the next schedule time plus 100 ms (`None` when suspended
//!   or being deleted). The status is written (UpdateStatus, CAS on resourceVersion) only when
//!   it changes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use chrono_tz::Tz;
use k8s_openapi::api::batch::v1::{CronJob, CronJobStatus, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

use crate::controllers::batch::cron::{parse_time_zone, CronError, Schedule};
use crate::controllers::batch::job_conditions as cond;
use crate::controllers::owner::{controller_owner_ref, is_controlled_by};
use crate::runtime::action::{Action, EventType};

/// Annotation on created jobs with the schedule time they run for.
pub const SCHEDULED_TIMESTAMP_ANNOTATION: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";
/// Missed schedule times beyond which TooManyMissedTimes is reported.
const TOO_MANY_MISSED: usize = 100;
/// Slack added to requeue delays so the wake-up lands after the schedule time.
const REQUEUE_SLACK_MS: i64 = 100;

/// What one CronJob reconcile decided.
#[derive(Debug, Clone, PartialEq)]
pub struct CronDecision {
    /// Writes to perform, in order.
    pub actions: Vec<Action>,
    /// Reconcile again after this long (the next schedule time), if ever.
    pub requeue_after: Option<Duration>,
}

/// Reconciles `cj` against all `jobs` of its namespace at `now`.
pub fn reconcile_cronjob(cj: &CronJob, jobs: &[Arc<Job>], now: DateTime<Utc>) -> Result<CronDecision, CronError> {
    let spec = cj.spec.clone().unwrap_or_default();
    let tz = parse_time_zone(spec.time_zone.as_deref())?;
    let schedule = Schedule::parse(&spec.schedule)?;
    let uid = cj.metadata.uid.clone().unwrap_or_default();
    let mut out = Out { cj, actions: Vec::new(), status: cj.status.clone().unwrap_or_default() };
    if uid.is_empty() || cj.metadata.name.is_none() {
        return Ok(CronDecision { actions: Vec::new(), requeue_after: None });
    }
    let owned: Vec<&Job> = jobs.iter().map(|j| j.as_ref()).filter(|j| is_controlled_by(&j.metadata, &uid)).collect();
    sync_active(&mut out, &owned);
    let mut requeue_after = None;
    if cj.metadata.deletion_timestamp.is_none() && !spec.suspend.unwrap_or(false) {
        let ctx = Ctx { schedule: &schedule, tz, now };
        start_due_job(&mut out, &ctx, &owned);
        requeue_after = ctx.until_next();
    }
    clean_history(&mut out, &owned);
    out.write_status_if_changed();
    Ok(CronDecision { actions: out.actions, requeue_after })
}

/// The schedule in its zone, at `now`.
struct Ctx<'s> {
    schedule: &'s Schedule,
    tz: Tz,
    now: DateTime<Utc>,
}

impl Ctx<'_> {
    fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedule.next_after(t.with_timezone(&self.tz)).map(|n| n.with_timezone(&Utc))
    }

    /// Schedule times in (after, now]: the most recent, and whether more than 100 were missed.
    fn most_recent(&self, after: DateTime<Utc>) -> (Option<DateTime<Utc>>, bool) {
        let mut last = None;
        let mut cursor = after;
        for _ in 0..=TOO_MANY_MISSED {
            match self.next_after(cursor).filter(|t| *t <= self.now) {
                Some(t) => {
                    last = Some(t);
                    cursor = t;
                }
                None => return (last, false),
            }
        }
        (self.latest_in_windows(after), true)
    }

    /// The latest schedule time ≤ now, looking back in growing windows (for long outages).
    fn latest_in_windows(&self, floor: DateTime<Utc>) -> Option<DateTime<Utc>> {
        [TimeDelta::hours(1), TimeDelta::days(1), TimeDelta::days(32), TimeDelta::days(367), TimeDelta::days(1831)]
            .into_iter()
            .find_map(|w| self.last_from((self.now - w).max(floor)))
    }

    fn last_from(&self, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut last = None;
        let mut cursor = from;
        while let Some(t) = self.next_after(cursor).filter(|t| *t <= self.now) {
            last = Some(t);
            cursor = t;
        }
        last
    }

    fn until_next(&self) -> Option<Duration> {
        let next = self.next_after(self.now)?;
        (next - self.now + TimeDelta::milliseconds(REQUEUE_SLACK_MS)).to_std().ok()
    }
}

/// Accumulated actions and the status being built.
struct Out<'c> {
    cj: &'c CronJob,
    actions: Vec<Action>,
    status: CronJobStatus,
}

impl Out<'_> {
    fn ns(&self) -> Option<String> {
        self.cj.metadata.namespace.clone()
    }

    fn event(&mut self, event_type: EventType, reason: &str, message: String) {
        self.actions.push(Action::Event {
            kind: "CronJob",
            namespace: self.ns(),
            name: self.cj.metadata.name.clone().unwrap_or_default(),
            uid: self.cj.metadata.uid.clone().unwrap_or_default(),
            event_type,
            reason: reason.to_string(),
            message,
        });
    }

    fn active(&mut self) -> &mut Vec<ObjectReference> {
        self.status.active.get_or_insert_with(Vec::new)
    }

    fn delete_job(&mut self, job: &Job) {
        let name = job.metadata.name.clone().unwrap_or_default();
        self.actions.push(Action::Delete {
            kind: "Job",
            namespace: self.ns(),
            name: name.clone(),
            uid: job.metadata.uid.clone(),
            propagation: Some("Background"),
            grace_period_seconds: None,
        });
        let uid = job.metadata.uid.clone();
        self.active().retain(|r| r.uid != uid);
        self.event(EventType::Normal, "SuccessfulDelete", format!("Deleted job {name}"));
    }

    fn write_status_if_changed(&mut self) {
        let old = self.cj.status.clone().unwrap_or_default();
        if normalized(&old) == normalized(&self.status) {
            return;
        }
        let mut updated = self.cj.clone();
        updated.status = Some(self.status.clone());
        let Ok(object) = serde_json::to_value(&updated) else { return };
        let name = self.cj.metadata.name.clone().unwrap_or_default();
        self.actions.push(Action::UpdateStatus { kind: "CronJob", namespace: self.ns(), name, object });
    }
}

fn normalized(s: &CronJobStatus) -> CronJobStatus {
    CronJobStatus { active: s.active.clone().filter(|a| !a.is_empty()), ..s.clone() }
}

/// Whether the active-list entry `r` refers to `job`.
fn refers_to(r: &ObjectReference, job: &Job) -> bool {
    match r.uid.as_deref().filter(|u| !u.is_empty()) {
        Some(uid) => job.metadata.uid.as_deref() == Some(uid),
        None => r.name.is_some() && r.name == job.metadata.name,
    }
}

fn job_ref(job: &Job) -> ObjectReference {
    ObjectReference {
        api_version: Some("batch/v1".into()),
        kind: Some("Job".into()),
        name: job.metadata.name.clone(),
        namespace: job.metadata.namespace.clone(),
        uid: job.metadata.uid.clone(),
        resource_version: job.metadata.resource_version.clone(),
        field_path: None,
    }
}

/// Keeps `status.active` equal to the unfinished owned jobs; tracks `lastSuccessfulTime`.
fn sync_active(out: &mut Out, owned: &[&Job]) {
    for job in owned {
        let name = job.metadata.name.clone().unwrap_or_default();
        let listed = out.active().iter().position(|r| refers_to(r, job));
        match (cond::finished(job), listed) {
            (None, None) => out.active().push(job_ref(job)),
            (None, Some(_)) => {}
            (Some(done), Some(i)) => {
                let kind = done.type_.clone();
                out.active().remove(i);
                out.event(
                    EventType::Normal,
                    "SawCompletedJob",
                    format!("Saw completed job: {name}, condition: {kind}"),
                );
            }
            (Some(_), None) => {}
        }
        note_success(&mut out.status, job);
    }
    let (present, gone): (Vec<_>, Vec<_>) =
        std::mem::take(out.active()).into_iter().partition(|r| owned.iter().any(|j| refers_to(r, j)));
    *out.active() = present;
    for r in gone {
        let name = r.name.unwrap_or_default();
        out.event(EventType::Normal, "MissingJob", format!("Active job went missing: {name}"));
    }
}

fn note_success(status: &mut CronJobStatus, job: &Job) {
    if !cond::is_true(cond::of(job), cond::COMPLETE) {
        return;
    }
    let Some(done) = job.status.as_ref().and_then(|s| s.completion_time.clone()) else { return };
    if status.last_successful_time.as_ref().map(|t| t.0 < done.0).unwrap_or(true) {
        status.last_successful_time = Some(done);
    }
}

/// Starts the job for the most recent unmet schedule time, if one is due and allowed.
fn start_due_job(out: &mut Out, ctx: &Ctx, owned: &[&Job]) {
    let meta = &out.cj.metadata;
    let last = out.status.last_schedule_time.as_ref().map(|t| t.0);
    let earliest = last.or_else(|| meta.creation_timestamp.as_ref().map(|t| t.0)).unwrap_or(ctx.now);
    let deadline = out.cj.spec.as_ref().and_then(|s| s.starting_deadline_seconds);
    let window_start = match deadline.and_then(TimeDelta::try_seconds) {
        Some(d) => earliest.max(ctx.now - d),
        None => earliest,
    };
    let (due, many) = ctx.most_recent(window_start);
    if many {
        let msg = "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew";
        out.event(EventType::Warning, "TooManyMissedTimes", msg.to_string());
    }
    let Some(due) = due else {
        report_missed(out, ctx, earliest, window_start);
        return;
    };
    let name = job_name(out.cj, due);
    if last == Some(due) || owned.iter().any(|j| j.metadata.name.as_deref() == Some(name.as_str())) {
        out.status.last_schedule_time = Some(Time(due));
        return;
    }
    let policy = out.cj.spec.as_ref().and_then(|s| s.concurrency_policy.clone()).unwrap_or_default();
    let has_active = !out.active().is_empty();
    if policy == "Forbid" && has_active {
        let msg = "Not starting job because prior execution is running and concurrency policy is Forbid";
        out.event(EventType::Normal, "JobAlreadyActive", msg.to_string());
        return;
    }
    if policy == "Replace" {
        replace_active(out, owned);
    }
    create_job(out, ctx.tz, due, name);
}

/// Warns about a schedule time that fell before the starting deadline.
fn report_missed(out: &mut Out, ctx: &Ctx, earliest: DateTime<Utc>, window_start: DateTime<Utc>) {
    if window_start <= earliest {
        return;
    }
    let before_window = Ctx { now: window_start, ..*ctx };
    let Some(missed) = before_window.most_recent(earliest).0 else { return };
    let msg = format!("Missed scheduled time to start a job: {}", missed.format("%a, %d %b %Y %H:%M:%S %z"));
    out.event(EventType::Warning, "MissSchedule", msg);
}

fn replace_active(out: &mut Out, owned: &[&Job]) {
    let active = out.active().clone();
    let doomed = owned.iter().filter(|j| j.metadata.deletion_timestamp.is_none());
    for job in doomed.filter(|j| active.iter().any(|r| refers_to(r, j))) {
        out.delete_job(job);
    }
}

/// `<cronjob>-<minutes since the epoch>` of the schedule time.
pub fn job_name(cj: &CronJob, scheduled: DateTime<Utc>) -> String {
    let minutes = scheduled.timestamp().div_euclid(60);
    format!("{}-{}", cj.metadata.name.as_deref().unwrap_or(""), minutes)
}

/// The Job a CronJob runs for `scheduled` (`tz` formats the scheduled-timestamp annotation).
pub fn job_from_template(cj: &CronJob, tz: Tz, scheduled: DateTime<Utc>) -> Job {
    let template = cj.spec.as_ref().map(|s| s.job_template.clone()).unwrap_or_default();
    let meta = template.metadata.unwrap_or_default();
    let mut annotations: BTreeMap<String, String> = meta.annotations.unwrap_or_default();
    let stamp = scheduled.with_timezone(&tz).to_rfc3339_opts(SecondsFormat::Secs, true);
    annotations.insert(SCHEDULED_TIMESTAMP_ANNOTATION.to_string(), stamp);
    let (name, uid) = (cj.metadata.name.as_deref().unwrap_or(""), cj.metadata.uid.as_deref().unwrap_or(""));
    Job {
        metadata: ObjectMeta {
            name: Some(job_name(cj, scheduled)),
            namespace: cj.metadata.namespace.clone(),
            labels: meta.labels,
            annotations: Some(annotations),
            owner_references: Some(vec![controller_owner_ref("batch/v1", "CronJob", name, uid)]),
            ..Default::default()
        },
        spec: template.spec,
        status: None,
    }
}

fn create_job(out: &mut Out, tz: Tz, due: DateTime<Utc>, name: String) {
    let Ok(object) = serde_json::to_value(job_from_template(out.cj, tz, due)) else { return };
    out.actions.push(Action::Create { kind: "Job", namespace: out.ns(), object });
    out.event(EventType::Normal, "SuccessfulCreate", format!("Created job {name}"));
    out.status.last_schedule_time = Some(Time(due));
}

/// Deletes the oldest finished jobs beyond the history limits.
fn clean_history(out: &mut Out, owned: &[&Job]) {
    let spec = out.cj.spec.clone().unwrap_or_default();
    let limits = [
        (cond::COMPLETE, spec.successful_jobs_history_limit.unwrap_or(3)),
        (cond::FAILED, spec.failed_jobs_history_limit.unwrap_or(1)),
    ];
    for (kind, limit) in limits {
        let mut finished: Vec<&Job> = owned
            .iter()
            .copied()
            .filter(|j| j.metadata.deletion_timestamp.is_none())
            .filter(|j| cond::finished(j).map(|c| c.type_ == kind).unwrap_or(false))
            .collect();
        finished.sort_by_key(|j| {
            let start = j.status.as_ref().and_then(|s| s.start_time.clone()).map(|t| t.0);
            (start.is_none(), start, j.metadata.name.clone())
        });
        let excess = finished.len().saturating_sub(usize::try_from(limit.max(0)).unwrap_or(0));
        for job in finished.into_iter().take(excess) {
            out.delete_job(job);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::batch::testsim::CronSim;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_default()
    }

    fn created(d: &CronDecision) -> Vec<String> {
        d.actions
            .iter()
            .filter_map(|a| match a {
                Action::Create { kind: "Job", object, .. } => object["metadata"]["name"].as_str().map(String::from),
                _ => None,
            })
            .collect()
    }

    fn reasons(d: &CronDecision) -> Vec<String> {
        d.actions
            .iter()
            .filter_map(|a| match a {
                Action::Event { reason, .. } => Some(reason.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_minute_creates_one_job_per_minute() {
        let mut sim = CronSim::new("*/1 * * * *", at("2024-01-01T00:00:30Z"));
        let first = sim.step();
        assert!(created(&first).is_empty(), "nothing due before the first minute");
        assert_eq!(first.requeue_after, Some(Duration::from_millis(30_100)));
        let mut names = Vec::new();
        for _ in 0..5 {
            sim.advance_secs(60);
            let d = sim.step();
            names.extend(created(&d));
            sim.step(); // the job appears in status.active
                        // A second pass in the same minute creates nothing more.
            assert!(created(&sim.step()).is_empty());
        }
        assert_eq!(names.len(), 5);
        let minute = at("2024-01-01T00:01:00Z").timestamp() / 60;
        assert_eq!(names[0], format!("nightly-{minute}"));
        assert_eq!(sim.active_names().len(), 5);
        assert_eq!(sim.last_schedule(), Some(at("2024-01-01T00:05:00Z")));
        let job = sim.job(&names[0]).expect("job");
        let ann = job.metadata.annotations.as_ref().and_then(|a| a.get(SCHEDULED_TIMESTAMP_ANNOTATION)).cloned();
        assert_eq!(ann.as_deref(), Some("2024-01-01T00:01:00Z"));
        let owner = &job.metadata.owner_references.as_ref().expect("owner")[0];
        assert_eq!(
            (owner.kind.as_str(), owner.controller, owner.block_owner_deletion),
            ("CronJob", Some(true), Some(true))
        );
        assert_eq!(job.metadata.labels.as_ref().and_then(|l| l.get("team")).map(String::as_str), Some("data"));
    }

    #[test]
    fn crash_before_status_update_does_not_duplicate() {
        let mut sim = CronSim::new("*/1 * * * *", at("2024-01-01T00:00:30Z"));
        sim.advance_secs(60);
        let d = sim.reconcile();
        // Apply only the Create (the status write is lost), then reconcile again.
        sim.apply_only_creates(&d);
        let again = sim.step();
        assert!(created(&again).is_empty());
        assert_eq!(sim.last_schedule(), Some(at("2024-01-01T00:01:00Z")));
        assert_eq!(sim.jobs.len(), 1);
    }

    #[test]
    fn finished_jobs_leave_active_and_set_last_successful_time() {
        let mut sim = CronSim::new("*/1 * * * *", at("2024-01-01T00:00:30Z"));
        sim.advance_secs(60);
        sim.step();
        sim.step();
        let name = sim.active_names()[0].clone();
        sim.finish_job(&name, true);
        let d = sim.step();
        assert!(sim.active_names().is_empty());
        assert!(d.actions.iter().any(|a| matches!(a, Action::Event { reason, message, .. }
            if reason == "SawCompletedJob" && *message == format!("Saw completed job: {name}, condition: Complete"))));
        assert_eq!(sim.last_successful(), Some(sim.now));
    }

    #[test]
    fn forbid_skips_while_active() {
        let mut sim = CronSim::new("*/1 * * * *", at("2024-01-01T00:00:30Z"));
        sim.set_policy("Forbid");
        sim.advance_secs(60);
        sim.step();
        sim.step();
        sim.advance_secs(60);
        let d = sim.step();
        assert!(created(&d).is_empty());
        assert!(reasons(&d).contains(&"JobAlreadyActive".to_string()));
        assert_eq!(sim.jobs.len(), 1);
        // Once the running job finishes, the next minute starts a new one.
        let name = sim.active_names()[0].clone();
        sim.finish_job(&name, true);
        sim.advance_secs(60);
        let d = sim.step();
        assert_eq!(created(&d).len(), 1);
    }

    #[test]
    fn replace_deletes_the_active_job_then_creates() {
        let mut sim = CronSim::new("*/1 * * * *", at("2024-01-01T00:00:30Z"));
        sim.set_policy("Replace");
        sim.advance_secs(60);
        sim.step();
        sim.step();
        let old = sim.active_names()[0].clone();
        sim.advance_secs(60);
        let d = sim.step();
        let delete_pos = d.actions.iter().position(
            |a| matches!(a, Action::Delete { kind: "Job", name, propagation: Some("Background"), .. } if *name == old),
        );
        let create_pos = d.actions.iter().position(|a| matches!(a, Action::Create { kind: "Job", .. }));
        assert!(delete_pos.is_some() && create_pos.is_some() && delete_pos < create_pos, "{d:?}");
        assert!(d
            .actions
            .iter()
            .any(|a| matches!(a, Action::Event { message, .. } if *message == format!("Deleted job {old}"))));
        sim.step();
        assert_eq!(sim.active_names().len(), 1);
        assert_ne!(sim.active_names()[0], old);
    }

    #[test]
    fn starting_deadline_skips_an_old_missed_time() {
        let mut sim = CronSim::new("0 * * * *", at("2024-01-01T00:30:00Z"));
        sim.set_starting_deadline(60);
        sim.advance_secs(30 * 60 + 120); // 01:02, two minutes after the 01:00 time
        let d = sim.step();
        assert!(created(&d).is_empty());
        assert!(d
            .actions
            .iter()
            .any(|a| matches!(a, Action::Event { reason, message, event_type: EventType::Warning, .. }
            if reason == "MissSchedule" && message.contains("Mon, 01 Jan 2024 01:00:00 +0000"))));
        assert_eq!(d.requeue_after, Some(Duration::from_millis(58 * 60_000 + 100)));
        // Within the deadline it runs.
        sim.advance_secs(58 * 60 + 30); // 02:00:30
        assert_eq!(created(&sim.step()).len(), 1);
    }

    #[test]
    fn too_many_missed_times_still_runs_the_latest() {
        let mut sim = CronSim::new("*/1 * * * *", at("2024-01-01T00:00:30Z"));
        sim.advance_secs(3 * 3600);
        let d = sim.step();
        assert!(reasons(&d).contains(&"TooManyMissedTimes".to_string()));
        assert_eq!(created(&d).len(), 1);
        assert_eq!(sim.last_schedule(), Some(at("2024-01-01T03:00:00Z")));
    }

    #[test]
    fn history_limits_delete_the_oldest() {
        let mut sim = CronSim::new("*/1 * * * *", at("2024-01-01T00:00:30Z"));
        sim.set_history_limits(2, 1);
        let mut names = Vec::new();
        for i in 0..6 {
            sim.advance_secs(60);
            names.extend(created(&sim.step()));
            let last = names.last().cloned().unwrap_or_default();
            sim.finish_job(&last, i % 3 != 2); // jobs 2 and 5 fail
            sim.step();
        }
        let mut left: Vec<String> = sim.jobs.iter().filter_map(|j| j.metadata.name.clone()).collect();
        left.sort();
        let mut want = vec![names[3].clone(), names[4].clone(), names[5].clone()];
        want.sort();
        assert_eq!(left, want, "two newest successes and the newest failure are kept");
    }

    #[test]
    fn time_zone_shifts_the_schedule() {
        let mut sim = CronSim::new("0 9 * * *", at("2024-07-01T00:00:00Z"));
        sim.set_time_zone("Europe/Berlin");
        let d = sim.step();
        // 09:00 CEST is 07:00 UTC.
        assert_eq!(d.requeue_after, Some(Duration::from_millis(7 * 3_600_000 + 100)));
        sim.advance_secs(7 * 3600);
        let d = sim.step();
        let names = created(&d);
        assert_eq!(names.len(), 1);
        let job = sim.job(&names[0]).expect("job");
        let ann = job.metadata.annotations.as_ref().and_then(|a| a.get(SCHEDULED_TIMESTAMP_ANNOTATION)).cloned();
        assert_eq!(ann.as_deref(), Some("2024-07-01T09:00:00+02:00"));
        assert_eq!(sim.last_schedule(), Some(at("2024-07-01T07:00:00Z")));
    }

    #[test]
    fn suspended_starts_nothing() {
        let mut sim = CronSim::new("*/1 * * * *", at("2024-01-01T00:00:30Z"));
        sim.set_suspend(true);
        sim.advance_secs(120);
        let d = sim.step();
        assert!(created(&d).is_empty());
        assert_eq!(d.requeue_after, None);
    }

    #[test]
    fn missing_job_removed_from_active() {
        let mut sim = CronSim::new("*/1 * * * *", at("2024-01-01T00:00:30Z"));
        sim.advance_secs(60);
        sim.step();
        sim.step();
        sim.jobs.clear();
        let d = sim.step();
        assert!(reasons(&d).contains(&"MissingJob".to_string()));
        assert!(sim.active_names().is_empty());
    }

    #[test]
    fn bad_schedule_and_zone_are_errors() {
        let mut sim = CronSim::new("61 * * * *", at("2024-01-01T00:00:30Z"));
        assert!(matches!(sim.try_reconcile(), Err(CronError::InvalidField { .. })));
        sim = CronSim::new("* * * * *", at("2024-01-01T00:00:30Z"));
        sim.set_time_zone("Nowhere/Land");
        let err = sim.try_reconcile().err();
        assert_eq!(err.as_ref().map(|e| e.event_reason()), Some("UnknownTimeZone"));
    }
}
