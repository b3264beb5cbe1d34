//! `chaos`: Jepsen-style fault injection for Helmsman clusters. It starts
//! (or attaches to) a cluster, runs client workloads that record every
//! operation with invoke/complete times and outcome, injects faults (kill,
//! pause, partition) on a seeded schedule, and then checks the history:
//! per-key linearizability, no lost acknowledged write, watch streams
//! without gaps or duplicates, and at most one leader per term.
//!
//! Library layout: [`cluster`] (harnesses), [`proxy`] (per-link TCP
//! proxies for partitions), [`nemesis`], [`workload`], [`observer`]
//! (leadership), [`checker`], [`report`], [`run`] (orchestration), [`cli`].

pub mod checker;
pub mod cli;
pub mod cluster;
pub mod etcd;
pub mod health;
pub mod history;
pub mod nemesis;
pub mod observer;
pub mod programs;
pub mod proxy;
pub mod recorder;
pub mod report;
pub mod run;
pub mod verdict;
pub mod workload;
