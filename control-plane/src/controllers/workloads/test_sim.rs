//! Test-only simulator: an in-memory API server plus a trivial kubelet that
//! applies [`Action`]s the way the runner would and drives the ReplicaSet and
//! Deployment reconcilers until they go quiet.
//!
//! Semantics: writes bump a global resourceVersion; `resourceVersion` in an
//! update/patch is a precondition (a mismatch is counted in `conflicts` and
//! the write is dropped); spec changes bump `metadata.generation`;
//! `generateName` gets a unique suffix; a pod delete marks it terminating (the
//! kubelet removes it at the next step); deleting a ReplicaSet removes it and
//! marks its pods terminating; the kubelet makes every pending pod Running and
//! Ready at the start of the next step, except pods whose image contains
//! "broken". `{name}` in an Event message is replaced by the name of the last
//! created object.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::controllers::workloads::deployment::reconcile_deployment;
use crate::controllers::workloads::deployment_status::{get_condition, PROGRESSING, TIMED_OUT};
use crate::controllers::workloads::pod_state::{controller_ref, is_pod_active, is_pod_ready};
use crate::controllers::workloads::replicaset::reconcile_replicaset;
use crate::runtime::action::Action;

/// What `kubectl rollout status` would report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    /// "successfully rolled out".
    Done,
    /// Still waiting, with kubectl's message.
    Waiting(String),
    /// Exceeded its progress deadline.
    Failed(String),
}

/// Invariant checked after every applied batch of actions.
pub type Check = Box<dyn Fn(&Cluster)>;

/// In-memory cluster.
pub struct Cluster {
    pub now: DateTime<Utc>,
    objects: BTreeMap<(String, String), Value>,
    pub events: Vec<(String, String)>,
    pub conflicts: usize,
    counter: u64,
    /// Called after every applied batch of actions.
    pub check: Option<Check>,
}

fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

fn parse<T: DeserializeOwned>(v: &Value) -> T {
    serde_json::from_value(v.clone()).expect("stored objects deserialize")
}

impl Cluster {
    pub fn new() -> Self {
        Self {
            now: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            objects: BTreeMap::new(),
            events: Vec::new(),
            conflicts: 0,
            counter: 0,
            check: None,
        }
    }

    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    fn stamp(&self) -> Value {
        json!(self.now.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    }

    fn list<T: DeserializeOwned>(&self, kind: &str) -> Vec<Arc<T>> {
        self.objects.iter().filter(|((k, _), _)| k == kind).map(|(_, v)| Arc::new(parse(v))).collect()
    }

    pub fn pods(&self) -> Vec<Arc<Pod>> {
        self.list("Pod")
    }

    pub fn rss(&self) -> Vec<Arc<ReplicaSet>> {
        self.list("ReplicaSet")
    }

    pub fn deployment(&self, name: &str) -> Deployment {
        parse(&self.objects[&("Deployment".to_string(), name.to_string())])
    }

    pub fn rs(&self, name: &str) -> Option<ReplicaSet> {
        self.objects.get(&("ReplicaSet".to_string(), name.to_string())).map(parse)
    }

    /// Create an object as a client would.
    pub fn add<T: serde::Serialize>(&mut self, kind: &str, obj: &T) {
        let object = serde_json::to_value(obj).expect("serializable");
        self.create(kind, object);
    }

    fn create(&mut self, kind: &str, mut object: Value) -> Option<String> {
        let n = self.next();
        let name = match object["metadata"]["name"].as_str() {
            Some(name) => name.to_string(),
            None => format!("{}{:05}", object["metadata"]["generateName"].as_str().unwrap_or("x-"), n),
        };
        let key = (kind.to_string(), name.clone());
        if self.objects.contains_key(&key) {
            self.conflicts += 1;
            return None;
        }
        let meta = &mut object["metadata"];
        meta["name"] = json!(name);
        meta["uid"] = json!(format!("uid-{n}"));
        meta["resourceVersion"] = json!(n.to_string());
        meta["generation"] = json!(1);
        meta["creationTimestamp"] = self.stamp();
        if kind == "Pod" && object.get("status").is_none() {
            object["status"] = json!({"phase": "Pending"});
        }
        self.objects.insert(key, object);
        Some(name)
    }

    /// Mutate an object as a client would (bumps generation on spec change).
    pub fn edit(&mut self, kind: &str, name: &str, f: impl FnOnce(&mut Value)) {
        let n = self.next();
        let Some(obj) = self.objects.get_mut(&(kind.to_string(), name.to_string())) else { return };
        let spec = obj.get("spec").cloned();
        f(obj);
        obj["metadata"]["resourceVersion"] = json!(n.to_string());
        if obj.get("spec").cloned() != spec {
            let g = obj["metadata"]["generation"].as_i64().unwrap_or(0);
            obj["metadata"]["generation"] = json!(g + 1);
        }
    }

    fn cas_ok(&mut self, key: &(String, String), rv: Option<&Value>) -> bool {
        let stored = self.objects.get(key).map(|o| o["metadata"]["resourceVersion"].clone());
        let ok = match (stored, rv) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(s), Some(r)) => &s == r,
        };
        if !ok {
            self.conflicts += 1;
        }
        ok
    }

    /// Apply actions in order like the runner.
    pub fn apply(&mut self, actions: Vec<Action>) {
        let mut last_created = String::new();
        for action in actions {
            match action {
                Action::Create { kind, object, .. } => {
                    last_created = self.create(kind, object).unwrap_or_default();
                }
                Action::Patch { kind, name, patch, .. } => {
                    let key = (kind.to_string(), name.clone());
                    if self.cas_ok(&key, patch.pointer("/metadata/resourceVersion")) {
                        self.edit(kind, &name, |o| merge(o, &patch));
                    }
                }
                Action::UpdateStatus { kind, name, object, .. } => {
                    let key = (kind.to_string(), name.clone());
                    if self.cas_ok(&key, object.pointer("/metadata/resourceVersion")) {
                        self.edit(kind, &name, |o| o["status"] = object["status"].clone());
                    }
                }
                Action::Delete { kind, name, uid, .. } => self.delete(kind, &name, uid),
                Action::Event { reason, message, .. } => {
                    self.events.push((reason, message.replace("{name}", &last_created)));
                }
                other => panic!("unexpected action {other:?}"),
            }
        }
        if let Some(check) = &self.check {
            check(self);
        }
    }

    fn delete(&mut self, kind: &str, name: &str, uid: Option<String>) {
        let key = (kind.to_string(), name.to_string());
        let Some(obj) = self.objects.get(&key) else { return };
        if uid.is_some_and(|u| obj["metadata"]["uid"] != json!(u)) {
            self.conflicts += 1;
            return;
        }
        if kind == "Pod" {
            let stamp = self.stamp();
            self.edit("Pod", name, |o| o["metadata"]["deletionTimestamp"] = stamp);
            return;
        }
        let removed = self.objects.remove(&key).unwrap_or(Value::Null);
        let owned: Vec<String> = self
            .pods()
            .iter()
            .filter(|p| controller_ref(&p.metadata).is_some_and(|r| json!(r.uid) == removed["metadata"]["uid"]))
            .filter_map(|p| p.metadata.name.clone())
            .collect();
        for pod in owned {
            self.delete("Pod", &pod, None);
        }
    }

    /// Remove terminating pods; make pending pods Running and Ready.
    pub fn kubelet(&mut self) {
        let stamp = self.stamp();
        for pod in self.pods() {
            let name = pod.metadata.name.clone().unwrap_or_default();
            if pod.metadata.deletion_timestamp.is_some() {
                self.objects.remove(&("Pod".to_string(), name));
                continue;
            }
            let broken = serde_json::to_string(&pod.spec).unwrap_or_default().contains("broken");
            if is_pod_ready(&pod) || broken || !is_pod_active(&pod) {
                continue;
            }
            let status = json!({"phase": "Running", "conditions": [
                {"type": "Ready", "status": "True", "lastTransitionTime": stamp.clone()}]});
            self.edit("Pod", &name, |o| {
                o["spec"]["nodeName"] = json!("node-1");
                o["status"] = status;
            });
        }
    }

    /// Run the reconcilers until none has anything to do.
    pub fn settle(&mut self) {
        for _ in 0..100 {
            let mut busy = false;
            for rs in self.rss() {
                let actions = reconcile_replicaset(&rs, &self.pods(), self.now);
                busy |= !actions.is_empty();
                self.apply(actions);
            }
            for d in self.list::<Deployment>("Deployment") {
                let actions = reconcile_deployment(&d, &self.rss(), &self.pods(), self.now);
                busy |= !actions.is_empty();
                self.apply(actions);
            }
            if !busy {
                return;
            }
        }
        panic!("controllers did not settle");
    }

    /// One second of cluster time: kubelet, then controllers.
    pub fn step(&mut self) {
        self.now += Duration::seconds(1);
        self.kubelet();
        self.settle();
    }

    /// Step until the rollout of `name` is done (at most `max` steps).
    pub fn run_until_done(&mut self, name: &str, max: usize) -> usize {
        for i in 0..max {
            self.step();
            if self.rollout_status(name) == Rollout::Done {
                return i + 1;
            }
        }
        panic!("rollout of {name} not done: {:?}", self.rollout_status(name));
    }

    /// Active pods controlled by the ReplicaSet named `rs`.
    pub fn pods_of(&self, rs: &str) -> Vec<Arc<Pod>> {
        let uid = self.rs(rs).and_then(|r| r.metadata.uid).unwrap_or_default();
        self.pods()
            .into_iter()
            .filter(|p| is_pod_active(p) && controller_ref(&p.metadata).is_some_and(|r| r.uid == uid))
            .collect()
    }

    /// Names of the ReplicaSets, oldest first.
    pub fn rs_names(&self) -> Vec<String> {
        let mut rss = self.rss();
        rss.sort_by_key(|r| (r.metadata.creation_timestamp.clone(), r.metadata.name.clone()));
        rss.iter().filter_map(|r| r.metadata.name.clone()).collect()
    }

    /// kubectl's rollout status logic.
    pub fn rollout_status(&self, name: &str) -> Rollout {
        let d = self.deployment(name);
        let status = d.status.clone().unwrap_or_default();
        if status.observed_generation.unwrap_or(0) < d.metadata.generation.unwrap_or(0) {
            return Rollout::Waiting("Waiting for deployment spec update to be observed...".into());
        }
        if get_condition(&status, PROGRESSING).is_some_and(|c| c.reason.as_deref() == Some(TIMED_OUT)) {
            return Rollout::Failed(format!("deployment \"{name}\" exceeded its progress deadline"));
        }
        let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let (replicas, updated, available) = (
            status.replicas.unwrap_or(0),
            status.updated_replicas.unwrap_or(0),
            status.available_replicas.unwrap_or(0),
        );
        if updated < want {
            return Rollout::Waiting(format!("{updated} out of {want} new replicas have been updated..."));
        }
        if replicas > updated {
            return Rollout::Waiting(format!("{} old replicas are pending termination...", replicas - updated));
        }
        if available < updated {
            return Rollout::Waiting(format!("{available} of {updated} updated replicas are available..."));
        }
        Rollout::Done
    }
}
