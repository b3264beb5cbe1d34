//! Generated protobuf and gRPC code for Helmsman. No logic lives here.
//!
//! - [`mvccpb`] and [`etcdserverpb`]: etcd v3's client API, wire compatible
//!   with etcd 3.4 (`etcdctl` and etcd client libraries speak to raft-store).
//! - [`raftpeer`]: the Raft transport between raft-store members.

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
