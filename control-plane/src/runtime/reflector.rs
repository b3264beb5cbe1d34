//! The reflector: keeps a [`Cache`] equal to the store's objects of one
//! kind. It lists from this replica's store, then watches this replica's
//! watch hub from the list's revision (no network hop: the leader's tasks
//! read their own replica), and lists again when the watch ends or falls
//! behind compaction (410 Expired).
//!
//! Guarantees: the cache passes through every revision in order (no change
//! is reported twice or out of order); objects that fail to decode as the
//! typed kind are skipped with a warning, never cached half-read.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use super::cache::{Cache, ObjKey};
use crate::registry::Kind;
use crate::server::watch::WatchEvent;
use crate::server::{ApiServer, ListOptions};

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

fn revision_of(meta: &ObjectMeta) -> i64 {
    meta.resource_version.as_deref().and_then(|r| r.parse().ok()).unwrap_or(0)
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
    let items: Vec<T> = page.items.iter().filter_map(|kv| decode(kind, &kv.value)).collect();
    let items = items
        .into_iter()
        .zip(page.items.iter().map(|kv| kv.mod_revision))
        .map(|(mut o, rev)| {
            o.metadata_mut().resource_version = Some(rev.to_string());
            o
        })
        .collect();
    cache.replace(items, page.revision);
    let opts = ListOptions { resource_version: Some(page.revision.to_string()), bookmarks: true, ..Default::default() };
    let mut rx = api.watch(kind, None, opts).await?;
    while let Some(ev) = rx.recv().await {
        match ev {
            WatchEvent::Added(d) | WatchEvent::Modified(d) => {
                if let Some(o) = decode::<T>(kind, &d.json) {
                    let rev = revision_of(o.metadata());
                    cache.upsert(o, rev);
                }
            }
            WatchEvent::Deleted(d) => {
                if let Some(o) = decode::<T>(kind, &d.json) {
                    cache.remove(&ObjKey::of(o.metadata()), revision_of(o.metadata()));
                }
            }
            WatchEvent::Bookmark(_) => {}
            WatchEvent::Error(e) => return Err(e),
        }
    }
    Ok(())
}
