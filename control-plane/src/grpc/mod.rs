//! The typed gRPC API, served on the same port as REST: `Resources`
//! (objects as Kubernetes JSON in typed envelopes) and `Cluster` (replicas,
//! leader, membership, snapshots).
//!
//! Guarantee: an error is a gRPC status whose code follows the Kubernetes
//! reason (NotFound, AlreadyExists, Aborted for conflicts, InvalidArgument,
//! Unavailable, OutOfRange for 410 Expired, ...). Its details
//! (`grpc-status-details-bin`) are a standard `google.rpc.Status` whose one
//! `Any` detail, of type [`STATUS_TYPE_URL`], holds the Kubernetes `Status`
//! as JSON ([`kubernetes_status`] reads it back), so programs can branch on
//! either and every gRPC library can parse the trailer.

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
    let rpc = RpcStatus {
        code: code as i32,
        message: e.message.clone(),
        details: vec![Any {
            type_url: STATUS_TYPE_URL.into(),
            value: serde_json::to_vec(&e.status()).unwrap_or_default(),
        }],
    };
    Status::with_details(code, e.message.clone(), prost::Message::encode_to_vec(&rpc).into())
}

/// Type URL of the Kubernetes `Status` (JSON) in an error's details.
pub const STATUS_TYPE_URL: &str = "type.googleapis.com/io.k8s.apimachinery.pkg.apis.meta.v1.Status";

/// `google.rpc.Status`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpcStatus {
    /// gRPC code.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// Message.
    #[prost(string, tag = "2")]
    pub message: String,
    /// Details.
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<Any>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Any {
    /// Type URL.
    #[prost(string, tag = "1")]
    pub type_url: String,
    /// Payload.
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// The Kubernetes `Status` carried by a gRPC error from this API, if any.
pub fn kubernetes_status(s: &Status) -> Option<serde_json::Value> {
    let rpc = <RpcStatus as prost::Message>::decode(s.details()).ok()?;
    let any = rpc.details.into_iter().find(|a| a.type_url == STATUS_TYPE_URL)?;
    serde_json::from_slice(&any.value).ok()
}
