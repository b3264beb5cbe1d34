//! The API server's operations on objects — get, list, watch, create,
//! update, patch, delete — shared by the REST gateway and the gRPC
//! `Resources` service. Transport-free: callers hand in decoded JSON and
//! options and get objects or [`ApiError`]s back.
//!
//! Guarantees: every write runs admission (type check, strict field check,
//! server-set metadata, defaulting, validation) before it reaches the store
//! and is a compare-and-swap on what it read, so it never overwrites a
//! concurrent change silently; a rejected write writes nothing. Reads are
//! linearizable unless the caller asks for `resourceVersion=0`.

pub mod admission;
pub mod delete;
pub mod events;
pub mod read;
pub mod service_alloc;
pub mod watch;
pub mod write;

use crate::registry::selector::{FieldSelector, LabelSelector};
use crate::storage::Objects;

/// The operations, over one replica's store.
#[derive(Clone)]
pub struct ApiServer {
    /// Object storage.
    pub objects: Objects,
    /// Watch events decoded once for all watchers.
    pub events: std::sync::Arc<events::EventCache>,
    /// Log/exec tunnels of the node agents connected to this replica.
    pub tunnels: crate::tunnel::Tunnels,
}

impl ApiServer {
    /// Serve from `objects`.
    pub fn new(objects: Objects) -> Self {
        ApiServer { objects, events: Default::default(), tunnels: Default::default() }
    }

    /// The same server with every write fenced to Raft term `term` (for the
    /// leader-only tasks; see [`Objects::fenced`]).
    pub fn fenced(&self, term: u64) -> Self {
        ApiServer { objects: self.objects.fenced(term), events: self.events.clone(), tunnels: self.tunnels.clone() }
    }
}

/// How unknown fields in a write are treated (`fieldValidation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    /// Reject the request.
    Strict,
    /// Drop them and warn (the default, as in Kubernetes).
    #[default]
    Warn,
    /// Drop them silently.
    Ignore,
}

impl FieldValidation {
    /// Parse the query value.
    pub fn parse(s: Option<&str>) -> Result<Self, crate::error::ApiError> {
        match s {
            None | Some("") | Some("Warn") => Ok(FieldValidation::Warn),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some("Ignore") => Ok(FieldValidation::Ignore),
            Some(other) => Err(crate::error::ApiError::bad_request(format!(
                "fieldValidation: Invalid value: \"{other}\": must be one of Ignore, Warn or Strict"
            ))),
        }
    }
}

/// Options of a write.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// Unknown-field handling.
    pub field_validation: FieldValidation,
    /// `fieldManager` (recorded in managedFields).
    pub field_manager: Option<String>,
    /// `dryRun=All`: run admission, write nothing.
    pub dry_run: bool,
    /// `force` (server-side apply).
    pub force: bool,
}

/// Which part of an object a write addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The object (status changes ignored for kinds with a status subresource).
    Main,
    /// `/status`: only status changes.
    Status,
    /// `/scale`: an `autoscaling/v1 Scale` view of `spec.replicas`.
    Scale,
}

impl Part {
    /// From a subresource path segment.
    pub fn parse(sub: Option<&str>) -> Option<Part> {
        match sub {
            None => Some(Part::Main),
            Some("status") => Some(Part::Status),
            Some("scale") => Some(Part::Scale),
            _ => None,
        }
    }
}

/// Options of a list or watch.
#[derive(Debug, Default)]
pub struct ListOptions {
    /// `labelSelector`.
    pub labels: Option<LabelSelector>,
    /// `fieldSelector`.
    pub fields: Option<FieldSelector>,
    /// `limit` (0 = all).
    pub limit: i64,
    /// `continue` token.
    pub continue_token: Option<String>,
    /// `resourceVersion`.
    pub resource_version: Option<String>,
    /// `resourceVersionMatch`.
    pub resource_version_match: Option<String>,
    /// `allowWatchBookmarks`.
    pub bookmarks: bool,
    /// `timeoutSeconds`.
    pub timeout_seconds: Option<u64>,
}

/// A successful write, with the warnings to show the client.
#[derive(Debug)]
pub struct Written {
    /// The object as stored (or as it would be, under dry run).
    pub object: serde_json::Value,
    /// Whether it was created (201) rather than changed (200).
    pub created: bool,
    /// `Warning` headers.
    pub warnings: Vec<String>,
}
