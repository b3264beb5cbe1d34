//! Pure reconcile of one ReplicaSet against the pods of its namespace.
//!
//! Guarantees (upstream ReplicaSet controller semantics):
//! - only active pods are considered; orphans matching the selector are
//!   adopted and owned pods that stopped matching are released (CAS patches),
//!   never when the ReplicaSet is being deleted; an empty selector adopts and
//!   releases nothing;
//! - no pod is created when the template's labels do not match the selector;
//! - a ReplicaSet being deleted gets at most a status update;
//! - missing pods are created from `spec.template` (at most [`BURST_REPLICAS`]
//!   per call), surplus pods are deleted in [`crate::controllers::workloads::pod_ranking`] order with
//!   a uid precondition, each write followed by its Event;
//! - the status is written (`UpdateStatus`, CAS on resourceVersion) only when
//!   it changed; counts are of the owned active pods seen before this call's
//!   creations/deletions, like upstream.
//!
//! Event placeholder: the `SuccessfulCreate` Event that follows each pod
//! `Create` has the message `Created pod: {name}`, where `{name}` is a literal
//! placeholder the runner replaces with the name the API server generated for
//! the immediately preceding `Create`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use crate::controllers::workloads::claim::{adopt_patch, claim, controller_owner_ref, release_patch, Claim};
use crate::controllers::workloads::pod_ranking::pods_to_delete;
use crate::controllers::workloads::pod_state::{
    available_after, is_controlled_by, is_pod_active, is_pod_available, is_pod_ready, labels_of, labels_superset,
    selector_is_empty, selector_matches,
};
use crate::runtime::action::{Action, EventType};

/// Most pod creations or deletions issued by one reconcile call.
pub const BURST_REPLICAS: usize = 500;

/// Literal placeholder in `SuccessfulCreate` messages, replaced by the runner
/// with the created pod's name.
pub const CREATED_NAME_PLACEHOLDER: &str = "{name}";

/// Reconcile `rs` against `pods` (all pods in its namespace) at `now`.
pub fn reconcile_replicaset(rs: &ReplicaSet, pods: &[Arc<Pod>], now: DateTime<Utc>) -> Vec<Action> {
    let mut actions = Vec::new();
    let owned = claim_pods(rs, pods, &mut actions);
    if rs.metadata.deletion_timestamp.is_none() {
        manage_replicas(rs, &owned, &mut actions);
    }
    let status = calculate_status(rs, &owned, now);
    if normalized(rs.status.clone().unwrap_or_default()) != status {
        let mut updated = rs.clone();
        updated.status = Some(status);
        actions.push(Action::UpdateStatus {
            kind: "ReplicaSet",
            namespace: rs.metadata.namespace.clone(),
            name: name_of(&rs.metadata),
            object: to_json(&updated),
        });
    }
    actions
}

/// When a ready owned pod will become available because of
/// `minReadySeconds`: the wait until the earliest such pod counts (plus one
/// second of slack), or `None` when nothing is pending.
pub fn requeue_after(rs: &ReplicaSet, pods: &[Arc<Pod>], now: DateTime<Utc>) -> Option<Duration> {
    let min_ready = min_ready_seconds(rs);
    if min_ready <= 0 {
        return None;
    }
    let uid = rs.metadata.uid.as_deref().unwrap_or_default();
    pods.iter()
        .filter(|p| is_pod_active(p) && is_controlled_by(&p.metadata, uid))
        .filter_map(|p| available_after(p, min_ready))
        .filter(|t| *t >= now)
        .min()
        .and_then(|t| (t - now).to_std().ok())
        .map(|d| d + Duration::from_secs(1))
}

/// The ReplicaSet's desired replicas (default 1).
pub fn desired_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0)
}

fn min_ready_seconds(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0)
}

fn name_of(meta: &ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn same_namespace(rs: &ReplicaSet, pod: &Pod) -> bool {
    match (&rs.metadata.namespace, &pod.metadata.namespace) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// Active pods this ReplicaSet owns after adoption/release; pushes the
/// adoption and release patches.
fn claim_pods(rs: &ReplicaSet, pods: &[Arc<Pod>], actions: &mut Vec<Action>) -> Vec<Arc<Pod>> {
    let selector = rs.spec.as_ref().map(|s| &s.selector).filter(|s| !selector_is_empty(s));
    let owner_ref = controller_owner_ref("apps/v1", "ReplicaSet", &rs.metadata);
    let mut owned = Vec::new();
    for pod in pods.iter().filter(|p| is_pod_active(p) && same_namespace(rs, p)) {
        let matches = match selector {
            Some(s) => selector_matches(s, &labels_of(&pod.metadata)),
            None => is_controlled_by(&pod.metadata, &owner_ref.uid),
        };
        let patch = match claim(&pod.metadata, &rs.metadata, matches) {
            Claim::Owned => {
                owned.push(Arc::clone(pod));
                continue;
            }
            Claim::Ignore => continue,
            Claim::Adopt => {
                owned.push(Arc::clone(pod));
                adopt_patch(&pod.metadata, &owner_ref)
            }
            Claim::Release => release_patch(&pod.metadata, &owner_ref.uid),
        };
        actions.push(Action::Patch {
            kind: "Pod",
            namespace: pod.metadata.namespace.clone(),
            name: name_of(&pod.metadata),
            patch,
        });
    }
    owned
}

/// Create or delete pods so the owned count approaches the desired count.
fn manage_replicas(rs: &ReplicaSet, owned: &[Arc<Pod>], actions: &mut Vec<Action>) {
    let desired = usize::try_from(desired_replicas(rs)).unwrap_or_default();
    if owned.len() < desired {
        let count = (desired - owned.len()).min(BURST_REPLICAS);
        if let Some(pod) = pod_from_template(rs) {
            for _ in 0..count {
                actions.push(Action::Create {
                    kind: "Pod",
                    namespace: rs.metadata.namespace.clone(),
                    object: pod.clone(),
                });
                let msg = format!("Created pod: {CREATED_NAME_PLACEHOLDER}");
                actions.push(rs_event(rs, "SuccessfulCreate", msg));
            }
        }
    } else if owned.len() > desired {
        let count = (owned.len() - desired).min(BURST_REPLICAS);
        for pod in pods_to_delete(owned, count) {
            let name = name_of(&pod.metadata);
            actions.push(Action::Delete {
                kind: "Pod",
                namespace: pod.metadata.namespace.clone(),
                name: name.clone(),
                uid: pod.metadata.uid.clone(),
                propagation: None,
                grace_period_seconds: None,
            });
            actions.push(rs_event(rs, "SuccessfulDelete", format!("Deleted pod: {name}")));
        }
    }
}

fn rs_event(rs: &ReplicaSet, reason: &str, message: String) -> Action {
    Action::Event {
        kind: "ReplicaSet",
        namespace: rs.metadata.namespace.clone(),
        name: name_of(&rs.metadata),
        uid: rs.metadata.uid.clone().unwrap_or_default(),
        event_type: EventType::Normal,
        reason: reason.to_string(),
        message,
    }
}

/// The pod to create for `rs`: template labels/annotations/finalizers/spec,
/// `generateName` "<rs>-", the namespace and a controller reference. `None`
/// when there is no template or its labels do not match the selector (such
/// pods would never count, so creating them would never stop).
fn pod_from_template(rs: &ReplicaSet) -> Option<Value> {
    let spec = rs.spec.as_ref()?;
    let template = spec.template.as_ref()?;
    let tmeta = template.metadata.clone().unwrap_or_default();
    if !selector_matches(&spec.selector, &tmeta.labels.clone().unwrap_or_default()) {
        return None;
    }
    let meta = ObjectMeta {
        generate_name: Some(format!("{}-", name_of(&rs.metadata))),
        namespace: rs.metadata.namespace.clone(),
        labels: tmeta.labels,
        annotations: tmeta.annotations,
        finalizers: tmeta.finalizers,
        owner_references: Some(vec![controller_owner_ref("apps/v1", "ReplicaSet", &rs.metadata)]),
        ..Default::default()
    };
    let pod = Pod { metadata: meta, spec: template.spec.clone(), status: None };
    Some(to_json(&pod))
}

fn calculate_status(rs: &ReplicaSet, owned: &[Arc<Pod>], now: DateTime<Utc>) -> ReplicaSetStatus {
    let template_labels = rs
        .spec
        .as_ref()
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.metadata.as_ref())
        .map(labels_of)
        .unwrap_or_default();
    let min_ready = min_ready_seconds(rs);
    let count = |f: &dyn Fn(&Pod) -> bool| i32::try_from(owned.iter().filter(|p| f(p)).count()).unwrap_or(i32::MAX);
    let previous = rs.status.clone().unwrap_or_default();
    normalized(ReplicaSetStatus {
        replicas: count(&|_| true),
        fully_labeled_replicas: Some(count(&|p| labels_superset(&labels_of(&p.metadata), &template_labels))),
        ready_replicas: Some(count(&is_pod_ready)),
        available_replicas: Some(count(&|p| is_pod_available(p, min_ready, now))),
        observed_generation: rs.metadata.generation.or(previous.observed_generation),
        conditions: previous.conditions,
    })
}

/// Status with zero counters and empty lists dropped (as the API omits them),
/// so comparisons ignore `0` vs absent.
fn normalized(mut s: ReplicaSetStatus) -> ReplicaSetStatus {
    for field in [&mut s.fully_labeled_replicas, &mut s.ready_replicas, &mut s.available_replicas] {
        if *field == Some(0) {
            *field = None;
        }
    }
    if s.conditions.as_ref().is_some_and(Vec::is_empty) {
        s.conditions = None;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::ReplicaSetSpec;
    use k8s_openapi::api::core::v1::{PodCondition, PodSpec, PodStatus, PodTemplateSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, OwnerReference, Time};
    use serde_json::json;
    use std::collections::BTreeMap;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap_or_default()
    }

    fn app(v: &str) -> BTreeMap<String, String> {
        [("app".to_string(), v.to_string())].into()
    }

    fn rs(replicas: i32, min_ready: i32) -> ReplicaSet {
        ReplicaSet {
            metadata: ObjectMeta {
                name: Some("web-abc".into()),
                namespace: Some("ns".into()),
                uid: Some("rs-uid".into()),
                resource_version: Some("10".into()),
                generation: Some(2),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(replicas),
                min_ready_seconds: Some(min_ready),
                selector: LabelSelector { match_labels: Some(app("web")), ..Default::default() },
                template: Some(PodTemplateSpec {
                    metadata: Some(ObjectMeta { labels: Some(app("web")), ..Default::default() }),
                    spec: Some(PodSpec::default()),
                }),
            }),
            status: None,
        }
    }

    struct P {
        name: &'static str,
        owner: Option<&'static str>,
        ready_at: Option<i64>,
        created: i64,
    }

    fn pod(p: P) -> Arc<Pod> {
        let metadata = ObjectMeta {
            name: Some(p.name.into()),
            namespace: Some("ns".into()),
            uid: Some(format!("uid-{}", p.name)),
            resource_version: Some("3".into()),
            labels: Some(app("web")),
            creation_timestamp: Some(Time(at(p.created))),
            owner_references: p.owner.map(|o| {
                vec![OwnerReference {
                    uid: o.into(),
                    controller: Some(true),
                    kind: "ReplicaSet".into(),
                    ..Default::default()
                }]
            }),
            ..Default::default()
        };
        let cond = PodCondition {
            type_: "Ready".into(),
            status: if p.ready_at.is_some() { "True" } else { "False" }.into(),
            last_transition_time: Some(Time(at(p.ready_at.unwrap_or(p.created)))),
            ..Default::default()
        };
        Arc::new(Pod {
            metadata,
            spec: Some(PodSpec { node_name: Some("n1".into()), ..Default::default() }),
            status: Some(PodStatus {
                phase: Some("Running".into()),
                conditions: Some(vec![cond]),
                ..Default::default()
            }),
        })
    }

    fn owned(name: &'static str, ready_at: Option<i64>, created: i64) -> Arc<Pod> {
        pod(P { name, owner: Some("rs-uid"), ready_at, created })
    }

    fn count(actions: &[Action], f: impl Fn(&Action) -> bool) -> usize {
        actions.iter().filter(|a| f(a)).count()
    }

    fn deleted(actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Delete { name, uid, .. } => {
                    assert!(uid.is_some(), "deletes carry the uid precondition");
                    Some(name.clone())
                }
                _ => None,
            })
            .collect()
    }

    fn status_of(actions: &[Action]) -> Option<ReplicaSetStatus> {
        actions.iter().find_map(|a| match a {
            Action::UpdateStatus { object, .. } => {
                assert_eq!(object["metadata"]["resourceVersion"], "10");
                serde_json::from_value::<ReplicaSet>(object.clone()).ok().and_then(|r| r.status)
            }
            _ => None,
        })
    }

    #[test]
    fn creates_missing_pods_with_owner_ref_and_events() {
        let actions = reconcile_replicaset(&rs(3, 0), &[owned("a", Some(0), 0)], at(5));
        assert_eq!(count(&actions, |a| matches!(a, Action::Create { .. })), 2);
        let Some(Action::Create { object, namespace, .. }) = actions.first() else {
            panic!("first action should be a create: {actions:?}")
        };
        assert_eq!(namespace.as_deref(), Some("ns"));
        assert_eq!(object["metadata"]["generateName"], "web-abc-");
        assert_eq!(object["metadata"]["labels"]["app"], "web");
        assert_eq!(object["metadata"]["ownerReferences"][0]["uid"], "rs-uid");
        assert_eq!(object["metadata"]["ownerReferences"][0]["controller"], true);
        assert!(matches!(&actions[1], Action::Event { reason, message, .. }
            if reason == "SuccessfulCreate" && message == "Created pod: {name}"));
        let status = status_of(&actions).unwrap_or_default();
        assert_eq!((status.replicas, status.ready_replicas, status.observed_generation), (1, Some(1), Some(2)));
    }

    #[test]
    fn creation_is_capped_per_call() {
        let actions = reconcile_replicaset(&rs(800, 0), &[], at(0));
        assert_eq!(count(&actions, |a| matches!(a, Action::Create { .. })), BURST_REPLICAS);
    }

    #[test]
    fn scale_down_deletes_not_ready_then_newest() {
        let pods = vec![
            owned("old1", Some(1), 0),
            owned("old2", Some(1), 1),
            owned("notready", None, 0),
            owned("newest", Some(30), 20),
            owned("mid", Some(10), 10),
            owned("old3", Some(1), 2),
        ];
        let actions = reconcile_replicaset(&rs(2, 0), &pods, at(60));
        assert_eq!(deleted(&actions), ["notready", "newest", "mid", "old3"]);
        assert!(actions.iter().any(|a| matches!(a, Action::Event { reason, message, .. }
            if reason == "SuccessfulDelete" && message == "Deleted pod: notready")));
    }

    #[test]
    fn adopts_orphans_and_releases_mismatches() {
        let orphan = pod(P { name: "orphan", owner: None, ready_at: Some(0), created: 0 });
        let mut relabeled = (*owned("relabeled", Some(0), 0)).clone();
        relabeled.metadata.labels = Some(app("debug"));
        let foreign = pod(P { name: "foreign", owner: Some("other"), ready_at: Some(0), created: 0 });
        let actions = reconcile_replicaset(&rs(1, 0), &[orphan, Arc::new(relabeled), foreign], at(5));
        let patches: Vec<(&String, &Value)> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Patch { name, patch, .. } => Some((name, patch)),
                _ => None,
            })
            .collect();
        assert_eq!(patches.len(), 2);
        assert_eq!(patches[0].0, "orphan");
        assert_eq!(patches[0].1["metadata"]["resourceVersion"], "3");
        assert_eq!(patches[0].1["metadata"]["ownerReferences"][0]["name"], "web-abc");
        assert_eq!(patches[1].0, "relabeled");
        assert_eq!(patches[1].1["metadata"]["ownerReferences"], json!([]));
        assert_eq!(count(&actions, |a| matches!(a, Action::Create { .. } | Action::Delete { .. })), 0);
    }

    #[test]
    fn malformed_selector_or_template_creates_nothing_and_releases_nothing() {
        let mut r = rs(3, 0);
        if let Some(spec) = r.spec.as_mut() {
            spec.selector = LabelSelector::default();
        }
        let actions = reconcile_replicaset(&r, &[owned("a", Some(0), 0)], at(5));
        assert!(actions.iter().all(|a| matches!(a, Action::UpdateStatus { .. })), "{actions:?}");
        assert_eq!(status_of(&actions).map(|s| s.replicas), Some(1), "owned pod still counted");
        let mut r = rs(3, 0);
        if let Some(t) = r.spec.as_mut().and_then(|s| s.template.as_mut()) {
            t.metadata = Some(ObjectMeta { labels: Some(app("other")), ..Default::default() });
        }
        let actions = reconcile_replicaset(&r, &[], at(5));
        assert_eq!(count(&actions, |a| matches!(a, Action::Create { .. })), 0);
    }

    #[test]
    fn deleting_replicaset_only_updates_status() {
        let mut r = rs(3, 0);
        r.metadata.deletion_timestamp = Some(Time(at(0)));
        let orphan = pod(P { name: "orphan", owner: None, ready_at: Some(0), created: 0 });
        let actions = reconcile_replicaset(&r, &[owned("a", Some(0), 0), orphan], at(5));
        assert!(actions.iter().all(|a| matches!(a, Action::UpdateStatus { .. })), "{actions:?}");
        assert_eq!(status_of(&actions).map(|s| s.replicas), Some(1));
    }

    #[test]
    fn status_counts_and_is_not_rewritten_when_unchanged() {
        let mut terminated = (*owned("done", Some(0), 0)).clone();
        if let Some(s) = terminated.status.as_mut() {
            s.phase = Some("Succeeded".into());
        }
        let pods = vec![owned("a", Some(0), 0), owned("b", Some(8), 0), owned("c", None, 0), Arc::new(terminated)];
        let actions = reconcile_replicaset(&rs(3, 5), &pods, at(10));
        let status = status_of(&actions).unwrap_or_default();
        assert_eq!(status.replicas, 3);
        assert_eq!(status.fully_labeled_replicas, Some(3));
        assert_eq!(status.ready_replicas, Some(2));
        assert_eq!(status.available_replicas, Some(1), "b became ready 2s ago with minReadySeconds 5");
        let mut again = rs(3, 5);
        again.status = Some(status);
        assert!(reconcile_replicaset(&again, &pods, at(10)).is_empty());
        assert_eq!(requeue_after(&again, &pods, at(10)), Some(Duration::from_secs(4)));
        assert_eq!(requeue_after(&rs(3, 0), &pods, at(10)), None);
    }
}
