//! The pod router: one watch over every pod on this replica, indexed by
//! node, fanned out to the nodes' assignment streams.
//!
//! Why: thousands of agents each watching pods with a `spec.nodeName` field
//! selector would decode and filter every pod event once per agent. The
//! router decodes each event once (through the API server's shared event
//! cache), keeps every bound pod's JSON indexed by node, and forwards an
//! event only to the streams of the node it concerns.
//!
//! Guarantees:
//! - A subscription starts at the router's current revision under the same
//!   lock that routes events, so it sees every later change of its node
//!   exactly once, in revision order.
//! - Resuming from revision `R` replays the node's changes after `R` from a
//!   bounded ring of recent events when `R` is still covered by it;
//!   otherwise the subscriber gets a COMPLETE set (never a gap).
//! - A revision newer than this replica has applied (the agent saw it on
//!   another replica) is waited for, so switching replicas never goes back
//!   in time.
//! - Every subscriber hears at least every 5 s (progress when idle).
//! - A subscriber that cannot keep up is dropped (its stream ends); it
//!   resumes from its last revision.
//!
//! Assumption: one revision changes at most one pod (every pod write is its
//! own transaction), so a message may end at any event.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;
use crate::registry::{kinds, Kind};
use crate::server::watch::WatchEvent;
use crate::server::{ApiServer, ListOptions};

/// How often every subscriber gets at least a progress message.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// Recent routed events kept for resumption.
const RING: usize = 65_536;
/// Changes buffered per subscriber before it is dropped as too slow.
const SUBSCRIBER_BUFFER: usize = 4096;
/// How long a subscription waits for this replica to reach a revision the
/// agent has already seen elsewhere.
const CATCH_UP: Duration = Duration::from_secs(10);

/// One pod, as the router keeps it.
#[derive(Debug, Clone)]
pub struct PodEntry {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `metadata.uid`.
    pub uid: String,
    /// Kubernetes JSON (None when removed).
    pub json: Option<Bytes>,
}

/// What a subscriber receives.
#[derive(Debug, Clone)]
pub enum Routed {
    /// Changes of the node's pods, ending at the revision.
    Changes(i64, Vec<PodEntry>),
    /// Every pod of the node at the revision (after a re-list).
    Complete(i64, Vec<PodEntry>),
    /// Nothing for this node up to the revision.
    Progress(i64),
}

struct Subscriber {
    id: u64,
    tx: mpsc::Sender<Routed>,
}

#[derive(Default)]
struct State {
    /// Everything up to here is indexed.
    revision: i64,
    /// Oldest revision after which the ring holds every change.
    ring_from: i64,
    /// Node → uid → pod.
    by_node: HashMap<String, HashMap<String, PodEntry>>,
    /// uid → node, to route deletions and moves.
    node_of: HashMap<String, String>,
    ring: VecDeque<(i64, String, PodEntry)>,
    subscribers: HashMap<String, Vec<Subscriber>>,
    next_id: u64,
}

/// The router of one replica.
pub struct PodRouter {
    state: Mutex<State>,
    /// The indexed revision, for waiters; 0 until the first list.
    applied: watch::Sender<i64>,
}

/// A subscription: the first message, then later changes.
pub struct Subscription {
    /// COMPLETE or the replayed INCREMENTAL changes (or Progress when none).
    pub first: Routed,
    /// Later changes; closes when the subscriber is dropped as too slow or
    /// the router stops.
    pub rx: mpsc::Receiver<Routed>,
}

fn pods() -> &'static Kind {
    kinds::by_kind("v1", "Pod").expect("the Pod kind is registered")
}

fn entry_of(obj: &Value, json: Option<Bytes>) -> (String, PodEntry) {
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
    (
        s("/spec/nodeName"),
        PodEntry { namespace: s("/metadata/namespace"), name: s("/metadata/name"), uid: s("/metadata/uid"), json },
    )
}

impl PodRouter {
    /// Start routing this replica's pods; runs until `stop`.
    pub fn start(api: ApiServer, stop: CancellationToken) -> Arc<PodRouter> {
        let router = Arc::new(PodRouter { state: Mutex::new(State::default()), applied: watch::channel(0).0 });
        let r = router.clone();
        let s = stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = r.run(&api) => {}
                _ = s.cancelled() => {}
            }
        });
        // Every stream hears at least every PROGRESS_EVERY, even when the
        // store is busy with other nodes' pods (agents treat a silent stream
        // as dead).
        let r = router.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PROGRESS_EVERY);
            loop {
                tokio::select! {
                    _ = tick.tick() => r.progress_all(),
                    _ = stop.cancelled() => return,
                }
            }
        });
        router
    }

    /// List, then follow the watch; re-list when the watch expires.
    async fn run(&self, api: &ApiServer) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.list_and_follow(api).await {
                Ok(()) => backoff = Duration::from_millis(100),
                Err(e) => {
                    tracing::warn!(error = %e.message, "pod router: watch failed; re-listing");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    async fn list_and_follow(&self, api: &ApiServer) -> Result<(), ApiError> {
        let page = api.list(pods(), None, &ListOptions::default()).await?;
        let mut by_node: HashMap<String, HashMap<String, PodEntry>> = HashMap::new();
        let mut node_of = HashMap::new();
        for item in page.json_items()? {
            let obj: Value = serde_json::from_slice(&item).map_err(|e| ApiError::internal(e.to_string()))?;
            let (node, entry) = entry_of(&obj, Some(Bytes::from(item)));
            if !node.is_empty() {
                node_of.insert(entry.uid.clone(), node.clone());
                by_node.entry(node).or_default().insert(entry.uid.clone(), entry);
            }
        }
        let revision = page.revision;
        {
            let mut st = self.state.lock();
            let relist = st.revision > 0;
            st.revision = revision;
            st.ring_from = revision;
            st.ring.clear();
            st.by_node = by_node;
            st.node_of = node_of;
            if relist {
                // Subscribers may have missed changes: give each a COMPLETE set.
                let nodes: Vec<String> = st.subscribers.keys().cloned().collect();
                for node in nodes {
                    let set = complete_of(&st, &node);
                    send_to(&mut st, &node, Routed::Complete(revision, set));
                }
            }
        }
        self.applied.send_replace(revision);
        tracing::info!(revision, "pod router: indexed every pod");
        let opts = ListOptions { resource_version: Some(revision.to_string()), bookmarks: true, ..Default::default() };
        let mut rx = api.watch(pods(), None, opts).await?;
        while let Some(ev) = rx.recv().await {
            let mut batch = vec![ev];
            while batch.len() < 1024 {
                match rx.try_recv() {
                    Ok(ev) => batch.push(ev),
                    Err(_) => break,
                }
            }
            let mut last = None;
            {
                let mut st = self.state.lock();
                for ev in batch {
                    match ev {
                        WatchEvent::Added(d) | WatchEvent::Modified(d) => {
                            let rev = crate::registry::object::resource_version(&d.object);
                            let (node, entry) = entry_of(&d.object, Some(d.json.clone()));
                            route(&mut st, rev, node, entry);
                            last = Some(rev);
                        }
                        WatchEvent::Deleted(d) => {
                            let rev = crate::registry::object::resource_version(&d.object);
                            let (node, entry) = entry_of(&d.object, None);
                            route(&mut st, rev, node, entry);
                            last = Some(rev);
                        }
                        WatchEvent::Bookmark(rev) => {
                            st.revision = st.revision.max(rev);
                            let nodes: Vec<String> = st.subscribers.keys().cloned().collect();
                            for node in nodes {
                                send_to(&mut st, &node, Routed::Progress(rev));
                            }
                            last = Some(rev);
                        }
                        WatchEvent::Error(e) => return Err(e),
                    }
                }
            }
            if let Some(rev) = last {
                self.applied.send_replace(rev);
            }
        }
        Err(ApiError::unavailable("the pod watch ended (the replica is stopping)"))
    }

    /// Subscribe to `node`'s pods, resuming after `revision` (0: from a
    /// COMPLETE set).
    pub async fn subscribe(&self, node: &str, revision: i64) -> Result<Subscription, ApiError> {
        let want = revision.max(1);
        let mut applied = self.applied.subscribe();
        let reached = tokio::time::timeout(CATCH_UP, applied.wait_for(|r| *r >= want)).await;
        if !matches!(reached, Ok(Ok(_))) {
            return Err(ApiError::unavailable(format!(
                "this replica has not caught up to revision {want} yet; retry or use another replica"
            )));
        }
        let mut st = self.state.lock();
        let (tx, rx) = mpsc::channel(SUBSCRIBER_BUFFER);
        let first = if revision > 0 && revision >= st.ring_from && revision <= st.revision {
            let changes: Vec<PodEntry> =
                st.ring.iter().filter(|(rev, n, _)| *rev > revision && n == node).map(|(_, _, e)| e.clone()).collect();
            if changes.is_empty() {
                Routed::Progress(st.revision)
            } else {
                Routed::Changes(st.revision, changes)
            }
        } else {
            Routed::Complete(st.revision, complete_of(&st, node))
        };
        st.next_id += 1;
        let id = st.next_id;
        st.subscribers.entry(node.to_string()).or_default().push(Subscriber { id, tx });
        Ok(Subscription { first, rx })
    }

    /// Send the current revision to every subscriber.
    fn progress_all(&self) {
        let mut st = self.state.lock();
        if st.revision == 0 {
            return;
        }
        let rev = st.revision;
        let nodes: Vec<String> = st.subscribers.keys().cloned().collect();
        for node in nodes {
            send_to(&mut st, &node, Routed::Progress(rev));
        }
    }

    /// How many pods the router indexes (for metrics and tests).
    pub fn indexed(&self) -> usize {
        self.state.lock().node_of.len()
    }
}

fn complete_of(st: &State, node: &str) -> Vec<PodEntry> {
    st.by_node.get(node).map(|m| m.values().cloned().collect()).unwrap_or_default()
}

/// Index one change and forward it to the node's subscribers.
fn route(st: &mut State, rev: i64, node: String, entry: PodEntry) {
    st.revision = st.revision.max(rev);
    let previous = st.node_of.get(&entry.uid).cloned();
    // A pod that left a node (deleted, or bound elsewhere after a re-create
    // with the same uid, which cannot happen) is removed from the old one.
    if let Some(old) = previous.filter(|o| *o != node || entry.json.is_none()) {
        if let Some(m) = st.by_node.get_mut(&old) {
            m.remove(&entry.uid);
            if m.is_empty() {
                st.by_node.remove(&old);
            }
        }
        st.node_of.remove(&entry.uid);
        let gone = PodEntry { json: None, ..entry.clone() };
        push_ring(st, rev, old.clone(), gone.clone());
        send_to(st, &old, Routed::Changes(rev, vec![gone]));
    }
    if node.is_empty() || entry.json.is_none() {
        return;
    }
    st.node_of.insert(entry.uid.clone(), node.clone());
    st.by_node.entry(node.clone()).or_default().insert(entry.uid.clone(), entry.clone());
    push_ring(st, rev, node.clone(), entry.clone());
    send_to(st, &node, Routed::Changes(rev, vec![entry]));
}

fn push_ring(st: &mut State, rev: i64, node: String, entry: PodEntry) {
    if st.ring.len() >= RING {
        if let Some((old, _, _)) = st.ring.pop_front() {
            st.ring_from = st.ring_from.max(old);
        }
    }
    st.ring.push_back((rev, node, entry));
}

/// Send to every subscriber of `node`, dropping those that are gone or full.
fn send_to(st: &mut State, node: &str, msg: Routed) {
    let Some(subs) = st.subscribers.get_mut(node) else { return };
    subs.retain(|s| match s.tx.try_send(msg.clone()) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(_)) => {
            tracing::warn!(node, subscriber = s.id, "assignment stream too slow; closing it (the agent resumes)");
            false
        }
        Err(mpsc::error::TrySendError::Closed(_)) => false,
    });
    if subs.is_empty() {
        st.subscribers.remove(node);
    }
}
