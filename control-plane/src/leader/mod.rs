//! Leader-only tasks: the scheduler and the controllers run on the Raft
//! leader and nowhere else ([`supervisor`]), fed by informer caches over the
//! leader's own store ([`crate::runtime`]), writing through the API server
//! with every write fenced to the term they started in.

pub mod flags;
pub mod supervisor;
pub mod tasks;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::scheduler::profile::Config as SchedulerConfig;
use crate::server::ApiServer;

/// Settings of the leader tasks (from the replica's flags).
#[derive(Debug, Clone)]
pub struct LeaderConfig {
    /// Scheduler profiles (`--scheduler-config`), upstream defaults if none.
    pub scheduler: SchedulerConfig,
    /// A node that has not heartbeated for this long is marked Unknown
    /// (`--node-monitor-grace-period`, 40 s as in Kubernetes).
    pub node_grace: Duration,
    /// Workers per controller.
    pub workers: usize,
}

impl Default for LeaderConfig {
    fn default() -> Self {
        LeaderConfig { scheduler: SchedulerConfig::default(), node_grace: Duration::from_secs(40), workers: 4 }
    }
}

/// What one generation of leader tasks runs with.
#[derive(Clone)]
pub struct LeaderContext {
    /// The API server, every write fenced to `term`.
    pub api: ApiServer,
    /// The term these tasks lead in.
    pub term: u64,
    /// Cancelled when leadership ends (or a task is fenced).
    pub stop: CancellationToken,
    /// Tracks every task of this generation.
    pub tracker: TaskTracker,
    /// Settings.
    pub config: Arc<LeaderConfig>,
    /// When this generation started (a failover's grace for nodes starts here).
    pub since: DateTime<Utc>,
}

impl LeaderContext {
    /// A context for a generation starting now.
    pub fn new(
        api: ApiServer,
        term: u64,
        stop: CancellationToken,
        tracker: TaskTracker,
        config: Arc<LeaderConfig>,
    ) -> Self {
        LeaderContext { api, term, stop, tracker, config, since: Utc::now() }
    }
}
