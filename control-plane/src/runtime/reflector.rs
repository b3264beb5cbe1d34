//! The reflector: keeps a [`Cache`] equal to the store's objects of one
//! kind. It lists from this replica's store, then subscribes to this
//! replica's watch hub from the list's revision (no network hop: the
//! leader's tasks read their own replica; each stored value is decoded once,
//! straight into the typed object), and lists again when the subscription
//! falls behind compaction.
//!
//! Guarantees: the cache passes through every revision in order (no change
//! is reported twice or out of order); objects that fail to decode as the
//! typed kind are skipped with a warning, never cached half-read.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use proto::mvccpb::{event::EventType, Event, KeyValue};
use raft_store::keys::KeyRange;
use raft_store::watch_hub::HubMsg;

use super::cache::{Cache, ObjKey};
use crate::registry::Kind;
use crate::server::watch::Unsubscribe;
use crate::server::{ApiServer, ListOptions};
use crate::storage;

/// Pause before listing again after a failure.
const RETRY: Duration = Duration::from_millis(200);

fn decode<T: DeserializeOwned>(kind: &Kind, json: &[u8]) -> Option<T> {
    match serde_json::from_slice(json) {
        Ok(o) => Some(o),
        Err(e) => {
            tracing::warn!(kind = kind.kind, error = %e, "a stored object does not decode as its kind; the controllers skip it");
            None
        }
    }
}

/// Keep `cache` in step with the store's `kind` objects until `stop`.
pub async fn run<T>(api: ApiServer, kind: &'static Kind, cache: Arc<Cache<T>>, stop: CancellationToken)
where
    T: DeserializeOwned + k8s_openapi::Metadata<Ty = ObjectMeta> + Send + Sync + 'static,
{
    while !stop.is_cancelled() {
        tokio::select! {
            _ = stop.cancelled() => return,
            r = list_and_watch(&api, kind, &cache) => {
                if let Err(e) = r {
                    tracing::debug!(kind = kind.kind, error = %e, "reflector restarting with a fresh list");
                }
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(RETRY) => {}
        }
    }
}

async fn list_and_watch<T>(api: &ApiServer, kind: &'static Kind, cache: &Cache<T>) -> Result<(), crate::error::ApiError>
where
    T: DeserializeOwned + k8s_openapi::Metadata<Ty = ObjectMeta> + Send + Sync + 'static,
{
    let page = api.list(kind, None, &ListOptions::default()).await?;
    let items = page.items.iter().filter_map(|kv| decode_kv::<T>(kind, kv)).collect();
    cache.replace(items, page.revision);
    // Straight from the hub: the stored bytes decode once, into the typed
    // object (no intermediate JSON value, no re-encoding).
    let prefix = storage::prefix(kind, None);
    let range = KeyRange::new(&prefix, &storage::prefix_end(&prefix));
    let hub = &api.objects.store().sm.hub;
    let mut next = page.revision + 1;
    loop {
        let sub = match hub.subscribe(range.clone(), next) {
            Ok(s) => s,
            Err(e) => return Err(e.into()),
        };
        let _guard = Unsubscribe { hub, id: sub.id };
        let mut rx = sub.rx;
        for (rev, evs) in sub.backlog {
            if rev >= next {
                next = rev + 1;
                apply(kind, cache, &prefix, &evs);
            }
        }
        next = next.max(sub.registered_at + 1);
        loop {
            match rx.recv().await {
                Some(HubMsg::Events(rev, evs)) => {
                    if rev >= next {
                        next = rev + 1;
                        apply(kind, cache, &prefix, &evs);
                    }
                }
                Some(HubMsg::Progress(rev)) => next = next.max(rev + 1),
                // Lagged or the hub was reset: resubscribe from `next`.
                None => break,
            }
        }
    }
}

fn decode_kv<T: DeserializeOwned + k8s_openapi::Metadata<Ty = ObjectMeta>>(kind: &Kind, kv: &KeyValue) -> Option<T> {
    let mut o: T = decode(kind, &kv.value)?;
    o.metadata_mut().resource_version = Some(kv.mod_revision.to_string());
    Some(o)
}

/// Apply one revision's events to the cache.
fn apply<T>(kind: &Kind, cache: &Cache<T>, prefix: &[u8], evs: &[Event])
where
    T: DeserializeOwned + k8s_openapi::Metadata<Ty = ObjectMeta>,
{
    for e in evs {
        let Some(kv) = e.kv.as_ref() else { continue };
        if e.r#type == EventType::Delete as i32 {
            let rest = String::from_utf8_lossy(kv.key.strip_prefix(prefix).unwrap_or(&kv.key)).into_owned();
            let key = match (kind.namespaced, rest.split_once('/')) {
                (true, Some((ns, name))) => ObjKey::new(ns, name),
                _ => ObjKey::new("", &rest),
            };
            cache.remove(&key, kv.mod_revision);
        } else if let Some(o) = decode_kv::<T>(kind, kv) {
            cache.upsert(o, kv.mod_revision);
        }
    }
}
