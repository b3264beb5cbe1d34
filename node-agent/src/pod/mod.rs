//! Pod workers: everything between "this pod is assigned to this node" and
//! containers running in a [`crate::runtime::Runtime`], with its status,
//! events, probes, restarts and graceful deletion.
//!
//! Pure decisions live in their own files (`plan`, `env`, `backoff`,
//! `probe`, `status`); `volumes` and `probe_run` do small I/O; `worker`
//! is the per-pod runner. The agent's pod manager uses [`spawn`],
//! [`WorkerHandle`], [`WorkerContext`], [`Sources`] and [`Report`].

pub mod backoff;
pub mod context;
pub mod env;
pub mod objects;
pub mod plan;
pub mod probe;
pub mod probe_run;
pub mod status;
pub mod volumes;
pub mod worker;

pub use context::{PodEvent, Report, Sources, WorkerContext};
pub use worker::{spawn, WorkerHandle};
