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
//!
//! Leader-only tasks ([`leader`]): the [`scheduler`] and the
//! [`controllers`], on the controller [`runtime`] (informer caches over the
//! leader's own store, work queues), started and stopped with Raft
//! leadership and fenced to the leader's term.

pub mod api;
pub mod bootstrap;
pub mod controllers;
pub mod dispatcher;
pub mod error;
pub mod front;
pub mod grpc;
pub mod leader;
pub mod patch;
pub mod registry;
pub mod replica;
pub mod rest;
pub mod runtime;
pub mod scheduler;
pub mod server;
pub mod storage;
pub mod tunnel;
pub mod up;
