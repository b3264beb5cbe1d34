//! What a client write carries through the Raft log and what applying it
//! returns. Key-value operations travel as prost-encoded etcd messages so the
//! state machine executes exactly the request the client sent.

use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// One client write, proposed through Raft.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    /// Fence: when set, the state machine applies the write only if its log
    /// entry was proposed by the leader of exactly this term. Leader-only
    /// tasks set it to the term they started in, so a deposed leader can
    /// never act through its successor.
    pub fence_term: Option<u64>,
    /// The operation.
    pub op: Op,
}

impl Request {
    /// An unfenced request.
    pub fn new(op: Op) -> Self {
        Request { fence_term: None, op }
    }
}

/// The operations of the state machine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Op {
    /// A prost-encoded `etcdserverpb::PutRequest`.
    Put(#[serde(with = "serde_bytes")] Vec<u8>),
    /// A prost-encoded `etcdserverpb::DeleteRangeRequest`.
    DeleteRange(#[serde(with = "serde_bytes")] Vec<u8>),
    /// A prost-encoded `etcdserverpb::TxnRequest`.
    Txn(#[serde(with = "serde_bytes")] Vec<u8>),
    /// Compact history below `revision`.
    Compact {
        /// Revisions strictly below this one are dropped from history.
        revision: i64,
    },
    /// Create a lease.
    LeaseGrant {
        /// Lease id, chosen by the proposer (never 0).
        id: i64,
        /// Granted TTL in seconds.
        ttl: i64,
    },
    /// Revoke (or expire) leases, deleting their keys.
    LeaseRevoke {
        /// Leases to revoke.
        ids: Vec<i64>,
        /// True when the leader revokes because the TTL ran out: missing
        /// leases are then not an error.
        expired: bool,
    },
    /// A member publishes its name and client URLs.
    PublishMember {
        /// Member id.
        id: u64,
        /// Member name.
        name: String,
        /// Client URLs.
        client_urls: Vec<String>,
    },
    /// Does nothing; used as a barrier.
    Noop,
    /// Several key-value requests (Put, DeleteRange, Txn) proposed as one
    /// entry, applied in order; each gets its own revision and result, and a
    /// failed one leaves no trace. openraft 0.9 fsyncs each entry before
    /// taking the next, so batching is what makes writes scale.
    Batch(Vec<Request>),
}

impl Op {
    /// Whether this operation may travel inside an [`Op::Batch`].
    pub fn batchable(&self) -> bool {
        matches!(self, Op::Put(_) | Op::DeleteRange(_) | Op::Txn(_))
    }
}

/// What applying one entry produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WriteResult {
    /// Store revision after this request was applied.
    pub revision: i64,
    /// Log index of the entry that carried the request.
    pub index: u64,
    /// The operation's own result.
    pub outcome: Result<Outcome, StoreError>,
}

/// The successful result of an operation.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub enum Outcome {
    /// A prost-encoded etcd response (Put, DeleteRange or Txn) whose header
    /// is left for the server to fill.
    Encoded(#[serde(with = "serde_bytes")] Vec<u8>),
    /// A lease was granted.
    LeaseGranted {
        /// The id.
        id: i64,
        /// The TTL.
        ttl: i64,
    },
    /// No payload.
    #[default]
    Done,
    /// Results of an [`Op::Batch`], in order.
    Batch(Vec<WriteResult>),
}
