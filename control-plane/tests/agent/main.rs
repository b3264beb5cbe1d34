//! Node-agent tests on real clusters: 3 replicas started as `up` starts
//! them, real `node-agent` processes (hollow and Docker runtimes), driven
//! by the real kubectl.

#[path = "../common/mod.rs"]
mod common;

mod harness;
mod t10_hollow;
mod t20_docker;
mod t30_resilience;
mod t40_up_kubectl;
