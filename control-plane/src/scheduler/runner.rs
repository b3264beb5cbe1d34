//! The scheduler's loop on the leader: pending pods from the pod cache go
//! into the [`SchedulingQueue`]; each is placed by the pure
//! [`schedule`](super::schedule::schedule) over the incremental
//! [`ClusterView`], assumed on its node at once (so the next decision sees
//! it), and bound by a compare-and-swap write of the pod; many bindings are
//! in flight at once, so the store commits them in batches.
//!
//! Guarantees: a binding is written only if the pod is unchanged since it
//! was read (its mod revision) — a pod changed or deleted meanwhile is
//! un-assumed and retried; every write is fenced to the leader's term; a pod
//! no node fits gets `PodScheduled=False` (reason Unschedulable, the
//! per-filter message) and a FailedScheduling Event, and waits for a cluster
//! change.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::api::core::v1::Pod;
use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio::sync::{Notify, Semaphore};

use super::cluster::ClusterView;
use super::queue::SchedulingQueue;
use super::schedule::{schedule, FitError};
use crate::leader::LeaderContext;
use crate::registry::{kinds, object, Kind};
use crate::runtime::action::EventType;
use crate::runtime::cache::{Delta, ObjKey};
use crate::runtime::caches::Caches;
use crate::runtime::recorder::{EventRecord, Recorder};
use crate::storage::{self, WriteError};

/// Pods taken from the queue per round.
const BATCH: usize = 512;
/// Binding writes in flight at once.
const IN_FLIGHT: usize = 1024;
/// The scheduler's name in events and field managers.
const COMPONENT: &str = "default-scheduler";

#[derive(Default)]
struct State {
    view: ClusterView,
    queue: SchedulingQueue,
    start: usize,
    assumed: HashSet<ObjKey>,
    /// Bound pods whose node is not in the view yet, by node name.
    waiting_for_node: HashMap<String, Vec<Arc<Pod>>>,
}

fn node_of(p: &Pod) -> Option<&str> {
    p.spec.as_ref().and_then(|s| s.node_name.as_deref()).filter(|n| !n.is_empty())
}

fn terminal(p: &Pod) -> bool {
    matches!(p.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded" | "Failed"))
}

/// Whether a pod waits for this scheduler.
fn pending(p: &Pod, names: &HashSet<String>) -> bool {
    let name = p.spec.as_ref().and_then(|s| s.scheduler_name.as_deref()).unwrap_or("default-scheduler");
    node_of(p).is_none() && p.metadata.deletion_timestamp.is_none() && !terminal(p) && names.contains(name)
}

impl State {
    fn on_node(&mut self, d: &Delta<k8s_openapi::api::core::v1::Node>) {
        match d {
            Delta::Upsert { new, .. } => {
                let name = new.metadata.name.clone().unwrap_or_default();
                self.view.upsert_node(new.clone());
                for p in self.waiting_for_node.remove(&name).unwrap_or_default() {
                    self.view.add_pod(&p);
                }
            }
            Delta::Delete(old) => {
                self.view.remove_node(old.metadata.name.as_deref().unwrap_or_default());
            }
        }
        self.queue.cluster_changed(Instant::now());
    }

    fn on_pod(&mut self, d: &Delta<Pod>, names: &HashSet<String>) -> bool {
        let key = ObjKey::of(&d.object().metadata);
        match d {
            Delta::Upsert { old, new } => {
                if let Some(node) = node_of(new) {
                    self.queue.remove(&key);
                    let was_bound = old.as_ref().is_some_and(|o| node_of(o).is_some() && !terminal(o));
                    if terminal(new) {
                        self.assumed.remove(&key);
                        if self.view.remove_pod(new) {
                            self.queue.cluster_changed(Instant::now());
                        }
                    } else if !self.assumed.remove(&key) && !was_bound && !self.view.add_pod(new) {
                        self.waiting_for_node.entry(node.to_string()).or_default().push(new.clone());
                    }
                    false
                } else if pending(new, names) {
                    // A status-only change (e.g. our own PodScheduled=False)
                    // does not make a parked pod worth another try.
                    let same =
                        old.as_ref().is_some_and(|o| o.spec == new.spec && o.metadata.labels == new.metadata.labels);
                    if !same {
                        self.queue.add(key);
                    }
                    !same
                } else {
                    self.queue.remove(&key);
                    false
                }
            }
            Delta::Delete(old) => {
                self.queue.remove(&key);
                self.assumed.remove(&key);
                if self.view.remove_pod(old) {
                    self.queue.cluster_changed(Instant::now());
                    return true;
                }
                false
            }
        }
    }
}

/// Register the scheduler's change handlers and start its loop (it stops
/// with the leader context).
pub fn start(ctx: &LeaderContext, caches: &Arc<Caches>, recorder: &Recorder) {
    let Some(pod_kind) = kinds::by_kind("v1", "Pod") else { return };
    let names: Arc<HashSet<String>> = Arc::new(ctx.config.scheduler.scheduler_names());
    let state = Arc::new(Mutex::new(State::default()));
    let wake = Arc::new(Notify::new());
    {
        let s = state.clone();
        let w = wake.clone();
        caches.nodes.on_change(move |d| {
            s.lock().on_node(d);
            w.notify_one();
        });
        let (s, w, n) = (state.clone(), wake.clone(), names.clone());
        caches.pods.on_change(move |d| {
            if s.lock().on_pod(d, &n) {
                w.notify_one();
            }
        });
    }
    ctx.tracker.spawn(run(ctx.clone(), caches.clone(), recorder.clone(), pod_kind, names, state, wake));
}

async fn run(
    ctx: LeaderContext,
    caches: Arc<Caches>,
    recorder: Recorder,
    pod_kind: &'static Kind,
    names: Arc<HashSet<String>>,
    state: Arc<Mutex<State>>,
    wake: Arc<Notify>,
) {
    caches.nodes.wait_synced().await;
    caches.pods.wait_synced().await;
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    loop {
        let due = state.lock().queue.next_due();
        let nap = due.map_or(std::time::Duration::from_secs(1), |t| t.saturating_duration_since(Instant::now()));
        let batch = state.lock().queue.pop(BATCH, Instant::now());
        if batch.is_empty() {
            tokio::select! {
                _ = ctx.stop.cancelled() => return,
                _ = wake.notified() => {}
                _ = tokio::time::sleep(nap) => {}
            }
            continue;
        }
        for key in batch {
            let Some(pod) = caches.pods.get(&key) else { continue };
            if !pending(&pod, &names) {
                continue;
            }
            let decided = {
                let mut st = state.lock();
                let Some(profile) = ctx.config.scheduler.profile_for(&pod) else { continue };
                let start = st.start;
                match schedule(&pod, &st.view, profile, start) {
                    Ok(d) => {
                        st.start = d.next_start;
                        st.view.add_pod_to(&d.node, &pod);
                        st.assumed.insert(key.clone());
                        Ok(d.node)
                    }
                    Err(e) => {
                        st.queue.park_unschedulable(key.clone(), Instant::now());
                        Err(e)
                    }
                }
            };
            match decided {
                Ok(node) => {
                    let Ok(permit) = slots.clone().acquire_owned().await else { return };
                    let (api, st, rec, stop) = (ctx.api.clone(), state.clone(), recorder.clone(), ctx.stop.clone());
                    ctx.tracker.spawn(async move {
                        bind(&api, pod_kind, &pod, &node, &st, &rec, &stop).await;
                        drop(permit);
                    });
                }
                Err(fit) => {
                    let (api, rec) = (ctx.api.clone(), recorder.clone());
                    ctx.tracker.spawn(async move { unschedulable(&api, pod_kind, &pod, &fit, &rec).await });
                }
            }
        }
    }
}

fn pod_value(pod: &Pod) -> Option<Value> {
    serde_json::to_value(pod).ok()
}

fn set_condition(v: &mut Value, cond: Value) {
    let status = v.as_object_mut().map(|o| o.entry("status").or_insert_with(|| json!({})));
    let Some(status) = status.and_then(Value::as_object_mut) else { return };
    let list = status.entry("conditions").or_insert_with(|| json!([]));
    if let Some(a) = list.as_array_mut() {
        a.retain(|c| c["type"] != "PodScheduled");
        a.push(cond);
    }
}

/// An Event about `pod`.
fn pod_event(kind: &'static Kind, pod: &Pod, event_type: EventType, reason: &str, message: String) -> EventRecord {
    EventRecord {
        kind,
        namespace: pod.metadata.namespace.clone(),
        name: pod.metadata.name.clone().unwrap_or_default(),
        uid: pod.metadata.uid.clone().unwrap_or_default(),
        event_type,
        reason: reason.to_string(),
        message,
    }
}

fn revision(pod: &Pod) -> i64 {
    pod.metadata.resource_version.as_deref().and_then(|r| r.parse().ok()).unwrap_or(0)
}

async fn bind(
    api: &crate::server::ApiServer,
    kind: &'static Kind,
    pod: &Pod,
    node: &str,
    state: &Mutex<State>,
    recorder: &Recorder,
    stop: &tokio_util::sync::CancellationToken,
) {
    let key = ObjKey::of(&pod.metadata);
    let Some(mut v) = pod_value(pod) else { return };
    // (stored values never carry it; leaving it out spares a copy)
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
    }
    v["spec"]["nodeName"] = json!(node);
    set_condition(
        &mut v,
        json!({"type": "PodScheduled", "status": "True", "lastTransitionTime": object::now_rfc3339()}),
    );
    let skey = storage::key(kind, key.ns(), &key.name);
    match api.objects.update(&skey, &v, revision(pod), &[], &[]).await {
        Ok(_) => recorder.record(
            COMPONENT,
            pod_event(kind, pod, EventType::Normal, "Scheduled", format!("Successfully assigned {key} to {node}")),
        ),
        Err(e) => {
            if let WriteError::Api(a) = &e {
                if a.reason == crate::error::FENCED {
                    tracing::warn!("scheduler deposed; stopping the leader tasks");
                    stop.cancel();
                    return;
                }
            }
            tracing::debug!(pod = %key, node, "binding did not apply; retrying the pod");
            let mut st = state.lock();
            if st.assumed.remove(&key) {
                st.view.remove_pod(pod);
            }
            if !matches!(e, WriteError::Missing) {
                st.queue.requeue_backoff(key, Instant::now());
            }
        }
    }
}

async fn unschedulable(
    api: &crate::server::ApiServer,
    kind: &'static Kind,
    pod: &Pod,
    fit: &FitError,
    recorder: &Recorder,
) {
    let key = ObjKey::of(&pod.metadata);
    let message = fit.to_string();
    let same = pod.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|cs| {
        cs.iter()
            .any(|c| c.type_ == "PodScheduled" && c.status == "False" && c.message.as_deref() == Some(message.as_str()))
    });
    recorder.record(COMPONENT, pod_event(kind, pod, EventType::Warning, "FailedScheduling", message.clone()));
    if same {
        return;
    }
    let Some(mut v) = pod_value(pod) else { return };
    set_condition(
        &mut v,
        json!({"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message,
            "lastTransitionTime": object::now_rfc3339()}),
    );
    let skey = storage::key(kind, key.ns(), &key.name);
    if let Err(e) = api.objects.update(&skey, &v, revision(pod), &[], &[]).await {
        tracing::debug!(pod = %key, error = ?e, "recording PodScheduled=False did not apply");
    }
}
