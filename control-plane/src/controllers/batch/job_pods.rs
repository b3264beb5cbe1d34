//! The pods of a Job: which pods it controls, adopts or releases, and the per-pod facts the Job
//! controller counts (phase, readiness, restarts, finish time, deletion order).
//!
//! Guarantees:
//! - A pod belongs to the job when its controller ownerReference has the job's uid. An orphan
//!   (no controller reference, not being deleted) whose labels match the job's non-empty selector
//!   is adopted; an owned pod (not being deleted) whose labels no longer match is released. Both
//!   are JSON merge patches of `metadata.ownerReferences` carrying the pod's `resourceVersion`,
//!   so they are compare-and-swap writes.
//! - Missing fields are defaults: no phase is `Pending`, no restart count is 0, no finish time is
//!   `None`.

use std::cmp::Ordering;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, OwnerReference};
use serde_json::{json, Value};

use crate::controllers::label_selector as selector;
use crate::controllers::owner::{controller_owner_ref, controller_ref, is_controlled_by};

/// The outcome of matching a namespace's pods against one job.
#[derive(Debug, Default)]
pub struct Claimed<'a> {
    /// Pods the job controls for this reconcile: owned (still matching) plus adopted.
    pub owned: Vec<&'a Pod>,
    /// Orphans to adopt.
    pub adopt: Vec<&'a Pod>,
    /// Owned pods that no longer match the selector, to release.
    pub release: Vec<&'a Pod>,
}

/// Sorts `pods` into owned, adopted and released for the job with `uid` and `selector`.
pub fn claim<'a>(uid: &str, selector: &LabelSelector, pods: &'a [Arc<Pod>]) -> Claimed<'a> {
    let mut out = Claimed::default();
    let usable = !selector::is_empty(selector);
    for pod in pods.iter().map(|p| p.as_ref()) {
        let labels_match = usable && selector::matches(selector, pod.metadata.labels.as_ref());
        let deleting = pod.metadata.deletion_timestamp.is_some();
        if is_controlled_by(&pod.metadata, uid) {
            if labels_match || deleting {
                out.owned.push(pod);
            } else {
                out.release.push(pod);
            }
        } else if controller_ref(&pod.metadata).is_none() && labels_match && !deleting {
            out.adopt.push(pod);
            out.owned.push(pod);
        }
    }
    out
}

/// The controller reference a job puts on its pods.
pub fn job_owner_ref(job: &Job) -> OwnerReference {
    let meta = &job.metadata;
    controller_owner_ref("batch/v1", "Job", meta.name.as_deref().unwrap_or(""), meta.uid.as_deref().unwrap_or(""))
}

/// Merge patch making `owner` the pod's controller (keeping its other references).
pub fn adopt_patch(pod: &Pod, owner: OwnerReference) -> Value {
    let mut refs: Vec<OwnerReference> = pod.metadata.owner_references.clone().unwrap_or_default();
    refs.push(owner);
    refs_patch(pod, refs)
}

/// Merge patch removing the reference to `uid` from the pod.
pub fn release_patch(pod: &Pod, uid: &str) -> Value {
    let refs: Vec<OwnerReference> =
        pod.metadata.owner_references.iter().flatten().filter(|r| r.uid != uid).cloned().collect();
    refs_patch(pod, refs)
}

fn refs_patch(pod: &Pod, refs: Vec<OwnerReference>) -> Value {
    let mut meta = json!({ "ownerReferences": refs });
    if let Some(rv) = &pod.metadata.resource_version {
        meta["resourceVersion"] = json!(rv);
    }
    json!({ "metadata": meta })
}

/// The pod's phase ("Pending" when unset).
pub fn phase(pod: &Pod) -> &str {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("Pending")
}

/// Whether the pod succeeded.
pub fn is_succeeded(pod: &Pod) -> bool {
    phase(pod) == "Succeeded"
}

/// Whether the pod failed.
pub fn is_failed(pod: &Pod) -> bool {
    phase(pod) == "Failed"
}

/// Not finished and not being deleted: counts toward `status.active`.
pub fn is_active(pod: &Pod) -> bool {
    !is_succeeded(pod) && !is_failed(pod) && pod.metadata.deletion_timestamp.is_none()
}

/// Not finished but being deleted: counts toward `status.terminating`.
pub fn is_terminating(pod: &Pod) -> bool {
    !is_succeeded(pod) && !is_failed(pod) && pod.metadata.deletion_timestamp.is_some()
}

/// Whether the pod's Ready condition is True.
pub fn is_ready(pod: &Pod) -> bool {
    ready_condition(pod).map(|c| c.status == "True").unwrap_or(false)
}

fn ready_condition(pod: &Pod) -> Option<&k8s_openapi::api::core::v1::PodCondition> {
    pod.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == "Ready")
}

fn all_container_statuses(pod: &Pod) -> impl Iterator<Item = &ContainerStatus> {
    let status = pod.status.as_ref();
    let init = status.and_then(|s| s.init_container_statuses.as_ref()).into_iter().flatten();
    let main = status.and_then(|s| s.container_statuses.as_ref()).into_iter().flatten();
    init.chain(main)
}

/// Sum of container (and init container) restart counts.
pub fn restart_count(pod: &Pod) -> i64 {
    all_container_statuses(pod).map(|c| i64::from(c.restart_count.max(0))).sum()
}

/// When the pod finished: the latest container termination, else the Ready condition's last
/// transition.
pub fn finish_time(pod: &Pod) -> Option<DateTime<Utc>> {
    let terminated = all_container_statuses(pod)
        .filter_map(|c| c.state.as_ref()?.terminated.as_ref()?.finished_at.as_ref())
        .map(|t| t.0)
        .max();
    terminated.or_else(|| ready_condition(pod)?.last_transition_time.as_ref().map(|t| t.0))
}

/// Order in which to delete surplus active pods: the cheapest to lose first (unscheduled,
/// then pending, not ready, most restarted, newest).
pub fn deletion_order(a: &Pod, b: &Pod) -> Ordering {
    deletion_key(a)
        .cmp(&deletion_key(b))
        .then_with(|| b.metadata.creation_timestamp.cmp(&a.metadata.creation_timestamp))
}

fn deletion_key(p: &Pod) -> (bool, u8, bool, i64) {
    let scheduled = p.spec.as_ref().and_then(|s| s.node_name.as_deref()).map(|n| !n.is_empty()).unwrap_or(false);
    let phase_rank = match phase(p) {
        "Pending" => 0,
        "Running" => 2,
        _ => 1,
    };
    (scheduled, phase_rank, is_ready(p), -restart_count(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{ContainerState, ContainerStateTerminated, PodCondition, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
    use std::collections::BTreeMap;

    fn labels(v: &str) -> Option<BTreeMap<String, String>> {
        Some([("app".to_string(), v.to_string())].into())
    }

    fn pod(name: &str, app: &str, owner: Option<&str>) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: labels(app),
                resource_version: Some("7".into()),
                owner_references: owner.map(|u| vec![controller_owner_ref("batch/v1", "Job", "j", u)]),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn sel() -> LabelSelector {
        LabelSelector { match_labels: labels("x"), match_expressions: None }
    }

    #[test]
    fn claims_owned_adopts_orphans_releases_mismatches() {
        let pods: Vec<Arc<Pod>> = vec![
            Arc::new(pod("mine", "x", Some("u"))),
            Arc::new(pod("orphan", "x", None)),
            Arc::new(pod("other", "x", Some("v"))),
            Arc::new(pod("moved", "y", Some("u"))),
            Arc::new(pod("unrelated", "y", None)),
        ];
        let c = claim("u", &sel(), &pods);
        let names = |v: &[&Pod]| v.iter().map(|p| p.metadata.name.clone().unwrap_or_default()).collect::<Vec<_>>();
        assert_eq!(names(&c.owned), ["mine", "orphan"]);
        assert_eq!(names(&c.adopt), ["orphan"]);
        assert_eq!(names(&c.release), ["moved"]);
        // An empty selector adopts nothing.
        let c = claim("u", &LabelSelector::default(), &pods);
        assert!(c.adopt.is_empty());
    }

    #[test]
    fn patches_carry_resource_version() {
        let p = pod("orphan", "x", None);
        let patch = adopt_patch(&p, controller_owner_ref("batch/v1", "Job", "j", "u"));
        assert_eq!(patch["metadata"]["resourceVersion"], "7");
        assert_eq!(patch["metadata"]["ownerReferences"][0]["uid"], "u");
        assert_eq!(patch["metadata"]["ownerReferences"][0]["controller"], true);
        let released = release_patch(&pod("m", "y", Some("u")), "u");
        assert_eq!(released["metadata"]["ownerReferences"], json!([]));
    }

    #[test]
    fn finish_time_prefers_container_termination() {
        let at = |s| Some(Time(DateTime::from_timestamp(s, 0).unwrap_or_default()));
        let mut p = pod("p", "x", None);
        p.status = Some(PodStatus {
            phase: Some("Failed".into()),
            conditions: Some(vec![PodCondition {
                type_: "Ready".into(),
                status: "False".into(),
                last_transition_time: at(50),
                ..Default::default()
            }]),
            ..Default::default()
        });
        assert_eq!(finish_time(&p), at(50).map(|t| t.0));
        let term = |s| ContainerStatus {
            state: Some(ContainerState {
                terminated: Some(ContainerStateTerminated { finished_at: at(s), ..Default::default() }),
                ..Default::default()
            }),
            restart_count: 2,
            ..Default::default()
        };
        if let Some(st) = p.status.as_mut() {
            st.container_statuses = Some(vec![term(40), term(45)]);
        }
        assert_eq!(finish_time(&p), at(45).map(|t| t.0));
        assert_eq!(restart_count(&p), 4);
    }

    #[test]
    fn deletes_unscheduled_and_unready_first() {
        let mut running = pod("run", "x", None);
        running.spec = Some(PodSpec { node_name: Some("n1".into()), ..Default::default() });
        running.status = Some(PodStatus { phase: Some("Running".into()), ..Default::default() });
        let pending = pod("pend", "x", None);
        let mut pods = [&running, &pending];
        pods.sort_by(|a, b| deletion_order(a, b));
        assert_eq!(pods[0].metadata.name.as_deref(), Some("pend"));
    }
}
