//! The controller loop shared by every controller: take a key from the work
//! queue, wait until the caches have seen this controller's own writes,
//! decide (a pure reconcile over cached objects), carry the decision out,
//! and requeue as the outcome says.
//!
//! Guarantees: a key is reconciled by one worker at a time (the queue's
//! in-flight rule); a failed reconcile is retried with per-key exponential
//! back-off; a fenced write (this replica was deposed) stops every leader
//! task at once; a controller never decides on a cache that has not seen
//! its last write (so it does not create a pod twice), nor before every
//! cache has loaded its first list.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::action::Action;
use super::cache::ObjKey;
use super::caches::Caches;
use super::execute::{ExecError, Executor};
use super::work_queue::WorkQueue;

/// What one reconcile decided.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Writes to make, in order.
    pub actions: Vec<Action>,
    /// Look at the key again after this long (e.g. a deadline).
    pub requeue_after: Option<Duration>,
}

impl From<Vec<Action>> for Outcome {
    fn from(actions: Vec<Action>) -> Self {
        Outcome { actions, requeue_after: None }
    }
}

/// A controller's decision function over the caches.
pub trait Reconciler: Send + Sync + 'static {
    /// Component name (field manager, event source, logs).
    fn name(&self) -> &'static str;
    /// Kinds this controller writes and then reads back from the caches.
    fn writes(&self) -> &'static [&'static str];
    /// Decide for `key` at `now`.
    fn reconcile(&self, key: &ObjKey, now: DateTime<Utc>) -> Outcome;
}

/// Longest wait for the caches to catch up with a write before deciding
/// anyway (a write the cache never sees would otherwise stall the key).
const CATCH_UP: Duration = Duration::from_secs(2);

/// Run `workers` workers of `r` until `stop`.
pub fn spawn<R: Reconciler>(
    r: Arc<R>,
    queue: WorkQueue<ObjKey>,
    exec: Arc<Executor>,
    caches: Arc<Caches>,
    workers: usize,
    tracker: &tokio_util::task::TaskTracker,
    stop: CancellationToken,
) {
    for _ in 0..workers {
        let (r, queue, exec, caches, stop) = (r.clone(), queue.clone(), exec.clone(), caches.clone(), stop.clone());
        tracker.spawn(async move {
            // Deciding on a partly loaded cache would, e.g., see a
            // ReplicaSet without its pods and create them again.
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = caches.wait_synced() => {}
            }
            loop {
                let key = tokio::select! {
                    _ = stop.cancelled() => break,
                    k = queue.next() => match k { Some(k) => k, None => break },
                };
                work_one(&*r, &queue, &exec, &caches, &stop, key).await;
            }
        });
    }
    let q = queue.clone();
    tracker.spawn(async move {
        stop.cancelled().await;
        q.shut_down();
    });
}

async fn work_one<R: Reconciler>(
    r: &R,
    queue: &WorkQueue<ObjKey>,
    exec: &Executor,
    caches: &Caches,
    stop: &CancellationToken,
    key: ObjKey,
) {
    for kind in r.writes() {
        caches.wait_for(kind, exec.mark(kind), CATCH_UP).await;
    }
    let outcome = r.reconcile(&key, Utc::now());
    match exec.execute(outcome.actions).await {
        Ok(()) => {
            queue.forget(&key);
            if let Some(after) = outcome.requeue_after {
                queue.add_after(key.clone(), after);
            }
        }
        Err(ExecError::Fenced(why)) => {
            tracing::warn!(controller = r.name(), %why, "this replica was deposed; stopping the leader tasks");
            stop.cancel();
        }
        Err(ExecError::Conflict(why)) => {
            tracing::debug!(controller = r.name(), %key, %why, "conflict; retrying after the caches catch up");
            queue.add_rate_limited(key.clone());
        }
        Err(ExecError::Failed(why)) => {
            tracing::warn!(controller = r.name(), %key, %why, "reconcile failed; retrying with back-off");
            queue.add_rate_limited(key.clone());
        }
    }
    queue.done(&key);
}
