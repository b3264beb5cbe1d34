//! The controllers the leader runs. Decisions are pure functions over
//! cached objects (the modules named after each controller: `replicaset`,
//! `deployment`, `batch`, `endpoints`, `node_lifecycle`,
//! `garbage_collector`); the `*_controller` modules wire them to the caches
//! and the work queue.

pub mod batch;
pub mod cronjob_controller;
pub mod deployment_controller;
pub mod endpoints;
pub mod endpoints_controller;
pub mod garbage_collector;
pub mod gc_controller;
pub mod job_controller;
pub mod label_selector;
pub mod namespace_controller;
pub mod node_controller;
pub mod node_lifecycle;
pub mod owner;
pub mod replicaset_controller;
pub mod workloads;

use std::sync::Arc;

use crate::leader::LeaderContext;
use crate::runtime::cache::ObjKey;
use crate::runtime::caches::Caches;
use crate::runtime::controller::{self, Reconciler};
use crate::runtime::execute::Executor;
use crate::runtime::recorder::Recorder;
use crate::runtime::work_queue::WorkQueue;

fn spawn_reconciler<R: Reconciler>(
    ctx: &LeaderContext,
    caches: &Arc<Caches>,
    recorder: &Recorder,
    make: impl FnOnce(Arc<Caches>, &WorkQueue<ObjKey>) -> R,
) {
    let queue = WorkQueue::new();
    let r = Arc::new(make(caches.clone(), &queue));
    let exec = Arc::new(Executor::new(ctx.api.clone(), r.name(), recorder.clone()));
    controller::spawn(r, queue, exec, caches.clone(), ctx.config.workers, &ctx.tracker, ctx.stop.clone());
}

/// Register every controller's handlers on `caches` and start their
/// workers (they wait for the caches to sync).
pub fn start(ctx: &LeaderContext, caches: &Arc<Caches>, recorder: &Recorder) {
    spawn_reconciler(ctx, caches, recorder, replicaset_controller::ReplicaSetController::new);
    spawn_reconciler(ctx, caches, recorder, deployment_controller::DeploymentController::new);
    spawn_reconciler(ctx, caches, recorder, job_controller::JobController::new);
    spawn_reconciler(ctx, caches, recorder, cronjob_controller::CronJobController::new);
    spawn_reconciler(ctx, caches, recorder, endpoints_controller::EndpointsController::new);
    let exec = |name| Arc::new(Executor::new(ctx.api.clone(), name, recorder.clone()));
    ctx.tracker.spawn(node_controller::run(ctx.clone(), caches.clone(), exec("node-controller")));
    gc_controller::start(ctx, caches, exec("garbage-collector"));
    ctx.tracker.spawn(namespace_controller::run(ctx.clone(), caches.clone()));
}
