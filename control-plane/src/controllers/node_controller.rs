//! The node lifecycle controller's loop: every second, for every node,
//! compare its heartbeats (Lease renewals, Ready condition) against the
//! grace period, write Ready=Unknown and the NoExecute taints for silent
//! nodes (and remove them when heartbeats return), mark their pods not
//! ready, and evict pods whose tolerations ran out.
//!
//! Guarantees: a node gets the full grace period again from the moment this
//! replica became leader (so a failover never marks nodes NotReady just
//! because the new leader has not heard from them yet); decisions are the
//! pure functions of [`super::node_lifecycle`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use k8s_openapi::api::core::v1::Pod;

use super::node_lifecycle::{mark_pods_not_ready, node_status, pods_to_evict, NodeHealth, ReadyStatus};
use crate::leader::LeaderContext;
use crate::runtime::cache::ObjKey;
use crate::runtime::caches::Caches;
use crate::runtime::execute::{ExecError, Executor};

/// How often nodes are checked (upstream's node monitor period is 5 s).
const PERIOD: Duration = Duration::from_secs(1);

/// Run until the leader context stops.
pub async fn run(ctx: LeaderContext, caches: Arc<Caches>, exec: Arc<Executor>) {
    caches.wait_synced().await;
    let mut tick = tokio::time::interval(PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ctx.stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Err(ExecError::Fenced(why)) = check_all(&ctx, &caches, &exec).await {
            tracing::warn!(%why, "node controller deposed; stopping the leader tasks");
            ctx.stop.cancel();
            return;
        }
    }
}

async fn check_all(ctx: &LeaderContext, caches: &Caches, exec: &Executor) -> Result<(), ExecError> {
    let now = Utc::now();
    let grace = ctx.config.node_grace;
    let nodes = caches.nodes.all();
    let mut by_node: Option<HashMap<String, Vec<Arc<Pod>>>> = None;
    for node in nodes {
        let name = node.metadata.name.clone().unwrap_or_default();
        let lease = caches.leases.get(&ObjKey::new("kube-node-lease", &name));
        let status_actions = node_status(&node, lease.as_deref(), now, grace, ctx.since);
        if !status_actions.is_empty() {
            run_logged(exec, &name, status_actions).await?;
        }
        let health = NodeHealth::observe(&node, lease.as_deref());
        let ready = health.effective(now, grace, ctx.since).unwrap_or(ReadyStatus::True);
        let has_no_execute = node
            .spec
            .as_ref()
            .and_then(|s| s.taints.as_ref())
            .is_some_and(|t| t.iter().any(|t| t.effect == "NoExecute"));
        if ready == ReadyStatus::True && !has_no_execute {
            continue;
        }
        let pods = by_node.get_or_insert_with(|| pods_by_node(caches)).get(&name).cloned().unwrap_or_default();
        let not_ready = mark_pods_not_ready(&name, ready, &pods, now);
        if !not_ready.is_empty() {
            run_logged(exec, &name, not_ready).await?;
        }
        let (evict, _next) = pods_to_evict(&node, &pods, now);
        if !evict.is_empty() {
            run_logged(exec, &name, evict).await?;
        }
    }
    Ok(())
}

fn pods_by_node(caches: &Caches) -> HashMap<String, Vec<Arc<Pod>>> {
    let mut m: HashMap<String, Vec<Arc<Pod>>> = HashMap::new();
    for p in caches.pods.all() {
        if let Some(n) = p.spec.as_ref().and_then(|s| s.node_name.clone()) {
            m.entry(n).or_default().push(p);
        }
    }
    m
}

/// Run actions; only a fenced write is an error for the loop (the rest are
/// retried on the next tick).
async fn run_logged(
    exec: &Executor,
    node: &str,
    actions: Vec<crate::runtime::action::Action>,
) -> Result<(), ExecError> {
    match exec.execute(actions).await {
        Err(ExecError::Fenced(w)) => Err(ExecError::Fenced(w)),
        Err(e) => {
            tracing::debug!(node, error = %e, "node lifecycle write failed; retrying next period");
            Ok(())
        }
        Ok(()) => Ok(()),
    }
}
