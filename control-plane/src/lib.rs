//! Helmsman's control plane.
//!
//! A replica ([`replica`]) is one `control-plane` process: a raft-store
//! member (the replicated store, with its etcd v3 API on the store client
//! URL) plus the Kubernetes-style HTTP API ([`api`]). `control-plane up`
//! ([`up`]) runs a local cluster of replicas behind a health-checked TCP
//! front ([`front`]) and writes a kubeconfig for it.
//!
//! Status (issue 3, first step): replicas, `up`, the front, `/version` and
//! the health endpoints. The object model, registry and REST resources come
//! next.

pub mod api;
pub mod front;
pub mod replica;
pub mod up;
