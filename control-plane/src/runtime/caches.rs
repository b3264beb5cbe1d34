//! The leader's shared informer caches: one [`Cache`] per kind the
//! scheduler and controllers read, each kept current by a reflector on
//! this replica's own store.
//!
//! Guarantees: every controller sees the same cache (one list and one watch
//! per kind, however many controllers read it); [`Caches::wait_for`] maps a
//! kind name to its cache so a controller can wait for its own writes.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Endpoints, Namespace, Node, Pod, Service};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::cache::Cache;
use super::reflector;
use crate::registry::kinds;
use crate::server::ApiServer;

/// The caches.
#[derive(Default)]
pub struct Caches {
    /// Pods.
    pub pods: Arc<Cache<Pod>>,
    /// Nodes.
    pub nodes: Arc<Cache<Node>>,
    /// ReplicaSets.
    pub replicasets: Arc<Cache<ReplicaSet>>,
    /// Deployments.
    pub deployments: Arc<Cache<Deployment>>,
    /// Jobs.
    pub jobs: Arc<Cache<Job>>,
    /// CronJobs.
    pub cronjobs: Arc<Cache<CronJob>>,
    /// Services.
    pub services: Arc<Cache<Service>>,
    /// Endpoints.
    pub endpoints: Arc<Cache<Endpoints>>,
    /// Leases (node heartbeats live in `kube-node-lease`).
    pub leases: Arc<Cache<Lease>>,
    /// Namespaces.
    pub namespaces: Arc<Cache<Namespace>>,
}

macro_rules! reflect {
    ($api:expr, $tracker:expr, $stop:expr, $cache:expr, $av:expr, $kind:expr) => {
        if let Some(k) = kinds::by_kind($av, $kind) {
            $tracker.spawn(reflector::run($api.clone(), k, $cache.clone(), $stop.clone()));
        }
    };
}

impl Caches {
    /// Start a reflector per cache (register change handlers first).
    pub fn start(&self, api: &ApiServer, tracker: &TaskTracker, stop: &CancellationToken) {
        reflect!(api, tracker, stop, self.pods, "v1", "Pod");
        reflect!(api, tracker, stop, self.nodes, "v1", "Node");
        reflect!(api, tracker, stop, self.replicasets, "apps/v1", "ReplicaSet");
        reflect!(api, tracker, stop, self.deployments, "apps/v1", "Deployment");
        reflect!(api, tracker, stop, self.jobs, "batch/v1", "Job");
        reflect!(api, tracker, stop, self.cronjobs, "batch/v1", "CronJob");
        reflect!(api, tracker, stop, self.services, "v1", "Service");
        reflect!(api, tracker, stop, self.endpoints, "v1", "Endpoints");
        reflect!(api, tracker, stop, self.leases, "coordination.k8s.io/v1", "Lease");
        reflect!(api, tracker, stop, self.namespaces, "v1", "Namespace");
    }

    /// Wait until every cache has loaded its first list.
    pub async fn wait_synced(&self) {
        self.pods.wait_synced().await;
        self.nodes.wait_synced().await;
        self.replicasets.wait_synced().await;
        self.deployments.wait_synced().await;
        self.jobs.wait_synced().await;
        self.cronjobs.wait_synced().await;
        self.services.wait_synced().await;
        self.endpoints.wait_synced().await;
        self.leases.wait_synced().await;
        self.namespaces.wait_synced().await;
    }

    /// Wait (at most `limit`) until the cache of `kind` has seen `rev`.
    /// Kinds without a cache count as caught up.
    pub async fn wait_for(&self, kind: &str, rev: i64, limit: Duration) -> bool {
        if rev <= 0 {
            return true;
        }
        match kind {
            "Pod" => self.pods.wait_for(rev, limit).await,
            "Node" => self.nodes.wait_for(rev, limit).await,
            "ReplicaSet" => self.replicasets.wait_for(rev, limit).await,
            "Deployment" => self.deployments.wait_for(rev, limit).await,
            "Job" => self.jobs.wait_for(rev, limit).await,
            "CronJob" => self.cronjobs.wait_for(rev, limit).await,
            "Service" => self.services.wait_for(rev, limit).await,
            "Endpoints" => self.endpoints.wait_for(rev, limit).await,
            "Lease" => self.leases.wait_for(rev, limit).await,
            "Namespace" => self.namespaces.wait_for(rev, limit).await,
            _ => true,
        }
    }
}
