//! The cluster under test and the levers the nemesis pulls on it.
//!
//! A [`Harness`] knows each replica's endpoints and can kill (SIGKILL),
//! restart, pause (SIGSTOP), resume (SIGCONT) and — where it owns the
//! network between replicas — partition them. Three harnesses:
//! [`local`] (replicas as child processes on distinct 127.0.0.x addresses,
//! peer traffic through chaos's own per-link TCP proxies), [`attach`] (an
//! existing cluster described by `up`'s `cluster.json`; kill, restart and
//! pause only) and [`docker`] (replicas in containers on a private Docker
//! network: kill, pause, and partitions by disconnecting replicas).

pub mod attach;
pub mod docker;
pub mod local;
pub mod signal;

use std::collections::BTreeSet;

use futures::future::BoxFuture;

/// One replica's endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Name (`r0`, `r1`, ...).
    pub name: String,
    /// etcd v3 API of its store, e.g. `http://127.0.0.11:23790`.
    pub client_url: String,
    /// Kubernetes REST and gRPC API, e.g. `http://127.0.0.11:64430`.
    pub api_url: String,
    /// Advertised peer URL (its Raft identity).
    pub peer_url: String,
}

/// What a harness can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// SIGKILL and restart.
    Kill,
    /// SIGSTOP / SIGCONT.
    Pause,
    /// Cut links between replicas.
    Partition,
    /// Remove a member and add it back with a wiped data directory.
    Membership,
}

/// Errors driving the cluster.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The harness cannot do this here.
    #[error("{0}")]
    Unsupported(String),
    /// Starting, stopping or signalling a replica failed.
    #[error("{member}: {message}")]
    Member {
        /// Replica name.
        member: String,
        /// What failed and what to do.
        message: String,
    },
    /// The cluster did not become healthy.
    #[error("cluster not healthy after {secs} s: {detail}")]
    Unhealthy {
        /// How long we waited.
        secs: u64,
        /// What was still wrong.
        detail: String,
    },
    /// Setting up the harness failed.
    #[error("{0}")]
    Setup(String),
}

/// The levers on a cluster. Calls are made one at a time by the nemesis.
pub trait Harness: Send + Sync {
    /// The replicas, in index order.
    fn members(&self) -> &[Member];
    /// One-line description ("local processes on 127.0.0.11-13").
    fn describe(&self) -> String;
    /// Whether `cap` is available.
    fn supports(&self, cap: Capability) -> bool;
    /// SIGKILL replica `i` (no clean shutdown).
    fn kill(&self, i: usize) -> BoxFuture<'_, Result<(), HarnessError>>;
    /// Start replica `i` again from its data directory.
    fn restart(&self, i: usize) -> BoxFuture<'_, Result<(), HarnessError>>;
    /// SIGSTOP replica `i`.
    fn pause(&self, i: usize) -> BoxFuture<'_, Result<(), HarnessError>>;
    /// SIGCONT replica `i`.
    fn resume(&self, i: usize) -> BoxFuture<'_, Result<(), HarnessError>>;
    /// Block exactly these directed links `(from, to)` (replica `from` can no
    /// longer reach `to`); every other link is open. Empty = heal.
    fn set_partition(&self, links: &BTreeSet<(usize, usize)>) -> BoxFuture<'_, Result<(), HarnessError>>;
    /// Remove replica `i` from the Raft membership (it stops itself).
    fn remove_member(&self, i: usize) -> BoxFuture<'_, Result<(), HarnessError>> {
        let _ = i;
        Box::pin(async { Err(HarnessError::Unsupported("this harness cannot change membership".into())) })
    }
    /// Wipe replica `i`'s data, add it back to the membership, and start it
    /// as a joining member.
    fn add_member_back(&self, i: usize) -> BoxFuture<'_, Result<(), HarnessError>> {
        let _ = i;
        Box::pin(async { Err(HarnessError::Unsupported("this harness cannot change membership".into())) })
    }
    /// Stop everything this harness started.
    fn shutdown(&self) -> BoxFuture<'_, ()>;
}
