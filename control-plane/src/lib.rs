//! Helmsman's control plane.
//!
//! A replica ([`replica`]) is one `control-plane` process: a raft-store
//! member (the replicated store, with its etcd v3 API on the store client
//! URL) plus the Kubernetes-style HTTP API ([`api`]). `control-plane up`
//! ([`up`]) runs a local cluster of replicas behind a health-checked TCP
//! front ([`front`]) and writes a kubeconfig for it.
//!
//! Request flow: [`rest`] (or gRPC) → [`server`] (admission through
//! [`registry`], patches in [`patch`]) → [`storage`] (raft-store keys and
//! compare-and-swap txns). [`bootstrap`] creates the default namespaces.

pub mod api;
pub mod bootstrap;
pub mod error;
pub mod front;
pub mod grpc;
pub mod patch;
pub mod registry;
pub mod replica;
pub mod rest;
pub mod server;
pub mod storage;
pub mod up;
