//! The garbage collector's loop: sweeps the cached owners (Deployments,
//! ReplicaSets, Jobs, CronJobs) and their dependents (ReplicaSets, Pods,
//! Jobs) whenever something was deleted or marked for deletion, and every
//! few seconds anyway, applying the pure rules of
//! [`super::garbage_collector`].
//!
//! Guarantees: a dependent is deleted for a missing owner only after a
//! linearizable read confirms the owner (that uid) is really gone, so a
//! lagging cache can never make the collector delete live objects;
//! deletions carry the dependent's uid as a precondition.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::garbage_collector::{dependent_action, owner_action, ObjectSummary, OwnerIndex, OwnerState};
use crate::leader::LeaderContext;
use crate::runtime::action::Action;
use crate::runtime::caches::Caches;
use crate::runtime::execute::{kind_named, ExecError, Executor};

/// Longest pause between sweeps.
const PERIOD: Duration = Duration::from_secs(5);
/// Shortest pause between sweeps.
const MIN_GAP: Duration = Duration::from_millis(200);

fn summary(kind: &str, api_version: &str, meta: &ObjectMeta) -> ObjectSummary {
    ObjectSummary {
        kind: kind.to_string(),
        api_version: api_version.to_string(),
        namespace: meta.namespace.clone(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
        resource_version: meta.resource_version.clone(),
        owner_references: meta
            .owner_references
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|r| !r.uid.is_empty())
            .collect(),
        finalizers: meta.finalizers.clone().unwrap_or_default(),
        deleting: meta.deletion_timestamp.is_some(),
    }
}

/// Every cached object the collector looks at.
fn snapshot(caches: &Caches) -> Vec<ObjectSummary> {
    let mut all = Vec::new();
    all.extend(caches.deployments.all().iter().map(|o| summary("Deployment", "apps/v1", &o.metadata)));
    all.extend(caches.replicasets.all().iter().map(|o| summary("ReplicaSet", "apps/v1", &o.metadata)));
    all.extend(caches.cronjobs.all().iter().map(|o| summary("CronJob", "batch/v1", &o.metadata)));
    all.extend(caches.jobs.all().iter().map(|o| summary("Job", "batch/v1", &o.metadata)));
    all.extend(
        caches
            .pods
            .all()
            .iter()
            .filter(|p| {
                p.metadata.owner_references.as_ref().is_some_and(|r| !r.is_empty())
                    || p.metadata.deletion_timestamp.is_some()
            })
            .map(|o| summary("Pod", "v1", &o.metadata)),
    );
    all
}

/// Register the change handlers and start the loop (it stops with the
/// leader context).
pub fn start(ctx: &LeaderContext, caches: &Arc<Caches>, exec: Arc<Executor>) {
    let dirty = Arc::new(AtomicBool::new(true));
    let wake = Arc::new(tokio::sync::Notify::new());
    macro_rules! watch_deletes {
        ($cache:expr) => {{
            let (d, w) = (dirty.clone(), wake.clone());
            $cache.on_change(move |delta| {
                let gone = matches!(delta, crate::runtime::cache::Delta::Delete(_));
                if gone || delta.object().metadata.deletion_timestamp.is_some() {
                    d.store(true, Ordering::SeqCst);
                    w.notify_one();
                }
            });
        }};
    }
    watch_deletes!(caches.deployments);
    watch_deletes!(caches.replicasets);
    watch_deletes!(caches.jobs);
    watch_deletes!(caches.cronjobs);
    watch_deletes!(caches.pods);
    ctx.tracker.spawn(run(ctx.clone(), caches.clone(), exec, dirty, wake));
}

async fn run(
    ctx: LeaderContext,
    caches: Arc<Caches>,
    exec: Arc<Executor>,
    dirty: Arc<AtomicBool>,
    wake: Arc<tokio::sync::Notify>,
) {
    caches.wait_synced().await;
    loop {
        tokio::select! {
            _ = ctx.stop.cancelled() => return,
            _ = wake.notified() => {}
            _ = tokio::time::sleep(PERIOD) => {}
        }
        dirty.store(false, Ordering::SeqCst);
        if let Err(ExecError::Fenced(why)) = sweep(&caches, &exec).await {
            tracing::warn!(%why, "garbage collector deposed; stopping the leader tasks");
            ctx.stop.cancel();
            return;
        }
        tokio::time::sleep(MIN_GAP).await;
        if dirty.load(Ordering::SeqCst) {
            wake.notify_one();
        }
    }
}

async fn sweep(caches: &Caches, exec: &Executor) -> Result<(), ExecError> {
    let all = snapshot(caches);
    let index: OwnerIndex = all
        .iter()
        .filter(|o| matches!(o.kind.as_str(), "Deployment" | "ReplicaSet" | "Job" | "CronJob"))
        .map(|o| (o.uid.clone(), OwnerState::from_summary(o)))
        .collect();
    let mut dependents: HashMap<&str, Vec<&ObjectSummary>> = HashMap::new();
    for o in &all {
        for r in &o.owner_references {
            dependents.entry(r.uid.as_str()).or_default().push(o);
        }
    }
    for dep in all.iter().filter(|o| !o.owner_references.is_empty()) {
        if let Some(action) = dependent_action(dep, &index) {
            if is_delete(&action) && owner_still_exists(exec, dep).await {
                continue;
            }
            apply(exec, action).await?;
        }
    }
    for owner in all.iter().filter(|o| o.deleting && !o.finalizers.is_empty()) {
        let deps = dependents.get(owner.uid.as_str()).cloned().unwrap_or_default();
        if let Some(action) = owner_action(owner, &deps) {
            apply(exec, action).await?;
        }
    }
    Ok(())
}

fn is_delete(a: &Action) -> bool {
    matches!(a, Action::Delete { propagation: Some("Background") | None, .. })
}

/// Whether any owner of `dep` still exists (linearizable read, uid checked).
async fn owner_still_exists(exec: &Executor, dep: &ObjectSummary) -> bool {
    for r in &dep.owner_references {
        let Ok(kind) = kind_named(&r.kind) else { continue };
        let ns = if kind.namespaced { dep.namespace.as_deref() } else { None };
        match exec.api().get(kind, ns, &r.name, None).await {
            Ok(s) if s.object.pointer("/metadata/uid").and_then(|u| u.as_str()) == Some(r.uid.as_str()) => return true,
            Ok(_) => {}
            Err(e) if e.code == 404 => {}
            // Unsure: keep the dependent.
            Err(_) => return true,
        }
    }
    false
}

async fn apply(exec: &Executor, action: Action) -> Result<(), ExecError> {
    match exec.execute(vec![action]).await {
        Err(ExecError::Fenced(w)) => Err(ExecError::Fenced(w)),
        Err(e) => {
            tracing::debug!(error = %e, "garbage collection write failed; retrying next sweep");
            Ok(())
        }
        Ok(()) => Ok(()),
    }
}
