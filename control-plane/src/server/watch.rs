//! Watch: a stream of ADDED / MODIFIED / DELETED events for one kind (in a
//! namespace or all), from a resourceVersion, filtered by selectors.
//!
//! Guarantees: events arrive in revision order, each exactly once, with
//! the object's resourceVersion = the event's revision; a watch resumed
//! from the last resourceVersion it saw misses nothing and repeats
//! nothing, on any replica. Without a resourceVersion (or with "0") the
//! stream starts with a synthetic ADDED for every existing object. A
//! resourceVersion older than the compacted history gets one ERROR event
//! (410 Expired) and the stream ends. An object that stops (starts)
//! matching the selectors is sent as DELETED (ADDED), as Kubernetes does.

use std::sync::Arc;
use std::time::Duration;

use proto::mvccpb::{event::EventType, Event};
use raft_store::keys::KeyRange;
use raft_store::watch_hub::HubMsg;
use raft_store::StoreError;
use tokio::sync::mpsc;

use super::events::Decoded;
use super::{ApiServer, ListOptions};
use crate::error::ApiError;
use crate::registry::Kind;
use crate::storage::{self, Stored};

/// How often an idle watch that allows bookmarks gets one.
const BOOKMARK_EVERY: Duration = Duration::from_secs(10);

/// Removes a hub subscription when dropped.
pub(crate) struct Unsubscribe<'a> {
    pub(crate) hub: &'a raft_store::watch_hub::WatchHub,
    pub(crate) id: u64,
}

impl Drop for Unsubscribe<'_> {
    fn drop(&mut self) {
        self.hub.unsubscribe(self.id);
    }
}

/// One watch event. Objects are shared by every watcher that sees them.
#[derive(Debug, Clone)]
pub enum WatchEvent {
    /// A new (or newly matching) object.
    Added(Arc<Decoded>),
    /// A changed object.
    Modified(Arc<Decoded>),
    /// A removed (or no longer matching) object, at the revision of removal.
    Deleted(Arc<Decoded>),
    /// Everything up to this revision has been sent.
    Bookmark(i64),
    /// The watch failed (e.g. 410 Expired); the stream ends after it.
    Error(ApiError),
}

impl WatchEvent {
    /// The Kubernetes event type.
    pub fn type_name(&self) -> &'static str {
        match self {
            WatchEvent::Added(_) => "ADDED",
            WatchEvent::Modified(_) => "MODIFIED",
            WatchEvent::Deleted(_) => "DELETED",
            WatchEvent::Bookmark(_) => "BOOKMARK",
            WatchEvent::Error(_) => "ERROR",
        }
    }
}

impl ApiServer {
    /// Start a watch; events arrive on the returned channel, which closes
    /// when the watch ends (timeout, error, store stopping).
    pub async fn watch(
        &self,
        kind: &'static Kind,
        ns: Option<String>,
        opts: ListOptions,
    ) -> Result<mpsc::Receiver<WatchEvent>, ApiError> {
        let (tx, rx) = mpsc::channel(256);
        let start = match opts.resource_version.as_deref() {
            None | Some("") | Some("0") => None,
            Some(rv) => Some(super::read::parse_rv(rv)?.min(i64::MAX - 1)),
        };
        let me = self.clone();
        tokio::spawn(async move {
            // 0 means "the default", as in Kubernetes.
            let timeout =
                opts.timeout_seconds.filter(|t| *t > 0).map(Duration::from_secs).unwrap_or(Duration::from_secs(3600));
            let stop = me.objects.store().stop.clone();
            tokio::select! {
                _ = me.run_watch(kind, ns.as_deref(), &opts, start, &tx) => {}
                _ = tokio::time::sleep(timeout) => {}
                _ = stop.cancelled() => {}
                _ = tx.closed() => {}
            }
        });
        Ok(rx)
    }

    async fn run_watch(
        &self,
        kind: &Kind,
        ns: Option<&str>,
        opts: &ListOptions,
        start: Option<i64>,
        tx: &mpsc::Sender<WatchEvent>,
    ) {
        let mut next = match start {
            Some(rv) => rv + 1,
            None => {
                let initial = ListOptions {
                    labels: opts.labels.clone(),
                    fields: opts.fields.clone(),
                    resource_version: opts.resource_version.clone(),
                    ..Default::default()
                };
                match self.list(kind, ns, &initial).await {
                    Ok(page) => {
                        let objects = match page.objects() {
                            Ok(o) => o,
                            Err(e) => {
                                let _ = tx.send(WatchEvent::Error(e)).await;
                                return;
                            }
                        };
                        for o in objects {
                            if tx.send(WatchEvent::Added(Decoded::new(o))).await.is_err() {
                                return;
                            }
                        }
                        page.revision + 1
                    }
                    Err(e) => {
                        let _ = tx.send(WatchEvent::Error(e)).await;
                        return;
                    }
                }
            }
        };
        let prefix = storage::prefix(kind, ns);
        let range = KeyRange::new(&prefix, &storage::prefix_end(&prefix));
        let hub = &self.objects.store().sm.hub;
        loop {
            let sub = match hub.subscribe(range.clone(), next) {
                Ok(s) => s,
                Err(StoreError::Compacted { compact_revision }) => {
                    let _ = tx
                        .send(WatchEvent::Error(ApiError::expired(format!(
                            "too old resource version: {} ({compact_revision})",
                            next - 1
                        ))))
                        .await;
                    return;
                }
                Err(e) => {
                    let _ = tx.send(WatchEvent::Error(e.into())).await;
                    return;
                }
            };
            // Unsubscribes however this watch ends (timeout, client gone, stop).
            let guard = Unsubscribe { hub, id: sub.id };
            let mut rx = sub.rx;
            for (rev, evs) in sub.backlog {
                if rev < next {
                    continue;
                }
                next = rev + 1;
                if !self.forward(kind, opts, &evs, tx).await {
                    return;
                }
            }
            // The backlog ran up to the registration revision.
            next = next.max(sub.registered_at + 1);
            let mut ticker = tokio::time::interval(BOOKMARK_EVERY);
            ticker.tick().await;
            loop {
                tokio::select! {
                    // Progress keeps `next` current on a quiet range (so a
                    // resubscription does not replay or hit compaction) and
                    // gives bookmarks.
                    _ = ticker.tick() => hub.request_progress(guard.id),
                    m = rx.recv() => match m {
                        Some(HubMsg::Events(rev, evs)) => {
                            if rev < next {
                                continue;
                            }
                            next = rev + 1;
                            if opts.bookmarks {
                                ticker.reset();
                            }
                            if !self.forward(kind, opts, &evs, tx).await {
                                return;
                            }
                        }
                        Some(HubMsg::Progress(rev)) => {
                            next = next.max(rev + 1);
                            if opts.bookmarks && tx.send(WatchEvent::Bookmark(next - 1)).await.is_err() {
                                return;
                            }
                        }
                        // Lagged or the hub was reset: resubscribe from `next`.
                        None => break,
                    }
                }
            }
        }
    }

    /// Convert and send one revision's events. False when the receiver is gone.
    async fn forward(&self, kind: &Kind, opts: &ListOptions, evs: &[Event], tx: &mpsc::Sender<WatchEvent>) -> bool {
        for e in evs {
            let Some(ev) = self.convert(kind, opts, e) else { continue };
            if tx.send(ev).await.is_err() {
                return false;
            }
        }
        true
    }

    fn convert(&self, kind: &Kind, opts: &ListOptions, e: &Event) -> Option<WatchEvent> {
        let kv = e.kv.as_ref()?;
        let filtered = opts.labels.is_some() || opts.fields.is_some();
        if e.r#type == EventType::Delete as i32 {
            let prev = e.prev_kv.as_ref()?;
            let gone = self.events.get_or(kv.mod_revision, &kv.key, || {
                let Stored { mut object, .. } = storage::decode_kv(prev).ok()?;
                crate::registry::object::set_resource_version(&mut object, kv.mod_revision);
                Some(object)
            })?;
            return (!filtered || self.matches(kind, &gone.object, opts)).then_some(WatchEvent::Deleted(gone));
        }
        let new = self.events.get_or(kv.mod_revision, &kv.key, || storage::decode_kv(kv).ok().map(|s| s.object))?;
        let prev = if filtered { e.prev_kv.as_ref().and_then(|p| storage::decode_kv(p).ok()) } else { None };
        let old_match = match &e.prev_kv {
            None => None,
            Some(_) if !filtered => Some(true),
            Some(_) => Some(prev.as_ref().is_some_and(|p| self.matches(kind, &p.object, opts))),
        };
        let new_match = !filtered || self.matches(kind, &new.object, opts);
        match (old_match, new_match) {
            (None | Some(false), true) => Some(WatchEvent::Added(new)),
            (Some(true), true) => Some(WatchEvent::Modified(new)),
            // No longer selected: the last selected state, at this revision.
            (Some(true), false) => {
                let Stored { mut object, .. } = prev?;
                crate::registry::object::set_resource_version(&mut object, kv.mod_revision);
                Some(WatchEvent::Deleted(Decoded::new(object)))
            }
            (_, false) => None,
        }
    }
}
