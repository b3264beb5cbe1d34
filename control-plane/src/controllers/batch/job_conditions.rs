//! Job status conditions: the types, reasons and messages the Job controller writes, and helpers
//! to read and update a condition list.
//!
//! Guarantees: [`ensure`] changes a condition (and its `lastTransitionTime`/`lastProbeTime`) only
//! when its status actually changes, never adds a condition whose status is `False` (as upstream),
//! and appends new conditions at the end so their order records the order they happened in
//! (`SuccessCriteriaMet` before `Complete`, `FailureTarget` before `Failed`).

use chrono::{DateTime, Utc};
use k8s_openapi::api::batch::v1::{Job, JobCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Condition type: the job succeeded (terminal).
pub const COMPLETE: &str = "Complete";
/// Condition type: the job failed (terminal).
pub const FAILED: &str = "Failed";
/// Condition type: the job met its success criteria; `Complete` follows once no pod is left.
pub const SUCCESS_CRITERIA_MET: &str = "SuccessCriteriaMet";
/// Condition type: the job will fail; `Failed` follows once no pod is left.
pub const FAILURE_TARGET: &str = "FailureTarget";
/// Condition type: the job is (or was) suspended.
pub const SUSPENDED: &str = "Suspended";

/// A condition's reason and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// CamelCase reason, also used as the event reason for failures.
    pub reason: &'static str,
    /// Human message.
    pub message: &'static str,
}

/// More pods failed than `spec.backoffLimit` allows.
pub const BACKOFF_LIMIT_EXCEEDED: Verdict =
    Verdict { reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" };
/// The job ran longer than `spec.activeDeadlineSeconds`.
pub const DEADLINE_EXCEEDED: Verdict =
    Verdict { reason: "DeadlineExceeded", message: "Job was active longer than specified deadline" };
/// Enough pods succeeded.
pub const COMPLETIONS_REACHED: Verdict =
    Verdict { reason: "CompletionsReached", message: "Reached expected number of succeeded pods" };
/// `spec.suspend` became true.
pub const JOB_SUSPENDED: Verdict = Verdict { reason: "JobSuspended", message: "Job suspended" };
/// `spec.suspend` became false again.
pub const JOB_RESUMED: Verdict = Verdict { reason: "JobResumed", message: "Job resumed" };

/// The condition of `type_` in `conditions`, if any.
pub fn find<'a>(conditions: &'a [JobCondition], type_: &str) -> Option<&'a JobCondition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Whether `conditions` hold `type_` with status `True`.
pub fn is_true(conditions: &[JobCondition], type_: &str) -> bool {
    find(conditions, type_).map(|c| c.status == "True").unwrap_or(false)
}

/// The job's conditions (empty when it has no status).
pub fn of(job: &Job) -> &[JobCondition] {
    job.status.as_ref().and_then(|s| s.conditions.as_deref()).unwrap_or(&[])
}

/// The terminal condition (`Complete` or `Failed` with status True) of a finished job.
pub fn finished(job: &Job) -> Option<&JobCondition> {
    of(job).iter().find(|c| (c.type_ == COMPLETE || c.type_ == FAILED) && c.status == "True")
}

/// The condition's reason and message as a [`Verdict`], if it is one of the known verdicts.
pub fn verdict_of(condition: &JobCondition) -> Option<Verdict> {
    [BACKOFF_LIMIT_EXCEEDED, DEADLINE_EXCEEDED, COMPLETIONS_REACHED]
        .into_iter()
        .find(|v| condition.reason.as_deref() == Some(v.reason))
}

/// Sets condition `type_` to `status` with `verdict`; returns whether anything changed.
pub fn ensure(
    conditions: &mut Vec<JobCondition>,
    type_: &str,
    status: bool,
    verdict: Verdict,
    now: DateTime<Utc>,
) -> bool {
    let status = if status { "True" } else { "False" };
    match conditions.iter_mut().find(|c| c.type_ == type_) {
        Some(c) if c.status == status => false,
        Some(c) => {
            *c = new_condition(type_, status, verdict, now);
            true
        }
        None if status == "False" => false,
        None => {
            conditions.push(new_condition(type_, status, verdict, now));
            true
        }
    }
}

fn new_condition(type_: &str, status: &str, verdict: Verdict, now: DateTime<Utc>) -> JobCondition {
    JobCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: Some(verdict.reason.to_string()),
        message: Some(verdict.message.to_string()),
        last_probe_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap_or_default()
    }

    #[test]
    fn ensure_adds_true_and_skips_false() {
        let mut conds = Vec::new();
        assert!(!ensure(&mut conds, SUSPENDED, false, JOB_RESUMED, t(1)));
        assert!(conds.is_empty());
        assert!(ensure(&mut conds, SUSPENDED, true, JOB_SUSPENDED, t(1)));
        assert!(!ensure(&mut conds, SUSPENDED, true, JOB_SUSPENDED, t(2)));
        assert_eq!(conds[0].last_transition_time, Some(Time(t(1))));
        assert!(ensure(&mut conds, SUSPENDED, false, JOB_RESUMED, t(3)));
        assert_eq!(conds.len(), 1);
        assert_eq!((conds[0].status.as_str(), conds[0].reason.as_deref()), ("False", Some("JobResumed")));
        assert_eq!(conds[0].last_transition_time, Some(Time(t(3))));
    }

    #[test]
    fn order_is_kept_and_finished_found() {
        let mut conds = Vec::new();
        ensure(&mut conds, FAILURE_TARGET, true, BACKOFF_LIMIT_EXCEEDED, t(1));
        ensure(&mut conds, FAILED, true, BACKOFF_LIMIT_EXCEEDED, t(1));
        let types: Vec<&str> = conds.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, [FAILURE_TARGET, FAILED]);
        assert!(is_true(&conds, FAILED));
        assert!(!is_true(&conds, COMPLETE));
        assert_eq!(verdict_of(&conds[0]), Some(BACKOFF_LIMIT_EXCEEDED));
        let job = Job {
            status: Some(k8s_openapi::api::batch::v1::JobStatus { conditions: Some(conds), ..Default::default() }),
            ..Default::default()
        };
        assert_eq!(finished(&job).map(|c| c.type_.as_str()), Some(FAILED));
    }
}
