//! Root-free network partitions through TCP proxies owned by chaos.
//!
//! Every replica reaches each peer through its own proxy for that directed link
//! (`from -> to`), so chaos can cut, pause and restore any single direction between
//! any two replicas without touching the host's firewall.
//!
//! * [`LinkProxy`] forwards one directed link and can be blocked or opened at runtime.
//!   Blocking models a real partition: bytes stop moving (they stay queued in kernel
//!   buffers, as packets would be retransmitted) and resume, in order and without loss,
//!   when the link is opened again. New connections are held, not dialed, while blocked.
//! * [`ProxyMesh`] owns one [`LinkProxy`] per ordered pair of distinct members.
//! * [`partition`] holds pure functions computing which directed links to block for the
//!   classic Jepsen partition shapes (split, isolate, bridge, one-way, majority/minority).
//!
//! Guarantees: no lock is held across an `.await`; every connection runs in a task tracked
//! by its proxy, and `shutdown` returns only once the listener is closed and every
//! connection task has ended.

use std::io;
use std::net::SocketAddr;

mod link;
mod mesh;
pub mod partition;

#[cfg(test)]
mod test_support;

pub use link::{LinkProxy, LinkState, LinkStats};
pub use mesh::ProxyMesh;
pub use partition::Partition;

/// Errors raised by the proxy layer.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The proxy listener could not be bound (or its local address could not be read).
    #[error("cannot bind proxy listener on {addr}: {source}")]
    Bind {
        /// Address that was requested.
        addr: SocketAddr,
        /// Underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// The mesh has no proxy for this directed link (self link or member out of range).
    #[error("no proxied link {from} -> {to} in a mesh of {members} members")]
    NoSuchLink {
        /// Dialing member.
        from: usize,
        /// Dialed member.
        to: usize,
        /// Number of members in the mesh.
        members: usize,
    },
    /// The mesh has no such member.
    #[error("no member {member} in a mesh of {members} members")]
    NoSuchMember {
        /// Requested member index.
        member: usize,
        /// Number of members in the mesh.
        members: usize,
    },
}
