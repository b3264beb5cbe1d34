//! The watch workload: watchers on the store (etcd Watch over the
//! registers' prefix) and on the API (Kubernetes watch of ConfigMaps in
//! namespace `chaos`, which a writer here keeps changing). Every watcher
//! starts at the run's first revision and, when its stream breaks, resumes
//! on the next replica from the last revision it saw. Each delivered event
//! is recorded; after the run a reference sequence is read from a healthy
//! replica for the checker to compare with.

use std::time::Duration;

use proto::etcdserverpb::watch_request::RequestUnion;
use proto::etcdserverpb::{PutRequest, RangeRequest, WatchCreateRequest, WatchRequest};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::register::{prefix_end, REG_PREFIX};
use crate::cluster::Member;
use crate::etcd::{never_sent, status_text, EtcdClient};
use crate::history::{Op, OpKind, Outcome, Record, WatchObs, WatchReference, WatchSource};
use crate::recorder::Recorder;

/// Namespace of the API watch workload.
pub const NAMESPACE: &str = "chaos";
/// Store prefix of that namespace's ConfigMaps.
pub const CM_PREFIX: &str = "/registry/core/configmaps/chaos/";
/// Key the reference reader writes last under the registers' prefix.
const STORE_SENTINEL: &str = "/chaos/reg/~end";
/// ConfigMap the reference reader creates last.
const API_SENTINEL: &str = "zz-end";

/// Watch workload settings.
#[derive(Debug, Clone)]
pub struct WatchConfig {
    /// Watchers on the store.
    pub store_watchers: usize,
    /// Watchers on the API.
    pub api_watchers: usize,
    /// ConfigMap writes per second.
    pub writes_per_sec: u32,
    /// Planted bug: watcher 0 drops the 5th event it receives.
    pub drop_event: bool,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig { store_watchers: 3, api_watchers: 3, writes_per_sec: 20, drop_event: false }
    }
}

/// An HTTP client for the API (no overall timeout: watches are long).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().connect_timeout(Duration::from_millis(500)).tcp_nodelay(true).build().unwrap_or_default()
}

/// The current store revision, asked of any member.
pub async fn current_revision(members: &[Member]) -> Result<i64, String> {
    let mut last = String::new();
    for _ in 0..20 {
        for m in members {
            let mut c = EtcdClient::new(&m.client_url)?;
            let req = RangeRequest { key: b"/chaos/".to_vec(), limit: 1, ..Default::default() };
            match tokio::time::timeout(Duration::from_secs(2), c.kv.range(req)).await {
                Ok(Ok(r)) => return Ok(r.into_inner().header.map(|h| h.revision).unwrap_or(0)),
                Ok(Err(s)) => last = format!("{}: {}", m.name, status_text(&s)),
                Err(_) => last = format!("{}: timed out", m.name),
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(format!("no member answered a range: {last}"))
}

/// Creates the workload's namespace (idempotent).
pub async fn ensure_namespace(members: &[Member]) -> Result<(), String> {
    let c = http();
    let mut last = String::new();
    for _ in 0..20 {
        for m in members {
            let r = c
                .post(format!("{}/api/v1/namespaces", m.api_url))
                .json(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}))
                .timeout(Duration::from_secs(3))
                .send()
                .await;
            match r {
                Ok(r) if r.status().is_success() || r.status().as_u16() == 409 => return Ok(()),
                Ok(r) => last = format!("{}: HTTP {}", m.name, r.status()),
                Err(e) => last = format!("{}: {e}", m.name),
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(format!("creating namespace {NAMESPACE}: {last}"))
}

/// Runs the watchers and the ConfigMap writer until `stop`; watchers start
/// after revision `from` (exclusive).
pub async fn run(members: Vec<Member>, cfg: WatchConfig, from: i64, rec: Recorder, stop: CancellationToken) {
    let mut tasks = Vec::new();
    for w in 0..cfg.store_watchers {
        let drop_fifth = cfg.drop_event && w == 0;
        tasks.push(tokio::spawn(store_watcher(w as u32, members.clone(), from, drop_fifth, rec.clone(), stop.clone())));
    }
    for w in 0..cfg.api_watchers {
        let id = (cfg.store_watchers + w) as u32;
        tasks.push(tokio::spawn(api_watcher(id, members.clone(), from, rec.clone(), stop.clone())));
    }
    if cfg.api_watchers > 0 {
        tasks.push(tokio::spawn(writer(members.clone(), cfg.writes_per_sec, rec.clone(), stop.clone())));
    }
    for t in tasks {
        let _ = t.await;
    }
}

async fn store_watcher(
    id: u32,
    members: Vec<Member>,
    from: i64,
    drop_fifth: bool,
    rec: Recorder,
    stop: CancellationToken,
) {
    let mut next = from + 1;
    let mut turn = id as usize;
    let mut received = 0u64;
    while !stop.is_cancelled() {
        let m = &members[turn % members.len()];
        turn += 1;
        let Ok(mut c) = EtcdClient::new(&m.client_url) else { return };
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let create = WatchRequest {
            request_union: Some(RequestUnion::CreateRequest(WatchCreateRequest {
                key: REG_PREFIX.as_bytes().to_vec(),
                range_end: prefix_end(REG_PREFIX.as_bytes()),
                start_revision: next,
                ..Default::default()
            })),
        };
        if tx.send(create).await.is_err() {
            return;
        }
        let stream = tokio::select! {
            _ = stop.cancelled() => return,
            r = tokio::time::timeout(Duration::from_secs(2), c.watch.watch(tokio_stream_of(rx))) => r,
        };
        let mut stream = match stream {
            Ok(Ok(s)) => s.into_inner(),
            _ => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        loop {
            let msg = tokio::select! {
                _ = stop.cancelled() => return,
                m = stream.message() => m,
            };
            let Ok(Some(resp)) = msg else { break };
            if resp.canceled {
                break;
            }
            for ev in resp.events {
                let Some(kv) = ev.kv else { continue };
                if kv.mod_revision < next {
                    continue;
                }
                next = kv.mod_revision + 1;
                received += 1;
                if drop_fifth && received == 5 {
                    continue;
                }
                rec.push(Record::Watch(WatchObs {
                    watcher: id,
                    source: WatchSource::Store,
                    replica: m.name.clone(),
                    at: rec.now(),
                    revision: kv.mod_revision,
                    key: String::from_utf8_lossy(&kv.key).into_owned(),
                    event: if ev.r#type == 1 { "delete".into() } else { "put".into() },
                }));
            }
        }
        drop(tx);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn tokio_stream_of(rx: tokio::sync::mpsc::Receiver<WatchRequest>) -> impl futures::Stream<Item = WatchRequest> {
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|m| (m, rx)) })
}

async fn api_watcher(id: u32, members: Vec<Member>, from: i64, rec: Recorder, stop: CancellationToken) {
    let client = http();
    let mut last = from;
    let mut turn = id as usize;
    while !stop.is_cancelled() {
        let m = &members[turn % members.len()];
        turn += 1;
        let url = format!("{}/api/v1/namespaces/{NAMESPACE}/configmaps?watch=1&resourceVersion={last}", m.api_url);
        let resp = tokio::select! {
            _ = stop.cancelled() => return,
            r = tokio::time::timeout(Duration::from_secs(3), client.get(&url).send()) => r,
        };
        let mut resp = match resp {
            Ok(Ok(r)) if r.status().is_success() => r,
            Ok(Ok(r)) if r.status().as_u16() == 410 => return,
            _ => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let end = each_event(&mut resp, &stop, |ty, obj| {
            let rv: i64 = obj["metadata"]["resourceVersion"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
            if rv <= last || !matches!(ty, "ADDED" | "MODIFIED" | "DELETED") {
                return;
            }
            last = rv;
            rec.push(Record::Watch(WatchObs {
                watcher: id,
                source: WatchSource::Api,
                replica: m.name.clone(),
                at: rec.now(),
                revision: rv,
                key: obj["metadata"]["name"].as_str().unwrap_or("").to_string(),
                event: ty.to_string(),
            }));
        })
        .await;
        match end {
            WatchEnd::Stopped => return,
            // Too old to resume: a real client would re-list.
            WatchEnd::Expired => return,
            WatchEnd::Closed | WatchEnd::Error => {}
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How a Kubernetes watch response ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchEnd {
    /// `stop` was cancelled.
    Stopped,
    /// The server closed the stream (or the connection broke).
    Closed,
    /// An ERROR event with code 410: the resourceVersion is too old.
    Expired,
    /// Another ERROR event.
    Error,
}

/// Feeds every event of a Kubernetes watch response (JSON lines) to `f`
/// as (type, object) until the stream ends, an ERROR event arrives, or
/// `stop` is cancelled.
pub async fn each_event(
    resp: &mut reqwest::Response,
    stop: &CancellationToken,
    mut f: impl FnMut(&str, &Value),
) -> WatchEnd {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let chunk = tokio::select! {
            _ = stop.cancelled() => return WatchEnd::Stopped,
            c = resp.chunk() => c,
        };
        let Ok(Some(chunk)) = chunk else { return WatchEnd::Closed };
        buf.extend_from_slice(&chunk);
        while let Some(nl) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=nl).collect();
            let Ok(ev) = serde_json::from_slice::<Value>(&line) else { continue };
            let ty = ev["type"].as_str().unwrap_or("");
            if ty == "ERROR" {
                return if ev["object"]["code"].as_i64() == Some(410) { WatchEnd::Expired } else { WatchEnd::Error };
            }
            f(ty, &ev["object"]);
        }
    }
}

/// Creates, updates and deletes ConfigMaps so API watchers have events.
async fn writer(members: Vec<Member>, per_sec: u32, rec: Recorder, stop: CancellationToken) {
    let client = http();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / per_sec.max(1) as f64));
    let mut seq: i64 = 0;
    while !stop.is_cancelled() {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        seq += 1;
        let m = &members[seq as usize % members.len()];
        let name = format!("cm-{}", seq % 16);
        let base = format!("{}/api/v1/namespaces/{NAMESPACE}/configmaps", m.api_url);
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"seq": seq.to_string()}});
        // Cycle per name: create, update, delete.
        let req = match (seq / 16) % 3 {
            0 => client.post(&base).json(&body),
            1 => client.put(format!("{base}/{name}")).json(&body),
            _ => client.delete(format!("{base}/{name}")),
        };
        let invoke = rec.now();
        let r = req.timeout(Duration::from_millis(1500)).send().await;
        let complete = rec.now();
        let (outcome, error) = match r {
            Ok(r) if r.status().is_success() => (Outcome::Ok, None),
            Ok(r) if r.status().is_client_error() => (Outcome::Fail, Some(format!("HTTP {}", r.status()))),
            Ok(r) => (Outcome::Info, Some(format!("HTTP {}", r.status()))),
            Err(e) => {
                let t = format!("{e:?}");
                (if never_sent(&t) || e.is_connect() { Outcome::Fail } else { Outcome::Info }, Some(e.to_string()))
            }
        };
        rec.push(Record::Op(Op {
            process: 10_000,
            workload: "watch".into(),
            key: name,
            kind: OpKind::Write { value: seq },
            invoke,
            complete,
            outcome,
            replica: m.name.clone(),
            error,
        }));
    }
}

/// After the run: writes a sentinel under each watched prefix, then reads
/// every event after `from` up to the sentinel from one healthy member,
/// recording a [`WatchReference`] per source.
pub async fn references(members: &[Member], from: i64, api: bool, rec: &Recorder) -> Result<(), String> {
    let mut last = String::new();
    for attempt in 0..30 {
        let m = &members[attempt % members.len()];
        match reference_from(m, from, api).await {
            Ok(refs) => {
                for r in refs {
                    rec.push(Record::WatchReference(r));
                }
                return Ok(());
            }
            Err(e) => last = format!("{}: {e}", m.name),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(format!("could not read the reference event sequence: {last}"))
}

async fn reference_from(m: &Member, from: i64, api: bool) -> Result<Vec<WatchReference>, String> {
    let mut c = EtcdClient::new(&m.client_url)?;
    let mut out = Vec::new();
    let put = PutRequest { key: STORE_SENTINEL.as_bytes().to_vec(), value: b"end".to_vec(), ..Default::default() };
    let h = tokio::time::timeout(Duration::from_secs(5), c.kv.put(put))
        .await
        .map_err(|_| "sentinel put timed out".to_string())?
        .map_err(|s| status_text(&s))?;
    let s = h.into_inner().header.map(|h| h.revision).unwrap_or(0);
    out.push(read_events(&mut c, WatchSource::Store, REG_PREFIX, from, s).await?);
    if api {
        let client = http();
        let base = format!("{}/api/v1/namespaces/{NAMESPACE}/configmaps", m.api_url);
        let _ = client.delete(format!("{base}/{API_SENTINEL}")).timeout(Duration::from_secs(3)).send().await;
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": API_SENTINEL}});
        let r =
            client.post(&base).json(&body).timeout(Duration::from_secs(5)).send().await.map_err(|e| e.to_string())?;
        if !r.status().is_success() {
            return Err(format!("creating the sentinel ConfigMap: HTTP {}", r.status()));
        }
        let v: Value = r.json().await.map_err(|e| e.to_string())?;
        let s: i64 = v["metadata"]["resourceVersion"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
        out.push(read_events(&mut c, WatchSource::Api, CM_PREFIX, from, s).await?);
    }
    Ok(out)
}

/// Every event under `prefix` with revision in (from, sentinel).
async fn read_events(
    c: &mut EtcdClient,
    source: WatchSource,
    prefix: &str,
    from: i64,
    sentinel: i64,
) -> Result<WatchReference, String> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let create = WatchRequest {
        request_union: Some(RequestUnion::CreateRequest(WatchCreateRequest {
            key: prefix.as_bytes().to_vec(),
            range_end: prefix_end(prefix.as_bytes()),
            start_revision: from + 1,
            ..Default::default()
        })),
    };
    tx.send(create).await.map_err(|e| e.to_string())?;
    let mut stream = c.watch.watch(tokio_stream_of(rx)).await.map_err(|s| status_text(&s))?.into_inner();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let msg = tokio::time::timeout_at(deadline, stream.message())
            .await
            .map_err(|_| format!("reference watch on {prefix} did not reach revision {sentinel} in 60 s"))?
            .map_err(|s| status_text(&s))?
            .ok_or_else(|| "reference watch ended".to_string())?;
        if msg.canceled {
            return Err(format!(
                "reference watch cancelled: {} (compacted at {})",
                msg.cancel_reason, msg.compact_revision
            ));
        }
        for ev in msg.events {
            let Some(kv) = ev.kv else { continue };
            if kv.mod_revision >= sentinel {
                drop(tx);
                return Ok(WatchReference {
                    source,
                    prefix: prefix.into(),
                    from_revision: from + 1,
                    to_revision: sentinel - 1,
                    events,
                });
            }
            let key = String::from_utf8_lossy(&kv.key).into_owned();
            let key = match source {
                WatchSource::Store => key,
                WatchSource::Api => key.trim_start_matches(prefix).to_string(),
            };
            events.push((kv.mod_revision, key, if ev.r#type == 1 { "delete".to_string() } else { "put".to_string() }));
        }
    }
}
