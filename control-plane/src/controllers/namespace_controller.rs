//! The namespace controller: a namespace marked for deletion is emptied and
//! then removed (the replica that took the DELETE starts this too; the
//! leader makes sure it finishes even if that replica died).
//!
//! Guarantees: one teardown per namespace at a time; a teardown that fails
//! is retried every few seconds while the namespace still exists.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::leader::LeaderContext;
use crate::runtime::caches::Caches;

/// How often terminating namespaces are looked at.
const PERIOD: Duration = Duration::from_secs(2);

/// Run until the leader context stops.
pub async fn run(ctx: LeaderContext, caches: Arc<Caches>) {
    caches.namespaces.wait_synced().await;
    let busy: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut tick = tokio::time::interval(PERIOD);
    loop {
        tokio::select! {
            _ = ctx.stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        for ns in caches.namespaces.all() {
            if ns.metadata.deletion_timestamp.is_none() {
                continue;
            }
            let name = ns.metadata.name.clone().unwrap_or_default();
            let uid = ns.metadata.uid.clone().unwrap_or_default();
            if !busy.lock().insert(name.clone()) {
                continue;
            }
            let (api, busy, stop) = (ctx.api.clone(), busy.clone(), ctx.stop.clone());
            ctx.tracker.spawn(async move {
                tokio::select! {
                    _ = stop.cancelled() => {}
                    r = api.finish_namespace(&name, &uid) => {
                        if let Err(e) = r {
                            tracing::debug!(namespace = %name, error = %e.message, "namespace teardown will be retried");
                        }
                    }
                }
                busy.lock().remove(&name);
            });
        }
    }
}
