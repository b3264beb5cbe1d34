//! Errors of the store and how they map onto etcd's gRPC errors.

use serde::{Deserialize, Serialize};
use tonic::{Code, Status};

/// A request-level error: deterministic, replicated, and safe to show to a
/// client. Storage failures are not here: they are fatal (see
/// [`crate::types::StorageError`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum StoreError {
    /// The request named no key.
    #[error("etcdserver: key is not provided")]
    EmptyKey,
    /// `ignore_value` was set together with a value.
    #[error("etcdserver: value is provided")]
    ValueProvided,
    /// `ignore_lease` was set together with a lease.
    #[error("etcdserver: lease is provided")]
    LeaseProvided,
    /// A txn had more operations than allowed.
    #[error("etcdserver: too many operations in txn request")]
    TooManyOps,
    /// A txn wrote the same key twice.
    #[error("etcdserver: duplicate key given in txn request")]
    DuplicateKey,
    /// The revision asked for was compacted.
    #[error("etcdserver: mvcc: required revision has been compacted")]
    Compacted {
        /// The current compact revision.
        compact_revision: i64,
    },
    /// The revision asked for does not exist yet.
    #[error("etcdserver: mvcc: required revision is a future revision")]
    FutureRevision,
    /// The lease does not exist.
    #[error("etcdserver: requested lease not found")]
    LeaseNotFound,
    /// The lease id is taken.
    #[error("etcdserver: lease already exists")]
    LeaseExists,
    /// A TTL out of bounds.
    #[error("etcdserver: too large lease TTL")]
    LeaseTtlTooLarge,
    /// The request is bigger than the configured limit.
    #[error("etcdserver: request is too large")]
    RequestTooLarge,
    /// The member does not exist.
    #[error("etcdserver: member not found")]
    MemberNotFound,
    /// A member with these peer URLs exists.
    #[error("etcdserver: Peer URLs already exists")]
    PeerUrlExists,
    /// Promote was asked for a voter.
    #[error("etcdserver: can only promote a learner member")]
    MemberNotLearner,
    /// The request could not be decoded.
    #[error("etcdserver: malformed request: {0}")]
    Malformed(String),
    /// A fenced write arrived in a term other than its issuer's.
    #[error("raft-store: write fenced to term {fence_term} but proposed in term {entry_term}; the issuing leader was deposed")]
    Fenced {
        /// Term the issuer started in.
        fence_term: u64,
        /// Term of the leader that proposed the entry.
        entry_term: u64,
    },
    /// There is no leader (no quorum) right now; retry later.
    #[error("etcdserver: no leader")]
    NoLeader,
    /// The request did not complete in time; it may or may not have applied.
    #[error("etcdserver: request timed out")]
    Timeout,
    /// The member is shutting down or was removed.
    #[error("etcdserver: server stopped")]
    Stopped,
    /// Any other invalid argument.
    #[error("etcdserver: {0}")]
    InvalidArgument(String),
    /// An internal error that is not the client's fault.
    #[error("raft-store: internal error: {0}")]
    Internal(String),
}

impl StoreError {
    /// The gRPC code etcd uses for this error.
    pub fn code(&self) -> Code {
        use StoreError::*;
        match self {
            EmptyKey | ValueProvided | LeaseProvided | TooManyOps | DuplicateKey | RequestTooLarge | Malformed(_)
            | InvalidArgument(_) => Code::InvalidArgument,
            Compacted { .. } | FutureRevision | LeaseTtlTooLarge => Code::OutOfRange,
            LeaseNotFound | MemberNotFound => Code::NotFound,
            LeaseExists | PeerUrlExists | MemberNotLearner | Fenced { .. } => Code::FailedPrecondition,
            NoLeader | Timeout | Stopped => Code::Unavailable,
            Internal(_) => Code::Internal,
        }
    }
}

impl From<StoreError> for Status {
    fn from(e: StoreError) -> Status {
        Status::new(e.code(), e.to_string())
    }
}
