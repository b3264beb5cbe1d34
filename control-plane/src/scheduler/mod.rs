//! The scheduler: a pure core — node bookkeeping ([`cluster`],
//! [`node_info`]), filter and score plugins ([`filters`], [`scores`]),
//! profiles from a KubeSchedulerConfiguration file ([`profile`]), one
//! placement decision ([`schedule`]) — driven on the leader by
//! [`runner`] with its [`queue`].

pub mod affinity;
pub mod cluster;
pub mod filters;
pub mod host_port;
pub mod node_info;
pub mod pod_info;
pub mod prefilter;
pub mod profile;
pub mod quantity;
pub mod queue;
pub mod requests;
pub mod runner;
pub mod schedule;
pub mod scores;
pub mod selector;
pub mod spread;
pub mod taints;
#[cfg(test)]
mod test_util;
