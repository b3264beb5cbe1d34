//! openraft type configuration for raft-store: who the members are and what
//! travels through the log.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::command::{Request, WriteResult};

/// A member id. Derived from the member's advertised peer URL (see
/// [`member_id_for`]) so that `MemberAdd` and the joining member agree on it
/// without talking to each other.
pub type NodeId = u64;

/// What Raft needs to know to reach a member: its peer URL. Human-facing
/// attributes (name, client URLs) are published through the log separately.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberNode {
    /// Peer URL, e.g. `http://127.0.0.1:2380`.
    pub peer_url: String,
}

impl fmt::Display for MemberNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.peer_url)
    }
}

openraft::declare_raft_types!(
    /// Type configuration of the raft-store Raft group.
    pub TypeConfig:
        D = Request,
        R = WriteResult,
        NodeId = NodeId,
        Node = MemberNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = tokio::fs::File,
);

/// A log entry of this group.
pub type Entry = openraft::Entry<TypeConfig>;
/// The openraft handle of this group.
pub type Raft = openraft::Raft<TypeConfig>;
/// A log id of this group.
pub type LogId = openraft::LogId<NodeId>;
/// A vote of this group.
pub type Vote = openraft::Vote<NodeId>;
/// Membership as stored with the state machine.
pub type StoredMembership = openraft::StoredMembership<NodeId, MemberNode>;
/// A storage error of this group.
pub type StorageError = openraft::StorageError<NodeId>;

/// FNV-1a 64 of a string, never zero. Used for member and cluster ids.
pub fn stable_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    if h == 0 {
        1
    } else {
        h
    }
}

/// The member id of the member that advertises `peer_url`.
pub fn member_id_for(peer_url: &str) -> NodeId {
    stable_hash(peer_url.trim_end_matches('/'))
}

/// The cluster id for an initial cluster token.
pub fn cluster_id_for(token: &str) -> u64 {
    stable_hash(&format!("cluster:{token}"))
}
