//! Deployment status conditions and rollout predicates (upstream
//! `deployment/util` semantics).
//!
//! Guarantees: setting a condition with the same status and reason is a
//! no-op; a condition whose status is unchanged keeps its
//! `lastTransitionTime`; condition times have whole-second precision (as the
//! API serializes them); the predicates match what `kubectl rollout status`
//! and the controller use: complete, progressing, timed out.

use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSetCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::controllers::workloads::fenceposts::desired_replicas;

/// Condition type: the Deployment has minimum availability.
pub const AVAILABLE: &str = "Available";
/// Condition type: the rollout is progressing / complete / stuck.
pub const PROGRESSING: &str = "Progressing";
/// Condition type: a ReplicaSet failed to create or delete pods.
pub const REPLICA_FAILURE: &str = "ReplicaFailure";

/// Reason: at least replicas − maxUnavailable are available.
pub const MIN_AVAILABLE: &str = "MinimumReplicasAvailable";
/// Reason: fewer than replicas − maxUnavailable are available.
pub const MIN_UNAVAILABLE: &str = "MinimumReplicasUnavailable";
/// Reason: the new ReplicaSet was created.
pub const NEW_RS_CREATED: &str = "NewReplicaSetCreated";
/// Reason: an existing ReplicaSet matches the template.
pub const FOUND_NEW_RS: &str = "FoundNewReplicaSet";
/// Reason: the rollout made progress.
pub const RS_UPDATED: &str = "ReplicaSetUpdated";
/// Reason: the rollout completed.
pub const NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
/// Reason: no progress within progressDeadlineSeconds.
pub const TIMED_OUT: &str = "ProgressDeadlineExceeded";
/// Reason: the Deployment is paused.
pub const PAUSED: &str = "DeploymentPaused";
/// Reason: the Deployment was resumed.
pub const RESUMED: &str = "DeploymentResumed";

/// Default `progressDeadlineSeconds`.
pub const DEFAULT_PROGRESS_DEADLINE_SECONDS: i32 = 600;

/// `now` truncated to whole seconds.
pub fn whole_seconds(now: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
}

/// A condition whose update and transition times are `now`.
pub fn new_condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
    now: DateTime<Utc>,
) -> DeploymentCondition {
    let t = Some(Time(whole_seconds(now)));
    DeploymentCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_update_time: t.clone(),
        last_transition_time: t,
    }
}

/// The condition of `type_`, if present.
pub fn get_condition<'a>(status: &'a DeploymentStatus, type_: &str) -> Option<&'a DeploymentCondition> {
    status.conditions.as_ref()?.iter().find(|c| c.type_ == type_)
}

/// Set a condition (upstream `SetDeploymentCondition`).
pub fn set_condition(status: &mut DeploymentStatus, mut cond: DeploymentCondition) {
    if let Some(current) = get_condition(status, &cond.type_) {
        if current.status == cond.status && current.reason == cond.reason {
            return;
        }
        if current.status == cond.status {
            cond.last_transition_time = current.last_transition_time.clone();
        }
    }
    remove_condition(status, &cond.type_);
    status.conditions.get_or_insert_with(Vec::new).push(cond);
}

/// Remove the condition of `type_`.
pub fn remove_condition(status: &mut DeploymentStatus, type_: &str) {
    if let Some(c) = status.conditions.as_mut() {
        c.retain(|x| x.type_ != type_);
    }
}

/// A ReplicaSet condition as a Deployment condition.
pub fn from_rs_condition(c: &ReplicaSetCondition) -> DeploymentCondition {
    DeploymentCondition {
        type_: c.type_.clone(),
        status: c.status.clone(),
        reason: c.reason.clone(),
        message: c.message.clone(),
        last_update_time: c.last_transition_time.clone(),
        last_transition_time: c.last_transition_time.clone(),
    }
}

/// The effective progress deadline, `None` when disabled (`i32::MAX`).
pub fn progress_deadline(d: &Deployment) -> Option<i32> {
    let secs = d.spec.as_ref().and_then(|s| s.progress_deadline_seconds).unwrap_or(DEFAULT_PROGRESS_DEADLINE_SECONDS);
    (secs != i32::MAX).then_some(secs)
}

/// Counters of a status (absent read as 0).
fn counts(s: &DeploymentStatus) -> (i64, i64, i64, i64) {
    let get = |v: Option<i32>| i64::from(v.unwrap_or(0));
    (get(s.replicas), get(s.updated_replicas), get(s.ready_replicas), get(s.available_replicas))
}

/// All replicas updated and available, no old ones, generation observed.
pub fn deployment_complete(d: &Deployment, s: &DeploymentStatus) -> bool {
    let want = i64::from(desired_replicas(d));
    let (replicas, updated, _, available) = counts(s);
    updated == want
        && replicas == want
        && available == want
        && s.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
}

/// Any progress between `old` and `new`: more updated, fewer old, more
/// ready or more available replicas.
pub fn deployment_progressing(old: &DeploymentStatus, new: &DeploymentStatus) -> bool {
    let (o_rep, o_upd, o_ready, o_avail) = counts(old);
    let (n_rep, n_upd, n_ready, n_avail) = counts(new);
    n_upd > o_upd || (n_rep - n_upd) < (o_rep - o_upd) || n_ready > o_ready || n_avail > o_avail
}

/// No progress for longer than the deadline since the Progressing
/// condition's last update.
pub fn deployment_timed_out(d: &Deployment, s: &DeploymentStatus, now: DateTime<Utc>) -> bool {
    let Some(deadline) = progress_deadline(d) else { return false };
    let Some(cond) = get_condition(s, PROGRESSING) else { return false };
    match cond.reason.as_deref() {
        Some(NEW_RS_AVAILABLE) => false,
        Some(TIMED_OUT) => true,
        _ => cond.last_update_time.as_ref().is_some_and(|t| t.0 + chrono::Duration::seconds(i64::from(deadline)) < now),
    }
}

/// When to check the progress deadline again for a rollout that is neither
/// complete nor timed out (plus one second of slack, at least one second).
pub fn progress_check_after(d: &Deployment, s: &DeploymentStatus, now: DateTime<Utc>) -> Option<Duration> {
    let deadline = progress_deadline(d)?;
    let cond = get_condition(s, PROGRESSING)?;
    if deployment_complete(d, s) || cond.reason.as_deref() == Some(TIMED_OUT) {
        return None;
    }
    let due = cond.last_update_time.as_ref()?.0 + chrono::Duration::seconds(i64::from(deadline));
    let wait = (due - now).to_std().unwrap_or_default();
    Some(wait + Duration::from_secs(1))
}

/// Status with zero counters and empty lists dropped (as the API omits
/// them), so comparisons ignore `0` vs absent.
pub fn normalized(mut s: DeploymentStatus) -> DeploymentStatus {
    for field in [
        &mut s.replicas,
        &mut s.updated_replicas,
        &mut s.ready_replicas,
        &mut s.available_replicas,
        &mut s.unavailable_replicas,
        &mut s.collision_count,
    ] {
        if *field == Some(0) {
            *field = None;
        }
    }
    if s.observed_generation == Some(0) {
        s.observed_generation = None;
    }
    if s.conditions.as_ref().is_some_and(Vec::is_empty) {
        s.conditions = None;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::DeploymentSpec;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap_or_default()
    }

    fn deployment(replicas: i32, generation: i64) -> Deployment {
        let mut d = Deployment {
            spec: Some(DeploymentSpec { replicas: Some(replicas), ..Default::default() }),
            ..Default::default()
        };
        d.metadata.generation = Some(generation);
        d
    }

    fn status(replicas: i32, updated: i32, ready: i32, available: i32, gen: i64) -> DeploymentStatus {
        DeploymentStatus {
            replicas: Some(replicas),
            updated_replicas: Some(updated),
            ready_replicas: Some(ready),
            available_replicas: Some(available),
            observed_generation: Some(gen),
            ..Default::default()
        }
    }

    #[test]
    fn set_condition_keeps_transition_time_when_status_unchanged() {
        let mut s = DeploymentStatus::default();
        set_condition(&mut s, new_condition(PROGRESSING, "True", NEW_RS_CREATED, "a".into(), at(0)));
        set_condition(&mut s, new_condition(PROGRESSING, "True", NEW_RS_CREATED, "b".into(), at(5)));
        let c = get_condition(&s, PROGRESSING).cloned().unwrap_or_default();
        assert_eq!(c.message.as_deref(), Some("a"), "same status and reason is a no-op");
        set_condition(&mut s, new_condition(PROGRESSING, "True", RS_UPDATED, "c".into(), at(7)));
        let c = get_condition(&s, PROGRESSING).cloned().unwrap_or_default();
        assert_eq!(c.last_transition_time, Some(Time(at(0))));
        assert_eq!(c.last_update_time, Some(Time(at(7))));
        set_condition(&mut s, new_condition(PROGRESSING, "False", TIMED_OUT, "d".into(), at(9)));
        let c = get_condition(&s, PROGRESSING).cloned().unwrap_or_default();
        assert_eq!(c.last_transition_time, Some(Time(at(9))));
        assert_eq!(s.conditions.as_ref().map(Vec::len), Some(1));
    }

    #[test]
    fn completion_and_progress() {
        let d = deployment(3, 2);
        assert!(deployment_complete(&d, &status(3, 3, 3, 3, 2)));
        assert!(!deployment_complete(&d, &status(3, 3, 3, 3, 1)), "generation not observed");
        assert!(!deployment_complete(&d, &status(4, 3, 4, 4, 2)), "old pods remain");
        assert!(deployment_progressing(&status(4, 1, 4, 4, 2), &status(4, 2, 4, 4, 2)));
        assert!(deployment_progressing(&status(5, 2, 4, 4, 2), &status(4, 2, 4, 4, 2)));
        assert!(!deployment_progressing(&status(4, 2, 4, 4, 2), &status(4, 2, 3, 3, 2)));
    }

    #[test]
    fn timeout_after_deadline_without_progress() {
        let mut d = deployment(3, 1);
        if let Some(s) = d.spec.as_mut() {
            s.progress_deadline_seconds = Some(60);
        }
        let mut s = status(3, 1, 1, 1, 1);
        set_condition(&mut s, new_condition(PROGRESSING, "True", RS_UPDATED, "x".into(), at(0)));
        assert!(!deployment_timed_out(&d, &s, at(60)));
        assert!(deployment_timed_out(&d, &s, at(61)));
        assert_eq!(progress_check_after(&d, &s, at(30)), Some(Duration::from_secs(31)));
        if let Some(s) = d.spec.as_mut() {
            s.progress_deadline_seconds = Some(i32::MAX);
        }
        assert!(!deployment_timed_out(&d, &s, at(10_000)));
        assert_eq!(progress_check_after(&d, &s, at(30)), None);
    }
}
