//! Starting one generation of leader tasks: the shared caches, the event
//! recorder, the scheduler and the controllers.
//!
//! Guarantees: every handler is registered before the reflectors start, so
//! no controller misses the initial list; everything runs on the
//! generation's tracker and stops with its token.

use std::sync::Arc;

use super::LeaderContext;
use crate::runtime::caches::Caches;
use crate::runtime::recorder::Recorder;

/// Start the tasks of `ctx`'s generation.
pub fn start(ctx: LeaderContext) {
    let caches = Arc::new(Caches::default());
    let recorder = Recorder::start(ctx.api.clone(), &ctx.tracker, ctx.stop.clone());
    crate::scheduler::runner::start(&ctx, &caches, &recorder);
    crate::controllers::start(&ctx, &caches, &recorder);
    caches.start(&ctx.api, &ctx.tracker, &ctx.stop);
    let (c, term) = (caches.clone(), ctx.term);
    let stop = ctx.stop.clone();
    ctx.tracker.spawn(async move {
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = c.wait_synced() => tracing::info!(term, "leader caches synced; scheduler and controllers running"),
        }
    });
}
