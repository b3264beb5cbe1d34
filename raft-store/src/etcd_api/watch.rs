//! etcd `Watch` service: one bidirectional stream carries many watchers.
//!
//! Each watcher is a task that delivers the hub's backlog and then its live
//! events in revision order; if the hub drops it for being slow (or after a
//! snapshot install), it re-subscribes from the next revision it has not
//! delivered, so a client sees every event exactly once and in order.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use proto::etcdserverpb::watch_create_request::FilterType;
use proto::etcdserverpb::watch_request::RequestUnion;
use proto::etcdserverpb::{watch_server, WatchCreateRequest, WatchRequest, WatchResponse};
use proto::mvccpb::{event::EventType, Event};
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use crate::error::StoreError;
use crate::keys::KeyRange;
use crate::store::Store;
use crate::watch_hub::HubMsg;

pub struct Watch(pub Arc<Store>);

type WatchStream = Pin<Box<dyn Stream<Item = Result<WatchResponse, Status>> + Send>>;

/// How often a watcher with `progress_notify` reports progress when idle.
pub const PROGRESS_INTERVAL: Duration = Duration::from_secs(10 * 60);

struct WatcherHandle {
    cancel: CancellationToken,
    hub_id: Arc<std::sync::atomic::AtomicU64>,
}

#[tonic::async_trait]
impl watch_server::Watch for Watch {
    type WatchStream = WatchStream;

    async fn watch(&self, req: Request<Streaming<WatchRequest>>) -> Result<Response<Self::WatchStream>, Status> {
        let store = self.0.clone();
        let mut input = req.into_inner();
        let (tx, rx) = mpsc::channel::<Result<WatchResponse, Status>>(256);
        tokio::spawn(async move {
            let stream_done = CancellationToken::new();
            let mut watchers: HashMap<i64, WatcherHandle> = HashMap::new();
            let mut next_id: i64 = 0;
            loop {
                let msg = tokio::select! {
                    m = input.next() => m,
                    _ = store.stop.cancelled() => None,
                };
                let Some(Ok(msg)) = msg else { break };
                match msg.request_union {
                    Some(RequestUnion::CreateRequest(c)) => {
                        let id = if c.watch_id != 0 {
                            c.watch_id
                        } else {
                            while watchers.contains_key(&next_id) {
                                next_id += 1;
                            }
                            next_id
                        };
                        if watchers.contains_key(&id) {
                            let _ = tx
                                .send(Ok(WatchResponse {
                                    header: Some(store.header(store.sm.revision.load(Ordering::SeqCst))),
                                    watch_id: id,
                                    created: true,
                                    canceled: true,
                                    cancel_reason: "etcdserver: duplicate watch ID".into(),
                                    ..Default::default()
                                }))
                                .await;
                            continue;
                        }
                        if c.key.is_empty() {
                            let _ = tx.send(Err(StoreError::EmptyKey.into())).await;
                            break;
                        }
                        let cancel = stream_done.child_token();
                        let hub_id = Arc::new(std::sync::atomic::AtomicU64::new(0));
                        watchers.insert(id, WatcherHandle { cancel: cancel.clone(), hub_id: hub_id.clone() });
                        tokio::spawn(run_watcher(store.clone(), id, c, tx.clone(), cancel, hub_id));
                    }
                    Some(RequestUnion::CancelRequest(c)) => {
                        if let Some(w) = watchers.remove(&c.watch_id) {
                            w.cancel.cancel();
                            store.sm.hub.unsubscribe(w.hub_id.load(Ordering::SeqCst));
                            let _ = tx
                                .send(Ok(WatchResponse {
                                    header: Some(store.header(store.sm.revision.load(Ordering::SeqCst))),
                                    watch_id: c.watch_id,
                                    canceled: true,
                                    ..Default::default()
                                }))
                                .await;
                        }
                    }
                    Some(RequestUnion::ProgressRequest(_)) => {
                        for w in watchers.values() {
                            store.sm.hub.request_progress(w.hub_id.load(Ordering::SeqCst));
                        }
                    }
                    None => {}
                }
            }
            stream_done.cancel();
            for w in watchers.values() {
                store.sm.hub.unsubscribe(w.hub_id.load(Ordering::SeqCst));
            }
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
    }
}

fn keep(c: &WatchCreateRequest, e: &Event) -> bool {
    let is_put = e.r#type == EventType::Put as i32;
    !c.filters
        .iter()
        .any(|f| (*f == FilterType::Noput as i32 && is_put) || (*f == FilterType::Nodelete as i32 && !is_put))
}

fn shape(c: &WatchCreateRequest, evs: &[Event]) -> Vec<Event> {
    evs.iter()
        .filter(|e| keep(c, e))
        .map(|e| {
            let mut e = e.clone();
            if !c.prev_kv {
                e.prev_kv = None;
            }
            e
        })
        .collect()
}

async fn run_watcher(
    store: Arc<Store>,
    watch_id: i64,
    c: WatchCreateRequest,
    tx: mpsc::Sender<Result<WatchResponse, Status>>,
    cancel: CancellationToken,
    hub_id: Arc<std::sync::atomic::AtomicU64>,
) {
    let range = KeyRange::new(&c.key, &c.range_end);
    let mut next = c.start_revision;
    let mut created = false;
    let header = |rev: i64| Some(store.header(rev));
    loop {
        let sub = match store.sm.hub.subscribe(range.clone(), next) {
            Ok(s) => s,
            Err(StoreError::Compacted { compact_revision }) => {
                if !created {
                    let _ = tx
                        .send(Ok(WatchResponse {
                            header: header(store.sm.revision.load(Ordering::SeqCst)),
                            watch_id,
                            created: true,
                            ..Default::default()
                        }))
                        .await;
                }
                let _ = tx
                    .send(Ok(WatchResponse {
                        header: header(store.sm.revision.load(Ordering::SeqCst)),
                        watch_id,
                        canceled: true,
                        compact_revision,
                        cancel_reason: StoreError::Compacted { compact_revision }.to_string(),
                        ..Default::default()
                    }))
                    .await;
                return;
            }
            Err(e) => {
                let _ = tx.send(Err(e.into())).await;
                return;
            }
        };
        hub_id.store(sub.id, Ordering::SeqCst);
        if !created {
            created = true;
            // The registration revision: every later event follows on the stream.
            let rev = sub.registered_at;
            if tx
                .send(Ok(WatchResponse { header: header(rev), watch_id, created: true, ..Default::default() }))
                .await
                .is_err()
            {
                store.sm.hub.unsubscribe(sub.id);
                return;
            }
        }
        next = sub.from;
        for (rev, evs) in sub.backlog {
            let evs = shape(&c, &evs);
            next = rev + 1;
            if evs.is_empty() {
                continue;
            }
            if tx
                .send(Ok(WatchResponse { header: header(rev), watch_id, events: evs, ..Default::default() }))
                .await
                .is_err()
            {
                store.sm.hub.unsubscribe(sub.id);
                return;
            }
        }
        let mut rx = sub.rx;
        let mut idle = tokio::time::interval(PROGRESS_INTERVAL);
        idle.tick().await;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => {
                    store.sm.hub.unsubscribe(sub.id);
                    return;
                }
                _ = idle.tick(), if c.progress_notify => {
                    store.sm.hub.request_progress(sub.id);
                }
                m = rx.recv() => match m {
                    Some(HubMsg::Events(rev, evs)) => {
                        if rev < next {
                            continue;
                        }
                        next = rev + 1;
                        let evs = shape(&c, &evs);
                        if evs.is_empty() {
                            continue;
                        }
                        idle.reset();
                        if tx.send(Ok(WatchResponse { header: header(rev), watch_id, events: evs, ..Default::default() })).await.is_err() {
                            store.sm.hub.unsubscribe(sub.id);
                            return;
                        }
                    }
                    Some(HubMsg::Progress(rev)) => {
                        if tx.send(Ok(WatchResponse { header: header(rev), watch_id, ..Default::default() })).await.is_err() {
                            store.sm.hub.unsubscribe(sub.id);
                            return;
                        }
                    }
                    // Dropped by the hub (slow, or state replaced by a snapshot):
                    // catch up from the next undelivered revision.
                    None => break,
                }
            }
        }
    }
}
