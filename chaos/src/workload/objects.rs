//! The objects workload: Deployments scaled and rolled and ConfigMaps
//! created and deleted through the Kubernetes REST API, while hollow nodes
//! (a `node-agent hollow` process chaos starts) run the pods. Observers
//! watch Deployments and pods (resuming on other replicas, re-listing when
//! the watch is too old) and record what the controller invariants need:
//!
//! - the number of live (non-terminating, non-finished) pods of each
//!   Deployment whenever it changes, with the `spec.replicas` the observer
//!   last saw and `maxSurge` (the checker bounds the count by the scale
//!   operations themselves, see [`crate::checker::objects`]);
//! - any pod whose `nodeName` changes from one node to another;
//! - after the faults heal, whether every Deployment converged to
//!   `spec.replicas` ready pods of its latest template.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::watch::{each_event, http, WatchEnd};
use crate::cluster::Member;
use crate::etcd::never_sent;
use crate::history::{Nanos, ObjectsObs, Op, OpKind, Outcome, Record};
use crate::recorder::Recorder;

/// Namespace of the objects workload.
pub const NAMESPACE: &str = "chaos-objects";
/// `maxSurge` of every Deployment.
pub const MAX_SURGE: i32 = 1;

/// Objects workload settings.
#[derive(Debug, Clone)]
pub struct ObjectsConfig {
    /// Deployments.
    pub deployments: usize,
    /// Largest replica count a scale picks.
    pub max_replicas: i32,
    /// Operations per second.
    pub ops_per_sec: f64,
    /// Hollow nodes to start.
    pub nodes: usize,
}

impl Default for ObjectsConfig {
    fn default() -> Self {
        ObjectsConfig { deployments: 3, max_replicas: 4, ops_per_sec: 2.0, nodes: 3 }
    }
}

/// Finds `node-agent` beside this executable (or on the PATH).
pub fn find_node_agent() -> Result<std::path::PathBuf, String> {
    crate::programs::find("node-agent").ok_or_else(|| {
        "the objects workload runs its pods on hollow nodes: node-agent not found beside chaos or on the PATH \
         (cargo build -p node-agent)"
            .to_string()
    })
}

/// Starts `nodes` hollow nodes dialling every replica; logs to `log`.
pub fn start_hollow_nodes(
    members: &[Member],
    nodes: usize,
    prefix: &str,
    log: &Path,
) -> Result<tokio::process::Child, String> {
    let bin = find_node_agent()?;
    let servers: Vec<String> = members.iter().map(|m| m.api_url.clone()).collect();
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("opening {}: {e}", log.display()))?;
    let f2 = f.try_clone().map_err(|e| e.to_string())?;
    tokio::process::Command::new(&bin)
        .arg("hollow")
        .args(["--count", &nodes.to_string(), "--name-prefix", prefix, "--start-delay-ms", "100"])
        .args(["--servers", &servers.join(","), "--log-level", "warn"])
        .stdin(Stdio::null())
        .stdout(f)
        .stderr(f2)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("starting {}: {e}", bin.display()))
}

fn deployment(name: &str, replicas: i32) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": MAX_SURGE, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": name}, "annotations": {"chaos/rev": "0"}},
                "spec": {"containers": [{"name": "main", "image": "helmsman/busybox:1.35", "command": ["sleep", "3600"]}]}
            }
        }
    })
}

async fn send(c: &reqwest::Client, req: reqwest::RequestBuilder) -> (Outcome, Option<String>) {
    let _ = c;
    match req.timeout(Duration::from_millis(2000)).send().await {
        Ok(r) if r.status().is_success() => (Outcome::Ok, None),
        // Refused before anything was stored (validation, conflicts, not found).
        Ok(r) if r.status().is_client_error() && r.status().as_u16() != 408 && r.status().as_u16() != 429 => {
            (Outcome::Fail, Some(format!("HTTP {}", r.status())))
        }
        Ok(r) => (Outcome::Info, Some(format!("HTTP {}", r.status()))),
        Err(e) => {
            let t = format!("{e:?}");
            (if e.is_connect() || never_sent(&t) { Outcome::Fail } else { Outcome::Info }, Some(e.to_string()))
        }
    }
}

/// Creates the namespace and the Deployments (idempotent).
pub async fn setup(members: &[Member], cfg: &ObjectsConfig) -> Result<(), String> {
    let c = http();
    let mut last = String::new();
    for attempt in 0..40 {
        let m = &members[attempt % members.len()];
        let ns = c
            .post(format!("{}/api/v1/namespaces", m.api_url))
            .json(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}))
            .timeout(Duration::from_secs(3))
            .send()
            .await;
        match ns {
            Ok(r) if r.status().is_success() || r.status().as_u16() == 409 => {}
            Ok(r) => {
                last = format!("namespace: HTTP {}", r.status());
                tokio::time::sleep(Duration::from_millis(300)).await;
                continue;
            }
            Err(e) => {
                last = e.to_string();
                tokio::time::sleep(Duration::from_millis(300)).await;
                continue;
            }
        }
        let mut ok = true;
        for d in 0..cfg.deployments {
            let name = format!("d{d}");
            let r = c
                .post(format!("{}/apis/apps/v1/namespaces/{NAMESPACE}/deployments", m.api_url))
                .json(&deployment(&name, 2))
                .timeout(Duration::from_secs(3))
                .send()
                .await;
            match r {
                Ok(r) if r.status().is_success() || r.status().as_u16() == 409 => {}
                Ok(r) => {
                    last = format!("deployment {name}: HTTP {}", r.status());
                    ok = false;
                }
                Err(e) => {
                    last = format!("deployment {name}: {e}");
                    ok = false;
                }
            }
        }
        if ok {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Err(format!("setting up the objects workload: {last}"))
}

/// Scales, rolls and churns ConfigMaps until `stop`.
pub async fn run(members: Vec<Member>, cfg: ObjectsConfig, seed: u64, rec: Recorder, stop: CancellationToken) {
    let c = http();
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6f62_6a65_6374_7300);
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / cfg.ops_per_sec.max(0.1)));
    let mut seq: i64 = 0;
    while !stop.is_cancelled() {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        seq += 1;
        let m = &members[rng.gen_range(0..members.len())];
        let d = format!("d{}", rng.gen_range(0..cfg.deployments.max(1)));
        let dep_url = format!("{}/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{d}", m.api_url);
        let roll: f64 = rng.gen();
        let (key, value, req) = if roll < 0.4 {
            let n = rng.gen_range(1..=cfg.max_replicas.max(1));
            let body = json!({"spec": {"replicas": n}});
            (
                format!("scale/{d}"),
                n as i64,
                c.patch(&dep_url).header("content-type", "application/merge-patch+json").body(body.to_string()),
            )
        } else if roll < 0.7 {
            let body = json!({"spec": {"template": {"metadata": {"annotations": {"chaos/rev": seq.to_string()}}}}});
            (
                format!("roll/{d}"),
                seq,
                c.patch(&dep_url).header("content-type", "application/merge-patch+json").body(body.to_string()),
            )
        } else {
            let name = format!("cm-{}", rng.gen_range(0..8));
            let base = format!("{}/api/v1/namespaces/{NAMESPACE}/configmaps", m.api_url);
            if rng.gen_bool(0.5) {
                let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"seq": seq.to_string()}});
                (format!("create/{name}"), seq, c.post(&base).json(&body))
            } else {
                (format!("delete/{name}"), seq, c.delete(format!("{base}/{name}")))
            }
        };
        let invoke = rec.now();
        let (outcome, error) = send(&c, req).await;
        rec.push(Record::Op(Op {
            process: 20_000,
            workload: "objects".into(),
            key,
            kind: OpKind::Write { value },
            invoke,
            complete: rec.now(),
            outcome,
            replica: m.name.clone(),
            error,
        }));
    }
}

/// What the observers know.
#[derive(Default)]
struct Seen {
    /// Deployment -> (time, spec.replicas) changes.
    specs: HashMap<String, Vec<(Nanos, i32)>>,
    /// Pod uid -> (deployment, node, live).
    pods: HashMap<String, (String, String, bool)>,
    /// Last recorded live count per deployment.
    counts: HashMap<String, i32>,
}

impl Seen {
    fn recount(&mut self, rec: &Recorder) {
        let now = rec.now();
        let mut live: BTreeMap<String, i32> = BTreeMap::new();
        for (d, _, l) in self.pods.values() {
            if *l {
                *live.entry(d.clone()).or_default() += 1;
            }
        }
        for d in self.specs.keys().cloned().collect::<Vec<_>>() {
            let n = live.get(&d).copied().unwrap_or(0);
            if self.counts.get(&d) != Some(&n) {
                self.counts.insert(d.clone(), n);
                let replicas = self.specs.get(&d).and_then(|v| v.last()).map(|x| x.1).unwrap_or(0);
                rec.push(Record::Objects(ObjectsObs::PodCount {
                    at: now,
                    name: d,
                    replicas,
                    max_surge: MAX_SURGE,
                    pods: n,
                }));
            }
        }
    }
}

fn pod_facts(p: &Value) -> Option<(String, String, String, bool)> {
    let uid = p["metadata"]["uid"].as_str()?.to_string();
    let app = p["metadata"]["labels"]["app"].as_str()?.to_string();
    let node = p["spec"]["nodeName"].as_str().unwrap_or("").to_string();
    let phase = p["status"]["phase"].as_str().unwrap_or("");
    let live = p["metadata"]["deletionTimestamp"].is_null() && phase != "Succeeded" && phase != "Failed";
    Some((uid, app, node, live))
}

/// Watches Deployments and pods until `stop`, recording observations.
pub async fn observe(members: Vec<Member>, rec: Recorder, stop: CancellationToken) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let deps = tokio::spawn(watch_kind(
        members.clone(),
        "apis/apps/v1",
        "deployments",
        seen.clone(),
        rec.clone(),
        stop.clone(),
    ));
    let pods = tokio::spawn(watch_kind(members, "api/v1", "pods", seen, rec, stop));
    let _ = deps.await;
    let _ = pods.await;
}

fn apply(seen: &Mutex<Seen>, resource: &str, ty: &str, obj: &Value, rec: &Recorder) {
    let mut g = seen.lock();
    if resource == "deployments" {
        let Some(name) = obj["metadata"]["name"].as_str() else { return };
        if ty == "DELETED" {
            return;
        }
        let r = obj["spec"]["replicas"].as_i64().unwrap_or(1) as i32;
        let v = g.specs.entry(name.to_string()).or_default();
        if v.last().map(|x| x.1) != Some(r) {
            v.push((rec.now(), r));
        }
    } else {
        let Some((uid, app, node, live)) = pod_facts(obj) else { return };
        if ty == "DELETED" {
            g.pods.remove(&uid);
        } else {
            if let Some((_, old_node, _)) = g.pods.get(&uid) {
                if !old_node.is_empty() && !node.is_empty() && *old_node != node {
                    let pod = format!("{NAMESPACE}/{}", obj["metadata"]["name"].as_str().unwrap_or("?"));
                    rec.push(Record::Objects(ObjectsObs::Rebound {
                        at: rec.now(),
                        pod,
                        from: old_node.clone(),
                        to: node.clone(),
                    }));
                }
            }
            g.pods.insert(uid, (app, node, live));
        }
    }
    g.recount(rec);
}

async fn watch_kind(
    members: Vec<Member>,
    group: &str,
    resource: &str,
    seen: Arc<Mutex<Seen>>,
    rec: Recorder,
    stop: CancellationToken,
) {
    let c = http();
    let mut turn = 0usize;
    let mut rv: Option<String> = None;
    while !stop.is_cancelled() {
        let m = &members[turn % members.len()];
        turn += 1;
        let base = format!("{}/{group}/namespaces/{NAMESPACE}/{resource}", m.api_url);
        // (Re-)list when we have no resourceVersion to resume from.
        if rv.is_none() {
            match c.get(&base).timeout(Duration::from_secs(3)).send().await {
                Ok(r) if r.status().is_success() => {
                    let Ok(list) = r.json::<Value>().await else { continue };
                    if resource == "pods" {
                        seen.lock().pods.clear();
                    }
                    for item in list["items"].as_array().cloned().unwrap_or_default() {
                        apply(&seen, resource, "ADDED", &item, &rec);
                    }
                    rv = list["metadata"]["resourceVersion"].as_str().map(str::to_string);
                }
                _ => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            }
        }
        let Some(from) = rv.clone() else { continue };
        let resp = tokio::select! {
            _ = stop.cancelled() => return,
            r = tokio::time::timeout(Duration::from_secs(3), c.get(format!("{base}?watch=1&resourceVersion={from}")).send()) => r,
        };
        let mut resp = match resp {
            Ok(Ok(r)) if r.status().is_success() => r,
            Ok(Ok(r)) if r.status().as_u16() == 410 => {
                rv = None;
                continue;
            }
            _ => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let end = each_event(&mut resp, &stop, |ty, obj| {
            if let Some(v) = obj["metadata"]["resourceVersion"].as_str() {
                rv = Some(v.to_string());
            }
            apply(&seen, resource, ty, obj, &rec);
        })
        .await;
        match end {
            WatchEnd::Stopped => return,
            WatchEnd::Expired => rv = None,
            WatchEnd::Closed | WatchEnd::Error => {}
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// After the faults heal: waits up to `within` for every Deployment to
/// have exactly `spec.replicas` live, ready pods of its latest template and
/// no others, recording one [`ObjectsObs::Converged`] per Deployment.
pub async fn convergence(members: &[Member], cfg: &ObjectsConfig, rec: &Recorder, within: Duration) {
    let c = http();
    let deadline = tokio::time::Instant::now() + within;
    let mut last: BTreeMap<String, (i32, i32, bool)> = BTreeMap::new();
    let mut turn = 0usize;
    loop {
        let m = &members[turn % members.len()];
        turn += 1;
        let deps = c
            .get(format!("{}/apis/apps/v1/namespaces/{NAMESPACE}/deployments", m.api_url))
            .timeout(Duration::from_secs(3))
            .send()
            .await;
        let pods = c
            .get(format!("{}/api/v1/namespaces/{NAMESPACE}/pods", m.api_url))
            .timeout(Duration::from_secs(3))
            .send()
            .await;
        if let (Ok(d), Ok(p)) = (deps, pods) {
            if let (Ok(d), Ok(p)) = (d.json::<Value>().await, p.json::<Value>().await) {
                let pods = p["items"].as_array().cloned().unwrap_or_default();
                for dep in d["items"].as_array().cloned().unwrap_or_default() {
                    let name = dep["metadata"]["name"].as_str().unwrap_or("").to_string();
                    let want = dep["spec"]["replicas"].as_i64().unwrap_or(1) as i32;
                    let rev = dep["spec"]["template"]["metadata"]["annotations"]["chaos/rev"]
                        .as_str()
                        .unwrap_or("")
                        .to_string();
                    let mine: Vec<&Value> = pods
                        .iter()
                        .filter(|p| p["metadata"]["labels"]["app"].as_str() == Some(name.as_str()))
                        .collect();
                    let live: Vec<&&Value> = mine.iter().filter(|p| pod_facts(p).is_some_and(|f| f.3)).collect();
                    let ready = live
                        .iter()
                        .filter(|p| p["metadata"]["annotations"]["chaos/rev"].as_str() == Some(rev.as_str()))
                        .filter(|p| {
                            p["status"]["conditions"]
                                .as_array()
                                .is_some_and(|cs| cs.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
                        })
                        .count() as i32;
                    let ok = ready == want && live.len() as i32 == want;
                    last.insert(name, (want, ready, ok));
                }
            }
        }
        let all_ok = last.len() >= cfg.deployments && last.values().all(|x| x.2);
        if all_ok || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let at = rec.now();
    for (name, (replicas, ready, ok)) in last {
        rec.push(Record::Objects(ObjectsObs::Converged { at, name, replicas, ready, ok }));
    }
}

/// Planted bug: creates `n` pods carrying Deployment `d0`'s labels behind
/// the controllers' backs (what a second, unfenced controller would do).
/// The ReplicaSet controller adopts and deletes the extras, but the live
/// count overshoots replicas + maxSurge first, which the controller
/// checker must flag.
pub async fn plant_extra_pods(members: &[Member], n: usize) -> Result<(), String> {
    let c = http();
    let mut made = 0;
    let mut last = String::new();
    for attempt in 0..(n * 10) {
        if made == n {
            return Ok(());
        }
        let m = &members[attempt % members.len()];
        let body = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"generateName": "planted-", "labels": {"app": "d0"}, "annotations": {"chaos/rev": "0"}},
            "spec": {"containers": [{"name": "main", "image": "helmsman/busybox:1.35", "command": ["sleep", "3600"]}]}
        });
        match c
            .post(format!("{}/api/v1/namespaces/{NAMESPACE}/pods", m.api_url))
            .json(&body)
            .timeout(Duration::from_secs(3))
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => made += 1,
            Ok(r) => last = format!("HTTP {}", r.status()),
            Err(e) => last = e.to_string(),
        }
    }
    if made == n {
        Ok(())
    } else {
        Err(format!("created {made} of {n} planted pods: {last}"))
    }
}

/// Removes the planted pods again (before the convergence check, which
/// they would otherwise fail: no ReplicaSet adopts them).
pub async fn remove_planted_pods(members: &[Member]) {
    let c = http();
    for m in members {
        let Ok(r) = c
            .get(format!("{}/api/v1/namespaces/{NAMESPACE}/pods", m.api_url))
            .timeout(Duration::from_secs(3))
            .send()
            .await
        else {
            continue;
        };
        let Ok(list) = r.json::<Value>().await else { continue };
        for p in list["items"].as_array().cloned().unwrap_or_default() {
            let name = p["metadata"]["name"].as_str().unwrap_or("");
            if name.starts_with("planted-") {
                let url = format!("{}/api/v1/namespaces/{NAMESPACE}/pods/{name}?gracePeriodSeconds=0", m.api_url);
                let _ = c.delete(url).timeout(Duration::from_secs(3)).send().await;
            }
        }
        return;
    }
}
