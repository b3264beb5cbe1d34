//! Client workloads. Each records every operation it performs.

pub mod objects;
pub mod register;
pub mod watch;

use std::fmt;
use std::str::FromStr;

/// A workload `--workload` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    /// Read/write/CAS registers through the store's etcd API.
    Register,
    /// Store and API watchers.
    Watch,
    /// Deployments and ConfigMaps through the API, pods on hollow nodes.
    Objects,
}

impl WorkloadKind {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            WorkloadKind::Register => "register",
            WorkloadKind::Watch => "watch",
            WorkloadKind::Objects => "objects",
        }
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for WorkloadKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "register" => Ok(WorkloadKind::Register),
            "watch" => Ok(WorkloadKind::Watch),
            "objects" => Ok(WorkloadKind::Objects),
            other => Err(format!("unknown workload {other:?}; choose from: register, watch, objects")),
        }
    }
}
