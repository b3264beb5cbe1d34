//! The event recorder: turns [`Action::Event`]s into `v1 Event` objects,
//! written in the background so a controller never waits on them.
//!
//! Guarantees: recording never blocks and never fails a reconcile; events
//! are written at most 100/s on average (bursts of 500), identical repeats
//! (same object, reason, message) at most once a minute — beyond that they
//! are dropped and the drops logged, as client-go's rate-limited event
//! clients and spam filter do; writes are fenced like every leader write.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

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

/// Events written per second at most, on average (client-go's event
/// clients are limited by their client's QPS in the same way).
const RATE: f64 = 100.0;
/// Events that may be written in a burst above the rate.
const BURST: f64 = 500.0;
/// An identical event (same object, reason and message) is not repeated
/// within this window.
const DEDUP_WINDOW: Duration = Duration::from_secs(60);
/// Identical-event memory is cleared beyond this many entries.
const DEDUP_MAX: usize = 10_000;

/// Which events may be written now: a token bucket plus suppression of
/// identical repeats. Pure: time is a parameter.
#[derive(Debug)]
pub struct Limiter {
    tokens: f64,
    last: Instant,
    recent: HashMap<(String, String, String), Instant>,
    dropped: u64,
}

impl Limiter {
    /// A full bucket at `now`.
    pub fn new(now: Instant) -> Self {
        Limiter { tokens: BURST, last: now, recent: HashMap::new(), dropped: 0 }
    }

    /// Whether `ev` may be written at `now` (and account for it).
    pub fn admit(&mut self, ev: &EventRecord, now: Instant) -> bool {
        self.tokens = (self.tokens + now.saturating_duration_since(self.last).as_secs_f64() * RATE).min(BURST);
        self.last = now;
        let key = (ev.uid.clone(), ev.reason.clone(), ev.message.clone());
        if self.recent.get(&key).is_some_and(|t| now.saturating_duration_since(*t) < DEDUP_WINDOW) {
            return false;
        }
        if self.tokens < 1.0 {
            self.dropped += 1;
            return false;
        }
        self.tokens -= 1.0;
        if self.recent.len() >= DEDUP_MAX {
            self.recent.clear();
        }
        self.recent.insert(key, now);
        true
    }

    /// Events dropped by the rate limit so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// A handle to record events.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<(&'static str, EventRecord)>,
    limiter: Arc<Mutex<Limiter>>,
}

impl Recorder {
    /// Start the writer; it stops with `stop`.
    pub fn start(api: ApiServer, tracker: &TaskTracker, stop: CancellationToken) -> Recorder {
        let (tx, rx) = mpsc::channel(BUFFER);
        tracker.spawn(write_loop(api, rx, stop));
        Recorder { tx, limiter: Arc::new(Mutex::new(Limiter::new(Instant::now()))) }
    }

    /// Record an event from `component` (best effort: identical repeats
    /// within a minute and events beyond the rate limit are dropped).
    pub fn record(&self, component: &'static str, ev: EventRecord) {
        let admitted = {
            let mut l = self.limiter.lock();
            let ok = l.admit(&ev, Instant::now());
            if !ok && l.dropped() > 0 && l.dropped().is_power_of_two() {
                tracing::info!(dropped = l.dropped(), "event rate limit: events dropped so far");
            }
            ok
        };
        if !admitted {
            return;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(uid: &str, msg: &str) -> EventRecord {
        EventRecord {
            kind: crate::registry::kinds::by_kind("v1", "Pod").unwrap(),
            namespace: None,
            name: "p".into(),
            uid: uid.into(),
            event_type: EventType::Normal,
            reason: "Scheduled".into(),
            message: msg.into(),
        }
    }

    #[test]
    fn repeats_are_suppressed_and_bursts_limited() {
        let t0 = Instant::now();
        let mut l = Limiter::new(t0);
        assert!(l.admit(&ev("a", "m"), t0));
        assert!(!l.admit(&ev("a", "m"), t0 + Duration::from_secs(30)), "identical within a minute");
        assert!(l.admit(&ev("a", "other"), t0), "a different message is a different event");
        assert!(l.admit(&ev("a", "m"), t0 + Duration::from_secs(61)));
        let admitted = (0..2000).filter(|i| l.admit(&ev(&i.to_string(), "m"), t0 + Duration::from_secs(61))).count();
        assert!((495..=500).contains(&admitted), "a burst is capped: {admitted}");
        assert!(l.admit(&ev("late", "m"), t0 + Duration::from_secs(62)), "the bucket refills");
        assert!(l.dropped() > 1000);
    }
}
