//! Sends pod status and Events to the control plane in batches.
//!
//! Guarantees:
//! - The latest status of each pod wins: a pod whose status changed three
//!   times while a batch was in flight is sent once, with the last one.
//! - A status is retried until the control plane accepts it or answers
//!   that the pod is gone (404), failing over between replicas; nothing is
//!   dropped while no replica is reachable (bounded by the node's pods).
//! - Events are best effort: kept up to [`MAX_EVENTS`] while the control
//!   plane is unreachable, oldest dropped first.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use proto::agent::{EventBatch, PodStatusUpdate, StatusBatch};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::servers::{should_fail_over, Servers};

/// Most updates in one batch.
const BATCH: usize = 500;
/// Events kept while the control plane is unreachable.
pub const MAX_EVENTS: usize = 1000;
/// How long to gather updates before sending.
const LINGER: Duration = Duration::from_millis(50);

/// Something to report.
#[derive(Debug, Clone)]
pub enum Item {
    /// A pod's whole status (or its final removal).
    Status(PodStatusUpdate),
    /// An Event as core/v1 JSON.
    Event(Vec<u8>),
}

/// Run until `stop` (then flush what can be flushed within a second).
pub async fn run(node: String, servers: Arc<Servers>, mut rx: mpsc::Receiver<Item>, stop: CancellationToken) {
    let mut pending: HashMap<String, PodStatusUpdate> = HashMap::new();
    let mut order: VecDeque<String> = VecDeque::new();
    let mut events: VecDeque<Vec<u8>> = VecDeque::new();
    let mut backoff = Duration::from_millis(200);
    let mut open = true;
    loop {
        if pending.is_empty() && events.is_empty() {
            if !open {
                return;
            }
            tokio::select! {
                m = rx.recv() => match m {
                    Some(m) => take(m, &mut pending, &mut order, &mut events),
                    None => open = false,
                },
                _ = stop.cancelled() => return,
            }
            // Gather what arrives right behind it.
            let until = tokio::time::Instant::now() + LINGER;
            while open {
                match tokio::time::timeout_at(until, rx.recv()).await {
                    Ok(Some(m)) => take(m, &mut pending, &mut order, &mut events),
                    Ok(None) => open = false,
                    Err(_) => break,
                }
            }
        }
        while let Ok(m) = rx.try_recv() {
            take(m, &mut pending, &mut order, &mut events);
        }
        let ok = flush(&node, &servers, &mut pending, &mut order, &mut events).await;
        if ok {
            backoff = Duration::from_millis(200);
        } else {
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = stop.cancelled() => return,
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }
}

fn take(
    m: Item,
    pending: &mut HashMap<String, PodStatusUpdate>,
    order: &mut VecDeque<String>,
    events: &mut VecDeque<Vec<u8>>,
) {
    match m {
        Item::Status(u) => {
            let key = u.uid.clone();
            // A removal must not be overtaken by a stale status.
            let terminated = pending.get(&key).is_some_and(|p| p.terminated);
            if pending.insert(key.clone(), PodStatusUpdate { terminated: terminated || u.terminated, ..u }).is_none() {
                order.push_back(key);
            }
        }
        Item::Event(e) => {
            if events.len() >= MAX_EVENTS {
                events.pop_front();
            }
            events.push_back(e);
        }
    }
}

/// Send one batch of statuses and events; false when the server failed.
async fn flush(
    node: &str,
    servers: &Servers,
    pending: &mut HashMap<String, PodStatusUpdate>,
    order: &mut VecDeque<String>,
    events: &mut VecDeque<Vec<u8>>,
) -> bool {
    let (idx, url, mut client) = servers.current();
    let mut all_done = true;
    if !pending.is_empty() {
        let keys: Vec<String> = order.iter().take(BATCH).cloned().collect();
        let updates: Vec<PodStatusUpdate> = keys.iter().filter_map(|k| pending.get(k).cloned()).collect();
        match client.report_status(StatusBatch { node_name: node.to_string(), updates: updates.clone() }).await {
            Ok(resp) => {
                for (sent, result) in updates.iter().zip(resp.into_inner().results) {
                    // Done, or gone for good: forget it unless it changed meanwhile.
                    if result.code == 0 || result.code == 404 || result.code == 400 || result.code == 422 {
                        if result.code != 0 {
                            tracing::debug!(pod = %format!("{}/{}", sent.namespace, sent.name), code = result.code, message = %result.message, "status not applied");
                        }
                        if pending.get(&sent.uid) == Some(sent) {
                            pending.remove(&sent.uid);
                        }
                    } else {
                        all_done = false;
                        tracing::warn!(pod = %format!("{}/{}", sent.namespace, sent.name), code = result.code, message = %result.message, "status write failed; retrying");
                    }
                }
                order.retain(|k| pending.contains_key(k));
            }
            Err(e) => {
                tracing::warn!(server = url, error = %e.message(), "reporting pod status failed; retrying");
                if should_fail_over(&e) {
                    servers.failed(idx);
                }
                return false;
            }
        }
    }
    if !events.is_empty() {
        let batch: Vec<Vec<u8>> = events.iter().take(BATCH).cloned().collect();
        let n = batch.len();
        match client.report_events(EventBatch { events: batch }).await {
            Ok(_) => {
                events.drain(..n);
            }
            Err(e) if should_fail_over(&e) => {
                servers.failed(idx);
                return false;
            }
            Err(e) => {
                // A bad event is dropped rather than retried forever.
                tracing::warn!(error = %e.message(), "events were refused; dropping them");
                events.drain(..n);
            }
        }
    }
    all_done
}
