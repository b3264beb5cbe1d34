//! Pure reconcile of one Deployment against the ReplicaSets and pods of its
//! namespace (upstream `syncDeployment`).
//!
//! Guarantees, in upstream order: an empty selector only yields a
//! `SelectingAll` warning (and the observed generation); ReplicaSets are
//! adopted / released; a Deployment being deleted only gets its status; the
//! paused condition is maintained; a paused Deployment or a replica-count
//! change is handled by proportional scaling without rollout progress;
//! otherwise one RollingUpdate or Recreate step runs. Each ReplicaSet gets at
//! most one write (CAS on its resourceVersion, or a Create); Events are about
//! the Deployment; the status is written with `UpdateStatus` (CAS on the
//! Deployment's resourceVersion) only when it changed, and is followed by a
//! merge `Patch` (no resourceVersion, so it cannot conflict with the status
//! write) of the `deployment.kubernetes.io/revision` annotation when that
//! changed. See [`crate::controllers::workloads::deployment_sync::DeploymentSync::finish`].

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;

use crate::controllers::workloads::deployment_status::progress_check_after;
use crate::controllers::workloads::deployment_sync::{selector_of, DeploymentSync};
use crate::controllers::workloads::fenceposts::is_rolling_update;
use crate::controllers::workloads::pod_state::selector_is_empty;
use crate::runtime::action::{Action, EventType};

/// Reconcile `d` given all ReplicaSets and pods of its namespace at `now`.
pub fn reconcile_deployment(
    d: &Deployment,
    rss: &[Arc<ReplicaSet>],
    pods: &[Arc<Pod>],
    now: DateTime<Utc>,
) -> Vec<Action> {
    let mut sync = DeploymentSync::new(d, rss, pods, now);
    drive(&mut sync);
    sync.finish().0
}

/// When `d` should be reconciled again even without any change: the
/// progress deadline check of an unfinished rollout, or the moment a ready
/// pod of one of its ReplicaSets becomes available (minReadySeconds);
/// whichever comes first. `None` when nothing is pending.
pub fn requeue_after(
    d: &Deployment,
    rss: &[Arc<ReplicaSet>],
    pods: &[Arc<Pod>],
    now: DateTime<Utc>,
) -> Option<Duration> {
    let mut sync = DeploymentSync::new(d, rss, pods, now);
    drive(&mut sync);
    let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
    let idle = paused || d.metadata.deletion_timestamp.is_some();
    let deadline = if idle { None } else { progress_check_after(d, &sync.status, now) };
    let min_ready = sync
        .views
        .iter()
        .filter(|v| !v.created)
        .filter_map(|v| crate::controllers::workloads::replicaset::requeue_after(&v.rs, &sync.pods, now))
        .min();
    deadline.into_iter().chain(min_ready).min()
}

fn drive(sync: &mut DeploymentSync<'_>) {
    let d = sync.d;
    if selector_is_empty(selector_of(d)) {
        return selecting_all(sync);
    }
    sync.claim_replicasets();
    if d.metadata.deletion_timestamp.is_some() {
        sync.sync_revision(false);
        return sync.sync_deployment_status();
    }
    sync.check_paused_conditions();
    let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
    if !paused {
        sync.sync_revision(false);
    }
    if paused || sync.is_scaling_event() {
        return sync.sync_scale();
    }
    if is_rolling_update(d) {
        sync.rollout_rolling();
    } else {
        sync.rollout_recreate();
    }
}

fn selecting_all(sync: &mut DeploymentSync<'_>) {
    let msg = "This deployment is selecting all pods. A non-empty selector is required.".to_string();
    sync.event(EventType::Warning, "SelectingAll", msg);
    let generation = sync.d.metadata.generation;
    if sync.status.observed_generation < generation {
        sync.status.observed_generation = generation;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::workloads::deployment_status::{get_condition, AVAILABLE, PROGRESSING};
    use crate::controllers::workloads::pod_state::{controller_ref, is_pod_active, is_pod_ready};
    use crate::controllers::workloads::rs_annotations::{POD_TEMPLATE_HASH, REVISION, REVISION_HISTORY};
    use crate::controllers::workloads::template_hash::pod_template_hash;
    use crate::controllers::workloads::test_sim::{Cluster, Rollout};
    use k8s_openapi::api::apps::v1::{DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment};
    use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, Time};
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    use serde_json::{json, Value};
    use std::collections::{BTreeMap, BTreeSet};

    fn app(name: &str) -> BTreeMap<String, String> {
        [("app".to_string(), name.to_string())].into()
    }

    fn template(name: &str, image: &str) -> PodTemplateSpec {
        PodTemplateSpec {
            metadata: Some(ObjectMeta { labels: Some(app(name)), ..Default::default() }),
            spec: Some(PodSpec {
                containers: vec![Container { name: "app".into(), image: Some(image.into()), ..Default::default() }],
                ..Default::default()
            }),
        }
    }

    fn deployment(name: &str, replicas: i32, image: &str) -> Deployment {
        Deployment {
            metadata: ObjectMeta { name: Some(name.into()), namespace: Some("ns".into()), ..Default::default() },
            spec: Some(DeploymentSpec {
                replicas: Some(replicas),
                selector: LabelSelector { match_labels: Some(app(name)), ..Default::default() },
                template: template(name, image),
                ..Default::default()
            }),
            status: None,
        }
    }

    fn rolling(mut d: Deployment, surge: i32, unavailable: i32) -> Deployment {
        if let Some(spec) = d.spec.as_mut() {
            spec.strategy = Some(DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_surge: Some(IntOrString::Int(surge)),
                    max_unavailable: Some(IntOrString::Int(unavailable)),
                }),
            });
        }
        d
    }

    fn with_spec(mut d: Deployment, f: impl FnOnce(&mut DeploymentSpec)) -> Deployment {
        if let Some(spec) = d.spec.as_mut() {
            f(spec);
        }
        d
    }

    fn set_spec(c: &mut Cluster, name: &str, path: &str, value: Value) {
        c.edit("Deployment", name, |o| {
            if let Some(slot) = o.pointer_mut(path) {
                *slot = value;
            } else if let Some(spec) = o["spec"].as_object_mut() {
                spec.insert(path.trim_start_matches("/spec/").to_string(), value);
            }
        });
    }

    fn set_image(c: &mut Cluster, name: &str, image: &str) {
        set_spec(c, name, "/spec/template/spec/containers/0/image", json!(image));
    }

    fn started(d: Deployment) -> Cluster {
        let mut c = Cluster::new();
        c.add("Deployment", &d);
        let name = d.metadata.name.clone().unwrap_or_default();
        c.run_until_done(&name, 20);
        c
    }

    fn annotation(meta: &ObjectMeta, key: &str) -> Option<String> {
        meta.annotations.as_ref().and_then(|a| a.get(key)).cloned()
    }

    fn rs_replicas(c: &Cluster, name: &str) -> i32 {
        c.rs(name).and_then(|r| r.spec).and_then(|s| s.replicas).unwrap_or(-1)
    }

    fn condition(c: &Cluster, name: &str, type_: &str) -> (String, String, String) {
        let status = c.deployment(name).status.unwrap_or_default();
        let cond = get_condition(&status, type_).cloned().unwrap_or_default();
        (cond.status, cond.reason.unwrap_or_default(), cond.message.unwrap_or_default())
    }

    fn has_event(c: &Cluster, reason: &str, message: &str) -> bool {
        c.events.iter().any(|(r, m)| r == reason && m == message)
    }

    #[test]
    fn six_replicas_become_available() {
        let c = started(deployment("web", 6, "nginx:1"));
        let d = c.deployment("web");
        let status = d.status.clone().unwrap_or_default();
        assert_eq!(status.observed_generation, d.metadata.generation);
        assert_eq!(
            (status.replicas, status.updated_replicas, status.ready_replicas, status.available_replicas),
            (Some(6), Some(6), Some(6), Some(6))
        );
        assert_eq!(status.unavailable_replicas, None, "zero is omitted");
        let names = c.rs_names();
        assert_eq!(names.len(), 1);
        let rs = c.rs(&names[0]).unwrap_or_default();
        let hash = rs.metadata.labels.as_ref().and_then(|l| l.get(POD_TEMPLATE_HASH)).cloned().unwrap_or_default();
        assert_eq!(names[0], format!("web-{hash}"));
        assert_eq!(rs.spec.as_ref().and_then(|s| s.selector.match_labels.as_ref()).map(|m| m.len()), Some(2));
        assert_eq!(annotation(&rs.metadata, REVISION).as_deref(), Some("1"));
        assert_eq!(annotation(&rs.metadata, "deployment.kubernetes.io/desired-replicas").as_deref(), Some("6"));
        assert_eq!(annotation(&rs.metadata, "deployment.kubernetes.io/max-replicas").as_deref(), Some("8"));
        assert_eq!(annotation(&d.metadata, REVISION).as_deref(), Some("1"));
        assert_eq!(condition(&c, "web", AVAILABLE).1, "MinimumReplicasAvailable");
        let msg = format!("ReplicaSet \"{}\" has successfully progressed.", names[0]);
        assert_eq!(condition(&c, "web", PROGRESSING), ("True".into(), "NewReplicaSetAvailable".into(), msg));
        assert!(has_event(&c, "ScalingReplicaSet", &format!("Scaled up replica set {} from 0 to 6", names[0])));
        let pods = c.pods_of(&names[0]);
        assert_eq!(pods.len(), 6);
        for p in &pods {
            let pod_name = p.metadata.name.clone().unwrap_or_default();
            assert!(pod_name.starts_with(&format!("{}-", names[0])));
            assert!(has_event(&c, "SuccessfulCreate", &format!("Created pod: {pod_name}")));
            assert_eq!(p.metadata.labels.as_ref().and_then(|l| l.get(POD_TEMPLATE_HASH)), Some(&hash));
        }
        assert_eq!(c.conflicts, 0);
    }

    #[test]
    fn rolling_update_respects_surge_and_unavailability() {
        let mut c = started(rolling(deployment("web", 6, "nginx:1"), 1, 1));
        let old = c.rs_names()[0].clone();
        c.check = Some(Box::new(|c: &Cluster| {
            let pods = c.pods();
            let active = pods.iter().filter(|p| is_pod_active(p)).count();
            let available = pods.iter().filter(|p| is_pod_active(p) && is_pod_ready(p)).count();
            assert!(active <= 7, "{active} pods exceed replicas + maxSurge");
            assert!(available >= 5, "only {available} pods available");
        }));
        set_image(&mut c, "web", "nginx:2");
        assert!(matches!(c.rollout_status("web"), Rollout::Waiting(m) if m.contains("spec update")));
        let steps = c.run_until_done("web", 40);
        assert!(steps >= 3, "a surge of 1 needs several steps, took {steps}");
        let names = c.rs_names();
        assert_eq!(names.len(), 2);
        let new = names[1].clone();
        assert_eq!((rs_replicas(&c, &new), rs_replicas(&c, &old)), (6, 0));
        assert_eq!((c.pods_of(&new).len(), c.pods_of(&old).len()), (6, 0));
        assert_eq!(annotation(&c.rs(&new).unwrap_or_default().metadata, REVISION).as_deref(), Some("2"));
        assert_eq!(annotation(&c.deployment("web").metadata, REVISION).as_deref(), Some("2"));
        assert!(has_event(&c, "ScalingReplicaSet", &format!("Scaled up replica set {new} from 0 to 1")));
        assert!(has_event(&c, "ScalingReplicaSet", &format!("Scaled down replica set {old} to 5 from 6")));
        assert!(has_event(&c, "ScalingReplicaSet", &format!("Scaled down replica set {old} to 0 from 1")));
        assert_eq!(c.conflicts, 0);
    }

    fn rollout_undo(c: &mut Cluster, name: &str, to_rs: &str) {
        let mut t = serde_json::to_value(c.rs(to_rs).and_then(|r| r.spec).and_then(|s| s.template)).unwrap_or_default();
        if let Some(labels) = t.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
            labels.remove(POD_TEMPLATE_HASH);
        }
        set_spec(c, name, "/spec/template", t);
    }

    #[test]
    fn rollback_reuses_old_replicaset_and_bumps_revision() {
        let mut c = started(rolling(deployment("web", 4, "nginx:1"), 1, 1));
        set_image(&mut c, "web", "nginx:2");
        c.run_until_done("web", 40);
        let names = c.rs_names();
        let (v1, v2) = (names[0].clone(), names[1].clone());
        rollout_undo(&mut c, "web", &v1);
        c.run_until_done("web", 40);
        assert_eq!(c.rs_names(), names, "no new ReplicaSet for a rollback");
        let rs1 = c.rs(&v1).unwrap_or_default();
        assert_eq!(annotation(&rs1.metadata, REVISION).as_deref(), Some("3"));
        assert_eq!(annotation(&rs1.metadata, REVISION_HISTORY).as_deref(), Some("1"));
        assert_eq!(annotation(&c.deployment("web").metadata, REVISION).as_deref(), Some("3"));
        assert_eq!((rs_replicas(&c, &v1), rs_replicas(&c, &v2)), (4, 0));
        assert_eq!(c.pods_of(&v1).len(), 4);
        assert_eq!(c.conflicts, 0);
    }

    #[test]
    fn recreate_never_runs_old_and_new_pods_together() {
        let d = with_spec(deployment("web", 3, "nginx:1"), |s| {
            s.strategy = Some(DeploymentStrategy { type_: Some("Recreate".into()), rolling_update: None })
        });
        let mut c = started(d);
        let old = c.rs_names()[0].clone();
        c.check = Some(Box::new(|c: &Cluster| {
            let owners: BTreeSet<String> =
                c.pods().iter().filter_map(|p| controller_ref(&p.metadata).map(|r| r.uid.clone())).collect();
            assert!(owners.len() <= 1, "pods of several ReplicaSets coexist: {owners:?}");
        }));
        set_image(&mut c, "web", "nginx:2");
        c.run_until_done("web", 20);
        let names = c.rs_names();
        assert_eq!(names.len(), 2);
        assert_eq!((rs_replicas(&c, &names[1]), rs_replicas(&c, &old)), (3, 0));
        assert!(has_event(&c, "ScalingReplicaSet", &format!("Scaled down replica set {old} to 0 from 3")));
        assert!(has_event(&c, "ScalingReplicaSet", &format!("Scaled up replica set {} from 0 to 3", names[1])));
        assert_eq!(c.conflicts, 0);
    }

    #[test]
    fn scale_down_deletes_not_ready_and_newest_pods_first() {
        let mut c = started(deployment("web", 4, "nginx:1"));
        let rs = c.rs_names()[0].clone();
        let first: BTreeSet<String> = c.pods_of(&rs).iter().filter_map(|p| p.metadata.name.clone()).collect();
        c.step();
        set_spec(&mut c, "web", "/spec/replicas", json!(6));
        c.run_until_done("web", 20);
        let newest: BTreeSet<String> =
            c.pods_of(&rs).iter().filter_map(|p| p.metadata.name.clone()).filter(|n| !first.contains(n)).collect();
        assert_eq!(newest.len(), 2);
        let sick = first.iter().next().cloned().unwrap_or_default();
        c.edit("Pod", &sick, |o| o["status"]["conditions"][0]["status"] = json!("False"));
        set_spec(&mut c, "web", "/spec/replicas", json!(2));
        c.settle();
        let kept: BTreeSet<String> = c.pods_of(&rs).iter().filter_map(|p| p.metadata.name.clone()).collect();
        assert_eq!(kept.len(), 2);
        assert!(!kept.contains(&sick), "the not-ready pod goes first");
        assert!(kept.is_disjoint(&newest), "the newest pods go next");
        assert!(has_event(&c, "ScalingReplicaSet", &format!("Scaled down replica set {rs} to 2 from 6")));
        assert!(has_event(&c, "SuccessfulDelete", &format!("Deleted pod: {sick}")));
    }

    #[test]
    fn replicaset_adopts_orphan_pod() {
        let mut c = Cluster::new();
        let d = deployment("solo", 2, "nginx:1");
        let spec = d.spec.clone().unwrap_or_default();
        let rs = ReplicaSet {
            metadata: ObjectMeta { name: Some("solo".into()), namespace: Some("ns".into()), ..Default::default() },
            spec: Some(k8s_openapi::api::apps::v1::ReplicaSetSpec {
                replicas: Some(2),
                selector: spec.selector.clone(),
                template: Some(spec.template.clone()),
                min_ready_seconds: None,
            }),
            status: None,
        };
        c.add("ReplicaSet", &rs);
        let orphan = Pod {
            metadata: spec.template.metadata.clone().unwrap_or_default(),
            spec: spec.template.spec,
            status: None,
        };
        let mut orphan = orphan;
        orphan.metadata.name = Some("orphan".into());
        orphan.metadata.namespace = Some("ns".into());
        c.add("Pod", &orphan);
        c.step();
        let pods = c.pods_of("solo");
        assert_eq!(pods.len(), 2, "adopted one, created one");
        assert_eq!(c.pods().len(), 2);
        let adopted = pods.iter().find(|p| p.metadata.name.as_deref() == Some("orphan"));
        let owner = adopted.and_then(|p| controller_ref(&p.metadata).cloned()).unwrap_or_default();
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str(), owner.block_owner_deletion),
            ("ReplicaSet", "solo", Some(true))
        );
    }

    #[test]
    fn deployment_adopts_orphan_replicaset_with_matching_template() {
        let mut c = Cluster::new();
        let d = deployment("web", 2, "nginx:1");
        let spec = d.spec.clone().unwrap_or_default();
        let rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some("web-manual".into()),
                namespace: Some("ns".into()),
                labels: Some(app("web")),
                ..Default::default()
            },
            spec: Some(k8s_openapi::api::apps::v1::ReplicaSetSpec {
                replicas: Some(2),
                selector: spec.selector.clone(),
                template: Some(spec.template.clone()),
                min_ready_seconds: None,
            }),
            status: None,
        };
        c.add("ReplicaSet", &rs);
        c.add("Deployment", &d);
        c.run_until_done("web", 10);
        assert_eq!(c.rs_names(), ["web-manual"]);
        let adopted = c.rs("web-manual").unwrap_or_default();
        assert_eq!(controller_ref(&adopted.metadata).map(|r| r.kind.clone()).as_deref(), Some("Deployment"));
        assert_eq!(annotation(&adopted.metadata, REVISION).as_deref(), Some("1"));
        assert_eq!(c.conflicts, 0);
    }

    #[test]
    fn relabeled_pod_is_released_and_replaced() {
        let mut c = started(deployment("web", 3, "nginx:1"));
        let rs = c.rs_names()[0].clone();
        let victim = c.pods_of(&rs)[0].metadata.name.clone().unwrap_or_default();
        c.edit("Pod", &victim, |o| o["metadata"]["labels"]["app"] = json!("debug"));
        c.step();
        let pod = c.pods().into_iter().find(|p| p.metadata.name.as_deref() == Some(victim.as_str()));
        let pod = pod.unwrap_or_default();
        assert!(controller_ref(&pod.metadata).is_none(), "released");
        assert!(is_pod_active(&pod), "released, not deleted");
        assert_eq!(c.pods_of(&rs).len(), 3, "replaced");
        c.step();
        assert_eq!(c.rollout_status("web"), Rollout::Done);
    }

    #[test]
    fn revision_history_limit_deletes_oldest_replicasets() {
        let mut c = started(with_spec(deployment("web", 2, "nginx:1"), |s| s.revision_history_limit = Some(1)));
        set_image(&mut c, "web", "nginx:2");
        c.run_until_done("web", 30);
        let after_v2 = c.rs_names();
        assert_eq!(after_v2.len(), 2, "one old ReplicaSet is kept");
        set_image(&mut c, "web", "nginx:3");
        c.run_until_done("web", 30);
        c.step();
        let names = c.rs_names();
        assert_eq!(names.len(), 2);
        assert!(!names.contains(&after_v2[0]), "revision 1 deleted");
        assert_eq!(names[0], after_v2[1], "revision 2 kept");
        assert_eq!(rs_replicas(&c, &names[0]), 0);
        assert_eq!(c.conflicts, 0);
    }

    #[test]
    fn progress_deadline_exceeded_fails_rollout_status() {
        let mut c = started(with_spec(deployment("web", 2, "nginx:1"), |s| s.progress_deadline_seconds = Some(10)));
        set_image(&mut c, "web", "broken:2");
        c.step();
        assert!(matches!(c.rollout_status("web"), Rollout::Waiting(m) if m.starts_with("1 out of 2 new replicas")));
        let d = c.deployment("web");
        let wait = requeue_after(&d, &c.rss(), &c.pods(), c.now).unwrap_or_default();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(11), "{wait:?}");
        for _ in 0..12 {
            c.step();
        }
        assert!(matches!(c.rollout_status("web"), Rollout::Failed(_)));
        let new = c.rs_names()[1].clone();
        let msg = format!("ReplicaSet \"{new}\" has timed out progressing.");
        assert_eq!(condition(&c, "web", PROGRESSING), ("False".into(), "ProgressDeadlineExceeded".into(), msg));
        assert_eq!(condition(&c, "web", AVAILABLE).0, "True", "old pods keep it available");
        assert_eq!(requeue_after(&c.deployment("web"), &c.rss(), &c.pods(), c.now), None);
    }

    #[test]
    fn paused_deployment_scales_but_does_not_roll_out() {
        let mut c = started(deployment("web", 3, "nginx:1"));
        set_spec(&mut c, "web", "/spec/paused", json!(true));
        set_image(&mut c, "web", "nginx:2");
        c.step();
        c.step();
        let (status, reason, _) = condition(&c, "web", PROGRESSING);
        assert_eq!((status.as_str(), reason.as_str()), ("Unknown", "DeploymentPaused"));
        assert_eq!(c.rs_names().len(), 1, "no rollout while paused");
        set_spec(&mut c, "web", "/spec/replicas", json!(5));
        c.step();
        assert_eq!(rs_replicas(&c, &c.rs_names()[0]), 5);
        set_spec(&mut c, "web", "/spec/paused", json!(false));
        c.run_until_done("web", 30);
        let names = c.rs_names();
        assert_eq!((names.len(), rs_replicas(&c, &names[1]), rs_replicas(&c, &names[0])), (2, 5, 0));
    }

    #[test]
    fn scaling_mid_rollout_is_proportional() {
        let mut c = started(rolling(deployment("web", 10, "nginx:1"), 3, 2));
        set_image(&mut c, "web", "broken:2");
        for _ in 0..3 {
            c.step();
        }
        let names = c.rs_names();
        let (old, new) = (names[0].clone(), names[1].clone());
        assert_eq!((rs_replicas(&c, &old), rs_replicas(&c, &new)), (8, 5), "stuck rollout");
        set_spec(&mut c, "web", "/spec/replicas", json!(20));
        c.step();
        assert_eq!((rs_replicas(&c, &old), rs_replicas(&c, &new)), (14, 9), "23 split in proportion 8:5");
        set_spec(&mut c, "web", "/spec/replicas", json!(5));
        let d = c.deployment("web");
        c.apply(reconcile_deployment(&d, &c.rss(), &c.pods(), c.now));
        assert_eq!((rs_replicas(&c, &old), rs_replicas(&c, &new)), (5, 3), "8 split in proportion 14:9");
        c.step();
        assert_eq!(rs_replicas(&c, &old) + rs_replicas(&c, &new), 5 + 3, "replicas + maxSurge");
        assert!(rs_replicas(&c, &old) >= 3, "never below replicas - maxUnavailable of the old pods");
    }

    #[test]
    fn min_ready_seconds_delays_availability_and_requeues() {
        let mut c = Cluster::new();
        c.add("Deployment", &with_spec(deployment("web", 2, "nginx:1"), |s| s.min_ready_seconds = Some(5)));
        c.step();
        c.step();
        let d = c.deployment("web");
        assert_eq!(d.status.as_ref().and_then(|s| s.ready_replicas), Some(2));
        assert_eq!(d.status.as_ref().and_then(|s| s.available_replicas), None);
        let wait = requeue_after(&d, &c.rss(), &c.pods(), c.now).unwrap_or_default();
        assert_eq!(wait, Duration::from_secs(6));
        let steps = c.run_until_done("web", 20);
        assert!(steps >= 5, "took {steps}");
    }

    #[test]
    fn empty_selector_only_warns() {
        let mut d = with_spec(deployment("web", 2, "nginx:1"), |s| s.selector = LabelSelector::default());
        d.metadata.generation = Some(3);
        let actions = reconcile_deployment(&d, &[], &[], chrono::DateTime::UNIX_EPOCH);
        assert!(
            matches!(&actions[0], Action::Event { reason, event_type: EventType::Warning, .. } if reason == "SelectingAll")
        );
        assert!(
            matches!(&actions[1], Action::UpdateStatus { object, .. } if object["status"]["observedGeneration"] == 3)
        );
        assert_eq!(actions.len(), 2);
    }

    #[test]
    fn deleting_deployment_only_updates_status() {
        let mut c = started(deployment("web", 2, "nginx:1"));
        c.edit("Deployment", "web", |o| {
            o["metadata"]["deletionTimestamp"] = json!("2023-11-14T22:13:20Z");
            o["spec"]["replicas"] = json!(5);
        });
        let d = c.deployment("web");
        let actions = reconcile_deployment(&d, &c.rss(), &c.pods(), c.now);
        assert!(actions.iter().all(|a| matches!(a, Action::UpdateStatus { .. })), "{actions:?}");
    }

    #[test]
    fn malformed_objects_do_not_panic() {
        let mut d = rolling(deployment("web", i32::MAX, "nginx:1"), i32::MAX, 0);
        d.metadata.uid = Some("d-uid".into());
        let owner = crate::controllers::workloads::claim::controller_owner_ref("apps/v1", "Deployment", &d.metadata);
        let spec = d.spec.clone().unwrap_or_default();
        let mut labels = app("web");
        labels.insert(POD_TEMPLATE_HASH.into(), "x".into());
        let rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some("web-old".into()),
                namespace: Some("ns".into()),
                labels: Some(labels),
                owner_references: Some(vec![owner]),
                annotations: Some([(REVISION.to_string(), i64::MAX.to_string())].into()),
                ..Default::default()
            },
            spec: Some(k8s_openapi::api::apps::v1::ReplicaSetSpec {
                replicas: Some(i32::MAX),
                selector: spec.selector.clone(),
                template: Some(template("web", "nginx:0")),
                min_ready_seconds: Some(i32::MAX),
            }),
            status: Some(k8s_openapi::api::apps::v1::ReplicaSetStatus {
                replicas: i32::MAX,
                available_replicas: Some(-7),
                ready_replicas: Some(i32::MIN),
                ..Default::default()
            }),
        };
        let rss = [Arc::new(rs.clone()), Arc::new(rs)];
        let actions = reconcile_deployment(&d, &rss, &[], chrono::DateTime::UNIX_EPOCH);
        assert!(actions.iter().any(|a| matches!(a, Action::Create { .. })));
        let _ = requeue_after(&d, &rss, &[], chrono::DateTime::UNIX_EPOCH);
        let _ =
            crate::controllers::workloads::replicaset::reconcile_replicaset(&rss[0], &[], chrono::DateTime::UNIX_EPOCH);
    }

    #[test]
    fn name_collision_bumps_collision_count() {
        let mut d = deployment("web", 2, "nginx:1");
        d.metadata.uid = Some("d-uid".into());
        let hash = pod_template_hash(&template("web", "nginx:1"), None);
        let squatter = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(format!("web-{hash}")),
                namespace: Some("ns".into()),
                creation_timestamp: Some(Time(chrono::DateTime::UNIX_EPOCH)),
                ..Default::default()
            },
            ..Default::default()
        };
        let actions = reconcile_deployment(&d, &[Arc::new(squatter)], &[], chrono::DateTime::UNIX_EPOCH);
        assert!(!actions.iter().any(|a| matches!(a, Action::Create { .. })));
        let status = actions.iter().find_map(|a| match a {
            Action::UpdateStatus { object, .. } => Some(object["status"]["collisionCount"].clone()),
            _ => None,
        });
        assert_eq!(status, Some(json!(1)));
        assert_ne!(pod_template_hash(&template("web", "nginx:1"), Some(1)), hash);
    }
}
