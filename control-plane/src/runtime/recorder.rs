//! The event recorder: turns [`Action::Event`]s into `v1 Event` objects,
//! written in the background so a controller never waits on them.
//!
//! Guarantees: recording never blocks and never fails a reconcile; under a
//! burst beyond the buffer, events are dropped (as client-go's broadcaster
//! does) and the drop is logged; writes are fenced like every leader write.

use std::sync::Arc;

use serde_json::{json, Value};
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::action::EventType;
use crate::registry::{object, Kind};
use crate::server::{ApiServer, WriteOptions};

/// Events buffered before new ones are dropped.
const BUFFER: usize = 4096;
/// Event writes in flight at once.
const CONCURRENCY: usize = 32;

/// What an Event is about and says.
#[derive(Debug, Clone)]
pub struct EventRecord {
    /// The involved object's kind.
    pub kind: &'static Kind,
    /// Its namespace.
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
    /// Its uid.
    pub uid: String,
    /// Normal or Warning.
    pub event_type: EventType,
    /// CamelCase reason.
    pub reason: String,
    /// Message.
    pub message: String,
}

/// A handle to record events.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<(&'static str, EventRecord)>,
}

impl Recorder {
    /// Start the writer; it stops with `stop`.
    pub fn start(api: ApiServer, tracker: &TaskTracker, stop: CancellationToken) -> Recorder {
        let (tx, rx) = mpsc::channel(BUFFER);
        tracker.spawn(write_loop(api, rx, stop));
        Recorder { tx }
    }

    /// Record an event from `component` (best effort).
    pub fn record(&self, component: &'static str, ev: EventRecord) {
        if self.tx.try_send((component, ev)).is_err() {
            tracing::debug!(component, "event buffer full; dropping an event");
        }
    }
}

/// The Event object for `ev`.
pub fn event_object(component: &str, ev: &EventRecord) -> Value {
    let now = object::now_rfc3339();
    let ns = ev.namespace.clone().unwrap_or_else(|| "default".into());
    let suffix = format!("{:016x}", rand::random::<u64>());
    let mut involved = json!({
        "kind": ev.kind.kind,
        "apiVersion": ev.kind.api_version(),
        "name": ev.name,
        "uid": ev.uid,
    });
    if let Some(n) = &ev.namespace {
        involved["namespace"] = json!(n);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": format!("{}.{}", ev.name, suffix), "namespace": ns},
        "involvedObject": involved,
        "reason": ev.reason,
        "message": ev.message,
        "type": match ev.event_type { EventType::Normal => "Normal", EventType::Warning => "Warning" },
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": component,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    })
}

async fn write_loop(api: ApiServer, mut rx: mpsc::Receiver<(&'static str, EventRecord)>, stop: CancellationToken) {
    let Some(kind) = crate::registry::kinds::by_kind("v1", "Event") else { return };
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    loop {
        let next = tokio::select! {
            _ = stop.cancelled() => return,
            n = rx.recv() => n,
        };
        let Some((component, ev)) = next else { return };
        let Ok(permit) = slots.clone().acquire_owned().await else { return };
        let api = api.clone();
        let ns = ev.namespace.clone().unwrap_or_else(|| "default".into());
        tokio::spawn(async move {
            let opts = WriteOptions { field_manager: Some(component.to_string()), ..Default::default() };
            if let Err(e) = api.create(kind, Some(&ns), event_object(component, &ev), &opts).await {
                tracing::debug!(reason = %ev.reason, error = %e.message, "recording an event failed");
            }
            drop(permit);
        });
    }
}
