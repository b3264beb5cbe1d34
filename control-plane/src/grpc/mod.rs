//! The typed gRPC API, served on the same port as REST: `Resources`
//! (objects as Kubernetes JSON in typed envelopes) and `Cluster` (replicas,
//! leader, membership, snapshots).
//!
//! Guarantee: an error is a gRPC status whose code follows the Kubernetes
//! reason (NotFound, AlreadyExists, Aborted for conflicts, InvalidArgument,
//! Unavailable, OutOfRange for 410 Expired, ...) and whose `details` are the
//! Kubernetes `Status` as JSON bytes, so programs can branch on either.

pub mod cluster;
pub mod resources;

use tonic::{Code, Status};

use crate::error::ApiError;

/// The gRPC form of an API error.
pub fn status(e: &ApiError) -> Status {
    let code = match e.code {
        400 | 413 | 415 | 422 => Code::InvalidArgument,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::NotFound,
        405 => Code::Unimplemented,
        409 if e.reason == "AlreadyExists" => Code::AlreadyExists,
        409 => Code::Aborted,
        410 => Code::OutOfRange,
        429 => Code::ResourceExhausted,
        503 => Code::Unavailable,
        504 => Code::DeadlineExceeded,
        _ => Code::Internal,
    };
    let details = serde_json::to_vec(&e.status()).unwrap_or_default();
    Status::with_details(code, e.message.clone(), details.into())
}
