//! Pod and object state predicates shared by the workload controllers.
//!
//! Guarantees: every function is total (malformed or missing fields read as
//! their Kubernetes defaults), never reads the clock (`now` is a parameter),
//! and follows upstream semantics:
//! - a pod is *active* unless its phase is `Succeeded`/`Failed` or it carries a
//!   `deletionTimestamp`;
//! - a pod is *ready* when its `Ready` condition has status `True`;
//! - a pod is *available* when ready and either `minReadySeconds` is 0 or the
//!   Ready condition's `lastTransitionTime + minReadySeconds` is strictly before
//!   `now`;
//! - a label selector ANDs `matchLabels` and all `matchExpressions`; an empty
//!   selector, an unknown operator or an invalid requirement matches nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use k8s_openapi::api::core::v1::{Pod, PodCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

/// The pod's phase string, if any.
pub fn pod_phase(pod: &Pod) -> Option<&str> {
    pod.status.as_ref().and_then(|s| s.phase.as_deref())
}

/// True when the pod's phase is terminal (`Succeeded` or `Failed`).
pub fn is_pod_terminal(pod: &Pod) -> bool {
    matches!(pod_phase(pod), Some("Succeeded") | Some("Failed"))
}

/// True when the pod counts towards a controller's replicas: not terminal and
/// not being deleted.
pub fn is_pod_active(pod: &Pod) -> bool {
    !is_pod_terminal(pod) && pod.metadata.deletion_timestamp.is_none()
}

/// The pod's `Ready` condition, if reported.
pub fn ready_condition(pod: &Pod) -> Option<&PodCondition> {
    pod.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == "Ready")
}

/// True when the pod's `Ready` condition is `True`.
pub fn is_pod_ready(pod: &Pod) -> bool {
    ready_condition(pod).is_some_and(|c| c.status == "True")
}

/// When the pod became ready (the Ready condition's `lastTransitionTime`), if
/// it is ready and the time is known.
pub fn pod_ready_since(pod: &Pod) -> Option<DateTime<Utc>> {
    ready_condition(pod).filter(|c| c.status == "True").and_then(|c| c.last_transition_time.as_ref()).map(|t| t.0)
}

/// The instant after which a ready pod counts as available: `None` when it is
/// not ready, or when `min_ready_seconds > 0` and the ready time is unknown.
/// With `min_ready_seconds == 0` a ready pod is available from any time on
/// (`DateTime::<Utc>::MIN_UTC` is returned).
pub fn available_after(pod: &Pod, min_ready_seconds: i32) -> Option<DateTime<Utc>> {
    if !is_pod_ready(pod) {
        return None;
    }
    if min_ready_seconds <= 0 {
        return Some(DateTime::<Utc>::MIN_UTC);
    }
    pod_ready_since(pod).map(|t| t + Duration::seconds(i64::from(min_ready_seconds)))
}

/// True when the pod has been ready for at least `min_ready_seconds` as of
/// `now` (strictly after the threshold, like upstream).
pub fn is_pod_available(pod: &Pod, min_ready_seconds: i32, now: DateTime<Utc>) -> bool {
    if min_ready_seconds <= 0 {
        return is_pod_ready(pod);
    }
    available_after(pod, min_ready_seconds).is_some_and(|t| t < now)
}

pub use crate::controllers::owner::{controller_ref, is_controlled_by};

/// True when the selector has neither `matchLabels` nor `matchExpressions`.
pub fn selector_is_empty(sel: &LabelSelector) -> bool {
    crate::controllers::label_selector::is_empty(sel)
}

/// True when `labels` satisfy every `matchLabels` entry and every
/// `matchExpressions` requirement. An empty selector matches nothing (a
/// controller never adopts everything).
pub fn selector_matches(sel: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    !selector_is_empty(sel) && crate::controllers::label_selector::matches(sel, Some(labels))
}

/// The labels of an object's metadata (empty when absent).
pub fn labels_of(meta: &ObjectMeta) -> BTreeMap<String, String> {
    meta.labels.clone().unwrap_or_default()
}

/// True when every label in `wanted` is present with the same value in `labels`.
pub fn labels_superset(labels: &BTreeMap<String, String>, wanted: &BTreeMap<String, String>) -> bool {
    wanted.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::PodStatus;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelectorRequirement, OwnerReference, Time};

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap_or_default()
    }

    fn pod(phase: &str, ready: Option<(bool, i64)>) -> Pod {
        let conditions = ready.map(|(r, t)| {
            vec![PodCondition {
                type_: "Ready".into(),
                status: if r { "True" } else { "False" }.into(),
                last_transition_time: Some(Time(at(t))),
                ..Default::default()
            }]
        });
        Pod {
            status: Some(PodStatus { phase: Some(phase.into()), conditions, ..Default::default() }),
            ..Default::default()
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn req(key: &str, op: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: Some(values.iter().map(|v| v.to_string()).collect()),
        }
    }

    #[test]
    fn active_excludes_terminal_and_deleting() {
        assert!(is_pod_active(&pod("Running", None)));
        assert!(is_pod_active(&pod("Pending", None)));
        assert!(!is_pod_active(&pod("Succeeded", None)));
        assert!(!is_pod_active(&pod("Failed", None)));
        let mut p = pod("Running", None);
        p.metadata.deletion_timestamp = Some(Time(at(0)));
        assert!(!is_pod_active(&p));
        assert!(is_pod_active(&Pod::default()));
    }

    #[test]
    fn readiness_and_availability() {
        assert!(is_pod_ready(&pod("Running", Some((true, 0)))));
        assert!(!is_pod_ready(&pod("Running", Some((false, 0)))));
        assert!(!is_pod_ready(&pod("Running", None)));
        let p = pod("Running", Some((true, 0)));
        assert!(is_pod_available(&p, 0, at(0)));
        assert!(!is_pod_available(&p, 10, at(10)), "threshold is strict");
        assert!(is_pod_available(&p, 10, at(11)));
        assert_eq!(available_after(&p, 10), Some(at(10)));
        assert!(!is_pod_available(&pod("Running", Some((false, 0))), 0, at(100)));
    }

    #[test]
    fn selector_semantics() {
        let l = labels(&[("app", "web"), ("tier", "fe")]);
        let mut sel = LabelSelector { match_labels: Some(labels(&[("app", "web")])), ..Default::default() };
        assert!(selector_matches(&sel, &l));
        sel.match_expressions = Some(vec![req("tier", "In", &["fe", "be"])]);
        assert!(selector_matches(&sel, &l));
        sel.match_expressions = Some(vec![req("tier", "NotIn", &["fe"])]);
        assert!(!selector_matches(&sel, &l));
        sel.match_expressions = Some(vec![req("env", "NotIn", &["prod"]), req("app", "Exists", &[])]);
        assert!(selector_matches(&sel, &l));
        sel.match_expressions = Some(vec![req("app", "DoesNotExist", &[])]);
        assert!(!selector_matches(&sel, &l));
        sel.match_expressions = Some(vec![req("app", "Bogus", &[])]);
        assert!(!selector_matches(&sel, &l));
        sel.match_expressions = Some(vec![req("app", "In", &[])]);
        assert!(!selector_matches(&sel, &l), "In without values is invalid");
        assert!(!selector_matches(&LabelSelector::default(), &l), "empty selector matches nothing");
    }

    #[test]
    fn controller_reference_lookup() {
        let mut meta = ObjectMeta::default();
        assert!(controller_ref(&meta).is_none());
        meta.owner_references = Some(vec![
            OwnerReference { uid: "a".into(), controller: Some(false), ..Default::default() },
            OwnerReference { uid: "b".into(), controller: Some(true), ..Default::default() },
        ]);
        assert_eq!(controller_ref(&meta).map(|r| r.uid.as_str()), Some("b"));
        assert!(is_controlled_by(&meta, "b"));
        assert!(!is_controlled_by(&meta, "a"));
        assert!(!is_controlled_by(&meta, ""));
    }
}
