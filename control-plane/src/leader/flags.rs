//! Flags of the leader tasks, shared by `replica` and `up` (which passes
//! them on to its replicas).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::LeaderConfig;
use crate::scheduler::profile::Config as SchedulerConfig;

/// Leader-task flags.
#[derive(Debug, Clone, Args)]
pub struct LeaderFlags {
    /// Scheduler configuration file (a KubeSchedulerConfiguration, YAML or
    /// JSON: profiles with enabled/disabled plugins and weights,
    /// percentageOfNodesToScore). Upstream defaults without it.
    #[arg(long)]
    pub scheduler_config: Option<PathBuf>,
    /// Seconds without a heartbeat before a node is marked Unknown (and,
    /// after a leader change, the grace every node gets again).
    #[arg(long, default_value_t = 40)]
    pub node_monitor_grace_period: u64,
    /// Workers per controller.
    #[arg(long, default_value_t = 4)]
    pub controller_workers: usize,
}

impl LeaderFlags {
    /// The flags as command-line arguments (for `up` to pass on).
    pub fn to_args(&self) -> Vec<String> {
        let mut a = vec![
            "--node-monitor-grace-period".to_string(),
            self.node_monitor_grace_period.to_string(),
            "--controller-workers".to_string(),
            self.controller_workers.to_string(),
        ];
        if let Some(p) = &self.scheduler_config {
            let abs = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
            a.push("--scheduler-config".into());
            a.push(abs.display().to_string());
        }
        a
    }

    /// Read and check the configuration they name.
    pub fn config(&self) -> Result<LeaderConfig, String> {
        let scheduler = match &self.scheduler_config {
            None => SchedulerConfig::default(),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read the scheduler config {}: {e}", p.display()))?;
                SchedulerConfig::parse(&text).map_err(|e| format!("scheduler config {}: {e}", p.display()))?
            }
        };
        if self.node_monitor_grace_period == 0 {
            return Err("--node-monitor-grace-period must be at least 1 second".into());
        }
        Ok(LeaderConfig {
            scheduler,
            node_grace: Duration::from_secs(self.node_monitor_grace_period),
            workers: self.controller_workers.max(1),
        })
    }
}
