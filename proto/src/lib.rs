//! Generated protobuf and gRPC code for Helmsman. No logic lives here.
//!
//! - [`mvccpb`] and [`etcdserverpb`]: etcd v3's client API, wire compatible
//!   with etcd 3.4 (`etcdctl` and etcd client libraries speak to raft-store).
//! - [`raftpeer`]: the Raft transport between raft-store members.
//! - [`api`]: Helmsman's typed gRPC API (Resources, Cluster).
//! - [`agent`]: the node-agent protocol (Dispatcher).

#![allow(clippy::all, missing_docs)]

pub mod mvccpb {
    tonic::include_proto!("mvccpb");
}

pub mod etcdserverpb {
    tonic::include_proto!("etcdserverpb");
}

pub mod raftpeer {
    tonic::include_proto!("helmsman.raftpeer");
}

/// Helmsman's typed API: `Resources` (objects as Kubernetes JSON in typed
/// envelopes) and `Cluster` (replicas, snapshots).
pub mod api {
    tonic::include_proto!("helmsman.api.v1");
}

/// The node-agent protocol: registration, Lease renewal, the resumable
/// assignment stream, batched pod status, and the log/exec tunnel.
pub mod agent {
    tonic::include_proto!("helmsman.agent.v1");
}
